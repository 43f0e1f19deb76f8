//! The TradeEngine tables in Fluss, mirroring the SQLite store's columns
//! (same names, same order, same CSV in `store dump`): primary-key tables
//! for state, log tables for history. Log tables keep their history for ten
//! years (`table.log.ttl`), not Fluss's default seven days.

/// A column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    /// 64-bit integer (ids, sequence numbers, event times).
    Int,
    /// 64-bit float (prices, quantities, money).
    Real,
    /// Text (names, states).
    Text,
}

/// One table: its columns and primary key (empty for log tables).
#[derive(Clone, Copy, Debug)]
pub struct TableSchema {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Col)],
    pub primary_key: &'static [&'static str],
}

impl TableSchema {
    /// True for a primary-key (KV) table.
    pub fn is_kv(&self) -> bool {
        !self.primary_key.is_empty()
    }

    /// Position of column `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.0 == name)
    }
}

use Col::*;

/// Every table: the engine's tables in `store dump` order, then Fluss's own.
pub const SCHEMAS: &[TableSchema] = &[
    TableSchema {
        name: "open_positions_rollup",
        columns: &[
            ("account", Text),
            ("symbol", Text),
            ("net_qty", Real),
            ("avg_price", Real),
            ("realized_pnl", Real),
            ("last_price", Real),
            ("engine", Int),
            ("seq", Int),
            ("ts_event", Int),
        ],
        primary_key: &["account", "symbol"],
    },
    TableSchema {
        name: "portfolio",
        columns: &[
            ("account", Text),
            ("initial_capital", Real),
            ("cash", Real),
            ("equity", Real),
            ("realized_pnl", Real),
            ("unrealized_pnl", Real),
            ("gross_exposure", Real),
            ("net_exposure", Real),
            ("open_positions", Int),
            ("capital_usage_pct", Real),
            ("peak_equity", Real),
            ("drawdown_pct", Real),
            ("fills", Int),
            ("seq", Int),
            ("ts_event", Int),
        ],
        primary_key: &["account"],
    },
    TableSchema {
        name: "orders",
        columns: &[
            ("order_id", Int),
            ("account", Text),
            ("symbol", Text),
            ("side", Text),
            ("state", Text),
            ("qty", Real),
            ("price", Real),
            ("cum_qty", Real),
            ("seq", Int),
            ("ts_event", Int),
        ],
        primary_key: &["order_id"],
    },
    TableSchema {
        name: "account_policy",
        columns: &[
            ("account", Text),
            ("status", Text),
            ("kill", Int),
            ("buys_blocked", Int),
            ("max_open_symbols", Int),
            ("max_open_orders", Int),
            ("initial_capital", Real),
            ("max_order_qty", Real),
            ("max_order_notional", Real),
            ("max_capital_usage", Real),
            ("seq", Int),
        ],
        primary_key: &["account"],
    },
    TableSchema {
        name: "engine_checkpoint",
        columns: &[
            ("engine_id", Int),
            ("last_seq", Int),
            ("last_ts_event", Int),
            ("kill_switch", Int),
            ("updated_unix_ns", Int),
        ],
        primary_key: &["engine_id"],
    },
    TableSchema {
        name: "trade_signals",
        columns: &[
            ("seq", Int),
            ("ts_event", Int),
            ("strategy", Int),
            ("symbol", Text),
            ("side", Text),
            ("outcome", Text),
            ("route", Text),
            ("account", Text),
            ("order_id", Int),
            ("qty", Real),
            ("price", Real),
        ],
        primary_key: &[],
    },
    TableSchema {
        name: "fills",
        columns: &[
            ("seq", Int),
            ("ts_event", Int),
            ("order_id", Int),
            ("account", Text),
            ("symbol", Text),
            ("side", Text),
            ("qty", Real),
            ("price", Real),
            ("cum_qty", Real),
            ("order_state", Text),
        ],
        primary_key: &[],
    },
    TableSchema {
        name: "pnl_timeseries",
        columns: &[
            ("ts_event", Int),
            ("account", Text),
            ("cash", Real),
            ("equity", Real),
            ("realized_pnl", Real),
            ("unrealized_pnl", Real),
            ("drawdown_pct", Real),
        ],
        primary_key: &[],
    },
    TableSchema {
        name: "risk_events",
        columns: &[
            ("seq", Int),
            ("ts_event", Int),
            ("account", Text),
            ("symbol", Text),
            ("side", Text),
            ("rule", Text),
            ("value", Real),
            ("limit_value", Real),
            ("action", Text),
        ],
        primary_key: &[],
    },
    TableSchema { name: "symbol_marks", columns: &[("symbol", Text), ("price", Real)], primary_key: &["symbol"] },
    // Fluss only: the commit in progress (see `FlussStore`): `table=offset`
    // for where its log rows start and where the primary-key changelogs it
    // writes ended, so a restart after a crash mid-commit skips the log rows
    // that already landed and starts from the checkpoint's state.
    TableSchema {
        name: "engine_pending",
        columns: &[("engine_id", Int), ("through", Int), ("log_offsets", Text)],
        primary_key: &["engine_id"],
    },
    // Fluss only: live signals (`[live] input = "fluss"`); a row's log offset
    // is its input sequence number.
    TableSchema {
        name: "strategy_signals",
        columns: &[
            ("run_id", Text),
            ("symbol", Text),
            ("ts_event", Int),
            ("close", Real),
            ("sma5", Real),
            ("sma21", Real),
            ("side", Text),
            ("strength", Real),
        ],
        primary_key: &[],
    },
];

/// The schema of `name`.
pub fn schema(name: &str) -> Option<&'static TableSchema> {
    SCHEMAS.iter().find(|t| t.name == name)
}

/// How long log tables keep their records.
pub const LOG_TTL: &str = "3650d";
