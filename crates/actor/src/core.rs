//! The part of an actor that is the same whatever its type: id, name, the system lane,
//! the closing flag, and its end (report, links, monitors, the end notice `join` waits on).

use std::sync::{Arc, Weak};

use tokio::sync::{mpsc, watch};

use crate::exit::{ActorId, Down, ExitReason, ExitReport};
use crate::loom::{AtomicBool, AtomicUsize, Mutex, Ordering};
use crate::registry;

/// A system-lane message: served before any user message, never behind a full mailbox
/// (the lane is unbounded; it carries at most a few notices per actor).
#[derive(Debug)]
pub(crate) enum Sys {
    /// `stop()`: close the mailbox, handle what is in it, end `Normal`.
    Stop,
    /// `kill()` from outside the actor: end `Killed` at once, cutting a handler that waits
    /// at an await short, failing what is queued.
    Kill,
    /// `kill()` from the actor's own code: end `Killed` after the current handler.
    KillSelf,
    /// The supervisor is shutting down: end `Shutdown`, failing what is queued.
    Shutdown,
    /// A linked actor ended with this reason.
    LinkExit(ActorId, ExitReason),
    /// A monitored actor ended; for the instance that made the monitor (`Some(restarts)`,
    /// through `Ctx`) or for the actor whatever its instance (`None`, through `ActorRef`).
    Down(Down, Option<usize>),
    /// User code run for the actor outside its task (an interval's message maker)
    /// panicked: end as a handler's panic does.
    Crash(String),
}

impl Sys {
    /// Whether this notice ends the actor at once: it also cuts short a handler waiting at
    /// an await (a stop, a monitor's notice and a linked normal end wait for it).
    pub(crate) fn ends_at_once(&self) -> bool {
        // As `ending_reason`, without building the reason (checked on every pending poll).
        match self {
            Sys::Kill | Sys::Shutdown | Sys::Crash(_) => true,
            Sys::LinkExit(_, reason) => !reason.is_normal(),
            Sys::KillSelf | Sys::Stop | Sys::Down(..) => false,
        }
    }

    /// The end this notice makes at once, if it does (what the actor's loop returns for it).
    pub(crate) fn ending_reason(&self) -> Option<ExitReason> {
        match self {
            Sys::Kill | Sys::KillSelf => Some(ExitReason::Killed),
            Sys::Shutdown => Some(ExitReason::Shutdown),
            Sys::Crash(message) => Some(ExitReason::Panicked(message.clone())),
            Sys::LinkExit(_, ExitReason::Normal) => None,
            Sys::LinkExit(_, linked @ ExitReason::Linked { .. }) => Some(linked.clone()),
            Sys::LinkExit(actor, other) => Some(ExitReason::Linked {
                actor: *actor,
                reason: Box::new(other.clone()),
            }),
            Sys::Stop | Sys::Down(..) => None,
        }
    }
}

/// The untyped state of one actor (one mailbox: a supervised actor keeps it across
/// restarts).
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) id: ActorId,
    pub(crate) name: Option<Arc<str>>,
    sys: mpsc::UnboundedSender<Sys>,
    /// How many system messages were sent (wrapping; counted just before each send): the
    /// actor's loop peeks at the system lane only when this moved since it last received one (measured: a peek per user
    /// message was 8 % of a told message's instructions).
    sys_sent: AtomicUsize,
    /// Set by `stop`/`kill`/shutdown: sends are refused from then on. A send that read it
    /// clear may still land; the actor handles (stop) or fails (kill) it like any other.
    closing: AtomicBool,
    /// Whether a stop / a kill / a shutdown notice is on the system lane already: each is
    /// sent once, so calling `stop()` in a loop does not grow the lane.
    stop_sent: AtomicBool,
    kill_sent: AtomicBool,
    kill_self_sent: AtomicBool,
    shutdown_sent: AtomicBool,
    end: Mutex<End>,
    /// The report, once the actor has ended; `join` waits on it.
    done: watch::Sender<Option<ExitReport>>,
}

