//! `contexture_actor` against a raw tokio mpsc + task, ractor, kameo and actix, measured
//! side by side in one run: tell throughput, sequential ask round trips, and
//! spawn + stop + join. `cargo xtask bench actor` prints the ratios; the paired medians
//! printed after each group (ours ÷ each anchor, per round) are the comparison to trust on
//! this machine.
//!
//! Every tokio-based contender (ours, raw tokio, ractor, kameo) runs on one multi-thread
//! runtime with two workers, and every sender is a task spawned on it. actix runs its
//! actors on its own `System` (one arbiter thread, as its docs start it); its senders are
//! the same tasks on the shared runtime.
//!
//! Ours appears three times: context propagation on (the default) with the sender's
//! context empty; on with one `ContextVar` set in the sender's context (the normal case:
//! a request id); and off (`Builder::propagate_context(false)`).
//!
//! `CONTEXTURE_BENCH_ACTOR_BREAKDOWN=1` adds two diagnostic groups: a raw tokio actor
//! rebuilt layer by layer towards ours (see [`Layer`]), to price each layer.
//! `CONTEXTURE_BENCH_ACTOR_PYTHON=1` adds ours against the CPython seed actor
//! (`python/actor.py`) batch by batch in the same rounds. For a
//! profiler, `examples/actor_profile.rs` runs one contender alone.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use contexture_actor::{Actor, ActorRef, Builder, Ctx, Handler};
use contexture_ctxvar::{ContextVar, FutureExt};
use criterion::{criterion_group, criterion_main, Criterion};
use kameo::actor::Spawn as _;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};

const WORKERS: usize = 2;
/// One mailbox size for every contender that has one (ours' default; kameo's is 64).
const CAPACITY: usize = 1024;
/// The sizes: 200k tells, 50k sequential asks; spawns per round.
const TELLS: u64 = 200_000;
const ASKS: u64 = 50_000;
const SPAWNS: u64 = 2_000;

/// The sender's request id, for ours with one var set.
static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");

// ---- messages and actors ------------------------------------------------------------

/// Tell: add to the count.
struct Inc(u64);
/// Ask: the count (ends a tell batch: FIFO, so every tell before it was handled).
struct Get;
/// Ask: add, reply the count.
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

/// Ours, for spawn + stop + join.
struct Idle;
impl Actor for Idle {}

/// The raw tokio anchor: one task owning the count, one bounded mpsc, oneshot replies.
enum Cmd {
    Inc(u64),
    Get(oneshot::Sender<u64>),
    Ping(u64, oneshot::Sender<u64>),
}

fn raw_tokio(rt: &Runtime) -> mpsc::Sender<Cmd> {
    let (tx, mut rx) = mpsc::channel(CAPACITY);
    rt.spawn(async move {
        let mut count = 0u64;
        while let Some(cmd) = rx.recv().await {
            match cmd {
                Cmd::Inc(v) => count = count.wrapping_add(v),
                Cmd::Get(reply) => {
                    let _ = reply.send(count);
                }
                Cmd::Ping(v, reply) => {
                    count = count.wrapping_add(v);
                    let _ = reply.send(count);
                }
            }
        }
    });
    tx
}

/// kameo.
#[derive(kameo::Actor, Default)]
struct KCounter {
    count: u64,
}

impl kameo::message::Message<Inc> for KCounter {
    type Reply = ();
    async fn handle(&mut self, Inc(v): Inc, _: &mut kameo::message::Context<Self, ()>) {
        self.count = self.count.wrapping_add(v);
    }
}

impl kameo::message::Message<Get> for KCounter {
    type Reply = u64;
    async fn handle(&mut self, _: Get, _: &mut kameo::message::Context<Self, u64>) -> u64 {
        self.count
    }
}

impl kameo::message::Message<Ping> for KCounter {
    type Reply = u64;
    async fn handle(&mut self, Ping(v): Ping, _: &mut kameo::message::Context<Self, u64>) -> u64 {
        self.count = self.count.wrapping_add(v);
        self.count
    }
}

#[derive(kameo::Actor)]
struct KIdle;

/// ractor: one message enum, replies through `RpcReplyPort`.
struct RCounter;

enum RMsg {
    Inc(u64),
    Get(ractor::RpcReplyPort<u64>),
    Ping(u64, ractor::RpcReplyPort<u64>),
}

