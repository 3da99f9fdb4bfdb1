//! Actors on tokio that lose nothing, supervise, and carry the sender's context with every
//! message: the actor pattern of asyncio, with OTP's links, monitors and supervisors.
//!
//! # Items
//!
//! - [`Actor`] (the state, with `on_start` / `on_stop` / `on_down` hooks) and
//!   [`Handler<M>`] (one per message type, with its `Reply`): `async fn`s, no reply
//!   channels, no message enums, no macros.
//! - Spawning: [`spawn`], [`Builder`] (name, mailbox [`capacity`](Builder::capacity) —
//!   bounded, [`DEFAULT_CAPACITY`] by default — or [`unbounded`](Builder::unbounded),
//!   [`runtime`](Builder::runtime), [`propagate_context`](Builder::propagate_context)),
//!   [`Builder::blocking_spawn`] from plain threads; the registry: [`lookup`].
//! - [`ActorRef<A>`]: [`tell`](ActorRef::tell), [`try_tell`](ActorRef::try_tell),
//!   [`tell_timeout`](ActorRef::tell_timeout), [`ask`](ActorRef::ask) (enqueued at the
//!   call), [`ask_timeout`](ActorRef::ask_timeout), `blocking_tell` / `blocking_ask` (+
//!   `_timeout`) for threads, [`stop`](ActorRef::stop), [`kill`](ActorRef::kill),
//!   [`join`](ActorRef::join) / [`blocking_join`](ActorRef::blocking_join) →
//!   [`ExitReport`], [`link`](ActorRef::link), [`monitor`](ActorRef::monitor).
//! - [`Ctx<A>`], given to handlers and hooks: `myself`, `stop`, `kill`, timers
//!   ([`send_after`](Ctx::send_after), [`send_interval`](Ctx::send_interval) →
//!   [`TimerHandle`]), links and monitors.
//! - Supervision: [`Supervisor`] ([`SupervisorBuilder`], [`Restart`], [`Strategy`],
//!   [`WeakSupervisor`]).
//! - Ends: [`ExitReason`], [`ExitReport`], [`Down`], [`ActorId`].
//! - Errors: [`SendError`], [`AskError`], [`SpawnError`], [`InRuntime`] — each hands
//!   back the message or the actor it refused.
//!
//! # Example
//!
//! The seed's asyncio `CounterActor`: three tells, then the count, by `ask` instead of a
//! reply queue.
//!
//! ```
//! use contexture_actor::{spawn, Actor, Ctx, Handler};
//!
//! #[derive(Default)]
//! struct Counter { count: i64 }
//! impl Actor for Counter {}
//!
//! enum Op { Increment(i64), Decrement(i64) }
//! impl Handler<Op> for Counter {
//!     type Reply = ();
//!     async fn handle(&mut self, op: Op, _ctx: &mut Ctx<Self>) {
//!         match op {
//!             Op::Increment(v) => self.count += v,
//!             Op::Decrement(v) => self.count -= v,
//!         }
//!     }
//! }
//! struct Get;
//! impl Handler<Get> for Counter {
//!     type Reply = i64;
//!     async fn handle(&mut self, _: Get, _ctx: &mut Ctx<Self>) -> i64 { self.count }
//! }
//!
//! # let rt = tokio::runtime::Runtime::new().unwrap();
//! # rt.block_on(async {
//! let counter = spawn(Counter::default()).await.unwrap();
//! counter.tell(Op::Increment(5)).await.unwrap();
//! counter.tell(Op::Increment(3)).await.unwrap();
//! counter.tell(Op::Decrement(2)).await.unwrap();
//! assert_eq!(counter.ask(Get).await.unwrap(), 6);
//! counter.stop();
//! counter.join().await;
//! # });
//! ```
//!
//! # How it works
//!
//! **One task per actor** on the tokio runtime it was spawned on. The task owns the actor
//! value and both lanes of its mailbox: the user lane (a tokio `mpsc` channel, bounded by
//! default) and the system lane (unbounded, a few notices per actor: stop, kill,
//! shutdown, link and monitor notices). Each turn polls the system lane first, so a stop
//! or kill is never stuck behind a full mailbox.
//!
//! **Messages are envelopes**: a `Tell<M>` or `Ask<M, R>` (with a tokio oneshot for the
//! reply), type-erased behind a small table of functions so that one mailbox carries every
//! message type the actor has a [`Handler`] for. An envelope of up to four words lives in
//! the mailbox's slot itself (a tell of a message up to three words, an ask of one up to
//! two); a larger one is boxed. That is the crate's one use of `unsafe`, measured: the box
//! per message cost 39 % of a raw tokio channel's time per tell (freeing on the actor's
//! thread what the sender's thread allocated; analysis of 2026-12-03, before the change),
//! and it is covered by unit tests under Miri. Each envelope carries a `contexture_ctxvar::Snapshot` of
//! the sender's context (one pointer); the handler's future is polled inside a fresh
//! context made from it, so its writes persist across its own `.await`s and vanish
//! afterwards.
//!
//! **Nothing is lost.** A send that cannot be enqueued hands the message back inside its
//! error; `stop` closes the mailbox (sends are refused from the call on) and handles what
//! was already queued; `kill`, a failure that is not restarted, and a dropped runtime fail
//! what is queued (each ask gets [`AskError::Failed`] with the reason; tells are counted in
//! the [`ExitReport`]). The drain after closing waits for sends that had already reserved
//! a slot, so none lands after the count.
//!
//! **Nothing hangs on a stuck handler.** What ends an actor at once — a `kill` from outside
//! it, a supervisor's shutdown, a linked actor's failure, a timer's panic — also cuts a
//! handler that waits at an `.await` short, as cancelling an asyncio task does: its future
//! is dropped, its asker answered with the reason, its message counted in the report. A
//! `stop`, a monitor's notice or a linked normal end waits for the handler (they are kept
//! and served, in order, once it ends).
//!
//! **Panics are values.** Every poll of a handler or hook, the actor's `Drop`, a
//! message's `Drop` and an interval's message maker run under `catch_unwind`; a panic ends
//! the instance with [`ExitReason::Panicked`] and answers the asker of the message being
//! handled. The task itself never unwinds.
//!
//! **Supervision** keeps the mailbox in the task: a restart makes a new instance from the
//! factory and goes on serving the same mailbox, so messages sent during a restart wait
//! for the new instance and the `ActorRef` stays valid.
//!
//! **Blocking forms** (`blocking_tell`, `blocking_ask`, `blocking_join`,
//! `blocking_spawn`) drive the same futures on the calling thread with its park/unpark,
//! with an optional deadline; they need no runtime on that thread and refuse to run on one.
//! The actor's own runtime must be running meanwhile (a multi-thread runtime, or a
//! current-thread runtime that some thread drives with `block_on`).
//!
//! # Differences from Python's asyncio actors and from other actor crates
//!
//! - asyncio's seed `Actor` has an unbounded inbox, a `None` sentinel to stop, and replies
//!   through a queue passed in the message; here the mailbox is bounded by default, `stop`
//!   is a system message served first, and `ask` replies with the handler's return value.
//! - `ask` is enqueued at the call (ractor's `call` waits for the first poll).
//! - `stop` drains the mailbox (ractor's `stop` skips it); `kill` fails the rest, with
//!   every ask answered.
//! - Restarts keep every queued message (kameo loses the ones around a restart); a
//!   bounded mailbox does not deadlock an actor asking or telling itself (a self-ask is
//!   [`AskError::SelfAsk`], a self-tell into a full mailbox [`SendError::Full`]).
//! - A panic never takes a runtime thread down with it (actix's arbiter does).
//! - `spawn` is async: it returns `on_start`'s failure. `join` returns an [`ExitReport`]
//!   (the reason plus what was failed), not just the reason.
//! - The blocking forms refuse any thread inside a tokio runtime, including tokio's
//!   `spawn_blocking` threads (tokio does not tell those apart); use
//!   `Handle::block_on(actor.ask(msg))` there.
//! - Timed calls and timers use the timer of the actor's own runtime (so a timed call
//!   works from any executor): that runtime needs time enabled (`enable_time` /
//!   `enable_all`), as for `tokio::time::sleep`. Without it, a timed call panics in its
//!   caller, as tokio's own timers do, and a timer set up in a handler ends the actor with
//!   that panic's message.
//! - Links belong to the actor and fire at its final end (a supervised restart is not an
//!   end); a chain of links passes the original failure on ([`ExitReason::Linked`] names
//!   the actor that started it). Monitors made through [`Ctx::monitor`] end with the
//!   instance that made them, as in OTP. Both are idempotent.
//! - An actor awaiting its own `join` (or its supervisor's) from its own code would wait
//!   forever: it panics instead, which ends the actor with that message.
//!
//! # Performance
//!
//! The targets, and the row of the table below that answers each (the operation text as it
//! appears there; ours with context propagation on, the default, on a 2-worker tokio
//! runtime):
//!
//! - `tell` throughput, 1 actor, 200k messages: ≤ 1.3× a raw tokio bounded `mpsc` + task,
//!   ≤ 0.6× ractor's `cast` ("tell throughput per message (1 actor, 2 workers)"; kameo's
//!   `tell` and actix's `do_send` are shown too).
//! - `ask` round trip, 50k in sequence: ≤ 1.3× raw tokio `mpsc` + `oneshot`, ≤ 0.7× ractor's
//!   `call` ("ask round trip (sequential, 2 workers)"; kameo's `ask` and actix's `send`
//!   too).
//! - Spawn + stop + join one actor: ≤ 1.0× kameo ("spawn+stop+join per actor (2 workers)").
//! - The seed's asyncio `Actor` on CPython (`crates/bench/python/actor.py`): `tell` ≥ 3×
//!   and `ask` ≥ 15× faster ("tell vs CPython (paired)", "ask vs CPython (paired)"; the
//!   seed replies through a queue passed in the message, and a CPython actor replying
//!   through a future is shown beside it).
//!
//! Each row comes in three forms: as above, "(1 var set)" with one `ContextVar` set in the
//! sender's context, and "(no context)" with propagation off
//! ([`Builder::propagate_context`]; a handler still gets a fresh context).
//!
//! The report below meets every target, the "(1 var set)" forms included (a `tell` with
//! a var set costs ~1.1–1.2× one with an empty context: the sender counts the message's
//! values and the actor's thread drops them, one cache line moving per message). The
//! `ask` meets its CPython target against both the seed's reply-queue actor and the
//! faster reply-future one.
//!
#![doc = include_str!("../benchmarks.md")]
//!
//! Where the time goes. A tell is one raw tokio send and receive plus what an actor adds:
//! the type-erased envelope, the sender's `Snapshot`, and a fresh context around the
//! handler. What keeps that small: an envelope of up to four words lives in the mailbox
//! slot instead of a box (a box freed on the actor's thread after the sender's thread
//! allocated it was most of the gap to raw tokio); the running handler's future lives in a
//! slot of the actor's task instead of a box per message, and is called in its first poll
//! (one context entry for the call and that poll), and that context is a
//! [`contexture_ctxvar::OwnedContext`] (a map and an id: no entered flag, no published
//! version; a told message went from 823 to 751 instructions against raw tokio's 521,
//! callgrind, 2026-12-03); the system lane is peeked only when its
//! count of sends moved; an idle turn does not re-register the system lane's waker; and
//! `ask`'s usual future is just the reply's wait (no `memcpy` of a large `async` block). An
//! ask is a raw tokio round trip (`mpsc` + `oneshot`) plus the actor's work, so its lead
//! over CPython is bounded by raw tokio's own.
//!
//! # Cargo features
//!
//! None. `--cfg contexture_loom` swaps the closing flag and the end lock for loom's, for
//! the loom models of the crate's own protocol.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod actor;
mod actor_ref;
mod block;
mod core;
mod ctx;
mod envelope;
mod error;
mod exit;
mod loom;
mod mailbox;
mod registry;
mod run;
mod supervisor;

pub use actor::{Actor, Handler, StartError};
pub use actor_ref::ActorRef;
pub use ctx::{Ctx, TimerHandle};
pub use error::{AskError, InRuntime, SendError, SpawnError};
pub use exit::{ActorId, Down, ExitReason, ExitReport};
pub use mailbox::MAX_CAPACITY;
pub use registry::lookup;
pub use run::{spawn, Builder, DEFAULT_CAPACITY};
pub use supervisor::{Restart, Strategy, Supervisor, SupervisorBuilder, WeakSupervisor};

#[cfg(all(test, contexture_loom))]
mod loom_tests;
