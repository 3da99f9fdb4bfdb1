//! `contexture_sync`'s `Lock`, `RLock`, `Condition`, `Barrier`, `Queue`, `Semaphore` and
//! `Event` against parking_lot, std, crossbeam-channel and tokio (and,
//! through `python/sync.py`, CPython's `threading`), measured side by side in one run; and
//! the async faces against tokio and async-channel (paired, see the `async faces` section).
//! `cargo xtask bench sync` prints the ratios.

use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use contexture_bench::interleaved::Interleaved;
use contexture_bench::sync_rows::{now, two_threads, work};
use contexture_sync::{Lock, RLock};
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

/// Two threads take one lock in turn, fixed work inside and outside the critical section.
///
/// Ours runs `sync_rows`' `lock_contended` (its lock and value are locals of that function)
/// and the anchors' locks and value are locals here: their placement differs, which alone
/// moves the ratio; `contended_paired` lays them out alike.
fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync lock 2 threads contended");
    let shared = AtomicUsize::new(0);
    let bump = || {
        // Relaxed load+store: only the lock makes it exact (as in Python's `x += 1`).
        let v = shared.load(Ordering::Relaxed);
        shared.store(work(v as u64) as usize, Ordering::Relaxed);
    };
    group.bench_function("contexture", |b| b.iter_custom(now::lock_contended));
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
    group.bench_function("contexture", |b| b.iter_custom(now::condition_ping_pong));
    group.bench_function("parking_lot", |b| b.iter_custom(parking_lot_round_trips));
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
    group.bench_function("contexture", |b| b.iter_custom(now::barrier_round));
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
    group.bench_function("contexture", |b| b.iter_custom(now::queue_1p1c));
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
    group.bench_function("contexture", |b| b.iter_custom(now::event_ping_pong));
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

// ---- async faces (feature `async`), paired -------------------------------------------
//
// Each async row runs every contender batch by batch in one process, in a rotating order
// (as `pool.rs` does): this machine drifts by ±50% between minutes, so the ratio to trust
// is the median over rounds of ours ÷ anchor measured back to back, printed after each
// group ("paired"). Criterion's means are printed too, for `cargo xtask bench`'s table.

/// One contender: runs `n` operations, returns their time.
type Contender<'a> = (&'static str, Box<dyn Fn(u64) -> Duration + 'a>);

/// Per round: every contender's ns per operation.
static ASYNC_ROUNDS: std::sync::Mutex<Vec<Vec<f64>>> = std::sync::Mutex::new(Vec::new());

/// The time of `iters` operations of contender `timed`, in batches of at most `batch`;
/// every batch also runs every other contender with as many operations, untimed.
fn async_interleaved(
    contenders: &[Contender<'_>],
    timed: usize,
    iters: u64,
    batch: u64,
) -> Duration {
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(batch);
        let round = ROUND.fetch_add(1, Ordering::Relaxed);
        let mut per_op = vec![0.0; contenders.len()];
        for k in 0..contenders.len() {
            let i = (round + k) % contenders.len();
            let took = (contenders[i].1)(n);
            per_op[i] = took.as_secs_f64() * 1e9 / n as f64;
            if i == timed {
                total += took;
            }
        }
        // Criterion's first warm-up calls run a handful of operations: noise, not rounds.
        if n * 2 >= batch {
            ASYNC_ROUNDS.lock().unwrap().push(per_op);
        }
        left -= n;
    }
    total
}

