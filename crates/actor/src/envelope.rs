//! Envelopes: a message with its sender's context (and, for an ask, its reply slot),
//! type-erased so that one mailbox carries every message type the actor handles.

use std::any::{Any, TypeId};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, ManuallyDrop, MaybeUninit};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use contexture_ctxvar::hook::Extensions;
use contexture_ctxvar::{Context as Values, Snapshot};
use tokio::sync::oneshot;

use crate::actor::Handler;
use crate::ctx::Ctx;
use crate::error::payload_message;
use crate::exit::ExitReason;

/// A handler's future, borrowing the actor and its `Ctx` while it runs.
pub(crate) type HandlerFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where an ask's reply goes: the handler's reply, or why there is none.
pub(crate) type ReplyTx<R> = oneshot::Sender<Result<R, ExitReason>>;

/// A message with its context (and reply slot), of one concrete type; [`Env`] erases it.
pub(crate) trait Envelope<A>: Send + Sized + 'static {
    /// Whether this is an ask (for the exit report's counts).
    const IS_ASK: bool;

    /// Starts the handler inside a fresh context made from the sender's values.
    fn handle<'a>(self, actor: &'a mut A, ctx: &'a mut Ctx<A>) -> HandlerFuture<'a>;

    /// The message will not be handled (kill, failure, shutdown): an ask is answered with
    /// `reason`. Drops the message (its `Drop` may panic: the caller catches that).
    fn fail(self, reason: &ExitReason);
}

/// Room for an envelope inside the mailbox's own slot: four words.
type Storage = MaybeUninit<[usize; 4]>;

/// Whether an `E` is kept in the slot itself (else the slot holds a `Box<E>`).
const fn fits<E>() -> bool {
    size_of::<E>() <= size_of::<Storage>() && align_of::<E>() <= align_of::<Storage>()
}

/// What a mailbox carries: any [`Envelope`] of the actor, type-erased.
///
/// A small envelope (a tell of a message up to three words, an ask of one up to two) lives
/// in the mailbox's slot, so sending it allocates nothing: measured, the `Box` it replaces
/// cost 39 % of a raw tokio channel's time per told message, most of it in `free` on the
/// actor's thread of memory allocated on the sender's (glibc's arenas then contend). A
/// larger envelope is boxed and the box kept in the slot.
pub(crate) struct Env<A> {
    /// Points to a constant (`new`'s inline `const`): valid for the whole program. A raw
    /// pointer, because `&'static VTable<A>` would demand `A: 'static` of every type that
    /// carries an `Env`.
    vtable: *const VTable<A>,
    storage: Storage,
    /// Not `Sync` (the storage may hold a `!Sync` message); `Send` is implemented below.
    _not_sync: PhantomData<*mut ()>,
}

// SAFETY: an `Env` only ever holds an `E: Envelope<A>`, and `Envelope` requires `Send`.
unsafe impl<A> Send for Env<A> {}

/// The operations of one envelope type, for its erased form.
struct VTable<A> {
    type_id: fn() -> TypeId,
    is_ask: bool,
    handle: for<'a> unsafe fn(*mut Storage, &'a mut A, &'a mut Ctx<A>) -> HandlerFuture<'a>,
    fail: unsafe fn(*mut Storage, &ExitReason),
    drop: unsafe fn(*mut Storage),
}

impl<A> Env<A> {
    /// Erases `envelope`, in the slot when it fits.
    #[inline]
    pub(crate) fn new<E: Envelope<A>>(envelope: E) -> Env<A> {
        let mut storage = Storage::uninit();
        if fits::<E>() {
            // SAFETY: `E` fits the storage's size and alignment (checked just above), and
            // the storage is ours and uninitialised.
            unsafe { storage.as_mut_ptr().cast::<E>().write(envelope) }
        } else {
            // SAFETY: a `Box<E>` is one pointer, which fits any storage of words.
            unsafe {
                storage
                    .as_mut_ptr()
                    .cast::<Box<E>>()
                    .write(Box::new(envelope))
            }
        }
        let vtable: &VTable<A> = const {
            &VTable {
                type_id: TypeId::of::<E>,
                is_ask: E::IS_ASK,
                handle: handle::<A, E>,
                fail: fail::<A, E>,
                drop: drop_envelope::<A, E>,
            }
        };
        Env {
            vtable,
            storage,
            _not_sync: PhantomData,
        }
    }

    #[inline]
    fn vtable(&self) -> &VTable<A> {
        // SAFETY: `vtable` points to a constant, valid for the whole program.
        unsafe { &*self.vtable }
    }

    /// Whether this is an ask.
    #[inline]
    pub(crate) fn is_ask(&self) -> bool {
        self.vtable().is_ask
    }

