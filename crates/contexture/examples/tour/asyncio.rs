//! Tour scenarios for the async faces of `contexture::sync` (asyncio's `Lock`, `Semaphore`
//! and `Queue`): the same objects as the `threading` scenarios, awaited by tokio tasks, with
//! plain threads on them at the same time.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use contexture::sync::{Lock, Queue, Semaphore};

use crate::{check, scenario};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

/// The seed's `AsyncCounter`: a value and the `asyncio.Lock` that guards it.
struct AsyncCounter {
    value: AtomicU64,
    lock: Lock,
}

impl AsyncCounter {
    async fn increment(&self) {
        let _guard = self.lock.acquire_async().await; // async with self._lock:
                                                      // A plain read-modify-write (`self._value += 1`), with an await in the middle:
                                                      // only the lock keeps it exact.
        let v = self.value.load(Ordering::Relaxed);
        if v % 1000 == 0 {
            tokio::task::yield_now().await;
        }
        self.value.store(v + 1, Ordering::Relaxed);
    }
}

/// Seed 16.4.3: five tasks increment a counter 10,000 times each under an `asyncio.Lock`,
/// here on a two-thread runtime, so the tasks really run in parallel.
pub(crate) fn async_counter() {
    scenario(
        "asyncio.Lock: five tasks, 10,000 increments each",
        "AsyncCounter with `async with self._lock: self._value += 1`",
    );
    const WORKERS: u64 = 5;
    const EACH: u64 = 10_000;
    let counter = Arc::new(AsyncCounter {
        value: AtomicU64::new(0),
        lock: Lock::new(),
    });
    let rt = runtime();
    rt.block_on(async {
        let workers: Vec<_> = (0..WORKERS)
            .map(|id| {
                let counter = counter.clone();
                tokio::spawn(async move {
                    for _ in 0..EACH {
                        counter.increment().await;
                    }
                    println!("   Worker-{id} done");
                })
            })
            .collect();
        for worker in workers {
            worker.await.expect("a worker task");
        }
    });
    let total = counter.value.load(Ordering::Relaxed);
    println!("   expected {}, got {total}", WORKERS * EACH);
    check(
        total == WORKERS * EACH,
        "acquire_async excludes tasks on a multi-thread runtime: no update lost",
    );
    check(!counter.lock.locked(), "every guard released the lock");
}

/// Seed 16.4.3's `RateLimiter`: `asyncio.Semaphore(3)`; ten requests, never more than
/// three at once.
pub(crate) fn rate_limiter() {
    scenario(
        "asyncio.Semaphore: a rate limiter, ten requests, at most three at once",
        "RateLimiter with `async with limiter:` around `await asyncio.sleep(1)`",
    );
    const LIMIT: usize = 3;
    const REQUESTS: usize = 10;
    const WORK: Duration = Duration::from_millis(50);
    let limiter = Arc::new(Semaphore::new(LIMIT));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let rt = runtime();
    let start = Instant::now();
    let responses: Vec<String> = rt.block_on(async {
        let fetches: Vec<_> = (0..REQUESTS)
            .map(|i| {
                let (limiter, inside, most) = (limiter.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _permit = limiter.acquire_async().await; // async with limiter:
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(WORK).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    format!("Response from http://api.example.com/{i}")
                })
            })
            .collect();
        let mut responses = Vec::new();
        for fetch in fetches {
            responses.push(fetch.await.expect("a fetch task"));
        }
        responses
    });
    let elapsed = start.elapsed();
    let most = most.load(Ordering::SeqCst);
    println!(
        "   {} responses in {:.2}s, at most {most} requests at once (limit {LIMIT})",
        responses.len(),
        elapsed.as_secs_f64()
    );
    check(most <= LIMIT, "never more than three requests at once");
    check(
        responses.len() == REQUESTS,
        "every request got its response",
    );
    // Four batches of 50 ms at the least (ten requests, three at a time).
    check(
        elapsed >= WORK * 4 * 6 / 10,
        "the limit made the requests take turns (about four batches)",
    );
    check(limiter.value() == LIMIT, "every permit came back");
}

/// One item of the pipeline.
#[derive(Debug)]
struct Item {
    id: u32,
    data: f64,
}

/// A processed item.
#[derive(Debug)]
struct Processed {
    id: u32,
    result: f64,
    by: String,
}

/// An error record.
#[derive(Debug)]
struct ErrorInfo {
    item_id: u32,
    error: String,
}

/// What a processor does with one item: the seed fails about one in ten at random; here
/// every seventh (ids 3, 10, 17) so the outcome can be checked.
fn process(item: &Item, by: &str) -> Result<Processed, String> {
    if item.id % 7 == 3 {
        return Err(format!("error processing Item-{}", item.id));
    }
    Ok(Processed {
        id: item.id,
        result: item.data * item.data,
        by: by.to_owned(),
    })
}

/// A short, varying pause (the seed's `random.uniform(0.02, 0.08)`), deterministic.
fn pause(id: u32) -> Duration {
    Duration::from_millis(2 + u64::from(id * 37 % 7))
}

