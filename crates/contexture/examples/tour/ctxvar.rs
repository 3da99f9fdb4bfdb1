//! Tour scenarios for `contexture::ctxvar` (Python's `contextvars`, PEP 567).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use contexture::ctxvar::{copy_context, ContextVar, LookupError};

use crate::{check, scenario};

/// The seed's `MemoryTracker`: prints when it is created and when it is released.
struct MemoryTracker {
    name: &'static str,
    released: Arc<AtomicUsize>,
}

impl MemoryTracker {
    fn new(name: &'static str, released: &Arc<AtomicUsize>) -> Arc<MemoryTracker> {
        println!("   [create]  {name}");
        Arc::new(MemoryTracker {
            name,
            released: released.clone(),
        })
    }
}

impl Drop for MemoryTracker {
    fn drop(&mut self) {
        println!("   [release] {}", self.name);
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

static CTX_VAR: ContextVar<Arc<MemoryTracker>> = ContextVar::new("my_tracker");

/// Seed 001 §1.1: set, get, `Token.old_value`, reset, `LookupError`, defaults.
pub(crate) fn basics() {
    scenario(
        "ContextVar: set, get, tokens and reset",
        "ctx = ContextVar(\"debug test\"); token1 = ctx.set(\"hello\"); token2 = ctx.set(\"world\")",
    );
    static CTX: ContextVar<&str> = ContextVar::new("debug test");
    static LEVEL: ContextVar<&str> = ContextVar::with_default("level", "high");
    let token1 = CTX.set("hello");
    let token2 = CTX.set("world");
    println!("   ctx.get() = {:?}", CTX.get());
    println!("   token2.old_value = {:?}", token2.old_value());
    println!(
        "   token1.old_value = {:?} (Python: Token.MISSING)",
        token1.old_value()
    );
    check(CTX.get() == Some("world"), "get sees the latest set");
    check(
        token2.old_value() == Some(&"hello"),
        "token2 remembers hello",
    );
    check(
        token1.old_value().is_none(),
        "token1 remembers nothing (MISSING)",
    );
    CTX.reset(token2).unwrap();
    println!("   after reset(token2): {:?}", CTX.get());
    check(CTX.get() == Some("hello"), "reset(token2) restores hello");
    CTX.reset(token1).unwrap();
    let err = CTX.try_get();
    println!("   after reset(token1): try_get() = {err:?} (Python raises LookupError)");
    check(
        err == Err(LookupError { name: "debug test" }),
        "reset(token1) unbinds the var: LookupError",
    );
    println!(
        "   get_or(\"tom\") = {:?}; a var with default \"high\": get() = {:?}, get_or(\"tom\") = {:?}",
        CTX.get_or("tom"),
        LEVEL.get(),
        LEVEL.get_or("tom")
    );
    check(
        LEVEL.get() == Some("high") && LEVEL.get_or("tom") == "tom",
        "the argument of get_or wins over the var's default",
    );
}

/// Seed 1.2.2 A: two threads write their own tracker, wait for each other, read back.
pub(crate) fn thread_isolation() {
    scenario(
        "ContextVar across threads: each thread reads back its own value",
        "thread_worker(\"A\", ...), thread_worker(\"B\", ...); set, sleep(1.5), get",
    );
    let released = Arc::new(AtomicUsize::new(0));
    // The seed sleeps so that the threads overlap; a barrier makes the overlap certain.
    let both_set = Arc::new(Barrier::new(2));
    let workers: Vec<_> = [("A", "Thread-Data-A"), ("B", "Thread-Data-B")]
        .into_iter()
        .map(|(thread_name, obj_name)| {
            let (released, both_set) = (released.clone(), both_set.clone());
            thread::spawn(move || {
                println!("   [thread {thread_name}] starts");
                CTX_VAR.set(MemoryTracker::new(obj_name, &released));
                let address = CTX_VAR.get().map(|t| Arc::as_ptr(&t));
                println!("   [thread {thread_name}] value at {address:?}");
                both_set.wait();
                let again = CTX_VAR.get().map(|t| t.name);
                println!("   [thread {thread_name}] after the other thread set its own: {again:?}");
                again == Some(obj_name)
            })
        })
        .collect();
    let own = workers.into_iter().all(|w| w.join().unwrap());
    check(
        own,
        "each thread read back its own value, untouched by the other",
    );
    check(
        released.load(Ordering::SeqCst) == 2,
        "each thread's tracker was released when its thread ended",
    );
    check(CTX_VAR.get().is_none(), "main never saw either value");
}

/// Seed 001 §1.2: two tasks set and read back across an await; the parent's value stays.
pub(crate) fn tasks() {
    scenario(
        "ContextVar across tokio tasks: each task runs in a copy of the spawner's context",
        "ctx.set(\"hello\"); gather(task(\"task1\", 1), task(\"task2\", 2)); print(\"main: \", ctx.get())",
    );
    static CTX: ContextVar<&str> = ContextVar::new("ctx");
    async fn task(value: &'static str, yields: usize) -> bool {
        println!("   task: {}", CTX.get().unwrap_or("?"));
        CTX.set(value);
        for _ in 0..yields {
            tokio::task::yield_now().await; // the seed's asyncio.sleep
        }
        let back = CTX.get();
        println!("   task: {}", back.unwrap_or("?"));
        back == Some(value)
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let (own, main_value) = runtime.block_on(async {
        CTX.set("hello");
        // contexture::ctxvar::spawn = tokio::spawn inside a copy of the current context,
        // as asyncio.create_task does.
        let t1 = contexture::ctxvar::spawn(task("task1", 1));
        let t2 = contexture::ctxvar::spawn(task("task2", 2));
        let own = t1.await.unwrap() & t2.await.unwrap();
        let main_value = CTX.get();
        println!("   main: {}", main_value.unwrap_or("?"));
        (own, main_value)
    });
    check(own, "each task read back its own value after its awaits");
    check(
        main_value == Some("hello"),
        "the parent's value stayed hello",
    );
}

/// Seed 1.2.2 lifecycle test: a value set inside `copy_context().run(..)` dies with it.
pub(crate) fn lifecycle() {
    scenario(
        "Context lifecycle: a value set in a copied context is released with that context",
        "old_ctx = copy_context(); old_ctx.run(scope_func); del old_ctx; gc.collect()",
    );
    let released = Arc::new(AtomicUsize::new(0));
    let old_ctx = copy_context();
    println!("   step 1: enter a temporary context with run() and set a tracker");
    old_ctx
        .run(|| {
            let local_tracker = MemoryTracker::new("Lifecycle-Target", &released);
            CTX_VAR.set(local_tracker.clone());
            // Python prints sys.getrefcount(local_tracker) - 1 here.
            println!(
                "   references to the tracker: {} (ours and the context's)",
                Arc::strong_count(&local_tracker)
            );
            let _ = CTX_VAR.get(); // a cached lookup must not keep it alive either
        })
        .unwrap();
    println!("   step 2: run() returned; this thread is back in its own context");
    check(CTX_VAR.get().is_none(), "outside, the var is unset");
    check(
        released.load(Ordering::SeqCst) == 0,
        "the context still holds the tracker",
    );
    println!("   step 3: drop the context (no GC needed)");
    drop(old_ctx);
    check(
        released.load(Ordering::SeqCst) == 1,
        "the tracker was released with its context: no leak",
    );
}

/// Seed 001 §1.1 (2): `run` executes in the context it is given and changes it.
pub(crate) fn run_mutates() {
    scenario(
        "Context.run mutates the context it runs in",
        "context = copy_context(); context.run(task); ctx1.get() vs context[ctx1]",
    );
    static CTX1: ContextVar<&str> = ContextVar::new("ctx1");
    static CTX2: ContextVar<&str> = ContextVar::new("ctx2");
    CTX1.set("hello");
    CTX2.set("world");
    let context = copy_context();
    println!("   context = {context:?}");
    let inside = context
        .run(|| {
            println!(
                "   before task: {} context[ctx1]: {}",
                CTX1.get().unwrap_or("?"),
                context.get(&CTX1).unwrap_or("?")
            );
            CTX1.set("task");
            println!(
                "   after task: {} context[ctx1]: {}",
                CTX1.get().unwrap_or("?"),
                context.get(&CTX1).unwrap_or("?")
            );
            context.get(&CTX1)
        })
        .unwrap();
    println!(
        "   ctx1: {}  context[ctx1]: {}",
        CTX1.get().unwrap_or("?"),
        context.get(&CTX1).unwrap_or("?")
    );
    check(
        inside == Some("task"),
        "inside run, the context itself holds the new value",
    );
    check(
        CTX1.get() == Some("hello"),
        "outside, this thread's context is untouched",
    );
    check(
        context.get(&CTX1) == Some("task"),
        "after run, the context keeps what was set in it",
    );
    check(
        context.run(|| context.run(|| ())).unwrap().is_err(),
        "a context cannot be entered twice (Python: RuntimeError)",
    );
}

/// The string behind `ctx2`'s shared object.
fn name(value: Option<Arc<Mutex<String>>>) -> Option<String> {
    value.map(|m| m.lock().unwrap().clone())
}

/// Seed 001 §2: a copy is shallow; mutating a shared object shows, re-binding does not.
pub(crate) fn shallow_copy() {
    scenario(
        "copy_context is shallow: mutation of a shared value shows, re-binding does not",
        "ctx2.set({\"name\": \"张三\"}); inside a task: ctx1.set(1); ctx2.get()[\"name\"] = \"李四\"",
    );
    static CTX1: ContextVar<&str> = ContextVar::new("ctx1");
    static CTX2: ContextVar<Arc<Mutex<String>>> = ContextVar::new("ctx2");
    CTX1.set("hello");
    CTX2.set(Arc::new(Mutex::new("张三".to_string())));
    println!(
        "   before run ctx1: {:?}  ctx2: {:?}  (ctx2 value at {:?})",
        CTX1.get(),
        name(CTX2.get()),
        CTX2.get().map(|m| Arc::as_ptr(&m))
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let inner_address = runtime.block_on(async {
        contexture::ctxvar::spawn(async {
            CTX1.set("1"); // copy on write: a new binding in the task's context
            let shared = CTX2.get().unwrap(); // the same object
            *shared.lock().unwrap() = "李四".to_string();
            println!(
                "   main inner ctx1: {:?}  ctx2: {:?}  (ctx2 value at {:?})",
                CTX1.get(),
                name(CTX2.get()),
                Arc::as_ptr(&shared)
            );
            Arc::as_ptr(&shared) as usize
        })
        .await
        .unwrap()
    });
    println!(
        "   after run  ctx1: {:?}  ctx2: {:?}",
        CTX1.get(),
        name(CTX2.get())
    );
    check(
        CTX1.get() == Some("hello"),
        "the re-binding of ctx1 stayed in the task",
    );
    check(
        name(CTX2.get()).as_deref() == Some("李四"),
        "the mutation through ctx2 is seen outside: the copy shares the object",
    );
    check(
        CTX2.get().map(|m| Arc::as_ptr(&m) as usize) == Some(inner_address),
        "inside and outside, ctx2 points at the same object",
    );
}
