//! Panicking user code at every hook: a value's `Drop` when a context is dropped, when a
//! var is reset or rebound, when a `Snapshot::run` or `run` exits (also while unwinding), a
//! `Clone` run by `get`, and `f` of `run`. Each checks: no abort, nothing lost (every other
//! value still dropped), and the context and the thread's state still usable.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{count, counter, Tracked};
use contexture_ctxvar::{copy_context, Context, ContextVar, Snapshot};

/// Panics in its `Drop` (after counting it).
struct PanicsOnDrop(Arc<AtomicUsize>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("value drop");
    }
}

fn panics_on_drop(drops: &Arc<AtomicUsize>) -> Arc<PanicsOnDrop> {
    Arc::new(PanicsOnDrop(drops.clone()))
}

static P1: ContextVar<Arc<PanicsOnDrop>> = ContextVar::new("p1");
static P2: ContextVar<Arc<PanicsOnDrop>> = ContextVar::new("p2");
static T: ContextVar<Arc<Tracked>> = ContextVar::new("t");
static N: ContextVar<u32> = ContextVar::new("n");

/// Two values whose `Drop` panics and one that does not, in a context being dropped: it
/// used to abort (a second panic during the unwinding of the first); now all three are
/// dropped and the first panic comes back to the caller of `drop`.
#[test]
fn dropping_a_context_with_two_panicking_values_drops_all_and_resumes_one_panic() {
    let (panics, drops) = (counter(), counter());
    let ctx = Context::new();
    ctx.run(|| {
        P1.set(panics_on_drop(&panics));
        T.set(Tracked::new("t", &drops));
        P2.set(panics_on_drop(&panics));
    })
    .unwrap();
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(ctx)));
    assert!(dropped.is_err(), "the first panic is resumed");
    assert_eq!((count(&panics), count(&drops)), (2, 1));
    // The thread's own context is untouched and usable.
    N.set(1);
    assert_eq!(N.get(), Some(1));
}

/// A `Snapshot::run` whose work set two values with panicking `Drop`s and then panicked
/// itself: no abort (the drops run while unwinding), every value dropped, the previous
/// context current again.
#[test]
fn snapshot_run_exit_while_unwinding_with_panicking_values_does_not_abort() {
    let (panics, drops) = (counter(), counter());
    N.set(5);
    let r = catch_unwind(AssertUnwindSafe(|| {
        Snapshot::capture().run(|| {
            P1.set(panics_on_drop(&panics));
            P2.set(panics_on_drop(&panics));
            T.set(Tracked::new("t", &drops));
            panic!("work");
        })
    }));
    let payload = r.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"work"),
        "the work's panic wins"
    );
    assert_eq!((count(&panics), count(&drops)), (2, 1));
    assert_eq!(N.get(), Some(5));
    assert!(P1.get().is_none());
}

/// The same exit without a panic of the work: the first value panic comes back after all
/// values were dropped and the previous context restored.
#[test]
fn snapshot_run_exit_with_a_panicking_value_resumes_it_after_restoring() {
    let (panics, drops) = (counter(), counter());
    N.set(6);
    let r = catch_unwind(AssertUnwindSafe(|| {
        Snapshot::default().run(|| {
            P1.set(panics_on_drop(&panics));
            T.set(Tracked::new("t", &drops));
        })
    }));
    assert!(r.is_err());
    assert_eq!((count(&panics), count(&drops)), (1, 1));
    assert_eq!(N.get(), Some(6));
}

/// A reset whose displaced value panics in `Drop`: the reset happened (the var holds the
/// restored value), the panic reaches the caller, the state is usable.
#[test]
fn reset_displacing_a_panicking_value_completes_then_panics() {
    let panics = counter();
    Context::new()
        .run(|| {
            let token = P1.set(panics_on_drop(&panics));
            let r = catch_unwind(AssertUnwindSafe(|| P1.reset(token)));
            assert!(r.is_err());
            assert_eq!(count(&panics), 1);
            assert!(P1.get().is_none(), "the reset took effect");
            N.set(2);
            assert_eq!(N.get(), Some(2));
        })
        .unwrap();
}

/// A `set_scoped` guard reset while unwinding, whose displaced value panics in `Drop`: no
/// abort, the value is dropped, the var is reset.
#[test]
fn scoped_reset_while_unwinding_with_a_panicking_value_does_not_abort() {
    let panics = counter();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _guard = P1.set_scoped(panics_on_drop(&panics));
        panic!("body");
    }));
    assert!(r.is_err());
    assert_eq!(count(&panics), 1);
    assert!(P1.get().is_none());
}

