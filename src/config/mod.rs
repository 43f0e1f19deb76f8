//! Configuration: TOML (serde), validated, with a documented built-in default
//! (`default.toml`, printed by `tradeengine config default`). Errors name the
//! file, the key and what is wrong. Cold path: allocates freely.

mod accounts;
mod partition;

pub use accounts::{load_accounts_csv, Universe};
pub use partition::PartitionSection;

use std::path::{Path, PathBuf};

use ringbuffers::WaitStrategy;
use serde::{Deserialize, Serialize};
use tradeengine_model::OrderType;

use crate::hot::{HotParams, SizingModel, SizingParams, TieBreak};

/// The built-in default configuration, with its documentation.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// A configuration error: where (file, key or line) and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("config {source_name}: {what}")]
pub struct ConfigError {
    /// The file (or `<built-in>`).
    pub source_name: String,
    /// What is wrong, naming the key.
    pub what: String,
}

/// A core choice: an id, `"auto"` or `"none"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CoreSpec {
    Id(usize),
    Word(String),
}

/// A list of cores, `"auto"` or `"none"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CoreList {
    Ids(Vec<usize>),
    Word(String),
}

/// `[engine]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSection {
    pub id: u32,
    pub hot_core: CoreSpec,
    pub cold_cores: CoreList,
    pub hot_wait: String,
    pub cold_wait: String,
    pub signal_batch: usize,
    pub journal_stage: usize,
}

impl Default for EngineSection {
    fn default() -> Self {
        Self {
            id: 0,
            hot_core: CoreSpec::Word("auto".into()),
            cold_cores: CoreList::Word("auto".into()),
            hot_wait: "busy-spin".into(),
            cold_wait: "spin-then-park".into(),
            signal_batch: 256,
            journal_stage: 4096,
        }
    }
}

/// `[rings]`: capacities in events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RingsSection {
    pub signals: usize,
    pub journal: usize,
    pub control: usize,
    pub policies: usize,
    pub rollups: usize,
    pub orders: usize,
    pub exec_reports: usize,
}

impl Default for RingsSection {
    fn default() -> Self {
        Self {
            signals: 65_536,
            journal: 262_144,
            control: 1024,
            policies: 4096,
            rollups: 16_384,
            orders: 65_536,
            exec_reports: 65_536,
        }
    }
}

/// `[capacity]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CapacitySection {
    pub symbols: usize,
    pub orders: usize,
    pub positions: usize,
}

impl Default for CapacitySection {
    fn default() -> Self {
        Self { symbols: 10_000, orders: 65_536, positions: 0 }
    }
}

/// `[routing]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingSection {
    pub tie_break: String,
    pub allow_scale_in: bool,
}

impl Default for RoutingSection {
    fn default() -> Self {
        Self { tie_break: "lowest-id".into(), allow_scale_in: true }
    }
}

/// `[sizing]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SizingSection {
    pub model: String,
    pub default_qty: f64,
    pub lot_size: f64,
    pub min_qty: f64,
    pub max_qty: f64,
    pub risk_fraction: f64,
    pub vol_halflife: f64,
    pub vol_floor: f64,
}

impl Default for SizingSection {
    fn default() -> Self {
        let p = SizingParams::default();
        Self {
            model: "constant".into(),
            default_qty: p.default_qty,
            lot_size: p.lot_size,
            min_qty: p.min_qty,
            max_qty: p.max_qty,
            risk_fraction: p.risk_fraction,
            vol_halflife: p.vol_halflife,
            vol_floor: p.vol_floor,
        }
    }
}

/// `[risk]`: global kill switch and per-account defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskSection {
    pub kill_switch: bool,
    pub max_order_qty: f64,
    pub max_order_notional: f64,
    pub max_open_orders: u32,
    pub max_capital_usage: f64,
}

impl Default for RiskSection {
    fn default() -> Self {
        Self {
            kill_switch: false,
            max_order_qty: 1_000_000.0,
            max_order_notional: 100_000_000.0,
            max_open_orders: 1000,
            max_capital_usage: 1.0,
        }
    }
}

