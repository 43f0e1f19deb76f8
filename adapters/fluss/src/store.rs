//! [`FlussStore`]: the engine's journal into Fluss tables, through the same
//! [`Store`] trait as SQLite, with the same rows (so `store dump` gives the
//! same CSV from both). Cold path: the persistence thread calls it.
//!
//! Each commit writes the batch's log rows (appends), then its final
//! primary-key rows (upserts, deletes), then the checkpoint row, and waits
//! for every write to be acknowledged before returning. Order state and
//! account policies the commits update are kept in memory (only orders
//! still open), so no commit reads back from the cluster.
//!
//! Not yet exactly-once across a crash between a commit's log appends and
//! its checkpoint: a restart re-applies that batch, and its log rows would
//! appear twice (primary-key tables converge). Deduplicating on restart is
//! the next slice.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Duration;

use tradeengine_adapters::store::{CommitBatch, Names, PortfolioRow, RestartState, Store, StoreError, TABLES};
use tradeengine_model::*;

use crate::{schema, FlussClient, Row, Value};

/// The Fluss store.
pub struct FlussStore {
    client: FlussClient,
    names: Names,
    account_ids: HashMap<String, u32>,
    symbol_ids: HashMap<String, u32>,
    engine_id: u32,
    /// Orders not yet terminal, by id (their current row).
    open_orders: HashMap<u64, Row>,
    /// Account policy rows, by account name.
    policies: BTreeMap<String, Row>,
    kill_switch: bool,
}

fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}
fn i(v: u64) -> Value {
    Value::Int(v as i64)
}
fn r(v: f64) -> Value {
    Value::Real(v)
}
fn side(v: u8) -> &'static str {
    Side::from_u8(v).map_or("?", Side::name)
}
fn state(v: u8) -> &'static str {
    OrderState::from_u8(v).map_or("?", OrderState::name)
}

fn backend(what: &str, e: crate::FlussError) -> StoreError {
    StoreError::Backend { store: "fluss", what: what.to_string(), source: Box::new(e) }
}

impl FlussStore {
    /// Connects to the cluster at `bootstrap`, creates the database and
    /// tables if needed, and loads the state commits update.
    pub fn open(bootstrap: &str, database: &str, names: Names, engine_id: u32) -> Result<Self, StoreError> {
        let client =
            FlussClient::connect(bootstrap, database, Duration::from_secs(30)).map_err(|e| backend("connecting", e))?;
        client.ensure_schema().map_err(|e| backend("creating tables", e))?;
        let index = |v: &[String]| v.iter().enumerate().map(|(k, n)| (n.clone(), k as u32)).collect::<HashMap<_, _>>();
        let mut s = Self {
            account_ids: index(&names.accounts),
            symbol_ids: index(&names.symbols),
            client,
            names,
            engine_id,
            open_orders: HashMap::new(),
            policies: BTreeMap::new(),
            kill_switch: false,
        };
        for (_, row) in s.fold("account_policy")? {
            if let Value::Text(a) = &row[0] {
                s.policies.insert(a.clone(), row);
            }
        }
        for (_, row) in s.fold("orders")? {
            if let (Value::Int(id), Value::Text(st)) = (&row[0], &row[4]) {
                let terminal = OrderState::ALL.iter().any(|o| o.name() == st && o.is_terminal());
                if !terminal {
                    s.open_orders.insert(*id as u64, row);
                }
            }
        }
        if let Some(cp) = s.checkpoint_row()? {
            s.kill_switch = cp[3] == Value::Int(1);
        }
        Ok(s)
    }

