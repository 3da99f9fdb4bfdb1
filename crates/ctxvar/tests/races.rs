//! Racing lifecycle calls across threads, each pair in both orders where the order can be
//! forced: the last handle to a context dropped while another thread reads it, a context
//! entered on one thread while another copies, reads or enters it, and a token reset on the
//! thread whose context made it while that context is entered elsewhere.

mod common;

use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{count, counter, Tracked};
use contexture_ctxvar::{AlreadyEntered, Context, ContextVar};

static T: ContextVar<Arc<Tracked>> = ContextVar::new("t");
static N: ContextVar<u32> = ContextVar::new("n");

/// Entries per thread in the race to enter.
const ROUNDS: u32 = if cfg!(miri) { 20 } else { 2_000 };

/// Runs `f` on a helper thread; fails after 30 s instead of hanging the suite.
fn within_30s(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let h = thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the scenario hung");
    h.join().unwrap();
}

/// The last handle to a context is dropped while another thread reads it (`get`, `len`,
/// `copy`, `Debug`), in both orders and racing: the value is dropped exactly once, after
/// the last reader (and its copies) let go.
#[test]
fn last_handle_dropped_while_another_thread_reads() {
    within_30s(|| {
        for round in 0..if cfg!(miri) { 4 } else { 200 } {
            let drops = counter();
            let ctx = Arc::new(Context::new());
            ctx.run(|| T.set(Tracked::new("t", &drops))).unwrap();
            if round % 2 == 0 {
                ctx.run(|| N.set(1)).unwrap(); // a published version as well as the parked one
            }
            let start = Arc::new(Barrier::new(2));
            let (c, s) = (ctx.clone(), start.clone());
            let reader = thread::spawn(move || {
                s.wait();
                let seen = c.get(&T).is_some() && !c.is_empty() && !format!("{c:?}").is_empty();
                let copy = c.copy();
                drop(c);
                (seen, copy)
            });
            start.wait();
            drop(ctx);
            let (seen, copy) = reader.join().unwrap();
            assert!(seen);
            assert_eq!(count(&drops), 0, "the copy still holds it");
            drop(copy);
            assert_eq!(count(&drops), 1, "round {round}");
        }
    });
}

/// One thread is inside `run` and writes while others copy it, read it and try to enter
/// it: entries are refused while it is inside, readers see a whole version (before or
/// after), and once it exits everybody sees the last write.
#[test]
fn run_racing_readers_and_a_second_entry() {
    within_30s(|| {
        for _ in 0..if cfg!(miri) { 2 } else { 100 } {
            let ctx = Arc::new(Context::new());
            ctx.run(|| N.set(1)).unwrap();
            let inside = Arc::new(Barrier::new(3));
            let done = Arc::new(Barrier::new(3));
            let writer = {
                let (c, i, d) = (ctx.clone(), inside.clone(), done.clone());
                thread::spawn(move || {
                    c.run(|| {
                        N.set(2);
                        i.wait();
                        d.wait();
                        N.set(3);
                    })
                    .unwrap();
                })
            };
            let other = {
                let (c, i, d) = (ctx.clone(), inside.clone(), done.clone());
                thread::spawn(move || {
                    i.wait();
                    let refused = c.run(|| ());
                    let seen = (c.get(&N), c.copy().get(&N));
                    d.wait();
                    (refused, seen)
                })
            };
            inside.wait();
            let mine = ctx.get(&N);
            done.wait();
            writer.join().unwrap();
            let (refused, seen) = other.join().unwrap();
            assert_eq!(refused, Err(AlreadyEntered));
            assert!(matches!(seen.0, Some(1 | 2)), "{seen:?}");
            assert!(matches!(seen.1, Some(1 | 2)), "{seen:?}");
            assert!(matches!(mine, Some(1 | 2)), "{mine:?}");
            assert_eq!(ctx.get(&N), Some(3));
            assert_eq!(ctx.run(|| N.get()), Ok(Some(3)));
        }
    });
}

/// Two threads race to enter one context, many times: exactly one is inside at a time, and
/// every successful entry's write survives in order of the entries.
#[test]
fn two_threads_racing_to_enter_one_context() {
    within_30s(|| {
        let ctx = Arc::new(Context::new());
        ctx.run(|| N.set(0)).unwrap();
        let start = Arc::new(Barrier::new(2));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (c, s) = (ctx.clone(), start.clone());
                thread::spawn(move || {
                    s.wait();
                    let mut entered = 0u32;
                    for _ in 0..ROUNDS {
                        if c.run(|| N.set(N.get().unwrap() + 1)).is_ok() {
                            entered += 1;
                        }
                    }
                    entered
                })
            })
            .collect();
        let total: u32 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert!(total > 0 && total <= 2 * ROUNDS);
        assert_eq!(ctx.get(&N), Some(total), "no entry's write was lost");
    });
}

/// A context dropped on another thread than the one that filled and last entered it: its
/// values are dropped there, once.
#[test]
fn a_context_dropped_on_another_thread_drops_its_values_there_once() {
    let drops = counter();
    let ctx = Context::new();
    ctx.run(|| T.set(Tracked::new("t", &drops))).unwrap();
    thread::spawn(move || drop(ctx)).join().unwrap();
    assert_eq!(count(&drops), 1);
}
