//! Racing lifecycle calls: a queue's `shutdown` racing another `shutdown` (normal and
//! immediate, in both orders and at once), `shutdown` racing `put`, `get` and `join`; a
//! barrier's `abort` racing `reset` racing `wait`. Every item is received or handed back
//! exactly once, the counts agree, nothing hangs, and the objects end in a usable (or
//! cleanly shut down / broken) state.

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier as StdBarrier, Mutex};
use std::thread;
use std::time::Duration;

use contexture_sync::{Barrier, GetError, PutError, Queue, TaskDoneError};

mod common;
use common::{repeats, within_deadline};

const ITEMS: usize = 8;
const TAKEN: usize = 3;

/// `ITEMS` put, `TAKEN` of them got (and not yet done), then `first` and `second` shut the
/// queue down, one after the other or (`together`) at once from two threads. Checks that
/// each item is taken or handed back exactly once, and `join` returns once the taken ones
/// are done.
fn two_shutdowns(first: bool, second: bool, together: bool) {
    let q = Arc::new(Queue::new(0));
    for i in 0..ITEMS {
        q.put(i).unwrap();
    }
    let mut seen: Vec<usize> = (0..TAKEN).map(|_| q.get().unwrap()).collect();
    let (a, b) = if together {
        let start = StdBarrier::new(2);
        thread::scope(|s| {
            let other = s.spawn(|| {
                start.wait();
                q.shutdown(second)
            });
            start.wait();
            let mine = q.shutdown(first);
            (mine, other.join().unwrap())
        })
    } else {
        (q.shutdown(first), q.shutdown(second))
    };
    assert!(q.is_shutdown());
    assert_eq!(q.put(99), Err(PutError::ShutDown(99)));
    if first || second {
        // Exactly one immediate shutdown found the items (the other found none).
        assert!(a.is_empty() || b.is_empty(), "discarded twice: {a:?} {b:?}");
        assert_eq!(a.len() + b.len(), ITEMS - TAKEN);
    } else {
        assert!(a.is_empty() && b.is_empty());
        while let Ok(item) = q.get() {
            seen.push(item);
            q.task_done().unwrap();
        }
    }
    assert_eq!(q.get(), Err(GetError::ShutDown));
    seen.extend(a);
    seen.extend(b);
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..ITEMS).collect::<Vec<_>>(),
        "every item exactly once"
    );
    for _ in 0..TAKEN {
        q.task_done().unwrap();
    }
    assert_eq!(q.task_done(), Err(TaskDoneError));
    let q2 = q.clone();
    within_deadline("join after two shutdowns", move || q2.join());
}

#[test]
fn shutdown_then_shutdown_every_order() {
    for first in [false, true] {
        for second in [false, true] {
            two_shutdowns(first, second, false);
        }
    }
}

#[test]
fn shutdown_racing_shutdown() {
    for _ in 0..repeats(200) {
        for first in [false, true] {
            for second in [false, true] {
                two_shutdowns(first, second, true);
            }
        }
    }
}

/// A `join` parked with items still queued, then `shutdown`: an immediate one discards
/// them (counted done), so the joiner returns once the taken item is done; a normal one
/// leaves them to be got and done. Both orders: the joiner may or may not be parked yet.
#[test]
fn shutdown_racing_join() {
    for immediate in [false, true] {
        for _ in 0..repeats(50) {
            let q = Arc::new(Queue::new(0));
            for i in 0..4 {
                q.put(i).unwrap();
            }
            let taken = q.get().unwrap();
            let q2 = q.clone();
            within_deadline("join racing shutdown", move || {
                thread::scope(|s| {
                    let joiner = s.spawn(|| q2.join());
                    let discarded = q2.shutdown(immediate);
                    assert_eq!(discarded.len(), if immediate { 3 } else { 0 });
                    while let Ok(_item) = q2.get() {
                        q2.task_done().unwrap();
                    }
                    let _ = taken;
                    q2.task_done().unwrap(); // the one taken before the shutdown
                    joiner.join().unwrap();
                });
            });
            assert_eq!(q.task_done(), Err(TaskDoneError));
        }
    }
}

