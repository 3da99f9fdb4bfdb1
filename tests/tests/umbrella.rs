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
