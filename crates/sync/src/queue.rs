//! The queue family of Python's `queue` module: [`Queue`] (FIFO), [`LifoQueue`] and
//! [`PriorityQueue`], one generic implementation over a small storage trait.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
#[cfg(feature = "async")]
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
#[cfg(feature = "async")]
use std::pin::Pin;
use std::task::Waker;
#[cfg(feature = "async")]
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::{GetError, PutError, TaskDoneError};
use crate::loom::{AtomicUsize, Ordering, SpinWait};
use crate::mutex::{Mutex, MutexGuard};
use crate::parking::{
    self, FilterOp, ParkResult, UnparkResult, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN,
};
use crate::waitlist::{self, WaitList};

/// Spin (without the lock) before parking. Off under loom, where spinning only adds
/// interleavings without exploring anything new.
const SPIN: bool = cfg!(not(contexture_loom));

/// A panic payload, caught from user code (a `PriorityQueue` item's `Ord`) and resumed
/// once the queue is consistent again and its lock released.
type Panic = Box<dyn Any + Send + 'static>;

/// How the items are kept: the one thing the three queue kinds differ in.
pub(crate) trait Storage<T> {
    fn new() -> Self;
    fn len(&self) -> usize;
    /// Adds `item`. `Err`: user code (`Ord`) panicked, but the item was kept all the same.
    fn push(&mut self, item: T) -> Result<(), Panic>;
    /// Removes the next item. `Err`: user code (`Ord`) panicked and nothing was removed.
    fn pop(&mut self) -> Result<Option<T>, Panic>;
    /// Removes every item, in the order `pop` would have returned them (if that order
    /// cannot be computed because `Ord` panics, in insertion order). Never panics.
    fn drain_all(&mut self) -> Vec<T>;
}

/// First in, first out.
pub(crate) struct Fifo<T>(VecDeque<T>);

impl<T> Storage<T> for Fifo<T> {
    fn new() -> Self {
        Fifo(VecDeque::new())
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn push(&mut self, item: T) -> Result<(), Panic> {
        self.0.push_back(item);
        Ok(())
    }
    fn pop(&mut self) -> Result<Option<T>, Panic> {
        Ok(self.0.pop_front())
    }
    fn drain_all(&mut self) -> Vec<T> {
        self.0.drain(..).collect()
    }
}

/// Last in, first out.
pub(crate) struct Lifo<T>(Vec<T>);

impl<T> Storage<T> for Lifo<T> {
    fn new() -> Self {
        Lifo(Vec::new())
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn push(&mut self, item: T) -> Result<(), Panic> {
        self.0.push(item);
        Ok(())
    }
    fn pop(&mut self) -> Result<Option<T>, Panic> {
        Ok(self.0.pop())
    }
    fn drain_all(&mut self) -> Vec<T> {
        let mut items = std::mem::take(&mut self.0);
        items.reverse();
        items
    }
}

/// An item and its insertion number (which breaks ties: equal items in insertion order).
struct Entry<T> {
    item: T,
    seq: u64,
}

impl<T: Ord> Entry<T> {
    /// Whether `self` comes out before `other`: the smaller item, or among equal items the
    /// earlier put. Runs the user's `Ord`, which may panic.
    fn before(&self, other: &Self) -> bool {
        match self.item.cmp(&other.item) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => false,
            std::cmp::Ordering::Equal => self.seq < other.seq,
        }
    }
}

/// Smallest first; equal items in insertion order (a sequence number breaks ties).
///
/// A binary min-heap of our own rather than `BinaryHeap`, because the user's `Ord` may
/// panic and `BinaryHeap::pop` then drops the item it was returning. Here the heap is
/// rearranged by swaps only, so a panic at any comparison leaves every item in the vector;
/// `pop` puts back the item it took; and the heap is marked `dirty` (its order may be
/// broken) and rebuilt before its next use (hardening issue #11, item 9).
pub(crate) struct Priority<T> {
    /// A min-heap by [`Entry::before`], unless `dirty`.
    heap: Vec<Entry<T>>,
    /// 2^64 puts would take centuries.
    next_seq: u64,
    /// An `Ord` panicked mid-rearrangement: the heap order may be broken.
    dirty: bool,
}

impl<T: Ord> Priority<T> {
    fn sift_up(heap: &mut [Entry<T>], mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            if !heap[at].before(&heap[parent]) {
                break;
            }
            heap.swap(at, parent);
            at = parent;
        }
    }

    fn sift_down(heap: &mut [Entry<T>], mut at: usize) {
        loop {
            let left = 2 * at + 1;
            if left >= heap.len() {
                break;
            }
            let right = left + 1;
            let child = if right < heap.len() && heap[right].before(&heap[left]) {
                right
            } else {
                left
            };
            if !heap[child].before(&heap[at]) {
                break;
            }
            heap.swap(at, child);
            at = child;
        }
    }

    /// Runs `f` on the heap; if the user's `Ord` panics in it, marks the heap `dirty` and
    /// returns the panic (every item is still in the vector: `f` only swaps).
    fn guarded(&mut self, f: impl FnOnce(&mut [Entry<T>])) -> Result<(), Panic> {
        let heap = &mut self.heap;
        // AssertUnwindSafe: after a panic the heap holds every item (swaps only), and
        // `dirty` records that its order may be broken.
        let result = panic::catch_unwind(AssertUnwindSafe(|| f(heap)));
        if result.is_err() {
            self.dirty = true;
        }
        result
    }

