//! Tour scenarios for `contexture::actor` (the seed's asyncio `Actor`, `CounterActor`,
//! `PrinterActor`), plus what asyncio's version lacks: supervision and context.

use std::sync::{Arc, Mutex};

use contexture::actor::{spawn, Actor, AskError, Ctx, ExitReason, Handler, Restart, Supervisor};
use contexture::ctxvar::ContextVar;
use contexture::pool::ThreadPool;

use crate::{check, scenario};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The seed's `CounterActor`: its count is its state.
struct CounterActor {
    name: &'static str,
    count: i64,
}
impl Actor for CounterActor {}

enum Count {
    Increment(i64),
    Decrement(i64),
}
impl Handler<Count> for CounterActor {
    type Reply = ();
    async fn handle(&mut self, msg: Count, _: &mut Ctx<Self>) {
        match msg {
            Count::Increment(v) => self.count += v,
            Count::Decrement(v) => self.count -= v,
        }
        println!("   {}: count = {}", self.name, self.count);
    }
}

/// The seed sends `{"action": "get", "reply_to": queue}`; here the reply is the handler's
/// return value.
struct GetCount;
impl Handler<GetCount> for CounterActor {
    type Reply = i64;
    async fn handle(&mut self, _: GetCount, _: &mut Ctx<Self>) -> i64 {
        self.count
    }
}

/// The seed's `PrinterActor`.
struct PrinterActor {
    printed: Vec<String>,
}
impl Actor for PrinterActor {}
impl Handler<String> for PrinterActor {
    type Reply = ();
    async fn handle(&mut self, line: String, _: &mut Ctx<Self>) {
        println!("   Printer prints: {line}");
        self.printed.push(line);
    }
}
struct Printed;
impl Handler<Printed> for PrinterActor {
    type Reply = usize;
    async fn handle(&mut self, _: Printed, _: &mut Ctx<Self>) -> usize {
        self.printed.len()
    }
}

/// The seed's `actor_demo`.
pub(crate) fn counter_and_printer() {
    scenario(
        "actors: CounterActor (+5, +3, -2, then get) and PrinterActor",
        "class CounterActor(Actor) / PrinterActor; asyncio.gather(counter.send(...), ...)",
    );
    runtime().block_on(async {
        let counter = spawn(CounterActor {
            name: "Counter",
            count: 0,
        })
        .await
        .expect("the counter starts");
        let printer = spawn(PrinterActor { printed: vec![] })
            .await
            .expect("the printer starts");
        let (a, b, c, d) = tokio::join!(
            counter.tell(Count::Increment(5)),
            counter.tell(Count::Increment(3)),
            counter.tell(Count::Decrement(2)),
            printer.tell("Hello from Actor system".to_string()),
        );
        check(
            a.is_ok() && b.is_ok() && c.is_ok() && d.is_ok(),
            "every tell was accepted",
        );
        // No `sleep(0.5)` needed: an ask queues behind the tells and waits for its reply.
        let count = counter.ask(GetCount).await;
        println!("   counter value: {count:?}");
        check(count.ok() == Some(6), "5 + 3 - 2 = 6, read back with ask");
        check(
            printer.ask(Printed).await.ok() == Some(1),
            "the printer printed one line",
        );
        counter.stop();
        printer.stop();
        let (c, p) = tokio::join!(counter.join(), printer.join());
        println!(
            "   counter ended: {}, printer ended: {}",
            c.reason, p.reason
        );
        check(
            c.reason == ExitReason::Normal && p.reason == ExitReason::Normal,
            "stop() drains the mailbox, then ends normally",
        );
        let refused = counter.tell(Count::Increment(1)).await;
        check(
            matches!(
                refused.map_err(|e| e.into_inner()),
                Err(Count::Increment(1))
            ),
            "a tell after stop hands the message back",
        );
    });
}

