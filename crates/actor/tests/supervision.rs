//! Supervision (restart policies, intensity, the mailbox kept across restarts), links and
//! monitors.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{hold, run_async, Add, Boom, Counter, Get};
use contexture_actor::{
    spawn, Actor, AskError, Builder, Ctx, Down, ExitReason, Handler, Restart, SendError,
    SpawnError, Supervisor,
};

#[test]
fn a_supervised_child_keeps_its_ref_and_every_queued_message_across_a_restart() {
    run_async(30, || async {
        let supervisor = Supervisor::new();
        let made = Arc::new(AtomicUsize::new(0));
        let m = made.clone();
        let child = supervisor
            .spawn(Restart::Permanent, move || {
                m.fetch_add(1, Ordering::SeqCst);
                Counter::default()
            })
            .await
            .unwrap();
        let release = hold(&child).await;
        child.tell(Boom).await.unwrap();
        // Sent while the instance is about to crash: must reach the next one.
        for _ in 0..10 {
            child.tell(Add(1)).await.unwrap();
        }
        let ask = child.ask(Get);
        release.notify_one();
        assert_eq!(ask.await.unwrap(), 10, "nothing lost around the restart");
        assert_eq!(made.load(Ordering::SeqCst), 2);
        assert!(!child.has_ended());
        supervisor.stop();
        assert_eq!(supervisor.join().await, ExitReason::Normal);
        let report = child.join().await;
        assert_eq!(report.reason, ExitReason::Normal);
        assert_eq!(report.restarts, 1);
    });
}

#[test]
fn temporary_children_are_not_restarted() {
    run_async(30, || async {
        let supervisor = Supervisor::new();
        let child = supervisor
            .spawn(Restart::Temporary, Counter::default)
            .await
            .unwrap();
        child.tell(Boom).await.unwrap();
        let report = child.join().await;
        assert_eq!(report.reason, ExitReason::Panicked("boom".into()));
        assert_eq!(report.restarts, 0);
        assert!(
            supervisor.stopped().is_none(),
            "a temporary child's end does not stop it"
        );
    });
}

#[test]
fn transient_children_restart_after_failures_only() {
    run_async(30, || async {
        let supervisor = Supervisor::new();
        let child = supervisor
            .spawn(Restart::Transient, Counter::default)
            .await
            .unwrap();
        child.tell(Boom).await.unwrap();
        assert_eq!(child.ask(Add(1)).await.unwrap(), 1);
        child.stop(); // asked for: not restarted
        let report = child.join().await;
        assert_eq!(report.reason, ExitReason::Normal);
        assert_eq!(report.restarts, 1);
    });
}

#[test]
fn restart_intensity_stops_the_supervisor_and_its_children() {
    run_async(30, || async {
        let supervisor = Supervisor::builder()
            .max_restarts(2)
            .within(Duration::from_secs(60))
            .build();
        let crasher = supervisor
            .spawn(Restart::Permanent, Counter::default)
            .await
            .unwrap();
        let bystander = supervisor
            .spawn(Restart::Permanent, Counter::default)
            .await
            .unwrap();
        // Never released: the shutdown cuts the held handler short.
        let _release = hold(&bystander).await;
        bystander.tell(Add(1)).await.unwrap();
        let pending = bystander.ask(Get);
        for _ in 0..3 {
            let _ = crasher.tell(Boom).await;
        }
        let report = crasher.join().await;
        assert_eq!(report.reason, ExitReason::Panicked("boom".into()));
        assert_eq!(report.restarts, 2);
        let reason = supervisor.join().await;
        assert!(
            matches!(reason, ExitReason::RestartLimit { child, .. } if child == crasher.id()),
            "{reason:?}"
        );
        // The bystander was shut down; its queued ask answered, its tells (the held one
        // cut short, the queued one) counted.
        assert!(matches!(
            pending.await,
            Err(AskError::Failed(ExitReason::Shutdown))
        ));
        let report = bystander.join().await;
        assert_eq!(report.reason, ExitReason::Shutdown);
        assert_eq!((report.dropped_tells, report.failed_asks), (2, 1));
        // No new children.
        let err = supervisor
            .spawn(Restart::Permanent, Counter::default)
            .await
            .unwrap_err();
        assert!(matches!(err, SpawnError::SupervisorStopped(_)));
    });
}

#[test]
fn zero_restarts_gives_up_at_the_first_failure() {
    run_async(30, || async {
        let supervisor = Supervisor::builder().max_restarts(0).build();
        let child = supervisor
            .spawn(Restart::Permanent, Counter::default)
            .await
            .unwrap();
        child.tell(Boom).await.unwrap();
        assert!(matches!(
            supervisor.join().await,
            ExitReason::RestartLimit { .. }
        ));
        assert_eq!(child.join().await.restarts, 0);
    });
}

