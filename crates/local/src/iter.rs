//! Iteration over every thread's value: pinned guards for shared and mutable access, and
//! the owning iterator.

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::local::{Entry, BUCKETS};
use crate::loom::{AtomicPtr, Ordering};
use crate::registry::{self, bucket_len, Header, CLOSING, PIN, PRESENT};

/// Walks the slots of a `Local`, pinning each present one.
struct Cursor<'a, T> {
    buckets: &'a [AtomicPtr<Entry<T>>; BUCKETS],
    bucket: usize,
    index: usize,
}

impl<'a, T> Cursor<'a, T> {
    fn new(buckets: &'a [AtomicPtr<Entry<T>>; BUCKETS]) -> Self {
        Cursor {
            buckets,
            bucket: 0,
            index: 0,
        }
    }

    /// The next present slot that could be pinned.
    fn next_pinned(&mut self) -> Option<&'a Entry<T>> {
        while self.bucket < BUCKETS {
            // Acquire: pairs with the Release store of the bucket pointer.
            let base = self.buckets[self.bucket].load(Ordering::Acquire);
            if base.is_null() {
                // Buckets are allocated as ids grow, but a thread with a high id may have
                // filled a later bucket first: keep looking.
                self.bucket += 1;
                self.index = 0;
                continue;
            }
            while self.index < bucket_len(self.bucket) {
                // SAFETY: `index < 2^bucket`; buckets live as long as the `Local` borrowed
                // for `'a`.
                let entry = unsafe { &*base.add(self.index) };
                self.index += 1;
                if pin(&entry.header) {
                    return Some(entry);
                }
            }
            self.bucket += 1;
            self.index = 0;
        }
        None
    }
}

/// Takes a pin on a present slot whose owner is not waiting to drop it.
fn pin(header: &Header) -> bool {
    let mut state = header.state.load(Ordering::Relaxed);
    loop {
        if state & PRESENT == 0 || state & CLOSING != 0 {
            return false;
        }
        // Acquire: pairs with the owner's Release store of `PRESENT`, so the value is
        // initialised before we read it.
        match header.state.compare_exchange_weak(
            state,
            state + PIN,
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => return true,
            Err(actual) => state = actual,
        }
    }
}

/// Releases a pin; wakes the exiting owner if it waits for this one.
fn unpin(header: &Header) {
    // Release: our reads of the value happen before the owner moves it out (its Acquire).
    let previous = header.state.fetch_sub(PIN, Ordering::Release);
    if previous & CLOSING != 0 && previous / PIN == 1 {
        registry::notify_unpinned();
    }
}

/// Shared access to one thread's value, from [`Local::iter`](crate::Local::iter).
///
/// While it lives, that value is pinned: if its thread exits meanwhile, the thread's exit
/// cleanup waits for the guard to be dropped before dropping the value.
///
/// ```
/// use contexture_local::Local;
/// let local = Local::new();
/// local.get_or(|| 5);
/// let first = local.iter().next().unwrap();
/// assert_eq!(*first, 5);
/// ```
pub struct LocalRef<'a, T> {
    entry: &'a Entry<T>,
}

// SAFETY: behaves as `&T`, which is `Send` and `Sync` when `T: Sync`.
unsafe impl<T: Sync> Send for LocalRef<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for LocalRef<'_, T> {}

impl<T> Deref for LocalRef<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: pinned, so present and not moved out until `unpin`.
        unsafe { self.entry.value_ref() }
    }
}

impl<T> Drop for LocalRef<'_, T> {
    fn drop(&mut self) {
        unpin(&self.entry.header);
    }
}

impl<T: fmt::Debug> fmt::Debug for LocalRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Mutable access to one thread's value, from [`Local::iter_mut`](crate::Local::iter_mut).
///
/// Pinned like [`LocalRef`].
///
/// ```
/// use contexture_local::Local;
/// let mut local = Local::new();
/// local.get_or(|| String::from("a"));
/// local.iter_mut().next().unwrap().push('b');
/// assert_eq!(local.get().map(String::as_str), Some("ab"));
/// ```
pub struct LocalRefMut<'a, T> {
    entry: &'a Entry<T>,
}

