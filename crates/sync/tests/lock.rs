//! `Lock`: the three call forms, guards, release from another thread, release errors,
//! timeouts (wide bounds), `Duration::MAX`, and no poisoning.

// Under loom only the in-crate models build (statics need `const fn new`).
#![cfg(not(contexture_loom))]

use std::panic;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use contexture_sync::{Lock, ReleaseError};

const SHORT: Duration = Duration::from_millis(50);

#[test]
fn acquire_release_and_locked() {
    let lock = Lock::new();
    assert!(!lock.locked());
    lock.acquire();
    assert!(lock.locked());
    assert!(!lock.try_acquire());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
}

#[test]
fn releasing_an_unlocked_lock_is_an_error_and_changes_nothing() {
    let lock = Lock::new();
    assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    assert!(!lock.locked());
    assert!(lock.try_acquire());
    lock.release().unwrap();
    assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    assert!(lock.try_acquire(), "still usable after the failed release");
    lock.release().unwrap();
}

#[test]
fn another_thread_may_release() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let other = Arc::clone(&lock);
    thread::spawn(move || other.release())
        .join()
        .unwrap()
        .unwrap();
    assert!(!lock.locked());
}

#[test]
fn release_from_another_thread_wakes_a_blocked_acquirer() {
    // The main thread acquires twice: the second acquire blocks until a helper releases.
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let other = Arc::clone(&lock);
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let helper = thread::spawn(move || {
        b.wait();
        other.release().unwrap();
    });
    barrier.wait();
    lock.acquire(); // Python's "signal" use of a Lock
    helper.join().unwrap();
    assert!(lock.locked());
    lock.release().unwrap();
}

#[test]
fn try_and_timeout_forms() {
    let lock = Lock::new();
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(!lock.acquire_timeout(Duration::ZERO));
    assert!(!lock.acquire_until(Instant::now()));
    let past = Instant::now()
        .checked_sub(Duration::from_millis(10))
        .unwrap_or_else(Instant::now);
    assert!(!lock.acquire_until(past));
    lock.release().unwrap();
    assert!(
        lock.acquire_timeout(Duration::MAX),
        "Duration::MAX: no overflow"
    );
    lock.release().unwrap();
    assert!(lock.acquire_until(Instant::now() + Duration::from_secs(3600)));
    lock.release().unwrap();
}

#[test]
fn timeout_expires_within_wide_bounds() {
    let lock = Lock::new();
    lock.acquire();
    thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            assert!(!lock.acquire_timeout(SHORT));
            let waited = start.elapsed();
            assert!(waited >= SHORT.mul_f64(0.6), "waited {waited:?}");
            assert!(waited < SHORT * 10, "waited {waited:?}");

            let start = Instant::now();
            assert!(lock.lock_until(start + SHORT).is_none());
            assert!(start.elapsed() >= SHORT.mul_f64(0.6));
        });
    });
    lock.release().unwrap();
}

#[test]
fn timed_acquire_succeeds_when_released_in_time() {
    // `Duration::MAX` on a held lock: no overflow, it simply waits.
    for timeout in [Duration::from_secs(60), Duration::MAX] {
        let lock = Lock::new();
        lock.acquire();
        let barrier = Barrier::new(2);
        thread::scope(|s| {
            let waiter = s.spawn(|| {
                barrier.wait();
                lock.acquire_timeout(timeout)
            });
            barrier.wait();
            lock.release().unwrap();
            assert!(waiter.join().unwrap());
        });
        assert!(lock.locked());
        lock.release().unwrap();
    }
}

#[test]
fn guards() {
    let lock = Lock::new();
    {
        let guard = lock.lock();
        assert!(lock.locked());
        assert!(lock.try_lock().is_none());
        assert!(lock.lock_timeout(Duration::ZERO).is_none());
        assert!(std::ptr::eq(guard.lock(), &lock));
    }
    assert!(!lock.locked());
    let guard = lock.lock_timeout(SHORT).unwrap();
    drop(guard);
    let guard = lock.try_lock().unwrap();
    // The guard may be sent to and dropped on another thread.
    thread::scope(|s| {
        s.spawn(move || drop(guard));
    });
    assert!(!lock.locked());
}

#[test]
fn guard_drop_after_explicit_release_does_nothing() {
    let lock = Lock::new();
    let guard = lock.lock();
    lock.release().unwrap();
    drop(guard);
    assert!(!lock.locked());
}

#[test]
fn a_panic_releases_the_lock() {
    let lock = Lock::new();
    let result = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let _guard = lock.lock();
        panic!("boom");
    }));
    assert!(result.is_err());
    assert!(!lock.locked(), "no poisoning: released while unwinding");
    assert!(lock.try_acquire());
    lock.release().unwrap();
}

#[test]
fn dropping_a_held_lock_is_fine() {
    {
        let lock = Lock::new();
        lock.acquire();
    } // dropped while held: nothing to clean up, nothing leaks
    let boxed = Box::new(Lock::new());
    let _guard = boxed.lock();
    std::mem::forget(_guard);
    drop(boxed);
}

#[test]
fn static_and_debug() {
    static LOCK: Lock = Lock::new();
    let _guard = LOCK.lock();
    assert_eq!(format!("{LOCK:?}"), "Lock { locked: true }");
    assert_eq!(
        ReleaseError::NotOwner.to_string(),
        "release of a reentrant lock held by another thread"
    );
}

#[test]
fn many_waiters_all_get_through() {
    let lock = Lock::new();
    let threads = if cfg!(miri) { 3 } else { 8 };
    lock.acquire();
    let barrier = Barrier::new(threads + 1);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                barrier.wait();
                lock.acquire();
                lock.release().unwrap();
            });
        }
        barrier.wait();
        lock.release().unwrap();
    });
    assert!(!lock.locked());
}
