//! Job memory: one allocation per job, shared by its [`Handle`](crate::Handle) and the
//! queue through a counted reference ([`JobRef`]), and recycled through the pool's
//! [`SlotCache`] instead of going back to the global allocator.
//!
//! # Why
//!
//! A batch (submit 100,000 jobs keeping the handles, then take every result) keeps all its
//! jobs alive until the end, then frees them all at once. With glibc, that freed memory is
//! consolidated and trimmed back to the kernel, and the next batch allocates and faults
//! the same pages in again: measured, `malloc`/`free` and `malloc_consolidate` were ~360
//! of a tiny job's 1,240 instructions, and the pool took 3× threadpool's page faults in a
//! fresh process. A job's memory now comes from the pool's own free list when it can.
//!
//! # The cache
//!
//! Jobs whose allocation (a [`Header`] and the job) fits one of [`CLASSES`] (64, 128 or
//! 256 bytes, alignment at most 16) take a slot of that size class: popped from the
//! cache's free list, or freshly allocated with the class's layout. When the last
//! reference goes, the job is dropped and its slot pushed back, unless the cache already
//! holds its bound of bytes (then the slot goes back to the allocator). Bigger or
//! over-aligned jobs use the global allocator with their own layout and never touch the
//! cache. The free list is intrusive (a free slot holds the pointer to the next one), under
//! a mutex that also counts the slots handed out (`live`).
//!
//! The pool owns the cache through a [`CacheOwner`]; dropping it (when the pool's shared
//! state goes, after its workers are joined) closes the cache: its free slots go back to
//! the allocator, and slots returned later too. Handles may outlive the pool, so the cache
//! itself is freed by whoever leaves it closed with no slot handed out: the owner, or the
//! last job returning its slot.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};

use crate::loom::{AtomicUsize, Mutex, Ordering};

/// The size classes of cached job slots, in bytes.
pub(crate) const CLASSES: [usize; 3] = [64, 128, 256];

/// The alignment of every cached slot: jobs that need more use the global allocator.
const SLOT_ALIGN: usize = 16;

/// The most bytes of free slots a pool keeps (8 MiB: 131,072 slots of 64 bytes).
pub(crate) const CACHE_BYTES: usize = 8 << 20;

/// The size class of a job allocation with `layout`, if it is cached.
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > SLOT_ALIGN {
        return None;
    }
    CLASSES.iter().position(|&size| layout.size() <= size)
}

/// The layout every slot of `class` is allocated (and freed) with.
fn slot_layout(class: usize) -> Layout {
    // `CLASSES` are non-zero multiples of `SLOT_ALIGN`, a power of two: always valid.
    Layout::from_size_align(CLASSES[class], SLOT_ALIGN).expect("a valid slot layout")
}

/// What the cache's mutex guards.
struct Free {
    /// Per class, the first free slot (each free slot holds the pointer to the next one in
    /// its first word); null when empty.
    heads: [*mut u8; CLASSES.len()],
    /// Bytes held in the free lists, at most `bound`.
    bytes: usize,
    bound: usize,
    /// Slots handed out and not returned yet (cached classes only).
    live: usize,
    /// The owner is gone: returned slots go back to the allocator, and the one that leaves
    /// `live` at zero frees the cache.
    closed: bool,
}

/// A pool's free lists of job slots. Only ever reached through a raw pointer: made by
/// [`CacheOwner::new`], freed by whoever closes it last (see the module docs).
pub(crate) struct SlotCache {
    free: Mutex<Free>,
}

// SAFETY: the raw pointers in `Free` are free slots that nobody else references: they are
// only read and written under the mutex, by whichever thread holds it.
unsafe impl Send for Free {}

impl SlotCache {
    fn lock(&self) -> crate::loom::MutexGuard<'_, Free> {
        // No user code runs under this lock, and nothing under it panics (the list
        // operations are pointer reads and writes), so a poisoned lock is consistent.
        self.free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot of `class`: a free one, or a fresh allocation. Counted live either way.
    fn take(&self, class: usize) -> NonNull<u8> {
        let popped = {
            let mut free = self.lock();
            let head = free.heads[class];
            if !head.is_null() {
                // SAFETY: a free slot on the list: allocated with `slot_layout(class)`
                // (at least 64 bytes, aligned 16), referenced by nobody else, and its
                // first word, written by `give_back`, points to the next free slot.
                free.heads[class] = unsafe { head.cast::<*mut u8>().read() };
                free.bytes -= CLASSES[class];
            }
            free.live += 1;
            head
        };
        if let Some(slot) = NonNull::new(popped) {
            return slot;
        }
        let layout = slot_layout(class);
        // SAFETY: the layout has a non-zero size.
        match NonNull::new(unsafe { alloc::alloc(layout) }) {
            Some(slot) => slot,
            None => {
                // Not handed out after all (the error handler may unwind).
                self.lock().live -= 1;
                alloc::handle_alloc_error(layout)
            }
        }
    }

