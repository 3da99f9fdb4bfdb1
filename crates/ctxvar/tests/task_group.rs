//! `TaskGroup`, `gather` and `try_gather`: outputs in spawn order, every failure collected
//! (errors and panics as values, cancelled siblings told apart), cancellation on failure
//! and on drop (observed through drop guards, no sleeps), a context copy per task, no
//! runtime as a typed error, and hostile use (empty, many, spawn racing join, a `Drop`
//! that panics, a runtime shutting down under the group).

#![cfg(feature = "tokio")]

use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::Poll;
use std::time::Duration;

use contexture_ctxvar::{
    gather, try_gather, ContextVar, NoRuntime, Outcome, SpawnError, TaskGroup,
};
use tokio::runtime::{Builder, Runtime};

/// Different futures in one `gather`.
type BoxTask<E> = Pin<Box<dyn Future<Output = Result<u8, E>> + Send>>;

/// Tasks in `outputs_come_in_spawn_order_not_completion_order`.
const ORDERED: usize = if cfg!(miri) { 8 } else { 64 };

/// Spawns at most per round of `spawn_racing_join_either_joins_or_is_refused_with_the_future`.
const RACE_SPAWNS: usize = if cfg!(miri) { 50 } else { 20_000 };

/// Tasks in `many_tasks` (Miri runs tokio slowly).
const MANY: usize = if cfg!(miri) { 200 } else { 20_000 };

static REQUEST: ContextVar<u32> = ContextVar::new("request");

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Sends its id when dropped: a task's future was dropped (finished or cancelled).
struct DropSignal(usize, mpsc::Sender<usize>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.1.send(self.0);
    }
}

/// Yields `n` times to the scheduler.
async fn yield_n(n: usize) {
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
}

#[test]
fn outputs_come_in_spawn_order_not_completion_order() {
    let rt = multi_thread(2);
    let out = rt.block_on(async {
        let mut group = TaskGroup::<usize>::new().unwrap();
        for i in 0..ORDERED {
            let index = group
                .spawn_infallible(async move {
                    yield_n(ORDERED - i).await; // the last spawned end first
                    i
                })
                .unwrap();
            assert_eq!(index, i);
        }
        assert_eq!(group.len(), ORDERED);
        group.join().await.unwrap()
    });
    assert_eq!(out, (0..ORDERED).collect::<Vec<_>>());
}

