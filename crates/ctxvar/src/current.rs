//! This thread's current context (its map, the id of the context it belongs to, a version
//! number) and the lookup cache that makes a repeated `get` skip the map.
//!
//! No user code ever runs while the state is mutably borrowed: whatever a write displaces
//! (an old value, a replaced map) is handed back to the caller and dropped after the borrow.

use std::any::Any;
use std::cell::{Cell, RefCell, RefMut};
use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};

use crate::loom::Arc;
use crate::loom::{tls, IdCounter, Ordering};
use crate::map::{Map, Value};
use crate::snapshot::Spares;

/// Number of direct-mapped cache slots (indexed by var id).
const CACHE_SLOTS: usize = 8;

/// Ids handed to a thread at a time, so that creating a context touches no shared counter.
const ID_BLOCK: u64 = 1024;

/// Source of var and context ids: never reused, never 0 (0 means "no id yet").
static NEXT_ID: IdCounter = IdCounter::new(1);

/// Tag of the ids of [`Context`](crate::Context) objects (a thread's own context and the
/// fresh context of a `Snapshot::run` have untagged ids): a switch away from a tagged id is
/// a nested entry, whose outer map is kept where readers on this thread find it
/// ([`nested_map`]). Counter values never reach it.
pub(crate) const CTX_TAG: u64 = 1 << 62;

/// Set in the state's `ctx_id` once this thread's exit cleanup drained its own context
/// ([`ExitGuard`]): the next write there takes `ctx_id_or_assign`'s slow branch (one signed
/// comparison covers both that and "no id yet"), which arms a later cleanup first.
const TORN: u64 = 1 << 63;

/// One remembered lookup: in the map version stamped `stamp`, var `id` was bound to the `T`
/// at `ptr` (null: unbound). Stamps are never reused and name one set of bindings (see
/// `Map::stamp`), so a slot stays valid across context switches: the first `get` after
/// entering a context (or a copy of one: copies share the version) hits what an earlier
/// entry looked up.
#[derive(Clone, Copy)]
struct Slot {
    id: u64,
    stamp: u64,
    ptr: *const (),
}

/// The binding the last `set` made (var `id` in the version stamped `stamp`, its value's
/// contents at `ptr`), while nothing else can hold that value: it came from that `set`'s
/// `Arc::new`, and every way another handle could have been made since (sharing the map, a
/// switch, a reader cloning the value through [`State::map`], another write) changes the
/// stamp, clears `State::unique`, or clears this slot (id 0). A `set` of the same var then
/// swaps the value in place: no allocation, no free, no atomic operation.
#[derive(Clone, Copy)]
struct WriteSlot {
    id: u64,
    stamp: u64,
    ptr: *const (),
}

const NO_WRITE: WriteSlot = WriteSlot {
    id: 0,
    stamp: 0,
    ptr: ptr::null(),
};

const EMPTY_SLOT: Slot = Slot {
    id: 0,
    stamp: 0,
    ptr: ptr::null(),
};

