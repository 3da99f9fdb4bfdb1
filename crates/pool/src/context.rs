//! Carrying the submitter's context into a job: a copy taken at `submit`, entered while the
//! job runs, so that what the job sets stays in its own copy.

use contexture_ctxvar::{copy_context, Context};

/// The context captured for one job, or nothing when propagation is off.
pub(crate) struct Captured(Option<Context>);

impl Captured {
    /// Takes a copy of the calling thread's current context (O(1)).
    #[inline]
    pub(crate) fn capture(enabled: bool) -> Captured {
        Captured(enabled.then(copy_context))
    }

    /// Runs `f` inside the captured context (or as is, when none was captured). The copy
    /// belongs to this job alone, so it is entered with `run_mut`: no entered flag to set,
    /// and it cannot be refused.
    #[inline]
    pub(crate) fn run<T>(self, f: impl FnOnce() -> T) -> T {
        match self.0 {
            Some(mut context) => context.run_mut(f),
            None => f(),
        }
    }
}