/// `[accounts]`: the generated universe, or a CSV.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountsSection {
    pub count: u32,
    pub name_prefix: String,
    pub status: String,
    pub max_open_symbols: u32,
    pub initial_capital: f64,
    pub csv: String,
}

impl Default for AccountsSection {
    fn default() -> Self {
        Self {
            count: 10,
            name_prefix: "ACC-".into(),
            status: "ACTIVE".into(),
            max_open_symbols: 20,
            initial_capital: 1_000_000.0,
            csv: String::new(),
        }
    }
}

/// `[portfolio]`: the cold-path portfolio and P&L.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortfolioSection {
    /// Event-time interval between `pnl_timeseries` snapshots, milliseconds (0: none).
    pub snapshot_interval_ms: u64,
}

impl Default for PortfolioSection {
    fn default() -> Self {
        Self { snapshot_interval_ms: 1000 }
    }
}

/// `[admin]`: the operator endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSection {
    /// Where `--admin` serves when no address is given, and `tradeengine admin` connects.
    pub listen: String,
    /// Bearer token; the environment variable `TRADEENGINE_ADMIN_TOKEN` overrides it.
    pub token: String,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self { listen: "127.0.0.1:9465".into(), token: String::new() }
    }
}

impl AdminSection {
    /// The token in force: the environment's, else the config's.
    pub fn effective_token(&self) -> String {
        std::env::var("TRADEENGINE_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()).unwrap_or_else(|| self.token.clone())
    }
}

/// `[live]`: `tradeengine run` — signal ingress, the traded symbols, the FIX session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSection {
    /// Where the signal ingress listens (JSON lines and binary frames).
    pub ingress: String,
    /// The traded symbols in id order (binary frames carry these ids).
    pub symbols: Vec<String>,
    /// The FIX 4.4 venue (acceptor) to connect to.
    pub fix_addr: String,
    pub sender_comp_id: String,
    pub target_comp_id: String,
    pub heartbeat_secs: u32,
    /// Send ResetSeqNumFlag=Y on every logon.
    pub reset_on_logon: bool,
    /// Where the session's sequence numbers persist (relative: to the working directory).
    pub seq_dir: String,
    /// `market`, or `limit` at the signal's close.
    pub order_type: String,
    /// On shutdown, how long to wait for the answers to orders in flight.
    pub drain_secs: u64,
    /// Where signals come from: `ingress` (the TCP ingress) or `fluss` (the
    /// Fluss log table `strategy_signals`; needs `store = "fluss"`).
    pub input: String,
}

impl Default for LiveSection {
    fn default() -> Self {
        Self {
            ingress: "127.0.0.1:9470".into(),
            symbols: Vec::new(),
            fix_addr: "127.0.0.1:9880".into(),
            sender_comp_id: "TE".into(),
            target_comp_id: "EXEC".into(),
            heartbeat_secs: 30,
            reset_on_logon: false,
            seq_dir: "data/fix".into(),
            order_type: "market".into(),
            drain_secs: 5,
            input: "ingress".into(),
        }
    }
}

/// `[fluss]`: the Apache Fluss cluster of `store = "fluss"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlussSection {
    /// Coordinator address(es), `host:port`.
    pub bootstrap_servers: String,
    /// Database holding the engine's tables.
    pub database: String,
    /// How long a commit waits for the cluster's acknowledgement before the
    /// engine stops with an error (its state intact up to the last
    /// checkpoint). Long enough to ride through a tablet server restart.
    pub write_timeout_secs: u64,
    /// Follow the `open_positions_rollup` and `account_policy` changelogs and
    /// apply changes made by anyone else (other engines, manual corrections).
    /// Default: on when `[partition]` splits the accounts between engines.
    pub follow_changelog: Option<bool>,
}

