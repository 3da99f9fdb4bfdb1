//! `Queue`, `LifoQueue`, `PriorityQueue`: their orders (equal priorities in insertion order),
//! bounds, the three put/get forms handing items back, `task_done`/`join`, Python 3.13's
//! `shutdown` (normal and immediate), blocked putters/getters woken by it, and timeouts.

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::thread;
use std::time::{Duration, Instant};

use contexture_sync::{GetError, LifoQueue, PriorityQueue, PutError, Queue, TaskDoneError};

const SHORT: Duration = Duration::from_millis(50);

fn within(took: Duration) {
    assert!(
        took >= SHORT.mul_f64(0.6) && took < SHORT * 10,
        "{took:?} for a {SHORT:?} timeout"
    );
}

#[test]
fn orders() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for i in [3, 1, 2] {
        fifo.put(i).unwrap();
        lifo.put(i).unwrap();
        prio.put(i).unwrap();
    }
    let drain = |get: &dyn Fn() -> Result<i32, GetError>| -> Vec<i32> {
        std::iter::from_fn(|| get().ok()).collect()
    };
    assert_eq!(drain(&|| fifo.try_get()), [3, 1, 2]);
    assert_eq!(drain(&|| lifo.try_get()), [2, 1, 3]);
    assert_eq!(drain(&|| prio.try_get()), [1, 2, 3]);
}

/// Items that compare equal come out in insertion order.
#[test]
fn equal_priorities_in_insertion_order() {
    #[derive(Debug)]
    struct Job(u8, &'static str);
    impl PartialEq for Job {
        fn eq(&self, other: &Self) -> bool {
            self.0 == other.0
        }
    }
    impl Eq for Job {}
    impl PartialOrd for Job {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Job {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.cmp(&other.0) // by priority only
        }
    }
    let q = PriorityQueue::new(0);
    for (p, name) in [(3, "a"), (1, "b"), (2, "c"), (1, "d"), (3, "e"), (1, "f")] {
        q.put(Job(p, name)).unwrap();
    }
    let names: Vec<_> = std::iter::from_fn(|| q.try_get().ok())
        .map(|j| j.1)
        .collect();
    assert_eq!(names, ["b", "d", "f", "c", "a", "e"]);
}

#[test]
fn bounds_and_snapshots() {
    let q = Queue::new(2);
    assert!(q.empty() && !q.full());
    q.put(1).unwrap();
    q.try_put(2).unwrap();
    assert!(q.full() && !q.empty());
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.try_put(3), Err(PutError::Full(3)));
    assert_eq!(q.put_timeout(4, Duration::ZERO), Err(PutError::Full(4)));
    assert_eq!(q.put_until(5, Instant::now()), Err(PutError::Full(5)));
    assert_eq!(q.try_get(), Ok(1));
    let unbounded = Queue::default();
    for i in 0..10_000 {
        unbounded.try_put(i).unwrap();
    }
    assert!(!unbounded.full());
    assert_eq!(unbounded.maxsize(), 0);
}

#[test]
fn timeouts_are_honoured() {
    let q = Queue::new(1);
    let start = Instant::now();
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
    within(start.elapsed());
    q.put(1).unwrap();
    let start = Instant::now();
    assert_eq!(q.put_timeout(2, SHORT), Err(PutError::Full(2)));
    within(start.elapsed());
    let start = Instant::now();
    assert_eq!(q.put_until(3, start + SHORT), Err(PutError::Full(3)));
    within(start.elapsed());
    assert_eq!(q.get_timeout(Duration::MAX), Ok(1));
    let start = Instant::now();
    assert_eq!(q.get_until(start + SHORT), Err(GetError::Empty));
    within(start.elapsed());
    assert_eq!(q.put_timeout(9, Duration::MAX), Ok(()));
}

#[test]
fn blocking_put_and_get_hand_over() {
    let q = Queue::new(1);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..100 {
                q.put(i).unwrap();
            }
        });
        for i in 0..100 {
            assert_eq!(q.get(), Ok(i));
        }
    });
}