/// The current context of one thread.
///
/// `repr(C)` with `version` between `map` and `ctx_id`: side by side, the two were swapped
/// with one 16-byte load right after two 8-byte stores of the previous switch, a
/// store-forwarding stall (measured: ~5 ns of a ~13 ns `run`).
///
/// It has no destructor (the map is `ManuallyDrop`), so this thread-local is never
/// destroyed: `get`, `set` and `run` work during the whole thread teardown, also from other
/// thread-locals' destructors. The thread's own context is dropped by an [`ExitGuard`]
/// instead, armed by its first write.
#[repr(C)]
pub(crate) struct State {
    /// The current map. Every write to it bumps `version`; every write or replacement
    /// updates `stamp`. Dropped only by the exit guards (which take it out), never with
    /// the state.
    map: ManuallyDrop<Map>,
    /// Counts the writes made on this thread (to whichever map was current): what
    /// [`Here::leave`] compares to tell whether the entered map may have been written.
    version: u64,
    /// Id of the current context; 0 while this is the thread's own context (or a
    /// `Snapshot::run`'s) and no token was made in it yet; [`CTX_TAG`] for a `Context`;
    /// [`TORN`] once the exit cleanup drained the thread's own context.
    ctx_id: u64,
    /// True only while `map` is known to be the sole handle to its version: set after a
    /// write (which leaves the written version unshared), cleared when the map is shared
    /// ([`State::share_map`]) or replaced ([`State::switch`]). Lets a run of writes skip
    /// `Arc::make_mut`'s atomic uniqueness check (measured: ~5 ns of a ~24 ns `set`).
    unique: Cell<bool>,
    /// The stamp of `map` (`Map::stamp`), kept here for the lookup cache.
    stamp: u64,
    /// See [`WriteSlot`].
    last_write: Cell<WriteSlot>,
    cache: [Cell<Slot>; CACHE_SLOTS],
    /// The caller's spare references to the version a
    /// [`Snapshot::run_keeping_with`](crate::Snapshot::run_keeping_with) entered (a pool
    /// worker's batch), while it runs; null when none. The first write that finds the
    /// current map shared drops them before it decides whether to copy, so that they never
    /// make a write copy what it would have changed in place, nor keep alive a value it
    /// replaced. Never the last references (the run holds the version, in the state or
    /// below a nested entry), so dropping them runs no user code.
    spares: Cell<*mut Spares>,
}

tls! {
    static CURRENT: RefCell<State> = RefCell::new(State {
        map: ManuallyDrop::new(Map::EMPTY),
        version: 1,
        ctx_id: 0,
        unique: Cell::new(false),
        stamp: 0,
        last_write: Cell::new(NO_WRITE),
        cache: [const { Cell::new(EMPTY_SLOT) }; CACHE_SLOTS],
        spares: Cell::new(ptr::null_mut()),
    });
}

// The state must stay destructor-free: that is what keeps it usable during teardown.
const _: () = assert!(!std::mem::needs_drop::<RefCell<State>>());

tls! {
    /// The rest of this thread's block of ids: `(next, end)`.
    static IDS: Cell<(u64, u64)> = Cell::new((0, 0));
}

/// A new id, unique in the process.
pub(crate) fn fresh_id() -> u64 {
    IDS.try_with(|ids| {
        let (mut next, mut end) = ids.get();
        if next == end {
            // Relaxed: the counter only hands out distinct numbers; nothing is published.
            next = NEXT_ID.fetch_add(ID_BLOCK, Ordering::Relaxed);
            end = next + ID_BLOCK;
        }
        ids.set((next + 1, end));
        next
    })
    .unwrap_or_else(|_| NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// This thread's state; `None` only under loom (whose thread-locals can be destroyed: ours
/// has no destructor, so std never destroys it).
///
/// The callers below use the state outside `LocalKey::with`'s closure: passing the maps
/// through that closure's captures cost a store-forwarding stall per switch (measured:
/// `run(noop)` went from ~25 ns to ~8 ns without it).
#[inline]
fn cell() -> Option<*const RefCell<State>> {
    CURRENT.try_with(ptr::from_ref).ok()
}

/// Runs `f` on this thread's state; `None` only under loom (see [`cell`]).
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&State) -> R) -> Option<R> {
    let cell = cell()?;
    // SAFETY: the pointer is to this thread's `CURRENT`, which was alive just now and is
    // never destroyed (under loom: only by this thread's thread-local destructors, which
    // cannot start while this call runs on this thread).
    let cell = unsafe { &*cell };
    Some(f(&cell.borrow()))
}

/// Runs `f` on this thread's state mutably; `None` while the thread-local is being
/// destroyed. `f` must not run user code.
///
/// # Panics
///
/// When called from inside a `Clone` of a value that `get` is cloning.
#[inline]
pub(crate) fn try_with_mut<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    let cell = cell()?;
    // SAFETY: as in `with`.
    let cell = unsafe { &*cell };
    Some(f(&mut cell.borrow_mut()))
}

