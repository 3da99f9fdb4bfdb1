//! Envelopes: a message with its sender's context (and, for an ask, its reply slot),
//! type-erased so that one mailbox carries every message type the actor handles.

use std::any::{Any, TypeId};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, ManuallyDrop, MaybeUninit};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use contexture_ctxvar::hook::Extensions;
use contexture_ctxvar::{OwnedContext, Snapshot};
use tokio::sync::oneshot;

use crate::actor::Handler;
use crate::ctx::Ctx;
use crate::error::payload_message;
use crate::exit::ExitReason;

/// A handler's future, erased, borrowing the actor and its `Ctx` while it runs.
type ErasedFuture<'a> = dyn Future<Output = ()> + Send + 'a;

/// Where an ask's reply goes: the handler's reply, or why there is none.
pub(crate) type ReplyTx<R> = oneshot::Sender<Result<R, ExitReason>>;

/// A message with its context (and reply slot), of one concrete type; [`Env`] erases it.
pub(crate) trait Envelope<A>: Send + Sized + 'static {
    /// Whether this is an ask (for the exit report's counts).
    const IS_ASK: bool;

    /// The handler's future, kept in `slot` (boxed when it does not fit). No user code runs
    /// here: the handler is called on the future's first poll, inside a fresh context made
    /// from the sender's values.
    fn handling<'a>(
        self,
        actor: &'a mut A,
        ctx: &'a mut Ctx<A>,
        slot: &'a mut Slot,
    ) -> Handling<'a>;

    /// The message will not be handled (kill, failure, shutdown): an ask is answered with
    /// `reason`. Drops the message (its `Drop` may panic: the caller catches that).
    fn fail(self, reason: &ExitReason);
}

/// Room for an envelope inside the mailbox's own slot: four words.
type Storage = MaybeUninit<[usize; 4]>;

/// Whether an `E` is kept in the slot itself (else the slot holds a `Box<E>`).
const fn fits<E>() -> bool {
    size_of::<E>() <= size_of::<Storage>() && align_of::<E>() <= align_of::<Storage>()
}

/// What a mailbox carries: any [`Envelope`] of the actor, type-erased.
///
/// A small envelope (a tell of a message up to three words, an ask of one up to two) lives
/// in the mailbox's slot, so sending it allocates nothing: measured, the `Box` it replaces
/// cost 39 % of a raw tokio channel's time per told message, most of it in `free` on the
/// actor's thread of memory allocated on the sender's (glibc's arenas then contend). A
/// larger envelope is boxed and the box kept in the slot.
pub(crate) struct Env<A> {
    /// Points to a constant (`new`'s inline `const`): valid for the whole program. A raw
    /// pointer, because `&'static VTable<A>` would demand `A: 'static` of every type that
    /// carries an `Env`.
    vtable: *const VTable<A>,
    storage: Storage,
    /// Not `Sync` (the storage may hold a `!Sync` message); `Send` is implemented below.
    _not_sync: PhantomData<*mut ()>,
}

// SAFETY: an `Env` only ever holds an `E: Envelope<A>`, and `Envelope` requires `Send`.
unsafe impl<A> Send for Env<A> {}

/// The operations of one envelope type, for its erased form.
struct VTable<A> {
    type_id: fn() -> TypeId,
    is_ask: bool,
    handling:
        for<'a> unsafe fn(*mut Storage, &'a mut A, &'a mut Ctx<A>, &'a mut Slot) -> Handling<'a>,
    fail: unsafe fn(*mut Storage, &ExitReason),
    drop: unsafe fn(*mut Storage),
}

