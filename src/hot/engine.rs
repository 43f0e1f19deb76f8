//! The hot engine: one signal in, a routed, risk-checked order out, fills
//! applied to positions, every decision journaled.
//!
//! Pipeline per signal: validate → TradePicker → Sizing → RiskGuard (the
//! plan, which also checks the room the order will take) → order to the
//! venue (published at once for the last signal of a batch) → reservation of
//! slot, holder mark and capital → decision journaled → (exec reports) →
//! PositionUpdater → picker indexes.
//!
//! Hot-path rules (checked by `tests/hot_alloc.rs` with a counting
//! allocator): after [`HotEngine::new`] no method here allocates, locks,
//! makes a system call or formats text. Bad input is counted and journaled,
//! never a panic.

use tradeengine_adapters::venue::{ExecBatch, Venue};
use tradeengine_model::{
    AccountId, AccountPolicy, AccountStatus, Control, ControlOp, ExecReport, ExecType, Fill, OrderRequest, OrderState,
    OrderType, OrderUpdate, Outcome, RiskEvent, RollupChange, RollupOp, Route, Side, StrategySignal, SymbolId,
    TradeFilled, TradeSignal, NO_ACCOUNT,
};

use super::accounts::AccountTable;
use super::journal::JournalOut;
use super::memory::prefetch;
use super::orders::{transition, Order, OrderTable};
use super::picker::{Picker, SellFound, SellLookAhead, TieBreak};
use super::positions::{Position, PositionBook, QTY_EPSILON};
use super::risk::RiskGuard;
use super::sizing::{Sizer, SizingParams};

/// How many signals ahead of the one being routed a batch hints its
/// symbol's state into cache ([`HotEngine::prefetch_signal`]) when the
/// tables are larger than the caches (W2; two more than the SELL
/// look-ahead's first step, which reads what this hint brings in). With
/// cached tables (W1) there is no hint: its ~26 instructions per signal
/// cost more than it saved (session 13: fewer ns per signal without it).
const PREFETCH_AHEAD: usize = 7;

/// How many signals ahead of the one being routed a batch hints the
/// signal itself into cache, when the tables are larger than the caches
/// (W2). The batch sits in the ingress ring, written from the feeder's
/// core: the hardware's stream prefetch did not bring its lines in ahead
/// of [`PREFETCH_AHEAD`]'s read of the signal (a profile of `bench w1
/// --workload w2` put a third of `route_batch`'s samples on that read),
/// and with the hint the run was 1.10–1.23× faster (7 of 7 alternating
/// pairs, session 22; 10, 24 and 32 ahead measured the same). W1 showed
/// no gain (its tables and ring fit the caches' pace), so it has no hint.
const SIGNAL_AHEAD: usize = 16;

/// The SELL look-ahead's steps and how many signals ahead each runs, two
/// signals apart, each reading what the step before brought in
/// ([`HotEngine::prefetch_sell`]; only for tables larger than the caches).
/// Each step's read waits on the previous step's miss: one signal apart
/// (~130 ns on W2) left some of those DRAM misses unfinished. On the Zen 5
/// VM of session 14, `bench w1 --workload w2` with the symbol hint 7 ahead
/// and the steps at 5/3/1 beat 5 and 4/3/2 in 13 of 16 alternating pairs
/// (medians +7 % and +16 % in two sets); 8 and 7/5/3, or 7 and 6/4/2,
/// also beat 4/3/2, by less. Sessions 8 and 10 had found 4/3/2 better
/// than 3/2/1 on an older VM.
const SELL_LOOK_AHEAD: [(usize, SellLookAhead); 3] =
    [(5, SellLookAhead::LowestHolder), (3, SellLookAhead::HolderBook), (1, SellLookAhead::Position)];

// The decision takes the `Position` step's finding only with exactly one
// signal routed in between (`HotEngine::sell_found`).
const _: () = assert!(SELL_LOOK_AHEAD[2].0 == 1 && matches!(SELL_LOOK_AHEAD[2].1, SellLookAhead::Position));

/// Records of the SELL look-ahead kept at once, one per signal in its
/// window (the first step runs 5 signals ahead), by sequence number.
const SELL_FOUND_SLOTS: usize = 8;

/// Idle turns after each drained signal batch that hint one symbol's SELL
/// lines ([`HotEngine::warm_next_sell`]): W1's 500 symbols are all warmed
/// every 125 batches. Warming in every idle turn made every turn longer,
/// and so every signal's first look later (see the performance history,
/// session 18).
pub const WARM_SELLS_PER_BATCH: u32 = 4;

/// What the SELL look-ahead found for one signal, and when.
#[derive(Clone, Copy, Debug)]
struct SellAhead {
    /// The signal it is for (its sequence number and symbol).
    seq: u64,
    symbol: u32,
    /// [`HotCounters::signals`] when the `Position` step ran (its finding
    /// is the decision's if exactly one signal, on another symbol, was
    /// routed in between: see [`HotEngine::sell_found`]).
    at: u64,
    /// The symbol of the signal routed between the `Position` step and
    /// this one's decision.
    between: u32,
    found: SellFound,
}

impl Default for SellAhead {
    fn default() -> Self {
        Self { seq: u64::MAX, symbol: u32::MAX, at: u64::MAX, between: u32::MAX, found: SellFound::default() }
    }
}

/// Capacities and rules of a hot engine (from the validated config).
#[derive(Clone, Debug, PartialEq)]
pub struct HotParams {
    /// This engine instance's id (tags its rollup changes).
    pub engine_id: u32,
    /// Symbol ids `0..symbols` are accepted; others are dropped as unknown.
    pub symbols: usize,
    /// Position slots per account: the largest `maxOpenSymbols` allowed.
    pub slots_per_account: usize,
    /// Positions open at once, in all (0: `accounts * slots_per_account`, the
    /// exact bound). The book keeps every account's slots either way.
    pub position_pool: usize,
    /// Orders in flight at most.
    pub order_capacity: usize,
    pub tie_break: TieBreak,
    pub allow_scale_in: bool,
    pub sizing: SizingParams,
    /// Global kill switch at start.
    pub kill_switch: bool,
    /// Most journal records written into the ring between two publishes.
    pub journal_stage: usize,
    /// Orders are sent as market orders, or as limit orders at the signal's close.
    pub order_type: OrderType,
}