#[derive(Debug, Default)]
struct End {
    /// The report, once ended: the source of truth for links and monitors, read under
    /// the same lock they are added under (the `done` channel only wakes `join`).
    report: Option<ExitReport>,
    links: Vec<Weak<Core>>,
    /// Watchers, each with the instance that made the monitor (`None`: the actor's own).
    monitors: Vec<(Weak<Core>, Option<usize>)>,
}

impl Core {
    pub(crate) fn new(name: Option<Arc<str>>) -> (Arc<Core>, mpsc::UnboundedReceiver<Sys>) {
        let (sys, sys_rx) = mpsc::unbounded_channel();
        let core = Core {
            id: ActorId::next(),
            name,
            sys,
            sys_sent: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            stop_sent: AtomicBool::new(false),
            kill_sent: AtomicBool::new(false),
            kill_self_sent: AtomicBool::new(false),
            shutdown_sent: AtomicBool::new(false),
            end: Mutex::new(End::default()),
            done: watch::Sender::new(None),
        };
        (Arc::new(core), sys_rx)
    }

    /// Whether sends are refused.
    #[inline]
    pub(crate) fn is_closing(&self) -> bool {
        // Acquire: pairs with the Release in `close`; a send that sees the flag refuses.
        self.closing.load(Ordering::Acquire)
    }

    fn close(&self) {
        self.closing.store(true, Ordering::Release);
    }

    /// Puts `msg` on the system lane; false once the actor's task is gone.
    pub(crate) fn send_sys(&self, msg: Sys) -> bool {
        // Counted before the send: the loop may peek early (and find nothing yet, then peek
        // again at its next message), but the wake-up the send gives always finds the count
        // moved, so the loop never skips a message whose wake-up it consumed.
        self.sys_sent.fetch_add(1, Ordering::Release);
        self.sys.send(msg).is_ok()
    }

    /// How many system messages were sent so far (wrapping); see `sys_sent`.
    #[inline]
    pub(crate) fn sys_sent(&self) -> usize {
        self.sys_sent.load(Ordering::Acquire)
    }

    /// `stop()`: refuse new sends, drain, end `Normal`.
    pub(crate) fn stop(&self) {
        self.close();
        // Relaxed: the flag only dedups the notice; the lane orders the rest.
        if !self.stop_sent.swap(true, Ordering::Relaxed) {
            self.send_sys(Sys::Stop);
        }
    }

    /// `kill()`: refuse new sends, end at once (a handler waiting at an await is cut
    /// short), or after the current handler when the actor kills itself.
    pub(crate) fn kill(&self) {
        self.close();
        if crate::run::current_actor() == self.id.as_u64() {
            if !self.kill_self_sent.swap(true, Ordering::Relaxed) {
                self.send_sys(Sys::KillSelf);
            }
        } else if !self.kill_sent.swap(true, Ordering::Relaxed) {
            self.send_sys(Sys::Kill);
        }
    }

    /// The supervisor's shutdown.
    pub(crate) fn shutdown(&self) {
        self.close();
        if !self.shutdown_sent.swap(true, Ordering::Relaxed) {
            self.send_sys(Sys::Shutdown);
        }
    }

    /// Whether the actor has ended.
    pub(crate) fn has_ended(&self) -> bool {
        self.end.lock().report.is_some()
    }

    /// The report, once ended.
    pub(crate) fn report(&self) -> Option<ExitReport> {
        self.end.lock().report.clone()
    }

    /// Waits for the end; any executor.
    pub(crate) async fn join(&self) -> ExitReport {
        let mut rx = self.done.subscribe();
        let report = match rx.wait_for(Option::is_some).await {
            Ok(report) => report.clone(),
            // The sender lives in `self`: it cannot be gone while we are here.
            Err(_) => None,
        };
        report.unwrap_or_else(|| ExitReport::new(ExitReason::Dropped))
    }