impl Default for FlussSection {
    fn default() -> Self {
        Self {
            bootstrap_servers: "127.0.0.1:9123".into(),
            database: "tradeengine".into(),
            write_timeout_secs: 120,
            follow_changelog: None,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the journal becomes durable state: `sqlite` (embedded, the
    /// default), `fluss` (a cluster, see `[fluss]`) or `none`.
    pub store: String,
    pub engine: EngineSection,
    pub rings: RingsSection,
    pub capacity: CapacitySection,
    pub routing: RoutingSection,
    pub sizing: SizingSection,
    pub risk: RiskSection,
    pub accounts: AccountsSection,
    pub portfolio: PortfolioSection,
    pub admin: AdminSection,
    pub live: LiveSection,
    pub fluss: FlussSection,
    pub partition: PartitionSection,
    /// Where the config came from (for errors and relative paths); not a key.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            store: "sqlite".into(),
            engine: EngineSection::default(),
            rings: RingsSection::default(),
            capacity: CapacitySection::default(),
            routing: RoutingSection::default(),
            sizing: SizingSection::default(),
            risk: RiskSection::default(),
            accounts: AccountsSection::default(),
            portfolio: PortfolioSection::default(),
            admin: AdminSection::default(),
            live: LiveSection::default(),
            fluss: FlussSection::default(),
            partition: PartitionSection::default(),
            source: None,
        }
    }
}

/// Largest ring or table capacity accepted (keeps memory and index maths sane).
pub const MAX_CAPACITY: usize = 1 << 28;
/// Largest `max_open_symbols` accepted.
pub const MAX_OPEN_SYMBOLS: u32 = 4096;

impl Config {
    /// The built-in default (parsed from [`DEFAULT_TOML`], so docs and values agree).
    pub fn builtin() -> Self {
        Self::from_toml_str(DEFAULT_TOML, "<built-in>").expect("the built-in config is valid")
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError { source_name: name.clone(), what: format!("cannot read the file: {e}") })?;
        let mut c = Self::from_toml_str(&text, &name)?;
        c.source = Some(path.to_path_buf());
        Ok(c)
    }

    /// The file at `path`, or the built-in default when `None`.
    pub fn load_or_default(path: Option<&Path>) -> Result<Self, ConfigError> {
        match path {
            Some(p) => Self::load(p),
            None => Ok(Self::builtin()),
        }
    }

    /// Parses and validates TOML text; `name` is used in errors.
    pub fn from_toml_str(text: &str, name: &str) -> Result<Self, ConfigError> {
        let c: Config = toml::from_str(text).map_err(|e| ConfigError {
            source_name: name.to_string(),
            what: format!("{}", e).trim_end().replace('\n', "\n  "),
        })?;
        c.validate().map_err(|what| ConfigError { source_name: name.to_string(), what })?;
        Ok(c)
    }

    /// The name used in errors.
    pub fn source_name(&self) -> String {
        self.source.as_ref().map_or_else(|| "<built-in>".to_string(), |p| p.display().to_string())
    }

