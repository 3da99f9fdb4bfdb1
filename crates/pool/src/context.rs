//! Carrying the submitter's context into a job: its values captured at `submit`, run in a
//! fresh context of their own, so that what the job sets stays in the job.

use contexture_ctxvar::Snapshot;

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
    /// [`Kept`]); values of another version that `kept` held are dropped before `f` runs.
    #[inline]
    pub(crate) fn run<T>(self, enabled: bool, kept: &mut Kept, f: impl FnOnce() -> T) -> T {
        if !enabled {
            return f();
        }
        kept.before(&self.0);
        let (out, back) = self.0.run_keeping(f);
        kept.keep(back);
        out
    }
}

/// A worker's references to the captured values of the jobs it ended, while they are all
/// the same version and the next job carries it too: dropped together, when a job with
/// other values comes, when [`Kept::MAX`] are held, before a job that somebody waits for or
/// registered a done callback on ends (their code may wait for the values to go), and
/// before the worker waits for work or exits ([`Kept::release`]).
///
/// A job's values are counted by the submitting thread (at `submit`) and, without this, the
/// count was decremented by the worker at the job's end: one cache line moving between
/// cores per job (measured: a job with a request id set cost 2.6× an empty-context one in a
/// fresh process). While it holds references to a version, the job running next holds one
/// too, unless that job writes: its first write then copies the version instead of writing
/// in place, and a value it overwrote stays here until the job ends (an open problem: see
/// the ignored test `a_value_a_job_overwrote_is_dropped_while_the_job_still_runs`).
pub(crate) struct Kept(Vec<Snapshot>);

impl Kept {
    /// References held at most before they are dropped together.
    const MAX: usize = 64;

    pub(crate) fn new() -> Kept {
        Kept(Vec::new())
    }

    /// Whether nothing is held.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Before a job with `next` runs: drops what is held unless it is `next`'s version.
    #[inline]
    fn before(&mut self, next: &Snapshot) {
        if self.0.first().is_some_and(|held| !held.same_values(next)) {
            self.release();
        }
    }

    /// Holds `back`, the reference a job's run handed back (an empty one costs nothing to
    /// drop and is not held).
    #[inline]
    fn keep(&mut self, back: Snapshot) {
        if back.same_values(&Snapshot::default()) {
            return;
        }
        if self.0.len() >= Kept::MAX || self.0.first().is_some_and(|h| !h.same_values(&back)) {
            self.release();
        }
        self.0.push(back);
    }

    /// Drops everything held, each reference on its own: a value's `Drop` that panics (the
    /// last reference to a version goes here) is caught and reported by the panic hook,
    /// and the others are still dropped.
    pub(crate) fn release(&mut self) {
        for held in self.0.drain(..) {
            let _ = catch(move || drop(held));
        }
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        self.release();
    }
}
