//! Typed single-producer single-consumer rings for TradeEngine, over `rtrb`.
//!
//! Invariants (the reasons to use this crate rather than a raw `rtrb`):
//! - Exactly one producer and one consumer, each owned by one thread; no locks.
//! - After [`channel`] returns, no operation here allocates, locks or makes a
//!   system call, except the waits of [`WaitStrategy::SpinThenYield`] and
//!   [`WaitStrategy::SpinThenPark`] (meant for cold threads).
//! - A full ring is back-pressure: [`Producer::push_slice`] waits and counts a
//!   stall; nothing is ever dropped silently.
//! - Items move in batches (`push_slice`, `drain`, [`InPlaceWriter`] for
//!   items made one at a time): one index update per batch, not per item.
//! - Counters (pushed, popped, producer stalls, depth high-water mark) are
//!   written only by their owning side, with plain relaxed stores, and can be
//!   read at any time from any thread through [`RingStats`].

mod in_place;
mod stats;
mod wait;

pub use in_place::InPlaceWriter;
pub use stats::{RingSnapshot, RingStats};
pub use wait::{WaitStrategy, Waiter};

use std::sync::Arc;

/// Creates a ring of `capacity` items named `name` (for metrics and errors).
///
/// This allocates the ring storage; call it during start-up only.
pub fn channel<T: Copy + Send>(name: &'static str, capacity: usize) -> (Producer<T>, Consumer<T>) {
    assert!(capacity > 0, "ring `{name}` needs a capacity above zero");
    let (p, c) = rtrb::RingBuffer::new(capacity);
    let stats = Arc::new(RingStats::new(name, capacity));
    (
        Producer { inner: p, stats: stats.clone(), pushed: 0, stalls: 0 },
        Consumer { inner: c, stats, popped: 0, high_water: 0 },
    )
}

/// The consumer went away while the producer still had items to publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abandoned {
    /// Items of the slice that were published before the consumer vanished.
    pub published: usize,
}

impl std::fmt::Display for Abandoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ring consumer abandoned after {} items of the batch", self.published)
    }
}
impl std::error::Error for Abandoned {}

/// The writing end of a ring. Owned by one thread.
pub struct Producer<T> {
    inner: rtrb::Producer<T>,
    stats: Arc<RingStats>,
    pushed: u64,
    stalls: u64,
}

impl<T: Copy> Producer<T> {
    /// Copies as many items from `items` as fit, publishes them with one index
    /// update, and returns how many. Never waits, never allocates.
    #[inline]
    pub fn try_push_slice(&mut self, items: &[T]) -> usize {
        let (done, _) = self.inner.push_partial_slice(items);
        let n = done.len();
        if n > 0 {
            self.note_pushed(n);
        }
        n
    }

    /// Counts `n` items just published.
    #[inline]
    fn note_pushed(&mut self, n: usize) {
        self.pushed += n as u64;
        self.stats.store_pushed(self.pushed);
    }

    /// Publishes every item of `items`, in order, waiting with `waiter` while the
    /// ring is full (each wait episode counts one producer stall). Never drops.
    /// Fails only if the consumer is gone.
    #[inline]
    pub fn push_slice(&mut self, mut items: &[T], waiter: &mut Waiter) -> Result<(), Abandoned> {
        let total = items.len();
        loop {
            let n = self.try_push_slice(items);
            items = &items[n..];
            if items.is_empty() {
                return Ok(());
            }
            self.wait_for_room(waiter, total - items.len())?;
        }
    }

