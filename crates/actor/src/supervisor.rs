//! Supervision (OTP's one-for-one): restart policies, restart intensity, and children
//! whose `ActorRef` and mailbox survive their restarts.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use contexture_ctxvar::Snapshot;
use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::block::{self, block_on_until};
use crate::core::Core;
use crate::error::{panic_message, InRuntime, SpawnError};
use crate::exit::{ActorId, ExitReason};
use crate::loom::Mutex;
use crate::run::{current_actor, launch, wait_started, Builder};

/// When a supervisor restarts a child (OTP's child `restart` values).
///
/// An end somebody asked for (`stop`, `kill`, the supervisor's own shutdown) is never
/// restarted; the policy decides about the others — a panic in a handler or hook, an
/// `on_start` that failed after a restart, a linked actor's failure. In contexture every
/// normal end is asked for, so `Permanent` and `Transient` restart the same ends; both
/// are kept for OTP's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Restart {
    /// Always restarted after a failure.
    Permanent,
    /// Restarted after an abnormal end only.
    Transient,
    /// Never restarted.
    Temporary,
}

/// How a failure of one child affects the others. Only one-for-one for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Only the failed child is restarted.
    #[default]
    OneForOne,
}

/// A supervisor: starts children, restarts the ones that fail (by [`Restart`] policy,
/// at most `max_restarts` within `within`, else it gives up: every child is shut down
/// and the supervisor ends with [`ExitReason::RestartLimit`]).
///
/// A child's [`ActorRef`] stays valid across its restarts, and messages sent while it
/// restarts wait in its mailbox for the new instance. The supervisor keeps its children
/// alive (dropping their refs does not stop them); dropping the last `Supervisor` handle
/// stops it and its children, as [`stop`](Supervisor::stop) does. A child that needs its
/// supervisor (to start siblings) should keep a [`WeakSupervisor`]
/// ([`downgrade`](Supervisor::downgrade)): a strong handle inside a child is a cycle that
/// only [`stop`](Supervisor::stop) ends.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{Actor, AskError, Ctx, Handler, Restart, Supervisor};
///
/// #[derive(Default)]
/// struct Worker { handled: u32 }
/// impl Actor for Worker {}
/// struct Job(bool);
/// impl Handler<Job> for Worker {
///     type Reply = u32;
///     async fn handle(&mut self, Job(fail): Job, ctx: &mut Ctx<Self>) -> u32 {
///         assert!(!fail, "bad job");
///         self.handled += 1;
///         ctx.restarts() as u32 * 100 + self.handled
///     }
/// }
///
/// let supervisor = Supervisor::new();
/// let worker = supervisor.spawn(Restart::Permanent, Worker::default).await.unwrap();
/// assert_eq!(worker.ask(Job(false)).await.unwrap(), 1);
/// assert!(matches!(worker.ask(Job(true)).await, Err(AskError::Failed(_))));
/// // The same ref, a new instance (fresh state, one restart).
/// assert_eq!(worker.ask(Job(false)).await.unwrap(), 101);
/// supervisor.stop();
/// supervisor.join().await;
/// # });
/// ```
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<SupInner>,
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("Supervisor")
            .field("strategy", &self.inner.strategy)
            .field("max_restarts", &self.inner.max_restarts)
            .field("within", &self.inner.within)
            .field("children", &state.children.len())
            .field("stopped", &state.stopped)
            .finish()
    }
}

/// Builds a [`Supervisor`]: restart intensity, strategy, runtime.
///
/// ```
/// use contexture_actor::{Strategy, Supervisor};
/// use std::time::Duration;
///
/// let supervisor = Supervisor::builder()
///     .max_restarts(5)
///     .within(Duration::from_secs(10))
///     .strategy(Strategy::OneForOne)
///     .build();
/// # drop(supervisor);
/// ```
#[derive(Debug, Clone)]
pub struct SupervisorBuilder {
    max_restarts: usize,
    within: Duration,
    strategy: Strategy,
    runtime: Option<Handle>,
}

impl SupervisorBuilder {
    /// At most this many restarts within [`within`](SupervisorBuilder::within) (default
    /// 3; 0 gives up at the first failure).
    pub fn max_restarts(mut self, max_restarts: usize) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// The window of the restart intensity (default 5 s).
    pub fn within(mut self, within: Duration) -> Self {
        self.within = within;
        self
    }

    /// The restart strategy (only [`Strategy::OneForOne`] for now).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// The runtime children are spawned on, unless their own builder names one.
    pub fn runtime(mut self, handle: Handle) -> Self {
        self.runtime = Some(handle);
        self
    }