impl ractor::Actor for RCounter {
    type Msg = RMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ractor::ActorRef<RMsg>,
        _: (),
    ) -> Result<u64, ractor::ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _: ractor::ActorRef<RMsg>,
        msg: RMsg,
        count: &mut u64,
    ) -> Result<(), ractor::ActorProcessingErr> {
        match msg {
            RMsg::Inc(v) => *count = count.wrapping_add(v),
            RMsg::Get(reply) => {
                let _ = reply.send(*count);
            }
            RMsg::Ping(v, reply) => {
                *count = count.wrapping_add(v);
                let _ = reply.send(*count);
            }
        }
        Ok(())
    }
}

struct RIdle;

impl ractor::Actor for RIdle {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ractor::ActorRef<()>,
        _: (),
    ) -> Result<(), ractor::ActorProcessingErr> {
        Ok(())
    }
}

/// actix.
struct XCounter {
    count: u64,
}

impl actix::Actor for XCounter {
    type Context = actix::Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(CAPACITY);
    }
}

impl actix::Message for Inc {
    type Result = ();
}
impl actix::Message for Get {
    type Result = u64;
}
impl actix::Message for Ping {
    type Result = u64;
}

impl actix::Handler<Inc> for XCounter {
    type Result = ();
    fn handle(&mut self, Inc(v): Inc, _: &mut Self::Context) {
        self.count = self.count.wrapping_add(v);
    }
}

impl actix::Handler<Get> for XCounter {
    type Result = u64;
    fn handle(&mut self, _: Get, _: &mut Self::Context) -> u64 {
        self.count
    }
}

impl actix::Handler<Ping> for XCounter {
    type Result = u64;
    fn handle(&mut self, Ping(v): Ping, _: &mut Self::Context) -> u64 {
        self.count = self.count.wrapping_add(v);
        self.count
    }
}

/// An actix `System` on its own thread, running one `XCounter`; stopped on drop.
struct Actix {
    addr: actix::Addr<XCounter>,
    system: actix::System,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Actix {
    fn start() -> Actix {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runner = actix::System::new();
            let addr = runner.block_on(async { actix::Actor::start(XCounter { count: 0 }) });
            tx.send((addr, actix::System::current())).unwrap();
            runner.run().unwrap();
        });
        let (addr, system) = rx.recv().unwrap();
        Actix {
            addr,
            system,
            thread: Some(thread),
        }
    }
}

