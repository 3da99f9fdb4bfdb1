//! Auto traits of every public type: `Send`/`Sync` where they are promised, and not where
//! they would be unsound.

use std::cell::{Cell, RefCell};

use contexture::local::{IntoIter, Iter, IterMut, Local, LocalRef, LocalRefMut};

fn is_send<T: Send>() {}
fn is_sync<T: Sync>() {}

/// Fails to compile if `T` implements the marker trait (two blanket impls become ambiguous).
macro_rules! assert_not_impl {
    ($ty:ty: $trait:path) => {{
        trait AmbiguousIfImpl<A> {
            fn some_item() {}
        }
        impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
        #[allow(dead_code)]
        struct Invalid;
        impl<T: ?Sized + $trait> AmbiguousIfImpl<Invalid> for T {}
        let _ = <$ty as AmbiguousIfImpl<_>>::some_item;
    }};
}

#[test]
fn local_is_send_and_sync_for_send_values() {
    // A `Local` of a `!Sync` value is still shared between threads: each sees only its own.
    is_send::<Local<Cell<u8>>>();
    is_sync::<Local<Cell<u8>>>();
    is_sync::<Local<RefCell<Vec<u8>>>>();
    is_send::<IntoIter<Cell<u8>>>();
    // `Local<Rc<u8>>` cannot even be named: `Local<T>` requires `T: Send` on the type.
}

