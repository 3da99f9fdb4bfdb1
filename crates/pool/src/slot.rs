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
//! class's free list, or else carved from the cache's current chunk of that class (chunks
//! of 4 KiB, doubling up to 256 KiB: one `malloc` for many jobs, which is what a batch in
//! a fresh process pays for). When the last reference goes, the job is dropped and its
//! slot pushed on the free list. The chunks are bounded: once they total [`CACHE_BYTES`]
//! (8 MiB, 131,072 slots of 64 bytes), jobs that find no free slot use the global
//! allocator, as do bigger or over-aligned jobs. The free lists are intrusive (a free slot
//! holds the pointer to the next one), under a mutex that also counts the slots handed out
//! (`live`).
//!
//! The pool owns the cache through a [`CacheOwner`]; dropping it (when the pool's shared
//! state goes, after its workers are joined) closes the cache. Handles may outlive the
//! pool, so the chunks and the cache itself are freed by whoever leaves it closed with no
//! slot handed out: the owner, or the last job returning its slot. A pool's job memory is
//! thus at most 8 MiB beyond what the global allocator holds, and all of it goes back when
//! the pool is dropped (or, if some of its handles live on, when the last of them goes).

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};

use crate::loom::{AtomicUsize, Mutex, Ordering};

/// The size classes of cached job slots, in bytes.
pub(crate) const CLASSES: [usize; 3] = [64, 128, 256];

/// The alignment of every cached slot: jobs that need more use the global allocator.
const SLOT_ALIGN: usize = 16;

/// The most bytes of chunks a pool's cache allocates (8 MiB: 131,072 slots of 64 bytes).
pub(crate) const CACHE_BYTES: usize = 8 << 20;

/// The first chunk's size; each next one is twice the last, up to [`MAX_CHUNK`].
const FIRST_CHUNK: usize = 4 << 10;
const MAX_CHUNK: usize = 256 << 10;

/// The size class of a job allocation with `layout`, if it is cached.
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > SLOT_ALIGN {
        return None;
    }
    CLASSES.iter().position(|&size| layout.size() <= size)
}

/// The layout of a chunk of `bytes`.
fn chunk_layout(bytes: usize) -> Layout {
    // A non-zero multiple of `SLOT_ALIGN`, a power of two, far below `isize::MAX`.
    Layout::from_size_align(bytes, SLOT_ALIGN).expect("a valid chunk layout")
}

/// What the cache's mutex guards.
struct Free {
    /// Per class, the first free slot (each free slot holds the pointer to the next one in
    /// its first word); null when empty.
    heads: [*mut u8; CLASSES.len()],
    /// Per class, the part of its current chunk not carved yet: `[next, end)`.
    carve: [(*mut u8, *mut u8); CLASSES.len()],
    /// Every chunk allocated, with its size: freed together once the cache is closed and
    /// no slot is handed out.
    chunks: Vec<(NonNull<u8>, usize)>,
    /// Bytes of `chunks`, at most `bound`.
    bytes: usize,
    bound: usize,
    /// Slots handed out and not returned yet.
    live: usize,
    /// The owner is gone: the one that leaves `live` at zero frees the chunks and the cache.
    closed: bool,
}

// SAFETY: the raw pointers in `Free` are chunks and free slots that nobody else
// references: they are only read and written under the mutex, by whichever thread holds it.
unsafe impl Send for Free {}

impl Free {
    /// Frees every chunk (the caller makes sure no slot is handed out).
    fn free_chunks(&mut self) {
        self.heads = [ptr::null_mut(); CLASSES.len()];
        self.carve = [(ptr::null_mut(), ptr::null_mut()); CLASSES.len()];
        self.bytes = 0;
        for (chunk, bytes) in self.chunks.drain(..) {
            // SAFETY: allocated by `SlotCache::take` with this layout; no slot in it is
            // handed out, and the lists that pointed into it were cleared above.
            unsafe { alloc::dealloc(chunk.as_ptr(), chunk_layout(bytes)) };
        }
    }
}

/// A pool's free lists of job slots. Only ever reached through a raw pointer: made by
/// [`CacheOwner::new`], freed by whoever closes it last (see the module docs).
pub(crate) struct SlotCache {
    free: Mutex<Free>,
}

