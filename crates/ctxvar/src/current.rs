//! This thread's current context (its map, the id of the context it belongs to, a version
//! number) and the lookup cache that makes a repeated `get` skip the map.
//!
//! No user code ever runs while the state is mutably borrowed: whatever a write displaces
//! (an old value, a replaced map) is handed back to the caller and dropped after the borrow.

use std::any::Any;
use std::cell::{Cell, RefCell, RefMut};
use std::ptr::{self, NonNull};

use crate::loom::{tls, IdCounter, Ordering};
use crate::map::{Map, Value};

/// Number of direct-mapped cache slots (indexed by var id).
const CACHE_SLOTS: usize = 8;

/// Ids handed to a thread at a time, so that creating a context touches no shared counter.
const ID_BLOCK: u64 = 1024;

/// Source of var and context ids: never reused, never 0 (0 means "no id yet").
static NEXT_ID: IdCounter = IdCounter::new(1);

/// One remembered lookup: in map version `version`, var `id` was bound to the `T` at `ptr`
/// (null: unbound).
#[derive(Clone, Copy)]
struct Slot {
    id: u64,
    version: u64,
    ptr: *const (),
}

const EMPTY_SLOT: Slot = Slot {
    id: 0,
    version: 0,
    ptr: ptr::null(),
};

/// The current context of one thread.
///
/// `repr(C)` with `version` between `map` and `ctx_id`: side by side, the two were swapped
/// with one 16-byte load right after two 8-byte stores of the previous switch, a
/// store-forwarding stall (measured: ~5 ns of a ~13 ns `run`).
#[repr(C)]
pub(crate) struct State {
    /// The current map. Every change to it, or replacement of it, bumps `version`.
    map: Map,
    /// Changes whenever `map` may have changed; starts at 1 so that an empty slot never hits.
    version: u64,
    /// Id of the current context; 0 while this is the thread's own context and no token was
    /// made in it yet.
    ctx_id: u64,
    /// True only while `map` is known to be the sole handle to its version: set after a
    /// write (which leaves the written version unshared), cleared when the map is shared
    /// ([`State::share_map`]) or replaced ([`State::switch`]). Lets a run of writes skip
    /// `Arc::make_mut`'s atomic uniqueness check (measured: ~5 ns of a ~24 ns `set`).
    unique: Cell<bool>,
    cache: [Cell<Slot>; CACHE_SLOTS],
}

tls! {
    static CURRENT: RefCell<State> = RefCell::new(State {
        map: Map::EMPTY,
        version: 1,
        ctx_id: 0,
        unique: Cell::new(false),
        cache: [const { Cell::new(EMPTY_SLOT) }; CACHE_SLOTS],
    });
}

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

/// This thread's state; `None` while the thread-local is being destroyed.
///
/// The callers below use the state outside `LocalKey::with`'s closure: passing the maps
/// through that closure's captures cost a store-forwarding stall per switch (measured:
/// `run(noop)` went from ~25 ns to ~8 ns without it).
#[inline]
fn cell() -> Option<*const RefCell<State>> {
    CURRENT.try_with(ptr::from_ref).ok()
}

/// Runs `f` on this thread's state; `None` while the thread-local is being destroyed.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&State) -> R) -> Option<R> {
    let cell = cell()?;
    // SAFETY: the pointer is to this thread's `CURRENT`, which was alive just now and is only
    // destroyed by this thread's thread-local destructors, which cannot start while this
    // call runs on this thread.
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
    /// entered map may have been written (a nested run also counts, which only costs a
    /// needless republish).
    entered_at: u64,
}

/// This thread's state, for a switch into a context and back.
///
/// # Panics
///
/// While the thread-local is being destroyed.
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
        let prev_map = std::mem::take(&mut entered.prev_map);
        (state.switch(prev_map, entered.prev_id).0, written)
    }
}

