//! `Context`: copies, `run` (mutating the entered context, restoring on exit and panic,
//! refusing a second entry), the read methods, `Debug`, thread starts, and the lifecycle
//! rule that a context's values die with it (no cache keeps them).

mod common;

use std::sync::{Arc, Barrier};

use common::{count, counter, Tracked};
use contexture_ctxvar::{copy_context, thread, AlreadyEntered, Context, ContextVar};

#[test]
fn copies_are_independent_snapshots() {
    static V: ContextVar<u32> = ContextVar::new("v");
    V.set(1);
    let a = copy_context();
    V.set(2);
    let b = a.copy();
    a.run(|| V.set(3)).unwrap();
    assert_eq!(V.get(), Some(2));
    assert_eq!(a.get(&V), Some(3));
    assert_eq!(b.get(&V), Some(1));
}

#[test]
fn run_mutates_the_context_it_runs_in_and_restores_the_caller() {
    static V: ContextVar<&str> = ContextVar::new("v");
    static W: ContextVar<&str> = ContextVar::new("w");
    V.set("outer");
    let ctx = copy_context();
    let inside = ctx
        .run(|| {
            assert_eq!(V.get(), Some("outer"));
            V.set("inner");
            W.set("only inside");
            assert_eq!(ctx.get(&V), Some("inner")); // live while current
            (V.get(), W.get())
        })
        .unwrap();
    assert_eq!(inside, (Some("inner"), Some("only inside")));
    assert_eq!((V.get(), W.get()), (Some("outer"), None));
    assert_eq!(
        (ctx.get(&V), ctx.get(&W)),
        (Some("inner"), Some("only inside"))
    );
    // Entering again sees what the first run left.
    assert_eq!(ctx.run(|| W.get()).unwrap(), Some("only inside"));
}

#[test]
fn run_restores_the_previous_context_when_f_panics() {
    static V: ContextVar<u32> = ContextVar::new("v");
    V.set(1);
    let ctx = Context::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ctx.run(|| {
            V.set(2);
            panic!("boom");
        })
    }));
    assert!(caught.is_err());
    assert_eq!(V.get(), Some(1));
    assert_eq!(ctx.get(&V), Some(2), "what f set before panicking stays");
    assert_eq!(
        ctx.run(|| V.get()).unwrap(),
        Some(2),
        "and ctx can be entered again"
    );
}

#[test]
fn nested_runs_of_different_contexts_stack() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let a = Context::new();
    let b = Context::new();
    a.run(|| {
        V.set(1);
        b.run(|| {
            assert_eq!(V.get(), None);
            V.set(2);
            assert_eq!(a.run(|| ()), Err(AlreadyEntered));
        })
        .unwrap();
        assert_eq!(V.get(), Some(1));
    })
    .unwrap();
    assert_eq!((a.get(&V), b.get(&V), V.get()), (Some(1), Some(2), None));
}

#[test]
fn entering_an_entered_context_is_refused_on_the_same_thread() {
    let ctx = Context::new();
    assert_eq!(ctx.run(|| ctx.run(|| 1)), Ok(Err(AlreadyEntered)));
    assert_eq!(ctx.run(|| 2), Ok(2));
}

#[test]
fn entering_an_entered_context_is_refused_on_another_thread() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let ctx = Arc::new(Context::new());
    let inside = Arc::new(Barrier::new(2));
    let tried = Arc::new(Barrier::new(2));
    let (c, i, t) = (ctx.clone(), inside.clone(), tried.clone());
    let other = std::thread::spawn(move || {
        i.wait();
        let r = c.run(|| ());
        // While entered elsewhere, readers see the last published version.
        let seen = c.get(&V);
        t.wait();
        (r, seen)
    });
    ctx.run(|| {
        V.set(5);
        inside.wait();
        tried.wait();
    })
    .unwrap();
    let (refused, seen) = other.join().unwrap();
    assert_eq!(refused, Err(AlreadyEntered));
    assert_eq!(seen, None);
    assert_eq!(ctx.get(&V), Some(5));
    // Once exited, another thread can enter it and sees the values.
    let c = ctx.clone();
    assert_eq!(
        std::thread::spawn(move || c.run(|| V.get()).unwrap())
            .join()
            .unwrap(),
        Some(5)
    );
}

#[test]
fn read_methods_and_debug() {
    static A: ContextVar<u32> = ContextVar::new("alpha");
    static B: ContextVar<String> = ContextVar::new("beta");
    let ctx = Context::new();
    assert!(ctx.is_empty());
    assert_eq!(ctx.len(), 0);
    assert_eq!(format!("{ctx:?}"), "Context { vars: [] }");
    ctx.run(|| {
        A.set(1);
        B.set("b".into());
    })
    .unwrap();
    assert_eq!(ctx.len(), 2);
    assert!(!ctx.is_empty());
    assert!(ctx.contains(&A) && ctx.contains(&B));
    assert_eq!(ctx.get(&B).as_deref(), Some("b"));
    assert_eq!(
        format!("{ctx:?}"),
        "Context { vars: [\"alpha\", \"beta\"] }"
    );
    let copy = ctx.copy();
    assert_eq!(copy.var_names(), ["alpha", "beta"]);
}