impl Default for HotParams {
    fn default() -> Self {
        Self {
            engine_id: 0,
            symbols: 1024,
            slots_per_account: 20,
            position_pool: 0,
            order_capacity: 65_536,
            tie_break: TieBreak::LowestId,
            allow_scale_in: true,
            sizing: SizingParams::default(),
            kill_switch: false,
            journal_stage: 4096,
            order_type: OrderType::Market,
        }
    }
}

/// What the hot thread counted. Plain fields: only the hot thread writes them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HotCounters {
    pub signals: u64,
    /// Probes echoed (not signals: no routing, not journaled).
    pub probes: u64,
    pub routed_buy: u64,
    pub routed_sell: u64,
    /// Drops by [`Outcome`] wire value.
    pub dropped_by: [u64; 16],
    pub fills: u64,
    pub order_updates: u64,
    /// Exec reports for orders not in flight (late, duplicate or foreign).
    pub exec_unknown: u64,
    /// Exec reports that were malformed or not allowed by the order's state.
    pub exec_invalid: u64,
    pub policies: u64,
    /// Policies for accounts outside the table.
    pub policies_invalid: u64,
    pub controls: u64,
    pub controls_invalid: u64,
    /// Rollup changes from elsewhere applied.
    pub rollups_applied: u64,
    /// Rollup changes recognised as this engine's own and skipped.
    pub rollups_own: u64,
    /// Rollup changes refused (bad ids, no free slot).
    pub rollups_invalid: u64,
    /// Input sequence of the last signal consumed.
    pub last_seq: u64,
}

impl HotCounters {
    /// All drops, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_by.iter().sum()
    }
}

/// The three numbers of a fill the position needs (read out of the exec
/// report once, so the report itself is not copied around).
#[derive(Clone, Copy, Debug)]
struct VenueFill {
    qty: f64,
    px: f64,
    ts_event: u64,
}

impl VenueFill {
    #[inline]
    fn of(r: &ExecReport) -> Self {
        Self { qty: r.last_qty, px: r.last_px, ts_event: r.ts_event }
    }
}

/// A routed signal's order, decided and checked but not yet reserved.
#[derive(Clone, Copy, Debug)]
struct Plan {
    side: Side,
    account: AccountId,
    symbol: SymbolId,
    route: Route,
    qty: f64,
    /// The position it adds to or closes; `None`: a new position (room checked).
    rec: Option<u32>,
    order_id: u64,
}

impl Plan {
    /// The order as the venue receives it.
    #[inline]
    fn request(&self, sig: &StrategySignal, order_type: OrderType) -> OrderRequest {
        OrderRequest {
            action: OrderRequest::NEW,
            side: self.side as u8,
            order_type: order_type as u8,
            account: self.account,
            symbol: self.symbol,
            strategy: sig.strategy as u32,
            order_id: self.order_id,
            qty: self.qty,
            price: sig.close,
            seq: sig.seq,
            ts_event: sig.ts_event,
            ingress: sig.ingress,
            ..Default::default()
        }
    }

    /// The order as the engine tracks it.
    #[inline]
    fn order(&self, sig: &StrategySignal) -> Order {
        Order {
            id: self.order_id,
            account: self.account,
            symbol: self.symbol,
            side: self.side,
            route: self.route,
            state: OrderState::New,
            qty: self.qty,
            price: sig.close,
            cum_qty: 0.0,
            seq: sig.seq,
        }
    }
}

/// Whether `x` is a finite number above zero (a usable price or quantity),
/// in one compare of its bits: positive finite doubles are exactly the bit
/// patterns `1 ..= 0x7FEF_FFFF_FFFF_FFFF` (zero, negatives, infinities and
/// NaNs fall outside). `is_finite() && x > 0.0` compiled to ~17
/// instructions on the path of every signal.
#[inline(always)]
fn positive_finite(x: f64) -> bool {
    x.to_bits().wrapping_sub(1) < 0x7FEF_FFFF_FFFF_FFFF
}

/// The decision record of `sig` before routing: no account, no outcome yet.
#[inline]
fn decision_record(sig: &StrategySignal) -> TradeSignal {
    TradeSignal {
        side: sig.side,
        account: NO_ACCOUNT,
        symbol: sig.symbol,
        strategy: sig.strategy as u32,
        seq: sig.seq,
        ts_event: sig.ts_event,
        ingress: sig.ingress,
        price: sig.close,
        ..Default::default()
    }
}

/// The hot thread's whole state. Owned by the hot thread alone.
pub struct HotEngine<V: Venue> {
    params: HotParams,
    accounts: AccountTable,
    book: PositionBook,
    picker: Picker,
    sizer: Sizer,
    risk: RiskGuard,
    orders: OrderTable,
    venue: V,
    exec: ExecBatch,
    journal: JournalOut,
    marks: Vec<f64>,
    counters: HotCounters,
    /// The SELL look-ahead's records, by `seq % SELL_FOUND_SLOTS`.
    sell_ahead: [SellAhead; SELL_FOUND_SLOTS],
    /// The symbol whose SELL lines the next idle turn warms ([`HotEngine::warm_next_sell`]).
    warm_symbol: SymbolId,
    /// Idle-turn warming steps left since the last signal batch.
    warm_budget: u32,
}

impl<V: Venue> HotEngine<V> {
    /// Builds every table from `params` and the account `policies` (ids must
    /// be dense `0..n`). This is start-up: it allocates; nothing after it does.
    pub fn new(params: HotParams, policies: &[AccountPolicy], venue: V, journal: JournalOut) -> Self {
        let n = policies.len();
        let slots = params.slots_per_account.max(1);
        let mut e = Self {
            accounts: AccountTable::new(policies),
            book: PositionBook::new(n, slots, params.position_pool),
            picker: Picker::new(n, params.symbols, slots, params.tie_break, params.allow_scale_in),
            sizer: Sizer::new(params.sizing, params.symbols),
            risk: RiskGuard { global_kill: params.kill_switch },
            orders: OrderTable::new(params.order_capacity),
            venue,
            exec: ExecBatch::default(),
            journal,
            marks: vec![0.0; params.symbols],
            counters: HotCounters::default(),
            sell_ahead: [SellAhead::default(); SELL_FOUND_SLOTS],
            warm_symbol: 0,
            warm_budget: 0,
            params,
        };
        e.book.prefault();
        e.picker.prefault();
        for a in 0..n as AccountId {
            let cap = e.accounts[a as usize].max_open_symbols.min(slots as u32);
            e.accounts[a as usize].max_open_symbols = cap;
            e.refresh(a);
        }
        e
    }