impl Drop for Actix {
    fn drop(&mut self) {
        self.system.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---- measuring ----------------------------------------------------------------------

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `sender` as a task on `rt` (the sender is an actor's peer, not the main thread);
/// returns the time it measured itself.
fn on_runtime<F>(rt: &Runtime, sender: F) -> Duration
where
    F: std::future::Future<Output = Duration> + Send + 'static,
{
    rt.block_on(async { tokio::spawn(sender).await.unwrap() })
}

/// As [`on_runtime`], the sender inside its own context holding [`REQUEST_ID`].
fn on_runtime_with_var<F>(rt: &Runtime, sender: F) -> Duration
where
    F: std::future::Future<Output = Duration> + Send + 'static,
{
    rt.block_on(async {
        tokio::spawn(
            async move {
                REQUEST_ID.set(42);
                sender.await
            }
            .with_current_context(),
        )
        .await
        .unwrap()
    })
}

/// One way to run a batch of `n` operations; returns its time.
type Contender<'a> = (&'static str, Box<dyn Fn(u64) -> Duration + 'a>);

/// The time of `iters` operations of contender `timed`, measured in whole rounds of
/// `batch` operations (scaled back to `iters`); every round also runs every other
/// contender with as many operations, in a shuffled order, untimed. Each round is recorded
/// for [`print_paired`]. Criterion's first warm-up calls (fewer than `batch / 2`
/// operations) run one small round of `iters` operations, not recorded.
///
/// Interleaved because this machine drifts (±50% between minutes): round by round, every
/// contender sees the same machine, heap and scheduler state. See `pool.rs`. Whole rounds
/// because criterion's iteration counts are far below the batch sizes (measured:
/// none of the ask samples reached 25k of the 50k asks).
fn interleaved(contenders: &[Contender<'_>], timed: usize, iters: u64, batch: u64) -> Duration {
    if iters * 2 < batch {
        return round(contenders, timed, iters.max(1), false);
    }
    let batches = iters.div_ceil(batch);
    let mut total = Duration::ZERO;
    for _ in 0..batches {
        total += round(contenders, timed, batch, true);
    }
    total.mul_f64(iters as f64 / (batches * batch) as f64)
}

/// Runs every contender once with `n` operations, in a fresh pseudo-random order per round;
/// returns the time of contender `timed`.
///
/// Shuffled, not rotated: a rotation keeps every contender's predecessor fixed (the first
/// one always runs right after the last), and the predecessor matters — measured in the
/// CPython pairing: ours right after the Python subprocess ran 1.3-1.4× slower than the
/// same actor in other positions.
fn round(contenders: &[Contender<'_>], timed: usize, n: u64, record: bool) -> Duration {
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    let round = ROUND.fetch_add(1, Ordering::Relaxed);
    let mut order: Vec<usize> = (0..contenders.len()).collect();
    // Fisher-Yates with a splitmix64 stream seeded by the round number.
    let mut seed = (round as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    for i in (1..order.len()).rev() {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        order.swap(i, (z % (i as u64 + 1)) as usize);
    }
    let mut per_op = vec![0.0; contenders.len()];
    let mut timed_took = Duration::ZERO;
    for i in order {
        let took = (contenders[i].1)(n);
        per_op[i] = took.as_secs_f64() * 1e9 / n as f64;
        if i == timed {
            timed_took = took;
        }
    }
    if record {
        ROUNDS.lock().unwrap().push(per_op);
    }
    timed_took
}

/// Per recorded round of [`interleaved`]: every contender's ns per operation.
static ROUNDS: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());

/// Prints, from every recorded round, each contender's median ns per operation and the
/// median over rounds of each of ours (the first `ours` contenders) ÷ each anchor
/// measured in the same round.
fn print_paired(group: &str, contenders: &[Contender<'_>], ours: usize, batch: u64) {
    let rounds = std::mem::take(&mut *ROUNDS.lock().unwrap());
    if rounds.is_empty() {
        return;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\n{group}: paired, {} rounds of {batch} operations (medians):",
        rounds.len()
    );
    for (i, (name, _)) in contenders.iter().enumerate() {
        let ns = median(rounds.iter().map(|r| r[i]).collect());
        println!("  {name:<34} {ns:>10.1} ns/op");
    }
    for o in 0..ours {
        for a in ours..contenders.len() {
            let ratio = median(rounds.iter().map(|r| r[o] / r[a]).collect());
            println!(
                "  {} / {}: {ratio:.2} (anchor ÷ ours: {:.1})",
                contenders[o].0,
                contenders[a].0,
                1.0 / ratio
            );
        }
    }
    for o in 1..ours {
        let ratio = median(rounds.iter().map(|r| r[o] / r[0]).collect());
        println!("  {} / {}: {ratio:.2}", contenders[o].0, contenders[0].0);
    }
}

fn run_group(
    c: &mut Criterion,
    name: &str,
    contenders: &[Contender<'_>],
    ours: usize,
    batch: u64,
    measurement: Duration,
) {
    let mut group = c.benchmark_group(name);
    // Criterion sizes its samples from the wall time of the warm-up calls, which run every
    // contender: these are (about) wall times per function id, so a group takes about
    // `contenders × (warm-up + measurement)`, and a round is recorded for every `batch ×
    // (sum of every contender's time per op)` of it.
    group.warm_up_time(measurement / 5);
    group.measurement_time(measurement);
    group.sample_size(10);
    for (i, (id, _)) in contenders.iter().enumerate() {
        group.bench_function(*id, |b| {
            b.iter_custom(|iters| interleaved(contenders, i, iters, batch))
        });
    }
    group.finish();
    print_paired(name, contenders, ours, batch);
}

// ---- groups -------------------------------------------------------------------------

/// Our two counters on `rt`: context propagation on (the default) and off.
fn ours(rt: &Runtime) -> (ActorRef<Counter>, ActorRef<Counter>) {
    let spawn = |propagate| {
        Builder::new()
            .capacity(CAPACITY)
            .propagate_context(propagate)
            .spawn(Counter::default())
    };
    rt.block_on(async { (spawn(true).await.unwrap(), spawn(false).await.unwrap()) })
}

/// kameo's counter on `rt`, with the same bounded mailbox as ours.
fn kameo_counter(rt: &Runtime) -> kameo::actor::ActorRef<KCounter> {
    rt.block_on(async {
        KCounter::spawn_with_mailbox(KCounter::default(), kameo::mailbox::bounded(CAPACITY))
    })
}

/// Tells to one actor, then one ask to wait until all were handled; per tell.
fn tell_throughput(c: &mut Criterion) {
    let rt = runtime();
    let (ours, ours_plain) = ours(&rt);
    let tokio_tx = raw_tokio(&rt);
    let (ractor, ractor_handle) = rt
        .block_on(ractor::Actor::spawn(None, RCounter, ()))
        .unwrap();
    let kameo = kameo_counter(&rt);
    let actix = Actix::start();

    async fn tell_ours(actor: ActorRef<Counter>, n: u64) -> Duration {
        let start = Instant::now();
        for i in 0..n {
            actor.tell(Inc(i)).await.unwrap();
        }
        black_box(actor.ask(Get).await.unwrap());
        start.elapsed()
    }

    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(|n| on_runtime(&rt, tell_ours(ours.clone(), n))),
        ),
        (
            "contexture (1 var set)",
            Box::new(|n| on_runtime_with_var(&rt, tell_ours(ours.clone(), n))),
        ),
        (
            "contexture (no context)",
            Box::new(|n| on_runtime(&rt, tell_ours(ours_plain.clone(), n))),
        ),
        (
            "tokio mpsc+task",
            Box::new(|n| {
                let tx = tokio_tx.clone();
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for i in 0..n {
                        if tx.send(Cmd::Inc(i)).await.is_err() {
                            panic!("raw tokio actor gone");
                        }
                    }
                    let (reply, rx) = oneshot::channel();
                    if tx.send(Cmd::Get(reply)).await.is_err() {
                        panic!("raw tokio actor gone");
                    }
                    black_box(rx.await.unwrap());
                    start.elapsed()
                })
            }),
        ),
        (
            "ractor cast",
            Box::new(|n| {
                let actor = ractor.clone();
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for i in 0..n {
                        if actor.cast(RMsg::Inc(i)).is_err() {
                            panic!("ractor cast failed");
                        }
                    }
                    let Ok(ractor::rpc::CallResult::Success(count)) =
                        actor.call(RMsg::Get, None).await
                    else {
                        panic!("ractor call failed")
                    };
                    black_box(count);
                    start.elapsed()
                })
            }),
        ),
        (
            "kameo tell",
            Box::new(|n| {
                let actor = kameo.clone();
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for i in 0..n {
                        if actor.tell(Inc(i)).await.is_err() {
                            panic!("kameo tell failed");
                        }
                    }
                    let Ok(count) = actor.ask(Get).await else {
                        panic!("kameo ask failed")
                    };
                    black_box(count);
                    start.elapsed()
                })
            }),
        ),
        (
            "actix do_send",
            Box::new(|n| {
                let addr = actix.addr.clone();
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for i in 0..n {
                        addr.do_send(Inc(i));
                    }
                    black_box(addr.send(Get).await.unwrap());
                    start.elapsed()
                })
            }),
        ),
    ];
    run_group(
        c,
        "actor tell throughput per message (1 actor, 2 workers)",
        &contenders,
        3,
        TELLS,
        Duration::from_secs(10),
    );
    drop(contenders);
    ractor.stop(None);
    let _ = rt.block_on(ractor_handle);
    drop(actix);
}

