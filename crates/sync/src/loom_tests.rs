//! Loom models of the parking protocols of `Lock`, `RLock` and `Condition`, run over the
//! loom parking lot of `crate::parking` (the production code above it is unchanged). Run by
//! `cargo xtask test-all`:
//! `RUSTFLAGS="--cfg contexture_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p contexture-sync --release --lib loom`.
//! Run time on the 2-core CI machine: 3.4 s for all nine models together (one test thread,
//! after the build); the iteration count of each is noted next to it.
//!
//! No model relies on thread-local destructors (loom 0.7 cannot block inside one).

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::parking::set_fair_for_loom;
use crate::{Condition, Lock, RLock, ReleaseError};

/// A non-atomic increment: a lost update shows as a wrong count.
fn bump(counter: &AtomicUsize) {
    let v = counter.load(Ordering::Relaxed);
    counter.store(v + 1, Ordering::Relaxed);
}

/// Three threads increment under the lock while it may hand off fairly or not: exact
/// count, unlocked at the end, no deadlock or lost wakeup (loom reports one), including the
/// "more waiters remain" path of a release.
fn lock_mutual_exclusion(fair: bool) {
    loom::model(move || {
        set_fair_for_loom(fair);
        let lock = Arc::new(Lock::new());
        let counter = Arc::new(AtomicUsize::new(0));
        let others: Vec<_> = (0..2)
            .map(|_| {
                let (l, c) = (lock.clone(), counter.clone());
                thread::spawn(move || {
                    l.acquire();
                    bump(&c);
                    l.release().unwrap();
                })
            })
            .collect();
        lock.acquire();
        bump(&counter);
        lock.release().unwrap();
        for other in others {
            other.join().unwrap();
        }
        assert_eq!(counter.load(Ordering::Relaxed), 3);
        assert!(!lock.locked());
    });
}

/// Unfair release (the common case).
/// 296 iterations.
#[test]
fn loom_lock_mutual_exclusion() {
    lock_mutual_exclusion(false);
}

/// Fair hand-off release (what `parking_lot_core` asks for about every 0.5 ms).
/// 221 iterations.
#[test]
fn loom_lock_mutual_exclusion_fair() {
    lock_mutual_exclusion(true);
}

/// A timed acquire races the holder's release: it either gets the lock (and the count
/// shows it ran exclusively) or times out with the lock state intact; either way nothing is
/// left parked and the parked bit does not leak into a deadlock.
/// 15 iterations.
#[test]
fn loom_lock_timeout() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        let counter = Arc::new(AtomicUsize::new(0));
        lock.acquire();
        let (l, c) = (lock.clone(), counter.clone());
        let waiter = thread::spawn(move || {
            if l.acquire_timeout(std::time::Duration::from_secs(1)) {
                bump(&c);
                l.release().unwrap();
                true
            } else {
                false
            }
        });
        bump(&counter);
        lock.release().unwrap();
        let got = waiter.join().unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), if got { 2 } else { 1 });
        // Still usable: the parked bit was cleaned up by whoever left last.
        assert!(lock.try_acquire());
        assert_eq!(lock.release(), Ok(()));
        assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    });
}

/// Two threads release the same held lock at once while a third waits: exactly one release
/// succeeds unless the waiter acquired in between (then both may), and the lock ends in a
/// consistent state with the waiter through. Python allows any thread to release.
/// 119 iterations.
#[test]
fn loom_lock_racing_releases() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let l = lock.clone();
        let waiter = thread::spawn(move || {
            l.acquire();
            l.release().is_ok()
        });
        let l = lock.clone();
        let releaser = thread::spawn(move || l.release().is_ok());
        let mine = lock.release().is_ok();
        let theirs = releaser.join().unwrap();
        let waiter_released = waiter.join().unwrap();
        // Three releases were attempted against two acquisitions.
        let ok = [mine, theirs, waiter_released]
            .iter()
            .filter(|&&x| x)
            .count();
        assert_eq!(ok, 2);
        assert!(!lock.locked());
    });
}

/// `RLock` ownership: the owner re-enters; another thread can neither release nor take it
/// until the owner has released every level, then it owns it itself.
/// 986 iterations.
#[test]
fn loom_rlock_ownership() {
    loom::model(|| {
        let rlock = Arc::new(RLock::new());
        let counter = Arc::new(AtomicUsize::new(0));
        let (r, c) = (rlock.clone(), counter.clone());
        let other = thread::spawn(move || {
            if r.try_acquire() {
                // Then the main thread does not own it now.
                assert_eq!(r.recursion_count(), 1);
                bump(&c);
                r.release().unwrap();
            } else {
                assert!(!r.is_owned());
                let result = r.release();
                assert!(
                    result == Err(ReleaseError::NotOwner) || result == Err(ReleaseError::Unlocked)
                );
                r.acquire();
                r.acquire();
                bump(&c);
                r.release().unwrap();
                r.release().unwrap();
            }
        });
        rlock.acquire();
        rlock.acquire();
        bump(&counter);
        rlock.release().unwrap();
        assert!(rlock.is_owned());
        rlock.release().unwrap();
        other.join().unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 2);
        assert!(!rlock.locked());
    });
}

