//! Tour scenarios for the chapter's race conditions and deadlocks (Python's `threading.Lock`
//! with `acquire(timeout=...)`, and the chapter's `ThreadSafeDict` exercise).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use contexture::sync::Lock;

use crate::{check, scenario};

/// A bank account whose balance is read, changed and written back in three steps.
struct Account {
    /// An atomic only so that the unguarded version is a race on the *value* (lost updates),
    /// not undefined behaviour: each load and store is whole, the pair is not.
    balance: AtomicU64,
    lock: Lock,
}

impl Account {
    /// `balance = balance + amount`, unguarded: another thread can run between the read and
    /// the write, and one of the two deposits is lost.
    fn deposit_unsynchronised(&self, amount: u64) {
        let read = self.balance.load(Ordering::Relaxed);
        std::hint::spin_loop(); // the window Python's bytecode switch falls into
        self.balance.store(read + amount, Ordering::Relaxed);
    }

    /// The same three steps inside `with self._lock:`.
    fn deposit(&self, amount: u64) {
        let _guard = self.lock.lock();
        let read = self.balance.load(Ordering::Relaxed);
        self.balance.store(read + amount, Ordering::Relaxed);
    }
}

/// The chapter's race condition as a bank account: 4 threads deposit 1, 100,000 times each.
pub(crate) fn bank_account() {
    scenario(
        "a race condition: four threads deposit into one bank account",
        "balance = self.balance; balance += amount; self.balance = balance, without and with threading.Lock",
    );
    const THREADS: u64 = 4;
    const DEPOSITS: u64 = 100_000;
    let expected = THREADS * DEPOSITS;

    let account = Account {
        balance: AtomicU64::new(0),
        lock: Lock::new(),
    };
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..DEPOSITS).for_each(|_| account.deposit_unsynchronised(1)));
        }
    });
    let unguarded = account.balance.load(Ordering::Relaxed);
    println!(
        "   unsynchronised: expected {expected}, balance {unguarded} ({} deposits lost)",
        expected - unguarded.min(expected)
    );
    check(
        unguarded <= expected,
        "a read-modify-write race only ever loses deposits",
    );

    account.balance.store(0, Ordering::Relaxed);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..DEPOSITS).for_each(|_| account.deposit(1)));
        }
    });
    let guarded = account.balance.load(Ordering::Relaxed);
    println!("   with a Lock:    expected {expected}, balance {guarded}");
    check(guarded == expected, "under the Lock no deposit is lost");
    check(!account.lock.locked(), "every guard released the Lock");
}