/// Sequential asks to one actor, each awaited before the next; per round trip.
fn ask_round_trip(c: &mut Criterion) {
    let rt = runtime();
    let (ours, ours_plain) = ours(&rt);
    let tokio_tx = raw_tokio(&rt);
    let (ractor, ractor_handle) = rt
        .block_on(ractor::Actor::spawn(None, RCounter, ()))
        .unwrap();
    let kameo = kameo_counter(&rt);
    let actix = Actix::start();

    async fn ask_ours(actor: ActorRef<Counter>, n: u64) -> Duration {
        let start = Instant::now();
        for i in 0..n {
            black_box(actor.ask(Ping(i)).await.unwrap());
        }
        start.elapsed()
    }

    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(|n| on_runtime(&rt, ask_ours(ours.clone(), n))),
        ),
        (
            "contexture (1 var set)",
            Box::new(|n| on_runtime_with_var(&rt, ask_ours(ours.clone(), n))),
        ),
        (
            "contexture (no context)",
            Box::new(|n| on_runtime(&rt, ask_ours(ours_plain.clone(), n))),
        ),
        (
            "tokio mpsc+oneshot",
            Box::new(|n| {
                let tx = tokio_tx.clone();
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for i in 0..n {
                        let (reply, rx) = oneshot::channel();
                        if tx.send(Cmd::Ping(i, reply)).await.is_err() {
                            panic!("raw tokio actor gone");
                        }
                        black_box(rx.await.unwrap());
                    }
                    start.elapsed()
                })
            }),
        ),
        (
            "ractor call",
            Box::new(|n| {
                let actor = ractor.clone();
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for i in 0..n {
                        let Ok(ractor::rpc::CallResult::Success(count)) =
                            actor.call(|reply| RMsg::Ping(i, reply), None).await
                        else {
                            panic!("ractor call failed")
                        };
                        black_box(count);
                    }
                    start.elapsed()
                })
            }),
        ),
        (
            "kameo ask",
            Box::new(|n| {
                let actor = kameo.clone();
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for i in 0..n {
                        let Ok(count) = actor.ask(Ping(i)).await else {
                            panic!("kameo ask failed")
                        };
                        black_box(count);
                    }
                    start.elapsed()
                })
            }),
        ),
        (
            "actix send",
            Box::new(|n| {
                let addr = actix.addr.clone();
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for i in 0..n {
                        black_box(addr.send(Ping(i)).await.unwrap());
                    }
                    start.elapsed()
                })
            }),
        ),
    ];
    run_group(
        c,
        "actor ask round trip (sequential, 2 workers)",
        &contenders,
        3,
        ASKS,
        Duration::from_secs(10),
    );
    drop(contenders);
    ractor.stop(None);
    let _ = rt.block_on(ractor_handle);
    drop(actix);
}