#[test]
fn guards_follow_references() {
    // `LocalRef` is a `&T`: shareable only for `T: Sync`.
    is_send::<LocalRef<'static, u8>>();
    is_sync::<LocalRef<'static, u8>>();
    assert_not_impl!(LocalRef<'static, Cell<u8>>: Send);
    assert_not_impl!(LocalRef<'static, Cell<u8>>: Sync);
    // `LocalRefMut` is a `&mut T`: `Send` for `T: Send`, `Sync` for `T: Sync`.
    is_send::<LocalRefMut<'static, Cell<u8>>>();
    assert_not_impl!(LocalRefMut<'static, Cell<u8>>: Sync);
    is_send::<Iter<'static, u8>>();
    is_send::<IterMut<'static, u8>>();
}

mod sync {
    use super::*;
    use contexture::sync::{
        Condition, ConditionError, ConditionGuard, Lock, LockGuard, RLock, RLockGuard, ReleaseError,
    };
    use std::sync::Arc;

    #[test]
    fn primitives_are_send_and_sync() {
        is_send::<Lock>();
        is_sync::<Lock>();
        is_send::<RLock>();
        is_sync::<RLock>();
        is_sync::<Condition>();
        is_sync::<Condition<Lock>>();
        is_sync::<Condition<Arc<RLock>>>();
        is_send::<ReleaseError>();
        is_send::<ConditionError>();
    }

    #[test]
    fn guards() {
        // Any thread may release a `Lock`, so its guard may move; reentrant guards may not.
        is_send::<LockGuard<'static>>();
        assert_not_impl!(RLockGuard<'static>: Send);
        assert_not_impl!(ConditionGuard<'static>: Send);
    }
}

mod pool {
    use super::*;
    use contexture::pool::{
        AsCompleted, BuildError, Builder, CallbackPanicked, Handle, Map, MapError, ReturnWhen,
        SubmitError, TaskError, ThreadPool,
    };

    #[test]
    fn pool_and_handles_cross_threads() {
        is_send::<ThreadPool>();
        is_sync::<ThreadPool>();
        is_send::<Builder>();
        is_send::<Handle<Cell<u8>>>(); // the result moves to whoever takes it
        is_sync::<Handle<u8>>();
        is_send::<Map<u8>>();
        is_send::<AsCompleted<'static, u8>>();
        is_send::<TaskError>();
        is_send::<BuildError>();
        is_send::<CallbackPanicked>();
        is_send::<ReturnWhen>();
        is_send::<SubmitError<fn()>>();
        is_send::<MapError<u8, u8>>();
    }

    #[test]
    fn submit_error_follows_its_closure() {
        assert_not_impl!(SubmitError<std::rc::Rc<u8>>: Send);
    }
}

mod ctxvar {
    use super::*;
    use contexture::ctxvar::{
        AlreadyEntered, Context, ContextVar, InContext, LookupError, ResetError, Snapshot, Token,
    };

    #[test]
    fn contexts_travel_and_are_not_clone() {
        // A context must be able to move into pool workers, threads and tokio tasks.
        is_send::<Context>();
        is_sync::<Context>();
        // Identity matters: copy with `ctx.copy()`, never `clone()`.
        assert_not_impl!(Context: Clone);
        is_send::<ContextVar<u8>>();
        is_sync::<ContextVar<u8>>();
        is_send::<Token<u8>>();
        is_send::<InContext<std::future::Ready<()>>>();
        is_send::<AlreadyEntered>();
        is_send::<LookupError>();
        is_send::<ResetError<u8>>();
        // A snapshot rides in every pool job and message.
        is_send::<Snapshot>();
        is_sync::<Snapshot>();
        // So do the hook extensions it carries.
        is_send::<contexture::ctxvar::hook::Extensions>();
        is_sync::<contexture::ctxvar::hook::Extensions>();
        is_send::<contexture::ctxvar::hook::Instrumented<std::future::Ready<()>>>();
    }
}

mod bridges {
    use super::*;
    use contexture::otel::{Extracted, Propagated, Skipped};
    use contexture::tracing::ContextFields;

    #[test]
    fn the_bridges_can_be_shared_and_their_results_sent() {
        // A propagator and a field formatter are installed once and used from every thread.
        is_send::<Propagated>();
        is_sync::<Propagated>();
        is_send::<ContextFields>();
        is_sync::<ContextFields>();
        // What `extract` returns moves to the thread that runs the request.
        is_send::<Extracted>();
        is_sync::<Extracted>();
        is_send::<Skipped>();
    }

    #[test]
    fn task_groups_move_between_tasks_and_threads() {
        use contexture::ctxvar::{
            Gather, GroupError, Join, NoRuntime, Outcome, SpawnError, Spawner, TaskGroup,
        };
        // A group is held across awaits of a multi-thread task; a spawner goes into tasks.
        is_send::<TaskGroup<u8, String>>();
        is_sync::<TaskGroup<u8, String>>();
        is_send::<Spawner<u8, String>>();
        is_sync::<Spawner<u8, String>>();
        is_send::<Join<u8, String>>();
        is_send::<Gather<u8, String>>();
        is_send::<GroupError<u8, String>>();
        is_sync::<GroupError<u8, String>>();
        is_send::<Outcome<u8, String>>();
        is_send::<SpawnError<std::future::Ready<()>>>();
        is_send::<NoRuntime>();
    }
}

mod actor {
    use super::*;
    use contexture::actor::{
        Actor, ActorId, ActorRef, AskError, Builder, Ctx, Down, ExitReason, ExitReport, InRuntime,
        Restart, SendError, SpawnError, Strategy, Supervisor, SupervisorBuilder, TimerHandle,
        WeakSupervisor,
    };

    /// An actor whose state is `Send` but not `Sync`: its ref must still be shareable.
    struct NotSync(#[allow(dead_code, reason = "only its auto traits matter")] Cell<u8>);
    impl Actor for NotSync {}

    #[test]
    fn refs_and_errors_cross_threads() {
        is_send::<ActorRef<NotSync>>();
        is_sync::<ActorRef<NotSync>>();
        is_send::<Ctx<NotSync>>();
        is_send::<Supervisor>();
        is_sync::<Supervisor>();
        is_send::<SupervisorBuilder>();
        is_send::<WeakSupervisor>();
        is_sync::<WeakSupervisor>();
        is_send::<Builder>();
        is_sync::<Builder>();
        is_send::<TimerHandle>();
        is_send::<ExitReason>();
        is_send::<ExitReport>();
        is_send::<Down>();
        is_send::<ActorId>();
        is_send::<Restart>();
        is_send::<Strategy>();
        is_send::<InRuntime>();
        is_send::<SendError<u8>>();
        is_send::<AskError<u8>>();
        is_send::<SpawnError<NotSync>>();
    }

    #[test]
    fn errors_follow_their_message() {
        assert_not_impl!(SendError<std::rc::Rc<u8>>: Send);
        assert_not_impl!(AskError<std::rc::Rc<u8>>: Send);
    }
}
