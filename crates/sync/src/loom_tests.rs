//! Loom models of the parking protocols of `Lock`, `RLock`, `Condition`, `Semaphore`,
//! `Event`, `Barrier` and `Queue`, and of their async faces' waiter lists, run over the
//! loom parking lot of `crate::parking` (the production code above it is unchanged). Run by
//! `cargo xtask test-all`:
//! `RUSTFLAGS="--cfg contexture_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p contexture-sync --release --lib loom`.
//! Run time on the 2-core CI machine: 6.2 s for all twenty-five models together (one test
//! thread, after the build, while other builds shared the machine); the iteration count and
//! run time of each is noted next to it.
//! Mutation check (each reverted): a semaphore waiter parking without validating the count,
//! a `put` waking getters only when two or more are parked, and a barrier not unparking
//! released waiters were each reported by loom as a deadlock.
//!
//! No model relies on thread-local destructors (loom 0.7 cannot block inside one).

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::parking::{parked_for_loom, set_fair_for_loom};
use crate::{
    Barrier, Condition, Event, GetError, Lock, PutError, Queue, RLock, ReleaseError, Semaphore,
};

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
/// 14,828 iterations, about 1 s.
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

// ---------------------------------------------------------------------------------------
// Semaphore, Event, Barrier, Queue.
// ---------------------------------------------------------------------------------------

/// Two blocked acquirers, one `release(2)`: both get through (a lost permit or wakeup would
/// leave one parked: loom reports the deadlock) and the count ends at zero.
/// 2,735 iterations, 0.13 s.
#[test]
fn loom_semaphore_release_n_no_lost_permits() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let others: Vec<_> = (0..2)
            .map(|_| {
                let s = sem.clone();
                thread::spawn(move || s.acquire())
            })
            .collect();
        sem.release(2);
        for other in others {
            other.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
    });
}

/// A timed acquirer and a blocking one race a single `release(1)`: if the timed one gets
/// the permit it gives it back; if it times out it has not swallowed the wakeup. Either
/// way the blocking one gets through and no permit is lost or created.
/// 4,479 iterations, 0.21 s.
#[test]
fn loom_semaphore_timeout_keeps_the_permit() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let timed = thread::spawn(move || {
            if s.acquire_timeout(std::time::Duration::from_secs(1)) {
                s.release(1);
            }
        });
        let s = sem.clone();
        let blocking = thread::spawn(move || s.acquire());
        sem.release(1);
        timed.join().unwrap();
        blocking.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

/// `set` then `clear` while one waiter is parked and another may be on its way: the parked
/// waiter was woken by the `set` and returns `true` although the flag is clear by then; the
/// other (a timed wait) never hangs, and returns `false` only if it saw the flag clear.
/// 1,283 iterations, 0.07 s.
#[test]
fn loom_event_set_clear_wait() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let e = event.clone();
        let parked = thread::spawn(move || e.wait_slow(None));
        // Act only once the first waiter is really asleep.
        while parked_for_loom(event.key()) == 0 {
            thread::yield_now();
        }
        let e = event.clone();
        let racing = thread::spawn(move || e.wait_timeout(std::time::Duration::from_secs(1)));
        event.set();
        event.clear();
        assert!(
            parked.join().unwrap(),
            "woken by set: true even though cleared"
        );
        let _ = racing.join().unwrap();
        assert!(!event.is_set());
    });
}

/// Two events in a ping-pong, twice: every `set` is seen (no lost wakeup, or loom reports
/// the deadlock) and `clear` never undoes a `set` meant for the next round.
/// 1,963 iterations, 0.08 s.
#[test]
fn loom_event_ping_pong() {
    loom::model(|| {
        let ping = Arc::new(Event::new());
        let pong = Arc::new(Event::new());
        let (pi, po) = (ping.clone(), pong.clone());
        let partner = thread::spawn(move || {
            for _ in 0..2 {
                pi.wait();
                pi.clear();
                po.set();
            }
        });
        for _ in 0..2 {
            ping.set();
            pong.wait();
            pong.clear();
        }
        partner.join().unwrap();
    });
}

