//! The async waiters of one primitive (the `*_async` faces): a FIFO of tasks, each with its
//! `Waker`, and the tickets that order tasks and parked threads of one primitive together.
//!
//! A task that must wait registers an entry (under the primitive's list lock, after
//! validating that it still has to wait); a notifier marks the oldest *waiting* entry
//! `notified` and wakes its waker after releasing the lock. The entry stays in the list
//! until its future looks again (poll) or is dropped, so a notified future that is dropped
//! knows it owes its wake-up to the next waiter, and a notified future that finds nothing
//! (a thread barged in) becomes waiting again *at its old place*.
//!
//! Tickets come from one process-wide counter. A thread about to park on a primitive that
//! has an async face takes one too and parks with it as its `ParkToken`, so a notifier can
//! merge the two queues (the threads in `parking_lot_core`'s, the tasks here) oldest first.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering as StdOrdering};
use std::task::Waker;

use crate::loom::ListMutex;
use crate::parking::ParkToken;

/// Deliberately a std atomic even under loom: tickets only order waiters; which of two
/// racing arrivals is "older" is not part of any protocol a model checks.
static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

/// A fresh ticket (never 0: `DEFAULT_PARK_TOKEN` is 0). 2^64 waits would take centuries.
#[inline]
pub(crate) fn next_ticket() -> u64 {
    // Relaxed: uniqueness and a rough arrival order only need the atomic increment.
    NEXT_TICKET.fetch_add(1, StdOrdering::Relaxed)
}

/// The park token of a thread that waits with `ticket`.
#[inline]
pub(crate) fn park_token(ticket: u64) -> ParkToken {
    // Tickets wrap only after 2^64 waits (and on 32-bit targets order is only approximate
    // after 2^32, which breaks nothing but the order of that moment).
    ParkToken(ticket as usize)
}

/// The ticket a parked thread's token carries.
#[inline]
pub(crate) fn token_ticket(token: ParkToken) -> u64 {
    token.0 as u64
}

struct Entry {
    ticket: u64,
    waker: Option<Waker>,
    /// Chosen by a notifier and woken; not yet looked again.
    notified: bool,
}

/// The tasks waiting on one primitive, oldest first. Entries are kept in ticket order
/// (tickets are taken under the list's lock and only grow), so a future finds its own by
/// binary search.
pub(crate) struct WaitList {
    entries: VecDeque<Entry>,
    /// Entries not `notified`.
    waiting: usize,
}

impl WaitList {
    pub(crate) const fn new() -> Self {
        WaitList {
            entries: VecDeque::new(),
            waiting: 0,
        }
    }

    #[cfg(any(feature = "async", contexture_loom))]
    fn find(&self, ticket: u64) -> Option<usize> {
        self.entries
            .binary_search_by_key(&ticket, |entry| entry.ticket)
            .ok()
    }

    /// Registers a waiting task (`*ticket` is `None`: a new entry at the tail, its ticket
    /// stored there) or refreshes the task's entry (same place; its waker, and waiting
    /// again if it had been notified).
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn register(&mut self, ticket: &mut Option<u64>, waker: &Waker) {
        if let Some(at) = ticket.and_then(|t| self.find(t)) {
            let entry = &mut self.entries[at];
            match &mut entry.waker {
                Some(old) if old.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            }
            if entry.notified {
                entry.notified = false;
                self.waiting += 1;
            }
            return;
        }
        let t = next_ticket();
        *ticket = Some(t);
        self.entries.push_back(Entry {
            ticket: t,
            waker: Some(waker.clone()),
            notified: false,
        });
        self.waiting += 1;
    }

    /// Removes the task's entry; returns whether it had been notified (and so owes its
    /// wake-up to the next waiter, if it is dropped without using it).
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn remove(&mut self, ticket: &mut Option<u64>) -> bool {
        let Some(at) = ticket.take().and_then(|t| self.find(t)) else {
            return false;
        };
        let entry = self.entries.remove(at).expect("found above");
        if !entry.notified {
            self.waiting -= 1;
        }
        entry.notified
    }

    /// Whether the task's entry was notified (`false` if it has none).
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn is_notified(&self, ticket: Option<u64>) -> bool {
        ticket
            .and_then(|t| self.find(t))
            .is_some_and(|at| self.entries[at].notified)
    }

    /// Whether some task waits (registered and not notified).
    #[inline]
    pub(crate) fn has_waiting(&self) -> bool {
        self.waiting != 0
    }

    /// The ticket of the oldest waiting task, `u64::MAX` if none.
    pub(crate) fn first_waiting(&self) -> u64 {
        if self.waiting == 0 {
            return u64::MAX;
        }
        self.entries
            .iter()
            .find(|entry| !entry.notified)
            .map_or(u64::MAX, |entry| entry.ticket)
    }

