//! The fixed-size events. Each is `#[repr(C)]`, `Pod`, at most 64 bytes, and
//! laid out without implicit padding (explicit `_pad` fields), so the same
//! bytes serve rings, capture files and the journal.
//!
//! Journal records ([`TradeSignal`], [`TradeFilled`], [`Fill`], [`RollupChange`],
//! [`OrderUpdate`], [`RiskEvent`], [`AccountPolicy`], [`Control`]) start with
//! the same 8-byte header — `kind: u8`, three `u8` codes, `account: u32` — so a
//! [`crate::JournalEvent`] can be told apart by its first byte.

use bytemuck::{Pod, Zeroable};

use crate::{
    AccountId, AccountStatus, ControlOp, ExecType, OrderState, OrderType, Outcome, RollupOp, Route, Side, StrategyId,
    SymbolId, NO_ACCOUNT,
};

/// A strategy's signal as it enters the engine (ingress ring, capture files).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct StrategySignal {
    /// Input sequence number: dense, increasing, the unit of exactly-once restart.
    pub seq: u64,
    /// Event time, nanoseconds since the Unix epoch.
    pub ts_event: u64,
    /// Ingress stamp (`quanta` raw clock) taken when the signal entered the engine; 0 if unstamped.
    pub ingress: u64,
    /// Last close price of the symbol.
    pub close: f64,
    /// Simple moving average of the last 5 closes.
    pub sma5: f64,
    /// Simple moving average of the last 21 closes.
    pub sma21: f64,
    /// Strategy conviction in `[0, 1]`.
    pub strength: f64,
    /// Interned symbol id.
    pub symbol: SymbolId,
    /// Interned strategy / run id.
    pub strategy: u16,
    /// [`Side`] as `u8`.
    pub side: u8,
    pub _pad: u8,
}

impl StrategySignal {
    /// `side` value of a latency / liveness probe: the hot thread echoes it to
    /// the venue link at once, without routing (no engine work, not journaled).
    pub const PROBE: u8 = 0xFF;

    /// True for a probe (see [`StrategySignal::PROBE`]).
    #[inline]
    pub fn is_probe(&self) -> bool {
        self.side == Self::PROBE
    }

    /// The decoded side; `None` for a corrupt value.
    #[inline]
    pub fn side(&self) -> Option<Side> {
        Side::from_u8(self.side)
    }
}

/// The routing decision for one signal: routed to an account, or dropped with a reason.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct TradeSignal {
    pub kind: u8,
    /// [`Side`].
    pub side: u8,
    /// [`Outcome`]: `Routed` or the drop reason.
    pub outcome: u8,
    /// [`Route`]: open, scale-in, close (none when dropped).
    pub route: u8,
    /// Chosen account, or [`NO_ACCOUNT`] when dropped before one was chosen.
    pub account: AccountId,
    pub symbol: SymbolId,
    pub strategy: StrategyId,
    pub seq: u64,
    pub ts_event: u64,
    /// Ingress stamp carried on from the signal (tick-to-trade without extra work).
    pub ingress: u64,
    /// Order id of the routed order, 0 when dropped.
    pub order_id: u64,
    pub qty: f64,
    /// The signal's close (the reference price of the decision).
    pub price: f64,
}

impl TradeSignal {
    /// Decoded outcome (unknown values read as `InvalidSignal`).
    #[inline]
    pub fn outcome(&self) -> Outcome {
        Outcome::from_u8(self.outcome).unwrap_or(Outcome::InvalidSignal)
    }
    /// Whether this decision routed an order.
    #[inline]
    pub fn is_routed(&self) -> bool {
        self.outcome == Outcome::Routed as u8
    }
    /// Decoded route.
    #[inline]
    pub fn route(&self) -> Route {
        Route::from_u8(self.route).unwrap_or(Route::None)
    }
    /// True if a drop happened before any account was chosen.
    #[inline]
    pub fn has_account(&self) -> bool {
        self.account != NO_ACCOUNT
    }
}

