//! `Snapshot`: captured values that one piece of work runs in, on any thread, leaving
//! nothing behind.

mod common;

use std::sync::Arc;

use common::{count, counter, Tracked};
use contexture_ctxvar::{copy_context, Context, ContextVar, ResetError, Snapshot, Spares};

#[test]
fn work_sees_the_values_at_capture_and_its_sets_stay_inside() {
    static V: ContextVar<u32> = ContextVar::new("v");
    static W: ContextVar<u32> = ContextVar::new("w");
    V.set(1);
    let snapshot = Snapshot::capture();
    V.set(2);
    let again = snapshot.clone();
    let seen = std::thread::spawn(move || {
        snapshot.run(|| {
            let seen = V.get();
            V.set(10);
            W.set(20);
            (seen, V.get(), W.get())
        })
    })
    .join()
    .unwrap();
    assert_eq!(seen, (Some(1), Some(10), Some(20)));
    assert_eq!((V.get(), W.get()), (Some(2), None));
    // The next piece of work starts from the captured values again.
    assert_eq!(again.run(|| (V.get(), W.get())), (Some(1), None));
    assert_eq!((V.get(), W.get()), (Some(2), None));
}

#[test]
fn values_set_inside_are_dropped_when_the_work_returns() {
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracked");
    let drops = counter();
    Snapshot::default().run(|| {
        T.set(Tracked::new("inside", &drops));
    });
    assert_eq!(count(&drops), 1);
}

#[test]
fn the_previous_context_comes_back_after_a_panic() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let ctx = Context::new();
    ctx.run(|| {
        V.set(1);
        let snapshot = Snapshot::capture();
        let unwound = std::panic::catch_unwind(|| {
            snapshot.run(|| {
                V.set(2);
                panic!("boom");
            })
        });
        assert!(unwound.is_err());
        assert_eq!(V.get(), Some(1));
    })
    .unwrap();
    assert_eq!(ctx.get(&V), Some(1));
}

#[test]
fn tokens_made_inside_reset_only_inside() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let outer = V.set(1); // the thread's own context now has an id
    let inner = Snapshot::capture().run(|| {
        let token = V.set(2);
        let refused = V.reset(outer).unwrap_err();
        assert!(matches!(refused, ResetError::WrongContext(_)));
        let again = V.set(3);
        V.reset(again).unwrap();
        assert_eq!(V.get(), Some(2));
        token
    });
    assert!(matches!(V.reset(inner), Err(ResetError::WrongContext(_))));
    assert_eq!(V.get(), Some(1));
}

#[test]
fn copies_taken_inside_and_contexts_made_from_it() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let ctx = Context::new();
    ctx.run(|| V.set(4)).unwrap();
    let snapshot = ctx.run(Snapshot::capture).unwrap();
    assert_eq!(
        (snapshot.get(&V), snapshot.len(), snapshot.is_empty()),
        (Some(4), 1, false)
    );
    assert_eq!(format!("{snapshot:?}"), r#"Snapshot { vars: ["v"] }"#);
    let inside = snapshot.clone().run(|| {
        V.set(5);
        copy_context()
    });
    assert_eq!(inside.get(&V), Some(5));
    let as_context = snapshot.into_context();
    assert_eq!(as_context.run(|| V.get()), Ok(Some(4)));
    assert_eq!(ctx.get(&V), Some(4));
}

#[test]
fn snapshot_is_send_sync_and_one_pointer_wide() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Snapshot>();
    assert_eq!(
        std::mem::size_of::<Snapshot>(),
        std::mem::size_of::<usize>()
    );
}