/// Seed 16.5.1's `AsyncPipeline`: a producer, three processors, a consumer and an error
/// handler on three queues. Two processors are tasks, the third a plain thread on the same
/// queues; the error queue is drained with a 0.5 s timeout on each get; `task_done` and
/// `join` mark the end of each stage.
pub(crate) fn async_pipeline() {
    scenario(
        "asyncio.Queue: a pipeline of tasks and one thread on the same queues",
        "AsyncPipeline: producer, three processors, consumer, error_handler with \
         `asyncio.wait_for(q.get(), timeout=0.5)`",
    );
    const ITEMS: u32 = 20;
    let input: Arc<Queue<Item>> = Arc::new(Queue::new(10));
    let output: Arc<Queue<Processed>> = Arc::new(Queue::new(10));
    let errors: Arc<Queue<ErrorInfo>> = Arc::new(Queue::new(0));
    let handled: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());

    // The thread processor: blocking `get`/`put` on the queues the tasks await.
    let thread_processor = {
        let (input, output, errors, handled) = (
            input.clone(),
            output.clone(),
            errors.clone(),
            handled.clone(),
        );
        thread::spawn(move || {
            // The seed's `None` sentinel becomes Python 3.13's `shutdown`: `get` fails.
            while let Ok(item) = input.get() {
                match process(&item, "Thread-Proc") {
                    Ok(processed) => output.put(processed).expect("output is open"),
                    Err(error) => errors
                        .put(ErrorInfo {
                            item_id: item.id,
                            error,
                        })
                        .expect("errors is open"),
                }
                handled[2].fetch_add(1, Ordering::Relaxed);
                input.task_done().expect("one task_done per get");
                thread::sleep(pause(item.id));
            }
        })
    };

    let rt = runtime();
    let (consumed, logged, gave_up_after) = rt.block_on(async {
        let producer = {
            let input = input.clone();
            tokio::spawn(async move {
                for id in 0..ITEMS {
                    let item = Item {
                        id,
                        data: f64::from(id) / 20.0,
                    };
                    input.put_async(item).await.expect("input is open");
                    tokio::time::sleep(pause(id) / 2).await;
                }
            })
        };
        let processors: Vec<_> = (0..2)
            .map(|p| {
                let (input, output, errors, handled) = (
                    input.clone(),
                    output.clone(),
                    errors.clone(),
                    handled.clone(),
                );
                tokio::spawn(async move {
                    let name = format!("Proc-{p}");
                    while let Ok(item) = input.get_async().await {
                        match process(&item, &name) {
                            Ok(processed) => output.put_async(processed).await.expect("open"),
                            Err(error) => errors
                                .put_async(ErrorInfo {
                                    item_id: item.id,
                                    error,
                                })
                                .await
                                .expect("open"),
                        }
                        handled[p].fetch_add(1, Ordering::Relaxed);
                        input.task_done().expect("one task_done per get");
                        tokio::time::sleep(pause(item.id)).await;
                    }
                })
            })
            .collect();
        let consumer = {
            let output = output.clone();
            tokio::spawn(async move {
                let mut consumed = Vec::new();
                while let Ok(item) = output.get_async().await {
                    println!(
                        "   consumed Item-{} = {:.4} (by {})",
                        item.id, item.result, item.by
                    );
                    consumed.push(item.id);
                    output.task_done().expect("one task_done per get");
                }
                consumed
            })
        };
        let error_handler = {
            let errors = errors.clone();
            tokio::spawn(async move {
                let mut logged = Vec::new();
                loop {
                    let waited = Instant::now();
                    match tokio::time::timeout(Duration::from_millis(500), errors.get_async()).await
                    {
                        Ok(Ok(error)) => {
                            println!("   error logged: Item-{} - {}", error.item_id, error.error);
                            logged.push(error.item_id);
                        }
                        // Timed out: nothing for 0.5 s, the handler stops (as the seed's).
                        Err(_elapsed) => break (logged, waited.elapsed()),
                        Ok(Err(_shut_down)) => break (logged, waited.elapsed()),
                    }
                }
            })
        };
        producer.await.expect("the producer task");
        input.join_async().await; // every item taken and marked done
        input.shutdown(false); // the processors' gets fail: they stop
        for processor in processors {
            processor.await.expect("a processor task");
        }
        output.join_async().await;
        output.shutdown(false);
        let consumed = consumer.await.expect("the consumer task");
        let (logged, gave_up_after) = error_handler.await.expect("the error handler task");
        (consumed, logged, gave_up_after)
    });
    thread_processor.join().expect("the thread processor");

    let per = handled
        .iter()
        .map(|n| n.load(Ordering::Relaxed))
        .collect::<Vec<_>>();
    println!(
        "   stats: produced {ITEMS}, processed {}, errors {}; by Proc-0 {}, Proc-1 {}, \
         Thread-Proc {}",
        consumed.len(),
        logged.len(),
        per[0],
        per[1],
        per[2]
    );
    let mut all: Vec<u32> = consumed.iter().chain(&logged).copied().collect();
    all.sort_unstable();
    check(
        all == (0..ITEMS).collect::<Vec<_>>(),
        "every item was processed or logged as an error, exactly once",
    );
    check(
        logged.iter().all(|id| id % 7 == 3) && logged.len() == 3,
        "the three failing items reached the error queue",
    );
    check(
        per.iter().sum::<usize>() == ITEMS as usize,
        "between them, the two processor tasks and the thread processor handled every item",
    );
    check(
        gave_up_after >= Duration::from_millis(300) && gave_up_after < Duration::from_secs(5),
        "the error handler stopped after 0.5 s without an error (a timeout, not a hang)",
    );
    check(
        input.qsize() == 0 && output.qsize() == 0,
        "join_async returned with both queues drained",
    );
}