    /// Publishes every item of `items`, in order, passing each through `map`
    /// as it is written into the ring's slots (one pass: e.g. stamping an
    /// ingress time while copying out of a memory-mapped file, or wrapping
    /// events into records). Waits like [`Producer::push_slice`] while the
    /// ring is full; never drops, never allocates.
    #[inline]
    pub fn push_slice_map<U>(
        &mut self,
        mut items: &[U],
        waiter: &mut Waiter,
        mut map: impl FnMut(&U) -> T,
    ) -> Result<(), Abandoned> {
        let total = items.len();
        loop {
            let n = items.len().min(self.inner.slots());
            if n > 0 {
                if let Ok(chunk) = self.inner.write_chunk_uninit(n) {
                    chunk.fill_from_iter(items[..n].iter().map(&mut map));
                    self.note_pushed(n);
                    items = &items[n..];
                }
            }
            if items.is_empty() {
                return Ok(());
            }
            self.wait_for_room(waiter, total - items.len())?;
        }
    }

    /// The ring is full: counts one stall and waits with `waiter` until a slot
    /// frees. Fails (with `published` items of the batch out) if the consumer is gone.
    #[inline]
    fn wait_for_room(&mut self, waiter: &mut Waiter, published: usize) -> Result<(), Abandoned> {
        if self.inner.is_abandoned() {
            return Err(Abandoned { published });
        }
        self.stalls += 1;
        self.stats.store_stalls(self.stalls);
        waiter.reset();
        while self.inner.slots() == 0 {
            if self.inner.is_abandoned() {
                return Err(Abandoned { published });
            }
            waiter.wait();
        }
        Ok(())
    }

    /// Publishes one item if there is room. Single-item pushes cost a full
    /// cross-core index update each: prefer [`Producer::push_slice`] on hot paths.
    #[inline]
    pub fn try_push(&mut self, item: T) -> bool {
        if self.inner.push(item).is_ok() {
            self.note_pushed(1);
            true
        } else {
            false
        }
    }

    /// Free slots right now (reads the consumer's index).
    #[inline]
    pub fn free_slots(&self) -> usize {
        self.inner.slots()
    }

    /// Items the ring holds when full (fixed at [`channel`]).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.inner.buffer().capacity()
    }

    /// True when the consumer has taken (and released) every item published:
    /// a consumer that handles items inside [`Consumer::drain`] has handled them all.
    #[inline]
    pub fn is_drained(&self) -> bool {
        self.inner.slots() == self.inner.buffer().capacity()
    }

    /// True once the consumer has been dropped.
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        self.inner.is_abandoned()
    }

    /// Shared counters of this ring.
    pub fn stats(&self) -> &Arc<RingStats> {
        &self.stats
    }
}

/// The reading end of a ring. Owned by one thread.
pub struct Consumer<T> {
    inner: rtrb::Consumer<T>,
    stats: Arc<RingStats>,
    popped: u64,
    high_water: u64,
}

impl<T: Copy> Consumer<T> {
    /// Hands up to `max` available items to `f` as one or two contiguous
    /// slices (two when the batch wraps), then frees them with one index
    /// update. Returns how many were drained. Never waits, never allocates.
    /// The depth seen here feeds the high-water mark.
    #[inline]
    pub fn drain(&mut self, max: usize, mut f: impl FnMut(&[T])) -> usize {
        let avail = self.inner.slots();
        if avail == 0 {
            return 0;
        }
        if avail as u64 > self.high_water {
            self.high_water = avail as u64;
            self.stats.store_high_water(self.high_water);
        }
        let n = avail.min(max);
        let chunk = match self.inner.read_chunk(n) {
            Ok(c) => c,
            Err(_) => return 0,
        };
        let (a, b) = chunk.as_slices();
        if !a.is_empty() {
            f(a);
        }
        if !b.is_empty() {
            f(b);
        }
        chunk.commit_all();
        self.popped += n as u64;
        self.stats.store_popped(self.popped);
        n
    }

    /// Copies up to `buf.len()` items into `buf`; returns how many.
    #[inline]
    pub fn pop_into(&mut self, buf: &mut [T]) -> usize {
        let mut off = 0;
        self.drain(buf.len(), |s| {
            buf[off..off + s.len()].copy_from_slice(s);
            off += s.len();
        });
        off
    }

