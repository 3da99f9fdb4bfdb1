//! on_start / on_stop, stop (drain) vs kill (fail the rest), join for late callers, the
//! end when the last ref goes, panics in every hook, a dropped runtime, the registry.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{hold, rt, run_async, within, Add, Boom, Counter, Get, Tracked};
use contexture_actor::{
    lookup, spawn, Actor, AskError, Builder, Ctx, ExitReason, Handler, SendError, SpawnError,
    StartError,
};

/// Records its hooks.
struct Hooks {
    log: Arc<Mutex<Vec<String>>>,
    fail_start: bool,
    panic_in: Option<&'static str>,
    _tracked: Option<Tracked>,
}

impl Hooks {
    fn new(log: &Arc<Mutex<Vec<String>>>) -> Hooks {
        Hooks {
            log: log.clone(),
            fail_start: false,
            panic_in: None,
            _tracked: None,
        }
    }
}

impl Actor for Hooks {
    async fn on_start(&mut self, _: &mut Ctx<Self>) -> Result<(), StartError> {
        self.log.lock().unwrap().push("start".into());
        if self.panic_in == Some("start") {
            panic!("start panicked");
        }
        if self.fail_start {
            return Err("no".into());
        }
        Ok(())
    }
    async fn on_stop(&mut self, reason: &ExitReason, _: &mut Ctx<Self>) {
        self.log.lock().unwrap().push(format!("stop: {reason}"));
        if self.panic_in == Some("stop") {
            panic!("stop panicked");
        }
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        if self.panic_in == Some("drop") && !std::thread::panicking() {
            panic!("drop panicked");
        }
    }
}

struct Note(&'static str);
impl Handler<Note> for Hooks {
    type Reply = ();
    async fn handle(&mut self, Note(n): Note, _: &mut Ctx<Self>) {
        self.log.lock().unwrap().push(n.into());
    }
}

#[test]
fn on_start_failure_is_returned_and_nothing_stays_behind() {
    run_async(30, || async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut hooks = Hooks::new(&log);
        hooks.fail_start = true;
        hooks._tracked = Some(Tracked(dropped.clone()));
        let err = Builder::new()
            .name("start-fails")
            .spawn(hooks)
            .await
            .unwrap_err();
        assert!(
            matches!(err, SpawnError::Start(ExitReason::StartFailed(ref m)) if m == "no"),
            "{err:?}"
        );
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the actor value was dropped"
        );
        assert!(
            lookup::<Hooks>("start-fails").is_none(),
            "the name was freed"
        );
        assert_eq!(
            *log.lock().unwrap(),
            ["start"],
            "on_stop does not run after a failed start"
        );
        // The name can be taken again.
        let again = Builder::new()
            .name("start-fails")
            .spawn(Hooks::new(&log))
            .await
            .unwrap();
        again.stop();
        again.join().await;
    });
}

#[test]
fn on_start_panic_is_returned() {
    run_async(30, || async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut hooks = Hooks::new(&log);
        hooks.panic_in = Some("start");
        let err = spawn(hooks).await.unwrap_err();
        assert!(
            matches!(err, SpawnError::Start(ExitReason::Panicked(ref m)) if m == "start panicked"),
            "{err:?}"
        );
    });
}

#[test]
fn stop_drains_the_mailbox_then_refuses() {
    run_async(30, || async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let actor = spawn(Hooks::new(&log)).await.unwrap();
        for n in ["a", "b", "c"] {
            actor.tell(Note(n)).await.unwrap();
        }
        actor.stop();
        actor.stop(); // idempotent
        assert!(matches!(
            actor.tell(Note("late")).await,
            Err(SendError::Closed(Note("late")))
        ));
        let report = actor.join().await;
        assert_eq!(report.reason, ExitReason::Normal);
        assert_eq!((report.dropped_tells, report.failed_asks), (0, 0));
        assert_eq!(
            *log.lock().unwrap(),
            ["start", "a", "b", "c", "stop: stopped"]
        );
        // Late joiners get the same report.
        assert_eq!(actor.join().await, report);
        assert_eq!(actor.exit_report(), Some(report));
        assert!(actor.has_ended());
    });
}