    /// Notifies the oldest waiting task; its waker, to wake once the lock is released.
    pub(crate) fn notify_first(&mut self) -> Option<Waker> {
        if self.waiting == 0 {
            return None;
        }
        let entry = self.entries.iter_mut().find(|entry| !entry.notified)?;
        entry.notified = true;
        self.waiting -= 1;
        entry.waker.take()
    }

    /// Notifies every waiting task; their wakers go to `wakers`.
    pub(crate) fn notify_all(&mut self, wakers: &mut Vec<Waker>) {
        if self.waiting == 0 {
            return;
        }
        for entry in self.entries.iter_mut().filter(|entry| !entry.notified) {
            entry.notified = true;
            wakers.extend(entry.waker.take());
        }
        self.waiting = 0;
    }
}

/// Locks a list. Nothing panics while one is held (no user code runs under it), so poisoning
/// cannot carry news; it is ignored.
#[inline]
pub(crate) fn lock(list: &ListMutex<WaitList>) -> impl std::ops::DerefMut<Target = WaitList> + '_ {
    list.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Wakes what a notifier collected, after its locks are released. A waker is user code
/// (the executor's): one that panics does not keep the others from being woken; the first
/// panic is then resumed, unless this thread is already unwinding (a future dropped during
/// a panic passes its wake-up on from its `Drop`), where it is dropped rather than abort.
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    let mut first_panic = None;
    for waker in wakers {
        if let Err(payload) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()))
        {
            first_panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = first_panic {
        if !std::thread::panicking() {
            std::panic::resume_unwind(payload);
        }
    }
}

/// [`wake_all`] for at most one waker.
#[inline]
pub(crate) fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        if std::thread::panicking() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        } else {
            waker.wake();
        }
    }
}

#[cfg(all(test, feature = "async", not(contexture_loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    use super::WaitList;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    /// Oldest first; a notified entry keeps its place, is skipped by the next notify, and
    /// waits again at its old place when it re-registers; removal reports the notification.
    #[test]
    fn fifo_notify_reregister_remove() {
        let mut list = WaitList::new();
        let (a_count, a) = waker();
        let (_, b) = waker();
        let (mut ta, mut tb) = (None, None);
        list.register(&mut ta, &a);
        list.register(&mut tb, &b);
        assert!(ta < tb);
        assert_eq!(list.first_waiting(), ta.unwrap());
        list.notify_first().unwrap().wake();
        assert_eq!(a_count.0.load(Ordering::SeqCst), 1);
        assert!(list.is_notified(ta));
        assert_eq!(
            list.first_waiting(),
            tb.unwrap(),
            "a notified entry is skipped"
        );
        list.register(&mut ta, &a); // found nothing: waits again, at its old place
        assert_eq!(list.first_waiting(), ta.unwrap());
        assert!(list.notify_first().is_some());
        assert!(
            list.remove(&mut ta),
            "removed after a notification: owes it on"
        );
        assert_eq!(ta, None);
        assert!(!list.remove(&mut tb), "never notified");
        assert!(!list.has_waiting());
        assert_eq!(list.first_waiting(), u64::MAX);
        assert!(list.notify_first().is_none());
    }

    /// `notify_all` takes every waiting entry's waker once; a refreshed waker replaces the
    /// old one.
    #[test]
    fn notify_all_and_refresh() {
        let mut list = WaitList::new();
        let (old_count, old) = waker();
        let (new_count, new) = waker();
        let (mut t1, mut t2) = (None, None);
        list.register(&mut t1, &old);
        list.register(&mut t1, &new); // the same task, polled with another waker
        list.register(&mut t2, &new);
        let mut wakers = Vec::new();
        list.notify_all(&mut wakers);
        assert_eq!(wakers.len(), 2);
        super::wake_all(wakers);
        assert_eq!(old_count.0.load(Ordering::SeqCst), 0);
        assert_eq!(new_count.0.load(Ordering::SeqCst), 2);
        let mut more = Vec::new();
        list.notify_all(&mut more);
        assert!(more.is_empty(), "each entry is notified once");
    }

    /// A panicking waker does not keep the others from being woken; its panic comes after.
    #[test]
    fn a_panicking_waker_does_not_strand_the_others() {
        struct Bomb;
        impl Wake for Bomb {
            fn wake(self: Arc<Self>) {
                panic!("waker");
            }
        }
        let (count, ok) = waker();
        let bomb = Waker::from(Arc::new(Bomb));
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let result = std::panic::catch_unwind(|| super::wake_all(vec![bomb, ok]));
        std::panic::set_hook(hook);
        assert!(result.is_err(), "the waker's panic reaches the notifier");
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the other waker was called"
        );
    }
}
