//! `Context`: a snapshot-able mapping of vars to values, and `run`, which makes one current.

use std::fmt;
use std::sync::PoisonError;

use crate::current;
use crate::error::AlreadyEntered;
use crate::loom::{AtomicBool, Mutex, Ordering, UnsafeCell};
use crate::map::{Entry, Map};
use crate::ContextVar;

/// A mapping of context variables to values (Python's `contextvars.Context`).
///
/// Code runs "inside" a context through [`Context::run`]; a thread that never entered one
/// runs in its own context, created empty. [`copy_context`] snapshots the current one in
/// O(1). `Context` is `Send + Sync` and deliberately not `Clone`: it has an identity (tokens
/// and the entered check refer to it). Share one with `Arc<Context>`; take an independent
/// copy with [`Context::copy`].
///
/// ```
/// use contexture_ctxvar::{copy_context, ContextVar};
///
/// static CTX1: ContextVar<&str> = ContextVar::new("ctx1");
/// CTX1.set("hello");
/// let context = copy_context();
/// context
///     .run(|| {
///         CTX1.set("task");
///         assert_eq!(context.get(&CTX1), Some("task"));
///     })
///     .unwrap();
/// assert_eq!(CTX1.get(), Some("hello")); // outside: untouched
/// assert_eq!(context.get(&CTX1), Some("task")); // the context itself changed
/// ```
pub struct Context {
    id: u64,
    /// Set while a thread runs inside this context. Whoever sets it owns `parked`.
    entered: AtomicBool,
    /// The map while nobody is inside; moved to the entering thread's state while entered
    /// (empty then), moved back at exit. Written only by the thread that set `entered` (or
    /// holds `&mut Context`); read by readers only under the `snapshot` lock while
    /// `snapshot` is `None` (see there).
    parked: UnsafeCell<Parked>,
    /// For readers on threads where this context is not current. `Some(version)`: that
    /// version, which is also the parked one (or the one the running thread entered with).
    /// `None`: read `parked`, under this lock. A `run` publishes the parked version here
    /// (under the lock) before it takes it, so `None` means nobody is taking or putting
    /// `parked` meanwhile; an exit that wrote puts the new map back first, then clears this.
    /// Kept lazy so that a copy costs one reference count, not two.
    snapshot: Mutex<Option<Map>>,
}

/// What `parked` holds.
#[derive(Default)]
struct Parked {
    map: Map,
    /// Whether `snapshot` holds this very version (`Some`); else it is `None`.
    published: bool,
}

// SAFETY: `parked` is the only field that is not `Sync`. Writes to it come only from the
// thread that holds `entered` (a try-lock; release/acquire pair) or `&mut Context`; readers
// read it only under the `snapshot` lock while `snapshot` is `None`, and the flag holder
// publishes a version there, under that lock, before it takes `parked`, and writes `parked`
// back before it clears it. `Map` itself is `Send + Sync`.
unsafe impl Sync for Context {}

/// A panic inside [`Context::run`] leaves the context consistent: the exit guard parks the
/// map and clears the flag while unwinding.
impl std::panic::RefUnwindSafe for Context {}

impl Context {
    /// An empty context.
    ///
    /// ```
    /// use contexture_ctxvar::Context;
    ///
    /// let ctx = Context::new();
    /// assert!(ctx.is_empty());
    /// ```
    pub fn new() -> Context {
        Context::from_map(Map::EMPTY)
    }

    pub(crate) fn from_map(map: Map) -> Context {
        Context {
            id: current::fresh_id() | current::CTX_TAG,
            entered: AtomicBool::new(false),
            parked: UnsafeCell::new(Parked {
                map,
                published: false,
            }),
            snapshot: Mutex::new(None),
        }
    }

    /// A new context with the same values, in O(1): the two share structure until one of
    /// them is written (Python's `ctx.copy()`).
    ///
    /// ```
    /// use contexture_ctxvar::{Context, ContextVar};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// let a = Context::new();
    /// a.run(|| V.set(1)).unwrap();
    /// let b = a.copy();
    /// b.run(|| V.set(2)).unwrap();
    /// assert_eq!((a.get(&V), b.get(&V)), (Some(1), Some(2)));
    /// ```
    pub fn copy(&self) -> Context {
        let live = current::with(|s| (s.ctx_id() == self.id).then(|| s.share_map())).flatten();
        Context::from_map(live.unwrap_or_else(|| self.read_elsewhere(Map::clone)))
    }

