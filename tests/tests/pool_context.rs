//! Cross-crate: a context variable set by the caller is visible in pool jobs, a job's sets
//! are invisible to the caller and to the next job, and `Local` values of the workers are
//! dropped by the time `shutdown(wait = true)` returns.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use contexture::ctxvar::ContextVar;
use contexture::local::Local;
use contexture::pool::ThreadPool;

static USER: ContextVar<&'static str> = ContextVar::new("user");

#[test]
fn the_callers_context_reaches_jobs_and_nothing_comes_back() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let _user = USER.set_scoped("alice");
    let first = pool
        .submit(|| {
            let seen = USER.get();
            let _ = USER.set("mallory");
            (seen, USER.get())
        })
        .unwrap();
    assert_eq!(first.result(), Ok((Some("alice"), Some("mallory"))));
    assert_eq!(USER.get(), Some("alice"), "the job's set stayed in the job");
    let next = pool.submit(|| USER.get()).unwrap();
    assert_eq!(
        next.result(),
        Ok(Some("alice")),
        "the next job starts from the caller's copy"
    );
}

#[test]
fn worker_locals_are_dropped_at_shutdown() {
    struct Connection(Arc<AtomicUsize>);
    impl Drop for Connection {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let closed = Arc::new(AtomicUsize::new(0));
    let connections: Arc<Local<Connection>> = Arc::new(Local::new());
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    let both = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (connections, closed, both) = (connections.clone(), closed.clone(), both.clone());
            pool.submit(move || {
                connections.get_or(|| Connection(closed));
                both.wait(); // two jobs at once: one connection per worker
            })
            .unwrap()
        })
        .collect();
    for h in handles {
        h.result().unwrap();
    }
    assert_eq!(closed.load(Ordering::SeqCst), 0);
    pool.shutdown(true, false);
    assert_eq!(closed.load(Ordering::SeqCst), 2);
}