/// Hardening issue #11, item 0: a `wait` never returns without a `set` after it. The
/// waiter waits, clears, and waits again; the main thread sets once, and sets a second time
/// only after the waiter has cleared. The second `wait` must not return before that second
/// `set` (it used to: a waiter that saw `SET` in its park validation returned, cleared,
/// parked again, and the first `set`'s wake-up, still on its way, woke it).
/// Mutation-checked: raising `SET` before taking the queue lock in a contended `set` (the
/// old protocol) fails the assertion.
/// 123 iterations, 0.02 s.
#[test]
fn loom_event_no_wait_without_set() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let cleared = Arc::new(AtomicUsize::new(0));
        let second_set = Arc::new(AtomicUsize::new(0));
        let (e, c, s2) = (event.clone(), cleared.clone(), second_set.clone());
        let waiter = thread::spawn(move || {
            assert!(e.wait_slow(None));
            e.clear();
            c.store(1, Ordering::SeqCst);
            assert!(e.wait_slow(None));
            assert_eq!(
                s2.load(Ordering::SeqCst),
                1,
                "the second wait returned before the second set"
            );
        });
        event.set();
        while cleared.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        second_set.store(1, Ordering::SeqCst);
        event.set();
        waiter.join().unwrap();
    });
}

/// A timed wait that gives up (the last waiter: it takes `PARKED` back) races a `set` that
/// saw `PARKED` and is on its way to the queue lock, and two more waiters: the timed
/// waiter's next untimed wait and a second thread's. Whatever the order, both untimed
/// waits return (no lost wake-up: loom reports the deadlock) and the flag ends up set.
/// 1,136 iterations, 0.20 s. Mutation-checked: a contended `set` that raises the flag only
/// when its unpark found a thread deadlocks the model.
#[test]
fn loom_event_timeout_vs_set_then_wait() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let e = event.clone();
        let timed = thread::spawn(move || {
            let _ = e.wait_timeout(std::time::Duration::from_secs(1));
            e.wait();
        });
        let e = event.clone();
        let other = thread::spawn(move || e.wait());
        event.set();
        timed.join().unwrap();
        other.join().unwrap();
        assert!(event.is_set());
    });
}

/// The `Semaphore` counterpart of `loom_event_no_wait_without_set` (hardening issue #11
/// asked to re-check the primitives that share the park step): a release raises the count
/// and wakes in a second step, as `Event::set` used to, but a woken acquirer only retries
/// (the count decides, not the wake-up), so a stale wake-up cannot let an acquire through
/// without a release. The acquirer takes two permits, the second only released after it
/// took the first.
/// 336 iterations, 0.03 s. Mutation-checked: an acquirer that trusts its wake-up (returns
/// on `Unparked` without taking from the count) fails the model.
#[test]
fn loom_semaphore_no_acquire_without_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let first = Arc::new(AtomicUsize::new(0));
        let second = Arc::new(AtomicUsize::new(0));
        let (s, f, s2) = (sem.clone(), first.clone(), second.clone());
        let acquirer = thread::spawn(move || {
            s.acquire();
            f.store(1, Ordering::SeqCst);
            s.acquire();
            assert_eq!(
                s2.load(Ordering::SeqCst),
                1,
                "the second acquire returned before the second release"
            );
        });
        sem.release(1);
        while first.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        second.store(1, Ordering::SeqCst);
        sem.release(1);
        acquirer.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

/// Two threads, two rounds of a 2-party barrier with an action: each round hands out 0 and
/// 1, the action runs once per round before either thread of that round is released.
/// 398 iterations, 0.02 s.
#[test]
fn loom_barrier_generations() {
    loom::model(|| {
        let actions = Arc::new(AtomicUsize::new(0));
        let a = actions.clone();
        let barrier = Arc::new(
            Barrier::builder(2)
                .action(move || {
                    a.fetch_add(1, Ordering::Relaxed);
                })
                .build()
                .unwrap(),
        );
        let (b, a) = (barrier.clone(), actions.clone());
        let other = thread::spawn(move || {
            let mut got = [0; 2];
            for (round, slot) in got.iter_mut().enumerate() {
                *slot = b.wait().unwrap();
                assert!(
                    a.load(Ordering::Relaxed) > round,
                    "released before the action"
                );
            }
            got
        });
        let mut mine = [0; 2];
        for (round, slot) in mine.iter_mut().enumerate() {
            *slot = barrier.wait().unwrap();
            assert!(
                actions.load(Ordering::Relaxed) > round,
                "released before the action"
            );
        }
        let theirs = other.join().unwrap();
        for round in 0..2 {
            assert_eq!(mine[round] + theirs[round], 1, "indices 0 and 1 each round");
        }
        assert_eq!(actions.load(Ordering::Relaxed), 2);
    });
}