    /// Returns a slot of `class` that [`take`](SlotCache::take) handed out.
    ///
    /// # Safety
    ///
    /// `this` is a cache that handed `slot` out for `class`, and the slot is referenced by
    /// nobody any more. `this` may be freed by this call: the caller does not use it again.
    unsafe fn give_back(this: NonNull<SlotCache>, slot: NonNull<u8>, class: usize) {
        let (kept, last) = {
            // SAFETY: the cache lives while a slot it handed out is live (`live > 0`),
            // which `slot` is until the count below.
            let mut free = unsafe { this.as_ref() }.lock();
            free.live -= 1;
            let kept = !free.closed && free.bytes + CLASSES[class] <= free.bound;
            if kept {
                // SAFETY: the slot is at least a word and aligned for a pointer, and
                // nobody else references it.
                unsafe { slot.as_ptr().cast::<*mut u8>().write(free.heads[class]) };
                free.heads[class] = slot.as_ptr();
                free.bytes += CLASSES[class];
            }
            (kept, free.closed && free.live == 0)
        };
        if !kept {
            // SAFETY: allocated with this layout by `take`; nobody references it.
            unsafe { alloc::dealloc(slot.as_ptr(), slot_layout(class)) };
        }
        if last {
            // SAFETY: closed with nothing handed out: nobody can reach the cache any more
            // (the owner is gone, every job's slot is back); it came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(this.as_ptr()) });
        }
    }

    /// Bytes held in the free lists, for the tests.
    #[cfg(all(test, not(contexture_loom)))]
    fn cached_bytes(&self) -> usize {
        self.lock().bytes
    }
}

/// The pool's ownership of its [`SlotCache`]: dropping it closes the cache.
pub(crate) struct CacheOwner(NonNull<SlotCache>);

// SAFETY: the cache is only used through its mutex (and freed once, by the last of the
// owner and the live slots, which the mutex orders), so it may be used from any thread.
unsafe impl Send for CacheOwner {}
// SAFETY: as for `Send`: every access through `&CacheOwner` goes through the mutex.
unsafe impl Sync for CacheOwner {}

impl CacheOwner {
    /// An empty cache that keeps at most [`CACHE_BYTES`] of free slots.
    pub(crate) fn new() -> CacheOwner {
        CacheOwner::with_bound(CACHE_BYTES)
    }

    /// An empty cache that keeps at most `bound` bytes of free slots.
    pub(crate) fn with_bound(bound: usize) -> CacheOwner {
        let cache = Box::new(SlotCache {
            free: Mutex::new(Free {
                heads: [ptr::null_mut(); CLASSES.len()],
                bytes: 0,
                bound,
                live: 0,
                closed: false,
            }),
        });
        CacheOwner(NonNull::from(Box::leak(cache)))
    }

    fn cache(&self) -> &SlotCache {
        // SAFETY: the cache is freed only once the owner is gone (`closed`).
        unsafe { self.0.as_ref() }
    }

    /// Bytes held in the free lists, for the tests.
    #[cfg(all(test, not(contexture_loom)))]
    pub(crate) fn cached_bytes(&self) -> usize {
        self.cache().cached_bytes()
    }
}

impl Drop for CacheOwner {
    fn drop(&mut self) {
        let (heads, last) = {
            let mut free = self.cache().lock();
            free.closed = true;
            free.bytes = 0;
            let heads = std::mem::replace(&mut free.heads, [ptr::null_mut(); CLASSES.len()]);
            (heads, free.live == 0)
        };
        for (class, mut slot) in heads.into_iter().enumerate() {
            while !slot.is_null() {
                // SAFETY: taken off the free list above, so nobody else references these
                // slots; each holds the next one in its first word and was allocated with
                // `slot_layout(class)`.
                unsafe {
                    let next = slot.cast::<*mut u8>().read();
                    alloc::dealloc(slot, slot_layout(class));
                    slot = next;
                }
            }
        }
        if last {
            // SAFETY: closed with no slot handed out: no job can reach the cache, and the
            // owner is going; it came from `Box::leak` in `with_bound`.
            drop(unsafe { Box::from_raw(self.0.as_ptr()) });
        }
    }
}

/// What precedes every job in its allocation.
struct Header {
    /// References to the job: its handle's and the queue's (the job starts with both).
    refs: AtomicUsize,
    /// The cache the slot goes back to; `None` when the job has its own allocation.
    cache: Option<NonNull<SlotCache>>,
}

// SAFETY: `cache` is only used to give the slot back, through the cache's mutex, by the
// one thread that drops the last reference.
unsafe impl Send for Header {}
// SAFETY: as for `Send`; `refs` is atomic.
unsafe impl Sync for Header {}

