//! TradeEngine's event model: every event that crosses a ring, lands in a
//! capture file or is journaled is defined here, once, as a fixed-size
//! `#[repr(C)]` [`bytemuck::Pod`] struct of at most 64 bytes.
//!
//! Strings (accounts, symbols, strategies) never travel on the hot path: they
//! are interned to dense `u32` ids at the edge ([`Interner`]) and the names are
//! kept beside the run for output.

pub mod codes;
pub mod events;
pub mod interner;
pub mod journal;

pub use codes::*;
pub use events::*;
pub use interner::Interner;
pub use journal::{JournalEvent, JournalKind, JournalRecord};

/// Dense account id (index into the hot thread's account tables).
pub type AccountId = u32;
/// Dense symbol id (index into the hot thread's symbol tables).
pub type SymbolId = u32;
/// Dense strategy / run id.
pub type StrategyId = u32;
/// Marker for "no account" in records that may have none (dropped decisions).
pub const NO_ACCOUNT: AccountId = u32::MAX;
