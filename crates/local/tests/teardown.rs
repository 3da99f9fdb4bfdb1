//! Cleanup rule 4 and 6 at thread teardown: a value stored into a `Local` from another
//! thread-local's destructor after this thread's exit cleanup ran is dropped by a later
//! fallback cleanup and its thread id reused. Alone in its own test binary so that no other
//! test's threads raise the id high-water mark.

use contexture_local::Local;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

static LOCAL: Local<RefCell<Option<Tracked>>> = Local::new();

/// Stores into `LOCAL` when dropped, and reports whether the value is then visible.
struct StoresOnDrop(Arc<AtomicUsize>, Option<mpsc::Sender<bool>>);

impl Drop for StoresOnDrop {
    fn drop(&mut self) {
        LOCAL.set(Some(Tracked(self.0.clone())));
        let seen = LOCAL.with_borrow(Option::is_some) == Some(true);
        if let Some(tx) = self.1.take() {
            let _ = tx.send(seen);
        }
    }
}

thread_local! {
    static LATE: RefCell<Option<StoresOnDrop>> = const { RefCell::new(None) };
    static LATER: RefCell<Option<StoresOnDrop>> = const { RefCell::new(None) };
}

/// Item 15: 2,000 threads, each storing into a `Local` from a thread-local destructor that
/// runs after the `Local`'s exit cleanup (registered before it): every value is dropped
/// before `join` returns, and the ids are reused (the high-water mark stays small). It used
/// to leave 2,000 live values and 2,000 ids.
#[test]
fn values_stored_after_exit_cleanup_are_dropped_and_ids_reused() {
    let threads = if cfg!(miri) { 20 } else { 2_000 };
    let drops = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = mpsc::channel();
    let d = drops.clone();
    // On a helper thread, so that a hang fails the test instead of the suite.
    let runner = thread::spawn(move || {
        let mut seen_all = true;
        for _ in 0..threads {
            let (tx, rx) = mpsc::channel();
            let d = d.clone();
            thread::spawn(move || {
                // Registered before the `Local`'s exit guard: destroyed after it.
                LATE.with(|l| *l.borrow_mut() = Some(StoresOnDrop(d.clone(), Some(tx))));
                LOCAL.set(Some(Tracked(d))); // arms the `Local`'s exit cleanup
            })
            .join()
            .unwrap();
            seen_all &= rx.recv().unwrap();
        }
        let _ = done_tx.send(seen_all);
    });
    let seen_all = done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the threads did not finish");
    runner.join().unwrap();
    assert!(
        seen_all,
        "a value stored during teardown was not visible to get"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 2 * threads, "values leaked");
    assert!(
        contexture_local::__thread_ids_high_water() <= 8,
        "ids not reused: {}",
        contexture_local::__thread_ids_high_water()
    );
}

/// Two rounds: two destructors, each storing after the previous cleanup ran.
#[test]
fn two_rounds_of_late_stores_are_both_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    thread::spawn(move || {
        LATE.with(|l| *l.borrow_mut() = Some(StoresOnDrop(d.clone(), None)));
        LATER.with(|l| *l.borrow_mut() = Some(StoresOnDrop(d.clone(), None)));
        LOCAL.set(Some(Tracked(d)));
    })
    .join()
    .unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

/// The last handle to a `Local` dropped on one thread while another thread stores into it
/// from a thread-local destructor after its exit cleanup ran (both racing, many rounds):
/// each value is dropped exactly once, by whichever side gets there first.
#[test]
fn local_drop_racing_a_store_during_teardown_drops_each_value_once() {
    struct StoresInto(
        Arc<Local<Tracked>>,
        Arc<AtomicUsize>,
        Arc<std::sync::Barrier>,
    );
    impl Drop for StoresInto {
        fn drop(&mut self) {
            self.2.wait();
            self.0.get_or(|| Tracked(self.1.clone()));
        }
    }
    thread_local! {
        static HOLDER: RefCell<Option<StoresInto>> = const { RefCell::new(None) };
    }
    static ARM: Local<u8> = Local::new();
    let rounds = if cfg!(miri) { 4 } else { 300 };
    let drops = Arc::new(AtomicUsize::new(0));
    for _ in 0..rounds {
        let local = Arc::new(Local::new());
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let (l, d, b) = (local.clone(), drops.clone(), barrier.clone());
        let h = thread::spawn(move || {
            HOLDER.with(|h| *h.borrow_mut() = Some(StoresInto(l, d, b)));
            ARM.get_or(|| 1); // arms the exit cleanup after `HOLDER`: it runs first
        });
        barrier.wait();
        drop(local); // races the store (and the thread's later cleanup)
        h.join().unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), rounds);
}
