//! Thread teardown: the thread's own context is dropped at thread exit while this crate's
//! thread state is alive, so a value's `Drop` may use vars and enter contexts; `set`, `get`
//! and `run` reached from other thread-locals' destructors work, and what they set is
//! dropped before the thread is gone; a panicking `Drop` there never aborts the process.

mod common;

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::time::Duration;

use common::{count, counter, Tracked};
use contexture_ctxvar::{copy_context, Context, ContextVar};

/// Runs `f` on a plain thread and joins it (thread-local destructors included), failing
/// rather than hanging when that takes more than 30 s.
fn on_thread(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel::<std::thread::Result<()>>();
    let watcher = std::thread::spawn(move || {
        let _ = tx.send(std::thread::spawn(f).join());
    });
    let joined = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the thread did not finish its teardown");
    joined.expect("the thread panicked");
    watcher.join().unwrap();
}

/// Item 10: a value in a plain thread's own context whose `Drop` enters a context (and sets
/// a var in it) at thread exit: it used to abort the process ("thread local panicked on
/// drop"); now it works, and what it set is dropped too.
#[test]
fn a_drop_at_thread_exit_may_enter_a_context() {
    static V: ContextVar<Arc<Tracked>> = ContextVar::new("v");
    static SEEN: ContextVar<u32> = ContextVar::new("seen");
    struct EntersOnDrop(Sender<Option<u32>>);
    impl Drop for EntersOnDrop {
        fn drop(&mut self) {
            let seen = copy_context().run(|| {
                SEEN.set(3);
                SEEN.get()
            });
            self.0.send(seen.ok().flatten()).unwrap();
        }
    }
    static E: ContextVar<Arc<Holder>> = ContextVar::new("e");
    struct Holder(#[allow(dead_code)] EntersOnDrop); // dropped, never read
    let drops = counter();
    let (tx, rx) = mpsc::channel();
    let d = drops.clone();
    on_thread(move || {
        E.set(Arc::new(Holder(EntersOnDrop(tx))));
        V.set(Tracked::new("own", &d));
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(Some(3)));
    assert_eq!(count(&drops), 1);
}

/// A value whose `Drop` sets another var in the thread's own context at thread exit: that
/// value is dropped too (a later round of the same cleanup).
#[test]
fn a_drop_at_thread_exit_that_sets_again_is_cleaned_up_too() {
    static A: ContextVar<Arc<SetsOnDrop>> = ContextVar::new("a");
    static B: ContextVar<Arc<Tracked>> = ContextVar::new("b");
    struct SetsOnDrop(Arc<AtomicUsize>);
    impl Drop for SetsOnDrop {
        fn drop(&mut self) {
            B.set(Tracked::new("late", &self.0));
        }
    }
    let drops = counter();
    let d = drops.clone();
    on_thread(move || {
        A.set(Arc::new(SetsOnDrop(d)));
    });
    assert_eq!(count(&drops), 1);
}

/// Item 11: `set`, `get` and `run` reached from another thread-local's destructor that runs
/// after this crate's exit cleanup (it was registered first): the value set is seen by the
/// next `get`, a context can be entered, and the value is dropped before `join` returns.
/// (It used to be a silent no-op: `get` saw nothing.)
#[test]
fn set_get_and_run_from_a_later_thread_local_destructor_work_and_are_cleaned_up() {
    static V: ContextVar<Arc<Tracked>> = ContextVar::new("v");
    static W: ContextVar<u32> = ContextVar::new("w");
    struct UsesVarsOnDrop(Arc<AtomicUsize>, Sender<(bool, Option<u32>, Option<u32>)>);
    impl Drop for UsesVarsOnDrop {
        fn drop(&mut self) {
            let token = W.set(1);
            V.set(Tracked::new("late", &self.0));
            let seen = V.get().is_some_and(|t| t.name == "late");
            let in_ctx = Context::new()
                .run(|| {
                    W.set(2);
                    W.get()
                })
                .ok()
                .flatten();
            let after_reset = W.reset(token).ok().and_then(|()| W.get());
            self.1.send((seen, in_ctx, after_reset)).unwrap();
        }
    }
    thread_local! {
        static LATE: RefCell<Option<UsesVarsOnDrop>> = const { RefCell::new(None) };
    }
    let drops = counter();
    let (tx, rx) = mpsc::channel();
    let d = drops.clone();
    let early = counter();
    let e = early.clone();
    on_thread(move || {
        // Registered before the crate's exit cleanup, so destroyed after it (destructors
        // run in reverse order of registration).
        LATE.with(|l| *l.borrow_mut() = Some(UsesVarsOnDrop(d, tx)));
        V.set(Tracked::new("early", &e)); // arms the crate's exit cleanup
    });
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Ok((true, Some(2), None))
    );
    assert_eq!(count(&early), 1);
    assert_eq!(
        count(&drops),
        1,
        "the value set during teardown was not dropped"
    );
}

/// The same from a thread that never used a var before its teardown.
#[test]
fn set_from_a_destructor_on_a_thread_that_never_used_vars_is_cleaned_up() {
    static V: ContextVar<Arc<Tracked>> = ContextVar::new("v");
    struct SetsOnDrop(Arc<AtomicUsize>, Sender<bool>);
    impl Drop for SetsOnDrop {
        fn drop(&mut self) {
            V.set(Tracked::new("late", &self.0));
            self.1.send(V.get().is_some()).unwrap();
        }
    }
    thread_local! {
        static LATE: RefCell<Option<SetsOnDrop>> = const { RefCell::new(None) };
    }
    let drops = counter();
    let (tx, rx) = mpsc::channel();
    let d = drops.clone();
    on_thread(move || LATE.with(|l| *l.borrow_mut() = Some(SetsOnDrop(d, tx))));
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(true));
    assert_eq!(count(&drops), 1);
}

