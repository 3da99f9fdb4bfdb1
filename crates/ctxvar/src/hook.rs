//! Extensions: something outside this crate (a `tracing` span, say) that is captured with
//! every [`Snapshot`] and entered around every run of it, registered once by a bridge
//! crate such as `contexture-tracing`.
//!
//! This crate knows nothing of what an extension carries. An [`Extension`] is asked to
//! [`capture`](Extension::capture) at every hand-off that captures the context (a
//! [`Snapshot::capture`], hence every pool job and actor message with propagation on, and
//! [`thread::spawn`](crate::thread::spawn), [`thread::Builder::spawn`](crate::thread::Builder::spawn)
//! and the tokio `spawn` / `spawn_blocking`); what it returns, a [`Carried`], is
//! [`enter`](Carried::enter)ed before the work runs and [`exit`](Carried::exit)ed after it,
//! on the thread that runs it (for a future: around each poll).
//!
//! **Where a snapshot keeps them.** In its values, under a private context var (named
//! `contexture.hook`), as opentelemetry-python keeps its current span in a contextvar: so a
//! [`Snapshot`] stays one pointer wide (an actor's message and its snapshot fit the
//! mailbox slot). While an extension carries something, that var counts in the snapshot's
//! and the work's context's `len` and shows in `var_names`.
//!
//! **Cost.** With nothing registered, a capture and a run each cost one relaxed atomic
//! load. With an extension registered and carrying something, a capture costs the
//! extension's own capture, a switch into the captured values to set the private var
//! (one copy of the small map, or of a trie path) and a run one lookup and two dynamic
//! calls; with several extensions, one more allocation to hold them.
//!
//! **Panics.** A panic in an extension's `capture`, `enter` or `exit` is caught here and
//! counted ([`contained_panics`]); the work itself still runs (without that extension: a
//! failed capture carries nothing, a failed `enter` is not exited). So a broken extension
//! cannot kill a pool worker or abort the process by panicking inside a drop guard.
//!
//! **Lifetime.** Registrations are for the life of the process (at most
//! [`MAX_EXTENSIONS`]): an extension is a `&'static` (a bridge crate keeps one in a
//! `static`); there is no unregister, as the captures already taken would otherwise
//! outlive it. A bridge that wants an off switch
//! returns `None` from `capture` while off.
//!
//! ```
//! use contexture_ctxvar::hook::{self, Carried, Extension};
//! use contexture_ctxvar::Snapshot;
//! use std::sync::Arc;
//!
//! // Carries the capturing thread's name into the work, for a log prefix say.
//! std::thread_local!(static ENTERED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) });
//! struct Name(String);
//! impl Carried for Name {
//!     fn enter(&self) { ENTERED.with(|e| e.set(e.get() + 1)); }
//!     fn exit(&self) { ENTERED.with(|e| e.set(e.get() - 1)); }
//! }
//! struct ThreadName;
//! impl Extension for ThreadName {
//!     fn capture(&self) -> Option<Arc<dyn Carried>> {
//!         Some(Arc::new(Name(std::thread::current().name().unwrap_or("?").to_owned())))
//!     }
//! }
//! static THREAD_NAME: ThreadName = ThreadName;
//! hook::register(&THREAD_NAME).unwrap();
//!
//! let job = Snapshot::capture();
//! let inside = std::thread::spawn(move || job.run(|| ENTERED.with(|e| e.get())))
//!     .join()
//!     .unwrap();
//! assert_eq!(inside, 1); // entered around the run, exited after it
//! ```

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll};

use crate::map::{Entry, Map};
use crate::snapshot::Snapshot;
use crate::ContextVar;

// std's atomics and `OnceLock` directly, not `crate::loom`'s: the registry is process-wide
// set-once state (like the id counters), not part of the entering protocol loom models.

/// Something a bridge crate captures with every [`Snapshot`]; see the [module](self) docs.
///
/// ```
/// use contexture_ctxvar::hook::{Carried, Extension};
/// use std::sync::Arc;
///
/// struct Nothing;
/// impl Extension for Nothing {
///     fn capture(&self) -> Option<Arc<dyn Carried>> {
///         None // carry nothing this time
///     }
/// }
/// assert!(Nothing.capture().is_none());
/// ```
pub trait Extension: Send + Sync + 'static {
    /// Called on the capturing thread at every capture; `None` carries nothing (cheapest).
    fn capture(&self) -> Option<Arc<dyn Carried>>;
}

