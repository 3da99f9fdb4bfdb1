//! Thread identities and the global registry that ties each thread to the `Local` slots it
//! filled, so that a thread's exit and a `Local`'s drop can each find and drop the other's
//! values exactly once (the two weak references of Python's `_threading_local`, made exact).

use std::cell::{Cell, UnsafeCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::loom::{tls, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering};

/// `Header::state` bit: the slot holds an initialised value.
pub(crate) const PRESENT: usize = 0b01;
/// `Header::state` bit: the owning thread is exiting and waits for the pins to go; no new
/// pin may be taken.
pub(crate) const CLOSING: usize = 0b10;
/// `Header::state` unit of the pin count (the bits above `PRESENT` and `CLOSING`).
pub(crate) const PIN: usize = 0b100;

/// How many rounds of exit cleanup a thread runs before it gives up on values that its own
/// destructors keep re-inserting (glibc runs pthread key destructors 4 times; we are more
/// patient). Values left after that stay in their `Local` until it is dropped.
const MAX_EXIT_ROUNDS: usize = 64;

/// The type-independent prefix of every slot, so that the registry can reach a slot of any
/// `Local<T>` through a thin pointer.
///
/// `state` packs three things:
///
/// | bits   | meaning                                                        |
/// |--------|----------------------------------------------------------------|
/// | 0      | `PRESENT`: the value is initialised                            |
/// | 1      | `CLOSING`: the owner is exiting and waits for pins to drain    |
/// | 2..    | pin count: live `LocalRef`/`LocalRefMut` guards on this value  |
///
/// Only the owning thread sets `PRESENT`. It is cleared by the owner's exit, or by a holder
/// of `&mut Local` (clear, drop, into_iter); the latter two hold the registry lock. Pins are
/// taken by other threads iterating the `Local`.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: AtomicUsize,
    /// Index of this slot's registration in its thread's list. Guarded by the registry lock.
    reg_index: UnsafeCell<usize>,
}

impl Header {
    pub(crate) fn new() -> Header {
        Header {
            state: AtomicUsize::new(0),
            reg_index: UnsafeCell::new(usize::MAX),
        }
    }
}

/// Moves the value out of the slot behind `header`, clears the slot and boxes the value.
///
/// # Safety
/// `header` must be the header of a live `Entry<T>` of the `T` this function was
/// instantiated with, `PRESENT`, unpinned, and the caller must hold the registry lock.
pub(crate) type TakeFn = unsafe fn(*const Header) -> Box<dyn Send>;

/// A thread's record that one `Local` slot holds a value for it.
struct Reg {
    header: *const Header,
    take: TakeFn,
}

/// A thread id with its bucket coordinates, computed once per thread.
///
/// Bucket `b` holds `2^b` slots, so id `i` lives in bucket `floor(log2(i + 1))` at index
/// `i + 1 - 2^b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Thread {
    pub(crate) id: usize,
    pub(crate) bucket: usize,
    pub(crate) index: usize,
}

impl Thread {
    pub(crate) fn new(id: usize) -> Thread {
        let bucket = (usize::BITS - 1 - (id + 1).leading_zeros()) as usize;
        Thread {
            id,
            bucket,
            index: id + 1 - bucket_len(bucket),
        }
    }
}

/// Number of slots in bucket `bucket`.
pub(crate) const fn bucket_len(bucket: usize) -> usize {
    1 << bucket
}

/// Global state: the id allocator and, per live id, the slots that hold its values.
pub(crate) struct Registry {
    /// Released ids, smallest first, so that ids stay dense and buckets stay few.
    free: BinaryHeap<Reverse<usize>>,
    /// The next never-used id.
    next: usize,
    /// Registrations per id. An id with registrations is never handed out again.
    threads: Vec<Vec<Reg>>,
}

// SAFETY: `Reg` holds raw pointers to slots of live `Local`s; they are only dereferenced with
// the registry lock held, and a `Local` removes its registrations (under the same lock)
// before its slots are freed. The values behind them are `Send`.
unsafe impl Send for Registry {}