    /// Loads an open position at start-up (from the store). Returns false if
    /// the ids are out of range or the account has no free slot.
    pub fn seed_position(&mut self, a: AccountId, s: SymbolId, net_qty: f64, avg_price: f64, realized: f64) -> bool {
        if a as usize >= self.accounts.len() || s as usize >= self.params.symbols || net_qty <= 0.0 {
            return false;
        }
        self.set_position(a, s, net_qty, avg_price, realized)
    }

    /// Gives this engine its slice of the accounts at start-up (scale-out):
    /// accounts not owned are never routed to, and their positions (from the
    /// changelog) never make them a SELL holder. Call before any position
    /// is seeded.
    pub fn set_owned(&mut self, owned: impl Fn(AccountId) -> bool) {
        for a in 0..self.accounts.len() as AccountId {
            self.accounts[a as usize].owned = owned(a);
            self.refresh(a);
        }
    }

    /// Restores an account's realized P&L at start-up (from the store).
    pub fn seed_realized(&mut self, a: AccountId, realized: f64) -> bool {
        if (a as usize) >= self.accounts.len() {
            return false;
        }
        self.accounts[a as usize].realized_pnl = realized;
        true
    }

    /// Blocks new BUYs for an account at start-up (from the store).
    pub fn seed_buys_blocked(&mut self, a: AccountId) -> bool {
        if (a as usize) >= self.accounts.len() {
            return false;
        }
        self.accounts[a as usize].buys_blocked = true;
        self.refresh(a);
        true
    }

    /// Sets the global kill switch at start-up (from the store).
    pub fn set_kill_switch(&mut self, on: bool) {
        self.risk.global_kill = on;
    }

    /// The counters.
    pub fn counters(&self) -> &HotCounters {
        &self.counters
    }

    /// Account tables (status, risk state, realized P&L).
    pub fn accounts(&self) -> &AccountTable {
        &self.accounts
    }

    /// Open positions.
    pub fn book(&self) -> &PositionBook {
        &self.book
    }

    /// Orders in flight.
    pub fn orders(&self) -> &OrderTable {
        &self.orders
    }

    /// The venue.
    pub fn venue(&self) -> &V {
        &self.venue
    }

    /// The venue, mutable (e.g. to flush a ring venue's staged orders).
    pub fn venue_mut(&mut self) -> &mut V {
        &mut self.venue
    }

    /// Global kill switch state.
    pub fn kill_switch(&self) -> bool {
        self.risk.global_kill
    }

    /// Parameters.
    pub fn params(&self) -> &HotParams {
        &self.params
    }

    /// Journal records lost because the consumer died (0 in a healthy run).
    pub fn journal_lost(&self) -> u64 {
        self.journal.lost()
    }

    /// Publishes staged orders (first: they are latency-critical), then staged journal records.
    #[inline]
    pub fn flush(&mut self) {
        self.flush_orders();
        self.flush_journal();
    }

    /// Publishes staged orders only (journal records wait for
    /// [`HotEngine::flush_journal`]). Hot path: never blocks.
    #[inline]
    pub fn flush_orders(&mut self) {
        self.venue.flush();
    }

    /// Publishes staged journal records. Its cost is a store fence after
    /// the streamed records (~190 ns on an Intel Xeon, measured in session
    /// 13), which the hot loop pays once per many records, or in idle
    /// time ([`crate::hot::run_hot_loop`]). Hot path: never blocks.
    #[inline]
    pub fn flush_journal(&mut self) {
        self.journal.flush();
    }

    /// Journal records written and not yet published.
    #[inline]
    pub fn journal_pending(&self) -> usize {
        self.journal.pending()
    }

    /// Flushes and closes the journal (end of run).
    pub fn close_journal(&mut self) {
        self.journal.close();
    }

    // ---------------------------------------------------------------- signals

    /// Routes one signal. Never allocates; malformed signals are dropped with
    /// `invalid_signal` / `unknown_symbol`, never a panic. Its order is
    /// staged at the venue and leaves at the next [`HotEngine::flush`].
    #[inline]
    pub fn on_signal(&mut self, sig: &StrategySignal) {
        self.route_signal(sig, false);
    }

    /// [`HotEngine::on_signal`] for the last signal of a drained batch: its
    /// order, and any staged before it, leaves the moment it is submitted,
    /// before the position, index and journal upkeep the decision implies
    /// (tick-to-trade is then decision + publish, nothing else).
    #[inline]
    pub fn on_signal_and_publish(&mut self, sig: &StrategySignal) {
        self.route_signal(sig, true);
    }

    /// Routes a drained batch of signals in order, as [`HotEngine::on_signal`]
    /// each, with two additions: while routing one it hints the state of
    /// those a few places after it into cache when the tables are larger
    /// than the caches ([`HotEngine::prefetch_signal`],
    /// [`HotEngine::prefetch_sell`], [`HotEngine::prefetch_buy`]), and the
    /// last one's order, with any staged before it, leaves the moment it is submitted
    /// ([`HotEngine::on_signal_and_publish`]). Decisions are exactly those of
    /// routing the signals one by one. Hot path: never allocates or blocks.
    #[inline]
    pub fn on_signal_batch(&mut self, batch: &[StrategySignal]) {
        self.warm_budget = WARM_SELLS_PER_BATCH;
        if self.picker.tables_exceed_cache() {
            self.route_batch::<true>(batch);
        } else {
            self.route_batch::<false>(batch);
        }
    }

