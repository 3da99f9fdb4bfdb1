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