impl<A> Env<A> {
    /// Erases `envelope`, in the slot when it fits.
    #[inline]
    pub(crate) fn new<E: Envelope<A>>(envelope: E) -> Env<A> {
        let mut storage = Storage::uninit();
        if fits::<E>() {
            // SAFETY: `E` fits the storage's size and alignment (checked just above), and
            // the storage is ours and uninitialised.
            unsafe { storage.as_mut_ptr().cast::<E>().write(envelope) }
        } else {
            // SAFETY: a `Box<E>` is one pointer, which fits any storage of words.
            unsafe {
                storage
                    .as_mut_ptr()
                    .cast::<Box<E>>()
                    .write(Box::new(envelope))
            }
        }
        let vtable: &VTable<A> = const {
            &VTable {
                type_id: TypeId::of::<E>,
                is_ask: E::IS_ASK,
                handling: handling::<A, E>,
                fail: fail::<A, E>,
                drop: drop_envelope::<A, E>,
            }
        };
        Env {
            vtable,
            storage,
            _not_sync: PhantomData,
        }
    }

    #[inline]
    fn vtable(&self) -> &VTable<A> {
        // SAFETY: `vtable` points to a constant, valid for the whole program.
        unsafe { &*self.vtable }
    }

    /// Whether this is an ask.
    #[inline]
    pub(crate) fn is_ask(&self) -> bool {
        self.vtable().is_ask
    }

    /// The handler's future (see [`Envelope::handling`]).
    #[inline]
    pub(crate) fn handling<'a>(
        self,
        actor: &'a mut A,
        ctx: &'a mut Ctx<A>,
        slot: &'a mut Slot,
    ) -> Handling<'a> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the storage holds the envelope `new` wrote for this vtable, not taken yet;
        // `ManuallyDrop` keeps our `Drop` from dropping it again.
        unsafe { (this.vtable().handling)(&mut this.storage, actor, ctx, slot) }
    }

    /// Fails the envelope (see [`Envelope::fail`]).
    pub(crate) fn fail(self, reason: &ExitReason) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: as in `handle`.
        unsafe { (this.vtable().fail)(&mut this.storage, reason) }
    }

    /// The envelope back as an `E`, if it is one (to hand a refused message back).
    pub(crate) fn downcast<E: Envelope<A>>(self) -> Result<E, Env<A>> {
        if (self.vtable().type_id)() != TypeId::of::<E>() {
            return Err(self);
        }
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the type id says the storage holds an `E` (written by `new::<E>`), not
        // taken yet; `ManuallyDrop` keeps our `Drop` from dropping it again.
        Ok(unsafe { take::<E>(&mut this.storage) })
    }
}

impl<A> Drop for Env<A> {
    fn drop(&mut self) {
        // SAFETY: the storage holds the envelope `new` wrote for this vtable: the consuming
        // methods wrap `self` in `ManuallyDrop`, so a live `Env` was never taken from.
        unsafe { (self.vtable().drop)(&mut self.storage) }
    }
}

/// Bytes of room for a handler's future in the actor's task ([`Slot`]).
const SLOT_BYTES: usize = 384;

/// Room in the actor's task for the future of the handler that runs, reused message after
/// message, so that handling a message allocates nothing when its future fits (measured: the
/// `Box` per message was 12 % of a told message's instructions). A larger or more aligned
/// future is boxed.
#[repr(C, align(16))]
pub(crate) struct Slot(MaybeUninit<[u8; SLOT_BYTES]>);

impl Slot {
    pub(crate) const fn new() -> Slot {
        Slot(MaybeUninit::uninit())
    }