/// A job with its [`Header`] in front (`repr(C)`: the header is at offset 0, so a pointer
/// to the whole, even a fat one to a trait object, is also a pointer to the header).
#[repr(C)]
pub(crate) struct Counted<J> {
    header: Header,
    job: J,
}

impl<J> Counted<J> {
    /// The job.
    pub(crate) fn job(&self) -> &J {
        &self.job
    }
}

/// Moves `job` into a slot of `cache` (or its own allocation) with two references, which
/// the caller turns into two [`JobRef`]s with [`JobRef::from_raw`].
pub(crate) fn alloc<J>(job: J, cache: &CacheOwner) -> NonNull<Counted<J>> {
    let layout = Layout::new::<Counted<J>>();
    let (memory, cache) = match class_of(layout) {
        Some(class) => (cache.cache().take(class), Some(cache.0)),
        None => {
            // SAFETY: the layout has a non-zero size (the header).
            let memory = unsafe { alloc::alloc(layout) };
            match NonNull::new(memory) {
                Some(memory) => (memory, None),
                None => alloc::handle_alloc_error(layout),
            }
        }
    };
    let counted = memory.cast::<Counted<J>>();
    // SAFETY: the memory is fresh or a free slot, referenced by nobody, at least as large
    // and as aligned as `Counted<J>` (`class_of` checked the class's size and alignment).
    unsafe {
        counted.as_ptr().write(Counted {
            header: Header {
                refs: AtomicUsize::new(2),
                cache,
            },
            job,
        });
    }
    counted
}

/// A counted reference to a job in its slot, seen as `D` (`dyn HasTask<T>` for the handle,
/// `dyn Runnable` for the queue): `Arc`'s job, with the memory going back to the cache.
pub(crate) struct JobRef<D: ?Sized> {
    ptr: NonNull<D>,
}

// SAFETY: a `JobRef` gives `&D` to any thread and may drop `D` on any thread; the trait
// objects it holds require `Send + Sync` (as `Arc<D>` is `Send` when `D: Send + Sync`).
unsafe impl<D: ?Sized + Send + Sync> Send for JobRef<D> {}
// SAFETY: as for `Send`.
unsafe impl<D: ?Sized + Send + Sync> Sync for JobRef<D> {}

impl<D: ?Sized> JobRef<D> {
    /// Takes one of the references that [`alloc`] made.
    ///
    /// # Safety
    ///
    /// `ptr` points to a `Counted<J>` from [`alloc`] (a coercion of its pointer, same
    /// address, `D` implemented by `Counted<J>`), and the caller owns one of its references.
    pub(crate) unsafe fn from_raw(ptr: NonNull<D>) -> JobRef<D> {
        JobRef { ptr }
    }

    fn header(&self) -> &Header {
        // SAFETY: the pointer is to a `repr(C)` `Counted<J>`, whose header is at offset 0,
        // alive while this reference exists.
        unsafe { self.ptr.cast::<Header>().as_ref() }
    }

    /// The job's address, for identity.
    pub(crate) fn addr(&self) -> *const () {
        self.ptr.as_ptr().cast::<()>()
    }
}

impl<D: ?Sized> std::ops::Deref for JobRef<D> {
    type Target = D;

    fn deref(&self) -> &D {
        // SAFETY: alive while this reference exists; only ever shared (`&`).
        unsafe { self.ptr.as_ref() }
    }
}

impl<D: ?Sized> Clone for JobRef<D> {
    fn clone(&self) -> JobRef<D> {
        // Relaxed: as `Arc::clone`, the new reference comes from an existing one, which
        // keeps the job alive meanwhile.
        self.header().refs.fetch_add(1, Ordering::Relaxed);
        JobRef { ptr: self.ptr }
    }
}

impl<D: ?Sized> Drop for JobRef<D> {
    fn drop(&mut self) {
        // AcqRel: Release so that this thread's uses of the job come before its drop;
        // Acquire (when this is the last) so that the drop comes after everyone else's.
        if self.header().refs.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // SAFETY: the last reference: nobody else can reach the job.
        unsafe { release(self.ptr) }
    }
}

