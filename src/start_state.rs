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
use crate::hot::HotEngine;

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
    pub fn hot_setup<V: Venue>(&self, owned: Option<Vec<bool>>) -> impl FnOnce(&mut HotEngine<V>) + Send + 'static {
        let (positions, realized, blocked, kill) =
            (self.positions.clone(), self.realized.clone(), self.buys_blocked.clone(), self.kill_switch);
        move |e: &mut HotEngine<V>| {
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
        }
    }
}
