//! Tour scenarios for the bridges: `contexture::tracing` (the request id in every log
//! line, wherever the work runs) and `contexture::otel` (the request id carried to a
//! second service through its headers).

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;

use contexture::actor::{spawn, Actor, Ctx, Handler};
use contexture::ctxvar::{Context, ContextVar};
use contexture::otel::Propagated;
use contexture::pool::ThreadPool;
use contexture::tracing::ContextFields;
use tracing_subscriber::prelude::*;

use crate::{check, scenario};

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");
static TENANT: ContextVar<String> = ContextVar::new("tenant");

/// Every log line of this part of the tour, as written.
static LINES: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// The capturing writer: what the subscriber writes goes into `LINES`.
struct Capture;
impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        LINES.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn captured() -> Vec<String> {
    let lines = std::mem::take(&mut *LINES.lock().unwrap());
    String::from_utf8_lossy(&lines)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Python's `logging.Filter` that copies a contextvar into each record, then
/// `format="%(request_id)s %(message)s"`: here one field formatter for `tracing`'s
/// `fmt` layer, installed once as the process's subscriber.
fn install_logging() {
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(ContextFields::new().display("request_id", &REQUEST_ID))
                .with_writer(|| Capture)
                .with_ansi(false)
                .without_time()
                .with_target(false),
        )
        .init();
    // Jobs, tasks and messages also run inside the submitter's span.
    contexture::tracing::propagate_spans(true).expect("room for the span hook");
}

struct Audit;
impl Actor for Audit {}
struct Record(&'static str);
impl Handler<Record> for Audit {
    type Reply = ();
    async fn handle(&mut self, msg: Record, _ctx: &mut Ctx<Self>) {
        tracing::info!("audit: {}", msg.0);
    }
}

pub(crate) fn request_id_in_every_log_line() {
    scenario(
        "every log line of a request carries its id: in a pool job, a task and an actor",
        "logging.Filter reading a ContextVar (structlog's merge_contextvars)",
    );
    install_logging();
    let pool = ThreadPool::builder()
        .max_workers(2)
        .build()
        .expect("a pool");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let audit = spawn(Audit).await.expect("the actor starts");
        for id in ["req-A", "req-B"] {
            let request = Context::new();
            let span = tracing::info_span!("request", path = "/checkout");
            let (job, task, told) = request
                .run(|| {
                    REQUEST_ID.set(id.to_owned());
                    let _entered = span.enter();
                    tracing::info!("accepted");
                    let job = pool.submit(|| tracing::info!("priced in a pool job"));
                    let task = contexture::ctxvar::spawn(async {
                        tracing::info!("stock checked in a task");
                    });
                    (job, task, audit.ask(Record("order placed")))
                })
                .expect("a fresh context can be entered");
            job.expect("submitted").result().expect("the job ran");
            task.await.expect("the task ran");
            told.await.expect("the actor answered");
        }
    });
    let lines = captured();
    for line in &lines {
        println!("   {line}");
    }
    check(lines.len() == 8, "four lines per request");
    let each_has_its_id = ["req-A", "req-B"].iter().all(|id| {
        lines
            .iter()
            .filter(|l| l.ends_with(&format!("request_id={id}")))
            .count()
            == 4
    });
    check(
        each_has_its_id,
        "each request's four lines (handler, pool job, task, actor) end with its own id",
    );
    check(
        lines
            .iter()
            .all(|l| l.contains("INFO request{path=\"/checkout\"}: ")),
        "and each line is inside the request's span, carried to the job, task and actor",
    );
    tracing::info!("outside any request");
    check(
        captured().iter().all(|l| !l.contains("request_id")),
        "a line logged outside a request carries no id",
    );
}

pub(crate) fn request_id_to_another_service() {
    scenario(
        "the request id and tenant travel to a second service in a header and come back",
        "contextvars + OpenTelemetry baggage (opentelemetry.propagate.inject / extract)",
    );
    let propagated = Propagated::new()
        .var("request-id", &REQUEST_ID)
        .var("tenant", &TENANT);

    // The second service: handles a request inside what its headers carried.
    let service = |headers: HashMap<String, String>| -> HashMap<String, String> {
        let extracted = propagated.extract(&headers);
        let mut response = HashMap::new();
        extracted
            .context
            .run(|| {
                tracing::info!(tenant = TENANT.get(), "service B handles it");
                REQUEST_ID.set(format!("{}+b", REQUEST_ID.get().unwrap_or_default()));
                let _ = propagated.inject(&mut response);
            })
            .expect("a fresh context can be entered");
        response
    };

    let request = Context::new();
    let response = request
        .run(|| {
            REQUEST_ID.set("req-C".to_owned());
            TENANT.set("acme corp".to_owned());
            let mut headers = HashMap::new();
            let skipped = propagated.inject(&mut headers);
            println!("   service A sends  baggage: {}", headers["baggage"]);
            check(skipped.is_empty(), "both values fit in the header");
            service(headers)
        })
        .expect("a fresh context can be entered");
    println!("   service B answers baggage: {}", response["baggage"]);
    let back = propagated.extract(&response);
    check(back.skipped.is_empty(), "nothing in the answer was skipped");
    check(
        back.context.get(&REQUEST_ID).as_deref() == Some("req-C+b"),
        "the id came back, tagged by service B",
    );
    let lines = captured();
    for line in &lines {
        println!("   {line}");
    }
    check(
        lines.len() == 1 && lines[0].ends_with("request_id=req-C"),
        "service B's log line carries the id it received",
    );
    check(REQUEST_ID.get().is_none(), "nothing leaked into the caller");
}