/// This thread's state, reached once for a switch into a context and the switch back.
///
/// Not `Send` (it points at this thread's thread-local), and only ever kept on the stack
/// of the call that made it: the thread-local is destroyed only by this thread's
/// thread-local destructors, which run one after the other at thread exit, so never while
/// a call that reached it earlier is still running.
#[derive(Clone, Copy)]
pub(crate) struct Here(NonNull<RefCell<State>>);

/// Where a [`State::enter`] came from: what [`Here::leave`] restores.
pub(crate) struct Entered {
    /// The map to restore (taken by `leave`).
    prev_map: Map,
    prev_id: u64,
    /// The state's version right after entering: a different one at `leave` means the
    /// entered map may have been written (a write in a nested run also counts, which only
    /// costs a needless republish).
    entered_at: u64,
}

/// This thread's state, for a switch into a context and back.
///
/// # Panics
///
/// Under loom only, once the thread-local was destroyed.
#[inline]
pub(crate) fn here() -> Here {
    match cell() {
        Some(cell) => Here(NonNull::from(
            // SAFETY: `cell` points at this thread's `CURRENT`, alive just now (see `with`).
            unsafe { &*cell },
        )),
        None => destroyed(),
    }
}

#[cold]
#[inline(never)]
fn destroyed() -> ! {
    panic!("contexture_ctxvar: this thread's context was already destroyed")
}

impl Here {
    #[inline]
    fn state(&self) -> &RefCell<State> {
        // SAFETY: see `Here`: the thread-local outlives every `Here` to it.
        unsafe { self.0.as_ref() }
    }

    /// This thread's state, for a switch ([`State::enter`]).
    ///
    /// # Panics
    ///
    /// When called from inside a `Clone` of a value that `get` is cloning.
    #[inline]
    pub(crate) fn borrow_mut(&self) -> RefMut<'_, State> {
        self.state().borrow_mut()
    }

    /// Leaves the map entered by [`State::enter`] (which returned `entered`): returns it,
    /// and whether it may have been written meanwhile.
    ///
    /// # Panics
    ///
    /// As [`Here::borrow_mut`]; it cannot happen after a `run` entered (the thread's
    /// borrows of its state end before any user code runs).
    ///
    /// Takes `entered` by reference, field by field: moved as a whole, it was copied with
    /// 16-byte loads of 8-byte stores (another stall).
    #[inline]
    pub(crate) fn leave(self, entered: &mut Entered) -> (Map, bool) {
        let mut state = self.state().borrow_mut();
        let written = state.version != entered.entered_at;
        (state.switch_back(entered).0, written)
    }

    /// [`Here::leave`] for a run that installed spares: puts the enclosing run's (`outer`)
    /// back in the same borrow.
    #[inline]
    pub(crate) fn leave_restoring(self, entered: &mut Entered, outer: *mut Spares) -> (Map, bool) {
        let mut state = self.state().borrow_mut();
        state.spares.set(outer);
        let written = state.version != entered.entered_at;
        (state.switch_back(entered).0, written)
    }

    /// [`Here::leave`] for an [`OwnedContext`](crate::OwnedContext): returns the left map
    /// and the id its context had at the end (a token made inside gave it one).
    #[inline]
    pub(crate) fn leave_keeping_id(self, entered: &mut Entered) -> (Map, u64) {
        self.state().borrow_mut().switch_back(entered)
    }
}

