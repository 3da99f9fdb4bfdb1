//! The crate's error types: one per operation family, each handing back what it refused.

use std::any::Any;
use std::fmt;

use crate::exit::ExitReason;

/// A `tell` refused its message; the message comes back inside.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor, Ctx, Handler, SendError};
///
/// struct Echo;
/// impl Actor for Echo {}
/// impl Handler<String> for Echo {
///     type Reply = ();
///     async fn handle(&mut self, _: String, _: &mut Ctx<Self>) {}
/// }
/// let echo = spawn(Echo).await.unwrap();
/// echo.stop();
/// let err = echo.tell("late".to_string()).await.unwrap_err();
/// assert!(matches!(err, SendError::Closed(_)));
/// assert_eq!(err.into_inner(), "late");
/// # });
/// ```
#[derive(thiserror::Error)]
pub enum SendError<M> {
    /// The actor is stopping or has ended.
    #[error("the actor is stopped")]
    Closed(M),
    /// The mailbox is full: from `try_tell`, from a timed tell that found no room before
    /// its deadline, and from a tell an actor sends itself from its own handler (waiting
    /// would wait for itself).
    #[error("the actor's mailbox is full")]
    Full(M),
    /// A `blocking_*` call on a thread inside a tokio runtime, where blocking would stall
    /// the runtime (use the async form there).
    #[error("a blocking send was called inside a tokio runtime")]
    InRuntime(M),
}

impl<M> SendError<M> {
    /// The message that was not sent.
    ///
    /// ```
    /// use contexture_actor::SendError;
    /// assert_eq!(SendError::Full(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> M {
        match self {
            SendError::Closed(m) | SendError::Full(m) | SendError::InRuntime(m) => m,
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SendError::Closed(_) => "Closed",
            SendError::Full(_) => "Full",
            SendError::InRuntime(_) => "InRuntime",
        };
        f.debug_tuple(name).finish_non_exhaustive()
    }
}

/// An `ask` got no reply. Where the message was never enqueued it comes back inside.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor, AskError, Ctx, ExitReason, Handler};
///
/// struct Fragile;
/// impl Actor for Fragile {}
/// impl Handler<u32> for Fragile {
///     type Reply = u32;
///     async fn handle(&mut self, n: u32, _: &mut Ctx<Self>) -> u32 {
///         assert!(n != 0, "zero");
///         n
///     }
/// }
/// let actor = spawn(Fragile).await.unwrap();
/// assert_eq!(actor.ask(2).await.unwrap(), 2);
/// let err = actor.ask(0).await.unwrap_err();
/// assert!(matches!(err, AskError::Failed(ExitReason::Panicked(_))));
/// actor.join().await; // it ended with the panic
/// assert_eq!(actor.ask(5).await.unwrap_err().into_inner(), Some(5));
/// # });
/// ```
#[derive(thiserror::Error)]
pub enum AskError<M> {
    /// The actor is stopping or has ended; the message was not enqueued.
    #[error("the actor is stopped")]
    Closed(M),
    /// No room in the mailbox before the deadline (`ask_timeout`); not enqueued.
    #[error("no room in the actor's mailbox before the deadline")]
    Full(M),
    /// An actor asked itself from its own handler: the reply could never come.
    #[error("an actor cannot ask itself from its own handler")]
    SelfAsk(M),
    /// A `blocking_*` call on a thread inside a tokio runtime; not enqueued.
    #[error("a blocking ask was called inside a tokio runtime")]
    InRuntime(M),
    /// The message was enqueued (and may still be handled) but no reply came before the
    /// deadline.
    #[error("no reply before the deadline")]
    Timeout,
    /// The message was enqueued, and the actor ended (or its handler panicked) without
    /// replying to it.
    #[error("the actor did not reply: {0}")]
    Failed(ExitReason),
}

impl<M> AskError<M> {
    /// The message, when it was never enqueued.
    ///
    /// ```
    /// use contexture_actor::AskError;
    /// assert_eq!(AskError::Closed(1).into_inner(), Some(1));
    /// assert_eq!(AskError::<u8>::Timeout.into_inner(), None);
    /// ```
    pub fn into_inner(self) -> Option<M> {
        match self {
            AskError::Closed(m)
            | AskError::Full(m)
            | AskError::SelfAsk(m)
            | AskError::InRuntime(m) => Some(m),
            AskError::Timeout | AskError::Failed(_) => None,
        }
    }
}

impl<M> fmt::Debug for AskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::Closed(_) => f.debug_tuple("Closed").finish_non_exhaustive(),
            AskError::Full(_) => f.debug_tuple("Full").finish_non_exhaustive(),
            AskError::SelfAsk(_) => f.debug_tuple("SelfAsk").finish_non_exhaustive(),
            AskError::InRuntime(_) => f.debug_tuple("InRuntime").finish_non_exhaustive(),
            AskError::Timeout => f.write_str("Timeout"),
            AskError::Failed(reason) => f.debug_tuple("Failed").field(reason).finish(),
        }
    }
}