/// Spawn one actor, stop it, wait for its end; per actor, one after the other.
fn spawn_stop_join(c: &mut Criterion) {
    let rt = runtime();

    async fn cycle_ours(builder: Builder, n: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..n {
            let actor = builder.clone().spawn(Idle).await.unwrap();
            actor.stop();
            black_box(actor.join().await);
        }
        start.elapsed()
    }

    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(|n| on_runtime(&rt, cycle_ours(Builder::new(), n))),
        ),
        (
            "contexture (1 var set)",
            Box::new(|n| on_runtime_with_var(&rt, cycle_ours(Builder::new(), n))),
        ),
        (
            "contexture (no context)",
            Box::new(|n| on_runtime(&rt, cycle_ours(Builder::new().propagate_context(false), n))),
        ),
        (
            "tokio task+mpsc",
            Box::new(|n| {
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for _ in 0..n {
                        let (tx, mut rx) = mpsc::channel::<Cmd>(CAPACITY);
                        let task = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                        drop(tx);
                        task.await.unwrap();
                    }
                    start.elapsed()
                })
            }),
        ),
        (
            "ractor",
            Box::new(|n| {
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for _ in 0..n {
                        let (actor, handle) = ractor::Actor::spawn(None, RIdle, ()).await.unwrap();
                        actor.stop(None);
                        handle.await.unwrap();
                    }
                    start.elapsed()
                })
            }),
        ),
        (
            "kameo",
            Box::new(|n| {
                on_runtime(&rt, async move {
                    let start = Instant::now();
                    for _ in 0..n {
                        let actor = KIdle::spawn(KIdle);
                        if actor.stop_gracefully().await.is_err() {
                            panic!("kameo stop failed");
                        }
                        actor.wait_for_shutdown().await;
                    }
                    start.elapsed()
                })
            }),
        ),
    ];
    run_group(
        c,
        "actor spawn+stop+join per actor (2 workers)",
        &contenders,
        3,
        SPAWNS,
        Duration::from_secs(5),
    );
}

// ---- breakdown (diagnostic) --------------------------------------------------------

/// A raw tokio actor rebuilt layer by layer towards what ours does per message, to put a
/// price on each layer (paired, as above). Only with `CONTEXTURE_BENCH_ACTOR_BREAKDOWN=1`.
///
/// - `Sys`: the plain `Cmd` channel, plus an empty second (unbounded) lane polled before
///   every receive, as ours polls its system lane;
/// - `Boxed`: + each message a `Box<dyn Env>` (one allocation, made by the sender, freed
///   by the actor);
/// - `Future`: + the handler a boxed `dyn Future` (one more allocation per message);
/// - `Context`: + the sender's `Snapshot` captured per message and the handler run in a
///   fresh context made from it (`Snapshot::run` + `with_current_context`), as ours;
/// - and `Sys` and `Context` again with the system lane looked at the proposed cheaper way
///   (see [`next_msg`]).
#[derive(Clone, Copy, PartialEq)]
enum Layer {
    Sys,
    Boxed,
    Future,
    Context,
}

