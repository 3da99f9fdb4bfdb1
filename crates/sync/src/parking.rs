//! The parking layer every blocking call goes through: a FIFO queue of parked threads per
//! address, with per-waiter tokens and deadlines. `parking_lot_core` in production; under
//! `cfg(contexture_loom)` a small parking lot built from loom's `Mutex` and `Condvar`, with
//! the same contract, so that the protocols above it run unchanged in the models.
//!
//! The contract (that of `parking_lot_core`, which is what production runs):
//!
//! - [`park`] locks the queue of `key`, runs `validate`; if it returns `false` the call
//!   returns [`ParkResult::Invalid`]. Otherwise the thread is appended to the queue, the queue
//!   is unlocked, `before_sleep` runs, and the thread sleeps until an unpark removes it from
//!   the queue ([`ParkResult::Unparked`] with the unparker's token) or the deadline passes
//!   (it removes itself under the queue lock and runs `timed_out(key, was_last_thread)`
//!   there, then returns [`ParkResult::TimedOut`]). Nothing else wakes it: no spurious
//!   wakeups. A thread that was removed by an unpark always returns `Unparked`, even if its
//!   deadline passed meanwhile.
//! - [`unpark_one`] / [`unpark_filter`] remove threads from the head of the queue (FIFO) and
//!   run `callback` under the queue lock before waking them.
//! - [`unpark_requeue`] moves threads from one key's queue to the tail of another's without
//!   waking them (a condition variable hands its notified waiters to the lock this way, so
//!   they wake once, when the lock is released to them); a requeued thread that times out
//!   runs `timed_out` with the key it is parked on *now*.
//!
//! Later primitives (`Semaphore`, `Event`, `Barrier`, queues) park on the address of one of
//! their own fields through this module too.

use std::time::Instant;

pub(crate) use parking_lot_core::{
    FilterOp, ParkResult, ParkToken, RequeueOp, UnparkResult, UnparkToken, DEFAULT_PARK_TOKEN,
    DEFAULT_UNPARK_TOKEN,
};

/// Parks the current thread in the queue for `key` (see the module docs).
///
/// # Safety
///
/// `key` must be the address of a field of an object the caller controls (so that no other
/// primitive uses it). `validate` and `timed_out` run under the queue lock and must not
/// panic nor call into this module; `before_sleep` may unpark but must not park or panic.
#[inline]
pub(crate) unsafe fn park(
    key: usize,
    validate: impl FnOnce() -> bool,
    before_sleep: impl FnOnce(),
    timed_out: impl FnOnce(usize, bool),
    token: ParkToken,
    deadline: Option<Instant>,
) -> ParkResult {
    #[cfg(not(contexture_loom))]
    // SAFETY: the caller upholds `parking_lot_core::park`'s contract, which is ours.
    unsafe {
        parking_lot_core::park(key, validate, before_sleep, timed_out, token, deadline)
    }
    #[cfg(contexture_loom)]
    model::park(key, validate, before_sleep, timed_out, token, deadline)
}

/// Parks on a primitive's own state word at `key` for as long as that word shows "nothing
/// available, somebody parked" (`only_parked`), the shape `Event` and `Semaphore` share;
/// the last waiter to time out takes the parked flag back with `clear_parked`.
///
/// # Safety
///
/// As for [`park`]: a key the caller controls; `only_parked` and `clear_parked` run under the
/// queue lock, so they must only use atomics on that word (no panic, no parking).
#[inline]
pub(crate) unsafe fn park_while_only_parked(
    key: usize,
    only_parked: impl FnOnce() -> bool,
    clear_parked: impl FnOnce(),
    token: ParkToken,
    deadline: Option<Instant>,
) -> ParkResult {
    let timed_out = |_, was_last_thread: bool| {
        if was_last_thread {
            clear_parked();
        }
    };
    // SAFETY: forwarded from the caller; `timed_out` only calls `clear_parked`.
    unsafe { park(key, only_parked, || {}, timed_out, token, deadline) }
}

