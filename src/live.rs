//! `tradeengine run`: the live engine. Signals arrive on the TCP ingress,
//! the pinned hot thread routes, sizes and risk-checks them and sends orders
//! over the orders ring to the FIX adapter thread; execution reports come
//! back over the exec-reports ring; the journal goes to the store (SQLite,
//! or Fluss, whose `strategy_signals` log can also be the signal input and
//! whose changelogs bring other engines' changes).
//! Cold path (start-up, supervision, shutdown).
//!
//! Shutdown (Ctrl-C or [`LiveControl::stop`]): stop taking signals, wait up
//! to `live.drain_secs` for the answers to orders in flight, then close the
//! hot thread's input, flush the store, log out of the FIX session.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use tradeengine_adapters::fix::{FixApp, FixLink, LinkConfig, LinkReport, SeqStore, Session, SessionConfig};
use tradeengine_adapters::ingress::Ingress;
use tradeengine_adapters::store::{Names, SqliteStore, Store};

use crate::cold::{persist_journal, PersistOutcome, PersistParams};
use crate::config::{Config, Universe};
use crate::feeder::spawn_recorder;
use crate::hot::{HotCounters, RingVenue};
use crate::pinning::{pin_current, CoreLayout};
use crate::pipeline::{spawn_hot, HotHooks, HotRings, OuterEnds, SideFeed};
use crate::start_state::StartState;
use tradeengine_adapters::feeds::Dictionary;

/// What `run` was asked to do.
#[derive(Clone, Debug)]
pub struct LiveParams {
    /// The SQLite store.
    pub db: PathBuf,
    /// Continue the run the store holds.
    pub resume: bool,
    /// Record every consumed input here.
    pub record: Option<PathBuf>,
    /// Override `live.ingress` (e.g. port 0 in tests).
    pub ingress: Option<SocketAddr>,
    /// Override `live.fix_addr`.
    pub fix_addr: Option<SocketAddr>,
}

/// Asks a running engine to shut down, and tells where its ingress listens.
#[derive(Clone, Default)]
pub struct LiveControl {
    stop: Arc<AtomicBool>,
    ingress: Arc<std::sync::OnceLock<SocketAddr>>,
}

impl LiveControl {
    /// Starts the shutdown.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The flag Ctrl-C sets.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// The ingress address, once listening.
    pub fn ingress_addr(&self) -> Option<SocketAddr> {
        self.ingress.get().copied()
    }
}

/// A finished live run.
#[derive(Clone, Debug)]
pub struct LiveRun {
    pub start_seq: u64,
    pub counters: HotCounters,
    pub persist: PersistOutcome,
    pub fix: Option<LinkReport>,
    pub orders_sent: u64,
    pub reports: u64,
    pub refused_signals: u64,
    pub recorded: Option<u64>,
    /// The changelog follower's line (Fluss), when it ran.
    pub follow: Option<String>,
    /// Orders still open when the drain time ran out.
    pub open_orders: usize,
}

impl LiveRun {
    /// The summary printed at the end.
    pub fn summary(&self) -> String {
        let c = &self.counters;
        let mut s = format!(
            "run: inputs from {}: {} signals ({} refused at the ingress); routed {} BUY, {} SELL; dropped {}\n",
            self.start_seq,
            c.signals,
            self.refused_signals,
            c.routed_buy,
            c.routed_sell,
            c.dropped()
        );
        s += &format!(
            "fix: {} orders sent, {} execution reports; fills applied {}; orders open at exit {}\n",
            self.orders_sent, self.reports, c.fills, self.open_orders
        );
        if let Some(f) = &self.fix {
            s += &format!(
                "fix session: {} logons, {} resend requests, {} gap fills, {} rejects; app: {} acks, {} fills, {} rejected, {} cancel rejects\n",
                f.session.logons,
                f.session.resend_requests_sent,
                f.session.gap_fills_sent,
                f.session.rejects_received,
                f.app.acks,
                f.app.fills,
                f.app.rejected,
                f.app.cancel_rejects
            );
        }
        s += &format!(
            "store: {} records in {} commits; checkpoint {}\n",
            self.persist.records,
            self.persist.commits,
            self.persist.through.map_or("none".into(), |t| t.to_string())
        );
        if let Some(n) = self.recorded {
            s += &format!("recorded: {n} inputs\n");
        }
        if let Some(f) = &self.follow {
            s += &format!("{f}\n");
        }
        s
    }
}

