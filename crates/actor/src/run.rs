//! Spawning ([`Builder`], [`spawn`]) and the actor's task: start, serve (system lane
//! first), end, and restart under a supervisor with the same mailbox.

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context as TaskContext, Poll, Waker};

use contexture_ctxvar::{FutureExt, Snapshot};
use tokio::runtime::Handle;
use tokio::sync::mpsc::{self, error::TryRecvError};
use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::actor_ref::{ActorRef, Shared};
use crate::block::{self, block_on_until};
use crate::core::{Core, Sys};
use crate::ctx::Ctx;
use crate::envelope::{ending_with, Env, Slot};
use crate::error::{panic_message, SpawnError};
use crate::exit::{ExitReason, ExitReport};
use crate::mailbox::{self, Rx, MAX_CAPACITY};
use crate::registry;
use crate::supervisor::{Restart, SupInner};

/// A bounded mailbox's capacity unless the builder says otherwise.
pub const DEFAULT_CAPACITY: usize = 1024;

/// Options for spawning an actor: name, mailbox capacity, runtime, context propagation.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{Actor, Builder};
///
/// struct Cache;
/// impl Actor for Cache {}
/// let cache = Builder::new()
///     .name("builder-doc-cache")
///     .capacity(64)
///     .spawn(Cache)
///     .await
///     .unwrap();
/// assert_eq!(cache.name(), Some("builder-doc-cache"));
/// # cache.stop();
/// # });
/// ```
#[derive(Clone)]
pub struct Builder {
    name: Option<String>,
    capacity: Option<usize>,
    runtime: Option<Handle>,
    propagate: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("runtime", &self.runtime.is_some())
            .field("propagate_context", &self.propagate)
            .finish()
    }
}

impl Builder {
    /// No name, a bounded mailbox of [`DEFAULT_CAPACITY`], the current runtime, context
    /// propagation on.
    pub fn new() -> Builder {
        Builder {
            name: None,
            capacity: Some(DEFAULT_CAPACITY),
            runtime: None,
            propagate: true,
        }
    }

    /// Registers the actor under `name` (unique among live actors; [`lookup`](crate::lookup)
    /// finds it; freed when the actor ends). A named actor is kept alive by the registry:
    /// it runs until it is stopped, not until its last reference is dropped.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// A bounded mailbox of `capacity` messages (1 ..= [`MAX_CAPACITY`]; anything else
    /// makes `spawn` fail with [`SpawnError::Capacity`]).
    pub fn capacity(mut self, capacity: usize) -> Builder {
        self.capacity = Some(capacity);
        self
    }

    /// An unbounded mailbox: `tell` never waits (memory is the limit).
    pub fn unbounded(mut self) -> Builder {
        self.capacity = None;
        self
    }

    /// Spawns on this runtime instead of the current one (needed to spawn from a thread
    /// outside any runtime).
    pub fn runtime(mut self, handle: Handle) -> Builder {
        self.runtime = Some(handle);
        self
    }

    /// Whether each message carries the sender's context (on by default). Off, every
    /// handler still runs in a fresh, empty context.
    pub fn propagate_context(mut self, on: bool) -> Builder {
        self.propagate = on;
        self
    }

    /// Spawns `actor` and waits for its `on_start`.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// use contexture_actor::{Actor, Builder, Ctx, ExitReason, SpawnError, StartError};
    ///
    /// struct NoDb;
    /// impl Actor for NoDb {
    ///     async fn on_start(&mut self, _: &mut Ctx<Self>) -> Result<(), StartError> {
    ///         Err("database unreachable".into())
    ///     }
    /// }
    /// let err = Builder::new().spawn(NoDb).await.unwrap_err();
    /// assert!(matches!(err, SpawnError::Start(ExitReason::StartFailed(m)) if m == "database unreachable"));
    /// # });
    /// ```
    pub async fn spawn<A: Actor>(self, actor: A) -> Result<ActorRef<A>, SpawnError<A>> {
        let (actor_ref, started) = launch(self, actor, None, None, Snapshot::capture(), |_| {})?;
        wait_started(actor_ref, started).await
    }

