//! The venue link of live mode and of the latency harness: orders are staged
//! and published to the orders ring once per hot-loop turn; execution reports
//! come back on the exec-reports ring.
//!
//! Hot-path rules: `submit` and `flush` never allocate; a full orders ring is
//! back-pressure (busy wait, counted as a stall by the ring), never a drop.

use ringbuffers::{Producer, WaitStrategy, Waiter};
use tradeengine_adapters::venue::{ExecBatch, Venue};
use tradeengine_model::OrderRequest;

/// Orders out over an SPSC ring.
pub struct RingVenue {
    producer: Producer<OrderRequest>,
    stage: Box<[OrderRequest]>,
    len: usize,
    waiter: Waiter,
    /// Orders that could not be delivered because the consumer was gone.
    lost: u64,
}

impl RingVenue {
    /// A link staging up to `stage` orders between flushes. Start-up only.
    pub fn new(producer: Producer<OrderRequest>, stage: usize) -> Self {
        Self {
            producer,
            stage: vec![OrderRequest::default(); stage.max(1)].into_boxed_slice(),
            len: 0,
            waiter: Waiter::new(WaitStrategy::BusySpin),
            lost: 0,
        }
    }

    /// Orders lost because the venue side went away (0 in a healthy run).
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

impl Venue for RingVenue {
    #[inline]
    fn submit(&mut self, order: &OrderRequest, _out: &mut ExecBatch) {
        if self.len == self.stage.len() {
            self.flush();
        }
        self.stage[self.len] = *order;
        self.len += 1;
    }

    #[inline]
    fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        if let Err(e) = self.producer.push_slice(&self.stage[..self.len], &mut self.waiter) {
            self.lost += (self.len - e.published) as u64;
        }
        self.len = 0;
    }
}