    /// [`HotEngine::on_signal_batch`], with the look-aheads when `DEEP`
    /// (tables larger than the caches; with cached tables, as in W1, their
    /// instructions cost more than they save). The BUY look-ahead runs one
    /// signal ahead only: its guess of the account assumes every BUY before
    /// it takes the next candidate, which more signals in between make wrong
    /// more often (two ahead measured slower than one on W2).
    #[inline]
    fn route_batch<const DEEP: bool>(&mut self, batch: &[StrategySignal]) {
        let Some((last, rest)) = batch.split_last() else { return };
        if !DEEP {
            rest.iter().for_each(|s| self.on_signal(s));
            return self.on_signal_and_publish(last);
        }
        // batch[0] is routed at once: the hints start with the one after it.
        batch.iter().skip(1).take(PREFETCH_AHEAD - 1).for_each(|s| self.prefetch_signal(s));
        batch.iter().take(SIGNAL_AHEAD).skip(PREFETCH_AHEAD).for_each(|s| prefetch(s));
        // While every signal the look-ahead reads is inside the batch, it
        // reads them from a window of fixed length: no bounds to check per
        // step (checked per step, the steps cost ~50 instructions a signal).
        let full = batch.len().saturating_sub(PREFETCH_AHEAD).min(rest.len());
        for (i, s) in rest[..full].iter().enumerate() {
            // only signals of this batch: the ring past it may be in the
            // feeder's hands (a hint there would pull its lines away)
            if let Some(ahead) = batch.get(i + SIGNAL_AHEAD) {
                prefetch(ahead);
            }
            let window: &[StrategySignal; PREFETCH_AHEAD + 1] =
                batch[i..=i + PREFETCH_AHEAD].try_into().expect("a window of PREFETCH_AHEAD + 1 signals");
            self.look_ahead(s, |d| window.get(d));
            self.on_signal(s);
        }
        for (i, s) in rest.iter().enumerate().skip(full) {
            self.look_ahead(s, |d| batch.get(i + d));
            self.on_signal(s);
        }
        self.on_signal_and_publish(last);
    }

