//! [`FlussStore`]: the engine's journal into Fluss tables, through the same
//! [`Store`] trait as SQLite, with the same rows (so `store dump` gives the
//! same CSV from both). Cold path: the persistence thread calls it.
//!
//! Each commit (1) records in `engine_pending` where its log rows will
//! start in each log table, (2) sends its log rows (appends) and its final
//! primary-key rows (upserts, deletes) together, (3) writes the checkpoint
//! row, waiting for every write to be acknowledged (acks = all, idempotent
//! writer) before the next step. Order state and account policies the
//! commits update are kept in memory (only orders still open), so no commit
//! reads back from the cluster.
//!
//! Exactly once across a crash: if the engine dies after (1), some of the
//! commit's rows may have landed without its checkpoint. On restart the
//! store reads the log rows back (from the recorded offsets to the log's
//! end) and the replayed inputs skip exactly those; for the primary-key
//! tables the marker also records where their changelogs ended, and the
//! start state folds this engine's own rows only up to there (the state as
//! of the checkpoint: the replayed inputs write the rest again), other
//! engines' rows to the end.
//! A cluster that stops acknowledging for the write timeout is an error that
//! stops the engine with its state intact up to the last checkpoint.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tradeengine_adapters::store::{CommitBatch, Names, PortfolioRow, RestartState, Store, StoreError, TABLES};
use tradeengine_model::*;

use crate::{schema, FlussClient, Row, Value};

/// The Fluss store.
pub struct FlussStore {
    client: FlussClient,
    names: Names,
    /// Account and symbol names as shared text (rows share them).
    txt: NameText,
    account_ids: HashMap<String, u32>,
    symbol_ids: HashMap<String, u32>,
    engine_id: u32,
    /// Orders not yet terminal, by id (their current row).
    open_orders: HashMap<u64, Row>,
    /// Account policy rows, by account name.
    policies: BTreeMap<String, Row>,
    kill_switch: bool,
    /// Log rows that landed before a crash cut their commit short.
    landed: Option<Landed>,
    /// For a commit cut short: where each primary-key table's changelog
    /// ended when it began. Its own rows past that are not start state (the
    /// replayed inputs write them again); other engines' rows are.
    cut: HashMap<&'static str, i64>,
    /// Per log table, the offset this engine's acknowledged rows reach: a
    /// log that ends before it lost acknowledged rows.
    log_ends: HashMap<&'static str, i64>,
    /// Accounts this engine owns (scale-out); `None`: all of them.
    owned: Option<Vec<bool>>,
    /// The last `account_policy` row this engine wrote, by account, so the
    /// changelog follower recognises its own writes.
    own_policy_writes: OwnPolicyWrites,
    /// Changelog offsets at open, before any state was read: a follower
    /// starting there misses no change made after the start-up state.
    follow_from: FollowFrom,
}

/// The last `account_policy` row an engine wrote, by account name (shared
/// between its store and its changelog follower; cold threads only).
pub type OwnPolicyWrites = Arc<Mutex<HashMap<String, Row>>>;

/// Where a changelog follower starts: the `open_positions_rollup` and
/// `account_policy` offsets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FollowFrom {
    pub rollups: i64,
    pub policies: i64,
}

/// The log rows an interrupted commit already wrote (read back from the
/// offsets its `engine_pending` marker recorded to the log's end), so the
/// same inputs replayed after the restart do not write them twice.
#[derive(Debug, Default)]
struct Landed {
    /// The interrupted commit's last input: once a commit passes it, nothing
    /// more can match.
    through: u64,
    /// Per log table, each landed row's cells (as text) with its count.
    rows: HashMap<&'static str, HashMap<String, usize>>,
}

impl Landed {
    fn key(row: &Row) -> String {
        row.iter().map(Value::to_csv).collect::<Vec<_>>().join("\u{1f}")
    }