#[test]
fn kill_fails_queued_asks_and_counts_dropped_tells() {
    run_async(30, || async {
        let counter = spawn(Counter::default()).await.unwrap();
        // Never released: the kill cuts the held handler short.
        let _release = hold(&counter).await;
        for _ in 0..5 {
            counter.tell(Add(1)).await.unwrap();
        }
        let asks: Vec<_> = (0..3).map(|_| counter.ask(Get)).collect();
        counter.kill();
        for ask in asks {
            assert!(matches!(
                ask.await,
                Err(AskError::Failed(ExitReason::Killed))
            ));
        }
        let report = counter.join().await;
        assert_eq!(report.reason, ExitReason::Killed);
        // The five queued tells, and the held one the kill cut short at its await.
        assert_eq!((report.dropped_tells, report.failed_asks), (6, 3));
    });
}

#[test]
fn stop_is_served_before_a_full_mailbox() {
    run_async(30, || async {
        let counter = Builder::new()
            .capacity(2)
            .spawn(Counter::default())
            .await
            .unwrap();
        let release = hold(&counter).await;
        counter.tell(Add(1)).await.unwrap();
        counter.tell(Add(1)).await.unwrap();
        assert!(matches!(counter.try_tell(Add(1)), Err(SendError::Full(_))));
        counter.kill(); // does not wait for room
        release.notify_one();
        assert_eq!(counter.join().await.reason, ExitReason::Killed);
    });
}

#[test]
fn dropping_the_last_ref_drains_and_stops_without_leaking() {
    run_async(30, || async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut hooks = Hooks::new(&log);
        hooks._tracked = Some(Tracked(dropped.clone()));
        let actor = spawn(hooks).await.unwrap();
        actor.tell(Note("queued")).await.unwrap();
        drop(actor);
        for _ in 0..200 {
            if dropped.load(Ordering::SeqCst) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 1, "the actor was dropped");
        assert_eq!(*log.lock().unwrap(), ["start", "queued", "stop: stopped"]);
    });
}

#[test]
fn a_handler_panic_ends_the_actor_and_fails_the_queue() {
    run_async(30, || async {
        let counter = spawn(Counter::default()).await.unwrap();
        let release = hold(&counter).await;
        counter.tell(Boom).await.unwrap();
        counter.tell(Add(1)).await.unwrap();
        let ask = counter.ask(Get);
        release.notify_one();
        assert!(
            matches!(ask.await, Err(AskError::Failed(ExitReason::Panicked(ref m))) if m == "boom")
        );
        let report = counter.join().await;
        assert_eq!(report.reason, ExitReason::Panicked("boom".into()));
        assert_eq!((report.dropped_tells, report.failed_asks), (1, 1));
    });
}

#[test]
fn panics_in_on_stop_and_drop_are_reported() {
    for place in ["stop", "drop"] {
        run_async(30, move || async move {
            let log = Arc::new(Mutex::new(Vec::new()));
            let mut hooks = Hooks::new(&log);
            hooks.panic_in = Some(place);
            let actor = spawn(hooks).await.unwrap();
            actor.stop();
            let report = actor.join().await;
            let expected = format!("{place} panicked");
            assert_eq!(report.reason, ExitReason::Panicked(expected));
        });
    }
}

/// A message whose drop panics, and a reply whose drop panics.
struct Grenade;
impl Drop for Grenade {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("grenade");
        }
    }
}
impl Handler<Grenade> for Counter {
    type Reply = ();
    async fn handle(&mut self, g: Grenade, _: &mut Ctx<Self>) {
        std::mem::forget(g);
    }
}

#[test]
fn a_queued_message_whose_drop_panics_is_still_counted() {
    run_async(30, || async {
        let counter = spawn(Counter::default()).await.unwrap();
        let _release = hold(&counter).await;
        counter.tell(Grenade).await.unwrap();
        counter.tell(Add(1)).await.unwrap();
        counter.kill();
        let report = counter.join().await;
        assert_eq!(report.reason, ExitReason::Killed);
        // The two queued, and the held one the kill cut short.
        assert_eq!(report.dropped_tells, 3);
    });
}

