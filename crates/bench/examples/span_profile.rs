//! A target for profilers (`valgrind --tool=callgrind`): one contender of the bridges
//! bench's "pool job submit+result, span propagation" group in a loop, nothing else.
//!
//! `cargo build --release -p contexture-bench --example span_profile`, then
//! `span_profile <on|off|by-hand> [jobs]` (inside an entered span, a request id set).

use std::hint::black_box;

use contexture_ctxvar::ContextVar;
use contexture_pool::ThreadPool;
use tracing::Dispatch;

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");

fn main() {
    let mut args = std::env::args().skip(1);
    let who = args.next().unwrap_or_else(|| "on".to_owned());
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let dispatch = Dispatch::new(tracing_subscriber::registry());
    tracing::dispatcher::set_global_default(dispatch).unwrap();
    let span = tracing::info_span!("request", id = 7);
    let _entered = span.enter();
    let _id = REQUEST_ID.set_scoped("r-7f3a9c".to_owned());
    let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    contexture_tracing::propagate_spans(who == "on").unwrap();
    let handles: Vec<_> = (0..n)
        .map(|i| match who.as_str() {
            "by-hand" => {
                let span = tracing::Span::current();
                pool.submit(move || span.in_scope(|| black_box(i) ^ 7))
                    .unwrap()
            }
            _ => pool.submit(move || black_box(i) ^ 7).unwrap(),
        })
        .collect();
    let mut sum = 0;
    for h in handles {
        sum ^= h.result().unwrap();
    }
    black_box(sum);
}
