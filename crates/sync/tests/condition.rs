//! `Condition`: ownership errors, full release and restore of an `RLock`'s depth, FIFO
//! wake-up order, exactly `n` for `notify(n)`, no spurious wakeups, timeouts, `wait_for`,
//! conditions over a shared `Lock`/`RLock`, and notifications racing timeouts.

// Under loom only the in-crate models build (statics need `const fn new`).
#![cfg(not(contexture_loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use contexture_sync::{Condition, ConditionError, ConditionLock, Lock, RLock};

const SHORT: Duration = Duration::from_millis(50);

/// Spins (taking the lock each time) until `done` holds under the lock.
fn until<L: ConditionLock>(cond: &Condition<L>, mut done: impl FnMut() -> bool) {
    loop {
        let _guard = cond.lock();
        if done() {
            return;
        }
        drop(_guard);
        thread::yield_now();
    }
}

#[test]
fn wait_and_notify_need_the_lock() {
    let cond = Condition::new();
    assert_eq!(cond.wait(), Err(ConditionError::NotHeld));
    assert_eq!(cond.wait_timeout(SHORT), Err(ConditionError::NotHeld));
    assert_eq!(cond.wait_for(|| true, None), Err(ConditionError::NotHeld));
    assert_eq!(cond.notify(1), Err(ConditionError::NotHeld));
    assert_eq!(cond.notify_all(), Err(ConditionError::NotHeld));
    let _guard = cond.lock();
    thread::scope(|s| {
        // Held, but by another thread: still an error for an RLock.
        s.spawn(|| {
            assert_eq!(cond.notify(1), Err(ConditionError::NotHeld));
            assert_eq!(cond.wait(), Err(ConditionError::NotHeld));
        });
    });
    assert_eq!(cond.notify(1), Ok(0));
}

#[test]
fn over_a_plain_lock_held_by_anyone_counts() {
    let lock = Arc::new(Lock::new());
    let cond = Condition::with_lock(Arc::clone(&lock));
    assert_eq!(cond.notify(1), Err(ConditionError::NotHeld));
    lock.acquire();
    thread::scope(|s| {
        s.spawn(|| assert_eq!(cond.notify_all(), Ok(0)));
    });
    assert_eq!(cond.wait_timeout(Duration::ZERO), Ok(false));
    assert!(lock.locked(), "re-acquired after the wait");
    lock.release().unwrap();
}

#[test]
fn waiting_releases_every_level_and_restores_the_depth() {
    let cond = Arc::new(Condition::new());
    let flag = Arc::new(AtomicUsize::new(0));
    let (c, f) = (Arc::clone(&cond), Arc::clone(&flag));
    let waiter = thread::spawn(move || {
        let _a = c.lock();
        let _b = c.lock();
        c.acquire();
        assert_eq!(c.inner_lock().recursion_count(), 3);
        f.store(1, Ordering::Relaxed);
        while f.load(Ordering::Relaxed) != 2 {
            c.wait().unwrap();
        }
        assert_eq!(c.inner_lock().recursion_count(), 3);
        c.release().unwrap();
    });
    until(&cond, || flag.load(Ordering::Relaxed) == 1);
    // We got the lock while the waiter held three levels: wait released them all.
    {
        let _guard = cond.lock();
        assert_eq!(cond.inner_lock().recursion_count(), 1);
        flag.store(2, Ordering::Relaxed);
        cond.notify(1).unwrap();
    }
    waiter.join().unwrap();
    assert!(!cond.inner_lock().locked());
}

#[test]
fn waiters_wake_in_fifo_order_exactly_n_at_a_time() {
    let n = if cfg!(miri) { 5 } else { 7 };
    let cond = Condition::new();
    let queued = AtomicUsize::new(0);
    let woken = Mutex::new(Vec::new());
    let notify_and_see = |k: usize, total: usize| {
        {
            let _guard = cond.lock();
            assert_eq!(cond.notify(k), Ok(k));
        }
        until(&cond, || woken.lock().unwrap().len() == total);
    };
    thread::scope(|s| {
        for id in 0..n {
            let (cond, queued, woken) = (&cond, &queued, &woken);
            s.spawn(move || {
                let _guard = cond.lock();
                queued.fetch_add(1, Ordering::Relaxed);
                cond.wait().unwrap();
                woken.lock().unwrap().push(id);
            });
            // Once we hold the lock and see the waiter counted, it has queued and released.
            until(cond, || queued.load(Ordering::Relaxed) == id + 1);
        }
        notify_and_see(1, 1);
        notify_and_see(1, 2);
        notify_and_see(2, 4);
        // No spurious wakeups: the rest keep waiting until notified.
        thread::sleep(SHORT);
        assert_eq!(woken.lock().unwrap().len(), 4);
        let _guard = cond.lock();
        assert_eq!(cond.notify_all(), Ok(n - 4));
        assert_eq!(cond.notify_all(), Ok(0));
    });
    let mut woken = woken.into_inner().unwrap();
    assert_eq!(&woken[..2], &[0, 1], "FIFO, one at a time");
    woken[2..4].sort_unstable();
    assert_eq!(&woken[2..4], &[2, 3], "FIFO, two at a time");
    assert_eq!(woken.len(), n);
}