/// A routed decision whose order the venue filled in full, at once, at the
/// decision's price (`qty` at `price`, at `ts_event`), while no other order
/// was in flight: the hot thread's one journal record for the fast lane. It
/// stands for three records — the decision, its fill and the position change
/// — which the cold side derives before anything else reads the journal
/// (`tradeengine::cold::JournalExpander`). The decision's own bytes, under
/// another kind.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct TradeFilled(pub TradeSignal);

/// An order sent from the hot thread to a venue (orders ring).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct OrderRequest {
    /// 1 = new order, 2 = cancel.
    pub action: u8,
    pub side: u8,
    /// [`OrderType`].
    pub order_type: u8,
    pub _pad: u8,
    pub account: AccountId,
    pub symbol: SymbolId,
    pub strategy: StrategyId,
    pub order_id: u64,
    pub qty: f64,
    /// Limit price (market orders: the reference price).
    pub price: f64,
    pub seq: u64,
    pub ts_event: u64,
    pub ingress: u64,
}

impl OrderRequest {
    pub const NEW: u8 = 1;
    pub const CANCEL: u8 = 2;
    /// The echo of a probe signal (`seq` and `ingress` copied from it).
    pub const PROBE: u8 = 3;
    /// Decoded order type (unknown values read as market).
    #[inline]
    pub fn order_type(&self) -> OrderType {
        OrderType::from_u8(self.order_type).unwrap_or(OrderType::Market)
    }
}

/// An execution report from a venue to the hot thread (exec-reports ring).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct ExecReport {
    /// [`ExecType`].
    pub exec_type: u8,
    pub side: u8,
    /// Reject reason code, venue-specific (0 = none).
    pub reason: u8,
    pub _pad: u8,
    pub account: AccountId,
    pub symbol: SymbolId,
    pub _pad2: u32,
    pub order_id: u64,
    /// Quantity of this fill (0 for non-fills).
    pub last_qty: f64,
    /// Price of this fill.
    pub last_px: f64,
    /// Cumulative filled quantity of the order after this report.
    pub cum_qty: f64,
    /// Venue / event time of the report (ns).
    pub ts_event: u64,
    /// Stamp taken when the report arrived (quanta raw), 0 if unstamped.
    pub recv: u64,
}

impl ExecReport {
    /// Decoded exec type.
    #[inline]
    pub fn exec_type(&self) -> Option<ExecType> {
        ExecType::from_u8(self.exec_type)
    }
}

/// A fill applied to a position (journal, `fills` table).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct Fill {
    pub kind: u8,
    pub side: u8,
    /// [`OrderState`] of the order after this fill.
    pub order_state: u8,
    pub _pad: u8,
    pub account: AccountId,
    pub symbol: SymbolId,
    pub _pad2: u32,
    pub seq: u64,
    pub ts_event: u64,
    pub order_id: u64,
    pub qty: f64,
    pub price: f64,
    /// Order's cumulative filled quantity after this fill.
    pub cum_qty: f64,
}

/// A change of one (account, symbol) open position: the `open_positions_rollup`
/// changelog. UPSERT carries the new state; DELETE means the position is flat.
/// Also an input: changes made elsewhere arrive on the hot thread's rollup ring.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct RollupChange {
    pub kind: u8,
    /// [`RollupOp`].
    pub op: u8,
    pub _pad: [u8; 2],
    pub account: AccountId,
    pub symbol: SymbolId,
    /// Engine instance that made the change (to recognise its own changes coming back).
    pub engine: u32,
    pub seq: u64,
    pub ts_event: u64,
    /// Net quantity after the change (0 on DELETE).
    pub net_qty: f64,
    /// Weighted average entry price after the change.
    pub avg_price: f64,
    /// Realized P&L of this position since it was opened.
    pub realized_pnl: f64,
    /// Price of the fill that caused the change (the latest mark).
    pub last_price: f64,
}

