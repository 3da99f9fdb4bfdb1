//! The async faces (feature `async`): `Lock::acquire_async`, the semaphores'
//! `acquire_async`, `Event::wait_async`, the queues' `put_async`/`get_async`/`join_async`:
//! results and errors as the blocking forms, tokio (current-thread and multi-thread) and
//! `futures::executor`, threads and tasks on one object, and cancel safety at every await
//! point (futures polled by hand with counting wakers, then dropped).

#![cfg(all(feature = "async", not(contexture_loom)))]

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use common::within_deadline;
use contexture_sync::{
    BoundedSemaphore, Event, GetError, LifoQueue, Lock, PriorityQueue, PutError, Queue, Semaphore,
};

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future polled by hand, with its own counting waker.
struct Probe<F: Future> {
    fut: Pin<Box<F>>,
    wakes: Arc<Counter>,
    waker: Waker,
}

impl<F: Future> Probe<F> {
    fn new(fut: F) -> Self {
        let wakes = Arc::new(Counter::default());
        let waker = Waker::from(wakes.clone());
        Probe {
            fut: Box::pin(fut),
            wakes,
            waker,
        }
    }
    fn poll(&mut self) -> Poll<F::Output> {
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }
    fn woken(&self) -> usize {
        self.wakes.0.load(Ordering::SeqCst)
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

fn assert_send<T: Send>(_: &T) {}

/// `n`, or a few under Miri (whose interpreter is thousands of times slower).
fn scale(n: usize) -> usize {
    if cfg!(miri) {
        (n / 100).max(3)
    } else {
        n
    }
}

/// A non-atomic increment: a lost update shows as a wrong count.
fn bump(counter: &AtomicUsize) {
    let v = counter.load(Ordering::Relaxed);
    thread::yield_now();
    counter.store(v + 1, Ordering::Relaxed);
}

// ---------------------------------------------------------------------------------------
// Lock

#[test]
fn lock_acquire_async_then_release() {
    let lock = Lock::new();
    futures::executor::block_on(async {
        let guard = lock.acquire_async().await;
        assert!(lock.locked());
        assert!(!lock.try_acquire());
        drop(guard);
    });
    assert!(!lock.locked());
}

#[test]
fn lock_guard_and_future_are_send() {
    let lock = Lock::new();
    let fut = lock.acquire_async();
    assert_send(&fut);
    let guard = futures::executor::block_on(fut);
    assert_send(&guard);
    drop(guard);
    // Every async face's future is `Send` (the queues' when the item is), so tasks holding
    // them run on a multi-thread runtime.
    let (sem, bounded, event) = (Semaphore::new(1), BoundedSemaphore::new(1), Event::new());
    let barrier = contexture_sync::Barrier::new(1).unwrap();
    let q: Queue<String> = Queue::new(0);
    assert_send(&sem.acquire_async());
    assert_send(&bounded.acquire_async());
    assert_send(&event.wait_async());
    assert_send(&barrier.wait_async());
    assert_send(&q.put_async(String::new()));
    assert_send(&q.get_async());
    assert_send(&q.join_async());
}

/// Tasks on a multi-thread runtime and plain threads exclude each other: the non-atomic
/// count is exact, and the guard is held across an `.await`.
#[test]
fn lock_excludes_tasks_and_threads_together() {
    within_deadline("lock mix", || {
        let lock = Arc::new(Lock::new());
        let count = Arc::new(AtomicUsize::new(0));
        let rt = multi_thread();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (lock, count) = (lock.clone(), count.clone());
                rt.spawn(async move {
                    for _ in 0..scale(200) {
                        let _guard = lock.acquire_async().await;
                        bump(&count);
                        tokio::task::yield_now().await; // held across an await
                    }
                })
            })
            .collect();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (lock, count) = (lock.clone(), count.clone());
                thread::spawn(move || {
                    for _ in 0..scale(200) {
                        let _guard = lock.lock();
                        bump(&count);
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(count.load(Ordering::Relaxed), 10 * scale(200));
        assert!(!lock.locked());
    });
}

/// A release wakes the oldest waiting task only; that task, dropped before it looks
/// again, hands the wake-up to the next one, which gets the lock.
#[test]
fn lock_dropped_woken_waiter_passes_the_wake_up_on() {
    let lock = Lock::new();
    lock.acquire();
    let mut a = Probe::new(lock.acquire_async());
    let mut b = Probe::new(lock.acquire_async());
    assert!(a.poll().is_pending() && b.poll().is_pending());
    lock.release().unwrap();
    assert_eq!(
        (a.woken(), b.woken()),
        (1, 0),
        "the oldest task is woken, only it"
    );
    drop(a);
    assert_eq!(b.woken(), 1, "the dropped task's wake-up went on");
    let Poll::Ready(guard) = b.poll() else {
        panic!("b gets the lock")
    };
    drop(guard);
    assert!(!lock.locked());
}

/// A dropped waiter that was never woken leaves nothing behind: the next release goes to
/// the remaining waiter; a dropped future that never polled does nothing.
#[test]
fn lock_dropped_pending_waiter_leaves_no_trace() {
    let lock = Lock::new();
    drop(lock.acquire_async());
    lock.acquire();
    let mut a = Probe::new(lock.acquire_async());
    let mut b = Probe::new(lock.acquire_async());
    assert!(a.poll().is_pending() && b.poll().is_pending());
    drop(a);
    lock.release().unwrap();
    assert_eq!(b.woken(), 1);
    assert!(b.poll().is_ready());
}

/// A woken task that finds the lock taken again (a thread barged in) waits again and is
/// woken by the next release.
#[test]
fn lock_barged_task_waits_again() {
    let lock = Lock::new();
    lock.acquire();
    let mut a = Probe::new(lock.acquire_async());
    assert!(a.poll().is_pending());
    lock.release().unwrap();
    assert!(lock.try_acquire(), "a barging thread");
    assert!(a.poll().is_pending());
    lock.release().unwrap();
    assert_eq!(a.woken(), 2);
    assert!(a.poll().is_ready());
}

/// `tokio::time::timeout` around `acquire_async`: times out while the lock is held, and the
/// lock stays usable (the timed-out waiter left the list).
#[test]
fn lock_timeout_is_safe() {
    let rt = current_thread();
    let lock = Lock::new();
    rt.block_on(async {
        let guard = lock.acquire_async().await;
        let timed = tokio::time::timeout(Duration::from_millis(20), lock.acquire_async()).await;
        assert!(timed.is_err());
        drop(guard);
        let _again = lock.acquire_async().await;
    });
}

/// Any thread may release a lock a task holds (Python's rule), and a task waiting on it
/// is woken by that release.
#[test]
fn lock_released_by_a_thread_wakes_a_task() {
    within_deadline("lock release by thread", || {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let other = lock.clone();
        let releaser = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            other.release().unwrap();
        });
        futures::executor::block_on(async {
            drop(lock.acquire_async().await);
        });
        releaser.join().unwrap();
    });
}

// ---------------------------------------------------------------------------------------
// Semaphores

#[test]
fn semaphore_acquire_async_returns_a_permit() {
    let sem = Semaphore::new(2);
    let bounded = BoundedSemaphore::new(1);
    futures::executor::block_on(async {
        let a = sem.acquire_async().await;
        let b = sem.acquire_async().await;
        assert_eq!(sem.value(), 0);
        assert_send(&a);
        drop((a, b));
        let p = bounded.acquire_async().await;
        assert_eq!(bounded.value(), 0);
        drop(p);
    });
    assert_eq!(sem.value(), 2);
    assert_eq!(bounded.value(), 1);
    assert_eq!(
        bounded.release(1),
        Err(contexture_sync::SemaphoreReleaseError::TooMany)
    );
}

/// Waiting tasks are woken oldest first, `release(n)` wakes `n` of them.
#[test]
fn semaphore_wakes_tasks_in_fifo_order() {
    let sem = Semaphore::new(0);
    let mut probes: Vec<_> = (0..4).map(|_| Probe::new(sem.acquire_async())).collect();
    for p in &mut probes {
        assert!(p.poll().is_pending());
    }
    sem.release(1);
    let woken: Vec<_> = probes.iter().map(Probe::woken).collect();
    assert_eq!(woken, [1, 0, 0, 0]);
    sem.release(2);
    let woken: Vec<_> = probes.iter().map(Probe::woken).collect();
    assert_eq!(woken, [1, 1, 1, 0]);
    let permits: Vec<_> = probes[..3]
        .iter_mut()
        .map(|p| match p.poll() {
            Poll::Ready(permit) => permit,
            Poll::Pending => panic!("a woken task gets its permit"),
        })
        .collect();
    assert_eq!(sem.value(), 0);
    drop(permits);
    assert_eq!(
        probes[3].woken(),
        1,
        "a returned permit wakes the last task"
    );
}

/// The cancel-safety rule of `acquire_async`: a woken task dropped before it looked again
/// holds no permit and passes the wake-up on; a pending dropped task takes nothing.
#[test]
fn semaphore_dropped_woken_waiter_gives_the_permit_on() {
    let sem = BoundedSemaphore::new(1);
    let held = sem.acquire_async();
    let permit = futures::executor::block_on(held);
    let mut a = Probe::new(sem.acquire_async());
    let mut b = Probe::new(sem.acquire_async());
    let mut c = Probe::new(sem.acquire_async());
    assert!(a.poll().is_pending() && b.poll().is_pending() && c.poll().is_pending());
    drop(b); // pending, never woken: nothing to pass on
    drop(permit);
    assert_eq!((a.woken(), c.woken()), (1, 0));
    drop(a);
    assert_eq!(c.woken(), 1, "a's wake-up went to c");
    assert_eq!(sem.value(), 1, "no permit is lost");
    assert!(c.poll().is_ready());
    assert_eq!(sem.value(), 1, "c's permit went back when it dropped");
}

/// Threads and tasks bounded by one semaphore: never more than three inside at once,
/// on a multi-thread runtime, with a timeout racing every acquire.
#[test]
fn semaphore_bounds_tasks_and_threads_together() {
    within_deadline("semaphore mix", || {
        let sem = Arc::new(Semaphore::new(3));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let enter = |inside: &AtomicUsize, most: &AtomicUsize| {
            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
        };
        let rt = multi_thread();
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
                rt.spawn(async move {
                    for round in 0..scale(100) {
                        let permit = if (i + round) % 3 == 0 {
                            // A timeout racing the wake-ups: dropped waiters must not leak.
                            match tokio::time::timeout(
                                Duration::from_micros(50),
                                sem.acquire_async(),
                            )
                            .await
                            {
                                Ok(permit) => permit,
                                Err(_) => continue,
                            }
                        } else {
                            sem.acquire_async().await
                        };
                        enter(&inside, &most);
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                        drop(permit);
                    }
                })
            })
            .collect();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
                thread::spawn(move || {
                    for _ in 0..scale(100) {
                        let _permit = sem.permit();
                        enter(&inside, &most);
                        thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert_eq!(sem.value(), 3, "every permit came back");
    });
}

// ---------------------------------------------------------------------------------------
// Event

#[test]
fn event_wait_async_set_by_a_thread() {
    within_deadline("event", || {
        let event = Event::new();
        thread::scope(|s| {
            s.spawn(|| event.set());
            futures::executor::block_on(event.wait_async());
        });
        assert!(event.is_set());
        // Set already: ready at once.
        futures::executor::block_on(event.wait_async());
    });
}

/// A task woken by `set` completes even if `clear` ran before it looked again (Python's
/// rule); a task that registers after the clear waits for the next `set`.
#[test]
fn event_woken_task_completes_after_clear() {
    let event = Event::new();
    let mut a = Probe::new(event.wait_async());
    assert!(a.poll().is_pending());
    event.set();
    event.clear();
    let mut b = Probe::new(event.wait_async());
    assert!(b.poll().is_pending());
    assert_eq!(a.woken(), 1);
    assert!(a.poll().is_ready());
    assert!(b.poll().is_pending());
    drop(b); // leaves the list
    event.set();
}

/// One `set` wakes blocked threads and waiting tasks together; a dropped waiter is
/// simply gone.
#[test]
fn event_set_wakes_threads_and_tasks() {
    within_deadline("event mix", || {
        let event = Arc::new(Event::new());
        let rt = multi_thread();
        let dropped = {
            let event = event.clone();
            rt.spawn(async move {
                let _ = tokio::time::timeout(Duration::from_millis(1), event.wait_async()).await;
            })
        };
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let event = event.clone();
                rt.spawn(async move { event.wait_async().await })
            })
            .collect();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let event = event.clone();
                thread::spawn(move || event.wait())
            })
            .collect();
        rt.block_on(async { dropped.await.unwrap() });
        event.set();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
    });
}

