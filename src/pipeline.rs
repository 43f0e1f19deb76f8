//! Threads, pinning and rings wired together for a run: a feeder thread
//! publishes signals into the ingress ring, the pinned hot thread routes,
//! sizes, risk-checks and fills them against the inline venue, and a cold
//! thread drains the journal. Cold path (start-up and tear-down).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use ringbuffers::{channel, Consumer, Producer, RingSnapshot, WaitStrategy};
use tradeengine_adapters::feeds::RecordedInput;
use tradeengine_adapters::feeds::Workload;
use tradeengine_adapters::store::StoreTotals;
use tradeengine_adapters::venue::{SimVenue, Venue};
use tradeengine_model::{AccountPolicy, Control, ExecReport, JournalEvent, OrderRequest, RollupChange, StrategySignal};

use crate::cold::{drain_journal, JournalSummary};
use crate::config::Config;
/// How `run_workload` feeds the workload's signals (defined beside [`RunSpec`], which carries it).
pub use crate::feed::WorkloadFeed;
use crate::feed::{RunSpec, SourceSpec};
use crate::feeder::{feed_recording, feed_signals, spawn_recorder, InputProducers};
use crate::hot::{
    run_hot_loop, run_hot_loop_tapped, HotCounters, HotEngine, HotInputs, HotParams, JournalOut, LoopParams, LoopStats,
    RecordingTap,
};
use crate::pinning::{pin_current, CoreLayout};

/// Functions the hot thread calls right before its loop starts and right
/// after it ends (e.g. to start and stop an allocation counter, or to lock
/// memory). They run on the hot thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct HotHooks {
    pub on_ready: Option<fn()>,
    pub on_exit: Option<fn()>,
}

/// Everything a workload run measured and produced.
#[derive(Clone, Debug)]
pub struct WorkloadRun {
    pub workload: Workload,
    pub counters: HotCounters,
    pub open_positions: u64,
    pub checksum: f64,
    pub realized_pnl: f64,
    /// Seconds the hot thread spent from its first turn to the end of the stream.
    pub secs: f64,
    pub journal: JournalSummary,
    pub signals_ring: RingSnapshot,
    pub journal_ring: RingSnapshot,
    pub loop_stats: LoopStats,
    pub layout: CoreLayout,
    /// Whether the hot thread was actually pinned.
    pub hot_pinned: bool,
}

impl WorkloadRun {
    /// Signals per second through the hot thread.
    pub fn signals_per_s(&self) -> f64 {
        self.workload.n as f64 / self.secs.max(1e-9)
    }

    /// The result line (`W1 n=… routed_buy=… … signals_per_s=…`), the CLI contract.
    pub fn result_line(&self) -> String {
        result_line(&self.result_fields(), self.secs, self.signals_per_s())
    }

    /// The run's pipeline counters and what bounded its rate
    /// ([`crate::run_bound::pipeline_line`]), for stderr.
    pub fn pipeline_line(&self) -> String {
        crate::run_bound::pipeline_line(&self.loop_stats, &self.signals_ring, &self.journal_ring)
    }

    /// The deterministic part of the result line (everything before `secs=`).
    pub fn result_fields(&self) -> String {
        let c = &self.counters;
        let totals = StoreTotals {
            routed_buy: c.routed_buy,
            routed_sell: c.routed_sell,
            dropped: c.dropped(),
            open_positions: self.open_positions,
            checksum: self.checksum,
            realized_pnl: self.realized_pnl,
        };
        result_fields(self.workload.tag(), self.workload.n, &totals)
    }
}

/// The deterministic part of the `W1 …` / `W2 …` (`FEED …` for a capture
/// file) result line.
pub fn result_fields(tag: &str, n: u64, t: &StoreTotals) -> String {
    format!(
        "{tag} n={n} routed_buy={} routed_sell={} dropped={} open_positions={} checksum={:.6} realized_pnl={:.6}",
        t.routed_buy, t.routed_sell, t.dropped, t.open_positions, t.checksum, t.realized_pnl
    )
}

