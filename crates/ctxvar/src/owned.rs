//! `OwnedContext`: the context of one piece of work that runs in steps (the polls of a
//! future, an actor message's handler), held by that work alone.

use std::fmt;

use crate::current::{self, Entered, Here};
use crate::map::Map;
use crate::snapshot::Snapshot;
use crate::ContextVar;

/// A context that only its owner can enter or read: the values of a [`Snapshot`] plus what
/// the work running in it set, kept from one [`run`](OwnedContext::run) to the next, with
/// an identity of its own so that a token made in one run can be reset in a later one (an
/// asyncio task's context across its awaits).
///
/// It is what a [`Context`](crate::Context) entered with
/// [`run_mut`](crate::Context::run_mut) is, without what lets other threads read a
/// `Context` while it is entered (the entered flag, the published version): two words, no
/// atomic operation to make, enter, leave or drop. Use it for work that carries its own
/// context and never shares it: a future polled in steps, a message handled over several
/// polls. What it holds is dropped with it (a value's panicking `Drop` does not stop the
/// others; the first panic is resumed afterwards).
///
/// ```
/// use contexture_ctxvar::{ContextVar, OwnedContext};
///
/// static V: ContextVar<u32> = ContextVar::new("v");
/// V.set(1);
/// let mut work = OwnedContext::capture();
/// V.set(2); // after the capture: the work does not see it
/// let token = work.run(|| V.set(V.get().unwrap() + 10)); // step one
/// assert_eq!(work.run(|| V.get()), Some(11)); // step two sees step one's write
/// work.run(|| V.reset(token)).unwrap(); // a token of an earlier step
/// assert_eq!((work.get(&V), V.get()), (Some(1), Some(2)));
/// ```
#[derive(Default)]
pub struct OwnedContext {
    map: Map,
    /// 0 until a token is made inside (the first `set` gives the context an id, as it does
    /// for a thread's own context); untagged, so entering another `Context` inside does
    /// not record this one for readers (nobody else can read it).
    id: u64,
}

/// Like [`Context`](crate::Context): a panic inside [`OwnedContext::run`] leaves it
/// consistent (what was set before the panic stays).
impl std::panic::UnwindSafe for OwnedContext {}
impl std::panic::RefUnwindSafe for OwnedContext {}

impl From<Snapshot> for OwnedContext {
    /// A context holding the snapshot's values, in O(1).
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, OwnedContext, Snapshot};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(4);
    /// let work = OwnedContext::from(Snapshot::capture());
    /// assert_eq!(work.get(&V), Some(4));
    /// ```
    #[inline]
    fn from(snapshot: Snapshot) -> OwnedContext {
        OwnedContext {
            map: snapshot.into_map(),
            id: 0,
        }
    }
}

impl OwnedContext {
    /// An empty context.
    ///
    /// ```
    /// use contexture_ctxvar::OwnedContext;
    ///
    /// assert!(OwnedContext::new().is_empty());
    /// ```
    pub fn new() -> OwnedContext {
        OwnedContext::default()
    }

    /// A copy of this thread's current context's values, in O(1) (without the
    /// [`hook`](crate::hook) extensions: capture a [`Snapshot`] for those).
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, OwnedContext};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// V.set(1);
    /// assert_eq!(OwnedContext::capture().get(&V), Some(1));
    /// ```
    pub fn capture() -> OwnedContext {
        OwnedContext {
            map: current::with(current::State::share_map).unwrap_or_default(),
            id: 0,
        }
    }

    /// Runs `f` on this thread with this context current; returns what `f` returns. What
    /// `f` sets stays in this context for the next `run`; the previous context is current
    /// again afterwards, also when `f` panics (what it set before the panic stays here).
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, OwnedContext};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// let mut work = OwnedContext::new();
    /// work.run(|| V.set(5));
    /// assert_eq!((V.get(), work.run(|| V.get())), (None, Some(5)));
    /// ```
    ///
    /// # Panics
    ///
    /// As [`Context::run`](crate::Context::run): from a `Clone` run by
    /// [`ContextVar::get`]; a panic of `f` is resumed after the previous context is
    /// restored.
    #[inline]
    pub fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let here = current::here();
        // Borrowed before the map is taken: a refused borrow (from inside a `Clone` run by
        // `get`) panics with the map still here.
        let mut state = here.borrow_mut();
        let entered = state.enter(std::mem::take(&mut self.map), self.id);
        drop(state);
        let mut exit = Exit {
            ctx: self,
            here,
            entered,
        };
        let r = f();
        exit.leave();
        // `leave` put everything back; the guard only acts when `f` unwinds.
        std::mem::forget(exit);
        r
    }

    /// The value of `var` here; a var's default does not count.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, OwnedContext};
    ///
    /// static V: ContextVar<u8> = ContextVar::with_default("v", 1);
    /// assert_eq!(OwnedContext::new().get(&V), None);
    /// ```
    pub fn get<T: Clone + Send + Sync + 'static>(&self, var: &ContextVar<T>) -> Option<T> {
        let id = var.id_if_used();
        if id == 0 {
            return None;
        }
        self.map.get(id)?.value.downcast_ref::<T>().cloned()
    }

    /// Number of vars with a value here.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, OwnedContext};
    ///
    /// static V: ContextVar<u8> = ContextVar::new("v");
    /// let mut work = OwnedContext::new();
    /// work.run(|| V.set(1));
    /// assert_eq!(work.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no var has a value here.
    ///
    /// ```
    /// use contexture_ctxvar::OwnedContext;
    ///
    /// assert!(OwnedContext::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Names of the vars with a value here, in the order the vars were first used.
    ///
    /// ```
    /// use contexture_ctxvar::{ContextVar, OwnedContext};
    ///
    /// static A: ContextVar<u8> = ContextVar::new("a");
    /// let mut work = OwnedContext::new();
    /// work.run(|| A.set(1));
    /// assert_eq!(work.var_names(), ["a"]);
    /// ```
    pub fn var_names(&self) -> Vec<&'static str> {
        self.map.names()
    }
}