/// `abort` then `reset` race a waiter, then the main thread arrives with a (loom: instant)
/// timeout: the two outcomes agree (both pass with indices 0 and 1, or both fail), nobody
/// hangs, and nothing is left waiting.
/// 314 iterations, 0.01 s.
#[test]
fn loom_barrier_abort_reset_during_round() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let b = barrier.clone();
        let waiter = thread::spawn(move || b.wait().ok());
        barrier.abort();
        barrier.reset();
        let mine = barrier.wait_timeout(std::time::Duration::from_secs(1)).ok();
        let theirs = waiter.join().unwrap();
        match (mine, theirs) {
            (Some(m), Some(t)) => assert_eq!(m + t, 1),
            (None, None) => {}
            other => panic!("outcomes disagree: {other:?}"),
        }
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// A bounded queue of one: a producer puts 0 and 1 (blocking while full), a consumer gets
/// until shut down, marking each done, while the main thread shuts the queue down. Every
/// item is received exactly once or handed back in `ShutDown`, and `join` returns.
/// 825 iterations, 0.05 s.
#[test]
fn loom_queue_put_get_shutdown() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        let p = q.clone();
        let producer = thread::spawn(move || {
            let mut back = Vec::new();
            for i in 0..2 {
                match p.put(i) {
                    Ok(()) => {}
                    Err(PutError::ShutDown(item)) => back.push(item),
                    Err(PutError::Full(_)) => unreachable!("put blocks while full"),
                }
            }
            back
        });
        let c = q.clone();
        let consumer = thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                match c.get() {
                    Ok(item) => {
                        got.push(item);
                        c.task_done().unwrap();
                    }
                    Err(GetError::ShutDown) => return got,
                    Err(GetError::Empty) => unreachable!("get blocks while empty"),
                }
            }
        });
        q.shutdown(false);
        let mut all = producer.join().unwrap();
        let got = consumer.join().unwrap();
        // FIFO: what the consumer got is in order.
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        all.extend(got);
        all.sort();
        assert_eq!(
            all,
            [0, 1],
            "each item received or handed back, exactly once"
        );
        q.join();
    });
}

/// Blocking hand-over through a queue of one without shutdown: both items arrive in order
/// (a lost wakeup of a parked putter or getter would deadlock).
/// 230 iterations, 0.01 s.
#[test]
fn loom_queue_bounded_handover() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        let p = q.clone();
        let producer = thread::spawn(move || {
            for i in 0..2 {
                p.put(i).unwrap();
            }
        });
        assert_eq!(q.get(), Ok(0));
        assert_eq!(q.get(), Ok(1));
        producer.join().unwrap();
        assert!(q.empty());
    });
}

/// A timed get races a put: it gets the item, or times out and the item is still there.
/// 25 iterations, under 0.01 s.
#[test]
fn loom_queue_get_timeout_vs_put() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let c = q.clone();
        let consumer = thread::spawn(move || c.get_timeout(std::time::Duration::from_secs(1)));
        q.put(7).unwrap();
        match consumer.join().unwrap() {
            Ok(item) => {
                assert_eq!(item, 7);
                assert!(q.empty());
            }
            Err(e) => {
                assert_eq!(e, GetError::Empty);
                assert_eq!(q.try_get(), Ok(7), "nothing lost");
            }
        }
    });
}

/// A third thread aborts while a 2-party round with an action may be filling, running its
/// action, or done: both parties agree (both pass with 0 and 1 and the action ran once, or
/// both fail), and nobody hangs.
/// 1,099 iterations, 0.06 s.
#[test]
fn loom_barrier_abort_during_action() {
    loom::model(|| {
        let actions = Arc::new(AtomicUsize::new(0));
        let a = actions.clone();
        let barrier = Arc::new(
            Barrier::builder(2)
                .action(move || {
                    a.fetch_add(1, Ordering::Relaxed);
                })
                .build()
                .unwrap(),
        );
        let b = barrier.clone();
        let other = thread::spawn(move || b.wait().ok());
        let b = barrier.clone();
        let aborter = thread::spawn(move || b.abort());
        let mine = barrier.wait().ok();
        let theirs = other.join().unwrap();
        aborter.join().unwrap();
        match (mine, theirs) {
            (Some(m), Some(t)) => {
                assert_eq!(m + t, 1);
                assert_eq!(actions.load(Ordering::Relaxed), 1);
            }
            (None, None) => assert!(actions.load(Ordering::Relaxed) <= 1),
            other => panic!("outcomes disagree: {other:?}"),
        }
        assert!(barrier.is_broken());
    });
}

