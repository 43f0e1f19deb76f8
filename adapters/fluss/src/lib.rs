//! The Apache Fluss store of TradeEngine, over the official Rust client
//! `fluss-rs`. Cold path only: the async client runs on a small tokio
//! runtime owned by [`FlussClient`] (one worker thread, on the cold cores);
//! nothing here is ever called from the hot thread.
//!
//! This crate is its own workspace member so the engine builds fast without
//! Arrow and the async client.

pub mod schema;
pub mod store;

use std::time::{Duration, Instant};

use std::collections::HashMap;

use fluss::client::{AppendWriter, FlussConnection, UpsertWriter, WriteResultFuture, EARLIEST_OFFSET};
use fluss::config::Config;
use fluss::metadata::{DataTypes, Schema, TableDescriptor, TablePath};
use fluss::row::{GenericRow, InternalRow};
use fluss::rpc::message::OffsetSpec;

pub use schema::{schema, Col, TableSchema, SCHEMAS};
pub use store::{policy_from_row, rollup_from_row, FlussStore, FollowFrom, OwnPolicyWrites};

/// A Fluss error: the cluster, what was being done, and the cause.
#[derive(Debug, thiserror::Error)]
#[error("fluss {bootstrap}: {what}: {source}")]
pub struct FlussError {
    pub bootstrap: String,
    pub what: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Real(f64),
    /// Shared text: names repeat on every row, so rows share them.
    Text(std::sync::Arc<str>),
    Null,
}

impl Value {
    /// The cell as SQLite's CSV dump writes it.
    pub fn to_csv(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Real(v) => format!("{v:?}"),
            Value::Text(s) => s.to_string(),
            Value::Null => String::new(),
        }
    }
}

/// A row of cells in schema column order.
pub type Row = Vec<Value>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Msg(String);

/// What a cluster that answers but has not registered its servers yet says.
const NO_SERVERS: &str = "the cluster lists no servers";

/// A failed step of opening a connection, and why.
type OpenError = (&'static str, Box<dyn std::error::Error + Send + Sync>);

/// A fresh client runtime (one worker thread, on the cold cores) and a
/// connection to `bootstrap` on it, within `timeout`.
fn open_connection(
    bootstrap: &str,
    fetch_wait_ms: i32,
    timeout: Duration,
) -> Result<(tokio::runtime::Runtime, FlussConnection), OpenError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("te-fluss")
        .enable_all()
        .build()
        .map_err(|e| ("starting the client runtime", Box::new(e) as _))?;
    let config = Config {
        bootstrap_servers: bootstrap.to_string(),
        scanner_log_fetch_wait_max_time_ms: fetch_wait_ms,
        ..Default::default()
    };
    let conn = rt
        .block_on(async { tokio::time::timeout(timeout, FlussConnection::new(config)).await })
        .map_err(|_| ("connecting", Box::new(Msg(format!("no answer within {timeout:?}"))) as _))?
        .map_err(|e| ("connecting", Box::new(e) as _))?;
    Ok((rt, conn))
}