type BoxFut<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

trait Env: Send {
    fn apply(self: Box<Self>, count: &mut u64);
    fn future(self: Box<Self>, count: &mut u64) -> BoxFut<'_>;
    fn future_in_context(self: Box<Self>, count: &mut u64) -> BoxFut<'_>;
}

struct IncEnv(u64, contexture_ctxvar::Snapshot);
struct PingEnv(u64, oneshot::Sender<u64>, contexture_ctxvar::Snapshot);

impl Env for IncEnv {
    fn apply(self: Box<Self>, count: &mut u64) {
        *count = count.wrapping_add(self.0);
    }
    fn future(self: Box<Self>, count: &mut u64) -> BoxFut<'_> {
        let v = self.0;
        Box::pin(async move { *count = count.wrapping_add(v) })
    }
    fn future_in_context(self: Box<Self>, count: &mut u64) -> BoxFut<'_> {
        let IncEnv(v, snapshot) = *self;
        Box::pin(
            snapshot
                .run(move || async move { *count = count.wrapping_add(v) }.with_current_context()),
        )
    }
}

impl Env for PingEnv {
    fn apply(self: Box<Self>, count: &mut u64) {
        *count = count.wrapping_add(self.0);
        let _ = self.1.send(*count);
    }
    fn future(self: Box<Self>, count: &mut u64) -> BoxFut<'_> {
        let PingEnv(v, reply, _) = *self;
        Box::pin(async move {
            *count = count.wrapping_add(v);
            let _ = reply.send(*count);
        })
    }
    fn future_in_context(self: Box<Self>, count: &mut u64) -> BoxFut<'_> {
        let PingEnv(v, reply, snapshot) = *self;
        Box::pin(snapshot.run(move || {
            async move {
                *count = count.wrapping_add(v);
                let _ = reply.send(*count);
            }
            .with_current_context()
        }))
    }
}

/// The sending side of a layered actor.
enum LayeredTx {
    Cmd(mpsc::Sender<Cmd>),
    Env(mpsc::Sender<Box<dyn Env>>, Layer),
}

/// The next message of a layered actor, its system lane looked at first. `lazy`: the
/// proposed cheaper way — `try_recv` on the system lane per message (one look at its list,
/// no waker, no budget), its waker registered only when the user lane is empty; otherwise
/// as ours: `poll_recv` on the system lane before every message.
fn next_msg<T>(
    sys: &mut mpsc::UnboundedReceiver<()>,
    rx: &mut mpsc::Receiver<T>,
    lazy: bool,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<Option<T>> {
    if lazy {
        let _ = sys.try_recv();
        match rx.poll_recv(cx) {
            std::task::Poll::Pending => {
                let _ = sys.poll_recv(cx);
                std::task::Poll::Pending
            }
            ready => ready,
        }
    } else {
        let _ = sys.poll_recv(cx);
        rx.poll_recv(cx)
    }
}

fn layered(rt: &Runtime, layer: Layer, lazy: bool) -> LayeredTx {
    use std::future::poll_fn;
    let (sys_tx, mut sys) = mpsc::unbounded_channel::<()>();
    if layer == Layer::Sys {
        let (tx, mut rx) = mpsc::channel::<Cmd>(CAPACITY);
        rt.spawn(async move {
            let _sys_tx = sys_tx;
            let mut count = 0u64;
            while let Some(cmd) = poll_fn(|cx| next_msg(&mut sys, &mut rx, lazy, cx)).await {
                match cmd {
                    Cmd::Inc(v) => count = count.wrapping_add(v),
                    Cmd::Get(reply) => {
                        let _ = reply.send(count);
                    }
                    Cmd::Ping(v, reply) => {
                        count = count.wrapping_add(v);
                        let _ = reply.send(count);
                    }
                }
            }
        });
        return LayeredTx::Cmd(tx);
    }
    let (tx, mut rx) = mpsc::channel::<Box<dyn Env>>(CAPACITY);
    rt.spawn(async move {
        let _sys_tx = sys_tx;
        let mut count = 0u64;
        while let Some(env) = poll_fn(|cx| next_msg(&mut sys, &mut rx, lazy, cx)).await {
            match layer {
                Layer::Sys | Layer::Boxed => env.apply(&mut count),
                Layer::Future => env.future(&mut count).await,
                Layer::Context => env.future_in_context(&mut count).await,
            }
        }
    });
    LayeredTx::Env(tx, layer)
}

impl LayeredTx {
    fn snapshot(layer: Layer) -> contexture_ctxvar::Snapshot {
        if layer == Layer::Context {
            contexture_ctxvar::Snapshot::capture()
        } else {
            contexture_ctxvar::Snapshot::default()
        }
    }

    async fn tell(&self, v: u64) {
        let sent = match self {
            LayeredTx::Cmd(tx) => tx.send(Cmd::Inc(v)).await.is_ok(),
            LayeredTx::Env(tx, layer) => tx
                .send(Box::new(IncEnv(v, Self::snapshot(*layer))))
                .await
                .is_ok(),
        };
        assert!(sent, "layered actor gone");
    }

    async fn ask(&self, v: u64) -> u64 {
        let (reply, rx) = oneshot::channel();
        let sent = match self {
            LayeredTx::Cmd(tx) => tx.send(Cmd::Ping(v, reply)).await.is_ok(),
            LayeredTx::Env(tx, layer) => tx
                .send(Box::new(PingEnv(v, reply, Self::snapshot(*layer))))
                .await
                .is_ok(),
        };
        assert!(sent, "layered actor gone");
        rx.await.unwrap()
    }
}

/// Whether the environment variable `name` is `1`.
fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v == "1")
}

