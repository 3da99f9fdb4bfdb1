//! `Counted<T>`: the reference-counted allocation behind a map version.
//!
//! What `Arc` would be here, less what maps never use and plus two things they need:
//!
//! - no weak references: uniqueness is one acquire load, and the count is one word;
//! - the contents start 64 bytes after the count, on the next cache line whatever the
//!   allocation's address: a version shared by jobs on several threads has its count
//!   written by every capture and drop, and its stamp and entries read by every entry into
//!   it (on one line, each read on a worker pulled the line away from the submitting
//!   thread: a pool job with a request id set cost 2.5× an empty-context one);
//! - references forgotten with [`mem::forget`] can be given back **together**, in one
//!   atomic subtraction ([`Counted::give_back`]): a pool worker that ends a run of jobs of
//!   the same values owes one decrement per job, and paying them one by one was a write
//!   per job to the line the submitter increments (see `Spares`).
//!
//! The count is std's even under loom (as for `Arc`, which loom cannot model for the
//! unsized values); the protocol is `Arc`'s: relaxed increments, release decrements, an
//! acquire fence before the last one frees.

use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::ptr::NonNull;

use crate::loom::counts::{fence, AtomicUsize, Ordering};

/// One allocation: the count, a line apart from the contents.
#[repr(C)]
struct Block<T> {
    refs: AtomicUsize,
    /// Fills the rest of the count's cache line; never written nor read. Padding rather
    /// than `align(64)`: an over-aligned allocation took the allocator's slow aligned path
    /// on every copy (the first `set` after a copy went from ~250 to ~370 ns).
    _apart: MaybeUninit<[u8; 64 - mem::size_of::<usize>()]>,
    value: T,
}

/// A counted reference to a `T` (see the module docs).
pub(crate) struct Counted<T> {
    block: NonNull<Block<T>>,
    /// Owns a `Block<T>` (for drop check and variance).
    _owns: PhantomData<Block<T>>,
}

// SAFETY: as `Arc<T>`: the `T` is shared between the threads holding references (`Sync`)
// and dropped by whichever drops the last one (`Send`); the count is atomic.
unsafe impl<T: Send + Sync> Send for Counted<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Counted<T> {}

impl<T> Counted<T> {
    /// A new allocation holding `value`, counted once.
    pub(crate) fn new(value: T) -> Counted<T> {
        let block = Box::new(Block {
            refs: AtomicUsize::new(1),
            _apart: MaybeUninit::uninit(),
            value,
        });
        Counted {
            block: NonNull::from(Box::leak(block)),
            _owns: PhantomData,
        }
    }

    #[inline]
    fn refs(&self) -> &AtomicUsize {
        // SAFETY: the block is alive while this reference counts in it.
        unsafe { &self.block.as_ref().refs }
    }

    /// How many references are counted now (a plain load: exact only when the caller knows
    /// no other thread clones or drops one meanwhile, e.g. it holds the only one).
    #[inline]
    pub(crate) fn count(this: &Counted<T>) -> usize {
        this.refs().load(Ordering::Relaxed)
    }

    /// Whether both point at the same allocation.
    #[inline]
    pub(crate) fn ptr_eq(a: &Counted<T>, b: &Counted<T>) -> bool {
        a.block == b.block
    }

    /// The contents, writable, without checking that this is the only reference.
    ///
    /// # Safety
    ///
    /// No other reference to this allocation exists (counted or forgotten), so nobody else
    /// reads or writes the contents while the returned borrow lives.
    #[inline]
    pub(crate) unsafe fn get_mut_unchecked(this: &mut Counted<T>) -> &mut T {
        // SAFETY: the block is alive (this reference counts in it) and, by the caller's
        // guarantee, accessed by nobody else; the pointer comes from `Box::leak`'s
        // `&mut`, so it may write.
        unsafe { &mut (*this.block.as_ptr()).value }
    }

    /// The contents, moved out, when this is the only reference; else this reference back.
    pub(crate) fn try_unwrap(this: Counted<T>) -> Result<T, Counted<T>> {
        // Acquire: the other holders' uses of the contents (before their release
        // decrements) happen before we take them.
        if this
            .refs()
            .compare_exchange(1, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(this);
        }
        let block = this.block;
        mem::forget(this);
        // SAFETY: the count went from 1 to 0, so this was the last reference: the block,
        // leaked from a `Box` in `new`, is ours to take back.
        let Block { value, .. } = *unsafe { Box::from_raw(block.as_ptr()) };
        Ok(value)
    }

    /// Gives back `n` references to this allocation that were [`mem::forget`]-ten (each
    /// still counted), in one atomic step. `this` itself stays counted, so the count never
    /// reaches zero here: whoever drops the last reference frees the block.
    ///
    /// # Safety
    ///
    /// `n` references to this very allocation were forgotten and none of them was given
    /// back yet (each may be given back once).
    #[inline]
    pub(crate) unsafe fn give_back(this: &Counted<T>, n: usize) {
        if n != 0 {
            // Release, as a drop's decrement: the uses through the given-back references
            // happen before whoever frees the block (its acquire fence reads a later value
            // of this count's release sequence).
            let before = this.refs().fetch_sub(n, Ordering::Release);
            debug_assert!(before > n, "gave back more references than were forgotten");
        }
    }
}

