//! Context propagation: each job runs in a copy of the submitter's context taken at submit;
//! what a job sets is invisible to the submitter and to the next job on the same worker.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use contexture_ctxvar::ContextVar;
use contexture_pool::ThreadPool;

static REQUEST_ID: ContextVar<u32> = ContextVar::new("request_id");

#[test]
fn jobs_see_the_submitters_context_at_submit() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let token = REQUEST_ID.set(7);
    let seen = pool.submit(|| REQUEST_ID.get()).unwrap();
    REQUEST_ID.reset(token).unwrap();
    let _later = REQUEST_ID.set(8); // after submit: not seen by the job
    assert_eq!(seen.result(), Ok(Some(7)));
}

#[test]
fn a_jobs_sets_do_not_leak_to_the_caller_or_the_next_job() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let first = pool
        .submit(|| {
            REQUEST_ID.set(99);
            REQUEST_ID.get()
        })
        .unwrap();
    assert_eq!(first.result(), Ok(Some(99)));
    let second = pool.submit(|| REQUEST_ID.get()).unwrap();
    assert_eq!(second.result(), Ok(None), "same worker, fresh copy");
    assert_eq!(REQUEST_ID.get(), None, "the caller never saw it");
}

#[test]
fn propagation_can_be_turned_off() {
    let pool = ThreadPool::builder()
        .max_workers(1)
        .propagate_context(false)
        .build()
        .unwrap();
    let _t = REQUEST_ID.set(1);
    assert_eq!(pool.submit(|| REQUEST_ID.get()).unwrap().result(), Ok(None));
}

/// Counts its drops; its `Drop` panics when told to.
struct Tracked(Arc<AtomicUsize>, bool);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        assert!(!self.1, "a context value's Drop panics");
    }
}

static HELD: ContextVar<Arc<Tracked>> = ContextVar::new("held");

/// Rounds of the repeated checks (fewer under Miri, which runs them ~100× slower).
fn rounds() -> usize {
    if cfg!(miri) {
        3
    } else {
        20
    }
}

/// Waits until `drops` reaches `n` (a worker drops the last reference to a job's values
/// right after the job, before it waits for more work); false after 10 s.
fn dropped(drops: &AtomicUsize, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while drops.load(Ordering::SeqCst) < n {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

/// The worker keeps its references to the values of a run of jobs that carried the same
/// ones and drops them together: never past the point where no queued job holds them.
#[test]
fn a_jobs_captured_values_are_dropped_once_no_job_holds_them() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    // Jobs with the same values, then the submitter lets go of them: the pool holds the
    // last references.
    // The first job waits until the submitter let go of them.
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let token = HELD.set(Arc::new(Tracked(drops.clone(), false)));
    let mut handles = vec![pool.submit(move || gate_rx.recv().is_ok()).unwrap()];
    handles.extend(
        (0..if cfg!(miri) { 20 } else { 200 })
            .map(|_| pool.submit(|| HELD.with(|v| v.is_some())).unwrap()),
    );
    HELD.reset(token).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    gate_tx.send(()).unwrap();
    for handle in handles {
        assert_eq!(handle.result(), Ok(true));
    }
    assert!(dropped(&drops, 1), "the worker dropped them before waiting");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // A job with other values runs only after the earlier ones are gone.
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let token = HELD.set(Arc::new(Tracked(drops.clone(), false)));
    let first = pool.submit(move || gate_rx.recv().is_ok()).unwrap();
    HELD.reset(token).unwrap();
    let probe = {
        let drops = drops.clone();
        pool.submit(move || drops.load(Ordering::SeqCst)).unwrap() // an empty context
    };
    gate_tx.send(()).unwrap();
    assert_eq!(first.result(), Ok(true));
    assert_eq!(
        probe.result(),
        Ok(2),
        "dropped before the next job with other values"
    );
}

/// A job that panics while the worker holds the values of the jobs before it (the same
/// values, nobody waiting for any of them): its run never hands them back, and the worker
/// lets them go before it waits for more work.
#[test]
fn values_kept_across_a_panicking_job_are_dropped_before_the_worker_waits() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let token = HELD.set(Arc::new(Tracked(drops.clone(), false)));
    let gate = pool.submit(move || gate_rx.recv().is_ok()).unwrap();
    let quiet = pool.submit(|| HELD.with(|v| v.is_some())).unwrap();
    let panics = pool
        .submit(|| -> bool { panic!("a job that panics after two kept ones") })
        .unwrap();
    HELD.reset(token).unwrap(); // the jobs hold the last references now
    drop((gate, quiet, panics)); // nobody waits: no release for a waiter at a job's end
    gate_tx.send(()).unwrap();
    assert!(dropped(&drops, 1), "released before the worker waited");
    assert_eq!(pool.submit(|| 3).unwrap().result(), Ok(3));
}