    /// Starts the handler (see [`Envelope::handle`]).
    #[inline]
    pub(crate) fn handle<'a>(self, actor: &'a mut A, ctx: &'a mut Ctx<A>) -> HandlerFuture<'a> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the storage holds the envelope `new` wrote for this vtable, not taken yet;
        // `ManuallyDrop` keeps our `Drop` from dropping it again.
        unsafe { (this.vtable().handle)(&mut this.storage, actor, ctx) }
    }

    /// Fails the envelope (see [`Envelope::fail`]).
    pub(crate) fn fail(self, reason: &ExitReason) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: as in `handle`.
        unsafe { (this.vtable().fail)(&mut this.storage, reason) }
    }

    /// The envelope back as an `E`, if it is one (to hand a refused message back).
    pub(crate) fn downcast<E: Envelope<A>>(self) -> Result<E, Env<A>> {
        if (self.vtable().type_id)() != TypeId::of::<E>() {
            return Err(self);
        }
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the type id says the storage holds an `E` (written by `new::<E>`), not
        // taken yet; `ManuallyDrop` keeps our `Drop` from dropping it again.
        Ok(unsafe { take::<E>(&mut this.storage) })
    }
}

impl<A> Drop for Env<A> {
    fn drop(&mut self) {
        // SAFETY: the storage holds the envelope `new` wrote for this vtable: the consuming
        // methods wrap `self` in `ManuallyDrop`, so a live `Env` was never taken from.
        unsafe { (self.vtable().drop)(&mut self.storage) }
    }
}

/// Moves the `E` out of `storage`.
///
/// # Safety
///
/// `storage` holds an `E` written by `Env::new::<E>`, and it is never read again.
#[inline]
unsafe fn take<E>(storage: *mut Storage) -> E {
    if fits::<E>() {
        // SAFETY: per the contract, an `E` lives in the storage itself (it fits).
        unsafe { storage.cast::<E>().read() }
    } else {
        // SAFETY: per the contract, a `Box<E>` lives in the storage (`E` does not fit).
        *unsafe { storage.cast::<Box<E>>().read() }
    }
}

/// # Safety
///
/// As [`take`].
unsafe fn handle<'a, A, E: Envelope<A>>(
    storage: *mut Storage,
    actor: &'a mut A,
    ctx: &'a mut Ctx<A>,
) -> HandlerFuture<'a> {
    // SAFETY: forwarded from the caller.
    unsafe { take::<E>(storage) }.handle(actor, ctx)
}

/// # Safety
///
/// As [`take`].
unsafe fn fail<A, E: Envelope<A>>(storage: *mut Storage, reason: &ExitReason) {
    // SAFETY: forwarded from the caller.
    unsafe { take::<E>(storage) }.fail(reason)
}

/// # Safety
///
/// As [`take`].
unsafe fn drop_envelope<A, E: Envelope<A>>(storage: *mut Storage) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { take::<E>(storage) })
}

/// A told message.
pub(crate) struct Tell<M> {
    pub(crate) msg: M,
    pub(crate) snapshot: Snapshot,
}

impl<A: Handler<M>, M: Send + 'static> Envelope<A> for Tell<M> {
    const IS_ASK: bool = false;

    fn handle<'a>(self, actor: &'a mut A, ctx: &'a mut Ctx<A>) -> HandlerFuture<'a> {
        let Tell { msg, snapshot } = self;
        Box::pin(Discard {
            inner: Scoped::start(snapshot, move || actor.handle(msg, ctx)),
        })
    }

    fn fail(self, _reason: &ExitReason) {}
}

