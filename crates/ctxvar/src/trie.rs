//! The large shape of a context's map: a persistent hash array mapped trie keyed by var id.
//!
//! Each node has up to 16 slots, picked by 4 bits of the id's hash per level and stored
//! densely behind a bitmap; a slot holds one binding or a shared child node. The hash is a
//! bijection of the id (a multiplication by an odd constant), so two vars always part ways
//! by the last level: no collision lists. A write copies the path from the root to its
//! slot, except the nodes it finds unshared, which it changes in place; rebinding a var
//! that is set already replaces just the value, with nothing moved in or out of the trie.
//!
//! (It replaced `imbl`'s HAMT, whose in-place `get_mut` Miri's Stacked Borrows rejects and
//! whose `insert` moved each 40-byte binding through several stack copies: ~70 ns for a
//! set among 100 vars, against ~30 ns here.)

use std::mem;

use crate::loom::Arc;
use crate::map::{Entry, Value};

/// Bits of the hash consumed per level: 16-way nodes. A write to a version shared with
/// another (the first `set` after a copy) copies the nodes on its path, one reference count
/// per slot, and dropping the copy releases them again: 16-way nodes take ~50 atomic
/// operations there at 10,000 vars against ~75 for 32-way ones, and their slot arrays
/// (768 bytes) stay within the allocator's per-thread cache (the 1,536-byte ones did not).
const BITS: u32 = 4;

