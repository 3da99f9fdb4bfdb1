//! The process-wide span switch, in its own test binary (process): while it is off, every
//! capture in the process carries no span, which would race the other bridge tests.

use contexture_pool::ThreadPool;
use tracing_subscriber::prelude::*;

fn install() {
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .init();
    contexture_tracing::propagate_spans(true).unwrap();
}

#[test]
fn spans_can_be_switched_off_process_wide_and_back_on() {
    install();
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let span = tracing::info_span!("request", m = "switch-6");
    contexture_tracing::propagate_spans(false).unwrap();
    let job = span.in_scope(|| pool.submit(tracing::Span::current).unwrap());
    contexture_tracing::propagate_spans(true).unwrap();
    assert!(job.result().unwrap().is_none());
    let job = span.in_scope(|| pool.submit(tracing::Span::current).unwrap());
    assert_eq!(job.result().unwrap().id(), span.id());
}
