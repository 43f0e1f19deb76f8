//! The simulated venue: fills every new order completely, at once, at the
//! order's price (the signal's close). Deterministic; runs inline in the hot loop.

use tradeengine_model::{ExecReport, ExecType, OrderRequest};

use super::{ExecBatch, InstantFill, Venue};

/// Immediate full fill at the order's price; cancels of unknown (already
/// filled) orders are rejected.
#[derive(Clone, Debug)]
pub struct SimVenue {
    fills: u64,
    /// False: accept orders without answering (the answers come from elsewhere,
    /// e.g. the execution reports of a replayed live recording).
    answer: bool,
}

impl Default for SimVenue {
    fn default() -> Self {
        Self { fills: 0, answer: true }
    }
}

impl SimVenue {
    /// A fresh simulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// A venue that takes orders and never answers: replaying a live
    /// recording, whose execution reports arrive as recorded inputs.
    pub fn silent() -> Self {
        Self { fills: 0, answer: false }
    }

    /// Fills produced so far.
    pub fn fills(&self) -> u64 {
        self.fills
    }
}

impl Venue for SimVenue {
    #[inline]
    fn submit(&mut self, o: &OrderRequest, out: &mut ExecBatch) {
        let base = ExecReport {
            side: o.side,
            account: o.account,
            symbol: o.symbol,
            order_id: o.order_id,
            ts_event: o.ts_event,
            ..Default::default()
        };
        if o.action == OrderRequest::PROBE || !self.answer {
            return; // probes measure the link (the simulator has none); a silent venue never answers
        }
        let r = match self.fill_at_once(o) {
            Some(f) => {
                ExecReport { exec_type: ExecType::Fill as u8, last_qty: f.qty, last_px: f.px, cum_qty: f.qty, ..base }
            }
            // Every order is already filled: a cancel always arrives too late.
            None => ExecReport { exec_type: ExecType::Rejected as u8, reason: 1, ..base },
        };
        out.push(r);
    }

    /// Every NEW order is filled whole at its price (unless the venue is
    /// silent): the same fill `submit` reports, without the report.
    #[inline]
    fn fill_at_once(&mut self, o: &OrderRequest) -> Option<InstantFill> {
        if o.action != OrderRequest::NEW || !self.answer {
            return None;
        }
        self.fills += 1;
        Some(InstantFill { qty: o.qty, px: o.price })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_model::Side;

    #[test]
    fn fills_whole_order_at_its_price() {
        let mut v = SimVenue::new();
        let mut out = ExecBatch::default();
        let o = OrderRequest {
            action: OrderRequest::NEW,
            side: Side::Buy as u8,
            account: 3,
            symbol: 9,
            order_id: 77,
            qty: 5.0,
            price: 101.5,
            ..Default::default()
        };
        v.submit(&o, &mut out);
        let r = out.as_slice();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].exec_type(), Some(ExecType::Fill));
        assert_eq!((r[0].last_qty, r[0].last_px, r[0].cum_qty), (5.0, 101.5, 5.0));
        assert_eq!((r[0].account, r[0].symbol, r[0].order_id), (3, 9, 77));
        assert_eq!(v.fills(), 1);
    }

    #[test]
    fn fill_at_once_is_the_fill_submit_reports_and_a_silent_venue_takes_nothing() {
        let o = OrderRequest {
            action: OrderRequest::NEW,
            side: Side::Sell as u8,
            order_id: 5,
            qty: 2.5,
            price: 99.25,
            ..Default::default()
        };
        let mut v = SimVenue::new();
        let mut out = ExecBatch::default();
        v.submit(&o, &mut out);
        let r = out.as_slice()[0];
        assert_eq!(v.fill_at_once(&o), Some(InstantFill { qty: r.last_qty, px: r.last_px }));
        assert_eq!(v.fills(), 2, "both calls filled the order");
        let cancel = OrderRequest { action: OrderRequest::CANCEL, ..o };
        assert_eq!(v.fill_at_once(&cancel), None, "only NEW orders fill at once");
        let mut silent = SimVenue::silent();
        assert_eq!(silent.fill_at_once(&o), None);
        assert_eq!(silent.fills(), 0);
    }
}