/// `run_keeping`: the values come back when the work set nothing; what it set is dropped at
/// its return (also in place, when the snapshot held the only reference); nothing leaks.
#[test]
fn run_keeping_hands_back_untouched_values_and_drops_what_the_work_set() {
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracked");
    static V: ContextVar<u32> = ContextVar::new("v");
    let drops = counter();
    let ctx = Context::new();
    ctx.run(|| {
        T.set(Tracked::new("captured", &drops));
        let snapshot = Snapshot::capture();
        // Read only: the same values come back, the caller's context untouched.
        let (seen, back) = snapshot.clone().run_keeping(|| T.get().is_some());
        assert!(seen && back.same_values(&snapshot));
        drop(back);
        // A write (the map shared with the caller's context: copied): dropped at return.
        let inside = counter();
        let ((), back) = snapshot.clone().run_keeping(|| {
            T.set(Tracked::new("inside", &inside));
        });
        assert!(back.is_empty());
        assert_eq!(
            count(&inside),
            1,
            "what the work set is dropped at its return"
        );
        // A write while the snapshot holds the only reference (changed in place).
        T.set(Tracked::new("replaced", &counter()));
        let before = count(&drops);
        let ((), back) = snapshot.run_keeping(|| {
            V.set(1);
        });
        assert!(back.is_empty());
        assert_eq!(count(&drops), before + 1, "the captured value went with it");
        assert_eq!(V.get(), None);
    })
    .unwrap();
}

#[test]
fn run_keeping_after_a_nested_write_or_a_panic_keeps_nothing_and_loses_nothing() {
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracked");
    static V: ContextVar<u32> = ContextVar::new("v");
    let drops = counter();
    let ctx = Context::new();
    ctx.run(|| {
        T.set(Tracked::new("captured", &drops));
        V.set(1);
        let snapshot = Snapshot::capture();
        // A write in a context entered inside counts as a write: nothing comes back, and
        // the values are still the caller's.
        let inner = Context::new();
        let (_, back) = snapshot
            .clone()
            .run_keeping(|| inner.run(|| V.set(5)).unwrap());
        assert!(back.is_empty());
        assert_eq!((inner.get(&V), V.get()), (Some(5), Some(1)));
        // A panic: the previous context comes back and the snapshot's reference is gone.
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            snapshot.clone().run_keeping(|| {
                V.set(2);
                panic!("boom");
            })
        }));
        assert!(unwound.is_err());
        assert_eq!(V.get(), Some(1));
        // A token made inside does not reset outside.
        let (token, back) = snapshot.run_keeping(|| V.set(3));
        assert!(back.is_empty());
        assert!(matches!(V.reset(token), Err(ResetError::WrongContext(_))));
    })
    .unwrap();
    assert_eq!(count(&drops), 0);
    drop(ctx);
    assert_eq!(
        count(&drops),
        1,
        "the captured value is dropped once, with the context"
    );
}

/// Every kind of write inside `run_keeping` counts: a reset of a token made inside, a
/// scoped set (set, then reset on drop), a second set of the same var (rebound in place),
/// a write in an `OwnedContext` or a `Snapshot::run` entered inside. None hands back a
/// changed version; the caller's values are untouched.
#[test]
fn run_keeping_sees_every_kind_of_write() {
    use contexture_ctxvar::OwnedContext;
    static V: ContextVar<u32> = ContextVar::new("v");
    V.set(1);
    let snapshot = Snapshot::capture();
    let writes: [&dyn Fn(); 5] = [
        &|| V.reset(V.set(2)).unwrap(),
        &|| drop(V.set_scoped(3)),
        &|| {
            V.set(4);
            V.set(5);
        },
        &|| drop(OwnedContext::new().run(|| V.set(6))),
        &|| Snapshot::default().run(|| drop(V.set(7))),
    ];
    for write in writes {
        let ((), back) = snapshot.clone().run_keeping(write);
        assert!(back.is_empty(), "a write hands nothing back");
        assert!(snapshot.get(&V) == Some(1) && V.get() == Some(1));
    }
    let (seen, back) = snapshot.clone().run_keeping(|| V.get());
    assert!(seen == Some(1) && back.same_values(&snapshot));
}