/// The whole result line: the fields, then `secs=` and `signals_per_s=`.
pub fn result_line(fields: &str, secs: f64, signals_per_s: f64) -> String {
    format!("{fields} secs={secs:.6} signals_per_s={signals_per_s:.0}")
}

/// The config a workload runs under: the machine settings (cores, rings,
/// waits) from `cfg`, the routing rules fixed by W1.md.
pub fn workload_config(cfg: &Config, w: &Workload) -> Config {
    let mut c = cfg.clone();
    c.capacity.symbols = w.symbols as usize;
    c.capacity.positions = 0;
    c.routing.tie_break = "lowest-id".into();
    c.routing.allow_scale_in = w.allow_scale_in;
    c.sizing.model = "constant".into();
    c.sizing.default_qty = w.default_qty;
    c.risk.kill_switch = false;
    c
}

/// The hot thread's ends of its rings.
pub struct HotRings {
    pub inputs: HotInputs,
    pub journal_tx: Producer<JournalEvent>,
    /// Every consumed input, in consumption order, for a recorder (none: not recorded).
    pub recording: Option<Producer<RecordedInput>>,
}

/// The other ends: what feeders, venues and cold threads hold.
pub struct OuterEnds {
    pub signals_tx: Producer<StrategySignal>,
    pub control_tx: Producer<Control>,
    pub policies_tx: Producer<AccountPolicy>,
    pub rollups_tx: Producer<RollupChange>,
    pub journal_rx: Consumer<JournalEvent>,
    /// Orders out (the venue link's end) and in (the venue side), with a ring venue.
    pub orders_tx: Option<Producer<OrderRequest>>,
    pub orders_rx: Option<Consumer<OrderRequest>>,
    /// Exec reports in, with a ring venue.
    pub exec_tx: Option<Producer<ExecReport>>,
}

impl HotRings {
    /// Creates every ring with the configured capacities; `venue_rings` adds
    /// the orders and exec-reports rings of an external venue. Start-up only.
    pub fn new(cfg: &Config, venue_rings: bool) -> (HotRings, OuterEnds) {
        let r = &cfg.rings;
        let (signals_tx, signals) = channel("signals", r.signals);
        let (journal_tx, journal_rx) = channel("journal", r.journal);
        let (control_tx, control) = channel("control", r.control);
        let (policies_tx, policies) = channel("policies", r.policies);
        let (rollups_tx, rollups) = channel("rollups", r.rollups);
        let (orders_tx, orders_rx, exec_tx, exec_reports) = if venue_rings {
            let (otx, orx) = channel("orders", r.orders);
            let (etx, erx) = channel("exec_reports", r.exec_reports);
            (Some(otx), Some(orx), Some(etx), Some(erx))
        } else {
            (None, None, None, None)
        };
        (
            HotRings {
                inputs: HotInputs { control, exec_reports, policies, rollups, signals },
                journal_tx,
                recording: None,
            },
            OuterEnds { signals_tx, control_tx, policies_tx, rollups_tx, journal_rx, orders_tx, orders_rx, exec_tx },
        )
    }
}

/// What the hot thread hands back when its loop ends.
pub struct HotDone<V: Venue> {
    pub engine: HotEngine<V>,
    pub stats: LoopStats,
    /// Seconds from the first loop turn to the end of the stream.
    pub secs: f64,
    /// Whether the hot thread was pinned.
    pub pinned: bool,
    /// Inputs the recorder never received (0 in a healthy recorded run).
    pub recording_lost: u64,
}