    /// Does a Fluss-backed run follow the changelogs (`fluss.follow_changelog`,
    /// by default whenever `[partition]` splits the accounts)?
    pub fn follows_changelog(&self) -> bool {
        self.fluss.follow_changelog.unwrap_or(self.partition.is_split())
    }

    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        self.partition.check()?;
        if !matches!(self.live.input.as_str(), "ingress" | "fluss") {
            return Err(format!("key `live.input`: unknown input `{}` (expected ingress or fluss)", self.live.input));
        }
        if self.live.input == "fluss" && self.store != "fluss" {
            return Err("key `live.input` = \"fluss\" needs `store = \"fluss\"`".into());
        }
        let r = &self.rings;
        for (k, v) in [
            ("rings.signals", r.signals),
            ("rings.journal", r.journal),
            ("rings.control", r.control),
            ("rings.policies", r.policies),
            ("rings.rollups", r.rollups),
            ("rings.orders", r.orders),
            ("rings.exec_reports", r.exec_reports),
        ] {
            in_range(k, v, 2, MAX_CAPACITY)?;
        }
        let e = &self.engine;
        parse_core_spec(&e.hot_core).map_err(|w| format!("key `engine.hot_core`: {w}"))?;
        parse_core_list(&e.cold_cores).map_err(|w| format!("key `engine.cold_cores`: {w}"))?;
        parse_wait(&e.hot_wait).map_err(|w| format!("key `engine.hot_wait`: {w}"))?;
        parse_wait(&e.cold_wait).map_err(|w| format!("key `engine.cold_wait`: {w}"))?;
        in_range("engine.signal_batch", e.signal_batch, 1, self.rings.signals.max(1))?;
        in_range("engine.journal_stage", e.journal_stage, 16, self.rings.journal.max(16))?;
        in_range("capacity.symbols", self.capacity.symbols, 1, MAX_CAPACITY)?;
        in_range("capacity.orders", self.capacity.orders, 1, MAX_CAPACITY)?;
        if self.capacity.positions > MAX_CAPACITY {
            return Err(format!(
                "key `capacity.positions`: {} is above the limit {MAX_CAPACITY}",
                self.capacity.positions
            ));
        }
        parse_tie_break(&self.routing.tie_break).map_err(|w| format!("key `routing.tie_break`: {w}"))?;
        self.sizing_params()?;
        let k = &self.risk;
        positive("risk.max_order_qty", k.max_order_qty)?;
        positive("risk.max_order_notional", k.max_order_notional)?;
        positive("risk.max_capital_usage", k.max_capital_usage)?;
        let a = &self.accounts;
        parse_status(&a.status).map_err(|w| format!("key `accounts.status`: {w}"))?;
        if a.csv.is_empty() && a.count == 0 {
            return Err("key `accounts.count`: at least one account is needed (or set `accounts.csv`)".into());
        }
        if a.max_open_symbols == 0 || a.max_open_symbols > MAX_OPEN_SYMBOLS {
            return Err(format!(
                "key `accounts.max_open_symbols`: {} is outside 1..={MAX_OPEN_SYMBOLS}",
                a.max_open_symbols
            ));
        }
        positive("accounts.initial_capital", a.initial_capital)?;
        if !self.admin.listen.is_empty() && self.admin.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!("key `admin.listen`: `{}` is not an address like 127.0.0.1:9465", self.admin.listen));
        }
        if !matches!(self.store.as_str(), "sqlite" | "fluss" | "none") {
            return Err(format!("key `store`: unknown store `{}` (expected sqlite, fluss or none)", self.store));
        }
        if self.fluss.database.is_empty() || self.fluss.bootstrap_servers.is_empty() {
            return Err("keys `fluss.bootstrap_servers` and `fluss.database` must not be empty".into());
        }
        let l = &self.live;
        for (k, v) in [("live.ingress", &l.ingress), ("live.fix_addr", &l.fix_addr)] {
            if v.parse::<std::net::SocketAddr>().is_err() {
                return Err(format!("key `{k}`: `{v}` is not an address like 127.0.0.1:9470"));
            }
        }
        for (k, v) in [("live.sender_comp_id", &l.sender_comp_id), ("live.target_comp_id", &l.target_comp_id)] {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_graphic() && b != b'=') {
                return Err(format!("key `{k}`: `{v}` must be printable ASCII without `=`"));
            }
        }
        if !(1..=3600).contains(&l.heartbeat_secs) {
            return Err(format!("key `live.heartbeat_secs`: {} is outside 1..=3600", l.heartbeat_secs));
        }
        if !matches!(l.order_type.as_str(), "market" | "limit") {
            return Err(format!(
                "key `live.order_type`: unknown order type `{}` (expected market or limit)",
                l.order_type
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &l.symbols {
            if s.is_empty() || s.contains(['\n', '\r', '\u{1}', '|']) || !seen.insert(s) {
                return Err(format!(
                    "key `live.symbols`: `{}` is empty, has a control character, or appears twice",
                    s.escape_debug()
                ));
            }
        }
        if self.portfolio.snapshot_interval_ms > 86_400_000 {
            return Err(format!(
                "key `portfolio.snapshot_interval_ms`: {} is above one day (86400000)",
                self.portfolio.snapshot_interval_ms
            ));
        }
        Ok(())
    }

    /// The sizing parameters (validated).
    pub fn sizing_params(&self) -> Result<SizingParams, String> {
        let s = &self.sizing;
        let model = match s.model.as_str() {
            "constant" => SizingModel::Constant,
            "volatility" => SizingModel::Volatility,
            other => {
                return Err(format!("key `sizing.model`: unknown model `{other}` (expected constant or volatility)"))
            }
        };
        positive("sizing.default_qty", s.default_qty)?;
        positive("sizing.lot_size", s.lot_size)?;
        positive("sizing.max_qty", s.max_qty)?;
        positive("sizing.risk_fraction", s.risk_fraction)?;
        positive("sizing.vol_halflife", s.vol_halflife)?;
        positive("sizing.vol_floor", s.vol_floor)?;
        if !(s.min_qty.is_finite() && s.min_qty >= 0.0) {
            return Err(format!("key `sizing.min_qty`: {} must be zero or positive", s.min_qty));
        }
        if s.min_qty > s.max_qty {
            return Err(format!("key `sizing.min_qty`: {} is above `sizing.max_qty` ({})", s.min_qty, s.max_qty));
        }
        Ok(SizingParams {
            model,
            default_qty: s.default_qty,
            lot_size: s.lot_size,
            min_qty: s.min_qty,
            max_qty: s.max_qty,
            risk_fraction: s.risk_fraction,
            vol_halflife: s.vol_halflife,
            vol_floor: s.vol_floor,
        })
    }

    /// The hot engine's parameters for a universe whose largest
    /// `maxOpenSymbols` is `slots_per_account`.
    pub fn hot_params(&self, slots_per_account: usize) -> HotParams {
        HotParams {
            engine_id: self.engine.id,
            symbols: self.capacity.symbols,
            slots_per_account,
            position_pool: self.capacity.positions,
            order_capacity: self.capacity.orders,
            tie_break: parse_tie_break(&self.routing.tie_break).unwrap_or(TieBreak::LowestId),
            allow_scale_in: self.routing.allow_scale_in,
            sizing: self.sizing_params().unwrap_or_default(),
            kill_switch: self.risk.kill_switch,
            journal_stage: self.engine.journal_stage,
            order_type: if self.live.order_type == "limit" { OrderType::Limit } else { OrderType::Market },
        }
    }

    /// The hot thread's wait strategy.
    pub fn hot_wait(&self) -> WaitStrategy {
        parse_wait(&self.engine.hot_wait).unwrap_or(WaitStrategy::BusySpin)
    }

    /// The cold threads' wait strategy.
    pub fn cold_wait(&self) -> WaitStrategy {
        parse_wait(&self.engine.cold_wait).unwrap_or(WaitStrategy::SpinThenPark { park: WaitStrategy::DEFAULT_PARK })
    }

    /// The effective configuration as TOML (no comments).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// A resolved core choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreChoice {
    Auto,
    Unpinned,
    Core(usize),
}

/// Parses `engine.hot_core`.
pub fn parse_core_spec(c: &CoreSpec) -> Result<CoreChoice, String> {
    match c {
        CoreSpec::Id(i) => Ok(CoreChoice::Core(*i)),
        CoreSpec::Word(w) if w == "auto" => Ok(CoreChoice::Auto),
        CoreSpec::Word(w) if w == "none" => Ok(CoreChoice::Unpinned),
        CoreSpec::Word(w) => Err(format!("`{w}` is not a core id, \"auto\" or \"none\"")),
    }
}

/// A resolved core list choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreListChoice {
    Auto,
    Unpinned,
    Cores(Vec<usize>),
}