impl Registry {
    #[cfg(not(contexture_loom))]
    const fn new() -> Registry {
        Registry {
            free: BinaryHeap::new(),
            next: 0,
            threads: Vec::new(),
        }
    }

    #[cfg(contexture_loom)]
    fn new() -> Registry {
        Registry {
            free: BinaryHeap::new(),
            next: 0,
            threads: Vec::new(),
        }
    }

    fn alloc_id(&mut self) -> usize {
        let id = match self.free.pop() {
            Some(Reverse(id)) => id,
            None => {
                let id = self.next;
                self.next += 1;
                id
            }
        };
        // Bucket `BUCKETS - 1` (ids from `usize::MAX / 2` on) stays unallocated: `UNREGISTERED`
        // looks there. (Unreachable: as many live threads do not fit in memory.)
        assert!(
            id < usize::MAX / 2,
            "contexture_local: thread ids exhausted"
        );
        if self.threads.len() <= id {
            self.threads.resize_with(id + 1, Vec::new);
        }
        id
    }

    fn release_id(&mut self, id: usize) {
        // An id that still has registrations (a destructor kept re-inserting values) is never
        // reused: its values stay put until their `Local` is dropped, and no new thread can
        // see them.
        if self.threads[id].is_empty() {
            self.free.push(Reverse(id));
        }
    }

    /// Records that the slot behind `header` holds a value for thread `id`.
    ///
    /// # Safety
    /// `header` must point at the start of a whole entry (its provenance covers the value,
    /// which `take` reads), stay valid until `unregister` is called for it, and `take` must
    /// match its entry type.
    pub(crate) unsafe fn register(&mut self, id: usize, header: *const Header, take: TakeFn) {
        let regs = &mut self.threads[id];
        // SAFETY: `header` is valid (caller); `reg_index` is only accessed with the registry
        // lock held, which `&mut self` proves.
        unsafe { *(*header).reg_index.get() = regs.len() };
        regs.push(Reg { header, take });
    }

    /// Forgets the registration of the slot behind `header` for thread `id`.
    ///
    /// # Safety
    /// The slot must currently be registered for `id`.
    pub(crate) unsafe fn unregister(&mut self, id: usize, header: &Header) {
        let regs = &mut self.threads[id];
        // SAFETY: registry lock held (`&mut self`).
        let at = unsafe { *header.reg_index.get() };
        regs.swap_remove(at);
        if let Some(moved) = regs.get(at) {
            // SAFETY: every registered header is live (see `register`); lock held.
            unsafe { *(*moved.header).reg_index.get() = at };
        }
    }
}

struct Global {
    registry: Mutex<Registry>,
    /// Signalled when a `CLOSING` slot loses its last pin.
    unpinned: Condvar,
}

#[cfg(not(contexture_loom))]
static GLOBAL: Global = Global {
    registry: Mutex::new(Registry::new()),
    unpinned: Condvar::new(),
};

#[cfg(not(contexture_loom))]
fn global() -> &'static Global {
    &GLOBAL
}

#[cfg(contexture_loom)]
loom::lazy_static! {
    static ref GLOBAL: Global = Global {
        registry: Mutex::new(Registry::new()),
        unpinned: Condvar::new(),
    };
}

#[cfg(contexture_loom)]
fn global() -> &'static Global {
    &GLOBAL
}

/// Locks the registry. The lock is never held while user code runs, so it cannot be
/// poisoned by a user panic; a poisoned lock is still taken (its data is always consistent
/// between our own statements).
pub(crate) fn lock() -> MutexGuard<'static, Registry> {
    global()
        .registry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Wakes exiting threads waiting for pins to drain. Called after a pin count reached zero
/// on a `CLOSING` slot.
pub(crate) fn notify_unpinned() {
    // Taking the lock orders this notification after the waiter's check of the pin count.
    let guard = lock();
    global().unpinned.notify_all();
    drop(guard);
}