impl State {
    /// The value bound to var `id` (whose values are all `T`s), through the cache.
    #[inline]
    pub(crate) fn lookup<T: Any>(&self, id: u64) -> Option<&T> {
        let cell = &self.cache[(id as usize) % CACHE_SLOTS];
        let slot = cell.get();
        if slot.id == id && slot.version == self.version {
            if slot.ptr.is_null() {
                return None;
            }
            // SAFETY: the slot was filled by `lookup_slow::<T>` for this id from a checked
            // `downcast_ref::<T>` (a var id is only ever bound to values of its var's `T`), in
            // this very map version. The version is bumped on every change to or replacement
            // of `self.map`, so the map still holds the `Arc` that owns the `T`, and `&self`
            // keeps it from changing for the lifetime of the returned reference. Nothing
            // writes through an `Arc`'s shared contents.
            return Some(unsafe { &*slot.ptr.cast::<T>() });
        }
        self.lookup_slow(id, cell)
    }

    #[inline(never)]
    fn lookup_slow<T: Any>(&self, id: u64, cell: &Cell<Slot>) -> Option<&T> {
        let found = self.map.get(id).and_then(|e| e.value.downcast_ref::<T>());
        cell.set(Slot {
            id,
            version: self.version,
            ptr: found.map_or(ptr::null(), |v| ptr::from_ref(v).cast()),
        });
        found
    }

    /// The current map, for reading. (Cloning it must go through [`State::share_map`].)
    #[inline]
    pub(crate) fn map(&self) -> &Map {
        &self.map
    }

    /// A handle to the current map version, which from now on is shared.
    #[inline]
    pub(crate) fn share_map(&self) -> Map {
        self.unique.set(false);
        self.map.clone()
    }

    /// Id of the current context (0: the thread's own context, no id yet).
    #[inline]
    pub(crate) fn ctx_id(&self) -> u64 {
        self.ctx_id
    }

    /// Id of the current context, giving the thread's own context one if needed.
    #[inline]
    pub(crate) fn ctx_id_or_assign(&mut self) -> u64 {
        if self.ctx_id == 0 {
            self.ctx_id = fresh_id();
        }
        self.ctx_id
    }

    /// Binds var `id` to the value `make` returns (see [`Map::insert_with`]); returns the
    /// displaced value.
    #[inline]
    pub(crate) fn insert(
        &mut self,
        id: u64,
        name: &'static str,
        make: impl FnOnce() -> Value,
    ) -> Option<Value> {
        self.version += 1;
        // SAFETY: `unique` is only true while no other handle to the version exists: every
        // clone of `self.map` goes through `share_map`, every replacement through `switch`,
        // both of which clear it.
        let old = unsafe { self.map.insert_with(id, name, make, self.unique.get()) };
        self.unique.set(true); // the version just written is this map's alone
        old
    }

    /// Unbinds var `id`; returns the displaced value.
    #[inline]
    pub(crate) fn remove(&mut self, id: u64) -> Option<Value> {
        self.version += 1;
        // SAFETY: as in `insert`.
        let old = unsafe { self.map.remove_with(id, self.unique.get()) };
        // Unless nothing was removed (then no write happened and nothing was learnt).
        if old.is_some() {
            self.unique.set(true);
        }
        old
    }

    /// Makes `map`, of context `ctx_id`, current; [`Here::leave`] undoes it.
    #[inline]
    pub(crate) fn enter(&mut self, map: Map, ctx_id: u64) -> Entered {
        let (prev_map, prev_id) = self.switch(map, ctx_id);
        Entered {
            prev_map,
            prev_id,
            entered_at: self.version,
        }
    }

    /// Makes `map` (of context `ctx_id`) current; returns the previous map and context id.
    #[inline]
    pub(crate) fn switch(&mut self, map: Map, ctx_id: u64) -> (Map, u64) {
        self.version += 1;
        self.unique.set(false);
        (
            std::mem::replace(&mut self.map, map),
            std::mem::replace(&mut self.ctx_id, ctx_id),
        )
    }
}
