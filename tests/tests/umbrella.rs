//! Smoke test: every path the umbrella crate promises resolves, and the prelude works.

#[test]
fn every_umbrella_path_resolves() {
    // contexture::local
    let _: contexture::local::Local<u8> = contexture::local::Local::new();
    let _: Option<contexture::local::IntoIter<u8>> = None;
    let _: Option<contexture::local::Iter<'_, u8>> = None;
    let _: Option<contexture::local::IterMut<'_, u8>> = None;
    let _: Option<contexture::local::LocalRef<'_, u8>> = None;
    let _: Option<contexture::local::LocalRefMut<'_, u8>> = None;
}

#[test]
fn prelude_brings_the_main_types() {
    use contexture::prelude::*;
    static L: Local<u32> = Local::new();
    assert_eq!(*L.get_or(|| 1), 1);
}

#[test]
fn ctxvar_paths_resolve() {
    use contexture::ctxvar::{
        copy_context, AlreadyEntered, Context, ContextVar, FutureExt, InContext, LookupError,
        ResetError, ScopedSet, Snapshot, Token,
    };
    static V: ContextVar<u8> = ContextVar::new("v");
    let _: Context = copy_context();
    let _: Snapshot = Snapshot::capture();
    let _: Option<(AlreadyEntered, LookupError, ResetError<u8>, Token<u8>)> = None;
    let _: Option<ScopedSet<'static, u8>> = None;
    let _: Option<InContext<std::future::Ready<()>>> = None;
    let adapted: InContext<std::future::Ready<()>> = std::future::ready(()).with_current_context();
    drop(adapted);
    let _: contexture::ctxvar::thread::Builder = contexture::ctxvar::thread::Builder::new();
    let _ = contexture::ctxvar::spawn::<std::future::Ready<()>>;
    let _ = contexture::ctxvar::spawn_blocking::<fn(), ()>;
    assert_eq!(V.get(), None);
}

#[test]
fn ctxvar_task_group_paths_resolve() {
    use contexture::ctxvar::{
        gather, try_gather, Gather, GroupError, Join, NoRuntime, Outcome, SpawnError, Spawner,
        TaskGroup,
    };
    named::<(
        Gather<u8, ()>,
        Join<u8, ()>,
        GroupError<u8, ()>,
        Outcome<u8, ()>,
    )>();
    named::<(SpawnError<()>, Spawner<u8>, NoRuntime)>();
    assert!(matches!(TaskGroup::<u8>::new(), Err(NoRuntime(()))));
    assert!(gather(Vec::<std::future::Ready<Result<u8, ()>>>::new()).is_err());
    assert!(try_gather(Vec::<std::future::Ready<Result<u8, ()>>>::new()).is_err());
}

/// Names a type: compiles only if the path resolves.
fn named<T: ?Sized>() {}

#[test]
fn sync_paths_resolve() {
    use contexture::sync::{
        Barrier, BarrierBuilder, BoundedSemaphore, BrokenBarrier, Condition, ConditionError,
        ConditionGuard, ConditionLock, Event, GetError, LifoQueue, Lock, LockGuard, PriorityQueue,
        PutError, Queue, RLock, RLockGuard, ReleaseError, Semaphore, SemaphorePermit,
        SemaphoreReleaseError, TaskDoneError, ZeroParties,
    };
    fn takes_condition_lock<L: ConditionLock>() {}
    takes_condition_lock::<RLock>();
    named::<Barrier>();
    named::<BarrierBuilder>();
    named::<BoundedSemaphore>();
    named::<BrokenBarrier>();
    named::<Condition>();
    named::<ConditionError>();
    named::<ConditionGuard<'static>>();
    named::<Event>();
    named::<GetError>();
    named::<LifoQueue<u8>>();
    named::<Lock>();
    named::<LockGuard<'static>>();
    named::<PriorityQueue<u8>>();
    named::<PutError<u8>>();
    named::<Queue<u8>>();
    named::<RLock>();
    named::<RLockGuard<'static>>();
    named::<ReleaseError>();
    named::<Semaphore>();
    named::<SemaphorePermit<'static>>();
    named::<SemaphoreReleaseError>();
    named::<TaskDoneError>();
    named::<ZeroParties>();
}

#[test]
fn pool_paths_resolve() {
    use contexture::pool::{
        as_completed, wait, AsCompleted, BuildError, Builder, CallbackPanicked, Handle, Map,
        MapError, ReturnWhen, SubmitError, TaskError, ThreadPool,
    };
    let _: Builder = ThreadPool::builder();
    named::<AsCompleted<'static, u8>>();
    named::<BuildError>();
    named::<CallbackPanicked>();
    named::<Map<u8>>();
    named::<MapError<u8, u8>>();
    named::<SubmitError<fn()>>();
    named::<TaskError>();
    let none: [&Handle<u8>; 0] = [];
    assert_eq!(as_completed(none, None).count(), 0);
    assert_eq!(wait(none, ReturnWhen::AllCompleted, None).0.len(), 0);
}

#[test]
fn actor_paths_resolve() {
    use contexture::actor::{
        lookup, spawn, Actor, ActorId, ActorRef, AskError, Builder, Ctx, Down, ExitReason,
        ExitReport, Handler, InRuntime, Restart, SendError, SpawnError, StartError, Strategy,
        Supervisor, SupervisorBuilder, TimerHandle, WeakSupervisor, DEFAULT_CAPACITY, MAX_CAPACITY,
    };
    struct A;
    impl Actor for A {}
    impl Handler<u8> for A {
        type Reply = u8;
        async fn handle(&mut self, n: u8, _: &mut Ctx<Self>) -> u8 {
            n
        }
    }
    named::<ActorRef<A>>();
    named::<(
        ActorId,
        AskError<u8>,
        Builder,
        Down,
        ExitReason,
        ExitReport,
        InRuntime,
    )>();
    named::<(Restart, SendError<u8>, SpawnError<A>, StartError, Strategy)>();
    named::<(Supervisor, SupervisorBuilder, TimerHandle, WeakSupervisor)>();
    const { assert!(DEFAULT_CAPACITY <= MAX_CAPACITY) };
    assert!(lookup::<A>("nobody").is_none());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let a = rt.block_on(spawn(A)).unwrap();
    assert_eq!(a.blocking_ask(3).unwrap(), 3);
    // The prelude brings the traits.
    {
        use contexture::prelude::*;
        fn takes<T: Actor + Handler<u8>>(_: &ActorRef<T>, _: Option<&Ctx<T>>) {}
        takes(&a, None);
    }
}

#[test]
fn bridge_paths_resolve() {
    use contexture::ctxvar::hook::{
        self, Carried, Extension, Extensions, Instrumented, RegisterError, MAX_EXTENSIONS,
    };
    use contexture::otel::{Extracted, Propagated, SkipReason, Skipped, MAX_BYTES, MAX_ENTRIES};
    use contexture::tracing::{propagate_spans, spans_propagated, ContextFields};
    named::<dyn Carried>();
    named::<dyn Extension>();
    named::<Extensions>();
    named::<Instrumented<std::future::Ready<()>>>();
    named::<RegisterError>();
    named::<Extracted>();
    named::<Propagated>();
    named::<SkipReason>();
    named::<Skipped>();
    named::<ContextFields>();
    assert_eq!((MAX_ENTRIES, MAX_BYTES, MAX_EXTENSIONS), (64, 8192, 4));
    let _ = (
        hook::register,
        hook::contained_panics,
        propagate_spans,
        spans_propagated,
    );
}
