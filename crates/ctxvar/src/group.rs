//! asyncio's `TaskGroup` and `gather` on tokio (feature `tokio`): tasks spawned in copies of
//! the spawner's context, outcomes collected in spawn order, a failure cancelling the rest.
//!
//! The protocol is one mutex per group. `spawn` reserves a slot (index = spawn order) and
//! counts the task as running, spawns it, then stores its `JoinHandle` in the slot (to abort
//! it); the task itself records its outcome in its slot when it ends, and so does a drop
//! guard when tokio drops the task before it ended (an abort, a runtime shutting down): no
//! task can leave the count up, so `join` always ends. Nothing runs under the lock but
//! moves: handles to abort, replaced slots and wakers are dropped or called after it.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};

use tokio::runtime::Handle;
use tokio::task::{AbortHandle, JoinHandle};

use crate::future::{FutureExt, InContext};
use crate::loom::{Arc, Mutex};

/// How one task of a [`TaskGroup`] (or one future of [`gather`]) ended.
///
/// ```
/// use contexture_ctxvar::Outcome;
///
/// let done: Outcome<u8, &str> = Outcome::Ok(1);
/// assert!(done.is_ok() && !done.is_failure());
/// assert!(Outcome::<u8, &str>::Err("bad").is_failure());
/// assert!(Outcome::<u8, &str>::Panicked("boom".into()).is_failure());
/// assert!(!Outcome::<u8, &str>::Cancelled.is_failure());
/// assert_eq!(Outcome::<u8, &str>::Ok(3).ok(), Some(3));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Outcome<T, E> {
    /// The task returned `Ok(value)`.
    Ok(T),
    /// The task returned `Err(error)`: it failed (asyncio: it raised).
    Err(E),
    /// The task panicked; the panic's message (a non-string payload reads
    /// `"non-string panic payload"`). It failed.
    Panicked(String),
    /// The task was cancelled before it ended: because a sibling failed, because the group
    /// was dropped, or because its runtime shut down. It did not fail itself.
    Cancelled,
}

impl<T, E> Outcome<T, E> {
    /// `true` for [`Outcome::Ok`].
    ///
    /// ```
    /// assert!(contexture_ctxvar::Outcome::<u8, ()>::Ok(1).is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    /// `true` when the task failed itself: [`Outcome::Err`] or [`Outcome::Panicked`].
    ///
    /// ```
    /// assert!(contexture_ctxvar::Outcome::<u8, ()>::Err(()).is_failure());
    /// ```
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Err(_) | Outcome::Panicked(_))
    }

    /// The value of an [`Outcome::Ok`].
    ///
    /// ```
    /// assert_eq!(contexture_ctxvar::Outcome::<u8, ()>::Cancelled.ok(), None);
    /// ```
    pub fn ok(self) -> Option<T> {
        match self {
            Outcome::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// The error of an [`Outcome::Err`].
    ///
    /// ```
    /// assert_eq!(contexture_ctxvar::Outcome::<u8, &str>::Err("e").err(), Some("e"));
    /// ```
    pub fn err(self) -> Option<E> {
        match self {
            Outcome::Err(error) => Some(error),
            _ => None,
        }
    }
}

/// Without `T: Debug` or `E: Debug`: the variant, and a panic's message.
impl<T, E> fmt::Debug for Outcome<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok(_) => f.write_str("Ok(..)"),
            Outcome::Err(_) => f.write_str("Err(..)"),
            Outcome::Panicked(message) => f.debug_tuple("Panicked").field(message).finish(),
            Outcome::Cancelled => f.write_str("Cancelled"),
        }
    }
}