/// An immediate shutdown races a producer (two puts) and a consumer (get + task_done):
/// every item is received, handed back by `put`, or handed back by `shutdown`, exactly
/// once, and `join` returns.
/// 601 iterations, 0.03 s.
#[test]
fn loom_queue_immediate_shutdown() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let p = q.clone();
        let producer = thread::spawn(move || {
            (0..2)
                .filter_map(|i| p.put(i).err().map(PutError::into_inner))
                .collect::<Vec<_>>()
        });
        let c = q.clone();
        let consumer = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(item) = c.get() {
                got.push(item);
                c.task_done().unwrap();
            }
            got
        });
        let mut all = q.shutdown(true);
        all.extend(producer.join().unwrap());
        all.extend(consumer.join().unwrap());
        all.sort();
        assert_eq!(all, [0, 1]);
        q.join();
    });
}

/// Three parties, one of them with a (loom: instant) timeout: the round either completes for
/// all three with indices 0, 1, 2, or the timeout breaks it for all three. Nobody hangs.
/// 1,476 iterations, 0.08 s.
#[test]
fn loom_barrier_timeout_breaks_everyone() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(3).unwrap());
        let b = barrier.clone();
        let plain = thread::spawn(move || b.wait().ok());
        let b = barrier.clone();
        let timed = thread::spawn(move || b.wait_timeout(std::time::Duration::from_secs(1)).ok());
        let mine = barrier.wait().ok();
        let outcomes = [mine, plain.join().unwrap(), timed.join().unwrap()];
        if outcomes.iter().all(Option::is_some) {
            let mut indices = outcomes.map(Option::unwrap);
            indices.sort();
            assert_eq!(indices, [0, 1, 2]);
        } else {
            assert!(
                outcomes.iter().all(Option::is_none),
                "outcomes disagree: {outcomes:?}"
            );
            assert!(barrier.is_broken());
        }
    });
}

/// One producer (two puts into a queue of one), two consumers, a racing shutdown: each item
/// is received by exactly one consumer or handed back; both consumers end with `ShutDown`.
/// 19,339 iterations, 1.4 s: the largest model.
#[test]
fn loom_queue_two_consumers_shutdown() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        let p = q.clone();
        let producer = thread::spawn(move || {
            (0..2)
                .filter_map(|i| p.put(i).err().map(PutError::into_inner))
                .collect::<Vec<_>>()
        });
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let c = q.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    loop {
                        match c.get() {
                            Ok(item) => got.push(item),
                            Err(e) => {
                                assert_eq!(e, GetError::ShutDown);
                                return got;
                            }
                        }
                    }
                })
            })
            .collect();
        q.shutdown(false);
        let mut all = producer.join().unwrap();
        for c in consumers {
            all.extend(c.join().unwrap());
        }
        all.sort();
        assert_eq!(all, [0, 1]);
    });
}

// ---- async faces -------------------------------------------------------------------------
//
// Waker registration racing the notifier, shutdown and the drop of a woken future. Each
// task is driven by `loom::future::block_on`, which parks its loom thread until its waker
// is called: a lost wake-up shows as a deadlock, a double grant as a wrong count. The six
// run in 4.3 s together (release, one test thread, a loaded machine). Mutation check (each
// reverted): a dropped woken semaphore waiter or queue getter not passing its wake-up on
// was reported by loom as a deadlock. These models use the `futures` feature of loom (its
// `block_on`), and found that the loom parking lot reported `have_more_threads = false`
// when a filter stopped at a thread without unparking any (parking_lot_core says `true`).

use std::future::poll_fn;
use std::task::{Poll, Waker};

