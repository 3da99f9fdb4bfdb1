//! The propagation chain across crates: a ContextVar set while handling a request is seen,
//! unchanged, in a `ctxvar::thread::spawn` thread, a pool job, a `ctxvar::spawn`ed task, an
//! actor handler reached by tell and by ask (async and blocking), a pool job submitted from
//! inside that handler, and a timer message; no write leaks back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use contexture::actor::{spawn, Actor, Ctx, Handler, StartError};
use contexture::ctxvar::{self, ContextVar};
use contexture::pool::ThreadPool;

static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");

/// Where each hop records the request id it saw.
type Seen = Arc<Mutex<Vec<(&'static str, Option<u64>)>>>;

struct Service {
    pool: Arc<ThreadPool>,
    seen: Seen,
}

impl Actor for Service {
    async fn on_start(&mut self, _: &mut Ctx<Self>) -> Result<(), StartError> {
        // The actor's own context, spawned inside the request: the timer's base.
        Ok(())
    }
}

/// Handled by tell: records, then writes (must not leak), then arms a timer.
struct Tell;
impl Handler<Tell> for Service {
    type Reply = ();
    async fn handle(&mut self, _: Tell, ctx: &mut Ctx<Self>) {
        self.seen
            .lock()
            .unwrap()
            .push(("actor tell", REQUEST_ID.get()));
        REQUEST_ID.set(0);
        ctx.send_after(Duration::from_millis(1), Timer);
    }
}

/// Handled by ask: records, and submits a pool job from inside the handler.
struct Ask(&'static str);
impl Handler<Ask> for Service {
    type Reply = Option<u64>;
    async fn handle(&mut self, Ask(hop): Ask, _: &mut Ctx<Self>) -> Option<u64> {
        self.seen.lock().unwrap().push((hop, REQUEST_ID.get()));
        let job = self.pool.submit(|| REQUEST_ID.get()).unwrap();
        let from_job = job.await.unwrap();
        self.seen
            .lock()
            .unwrap()
            .push(("pool job from the handler", from_job));
        REQUEST_ID.set(1);
        from_job
    }
}

struct Timer;
impl Handler<Timer> for Service {
    type Reply = ();
    async fn handle(&mut self, _: Timer, _: &mut Ctx<Self>) {
        self.seen
            .lock()
            .unwrap()
            .push(("timer message", REQUEST_ID.get()));
    }
}

#[test]
fn a_request_id_follows_work_everywhere_and_nothing_leaks_back() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pool = Arc::new(ThreadPool::new());
    let seen: Seen = Arc::default();

    // The request handler.
    let service = ctxvar::Context::new()
        .run(|| {
            REQUEST_ID.set(42);
            let service = rt
                .block_on(spawn(Service {
                    pool: pool.clone(),
                    seen: seen.clone(),
                }))
                .unwrap();

            let thread = ctxvar::thread::spawn(|| REQUEST_ID.get()).join().unwrap();
            seen.lock().unwrap().push(("ctxvar::thread::spawn", thread));
            let job = pool.submit(|| REQUEST_ID.get()).unwrap().result().unwrap();
            seen.lock().unwrap().push(("pool job", job));
            rt.block_on(async {
                let task = ctxvar::spawn(async { REQUEST_ID.get() }).await.unwrap();
                seen.lock().unwrap().push(("ctxvar::spawn task", task));
                service.tell(Tell).await.unwrap();
                assert_eq!(service.ask(Ask("actor ask")).await.unwrap(), Some(42));
            });
            assert_eq!(
                service.blocking_ask(Ask("actor blocking_ask")).unwrap(),
                Some(42)
            );
            // The timer fires after the tell's handler armed it.
            for _ in 0..500 {
                if seen
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|(hop, _)| *hop == "timer message")
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            assert_eq!(
                REQUEST_ID.get(),
                Some(42),
                "no hop wrote back into the request"
            );
            service
        })
        .unwrap();

    let seen = seen.lock().unwrap().clone();
    for hop in [
        "ctxvar::thread::spawn",
        "pool job",
        "ctxvar::spawn task",
        "actor tell",
        "actor ask",
        "actor blocking_ask",
        "pool job from the handler",
        "timer message",
    ] {
        assert!(
            seen.iter().any(|(h, id)| *h == hop && *id == Some(42)),
            "{hop} did not see the request id: {seen:?}"
        );
    }
    assert!(seen.iter().all(|(_, id)| *id == Some(42)), "{seen:?}");
    service.stop();
    service.blocking_join().unwrap();
}
