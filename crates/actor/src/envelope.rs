//! Envelopes: a message with its sender's context (and, for an ask, its reply slot),
//! type-erased so that one mailbox carries every message type the actor handles.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use contexture_ctxvar::{Context as Values, Snapshot};
use tokio::sync::oneshot;

use crate::actor::Handler;
use crate::ctx::Ctx;
use crate::error::payload_message;
use crate::exit::ExitReason;

/// A handler's future, borrowing the actor and its `Ctx` while it runs.
pub(crate) type HandlerFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// What a mailbox carries.
pub(crate) type Env<A> = Box<dyn Envelope<A>>;

/// Where an ask's reply goes: the handler's reply, or why there is none.
pub(crate) type ReplyTx<R> = oneshot::Sender<Result<R, ExitReason>>;

pub(crate) trait Envelope<A>: Send {
    /// Starts the handler inside a fresh context made from the sender's values.
    fn handle<'a>(self: Box<Self>, actor: &'a mut A, ctx: &'a mut Ctx<A>) -> HandlerFuture<'a>;

    /// Whether this is an ask (for the exit report's counts).
    fn is_ask(&self) -> bool;

    /// The message will not be handled (kill, failure, shutdown): an ask is answered with
    /// `reason`. Drops the message (its `Drop` may panic: the caller catches that).
    fn fail(self: Box<Self>, reason: &ExitReason);

    /// For handing the message back when it could not be enqueued.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// A told message.
pub(crate) struct Tell<M> {
    pub(crate) msg: M,
    pub(crate) snapshot: Snapshot,
}

impl<A: Handler<M>, M: Send + 'static> Envelope<A> for Tell<M> {
    fn handle<'a>(self: Box<Self>, actor: &'a mut A, ctx: &'a mut Ctx<A>) -> HandlerFuture<'a> {
        let Tell { msg, snapshot } = *self;
        Box::pin(Discard {
            inner: Scoped::start(snapshot, move || actor.handle(msg, ctx)),
        })
    }

    fn is_ask(&self) -> bool {
        false
    }

    fn fail(self: Box<Self>, _reason: &ExitReason) {}

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

impl<M> Tell<M> {
    /// The message back out of an envelope this crate built as a `Tell<M>`.
    pub(crate) fn unwrap<A>(env: Env<A>) -> M
    where
        M: 'static,
    {
        match env.into_any().downcast::<Tell<M>>() {
            Ok(tell) => tell.msg,
            Err(_) => unreachable!("a tell's envelope is a Tell<M>"),
        }
    }
}

/// An asked message.
pub(crate) struct Ask<M, R> {
    pub(crate) msg: M,
    pub(crate) snapshot: Snapshot,
    pub(crate) reply: ReplyTx<R>,
}

impl<A: Handler<M>, M: Send + 'static> Envelope<A> for Ask<M, A::Reply> {
    fn handle<'a>(self: Box<Self>, actor: &'a mut A, ctx: &'a mut Ctx<A>) -> HandlerFuture<'a> {
        let Ask {
            msg,
            snapshot,
            reply,
        } = *self;
        // The handler is called (user code) before its future exists: a panic there
        // still answers the asker.
        match catch_unwind(AssertUnwindSafe(move || {
            Scoped::start(snapshot, move || actor.handle(msg, ctx))
        })) {
            Ok(handler) => Box::pin(Reply {
                inner: handler,
                reply: Some(reply),
            }),
            Err(payload) => {
                answer_panic(reply, &payload);
                resume_unwind(payload)
            }
        }
    }

    fn is_ask(&self) -> bool {
        true
    }

    fn fail(self: Box<Self>, reason: &ExitReason) {
        let Ask { msg, reply, .. } = *self;
        let _ = reply.send(Err(reason.clone()));
        drop(msg);
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

impl<M: 'static, R: 'static> Ask<M, R> {
    /// The message back out of an envelope this crate built as an `Ask<M, R>`.
    pub(crate) fn unwrap<A>(env: Env<A>) -> M {
        match env.into_any().downcast::<Ask<M, R>>() {
            Ok(ask) => ask.msg,
            Err(_) => unreachable!("an ask's envelope is an Ask<M, R>"),
        }
    }
}

/// Answers an asker whose handler panicked, with the panic's message.
fn answer_panic<R>(reply: ReplyTx<R>, payload: &Box<dyn Any + Send>) {
    let message = payload_message(&**payload);
    let _ = reply.send(Err(ExitReason::Panicked(message)));
}

pin_project_lite::pin_project! {
    /// A handler's future with the message's own context: made from the sender's values,
    /// entered for the call that makes the future and for each poll (its writes persist
    /// across the handler's awaits), dropped with the future.
    pub(crate) struct Scoped<F> {
        #[pin]
        inner: F,
        context: Values,
    }
}

impl<F: Future> Scoped<F> {
    /// Calls `make` (the handler) inside a fresh context holding `snapshot`'s values.
    #[inline]
    pub(crate) fn start(snapshot: Snapshot, make: impl FnOnce() -> F) -> Scoped<F> {
        let mut context = snapshot.into_context();
        let inner = context.run_mut(make);
        Scoped { inner, context }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        this.context.run_mut(move || inner.poll(cx))
    }
}

pin_project_lite::pin_project! {
    /// A tell's handler, its reply dropped.
    struct Discard<F> {
        #[pin]
        inner: Scoped<F>,
    }
}

impl<F: Future> Future for Discard<F> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx).map(drop)
    }
}

pin_project_lite::pin_project! {
    /// An ask's handler: sends the reply, or on a panic the panic's message, then lets
    /// the panic go on to the actor's loop.
    struct Reply<F: Future> {
        #[pin]
        inner: Scoped<F>,
        reply: Option<ReplyTx<F::Output>>,
    }
}

impl<F: Future> Future for Reply<F> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let inner = this.inner;
        match catch_unwind(AssertUnwindSafe(move || inner.poll(cx))) {
            Ok(Poll::Ready(value)) => {
                if let Some(reply) = this.reply.take() {
                    // An asker that gave up: the reply is dropped here (its `Drop`, if it
                    // panics, is caught by the actor's loop like a handler's panic).
                    let _ = reply.send(Ok(value));
                }
                Poll::Ready(())
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                if let Some(reply) = this.reply.take() {
                    answer_panic(reply, &payload);
                }
                resume_unwind(payload)
            }
        }
    }
}
