//! The hot path: everything the pinned hot thread runs after start-up.
//!
//! Rules for every file in this folder: after construction nothing allocates,
//! locks, makes a system call, formats or logs. Tables are preallocated from
//! configured capacities. Proven by `tests/hot_alloc.rs`.

pub mod accounts;
pub mod bitrows;
pub mod engine;
pub mod holders;
pub mod journal;
pub mod memory;
pub mod orders;
pub mod picker;
pub mod positions;
pub mod ring_venue;
pub mod risk;
pub mod run;
pub mod sizing;
pub mod tap;

pub use engine::{HotCounters, HotEngine, HotParams};
pub use journal::JournalOut;
pub use picker::{SellFound, SellLookAhead, TieBreak};
pub use ring_venue::RingVenue;
pub use run::{run_hot_loop, run_hot_loop_tapped, HotInputs, LoopParams, LoopStats};
pub use sizing::{SizingModel, SizingParams};
pub use tap::{InputTap, NoTap, RecordingTap};
