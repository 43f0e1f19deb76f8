//! The hot thread's per-account state, struct-of-arrays, preallocated.

use tradeengine_model::{AccountId, AccountPolicy, AccountStatus};

/// Per-account policy and running risk state. Indexed by dense account id.
#[derive(Clone, Debug)]
pub struct AccountTable {
    pub status: Vec<AccountStatus>,
    /// Per-account kill switch.
    pub killed: Vec<bool>,
    /// New BUYs blocked by a post-trade risk control.
    pub buys_blocked: Vec<bool>,
    pub max_open_symbols: Vec<u32>,
    pub max_open_orders: Vec<u32>,
    /// Orders in flight (not yet terminal).
    pub open_orders: Vec<u32>,
    pub initial_capital: Vec<f64>,
    pub max_order_qty: Vec<f64>,
    pub max_order_notional: Vec<f64>,
    pub max_capital_usage: Vec<f64>,
    /// Capital in use: cost basis of open positions plus notional of in-flight BUYs.
    pub capital_used: Vec<f64>,
    /// Realized P&L, accumulated in fill order.
    pub realized_pnl: Vec<f64>,
    /// Routed by this engine (scale-out gives each engine a slice of the
    /// accounts; the others' positions are seen, never traded).
    pub owned: Vec<bool>,
}

impl AccountTable {
    /// Tables for `policies` (index = account id; ids must be dense `0..n`).
    pub fn new(policies: &[AccountPolicy]) -> Self {
        let n = policies.len();
        let mut t = Self {
            status: vec![AccountStatus::Blocked; n],
            killed: vec![false; n],
            buys_blocked: vec![false; n],
            max_open_symbols: vec![0; n],
            max_open_orders: vec![0; n],
            open_orders: vec![0; n],
            initial_capital: vec![0.0; n],
            max_order_qty: vec![0.0; n],
            max_order_notional: vec![0.0; n],
            max_capital_usage: vec![0.0; n],
            capital_used: vec![0.0; n],
            realized_pnl: vec![0.0; n],
            owned: vec![true; n],
        };
        for p in policies {
            t.apply_policy(p, u32::MAX);
        }
        t
    }

    /// Number of accounts.
    #[inline]
    pub fn len(&self) -> usize {
        self.status.len()
    }

    /// True if there are no accounts.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.status.is_empty()
    }

    /// Applies a policy; `max_open_symbols` is clamped to `slot_limit` (the
    /// preallocated position slots per account). Returns false if the account
    /// id is out of range. Never allocates.
    #[inline]
    pub fn apply_policy(&mut self, p: &AccountPolicy, slot_limit: u32) -> bool {
        let a = p.account as usize;
        if a >= self.len() {
            return false;
        }
        self.status[a] = p.status();
        self.killed[a] = p.kill != 0;
        self.max_open_symbols[a] = p.max_open_symbols.min(slot_limit);
        self.max_open_orders[a] = p.max_open_orders;
        self.initial_capital[a] = p.initial_capital;
        self.max_order_qty[a] = p.max_order_qty;
        self.max_order_notional[a] = p.max_order_notional;
        self.max_capital_usage[a] = p.max_capital_usage;
        true
    }

    /// May this account receive new BUYs (owned by this engine, status
    /// ACTIVE, not killed, buys not blocked)?
    #[inline]
    pub fn buy_eligible(&self, a: AccountId) -> bool {
        let a = a as usize;
        self.owned[a] && self.status[a] == AccountStatus::Active && !self.killed[a] && !self.buys_blocked[a]
    }
}