/// Several later destructors, each setting after the previous cleanup ran: each round is
/// cleaned up by the next guard of the chain.
#[test]
fn several_rounds_of_late_sets_are_all_cleaned_up() {
    static V: ContextVar<Arc<Tracked>> = ContextVar::new("v");
    struct SetsOnDrop(Arc<AtomicUsize>);
    impl Drop for SetsOnDrop {
        fn drop(&mut self) {
            V.set(Tracked::new("late", &self.0));
        }
    }
    thread_local! {
        static L1: RefCell<Option<SetsOnDrop>> = const { RefCell::new(None) };
        static L2: RefCell<Option<SetsOnDrop>> = const { RefCell::new(None) };
        static L3: RefCell<Option<SetsOnDrop>> = const { RefCell::new(None) };
    }
    let drops = counter();
    let d = drops.clone();
    on_thread(move || {
        L1.with(|l| *l.borrow_mut() = Some(SetsOnDrop(d.clone())));
        L2.with(|l| *l.borrow_mut() = Some(SetsOnDrop(d.clone())));
        L3.with(|l| *l.borrow_mut() = Some(SetsOnDrop(d.clone())));
        V.set(Tracked::new("early", &d));
    });
    assert_eq!(count(&drops), 4);
}

/// Panicking `Drop`s of values in the thread's own context at thread exit: caught, the
/// other values are still dropped, the process does not abort.
#[test]
fn panicking_drops_at_thread_exit_neither_abort_nor_stop_the_others() {
    static P1: ContextVar<Arc<PanicsOnDrop>> = ContextVar::new("p1");
    static P2: ContextVar<Arc<PanicsOnDrop>> = ContextVar::new("p2");
    static T: ContextVar<Arc<Tracked>> = ContextVar::new("t");
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("drop at thread exit");
        }
    }
    let drops = counter();
    let d = drops.clone();
    on_thread(move || {
        P1.set(Arc::new(PanicsOnDrop));
        T.set(Tracked::new("t", &d));
        P2.set(Arc::new(PanicsOnDrop));
    });
    assert_eq!(count(&drops), 1);
}

/// A panicking `Drop` of a value set from a later thread-local destructor: caught too.
#[test]
fn panicking_drop_of_a_late_value_does_not_abort() {
    static P: ContextVar<Arc<PanicsOnDrop>> = ContextVar::new("p");
    struct PanicsOnDrop(Arc<AtomicUsize>);
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
            panic!("late drop");
        }
    }
    struct SetsOnDrop(Arc<AtomicUsize>);
    impl Drop for SetsOnDrop {
        fn drop(&mut self) {
            P.set(Arc::new(PanicsOnDrop(self.0.clone())));
        }
    }
    thread_local! {
        static LATE: RefCell<Option<SetsOnDrop>> = const { RefCell::new(None) };
    }
    let drops = counter();
    let d = drops.clone();
    on_thread(move || LATE.with(|l| *l.borrow_mut() = Some(SetsOnDrop(d))));
    assert_eq!(count(&drops), 1);
}

/// A `set_scoped` guard kept in another thread-local, dropped after this crate's exit
/// cleanup drained the thread's context: its reset is accepted (the context is the same
/// one) rather than refused, which would panic inside a thread-local destructor and abort.
#[test]
fn a_scoped_guard_dropped_after_the_exit_cleanup_resets_quietly() {
    use contexture_ctxvar::ScopedSet;
    static V: ContextVar<Arc<Tracked>> = ContextVar::new("v");
    thread_local! {
        static GUARD: RefCell<Option<ScopedSet<'static, Arc<Tracked>>>> =
            const { RefCell::new(None) };
    }
    let drops = counter();
    let d = drops.clone();
    on_thread(move || {
        // The guard's thread-local is registered first, so destroyed after the exit
        // cleanup that the first `set` arms.
        GUARD.with(|g| drop(g.borrow_mut().take()));
        drop(V.set(Tracked::new("before", &d)));
        GUARD.with(|g| *g.borrow_mut() = Some(V.set_scoped(Tracked::new("scoped", &d))));
    });
    // The cleanup drops "scoped"; the guard's reset then restores "before" (its token held
    // it), which a later guard of the chain drops.
    assert_eq!(count(&drops), 2);
}