/// What [`TaskGroup::join`] returns when a task did not end with `Ok`: every task's
/// [`Outcome`], in spawn order (asyncio's `ExceptionGroup`, with the successful results and
/// the cancellations kept too, so nothing is lost).
///
/// ```
/// use contexture_ctxvar::{GroupError, Outcome, TaskGroup};
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let err: GroupError<u8, &str> = rt.block_on(async {
///     let mut group = TaskGroup::new().unwrap();
///     group.spawn(async { Ok(1) }).unwrap();
///     group.spawn(async { Err("bad input") }).unwrap();
///     group.spawn(std::future::pending()).unwrap(); // cancelled by the failure
///     group.join().await.unwrap_err()
/// });
/// assert_eq!(err.failures().count(), 1);
/// assert_eq!(err.errors().collect::<Vec<_>>(), [&"bad input"]);
/// assert_eq!(err.outcomes(), [Outcome::Ok(1), Outcome::Err("bad input"), Outcome::Cancelled]);
/// assert_eq!(err.to_string(), "1 of 3 tasks failed (1 cancelled)");
/// ```
pub struct GroupError<T, E> {
    outcomes: Vec<Outcome<T, E>>,
    first: Option<usize>,
}

impl<T, E> GroupError<T, E> {
    /// Every task's outcome, in spawn order.
    ///
    /// ```
    /// # use contexture_ctxvar::{Outcome, TaskGroup};
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let err = rt.block_on(async {
    ///     let mut group = TaskGroup::<u8, &str>::new().unwrap();
    ///     group.spawn(async { Err("e") }).unwrap();
    ///     group.join().await.unwrap_err()
    /// });
    /// assert_eq!(err.outcomes(), [Outcome::Err("e")]);
    /// ```
    pub fn outcomes(&self) -> &[Outcome<T, E>] {
        &self.outcomes
    }

    /// Every task's outcome, in spawn order, by value.
    ///
    /// ```
    /// # use contexture_ctxvar::{Outcome, TaskGroup};
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let err = rt.block_on(async {
    ///     let mut group = TaskGroup::<u8, &str>::new().unwrap();
    ///     group.spawn(async { Err("e") }).unwrap();
    ///     group.join().await.unwrap_err()
    /// });
    /// assert_eq!(err.into_outcomes(), vec![Outcome::Err("e")]);
    /// ```
    pub fn into_outcomes(self) -> Vec<Outcome<T, E>> {
        self.outcomes
    }

    /// The tasks that failed themselves ([`Outcome::Err`] or [`Outcome::Panicked`]) with
    /// their spawn index; cancelled tasks are not listed.
    ///
    /// ```
    /// # use contexture_ctxvar::{Outcome, TaskGroup};
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let err = rt.block_on(async {
    ///     let mut group = TaskGroup::<u8, &str>::new().unwrap();
    ///     group.spawn(async { Ok(1) }).unwrap();
    ///     group.spawn(async { Err("e") }).unwrap();
    ///     group.join().await.unwrap_err()
    /// });
    /// let failures: Vec<_> = err.failures().collect();
    /// assert_eq!(failures, [(1, &Outcome::Err("e"))]);
    /// ```
    pub fn failures(&self) -> impl Iterator<Item = (usize, &Outcome<T, E>)> + '_ {
        self.outcomes
            .iter()
            .enumerate()
            .filter(|(_, outcome)| outcome.is_failure())
    }

    /// The errors the tasks returned, in spawn order (panics are in
    /// [`failures`](GroupError::failures)).
    ///
    /// ```
    /// # use contexture_ctxvar::TaskGroup;
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let err = rt.block_on(async {
    ///     let mut group = TaskGroup::<u8, u8>::new().unwrap();
    ///     group.spawn(async { Err(1) }).unwrap();
    ///     group.join().await.unwrap_err()
    /// });
    /// assert_eq!(err.errors().copied().collect::<Vec<_>>(), [1]);
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = &E> + '_ {
        self.outcomes.iter().filter_map(|outcome| match outcome {
            Outcome::Err(error) => Some(error),
            _ => None,
        })
    }

    /// The failure that happened first in time, with its spawn index: the one that
    /// cancelled the others (what asyncio's plain `gather` raises). `None` when no task
    /// failed, only some were cancelled (their runtime shut down).
    ///
    /// ```
    /// # use contexture_ctxvar::{Outcome, TaskGroup};
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let err = rt.block_on(async {
    ///     let mut group = TaskGroup::<u8, &str>::new().unwrap();
    ///     group.spawn(std::future::pending()).unwrap();
    ///     group.spawn(async { Err("first") }).unwrap();
    ///     group.join().await.unwrap_err()
    /// });
    /// assert_eq!(err.first_failure(), Some((1, &Outcome::Err("first"))));
    /// assert_eq!(err.outcomes()[0], Outcome::Cancelled);
    /// ```
    pub fn first_failure(&self) -> Option<(usize, &Outcome<T, E>)> {
        self.first.map(|i| (i, &self.outcomes[i]))
    }

    /// How many tasks were cancelled.
    ///
    /// ```
    /// # use contexture_ctxvar::TaskGroup;
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let err = rt.block_on(async {
    ///     let mut group = TaskGroup::<u8, &str>::new().unwrap();
    ///     group.spawn(std::future::pending()).unwrap();
    ///     group.spawn(async { Err("e") }).unwrap();
    ///     group.join().await.unwrap_err()
    /// });
    /// assert_eq!(err.cancelled(), 1);
    /// ```
    pub fn cancelled(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Cancelled))
            .count()
    }
}

impl<T, E> fmt::Debug for GroupError<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("outcomes", &self.outcomes)
            .field("first_failure", &self.first)
            .finish()
    }
}

impl<T, E> fmt::Display for GroupError<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} tasks failed ({} cancelled)",
            self.failures().count(),
            self.outcomes.len(),
            self.cancelled()
        )
    }
}

impl<T, E> std::error::Error for GroupError<T, E> {}

/// A task was not spawned; the future comes back inside ([`SpawnError::into_inner`]).
///
/// ```
/// use contexture_ctxvar::{SpawnError, TaskGroup};
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let mut group = TaskGroup::<u8, &str>::new().unwrap();
///     let spawner = group.spawner();
///     group.spawn(async { Err("bad") }).unwrap();
///     tokio::task::yield_now().await; // the failing task runs
///     let err = group.spawn(async { Ok(1) }).unwrap_err();
///     assert!(matches!(err, SpawnError::ShuttingDown(_)));
///     assert_eq!(err.to_string(), "a task of the group failed: it takes no new tasks");
///     let _ = group.join().await;
///     let err = spawner.spawn(async { Ok(2) }).unwrap_err();
///     assert!(matches!(err, SpawnError::Finished(_)));
///     assert_eq!(err.into_inner().await, Ok(2));
/// });
/// ```
#[derive(thiserror::Error)]
pub enum SpawnError<F> {
    /// A task of the group failed (asyncio: "TaskGroup is shutting down").
    #[error("a task of the group failed: it takes no new tasks")]
    ShuttingDown(F),
    /// The group was joined or dropped (asyncio: "TaskGroup is finished").
    #[error("the task group was joined or dropped")]
    Finished(F),
}

impl<F> SpawnError<F> {
    /// The future that was not spawned.
    ///
    /// ```
    /// use contexture_ctxvar::SpawnError;
    /// assert_eq!(SpawnError::Finished(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> F {
        match self {
            SpawnError::ShuttingDown(f) | SpawnError::Finished(f) => f,
        }
    }
}

impl<F> fmt::Debug for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpawnError::ShuttingDown(_) => "ShuttingDown(..)",
            SpawnError::Finished(_) => "Finished(..)",
        })
    }
}