    /// Restores the heap order after a panic (a full rebuild), if needed.
    fn heal(&mut self) -> Result<(), Panic> {
        if self.dirty {
            self.guarded(|heap| {
                for at in (0..heap.len() / 2).rev() {
                    Self::sift_down(heap, at);
                }
            })?;
            self.dirty = false;
        }
        Ok(())
    }
}

impl<T: Ord> Storage<T> for Priority<T> {
    fn new() -> Self {
        Priority {
            heap: Vec::new(),
            next_seq: 0,
            dirty: false,
        }
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
    fn push(&mut self, item: T) -> Result<(), Panic> {
        let seq = self.next_seq;
        self.next_seq += 1;
        // In first: whatever the comparisons do, the item is kept.
        self.heap.push(Entry { item, seq });
        if self.dirty {
            return self.heal();
        }
        self.guarded(|heap| Self::sift_up(heap, heap.len() - 1))
    }
    fn pop(&mut self) -> Result<Option<T>, Panic> {
        self.heal()?;
        let Some(last) = self.heap.len().checked_sub(1) else {
            return Ok(None);
        };
        self.heap.swap(0, last);
        let Some(entry) = self.heap.pop() else {
            return Ok(None);
        };
        match self.guarded(|heap| Self::sift_down(heap, 0)) {
            Ok(()) => Ok(Some(entry.item)),
            Err(payload) => {
                // Nothing removed: the item goes back (the heap is `dirty` already).
                self.heap.push(entry);
                Err(payload)
            }
        }
    }
    fn drain_all(&mut self) -> Vec<T> {
        let mut entries = std::mem::take(&mut self.heap);
        self.dirty = false;
        // AssertUnwindSafe: a panicking comparison leaves every entry in the slice (std's
        // sort guarantees it); we then fall back to insertion order, which needs no `Ord`.
        let sorted = panic::catch_unwind(AssertUnwindSafe(|| {
            entries.sort_unstable_by(|a, b| a.item.cmp(&b.item).then(a.seq.cmp(&b.seq)));
        }));
        if sorted.is_err() {
            entries.sort_unstable_by_key(|entry| entry.seq);
        }
        entries.into_iter().map(|entry| entry.item).collect()
    }
}

/// What the lock guards.
struct Inner<S> {
    items: S,
    /// Items put and not yet marked done (Python's `unfinished_tasks`).
    unfinished: usize,
    shutdown: bool,
    /// Tasks waiting in `get_async`, `put_async`, `join_async` (async faces): under the
    /// queue lock, like the thread counters they stand beside.
    async_getters: WaitList,
    async_putters: WaitList,
    async_joiners: WaitList,
}

/// The shared implementation: a small mutex-protected store, and three parking keys (the
/// addresses of the three waiter counters) for getters, putters and joiners.
pub(crate) struct Core<T, S> {
    state: Mutex<Inner<S>>,
    /// `maxsize`, or `usize::MAX` for an unbounded queue.
    limit: usize,
    maxsize: usize,
    /// The number of items, written under the lock: read without it by `qsize` and by
    /// spinning getters/putters (a hint only; every decision is re-made under the lock).
    len: AtomicUsize,
    /// Parked getters (their key is this field's address). Each waiter counter is raised
    /// under the lock by a thread about to park, and lowered under the parking queue lock
    /// by whoever removes it from the queue (its waker, or its own timeout); so, read under
    /// the lock, it is at least the number of threads parked, and `0` means nobody to wake.
    getters: AtomicUsize,
    /// Parked putters (key: this field's address).
    putters: AtomicUsize,
    /// Parked `join` callers (key: this field's address).
    joiners: AtomicUsize,
    _items: PhantomData<fn(T) -> T>,
}

impl<T, S> Core<T, S> {
    fn qsize(&self) -> usize {
        // Relaxed: a snapshot.
        self.len.load(Ordering::Relaxed)
    }
}

impl<T, S: Storage<T>> Core<T, S> {
    fn new(maxsize: usize) -> Self {
        Core {
            state: Mutex::new(Inner {
                items: S::new(),
                unfinished: 0,
                shutdown: false,
                async_getters: WaitList::new(),
                async_putters: WaitList::new(),
                async_joiners: WaitList::new(),
            }),
            limit: if maxsize == 0 { usize::MAX } else { maxsize },
            maxsize,
            len: AtomicUsize::new(0),
            getters: AtomicUsize::new(0),
            putters: AtomicUsize::new(0),
            joiners: AtomicUsize::new(0),
            _items: PhantomData,
        }
    }

    /// `wait`: `None` never waits; `Some(None)` waits forever; `Some(Some(d))` until `d`.
    fn put(&self, item: T, wait: Option<Option<Instant>>) -> Result<(), PutError<T>> {
        let mut st = self.state.lock();
        let mut spun = !SPIN;
        let mut timed_out = false;
        loop {
            // Shut down wins over full, as in Python.
            if st.shutdown {
                return Err(PutError::ShutDown(item));
            }
            if st.items.len() < self.limit {
                // Kept and counted even if the item's `Ord` panics (the panic is resumed
                // below, once the queue is consistent and unlocked).
                let pushed = st.items.push(item);
                st.unfinished += 1;
                // Relaxed: a hint for spinners and `qsize`.
                self.len.store(st.items.len(), Ordering::Relaxed);
                self.after_put(st);
                if let Err(payload) = pushed {
                    panic::resume_unwind(payload);
                }
                return Ok(());
            }
            let Some(deadline) = wait else {
                return Err(PutError::Full(item));
            };
            if timed_out || deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(PutError::Full(item));
            }
            (st, timed_out) = self.block(st, &self.putters, deadline, &mut spun, |len| {
                len >= self.limit
            });
        }
    }