#[test]
fn wait_timeout_within_wide_bounds_and_relocks() {
    let cond = Condition::new();
    let _a = cond.lock();
    let _b = cond.lock();
    let start = Instant::now();
    assert_eq!(cond.wait_timeout(SHORT), Ok(false));
    let waited = start.elapsed();
    assert!(
        waited >= SHORT.mul_f64(0.6) && waited < SHORT * 10,
        "{waited:?}"
    );
    assert_eq!(cond.inner_lock().recursion_count(), 2);
    assert_eq!(cond.wait_until(Instant::now()), Ok(false));
    assert_eq!(cond.wait_timeout(Duration::ZERO), Ok(false));
    let start = Instant::now();
    assert_eq!(cond.wait_for(|| false, Some(SHORT)), Ok(false));
    assert!(start.elapsed() >= SHORT.mul_f64(0.6));
    assert_eq!(
        cond.wait_for_until(|| false, Instant::now() + SHORT),
        Ok(false)
    );
}

#[test]
fn timed_wait_returns_true_when_notified() {
    let cond = Condition::new();
    let ready = AtomicUsize::new(0);
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            let _guard = cond.lock();
            ready.store(1, Ordering::Relaxed);
            cond.wait_timeout(Duration::MAX).unwrap()
        });
        until(&cond, || ready.load(Ordering::Relaxed) == 1);
        let _guard = cond.lock();
        assert_eq!(cond.notify(1), Ok(1));
        drop(_guard);
        assert!(waiter.join().unwrap());
    });
}

#[test]
fn wait_for_returns_the_last_predicate_value() {
    let cond = Arc::new(Condition::with_lock(Arc::new(RLock::new())));
    let value = Arc::new(AtomicUsize::new(0));
    let (c, v) = (Arc::clone(&cond), Arc::clone(&value));
    let setter = thread::spawn(move || {
        for i in 1..=5 {
            let _guard = c.lock();
            v.store(i, Ordering::Relaxed);
            c.notify_all().unwrap();
        }
    });
    let _guard = cond.lock();
    let mut calls = 0;
    let got = cond.wait_for(
        || {
            calls += 1;
            value.load(Ordering::Relaxed) == 5
        },
        None,
    );
    assert_eq!(got, Ok(true));
    assert!(calls >= 1);
    drop(_guard);
    setter.join().unwrap();
}

#[test]
fn over_a_borrowed_rlock() {
    let rlock = RLock::new();
    let cond = Condition::with_lock(&rlock);
    let _guard = rlock.lock();
    assert_eq!(cond.notify(1), Ok(0));
    assert_eq!(cond.wait_timeout(Duration::ZERO), Ok(false));
    assert!(rlock.is_owned());
}

/// Waiters with tiny timeouts race a notifier: every notification the notifier reports
/// was received by a waiter whose wait returned `true`, and vice versa (none lost).
#[test]
fn notifications_are_never_lost_to_timeouts() {
    let (threads, rounds) = if cfg!(miri) { (2, 5) } else { (4, 300) };
    let cond = Condition::new();
    let received = AtomicUsize::new(0);
    let stop = AtomicUsize::new(0);
    let barrier = Barrier::new(threads + 1);
    let mut sent = 0;
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                barrier.wait();
                let _guard = cond.lock();
                while stop.load(Ordering::Relaxed) == 0 {
                    if cond.wait_timeout(Duration::from_micros(50)).unwrap() {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        barrier.wait();
        for _ in 0..rounds {
            let _guard = cond.lock();
            sent += cond.notify(1).unwrap();
            drop(_guard);
            thread::yield_now();
        }
        let _guard = cond.lock();
        stop.store(1, Ordering::Relaxed);
        sent += cond.notify_all().unwrap();
    });
    assert_eq!(received.load(Ordering::Relaxed), sent);
}

#[test]
fn debug_and_into_inner() {
    let cond = Condition::with_lock(Lock::new());
    assert_eq!(
        format!("{cond:?}"),
        "Condition { lock: Lock { locked: false }, waiters: 0 }"
    );
    let guard = cond.lock();
    assert!(format!("{guard:?}").starts_with("ConditionGuard"));
    drop(guard);
    assert!(!cond.into_inner().locked());
    let _default: Condition = Condition::default();
}