    /// Runs `f` with this context current on this thread; returns what `f` returns.
    ///
    /// Sets inside `f` change this context (visible afterwards through [`Context::get`]); the
    /// previous context is current again afterwards, also when `f` panics (what `f` set
    /// before panicking stays in this context).
    ///
    /// ```
    /// use contexture_ctxvar::{Context, ContextVar};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// let ctx = Context::new();
    /// let seen = ctx.run(|| { V.set(1); V.get() }).unwrap();
    /// assert_eq!(seen, Some(1));
    /// assert_eq!(V.get(), None);
    /// assert_eq!(ctx.get(&V), Some(1));
    /// ```
    ///
    /// # Errors
    ///
    /// [`AlreadyEntered`] when this context is already entered, on this thread (nested) or
    /// on another one; `f` is not called.
    ///
    /// # Panics
    ///
    /// When called from a `Clone` run by [`ContextVar::get`](crate::ContextVar::get) (the
    /// context is left untouched then). A panic of `f` is resumed after the previous context
    /// is restored. (During thread teardown, from any thread-local's destructor, `run` works
    /// as usual.)
    #[inline]
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> Result<R, AlreadyEntered> {
        // Both before the flag, so that their panics (the thread's state is busy in a
        // `Clone` run by `get`; gone, under loom only) leave nothing taken.
        let here = current::here();
        let mut state = here.borrow_mut();
        // Acquire: pairs with the release in `Exit::drop`, so the previous runner's writes
        // to `parked` are visible before we take it. A failed attempt writes nothing.
        if self
            .entered
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(AlreadyEntered);
        }
        // SAFETY: we just set `entered`, so no other thread writes `parked` until `Exit`
        // clears it; on this thread nothing else holds a reference into it.
        let mut exit = unsafe { self.enter(here, &mut state, true) };
        drop(state);
        let r = f();
        let stale = exit.leave();
        std::mem::forget(exit);
        drop_stale(stale);
        Ok(r)
    }

    /// [`run`](Context::run) for a context nobody else can be inside, as `&mut self` proves:
    /// it cannot fail, and it skips the entered flag's atomic operation. Use it for a context
    /// you own, such as a copy taken for one job or one thread.
    ///
    /// ```
    /// use contexture_ctxvar::{copy_context, ContextVar};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(1);
    /// let mut job_ctx = copy_context();
    /// let seen = job_ctx.run_mut(|| { V.set(2); V.get() });
    /// assert_eq!((seen, V.get(), job_ctx.get(&V)), (Some(2), Some(1), Some(2)));
    /// ```
    ///
    /// # Panics
    ///
    /// As [`run`](Context::run): from a `Clone` run by `get`, and a panic of `f` is resumed
    /// after the previous context is restored.
    #[inline]
    pub fn run_mut<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let here = current::here();
        let mut state = here.borrow_mut();
        // SAFETY: `&mut self` excludes every other access to `parked` until `exit` is gone.
        let mut exit = unsafe { self.enter(here, &mut state, false) };
        drop(state);
        let r = f();
        let stale = exit.leave();
        std::mem::forget(exit);
        drop_stale(stale);
        r
    }

    /// Moves the parked map into this thread's state (`state`, reached through `here`); the
    /// returned guard moves it back.
    ///
    /// # Safety
    ///
    /// The caller has exclusive write access to `parked` until the guard is dropped: it
    /// set `entered` (then `shared` is true: readers may come, so the version is published
    /// first, and the guard clears the flag), or holds `&mut Context` (no reader can exist).
    #[inline]
    unsafe fn enter(
        &self,
        here: current::Here,
        state: &mut current::State,
        shared: bool,
    ) -> Exit<'_> {
        // SAFETY: only the holder of `entered` or of `&mut Context` writes `parked`, and
        // that is us; readers only read it.
        let published = self.parked.with(|p| unsafe { (*p).published });
        if shared && !published {
            // SAFETY: forwarded from the caller.
            unsafe { self.publish() };
        }
        // SAFETY: from here on readers use the snapshot (or cannot exist: `&mut Context`),
        // and only we write: `parked` is ours.
        let map = self
            .parked
            .with_mut(|p| std::mem::take(unsafe { &mut (*p).map }));
        Exit {
            ctx: self,
            here,
            entered: state.enter(map, self.id),
            shared,
        }
    }

    /// Publishes the parked version for readers on other threads, before a `run` takes it.
    ///
    /// # Safety
    ///
    /// As [`Context::enter`], with `shared`.
    #[cold]
    #[inline(never)]
    unsafe fn publish(&self) {
        let mut snapshot = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner);
        self.parked.with_mut(|p| {
            // SAFETY: only the holder of `entered` writes `parked`, and that is us; readers
            // read it only under the lock we hold.
            let parked = unsafe { &mut *p };
            // `published == false` means `snapshot` is `None`: nothing to drop.
            *snapshot = Some(parked.map.clone());
            parked.published = true;
        });
    }

    /// The value of `var` in this context; a var's default does not count.
    ///
    /// On the thread where this context is entered (current, or further down the stack
    /// under a nested entry), the live value, as in Python; elsewhere (it is not entered, or
    /// entered on another thread), the value as of when it was last exited.
    ///
    /// ```
    /// use contexture_ctxvar::{copy_context, ContextVar};
    ///
    /// static V: ContextVar<u8> = ContextVar::with_default("v", 7);
    /// assert_eq!(V.get(), Some(7));
    /// assert_eq!(copy_context().get(&V), None);
    /// ```
    pub fn get<T: Clone + Send + Sync + 'static>(&self, var: &ContextVar<T>) -> Option<T> {
        let id = var.id_if_used();
        if id == 0 {
            return None;
        }
        let value = self.read(|m| m.get(id).map(|e: &Entry| e.value.clone()))?;
        value.downcast_ref::<T>().cloned()
    }

    /// Whether `var` has a value in this context (a default does not count).
    ///
    /// ```
    /// use contexture_ctxvar::{copy_context, ContextVar};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(1);
    /// assert!(copy_context().contains(&V));
    /// ```
    pub fn contains<T: Send + Sync + 'static>(&self, var: &ContextVar<T>) -> bool {
        let id = var.id_if_used();
        id != 0 && self.read(|m| m.get(id).is_some())
    }

    /// Number of vars with a value in this context.
    ///
    /// ```
    /// use contexture_ctxvar::{Context, ContextVar};
    ///
    /// static A: ContextVar<u8> = ContextVar::new("a");
    /// let ctx = Context::new();
    /// ctx.run(|| A.set(1)).unwrap();
    /// assert_eq!(ctx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.read(Map::len)
    }

    /// Whether no var has a value in this context.
    ///
    /// ```
    /// use contexture_ctxvar::Context;
    ///
    /// assert!(Context::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Names of the vars with a value here, in the order the vars were first used.
    ///
    /// ```
    /// use contexture_ctxvar::{Context, ContextVar};
    ///
    /// static A: ContextVar<u8> = ContextVar::new("a");
    /// static B: ContextVar<u8> = ContextVar::new("b");
    /// let ctx = Context::new();
    /// ctx.run(|| { A.set(1); B.set(2); }).unwrap();
    /// assert_eq!(ctx.var_names(), ["a", "b"]);
    /// ```
    pub fn var_names(&self) -> Vec<&'static str> {
        self.read(Map::names)
    }

    /// Runs `f` (which runs no user code, and does not clone the map: see
    /// `State::share_map`) on this context's map: the live one if this context is current
    /// on this thread, else the published one.
    fn read<R>(&self, f: impl FnOnce(&Map) -> R) -> R {
        if current::with(|s| s.ctx_id() == self.id) == Some(true) {
            if let Some(r) = current::with(|s| f(s.map())) {
                return r;
            }
            unreachable!("the state was readable a moment ago");
        }
        self.read_elsewhere(f)
    }

    /// Runs `f` (no user code) on this context's map where it is not current: its live map
    /// if it is entered further down this thread's stack, else the published version.
    fn read_elsewhere<R>(&self, f: impl FnOnce(&Map) -> R) -> R {
        match current::nested_map(self.id) {
            Some(map) => f(&map),
            None => self.read_published(f),
        }
    }

    /// Whether this context is entered on this thread further down the stack (entered, and
    /// a nested entry made another context current).
    pub(crate) fn is_entered_below(&self) -> bool {
        current::nested_map(self.id).is_some()
    }

    /// Runs `f` (no user code) on the version readers on other threads see.
    fn read_published<R>(&self, f: impl FnOnce(&Map) -> R) -> R {
        let snapshot = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner);
        match &*snapshot {
            Some(map) => f(map),
            // SAFETY: `snapshot` is `None` and we hold its lock: whoever holds `entered`
            // must publish under this lock before taking `parked`, and had put `parked`
            // back before clearing `snapshot`, so nobody writes `parked` meanwhile (and
            // `&mut Context` cannot coexist with our `&self`).
            None => self.parked.with(|p| f(unsafe { &(*p).map })),
        }
    }

    /// Whether this context is the current one of this thread.
    pub(crate) fn is_current(&self) -> bool {
        current::with(|s| s.ctx_id() == self.id) == Some(true)
    }
}