    /// The look-ahead hints issued while routing `current`, for the signals
    /// `ahead(d)`, `d` places after it (`None`: past the batch): the symbol
    /// hint [`PREFETCH_AHEAD`] ahead, the BUY hint one ahead, the SELL
    /// steps at [`SELL_LOOK_AHEAD`]. Changes no state a decision reads
    /// (only the SELL steps' records, which a decision checks before use).
    /// Hot path: never allocates or blocks.
    #[inline(always)]
    fn look_ahead<'a>(&mut self, current: &StrategySignal, ahead: impl Fn(usize) -> Option<&'a StrategySignal>) {
        if let Some(s) = ahead(PREFETCH_AHEAD) {
            self.prefetch_signal(s);
        }
        if let Some(next) = ahead(1) {
            if next.side == Side::Buy as u8 {
                self.prefetch_buy(next, usize::from(current.side == Side::Buy as u8));
            }
        }
        let [(d0, s0), (d1, s1), (d2, s2)] = SELL_LOOK_AHEAD;
        for (d, step) in [(d0, s0), (d1, s1), (d2, s2)] {
            if let Some(s) = ahead(d) {
                self.prefetch_sell(s, step, current.symbol);
            }
        }
    }

    /// Look-ahead for a signal a few places after the one being routed:
    /// hints its symbol's mark and holder index into cache, so that its
    /// decision does not wait on them. A hint only: reads nothing it
    /// depends on, changes nothing. Hot path: never allocates or blocks.
    #[inline]
    pub fn prefetch_signal(&self, sig: &StrategySignal) {
        if let Some(m) = self.marks.get(sig.symbol as usize) {
            prefetch(m);
            self.picker.prefetch_symbol(sig.symbol);
        }
    }

    /// Closer look-ahead for a SELL (after [`HotEngine::prefetch_signal`]
    /// brought its holder index's first line in): one [`SellLookAhead`] step
    /// towards the position it will most likely close, keeping what it
    /// found for the next step and the decision. `between`: the symbol of
    /// the signal routed next, before this one (for the `Position` step,
    /// one signal ahead). Changes no state a decision reads. Hot path:
    /// never allocates or blocks.
    #[inline]
    fn prefetch_sell(&mut self, sig: &StrategySignal, step: SellLookAhead, between: SymbolId) {
        if sig.side == Side::Sell as u8 && (sig.symbol as usize) < self.params.symbols {
            let e = &mut self.sell_ahead[sig.seq as usize % SELL_FOUND_SLOTS];
            if e.seq != sig.seq || e.symbol != sig.symbol {
                *e = SellAhead { seq: sig.seq, symbol: sig.symbol, ..SellAhead::default() };
            }
            if step == SellLookAhead::Position {
                e.at = self.counters.signals;
                e.between = between;
            }
            if let Some(a) = self.picker.prefetch_sell(sig.symbol, step, &self.book, &mut e.found) {
                self.accounts.prefetch(a);
            }
        }
    }

    /// What the SELL look-ahead found for `sig`, if it is the decision's
    /// answer to check: its `Position` step ran while the signal just
    /// before was about to be routed (the count has moved by two since:
    /// that signal and this one), and that signal (`between`) was on
    /// another symbol, so no holder of this one has changed since (within
    /// a batch only signals change holders, each those of its own symbol,
    /// with the reports its own order causes).
    #[inline]
    fn sell_found(&self, sig: &StrategySignal) -> Option<&SellFound> {
        let e = &self.sell_ahead[sig.seq as usize % SELL_FOUND_SLOTS];
        (e.seq == sig.seq
            && e.symbol == sig.symbol
            && e.at.wrapping_add(2) == self.counters.signals
            && e.between != sig.symbol)
            .then_some(&e.found)
    }

    /// Look-ahead for a BUY after `skip` BUYs still to route: hints the
    /// state of the account it will most likely go to
    /// ([`Picker::likely_buy`]): its row, its held symbols, the slot its new
    /// position would take, its holder entry and bucket keys. Changes nothing.
    /// Hot path: never allocates or blocks.
    #[inline]
    pub fn prefetch_buy(&self, sig: &StrategySignal, skip: usize) {
        if (sig.symbol as usize) < self.params.symbols {
            if let Some(a) = self.picker.likely_buy(skip) {
                self.accounts.prefetch(a);
                self.book.prefetch_account(a);
                self.book.prefetch_next_slot(a);
                self.picker.prefetch_buy(sig.symbol, a);
            }
        }
    }

    #[inline]
    fn route_signal(&mut self, sig: &StrategySignal, publish: bool) {
        if sig.is_probe() {
            self.echo_probe(sig);
            if publish {
                self.venue.flush();
            }
            return;
        }
        self.counters.signals += 1;
        self.counters.last_seq = sig.seq;
        // One branch on the side, here: each side's path below is compiled
        // for that side alone (a signal's side is random, so every further
        // test of it would be a branch mispredicted half the time).
        match sig.side() {
            Some(Side::Buy) => self.route_side::<true>(sig, publish),
            Some(Side::Sell) => self.route_side::<false>(sig, publish),
            None => self.drop_signal(decision_record(sig), Outcome::InvalidSignal),
        }
    }

    /// Journals `d` as dropped for `outcome`.
    #[inline]
    fn drop_signal(&mut self, mut d: TradeSignal, outcome: Outcome) {
        d.outcome = outcome as u8;
        self.counters.dropped_by[outcome as usize] += 1;
        self.journal.emit(d.into());
    }

    /// Routes a signal whose side is `BUY` (true) or SELL (false).
    #[inline]
    fn route_side<const BUY: bool>(&mut self, sig: &StrategySignal, publish: bool) {
        let mut d = decision_record(sig);
        let plan = match self.plan::<BUY>(sig, &mut d) {
            Ok(plan) => plan,
            Err(outcome) => return self.drop_signal(d, outcome),
        };
        if BUY {
            self.counters.routed_buy += 1;
        } else {
            self.counters.routed_sell += 1;
        }
        let req = plan.request(sig, self.params.order_type);
        if let Some(f) = self.venue.fill_at_once(&req) {
            // Filled within the call (the inline venue's fast lane): never
            // in flight, no report to build or re-read.
            if f.qty == plan.qty && f.px == sig.close && self.orders.live() == 0 {
                // All of it at the decision's price and event time (the
                // request carries the signal's), nothing else in flight: the
                // position moves straight to its end state, and one record
                // stands for the decision, the fill and the position change,
                // which the cold side derives (`JournalExpander`).
                self.fill_whole::<BUY>(&plan, f.px);
                self.journal.emit(TradeFilled(d).into());
                return;
            }
            let rec = self.reserve::<BUY>(&plan, sig.close);
            let fill = VenueFill { qty: f.qty, px: f.px, ts_event: req.ts_event };
            self.journal.emit(d.into());
            self.apply_fill_as::<BUY>(&plan.order(sig), fill, Some(rec), false);
            return;
        }
        let order = plan.order(sig);
        self.exec.clear();
        self.venue.submit(&req, &mut self.exec);
        if publish {
            self.venue.flush();
        }
        let rec = self.reserve::<BUY>(&plan, sig.close);
        self.journal.emit(d.into());
        let reports = self.exec.as_slice();
        if reports.len() == 1
            && reports[0].exec_type == ExecType::Fill as u8
            && reports[0].order_id == order.id
            && reports[0].last_qty == order.qty
        {
            // Filled in full within the submit call: the order is never in
            // flight, so it skips the order table.
            let fill = VenueFill::of(&reports[0]);
            self.apply_fill_as::<BUY>(&order, fill, Some(rec), false);
            return;
        }
        let inserted = self.orders.insert(order);
        debug_assert!(inserted, "capacity and uniqueness were checked in plan");
        self.accounts[order.account as usize].open_orders += 1;
        for i in 0..self.exec.as_slice().len() {
            let r = self.exec.as_slice()[i];
            self.on_exec(&r);
        }
    }

    /// Upkeep that waits for an idle turn of the hot loop: one bounded step
    /// ([`Picker::idle_step`]: finding a symbol's first holder after a
    /// close, or the account the next BUY considers first, so that the next
    /// decision reads its answer instead of walking to it). Returns whether
    /// there was a step to do. With none, it hints the lines the next SELL
    /// of one symbol reads (see [`HotEngine::warm_next_sell`]) and returns
    /// false. Changes no decision. Hot path: never allocates or blocks.
    #[inline]
    pub fn on_idle(&mut self) -> bool {
        if self.picker.idle_step(&self.book) {
            return true;
        }
        self.warm_next_sell();
        false
    }

    /// Hints into cache what a SELL of the next symbol in turn reads before
    /// its order leaves: its first holder's position and account row
    /// (symbols taken round-robin, one per call, at most
    /// [`WARM_SELLS_PER_BATCH`] calls after each drained signal batch).
    /// Between paced signals those lines fall out of the hot core's near
    /// caches, and a SELL waited on them where a BUY (whose account the idle
    /// steps already found) did not. The budget keeps the idle turns short
    /// (a longer turn is a later look at the rings). Only where first holders
    /// are kept (tables that fit the caches). A hint only: changes nothing a
    /// decision reads. Hot path: never allocates or blocks.
    #[inline]
    fn warm_next_sell(&mut self) {
        if self.warm_budget == 0 {
            return;
        }
        self.warm_budget -= 1;
        let s = self.warm_symbol;
        self.warm_symbol = if s as usize + 1 >= self.params.symbols { 0 } else { s + 1 };
        if let Some((a, slot)) = self.picker.known_first_holder(s) {
            self.book.prefetch_position(slot);
            self.accounts.prefetch(a as usize);
        }
    }

    /// Echoes a probe to the venue link: no routing, no state, no journal.
    #[inline]
    fn echo_probe(&mut self, sig: &StrategySignal) {
        self.counters.probes += 1;
        let echo =
            OrderRequest { action: OrderRequest::PROBE, seq: sig.seq, ingress: sig.ingress, ..Default::default() };
        self.exec.clear();
        self.venue.submit(&echo, &mut self.exec);
    }

    /// Picks, sizes and risk-checks the order for `sig`, and checks that
    /// everything it will reserve is free (so [`HotEngine::reserve`] cannot
    /// fail once the order is out); fills `d`. Changes no position, index or
    /// capital (only the marks, the sizer's window and the picker's
    /// round-robin cursor).
    #[inline]
    fn plan<const BUY: bool>(&mut self, sig: &StrategySignal, d: &mut TradeSignal) -> Result<Plan, Outcome> {
        let side = if BUY { Side::Buy } else { Side::Sell };
        if !positive_finite(sig.close) {
            return Err(Outcome::InvalidSignal);
        }
        let s = sig.symbol;
        if s as usize >= self.params.symbols {
            return Err(Outcome::UnknownSymbol);
        }
        self.marks[s as usize] = sig.close;
        self.sizer.observe(s, sig.close);
        if self.risk.global_kill {
            return Err(Outcome::KillSwitch);
        }
        let order_id = sig.seq.wrapping_add(1);
        if order_id == 0 || self.orders.get(order_id).is_some() {
            // Sequence numbers must be unique: a repeated one cannot become a second order.
            return Err(Outcome::InvalidSignal);
        }
        let (a, route, qty, rec) = match side {
            Side::Buy => {
                let (a, route) = self.picker.pick_buy(s, &self.book).ok_or(Outcome::NoEligibleAccount)?;
                (a, route, f64::NAN, None)
            }
            Side::Sell => {
                let found = if self.picker.tables_exceed_cache() { self.sell_found(sig).copied() } else { None };
                let (a, rec) = self.picker.pick_sell_found(s, &self.book, found.as_ref()).map_err(|any| {
                    if any {
                        Outcome::CloseInFlight
                    } else {
                        Outcome::NoHolder
                    }
                })?;
                (a, Route::Close, self.book.get(rec).net_qty, Some(rec))
            }
        };
        d.account = a;
        d.route = route as u8;
        // the account's row: one lookup for the sizing and every risk rule
        let acc = &self.accounts[a as usize];
        let qty = if BUY { self.sizer.buy_qty(s, sig.strength, sig.close, acc.initial_capital) } else { qty };
        d.qty = qty;
        // A NaN quantity is no quantity either (an infinite one is refused
        // by the risk check's quantity limit), so every order that leaves
        // has a finite, positive quantity.
        if qty.is_nan() || qty <= 0.0 {
            return Err(Outcome::ZeroQty);
        }
        if let Err(b) = self.risk.check(acc, side, qty, sig.close) {
            self.journal.emit(
                RiskEvent {
                    rule: b.rule as u8,
                    side: side as u8,
                    account: a,
                    symbol: s,
                    seq: sig.seq,
                    ts_event: sig.ts_event,
                    value: b.value,
                    limit: b.limit,
                    ..Default::default()
                }
                .into(),
            );
            return Err(b.rule);
        }
        if self.orders.is_full() {
            return Err(Outcome::OrderPoolFull);
        }
        let rec = match route {
            Route::Open if !self.book.can_open(a) => return Err(Outcome::PositionPoolFull),
            Route::Open => None,
            _ => Some(rec.or_else(|| self.book.find(a, s)).ok_or(Outcome::NoEligibleAccount)?),
        };
        d.order_id = order_id;
        Ok(Plan { side, account: a, symbol: s, route, qty, rec, order_id })
    }

    /// Reserves what a planned order takes, at routing time: the position
    /// slot, the holder mark and the capital, so a burst of signals cannot
    /// over-fill the account before fills arrive. Returns the position's
    /// slot. Cannot fail: [`HotEngine::plan`] checked the room.
    #[inline]
    fn reserve<const BUY: bool>(&mut self, plan: &Plan, price: f64) -> u32 {
        let (a, s) = (plan.account, plan.symbol);
        let rec = match plan.rec {
            Some(rec) => rec,
            None => {
                let rec = self.book.open(a, s).expect("plan checked the account and the book have room");
                self.picker.add_holder(s, a, rec);
                rec
            }
        };
        let p = self.book.get_mut(rec);
        if BUY {
            p.pending_buy += plan.qty;
            self.accounts[a as usize].capital_used += plan.qty * price;
        } else {
            p.pending_sell += plan.qty;
        }
        if plan.rec.is_none() {
            self.recount(a);
        }
        rec
    }

    /// An order of `plan` filled whole at `px` (the decision's price) the
    /// moment it was submitted, with no other order in flight: reservation
    /// and fill in one step, to the state [`HotEngine::reserve`] followed by
    /// [`HotEngine::apply_fill_as`] leaves (same position, capital, realized
    /// P&L, slot and index upkeep; the reserve-then-release of the pending
    /// quantity and of the capital at the order's price cancel out, so they
    /// are skipped). The plan checked the room and a finite, positive
    /// quantity. Hot path: never allocates.
    #[inline]
    fn fill_whole<const BUY: bool>(&mut self, plan: &Plan, px: f64) {
        let (a, s, qty) = (plan.account, plan.symbol, plan.qty);
        let acc = &mut self.accounts[a as usize];
        self.counters.fills += 1;
        let Some(rec) = plan.rec else {
            // A new position (only a BUY opens one): its end state is known,
            // so the fresh slot is written once and never read (reading it
            // back waited on the slot's line whenever the store could not be
            // forwarded).
            debug_assert!(BUY);
            acc.capital_used += qty * px;
            // a BUY realizes nothing; the add keeps the sum's bits as the fill path's
            acc.realized_pnl += 0.0;
            let slot = self
                .book
                .open_with(a, s, Position::bought(qty, px))
                .expect("plan checked the account and the book have room");
            self.picker.add_holder(s, a, slot);
            self.recount(a);
            return;
        };
        let p = self.book.get_mut(rec);
        if BUY {
            acc.capital_used += qty * px;
        } else {
            acc.capital_used -= qty.min(p.net_qty) * p.avg_price;
        }
        acc.realized_pnl += p.apply_fill(BUY, qty, px);
        if p.is_flat_and_idle() {
            self.picker.close(s, a, rec, &mut self.book);
            self.recount(a);
        }
    }

    // ------------------------------------------------------- exec reports

    /// Applies one execution report. Unknown orders, malformed reports and
    /// transitions the order's state does not allow are counted and skipped.
    #[inline]
    pub fn on_exec(&mut self, r: &ExecReport) {
        let Some(et) = r.exec_type() else {
            self.counters.exec_invalid += 1;
            return;
        };
        let Some(o) = self.orders.get(r.order_id).copied() else {
            self.counters.exec_unknown += 1;
            return;
        };
        match et {
            ExecType::Ack => {
                let Ok(state) = transition(o.state, OrderState::Acked) else {
                    self.counters.exec_invalid += 1;
                    return;
                };
                if let Some(m) = self.orders.get_mut(o.id) {
                    m.state = state;
                }
                self.emit_order_update(&o, state, 0, r.ts_event);
            }
            ExecType::Fill => self.apply_fill(&o, VenueFill::of(r), None, true),
            ExecType::Cancelled | ExecType::Rejected => {
                let to = if et == ExecType::Cancelled { OrderState::Cancelled } else { OrderState::Rejected };
                let Ok(state) = transition(o.state, to) else {
                    self.counters.exec_invalid += 1;
                    return;
                };
                self.release(&o, o.leaves_qty());
                self.finish_order(&o);
                self.emit_order_update(&o, state, r.reason, r.ts_event);
            }
        }
    }

    /// Applies a fill of order `o` (`rec`: its position record when the
    /// caller knows it; `tracked`: the order is in the order table).
    #[inline]
    fn apply_fill(&mut self, o: &Order, fill: VenueFill, rec: Option<u32>, tracked: bool) {
        match o.side {
            Side::Buy => {
                self.apply_fill_as::<true>(o, fill, rec, tracked);
            }
            Side::Sell => {
                self.apply_fill_as::<false>(o, fill, rec, tracked);
            }
        }
    }

    /// [`HotEngine::apply_fill`] compiled for one side (`BUY`: `o` is a BUY):
    /// applies the fill and journals it and the position change. An invalid
    /// fill is counted and changes nothing.
    #[inline]
    fn apply_fill_as<const BUY: bool>(&mut self, o: &Order, fill: VenueFill, rec: Option<u32>, tracked: bool) {
        debug_assert_eq!(o.side == Side::Buy, BUY);
        let VenueFill { qty, px, ts_event } = fill;
        if !(positive_finite(qty) && positive_finite(px)) {
            self.counters.exec_invalid += 1;
            return;
        }
        // A venue never fills more than was ordered; excess is ignored and counted.
        let qty = if qty > o.leaves_qty() + QTY_EPSILON {
            self.counters.exec_invalid += 1;
            o.leaves_qty()
        } else {
            qty.min(o.leaves_qty())
        };
        let cum = o.cum_qty + qty;
        let to = if cum >= o.qty - QTY_EPSILON { OrderState::Filled } else { OrderState::PartiallyFilled };
        let Ok(state) = transition(o.state, to) else {
            self.counters.exec_invalid += 1;
            return;
        };
        let Some(rec) = rec.or_else(|| self.book.find(o.account, o.symbol)) else {
            self.counters.exec_invalid += 1;
            return;
        };
        let a = o.account as usize;
        let p = self.book.get_mut(rec);
        if BUY {
            p.pending_buy = (p.pending_buy - qty).max(0.0);
            self.accounts[a].capital_used += qty * (px - o.price);
        } else {
            p.pending_sell = (p.pending_sell - qty).max(0.0);
            self.accounts[a].capital_used -= qty.min(p.net_qty) * p.avg_price;
        }
        let pnl = p.apply_fill(BUY, qty, px);
        let pos = *p;
        self.accounts[a].realized_pnl += pnl;
        self.counters.fills += 1;
        self.journal.emit(
            Fill {
                side: o.side as u8,
                order_state: state as u8,
                account: o.account,
                symbol: o.symbol,
                seq: o.seq,
                ts_event,
                order_id: o.id,
                qty,
                price: px,
                cum_qty: cum,
                ..Default::default()
            }
            .into(),
        );
        self.journal.emit(pos.rollup(o.account, o.symbol, self.params.engine_id, o.seq, ts_event).into());
        if pos.is_flat_and_idle() {
            self.picker.close(o.symbol, o.account, rec, &mut self.book);
            self.recount(o.account);
        }
        if !tracked {
            return;
        }
        if state.is_terminal() {
            self.finish_order(o);
        } else if let Some(m) = self.orders.get_mut(o.id) {
            m.cum_qty = cum;
            m.state = state;
        }
    }

    /// Releases what an order reserved for `leaves` unfilled quantity.
    #[inline]
    fn release(&mut self, o: &Order, leaves: f64) {
        let Some(rec) = self.book.find(o.account, o.symbol) else {
            return;
        };
        let p = self.book.get_mut(rec);
        if o.side == Side::Buy {
            p.pending_buy = (p.pending_buy - leaves).max(0.0);
            self.accounts[o.account as usize].capital_used -= leaves * o.price;
        } else {
            p.pending_sell = (p.pending_sell - leaves).max(0.0);
        }
        if p.is_flat_and_idle() {
            self.picker.close(o.symbol, o.account, rec, &mut self.book);
            self.recount(o.account);
        }
    }

    #[inline]
    fn finish_order(&mut self, o: &Order) {
        self.orders.remove(o.id);
        let n = &mut self.accounts[o.account as usize].open_orders;
        *n = n.saturating_sub(1);
    }

    #[inline]
    fn emit_order_update(&mut self, o: &Order, state: OrderState, reason: u8, ts: u64) {
        self.counters.order_updates += 1;
        self.journal.emit(
            OrderUpdate {
                side: o.side as u8,
                state: state as u8,
                reason,
                account: o.account,
                symbol: o.symbol,
                seq: o.seq,
                ts_event: ts,
                order_id: o.id,
                qty: o.qty,
                price: o.price,
                cum_qty: o.cum_qty,
                ..Default::default()
            }
            .into(),
        );
    }

    // ------------------------------------------- policies, rollups, control

    /// Applies an account policy update (status, limits, kill switch).
    #[inline]
    pub fn on_policy(&mut self, p: &AccountPolicy) {
        if !self.accounts.apply_policy(p, self.book.slots_per_account() as u32) {
            self.counters.policies_invalid += 1;
            return;
        }
        self.counters.policies += 1;
        self.refresh(p.account);
        self.journal.emit((*p).into());
    }

    /// Applies a rollup change made elsewhere (another engine, a manual
    /// correction). This engine's own changes are recognised and skipped.
    #[inline]
    pub fn on_rollup(&mut self, rc: &RollupChange) {
        if rc.engine == self.params.engine_id {
            self.counters.rollups_own += 1;
            return;
        }
        let (a, s) = (rc.account, rc.symbol);
        if a as usize >= self.accounts.len() || s as usize >= self.params.symbols {
            self.counters.rollups_invalid += 1;
            return;
        }
        let ok = match rc.op() {
            RollupOp::Upsert if positive_finite(rc.net_qty) => {
                self.set_position(a, s, rc.net_qty, rc.avg_price, rc.realized_pnl)
            }
            _ => {
                self.set_position(a, s, 0.0, 0.0, rc.realized_pnl);
                true
            }
        };
        if !ok {
            self.counters.rollups_invalid += 1;
            return;
        }
        self.counters.rollups_applied += 1;
        self.journal.emit((*rc).into());
    }

    /// Sets (a, s) to a filled position of `net_qty` (0: flat), keeping
    /// anything in flight. Returns false if a new position has no free slot.
    fn set_position(&mut self, a: AccountId, s: SymbolId, net_qty: f64, avg: f64, realized: f64) -> bool {
        let rec = match self.book.find(a, s) {
            Some(r) => r,
            None if net_qty > 0.0 => match self.book.open(a, s) {
                Some(r) => {
                    // Another engine's account is seen (risk, portfolio), never picked.
                    if self.accounts[a as usize].owned {
                        self.picker.add_holder(s, a, r);
                    }
                    r
                }
                None => return false,
            },
            None => return true,
        };
        let i = a as usize;
        let p = self.book.get_mut(rec);
        self.accounts[i].capital_used += net_qty * avg - p.net_qty * p.avg_price;
        p.net_qty = net_qty;
        p.avg_price = if net_qty > 0.0 { avg } else { 0.0 };
        p.realized_pnl = realized;
        if p.is_flat_and_idle() {
            self.picker.close(s, a, rec, &mut self.book);
        }
        self.refresh(a);
        true
    }

    /// Applies an operator / risk control action.
    #[inline]
    pub fn on_control(&mut self, c: &Control) {
        let Some(op) = c.op() else {
            self.counters.controls_invalid += 1;
            return;
        };
        let a = c.account;
        let needs_account = !matches!(op, ControlOp::KillAll | ControlOp::ReleaseAll);
        if needs_account && a as usize >= self.accounts.len() {
            self.counters.controls_invalid += 1;
            return;
        }
        let i = a as usize;
        match op {
            ControlOp::KillAll => self.risk.global_kill = true,
            ControlOp::ReleaseAll => self.risk.global_kill = false,
            ControlOp::KillAccount => self.accounts[i].killed = true,
            ControlOp::ReleaseAccount => self.accounts[i].killed = false,
            ControlOp::BlockBuys => self.accounts[i].buys_blocked = true,
            ControlOp::AllowBuys => self.accounts[i].buys_blocked = false,
            ControlOp::SetStatus => match AccountStatus::from_u8(c.value) {
                Some(st) => self.accounts[i].status = st,
                None => {
                    self.counters.controls_invalid += 1;
                    return;
                }
            },
        }
        if needs_account {
            self.refresh(a);
        }
        self.counters.controls += 1;
        self.journal.emit((*c).into());
    }

    /// Re-files account `a` in the picker after a change to its
    /// eligibility, its limits or its open count.
    #[inline]
    fn refresh(&mut self, a: AccountId) {
        let acc = &self.accounts[a as usize];
        self.picker.refresh(a, acc.buy_eligible(), self.book.open_count(a), acc.max_open_symbols);
    }

    /// [`HotEngine::refresh`] after a position of `a` opened or closed (its
    /// open count changed, nothing else: [`Picker::recount`]).
    #[inline]
    fn recount(&mut self, a: AccountId) {
        let max_open = self.accounts[a as usize].max_open_symbols;
        self.picker.recount(a, self.book.open_count(a), max_open);
    }

    // ---------------------------------------------------------------- results

    /// Positions with filled quantity, across all accounts.
    pub fn open_positions(&self) -> u64 {
        self.open_positions_of(|_| true)
    }

    /// Positions with filled quantity on the accounts `which` selects (e.g.
    /// those another engine owns, seen through the changelog).
    pub fn open_positions_of(&self, which: impl Fn(AccountId) -> bool) -> u64 {
        (0..self.accounts.len() as AccountId)
            .filter(|&a| which(a))
            .map(|a| self.book.positions_of(a).filter(|(_, p)| p.net_qty > 0.0).count() as u64)
            .sum()
    }

    /// Does this engine route to account `a` (see [`HotEngine::set_owned`])?
    pub fn owns(&self, a: AccountId) -> bool {
        self.accounts.get(a).is_some_and(|r| r.owned)
    }

    /// W1's checksum: sum over open positions of `(account+1) * (symbol+1) * net_qty`,
    /// accounts in id order.
    pub fn checksum(&self) -> f64 {
        let mut sum = 0.0;
        for a in 0..self.accounts.len() as AccountId {
            for (s, p) in self.book.positions_of(a) {
                if p.net_qty > 0.0 {
                    sum += (a as f64 + 1.0) * (s as f64 + 1.0) * p.net_qty;
                }
            }
        }
        sum
    }

    /// Realized P&L: per-account sums (each in fill order) added in account id order.
    pub fn realized_pnl(&self) -> f64 {
        self.accounts.iter().map(|r| r.realized_pnl).sum()
    }

    /// Last close seen per symbol (0 if none yet).
    pub fn marks(&self) -> &[f64] {
        &self.marks
    }
}

