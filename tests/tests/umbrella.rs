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
        ResetError, ScopedSet, Token,
    };
    static V: ContextVar<u8> = ContextVar::new("v");
    let _: Context = copy_context();
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
fn sync_paths_resolve() {
    use contexture::sync::{
        Barrier, BarrierBuilder, BoundedSemaphore, BrokenBarrier, Condition, ConditionError,
        ConditionGuard, ConditionLock, Event, GetError, LifoQueue, Lock, LockGuard, PriorityQueue,
        PutError, Queue, RLock, RLockGuard, ReleaseError, Semaphore, SemaphorePermit,
        SemaphoreReleaseError, TaskDoneError, ZeroParties,
    };
    fn takes_condition_lock<L: ConditionLock>() {}
    takes_condition_lock::<RLock>();
    let _: Option<(
        Barrier,
        BarrierBuilder,
        BoundedSemaphore,
        BrokenBarrier,
        Condition,
    )> = None;
    let _: Option<(ConditionError, ConditionGuard<'static>, Event, GetError)> = None;
    let _: Option<(
        LifoQueue<u8>,
        Lock,
        LockGuard<'static>,
        PriorityQueue<u8>,
        PutError<u8>,
    )> = None;
    let _: Option<(
        Queue<u8>,
        RLock,
        RLockGuard<'static>,
        ReleaseError,
        Semaphore,
    )> = None;
    let _: Option<(
        SemaphorePermit<'static>,
        SemaphoreReleaseError,
        TaskDoneError,
        ZeroParties,
    )> = None;
}

#[test]
fn pool_paths_resolve() {
    use contexture::pool::{
        as_completed, wait, AsCompleted, BuildError, Builder, CallbackPanicked, Handle, Map,
        ReturnWhen, SubmitError, TaskError, ThreadPool,
    };
    let _: Builder = ThreadPool::builder();
    let _: Option<(
        AsCompleted<'static, u8>,
        BuildError,
        CallbackPanicked,
        Handle<u8>,
    )> = None;
    let _: Option<(Map<u8>, ReturnWhen, SubmitError<fn()>, TaskError)> = None;
    let none: [&Handle<u8>; 0] = [];
    assert_eq!(as_completed(none, None).count(), 0);
    assert_eq!(wait(none, ReturnWhen::AllCompleted, None).0.len(), 0);
}
