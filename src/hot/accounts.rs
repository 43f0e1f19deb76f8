//! The hot thread's per-account state: one 64-byte row per account,
//! preallocated, so that everything a decision reads about an account (risk
//! limits, capital in use, eligibility) is one cache line, not one line per
//! field array (W2's 100,000 accounts make each field array 800 KB).

use std::ops::{Index, IndexMut};

use tradeengine_model::{AccountId, AccountPolicy, AccountStatus};

/// One account's policy and running risk state: exactly one cache line.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccountState {
    /// Capital in use: cost basis of open positions plus notional of in-flight BUYs.
    pub capital_used: f64,
    pub initial_capital: f64,
    pub max_order_qty: f64,
    pub max_order_notional: f64,
    pub max_capital_usage: f64,
    /// Realized P&L, accumulated in fill order.
    pub realized_pnl: f64,
    pub max_open_symbols: u32,
    pub max_open_orders: u32,
    /// Orders in flight (not yet terminal).
    pub open_orders: u32,
    pub status: AccountStatus,
    /// Per-account kill switch.
    pub killed: bool,
    /// New BUYs blocked by a post-trade risk control.
    pub buys_blocked: bool,
    /// Routed by this engine (scale-out gives each engine a slice of the
    /// accounts; the others' positions are seen, never traded).
    pub owned: bool,
}

const _: () = assert!(std::mem::size_of::<AccountState>() == 64);

impl AccountState {
    /// May this account receive new BUYs (owned by this engine, status
    /// ACTIVE, not killed, buys not blocked)?
    #[inline]
    pub fn buy_eligible(&self) -> bool {
        self.owned && self.status == AccountStatus::Active && !self.killed && !self.buys_blocked
    }
}

impl Default for AccountState {
    fn default() -> Self {
        Self {
            capital_used: 0.0,
            initial_capital: 0.0,
            max_order_qty: 0.0,
            max_order_notional: 0.0,
            max_capital_usage: 0.0,
            realized_pnl: 0.0,
            max_open_symbols: 0,
            max_open_orders: 0,
            open_orders: 0,
            status: AccountStatus::Blocked,
            killed: false,
            buys_blocked: false,
            owned: true,
        }
    }
}

/// Per-account policy and running risk state. Indexed by dense account id.
#[derive(Clone, Debug)]
pub struct AccountTable {
    rows: Vec<AccountState>,
}

impl AccountTable {
    /// Tables for `policies` (index = account id; ids must be dense `0..n`).
    pub fn new(policies: &[AccountPolicy]) -> Self {
        let mut t = Self { rows: vec![AccountState::default(); policies.len()] };
        for p in policies {
            t.apply_policy(p, u32::MAX);
        }
        t
    }

    /// Number of accounts.
    #[inline]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True if there are no accounts.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Account `a`'s row, if the id is in range.
    #[inline]
    pub fn get(&self, a: AccountId) -> Option<&AccountState> {
        self.rows.get(a as usize)
    }

    /// Every account's row, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &AccountState> + '_ {
        self.rows.iter()
    }

    /// Applies a policy; `max_open_symbols` is clamped to `slot_limit` (the
    /// preallocated position slots per account). Returns false if the account
    /// id is out of range. Never allocates.
    #[inline]
    pub fn apply_policy(&mut self, p: &AccountPolicy, slot_limit: u32) -> bool {
        let Some(r) = self.rows.get_mut(p.account as usize) else {
            return false;
        };
        r.status = p.status();
        r.killed = p.kill != 0;
        r.max_open_symbols = p.max_open_symbols.min(slot_limit);
        r.max_open_orders = p.max_open_orders;
        r.initial_capital = p.initial_capital;
        r.max_order_qty = p.max_order_qty;
        r.max_order_notional = p.max_order_notional;
        r.max_capital_usage = p.max_capital_usage;
        true
    }

    /// Hints account `a`'s row into cache (out of range: ignored). Hot path: changes nothing.
    #[inline]
    pub fn prefetch(&self, a: usize) {
        if let Some(r) = self.rows.get(a) {
            super::memory::prefetch(r);
        }
    }
}

impl Index<usize> for AccountTable {
    type Output = AccountState;

    /// Account `i`'s row. Panics if out of range: callers check ids first.
    #[inline]
    fn index(&self, i: usize) -> &AccountState {
        &self.rows[i]
    }
}

impl IndexMut<usize> for AccountTable {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut AccountState {
        &mut self.rows[i]
    }
}
