//! Lifecycle calls racing each other: a waiting `shutdown` (or the pool's drop) against a
//! later shutdown that cancels the queue, against a pool that breaks meanwhile, and two
//! waiting shutdowns at once. Each must end every worker and join it before returning.

mod common;

use common::{blocker, until_refused, within};
use contexture_pool::{TaskError, ThreadPool};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_waiting_shutdown_then_a_cancelling_shutdown_still_ends_every_worker() {
    let pool = Arc::new(ThreadPool::builder().max_workers(2).build().unwrap());
    let (busy_a, release_a) = blocker(&pool);
    let (busy_b, release_b) = blocker(&pool);
    let p = pool.clone();
    let waiting = std::thread::spawn(move || within(LIMIT, move || p.shutdown(true, false)));
    until_refused(&pool); // the waiting shutdown has queued its stops
    pool.shutdown(false, true); // drains the queue: the stops must survive
    release_a.send(()).unwrap();
    release_b.send(()).unwrap();
    assert_eq!(
        waiting.join().unwrap(),
        Some(()),
        "the waiting shutdown hung"
    );
    assert_eq!((busy_a.result(), busy_b.result()), (Ok(()), Ok(())));
}

#[test]
fn a_waiting_shutdown_then_a_break_still_ends_every_worker() {
    // Worker 0 initialises; worker 1's initializer waits for a go, then fails.
    let started = Arc::new(AtomicUsize::new(0));
    let (fail_tx, fail_rx) = mpsc::channel::<()>();
    let fail_rx = Arc::new(Mutex::new(fail_rx));
    let s = started.clone();
    let pool = Arc::new(
        ThreadPool::builder()
            .max_workers(2)
            .initializer(move || {
                if s.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Ok(());
                }
                let _ = fail_rx.lock().unwrap().recv();
                Err("second worker failed".into())
            })
            .build()
            .unwrap(),
    );
    let (busy, release) = blocker(&pool);
    let queued = pool.submit(|| 2).unwrap(); // starts worker 1, whose initializer waits
    let p = pool.clone();
    let waiting = std::thread::spawn(move || within(LIMIT, move || p.shutdown(true, false)));
    until_refused(&pool);
    fail_tx.send(()).unwrap(); // the pool breaks now, while the shutdown waits
                               // The break took the queue (stops included) and failed the queued job: only then may the
                               // busy worker look for its stop.
    queued.wait();
    release.send(()).unwrap();
    assert_eq!(
        waiting.join().unwrap(),
        Some(()),
        "the waiting shutdown hung"
    );
    assert_eq!(busy.result(), Ok(()));
    assert_eq!(
        queued.result(),
        Err(TaskError::BrokenPool("second worker failed".into()))
    );
}

#[test]
fn a_second_waiting_shutdown_also_waits_for_the_running_jobs() {
    let pool = Arc::new(ThreadPool::builder().max_workers(1).build().unwrap());
    let finished = Arc::new(AtomicBool::new(false));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let f = finished.clone();
    let busy = pool
        .submit(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
            f.store(true, Ordering::SeqCst);
        })
        .unwrap();
    started_rx.recv().unwrap();
    let p = pool.clone();
    let first = std::thread::spawn(move || p.shutdown(true, false));
    until_refused(&pool);
    let (p, f) = (pool.clone(), finished.clone());
    let (calling_tx, calling_rx) = mpsc::channel::<()>();
    let second = std::thread::spawn(move || {
        calling_tx.send(()).unwrap();
        p.shutdown(true, false);
        f.load(Ordering::SeqCst)
    });
    calling_rx.recv().unwrap();
    // Not a synchronisation: gives a second shutdown that wrongly returns at once the time
    // to do so (then it reads `false`); a correct one waits for the release either way.
    std::thread::sleep(Duration::from_millis(50));
    release_tx.send(()).unwrap();
    assert!(
        second.join().unwrap(),
        "the second shutdown(wait) returned while the job still ran"
    );
    first.join().unwrap();
    assert_eq!(busy.result(), Ok(()));
}

#[test]
fn two_jobs_shutting_down_with_wait_and_an_outside_waiter_all_return() {
    let outcome = within(LIMIT, || {
        let pool = Arc::new(ThreadPool::builder().max_workers(2).build().unwrap());
        let both_in = Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (p, both_in) = (pool.clone(), both_in.clone());
                pool.submit(move || {
                    both_in.wait(); // two workers, each in a job
                    p.shutdown(true, false); // must not wait for the other one
                })
                .unwrap()
            })
            .collect();
        pool.shutdown(true, false); // joins both
        handles.into_iter().map(|h| h.result()).collect::<Vec<_>>()
    });
    assert_eq!(outcome, Some(vec![Ok(()), Ok(())]));
}

/// Submitters on several threads race `calls` (run on other threads once a share of the jobs
/// went in); every submit is accepted or refused with the closure, every accepted job ends
/// once (ran, cancelled or failed by a break), and nothing hangs.
/// A lifecycle call, run on a thread of its own.
type Call = Box<dyn FnOnce(&ThreadPool) + Send>;

