//! The hot engine alone on one thread: W1 or W2 signals generated up front
//! into memory, routed by a `HotEngine` with the inline simulated venue, its
//! journal drained on the same thread every 256 signals. No ring crosses a
//! core, so what it measures is the engine's own work per signal (what the
//! pinned hot thread spends before any cross-core cost).
//!
//! ```text
//! cargo run --release --example engine_alone -- w1 3000000      # ns/signal, best of 3 repetitions
//! REPS=3 valgrind --tool=cachegrind --cache-sim=yes --LL=1048576,16,64 \
//!     target/release/examples/engine_alone w1 300000            # instructions and misses: deterministic
//! ```
//! On a shared VM wall time drifts by ±30 %; cachegrind's instruction and
//! simulated-miss counts do not, which makes them the way to compare two
//! builds of the hot path.

use std::time::Instant;

use ringbuffers::channel;
use tradeengine::hot::{HotEngine, HotParams, JournalOut};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};
use tradeengine_adapters::venue::SimVenue;
use tradeengine_model::StrategySignal;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = match args.get(1).map(String::as_str) {
        None | Some("w1") => WorkloadKind::W1,
        Some("w2") => WorkloadKind::W2,
        Some(other) => {
            eprintln!("engine_alone: unknown workload `{other}` (w1 or w2)");
            std::process::exit(2);
        }
    };
    let n: u64 = match args.get(2).map(|s| s.parse()) {
        None => 3_000_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("engine_alone: the signal count must be a positive integer");
            std::process::exit(2);
        }
    };
    let reps: usize = std::env::var("REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let w = Workload::new(kind, n, 42);
    let mut signals = vec![StrategySignal::default(); n as usize];
    w.generator().fill(&mut signals);
    for rep in 0..reps {
        let (tx, mut rx) = channel("journal", 1 << 15);
        let params = HotParams {
            symbols: w.symbols as usize,
            slots_per_account: w.max_open_symbols as usize,
            ..Default::default()
        };
        let mut e = HotEngine::new(params, &w.account_policies(), SimVenue::new(), JournalOut::new(tx, 256));
        let t = Instant::now();
        let mut records = 0usize;
        for chunk in signals.chunks(256) {
            e.on_signal_batch(chunk);
            e.flush();
            records += rx.drain(usize::MAX, |_| {});
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "rep {rep}: {:.1} ns/signal ({:.2} M signals/s) journal_records={records} open_positions={} checksum={:.6}",
            secs * 1e9 / n as f64,
            n as f64 / secs / 1e6,
            e.open_positions(),
            e.checksum()
        );
    }
}