/// Runs one paired group (ours first in `contenders`) and prints its paired medians.
fn paired_group(c: &mut Criterion, name: &str, contenders: &[Contender<'_>], batch: u64) {
    ASYNC_ROUNDS.lock().unwrap().clear();
    let mut group = c.benchmark_group(name);
    for (i, (id, _)) in contenders.iter().enumerate() {
        group.bench_function(*id, |b| {
            b.iter_custom(|iters| async_interleaved(contenders, i, iters, batch))
        });
    }
    group.finish();
    let rounds = std::mem::take(&mut *ASYNC_ROUNDS.lock().unwrap());
    if rounds.is_empty() {
        return;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\n{name}: paired, {} rounds of up to {batch} (medians):",
        rounds.len()
    );
    for (i, (id, _)) in contenders.iter().enumerate() {
        let ns = median(rounds.iter().map(|r| r[i]).collect());
        println!("  {id:<28} {ns:>9.1} ns/op");
    }
    for (i, (id, _)) in contenders.iter().enumerate().skip(1) {
        let ratio = median(rounds.iter().map(|r| r[0] / r[i]).collect());
        println!("  {} / {id}: {ratio:.2}", contenders[0].0);
    }
}

fn current_thread_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// One producer task, one consumer task, bounded 1024, on a tokio current-thread runtime:
/// per item.
fn async_queue_1p1c(c: &mut Criterion) {
    const CAP: usize = 1024;
    let rt = current_thread_rt();
    let rt = &rt;
    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(move |n| {
                rt.block_on(async move {
                    let q = std::sync::Arc::new(contexture_sync::Queue::new(CAP));
                    let start = Instant::now();
                    let producer = {
                        let q = q.clone();
                        tokio::spawn(async move {
                            for i in 0..n {
                                q.put_async(i).await.unwrap();
                            }
                        })
                    };
                    for _ in 0..n {
                        black_box(q.get_async().await.unwrap());
                    }
                    let took = start.elapsed();
                    producer.await.unwrap();
                    took
                })
            }),
        ),
        (
            "tokio mpsc",
            Box::new(move |n| {
                rt.block_on(async move {
                    let (tx, mut rx) = tokio::sync::mpsc::channel(CAP);
                    let start = Instant::now();
                    let producer = tokio::spawn(async move {
                        for i in 0..n {
                            tx.send(i).await.unwrap();
                        }
                    });
                    for _ in 0..n {
                        black_box(rx.recv().await.unwrap());
                    }
                    let took = start.elapsed();
                    producer.await.unwrap();
                    took
                })
            }),
        ),
        (
            "async-channel",
            Box::new(move |n| {
                rt.block_on(async move {
                    let (tx, rx) = async_channel::bounded(CAP);
                    let start = Instant::now();
                    let producer = tokio::spawn(async move {
                        for i in 0..n {
                            tx.send(i).await.unwrap();
                        }
                    });
                    for _ in 0..n {
                        black_box(rx.recv().await.unwrap());
                    }
                    let took = start.elapsed();
                    producer.await.unwrap();
                    took
                })
            }),
        ),
    ];
    paired_group(
        c,
        "sync async queue 1p1c tasks bounded 1024 (per item)",
        &contenders,
        20_000,
    );
}

/// A thread producer (blocking puts) and a task consumer (on a current-thread runtime)
/// through one bounded queue of 1024: per item. The anchors' blocking sends stand in for
/// Python's `janus` (crates.io's `janus` is an unrelated crate).
fn async_thread_to_task(c: &mut Criterion) {
    const CAP: usize = 1024;
    let rt = current_thread_rt();
    let rt = &rt;
    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(move |n| {
                let q = contexture_sync::Queue::new(CAP);
                let q = &q;
                thread_to_task(
                    rt,
                    move || (0..n).for_each(|i| q.put(i).unwrap()),
                    async move {
                        for _ in 0..n {
                            black_box(q.get_async().await.unwrap());
                        }
                    },
                )
            }),
        ),
        (
            "tokio mpsc blocking_send",
            Box::new(move |n| {
                let (tx, mut rx) = tokio::sync::mpsc::channel(CAP);
                thread_to_task(
                    rt,
                    move || (0..n).for_each(|i| tx.blocking_send(i).unwrap()),
                    async move {
                        for _ in 0..n {
                            black_box(rx.recv().await.unwrap());
                        }
                    },
                )
            }),
        ),
        (
            "async-channel send_blocking",
            Box::new(move |n| {
                let (tx, rx) = async_channel::bounded(CAP);
                thread_to_task(
                    rt,
                    move || (0..n).for_each(|i| tx.send_blocking(i).unwrap()),
                    async move {
                        for _ in 0..n {
                            black_box(rx.recv().await.unwrap());
                        }
                    },
                )
            }),
        ),
    ];
    paired_group(
        c,
        "sync async queue thread producer to task consumer (per item)",
        &contenders,
        20_000,
    );
}

/// The time for `produce`, on a thread of its own, to hand its items to `consume`, a task
/// on `rt`, both started together.
fn thread_to_task(
    rt: &tokio::runtime::Runtime,
    produce: impl FnOnce() + Send,
    consume: impl Future<Output = ()>,
) -> Duration {
    thread::scope(|s| {
        let start = Instant::now();
        s.spawn(produce);
        rt.block_on(consume);
        start.elapsed()
    })
}

