//! Tour scenarios for the chapter's CPU-bound vs I/O-bound comparison and its process pool
//! examples (`ProcessPoolExecutor` with `as_completed` and `initializer`), on threads.
//!
//! Python needs processes for CPU-bound work because the GIL lets one thread run Python
//! code at a time; Rust threads run in parallel, so the thread pool does both jobs.

use std::cell::Cell;
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use contexture::local::Local;
use contexture::pool::{as_completed, ThreadPool};

use crate::{check, scenario};

/// The seed's `cpu_bound_task`: the sum of `i * i` below `n`.
fn cpu_bound_task(n: u64) -> u64 {
    (0..n).fold(0u64, |total, i| total.wrapping_add(black_box(i) * i))
}

/// The seed's `io_bound_task`: waits, like a network call.
fn io_bound_task(duration: Duration) -> Duration {
    thread::sleep(duration);
    duration
}

/// `f` over `tasks` one after the other, and through the pool's `map` (results in input
/// order), timed, twice in alternation (the best time of each: other work on the machine
/// slows one run or the other); returns (sequential results, sequential time, pool
/// results, pool time).
fn sequential_vs_map<I, T>(
    pool: &ThreadPool,
    tasks: Vec<I>,
    f: fn(I) -> T,
) -> (Vec<T>, Duration, Vec<T>, Duration)
where
    I: Clone + Send + 'static,
    T: Send + 'static,
{
    let first = sequential_vs_map_once(pool, tasks.clone(), f);
    let second = sequential_vs_map_once(pool, tasks, f);
    (
        first.0,
        first.1.min(second.1),
        first.2,
        first.3.min(second.3),
    )
}

fn sequential_vs_map_once<I, T>(
    pool: &ThreadPool,
    tasks: Vec<I>,
    f: fn(I) -> T,
) -> (Vec<T>, Duration, Vec<T>, Duration)
where
    I: Clone + Send + 'static,
    T: Send + 'static,
{
    let started = Instant::now();
    let sequential: Vec<T> = tasks.iter().cloned().map(f).collect();
    let sequential_time = started.elapsed();

    let started = Instant::now();
    let pooled: Vec<T> = pool
        .map(f, tasks)
        .expect("the pool is running")
        .map(|result| result.expect("the task does not panic"))
        .collect();
    (sequential, sequential_time, pooled, started.elapsed())
}

/// The seed's `benchmark_sequential` / `benchmark_threaded` / `benchmark_process`, for 4 CPU
/// tasks and 4 I/O tasks.
pub(crate) fn cpu_vs_io_bound() {
    scenario(
        "CPU-bound vs I/O-bound: 4 tasks each, one after the other vs the pool's map",
        "benchmark_sequential / ThreadPoolExecutor.map / ProcessPoolExecutor.map",
    );
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let pool = ThreadPool::builder()
        .max_workers(4)
        .build()
        .expect("4 workers is a valid pool");

    let cpu_tasks = vec![1_000_000u64; 4];
    let (sequential, seq_time, pooled, pool_time) =
        sequential_vs_map(&pool, cpu_tasks, cpu_bound_task);
    let speedup = seq_time.as_secs_f64() / pool_time.as_secs_f64().max(1e-9);
    println!(
        "   CPU-bound: sequential {seq_time:.2?}, pool map {pool_time:.2?}: {speedup:.2}x on \
         {cores} core(s) (best of two runs each; other work on the machine moves it)"
    );
    println!(
        "   (CPython's threads stay near 1x here: the GIL runs one thread's bytecode at a time, \
         hence ProcessPoolExecutor; Rust threads use every core, up to {}x with 4 tasks here)",
        cores.min(4)
    );
    check(
        pooled == sequential,
        "the pool's map returns the CPU results in input order, the same as sequentially",
    );

    let sleep = Duration::from_millis(100);
    let (sequential, seq_time, pooled, pool_time) =
        sequential_vs_map(&pool, vec![sleep; 4], io_bound_task);
    println!(
        "   I/O-bound: sequential {seq_time:.2?}, pool map {pool_time:.2?}: {:.2}x (the \
         waits overlap, in Python too: sleeping releases the GIL)",
        seq_time.as_secs_f64() / pool_time.as_secs_f64().max(1e-9)
    );
    check(
        pooled == sequential,
        "the pool's map returns the I/O results in order",
    );
    check(
        seq_time >= sleep * 4,
        "one after the other, the four waits add up",
    );
    check(
        pool_time < seq_time,
        "on 4 workers the four waits overlap: the pool finishes before the sequential run",
    );
}

