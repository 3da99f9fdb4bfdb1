//! `Snapshot`: a context's values frozen for one piece of work (a pool job, a message),
//! with no identity and no entered flag, so that carrying it costs one pointer.

use std::fmt;

use crate::context::Context;
use crate::current::{self, Entered, Here};
use crate::map::Map;
use crate::ContextVar;

/// The values of the current context, captured in O(1) to run one piece of work in them
/// later, on any thread: what a pool job or an actor message carries.
///
/// A [`Context`] has an identity (tokens and the entered check refer to it) and state for
/// readers on other threads; a `Snapshot` is only the values, one pointer wide, and
/// [`run`](Snapshot::run) consumes it: the work runs in a fresh context that starts with
/// these values, and what the work sets is dropped when it returns. That is
/// `copy_context().run(f)` for work that runs once, without the entered flag's atomic
/// operation or a context to keep.
///
/// ```
/// use contexture_ctxvar::{ContextVar, Snapshot};
///
/// static REQUEST: ContextVar<u32> = ContextVar::new("request");
/// REQUEST.set(7);
/// let job = Snapshot::capture();
/// REQUEST.set(8); // after the capture: not seen by the job
/// let seen = std::thread::spawn(move || {
///     job.run(|| {
///         let seen = REQUEST.get();
///         REQUEST.set(9); // stays inside the job
///         seen
///     })
/// })
/// .join()
/// .unwrap();
/// assert_eq!((seen, REQUEST.get()), (Some(7), Some(8)));
/// ```
#[derive(Clone, Default)]
pub struct Snapshot(Map);

/// A snapshot is never changed (a `run` consumes it), so a panic cannot leave one half
/// written; as for [`Context`], the values' own interior mutability is their type's concern.
impl std::panic::UnwindSafe for Snapshot {}
impl std::panic::RefUnwindSafe for Snapshot {}

