//! The persistent map behind every context: var id → (name, type-erased value).
//!
//! A context holds a handful to a few dozen vars in practice, and copies (one per task,
//! per pool job) vastly outnumber writes. So the map is:
//!
//! | shape | when | copy | write |
//! |---|---|---|---|
//! | none | no var set | free | allocates a small map |
//! | `Small` | up to [`SMALL_MAX`] vars: a `Vec` sorted by id | one refcount | binary search; in place when unshared, else one copy of ≤ 32 entries |
//! | `Large` | above that: a hash array mapped trie keyed by var id ([`Trie`]) | one refcount | O(log n) path copy, in place when unshared |
//!
//! Either shape sits behind one reference count (`crate::counted::Counted`), whose address
//! identifies the version.
//!
//! A map never goes back from `Large` to `Small` (it would only move the cost around).

use std::any::Any;

use crate::counted::Counted;
use crate::loom::Arc;
use crate::trie::Trie;

/// A stored value: type-erased; the var id fixes its type.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;

/// Number of vars above which a `Small` map turns into a HAMT.
pub(crate) const SMALL_MAX: usize = 32;

/// One var's binding in a context.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) name: &'static str,
    pub(crate) value: Value,
}

/// The map of one context version: a single pointer (so that moving it between a context
/// and a thread's state is one register, not a two-word copy that stalls store forwarding),
/// `None` when empty. Cloning it is O(1): one reference count, in a [`Counted`] (whose
/// count sits a cache line before the contents, and whose forgotten references can be
/// given back together: see [`Map::give_back`]).
#[derive(Clone, Default)]
pub(crate) struct Map(Option<Counted<Inner>>);

/// One version's contents and its stamp.
#[derive(Clone)]
struct Inner {
    /// Unique in the process to these contents: given fresh ([`crate::current::fresh_id`])
    /// by every write that makes or changes an `Inner` (a clone made by `make_mut` is
    /// written, so restamped, before anyone reads it), never reused. The lookup cache keys
    /// on it, so that it stays valid across context switches: a stamp names exactly one
    /// set of bindings, alive as long as some map holds it.
    stamp: u64,
    shape: Shape,
}

#[derive(Clone)]
enum Shape {
    Small(Vec<(u64, Entry)>),
    Large(Trie),
}

impl Map {
    pub(crate) const EMPTY: Map = Map(None);

    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<&Entry> {
        match &self.0.as_deref()?.shape {
            Shape::Small(v) => match v.binary_search_by_key(&id, |(k, _)| *k) {
                Ok(i) => Some(&v[i].1),
                Err(_) => None,
            },
            Shape::Large(m) => m.get(id),
        }
    }

    /// The contents, for writing: in place when the version is unshared, else after one
    /// copy of the small vector (or of the trie's root).
    ///
    /// # Safety
    ///
    /// With `known_unique`, the caller guarantees that no other reference to this version
    /// exists (see `State::unique`), which skips `make_mut`'s atomic check.
    #[inline]
    unsafe fn inner_mut(counted: &mut Counted<Inner>, known_unique: bool) -> &mut Inner {
        if known_unique {
            // SAFETY: the caller guarantees this is the only reference, and `&mut counted`
            // keeps it so for the returned lifetime (what `make_mut` would check with an
            // atomic load).
            unsafe { Counted::get_mut_unchecked(counted) }
        } else {
            Counted::make_mut(counted)
        }
    }

    /// The stamp of this version (0: empty). See [`Inner::stamp`].
    #[inline]
    pub(crate) fn stamp(&self) -> u64 {
        self.0.as_ref().map_or(0, |inner| inner.stamp)
    }

    /// Binds `id`; returns the value it replaces.
    pub(crate) fn insert(&mut self, id: u64, entry: Entry) -> Option<Value> {
        // SAFETY: `known_unique` is false.
        unsafe {
            self.insert_with(
                id,
                entry.name,
                || entry.value,
                false,
                crate::current::fresh_id(),
            )
            .0
        }
    }

