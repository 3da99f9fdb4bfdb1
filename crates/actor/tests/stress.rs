//! 8 senders × 10,000 tells and asks racing `stop()`, `kill()`, and handler panics under
//! supervision: every message is handled exactly once or handed back in an error, no ask
//! hangs, and the counts add up with the exit report.

mod common;

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use common::{rt, within};
use contexture_actor::{
    Actor, ActorRef, AskError, Builder, Ctx, ExitReason, Handler, Restart, SendError, Supervisor,
};

const SENDERS: usize = 8;
const PER_SENDER: usize = 10_000;

struct Sink {
    handled: Arc<Vec<AtomicU8>>,
}
impl Actor for Sink {}

struct Msg {
    id: usize,
    boom: bool,
}
impl Handler<Msg> for Sink {
    type Reply = usize;
    async fn handle(&mut self, Msg { id, boom }: Msg, _: &mut Ctx<Self>) -> usize {
        let before = self.handled[id].fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "message {id} handled twice");
        if boom {
            panic!("boom {id}");
        }
        id
    }
}

/// What the senders saw.
#[derive(Default)]
struct Tally {
    tell_ok: AtomicUsize,
    ask_ok: AtomicUsize,
    handed_back: AtomicUsize,
    ask_failed: AtomicUsize,
    boom_sent: AtomicUsize,
}

fn send_all(
    actor: ActorRef<Sink>,
    sender: usize,
    tally: Arc<Tally>,
    booms: bool,
    rt: &tokio::runtime::Runtime,
) {
    // Half the senders are tasks (async forms), half are threads (blocking forms).
    let threaded = sender % 2 == 0;
    let body = move || {
        for i in 0..PER_SENDER {
            let id = sender * PER_SENDER + i;
            let boom = booms && i % 1000 == 999;
            let msg = Msg { id, boom };
            let outcome: Result<bool, bool> = if i % 3 == 0 {
                // ask
                let result = if threaded {
                    actor.blocking_ask(msg)
                } else {
                    futures::executor::block_on(actor.ask(msg))
                };
                match result {
                    Ok(got) => {
                        assert_eq!(got, id);
                        tally.ask_ok.fetch_add(1, Ordering::SeqCst);
                        Ok(true)
                    }
                    Err(AskError::Closed(back)) => {
                        assert_eq!(back.id, id);
                        Err(true)
                    }
                    Err(AskError::Failed(_)) => {
                        tally.ask_failed.fetch_add(1, Ordering::SeqCst);
                        Ok(false)
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
            } else {
                let result = if threaded {
                    actor.blocking_tell(msg)
                } else {
                    futures::executor::block_on(actor.tell(msg))
                };
                match result {
                    Ok(()) => {
                        tally.tell_ok.fetch_add(1, Ordering::SeqCst);
                        Ok(true)
                    }
                    Err(SendError::Closed(back)) => {
                        assert_eq!(back.id, id);
                        Err(true)
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
            };
            if outcome.is_err() {
                tally.handed_back.fetch_add(1, Ordering::SeqCst);
            } else if boom {
                tally.boom_sent.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
    if threaded {
        std::thread::spawn(body).join().unwrap();
    } else {
        // An async sender: driven on a blocking-pool thread of its own with
        // `futures::executor::block_on`, so that it competes with the threads.
        rt.block_on(async { tokio::task::spawn_blocking(body).await.unwrap() });
    }
}

/// Runs the senders against `actor` while `disrupt` runs once a quarter of the messages
/// were sent; returns the tally and the per-id handled counts.
fn race(
    actor: ActorRef<Sink>,
    handled: Arc<Vec<AtomicU8>>,
    booms: bool,
    disrupt: impl FnOnce() + Send + 'static,
) -> Arc<Tally> {
    let tally = Arc::new(Tally::default());
    let rt = Arc::new(rt());
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (a, t, rt) = (actor.clone(), tally.clone(), rt.clone());
            std::thread::spawn(move || send_all(a, s, t, booms, &rt))
        })
        .collect();
    // Disrupt after about a quarter of the traffic.
    let total = SENDERS * PER_SENDER;
    while handled
        .iter()
        .filter(|h| h.load(Ordering::Relaxed) > 0)
        .count()
        < total / 4
        && senders.iter().any(|s| !s.is_finished())
    {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    disrupt();
    for s in senders {
        s.join().unwrap();
    }
    tally
}

fn handled_count(handled: &[AtomicU8]) -> usize {
    handled
        .iter()
        .map(|h| {
            let n = h.load(Ordering::SeqCst);
            assert!(n <= 1, "a message was handled twice");
            n as usize
        })
        .sum()
}

/// The test's own panics ("boom N", 80 of them) are expected: keep them out of the log.
fn quiet_booms() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let boom = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with("boom "));
            if !boom {
                default(info);
            }
        }));
    });
}

