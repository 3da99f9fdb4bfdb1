//! tell / try_tell / ask / timed and blocking forms: results, refusals that hand the
//! message back, eager ask, self-ask and self-tell, bad arguments.

mod common;

use std::time::{Duration, Instant};

use common::{hold, rt, run_async, within, Add, Counter, Get};
use contexture_actor::{
    spawn, Actor, AskError, Builder, Ctx, ExitReason, Handler, SendError, SpawnError, MAX_CAPACITY,
};

#[test]
fn tell_then_ask_sees_every_tell_in_order() {
    run_async(30, || async {
        let counter = spawn(Counter::default()).await.unwrap();
        for n in 1..=100 {
            counter.tell(Add(n)).await.unwrap();
        }
        assert_eq!(counter.ask(Get).await.unwrap(), 5050);
    });
}

#[test]
fn ask_is_enqueued_at_the_call_not_at_the_first_poll() {
    run_async(30, || async {
        let counter = spawn(Counter::default()).await.unwrap();
        let pending = counter.ask(Add(7)); // never polled before the next line
        assert_eq!(counter.ask(Get).await.unwrap(), 7);
        assert_eq!(pending.await.unwrap(), 7);
        // Even when the future is dropped unpolled, the message was delivered.
        drop(counter.ask(Add(1)));
        assert_eq!(counter.ask(Get).await.unwrap(), 8);
    });
}

#[test]
fn try_tell_hands_back_when_full_and_when_stopped() {
    run_async(30, || async {
        let counter = Builder::new()
            .capacity(1)
            .spawn(Counter::default())
            .await
            .unwrap();
        let release = hold(&counter).await;
        counter.try_tell(Add(1)).unwrap(); // fills the one slot
        match counter.try_tell(Add(2)) {
            Err(SendError::Full(Add(2))) => {}
            other => panic!("expected Full(2), got {other:?}"),
        }
        release.notify_one();
        assert_eq!(counter.ask(Get).await.unwrap(), 1);
        counter.stop();
        match counter.try_tell(Add(3)) {
            Err(SendError::Closed(Add(3))) => {}
            other => panic!("expected Closed(3), got {other:?}"),
        }
        assert!(matches!(
            counter.tell(Add(4)).await,
            Err(SendError::Closed(Add(4)))
        ));
        assert!(matches!(
            counter.ask(Add(5)).await,
            Err(AskError::Closed(Add(5)))
        ));
        assert_eq!(counter.join().await.reason, ExitReason::Normal);
    });
}

#[test]
fn tell_waits_for_room() {
    run_async(30, || async {
        let counter = Builder::new()
            .capacity(1)
            .spawn(Counter::default())
            .await
            .unwrap();
        let release = hold(&counter).await;
        counter.tell(Add(1)).await.unwrap();
        let c2 = counter.clone();
        let waiting = tokio::spawn(async move { c2.tell(Add(2)).await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        release.notify_one();
        waiting.await.unwrap().unwrap();
        assert_eq!(counter.ask(Get).await.unwrap(), 3);
    });
}

#[test]
fn ask_timeout_tells_no_room_apart_from_no_reply() {
    run_async(30, || async {
        let counter = Builder::new()
            .capacity(1)
            .spawn(Counter::default())
            .await
            .unwrap();
        let release = hold(&counter).await;
        counter.tell(Add(1)).await.unwrap();
        // No room before the deadline: the message comes back.
        let started = Instant::now();
        match counter
            .ask_timeout(Add(2), Duration::from_millis(200))
            .await
        {
            Err(AskError::Full(Add(2))) => {}
            other => panic!("expected Full(2), got {other:?}"),
        }
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(120) && waited < Duration::from_secs(2));
        release.notify_one();
        // Duration::MAX means no deadline.
        assert_eq!(counter.ask_timeout(Get, Duration::MAX).await.unwrap(), 1);
        // A zero timeout with room still enqueues and then times out or replies.
        let _ = counter.ask_timeout(Get, Duration::ZERO).await;
    });
}

#[test]
fn ask_timeout_with_room_and_slow_handler_is_timeout_and_still_handled() {
    run_async(30, || async {
        let counter = spawn(Counter::default()).await.unwrap();
        let release = hold(&counter).await;
        let started = Instant::now();
        match counter
            .ask_timeout(Add(5), Duration::from_millis(200))
            .await
        {
            Err(AskError::Timeout) => {}
            other => panic!("expected Timeout, got {other:?}"),
        }
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(120) && waited < Duration::from_secs(2));
        release.notify_one();
        assert_eq!(
            counter.ask(Get).await.unwrap(),
            5,
            "the timed-out ask was still handled"
        );
    });
}