/// Called outside a tokio runtime without a runtime handle; what was handed in comes back
/// inside ([`NoRuntime::into_inner`]; `()` for [`TaskGroup::new`]).
///
/// ```
/// use contexture_ctxvar::{gather, NoRuntime, TaskGroup};
///
/// assert!(matches!(TaskGroup::<u8>::new(), Err(NoRuntime(()))));
/// let futures = vec![async { Ok::<u8, ()>(1) }];
/// let err = gather(futures).unwrap_err();
/// assert_eq!(err.to_string(), "no tokio runtime: called outside one, and no handle was given");
/// assert_eq!(err.into_inner().len(), 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no tokio runtime: called outside one, and no handle was given")]
pub struct NoRuntime<I = ()>(pub I);

impl<I> NoRuntime<I> {
    /// What was handed in.
    ///
    /// ```
    /// assert_eq!(contexture_ctxvar::NoRuntime(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> I {
        self.0
    }
}

impl<I> fmt::Debug for NoRuntime<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoRuntime(..)")
    }
}

/// One task's place in the group.
enum Slot<T, E> {
    /// Reserved by `spawn`; the task may already run, its handle is not stored yet.
    Reserved,
    /// Running; the handle aborts it.
    Running(JoinHandle<()>),
    /// Ended (or was dropped): its outcome, until `join` takes it.
    Done(Outcome<T, E>),
}

/// A joined group: every slot (all `Done`) and the first failure.
type Ended<T, E> = (Vec<Slot<T, E>>, Option<usize>);

struct State<T, E> {
    slots: Vec<Slot<T, E>>,
    /// Tasks reserved or running: `join` ends when it is 0.
    running: usize,
    /// The first task that failed, in time.
    first_failure: Option<usize>,
    /// Joined or dropped: no more spawns.
    closed: bool,
    /// The `join` waiting for `running` to reach 0.
    joiner: Option<Waker>,
}

struct Shared<T, E> {
    state: Mutex<State<T, E>>,
    /// `TaskGroup` (and `try_gather`): a failure aborts the other tasks and stops spawns.
    /// `gather`: every task runs to its end.
    cancel_on_failure: bool,
}

