//! Ring counters, each written by one side only (single writer), readable by any thread.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crossbeam_utils::CachePadded;

/// Counters of one ring. Producer-side and consumer-side counters live on
/// separate cache lines so that publishing them never makes the two sides
/// contend.
#[derive(Debug)]
pub struct RingStats {
    name: &'static str,
    capacity: usize,
    producer: CachePadded<ProducerSide>,
    consumer: CachePadded<ConsumerSide>,
}

#[derive(Debug, Default)]
struct ProducerSide {
    pushed: AtomicU64,
    stalls: AtomicU64,
}

#[derive(Debug, Default)]
struct ConsumerSide {
    popped: AtomicU64,
    high_water: AtomicU64,
}

/// A consistent-enough copy of a ring's counters (each field read atomically).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingSnapshot {
    pub capacity: u64,
    /// Items published so far.
    pub pushed: u64,
    /// Items consumed so far.
    pub popped: u64,
    /// Times the producer found the ring full and had to wait.
    pub stalls: u64,
    /// Largest depth the consumer saw when it drained.
    pub high_water: u64,
}

impl RingSnapshot {
    /// Items in the ring at snapshot time (approximate while both sides run).
    pub fn depth(&self) -> u64 {
        self.pushed.saturating_sub(self.popped)
    }
}

impl RingStats {
    pub(crate) fn new(name: &'static str, capacity: usize) -> Self {
        Self {
            name,
            capacity,
            producer: CachePadded::new(ProducerSide::default()),
            consumer: CachePadded::new(ConsumerSide::default()),
        }
    }

    /// The ring's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The ring's capacity in items.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> RingSnapshot {
        RingSnapshot {
            capacity: self.capacity as u64,
            pushed: self.producer.pushed.load(Relaxed),
            popped: self.consumer.popped.load(Relaxed),
            stalls: self.producer.stalls.load(Relaxed),
            high_water: self.consumer.high_water.load(Relaxed),
        }
    }

    #[inline]
    pub(crate) fn store_pushed(&self, v: u64) {
        self.producer.pushed.store(v, Relaxed)
    }
    #[inline]
    pub(crate) fn store_stalls(&self, v: u64) {
        self.producer.stalls.store(v, Relaxed)
    }
    #[inline]
    pub(crate) fn store_popped(&self, v: u64) {
        self.consumer.popped.store(v, Relaxed)
    }
    #[inline]
    pub(crate) fn store_high_water(&self, v: u64) {
        self.consumer.high_water.store(v, Relaxed)
    }
}