    /// The supervisor.
    pub fn build(self) -> Supervisor {
        Supervisor {
            inner: Arc::new(SupInner {
                max_restarts: self.max_restarts,
                within: self.within,
                strategy: self.strategy,
                runtime: self.runtime,
                state: Mutex::new(SupState::default()),
                done: watch::Sender::new(None),
            }),
        }
    }
}

pub(crate) struct SupInner {
    max_restarts: usize,
    within: Duration,
    strategy: Strategy,
    runtime: Option<Handle>,
    state: Mutex<SupState>,
    /// Why it stopped, once it has.
    done: watch::Sender<Option<ExitReason>>,
}

#[derive(Default)]
struct SupState {
    restarts: VecDeque<Instant>,
    children: Vec<Child>,
    stopped: Option<ExitReason>,
}

struct Child {
    core: Arc<Core>,
    /// The child's `ActorRef` (strong: a supervised child does not stop when the user's
    /// refs go).
    _actor: Box<dyn Any + Send + Sync>,
}

impl SupInner {
    /// Whether the child `id`, which ended with `reason`, is restarted; past the restart
    /// intensity the supervisor gives up and shuts every other child down.
    pub(crate) fn allow_restart(&self, id: ActorId, restart: Restart, reason: &ExitReason) -> bool {
        if restart == Restart::Temporary {
            return false;
        }
        let mut state = self.state.lock();
        if state.stopped.is_some() {
            return false;
        }
        let now = Instant::now();
        while let Some(&at) = state.restarts.front() {
            if now.saturating_duration_since(at) > self.within {
                state.restarts.pop_front();
            } else {
                break;
            }
        }
        if state.restarts.len() < self.max_restarts {
            state.restarts.push_back(now);
            return true;
        }
        let gave_up = ExitReason::RestartLimit {
            child: id,
            reason: Box::new(reason.clone()),
        };
        state.stopped = Some(gave_up.clone());
        let others: Vec<Arc<Core>> = state
            .children
            .iter()
            .filter(|child| child.core.id != id)
            .map(|child| child.core.clone())
            .collect();
        drop(state);
        for child in others {
            child.shutdown();
        }
        self.done.send_replace(Some(gave_up));
        false
    }

    /// A child ended for good: the supervisor lets go of it.
    pub(crate) fn child_ended(&self, id: ActorId) {
        let removed: Vec<Child> = {
            let mut state = self.state.lock();
            let (gone, kept) = std::mem::take(&mut state.children)
                .into_iter()
                .partition(|child| child.core.id == id);
            state.children = kept;
            gone
        };
        drop(removed);
    }

    fn stop(&self) {
        let children: Vec<Arc<Core>> = {
            let mut state = self.state.lock();
            if state.stopped.is_none() {
                state.stopped = Some(ExitReason::Normal);
                self.done.send_replace(Some(ExitReason::Normal));
            }
            state.children.iter().map(|c| c.core.clone()).collect()
        };
        for child in children {
            child.stop();
        }
    }
}

impl Drop for SupInner {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor::new()
    }
}

/// A supervisor handle that does not keep it alive: what a child keeps of its supervisor.
///
/// ```
/// use contexture_actor::Supervisor;
///
/// let supervisor = Supervisor::new();
/// let weak = supervisor.downgrade();
/// assert!(weak.upgrade().is_some());
/// drop(supervisor);
/// assert!(weak.upgrade().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct WeakSupervisor {
    inner: std::sync::Weak<SupInner>,
}

impl WeakSupervisor {
    /// The supervisor, while some `Supervisor` handle still exists.
    pub fn upgrade(&self) -> Option<Supervisor> {
        self.inner.upgrade().map(|inner| Supervisor { inner })
    }
}