impl<T, E> Shared<T, E> {
    fn new(cancel_on_failure: bool) -> Arc<Shared<T, E>> {
        Arc::new(Shared {
            state: Mutex::new(State {
                slots: Vec::new(),
                running: 0,
                first_failure: None,
                closed: false,
                joiner: None,
            }),
            cancel_on_failure,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T, E>> {
        // Nothing that can panic runs under the lock; poisoning would only come from an
        // allocation failure, after which the state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Aborts every running task; called on a failure (cancelling groups) and on drop.
    fn abort_running(st: &State<T, E>) -> Vec<AbortHandle> {
        st.slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::Running(handle) => Some(handle.abort_handle()),
                _ => None,
            })
            .collect()
    }
}

/// Records a task's outcome in its slot; if the task is dropped before it ended, its drop
/// records [`Outcome::Cancelled`].
struct Completion<T, E> {
    shared: Arc<Shared<T, E>>,
    index: usize,
    done: bool,
}

impl<T, E> Completion<T, E> {
    fn finish(&mut self, outcome: Outcome<T, E>) {
        self.done = true;
        let failed = outcome.is_failure();
        let mut st = self.shared.lock();
        // The slot exists: `join` takes the slots only once every task has finished.
        let old = st
            .slots
            .get_mut(self.index)
            .map(|slot| mem::replace(slot, Slot::Done(outcome)));
        st.running -= 1;
        let mut abort = Vec::new();
        if failed && st.first_failure.is_none() {
            st.first_failure = Some(self.index);
            if self.shared.cancel_on_failure {
                abort = Shared::abort_running(&st);
            }
        }
        let joiner = if st.running == 0 {
            st.joiner.take()
        } else {
            None
        };
        drop(st);
        drop(old);
        for handle in abort {
            handle.abort();
        }
        if let Some(waker) = joiner {
            waker.wake();
        }
    }
}

impl<T, E> Drop for Completion<T, E> {
    fn drop(&mut self) {
        if !self.done {
            self.finish(Outcome::Cancelled);
        }
    }
}

pin_project_lite::pin_project! {
    /// A group's task as tokio runs it: the user's future in its own copy of the context,
    /// each poll under `catch_unwind`. Fields drop in order: the future first, then the
    /// completion (also when the future's `Drop` panics).
    struct Task<F, T, E> {
        #[pin]
        future: InContext<F>,
        completion: Completion<T, E>,
    }
}

impl<F, T, E> Future for Task<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.project();
        let future = this.future;
        let outcome = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(value))) => Outcome::Ok(value),
            Ok(Poll::Ready(Err(error))) => Outcome::Err(error),
            Err(payload) => Outcome::Panicked(panic_message(payload)),
        };
        this.completion.finish(outcome);
        Poll::Ready(())
    }
}

/// The text of a panic payload; the payload is dropped under its own guard (a payload
/// whose `Drop` panics too is leaked rather than let out).
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    };
    if let Err(nested) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
        mem::forget(nested);
    }
    message
}

/// Spawns `future` on `handle` into the group `shared`; see [`TaskGroup::spawn`].
fn spawn_into<F, T, E>(
    shared: &Arc<Shared<T, E>>,
    handle: &Handle,
    future: F,
) -> Result<usize, SpawnError<F>>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let index = {
        let mut st = shared.lock();
        if st.closed {
            return Err(SpawnError::Finished(future));
        }
        if shared.cancel_on_failure && st.first_failure.is_some() {
            return Err(SpawnError::ShuttingDown(future));
        }
        st.slots.push(Slot::Reserved);
        st.running += 1;
        st.slots.len() - 1
    };
    let task = Task {
        future: future.with_current_context(),
        completion: Completion {
            shared: Arc::clone(shared),
            index,
            done: false,
        },
    };
    // Not under the lock: on a runtime that shut down, tokio drops the task right here,
    // and its completion takes the lock.
    let join = handle.spawn(task);
    let mut st = shared.lock();
    if !matches!(st.slots.get(index), Some(Slot::Reserved)) {
        // It ended already: its outcome is in place, or `join` took it (the slots are gone).
        drop(st);
        return Ok(index);
    }
    // A sibling that failed or a drop of the group since the reservation did not see this
    // task: it is aborted here.
    let abort = st.closed || (shared.cancel_on_failure && st.first_failure.is_some());
    let abort_handle = abort.then(|| join.abort_handle());
    st.slots[index] = Slot::Running(join);
    drop(st);
    if let Some(handle) = abort_handle {
        handle.abort();
    }
    Ok(index)
}

