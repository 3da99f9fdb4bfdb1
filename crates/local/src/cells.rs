//! The `Cell`/`RefCell` helpers, with the names of std's `LocalKey<Cell<T>>` and
//! `LocalKey<RefCell<T>>`.
//!
//! They differ from std in one way: a `Local` may have no value on this thread (no
//! initialiser, nothing stored yet — Python's `AttributeError`), so the reading helpers return
//! `Option`. With an initialiser they always return `Some`.

use std::cell::{Cell, RefCell};

use crate::Local;

impl<T: Send + 'static, F: Fn() -> Cell<T>> Local<Cell<T>, F> {
    /// Stores `value` as this thread's value; the initialiser does not run.
    ///
    /// ```
    /// use contexture_local::Local;
    /// use std::cell::Cell;
    /// static DEPTH: Local<Cell<u32>> = Local::new();
    /// DEPTH.set(3);
    /// assert_eq!(DEPTH.get().map(Cell::get), Some(3));
    /// ```
    pub fn set(&self, value: T) {
        match self.get_present() {
            Some(cell) => cell.set(value),
            None => {
                self.insert(Cell::new(value));
            }
        }
    }

    /// Takes this thread's value, leaving `T::default()`; `None` if it has none.
    ///
    /// Unlike std's `LocalKey` helpers this returns an `Option`: a `Local` made with
    /// [`Local::new`] has no value on a thread until one is stored there (Python's
    /// `AttributeError`), and then the result is `None`; with [`Local::with_init`] the
    /// initialiser runs first and the result is always `Some`.
    ///
    /// ```
    /// use contexture_local::Local;
    /// use std::cell::Cell;
    /// let local = Local::with_init(|| Cell::new(4));
    /// assert_eq!(local.take(), Some(4));
    /// assert_eq!(local.take(), Some(0));
    /// ```
    pub fn take(&self) -> Option<T>
    where
        T: Default,
    {
        self.get().map(Cell::take)
    }

    /// Replaces this thread's value with `value`, returning the old one (`None`, and `value`
    /// stored, if it had none).
    ///
    /// Unlike std's `LocalKey` helpers this returns an `Option`: a `Local` made with
    /// [`Local::new`] has no value on a thread until one is stored there (Python's
    /// `AttributeError`), and then the result is `None`; with [`Local::with_init`] the
    /// initialiser runs first and the result is always `Some`.
    ///
    /// ```
    /// use contexture_local::Local;
    /// use std::cell::Cell;
    /// let local: Local<Cell<i32>> = Local::new();
    /// assert_eq!(local.replace(1), None);
    /// assert_eq!(local.replace(2), Some(1));
    /// ```
    pub fn replace(&self, value: T) -> Option<T> {
        match self.get() {
            Some(cell) => Some(cell.replace(value)),
            None => {
                self.insert(Cell::new(value));
                None
            }
        }
    }
}

impl<T: Send + 'static, F: Fn() -> RefCell<T>> Local<RefCell<T>, F> {
    /// Borrows this thread's value; `None` (and `f` not called) if it has none.
    ///
    /// Unlike std's `LocalKey` helpers this returns an `Option`: a `Local` made with
    /// [`Local::new`] has no value on a thread until one is stored there (Python's
    /// `AttributeError`), and then the result is `None`; with [`Local::with_init`] the
    /// initialiser runs first and the result is always `Some`.
    ///
    /// Panics like [`RefCell::borrow`] if the value is mutably borrowed.
    ///
    /// ```
    /// use contexture_local::Local;
    /// use std::cell::RefCell;
    /// static LOG: Local<RefCell<Vec<&str>>> = Local::with_init(|| RefCell::new(vec!["start"]));
    /// assert_eq!(LOG.with_borrow(|log| log.len()), Some(1));
    /// ```
    pub fn with_borrow<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.get().map(|cell| f(&cell.borrow()))
    }

    /// Mutably borrows this thread's value; `None` (and `f` not called) if it has none.
    ///
    /// Unlike std's `LocalKey` helpers this returns an `Option`: a `Local` made with
    /// [`Local::new`] has no value on a thread until one is stored there (Python's
    /// `AttributeError`), and then the result is `None`; with [`Local::with_init`] the
    /// initialiser runs first and the result is always `Some`.
    ///
    /// Panics like [`RefCell::borrow_mut`] if the value is already borrowed.
    ///
    /// ```
    /// use contexture_local::Local;
    /// use std::cell::RefCell;
    /// let log = Local::with_init(|| RefCell::new(Vec::new()));
    /// log.with_borrow_mut(|log| log.push("event"));
    /// assert_eq!(log.with_borrow(|log| log.clone()), Some(vec!["event"]));
    /// ```
    pub fn with_borrow_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.get().map(|cell| f(&mut cell.borrow_mut()))
    }

    /// Stores `value` as this thread's value; the initialiser does not run.
    ///
    /// ```
    /// use contexture_local::Local;
    /// use std::cell::RefCell;
    /// let name: Local<RefCell<String>> = Local::new();
    /// name.set(String::from("worker"));
    /// assert_eq!(name.with_borrow(|n| n.clone()).as_deref(), Some("worker"));
    /// ```
    pub fn set(&self, value: T) {
        match self.get_present() {
            Some(cell) => drop(cell.replace(value)),
            None => {
                self.insert(RefCell::new(value));
            }
        }
    }

    /// Takes this thread's value, leaving `T::default()`; `None` if it has none.
    ///
    /// Unlike std's `LocalKey` helpers this returns an `Option`: a `Local` made with
    /// [`Local::new`] has no value on a thread until one is stored there (Python's
    /// `AttributeError`), and then the result is `None`; with [`Local::with_init`] the
    /// initialiser runs first and the result is always `Some`.
    ///
    /// ```
    /// use contexture_local::Local;
    /// use std::cell::RefCell;
    /// let local = Local::with_init(|| RefCell::new(vec![1]));
    /// assert_eq!(local.take(), Some(vec![1]));
    /// assert_eq!(local.take(), Some(vec![]));
    /// ```
    pub fn take(&self) -> Option<T>
    where
        T: Default,
    {
        self.get().map(RefCell::take)
    }

    /// Replaces this thread's value with `value`, returning the old one (`None`, and `value`
    /// stored, if it had none).
    ///
    /// Unlike std's `LocalKey` helpers this returns an `Option`: a `Local` made with
    /// [`Local::new`] has no value on a thread until one is stored there (Python's
    /// `AttributeError`), and then the result is `None`; with [`Local::with_init`] the
    /// initialiser runs first and the result is always `Some`.
    ///
    /// ```
    /// use contexture_local::Local;
    /// use std::cell::RefCell;
    /// let local: Local<RefCell<&str>> = Local::new();
    /// assert_eq!(local.replace("a"), None);
    /// assert_eq!(local.replace("b"), Some("a"));
    /// ```
    pub fn replace(&self, value: T) -> Option<T> {
        match self.get() {
            Some(cell) => Some(cell.replace(value)),
            None => {
                self.insert(RefCell::new(value));
                None
            }
        }
    }
}