impl Drop for OwnedContext {
    /// Drops the values only this context holds, one by one: a value whose `Drop` panics
    /// does not stop the others; the first panic is resumed afterwards (swallowed while
    /// already unwinding: no abort).
    #[inline]
    fn drop(&mut self) {
        current::drop_values(std::mem::take(&mut self.map), current::Unwind::Resume);
    }
}

impl fmt::Debug for OwnedContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedContext")
            .field("vars", &self.map.names())
            .finish()
    }
}

/// Leaves an [`OwnedContext`] at the end of `run`, putting its map and id back (also when
/// `f` unwinds).
struct Exit<'a> {
    ctx: &'a mut OwnedContext,
    here: Here,
    entered: Entered,
}

impl Exit<'_> {
    #[inline(always)]
    fn leave(&mut self) {
        let (map, id) = self.here.leave_keeping_id(&mut self.entered);
        // It held the empty map since `run` took it: nothing to drop.
        std::mem::forget(std::mem::replace(&mut self.ctx.map, map));
        self.ctx.id = id;
    }
}

impl Drop for Exit<'_> {
    /// Only when `f` unwinds: the normal path calls [`Exit::leave`] and forgets the guard.
    fn drop(&mut self) {
        self.leave();
    }
}

#[cfg(all(test, not(contexture_loom)))]
mod tests {
    use super::*;
    use crate::ResetError;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    static V: ContextVar<u32> = ContextVar::new("owned-v");
    static W: ContextVar<u32> = ContextVar::new("owned-w");

    #[test]
    fn writes_persist_across_runs_and_stay_inside() {
        V.set(1);
        let mut work = OwnedContext::capture();
        work.run(|| {
            assert_eq!(V.get(), Some(1));
            V.set(2);
        });
        assert_eq!(V.get(), Some(1));
        assert_eq!(work.run(|| V.get()), Some(2));
        assert_eq!(work.get(&V), Some(2));
    }

    #[test]
    fn a_token_of_one_run_resets_in_a_later_run_but_not_outside() {
        let mut work = OwnedContext::new();
        let t1 = work.run(|| V.set(5));
        let t2 = work.run(|| W.set(6));
        // Outside: another context.
        let t2 = match W.reset(t2) {
            Err(ResetError::WrongContext(t)) => t,
            other => panic!("expected WrongContext, got {other:?}"),
        };
        work.run(|| V.reset(t1)).unwrap();
        work.run(|| W.reset(t2)).unwrap();
        assert!(work.is_empty());
    }

    #[test]
    fn two_owned_contexts_are_two_contexts() {
        let mut a = OwnedContext::new();
        let mut b = OwnedContext::new();
        let ta = a.run(|| V.set(1));
        b.run(|| V.set(2));
        assert!(matches!(
            b.run(|| V.reset(ta)),
            Err(ResetError::WrongContext(_))
        ));
        assert_eq!((a.get(&V), b.get(&V)), (Some(1), Some(2)));
    }

