//! A handler waiting at an await is cut short by what ends the actor at once (a kill, a
//! supervisor's shutdown, a linked failure): its future is dropped, its asker answered with
//! that end, and the message counted in the exit report. A stop or a monitor's notice waits
//! for the handler instead.

mod common;

use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{run_async, Tracked};
use contexture_actor::{spawn, Actor, AskError, Ctx, Down, ExitReason, Handler};
use tokio::sync::{oneshot, Notify};

/// Waits at its handler's await for as long as it is told to.
#[derive(Default)]
struct Waiter {
    log: Arc<Mutex<Vec<String>>>,
}

impl Actor for Waiter {
    async fn on_stop(&mut self, reason: &ExitReason, _: &mut Ctx<Self>) {
        self.log.lock().unwrap().push(format!("stop {reason:?}"));
    }

    async fn on_down(&mut self, _: Down, _: &mut Ctx<Self>) {
        self.log.lock().unwrap().push("down".into());
    }
}

/// Never ends (holds a tracked value, dropped when the handler is cut short).
struct Forever(Arc<Notify>, Tracked);
impl Handler<Forever> for Waiter {
    type Reply = u32;
    async fn handle(&mut self, Forever(started, tracked): Forever, _: &mut Ctx<Self>) -> u32 {
        started.notify_one();
        let _held = tracked;
        pending::<()>().await;
        1
    }
}

/// Ends when the channel fires.
struct Until(Arc<Notify>, oneshot::Receiver<()>);
impl Handler<Until> for Waiter {
    type Reply = &'static str;
    async fn handle(&mut self, Until(started, rx): Until, _: &mut Ctx<Self>) -> &'static str {
        started.notify_one();
        let _ = rx.await;
        self.log.lock().unwrap().push("handled".into());
        "done"
    }
}

/// Panics in its future's drop when cut short.
struct Sticky(Arc<Notify>);
struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("sticky drop");
        }
    }
}
impl Handler<Sticky> for Waiter {
    type Reply = ();
    async fn handle(&mut self, Sticky(started): Sticky, _: &mut Ctx<Self>) {
        let _bomb = PanicOnDrop;
        started.notify_one();
        pending::<()>().await;
    }
}

struct Crash;
impl Handler<Crash> for Waiter {
    type Reply = ();
    async fn handle(&mut self, _: Crash, _: &mut Ctx<Self>) {
        panic!("linked crash");
    }
}

#[test]
fn kill_cuts_a_handler_waiting_forever_and_answers_its_asker() {
    run_async(30, || async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let a = spawn(Waiter { log: log.clone() }).await.unwrap();
        let started = Arc::new(Notify::new());
        let drops = Arc::new(AtomicUsize::new(0));
        let ask = a.ask(Forever(started.clone(), Tracked(drops.clone())));
        started.notified().await;
        let queued = a.ask(Forever(Arc::new(Notify::new()), Tracked(drops.clone())));
        a.kill();
        assert!(matches!(
            ask.await,
            Err(AskError::Failed(ExitReason::Killed))
        ));
        assert!(matches!(
            queued.await,
            Err(AskError::Failed(ExitReason::Killed))
        ));
        let report = a.join().await;
        assert_eq!(report.reason, ExitReason::Killed);
        // The cut ask and the queued one.
        assert_eq!((report.dropped_tells, report.failed_asks), (0, 2));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(*log.lock().unwrap(), ["stop Killed"]);
    });
}

#[test]
fn a_cut_tell_is_counted_as_dropped() {
    run_async(30, || async {
        let a = spawn(Waiter::default()).await.unwrap();
        let started = Arc::new(Notify::new());
        let drops = Arc::new(AtomicUsize::new(0));
        a.tell(Forever(started.clone(), Tracked(drops.clone())))
            .await
            .unwrap();
        started.notified().await;
        a.kill();
        let report = a.join().await;
        assert_eq!(report.reason, ExitReason::Killed);
        assert_eq!((report.dropped_tells, report.failed_asks), (1, 0));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn stop_and_a_monitor_notice_wait_for_the_handler() {
    run_async(30, || async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let a = spawn(Waiter { log: log.clone() }).await.unwrap();
        let watched = spawn(Waiter::default()).await.unwrap();
        a.monitor(&watched);
        let started = Arc::new(Notify::new());
        let (release, rx) = oneshot::channel();
        let ask = a.ask(Until(started.clone(), rx));
        started.notified().await;
        watched.stop();
        watched.join().await;
        a.stop();
        // Neither ends the handler: it finishes when released.
        release.send(()).unwrap();
        assert_eq!(ask.await.unwrap(), "done");
        let report = a.join().await;
        assert_eq!(report.reason, ExitReason::Normal);
        assert_eq!((report.dropped_tells, report.failed_asks), (0, 0));
        // The notice was kept and served after the handler, before the stop it came before.
        assert_eq!(*log.lock().unwrap(), ["handled", "down", "stop Normal"]);
    });
}

#[test]
fn a_linked_failure_cuts_a_waiting_handler() {
    run_async(30, || async {
        let a = spawn(Waiter::default()).await.unwrap();
        let b = spawn(Waiter::default()).await.unwrap();
        a.link(&b);
        let started = Arc::new(Notify::new());
        let drops = Arc::new(AtomicUsize::new(0));
        let ask = a.ask(Forever(started.clone(), Tracked(drops.clone())));
        started.notified().await;
        b.tell(Crash).await.unwrap();
        let expected = ExitReason::Linked {
            actor: b.id(),
            reason: Box::new(ExitReason::Panicked("linked crash".into())),
        };
        match ask.await {
            Err(AskError::Failed(reason)) => assert_eq!(reason, expected),
            other => panic!("expected the linked end, got {other:?}"),
        }
        assert_eq!(a.join().await.reason, expected);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_cut_handler_whose_drop_panics_ends_with_that_panic_and_nothing_hangs() {
    run_async(30, || async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let a = spawn(Waiter { log: log.clone() }).await.unwrap();
        let started = Arc::new(Notify::new());
        let ask = a.ask(Sticky(started.clone()));
        started.notified().await;
        a.kill();
        // The asker hears of the kill (answered before the future's fields drop).
        assert!(matches!(
            ask.await,
            Err(AskError::Failed(ExitReason::Killed))
        ));
        let report = a.join().await;
        assert_eq!(report.reason, ExitReason::Panicked("sticky drop".into()));
        assert_eq!(report.failed_asks, 1);
    });
}
