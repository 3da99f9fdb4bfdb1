//! `ContextVar<T>`, its `Token<T>` and the `ScopedSet` guard: reading and writing the
//! current context.

use std::fmt;
use std::marker::PhantomData;

use crate::current;
use crate::error::{LookupError, ResetError};
use crate::loom::{Arc, IdCounter, Ordering};
use crate::map::Value;

/// A context variable: a key whose value depends on the current [`Context`](crate::Context)
/// (Python's `contextvars.ContextVar`).
///
/// Lookup order: the value bound in the current context, else the var's default, else
/// nothing. A default is never stored in a context. Usually a `static`.
///
/// A var's identity is not its address: it takes a unique id on first use, so moving a var
/// keeps its values, and a var created after another was dropped never sees the dropped
/// var's values.
///
/// ```
/// use contexture_ctxvar::ContextVar;
///
/// static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
/// static LEVEL: ContextVar<&str> = ContextVar::with_default("level", "info");
///
/// assert_eq!(REQUEST_ID.get(), None);
/// assert_eq!(LEVEL.get(), Some("info"));
/// let token = REQUEST_ID.set(7);
/// assert_eq!(REQUEST_ID.get(), Some(7));
/// REQUEST_ID.reset(token).unwrap();
/// assert_eq!(REQUEST_ID.get(), None);
/// ```
///
/// `get` clones the value while holding this thread's context: a `Clone` impl that sets a
/// context variable or enters a context panics (use [`ContextVar::with`] for such types).
pub struct ContextVar<T> {
    /// 0 until first use, then a process-unique id (never reused).
    id: IdCounter,
    name: &'static str,
    default: Option<T>,
}