    /// `wait` as for `put`.
    fn get(&self, wait: Option<Option<Instant>>) -> Result<T, GetError> {
        let mut st = self.state.lock();
        let mut spun = !SPIN;
        let mut timed_out = false;
        loop {
            let popped = match st.items.pop() {
                Ok(popped) => popped,
                Err(payload) => {
                    // The item's `Ord` panicked: nothing was removed, nothing changed.
                    drop(st);
                    panic::resume_unwind(payload);
                }
            };
            if let Some(item) = popped {
                // Relaxed: a hint for spinners and `qsize`.
                self.len.store(st.items.len(), Ordering::Relaxed);
                self.after_get(st);
                return Ok(item);
            }
            if st.shutdown {
                return Err(GetError::ShutDown);
            }
            let Some(deadline) = wait else {
                return Err(GetError::Empty);
            };
            if timed_out || deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(GetError::Empty);
            }
            (st, timed_out) = self.block(st, &self.getters, deadline, &mut spun, |len| len == 0);
        }
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut st = self.state.lock();
        if st.unfinished == 0 {
            return Err(TaskDoneError);
        }
        st.unfinished -= 1;
        // Relaxed: joiners raise it under the lock we hold.
        let wake = st.unfinished == 0 && self.joiners.load(Ordering::Relaxed) != 0;
        let mut wakers = Vec::new();
        if st.unfinished == 0 {
            st.async_joiners.notify_all(&mut wakers);
        }
        drop(st);
        if wake {
            self.wake_all(&self.joiners);
        }
        waitlist::wake_all(wakers);
        Ok(())
    }

    fn join(&self) {
        let mut st = self.state.lock();
        while st.unfinished != 0 {
            // Relaxed: read by others under the lock we hold.
            self.joiners.fetch_add(1, Ordering::Relaxed);
            // SAFETY: the key is our own `joiners` field; the callbacks do nothing (no
            // deadline, so `timed_out` never runs).
            unsafe {
                st.park(
                    self.key(&self.joiners),
                    || true,
                    |_, _| {},
                    DEFAULT_PARK_TOKEN,
                    None,
                )
            };
            st = self.state.lock();
        }
    }

    fn shutdown(&self, immediate: bool) -> Vec<T> {
        let mut st = self.state.lock();
        st.shutdown = true;
        let discarded = if immediate {
            let items = st.items.drain_all();
            st.unfinished = st.unfinished.saturating_sub(items.len());
            self.len.store(0, Ordering::Relaxed);
            items
        } else {
            Vec::new()
        };
        // Relaxed: all three are raised under the lock we hold.
        let joiners = st.unfinished == 0 && self.joiners.load(Ordering::Relaxed) != 0;
        let getters = self.getters.load(Ordering::Relaxed) != 0;
        let putters = self.putters.load(Ordering::Relaxed) != 0;
        let mut wakers = Vec::new();
        if st.unfinished == 0 {
            st.async_joiners.notify_all(&mut wakers);
        }
        st.async_getters.notify_all(&mut wakers);
        st.async_putters.notify_all(&mut wakers);
        drop(st);
        waitlist::wake_all(wakers);
        if joiners {
            self.wake_all(&self.joiners);
        }
        if getters {
            self.wake_all(&self.getters);
        }
        if putters {
            self.wake_all(&self.putters);
        }
        // Dropped (if the caller drops them) outside the lock.
        discarded
    }

    fn is_shutdown(&self) -> bool {
        self.state.lock().shutdown
    }

    /// One blocking step of `put`/`get`, for a thread that found the queue full/empty:
    /// the first time, spin without the lock while `blocked(len)` holds; after that, count
    /// itself in `waiters` and park on that counter's key until woken or `deadline`. The
    /// count is raised under the lock, so a `put`/`get` that changes the queue always sees
    /// it. Returns the lock, re-taken, and whether the park timed out (the caller then looks
    /// once more, as Python's loop does, and gives up).
    fn block<'a>(
        &'a self,
        st: MutexGuard<'a, Inner<S>>,
        waiters: &AtomicUsize,
        deadline: Option<Instant>,
        spun: &mut bool,
        blocked: impl Fn(usize) -> bool,
    ) -> (MutexGuard<'a, Inner<S>>, bool) {
        if !*spun {
            *spun = true;
            drop(st);
            let mut spin = SpinWait::new();
            // Relaxed: `len` is only a hint; the decision is re-made under the lock.
            while blocked(self.len.load(Ordering::Relaxed)) && spin.spin() {}
            return (self.state.lock(), false);
        }
        // Relaxed: read by others under the lock we hold.
        waiters.fetch_add(1, Ordering::Relaxed);
        let timed_out_cb = |_, _| {
            waiters.fetch_sub(1, Ordering::Relaxed);
        };
        // SAFETY: the key is one of our own counter fields; the callbacks only use atomics,
        // cannot panic and do not call into the parking layer.
        let result = unsafe {
            st.park(
                self.key(waiters),
                || true,
                timed_out_cb,
                // Orders us among the waiting tasks.
                waitlist::park_token(waitlist::next_ticket()),
                deadline,
            )
        };
        (self.state.lock(), result == ParkResult::TimedOut)
    }

    fn key(&self, waiters: &AtomicUsize) -> usize {
        waiters as *const AtomicUsize as usize
    }

    /// After an item went in (lock held): wakes the oldest getter, thread or task, if one
    /// waits; releases the lock.
    #[inline]
    fn after_put(&self, mut st: MutexGuard<'_, Inner<S>>) {
        if st.async_getters.has_waiting() {
            let waker = self.wake_one_mixed(&self.getters, &mut st.async_getters);
            drop(st);
            waitlist::wake(waker);
            return;
        }
        // Relaxed: getters raise it under the lock we hold.
        let wake = self.getters.load(Ordering::Relaxed) != 0;
        drop(st);
        if wake {
            self.wake_one(&self.getters);
        }
    }

    /// After an item came out (lock held): wakes the oldest putter, thread or task, if one
    /// waits; releases the lock.
    #[inline]
    fn after_get(&self, mut st: MutexGuard<'_, Inner<S>>) {
        if st.async_putters.has_waiting() {
            let waker = self.wake_one_mixed(&self.putters, &mut st.async_putters);
            drop(st);
            waitlist::wake(waker);
            return;
        }
        // Relaxed: putters raise it under the lock we hold.
        let wake = self.putters.load(Ordering::Relaxed) != 0;
        drop(st);
        if wake {
            self.wake_one(&self.putters);
        }
    }

    /// With tasks waiting (the queue lock held): wakes the first parked thread of
    /// `waiters`' key if it took its ticket before the first waiting task of `tasks`, else
    /// notifies that task and returns its waker (to wake once the lock is released).
    #[cold]
    fn wake_one_mixed(&self, waiters: &AtomicUsize, tasks: &mut WaitList) -> Option<Waker> {
        let first_task = tasks.first_waiting();
        let mut thread_woken = false;
        // Relaxed: raised under the lock we hold.
        if waiters.load(Ordering::Relaxed) != 0 {
            let mut first = true;
            let filter = |token| {
                if std::mem::take(&mut first) && waitlist::token_ticket(token) < first_task {
                    FilterOp::Unpark
                } else {
                    FilterOp::Stop
                }
            };
            let callback = |result: UnparkResult| {
                if result.unparked_threads != 0 {
                    thread_woken = true;
                    waiters.fetch_sub(1, Ordering::Relaxed);
                }
                DEFAULT_UNPARK_TOKEN
            };
            // SAFETY: the key is one of our own counter fields; the filter and callback only
            // use locals and an atomic, cannot panic and do not call into the parking layer.
            // (The woken thread will wait for the queue lock we hold: only on this mixed
            // path, where the choice needs both queues.)
            unsafe { parking::unpark_filter(self.key(waiters), filter, callback) };
        }
        if thread_woken {
            None
        } else {
            tasks.notify_first()
        }
    }

    /// One poll of `get_async`.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn poll_get(
        &self,
        ticket: &mut Option<u64>,
        waker: &Waker,
    ) -> Option<Result<T, GetError>> {
        let mut st = self.state.lock();
        let popped = match st.items.pop() {
            Ok(popped) => popped,
            Err(payload) => {
                // The item's `Ord` panicked: nothing was removed; our entry stays, as if
                // we had not looked (the future is dropped while unwinding, or polled again).
                drop(st);
                panic::resume_unwind(payload);
            }
        };
        if let Some(item) = popped {
            // Our wake-up, if we had one, is used by this item.
            st.async_getters.remove(ticket);
            // Relaxed: a hint for spinners and `qsize`.
            self.len.store(st.items.len(), Ordering::Relaxed);
            self.after_get(st);
            return Some(Ok(item));
        }
        if st.shutdown {
            st.async_getters.remove(ticket);
            return Some(Err(GetError::ShutDown));
        }
        st.async_getters.register(ticket, waker);
        None
    }

    /// One poll of `put_async`; `item` is taken when it goes in or comes back in the error.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn poll_put(
        &self,
        item: &mut Option<T>,
        ticket: &mut Option<u64>,
        waker: &Waker,
    ) -> Option<Result<(), PutError<T>>> {
        let mut st = self.state.lock();
        let Some(value) = item.take() else {
            // Polled after completion: the item already went in (or came back).
            return Some(Ok(()));
        };
        if st.shutdown {
            st.async_putters.remove(ticket);
            drop(st);
            return Some(Err(PutError::ShutDown(value)));
        }
        if st.items.len() < self.limit {
            st.async_putters.remove(ticket);
            let pushed = st.items.push(value);
            st.unfinished += 1;
            // Relaxed: a hint for spinners and `qsize`.
            self.len.store(st.items.len(), Ordering::Relaxed);
            self.after_put(st);
            if let Err(payload) = pushed {
                panic::resume_unwind(payload);
            }
            return Some(Ok(()));
        }
        *item = Some(value);
        st.async_putters.register(ticket, waker);
        None
    }

    /// A pending `get_async` is dropped: leaves the list, handing a wake-up it was sent to
    /// the next getter if the item it was meant for is still there.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn cancel_get(&self, ticket: &mut Option<u64>) {
        let mut st = self.state.lock();
        if st.async_getters.remove(ticket) && st.items.len() != 0 {
            self.after_put(st);
        }
    }

    /// A pending `put_async` is dropped (its item with it, after this returns): leaves
    /// the list, handing a wake-up it was sent to the next putter if the room is still
    /// there.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn cancel_put(&self, ticket: &mut Option<u64>) {
        let mut st = self.state.lock();
        if st.async_putters.remove(ticket) && st.items.len() < self.limit {
            self.after_get(st);
        }
    }

    /// One poll of `join_async`.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn poll_join(&self, ticket: &mut Option<u64>, waker: &Waker) -> bool {
        let mut st = self.state.lock();
        if st.unfinished == 0 {
            st.async_joiners.remove(ticket);
            return true;
        }
        st.async_joiners.register(ticket, waker);
        false
    }

    /// Wakes the oldest thread parked on `waiters`' key, if any. Called after the lock is
    /// released (so the woken thread does not wake only to block on it).
    fn wake_one(&self, waiters: &AtomicUsize) {
        let callback = |result: UnparkResult| {
            if result.unparked_threads != 0 {
                waiters.fetch_sub(1, Ordering::Relaxed);
            }
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: the key is one of our own counter fields; the callback only uses an
        // atomic, cannot panic and does not call into the parking layer.
        unsafe { parking::unpark_one(self.key(waiters), callback) };
    }

    /// Wakes every thread parked on `waiters`' key.
    fn wake_all(&self, waiters: &AtomicUsize) {
        let callback = |result: UnparkResult| {
            waiters.fetch_sub(result.unparked_threads, Ordering::Relaxed);
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: as in `wake_one`; the filter does nothing else.
        unsafe { parking::unpark_filter(self.key(waiters), |_| FilterOp::Unpark, callback) };
    }
}

/// The future of `get_async`: unregistered until its first pending poll.
#[cfg(feature = "async")]
struct GetAsync<'a, T, S: Storage<T>> {
    core: &'a Core<T, S>,
    ticket: Option<u64>,
    /// Resolved: a further poll must not take a second item.
    done: bool,
}

