//! The gate of the pool's lock-free submit path: submits under way on it are counted, and
//! closing it (at shutdown, or when the pool breaks) waits for them, so that whoever closes
//! it then sees every job ever accepted on that path.

use crate::loom::{yield_now, AtomicUsize, Ordering};

/// No more submits on the fast path.
const CLOSED: usize = 1;
/// One submit on the fast path under way.
const IN_FLIGHT: usize = 2;

/// `IN_FLIGHT` per submit under way on the fast path, plus `CLOSED`.
pub(crate) struct Gate(AtomicUsize);

/// A submit under way on the fast path; dropping it, after queueing the job, lets a closer
/// of the gate go on.
pub(crate) struct Pass<'a>(&'a Gate);

impl Gate {
    pub(crate) fn new() -> Gate {
        Gate(AtomicUsize::new(0))
    }

    /// Enters the fast path; `None` once the gate is closed (the caller takes the locked
    /// path, which refuses the submit).
    #[inline]
    pub(crate) fn enter(&self) -> Option<Pass<'_>> {
        // Relaxed: nothing is read on the strength of it (a closed gate is only a refusal);
        // the increment's place in the modification order is what matters (see `close`).
        let pass = Pass(self);
        if self.0.fetch_add(IN_FLIGHT, Ordering::Relaxed) & CLOSED == 0 {
            Some(pass)
        } else {
            None // (dropping `pass` takes the increment back)
        }
    }

    /// Closes the gate and waits until every submit under way on it has dropped its pass.
    ///
    /// A fast submit's increment comes either before `CLOSED` in the modification order of
    /// the counter (then this waits for its decrement, whose Release publishes everything
    /// it did, its queued job included) or after (then it sees `CLOSED` and is refused).
    pub(crate) fn close(&self) {
        self.0.fetch_or(CLOSED, Ordering::AcqRel);
        // Acquire: pairs with the Release decrement of each pass.
        while self.0.load(Ordering::Acquire) != CLOSED {
            // A submit on the fast path only allocates and queues a job: never for long.
            yield_now();
        }
    }
}

impl Drop for Pass<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: publishes the submit's work to a closer that sees the count drop.
        self.0 .0.fetch_sub(IN_FLIGHT, Ordering::Release);
    }
}
