//! `Barrier`: distinct indices per round, the action run once per round before anyone is
//! released, timeouts / `abort` / `reset` / a panicking action breaking it for every waiter,
//! `n_waiting`, and the 2- and 8-thread stress over 10,000 rounds.

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use contexture_sync::{Barrier, ZeroParties};

const SHORT: Duration = Duration::from_millis(50);

/// Blocks until `n` threads wait on `barrier` (polling its public counter).
fn until_waiting(barrier: &Barrier, n: usize) {
    while barrier.n_waiting() != n {
        thread::yield_now();
    }
}

#[test]
fn zero_parties_is_an_error() {
    assert_eq!(Barrier::new(0).unwrap_err(), ZeroParties);
    assert_eq!(Barrier::builder(0).build().unwrap_err(), ZeroParties);
}

#[test]
fn one_party_never_blocks() {
    let barrier = Barrier::new(1).unwrap();
    for _ in 0..3 {
        assert_eq!(barrier.wait().ok(), Some(0));
    }
    assert_eq!(barrier.parties(), 1);
}

/// `threads` threads × `rounds` rounds: every round hands out `0..threads` exactly once and
/// the action runs exactly once per round, before anyone of that round is released.
fn rounds(threads: usize, rounds: usize) {
    let actions = Arc::new(AtomicUsize::new(0));
    let a = Arc::clone(&actions);
    let barrier = Barrier::builder(threads)
        .action(move || {
            a.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    // seen[round] has one bit per index handed out in that round.
    let seen: Vec<AtomicUsize> = (0..rounds).map(|_| AtomicUsize::new(0)).collect();
    thread::scope(|s| {
        for _ in 0..threads {
            let (barrier, seen, actions) = (&barrier, &seen, &actions);
            s.spawn(move || {
                for (round, bits) in seen.iter().enumerate() {
                    let index = barrier.wait().unwrap();
                    assert!(index < threads);
                    let old = bits.fetch_or(1 << index, Ordering::Relaxed);
                    assert_eq!(
                        old & (1 << index),
                        0,
                        "index {index} twice in round {round}"
                    );
                    // The action of this round ran before we were released.
                    assert!(actions.load(Ordering::Relaxed) > round);
                }
            });
        }
    });
    for bits in &seen {
        assert_eq!(bits.load(Ordering::Relaxed), (1 << threads) - 1);
    }
    assert_eq!(actions.load(Ordering::Relaxed), rounds);
    assert!(!barrier.is_broken());
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn stress_2_threads_10_000_rounds() {
    rounds(2, if cfg!(miri) { 30 } else { 10_000 });
}

#[test]
fn stress_8_threads_10_000_rounds() {
    rounds(
        if cfg!(miri) { 4 } else { 8 },
        if cfg!(miri) { 10 } else { 10_000 },
    );
}

#[test]
fn without_an_action_too() {
    let barrier = Barrier::new(3).unwrap();
    let total = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..if cfg!(miri) { 5 } else { 1_000 } {
                    total.fetch_add(barrier.wait().unwrap(), Ordering::Relaxed);
                }
            });
        }
    });
    // 0 + 1 + 2 per round.
    assert_eq!(
        total.load(Ordering::Relaxed),
        3 * if cfg!(miri) { 5 } else { 1_000 }
    );
}

#[test]
fn timeout_breaks_it_for_every_waiter() {
    let barrier = Barrier::new(3).unwrap();
    thread::scope(|s| {
        let patient = s.spawn(|| barrier.wait_timeout(Duration::from_secs(60)));
        until_waiting(&barrier, 1);
        let start = Instant::now();
        assert!(barrier.wait_timeout(SHORT).is_err());
        let took = start.elapsed();
        assert!(took >= SHORT.mul_f64(0.6) && took < SHORT * 10, "{took:?}");
        assert!(
            patient.join().unwrap().is_err(),
            "the other waiter is broken too"
        );
    });
    assert!(barrier.is_broken());
    assert!(barrier.wait().is_err(), "later waits fail until reset");
    barrier.reset();
    assert!(!barrier.is_broken());
}

