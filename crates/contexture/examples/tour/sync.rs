//! Tour scenarios for `contexture::sync` (Python's `threading.Lock`, `RLock`, `Condition`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use contexture::sync::{Condition, Lock, RLock};

use crate::{check, scenario};

/// A plain read-modify-write, like Python's `self.value += 1`: read, add, write back. Two
/// threads doing it at once can lose an update; only a lock around it makes it exact.
fn increment(value: &AtomicU64) {
    let v = value.load(Ordering::Relaxed);
    value.store(v + 1, Ordering::Relaxed);
}

/// The seed's `SafeCounter`: a value and the `Lock` that guards it.
struct SafeCounter {
    value: AtomicU64,
    lock: Lock,
}

impl SafeCounter {
    fn increment(&self) {
        let _guard = self.lock.lock(); // with self._lock:
        increment(&self.value);
    }

    fn value(&self) -> u64 {
        let _guard = self.lock.lock();
        self.value.load(Ordering::Relaxed)
    }
}

/// Seed 16.2.2: ten threads increment a counter 100,000 times each, without and with a
/// `Lock`.
pub(crate) fn safe_counter() {
    scenario(
        "threading.Lock: ten threads, 100,000 increments each",
        "UnsafeCounter / SafeCounter with `with self._lock: self._value += 1`",
    );
    const THREADS: u64 = 10;
    const EACH: u64 = 100_000;

    let unsafe_value = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..EACH).for_each(|_| increment(&unsafe_value)));
        }
    });
    let unsafe_total = unsafe_value.load(Ordering::Relaxed);
    println!(
        "   without a lock: expected {}, got {unsafe_total} (updates may be lost)",
        THREADS * EACH
    );
    check(
        unsafe_total <= THREADS * EACH,
        "an unguarded counter never gains updates",
    );

    let counter = SafeCounter {
        value: AtomicU64::new(0),
        lock: Lock::new(),
    };
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..EACH).for_each(|_| counter.increment()));
        }
    });
    let total = counter.value();
    println!(
        "   with a Lock:    expected {}, got {total}",
        THREADS * EACH
    );
    check(
        total == 1_000_000,
        "the Lock makes the count exactly 1,000,000",
    );
    check(!counter.lock.locked(), "every guard released the lock");
}

/// The seed's `TreeNode`.
struct TreeNode {
    value: &'static str,
    children: Vec<TreeNode>,
}

impl TreeNode {
    fn new(value: &'static str, children: Vec<TreeNode>) -> TreeNode {
        TreeNode { value, children }
    }
}

/// The seed's `TreeWalker`: `walk` takes the `RLock` and recurses into itself.
struct TreeWalker {
    lock: RLock,
    visited: Mutex<Vec<&'static str>>,
    deepest: AtomicUsize,
}

impl TreeWalker {
    fn walk(&self, node: &TreeNode) {
        let _guard = self.lock.lock(); // with self._lock: (again, from inside)
        self.deepest
            .fetch_max(self.lock.recursion_count(), Ordering::Relaxed);
        self.visited.lock().unwrap().push(node.value);
        for child in &node.children {
            self.walk(child);
        }
    }
}

/// Seed 16.2.2, "Lock vs RLock" and "RLock for recursion": the owner re-enters an `RLock`;
/// a `Lock` cannot be re-entered.
pub(crate) fn tree_walker() {
    scenario(
        "threading.RLock: a recursive tree walk re-enters the lock it holds",
        "TreeWalker.walk: `with self._lock:` then self.walk(child) for each child",
    );
    let lock = Lock::new();
    lock.acquire();
    let again = lock.acquire_timeout(Duration::from_millis(20));
    println!(
        "   a Lock acquired twice by one thread: second acquire (20 ms timeout) -> {again} \
         (Python's seed blocks forever here)"
    );
    check(!again, "a Lock is not reentrant");
    lock.release().unwrap();

    let rlock = RLock::new();
    rlock.acquire();
    rlock.acquire();
    println!(
        "   an RLock acquired twice: nested acquire succeeded, count {}",
        rlock.recursion_count()
    );
    check(rlock.recursion_count() == 2, "the RLock counts both levels");
    rlock.release().unwrap();
    rlock.release().unwrap();
    check(!rlock.locked(), "two releases free it fully");

    let root = TreeNode::new(
        "root",
        vec![
            TreeNode::new("left", vec![TreeNode::new("left-left", vec![])]),
            TreeNode::new("right", vec![]),
        ],
    );
    let walker = TreeWalker {
        lock: RLock::new(),
        visited: Mutex::new(Vec::new()),
        deepest: AtomicUsize::new(0),
    };
    walker.walk(&root);
    let visited = walker.visited.lock().unwrap().clone();
    println!(
        "   walk result: {visited:?} (the lock was held {} levels deep at the bottom)",
        walker.deepest.load(Ordering::Relaxed)
    );
    check(
        visited == ["root", "left", "left-left", "right"],
        "the walk visits every node in order",
    );
    check(
        walker.deepest.load(Ordering::Relaxed) == 3,
        "the RLock was re-entered once per tree level",
    );
    check(!walker.lock.locked(), "the walk released every level");
}

