//! Tour scenarios for `contexture::local` (Python's `threading.local`).

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use contexture::local::Local;

use crate::{check, scenario};

/// The seed's `context.value` / `context.name`.
#[derive(Clone, Debug, PartialEq)]
struct Context {
    value: i32,
    name: String,
}

static CONTEXT: Local<RefCell<Context>> = Local::new();

fn show(place: &str) -> Option<Context> {
    let seen = CONTEXT.with_borrow(Context::clone);
    match &seen {
        Some(c) => println!(
            "   {place}: context.value is {}, context.name is {}",
            c.value, c.name
        ),
        None => println!(
            "   {place}: this thread never set the context, so it sees nothing \
             (Python raises AttributeError here)"
        ),
    }
    seen
}

/// Seed 1.1: a global `threading.local()`; each thread sees only what it set itself.
pub(crate) fn thread_isolation() {
    scenario(
        "threading.local: each thread sees its own value",
        "context = threading.local(); func1 reads, func2 sets, main reads before and after",
    );
    let main_value = Context {
        value: 0,
        name: "global".into(),
    };
    CONTEXT.set(main_value.clone());
    let first = show("in main first");

    let in_func1 = thread::spawn(|| show("in func1 (never initialised)"))
        .join()
        .unwrap();
    check(
        in_func1.is_none(),
        "a thread that never set the Local sees nothing",
    );

    let in_func2 = thread::spawn(|| {
        CONTEXT.set(Context {
            value: 2,
            name: "func2".into(),
        });
        show("in func2 (sets its own)")
    })
    .join()
    .unwrap();
    check(
        in_func2.as_ref().map(|c| c.value) == Some(2),
        "func2 sees what it set",
    );

    let second = show("in main second");
    check(
        first == Some(main_value.clone()) && second == Some(main_value),
        "main's value is unchanged by the threads",
    );
}

/// An object with a visible life: it prints when it is created and when it is released.
struct Tracker {
    name: String,
    live: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Tracker {
    fn new(name: &str, live: &Arc<AtomicUsize>, log: &Arc<Mutex<Vec<String>>>) -> Tracker {
        println!("   [create]  {name}");
        live.fetch_add(1, Ordering::SeqCst);
        Tracker {
            name: name.into(),
            live: live.clone(),
            log: log.clone(),
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        println!("   [release] {}", self.name);
        self.live.fetch_sub(1, Ordering::SeqCst);
        self.log.lock().unwrap().push(self.name.clone());
    }
}

/// `_threading_local`'s two weak references: a thread's values go when the thread ends, and
/// every value goes when the `Local` itself is dropped. Nothing stays alive.
pub(crate) fn cleanup() {
    scenario(
        "threading.local cleanup: values are released with their thread and with the Local",
        "_threading_local: thread_deleted / local_deleted weakref callbacks",
    );
    let live = Arc::new(AtomicUsize::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let local: Arc<Local<Tracker>> = Arc::new(Local::new());

    println!("   a worker stores a tracker and ends:");
    let (l, lv, lg) = (local.clone(), live.clone(), log.clone());
    thread::spawn(move || {
        l.get_or(|| Tracker::new("worker's tracker", &lv, &lg));
    })
    .join()
    .unwrap();
    println!("   worker joined");
    check(
        log.lock().unwrap().as_slice() == ["worker's tracker"],
        "the worker's value was released before join() returned",
    );

    println!("   main and a still-running thread store trackers; then the Local is dropped:");
    local.get_or(|| Tracker::new("main's tracker", &live, &log));
    let (stored_tx, stored_rx) = std::sync::mpsc::channel();
    let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
    let (l, lv, lg) = (local.clone(), live.clone(), log.clone());
    let sleeper = thread::spawn(move || {
        l.get_or(|| Tracker::new("sleeper's tracker", &lv, &lg));
        drop(l);
        stored_tx.send(()).unwrap();
        end_rx.recv().unwrap();
    });
    stored_rx.recv().unwrap();
    drop(local);
    println!("   Local dropped");
    check(
        live.load(Ordering::SeqCst) == 0,
        "dropping the Local released every thread's value at once, even a live thread's",
    );
    end_tx.send(()).unwrap();
    sleeper.join().unwrap();
    println!(
        "   live trackers now: {} (Python's seed calls anything else a leak)",
        live.load(Ordering::SeqCst)
    );
    check(
        log.lock().unwrap().len() == 3,
        "each value was released exactly once",
    );
}
