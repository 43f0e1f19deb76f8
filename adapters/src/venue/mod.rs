//! Venues: where orders go and execution reports come from.

pub mod sim;

pub use sim::SimVenue;

use tradeengine_model::{ExecReport, OrderRequest};

/// Execution reports a venue produced for one call (fixed capacity, no allocation).
#[derive(Clone, Copy, Debug)]
pub struct ExecBatch {
    reports: [ExecReport; ExecBatch::CAPACITY],
    len: usize,
}

impl Default for ExecBatch {
    fn default() -> Self {
        Self { reports: [ExecReport::default(); Self::CAPACITY], len: 0 }
    }
}

impl ExecBatch {
    /// Most reports one venue call may produce.
    pub const CAPACITY: usize = 8;

    /// Appends a report; returns false (and keeps the batch) if it is full.
    #[inline]
    pub fn push(&mut self, r: ExecReport) -> bool {
        if self.len == Self::CAPACITY {
            return false;
        }
        self.reports[self.len] = r;
        self.len += 1;
        true
    }

    /// The reports, in the order the venue produced them.
    #[inline]
    pub fn as_slice(&self) -> &[ExecReport] {
        &self.reports[..self.len]
    }

    /// Empties the batch.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// A complete fill of a NEW order that the venue made within the call that
/// took the order (see [`Venue::fill_at_once`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstantFill {
    /// Quantity filled: the whole order.
    pub qty: f64,
    /// Price of the fill.
    pub px: f64,
}

/// A venue called inline by the hot loop.
///
/// Implementations must be deterministic for a given input and must never
/// allocate, lock, block or make a system call in `submit`.
pub trait Venue {
    /// Accepts one order and appends the reports it causes now to `out`.
    fn submit(&mut self, order: &OrderRequest, out: &mut ExecBatch);

    /// Takes a NEW order that this venue fills completely, at once, and
    /// returns that fill instead of writing an execution report (the hot
    /// path's fast lane: nothing to build, nothing to re-read). `None`: the
    /// order was not taken and the caller must [`Venue::submit`] it. The
    /// default takes nothing. Same rules as `submit`: no allocation, no
    /// lock, no system call.
    #[inline]
    fn fill_at_once(&mut self, _order: &OrderRequest) -> Option<InstantFill> {
        None
    }

    /// Publishes whatever `submit` staged (called once per hot-loop turn).
    /// Must not allocate; may wait (busy) on a full outbound ring.
    fn flush(&mut self) {}
}