    /// The current rows of a primary-key table (its changelog folded), by key.
    fn fold(&self, table: &str) -> Result<BTreeMap<Vec<String>, Row>, StoreError> {
        let sch = schema::schema(table)
            .ok_or_else(|| StoreError::Invalid { store: "fluss", what: format!("unknown table `{table}`") })?;
        let keys: Vec<usize> = sch.primary_key.iter().filter_map(|k| sch.index(k)).collect();
        let mut out = BTreeMap::new();
        for (kind, row) in
            self.client.scan(table, Duration::from_millis(800)).map_err(|e| backend(&format!("reading {table}"), e))?
        {
            let key: Vec<String> = keys.iter().map(|&k| row[k].to_csv()).collect();
            match kind.as_str() {
                "Delete" => {
                    out.remove(&key);
                }
                "UpdateBefore" => {} // the UpdateAfter that follows carries the row
                _ => {
                    out.insert(key, row);
                }
            }
        }
        Ok(out)
    }

    fn checkpoint_row(&self) -> Result<Option<Row>, StoreError> {
        self.client
            .lookup("engine_checkpoint", &[Value::Int(self.engine_id as i64)])
            .map_err(|e| backend("reading engine_checkpoint", e))
    }

    fn policy_row(&self, p: &AccountPolicy, buys_blocked: bool) -> Row {
        vec![
            t(self.names.account(p.account)),
            t(p.status().name()),
            i(p.kill as u64),
            i(buys_blocked as u64),
            i(p.max_open_symbols as u64),
            i(p.max_open_orders as u64),
            r(p.initial_capital),
            r(p.max_order_qty),
            r(p.max_order_notional),
            r(p.max_capital_usage),
            i(p.seq),
        ]
    }

    fn portfolio_row(&self, p: &PortfolioRow) -> Row {
        vec![
            t(self.names.account(p.account)),
            r(p.initial_capital),
            r(p.cash),
            r(p.equity),
            r(p.realized_pnl),
            r(p.unrealized_pnl),
            r(p.gross_exposure),
            r(p.net_exposure),
            i(p.open_positions as u64),
            r(p.capital_usage_pct),
            r(p.peak_equity),
            r(p.drawdown_pct),
            i(p.fills as u64),
            i(p.seq),
            i(p.ts_event),
        ]
    }

    fn id_of(map: &HashMap<String, u32>, v: &Value) -> Option<u32> {
        match v {
            Value::Text(s) => map.get(s).copied(),
            _ => None,
        }
    }
}

fn real(v: &Value) -> f64 {
    match v {
        Value::Real(x) => *x,
        Value::Int(x) => *x as f64,
        _ => 0.0,
    }
}
fn int(v: &Value) -> i64 {
    match v {
        Value::Int(x) => *x,
        _ => 0,
    }
}

