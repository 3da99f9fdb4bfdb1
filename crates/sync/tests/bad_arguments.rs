//! Edge and bad arguments on every public entry point: `Duration::ZERO` and `Duration::MAX`
//! on every timeout method (with the resource free, and taken then freed by another
//! thread), deadlines in the past, `Semaphore` counts at and past `MAX_PERMITS`,
//! `release(0)`, `BoundedSemaphore` bounds 0 and `MAX_PERMITS`, `Barrier` with zero, one
//! and `usize::MAX` parties or a zero / `Duration::MAX` default timeout, `notify(0)` and
//! `notify(usize::MAX)`, queues with `maxsize` `usize::MAX`. Never a panic (except the
//! documented `Semaphore` overflow), never an overflow, never a hang.

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use contexture_sync::{
    Barrier, BoundedSemaphore, Condition, Event, GetError, LifoQueue, Lock, PriorityQueue,
    PutError, Queue, RLock, Semaphore, SemaphoreReleaseError, ZeroParties,
};

mod common;
use common::within_deadline;

/// A deadline already passed (or `now` when the clock cannot go back).
fn past() -> Instant {
    Instant::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or_else(Instant::now)
}

#[test]
fn lock_timeouts() {
    let lock = Arc::new(Lock::new());
    assert!(
        lock.acquire_timeout(Duration::ZERO),
        "free: zero tries once"
    );
    assert!(!lock.acquire_timeout(Duration::ZERO), "held: zero gives up");
    assert!(!lock.acquire_until(past()));
    assert!(lock.lock_timeout(Duration::ZERO).is_none());
    lock.release().unwrap();
    assert!(
        lock.acquire_until(past()),
        "free: a past deadline tries once"
    );
    // Held, then released by another thread: `Duration::MAX` waits for it.
    let other = lock.clone();
    within_deadline("Lock::acquire_timeout(MAX)", move || {
        thread::scope(|s| {
            s.spawn(|| other.release().unwrap());
            assert!(other.acquire_timeout(Duration::MAX));
        });
    });
    assert!(lock.locked());
    lock.release().unwrap();
    let guard = lock.lock_timeout(Duration::MAX).unwrap();
    drop(guard);
    assert!(!lock.locked());
}

#[test]
fn rlock_timeouts() {
    let lock = Arc::new(RLock::new());
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(
        lock.acquire_timeout(Duration::ZERO),
        "re-entered with a zero timeout"
    );
    assert!(lock.acquire_until(past()));
    assert_eq!(lock.recursion_count(), 3);
    let other = lock.clone();
    thread::scope(|s| {
        s.spawn(|| {
            assert!(!other.acquire_timeout(Duration::ZERO), "held elsewhere");
            assert!(!other.acquire_until(past()));
        });
    });
    for _ in 0..3 {
        lock.release().unwrap();
    }
    let other = lock.clone();
    within_deadline("RLock::acquire_timeout(MAX)", move || {
        let guard = other.lock_timeout(Duration::MAX).unwrap();
        drop(guard);
    });
    assert!(!lock.locked());
}

#[test]
fn condition_timeouts_and_notify_counts() {
    let cond = Arc::new(Condition::new());
    {
        let _outer = cond.lock();
        let _inner = cond.lock();
        assert_eq!(cond.wait_timeout(Duration::ZERO), Ok(false));
        assert_eq!(cond.wait_until(past()), Ok(false));
        assert_eq!(cond.wait_for(|| false, Some(Duration::ZERO)), Ok(false));
        assert_eq!(cond.wait_for_until(|| false, past()), Ok(false));
        assert_eq!(cond.wait_for(|| true, Some(Duration::MAX)), Ok(true));
        assert_eq!(cond.inner_lock().recursion_count(), 2, "depth restored");
        assert_eq!(cond.notify(0), Ok(0));
        assert_eq!(cond.notify(usize::MAX), Ok(0));
    }
    // `notify(0)` wakes nobody; `notify(usize::MAX)` wakes the waiter; a `Duration::MAX`
    // wait is an untimed one.
    let c = cond.clone();
    within_deadline("Condition::wait_timeout(MAX)", move || {
        thread::scope(|s| {
            let waiter = s.spawn(|| {
                let _guard = c.lock();
                c.wait_timeout(Duration::MAX)
            });
            loop {
                let _guard = c.lock();
                assert_eq!(c.notify(0), Ok(0));
                if c.notify(usize::MAX).unwrap() == 1 {
                    break;
                }
            }
            assert_eq!(waiter.join().unwrap(), Ok(true));
        });
    });
}