/// The seed's `BoundedBuffer`: a list guarded by a `Condition` (over an `RLock`, as
/// `threading.Condition()` makes). contexture's locks guard no data, like Python's: the
/// list lives in a `Mutex` that is only ever taken while the condition is held, so it is
/// never contended.
struct BoundedBuffer {
    items: Mutex<VecDeque<String>>,
    capacity: usize,
    condition: Condition,
    most_held: AtomicUsize,
}

impl BoundedBuffer {
    fn len(&self) -> usize {
        self.items.lock().unwrap().len()
    }

    fn put(&self, item: String) {
        let _guard = self.condition.lock();
        while self.len() >= self.capacity {
            println!("   buffer full, producer waits (size={})", self.len());
            self.condition.wait().unwrap();
        }
        let size = {
            let mut items = self.items.lock().unwrap();
            items.push_back(item.clone());
            items.len()
        };
        self.most_held.fetch_max(size, Ordering::Relaxed);
        println!("   produced {item} (size={size})");
        self.condition.notify_all().unwrap();
    }

    fn get(&self) -> String {
        let _guard = self.condition.lock();
        while self.len() == 0 {
            println!("   buffer empty, consumer waits");
            self.condition.wait().unwrap();
        }
        let (item, size) = {
            let mut items = self.items.lock().unwrap();
            let item = items.pop_front().unwrap();
            (item, items.len())
        };
        println!("   consumed {item} (size={size})");
        self.condition.notify_all().unwrap();
        item
    }
}

/// Seed 16.2.2, `Condition`: two producers and two consumers share a buffer of three.
pub(crate) fn bounded_buffer() {
    scenario(
        "threading.Condition: a bounded buffer, two producers, two consumers",
        "BoundedBuffer(capacity=3): put waits while full, get waits while empty, notify_all",
    );
    let buffer = BoundedBuffer {
        items: Mutex::new(VecDeque::new()),
        capacity: 3,
        condition: Condition::new(),
        most_held: AtomicUsize::new(0),
    };
    let consumed = Mutex::new(Vec::new());
    thread::scope(|s| {
        for producer in 0..2 {
            let buffer = &buffer;
            s.spawn(move || {
                for i in 0..5 {
                    buffer.put(format!("P{producer}-{i}"));
                    // The seed sleeps 0.1-0.3 s; a millisecond keeps the interleaving.
                    thread::sleep(Duration::from_millis(1 + (i % 2)));
                }
            });
        }
        for consumer in 0..2u64 {
            let (buffer, consumed) = (&buffer, &consumed);
            s.spawn(move || {
                for _ in 0..5 {
                    let item = buffer.get();
                    consumed.lock().unwrap().push(item);
                    thread::sleep(Duration::from_millis(2 + consumer));
                }
            });
        }
    });
    let mut consumed = consumed.into_inner().unwrap();
    consumed.sort();
    let mut expected: Vec<String> = (0..2)
        .flat_map(|p| (0..5).map(move |i| format!("P{p}-{i}")))
        .collect();
    expected.sort();
    println!(
        "   {} items consumed; the buffer never held more than {}",
        consumed.len(),
        buffer.most_held.load(Ordering::Relaxed)
    );
    check(consumed == expected, "every item was consumed exactly once");
    check(
        buffer.most_held.load(Ordering::Relaxed) <= 3,
        "the buffer never exceeded its capacity of 3",
    );
    check(buffer.len() == 0, "the buffer ends empty");
}