/// Putters, getters (that mark their items done) and a joiner run while a `shutdown`
/// lands at a random point: every item offered is received, or handed back (refused by
/// `put`, or discarded by an immediate shutdown), exactly once; the blocked calls all
/// return; the joiner returns.
#[test]
fn shutdown_racing_put_get_join() {
    const PUTTERS: usize = 2;
    const PER: usize = 500;
    for immediate in [false, true] {
        for round in 0..repeats(20) {
            let q = Arc::new(Queue::new(4));
            let received = Arc::new(Mutex::new(Vec::new()));
            let back = Arc::new(Mutex::new(Vec::new()));
            let (q2, r2, b2) = (q.clone(), received.clone(), back.clone());
            within_deadline("shutdown racing put/get/join", move || {
                let (q, received, back) = (&q2, &r2, &b2);
                let stop_joining = AtomicBool::new(false);
                thread::scope(|s| {
                    for p in 0..PUTTERS {
                        s.spawn(move || {
                            for k in 0..PER {
                                if let Err(e) = q.put(p * PER + k) {
                                    assert!(e.is_shut_down());
                                    back.lock().unwrap().push(e.into_inner());
                                }
                            }
                        });
                    }
                    for _ in 0..2 {
                        s.spawn(move || {
                            while let Ok(item) = q.get() {
                                received.lock().unwrap().push(item);
                                q.task_done().unwrap();
                            }
                        });
                    }
                    let joiner = s.spawn(|| {
                        // `join` may return early (all done at some instant) and is
                        // called again until the shutdown has landed.
                        while !stop_joining.load(Ordering::SeqCst) {
                            q.join();
                            thread::yield_now();
                        }
                        q.join();
                    });
                    // Shut down after a varying amount of traffic.
                    while received.lock().unwrap().len() < (round * 37) % (PUTTERS * PER / 2) {
                        thread::yield_now();
                    }
                    back.lock().unwrap().extend(q.shutdown(immediate));
                    stop_joining.store(true, Ordering::SeqCst);
                    joiner.join().unwrap();
                });
            });
            let mut all = received.lock().unwrap().clone();
            all.extend(back.lock().unwrap().iter().copied());
            all.sort_unstable();
            assert_eq!(
                all,
                (0..PUTTERS * PER).collect::<Vec<_>>(),
                "each item exactly once"
            );
            assert_eq!(q.task_done(), Err(TaskDoneError));
        }
    }
}

/// `abort` then `reset` leaves it usable; `reset` then `abort` leaves it broken.
#[test]
fn abort_and_reset_in_both_orders() {
    let barrier = Barrier::new(2).unwrap();
    barrier.abort();
    barrier.reset();
    assert!(!barrier.is_broken());
    barrier.reset();
    barrier.abort();
    assert!(barrier.is_broken());
    assert!(barrier.wait_timeout(Duration::MAX).is_err());
    barrier.abort(); // twice: still broken, no error
    barrier.reset();
    barrier.reset(); // twice: still usable
    thread::scope(|s| {
        let other = s.spawn(|| barrier.wait().unwrap());
        let mine = barrier.wait().unwrap();
        assert_eq!(mine + other.join().unwrap(), 1);
    });
}

/// Waiters loop on `wait` while one thread keeps calling `abort` and another `reset`:
/// every `wait` returns (an index or `BrokenBarrier`), indices are in range, nobody
/// hangs; afterwards a `reset` makes the barrier run clean rounds again.
#[test]
fn abort_racing_reset_racing_wait() {
    const PARTIES: usize = 3;
    let barrier = Arc::new(Barrier::new(PARTIES).unwrap());
    let b = barrier.clone();
    within_deadline("abort racing reset racing wait", move || {
        let done = AtomicBool::new(false);
        thread::scope(|s| {
            let waiters: Vec<_> = (0..PARTIES)
                .map(|_| {
                    s.spawn(|| {
                        for _ in 0..repeats(2_000) {
                            if let Ok(index) = b.wait() {
                                assert!(index < PARTIES);
                            }
                        }
                    })
                })
                .collect();
            s.spawn(|| {
                while !done.load(Ordering::SeqCst) {
                    b.abort();
                    thread::yield_now();
                }
            });
            s.spawn(|| {
                while !done.load(Ordering::SeqCst) {
                    b.reset();
                    thread::yield_now();
                }
            });
            for w in waiters {
                w.join().unwrap();
            }
            done.store(true, Ordering::SeqCst);
        });
        b.reset();
        assert!(!b.is_broken());
        assert_eq!(b.n_waiting(), 0);
        for _ in 0..3 {
            let mut indices: Vec<usize> = thread::scope(|s| {
                let hs: Vec<_> = (0..PARTIES)
                    .map(|_| s.spawn(|| b.wait().unwrap()))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            indices.sort_unstable();
            assert_eq!(indices, [0, 1, 2]);
        }
    });
}
