//! Criterion micro-benches of the hot path: one signal from decision to
//! position (W1 and W2 state), one picker decision, one position update, and
//! ring hops (single item vs batched; same thread and across cores).
//! Tail latency lives in the latency harness, not here.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringbuffers::{channel, Consumer, WaitStrategy, Waiter};
use tradeengine::hot::picker::Picker;
use tradeengine::hot::positions::{Position, PositionBook};
use tradeengine::hot::{HotEngine, HotParams, JournalOut, TieBreak};
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

/// A W1-sized picker and book: every account holds 10 symbols.
fn w1_book() -> (Picker, PositionBook) {
    let (accounts, symbols, k) = (1000usize, 500usize, 20usize);
    let mut picker = Picker::new(accounts, symbols, k, TieBreak::LowestId, true);
    let mut book = PositionBook::new(accounts, k, accounts * k);
    let mut x = 7u64;
    for a in 0..accounts as u32 {
        while book.open_count(a) < 10 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let s = ((x >> 33) % symbols as u64) as u32;
            if book.find(a, s).is_none() {
                let rec = book.open(a, s).unwrap();
                book.get_mut(rec).net_qty = 1.0;
                picker.add_holder(s, a, rec);
            }
        }
        picker.refresh(a, true, book.open_count(a), k as u32);
    }
    (picker, book)
}

fn picker_decision(c: &mut Criterion) {
    let (mut picker, book) = w1_book();
    let mut g = c.benchmark_group("picker_decision_w1");
    g.throughput(Throughput::Elements(500));
    g.bench_function("buy", |b| {
        b.iter(|| {
            for s in 0..500u32 {
                black_box(picker.pick_buy(black_box(s), &book));
            }
        })
    });
    g.bench_function("sell", |b| {
        b.iter(|| {
            for s in 0..500u32 {
                let _ = black_box(picker.pick_sell(black_box(s), &book));
            }
        })
    });
    g.finish();
}

fn position_update(c: &mut Criterion) {
    let mut g = c.benchmark_group("position_update");
    g.throughput(Throughput::Elements(2));
    let mut p = Position::default();
    g.bench_function("buy_then_close", |b| {
        b.iter(|| {
            p.apply_fill(true, black_box(1.0), black_box(101.5));
            black_box(p.apply_fill(false, black_box(p.net_qty), black_box(102.25)))
        })
    });
    let mut book = PositionBook::new(1000, 20, 20_000);
    for a in 0..1000u32 {
        for s in 0..19u32 {
            book.open(a, s * 7).unwrap();
        }
    }
    g.bench_function("open_then_close_slot", |b| {
        let mut a = 0u32;
        b.iter(|| {
            a = (a + 1) % 1000;
            black_box(book.open(a, 499));
            black_box(book.close(a, 499))
        })
    });
    g.finish();
}

/// One-way transfer of `n` events from this thread to a consumer pinned on
/// another core, single items or batches of 256.
fn ring_cross_core(c: &mut Criterion) {
    let cores: Vec<usize> = core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect();
    if cores.len() < 2 {
        eprintln!("ring_cross_core: needs 2 cores, skipped");
        return;
    }
    let mut g = c.benchmark_group("ring_hop_cross_core");
    const N: u64 = 200_000;
    g.throughput(Throughput::Elements(N));
    for batched in [false, true] {
        g.bench_function(if batched { "batched_256" } else { "single" }, |b| {
            b.iter_custom(|iters| {
                let (mut tx, mut rx) = channel::<StrategySignal>("x", 4096);
                let consumer_core = cores[1];
                let total = iters * N;
                let consumer = std::thread::spawn(move || {
                    core_affinity::set_for_current(core_affinity::CoreId { id: consumer_core });
                    let mut seen = 0u64;
                    while seen < total {
                        if batched {
                            seen += rx.drain(256, |s| {
                                black_box(s);
                            }) as u64;
                        } else if let Some(v) = rx.try_pop() {
                            black_box(v);
                            seen += 1;
                        }
                    }
                });
                core_affinity::set_for_current(core_affinity::CoreId { id: cores[0] });
                let batch = [StrategySignal::default(); 256];
                let mut w = Waiter::new(WaitStrategy::BusySpin);
                let t = std::time::Instant::now();
                let mut sent = 0u64;
                while sent < total {
                    if batched {
                        let k = (total - sent).min(256) as usize;
                        tx.push_slice(&batch[..k], &mut w).unwrap();
                        sent += k as u64;
                    } else if tx.try_push(batch[0]) {
                        sent += 1;
                    }
                }
                consumer.join().unwrap();
                t.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, signal_to_position, picker_decision, position_update, ring_hop, ring_cross_core);
criterion_main!(benches);