/// Spawns the hot thread: it pins itself to `core`, builds every table there
/// (first touch on the hot core), runs `setup` (start-up state such as
/// restored positions), waits on `start`, calls `hooks.on_ready`,
/// runs the loop until the signal stream ends, calls `hooks.on_exit`, closes
/// the journal and returns its state.
#[allow(clippy::too_many_arguments)]
pub fn spawn_hot<V, F, S>(
    params: HotParams,
    policies: Vec<AccountPolicy>,
    make_venue: F,
    setup: S,
    rings: HotRings,
    signal_batch: usize,
    wait: WaitStrategy,
    core: Option<usize>,
    hooks: HotHooks,
    start: Arc<Barrier>,
) -> anyhow::Result<JoinHandle<HotDone<V>>>
where
    V: Venue + Send + 'static,
    F: FnOnce() -> V + Send + 'static,
    S: FnOnce(&mut HotEngine<V>) + Send + 'static,
{
    let loop_params = LoopParams { signal_batch, wait };
    thread::Builder::new()
        .name("te-hot".into())
        .spawn(move || {
            let pinned = pin_current(core);
            let HotRings { mut inputs, journal_tx, recording } = rings;
            let journal_out = JournalOut::new(journal_tx, params.journal_stage);
            let mut engine = HotEngine::new(params, &policies, make_venue(), journal_out);
            setup(&mut engine);
            let mut tap = recording.map(RecordingTap::new);
            start.wait();
            if let Some(f) = hooks.on_ready {
                f();
            }
            let t0 = Instant::now();
            let stats = match tap.as_mut() {
                Some(t) => run_hot_loop_tapped(&mut engine, &mut inputs, loop_params, t),
                None => run_hot_loop(&mut engine, &mut inputs, loop_params),
            };
            let secs = t0.elapsed().as_secs_f64();
            let recording_lost = tap.as_ref().map_or(0, RecordingTap::lost);
            drop(tap); // closes the recording ring: the recorder finishes the file
            if let Some(f) = hooks.on_exit {
                f();
            }
            engine.close_journal();
            HotDone { engine, stats, secs, pinned, recording_lost }
        })
        .context("spawning the hot thread")
}

/// An admin endpoint to run beside the engine (it owns the control ring).
#[derive(Clone, Debug)]
pub struct AdminSpec {
    pub listen: String,
    pub token: String,
    /// Account names → dense ids.
    pub accounts: std::collections::HashMap<String, u32>,
}

/// Starts a cold feeder of the hot thread's rollup and policy rings (the
/// Fluss changelog follower) once the rings exist; what it returns stops it
/// and gives its summary line.
pub type SideFeed =
    Box<dyn FnOnce(Producer<RollupChange>, Producer<AccountPolicy>) -> anyhow::Result<SideFeedStop> + Send>;

/// Stops a [`SideFeed`]; returns its summary line.
pub type SideFeedStop = Box<dyn FnOnce() -> anyhow::Result<String> + Send>;

/// Inputs besides the signals: the admin endpoint (control ring) and a
/// side feed (rollup and policy rings).
#[derive(Default)]
pub struct SideInputs {
    pub admin: Option<AdminSpec>,
    pub feed: Option<SideFeed>,
}

/// A finished pipeline run: the hot thread's state, the journal consumer's
/// result and the ring counters.
pub struct PipelineRun<T> {
    pub hot: HotDone<SimVenue>,
    pub journal: T,
    /// Inputs written to the recording, when recorded.
    pub recorded: Option<u64>,
    /// The side feed's summary line, when there was one.
    pub side_feed: Option<String>,
    pub signals_ring: RingSnapshot,
    pub journal_ring: RingSnapshot,
    pub layout: CoreLayout,
}