fn stress(pool: Arc<ThreadPool>, calls: Vec<Call>) {
    let submitters = 4;
    let per_thread = if cfg!(miri) { 10 } else { 2_000 };
    let runs = Arc::new(AtomicUsize::new(0));
    let submitted = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..submitters)
        .map(|_| {
            let (pool, runs, submitted) = (pool.clone(), runs.clone(), submitted.clone());
            std::thread::spawn(move || {
                let mut handles = Vec::new();
                let mut refused = 0;
                for _ in 0..per_thread {
                    let runs = runs.clone();
                    match pool.submit(move || runs.fetch_add(1, Ordering::SeqCst)) {
                        Ok(h) => {
                            submitted.fetch_add(1, Ordering::SeqCst);
                            handles.push(h);
                        }
                        Err(e) => {
                            let _ = e.into_inner(); // handed back
                            refused += 1;
                        }
                    }
                }
                let mut done = 0;
                for mut h in handles {
                    match h.result_timeout(LIMIT) {
                        Ok(_) => done += 1,
                        Err(TaskError::Cancelled | TaskError::BrokenPool(_)) => {}
                        Err(e) => panic!("{e:?}"),
                    }
                }
                (done, refused)
            })
        })
        .collect();
    while submitted.load(Ordering::SeqCst) < submitters * per_thread / 4 {
        std::thread::yield_now();
    }
    let callers: Vec<_> = calls
        .into_iter()
        .map(|call| {
            let pool = pool.clone();
            std::thread::spawn(move || within(LIMIT, move || call(&pool)).is_some())
        })
        .collect();
    for caller in callers {
        assert!(caller.join().unwrap(), "a lifecycle call hung");
    }
    let (mut done, mut refused) = (0, 0);
    for t in threads {
        let (d, r) = t.join().unwrap();
        done += d;
        refused += r;
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        done,
        "every run is a done handle"
    );
    assert!(done + refused <= submitters * per_thread);
    assert!(within(LIMIT, move || drop(pool)).is_some(), "the drop hung");
}

#[test]
fn stress_submitters_racing_a_waiting_and_a_cancelling_shutdown() {
    let pool = Arc::new(ThreadPool::builder().max_workers(3).build().unwrap());
    stress(
        pool,
        vec![
            Box::new(|p| p.shutdown(true, false)),
            Box::new(|p| p.shutdown(true, true)),
        ],
    );
}

#[test]
fn stress_submitters_racing_a_break_and_a_waiting_shutdown() {
    let (fail_tx, fail_rx) = mpsc::channel::<()>();
    let fail_rx = Mutex::new(fail_rx);
    let started = AtomicUsize::new(0);
    let pool = Arc::new(
        ThreadPool::builder()
            .max_workers(3)
            .initializer(move || {
                if started.fetch_add(1, Ordering::SeqCst) < 2 {
                    return Ok(());
                }
                let _ = fail_rx.lock().unwrap().recv();
                Err("third worker failed".into())
            })
            .build()
            .unwrap(),
    );
    let fail_tx = Mutex::new(Some(fail_tx));
    stress(
        pool,
        vec![
            Box::new(move |_| drop(fail_tx.lock().unwrap().take())),
            Box::new(|p| p.shutdown(true, false)),
        ],
    );
}

/// A pool of one busy worker whose bounded queue (one place) is full, and a submit on
/// another thread that waits for room; `end` ends the pool somehow. The waiting submit is
/// refused with its closure handed back (whether it was waiting already or not yet).
fn submit_waiting_for_room_meets(end: impl FnOnce(&ThreadPool, &mpsc::Sender<bool>)) {
    let (verdict_tx, verdict_rx) = mpsc::channel::<bool>();
    let verdict_rx = Mutex::new(verdict_rx);
    let started = AtomicUsize::new(0);
    let pool = Arc::new(
        ThreadPool::builder()
            .max_workers(2)
            .queue_bound(1)
            .initializer(move || {
                if started.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Ok(());
                }
                match verdict_rx.lock().unwrap().recv() {
                    Ok(false) => Err("second worker failed".into()),
                    _ => Ok(()),
                }
            })
            .build()
            .unwrap(),
    );
    let (busy, release) = blocker(&pool);
    let queued = pool.submit(|| 1).unwrap(); // the one place; starts worker 1 (it waits)
    let p = pool.clone();
    let (calling_tx, calling_rx) = mpsc::channel::<()>();
    let waiting = std::thread::spawn(move || {
        calling_tx.send(()).unwrap();
        within(LIMIT, move || {
            p.submit(|| 2).map_err(|e| e.into_inner()()).err()
        })
    });
    calling_rx.recv().unwrap();
    end(&pool, &verdict_tx);
    let _ = verdict_tx.send(true);
    assert_eq!(
        waiting.join().unwrap(),
        Some(Some(2)),
        "the waiting submit hung or lost its closure"
    );
    release.send(()).unwrap();
    assert_eq!(busy.result(), Ok(()));
    let mut queued = queued;
    assert!(queued.result_timeout(LIMIT) != Err(TaskError::Timeout));
}

#[test]
fn a_submit_waiting_for_room_is_refused_by_a_shutdown() {
    submit_waiting_for_room_meets(|pool, _| pool.shutdown(false, false));
}

#[test]
fn a_submit_waiting_for_room_is_refused_by_a_cancelling_shutdown() {
    submit_waiting_for_room_meets(|pool, _| pool.shutdown(false, true));
}

#[test]
fn a_submit_waiting_for_room_is_refused_by_a_break() {
    submit_waiting_for_room_meets(|_, verdict| verdict.send(false).unwrap());
}
