//! The error types: one per operation family, `Display` lower-case, `Debug` never requiring
//! `T: Debug`.

use std::fmt;

use crate::Token;

/// [`ContextVar::try_get`](crate::ContextVar::try_get) found no value and no default
/// (Python's `LookupError`).
///
/// ```
/// use contexture_ctxvar::{ContextVar, LookupError};
///
/// static USER: ContextVar<String> = ContextVar::new("user");
/// assert_eq!(USER.try_get(), Err(LookupError { name: "user" }));
/// assert_eq!(LookupError { name: "user" }.to_string(), "context variable `user` has no value");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("context variable `{name}` has no value")]
pub struct LookupError {
    /// The name of the variable that was looked up.
    pub name: &'static str,
}

/// [`Context::run`](crate::Context::run) refused to enter a context that is already entered,
/// on this thread or another one (Python's `RuntimeError: cannot enter context`).
///
/// ```
/// use contexture_ctxvar::{AlreadyEntered, Context};
///
/// let ctx = Context::new();
/// let nested = ctx.run(|| ctx.run(|| ()));
/// assert_eq!(nested, Ok(Err(AlreadyEntered)));
/// assert_eq!(AlreadyEntered.to_string(), "context is already entered");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("context is already entered")]
pub struct AlreadyEntered;

/// [`ContextVar::reset`](crate::ContextVar::reset) refused a token; the token comes back
/// inside the error ([`ResetError::into_token`]), so it can still be used where it belongs.
///
/// (Python's third case, "token has already been used", cannot happen: `reset` consumes the
/// token.)
///
/// ```
/// use contexture_ctxvar::{ContextVar, ResetError};
///
/// static A: ContextVar<u32> = ContextVar::new("a");
/// static B: ContextVar<u32> = ContextVar::new("b");
/// let token = A.set(1);
/// let err = B.reset(token).unwrap_err();
/// assert!(matches!(err, ResetError::WrongVar(_)));
/// assert_eq!(err.to_string(), "token was created by another context variable (`a`)");
/// A.reset(err.into_token()).unwrap();
/// assert_eq!(A.get(), None);
/// ```
#[derive(thiserror::Error)]
pub enum ResetError<T> {
    /// The token was created by another [`ContextVar`](crate::ContextVar).
    #[error("token was created by another context variable (`{}`)", .0.name())]
    WrongVar(Token<T>),
    /// The token was created in another [`Context`](crate::Context) than the current one.
    #[error("token was created in another context")]
    WrongContext(Token<T>),
}

impl<T> ResetError<T> {
    /// Gives the refused token back.
    ///
    /// ```
    /// use contexture_ctxvar::{Context, ContextVar};
    ///
    /// static V: ContextVar<u32> = ContextVar::new("v");
    /// let ctx = Context::new();
    /// let token = ctx.run(|| V.set(1)).unwrap();
    /// let err = V.reset(token).unwrap_err(); // not inside `ctx`
    /// ctx.run(|| V.reset(err.into_token())).unwrap().unwrap();
    /// assert!(!ctx.contains(&V));
    /// ```
    pub fn into_token(self) -> Token<T> {
        match self {
            ResetError::WrongVar(token) | ResetError::WrongContext(token) => token,
        }
    }
}

impl<T> fmt::Debug for ResetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (variant, token) = match self {
            ResetError::WrongVar(token) => ("WrongVar", token),
            ResetError::WrongContext(token) => ("WrongContext", token),
        };
        f.debug_tuple(variant).field(token).finish()
    }
}
