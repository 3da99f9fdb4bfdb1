//! Carrying the submitter's context into a job: its values captured at `submit`, run in a
//! fresh context of their own, so that what the job sets stays in the job.

use contexture_ctxvar::{Snapshot, Spares};

use crate::error::catch;

/// The context captured for one job: one pointer (empty when propagation is off, which
/// the pool passes to [`Captured::run`] rather than storing it in every job).
pub(crate) struct Captured(Snapshot);

impl Captured {
    /// Captures the calling thread's current context (O(1): one pointer, one reference
    /// count when it holds values), if `enabled`.
    #[inline]
    pub(crate) fn capture(enabled: bool) -> Captured {
        Captured(if enabled {
            Snapshot::capture()
        } else {
            Snapshot::default()
        })
    }

    /// With `enabled` (as given to `capture`), runs `f` in a fresh context holding the
    /// captured values, dropped afterwards with what `f` set in it; else runs `f` as is, in
    /// the worker's own context. A [`Snapshot`] rather than a `Context` copy: one pointer
    /// instead of 56 bytes in every job, and no entered flag.
    ///
    /// The reference to the captured values goes to `kept` when `f` set nothing (see
    /// [`Kept`], and `more` there); values of another version that `kept` held are dropped
    /// before `f` runs.
    #[inline]
    pub(crate) fn run<T>(
        self,
        enabled: bool,
        kept: &mut Kept,
        more: &mut dyn FnMut() -> bool,
        f: impl FnOnce() -> T,
    ) -> T {
        if !enabled {
            return f();
        }
        kept.before(&self.0);
        // The run holds the kept references: a write in the job lets them go first.
        let (out, back) = self.0.run_keeping_with(&mut kept.0, f);
        kept.keep(back, more);
        out
    }
}

/// A worker's references to the captured values of the jobs it ended, while they are all
/// the same version and more jobs are queued: dropped together, when a job ends with
/// nothing queued after it or with somebody waiting for it or a done callback registered
/// on it (before its waiters are released: their code may wait for the values to go), when
/// a job with other values comes (before it runs), when [`Kept::MAX`] are held, and before
/// the worker waits for work or exits ([`Kept::release`]).
///
/// So when the last job of a burst is done, whatever only the burst's contexts held is
/// gone before its `result()` returns, as when each job dropped its own. While more jobs
/// are queued, a held reference can outlive its job by a little: until the worker starts
/// the next job, when that job carries other values; when it carries the same ones, they
/// are lent to its run ([`Snapshot::run_keeping_with`]), whose first write drops them, so
/// that a value the job replaces is dropped at that write as it would be without them.
///
/// A job's values are counted by the submitting thread (at `submit`) and, without this, the
/// count was decremented by the worker at the job's end: one cache line moving between
/// cores per job (measured: a job with a request id set cost 2.6× an empty-context one in a
/// fresh process). Held here, the references of a run of jobs go back in one atomic
/// subtraction ([`Spares::release`]): one write to that line per run, not one per job.
pub(crate) struct Kept(Spares);

impl Kept {
    /// References held at most before they are dropped together.
    const MAX: usize = 64;

    pub(crate) fn new() -> Kept {
        Kept(Spares::new())
    }

    /// Whether nothing is held.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Before a job with `next` runs: drops what is held unless it is `next`'s version.
    #[inline]
    fn before(&mut self, next: &Snapshot) {
        if !self.0.is_empty() && !self.0.holds(next) {
            self.release();
        }
    }

    /// Holds `back`, the reference a job's run handed back (an empty one costs nothing to
    /// drop and is not held), unless no more jobs are queued (`more`, which may take the
    /// next one off the queue for this worker): then everything held goes now, before the
    /// job's waiters are released.
    #[inline]
    fn keep(&mut self, back: Snapshot, more: &mut dyn FnMut() -> bool) {
        // Compared by address, without reading the version (`is_empty` would pull its
        // cache line from the submitter).
        if back.same_values(&Snapshot::default()) {
            return;
        }
        if !more() {
            self.release();
            let _ = catch(move || drop(back));
            return;
        }
        if self.0.len() >= Kept::MAX {
            self.release();
        }
        if let Err(other) = self.0.push(back) {
            // Other values than those held (the run's write gave them back): the held ones
            // go, these stay.
            self.release();
            let _ = self.0.push(other);
        }
    }

    /// Drops everything held: all references but one are given back in one atomic step,
    /// and the last one (the last handle to its values, when the jobs' submitter moved on)
    /// is dropped with a value's panicking `Drop` caught and reported by the panic hook.
    pub(crate) fn release(&mut self) {
        if let Some(last) = self.0.release() {
            let _ = catch(move || drop(last));
        }
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        self.release();
    }
}