#[cfg(feature = "async")]
impl<T, S: Storage<T>> Future for GetAsync<'_, T, S> {
    type Output = Result<T, GetError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(!this.done, "`get_async` polled after it resolved");
        match this.core.poll_get(&mut this.ticket, cx.waker()) {
            Some(result) => {
                this.done = true;
                Poll::Ready(result)
            }
            None => Poll::Pending,
        }
    }
}

#[cfg(feature = "async")]
impl<T, S: Storage<T>> Drop for GetAsync<'_, T, S> {
    fn drop(&mut self) {
        if self.ticket.is_some() {
            self.core.cancel_get(&mut self.ticket);
        }
    }
}

/// The future of `put_async`: holds the item until it goes in or comes back in the error.
#[cfg(feature = "async")]
struct PutAsync<'a, T, S: Storage<T>> {
    core: &'a Core<T, S>,
    item: Option<T>,
    ticket: Option<u64>,
}

// The item is never pinned (it is moved in and out by value), so the future may move.
#[cfg(feature = "async")]
impl<T, S: Storage<T>> Unpin for PutAsync<'_, T, S> {}

#[cfg(feature = "async")]
impl<T, S: Storage<T>> Future for PutAsync<'_, T, S> {
    type Output = Result<(), PutError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match this
            .core
            .poll_put(&mut this.item, &mut this.ticket, cx.waker())
        {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }
}

