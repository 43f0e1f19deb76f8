//! Criterion micro-benches of the hot path: one signal from decision to
//! position (W1 and W2 state), and one ring hop (single item vs batched).
//! Tail latency lives in the latency harness, not here.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringbuffers::{channel, Consumer, WaitStrategy, Waiter};
use tradeengine::hot::{HotEngine, HotParams, JournalOut};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};
use tradeengine_adapters::venue::SimVenue;
use tradeengine_model::{JournalEvent, StrategySignal};

/// An engine warmed with `warm` signals of the workload, the next `batch`
/// signals, and the journal consumer.
fn warmed(
    kind: WorkloadKind,
    warm: u64,
    batch: usize,
) -> (HotEngine<SimVenue>, Consumer<JournalEvent>, Vec<StrategySignal>) {
    let w = Workload::new(kind, warm + batch as u64, 42);
    let (tx, mut rx) = channel("journal", 1 << 16);
    let params =
        HotParams { symbols: w.symbols as usize, slots_per_account: w.max_open_symbols as usize, ..Default::default() };
    let mut e = HotEngine::new(params, &w.account_policies(), SimVenue::new(), JournalOut::new(tx, 1024));
    let mut g = w.generator();
    let mut buf = vec![StrategySignal::default(); 256];
    while g.position() < warm {
        let n = g.fill(&mut buf[..(warm - g.position()).min(256) as usize]);
        buf[..n].iter().for_each(|s| e.on_signal(s));
        e.flush();
        rx.drain(usize::MAX, |_| {});
    }
    let mut next = vec![StrategySignal::default(); batch];
    g.fill(&mut next);
    (e, rx, next)
}

fn signal_to_position(c: &mut Criterion) {
    let mut group = c.benchmark_group("signal_to_position");
    for (name, kind, warm) in [("w1", WorkloadKind::W1, 1_000_000), ("w2", WorkloadKind::W2, 1_000_000)] {
        let (mut e, mut rx, next) = warmed(kind, warm, 256);
        group.throughput(Throughput::Elements(next.len() as u64));
        // The same 256 signals replayed on a saturated book: decisions differ
        // per pass (state moves on), the work per signal stays representative.
        let mut seq = warm;
        group.bench_function(name, |b| {
            b.iter(|| {
                for s in &next {
                    let mut s = *s;
                    s.seq = seq;
                    seq += 1;
                    e.on_signal(black_box(&s));
                }
                e.flush();
                rx.drain(usize::MAX, |_| {});
            })
        });
    }
    group.finish();
}

fn ring_hop(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring_hop_same_thread");
    const N: usize = 256;
    group.throughput(Throughput::Elements(N as u64));
    let (mut tx, mut rx) = channel::<StrategySignal>("bench", 4096);
    let items = vec![StrategySignal::default(); N];
    group.bench_function("single", |b| {
        b.iter(|| {
            for s in &items {
                assert!(tx.try_push(*s));
            }
            for _ in 0..N {
                black_box(rx.try_pop());
            }
        })
    });
    let mut w = Waiter::new(WaitStrategy::BusySpin);
    group.bench_function("batched", |b| {
        b.iter_batched(
            || (),
            |_| {
                tx.push_slice(&items, &mut w).unwrap();
                rx.drain(usize::MAX, |s| {
                    black_box(s);
                });
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, signal_to_position, ring_hop);
criterion_main!(benches);