    /// Records the end, once: publishes the report, tells links and monitors, frees the
    /// name. Later calls do nothing.
    pub(crate) fn finish(self: &Arc<Core>, report: ExitReport) {
        self.close();
        // The name first: whoever sees the end may register the name again at once.
        if let Some(name) = &self.name {
            registry::release(name, self.id);
        }
        let reason = report.reason.clone();
        let (links, monitors) = {
            let mut end = self.end.lock();
            if end.report.is_some() {
                return;
            }
            end.report = Some(report.clone());
            (
                std::mem::take(&mut end.links),
                std::mem::take(&mut end.monitors),
            )
        };
        for link in links.iter().filter_map(Weak::upgrade) {
            link.forget_link(self.id);
            if !reason.is_normal() {
                link.send_sys(Sys::LinkExit(self.id, reason.clone()));
            }
        }
        for (watcher, owner) in monitors {
            if let Some(watcher) = watcher.upgrade() {
                let down = Down {
                    actor: self.id,
                    name: self.name.clone(),
                    reason: reason.clone(),
                };
                watcher.send_sys(Sys::Down(down, owner));
            }
        }
        // Last: whoever `join`s sees the end after the links and monitors were told.
        self.done.send_replace(Some(report));
    }

    fn forget_link(&self, id: ActorId) {
        let mut end = self.end.lock();
        end.links
            .retain(|link| link.upgrade().is_some_and(|link| link.id != id));
    }

    /// Links two actors: when one ends with a failure the other is ended with
    /// [`ExitReason::Linked`]. Linking to an actor that has ended passes its reason on at once.
    pub(crate) fn link(self: &Arc<Core>, other: &Arc<Core>) {
        if self.id == other.id {
            return;
        }
        // Lock in id order so that two links made in opposite directions cannot deadlock.
        let (first, second) = if self.id < other.id {
            (self, other)
        } else {
            (other, self)
        };
        let mut a = first.end.lock();
        let mut b = second.end.lock();
        let notice = match (&a.report, &b.report) {
            (None, None) => {
                // Idempotent: `a.link(&b); b.link(&a)` is one link, told once.
                if !a
                    .links
                    .iter()
                    .any(|l| l.upgrade().is_some_and(|l| l.id == second.id))
                {
                    a.links.push(Arc::downgrade(second));
                }
                if !b
                    .links
                    .iter()
                    .any(|l| l.upgrade().is_some_and(|l| l.id == first.id))
                {
                    b.links.push(Arc::downgrade(first));
                }
                None
            }
            (Some(_), Some(_)) => None,
            (Some(dead), None) => Some((second.clone(), first.id, dead.reason.clone())),
            (None, Some(dead)) => Some((first.clone(), second.id, dead.reason.clone())),
        };
        drop((a, b));
        if let Some((alive, dead, reason)) = notice {
            if !reason.is_normal() {
                alive.send_sys(Sys::LinkExit(dead, reason));
            }
        }
    }

    /// Removes a link in both directions.
    pub(crate) fn unlink(self: &Arc<Core>, other: &Arc<Core>) {
        self.forget_link(other.id);
        other.forget_link(self.id);
    }

    /// Takes back the monitor that instance `owner` of `watcher` set on `self`.
    pub(crate) fn remove_monitor(&self, watcher: ActorId, owner: Option<usize>) {
        let mut end = self.end.lock();
        end.monitors
            .retain(|(m, o)| *o != owner || m.upgrade().is_some_and(|m| m.id != watcher));
    }

    /// `watcher` gets a [`Down`] notice when `self` ends (at once when it has ended), for
    /// its instance `owner` (`None`: whatever instance serves it then). Idempotent per
    /// watcher and owner.
    pub(crate) fn add_monitor(self: &Arc<Core>, watcher: &Arc<Core>, owner: Option<usize>) {
        let mut end = self.end.lock();
        let Some(report) = &end.report else {
            end.monitors.retain(|(m, _)| m.strong_count() > 0);
            if !end
                .monitors
                .iter()
                .any(|(m, o)| *o == owner && m.upgrade().is_some_and(|m| m.id == watcher.id))
            {
                end.monitors.push((Arc::downgrade(watcher), owner));
            }
            return;
        };
        let reason = report.reason.clone();
        drop(end);
        let down = Down {
            actor: self.id,
            name: self.name.clone(),
            reason,
        };
        watcher.send_sys(Sys::Down(down, owner));
    }
}
