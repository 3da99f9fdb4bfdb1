//! `RLock`: re-entry, ownership, release errors, `locked` from other threads, timeouts,
//! guards, no poisoning, and a thread that exits while holding it.

// Under loom only the in-crate models build (statics need `const fn new`).
#![cfg(not(contexture_loom))]

use std::panic;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use contexture_sync::{RLock, ReleaseError};

const SHORT: Duration = Duration::from_millis(50);

#[test]
fn nested_acquires_succeed_at_once_and_need_as_many_releases() {
    let rlock = RLock::new();
    rlock.acquire();
    assert!(rlock.try_acquire());
    assert!(rlock.acquire_timeout(Duration::ZERO));
    assert!(rlock.acquire_until(Instant::now()));
    assert_eq!(rlock.recursion_count(), 4);
    for left in (0..4).rev() {
        rlock.release().unwrap();
        assert_eq!(rlock.recursion_count(), left);
        assert_eq!(rlock.locked(), left > 0);
    }
    assert_eq!(rlock.release(), Err(ReleaseError::Unlocked));
}

#[test]
fn only_the_owner_releases_and_locked_is_seen_everywhere() {
    let rlock = RLock::new();
    rlock.acquire();
    thread::scope(|s| {
        s.spawn(|| {
            assert!(rlock.locked());
            assert!(!rlock.is_owned());
            assert_eq!(rlock.recursion_count(), 0);
            assert_eq!(rlock.release(), Err(ReleaseError::NotOwner));
            assert!(!rlock.try_acquire());
            assert!(!rlock.acquire_timeout(Duration::ZERO));
        });
    });
    assert!(rlock.is_owned(), "the failed release changed nothing");
    assert_eq!(rlock.recursion_count(), 1);
    rlock.release().unwrap();
    thread::scope(|s| {
        s.spawn(|| assert_eq!(rlock.release(), Err(ReleaseError::Unlocked)));
    });
}

#[test]
fn timeout_expires_within_wide_bounds() {
    let rlock = RLock::new();
    let _guard = rlock.lock();
    thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            assert!(!rlock.acquire_timeout(SHORT));
            let waited = start.elapsed();
            assert!(
                waited >= SHORT.mul_f64(0.6) && waited < SHORT * 10,
                "{waited:?}"
            );
            assert!(rlock.lock_timeout(Duration::ZERO).is_none());
        });
    });
}

#[test]
fn waits_for_the_owner_then_owns() {
    let rlock = RLock::new();
    let barrier = Barrier::new(2);
    let guard = rlock.lock();
    thread::scope(|s| {
        let other = s.spawn(|| {
            barrier.wait();
            let _g = rlock.lock();
            let _h = rlock.lock();
            assert_eq!(rlock.recursion_count(), 2);
        });
        barrier.wait();
        drop(guard);
        other.join().unwrap();
    });
    assert!(!rlock.locked());
    assert!(rlock.acquire_timeout(Duration::MAX));
    rlock.release().unwrap();
}

#[test]
fn guards_nest_and_a_panic_releases() {
    let rlock = RLock::new();
    let result = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let _a = rlock.lock();
        let _b = rlock.try_lock().unwrap();
        let _c = rlock.lock_until(Instant::now()).unwrap();
        assert_eq!(_c.rlock().recursion_count(), 3);
        panic!("boom");
    }));
    assert!(result.is_err());
    assert!(
        !rlock.locked(),
        "every level was given back while unwinding"
    );
}

#[test]
fn a_thread_that_exits_holding_it_leaves_it_locked() {
    let rlock = RLock::new();
    thread::scope(|s| {
        s.spawn(|| rlock.acquire());
    });
    assert!(rlock.locked());
    // Ids are never reused: no later thread counts as the owner.
    for _ in 0..if cfg!(miri) { 2 } else { 20 } {
        thread::scope(|s| {
            s.spawn(|| {
                assert!(!rlock.is_owned());
                assert_eq!(rlock.release(), Err(ReleaseError::NotOwner));
                assert!(!rlock.try_acquire());
            });
        });
    }
}

#[test]
fn static_default_and_debug() {
    static RLOCK: RLock = RLock::new();
    let _g = RLOCK.lock();
    assert_eq!(
        format!("{RLOCK:?}"),
        "RLock { locked: true, owned_by_this_thread: true }"
    );
    let other = RLock::default();
    assert!(!other.locked());
}

#[test]
fn a_guard_whose_level_was_released_explicitly_leaves_a_new_owner_alone() {
    let rlock = RLock::new();
    let guard = rlock.lock();
    rlock.release().unwrap(); // the guard's level, given back by hand
    assert!(!rlock.locked());
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            let _theirs = rlock.lock();
            let _again = rlock.lock();
            barrier.wait(); // they own it, two levels deep
            barrier.wait(); // our guard was dropped meanwhile
            assert_eq!(rlock.recursion_count(), 2, "the stale guard took no level");
        });
        barrier.wait();
        drop(guard); // the guard's release fails quietly: another thread owns it
        assert!(rlock.locked() && !rlock.is_owned());
        barrier.wait();
    });
    assert!(!rlock.locked());
    // The recursion count carries over correctly from one owner to the next.
    let _a = rlock.lock();
    let _b = rlock.lock();
    assert_eq!(rlock.recursion_count(), 2);
}
