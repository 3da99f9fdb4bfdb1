//! Threads that start inside a copy of the spawner's context (Python 3.14's
//! `threading.Thread(context=None)` with `thread_inherit_context`).

use std::io;
use std::thread::JoinHandle;

use crate::context::copy_context;
use crate::hook::Extensions;

/// Like [`std::thread::spawn`], but the new thread runs `f` inside a copy of the current
/// context, taken now.
///
/// ```
/// use contexture_ctxvar::{thread, ContextVar};
///
/// static USER: ContextVar<&str> = ContextVar::new("user");
/// USER.set("ada");
/// let seen = thread::spawn(|| {
///     let seen = USER.get();
///     USER.set("bob"); // only in the thread's copy
///     seen
/// })
/// .join()
/// .unwrap();
/// assert_eq!(seen, Some("ada"));
/// assert_eq!(USER.get(), Some("ada"));
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (mut ctx, ext) = (copy_context(), Extensions::capture());
    std::thread::spawn(move || ext.run(|| ctx.run_mut(f)))
}

/// [`std::thread::Builder`] whose threads start inside a copy of the spawner's context.
///
/// ```
/// use contexture_ctxvar::{thread::Builder, ContextVar};
///
/// static V: ContextVar<u8> = ContextVar::new("v");
/// V.set(4);
/// let handle = Builder::new().name("worker".into()).spawn(|| V.get()).unwrap();
/// assert_eq!(handle.join().unwrap(), Some(4));
/// ```
#[derive(Debug)]
pub struct Builder {
    inner: std::thread::Builder,
}

impl Builder {
    /// A builder with std's defaults.
    ///
    /// ```
    /// let _ = contexture_ctxvar::thread::Builder::new();
    /// ```
    #[allow(clippy::new_without_default)] // mirrors `std::thread::Builder`
    pub fn new() -> Builder {
        Builder {
            inner: std::thread::Builder::new(),
        }
    }

    /// Names the thread (std's [`name`](std::thread::Builder::name)).
    ///
    /// ```
    /// let _ = contexture_ctxvar::thread::Builder::new().name("io".into());
    /// ```
    pub fn name(self, name: String) -> Builder {
        Builder {
            inner: self.inner.name(name),
        }
    }

    /// Sets the stack size (std's [`stack_size`](std::thread::Builder::stack_size)).
    ///
    /// ```
    /// let _ = contexture_ctxvar::thread::Builder::new().stack_size(1 << 20);
    /// ```
    pub fn stack_size(self, size: usize) -> Builder {
        Builder {
            inner: self.inner.stack_size(size),
        }
    }

    /// Spawns the thread inside a copy of the current context, taken now.
    ///
    /// ```
    /// let h = contexture_ctxvar::thread::Builder::new().spawn(|| 1).unwrap();
    /// assert_eq!(h.join().unwrap(), 1);
    /// ```
    ///
    /// # Errors
    ///
    /// The OS refused to create the thread (as std's `spawn`).
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (mut ctx, ext) = (copy_context(), Extensions::capture());
        self.inner.spawn(move || ext.run(|| ctx.run_mut(f)))
    }
}
