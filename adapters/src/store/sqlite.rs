//! The embedded default store: one SQLite file (WAL mode) with the tables of
//! DESIGN.md. Each commit is one transaction that also moves the checkpoint.
//! `synchronous = NORMAL` in WAL mode survives a crash of the process (kill
//! -9) at any point; an OS crash may lose the last commits but never half of
//! one.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};
use tradeengine_model::{
    AccountPolicy, AccountStatus, Control, ControlOp, Fill, JournalEvent, JournalKind, OrderState, OrderUpdate,
    Outcome, RiskEvent, RollupChange, RollupOp, Side, TradeSignal,
};

use super::{CommitBatch, Names, PortfolioRow, RestartState, Store, StoreError, TABLES};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS open_positions_rollup (
    account TEXT NOT NULL, symbol TEXT NOT NULL, net_qty REAL NOT NULL, avg_price REAL NOT NULL,
    realized_pnl REAL NOT NULL, last_price REAL NOT NULL, engine INTEGER NOT NULL, seq INTEGER NOT NULL,
    ts_event INTEGER NOT NULL, PRIMARY KEY (account, symbol)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS portfolio (
    account TEXT PRIMARY KEY, initial_capital REAL NOT NULL, cash REAL NOT NULL, equity REAL NOT NULL,
    realized_pnl REAL NOT NULL, unrealized_pnl REAL NOT NULL, gross_exposure REAL NOT NULL,
    net_exposure REAL NOT NULL, open_positions INTEGER NOT NULL, capital_usage_pct REAL NOT NULL,
    peak_equity REAL NOT NULL, drawdown_pct REAL NOT NULL, fills INTEGER NOT NULL, seq INTEGER NOT NULL,
    ts_event INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS symbol_marks (symbol TEXT PRIMARY KEY, price REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY, account TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
    state TEXT NOT NULL, qty REAL NOT NULL, price REAL NOT NULL, cum_qty REAL NOT NULL, seq INTEGER NOT NULL,
    ts_event INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS account_policy (
    account TEXT PRIMARY KEY, status TEXT NOT NULL, kill INTEGER NOT NULL, buys_blocked INTEGER NOT NULL,
    max_open_symbols INTEGER NOT NULL, max_open_orders INTEGER NOT NULL, initial_capital REAL NOT NULL,
    max_order_qty REAL NOT NULL, max_order_notional REAL NOT NULL, max_capital_usage REAL NOT NULL,
    seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS engine_checkpoint (
    engine_id INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, last_ts_event INTEGER NOT NULL,
    kill_switch INTEGER NOT NULL, updated_unix_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trade_signals (
    seq INTEGER NOT NULL, ts_event INTEGER NOT NULL, strategy INTEGER NOT NULL, symbol TEXT NOT NULL,
    side TEXT NOT NULL, outcome TEXT NOT NULL, route TEXT NOT NULL, account TEXT, order_id INTEGER,
    qty REAL NOT NULL, price REAL NOT NULL);
CREATE TABLE IF NOT EXISTS fills (
    seq INTEGER NOT NULL, ts_event INTEGER NOT NULL, order_id INTEGER NOT NULL, account TEXT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, qty REAL NOT NULL, price REAL NOT NULL, cum_qty REAL NOT NULL,
    order_state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pnl_timeseries (
    ts_event INTEGER NOT NULL, account TEXT NOT NULL, cash REAL NOT NULL, equity REAL NOT NULL,
    realized_pnl REAL NOT NULL, unrealized_pnl REAL NOT NULL, drawdown_pct REAL NOT NULL);
CREATE TABLE IF NOT EXISTS risk_events (
    seq INTEGER NOT NULL, ts_event INTEGER NOT NULL, account TEXT NOT NULL, symbol TEXT NOT NULL,
    side TEXT NOT NULL, rule TEXT NOT NULL, value REAL NOT NULL, limit_value REAL NOT NULL, action TEXT NOT NULL);
";

/// `ORDER BY` of each table for dumps: primary key, or log (insertion) order.
fn order_of(table: &str) -> &'static str {
    match table {
        "open_positions_rollup" => "account, symbol",
        "portfolio" | "account_policy" => "account",
        "symbol_marks" => "symbol",
        "orders" => "order_id",
        "engine_checkpoint" => "engine_id",
        _ => "rowid",
    }
}

/// Whole-run results read back from the tables (the `W1 …` line's fields).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreTotals {
    pub routed_buy: u64,
    pub routed_sell: u64,
    pub dropped: u64,
    pub open_positions: u64,
    /// Sum over open positions of `(account_id + 1) * (symbol_id + 1) * net_qty`.
    pub checksum: f64,
    /// Per-account realized P&L added in account id order.
    pub realized_pnl: f64,
}

/// The SQLite store.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    names: Names,
    account_ids: HashMap<String, u32>,
    symbol_ids: HashMap<String, u32>,
    engine_id: u32,
    /// Primary-key rows changed by the batch being committed, written once
    /// each at the end of the transaction (their final state).
    batch: BatchRows,
}

#[derive(Clone, Copy, Debug)]
struct OrderRow {
    account: u32,
    symbol: u32,
    side: u8,
    state: u8,
    qty: f64,
    price: f64,
    cum_qty: f64,
    seq: u64,
    ts_event: u64,
}

#[derive(Debug, Default)]
struct BatchRows {
    orders: HashMap<u64, OrderRow>,
    /// `None`: delete the position.
    positions: HashMap<(u32, u32), Option<RollupChange>>,
    /// Log rows, in journal order, written with multi-row inserts.
    signals: Vec<TradeSignal>,
    fills: Vec<Fill>,
}

impl BatchRows {
    fn clear(&mut self) {
        self.orders.clear();
        self.positions.clear();
        self.signals.clear();
        self.fills.clear();
    }

    /// Moves an order to `state`: in the batch if it is there, else in the table.
    fn order_state(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        id: u64,
        state: u8,
        cum_qty: f64,
        ts_event: u64,
    ) -> rusqlite::Result<()> {
        if let Some(o) = self.orders.get_mut(&id) {
            o.state = state;
            o.cum_qty = cum_qty;
            o.ts_event = ts_event;
            return Ok(());
        }
        tx.prepare_cached("UPDATE orders SET state = ?2, cum_qty = ?3, ts_event = ?4 WHERE order_id = ?1")?
            .execute(params![id as i64, state_name(state), cum_qty, ts_event as i64])?;
        Ok(())
    }

    /// Writes the batch's log rows (multi-row inserts) and final primary-key rows.
    fn flush(&self, tx: &rusqlite::Transaction<'_>, names: &Names) -> rusqlite::Result<()> {
        insert_many(tx, "trade_signals", 11, &self.signals, |t, v| {
            v.extend([
                int(t.seq as i64),
                int(t.ts_event as i64),
                int(t.strategy as i64),
                text(names.symbol(t.symbol)),
                text(side_name(t.side)),
                text(t.outcome().name()),
                text(t.route().name()),
                if t.has_account() { text(names.account(t.account)) } else { ToSqlOutput::Owned(Value::Null) },
                if t.order_id != 0 { int(t.order_id as i64) } else { ToSqlOutput::Owned(Value::Null) },
                real(t.qty),
                real(t.price),
            ])
        })?;
        insert_many(tx, "fills", 10, &self.fills, |f, v| {
            v.extend([
                int(f.seq as i64),
                int(f.ts_event as i64),
                int(f.order_id as i64),
                text(names.account(f.account)),
                text(names.symbol(f.symbol)),
                text(side_name(f.side)),
                real(f.qty),
                real(f.price),
                real(f.cum_qty),
                text(state_name(f.order_state)),
            ])
        })?;
        for (id, o) in &self.orders {
            tx.prepare_cached("INSERT OR REPLACE INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")?
                .execute(params![
                    *id as i64,
                    names.account(o.account),
                    names.symbol(o.symbol),
                    side_name(o.side),
                    state_name(o.state),
                    o.qty,
                    o.price,
                    o.cum_qty,
                    o.seq as i64,
                    o.ts_event as i64
                ])?;
        }
        for (&(a, s), r) in &self.positions {
            match r {
                Some(r) => tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO open_positions_rollup VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?
                    .execute(params![
                        names.account(a),
                        names.symbol(s),
                        r.net_qty,
                        r.avg_price,
                        r.realized_pnl,
                        r.last_price,
                        r.engine,
                        r.seq as i64,
                        r.ts_event as i64
                    ])?,
                None => tx
                    .prepare_cached("DELETE FROM open_positions_rollup WHERE account = ?1 AND symbol = ?2")?
                    .execute(params![names.account(a), names.symbol(s)])?,
            };
        }
        Ok(())
    }

    /// Applies one journal record: log rows and primary-key rows are collected
    /// for [`BatchRows::flush`]; rare records (risk, policy, control) are written at once.
    fn apply(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        names: &Names,
        engine_id: u32,
        ev: &JournalEvent,
    ) -> rusqlite::Result<()> {
        match ev.kind() {
            Some(JournalKind::TradeSignal) => {
                let Some(t) = ev.get::<TradeSignal>() else { return Ok(()) };
                self.signals.push(*t);
                if t.is_routed() {
                    self.orders.insert(
                        t.order_id,
                        OrderRow {
                            account: t.account,
                            symbol: t.symbol,
                            side: t.side,
                            state: OrderState::New as u8,
                            qty: t.qty,
                            price: t.price,
                            cum_qty: 0.0,
                            seq: t.seq,
                            ts_event: t.ts_event,
                        },
                    );
                }
            }
            Some(JournalKind::Fill) => {
                let Some(f) = ev.get::<Fill>() else { return Ok(()) };
                self.fills.push(*f);
                self.order_state(tx, f.order_id, f.order_state, f.cum_qty, f.ts_event)?;
            }
            Some(JournalKind::RollupChange) => {
                let Some(r) = ev.get::<RollupChange>() else { return Ok(()) };
                let key = (r.account, r.symbol);
                match r.op() {
                    RollupOp::Upsert => self.positions.insert(key, Some(*r)),
                    RollupOp::Delete => self.positions.insert(key, None),
                };
            }
            Some(JournalKind::OrderUpdate) => {
                let Some(u) = ev.get::<OrderUpdate>() else { return Ok(()) };
                self.order_state(tx, u.order_id, u.state, u.cum_qty, u.ts_event)?;
            }
            Some(JournalKind::RiskEvent) => {
                let Some(r) = ev.get::<RiskEvent>() else { return Ok(()) };
                let action = ControlOp::from_u8(r.action).map_or("reject", ControlOp::name);
                tx.prepare_cached("INSERT INTO risk_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?.execute(
                    params![
                        r.seq as i64,
                        r.ts_event as i64,
                        names.account(r.account),
                        names.symbol(r.symbol),
                        side_name(r.side),
                        Outcome::from_u8(r.rule).map_or("?", Outcome::name),
                        r.value,
                        r.limit,
                        action
                    ],
                )?;
            }
            Some(JournalKind::Policy) => {
                let Some(p) = ev.get::<AccountPolicy>() else { return Ok(()) };
                upsert_policy(tx, names, p)?;
            }
            Some(JournalKind::Control) => {
                let Some(c) = ev.get::<Control>() else { return Ok(()) };
                let account = names.account(c.account);
                let (sql, value): (&str, i64) = match c.op() {
                    Some(ControlOp::KillAll) | Some(ControlOp::ReleaseAll) => {
                        let on = i64::from(c.op() == Some(ControlOp::KillAll));
                        tx.prepare_cached(
                            "INSERT INTO engine_checkpoint VALUES (?1, -1, 0, ?2, 0) ON CONFLICT(engine_id) DO UPDATE SET kill_switch = ?2",
                        )?
                        .execute(params![engine_id, on])?;
                        return Ok(());
                    }
                    Some(ControlOp::KillAccount) => ("UPDATE account_policy SET kill = ?2 WHERE account = ?1", 1),
                    Some(ControlOp::ReleaseAccount) => ("UPDATE account_policy SET kill = ?2 WHERE account = ?1", 0),
                    Some(ControlOp::BlockBuys) => ("UPDATE account_policy SET buys_blocked = ?2 WHERE account = ?1", 1),
                    Some(ControlOp::AllowBuys) => ("UPDATE account_policy SET buys_blocked = ?2 WHERE account = ?1", 0),
                    Some(ControlOp::SetStatus) => {
                        let st = AccountStatus::from_u8(c.value).map_or("BLOCKED", AccountStatus::name);
                        tx.prepare_cached("UPDATE account_policy SET status = ?2 WHERE account = ?1")?
                            .execute(params![account, st])?;
                        return Ok(());
                    }
                    None => return Ok(()),
                };
                tx.prepare_cached(sql)?.execute(params![account, value])?;
            }
            // Refused before the transaction (`CommitBatch::check_expanded`).
            Some(JournalKind::TradeFilled) | None => {}
        }
        Ok(())
    }
}

fn backend<E: std::error::Error + Send + Sync + 'static>(what: impl Into<String>) -> impl FnOnce(E) -> StoreError {
    let what = what.into();
    move |e| StoreError::Backend { store: "sqlite", what, source: Box::new(e) }
}

fn side_name(v: u8) -> &'static str {
    Side::from_u8(v).map_or("?", Side::name)
}

fn state_name(v: u8) -> &'static str {
    OrderState::from_u8(v).map_or("?", OrderState::name)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` for engine `engine_id`.
    pub fn open(path: &Path, names: Names, engine_id: u32) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(backend(format!("creating {}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(backend(format!("opening {}", path.display())))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;")
            .map_err(backend("setting pragmas"))?;
        conn.execute_batch(SCHEMA).map_err(backend("creating tables"))?;
        let index = |v: &[String]| v.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)).collect::<HashMap<_, _>>();
        let s = Self {
            account_ids: index(&names.accounts),
            symbol_ids: index(&names.symbols),
            conn,
            path: path.to_path_buf(),
            names,
            engine_id,
            batch: BatchRows::default(),
        };
        Ok(s)
    }

    /// Opens an existing database read-only, for dumps (no names needed).
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Invalid { store: "sqlite", what: format!("no database at {}", path.display()) });
        }
        Self::open(path, Names::default(), 0)
    }

    /// Whole-run totals from the tables (ids from the configured names).
    pub fn totals(&mut self) -> Result<StoreTotals, StoreError> {
        let count = |sql: &str| -> Result<u64, StoreError> {
            self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|v| v as u64).map_err(backend("counting"))
        };
        let mut t = StoreTotals {
            routed_buy: count("SELECT COUNT(*) FROM trade_signals WHERE outcome = 'routed' AND side = 'BUY'")?,
            routed_sell: count("SELECT COUNT(*) FROM trade_signals WHERE outcome = 'routed' AND side = 'SELL'")?,
            dropped: count("SELECT COUNT(*) FROM trade_signals WHERE outcome <> 'routed'")?,
            ..Default::default()
        };
        let mut open: Vec<(u32, u32, f64)> = self
            .load_positions()?
            .iter()
            .filter(|p| p.net_qty > 0.0)
            .map(|p| (p.account, p.symbol, p.net_qty))
            .collect();
        open.sort_by_key(|&(a, s, _)| (a, s));
        t.open_positions = open.len() as u64;
        t.checksum = open.iter().map(|&(a, s, q)| (a as f64 + 1.0) * (s as f64 + 1.0) * q).sum();
        let mut realized = self.restart_state()?.realized();
        realized.sort_by_key(|&(a, _)| a);
        t.realized_pnl = realized.iter().map(|&(_, v)| v).sum();
        Ok(t)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open connection, for read-only queries of sibling modules.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    fn account_id(&self, name: &str, table: &str) -> Result<u32, StoreError> {
        self.account_ids.get(name).copied().ok_or_else(|| StoreError::Invalid {
            store: "sqlite",
            what: format!("{table}: account `{name}` is not in the configured universe"),
        })
    }

    fn load_positions(&self) -> Result<Vec<RollupChange>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT account, symbol, net_qty, avg_price, realized_pnl, last_price, engine, seq, ts_event FROM open_positions_rollup ORDER BY account, symbol")
            .map_err(backend("reading open_positions_rollup"))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    RollupChange {
                        op: RollupOp::Upsert as u8,
                        net_qty: r.get(2)?,
                        avg_price: r.get(3)?,
                        realized_pnl: r.get(4)?,
                        last_price: r.get(5)?,
                        engine: r.get(6)?,
                        seq: r.get::<_, i64>(7)? as u64,
                        ts_event: r.get::<_, i64>(8)? as u64,
                        ..Default::default()
                    },
                ))
            })
            .map_err(backend("reading open_positions_rollup"))?;
        let mut out = Vec::new();
        for row in rows {
            let (a, s, mut rc) = row.map_err(backend("reading open_positions_rollup"))?;
            if self.names.accounts.is_empty() {
                continue; // opened for dumps only
            }
            rc.account = self.account_id(&a, "open_positions_rollup")?;
            rc.symbol = self.symbol_ids.get(&s).copied().ok_or_else(|| StoreError::Invalid {
                store: "sqlite",
                what: format!("open_positions_rollup: symbol `{s}` is not in the configured universe"),
            })?;
            out.push(rc);
        }
        Ok(out)
    }
}

fn upsert_policy(tx: &rusqlite::Transaction<'_>, names: &Names, p: &AccountPolicy) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO account_policy VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(account) DO UPDATE SET
         status = ?2, kill = ?3, max_open_symbols = ?4, max_open_orders = ?5, initial_capital = ?6, max_order_qty = ?7,
         max_order_notional = ?8, max_capital_usage = ?9, seq = ?10",
    )?
    .execute(params![
        names.account(p.account),
        p.status().name(),
        p.kill,
        p.max_open_symbols,
        p.max_open_orders,
        p.initial_capital,
        p.max_order_qty,
        p.max_order_notional,
        p.max_capital_usage,
        p.seq as i64
    ])
}

/// Rows per multi-row INSERT statement.
const ROWS_PER_INSERT: usize = 64;

fn int(v: i64) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(Value::Integer(v))
}

fn real(v: f64) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(Value::Real(v))
}

fn text(v: &str) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes()))
}

/// Inserts `rows` into `table` (`cols` columns), `ROWS_PER_INSERT` rows per
/// statement, in order. `bind` appends one row's values.
fn insert_many<'a, T>(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    cols: usize,
    rows: &'a [T],
    bind: impl Fn(&'a T, &mut Vec<ToSqlOutput<'a>>),
) -> rusqlite::Result<()> {
    let mut values = Vec::with_capacity(cols * ROWS_PER_INSERT);
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let one = format!("({})", vec!["?"; cols].join(","));
        let sql = format!("INSERT INTO {table} VALUES {}", vec![one.as_str(); chunk.len()].join(","));
        values.clear();
        for r in chunk {
            bind(r, &mut values);
        }
        tx.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values.iter()))?;
    }
    Ok(())
}

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

impl Store for SqliteStore {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn init_policies(&mut self, policies: &[AccountPolicy]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(backend("starting a transaction"))?;
        let have: i64 = tx
            .query_row("SELECT COUNT(*) FROM account_policy", [], |r| r.get(0))
            .map_err(backend("counting account_policy"))?;
        if have == 0 {
            for p in policies {
                upsert_policy(&tx, &self.names, p).map_err(backend("writing account_policy"))?;
            }
        }
        tx.commit().map_err(backend("committing account_policy"))
    }

    fn commit(&mut self, batch: &CommitBatch<'_>) -> Result<(), StoreError> {
        batch.check_expanded("sqlite")?;
        let Self { conn, names, engine_id, batch: rows, .. } = self;
        let engine_id = *engine_id;
        rows.clear();
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            for ev in batch.records {
                rows.apply(&tx, names, engine_id, ev)?;
            }
            rows.flush(&tx, names)?;
            for r in batch.portfolio {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO portfolio VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )?
                .execute(params![
                    names.account(r.account),
                    r.initial_capital,
                    r.cash,
                    r.equity,
                    r.realized_pnl,
                    r.unrealized_pnl,
                    r.gross_exposure,
                    r.net_exposure,
                    r.open_positions,
                    r.capital_usage_pct,
                    r.peak_equity,
                    r.drawdown_pct,
                    r.fills,
                    r.seq as i64,
                    r.ts_event as i64
                ])?;
            }
            for r in batch.pnl {
                tx.prepare_cached("INSERT INTO pnl_timeseries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(
                    params![
                        r.ts_event as i64,
                        names.account(r.account),
                        r.cash,
                        r.equity,
                        r.realized_pnl,
                        r.unrealized_pnl,
                        r.drawdown_pct
                    ],
                )?;
            }
            for &(sym, px) in batch.marks {
                tx.prepare_cached("INSERT OR REPLACE INTO symbol_marks VALUES (?1, ?2)")?
                    .execute(params![names.symbol(sym), px])?;
            }
            tx.prepare_cached(
                "INSERT INTO engine_checkpoint VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT(engine_id) DO UPDATE SET last_seq = ?2, last_ts_event = ?3, updated_unix_ns = ?4",
            )?
            .execute(params![engine_id, batch.through as i64, batch.last_ts as i64, now_ns()])?;
            tx.commit()
        })();
        rows.clear();
        result.map_err(backend(format!("committing {} records through input {}", batch.records.len(), batch.through)))
    }

    fn restart_state(&mut self) -> Result<RestartState, StoreError> {
        let cp: Option<(i64, i64, i64)> = self
            .conn
            .query_row(
                "SELECT last_seq, kill_switch, last_ts_event FROM engine_checkpoint WHERE engine_id = ?1",
                params![self.engine_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(backend("reading engine_checkpoint"))?;
        let positions = self.load_positions()?;
        let mut portfolio = Vec::new();
        {
            let mut st =
                self.conn.prepare("SELECT * FROM portfolio ORDER BY account").map_err(backend("reading portfolio"))?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        PortfolioRow {
                            account: 0,
                            initial_capital: r.get(1)?,
                            cash: r.get(2)?,
                            equity: r.get(3)?,
                            realized_pnl: r.get(4)?,
                            unrealized_pnl: r.get(5)?,
                            gross_exposure: r.get(6)?,
                            net_exposure: r.get(7)?,
                            open_positions: r.get(8)?,
                            capital_usage_pct: r.get(9)?,
                            peak_equity: r.get(10)?,
                            drawdown_pct: r.get(11)?,
                            fills: r.get(12)?,
                            seq: r.get::<_, i64>(13)? as u64,
                            ts_event: r.get::<_, i64>(14)? as u64,
                        },
                    ))
                })
                .map_err(backend("reading portfolio"))?;
            for row in rows {
                let (a, mut r) = row.map_err(backend("reading portfolio"))?;
                r.account = self.account_id(&a, "portfolio")?;
                portfolio.push(r);
            }
        }
        let mut marks = Vec::new();
        {
            let mut st =
                self.conn.prepare("SELECT symbol, price FROM symbol_marks").map_err(backend("reading symbol_marks"))?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))
                .map_err(backend("reading symbol_marks"))?;
            for row in rows {
                let (sym, px) = row.map_err(backend("reading symbol_marks"))?;
                if let Some(&id) = self.symbol_ids.get(&sym) {
                    marks.push((id, px));
                }
            }
        }
        let mut policies = Vec::new();
        {
            let mut st = self
                .conn
                .prepare("SELECT account, status, kill, max_open_symbols, max_open_orders, initial_capital, max_order_qty, max_order_notional, max_capital_usage, seq FROM account_policy ORDER BY account")
                .map_err(backend("reading account_policy"))?;
            let rows = st
                .query_map([], |r| {
                    let status: String = r.get(1)?;
                    Ok((
                        r.get::<_, String>(0)?,
                        AccountPolicy {
                            status: if status == "ACTIVE" { AccountStatus::Active } else { AccountStatus::Blocked }
                                as u8,
                            kill: r.get(2)?,
                            max_open_symbols: r.get(3)?,
                            max_open_orders: r.get(4)?,
                            initial_capital: r.get(5)?,
                            max_order_qty: r.get(6)?,
                            max_order_notional: r.get(7)?,
                            max_capital_usage: r.get(8)?,
                            seq: r.get::<_, i64>(9)? as u64,
                            ..Default::default()
                        },
                    ))
                })
                .map_err(backend("reading account_policy"))?;
            for row in rows {
                let (a, mut p) = row.map_err(backend("reading account_policy"))?;
                p.account = self.account_id(&a, "account_policy")?;
                policies.push(p);
            }
        }
        policies.sort_by_key(|p| p.account);
        let mut buys_blocked = Vec::new();
        {
            let mut st = self
                .conn
                .prepare("SELECT account FROM account_policy WHERE buys_blocked <> 0 ORDER BY account")
                .map_err(backend("reading account_policy"))?;
            let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(backend("reading account_policy"))?;
            for row in rows {
                let a = row.map_err(backend("reading account_policy"))?;
                buys_blocked.push(self.account_id(&a, "account_policy")?);
            }
        }
        Ok(RestartState {
            checkpoint: cp.and_then(|(s, _, _)| u64::try_from(s).ok()),
            last_ts: cp.map_or(0, |(_, _, t)| t.max(0) as u64),
            positions,
            portfolio,
            marks,
            policies,
            buys_blocked,
            kill_switch: cp.is_some_and(|(_, k, _)| k != 0),
        })
    }

    fn dump(&mut self, table: &str, out: &mut dyn Write) -> Result<(), StoreError> {
        if !TABLES.contains(&table) {
            return Err(StoreError::Invalid {
                store: "sqlite",
                what: format!("unknown table `{table}` (tables: {})", TABLES.join(", ")),
            });
        }
        let io = |e: std::io::Error| StoreError::Backend {
            store: "sqlite",
            what: "writing the dump".into(),
            source: Box::new(e),
        };
        let mut st = self
            .conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {}", order_of(table)))
            .map_err(backend(format!("reading {table}")))?;
        let cols: Vec<String> = st.column_names().iter().map(|c| c.to_string()).collect();
        writeln!(out, "{}", cols.join(",")).map_err(io)?;
        let mut rows = st.query([]).map_err(backend(format!("reading {table}")))?;
        let mut line = String::new();
        while let Some(row) = rows.next().map_err(backend(format!("reading {table}")))? {
            line.clear();
            for i in 0..cols.len() {
                if i > 0 {
                    line.push(',');
                }
                match row.get_ref(i).map_err(backend(format!("reading {table}")))? {
                    ValueRef::Null => {}
                    ValueRef::Integer(v) => line.push_str(&v.to_string()),
                    ValueRef::Real(v) => line.push_str(&format!("{v:?}")),
                    ValueRef::Text(t) => csv_field(&mut line, &String::from_utf8_lossy(t)),
                    ValueRef::Blob(b) => line.push_str(&format!("<{} bytes>", b.len())),
                }
            }
            writeln!(out, "{line}").map_err(io)?;
        }
        Ok(())
    }
}

fn csv_field(line: &mut String, s: &str) {
    if s.contains([',', '"', '\n']) {
        line.push('"');
        line.push_str(&s.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_model::{OrderState, Route, TradeFilled};

    fn names() -> Names {
        Names { accounts: vec!["ACC-0".into(), "ACC,1".into()], symbols: vec!["AAA".into(), "BBB".into()] }
    }

    fn dump(s: &mut SqliteStore, t: &str) -> String {
        let mut out = Vec::new();
        s.dump(t, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_table_round_trips_and_checkpoints_move_with_commits() {
        let dir = std::env::temp_dir().join(format!("te-sqlite-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.db");
        let mut s = SqliteStore::open(&path, names(), 3).unwrap();
        let pol =
            AccountPolicy { account: 1, status: 1, max_open_symbols: 5, initial_capital: 10.0, ..Default::default() };
        s.init_policies(&[pol]).unwrap();
        let recs: Vec<JournalEvent> = vec![
            TradeSignal {
                side: Side::Buy as u8,
                account: 1,
                symbol: 0,
                seq: 7,
                ts_event: 70,
                order_id: 8,
                qty: 2.0,
                price: 10.5,
                route: Route::Open as u8,
                ..Default::default()
            }
            .into(),
            Fill {
                side: Side::Buy as u8,
                order_state: OrderState::Filled as u8,
                account: 1,
                symbol: 0,
                seq: 7,
                ts_event: 71,
                order_id: 8,
                qty: 2.0,
                price: 10.5,
                cum_qty: 2.0,
                ..Default::default()
            }
            .into(),
            RollupChange {
                op: RollupOp::Upsert as u8,
                account: 1,
                symbol: 0,
                engine: 3,
                seq: 7,
                ts_event: 71,
                net_qty: 2.0,
                avg_price: 10.5,
                last_price: 10.5,
                ..Default::default()
            }
            .into(),
            RiskEvent {
                rule: Outcome::MaxOrderQty as u8,
                account: 0,
                symbol: 1,
                seq: 7,
                value: 9.0,
                limit: 5.0,
                ..Default::default()
            }
            .into(),
            TradeSignal {
                side: Side::Sell as u8,
                outcome: Outcome::NoHolder as u8,
                symbol: 1,
                seq: 8,
                account: u32::MAX,
                ..Default::default()
            }
            .into(),
        ];
        s.commit(&CommitBatch { records: &recs, through: 8, last_ts: 71, marks: &[(0, 10.5)], ..Default::default() })
            .unwrap();
        assert_eq!(dump(&mut s, "orders"), "order_id,account,symbol,side,state,qty,price,cum_qty,seq,ts_event\n8,\"ACC,1\",AAA,BUY,FILLED,2.0,10.5,2.0,7,71\n");
        assert_eq!(
            dump(&mut s, "open_positions_rollup"),
            "account,symbol,net_qty,avg_price,realized_pnl,last_price,engine,seq,ts_event\n\"ACC,1\",AAA,2.0,10.5,0.0,10.5,3,7,71\n"
        );
        let ts = dump(&mut s, "trade_signals");
        assert!(ts.contains("\n7,70,0,AAA,BUY,routed,open,\"ACC,1\",8,2.0,10.5\n"), "{ts}");
        assert!(ts.ends_with("8,0,0,BBB,SELL,no_holder,none,,,0.0,0.0\n"), "{ts}");
        assert!(dump(&mut s, "fills").contains("7,71,8,\"ACC,1\",AAA,BUY,2.0,10.5,2.0,FILLED"));
        assert!(dump(&mut s, "risk_events").contains("7,0,ACC-0,BBB,?,max_order_qty,9.0,5.0,reject"));
        assert!(dump(&mut s, "account_policy").contains("\"ACC,1\",ACTIVE,0,0,5,0,10.0"));
        // Close it: the position goes away; the portfolio row and a snapshot
        // derived by the cold path commit with it.
        let close: Vec<JournalEvent> = vec![RollupChange {
            op: RollupOp::Delete as u8,
            account: 1,
            symbol: 0,
            engine: 3,
            seq: 9,
            realized_pnl: 3.25,
            ..Default::default()
        }
        .into()];
        let row = PortfolioRow {
            account: 1,
            initial_capital: 10.0,
            cash: 13.25,
            equity: 13.25,
            realized_pnl: 3.25,
            peak_equity: 13.25,
            fills: 2,
            seq: 9,
            ts_event: 90,
            ..Default::default()
        };
        let pnl = [crate::store::PnlRow {
            ts_event: 80,
            account: 1,
            cash: 13.25,
            equity: 13.25,
            realized_pnl: 3.25,
            ..Default::default()
        }];
        s.commit(&CommitBatch {
            records: &close,
            portfolio: std::slice::from_ref(&row),
            pnl: &pnl,
            through: 9,
            last_ts: 90,
            ..Default::default()
        })
        .unwrap();
        let r = s.restart_state().unwrap();
        assert_eq!((r.checkpoint, r.last_ts), (Some(9), 90));
        assert!(r.positions.is_empty());
        assert_eq!(r.portfolio, vec![row]);
        assert_eq!(r.realized(), vec![(1, 3.25)]);
        assert_eq!(r.marks, vec![(0, 10.5)]);
        assert!(r.buys_blocked.is_empty() && !r.kill_switch);
        // A hot-thread-only record that was not expanded is refused whole:
        // nothing of its batch is written, the checkpoint stays.
        let unexpanded: Vec<JournalEvent> = vec![
            TradeSignal { seq: 10, ..Default::default() }.into(),
            TradeFilled(TradeSignal { seq: 11, ..Default::default() }).into(),
        ];
        let e = s.commit(&CommitBatch { records: &unexpanded, through: 11, ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("unexpanded TradeFilled record (input 11)"), "{e}");
        assert_eq!(s.restart_state().unwrap().checkpoint, Some(9));
        assert_eq!(dump(&mut s, "trade_signals").lines().count(), 3, "header and the two decisions of the first batch");
        // Operator controls land in the tables a restart reads.
        let controls: Vec<JournalEvent> = vec![
            Control { op: ControlOp::BlockBuys as u8, account: 1, ..Default::default() }.into(),
            Control { op: ControlOp::KillAll as u8, ..Default::default() }.into(),
        ];
        s.commit(&CommitBatch { records: &controls, through: 9, last_ts: 90, ..Default::default() }).unwrap();
        let r = s.restart_state().unwrap();
        assert_eq!((r.buys_blocked.clone(), r.kill_switch, r.checkpoint), (vec![1], true, Some(9)));
        assert_eq!(dump(&mut s, "pnl_timeseries"), "ts_event,account,cash,equity,realized_pnl,unrealized_pnl,drawdown_pct\n80,\"ACC,1\",13.25,13.25,3.25,0.0,0.0\n");
        assert_eq!(r.policies.len(), 1);
        assert_eq!((r.policies[0].account, r.policies[0].max_open_symbols), (1, 5));
        drop(s);
        // Reopen: state survives, the unknown table is a clear error.
        let mut s = SqliteStore::open(&path, names(), 3).unwrap();
        assert_eq!(s.restart_state().unwrap().checkpoint, Some(9));
        let e = s.dump("nope", &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("unknown table `nope`"), "{e}");
        // Another engine id has no checkpoint yet.
        let mut other = SqliteStore::open(&path, names(), 4).unwrap();
        assert_eq!(other.restart_state().unwrap().checkpoint, None);
    }
}