#[test]
fn event_timeouts() {
    let event = Arc::new(Event::new());
    assert!(!event.wait_timeout(Duration::ZERO));
    assert!(!event.wait_until(past()));
    let e = event.clone();
    within_deadline("Event::wait_timeout(MAX)", move || {
        thread::scope(|s| {
            s.spawn(|| e.set());
            assert!(e.wait_timeout(Duration::MAX));
        });
    });
    assert!(event.wait_timeout(Duration::ZERO));
    assert!(event.wait_until(past()));
}

#[test]
fn semaphore_counts_at_the_limits() {
    let sem = Semaphore::new(0);
    assert!(!sem.acquire_timeout(Duration::ZERO));
    assert!(!sem.acquire_until(past()));
    sem.release(0);
    assert_eq!(sem.value(), 0, "release(0) does nothing");
    sem.release(Semaphore::MAX_PERMITS);
    assert_eq!(sem.value(), Semaphore::MAX_PERMITS);
    assert!(sem.acquire_timeout(Duration::ZERO));
    sem.release(1);
    // Past the limit: the documented panic, and the count is unchanged.
    assert!(catch_unwind(AssertUnwindSafe(|| sem.release(1))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| sem.release(usize::MAX))).is_err());
    assert_eq!(sem.value(), Semaphore::MAX_PERMITS);
    assert!(sem.acquire_timeout(Duration::MAX));
    assert_eq!(sem.value(), Semaphore::MAX_PERMITS - 1);
    // A count above the limit at construction: the documented panic.
    assert!(catch_unwind(|| Semaphore::new(usize::MAX)).is_err());
    assert!(catch_unwind(|| Semaphore::new(Semaphore::MAX_PERMITS + 1)).is_err());
    assert!(catch_unwind(|| BoundedSemaphore::new(usize::MAX)).is_err());
    // `Duration::MAX` waits for a release from another thread.
    let sem = Arc::new(Semaphore::new(0));
    let s2 = sem.clone();
    within_deadline("Semaphore::acquire_timeout(MAX)", move || {
        thread::scope(|s| {
            s.spawn(|| s2.release(1));
            assert!(s2.acquire_timeout(Duration::MAX));
        });
    });
    assert_eq!(sem.value(), 0);
}

#[test]
fn bounded_semaphore_edge_bounds() {
    let zero = BoundedSemaphore::new(0);
    assert!(!zero.try_acquire());
    assert!(!zero.acquire_timeout(Duration::ZERO));
    assert_eq!(zero.release(0), Ok(()));
    assert_eq!(zero.release(1), Err(SemaphoreReleaseError::TooMany));
    assert_eq!(
        zero.release(usize::MAX),
        Err(SemaphoreReleaseError::TooMany)
    );
    assert_eq!(zero.value(), 0);

    let max = BoundedSemaphore::new(Semaphore::MAX_PERMITS);
    assert_eq!(max.release(1), Err(SemaphoreReleaseError::TooMany));
    assert!(max.acquire_timeout(Duration::MAX));
    assert_eq!(max.release(usize::MAX), Err(SemaphoreReleaseError::TooMany));
    assert_eq!(max.release(2), Err(SemaphoreReleaseError::TooMany));
    assert_eq!(
        max.value(),
        Semaphore::MAX_PERMITS - 1,
        "refusals change nothing"
    );
    assert_eq!(max.release(1), Ok(()));
    assert_eq!(max.value(), Semaphore::MAX_PERMITS);
    // A permit guard of a bound-0 semaphore cannot exist; of a full one, releases cleanly.
    drop(max.permit());
    assert_eq!(max.value(), Semaphore::MAX_PERMITS);
}

