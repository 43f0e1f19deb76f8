//! The hot thread's journal output: records are staged in a preallocated
//! buffer and published to the journal ring in batches.
//!
//! Hot-path rules: `emit` never allocates; a full ring is back-pressure (the
//! hot thread spins and the ring counts a stall), never a drop.

use ringbuffers::{Producer, WaitStrategy, Waiter};
use tradeengine_model::JournalEvent;

/// Staged journal output of the hot thread.
pub struct JournalOut {
    producer: Option<Producer<JournalEvent>>,
    stage: Box<[JournalEvent]>,
    len: usize,
    waiter: Waiter,
    /// Records that could not be delivered because the consumer was gone.
    lost: u64,
}

impl JournalOut {
    /// A journal writer that stages up to `stage` records between flushes. Start-up only.
    pub fn new(producer: Producer<JournalEvent>, stage: usize) -> Self {
        Self {
            producer: Some(producer),
            stage: vec![JournalEvent::default(); stage.max(16)].into_boxed_slice(),
            len: 0,
            waiter: Waiter::new(WaitStrategy::BusySpin),
            lost: 0,
        }
    }

    /// Stages one record, publishing the stage first if it is full.
    #[inline]
    pub fn emit(&mut self, ev: JournalEvent) {
        if self.len == self.stage.len() {
            self.flush();
        }
        self.stage[self.len] = ev;
        self.len += 1;
    }

    /// Publishes every staged record (waits while the ring is full).
    #[inline]
    pub fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        if let Some(p) = self.producer.as_mut() {
            if let Err(e) = p.push_slice(&self.stage[..self.len], &mut self.waiter) {
                // The cold consumer died: nothing can be delivered any more. The
                // run's owner sees `lost() > 0` and fails the run loudly.
                self.lost += (self.len - e.published) as u64;
            }
        } else {
            self.lost += self.len as u64;
        }
        self.len = 0;
    }

    /// Flushes and closes the journal, so its consumer sees the end of the stream.
    pub fn close(&mut self) {
        self.flush();
        self.producer = None;
    }

    /// Records lost because the consumer went away (0 in a healthy run).
    pub fn lost(&self) -> u64 {
        self.lost
    }
}
