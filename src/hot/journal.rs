//! The hot thread's journal output: records are written straight into the
//! journal ring's free slots and published in batches.
//!
//! Hot-path rules: `emit` never allocates and copies each record once, into
//! its ring slot; a full ring is back-pressure (the hot thread spins and the
//! ring counts a stall), never a drop.

use ringbuffers::{InPlaceWriter, Producer, WaitStrategy, Waiter};
use tradeengine_model::JournalEvent;

/// How many slots ahead of the record being written the next slot's line is
/// asked for, owned.
const JOURNAL_WRITE_AHEAD: usize = 8;

/// Journal output of the hot thread.
pub struct JournalOut {
    writer: Option<InPlaceWriter<JournalEvent>>,
    waiter: Waiter,
    /// Records that could not be delivered because the consumer was gone.
    lost: u64,
}

impl JournalOut {
    /// A journal writer that publishes at most `batch` records at once
    /// (fewer at each [`JournalOut::flush`]). Start-up only.
    pub fn new(producer: Producer<JournalEvent>, batch: usize) -> Self {
        Self {
            writer: Some(InPlaceWriter::new(producer, batch.max(16))),
            waiter: Waiter::new(WaitStrategy::BusySpin),
            lost: 0,
        }
    }

    /// Writes one record into the ring (unpublished until the next flush, or
    /// until the reserved slots run out).
    ///
    /// The record is only used once a slot is known to be free, so the
    /// compiler stores its fields straight into the slot: building it on the
    /// stack and block-copying it (as when the slow path also took it) made
    /// every record a store-forwarding stall — wide loads over narrow stores.
    #[inline(always)]
    pub fn emit(&mut self, ev: JournalEvent) {
        let ready = self.writer.as_ref().is_some_and(InPlaceWriter::has_room) || self.make_room();
        match self.writer.as_mut() {
            Some(w) if ready => {
                if let Some(p) = w.slot_ahead(JOURNAL_WRITE_AHEAD) {
                    super::memory::prefetch_for_write(p);
                }
                let written = w.try_write(ev);
                debug_assert!(written, "room was checked");
            }
            // The cold consumer died: nothing can be delivered any more. The
            // run's owner sees `lost() > 0` and fails the run loudly.
            _ => self.lost += 1,
        }
    }

    /// [`JournalOut::emit`] when the reserved slots are used up: publish,
    /// reserve more (waiting while the ring is full). False if the consumer
    /// is gone.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) -> bool {
        let Some(w) = self.writer.as_mut() else {
            return false;
        };
        w.publish();
        w.reserve(&mut self.waiter).is_ok() && w.has_room()
    }

    /// Publishes every record written since the last flush.
    #[inline]
    pub fn flush(&mut self) {
        if let Some(w) = self.writer.as_mut() {
            w.publish();
        }
    }

    /// Flushes and closes the journal, so its consumer sees the end of the stream.
    pub fn close(&mut self) {
        self.flush();
        self.writer = None;
    }

    /// Records lost because the consumer went away (0 in a healthy run).
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringbuffers::channel;
    use tradeengine_model::Fill;

    fn fill(seq: u64) -> JournalEvent {
        Fill { seq, ..Default::default() }.into()
    }

    #[test]
    fn records_arrive_in_order_at_flush_and_a_gone_consumer_counts_losses() {
        let (tx, mut rx) = channel("journal", 64);
        let mut j = JournalOut::new(tx, 16);
        let mut seen = Vec::new();
        for seq in 0..1000 {
            j.emit(fill(seq));
            if seq % 7 == 0 {
                j.flush();
                rx.drain(usize::MAX, |b| seen.extend(b.iter().map(|e| e.seq())));
            }
        }
        j.flush();
        rx.drain(usize::MAX, |b| seen.extend(b.iter().map(|e| e.seq())));
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        assert_eq!(j.lost(), 0);
        drop(rx);
        // the ring has 64 slots: what fits is written, the rest is lost
        for seq in 0..100 {
            j.emit(fill(seq));
        }
        j.close();
        assert_eq!(j.lost(), 36);
        j.emit(fill(0));
        assert_eq!(j.lost(), 37, "after close every record is counted lost");
    }
}