impl Supervisor {
    /// A handle that does not keep the supervisor alive.
    pub fn downgrade(&self) -> WeakSupervisor {
        WeakSupervisor {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// A one-for-one supervisor allowing 3 restarts within 5 s.
    pub fn new() -> Supervisor {
        Supervisor::builder().build()
    }

    /// A builder for the restart intensity, strategy and runtime.
    pub fn builder() -> SupervisorBuilder {
        SupervisorBuilder {
            max_restarts: 3,
            within: Duration::from_secs(5),
            strategy: Strategy::OneForOne,
            runtime: None,
        }
    }

    /// Starts a child made by `factory` (called now, and again for each restart) with the
    /// default [`Builder`], and waits for its first `on_start`.
    pub async fn spawn<A, F>(
        &self,
        restart: Restart,
        factory: F,
    ) -> Result<ActorRef<A>, SpawnError<A>>
    where
        A: Actor,
        F: FnMut() -> A + Send + 'static,
    {
        self.spawn_with(Builder::new(), restart, factory).await
    }

    /// [`spawn`](Supervisor::spawn) with a [`Builder`] (name, capacity, runtime,
    /// propagation).
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// use contexture_actor::{Actor, Builder, Restart, Supervisor};
    ///
    /// struct Db;
    /// impl Actor for Db {}
    /// let supervisor = Supervisor::new();
    /// let db = supervisor
    ///     .spawn_with(Builder::new().capacity(8), Restart::Transient, || Db)
    ///     .await
    ///     .unwrap();
    /// drop(db); // still running: the supervisor keeps it
    /// supervisor.stop();
    /// supervisor.join().await;
    /// # });
    /// ```
    pub async fn spawn_with<A, F>(
        &self,
        builder: Builder,
        restart: Restart,
        mut factory: F,
    ) -> Result<ActorRef<A>, SpawnError<A>>
    where
        A: Actor,
        F: FnMut() -> A + Send + 'static,
    {
        // The factory is user code: its panic is a value here as on a restart.
        let first = match catch_unwind(AssertUnwindSafe(&mut factory)) {
            Ok(first) => first,
            Err(payload) => {
                return Err(SpawnError::Start(ExitReason::Panicked(panic_message(
                    payload,
                ))))
            }
        };
        if self.inner.state.lock().stopped.is_some() {
            return Err(SpawnError::SupervisorStopped(first));
        }
        let builder = match (builder.runtime_handle(), &self.inner.runtime) {
            (None, Some(runtime)) => builder.runtime(runtime.clone()),
            _ => builder,
        };
        let mut stopped = false;
        let (actor_ref, started) = launch(
            builder,
            first,
            Some(Box::new(factory)),
            Some((Arc::downgrade(&self.inner), restart)),
            Snapshot::capture(),
            // Recorded before the child's task exists: its end (even one right after
            // `on_start`) always finds it recorded and takes it out.
            |child| {
                let mut state = self.inner.state.lock();
                state.children.push(Child {
                    core: child.core().clone(),
                    _actor: Box::new(child.clone()),
                });
                stopped = state.stopped.is_some();
            },
        )?;
        if stopped {
            actor_ref.stop();
        }
        wait_started(actor_ref, started).await
    }

    /// Stops the supervisor: every child is stopped (each drains its mailbox), none is
    /// restarted, no new child is started. Idempotent.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Why the supervisor stopped, once it has (children may still be ending).
    pub fn stopped(&self) -> Option<ExitReason> {
        self.inner.state.lock().stopped.clone()
    }

    /// Waits until the supervisor has stopped and every child has ended; why it stopped
    /// ([`ExitReason::Normal`] after [`stop`](Supervisor::stop),
    /// [`ExitReason::RestartLimit`] when it gave up).
    ///
    /// # Panics
    ///
    /// When called from the code of one of its own children: the child would wait for
    /// itself. The panic ends that child with the message, as any panic in its code.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// use contexture_actor::{Actor, ExitReason, Restart, Supervisor};
    ///
    /// struct Worker;
    /// impl Actor for Worker {}
    /// rt.block_on(async {
    ///     let supervisor = Supervisor::new();
    ///     let worker = supervisor.spawn(Restart::Permanent, || Worker).await.unwrap();
    ///     supervisor.stop();
    ///     assert_eq!(supervisor.join().await, ExitReason::Normal);
    ///     assert!(worker.has_ended()); // join waited for every child
    /// });
    /// ```
    pub async fn join(&self) -> ExitReason {
        let me = current_actor();
        let own_child = me != 0
            && self
                .inner
                .state
                .lock()
                .children
                .iter()
                .any(|child| child.core.id.as_u64() == me);
        assert!(
            !own_child,
            "a supervisor's child cannot join its supervisor (it would wait for itself)"
        );
        let mut rx = self.inner.done.subscribe();
        let reason = match rx.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or(ExitReason::Dropped),
            Err(_) => ExitReason::Dropped,
        };
        let children: Vec<Arc<Core>> = {
            let state = self.inner.state.lock();
            state.children.iter().map(|c| c.core.clone()).collect()
        };
        for child in children {
            child.join().await;
        }
        reason
    }

    /// [`join`](Supervisor::join) for plain threads; [`InRuntime`] inside a runtime.
    pub fn blocking_join(&self) -> Result<ExitReason, InRuntime> {
        if block::in_runtime() {
            return Err(InRuntime);
        }
        Ok(block_on_until(self.join(), None).unwrap_or(ExitReason::Dropped))
    }
}
