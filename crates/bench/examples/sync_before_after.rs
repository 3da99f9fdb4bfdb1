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

// `paired`'s rotating runner is built on it.
#[allow(unreachable_pub, dead_code)]
#[path = "../src/interleaved.rs"]
mod interleaved;

// The rows' source itself, for the same reason; it defines `sync_rows::now`.
#[allow(unreachable_pub, dead_code, unused_macros)]
#[macro_use]
#[path = "../src/sync_rows.rs"]
mod sync_rows;

#[cfg(not(contexture_baseline))]
use contexture_sync as before_crate;
#[cfg(contexture_baseline)]
use contexture_sync_before as before_crate;

use std::time::Duration;

sync_rows!(before, crate::before_crate, crate::sync_rows);
use sync_rows::now;

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