/// What an [`Extension`] captured for one snapshot: entered on the thread that runs the
/// work, before it, and exited after it (also when the work panics). A snapshot's clones
/// share it, so `enter` and `exit` take `&self` and may run on several threads at once.
///
/// ```
/// use contexture_ctxvar::hook::Carried;
///
/// struct Noop;
/// impl Carried for Noop {
///     fn enter(&self) {}
///     fn exit(&self) {}
/// }
/// Noop.enter();
/// Noop.exit();
/// ```
pub trait Carried: Send + Sync + 'static {
    /// Called before the work runs (before each poll, for a future).
    fn enter(&self);
    /// Called after the work ran, when `enter` returned normally.
    fn exit(&self);
}

/// How many extensions can be registered in one process.
pub const MAX_EXTENSIONS: usize = 4;

/// Whether anything is registered: the one relaxed load a capture pays when nothing is.
static ANY: AtomicBool = AtomicBool::new(false);
/// The registrations, in order; filled front to back under `REGISTERING`.
static SLOTS: [OnceLock<&'static dyn Extension>; MAX_EXTENSIONS] = [
    OnceLock::new(),
    OnceLock::new(),
    OnceLock::new(),
    OnceLock::new(),
];
static REGISTERING: Mutex<()> = Mutex::new(());
/// Panics caught in extensions.
static PANICS: AtomicU64 = AtomicU64::new(0);

/// Why [`register`] refused an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// This `&'static` (by address) is registered already; nothing changed.
    #[error("this extension is registered already")]
    AlreadyRegistered,
    /// [`MAX_EXTENSIONS`] are registered already.
    #[error("{MAX_EXTENSIONS} extensions are registered already")]
    Full,
}

/// Registers `extension` for the rest of the process: from now on every capture asks it.
/// A bridge calls this once (registering the same `&'static` again is refused, harmlessly).
///
/// ```
/// use contexture_ctxvar::hook::{self, Carried, Extension, RegisterError};
/// use std::sync::Arc;
///
/// struct Nothing;
/// impl Extension for Nothing {
///     fn capture(&self) -> Option<Arc<dyn Carried>> { None }
/// }
/// static NOTHING: Nothing = Nothing;
/// assert_eq!(hook::register(&NOTHING), Ok(()));
/// assert_eq!(hook::register(&NOTHING), Err(RegisterError::AlreadyRegistered));
/// ```
pub fn register(extension: &'static dyn Extension) -> Result<(), RegisterError> {
    // A poisoned lock guards nothing broken (the slots are set-once).
    let _serial = REGISTERING.lock().unwrap_or_else(|e| e.into_inner());
    for slot in &SLOTS {
        match slot.get() {
            Some(existing) if ptr::addr_eq(*existing, extension) => {
                return Err(RegisterError::AlreadyRegistered)
            }
            Some(_) => continue,
            None => {
                let _ = slot.set(extension);
                ANY.store(true, Ordering::Release);
                return Ok(());
            }
        }
    }
    Err(RegisterError::Full)
}

/// Number of panics caught in registered extensions' `capture`, `enter` and `exit` since
/// the process started (a panic there is contained: the work runs without it).
///
/// ```
/// assert_eq!(contexture_ctxvar::hook::contained_panics(), 0);
/// ```
pub fn contained_panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

fn contain<R>(f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            PANICS.fetch_add(1, Ordering::Relaxed);
            // The payload's own `Drop` may panic too; contained as well (leaked then).
            if catch_unwind(AssertUnwindSafe(move || drop(payload))).is_err() {
                PANICS.fetch_add(1, Ordering::Relaxed);
            }
            None
        }
    }
}

/// What the registered extensions captured for one snapshot (empty when none is
/// registered or none carried anything): one (fat) pointer, shared by clones; what a
/// single extension captured is held as is, without another allocation.
///
/// ```
/// use contexture_ctxvar::hook::Extensions;
///
/// let ext = Extensions::capture();
/// assert_eq!(ext.run(|| 1 + 1), 2);
/// ```
#[derive(Clone, Default)]
pub struct Extensions(Option<Arc<dyn Carried>>);

/// What several extensions captured, entered as one: all or nothing.
struct Chain(Vec<Arc<dyn Carried>>);

