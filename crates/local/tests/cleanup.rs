//! The cleanup rules of `Local`: drops at thread exit and at `Local` drop, exactly once, no
//! stale values on reused ids, panicking destructors, teardown access and self-owning values.

use contexture_local::Local;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex, Weak};
use std::thread;

/// Counts its drops.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[test]
fn rule1_value_dropped_on_its_thread_before_join_returns() {
    let drops = counter();
    let local: Arc<Local<Tracked>> = Arc::new(Local::new());
    let dropped_on = Arc::new(Mutex::new(None));
    struct OnThread(Arc<Mutex<Option<thread::ThreadId>>>);
    impl Drop for OnThread {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(thread::current().id());
        }
    }
    let where_local: Arc<Local<OnThread>> = Arc::new(Local::new());
    let (l, w, d, on) = (
        local.clone(),
        where_local.clone(),
        drops.clone(),
        dropped_on.clone(),
    );
    let handle = thread::spawn(move || {
        l.get_or(|| Tracked(d));
        w.get_or(|| OnThread(on));
        thread::current().id()
    });
    let worker_id = handle.thread().id();
    assert_eq!(handle.join().unwrap(), worker_id);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "dropped before join returned"
    );
    assert_eq!(
        *dropped_on.lock().unwrap(),
        Some(worker_id),
        "dropped on the thread"
    );
    assert_eq!(local.iter().count(), 0);
}

#[test]
fn drop_count_equals_threads_joined() {
    let drops = counter();
    let local: Arc<Local<Tracked>> = Arc::new(Local::new());
    let threads = if cfg!(miri) { 4 } else { 64 };
    for joined in 1..=threads {
        let (l, d) = (local.clone(), drops.clone());
        thread::spawn(move || {
            l.get_or(|| Tracked(d));
        })
        .join()
        .unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), joined);
    }
}

#[test]
fn rule2_dropping_local_drops_live_threads_values_at_once() {
    let drops = counter();
    let local: Arc<Local<Tracked>> = Arc::new(Local::new());
    let weak: Weak<Local<Tracked>> = Arc::downgrade(&local);
    let workers = 3;
    let set = Arc::new(Barrier::new(workers + 1));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (l, d, set, rx) = (
                local.clone(),
                drops.clone(),
                set.clone(),
                release_rx.clone(),
            );
            thread::spawn(move || {
                l.get_or(|| Tracked(d));
                drop(l); // the thread keeps nothing of the Local
                set.wait();
                rx.lock().unwrap().recv().unwrap();
            })
        })
        .collect();
    set.wait();
    local.get_or(|| Tracked(drops.clone()));
    drop(local);
    assert!(weak.upgrade().is_none());
    assert_eq!(
        drops.load(Ordering::SeqCst),
        workers + 1,
        "all values dropped at once"
    );
    for _ in 0..workers {
        release_tx.send(()).unwrap();
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        workers + 1,
        "and never again at exit"
    );
}

#[test]
fn thread_exit_racing_local_drop_drops_each_value_once() {
    let rounds = if cfg!(miri) { 3 } else { 200 };
    for _ in 0..rounds {
        let drops = counter();
        let local: Arc<Local<Tracked>> = Arc::new(Local::new());
        let start = Arc::new(Barrier::new(3));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (l, d, start) = (local.clone(), drops.clone(), start.clone());
                thread::spawn(move || {
                    l.get_or(|| Tracked(d));
                    start.wait();
                    drop(l); // maybe the last handle: then this thread drops the Local
                })
            })
            .collect();
        start.wait();
        drop(local);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}

#[test]
fn rule3_reused_id_never_sees_exited_threads_value() {
    let local: Arc<Local<String>> = Arc::new(Local::new());
    let mut ids = Vec::new();
    let rounds = if cfg!(miri) { 3 } else { 50 };
    for round in 0..rounds {
        let l = local.clone();
        let (seen, id) = thread::spawn(move || {
            let seen = l.get().cloned();
            l.get_or(|| format!("round {round}"));
            (seen, contexture_local::__thread_id().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(seen, None, "round {round} saw a dead thread's value");
        ids.push(id);
    }
    ids.sort_unstable();
    ids.dedup();
    // Other tests run threads in parallel, so ids are not always the same; most are reused.
    assert!(
        ids.len() <= rounds / 2,
        "ids are reused, yet no value leaks: {ids:?}"
    );
}

#[test]
fn rule5_panicking_drop_at_exit_neither_aborts_nor_stops_other_drops() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("boom in Drop");
        }
    }
    let drops = counter();
    let before: Arc<Local<Tracked>> = Arc::new(Local::new());
    let bombs: Arc<Local<Bomb>> = Arc::new(Local::new());
    let after: Arc<Local<Tracked>> = Arc::new(Local::new());
    let (b, m, a, d) = (before.clone(), bombs.clone(), after.clone(), drops.clone());
    thread::spawn(move || {
        b.get_or(|| Tracked(d.clone()));
        m.get_or(|| Bomb);
        a.get_or(|| Tracked(d));
    })
    .join()
    .expect("the thread itself ended normally");
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(bombs.iter().count(), 0, "the bomb was taken out too");
}