impl<T: Send + Sync + 'static> ContextVar<T> {
    /// A var without a default.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static USER: ContextVar<String> = ContextVar::new("user");
    /// assert_eq!(USER.get(), None);
    /// ```
    pub const fn new(name: &'static str) -> ContextVar<T> {
        ContextVar {
            id: IdCounter::new(0),
            name,
            default: None,
        }
    }

    /// A var whose `get` gives `default` when the current context has no value for it.
    ///
    /// ```
    /// use contexture_ctxvar::{copy_context, ContextVar};
    ///
    /// static DEPTH: ContextVar<u32> = ContextVar::with_default("depth", 0);
    /// assert_eq!(DEPTH.get(), Some(0));
    /// assert!(!copy_context().contains(&DEPTH)); // the default is not stored
    /// ```
    pub const fn with_default(name: &'static str, default: T) -> ContextVar<T> {
        ContextVar {
            id: IdCounter::new(0),
            name,
            default: Some(default),
        }
    }

    /// The name given at construction.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// assert_eq!(V.name(), "v");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The default given at construction, if any.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<u8> = ContextVar::with_default("v", 3);
    /// assert_eq!(V.default(), Some(&3));
    /// ```
    pub const fn default(&self) -> Option<&T> {
        self.default.as_ref()
    }

    /// The id if this var was ever used (0 otherwise: then no context can hold a value).
    #[inline]
    pub(crate) fn id_if_used(&self) -> u64 {
        // Relaxed: the id is a plain number; no data is published with it.
        self.id.load(Ordering::Relaxed)
    }

    /// This var's id, assigned on first use.
    pub(crate) fn id(&self) -> u64 {
        let id = self.id_if_used();
        if id != 0 {
            return id;
        }
        let fresh = current::fresh_id();
        // Relaxed: see `id_if_used`. Whoever wins, every thread then reads the same id.
        match self
            .id
            .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh,
            Err(existing) => existing,
        }
    }

    /// The current context's value, else the default, else `None` (Python's `var.get()`).
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<String> = ContextVar::new("v");
    /// V.set("hello".to_string());
    /// assert_eq!(V.get().as_deref(), Some("hello"));
    /// ```
    #[inline]
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        let id = self.id_if_used();
        if id != 0 {
            if let Some(Some(value)) = current::with(|s| s.lookup::<T>(id).cloned()) {
                return Some(value);
            }
        }
        self.default.clone()
    }

    /// Like [`get`](ContextVar::get), but "no value" is a [`LookupError`].
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// assert!(V.try_get().is_err());
    /// V.set(1);
    /// assert_eq!(V.try_get(), Ok(1));
    /// ```
    pub fn try_get(&self) -> Result<T, LookupError>
    where
        T: Clone,
    {
        self.get().ok_or(LookupError { name: self.name })
    }

    /// The current context's value, else `default` — which wins over the var's own default
    /// (Python's `var.get(default)`).
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<u8> = ContextVar::with_default("v", 1);
    /// assert_eq!(V.get_or(2), 2);
    /// V.set(3);
    /// assert_eq!(V.get_or(2), 3);
    /// ```
    pub fn get_or(&self, default: T) -> T
    where
        T: Clone,
    {
        let id = self.id_if_used();
        if id != 0 {
            if let Some(Some(value)) = current::with(|s| s.lookup::<T>(id).cloned()) {
                return value;
            }
        }
        default
    }

    /// Calls `f` with a borrow of the current value (context, else default), without
    /// cloning `T`. `f` may set vars and enter contexts: the value it sees stays alive.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static NAMES: ContextVar<Vec<String>> = ContextVar::new("names");
    /// NAMES.set(vec!["a".into(), "b".into()]);
    /// assert_eq!(NAMES.with(|names| names.map_or(0, Vec::len)), 2);
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let id = self.id_if_used();
        let held: Option<Value> = if id == 0 {
            None
        } else {
            current::with(|s| s.map().get(id).map(|e| e.value.clone())).flatten()
        };
        match held.as_ref().and_then(|v| v.downcast_ref::<T>()) {
            Some(value) => f(Some(value)),
            None => f(self.default.as_ref()),
        }
    }

    /// Binds `value` in the current context only (a new version of its map: copies taken
    /// earlier are untouched). The token undoes it with [`reset`](ContextVar::reset).
    ///
    /// ```
    /// use contexture_ctxvar::{copy_context, ContextVar};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(1);
    /// let before = copy_context();
    /// let token = V.set(2);
    /// assert_eq!(token.old_value(), Some(&1));
    /// assert_eq!(before.get(&V), Some(1));
    /// ```
    ///
    /// `set` also works while the thread's thread-locals are being destroyed (from a
    /// value's `Drop` at thread exit, or another thread-local's destructor): the next `get`
    /// sees the value, and it is dropped before the thread is gone.
    ///
    /// # Panics
    ///
    /// When called from a `Clone` impl run by [`get`](ContextVar::get).
    pub fn set(&self, value: T) -> Token<T> {
        let id = self.id();
        let name = self.name;
        // `None` only under loom (whose thread-locals can be destroyed; ours never are):
        // the value is dropped unused and the token's context id 0 makes `reset` a no-op.
        // (The `Arc` is made at the store: built earlier, it went through the stack and
        // stalled store forwarding, ~5 ns a set.)
        let (ctx_id, old) = current::try_with_mut(move |s| {
            let ctx_id = s.ctx_id_or_assign();
            // SAFETY: var `id` is this var, whose values are `T`s.
            if let Some(slot) = unsafe { s.rebind::<T>(id) } {
                // SAFETY: `rebind` hands out the contents of the var's current value while
                // nothing else can hold or read it (its `Arc` is this map's alone and the
                // state is mutably borrowed); a raw write, so that pointers to it that the
                // lookup cache keeps stay valid.
                return (
                    ctx_id,
                    Old::Owned(unsafe { std::ptr::replace(slot, value) }),
                );
            }
            let old = s.insert(id, name, move || -> Value { Arc::new(value) }, true);
            (ctx_id, old.map_or(Old::Missing, Old::Shared))
        })
        .unwrap_or((0, Old::Missing));
        Token {
            var_id: id,
            ctx_id,
            name: self.name,
            old,
            _type: PhantomData,
        }
    }

    /// Restores the value this var had before the `set` that made `token` (or unbinds it if
    /// it had none). Resets need not come in reverse order of the sets.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<&str> = ContextVar::new("v");
    /// let t1 = V.set("hello");
    /// let t2 = V.set("world");
    /// V.reset(t2).unwrap();
    /// assert_eq!(V.get(), Some("hello"));
    /// V.reset(t1).unwrap();
    /// assert_eq!(V.get(), None); // unbound, not bound to a "missing" marker
    /// ```
    ///
    /// # Errors
    ///
    /// [`ResetError::WrongVar`] when `token` came from another var,
    /// [`ResetError::WrongContext`] when it was made in another context than the current
    /// one; the token comes back inside.
    pub fn reset(&self, token: Token<T>) -> Result<(), ResetError<T>> {
        let id = self.id_if_used();
        if id == 0 || token.var_id != id {
            return Err(ResetError::WrongVar(token));
        }
        if token.ctx_id == 0 {
            return Ok(()); // loom only: made while the thread-local was destroyed
        }
        let displaced = current::try_with_mut(|s| {
            // The second test: the thread's own context after its exit cleanup drained it.
            if s.ctx_id() != token.ctx_id && !s.matches_torn(token.ctx_id) {
                return Err(token);
            }
            Ok(match token.old {
                Old::Shared(value) => s.insert(id, self.name, || value, false),
                Old::Owned(value) => {
                    s.insert(id, self.name, move || -> Value { Arc::new(value) }, true)
                }
                Old::Missing => s.remove(id),
            })
        })
        .unwrap_or(Ok(None))
        .map_err(ResetError::WrongContext)?;
        // Outside the borrow: a value's `Drop` may use context vars.
        current::drop_displaced(displaced);
        Ok(())
    }

    /// Binds `value` until the guard is dropped, then resets (Python 3.14's
    /// `with var.set(value):`).
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<u8> = ContextVar::with_default("v", 0);
    /// {
    ///     let _guard = V.set_scoped(5);
    ///     assert_eq!(V.get(), Some(5));
    /// }
    /// assert_eq!(V.get(), Some(0));
    /// ```
    ///
    /// # Panics
    ///
    /// The guard's drop panics (unless already panicking) if it happens in another context
    /// than the one the value was set in — possible only by moving the guard into the
    /// closure of a [`Context::run`](crate::Context::run), `run_mut` or
    /// [`Snapshot::run`](crate::Snapshot::run); Python raises `ValueError` there.
    pub fn set_scoped(&self, value: T) -> ScopedSet<'_, T> {
        ScopedSet {
            var: self,
            token: Some(self.set(value)),
            _not_send: PhantomData,
        }
    }
}