impl State {
    /// The value bound to var `id` (whose values are all `T`s), through the cache.
    #[inline]
    pub(crate) fn lookup<T: Any>(&self, id: u64) -> Option<&T> {
        let cell = &self.cache[(id as usize) % CACHE_SLOTS];
        let slot = cell.get();
        if slot.id == id && slot.stamp == self.stamp {
            if slot.ptr.is_null() {
                return None;
            }
            // SAFETY: the slot was filled by `lookup_slow::<T>` for this id after a checked
            // downcast to `T` (a var id is only ever bound to values of its var's `T`), from
            // the map version stamped `self.stamp`. A stamp is never reused and every change
            // of a version's bindings restamps it, so the current map is that very version and
            // still holds the `Arc` that owns the `T` (an in-place `rebind` keeps the `Arc`
            // and its address). `&self` keeps it from changing for the lifetime of the
            // returned reference.
            return Some(unsafe { &*slot.ptr.cast::<T>() });
        }
        self.lookup_slow(id, cell)
    }

    #[inline(never)]
    fn lookup_slow<T: Any>(&self, id: u64, cell: &Cell<Slot>) -> Option<&T> {
        let entry = self.map.get(id);
        let found = entry.and_then(|e| e.value.downcast_ref::<T>());
        cell.set(Slot {
            id,
            stamp: self.stamp,
            // From `Arc::as_ptr`, not from `found`: a pointer with the `Arc`'s own
            // provenance stays usable after `rebind` writes through its sibling.
            ptr: match (entry, found) {
                (Some(e), Some(_)) => Arc::as_ptr(&e.value).cast(),
                _ => ptr::null(),
            },
        });
        found
    }

    /// The current map, for reading. (Cloning it must go through [`State::share_map`].)
    /// The reader may clone a value out of it, so the last write's value may be shared
    /// afterwards: [`State::rebind`] no longer applies.
    #[inline]
    pub(crate) fn map(&self) -> &Map {
        self.last_write.set(NO_WRITE);
        &self.map
    }

    /// A handle to the current map version, which from now on is shared.
    #[inline]
    pub(crate) fn share_map(&self) -> Map {
        self.unique.set(false);
        Map::clone(&self.map)
    }

    /// Id of the current context (0: the thread's own context, no id yet).
    #[inline]
    pub(crate) fn ctx_id(&self) -> u64 {
        self.ctx_id
    }

    /// Id of the current context, giving the thread's own context one if needed.
    ///
    /// A write goes through here, so this is also where the thread's own context arms its
    /// exit cleanup: on its first write, and on the first write after a cleanup drained it
    /// (a thread-local destructor that runs later). Both are the one signed comparison.
    #[inline]
    pub(crate) fn ctx_id_or_assign(&mut self) -> u64 {
        #[allow(clippy::cast_possible_wrap)] // the sign bit is `TORN`, on purpose
        if self.ctx_id as i64 <= 0 {
            self.ctx_id = assign_and_arm(self.ctx_id);
        }
        self.ctx_id
    }

    /// The current context's id, without the [`TORN`] mark: what a token made now records.
    /// Clears the mark (arming a later cleanup) when `id` is this context's: used by a
    /// `reset`, which writes too.
    pub(crate) fn matches_torn(&mut self, id: u64) -> bool {
        if self.ctx_id & TORN != 0 && self.ctx_id & !TORN == id && id != 0 {
            self.ctx_id = assign_and_arm(self.ctx_id);
            return true;
        }
        false
    }

    /// Takes the current map out (for the exit cleanup), leaving the empty one.
    #[cfg(not(contexture_loom))]
    fn take_map(&mut self) -> Map {
        self.switch(Map::EMPTY, self.ctx_id).0
    }

    /// Binds var `id` to the value `make` returns (see [`Map::insert_with`]); returns the
    /// displaced value. `fresh`: `make` returns a new `Arc` that nothing else holds (a `set`,
    /// not a `reset` putting back an old one), so the next `set` of `id` may
    /// [`rebind`](State::rebind) it in place.
    #[inline]
    pub(crate) fn insert(
        &mut self,
        id: u64,
        name: &'static str,
        make: impl FnOnce() -> Value,
        fresh: bool,
    ) -> Option<Value> {
        self.version += 1;
        if !self.unique.get() && !self.spares.get().is_null() {
            self.drop_spares();
        }
        let stamp = fresh_id();
        // SAFETY: `unique` is only true while no other handle to the version exists: every
        // clone of `self.map` goes through `share_map`, every replacement through `switch`,
        // both of which clear it.
        let (old, at) = unsafe {
            self.map
                .insert_with(id, name, make, self.unique.get(), stamp)
        };
        self.unique.set(true); // the version just written is this map's alone
        self.stamp = stamp;
        self.last_write.set(if fresh {
            WriteSlot { id, stamp, ptr: at }
        } else {
            NO_WRITE
        });
        old
    }

