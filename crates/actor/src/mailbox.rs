//! The user lane of a mailbox: a tokio mpsc channel, bounded (the default) or unbounded,
//! carrying type-erased envelopes.

use std::task::{Context, Poll};

use tokio::sync::mpsc::{self, error::TrySendError};

use crate::envelope::Env;

/// The sending side (held by the actor's refs).
pub(crate) enum Tx<A> {
    Bounded(mpsc::Sender<Env<A>>),
    Unbounded(mpsc::UnboundedSender<Env<A>>),
}

/// The receiving side (held by the actor's task, across restarts).
pub(crate) enum Rx<A> {
    Bounded(mpsc::Receiver<Env<A>>),
    Unbounded(mpsc::UnboundedReceiver<Env<A>>),
}

/// A bounded mailbox's largest capacity (tokio's limit for a bounded channel).
pub const MAX_CAPACITY: usize = tokio::sync::Semaphore::MAX_PERMITS;

pub(crate) fn channel<A>(capacity: Option<usize>) -> (Tx<A>, Rx<A>) {
    match capacity {
        Some(capacity) => {
            let (tx, rx) = mpsc::channel(capacity);
            (Tx::Bounded(tx), Rx::Bounded(rx))
        }
        None => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Tx::Unbounded(tx), Rx::Unbounded(rx))
        }
    }
}

/// Why an envelope was not enqueued.
pub(crate) enum Refused<A> {
    Full(Env<A>),
    Closed(Env<A>),
}

impl<A> Tx<A> {
    /// Enqueues without waiting.
    #[inline]
    pub(crate) fn try_send(&self, env: Env<A>) -> Result<(), Refused<A>> {
        match self {
            Tx::Bounded(tx) => tx.try_send(env).map_err(|err| match err {
                TrySendError::Full(env) => Refused::Full(env),
                TrySendError::Closed(env) => Refused::Closed(env),
            }),
            Tx::Unbounded(tx) => tx.send(env).map_err(|err| Refused::Closed(err.0)),
        }
    }

    /// Waits for room, then enqueues; the envelope comes back when the mailbox closed.
    pub(crate) async fn send(&self, env: Env<A>) -> Result<(), Env<A>> {
        match self {
            Tx::Bounded(tx) => tx.send(env).await.map_err(|err| err.0),
            Tx::Unbounded(tx) => tx.send(env).map_err(|err| err.0),
        }
    }

    /// The bounded sender, for waits that must not hold the envelope.
    pub(crate) fn bounded(&self) -> Option<&mpsc::Sender<Env<A>>> {
        match self {
            Tx::Bounded(tx) => Some(tx),
            Tx::Unbounded(_) => None,
        }
    }
}

impl<A> Clone for Tx<A> {
    fn clone(&self) -> Self {
        match self {
            Tx::Bounded(tx) => Tx::Bounded(tx.clone()),
            Tx::Unbounded(tx) => Tx::Unbounded(tx.clone()),
        }
    }
}

impl<A> Rx<A> {
    #[inline]
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Env<A>>> {
        match self {
            Rx::Bounded(rx) => rx.poll_recv(cx),
            Rx::Unbounded(rx) => rx.poll_recv(cx),
        }
    }

    pub(crate) async fn recv(&mut self) -> Option<Env<A>> {
        match self {
            Rx::Bounded(rx) => rx.recv().await,
            Rx::Unbounded(rx) => rx.recv().await,
        }
    }

    pub(crate) fn try_recv(&mut self) -> Option<Env<A>> {
        match self {
            Rx::Bounded(rx) => rx.try_recv().ok(),
            Rx::Unbounded(rx) => rx.try_recv().ok(),
        }
    }

    /// Refuses further sends; what is queued can still be received.
    pub(crate) fn close(&mut self) {
        match self {
            Rx::Bounded(rx) => rx.close(),
            Rx::Unbounded(rx) => rx.close(),
        }
    }
}