/// The chapter's two-lock deadlock, never hanging: ordered acquisition, then detection with
/// `acquire(timeout=...)`.
pub(crate) fn two_lock_deadlock() {
    scenario(
        "two locks taken in opposite orders: ordered acquisition, and detection with a timeout",
        "demonstrate_deadlock() / avoid_deadlock_with_ordered_locks() / lock.acquire(timeout=...)",
    );
    let lock_a = Lock::new();
    let lock_b = Lock::new();

    // Lock ordering: both tasks take A, then B. Whatever the interleaving, both finish.
    let finished = AtomicUsize::new(0);
    thread::scope(|s| {
        for task in ["Task1", "Task2"] {
            let (lock_a, lock_b, finished) = (&lock_a, &lock_b, &finished);
            s.spawn(move || {
                let _a = lock_a.lock();
                thread::sleep(Duration::from_millis(10));
                let _b = lock_b.lock();
                println!("   {task}: holds both locks (A then B)");
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    check(
        finished.load(Ordering::SeqCst) == 2,
        "with one global order both tasks finish",
    );

    // Opposite orders: Task1 holds A and wants B, Task2 holds B and wants A. The barrier
    // makes sure both hold their first lock before asking for the second: a real deadlock,
    // which the timeouts detect and break.
    let timeout = Duration::from_millis(200);
    let both_hold_one = Barrier::new(2);
    let detected = AtomicUsize::new(0);
    let started = Instant::now();
    thread::scope(|s| {
        for (task, first, second, wanted) in [
            ("Task1", &lock_a, &lock_b, "lock_b"),
            ("Task2", &lock_b, &lock_a, "lock_a"),
        ] {
            let (both_hold_one, detected) = (&both_hold_one, &detected);
            s.spawn(move || {
                let _first = first.lock();
                both_hold_one.wait();
                println!("   {task}: waiting for {wanted} (at most {timeout:?})...");
                match second.lock_timeout(timeout) {
                    Some(_second) => println!("   {task}: got {wanted} after the other gave up"),
                    None => {
                        detected.fetch_add(1, Ordering::SeqCst);
                        println!("   {task}: timed out: deadlock detected, backing off");
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    println!(
        "   {} of 2 tasks detected the deadlock; both returned after {elapsed:.0?}",
        detected.load(Ordering::SeqCst)
    );
    check(
        detected.load(Ordering::SeqCst) >= 1,
        "lock_timeout detects the deadlock (at least one task times out)",
    );
    check(
        elapsed >= timeout.mul_f64(0.6),
        "the detecting task waited its timeout before giving up",
    );
    check(
        !lock_a.locked() && !lock_b.locked(),
        "after backing off, both locks are free: no thread hangs",
    );
}

/// The chapter's exercise: a thread-safe dict with get, set and delete, on `threading.Lock`.
struct ThreadSafeDict {
    lock: Lock,
    /// Rust needs the map inside something `Sync` to share it; the `Lock` is what excludes
    /// the other threads. Each access takes this `Mutex` with `try_lock`, which would fail
    /// if the `Lock` ever let two threads in at once: the tour counts such failures.
    map: Mutex<HashMap<String, u64>>,
    overlaps: AtomicUsize,
}

impl ThreadSafeDict {
    fn new() -> ThreadSafeDict {
        ThreadSafeDict {
            lock: Lock::new(),
            map: Mutex::new(HashMap::new()),
            overlaps: AtomicUsize::new(0),
        }
    }

    /// Runs `f` on the map with the `Lock` held.
    fn with_map<R>(&self, f: impl FnOnce(&mut HashMap<String, u64>) -> R) -> R {
        let _guard = self.lock.lock();
        match self.map.try_lock() {
            Ok(mut map) => f(&mut map),
            Err(_) => {
                self.overlaps.fetch_add(1, Ordering::SeqCst);
                f(&mut self.map.lock().unwrap_or_else(|e| e.into_inner()))
            }
        }
    }

    fn get(&self, key: &str) -> Option<u64> {
        self.with_map(|map| map.get(key).copied())
    }

    fn set(&self, key: &str, value: u64) {
        self.with_map(|map| map.insert(key.to_owned(), value));
    }

    /// Python's `del d[key]`; `None` where Python raises `KeyError`.
    fn delete(&self, key: &str) -> Option<u64> {
        self.with_map(|map| map.remove(key))
    }

    fn len(&self) -> usize {
        self.with_map(|map| map.len())
    }
}

/// `ThreadSafeDict` under 8 threads: each sets, reads back and deletes its own keys, and all
/// bump one shared key through a read-modify-write inside the lock.
pub(crate) fn thread_safe_dict() {
    scenario(
        "the chapter's exercise: ThreadSafeDict (get/set/delete) on a Lock, 8 threads",
        "class ThreadSafeDict with threading.Lock around get, set and delete",
    );
    const THREADS: u64 = 8;
    const KEYS: u64 = 500;
    let dict = ThreadSafeDict::new();
    let mismatches = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (dict, mismatches) = (&dict, &mismatches);
            s.spawn(move || {
                for k in 0..KEYS {
                    let key = format!("t{t}-k{k}");
                    dict.set(&key, t * 1_000 + k);
                    if dict.get(&key) != Some(t * 1_000 + k) {
                        mismatches.fetch_add(1, Ordering::SeqCst);
                    }
                    if k % 2 == 0 && dict.delete(&key) != Some(t * 1_000 + k) {
                        mismatches.fetch_add(1, Ordering::SeqCst);
                    }
                    dict.with_map(|map| *map.entry("shared".to_owned()).or_insert(0) += 1);
                }
            });
        }
    });
    let len = dict.len();
    let shared = dict.get("shared").unwrap_or(0);
    println!(
        "   {len} keys left ({} per thread kept + \"shared\"), shared counter {shared}",
        KEYS / 2
    );
    check(
        mismatches.load(Ordering::SeqCst) == 0,
        "each thread reads back and deletes exactly what it set",
    );
    check(
        len as u64 == THREADS * KEYS / 2 + 1,
        "the odd keys of every thread remain, the even ones are deleted",
    );
    check(
        shared == THREADS * KEYS,
        "the shared counter counts every increment",
    );
    check(
        dict.overlaps.load(Ordering::SeqCst) == 0,
        "the Lock never let two threads into the dict at once",
    );
    check(
        dict.delete("missing").is_none(),
        "deleting a missing key is a None, not a panic",
    );
}
