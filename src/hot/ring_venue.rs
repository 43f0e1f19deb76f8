//! The venue link of live mode and of the latency harness: orders are written
//! straight into the orders ring's free slots (no staging copy: the order's
//! only copy is the one the venue side reads) and published once per hot-loop
//! turn; execution reports come back on the exec-reports ring.
//!
//! Hot-path rules: `submit` and `flush` never allocate; a full orders ring is
//! back-pressure (busy wait, counted as a stall by the ring), never a drop.

use ringbuffers::{InPlaceWriter, Producer, WaitStrategy, Waiter};
use tradeengine_adapters::venue::{ExecBatch, Venue};
use tradeengine_model::OrderRequest;

/// Orders out over an SPSC ring.
pub struct RingVenue {
    writer: InPlaceWriter<OrderRequest>,
    waiter: Waiter,
    /// Orders that could not be delivered because the consumer was gone.
    lost: u64,
}

impl RingVenue {
    /// A link that publishes at most `stage` orders at once (more written
    /// between two flushes are published as the reserved slots run out).
    /// Start-up only.
    pub fn new(producer: Producer<OrderRequest>, stage: usize) -> Self {
        Self { writer: InPlaceWriter::new(producer, stage), waiter: Waiter::new(WaitStrategy::BusySpin), lost: 0 }
    }

    /// Orders lost because the venue side went away (0 in a healthy run).
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

impl Venue for RingVenue {
    #[inline]
    fn submit(&mut self, order: &OrderRequest, _out: &mut ExecBatch) {
        if !self.writer.has_room() && !self.writer.make_room(&mut self.waiter) {
            self.lost += 1;
            return;
        }
        let written = self.writer.try_write(*order);
        debug_assert!(written);
    }

    #[inline]
    fn flush(&mut self) {
        self.writer.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringbuffers::channel;

    fn order(seq: u64) -> OrderRequest {
        OrderRequest { action: OrderRequest::NEW, seq, order_id: seq + 1, ..Default::default() }
    }

    #[test]
    fn orders_leave_in_order_at_flush_or_when_the_reserved_slots_run_out() {
        let (tx, mut rx) = channel("orders", 64);
        let mut venue = RingVenue::new(tx, 4);
        let mut out = ExecBatch::default();
        let mut seen = Vec::new();
        let drain = |rx: &mut ringbuffers::Consumer<OrderRequest>, seen: &mut Vec<u64>| {
            rx.drain(usize::MAX, |b| seen.extend(b.iter().map(|o| o.seq)))
        };
        for seq in 0..3 {
            venue.submit(&order(seq), &mut out);
        }
        assert_eq!(drain(&mut rx, &mut seen), 0, "nothing is visible before the flush");
        venue.flush();
        assert_eq!(drain(&mut rx, &mut seen), 3);
        // ten orders with no flush: the writer publishes a full run of 4 each
        // time it reserves the next one
        for seq in 3..13 {
            venue.submit(&order(seq), &mut out);
        }
        drain(&mut rx, &mut seen);
        assert!(seen.len() >= 3 + 8, "{seen:?}");
        venue.flush();
        drain(&mut rx, &mut seen);
        assert_eq!(seen, (0..13).collect::<Vec<_>>());
        // across the ring's wrap, many times over
        for seq in 13..1000 {
            venue.submit(&order(seq), &mut out);
            if seq % 3 == 0 {
                venue.flush();
                drain(&mut rx, &mut seen);
            }
        }
        venue.flush();
        drain(&mut rx, &mut seen);
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        assert_eq!(venue.lost(), 0);
        assert!(out.as_slice().is_empty(), "a ring link answers nothing within the call");
    }

    #[test]
    fn a_gone_venue_side_counts_the_orders_lost() {
        let (tx, rx) = channel("orders", 8);
        let mut venue = RingVenue::new(tx, 4);
        let mut out = ExecBatch::default();
        venue.submit(&order(0), &mut out);
        venue.flush();
        drop(rx);
        // the ring's 8 slots still take orders 1..=7 (published to nobody,
        // as a ring does); once it is full, every order is counted lost
        // instead of waiting for a reader that will never come
        for seq in 1..12 {
            venue.submit(&order(seq), &mut out);
        }
        venue.flush();
        assert_eq!(venue.lost(), 4);
    }
}
