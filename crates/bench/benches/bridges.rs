//! The bridges against what they add to: `contexture-tracing` (a log event through the
//! `fmt` layer with 2 context vars, against the same subscriber without them; a pool job
//! with span propagation on against off) and `contexture-otel` (inject + extract of 2 vars
//! against OpenTelemetry's `BaggagePropagator` with the same 2 entries).
//! `cargo xtask bench tracing` / `cargo xtask bench otel` select the groups.
//!
//! Each group's contenders run interleaved, batch by batch in a rotating order, in this
//! one process; besides criterion's means, each group prints the median over rounds of
//! ours ÷ anchor measured in the same round (the number to trust on this drifting VM).

use std::collections::HashMap;
use std::hint::black_box;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use contexture_ctxvar::ContextVar;
use contexture_otel::Propagated;
use contexture_pool::ThreadPool;
use contexture_tracing::ContextFields;
use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::KeyValue;
use opentelemetry_sdk::propagation::BaggagePropagator;
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");
static TENANT: ContextVar<&'static str> = ContextVar::new("tenant");

/// One way to run a batch of `n` operations; returns its time.
type Contender<'a> = (&'static str, Box<dyn Fn(u64) -> Duration + 'a>);

/// Per round: every contender's ns per operation.
static ROUNDS: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());

/// The time of `iters` operations of contender `timed`, in batches of at most `batch`;
/// every batch also runs every other contender with as many operations, untimed, in an
/// order that rotates across rounds.
fn interleaved(contenders: &[Contender<'_>], timed: usize, iters: u64, batch: u64) -> Duration {
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(batch);
        let round = ROUND.fetch_add(1, Ordering::Relaxed);
        let mut per_op = vec![0.0; contenders.len()];
        for k in 0..contenders.len() {
            let i = (round + k) % contenders.len();
            let took = (contenders[i].1)(n);
            per_op[i] = took.as_secs_f64() * 1e9 / n as f64;
            if i == timed {
                total += took;
            }
        }
        ROUNDS.lock().unwrap().push(per_op);
        left -= n;
    }
    total
}

/// Benchmarks each contender through [`interleaved`], then prints the paired medians:
/// each contender's ns per operation and contender 0 ÷ each other one, per round.
fn run_group(c: &mut Criterion, name: &str, contenders: &[Contender<'_>], batch: u64) {
    ROUNDS.lock().unwrap().clear();
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(6));
    for (i, (id, _)) in contenders.iter().enumerate() {
        group.bench_function(*id, |b| {
            b.iter_custom(|iters| interleaved(contenders, i, iters, batch))
        });
    }
    group.finish();
    let rounds = std::mem::take(&mut *ROUNDS.lock().unwrap());
    if rounds.is_empty() {
        return;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\n{name}: paired, {} rounds of up to {batch} (medians):",
        rounds.len()
    );
    for (i, (id, _)) in contenders.iter().enumerate() {
        let ns = median(rounds.iter().map(|r| r[i]).collect());
        println!("  {id:<40} {ns:>9.1} ns/op");
    }
    for a in 1..contenders.len() {
        let ratio = median(rounds.iter().map(|r| r[0] / r[a]).collect());
        println!("  {} / {}: {ratio:.3}", contenders[0].0, contenders[a].0);
    }
}

/// A `fmt` subscriber writing to `io::sink`, with or without the 2 context fields, with
/// or without timestamps (the default format has them).
fn fmt_dispatch(with_vars: bool, time: bool) -> Dispatch {
    if time {
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(io::sink)
            .with_ansi(false);
        return if with_vars {
            let fields = ContextFields::new()
                .display("request_id", &REQUEST_ID)
                .display("tenant", &TENANT);
            Dispatch::new(tracing_subscriber::registry().with(layer.fmt_fields(fields)))
        } else {
            Dispatch::new(tracing_subscriber::registry().with(layer))
        };
    }
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(io::sink)
        .with_ansi(false)
        .without_time();
    if with_vars {
        let fields = ContextFields::new()
            .display("request_id", &REQUEST_ID)
            .display("tenant", &TENANT);
        Dispatch::new(tracing_subscriber::registry().with(layer.fmt_fields(fields)))
    } else {
        Dispatch::new(tracing_subscriber::registry().with(layer))
    }
}

fn events(dispatch: &Dispatch, n: u64) -> Duration {
    tracing::dispatcher::with_default(dispatch, || {
        let start = Instant::now();
        for i in 0..n {
            tracing::info!(user = black_box(i), "handled");
        }
        start.elapsed()
    })
}

/// The same line written by hand: the 2 values passed as the event's own fields.
fn events_by_hand(dispatch: &Dispatch, n: u64) -> Duration {
    let (id, tenant) = ("r-7f3a9c", "acme");
    tracing::dispatcher::with_default(dispatch, || {
        let start = Instant::now();
        for i in 0..n {
            tracing::info!(user = black_box(i), request_id = %black_box(id), tenant = %black_box(tenant), "handled");
        }
        start.elapsed()
    })
}

