//! `ActorRef<A>`: the address of an actor — tell, ask, their timed and blocking forms,
//! stop, kill, join, links and monitors.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use contexture_ctxvar::Snapshot;
use tokio::sync::oneshot;
use tokio::time::Sleep;

use crate::actor::{Actor, Handler};
use crate::block::{self, block_on_until};
use crate::core::Core;
use crate::envelope::{Ask, Env, Tell};
use crate::error::{AskError, InRuntime, SendError};
use crate::exit::{ActorId, ExitReason, ExitReport};
use crate::mailbox::{Refused, Tx};
use crate::run::current_actor;

/// What every reference to one actor shares. Only references hold it strongly: when the
/// last one goes, the mailbox's sender goes, and an unnamed, unsupervised actor drains
/// what is queued and ends.
pub(crate) struct Shared<A> {
    pub(crate) core: Arc<Core>,
    pub(crate) tx: Tx<A>,
    /// Whether messages carry the sender's context.
    pub(crate) propagate: bool,
    /// The actor's runtime: its timer serves the timed calls, whatever executor polls them.
    pub(crate) runtime: tokio::runtime::Handle,
}

/// The address of a running actor: `Clone + Send + Sync`, cheap to clone.
///
/// Every message carries the sender's context (a [`Snapshot`] captured at the send); the
/// handler runs in a fresh context made from it, so a request id set by the caller is seen
/// by the handler, and nothing the handler sets leaks back or into the next message.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor, Ctx, Handler};
/// use contexture_ctxvar::ContextVar;
///
/// static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
///
/// struct Auditor;
/// impl Actor for Auditor {}
/// struct Audit;
/// impl Handler<Audit> for Auditor {
///     type Reply = Option<u64>;
///     async fn handle(&mut self, _: Audit, _: &mut Ctx<Self>) -> Option<u64> {
///         let seen = REQUEST_ID.get();
///         REQUEST_ID.set(0); // stays in this message's context
///         seen
///     }
/// }
/// let auditor = spawn(Auditor).await.unwrap();
/// REQUEST_ID.set(42);
/// assert_eq!(auditor.ask(Audit).await.unwrap(), Some(42));
/// assert_eq!(auditor.ask(Audit).await.unwrap(), Some(42)); // not 0: nothing leaks
/// assert_eq!(REQUEST_ID.get(), Some(42));
/// # });
/// ```
pub struct ActorRef<A> {
    shared: Arc<Shared<A>>,
}

impl<A> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        ActorRef {
            shared: self.shared.clone(),
        }
    }
}

impl<A> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorRef")
            .field("actor", &std::any::type_name::<A>())
            .field("id", &self.shared.core.id)
            .field("name", &self.shared.core.name)
            .finish()
    }
}

impl<A> ActorRef<A> {
    pub(crate) fn from_shared(shared: Arc<Shared<A>>) -> ActorRef<A> {
        ActorRef { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared<A>> {
        &self.shared
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.shared.core
    }

    #[inline]
    fn snapshot(&self) -> Snapshot {
        if self.shared.propagate {
            Snapshot::capture()
        } else {
            Snapshot::default()
        }
    }
}

impl<A: Actor> ActorRef<A> {
    /// The actor's id.
    pub fn id(&self) -> ActorId {
        self.shared.core.id
    }

    /// The actor's registered name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.shared.core.name.as_deref()
    }

    /// Whether the actor has ended (a supervised actor that is restarting has not).
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Builder, Ctx, Handler};
    /// # use std::time::Duration;
    /// # #[derive(Default)] struct Counter { n: u64 }
    /// # impl Actor for Counter {}
    /// # impl Handler<u64> for Counter {
    /// #     type Reply = u64;
    /// #     async fn handle(&mut self, n: u64, _: &mut Ctx<Self>) -> u64 { self.n += n; self.n }
    /// # }
    /// rt.block_on(async {
    ///     let c = spawn(Counter::default()).await.unwrap();
    ///     assert!(!c.has_ended());
    ///     c.kill();
    ///     c.join().await;
    ///     assert!(c.has_ended());
    /// });
    /// ```
    pub fn has_ended(&self) -> bool {
        self.shared.core.has_ended()
    }

