//! Carrying the submitter's context into a job: a copy taken at `submit`, entered while the
//! job runs, so that what the job sets stays in its own copy.

use contexture_ctxvar::{copy_context, Context};

/// The context captured for one job, or nothing when propagation is off.
pub(crate) struct Captured(Option<Context>);

impl Captured {
    /// Takes a copy of the calling thread's current context (O(1)).
    pub(crate) fn capture(enabled: bool) -> Captured {
        Captured(enabled.then(copy_context))
    }

    /// Runs `f` inside the captured context (or as is, when none was captured).
    pub(crate) fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let Some(context) = &self.0 else {
            return f();
        };
        let mut job = Some(f);
        let mut out = None;
        // The copy belongs to this job alone, so it is never entered elsewhere and `run`
        // does not refuse it. Were it ever refused, the job would still run, outside it.
        let _ = context.run(|| out = job.take().map(|f| f()));
        match (out, job) {
            (Some(out), _) => out,
            (None, Some(f)) => f(),
            (None, None) => unreachable!("the job ran but produced nothing"),
        }
    }
}