    /// The value of var `id` (a `T`) to overwrite in place, when the last write was a `set`
    /// of `id` and nothing can have shared its value since (see [`WriteSlot`]).
    ///
    /// # Safety
    ///
    /// `T` must be the type of var `id`'s values.
    #[inline]
    pub(crate) unsafe fn rebind<T>(&mut self, id: u64) -> Option<*mut T> {
        let last = self.last_write.get();
        if last.id == id && last.stamp == self.stamp && self.unique.get() {
            // Not a new version for the lookup cache (the binding keeps its `Arc` and its
            // address, so cached pointers stay right), but a write for `Here::leave`.
            self.version += 1;
            return Some(last.ptr.cast::<T>().cast_mut());
        }
        None
    }

    /// Unbinds var `id`; returns the displaced value.
    #[inline]
    pub(crate) fn remove(&mut self, id: u64) -> Option<Value> {
        self.version += 1;
        if !self.unique.get() && !self.spares.get().is_null() {
            self.drop_spares();
        }
        // SAFETY: as in `insert`.
        let old = unsafe { self.map.remove_with(id, self.unique.get(), fresh_id()) };
        // Unless nothing was removed (then no write happened and nothing was learnt).
        if old.is_some() {
            self.unique.set(true);
        }
        self.stamp = self.map.stamp();
        self.last_write.set(NO_WRITE);
        old
    }

    /// Drops the spare references (see [`State::spares`]) before a write decides whether to
    /// copy the shared current map; later writes of the run skip this.
    #[cold]
    #[inline(never)]
    fn drop_spares(&mut self) {
        let spares = self.spares.replace(ptr::null_mut());
        // SAFETY: a non-null `spares` was installed by `Snapshot::run_keeping_with` from the
        // `&mut Spares` it was given, which it holds (exclusively, unused meanwhile) until it
        // restores the enclosing run's pointer: the run is still going on, on this thread,
        // so the `Spares` is alive and nobody else accesses it.
        drop(std::mem::take(unsafe { &mut *spares }));
    }

    /// Installs `spares` (the caller's references to the version just entered) for the run
    /// that entered it; returns the enclosing run's, for [`Here::leave_restoring`].
    #[inline]
    pub(crate) fn install_spares(&mut self, spares: *mut Spares) -> *mut Spares {
        self.spares.replace(spares)
    }

    /// Undoes [`State::enter`]: the map and context id it displaced are current again;
    /// returns the map left and its context's id.
    #[inline]
    fn switch_back(&mut self, entered: &mut Entered) -> (Map, u64) {
        let prev_map = std::mem::take(&mut entered.prev_map);
        let left = self.switch(prev_map, entered.prev_id);
        if entered.prev_id & CTX_TAG != 0 {
            nested_pop(); // no value dropped: the state holds the same version again
        }
        left
    }

    /// Makes `map`, of context `ctx_id`, current; [`Here::leave`] undoes it.
    #[inline]
    pub(crate) fn enter(&mut self, map: Map, ctx_id: u64) -> Entered {
        let (prev_map, prev_id) = self.switch(map, ctx_id);
        if prev_id & CTX_TAG != 0 {
            // SAFETY: `prev_map` goes into the returned `Entered`, whose `switch_back` puts it
            // back in this state and pops the record right after (see `nested_push`).
            unsafe { nested_push(prev_id, &prev_map) };
        }
        Entered {
            prev_map,
            prev_id,
            entered_at: self.version,
        }
    }