// ---------------------------------------------------------------------------------------
// Queues

#[test]
fn queue_async_spsc_keeps_order_on_current_thread() {
    let q = Arc::new(Queue::new(16));
    let rt = current_thread();
    rt.block_on(async {
        let producer = {
            let q = q.clone();
            tokio::spawn(async move {
                for i in 0..scale(2000) {
                    q.put_async(i).await.unwrap();
                }
            })
        };
        for i in 0..scale(2000) {
            assert_eq!(q.get_async().await, Ok(i));
        }
        producer.await.unwrap();
    });
    assert!(q.empty());
}

#[test]
fn lifo_and_priority_queues_have_async_faces() {
    futures::executor::block_on(async {
        let lifo = LifoQueue::new(0);
        let prio = PriorityQueue::new(0);
        for i in 0..3 {
            lifo.put_async(i).await.unwrap();
            prio.put_async(3 - i).await.unwrap();
        }
        assert_eq!(lifo.get_async().await, Ok(2));
        assert_eq!(prio.get_async().await, Ok(1));
        for q in [&lifo] {
            while q.try_get().is_ok() {}
        }
    });
}

/// A thread producer and tasks consuming one queue (the janus use case), plus a thread
/// consumer on the same queue: every item arrives exactly once.
#[test]
fn queue_threads_and_tasks_share_one_queue() {
    within_deadline("queue mix", || {
        let q = Arc::new(Queue::new(8));
        let rt = multi_thread();
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let q = q.clone();
                thread::spawn(move || {
                    for i in 0..scale(1000) {
                        q.put(p * 1000 + i).unwrap();
                    }
                })
            })
            .collect();
        let async_producer = {
            let q = q.clone();
            rt.spawn(async move {
                for i in 2000..2000 + scale(1000) {
                    q.put_async(i).await.unwrap();
                }
            })
        };
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                rt.spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(item) = q.get_async().await {
                        got.push(item);
                        q.task_done().unwrap();
                    }
                    got
                })
            })
            .collect();
        let thread_consumer = {
            let q = q.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(item) = q.get() {
                    got.push(item);
                    q.task_done().unwrap();
                }
                got
            })
        };
        for p in producers {
            p.join().unwrap();
        }
        rt.block_on(async {
            async_producer.await.unwrap();
            q.join_async().await;
        });
        q.shutdown(false);
        let mut all = thread_consumer.join().unwrap();
        rt.block_on(async {
            for c in consumers {
                all.extend(c.await.unwrap());
            }
        });
        all.sort_unstable();
        let n = scale(1000);
        let expected: Vec<usize> = (0..3).flat_map(|p| p * 1000..p * 1000 + n).collect();
        assert_eq!(all, expected);
    });
}