impl SlotCache {
    fn lock(&self) -> crate::loom::MutexGuard<'_, Free> {
        // No user code runs under this lock, and nothing under it panics but an allocation
        // failure of `chunks` (after which the lists are still consistent).
        self.free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot of `class`, counted live: a free one, or one carved from a chunk; `None`
    /// when the chunks have reached their bound and none is free.
    fn take(&self, class: usize) -> Option<NonNull<u8>> {
        let size = CLASSES[class];
        let mut free = self.lock();
        let head = free.heads[class];
        let slot = if head.is_null() {
            let (next, end) = free.carve[class];
            if next == end {
                let bytes = (FIRST_CHUNK << free.chunks.len().min(16)).min(MAX_CHUNK);
                if free.bytes + bytes > free.bound {
                    return None;
                }
                // SAFETY: the layout has a non-zero size.
                let chunk = NonNull::new(unsafe { alloc::alloc(chunk_layout(bytes)) })?;
                free.chunks.push((chunk, bytes));
                free.bytes += bytes;
                // SAFETY: `bytes` is the chunk's size: one past its end.
                free.carve[class] = (chunk.as_ptr(), unsafe { chunk.as_ptr().add(bytes) });
            }
            let (next, end) = free.carve[class];
            // SAFETY: `[next, end)` is the uncarved part of a chunk, a multiple of `size`
            // long (chunks are multiples of 4 KiB, classes divide 4 KiB), and not empty.
            free.carve[class] = (unsafe { next.add(size) }, end);
            next
        } else {
            // SAFETY: a free slot on the list: `size` bytes aligned 16 inside a chunk,
            // referenced by nobody else; its first word, written by `give_back`, points to
            // the next free slot.
            free.heads[class] = unsafe { head.cast::<*mut u8>().read() };
            head
        };
        free.live += 1;
        NonNull::new(slot)
    }

    /// Returns a slot of `class` that [`take`](SlotCache::take) handed out.
    ///
    /// # Safety
    ///
    /// `this` is a cache that handed `slot` out for `class`, and the slot is referenced by
    /// nobody any more. `this` may be freed by this call: the caller does not use it again.
    unsafe fn give_back(this: NonNull<SlotCache>, slot: NonNull<u8>, class: usize) {
        let last = {
            // SAFETY: the cache lives while a slot it handed out is live (`live > 0`),
            // which `slot` is until the count below.
            let mut free = unsafe { this.as_ref() }.lock();
            free.live -= 1;
            // SAFETY: the slot is at least a word and aligned for a pointer, and nobody
            // else references it.
            unsafe { slot.as_ptr().cast::<*mut u8>().write(free.heads[class]) };
            free.heads[class] = slot.as_ptr();
            let last = free.closed && free.live == 0;
            if last {
                free.free_chunks();
            }
            last
        };
        if last {
            // SAFETY: closed with nothing handed out: nobody can reach the cache any more
            // (the owner is gone, every job's slot is back); it came from `Box::leak`.
            drop(unsafe { Box::from_raw(this.as_ptr()) });
        }
    }