impl Store for FlussStore {
    fn name(&self) -> &'static str {
        "fluss"
    }

    fn init_policies(&mut self, policies: &[AccountPolicy]) -> Result<(), StoreError> {
        let rows: Vec<Row> = policies.iter().map(|p| self.policy_row(p, false)).collect();
        for row in &rows {
            if let Value::Text(a) = &row[0] {
                self.policies.insert(a.clone(), row.clone());
            }
        }
        self.client.upsert("account_policy", &rows, false).map_err(|e| backend("writing account_policy", e))
    }

    fn commit(&mut self, b: &CommitBatch<'_>) -> Result<(), StoreError> {
        let names = &self.names;
        let (mut signals, mut fills, mut risks) = (Vec::new(), Vec::new(), Vec::new());
        let mut orders: BTreeMap<u64, Row> = BTreeMap::new();
        let mut positions: BTreeMap<(u32, u32), Option<Row>> = BTreeMap::new();
        let mut policies_changed: Vec<String> = Vec::new();
        for ev in b.records {
            match ev.kind() {
                Some(JournalKind::TradeSignal) => {
                    let Some(x) = ev.get::<TradeSignal>() else { continue };
                    signals.push(vec![
                        i(x.seq),
                        i(x.ts_event),
                        i(x.strategy as u64),
                        t(names.symbol(x.symbol)),
                        t(side(x.side)),
                        t(x.outcome().name()),
                        t(x.route().name()),
                        if x.has_account() { t(names.account(x.account)) } else { Value::Null },
                        if x.order_id != 0 { i(x.order_id) } else { Value::Null },
                        r(x.qty),
                        r(x.price),
                    ]);
                    if x.is_routed() {
                        let row = vec![
                            i(x.order_id),
                            t(names.account(x.account)),
                            t(names.symbol(x.symbol)),
                            t(side(x.side)),
                            t(OrderState::New.name()),
                            r(x.qty),
                            r(x.price),
                            r(0.0),
                            i(x.seq),
                            i(x.ts_event),
                        ];
                        self.open_orders.insert(x.order_id, row.clone());
                        orders.insert(x.order_id, row);
                    }
                }
                Some(JournalKind::Fill) | Some(JournalKind::OrderUpdate) => {
                    let (id, st, cum, ts) = if let Some(f) = ev.get::<Fill>() {
                        fills.push(vec![
                            i(f.seq),
                            i(f.ts_event),
                            i(f.order_id),
                            t(names.account(f.account)),
                            t(names.symbol(f.symbol)),
                            t(side(f.side)),
                            r(f.qty),
                            r(f.price),
                            r(f.cum_qty),
                            t(state(f.order_state)),
                        ]);
                        (f.order_id, f.order_state, f.cum_qty, f.ts_event)
                    } else if let Some(u) = ev.get::<OrderUpdate>() {
                        (u.order_id, u.state, u.cum_qty, u.ts_event)
                    } else {
                        continue;
                    };
                    if let Some(row) = self.open_orders.get_mut(&id) {
                        row[4] = t(state(st));
                        row[7] = r(cum);
                        row[9] = i(ts);
                        orders.insert(id, row.clone());
                        if OrderState::from_u8(st).is_some_and(OrderState::is_terminal) {
                            self.open_orders.remove(&id);
                        }
                    }
                }
                Some(JournalKind::RollupChange) => {
                    let Some(x) = ev.get::<RollupChange>() else { continue };
                    let row = match x.op() {
                        RollupOp::Upsert => Some(vec![
                            t(names.account(x.account)),
                            t(names.symbol(x.symbol)),
                            r(x.net_qty),
                            r(x.avg_price),
                            r(x.realized_pnl),
                            r(x.last_price),
                            i(x.engine as u64),
                            i(x.seq),
                            i(x.ts_event),
                        ]),
                        RollupOp::Delete => None,
                    };
                    positions.insert((x.account, x.symbol), row);
                }
                Some(JournalKind::RiskEvent) => {
                    let Some(x) = ev.get::<RiskEvent>() else { continue };
                    risks.push(vec![
                        i(x.seq),
                        i(x.ts_event),
                        t(names.account(x.account)),
                        t(names.symbol(x.symbol)),
                        t(side(x.side)),
                        t(Outcome::from_u8(x.rule).map_or("?", Outcome::name)),
                        r(x.value),
                        r(x.limit),
                        t(ControlOp::from_u8(x.action).map_or("reject", ControlOp::name)),
                    ]);
                }
                Some(JournalKind::Policy) => {
                    let Some(p) = ev.get::<AccountPolicy>() else { continue };
                    let name = names.account(p.account).to_string();
                    let blocked = self.policies.get(&name).is_some_and(|row| row[3] == Value::Int(1));
                    let row = self.policy_row(p, blocked);
                    self.policies.insert(name.clone(), row);
                    policies_changed.push(name);
                }
                Some(JournalKind::Control) => {
                    let Some(c) = ev.get::<Control>() else { continue };
                    let name = names.account(c.account).to_string();
                    let set = |row: &mut Row, col: usize, v: Value| row[col] = v;
                    match c.op() {
                        Some(ControlOp::KillAll) => self.kill_switch = true,
                        Some(ControlOp::ReleaseAll) => self.kill_switch = false,
                        Some(op) => {
                            if let Some(row) = self.policies.get_mut(&name) {
                                match op {
                                    ControlOp::KillAccount => set(row, 2, Value::Int(1)),
                                    ControlOp::ReleaseAccount => set(row, 2, Value::Int(0)),
                                    ControlOp::BlockBuys => set(row, 3, Value::Int(1)),
                                    ControlOp::AllowBuys => set(row, 3, Value::Int(0)),
                                    ControlOp::SetStatus => set(
                                        row,
                                        1,
                                        t(AccountStatus::from_u8(c.value).map_or("BLOCKED", AccountStatus::name)),
                                    ),
                                    _ => {}
                                }
                                policies_changed.push(name);
                            }
                        }
                        None => {}
                    }
                }
                None => {}
            }
        }
        let pnl: Vec<Row> = b
            .pnl
            .iter()
            .map(|p| {
                vec![
                    i(p.ts_event),
                    t(names.account(p.account)),
                    r(p.cash),
                    r(p.equity),
                    r(p.realized_pnl),
                    r(p.unrealized_pnl),
                    r(p.drawdown_pct),
                ]
            })
            .collect();
        let portfolio: Vec<Row> = b.portfolio.iter().map(|p| self.portfolio_row(p)).collect();
        let marks: Vec<Row> = b.marks.iter().map(|&(s, p)| vec![t(self.names.symbol(s)), r(p)]).collect();
        let c = &self.client;
        let w = |what: &str, res: Result<(), crate::FlussError>| res.map_err(|e| backend(what, e));
        // Logs first, then state, then the checkpoint.
        for (table, rows) in
            [("trade_signals", &signals), ("fills", &fills), ("risk_events", &risks), ("pnl_timeseries", &pnl)]
        {
            if !rows.is_empty() {
                w(&format!("appending to {table}"), c.append(table, rows))?;
            }
        }
        let orders: Vec<Row> = orders.into_values().collect();
        if !orders.is_empty() {
            w("writing orders", c.upsert("orders", &orders, false))?;
        }
        let (ups, dels): (Vec<_>, Vec<_>) = positions.into_iter().partition(|(_, row)| row.is_some());
        let ups: Vec<Row> = ups.into_iter().filter_map(|(_, row)| row).collect();
        let dels: Vec<Row> = dels
            .into_iter()
            .map(|((a, s), _)| {
                let mut row = vec![Value::Null; 9];
                row[0] = t(self.names.account(a));
                row[1] = t(self.names.symbol(s));
                row
            })
            .collect();
        if !ups.is_empty() {
            w("writing open_positions_rollup", c.upsert("open_positions_rollup", &ups, false))?;
        }
        if !dels.is_empty() {
            w("deleting from open_positions_rollup", c.upsert("open_positions_rollup", &dels, true))?;
        }
        if !portfolio.is_empty() {
            w("writing portfolio", c.upsert("portfolio", &portfolio, false))?;
        }
        if !marks.is_empty() {
            w("writing symbol_marks", c.upsert("symbol_marks", &marks, false))?;
        }
        policies_changed.sort();
        policies_changed.dedup();
        let pol: Vec<Row> = policies_changed.iter().filter_map(|n| self.policies.get(n).cloned()).collect();
        if !pol.is_empty() {
            w("writing account_policy", c.upsert("account_policy", &pol, false))?;
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let cp = vec![i(self.engine_id as u64), i(b.through), i(b.last_ts), i(self.kill_switch as u64), i(now)];
        w("writing engine_checkpoint", c.upsert("engine_checkpoint", &[cp], false))
    }

    fn restart_state(&mut self) -> Result<RestartState, StoreError> {
        let mut st = RestartState::default();
        if let Some(cp) = self.checkpoint_row()? {
            let last = int(&cp[1]);
            st.checkpoint = (last >= 0).then_some(last as u64);
            st.last_ts = int(&cp[2]) as u64;
            st.kill_switch = int(&cp[3]) == 1;
        }
        for (_, row) in self.fold("open_positions_rollup")? {
            let (Some(a), Some(s)) = (Self::id_of(&self.account_ids, &row[0]), Self::id_of(&self.symbol_ids, &row[1]))
            else {
                continue;
            };
            st.positions.push(RollupChange {
                op: RollupOp::Upsert as u8,
                account: a,
                symbol: s,
                net_qty: real(&row[2]),
                avg_price: real(&row[3]),
                realized_pnl: real(&row[4]),
                last_price: real(&row[5]),
                engine: int(&row[6]) as u32,
                seq: int(&row[7]) as u64,
                ts_event: int(&row[8]) as u64,
                ..Default::default()
            });
        }
        for (_, row) in self.fold("portfolio")? {
            let Some(a) = Self::id_of(&self.account_ids, &row[0]) else { continue };
            st.portfolio.push(PortfolioRow {
                account: a,
                initial_capital: real(&row[1]),
                cash: real(&row[2]),
                equity: real(&row[3]),
                realized_pnl: real(&row[4]),
                unrealized_pnl: real(&row[5]),
                gross_exposure: real(&row[6]),
                net_exposure: real(&row[7]),
                open_positions: int(&row[8]) as u32,
                capital_usage_pct: real(&row[9]),
                peak_equity: real(&row[10]),
                drawdown_pct: real(&row[11]),
                fills: int(&row[12]),
                seq: int(&row[13]) as u64,
                ts_event: int(&row[14]) as u64,
            });
        }
        for (_, row) in self.fold("symbol_marks")? {
            if let Some(s) = Self::id_of(&self.symbol_ids, &row[0]) {
                st.marks.push((s, real(&row[1])));
            }
        }
        for row in self.policies.values() {
            let Some(a) = Self::id_of(&self.account_ids, &row[0]) else { continue };
            let status = match &row[1] {
                Value::Text(s) if s == "ACTIVE" => AccountStatus::Active,
                _ => AccountStatus::Blocked,
            };
            if int(&row[3]) == 1 {
                st.buys_blocked.push(a);
            }
            st.policies.push(AccountPolicy {
                account: a,
                status: status as u8,
                kill: int(&row[2]) as u8,
                max_open_symbols: int(&row[4]) as u32,
                max_open_orders: int(&row[5]) as u32,
                initial_capital: real(&row[6]),
                max_order_qty: real(&row[7]),
                max_order_notional: real(&row[8]),
                max_capital_usage: real(&row[9]),
                seq: int(&row[10]) as u64,
                ..Default::default()
            });
        }
        Ok(st)
    }

    fn dump(&mut self, table: &str, out: &mut dyn Write) -> Result<(), StoreError> {
        let Some(sch) = schema::schema(table).filter(|_| TABLES.contains(&table)) else {
            return Err(StoreError::Invalid {
                store: "fluss",
                what: format!("unknown table `{table}` (tables: {})", TABLES.join(", ")),
            });
        };
        let io = |e: std::io::Error| StoreError::Backend {
            store: "fluss",
            what: "writing the dump".into(),
            source: Box::new(e),
        };
        let header: Vec<&str> = sch.columns.iter().map(|c| c.0).collect();
        writeln!(out, "{}", header.join(",")).map_err(io)?;
        let rows: Vec<Row> = if sch.is_kv() {
            // Primary-key order, as SQLite dumps them (integer keys numerically).
            let mut rows: Vec<Row> = self.fold(table)?.into_values().collect();
            let keys: Vec<usize> = sch.primary_key.iter().filter_map(|k| sch.index(k)).collect();
            rows.sort_by(|a, b| {
                keys.iter()
                    .map(|&k| match (&a[k], &b[k]) {
                        (Value::Int(x), Value::Int(y)) => x.cmp(y),
                        (x, y) => x.to_csv().cmp(&y.to_csv()),
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            rows
        } else {
            self.client
                .scan(table, Duration::from_millis(800))
                .map_err(|e| backend(&format!("reading {table}"), e))?
                .into_iter()
                .map(|(_, r)| r)
                .collect()
        };
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Value::Text(s) if s.contains([',', '"', '\n']) => format!("\"{}\"", s.replace('"', "\"\"")),
                    v => v.to_csv(),
                })
                .collect();
            writeln!(out, "{}", cells.join(",")).map_err(io)?;
        }
        Ok(())
    }
}
