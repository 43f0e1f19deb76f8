//! `tradeengine replay`: a workload through the real threads and rings into a
//! store, with exactly-once resume after a crash. Cold path (start-up,
//! tear-down, summary).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use tradeengine_adapters::store::{Names, NoStore, SqliteStore, Store, StoreTotals};
use tradeengine_model::{AccountId, Outcome};

use crate::cold::{persist_journal, EngineMetrics, MetricsHook, MetricsServer, PersistOutcome, PersistParams};
use crate::feed::RunSpec;
use crate::hot::HotCounters;
use crate::pinning::CoreLayout;
use crate::pipeline::{
    result_fields, result_line, run_pipeline, AdminSpec, HotHooks, RunControl, SideFeed, SideInputs,
};
use crate::start_state::StartState;

/// Which store a replay writes.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreChoice {
    /// The embedded default, one SQLite file.
    Sqlite(PathBuf),
    /// Keep nothing (pure benchmarks).
    None,
    /// An Apache Fluss cluster (`--features fluss`), as `[fluss]` configures it.
    #[cfg(feature = "fluss")]
    Fluss(crate::config::FlussSection),
}

/// What to replay.
#[derive(Clone)]
pub struct ReplayParams {
    /// The signals, universe and rules.
    pub spec: RunSpec,
    /// Pace, stop flag and progress counter of the feeder.
    pub feed: RunControl,
    pub store: StoreChoice,
    /// Continue after the store's checkpoint instead of starting a new run.
    pub resume: bool,
    pub persist: PersistParams,
    /// Serve Prometheus metrics at this address during the run (e.g. `127.0.0.1:9464`).
    pub metrics_listen: Option<String>,
    /// Serve the admin endpoint at this address, with this token.
    pub admin: Option<(String, String)>,
}

/// One account's line of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountLine {
    pub account: AccountId,
    pub name: String,
    pub open_positions: u64,
    pub realized_pnl: f64,
    pub unrealized_pnl: f64,
    pub equity: f64,
}

/// A finished replay.
#[derive(Clone, Debug)]
pub struct ReplayRun {
    /// `W1`, `W2` or `FEED`.
    pub tag: &'static str,
    /// What was replayed (workload and seed, or the capture file).
    pub source: String,
    /// Signals of the whole run.
    pub n: u64,
    /// True when the run was stopped (Ctrl-C) before its last signal.
    pub stopped: bool,
    /// Inputs recorded (`--record`), with the file.
    pub recorded: Option<(u64, std::path::PathBuf)>,
    /// The changelog follower's line, with the positions this engine holds
    /// on its own accounts and sees on other engines' accounts.
    pub follow: Option<String>,
    pub store: &'static str,
    /// First input of this run (0, or the checkpoint + 1 on resume).
    pub start_seq: u64,
    /// Hot-thread seconds of this run.
    pub secs: f64,
    pub counters: HotCounters,
    pub persist: PersistOutcome,
    /// Whole-run totals (read back from the store, or from the engine for `none`).
    pub totals: StoreTotals,
    pub accounts: Vec<AccountLine>,
    pub layout: CoreLayout,
}

impl ReplayRun {
    /// Signals per second of this run, end to end (hot thread time; the store
    /// keeps up or pushes back through the journal ring).
    pub fn signals_per_s(&self) -> f64 {
        self.counters.signals as f64 / self.secs.max(1e-9)
    }

    /// The whole run's result fields, as `bench w1` prints them before `secs=`.
    pub fn result_fields(&self) -> String {
        result_fields(self.tag, self.n, &self.totals)
    }

    /// The `W1 …` line (secs and rate of this run).
    pub fn result_line(&self) -> String {
        result_line(&self.result_fields(), self.secs, self.signals_per_s())
    }