impl<T> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextVar")
            .field("name", &self.name)
            .field("has_default", &self.default.is_some())
            .finish_non_exhaustive()
    }
}

/// The receipt of a [`ContextVar::set`]: what the var held before, to restore it with
/// [`ContextVar::reset`]. Consumed by `reset`, so it cannot be used twice.
///
/// ```
/// use contexture_ctxvar::ContextVar;
///
/// static V: ContextVar<&str> = ContextVar::new("debug test");
/// let t1 = V.set("hello");
/// let t2 = V.set("world");
/// assert_eq!(t1.old_value(), None); // Python: Token.MISSING
/// assert_eq!(t2.old_value(), Some(&"hello"));
/// assert_eq!(t2.name(), "debug test");
/// ```
pub struct Token<T> {
    var_id: u64,
    ctx_id: u64,
    name: &'static str,
    old: Old<T>,
    _type: PhantomData<fn() -> T>,
}

/// What a var held before the `set` that made a token.
enum Old<T> {
    /// Unbound (Python's `Token.MISSING`).
    Missing,
    /// The value's `Arc`, as the map held it.
    Shared(Value),
    /// The value itself, moved out of an `Arc` that the `set` reused in place.
    Owned(T),
}

impl<T: 'static> Token<T> {
    /// The value before the `set`; `None` when the var was unbound (Python's
    /// `Token.MISSING`). The var's default does not count.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<u8> = ContextVar::with_default("v", 9);
    /// assert_eq!(V.set(1).old_value(), None);
    /// ```
    pub fn old_value(&self) -> Option<&T> {
        match &self.old {
            Old::Missing => None,
            Old::Shared(value) => value.downcast_ref::<T>(),
            Old::Owned(value) => Some(value),
        }
    }
}

impl<T> Token<T> {
    /// The name of the var that made this token.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// assert_eq!(V.set(1).name(), "v");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<T> fmt::Debug for Token<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("var", &self.name)
            .field(
                "old_value",
                &if matches!(self.old, Old::Missing) {
                    "MISSING"
                } else {
                    "<value>"
                },
            )
            .finish()
    }
}

/// Guard from [`ContextVar::set_scoped`]: resets the var when dropped.
///
/// ```
/// use contexture_ctxvar::ContextVar;
///
/// static V: ContextVar<u8> = ContextVar::new("v");
/// let guard = V.set_scoped(1);
/// assert_eq!(V.get(), Some(1));
/// drop(guard);
/// assert_eq!(V.get(), None);
/// ```
#[must_use = "the value is reset as soon as the guard is dropped"]
pub struct ScopedSet<'a, T: Send + Sync + 'static> {
    var: &'a ContextVar<T>,
    token: Option<Token<T>>,
    /// The reset must happen on the thread (and in the context) of the set.
    _not_send: PhantomData<*const ()>,
}

impl<T: Send + Sync + 'static> Drop for ScopedSet<'_, T> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            if let Err(err) = self.var.reset(token) {
                if !std::thread::panicking() {
                    panic!(
                        "`set_scoped` guard of `{}` dropped badly: {err}",
                        self.var.name
                    );
                }
            }
        }
    }
}

impl<T: Send + Sync + 'static> fmt::Debug for ScopedSet<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedSet")
            .field("var", &self.var.name)
            .finish_non_exhaustive()
    }
}