    /// Binds `id` to the value `make` returns (of the var called `name`), stamping the
    /// written version `stamp`; returns the value it replaces and the address of the new
    /// value's contents (inside its `Arc`).
    ///
    /// Takes the entry's parts rather than an [`Entry`], and the value as a constructor
    /// called just before the store: a value built earlier was spilled to the stack as two
    /// 8-byte halves and read back with one 16-byte load, a store-forwarding stall (measured:
    /// ~5 ns of a ~19 ns set).
    ///
    /// # Safety
    ///
    /// As [`Map::inner_mut`] when `known_unique`.
    #[inline]
    pub(crate) unsafe fn insert_with(
        &mut self,
        id: u64,
        name: &'static str,
        make: impl FnOnce() -> Value,
        known_unique: bool,
        stamp: u64,
    ) -> (Option<Value>, *const ()) {
        let Some(inner) = &mut self.0 else {
            let value = make();
            let at = Arc::as_ptr(&value).cast::<()>();
            let mut v = Vec::with_capacity(4);
            v.push((id, Entry { name, value }));
            self.0 = Some(Counted::new(Inner {
                stamp,
                shape: Shape::Small(v),
            }));
            return (None, at);
        };
        // SAFETY: forwarded from the caller.
        let inner = unsafe { Map::inner_mut(inner, known_unique) };
        inner.stamp = stamp;
        let grown = match &mut inner.shape {
            Shape::Small(v) => match v.binary_search_by_key(&id, |(k, _)| *k) {
                Ok(i) => {
                    let slot = &mut v[i].1;
                    slot.name = name;
                    let old = std::mem::replace(&mut slot.value, make());
                    return (Some(old), Arc::as_ptr(&slot.value).cast());
                }
                Err(i) if v.len() < SMALL_MAX => {
                    let value = make();
                    let at = Arc::as_ptr(&value).cast::<()>();
                    v.insert(i, (id, Entry { name, value }));
                    return (None, at);
                }
                Err(_) => {
                    let mut m: Trie = v.drain(..).collect();
                    let (_, at) = m.insert(id, name, make);
                    (m, at)
                }
            },
            Shape::Large(m) => return m.insert(id, name, make),
        };
        inner.shape = Shape::Large(grown.0);
        (None, grown.1)
    }

    /// Unbinds `id`; returns the value it had.
    pub(crate) fn remove(&mut self, id: u64) -> Option<Value> {
        // SAFETY: `known_unique` is false.
        unsafe { self.remove_with(id, false, crate::current::fresh_id()) }
    }

    /// Unbinds `id`, stamping the written version `stamp`; returns the value it had.
    ///
    /// # Safety
    ///
    /// As [`Map::inner_mut`] when `known_unique`.
    pub(crate) unsafe fn remove_with(
        &mut self,
        id: u64,
        known_unique: bool,
        stamp: u64,
    ) -> Option<Value> {
        let inner = self.0.as_mut()?;
        match &inner.shape {
            Shape::Small(v) => {
                let i = v.binary_search_by_key(&id, |(k, _)| *k).ok()?;
                if v.len() == 1 {
                    let old = v[i].1.value.clone();
                    self.0 = None;
                    return Some(old);
                }
                // SAFETY: forwarded from the caller.
                let inner = unsafe { Map::inner_mut(inner, known_unique) };
                inner.stamp = stamp;
                match &mut inner.shape {
                    Shape::Small(v) => Some(v.remove(i).1.value),
                    Shape::Large(_) => unreachable!("make_mut keeps the variant"),
                }
            }
            Shape::Large(m) => {
                m.get(id)?;
                // SAFETY: forwarded from the caller.
                let inner = unsafe { Map::inner_mut(inner, known_unique) };
                inner.stamp = stamp;
                match &mut inner.shape {
                    Shape::Large(m) => m.remove(id),
                    Shape::Small(_) => unreachable!("make_mut keeps the variant"),
                }
            }
        }
    }

