//! Criterion benches of whole runs through the real threads and rings (the
//! same path as `tradeengine bench w1`): W1 and W2, 1,000,000 signals per
//! iteration, fed from memory. Throughput is reported in signals per second.
//!
//! The clock is the run's own, as `bench w1` reports it: the hot loop from
//! its first signal to the last (`WorkloadRun::secs`). Building the engine's
//! tables, pre-faulting them (W2: ~440 MB), generating the workload into
//! memory and starting the threads happen before it, so they do not dilute
//! the figure as they would with a wall-clock `iter`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tradeengine::config::Config;
use tradeengine::pipeline::{run_workload, HotHooks, WorkloadFeed};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};

fn runs(c: &mut Criterion) {
    let cfg = Config::builtin();
    let mut g = c.benchmark_group("workload_run");
    g.sample_size(10);
    for (name, kind) in [("w1", WorkloadKind::W1), ("w2", WorkloadKind::W2)] {
        let w = Workload::new(kind, 1_000_000, 42);
        g.throughput(Throughput::Elements(w.n));
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let run = run_workload(&cfg, &w, WorkloadFeed::Preloaded, HotHooks::default()).expect("run");
                        assert_eq!(run.counters.signals, w.n, "every signal routed");
                        Duration::from_secs_f64(run.secs)
                    })
                    .sum()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, runs);
criterion_main!(benches);
