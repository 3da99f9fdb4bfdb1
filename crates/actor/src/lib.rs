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
//! thread what the sender's thread allocated), and it is covered by unit tests under Miri. Each envelope carries a `contexture_ctxvar::Snapshot` of
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
//! `cargo xtask bench actor` (crates/bench/benches/actor.rs): ours and every anchor in one
//! process, batch by batch in a shuffled order, medians of the per-round ratios, on the
//! 2-core CI-class VM with a 2-worker tokio runtime; the actor's context propagation on
//! (the default). CPython 3.11 runs the seed's asyncio `Actor` (crates/bench/python/actor.py).
//!
//! | operation | contexture | raw tokio | ractor | kameo | actix | CPython | target | met |
//! |---|---|---|---|---|---|---|---|---|
//! | tell, 200k messages, ns/msg | 212 | 173 (mpsc + task): 1.20× | 448: 0.47× | 585: 0.35× | 206: 1.00× | 1,924: 11× faster | ≤ 1.3× tokio, ≤ 0.6× ractor, ≥ 3× CPython | yes |
//! | ask round trip, 50k sequential, ns | 862 | 760 (mpsc + oneshot): 1.13× | 1,285: 0.65× | 1,512: 0.55× | 5,436: 0.16× | 15,659 (the seed's reply queue): 13.7× faster; 12,260 (a reply future): 10.3× | ≤ 1.3× tokio, ≤ 0.7× ractor, ≥ 15× CPython | tokio, ractor: yes; CPython: no |
//! | spawn + stop + join, ns | 4,895 | 689 (task + mpsc) | 3,204: 1.24× | 5,374: 0.90× | — | — | ≤ 1.0× kameo | yes |
//!
//! Measured 2026-12-03 at 13:57 UTC with the machine's load average at 5–9 (other jobs on
//! its two cores): absolute times run high, the paired ratios are what holds. The workspace
//! report (`docs/benchmarks.md`, 14:31 UTC, with a Miri run on one of the two cores during
//! the actor part) measured tell 1.35× and ask 1.23× raw tokio, 0.57× / 0.64× ractor,
//! spawn 0.87× kameo, and the CPython ask 18.7× (seed's reply queue) / 13.5× (reply
//! future): the tell's ≤ 1.3× and the CPython ask's ≥ 15× sit on their bounds. With one
//! `ContextVar` set in the sender's context: tell 1.09×, ask 1.07×, spawn 1.04× of the
//! figures above (ask then 0.71× ractor); with propagation off 0.99×, 1.02×, 1.00× (a
//! handler still gets a fresh context). The CPython ask row is bounded by tokio's own round
//! trip: the raw tokio actor is ~16× the seed's in the same rounds.
//!
//! What got the tell from 1.66× to 1.20× raw tokio (1,083 → 764 instructions per message,
//! callgrind; raw tokio 537): a small envelope lives in the mailbox slot instead of a box
//! (the cross-thread `free` was most of the gap); the running handler's future lives in a
//! slot of the actor's task instead of a box per message, and is called in its first poll
//! (one context entry for the call and that poll); the system lane is peeked only when its
//! count of sends moved; an idle turn does not re-register the system lane's waker; and
//! `ask`'s usual future is just the reply's wait (no `memcpy` of a large `async` block).
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