/// Tell and ask, ours against the layered raw actors (diagnostic; see [`Layer`]).
fn breakdown(c: &mut Criterion) {
    if !env_flag("CONTEXTURE_BENCH_ACTOR_BREAKDOWN") {
        return;
    }
    let rt = &runtime();
    let (ours, ours_plain) = &ours(rt);
    let tokio_tx = raw_tokio(rt);
    let layers: Vec<std::sync::Arc<LayeredTx>> = [
        (Layer::Sys, false),
        (Layer::Boxed, false),
        (Layer::Future, false),
        (Layer::Context, false),
        (Layer::Sys, true),
        (Layer::Context, true),
    ]
    .into_iter()
    .map(|(layer, lazy)| std::sync::Arc::new(layered(rt, layer, lazy)))
    .collect();
    let names = [
        "tokio + sys lane polled",
        "tokio + sys + boxed envelope",
        "tokio + sys + box + boxed future",
        "tokio + sys + box + fut + context",
        "tokio + sys try_recv (proposed)",
        "tokio + sys try_recv + box + fut + context",
    ];

    for ask in [false, true] {
        let n_ops = if ask { ASKS } else { TELLS };
        let mut contenders: Vec<Contender<'_>> = vec![
            (
                "contexture",
                Box::new(move |n| {
                    let a = ours.clone();
                    on_runtime(rt, async move {
                        let start = Instant::now();
                        for i in 0..n {
                            if ask {
                                black_box(a.ask(Ping(i)).await.unwrap());
                            } else {
                                a.tell(Inc(i)).await.unwrap();
                            }
                        }
                        black_box(a.ask(Get).await.unwrap());
                        start.elapsed()
                    })
                }),
            ),
            (
                "contexture (no context)",
                Box::new(move |n| {
                    let a = ours_plain.clone();
                    on_runtime(rt, async move {
                        let start = Instant::now();
                        for i in 0..n {
                            if ask {
                                black_box(a.ask(Ping(i)).await.unwrap());
                            } else {
                                a.tell(Inc(i)).await.unwrap();
                            }
                        }
                        black_box(a.ask(Get).await.unwrap());
                        start.elapsed()
                    })
                }),
            ),
            (
                "tokio mpsc+task",
                Box::new(|n| {
                    let tx = tokio_tx.clone();
                    on_runtime(rt, async move {
                        let start = Instant::now();
                        for i in 0..n {
                            if ask {
                                let (reply, rx) = oneshot::channel();
                                assert!(tx.send(Cmd::Ping(i, reply)).await.is_ok());
                                black_box(rx.await.unwrap());
                            } else {
                                assert!(tx.send(Cmd::Inc(i)).await.is_ok());
                            }
                        }
                        let (reply, rx) = oneshot::channel();
                        assert!(tx.send(Cmd::Get(reply)).await.is_ok());
                        black_box(rx.await.unwrap());
                        start.elapsed()
                    })
                }),
            ),
        ];
        for (layer, name) in layers.iter().zip(names) {
            let layer = layer.clone();
            contenders.push((
                name,
                Box::new(move |n| {
                    let layer = layer.clone();
                    on_runtime(rt, async move {
                        let start = Instant::now();
                        for i in 0..n {
                            if ask {
                                black_box(layer.ask(i).await);
                            } else {
                                layer.tell(i).await;
                            }
                        }
                        black_box(layer.ask(0).await);
                        start.elapsed()
                    })
                }),
            ));
        }
        let group = if ask {
            "actor breakdown ask round trip (diagnostic)"
        } else {
            "actor breakdown tell per message (diagnostic)"
        };
        run_group(c, group, &contenders, 2, n_ops, Duration::from_secs(5));
    }
}

