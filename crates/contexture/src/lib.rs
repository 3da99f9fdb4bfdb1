//! Python's model of concurrent context, for Rust: one crate that re-exports the contexture
//! family.
//!
//! # Modules
//!
//! | module | Python | what |
//! |---|---|---|
//! | [`local`] | `threading.local` | per-object thread-local storage that drops each thread's value when the thread exits |
//!
//! More modules (`ctxvar`, `sync`, `pool`, `actor`) arrive as their crates land.
//!
//! # Example
//!
//! ```
//! use contexture::prelude::*;
//!
//! static REQUEST_ID: Local<u64> = Local::new();
//! REQUEST_ID.get_or(|| 7);
//! std::thread::spawn(|| assert_eq!(REQUEST_ID.get(), None)).join().unwrap();
//! assert_eq!(REQUEST_ID.get(), Some(&7));
//! ```
//!
//! # Cargo features
//!
//! One per module, all on by default: `local`.

#![warn(missing_docs)]

#[cfg(feature = "local")]
#[doc(inline)]
pub use contexture_local as local;

/// The types most programs use, for a glob import.
pub mod prelude {
    #[cfg(feature = "local")]
    #[doc(no_inline)]
    pub use crate::local::Local;
}