    /// [`spawn`](Builder::spawn) from a plain thread, with the runtime given by
    /// [`runtime`](Builder::runtime); on a thread inside a runtime it is
    /// [`SpawnError::InRuntime`].
    ///
    /// ```
    /// use contexture_actor::{Actor, Builder};
    ///
    /// struct A;
    /// impl Actor for A {}
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let a = Builder::new().runtime(rt.handle().clone()).blocking_spawn(A).unwrap();
    /// a.stop();
    /// a.blocking_join().unwrap();
    /// ```
    pub fn blocking_spawn<A: Actor>(self, actor: A) -> Result<ActorRef<A>, SpawnError<A>> {
        if block::in_runtime() {
            return Err(SpawnError::InRuntime(actor));
        }
        let (actor_ref, started) = launch(self, actor, None, None, Snapshot::capture(), |_| {})?;
        block_on_until(wait_started(actor_ref, started), None)
            .unwrap_or(Err(SpawnError::Start(ExitReason::Dropped)))
    }

    pub(crate) fn runtime_handle(&self) -> Option<&Handle> {
        self.runtime.as_ref()
    }
}

/// Spawns `actor` with the default [`Builder`] on the current tokio runtime and waits for
/// its `on_start`.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor};
///
/// struct Idle;
/// impl Actor for Idle {}
/// let idle = spawn(Idle).await.unwrap();
/// drop(idle); // the last reference: the actor drains its mailbox and ends
/// # });
/// ```
pub async fn spawn<A: Actor>(actor: A) -> Result<ActorRef<A>, SpawnError<A>> {
    Builder::new().spawn(actor).await
}

/// How the first start went: the failure, with the actor value when it never started.
pub(crate) type Started<A> = Result<(), (ExitReason, Option<A>)>;

pub(crate) async fn wait_started<A: Actor>(
    actor_ref: ActorRef<A>,
    started: oneshot::Receiver<Started<A>>,
) -> Result<ActorRef<A>, SpawnError<A>> {
    match started.await {
        Ok(Ok(())) => Ok(actor_ref),
        // The task was dropped before it ran (its runtime is shutting down).
        Ok(Err((_, Some(actor)))) => Err(SpawnError::NoRuntime(actor)),
        Ok(Err((reason, None))) => Err(SpawnError::Start(reason)),
        Err(_) => Err(SpawnError::Start(
            actor_ref
                .exit_report()
                .map_or(ExitReason::Dropped, |report| report.reason),
        )),
    }
}

/// Makes a fresh instance of a supervised actor.
pub(crate) type Factory<A> = Box<dyn FnMut() -> A + Send>;