// ---- CPython, paired ------------------------------------------------------------------

/// One batch of the seed's asyncio actor (`python/actor.py --batch <op> <n>`), timed by
/// the script itself (interpreter start-up excluded).
fn python_batch(op: &str, n: u64) -> Duration {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/actor.py");
    let out = std::process::Command::new("python3")
        .args([script, "--batch", op, &n.to_string()])
        .output()
        .expect("python3");
    assert!(out.status.success(), "actor.py --batch {op} failed");
    let ns: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    Duration::from_secs_f64(ns * n as f64 / 1e9)
}

/// Ours against the CPython seed actor, batch by batch in the same rounds (the Python
/// lines of `cargo xtask bench` come from another process minutes apart: on this machine
/// that alone moves them ±50%). Only with `CONTEXTURE_BENCH_ACTOR_PYTHON=1`; not through
/// criterion (the Python batch is the slow part: a fixed number of rounds).
fn python_paired(_: &mut Criterion) {
    if !env_flag("CONTEXTURE_BENCH_ACTOR_PYTHON") {
        return;
    }
    let rt = &runtime();
    let (ours, ours_plain) = &ours(rt);
    let tell = |a: &ActorRef<Counter>, n: u64, var: bool| {
        let a = a.clone();
        let sender = async move {
            let start = Instant::now();
            for i in 0..n {
                a.tell(Inc(i)).await.unwrap();
            }
            black_box(a.ask(Get).await.unwrap());
            start.elapsed()
        };
        if var {
            on_runtime_with_var(rt, sender)
        } else {
            on_runtime(rt, sender)
        }
    };
    let ask = |a: &ActorRef<Counter>, n: u64, var: bool| {
        let a = a.clone();
        let sender = async move {
            let start = Instant::now();
            for i in 0..n {
                black_box(a.ask(Ping(i)).await.unwrap());
            }
            start.elapsed()
        };
        if var {
            on_runtime_with_var(rt, sender)
        } else {
            on_runtime(rt, sender)
        }
    };
    let rounds = 31;
    let tells: Vec<Contender<'_>> = vec![
        ("contexture", Box::new(|n| tell(ours, n, false))),
        ("contexture (1 var set)", Box::new(|n| tell(ours, n, true))),
        (
            "contexture (no context)",
            Box::new(|n| tell(ours_plain, n, false)),
        ),
        ("CPython seed actor", Box::new(|n| python_batch("tell", n))),
    ];
    for _ in 0..rounds {
        round(&tells, 0, TELLS, true);
    }
    print_paired("actor tell vs CPython (paired)", &tells, 3, TELLS);
    let asks: Vec<Contender<'_>> = vec![
        ("contexture", Box::new(|n| ask(ours, n, false))),
        ("contexture (1 var set)", Box::new(|n| ask(ours, n, true))),
        (
            "contexture (no context)",
            Box::new(|n| ask(ours_plain, n, false)),
        ),
        (
            "CPython, reply future",
            Box::new(|n| python_batch("ask", n)),
        ),
        (
            "CPython, reply queue (seed's)",
            Box::new(|n| python_batch("ask-queue", n)),
        ),
    ];
    for _ in 0..rounds {
        round(&asks, 0, ASKS, true);
    }
    print_paired("actor ask vs CPython (paired)", &asks, 3, ASKS);
}

criterion_group!(
    benches,
    tell_throughput,
    ask_round_trip,
    spawn_stop_join,
    breakdown,
    python_paired
);
criterion_main!(benches);