/// A value whose `Drop` panics when the worker drops the last reference to it: caught,
/// the worker goes on serving, nothing aborts.
#[test]
fn a_panicking_drop_of_a_kept_value_does_not_stop_the_worker() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let token = HELD.set(Arc::new(Tracked(drops.clone(), true)));
    let job = pool.submit(move || gate_rx.recv().is_ok()).unwrap();
    HELD.reset(token).unwrap(); // the job holds the last reference now
    gate_tx.send(()).unwrap();
    assert_eq!(job.result(), Ok(true));
    assert!(dropped(&drops, 1));
    assert_eq!(pool.submit(|| 2).unwrap().result(), Ok(2));
}

/// Once a job's `result()` returned with nothing queued behind it, the values only its
/// context still held are gone: the worker keeps nothing past the end of a burst.
#[test]
fn after_the_last_result_no_captured_value_is_held_by_the_pool() {
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    for round in 1..=rounds() {
        let token = HELD.set(Arc::new(Tracked(drops.clone(), false)));
        let handles: Vec<_> = (0..round * 10)
            .map(|_| pool.submit(|| HELD.with(|v| v.is_some())).unwrap())
            .collect();
        for handle in handles {
            assert_eq!(handle.result(), Ok(true));
        }
        // The submitter's reset drops the last reference: nothing else holds it now.
        HELD.reset(token).unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), round, "round {round}");
    }
}

/// A job whose submitter let go of the values before the job ended: they are dropped
/// before the job's waiters are woken (the waker reads the count on the worker).
#[test]
fn values_only_a_finished_job_held_are_dropped_before_its_waiters_are_woken() {
    struct SeeDrops(Arc<AtomicUsize>, std::sync::mpsc::Sender<usize>);
    impl std::task::Wake for SeeDrops {
        fn wake(self: Arc<Self>) {
            let _ = self.1.send(self.0.load(Ordering::SeqCst));
        }
    }
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    for round in 1..=rounds() {
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let token = HELD.set(Arc::new(Tracked(drops.clone(), false)));
        let mut job = Box::pin(pool.submit(move || gate_rx.recv().is_ok()).unwrap());
        HELD.reset(token).unwrap(); // the job holds the last reference now
        let waker = std::task::Waker::from(Arc::new(SeeDrops(drops.clone(), seen_tx)));
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(job.as_mut().poll(&mut cx).is_pending());
        gate_tx.send(()).unwrap();
        assert_eq!(
            seen_rx.recv(),
            Ok(round),
            "dropped before the wake, round {round}"
        );
        assert_eq!(job.as_mut().poll(&mut cx), std::task::Poll::Ready(Ok(true)));
    }
}

/// The same seen from `result()`.
#[test]
fn values_only_a_finished_job_held_are_dropped_before_its_result_returns() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    for round in 1..=rounds() {
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let token = HELD.set(Arc::new(Tracked(drops.clone(), false)));
        let job = pool.submit(move || gate_rx.recv().is_ok()).unwrap();
        HELD.reset(token).unwrap();
        gate_tx.send(()).unwrap();
        assert_eq!(job.result(), Ok(true));
        assert_eq!(drops.load(Ordering::SeqCst), round, "round {round}");
    }
}

static HELD2: ContextVar<Arc<Tracked>> = ContextVar::new("held2");