/// Validates, registers and starts the actor's task; the receiver tells how `on_start`
/// went. `adopt` sees the new actor before its task exists (a supervisor records its
/// child there, so that the child's end always finds it recorded).
#[allow(clippy::type_complexity)]
pub(crate) fn launch<A: Actor>(
    builder: Builder,
    first: A,
    factory: Option<Factory<A>>,
    supervision: Option<(Weak<SupInner>, Restart)>,
    base: Snapshot,
    adopt: impl FnOnce(&ActorRef<A>),
) -> Result<(ActorRef<A>, oneshot::Receiver<Started<A>>), SpawnError<A>> {
    let runtime = match builder.runtime.or_else(|| Handle::try_current().ok()) {
        Some(runtime) => runtime,
        None => return Err(SpawnError::NoRuntime(first)),
    };
    if let Some(capacity) = builder.capacity {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(SpawnError::Capacity {
                capacity,
                actor: first,
            });
        }
    }
    let name: Option<Arc<str>> = builder.name.map(Arc::from);
    let (core, sys) = Core::new(name.clone());
    let (tx, rx) = mailbox::channel(builder.capacity);
    let shared = Arc::new(Shared {
        core: core.clone(),
        tx,
        propagate: builder.propagate,
        runtime: runtime.clone(),
    });
    let actor_ref = ActorRef::from_shared(shared);
    if let Some(name) = &name {
        if !registry::register(name, &actor_ref) {
            return Err(SpawnError::NameTaken {
                name: name.to_string(),
                actor: first,
            });
        }
    }
    let (started_tx, started_rx) = oneshot::channel();
    let supervisor = supervision.as_ref().map(|(sup, _)| sup.clone());
    adopt(&actor_ref);
    let mailbox_core = core.clone();
    let task = Task {
        shared: Arc::downgrade(actor_ref.shared()),
        runtime: runtime.clone(),
        base,
        first: Some(first),
        factory,
        supervision,
        guard: Guard {
            started: Some(started_tx),
            core,
            mailbox: Mailbox {
                core: mailbox_core,
                rx,
                sys,
                sys_seen: 0,
                sys_closed: false,
                sys_waker: None,
                stopping: false,
                deferred: VecDeque::new(),
                cut: (0, 0),
            },
            restarts: 0,
            supervisor,
            done: false,
        },
    };
    runtime.spawn(task.run());
    Ok((actor_ref, started_rx))
}

