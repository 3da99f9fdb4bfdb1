//! contexture-sync's blocking rows as plain functions (`fn(n) -> Duration`: the time of `n`
//! operations), written once for `benches/sync.rs` and for `examples/sync_before_after.rs`,
//! which also compiles them against an older contexture-sync (`cargo xtask baseline sync`).
//! The rows are a macro so that the same text serves each build of the crate.

use std::time::Duration;

/// Defines `pub mod $module` of row functions against the crate `$krate`, with the helpers
/// at `$helpers`: the same source for every build of contexture-sync it is given.
#[macro_export]
macro_rules! sync_rows {
    ($module:ident, $krate:path, $helpers:path) => {
        #[doc = concat!("The rows against `", stringify!($krate), "`.")]
        pub mod $module {
            use std::hint::black_box;
            use std::sync::atomic::{AtomicUsize, Ordering};
            use std::thread;
            use std::time::{Duration, Instant};

            use $helpers::{two_threads, work};
            use $krate as sync;

            /// `Lock` acquire + release, nobody else around.
            pub fn lock_uncontended(n: u64) -> Duration {
                let lock = sync::Lock::new();
                let start = Instant::now();
                for _ in 0..n {
                    drop(black_box(&lock).lock());
                }
                start.elapsed()
            }

            /// `Lock` taken by two threads in turn, a little work under it and after it; the time of
            /// both threads' `n` sections.
            pub fn lock_contended(n: u64) -> Duration {
                let lock = sync::Lock::new();
                let shared = AtomicUsize::new(0);
                two_threads(n, || {
                    let _guard = lock.lock();
                    let v = shared.load(Ordering::Relaxed);
                    shared.store(work(v as u64) as usize, Ordering::Relaxed);
                })
            }

            /// `RLock` taken three times nested, released in reverse.
            pub fn rlock_nested(n: u64) -> Duration {
                let lock = sync::RLock::new();
                let start = Instant::now();
                for _ in 0..n {
                    let lock = black_box(&lock);
                    let _a = lock.lock();
                    let _b = lock.lock();
                    let _c = lock.lock();
                }
                start.elapsed()
            }

            /// `Semaphore` permit taken and given back, nobody else around.
            pub fn semaphore_uncontended(n: u64) -> Duration {
                let semaphore = sync::Semaphore::new(1);
                let start = Instant::now();
                for _ in 0..n {
                    drop(black_box(&semaphore).permit());
                }
                start.elapsed()
            }

            /// One iteration: a round trip through a Condition over its RLock.
            pub fn condition_ping_pong(n: u64) -> Duration {
                let cond = sync::Condition::new();
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
                    for _ in 0..n {
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
            }

            /// One iteration: a set/wait round trip between two Events.
            pub fn event_ping_pong(n: u64) -> Duration {
                let (ping, pong) = (sync::Event::new(), sync::Event::new());
                thread::scope(|s| {
                    s.spawn(|| {
                        for _ in 0..n {
                            ping.wait();
                            ping.clear();
                            pong.set();
                        }
                    });
                    let start = Instant::now();
                    for _ in 0..n {
                        ping.set();
                        pong.wait();
                        pong.clear();
                    }
                    start.elapsed()
                })
            }

            /// One round of a two-party `Barrier`.
            pub fn barrier_round(n: u64) -> Duration {
                let barrier = sync::Barrier::new(2).unwrap();
                thread::scope(|s| {
                    s.spawn(|| {
                        for _ in 0..n {
                            barrier.wait().unwrap();
                        }
                    });
                    let start = Instant::now();
                    for _ in 0..n {
                        black_box(barrier.wait().unwrap());
                    }
                    start.elapsed()
                })
            }

            /// Per item, one producer thread and one consumer, bounded 1024.
            pub fn queue_1p1c(n: u64) -> Duration {
                let queue = sync::Queue::new(1024);
                thread::scope(|s| {
                    s.spawn(|| {
                        for i in 0..n {
                            queue.put(i).unwrap();
                        }
                    });
                    let start = Instant::now();
                    for _ in 0..n {
                        black_box(queue.get().unwrap());
                    }
                    start.elapsed()
                })
            }
        }
    };
}

crate::sync_rows!(now, contexture_sync, super);

/// A few dependent multiplications: the work done while holding a contended lock.
#[inline]
pub fn work(x: u64) -> u64 {
    (0..8).fold(x, |acc, i| {
        std::hint::black_box(acc.wrapping_mul(31).wrapping_add(i))
    })
}

/// Two threads each run `section` `n` times; the time from the first of them starting to the
/// last of them done, as the two threads see it (the main thread's own clock would count
/// its scheduling too: preempted between the start line and its first clock read, it once
/// measured a whole batch as ~0 ns, and preempted before the finish line, as several times
/// the batch).
pub fn two_threads(n: u64, section: impl Fn() + Sync) -> Duration {
    let barrier = std::sync::Barrier::new(2);
    let spans = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = std::time::Instant::now();
                    let mut x = 1;
                    for _ in 0..n {
                        section();
                        x = work(x);
                    }
                    std::hint::black_box(x);
                    (start, std::time::Instant::now())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .collect::<Vec<_>>()
    });
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    last - first
}
