//! Panicking user code at every place the crate runs it — a `PriorityQueue` item's `Ord`
//! (in `put`, `get` and `shutdown(true)`), a `Barrier` action, a `Condition::wait_for`
//! predicate, an item's `Drop` (items the queue hands back, items left in a dropped queue):
//! nothing is lost, the counts stay consistent, nothing hangs or aborts, and the object is
//! still usable afterwards (or cleanly broken, with a typed error).

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::cmp::Ordering as CmpOrdering;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use contexture_sync::{Barrier, Condition, GetError, PriorityQueue, Queue, TaskDoneError};

mod common;
use common::within_deadline;

/// A priority item whose comparison panics while its shared `armed` flag is up.
#[derive(Debug, Clone)]
struct Touchy {
    key: u32,
    armed: Arc<AtomicBool>,
}

impl Touchy {
    fn batch(keys: &[u32]) -> (Arc<AtomicBool>, Vec<Touchy>) {
        let armed = Arc::new(AtomicBool::new(false));
        let items = keys
            .iter()
            .map(|&key| Touchy {
                key,
                armed: armed.clone(),
            })
            .collect();
        (armed, items)
    }
}

impl Ord for Touchy {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        if self.armed.load(Ordering::Relaxed) {
            panic!("Touchy::cmp panics on purpose");
        }
        self.key.cmp(&other.key)
    }
}

impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Touchy {}

/// Takes every item out of a queue whose `Ord` is well-behaved again; marks each done.
fn drain_keys(q: &PriorityQueue<Touchy>) -> Vec<u32> {
    let mut keys = Vec::new();
    while let Ok(item) = q.try_get() {
        keys.push(item.key);
        q.task_done().unwrap();
    }
    keys.sort_unstable();
    keys
}

/// A `put` whose comparison panics keeps its item in the queue, counted (`qsize` and the
/// unfinished-task count agree with the items inside), and propagates the panic. The
/// queue stays usable, every item comes out, and `join` returns once they are done.
/// Hardening issue #11, item 9: the item used to sit in the heap uncounted.
#[test]
fn priority_put_with_panicking_ord_keeps_the_item_counted() {
    let q = Arc::new(PriorityQueue::new(0));
    let (armed, items) = Touchy::batch(&[5, 3, 8, 1, 4]);
    for item in &items[..4] {
        q.put(item.clone()).unwrap();
    }
    armed.store(true, Ordering::Relaxed);
    let result = catch_unwind(AssertUnwindSafe(|| q.put(items[4].clone())));
    assert!(result.is_err(), "the comparison's panic reaches the caller");
    armed.store(false, Ordering::Relaxed);
    assert_eq!(q.qsize(), 5, "the item was kept and counted");
    assert_eq!(drain_keys(&q), [1, 3, 4, 5, 8]);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    within_deadline("join after a panicking put", move || q.join());
}

/// A `get` whose comparison panics removes nothing (the item it was taking goes back into
/// the queue), leaves the counts alone, and propagates the panic; `join` still returns
/// once everything is done. Hardening issue #11, item 9: the item used to be lost and
/// `join` never returned.
#[test]
fn priority_get_with_panicking_ord_loses_nothing() {
    let q = Arc::new(PriorityQueue::new(4));
    let (armed, items) = Touchy::batch(&[5, 3, 8, 1]);
    for item in items {
        q.put(item).unwrap();
    }
    armed.store(true, Ordering::Relaxed);
    let result = catch_unwind(AssertUnwindSafe(|| q.get()));
    assert!(result.is_err(), "the comparison's panic reaches the caller");
    armed.store(false, Ordering::Relaxed);
    assert_eq!(q.qsize(), 4, "nothing was removed");
    assert!(q.full());
    assert_eq!(drain_keys(&q), [1, 3, 5, 8]);
    within_deadline("join after a panicking get", move || q.join());
}

