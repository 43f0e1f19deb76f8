//! Writing straight into a ring's free slots, for a producer that makes its
//! items one at a time (the hot thread's journal) but should publish them in
//! batches: no staging buffer, no second copy, one index update per batch.
//!
//! Invariants: items written are invisible to the consumer until
//! [`InPlaceWriter::publish`] (which fences items written with non-temporal
//! stores first); they are published in write order; nothing here
//! allocates, and a full ring is waited on (back-pressure), never a drop.

use std::mem::MaybeUninit;

use crate::{Abandoned, Producer, Waiter};

/// A [`Producer`] that writes items in place into a reserved run of the
/// ring's free slots and publishes them together.
pub struct InPlaceWriter<T> {
    producer: Producer<T>,
    /// First slot of the reserved run (valid while `room + written > 0`).
    run: *mut MaybeUninit<T>,
    /// Slots of the run still free.
    room: usize,
    /// Slots of the run written and not yet published.
    written: usize,
    /// Some of them were written with non-temporal stores (fenced at publish).
    streamed: bool,
    /// Most slots reserved at once (items between two publishes).
    max_run: usize,
}

// SAFETY: `run` points into the ring storage that `producer` keeps alive
// (an `Arc` inside rtrb), and only the owner of this writer touches those
// slots until they are published; moving the writer to another thread moves
// that ownership with it, exactly as moving the `Producer` does.
unsafe impl<T: Send> Send for InPlaceWriter<T> {}

impl<T: Copy> InPlaceWriter<T> {
    /// A writer that publishes at most `max_run` items at once (at least 1).
    pub fn new(producer: Producer<T>, max_run: usize) -> Self {
        Self { producer, run: std::ptr::null_mut(), room: 0, written: 0, streamed: false, max_run: max_run.max(1) }
    }

    /// The next slot of the reserved run, taken (counted as written), or
    /// `None` when the run is used up. The caller must initialise it before
    /// the next publish.
    #[inline(always)]
    fn take_slot(&mut self) -> Option<*mut MaybeUninit<T>> {
        if self.room == 0 {
            return None;
        }
        // slot `written` of the run is inside the reserved run
        // (`written < written + room`), a free slot the consumer cannot see
        let slot = self.run.wrapping_add(self.written);
        self.written += 1;
        self.room -= 1;
        Some(slot)
    }

    /// Writes `item` into the next reserved slot. Returns false, writing
    /// nothing, when the reserved run is used up: [`InPlaceWriter::publish`]
    /// then [`InPlaceWriter::reserve`] make room. Never waits.
    #[inline(always)]
    pub fn try_write(&mut self, item: T) -> bool {
        let Some(slot) = self.take_slot() else { return false };
        // SAFETY: `take_slot` returns a slot inside the reserved run, free
        // and invisible to the consumer until published.
        unsafe { (*slot).write(item) };
        true
    }

    /// [`InPlaceWriter::try_write`] with non-temporal stores (x86-64, for
    /// items whose size is a multiple of 8 bytes and alignment at least 8;
    /// other items and targets write normally): the slot's line is neither
    /// read for ownership nor kept in the writer's caches, which suits a
    /// stream the writer never reads back and another core consumes. The
    /// next [`InPlaceWriter::publish`] fences them before the consumer can
    /// see them. Never waits or allocates.
    #[inline(always)]
    pub fn try_write_streaming(&mut self, item: T) -> bool {
        #[cfg(target_arch = "x86_64")]
        if std::mem::size_of::<T>().is_multiple_of(8) && std::mem::align_of::<T>() >= 8 {
            let Some(slot) = self.take_slot() else { return false };
            // SAFETY: as in `try_write`, the slot is inside the reserved run
            // and invisible to the consumer; it is 8-aligned (T's alignment)
            // and `size_of::<T>() / 8` words long; MOVNTI is SSE2, baseline
            // on x86-64. `item` is Copy: its bytes are its value.
            unsafe {
                use std::arch::x86_64::_mm_stream_si64;
                let dst = slot as *mut i64;
                let src = &item as *const T as *const i64;
                for k in 0..std::mem::size_of::<T>() / 8 {
                    _mm_stream_si64(dst.add(k), src.add(k).read());
                }
            }
            self.streamed = true;
            return true;
        }
        self.try_write(item)
    }

