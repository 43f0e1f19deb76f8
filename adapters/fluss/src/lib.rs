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

use fluss::client::{FlussConnection, EARLIEST_OFFSET};
use fluss::config::Config;
use fluss::metadata::{DataTypes, Schema, TableDescriptor, TablePath};
use fluss::row::{GenericRow, InternalRow};

pub use schema::{schema, Col, TableSchema, SCHEMAS};
pub use store::FlussStore;

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
    Text(String),
    Null,
}

impl Value {
    /// The cell as SQLite's CSV dump writes it.
    pub fn to_csv(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Real(v) => format!("{v:?}"),
            Value::Text(s) => s.clone(),
            Value::Null => String::new(),
        }
    }
}

/// A row of cells in schema column order.
pub type Row = Vec<Value>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Msg(String);

/// A connection to a Fluss cluster with its own runtime (a blocking facade
/// for cold threads).
pub struct FlussClient {
    rt: tokio::runtime::Runtime,
    conn: FlussConnection,
    bootstrap: String,
    database: String,
}

impl FlussClient {
    /// Connects to `bootstrap` (e.g. `127.0.0.1:9123`) within `timeout`; the
    /// tables live in `database`.
    pub fn connect(bootstrap: &str, database: &str, timeout: Duration) -> Result<Self, FlussError> {
        let err = |what: &str, e: Box<dyn std::error::Error + Send + Sync>| FlussError {
            bootstrap: bootstrap.to_string(),
            what: what.to_string(),
            source: e,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("te-fluss")
            .enable_all()
            .build()
            .map_err(|e| err("starting the client runtime", Box::new(e)))?;
        let config = Config { bootstrap_servers: bootstrap.to_string(), ..Default::default() };
        let conn = rt
            .block_on(async { tokio::time::timeout(timeout, FlussConnection::new(config)).await })
            .map_err(|_| err("connecting", Box::new(Msg(format!("no answer within {timeout:?}")))))?
            .map_err(|e| err("connecting", Box::new(e)))?;
        let c = Self { rt, conn, bootstrap: bootstrap.to_string(), database: database.to_string() };
        // A real round trip: the cluster must list its servers.
        let nodes = c.server_nodes()?;
        if nodes.is_empty() {
            return Err(c.err("connecting", Msg("the cluster lists no servers".into())));
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
            self.rt
                .block_on(admin.create_table(&self.path(t.name), &d, true))
                .map_err(|e| self.err(&format!("creating table {}", t.name), e))?;
        }
        Ok(())
    }

    /// The table names the database holds.
    pub fn tables(&self) -> Result<Vec<String>, FlussError> {
        let admin = self.conn.get_admin().map_err(|e| self.err("admin", e))?;
        self.rt.block_on(admin.list_tables(&self.database)).map_err(|e| self.err("listing tables", e))
    }

    fn generic(t: &TableSchema, row: &[Value]) -> GenericRow<'static> {
        let mut g = GenericRow::new(t.columns.len());
        for (i, v) in row.iter().enumerate() {
            match v {
                Value::Int(x) => g.set_field(i, *x),
                Value::Real(x) => g.set_field(i, *x),
                Value::Text(s) => g.set_field(i, s.clone()),
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
                Col::Text => Value::Text(r.get_string(i)?.to_string()),
            });
        }
        Ok(out)
    }

    fn table_schema(&self, table: &str) -> Result<&'static TableSchema, FlussError> {
        schema(table).ok_or_else(|| self.err("table", Msg(format!("unknown table `{table}`"))))
    }

    /// Appends rows to a log table and waits until they are acknowledged.
    pub fn append(&self, table: &str, rows: &[Row]) -> Result<(), FlussError> {
        let t = self.table_schema(table)?;
        self.rt
            .block_on(async {
                let tbl = self.conn.get_table(&self.path(table)).await?;
                let w = tbl.new_append()?.create_writer()?;
                for r in rows {
                    w.append(&Self::generic(t, r))?;
                }
                w.flush().await
            })
            .map_err(|e| self.err(&format!("appending to {table}"), e))
    }

    /// Upserts rows (`delete` = false) or deletes them by key (`delete` =
    /// true) in a primary-key table, and waits until acknowledged.
    pub fn upsert(&self, table: &str, rows: &[Row], delete: bool) -> Result<(), FlussError> {
        let t = self.table_schema(table)?;
        self.rt
            .block_on(async {
                let tbl = self.conn.get_table(&self.path(table)).await?;
                let w = tbl.new_upsert()?.create_writer()?;
                for r in rows {
                    let g = Self::generic(t, r);
                    if delete {
                        w.delete(&g)?;
                    } else {
                        w.upsert(&g)?;
                    }
                }
                w.flush().await
            })
            .map_err(|e| self.err(&format!("writing {table}"), e))
    }

    /// Looks a primary-key row up by its key cells.
    pub fn lookup(&self, table: &str, key: &[Value]) -> Result<Option<Row>, FlussError> {
        let t = self.table_schema(table)?;
        self.rt
            .block_on(async {
                let tbl = self.conn.get_table(&self.path(table)).await?;
                let mut l = tbl.new_lookup()?.create_lookuper()?;
                let mut k = GenericRow::new(key.len());
                for (i, v) in key.iter().enumerate() {
                    match v {
                        Value::Int(x) => k.set_field(i, *x),
                        Value::Real(x) => k.set_field(i, *x),
                        Value::Text(s) => k.set_field(i, s.clone()),
                        Value::Null => k.set_field(i, None::<&()>),
                    }
                }
                let res = l.lookup(&k).await?;
                match res.get_single_row()? {
                    Some(r) => Ok(Some(Self::read(t, &r)?)),
                    None => Ok(None),
                }
            })
            .map_err(|e: fluss::error::Error| self.err(&format!("looking up {table}"), e))
    }

    /// Reads a log table (or a primary-key table's changelog) from the start,
    /// until no record came for `quiet`. Rows come with their change type
    /// (`+A` append, `+I`, `-U`, `+U`, `-D`).
    pub fn scan(&self, table: &str, quiet: Duration) -> Result<Vec<(String, Row)>, FlussError> {
        let t = self.table_schema(table)?;
        self.rt
            .block_on(async {
                let tbl = self.conn.get_table(&self.path(table)).await?;
                let s = tbl.new_scan().create_log_scanner()?;
                s.subscribe(0, EARLIEST_OFFSET).await?;
                let mut out = Vec::new();
                let mut last = Instant::now();
                while last.elapsed() < quiet {
                    let recs = s.poll(Duration::from_millis(200)).await?;
                    if !recs.is_empty() {
                        last = Instant::now();
                    }
                    for r in recs {
                        let kind = format!("{:?}", r.change_type());
                        out.push((kind, Self::read(t, r.row())?));
                    }
                }
                Ok(out)
            })
            .map_err(|e: fluss::error::Error| self.err(&format!("scanning {table}"), e))
    }
}