#[test]
fn barrier_parties_and_default_timeouts() {
    assert_eq!(Barrier::new(0).unwrap_err(), ZeroParties);
    assert!(Barrier::builder(0).action(|| {}).build().is_err());
    let one = Barrier::new(1).unwrap();
    assert_eq!(
        one.wait_timeout(Duration::ZERO).unwrap(),
        0,
        "the last party never waits"
    );
    assert_eq!(one.wait_until(past()).unwrap(), 0);

    // `usize::MAX` parties: accepted; a waiter with a zero timeout breaks it at once.
    let huge = Barrier::new(usize::MAX).unwrap();
    assert_eq!(huge.parties(), usize::MAX);
    assert!(huge.wait_timeout(Duration::ZERO).is_err());
    assert!(huge.is_broken());
    assert_eq!(huge.n_waiting(), 0);
    huge.reset();
    assert!(!huge.is_broken());
    assert!(huge.wait_until(past()).is_err());

    // A zero default timeout: `wait` gives up at once (and breaks it); a `Duration::MAX`
    // default timeout means none.
    let zero = Barrier::builder(2).timeout(Duration::ZERO).build().unwrap();
    assert!(zero.wait().is_err());
    assert!(zero.is_broken());
    let forever = Arc::new(Barrier::builder(2).timeout(Duration::MAX).build().unwrap());
    let f = forever.clone();
    within_deadline("Barrier with a Duration::MAX default timeout", move || {
        thread::scope(|s| {
            let other = s.spawn(|| f.wait().unwrap());
            let mine = f.wait().unwrap();
            assert_eq!(mine + other.join().unwrap(), 1);
        });
    });
}

/// Each queue kind with `maxsize` `usize::MAX` (as good as unbounded, no overflow in
/// `full`), and every timeout form with zero, `Duration::MAX` and a past deadline.
#[test]
fn queue_maxsize_and_timeouts() {
    let q = Queue::new(usize::MAX);
    assert_eq!(q.maxsize(), usize::MAX);
    assert!(!q.full());
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
    assert_eq!(q.get_until(past()), Err(GetError::Empty));
    assert_eq!(q.put_timeout(1, Duration::ZERO), Ok(()));
    assert_eq!(q.put_until(2, past()), Ok(()));
    assert_eq!(q.put_timeout(3, Duration::MAX), Ok(()));
    assert!(!q.full());
    assert_eq!(q.get_timeout(Duration::MAX), Ok(1));
    assert_eq!(q.get_until(past()), Ok(2));
    assert_eq!(q.get_timeout(Duration::ZERO), Ok(3));
    let lifo = LifoQueue::new(usize::MAX);
    lifo.put(1).unwrap();
    assert!(!lifo.full());
    let prio = PriorityQueue::new(usize::MAX);
    prio.put(1).unwrap();
    assert!(!prio.full());

    // Full: zero and past deadlines refuse at once and hand the item back.
    let q = Arc::new(Queue::new(1));
    q.put(0).unwrap();
    assert_eq!(q.put_timeout(1, Duration::ZERO), Err(PutError::Full(1)));
    assert_eq!(q.put_until(2, past()), Err(PutError::Full(2)));
    // `Duration::MAX` waits for room made by another thread, and for an item.
    let q2 = q.clone();
    within_deadline("Queue put/get with Duration::MAX", move || {
        thread::scope(|s| {
            s.spawn(|| assert_eq!(q2.get_timeout(Duration::MAX), Ok(0)));
            assert_eq!(q2.put_timeout(3, Duration::MAX), Ok(()));
        });
        thread::scope(|s| {
            let getter = s.spawn(|| (q2.get_timeout(Duration::MAX), q2.get_timeout(Duration::MAX)));
            q2.put_timeout(4, Duration::MAX).unwrap();
            assert_eq!(getter.join().unwrap(), (Ok(3), Ok(4)));
        });
    });
    // Shut down: every form, any timeout, fails at once with the item back.
    q.shutdown(false);
    assert_eq!(q.put_timeout(5, Duration::MAX), Err(PutError::ShutDown(5)));
    assert_eq!(q.put_timeout(6, Duration::ZERO), Err(PutError::ShutDown(6)));
    assert_eq!(q.get_timeout(Duration::MAX), Err(GetError::ShutDown));
    assert_eq!(q.get_until(past()), Err(GetError::ShutDown));
}
