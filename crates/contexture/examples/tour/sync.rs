//! Tour scenarios for `contexture::sync` (Python's `threading.Lock`, `RLock`, `Condition`,
//! `Semaphore`, `Event`, `Barrier` and the `queue` module).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use contexture::sync::{
    Barrier, Condition, Event, LifoQueue, Lock, PriorityQueue, Queue, RLock, Semaphore,
    SemaphorePermit,
};

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

/// The seed's `ConnectionPool`: a `Semaphore` of `max_connections` permits in front of a
/// list of open connections (the list guarded by a `Lock`, as in the seed; the data itself
/// sits in a `Mutex` only ever taken under that lock).
struct ConnectionPool {
    semaphore: Semaphore,
    lock: Lock,
    connections: Mutex<Vec<String>>,
    next_id: AtomicUsize,
    in_use: AtomicUsize,
    most_in_use: AtomicUsize,
}

/// A connection taken from the pool; given back when dropped (the seed's `with pool as
/// conn:`).
struct Connection<'a> {
    pool: &'a ConnectionPool,
    name: String,
    _permit: SemaphorePermit<'a>,
}

impl ConnectionPool {
    fn new(max_connections: usize) -> ConnectionPool {
        ConnectionPool {
            semaphore: Semaphore::new(max_connections),
            lock: Lock::new(),
            connections: Mutex::new(Vec::new()),
            next_id: AtomicUsize::new(0),
            in_use: AtomicUsize::new(0),
            most_in_use: AtomicUsize::new(0),
        }
    }

    fn acquire(&self) -> Connection<'_> {
        let permit = self.semaphore.permit(); // self._semaphore.acquire()
        let name = {
            let _guard = self.lock.lock(); // with self._lock:
            let name = format!(
                "Connection-{}",
                self.next_id.fetch_add(1, Ordering::Relaxed)
            );
            self.connections.lock().unwrap().push(name.clone());
            name
        };
        let now = self.in_use.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_use.fetch_max(now, Ordering::SeqCst);
        println!("   acquired {name} ({now} in use)");
        Connection {
            pool: self,
            name,
            _permit: permit,
        }
    }
}

impl Drop for Connection<'_> {
    fn drop(&mut self) {
        let pool = self.pool;
        pool.in_use.fetch_sub(1, Ordering::SeqCst);
        let _guard = pool.lock.lock();
        pool.connections.lock().unwrap().retain(|c| *c != self.name);
        println!("   released {}", self.name);
        // The permit is released after this, as the seed's `self._semaphore.release()`.
    }
}

/// Seed 16.2.2, `Semaphore`: five clients share a pool of two connections.
pub(crate) fn connection_pool() {
    scenario(
        "threading.Semaphore: five clients, a pool of two connections",
        "ConnectionPool(max_connections=2): `with pool as conn:` around each client's work",
    );
    let pool = ConnectionPool::new(2);
    thread::scope(|s| {
        for i in 0..5u64 {
            let pool = &pool;
            s.spawn(move || {
                let conn = pool.acquire();
                println!("   Client-{i} uses {}", conn.name);
                // The seed sleeps i * 0.5 + 0.5 s.
                thread::sleep(Duration::from_millis(5 + 5 * i));
            });
        }
    });
    let most = pool.most_in_use.load(Ordering::SeqCst);
    println!("   at most {most} connections were in use at once");
    check(most <= 2, "the semaphore never let more than 2 clients in");
    check(most >= 1, "clients did get connections");
    check(pool.semaphore.value() == 2, "every permit was given back");
    check(
        pool.connections.lock().unwrap().is_empty(),
        "every connection was released",
    );
}

/// The seed's `ServiceManager`: a `ready` and a `shutdown` event.
struct ServiceManager {
    ready: Event,
    shutdown: Event,
}

impl ServiceManager {
    fn wait_ready(&self, timeout: Option<Duration>) -> bool {
        match timeout {
            Some(timeout) => self.ready.wait_timeout(timeout),
            None => {
                self.ready.wait();
                true
            }
        }
    }
    fn mark_ready(&self) {
        self.ready.set();
        println!("   service ready");
    }
    fn request_shutdown(&self) {
        self.shutdown.set();
        println!("   shutdown requested");
    }
    fn is_shutdown_requested(&self) -> bool {
        self.shutdown.is_set()
    }
}

