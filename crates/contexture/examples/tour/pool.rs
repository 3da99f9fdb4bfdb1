//! Tour scenarios for `contexture::pool` (Python's `concurrent.futures.ThreadPoolExecutor`).

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use contexture::ctxvar::ContextVar;
use contexture::pool::{as_completed, TaskError, ThreadPool};

use crate::{check, scenario};

/// Pretends to fetch a URL: takes a little time (later URLs answer sooner).
fn fetch_url(n: u64) -> String {
    thread::sleep(Duration::from_millis(10 * (8 - n)));
    format!("response from http://api.example.com/data/{n}")
}

/// The seed's `ManagedThreadPool`: 8 URLs on 4 workers, results as they complete.
pub(crate) fn managed_pool() {
    scenario(
        "ThreadPoolExecutor: 8 fetches on 4 workers, printed as they complete",
        "ManagedThreadPool(max_workers=4) + as_completed(futures)",
    );
    let pool = ThreadPool::builder()
        .max_workers(4)
        .thread_name_prefix("Worker")
        .build()
        .expect("4 workers is a valid pool");
    let handles: Vec<_> = (0..8)
        .map(|n| {
            pool.submit(move || (thread::current().name().map(str::to_owned), fetch_url(n)))
                .expect("the pool is running")
        })
        .collect();
    let mut completed = 0;
    for handle in as_completed(&handles, None).flatten() {
        match peek(handle) {
            Ok((worker, response)) => println!("   [{}] {response}", worker.unwrap_or_default()),
            Err(e) => println!("   error: {e}"),
        }
        completed += 1;
    }
    check(
        completed == 8,
        "as_completed yielded each of the 8 handles once",
    );
    check(pool.workers() <= 4, "never more than max_workers threads");
    pool.shutdown(true, false);
    let all_ok = handles.into_iter().all(|h| h.result().is_ok());
    check(all_ok, "every fetch succeeded");
}

/// Reads a finished job's outcome without taking it, through a done callback (which runs at
/// once for a job that has ended).
fn peek<T: Clone + Send + 'static>(handle: &contexture::pool::Handle<T>) -> Result<T, TaskError> {
    let (tx, rx) = mpsc::channel();
    let _ = handle.add_done_callback(move |outcome| {
        let _ = tx.send(outcome.cloned().map_err(Clone::clone));
    });
    rx.recv().unwrap_or(Err(TaskError::AlreadyTaken))
}

/// The seed's fetch → parse → store pipeline, chained through done callbacks.
pub(crate) fn callback_pipeline() {
    scenario(
        "done callbacks chain a fetch -> parse -> store pipeline",
        "future.add_done_callback(on_fetch_done) submitting the next stage",
    );
    let pool = Arc::new(ThreadPool::builder().max_workers(3).build().expect("valid"));
    let (finished_tx, finished_rx) = mpsc::channel::<String>();
    let fetch = pool
        .submit(|| "raw_data_from_database".to_string())
        .expect("the pool is running");
    let p = pool.clone();
    let _ = fetch.add_done_callback(move |raw| {
        let raw = raw.expect("fetch succeeded").clone();
        println!("   fetched: {raw}");
        let parse = p
            .submit(move || raw.replace("raw_data_from_", "parsed: "))
            .expect("the pool is running");
        let p = p.clone();
        let _ = parse.add_done_callback(move |parsed| {
            let parsed = parsed.expect("parse succeeded").clone();
            println!("   parsed:  {parsed}");
            let store = p
                .submit(move || format!("stored[{parsed}]"))
                .expect("the pool is running");
            let _ = store.add_done_callback(move |stored| {
                let stored = stored.expect("store succeeded").clone();
                println!("   pipeline finished: {stored}");
                let _ = finished_tx.send(stored);
            });
        });
    });
    let result = finished_rx.recv_timeout(Duration::from_secs(30));
    check(
        result.as_deref() == Ok("stored[parsed: database]"),
        "the three stages ran in order, each started by the previous one's callback",
    );
}

/// A panicking job becomes an error value; the worker goes on serving.
pub(crate) fn panicking_job() {
    scenario(
        "a job that panics is reported as an error; the worker survives",
        "future.result() re-raising the job's exception",
    );
    let pool = ThreadPool::builder().max_workers(1).build().expect("valid");
    // A one-line panic report instead of the default hook's (and its backtrace).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let worker = thread::current().name().unwrap_or("?").to_owned();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .unwrap_or("?");
        println!("   (panic hook, on {worker}: {message})");
    }));
    let bad = pool
        .submit(|| -> u32 { panic!("division by zero in job 3") })
        .expect("the pool is running");
    let outcome = bad.result();
    std::panic::set_hook(default_hook);
    println!("   job 3: {outcome:?}");
    check(
        outcome == Err(TaskError::Panicked("division by zero in job 3".into())),
        "the panic message came back as TaskError::Panicked",
    );
    let next = pool.submit(|| 4).expect("the pool is running").result();
    println!("   job 4 on the same worker: {next:?}");
    check(
        next == Ok(4) && pool.workers() == 1,
        "the same single worker ran the next job",
    );
}

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");

/// The caller's context goes into every job; what a job sets stays in that job.
pub(crate) fn request_id_in_jobs() {
    scenario(
        "the caller's request id appears inside every job",
        "contextvars + executor: a copy of the context per job",
    );
    let pool = ThreadPool::builder().max_workers(2).build().expect("valid");
    let _scope = REQUEST_ID.set_scoped("req-42".to_string());
    let handles: Vec<_> = (0..4)
        .map(|n| {
            pool.submit(move || {
                let seen = REQUEST_ID.get();
                println!("   job {n} sees request_id = {seen:?}");
                let _ = REQUEST_ID.set(format!("changed by job {n}"));
                seen
            })
            .expect("the pool is running")
        })
        .collect();
    let all_saw_it = handles
        .into_iter()
        .all(|h| h.result() == Ok(Some("req-42".to_string())));
    check(all_saw_it, "every job saw the caller's request id");
    check(
        REQUEST_ID.get().as_deref() == Some("req-42"),
        "a job's set never reaches the caller (nor the next job: each runs in its own copy)",
    );
}
