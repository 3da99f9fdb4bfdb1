//! Loom models of the crate's own protocol: an actor's end racing a link or a monitor
//! being set up. Whoever loses the race must still get exactly one notice: the end is
//! published under the same lock that `link` and `add_monitor` read it under.
//!
//! Run: `RUSTFLAGS="--cfg contexture_loom" cargo test -p contexture-actor --release --lib loom`
//! (a few dozen interleavings, well under a second, with `LOOM_MAX_PREEMPTIONS=2`).
//!
//! Mutation-checked: ending in two lock sections (taking the link and monitor lists, then
//! recording the report) loses the notice of a link made in between, and the first model
//! fails.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::core::{Core, Sys};
use crate::exit::{ExitReason, ExitReport};

fn notices(rx: &mut UnboundedReceiver<Sys>) -> (usize, usize) {
    let (mut links, mut downs) = (0, 0);
    while let Ok(sys) = rx.try_recv() {
        match sys {
            Sys::LinkExit(_, reason) => {
                assert_eq!(reason, ExitReason::Killed);
                links += 1;
            }
            Sys::Down(down, _) => {
                assert_eq!(down.reason, ExitReason::Killed);
                downs += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    (links, downs)
}

#[test]
fn loom_end_racing_link_and_monitor_tells_each_once() {
    loom::model(|| {
        let (dying, _dying_rx) = Core::new(None);
        let (linked, mut linked_rx) = Core::new(None);
        let (watcher, mut watcher_rx) = Core::new(None);

        let ender = {
            let dying = dying.clone();
            loom::thread::spawn(move || dying.finish(ExitReport::new(ExitReason::Killed)))
        };
        let linker = {
            let (dying, linked) = (dying.clone(), linked.clone());
            loom::thread::spawn(move || linked.link(&dying))
        };
        dying.add_monitor(&watcher, None);
        ender.join().unwrap();
        linker.join().unwrap();

        assert_eq!(
            notices(&mut linked_rx),
            (1, 0),
            "the linked actor is told once"
        );
        assert_eq!(notices(&mut watcher_rx), (0, 1), "the monitor is told once");
        // The dead actor forgot the link; the live one holds nothing of it either.
        drop(Arc::clone(&linked));
    });
}

#[test]
fn loom_two_ends_racing_a_mutual_link() {
    loom::model(|| {
        let (a, mut a_rx) = Core::new(None);
        let (b, mut b_rx) = Core::new(None);
        a.link(&b);
        let a_end = {
            let a = a.clone();
            loom::thread::spawn(move || a.finish(ExitReport::new(ExitReason::Killed)))
        };
        b.finish(ExitReport::new(ExitReason::Killed));
        a_end.join().unwrap();
        // Each may or may not be told (the other may have ended first), never twice.
        assert!(notices(&mut a_rx).0 <= 1);
        assert!(notices(&mut b_rx).0 <= 1);
        assert!(a.has_ended() && b.has_ended());
    });
}
