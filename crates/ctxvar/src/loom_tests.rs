//! Loom models of entering a `Context`: the `entered` flag as a try-lock around the parked
//! map, the snapshot published at exit, and readers on other threads. Run with
//! `RUSTFLAGS="--cfg contexture_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p contexture-ctxvar
//! --release --lib loom`: both models together take well under a second there.
//!
//! (The first model is why entering uses `compare_exchange` rather than `swap`: under loom
//! a losing `swap` left the flag set after the winner's exit.)

use loom::sync::Arc;
use loom::thread;

use crate::{AlreadyEntered, Context, ContextVar};

static V: ContextVar<usize> = ContextVar::new("v");

/// Two threads race to enter the same context and set a value: loom's `UnsafeCell` checks
/// that the parked map is never touched by both; at least one entry wins; a loser sees
/// `AlreadyEntered` only while the winner is inside; the last winner's value is what the
/// context holds afterwards.
#[test]
fn loom_entered_flag_excludes_concurrent_entries() {
    loom::model(|| {
        let ctx = Arc::new(Context::new());
        let workers: Vec<_> = (1..=2)
            .map(|n| {
                let ctx = ctx.clone();
                thread::spawn(move || {
                    ctx.run(|| {
                        assert_eq!(V.get().map_or(0, |v| v % 10), 0, "entered alone");
                        V.set(n * 10);
                        V.set(n * 10 + 1);
                        V.set(n * 10);
                    })
                })
            })
            .collect();
        let results: Vec<Result<(), AlreadyEntered>> =
            workers.into_iter().map(|w| w.join().unwrap()).collect();
        let winners: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_ok())
            .map(|(i, _)| (i + 1) * 10)
            .collect();
        assert!(!winners.is_empty());
        let held = ctx.get(&V).unwrap();
        assert!(winners.contains(&held));
        // Entering again from here works and sees the same value.
        assert_eq!(ctx.run(|| V.get()), Ok(Some(held)), "results {results:?}");
    });
}

/// A reader on another thread while the context is entered and written: it sees either
/// the state before the run or after it, never a torn or half-published map.
#[test]
fn loom_reader_sees_a_published_version() {
    loom::model(|| {
        let ctx = Arc::new(Context::new());
        let reader = {
            let ctx = ctx.clone();
            thread::spawn(move || {
                let snapshot = ctx.copy(); // one consistent version
                (snapshot.get(&V), snapshot.len())
            })
        };
        ctx.run(|| {
            V.set(1);
        })
        .unwrap();
        let (value, len) = reader.join().unwrap();
        assert!(matches!((value, len), (None, 0) | (Some(1), 1)));
        assert_eq!(ctx.get(&V), Some(1));
    });
}

/// A context whose last run wrote (so readers fall back to its parked map) is entered
/// while another thread reads it: the entry publishes under the snapshot lock before it
/// takes the map, so the reader sees the old or the new version, whole.
#[test]
fn loom_reader_of_parked_map_vs_entry() {
    loom::model(|| {
        let ctx = Arc::new(Context::new());
        ctx.run(|| {
            V.set(1);
        })
        .unwrap();
        let reader = {
            let ctx = ctx.clone();
            thread::spawn(move || ctx.get(&V))
        };
        ctx.run(|| {
            V.set(2);
        })
        .unwrap();
        let seen = reader.join().unwrap();
        assert!(matches!(seen, Some(1) | Some(2)));
        assert_eq!(ctx.get(&V), Some(2));
    });
}

/// The last handle to a context is dropped on one thread while another reads it (through a
/// published version, after a run that wrote): the reader sees the value, and `Drop`
/// (which takes the snapshot and the parked map) never races the reader's access to
/// `parked` (loom's `UnsafeCell` checks it); the value is dropped once, after both.
#[test]
fn loom_last_handle_dropped_while_another_thread_reads() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static VALUE_DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            VALUE_DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    static C: ContextVar<std::sync::Arc<Counted>> = ContextVar::new("c");
    loom::model(|| {
        VALUE_DROPS.store(0, Ordering::SeqCst);
        let ctx = Arc::new(Context::new());
        ctx.run(|| {
            C.set(std::sync::Arc::new(Counted));
        })
        .unwrap();
        let reader = {
            let ctx = ctx.clone();
            thread::spawn(move || {
                let seen = ctx.get(&C).is_some();
                drop(ctx);
                seen
            })
        };
        drop(ctx);
        assert!(reader.join().unwrap());
        assert_eq!(VALUE_DROPS.load(Ordering::SeqCst), 1);
    });
}
