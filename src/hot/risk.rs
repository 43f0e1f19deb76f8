//! RiskGuard, pre-trade: the checks every order passes before it leaves.
//! Order: global kill switch, account kill switch, account status / buys
//! blocked (BUY only), max order quantity, max order notional, max open
//! orders, capital usage (BUY only). The first failing rule is the reason.
//!
//! Hot-path rules: pure checks on preallocated tables; never allocates.

use tradeengine_model::{AccountId, AccountStatus, Outcome, Side};

use super::accounts::AccountTable;

/// A failed check: the rule (as its drop outcome), the value seen and the limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Breach {
    pub rule: Outcome,
    pub value: f64,
    pub limit: f64,
}

/// Pre-trade risk state that is not per account.
#[derive(Clone, Copy, Debug, Default)]
pub struct RiskGuard {
    /// Global kill switch: no new orders at all.
    pub global_kill: bool,
}

impl RiskGuard {
    /// Checks an order of `qty` at `price` for account `a`.
    #[inline]
    pub fn check(&self, t: &AccountTable, a: AccountId, side: Side, qty: f64, price: f64) -> Result<(), Breach> {
        let i = a as usize;
        let breach = |rule, value, limit| Err(Breach { rule, value, limit });
        if self.global_kill {
            return breach(Outcome::KillSwitch, 1.0, 0.0);
        }
        if t.killed[i] {
            return breach(Outcome::AccountKilled, 1.0, 0.0);
        }
        if side == Side::Buy && (t.status[i] != AccountStatus::Active || t.buys_blocked[i]) {
            return breach(Outcome::BuysBlocked, 1.0, 0.0);
        }
        if qty > t.max_order_qty[i] {
            return breach(Outcome::MaxOrderQty, qty, t.max_order_qty[i]);
        }
        let notional = qty * price;
        if notional > t.max_order_notional[i] {
            return breach(Outcome::MaxOrderNotional, notional, t.max_order_notional[i]);
        }
        if t.open_orders[i] >= t.max_open_orders[i] {
            return breach(Outcome::MaxOpenOrders, t.open_orders[i] as f64, t.max_open_orders[i] as f64);
        }
        if side == Side::Buy {
            let used = t.capital_used[i] + notional;
            let limit = t.initial_capital[i] * t.max_capital_usage[i];
            if used > limit {
                return breach(Outcome::CapitalUsage, used, limit);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_model::AccountPolicy;

    fn table() -> AccountTable {
        AccountTable::new(&[AccountPolicy {
            account: 0,
            status: AccountStatus::Active as u8,
            max_open_symbols: 5,
            max_open_orders: 2,
            initial_capital: 10_000.0,
            max_order_qty: 100.0,
            max_order_notional: 5_000.0,
            max_capital_usage: 0.5,
            ..Default::default()
        }])
    }

    #[test]
    fn each_rule_fires_in_order() {
        let mut t = table();
        let mut g = RiskGuard::default();
        assert_eq!(g.check(&t, 0, Side::Buy, 10.0, 100.0), Ok(()));
        assert_eq!(g.check(&t, 0, Side::Buy, 101.0, 1.0).unwrap_err().rule, Outcome::MaxOrderQty);
        let b = g.check(&t, 0, Side::Buy, 60.0, 100.0).unwrap_err();
        assert_eq!((b.rule, b.value, b.limit), (Outcome::MaxOrderNotional, 6_000.0, 5_000.0));
        t.capital_used[0] = 4_500.0;
        let b = g.check(&t, 0, Side::Buy, 10.0, 100.0).unwrap_err();
        assert_eq!((b.rule, b.value, b.limit), (Outcome::CapitalUsage, 5_500.0, 5_000.0));
        assert_eq!(g.check(&t, 0, Side::Sell, 10.0, 100.0), Ok(()), "capital usage never blocks a close");
        t.open_orders[0] = 2;
        assert_eq!(g.check(&t, 0, Side::Sell, 1.0, 1.0).unwrap_err().rule, Outcome::MaxOpenOrders);
        t.status[0] = AccountStatus::Blocked;
        assert_eq!(g.check(&t, 0, Side::Buy, 1.0, 1.0).unwrap_err().rule, Outcome::BuysBlocked);
        t.killed[0] = true;
        assert_eq!(g.check(&t, 0, Side::Sell, 1.0, 1.0).unwrap_err().rule, Outcome::AccountKilled);
        g.global_kill = true;
        assert_eq!(g.check(&t, 0, Side::Sell, 1.0, 1.0).unwrap_err().rule, Outcome::KillSwitch);
    }
}