/// A task's `acquire_async` on a semaphore, as a future over the raw protocol.
fn sem_acquire(sem: &Semaphore) -> impl std::future::Future<Output = ()> + '_ {
    let mut ticket = None;
    poll_fn(move |cx| {
        if sem.raw.poll_acquire(&mut ticket, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// A release on another thread races the task registering: it gets the permit either way.
/// 84 iterations.
#[test]
fn loom_async_semaphore_release_vs_register() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let releaser = thread::spawn(move || s.release(1));
        loom::future::block_on(sem_acquire(&sem));
        releaser.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

/// A task that was (maybe) woken by a release is dropped on another thread while the next
/// task waits: the wake-up is passed on, the permit is taken exactly once.
/// 851 iterations.
#[test]
fn loom_async_semaphore_dropped_woken_task_passes_on() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let mut first = None;
        assert!(!sem.raw.poll_acquire(&mut first, Waker::noop()));
        let s = sem.clone();
        let releaser = thread::spawn(move || s.release(1));
        let s = sem.clone();
        let dropper = thread::spawn(move || s.raw.cancel(&mut first));
        loom::future::block_on(sem_acquire(&sem));
        releaser.join().unwrap();
        dropper.join().unwrap();
        assert_eq!(sem.value(), 0, "one permit, taken once");
    });
}

/// A task and a blocked thread wait on one lock that a third thread releases: both get
/// it in turn (the merge of the two queues loses nobody), and it ends unlocked.
/// 8,517 iterations.
#[test]
fn loom_async_lock_task_and_thread() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let l = lock.clone();
        let releaser = thread::spawn(move || l.release().unwrap());
        let l = lock.clone();
        let waiter = thread::spawn(move || {
            l.acquire();
            l.release().unwrap();
        });
        let mut ticket = None;
        loom::future::block_on(poll_fn(|cx| {
            if lock.poll_acquire(&mut ticket, cx.waker()) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        lock.release().unwrap();
        releaser.join().unwrap();
        waiter.join().unwrap();
        assert!(!lock.locked());
    });
}

/// `set` on another thread races a task registering on the event: the task completes.
/// 37 iterations.
#[test]
fn loom_async_event_set_vs_register() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let e = event.clone();
        let setter = thread::spawn(move || e.set());
        let mut ticket = None;
        loom::future::block_on(poll_fn(|cx| {
            if event.poll_wait(&mut ticket, cx.waker()) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        setter.join().unwrap();
        assert!(event.is_set());
    });
}

/// A `put` or a `shutdown` on another thread races a task registering in `get_async`.
/// 59 + 59 iterations.
#[test]
fn loom_async_queue_put_or_shutdown_vs_register() {
    for shutdown in [false, true] {
        loom::model(move || {
            let q: Arc<Queue<u8>> = Arc::new(Queue::new(0));
            let q2 = q.clone();
            let other = thread::spawn(move || {
                if shutdown {
                    q2.shutdown(false);
                } else {
                    q2.put(1).unwrap();
                }
            });
            let mut ticket = None;
            let got = loom::future::block_on(poll_fn(|cx| {
                match q.core.poll_get(&mut ticket, cx.waker()) {
                    Some(result) => Poll::Ready(result),
                    None => Poll::Pending,
                }
            }));
            other.join().unwrap();
            assert_eq!(
                got,
                if shutdown {
                    Err(GetError::ShutDown)
                } else {
                    Ok(1)
                }
            );
        });
    }
}

/// A getter that was (maybe) woken by a put is dropped on another thread while the next
/// getter waits: the item is not consumed by the dropped one and reaches the next.
/// 1,405 iterations.
#[test]
fn loom_async_queue_dropped_woken_getter_passes_on() {
    loom::model(|| {
        let q: Arc<Queue<u8>> = Arc::new(Queue::new(0));
        let mut first = None;
        assert!(q.core.poll_get(&mut first, Waker::noop()).is_none());
        let q2 = q.clone();
        let putter = thread::spawn(move || q2.put(7).unwrap());
        let q2 = q.clone();
        let dropper = thread::spawn(move || q2.core.cancel_get(&mut first));
        let mut ticket = None;
        let got = loom::future::block_on(poll_fn(|cx| {
            match q.core.poll_get(&mut ticket, cx.waker()) {
                Some(result) => Poll::Ready(result),
                None => Poll::Pending,
            }
        }));
        putter.join().unwrap();
        dropper.join().unwrap();
        assert_eq!(got, Ok(7));
    });
}
