//! `cargo xtask tour`: the scenarios of the seed articles, ported to contexture and narrated.
//!
//! Each scenario prints what happens, checks what it claims, and the tour exits non-zero if a
//! check fails, so `cargo xtask test-all` runs it as a test too.

mod actor;
mod ctxvar;
mod local;
mod logs;
mod pool;
mod sync;

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

fn main() -> std::process::ExitCode {
    println!("contexture tour: Python's concurrent context, in Rust");
    local::thread_isolation();
    local::cleanup();
    ctxvar::basics();
    ctxvar::thread_isolation();
    ctxvar::tasks();
    ctxvar::lifecycle();
    ctxvar::run_mutates();
    ctxvar::shallow_copy();
    sync::safe_counter();
    sync::tree_walker();
    sync::bounded_buffer();
    sync::connection_pool();
    sync::service_manager();
    sync::two_phase_barrier();
    sync::worker_pool();
    sync::priority_and_lifo_queues();
    pool::managed_pool();
    pool::callback_pipeline();
    pool::panicking_job();
    pool::request_id_in_jobs();
    actor::counter_and_printer();
    actor::supervised_worker();
    actor::request_id_through_an_actor();
    logs::request_id_in_every_log_line();
    logs::request_id_to_another_service();

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