impl Snapshot {
    /// The values of this thread's current context, in O(1) (one reference count).
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, Snapshot};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(1);
    /// assert_eq!(Snapshot::capture().get(&V), Some(1));
    /// ```
    pub fn capture() -> Snapshot {
        Snapshot(crate::hook::carry(
            current::with(current::State::share_map).unwrap_or_default(),
        ))
    }

    /// Runs `f` on this thread in a fresh context holding these values; returns what `f`
    /// returns. Afterwards the previous context is current again (also when `f` panics),
    /// and whatever `f` set is dropped with the fresh context: nothing leaks into the next
    /// piece of work on this thread. Tokens made inside can only be reset inside.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, Snapshot};
    ///
    /// static V: ContextVar<u8> = ContextVar::with_default("v", 0);
    /// let empty = Snapshot::default();
    /// V.set(5);
    /// assert_eq!(empty.run(|| { V.set(6); V.get() }), Some(6));
    /// assert_eq!(V.get(), Some(5));
    /// ```
    ///
    /// # Panics
    ///
    /// As [`Context::run`]: from a `Clone` run by [`ContextVar::get`]; a panic of `f` is
    /// resumed after the previous context is restored.
    #[inline]
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let here = current::here();
        // Context id 0: the fresh context gets an id only if a token is made in it.
        let entered = here.borrow_mut().enter(self.into_map(), 0);
        let _exit = Exit { here, entered };
        let _extensions = crate::hook::enter_carried(); // exited before the context is left
        f()
    }

    /// [`run`](Snapshot::run) that hands the values back instead of dropping its reference
    /// to them, when `f` set nothing: the caller then chooses where and when that
    /// reference goes. A pool worker keeps those of a run of jobs that carry the same values
    /// and drops them together: a reference count incremented by the submitting thread and
    /// decremented by a worker moves one cache line between cores per job (measured: a job
    /// with a request id set cost 2.6× an empty-context one in a fresh process).
    ///
    /// When `f` set or reset a var, its fresh context is dropped at return with what it set,
    /// as with `run`, and an empty snapshot comes back.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, Snapshot};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(1);
    /// let snapshot = Snapshot::capture();
    /// let (seen, back) = snapshot.clone().run_keeping(|| V.get());
    /// assert_eq!(seen, Some(1));
    /// assert!(back.same_values(&snapshot)); // f set nothing: the values come back
    /// let ((), back) = snapshot.run_keeping(|| drop(V.set(2)));
    /// assert!(back.is_empty()); // f wrote: its context was dropped
    /// assert_eq!(V.get(), Some(1));
    /// ```
    ///
    /// # Panics
    ///
    /// As [`run`](Snapshot::run).
    #[inline]
    pub fn run_keeping<R>(self, f: impl FnOnce() -> R) -> (R, Snapshot) {
        self.run_keeping_with(&mut Spares::new(), f)
    }

    /// [`run_keeping`](Snapshot::run_keeping) for a caller that keeps other references to
    /// these same values (`spares`; a pool worker keeps those of the jobs it ended): the run
    /// holds them, and the first write that finds the values shared drops them before it
    /// decides whether to copy, so that they never keep alive a value the work replaced,
    /// nor make it copy what it would have changed in place. The spares no write dropped
    /// are back in `spares` afterwards. Spares of other values than these are dropped
    /// before `f` runs.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, Snapshot, Spares};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(1);
    /// let mut spares = Spares::new();
    /// spares.push(Snapshot::capture()).unwrap();
    /// let (seen, back) = Snapshot::capture().run_keeping_with(&mut spares, || V.get());
    /// assert_eq!((seen, spares.len()), (Some(1), 1)); // nothing written: kept
    /// spares.push(back).unwrap();
    /// let ((), back) = Snapshot::capture().run_keeping_with(&mut spares, || drop(V.set(2)));
    /// assert!(spares.is_empty() && back.is_empty()); // the write let them go
    /// ```
    ///
    /// # Panics
    ///
    /// As [`run`](Snapshot::run).
    #[inline]
    pub fn run_keeping_with<R>(self, spares: &mut Spares, f: impl FnOnce() -> R) -> (R, Snapshot) {
        if !spares.is_empty() && !spares.holds(&self) {
            // Not references to the version entered: they could be the last ones, so they
            // are not held where a write would drop them under the state's borrow.
            drop(std::mem::take(spares));
        }
        // From here on only through this pointer, which the thread's state holds while `f`
        // runs (a write may drop them through it); the enclosing run's comes back at exit.
        let spares: *mut Spares = spares;
        let here = current::here();
        let (entered, outer) = {
            let mut state = here.borrow_mut();
            let entered = state.enter(self.into_map(), 0);
            (entered, state.install_spares(spares))
        };
        let mut exit = ExitKeeping {
            here,
            entered,
            outer,
        };
        let r = {
            let _extensions = crate::hook::enter_carried(); // exited before the context is left
            f()
        };
        let (map, written) = exit.leave();
        // `leave` took everything: the guard only acts when `f` unwinds.
        std::mem::forget(exit);
        if written {
            // A write gave the run a version of its own (or changed this one in place, when
            // nothing else held it): dropped now, with what `f` set, as `run` does.
            current::drop_values(map, current::Unwind::Resume);
            return (r, Snapshot::default());
        }
        (r, Snapshot(map))
    }

    /// Whether `other` holds the very same values (the same version of a context's map, or
    /// both none): what a caller keeping several snapshots checks before holding one more.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, Snapshot};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(1);
    /// let (a, b) = (Snapshot::capture(), Snapshot::capture());
    /// assert!(a.same_values(&b));
    /// V.set(1); // a new version, even with an equal value
    /// assert!(!a.same_values(&Snapshot::capture()));
    /// ```
    #[inline]
    pub fn same_values(&self, other: &Snapshot) -> bool {
        self.0.ptr_eq(&other.0)
    }

    /// A [`Context`] holding these values, to enter more than once or to share.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, Snapshot};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(3);
    /// let ctx = Snapshot::capture().into_context();
    /// assert_eq!(ctx.run(|| V.get()), Ok(Some(3)));
    /// ```
    pub fn into_context(self) -> Context {
        Context::from_map(self.into_map())
    }

    /// The values, moved out (for a run or an [`OwnedContext`](crate::OwnedContext)).
    #[inline]
    pub(crate) fn into_map(mut self) -> Map {
        // Leaves the empty map, whose drop does nothing.
        std::mem::take(&mut self.0)
    }

    /// The value of `var` in these values; a var's default does not count.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, Snapshot};
    ///
    /// static V: ContextVar<u8> = ContextVar::with_default("v", 1);
    /// assert_eq!(Snapshot::capture().get(&V), None);
    /// ```
    pub fn get<T: Clone + Send + Sync + 'static>(&self, var: &ContextVar<T>) -> Option<T> {
        let id = var.id_if_used();
        if id == 0 {
            return None;
        }
        self.0.get(id)?.value.downcast_ref::<T>().cloned()
    }

    /// Number of vars with a value.
    ///
    /// ```
    /// use contexture_ctxvar::Snapshot;
    ///
    /// assert_eq!(Snapshot::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no var has a value.
    ///
    /// ```
    /// use contexture_ctxvar::Snapshot;
    ///
    /// assert!(Snapshot::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

