//! The tracing bridge end to end, through one process-wide subscriber (pool workers and
//! tokio threads see only the global default) that writes into a shared buffer; each test
//! picks out its own lines by a unique marker.

use std::io;
use std::sync::{Arc, Barrier, Mutex, OnceLock};

use contexture_actor::{Actor, Ctx, Handler};
use contexture_ctxvar::ContextVar;
use contexture_pool::ThreadPool;
use contexture_tracing::ContextFields;
use tracing_subscriber::prelude::*;

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");
static TENANT: ContextVar<&'static str> = ContextVar::new("tenant");
static ATTEMPT: ContextVar<u32> = ContextVar::with_default("attempt", 1);

static OUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;
impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        OUT.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let fields = ContextFields::new()
            .display("request_id", &REQUEST_ID)
            .debug("tenant", &TENANT)
            .display("attempt", &ATTEMPT);
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(fields)
                    .with_writer(|| Capture)
                    .with_ansi(false)
                    .without_time()
                    .with_target(false),
            )
            .init();
        contexture_tracing::propagate_spans(true).unwrap();
    });
}

/// The captured lines holding `marker`.
fn lines(marker: &str) -> Vec<String> {
    let out = OUT.lock().unwrap();
    String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| l.contains(marker))
        .map(str::to_owned)
        .collect()
}

