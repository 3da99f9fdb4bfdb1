//! Each message carries the sender's context: seen by the handler (tell, ask, blocking),
//! the handler's writes never leak back nor into the next message; the actor's own
//! context (on_start's writes) is the base of timer messages; propagation can be turned off.

mod common;

use std::time::Duration;

use common::{rt, run_async, within};
use contexture_actor::{spawn, Actor, Builder, Ctx, Handler, StartError};
use contexture_ctxvar::ContextVar;

static REQUEST: ContextVar<u32> = ContextVar::new("request");
static ROLE: ContextVar<&'static str> = ContextVar::new("role");

#[derive(Default)]
struct Probe {
    timer_saw: Option<(Option<u32>, Option<&'static str>)>,
}

impl Actor for Probe {
    async fn on_start(&mut self, _: &mut Ctx<Self>) -> Result<(), StartError> {
        ROLE.set("probe");
        REQUEST.set(1000); // the actor's own context, not the senders'
        Ok(())
    }
}

/// Reports what it sees, then writes, awaits, and checks its write survived the await.
struct See;
impl Handler<See> for Probe {
    type Reply = (Option<u32>, Option<&'static str>);
    async fn handle(&mut self, _: See, _: &mut Ctx<Self>) -> Self::Reply {
        let seen = (REQUEST.get(), ROLE.get());
        REQUEST.set(999);
        let token = ROLE.set("inside");
        tokio::task::yield_now().await;
        assert_eq!(
            REQUEST.get(),
            Some(999),
            "a handler's write persists across its awaits"
        );
        // The message's context keeps its identity across polls: a token made before an
        // await resets after it (an asyncio task's context).
        ROLE.reset(token)
            .expect("a token of an earlier poll of this handler");
        assert_eq!(ROLE.get(), seen.1);
        seen
    }
}

struct Arm;
impl Handler<Arm> for Probe {
    type Reply = ();
    async fn handle(&mut self, _: Arm, ctx: &mut Ctx<Self>) {
        ctx.send_after(Duration::from_millis(5), Fired);
    }
}
struct Fired;
impl Handler<Fired> for Probe {
    type Reply = ();
    async fn handle(&mut self, _: Fired, _: &mut Ctx<Self>) {
        self.timer_saw = Some((REQUEST.get(), ROLE.get()));
    }
}
struct TimerSaw;
impl Handler<TimerSaw> for Probe {
    type Reply = Option<(Option<u32>, Option<&'static str>)>;
    async fn handle(&mut self, _: TimerSaw, _: &mut Ctx<Self>) -> Self::Reply {
        self.timer_saw
    }
}

#[test]
fn the_senders_context_reaches_the_handler_and_nothing_leaks() {
    run_async(30, || async {
        let probe = spawn(Probe::default()).await.unwrap();
        assert_eq!(REQUEST.get(), None, "on_start's writes stay in the actor");
        REQUEST.set(7);
        assert_eq!(probe.ask(See).await.unwrap(), (Some(7), None));
        assert_eq!(REQUEST.get(), Some(7), "no write leaks back");
        REQUEST.set(8);
        // The next message does not see 999 from the previous handler.
        assert_eq!(probe.ask(See).await.unwrap(), (Some(8), None));
        // Captured at the call: a later set does not change it.
        let pending = probe.ask(See);
        REQUEST.set(9);
        assert_eq!(pending.await.unwrap(), (Some(8), None));
    });
}

#[test]
fn tells_and_blocking_sends_carry_the_context_too() {
    within(30, || {
        let rt = rt();
        let probe = rt.block_on(spawn(Probe::default())).unwrap();
        let p = probe.clone();
        std::thread::spawn(move || {
            REQUEST.set(21);
            assert_eq!(p.blocking_ask(See).unwrap(), (Some(21), None));
            assert_eq!(REQUEST.get(), Some(21));
        })
        .join()
        .unwrap();
        // From a pool job: the job's context (the submitter's) travels on.
        let pool = contexture_pool::ThreadPool::new();
        REQUEST.set(33);
        let p = probe.clone();
        let seen = pool
            .submit(move || p.blocking_ask(See).unwrap())
            .unwrap()
            .result()
            .unwrap();
        assert_eq!(seen, (Some(33), None));
    });
}

#[test]
fn timers_run_in_the_actors_own_context() {
    run_async(30, || async {
        let probe = spawn(Probe::default()).await.unwrap();
        REQUEST.set(5);
        probe.tell(Arm).await.unwrap();
        for _ in 0..200 {
            if probe.ask(TimerSaw).await.unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            probe.ask(TimerSaw).await.unwrap(),
            Some((Some(1000), Some("probe")))
        );
    });
}

#[test]
fn propagation_off_gives_each_handler_an_empty_fresh_context() {
    run_async(30, || async {
        let probe = Builder::new()
            .propagate_context(false)
            .spawn(Probe::default())
            .await
            .unwrap();
        REQUEST.set(11);
        assert_eq!(probe.ask(See).await.unwrap(), (None, None));
        assert_eq!(
            probe.ask(See).await.unwrap(),
            (None, None),
            "no leak between messages"
        );
    });
}

#[test]
fn an_actor_spawned_in_a_context_starts_from_a_copy_of_it() {
    run_async(30, || async {
        struct Snap;
        impl Actor for Snap {
            async fn on_start(&mut self, _: &mut Ctx<Self>) -> Result<(), StartError> {
                assert_eq!(REQUEST.get(), Some(77));
                REQUEST.set(78);
                Ok(())
            }
        }
        REQUEST.set(77);
        let a = spawn(Snap).await.unwrap();
        assert_eq!(REQUEST.get(), Some(77));
        a.stop();
        a.join().await;
    });
}