/// Unparks the first thread parked on `key`, if any; `callback` sees the result and returns
/// the token handed to that thread.
///
/// # Safety
///
/// As for [`park`]: a key the caller controls; `callback` must not panic nor call into this
/// module.
#[inline]
pub(crate) unsafe fn unpark_one(
    key: usize,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> UnparkResult {
    #[cfg(not(contexture_loom))]
    // SAFETY: the caller upholds `parking_lot_core::unpark_one`'s contract, which is ours.
    unsafe {
        parking_lot_core::unpark_one(key, callback)
    }
    #[cfg(contexture_loom)]
    {
        let mut first = true;
        model::unpark_filter(
            key,
            |_| {
                if std::mem::take(&mut first) {
                    FilterOp::Unpark
                } else {
                    FilterOp::Stop
                }
            },
            callback,
        )
    }
}

/// Walks the threads parked on `key` from the head of the queue, unparking those `filter`
/// says to; `callback` sees the result and returns the token handed to every unparked one.
///
/// # Safety
///
/// As for [`park`]: a key the caller controls; `filter` and `callback` must not panic nor
/// call into this module.
#[inline]
pub(crate) unsafe fn unpark_filter(
    key: usize,
    filter: impl FnMut(ParkToken) -> FilterOp,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> UnparkResult {
    #[cfg(not(contexture_loom))]
    // SAFETY: the caller upholds `parking_lot_core::unpark_filter`'s contract, which is ours.
    unsafe {
        parking_lot_core::unpark_filter(key, filter, callback)
    }
    #[cfg(contexture_loom)]
    model::unpark_filter(key, filter, callback)
}

/// Under both queue locks, runs `validate` to choose a [`RequeueOp`], then unparks and/or
/// moves threads from `key_from` to the tail of `key_to` (FIFO kept); `callback` sees the
/// operation and the result and returns the token for an unparked thread.
///
/// # Safety
///
/// As for [`park`]: keys the caller controls; `validate` and `callback` must not panic nor
/// call into this module.
#[inline]
pub(crate) unsafe fn unpark_requeue(
    key_from: usize,
    key_to: usize,
    validate: impl FnOnce() -> RequeueOp,
    callback: impl FnOnce(RequeueOp, UnparkResult) -> UnparkToken,
) -> UnparkResult {
    #[cfg(not(contexture_loom))]
    // SAFETY: the caller upholds `parking_lot_core::unpark_requeue`'s contract, which is ours.
    unsafe {
        parking_lot_core::unpark_requeue(key_from, key_to, validate, callback)
    }
    #[cfg(contexture_loom)]
    model::unpark_requeue(key_from, key_to, validate, callback)
}

/// Makes every later unpark in this loom execution report `be_fair` (for the fairness
/// hand-off path, which `parking_lot_core` takes about every 0.5 ms).
#[cfg(all(test, contexture_loom))]
pub(crate) fn set_fair_for_loom(fair: bool) {
    model::STATE.lock().unwrap().fair = fair;
}

/// How many threads are parked on `key` in this loom execution (for models that must
/// know a waiter is really asleep before they act).
#[cfg(all(test, contexture_loom))]
pub(crate) fn parked_for_loom(key: usize) -> usize {
    model::STATE
        .lock()
        .unwrap()
        .queue
        .iter()
        .filter(|p| p.key == key)
        .count()
}

/// The loom parking lot: one queue for all keys under a loom `Mutex`, one slot per parked
/// thread. Loom has no clock, so a timed park times out at the first moment it can: right
/// after `before_sleep`, unless an unpark removed it from the queue first. Loom explores
/// every interleaving of that moment with the unparkers, which is the race that matters.
#[cfg(contexture_loom)]
mod model {
    use std::collections::VecDeque;
    use std::time::Instant;

    use super::{FilterOp, ParkResult, ParkToken, RequeueOp, UnparkResult, UnparkToken};
    use crate::loom::{Arc, Condvar, Mutex};

    /// What an unparker hands a parked thread.
    struct Slot {
        woken: Mutex<Option<UnparkToken>>,
        cv: Condvar,
    }

    pub(super) struct Parked {
        pub(super) key: usize,
        token: ParkToken,
        slot: Arc<Slot>,
    }

    pub(super) struct State {
        pub(super) queue: VecDeque<Parked>,
        pub(super) fair: bool,
    }

    loom::lazy_static! {
        pub(super) static ref STATE: Mutex<State> =
            Mutex::new(State { queue: VecDeque::new(), fair: false });
    }

    pub(super) fn park(
        key: usize,
        validate: impl FnOnce() -> bool,
        before_sleep: impl FnOnce(),
        timed_out: impl FnOnce(usize, bool),
        token: ParkToken,
        deadline: Option<Instant>,
    ) -> ParkResult {
        let mut state = STATE.lock().unwrap();
        if !validate() {
            return ParkResult::Invalid;
        }
        let slot = Arc::new(Slot {
            woken: Mutex::new(None),
            cv: Condvar::new(),
        });
        state.queue.push_back(Parked {
            key,
            token,
            slot: slot.clone(),
        });
        drop(state);
        before_sleep();
        if deadline.is_some() {
            let mut state = STATE.lock().unwrap();
            if let Some(at) = state.queue.iter().position(|p| Arc::ptr_eq(&p.slot, &slot)) {
                // The key it is parked on now: it may have been requeued.
                let key = state.queue.remove(at).unwrap().key;
                let was_last = !state.queue.iter().any(|p| p.key == key);
                timed_out(key, was_last);
                return ParkResult::TimedOut;
            }
        }
        let mut woken = slot.woken.lock().unwrap();
        loop {
            if let Some(token) = woken.take() {
                return ParkResult::Unparked(token);
            }
            woken = slot.cv.wait(woken).unwrap();
        }
    }

    pub(super) fn unpark_filter(
        key: usize,
        mut filter: impl FnMut(ParkToken) -> FilterOp,
        callback: impl FnOnce(UnparkResult) -> UnparkToken,
    ) -> UnparkResult {
        let mut state = STATE.lock().unwrap();
        let mut unparked = Vec::new();
        let mut at = 0;
        while at < state.queue.len() {
            if state.queue[at].key != key {
                at += 1;
                continue;
            }
            match filter(state.queue[at].token) {
                FilterOp::Unpark => unparked.push(state.queue.remove(at).unwrap().slot),
                FilterOp::Skip => at += 1,
                FilterOp::Stop => break,
            }
        }
        // `UnparkResult` has a private field, so it can only be built from its default.
        #[allow(clippy::field_reassign_with_default)]
        let mut result = UnparkResult::default();
        result.unparked_threads = unparked.len();
        // As in `parking_lot_core`: whether threads remain queued on the key (a filter that
        // stops or skips at a thread leaves it there, even when nothing was unparked).
        result.have_more_threads = state.queue.iter().any(|p| p.key == key);
        result.be_fair = state.fair && !unparked.is_empty();
        let token = callback(result);
        drop(state);
        for slot in unparked {
            *slot.woken.lock().unwrap() = Some(token);
            slot.cv.notify_one();
        }
        result
    }

    pub(super) fn unpark_requeue(
        key_from: usize,
        key_to: usize,
        validate: impl FnOnce() -> RequeueOp,
        callback: impl FnOnce(RequeueOp, UnparkResult) -> UnparkToken,
    ) -> UnparkResult {
        let mut state = STATE.lock().unwrap();
        // `UnparkResult` has a private field, so it can only be built from its default.
        #[allow(clippy::field_reassign_with_default)]
        let mut result = UnparkResult::default();
        let op = validate();
        if op == RequeueOp::Abort {
            return result;
        }
        let mut unparked = None;
        let mut moved = Vec::new();
        let mut at = 0;
        while at < state.queue.len() {
            if state.queue[at].key != key_from {
                at += 1;
                continue;
            }
            let mut parked = state.queue.remove(at).unwrap();
            let wake = matches!(op, RequeueOp::UnparkOneRequeueRest | RequeueOp::UnparkOne);
            if wake && unparked.is_none() {
                unparked = Some(parked.slot);
            } else {
                parked.key = key_to;
                moved.push(parked);
            }
            if matches!(op, RequeueOp::UnparkOne | RequeueOp::RequeueOne) {
                break;
            }
        }
        result.unparked_threads = usize::from(unparked.is_some());
        result.requeued_threads = moved.len();
        state.queue.extend(moved);
        result.have_more_threads = state.queue.iter().any(|p| p.key == key_from);
        let token = callback(op, result);
        drop(state);
        if let Some(slot) = unparked {
            *slot.woken.lock().unwrap() = Some(token);
            slot.cv.notify_one();
        }
        result
    }
}

/// The deadline `timeout` from now, or `None` ("forever") when it lies past what `Instant`
/// can hold (`Duration::MAX` and friends): never panics, never overflows.
#[inline]
pub(crate) fn deadline_after(timeout: std::time::Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}