#[test]
fn every_failure_is_collected_and_cancelled_siblings_are_told_apart() {
    // Three tasks fail inside the same instant: each is in its poll (held by a barrier)
    // when the first failure aborts the others, so none can be cancelled, and all three
    // failures must be reported. A fourth task never ends and is cancelled.
    let rt = multi_thread(3);
    let (tx, rx) = mpsc::channel();
    let err = rt.block_on(async move {
        let barrier = Arc::new(Barrier::new(3));
        let mut group = TaskGroup::<u8, String>::new().unwrap();
        let signal = DropSignal(3, tx);
        for i in 0..3u8 {
            let barrier = Arc::clone(&barrier);
            group
                .spawn(async move {
                    barrier.wait(); // blocking on purpose: all three are mid-poll
                    match i {
                        0 => Err("zero".to_owned()),
                        1 => panic!("one panicked"),
                        _ => Err("two".to_owned()),
                    }
                })
                .unwrap();
        }
        group
            .spawn(async move {
                let _signal = signal;
                pending::<()>().await;
                Ok(9)
            })
            .unwrap();
        group.join().await.unwrap_err()
    });
    assert_eq!(
        err.outcomes(),
        [
            Outcome::Err("zero".to_owned()),
            Outcome::Panicked("one panicked".to_owned()),
            Outcome::Err("two".to_owned()),
            Outcome::Cancelled,
        ]
    );
    assert_eq!(
        err.failures().map(|(i, _)| i).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(err.errors().collect::<Vec<_>>(), ["zero", "two"]);
    assert_eq!(err.cancelled(), 1);
    assert!(err.first_failure().unwrap().0 < 3);
    assert_eq!(err.to_string(), "3 of 4 tasks failed (1 cancelled)");
    // The cancelled task's future was dropped before `join` returned.
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn a_failure_cancels_the_running_siblings_at_once_even_before_join() {
    let rt = current_thread();
    rt.block_on(async {
        let (tx, rx) = mpsc::channel();
        let mut group = TaskGroup::<u8, &str>::new().unwrap();
        for i in 0..5 {
            let signal = DropSignal(i, tx.clone());
            group
                .spawn(async move {
                    let _signal = signal;
                    pending::<()>().await;
                    Ok(0)
                })
                .unwrap();
        }
        yield_n(2).await; // all five are parked
        group.spawn(async { Err("failed") }).unwrap();
        // Not joining yet: the failure alone cancels the others.
        let mut dropped = Vec::new();
        while dropped.len() < 5 {
            tokio::task::yield_now().await;
            dropped.extend(rx.try_iter());
        }
        dropped.sort_unstable();
        assert_eq!(dropped, [0, 1, 2, 3, 4]);
        assert!(group.has_failed());
        let err = group.join().await.unwrap_err();
        assert_eq!(err.cancelled(), 5);
        assert_eq!(err.first_failure(), Some((5, &Outcome::Err("failed"))));
    });
}

#[test]
fn dropping_the_group_cancels_what_still_runs_and_leaks_no_task() {
    let rt = multi_thread(2);
    let (tx, rx) = mpsc::channel();
    let alive = Arc::new(());
    {
        let _guard = rt.enter();
        let mut group = TaskGroup::<u8>::new().unwrap();
        for i in 0..50 {
            // One value, so that the future (started or not) drops it as a whole: a tuple
            // drops its fields in order, the `Arc` before the signal. (With the signal
            // first, the last one could close the channel while its `Arc` was still held.)
            let keep = (Arc::clone(&alive), DropSignal(i, tx.clone()));
            group
                .spawn_infallible(async move {
                    let _keep = keep;
                    pending::<u8>().await
                })
                .unwrap();
        }
        drop(group);
    }
    drop(tx);
    // Every task's future is dropped (the channel closes once all 50 senders are gone,
    // each after its task's `Arc`).
    let mut dropped: Vec<usize> = Vec::new();
    while let Ok(i) = rx.recv_timeout(Duration::from_secs(30)) {
        dropped.push(i);
    }
    dropped.sort_unstable();
    assert_eq!(dropped, (0..50).collect::<Vec<_>>());
    assert_eq!(Arc::strong_count(&alive), 1);
}

#[test]
fn dropping_the_join_future_cancels_too() {
    let rt = current_thread();
    let (tx, rx) = mpsc::channel();
    rt.block_on(async {
        let mut group = TaskGroup::<u8>::new().unwrap();
        let signal = DropSignal(0, tx);
        group
            .spawn_infallible(async move {
                let _signal = signal;
                pending::<u8>().await
            })
            .unwrap();
        let mut join = Box::pin(group.join());
        // Polled once (pending), then dropped.
        std::future::poll_fn(|cx| {
            assert!(join.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        drop(join);
        while rx.try_recv().is_err() {
            tokio::task::yield_now().await;
        }
    });
}

#[test]
fn panics_come_back_as_values_with_their_message() {
    let rt = current_thread();
    let err = rt.block_on(async {
        let mut group = TaskGroup::<u8>::new().unwrap();
        group
            .spawn_infallible(async { std::panic::panic_any(5_u32) })
            .unwrap();
        group.join().await.unwrap_err()
    });
    assert_eq!(
        err.outcomes(),
        [Outcome::Panicked("non-string panic payload".into())]
    );
    let err = rt.block_on(async {
        let mut group = TaskGroup::<u8>::new().unwrap();
        let n = 3;
        group
            .spawn_infallible(async move { panic!("formatted {n}") })
            .unwrap();
        group.join().await.unwrap_err()
    });
    assert_eq!(err.outcomes(), [Outcome::Panicked("formatted 3".into())]);
}

#[test]
fn each_task_runs_in_its_own_copy_of_the_spawners_context() {
    let rt = multi_thread(2);
    rt.block_on(async {
        REQUEST.set(1);
        let mut group = TaskGroup::<(Option<u32>, Option<u32>)>::new().unwrap();
        for i in 0..8 {
            group
                .spawn_infallible(async move {
                    let seen = REQUEST.get();
                    REQUEST.set(100 + i);
                    yield_n(3).await; // siblings write meanwhile
                    (seen, REQUEST.get())
                })
                .unwrap();
        }
        REQUEST.set(2); // after the spawns: not seen by them
        group
            .spawn_infallible(async { (REQUEST.get(), None) })
            .unwrap();
        let out = group.join().await.unwrap();
        for (i, &(seen, own)) in out[..8].iter().enumerate() {
            assert_eq!(seen, Some(1));
            assert_eq!(own, Some(100 + i as u32));
        }
        assert_eq!(out[8], (Some(2), None));
        assert_eq!(REQUEST.get(), Some(2)); // nothing leaked back
    });
}

#[test]
fn gather_copies_the_context_per_future_and_leaks_nothing_back() {
    let rt = current_thread();
    rt.block_on(async {
        REQUEST.set(5);
        let futures = (0..3).map(|i| async move {
            let seen = REQUEST.get();
            REQUEST.set(i);
            yield_n(2).await;
            Ok::<_, ()>((seen, REQUEST.get()))
        });
        let out = gather(futures).unwrap().await;
        assert_eq!(
            out,
            (0..3)
                .map(|i| Outcome::Ok((Some(5), Some(i))))
                .collect::<Vec<_>>()
        );
        assert_eq!(REQUEST.get(), Some(5));
    });
}

#[test]
fn outside_a_runtime_is_a_typed_error_with_the_futures_back() {
    assert!(matches!(TaskGroup::<u8>::new(), Err(NoRuntime(()))));
    let futures = vec![
        std::future::ready(Ok::<u8, ()>(1)),
        std::future::ready(Ok(2)),
    ];
    let back = gather(futures).unwrap_err().into_inner();
    assert_eq!(back.len(), 2);
    let back = try_gather(back).unwrap_err().into_inner();
    let rt = current_thread();
    let out = rt.block_on(async { gather(back).unwrap().await });
    assert_eq!(out, [Outcome::Ok(1), Outcome::Ok(2)]);
}

#[test]
fn zero_tasks_join_at_once() {
    let rt = current_thread();
    rt.block_on(async {
        let group = TaskGroup::<u8, String>::new().unwrap();
        assert!(group.is_empty());
        assert_eq!(group.join().await.unwrap(), Vec::<u8>::new());
        let none: Vec<std::future::Ready<Result<u8, ()>>> = Vec::new();
        assert!(gather(none).unwrap().await.is_empty());
        let none: Vec<std::future::Ready<Result<u8, ()>>> = Vec::new();
        assert!(try_gather(none).unwrap().await.unwrap().is_empty());
    });
}

#[test]
fn many_tasks() {
    let rt = multi_thread(2);
    let out = rt.block_on(async {
        let mut group = TaskGroup::<usize>::new().unwrap();
        for i in 0..MANY {
            group
                .spawn_infallible(async move {
                    if i % 7 == 0 {
                        tokio::task::yield_now().await;
                    }
                    i
                })
                .unwrap();
        }
        group.join().await.unwrap()
    });
    assert_eq!(out, (0..MANY).collect::<Vec<_>>());
}

#[test]
fn spawn_after_failure_hands_the_future_back() {
    let rt = current_thread();
    rt.block_on(async {
        let mut group = TaskGroup::<u8, &str>::new().unwrap();
        group.spawn(async { Err("bad") }).unwrap();
        tokio::task::yield_now().await;
        let err = group.spawn(async { Ok(7) }).unwrap_err();
        assert!(matches!(err, SpawnError::ShuttingDown(_)));
        assert_eq!(err.into_inner().await, Ok(7));
        let err = group.spawn_infallible(async { 8 }).unwrap_err();
        assert_eq!(err.into_inner().await, 8);
        let err = group.join().await.unwrap_err();
        assert_eq!(err.outcomes().len(), 1);
    });
}

#[test]
fn tasks_spawn_more_tasks_through_a_spawner_and_join_waits_for_them() {
    fn tree(
        spawner: contexture_ctxvar::Spawner<u32>,
        depth: u32,
    ) -> Pin<Box<dyn Future<Output = u32> + Send>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            if depth > 0 {
                for _ in 0..2 {
                    spawner
                        .spawn_infallible(tree(spawner.clone(), depth - 1))
                        .unwrap();
                }
            }
            REQUEST.get().unwrap() + depth
        })
    }
    let rt = multi_thread(2);
    let out = rt.block_on(async {
        REQUEST.set(1000);
        let mut group = TaskGroup::<u32>::new().unwrap();
        group.spawn_infallible(tree(group.spawner(), 5)).unwrap();
        group.join().await.unwrap()
    });
    // 1 + 2 + 4 + ... + 32 tasks, each seeing the context of the task that spawned it.
    assert_eq!(out.len(), 63);
    assert!(out.iter().all(|&v| (1000..=1005).contains(&v)));
    assert_eq!(out[0], 1005);
}

#[test]
fn spawn_racing_join_either_joins_or_is_refused_with_the_future() {
    for _ in 0..if cfg!(miri) { 2 } else { 20 } {
        let rt = multi_thread(2);
        let group = TaskGroup::<usize>::with_handle(rt.handle().clone());
        let spawner = group.spawner();
        let start = Arc::new(Barrier::new(2));
        let racer = {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let mut accepted = Vec::new();
                // Bounded: `join` waits for tasks spawned meanwhile, so a spawner that never
                // stops could keep it waiting (as asyncio's `__aexit__`).
                for value in 0..RACE_SPAWNS {
                    match spawner.spawn_infallible(async move { value }) {
                        Ok(index) => accepted.push((index, value)),
                        Err(SpawnError::Finished(back)) => {
                            // The refused future is the one handed in.
                            let got = futures::executor::block_on(back);
                            assert_eq!(got, value);
                            return accepted;
                        }
                        Err(SpawnError::ShuttingDown(_)) => unreachable!("nothing fails"),
                    }
                }
                accepted
            })
        };
        start.wait();
        let out = rt.block_on(group.join()).unwrap();
        let accepted = racer.join().unwrap();
        assert_eq!(out.len(), accepted.len());
        for (index, value) in accepted {
            assert_eq!(out[index], value);
        }
    }
}