    /// The first step of every tell: refused when the actor is closing (or closed),
    /// enqueued when there is room (`None`), or the envelope back when the mailbox is full.
    #[inline]
    fn tell_now<M>(&self, msg: M) -> Result<Option<Env<A>>, SendError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        if self.shared.core.is_closing() {
            return Err(SendError::Closed(msg));
        }
        let env = Env::new(Tell {
            msg,
            snapshot: self.snapshot(),
        });
        match self.shared.tx.try_send(env) {
            Ok(()) => Ok(None),
            Err(Refused::Full(env)) => Ok(Some(env)),
            Err(Refused::Closed(env)) => Err(SendError::Closed(Tell::unwrap(env))),
        }
    }

    /// Tells the actor `msg`, waiting for room in a full mailbox. A tell an actor sends
    /// itself from its own handler does not wait (it would wait for itself): a full
    /// mailbox is then [`SendError::Full`].
    ///
    /// Cancelling the returned future while it waits for room drops the message.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// # use contexture_actor::{spawn, Actor, Ctx, Handler};
    /// # struct Printer;
    /// # impl Actor for Printer {}
    /// # impl Handler<String> for Printer {
    /// #     type Reply = ();
    /// #     async fn handle(&mut self, line: String, _: &mut Ctx<Self>) { println!("{line}"); }
    /// # }
    /// let printer = spawn(Printer).await.unwrap();
    /// printer.tell("Hello from Actor system".to_string()).await.unwrap();
    /// # });
    /// ```
    pub async fn tell<M>(&self, msg: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        let Some(env) = self.tell_now(msg)? else {
            return Ok(());
        };
        if current_actor() == self.id().as_u64() {
            return Err(SendError::Full(Tell::unwrap(env)));
        }
        self.shared
            .tx
            .send(env)
            .await
            .map_err(|env| SendError::Closed(Tell::unwrap(env)))
    }

    /// Tells the actor `msg` if there is room now; hands it back otherwise.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// # use contexture_actor::{spawn, Actor, Ctx, Handler, SendError};
    /// # struct Printer;
    /// # impl Actor for Printer {}
    /// # impl Handler<u8> for Printer {
    /// #     type Reply = ();
    /// #     async fn handle(&mut self, _: u8, _: &mut Ctx<Self>) {}
    /// # }
    /// let printer = spawn(Printer).await.unwrap();
    /// printer.try_tell(1).unwrap();
    /// printer.kill();
    /// printer.join().await;
    /// assert!(matches!(printer.try_tell(2), Err(SendError::Closed(2))));
    /// # });
    /// ```
    pub fn try_tell<M>(&self, msg: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        match self.tell_now(msg)? {
            None => Ok(()),
            Some(env) => Err(SendError::Full(Tell::unwrap(env))),
        }
    }

    /// Tells the actor `msg`, waiting at most `timeout` for room ([`SendError::Full`]
    /// then). `Duration::MAX` waits for as long as it takes.
    ///
    /// # Panics
    ///
    /// When the actor's runtime was built without time (tokio's timer rule). The deadline
    /// runs on the actor's runtime's timer, so the call works from any executor.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Builder, Ctx, Handler};
    /// # use std::time::Duration;
    /// # #[derive(Default)] struct Counter { n: u64 }
    /// # impl Actor for Counter {}
    /// # impl Handler<u64> for Counter {
    /// #     type Reply = u64;
    /// #     async fn handle(&mut self, n: u64, _: &mut Ctx<Self>) -> u64 { self.n += n; self.n }
    /// # }
    /// rt.block_on(async {
    ///     let c = Builder::new().capacity(1).spawn(Counter::default()).await.unwrap();
    ///     c.tell_timeout(1, Duration::from_millis(10)).await.unwrap();
    ///     assert_eq!(c.ask(0).await.unwrap(), 1);
    /// });
    /// ```
    pub async fn tell_timeout<M>(&self, msg: M, timeout: Duration) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        let Some(env) = self.tell_now(msg)? else {
            return Ok(());
        };
        if current_actor() == self.id().as_u64() || timeout.is_zero() {
            return Err(SendError::Full(Tell::unwrap(env)));
        }
        let Some(tx) = self.shared.tx.bounded() else {
            unreachable!("an unbounded mailbox is never full")
        };
        let sleep = self.sleep_until(tokio::time::Instant::now().checked_add(timeout));
        let mut sleep = pin!(sleep);
        // Wait for a permit, not with the message: the deadline then drops only the wait.
        match with_deadline(sleep.as_mut(), tx.reserve()).await {
            Some(Ok(permit)) => {
                permit.send(env);
                Ok(())
            }
            Some(Err(_)) => Err(SendError::Closed(Tell::unwrap(env))),
            None => Err(SendError::Full(Tell::unwrap(env))),
        }
    }

    /// A sleep until `deadline` on the actor's own runtime's timer (`None`: no deadline),
    /// so that timed calls work from any executor.
    fn sleep_until(&self, deadline: Option<tokio::time::Instant>) -> Option<Sleep> {
        let deadline = deadline?;
        let _enter = self.shared.runtime.enter();
        Some(tokio::time::sleep_until(deadline))
    }

    /// [`tell`](ActorRef::tell) for plain threads (pool workers, `std::thread`): blocks
    /// for room. On a thread inside a tokio runtime it is [`SendError::InRuntime`].
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Ctx, Handler};
    /// # struct Sink;
    /// # impl Actor for Sink {}
    /// # impl Handler<u8> for Sink {
    /// #     type Reply = ();
    /// #     async fn handle(&mut self, _: u8, _: &mut Ctx<Self>) {}
    /// # }
    /// let sink = rt.block_on(spawn(Sink)).unwrap();
    /// std::thread::spawn(move || sink.blocking_tell(1).unwrap()).join().unwrap();
    /// ```
    pub fn blocking_tell<M>(&self, msg: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        self.blocking_tell_until(msg, None)
    }

    /// [`blocking_tell`](ActorRef::blocking_tell) giving up after `timeout` without room
    /// ([`SendError::Full`]).
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Builder, Ctx, Handler};
    /// # use std::time::Duration;
    /// # #[derive(Default)] struct Counter { n: u64 }
    /// # impl Actor for Counter {}
    /// # impl Handler<u64> for Counter {
    /// #     type Reply = u64;
    /// #     async fn handle(&mut self, n: u64, _: &mut Ctx<Self>) -> u64 { self.n += n; self.n }
    /// # }
    /// let c = rt.block_on(spawn(Counter::default())).unwrap();
    /// std::thread::spawn(move || {
    ///     c.blocking_tell_timeout(2, Duration::from_secs(1)).unwrap();
    ///     assert_eq!(c.blocking_ask(0).unwrap(), 2);
    /// })
    /// .join()
    /// .unwrap();
    /// ```
    pub fn blocking_tell_timeout<M>(&self, msg: M, timeout: Duration) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        self.blocking_tell_until(msg, Some(block::deadline(timeout)))
    }

    /// `deadline`: `None` = no timeout; `Some(None)` = a timeout past what the clock holds.
    fn blocking_tell_until<M>(
        &self,
        msg: M,
        deadline: Option<Option<std::time::Instant>>,
    ) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        if block::in_runtime() {
            return Err(SendError::InRuntime(msg));
        }
        let Some(env) = self.tell_now(msg)? else {
            return Ok(());
        };
        let Some(tx) = self.shared.tx.bounded() else {
            unreachable!("an unbounded mailbox is never full")
        };
        // Wait for a permit, not with the message: a deadline then drops only the wait.
        match block_on_until(tx.reserve(), deadline.flatten()) {
            Some(Ok(permit)) => {
                permit.send(env);
                Ok(())
            }
            Some(Err(_)) => Err(SendError::Closed(Tell::unwrap(env))),
            None => Err(SendError::Full(Tell::unwrap(env))),
        }
    }

    /// Starts an ask: refused at once, enqueued now, or waiting for room.
    fn start_ask<M>(&self, msg: M) -> Started<A, M, A::Reply>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        if current_actor() == self.id().as_u64() {
            return Started::Refused(AskError::SelfAsk(msg));
        }
        if self.shared.core.is_closing() {
            return Started::Refused(AskError::Closed(msg));
        }
        let (reply, rx) = oneshot::channel();
        let env: Env<A> = Env::new(Ask {
            msg,
            snapshot: self.snapshot(),
            reply,
        });
        match self.shared.tx.try_send(env) {
            Ok(()) => Started::Enqueued(rx),
            Err(Refused::Closed(env)) => {
                Started::Refused(AskError::Closed(Ask::<M, ()>::unwrap(env)))
            }
            Err(Refused::Full(env)) => Started::NeedRoom(env, rx),
        }
    }

    /// Asks the actor `msg` and waits for the handler's reply.
    ///
    /// The message is enqueued at the call, before the returned future is first polled
    /// (when the mailbox has room; when it is full, the future waits for room). An actor
    /// asking itself from its own handler gets [`AskError::SelfAsk`] at once instead of a
    /// deadlock.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// # use contexture_actor::{spawn, Actor, Ctx, Handler};
    /// # #[derive(Default)] struct Counter { n: i64 }
    /// # impl Actor for Counter {}
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = i64;
    /// #     async fn handle(&mut self, _: Get, _: &mut Ctx<Self>) -> i64 { self.n }
    /// # }
    /// let counter = spawn(Counter::default()).await.unwrap();
    /// let reply = counter.ask(Get); // enqueued here
    /// assert_eq!(reply.await.unwrap(), 0);
    /// # });
    /// ```
    pub fn ask<M>(
        &self,
        msg: M,
    ) -> impl Future<Output = Result<A::Reply, AskError<M>>> + Send + 'static
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        match self.start_ask(msg) {
            Started::Enqueued(rx) => AskFuture::Reply(rx),
            Started::Refused(err) => AskFuture::Refused(Some(err)),
            Started::NeedRoom(env, rx) => {
                let tx = self.shared.tx.clone();
                AskFuture::Room(Box::pin(async move {
                    if let Err(env) = tx.send(env).await {
                        return Err(AskError::Closed(Ask::<M, ()>::unwrap(env)));
                    }
                    reply_of(rx.await)
                }))
            }
        }
    }

    /// [`ask`](ActorRef::ask) with a deadline `timeout` from the call, that tells "no room
    /// before the deadline" ([`AskError::Full`], the message handed back) apart from "no
    /// reply in time" ([`AskError::Timeout`]; the message may still be handled). Enqueued
    /// at the call when there is room. `Duration::MAX` waits for as long as it takes.
    ///
    /// # Panics
    ///
    /// When the actor's runtime was built without time (tokio's timer rule). The deadline
    /// runs on the actor's runtime's timer, so the call works from any executor.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// # use contexture_actor::{spawn, Actor, AskError, Ctx, Handler};
    /// # use std::time::Duration;
    /// # struct Slow;
    /// # impl Actor for Slow {}
    /// # impl Handler<Duration> for Slow {
    /// #     type Reply = ();
    /// #     async fn handle(&mut self, d: Duration, _: &mut Ctx<Self>) { tokio::time::sleep(d).await }
    /// # }
    /// let slow = spawn(Slow).await.unwrap();
    /// let late = slow.ask_timeout(Duration::from_secs(5), Duration::from_millis(10)).await;
    /// assert!(matches!(late, Err(AskError::Timeout)));
    /// # });
    /// ```
    pub fn ask_timeout<M>(
        &self,
        msg: M,
        timeout: Duration,
    ) -> impl Future<Output = Result<A::Reply, AskError<M>>> + Send + 'static
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        let sleep = self.sleep_until(tokio::time::Instant::now().checked_add(timeout));
        let started = self.start_ask(msg);
        let tx = match &started {
            Started::NeedRoom(..) => self.shared.tx.bounded().cloned(),
            _ => None,
        };
        async move {
            let mut sleep = pin!(sleep);
            let rx = match started {
                Started::Refused(err) => return Err(err),
                Started::Enqueued(rx) => rx,
                Started::NeedRoom(env, rx) => {
                    let Some(tx) = tx else {
                        unreachable!("only a bounded mailbox is full")
                    };
                    match with_deadline(sleep.as_mut(), tx.reserve()).await {
                        Some(Ok(permit)) => permit.send(env),
                        Some(Err(_)) => return Err(AskError::Closed(Ask::<M, ()>::unwrap(env))),
                        None => return Err(AskError::Full(Ask::<M, ()>::unwrap(env))),
                    }
                    rx
                }
            };
            let Some(reply) = with_deadline(sleep.as_mut(), rx).await else {
                return Err(AskError::Timeout);
            };
            reply_of(reply)
        }
    }

    /// [`ask`](ActorRef::ask) for plain threads: blocks for room and for the reply. On a
    /// thread inside a tokio runtime it is [`AskError::InRuntime`].
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Ctx, Handler};
    /// # struct Doubler;
    /// # impl Actor for Doubler {}
    /// # impl Handler<u32> for Doubler {
    /// #     type Reply = u32;
    /// #     async fn handle(&mut self, n: u32, _: &mut Ctx<Self>) -> u32 { n * 2 }
    /// # }
    /// let doubler = rt.block_on(spawn(Doubler)).unwrap();
    /// let four = std::thread::spawn(move || doubler.blocking_ask(2)).join().unwrap();
    /// assert_eq!(four.unwrap(), 4);
    /// ```
    pub fn blocking_ask<M>(&self, msg: M) -> Result<A::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        self.blocking_ask_until(msg, None)
    }

    /// [`blocking_ask`](ActorRef::blocking_ask) with a deadline `timeout` from the call:
    /// [`AskError::Full`] (no room, message handed back) or [`AskError::Timeout`] (no reply).
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Builder, Ctx, Handler};
    /// # use std::time::Duration;
    /// # #[derive(Default)] struct Counter { n: u64 }
    /// # impl Actor for Counter {}
    /// # impl Handler<u64> for Counter {
    /// #     type Reply = u64;
    /// #     async fn handle(&mut self, n: u64, _: &mut Ctx<Self>) -> u64 { self.n += n; self.n }
    /// # }
    /// let c = rt.block_on(spawn(Counter::default())).unwrap();
    /// let three = std::thread::spawn(move || c.blocking_ask_timeout(3, Duration::from_secs(5)))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(three.unwrap(), 3);
    /// ```
    pub fn blocking_ask_timeout<M>(
        &self,
        msg: M,
        timeout: Duration,
    ) -> Result<A::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        self.blocking_ask_until(msg, Some(block::deadline(timeout)))
    }

    fn blocking_ask_until<M>(
        &self,
        msg: M,
        deadline: Option<Option<std::time::Instant>>,
    ) -> Result<A::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        if block::in_runtime() {
            return Err(AskError::InRuntime(msg));
        }
        let deadline = deadline.flatten();
        let rx = match self.start_ask(msg) {
            Started::Refused(err) => return Err(err),
            Started::Enqueued(rx) => rx,
            Started::NeedRoom(env, rx) => {
                let Some(tx) = self.shared.tx.bounded() else {
                    unreachable!("only a bounded mailbox is full")
                };
                match block_on_until(tx.reserve(), deadline) {
                    Some(Ok(permit)) => permit.send(env),
                    Some(Err(_)) => return Err(AskError::Closed(Ask::<M, ()>::unwrap(env))),
                    None => return Err(AskError::Full(Ask::<M, ()>::unwrap(env))),
                }
                rx
            }
        };
        match block_on_until(rx, deadline) {
            Some(Ok(Ok(reply))) => Ok(reply),
            Some(Ok(Err(reason))) => Err(AskError::Failed(reason)),
            Some(Err(_)) => Err(AskError::Failed(ExitReason::Dropped)),
            None => Err(AskError::Timeout),
        }
    }

    /// Stops the actor: later sends are refused (the message handed back), what is
    /// already in the mailbox is handled, then `on_stop(&Normal)` runs and the actor ends.
    /// Served on the system lane: never waits behind a full mailbox. Idempotent.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// # use contexture_actor::{spawn, Actor, ExitReason};
    /// # struct A;
    /// # impl Actor for A {}
    /// let a = spawn(A).await.unwrap();
    /// a.stop();
    /// assert_eq!(a.join().await.reason, ExitReason::Normal);
    /// # });
    /// ```
    pub fn stop(&self) {
        self.shared.core.stop();
    }

    /// Kills the actor: served on the system lane, it ends the actor at once. A handler
    /// waiting at an `.await` is cut short there (its future dropped, like a cancelled
    /// asyncio task's; a handler that never awaits cannot be cut); its asker, and every
    /// queued ask, get [`AskError::Failed`]`(Killed)`; its message and the queued tells
    /// are counted in the [`ExitReport`]. Called from the actor's own code, it ends the
    /// actor after the current handler instead (as [`Ctx::kill`](crate::Ctx::kill)).
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// # use contexture_actor::{spawn, Actor, ExitReason};
    /// # struct A;
    /// # impl Actor for A {}
    /// let a = spawn(A).await.unwrap();
    /// a.kill();
    /// assert_eq!(a.join().await.reason, ExitReason::Killed);
    /// # });
    /// ```
    pub fn kill(&self) {
        self.shared.core.kill();
    }

    /// Waits for the actor's end and returns how it ended (also when it ended long ago).
    /// When it returns, the actor's links and monitors have been told.
    ///
    /// # Panics
    ///
    /// When called by the actor itself, from its own handler or hook: it would wait for
    /// itself forever. The panic is caught like any other in the actor's code and ends it
    /// with that message.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Builder, Ctx, Handler};
    /// # use std::time::Duration;
    /// # #[derive(Default)] struct Counter { n: u64 }
    /// # impl Actor for Counter {}
    /// # impl Handler<u64> for Counter {
    /// #     type Reply = u64;
    /// #     async fn handle(&mut self, n: u64, _: &mut Ctx<Self>) -> u64 { self.n += n; self.n }
    /// # }
    /// use contexture_actor::ExitReason;
    /// rt.block_on(async {
    ///     let c = spawn(Counter::default()).await.unwrap();
    ///     c.tell(5).await.unwrap();
    ///     c.stop();
    ///     let report = c.join().await;
    ///     assert_eq!(report.reason, ExitReason::Normal);
    ///     assert_eq!(c.join().await, report); // a late join gets the same report
    /// });
    /// ```
    pub async fn join(&self) -> ExitReport {
        assert!(
            current_actor() != self.id().as_u64(),
            "an actor cannot join itself from its own code (it would wait for itself)"
        );
        self.shared.core.join().await
    }

    /// [`join`](ActorRef::join) for plain threads; [`InRuntime`] inside a tokio runtime.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, ExitReason};
    /// # struct A;
    /// # impl Actor for A {}
    /// let a = rt.block_on(spawn(A)).unwrap();
    /// a.stop();
    /// assert_eq!(a.blocking_join().unwrap().reason, ExitReason::Normal);
    /// ```
    pub fn blocking_join(&self) -> Result<ExitReport, InRuntime> {
        if block::in_runtime() {
            return Err(InRuntime);
        }
        Ok(block_on_until(self.shared.core.join(), None)
            .unwrap_or_else(|| ExitReport::new(ExitReason::Dropped)))
    }

    /// How the actor ended, if it has.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Builder, Ctx, Handler};
    /// # use std::time::Duration;
    /// # #[derive(Default)] struct Counter { n: u64 }
    /// # impl Actor for Counter {}
    /// # impl Handler<u64> for Counter {
    /// #     type Reply = u64;
    /// #     async fn handle(&mut self, n: u64, _: &mut Ctx<Self>) -> u64 { self.n += n; self.n }
    /// # }
    /// rt.block_on(async {
    ///     let c = spawn(Counter::default()).await.unwrap();
    ///     assert_eq!(c.exit_report(), None);
    ///     c.stop();
    ///     let report = c.join().await;
    ///     assert_eq!(c.exit_report(), Some(report));
    /// });
    /// ```
    pub fn exit_report(&self) -> Option<ExitReport> {
        self.shared.core.report()
    }

    /// Links this actor with `other` (see [`Ctx::link`](crate::Ctx::link)); idempotent.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # use contexture_actor::{spawn, Actor, Builder, Ctx, Handler};
    /// # use std::time::Duration;
    /// # #[derive(Default)] struct Counter { n: u64 }
    /// # impl Actor for Counter {}
    /// # impl Handler<u64> for Counter {
    /// #     type Reply = u64;
    /// #     async fn handle(&mut self, n: u64, _: &mut Ctx<Self>) -> u64 { self.n += n; self.n }
    /// # }
    /// use contexture_actor::ExitReason;
    /// rt.block_on(async {
    ///     let a = spawn(Counter::default()).await.unwrap();
    ///     let b = spawn(Counter::default()).await.unwrap();
    ///     a.link(&b);
    ///     a.kill(); // a failure (killed): b ends too
    ///     assert!(matches!(b.join().await.reason, ExitReason::Linked { actor, .. } if actor == a.id()));
    /// });
    /// ```
    pub fn link<B: Actor>(&self, other: &ActorRef<B>) {
        self.shared.core.link(other.core());
    }

    /// Removes a link.
    pub fn unlink<B: Actor>(&self, other: &ActorRef<B>) {
        self.shared.core.unlink(other.core());
    }

    /// Makes this actor monitor `target`: when `target` ends, this actor's
    /// [`Actor::on_down`] is called with the reason. Made from outside, the monitor
    /// belongs to the actor and survives its restarts (one made through
    /// [`Ctx::monitor`](crate::Ctx::monitor) ends with the instance). Idempotent.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// use contexture_actor::{spawn, Actor, Ctx, Down, Handler};
    ///
    /// struct Watcher(Option<Down>);
    /// impl Actor for Watcher {
    ///     async fn on_down(&mut self, down: Down, _: &mut Ctx<Self>) { self.0 = Some(down); }
    /// }
    /// struct Seen;
    /// impl Handler<Seen> for Watcher {
    ///     type Reply = bool;
    ///     async fn handle(&mut self, _: Seen, _: &mut Ctx<Self>) -> bool { self.0.is_some() }
    /// }
    /// struct Target;
    /// impl Actor for Target {}
    /// rt.block_on(async {
    ///     let watcher = spawn(Watcher(None)).await.unwrap();
    ///     let target = spawn(Target).await.unwrap();
    ///     watcher.monitor(&target);
    ///     target.stop();
    ///     target.join().await;
    ///     // The notice is on the system lane, served before this ask.
    ///     assert!(watcher.ask(Seen).await.unwrap());
    /// });
    /// ```
    pub fn monitor<B: Actor>(&self, target: &ActorRef<B>) {
        target.core().add_monitor(&self.shared.core, None);
    }
}

