//! Proof that the hot thread allocates nothing after start-up: a counting
//! global allocator counts every allocation made on a thread while that
//! thread's tracking flag is on. The hot thread turns it on through the
//! pipeline's `on_ready` hook (right before its loop) and off in `on_exit`.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use tradeengine::cold::PersistParams;
use tradeengine::config::Config;
use tradeengine::feed::RunSpec;
use tradeengine::hot::{HotEngine, HotParams, JournalOut};
use tradeengine::latency::{run_latency, LatencyParams};
use tradeengine::pipeline::{run_workload, HotHooks, RunControl, WorkloadFeed};
use tradeengine::replay::{run_replay, ReplayParams, StoreChoice};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};
use tradeengine_adapters::venue::SimVenue;
use tradeengine_model::*;

struct Counting;

thread_local! {
    static TRACK: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

/// Allocations counted on the last hot thread that called `stop`.
static LAST: AtomicU64 = AtomicU64::new(u64::MAX);

fn note() {
    let _ = TRACK.try_with(|t| {
        if t.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn start() {
    COUNT.with(|c| c.set(0));
    TRACK.with(|t| t.set(true));
}

fn stop() {
    TRACK.with(|t| t.set(false));
    LAST.store(COUNT.with(|c| c.get()), Ordering::SeqCst);
}

const HOOKS: HotHooks = HotHooks { on_ready: Some(start), on_exit: Some(stop) };

// One test function: the hooks share `LAST`, so the cases run in sequence.
#[test]
fn hot_thread_allocates_nothing_after_start_up() {
    // 0. The counter itself works.
    std::thread::spawn(|| {
        start();
        let v: Vec<u64> = Vec::with_capacity(std::hint::black_box(10));
        drop(v);
        stop();
    })
    .join()
    .unwrap();
    assert_eq!(LAST.load(Ordering::SeqCst), 1, "the counting allocator must see an allocation");

    // 1. W1 through the real threads and rings.
    let w = Workload::new(WorkloadKind::W1, 100_000, 42);
    let run = run_workload(&Config::builtin(), &w, WorkloadFeed::Preloaded, HOOKS).unwrap();
    assert_eq!(run.counters.signals, 100_000);
    assert_eq!(LAST.load(Ordering::SeqCst), 0, "hot thread allocated during the W1 run");

    // 2. Tiny rings: wrap-around, full rings (producer stalls), spin-then-yield.
    let tiny = Config::from_toml_str(
        "[engine]\nsignal_batch = 5\njournal_stage = 16\nhot_wait = \"spin-then-yield\"\n[rings]\nsignals = 8\njournal = 16\n",
        "tiny",
    )
    .unwrap();
    LAST.store(u64::MAX, Ordering::SeqCst);
    let run = run_workload(&tiny, &Workload::new(WorkloadKind::W1, 20_000, 9), WorkloadFeed::Generated, HOOKS).unwrap();
    assert!(run.journal_ring.stalls > 0);
    assert_eq!(LAST.load(Ordering::SeqCst), 0, "hot thread allocated with tiny rings");

    // 3. The latency harness path: ring venue, probes, exec reports back.
    LAST.store(u64::MAX, Ordering::SeqCst);
    let p = LatencyParams { rate: Some(500_000.0), samples: 20_000, warmup: 1_000, block: 100, seed: 3 };
    let run = run_latency(&Config::builtin(), &p, HOOKS, None).unwrap();
    assert!(run.hot_counters.fills > 0 && run.hot_counters.probes > 0);
    assert_eq!(LAST.load(Ordering::SeqCst), 0, "hot thread allocated in the latency harness");

    // 4. A recorded replay of a capture file: the recording tap on every
    //    consumed batch, signals copied out of the memory-mapped file.
    let dir = std::env::temp_dir().join(format!("te-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("w1.cap");
    let w = Workload::new(WorkloadKind::W1, 50_000, 5);
    tradeengine::capture_cmd::generate(&w, &cap).unwrap();
    let cfg = Config::load(&dir.join("w1.cap.toml")).unwrap();
    let p = ReplayParams {
        spec: RunSpec::from_file(&cfg, &cap).unwrap(),
        feed: RunControl { record: Some(dir.join("run.rec")), ..Default::default() },
        store: StoreChoice::None,
        resume: false,
        persist: PersistParams::default(),
        metrics_listen: None,
        admin: None,
    };
    LAST.store(u64::MAX, Ordering::SeqCst);
    let run = run_replay(&p, HOOKS).unwrap();
    assert_eq!(run.recorded.map(|r| r.0), Some(50_000));
    assert_eq!(LAST.load(Ordering::SeqCst), 0, "hot thread allocated in a recorded feed replay");

    // 5. Every other hot entry point: policies, controls, rollups, exec
    //    reports (including bad ones), drops and risk rejects.
    std::thread::spawn(|| {
        let mut h = common::Harness::with_accounts(50, 4);
        let mut p = common::policy(3, AccountStatus::Active, 4);
        p.max_order_qty = 0.5;
        start();
        for i in 0..20_000u64 {
            let e = &mut h.engine;
            let sig = StrategySignal {
                seq: i,
                close: 100.0 + (i % 7) as f64,
                strength: 0.5,
                symbol: (i % 61) as u32,
                side: if i % 3 == 0 { 2 } else { 1 },
                ..Default::default()
            };
            e.on_signal(&sig);
            if i % 5 == 0 {
                // idle-turn upkeep (first holders left unknown by closes)
                while e.on_idle() {}
            }
            if i % 97 == 0 {
                e.on_policy(&p);
                e.on_control(&Control {
                    op: ControlOp::BlockBuys as u8,
                    account: (i % 50) as u32,
                    ..Default::default()
                });
                e.on_control(&Control {
                    op: ControlOp::AllowBuys as u8,
                    account: (i % 50) as u32,
                    ..Default::default()
                });
                e.on_control(&Control { op: 200, ..Default::default() });
                e.on_rollup(&RollupChange {
                    op: RollupOp::Upsert as u8,
                    account: (i % 50) as u32,
                    symbol: 63,
                    engine: 9,
                    net_qty: 2.0,
                    avg_price: 10.0,
                    ..Default::default()
                });
                e.on_rollup(&RollupChange {
                    op: RollupOp::Delete as u8,
                    account: (i % 50) as u32,
                    symbol: 63,
                    engine: 9,
                    ..Default::default()
                });
                e.on_exec(&ExecReport {
                    exec_type: ExecType::Fill as u8,
                    order_id: i + 10_000_000,
                    ..Default::default()
                });
            }
            e.flush();
            // The journal ring (64Ki) is drained outside the tracked region.
            if i % 1000 == 999 {
                stop();
                h.records::<TradeSignal>();
                let _ = h.buy(0, 1.0);
                start();
            }
        }
        stop();
        assert!(h.engine.counters().policies > 0 && h.engine.counters().rollups_applied > 0);
    })
    .join()
    .unwrap();
    assert_eq!(LAST.load(Ordering::SeqCst), 0, "hot entry points allocated");

    // 6. Batches with the SELL look-ahead, which runs only when the holder
    //    table is larger than the caches (1,000 accounts x 12,000 symbols),
    //    out-of-range symbols included.
    std::thread::spawn(|| {
        let w = Workload::new(WorkloadKind::W1, 20_000, 7);
        let mut sigs = vec![StrategySignal::default(); 20_000];
        w.generator().fill(&mut sigs);
        for (i, s) in sigs.iter_mut().enumerate() {
            s.symbol = if i % 501 == 0 { u32::MAX } else { (s.symbol * 24 + (s.seq % 24) as u32) % 12_000 };
        }
        let params = HotParams { symbols: 12_000, slots_per_account: 20, ..Default::default() };
        let e = route_batches(params, &w, &sigs, "a batch with the look-ahead allocated");
        assert!(e.counters().routed_sell > 1_000, "{:?}", e.counters());
    })
    .join()
    .unwrap();
    assert_eq!(LAST.load(Ordering::SeqCst), 0, "batches with the look-ahead allocated");

    // 7. Holder lists that spill into bit rows: 9,000 symbols
    //    (lists of 16 ids each), with nine signals in ten on three symbols.
    std::thread::spawn(|| {
        let w = Workload::new(WorkloadKind::W1, 20_000, 11);
        let mut sigs = vec![StrategySignal::default(); 20_000];
        w.generator().fill(&mut sigs);
        for s in &mut sigs {
            s.symbol = if s.seq % 10 == 0 { (s.symbol * 18 + (s.seq % 18) as u32) % 9_000 } else { s.symbol % 3 };
        }
        let params = HotParams { symbols: 9_000, slots_per_account: 20, ..Default::default() };
        let e = route_batches(params, &w, &sigs, "a batch with spilling holder lists allocated");
        assert!(e.counters().routed_sell > 1_000, "{:?}", e.counters());
        let held = (0..3).map(|s| (0..w.accounts).filter(|&a| e.book().find(a, s).is_some()).count());
        assert!(held.max().unwrap() > 16, "a symbol held by more accounts than its list holds");
    })
    .join()
    .unwrap();
    assert_eq!(LAST.load(Ordering::SeqCst), 0, "batches with spilling holder lists allocated");
}

/// Routes `sigs` in batches of 64 through a new engine, counting the
/// allocations of each batch (`what`: the failure message); returns the engine.
fn route_batches(params: HotParams, w: &Workload, sigs: &[StrategySignal], what: &str) -> HotEngine<SimVenue> {
    let (tx, mut rx) = ringbuffers::channel("journal", 1 << 12);
    let mut e = HotEngine::new(params, &w.account_policies(), SimVenue::new(), JournalOut::new(tx, 256));
    for chunk in sigs.chunks(64) {
        start();
        e.on_signal_batch(chunk);
        e.flush();
        stop();
        assert_eq!(LAST.load(Ordering::SeqCst), 0, "{what}");
        rx.drain(usize::MAX, |_| {});
    }
    e
}