/// The hash of a var id: a bijection (odd multiplier), spreading consecutive ids.
#[inline]
fn hash(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The slot bit of `hash` at the level that starts at bit `shift`.
#[inline]
fn bit(hash: u64, shift: u32) -> u32 {
    1 << ((hash >> shift) & ((1 << BITS) - 1))
}

/// A trie of bindings; cloning it copies the root's slots (reference counts), not the trie.
#[derive(Clone, Default)]
pub(crate) struct Trie {
    root: Node,
    len: usize,
}

#[derive(Clone, Default)]
struct Node {
    /// Which of the `2^BITS` slots are used; `slots` holds them in bit order.
    bitmap: u32,
    slots: Vec<Slot>,
}

#[derive(Clone)]
enum Slot {
    Binding(u64, Entry),
    Child(Arc<Node>),
}

impl Node {
    /// Index in `slots` of the slot for `bit`, if used.
    #[inline]
    fn index(&self, bit: u32) -> Option<usize> {
        (self.bitmap & bit != 0).then(|| (self.bitmap & (bit - 1)).count_ones() as usize)
    }

    /// A node holding two bindings whose hashes agree below `shift`.
    fn pair(shift: u32, a: (u64, Entry), b: (u64, Entry)) -> Node {
        debug_assert!(shift < u64::BITS, "distinct ids have distinct hashes");
        let (bit_a, bit_b) = (bit(hash(a.0), shift), bit(hash(b.0), shift));
        if bit_a == bit_b {
            return Node {
                bitmap: bit_a,
                slots: vec![Slot::Child(Arc::new(Node::pair(shift + BITS, a, b)))],
            };
        }
        let (first, second) = if bit_a < bit_b { (a, b) } else { (b, a) };
        Node {
            bitmap: bit_a | bit_b,
            slots: vec![
                Slot::Binding(first.0, first.1),
                Slot::Binding(second.0, second.1),
            ],
        }
    }

    fn get(&self, id: u64) -> Option<&Entry> {
        let hash = hash(id);
        let mut node = self;
        let mut shift = 0;
        loop {
            match &node.slots[node.index(bit(hash, shift))?] {
                Slot::Binding(key, entry) => return (*key == id).then_some(entry),
                Slot::Child(child) => node = child,
            }
            shift += BITS;
        }
    }

    /// Binds `id`; returns the displaced value, or `None` (then the trie grew by one), and
    /// the address of the new value's contents.
    fn insert(
        &mut self,
        shift: u32,
        id: u64,
        name: &'static str,
        make: impl FnOnce() -> Value,
    ) -> (Option<Value>, *const ()) {
        let bit = bit(hash(id), shift);
        let Some(i) = self.index(bit) else {
            let slot_at = (self.bitmap & (bit - 1)).count_ones() as usize;
            let value = make();
            let at = Arc::as_ptr(&value).cast::<()>();
            self.slots
                .insert(slot_at, Slot::Binding(id, Entry { name, value }));
            self.bitmap |= bit;
            return (None, at);
        };
        match &mut self.slots[i] {
            Slot::Binding(key, entry) if *key == id => {
                entry.name = name;
                let old = mem::replace(&mut entry.value, make());
                return (Some(old), Arc::as_ptr(&entry.value).cast());
            }
            Slot::Binding(..) => {}
            Slot::Child(child) => return Arc::make_mut(child).insert(shift + BITS, id, name, make),
        }
        // Another var holds the slot: both move one level down.
        let Slot::Binding(other, other_entry) = self.slots.remove(i) else {
            unreachable!("matched a binding above")
        };
        let value = make();
        let at = Arc::as_ptr(&value).cast::<()>();
        let pair = Node::pair(
            shift + BITS,
            (other, other_entry),
            (id, Entry { name, value }),
        );
        self.slots.insert(i, Slot::Child(Arc::new(pair)));
        (None, at)
    }

    /// Unbinds `id`; returns its value.
    fn remove(&mut self, shift: u32, id: u64) -> Option<Value> {
        let bit = bit(hash(id), shift);
        let i = self.index(bit)?;
        match &mut self.slots[i] {
            Slot::Binding(key, _) if *key != id => None,
            Slot::Binding(..) => {
                self.bitmap &= !bit;
                match self.slots.remove(i) {
                    Slot::Binding(_, entry) => Some(entry.value),
                    Slot::Child(_) => unreachable!("matched a binding above"),
                }
            }
            Slot::Child(child) => {
                let child = Arc::make_mut(child);
                let value = child.remove(shift + BITS, id)?;
                // A child left with a single binding is folded back into this slot.
                if child.slots.len() == 1 && matches!(child.slots[0], Slot::Binding(..)) {
                    if let Some(last) = child.slots.pop() {
                        self.slots[i] = last;
                    }
                }
                Some(value)
            }
        }
    }

    /// Hands each value bound in this node to `drop_one`, and walks the children it alone
    /// holds; a shared child is only released (its other holders keep its values).
    fn drop_each(self, drop_one: &mut impl FnMut(Value)) {
        for slot in self.slots {
            match slot {
                Slot::Binding(_, entry) => drop_one(entry.value),
                // A plain load first: a shared child (the common case) costs one decrement.
                Slot::Child(child) if Arc::strong_count(&child) != 1 => drop(child),
                Slot::Child(child) => match Arc::try_unwrap(child) {
                    Ok(node) => node.drop_each(drop_one),
                    Err(shared) => drop(shared),
                },
            }
        }
    }

    fn collect<'a>(&'a self, out: &mut Vec<(u64, &'a Entry)>) {
        for slot in &self.slots {
            match slot {
                Slot::Binding(key, entry) => out.push((*key, entry)),
                Slot::Child(child) => child.collect(out),
            }
        }
    }
}

impl Trie {
    /// The entry bound to `id`.
    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<&Entry> {
        self.root.get(id)
    }

    /// Binds `id` to the value `make` returns; returns the displaced value and the address
    /// of the new value's contents.
    #[inline]
    pub(crate) fn insert(
        &mut self,
        id: u64,
        name: &'static str,
        make: impl FnOnce() -> Value,
    ) -> (Option<Value>, *const ()) {
        let (old, at) = self.root.insert(0, id, name, make);
        if old.is_none() {
            self.len += 1;
        }
        (old, at)
    }

    /// Unbinds `id`; returns its value. Copies no path when `id` is not bound.
    pub(crate) fn remove(&mut self, id: u64) -> Option<Value> {
        self.get(id)?;
        let old = self.root.remove(0, id);
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Drops this trie, handing each value of the nodes it alone holds to `drop_one` (see
    /// [`Map::drop_each`](crate::map::Map::drop_each)); shared subtrees are only released.
    pub(crate) fn drop_each(self, drop_one: &mut impl FnMut(Value)) {
        self.root.drop_each(drop_one);
    }

    /// Every binding, in no particular order.
    pub(crate) fn entries(&self) -> Vec<(u64, &Entry)> {
        let mut out = Vec::with_capacity(self.len);
        self.root.collect(&mut out);
        out
    }
}

impl FromIterator<(u64, Entry)> for Trie {
    fn from_iter<I: IntoIterator<Item = (u64, Entry)>>(iter: I) -> Trie {
        let mut trie = Trie::default();
        for (id, entry) in iter {
            let Entry { name, value } = entry;
            trie.insert(id, name, || value);
        }
        trie
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn value(v: u64) -> Value {
        Arc::new(v)
    }

    fn read(trie: &Trie, id: u64) -> Option<u64> {
        trie.get(id)
            .map(|e| *e.value.downcast_ref::<u64>().unwrap())
    }

    fn as_u64(v: Option<Value>) -> Option<u64> {
        v.map(|v| *v.downcast_ref::<u64>().unwrap())
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64, u64),
        Remove(u64),
        /// Keep a copy (structure sharing) that must not change afterwards.
        Snapshot,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Few distinct ids, some huge: rebinding, removal and splits happen (the deepest
        // splits have their own test below).
        let id = prop_oneof![1..64u64, any::<u64>()];
        prop_oneof![
            4 => (id.clone(), any::<u64>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => id.prop_map(Op::Remove),
            1 => Just(Op::Snapshot),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: if cfg!(miri) { 4 } else { 500 },
            // Miri isolates the file system, and unit tests keep no regression file anyway.
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Against a `BTreeMap`, with copies taken along the way that must keep their
        /// contents while the original is written.
        #[test]
        fn behaves_like_a_map_and_copies_stay_put(ops in prop::collection::vec(op(), 0..200)) {
            let mut trie = Trie::default();
            let mut model = BTreeMap::new();
            let mut snapshots = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        prop_assert_eq!(as_u64(trie.insert(k, "x", || value(v)).0), model.insert(k, v));
                    }
                    Op::Remove(k) => prop_assert_eq!(as_u64(trie.remove(k)), model.remove(&k)),
                    Op::Snapshot => snapshots.push((trie.clone(), model.clone())),
                }
                prop_assert_eq!(trie.len(), model.len());
            }
            snapshots.push((trie, model));
            for (trie, model) in &snapshots {
                prop_assert_eq!(trie.len(), model.len());
                let mut ids: Vec<u64> = trie.entries().iter().map(|(k, _)| *k).collect();
                ids.sort_unstable();
                prop_assert_eq!(ids, model.keys().copied().collect::<Vec<_>>());
                for (k, v) in model {
                    prop_assert_eq!(read(trie, *k), Some(*v));
                }
            }
        }
    }

    /// The id whose hash is `h` (the hash is a multiplication by an odd constant, so it
    /// has an inverse modulo 2^64: Newton's iteration finds it).
    fn id_with_hash(h: u64) -> u64 {
        let c = hash(1);
        let mut inverse = c;
        for _ in 0..6 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(c.wrapping_mul(inverse)));
        }
        let id = h.wrapping_mul(inverse);
        assert_eq!(hash(id), h);
        id
    }

    #[test]
    fn ids_whose_hashes_agree_in_all_but_the_top_bits_split_to_the_last_level() {
        let low = 0x0123_4567_89AB_CDEF & ((1 << 60) - 1);
        // Agreeing in bits 0–59 (apart only at the last level, shift 60), and a third that
        // parts from them at bit 59 (the level before).
        let a = id_with_hash(low);
        let b = id_with_hash(low | (1 << 62));
        let c = id_with_hash(low ^ (1 << 59));
        let mut trie = Trie::default();
        for id in [a, b, c] {
            assert!(trie.insert(id, "x", || value(id)).0.is_none());
        }
        let copy = trie.clone();
        for id in [a, b, c] {
            assert_eq!(read(&trie, id), Some(id));
        }
        assert_eq!(as_u64(trie.insert(b, "x", || value(7)).0), Some(b));
        assert_eq!(as_u64(trie.remove(a)), Some(a)); // `b` folds back up the chain
        assert_eq!(
            (read(&trie, a), read(&trie, b), read(&trie, c)),
            (None, Some(7), Some(c))
        );
        assert_eq!(as_u64(trie.remove(b)), Some(7));
        assert_eq!(as_u64(trie.remove(c)), Some(c));
        assert_eq!(trie.len(), 0);
        for id in [a, b, c] {
            assert_eq!(read(&copy, id), Some(id), "the copy kept its own path");
        }
    }

    #[test]
    fn ten_thousand_vars_in_and_out() {
        let n = if cfg!(miri) { 300 } else { 10_000 };
        let mut trie = Trie::default();
        for id in 1..=n {
            assert!(trie.insert(id, "x", || value(id)).0.is_none());
        }
        let copy = trie.clone();
        for id in (1..=n).step_by(2) {
            assert_eq!(as_u64(trie.remove(id)), Some(id));
        }
        assert_eq!(trie.len(), n as usize / 2);
        assert_eq!(copy.len(), n as usize);
        for id in 1..=n {
            assert_eq!(read(&trie, id), (id % 2 == 0).then_some(id));
            assert_eq!(read(&copy, id), Some(id));
        }
        assert_eq!(trie.remove(n + 1).map(|_| ()), None);
    }
}