/// The coordinates of a thread without an id: bucket `BUCKETS - 1` is never allocated (it
/// would take 2^63 live threads), so a lookup with them finds no bucket and misses, with no
/// separate "registered?" test on the hot path.
pub(crate) const UNREGISTERED: Thread = Thread {
    id: usize::MAX,
    bucket: crate::local::BUCKETS - 1,
    index: 0,
};

tls! {
    /// This thread's id and bucket coordinates, [`UNREGISTERED`] until the thread first
    /// stores a value (and again after its exit cleanup ran). No destructor, so it stays
    /// readable during thread teardown.
    static THREAD: Cell<Thread> = Cell::new(UNREGISTERED);
}

tls! {
    /// Runs this thread's exit cleanup from its destructor. Armed on first registration.
    static GUARD: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) };
}

// The later-running fallbacks: a value stored from a thread-local destructor that runs
// after `GUARD`'s (so after this thread's cleanup released its id) registers the thread
// again and arms the first of these still alive. A thread-local first reached during
// teardown has its destructor registered then, and run right after the running one, so
// that value is dropped and its id released before the thread is gone.
tls! { static LATE0: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) }; }
tls! { static LATE1: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) }; }
tls! { static LATE2: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) }; }
tls! { static LATE3: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) }; }
tls! { static LATE4: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) }; }
tls! { static LATE5: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) }; }
tls! { static LATE6: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) }; }
tls! { static LATE7: ExitGuard = ExitGuard { id: Cell::new(usize::MAX) }; }

/// Arms the first exit guard still alive (and not armed for another id) to clean up `id`;
/// false when all of them already ran.
fn arm_exit_guard(id: usize) -> bool {
    for key in [
        &GUARD, &LATE0, &LATE1, &LATE2, &LATE3, &LATE4, &LATE5, &LATE6, &LATE7,
    ] {
        let armed = key.try_with(|g| {
            let current = g.id.get();
            if current == usize::MAX || current == id {
                g.id.set(id);
                true
            } else {
                false
            }
        });
        if matches!(armed, Ok(true)) {
            return true;
        }
    }
    false
}

struct ExitGuard {
    id: Cell<usize>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let id = self.id.get();
        if id != usize::MAX {
            exit_thread(id);
        }
    }
}

/// This thread's coordinates if it has stored a value in any `Local` (the fast path).
#[inline]
pub(crate) fn current_if_registered() -> Option<Thread> {
    Some(current_or_unregistered()).filter(|t| t.id != usize::MAX)
}

/// This thread's coordinates, or [`UNREGISTERED`] (which no slot matches): the lookup fast
/// path, one thread-local read and no branch.
#[inline]
pub(crate) fn current_or_unregistered() -> Thread {
    THREAD.try_with(Cell::get).unwrap_or(UNREGISTERED)
}

/// This thread's coordinates, allocating an id (under the lock the caller holds) and arming
/// the exit cleanup on first use.
pub(crate) fn current(registry: &mut Registry) -> Thread {
    match current_if_registered() {
        Some(thread) => thread,
        None => register_current(registry),
    }
}

#[cold]
fn register_current(registry: &mut Registry) -> Thread {
    let thread = Thread::new(registry.alloc_id());
    // `THREAD` has no destructor, so it is accessible even during teardown.
    let _ = THREAD.try_with(|t| t.set(thread));
    // During teardown, after our guard already ran, a later guard of the chain is armed.
    // Past the whole chain (nine rounds of destructors storing after each cleanup) none
    // runs: the values stay until their `Local` is dropped and the id is never reused.
    let _ = arm_exit_guard(thread.id);
    thread
}

/// Number of thread ids ever handed out: the high-water mark of threads alive at once (plus
/// ids that could not be released).
pub(crate) fn ids_high_water() -> usize {
    lock().next
}