#[test]
fn panicking_drop_while_dropping_the_local_still_drops_the_rest() {
    struct MaybeBomb(bool, Arc<AtomicUsize>);
    impl Drop for MaybeBomb {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
            if self.0 {
                panic!("boom");
            }
        }
    }
    let drops = counter();
    let local: Arc<Local<MaybeBomb>> = Arc::new(Local::new());
    local.get_or(|| MaybeBomb(true, drops.clone()));
    let ready = Arc::new(Barrier::new(3));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_rx = Arc::new(Mutex::new(done_rx));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (l, ready, rx, d) = (local.clone(), ready.clone(), done_rx.clone(), drops.clone());
            thread::spawn(move || {
                l.get_or(|| MaybeBomb(false, d));
                drop(l);
                ready.wait();
                rx.lock().unwrap().recv().unwrap();
            })
        })
        .collect();
    ready.wait();
    // The workers are alive: dropping the last handle drops their values too, and the
    // main thread's panicking value does not stop that.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(local)));
    assert!(
        result.is_err(),
        "the destructor's panic is resumed after the others"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    for _ in &handles {
        done_tx.send(()).unwrap();
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn rule6_access_from_another_thread_locals_destructor_is_safe() {
    static LOCAL: Local<RefCell<Vec<&'static str>>> = Local::new();
    struct Touch(mpsc::Sender<(Option<usize>, usize)>);
    impl Drop for Touch {
        fn drop(&mut self) {
            // Runs during thread teardown, before or after our own cleanup.
            let before = LOCAL.with_borrow(Vec::len);
            LOCAL.set(vec!["late"]);
            let after = LOCAL.with_borrow(Vec::len).unwrap_or(0);
            let _ = self.0.send((before, after));
        }
    }
    thread_local! {
        static TOUCH: RefCell<Option<Touch>> = const { RefCell::new(None) };
    }
    // Order A: our cleanup is armed first, the other thread-local second.
    // Order B: the other thread-local first. Destructor order differs between them.
    for arm_ours_first in [true, false] {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            if arm_ours_first {
                LOCAL.set(vec!["early"]);
                TOUCH.with(|t| *t.borrow_mut() = Some(Touch(tx)));
            } else {
                TOUCH.with(|t| *t.borrow_mut() = Some(Touch(tx)));
                LOCAL.set(vec!["early"]);
            }
        })
        .join()
        .unwrap();
        let (before, after) = rx.recv().unwrap();
        assert!(matches!(before, None | Some(1)), "{before:?}");
        assert_eq!(after, 1);
    }
}

#[test]
fn rule7_value_owning_its_own_local_is_dropped_once() {
    struct Owner {
        local: Arc<Local<Owner>>,
        drops: Arc<AtomicUsize>,
    }
    impl Drop for Owner {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
            // Touch the Local we are being dropped out of: it is still alive here.
            assert!(self.local.get().is_none());
        }
    }
    let drops = counter();
    let d = drops.clone();
    let weak = thread::spawn(move || {
        let local: Arc<Local<Owner>> = Arc::new(Local::new());
        let weak = Arc::downgrade(&local);
        local.get_or(|| Owner {
            local: local.clone(),
            drops: d,
        });
        drop(local); // now only the value owns its Local: a cycle
        weak
    })
    .join()
    .unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(weak.upgrade().is_none(), "the Local went with its value");
}

#[test]
fn destructor_that_stores_again_is_cleaned_up_too() {
    static AGAIN: Local<RefCell<Option<Rearm>>> = Local::new();
    struct Rearm(u32, Arc<AtomicUsize>);
    impl Drop for Rearm {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
            if self.0 > 0 {
                AGAIN.set(Some(Rearm(self.0 - 1, self.1.clone())));
            }
        }
    }
    let drops = counter();
    let d = drops.clone();
    thread::spawn(move || AGAIN.set(Some(Rearm(3, d))))
        .join()
        .unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn pinned_value_is_dropped_when_its_guard_goes() {
    let drops = counter();
    let local: Arc<Local<Tracked>> = Arc::new(Local::new());
    let (l, d) = (local.clone(), drops.clone());
    let (set_tx, set_rx) = mpsc::channel();
    let (exit_tx, exit_rx) = mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        l.get_or(|| Tracked(d));
        set_tx.send(()).unwrap();
        exit_rx.recv().unwrap();
    });
    set_rx.recv().unwrap();
    let guard = local.iter().next().expect("the worker's value");
    exit_tx.send(()).unwrap(); // the worker now exits and waits for our pin
    assert_eq!(drops.load(Ordering::SeqCst), 0, "not dropped while pinned");
    drop(guard);
    worker.join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}
