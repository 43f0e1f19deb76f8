//! TradeEngine adapters: the edges of the engine.
//!
//! - [`feeds`]: signal sources (the deterministic W1/W2 workload generator).
//! - [`fix`]: the FIX 4.4 execution adapter (codec, session, application mapping, link thread).
//! - [`ingress`]: the live signal listener (JSON lines, binary frames).
//! - [`venue`]: venues orders go to (the inline, deterministic simulator).
//! - [`store`]: where the journal becomes durable state (SQLite, `none`).
//!
//! Nothing here touches the hot thread's state; the hot loop calls a venue
//! inline through the [`venue::Venue`] trait, and that call must never
//! allocate, lock or block.

pub mod feeds;
pub mod fix;
pub mod ingress;
pub mod store;
pub mod venue;