/// Runs `fut` until it is ready (`Some`) or `sleep` fires (`None`); `fut` is polled first,
/// so an outcome that is there wins over a deadline that passed meanwhile.
async fn with_deadline<F: Future>(mut sleep: Pin<&mut Option<Sleep>>, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        if let Poll::Ready(output) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        match sleep.as_mut().as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    })
    .await
}

/// What [`ActorRef::ask`] returns: while the ask is enqueued at the call (the usual case),
/// only the wait for the reply, a few words to move (measured: the one `async` block it
/// replaces cost two `memcpy` calls of its size per ask, ~4 % of a round trip's
/// instructions); the wait for room of a full mailbox is boxed.
enum AskFuture<M, R> {
    Reply(oneshot::Receiver<Result<R, ExitReason>>),
    /// Taken when returned.
    Refused(Option<AskError<M>>),
    Room(Pin<Box<dyn Future<Output = Result<R, AskError<M>>> + Send>>),
}

// The message is never pinned (it is only moved out, in `Refused`).
impl<M, R> Unpin for AskFuture<M, R> {}

impl<M, R> Future for AskFuture<M, R> {
    type Output = Result<R, AskError<M>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            AskFuture::Reply(rx) => Pin::new(rx).poll(cx).map(reply_of),
            AskFuture::Refused(err) => match err.take() {
                Some(err) => Poll::Ready(Err(err)),
                None => panic!("an ask's future polled after it completed"),
            },
            AskFuture::Room(fut) => fut.as_mut().poll(cx),
        }
    }
}

/// An ask's outcome from its reply channel.
#[inline]
fn reply_of<R, M>(
    reply: Result<Result<R, ExitReason>, oneshot::error::RecvError>,
) -> Result<R, AskError<M>> {
    match reply {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(reason)) => Err(AskError::Failed(reason)),
        Err(_) => Err(AskError::Failed(ExitReason::Dropped)),
    }
}

/// An ask after its first step.
enum Started<A, M, R> {
    Refused(AskError<M>),
    Enqueued(oneshot::Receiver<Result<R, ExitReason>>),
    NeedRoom(Env<A>, oneshot::Receiver<Result<R, ExitReason>>),
}