/// Drops the job and gives its memory back, even when the job's drop panics (user code:
/// an outcome's or a closure's `Drop`).
///
/// # Safety
///
/// `ptr` comes from [`alloc`] (as in [`JobRef::from_raw`]) and nobody references it any
/// more.
unsafe fn release<D: ?Sized>(ptr: NonNull<D>) {
    /// Gives the memory back when dropped: after the job's drop, or while it unwinds.
    struct GiveBack {
        memory: NonNull<u8>,
        layout: Layout,
        cache: Option<NonNull<SlotCache>>,
    }
    impl Drop for GiveBack {
        fn drop(&mut self) {
            match (self.cache, class_of(self.layout)) {
                // SAFETY: the slot came from this cache for this class (`alloc` picks the
                // class from the same layout) and the job in it has been dropped.
                (Some(cache), Some(class)) => unsafe {
                    SlotCache::give_back(cache, self.memory, class)
                },
                // SAFETY: allocated by `alloc` with this very layout; the job is dropped.
                _ => unsafe { alloc::dealloc(self.memory.as_ptr(), self.layout) },
            }
        }
    }
    // SAFETY: the job is alive until the `drop_in_place` below.
    let layout = Layout::for_value(unsafe { ptr.as_ref() });
    // SAFETY: the header is at offset 0 and alive; `Header` has no drop glue.
    let cache = unsafe { ptr.cast::<Header>().as_ref() }.cache;
    let _give_back = GiveBack {
        memory: ptr.cast::<u8>(),
        layout,
        cache,
    };
    // SAFETY: nobody references the job any more; it is dropped once, here.
    unsafe { ptr::drop_in_place(ptr.as_ptr()) };
}

#[cfg(all(test, not(contexture_loom)))]
mod tests {
    use super::{alloc, CacheOwner, Counted, JobRef, CLASSES};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Counts its drops; panics in `Drop` when asked to.
    struct Probe {
        drops: Arc<AtomicUsize>,
        panics: bool,
        _pad: [u64; 2],
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
            if self.panics {
                panic!("probe drop");
            }
        }
    }

    fn pair<J>(job: J, cache: &CacheOwner) -> (JobRef<Counted<J>>, JobRef<Counted<J>>) {
        let p = alloc(job, cache);
        // SAFETY: `alloc` made two references to `p`, one for each.
        unsafe { (JobRef::from_raw(p), JobRef::from_raw(p)) }
    }

    #[test]
    fn a_slot_is_reused_once_both_references_are_gone() {
        let cache = CacheOwner::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let probe = || Probe {
            drops: drops.clone(),
            panics: false,
            _pad: [0; 2],
        };
        let (a, b) = pair(probe(), &cache);
        let first = a.addr();
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 0, "one reference left");
        drop(b);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert_eq!(cache.cached_bytes(), CLASSES[0]);
        let (c, d) = pair(probe(), &cache);
        assert_eq!(c.addr(), first, "the free slot is taken again");
        assert_eq!(cache.cached_bytes(), 0);
        drop((c, d));
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn big_and_over_aligned_jobs_bypass_the_cache() {
        #[repr(align(64))]
        struct Aligned(#[allow(dead_code)] u8);
        let cache = CacheOwner::new();
        drop(pair([7u8; 1000], &cache));
        let (a, b) = pair(Aligned(1), &cache);
        assert_eq!(a.addr() as usize % 64, 0);
        drop((a, b));
        assert_eq!(cache.cached_bytes(), 0);
    }

    #[test]
    fn the_free_list_keeps_at_most_its_bound() {
        let cache = CacheOwner::with_bound(3 * CLASSES[0]);
        let jobs: Vec<_> = (0..10u64).map(|n| pair(n, &cache)).collect();
        drop(jobs);
        assert_eq!(cache.cached_bytes(), 3 * CLASSES[0]);
        let again: Vec<_> = (0..10u64).map(|n| pair(n, &cache)).collect();
        assert_eq!(cache.cached_bytes(), 0);
        drop(again);
    }

    #[test]
    fn jobs_may_outlive_the_owner() {
        let cache = CacheOwner::new();
        let (a, b) = pair(5u64, &cache);
        drop(pair(6u64, &cache)); // one free slot, freed by the owner's drop
        drop(cache);
        assert_eq!(*a.job(), 5);
        drop(a);
        drop(b); // the last slot: frees the cache too (Miri reports a leak otherwise)
    }

    #[test]
    fn a_panicking_drop_still_gives_the_memory_back() {
        let cache = CacheOwner::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let (a, b) = pair(
            Probe {
                drops: drops.clone(),
                panics: true,
                _pad: [0; 2],
            },
            &cache,
        );
        drop(a);
        assert!(catch_unwind(AssertUnwindSafe(move || drop(b))).is_err());
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert_eq!(cache.cached_bytes(), CLASSES[0], "the slot came back");
    }

    #[test]
    fn references_dropped_on_other_threads_come_back() {
        let cache = CacheOwner::new();
        for _ in 0..3 {
            let jobs: Vec<_> = (0..64u64).map(|n| pair(n, &cache)).collect();
            std::thread::scope(|s| {
                let (left, right): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
                s.spawn(move || drop(left));
                s.spawn(move || drop(right));
            });
            assert_eq!(cache.cached_bytes(), 64 * CLASSES[0]);
        }
    }
}