/// Panics in its `Drop`; the task holding it is cancelled.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("drop panicked");
        }
    }
}

#[test]
fn a_future_whose_drop_panics_is_still_recorded_as_cancelled() {
    let rt = current_thread();
    let err = rt.block_on(async {
        let mut group = TaskGroup::<u8, &str>::new().unwrap();
        group
            .spawn(async {
                let _bomb = PanicOnDrop;
                pending::<()>().await;
                Ok(1)
            })
            .unwrap();
        tokio::task::yield_now().await;
        group.spawn(async { Err("fail") }).unwrap();
        group.join().await.unwrap_err()
    });
    assert_eq!(err.outcomes(), [Outcome::Cancelled, Outcome::Err("fail")]);
}

#[test]
fn a_runtime_shutting_down_cancels_the_tasks_and_join_still_ends() {
    let rt = multi_thread(1);
    let mut group = TaskGroup::<u8, ()>::with_handle(rt.handle().clone());
    group.spawn(pending()).unwrap();
    group.spawn(async { Ok(1) }).unwrap();
    let spawner = group.spawner();
    drop(rt);
    // Spawning onto the dead runtime: tokio drops the task, which counts as cancelled.
    spawner.spawn(async { Ok(2) }).unwrap();
    let err = futures::executor::block_on(group.join()).unwrap_err();
    assert_eq!(err.outcomes()[0], Outcome::Cancelled);
    assert_eq!(err.outcomes()[2], Outcome::Cancelled);
    assert_eq!(err.first_failure(), None);
}

