//! Shared test harness: a hot engine with the inline simulated venue and a
//! real journal ring, driven one signal at a time.
#![allow(dead_code)]

pub mod cli;
pub mod executor;
#[cfg(feature = "fluss")]
pub mod fluss;

use ringbuffers::{channel, Consumer};
use tradeengine::cold::JournalExpander;
use tradeengine::hot::{HotEngine, HotParams, JournalOut};
use tradeengine_adapters::venue::SimVenue;
use tradeengine_model::*;

pub struct Harness {
    pub engine: HotEngine<SimVenue>,
    rx: Consumer<JournalEvent>,
    /// Expands the journal as the cold side does.
    pub expander: JournalExpander,
    /// The journal, expanded.
    pub journal: Vec<JournalEvent>,
    next_seq: u64,
}

pub fn policy(id: u32, status: AccountStatus, max_open: u32) -> AccountPolicy {
    AccountPolicy {
        account: id,
        status: status as u8,
        max_open_symbols: max_open,
        max_open_orders: u32::MAX,
        initial_capital: 1_000_000.0,
        max_order_qty: f64::INFINITY,
        max_order_notional: f64::INFINITY,
        max_capital_usage: f64::INFINITY,
        ..Default::default()
    }
}

pub fn active(n: u32, max_open: u32) -> Vec<AccountPolicy> {
    (0..n).map(|i| policy(i, AccountStatus::Active, max_open)).collect()
}

impl Harness {
    pub fn new(params: HotParams, policies: &[AccountPolicy]) -> Self {
        Self::with_venue(params, policies, SimVenue::new())
    }

    /// A harness whose venue takes orders and never answers (live mode: the
    /// answers are fed with `exec`).
    pub fn live(params: HotParams, policies: &[AccountPolicy]) -> Self {
        Self::with_venue(params, policies, SimVenue::silent())
    }

    fn with_venue(params: HotParams, policies: &[AccountPolicy], venue: SimVenue) -> Self {
        let (tx, rx) = channel("journal", 1 << 16);
        let expander = JournalExpander::new(params.engine_id);
        let engine = HotEngine::new(params, policies, venue, JournalOut::new(tx, 256));
        Self { engine, rx, expander, journal: Vec::new(), next_seq: 0 }
    }

    /// Applies an execution report.
    pub fn exec(&mut self, r: ExecReport) {
        self.engine.on_exec(&r);
        self.drain();
    }

    pub fn with_accounts(n: u32, max_open: u32) -> Self {
        let params = HotParams { symbols: 64, slots_per_account: max_open as usize, ..Default::default() };
        Self::new(params, &active(n, max_open))
    }

    fn drain(&mut self) -> usize {
        self.engine.flush();
        let before = self.journal.len();
        let (j, x) = (&mut self.journal, &mut self.expander);
        self.rx.drain(usize::MAX, |b| x.expand_into(b, j));
        before
    }

    /// Sends one signal and returns its routing decision.
    pub fn send(&mut self, side: Side, symbol: u32, close: f64) -> TradeSignal {
        self.send_full(StrategySignal {
            seq: self.next_seq,
            ts_event: 1_000 + self.next_seq,
            close,
            strength: 0.5,
            symbol,
            side: side as u8,
            ..Default::default()
        })
    }

    pub fn send_full(&mut self, sig: StrategySignal) -> TradeSignal {
        self.next_seq = sig.seq.wrapping_add(1);
        self.engine.on_signal(&sig);
        let from = self.drain();
        *self.journal[from..]
            .iter()
            .find_map(|e| e.get::<TradeSignal>())
            .expect("every signal is journaled as a decision")
    }

    pub fn buy(&mut self, symbol: u32, close: f64) -> TradeSignal {
        self.send(Side::Buy, symbol, close)
    }

    pub fn sell(&mut self, symbol: u32, close: f64) -> TradeSignal {
        self.send(Side::Sell, symbol, close)
    }

    pub fn policy(&mut self, p: AccountPolicy) {
        self.engine.on_policy(&p);
        self.drain();
    }

    pub fn control(&mut self, op: ControlOp, account: u32, value: u8) {
        self.engine.on_control(&Control { op: op as u8, account, value, ..Default::default() });
        self.drain();
    }

    pub fn rollup(&mut self, rc: RollupChange) {
        self.engine.on_rollup(&rc);
        self.drain();
    }

    pub fn records<T: JournalRecord>(&self) -> Vec<T> {
        self.journal.iter().filter_map(|e| e.get::<T>().copied()).collect()
    }

    /// Filled net quantity of (a, s), 0 if none.
    pub fn qty(&self, a: u32, s: u32) -> f64 {
        self.engine.book().find(a, s).map_or(0.0, |r| self.engine.book().get(r).net_qty)
    }

    pub fn open_count(&self, a: u32) -> u32 {
        self.engine.book().open_count(a)
    }
}