#[test]
fn a_dropped_runtime_ends_the_actor_and_answers_every_ask() {
    within(30, || {
        let rt = rt();
        let counter = rt.block_on(spawn(Counter::default())).unwrap();
        let release = rt.block_on(hold(&counter));
        counter.blocking_tell(Add(1)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // `ask` enqueues at the call: the ask is queued before the runtime goes (a
        // `blocking_ask` on another thread might only arrive after, and be refused).
        let pending = counter.ask(Get);
        let asker = std::thread::spawn(move || {
            let waiter = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let ask = waiter.block_on(pending);
            tx.send(()).unwrap();
            ask
        });
        // Shut the runtime down under the held handler.
        drop(rt);
        drop(release);
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the ask was answered");
        assert!(matches!(
            asker.join().unwrap(),
            Err(AskError::Failed(ExitReason::Dropped))
        ));
        let report = counter.blocking_join().unwrap();
        assert_eq!(report.reason, ExitReason::Dropped);
        assert_eq!((report.dropped_tells, report.failed_asks), (1, 1));
        assert!(matches!(
            counter.blocking_tell(Add(1)),
            Err(SendError::Closed(_))
        ));
    });
}

#[test]
fn names_are_unique_and_freed_at_the_end() {
    run_async(30, || async {
        let a = Builder::new()
            .name("unique-name")
            .spawn(Counter::default())
            .await
            .unwrap();
        match Builder::new()
            .name("unique-name")
            .spawn(Counter {
                count: 3,
                ..Default::default()
            })
            .await
        {
            Err(SpawnError::NameTaken { name, actor }) => {
                assert_eq!(name, "unique-name");
                assert_eq!(actor.count, 3);
            }
            other => panic!("expected NameTaken, got {other:?}"),
        }
        assert_eq!(lookup::<Counter>("unique-name").unwrap().id(), a.id());
        assert!(lookup::<Hooks>("unique-name").is_none(), "wrong type");
        assert!(lookup::<Counter>("").is_none());
        // A named actor is kept by the registry: dropping our ref does not stop it.
        let id = a.id();
        drop(a);
        let again = lookup::<Counter>("unique-name").unwrap();
        assert_eq!(again.id(), id);
        assert_eq!(again.ask(Add(2)).await.unwrap(), 2);
        again.stop();
        again.join().await;
        assert!(lookup::<Counter>("unique-name").is_none());
        let b = Builder::new()
            .name("unique-name")
            .spawn(Counter::default())
            .await
            .unwrap();
        assert_ne!(b.id(), id);
        b.kill();
        b.join().await;
        // Names with NUL bytes or empty are just strings.
        let c = Builder::new()
            .name("a\0b")
            .spawn(Counter::default())
            .await
            .unwrap();
        assert!(lookup::<Counter>("a\0b").is_some());
        c.stop();
    });
}

#[test]
fn stop_and_kill_racing_from_many_threads_end_once() {
    within(60, || {
        let rt = rt();
        for round in 0..50 {
            let counter = rt.block_on(spawn(Counter::default())).unwrap();
            let barrier = Arc::new(std::sync::Barrier::new(4));
            let threads: Vec<_> = (0..4)
                .map(|i| {
                    let c = counter.clone();
                    let b = barrier.clone();
                    std::thread::spawn(move || {
                        b.wait();
                        match (i + round) % 3 {
                            0 => c.stop(),
                            1 => c.kill(),
                            _ => drop(c.blocking_tell(Add(1))),
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            let report = counter.blocking_join().unwrap();
            assert!(matches!(
                report.reason,
                ExitReason::Normal | ExitReason::Killed
            ));
        }
    });
}

/// The system lane is peeked only when its count of sends moved: a stop (or kill) sent to an
/// actor that is idle, or busy with a stream of tells, from another thread, is never missed
/// (a notice whose wake-up arrives before its count is visible must still be received).
#[test]
fn a_stop_or_kill_from_another_thread_always_reaches_an_idle_or_busy_actor() {
    within(60, || {
        let rt = rt();
        for round in 0..300 {
            let handled = Arc::new(AtomicUsize::new(0));
            let counter = rt
                .block_on(spawn(Counter {
                    count: 0,
                    handled: handled.clone(),
                }))
                .unwrap();
            // Idle (its lane's waker registered) after one handled message.
            assert_eq!(counter.blocking_ask(Add(1)).unwrap(), 1);
            let busy = round % 2 == 1;
            let sender = busy.then(|| {
                let counter = counter.clone();
                std::thread::spawn(move || while counter.blocking_tell(Add(1)).is_ok() {})
            });
            let stopper = {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    if round % 3 == 0 {
                        counter.kill();
                    } else {
                        counter.stop();
                    }
                })
            };
            stopper.join().unwrap();
            let report = counter.blocking_join().unwrap();
            assert!(
                matches!(report.reason, ExitReason::Normal | ExitReason::Killed),
                "{report:?}"
            );
            if let Some(sender) = sender {
                sender.join().unwrap();
            }
        }
    });
}