fn new_handled() -> Arc<Vec<AtomicU8>> {
    quiet_booms();
    Arc::new(
        (0..SENDERS * PER_SENDER)
            .map(|_| AtomicU8::new(0))
            .collect(),
    )
}

#[test]
fn racing_stop_every_message_handled_or_handed_back() {
    within(120, || {
        let rt = rt();
        let handled = new_handled();
        let actor = rt
            .block_on(Builder::new().capacity(64).spawn(Sink {
                handled: handled.clone(),
            }))
            .unwrap();
        let a = actor.clone();
        let tally = race(actor.clone(), handled.clone(), false, move || a.stop());
        let report = actor.blocking_join().unwrap();
        assert_eq!(report.reason, ExitReason::Normal);
        assert_eq!((report.dropped_tells, report.failed_asks), (0, 0));
        let tell_ok = tally.tell_ok.load(Ordering::SeqCst);
        let ask_ok = tally.ask_ok.load(Ordering::SeqCst);
        assert_eq!(tally.ask_failed.load(Ordering::SeqCst), 0);
        assert_eq!(
            handled_count(&handled),
            tell_ok + ask_ok,
            "every accepted message handled once"
        );
        assert_eq!(
            tell_ok + ask_ok + tally.handed_back.load(Ordering::SeqCst),
            SENDERS * PER_SENDER,
            "every message accounted for"
        );
    });
}

#[test]
fn racing_kill_every_message_handled_failed_or_handed_back() {
    within(120, || {
        let rt = rt();
        let handled = new_handled();
        let actor = rt
            .block_on(Builder::new().capacity(64).spawn(Sink {
                handled: handled.clone(),
            }))
            .unwrap();
        let a = actor.clone();
        let tally = race(actor.clone(), handled.clone(), false, move || a.kill());
        let report = actor.blocking_join().unwrap();
        assert_eq!(report.reason, ExitReason::Killed);
        let tell_ok = tally.tell_ok.load(Ordering::SeqCst);
        let ask_ok = tally.ask_ok.load(Ordering::SeqCst);
        let ask_failed = tally.ask_failed.load(Ordering::SeqCst);
        assert_eq!(
            ask_failed, report.failed_asks,
            "every failed ask is in the report"
        );
        assert_eq!(
            handled_count(&handled) + report.dropped_tells,
            tell_ok + ask_ok,
            "accepted tells are handled or counted as dropped"
        );
        assert_eq!(
            tell_ok + ask_ok + ask_failed + tally.handed_back.load(Ordering::SeqCst),
            SENDERS * PER_SENDER
        );
    });
}

#[test]
fn panics_under_supervision_lose_nothing() {
    within(180, || {
        let rt = rt();
        let handled = new_handled();
        let supervisor = rt.block_on(async { Supervisor::builder().max_restarts(10_000).build() });
        let h = handled.clone();
        let actor = rt
            .block_on(supervisor.spawn_with(
                Builder::new().capacity(64),
                Restart::Permanent,
                move || Sink { handled: h.clone() },
            ))
            .unwrap();
        let s = supervisor.clone();
        let tally = race(actor.clone(), handled.clone(), true, move || drop(s));
        supervisor.stop();
        assert_eq!(supervisor.blocking_join().unwrap(), ExitReason::Normal);
        let report = actor.blocking_join().unwrap();
        // A panicking message handled while the stop drains the mailbox ends the child for
        // good (a stopped supervisor restarts nothing): what is left is failed and counted.
        let final_crash = matches!(report.reason, ExitReason::Panicked(_));
        assert!(
            report.reason == ExitReason::Normal || final_crash,
            "{report:?}"
        );
        let booms_handled = (0..SENDERS * PER_SENDER)
            .filter(|id| id % 1000 == 999 && handled[*id].load(Ordering::SeqCst) == 1)
            .count();
        assert!(booms_handled <= tally.boom_sent.load(Ordering::SeqCst));
        assert_eq!(
            report.restarts + usize::from(final_crash),
            booms_handled,
            "one restart per panicking message handled, but the last if it ended the child"
        );
        let tell_ok = tally.tell_ok.load(Ordering::SeqCst);
        let ask_ok = tally.ask_ok.load(Ordering::SeqCst);
        let ask_failed = tally.ask_failed.load(Ordering::SeqCst);
        // Failed asks: those whose own handler panicked, and those failed at the end.
        assert!(ask_failed >= report.failed_asks);
        assert!(ask_failed - report.failed_asks <= booms_handled);
        assert_eq!(
            handled_count(&handled) + report.dropped_tells + report.failed_asks,
            tell_ok + ask_ok + ask_failed,
            "every accepted message handled once, or failed and counted"
        );
        assert_eq!(
            tell_ok + ask_ok + ask_failed + tally.handed_back.load(Ordering::SeqCst),
            SENDERS * PER_SENDER
        );
    });
}
