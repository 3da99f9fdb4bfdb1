//! Context propagation: each job runs in a copy of the submitter's context taken at submit;
//! what a job sets is invisible to the submitter and to the next job on the same worker.

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