    /// Bytes of chunks allocated, and slots handed out, for the tests.
    #[cfg(all(test, not(contexture_loom)))]
    fn usage(&self) -> (usize, usize) {
        let free = self.lock();
        (free.bytes, free.live)
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
    /// An empty cache whose chunks total at most [`CACHE_BYTES`].
    pub(crate) fn new() -> CacheOwner {
        CacheOwner::with_bound(CACHE_BYTES)
    }

    /// An empty cache whose chunks total at most `bound` bytes.
    pub(crate) fn with_bound(bound: usize) -> CacheOwner {
        let cache = Box::new(SlotCache {
            free: Mutex::new(Free {
                heads: [ptr::null_mut(); CLASSES.len()],
                carve: [(ptr::null_mut(), ptr::null_mut()); CLASSES.len()],
                chunks: Vec::new(),
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

    /// Bytes of chunks allocated, and slots handed out, for the tests.
    #[cfg(all(test, not(contexture_loom)))]
    pub(crate) fn usage(&self) -> (usize, usize) {
        self.cache().usage()
    }
}

impl Drop for CacheOwner {
    fn drop(&mut self) {
        let last = {
            let mut free = self.cache().lock();
            free.closed = true;
            let last = free.live == 0;
            if last {
                free.free_chunks();
            }
            last
        };
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
    /// The cache the slot goes back to; `None` when the job has its own allocation (with
    /// its own layout).
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

/// Moves `job` into a slot of `cache` (or its own allocation when it does not fit one, or
/// the cache is at its bound) with two references, which
/// the caller turns into two [`JobRef`]s with [`JobRef::from_raw`].
pub(crate) fn alloc<J>(job: J, cache: &CacheOwner) -> NonNull<Counted<J>> {
    let layout = Layout::new::<Counted<J>>();
    let slot = class_of(layout).and_then(|class| cache.cache().take(class));
    let (memory, cache) = match slot {
        Some(slot) => (slot, Some(cache.0)),
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
                // class from the same layout, and took a slot since `cache` is set) and the
                // job in it has been dropped.
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
    use super::{alloc, CacheOwner, Counted, JobRef, CLASSES, FIRST_CHUNK};
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
        assert_eq!(cache.usage(), (FIRST_CHUNK, 1), "one chunk, one slot out");
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 0, "one reference left");
        drop(b);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert_eq!(cache.usage(), (FIRST_CHUNK, 0));
        let (c, d) = pair(probe(), &cache);
        assert_eq!(c.addr(), first, "the free slot is taken again");
        drop((c, d));
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn slots_are_carved_from_chunks_that_grow() {
        let cache = CacheOwner::new();
        let per_chunk = FIRST_CHUNK / CLASSES[0];
        let jobs: Vec<_> = (0..per_chunk as u64 + 1).map(|n| pair(n, &cache)).collect();
        assert_eq!(
            cache.usage(),
            (3 * FIRST_CHUNK, per_chunk + 1),
            "4 KiB, then 8 KiB"
        );
        let (a, b) = &jobs[1];
        assert_eq!(a.addr() as usize - jobs[0].0.addr() as usize, CLASSES[0]);
        assert_eq!(*b.job(), 1);
        drop(jobs);
        assert_eq!(cache.usage(), (3 * FIRST_CHUNK, 0));
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
        assert_eq!(cache.usage(), (0, 0));
    }

    #[test]
    fn past_the_bound_jobs_use_the_global_allocator() {
        let cache = CacheOwner::with_bound(FIRST_CHUNK);
        let per_chunk = FIRST_CHUNK / CLASSES[0];
        let jobs: Vec<_> = (0..per_chunk as u64 + 5).map(|n| pair(n, &cache)).collect();
        assert_eq!(cache.usage(), (FIRST_CHUNK, per_chunk));
        for (n, (a, _)) in jobs.iter().enumerate() {
            assert_eq!(*a.job(), n as u64);
        }
        drop(jobs);
        assert_eq!(cache.usage(), (FIRST_CHUNK, 0));
    }

    #[test]
    fn jobs_may_outlive_the_owner() {
        let cache = CacheOwner::new();
        let (a, b) = pair(5u64, &cache);
        drop(pair(6u64, &cache));
        drop(cache);
        assert_eq!(*a.job(), 5);
        drop(a);
        drop(b); // the last slot: frees the chunks and the cache (Miri reports a leak else)
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
        assert_eq!(cache.usage(), (FIRST_CHUNK, 0), "the slot came back");
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
            assert_eq!(
                cache.usage(),
                (FIRST_CHUNK, 0),
                "64 slots of 64 bytes: one chunk"
            );
        }
    }

    /// Through a real pool: handles kept past the pool's drop still give their results,
    /// and the last one frees the cache (Miri reports a leak or a use after free else).
    #[test]
    fn handles_may_outlive_their_pool() {
        let pool = crate::ThreadPool::builder().max_workers(2).build().unwrap();
        let handles: Vec<_> = (0..10u64)
            .map(|n| pool.submit(move || n * 2).unwrap())
            .collect();
        drop(pool);
        let sum: u64 = handles.into_iter().map(|h| h.result().unwrap()).sum();
        assert_eq!(sum, 90);
    }
}
