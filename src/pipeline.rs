//! Threads, pinning and rings wired together for a run: a feeder thread
//! publishes signals into the ingress ring, the pinned hot thread routes,
//! sizes, risk-checks and fills them against the inline venue, and a cold
//! thread drains the journal. Cold path (start-up and tear-down).

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use ringbuffers::{channel, RingSnapshot, WaitStrategy, Waiter};
use tradeengine_adapters::feeds::Workload;
use tradeengine_adapters::venue::SimVenue;
use tradeengine_model::{JournalEvent, StrategySignal};

use crate::cold::{drain_journal, JournalSummary};
use crate::config::Config;
use crate::hot::{
    run_hot_loop, HotCounters, HotEngine, HotInputs, JournalOut, LoopParams, LoopStats, TieBreak,
};
use crate::hot::{SizingModel, SizingParams};
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
        format!(
            "{} secs={:.6} signals_per_s={:.0}",
            self.result_fields(),
            self.secs,
            self.signals_per_s()
        )
    }

    /// The deterministic part of the result line (everything before `secs=`).
    pub fn result_fields(&self) -> String {
        let c = &self.counters;
        format!(
            "{} n={} routed_buy={} routed_sell={} dropped={} open_positions={} checksum={:.6} realized_pnl={:.6}",
            self.workload.tag(),
            self.workload.n,
            c.routed_buy,
            c.routed_sell,
            c.dropped(),
            self.open_positions,
            self.checksum,
            self.realized_pnl
        )
    }
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

/// Runs workload `w` through the real threads and rings and returns what it measured.
pub fn run_workload(cfg: &Config, w: &Workload, hooks: HotHooks) -> anyhow::Result<WorkloadRun> {
    let cfg = workload_config(cfg, w);
    let layout = CoreLayout::resolve(&cfg);
    let policies = w.account_policies();
    let slots = w.max_open_symbols as usize;
    let mut params = cfg.hot_params(slots);
    params.tie_break = TieBreak::LowestId;
    params.sizing = SizingParams {
        model: SizingModel::Constant,
        default_qty: w.default_qty,
        ..params.sizing
    };
    let loop_params = LoopParams {
        signal_batch: cfg.engine.signal_batch,
        wait: cfg.hot_wait(),
    };
    let cold_wait = cfg.cold_wait();

    let (mut sig_tx, sig_rx) = channel::<StrategySignal>("signals", cfg.rings.signals);
    let (journal_tx, journal_rx) = channel::<JournalEvent>("journal", cfg.rings.journal);
    let (_control_tx, control_rx) = channel("control", cfg.rings.control);
    let (_policy_tx, policy_rx) = channel("policies", cfg.rings.policies);
    let (_rollup_tx, rollup_rx) = channel("rollups", cfg.rings.rollups);
    let signals_stats = sig_tx.stats().clone();
    let journal_stats = journal_tx.stats().clone();

    let start = Arc::new(Barrier::new(2));
    let journal_core = layout.cold_core(0);
    let journal = thread::Builder::new()
        .name("te-journal".into())
        .spawn(move || {
            pin_current(journal_core);
            drain_journal(journal_rx, cold_wait)
        })
        .context("spawning the journal thread")?;

    let hot_core = layout.hot;
    let hot_start = start.clone();
    let hot = thread::Builder::new()
        .name("te-hot".into())
        .spawn(move || {
            let pinned = pin_current(hot_core);
            // Start-up: every table is allocated here, on the hot core (first touch).
            let journal_out = JournalOut::new(journal_tx, params.journal_stage);
            let mut engine = HotEngine::new(params, &policies, SimVenue::new(), journal_out);
            let mut inputs = HotInputs {
                control: control_rx,
                exec_reports: None,
                policies: policy_rx,
                rollups: rollup_rx,
                signals: sig_rx,
            };
            hot_start.wait();
            if let Some(f) = hooks.on_ready {
                f();
            }
            let t0 = Instant::now();
            let stats = run_hot_loop(&mut engine, &mut inputs, loop_params);
            let secs = t0.elapsed().as_secs_f64();
            if let Some(f) = hooks.on_exit {
                f();
            }
            engine.close_journal();
            (engine, stats, secs, pinned)
        })
        .context("spawning the hot thread")?;

    let feeder_core = layout.cold_core(1);
    let mut generator = w.generator();
    let feeder = thread::Builder::new()
        .name("te-feed".into())
        .spawn(move || {
            pin_current(feeder_core);
            let clock = quanta::Clock::new();
            let mut waiter = Waiter::new(WaitStrategy::SpinThenYield);
            let mut buf = [StrategySignal::default(); 256];
            start.wait();
            loop {
                let n = generator.fill(&mut buf);
                if n == 0 {
                    break;
                }
                let stamp = clock.raw();
                for s in &mut buf[..n] {
                    s.ingress = stamp;
                }
                if sig_tx.push_slice(&buf[..n], &mut waiter).is_err() {
                    return Err(anyhow!("the hot thread stopped consuming signals"));
                }
            }
            Ok(())
        })
        .context("spawning the feeder thread")?;

    let fed = feeder
        .join()
        .map_err(|_| anyhow!("the feeder thread panicked"))?;
    let (engine, loop_stats, secs, hot_pinned) =
        hot.join().map_err(|_| anyhow!("the hot thread panicked"))?;
    fed?;
    let journal = journal
        .join()
        .map_err(|_| anyhow!("the journal thread panicked"))?;
    if engine.journal_lost() > 0 {
        bail!(
            "{} journal records were lost: the journal thread stopped early",
            engine.journal_lost()
        );
    }
    let run = WorkloadRun {
        workload: w.clone(),
        counters: engine.counters().clone(),
        open_positions: engine.open_positions(),
        checksum: engine.checksum(),
        realized_pnl: engine.realized_pnl(),
        secs,
        journal,
        signals_ring: signals_stats.snapshot(),
        journal_ring: journal_stats.snapshot(),
        loop_stats,
        layout,
        hot_pinned,
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