#[test]
fn gather_returns_every_outcome_and_cancels_nothing() {
    let rt = current_thread();
    let progressed = Arc::new(AtomicUsize::new(0));
    let out = rt.block_on({
        let progressed = Arc::clone(&progressed);
        async move {
            let tasks: Vec<BoxTask<String>> = vec![
                Box::pin(async { Err("first".to_owned()) }),
                Box::pin(async move {
                    yield_n(20).await; // long after the failure
                    progressed.fetch_add(1, Ordering::Relaxed);
                    Ok(2)
                }),
                Box::pin(async { panic!("third") }),
            ];
            gather(tasks).unwrap().await
        }
    });
    assert_eq!(
        out,
        [
            Outcome::Err("first".into()),
            Outcome::Ok(2),
            Outcome::Panicked("third".into())
        ]
    );
    assert_eq!(progressed.load(Ordering::Relaxed), 1);
}

#[test]
fn try_gather_returns_the_first_failure_and_cancels_the_rest() {
    let rt = current_thread();
    let (tx, rx) = mpsc::channel();
    let err = rt.block_on(async move {
        let signal = DropSignal(0, tx);
        let tasks: Vec<BoxTask<&str>> = vec![
            Box::pin(async move {
                let _signal = signal;
                pending::<()>().await;
                Ok(1)
            }),
            Box::pin(async { Err("second") }),
        ];
        try_gather(tasks).unwrap().await.unwrap_err()
    });
    assert_eq!(err.first_failure(), Some((1, &Outcome::Err("second"))));
    assert_eq!(err.outcomes()[0], Outcome::Cancelled);
    assert_eq!(rx.try_recv(), Ok(0));
}

#[test]
fn join_can_be_awaited_from_another_executor_and_thread() {
    let rt = multi_thread(2);
    let mut group = TaskGroup::<u8>::with_handle(rt.handle().clone());
    for i in 0..10 {
        group.spawn_infallible(async move { i }).unwrap();
    }
    let out = std::thread::spawn(move || futures::executor::block_on(group.join()))
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(out, (0..10).collect::<Vec<_>>());
}