/// A `get_async` that times out consumes nothing: the item put afterwards is there for
/// the next getter (asyncio's `wait_for(q.get(), t)`).
#[test]
fn queue_get_async_timeout_consumes_nothing() {
    let rt = current_thread();
    let q = Queue::new(0);
    rt.block_on(async {
        let timed = tokio::time::timeout(Duration::from_millis(20), q.get_async()).await;
        assert!(timed.is_err());
        q.put(1).unwrap();
        assert_eq!(q.qsize(), 1);
        assert_eq!(q.get_async().await, Ok(1));
    });
}

/// The cancel-safety rule of `get_async`: a woken getter dropped before it looked again
/// takes nothing and passes its wake-up on to the next getter.
#[test]
fn queue_dropped_woken_getter_passes_the_wake_up_on() {
    let q = Queue::new(0);
    let mut a = Probe::new(q.get_async());
    let mut b = Probe::new(q.get_async());
    assert!(a.poll().is_pending() && b.poll().is_pending());
    q.put("x").unwrap();
    assert_eq!((a.woken(), b.woken()), (1, 0));
    drop(a);
    assert_eq!(b.woken(), 1);
    assert_eq!(q.qsize(), 1, "nothing consumed by the dropped getter");
    assert_eq!(b.poll(), Poll::Ready(Ok("x")));
}

