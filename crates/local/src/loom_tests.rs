//! Loom models of the protocols between a thread's exit cleanup, a `Local`'s drop and the
//! pins taken by `iter`. Run by `cargo xtask test-all` (release, `LOOM_MAX_PREEMPTIONS=2`);
//! together they take about a second there.
//!
//! Each spawned thread ends with `exit_cleanup()`: the same code its thread-local destructor
//! runs, called explicitly because loom 0.7 cannot block inside a thread-local destructor.

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::registry::exit_current_thread_for_loom as exit_cleanup;
use crate::Local;

struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A thread exits while the last handle to the `Local` is dropped elsewhere: the value is
/// dropped exactly once, whichever side gets there first.
#[test]
fn loom_thread_exit_vs_local_drop() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let local: Arc<Local<Tracked>> = Arc::new(Local::new());
        let (l, d) = (local.clone(), drops.clone());
        let worker = thread::spawn(move || {
            l.get_or(|| Tracked(d));
            drop(l);
            exit_cleanup();
        });
        drop(local);
        worker.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// Another thread pins the value through `iter` while its owner exits: the owner waits for
/// the pin (no lost wakeup, no deadlock) and the value is dropped once, after the read.
#[test]
fn loom_pin_vs_thread_exit() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let stored = Arc::new(AtomicUsize::new(0));
        let local: Arc<Local<Tracked>> = Arc::new(Local::new());
        let (l, d, s) = (local.clone(), drops.clone(), stored.clone());
        let worker = thread::spawn(move || {
            l.get_or(|| Tracked(d));
            s.store(1, Ordering::Release);
            exit_cleanup();
        });
        while stored.load(Ordering::Acquire) == 0 {
            thread::yield_now();
        }
        // The worker's exit races with this pin; whichever order, the read is of a live value.
        for value in local.iter() {
            assert_eq!(value.0.load(Ordering::SeqCst), 0);
        }
        worker.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(local.iter().count(), 0);
    });
}

/// Two threads fill the same `Local` for the first time at once (bucket allocation and
/// registration race) and exit: both values are dropped once and ids are released.
#[test]
fn loom_concurrent_first_inserts() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let local: Arc<Local<Tracked>> = Arc::new(Local::new());
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (l, d) = (local.clone(), drops.clone());
                thread::spawn(move || {
                    l.get_or(|| Tracked(d));
                    exit_cleanup();
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}
