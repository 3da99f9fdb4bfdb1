//! `Ctx<A>`: what a handler or hook can do about its own actor (its ref, stop, kill,
//! timers, links, monitors).

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::time::Duration;

use contexture_ctxvar::Snapshot;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::actor::{Actor, Handler};
use crate::actor_ref::{ActorRef, Shared};
use crate::core::{Core, Sys};
use crate::envelope::{Env, Tell};
use crate::error::panic_message;
use crate::exit::ActorId;

/// The handle a handler or hook gets to its own actor.
///
/// One `Ctx` lives as long as one instance (a supervised actor gets a new one after each
/// restart): timers started through it end with that instance.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{spawn, Actor, Ctx, ExitReason, Handler};
///
/// struct Quitter;
/// impl Actor for Quitter {}
/// struct Quit;
/// impl Handler<Quit> for Quitter {
///     type Reply = ();
///     async fn handle(&mut self, _: Quit, ctx: &mut Ctx<Self>) {
///         ctx.stop(); // what is queued is still handled, then the actor ends
///     }
/// }
/// let q = spawn(Quitter).await.unwrap();
/// q.tell(Quit).await.unwrap();
/// assert_eq!(q.join().await.reason, ExitReason::Normal);
/// # });
/// ```
pub struct Ctx<A> {
    pub(crate) core: Arc<Core>,
    pub(crate) shared: Weak<Shared<A>>,
    /// The actor's own context values (the spawner's, plus what `on_start` set): the
    /// context of timer messages.
    pub(crate) own: Snapshot,
    pub(crate) runtime: Handle,
    /// While `on_start` runs, the own context is the current one (still being written).
    pub(crate) starting: bool,
    timers: Vec<AbortHandle>,
    /// The actors this instance monitors: the monitors end with the instance.
    monitoring: Vec<Weak<Core>>,
    restarts: usize,
}

impl<A> Ctx<A> {
    pub(crate) fn new(
        core: Arc<Core>,
        shared: Weak<Shared<A>>,
        own: Snapshot,
        runtime: Handle,
        restarts: usize,
    ) -> Ctx<A> {
        Ctx {
            core,
            shared,
            own,
            runtime,
            starting: false,
            timers: Vec::new(),
            monitoring: Vec::new(),
            restarts,
        }
    }

    /// The actor's own context values as of now: during `on_start` what it has set so
    /// far (it runs in that context), afterwards what it left.
    fn own_values(&self) -> Snapshot {
        if self.starting {
            Snapshot::capture()
        } else {
            self.own.clone()
        }
    }
}

impl<A: Actor> Ctx<A> {
    /// This actor's id (the same across restarts).
    pub fn id(&self) -> ActorId {
        self.core.id
    }

    /// This actor's registered name, if any.
    pub fn name(&self) -> Option<&str> {
        self.core.name.as_deref()
    }

    /// How many times a supervisor has restarted this actor (0 in the first instance).
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// A reference to this actor; `None` once every outside reference is gone (the actor
    /// is then draining its mailbox before it ends). Keeping the result in the actor's own
    /// state keeps the actor alive until it is stopped.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// use contexture_actor::{spawn, Actor, Ctx, Handler};
    ///
    /// struct Me;
    /// impl Actor for Me {}
    /// struct WhoAmI;
    /// impl Handler<WhoAmI> for Me {
    ///     type Reply = Option<contexture_actor::ActorId>;
    ///     async fn handle(&mut self, _: WhoAmI, ctx: &mut Ctx<Self>) -> Self::Reply {
    ///         ctx.myself().map(|me| me.id())
    ///     }
    /// }
    /// rt.block_on(async {
    ///     let me = spawn(Me).await.unwrap();
    ///     assert_eq!(me.ask(WhoAmI).await.unwrap(), Some(me.id()));
    /// });
    /// ```
    pub fn myself(&self) -> Option<ActorRef<A>> {
        self.shared.upgrade().map(ActorRef::from_shared)
    }

    /// Stops this actor after the current handler: what is already queued is still
    /// handled, later sends are refused. As [`ActorRef::stop`].
    pub fn stop(&self) {
        self.core.stop();
    }

    /// Ends this actor after the current handler, failing what is queued. As
    /// [`ActorRef::kill`].
    pub fn kill(&self) {
        self.core.kill();
    }