    /// Keeps `fut` here (or in a box, when it does not fit) until the returned handle drops
    /// it; the slot stays borrowed until then.
    #[inline]
    fn place<'a, W: Future<Output = ()> + Send + 'a>(&'a mut self, fut: W) -> Handling<'a> {
        let (ptr, boxed): (*mut ErasedFuture<'a>, bool) =
            if size_of::<W>() <= SLOT_BYTES && align_of::<W>() <= align_of::<Slot>() {
                let at = self.0.as_mut_ptr().cast::<W>();
                // SAFETY: `W` fits the slot's size and alignment (checked just above); the
                // slot is borrowed mutably for `'a`, so no other future lives in it.
                unsafe { at.write(fut) };
                (at, false)
            } else {
                (Box::into_raw(Box::new(fut)), true)
            };
        Handling {
            // SAFETY: both pointers come from a reference or a `Box`: not null.
            fut: unsafe { NonNull::new_unchecked(ptr) },
            boxed,
            _slot: PhantomData,
        }
    }
}

/// A running handler's future, pinned where [`Slot::place`] put it; dropping the handle
/// drops the future there.
pub(crate) struct Handling<'a> {
    fut: NonNull<ErasedFuture<'a>>,
    /// Whether `fut` came from `Box::into_raw` (else it lives in the borrowed slot).
    boxed: bool,
    _slot: PhantomData<&'a mut Slot>,
}

// SAFETY: the future is `Send` (`place` requires it), and the handle owns it.
unsafe impl Send for Handling<'_> {}

impl Handling<'_> {
    /// Polls the handler's future.
    #[inline]
    fn poll_in_place(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the future is owned by this handle and never moved until the handle drops
        // it in place (`Drop` below): pinned. `&mut self` makes this the only access.
        unsafe { Pin::new_unchecked(self.fut.as_mut()) }.poll(cx)
    }
}

#[cfg(test)]
impl Handling<'_> {
    fn boxed_for_test(&self) -> bool {
        self.boxed
    }
}

impl Future for Handling<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_in_place(cx)
    }
}

impl Drop for Handling<'_> {
    fn drop(&mut self) {
        if self.boxed {
            // SAFETY: `fut` came from `Box::into_raw` in `place`, and is dropped only here.
            drop(unsafe { Box::from_raw(self.fut.as_ptr()) });
        } else {
            // SAFETY: `place` wrote the future into the slot, which stays borrowed (by
            // `_slot`) until this drop; it is dropped only here, and not moved before.
            unsafe { std::ptr::drop_in_place(self.fut.as_ptr()) }
        }
    }
}

/// Moves the `E` out of `storage`.
///
/// # Safety
///
/// `storage` holds an `E` written by `Env::new::<E>`, and it is never read again.
#[inline]
unsafe fn take<E>(storage: *mut Storage) -> E {
    if fits::<E>() {
        // SAFETY: per the contract, an `E` lives in the storage itself (it fits).
        unsafe { storage.cast::<E>().read() }
    } else {
        // SAFETY: per the contract, a `Box<E>` lives in the storage (`E` does not fit).
        *unsafe { storage.cast::<Box<E>>().read() }
    }
}

/// # Safety
///
/// As [`take`].
unsafe fn handling<'a, A, E: Envelope<A>>(
    storage: *mut Storage,
    actor: &'a mut A,
    ctx: &'a mut Ctx<A>,
    slot: &'a mut Slot,
) -> Handling<'a> {
    // SAFETY: forwarded from the caller.
    unsafe { take::<E>(storage) }.handling(actor, ctx, slot)
}

/// # Safety
///
/// As [`take`].
unsafe fn fail<A, E: Envelope<A>>(storage: *mut Storage, reason: &ExitReason) {
    // SAFETY: forwarded from the caller.
    unsafe { take::<E>(storage) }.fail(reason)
}

/// # Safety
///
/// As [`take`].
unsafe fn drop_envelope<A, E: Envelope<A>>(storage: *mut Storage) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { take::<E>(storage) })
}

/// A told message.
pub(crate) struct Tell<M> {
    pub(crate) msg: M,
    pub(crate) snapshot: Snapshot,
}

impl<A: Handler<M>, M: Send + 'static> Envelope<A> for Tell<M> {
    const IS_ASK: bool = false;

    #[inline]
    fn handling<'a>(
        self,
        actor: &'a mut A,
        ctx: &'a mut Ctx<A>,
        slot: &'a mut Slot,
    ) -> Handling<'a> {
        let Tell { msg, snapshot } = self;
        slot.place(Discard {
            inner: Scoped::new(snapshot, move || actor.handle(msg, ctx)),
        })
    }

    fn fail(self, _reason: &ExitReason) {}
}

