//! The hot loop: drains the input rings in priority order (control, exec
//! reports, policies and rollups, then signals), in batches, and publishes
//! the journal once per turn.
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
            // The last order of the batch leaves the moment it is submitted
            // (with those staged before it), ahead of its own upkeep.
            if let Some((last, rest)) = b.split_last() {
                rest.iter().for_each(|s| engine.on_signal(s));
                engine.on_signal_and_publish(last);
            }
        });
        if work > 0 {
            engine.flush();
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
        stats.idle_turns += 1;
        waiter.wait();
    }
    engine.flush();
    stats
}
