//! Stress: N producers × M consumers on each queue kind, with and without a racing
//! `shutdown` (normal or immediate). Every item is either received exactly once, or handed
//! back (in a `PutError` or by an immediate shutdown): nothing lost, nothing duplicated;
//! `join()` returns.

// Under loom only the in-crate models build.
#![cfg(not(contexture_loom))]

use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use contexture_sync::{LifoQueue, PriorityQueue, Queue};

const PRODUCERS: usize = 3;
const CONSUMERS: usize = 3;

fn per_producer() -> usize {
    if cfg!(miri) {
        15
    } else {
        20_000
    }
}

/// The operations the stress needs, over the three kinds.
trait Q: Sync {
    fn put(&self, i: usize, form: usize) -> Result<(), usize>;
    fn get(&self, form: usize) -> Option<Result<usize, ()>>;
    fn task_done(&self);
    fn join(&self);
    fn shutdown(&self, immediate: bool) -> Vec<usize>;
}

macro_rules! impl_q {
    ($t:ident) => {
        impl Q for $t<usize> {
            /// `Err(item)` when refused for good (shut down); retried while merely full.
            fn put(&self, i: usize, form: usize) -> Result<(), usize> {
                let mut item = i;
                loop {
                    let result = match form % 3 {
                        0 => self.put(item),
                        1 => self.try_put(item),
                        _ => self.put_timeout(item, Duration::from_micros(200)),
                    };
                    match result {
                        Ok(()) => return Ok(()),
                        Err(e) if e.is_shut_down() => return Err(e.into_inner()),
                        Err(e) => {
                            item = e.into_inner();
                            thread::yield_now();
                        }
                    }
                }
            }
            /// `None`: shut down and empty. `Some(Err(()))`: nothing yet, try again.
            fn get(&self, form: usize) -> Option<Result<usize, ()>> {
                let result = match form % 3 {
                    0 => self.get(),
                    1 => self.try_get(),
                    _ => self.get_timeout(Duration::from_micros(200)),
                };
                match result {
                    Ok(item) => Some(Ok(item)),
                    Err(contexture_sync::GetError::ShutDown) => None,
                    Err(contexture_sync::GetError::Empty) => {
                        thread::yield_now();
                        Some(Err(()))
                    }
                }
            }
            fn task_done(&self) {
                $t::task_done(self).unwrap();
            }
            fn join(&self) {
                $t::join(self)
            }
            fn shutdown(&self, immediate: bool) -> Vec<usize> {
                $t::shutdown(self, immediate)
            }
        }
    };
}
impl_q!(Queue);
impl_q!(LifoQueue);
impl_q!(PriorityQueue);

/// `racing`: `None` = no shutdown until the end; `Some(immediate)` = a shutdown races the
/// producers and consumers.
fn stress(q: &dyn Q, racing: Option<bool>) {
    let total = PRODUCERS * per_producer();
    let received = Mutex::new(vec![0u8; total]);
    let refused = Mutex::new(Vec::new());
    let discarded = Mutex::new(Vec::new());
    thread::scope(|s| {
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let refused = &refused;
                s.spawn(move || {
                    for k in 0..per_producer() {
                        let item = p * per_producer() + k;
                        if let Err(back) = q.put(item, k + p) {
                            refused.lock().unwrap().push(back);
                        }
                    }
                })
            })
            .collect();
        for c in 0..CONSUMERS {
            let received = &received;
            s.spawn(move || {
                let mut form = c;
                while let Some(got) = q.get(form) {
                    form += 1;
                    if let Ok(item) = got {
                        received.lock().unwrap()[item] += 1;
                        q.task_done();
                    }
                }
            });
        }
        if let Some(immediate) = racing {
            let (received, discarded) = (&received, &discarded);
            s.spawn(move || {
                // Let some traffic through first.
                while received.lock().unwrap().iter().filter(|&&n| n > 0).count() < total / 10 {
                    thread::yield_now();
                }
                discarded.lock().unwrap().extend(q.shutdown(immediate));
            });
        }
        for p in producers {
            p.join().unwrap();
        }
        if racing.is_none() {
            q.join(); // every item put has been received and marked done
            assert!(received.lock().unwrap().iter().all(|&n| n == 1));
            q.shutdown(false); // lets the consumers go
        }
    });
    q.join(); // returns: done or discarded
    let received = received.into_inner().unwrap();
    let mut back = vec![0u8; total];
    for i in refused.into_inner().unwrap() {
        back[i] += 1;
    }
    for i in discarded.into_inner().unwrap() {
        back[i] += 1;
    }
    for i in 0..total {
        assert_eq!(
            received[i] + back[i],
            1,
            "item {i}: received {} times, handed back {} times",
            received[i],
            back[i]
        );
    }
}

#[test]
fn fifo_no_shutdown() {
    stress(&Queue::new(64), None);
}

#[test]
fn fifo_racing_shutdown() {
    stress(&Queue::new(64), Some(false));
}

#[test]
fn fifo_racing_immediate_shutdown() {
    stress(&Queue::new(64), Some(true));
}

#[test]
fn lifo_no_shutdown() {
    stress(&LifoQueue::new(16), None);
}

#[test]
fn lifo_racing_shutdown() {
    stress(&LifoQueue::new(16), Some(false));
}

#[test]
fn lifo_racing_immediate_shutdown() {
    stress(&LifoQueue::new(0), Some(true));
}

#[test]
fn priority_no_shutdown() {
    stress(&PriorityQueue::new(0), None);
}

#[test]
fn priority_racing_shutdown() {
    stress(&PriorityQueue::new(8), Some(false));
}

#[test]
fn priority_racing_immediate_shutdown() {
    stress(&PriorityQueue::new(32), Some(true));
}

/// FIFO order per producer survives concurrency: each consumer sees every producer's items
/// in increasing order.
#[test]
fn fifo_keeps_each_producers_order() {
    let q = Queue::new(16);
    thread::scope(|s| {
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let q = &q;
                s.spawn(move || {
                    for k in 0..per_producer() {
                        q.put((p, k)).unwrap();
                    }
                })
            })
            .collect();
        for _ in 0..CONSUMERS {
            s.spawn(|| {
                let mut last = [None; PRODUCERS];
                while let Ok((p, k)) = q.get() {
                    assert!(last[p] < Some(k));
                    last[p] = Some(k);
                    q.task_done().unwrap();
                }
            });
        }
        for p in producers {
            p.join().unwrap();
        }
        q.join();
        q.shutdown(false);
    });
}