/// The cancel-safety rule of `put_async`: a pending put dropped while the queue is full
/// inserts nothing (its item is dropped with it); a woken putter dropped before it looked
/// again passes the room on to the next putter.
#[test]
fn queue_dropped_putters_never_half_insert() {
    let q = Queue::new(1);
    q.put(0).unwrap();
    let mut a = Probe::new(q.put_async(1));
    let mut b = Probe::new(q.put_async(2));
    let mut c = Probe::new(q.put_async(3));
    assert!(a.poll().is_pending() && b.poll().is_pending() && c.poll().is_pending());
    drop(b); // never woken: nothing to pass on, nothing inserted
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get(), Ok(0)); // room for one: `a` is woken
    assert_eq!((a.woken(), c.woken()), (1, 0));
    drop(a);
    assert_eq!(c.woken(), 1, "a's wake-up went to c");
    assert_eq!(q.qsize(), 0, "a inserted nothing");
    assert_eq!(c.poll(), Poll::Ready(Ok(())));
    assert_eq!(q.get(), Ok(3));
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(
        q.task_done(),
        Err(contexture_sync::TaskDoneError),
        "only 0 and 3 counted"
    );
}

/// `shutdown` wakes waiting getters (`Err(ShutDown)`), putters (`ShutDown(item)`, the item
/// handed back) and joiners, whatever `immediate` says.
#[test]
fn queue_shutdown_wakes_async_waiters() {
    for immediate in [false, true] {
        let empty: Queue<u8> = Queue::new(1);
        let mut getter = Probe::new(empty.get_async());
        assert!(getter.poll().is_pending());
        let full = Queue::new(1);
        full.put(1).unwrap();
        let mut putter = Probe::new(full.put_async(2));
        let mut joiner = Probe::new(full.join_async());
        assert!(putter.poll().is_pending() && joiner.poll().is_pending());
        empty.shutdown(immediate);
        assert_eq!(getter.woken(), 1);
        assert_eq!(getter.poll(), Poll::Ready(Err(GetError::ShutDown)));
        let discarded = full.shutdown(immediate);
        assert_eq!(putter.woken(), 1);
        assert_eq!(putter.poll(), Poll::Ready(Err(PutError::ShutDown(2))));
        if immediate {
            assert_eq!(discarded, [1]);
            assert_eq!(joiner.woken(), 1);
            assert!(joiner.poll().is_ready(), "discarded items count as done");
        } else {
            assert!(joiner.poll().is_pending());
            assert_eq!(full.try_get(), Ok(1));
            full.task_done().unwrap();
            assert_eq!(joiner.woken(), 1);
            assert!(joiner.poll().is_ready());
        }
    }
}