    #[test]
    fn a_panic_inside_restores_the_caller_and_keeps_earlier_writes() {
        V.set(7);
        let mut work = OwnedContext::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            work.run(|| {
                V.set(8);
                panic!("step");
            })
        }));
        assert!(caught.is_err());
        assert_eq!(V.get(), Some(7));
        assert_eq!(work.get(&V), Some(8));
    }

    #[test]
    fn nested_runs_of_other_contexts_inside() {
        let mut outer = OwnedContext::new();
        outer.run(|| {
            V.set(1);
            let inner = crate::copy_context();
            inner.run(|| V.set(2)).unwrap();
            let mut own = OwnedContext::capture();
            own.run(|| V.set(3));
            assert_eq!(V.get(), Some(1));
            assert_eq!((inner.get(&V), own.get(&V)), (Some(2), Some(3)));
        });
        assert_eq!(outer.get(&V), Some(1));
    }

    /// Inside a `Context` run, an `OwnedContext` entered on top: the `Context` still reads
    /// its live values on this thread; a token of the `Context` does not reset in the
    /// `OwnedContext`, nor the reverse.
    #[test]
    fn inside_a_context_run_the_context_still_reads_live_and_tokens_stay_apart() {
        let ctx = crate::Context::new();
        let mut own = OwnedContext::new();
        let own_token = own.run(|| V.set(20));
        ctx.run(|| {
            let ctx_token = V.set(10);
            let (seen, ctx_token, own_token) = own.run(|| {
                let seen = ctx.get(&V);
                let Err(ResetError::WrongContext(ctx_token)) = V.reset(ctx_token) else {
                    panic!("a token of the Context reset in the OwnedContext");
                };
                (seen, ctx_token, own_token)
            });
            assert_eq!(
                seen,
                Some(10),
                "the live value of the Context under the entry"
            );
            assert!(matches!(
                V.reset(own_token),
                Err(ResetError::WrongContext(_))
            ));
            V.reset(ctx_token).unwrap();
        })
        .unwrap();
        assert_eq!((ctx.get(&V), own.get(&V)), (None, Some(20)));
    }

    struct Counted(Arc<AtomicUsize>, bool);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
            assert!(!self.1, "drop panics");
        }
    }

    static A: ContextVar<Arc<Counted>> = ContextVar::new("owned-a");
    static B: ContextVar<Arc<Counted>> = ContextVar::new("owned-b");

    #[test]
    fn its_values_are_dropped_with_it_also_when_one_drop_panics() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut work = OwnedContext::new();
        work.run(|| {
            A.set(Arc::new(Counted(drops.clone(), true)));
            B.set(Arc::new(Counted(drops.clone(), false)));
        });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(work)));
        assert!(caught.is_err(), "the panic of a value's Drop is resumed");
        assert_eq!(drops.load(Ordering::SeqCst), 2, "both values dropped");
    }

    #[test]
    fn what_the_caller_still_shares_is_not_dropped() {
        let drops = Arc::new(AtomicUsize::new(0));
        A.set(Arc::new(Counted(drops.clone(), false)));
        drop(OwnedContext::capture());
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        assert!(A.get().is_some());
    }

    #[test]
    fn it_moves_between_threads() {
        V.set(3);
        let mut work = OwnedContext::capture();
        work.run(|| V.set(4));
        let seen = std::thread::spawn(move || (work.run(|| V.get()), V.get()))
            .join()
            .unwrap();
        assert_eq!(seen, (Some(4), None));
    }

    /// An entry refused because the thread's state is borrowed (a `Clone` run by `get`
    /// tries it) panics before anything moved: the context keeps its values.
    #[test]
    fn an_entry_refused_from_inside_a_get_keeps_the_values() {
        use std::cell::RefCell;
        thread_local! {
            static WORK: RefCell<Option<OwnedContext>> = const { RefCell::new(None) };
        }
        struct Enters;
        impl Clone for Enters {
            fn clone(&self) -> Enters {
                WORK.with(|w| w.borrow_mut().as_mut().map(|work| work.run(|| ())));
                Enters
            }
        }
        static E: ContextVar<Enters> = ContextVar::new("owned-enters");
        let mut work = OwnedContext::new();
        work.run(|| V.set(9));
        WORK.with(|w| *w.borrow_mut() = Some(work));
        let token = E.set(Enters);
        let caught = std::panic::catch_unwind(|| E.get().is_some());
        assert!(caught.is_err(), "entering while `get` clones is refused");
        E.reset(token).unwrap();
        let work = WORK.with(|w| w.borrow_mut().take()).unwrap();
        assert_eq!(work.get(&V), Some(9), "the refused entry lost nothing");
    }

    #[test]
    fn debug_names_the_vars() {
        let mut work = OwnedContext::new();
        work.run(|| V.set(1));
        assert_eq!(format!("{work:?}"), r#"OwnedContext { vars: ["owned-v"] }"#);
    }
}
