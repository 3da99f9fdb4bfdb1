//! The blocking rows of `benches/sync.rs`, paired between two builds of contexture-sync in
//! one process: the crate as it is now and the crate as it was at an earlier commit.
//!
//! `cargo xtask baseline sync [REV]` builds this file against REV's contexture-sync (renamed
//! `contexture_sync_before`, with `--cfg contexture_baseline`) and runs it: that answers
//! "did a change slow the blocking paths?" with both versions measured seconds apart, batch
//! by batch, instead of two runs minutes apart on a machine that drifts ±50 %.
//!
//! Built as an example of this package (no cfg), "before" is the crate itself: an A/A run,
//! which shows the harness's own noise on the rows.
//!
//! Every row also runs "now" a second time (`now, again`): `now / now, again` is the noise
//! floor of the run it is printed in, next to `now / before`.

// The harness's source itself: the baseline build has no contexture-bench to depend on.
#[allow(unreachable_pub, dead_code)]
#[path = "../src/paired.rs"]
mod paired;

#[cfg(not(contexture_baseline))]
use contexture_sync as before_crate;
#[cfg(contexture_baseline)]
use contexture_sync_before as before_crate;

use std::time::Duration;

/// One module of row functions per build of the crate: the same source for both.
macro_rules! rows {
    ($module:ident, $krate:path) => {
        mod $module {
            use std::hint::black_box;
            use std::sync::atomic::{AtomicUsize, Ordering};
            use std::thread;
            use std::time::{Duration, Instant};

            use $krate as sync;

            pub(crate) fn lock_uncontended(n: u64) -> Duration {
                let lock = sync::Lock::new();
                let start = Instant::now();
                for _ in 0..n {
                    drop(black_box(&lock).lock());
                }
                start.elapsed()
            }

            pub(crate) fn lock_contended(n: u64) -> Duration {
                let lock = sync::Lock::new();
                let shared = AtomicUsize::new(0);
                super::two_threads(n, || {
                    let _guard = lock.lock();
                    let v = shared.load(Ordering::Relaxed);
                    shared.store(super::work(v as u64) as usize, Ordering::Relaxed);
                })
            }

            pub(crate) fn rlock_nested(n: u64) -> Duration {
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

            pub(crate) fn semaphore_uncontended(n: u64) -> Duration {
                let semaphore = sync::Semaphore::new(1);
                let start = Instant::now();
                for _ in 0..n {
                    drop(black_box(&semaphore).permit());
                }
                start.elapsed()
            }

            /// One iteration: a round trip through a Condition over its RLock.
            pub(crate) fn condition_ping_pong(n: u64) -> Duration {
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
            pub(crate) fn event_ping_pong(n: u64) -> Duration {
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

            pub(crate) fn barrier_round(n: u64) -> Duration {
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
            pub(crate) fn queue_1p1c(n: u64) -> Duration {
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

rows!(now, contexture_sync);
rows!(before, crate::before_crate);

/// A few dependent multiplications: the work done while holding a contended lock.
#[inline]
fn work(x: u64) -> u64 {
    (0..8).fold(x, |acc, i| {
        std::hint::black_box(acc.wrapping_mul(31).wrapping_add(i))
    })
}

/// Two threads each run `section` `n` times; the time from both started to both done.
fn two_threads(n: u64, section: impl Fn() + Sync) -> Duration {
    let barrier = std::sync::Barrier::new(3);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                barrier.wait();
                let mut x = 1;
                for _ in 0..n {
                    section();
                    x = work(x);
                }
                std::hint::black_box(x);
                barrier.wait();
            });
        }
        barrier.wait();
        let start = std::time::Instant::now();
        barrier.wait();
        start.elapsed()
    })
}

type Row = fn(u64) -> Duration;

fn main() {
    let label = std::env::var("CONTEXTURE_BASELINE_LABEL")
        .unwrap_or_else(|_| "before (this build: an A/A run)".to_owned());
    let rows: [(&str, Row, Row, u64); 8] = [
        (
            "sync lock acquire+release (uncontended)",
            now::lock_uncontended,
            before::lock_uncontended,
            1_000_000,
        ),
        (
            "sync lock 2 threads contended",
            now::lock_contended,
            before::lock_contended,
            100_000,
        ),
        (
            "sync rlock x3 nested",
            now::rlock_nested,
            before::rlock_nested,
            1_000_000,
        ),
        (
            "sync semaphore acquire+release (uncontended)",
            now::semaphore_uncontended,
            before::semaphore_uncontended,
            1_000_000,
        ),
        (
            "sync condition ping-pong",
            now::condition_ping_pong,
            before::condition_ping_pong,
            10_000,
        ),
        (
            "sync event ping-pong",
            now::event_ping_pong,
            before::event_ping_pong,
            10_000,
        ),
        (
            "sync barrier round (2 threads)",
            now::barrier_round,
            before::barrier_round,
            10_000,
        ),
        (
            "sync queue 1p1c bounded 1024 (per item)",
            now::queue_1p1c,
            before::queue_1p1c,
            200_000,
        ),
    ];
    println!("now: this checkout's contexture-sync; {label}");
    let label: &'static str = Box::leak(label.into_boxed_str());
    for (group, now_row, before_row, batch) in rows {
        paired::run(
            group,
            &mut [
                ("now", Box::new(now_row)),
                ("now, again", Box::new(now_row)),
                (label, Box::new(before_row)),
            ],
            1,
            batch,
        );
    }
}