#[cfg(feature = "async")]
impl<T, S: Storage<T>> Drop for PutAsync<'_, T, S> {
    fn drop(&mut self) {
        if self.ticket.is_some() {
            self.core.cancel_put(&mut self.ticket);
        }
    }
}

/// The future of `join_async`.
#[cfg(feature = "async")]
struct JoinAsync<'a, T, S: Storage<T>> {
    core: &'a Core<T, S>,
    ticket: Option<u64>,
}

#[cfg(feature = "async")]
impl<T, S: Storage<T>> Future for JoinAsync<'_, T, S> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.core.poll_join(&mut this.ticket, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(feature = "async")]
impl<T, S: Storage<T>> Drop for JoinAsync<'_, T, S> {
    fn drop(&mut self) {
        if self.ticket.is_some() {
            self.core
                .state
                .lock()
                .async_joiners
                .remove(&mut self.ticket);
        }
    }
}

/// Defines one public queue type over `Core` with the given storage.
macro_rules! queue_type {
    (
        $(#[$attr:meta])*
        $name:ident, $storage:ident, [$($bound:tt)*], $example:literal
    ) => {
        $(#[$attr])*
        pub struct $name<T> {
            pub(crate) core: Core<T, $storage<T>>,
        }

        impl<T $($bound)*> $name<T> {
            /// A queue holding at most `maxsize` items; `0` means unbounded (Python:
            #[doc = concat!("`queue.", stringify!($name), "(maxsize)`).")]
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(2);")]
            /// q.put(1).unwrap();
            /// assert_eq!(q.maxsize(), 2);
            /// ```
            #[must_use]
            pub fn new(maxsize: usize) -> Self {
                $name { core: Core::new(maxsize) }
            }

            /// The bound given to [`new`](Self::new) (`0`: unbounded).
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("assert_eq!(", stringify!($name), "::<u8>::new(0).maxsize(), 0);")]
            /// ```
            pub fn maxsize(&self) -> usize {
                self.core.maxsize
            }

            /// Puts `item`, blocking while the queue is full (Python: `q.put(item)`). After
            /// [`shutdown`](Self::shutdown) it fails with [`PutError::ShutDown`], handing the
            /// item back, even when the queue is also full.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{PutError, ", stringify!($name), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(1);")]
            /// q.put("a").unwrap();
            /// q.shutdown(false);
            /// assert_eq!(q.put("b"), Err(PutError::ShutDown("b")));
            /// ```
            pub fn put(&self, item: T) -> Result<(), PutError<T>> {
                self.core.put(item, Some(None))
            }

            /// Puts `item` if there is room, without blocking (Python: `q.put_nowait(item)`);
            /// [`PutError::Full`] hands it back otherwise.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{PutError, ", stringify!($name), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(1);")]
            /// assert_eq!(q.try_put(1), Ok(()));
            /// assert_eq!(q.try_put(2), Err(PutError::Full(2)));
            /// ```
            pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                self.core.put(item, None)
            }

            /// Puts `item`, blocking while the queue is full for at most `timeout` (Python:
            /// `q.put(item, timeout=t)`). A zero timeout tries once; any `Duration`,
            /// `Duration::MAX` included, is accepted.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{PutError, ", stringify!($name), "};")]
            /// use std::time::Duration;
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(1);")]
            /// assert_eq!(q.put_timeout(1, Duration::MAX), Ok(()));
            /// assert_eq!(q.put_timeout(2, Duration::from_millis(1)), Err(PutError::Full(2)));
            /// ```
            pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                if timeout.is_zero() {
                    return self.core.put(item, None);
                }
                self.core.put(item, Some(parking::deadline_after(timeout)))
            }

            /// Puts `item`, blocking while the queue is full until `deadline` at the latest.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{PutError, ", stringify!($name), "};")]
            /// use std::time::Instant;
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(1);")]
            /// assert_eq!(q.put_until(1, Instant::now()), Ok(()));
            /// assert_eq!(q.put_until(2, Instant::now()), Err(PutError::Full(2)));
            /// ```
            pub fn put_until(&self, item: T, deadline: Instant) -> Result<(), PutError<T>> {
                self.core.put(item, Some(Some(deadline)))
            }

            /// Takes an item, blocking while the queue is empty (Python: `q.get()`). After
            /// [`shutdown`](Self::shutdown) it still returns the remaining items, then
            /// fails with [`GetError::ShutDown`].
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{GetError, ", stringify!($name), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(0);")]
            /// q.put(1).unwrap();
            /// q.shutdown(false);
            /// assert_eq!(q.get(), Ok(1));
            /// assert_eq!(q.get(), Err(GetError::ShutDown));
            /// ```
            pub fn get(&self) -> Result<T, GetError> {
                self.core.get(Some(None))
            }

            /// Takes an item if there is one, without blocking (Python: `q.get_nowait()`).
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{GetError, ", stringify!($name), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(0);")]
            /// assert_eq!(q.try_get(), Err(GetError::Empty));
            /// q.put(1).unwrap();
            /// assert_eq!(q.try_get(), Ok(1));
            /// ```
            pub fn try_get(&self) -> Result<T, GetError> {
                self.core.get(None)
            }

            /// Takes an item, blocking while the queue is empty for at most `timeout`
            /// (Python: `q.get(timeout=t)`). A zero timeout tries once.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{GetError, ", stringify!($name), "};")]
            /// use std::time::Duration;
            ///
            #[doc = concat!("let q = ", stringify!($name), "::<u8>::new(0);")]
            /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
            /// ```
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                if timeout.is_zero() {
                    return self.core.get(None);
                }
                self.core.get(Some(parking::deadline_after(timeout)))
            }

            /// Takes an item, blocking while the queue is empty until `deadline` at the
            /// latest.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{GetError, ", stringify!($name), "};")]
            /// use std::time::Instant;
            ///
            #[doc = concat!("let q = ", stringify!($name), "::<u8>::new(0);")]
            /// assert_eq!(q.get_until(Instant::now()), Err(GetError::Empty));
            /// ```
            pub fn get_until(&self, deadline: Instant) -> Result<T, GetError> {
                self.core.get(Some(Some(deadline)))
            }

            /// Marks one item taken earlier as processed (Python: `q.task_done()`); when
            /// every item put has been marked, [`join`](Self::join) returns. Calling it more
            /// times than items were put is an error and changes nothing.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::{TaskDoneError, ", stringify!($name), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(0);")]
            /// q.put(1).unwrap();
            /// q.get().unwrap();
            /// assert_eq!(q.task_done(), Ok(()));
            /// assert_eq!(q.task_done(), Err(TaskDoneError));
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Blocks until every item ever put has been marked done with
            /// [`task_done`](Self::task_done) (or discarded by an immediate
            /// [`shutdown`](Self::shutdown)) (Python: `q.join()`). It never fails.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(0);")]
            /// std::thread::scope(|s| {
            ///     s.spawn(|| {
            ///         while let Ok(_item) = q.get() {
            ///             q.task_done().unwrap();
            ///         }
            ///     });
            ///     for i in 0..10 {
            ///         q.put(i).unwrap();
            ///     }
            ///     q.join(); // all ten processed
            ///     q.shutdown(false); // lets the worker's `get` fail
            /// });
            /// ```
            pub fn join(&self) {
                self.core.join()
            }

            /// Puts `item`, waiting without blocking the thread while the queue is full
            /// (asyncio: `await q.put(item)`); fails as [`put`](Self::put) does, handing
            /// the item back. Blocked threads and waiting tasks are served together,
            /// oldest first.
            ///
            /// Executor-agnostic and cancel safe: the item goes in whole in the poll that
            /// resolves the future, or not at all; a future dropped before that drops its
            /// item (never half inserted) and passes a wake-up it had been sent to the
            /// next putter. `tokio::time::timeout(d, q.put_async(item))` is the timed form.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(1);")]
            /// futures::executor::block_on(async {
            ///     q.put_async(1).await.unwrap();
            ///     assert_eq!(q.get_async().await, Ok(1));
            /// });
            /// ```
            #[cfg(feature = "async")]
            pub fn put_async(&self, item: T) -> impl Future<Output = Result<(), PutError<T>>> + '_ {
                PutAsync { core: &self.core, item: Some(item), ticket: None }
            }

            /// Takes an item, waiting without blocking the thread while the queue is empty
            /// (asyncio: `await q.get()`); after [`shutdown`](Self::shutdown) as
            /// [`get`](Self::get). Blocked threads and waiting tasks are served together,
            /// oldest first, so a thread may `put` and a task `get_async` on one queue.
            ///
            /// Executor-agnostic and cancel safe: the item is taken in the poll that
            /// resolves the future; a future dropped before that takes nothing, and a
            /// wake-up it had been sent goes to the next getter. So
            /// `tokio::time::timeout(d, q.get_async())` is the timed form (asyncio's
            /// `wait_for(q.get(), d)`).
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(0);")]
            /// std::thread::scope(|s| {
            ///     s.spawn(|| q.put(7).unwrap()); // a thread puts...
            ///     assert_eq!(futures::executor::block_on(q.get_async()), Ok(7)); // ...a task gets
            /// });
            /// ```
            #[cfg(feature = "async")]
            pub fn get_async(&self) -> impl Future<Output = Result<T, GetError>> + '_ {
                GetAsync { core: &self.core, ticket: None, done: false }
            }

            /// Waits without blocking the thread until every item put has been marked done
            /// (asyncio: `await q.join()`); as [`join`](Self::join).
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(0);")]
            /// q.put(1).unwrap();
            /// std::thread::scope(|s| {
            ///     s.spawn(|| {
            ///         q.get().unwrap();
            ///         q.task_done().unwrap();
            ///     });
            ///     futures::executor::block_on(q.join_async());
            /// });
            /// ```
            #[cfg(feature = "async")]
            pub fn join_async(&self) -> impl Future<Output = ()> + '_ {
                JoinAsync { core: &self.core, ticket: None }
            }

            /// The number of items in the queue: a snapshot (Python: `q.qsize()`).
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(0);")]
            /// q.put(1).unwrap();
            /// assert_eq!(q.qsize(), 1);
            /// ```
            pub fn qsize(&self) -> usize {
                self.core.qsize()
            }

            /// Whether the queue is empty: a snapshot (Python: `q.empty()`).
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("assert!(", stringify!($name), "::<u8>::new(0).empty());")]
            /// ```
            pub fn empty(&self) -> bool {
                self.core.qsize() == 0
            }

            /// Whether the queue is full (never, when unbounded): a snapshot (Python:
            /// `q.full()`).
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(1);")]
            /// q.put(1).unwrap();
            /// assert!(q.full());
            /// ```
            pub fn full(&self) -> bool {
                self.core.maxsize != 0 && self.core.qsize() >= self.core.maxsize
            }

            /// Shuts the queue down, as Python 3.13's `q.shutdown(immediate)`: every later
            /// `put` fails with [`PutError::ShutDown`]; `get` returns the remaining items,
            /// then fails with [`GetError::ShutDown`](crate::GetError::ShutDown); blocked
            /// putters and getters are woken. With `immediate`, the remaining items are
            /// removed and counted as done (so [`join`](Self::join) returns once the items
            /// already taken are done) and handed back, in the order `get` would have
            /// returned them (Python discards them). Shutting down twice is allowed.
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::new(0);")]
            /// q.put(1).unwrap();
            /// assert_eq!(q.shutdown(true), vec![1]);
            /// assert!(q.is_shutdown());
            /// q.join(); // the discarded item counts as done
            /// ```
            pub fn shutdown(&self, immediate: bool) -> Vec<T> {
                self.core.shutdown(immediate)
            }

            /// Whether [`shutdown`](Self::shutdown) was called (Python: `q.is_shutdown`).
            ///
            /// ```
            #[doc = concat!("use contexture_sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::<u8>::new(0);")]
            /// assert!(!q.is_shutdown());
            /// q.shutdown(false);
            /// assert!(q.is_shutdown());
            /// ```
            pub fn is_shutdown(&self) -> bool {
                self.core.is_shutdown()
            }
        }

        impl<T $($bound)*> Default for $name<T> {
            /// An unbounded queue.
            fn default() -> Self {
                $name::new(0)
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("maxsize", &self.core.maxsize)
                    .field("qsize", &self.core.qsize())
                    .finish_non_exhaustive()
            }
        }
    };
}

