//! `cargo xtask tour`: the scenarios of the seed articles, ported to contexture and narrated.
//!
//! Each scenario prints what happens, checks what it claims, and the tour exits non-zero if a
//! check fails, so `cargo xtask test-all` runs it as a test too. The scenarios are grouped in
//! sections (the `SECTIONS` table); `cargo xtask tour NAME…` runs only those, `--list` lists
//! them.

mod actor;
mod asyncio;
mod ctxvar;
mod local;
mod logs;
mod parallel;
mod pool;
mod processes;
mod races;
mod sync;
mod taskgroup;

use std::sync::atomic::{AtomicUsize, Ordering};

/// Number of checks that failed (printed as they fail; the tour goes on).
static FAILED: AtomicUsize = AtomicUsize::new(0);
/// Number of checks made.
static CHECKED: AtomicUsize = AtomicUsize::new(0);

/// Records a claim the narration makes, printing it when it does not hold.
pub(crate) fn check(ok: bool, claim: &str) {
    CHECKED.fetch_add(1, Ordering::SeqCst);
    if !ok {
        FAILED.fetch_add(1, Ordering::SeqCst);
        println!("    !! CHECK FAILED: {claim}");
    }
}

/// Prints a scenario heading.
pub(crate) fn scenario(title: &str, python: &str) {
    println!();
    println!("== {title}");
    println!("   (seed: {python})");
}

/// One part of the tour a reader can run alone: `cargo xtask tour NAME`.
struct Section {
    name: &'static str,
    /// What it shows, for the opening list.
    about: &'static str,
    scenarios: &'static [fn()],
}

/// The tour, in order. Adding a section is one entry here (and its `mod`).
#[rustfmt::skip]
const SECTIONS: &[Section] = &[
    Section { name: "local", about: "threading.local: per-thread values that clean up", scenarios: &[local::thread_isolation, local::cleanup] },
    Section { name: "ctxvar", about: "contextvars: contexts that follow threads and tasks", scenarios: &[ctxvar::basics, ctxvar::thread_isolation, ctxvar::tasks, ctxvar::lifecycle, ctxvar::run_mutates, ctxvar::shallow_copy] },
    Section { name: "taskgroup", about: "asyncio.gather and TaskGroup: every outcome, the caller's context in each task", scenarios: &[taskgroup::gather_with_a_failing_task, taskgroup::request_id_in_a_task_group] },
    Section { name: "sync", about: "threading and queue: Lock, RLock, Condition, Semaphore, Event, Barrier, queues", scenarios: &[sync::safe_counter, sync::tree_walker, sync::bounded_buffer, sync::connection_pool, sync::service_manager, sync::two_phase_barrier, sync::worker_pool, sync::priority_and_lifo_queues] },
    Section { name: "asyncio", about: "asyncio's Lock, Semaphore and Queue: the async faces, threads and tasks on one object", scenarios: &[asyncio::async_counter, asyncio::rate_limiter, asyncio::async_pipeline] },
    Section { name: "races", about: "race conditions and deadlocks: a bank account, two locks, ThreadSafeDict", scenarios: &[races::bank_account, races::two_lock_deadlock, races::thread_safe_dict] },
    Section { name: "pool", about: "concurrent.futures: the thread pool, callbacks, context in jobs", scenarios: &[pool::managed_pool, pool::callback_pipeline, pool::panicking_job, pool::request_id_in_jobs] },
    Section { name: "parallel", about: "CPU-bound vs I/O-bound: pool map, primes with as_completed, initializer", scenarios: &[parallel::cpu_vs_io_bound, parallel::primes_as_completed, parallel::initializer_chunk_sum] },
    Section { name: "processes", about: "multiprocessing: what replaces processes here (Queue between workers)", scenarios: &[processes::queue_between_workers] },
    Section { name: "actor", about: "actors on tokio: counter and printer, supervision, request ids", scenarios: &[actor::counter_and_printer, actor::supervised_worker, actor::request_id_through_an_actor] },
    Section { name: "logs", about: "logging with contextvars: a request id in every log line, and to another service", scenarios: &[logs::request_id_in_every_log_line, logs::request_id_to_another_service] },
];

/// The opening: every section, and how to run one.
fn print_sections() {
    println!("sections (run one with `cargo xtask tour NAME`, several with `… NAME NAME`):");
    for section in SECTIONS {
        println!("  {:<10} {}", section.name, section.about);
    }
}

fn main() -> std::process::ExitCode {
    let asked: Vec<String> = std::env::args().skip(1).collect();
    if asked.iter().any(|arg| arg == "--list" || arg == "-l") {
        print_sections();
        return std::process::ExitCode::SUCCESS;
    }
    if let Some(unknown) = asked
        .iter()
        .find(|name| !SECTIONS.iter().any(|section| section.name == name.as_str()))
    {
        eprintln!("tour: no section named `{unknown}`");
        print_sections();
        return std::process::ExitCode::from(2);
    }
    println!("contexture tour: Python's concurrent context, in Rust");
    print_sections();
    for section in SECTIONS {
        if asked.is_empty() || asked.iter().any(|name| name == section.name) {
            println!();
            println!("#### {}: {}", section.name, section.about);
            for scenario in section.scenarios {
                scenario();
            }
        }
    }

    let (checked, failed) = (
        CHECKED.load(Ordering::SeqCst),
        FAILED.load(Ordering::SeqCst),
    );
    println!();
    println!("tour: {} passed, {failed} failed", checked - failed);
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