/// Asks itself / tells itself from inside its own handler.
#[derive(Default)]
struct Narcissus;
impl Actor for Narcissus {}
struct AskSelf;
impl Handler<AskSelf> for Narcissus {
    type Reply = &'static str;
    async fn handle(&mut self, _: AskSelf, ctx: &mut Ctx<Self>) -> &'static str {
        let me = ctx.myself().unwrap();
        match me.ask(Ping).await {
            Err(AskError::SelfAsk(Ping)) => "refused",
            Ok(_) => "answered?!",
            Err(_) => "other error",
        }
    }
}
struct Ping;
impl Handler<Ping> for Narcissus {
    type Reply = ();
    async fn handle(&mut self, _: Ping, _: &mut Ctx<Self>) {}
}
struct TellSelf(usize);
impl Handler<TellSelf> for Narcissus {
    type Reply = (usize, usize);
    async fn handle(&mut self, TellSelf(n): TellSelf, ctx: &mut Ctx<Self>) -> (usize, usize) {
        let me = ctx.myself().unwrap();
        let (mut sent, mut full) = (0, 0);
        for _ in 0..n {
            match me.tell(Ping).await {
                Ok(()) => sent += 1,
                Err(SendError::Full(Ping)) => full += 1,
                Err(_) => panic!("unexpected"),
            }
        }
        (sent, full)
    }
}

#[test]
fn an_actor_asking_itself_is_refused_at_once() {
    run_async(30, || async {
        let n = spawn(Narcissus).await.unwrap();
        assert_eq!(n.ask(AskSelf).await.unwrap(), "refused");
    });
}

#[test]
fn an_actor_telling_itself_into_a_full_mailbox_does_not_deadlock() {
    run_async(30, || async {
        let n = Builder::new().capacity(4).spawn(Narcissus).await.unwrap();
        let (sent, full) = n.ask(TellSelf(10)).await.unwrap();
        assert_eq!(sent + full, 10);
        assert_eq!(sent, 4);
        n.ask(Ping).await.unwrap();
    });
}

#[test]
fn blocking_forms_work_on_plain_threads_and_refuse_runtime_threads() {
    within(30, || {
        let rt = rt();
        let counter = rt.block_on(spawn(Counter::default())).unwrap();
        let c = counter.clone();
        std::thread::spawn(move || {
            c.blocking_tell(Add(2)).unwrap();
            assert_eq!(c.blocking_ask(Add(3)).unwrap(), 5);
            c.blocking_tell_timeout(Add(1), Duration::from_millis(100))
                .unwrap();
            assert_eq!(c.blocking_ask_timeout(Get, Duration::MAX).unwrap(), 6);
        })
        .join()
        .unwrap();
        rt.block_on(async {
            assert!(matches!(
                counter.blocking_tell(Add(1)),
                Err(SendError::InRuntime(Add(1)))
            ));
            assert!(matches!(
                counter.blocking_ask(Get),
                Err(AskError::InRuntime(Get))
            ));
            assert!(counter.blocking_join().is_err());
        });
        // From inside spawn_blocking too (documented).
        let c = counter.clone();
        let refused = rt
            .block_on(rt.spawn_blocking(move || {
                matches!(c.blocking_tell(Add(1)), Err(SendError::InRuntime(_)))
            }))
            .unwrap();
        assert!(refused);
        counter.stop();
        assert_eq!(counter.blocking_join().unwrap().reason, ExitReason::Normal);
    });
}