thread_local! {
    /// The id of the actor whose handler this thread is polling (0: none).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// The id of the actor whose handler is running on this thread, 0 if none.
#[inline]
pub(crate) fn current_actor() -> u64 {
    CURRENT.try_with(Cell::get).unwrap_or(0)
}

/// Marks this thread as running actor `id`'s code for one poll.
struct Running(u64);

impl Running {
    #[inline]
    fn enter(id: u64) -> Running {
        Running(CURRENT.try_with(|c| c.replace(id)).unwrap_or(0))
    }
}

impl Drop for Running {
    #[inline]
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// Polls `fut` to its end, catching a panic (its message).
async fn catching<F: Future + ?Sized>(mut fut: Pin<&mut F>, id: u64) -> Result<F::Output, String> {
    poll_fn(|cx: &mut TaskContext<'_>| poll_catching(fut.as_mut(), cx, id)).await
}

/// Polls `fut` once as actor `id`'s code, catching a panic (its message).
#[inline]
fn poll_catching<F: Future + ?Sized>(
    fut: Pin<&mut F>,
    cx: &mut TaskContext<'_>,
    id: u64,
) -> Poll<Result<F::Output, String>> {
    let _running = Running::enter(id);
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => Poll::Ready(Err(panic_message(payload))),
    }
}

/// Drops `value`, returning the message of a panic in its `Drop`.
fn drop_catching<T>(value: T) -> Option<String> {
    catch_unwind(AssertUnwindSafe(move || drop(value)))
        .err()
        .map(panic_message)
}

/// The two lanes of a mailbox, as the actor's task holds them.
struct Mailbox<A> {
    /// The actor's core, for its count of system messages sent.
    core: Arc<Core>,
    rx: Rx<A>,
    sys: mpsc::UnboundedReceiver<Sys>,
    /// How many system messages this mailbox received (wrapping): while it equals the
    /// core's count, the system lane is not even peeked at.
    sys_seen: usize,
    sys_closed: bool,
    /// The waker the system lane holds, if it still holds one: registered when the task
    /// last went idle, and not taken since (a send takes it, and every send's message is
    /// received, which clears this). An idle turn with the same waker skips registering
    /// it again (measured: re-registering cost an ask round trip ~15 %).
    sys_waker: Option<Waker>,
    /// `stop()` was served: the mailbox is closed and being drained.
    stopping: bool,
    /// System messages received while a handler was waiting, served (in order) before
    /// anything else once it ends.
    deferred: VecDeque<Sys>,
    /// Messages whose handler a kill (or another ending notice) cut short at an await:
    /// (tells, asks), counted in the exit report with the queued ones.
    cut: (usize, usize),
}

enum Next<A> {
    Sys(Sys),
    Msg(Env<A>),
    /// Closed (or every sender gone) and empty.
    Empty,
}

impl<A> Mailbox<A> {
    /// The system lane first. While messages flow, the system lane is only peeked
    /// (`try_recv`, no waker registered), and only when a system message was sent since the
    /// last one received; its waker is registered only when the user lane is empty and the
    /// task is about to sleep, so a notice still wakes it.
    #[inline]
    fn poll_next(&mut self, cx: &mut TaskContext<'_>) -> Poll<Next<A>> {
        if let Some(sys) = self.deferred.pop_front() {
            return Poll::Ready(Next::Sys(sys));
        }
        // A message counted but not sent yet is found by a later peek (the count stays
        // ahead until it is received) or by the registration below when the lane runs dry.
        if !self.sys_closed && self.core.sys_sent() != self.sys_seen {
            match self.sys.try_recv() {
                Ok(sys) => {
                    self.sys_seen = self.sys_seen.wrapping_add(1);
                    self.sys_waker = None;
                    return Poll::Ready(Next::Sys(sys));
                }
                Err(TryRecvError::Disconnected) => self.sys_closed = true,
                Err(TryRecvError::Empty) => {}
            }
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(env)) => Poll::Ready(Next::Msg(env)),
            Poll::Ready(None) => Poll::Ready(Next::Empty),
            Poll::Pending => {
                let registered = self
                    .sys_waker
                    .as_ref()
                    .is_some_and(|waker| waker.will_wake(cx.waker()));
                if !self.sys_closed && !registered {
                    match self.sys.poll_recv(cx) {
                        Poll::Ready(Some(sys)) => {
                            self.sys_seen = self.sys_seen.wrapping_add(1);
                            self.sys_waker = None;
                            return Poll::Ready(Next::Sys(sys));
                        }
                        Poll::Ready(None) => self.sys_closed = true,
                        Poll::Pending => self.sys_waker = Some(cx.waker().clone()),
                    }
                }
                Poll::Pending
            }
        }
    }

    /// While a handler waits: receives what the system lane holds (keeping its waker
    /// registered, so that a notice wakes the task) and reports whether one of them ends
    /// the actor at once (a kill, a shutdown, a crash, a linked failure). Every received
    /// message is deferred, to be served as usual once the handler is gone.
    fn poll_interrupt(&mut self, cx: &mut TaskContext<'_>) -> bool {
        if self.sys_closed {
            return false;
        }
        loop {
            let registered = self
                .sys_waker
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()));
            let next = if registered {
                // Same skip as `poll_next`: the count says whether anything came.
                if self.core.sys_sent() == self.sys_seen {
                    return self.deferred.iter().any(Sys::ends_at_once);
                }
                match self.sys.try_recv() {
                    Ok(sys) => Some(sys),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => {
                        self.sys_closed = true;
                        None
                    }
                }
            } else {
                match self.sys.poll_recv(cx) {
                    Poll::Ready(Some(sys)) => Some(sys),
                    Poll::Ready(None) => {
                        self.sys_closed = true;
                        None
                    }
                    Poll::Pending => {
                        self.sys_waker = Some(cx.waker().clone());
                        None
                    }
                }
            };
            match next {
                Some(sys) => {
                    self.sys_seen = self.sys_seen.wrapping_add(1);
                    self.sys_waker = None;
                    self.deferred.push_back(sys);
                }
                None if registered => {
                    // Nothing yet though counted: make sure a waker is registered.
                    self.sys_waker = None;
                }
                None => return self.deferred.iter().any(Sys::ends_at_once),
            }
        }
    }

    /// Closes the mailbox and fails what is in it; (dropped tells, failed asks), with the
    /// messages whose handler was cut short.
    async fn fail_queued(&mut self, reason: &ExitReason) -> (usize, usize) {
        self.rx.close();
        let mut counts = std::mem::take(&mut self.cut);
        // `recv` (not `try_recv`): after `close` it also waits for sends that had already
        // reserved their slot, so that none of them lands after the count.
        while let Some(env) = self.rx.recv().await {
            count(&mut counts, env, reason);
        }
        counts
    }

    /// As `fail_queued`, without waiting (from a `Drop`).
    fn fail_now(&mut self, reason: &ExitReason) -> (usize, usize) {
        self.rx.close();
        let mut counts = std::mem::take(&mut self.cut);
        while let Some(env) = self.rx.try_recv() {
            count(&mut counts, env, reason);
        }
        counts
    }
}