impl<M: Send + 'static> Tell<M> {
    /// The message back out of an envelope this crate built as a `Tell<M>`.
    pub(crate) fn unwrap<A: Handler<M>>(env: Env<A>) -> M {
        match env.downcast::<Tell<M>>() {
            Ok(tell) => tell.msg,
            Err(_) => unreachable!("a tell's envelope is a Tell<M>"),
        }
    }
}

/// An asked message.
pub(crate) struct Ask<M, R> {
    pub(crate) msg: M,
    pub(crate) snapshot: Snapshot,
    pub(crate) reply: ReplyTx<R>,
}

impl<A: Handler<M>, M: Send + 'static> Envelope<A> for Ask<M, A::Reply> {
    const IS_ASK: bool = true;

    #[inline]
    fn handling<'a>(
        self,
        actor: &'a mut A,
        ctx: &'a mut Ctx<A>,
        slot: &'a mut Slot,
    ) -> Handling<'a> {
        let Ask {
            msg,
            snapshot,
            reply,
        } = self;
        // The handler is called (user code) in the first poll, under `Reply`'s catch: a
        // panic there still answers the asker.
        slot.place(Reply {
            inner: Scoped::new(snapshot, move || actor.handle(msg, ctx)),
            reply: Some(reply),
        })
    }

    fn fail(self, reason: &ExitReason) {
        let Ask { msg, reply, .. } = self;
        let _ = reply.send(Err(reason.clone()));
        drop(msg);
    }
}

impl<M: Send + 'static> Ask<M, ()> {
    /// The message back out of an envelope this crate built as an `Ask<M, A::Reply>`.
    pub(crate) fn unwrap<A: Handler<M>>(env: Env<A>) -> M {
        match env.downcast::<Ask<M, A::Reply>>() {
            Ok(ask) => ask.msg,
            Err(_) => unreachable!("an ask's envelope is an Ask<M, A::Reply>"),
        }
    }
}

/// Answers an asker whose handler panicked, with the panic's message.
fn answer_panic<R>(reply: ReplyTx<R>, payload: &Box<dyn Any + Send>) {
    let message = payload_message(&**payload);
    let _ = reply.send(Err(ExitReason::Panicked(message)));
}

pin_project_lite::pin_project! {
    /// A handler's future with the message's own context: made from the sender's values,
    /// entered for each poll (its writes persist across the handler's awaits), dropped with
    /// the future. The handler is called in the first poll, so that one entry of the
    /// context covers both the call and that poll (most handlers end in it).
    pub(crate) struct Scoped<M, F> {
        #[pin]
        stage: Stage<M, F>,
        context: OwnedContext,
        // What registered ctxvar hook extensions (a `tracing` span) captured at the send.
        extensions: Extensions,
    }
}

pin_project_lite::pin_project! {
    /// Where a [`Scoped`] future is: not called yet, running, or gone (its call panicked).
    #[project = StageProj]
    #[project_replace = StageOwn]
    enum Stage<M, F> {
        Make { make: M },
        Run { #[pin] fut: F },
        Gone,
    }
}

impl<M: FnOnce() -> F, F: Future> Scoped<M, F> {
    /// `make` (the handler's call) will run inside a fresh context holding `snapshot`'s
    /// values, on the first poll.
    #[inline]
    pub(crate) fn new(snapshot: Snapshot, make: M) -> Scoped<M, F> {
        Scoped {
            stage: Stage::Make { make },
            extensions: snapshot.extensions(),
            context: OwnedContext::from(snapshot),
        }
    }
}

impl<M: FnOnce() -> F, F: Future> Future for Scoped<M, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let (mut stage, context) = (this.stage, this.context);
        this.extensions.run(move || {
            context.run(move || {
                if let StageProj::Make { .. } = stage.as_mut().project() {
                    // `Gone` while the call runs: if it panics, nothing is left to poll or drop.
                    if let StageOwn::Make { make } = stage.as_mut().project_replace(Stage::Gone) {
                        let fut = make();
                        stage.set(Stage::Run { fut });
                    }
                }
                match stage.project() {
                    StageProj::Run { fut } => fut.poll(cx),
                    // The actor's loop never polls a handler again after it panicked.
                    StageProj::Make { .. } | StageProj::Gone => {
                        unreachable!("a handler polled after its call panicked")
                    }
                }
            })
        })
    }
}