#[test]
fn blocking_timeouts_tell_full_from_timeout() {
    within(30, || {
        let rt = rt();
        let counter = rt
            .block_on(Builder::new().capacity(1).spawn(Counter::default()))
            .unwrap();
        let release = rt.block_on(hold(&counter));
        counter.blocking_tell(Add(1)).unwrap();
        let started = Instant::now();
        assert!(matches!(
            counter.blocking_tell_timeout(Add(2), Duration::from_millis(200)),
            Err(SendError::Full(Add(2)))
        ));
        assert!(matches!(
            counter.blocking_ask_timeout(Add(3), Duration::from_millis(200)),
            Err(AskError::Full(Add(3)))
        ));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(240) && waited < Duration::from_secs(4));
        assert!(matches!(
            counter.blocking_tell_timeout(Add(4), Duration::ZERO),
            Err(SendError::Full(Add(4)))
        ));
        release.notify_one();
        // Now room, a held handler: no reply in time.
        let release = rt.block_on(hold(&counter));
        assert!(matches!(
            counter.blocking_ask_timeout(Add(5), Duration::from_millis(100)),
            Err(AskError::Timeout)
        ));
        release.notify_one();
        assert_eq!(counter.blocking_ask(Get).unwrap(), 6);
    });
}

#[test]
fn blocking_tell_waiting_for_room_is_refused_when_the_actor_is_killed() {
    within(30, || {
        let rt = rt();
        let counter = rt
            .block_on(Builder::new().capacity(1).spawn(Counter::default()))
            .unwrap();
        // Never released: the kill cuts the held handler short at its await (counted with
        // the dropped tells).
        let _release = rt.block_on(hold(&counter));
        counter.blocking_tell(Add(1)).unwrap();
        let c = counter.clone();
        let waiter = std::thread::spawn(move || c.blocking_tell(Add(2)));
        std::thread::sleep(Duration::from_millis(50));
        counter.kill();
        let report = counter.blocking_join().unwrap();
        assert_eq!(report.reason, ExitReason::Killed);
        assert_eq!(report.dropped_tells, 2);
        match waiter.join().unwrap() {
            Err(SendError::Closed(Add(2))) => {}
            other => panic!("expected Closed(2), got {other:?}"),
        }
    });
}

#[test]
fn spawning_outside_a_runtime_is_a_typed_error() {
    let err = futures::executor::block_on(spawn(Counter::default())).unwrap_err();
    assert!(matches!(err, SpawnError::NoRuntime(_)));
    let err = Builder::new()
        .blocking_spawn(Counter::default())
        .unwrap_err();
    assert!(matches!(err, SpawnError::NoRuntime(_)));
    let rt = rt();
    let err = rt
        .block_on(async { Builder::new().blocking_spawn(Counter::default()) })
        .unwrap_err();
    assert!(matches!(err, SpawnError::InRuntime(_)));
}

#[test]
fn bad_capacities_are_refused_with_the_actor() {
    run_async(30, || async {
        for capacity in [0, MAX_CAPACITY + 1, usize::MAX] {
            match Builder::new()
                .capacity(capacity)
                .spawn(Counter {
                    count: 9,
                    ..Default::default()
                })
                .await
            {
                Err(SpawnError::Capacity { capacity: c, actor }) => {
                    assert_eq!(c, capacity);
                    assert_eq!(actor.count, 9);
                }
                other => panic!("expected Capacity, got {other:?}"),
            }
        }
        let big = Builder::new()
            .capacity(MAX_CAPACITY)
            .spawn(Counter::default())
            .await
            .unwrap();
        assert_eq!(big.ask(Add(1)).await.unwrap(), 1);
        let unbounded = Builder::new()
            .unbounded()
            .spawn(Counter::default())
            .await
            .unwrap();
        for _ in 0..10_000 {
            unbounded.try_tell(Add(1)).unwrap();
        }
        assert_eq!(unbounded.ask(Get).await.unwrap(), 10_000);
    });
}

#[test]
fn actor_ref_is_clone_send_sync_debug() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug>() {}
    check::<contexture_actor::ActorRef<Counter>>();
    run_async(30, || async {
        let c = Builder::new()
            .name("debug-me")
            .spawn(Counter::default())
            .await
            .unwrap();
        let text = format!("{c:?}");
        assert!(
            text.contains("debug-me") && text.contains("Counter"),
            "{text}"
        );
        c.stop();
    });
}

#[test]
fn many_senders_every_message_counted() {
    run_async(60, || async {
        let counter = Builder::new()
            .capacity(16)
            .spawn(Counter::default())
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let c = counter.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..1000 {
                    c.tell(Add(1)).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(counter.ask(Get).await.unwrap(), 8000);
    });
}