/// Drops the values this context alone holds one by one: a value whose `Drop` panics does
/// not stop the others from being dropped, and its panic is resumed afterwards (only the
/// first; the others, and any while already unwinding, are swallowed: a second panic would
/// abort the process).
impl Drop for Context {
    fn drop(&mut self) {
        // `get_mut`: no atomic operation (a copy's drop is on the `copy_context` path);
        // loom's mutex has no `get_mut`.
        #[cfg(not(contexture_loom))]
        let snapshot = self
            .snapshot
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        #[cfg(contexture_loom)]
        let snapshot = self
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // SAFETY: `&mut self`: nobody else can reach `parked`.
        let parked = self
            .parked
            .with_mut(|p| std::mem::take(unsafe { &mut (*p).map }));
        drop_two(parked, snapshot);
    }
}

/// Drops two versions with [`current::drop_values`], resuming a panic only after both.
fn drop_two(a: Map, b: Option<Map>) {
    // One version (the usual case: nobody read this context from another thread): no second
    // drop to protect from the first one's panic.
    let Some(b) = b else {
        return current::drop_values(a, current::Unwind::Resume);
    };
    let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        current::drop_values(a, current::Unwind::Resume);
    }));
    current::drop_values(b, current::Unwind::Resume);
    if let Err(payload) = first {
        if !std::thread::panicking() {
            std::panic::resume_unwind(payload);
        }
    }
}