pin_project_lite::pin_project! {
    /// A tell's handler, its reply dropped.
    struct Discard<M, F> {
        #[pin]
        inner: Scoped<M, F>,
    }
}

impl<M: FnOnce() -> F, F: Future> Future for Discard<M, F> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx).map(drop)
    }
}

pin_project_lite::pin_project! {
    /// An ask's handler: sends the reply, or on a panic the panic's message, then lets
    /// the panic go on to the actor's loop. Dropped before its end (a kill cut it short),
    /// it answers with the end [`ending_with`] names.
    struct Reply<M, F: Future> {
        #[pin]
        inner: Scoped<M, F>,
        reply: Option<ReplyTx<F::Output>>,
    }

    impl<M, F: Future> PinnedDrop for Reply<M, F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(reply) = this.project().reply.take() {
                if let Some(reason) = ENDING.with(|ending| ending.borrow().clone()) {
                    let _ = reply.send(Err(reason));
                }
                // Else (the runtime dropped the task) the asker sees the reply channel
                // closed: `Failed(Dropped)`.
            }
        }
    }
}

thread_local! {
    /// The end that is cutting a handler short on this thread, while its future drops.
    static ENDING: std::cell::RefCell<Option<ExitReason>> = const { std::cell::RefCell::new(None) };
}

/// Runs `drop` (of a handler's future that `reason` cut short) so that an asker waiting for
/// that handler is answered with `reason`.
pub(crate) fn ending_with<R>(reason: &ExitReason, drop: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            ENDING.with(|ending| ending.borrow_mut().take());
        }
    }
    ENDING.with(|ending| *ending.borrow_mut() = Some(reason.clone()));
    let _reset = Reset;
    drop()
}

