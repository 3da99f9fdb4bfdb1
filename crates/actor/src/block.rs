//! Driving a future to completion on a plain thread, with an optional deadline: the engine
//! of the `blocking_*` methods. Needs no runtime: the mailbox, reply and end channels are
//! tokio's runtime-independent `sync` types, woken through the thread's park/unpark.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The deadline `timeout` from now, or `None` ("forever") when the clock cannot hold it.
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Polls `future` on this thread until it is ready (`Some`) or `deadline` passes (`None`,
/// and the future is dropped). A `None` deadline waits for as long as it takes.
pub(crate) fn block_on_until<F: Future>(future: F, deadline: Option<Instant>) -> Option<F::Output> {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        match deadline {
            None => thread::park(),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return None;
                }
                thread::park_timeout(deadline - now);
            }
        }
    }
}

/// Whether this thread is inside a tokio runtime, where a blocking call would stall it.
pub(crate) fn in_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_future_and_deadline() {
        assert_eq!(block_on_until(async { 3 }, None), Some(3));
        let started = Instant::now();
        let pending = std::future::pending::<()>();
        assert_eq!(
            block_on_until(pending, deadline(Duration::from_millis(50))),
            None
        );
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(30) && waited < Duration::from_millis(500));
        assert_eq!(deadline(Duration::MAX), None);
    }

    #[test]
    fn woken_from_another_thread() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sender = thread::spawn(move || tx.send(5).unwrap());
        assert_eq!(block_on_until(rx, None), Some(Ok(5)));
        sender.join().unwrap();
    }
}