/// asyncio's `TaskGroup` on tokio: every task runs in a copy of the context current at its
/// [`spawn`](TaskGroup::spawn); the first failure (an `Err` or a panic) cancels the other
/// tasks; [`join`](TaskGroup::join) gives every output in spawn order, or a [`GroupError`]
/// with every task's [`Outcome`]; dropping the group cancels what still runs.
///
/// ```
/// use contexture_ctxvar::{ContextVar, TaskGroup};
///
/// static REQUEST_ID: ContextVar<u32> = ContextVar::new("request_id");
/// let rt = tokio::runtime::Runtime::new().unwrap();
/// let ids = rt.block_on(async {
///     REQUEST_ID.set(7);
///     let mut group: TaskGroup<(u32, u32)> = TaskGroup::new().unwrap();
///     for shard in 0..3 {
///         group
///             .spawn_infallible(async move {
///                 tokio::task::yield_now().await;
///                 (shard, REQUEST_ID.get().unwrap())
///             })
///             .unwrap();
///     }
///     group.join().await.unwrap()
/// });
/// assert_eq!(ids, [(0, 7), (1, 7), (2, 7)]);
/// ```
///
/// Choices where asyncio and Rust differ:
///
/// - A task is a future of `Result<T, E>`: `Err` is asyncio's raised exception. A task
///   whose only failure is a panic goes in with [`spawn_infallible`](TaskGroup::spawn_infallible)
///   (and `E` defaults to [`Infallible`]). Wrapping a plain future by hand in `Ok` would do
///   the same; the method saves the noise.
/// - After a failure the group takes no new task ([`SpawnError::ShuttingDown`], the future
///   handed back), after `join` or a drop none either ([`SpawnError::Finished`]): asyncio's
///   two `RuntimeError`s.
/// - The group's body is not cancelled when a task fails (Rust has no parent task to
///   cancel); the other tasks are, at once, whether or not `join` is being awaited.
/// - Tasks spawn more tasks through a [`Spawner`] ([`spawner`](TaskGroup::spawner)),
///   cloneable and `Send`; `join` waits for them too, as asyncio's `__aexit__` does.
/// - An empty group joins at once, to `Ok(vec![])`.
/// - A task that ends with `Ok` after a sibling failed (it was already finishing) keeps its
///   output, inside the [`GroupError`].
pub struct TaskGroup<T, E = Infallible> {
    shared: Arc<Shared<T, E>>,
    handle: Handle,
}