#[cfg(test)]
mod tests {
    use super::{positive_finite, HotEngine, HotParams, JournalOut, WARM_SELLS_PER_BATCH};
    use ringbuffers::channel;
    use tradeengine_adapters::feeds::{Workload, WorkloadKind};
    use tradeengine_adapters::venue::SimVenue;
    use tradeengine_model::StrategySignal;

    #[test]
    fn idle_turns_after_a_batch_warm_a_bounded_number_of_symbols_in_turn() {
        let w = Workload::new(WorkloadKind::W1, 3_000, 42);
        let mut sigs = vec![StrategySignal::default(); 3_000];
        w.generator().fill(&mut sigs);
        let (tx, _rx) = channel("journal", 1 << 14);
        let params = HotParams {
            symbols: w.symbols as usize,
            slots_per_account: w.max_open_symbols as usize,
            ..Default::default()
        };
        let mut e = HotEngine::new(params, &w.account_policies(), SimVenue::new(), JournalOut::new(tx, 256));
        let mut at = e.warm_symbol;
        let mut warmed = 0;
        for chunk in sigs.chunks(100) {
            e.on_signal_batch(chunk);
            e.flush();
            // the picker's upkeep first (true), then idle turns with none
            // (false): only the first few of those warm a symbol
            let mut idle = 0;
            while idle < 3 * WARM_SELLS_PER_BATCH {
                if !e.on_idle() {
                    idle += 1;
                }
            }
            let moved = (e.warm_symbol + w.symbols - at) % w.symbols;
            assert_eq!(moved, WARM_SELLS_PER_BATCH, "the budget per batch, taken in turn");
            warmed += (at..at + moved).filter(|&s| e.picker.known_first_holder(s % w.symbols).is_some()).count();
            at = e.warm_symbol;
        }
        assert!(warmed > 0, "W1 keeps first holders: some warmed symbols had one to hint");
    }

    #[test]
    fn positive_finite_is_finite_and_above_zero() {
        let edges = [
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 2.0,
            f64::from_bits(1),
            -f64::from_bits(1),
            1.0,
            -1.0,
            101.25,
            f64::MAX,
            -f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7FF0_0000_0000_0001),
            f64::from_bits(u64::MAX),
        ];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let random = (0..100_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f64::from_bits(x)
        });
        for v in edges.into_iter().chain(random) {
            assert_eq!(positive_finite(v), v.is_finite() && v > 0.0, "{v:e} ({:#x})", v.to_bits());
        }
    }
}
