//! Why an actor ended ([`ExitReason`]), what its end failed ([`ExitReport`]), the notice a
//! monitor gets ([`Down`]), and actor ids.

use std::fmt;
use std::sync::Arc;

use crate::loom::always::{AtomicU64, Ordering};

/// A process-unique actor id (never reused). A supervised actor keeps its id across
/// restarts: it names the mailbox, not one instance.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor};
///
/// struct A;
/// impl Actor for A {}
/// let a = spawn(A).await.unwrap();
/// let b = spawn(A).await.unwrap();
/// assert_ne!(a.id(), b.id());
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ActorId(u64);

impl ActorId {
    pub(crate) fn next() -> ActorId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        // Relaxed: only uniqueness matters, and the counter is the only data.
        ActorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number (never 0).
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// # struct A;
    /// # impl contexture_actor::Actor for A {}
    /// let a = contexture_actor::spawn(A).await.unwrap();
    /// assert!(a.id().as_u64() > 0);
    /// # });
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why an actor (or a supervisor) ended.
///
/// `Normal`, `Killed` and `Shutdown` are ends somebody asked for (`stop`, `kill`, a
/// supervisor shutting its children down, every [`ActorRef`](crate::ActorRef) dropped);
/// the others are failures, which a supervisor may answer with a restart and which a
/// link passes on.
///
/// ```
/// use contexture_actor::ExitReason;
///
/// assert!(ExitReason::Normal.is_normal());
/// assert!(!ExitReason::Panicked("boom".into()).is_normal());
/// assert_eq!(ExitReason::Panicked("boom".into()).to_string(), "panicked: boom");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExitReason {
    /// Stopped after draining its mailbox (`stop()`, or every `ActorRef` dropped).
    #[error("stopped")]
    Normal,
    /// `kill()`: stopped at once (a handler waiting at an `.await` is cut short there; a
    /// kill from the actor's own code waits for its handler); what was queued was failed.
    #[error("killed")]
    Killed,
    /// A handler or a hook (`on_start`, `on_stop`, `on_down`, the actor's `Drop`) panicked;
    /// the panic's message.
    #[error("panicked: {0}")]
    Panicked(String),
    /// `on_start` returned an error (its `Display`).
    #[error("on_start failed: {0}")]
    StartFailed(String),
    /// A linked actor ended with a failure. Along a chain of links the reason is passed
    /// on as it is: `actor` is the one whose own failure started the chain.
    #[error("linked actor {actor} ended: {reason}")]
    Linked {
        /// The actor whose failure started it.
        actor: ActorId,
        /// Why that actor ended (never itself `Linked`).
        reason: Box<ExitReason>,
    },
    /// Its supervisor stopped because of another child's failures (restart limit).
    #[error("shut down by its supervisor")]
    Shutdown,
    /// A supervisor gave up: a child failed more often than its restart intensity allows.
    #[error("restart limit reached: {child} ended: {reason}")]
    RestartLimit {
        /// The child whose failure went over the limit.
        child: ActorId,
        /// Why that child ended.
        reason: Box<ExitReason>,
    },
    /// The actor's task was dropped before it could end (its runtime shut down).
    #[error("the actor's task was dropped (runtime shut down)")]
    Dropped,
}

impl ExitReason {
    /// Whether this is [`ExitReason::Normal`]: a link passes on every other reason.
    ///
    /// ```
    /// assert!(contexture_actor::ExitReason::Normal.is_normal());
    /// ```
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }

    /// Whether somebody asked for this end (`Normal`, `Killed`, `Shutdown`): a supervisor
    /// restarts only after the others.
    pub(crate) fn is_requested(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal | ExitReason::Killed | ExitReason::Shutdown
        )
    }
}

/// How an actor ended: its [`ExitReason`] and what its end failed. What `join` returns,
/// to every caller, also to callers that come after the end.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor, ExitReason};
///
/// struct A;
/// impl Actor for A {}
/// let a = spawn(A).await.unwrap();
/// a.kill();
/// let report = a.join().await;
/// assert_eq!(report.reason, ExitReason::Killed);
/// assert_eq!((report.dropped_tells, report.failed_asks), (0, 0));
/// # });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExitReport {
    /// Why it ended.
    pub reason: ExitReason,
    /// Tells that were still queued and were dropped unhandled (after a kill, a failure
    /// that was not restarted, or a dropped runtime).
    pub dropped_tells: usize,
    /// Asks that were still queued and were answered with an error instead.
    pub failed_asks: usize,
    /// How many times a supervisor restarted it.
    pub restarts: usize,
}

impl ExitReport {
    pub(crate) fn new(reason: ExitReason) -> ExitReport {
        ExitReport {
            reason,
            dropped_tells: 0,
            failed_asks: 0,
            restarts: 0,
        }
    }
}

/// The notice an actor gets, in [`Actor::on_down`](crate::Actor::on_down), when an actor
/// it monitors ends.
///
/// ```
/// use contexture_actor::{Actor, Ctx, Down};
///
/// struct Watcher { seen: Vec<Down> }
/// impl Actor for Watcher {
///     async fn on_down(&mut self, down: Down, _ctx: &mut Ctx<Self>) {
///         self.seen.push(down);
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Down {
    /// The actor that ended.
    pub actor: ActorId,
    /// Its registered name, if it had one.
    pub name: Option<Arc<str>>,
    /// Why it ended.
    pub reason: ExitReason,
}