impl<T: Clone> Counted<T> {
    /// The contents, writable: in place when this is the only reference, else after
    /// cloning them into a new allocation (this reference moves there).
    #[inline]
    pub(crate) fn make_mut(this: &mut Counted<T>) -> &mut T {
        // Acquire: as in `try_unwrap`. No weak references exist, and only a holder can
        // make another reference: with the only one borrowed mutably here, nobody can.
        if this.refs().load(Ordering::Acquire) != 1 {
            *this = Counted::new((**this).clone());
        }
        // SAFETY: the count is 1 and `this` is borrowed mutably: no other reference exists.
        unsafe { Counted::get_mut_unchecked(this) }
    }
}

impl<T> std::ops::Deref for Counted<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the block is alive while this reference counts in it, and the contents
        // are only written through the only reference (`make_mut`, `get_mut_unchecked`).
        unsafe { &self.block.as_ref().value }
    }
}

impl<T> Clone for Counted<T> {
    #[inline]
    fn clone(&self) -> Counted<T> {
        // Relaxed, as `Arc`: a new reference can only be made from an existing one, which
        // keeps the block alive meanwhile.
        let before = self.refs().fetch_add(1, Ordering::Relaxed);
        if before > isize::MAX as usize {
            // Only reachable by forgetting references in a loop (`Arc` aborts here too):
            // the count must not wrap to a free of a block still in use.
            std::process::abort();
        }
        Counted {
            block: self.block,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Counted<T> {
    #[inline]
    fn drop(&mut self) {
        if self.refs().fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Acquire: every other holder's use of the contents happens before the free.
        fence(Ordering::Acquire);
        // SAFETY: that was the last reference; the block came from `Box::leak` in `new`.
        drop(unsafe { Box::from_raw(self.block.as_ptr()) });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize as Drops;
    use std::sync::Arc;

    use super::*;

    #[derive(Clone)]
    struct Tracked(Arc<Drops>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn tracked() -> (Counted<Tracked>, Arc<Drops>) {
        let drops = Arc::new(Drops::new(0));
        (Counted::new(Tracked(drops.clone())), drops)
    }

    #[test]
    fn the_contents_start_a_cache_line_after_the_count() {
        let (c, _) = tracked();
        let count = c.refs() as *const AtomicUsize as usize;
        let value = &*c as *const Tracked as usize;
        assert!(value - count >= 64);
    }

    #[test]
    fn the_last_reference_drops_the_contents_once() {
        let (a, drops) = tracked();
        let b = a.clone();
        assert_eq!(Counted::count(&a), 2);
        assert!(Counted::ptr_eq(&a, &b));
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(b);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn forgotten_references_given_back_together_still_leave_the_last_one_to_free() {
        let (a, drops) = tracked();
        for _ in 0..5 {
            mem::forget(a.clone());
        }
        let b = a.clone();
        // SAFETY: five clones of `a` were forgotten above.
        unsafe { Counted::give_back(&a, 5) };
        assert_eq!(Counted::count(&a), 2);
        // SAFETY: nothing to give back.
        unsafe { Counted::give_back(&a, 0) };
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(b);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn make_mut_writes_in_place_when_unique_and_copies_when_shared() {
        let mut a = Counted::new(1u32);
        let at = &*a as *const u32;
        *Counted::make_mut(&mut a) += 1;
        assert_eq!((*a, &*a as *const u32), (2, at));
        let b = a.clone();
        *Counted::make_mut(&mut a) += 1;
        assert_eq!((*a, *b), (3, 2));
        assert!(!Counted::ptr_eq(&a, &b));
        assert_eq!((Counted::count(&a), Counted::count(&b)), (1, 1));
    }

    #[test]
    fn try_unwrap_takes_the_contents_only_from_the_last_reference() {
        let (a, drops) = tracked();
        let b = a.clone();
        let a = Counted::try_unwrap(a).err().expect("shared");
        drop(b);
        let inner = Counted::try_unwrap(a).ok().expect("unique");
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(inner);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn references_cloned_and_dropped_on_many_threads_free_once() {
        let (a, drops) = tracked();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let mine = a.clone();
                s.spawn(move || {
                    let owed: Vec<_> = (0..50).map(|_| mine.clone()).collect();
                    let n = owed.len();
                    owed.into_iter().for_each(mem::forget);
                    // SAFETY: `n` clones of `mine` were forgotten just above.
                    unsafe { Counted::give_back(&mine, n) };
                });
            }
        });
        assert_eq!(Counted::count(&a), 1);
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }
}