    /// Publishes every item written since the last publish, with one index
    /// update, and keeps what is left of the reserved run.
    #[inline]
    pub fn publish(&mut self) {
        if self.written == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.streamed {
            // SAFETY: SFENCE is SSE, baseline on x86-64: it orders the
            // non-temporal stores before the release store that publishes.
            unsafe { std::arch::x86_64::_mm_sfence() };
            self.streamed = false;
        }
        let n = self.written;
        let chunk = self.producer.inner.write_chunk_uninit(n).expect("written slots were reserved and are still free");
        // SAFETY: the chunk starts at the producer's tail, where the reserved
        // run starts, and its `n` slots are the ones `try_write` initialised.
        unsafe { chunk.commit_all() };
        self.producer.note_pushed(n);
        // SAFETY: `n` slots of the run were consumed; the rest stays reserved.
        self.run = unsafe { self.run.add(n) };
        self.written = 0;
    }

    /// Reserves the next run of free slots (contiguous in the ring, at most
    /// `max_run`), waiting with `waiter` while the ring is full (counts a
    /// stall). Publish first: only an empty run is replaced. Fails only if
    /// the consumer is gone.
    #[inline]
    pub fn reserve(&mut self, waiter: &mut Waiter) -> Result<(), Abandoned> {
        debug_assert_eq!(self.written, 0, "publish before reserving");
        if self.producer.inner.slots() == 0 {
            self.producer.wait_for_room(waiter, 0)?;
        }
        let n = self.producer.inner.slots().min(self.max_run);
        let mut chunk = self.producer.inner.write_chunk_uninit(n).expect("slots were free");
        let (first, _) = chunk.as_mut_slices();
        self.run = first.as_mut_ptr();
        self.room = first.len();
        // The chunk is dropped unpublished: the slots stay free for the consumer's
        // view and reserved for this writer (nobody else writes to the ring).
        Ok(())
    }

    /// For a writer whose reserved run is used up: publishes what it wrote,
    /// then reserves the next run, waiting with `waiter` while the ring is
    /// full. Returns whether the next write has room (false only if the
    /// consumer is gone). The slow path of a producer that writes one item
    /// at a time; never allocates.
    #[cold]
    #[inline(never)]
    pub fn make_room(&mut self, waiter: &mut Waiter) -> bool {
        self.publish();
        self.reserve(waiter).is_ok() && self.has_room()
    }

    /// True while the reserved run has a free slot (the next
    /// [`InPlaceWriter::try_write`] succeeds).
    #[inline(always)]
    pub fn has_room(&self) -> bool {
        self.room > 0
    }

    /// The address of the reserved slot `ahead` places after the next one,
    /// if the reserved run reaches that far (for cache hints: never
    /// dereference it).
    #[inline(always)]
    pub fn slot_ahead(&self, ahead: usize) -> Option<*const T> {
        // The slot at `written + ahead` lies inside the reserved run.
        (ahead < self.room).then(|| self.run.wrapping_add(self.written + ahead).cast_const().cast())
    }

    /// Items written and not yet published.
    #[inline]
    pub fn unpublished(&self) -> usize {
        self.written
    }

