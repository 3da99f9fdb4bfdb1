//! Stress: 2 and 8 threads hammering one `Lock`, one `RLock` (re-entered) and one
//! `Condition`-guarded counter; the count must be exact. The counter is a relaxed
//! load-then-store, so only the lock's mutual exclusion makes it exact.

// Under loom only the in-crate models build (statics need `const fn new`).
#![cfg(not(contexture_loom))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use contexture_sync::{Condition, Lock, RLock};

fn per_thread() -> u64 {
    if cfg!(miri) {
        50
    } else {
        20_000
    }
}

/// A non-atomic increment: lost updates unless the caller excludes others.
fn bump(counter: &AtomicU64) {
    let v = counter.load(Ordering::Relaxed);
    counter.store(v + 1, Ordering::Relaxed);
}

fn lock_counter(threads: u64) {
    let lock = Lock::new();
    let counter = AtomicU64::new(0);
    thread::scope(|s| {
        for t in 0..threads {
            let (lock, counter) = (&lock, &counter);
            s.spawn(move || {
                for i in 0..per_thread() {
                    // Mix the forms; a `try` that fails falls back to a blocking acquire.
                    match (t + i) % 3 {
                        0 => {
                            let _guard = lock.lock();
                            bump(counter);
                        }
                        1 => {
                            if !lock.try_acquire() {
                                lock.acquire();
                            }
                            bump(counter);
                            lock.release().unwrap();
                        }
                        _ => {
                            assert!(lock.acquire_timeout(std::time::Duration::from_secs(60)));
                            bump(counter);
                            lock.release().unwrap();
                        }
                    }
                }
            });
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), threads * per_thread());
    assert!(!lock.locked());
}

fn rlock_counter(threads: u64) {
    let rlock = RLock::new();
    let counter = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread() {
                    let _outer = rlock.lock();
                    let _inner = rlock.lock();
                    bump(&counter);
                }
            });
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), threads * per_thread());
    assert!(!rlock.locked());
}

/// Threads take turns in strict rotation (`counter % threads == me`), waiting on the
/// condition for their turn: exact count and every wait is woken by a real notify.
fn condition_counter(threads: u64) {
    let cond = Condition::new();
    let counter = AtomicU64::new(0);
    let rounds = per_thread() / 10;
    thread::scope(|s| {
        for me in 0..threads {
            let (cond, counter) = (&cond, &counter);
            s.spawn(move || {
                for _ in 0..rounds {
                    let _guard = cond.lock();
                    cond.wait_for(|| counter.load(Ordering::Relaxed) % threads == me, None)
                        .unwrap();
                    bump(counter);
                    cond.notify_all().unwrap();
                }
            });
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), threads * rounds);
}

#[test]
fn lock_counter_2_threads() {
    lock_counter(2);
}

#[test]
fn lock_counter_8_threads() {
    lock_counter(if cfg!(miri) { 3 } else { 8 });
}

#[test]
fn rlock_counter_2_threads() {
    rlock_counter(2);
}

#[test]
fn rlock_counter_8_threads() {
    rlock_counter(if cfg!(miri) { 3 } else { 8 });
}

#[test]
fn condition_counter_2_threads() {
    condition_counter(2);
}

#[test]
fn condition_counter_8_threads() {
    condition_counter(if cfg!(miri) { 3 } else { 8 });
}

/// Two threads release the same acquisition at once, many times: exactly one succeeds each
/// time and the lock ends unlocked (any thread may release, so releases can race).
#[test]
fn racing_releases_of_one_acquisition() {
    let lock = Lock::new();
    let barrier = std::sync::Barrier::new(3);
    let rounds = if cfg!(miri) { 10 } else { 5_000 };
    let oks = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..rounds {
                    barrier.wait();
                    if lock.release().is_ok() {
                        oks.fetch_add(1, Ordering::Relaxed);
                    }
                    barrier.wait();
                }
            });
        }
        for round in 1..=rounds {
            lock.acquire();
            barrier.wait();
            barrier.wait();
            assert!(!lock.locked());
            assert_eq!(
                oks.load(Ordering::Relaxed),
                round,
                "exactly one release won"
            );
        }
    });
}