impl<T, E> TaskGroup<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// An empty group on the tokio runtime current at the call; outside one,
    /// [`NoRuntime`].
    ///
    /// ```
    /// use contexture_ctxvar::TaskGroup;
    ///
    /// assert!(TaskGroup::<u8>::new().is_err());
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let _guard = rt.enter();
    /// assert!(TaskGroup::<u8>::new().is_ok());
    /// ```
    pub fn new() -> Result<TaskGroup<T, E>, NoRuntime> {
        Handle::try_current()
            .map(TaskGroup::with_handle)
            .map_err(|_| NoRuntime(()))
    }

    /// An empty group whose tasks run on the runtime of `handle`; `join` may be awaited on
    /// any executor.
    ///
    /// ```
    /// use contexture_ctxvar::TaskGroup;
    ///
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let mut group = TaskGroup::<u8>::with_handle(rt.handle().clone());
    /// group.spawn_infallible(async { 1 }).unwrap();
    /// assert_eq!(futures::executor::block_on(group.join()).unwrap(), [1]);
    /// ```
    pub fn with_handle(handle: Handle) -> TaskGroup<T, E> {
        TaskGroup {
            shared: Shared::new(true),
            handle,
        }
    }

    fn cancel_free(handle: Handle) -> TaskGroup<T, E> {
        TaskGroup {
            shared: Shared::new(false),
            handle,
        }
    }

    /// Spawns `future` in a copy of the current context, taken now; returns its index in
    /// `join`'s output. After a task failed: [`SpawnError::ShuttingDown`] with the future.
    ///
    /// ```
    /// use contexture_ctxvar::TaskGroup;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let mut group = TaskGroup::<u8, String>::new().unwrap();
    ///     assert_eq!(group.spawn(async { Ok(1) }).unwrap(), 0);
    ///     assert_eq!(group.spawn(async { Ok(2) }).unwrap(), 1);
    ///     assert_eq!(group.join().await.unwrap(), [1, 2]);
    /// });
    /// ```
    pub fn spawn<F>(&mut self, future: F) -> Result<usize, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        spawn_into(&self.shared, &self.handle, future)
    }

    /// Spawns a future that cannot fail but by panicking; as [`spawn`](TaskGroup::spawn)
    /// with its output wrapped in `Ok`.
    ///
    /// ```
    /// use contexture_ctxvar::{Outcome, TaskGroup};
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let mut group = TaskGroup::<u8>::new().unwrap();
    ///     group.spawn_infallible(async { 1 }).unwrap();
    ///     group.spawn_infallible(async { panic!("boom") }).unwrap();
    ///     let err = group.join().await.unwrap_err();
    ///     assert_eq!(err.outcomes()[1], Outcome::Panicked("boom".into()));
    /// });
    /// ```
    pub fn spawn_infallible<F>(&mut self, future: F) -> Result<usize, SpawnError<F>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        spawn_ok(&self.shared, &self.handle, future)
    }

    /// A handle that spawns into this group from anywhere, e.g. from inside its tasks.
    ///
    /// ```
    /// use contexture_ctxvar::TaskGroup;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let mut group = TaskGroup::<u8>::new().unwrap();
    ///     let spawner = group.spawner();
    ///     group
    ///         .spawn_infallible(async move {
    ///             spawner.spawn_infallible(async { 2 }).unwrap();
    ///             1
    ///         })
    ///         .unwrap();
    ///     assert_eq!(group.join().await.unwrap(), [1, 2]);
    /// });
    /// ```
    pub fn spawner(&self) -> Spawner<T, E> {
        Spawner {
            shared: Arc::clone(&self.shared),
            handle: self.handle.clone(),
        }
    }

    /// How many tasks were spawned into the group (by it and by its spawners).
    ///
    /// ```
    /// use contexture_ctxvar::TaskGroup;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let _guard = rt.enter();
    /// let mut group = TaskGroup::<u8>::new().unwrap();
    /// assert!(group.is_empty());
    /// group.spawn_infallible(async { 1 }).unwrap();
    /// assert_eq!(group.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.lock().slots.len()
    }

    /// `true` when no task was spawned.
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # let _guard = rt.enter();
    /// assert!(contexture_ctxvar::TaskGroup::<u8>::new().unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` once a task failed (an `Err` or a panic).
    ///
    /// ```
    /// use contexture_ctxvar::TaskGroup;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let mut group = TaskGroup::<u8, ()>::new().unwrap();
    ///     group.spawn(async { Err(()) }).unwrap();
    ///     assert!(!group.has_failed());
    ///     tokio::task::yield_now().await;
    ///     assert!(group.has_failed());
    /// });
    /// ```
    pub fn has_failed(&self) -> bool {
        self.shared.lock().first_failure.is_some()
    }

    /// Waits for every task, those spawned meanwhile included; `Ok` with every output in
    /// spawn order when all returned `Ok`, else a [`GroupError`] with every outcome.
    /// Dropping the returned future drops the group: what still runs is cancelled.
    ///
    /// It ends at the first moment no task of the group runs; a [`Spawner`] used after that
    /// gets [`SpawnError::Finished`]. As with asyncio's `__aexit__`, a spawner that never
    /// stops spawning keeps `join` waiting.
    ///
    /// ```
    /// use contexture_ctxvar::TaskGroup;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let group = TaskGroup::<u8>::new().unwrap();
    ///     assert_eq!(group.join().await.unwrap(), []);
    /// });
    /// ```
    pub fn join(self) -> Join<T, E> {
        Join { group: Some(self) }
    }

    /// Every slot, once no task runs any more; the group is closed then.
    fn poll_slots(&self, cx: &mut TaskContext<'_>) -> Poll<Ended<T, E>> {
        let mut st = self.shared.lock();
        if st.running > 0 {
            let old = match &st.joiner {
                Some(waker) if waker.will_wake(cx.waker()) => None,
                _ => st.joiner.replace(cx.waker().clone()),
            };
            drop(st);
            drop(old);
            return Poll::Pending;
        }
        st.closed = true;
        let slots = mem::take(&mut st.slots);
        let first = st.first_failure;
        let old = st.joiner.take();
        drop(st);
        drop(old);
        Poll::Ready((slots, first))
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.closed = true;
        let abort = if st.running > 0 {
            Shared::abort_running(&st)
        } else {
            Vec::new()
        };
        drop(st);
        for handle in abort {
            handle.abort();
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("TaskGroup")
            .field("tasks", &st.slots.len())
            .field("running", &st.running)
            .field("failed", &st.first_failure.is_some())
            .finish_non_exhaustive()
    }
}

/// Spawns into a [`TaskGroup`] from anywhere (a task of the group, another thread);
/// cloneable. From [`TaskGroup::spawner`].
///
/// ```
/// use contexture_ctxvar::TaskGroup;
///
/// let rt = tokio::runtime::Runtime::new().unwrap();
/// let (spawner, group) = {
///     let group = TaskGroup::<u8>::with_handle(rt.handle().clone());
///     (group.spawner(), group)
/// };
/// std::thread::spawn(move || spawner.spawn_infallible(async { 5 }).unwrap())
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(group.join()).unwrap(), [5]);
/// ```
pub struct Spawner<T, E = Infallible> {
    shared: Arc<Shared<T, E>>,
    handle: Handle,
}