    /// Links this actor with `other`: when either ends with a failure, the other ends too
    /// ([`ExitReason::Linked`](crate::ExitReason::Linked)). A normal end passes nothing on
    /// (as in OTP). Linking twice is one link. A link belongs to the actor, not to one
    /// instance: it survives a supervised restart and fires at the final end.
    pub fn link<B: Actor>(&self, other: &ActorRef<B>) {
        self.core.link(other.core());
    }

    /// Removes a link made with [`link`](Ctx::link).
    pub fn unlink<B: Actor>(&self, other: &ActorRef<B>) {
        self.core.unlink(other.core());
    }

    /// Monitors `target`: when it ends, this actor's [`Actor::on_down`] gets a
    /// [`Down`](crate::Down) notice (at once if it has ended already). Monitoring twice
    /// is one monitor. A monitor made here ends with this instance, as in OTP where a
    /// restarted process starts with none (a notice meant for an earlier instance is not
    /// delivered to a later one): an `on_start` that monitors what it depends on gets one
    /// notice per end, however often it was restarted.
    pub fn monitor<B: Actor>(&mut self, target: &ActorRef<B>) {
        target.core().add_monitor(&self.core, Some(self.restarts));
        self.monitoring.retain(|t| t.strong_count() > 0);
        self.monitoring.push(Arc::downgrade(target.core()));
    }

    /// Tells this actor `msg` after `delay`, in the actor's own context. The timer ends
    /// with this instance (stop, kill, failure, restart) or with [`TimerHandle::cancel`].
    /// `Duration::MAX` never fires.
    ///
    /// The runtime needs time enabled (as for `tokio::time::sleep`); without it this
    /// panics in the handler, which ends the actor with that message.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// use contexture_actor::{spawn, Actor, Ctx, Handler};
    /// use std::time::Duration;
    ///
    /// struct Alarm { rang: bool }
    /// impl Actor for Alarm {}
    /// struct Arm;
    /// struct Ring;
    /// struct Rang;
    /// impl Handler<Arm> for Alarm {
    ///     type Reply = ();
    ///     async fn handle(&mut self, _: Arm, ctx: &mut Ctx<Self>) {
    ///         ctx.send_after(Duration::from_millis(10), Ring);
    ///     }
    /// }
    /// impl Handler<Ring> for Alarm {
    ///     type Reply = ();
    ///     async fn handle(&mut self, _: Ring, _: &mut Ctx<Self>) { self.rang = true; }
    /// }
    /// impl Handler<Rang> for Alarm {
    ///     type Reply = bool;
    ///     async fn handle(&mut self, _: Rang, _: &mut Ctx<Self>) -> bool { self.rang }
    /// }
    /// let alarm = spawn(Alarm { rang: false }).await.unwrap();
    /// alarm.tell(Arm).await.unwrap();
    /// // It rings about 10 ms later (a loaded machine may take longer).
    /// while !alarm.ask(Rang).await.unwrap() {
    ///     tokio::time::sleep(Duration::from_millis(5)).await;
    /// }
    /// # });
    /// ```
    pub fn send_after<M>(&mut self, delay: Duration, msg: M) -> TimerHandle
    where
        A: Handler<M>,
        M: Send + 'static,
    {
        let shared = self.shared.clone();
        let snapshot = self.own_values();
        // Made here, not in the timer's task: on a runtime without time this panics in the
        // handler, which ends the actor with the reason, instead of losing the timer.
        let sleep = tokio::time::sleep(delay);
        let task = self.runtime.spawn(async move {
            sleep.await;
            deliver(&shared, msg, snapshot).await;
        });
        self.keep(task.abort_handle())
    }