/// Seed 16.2.2, `Event`: a worker waits for the service to be ready, works until shutdown
/// is requested.
pub(crate) fn service_manager() {
    scenario(
        "threading.Event: a worker waits for `ready`, works until `shutdown`",
        "ServiceManager with _ready / _shutdown Events, service_worker + service_initializer",
    );
    let manager = ServiceManager {
        ready: Event::new(),
        shutdown: Event::new(),
    };
    let early = manager.wait_ready(Some(Duration::from_millis(5)));
    println!("   wait_ready(timeout=5 ms) before initialisation -> {early}");
    check(
        !early,
        "wait_ready times out while the service is not ready",
    );
    let rounds = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            println!("   worker: waiting for the service...");
            manager.wait_ready(None);
            println!("   worker: service ready, working");
            while !manager.is_shutdown_requested() {
                thread::sleep(Duration::from_millis(5)); // the seed's 0.5 s of work
                rounds.fetch_add(1, Ordering::Relaxed);
            }
            println!("   worker: shutdown signal received, exiting");
        });
        s.spawn(|| {
            println!("   initializer: initialising the service...");
            thread::sleep(Duration::from_millis(20)); // the seed's 2 s
            manager.mark_ready();
            thread::sleep(Duration::from_millis(30)); // the seed's 3 s
                                                      // The seed trusts its 3 s; a loaded machine may not have run the worker yet:
                                                      // the shutdown waits for its first round, so the check below always holds.
            while rounds.load(Ordering::Relaxed) == 0 {
                thread::sleep(Duration::from_millis(1));
            }
            manager.request_shutdown();
        });
    });
    let rounds = rounds.load(Ordering::Relaxed);
    println!("   the worker did {rounds} rounds of work");
    check(
        manager.ready.is_set() && manager.is_shutdown_requested(),
        "both events are set",
    );
    check(rounds >= 1, "the worker worked between ready and shutdown");
}

/// Seed 16.2.2, `Barrier`: four workers, two phases; nobody starts phase 2 before all
/// finished phase 1.
pub(crate) fn two_phase_barrier() {
    scenario(
        "threading.Barrier: four workers, two phases",
        "parallel_computation(worker_id, barrier): phase 1, barrier.wait(), phase 2, barrier.wait()",
    );
    const WORKERS: usize = 4;
    let barrier = Barrier::new(WORKERS).expect("4 parties");
    let phase1_done = AtomicUsize::new(0);
    let early_phase2 = AtomicUsize::new(0);
    let indices = Mutex::new(Vec::new());
    thread::scope(|s| {
        for id in 0..WORKERS {
            let (barrier, phase1_done, early_phase2, indices) =
                (&barrier, &phase1_done, &early_phase2, &indices);
            s.spawn(move || {
                // The seed sleeps 0.5-1.5 s; a few milliseconds, different per worker.
                let phase1 = 3 + (id * 7) % 10;
                println!("   Worker-{id} phase 1 ({phase1} ms)");
                thread::sleep(Duration::from_millis(phase1 as u64));
                phase1_done.fetch_add(1, Ordering::SeqCst);
                println!("   Worker-{id} waits for the others to finish phase 1");
                let index = barrier.wait().expect("nobody breaks the barrier");
                indices.lock().unwrap().push(index);
                if phase1_done.load(Ordering::SeqCst) != WORKERS {
                    early_phase2.fetch_add(1, Ordering::SeqCst);
                }
                let phase2 = 2 + (id * 3) % 5;
                println!("   Worker-{id} phase 2 ({phase2} ms)");
                thread::sleep(Duration::from_millis(phase2 as u64));
                barrier.wait().expect("nobody breaks the barrier");
                println!("   Worker-{id} all done");
            });
        }
    });
    let mut indices = indices.into_inner().unwrap();
    indices.sort();
    check(
        early_phase2.load(Ordering::SeqCst) == 0,
        "no worker started phase 2 before all four finished phase 1",
    );
    check(
        indices == [0, 1, 2, 3],
        "the first round handed out the indices 0..4",
    );
    check(!barrier.is_broken(), "the barrier is intact");
}