#[test]
fn every_thread_starts_in_an_empty_context() {
    static V: ContextVar<u32> = ContextVar::new("v");
    V.set(1);
    let seen = std::thread::spawn(|| (V.get(), copy_context().len()))
        .join()
        .unwrap();
    assert_eq!(seen, (None, 0));
}

#[test]
fn thread_spawn_starts_in_a_copy_of_the_spawners_context() {
    static V: ContextVar<u32> = ContextVar::new("v");
    V.set(1);
    let seen = thread::spawn(|| {
        let before = V.get();
        V.set(2);
        (before, V.get())
    })
    .join()
    .unwrap();
    assert_eq!(seen, (Some(1), Some(2)));
    assert_eq!(V.get(), Some(1));
    let named = thread::Builder::new()
        .name("inherits".into())
        .spawn(|| (std::thread::current().name().map(String::from), V.get()))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(named, (Some("inherits".into()), Some(1)));
}

#[test]
fn values_set_in_a_context_are_released_when_it_is_dropped() {
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracker");
    let drops = counter();
    let ctx = copy_context();
    ctx.run(|| {
        T.set(Tracked::new("lifecycle", &drops));
        // Fill the lookup cache with a pointer to the value.
        assert_eq!(T.get().map(|t| t.name), Some("lifecycle"));
        assert_eq!(T.get().map(|t| t.name), Some("lifecycle"));
    })
    .unwrap();
    assert_eq!(T.get().map(|t| t.name), None);
    assert_eq!(count(&drops), 0, "the context still holds it");
    drop(ctx);
    assert_eq!(count(&drops), 1, "released with its context: no leak");
}

#[test]
fn a_replaced_value_is_released_at_once_despite_the_cache() {
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracker");
    let drops = counter();
    let ctx = Context::new();
    ctx.run(|| {
        drop(T.set(Tracked::new("first", &drops)));
        assert!(T.get().is_some()); // cached
        drop(T.set(Tracked::new("second", &drops)));
        assert_eq!(count(&drops), 1, "the first value went with its token");
        assert_eq!(T.get().map(|t| t.name), Some("second"));
    })
    .unwrap();
    // A copy shares the value; both must go before it is released.
    let copy = ctx.copy();
    drop(ctx);
    assert_eq!(count(&drops), 1);
    drop(copy);
    assert_eq!(count(&drops), 2);
}

#[test]
fn a_threads_values_are_released_when_it_exits() {
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("tracker");
    let drops = counter();
    let d = drops.clone();
    std::thread::spawn(move || {
        T.set(Tracked::new("thread", &d));
        assert!(T.get().is_some());
    })
    .join()
    .unwrap();
    assert_eq!(count(&drops), 1);
}

#[test]
fn a_value_whose_drop_reads_context_vars_is_fine() {
    static V: ContextVar<Arc<ReadsOnDrop>> = ContextVar::new("reads");
    static OTHER: ContextVar<u32> = ContextVar::with_default("other", 9);
    struct ReadsOnDrop;
    impl Drop for ReadsOnDrop {
        fn drop(&mut self) {
            assert_eq!(OTHER.get(), Some(9));
            OTHER.set(1); // even a set
        }
    }
    let ctx = Context::new();
    ctx.run(|| {
        V.set(Arc::new(ReadsOnDrop));
        V.set(Arc::new(ReadsOnDrop)); // the token (and old value) dropped after the borrow
    })
    .unwrap();
    drop(ctx);
    assert_eq!(OTHER.get(), Some(1));
    std::thread::spawn(|| {
        V.set(Arc::new(ReadsOnDrop)); // dropped during thread-local teardown
    })
    .join()
    .ok();
}

#[test]
fn context_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Context>();
    assert_send_sync::<ContextVar<u32>>();
    assert_send_sync::<contexture_ctxvar::Token<u32>>();
}

#[test]
fn run_mut_changes_the_owned_context_and_restores_the_caller_even_on_panic() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let outer = Context::new();
    outer
        .run(|| {
            V.set(1);
            let mut own = copy_context();
            assert_eq!(own.run_mut(|| V.set(2).old_value().copied()), Some(1));
            assert_eq!(V.get(), Some(1));
            assert_eq!(own.get(&V), Some(2));
            let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                own.run_mut(|| {
                    V.set(3);
                    panic!("boom");
                })
            }));
            assert!(unwound.is_err());
            assert_eq!(V.get(), Some(1));
            assert_eq!(own.get(&V), Some(3)); // what it set before panicking stays
        })
        .unwrap();
}