    /// The human summary printed before the result line.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let c = &self.counters;
        let _ = writeln!(
            s,
            "replay {} into {}: inputs {}..{} ({} signals this run)",
            self.source, self.store, self.start_seq, self.n, c.signals
        );
        if self.stopped {
            let _ = writeln!(
                s,
                "stopped early: {} of {} signals applied and persisted; continue with --resume",
                self.start_seq + c.signals,
                self.n
            );
        }
        let _ = writeln!(s, "routed: {} BUY, {} SELL; dropped: {}", c.routed_buy, c.routed_sell, c.dropped());
        if let Some(f) = &self.follow {
            let _ = writeln!(s, "{f}");
        }
        for o in Outcome::ALL.iter().filter(|o| o.is_drop()) {
            let n = c.dropped_by[*o as usize];
            if n > 0 {
                let _ = writeln!(s, "  dropped {:<22} {n}", o.name());
            }
        }
        let p = &self.persist;
        let _ = writeln!(
            s,
            "fills: {}; journal records: {}; store commits: {} (slowest {:.1} ms, {:.2} s in all); checkpoint: {}",
            c.fills,
            p.records,
            p.commits,
            p.max_commit_secs * 1e3,
            p.commit_secs,
            p.through.map_or("none".to_string(), |t| t.to_string())
        );
        let _ = writeln!(
            s,
            "{:<12} {:>6} {:>16} {:>16} {:>18}",
            "account", "open", "realized_pnl", "unrealized_pnl", "equity"
        );
        let show: Vec<&AccountLine> = if self.accounts.len() <= 20 {
            self.accounts.iter().collect()
        } else {
            let mut by_equity: Vec<&AccountLine> = self.accounts.iter().collect();
            by_equity.sort_by(|a, b| b.equity.total_cmp(&a.equity));
            let n = by_equity.len();
            by_equity[..5].iter().chain(by_equity[n - 5..].iter()).copied().collect()
        };
        for (i, a) in show.iter().enumerate() {
            if self.accounts.len() > 20 && i == 5 {
                let _ = writeln!(
                    s,
                    "  … {} accounts between (top 5 and bottom 5 by equity shown)",
                    self.accounts.len() - 10
                );
            }
            let _ = writeln!(
                s,
                "{:<12} {:>6} {:>16.6} {:>16.6} {:>18.6}",
                a.name, a.open_positions, a.realized_pnl, a.unrealized_pnl, a.equity
            );
        }
        let eq: f64 = self.accounts.iter().map(|a| a.equity).sum();
        let _ = writeln!(s, "{:<12} {:>6} {:>16} {:>16} {:>18.6}", "all", "", "", "", eq);
        if let Some((n, path)) = &self.recorded {
            let _ = writeln!(s, "recorded: {n} inputs to {}", path.display());
        }
        let _ = writeln!(s, "throughput: {:.0} signals/s ({:.3} s)", self.signals_per_s(), self.secs);
        s
    }
}

enum ReplayStore {
    Sqlite(Box<SqliteStore>),
    None(NoStore),
    #[cfg(feature = "fluss")]
    Fluss(Box<tradeengine_fluss::FlussStore>),
}

impl ReplayStore {
    fn as_store(&mut self) -> &mut dyn Store {
        match self {
            ReplayStore::Sqlite(s) => s.as_mut(),
            ReplayStore::None(s) => s,
            #[cfg(feature = "fluss")]
            ReplayStore::Fluss(s) => s.as_mut(),
        }
    }
}

/// The Fluss changelog follower, when the store is Fluss and follows the
/// changelogs.
fn side_feed(store: &ReplayStore, cfg: &crate::config::Config, names: &Names) -> Option<SideFeed> {
    let _ = (cfg, names);
    match store {
        #[cfg(feature = "fluss")]
        ReplayStore::Fluss(s) => crate::fluss::changelog_feed(cfg, s, names),
        _ => None,
    }
}

