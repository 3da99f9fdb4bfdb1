//! Panicking user code at every hook of a `Local`: the initialiser of `with_init`, the `f`
//! of `get_or` / `get_or_try`, a value's `Drop` when a helper replaces it, during `clear`,
//! during the `Local`'s drop (also while unwinding), when an `IntoIter` is dropped early,
//! and at thread exit for a value stored during teardown. Each checks: no abort, nothing
//! lost (every other value dropped), the `Local` still usable.

use contexture_local::Local;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn count(c: &Arc<AtomicUsize>) -> usize {
    c.load(Ordering::SeqCst)
}

/// Counts its drop; panics in it when `panics`.
struct Value {
    drops: Arc<AtomicUsize>,
    panics: bool,
}

impl Drop for Value {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panics {
            panic!("value drop");
        }
    }
}

fn value(drops: &Arc<AtomicUsize>, panics: bool) -> Value {
    Value {
        drops: drops.clone(),
        panics,
    }
}

#[test]
fn a_panicking_initialiser_stores_nothing_and_runs_again_next_time() {
    let calls = counter();
    let c = calls.clone();
    let local = Local::with_init(move || {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("init");
        }
        7
    });
    assert!(catch_unwind(AssertUnwindSafe(|| local.get().copied())).is_err());
    assert_eq!(local.get(), Some(&7));
    assert_eq!(count(&calls), 2);
    thread::scope(|s| {
        assert_eq!(s.spawn(|| local.get().copied()).join().unwrap(), Some(7));
    });
}

#[test]
fn a_panicking_get_or_closure_stores_nothing() {
    let local: Local<u32> = Local::new();
    assert!(catch_unwind(AssertUnwindSafe(|| *local.get_or(|| panic!("f")))).is_err());
    assert_eq!(local.get(), None);
    assert_eq!(*local.get_or(|| 3), 3);
}

#[test]
fn a_panicking_get_or_try_closure_stores_nothing() {
    let local: Local<u32> = Local::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        local
            .get_or_try(|| -> Result<u32, ()> { panic!("f") })
            .copied()
    }));
    assert!(r.is_err());
    assert_eq!(local.get(), None);
    assert_eq!(local.get_or_try(|| Err::<u32, _>("no")), Err("no"));
    assert_eq!(local.get_or_try(|| Ok::<_, ()>(4)), Ok(&4));
}

/// `RefCell` helper `set` over a value whose `Drop` panics: the new value is stored, the
/// panic reaches the caller.
#[test]
fn replacing_a_value_whose_drop_panics_keeps_the_new_one() {
    let drops = counter();
    let local: Local<RefCell<Value>> = Local::new();
    local.set(value(&drops, true));
    assert!(catch_unwind(AssertUnwindSafe(|| local.set(value(&drops, false)))).is_err());
    assert_eq!(count(&drops), 1);
    assert_eq!(local.with_borrow(|v| v.panics), Some(false));
}

/// Threads that each store a value (panicking on drop or not) into `local` and stay alive
/// until the returned sender is dropped; gives the `Local` back once they hold no handle.
fn filled_by_live_threads(
    local: Local<Value>,
    drops: &Arc<AtomicUsize>,
    panics: &[bool],
) -> (Local<Value>, mpsc::Sender<()>, Vec<thread::JoinHandle<()>>) {
    let local = Arc::new(local);
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
    let barrier = Arc::new(Barrier::new(panics.len() + 1));
    let handles = panics
        .iter()
        .map(|&p| {
            let (l, d, b, r) = (
                local.clone(),
                drops.clone(),
                barrier.clone(),
                release_rx.clone(),
            );
            thread::spawn(move || {
                l.get_or(|| value(&d, p));
                drop(l);
                b.wait();
                let _ = r.lock().unwrap().recv();
            })
        })
        .collect();
    barrier.wait();
    let local = Arc::try_unwrap(local).unwrap_or_else(|_| panic!("still shared"));
    (local, release_tx, handles)
}