impl<T, E> Spawner<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// As [`TaskGroup::spawn`]; after the group was joined or dropped,
    /// [`SpawnError::Finished`].
    ///
    /// ```
    /// use contexture_ctxvar::{SpawnError, TaskGroup};
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let _guard = rt.enter();
    /// let group = TaskGroup::<u8, ()>::new().unwrap();
    /// let spawner = group.spawner();
    /// drop(group);
    /// assert!(matches!(spawner.spawn(async { Ok(1) }), Err(SpawnError::Finished(_))));
    /// ```
    pub fn spawn<F>(&self, future: F) -> Result<usize, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        spawn_into(&self.shared, &self.handle, future)
    }

    /// As [`TaskGroup::spawn_infallible`].
    ///
    /// ```
    /// use contexture_ctxvar::TaskGroup;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let group = TaskGroup::<u8>::new().unwrap();
    ///     group.spawner().spawn_infallible(async { 4 }).unwrap();
    ///     assert_eq!(group.join().await.unwrap(), [4]);
    /// });
    /// ```
    pub fn spawn_infallible<F>(&self, future: F) -> Result<usize, SpawnError<F>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        spawn_ok(&self.shared, &self.handle, future)
    }
}

/// Spawns `future` with its output wrapped in `Ok`; a refused future comes back unwrapped.
fn spawn_ok<F, T, E>(
    shared: &Arc<Shared<T, E>>,
    handle: &Handle,
    future: F,
) -> Result<usize, SpawnError<F>>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let wrapped = OkFuture {
        future,
        _error: std::marker::PhantomData,
    };
    spawn_into(shared, handle, wrapped).map_err(|err| match err {
        SpawnError::ShuttingDown(ok) => SpawnError::ShuttingDown(ok.into_inner()),
        SpawnError::Finished(ok) => SpawnError::Finished(ok.into_inner()),
    })
}

pin_project_lite::pin_project! {
    /// `future`'s output in `Ok`.
    struct OkFuture<F, E> {
        #[pin]
        future: F,
        _error: std::marker::PhantomData<fn() -> E>,
    }
}

impl<F, E> OkFuture<F, E> {
    fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future, E> Future for OkFuture<F, E> {
    type Output = Result<F::Output, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.project().future.poll(cx).map(Ok)
    }
}

impl<T, E> Clone for Spawner<T, E> {
    fn clone(&self) -> Self {
        Spawner {
            shared: Arc::clone(&self.shared),
            handle: self.handle.clone(),
        }
    }
}

impl<T, E> fmt::Debug for Spawner<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner").finish_non_exhaustive()
    }
}

/// The future of [`TaskGroup::join`] (and of [`try_gather`]).
///
/// ```
/// use contexture_ctxvar::{Join, TaskGroup};
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let _guard = rt.enter();
/// let join: Join<u8, ()> = TaskGroup::new().unwrap().join();
/// assert_eq!(rt.block_on(join).unwrap(), []);
/// ```
#[must_use = "futures do nothing unless polled; dropping this cancels the group's tasks"]
pub struct Join<T, E> {
    group: Option<TaskGroup<T, E>>,
}

impl<T, E> Join<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    fn poll_outcomes(&mut self, cx: &mut TaskContext<'_>) -> Poll<Ended<T, E>> {
        let group = self.group.as_ref().expect("Join polled after completion");
        let ready = group.poll_slots(cx);
        if ready.is_ready() {
            self.group = None;
        }
        ready
    }
}

/// `Slot`s of a closed group are all `Done`.
fn into_outcome<T, E>(slot: Slot<T, E>) -> Outcome<T, E> {
    match slot {
        Slot::Done(outcome) => outcome,
        // Unreachable: `running` was 0. Counted as cancelled rather than a panic.
        Slot::Reserved | Slot::Running(_) => Outcome::Cancelled,
    }
}

impl<T, E> Future for Join<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    type Output = Result<Vec<T>, GroupError<T, E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let (slots, first) = match self.poll_outcomes(cx) {
            Poll::Ready(ready) => ready,
            Poll::Pending => return Poll::Pending,
        };
        let all_ok = slots
            .iter()
            .all(|slot| matches!(slot, Slot::Done(Outcome::Ok(_))));
        if all_ok {
            let values = slots
                .into_iter()
                .filter_map(|slot| into_outcome(slot).ok())
                .collect();
            return Poll::Ready(Ok(values));
        }
        Poll::Ready(Err(GroupError {
            outcomes: slots.into_iter().map(into_outcome).collect(),
            first,
        }))
    }
}