queue_type! {
    /// A multi-producer, multi-consumer FIFO queue with Python's `queue.Queue` semantics:
    /// bounded or not, blocking `put`/`get` in the crate's three forms (items refused are
    /// handed back in the error), `task_done`/`join` accounting, and Python 3.13's
    /// `shutdown`.
    ///
    /// A small lock-protected store (our own [`Lock`](crate::Lock), never held while user
    /// code runs: items are dropped and returned outside it). A blocked getter or putter
    /// spins briefly, then parks on a key of its own kind, and a `put` or `get` wakes one
    /// only when one is parked (a counter says so), after releasing the lock.
    ///
    /// ```
    /// use contexture_sync::Queue;
    ///
    /// let q = Queue::new(0);
    /// for i in 0..3 {
    ///     q.put(i).unwrap();
    /// }
    /// assert_eq!((q.get(), q.get(), q.get()), (Ok(0), Ok(1), Ok(2))); // first in, first out
    /// ```
    Queue, Fifo, [], "FIFO"
}

queue_type! {
    /// A last-in, first-out queue (a stack) with Python's `queue.LifoQueue` semantics;
    /// otherwise exactly [`Queue`].
    ///
    /// ```
    /// use contexture_sync::LifoQueue;
    ///
    /// let q = LifoQueue::new(0);
    /// for i in 0..3 {
    ///     q.put(i).unwrap();
    /// }
    /// assert_eq!((q.get(), q.get(), q.get()), (Ok(2), Ok(1), Ok(0))); // last in, first out
    /// ```
    LifoQueue, Lifo, [], "LIFO"
}

