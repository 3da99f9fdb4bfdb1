//! The count of idle workers that no submit has claimed yet (Python's `_idle_semaphore`):
//! a submit that claims one starts no worker, so a worker that counted itself idle must not
//! then run user code that could wait for the job of such a submit (see
//! [`Idle::take_back`]).

use crate::loom::{AtomicUsize, Ordering};

/// Idle workers not claimed yet.
pub(crate) struct Idle(AtomicUsize);

impl Idle {
    pub(crate) fn new() -> Idle {
        Idle(AtomicUsize::new(0))
    }

    /// A worker counts itself idle.
    pub(crate) fn add(&self) {
        // AcqRel: the count is the only shared datum; a read-modify-write keeps every token.
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// Claims an idle worker for a new job, if there is one: then the caller starts none.
    pub(crate) fn claim(&self) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Before a worker that counted itself idle runs user code: `true` when it took a token
    /// back (no submit can count on it meanwhile; it calls [`add`](Idle::add) afterwards);
    /// `false` when every token is claimed, so a queued job counts on this worker and the
    /// user code may wait for it: the caller starts the worker that submit would have.
    pub(crate) fn take_back(&self) -> bool {
        self.claim()
    }
}