impl Carried for Chain {
    fn enter(&self) {
        for (k, carried) in self.0.iter().enumerate() {
            if contain(|| carried.enter()).is_none() {
                // Undo the ones entered, then fail as a whole (the caller contains it and
                // will not call `exit`).
                for earlier in self.0[..k].iter().rev() {
                    contain(|| earlier.exit());
                }
                panic!("a contexture_ctxvar hook extension panicked in `enter`");
            }
        }
    }

    fn exit(&self) {
        for carried in self.0.iter().rev() {
            contain(|| carried.exit());
        }
    }
}

impl Extensions {
    /// Asks every registered extension to capture, on this thread.
    ///
    /// ```
    /// use contexture_ctxvar::hook::Extensions;
    ///
    /// assert!(Extensions::capture().is_empty()); // nothing registered in this test
    /// ```
    #[inline]
    pub fn capture() -> Extensions {
        if ANY.load(Ordering::Relaxed) {
            Extensions::capture_registered()
        } else {
            Extensions(None)
        }
    }

    #[cold]
    #[inline(never)]
    fn capture_registered() -> Extensions {
        let mut first: Option<Arc<dyn Carried>> = None;
        let mut more: Vec<Arc<dyn Carried>> = Vec::new();
        for extension in SLOTS.iter().map_while(OnceLock::get) {
            if let Some(Some(c)) = contain(|| extension.capture()) {
                match &first {
                    None => first = Some(c),
                    Some(f) => {
                        if more.is_empty() {
                            more.push(f.clone());
                        }
                        more.push(c);
                    }
                }
            }
        }
        if more.is_empty() {
            Extensions(first)
        } else {
            // Registration order: the oldest is entered first and exited last.
            Extensions(Some(Arc::new(Chain(more))))
        }
    }

    /// Whether nothing was captured.
    ///
    /// ```
    /// assert!(contexture_ctxvar::hook::Extensions::default().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Runs `f` with everything captured entered (in registration order) and exited
    /// after (in reverse, also when `f` panics). Panics of the extensions are contained.
    ///
    /// ```
    /// use contexture_ctxvar::hook::Extensions;
    ///
    /// assert_eq!(Extensions::default().run(|| "ran"), "ran");
    /// ```
    #[inline]
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.enter();
        f()
    }

    /// Enters everything captured until the guard drops.
    #[inline]
    pub(crate) fn enter(&self) -> Guard<'_> {
        match &self.0 {
            None => Guard { entered: None },
            Some(carried) => Guard::enter(&**carried),
        }
    }

    /// Wraps `future` so that each of its polls runs with everything captured entered
    /// (what tracing's `Instrument` does for one span).
    ///
    /// ```
    /// use contexture_ctxvar::hook::Extensions;
    ///
    /// let fut = Extensions::capture().instrument(async { 5 });
    /// assert_eq!(futures::executor::block_on(fut), 5);
    /// ```
    pub fn instrument<F: Future>(self, future: F) -> Instrumented<F> {
        Instrumented {
            extensions: self,
            future: Box::pin(future),
        }
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("carried", &self.0.is_some())
            .finish()
    }
}

/// Exits what [`Extensions::enter`] entered.
pub(crate) struct Guard<'a> {
    /// `None` when nothing was captured or its `enter` panicked.
    entered: Option<&'a dyn Carried>,
}

impl<'a> Guard<'a> {
    #[cold]
    #[inline(never)]
    fn enter(carried: &'a dyn Carried) -> Guard<'a> {
        Guard {
            entered: contain(|| carried.enter()).map(|()| carried),
        }
    }
}

impl Drop for Guard<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(carried) = self.entered {
            exit(carried);
        }
    }
}

#[cold]
#[inline(never)]
fn exit(carried: &dyn Carried) {
    contain(|| carried.exit());
}

/// A future polled with its [`Extensions`] entered; see [`Extensions::instrument`].
#[must_use = "futures do nothing unless polled"]
pub struct Instrumented<F> {
    extensions: Extensions,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _guard = this.extensions.enter();
        this.future.as_mut().poll(cx)
    }
}

impl<F> fmt::Debug for Instrumented<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumented")
            .field("extensions", &self.extensions)
            .finish_non_exhaustive()
    }
}

/// Where a snapshot keeps what the extensions captured: a private var of its values.
static CARRIED: ContextVar<Extensions> = ContextVar::new("contexture.hook");

