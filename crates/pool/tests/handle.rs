//! `Handle`: results, timed waits that keep the result, cancellation, states, done
//! callbacks, panics, and awaiting a handle.

mod common;

use common::blocker;
use contexture_pool::{CallbackPanicked, TaskError, ThreadPool};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn one_worker() -> ThreadPool {
    ThreadPool::builder().max_workers(1).build().unwrap()
}

#[test]
fn result_timeout_keeps_the_result() {
    let pool = one_worker();
    let (tx, rx) = mpsc::channel::<u32>();
    let mut h = pool.submit(move || rx.recv().unwrap()).unwrap();
    let timeout = Duration::from_millis(50);
    let start = Instant::now();
    assert_eq!(h.result_timeout(timeout), Err(TaskError::Timeout));
    let waited = start.elapsed();
    assert!(
        waited >= timeout.mul_f64(0.6) && waited < timeout * 10,
        "{waited:?}"
    );
    tx.send(7).unwrap();
    assert_eq!(h.result_timeout(Duration::from_secs(60)), Ok(7));
    assert_eq!(
        h.result_timeout(Duration::ZERO),
        Err(TaskError::AlreadyTaken)
    );
}

#[test]
fn zero_and_huge_timeouts() {
    let pool = one_worker();
    let mut h = pool.submit(|| 1).unwrap();
    assert!(h.wait_timeout(Duration::MAX));
    assert_eq!(h.result_timeout(Duration::ZERO), Ok(1));
}

#[test]
fn cancel_before_start_means_it_never_runs() {
    let pool = one_worker();
    let (busy, release) = blocker(&pool);
    let (ran_tx, ran_rx) = mpsc::channel::<()>();
    let queued = pool.submit(move || ran_tx.send(()).unwrap()).unwrap();
    assert!(!queued.running() && !queued.done());
    assert!(queued.cancel());
    assert!(
        queued.cancel(),
        "cancelling again still says it is cancelled"
    );
    assert!(queued.cancelled() && queued.done());
    release.send(()).unwrap();
    busy.result().unwrap();
    pool.shutdown(true, false);
    assert!(ran_rx.try_recv().is_err(), "the cancelled job never ran");
    assert_eq!(queued.result(), Err(TaskError::Cancelled));
}

#[test]
fn running_or_finished_jobs_cannot_be_cancelled() {
    let pool = one_worker();
    let (busy, release) = blocker(&pool);
    assert!(busy.running());
    assert!(!busy.cancel());
    release.send(()).unwrap();
    busy.wait();
    assert!(!busy.cancel() && !busy.cancelled() && !busy.running() && busy.done());
}

#[test]
fn panicking_job_is_reported_and_the_worker_survives() {
    let pool = one_worker();
    let h = pool
        .submit(|| -> u32 { panic!("job {} failed", 3) })
        .unwrap();
    assert_eq!(h.result(), Err(TaskError::Panicked("job 3 failed".into())));
    let name = pool
        .submit(|| std::thread::current().name().map(str::to_owned))
        .unwrap()
        .result()
        .unwrap();
    assert!(name.unwrap().ends_with("_0"), "the same worker serves on");
    assert_eq!(pool.workers(), 1);
}

#[test]
fn done_callbacks_run_on_finish_and_at_once_when_done() {
    let pool = one_worker();
    let (busy, release) = blocker(&pool);
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    busy.add_done_callback(move |outcome| {
        tx2.send((
            outcome.is_ok(),
            std::thread::current().name().map(str::to_owned),
        ))
        .unwrap()
    })
    .unwrap();
    assert!(rx.try_recv().is_err(), "not before the job ends");
    release.send(()).unwrap();
    let (ok, thread) = rx.recv().unwrap();
    assert!(ok);
    assert!(
        thread.unwrap().contains("contexture-pool"),
        "ran on the worker"
    );
    busy.wait();
    let me = std::thread::current().name().map(str::to_owned);
    busy.add_done_callback(move |_| {
        tx.send((true, std::thread::current().name().map(str::to_owned)))
            .unwrap()
    })
    .unwrap();
    assert_eq!(
        rx.try_recv().unwrap(),
        (true, me),
        "at once, on the caller's thread"
    );
}

#[test]
fn cancelling_runs_the_callbacks_at_once() {
    let pool = one_worker();
    let (busy, release) = blocker(&pool);
    let queued = pool.submit(|| ()).unwrap();
    let (tx, rx) = mpsc::channel();
    queued
        .add_done_callback(move |outcome| tx.send(outcome.err().cloned()).unwrap())
        .unwrap();
    assert!(queued.cancel());
    assert_eq!(rx.try_recv().unwrap(), Some(TaskError::Cancelled));
    release.send(()).unwrap();
    busy.result().unwrap();
}

#[test]
fn panicking_callbacks_are_caught_and_reported() {
    let pool = one_worker();
    let (busy, release) = blocker(&pool);
    busy.add_done_callback(|_| panic!("late callback")).unwrap();
    release.send(()).unwrap();
    busy.wait();
    assert_eq!(busy.callback_panics(), ["late callback"]);
    assert_eq!(
        busy.add_done_callback(|_| panic!("early callback")),
        Err(CallbackPanicked("early callback".into()))
    );
    assert_eq!(busy.result(), Ok(()), "the outcome is intact");
}

#[test]
fn handles_can_be_awaited() {
    let pool = ThreadPool::new();
    let h = pool.submit(|| "async").unwrap();
    assert_eq!(futures::executor::block_on(h), Ok("async"));
    let many: Vec<_> = (0..10)
        .map(|n| pool.submit(move || n * 2).unwrap())
        .collect();
    let all = futures::executor::block_on(futures::future::join_all(many));
    assert_eq!(all, (0..10).map(|n| Ok(n * 2)).collect::<Vec<_>>());
}

#[test]
fn debug_shows_the_state() {
    let pool = one_worker();
    let (busy, release) = blocker(&pool);
    assert_eq!(format!("{busy:?}"), "Handle { state: \"running\" }");
    release.send(()).unwrap();
    busy.wait();
    assert_eq!(format!("{busy:?}"), "Handle { state: \"finished\" }");
}

#[test]
fn a_callback_added_while_callbacks_run_is_not_lost() {
    let pool = one_worker();
    let (busy, release) = blocker(&pool);
    let (in_first_tx, in_first_rx) = mpsc::channel::<()>();
    let (go_on_tx, go_on_rx) = mpsc::channel::<()>();
    busy.add_done_callback(move |_| {
        in_first_tx.send(()).unwrap();
        go_on_rx.recv().unwrap(); // hold the job in its callbacks
    })
    .unwrap();
    release.send(()).unwrap();
    in_first_rx.recv().unwrap();
    let (second_tx, second_rx) = mpsc::channel::<()>();
    // The job is ending (its callbacks run), not done: this callback joins them.
    busy.add_done_callback(move |_| second_tx.send(()).unwrap())
        .unwrap();
    go_on_tx.send(()).unwrap();
    second_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the late callback ran");
    assert!(busy.wait_timeout(Duration::from_secs(60)));
}