queue_type! {
    /// A priority queue with Python's `queue.PriorityQueue` semantics: the smallest item
    /// (by `Ord`) comes out first; **equal items come out in the order they were put** (a
    /// sequence number breaks ties, which Python's `heapq` does not promise). Otherwise
    /// exactly [`Queue`].
    ///
    /// Use a tuple `(priority, payload)` as Python does; unlike Python, the payload must be
    /// `Ord` too (or wrap it to compare by priority only). `Ord` runs under the queue's
    /// lock: it must not use this queue. If it panics, the panic reaches the caller once
    /// the queue is consistent again, and nothing is lost: a `put` keeps its item (counted
    /// in `qsize` and for `join`), a `get` removes nothing, `shutdown(true)` still hands
    /// every item back (in insertion order when their order cannot be computed). The queue
    /// stays usable; the order is restored as soon as the comparisons succeed again.
    ///
    /// ```
    /// use contexture_sync::PriorityQueue;
    ///
    /// let q = PriorityQueue::new(0);
    /// q.put((3, "low")).unwrap();
    /// q.put((1, "high")).unwrap();
    /// q.put((2, "middle")).unwrap();
    /// assert_eq!(q.get(), Ok((1, "high")));
    /// assert_eq!(q.get(), Ok((2, "middle")));
    /// ```
    PriorityQueue, Priority, [: Ord], "priority"
}