/// One event through the `fmt` layer: with the 2 vars set, `ContextFields` adds them.
fn tracing_event(c: &mut Criterion) {
    let _id = REQUEST_ID.set_scoped("r-7f3a9c".to_owned());
    let _tenant = TENANT.set_scoped("acme");
    for (time, name) in [
        (
            false,
            "tracing event through fmt without time, 2 context vars",
        ),
        (
            true,
            "tracing event through fmt (default format), 2 context vars",
        ),
    ] {
        let (ours, plain) = (fmt_dispatch(true, time), fmt_dispatch(false, time));
        let contenders: Vec<Contender<'_>> = vec![
            (
                "contexture (ContextFields, 2 vars)",
                Box::new(|n| events(&ours, n)),
            ),
            ("tracing-subscriber alone", Box::new(|n| events(&plain, n))),
            (
                "tracing-subscriber, the 2 values as event fields",
                Box::new(|n| events_by_hand(&plain, n)),
            ),
        ];
        run_group(c, name, &contenders, 2_000);
    }
}

fn jobs(pool: &ThreadPool, spans: bool, n: u64) -> Duration {
    contexture_tracing::propagate_spans(spans).unwrap();
    let start = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| pool.submit(move || black_box(i) ^ 7).unwrap())
        .collect();
    for h in handles {
        black_box(h.result().unwrap());
    }
    start.elapsed()
}

/// A pool job submitted inside an entered span: carried and entered around the job, or
/// (propagation off) not.
fn tracing_pool_job(c: &mut Criterion) {
    let dispatch = Dispatch::new(tracing_subscriber::registry());
    let _default = tracing::dispatcher::set_default(&dispatch);
    let span = tracing::info_span!("request", id = 7);
    let _entered = span.enter();
    let _id = REQUEST_ID.set_scoped("r-7f3a9c".to_owned());
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture (span propagation on)",
            Box::new(|n| jobs(&pool, true, n)),
        ),
        (
            "span propagation off (ours)",
            Box::new(|n| jobs(&pool, false, n)),
        ),
        (
            "by hand: Span::current() into the job, in_scope (propagation off)",
            Box::new(|n| {
                contexture_tracing::propagate_spans(false).unwrap();
                let start = Instant::now();
                let handles: Vec<_> = (0..n)
                    .map(|i| {
                        let span = tracing::Span::current();
                        pool.submit(move || span.in_scope(|| black_box(i) ^ 7))
                            .unwrap()
                    })
                    .collect();
                for h in handles {
                    black_box(h.result().unwrap());
                }
                start.elapsed()
            }),
        ),
    ];
    run_group(
        c,
        "tracing pool job submit+result, span propagation",
        &contenders,
        20_000,
    );
    contexture_tracing::propagate_spans(false).unwrap();
}

/// Inject + extract of 2 entries through a header map.
fn otel_round_trip(c: &mut Criterion) {
    static ID: ContextVar<String> = ContextVar::new("request_id");
    static TENANT_S: ContextVar<String> = ContextVar::new("tenant");
    let (id, tenant) = ("r-7f3a9c", "acme corp");
    let _id = ID.set_scoped(id.to_owned());
    let _tenant = TENANT_S.set_scoped(tenant.to_owned());
    let ours = Propagated::new()
        .var("request-id", &ID)
        .var("tenant", &TENANT_S);
    let otel = BaggagePropagator::new();
    let cx = opentelemetry::Context::new().with_baggage(vec![
        KeyValue::new("request-id", id),
        KeyValue::new("tenant", tenant),
    ]);
    // Both directions agree on the wire.
    let mut a = HashMap::new();
    let _ = ours.inject(&mut a);
    let mut b = HashMap::new();
    otel.inject_context(&cx, &mut b);
    assert_eq!(otel.extract(&a).baggage().len(), 2);
    assert_eq!(ours.extract(&b).context.len(), 2);

    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture (Propagated, 2 vars)",
            Box::new(|n| {
                let start = Instant::now();
                for _ in 0..n {
                    let mut headers = HashMap::new();
                    black_box(ours.inject(&mut headers));
                    black_box(ours.extract(black_box(&headers)));
                }
                start.elapsed()
            }),
        ),
        (
            "opentelemetry BaggagePropagator",
            Box::new(|n| {
                let start = Instant::now();
                for _ in 0..n {
                    let mut headers = HashMap::new();
                    otel.inject_context(black_box(&cx), &mut headers);
                    black_box(otel.extract(black_box(&headers)));
                }
                start.elapsed()
            }),
        ),
    ];
    run_group(c, "otel inject+extract, 2 entries", &contenders, 5_000);
}

criterion_group!(benches, tracing_event, tracing_pool_job, otel_round_trip);
criterion_main!(benches);
