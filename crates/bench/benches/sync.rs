//! `contexture_sync`'s `Lock`, `RLock`, `Condition`, `Barrier`, `Queue`, `Semaphore` and
//! `Event` against parking_lot, std, crossbeam-channel and tokio (and,
//! through `python/sync.py`, CPython's `threading`), measured side by side in one run.
//! `cargo xtask bench sync` prints the ratios.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use contexture_sync::{Condition, Lock, RLock};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// Acquire and release with nobody else around: the fast path.
fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync lock acquire+release (uncontended)");
    let ours = Lock::new();
    group.bench_function("contexture", |b| b.iter(|| drop(black_box(&ours).lock())));
    let anchor = parking_lot::Mutex::new(());
    group.bench_function("parking_lot", |b| {
        b.iter(|| drop(black_box(&anchor).lock()))
    });
    let anchor = std::sync::Mutex::new(());
    group.bench_function("std", |b| {
        b.iter(|| drop(black_box(&anchor).lock().unwrap()))
    });
    group.finish();
}

/// A few dependent operations: the fixed work done inside and outside the critical section.
#[inline]
fn work(x: u64) -> u64 {
    (0..8).fold(x, |acc, i| black_box(acc.wrapping_mul(31).wrapping_add(i)))
}

/// Two threads each run `iters` critical sections (work inside and outside) on one lock;
/// the time is from the start barrier until both finish, per critical section pair.
fn two_threads(iters: u64, section: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(3);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                barrier.wait();
                let mut x = 1;
                for _ in 0..iters {
                    section();
                    x = work(x);
                }
                black_box(x);
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed()
    })
}

/// Two threads contending for one lock with fixed work in and out of the critical section.
fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync lock 2 threads contended");
    let shared = AtomicUsize::new(0);
    let bump = || {
        // Relaxed load+store: only the lock makes it exact (as in Python's `x += 1`).
        let v = shared.load(Ordering::Relaxed);
        shared.store(work(v as u64) as usize, Ordering::Relaxed);
    };
    let ours = Lock::new();
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                let _guard = ours.lock();
                bump();
            })
        })
    });
    let anchor = parking_lot::Mutex::new(());
    group.bench_function("parking_lot", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                let _guard = anchor.lock();
                bump();
            })
        })
    });
    let anchor = std::sync::Mutex::new(());
    group.bench_function("std", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                let _guard = anchor.lock().unwrap();
                bump();
            })
        })
    });
    group.finish();
}

/// Reentrant acquire+release, nested `depth` deep, by one thread.
fn reentrant(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync rlock acquire+release");
    let ours = RLock::new();
    let anchor = parking_lot::ReentrantMutex::new(());
    for depth in [1, 3] {
        group.bench_function(BenchmarkId::new("contexture", depth), |b| {
            b.iter(|| {
                let lock = black_box(&ours);
                let _a = lock.lock();
                if depth == 3 {
                    let _b = lock.lock();
                    let _c = lock.lock();
                }
            })
        });
        group.bench_function(BenchmarkId::new("parking_lot", depth), |b| {
            b.iter(|| {
                let lock = black_box(&anchor);
                let _a = lock.lock();
                if depth == 3 {
                    let _b = lock.lock();
                    let _c = lock.lock();
                }
            })
        });
    }
    group.finish();
}

/// Condition ping-pong: the main thread hands a turn to a partner and waits for it back;
/// one iteration is one round trip (two notifications, two wake-ups).
fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync condition ping-pong");
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| {
            let cond = Condition::new();
            let turn = AtomicUsize::new(0); // 0: main's turn, 1: partner's, 2: stop
            thread::scope(|s| {
                s.spawn(|| {
                    let _guard = cond.lock();
                    loop {
                        cond.wait_for(|| turn.load(Ordering::Relaxed) != 0, None)
                            .unwrap();
                        if turn.load(Ordering::Relaxed) == 2 {
                            return;
                        }
                        turn.store(0, Ordering::Relaxed);
                        cond.notify(1).unwrap();
                    }
                });
                let _guard = cond.lock();
                let start = Instant::now();
                for _ in 0..iters {
                    turn.store(1, Ordering::Relaxed);
                    cond.notify(1).unwrap();
                    cond.wait_for(|| turn.load(Ordering::Relaxed) == 0, None)
                        .unwrap();
                }
                let elapsed = start.elapsed();
                turn.store(2, Ordering::Relaxed);
                cond.notify(1).unwrap();
                elapsed
            })
        })
    });
    group.bench_function("parking_lot", |b| {
        b.iter_custom(|iters| {
            let turn = parking_lot::Mutex::new(0);
            let cond = parking_lot::Condvar::new();
            thread::scope(|s| {
                s.spawn(|| {
                    let mut turn = turn.lock();
                    loop {
                        while *turn == 0 {
                            cond.wait(&mut turn);
                        }
                        if *turn == 2 {
                            return;
                        }
                        *turn = 0;
                        cond.notify_one();
                    }
                });
                let mut guard = turn.lock();
                let start = Instant::now();
                for _ in 0..iters {
                    *guard = 1;
                    cond.notify_one();
                    while *guard != 0 {
                        cond.wait(&mut guard);
                    }
                }
                let elapsed = start.elapsed();
                *guard = 2;
                cond.notify_one();
                elapsed
            })
        })
    });
    group.bench_function("std", |b| {
        b.iter_custom(|iters| {
            let turn = std::sync::Mutex::new(0);
            let cond = std::sync::Condvar::new();
            thread::scope(|s| {
                s.spawn(|| {
                    let mut turn = turn.lock().unwrap();
                    loop {
                        turn = cond.wait_while(turn, |t| *t == 0).unwrap();
                        if *turn == 2 {
                            return;
                        }
                        *turn = 0;
                        cond.notify_one();
                    }
                });
                let mut guard = turn.lock().unwrap();
                let start = Instant::now();
                for _ in 0..iters {
                    *guard = 1;
                    cond.notify_one();
                    guard = cond.wait_while(guard, |t| *t != 0).unwrap();
                }
                let elapsed = start.elapsed();
                *guard = 2;
                cond.notify_one();
                elapsed
            })
        })
    });
    group.finish();
}

