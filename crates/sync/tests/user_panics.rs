//! Panicking user code at every place the crate runs it — a `PriorityQueue` item's `Ord`
//! (in `put`, `get` and `shutdown(true)`), a `Barrier` action, a `Condition::wait_for`
//! predicate, an item's `Drop` (items the queue hands back, items left in a dropped queue):
//! nothing is lost, the counts stay consistent, nothing hangs or aborts, and the object is
//! still usable afterwards (or cleanly broken, with a typed error).

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::cmp::Ordering as CmpOrdering;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use contexture_sync::{GetError, PriorityQueue, TaskDoneError};

/// Runs `f` on a helper thread and fails the test if it has not returned within 30 s (a
/// hang must not freeze the suite); `f`'s own panic fails the test too.
fn within_deadline<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let helper = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(value) => {
            helper.join().unwrap();
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still blocked after 30 s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(helper.join().unwrap_err())
        }
    }
}

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
