//! A target for profilers (`perf record`, `valgrind --tool=callgrind`): one contender of
//! `benches/actor.rs` in a loop, nothing else in the process.
//!
//! `cargo build --release -p contexture-bench --example actor_profile`, then
//! `actor_profile <tell|ask|spawn> <ours|ours-var|ours-off|tokio> [operations]`.

use std::hint::black_box;
use std::time::Instant;

use contexture_actor::{Actor, Builder, Ctx, Handler};
use contexture_ctxvar::{ContextVar, FutureExt};
use tokio::sync::{mpsc, oneshot};

static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");

struct Inc(u64);
struct Get;
struct Ping(u64);

#[derive(Default)]
struct Counter {
    count: u64,
}
impl Actor for Counter {}
impl Handler<Inc> for Counter {
    type Reply = ();
    async fn handle(&mut self, Inc(v): Inc, _: &mut Ctx<Self>) {
        self.count = self.count.wrapping_add(v);
    }
}
impl Handler<Get> for Counter {
    type Reply = u64;
    async fn handle(&mut self, _: Get, _: &mut Ctx<Self>) -> u64 {
        self.count
    }
}
impl Handler<Ping> for Counter {
    type Reply = u64;
    async fn handle(&mut self, Ping(v): Ping, _: &mut Ctx<Self>) -> u64 {
        self.count = self.count.wrapping_add(v);
        self.count
    }
}
struct Idle;
impl Actor for Idle {}

enum Cmd {
    Inc(u64),
    Get(oneshot::Sender<u64>),
    Ping(u64, oneshot::Sender<u64>),
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let op = args.get(1).map_or("tell", String::as_str).to_owned();
    let who = args.get(2).map_or("ours", String::as_str).to_owned();
    let n: u64 = args
        .get(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let sender = async move {
        if who == "ours-var" {
            REQUEST_ID.set(42);
        }
        let builder = Builder::new()
            .capacity(1024)
            .propagate_context(who != "ours-off");
        if who == "tokio" {
            let (tx, mut rx) = mpsc::channel::<Cmd>(1024);
            tokio::spawn(async move {
                let mut count = 0u64;
                while let Some(cmd) = rx.recv().await {
                    match cmd {
                        Cmd::Inc(v) => count = count.wrapping_add(v),
                        Cmd::Get(r) => {
                            let _ = r.send(count);
                        }
                        Cmd::Ping(v, r) => {
                            count = count.wrapping_add(v);
                            let _ = r.send(count);
                        }
                    }
                }
            });
            match op.as_str() {
                "tell" => {
                    for i in 0..n {
                        let _ = tx.send(Cmd::Inc(i)).await;
                    }
                    let (r, rx) = oneshot::channel();
                    let _ = tx.send(Cmd::Get(r)).await;
                    black_box(rx.await.unwrap());
                }
                "ask" => {
                    for i in 0..n {
                        let (r, rx) = oneshot::channel();
                        let _ = tx.send(Cmd::Ping(i, r)).await;
                        black_box(rx.await.unwrap());
                    }
                }
                _ => {
                    for _ in 0..n {
                        let (tx, mut rx) = mpsc::channel::<Cmd>(1024);
                        let t = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                        drop(tx);
                        t.await.unwrap();
                    }
                }
            }
            return;
        }
        match op.as_str() {
            "tell" => {
                let a = builder.spawn(Counter::default()).await.unwrap();
                for i in 0..n {
                    a.tell(Inc(i)).await.unwrap();
                }
                black_box(a.ask(Get).await.unwrap());
            }
            "ask" => {
                let a = builder.spawn(Counter::default()).await.unwrap();
                for i in 0..n {
                    black_box(a.ask(Ping(i)).await.unwrap());
                }
            }
            _ => {
                for _ in 0..n {
                    let a = builder.clone().spawn(Idle).await.unwrap();
                    a.stop();
                    black_box(a.join().await);
                }
            }
        }
    };
    rt.block_on(async { tokio::spawn(sender.with_current_context()).await.unwrap() });
    let took = start.elapsed();
    println!("{:.1} ns/op", took.as_secs_f64() * 1e9 / n as f64);
}