/// The time of `n` awaits of `op()` in one task on `rt`, each output dropped at once.
fn awaits<F: Future>(rt: &tokio::runtime::Runtime, n: u64, mut op: impl FnMut() -> F) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..n {
            drop(op().await);
        }
        start.elapsed()
    })
}

/// `acquire_async` + release with nobody else around, inside one task.
fn async_uncontended(c: &mut Criterion) {
    let rt = current_thread_rt();
    let rt = &rt;
    let sem = contexture_sync::Semaphore::new(1);
    let tokio_sem = tokio::sync::Semaphore::new(1);
    let (sem, tokio_sem) = (&sem, &tokio_sem);
    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(move |n| awaits(rt, n, || black_box(sem).acquire_async())),
        ),
        (
            "tokio Semaphore::acquire",
            Box::new(move |n| awaits(rt, n, || black_box(tokio_sem).acquire())),
        ),
    ];
    paired_group(
        c,
        "sync async semaphore acquire_async+release (uncontended)",
        &contenders,
        100_000,
    );

    let lock = Lock::new();
    let tokio_mutex = tokio::sync::Mutex::new(());
    let (lock, tokio_mutex) = (&lock, &tokio_mutex);
    let contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(move |n| awaits(rt, n, || black_box(lock).acquire_async())),
        ),
        (
            "tokio Mutex::lock",
            Box::new(move |n| awaits(rt, n, || black_box(tokio_mutex).lock())),
        ),
    ];
    paired_group(
        c,
        "sync async lock acquire_async+release (uncontended)",
        &contenders,
        100_000,
    );
}

criterion_group!(
    async_faces,
    async_queue_1p1c,
    async_thread_to_task,
    async_uncontended
);

/// The loop shape of an outside harness: `RLock` acquired three times nested through
/// guards and released innermost first, in a tight loop, against parking_lot's
/// `ReentrantMutex` the same way; the two alternate batch by batch (forward and reverse
/// order) and the paired medians of ours ÷ anchor are printed. (The `reentrant` group above
/// times one nest per criterion iteration instead.)
fn reentrant_tight_loop(c: &mut Criterion) {
    let ours = RLock::new();
    let anchor = parking_lot::ReentrantMutex::new(());
    let paired = Interleaved::new(
        200_000,
        vec![
            (
                "contexture",
                Box::new(|n| {
                    let start = Instant::now();
                    for _ in 0..n {
                        let lock = black_box(&ours);
                        let a = lock.lock();
                        let b = lock.lock();
                        let c = lock.lock();
                        drop(c);
                        drop(b);
                        drop(a);
                    }
                    start.elapsed()
                }),
            ),
            (
                "parking_lot ReentrantMutex",
                Box::new(|n| {
                    let start = Instant::now();
                    for _ in 0..n {
                        let lock = black_box(&anchor);
                        let a = lock.lock();
                        let b = lock.lock();
                        let c = lock.lock();
                        drop(c);
                        drop(b);
                        drop(a);
                    }
                    start.elapsed()
                }),
            ),
        ],
    );
    let mut group = c.benchmark_group("sync rlock x3 nested, tight loop (paired)");
    for (i, name) in paired.names().into_iter().enumerate() {
        group.bench_function(name, |b| b.iter_custom(|iters| paired.time(i, iters)));
    }
    group.finish();
    paired.report("sync rlock x3 nested, tight loop: per nest of three");
}

/// A lock and the value it guards on one cache line of their own (as a `Mutex<usize>` keeps
/// them), the same for every contender of `contended_paired`: where the compiler happens
/// to put two separate locals decides whether a spinning waiter's reads of the lock word
/// steal the line of the value the holder is writing, which moved ours ÷ parking_lot by
/// about 20% in either direction in trial runs.
#[repr(align(128))]
struct Guarded<L> {
    lock: L,
    value: AtomicUsize,
}

impl<L> Guarded<L> {
    fn new(lock: L) -> Self {
        Guarded {
            lock,
            value: AtomicUsize::new(0),
        }
    }

    /// The section's work on the value (a Relaxed load + store: only the lock makes it
    /// exact, as in Python's `x += 1`).
    fn bump(&self) {
        let v = self.value.load(Ordering::Relaxed);
        self.value.store(work(v as u64) as usize, Ordering::Relaxed);
    }
}