/// The values a [`Snapshot::capture`] takes: `map`, plus (when an extension is registered)
/// what the extensions capture now, under [`CARRIED`].
#[inline]
pub(crate) fn carry(map: Map) -> Map {
    if ANY.load(Ordering::Relaxed) {
        carry_registered(map)
    } else {
        map
    }
}

#[cold]
#[inline(never)]
fn carry_registered(map: Map) -> Map {
    let extensions = Extensions::capture_registered();
    let inherited = match map.get(CARRIED.id_if_used()) {
        Some(entry) => entry
            .value
            .downcast_ref::<Extensions>()
            .is_some_and(|e| !e.is_empty()),
        None => false,
    };
    if extensions.is_empty() && !inherited {
        return map;
    }
    // Written into the captured values directly (copy on write: the caller's context
    // still shares them), not through the caller's context.
    let mut map = map;
    let displaced = if extensions.is_empty() {
        map.remove(CARRIED.id())
    } else {
        let entry = Entry {
            name: CARRIED.name(),
            value: Arc::new(extensions),
        };
        map.insert(CARRIED.id(), entry)
    };
    drop(displaced);
    map
}

/// Enters, until the guard drops, what the current context's [`CARRIED`] holds: what the
/// extensions captured with the snapshot being run (one relaxed load when nothing is
/// registered).
#[inline]
pub(crate) fn enter_carried() -> Option<Owned> {
    if ANY.load(Ordering::Relaxed) {
        enter_carried_registered()
    } else {
        None
    }
}

#[cold]
#[inline(never)]
fn enter_carried_registered() -> Option<Owned> {
    let carried = CARRIED.with(|e| e.and_then(|e| e.0.clone()))?;
    let entered = contain(|| carried.enter()).is_some();
    Some(Owned { carried, entered })
}

/// Exits what [`enter_carried`] entered.
pub(crate) struct Owned {
    carried: Arc<dyn Carried>,
    entered: bool,
}

impl Drop for Owned {
    fn drop(&mut self) {
        if self.entered {
            exit(&*self.carried);
        }
    }
}

