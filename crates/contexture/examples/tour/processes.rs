//! Tour scenario for the chapter's `multiprocessing` examples, on threads.
//!
//! contexture has no processes: Rust threads already run in parallel (no GIL to escape) and
//! share memory safely, so a `multiprocessing.Queue` becomes a `sync::Queue` between
//! threads, a `Pipe` a channel, `Value`/`Array` under a `Lock` plain data under a `Lock`
//! (or atomics), and a `Manager` dict a map under a `Lock` (see the `races` section's
//! `ThreadSafeDict`). `docs/python.md` says why processes are out of scope.

use std::thread;
use std::time::Duration;

use contexture::sync::{GetError, Queue};

use crate::{check, scenario};

/// The seed's `multiprocessing.Queue(maxsize=10)` producer/consumer, with threads.
pub(crate) fn queue_between_workers() {
    scenario(
        "multiprocessing.Queue between a producer and a consumer, as threads and sync::Queue",
        "q = multiprocessing.Queue(maxsize=10); Process(target=producer) / Process(target=consumer); q.put(None) to stop",
    );
    let q: Queue<String> = Queue::new(10);
    let consumed = thread::scope(|s| {
        let producer = s.spawn(|| {
            for i in 0..5 {
                let item = format!("Item-{i}");
                println!("   produced: {item}");
                q.put(item).expect("the queue is open while producing");
                thread::sleep(Duration::from_millis(5));
            }
            // Where the seed puts a `None` sentinel: shut the queue down. The consumer still
            // gets every item already in it, then `GetError::ShutDown`.
            q.shutdown(false);
        });
        let consumer = s.spawn(|| {
            let mut consumed = Vec::new();
            loop {
                match q.get() {
                    Ok(item) => {
                        println!("   consumed: {item}");
                        consumed.push(item);
                        thread::sleep(Duration::from_millis(10));
                    }
                    Err(GetError::ShutDown) => break consumed,
                    Err(GetError::Empty) => unreachable!("a blocking get never reports Empty"),
                }
            }
        });
        producer.join().expect("the producer does not panic");
        consumer.join().expect("the consumer does not panic")
    });
    let expected: Vec<String> = (0..5).map(|i| format!("Item-{i}")).collect();
    check(
        consumed == expected,
        "the consumer gets the five items in order, then the shutdown ends its loop",
    );
    check(
        q.put("late".to_owned()).is_err(),
        "a put after the shutdown is refused (and hands the item back)",
    );
}