    /// The producer (counters, abandonment).
    pub fn producer(&self) -> &Producer<T> {
        &self.producer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{channel, WaitStrategy};

    #[test]
    fn items_appear_only_when_published_in_order_across_the_wrap() {
        let (p, mut c) = channel::<u64>("t", 8);
        let mut w = InPlaceWriter::new(p, 5);
        let mut waiter = Waiter::new(WaitStrategy::BusySpin);
        let mut seen = Vec::new();
        let mut next = 0u64;
        for round in 0..20 {
            for _ in 0..(round % 7) {
                if !w.try_write(next) {
                    w.publish();
                    w.reserve(&mut waiter).unwrap();
                    assert!(w.try_write(next));
                }
                next += 1;
            }
            w.publish();
            c.drain(usize::MAX, |b| seen.extend_from_slice(b));
            assert_eq!(seen.len() as u64, next);
        }
        assert_eq!(seen, (0..next).collect::<Vec<_>>());
        assert_eq!(w.producer().stats().snapshot().pushed, next);
    }

    #[test]
    fn streamed_items_reach_a_consumer_on_another_thread_whole_and_in_order() {
        // 64-byte items (a journal record's size), every third written
        // normally, the rest with non-temporal stores; the consumer checks
        // every word of every item it sees published.
        type Item = [u64; 8];
        let item = |i: u64| -> Item { std::array::from_fn(|k| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k as u64) };
        let (p, mut c) = channel::<Item>("t", 64);
        const N: u64 = 200_000;
        let consumer = std::thread::spawn(move || {
            let mut next = 0u64;
            while next < N {
                c.drain(usize::MAX, |b| {
                    for got in b {
                        assert_eq!(*got, item(next), "item {next}");
                        next += 1;
                    }
                });
            }
            next
        });
        let mut w = InPlaceWriter::new(p, 16);
        let mut waiter = Waiter::new(WaitStrategy::BusySpin);
        for i in 0..N {
            let write = |w: &mut InPlaceWriter<Item>| {
                if i % 3 == 0 {
                    w.try_write(item(i))
                } else {
                    w.try_write_streaming(item(i))
                }
            };
            if !write(&mut w) {
                w.publish();
                w.reserve(&mut waiter).unwrap();
                assert!(write(&mut w));
            }
            if i % 5 == 0 {
                w.publish();
            }
        }
        w.publish();
        assert_eq!(consumer.join().unwrap(), N);
    }

    #[test]
    fn written_items_stay_invisible_until_published() {
        let (p, mut c) = channel::<u32>("t", 16);
        let mut w = InPlaceWriter::new(p, 16);
        w.reserve(&mut Waiter::new(WaitStrategy::BusySpin)).unwrap();
        assert!(w.try_write(1) && w.try_write(2));
        assert_eq!((c.len(), w.unpublished()), (0, 2));
        w.publish();
        let mut seen = Vec::new();
        c.drain(usize::MAX, |b| seen.extend_from_slice(b));
        assert_eq!((seen, w.unpublished()), (vec![1, 2], 0));
    }

    #[test]
    fn a_full_ring_is_waited_on_and_a_gone_consumer_is_an_error() {
        let (p, c) = channel::<u32>("t", 4);
        let mut w = InPlaceWriter::new(p, 16);
        let mut waiter = Waiter::new(WaitStrategy::BusySpin);
        w.reserve(&mut waiter).unwrap();
        for i in 0..4 {
            assert!(w.try_write(i));
        }
        assert!(!w.try_write(4), "the run is the ring's 4 free slots");
        w.publish();
        drop(c);
        assert!(w.reserve(&mut waiter).is_err());
    }

    #[test]
    fn room_and_the_slots_ahead_follow_the_reserved_run() {
        let (p, _c) = channel::<u64>("t", 8);
        let mut w = InPlaceWriter::new(p, 4);
        assert!(!w.has_room() && w.slot_ahead(0).is_none(), "nothing reserved yet");
        w.reserve(&mut Waiter::new(WaitStrategy::BusySpin)).unwrap();
        let first = w.slot_ahead(0).expect("a run of 4");
        for k in 0..4 {
            assert_eq!(w.slot_ahead(k), Some(first.wrapping_add(k)), "slot {k} of the run");
        }
        assert!(w.slot_ahead(4).is_none(), "past the run");
        assert!(w.has_room() && w.try_write(7));
        assert_eq!(w.slot_ahead(0), Some(first.wrapping_add(1)), "the next free slot moved on");
        assert!(w.slot_ahead(3).is_none());
        for v in 0..3 {
            assert!(w.try_write(v));
        }
        assert!(!w.has_room() && w.slot_ahead(0).is_none() && !w.try_write(9));
    }
}
