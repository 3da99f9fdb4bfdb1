//! Rule 4: thread churn keeps a `Local`'s storage bounded by the peak number of live
//! threads. Alone in its own test binary so that no other test's threads raise the peak.

use contexture_local::Local;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn hundred_thousand_short_lived_threads_keep_storage_bounded() {
    let threads: usize = if cfg!(miri) { 40 } else { 100_000 };
    const AT_ONCE: usize = 4;
    let drops = Arc::new(AtomicUsize::new(0));
    let local: Arc<Local<Tracked>> = Arc::new(Local::new());
    local.get_or(|| Tracked(drops.clone())); // the main thread holds a slot throughout
    for _ in 0..threads / AT_ONCE {
        let batch: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                let (l, d) = (local.clone(), drops.clone());
                thread::spawn(move || {
                    assert!(l.get().is_none(), "a new thread starts empty");
                    l.get_or(|| Tracked(d));
                })
            })
            .collect();
        for handle in batch {
            handle.join().unwrap();
        }
    }
    assert_eq!(
        drops.load(Ordering::Relaxed),
        threads,
        "every thread's value dropped"
    );
    // Peak live threads here: main + the test harness + AT_ONCE workers. Ids are reused, so
    // the high-water mark of ids, and with it the allocated slots, stays near that.
    let ids = contexture_local::__thread_ids_high_water();
    assert!(ids <= 16, "{ids} thread ids for {threads} threads");
    let slots = local.__allocated_slots();
    assert!(slots <= 31, "{slots} slots for {threads} threads");
    assert_eq!(local.iter().count(), 1, "only main's value is left");
}