    /// Drops this version, handing each value it alone held to `drop_one` (which drops it)
    /// rather than dropping them all in one go: so that a value whose `Drop` panics cannot
    /// stop the others from being dropped. A shared version is only released.
    /// Whether dropping this map drops no value: it is empty, or another map shares its
    /// version (then the last of them drops the values). A plain load, no atomic write.
    #[inline]
    pub(crate) fn holds_nothing_alone(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|counted| Counted::count(counted) != 1)
    }

    /// Gives back, in one atomic step, `n` references to this version that were forgotten
    /// (the maps of `n` snapshots of these same values, `mem::forget`-ten): what `Spares`
    /// owes for the jobs whose references it kept. This map's own reference stays.
    ///
    /// # Safety
    ///
    /// `n` maps of this very version (none when empty) were forgotten, and none of those
    /// references was given back yet.
    #[inline]
    pub(crate) unsafe fn give_back(&self, n: usize) {
        if let Some(counted) = &self.0 {
            // SAFETY: forwarded from the caller.
            unsafe { Counted::give_back(counted, n) };
        }
    }

    pub(crate) fn drop_each(self, mut drop_one: impl FnMut(Value)) {
        let Some(counted) = self.0 else { return };
        if Counted::count(&counted) != 1 {
            return; // shared: released by the drop of `counted` (a plain load first, no CAS)
        }
        match Counted::try_unwrap(counted) {
            Ok(Inner {
                shape: Shape::Small(v),
                ..
            }) => v.into_iter().for_each(|(_, e)| drop_one(e.value)),
            // Only the nodes this version alone holds are walked: a version that shares all
            // but one path with another (a copy written once) costs that path, not a walk
            // of every binding (measured: 45 µs for the first set after a copy of a
            // context of 1,000 vars, copy and drop included).
            Ok(Inner {
                shape: Shape::Large(m),
                ..
            }) => m.drop_each(&mut drop_one),
            Err(shared) => drop(shared), // the other handles keep the values
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self.0.as_deref().map(|inner| &inner.shape) {
            None => 0,
            Some(Shape::Small(v)) => v.len(),
            Some(Shape::Large(m)) => m.len(),
        }
    }

    /// This map's pointer, copied without counting a reference: an alias that must not be
    /// dropped (hence `ManuallyDrop`), only read or cloned (a clone counts itself).
    ///
    /// # Safety
    ///
    /// The alias is used only while `self`'s version is kept alive and unchanged by its
    /// owner (`self` itself, or wherever it moves to).
    #[inline]
    pub(crate) unsafe fn alias(&self) -> std::mem::ManuallyDrop<Map> {
        // SAFETY: a bitwise copy of a pointer; it is never dropped (`ManuallyDrop`), so it
        // gives back no reference, and by the caller's guarantee it is only used while the
        // version it points at is alive and unchanged.
        std::mem::ManuallyDrop::new(unsafe { std::ptr::read(self) })
    }

    /// Whether both are the same version (no write happened between them), or both empty.
    #[inline]
    pub(crate) fn ptr_eq(&self, other: &Map) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Counted::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        }
    }

    #[cfg(test)]
    fn is_large(&self) -> bool {
        matches!(
            self.0.as_deref().map(|inner| &inner.shape),
            Some(Shape::Large(_))
        )
    }

    /// The names of the bound vars, in the order the vars were first used.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        match self.0.as_deref().map(|inner| &inner.shape) {
            None => Vec::new(),
            Some(Shape::Small(v)) => v.iter().map(|(_, e)| e.name).collect(),
            Some(Shape::Large(m)) => {
                let mut all = m.entries();
                all.sort_unstable_by_key(|(k, _)| *k);
                all.into_iter().map(|(_, e)| e.name).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: u64) -> Entry {
        Entry {
            name: "x",
            value: Arc::new(v),
        }
    }

    fn value(m: &Map, id: u64) -> Option<u64> {
        m.get(id).map(|e| *e.value.downcast_ref::<u64>().unwrap())
    }

    #[test]
    fn grows_into_a_hamt_and_keeps_everything() {
        let mut m = Map::EMPTY;
        for id in (1..=100).rev() {
            assert!(m.insert(id, entry(id * 10)).is_none());
            assert_eq!(m.len(), (101 - id) as usize);
        }
        assert!(m.is_large());
        for id in 1..=100 {
            assert_eq!(value(&m, id), Some(id * 10));
        }
        assert_eq!(
            m.remove(7).map(|v| *v.downcast_ref::<u64>().unwrap()),
            Some(70)
        );
        assert_eq!(value(&m, 7), None);
        assert_eq!(m.len(), 99);
    }

    #[test]
    fn copies_share_until_written() {
        let mut a = Map::EMPTY;
        a.insert(1, entry(1));
        let b = a.clone();
        assert!(a.ptr_eq(&b));
        a.insert(2, entry(2));
        assert!(!a.ptr_eq(&b));
        assert_eq!(value(&b, 2), None);
        assert_eq!(value(&a, 2), Some(2));
        assert!(a.remove(1).is_some());
        assert_eq!(value(&b, 1), Some(1));
    }

    #[test]
    fn removing_the_last_entry_empties_the_map() {
        let mut a = Map::EMPTY;
        a.insert(3, entry(3));
        let shared = a.clone();
        assert!(a.remove(3).is_some());
        assert_eq!(a.len(), 0);
        assert_eq!(value(&shared, 3), Some(3));
        let mut b = shared;
        assert!(b.remove(3).is_some());
        assert_eq!(b.len(), 0);
    }
}