#[test]
fn task_done_and_join() {
    let q = Queue::new(0);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.join(); // nothing put: returns at once
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while let Ok(_item) = q.get() {
                    q.task_done().unwrap();
                }
            });
        }
        for i in 0..100 {
            q.put(i).unwrap();
        }
        q.join();
        assert!(q.empty());
        q.shutdown(false);
    });
    assert_eq!(q.task_done(), Err(TaskDoneError), "one per item, no more");
}

#[test]
fn join_waits_for_the_last_task_done() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    q.get().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::scope(|s| {
        s.spawn(|| {
            q.join();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(SHORT).is_err(),
            "join returned before task_done"
        );
        q.task_done().unwrap();
        rx.recv().unwrap();
    });
}

#[test]
fn shutdown_then_put_fails_even_when_full() {
    let q = Queue::new(1);
    q.put(1).unwrap();
    assert!(q.shutdown(false).is_empty());
    assert!(q.is_shutdown());
    assert_eq!(q.try_put(2), Err(PutError::ShutDown(2)));
    assert_eq!(q.put(3), Err(PutError::ShutDown(3)));
    assert_eq!(q.put_timeout(4, SHORT), Err(PutError::ShutDown(4)));
    assert_eq!(q.get(), Ok(1), "remaining items are still handed out");
    assert_eq!(q.get(), Err(GetError::ShutDown));
    assert_eq!(q.try_get(), Err(GetError::ShutDown));
    assert_eq!(q.get_timeout(SHORT), Err(GetError::ShutDown));
    q.shutdown(false); // twice is fine
}

#[test]
fn immediate_shutdown_discards_and_releases_join() {
    let q = LifoQueue::new(0);
    for i in 0..4 {
        q.put(i).unwrap();
    }
    assert_eq!(q.get(), Ok(3));
    q.task_done().unwrap();
    assert_eq!(q.shutdown(true), [2, 1, 0], "handed back in get order");
    assert!(q.empty());
    assert_eq!(q.get(), Err(GetError::ShutDown));
    q.join(); // the discarded items count as done
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

#[test]
fn immediate_shutdown_wakes_a_joiner() {
    let q = PriorityQueue::new(0);
    q.put(1).unwrap();
    thread::scope(|s| {
        let joiner = s.spawn(|| q.join());
        // Whether the joiner is parked yet or not, it must return.
        assert_eq!(q.shutdown(true), [1]);
        joiner.join().unwrap();
    });
}

#[test]
fn shutdown_wakes_blocked_getters_and_putters() {
    let empty: Queue<u8> = Queue::new(1);
    let full = Queue::new(1);
    full.put(0).unwrap();
    thread::scope(|s| {
        let getters: Vec<_> = (0..2).map(|_| s.spawn(|| empty.get())).collect();
        let full = &full;
        let putters: Vec<_> = (1..3).map(|i| s.spawn(move || full_put(full, i))).collect();
        empty.shutdown(false);
        full.shutdown(false);
        for g in getters {
            assert_eq!(g.join().unwrap(), Err(GetError::ShutDown));
        }
        for p in putters {
            assert!(p.join().unwrap().unwrap_err().is_shut_down());
        }
    });
}

fn full_put(q: &Queue<i32>, i: i32) -> Result<(), PutError<i32>> {
    q.put(i)
}

#[test]
fn errors_hand_items_back() {
    let q = Queue::new(1);
    q.put(String::from("a")).unwrap();
    let err = q.try_put(String::from("b")).unwrap_err();
    assert!(err.is_full() && !err.is_shut_down());
    assert_eq!(err.to_string(), "the queue is full");
    assert_eq!(err.into_inner(), "b");
    q.shutdown(false);
    let err = q.put(String::from("c")).unwrap_err();
    assert_eq!(format!("{err:?}"), "ShutDown(..)");
    assert_eq!(err.to_string(), "the queue is shut down");
    assert_eq!(err.into_inner(), "c");
    assert_eq!(GetError::Empty.to_string(), "the queue is empty");
}

#[test]
fn debug_does_not_need_debug_items() {
    struct Opaque;
    let q = Queue::new(3);
    q.put(Opaque).unwrap();
    assert_eq!(format!("{q:?}"), "Queue { maxsize: 3, qsize: 1, .. }");
    assert_eq!(format!("{:?}", q.try_put(Opaque).err()), "None");
}
