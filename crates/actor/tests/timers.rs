//! send_after / send_interval: delivery, cancel, zero and MAX periods, and the end of
//! timers with their actor.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::run_async;
use contexture_actor::{spawn, Actor, Ctx, ExitReason, Handler, TimerHandle};

struct Ticks {
    ticks: Arc<AtomicUsize>,
    timer: Option<TimerHandle>,
}
impl Actor for Ticks {}

struct Start(Duration);
impl Handler<Start> for Ticks {
    type Reply = TimerHandle;
    async fn handle(&mut self, Start(period): Start, ctx: &mut Ctx<Self>) -> TimerHandle {
        let timer = ctx.send_interval(period, || Tick);
        self.timer = Some(timer.clone());
        timer
    }
}
struct Tick;
impl Handler<Tick> for Ticks {
    type Reply = ();
    async fn handle(&mut self, _: Tick, _: &mut Ctx<Self>) {
        self.ticks.fetch_add(1, Ordering::SeqCst);
    }
}
struct Later(Duration);
impl Handler<Later> for Ticks {
    type Reply = TimerHandle;
    async fn handle(&mut self, Later(d): Later, ctx: &mut Ctx<Self>) -> TimerHandle {
        ctx.send_after(d, Tick)
    }
}
struct PanickyStart;
impl Handler<PanickyStart> for Ticks {
    type Reply = ();
    async fn handle(&mut self, _: PanickyStart, ctx: &mut Ctx<Self>) {
        ctx.send_interval(Duration::from_millis(1), || -> Tick { panic!("maker") });
    }
}

/// Waits (up to 10 s) until the timer task has ended: an abort is processed by the runtime,
/// not at the call.
async fn ended(timer: &TimerHandle) -> bool {
    for _ in 0..1000 {
        if timer.is_finished() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

fn ticks() -> (Ticks, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    (
        Ticks {
            ticks: n.clone(),
            timer: None,
        },
        n,
    )
}

#[test]
fn interval_ticks_until_cancelled_and_zero_is_one_ms() {
    run_async(30, || async {
        let (actor, n) = ticks();
        let a = spawn(actor).await.unwrap();
        let timer = a.ask(Start(Duration::ZERO)).await.unwrap();
        while n.load(Ordering::SeqCst) < 5 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        timer.cancel();
        assert!(ended(&timer).await);
        // A tick enqueued before the cancel may still be handled: let it.
        let _ = a.ask(Start(Duration::MAX)).await;
        let after = n.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(n.load(Ordering::SeqCst), after, "no tick after cancel");
    });
}

#[test]
fn send_after_fires_once_and_max_never() {
    run_async(30, || async {
        let (actor, n) = ticks();
        let a = spawn(actor).await.unwrap();
        let once = a.ask(Later(Duration::from_millis(5))).await.unwrap();
        let never = a.ask(Later(Duration::MAX)).await.unwrap();
        while n.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // The timer task ends just after its send, maybe after the tick was handled.
        assert!(ended(&once).await, "a fired send_after ends");
        // Not a synchronisation: gives a second firing (the bug) the time to show.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert!(!never.is_finished());
        a.stop();
        a.join().await;
        assert!(ended(&never).await, "timers end with their actor");
    });
}

#[test]
fn an_interval_of_duration_max_never_ticks_and_never_panics() {
    run_async(30, || async {
        let (actor, n) = ticks();
        let a = spawn(actor).await.unwrap();
        let timer = a.ask(Start(Duration::MAX)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(n.load(Ordering::SeqCst), 0);
        assert!(!timer.is_finished());
        a.stop();
        assert_eq!(a.join().await.reason, ExitReason::Normal);
    });
}

#[test]
fn a_timer_on_a_runtime_without_time_ends_the_actor_with_the_reason() {
    common::within(30, || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            let (actor, _) = ticks();
            let a = spawn(actor).await.unwrap();
            assert!(a.ask(Later(Duration::from_millis(1))).await.is_err());
            let report = a.join().await;
            assert!(
                matches!(report.reason, ExitReason::Panicked(ref m) if m.contains("timers are disabled")),
                "{report:?}"
            );
        });
    });
}

#[test]
fn timers_end_with_the_actor() {
    run_async(30, || async {
        let (actor, n) = ticks();
        let a = spawn(actor).await.unwrap();
        let timer = a.ask(Start(Duration::from_millis(1))).await.unwrap();
        a.kill();
        a.join().await;
        assert!(ended(&timer).await);
        let after = n.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(n.load(Ordering::SeqCst), after);
    });
}

#[test]
fn a_panicking_message_maker_ends_the_actor_as_a_handler_panic() {
    run_async(30, || async {
        let (actor, _) = ticks();
        let a = spawn(actor).await.unwrap();
        a.tell(PanickyStart).await.unwrap();
        assert_eq!(a.join().await.reason, ExitReason::Panicked("maker".into()));
    });
}