/// Seed 16.2.3, the `WorkerPool` on a `Queue` with `task_done` / `join`: three workers,
/// ten tasks `(id, data)` doubled. The seed stops its workers with `None` sentinels;
/// Python 3.13's `shutdown()` (which contexture's queues have) replaces them.
pub(crate) fn worker_pool() {
    scenario(
        "queue.Queue: a worker pool, task_done() and join()",
        "WorkerPool(num_workers=3) over TaskQueue(maxsize=100); submit 10 tasks; wait_completion()",
    );
    let tasks: Queue<(u32, u32)> = Queue::new(100);
    let results = Mutex::new(Vec::new());
    thread::scope(|s| {
        for worker in 0..3 {
            let (tasks, results) = (&tasks, &results);
            s.spawn(move || {
                // `get` fails once the queue is shut down and empty: the loop ends.
                while let Ok((id, data)) = tasks.get() {
                    thread::sleep(Duration::from_millis(1 + u64::from(id % 3)));
                    let result = data * 2;
                    println!("   Worker-{worker}: task {id}: {data} -> {result}");
                    results.lock().unwrap().push((id, result));
                    tasks.task_done().expect("one task_done per task");
                }
            });
        }
        for i in 0..10 {
            tasks.put((i, i * 10)).expect("the queue is open");
        }
        tasks.join(); // pool.wait_completion()
        println!("   all tasks done (join returned)");
        check(tasks.empty(), "the queue is empty once join returns");
        check(
            results.lock().unwrap().len() == 10,
            "join returned only after all 10 tasks were marked done",
        );
        tasks.shutdown(false); // pool.shutdown(): the workers' `get` now fails
    });
    let mut results = results.into_inner().unwrap();
    results.sort();
    check(
        results == (0..10).map(|i| (i, i * 20)).collect::<Vec<_>>(),
        "every task was processed exactly once, data * 2",
    );
    check(
        tasks.put((99, 0)).is_err(),
        "after shutdown, put hands the item back",
    );
}

/// A task ordered by its priority only, so that equal priorities show the queue's own
/// tie-break: insertion order.
#[derive(Debug)]
struct PrioritizedTask {
    priority: u8,
    name: &'static str,
}

impl PartialEq for PrioritizedTask {
    fn eq(&self, other: &Self) -> bool {
        self.priority == other.priority
    }
}
impl Eq for PrioritizedTask {}
impl PartialOrd for PrioritizedTask {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PrioritizedTask {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.priority.cmp(&other.priority)
    }
}

/// Seed 16.2.3, `PriorityQueue` and `LifoQueue`: the order each hands items out in.
pub(crate) fn priority_and_lifo_queues() {
    scenario(
        "queue.PriorityQueue and queue.LifoQueue: the order items come out",
        "priority_q.put((priority, task)) x5 then get(timeout=2); lifo_q.put(f\"Item-{i}\") x5",
    );
    let priority_q = PriorityQueue::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            for (priority, name) in [
                (3, "low priority task"),
                (1, "high priority task"),
                (2, "medium priority task"),
                (1, "another high priority task"),
                (3, "another low priority task"),
            ] {
                priority_q
                    .put(PrioritizedTask { priority, name })
                    .expect("the queue is open");
            }
        })
        .join()
        .unwrap(); // t1.start(); t1.join()
    });
    let mut order = Vec::new();
    // t2: get(timeout=2) until Empty.
    while let Ok(task) = priority_q.get_timeout(Duration::from_millis(20)) {
        println!("   processing: [{}] {}", task.priority, task.name);
        order.push(task.name);
        priority_q.task_done().expect("one per task");
    }
    check(
        order
            == [
                "high priority task",
                "another high priority task",
                "medium priority task",
                "low priority task",
                "another low priority task",
            ],
        "smallest priority first; equal priorities in the order they were put",
    );

    let lifo_q = LifoQueue::new(0);
    for i in 0..5 {
        lifo_q.put(format!("Item-{i}")).expect("the queue is open");
    }
    println!("   LIFO order:");
    let mut lifo_order = Vec::new();
    while !lifo_q.empty() {
        let item = lifo_q.get().expect("not empty");
        println!("     took {item}");
        lifo_order.push(item);
    }
    check(
        lifo_order == ["Item-4", "Item-3", "Item-2", "Item-1", "Item-0"],
        "the LifoQueue hands out the last item put first",
    );
}