#[test]
fn other_threads_see_what_run_mut_wrote_after_a_run_published_the_context() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let mut ctx = Context::new();
    ctx.run(|| V.set(1)).unwrap(); // readers elsewhere now read a published version
    let shared = &ctx;
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(shared.get(&V), Some(1)));
    });
    ctx.run_mut(|| V.set(2));
    let shared = &ctx;
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(shared.get(&V), Some(2)));
    });
    assert_eq!(ctx.run(|| V.get()), Ok(Some(2)));
}

/// `run` from a `Clone` that `get` is running panics (documented), before it takes the
/// context: the context keeps its values and can be entered afterwards.
#[test]
fn run_refused_inside_get_clone_leaves_the_context_usable() {
    static TARGET: ContextVar<u32> = ContextVar::new("target");
    static SNEAKY: ContextVar<Sneaky> = ContextVar::new("sneaky");
    struct Sneaky(Arc<Context>);
    impl Clone for Sneaky {
        fn clone(&self) -> Sneaky {
            let _ = self.0.run(|| ()); // panics: the thread's state is borrowed by `get`
            Sneaky(self.0.clone())
        }
    }
    let ctx = Arc::new(Context::new());
    ctx.run(|| TARGET.set(7)).unwrap();
    SNEAKY.set(Sneaky(ctx.clone()));
    let refused = std::panic::catch_unwind(|| SNEAKY.get().is_some());
    assert!(refused.is_err());
    assert_eq!(ctx.run(|| TARGET.get()), Ok(Some(7)));
    assert_eq!(ctx.get(&TARGET), Some(7));
}

/// Item 12: inside `ctx1.run(|| { X.set(1); ctx2.run(..) })`, reads of `ctx1` on the same
/// thread see its live values (Python does), for a nested `Context::run`, a `Snapshot::run`
/// and a `run_mut` alike; after the nested entry exits, still live.
#[test]
fn a_nested_entry_on_the_same_thread_shows_the_outer_context_live() {
    static X: ContextVar<u32> = ContextVar::new("x");
    static Y: ContextVar<u32> = ContextVar::new("y");
    let ctx1 = Context::new();
    ctx1.run(|| V0.set(0)).unwrap(); // a first run, so that a stale version is published
    let mut own = Context::new();
    let seen = ctx1
        .run(|| {
            X.set(1);
            Y.set(2);
            let ctx2 = Context::new();
            let in_run = ctx2
                .run(|| {
                    (
                        ctx1.get(&X),
                        ctx1.len(),
                        ctx1.copy().get(&Y),
                        ctx1.contains(&X),
                        ctx1.var_names(),
                    )
                })
                .unwrap();
            let in_snapshot = contexture_ctxvar::Snapshot::default().run(|| ctx1.get(&X));
            let in_run_mut = own.run_mut(|| ctx1.get(&Y));
            // Two levels down.
            let deep = ctx2
                .run(|| Context::new().run(|| ctx1.get(&X)).unwrap())
                .unwrap();
            (in_run, in_snapshot, in_run_mut, deep, ctx1.get(&X))
        })
        .unwrap();
    assert_eq!(
        seen,
        (
            (Some(1), 3, Some(2), true, vec!["v0", "x", "y"]),
            Some(1),
            Some(2),
            Some(1),
            Some(1)
        )
    );
    assert_eq!(ctx1.get(&X), Some(1));
}

static V0: ContextVar<u32> = ContextVar::new("v0");

/// What a nested entry records of the outer context counts no reference of its own; a copy
/// taken through it counts one: it keeps the outer values after the nested entry exits, the
/// outer context writes again (a copy, not in place) and is dropped.
#[test]
fn a_copy_taken_through_a_nested_entry_outlives_it() {
    static X: ContextVar<String> = ContextVar::new("x-owned");
    let ctx1 = Context::new();
    let copy = ctx1
        .run(|| {
            X.set("before".to_owned());
            let copy = Context::new().run(|| ctx1.copy()).unwrap();
            X.set("after".to_owned());
            copy
        })
        .unwrap();
    assert_eq!(ctx1.get(&X).as_deref(), Some("after"));
    drop(ctx1);
    assert_eq!(copy.get(&X).as_deref(), Some("before"));
}

/// The nested record is only for this thread: another thread still sees the version of the
/// last exit while the context is entered here.
#[test]
fn a_nested_entry_does_not_change_what_other_threads_see() {
    static X: ContextVar<u32> = ContextVar::new("x");
    let ctx1 = Context::new();
    ctx1.run(|| X.set(1)).unwrap();
    ctx1.run(|| {
        X.set(2);
        Context::new()
            .run(|| {
                assert_eq!(ctx1.get(&X), Some(2));
                std::thread::scope(|s| {
                    assert_eq!(s.spawn(|| ctx1.get(&X)).join().unwrap(), Some(1));
                });
            })
            .unwrap();
    })
    .unwrap();
    assert_eq!(ctx1.get(&X), Some(2));
}