fn count<A>(counts: &mut (usize, usize), env: Env<A>, reason: &ExitReason) {
    // The message's `Drop` may panic: it is still counted, and the rest still failed.
    let ask = env.is_ask();
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| env.fail(reason))) {
        drop(panic_message(payload));
    }
    if ask {
        counts.1 += 1;
    } else {
        counts.0 += 1;
    }
}

/// Owns what must be ended whatever happens to the task: if the task is dropped before it
/// ended the actor (its runtime shut down), the drop fails what is queued and publishes
/// [`ExitReason::Dropped`].
struct Guard<A> {
    core: Arc<Core>,
    /// Whoever waits for the first start; told after the end is recorded, so that a
    /// failed `spawn` never sees the name still taken.
    started: Option<oneshot::Sender<Started<A>>>,
    mailbox: Mailbox<A>,
    restarts: usize,
    supervisor: Option<Weak<SupInner>>,
    done: bool,
}

impl<A> Guard<A> {
    fn finish(&mut self, reason: ExitReason, (dropped_tells, failed_asks): (usize, usize)) {
        self.done = true;
        let mut report = ExitReport::new(reason);
        report.dropped_tells = dropped_tells;
        report.failed_asks = failed_asks;
        report.restarts = self.restarts;
        self.core.finish(report);
        if let Some(supervisor) = self.supervisor.as_ref().and_then(Weak::upgrade) {
            supervisor.child_ended(self.core.id);
        }
    }
}

impl<A> Drop for Guard<A> {
    fn drop(&mut self) {
        if !self.done {
            let counts = self.mailbox.fail_now(&ExitReason::Dropped);
            self.finish(ExitReason::Dropped, counts);
        }
        // Then (if the first start never finished) the spawner hears of it.
        drop(self.started.take());
    }
}

/// One actor's task.
struct Task<A> {
    shared: Weak<Shared<A>>,
    runtime: Handle,
    /// The spawner's context values: each instance's own context starts from them.
    base: Snapshot,
    first: Option<A>,
    factory: Option<Factory<A>>,
    supervision: Option<(Weak<SupInner>, Restart)>,
    guard: Guard<A>,
}

impl<A> Drop for Task<A> {
    fn drop(&mut self) {
        // Dropped before it ever ran (its runtime is shutting down): end the actor, then
        // hand the never-started value back to the spawner.
        if let Some(actor) = self.first.take() {
            if let Some(started) = self.guard.started.take() {
                let counts = self.guard.mailbox.fail_now(&ExitReason::Dropped);
                self.guard.finish(ExitReason::Dropped, counts);
                let _ = started.send(Err((ExitReason::Dropped, Some(actor))));
            }
        }
    }
}