/// `run_keeping_with`: the spares (other references to the same values) are held by the run
/// and let go at its first write, so that the write changes in place what only the run and
/// the spares held, and drops the value it replaced at once.
#[test]
fn run_keeping_with_lets_the_spares_go_at_the_first_write() {
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracked");
    let drops = counter();
    let ctx = Context::new();
    let (mut spares, snapshot) = ctx
        .run(|| {
            T.set(Tracked::new("captured", &drops));
            let mut spares = Spares::new();
            spares.push(Snapshot::capture()).unwrap();
            spares.push(Snapshot::capture()).unwrap();
            (spares, Snapshot::capture())
        })
        .unwrap();
    drop(ctx); // the snapshot and the spares are the last handles
               // Read only: the spares come back, and so do the values.
    let (seen, back) = snapshot
        .clone()
        .run_keeping_with(&mut spares, || T.get().is_some());
    assert!(seen && spares.len() == 2 && back.same_values(&snapshot));
    drop(back);
    // A write: the spares go first, the old value goes at the write.
    let ((), back) = snapshot.run_keeping_with(&mut spares, || {
        T.set(Tracked::new("inside", &counter()));
        assert_eq!(count(&drops), 1, "replaced in place and dropped at the set");
    });
    assert!(spares.is_empty() && back.is_empty());
}

#[test]
fn run_keeping_with_drops_spares_of_other_values_first_and_survives_nesting_and_panics() {
    static V: ContextVar<u32> = ContextVar::new("v");
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracked");
    let drops = counter();
    let ctx = Context::new();
    let (other, snapshot) = ctx
        .run(|| {
            T.set(Tracked::new("other", &drops));
            let other = Snapshot::capture();
            T.set(Tracked::new("this", &counter()));
            (other, Snapshot::capture())
        })
        .unwrap();
    drop(ctx);
    // Spares that are not these values are dropped before `f` runs.
    let mut spares = Spares::new();
    spares.push(other).unwrap();
    let ((), _) = snapshot.clone().run_keeping_with(&mut spares, || {
        assert_eq!(
            count(&drops),
            1,
            "the other values' last handle went before f"
        );
    });
    assert!(spares.is_empty());
    // A nested run with spares of its own gives the outer ones back untouched.
    let mut outer = Spares::new();
    outer.push(snapshot.clone()).unwrap();
    let inner_values = Snapshot::default();
    let ((), back) = snapshot.clone().run_keeping_with(&mut outer, || {
        let mut inner = Spares::new();
        let ((), _) = inner_values.run_keeping_with(&mut inner, || drop(V.set(1)));
        assert!(V.get().is_none());
    });
    assert_eq!(
        outer.len(),
        1,
        "the inner write did not touch the outer spares"
    );
    assert!(back.is_empty(), "a write in a nested run counts as a write");
    // A panic: the previous context comes back, the spares with it.
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        snapshot
            .clone()
            .run_keeping_with(&mut outer, || panic!("boom"))
    }));
    assert!(unwound.is_err());
    assert_eq!(outer.len(), 1);
    assert_eq!(V.get(), None);
}

/// `Spares::release` gives all references but one back at once and hands out the last one:
/// the values live until that one goes (or until the spares drop, which releases them).
#[test]
fn spares_release_all_but_one_reference_and_the_last_one_drops_the_values() {
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracked");
    let drops = counter();
    let ctx = Context::new();
    let captured = || {
        ctx.run(|| {
            if T.get().is_none() {
                T.set(Tracked::new("kept", &drops));
            }
            Snapshot::capture()
        })
        .unwrap()
    };
    let mut spares = Spares::new();
    for _ in 0..5 {
        spares.push(captured()).unwrap();
    }
    assert_eq!(spares.len(), 5);
    // An empty snapshot is other values than these: handed back, nothing lost.
    assert!(spares.push(Snapshot::default()).unwrap_err().is_empty());
    drop(ctx); // the spares are the values' last handles now
    let last = spares.release().expect("five were kept");
    assert_eq!((spares.len(), spares.release().is_none()), (0, true));
    assert_eq!(count(&drops), 0, "the last reference still holds them");
    drop(last);
    assert_eq!(count(&drops), 1);

    // Dropping the spares releases them too; refilled after a release, they work again.
    let drops = counter();
    let ctx = Context::new();
    ctx.run(|| T.set(Tracked::new("again", &drops))).unwrap();
    for _ in 0..3 {
        spares.push(ctx.run(Snapshot::capture).unwrap()).unwrap();
    }
    drop(ctx);
    assert_eq!(count(&drops), 0);
    drop(spares);
    assert_eq!(count(&drops), 1);
}