/// Once the comparison behaves again, the order is right again for what is put and taken
/// afterwards (the queue is not left corrupted for good).
#[test]
fn priority_order_recovers_after_a_panicking_ord() {
    let q = PriorityQueue::new(0);
    let (armed, items) = Touchy::batch(&[5, 3, 8, 1, 4, 9, 2]);
    for item in &items[..6] {
        q.put(item.clone()).unwrap();
    }
    armed.store(true, Ordering::Relaxed);
    assert!(catch_unwind(AssertUnwindSafe(|| q.get())).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| q.put(items[6].clone()))).is_err());
    armed.store(false, Ordering::Relaxed);
    let keys: Vec<u32> = std::iter::from_fn(|| q.try_get().ok().map(|t| t.key)).collect();
    assert_eq!(keys, [1, 2, 3, 4, 5, 8, 9], "smallest first again");
}

/// `shutdown(true)` whose sort of the discarded items panics still shuts down, hands back
/// every item (in insertion order, since their own order cannot be computed) and counts
/// them done: `join` returns, blocked callers are woken.
#[test]
fn priority_immediate_shutdown_with_panicking_ord_hands_every_item_back() {
    let q = Arc::new(PriorityQueue::new(0));
    let (armed, items) = Touchy::batch(&[5, 3, 8, 1]);
    for item in items {
        q.put(item).unwrap();
    }
    armed.store(true, Ordering::Relaxed);
    let discarded = q.shutdown(true);
    armed.store(false, Ordering::Relaxed);
    let keys: Vec<u32> = discarded.iter().map(|t| t.key).collect();
    assert_eq!(keys, [5, 3, 8, 1], "every item, in insertion order");
    assert!(q.is_shutdown() && q.empty());
    assert_eq!(q.try_get().unwrap_err(), GetError::ShutDown);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    within_deadline("join after a panicking shutdown", move || q.join());
}

/// A panicking barrier action breaks the round for every party (a typed `BrokenBarrier`,
/// the payload only for the thread that ran it); nobody hangs, `n_waiting` is back to 0,
/// and after `reset` the barrier runs clean rounds again, action included.
#[test]
fn barrier_action_panic_breaks_the_round_then_reset_recovers() {
    let fail = Arc::new(AtomicBool::new(true));
    let runs = Arc::new(AtomicUsize::new(0));
    let (f, r) = (fail.clone(), runs.clone());
    let barrier = Arc::new(
        Barrier::builder(3)
            .action(move || {
                r.fetch_add(1, Ordering::SeqCst);
                if f.load(Ordering::SeqCst) {
                    panic!("action panics on purpose");
                }
            })
            .build()
            .unwrap(),
    );
    let b = barrier.clone();
    within_deadline("barrier with a panicking action", move || {
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..3).map(|_| s.spawn(|| b.wait())).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let panicked = results
            .into_iter()
            .map(|r| r.unwrap_err().action_panicked())
            .filter(|&p| p)
            .count();
        assert_eq!(panicked, 1);
    });
    assert!(barrier.is_broken());
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the action ran exactly once"
    );
    barrier.reset();
    fail.store(false, Ordering::SeqCst);
    let b = barrier.clone();
    let mut indices = within_deadline("barrier after reset", move || {
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..3).map(|_| s.spawn(|| b.wait().unwrap())).collect();
            hs.into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        })
    });
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2]);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert!(!barrier.is_broken());
}