impl<A: Actor> Task<A> {
    async fn run(mut self) {
        let id = self.guard.core.id.as_u64();
        loop {
            let instance = match self.first.take() {
                Some(actor) => Ok(actor),
                None => match self.factory.as_mut() {
                    Some(factory) => catch_unwind(AssertUnwindSafe(factory)).map_err(panic_message),
                    None => Err("no factory to restart from".to_owned()),
                },
            };
            let mut ctx = Ctx::new(
                self.guard.core.clone(),
                self.shared.clone(),
                Snapshot::default(),
                self.runtime.clone(),
                self.guard.restarts,
            );
            let reason = match instance {
                Err(message) => ExitReason::Panicked(message),
                Ok(mut actor) => match start(&mut actor, &mut ctx, self.base.clone(), id).await {
                    Err(reason) => {
                        let _ = drop_catching(actor);
                        if let Some(started) = self.guard.started.take() {
                            // The first start failed: `spawn` returns the error; no restart.
                            // Everything is ended (queue failed, name freed) before `spawn`
                            // hears of it, so nothing half-started is left to see.
                            drop(ctx);
                            let counts = self.guard.mailbox.fail_queued(&reason).await;
                            self.guard.finish(reason.clone(), counts);
                            let _ = started.send(Err((reason, None)));
                            return;
                        }
                        reason
                    }
                    Ok(()) => {
                        if let Some(started) = self.guard.started.take() {
                            let _ = started.send(Ok(()));
                        }
                        let reason = serve(&mut actor, &mut ctx, &mut self.guard.mailbox, id).await;
                        end(actor, &mut ctx, reason, id).await
                    }
                },
            };
            drop(ctx);
            if !reason.is_requested() && !self.guard.mailbox.stopping {
                if let Some((supervisor, restart)) = &self.supervision {
                    let allowed = supervisor
                        .upgrade()
                        .is_some_and(|s| s.allow_restart(self.guard.core.id, *restart, &reason));
                    if allowed {
                        self.guard.restarts += 1;
                        // An instance that fails at once must not hold the thread: let the
                        // runtime (and a current-thread runtime's other tasks) run.
                        tokio::task::yield_now().await;
                        continue;
                    }
                }
            }
            let counts = self.guard.mailbox.fail_queued(&reason).await;
            self.guard.finish(reason, counts);
            return;
        }
    }
}

/// Runs `on_start` in a fresh copy of `base`; on success the instance's own context (with
/// what `on_start` set) goes into `ctx` for timers and hooks.
async fn start<A: Actor>(
    actor: &mut A,
    ctx: &mut Ctx<A>,
    base: Snapshot,
    id: u64,
) -> Result<(), ExitReason> {
    let mut own = base.into_context();
    ctx.starting = true;
    let mut fut = {
        let (own, actor, hook_ctx) = (&mut own, &mut *actor, &mut *ctx);
        let _running = Running::enter(id);
        match catch_unwind(AssertUnwindSafe(move || {
            own.run_mut(move || actor.on_start(hook_ctx).with_current_context())
        })) {
            Ok(fut) => Box::pin(fut),
            Err(payload) => return Err(ExitReason::Panicked(panic_message(payload))),
        }
    };
    let outcome = catching(fut.as_mut(), id).await;
    let own = fut.context().copy();
    let dropped = drop_catching(fut);
    ctx.starting = false;
    if let Some(message) = dropped {
        return Err(ExitReason::Panicked(message));
    }
    match outcome {
        Ok(Ok(())) => {
            let mut own = own;
            ctx.own = own.run_mut(Snapshot::capture);
            Ok(())
        }
        Ok(Err(error)) => {
            let message = catch_unwind(AssertUnwindSafe(move || error.to_string()))
                .unwrap_or_else(panic_message);
            Err(ExitReason::StartFailed(message))
        }
        Err(message) => Err(ExitReason::Panicked(message)),
    }
}