/// Parses `engine.cold_cores`.
pub fn parse_core_list(c: &CoreList) -> Result<CoreListChoice, String> {
    match c {
        CoreList::Ids(v) if v.is_empty() => Err("an empty list (use \"none\" to leave cold threads unpinned)".into()),
        CoreList::Ids(v) => Ok(CoreListChoice::Cores(v.clone())),
        CoreList::Word(w) if w == "auto" => Ok(CoreListChoice::Auto),
        CoreList::Word(w) if w == "none" => Ok(CoreListChoice::Unpinned),
        CoreList::Word(w) => Err(format!("`{w}` is not a list of core ids, \"auto\" or \"none\"")),
    }
}

fn parse_wait(s: &str) -> Result<WaitStrategy, String> {
    s.parse()
}

fn parse_tie_break(s: &str) -> Result<TieBreak, String> {
    match s {
        "lowest-id" => Ok(TieBreak::LowestId),
        "round-robin" => Ok(TieBreak::RoundRobin),
        other => Err(format!("unknown tie-break `{other}` (expected lowest-id or round-robin)")),
    }
}

/// Parses an account status (`ACTIVE` / `BLOCKED`, any case).
pub fn parse_status(s: &str) -> Result<tradeengine_model::AccountStatus, String> {
    match s.trim().to_ascii_uppercase().as_str() {
        "ACTIVE" => Ok(tradeengine_model::AccountStatus::Active),
        "BLOCKED" => Ok(tradeengine_model::AccountStatus::Blocked),
        _ => Err(format!("unknown status `{s}` (expected ACTIVE or BLOCKED)")),
    }
}

