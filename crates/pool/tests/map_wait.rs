//! `map` (order, timeout, cancellation on drop, refused items handed back), `as_completed`
//! and `wait`.

use contexture_pool::{as_completed, wait, MapError, ReturnWhen, TaskError, ThreadPool};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn map_yields_in_input_order() {
    let pool = ThreadPool::builder().max_workers(4).build().unwrap();
    // Later items finish first: the order must still be the input order.
    let out: Vec<u64> = pool
        .map(
            |n: u64| {
                std::thread::sleep(Duration::from_millis(10 - n));
                n * n
            },
            0..10,
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..10).map(|n| n * n).collect::<Vec<_>>());
}

#[test]
fn map_reports_a_failed_item_in_place() {
    let pool = ThreadPool::new();
    let out: Vec<_> = pool
        .map(|n: u32| if n == 1 { panic!("one") } else { n }, 0..3)
        .unwrap()
        .collect();
    assert_eq!(out, [Ok(0), Err(TaskError::Panicked("one".into())), Ok(2)]);
}

#[test]
fn map_timeout_cancels_what_has_not_started() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let timeout = Duration::from_millis(50);
    let start = Instant::now();
    let mut results = pool
        .map_timeout(
            move |n: u32| {
                r.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    let _ = rx.lock().unwrap().recv();
                }
                n
            },
            0..5,
            timeout,
        )
        .unwrap();
    assert_eq!(results.next(), Some(Err(TaskError::Timeout)));
    let waited = start.elapsed();
    assert!(
        waited >= timeout.mul_f64(0.6) && waited < timeout * 10,
        "{waited:?}"
    );
    assert_eq!(results.next(), None);
    // Job 0 may not have started before the deadline (a slow machine, Miri): then it was
    // cancelled too, and its receiver is gone.
    let _ = tx.send(());
    pool.shutdown(true, false);
    assert!(
        ran.load(Ordering::SeqCst) <= 1,
        "at most the first job ever ran"
    );
}

#[test]
fn dropping_the_map_iterator_cancels_unstarted_jobs() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let results = pool
        .map(
            move |n: u32| {
                r.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    let _ = rx.lock().unwrap().recv();
                }
            },
            0..5,
        )
        .unwrap();
    while ran.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    drop(results);
    tx.send(()).unwrap();
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn as_completed_yields_each_handle_once_in_completion_order() {
    let pool = ThreadPool::builder().max_workers(3).build().unwrap();
    let gates: Vec<_> = (0..3).map(|_| mpsc::channel::<()>()).collect();
    let mut senders = Vec::new();
    let handles: Vec<_> = gates
        .into_iter()
        .enumerate()
        .map(|(n, (tx, rx))| {
            senders.push(tx);
            pool.submit(move || {
                rx.recv().unwrap();
                n
            })
            .unwrap()
        })
        .collect();
    // Duplicates in the input are yielded once.
    let input = [&handles[0], &handles[1], &handles[2], &handles[1]];
    let mut completed = as_completed(input, None);
    let mut order = Vec::new();
    for n in [2, 0, 1] {
        senders[n].send(()).unwrap();
        let h = completed.next().unwrap().unwrap();
        assert!(h.done());
        order.push(std::ptr::eq(h, &handles[n]));
    }
    assert_eq!(order, [true, true, true]);
    assert!(completed.next().is_none());
}

#[test]
fn as_completed_times_out_once() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let slow = pool.submit(move || rx.recv().unwrap()).unwrap();
    let fast_done = pool.submit(|| ()).unwrap();
    let timeout = Duration::from_millis(40);
    let start = Instant::now();
    let results: Vec<_> = as_completed([&slow, &fast_done], Some(timeout)).collect();
    let waited = start.elapsed();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].as_ref().err(), Some(&TaskError::Timeout));
    assert!(
        waited >= timeout.mul_f64(0.6) && waited < timeout * 10,
        "{waited:?}"
    );
    tx.send(()).unwrap();
}

#[test]
fn wait_first_completed_first_exception_all_completed() {
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let slow = pool.submit(move || rx.recv().unwrap()).unwrap();
    let quick = pool.submit(|| ()).unwrap();
    let (done, not_done) = wait([&slow, &quick], ReturnWhen::FirstCompleted, None);
    assert_eq!((done.len(), not_done.len()), (1, 1));
    assert!(std::ptr::eq(done[0], &quick));

    let failing = pool.submit(|| panic!("bad")).unwrap();
    let (done, not_done) = wait([&slow, &failing], ReturnWhen::FirstException, None);
    assert!(std::ptr::eq(done[0], &failing) && not_done.len() == 1);

    let timeout = Duration::from_millis(30);
    let (done, not_done) = wait([&slow, &quick], ReturnWhen::AllCompleted, Some(timeout));
    assert_eq!(
        (done.len(), not_done.len()),
        (1, 1),
        "timed out with slow not done"
    );
    tx.send(()).unwrap();
    let (done, not_done) = wait([&slow, &quick], ReturnWhen::AllCompleted, None);
    assert_eq!((done.len(), not_done.len()), (2, 0));
}

#[test]
fn map_on_a_shut_down_pool_hands_every_item_back() {
    let pool = ThreadPool::new();
    pool.shutdown(true, false);
    match pool.map(|s: String| s.len(), vec!["a".to_owned(), "bb".to_owned()]) {
        Err(MapError::ShutDown(items, submitted)) => {
            assert_eq!(items, ["a", "bb"]);
            assert_eq!(submitted.count(), 0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn map_on_a_broken_pool_hands_every_item_back_with_the_reason() {
    let pool = ThreadPool::builder()
        .initializer(|| Err("no database".into()))
        .build()
        .unwrap();
    let first = pool.submit(|| ()).unwrap();
    assert!(matches!(first.result(), Err(TaskError::BrokenPool(_))));
    match pool.map(|n: u8| n, [7, 8]) {
        Err(MapError::Broken(items, _, why)) => {
            assert_eq!((items, why.as_str()), (vec![7, 8], "no database"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn map_refused_part_way_keeps_the_submitted_ones_and_hands_back_the_rest() {
    let pool = Arc::new(ThreadPool::builder().max_workers(1).build().unwrap());
    let p = pool.clone();
    // The input shuts the pool down after its second item has been submitted.
    let items = (0..5u32).inspect(move |&n| {
        if n == 2 {
            p.shutdown(false, false);
        }
    });
    let err = pool.map(|n: u32| n * 10, items).unwrap_err();
    let (left, submitted) = err.into_parts();
    assert_eq!(left, [2, 3, 4]);
    let done: Vec<_> = submitted.collect();
    assert_eq!(
        done,
        [Ok(0), Ok(10)],
        "accepted before the shutdown: they still run"
    );
}

#[test]
fn into_handles_lets_every_job_run() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let handles = pool
        .map(
            move |n: u32| {
                if n == 0 {
                    let _ = rx.lock().unwrap().recv();
                }
                r.fetch_add(1, Ordering::SeqCst);
            },
            0..4,
        )
        .unwrap()
        .into_handles();
    drop(handles);
    tx.send(()).unwrap();
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 4);
}