/// A connection to a Fluss cluster with its own runtime (a blocking facade
/// for cold threads).
pub struct FlussClient {
    rt: tokio::runtime::Runtime,
    conn: FlussConnection,
    bootstrap: String,
    database: String,
    /// The server-side wait of this client's fetches (see `connect_follower`).
    fetch_wait_ms: i32,
    /// One writer per table, created on first use.
    writers: HashMap<&'static str, Writer>,
    /// Rows sent and not yet answered, with their table.
    in_flight: Vec<(&'static str, WriteResultFuture)>,
    /// The first row of the current flush that failed outright, reported
    /// once every row has an answer.
    failed: Option<(&'static str, fluss::error::Error)>,
    write_timeout: Duration,
}

enum Writer {
    Append(AppendWriter),
    Upsert(UpsertWriter),
}

impl FlussClient {
    /// Connects to `bootstrap` (e.g. `127.0.0.1:9123`) within `timeout`; the
    /// tables live in `database`.
    pub fn connect(bootstrap: &str, database: &str, timeout: Duration) -> Result<Self, FlussError> {
        Self::connect_with(bootstrap, database, timeout, Config::default().scanner_log_fetch_wait_max_time_ms)
    }

    /// Like [`FlussClient::connect`], for a client that follows changelogs:
    /// its fetches wait at most `fetch_wait_ms` on the server for new
    /// records (fluss-rs waits 500 ms by default, which is then the
    /// feedback latency's floor).
    pub fn connect_follower(bootstrap: &str, database: &str, timeout: Duration) -> Result<Self, FlussError> {
        Self::connect_with(bootstrap, database, timeout, 10)
    }

    /// Connects, retrying every half second within `timeout` while the
    /// cluster answers but is still starting (its coordinator "not
    /// initialized yet", no servers listed); an unreachable cluster fails at
    /// once.
    fn connect_with(
        bootstrap: &str,
        database: &str,
        timeout: Duration,
        fetch_wait_ms: i32,
    ) -> Result<Self, FlussError> {
        let start = Instant::now();
        loop {
            match Self::connect_once(bootstrap, database, timeout, fetch_wait_ms) {
                Err(e) if Self::is_starting(&e) && start.elapsed() + Duration::from_millis(500) < timeout => {
                    std::thread::sleep(Duration::from_millis(500))
                }
                res => return res,
            }
        }
    }

    /// Whether `e` says the cluster answered but is not ready yet: an API
    /// error from a server (not a refused connection), or no servers listed.
    fn is_starting(e: &FlussError) -> bool {
        match e.source.downcast_ref::<fluss::error::Error>() {
            Some(fluss::error::Error::FlussAPIError { .. }) => true,
            _ => e.source.downcast_ref::<Msg>().is_some_and(|m| m.0 == NO_SERVERS),
        }
    }

    fn connect_once(
        bootstrap: &str,
        database: &str,
        timeout: Duration,
        fetch_wait_ms: i32,
    ) -> Result<Self, FlussError> {
        let (rt, conn) = open_connection(bootstrap, fetch_wait_ms, timeout).map_err(|(what, e)| FlussError {
            bootstrap: bootstrap.to_string(),
            what: what.to_string(),
            source: e,
        })?;
        let c = Self {
            rt,
            conn,
            bootstrap: bootstrap.to_string(),
            database: database.to_string(),
            fetch_wait_ms,
            writers: HashMap::new(),
            in_flight: Vec::new(),
            failed: None,
            write_timeout: Duration::from_secs(120),
        };
        // A real round trip: the cluster must list its servers.
        let nodes = c.server_nodes()?;
        if nodes.is_empty() {
            return Err(c.err("connecting", Msg(NO_SERVERS.into())));
        }
        Ok(c)
    }

    fn err(&self, what: &str, e: impl std::error::Error + Send + Sync + 'static) -> FlussError {
        FlussError { bootstrap: self.bootstrap.clone(), what: what.to_string(), source: Box::new(e) }
    }

    /// The servers the cluster reports (coordinator and tablet servers).
    pub fn server_nodes(&self) -> Result<Vec<String>, FlussError> {
        let admin = self.conn.get_admin().map_err(|e| self.err("admin", e))?;
        let nodes = self.rt.block_on(admin.get_server_nodes()).map_err(|e| self.err("listing server nodes", e))?;
        Ok(nodes.iter().map(|n| format!("{n:?}")).collect())
    }

    fn path(&self, table: &str) -> TablePath {
        TablePath::new(self.database.as_str(), table)
    }

    /// Creates the database and every table of [`SCHEMAS`] unless they exist.
    pub fn ensure_schema(&self) -> Result<(), FlussError> {
        let admin = self.conn.get_admin().map_err(|e| self.err("admin", e))?;
        self.rt
            .block_on(admin.create_database(&self.database, None, true))
            .or_else(|e| match self.rt.block_on(admin.database_exists(&self.database)) {
                Ok(true) => Ok(()),
                _ => Err(e),
            })
            .map_err(|e| self.err(&format!("creating database {}", self.database), e))?;
        for t in SCHEMAS {
            let mut b = Schema::builder();
            for (name, col) in t.columns {
                let ty = match col {
                    Col::Int => DataTypes::bigint(),
                    Col::Real => DataTypes::double(),
                    Col::Text => DataTypes::string(),
                };
                b = b.column(*name, ty);
            }
            let schema =
                if t.is_kv() { b.primary_key(t.primary_key.to_vec()).and_then(|b| b.build()) } else { b.build() }
                    .map_err(|e| self.err(&format!("schema of {}", t.name), e))?;
            let mut d = TableDescriptor::builder().schema(schema).distributed_by(Some(1), vec![]);
            if !t.is_kv() {
                d = d.property("table.log.ttl", schema::LOG_TTL);
            }
            let d = d.build().map_err(|e| self.err(&format!("descriptor of {}", t.name), e))?;
            let path = self.path(t.name);
            // Another client (an engine starting at the same time) may be
            // creating it too: the loser sees an error until the winner's
            // table is complete, then the table exists.
            let mut tries = 0;
            while let Err(e) = self.rt.block_on(admin.create_table(&path, &d, true)) {
                if self.rt.block_on(admin.table_exists(&path)).unwrap_or(false) {
                    break;
                }
                tries += 1;
                if tries == 25 {
                    return Err(self.err(&format!("creating table {}", t.name), e));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Ok(())
    }

    /// The table names the database holds.
    pub fn tables(&self) -> Result<Vec<String>, FlussError> {
        let admin = self.conn.get_admin().map_err(|e| self.err("admin", e))?;
        self.rt.block_on(admin.list_tables(&self.database)).map_err(|e| self.err("listing tables", e))
    }

    /// The cells as a fluss-rs row, borrowing the text.
    fn generic(row: &[Value]) -> GenericRow<'_> {
        let mut g = GenericRow::new(row.len());
        for (i, v) in row.iter().enumerate() {
            match v {
                Value::Int(x) => g.set_field(i, *x),
                Value::Real(x) => g.set_field(i, *x),
                Value::Text(s) => g.set_field(i, &**s),
                Value::Null => g.set_field(i, None::<&()>),
            }
        }
        g
    }

    fn read(t: &TableSchema, r: &dyn InternalRow) -> Result<Row, fluss::error::Error> {
        let mut out = Vec::with_capacity(t.columns.len());
        for (i, (_, col)) in t.columns.iter().enumerate() {
            if r.is_null_at(i)? {
                out.push(Value::Null);
                continue;
            }
            out.push(match col {
                Col::Int => Value::Int(r.get_long(i)?),
                Col::Real => Value::Real(r.get_double(i)?),
                Col::Text => Value::Text(r.get_string(i)?.into()),
            });
        }
        Ok(out)
    }

    fn table_schema(&self, table: &str) -> Result<&'static TableSchema, FlussError> {
        schema(table).ok_or_else(|| self.err("table", Msg(format!("unknown table `{table}`"))))
    }

    /// Queues rows for a log table (appends) or a primary-key table (upserts,
    /// or deletes by key when `delete`). Nothing is acknowledged until
    /// [`FlussClient::flush`]; writers are created once per table and kept.
    pub fn queue(&mut self, table: &str, rows: &[Row], delete: bool) -> Result<(), FlussError> {
        let t = self.table_schema(table)?;
        if !self.writers.contains_key(t.name) {
            let path = self.path(t.name);
            let timeout = self.attempt_timeout();
            let w = self
                .rt
                .block_on(async {
                    let tbl = tokio::time::timeout(timeout, self.conn.get_table(&path)).await.map_err(|_| {
                        fluss::error::Error::UnexpectedError {
                            message: format!("no table metadata within {timeout:?}"),
                            source: None,
                        }
                    })??;
                    Ok::<_, fluss::error::Error>(if t.is_kv() {
                        Writer::Upsert(tbl.new_upsert()?.create_writer()?)
                    } else {
                        Writer::Append(tbl.new_append()?.create_writer()?)
                    })
                })
                .map_err(|e| self.err(&format!("opening a writer for {table}"), e))?;
            self.writers.insert(t.name, w);
        }
        let w = &self.writers[t.name];
        let what = if delete { "deleting from" } else { "writing" };
        for r in rows {
            let g = Self::generic(r);
            let f = match (w, delete) {
                (Writer::Append(w), false) => w.append(&g),
                (Writer::Upsert(w), false) => w.upsert(&g),
                (Writer::Upsert(w), true) => w.delete(&g),
                (Writer::Append(_), true) => {
                    return Err(self.err(&format!("{what} {table}"), Msg("a log table has no deletes".into())))
                }
            }
            .map_err(|e| self.err(&format!("{what} {table}"), e))?;
            self.in_flight.push((t.name, f));
        }
        Ok(())
    }

    /// Sends everything queued and waits until every row is acknowledged
    /// (acks = all, idempotent writer: its own retries cannot duplicate a
    /// row), or fails once [`FlussClient::attempt_timeout`] has passed.
    ///
    /// On a timeout the unacknowledged rows stay in flight (see
    /// [`FlussClient::in_flight`]): the writer keeps retrying them under the
    /// same writer id, and the next `flush` waits on for them. Abandoning
    /// them instead is unsafe — a row a leader appended but had not yet
    /// committed can become visible after the caller looked for it. A row
    /// that failed outright is reported once every other row of the flush
    /// has an answer, so nothing is in flight after an `Err` that is not a
    /// timeout.
    pub fn flush(&mut self) -> Result<(), FlussError> {
        let Some(w) = self.writers.values().next() else { return Ok(()) };
        let timeout = self.attempt_timeout();
        let deadline = tokio::time::Instant::now() + timeout;
        let (in_flight, failed) = (&mut self.in_flight, &mut self.failed);
        let mut answered = 0;
        let all_answered = self.rt.block_on(async {
            match tokio::time::timeout_at(deadline, async {
                match w {
                    Writer::Append(w) => w.flush().await,
                    Writer::Upsert(w) => w.flush().await,
                }
            })
            .await
            {
                Err(_) => return false,
                Ok(Err(e)) => {
                    failed.get_or_insert(("flushing", e));
                }
                Ok(Ok(())) => {}
            }
            // One future at a time, each awaited at most once to completion:
            // a timeout leaves the unanswered ones intact for the next flush.
            while let Some((table, f)) = in_flight.get_mut(answered) {
                match tokio::time::timeout_at(deadline, f).await {
                    Err(_) => return false,
                    Ok(r) => {
                        if let Err(e) = r {
                            failed.get_or_insert((*table, e));
                        }
                        answered += 1;
                    }
                }
            }
            true
        });
        self.in_flight.drain(..answered);
        if !all_answered {
            return Err(self.err(
                "writing",
                Msg(format!(
                    "no acknowledgement within {timeout:?}, {} rows still in flight (is the cluster reachable? a \
                     tablet server down?)",
                    self.in_flight.len()
                )),
            ));
        }
        match self.failed.take() {
            Some((table, e)) => Err(self.err(&format!("writing {table}"), e)),
            None => Ok(()),
        }
    }

    /// Rows sent and not yet answered (after a [`FlussClient::flush`] that
    /// timed out): the next `flush` waits on for them.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether every table with rows in flight has a leader answering now
    /// (its offsets can be listed): if so, rows that stay unanswered were
    /// lost by the writer, not held up by the cluster.
    pub fn in_flight_leaders_up(&self) -> bool {
        let mut tables: Vec<&str> = self.in_flight.iter().map(|(t, _)| *t).collect();
        tables.sort_unstable();
        tables.dedup();
        tables.iter().all(|t| self.end_offset(t).is_ok())
    }

    /// The write timeout (see [`FlussClient::set_write_timeout`]).
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }

    /// How long one attempt waits (at most 10 s, so a caller retrying on a
    /// fresh connection — fresh metadata, e.g. a new bucket leader — gets
    /// several attempts within the write timeout).
    pub fn attempt_timeout(&self) -> Duration {
        self.write_timeout.min(Duration::from_secs(10))
    }

    /// Drops the connection and its writers and connects again: a new
    /// writer id, fresh metadata. Call it only with nothing in flight
    /// ([`FlussClient::in_flight`] = 0): a row abandoned in flight may still
    /// land after the caller read what landed.
    pub fn reconnect(&mut self) -> Result<(), FlussError> {
        self.in_flight.clear();
        self.failed = None;
        self.writers.clear();
        // A new runtime too: the old one's single worker may be stuck in the
        // old writer's send loop (seen when a bucket has no live leader).
        let (rt, conn) =
            open_connection(&self.bootstrap, self.fetch_wait_ms, Duration::from_secs(10)).map_err(|(what, e)| {
                FlussError { bootstrap: self.bootstrap.clone(), what: format!("reconnecting ({what})"), source: e }
            })?;
        let old_conn = std::mem::replace(&mut self.conn, conn);
        let old_rt = std::mem::replace(&mut self.rt, rt);
        // Stop the old writer for good (its batches must not land after the
        // caller has read what did land), on a helper thread and bounded:
        // close it, then cancel every task of the old runtime.
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let _ = std::thread::Builder::new().name("te-fluss-close".into()).spawn(move || {
            let handle = old_rt.handle().clone();
            let _ = handle
                .block_on(async { tokio::time::timeout(Duration::from_secs(1), old_conn.close(Duration::ZERO)).await });
            old_rt.shutdown_background();
            let _ = done_tx.send(());
        });
        let _ = done_rx.recv_timeout(Duration::from_secs(2));
        Ok(())
    }

    /// How long [`FlussClient::flush`] waits for acknowledgements (default
    /// two minutes: long enough to ride through a tablet server restart).
    pub fn set_write_timeout(&mut self, timeout: Duration) {
        self.write_timeout = timeout;
    }

    /// Appends rows to a log table and waits until they are acknowledged.
    pub fn append(&mut self, table: &str, rows: &[Row]) -> Result<(), FlussError> {
        self.queue(table, rows, false)?;
        self.flush()
    }

    /// Upserts rows (`delete` = false) or deletes them by key (`delete` =
    /// true) in a primary-key table, and waits until acknowledged.
    pub fn upsert(&mut self, table: &str, rows: &[Row], delete: bool) -> Result<(), FlussError> {
        self.queue(table, rows, delete)?;
        self.flush()
    }

    /// Like [`FlussClient::end_offset`], retried every half second while the
    /// bucket's tablet server is away, until the write timeout has passed.
    pub fn end_offset_retrying(&self, table: &str) -> Result<i64, FlussError> {
        let start = Instant::now();
        loop {
            match self.end_offset(table) {
                Ok(v) => return Ok(v),
                Err(e) if start.elapsed() >= self.write_timeout => {
                    return Err(self.err(
                        &format!("listing offsets of {table}"),
                        Msg(format!("no acknowledgement within {:?} (last error: {e})", self.write_timeout)),
                    ))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(500)),
            }
        }
    }

    /// The next offset of a log table's (or a changelog's) single bucket: where
    /// the next appended record will land.
    pub fn end_offset(&self, table: &str) -> Result<i64, FlussError> {
        let admin = self.conn.get_admin().map_err(|e| self.err("admin", e))?;
        let path = self.path(table);
        let offsets = self
            .rt
            .block_on(async {
                tokio::time::timeout(self.attempt_timeout(), admin.list_offsets(&path, &[0], OffsetSpec::Latest)).await
            })
            .map_err(|_| {
                self.err(
                    &format!("listing offsets of {table}"),
                    Msg(format!("no acknowledgement within {:?}", self.attempt_timeout())),
                )
            })?
            .map_err(|e| self.err(&format!("listing offsets of {table}"), e))?;
        offsets
            .get(&0)
            .copied()
            .ok_or_else(|| self.err(&format!("listing offsets of {table}"), Msg("no bucket 0".into())))
    }

    /// The rows of a log table from offset `from` up to (not including) `to`.
    pub fn read_range(&self, table: &str, from: i64, to: i64) -> Result<Vec<Row>, FlussError> {
        Ok(self.read_changes(table, from, to)?.into_iter().map(|(_, _, r)| r).collect())
    }

    /// Looks a primary-key row up by its key cells.
    pub fn lookup(&self, table: &str, key: &[Value]) -> Result<Option<Row>, FlussError> {
        let t = self.table_schema(table)?;
        self.rt
            .block_on(async {
                let tbl = self.conn.get_table(&self.path(table)).await?;
                let mut l = tbl.new_lookup()?.create_lookuper()?;
                let k = Self::generic(key);
                let res = l.lookup(&k).await?;
                match res.get_single_row()? {
                    Some(r) => Ok(Some(Self::read(t, &r)?)),
                    None => Ok(None),
                }
            })
            .map_err(|e: fluss::error::Error| self.err(&format!("looking up {table}"), e))
    }

    /// Follows a log table or a primary-key table's changelog from offset
    /// `from` (of its single bucket), calling `on_change(offset, kind, row)`
    /// for each record once, in offset order (`kind` as in
    /// [`FlussClient::scan`]), until `stop` is set or `on_change` returns
    /// false. Polls every `poll`. A failed fetch (a leader moving, a server
    /// away, a table just created) is reported on stderr and retried on a
    /// fresh scanner from the next offset, every half second, until `stop`:
    /// a follower never ends silently. Only a row that does not match the
    /// table's schema is an error.
    pub fn follow(
        &self,
        table: &str,
        from: i64,
        poll: Duration,
        stop: &std::sync::atomic::AtomicBool,
        mut on_change: impl FnMut(i64, &str, Row) -> bool,
    ) -> Result<(), FlussError> {
        use std::sync::atomic::Ordering::Relaxed;
        let t = self.table_schema(table)?;
        let mut next = from;
        let mut failures = 0u32;
        while !stop.load(Relaxed) {
            // Ok(true): finished; Ok(false): the fetch failed (`failed` says why).
            let mut failed = None;
            let finished = self.rt.block_on(async {
                let s = match async {
                    let tbl = self.conn.get_table(&self.path(table)).await?;
                    let s = tbl.new_scan().create_log_scanner()?;
                    s.subscribe(0, next).await?;
                    Ok::<_, fluss::error::Error>(s)
                }
                .await
                {
                    Ok(s) => s,
                    Err(e) => {
                        failed = Some(e);
                        return Ok(false);
                    }
                };
                while !stop.load(Relaxed) {
                    let records = match s.poll(poll).await {
                        Ok(r) => r,
                        Err(e) => {
                            failed = Some(e);
                            return Ok(false);
                        }
                    };
                    for r in records {
                        if r.offset() < next {
                            continue; // handed out before
                        }
                        next = r.offset() + 1;
                        failures = 0;
                        let kind = format!("{:?}", r.change_type());
                        if !on_change(r.offset(), &kind, Self::read(t, r.row())?) {
                            return Ok(true);
                        }
                    }
                }
                Ok(true)
            });
            match finished.map_err(|e: fluss::error::Error| self.err(&format!("following {table}"), e))? {
                true => return Ok(()),
                false => {
                    failures += 1;
                    if failures == 1 || failures.is_multiple_of(120) {
                        let e = failed.map_or_else(String::new, |e| e.to_string());
                        eprintln!(
                            "fluss: following {table} at offset {next} failed ({failures}x): {e}; retrying every 500ms"
                        );
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
        Ok(())
    }

    /// Reads a log table (or a primary-key table's changelog) from the start
    /// through the end it has when called. Rows come with their change type
    /// (`AppendOnly`, `Insert`, `UpdateBefore`, `UpdateAfter`, `Delete`).
    pub fn scan(&self, table: &str) -> Result<Vec<(String, Row)>, FlussError> {
        Ok(self.scan_offsets(table)?.into_iter().map(|(_, k, r)| (k, r)).collect())
    }

    /// [`FlussClient::scan`], each record with its offset.
    pub fn scan_offsets(&self, table: &str) -> Result<Vec<(i64, String, Row)>, FlussError> {
        let end = self.end_offset(table)?;
        self.read_changes(table, EARLIEST_OFFSET, end)
    }

    /// The records of a log table or changelog from offset `from` (or
    /// `EARLIEST_OFFSET`) up to, not including, `to`, with their offset and
    /// change type.
    fn read_changes(&self, table: &str, from: i64, to: i64) -> Result<Vec<(i64, String, Row)>, FlussError> {
        let t = self.table_schema(table)?;
        if to <= 0 || (from >= 0 && from >= to) {
            return Ok(Vec::new());
        }
        let timeout = self.write_timeout;
        self.rt
            .block_on(async {
                let tbl = self.conn.get_table(&self.path(table)).await?;
                let s = tbl.new_scan().create_log_scanner()?;
                s.subscribe(0, from).await?;
                let mut out = Vec::with_capacity((to - from.max(0)).min(1 << 20) as usize);
                let start = Instant::now();
                // The next offset wanted: a record below it was already read
                // (a scanner may hand a batch out twice across a leader change).
                let mut next = from;
                'poll: while start.elapsed() < timeout {
                    for r in s.poll(Duration::from_millis(200)).await? {
                        if r.offset() < next {
                            continue;
                        }
                        if r.offset() >= to {
                            next = r.offset();
                            break 'poll;
                        }
                        out.push((r.offset(), format!("{:?}", r.change_type()), Self::read(t, r.row())?));
                        next = r.offset() + 1;
                        if next >= to {
                            break 'poll;
                        }
                    }
                }
                if next < to {
                    // Never a silent partial read: callers skip or fold what
                    // they get, and a short read would duplicate rows.
                    return Err(fluss::error::Error::UnexpectedError {
                        message: format!("read up to offset {next} of {to} within {timeout:?}"),
                        source: None,
                    });
                }
                Ok(out)
            })
            .map_err(|e: fluss::error::Error| self.err(&format!("reading {table} from offset {from}"), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: Box<dyn std::error::Error + Send + Sync>) -> FlussError {
        FlussError { bootstrap: "127.0.0.1:1".into(), what: "connecting".into(), source }
    }

    #[test]
    fn a_cluster_that_answers_but_is_not_ready_is_waited_for_an_unreachable_one_is_not() {
        let not_ready = fluss::error::Error::FlussAPIError {
            api_error: fluss::rpc::ApiError {
                code: -1,
                message: "CoordinatorEventProcessor is not initialized yet.".into(),
            },
        };
        assert!(FlussClient::is_starting(&error(Box::new(not_ready))));
        assert!(FlussClient::is_starting(&error(Box::new(Msg(NO_SERVERS.into())))));
        assert!(!FlussClient::is_starting(&error(Box::new(Msg("no answer within 30s".into())))));
        let refused = fluss::error::Error::UnexpectedError { message: "connection refused".into(), source: None };
        assert!(!FlussClient::is_starting(&error(Box::new(refused))));
    }
}