/// References to one version of a context's values (the same values, see
/// [`Snapshot::same_values`]), kept to be dropped together: a pool worker keeps those of
/// the jobs it ended, and lends them to the next job's run with
/// [`Snapshot::run_keeping_with`]. Holding only one version is what lets that run check
/// them in O(1), and what lets [`release`](Spares::release) give all of them but one back
/// in a single atomic step (one write to the reference count, where dropping them one by
/// one wrote it once per reference, each time taking its cache line from the thread that
/// captures them).
///
/// ```
/// use contexture_ctxvar::{ContextVar, Snapshot, Spares};
///
/// static V: ContextVar<u8> = ContextVar::new("v");
/// V.set(1);
/// let mut spares = Spares::new();
/// spares.push(Snapshot::capture()).unwrap();
/// spares.push(Snapshot::capture()).unwrap();
/// V.set(2); // other values: refused, handed back
/// assert!(spares.push(Snapshot::capture()).is_err());
/// assert_eq!(spares.len(), 2);
/// let last = spares.release(); // the other reference is given back here
/// assert!(spares.is_empty());
/// drop(last); // may be the values' last handle: drop it where a panic is caught
/// ```
#[derive(Default)]
pub struct Spares {
    /// One of the references, held as a snapshot (none kept: `None`).
    kept: Option<Snapshot>,
    /// How many more references to `kept`'s version were pushed: each one's snapshot was
    /// forgotten (its count stays, owed by us), to be given back by `release`.
    owed: usize,
}

impl Spares {
    /// No references.
    ///
    /// ```
    /// assert!(contexture_ctxvar::Spares::new().is_empty());
    /// ```
    pub fn new() -> Spares {
        Spares {
            kept: None,
            owed: 0,
        }
    }

    /// Keeps `snapshot` if it holds the same values as those kept (or none are kept); else
    /// hands it back. Empty snapshots are the same values as each other.
    ///
    /// ```
    /// use contexture_ctxvar::{Snapshot, Spares};
    ///
    /// let mut spares = Spares::new();
    /// assert!(spares.push(Snapshot::default()).is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// The snapshot, when it holds other values than those kept.
    #[inline]
    pub fn push(&mut self, snapshot: Snapshot) -> Result<(), Snapshot> {
        match &self.kept {
            None => self.kept = Some(snapshot),
            Some(kept) if kept.same_values(&snapshot) => {
                // Its reference stays counted, owed by us: `release` gives it back.
                std::mem::forget(snapshot);
                self.owed += 1;
            }
            Some(_) => return Err(snapshot),
        }
        Ok(())
    }