impl<M: FnOnce() -> F, F: Future> Future for Reply<M, F> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let inner = this.inner;
        match catch_unwind(AssertUnwindSafe(move || inner.poll(cx))) {
            Ok(Poll::Ready(value)) => {
                if let Some(reply) = this.reply.take() {
                    // An asker that gave up: the reply is dropped here (its `Drop`, if it
                    // panics, is caught by the actor's loop like a handler's panic).
                    let _ = reply.send(Ok(value));
                }
                Poll::Ready(())
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                if let Some(reply) = this.reply.take() {
                    answer_panic(reply, &payload);
                }
                resume_unwind(payload)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The erased envelope's own invariants (its `unsafe`), runnable under Miri: inline
    //! and boxed storage, every way an envelope leaves (handled, failed, handed back,
    //! dropped), each dropping its message exactly once.

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::actor::Actor;
    use crate::core::Core;

    struct Dummy {
        seen: Vec<u64>,
    }
    impl Actor for Dummy {}

    /// Counts its drops.
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Fits the slot as a tell (two words).
    struct Small(u64, #[allow(dead_code, reason = "counts its drop")] Counted);
    /// Does not fit: boxed.
    struct Big(
        [u64; 8],
        #[allow(dead_code, reason = "counts its drop")] Counted,
    );

    impl Handler<Small> for Dummy {
        type Reply = u64;
        async fn handle(&mut self, Small(n, _): Small, _: &mut Ctx<Self>) -> u64 {
            self.seen.push(n);
            n
        }
    }
    impl Handler<Big> for Dummy {
        type Reply = u64;
        async fn handle(&mut self, Big(n, _): Big, _: &mut Ctx<Self>) -> u64 {
            self.seen.push(n[7]);
            n[7]
        }
    }

    fn tell<M>(msg: M) -> Tell<M> {
        Tell {
            msg,
            snapshot: Snapshot::default(),
        }
    }

    #[test]
    fn small_envelopes_live_in_the_slot_and_big_ones_in_a_box() {
        assert!(fits::<Tell<Small>>());
        assert!(!fits::<Tell<Big>>());
        let (reply, _rx) = oneshot::channel::<Result<u64, ExitReason>>();
        let ask = Ask {
            msg: 1u64,
            snapshot: Snapshot::default(),
            reply,
        };
        assert!(size_of_val(&ask) <= size_of::<Storage>());
    }

    #[test]
    fn dropped_envelopes_drop_their_message_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        drop(Env::<Dummy>::new(tell(Small(1, Counted(drops.clone())))));
        drop(Env::<Dummy>::new(tell(Big([2; 8], Counted(drops.clone())))));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn downcast_hands_the_message_back_or_keeps_the_envelope() {
        let drops = Arc::new(AtomicUsize::new(0));
        for env in [
            Env::<Dummy>::new(tell(Small(3, Counted(drops.clone())))),
            Env::<Dummy>::new(tell(Big([3; 8], Counted(drops.clone())))),
        ] {
            // The wrong type: the envelope comes back whole.
            let env = match env.downcast::<Ask<Small, u64>>() {
                Err(env) => env,
                Ok(_) => unreachable!(),
            };
            assert!(!env.is_ask());
            match env.downcast::<Tell<Small>>() {
                Ok(tell) => assert_eq!(tell.msg.0, 3),
                Err(env) => match env.downcast::<Tell<Big>>() {
                    Ok(tell) => assert_eq!(tell.msg.0[0], 3),
                    Err(_) => unreachable!(),
                },
            }
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_ask_answers_and_drops_its_message() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (reply, mut rx) = oneshot::channel();
        let env = Env::<Dummy>::new(Ask {
            msg: Small(4, Counted(drops.clone())),
            snapshot: Snapshot::default(),
            reply,
        });
        assert!(env.is_ask());
        env.fail(&ExitReason::Killed);
        assert_eq!(rx.try_recv().unwrap().unwrap_err(), ExitReason::Killed);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        let env = Env::<Dummy>::new(tell(Big([5; 8], Counted(drops.clone()))));
        env.fail(&ExitReason::Killed);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn handled_envelopes_reach_the_handler_and_the_asker() {
        let (rt, mut ctx) = rt_and_ctx();
        let mut actor = Dummy { seen: Vec::new() };
        let drops = Arc::new(AtomicUsize::new(0));
        let (reply, rx) = oneshot::channel();
        let envs = [
            Env::new(tell(Small(6, Counted(drops.clone())))),
            Env::new(tell(Big([7; 8], Counted(drops.clone())))),
            Env::new(Ask {
                msg: Small(8, Counted(drops.clone())),
                snapshot: Snapshot::default(),
                reply,
            }),
        ];
        let mut slot = Slot::new();
        for env in envs {
            rt.block_on(env.handling(&mut actor, &mut ctx, &mut slot));
        }
        assert_eq!(actor.seen, [6, 7, 8]);
        assert_eq!(rt.block_on(rx).unwrap().unwrap(), 8);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }

    /// Waits for one wake-up (a pending poll) while holding `N` bytes across it.
    struct Pending<const N: usize>(u64, Counted);

    impl<const N: usize> Handler<Pending<N>> for Dummy {
        type Reply = u64;
        async fn handle(&mut self, Pending(n, counted): Pending<N>, _: &mut Ctx<Self>) -> u64 {
            let held = [n as u8; N];
            tokio::task::yield_now().await;
            self.seen.push(u64::from(held[N - 1]));
            drop(counted);
            n
        }
    }

    /// Panics in its handler's poll, or (as the message's drop) after it.
    struct Boom {
        in_poll: bool,
    }
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("drop");
        }
    }
    impl Handler<Boom> for Dummy {
        type Reply = ();
        async fn handle(&mut self, Boom { in_poll }: Boom, _: &mut Ctx<Self>) {
            let guard = PanicsOnDrop;
            tokio::task::yield_now().await;
            if in_poll {
                std::mem::forget(guard);
                panic!("poll");
            }
        }
    }

    /// A current-thread runtime and a `Ctx` of a dummy actor on it.
    fn rt_and_ctx() -> (tokio::runtime::Runtime, Ctx<Dummy>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (core, _sys) = Core::new(None);
        let ctx = Ctx::new(
            core,
            std::sync::Weak::new(),
            Snapshot::default(),
            rt.handle().clone(),
            0,
        );
        (rt, ctx)
    }

    #[test]
    fn pending_futures_stay_in_place_in_the_slot_or_a_box_and_the_slot_is_reused() {
        let (rt, mut ctx) = rt_and_ctx();
        let mut actor = Dummy { seen: Vec::new() };
        let drops = Arc::new(AtomicUsize::new(0));
        let mut slot = Slot::new();
        for n in 1..=3 {
            let (reply, rx) = oneshot::channel();
            // Fits the slot.
            let small = Env::new(tell(Pending::<8>(n, Counted(drops.clone()))));
            assert!(!small
                .handling(&mut actor, &mut ctx, &mut slot)
                .boxed_for_test());
            let small = Env::new(tell(Pending::<8>(n, Counted(drops.clone()))));
            rt.block_on(small.handling(&mut actor, &mut ctx, &mut slot));
            // Holds more than the slot's room across its await: boxed.
            let big = Env::new(Ask {
                msg: Pending::<{ SLOT_BYTES * 2 }>(n + 10, Counted(drops.clone())),
                snapshot: Snapshot::default(),
                reply,
            });
            let handling = big.handling(&mut actor, &mut ctx, &mut slot);
            assert!(handling.boxed_for_test());
            rt.block_on(handling);
            assert_eq!(rt.block_on(rx).unwrap().unwrap(), n + 10);
        }
        assert_eq!(actor.seen, [1, 11, 2, 12, 3, 13]);
        // The first of each round was dropped before its first poll.
        assert_eq!(drops.load(Ordering::SeqCst), 9);
    }

    #[test]
    fn panics_in_a_poll_or_a_drop_leave_the_slot_reusable() {
        let (rt, mut ctx) = rt_and_ctx();
        let mut actor = Dummy { seen: Vec::new() };
        let mut slot = Slot::new();
        // A panic in the poll: caught around the poll, then the future is dropped apart.
        let mut handling =
            Env::new(tell(Boom { in_poll: true })).handling(&mut actor, &mut ctx, &mut slot);
        let polled = catch_unwind(AssertUnwindSafe(|| rt.block_on(&mut handling)));
        assert!(polled.is_err());
        drop(handling);
        // A panic in the drop of a pending future: caught around the drop.
        let mut handling =
            Env::new(tell(Boom { in_poll: false })).handling(&mut actor, &mut ctx, &mut slot);
        let waker = std::task::Waker::noop();
        assert!(Pin::new(&mut handling)
            .poll(&mut Context::from_waker(waker))
            .is_pending());
        assert!(catch_unwind(AssertUnwindSafe(move || drop(handling))).is_err());
        // The slot is free again.
        let drops = Arc::new(AtomicUsize::new(0));
        rt.block_on(
            Env::new(tell(Small(5, Counted(drops.clone()))))
                .handling(&mut actor, &mut ctx, &mut slot),
        );
        assert_eq!(actor.seen, [5]);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}