/// Replays `p.workload` into the chosen store.
pub fn run_replay(p: &ReplayParams, hooks: HotHooks) -> anyhow::Result<ReplayRun> {
    let spec = &p.spec;
    let cfg = &spec.cfg;
    let names = spec.names.clone();
    let mut store = match &p.store {
        StoreChoice::Sqlite(path) => {
            ReplayStore::Sqlite(Box::new(SqliteStore::open(path, names.clone(), cfg.engine.id)?))
        }
        StoreChoice::None => ReplayStore::None(NoStore),
        #[cfg(feature = "fluss")]
        StoreChoice::Fluss(_) => ReplayStore::Fluss(Box::new(crate::fluss::open_store(cfg, names.clone())?)),
    };
    if p.resume && matches!(p.store, StoreChoice::None) {
        bail!("--resume needs a store that keeps state (--store sqlite)");
    }
    let store_name = match &p.store {
        StoreChoice::Sqlite(path) => path.display().to_string(),
        StoreChoice::None => "the store".into(),
        #[cfg(feature = "fluss")]
        StoreChoice::Fluss(f) => crate::fluss::store_name(f),
    };
    let start =
        StartState::load(store.as_store(), spec.policies.clone(), names.symbols.len(), cfg, p.resume, &store_name)?;
    // Scale-out: the accounts this engine routes (all of them unless `[partition]` splits them).
    let setup = start.hot_setup(
        &cfg.hot_params(spec.slots_per_account),
        &names.accounts,
        cfg.partition.owned(&names.accounts),
    )?;
    let expander = start.journal_expander(cfg.engine.id);
    let StartState { start_seq, policies, mut portfolio, .. } = start;
    let side = SideInputs {
        admin: p.admin.as_ref().map(|(listen, token)| AdminSpec {
            listen: listen.clone(),
            token: token.clone(),
            accounts: names.accounts.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)).collect(),
        }),
        feed: side_feed(&store, cfg, &names),
    };
    let persist_params = p.persist;
    let metrics = EngineMetrics::new();
    let server = match &p.metrics_listen {
        Some(addr) => Some(
            MetricsServer::start(addr, metrics.clone())
                .with_context(|| format!("starting the metrics endpoint on {addr}"))?,
        ),
        None => None,
    };
    if let Some(s) = &server {
        eprintln!("tradeengine: metrics at http://{}/metrics", s.addr());
    }
    let hook = MetricsHook {
        metrics: metrics.clone(),
        accounts: policies.iter().map(|pol| (names.account(pol.account).to_string(), pol.max_open_symbols)).collect(),
        accounts_every: std::time::Duration::from_secs(1),
    };
    let hook = server.as_ref().map(|_| hook);
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = move |journal, wait| {
        let mut params = persist_params;
        params.wait = wait;
        let r = persist_journal(journal, expander, store.as_store(), &mut portfolio, params, hook.as_ref());
        let failed = r.as_ref().err().map(|e| e.to_string());
        let _ = tx.send((store, portfolio, failed));
        r
    };
    let run = run_pipeline(spec, start_seq, p.feed.clone(), hooks, Some(&metrics), side, policies, setup, sink);
    let (mut store, portfolio, failed) =
        rx.recv().map_err(|_| anyhow!("the persistence thread ended without returning the store"))?;
    if let Some(e) = failed {
        bail!(
            "the store stopped the run: {e}\neverything committed before is kept (nothing half-applied): \
             run the same command with --resume to continue after the store's checkpoint"
        );
    }
    let run = run?;
    let persist = run.journal.context("persisting the journal")?;
    if persist.summary.mismatched > 0 {
        bail!(
            "{} fills implied by the journal disagreed with the cold side's position mirror: the stored rollups may be wrong",
            persist.summary.mismatched
        );
    }
    let engine = &run.hot.engine;
    let totals = match &mut store {
        ReplayStore::Sqlite(s) => s.totals()?,
        _ => {
            let c = engine.counters();
            StoreTotals {
                routed_buy: c.routed_buy,
                routed_sell: c.routed_sell,
                dropped: c.dropped(),
                open_positions: engine.open_positions(),
                checksum: engine.checksum(),
                realized_pnl: engine.realized_pnl(),
            }
        }
    };
    // The cold path's valuation (marks from the journal), the same numbers
    // the store's `portfolio` table holds.
    let accounts = (0..names.accounts.len() as u32)
        .filter_map(|a| portfolio.row(a))
        .map(|r| AccountLine {
            account: r.account,
            name: names.account(r.account).to_string(),
            open_positions: r.open_positions as u64,
            realized_pnl: r.realized_pnl,
            unrealized_pnl: r.unrealized_pnl,
            equity: r.equity,
        })
        .collect();
    let applied = start_seq + engine.counters().signals;
    let recorded = run.recorded.zip(p.feed.record.clone());
    let follow = run.side_feed.as_ref().map(|line| {
        format!(
            "{line}; open positions: {} on own accounts, {} seen on other engines' accounts",
            engine.open_positions_of(|a| engine.owns(a)),
            engine.open_positions_of(|a| !engine.owns(a))
        )
    });
    Ok(ReplayRun {
        tag: spec.tag,
        source: spec.describe(),
        n: spec.n,
        recorded,
        follow,
        stopped: p.feed.stop.as_ref().is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed)) && applied < spec.n,
        store: store.as_store().name(),
        start_seq,
        secs: run.hot.secs,
        counters: engine.counters().clone(),
        persist,
        totals,
        accounts,
        layout: run.layout,
    })
}