    /// Pops one item. Single-item pops cost a full cross-core index update
    /// each: prefer [`Consumer::drain`] on hot paths.
    #[inline]
    pub fn try_pop(&mut self) -> Option<T> {
        let v = self.inner.pop().ok()?;
        self.popped += 1;
        self.stats.store_popped(self.popped);
        Some(v)
    }

    /// Items available right now.
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.slots()
    }

    /// True if nothing is available right now.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// True once the producer has been dropped (items may still be left to drain).
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        self.inner.is_abandoned()
    }

    /// True when the producer is gone and every item has been drained.
    #[inline]
    pub fn is_finished(&self) -> bool {
        self.inner.is_abandoned() && self.inner.is_empty()
    }

    /// Shared counters of this ring.
    pub fn stats(&self) -> &Arc<RingStats> {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_order_across_wrap() {
        let (mut p, mut c) = channel::<u64>("t", 8);
        let mut w = Waiter::new(WaitStrategy::BusySpin);
        let mut seen = Vec::new();
        for round in 0..5u64 {
            let batch: Vec<u64> = (round * 6..round * 6 + 6).collect();
            p.push_slice(&batch, &mut w).unwrap();
            let mut slices = 0;
            c.drain(usize::MAX, |s| {
                slices += 1;
                seen.extend_from_slice(s)
            });
            assert!(slices <= 2);
        }
        assert_eq!(seen, (0..30).collect::<Vec<_>>());
        let s = p.stats().snapshot();
        assert_eq!((s.pushed, s.popped, s.stalls), (30, 30, 0));
        assert_eq!(s.high_water, 6);
    }

    #[test]
    fn full_ring_is_back_pressure_not_a_drop() {
        let (mut p, mut c) = channel::<u32>("bp", 4);
        assert_eq!(p.try_push_slice(&[1, 2, 3, 4, 5, 6]), 4);
        assert_eq!((p.free_slots(), p.capacity()), (0, 4));
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            while got.len() < 1004 {
                let mut buf = [0u32; 3];
                let n = c.pop_into(&mut buf);
                got.extend_from_slice(&buf[..n]);
            }
            got
        });
        let more: Vec<u32> = (5..1005).collect();
        let mut w = Waiter::new(WaitStrategy::SpinThenYield);
        p.push_slice(&more, &mut w).unwrap();
        let got = consumer.join().unwrap();
        assert_eq!(got, (1..1005).collect::<Vec<_>>());
        assert!(p.stats().snapshot().stalls >= 1, "a full ring must count a stall");
    }

    #[test]
    fn push_slice_map_transforms_in_order_through_a_full_ring() {
        let (mut p, mut c) = channel::<u64>("map", 3);
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            while got.len() < 100 {
                c.drain(usize::MAX, |s| got.extend_from_slice(s));
            }
            got
        });
        let items: Vec<u64> = (0..100).collect();
        let mut w = Waiter::new(WaitStrategy::SpinThenYield);
        p.push_slice_map(&items, &mut w, |x| x * 10).unwrap();
        assert_eq!(consumer.join().unwrap(), (0..100).map(|x| x * 10).collect::<Vec<_>>());
        assert_eq!(p.stats().snapshot().pushed, 100);
    }

    #[test]
    fn abandoned_consumer_ends_the_wait() {
        let (mut p, c) = channel::<u8>("ab", 2);
        drop(c);
        let mut w = Waiter::new(WaitStrategy::BusySpin);
        assert_eq!(p.push_slice(&[1, 2, 3], &mut w), Err(Abandoned { published: 2 }));
    }

    #[test]
    fn finished_only_after_drain() {
        let (mut p, mut c) = channel::<u8>("fin", 4);
        assert!(p.try_push(9));
        drop(p);
        assert!(c.is_abandoned());
        assert!(!c.is_finished());
        assert_eq!(c.try_pop(), Some(9));
        assert!(c.is_finished());
    }
}