    /// Makes `map` (of context `ctx_id`) current; returns the previous map and context id.
    #[inline]
    pub(crate) fn switch(&mut self, map: Map, ctx_id: u64) -> (Map, u64) {
        // No `version` bump: it counts writes (see `Entered::entered_at`), and the lookup
        // cache keys on the map's own stamp, which comes with it.
        self.unique.set(false);
        self.stamp = map.stamp();
        (
            std::mem::replace(&mut *self.map, map),
            std::mem::replace(&mut self.ctx_id, ctx_id),
        )
    }
}

tls! {
    /// The maps of the `Context`s entered on this thread that a nested entry made not
    /// current, innermost last, with their ids: what `Context::get`, `len` and `copy` read
    /// for them on this thread (their live values, as Python shows; they cannot change until
    /// the nested entry exits). Empty unless entries nest.
    ///
    /// Each map is an alias ([`Map::alias`]) of the one the nested entry's `Entered` holds
    /// (`prev_map`), not a counted reference: entering and leaving a nested context then
    /// costs no reference count (two atomic operations on this machine's ~9 ns each, for a
    /// record read only by those calls, which count their own clone).
    static NESTED: RefCell<Vec<(u64, ManuallyDrop<Map>)>> = RefCell::new(Vec::new());
}

/// Records `map`, the live map of the `Context` with id `id`, which a nested entry is making
/// not current. (Fails softly once this thread-local is destroyed, late in teardown: reads
/// then fall back to the published version.)
///
/// # Safety
///
/// `map` stays alive and unchanged until the matching [`nested_pop`] (it may move: the record
/// copies the pointer it holds, not its address). The caller keeps it in the nested entry's
/// `Entered`, which nothing changes; [`State::switch_back`] takes it from there back into
/// this state and pops the record right after.
#[cold]
#[inline(never)]
unsafe fn nested_push(id: u64, map: &Map) {
    // SAFETY: forwarded from the caller: the alias is only read (cloned, by `nested_map`)
    // before the matching pop, while `map` is alive.
    let alias = unsafe { map.alias() };
    let _ = NESTED.try_with(|n| n.borrow_mut().push((id, alias)));
}

/// Forgets the record of the innermost [`nested_push`], at the exit of that nested entry
/// (the alias is not dropped: it counts nothing).
#[cold]
#[inline(never)]
fn nested_pop() {
    let _ = NESTED.try_with(|n| n.borrow_mut().pop());
}

/// The live map of the `Context` with id `id` if it is entered on this thread further down
/// the stack (a nested entry made it not current).
pub(crate) fn nested_map(id: u64) -> Option<Map> {
    NESTED
        .try_with(|n| {
            let n = n.borrow();
            n.iter()
                .rev()
                .find(|(i, _)| *i == id)
                // A counted clone of the alias: its map is alive until the pop (see
                // `nested_push`), and this clone keeps it past that.
                .map(|(_, m)| Map::clone(m))
        })
        .ok()
        .flatten()
}

/// The slow branch of [`State::ctx_id_or_assign`]: arms an exit cleanup for this thread's
/// context, then gives it an id (keeping the one it had before a cleanup drained it, so
/// that its tokens stay valid).
#[cold]
#[inline(never)]
fn assign_and_arm(ctx_id: u64) -> u64 {
    arm_exit_cleanup();
    match ctx_id & !TORN {
        0 => fresh_id(),
        id => id,
    }
}

/// Drops this thread's own context at thread exit, while this crate's thread state is
/// still alive (it never dies: see [`State`]), so that a value's `Drop` may use context
/// vars and enter contexts. A thread-local destructor that runs after it and writes to the
/// thread's context arms the next guard of the chain ([`LATE`]), which runs right after
/// that destructor (a thread-local first reached during teardown has its destructor
/// registered then, and run next).
#[cfg(not(contexture_loom))]
struct ExitGuard {
    armed: Cell<bool>,
}