/// Rebinding a var whose old value panics in `Drop` (dropped with the token): the new value
/// is bound.
#[test]
fn rebinding_over_a_panicking_value_keeps_the_new_one() {
    let panics = counter();
    let ctx = Context::new();
    ctx.run(|| {
        drop(P1.set(panics_on_drop(&panics)));
        let r = catch_unwind(AssertUnwindSafe(|| drop(P1.set(panics_on_drop(&panics)))));
        assert!(r.is_err(), "the token held the old value");
        assert_eq!(count(&panics), 1);
        assert!(P1.get().is_some());
    })
    .unwrap();
    assert_eq!(count(&panics), 1);
    let _ = catch_unwind(AssertUnwindSafe(move || drop(ctx))); // its value panics on drop
}

/// A `run` whose exit withdraws a stale published version holding the last handle to a
/// panicking value (the run replaced it): no abort, the context stays enterable.
#[test]
fn run_exit_dropping_a_stale_version_with_a_panicking_value() {
    let panics = counter();
    let ctx = Context::new();
    ctx.run(|| drop(P1.set(panics_on_drop(&panics)))).unwrap();
    // This entry publishes {P1: old}; the run replaces it; the exit drops the stale version.
    let r = catch_unwind(AssertUnwindSafe(|| {
        ctx.run(|| {
            // The token goes now: the old value is held by the stale version only.
            drop(P1.set(Arc::new(PanicsOnDrop(counter()))));
            assert_eq!(count(&panics), 0, "kept by the published version");
        })
    }));
    assert!(r.is_err(), "the value's panic reaches the caller of run");
    assert_eq!(count(&panics), 1);
    assert_eq!(ctx.run(|| P1.get().is_some()), Ok(true));
    let _ = catch_unwind(AssertUnwindSafe(move || drop(ctx))); // its value panics on drop
}

/// A `Clone` run by `get` that panics: the panic reaches the caller, the state is not left
/// borrowed, and the var (and others) still work.
#[test]
fn a_panicking_clone_inside_get_leaves_everything_usable() {
    #[derive(Debug)]
    struct BadClone;
    impl Clone for BadClone {
        fn clone(&self) -> BadClone {
            panic!("clone");
        }
    }
    static B: ContextVar<BadClone> = ContextVar::new("b");
    B.set(BadClone);
    assert!(catch_unwind(|| B.get()).is_err());
    assert!(B.with(|b| b.is_some()));
    N.set(9);
    assert_eq!(N.get(), Some(9));
    let copy = copy_context();
    assert_eq!(copy.get(&N), Some(9));
    assert!(catch_unwind(AssertUnwindSafe(|| copy.get(&B))).is_err());
    assert_eq!(
        copy.run(|| N.get()),
        Ok(Some(9)),
        "the copy is still enterable"
    );
}

/// `f` of `run` panicking: the context keeps what `f` set, the flag is released.
#[test]
fn a_panicking_run_body_releases_the_context() {
    let ctx = Context::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        ctx.run(|| {
            N.set(4);
            panic!("body");
        })
    }));
    assert!(r.is_err());
    assert_eq!(ctx.get(&N), Some(4));
    assert_eq!(ctx.run(|| N.get()), Ok(Some(4)));
}

/// `with`'s closure panicking: the state is not left borrowed; the value is still there.
#[test]
fn a_panicking_with_closure_leaves_the_var_usable() {
    N.set(11);
    assert!(catch_unwind(|| N.with(|_| panic!("f"))).is_err());
    assert_eq!(N.get(), Some(11));
    N.set(12);
    assert_eq!(N.with(|n| n.copied()), Some(12));
}

/// The last `Snapshot` of a version whose two values panic in `Drop` (a pool worker drops
/// the references that `run_keeping` handed back this way): every value is dropped and the
/// first panic comes back, as for a `Context`. A plain drop of the version aborted (the
/// second panic came while the first unwound through the drop of its entries).
#[test]
fn dropping_the_last_snapshot_of_two_panicking_values_drops_all_and_resumes_one_panic() {
    let (panics, drops) = (counter(), counter());
    let snapshot = Snapshot::default().run(|| {
        P1.set(panics_on_drop(&panics));
        T.set(Tracked::new("t", &drops));
        P2.set(panics_on_drop(&panics));
        Snapshot::capture()
    });
    // `run_keeping` hands the very same reference back: it is now the last one.
    let ((), back) = snapshot.run_keeping(|| ());
    assert_eq!(back.len(), 3);
    assert_eq!((count(&panics), count(&drops)), (0, 0));
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(back)));
    assert!(dropped.is_err(), "the first panic is resumed");
    assert_eq!((count(&panics), count(&drops)), (2, 1));
    N.set(1);
    assert_eq!(N.get(), Some(1));
}
