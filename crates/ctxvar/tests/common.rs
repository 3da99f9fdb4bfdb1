//! Helpers shared by the test files: a value that records its drops.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A value whose drop increments a shared counter.
#[derive(Debug)]
pub struct Tracked {
    pub name: &'static str,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    pub fn new(name: &'static str, drops: &Arc<AtomicUsize>) -> Arc<Tracked> {
        Arc::new(Tracked {
            name,
            drops: drops.clone(),
        })
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

pub fn count(c: &Arc<AtomicUsize>) -> usize {
    c.load(Ordering::SeqCst)
}