#[test]
fn default_timeout_applies_to_wait() {
    let barrier = Barrier::builder(2).timeout(SHORT).build().unwrap();
    assert_eq!(barrier.timeout(), Some(SHORT));
    let start = Instant::now();
    assert!(barrier.wait().is_err());
    let took = start.elapsed();
    assert!(took >= SHORT.mul_f64(0.6) && took < SHORT * 10, "{took:?}");
    assert!(barrier.is_broken());
}

#[test]
fn any_duration_is_accepted() {
    let barrier = Barrier::new(2).unwrap();
    thread::scope(|s| {
        s.spawn(|| barrier.wait_timeout(Duration::MAX).unwrap());
        barrier.wait_timeout(Duration::MAX).unwrap();
    });
    assert!(barrier.wait_timeout(Duration::ZERO).is_err());
}

#[test]
fn abort_breaks_current_and_future_waiters() {
    let barrier = Barrier::new(3).unwrap();
    thread::scope(|s| {
        let waiters: Vec<_> = (0..2).map(|_| s.spawn(|| barrier.wait())).collect();
        until_waiting(&barrier, 2);
        barrier.abort();
        for w in waiters {
            assert!(w.join().unwrap().is_err());
        }
    });
    assert!(barrier.is_broken());
    assert!(barrier.wait().is_err());
    barrier.reset();
    thread::scope(|s| {
        let a = s.spawn(|| barrier.wait().unwrap());
        let b = s.spawn(|| barrier.wait().unwrap());
        let c = barrier.wait().unwrap();
        let mut all = [a.join().unwrap(), b.join().unwrap(), c];
        all.sort();
        assert_eq!(all, [0, 1, 2], "usable again after reset");
    });
}

#[test]
fn reset_wakes_waiters_with_an_error_and_keeps_it_usable() {
    let barrier = Barrier::new(2).unwrap();
    thread::scope(|s| {
        let waiter = s.spawn(|| barrier.wait());
        until_waiting(&barrier, 1);
        barrier.reset();
        assert!(waiter.join().unwrap().is_err());
    });
    assert!(!barrier.is_broken());
    thread::scope(|s| {
        s.spawn(|| barrier.wait().unwrap());
        barrier.wait().unwrap();
    });
}

#[test]
fn panicking_action_breaks_it_and_is_reported_to_its_thread() {
    let barrier = Barrier::builder(3)
        .action(|| std::panic::panic_any(42_u32))
        .build()
        .unwrap();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let results: Vec<_> = thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| barrier.wait())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    std::panic::set_hook(hook);
    let payloads: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap_err().into_panic())
        .collect();
    let with_payload: Vec<_> = payloads.into_iter().flatten().collect();
    assert_eq!(
        with_payload.len(),
        1,
        "exactly the thread that ran it gets the payload"
    );
    assert_eq!(with_payload[0].downcast_ref::<u32>(), Some(&42));
    assert!(barrier.is_broken());
}

/// An `abort` while the action runs: the round fails for everyone, including the thread
/// that ran the action, and the action ran exactly once.
#[test]
fn abort_during_the_action() {
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let started_tx = std::sync::Mutex::new(started_tx);
    let go_rx = std::sync::Mutex::new(go_rx);
    let barrier = Barrier::builder(2)
        .action(move || {
            started_tx.lock().unwrap().send(()).unwrap();
            go_rx.lock().unwrap().recv().unwrap();
        })
        .build()
        .unwrap();
    thread::scope(|s| {
        let a = s.spawn(|| barrier.wait());
        let b = s.spawn(|| barrier.wait());
        started_rx.recv().unwrap();
        barrier.abort();
        go_tx.send(()).unwrap();
        assert!(a.join().unwrap().is_err());
        assert!(b.join().unwrap().is_err());
    });
    assert!(barrier.is_broken());
}

#[test]
fn n_waiting_counts_the_current_round() {
    let barrier = Barrier::new(3).unwrap();
    thread::scope(|s| {
        let a = s.spawn(|| barrier.wait().unwrap());
        until_waiting(&barrier, 1);
        let b = s.spawn(|| barrier.wait().unwrap());
        until_waiting(&barrier, 2);
        barrier.wait().unwrap();
        a.join().unwrap();
        b.join().unwrap();
    });
    assert_eq!(barrier.n_waiting(), 0);
}