    /// Tells this actor `make()` every `period` (the first after one period), in the
    /// actor's own context, until this instance ends or the handle is cancelled. A zero
    /// period is taken as 1 ms. A panic in `make` ends the actor as a handler's panic does.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// use contexture_actor::{spawn, Actor, Ctx, Handler};
    /// use std::time::Duration;
    ///
    /// struct Ticker { ticks: u32 }
    /// impl Actor for Ticker {
    ///     async fn on_start(&mut self, ctx: &mut Ctx<Self>) -> Result<(), contexture_actor::StartError> {
    ///         ctx.send_interval(Duration::from_millis(5), || Tick);
    ///         Ok(())
    ///     }
    /// }
    /// struct Tick;
    /// impl Handler<Tick> for Ticker {
    ///     type Reply = ();
    ///     async fn handle(&mut self, _: Tick, ctx: &mut Ctx<Self>) {
    ///         self.ticks += 1;
    ///         if self.ticks == 3 { ctx.stop(); }
    ///     }
    /// }
    /// let t = spawn(Ticker { ticks: 0 }).await.unwrap();
    /// t.join().await;
    /// # });
    /// ```
    pub fn send_interval<M, F>(&mut self, period: Duration, mut make: F) -> TimerHandle
    where
        A: Handler<M>,
        M: Send + 'static,
        F: FnMut() -> M + Send + 'static,
    {
        let period = period.max(Duration::from_millis(1));
        let shared = self.shared.clone();
        let snapshot = self.own_values();
        let core = Arc::downgrade(&self.core);
        // Made here for the same reason as in `send_after`.
        let mut sleep = Box::pin(tokio::time::sleep(period));
        let task = self.runtime.spawn(async move {
            loop {
                sleep.as_mut().await;
                let now = tokio::time::Instant::now();
                // A period past what the clock holds: about 30 years, tokio's "never".
                let next = now
                    .checked_add(period)
                    .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30));
                sleep.as_mut().reset(next);
                let msg = match std::panic::catch_unwind(AssertUnwindSafe(&mut make)) {
                    Ok(msg) => msg,
                    Err(payload) => {
                        if let Some(core) = core.upgrade() {
                            core.send_sys(Sys::Crash(panic_message(payload)));
                        }
                        return;
                    }
                };
                if !deliver(&shared, msg, snapshot.clone()).await {
                    return;
                }
            }
        });
        self.keep(task.abort_handle())
    }

    fn keep(&mut self, timer: AbortHandle) -> TimerHandle {
        self.timers.retain(|t| !t.is_finished());
        self.timers.push(timer.clone());
        TimerHandle { timer }
    }

    /// Runs `f` in the actor's own context values (what timers carry), returning its result.
    ///
    /// ```
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// use contexture_actor::{spawn, Actor, Ctx, Handler, StartError};
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static ROLE: ContextVar<&str> = ContextVar::new("role");
    /// struct Svc;
    /// impl Actor for Svc {
    ///     async fn on_start(&mut self, _: &mut Ctx<Self>) -> Result<(), StartError> {
    ///         ROLE.set("svc");
    ///         Ok(())
    ///     }
    /// }
    /// struct Role;
    /// impl Handler<Role> for Svc {
    ///     type Reply = Option<&'static str>;
    ///     async fn handle(&mut self, _: Role, ctx: &mut Ctx<Self>) -> Option<&'static str> {
    ///         ctx.in_own_context(|| ROLE.get())
    ///     }
    /// }
    /// let svc = spawn(Svc).await.unwrap();
    /// assert_eq!(svc.ask(Role).await.unwrap(), Some("svc"));
    /// # });
    /// ```
    pub fn in_own_context<R>(&self, f: impl FnOnce() -> R) -> R {
        self.own_values().run(f)
    }
}

/// Enqueues a timer's message; false once the actor is gone or closing.
async fn deliver<A, M>(shared: &Weak<Shared<A>>, msg: M, snapshot: Snapshot) -> bool
where
    A: Handler<M>,
    M: Send + 'static,
{
    let Some(shared) = shared.upgrade() else {
        return false;
    };
    if shared.core.is_closing() {
        return false;
    }
    shared
        .tx
        .send(Env::new(Tell { msg, snapshot }))
        .await
        .is_ok()
}

impl<A> Drop for Ctx<A> {
    fn drop(&mut self) {
        for timer in &self.timers {
            timer.abort();
        }
        for target in self.monitoring.iter().filter_map(Weak::upgrade) {
            target.remove_monitor(self.core.id, Some(self.restarts));
        }
    }
}

impl<A> fmt::Debug for Ctx<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("id", &self.core.id)
            .field("name", &self.core.name)
            .field("restarts", &self.restarts)
            .finish_non_exhaustive()
    }
}

/// A timer started by [`Ctx::send_after`] or [`Ctx::send_interval`]. Dropping the handle
/// does not cancel the timer.
#[derive(Debug, Clone)]
pub struct TimerHandle {
    timer: AbortHandle,
}

impl TimerHandle {
    /// Cancels the timer: no message it has not enqueued yet will be sent.
    pub fn cancel(&self) {
        self.timer.abort();
    }

    /// Whether the timer has ended (fired its one message, cancelled, or its actor ended).
    pub fn is_finished(&self) -> bool {
        self.timer.is_finished()
    }
}