/// The `contended` row paired: two threads take one lock in turn, the same fixed work inside
/// and after the critical section, ours against parking_lot's and std's `Mutex<()>`,
/// interleaved batch by batch in a rotating order, with paired medians (the criterion group
/// above runs one contender after the other, and its rows swing between a fast and a slow
/// mode from run to run). Every contender's lock and value are laid out alike
/// ([`Guarded`]), fresh for each batch. A batch of `n` is `n / 2` sections per thread, so
/// the time is per acquire + release (half the criterion row's, which counts one section of
/// each thread).
fn contended_paired(c: &mut Criterion) {
    // Sections per thread for a batch of `n` acquires in all (at least one each).
    let each = |n: u64| n.div_ceil(2);
    let paired = Interleaved::new(
        40_000,
        vec![
            (
                "contexture",
                Box::new(|n| {
                    let guarded = Guarded::new(Lock::new());
                    two_threads(each(n), || {
                        let _guard = guarded.lock.lock();
                        guarded.bump();
                    })
                }),
            ),
            (
                "parking_lot",
                Box::new(|n| {
                    let guarded = Guarded::new(parking_lot::Mutex::new(()));
                    two_threads(each(n), || {
                        let _guard = guarded.lock.lock();
                        guarded.bump();
                    })
                }),
            ),
            (
                "std",
                Box::new(|n| {
                    let guarded = Guarded::new(std::sync::Mutex::new(()));
                    two_threads(each(n), || {
                        let _guard = guarded.lock.lock().unwrap();
                        guarded.bump();
                    })
                }),
            ),
        ],
    );
    let mut group = c.benchmark_group("sync lock 2 threads contended (paired)");
    group.sample_size(20);
    for (i, name) in paired.names().into_iter().enumerate() {
        group.bench_function(name, |b| b.iter_custom(|iters| paired.time(i, iters)));
    }
    group.finish();
    paired.report("sync lock 2 threads contended: per acquire+release");
}

/// `rounds` barrier rounds by `parties` threads (the main thread one of them); the time.
fn barrier_rounds(parties: usize, rounds: u64, wait: impl Fn() + Sync) -> Duration {
    let start_line = Barrier::new(parties);
    thread::scope(|s| {
        for _ in 1..parties {
            s.spawn(|| {
                start_line.wait();
                for _ in 0..rounds {
                    wait();
                }
            });
        }
        start_line.wait();
        let start = Instant::now();
        for _ in 0..rounds {
            wait();
        }
        start.elapsed()
    })
}

/// A CPU-bound counter on its own thread: how much other work gets done while a barrier
/// runs. It publishes its count every 4,096 steps.
struct Background {
    count: AtomicUsize,
    stop: std::sync::atomic::AtomicBool,
}