/// Runs this thread's exit cleanup now, as its thread-local destructor would.
///
/// loom 0.7 cannot block inside a thread-local destructor (a contended lock there corrupts
/// its object store), so the models call the very same cleanup at the end of each thread.
#[cfg(all(test, contexture_loom))]
pub(crate) fn exit_current_thread_for_loom() {
    if let Some(thread) = current_if_registered() {
        for key in [
            &GUARD, &LATE0, &LATE1, &LATE2, &LATE3, &LATE4, &LATE5, &LATE6, &LATE7,
        ] {
            let _ = key.try_with(|g| g.id.set(usize::MAX));
        }
        exit_thread(thread.id);
    }
}

/// Drops every value this thread still has in any live `Local`, then releases its id.
fn exit_thread(id: usize) {
    for _ in 0..MAX_EXIT_ROUNDS {
        let values = claim_all(id);
        if values.is_empty() {
            break;
        }
        // No lock is held here: the values' destructors may use any `Local`, including
        // dropping the very `Local` a value came from.
        for value in values {
            drop_caught(value);
        }
    }
    let _ = THREAD.try_with(|t| t.set(UNREGISTERED));
    lock().release_id(id);
}

/// Moves every value registered for `id` out of its slot. Waits while another thread holds a
/// pin on one of them.
fn claim_all(id: usize) -> Vec<Box<dyn Send>> {
    let mut registry = lock();
    let mut values = Vec::with_capacity(registry.threads[id].len());
    while let Some(reg) = registry.threads[id].last() {
        let (header_ptr, take) = (reg.header, reg.take);
        // SAFETY: registered headers are live while registered; lock held.
        let header = unsafe { &*header_ptr };
        // Acquire: pairs with the Release of the last unpin, so a reader is done with the
        // value before we move it.
        //
        // Setting `CLOSING` and reading the pins in one atomic step means that an unpin
        // either happened before (we see fewer pins) or sees `CLOSING` and notifies us, and
        // its notification needs the lock we hold until `wait` releases it: no lost wakeup.
        let state = header.state.fetch_or(CLOSING, Ordering::Acquire);
        if state >= PIN {
            registry = global()
                .unpinned
                .wait(registry)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // The list may have changed while we waited: start over from it.
            continue;
        }
        // SAFETY: lock held, slot registered for `id` (so live and `PRESENT`), unpinned.
        unsafe {
            registry.unregister(id, header);
            values.push(take(header_ptr));
        }
    }
    values
}

/// Drops a value from exit cleanup; a panicking destructor is caught (the panic hook has
/// already reported it) so that the other values are still dropped and the process does
/// not abort.
pub(crate) fn drop_caught<V>(value: V) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        // Dropping the payload may itself panic; then leak it rather than abort.
        if let Err(inner) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(inner);
        }
    }
}

#[cfg(all(test, not(contexture_loom)))]
mod tests {
    use super::*;

    #[test]
    fn thread_coordinates_cover_every_id_once() {
        let mut seen = std::collections::HashSet::new();
        for id in 0..1000 {
            let t = Thread::new(id);
            assert!(t.index < bucket_len(t.bucket), "{t:?}");
            assert!(seen.insert((t.bucket, t.index)));
        }
        assert_eq!(
            Thread::new(0),
            Thread {
                id: 0,
                bucket: 0,
                index: 0
            }
        );
        assert_eq!(
            Thread::new(2),
            Thread {
                id: 2,
                bucket: 1,
                index: 1
            }
        );
        assert_eq!(Thread::new(3).bucket, 2);
    }

    #[test]
    fn released_ids_are_reused_smallest_first() {
        let mut r = Registry::new();
        let a = r.alloc_id();
        let b = r.alloc_id();
        let c = r.alloc_id();
        r.release_id(c);
        r.release_id(a);
        assert_eq!(r.alloc_id(), a);
        assert_eq!(r.alloc_id(), c);
        assert_eq!(r.alloc_id(), b + 2);
    }
}
