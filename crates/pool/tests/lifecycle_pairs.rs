//! Every ordered pair of lifecycle calls on a busy pool — `shutdown(wait)` (`Wait`),
//! `shutdown(cancel_pending)` (`Cancel`), both (`WaitCancel`), a break (an initializer
//! failing on a later worker) and dropping the last owner — one after the other while jobs
//! run and others are queued: no call hangs, every job ends exactly once (ran, cancelled or
//! failed by the break), and the pool ends refusing work.

mod common;

use common::{blocker, within};
use contexture_pool::{Handle, TaskError, ThreadPool};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Wait,
    Cancel,
    WaitCancel,
    Break,
    Drop,
}

/// Yields until the pool's `Debug` shows `what`.
fn until_debug_shows(pool: &ThreadPool, what: &str) {
    while !format!("{pool:?}").contains(what) {
        std::thread::yield_now();
    }
}

fn run_pair(first: Op, second: Op) {
    // Workers 0 and 1 start fine; worker 2's initializer waits for a verdict.
    let (verdict_tx, verdict_rx) = mpsc::channel::<bool>();
    let verdict_rx = Mutex::new(verdict_rx);
    let started = AtomicUsize::new(0);
    let pool = Arc::new(
        ThreadPool::builder()
            .max_workers(3)
            .initializer(move || {
                if started.fetch_add(1, Ordering::SeqCst) < 2 {
                    return Ok(());
                }
                match verdict_rx.lock().unwrap().recv() {
                    Ok(true) | Err(_) => Ok(()),
                    Ok(false) => Err("worker 2 failed".into()),
                }
            })
            .build()
            .unwrap(),
    );
    let (busy_0, release_0) = blocker(&pool);
    let (busy_1, release_1) = blocker(&pool);
    let runs = Arc::new(AtomicUsize::new(0));
    // The first of these starts worker 2 (its initializer waits); all stay queued.
    let queued: Vec<Handle<()>> = (0..6)
        .map(|_| {
            let runs = runs.clone();
            pool.submit(move || {
                runs.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    let mut owner = Some(pool);
    let mut helpers: Vec<JoinHandle<bool>> = Vec::new();
    let mut verdict_sent = false;
    for op in [first, second] {
        match op {
            Op::Wait | Op::WaitCancel => {
                let pool = owner.clone().expect("the pool was dropped");
                let cancel = op == Op::WaitCancel;
                helpers.push(std::thread::spawn(move || {
                    within(LIMIT, move || pool.shutdown(true, cancel)).is_some()
                }));
                until_debug_shows(owner.as_ref().unwrap(), "shutdown: true");
            }
            Op::Cancel => owner.as_ref().expect("dropped").shutdown(false, true),
            Op::Break => {
                verdict_tx.send(false).unwrap();
                verdict_sent = true;
                if let Some(pool) = &owner {
                    until_debug_shows(pool, "broken: Some");
                }
            }
            Op::Drop => {
                let pool = owner.take().expect("dropped twice");
                helpers.push(std::thread::spawn(move || {
                    within(LIMIT, move || drop(pool)).is_some()
                }));
            }
        }
    }
    if !verdict_sent {
        verdict_tx.send(true).unwrap();
    }
    release_0.send(()).unwrap();
    release_1.send(()).unwrap();
    for helper in helpers {
        assert!(
            helper.join().unwrap(),
            "{first:?} then {second:?}: a call hung"
        );
    }
    if let Some(pool) = owner {
        assert!(pool.submit(|| ()).is_err(), "still accepting work");
        assert!(
            within(LIMIT, move || drop(pool)).is_some(),
            "{first:?} then {second:?}: the final drop hung"
        );
    }
    let mut ran = 0;
    for mut handle in queued {
        match handle.result_timeout(LIMIT) {
            Ok(()) => ran += 1,
            Err(TaskError::Cancelled | TaskError::BrokenPool(_)) => {}
            other => panic!("{first:?} then {second:?}: {other:?}"),
        }
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        ran,
        "{first:?} then {second:?}"
    );
    for mut busy in [busy_0, busy_1] {
        assert_eq!(busy.result_timeout(LIMIT), Ok(()), "a running job finishes");
    }
}

macro_rules! pairs {
    ($($name:ident: $first:ident, $second:ident;)*) => {$(
        #[test]
        fn $name() {
            run_pair(Op::$first, Op::$second);
        }
    )*};
}

pairs! {
    wait_then_wait: Wait, Wait;
    wait_then_cancel: Wait, Cancel;
    wait_then_wait_cancel: Wait, WaitCancel;
    wait_then_break: Wait, Break;
    wait_then_drop: Wait, Drop;
    cancel_then_wait: Cancel, Wait;
    cancel_then_cancel: Cancel, Cancel;
    cancel_then_wait_cancel: Cancel, WaitCancel;
    cancel_then_break: Cancel, Break;
    cancel_then_drop: Cancel, Drop;
    wait_cancel_then_wait: WaitCancel, Wait;
    wait_cancel_then_cancel: WaitCancel, Cancel;
    wait_cancel_then_wait_cancel: WaitCancel, WaitCancel;
    wait_cancel_then_break: WaitCancel, Break;
    wait_cancel_then_drop: WaitCancel, Drop;
    break_then_wait: Break, Wait;
    break_then_cancel: Break, Cancel;
    break_then_wait_cancel: Break, WaitCancel;
    break_then_break: Break, Break;
    break_then_drop: Break, Drop;
    drop_then_break: Drop, Break;
}
