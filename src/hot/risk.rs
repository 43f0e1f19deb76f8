//! RiskGuard, pre-trade: the checks every order passes before it leaves.
//! Order: global kill switch, account kill switch, account status / buys
//! blocked (BUY only), max order quantity, max order notional, max open
//! orders, capital usage (BUY only). The first failing rule is the reason.
//!
//! Hot-path rules: pure checks on preallocated tables; never allocates.

use tradeengine_model::{AccountStatus, Outcome, Side};

use super::accounts::AccountState;

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
    /// Checks an order of `qty` at `price` for the account whose row is `r`.
    #[inline(always)]
    pub fn check(&self, r: &AccountState, side: Side, qty: f64, price: f64) -> Result<(), Breach> {
        let breach = |rule, value, limit| Err(Breach { rule, value, limit });
        if self.global_kill {
            return breach(Outcome::KillSwitch, 1.0, 0.0);
        }
        if r.killed {
            return breach(Outcome::AccountKilled, 1.0, 0.0);
        }
        if side == Side::Buy && (r.status != AccountStatus::Active || r.buys_blocked) {
            return breach(Outcome::BuysBlocked, 1.0, 0.0);
        }
        if qty > r.max_order_qty {
            return breach(Outcome::MaxOrderQty, qty, r.max_order_qty);
        }
        let notional = qty * price;
        if notional > r.max_order_notional {
            return breach(Outcome::MaxOrderNotional, notional, r.max_order_notional);
        }
        if r.open_orders >= r.max_open_orders {
            return breach(Outcome::MaxOpenOrders, r.open_orders as f64, r.max_open_orders as f64);
        }
        if side == Side::Buy {
            let used = r.capital_used + notional;
            let limit = r.initial_capital * r.max_capital_usage;
            if used > limit {
                return breach(Outcome::CapitalUsage, used, limit);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::accounts::AccountTable;
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
        assert_eq!(g.check(&t[0], Side::Buy, 10.0, 100.0), Ok(()));
        assert_eq!(g.check(&t[0], Side::Buy, 101.0, 1.0).unwrap_err().rule, Outcome::MaxOrderQty);
        let b = g.check(&t[0], Side::Buy, 60.0, 100.0).unwrap_err();
        assert_eq!((b.rule, b.value, b.limit), (Outcome::MaxOrderNotional, 6_000.0, 5_000.0));
        t[0].capital_used = 4_500.0;
        let b = g.check(&t[0], Side::Buy, 10.0, 100.0).unwrap_err();
        assert_eq!((b.rule, b.value, b.limit), (Outcome::CapitalUsage, 5_500.0, 5_000.0));
        assert_eq!(g.check(&t[0], Side::Sell, 10.0, 100.0), Ok(()), "capital usage never blocks a close");
        t[0].open_orders = 2;
        assert_eq!(g.check(&t[0], Side::Sell, 1.0, 1.0).unwrap_err().rule, Outcome::MaxOpenOrders);
        t[0].status = AccountStatus::Blocked;
        assert_eq!(g.check(&t[0], Side::Buy, 1.0, 1.0).unwrap_err().rule, Outcome::BuysBlocked);
        t[0].killed = true;
        assert_eq!(g.check(&t[0], Side::Sell, 1.0, 1.0).unwrap_err().rule, Outcome::AccountKilled);
        g.global_kill = true;
        assert_eq!(g.check(&t[0], Side::Sell, 1.0, 1.0).unwrap_err().rule, Outcome::KillSwitch);
    }
}
