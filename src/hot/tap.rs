//! Input taps: see every input the hot loop consumes, in consumption order,
//! before it is applied. [`NoTap`] compiles to nothing; [`RecordingTap`]
//! copies each batch into the recording ring for a cold recorder thread
//! (`run --record`, `replay --record`).
//!
//! Hot-path rules: a tap never allocates, locks, logs or makes a system
//! call; a full recording ring is back-pressure (busy wait, counted as a
//! stall by the ring), never a dropped record.

use bytemuck::Pod;
use ringbuffers::{Producer, WaitStrategy, Waiter};
use tradeengine_adapters::feeds::{InputKind, RecordedInput};
use tradeengine_model::{AccountPolicy, Control, ExecReport, RollupChange, StrategySignal};

/// Sees each batch of inputs right before the hot loop applies it.
pub trait InputTap {
    fn signals(&mut self, batch: &[StrategySignal]);
    fn exec_reports(&mut self, batch: &[ExecReport]);
    fn controls(&mut self, batch: &[Control]);
    fn policies(&mut self, batch: &[AccountPolicy]);
    fn rollups(&mut self, batch: &[RollupChange]);
}

/// The tap of an unrecorded run: does nothing, costs nothing.
pub struct NoTap;

impl InputTap for NoTap {
    #[inline(always)]
    fn signals(&mut self, _: &[StrategySignal]) {}
    #[inline(always)]
    fn exec_reports(&mut self, _: &[ExecReport]) {}
    #[inline(always)]
    fn controls(&mut self, _: &[Control]) {}
    #[inline(always)]
    fn policies(&mut self, _: &[AccountPolicy]) {}
    #[inline(always)]
    fn rollups(&mut self, _: &[RollupChange]) {}
}

/// Publishes every consumed input as a [`RecordedInput`] on a ring.
pub struct RecordingTap {
    producer: Producer<RecordedInput>,
    next: u64,
    waiter: Waiter,
    /// Records lost because the recorder thread went away (0 in a healthy run).
    lost: u64,
}

impl RecordingTap {
    /// A tap publishing into `producer`. Start-up only.
    pub fn new(producer: Producer<RecordedInput>) -> Self {
        Self { producer, next: 0, waiter: Waiter::new(WaitStrategy::BusySpin), lost: 0 }
    }

    /// Inputs recorded so far.
    pub fn recorded(&self) -> u64 {
        self.next
    }

    /// Records the recorder never received.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    #[inline]
    fn put<E: Pod>(&mut self, kind: InputKind, batch: &[E]) {
        let next = &mut self.next;
        let wrap = |e: &E| {
            let r = RecordedInput { kind: kind as u8, index: *next, event: bytemuck::cast(*e), ..Default::default() };
            *next += 1;
            r
        };
        if let Err(e) = self.producer.push_slice_map(batch, &mut self.waiter, wrap) {
            self.lost += (batch.len() - e.published) as u64;
        }
    }
}

impl InputTap for RecordingTap {
    #[inline]
    fn signals(&mut self, b: &[StrategySignal]) {
        self.put(InputKind::Signal, b)
    }
    #[inline]
    fn exec_reports(&mut self, b: &[ExecReport]) {
        self.put(InputKind::ExecReport, b)
    }
    #[inline]
    fn controls(&mut self, b: &[Control]) {
        self.put(InputKind::Control, b)
    }
    #[inline]
    fn policies(&mut self, b: &[AccountPolicy]) {
        self.put(InputKind::Policy, b)
    }
    #[inline]
    fn rollups(&mut self, b: &[RollupChange]) {
        self.put(InputKind::Rollup, b)
    }
}
