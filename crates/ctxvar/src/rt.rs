//! tokio helpers (feature `tokio`): `spawn` and `spawn_blocking` inside a copy of the
//! current context (asyncio's `create_task` and `to_thread`).

use std::future::Future;

use tokio::task::JoinHandle;

use crate::context::copy_context;
use crate::future::FutureExt;
use crate::hook::Extensions;

/// [`tokio::spawn`] of `future` inside a copy of the current context, taken now.
/// Registered [`hook`](crate::hook) extensions (a `tracing` span, say) are captured with
/// it and entered around each poll / the call.
///
/// ```
/// use contexture_ctxvar::ContextVar;
///
/// static V: ContextVar<&str> = ContextVar::new("v");
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     V.set("parent");
///     let child = contexture_ctxvar::spawn(async { V.set("child"); V.get() });
///     assert_eq!(child.await.unwrap(), Some("child"));
///     assert_eq!(V.get(), Some("parent"));
/// });
/// ```
///
/// # Panics
///
/// Outside a tokio runtime, as `tokio::spawn`.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let ext = Extensions::capture();
    if ext.is_empty() {
        tokio::spawn(future.with_current_context())
    } else {
        tokio::spawn(ext.instrument(future.with_current_context()))
    }
}

/// [`tokio::task::spawn_blocking`] of `f` inside a copy of the current context, taken now.
/// Registered [`hook`](crate::hook) extensions (a `tracing` span, say) are captured with
/// it and entered around each poll / the call.
///
/// ```
/// use contexture_ctxvar::ContextVar;
///
/// static V: ContextVar<u8> = ContextVar::new("v");
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     V.set(8);
///     let seen = contexture_ctxvar::spawn_blocking(|| V.get()).await.unwrap();
///     assert_eq!(seen, Some(8));
/// });
/// ```
///
/// # Panics
///
/// Outside a tokio runtime, as `tokio::task::spawn_blocking`.
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (mut ctx, ext) = (copy_context(), Extensions::capture());
    tokio::task::spawn_blocking(move || ext.run(|| ctx.run_mut(f)))
}
