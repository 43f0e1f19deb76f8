//! What a backtest report reads back from a SQLite store: decisions by
//! outcome, orders, fills in order, the portfolio, and the P&L time series.
//! Cold path, read-only queries.

use rusqlite::Connection;

use super::sqlite::SqliteStore;
use super::StoreError;

/// One fill, in journal order.
#[derive(Clone, Debug, PartialEq)]
pub struct FillRow {
    pub seq: u64,
    pub ts_event: u64,
    pub account: String,
    pub symbol: String,
    pub side: String,
    pub qty: f64,
    pub price: f64,
}

/// One account's final valuation.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountValue {
    pub account: String,
    pub initial_capital: f64,
    pub cash: f64,
    pub equity: f64,
    pub realized_pnl: f64,
    pub unrealized_pnl: f64,
    pub open_positions: u64,
}

/// One `pnl_timeseries` row.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRow {
    pub ts_event: u64,
    pub account: String,
    pub equity: f64,
    pub drawdown_pct: f64,
}

/// Everything a report needs, as the store holds it.
#[derive(Clone, Debug, Default)]
pub struct ReportData {
    /// (outcome, count) in outcome name order.
    pub outcomes: Vec<(String, u64)>,
    /// Routed decisions per symbol: (symbol, routed BUY, routed SELL, dropped).
    pub signals_by_symbol: Vec<(String, u64, u64, u64)>,
    pub orders: u64,
    pub fills: Vec<FillRow>,
    pub accounts: Vec<AccountValue>,
    /// Initial capital of every account of the universe (traded or not).
    pub total_initial_capital: f64,
    pub snapshots: Vec<SnapshotRow>,
    /// Open positions: (account, symbol, net quantity, average price).
    pub positions: Vec<(String, String, f64, f64)>,
    /// Last mark of each symbol.
    pub marks: Vec<(String, f64)>,
    pub risk_events: u64,
    /// Last checkpoint (input sequence), if any.
    pub checkpoint: Option<u64>,
}

fn q<E: std::error::Error + Send + Sync + 'static>(what: &str) -> impl FnOnce(E) -> StoreError + '_ {
    move |e| StoreError::Backend { store: "sqlite", what: format!("report: {what}"), source: Box::new(e) }
}

fn rows<T>(
    c: &Connection,
    sql: &str,
    what: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut st = c.prepare(sql).map_err(q(what))?;
    let it = st.query_map([], f).map_err(q(what))?;
    it.collect::<Result<Vec<T>, _>>().map_err(q(what))
}

impl SqliteStore {
    /// Reads what a backtest report shows.
    pub fn report_data(&self) -> Result<ReportData, StoreError> {
        let c = self.connection();
        let u = |v: i64| v as u64;
        let outcomes = rows(
            c,
            "SELECT outcome, COUNT(*) FROM trade_signals GROUP BY outcome ORDER BY outcome",
            "trade_signals",
            |r| Ok((r.get(0)?, u(r.get(1)?))),
        )?;
        let signals_by_symbol = rows(
            c,
            "SELECT symbol, SUM(outcome = 'routed' AND side = 'BUY'), SUM(outcome = 'routed' AND side = 'SELL'), \
             SUM(outcome <> 'routed') FROM trade_signals GROUP BY symbol ORDER BY symbol",
            "trade_signals by symbol",
            |r| Ok((r.get(0)?, u(r.get(1)?), u(r.get(2)?), u(r.get(3)?))),
        )?;
        let orders =
            c.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get::<_, i64>(0)).map_err(q("orders"))? as u64;
        let fills = rows(
            c,
            "SELECT seq, ts_event, account, symbol, side, qty, price FROM fills ORDER BY rowid",
            "fills",
            |r| {
                Ok(FillRow {
                    seq: u(r.get(0)?),
                    ts_event: u(r.get(1)?),
                    account: r.get(2)?,
                    symbol: r.get(3)?,
                    side: r.get(4)?,
                    qty: r.get(5)?,
                    price: r.get(6)?,
                })
            },
        )?;
        let accounts = rows(
            c,
            "SELECT account, initial_capital, equity, realized_pnl, unrealized_pnl, open_positions, cash FROM portfolio ORDER BY account",
            "portfolio",
            |r| {
                Ok(AccountValue {
                    account: r.get(0)?,
                    initial_capital: r.get(1)?,
                    equity: r.get(2)?,
                    realized_pnl: r.get(3)?,
                    unrealized_pnl: r.get(4)?,
                    open_positions: u(r.get(5)?),
                    cash: r.get(6)?,
                })
            },
        )?;
        let positions = rows(
            c,
            "SELECT account, symbol, net_qty, avg_price FROM open_positions_rollup ORDER BY account, symbol",
            "open_positions_rollup",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let marks = rows(c, "SELECT symbol, price FROM symbol_marks ORDER BY symbol", "symbol_marks", |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        let total_initial_capital = c
            .query_row("SELECT COALESCE(SUM(initial_capital), 0) FROM account_policy", [], |r| r.get::<_, f64>(0))
            .map_err(q("account_policy"))?;
        let snapshots = rows(
            c,
            "SELECT ts_event, account, equity, drawdown_pct FROM pnl_timeseries ORDER BY rowid",
            "pnl_timeseries",
            |r| {
                Ok(SnapshotRow {
                    ts_event: u(r.get(0)?),
                    account: r.get(1)?,
                    equity: r.get(2)?,
                    drawdown_pct: r.get(3)?,
                })
            },
        )?;
        let risk_events = c
            .query_row("SELECT COUNT(*) FROM risk_events", [], |r| r.get::<_, i64>(0))
            .map_err(q("risk_events"))? as u64;
        let checkpoint =
            rows(c, "SELECT last_seq FROM engine_checkpoint ORDER BY engine_id", "engine_checkpoint", |r| {
                r.get::<_, i64>(0)
            })?
            .into_iter()
            .map(u)
            .max();
        Ok(ReportData {
            outcomes,
            signals_by_symbol,
            orders,
            fills,
            accounts,
            total_initial_capital,
            snapshots,
            positions,
            marks,
            risk_events,
            checkpoint,
        })
    }
}