/// A worker that fails on bad input.
#[derive(Default)]
struct Worker {
    done: u32,
}
impl Actor for Worker {}
struct Job(i32);
impl Handler<Job> for Worker {
    type Reply = u32;
    async fn handle(&mut self, Job(n): Job, ctx: &mut Ctx<Self>) -> u32 {
        assert!(n >= 0, "negative job {n}");
        self.done += 1;
        println!("   worker (instance #{}) did job {n}", ctx.restarts() + 1);
        self.done
    }
}

/// Supervision: a panicking worker is restarted, its mailbox intact.
pub(crate) fn supervised_worker() {
    scenario(
        "a supervised worker panics and is restarted with its mailbox intact",
        "(asyncio has no supervisors: an exception ends the actor's task)",
    );
    // A one-line panic report instead of the default hook's (and its backtrace).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        println!("   (panic hook: {message})");
    }));
    runtime().block_on(async {
        let supervisor = Supervisor::new();
        let worker = supervisor
            .spawn(Restart::Permanent, Worker::default)
            .await
            .expect("the worker starts");
        let first = worker.ask(Job(1));
        let bad = worker.ask(Job(-1));
        // Queued behind the failing job: must reach the restarted instance.
        let after: Vec<_> = (2..=4).map(|n| worker.ask(Job(n))).collect();
        check(
            first.await.ok() == Some(1),
            "job 1 done by the first instance",
        );
        let failed = bad.await;
        println!("   job -1: {failed:?}");
        check(
            matches!(failed, Err(AskError::Failed(ExitReason::Panicked(_)))),
            "the asker of the bad job gets the panic as an error",
        );
        let mut replies = Vec::new();
        for reply in after {
            replies.push(reply.await.ok());
        }
        check(
            replies == [Some(1), Some(2), Some(3)],
            "jobs 2..4 were kept and handled by the fresh instance",
        );
        supervisor.stop();
        let reason = supervisor.join().await;
        let report = worker.join().await;
        println!(
            "   supervisor ended: {reason}; worker restarts: {}",
            report.restarts
        );
        check(report.restarts == 1, "one restart");
    });
    std::panic::set_hook(default_hook);
}

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");

/// Forwards work to a pool from inside its handler.
struct Frontend {
    pool: Arc<ThreadPool>,
    log: Arc<Mutex<Vec<String>>>,
}
impl Actor for Frontend {}
struct Handle(&'static str);
impl Handler<Handle> for Frontend {
    type Reply = Option<String>;
    async fn handle(&mut self, Handle(what): Handle, _: &mut Ctx<Self>) -> Option<String> {
        self.log
            .lock()
            .unwrap()
            .push(format!("actor handles {what} for {:?}", REQUEST_ID.get()));
        let job = self
            .pool
            .submit(|| REQUEST_ID.get())
            .expect("the pool is running");
        job.await.ok().flatten()
    }
}

/// A request id flows from a caller, through an actor, into a pool job.
pub(crate) fn request_id_through_an_actor() {
    scenario(
        "a request id flows from the caller through an actor into a pool job",
        "contextvars + asyncio tasks: each message carries the sender's context",
    );
    let pool = Arc::new(ThreadPool::new());
    let log = Arc::new(Mutex::new(Vec::new()));
    runtime().block_on(async {
        let frontend = spawn(Frontend {
            pool: pool.clone(),
            log: log.clone(),
        })
        .await
        .expect("the frontend starts");
        let mut seen = Vec::new();
        for id in ["req-1", "req-2"] {
            let ctx = contexture::ctxvar::Context::new();
            let ask = ctx
                .run(|| {
                    REQUEST_ID.set(id.to_string());
                    frontend.ask(Handle("checkout"))
                })
                .expect("a fresh context can be entered");
            seen.push(ask.await.ok().flatten());
        }
        for line in log.lock().unwrap().iter() {
            println!("   {line}");
        }
        println!("   the pool jobs saw: {seen:?}");
        check(
            seen == [Some("req-1".to_string()), Some("req-2".to_string())],
            "each pool job saw its own request's id",
        );
        check(REQUEST_ID.get().is_none(), "nothing leaked into the caller");
    });
}