impl<T, E> fmt::Debug for Join<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("done", &self.group.is_none())
            .finish_non_exhaustive()
    }
}

/// The future of [`gather`]: every outcome, in order.
///
/// ```
/// use contexture_ctxvar::{gather, Gather, Outcome};
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let _guard = rt.enter();
/// let all: Gather<u8, ()> = gather([async { Ok(1) }]).unwrap();
/// assert_eq!(rt.block_on(all), [Outcome::Ok(1)]);
/// ```
#[must_use = "futures do nothing unless polled; dropping this cancels the tasks"]
pub struct Gather<T, E> {
    join: Join<T, E>,
}

impl<T, E> Future for Gather<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    type Output = Vec<Outcome<T, E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.join
            .poll_outcomes(cx)
            .map(|(slots, _)| slots.into_iter().map(into_outcome).collect())
    }
}

impl<T, E> fmt::Debug for Gather<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather").field("join", &self.join).finish()
    }
}

/// Spawns every future now, each in a copy of the current context, on the current tokio
/// runtime, and resolves to every [`Outcome`] in order (asyncio's
/// `gather(..., return_exceptions=True)`): a failure cancels nothing. Dropping the
/// [`Gather`] before it resolves cancels the tasks still running. Outside a runtime,
/// [`NoRuntime`] with the futures, none spawned.
///
/// ```
/// use contexture_ctxvar::{gather, ContextVar, Outcome};
///
/// static USER: ContextVar<&str> = ContextVar::new("user");
/// let rt = tokio::runtime::Runtime::new().unwrap();
/// let outcomes = rt.block_on(async {
///     USER.set("ann");
///     let fetch = |n: u32| async move {
///         if n == 2 {
///             return Err(format!("{} has no item {n}", USER.get().unwrap()));
///         }
///         Ok(n * 10)
///     };
///     gather((1..=3).map(fetch)).unwrap().await
/// });
/// assert_eq!(
///     outcomes,
///     [Outcome::Ok(10), Outcome::Err("ann has no item 2".into()), Outcome::Ok(30)]
/// );
/// ```
pub fn gather<I, F, T, E>(futures: I) -> Result<Gather<T, E>, NoRuntime<I>>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let Ok(handle) = Handle::try_current() else {
        return Err(NoRuntime(futures));
    };
    let group = TaskGroup::cancel_free(handle);
    spawn_all(&group, futures);
    Ok(Gather { join: group.join() })
}

/// asyncio's plain `gather` with cancellation: spawns every future now, each in a copy of
/// the current context; resolves to every output in order, or, at the first failure,
/// cancels the others and resolves to a [`GroupError`] whose
/// [`first_failure`](GroupError::first_failure) is what asyncio would raise. This is a
/// [`TaskGroup`] filled at once.
///
/// ```
/// use contexture_ctxvar::{try_gather, Outcome};
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let ok = try_gather((1..=3).map(|n| async move { Ok::<_, String>(n) }));
///     assert_eq!(ok.unwrap().await.unwrap(), [1, 2, 3]);
///     let tasks: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>> = vec![
///         Box::pin(std::future::pending()),
///         Box::pin(async { Err("no") }),
///     ];
///     let err = try_gather(tasks).unwrap().await.unwrap_err();
///     assert_eq!(err.first_failure(), Some((1, &Outcome::<u8, _>::Err("no"))));
/// });
/// ```
pub fn try_gather<I, F, T, E>(futures: I) -> Result<Join<T, E>, NoRuntime<I>>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let Ok(handle) = Handle::try_current() else {
        return Err(NoRuntime(futures));
    };
    let group = TaskGroup::with_handle(handle);
    spawn_all(&group, futures);
    Ok(group.join())
}

/// Spawns every future into a fresh `group`; one refused (a failure already happened) is
/// recorded as cancelled, in its place.
fn spawn_all<I, F, T, E>(group: &TaskGroup<T, E>, futures: I)
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let futures = futures.into_iter();
    group.shared.lock().slots.reserve(futures.size_hint().0);
    for future in futures {
        if spawn_into(&group.shared, &group.handle, future).is_err() {
            // Only `ShuttingDown` can happen (the group is not closed): keep the order.
            let mut st = group.shared.lock();
            st.slots.push(Slot::Done(Outcome::Cancelled));
        }
    }
}