impl<M: Send + 'static> Tell<M> {
    /// The message back out of an envelope this crate built as a `Tell<M>`.
    pub(crate) fn unwrap<A: Handler<M>>(env: Env<A>) -> M {
        match env.downcast::<Tell<M>>() {
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
    const IS_ASK: bool = true;

    fn handle<'a>(self, actor: &'a mut A, ctx: &'a mut Ctx<A>) -> HandlerFuture<'a> {
        let Ask {
            msg,
            snapshot,
            reply,
        } = self;
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

    fn fail(self, reason: &ExitReason) {
        let Ask { msg, reply, .. } = self;
        let _ = reply.send(Err(reason.clone()));
        drop(msg);
    }
}

impl<M: Send + 'static> Ask<M, ()> {
    /// The message back out of an envelope this crate built as an `Ask<M, A::Reply>`.
    pub(crate) fn unwrap<A: Handler<M>>(env: Env<A>) -> M {
        match env.downcast::<Ask<M, A::Reply>>() {
            Ok(ask) => ask.msg,
            Err(_) => unreachable!("an ask's envelope is an Ask<M, A::Reply>"),
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
        // What registered ctxvar hook extensions (a `tracing` span) captured at the send.
        extensions: Extensions,
    }
}

impl<F: Future> Scoped<F> {
    /// Calls `make` (the handler) inside a fresh context holding `snapshot`'s values.
    #[inline]
    pub(crate) fn start(snapshot: Snapshot, make: impl FnOnce() -> F) -> Scoped<F> {
        let extensions = snapshot.extensions();
        let mut context = snapshot.into_context();
        let inner = extensions.run(|| context.run_mut(make));
        Scoped {
            inner,
            context,
            extensions,
        }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let (inner, context) = (this.inner, this.context);
        this.extensions
            .run(move || context.run_mut(move || inner.poll(cx)))
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

#[cfg(test)]
mod tests {
    //! The erased envelope's own invariants (its `unsafe`), runnable under Miri: inline
    //! and boxed storage, every way an envelope leaves (handled, failed, handed back,
    //! dropped), each dropping its message exactly once.

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::actor::Actor;
    use crate::core::Core;

    struct Dummy {
        seen: Vec<u64>,
    }
    impl Actor for Dummy {}

    /// Counts its drops.
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Fits the slot as a tell (two words).
    struct Small(u64, #[allow(dead_code, reason = "counts its drop")] Counted);
    /// Does not fit: boxed.
    struct Big(
        [u64; 8],
        #[allow(dead_code, reason = "counts its drop")] Counted,
    );

    impl Handler<Small> for Dummy {
        type Reply = u64;
        async fn handle(&mut self, Small(n, _): Small, _: &mut Ctx<Self>) -> u64 {
            self.seen.push(n);
            n
        }
    }
    impl Handler<Big> for Dummy {
        type Reply = u64;
        async fn handle(&mut self, Big(n, _): Big, _: &mut Ctx<Self>) -> u64 {
            self.seen.push(n[7]);
            n[7]
        }
    }

    fn tell<M>(msg: M) -> Tell<M> {
        Tell {
            msg,
            snapshot: Snapshot::default(),
        }
    }

    #[test]
    fn small_envelopes_live_in_the_slot_and_big_ones_in_a_box() {
        assert!(fits::<Tell<Small>>());
        assert!(!fits::<Tell<Big>>());
        let (reply, _rx) = oneshot::channel::<Result<u64, ExitReason>>();
        let ask = Ask {
            msg: 1u64,
            snapshot: Snapshot::default(),
            reply,
        };
        assert!(size_of_val(&ask) <= size_of::<Storage>());
    }

    #[test]
    fn dropped_envelopes_drop_their_message_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        drop(Env::<Dummy>::new(tell(Small(1, Counted(drops.clone())))));
        drop(Env::<Dummy>::new(tell(Big([2; 8], Counted(drops.clone())))));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn downcast_hands_the_message_back_or_keeps_the_envelope() {
        let drops = Arc::new(AtomicUsize::new(0));
        for env in [
            Env::<Dummy>::new(tell(Small(3, Counted(drops.clone())))),
            Env::<Dummy>::new(tell(Big([3; 8], Counted(drops.clone())))),
        ] {
            // The wrong type: the envelope comes back whole.
            let env = match env.downcast::<Ask<Small, u64>>() {
                Err(env) => env,
                Ok(_) => unreachable!(),
            };
            assert!(!env.is_ask());
            match env.downcast::<Tell<Small>>() {
                Ok(tell) => assert_eq!(tell.msg.0, 3),
                Err(env) => match env.downcast::<Tell<Big>>() {
                    Ok(tell) => assert_eq!(tell.msg.0[0], 3),
                    Err(_) => unreachable!(),
                },
            }
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_ask_answers_and_drops_its_message() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (reply, mut rx) = oneshot::channel();
        let env = Env::<Dummy>::new(Ask {
            msg: Small(4, Counted(drops.clone())),
            snapshot: Snapshot::default(),
            reply,
        });
        assert!(env.is_ask());
        env.fail(&ExitReason::Killed);
        assert_eq!(rx.try_recv().unwrap().unwrap_err(), ExitReason::Killed);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        let env = Env::<Dummy>::new(tell(Big([5; 8], Counted(drops.clone()))));
        env.fail(&ExitReason::Killed);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn handled_envelopes_reach_the_handler_and_the_asker() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (core, _sys) = Core::new(None);
        let mut ctx = Ctx::new(
            core,
            std::sync::Weak::new(),
            Snapshot::default(),
            rt.handle().clone(),
            0,
        );
        let mut actor = Dummy { seen: Vec::new() };
        let drops = Arc::new(AtomicUsize::new(0));
        let (reply, rx) = oneshot::channel();
        let envs = [
            Env::new(tell(Small(6, Counted(drops.clone())))),
            Env::new(tell(Big([7; 8], Counted(drops.clone())))),
            Env::new(Ask {
                msg: Small(8, Counted(drops.clone())),
                snapshot: Snapshot::default(),
                reply,
            }),
        ];
        for env in envs {
            rt.block_on(env.handle(&mut actor, &mut ctx));
        }
        assert_eq!(actor.seen, [6, 7, 8]);
        assert_eq!(rt.block_on(rx).unwrap().unwrap(), 8);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }
}