/// Blocked threads and a waiting task on one queue: `shutdown(true)` wakes them all.
#[test]
fn queue_shutdown_wakes_threads_and_tasks() {
    within_deadline("shutdown mix", || {
        let q: Arc<Queue<u8>> = Arc::new(Queue::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || q.get())
            })
            .collect();
        let rt = current_thread();
        rt.block_on(async {
            let task = {
                let q = q.clone();
                tokio::spawn(async move { q.get_async().await })
            };
            tokio::task::yield_now().await;
            q.shutdown(true);
            assert_eq!(task.await.unwrap(), Err(GetError::ShutDown));
        });
        for t in threads {
            assert_eq!(t.join().unwrap(), Err(GetError::ShutDown));
        }
    });
}

/// `join_async` waits for `task_done` from threads; the future is cancel safe.
#[test]
fn queue_join_async_waits_for_task_done() {
    within_deadline("join_async", || {
        let q = Queue::new(0);
        for i in 0..5 {
            q.put(i).unwrap();
        }
        let mut early = Probe::new(q.join_async());
        assert!(early.poll().is_pending());
        drop(early);
        thread::scope(|s| {
            s.spawn(|| {
                while let Ok(_item) = q.try_get() {
                    q.task_done().unwrap();
                }
            });
            futures::executor::block_on(q.join_async());
        });
        futures::executor::block_on(q.join_async()); // nothing unfinished: at once
    });
}

