//! The access API of `Local`: lookups, initialisers, the `Cell`/`RefCell` helpers,
//! aggregation across threads, and use in a `static`.

use contexture_local::Local;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

#[test]
fn new_sees_nothing_until_set() {
    let local: Local<u32> = Local::new();
    assert_eq!(local.get(), None);
    assert_eq!(*local.get_or(|| 3), 3);
    assert_eq!(local.get(), Some(&3));
}

#[test]
fn init_runs_lazily_once_per_thread() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let local = Local::with_init(move || counter.fetch_add(1, Ordering::SeqCst));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "not run before first access"
    );
    let first = *local.get().unwrap();
    assert_eq!(*local.get().unwrap(), first);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                local.get();
                local.get();
            });
        }
    });
    assert_eq!(calls.load(Ordering::SeqCst), 5, "once per thread");
}

#[test]
fn get_or_prefers_initialiser_then_existing() {
    let local = Local::with_init(|| 1);
    assert_eq!(*local.get_or(|| 2), 1);
    let plain = Local::new();
    assert_eq!(*plain.get_or(|| 2), 2);
    assert_eq!(*plain.get_or(|| 3), 2);
}

#[test]
fn get_or_try_stores_nothing_on_error() {
    let local: Local<i32> = Local::new();
    assert_eq!(local.get_or_try(|| Err::<i32, _>("no")), Err("no"));
    assert_eq!(local.get(), None);
    assert_eq!(local.get_or_try(|| Ok::<_, ()>(9)), Ok(&9));
    assert_eq!(local.get_or_try(|| Err::<i32, _>(())), Ok(&9));
}

#[test]
fn get_or_default_stores_default() {
    let local: Local<String> = Local::new();
    assert_eq!(local.get_or_default(), "");
    local.iter().for_each(|v| assert_eq!(*v, ""));
}

#[test]
fn reentrant_initialiser_keeps_the_first_value() {
    let local: Local<u32> = Local::new();
    let outer = local.get_or(|| {
        let inner = local.get_or(|| 1);
        assert_eq!(*inner, 1);
        2
    });
    assert_eq!(
        *outer, 1,
        "the value stored first wins; the later one is dropped"
    );
}

#[test]
fn each_thread_sees_only_its_own_value() {
    let local = Local::new();
    local.get_or(|| "main".to_string());
    let barrier = Barrier::new(3);
    thread::scope(|s| {
        for name in ["a", "b", "c"] {
            let (local, barrier) = (&local, &barrier);
            s.spawn(move || {
                assert_eq!(local.get(), None);
                local.get_or(|| name.to_string());
                barrier.wait(); // everyone has set before anyone reads
                assert_eq!(local.get().map(String::as_str), Some(name));
            });
        }
    });
    assert_eq!(local.get().map(String::as_str), Some("main"));
}

static GLOBAL: Local<Cell<u64>> = Local::with_init(|| Cell::new(100));
static PLAIN: Local<RefCell<Vec<u8>>> = Local::new();

#[test]
fn usable_in_statics() {
    GLOBAL.set(GLOBAL.get().unwrap().get() + 1);
    thread::spawn(|| assert_eq!(GLOBAL.get().map(Cell::get), Some(100)))
        .join()
        .unwrap();
    assert_eq!(GLOBAL.get().map(Cell::get), Some(101));
    thread::spawn(|| {
        assert_eq!(PLAIN.with_borrow(Vec::len), None);
        PLAIN.set(vec![1]);
        assert_eq!(PLAIN.with_borrow(Vec::len), Some(1));
    })
    .join()
    .unwrap();
}

#[test]
fn cell_helpers() {
    let local: Local<Cell<i32>> = Local::new();
    assert_eq!(local.take(), None, "no value: take stores nothing");
    assert_eq!(local.get().map(Cell::get), None);
    assert_eq!(local.replace(1), None);
    assert_eq!(local.replace(2), Some(1));
    local.set(5);
    assert_eq!(local.take(), Some(5));
    assert_eq!(local.get().map(Cell::get), Some(0));

    let with_init = Local::with_init(|| Cell::new(7));
    with_init.set(8);
    assert_eq!(
        with_init.replace(9),
        Some(8),
        "set does not run the initialiser"
    );
}

#[test]
fn refcell_helpers() {
    let local: Local<RefCell<Vec<i32>>> = Local::new();
    assert_eq!(local.with_borrow(Vec::len), None);
    assert_eq!(local.with_borrow_mut(|v| v.push(1)), None, "f not called");
    local.set(vec![1]);
    local.with_borrow_mut(|v| v.push(2));
    assert_eq!(local.with_borrow(Vec::clone), Some(vec![1, 2]));
    assert_eq!(local.replace(vec![3]), Some(vec![1, 2]));
    assert_eq!(local.take(), Some(vec![3]));
    assert_eq!(local.with_borrow(Vec::len), Some(0));

    let with_init = Local::with_init(|| RefCell::new(vec![0]));
    assert_eq!(with_init.with_borrow(Vec::clone), Some(vec![0]));
}

#[test]
fn iter_sees_every_live_thread() {
    let local = Local::new();
    local.get_or(|| 1usize);
    let all_set = Barrier::new(4);
    let summed = Barrier::new(4);
    thread::scope(|s| {
        let handles: Vec<_> = (2..=4usize)
            .map(|n| {
                let (local, all_set, summed) = (&local, &all_set, &summed);
                s.spawn(move || {
                    local.get_or(|| n);
                    all_set.wait();
                    summed.wait(); // stay alive until main has summed
                })
            })
            .collect();
        all_set.wait();
        let mut seen: Vec<usize> = local.iter().map(|v| *v).collect();
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 3, 4]);
        summed.wait();
        // Join explicitly: the end of `thread::scope` waits for the closures but not for
        // thread-local destructors; `join()` waits for both.
        handles.into_iter().for_each(|h| h.join().unwrap());
    });
    assert_eq!(
        (&local).into_iter().count(),
        1,
        "exited threads' values are gone"
    );
}

#[test]
fn iter_mut_into_iter_and_clear() {
    let mut local = Local::new();
    local.get_or(|| 1);
    thread::scope(|s| {
        let local = &local;
        s.spawn(move || *local.get_or(|| 10)).join().unwrap();
    });
    for mut v in local.iter_mut() {
        *v += 1;
    }
    assert_eq!(local.get(), Some(&2));
    local.clear();
    assert_eq!(local.iter().count(), 0);
    assert_eq!(*local.get_or(|| 5), 5, "usable again after clear");
    assert_eq!(local.into_iter().collect::<Vec<_>>(), [5]);
}

#[test]
fn debug_shows_this_threads_value() {
    let local = Local::new();
    assert_eq!(format!("{local:?}"), "Local { this_thread: None, .. }");
    local.get_or(|| 4);
    assert_eq!(format!("{local:?}"), "Local { this_thread: Some(4), .. }");
}