#[test]
fn supervised_children_outlive_their_refs_and_stop_with_the_supervisor() {
    run_async(30, || async {
        let supervisor = Supervisor::new();
        let child = supervisor
            .spawn_with(
                Builder::new().name("supervised-kept"),
                Restart::Permanent,
                Counter::default,
            )
            .await
            .unwrap();
        let id = child.id();
        drop(child);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let again = contexture_actor::lookup::<Counter>("supervised-kept").unwrap();
        assert_eq!(again.id(), id);
        assert!(!again.has_ended());
        drop(supervisor); // the last handle: stops its children
        assert_eq!(again.join().await.reason, ExitReason::Normal);
    });
}

/// A factory that panics on the restart, and an on_start that fails on the restart.
#[test]
fn a_panicking_factory_or_failing_restart_counts_toward_the_intensity() {
    run_async(30, || async {
        let supervisor = Supervisor::builder().max_restarts(3).build();
        let made = Arc::new(AtomicUsize::new(0));
        let m = made.clone();
        let child = supervisor
            .spawn(Restart::Permanent, move || {
                if m.fetch_add(1, Ordering::SeqCst) > 0 {
                    panic!("factory broke");
                }
                Counter::default()
            })
            .await
            .unwrap();
        child.tell(Boom).await.unwrap();
        let report = child.join().await;
        assert_eq!(report.reason, ExitReason::Panicked("factory broke".into()));
        assert_eq!(report.restarts, 3);
        assert!(matches!(
            supervisor.join().await,
            ExitReason::RestartLimit { .. }
        ));
    });
}

/// Records the Down notices it gets.
#[derive(Default)]
struct Watcher {
    seen: Arc<Mutex<Vec<Down>>>,
}
impl Actor for Watcher {
    async fn on_down(&mut self, down: Down, _: &mut Ctx<Self>) {
        self.seen.lock().unwrap().push(down);
    }
}
struct Seen;
impl Handler<Seen> for Watcher {
    type Reply = usize;
    async fn handle(&mut self, _: Seen, _: &mut Ctx<Self>) -> usize {
        self.seen.lock().unwrap().len()
    }
}

#[test]
fn monitors_are_told_links_die_together() {
    run_async(30, || async {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let watcher = spawn(Watcher { seen: seen.clone() }).await.unwrap();
        let target = spawn(Counter::default()).await.unwrap();
        let linked = spawn(Counter::default()).await.unwrap();
        watcher.monitor(&target);
        target.link(&linked);
        target.tell(Boom).await.unwrap();
        assert_eq!(
            target.join().await.reason,
            ExitReason::Panicked("boom".into())
        );
        let linked_report = linked.join().await;
        assert!(matches!(
            linked_report.reason,
            ExitReason::Linked { actor, ref reason } if actor == target.id() && **reason == ExitReason::Panicked("boom".into())
        ));
        for _ in 0..100 {
            if watcher.ask(Seen).await.unwrap() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let down = seen.lock().unwrap()[0].clone();
        assert_eq!(down.actor, target.id());
        assert_eq!(down.reason, ExitReason::Panicked("boom".into()));
        // Monitoring an actor that has ended tells at once; linking to it passes its failure on.
        watcher.monitor(&linked);
        let late = spawn(Counter::default()).await.unwrap();
        late.link(&target);
        assert!(matches!(
            late.join().await.reason,
            ExitReason::Linked { .. }
        ));
        for _ in 0..100 {
            if watcher.ask(Seen).await.unwrap() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(watcher.ask(Seen).await.unwrap(), 2);
    });
}

#[test]
fn a_normal_end_does_not_kill_links_and_unlink_works() {
    run_async(30, || async {
        let a = spawn(Counter::default()).await.unwrap();
        let b = spawn(Counter::default()).await.unwrap();
        let c = spawn(Counter::default()).await.unwrap();
        a.link(&b);
        a.link(&c);
        a.unlink(&c);
        a.link(&a); // linking to itself does nothing
        a.stop();
        a.join().await;
        assert_eq!(b.ask(Add(1)).await.unwrap(), 1);
        let d = spawn(Counter::default()).await.unwrap();
        b.link(&d);
        b.link(&c);
        b.unlink(&c);
        d.kill();
        assert!(matches!(b.join().await.reason, ExitReason::Linked { .. }));
        assert_eq!(c.ask(Add(2)).await.unwrap(), 2, "unlinked: not killed");
        assert!(matches!(b.tell(Add(1)).await, Err(SendError::Closed(_))));
    });
}
