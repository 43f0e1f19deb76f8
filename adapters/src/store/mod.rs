//! Stores: where the journal becomes durable, queryable state. Cold path.
//!
//! A store receives the journal in batches. Each batch holds every record of
//! the input sequences up to `through` that was not committed before, and the
//! store commits it **atomically with the checkpoint `through`**: after a crash
//! at any moment, the tables hold exactly the inputs `0..=checkpoint`, so a
//! restart resumes at `checkpoint + 1` with nothing lost and nothing twice.

pub mod report_data;
pub mod sqlite;

pub use report_data::{AccountValue, FillRow, ReportData, SnapshotRow};
pub use sqlite::{SqliteStore, StoreTotals};

use std::io::Write;

use tradeengine_model::{AccountPolicy, JournalEvent, JournalKind, RollupChange};

/// Store errors: what failed, with the underlying cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {store}: {what}: {source}")]
    Backend {
        store: &'static str,
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("store {store}: {what}")]
    Invalid { store: &'static str, what: String },
}

/// Names of the interned ids, for human-readable tables.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Account names by dense id.
    pub accounts: Vec<String>,
    /// Symbol names by dense id.
    pub symbols: Vec<String>,
}

impl Names {
    /// The account's name (`?` for an id without one).
    pub fn account(&self, id: u32) -> &str {
        self.accounts.get(id as usize).map_or("?", String::as_str)
    }

    /// The symbol's name (`?` for an id without one).
    pub fn symbol(&self, id: u32) -> &str {
        self.symbols.get(id as usize).map_or("?", String::as_str)
    }
}

/// One account's portfolio (the `portfolio` table's row).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PortfolioRow {
    pub account: u32,
    pub initial_capital: f64,
    pub cash: f64,
    pub equity: f64,
    pub realized_pnl: f64,
    pub unrealized_pnl: f64,
    pub gross_exposure: f64,
    pub net_exposure: f64,
    pub open_positions: u32,
    /// Cost of open positions / initial capital, in percent.
    pub capital_usage_pct: f64,
    pub peak_equity: f64,
    /// (peak − equity) / peak, in percent.
    pub drawdown_pct: f64,
    pub fills: i64,
    pub seq: u64,
    pub ts_event: u64,
}

/// One `pnl_timeseries` row: an account's valuation at an event-time snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PnlRow {
    pub ts_event: u64,
    pub account: u32,
    pub cash: f64,
    pub equity: f64,
    pub realized_pnl: f64,
    pub unrealized_pnl: f64,
    pub drawdown_pct: f64,
}

/// One atomic commit: journal records of complete inputs, the rows the cold
/// path derived from them, and the checkpoint.
#[derive(Clone, Copy, Debug, Default)]
pub struct CommitBatch<'a> {
    pub records: &'a [JournalEvent],
    /// Portfolio rows changed by these records.
    pub portfolio: &'a [PortfolioRow],
    /// Snapshots taken while applying them.
    pub pnl: &'a [PnlRow],
    /// Symbols whose mark changed: (symbol, price).
    pub marks: &'a [(u32, f64)],
    /// Last input sequence the batch completes.
    pub through: u64,
    /// Event time reached (restores the snapshot clock).
    pub last_ts: u64,
}

impl CommitBatch<'_> {
    /// Refuses a batch that still holds a hot-thread-only record
    /// ([`tradeengine_model::TradeFilled`]): a store writes the decision,
    /// fill and position change it stands for, so the journal must be
    /// expanded first. `store` names the store in the error.
    pub fn check_expanded(&self, store: &'static str) -> Result<(), StoreError> {
        match self.records.iter().find(|ev| ev.kind() == Some(JournalKind::TradeFilled)) {
            Some(ev) => Err(StoreError::Invalid {
                store,
                what: format!(
                    "the batch through input {} holds an unexpanded TradeFilled record (input {}): \
                     journals reach a store only through the cold side's JournalExpander",
                    self.through,
                    ev.seq()
                ),
            }),
            None => Ok(()),
        }
    }
}

/// What a restart needs from the store.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RestartState {
    /// Last input sequence durably applied (`None`: nothing yet).
    pub checkpoint: Option<u64>,
    /// Event time reached at the checkpoint.
    pub last_ts: u64,
    /// Open positions (account and symbol as dense ids).
    pub positions: Vec<RollupChange>,
    /// Portfolio rows (dense ids).
    pub portfolio: Vec<PortfolioRow>,
    /// Last marks (symbol id, price).
    pub marks: Vec<(u32, f64)>,
    /// Account policies (dense ids).
    pub policies: Vec<AccountPolicy>,
    /// Accounts whose new BUYs are blocked (dense ids).
    pub buys_blocked: Vec<u32>,
    /// Global kill switch.
    pub kill_switch: bool,
}

impl RestartState {
    /// Realized P&L per account (dense id, value), from the portfolio rows.
    pub fn realized(&self) -> Vec<(u32, f64)> {
        self.portfolio.iter().map(|r| (r.account, r.realized_pnl)).collect()
    }
}

/// Every table, in the order `store dump` knows them.
pub const TABLES: &[&str] = &[
    "open_positions_rollup",
    "portfolio",
    "orders",
    "account_policy",
    "engine_checkpoint",
    "trade_signals",
    "fills",
    "pnl_timeseries",
    "risk_events",
    "symbol_marks",
];

/// A journal sink with exactly-once checkpoints.
pub trait Store: Send {
    /// The backend's name (`sqlite`, `none`).
    fn name(&self) -> &'static str;

    /// Writes the account universe's policies (at first start).
    fn init_policies(&mut self, policies: &[AccountPolicy]) -> Result<(), StoreError>;

    /// Applies the batch and sets the checkpoint to `batch.through`, atomically.
    fn commit(&mut self, batch: &CommitBatch<'_>) -> Result<(), StoreError>;

    /// Reads what a restart needs.
    fn restart_state(&mut self) -> Result<RestartState, StoreError>;

    /// Writes `table` as CSV with a header, rows in primary-key or log order.
    fn dump(&mut self, table: &str, out: &mut dyn Write) -> Result<(), StoreError>;
}

/// The `none` store: keeps nothing (pure benchmarks).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoStore;

impl Store for NoStore {
    fn name(&self) -> &'static str {
        "none"
    }
    fn init_policies(&mut self, _: &[AccountPolicy]) -> Result<(), StoreError> {
        Ok(())
    }
    fn commit(&mut self, _: &CommitBatch<'_>) -> Result<(), StoreError> {
        Ok(())
    }
    fn restart_state(&mut self) -> Result<RestartState, StoreError> {
        Ok(RestartState::default())
    }
    fn dump(&mut self, table: &str, _: &mut dyn Write) -> Result<(), StoreError> {
        Err(StoreError::Invalid { store: "none", what: format!("the `none` store keeps no table (`{table}`)") })
    }
}
