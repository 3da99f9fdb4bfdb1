//! The executor-agnostic future adapter: every poll of the wrapped future runs inside its
//! own context, like the steps of an asyncio `Task`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::context::{copy_context, Context};
use crate::loom::Arc;

/// Runs futures inside a [`Context`]; implemented for every [`Future`].
///
/// ```
/// use contexture_ctxvar::{ContextVar, FutureExt};
///
/// static V: ContextVar<&str> = ContextVar::new("v");
/// V.set("outside");
/// futures::executor::block_on(
///     async {
///         V.set("inside");
///         std::future::ready(()).await;
///         assert_eq!(V.get(), Some("inside"));
///     }
///     .with_current_context(),
/// );
/// assert_eq!(V.get(), Some("outside"));
/// ```
pub trait FutureExt: Future + Sized {
    /// Polls `self` inside `ctx` itself, entered for the duration of each poll (asyncio's
    /// `create_task(coro, context=ctx)`): sets made by the future change `ctx`.
    ///
    /// ```
    /// use contexture_ctxvar::{Context, ContextVar, FutureExt};
    /// use std::sync::Arc;
    ///
    /// static V: ContextVar<u32> = ContextVar::new("v");
    /// let ctx = Arc::new(Context::new());
    /// futures::executor::block_on(async { V.set(1); }.in_context(ctx.clone()));
    /// assert_eq!(ctx.get(&V), Some(1));
    /// assert_eq!(V.get(), None);
    /// ```
    ///
    /// A poll panics if `ctx` is entered on another thread at that moment, or further down
    /// the polling thread's stack under another context (Python raises `RuntimeError` in
    /// the task step; the message says which); if it is already current on the polling
    /// thread, the poll simply runs in it.
    fn in_context(self, ctx: Arc<Context>) -> InContext<Self> {
        InContext {
            future: self,
            ctx: Ctx::Shared(ctx),
        }
    }

    /// Polls `self` inside a copy of the current context, taken now (asyncio's
    /// `create_task`): sets made by the future persist across its awaits and stay invisible
    /// outside.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, FutureExt};
    ///
    /// static V: ContextVar<u32> = ContextVar::new("v");
    /// V.set(1);
    /// let task = async { V.set(V.get().unwrap() + 1); V.get() }.with_current_context();
    /// V.set(10); // after the copy: not seen by the task
    /// assert_eq!(futures::executor::block_on(task), Some(2));
    /// assert_eq!(V.get(), Some(10));
    /// ```
    fn with_current_context(self) -> InContext<Self> {
        InContext {
            future: self,
            ctx: Ctx::Own(copy_context()),
        }
    }
}

impl<F: Future> FutureExt for F {}

/// A future that polls its inner future inside a [`Context`]; see [`FutureExt`].
///
/// ```
/// use contexture_ctxvar::{ContextVar, FutureExt, InContext};
///
/// static V: ContextVar<u8> = ContextVar::new("v");
/// let fut: InContext<_> = async { V.get() }.with_current_context();
/// assert!(fut.context().is_empty());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct InContext<F> {
    future: F,
    ctx: Ctx,
}

/// The context of an [`InContext`].
enum Ctx {
    /// Its own copy (`with_current_context`): only a poll, through `Pin<&mut InContext>`,
    /// can enter it, so a poll enters it without the entered flag (measured: this halves
    /// the adapter's cost per poll).
    Own(Context),
    /// Shared (`in_context`): entered through [`Context::run`], flag and all.
    Shared(Arc<Context>),
}

impl<F> InContext<F> {
    /// The context the future runs in.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, FutureExt};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// let mut fut = Box::pin(async { V.set(3); }.with_current_context());
    /// futures::executor::block_on(fut.as_mut());
    /// assert_eq!(fut.context().get(&V), Some(3));
    /// ```
    pub fn context(&self) -> &Context {
        match &self.ctx {
            Ctx::Own(ctx) => ctx,
            Ctx::Shared(ctx) => ctx,
        }
    }
}

impl<F: Future> Future for InContext<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `future`: it is never moved out of `self` (no
        // `Drop` impl moves it, no method hands out `&mut F`), and `ctx` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this.future` stays where it is for as long as `self` lives.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        let ctx = match &mut this.ctx {
            Ctx::Own(ctx) => return ctx.run_mut(|| future.poll(cx)),
            Ctx::Shared(ctx) => ctx,
        };
        match ctx.run(|| future.poll(cx)) {
            Ok(poll) => poll,
            Err(_) if ctx.is_current() => {
                // SAFETY: as above; the first pin was consumed by the failed `run` closure,
                // which was never called.
                unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx)
            }
            Err(err) if ctx.is_entered_below() => panic!(
                "cannot poll a future in its context: {err} further down this thread's stack"
            ),
            Err(err) => panic!("cannot poll a future in its context: {err} on another thread"),
        }
    }
}

impl<F> fmt::Debug for InContext<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InContext")
            .field("context", self.context())
            .finish_non_exhaustive()
    }
}