/// How the feeder thread paces and stops a run.
#[derive(Clone, Debug, Default)]
pub struct RunControl {
    /// Event-time pace: `Some(1.0)` replays at the recorded pace, `Some(10.0)`
    /// ten times faster; `None` as fast as the engine takes them.
    pub speed: Option<f64>,
    /// When set (Ctrl-C), the feeder stops publishing; the run then ends
    /// cleanly after the signals already sent, with everything persisted.
    pub stop: Option<Arc<AtomicBool>>,
    /// Signals published so far (read by a progress bar).
    pub progress: Option<Arc<AtomicU64>>,
    /// Record every input the hot thread consumes, in consumption order,
    /// into this capture file (replaying it reproduces the run).
    pub record: Option<PathBuf>,
}

impl RunControl {
    /// True once a stop was asked for.
    pub fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Runs `spec`'s signals from input `start_seq` through the real threads and
/// rings: a feeder thread (paced and stopped by `feed`), the pinned hot
/// thread with the inline simulated venue (set up by `setup` on the hot
/// thread, e.g. with restored positions), and `journal_sink` draining the
/// journal on a cold thread.
#[allow(clippy::too_many_arguments)]
pub fn run_pipeline<T, J, S>(
    spec: &RunSpec,
    start_seq: u64,
    feed: RunControl,
    hooks: HotHooks,
    metrics: Option<&crate::cold::EngineMetrics>,
    side: SideInputs,
    policies: Vec<AccountPolicy>,
    setup: S,
    journal_sink: J,
) -> anyhow::Result<PipelineRun<T>>
where
    T: Send + 'static,
    J: FnOnce(Consumer<JournalEvent>, WaitStrategy) -> T + Send + 'static,
    S: FnOnce(&mut HotEngine<SimVenue>) + Send + 'static,
{
    let cfg = &spec.cfg;
    let layout = CoreLayout::resolve(cfg);
    let params = cfg.hot_params(spec.slots_per_account);
    let cold_wait = cfg.cold_wait();
    let (mut rings, ends) = HotRings::new(cfg, spec.recorded_venue);
    let OuterEnds { signals_tx: sig_tx, journal_rx, control_tx, policies_tx, rollups_tx, exec_tx, .. } = ends;
    let mut control_tx = Some(control_tx);
    let SideInputs { admin, feed: side_feed } = side;
    // The admin endpoint, when asked for, is the control ring's producer.
    let _admin = match admin {
        Some(_) if matches!(spec.source, SourceSpec::Recording(_)) => {
            bail!("a recording replays its own control inputs: --admin cannot be used with it")
        }
        Some(a) => {
            let Some(control_tx) = control_tx.take() else { bail!("the control ring has no producer left") };
            let server = crate::cold::AdminServer::start(&a.listen, a.token, control_tx, a.accounts)
                .with_context(|| format!("starting the admin endpoint on {}", a.listen))?;
            eprintln!("tradeengine: admin endpoint at http://{}", server.addr());
            Some(server)
        }
        None => None,
    };
    let signals_stats = sig_tx.stats().clone();
    let journal_stats = rings.journal_tx.stats().clone();
    if let Some(m) = metrics {
        m.add_ring(signals_stats.clone());
        m.add_ring(journal_stats.clone());
    }

    let journal_core = layout.cold_core(0);
    let recorder = match &feed.record {
        Some(path) => Some(spawn_recorder(
            &mut rings,
            cfg.rings.journal,
            path.clone(),
            spec.dictionary(),
            journal_core,
            cold_wait,
        )?),
        None => None,
    };
    let journal = thread::Builder::new()
        .name("te-journal".into())
        .spawn(move || {
            pin_current(journal_core);
            journal_sink(journal_rx, cold_wait)
        })
        .context("spawning the journal thread")?;

    let start = Arc::new(Barrier::new(2));
    let silent = spec.recorded_venue;
    let hot = spawn_hot(
        params,
        policies,
        move || if silent { SimVenue::silent() } else { SimVenue::new() },
        setup,
        rings,
        cfg.engine.signal_batch,
        cfg.hot_wait(),
        layout.hot,
        hooks,
        start.clone(),
    )?;

    let (policies_tx, rollups_tx, side_stop) = match side_feed {
        Some(_) if matches!(spec.source, SourceSpec::Recording(_)) => {
            bail!("a recording replays its own rollup and policy inputs: no changelog can be followed with it")
        }
        Some(start_feed) => (None, None, Some(start_feed(rollups_tx, policies_tx)?)),
        None => (Some(policies_tx), Some(rollups_tx), None),
    };
    let feeder_core = layout.cold_core(1);
    let feeder = match &spec.source {
        SourceSpec::Recording(file) => {
            let file = file.clone();
            let rings = InputProducers {
                signals: sig_tx,
                control: control_tx
                    .take()
                    .ok_or_else(|| anyhow!("a recording replay owns the control ring: no --admin"))?,
                policies: policies_tx.ok_or_else(|| anyhow!("the policy ring has no producer left"))?,
                rollups: rollups_tx.ok_or_else(|| anyhow!("the rollup ring has no producer left"))?,
                exec: exec_tx,
            };
            thread::Builder::new().name("te-feed".into()).spawn(move || {
                pin_current(feeder_core);
                start.wait();
                feed_recording(file, rings, feed)
            })
        }
        _ => {
            let source = spec.source_from(start_seq);
            thread::Builder::new().name("te-feed".into()).spawn(move || {
                pin_current(feeder_core);
                start.wait();
                feed_signals(source, sig_tx, feed)
            })
        }
    }
    .context("spawning the feeder thread")?;

    let fed = feeder.join().map_err(|_| anyhow!("the feeder thread panicked"))?;
    let hot = hot.join().map_err(|_| anyhow!("the hot thread panicked"))?;
    let side_feed = side_stop.map(|stop| stop()).transpose();
    let journal = journal.join().map_err(|_| anyhow!("the journal thread panicked"))?;
    let side_feed = side_feed?;
    let recorded = match recorder {
        Some(r) => Some(r.join().map_err(|_| anyhow!("the recorder thread panicked"))??),
        None => None,
    };
    if hot.engine.journal_lost() > 0 {
        bail!("{} journal records were not delivered: the journal thread stopped early", hot.engine.journal_lost());
    }
    if hot.recording_lost > 0 {
        bail!("{} inputs were not recorded: the recorder stopped early", hot.recording_lost);
    }
    fed?;
    Ok(PipelineRun {
        hot,
        journal,
        recorded,
        side_feed,
        signals_ring: signals_stats.snapshot(),
        journal_ring: journal_stats.snapshot(),
        layout,
    })
}

/// Runs workload `w` through the real threads and rings and returns what it measured.
pub fn run_workload(cfg: &Config, w: &Workload, feed: WorkloadFeed, hooks: HotHooks) -> anyhow::Result<WorkloadRun> {
    let mut spec = RunSpec::workload(cfg, w);
    spec.workload_feed = feed;
    let policies = spec.policies.clone();
    let p = run_pipeline(
        &spec,
        0,
        RunControl::default(),
        hooks,
        None,
        Default::default(),
        policies,
        |_| {},
        drain_journal,
    )?;
    let engine = &p.hot.engine;
    let run = WorkloadRun {
        workload: w.clone(),
        counters: engine.counters().clone(),
        open_positions: engine.open_positions(),
        checksum: engine.checksum(),
        realized_pnl: engine.realized_pnl(),
        secs: p.hot.secs,
        journal: p.journal,
        signals_ring: p.signals_ring,
        journal_ring: p.journal_ring,
        loop_stats: p.hot.stats,
        layout: p.layout,
        hot_pinned: p.hot.pinned,
    };
    if run.journal.decisions != run.counters.signals || run.journal.fills != run.counters.fills {
        bail!(
            "journal and hot counters disagree: {} decisions / {} fills journaled, {} signals / {} fills counted",
            run.journal.decisions,
            run.journal.fills,
            run.counters.signals,
            run.counters.fills
        );
    }
    Ok(run)
}
