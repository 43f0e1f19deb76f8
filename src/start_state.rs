//! What a run starts from when its store already holds one: the checkpoint
//! (the run resumes after it), account policies as operators left them, open
//! positions, realized P&L, blocked BUYs, the kill switch, and the portfolio.
//! Shared by `replay` and `run`. Cold path (start-up).

use anyhow::bail;
use tradeengine_adapters::store::{RestartState, Store};
use tradeengine_adapters::venue::Venue;
use tradeengine_model::{AccountPolicy, RollupChange};

use crate::cold::{JournalExpander, Portfolio};
use crate::config::Config;
use crate::hot::{HotEngine, HotParams};

/// The start of a run, read from its store.
pub struct StartState {
    /// First input of this run (0, or the checkpoint + 1).
    pub start_seq: u64,
    /// Account policies (the store's, after operators' changes, on a resume).
    pub policies: Vec<AccountPolicy>,
    /// The cold-path portfolio, restored.
    pub portfolio: Portfolio,
    positions: Vec<RollupChange>,
    realized: Vec<(u32, f64)>,
    buys_blocked: Vec<u32>,
    kill_switch: bool,
}

impl StartState {
    /// Reads `store`: a store without a checkpoint starts a new run (and gets
    /// `policies`); one with a checkpoint is continued when `resume`, refused
    /// otherwise (`store_name` says which store in the error).
    pub fn load(
        store: &mut dyn Store,
        mut policies: Vec<AccountPolicy>,
        symbols: usize,
        cfg: &Config,
        resume: bool,
        store_name: &str,
    ) -> anyhow::Result<Self> {
        let restart: RestartState = store.restart_state()?;
        let start_seq = match (restart.checkpoint, resume) {
            (Some(cp), true) => cp + 1,
            (None, _) => 0,
            (Some(cp), false) => bail!(
                "{store_name} already holds a run through input {cp}: add --resume to continue it, or choose another --db"
            ),
        };
        if restart.checkpoint.is_some() {
            // Policies as the store has them (they may have been changed by operators).
            for sp in &restart.policies {
                if let Some(slot) = policies.get_mut(sp.account as usize) {
                    *slot = AccountPolicy { account: slot.account, ..*sp };
                }
            }
        } else {
            store.init_policies(&policies)?;
        }
        let capital: Vec<f64> = policies.iter().map(|p| p.initial_capital).collect();
        let mut portfolio = Portfolio::new(&capital, symbols, cfg.portfolio.snapshot_interval_ms * 1_000_000);
        portfolio.restore(&restart.portfolio, &restart.positions, &restart.marks, restart.last_ts);
        Ok(Self {
            start_seq,
            policies,
            portfolio,
            realized: restart.realized(),
            positions: restart.positions,
            buys_blocked: restart.buys_blocked,
            kill_switch: restart.kill_switch,
        })
    }

    /// The cold side's journal expander for engine `engine`, its position
    /// mirror seeded with the positions the hot thread starts from.
    pub fn journal_expander(&self, engine: u32) -> JournalExpander {
        JournalExpander::seeded(engine, &self.positions)
    }

