//! The seed articles' scenarios as tests: two threads with their own tracked values, two
//! tokio tasks around a parent's value (task1/task2/main: hello), the lifecycle check, `run`
//! mutating its context, and shallow sharing through `Arc<Mutex<..>>`.

mod common;

use std::sync::{Arc, Barrier, Mutex};

use common::{count, counter, Tracked};
use contexture_ctxvar::{copy_context, ContextVar};

static TRACKER: ContextVar<Arc<Tracked>> = ContextVar::new("my_tracker");

#[test]
fn two_threads_each_read_back_their_own_value() {
    let drops = counter();
    // Both set before either reads back: the interference the seed's sleep invites.
    let both_set = Arc::new(Barrier::new(2));
    let workers: Vec<_> = [("A", "Thread-Data-A"), ("B", "Thread-Data-B")]
        .into_iter()
        .map(|(thread, data)| {
            let (drops, both_set) = (drops.clone(), both_set.clone());
            std::thread::spawn(move || {
                let tracker = Tracked::new(data, &drops);
                let address = Arc::as_ptr(&tracker);
                TRACKER.set(tracker);
                assert_eq!(TRACKER.get().map(|t| Arc::as_ptr(&t)), Some(address));
                both_set.wait();
                (thread, TRACKER.get().map(|t| t.name))
            })
        })
        .collect();
    let seen: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(
        seen,
        [("A", Some("Thread-Data-A")), ("B", Some("Thread-Data-B"))]
    );
    assert_eq!(count(&drops), 2, "each thread's value went with the thread");
    assert!(TRACKER.get().is_none(), "main never saw them");
}

#[cfg(feature = "tokio")]
#[test]
fn two_tokio_tasks_set_and_read_back_across_an_await() {
    static CTX: ContextVar<&str> = ContextVar::new("ctx");
    async fn task(value: &'static str, log: Arc<Mutex<Vec<String>>>) {
        log.lock()
            .unwrap()
            .push(format!("task: {}", CTX.get().unwrap()));
        CTX.set(value);
        tokio::task::yield_now().await;
        log.lock()
            .unwrap()
            .push(format!("task: {}", CTX.get().unwrap()));
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        CTX.set("hello");
        let t1 = contexture_ctxvar::spawn(task("task1", log.clone()));
        let t2 = contexture_ctxvar::spawn(task("task2", log.clone()));
        t1.await.unwrap();
        t2.await.unwrap();
        log.lock()
            .unwrap()
            .push(format!("main: {}", CTX.get().unwrap()));
    });
    let mut log = log.lock().unwrap().clone();
    // The scheduler decides which task resumes first; each must read back its own value.
    log[2..4].sort();
    assert_eq!(
        log,
        [
            "task: hello",
            "task: hello",
            "task: task1",
            "task: task2",
            "main: hello"
        ]
    );
}

#[test]
fn lifecycle_a_value_set_in_a_copied_context_is_released_with_it() {
    let drops = counter();
    let old_ctx = copy_context();
    old_ctx
        .run(|| {
            let local_tracker = Tracked::new("Lifecycle-Target", &drops);
            TRACKER.set(local_tracker.clone());
            // Python prints sys.getrefcount(local_tracker) - 1 here: ours + the context's.
            assert_eq!(Arc::strong_count(&local_tracker), 2);
        })
        .unwrap();
    assert_eq!(count(&drops), 0);
    drop(old_ctx);
    assert_eq!(count(&drops), 1, "the seed calls it a leak otherwise");
}

#[test]
fn run_mutates_the_context_it_runs_in() {
    static CTX1: ContextVar<&str> = ContextVar::new("ctx1");
    static CTX2: ContextVar<&str> = ContextVar::new("ctx2");
    CTX1.set("hello");
    CTX2.set("world");
    let context = copy_context();
    assert_eq!(context.var_names(), ["ctx1", "ctx2"]);
    context
        .run(|| {
            assert_eq!(
                (CTX1.get(), context.get(&CTX1)),
                (Some("hello"), Some("hello"))
            );
            CTX1.set("task");
            assert_eq!(
                (CTX1.get(), context.get(&CTX1)),
                (Some("task"), Some("task"))
            );
        })
        .unwrap();
    assert_eq!(
        (CTX1.get(), context.get(&CTX1)),
        (Some("hello"), Some("task"))
    );
}

#[test]
fn shallow_sharing_mutation_is_seen_rebinding_is_not() {
    static CTX1: ContextVar<&str> = ContextVar::new("ctx1");
    static CTX2: ContextVar<Arc<Mutex<String>>> = ContextVar::new("ctx2");
    CTX1.set("hello");
    CTX2.set(Arc::new(Mutex::new("张三".to_string())));
    let before = CTX2.get().unwrap();
    let inner_address = copy_context()
        .run(|| {
            CTX1.set("1"); // re-binding: copy on write
            let shared = CTX2.get().unwrap(); // same object
            *shared.lock().unwrap() = "李四".to_string();
            assert_eq!(CTX1.get(), Some("1"));
            Arc::as_ptr(&shared)
        })
        .unwrap();
    assert_eq!(CTX1.get(), Some("hello"), "the re-binding stayed inside");
    assert_eq!(
        *CTX2.get().unwrap().lock().unwrap(),
        "李四",
        "the mutation is seen outside"
    );
    assert_eq!(inner_address, Arc::as_ptr(&before));
}