/// The `futures` executor's local pool runs producers and consumers on one thread.
#[test]
fn queue_on_a_futures_local_pool() {
    use futures::task::LocalSpawnExt;
    let q = std::rc::Rc::new(Queue::new(2));
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    let sum = std::rc::Rc::new(std::cell::Cell::new(0));
    for _ in 0..2 {
        let (q, sum) = (q.clone(), sum.clone());
        spawner
            .spawn_local(async move {
                while let Ok(i) = q.get_async().await {
                    sum.set(sum.get() + i);
                }
            })
            .unwrap();
    }
    {
        let q = q.clone();
        spawner
            .spawn_local(async move {
                for i in 1..=100 {
                    q.put_async(i).await.unwrap();
                }
                q.shutdown(false);
            })
            .unwrap();
    }
    pool.run();
    assert_eq!(sum.get(), 5050);
}

/// Polling a resolved `get_async` again panics rather than take a second item.
#[test]
fn queue_get_future_polled_after_completion_takes_nothing_more() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    let mut get = Probe::new(q.get_async());
    assert_eq!(get.poll(), Poll::Ready(Ok(1)));
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| get.poll()));
    assert!(again.is_err());
    assert_eq!(q.try_get(), Ok(2), "the second item is still there");
}

/// Polling a completed `put_async` again does not put twice.
#[test]
fn queue_put_future_completes_once() {
    let q = Queue::new(0);
    let mut put = pin!(q.put_async(1));
    let waker = Waker::from(Arc::new(Counter::default()));
    let mut cx = Context::from_waker(&waker);
    assert_eq!(put.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(put.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(q.qsize(), 1);
}

// ---------------------------------------------------------------------------------------
// Barrier

use contexture_sync::Barrier;

/// A thread and a task meet at one barrier, over several rounds, with distinct indices.
#[test]
fn barrier_thread_and_task_meet() {
    within_deadline("barrier mix", || {
        let barrier = Barrier::new(2).unwrap();
        thread::scope(|s| {
            let thread = s.spawn(|| {
                (0..scale(50))
                    .map(|_| barrier.wait().unwrap())
                    .collect::<Vec<_>>()
            });
            let tasks: Vec<_> = futures::executor::block_on(async {
                let mut got = Vec::new();
                for _ in 0..scale(50) {
                    got.push(barrier.wait_async().await.unwrap());
                }
                got
            });
            let threads = thread.join().unwrap();
            for (t, k) in threads.iter().zip(&tasks) {
                assert_eq!(t + k, 1, "indices 0 and 1 every round");
            }
        });
    });
}

/// Three tasks on a multi-thread runtime, an action counting rounds: each round releases
/// all three with indices 0, 1, 2.
#[test]
fn barrier_tasks_rounds_with_action() {
    within_deadline("barrier tasks", || {
        let rounds = Arc::new(AtomicUsize::new(0));
        let r = rounds.clone();
        let barrier = Arc::new(
            Barrier::builder(3)
                .action(move || {
                    r.fetch_add(1, Ordering::SeqCst);
                })
                .build()
                .unwrap(),
        );
        let rt = multi_thread();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let barrier = barrier.clone();
                rt.spawn(async move {
                    let mut sum = 0;
                    for _ in 0..scale(20) {
                        sum += barrier.wait_async().await.unwrap();
                    }
                    sum
                })
            })
            .collect();
        let total: usize = rt.block_on(async {
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total
        });
        assert_eq!(total, scale(20) * 3, "indices 0, 1 and 2 every round");
        assert_eq!(rounds.load(Ordering::SeqCst), scale(20));
    });
}