    /// The hot engine's start-up from this state (run on the hot thread);
    /// `owned` (scale-out, see `PartitionSection::owned`) is this engine's
    /// slice of the accounts, given before any position is seeded.
    ///
    /// Fails, before anything starts, when an open position the store holds
    /// could not be seeded into an engine built with `params` (an id out of
    /// range, a quantity that is not positive, more positions than the
    /// account's slots or the position pool): started anyway, the run would
    /// lose it. `accounts` names the accounts for the error.
    pub fn hot_setup<V: Venue>(
        &self,
        params: &HotParams,
        accounts: &[String],
        owned: Option<Vec<bool>>,
    ) -> anyhow::Result<impl FnOnce(&mut HotEngine<V>) + Send + 'static> {
        self.check_positions_fit(params, accounts)?;
        let (positions, realized, blocked, kill) =
            (self.positions.clone(), self.realized.clone(), self.buys_blocked.clone(), self.kill_switch);
        Ok(move |e: &mut HotEngine<V>| {
            if let Some(owned) = owned {
                e.set_owned(|a| owned.get(a as usize).copied().unwrap_or(false));
            }
            for rc in &positions {
                e.seed_position(rc.account, rc.symbol, rc.net_qty, rc.avg_price, rc.realized_pnl);
            }
            for &(a, v) in &realized {
                e.seed_realized(a, v);
            }
            for &a in &blocked {
                e.seed_buys_blocked(a);
            }
            e.set_kill_switch(kill);
        })
    }

    /// See [`StartState::hot_setup`]: every stored position has a place in
    /// the hot engine's book.
    fn check_positions_fit(&self, params: &HotParams, accounts: &[String]) -> anyhow::Result<()> {
        let mut per_account = vec![0usize; self.policies.len()];
        for rc in &self.positions {
            let name = || match accounts.get(rc.account as usize) {
                Some(n) => format!("account {n} (id {})", rc.account),
                None => format!("account id {}", rc.account),
            };
            let Some(count) = per_account.get_mut(rc.account as usize) else {
                bail!(
                    "the store holds an open position of {}, but the configuration has {} accounts",
                    name(),
                    self.policies.len()
                );
            };
            if rc.symbol as usize >= params.symbols {
                bail!(
                    "the store holds an open position of {} in symbol id {}, beyond the engine's {} symbols",
                    name(),
                    rc.symbol,
                    params.symbols
                );
            }
            if !(rc.net_qty.is_finite() && rc.net_qty > 0.0) {
                bail!(
                    "the store holds an open position of {} in symbol id {} with quantity {}",
                    name(),
                    rc.symbol,
                    rc.net_qty
                );
            }
            *count += 1;
            if *count > params.slots_per_account {
                bail!(
                    "the store holds more than {} open positions of {}: more than the engine's position slots per account (the largest maxOpenSymbols of the account policies)",
                    params.slots_per_account,
                    name()
                );
            }
        }
        if params.position_pool > 0 && self.positions.len() > params.position_pool {
            bail!(
                "the store holds {} open positions, more than capacity.positions = {}",
                self.positions.len(),
                params.position_pool
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_model::RollupOp;

    /// A start state of 3 accounts whose store holds `positions` (account, symbol).
    fn state(positions: &[(u32, u32)]) -> StartState {
        StartState {
            start_seq: 0,
            policies: (0..3).map(|a| AccountPolicy { account: a, ..Default::default() }).collect(),
            portfolio: Portfolio::new(&[0.0; 3], 10, 0),
            positions: positions
                .iter()
                .map(|&(account, symbol)| RollupChange {
                    op: RollupOp::Upsert as u8,
                    account,
                    symbol,
                    net_qty: 1.0,
                    avg_price: 100.0,
                    ..Default::default()
                })
                .collect(),
            realized: Vec::new(),
            buys_blocked: Vec::new(),
            kill_switch: false,
        }
    }

    fn check(s: &StartState, params: &HotParams) -> Result<(), String> {
        let names: Vec<String> = ["ACC-A", "ACC-B", "ACC-C"].map(String::from).to_vec();
        s.hot_setup::<tradeengine_adapters::venue::SimVenue>(params, &names, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_store_whose_positions_the_engine_cannot_hold_is_refused_before_the_start() {
        let params = HotParams { symbols: 10, slots_per_account: 2, position_pool: 4, ..Default::default() };
        assert_eq!(check(&state(&[(0, 1), (0, 2), (1, 1), (2, 9)]), &params), Ok(()));
        let e = check(&state(&[(0, 1), (1, 1), (1, 2), (1, 3)]), &params).unwrap_err();
        assert!(e.contains("more than 2 open positions of account ACC-B (id 1)"), "{e}");
        let e = check(&state(&[(0, 1), (0, 2), (1, 1), (1, 2), (2, 1)]), &params).unwrap_err();
        assert!(e.contains("the store holds 5 open positions, more than capacity.positions = 4"), "{e}");
        let e = check(&state(&[(2, 10)]), &params).unwrap_err();
        assert!(e.contains("account ACC-C (id 2) in symbol id 10, beyond the engine's 10 symbols"), "{e}");
        let e = check(&state(&[(3, 1)]), &params).unwrap_err();
        assert!(e.contains("account id 3, but the configuration has 3 accounts"), "{e}");
        let mut bad = state(&[(0, 1)]);
        bad.positions[0].net_qty = f64::NAN;
        let e = check(&bad, &params).unwrap_err();
        assert!(e.contains("account ACC-A (id 0) in symbol id 1 with quantity NaN"), "{e}");
        // no pool limit (0): only the slots bound it
        let unbounded = HotParams { position_pool: 0, ..params };
        assert_eq!(check(&state(&[(0, 1), (0, 2), (1, 1), (1, 2), (2, 1)]), &unbounded), Ok(()));
    }
}