// SAFETY: behaves as `&mut T`: `Send` when `T: Send`, `Sync` when `T: Sync`.
unsafe impl<T: Send> Send for LocalRefMut<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for LocalRefMut<'_, T> {}

impl<T> Deref for LocalRefMut<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: pinned, so present; see `deref_mut` for exclusivity.
        unsafe { self.entry.value_ref() }
    }
}

impl<T> DerefMut for LocalRefMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: pinned, so present. Exclusive: `iter_mut` borrows the `Local` mutably, so
        // no `get` or other guard can reach this slot, and each slot is yielded once.
        unsafe { (*self.entry.value.get()).assume_init_mut() }
    }
}

impl<T> Drop for LocalRefMut<'_, T> {
    fn drop(&mut self) {
        unpin(&self.entry.header);
    }
}

impl<T: fmt::Debug> fmt::Debug for LocalRefMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Iterator over every thread's value, from [`Local::iter`](crate::Local::iter).
///
/// ```
/// use contexture_local::Local;
/// let local = Local::new();
/// local.get_or(|| 1);
/// assert_eq!(local.iter().map(|v| *v).sum::<i32>(), 1);
/// ```
pub struct Iter<'a, T> {
    cursor: Cursor<'a, T>,
}

impl<'a, T> Iter<'a, T> {
    pub(crate) fn new(buckets: &'a [AtomicPtr<Entry<T>>; BUCKETS]) -> Self {
        Iter {
            cursor: Cursor::new(buckets),
        }
    }
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = LocalRef<'a, T>;

    fn next(&mut self) -> Option<LocalRef<'a, T>> {
        self.cursor.next_pinned().map(|entry| LocalRef { entry })
    }
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

/// Mutable iterator over every thread's value, from
/// [`Local::iter_mut`](crate::Local::iter_mut).
///
/// ```
/// use contexture_local::Local;
/// let mut local = Local::new();
/// local.get_or(|| 1);
/// local.iter_mut().for_each(|mut v| *v *= 10);
/// assert_eq!(local.get(), Some(&10));
/// ```
pub struct IterMut<'a, T> {
    cursor: Cursor<'a, T>,
}

impl<'a, T> IterMut<'a, T> {
    pub(crate) fn new(buckets: &'a [AtomicPtr<Entry<T>>; BUCKETS]) -> Self {
        IterMut {
            cursor: Cursor::new(buckets),
        }
    }
}

impl<'a, T> Iterator for IterMut<'a, T> {
    type Item = LocalRefMut<'a, T>;

    fn next(&mut self) -> Option<LocalRefMut<'a, T>> {
        self.cursor.next_pinned().map(|entry| LocalRefMut { entry })
    }
}

impl<T> fmt::Debug for IterMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut").finish_non_exhaustive()
    }
}

/// Owning iterator over every thread's value, from `Local::into_iter`.
///
/// ```
/// use contexture_local::Local;
/// let local = Local::new();
/// local.get_or(|| 'x');
/// let all: Vec<char> = local.into_iter().collect();
/// assert_eq!(all, ['x']);
/// ```
#[derive(Debug)]
pub struct IntoIter<T> {
    values: std::vec::IntoIter<T>,
}

impl<T> IntoIter<T> {
    pub(crate) fn new(values: Vec<T>) -> Self {
        IntoIter {
            values: values.into_iter(),
        }
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.values.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.values.size_hint()
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}

/// The values not taken yet are dropped like those of a dropped `Local`: every one, even
/// if some panic, the first panic resumed afterwards (swallowed while unwinding).
impl<T> Drop for IntoIter<T> {
    fn drop(&mut self) {
        crate::local::drop_all(self.values.by_ref());
    }
}
