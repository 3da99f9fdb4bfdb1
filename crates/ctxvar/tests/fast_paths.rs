//! The fast paths of issue #15 keep the semantics: a `set` that rebinds in place (no
//! allocation) never changes what a copy, a `with` borrow or a token sees; the lookup cache
//! that survives context switches never returns another version's value; dropping a copy
//! that shares all but one path of a large map drops exactly what it alone holds.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{count, counter, Tracked};
use contexture_ctxvar::{copy_context, Context, ContextVar, Snapshot};

#[test]
fn rebinding_in_place_leaves_copies_and_tokens_alone() {
    static V: ContextVar<String> = ContextVar::new("v");
    let ctx = Context::new();
    ctx.run(|| {
        V.set("a".into());
        let t_b = V.set("b".into()); // the second set of a run: rebinds in place
        assert_eq!(t_b.old_value().map(String::as_str), Some("a"));
        let copy = copy_context();
        let t_c = V.set("c".into()); // after the copy shared the map: not in place
        assert_eq!(t_c.old_value().map(String::as_str), Some("b"));
        let t_d = V.set("d".into()); // in place again
        assert_eq!(t_d.old_value().map(String::as_str), Some("c"));
        assert_eq!(copy.get(&V).as_deref(), Some("b"));
        assert_eq!(V.get().as_deref(), Some("d"));
        // Resets in any order restore what each token recorded.
        V.reset(t_c).unwrap();
        assert_eq!(V.get().as_deref(), Some("b"));
        V.reset(t_d).unwrap();
        assert_eq!(V.get().as_deref(), Some("c"));
        V.set("e".into());
        V.reset(t_b).unwrap();
        assert_eq!(V.get().as_deref(), Some("a"));
        assert_eq!(copy.get(&V).as_deref(), Some("b"));
    })
    .unwrap();
    assert_eq!(ctx.get(&V).as_deref(), Some("a"));
}

#[test]
fn a_set_inside_with_does_not_change_the_borrowed_value() {
    static V: ContextVar<String> = ContextVar::new("v");
    V.set("one".into());
    V.set("two".into()); // `two` could be rebound in place by the next set
    V.with(|seen| {
        V.set("three".into());
        V.set("four".into());
        assert_eq!(seen.map(String::as_str), Some("two"));
    });
    assert_eq!(V.get().as_deref(), Some("four"));
}

#[test]
fn a_snapshot_taken_between_sets_keeps_its_value() {
    static V: ContextVar<u64> = ContextVar::new("v");
    V.set(1);
    V.set(2);
    let snap = Snapshot::capture();
    V.set(3);
    V.set(4);
    assert_eq!(snap.get(&V), Some(2));
    assert_eq!(snap.run(|| V.get()), Some(2));
    assert_eq!(V.get(), Some(4));
}

#[test]
fn rebinding_in_place_drops_each_old_value_once_with_its_token() {
    static V: ContextVar<Arc<Tracked>> = ContextVar::new("v");
    let drops = counter();
    let ctx = Context::new();
    ctx.run(|| {
        V.set(Tracked::new("a", &drops));
        for i in 0..10 {
            let token = V.set(Tracked::new("b", &drops));
            assert_eq!(count(&drops), i, "the old value lives in the token");
            drop(token);
            assert_eq!(count(&drops), i + 1);
        }
        assert_eq!(count(&drops), 10); // "a" and nine "b"s, each once
        assert_eq!(V.get().map(|t| t.name), Some("b"));
    })
    .unwrap();
    drop(ctx);
    assert_eq!(count(&drops), 11);
}

#[test]
fn the_lookup_cache_follows_versions_across_switches() {
    static V: ContextVar<u64> = ContextVar::new("v");
    V.set(1);
    let a = copy_context();
    let b = copy_context(); // shares the version (and its cached lookups) with `a`
    assert_eq!(a.run(|| V.get()), Ok(Some(1)));
    assert_eq!(b.run(|| V.get()), Ok(Some(1)));
    b.run(|| V.set(2)).unwrap();
    assert_eq!(a.run(|| V.get()), Ok(Some(1)));
    assert_eq!(b.run(|| V.get()), Ok(Some(2)));
    // In place (the second set in `b`'s run), then read from outside and from `a`.
    b.run(|| {
        V.set(3);
        V.set(4);
        assert_eq!(V.get(), Some(4));
        assert_eq!(a.run(|| V.get()), Ok(Some(1)));
        assert_eq!(V.get(), Some(4));
    })
    .unwrap();
    assert_eq!(b.get(&V), Some(4));
    assert_eq!(V.get(), Some(1));
    // A version dropped and another made: never confused (stamps are not reused).
    drop(b);
    let c = copy_context();
    c.run(|| V.set(5)).unwrap();
    assert_eq!(c.run(|| V.get()), Ok(Some(5)));
    assert_eq!(a.run(|| V.get()), Ok(Some(1)));
}

/// A copy of a context of `n` vars, written once and dropped, drops only the value it
/// alone holds; the original keeps all of its own.
fn copy_written_once_then_dropped(n: usize) {
    let drops = counter();
    let vars: Vec<ContextVar<Arc<Tracked>>> = (0..n).map(|_| ContextVar::new("v")).collect();
    let ctx = Context::new();
    ctx.run(|| {
        for var in &vars {
            var.set(Tracked::new("orig", &drops));
        }
        for _ in 0..3 {
            let copy = copy_context();
            copy.run(|| vars[n / 2].set(Tracked::new("copy", &drops)))
                .unwrap();
            drop(copy);
        }
        assert_eq!(count(&drops), 3);
        assert!(vars.iter().all(|v| v.get().map(|t| t.name) == Some("orig")));
    })
    .unwrap();
    drop(ctx);
    assert_eq!(count(&drops), 3 + n);
}

#[test]
fn dropping_a_written_copy_of_a_small_map_drops_only_its_own_value() {
    copy_written_once_then_dropped(8);
}

#[test]
fn dropping_a_written_copy_of_a_large_map_drops_only_its_own_value() {
    copy_written_once_then_dropped(if cfg!(miri) { 40 } else { 1000 });
}

#[test]
fn a_panicking_drop_in_a_large_copy_still_drops_the_rest() {
    struct Bomb(Arc<AtomicUsize>);
    impl Drop for Bomb {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
            panic!("bomb");
        }
    }
    let drops = counter();
    let bombs = Arc::new(AtomicUsize::new(0));
    let vars: Vec<ContextVar<Arc<Tracked>>> = (0..40).map(|_| ContextVar::new("v")).collect();
    static B: ContextVar<Arc<Bomb>> = ContextVar::new("bomb");
    let ctx = Context::new();
    ctx.run(|| {
        for var in &vars {
            var.set(Tracked::new("orig", &drops));
        }
    })
    .unwrap();
    let copy = ctx.copy();
    copy.run(|| {
        B.set(Arc::new(Bomb(bombs.clone())));
        for var in &vars[..5] {
            var.set(Tracked::new("copy", &drops));
        }
    })
    .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(copy)));
    assert!(result.is_err());
    assert_eq!(bombs.load(Ordering::SeqCst), 1);
    assert_eq!(count(&drops), 5);
    drop(ctx);
    assert_eq!(count(&drops), 45);
}