/// A `wait_for` predicate that panics after a wake-up: the panic reaches the caller with
/// the lock held (its guard releases it while unwinding), the condition's waiter count is
/// not left raised (a later `notify(1)` reaches exactly the other waiter) and the
/// condition keeps working.
#[test]
fn condition_wait_for_predicate_panic_leaves_it_usable() {
    let cond = Arc::new(Condition::new());
    let go = Arc::new(AtomicUsize::new(0));
    let (c, g) = (cond.clone(), go.clone());
    within_deadline("condition with a panicking predicate", move || {
        std::thread::scope(|s| {
            let panicking = s.spawn(|| {
                let _guard = c.lock();
                let mut calls = 0;
                catch_unwind(AssertUnwindSafe(|| {
                    c.wait_for(
                        || {
                            calls += 1;
                            if calls > 1 {
                                panic!("predicate panics on purpose");
                            }
                            false
                        },
                        None,
                    )
                }))
                .is_err()
            });
            // Wake it (it panics on its second predicate call), then check the lock is free.
            while !panicking.is_finished() {
                let _guard = c.lock();
                let _ = c.notify_all().unwrap();
            }
            assert!(
                panicking.join().unwrap(),
                "the predicate's panic reached the caller"
            );
            assert!(
                !c.inner_lock().locked(),
                "the guard released the lock while unwinding"
            );
            // Still usable: a well-behaved waiter is woken by one notify.
            let waiter = s.spawn(|| {
                let _guard = c.lock();
                c.wait_for(|| g.load(Ordering::SeqCst) == 1, None).unwrap()
            });
            loop {
                let _guard = c.lock();
                g.store(1, Ordering::SeqCst);
                if c.notify(1).unwrap() == 1 || waiter.is_finished() {
                    break;
                }
            }
            assert!(waiter.join().unwrap());
            let _guard = c.lock();
            assert_eq!(c.notify_all(), Ok(0), "no waiter left counted");
        });
    });
}

/// Items whose `Drop` panics. The queue never drops an item itself while it is in use
/// (every item refused, taken or discarded is handed to the caller, outside the lock), so
/// a panicking `Drop` happens in the caller's hands and the queue is unaffected; dropping
/// the queue with such an item inside drops every other item and does not abort.
#[test]
fn queue_items_with_panicking_drop() {
    struct Bomb<'a> {
        armed: bool,
        dropped: &'a AtomicUsize,
    }
    impl Drop for Bomb<'_> {
        fn drop(&mut self) {
            self.dropped.fetch_add(1, Ordering::SeqCst);
            if self.armed {
                panic!("Bomb::drop panics on purpose");
            }
        }
    }
    let dropped = AtomicUsize::new(0);
    let bomb = |armed| Bomb {
        armed,
        dropped: &dropped,
    };

    // Handed back by `shutdown(true)`, dropped by the caller: the queue is consistent.
    let q = Queue::new(2);
    q.put(bomb(true)).unwrap();
    q.put(bomb(false)).unwrap();
    let full = q.try_put(bomb(true)).unwrap_err(); // handed back, not dropped
    assert!(catch_unwind(AssertUnwindSafe(|| drop(full))).is_err());
    let got = q.get().unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(got))).is_err());
    q.task_done().unwrap();
    let discarded = q.shutdown(true);
    assert_eq!(discarded.len(), 1);
    drop(discarded);
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
    assert!(q.is_shutdown() && q.empty());
    q.join(); // returns: one done, one discarded
    assert_eq!(q.task_done(), Err(TaskDoneError));

    // Dropping a queue that still holds a panicking item: the others are dropped too.
    dropped.store(0, Ordering::SeqCst);
    let q = Queue::new(0);
    q.put(bomb(false)).unwrap();
    q.put(bomb(true)).unwrap();
    q.put(bomb(false)).unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(q))).is_err());
    assert_eq!(dropped.load(Ordering::SeqCst), 3, "every item dropped");
}

/// User code that panics while holding a `SemaphorePermit` or a `ConditionGuard` (the
/// `Lock` and `RLock` guards: `lock.rs`, `rlock.rs`): the permit is given back and the
/// condition's lock released while unwinding (no poisoning), so the next user gets them.
#[test]
fn permit_and_condition_guard_release_while_unwinding() {
    let sem = contexture_sync::BoundedSemaphore::new(1);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _permit = sem.permit();
        panic!("panics while holding a permit");
    }));
    assert!(result.is_err());
    assert_eq!(sem.value(), 1, "given back while unwinding");
    assert!(sem.try_acquire());

    let cond = Condition::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _outer = cond.lock();
        let _inner = cond.lock();
        panic!("panics while holding the condition's lock twice");
    }));
    assert!(result.is_err());
    assert!(
        !cond.inner_lock().locked(),
        "every level released while unwinding"
    );
    let _guard = cond.lock();
    assert_eq!(
        cond.wait_timeout(std::time::Duration::ZERO),
        Ok(false),
        "still usable"
    );
}