/// The seed's `is_prime` (6k ± 1 trial division).
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n < 4 {
        return true;
    }
    if n % 2 == 0 || n % 3 == 0 {
        return false;
    }
    let mut i = 5;
    while i * i <= n {
        if n % i == 0 || n % (i + 2) == 0 {
            return false;
        }
        i += 6;
    }
    true
}

/// The seed's `find_primes_in_range`.
fn find_primes_in_range(start: u64, end: u64) -> Vec<u64> {
    (start..end).filter(|&n| is_prime(n)).collect()
}

/// The seed's process pool example: primes in 8 ranges of 100,000 on 4 workers, printed as
/// they complete, then the same sequentially.
pub(crate) fn primes_as_completed() {
    scenario(
        "primes in 8 ranges on 4 workers, collected with as_completed",
        "ProcessPoolExecutor(max_workers=4) + {executor.submit(find_primes_in_range, s, e): (s, e)} + as_completed",
    );
    let ranges: Vec<(u64, u64)> = (0..8).map(|i| (i * 100_000, (i + 1) * 100_000)).collect();
    let pool = ThreadPool::builder()
        .max_workers(4)
        .build()
        .expect("4 workers is a valid pool");

    let started = Instant::now();
    let handles: Vec<_> = ranges
        .iter()
        .map(|&(s, e)| {
            pool.submit(move || find_primes_in_range(s, e))
                .expect("the pool is running")
        })
        .collect();
    let mut total = 0;
    let mut reported = 0;
    for handle in as_completed(&handles, None).flatten() {
        // The handle's index is the range it was submitted for (the seed's dict of futures).
        let index = handles
            .iter()
            .position(|h| std::ptr::eq(h, handle))
            .expect("as_completed yields our handles");
        let count = peek_len(handle);
        println!("   range {:?}: {count} primes", ranges[index]);
        total += count;
        reported += 1;
    }
    let pool_time = started.elapsed();
    println!("   total: {total} primes in {pool_time:.2?} on the pool");

    let started = Instant::now();
    let sequential: usize = ranges
        .iter()
        .map(|&(s, e)| find_primes_in_range(s, e).len())
        .sum();
    let seq_time = started.elapsed();
    println!(
        "   sequential: {sequential} primes in {seq_time:.2?} ({:.2}x)",
        seq_time.as_secs_f64() / pool_time.as_secs_f64().max(1e-9)
    );
    check(
        reported == 8,
        "as_completed yields each of the 8 ranges once",
    );
    check(
        total == 63_951 && sequential == 63_951,
        "both count the 63,951 primes below 800,000",
    );
}

/// The length of a finished job's result, read through a done callback (which runs at once
/// for a job that has ended) without taking the result.
fn peek_len(handle: &contexture::pool::Handle<Vec<u64>>) -> usize {
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = handle.add_done_callback(move |outcome| {
        let _ = tx.send(outcome.map_or(0, Vec::len));
    });
    rx.recv().unwrap_or(0)
}

/// What the seed's `init_worker` stores in a global of each worker process: here a
/// per-thread value of each worker thread.
static SHARED_DATA: Local<Cell<u64>> = Local::new();

/// The seed's `process_chunk`: `sum(x * _shared_data for x in chunk)`.
fn process_chunk(chunk: Vec<u64>) -> Option<u64> {
    let shared = SHARED_DATA.get().map(Cell::get)?;
    Some(chunk.iter().map(|x| x * shared).sum())
}

/// The seed's pool with `initializer=init_worker, initargs=(2,)` and `map(process_chunk, …)`.
pub(crate) fn initializer_chunk_sum() {
    scenario(
        "an initializer prepares each worker; map sums 4 chunks with what it stored",
        "ProcessPoolExecutor(max_workers=4, initializer=init_worker, initargs=(2,)).map(process_chunk, data_chunks)",
    );
    let shared_value = 2;
    let pool = ThreadPool::builder()
        .max_workers(4)
        .initializer(move || {
            SHARED_DATA.set(shared_value);
            Ok(())
        })
        .build()
        .expect("4 workers is a valid pool");
    let data_chunks: Vec<Vec<u64>> = (0..4).map(|_| (0..1000).collect()).collect();
    let results: Vec<Option<u64>> = pool
        .map(process_chunk, data_chunks)
        .expect("the pool is running")
        .map(|result| result.expect("process_chunk does not panic"))
        .collect();
    println!("   chunk results: {results:?}");
    let sum: u64 = results.iter().flatten().sum();
    println!("   sum: {sum}");
    check(
        results.iter().all(|r| *r == Some(999_000)),
        "every job found the value its worker's initializer stored (2 x 499,500 per chunk)",
    );
    check(sum == 3_996_000, "the total is 3,996,000, as in the seed");
    check(
        SHARED_DATA.get().is_none(),
        "the initializer ran on the workers, not on the submitting thread",
    );
}
