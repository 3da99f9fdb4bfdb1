//! Shutdown: refusing work with the closure handed back, cancelling pending jobs, joining
//! workers (whose thread-locals are dropped by then), dropping the pool, and a stress test of
//! submitters racing `shutdown(cancel_pending = true)`.

mod common;

use common::blocker;
use contexture_local::Local;
use contexture_pool::{SubmitError, TaskError, ThreadPool};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

#[test]
fn submit_after_shutdown_hands_the_closure_back() {
    let pool = ThreadPool::new();
    pool.shutdown(false, false);
    match pool.submit(|| 5) {
        Err(SubmitError::ShutDown(job)) => assert_eq!(job(), 5),
        other => panic!("{other:?}"),
    }
    match pool.try_submit(|| 6) {
        Err(e) => assert_eq!(e.into_inner()(), 6),
        Ok(_) => panic!("accepted after shutdown"),
    }
}

#[test]
fn shutdown_without_cancel_runs_queued_jobs() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let handles: Vec<_> = (0..20).map(|n| pool.submit(move || n).unwrap()).collect();
    pool.shutdown(true, false);
    for (n, h) in handles.into_iter().enumerate() {
        assert_eq!(h.result(), Ok(n));
    }
}

#[test]
fn shutdown_with_cancel_pending_cancels_queued_jobs() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, tx) = blocker(&pool);
    let queued: Vec<_> = (0..5).map(|n| pool.submit(move || n).unwrap()).collect();
    // Release the running job only once shutdown has cancelled the queue (the worker is busy
    // until then, so the first queued job can only end by being cancelled); releasing it
    // earlier would let the worker start a queued job first.
    queued[0]
        .add_done_callback(move |_| tx.send(()).unwrap())
        .unwrap();
    pool.shutdown(true, true);
    assert_eq!(busy.result(), Ok(()), "the running job finished");
    for h in queued {
        assert_eq!(h.result(), Err(TaskError::Cancelled));
    }
}

#[test]
fn shutdown_from_inside_a_job_does_not_deadlock() {
    let pool = Arc::new(ThreadPool::builder().max_workers(1).build().unwrap());
    let p = pool.clone();
    let h = pool.submit(move || p.shutdown(true, false)).unwrap();
    assert_eq!(h.result(), Ok(()));
    assert!(pool.submit(|| ()).is_err());
}

#[test]
fn worker_locals_are_dropped_by_the_time_shutdown_wait_returns() {
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let local: Arc<Local<Tracked>> = Arc::new(Local::new());
    let pool = ThreadPool::builder().max_workers(3).build().unwrap();
    let all_in = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (l, d, all_in) = (local.clone(), drops.clone(), all_in.clone());
            pool.submit(move || {
                l.get_or(|| Tracked(d));
                all_in.wait();
            })
            .unwrap()
        })
        .collect();
    for h in handles {
        h.result().unwrap();
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "workers alive, values alive"
    );
    pool.shutdown(true, false);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn dropping_the_pool_waits_for_queued_jobs() {
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let pool = ThreadPool::builder().max_workers(2).build().unwrap();
        for _ in 0..50 {
            let ran = ran.clone();
            pool.submit(move || ran.fetch_add(1, Ordering::SeqCst))
                .unwrap();
        }
    }
    assert_eq!(ran.load(Ordering::SeqCst), 50);
}

#[test]
fn bounded_queue_applies_backpressure() {
    let pool = ThreadPool::builder()
        .max_workers(1)
        .queue_bound(2)
        .build()
        .unwrap();
    let (busy, tx) = blocker(&pool);
    let a = pool.try_submit(|| 1).unwrap();
    let b = pool.try_submit(|| 2).unwrap();
    match pool.try_submit(|| 3) {
        Err(SubmitError::Full(job)) => assert_eq!(job(), 3),
        other => panic!("{other:?}"),
    }
    // A blocking submit waits for room, which the release below makes.
    let blocked = thread::scope(|s| {
        let waiter = s.spawn(|| pool.submit(|| 4).unwrap().result());
        tx.send(()).unwrap();
        waiter.join().unwrap()
    });
    assert_eq!(blocked, Ok(4));
    assert_eq!(
        (busy.result(), a.result(), b.result()),
        (Ok(()), Ok(1), Ok(2))
    );
}

#[test]
fn stress_submitters_racing_shutdown_with_cancel() {
    let submitters = 8;
    let per_thread = if cfg!(miri) { 20 } else { 10_000 };
    let pool = Arc::new(ThreadPool::builder().max_workers(4).build().unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let submitted = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(submitters + 1));
    let threads: Vec<_> = (0..submitters)
        .map(|_| {
            let (pool, runs, start) = (pool.clone(), runs.clone(), start.clone());
            let submitted = submitted.clone();
            thread::spawn(move || {
                start.wait();
                let mut handles = Vec::new();
                let mut refused = 0;
                for _ in 0..per_thread {
                    let runs = runs.clone();
                    match pool.submit(move || runs.fetch_add(1, Ordering::SeqCst)) {
                        Ok(h) => {
                            submitted.fetch_add(1, Ordering::SeqCst);
                            handles.push(h);
                        }
                        Err(SubmitError::ShutDown(_)) => refused += 1,
                        Err(e) => panic!("{e:?}"),
                    }
                }
                let (mut done, mut cancelled) = (0, 0);
                for h in handles {
                    match h.result() {
                        Ok(_) => done += 1,
                        Err(TaskError::Cancelled) => cancelled += 1,
                        Err(e) => panic!("{e:?}"),
                    }
                }
                (done, cancelled, refused)
            })
        })
        .collect();
    start.wait();
    // Shut down in the thick of it: a quarter of the jobs submitted, many still queued.
    while submitted.load(Ordering::SeqCst) < submitters * per_thread / 4 {
        thread::yield_now();
    }
    pool.shutdown(true, true);
    let (mut done, mut cancelled, mut refused) = (0, 0, 0);
    for t in threads {
        let (d, c, r) = t.join().unwrap();
        done += d;
        cancelled += c;
        refused += r;
    }
    assert_eq!(done + cancelled + refused, submitters * per_thread);
    assert!(cancelled + refused > 0, "shutdown raced the submitters");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        done,
        "every run is a done handle, none twice"
    );
}