#[cfg(all(test, not(contexture_loom)))]
mod tests {
    use std::cell::Cell;
    use std::cmp::Ordering as CmpOrdering;

    use super::{Priority, Storage};

    thread_local! {
        /// Comparisons left before the next one panics (`u32::MAX`: never).
        static FUSE: Cell<u32> = const { Cell::new(u32::MAX) };
    }

    /// A key whose comparison panics when the thread's fuse burns out.
    #[derive(Debug, PartialEq, Eq)]
    struct Key(u32);

    impl Ord for Key {
        fn cmp(&self, other: &Self) -> CmpOrdering {
            FUSE.with(|fuse| match fuse.get() {
                u32::MAX => {}
                0 => {
                    fuse.set(u32::MAX);
                    panic!("fuse");
                }
                left => fuse.set(left - 1),
            });
            self.0.cmp(&other.0)
        }
    }

    impl PartialOrd for Key {
        fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
            Some(self.cmp(other))
        }
    }

    /// Random puts and gets, with a comparison panicking every few operations at a random
    /// point: the heap never loses or duplicates an item (it always holds exactly the keys
    /// put and not yet got), and whenever no panic intervenes, `pop` returns the smallest.
    #[test]
    fn priority_heap_survives_panicking_comparisons() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut heap: Priority<Key> = Priority::new();
        let mut model: Vec<u32> = Vec::new();
        let ops = if cfg!(miri) { 200 } else { 5_000 };
        for _ in 0..ops {
            let armed = next() % 5 == 0;
            FUSE.with(|f| f.set(if armed { (next() % 6) as u32 } else { u32::MAX }));
            if next() % 3 != 0 {
                let key = (next() % 50) as u32;
                // Kept whether or not a comparison panicked.
                let _ = heap.push(Key(key));
                model.push(key);
            } else {
                match heap.pop() {
                    Ok(Some(Key(key))) => {
                        let smallest = model.iter().copied().min().unwrap();
                        assert_eq!(key, smallest, "smallest first");
                        let at = model.iter().position(|&k| k == key).unwrap();
                        model.swap_remove(at);
                    }
                    Ok(None) => assert!(model.is_empty()),
                    Err(_) => {} // nothing removed
                }
            }
            FUSE.with(|f| f.set(u32::MAX));
            assert_eq!(heap.len(), model.len());
        }
        let mut keys: Vec<u32> = heap.drain_all().into_iter().map(|k| k.0).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "drained in order");
        keys.sort_unstable();
        model.sort_unstable();
        assert_eq!(keys, model);
    }
}

#[cfg(all(test, feature = "async", not(contexture_loom)))]
mod async_tests {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use super::Queue;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<F: Future>(f: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(waker))
    }

    /// A blocked thread getter and a waiting task getter on one queue are served in arrival
    /// order, both ways round: the janus use case keeps FIFO among its consumers.
    #[test]
    fn thread_and_task_getters_are_served_in_arrival_order() {
        for thread_first in [true, false] {
            let q: Queue<&str> = Queue::new(0);
            let count = Arc::new(Count(AtomicUsize::new(0)));
            let waker = Waker::from(count.clone());
            let mut task = Box::pin(q.get_async());
            std::thread::scope(|s| {
                if !thread_first {
                    assert!(poll(task.as_mut(), &waker).is_pending());
                }
                let thread = s.spawn(|| q.get());
                // Relaxed: a getter raises it under the queue lock just before it parks.
                while q.core.getters.load(Ordering::Relaxed) == 0 {
                    std::thread::yield_now();
                }
                if thread_first {
                    assert!(poll(task.as_mut(), &waker).is_pending());
                }
                q.put("first").unwrap();
                if thread_first {
                    assert_eq!(thread.join().unwrap(), Ok("first"));
                    assert_eq!(count.0.load(Ordering::SeqCst), 0, "the older thread first");
                    q.put("second").unwrap();
                    assert_eq!(count.0.load(Ordering::SeqCst), 1);
                    assert_eq!(poll(task.as_mut(), &waker), Poll::Ready(Ok("second")));
                } else {
                    assert_eq!(count.0.load(Ordering::SeqCst), 1, "the older task first");
                    assert_eq!(poll(task.as_mut(), &waker), Poll::Ready(Ok("first")));
                    q.put("second").unwrap();
                    assert_eq!(thread.join().unwrap(), Ok("second"));
                }
            });
        }
    }
}
