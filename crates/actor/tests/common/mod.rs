//! Shared test actors and helpers.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use contexture_actor::{Actor, Ctx, Handler};
use tokio::sync::Notify;

/// A multi-thread runtime with 2 workers and time.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `f` on a helper thread and fails the test if it has not finished in `secs` (a
/// hang must fail, not freeze the suite).
pub fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(value) => {
            worker.join().unwrap();
            value
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The closure panicked (it dropped the sender unwinding): show its panic. Not
            // `is_finished`, which may still be false while the thread unwinds.
            worker.join().unwrap();
            unreachable!("the closure neither returned nor panicked")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("did not finish within {secs} s (hang)")
        }
    }
}

/// Runs an async test body on a fresh runtime, within `secs`.
pub fn run_async<F>(secs: u64, body: impl FnOnce() -> F + Send + 'static)
where
    F: Future<Output = ()> + Send + 'static,
{
    within(secs, move || rt().block_on(body()));
}

/// A counter actor that records what it handled, with a gate to hold a handler.
#[derive(Default)]
pub struct Counter {
    pub count: i64,
    pub handled: Arc<AtomicUsize>,
}

impl Actor for Counter {}

pub struct Add(pub i64);
impl Handler<Add> for Counter {
    type Reply = i64;
    async fn handle(&mut self, Add(n): Add, _: &mut Ctx<Self>) -> i64 {
        self.count += n;
        self.handled.fetch_add(1, Ordering::SeqCst);
        self.count
    }
}

pub struct Get;
impl Handler<Get> for Counter {
    type Reply = i64;
    async fn handle(&mut self, _: Get, _: &mut Ctx<Self>) -> i64 {
        self.count
    }
}

/// Blocks the handler until the notify fires (and tells the test it started).
pub struct Hold(pub Arc<Notify>, pub Arc<Notify>);
impl Handler<Hold> for Counter {
    type Reply = ();
    async fn handle(&mut self, Hold(started, release): Hold, _: &mut Ctx<Self>) {
        started.notify_one();
        release.notified().await;
    }
}

pub struct Boom;
impl Handler<Boom> for Counter {
    type Reply = ();
    async fn handle(&mut self, _: Boom, _: &mut Ctx<Self>) {
        panic!("boom");
    }
}

/// Counts how many of these were dropped.
pub struct Tracked(pub Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Holds the counter's handler: returns (started, release).
pub async fn hold(actor: &contexture_actor::ActorRef<Counter>) -> Arc<Notify> {
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    actor
        .tell(Hold(started.clone(), release.clone()))
        .await
        .unwrap();
    started.notified().await;
    release
}