impl Default for Context {
    fn default() -> Context {
        Context::new()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("vars", &self.var_names())
            .finish()
    }
}

/// Leaves a context at the end of `run` (also when unwinding): restores the previous map,
/// parks the context's map, withdraws a published version it made stale, and clears
/// `entered`.
struct Exit<'a> {
    ctx: &'a Context,
    here: current::Here,
    entered: current::Entered,
    /// Entered through the flag (readers may exist), not through `&mut Context`.
    shared: bool,
}

impl Drop for Exit<'_> {
    /// Only when `f` unwinds: the normal path calls [`Exit::leave`] and forgets the guard.
    fn drop(&mut self) {
        drop_stale(self.leave());
    }
}

impl Exit<'_> {
    /// Leaves. After `f` returned, `run` calls it directly and forgets the guard, so that
    /// it is inlined there: as the guard's drop its code stayed out of line (measured: the
    /// call and the guard's round trip through the stack were ~10 of the ~110 instructions
    /// of an adapter's poll). The forgotten guard holds nothing: `leave` took its map.
    ///
    /// Returns a stale published version for the caller to drop with [`drop_stale`] once
    /// the guard is forgotten: a value's `Drop` may panic, and must not unwind through a
    /// guard that would then leave a second time.
    #[inline(always)]
    fn leave(&mut self) -> Option<Map> {
        let (map, written) = self.here.leave(&mut self.entered);
        let stale = self.ctx.parked.with_mut(|p| {
            // SAFETY: the write access to `parked` that `enter` required still holds: the
            // flag is still ours (cleared below), or the caller's `&mut Context` still is;
            // readers use the snapshot while it is `Some`, which it is until cleared below.
            let parked = unsafe { &mut *p };
            // It held the empty map since `enter`: nothing to drop.
            std::mem::forget(std::mem::replace(&mut parked.map, map));
            let stale = written && parked.published;
            parked.published &= !written;
            stale
        });
        if stale {
            return self.withdraw_and_release();
        }
        if self.shared {
            // Release: publishes the writes to `parked` to the next thread that enters.
            self.ctx.entered.store(false, Ordering::Release);
        }
        None
    }

    /// The end of a `leave` that found the published version stale: withdraws it (`parked`
    /// is back, so readers may fall back to it once the snapshot is gone), releases the
    /// flag, and returns the stale version, to be dropped outside every lock and borrow (a
    /// value's `Drop` may use context vars, even enter this context).
    #[cold]
    #[inline(never)]
    fn withdraw_and_release(&self) -> Option<Map> {
        let stale = self
            .ctx
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if self.shared {
            // Release: as in `drop`.
            self.ctx.entered.store(false, Ordering::Release);
        }
        stale
    }
}

/// Drops a stale version that [`Exit::leave`] withdrew (a panic of a value's `Drop` is
/// resumed after the others were dropped, or swallowed while unwinding).
#[inline(always)]
fn drop_stale(stale: Option<Map>) {
    if let Some(stale) = stale {
        drop_stale_cold(stale);
    }
}

#[cold]
#[inline(never)]
fn drop_stale_cold(stale: Map) {
    current::drop_values(stale, current::Unwind::Resume);
}

/// A copy of this thread's current context, in O(1) (Python's `contextvars.copy_context()`).
///
/// ```
/// use contexture_ctxvar::{copy_context, ContextVar};
///
/// static V: ContextVar<u8> = ContextVar::new("v");
/// V.set(1);
/// let snapshot = copy_context();
/// V.set(2);
/// assert_eq!(snapshot.get(&V), Some(1));
/// ```
pub fn copy_context() -> Context {
    Context::from_map(current::with(current::State::share_map).unwrap_or_default())
}
