//! Bad and extreme arguments: every one is a typed error at build, or works: `max_workers`
//! 0 / `usize::MAX`, `queue_bound(0)`, a NUL byte in the thread-name prefix, `stack_size`
//! 0 / huge, zero and `Duration::MAX` timeouts everywhere, empty inputs.

mod common;

use common::{blocker, within};
use contexture_pool::{
    as_completed, wait, BuildError, Handle, ReturnWhen, SubmitError, TaskError, ThreadPool,
};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn queue_bound_zero_is_an_error() {
    assert_eq!(
        ThreadPool::builder().queue_bound(0).build().err(),
        Some(BuildError::ZeroQueueBound)
    );
    // The smallest bound works.
    let pool = ThreadPool::builder().queue_bound(1).build().unwrap();
    assert_eq!(pool.submit(|| 1).unwrap().result(), Ok(1));
}

#[test]
fn a_nul_byte_in_the_thread_name_prefix_is_an_error() {
    assert_eq!(
        ThreadPool::builder()
            .thread_name_prefix("a\0b")
            .build()
            .err(),
        Some(BuildError::NulInThreadName)
    );
}

#[test]
fn max_workers_usize_max_builds_and_runs() {
    let pool = ThreadPool::builder()
        .max_workers(usize::MAX)
        .build()
        .unwrap();
    assert_eq!(pool.max_workers(), usize::MAX);
    let handles: Vec<_> = (0..8).map(|n| pool.submit(move || n).unwrap()).collect();
    let out: Vec<i32> = handles.into_iter().map(|h| h.result().unwrap()).collect();
    assert_eq!(out, (0..8).collect::<Vec<_>>());
}

#[test]
fn stack_size_zero_runs_with_the_smallest_stack() {
    let pool = ThreadPool::builder().stack_size(0).build().unwrap();
    assert_eq!(pool.submit(|| 2 + 2).unwrap().result(), Ok(4));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not refuse a thread for its stack size")]
fn a_stack_size_the_os_refuses_breaks_the_pool_and_hands_the_closure_back() {
    let pool = ThreadPool::builder()
        .stack_size(usize::MAX)
        .build()
        .unwrap();
    match pool.submit(|| 5) {
        Err(SubmitError::Broken(job, why)) => {
            assert_eq!(job(), 5, "handed back");
            assert!(why.starts_with("could not start a worker"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        pool.try_submit(|| 6),
        Err(SubmitError::Broken(..))
    ));
    pool.shutdown(true, false); // nothing to join, no hang
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not refuse a thread for its stack size")]
fn a_bounded_pool_whose_worker_cannot_start_refuses_without_hanging() {
    let out = within(LIMIT, || {
        let pool = ThreadPool::builder()
            .stack_size(usize::MAX)
            .queue_bound(1)
            .build()
            .unwrap();
        let first = pool.submit(|| 1).map_err(|e| e.into_inner()());
        let second = pool.submit(|| 2).map_err(|e| e.into_inner()());
        (first.err(), second.err())
    });
    assert_eq!(out, Some((Some(1), Some(2))));
}

#[test]
fn zero_and_max_timeouts_on_handles() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, release) = blocker(&pool);
    let mut queued = pool.submit(|| 3).unwrap();
    assert_eq!(
        queued.result_timeout(Duration::ZERO),
        Err(TaskError::Timeout)
    );
    assert!(!queued.wait_timeout(Duration::ZERO));
    release.send(()).unwrap();
    assert_eq!(queued.result_timeout(Duration::MAX), Ok(3));
    assert_eq!(
        queued.result_timeout(Duration::MAX),
        Err(TaskError::AlreadyTaken)
    );
    assert_eq!(
        queued.result_timeout(Duration::ZERO),
        Err(TaskError::AlreadyTaken)
    );
    assert!(busy.wait_timeout(Duration::MAX));
}

#[test]
fn zero_and_max_timeouts_on_map() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, release) = blocker(&pool);
    let mut zero = pool.map_timeout(|n: u8| n, [1, 2], Duration::ZERO).unwrap();
    assert_eq!(zero.next(), Some(Err(TaskError::Timeout)));
    assert_eq!(zero.next(), None);
    release.send(()).unwrap();
    busy.result().unwrap();
    let max: Vec<_> = pool
        .map_timeout(|n: u8| n, [1, 2], Duration::MAX)
        .unwrap()
        .collect();
    assert_eq!(max, [Ok(1), Ok(2)]);
}

#[test]
fn zero_and_max_timeouts_on_as_completed_and_wait() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, release) = blocker(&pool);
    let results: Vec<_> = as_completed([&busy], Some(Duration::ZERO)).collect();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].as_ref().err(), Some(&TaskError::Timeout));
    let (done, not_done) = wait([&busy], ReturnWhen::AllCompleted, Some(Duration::ZERO));
    assert_eq!((done.len(), not_done.len()), (0, 1));
    release.send(()).unwrap();
    assert_eq!(as_completed([&busy], Some(Duration::MAX)).count(), 1);
    let (done, _) = wait([&busy], ReturnWhen::FirstCompleted, Some(Duration::MAX));
    assert_eq!(done.len(), 1);
}

#[test]
fn empty_inputs() {
    let pool = ThreadPool::new();
    assert_eq!(pool.map(|n: u8| n, []).unwrap().count(), 0);
    assert_eq!(
        pool.map_timeout(|n: u8| n, [], Duration::ZERO)
            .unwrap()
            .count(),
        0
    );
    let none: [&Handle<u8>; 0] = [];
    assert_eq!(as_completed(none, None).count(), 0);
    assert_eq!(as_completed(none, Some(Duration::ZERO)).count(), 0);
    for when in [
        ReturnWhen::FirstCompleted,
        ReturnWhen::FirstException,
        ReturnWhen::AllCompleted,
    ] {
        let (done, not_done) = wait(none, when, None);
        assert!(done.is_empty() && not_done.is_empty());
    }
    assert_eq!(pool.workers(), 0, "nothing started a worker");
}
