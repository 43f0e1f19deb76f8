//! Journal consumer that counts and summarises every record (a
//! [`TradeFilled`] as the three records it stands for).

use ringbuffers::{Consumer, WaitStrategy, Waiter};
use tradeengine_model::{
    AccountPolicy, Control, Fill, JournalEvent, JournalKind, OrderUpdate, RiskEvent, RollupChange, RollupOp, Side,
    TradeFilled, TradeSignal,
};

/// Counts of what the journal carried.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JournalSummary {
    pub records: u64,
    pub decisions: u64,
    pub routed: u64,
    /// Dropped decisions by [`tradeengine_model::Outcome`] wire value.
    pub dropped_by: [u64; 16],
    pub fills: u64,
    pub fill_qty: f64,
    pub fill_notional: f64,
    pub rollup_upserts: u64,
    pub rollup_deletes: u64,
    pub order_updates: u64,
    pub risk_events: u64,
    pub policies: u64,
    pub controls: u64,
    /// Slots whose kind byte was not a known record (must stay 0).
    pub corrupt: u64,
    /// Highest input sequence seen.
    pub max_seq: u64,
    /// Fills the cold side's `JournalExpander` implied against its mirror's
    /// state (must stay 0; set by the persistence thread).
    pub mismatched: u64,
}

impl JournalSummary {
    /// Adds one record.
    pub fn add(&mut self, ev: &JournalEvent) {
        self.records += 1;
        self.max_seq = self.max_seq.max(ev.seq());
        match ev.kind() {
            Some(JournalKind::TradeSignal) => {
                if let Some(t) = ev.get::<TradeSignal>() {
                    self.add_decision(t);
                }
            }
            Some(JournalKind::TradeFilled) => {
                let Some(TradeFilled(t)) = ev.get::<TradeFilled>() else { return };
                // The three records it stands for (see `JournalExpander`):
                // the decision, its whole fill, and the position change — an
                // UPSERT after a BUY, a DELETE after a SELL (a SELL closes
                // the whole position; the expander checks it).
                self.records += 2;
                self.add_decision(t);
                self.add_fill(t.qty, t.price);
                if t.side == Side::Buy as u8 {
                    self.rollup_upserts += 1;
                } else {
                    self.rollup_deletes += 1;
                }
            }
            Some(JournalKind::Fill) => {
                if let Some(f) = ev.get::<Fill>() {
                    self.add_fill(f.qty, f.price);
                }
            }
            Some(JournalKind::RollupChange) => {
                let Some(r) = ev.get::<RollupChange>() else {
                    return;
                };
                match r.op() {
                    RollupOp::Upsert => self.rollup_upserts += 1,
                    RollupOp::Delete => self.rollup_deletes += 1,
                }
            }
            Some(JournalKind::OrderUpdate) => {
                if ev.get::<OrderUpdate>().is_some() {
                    self.order_updates += 1
                }
            }
            Some(JournalKind::RiskEvent) => {
                if ev.get::<RiskEvent>().is_some() {
                    self.risk_events += 1
                }
            }
            Some(JournalKind::Policy) => {
                if ev.get::<AccountPolicy>().is_some() {
                    self.policies += 1
                }
            }
            Some(JournalKind::Control) => {
                if ev.get::<Control>().is_some() {
                    self.controls += 1
                }
            }
            None => self.corrupt += 1,
        }
    }

    fn add_decision(&mut self, t: &TradeSignal) {
        self.decisions += 1;
        if t.is_routed() {
            self.routed += 1;
        } else {
            self.dropped_by[(t.outcome as usize).min(15)] += 1;
        }
    }

    fn add_fill(&mut self, qty: f64, price: f64) {
        self.fills += 1;
        self.fill_qty += qty;
        self.fill_notional += qty * price;
    }

    /// All dropped decisions.
    pub fn dropped(&self) -> u64 {
        self.dropped_by.iter().sum()
    }
}

/// Drains the journal ring until its producer closes, summarising every record.
pub fn drain_journal(mut journal: Consumer<JournalEvent>, wait: WaitStrategy) -> JournalSummary {
    let mut sum = JournalSummary::default();
    let mut waiter = Waiter::new(wait);
    loop {
        let n = journal.drain(8192, |batch| batch.iter().for_each(|ev| sum.add(ev)));
        if n > 0 {
            waiter.reset();
        } else if journal.is_finished() {
            return sum;
        } else {
            waiter.wait();
        }
    }
}
