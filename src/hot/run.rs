//! The hot loop: drains the input rings in priority order (control, exec
//! reports, policies and rollups, then signals), in batches, publishes the
//! orders every turn and the journal in batches, off the signals' path
//! where it can: in an idle turn once [`JOURNAL_BATCH`] records wait or
//! the loop has been idle for [`JOURNAL_QUIET_TURNS`] turns, after a busy
//! turn only once [`JOURNAL_BATCH_BUSY`] wait (a journal publish fences
//! the streamed records, ~190 ns on an Intel Xeon; once per turn it took a
//! fifth of each microsecond of a paced 1 M signals/s run).
//!
//! Hot-path rules: after the loop starts nothing allocates, locks, logs or
//! makes a system call (the wait strategy is busy-spin unless configured
//! otherwise). The loop ends when the signal source has closed and every
//! ring has been drained.

use ringbuffers::{Consumer, WaitStrategy, Waiter};
use tradeengine_adapters::venue::Venue;
use tradeengine_model::{AccountPolicy, Control, ExecReport, RollupChange, StrategySignal};

use super::engine::HotEngine;
use super::tap::{InputTap, NoTap};

/// Most control events / exec reports / policy and rollup updates handled per turn.
const SIDE_BATCH: usize = 256;

/// Journal records waiting that make the loop's next idle turn publish them.
pub const JOURNAL_BATCH: usize = 64;

/// Journal records waiting after a busy turn that make the loop publish
/// them at once (a loop that never idles still feeds the journal's
/// consumer in steady batches).
pub const JOURNAL_BATCH_BUSY: usize = 1024;

/// Idle turns in a row after which waiting journal records are published
/// (busy-spin: ~3–5 µs; with the other wait strategies the first idle turn
/// publishes, before any yield or park).
pub const JOURNAL_QUIET_TURNS: u32 = 64;

/// The hot thread's input rings.
pub struct HotInputs {
    pub control: Consumer<Control>,
    /// Exec reports from an external venue (none for the inline simulator).
    pub exec_reports: Option<Consumer<ExecReport>>,
    pub policies: Consumer<AccountPolicy>,
    pub rollups: Consumer<RollupChange>,
    pub signals: Consumer<StrategySignal>,
}

/// Loop tuning.
#[derive(Clone, Copy, Debug)]
pub struct LoopParams {
    /// Most signals drained per turn.
    pub signal_batch: usize,
    /// How the hot thread waits when every ring is empty.
    pub wait: WaitStrategy,
}

/// What the loop itself counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopStats {
    /// Turns that found work.
    pub busy_turns: u64,
    /// Turns that found every ring empty.
    pub idle_turns: u64,
}

/// Runs the hot loop until the signal ring is closed and drained.
pub fn run_hot_loop<V: Venue>(engine: &mut HotEngine<V>, inputs: &mut HotInputs, params: LoopParams) -> LoopStats {
    run_hot_loop_tapped(engine, inputs, params, &mut NoTap)
}