/// Runs the live engine until `control` is stopped.
pub fn run_live(cfg: &Config, p: &LiveParams, control: &LiveControl, hooks: HotHooks) -> anyhow::Result<LiveRun> {
    let live = &cfg.live;
    if live.symbols.is_empty() {
        bail!("live.symbols is empty: list the traded symbols in the config's [live] section");
    }
    let universe = Universe::from_config(cfg)?;
    let mut cfg = cfg.clone();
    cfg.capacity.symbols = cfg.capacity.symbols.max(live.symbols.len());
    let cfg = &cfg;
    let names = Names { accounts: universe.accounts.names().to_vec(), symbols: live.symbols.clone() };
    let (mut store, store_name, side_feed) = open_store(cfg, p, &names)?;
    let start =
        StartState::load(store.as_mut(), universe.policies.clone(), names.symbols.len(), cfg, p.resume, &store_name)?;
    // Scale-out: the accounts this engine routes (all of them unless `[partition]` splits them).
    let params = cfg.hot_params(universe.max_open_symbols());
    let setup = start.hot_setup(&params, &names.accounts, cfg.partition.owned(&names.accounts))?;
    let expander = start.journal_expander(cfg.engine.id);
    let StartState { start_seq, policies, mut portfolio, .. } = start;

    let layout = CoreLayout::resolve(cfg);
    for w in &layout.warnings {
        eprintln!("tradeengine: warning: {w}");
    }
    let (mut rings, ends) = HotRings::new(cfg, true);
    let OuterEnds { signals_tx, journal_rx, orders_tx, orders_rx, exec_tx, policies_tx, rollups_tx, .. } = ends;
    let (orders_tx, orders_rx, exec_tx) = match (orders_tx, orders_rx, exec_tx) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => bail!("the venue rings were not created"),
    };
    let orders_stats = orders_tx.stats().clone();
    let cold_wait = cfg.cold_wait();
    let cold = layout.cold_core(0);

    // Persistence.
    let persist_params = PersistParams { wait: cold_wait, idle_commit: true, ..PersistParams::default() };
    let persist = std::thread::Builder::new()
        .name("te-persist".into())
        .spawn(move || {
            pin_current(cold);
            persist_journal(journal_rx, expander, store.as_mut(), &mut portfolio, persist_params, None)
        })
        .context("spawning the persistence thread")?;

    // Recorder.
    let recorder = match &p.record {
        Some(path) => {
            let dict =
                Dictionary { accounts: names.accounts.clone(), symbols: names.symbols.clone(), strategies: vec![] };
            Some(spawn_recorder(&mut rings, cfg.rings.journal, path.clone(), dict, cold, cold_wait)?)
        }
        None => None,
    };

    // Hot thread.
    let barrier = Arc::new(Barrier::new(2));
    let stage = cfg.engine.signal_batch.max(64);
    let hot = spawn_hot(
        params,
        policies,
        move || RingVenue::new(orders_tx, stage),
        setup,
        rings,
        cfg.engine.signal_batch,
        cfg.hot_wait(),
        layout.hot,
        hooks,
        barrier.clone(),
    )?;
    barrier.wait();

    // FIX adapter.
    let fix_addr = match p.fix_addr {
        Some(a) => a,
        None => live.fix_addr.parse().map_err(|_| anyhow!("live.fix_addr `{}` is not an address", live.fix_addr))?,
    };
    let seq_path = PathBuf::from(&live.seq_dir).join(format!("{}-{}.seq", live.sender_comp_id, live.target_comp_id));
    let seq_store = SeqStore::open(&seq_path).with_context(|| format!("opening {}", seq_path.display()))?;
    let session = Session::new(
        SessionConfig {
            sender: live.sender_comp_id.clone(),
            target: live.target_comp_id.clone(),
            heartbeat_secs: live.heartbeat_secs,
            reset_on_logon: live.reset_on_logon,
        },
        seq_store,
    );
    let app = FixApp::new(cfg.engine.id, names.accounts.clone(), names.symbols.clone());
    let link = FixLink::spawn(LinkConfig::new(fix_addr), session, app, orders_rx, exec_tx, move || {
        pin_current(cold);
    })
    .context("starting the FIX adapter thread")?;

    // Changes made elsewhere (other engines, corrections), from the changelogs.
    let side_stop = side_feed.map(|start| start(rollups_tx, policies_tx)).transpose()?;

    // Signals: the TCP ingress, or the Fluss log table.
    let take = cfg.partition.owned(&names.symbols);
    let input = match live.input.as_str() {
        #[cfg(feature = "fluss")]
        "fluss" => {
            let log = crate::fluss::SignalLog::start(&cfg.fluss, &names.symbols, take, start_seq, signals_tx)?;
            eprintln!(
                "tradeengine: live: signals from fluss {} table {}.strategy_signals from offset {start_seq}",
                cfg.fluss.bootstrap_servers, cfg.fluss.database
            );
            Input::Log(log)
        }
        _ => {
            let _ = take;
            let listen = match p.ingress {
                Some(a) => a,
                None => {
                    live.ingress.parse().map_err(|_| anyhow!("live.ingress `{}` is not an address", live.ingress))?
                }
            };
            let ingress = Ingress::spawn(listen, &live.symbols, start_seq, signals_tx, move || {
                pin_current(cold);
            })
            .with_context(|| format!("listening for signals on {listen}"))?;
            let _ = control.ingress.set(ingress.addr());
            eprintln!("tradeengine: live: signals on {}", ingress.addr());
            Input::Ingress(ingress)
        }
    };
    eprintln!(
        "tradeengine: live: FIX {} -> {} at {fix_addr}, store {store_name}",
        live.sender_comp_id, live.target_comp_id
    );

    while !control.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("tradeengine: shutting down: input closed, draining orders in flight");
    // 1. No new signals; keep the ring open so answers are still applied.
    let (signals_tx, refused) = match input {
        Input::Ingress(ingress) => {
            let refused = ingress.counters.refused.load(Ordering::Relaxed);
            (ingress.stop_keep_ring(), refused)
        }
        #[cfg(feature = "fluss")]
        Input::Log(log) => {
            let (tx, rep) = log.stop_keep_ring()?;
            (Some(tx), rep.refused)
        }
    };
    // 2. Answers to orders in flight, for at most drain_secs: until the orders
    //    ring is empty and no report came for a quiet spell.
    let deadline = Instant::now() + Duration::from_secs(live.drain_secs);
    let mut last = (u64::MAX, Instant::now());
    while Instant::now() < deadline {
        let reports = link.counters.reports.load(Ordering::Relaxed);
        if reports != last.0 {
            last = (reports, Instant::now());
        }
        let drained = orders_stats.snapshot().depth() == 0;
        if drained && last.1.elapsed() >= Duration::from_millis(300) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // 3. Close the hot thread's input; it drains and ends; the journal closes.
    drop(signals_tx);
    let hot = hot.join().map_err(|_| anyhow!("the hot thread panicked"))?;
    let persist = persist.join().map_err(|_| anyhow!("the persistence thread panicked"))?.context("persisting")?;
    let recorded = match recorder {
        Some(r) => Some(r.join().map_err(|_| anyhow!("the recorder thread panicked"))??),
        None => None,
    };
    let follow = side_stop.map(|stop| stop()).transpose()?;
    let orders_sent = link.counters.orders_sent.load(Ordering::Relaxed);
    let reports = link.counters.reports.load(Ordering::Relaxed);
    // 4. Log out of the FIX session.
    let fix = link.stop();
    Ok(LiveRun {
        start_seq,
        counters: hot.engine.counters().clone(),
        persist,
        fix,
        orders_sent,
        reports,
        refused_signals: refused,
        recorded,
        follow,
        open_orders: hot.engine.orders().live(),
    })
}

/// Where a live run's signals come from.
enum Input {
    Ingress(Ingress),
    #[cfg(feature = "fluss")]
    Log(crate::fluss::SignalLog),
}

/// The store of `store` in the config: SQLite at `p.db` (the default), or
/// Fluss (with its changelog follower, when it follows the changelogs).
fn open_store(
    cfg: &Config,
    p: &LiveParams,
    names: &Names,
) -> anyhow::Result<(Box<dyn Store + Send>, String, Option<SideFeed>)> {
    match cfg.store.as_str() {
        #[cfg(feature = "fluss")]
        "fluss" => {
            let s = crate::fluss::open_store(cfg, names.clone())?;
            let feed = crate::fluss::changelog_feed(cfg, &s, names);
            Ok((Box::new(s), crate::fluss::store_name(&cfg.fluss), feed))
        }
        "sqlite" => {
            Ok((Box::new(SqliteStore::open(&p.db, names.clone(), cfg.engine.id)?), p.db.display().to_string(), None))
        }
        other => {
            bail!("the live engine cannot run on store `{other}` (sqlite, or fluss in a build with --features fluss)")
        }
    }
}