/// One waiter, one notifier: the wakeup is never lost (loom reports the deadlock if it is)
/// and the waiter sees the flag. The waiter holds two `RLock` levels across the wait.
/// 79 iterations.
#[test]
fn loom_condition_no_lost_wakeup() {
    loom::model(|| {
        let cond = Arc::new(Condition::new());
        let flag = Arc::new(AtomicUsize::new(0));
        let (c, f) = (cond.clone(), flag.clone());
        let waiter = thread::spawn(move || {
            c.acquire();
            c.acquire();
            while f.load(Ordering::Relaxed) == 0 {
                c.wait().unwrap();
            }
            assert_eq!(c.inner_lock().recursion_count(), 2);
            c.release().unwrap();
            c.release().unwrap();
        });
        cond.acquire();
        flag.store(1, Ordering::Relaxed);
        cond.notify(1).unwrap();
        cond.release().unwrap();
        waiter.join().unwrap();
    });
}

/// Two waiters, `notify(1)` twice: no spurious wakeup (a waiter returns from `wait` only
/// when a notify woke it: the number of returns never exceeds the notifications sent) and
/// exactly one waiter per notify.
/// 14,828 iterations, about 1 s: the largest model.
#[test]
fn loom_condition_notify_n_exact_no_spurious() {
    loom::model(|| {
        let cond = Arc::new(Condition::with_lock(Lock::new()));
        let queued = Arc::new(AtomicUsize::new(0));
        let returned = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (c, q, r, s) = (cond.clone(), queued.clone(), returned.clone(), sent.clone());
                thread::spawn(move || {
                    let _guard = c.lock();
                    q.fetch_add(1, Ordering::Relaxed);
                    c.wait().unwrap();
                    let r = r.fetch_add(1, Ordering::Relaxed) + 1;
                    assert!(r <= s.load(Ordering::Relaxed), "spurious wakeup");
                })
            })
            .collect();
        for round in 1..=2 {
            loop {
                let _guard = cond.lock();
                if queued.load(Ordering::Relaxed) == 2 {
                    sent.store(round, Ordering::Relaxed);
                    assert_eq!(cond.notify(1), Ok(1), "exactly one per notify");
                    break;
                }
                drop(_guard);
                thread::yield_now();
            }
        }
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(returned.load(Ordering::Relaxed), 2);
    });
}

/// A timed wait races a `notify(1)`: the notifier's count and the waiter's result agree.
/// Either the notify woke it (count 1, `wait_timeout` returns `true`), or it had timed out
/// first (count 0, `false`), so with another waiter queued behind it the notification would
/// go to that one: never lost to a waiter that is timing out.
/// 278 iterations.
#[test]
fn loom_condition_timeout_vs_notify() {
    loom::model(|| {
        let cond = Arc::new(Condition::with_lock(Lock::new()));
        let queued = Arc::new(AtomicUsize::new(0));
        let (c, q) = (cond.clone(), queued.clone());
        let timed = thread::spawn(move || {
            let _guard = c.lock();
            q.store(1, Ordering::Relaxed);
            c.wait_timeout(std::time::Duration::from_secs(1)).unwrap()
        });
        let woke = loop {
            let _guard = cond.lock();
            // Seen under the lock, which the waiter releases only once queued.
            if queued.load(Ordering::Relaxed) == 1 {
                break cond.notify(1).unwrap();
            }
            drop(_guard);
            thread::yield_now();
        };
        let notified = timed.join().unwrap();
        assert_eq!(woke == 1, notified);
        assert!(!cond.inner_lock().locked());
    });
}

/// `notify_all` over an `RLock` with fair hand-offs: the waiter (two levels deep) is
/// requeued onto the lock and gets it back, by hand-off or not, at its own depth.
/// 530 iterations.
#[test]
fn loom_condition_notify_all_fair() {
    loom::model(|| {
        set_fair_for_loom(true);
        let cond = Arc::new(Condition::new());
        let queued = Arc::new(AtomicUsize::new(0));
        let (c, q) = (cond.clone(), queued.clone());
        let waiter = thread::spawn(move || {
            let _a = c.lock();
            let _b = c.lock();
            q.store(1, Ordering::Relaxed);
            c.wait().unwrap();
            assert_eq!(c.inner_lock().recursion_count(), 2);
        });
        loop {
            let _guard = cond.lock();
            if queued.load(Ordering::Relaxed) == 1 {
                assert_eq!(cond.notify_all(), Ok(1));
                break;
            }
            drop(_guard);
            thread::yield_now();
        }
        waiter.join().unwrap();
        assert!(!cond.inner_lock().locked());
    });
}
