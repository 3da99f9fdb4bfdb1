//! `Semaphore` and `BoundedSemaphore`: the three acquire forms and their guards, `release(n)`
//! waking up to `n` waiters, the bounded semaphore's refused release, permits released from
//! other threads, and timeouts.

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use contexture_sync::{BoundedSemaphore, Semaphore, SemaphoreReleaseError};

const SHORT: Duration = Duration::from_millis(50);

#[test]
fn counts_permits() {
    let sem = Semaphore::new(2);
    assert!(sem.try_acquire());
    assert!(sem.try_acquire());
    assert!(!sem.try_acquire());
    assert!(!sem.acquire_timeout(Duration::ZERO));
    sem.release(1);
    assert_eq!(sem.value(), 1);
    sem.acquire();
    sem.release(5); // above the initial value: fine for a plain semaphore
    assert_eq!(sem.value(), 5);
    sem.release(0);
    assert_eq!(sem.value(), 5);
}

#[test]
fn default_has_one_permit() {
    assert_eq!(Semaphore::default().value(), 1);
}

#[test]
fn any_duration_is_accepted() {
    let sem = Semaphore::new(1);
    assert!(sem.acquire_timeout(Duration::MAX));
    sem.release(1);
    assert!(sem.acquire_until(Instant::now() - Duration::from_secs(1)));
    assert!(!sem.acquire_until(Instant::now()));
}

#[test]
fn timeout_is_honoured() {
    let sem = Semaphore::new(0);
    let start = Instant::now();
    assert!(!sem.acquire_timeout(SHORT));
    let took = start.elapsed();
    assert!(took >= SHORT.mul_f64(0.6) && took < SHORT * 10, "{took:?}");
    let start = Instant::now();
    assert!(sem.permit_until(start + SHORT).is_none());
    let took = start.elapsed();
    assert!(took >= SHORT.mul_f64(0.6) && took < SHORT * 10, "{took:?}");
}

#[test]
#[should_panic(expected = "overflow")]
fn release_past_the_maximum_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.release(1);
}

#[test]
fn bounded_release_above_initial_is_refused() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.release(1), Err(SemaphoreReleaseError::TooMany));
    assert_eq!(sem.value(), 2);
    sem.acquire();
    sem.acquire();
    assert_eq!(sem.release(3), Err(SemaphoreReleaseError::TooMany));
    assert_eq!(sem.value(), 0, "a refused release changes nothing");
    assert_eq!(sem.release(2), Ok(()));
    assert_eq!(sem.value(), 2);
    assert_eq!(sem.initial_value(), 2);
}

#[test]
fn permits_release_on_drop_and_may_cross_threads() {
    let sem = Semaphore::new(1);
    let permit = sem.permit();
    assert!(sem.try_permit().is_none());
    thread::scope(|s| {
        s.spawn(move || drop(permit));
    });
    assert_eq!(sem.value(), 1);
    let bounded = BoundedSemaphore::new(1);
    {
        let _p = bounded.permit_timeout(SHORT).unwrap();
        assert_eq!(bounded.value(), 0);
    }
    assert_eq!(bounded.value(), 1);
    sem.permit().forget();
    assert_eq!(sem.value(), 0);
}

/// `release(n)` wakes up to `n` of the blocked threads: with four blocked, `release(2)` lets
/// exactly two through, and two more after another `release(2)`.
#[test]
fn release_n_wakes_up_to_n() {
    let sem = Semaphore::new(0);
    let passed = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        for _ in 0..4 {
            let tx = tx.clone();
            let (sem, passed) = (&sem, &passed);
            s.spawn(move || {
                sem.acquire();
                passed.fetch_add(1, Ordering::SeqCst);
                tx.send(()).unwrap();
            });
        }
        sem.release(2);
        rx.recv().unwrap();
        rx.recv().unwrap();
        // The two that got through are the only ones: no permit is left.
        assert_eq!(sem.value(), 0);
        assert_eq!(passed.load(Ordering::SeqCst), 2);
        sem.release(2);
        rx.recv().unwrap();
        rx.recv().unwrap();
    });
    assert_eq!(passed.load(Ordering::SeqCst), 4);
    assert_eq!(sem.value(), 0);
}

/// At most `value` holders at once, under contention, with every form mixed.
#[test]
fn never_more_holders_than_permits() {
    let sem = Semaphore::new(2);
    let inside = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let rounds = if cfg!(miri) { 20 } else { 5_000 };
    thread::scope(|s| {
        for t in 0..4 {
            let (sem, inside, most) = (&sem, &inside, &most);
            s.spawn(move || {
                for i in 0..rounds {
                    let permit = match (t + i) % 3 {
                        0 => Some(sem.permit()),
                        1 => sem.try_permit(),
                        _ => sem.permit_timeout(Duration::from_secs(60)),
                    };
                    if let Some(_permit) = permit {
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    assert!(most.load(Ordering::SeqCst) <= 2);
    assert_eq!(sem.value(), 2, "no permit lost or created");
}
