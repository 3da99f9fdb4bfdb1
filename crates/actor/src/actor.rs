//! The two traits a user implements: [`Actor`] (the state and its lifecycle hooks) and
//! [`Handler<M>`] (one per message type, with its reply type).

use std::future::Future;

use crate::ctx::Ctx;
use crate::exit::{Down, ExitReason};

/// The error `on_start` may return; its `Display` becomes [`ExitReason::StartFailed`].
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// An actor: a struct that is its own state. Every hook has a default, so
/// `impl Actor for MyActor {}` is a complete implementation.
///
/// Hooks run on the actor's task, one at a time with its handlers, inside the actor's own
/// context (a copy of the spawner's context, taken at spawn; what `on_start` sets stays in
/// it and is the base of the actor's timer messages).
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor, Ctx, ExitReason, StartError};
///
/// struct Conn { open: bool }
/// impl Actor for Conn {
///     async fn on_start(&mut self, _ctx: &mut Ctx<Self>) -> Result<(), StartError> {
///         self.open = true;
///         Ok(())
///     }
///     async fn on_stop(&mut self, reason: &ExitReason, _ctx: &mut Ctx<Self>) {
///         assert_eq!(reason, &ExitReason::Normal);
///         self.open = false;
///     }
/// }
/// let conn = spawn(Conn { open: false }).await.unwrap();
/// conn.stop();
/// assert_eq!(conn.join().await.reason, ExitReason::Normal);
/// # });
/// ```
pub trait Actor: Sized + Send + 'static {
    /// Runs once before the first message (and again in each restarted instance). An
    /// error (or a panic) ends the actor with [`ExitReason::StartFailed`]
    /// ([`ExitReason::Panicked`]); the first start's failure is what `spawn` returns, and
    /// nothing of the actor stays behind.
    fn on_start(
        &mut self,
        ctx: &mut Ctx<Self>,
    ) -> impl Future<Output = Result<(), StartError>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs once when the instance ends, with the reason (not after a failed `on_start`).
    /// A panic here turns a normal end into [`ExitReason::Panicked`].
    fn on_stop(
        &mut self,
        reason: &ExitReason,
        ctx: &mut Ctx<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }

    /// Runs when an actor this one monitors ([`Ctx::monitor`]) has ended. Served from the
    /// system lane, before queued messages.
    fn on_down(&mut self, down: Down, ctx: &mut Ctx<Self>) -> impl Future<Output = ()> + Send {
        let _ = (down, ctx);
        async {}
    }
}

/// How an actor handles one message type `M`, and what an `ask` of `M` replies.
///
/// Write the method as an `async fn`; no reply channel, no message enum.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor, Ctx, Handler};
///
/// #[derive(Default)]
/// struct Counter { count: i64 }
/// impl Actor for Counter {}
///
/// struct Add(i64);
/// impl Handler<Add> for Counter {
///     type Reply = i64;
///     async fn handle(&mut self, Add(n): Add, _ctx: &mut Ctx<Self>) -> i64 {
///         self.count += n;
///         self.count
///     }
/// }
///
/// let counter = spawn(Counter::default()).await.unwrap();
/// counter.tell(Add(5)).await.unwrap();
/// assert_eq!(counter.ask(Add(1)).await.unwrap(), 6);
/// # });
/// ```
pub trait Handler<M: Send + 'static>: Actor {
    /// What an `ask` of `M` gets back (`()` for messages that are only told).
    type Reply: Send + 'static;

    /// Handles one message. A panic here is caught: the actor ends with
    /// [`ExitReason::Panicked`] (or is restarted by its supervisor), and the asker of this
    /// message gets [`AskError::Failed`](crate::AskError::Failed).
    fn handle(&mut self, msg: M, ctx: &mut Ctx<Self>) -> impl Future<Output = Self::Reply> + Send;
}