    /// Drops from `rows` those already landed (each landed row once).
    fn skip_landed(&mut self, table: &str, rows: &mut Vec<Row>) {
        let Some(seen) = self.rows.get_mut(table) else { return };
        rows.retain(|r| match seen.get_mut(&Self::key(r)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
    }

    /// How many landed rows are still waiting for their replayed twin.
    fn waiting(&self) -> usize {
        self.rows.values().flat_map(|m| m.values()).sum()
    }
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
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

/// Names as shared text, by id.
#[derive(Debug, Default)]
struct NameText {
    accounts: Vec<Arc<str>>,
    symbols: Vec<Arc<str>>,
}

impl NameText {
    fn new(names: &Names) -> Self {
        Self {
            accounts: names.accounts.iter().map(|n| Arc::from(n.as_str())).collect(),
            symbols: names.symbols.iter().map(|n| Arc::from(n.as_str())).collect(),
        }
    }
    fn account(&self, id: u32) -> Value {
        self.accounts.get(id as usize).map_or_else(|| t("?"), |n| Value::Text(n.clone()))
    }
    fn symbol(&self, id: u32) -> Value {
        self.symbols.get(id as usize).map_or_else(|| t("?"), |n| Value::Text(n.clone()))
    }
}

/// A fixed word (side, state, outcome) as shared text, made once per word.
fn word(w: &'static str) -> Value {
    thread_local! {
        static WORDS: std::cell::RefCell<HashMap<&'static str, Arc<str>>> = Default::default();
    }
    WORDS.with(|m| Value::Text(m.borrow_mut().entry(w).or_insert_with(|| Arc::from(w)).clone()))
}

/// Fails loudly if log `table` ends at `end`, before `known` (where rows the
/// cluster acknowledged reach): the cluster lost them, e.g. a tablet server
/// restarted without a replica and truncated its log to its last checkpoint.
fn check_not_lost(table: &str, known: i64, end: i64) -> Result<(), StoreError> {
    if end < known {
        return Err(StoreError::Invalid {
            store: "fluss",
            what: format!(
                "the cluster lost acknowledged rows of {table}: its log ends at offset {end}, rows reached {known} \
                 (a tablet server restarted without an in-sync replica; run Fluss with replication factor 2 or more)"
            ),
        });
    }
    Ok(())
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
            txt: NameText::new(&names),
            symbol_ids: index(&names.symbols),
            client,
            names,
            engine_id,
            open_orders: HashMap::new(),
            policies: BTreeMap::new(),
            kill_switch: false,
            landed: None,
            cut: HashMap::new(),
            log_ends: HashMap::new(),
            owned: None,
            own_policy_writes: OwnPolicyWrites::default(),
            follow_from: FollowFrom::default(),
        };
        // Retried while a bucket has no leader yet: right after
        // `ensure_schema` creates a table, its bucket can answer "not leader
        // or follower" for a moment (seen once in CI).
        s.follow_from = FollowFrom {
            rollups: s
                .client
                .end_offset_retrying("open_positions_rollup")
                .map_err(|e| backend("reading offsets", e))?,
            policies: s.client.end_offset_retrying("account_policy").map_err(|e| backend("reading offsets", e))?,
        };
        let mut through = -1;
        if let Some(cp) = s.checkpoint_row()? {
            s.kill_switch = cp[3] == Value::Int(1);
            through = int(&cp[1]);
        }
        s.landed = s.interrupted_commit(through)?;
        for (_, row) in s.fold("account_policy")? {
            if let Value::Text(a) = &row[0] {
                s.policies.insert(a.to_string(), row);
            }
        }
        for (_, row) in s.fold("orders")? {
            if let (Value::Int(id), Value::Text(st)) = (&row[0], &row[4]) {
                let terminal = OrderState::ALL.iter().any(|o| o.name() == &**st && o.is_terminal());
                if !terminal {
                    s.open_orders.insert(*id as u64, row);
                }
            }
        }
        Ok(s)
    }

    /// The log rows of a commit that started after checkpoint `through` and
    /// never finished (the engine died between its marker and its
    /// checkpoint), if there was one; records in `cut` where the
    /// primary-key changelogs it wrote ended when it began.
    fn interrupted_commit(&mut self, through: i64) -> Result<Option<Landed>, StoreError> {
        let Some(marker) = self
            .client
            .lookup("engine_pending", &[Value::Int(self.engine_id as i64)])
            .map_err(|e| backend("reading engine_pending", e))?
        else {
            return Ok(None);
        };
        if int(&marker[1]) <= through {
            return Ok(None);
        }
        let Value::Text(offsets) = &marker[2] else { return Ok(None) };
        let mut since = Vec::new();
        for part in offsets.split(';') {
            let bad = || StoreError::Invalid { store: "fluss", what: format!("engine_pending: bad offset `{part}`") };
            let (table, at) = part.split_once('=').ok_or_else(bad)?;
            let at: i64 = at.parse().map_err(|_| bad())?;
            let sch = schema::schema(table).ok_or_else(bad)?;
            if sch.is_kv() {
                self.cut.insert(sch.name, at);
            } else {
                since.push((sch.name, at));
            }
        }
        let landed = self.landed_since(int(&marker[1]) as u64, &since, |_, _, _| Ok(()))?;
        if landed.waiting() == 0 {
            return Ok(None);
        }
        eprintln!(
            "fluss: the commit through input {} was cut short; {} of its log rows landed and will not be written again",
            landed.through,
            landed.waiting()
        );
        Ok(Some(landed))
    }

    /// Gives this engine its slice of the accounts (scale-out): portfolio and
    /// P&L rows of other engines' accounts are theirs to write.
    pub fn set_owned_accounts(&mut self, owned: Vec<bool>) {
        self.owned = Some(owned);
    }

    /// Does this engine own account `a` (all accounts unless scale-out
    /// split them, see [`FlussStore::set_owned_accounts`])?
    fn owns(&self, a: u32) -> bool {
        self.owned.as_ref().is_none_or(|o| o.get(a as usize).copied().unwrap_or(false))
    }

    /// The rows of `account_policy` this store wrote (for the follower).
    pub fn own_policy_writes(&self) -> OwnPolicyWrites {
        self.own_policy_writes.clone()
    }

    /// Where a changelog follower should start (offsets taken at open).
    pub fn follow_from(&self) -> FollowFrom {
        self.follow_from
    }

    /// How long a commit waits for acknowledgements before it fails.
    pub fn set_write_timeout(&mut self, timeout: Duration) {
        self.client.set_write_timeout(timeout);
    }

    /// Whether `row` of primary-key table `table` is this engine's to write.
    fn own_row(&self, table: &str, row: &Row) -> bool {
        let account = |v: &Value| Self::id_of(&self.account_ids, v).is_some_and(|a| self.owns(a));
        match table {
            "open_positions_rollup" => int(&row[6]) == i64::from(self.engine_id),
            "portfolio" | "account_policy" => account(&row[0]),
            "orders" => account(&row[1]),
            _ => true, // symbol_marks, the engine's own rows
        }
    }

    /// The current rows of a primary-key table (its changelog folded), by
    /// key — as of the last checkpoint for this engine's own rows when a
    /// commit was cut short (see `cut`).
    fn fold(&self, table: &str) -> Result<BTreeMap<Vec<String>, Row>, StoreError> {
        let sch = schema::schema(table)
            .ok_or_else(|| StoreError::Invalid { store: "fluss", what: format!("unknown table `{table}`") })?;
        let keys: Vec<usize> = sch.primary_key.iter().filter_map(|k| sch.index(k)).collect();
        let cut = self.cut.get(table).copied().unwrap_or(i64::MAX);
        let mut out = BTreeMap::new();
        for (offset, kind, row) in
            self.client.scan_offsets(table).map_err(|e| backend(&format!("reading {table}"), e))?
        {
            if offset >= cut && self.own_row(table, &row) {
                continue; // the unfinished commit's: its inputs are replayed
            }
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

    /// The log rows that landed since each `(table, offset)`, up to the log's
    /// end (`check(table, offset, end)` first), as the rows a commit through
    /// input `through` need not write again.
    fn landed_since(
        &self,
        through: u64,
        since: &[(&'static str, i64)],
        check: impl Fn(&str, i64, i64) -> Result<(), StoreError>,
    ) -> Result<Landed, StoreError> {
        let mut landed = Landed { through, ..Default::default() };
        for &(table, from) in since {
            let end = self.client.end_offset_retrying(table).map_err(|e| backend("reading log offsets", e))?;
            check(table, from, end)?;
            let rows = self.client.read_range(table, from, end).map_err(|e| backend(&format!("reading {table}"), e))?;
            let seen = landed.rows.entry(table).or_default();
            for r in &rows {
                *seen.entry(Landed::key(r)).or_default() += 1;
            }
        }
        Ok(landed)
    }

    /// One attempt at writing a commit: (0) if an earlier attempt's rows are
    /// still in flight, wait for their answers first (the writer retries
    /// them itself; nothing is ever abandoned in flight), (1) the marker
    /// with where its log rows start (first attempt only: `offsets` keeps
    /// them), (2) logs and state rows in one flush — on a retry, minus the
    /// log rows that landed since the marker, read once nothing is in
    /// flight —, (3) the checkpoint.
    fn write_commit(
        &mut self,
        logs: &[(&'static str, Vec<Row>)],
        states: &[(&'static str, Vec<Row>, bool)],
        offsets: &mut Option<Vec<(&'static str, i64)>>,
        b: &CommitBatch<'_>,
    ) -> Result<(), StoreError> {
        fn w<T>(what: &str, res: Result<T, crate::FlussError>) -> Result<T, StoreError> {
            res.map_err(|e| backend(what, e))
        }
        if self.client.in_flight() > 0 {
            w("waiting for the rows in flight", self.client.flush())?;
        }
        let retry_rows: Option<Vec<Vec<Row>>> = match offsets {
            None => {
                let mut at = Vec::new();
                for (table, rows) in logs {
                    if !rows.is_empty() {
                        let end = w("reading log offsets", self.client.end_offset_retrying(table))?;
                        check_not_lost(table, self.log_ends.get(table).copied().unwrap_or(0), end)?;
                        at.push((*table, end));
                    }
                }
                // Where the primary-key changelogs this commit writes end
                // now: a restart after a cut-short commit folds this
                // engine's rows only up to there (state as of the checkpoint).
                let mut cuts: Vec<(&'static str, i64)> = Vec::new();
                for (table, rows, _) in states {
                    if !rows.is_empty() && !cuts.iter().any(|(t, _)| t == table) {
                        cuts.push((table, w("reading changelog offsets", self.client.end_offset_retrying(table))?));
                    }
                }
                if !at.is_empty() || !cuts.is_empty() {
                    let text: Vec<String> = at.iter().chain(&cuts).map(|(t, o)| format!("{t}={o}")).collect();
                    let marker = vec![i(self.engine_id as u64), i(b.through), t(&text.join(";"))];
                    w("writing engine_pending", self.client.upsert("engine_pending", &[marker], false))?;
                }
                *offsets = Some(at);
                None
            }
            Some(at) => {
                let ends = &self.log_ends;
                let mut landed = self.landed_since(b.through, at, |table, from, end| {
                    check_not_lost(table, ends.get(table).copied().unwrap_or(0).max(from), end)
                })?;
                Some(
                    logs.iter()
                        .map(|(table, rows)| {
                            let mut rows = rows.clone();
                            landed.skip_landed(table, &mut rows);
                            rows
                        })
                        .collect(),
                )
            }
        };
        let queued = (|| {
            for (k, (table, rows)) in logs.iter().enumerate() {
                let rows = retry_rows.as_ref().map_or(rows, |r| &r[k]);
                if !rows.is_empty() {
                    w(&format!("appending to {table}"), self.client.queue(table, rows, false))?;
                }
            }
            for (table, rows, delete) in states {
                if !rows.is_empty() {
                    w(&format!("writing {table}"), self.client.queue(table, rows, *delete))?;
                }
            }
            Ok(())
        })();
        if queued.is_err() {
            // The rows queued before the failure are sent: their answers
            // first (what stays unanswered is waited for by the next attempt).
            let _ = self.client.flush();
            return queued;
        }
        w("writing the batch", self.client.flush())?;
        // Where each log ended at least, once this commit's rows were
        // acknowledged (landed before or now: all of them).
        for (table, rows) in logs {
            if let Some(&(_, from)) = offsets.as_ref().and_then(|o| o.iter().find(|(t, _)| t == table)) {
                self.log_ends.insert(table, from + rows.len() as i64);
            }
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let cp = vec![i(self.engine_id as u64), i(b.through), i(b.last_ts), i(self.kill_switch as u64), i(now)];
        w("writing engine_checkpoint", self.client.upsert("engine_checkpoint", &[cp], false))
    }

    fn checkpoint_row(&self) -> Result<Option<Row>, StoreError> {
        self.client
            .lookup("engine_checkpoint", &[Value::Int(self.engine_id as i64)])
            .map_err(|e| backend("reading engine_checkpoint", e))
    }

    fn policy_row(&self, p: &AccountPolicy, buys_blocked: bool) -> Row {
        vec![
            self.txt.account(p.account),
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
            self.txt.account(p.account),
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
            Value::Text(s) => map.get(&**s).copied(),
            _ => None,
        }
    }
}

/// An `open_positions_rollup` row (account and symbol already interned as
/// `a`, `s`) as the engine's rollup event.
pub fn rollup_from_row(row: &Row, a: u32, s: u32, op: RollupOp) -> RollupChange {
    RollupChange {
        op: op as u8,
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
    }
}

/// An `account_policy` row (account interned as `a`) as the engine's policy
/// event, and whether its BUYs are blocked.
pub fn policy_from_row(row: &Row, a: u32) -> (AccountPolicy, bool) {
    let status = match &row[1] {
        Value::Text(s) if &**s == "ACTIVE" => AccountStatus::Active,
        _ => AccountStatus::Blocked,
    };
    let p = AccountPolicy {
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
    };
    (p, int(&row[3]) == 1)
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
        // Each engine writes the policies of its own accounts.
        let owned = |a: u32| self.owns(a);
        let rows: Vec<Row> = policies.iter().filter(|p| owned(p.account)).map(|p| self.policy_row(p, false)).collect();
        let mut own = self.own_policy_writes.lock().unwrap_or_else(|e| e.into_inner());
        for row in &rows {
            if let Value::Text(a) = &row[0] {
                self.policies.insert(a.to_string(), row.clone());
                own.insert(a.to_string(), row.clone());
            }
        }
        drop(own);
        self.client.upsert("account_policy", &rows, false).map_err(|e| backend("writing account_policy", e))
    }

    fn commit(&mut self, b: &CommitBatch<'_>) -> Result<(), StoreError> {
        b.check_expanded("fluss")?;
        let txt = &self.txt;
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
                        txt.symbol(x.symbol),
                        word(side(x.side)),
                        word(x.outcome().name()),
                        word(x.route().name()),
                        if x.has_account() { txt.account(x.account) } else { Value::Null },
                        if x.order_id != 0 { i(x.order_id) } else { Value::Null },
                        r(x.qty),
                        r(x.price),
                    ]);
                    if x.is_routed() {
                        let row = vec![
                            i(x.order_id),
                            txt.account(x.account),
                            txt.symbol(x.symbol),
                            word(side(x.side)),
                            word(OrderState::New.name()),
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
                            txt.account(f.account),
                            txt.symbol(f.symbol),
                            word(side(f.side)),
                            r(f.qty),
                            r(f.price),
                            r(f.cum_qty),
                            word(state(f.order_state)),
                        ]);
                        (f.order_id, f.order_state, f.cum_qty, f.ts_event)
                    } else if let Some(u) = ev.get::<OrderUpdate>() {
                        (u.order_id, u.state, u.cum_qty, u.ts_event)
                    } else {
                        continue;
                    };
                    if let Some(row) = self.open_orders.get_mut(&id) {
                        row[4] = word(state(st));
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
                    if x.engine != self.engine_id {
                        continue; // read from the changelog: already in Fluss
                    }
                    let row = match x.op() {
                        RollupOp::Upsert => Some(vec![
                            txt.account(x.account),
                            txt.symbol(x.symbol),
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
                        txt.account(x.account),
                        txt.symbol(x.symbol),
                        word(side(x.side)),
                        t(Outcome::from_u8(x.rule).map_or("?", Outcome::name)),
                        r(x.value),
                        r(x.limit),
                        t(ControlOp::from_u8(x.action).map_or("reject", ControlOp::name)),
                    ]);
                }
                Some(JournalKind::Policy) => {
                    let Some(p) = ev.get::<AccountPolicy>() else { continue };
                    let name = self.names.account(p.account).to_string();
                    let blocked = self.policies.get(&name).is_some_and(|row| row[3] == Value::Int(1));
                    let row = self.policy_row(p, blocked);
                    self.policies.insert(name.clone(), row);
                    policies_changed.push(name);
                }
                Some(JournalKind::Control) => {
                    let Some(c) = ev.get::<Control>() else { continue };
                    let name = self.names.account(c.account).to_string();
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
                // Refused above (`CommitBatch::check_expanded`).
                Some(JournalKind::TradeFilled) | None => {}
            }
        }
        let owned = |a: u32| self.owns(a);
        let pnl: Vec<Row> = b
            .pnl
            .iter()
            .filter(|p| owned(p.account))
            .map(|p| {
                vec![
                    i(p.ts_event),
                    txt.account(p.account),
                    r(p.cash),
                    r(p.equity),
                    r(p.realized_pnl),
                    r(p.unrealized_pnl),
                    r(p.drawdown_pct),
                ]
            })
            .collect();
        let portfolio: Vec<Row> =
            b.portfolio.iter().filter(|p| owned(p.account)).map(|p| self.portfolio_row(p)).collect();
        let marks: Vec<Row> = b.marks.iter().map(|&(s, p)| vec![self.txt.symbol(s), r(p)]).collect();
        let orders: Vec<Row> = orders.into_values().collect();
        let (ups, dels): (Vec<_>, Vec<_>) = positions.into_iter().partition(|(_, row)| row.is_some());
        let ups: Vec<Row> = ups.into_iter().filter_map(|(_, row)| row).collect();
        let dels: Vec<Row> = dels
            .into_iter()
            .map(|((a, s), _)| {
                let mut row = vec![Value::Null; 9];
                row[0] = self.txt.account(a);
                row[1] = self.txt.symbol(s);
                row
            })
            .collect();
        policies_changed.sort();
        policies_changed.dedup();
        // Another engine's account policy is its owner's to write.
        let pol: Vec<Row> = policies_changed
            .iter()
            .filter(|n| self.account_ids.get(n.as_str()).is_some_and(|&a| owned(a)))
            .filter_map(|n| self.policies.get(n).cloned())
            .collect();
        if !pol.is_empty() {
            let mut own = self.own_policy_writes.lock().unwrap_or_else(|e| e.into_inner());
            for row in &pol {
                own.insert(row[0].to_csv(), row.clone());
            }
        }
        let mut logs = [("trade_signals", signals), ("fills", fills), ("risk_events", risks), ("pnl_timeseries", pnl)];
        if let Some(d) = &mut self.landed {
            for (table, rows) in &mut logs {
                d.skip_landed(table, rows);
            }
            if b.through >= d.through {
                self.landed = None;
            }
        }
        let states = [
            ("orders", orders, false),
            ("open_positions_rollup", ups, false),
            ("open_positions_rollup", dels, true),
            ("portfolio", portfolio, false),
            ("symbol_marks", marks, false),
            ("account_policy", pol, false),
        ];
        // A failed attempt (a tablet server restarting, a lost connection) is
        // retried until the write timeout has passed: rows still in flight
        // are waited for on the same connection, a failed write retried on a
        // fresh one; log rows an attempt already landed are not written again.
        let started = std::time::Instant::now();
        let mut offsets = None;
        let mut attempt = 0;
        // Attempts in a row that ended with rows in flight although their
        // tables' leaders answered.
        let mut stalled = 0;
        let mut was_in_flight = 0;
        loop {
            match self.write_commit(&logs, &states, &mut offsets, b) {
                Ok(()) => return Ok(()),
                Err(e @ StoreError::Backend { .. }) if started.elapsed() < self.client.write_timeout() => {
                    attempt += 1;
                    let in_flight = self.client.in_flight();
                    // Not one answer during a whole attempt, leaders up: stalled.
                    stalled = if in_flight > 0 && in_flight == was_in_flight && self.client.in_flight_leaders_up() {
                        stalled + 1
                    } else {
                        0
                    };
                    was_in_flight = in_flight;
                    // Rows in flight are waited for on the same connection (the
                    // writer retries them under its writer id: no duplicate),
                    // while the cluster is what holds them up. Unanswered for
                    // two attempts while every leader answers, they were lost
                    // by the writer (answers to a server that died): only then
                    // abandoned. With nothing in flight (every row answered, one
                    // failed) a fresh connection cannot race an old write.
                    let next = match in_flight {
                        0 => "retrying on a new connection".to_string(),
                        n if stalled >= 2 => {
                            format!("abandoning {n} rows the writer lost, retrying on a new connection")
                        }
                        n => format!("waiting on for {n} rows in flight"),
                    };
                    eprintln!("fluss: the commit through input {} failed (attempt {attempt}), {next}: {e}", b.through);
                    if in_flight == 0 || stalled >= 2 {
                        (stalled, was_in_flight) = (0, 0);
                        // If it fails, the next attempt says why. Then let whatever
                        // the servers still hold of the old writer settle before the
                        // next attempt reads what landed.
                        let _ = self.client.reconnect();
                        std::thread::sleep(Duration::from_millis(if in_flight == 0 { 500 } else { 2000 }));
                    }
                }
                Err(StoreError::Backend { store, what, source }) if attempt > 0 => {
                    return Err(StoreError::Backend {
                        store,
                        what: format!("{what} (gave up after {:.0?} and {} attempts)", started.elapsed(), attempt + 1),
                        source,
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn restart_state(&mut self) -> Result<RestartState, StoreError> {
        let mut st = RestartState::default();
        if let Some(cp) = self.checkpoint_row()? {
            let last = int(&cp[1]);
            st.checkpoint = (last >= 0).then_some(last as u64);
            st.last_ts = int(&cp[2]) as u64;
            st.kill_switch = int(&cp[3]) == 1;
        }
        // Without a checkpoint this engine has not finished a commit: rows it
        // wrote belong to an unfinished one and are not a start state (the
        // run starts over and rewrites them). Other engines' rows are.
        let fresh = st.checkpoint.is_none();
        let mine = |a: u32| self.owns(a);
        for (_, row) in self.fold("open_positions_rollup")? {
            let (Some(a), Some(sym)) =
                (Self::id_of(&self.account_ids, &row[0]), Self::id_of(&self.symbol_ids, &row[1]))
            else {
                continue;
            };
            if fresh && int(&row[6]) == i64::from(self.engine_id) {
                continue;
            }
            st.positions.push(rollup_from_row(&row, a, sym, RollupOp::Upsert));
        }
        for (_, row) in self.fold("portfolio")? {
            let Some(a) = Self::id_of(&self.account_ids, &row[0]) else { continue };
            if fresh && mine(a) {
                continue;
            }
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
        for (_, row) in if fresh { BTreeMap::new() } else { self.fold("symbol_marks")? } {
            if let Some(s) = Self::id_of(&self.symbol_ids, &row[0]) {
                st.marks.push((s, real(&row[1])));
            }
        }
        for row in self.policies.values() {
            let Some(a) = Self::id_of(&self.account_ids, &row[0]) else { continue };
            let (p, blocked) = policy_from_row(row, a);
            if blocked {
                st.buys_blocked.push(a);
            }
            st.policies.push(p);
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
                .scan(table)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, acc: &str) -> Row {
        vec![Value::Int(seq), t(acc), Value::Real(1.5), Value::Null]
    }

    #[test]
    fn landed_rows_are_skipped_once_each_and_others_kept() {
        let mut l = Landed { through: 10, ..Default::default() };
        let seen = l.rows.entry("fills").or_default();
        for r in [row(1, "A"), row(2, "B"), row(2, "B")] {
            *seen.entry(Landed::key(&r)).or_default() += 1;
        }
        assert_eq!(l.waiting(), 3);
        // The replayed commit: 1 and 2 twice landed, 3 did not; a third copy of 2 is new.
        let mut rows = vec![row(1, "A"), row(2, "B"), row(2, "B"), row(2, "B"), row(3, "C")];
        l.skip_landed("fills", &mut rows);
        assert_eq!(rows, vec![row(2, "B"), row(3, "C")]);
        assert_eq!(l.waiting(), 0);
        // Another table is untouched.
        let mut other = vec![row(1, "A")];
        l.skip_landed("trade_signals", &mut other);
        assert_eq!(other.len(), 1);
    }

    #[test]
    fn a_log_ending_before_acknowledged_rows_is_a_loud_error() {
        assert!(check_not_lost("fills", 100, 100).is_ok());
        assert!(check_not_lost("fills", 100, 250).is_ok());
        let e = check_not_lost("fills", 6783, 3983).unwrap_err().to_string();
        assert!(e.contains("lost acknowledged rows of fills"), "{e}");
        assert!(e.contains("ends at offset 3983, rows reached 6783"), "{e}");
    }
}
