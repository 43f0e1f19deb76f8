//! `cargo bench --bench latency`: the tail-latency harness with its defaults
//! (W1 at 1,000,000 signals/s, 5.1M measured samples of engine and floor each),
//! the same as `tradeengine bench latency`. Environment overrides for shorter
//! runs: `TE_LATENCY_RATE` (signals/s or `max`), `TE_LATENCY_SAMPLES`,
//! `TE_LATENCY_OUT` (results folder, default `results/latency`).

use std::path::PathBuf;

use tradeengine::config::Config;
use tradeengine::latency::{run_latency, LatencyParams};
use tradeengine::pipeline::HotHooks;

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; a filter argument that is not ours means "not me".
    if std::env::args().skip(1).any(|a| !a.starts_with("--") && a != "latency") {
        return Ok(());
    }
    let mut p = LatencyParams::default();
    if let Ok(r) = std::env::var("TE_LATENCY_RATE") {
        p.rate = if r == "max" { None } else { Some(r.parse()?) };
    }
    if let Ok(n) = std::env::var("TE_LATENCY_SAMPLES") {
        p.samples = n.parse()?;
    }
    let out = PathBuf::from(std::env::var("TE_LATENCY_OUT").unwrap_or_else(|_| "results/latency".into()));
    let run = run_latency(&Config::builtin(), &p, HotHooks::default(), Some(&out))?;
    for w in &run.layout.warnings {
        eprintln!("warning: {w}");
    }
    print!("{}", run.summary.table());
    println!("report: {}", out.display());
    println!("{}", run.latency_line());
    Ok(())
}