/// `abort` wakes a waiting task with `BrokenBarrier`; later waits fail until `reset`.
#[test]
fn barrier_abort_wakes_tasks() {
    let barrier = Barrier::new(2).unwrap();
    let mut a = Probe::new(barrier.wait_async());
    assert!(a.poll().is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    barrier.abort();
    assert_eq!(a.woken(), 1);
    assert!(matches!(a.poll(), Poll::Ready(Err(_))));
    assert!(futures::executor::block_on(barrier.wait_async()).is_err());
    barrier.reset();
    let mut b = Probe::new(barrier.wait_async());
    assert!(b.poll().is_pending());
    barrier.reset(); // a reset during the round breaks it for its waiters
    assert!(matches!(b.poll(), Poll::Ready(Err(_))));
}

/// The cancel rule (asyncio's): a task dropped while waiting withdraws; the barrier is not
/// broken, the round needs one more arrival, and the indices stay distinct.
#[test]
fn barrier_dropped_task_withdraws() {
    let barrier = Barrier::new(3).unwrap();
    let mut a = Probe::new(barrier.wait_async());
    let mut b = Probe::new(barrier.wait_async());
    assert!(a.poll().is_pending() && b.poll().is_pending());
    drop(a);
    assert_eq!(barrier.n_waiting(), 1);
    assert!(!barrier.is_broken());
    let mut c = Probe::new(barrier.wait_async());
    assert!(c.poll().is_pending(), "two of three: still waiting");
    let Poll::Ready(Ok(last)) = Probe::new(barrier.wait_async()).poll() else {
        panic!("the third arrival completes the round")
    };
    let (Poll::Ready(Ok(ib)), Poll::Ready(Ok(ic))) = (b.poll(), c.poll()) else {
        panic!("released")
    };
    let mut indices = [last, ib, ic];
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2]);
}

/// A runtime timeout around `wait_async` withdraws (no break), so the barrier still works.
#[test]
fn barrier_timeout_withdraws_without_breaking() {
    let rt = current_thread();
    let barrier = Barrier::new(2).unwrap();
    rt.block_on(async {
        let timed = tokio::time::timeout(Duration::from_millis(10), barrier.wait_async()).await;
        assert!(timed.is_err());
        assert!(!barrier.is_broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// A task that runs a panicking action gets the payload; the other waiter gets a plain
/// `BrokenBarrier`.
#[test]
fn barrier_action_panic_in_a_task() {
    let barrier = Barrier::builder(2)
        .action(|| std::panic::panic_any(7_i32))
        .build()
        .unwrap();
    let mut a = Probe::new(barrier.wait_async());
    assert!(a.poll().is_pending());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut last = Probe::new(barrier.wait_async());
    let result = last.poll();
    std::panic::set_hook(hook);
    let Poll::Ready(Err(err)) = result else {
        panic!("broken")
    };
    assert_eq!(err.into_panic().unwrap().downcast_ref::<i32>(), Some(&7));
    let Poll::Ready(Err(other)) = a.poll() else {
        panic!("broken")
    };
    assert!(!other.action_panicked());
}