#[cfg(not(contexture_loom))]
impl Drop for ExitGuard {
    fn drop(&mut self) {
        if self.armed.get() {
            drain_own_context();
        }
    }
}

#[cfg(not(contexture_loom))]
/// Rounds of the exit cleanup: values whose `Drop` keeps writing new values into the
/// thread's context are given up on after that many (they are leaked, never dropped twice).
const MAX_EXIT_ROUNDS: usize = 64;

/// Drops what the thread's own context holds, round after round (a value's `Drop` may set
/// more), each value on its own with its panic caught: a panic in a thread-local
/// destructor would abort the process. Then marks the context [`TORN`].
#[cfg(not(contexture_loom))]
fn drain_own_context() {
    for _ in 0..MAX_EXIT_ROUNDS {
        let Some(map) = try_with_mut(State::take_map) else {
            return;
        };
        if map.len() == 0 {
            break;
        }
        drop_values(map, Unwind::Swallow);
    }
    let _ = try_with_mut(|s| s.ctx_id |= TORN);
}

/// What [`drop_values`] does with a panic of a value's `Drop`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unwind {
    /// Resume the first one after every value was dropped (unless already unwinding: then
    /// swallow it, since a second panic would abort).
    Resume,
    /// Swallow them all (thread-local destructors, where a panic aborts).
    #[cfg_attr(contexture_loom, allow(dead_code))] // loom builds have no exit guards
    Swallow,
}

/// Drops `map`, each value it alone holds on its own, catching a panic of its `Drop` so
/// that the others are still dropped and no second panic aborts the process.
#[inline]
pub(crate) fn drop_values(map: Map, unwind: Unwind) {
    // An empty map (a context nobody wrote to) or a shared one holds no value of its own.
    if map.holds_nothing_alone() {
        return;
    }
    drop_each_value(map, unwind);
}

/// [`drop_values`] of a map that may hold values of its own.
fn drop_each_value(map: Map, unwind: Unwind) {
    let mut first = None;
    map.drop_each(|value| {
        if let Err(payload) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(value)))
        {
            if first.is_none() {
                first = Some(payload);
            } else {
                drop_payload(payload);
            }
        }
    });
    if let Some(payload) = first {
        if unwind == Unwind::Resume && !std::thread::panicking() {
            std::panic::resume_unwind(payload);
        }
        drop_payload(payload);
    }
}

/// Drops a value a `reset` or an exit displaced: while unwinding, with a panic of its `Drop`
/// caught and swallowed (a second panic would abort the process).
pub(crate) fn drop_displaced(value: Option<Value>) {
    if value.is_some() && std::thread::panicking() {
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            drop(value);
        })) {
            drop_payload(payload);
        }
    }
}

/// Drops a panic payload; if that panics too, leaks it rather than abort.
fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(inner) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        drop(payload);
    })) {
        std::mem::forget(inner);
    }
}

#[cfg(not(contexture_loom))]
std::thread_local! {
    /// The first exit guard, armed by the first write to the thread's own context.
    static EXIT: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
    static LATE0: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
    static LATE1: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
    static LATE2: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
    static LATE3: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
    static LATE4: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
    static LATE5: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
    static LATE6: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
    static LATE7: ExitGuard = const { ExitGuard { armed: Cell::new(false) } };
}

/// Arms the first exit guard of the chain that is still alive (its destructor then runs at
/// thread exit, or right after the running thread-local destructor). Past the last one,
/// what is written is leaked (nine rounds of destructors writing after each cleanup).
#[cfg(not(contexture_loom))]
fn arm_exit_cleanup() {
    for key in [
        &EXIT, &LATE0, &LATE1, &LATE2, &LATE3, &LATE4, &LATE5, &LATE6, &LATE7,
    ] {
        if key.try_with(|g| g.armed.set(true)).is_ok() {
            return;
        }
    }
}

/// Loom model threads are not torn down like OS threads: nothing to arm.
#[cfg(contexture_loom)]
fn arm_exit_cleanup() {}