fn in_range(key: &str, v: usize, lo: usize, hi: usize) -> Result<(), String> {
    if v < lo || v > hi {
        Err(format!("key `{key}`: {v} is outside {lo}..={hi}"))
    } else {
        Ok(())
    }
}

fn positive(key: &str, v: f64) -> Result<(), String> {
    if v.is_nan() || v <= 0.0 {
        Err(format!("key `{key}`: {v} must be a positive number"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_text_matches_the_defaults() {
        let parsed: Config = toml::from_str(DEFAULT_TOML).unwrap();
        assert_eq!(parsed, Config::default());
        assert_eq!(Config::from_toml_str("", "empty").unwrap(), Config::default());
        assert_eq!(Config::builtin().accounts.count, 10);
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let e = Config::from_toml_str("[engine]\nsignal_batch = 0\n", "a.toml").unwrap_err();
        assert_eq!(e.to_string(), "config a.toml: key `engine.signal_batch`: 0 is outside 1..=65536");
        let e = Config::from_toml_str("[routing]\ntie_break = \"random\"\n", "b.toml").unwrap_err();
        assert!(e.to_string().contains("key `routing.tie_break`: unknown tie-break `random`"), "{e}");
        let e = Config::from_toml_str("[engine]\nhot_core = \"fast\"\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("`engine.hot_core`"), "{e}");
        let e = Config::from_toml_str("[sizing]\nmodel = \"kelly\"\n", "d.toml").unwrap_err();
        assert!(e.to_string().contains("key `sizing.model`: unknown model `kelly`"), "{e}");
        let e = Config::from_toml_str("[risk]\nmax_order_qty = -1.0\n", "e.toml").unwrap_err();
        assert!(e.to_string().contains("key `risk.max_order_qty`"), "{e}");
        let e = Config::from_toml_str("[admin]\nlisten = \"localhost\"\n", "f.toml").unwrap_err();
        assert!(e.to_string().contains("key `admin.listen`: `localhost` is not an address"), "{e}");
    }

    #[test]
    fn toml_errors_keep_the_location() {
        let e = Config::from_toml_str("[engine]\nbogus = 1\n", "f.toml").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("config f.toml:"), "{s}");
        assert!(s.contains("bogus") && s.contains("line 2"), "{s}");
        let e = Config::from_toml_str("[rings]\nsignals = \"big\"\n", "g.toml").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn cores_accept_ids_and_words() {
        let c = Config::from_toml_str("[engine]\nhot_core = 1\ncold_cores = [0]\n", "h").unwrap();
        assert_eq!(parse_core_spec(&c.engine.hot_core), Ok(CoreChoice::Core(1)));
        assert_eq!(parse_core_list(&c.engine.cold_cores), Ok(CoreListChoice::Cores(vec![0])));
        let c = Config::from_toml_str("[engine]\nhot_core = \"none\"\n", "i").unwrap();
        assert_eq!(parse_core_spec(&c.engine.hot_core), Ok(CoreChoice::Unpinned));
        assert!(Config::from_toml_str("[engine]\ncold_cores = []\n", "j").is_err());
    }
}