/// [`run_hot_loop`], showing every consumed batch to `tap` (in consumption
/// order) right before it is applied.
pub fn run_hot_loop_tapped<V: Venue, T: InputTap>(
    engine: &mut HotEngine<V>,
    inputs: &mut HotInputs,
    params: LoopParams,
    tap: &mut T,
) -> LoopStats {
    let mut waiter = Waiter::new(params.wait);
    let mut stats = LoopStats::default();
    let batch = params.signal_batch.max(1);
    let quiet_turns = if matches!(params.wait, WaitStrategy::BusySpin) { JOURNAL_QUIET_TURNS } else { 1 };
    let mut quiet = 0u32;
    loop {
        let mut work = 0;
        work += inputs.control.drain(SIDE_BATCH, |b| {
            tap.controls(b);
            b.iter().for_each(|c| engine.on_control(c))
        });
        if let Some(exec) = inputs.exec_reports.as_mut() {
            work += exec.drain(SIDE_BATCH, |b| {
                tap.exec_reports(b);
                b.iter().for_each(|r| engine.on_exec(r))
            });
        }
        work += inputs.policies.drain(SIDE_BATCH, |b| {
            tap.policies(b);
            b.iter().for_each(|p| engine.on_policy(p))
        });
        work += inputs.rollups.drain(SIDE_BATCH, |b| {
            tap.rollups(b);
            b.iter().for_each(|r| engine.on_rollup(r))
        });
        work += inputs.signals.drain(batch, |b| {
            tap.signals(b);
            engine.on_signal_batch(b);
        });
        if work > 0 {
            engine.flush_orders();
            if engine.journal_pending() >= JOURNAL_BATCH_BUSY {
                engine.flush_journal();
            }
            quiet = 0;
            if engine.journal_lost() > 0 {
                // The persistence side is gone (its store failed): stop at
                // once; the run fails and the store keeps its last checkpoint.
                break;
            }
            stats.busy_turns += 1;
            waiter.reset();
            continue;
        }
        if inputs.signals.is_finished() {
            // The source closed and everything it sent was consumed; a last
            // look at the side rings, then stop.
            let late = inputs.control.drain(usize::MAX, |b| {
                tap.controls(b);
                b.iter().for_each(|c| engine.on_control(c))
            }) + inputs.policies.drain(usize::MAX, |b| {
                tap.policies(b);
                b.iter().for_each(|p| engine.on_policy(p))
            }) + inputs.rollups.drain(usize::MAX, |b| {
                tap.rollups(b);
                b.iter().for_each(|r| engine.on_rollup(r))
            });
            if late == 0 {
                break;
            }
            engine.flush();
            continue;
        }
        if engine.on_idle() {
            // a step of deferred upkeep took this turn's slack
            continue;
        }
        quiet = quiet.saturating_add(1);
        let pending = engine.journal_pending();
        if pending >= JOURNAL_BATCH || (quiet >= quiet_turns && pending > 0) {
            engine.flush_journal();
            continue;
        }
        stats.idle_turns += 1;
        waiter.wait();
    }
    engine.flush();
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hot::{HotParams, JournalOut};
    use ringbuffers::channel;
    use tradeengine_adapters::feeds::{Workload, WorkloadKind};
    use tradeengine_adapters::venue::SimVenue;
    use tradeengine_model::JournalEvent;

    /// W1 signals spread over `used` of `symbols` (evenly apart), every
    /// seventh on the symbol of the one before it (so that a SELL often
    /// follows a decision on its own symbol), with malformed ones mixed in
    /// (an out-of-range SELL symbol, a bad side, a NaN close), which the
    /// look-ahead reads before the engine has validated them.
    fn signals(symbols: u32, used: u32) -> (Workload, Vec<StrategySignal>) {
        let w = Workload::new(WorkloadKind::W1, 20_000, 42);
        let mut sigs = vec![StrategySignal::default(); 20_000];
        w.generator().fill(&mut sigs);
        let mut before = 0;
        for (i, s) in sigs.iter_mut().enumerate() {
            s.symbol = (s.symbol * 24 + (s.seq % 24) as u32) % used * (symbols / used);
            if i % 7 == 6 {
                s.symbol = before;
            }
            before = s.symbol;
            match i % 997 {
                1 => s.symbol = u32::MAX,
                2 => s.side = 9,
                3 => s.close = f64::NAN,
                _ => {}
            }
        }
        (w, sigs)
    }

    fn engine(w: &Workload, symbols: usize) -> (HotEngine<SimVenue>, Consumer<JournalEvent>) {
        engine_with(w, symbols, SimVenue::new())
    }

    fn engine_with<V: Venue>(w: &Workload, symbols: usize, venue: V) -> (HotEngine<V>, Consumer<JournalEvent>) {
        let (tx, rx) = channel("journal", 1 << 17);
        let params = HotParams { symbols, slots_per_account: w.max_open_symbols as usize, ..Default::default() };
        (HotEngine::new(params, &w.account_policies(), venue, JournalOut::new(tx, 256)), rx)
    }

    /// The simulator without its fast lane: each order's fill comes as the
    /// report of `submit`, so the engine reserves the position first, as
    /// for a venue whose fills come later.
    struct ReportingVenue(SimVenue);

    impl Venue for ReportingVenue {
        fn submit(
            &mut self,
            order: &tradeengine_model::OrderRequest,
            out: &mut tradeengine_adapters::venue::ExecBatch,
        ) {
            self.0.submit(order, out)
        }
    }

    #[test]
    fn the_loops_look_ahead_changes_no_decision() {
        // 500 symbols: the holder table is cached, only the symbol hints run;
        // 12,000 x 1,000 accounts: 1.5 MB of holder bits, so the holders
        // are in lists and the SELL look-ahead into the book runs too, and
        // its findings answer SELLs
        // (300 of them in use: most SELLs find holders, with decisions on
        // the same symbol in between).
        // Each with the simulator's fast lane and without it (the order
        // path: reservations first).
        for (symbols, used) in [(500, 500), (12_000, 12_000), (12_000, 300)] {
            look_ahead_changes_no_decision(symbols, used, SimVenue::new);
            look_ahead_changes_no_decision(symbols, used, || ReportingVenue(SimVenue::new()));
        }
    }

    fn look_ahead_changes_no_decision<V: Venue>(symbols: usize, used: u32, venue: impl Fn() -> V) {
        let (w, sigs) = signals(symbols as u32, used);
        let (mut one_by_one, mut rx1) = engine_with(&w, symbols, venue());
        let mut journal1 = Vec::new();
        for s in &sigs {
            one_by_one.on_signal(s);
            one_by_one.flush();
        }
        rx1.drain(usize::MAX, |b| journal1.extend_from_slice(b));

        // Idle-turn upkeep between signals (as the paced loop runs it)
        // changes no decision either.
        let (mut with_idle, mut rx3) = engine_with(&w, symbols, venue());
        let (mut journal3, mut idle_steps) = (Vec::new(), 0);
        for (i, s) in sigs.iter().enumerate() {
            with_idle.on_signal(s);
            with_idle.flush();
            while i % 3 != 0 && with_idle.on_idle() {
                idle_steps += 1;
            }
        }
        rx3.drain(usize::MAX, |b| journal3.extend_from_slice(b));
        if symbols == 500 {
            // cached tables leave the BUY candidate to idle turns
            assert!(idle_steps > 1_000, "{symbols} symbols ({used} used): {idle_steps} idle steps");
        } else {
            // larger ones keep it through every move: once found, nothing is left to an idle turn
            assert!(idle_steps <= 1, "{symbols} symbols ({used} used): {idle_steps} idle steps");
        }
        assert_eq!(with_idle.counters(), one_by_one.counters(), "{symbols} symbols ({used} used), idle upkeep");
        assert_eq!(with_idle.checksum(), one_by_one.checksum());
        assert_eq!(with_idle.open_positions(), one_by_one.open_positions());
        assert!(journal3 == journal1, "{symbols} symbols ({used} used): idle upkeep changed the journal");

        let (mut batched, mut rx2) = engine_with(&w, symbols, venue());
        let (mut sig_tx, sig_rx) = channel("signals", 1 << 15);
        let (_control_tx, control) = channel("control", 16);
        let (_policies_tx, policies) = channel("policies", 16);
        let (_rollups_tx, rollups) = channel("rollups", 16);
        sig_tx.push_slice(&sigs, &mut Waiter::new(WaitStrategy::BusySpin)).unwrap();
        drop(sig_tx);
        let mut inputs = HotInputs { control, exec_reports: None, policies, rollups, signals: sig_rx };
        let stats =
            run_hot_loop(&mut batched, &mut inputs, LoopParams { signal_batch: 64, wait: WaitStrategy::BusySpin });
        let mut journal2 = Vec::new();
        rx2.drain(usize::MAX, |b| journal2.extend_from_slice(b));

        assert!(stats.busy_turns >= (sigs.len() / 64) as u64, "{stats:?}");
        let c = batched.counters();
        assert!(c.fills > 10_000 && c.dropped() > 40, "{symbols} symbols ({used} used): {c:?}");
        assert_eq!(c, one_by_one.counters(), "{symbols} symbols ({used} used)");
        assert_eq!(batched.checksum(), one_by_one.checksum());
        assert_eq!(batched.open_positions(), one_by_one.open_positions());
        assert!(journal1 == journal2, "{symbols} symbols ({used} used): the journals differ");
    }

    #[test]
    fn journal_records_wait_for_a_batch_or_a_quiet_loop() {
        // A loop on its own thread with the signal source left open: a few
        // signals make fewer records than a batch, so the busy turns do not
        // publish them; the idle turns after them do, without the source
        // closing. Then a burst larger than a batch is published as it goes.
        let (w, sigs) = signals(500, 500);
        let (mut e, mut rx) = engine(&w, 500);
        let (mut sig_tx, sig_rx) = channel("signals", 1 << 15);
        let (_control_tx, control) = channel("control", 16);
        let (_policies_tx, policies) = channel("policies", 16);
        let (_rollups_tx, rollups) = channel("rollups", 16);
        let mut inputs = HotInputs { control, exec_reports: None, policies, rollups, signals: sig_rx };
        let hot = std::thread::spawn(move || {
            let stats =
                run_hot_loop(&mut e, &mut inputs, LoopParams { signal_batch: 64, wait: WaitStrategy::BusySpin });
            (e.counters().signals, stats)
        });
        let mut waiter = Waiter::new(WaitStrategy::BusySpin);
        let wait_for = |rx: &mut Consumer<JournalEvent>, n: usize, what: &str| {
            let (mut got, t) = (0usize, std::time::Instant::now());
            while got < n {
                got += rx.drain(usize::MAX, |_| {});
                assert!(t.elapsed().as_secs() < 20, "{what}: {got} of {n} journal records after 20 s");
                std::thread::yield_now();
            }
            got
        };
        const { assert!(JOURNAL_BATCH > 3) };
        sig_tx.push_slice(&sigs[..3], &mut waiter).unwrap();
        assert_eq!(wait_for(&mut rx, 3, "three signals, then quiet"), 3, "one record per routed or dropped signal");
        sig_tx.push_slice(&sigs[3..2_003], &mut waiter).unwrap();
        assert_eq!(wait_for(&mut rx, 2_000, "a burst"), 2_000);
        drop(sig_tx);
        let (routed, stats) = hot.join().unwrap();
        assert_eq!(routed, 2_003);
        assert!(stats.idle_turns > 0, "{stats:?}");
        assert_eq!(rx.drain(usize::MAX, |_| {}), 0, "nothing left unpublished");
    }
}