/// Serves the mailbox until the instance ends; the reason.
async fn serve<A: Actor>(
    actor: &mut A,
    ctx: &mut Ctx<A>,
    mailbox: &mut Mailbox<A>,
    id: u64,
) -> ExitReason {
    // The running handler's future lives here (one message at a time).
    let mut slot = Slot::new();
    loop {
        match poll_fn(|cx| mailbox.poll_next(cx)).await {
            Next::Msg(env) => {
                let ask = env.is_ask();
                // The handler is called in its future's first poll (under `Running`: a
                // self-ask made in the call is refused like one made in the future).
                let mut handling = env.handling(&mut *actor, &mut *ctx, &mut slot);
                let mut handler = Pin::new(&mut handling);
                let outcome = poll_fn(|cx| match poll_catching(handler.as_mut(), cx, id) {
                    Poll::Pending if mailbox.poll_interrupt(cx) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(outcome) => Poll::Ready(Some(outcome)),
                })
                .await;
                let Some(outcome) = outcome else {
                    // Cut short at an await by a notice that ends the actor: the handler's
                    // future is dropped (an asker is answered with that end), the notice
                    // served next.
                    let reason = mailbox
                        .deferred
                        .iter()
                        .find_map(Sys::ending_reason)
                        .unwrap_or(ExitReason::Killed);
                    let dropped = ending_with(&reason, || drop_catching(handling));
                    if ask {
                        mailbox.cut.1 += 1;
                    } else {
                        mailbox.cut.0 += 1;
                    }
                    if let Some(message) = dropped {
                        return ExitReason::Panicked(message);
                    }
                    continue;
                };
                let dropped = drop_catching(handling);
                if let Err(message) = outcome {
                    return ExitReason::Panicked(message);
                }
                if let Some(message) = dropped {
                    return ExitReason::Panicked(message);
                }
            }
            Next::Sys(Sys::Stop) => {
                mailbox.rx.close();
                mailbox.stopping = true;
            }
            // A notice for a monitor an earlier instance made: that instance is gone.
            Next::Sys(Sys::Down(_, Some(owner))) if owner != ctx.restarts() => {}
            Next::Sys(Sys::Down(down, _)) => {
                let own = ctx.own.clone();
                let made = {
                    let (instance, hook_ctx) = (&mut *actor, &mut *ctx);
                    let _running = Running::enter(id);
                    catch_unwind(AssertUnwindSafe(move || {
                        own.run(move || instance.on_down(down, hook_ctx).with_current_context())
                    }))
                };
                let mut fut = match made {
                    Ok(fut) => Box::pin(fut),
                    Err(payload) => return ExitReason::Panicked(panic_message(payload)),
                };
                let outcome = catching(fut.as_mut(), id).await;
                let dropped = drop_catching(fut);
                if let Some(message) = outcome.err().or(dropped) {
                    return ExitReason::Panicked(message);
                }
            }
            // A kill, a shutdown, a crash, a linked end (a normal one passes nothing; a
            // chain of links passes the failure that started it on, at one level).
            Next::Sys(sys) => {
                if let Some(reason) = sys.ending_reason() {
                    return reason;
                }
            }
            Next::Empty => return ExitReason::Normal,
        }
    }
}

/// Runs `on_stop` and drops the instance; a panic in either turns a normal end into
/// `Panicked`.
async fn end<A: Actor>(mut actor: A, ctx: &mut Ctx<A>, reason: ExitReason, id: u64) -> ExitReason {
    let own = ctx.own.clone();
    let mut failure = {
        let (instance, hook_ctx, why) = (&mut actor, &mut *ctx, &reason);
        let made = {
            let _running = Running::enter(id);
            catch_unwind(AssertUnwindSafe(move || {
                own.run(move || instance.on_stop(why, hook_ctx).with_current_context())
            }))
        };
        match made {
            Ok(fut) => {
                let mut fut = Box::pin(fut);
                let outcome = catching(fut.as_mut(), id).await;
                let dropped = drop_catching(fut);
                outcome.err().or(dropped)
            }
            Err(payload) => Some(panic_message(payload)),
        }
    };
    if let Some(message) = drop_catching(actor) {
        failure.get_or_insert(message);
    }
    match failure {
        Some(message) if reason.is_normal() => ExitReason::Panicked(message),
        _ => reason,
    }
}