#[test]
fn vars_are_fields_of_events_and_spans_and_unset_vars_add_nothing() {
    install();
    tracing::info!(m = "unset-1", "no request");
    let _r = REQUEST_ID.set_scoped("r-1".to_owned());
    tracing::info!(m = "req-1", "with request");
    let span = tracing::info_span!("req", m = "span-1");
    span.in_scope(|| tracing::info!("inside"));
    span.record("m", "span-1-recorded");

    let unset = lines("unset-1");
    assert_eq!(unset.len(), 1);
    // The var with a default shows it; the unset ones add nothing.
    assert!(
        unset[0].ends_with(r#"no request m="unset-1" attempt=1"#),
        "{unset:?}"
    );
    let set = lines("req-1");
    assert!(
        set[0].ends_with(r#"with request m="req-1" request_id=r-1 attempt=1"#),
        "{set:?}"
    );
    // The span's fields got the vars at creation; the event inside carries them itself.
    let inside = lines("span-1");
    assert!(
        inside[0].contains(
            r#"req{m="span-1" request_id=r-1 attempt=1}: inside request_id=r-1 attempt=1"#
        ),
        "{inside:?}"
    );
}

#[test]
fn debug_formatting_quotes_and_display_does_not() {
    install();
    TENANT.set("acme");
    REQUEST_ID.set("r-2".to_owned());
    tracing::info!(m = "fmt-2");
    let l = lines("fmt-2");
    assert!(
        l[0].ends_with(r#"m="fmt-2" request_id=r-2 tenant="acme" attempt=1"#),
        "{l:?}"
    );
}

#[test]
fn pool_jobs_log_the_submitters_vars_inside_its_span() {
    install();
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    REQUEST_ID.set("r-3".to_owned());
    let span = tracing::info_span!("request", m = "pool-3");
    let job = span.in_scope(|| pool.submit(|| tracing::info!(n = "pool-3-job")).unwrap());
    job.result().unwrap();
    let l = lines("pool-3-job");
    assert!(
        l[0].contains(
            r#"request{m="pool-3" request_id=r-3 attempt=1}: n="pool-3-job" request_id=r-3"#
        ),
        "{l:?}"
    );

    // Propagation off for a pool: neither the vars nor the span follow.
    let off = ThreadPool::builder()
        .propagate_context(false)
        .build()
        .unwrap();
    let job = span.in_scope(|| off.submit(|| tracing::info!(n = "pool-3-off")).unwrap());
    job.result().unwrap();
    let l = lines("pool-3-off");
    assert!(l[0].ends_with(r#" INFO n="pool-3-off" attempt=1"#), "{l:?}");
}

#[test]
fn tasks_and_blocking_tasks_log_the_spawners_vars_inside_its_span() {
    install();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        REQUEST_ID.set("r-4".to_owned());
        let span = tracing::info_span!("request", m = "task-4");
        let (task, blocking) = span.in_scope(|| {
            (
                contexture_ctxvar::spawn(async {
                    tokio::task::yield_now().await;
                    tracing::info!(n = "task-4-async");
                }),
                contexture_ctxvar::spawn_blocking(|| tracing::info!(n = "task-4-blocking")),
            )
        });
        task.await.unwrap();
        blocking.await.unwrap();
    });
    let thread = {
        let span = tracing::info_span!("request", m = "thread-4");
        span.in_scope(|| {
            REQUEST_ID.set("r-4t".to_owned());
            contexture_ctxvar::thread::spawn(|| tracing::info!(n = "thread-4-job"))
        })
    };
    thread.join().unwrap();
    for (marker, prefix) in [
        (
            "task-4-async",
            r#"request{m="task-4" request_id=r-4 attempt=1}:"#,
        ),
        (
            "task-4-blocking",
            r#"request{m="task-4" request_id=r-4 attempt=1}:"#,
        ),
        (
            "thread-4-job",
            r#"request{m="thread-4" request_id=r-4 attempt=1}:"#,
        ),
    ] {
        let l = lines(marker);
        assert!(l[0].contains(prefix), "{marker}: {l:?}");
    }
    assert!(lines("thread-4-job")[0].ends_with("request_id=r-4t attempt=1"));
}

struct Logger;
impl Actor for Logger {}
struct Log(&'static str);
impl Handler<Log> for Logger {
    type Reply = ();
    async fn handle(&mut self, msg: Log, _ctx: &mut Ctx<Self>) {
        tokio::task::yield_now().await;
        tracing::info!(n = msg.0);
    }
}

#[test]
fn actor_handlers_log_the_senders_vars_inside_its_span_unless_the_actor_opts_out() {
    install();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let on = contexture_actor::spawn(Logger).await.unwrap();
        let off = contexture_actor::Builder::new()
            .propagate_context(false)
            .spawn(Logger)
            .await
            .unwrap();
        REQUEST_ID.set("r-5".to_owned());
        let span = tracing::info_span!("request", m = "actor-5");
        let (a, b) = span.in_scope(|| (on.ask(Log("actor-5-on")), off.ask(Log("actor-5-off"))));
        a.await.unwrap();
        b.await.unwrap();
    });
    let l = lines("actor-5-on");
    assert!(
        l[0].contains(
            r#"request{m="actor-5" request_id=r-5 attempt=1}: n="actor-5-on" request_id=r-5"#
        ),
        "{l:?}"
    );
    let l = lines("actor-5-off");
    assert!(
        l[0].ends_with(r#" INFO n="actor-5-off" attempt=1"#),
        "{l:?}"
    );
}

#[test]
fn two_concurrent_requests_never_see_each_others_values() {
    install();
    let pool = Arc::new(ThreadPool::builder().max_workers(4).build().unwrap());
    let start = Arc::new(Barrier::new(2));
    let requests: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|who| {
            let (pool, start) = (pool.clone(), start.clone());
            std::thread::spawn(move || {
                REQUEST_ID.set(format!("leak-{who}"));
                start.wait();
                let jobs: Vec<_> = (0..200)
                    .map(|i| {
                        tracing::info!(who, i, "leak-check");
                        pool.submit(move || tracing::info!(who, i, "leak-check job"))
                            .unwrap()
                    })
                    .collect();
                for job in jobs {
                    job.result().unwrap();
                }
            })
        })
        .collect();
    for r in requests {
        r.join().unwrap();
    }
    let l = lines("leak-check");
    assert_eq!(l.len(), 800);
    for line in l {
        let who = if line.contains("who=\"a\"") { "a" } else { "b" };
        assert!(
            line.ends_with(&format!("request_id=leak-{who} attempt=1")),
            "{line}"
        );
    }
}