/// Two values whose `Drop` panics, the last references to them held by the worker (a job
/// handed its captured values back): both dropped, no abort, the worker goes on serving.
#[test]
fn two_panicking_drops_of_kept_values_neither_abort_nor_stop_the_worker() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let first = HELD.set(Arc::new(Tracked(drops.clone(), true)));
    let second = HELD2.set(Arc::new(Tracked(drops.clone(), true)));
    let job = pool.submit(move || gate_rx.recv().is_ok()).unwrap();
    HELD2.reset(second).unwrap();
    HELD.reset(first).unwrap(); // the job holds the last reference now
    gate_tx.send(()).unwrap();
    assert_eq!(job.result(), Ok(true));
    assert!(dropped(&drops, 2));
    assert_eq!(pool.submit(|| 2).unwrap().result(), Ok(2));
}

/// A job that carries the same values as the jobs before it and overwrites one of them:
/// once the submitter let go, the job held the last reference to the old value, so the
/// overwrite drops it (as it does in any context that is the last handle). The worker's
/// kept references to the earlier jobs' values must not keep it alive meanwhile.
#[test]
fn a_value_a_job_overwrote_is_dropped_while_the_job_still_runs() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let token = HELD.set(Arc::new(Tracked(drops.clone(), false)));
    let first = pool.submit(move || gate_rx.recv().is_ok()).unwrap();
    let overwriter = {
        let drops = drops.clone();
        pool.submit(move || {
            HELD.set(Arc::new(Tracked(Arc::new(AtomicUsize::new(0)), false)));
            // The old value had no other handle: gone with the overwrite.
            dropped(&drops, 1)
        })
        .unwrap()
    };
    HELD.reset(token).unwrap(); // the jobs hold the last references now
    gate_tx.send(()).unwrap();
    // Nobody waits for `first` as it ends: the worker keeps its reference.
    assert_eq!(
        overwriter.result(),
        Ok(true),
        "the overwritten value was dropped while the job ran"
    );
    assert_eq!(first.result(), Ok(true));
}

/// A done callback (run on the worker as the job ends) that waits until the job's values
/// are gone, the job having held the last reference to them: a lease returned to its pool
/// on drop, which the callback takes again. The values must be dropped with the job's
/// context, not after the worker's callbacks.
#[test]
fn a_done_callback_waiting_for_the_jobs_values_to_be_dropped_does_not_hang() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let token = HELD.set(Arc::new(Tracked(drops.clone(), false)));
    let job = pool.submit(move || gate_rx.recv().is_ok()).unwrap();
    HELD.reset(token).unwrap(); // the job holds the last reference now
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let seen_drops = drops.clone();
    job.add_done_callback(move |_| {
        let _ = seen_tx.send(dropped(&seen_drops, 1));
    })
    .unwrap();
    gate_tx.send(()).unwrap();
    assert_eq!(job.result(), Ok(true));
    assert_eq!(
        seen_rx.recv(),
        Ok(true),
        "the job's values were gone when its callback ran"
    );
}

/// Holds a pool; counts its drop.
struct PoolHolder(Option<ThreadPool>, Arc<AtomicUsize>);
impl Drop for PoolHolder {
    fn drop(&mut self) {
        drop(self.0.take());
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

static POOL: ContextVar<Arc<PoolHolder>> = ContextVar::new("pool");

/// The last handle to a pool is a value of a job's context: the worker that drops its
/// reference to the job's values drops the pool, which shuts down from its own worker.
/// Neither hangs, and the value is dropped.
#[test]
fn a_kept_value_holding_the_last_handle_to_its_pool_drops_it_from_the_worker() {
    // Waited for or not: dropped as the job ends (nothing is queued behind it).
    for waited in [true, false] {
        let drops = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPool::builder().max_workers(1).build().unwrap();
        let token = POOL.set(Arc::new(PoolHolder(Some(pool), drops.clone())));
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let job = POOL
            .with(|held| {
                let pool = held.unwrap().0.as_ref().unwrap();
                pool.submit(move || gate_rx.recv().is_ok())
            })
            .unwrap();
        POOL.reset(token).unwrap(); // the job holds the last reference (and so the pool)
        gate_tx.send(()).unwrap();
        if waited {
            job.wait();
        }
        assert!(dropped(&drops, 1), "the pool was dropped from its worker");
        // (Nothing queued behind the job: the worker let go of its values before the job
        // was marked done, so it may still be finishing.)
        job.wait();
        assert!(job.done());
    }
}