impl RollupChange {
    /// Decoded op (unknown values read as UPSERT).
    #[inline]
    pub fn op(&self) -> RollupOp {
        RollupOp::from_u8(self.op).unwrap_or(RollupOp::Upsert)
    }
}

/// A change of an order's state not carried by a fill (ack, cancel, reject).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct OrderUpdate {
    pub kind: u8,
    pub side: u8,
    /// [`OrderState`] after the update.
    pub state: u8,
    /// Venue reject reason (0 = none).
    pub reason: u8,
    pub account: AccountId,
    pub symbol: SymbolId,
    pub _pad: u32,
    pub seq: u64,
    pub ts_event: u64,
    pub order_id: u64,
    pub qty: f64,
    pub price: f64,
    pub cum_qty: f64,
}

impl OrderUpdate {
    /// Decoded state.
    #[inline]
    pub fn state(&self) -> Option<OrderState> {
        OrderState::from_u8(self.state)
    }
}

/// A risk rule that fired: pre-trade rejects (hot path) and post-trade breaches (cold path).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct RiskEvent {
    pub kind: u8,
    /// The rule, as the [`Outcome`] it produces.
    pub rule: u8,
    /// [`ControlOp`] taken as a consequence (0 = none).
    pub action: u8,
    pub side: u8,
    pub account: AccountId,
    pub symbol: SymbolId,
    pub _pad: u32,
    pub seq: u64,
    pub ts_event: u64,
    /// Observed value (quantity, notional, usage, count…).
    pub value: f64,
    /// The limit it was checked against.
    pub limit: f64,
    pub _pad2: [u64; 2],
}

/// Per-account trading policy (config, store, or a policy update on its ring).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct AccountPolicy {
    pub kind: u8,
    /// [`AccountStatus`].
    pub status: u8,
    /// Per-account kill switch (0/1).
    pub kill: u8,
    pub _pad: u8,
    pub account: AccountId,
    pub max_open_symbols: u32,
    pub max_open_orders: u32,
    pub seq: u64,
    pub ts_event: u64,
    pub initial_capital: f64,
    pub max_order_qty: f64,
    pub max_order_notional: f64,
    /// Capital usage limit as a fraction of `initial_capital` (1.0 = 100 %).
    pub max_capital_usage: f64,
}

impl AccountPolicy {
    /// Decoded status (unknown values read as BLOCKED: the safe side).
    #[inline]
    pub fn status(&self) -> AccountStatus {
        AccountStatus::from_u8(self.status).unwrap_or(AccountStatus::Blocked)
    }
}

/// An operator or risk control action for the hot thread (control ring).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct Control {
    pub kind: u8,
    /// [`ControlOp`].
    pub op: u8,
    /// Argument (e.g. the [`AccountStatus`] for `SetStatus`).
    pub value: u8,
    pub _pad: u8,
    /// Target account (ignored by global ops).
    pub account: AccountId,
    pub _pad1: u64,
    pub seq: u64,
    pub ts_event: u64,
    pub _pad2: [u64; 4],
}

impl Control {
    /// Decoded op.
    #[inline]
    pub fn op(&self) -> Option<ControlOp> {
        ControlOp::from_u8(self.op)
    }
}

const _: () = {
    assert!(core::mem::size_of::<StrategySignal>() == 64);
    assert!(core::mem::size_of::<TradeSignal>() == 64);
    assert!(core::mem::size_of::<OrderRequest>() == 64);
    assert!(core::mem::size_of::<ExecReport>() == 64);
    assert!(core::mem::size_of::<Fill>() == 64);
    assert!(core::mem::size_of::<RollupChange>() == 64);
    assert!(core::mem::size_of::<OrderUpdate>() == 64);
    assert!(core::mem::size_of::<RiskEvent>() == 64);
    assert!(core::mem::size_of::<AccountPolicy>() == 64);
    assert!(core::mem::size_of::<Control>() == 64);
};
