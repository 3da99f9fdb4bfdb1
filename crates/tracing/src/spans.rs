//! Span propagation: the submitter's current `tracing::Span` carried into pool jobs,
//! threads, tasks and actor messages, through contexture-ctxvar's hook.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use contexture_ctxvar::hook::{self, Carried, Extension, RegisterError};
use tracing::Span;

/// Whether captures take the current span (the hook stays registered once registered).
static ON: AtomicBool = AtomicBool::new(false);

struct Spans;
static SPANS: Spans = Spans;

impl Extension for Spans {
    fn capture(&self) -> Option<Arc<dyn Carried>> {
        if !ON.load(Ordering::Relaxed) {
            return None;
        }
        let span = Span::current();
        if span.is_none() {
            None
        } else {
            Some(Arc::new(Entered(span)))
        }
    }
}

/// A captured span, entered in its own subscriber around the work (what `Span::enter`
/// does, without a guard that borrows the span).
struct Entered(Span);

impl Carried for Entered {
    fn enter(&self) {
        self.0.with_subscriber(|(id, dispatch)| dispatch.enter(id));
    }

    fn exit(&self) {
        self.0.with_subscriber(|(id, dispatch)| dispatch.exit(id));
    }
}

/// Turns span propagation on or off for the whole process. While on, every hand-off
/// that carries the context also carries the submitter's current [`Span`] and enters it
/// around the work: pool jobs, actor messages (handler and each poll),
/// `contexture_ctxvar::thread::spawn` / `thread::Builder::spawn` and the tokio
/// `spawn` (each poll) / `spawn_blocking`. So a job's events nest under the request's
/// span, as tracing's `Instrument` would nest a future's.
///
/// It follows each pool's and actor's own `propagate_context` switch: where the context
/// is not carried, the span is not either. Off (the default, also before the first call),
/// a hand-off pays one relaxed atomic load for it (none at all before the first call).
/// The first `propagate_spans(true)` registers a [`contexture_ctxvar::hook`] extension;
/// it fails only when that registry is full.
///
/// ```
/// use contexture_pool::ThreadPool;
///
/// let subscriber = tracing_subscriber::registry();
/// tracing::subscriber::set_global_default(subscriber).unwrap(); // workers see it
/// contexture_tracing::propagate_spans(true).unwrap();
///
/// let pool = ThreadPool::new();
/// let request = tracing::info_span!("request", id = 7);
/// let job = request.in_scope(|| pool.submit(|| tracing::Span::current().id()).unwrap());
/// assert_eq!(job.result().unwrap(), request.id()); // the job ran inside the span
/// ```
pub fn propagate_spans(on: bool) -> Result<(), RegisterError> {
    if on {
        match hook::register(&SPANS) {
            Ok(()) | Err(RegisterError::AlreadyRegistered) => {}
            Err(e) => return Err(e),
        }
    }
    ON.store(on, Ordering::Relaxed);
    Ok(())
}

/// Whether [`propagate_spans`] is on.
///
/// ```
/// assert!(!contexture_tracing::spans_propagated());
/// ```
pub fn spans_propagated() -> bool {
    ON.load(Ordering::Relaxed)
}
