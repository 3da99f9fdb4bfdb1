//! Auto traits: every primitive, queue and error is `Send + Sync` (queues for `Send` items);
//! a `LockGuard` and a `SemaphorePermit` may cross threads (any thread may release a `Lock`
//! or a semaphore); `RLockGuard` and `ConditionGuard` may not.

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::sync::Arc;

use contexture_sync::{
    Barrier, BarrierBuilder, BoundedSemaphore, BrokenBarrier, Condition, ConditionError,
    ConditionGuard, Event, GetError, LifoQueue, Lock, LockGuard, PriorityQueue, PutError, Queue,
    RLock, RLockGuard, ReleaseError, Semaphore, SemaphorePermit, SemaphoreReleaseError,
    TaskDoneError, ZeroParties,
};

fn send_sync<T: Send + Sync>() {}

/// `true` when `T: Send` (autoref specialisation: the inherent-looking method on the
/// `Send` impl wins over the blanket fallback).
macro_rules! is_send {
    ($t:ty) => {{
        #[allow(dead_code)] // one of the two `is_send` is unused, by design
        trait Fallback {
            fn is_send(&self) -> bool {
                false
            }
        }
        impl<T: ?Sized> Fallback for std::marker::PhantomData<T> {}
        struct Probe<T: ?Sized>(std::marker::PhantomData<T>);
        impl<T: ?Sized + Send> Probe<T> {
            #[allow(dead_code)] // see `Fallback`
            fn is_send(&self) -> bool {
                true
            }
        }
        impl<T: ?Sized> std::ops::Deref for Probe<T> {
            type Target = std::marker::PhantomData<T>;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
        Probe::<$t>(std::marker::PhantomData).is_send()
    }};
}

#[test]
fn primitives_are_send_and_sync() {
    send_sync::<Lock>();
    send_sync::<RLock>();
    send_sync::<Condition>();
    send_sync::<Condition<Lock>>();
    send_sync::<Condition<Arc<RLock>>>();
    send_sync::<Condition<&'static Lock>>();
    send_sync::<ReleaseError>();
    send_sync::<ConditionError>();
    send_sync::<LockGuard<'static>>();
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<Event>();
    send_sync::<Barrier>();
    send_sync::<BarrierBuilder>();
    // A queue of `Send` items is `Send + Sync`, even when the items are not `Sync`.
    send_sync::<Queue<std::cell::Cell<u8>>>();
    send_sync::<LifoQueue<std::cell::Cell<u8>>>();
    send_sync::<PriorityQueue<u8>>();
    send_sync::<SemaphoreReleaseError>();
    send_sync::<ZeroParties>();
    send_sync::<BrokenBarrier>();
    send_sync::<PutError<u8>>();
    send_sync::<GetError>();
    send_sync::<TaskDoneError>();
}

#[test]
fn queues_of_non_send_items_are_not_send() {
    assert!(!is_send!(Queue<std::rc::Rc<u8>>));
    assert!(is_send!(Queue<u8>));
}

#[test]
fn reentrant_guards_stay_on_their_thread() {
    assert!(is_send!(LockGuard<'static>));
    assert!(is_send!(SemaphorePermit<'static>));
    assert!(!is_send!(RLockGuard<'static>));
    assert!(!is_send!(ConditionGuard<'static>));
    assert!(!is_send!(ConditionGuard<'static, Lock>));
}