impl Background {
    fn run(&self) {
        let mut local = 0usize;
        let mut x = 1u64;
        while !self.stop.load(Ordering::Relaxed) {
            for _ in 0..4096 {
                x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            local += 4096;
            self.count.store(local, Ordering::Relaxed);
        }
    }
}

/// Barrier rounds with 4 threads on this 2-core machine while a CPU-bound counter runs on a
/// fifth: ours spins briefly before parking, std's parks at once. Per batch, both the round
/// time and the counter's progress per ms while the barrier ran are recorded, interleaved
/// with std's `Barrier` and with the counter running alone; the report prints the paired
/// medians of both (the counter's share is the cost of the spinning to other work).
fn barrier_cpu_use(c: &mut Criterion) {
    const PARTIES: usize = 4;
    let background = Background {
        count: AtomicUsize::new(0),
        stop: std::sync::atomic::AtomicBool::new(false),
    };
    // Per batch: the counter's steps per µs, for [ours, std, alone].
    let progress = std::cell::RefCell::new(Vec::<[f64; 3]>::new());
    let current = std::cell::Cell::new([f64::NAN; 3]);
    let record = |slot: usize, took: Duration, steps: usize| {
        if took < Duration::from_millis(2) {
            return; // criterion's warm-up steps: too short for the counter's resolution
        }
        let mut now = current.get();
        now[slot] = steps as f64 / (took.as_secs_f64() * 1e6);
        current.set(now);
        if now.iter().all(|x| !x.is_nan()) {
            progress.borrow_mut().push(now);
            current.set([f64::NAN; 3]);
        }
    };
    let measured = |slot: usize, run: &dyn Fn() -> Duration| {
        let before = background.count.load(Ordering::Relaxed);
        let took = run();
        record(
            slot,
            took,
            background.count.load(Ordering::Relaxed) - before,
        );
        took
    };
    let ours = contexture_sync::Barrier::new(PARTIES).unwrap();
    let std_barrier = Barrier::new(PARTIES);
    thread::scope(|s| {
        s.spawn(|| background.run());
        let paired = Interleaved::new(
            2_000,
            vec![
                (
                    "contexture",
                    Box::new(|n| {
                        measured(0, &|| {
                            barrier_rounds(PARTIES, n, || {
                                ours.wait().unwrap();
                            })
                        })
                    }),
                ),
                (
                    "std",
                    Box::new(|n| {
                        measured(1, &|| {
                            barrier_rounds(PARTIES, n, || {
                                std_barrier.wait();
                            })
                        })
                    }),
                ),
                (
                    "counter alone (sleep)",
                    Box::new(|n| {
                        // As long as a std round takes, roughly; only the counter's rate counts.
                        measured(2, &|| {
                            let start = Instant::now();
                            thread::sleep(Duration::from_micros(n.min(2_000) * 5));
                            start.elapsed()
                        })
                    }),
                ),
            ],
        );
        let mut group = c.benchmark_group("sync barrier round, 4 threads on 2 cores (paired)");
        group.sample_size(20);
        for (i, name) in paired.names().into_iter().take(2).enumerate() {
            group.bench_function(name, |b| b.iter_custom(|iters| paired.time(i, iters)));
        }
        group.finish();
        background.stop.store(true, Ordering::Relaxed);
        let summary = paired.medians();
        let rows = progress.borrow();
        if rows.is_empty() {
            return;
        }
        // The round as a paired block (ours and std; the third contender only measures the
        // counter), the line the report reads.
        print!(
            "\nsync barrier round, 4 threads on 2 cores: per round: {}",
            summary.clone().first(2)
        );
        let median = contexture_bench::interleaved::median;
        let col = |i: usize| median(rows.iter().map(|r| r[i]).collect());
        let ratio = |a: usize, b: usize| median(rows.iter().map(|r| r[a] / r[b]).collect());
        println!("\nsync barrier, 4 threads on 2 cores, a CPU-bound counter on a fifth thread");
        println!(
            "  round: contexture {:.2} µs, std {:.2} µs, ratio {:.3} ({} rounds)",
            summary.ns[0] / 1e3,
            summary.ns[1] / 1e3,
            summary.ratios[0].0,
            summary.rounds
        );
        println!(
            "  counter steps/µs: alone {:.1}, beside ours {:.1}, beside std {:.1}",
            col(2),
            col(0),
            col(1)
        );
        println!(
            "  counter progress beside ours / beside std: {:.3}; ours / alone {:.3}, std / alone {:.3} ({} batches)",
            ratio(0, 1),
            ratio(0, 2),
            ratio(1, 2),
            rows.len()
        );
    });
}

/// `n` parking_lot `Condvar` round trips, as `sync_rows`' `condition_ping_pong` makes them.
fn parking_lot_round_trips(n: u64) -> Duration {
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
        for _ in 0..n {
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
}

/// Condition ping-pong against parking_lot's `Condvar`, interleaved batch by batch in
/// alternating order, with paired medians (the `ping_pong` group measures them one after
/// the other).
fn ping_pong_paired(c: &mut Criterion) {
    let paired = Interleaved::new(
        2_000,
        vec![
            ("contexture", Box::new(now::condition_ping_pong)),
            ("parking_lot", Box::new(parking_lot_round_trips)),
        ],
    );
    let mut group = c.benchmark_group("sync condition ping-pong (paired)");
    group.sample_size(20);
    for (i, name) in paired.names().into_iter().enumerate() {
        group.bench_function(name, |b| b.iter_custom(|iters| paired.time(i, iters)));
    }
    group.finish();
    paired.report("sync condition ping-pong: per round trip");
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
criterion_group!(
    paired_rows,
    reentrant_tight_loop,
    contended_paired,
    barrier_cpu_use,
    ping_pong_paired
);
criterion_main!(benches, paired_rows, async_faces);