/// One barrier round with two threads: the main thread and a partner each pass `iters`
/// rounds; the time is the main thread's, per round.
fn barrier_round(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync barrier round (2 threads)");
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| {
            let barrier = contexture_sync::Barrier::new(2).unwrap();
            thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..iters {
                        barrier.wait().unwrap();
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(barrier.wait().unwrap());
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("std", |b| {
        b.iter_custom(|iters| {
            let barrier = Barrier::new(2);
            thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..iters {
                        barrier.wait();
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(barrier.wait());
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

/// One producer, one consumer, a bounded queue of 1024: the time to move `iters` items,
/// per item (the consumer is the main thread).
fn queue_1p1c(c: &mut Criterion) {
    const CAP: usize = 1024;
    let mut group = c.benchmark_group("sync queue 1p1c bounded 1024 (per item)");
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| {
            let q = contexture_sync::Queue::new(CAP);
            thread::scope(|s| {
                s.spawn(|| {
                    for i in 0..iters {
                        q.put(i).unwrap();
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(q.get().unwrap());
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("crossbeam-channel", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = crossbeam_channel::bounded(CAP);
            thread::scope(|s| {
                s.spawn(move || {
                    for i in 0..iters {
                        tx.send(i).unwrap();
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(rx.recv().unwrap());
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("std sync_channel", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = std::sync::mpsc::sync_channel(CAP);
            thread::scope(|s| {
                s.spawn(move || {
                    for i in 0..iters {
                        tx.send(i).unwrap();
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(rx.recv().unwrap());
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

/// Acquire and release one permit with nobody else around.
fn semaphore_uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync semaphore acquire+release (uncontended)");
    let ours = contexture_sync::Semaphore::new(1);
    group.bench_function("contexture", |b| b.iter(|| drop(black_box(&ours).permit())));
    let anchor = tokio::sync::Semaphore::new(1);
    group.bench_function("tokio try_acquire", |b| {
        b.iter(|| drop(black_box(&anchor).try_acquire().unwrap()))
    });
    group.finish();
}

/// A parking_lot `Mutex<bool>` + `Condvar` used as an event (the anchor).
struct PlEvent {
    flag: parking_lot::Mutex<bool>,
    cond: parking_lot::Condvar,
}

impl PlEvent {
    fn new() -> Self {
        PlEvent {
            flag: parking_lot::Mutex::new(false),
            cond: parking_lot::Condvar::new(),
        }
    }
    fn set(&self) {
        *self.flag.lock() = true;
        self.cond.notify_all();
    }
    fn clear(&self) {
        *self.flag.lock() = false;
    }
    fn wait(&self) {
        let mut flag = self.flag.lock();
        while !*flag {
            self.cond.wait(&mut flag);
        }
    }
}

/// Event ping-pong: the main thread sets `ping` and waits for `pong`; the partner waits for
/// `ping`, clears it and sets `pong`. One iteration is one round trip.
fn event_ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync event ping-pong");
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| {
            let (ping, pong) = (contexture_sync::Event::new(), contexture_sync::Event::new());
            thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..iters {
                        ping.wait();
                        ping.clear();
                        pong.set();
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    ping.set();
                    pong.wait();
                    pong.clear();
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("parking_lot", |b| {
        b.iter_custom(|iters| {
            let (ping, pong) = (PlEvent::new(), PlEvent::new());
            thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..iters {
                        ping.wait();
                        ping.clear();
                        pong.set();
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    ping.set();
                    pong.wait();
                    pong.clear();
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    uncontended,
    contended,
    reentrant,
    ping_pong,
    barrier_round,
    queue_1p1c,
    semaphore_uncontended,
    event_ping_pong
);
criterion_main!(benches);
