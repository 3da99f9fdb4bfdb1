//! Building a pool: worker count, names, initializer (and how it breaks the pool), workers
//! started on demand and reused when idle.

use contexture_pool::{BuildError, SubmitError, TaskError, ThreadPool};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};

#[test]
fn zero_workers_is_an_error() {
    assert_eq!(
        ThreadPool::builder().max_workers(0).build().err(),
        Some(BuildError::ZeroWorkers)
    );
}

#[test]
fn default_max_workers_is_pythons() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(ThreadPool::new().max_workers(), (cpus + 4).min(32));
}

#[test]
fn workers_are_named_with_the_prefix_and_distinct() {
    let pool = ThreadPool::builder()
        .max_workers(3)
        .thread_name_prefix("crawler")
        .build()
        .unwrap();
    let all_in = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let all_in = all_in.clone();
            pool.submit(move || {
                all_in.wait(); // three jobs at once need three workers
                std::thread::current().name().unwrap().to_owned()
            })
            .unwrap()
        })
        .collect();
    let names: HashSet<String> = handles.into_iter().map(|h| h.result().unwrap()).collect();
    let expected: HashSet<String> = (0..3).map(|n| format!("crawler_{n}")).collect();
    assert_eq!(names, expected);
}

#[test]
fn idle_worker_is_reused_before_a_new_one_starts() {
    let pool = ThreadPool::builder().max_workers(8).build().unwrap();
    for n in 0..20 {
        assert_eq!(pool.submit(move || n).unwrap().result(), Ok(n));
    }
    assert_eq!(pool.workers(), 1, "one job at a time needs one worker");
}

#[test]
fn idle_worker_is_reused_also_for_results_with_a_drop() {
    // The worker must not hide from the idle count for user code it does not run: the
    // caller took each outcome, so the worker never drops one.
    let pool = ThreadPool::builder().max_workers(8).build().unwrap();
    let rounds = if cfg!(miri) { 20 } else { 5_000 };
    for n in 0..rounds {
        assert_eq!(
            pool.submit(move || n.to_string()).unwrap().result(),
            Ok(n.to_string())
        );
    }
    assert_eq!(pool.workers(), 1, "one job at a time needs one worker");
}

#[test]
fn never_more_than_max_workers() {
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let rx = rx.clone();
            pool.submit(move || {
                let _ = rx.lock().unwrap().recv();
            })
            .unwrap()
        })
        .collect();
    assert!(pool.workers() <= 2);
    for _ in 0..6 {
        tx.send(()).unwrap();
    }
    for h in handles {
        h.result().unwrap();
    }
    assert_eq!(pool.workers(), 2);
}

#[test]
fn initializer_runs_once_in_each_worker() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let pool = ThreadPool::builder()
        .max_workers(2)
        .initializer(move || {
            r.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .build()
        .unwrap();
    let both = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let both = both.clone();
            pool.submit(move || {
                both.wait();
            })
            .unwrap()
        })
        .collect();
    for h in handles {
        h.result().unwrap();
    }
    for _ in 0..10 {
        pool.submit(|| ()).unwrap().result().unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn failing_or_panicking_initializer_breaks_the_pool() {
    for panics in [false, true] {
        let pool = ThreadPool::builder()
            .max_workers(1)
            .initializer(move || {
                if panics {
                    panic!("init panicked");
                }
                Err("init failed".to_string())
            })
            .build()
            .unwrap();
        let first = pool.submit(|| 1).unwrap();
        let why = if panics {
            "init panicked"
        } else {
            "init failed"
        };
        assert_eq!(first.result(), Err(TaskError::BrokenPool(why.into())));
        match pool.submit(|| 2) {
            Err(SubmitError::Broken(job, reason)) => {
                assert_eq!(reason, why);
                assert_eq!(job(), 2, "the closure comes back");
            }
            other => panic!("expected Broken, got {other:?}"),
        }
    }
}

#[test]
fn stack_size_is_applied() {
    let pool = ThreadPool::builder()
        .stack_size(8 << 20)
        .max_workers(1)
        .build()
        .unwrap();
    // Recursing through ~4 MiB of stack would overflow a small default-sized stack.
    fn depth(n: u32) -> u32 {
        let pad = [n as u8; 1024];
        std::hint::black_box(&pad); // keeps 1 KiB per frame on the stack
        if n == 0 {
            0
        } else {
            depth(n - 1) + 1
        }
    }
    assert_eq!(pool.submit(|| depth(4000)).unwrap().result(), Ok(4000));
}