    /// Gives back every kept reference but one, in one atomic step, and hands out that
    /// last one (`None` when none is kept): it may be the last handle to its values, so
    /// drop it where a value's panicking `Drop` is caught (or let it resume the panic).
    /// Afterwards none is kept.
    ///
    /// ```
    /// use contexture_ctxvar::{Snapshot, Spares};
    ///
    /// let mut spares = Spares::new();
    /// spares.push(Snapshot::capture()).unwrap();
    /// assert!(spares.release().is_some() && spares.release().is_none());
    /// ```
    #[inline]
    pub fn release(&mut self) -> Option<Snapshot> {
        let kept = self.kept.take()?;
        // SAFETY: `owed` snapshots of `kept`'s very version were forgotten by `push`, and
        // none was given back (`owed` goes to 0 here, and only `push` adds to it while
        // `kept` is this version).
        unsafe { kept.0.give_back(std::mem::take(&mut self.owed)) };
        Some(kept)
    }

    /// Whether `snapshot` holds the values kept here (false when none are kept).
    ///
    /// ```
    /// use contexture_ctxvar::{Snapshot, Spares};
    ///
    /// let mut spares = Spares::new();
    /// assert!(!spares.holds(&Snapshot::capture()));
    /// spares.push(Snapshot::capture()).unwrap();
    /// assert!(spares.holds(&Snapshot::capture()));
    /// ```
    #[inline]
    pub fn holds(&self, snapshot: &Snapshot) -> bool {
        self.kept
            .as_ref()
            .is_some_and(|kept| kept.same_values(snapshot))
    }

    /// How many references are kept.
    ///
    /// ```
    /// assert_eq!(contexture_ctxvar::Spares::new().len(), 0);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.kept.is_some()) + self.owed
    }

    /// Whether none is kept.
    ///
    /// ```
    /// assert!(contexture_ctxvar::Spares::default().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.kept.is_none()
    }
}

impl Drop for Spares {
    /// Gives the references back ([`release`](Spares::release)); the last one's values, if
    /// no one else holds them, are dropped as a [`Snapshot`]'s are.
    fn drop(&mut self) {
        drop(self.release());
    }
}

impl fmt::Debug for Spares {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spares").field("len", &self.len()).finish()
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("vars", &self.0.names())
            .finish()
    }
}

impl Drop for Snapshot {
    /// Drops the values only this snapshot holds (it was the last handle to them), one by
    /// one: a value whose `Drop` panics does not stop the others; the first panic is resumed
    /// afterwards (swallowed while already unwinding: no abort), as for a
    /// [`Context`](crate::Context). A shared or empty snapshot only drops its reference.
    #[inline]
    fn drop(&mut self) {
        current::drop_values(std::mem::take(&mut self.0), current::Unwind::Resume);
    }
}

/// Leaves the fresh context of [`Snapshot::run_keeping_with`], putting an enclosing run's
/// spares back (when `f` unwinds, the context is dropped as by [`Exit`]).
struct ExitKeeping {
    here: Here,
    entered: Entered,
    /// The enclosing run's spares (null: none).
    outer: *mut Spares,
}

impl ExitKeeping {
    #[inline(always)]
    fn leave(&mut self) -> (Map, bool) {
        self.here.leave_restoring(&mut self.entered, self.outer)
    }
}

impl Drop for ExitKeeping {
    fn drop(&mut self) {
        let (map, _) = self.leave();
        // As in `Exit`: outside the borrow, one by one.
        current::drop_values(map, current::Unwind::Resume);
    }
}

/// Leaves the fresh context of [`Snapshot::run`] (also when unwinding) and drops it.
struct Exit {
    here: Here,
    entered: Entered,
}

impl Drop for Exit {
    #[inline]
    fn drop(&mut self) {
        let (map, _) = self.here.leave(&mut self.entered);
        // After the switch back, outside the borrow: a value's `Drop` may use vars. One by
        // one, with a panic resumed after all (swallowed while unwinding: no abort).
        current::drop_values(map, current::Unwind::Resume);
    }
}