/// `spawn` did not start the actor. Where the actor value was not consumed it comes back
/// inside.
///
/// ```
/// use contexture_actor::{spawn, Actor, SpawnError};
///
/// struct A(u8);
/// impl Actor for A {}
/// // No tokio runtime here (and no handle given to the builder).
/// let err = futures::executor::block_on(spawn(A(7))).unwrap_err();
/// assert!(matches!(err, SpawnError::NoRuntime(_)));
/// assert_eq!(err.into_inner().unwrap().0, 7);
/// ```
#[derive(thiserror::Error)]
pub enum SpawnError<A> {
    /// Not inside a tokio runtime and no runtime handle given to the builder, or the
    /// runtime shut down before the actor's task could start.
    #[error("no tokio runtime to spawn the actor on")]
    NoRuntime(A),
    /// `blocking_spawn` on a thread inside a tokio runtime (use `spawn().await` there).
    #[error("blocking_spawn was called inside a tokio runtime")]
    InRuntime(A),
    /// Another live actor has this name.
    #[error("an actor named {name:?} is already registered")]
    NameTaken {
        /// The name asked for.
        name: String,
        /// The actor that was not started.
        actor: A,
    },
    /// A bounded mailbox's capacity must be at least 1 and at most
    /// [`MAX_CAPACITY`](crate::MAX_CAPACITY); use `unbounded()` for no bound.
    #[error(
        "mailbox capacity {capacity} is out of range 1..={}",
        crate::MAX_CAPACITY
    )]
    Capacity {
        /// The capacity asked for.
        capacity: usize,
        /// The actor that was not started.
        actor: A,
    },
    /// The supervisor has stopped; it starts no more children.
    #[error("the supervisor is stopped")]
    SupervisorStopped(A),
    /// The actor's `on_start` failed or panicked (the actor value is gone with it).
    #[error("the actor did not start: {0}")]
    Start(ExitReason),
}

impl<A> SpawnError<A> {
    /// The actor value, when it was not consumed.
    ///
    /// ```
    /// use contexture_actor::{ExitReason, SpawnError};
    /// assert_eq!(SpawnError::NoRuntime(1).into_inner(), Some(1));
    /// assert_eq!(SpawnError::<u8>::Start(ExitReason::Killed).into_inner(), None);
    /// ```
    pub fn into_inner(self) -> Option<A> {
        match self {
            SpawnError::NoRuntime(a)
            | SpawnError::InRuntime(a)
            | SpawnError::SupervisorStopped(a)
            | SpawnError::NameTaken { actor: a, .. }
            | SpawnError::Capacity { actor: a, .. } => Some(a),
            SpawnError::Start(_) => None,
        }
    }
}

impl<A> fmt::Debug for SpawnError<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::NoRuntime(_) => f.debug_tuple("NoRuntime").finish_non_exhaustive(),
            SpawnError::InRuntime(_) => f.debug_tuple("InRuntime").finish_non_exhaustive(),
            SpawnError::NameTaken { name, .. } => f
                .debug_struct("NameTaken")
                .field("name", name)
                .finish_non_exhaustive(),
            SpawnError::Capacity { capacity, .. } => f
                .debug_struct("Capacity")
                .field("capacity", capacity)
                .finish_non_exhaustive(),
            SpawnError::SupervisorStopped(_) => {
                f.debug_tuple("SupervisorStopped").finish_non_exhaustive()
            }
            SpawnError::Start(reason) => f.debug_tuple("Start").field(reason).finish(),
        }
    }
}

/// A `blocking_*` call that has no item to hand back (`blocking_join`) was made on a thread
/// inside a tokio runtime.
///
/// ```
/// let rt = tokio::runtime::Runtime::new().unwrap();
/// # struct A;
/// # impl contexture_actor::Actor for A {}
/// let actor = rt.block_on(contexture_actor::spawn(A)).unwrap();
/// let err = rt.block_on(async { actor.blocking_join() }).unwrap_err();
/// assert_eq!(err.to_string(), "a blocking call was made inside a tokio runtime");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a blocking call was made inside a tokio runtime")]
pub struct InRuntime;

/// The message of a caught panic, consuming the payload.
pub(crate) fn panic_message(payload: Box<dyn Any + Send>) -> String {
    let message = payload_message(&*payload);
    drop_quietly(payload);
    message
}

/// The message of a caught panic.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any> (a panic without a message)".to_owned()
    }
}

/// Drops a panic payload whose own `Drop` may panic, without letting that panic out.
pub(crate) fn drop_quietly(payload: Box<dyn Any + Send>) {
    if let Err(again) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(payload))) {
        // A payload whose drop panicked twice is leaked rather than allowed to abort.
        std::mem::forget(again);
    }
}