/// `clear` with two panicking values among others (of live threads): all dropped, the
/// first panic resumed, the `Local` usable afterwards.
#[test]
fn clear_with_panicking_drops_drops_everything() {
    let drops = counter();
    let local: Local<Value> = Local::new();
    local.get_or(|| value(&drops, false));
    let (mut local, release, handles) = filled_by_live_threads(local, &drops, &[true, true]);
    let r = catch_unwind(AssertUnwindSafe(|| local.clear()));
    assert!(r.is_err());
    assert_eq!(count(&drops), 3);
    assert!(local.get().is_none());
    local.get_or(|| value(&drops, false));
    assert!(local.get().is_some());
    drop(release);
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(count(&drops), 3, "the threads had nothing left at exit");
}

/// A `Local` dropped while unwinding (a panic in the scope that owns it) whose values
/// panic in `Drop`: no abort, every value dropped.
#[test]
fn dropping_a_local_while_unwinding_with_panicking_values_does_not_abort() {
    let drops = counter();
    let d = drops.clone();
    let r = catch_unwind(AssertUnwindSafe(move || {
        let local: Local<Value> = Local::new();
        local.get_or(|| value(&d, true));
        panic!("scope");
    }));
    assert_eq!(r.unwrap_err().downcast_ref::<&str>(), Some(&"scope"));
    assert_eq!(count(&drops), 1);
}

/// An `IntoIter` dropped before its end, with two panicking values left: no abort, every
/// value dropped, the first panic resumed.
#[test]
fn dropping_an_into_iter_early_with_panicking_values_drops_all() {
    let drops = counter();
    let (local, release, handles) =
        filled_by_live_threads(Local::new(), &drops, &[true, true, true]);
    let mut iter = local.into_iter();
    assert_eq!(iter.len(), 3);
    let first = iter.next().unwrap(); // taken: not the iterator's to drop
    let r = catch_unwind(AssertUnwindSafe(move || drop(iter)));
    assert!(r.is_err());
    assert_eq!(count(&drops), 2);
    assert!(catch_unwind(AssertUnwindSafe(move || drop(first))).is_err());
    assert_eq!(count(&drops), 3);
    drop(release);
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(count(&drops), 3);
}

/// A value stored during teardown (after the exit cleanup ran) whose `Drop` panics: the
/// later fallback cleanup catches it, no abort.
#[test]
fn a_panicking_drop_of_a_value_stored_during_teardown_does_not_abort() {
    static LATE_LOCAL: Local<Value> = Local::new();
    struct StoresOnDrop(Arc<AtomicUsize>);
    impl Drop for StoresOnDrop {
        fn drop(&mut self) {
            LATE_LOCAL.get_or(|| value(&self.0, true));
        }
    }
    thread_local! {
        static LATE: RefCell<Option<StoresOnDrop>> = const { RefCell::new(None) };
    }
    let drops = counter();
    let d = drops.clone();
    thread::spawn(move || {
        LATE.with(|l| *l.borrow_mut() = Some(StoresOnDrop(d.clone())));
        LATE_LOCAL.get_or(|| value(&d, true)); // arms the exit cleanup after `LATE`
    })
    .join()
    .unwrap();
    assert_eq!(count(&drops), 2);
}

/// `with_borrow_mut`'s closure panicking: the borrow is released, the value (with what the
/// closure changed before panicking) still there.
#[test]
fn a_panicking_with_borrow_mut_closure_leaves_the_value_usable() {
    let local: Local<RefCell<Vec<u32>>> = Local::new();
    local.set(vec![1]);
    let r = catch_unwind(AssertUnwindSafe(|| {
        local.with_borrow_mut(|v| {
            v.push(2);
            panic!("f")
        })
    }));
    assert!(r.is_err());
    assert_eq!(local.with_borrow(Vec::clone), Some(vec![1, 2]));
    local.with_borrow_mut(|v| v.push(3));
    assert_eq!(local.take(), Some(vec![1, 2, 3]));
}