impl Snapshot {
    /// What the registered extensions captured with this snapshot, for work that turns
    /// the values into a [`Context`](crate::Context) with [`into_context`](Snapshot::into_context) and still
    /// wants them entered, e.g. around each poll of a future (as an actor message does).
    ///
    /// ```
    /// use contexture_ctxvar::Snapshot;
    ///
    /// let snapshot = Snapshot::capture();
    /// let ext = snapshot.extensions();
    /// assert!(ext.is_empty()); // nothing registered here
    /// let mut ctx = snapshot.into_context();
    /// assert_eq!(ext.run(|| ctx.run_mut(|| 3)), 3);
    /// ```
    pub fn extensions(&self) -> Extensions {
        self.get(&CARRIED).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::atomic::AtomicUsize;

    // One process-wide registry: this module's tests share one registered extension,
    // switched by a thread-local mode, so other tests of the crate see it capture nothing.
    std::thread_local! {
        static MODE: RefCell<&'static str> = const { RefCell::new("off") };
        static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }
    static CAPTURES: AtomicUsize = AtomicUsize::new(0);

    struct Probe;
    struct Tag(&'static str, String);
    impl Carried for Tag {
        fn enter(&self) {
            if self.0 == "enter-panics" {
                panic!("enter");
            }
            LOG.with(|l| l.borrow_mut().push(format!("enter {}", self.1)));
        }
        fn exit(&self) {
            if self.0 == "exit-panics" {
                panic!("exit");
            }
            LOG.with(|l| l.borrow_mut().push(format!("exit {}", self.1)));
        }
    }
    impl Extension for Probe {
        fn capture(&self) -> Option<Arc<dyn Carried>> {
            let mode = MODE.with(|m| *m.borrow());
            match mode {
                "off" => None,
                "capture-panics" => panic!("capture"),
                _ => {
                    CAPTURES.fetch_add(1, Ordering::Relaxed);
                    Some(Arc::new(Tag(
                        mode,
                        format!("{:?}", std::thread::current().id()),
                    )))
                }
            }
        }
    }
    static PROBE: Probe = Probe;

    /// A second extension, capturing only in the `chain*` modes.
    struct Second;
    impl Extension for Second {
        fn capture(&self) -> Option<Arc<dyn Carried>> {
            match MODE.with(|m| *m.borrow()) {
                "chain" => Some(Arc::new(Tag("ok", "second".to_owned()))),
                "chain-second-panics" => Some(Arc::new(Tag("enter-panics", "second".to_owned()))),
                _ => None,
            }
        }
    }
    static SECOND: Second = Second;

    fn with_mode<R>(mode: &'static str, f: impl FnOnce() -> R) -> R {
        let _ = register(&PROBE);
        MODE.with(|m| *m.borrow_mut() = mode);
        let r = f();
        MODE.with(|m| *m.borrow_mut() = "off");
        r
    }

    fn log() -> Vec<String> {
        LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
    }

    #[test]
    fn entered_around_the_run_on_the_running_thread_and_exited_after_a_panic() {
        let snapshot = with_mode("on", Snapshot::capture);
        let me = format!("{:?}", std::thread::current().id());
        let (inside, after) = std::thread::spawn(move || {
            let inside = snapshot.clone().run(log);
            let r = catch_unwind(AssertUnwindSafe(|| snapshot.run(|| panic!("work"))));
            assert!(r.is_err());
            (inside, log())
        })
        .join()
        .unwrap();
        assert_eq!(inside, [format!("enter {me}")]);
        assert_eq!(
            after,
            [
                format!("exit {me}"),
                format!("enter {me}"),
                format!("exit {me}")
            ]
        );
    }

    #[test]
    fn a_panicking_extension_is_contained_and_the_work_runs() {
        let before = contained_panics();
        let s = with_mode("capture-panics", Snapshot::capture);
        assert!(s.extensions().is_empty());
        assert_eq!(s.run(|| 1), 1);
        let s = with_mode("enter-panics", Snapshot::capture);
        assert_eq!(s.run(|| 2), 2);
        assert!(log().is_empty(), "a failed enter is not exited");
        let s = with_mode("exit-panics", Snapshot::capture);
        assert_eq!(s.run(|| 3), 3);
        assert_eq!(log().len(), 1);
        assert!(contained_panics() >= before + 3);
    }

    #[test]
    fn default_and_off_carry_nothing() {
        assert!(Snapshot::default().extensions().is_empty());
        assert!(with_mode("off", Snapshot::capture).extensions().is_empty());
        let before = CAPTURES.load(Ordering::Relaxed);
        let s = with_mode("on", Snapshot::capture);
        assert!(CAPTURES.load(Ordering::Relaxed) > before);
        let ext = s.extensions();
        assert!(!ext.is_empty());
        assert_eq!(s.len(), 1); // the private var
        let polled = futures::executor::block_on(ext.instrument(async { log() }));
        assert_eq!(polled.len(), 1);
        assert_eq!(log().len(), 1);
    }

    #[test]
    fn several_extensions_enter_in_order_exit_in_reverse_and_all_or_nothing() {
        let _ = register(&SECOND);
        let me = format!("{:?}", std::thread::current().id());
        with_mode("chain", Snapshot::capture).run(|| {});
        assert_eq!(
            log(),
            [
                format!("enter {me}"),
                "enter second".to_owned(),
                "exit second".to_owned(),
                format!("exit {me}")
            ]
        );
        let before = contained_panics();
        assert_eq!(
            with_mode("chain-second-panics", Snapshot::capture).run(|| 4),
            4
        );
        // The first was entered, then undone when the second failed; no exit after.
        assert_eq!(log(), [format!("enter {me}"), format!("exit {me}")]);
        assert!(contained_panics() >= before + 2);
    }

    #[test]
    fn work_that_captures_nothing_does_not_pass_on_what_it_was_given() {
        let outer = with_mode("on", Snapshot::capture);
        assert!(!outer.extensions().is_empty());
        let (inner, again) = outer.run(|| {
            let inner = with_mode("off", Snapshot::capture);
            (inner, with_mode("on", Snapshot::capture))
        });
        assert!(
            inner.extensions().is_empty(),
            "the job's own capture carried nothing"
        );
        assert!(!again.extensions().is_empty());
        log();
    }

    #[test]
    fn registering_twice_is_a_no_op() {
        let _ = register(&PROBE);
        assert_eq!(register(&PROBE), Err(RegisterError::AlreadyRegistered));
    }
}
