//! The latency harness end to end: real hot thread, real rings, the harness
//! thread pacing W1 signals and probes, fills going back; report files written.

use tradeengine::config::Config;
use tradeengine::latency::{run_latency, LatencyParams};
use tradeengine::pipeline::HotHooks;

fn probes_measured(p: &LatencyParams) -> u64 {
    let total = p.warmup + 2 * p.samples;
    (p.warmup..total).filter(|i| (i / p.block) % 2 == 1).count() as u64
}

#[test]
fn paced_run_measures_engine_and_floor_and_writes_the_report() {
    let dir = std::env::temp_dir().join(format!("te-latency-{}", std::process::id()));
    let p = LatencyParams { rate: Some(200_000.0), samples: 20_000, warmup: 2_000, block: 500, seed: 42 };
    let run = run_latency(&Config::builtin(), &p, HotHooks::default(), Some(&dir)).unwrap();
    let s = &run.summary;
    assert_eq!(s.floor.samples, probes_measured(&p), "every measured probe comes back once");
    let total = p.warmup + 2 * p.samples;
    let probes_total = (0..total).filter(|i| (i / p.block) % 2 == 1).count() as u64;
    assert_eq!(run.hot_counters.probes, probes_total, "every probe echoed");
    assert_eq!(run.hot_counters.signals + run.hot_counters.probes, total);
    // Engine samples are the routed signals after warm-up (drops send no order).
    let signals_measured = 2 * p.samples - probes_measured(&p);
    assert!(s.engine.samples <= signals_measured && s.engine.samples > signals_measured * 9 / 10, "{s:?}");
    assert_eq!(run.measured.orders, run.hot_counters.routed_buy + run.hot_counters.routed_sell);
    assert!(run.hot_counters.fills > 0, "fills came back over the exec-reports ring");
    // every measured order is counted once, under its side, and W1 routes both
    let [buy, sell] = &run.measured.engine_by_side;
    assert_eq!(buy.len() + sell.len(), s.engine.samples, "by side: {}", run.measured.by_side_line());
    assert!(buy.len() > sell.len() / 2 && sell.len() > buy.len() / 2, "{}", run.measured.by_side_line());
    assert!(run.measured.by_side_line().starts_with("by side: BUY p50="));
    assert!(s.floor.at[0] > 0 && s.engine.at[0] > 0);
    assert!(s.engine.at.windows(2).all(|w| w[0] <= w[1]) && s.engine.at[4] <= s.engine.max);
    for f in ["engine.hgrm", "floor.hgrm", "summary.txt", "latency.png"] {
        let path = dir.join(f);
        assert!(std::fs::metadata(&path).map(|m| m.len() > 100).unwrap_or(false), "{} missing", path.display());
    }
    let summary = std::fs::read_to_string(dir.join("summary.txt")).unwrap();
    assert!(summary.trim_end().ends_with(&run.latency_line()));
    assert!(run.latency_line().starts_with("LATENCY rate=200000 samples="));
}

#[test]
fn unthrottled_run_completes() {
    let p = LatencyParams { rate: None, samples: 30_000, warmup: 1_000, block: 1_000, seed: 7 };
    let run = run_latency(&Config::builtin(), &p, HotHooks::default(), None).unwrap();
    assert_eq!(run.summary.floor.samples, probes_measured(&p));
    assert!(run.latency_line().starts_with("LATENCY rate=max "));
}

#[test]
fn bad_parameters_are_refused() {
    let cfg = Config::builtin();
    let zero = LatencyParams { samples: 0, ..Default::default() };
    assert!(run_latency(&cfg, &zero, HotHooks::default(), None).unwrap_err().to_string().contains("--samples"));
    let neg = LatencyParams { rate: Some(-5.0), samples: 10, ..Default::default() };
    assert!(run_latency(&cfg, &neg, HotHooks::default(), None).unwrap_err().to_string().contains("--rate"));
}
