//! The tail-latency harness: tick-to-trade of the real engine against the
//! bare ring round trip (the floor), measured by the same thread, on the same
//! cores and ring types, in one run.
//!
//! - The harness thread (cold core) sends W1 signals into the signals ring at
//!   a paced rate, stamping each with the `quanta` clock; the pinned hot thread
//!   routes them and its orders leave on the orders ring back to the harness
//!   thread, which stamps their arrival and answers with fills on the
//!   exec-reports ring. Tick-to-trade = arrival − ingress stamp.
//! - The floor: probes travel the same two rings; the hot thread echoes each
//!   at once (no engine work). Engine and floor alternate in blocks, so
//!   machine noise hits both alike.
//! - Coordinated omission: with a paced rate, every sample is measured from
//!   its intended send time, so a harness that falls behind still charges the
//!   delay to the run.
//! - The harness thread also drains the journal: on a 2-core machine a second
//!   spinning cold thread would measure the scheduler, not the engine.

mod harness;
pub mod report;

pub use harness::{LatencyParams, LatencyRun};
pub use report::{LatencySummary, PERCENTILES};

use std::path::Path;
use std::sync::{Arc, Barrier};

use anyhow::{anyhow, bail, Context};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};

use crate::config::Config;
use crate::hot::RingVenue;
use crate::pinning::{pin_current, CoreLayout};
use crate::pipeline::{spawn_hot, workload_config, HotHooks, HotRings};

/// Runs the harness and writes its report (`.hgrm` files and the plot) to `out`.
pub fn run_latency(cfg: &Config, p: &LatencyParams, hooks: HotHooks, out: Option<&Path>) -> anyhow::Result<LatencyRun> {
    if p.samples == 0 {
        bail!("--samples must be above zero");
    }
    if let Some(r) = p.rate {
        if !(r.is_finite() && r > 0.0) {
            bail!("--rate must be a positive number of signals per second or `max`");
        }
    }
    let total = p.warmup + 2 * p.samples;
    let w = Workload::new(WorkloadKind::W1, total, p.seed);
    let cfg = workload_config(cfg, &w);
    let layout = CoreLayout::resolve(&cfg);
    let (rings, ends) = HotRings::new(&cfg, true);
    let params = cfg.hot_params(w.max_open_symbols as usize);
    let orders_stage = cfg.engine.signal_batch;
    let start = Arc::new(Barrier::new(2));
    let orders_tx = ends.orders_tx.ok_or_else(|| anyhow!("no orders ring"))?;
    let hot = spawn_hot(
        params,
        w.account_policies(),
        move || RingVenue::new(orders_tx, orders_stage),
        |_| {},
        rings,
        cfg.engine.signal_batch,
        cfg.hot_wait(),
        layout.hot,
        hooks,
        start.clone(),
    )?;
    let harness_core = layout.cold_core(0);
    let params = p.clone();
    let sig_tx = ends.signals_tx;
    let orders_rx = ends.orders_rx.ok_or_else(|| anyhow!("no orders ring"))?;
    let exec_tx = ends.exec_tx.ok_or_else(|| anyhow!("no exec ring"))?;
    let journal_rx = ends.journal_rx;
    let generator = w.generator();
    let harness = std::thread::Builder::new()
        .name("te-latency".into())
        .spawn(move || {
            pin_current(harness_core);
            start.wait();
            harness::drive(&params, generator, sig_tx, orders_rx, exec_tx, journal_rx)
        })
        .context("spawning the harness thread")?;
    let measured = harness.join().map_err(|_| anyhow!("the harness thread panicked"))??;
    let hot = hot.join().map_err(|_| anyhow!("the hot thread panicked"))?;
    let summary = LatencySummary::new(p.rate, &measured.engine, &measured.floor);
    let run =
        LatencyRun { summary, measured, hot_counters: hot.engine.counters().clone(), layout, hot_pinned: hot.pinned };
    if let Some(dir) = out {
        report::write_all(dir, &run).with_context(|| format!("writing the latency report to {}", dir.display()))?;
    }
    Ok(run)
}
