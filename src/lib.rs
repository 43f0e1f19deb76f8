//! TradeEngine: strategy signals in, routed, risk-checked orders out, fills
//! applied to positions — on one pinned hot thread fed by lock-free rings,
//! with cold threads for everything else.
//!
//! - [`hot`]: the hot path (no allocation, lock, syscall or logging after start-up).
//! - [`cold`]: cold-path threads: journal summary, persistence, portfolio, metrics, admin.
//! - [`config`]: TOML configuration, validation, the built-in default.
//! - [`feed`]: what a run replays (W1/W2 generator or a capture file), its universe and rules.
//! - [`feeder`]: the feeder (signals, recordings, pacing) and recorder threads.
//! - [`pipeline`]: threads, pinning and rings wired together.
//! - [`replay`]: a workload into a store (SQLite by default), exactly-once resume.
//! - [`report`]: the backtest report (summary, breakdowns, equity and drawdown PNGs) from a store.
//! - [`live`]: `tradeengine run`, the live engine (ingress, FIX adapter, store).
//! - [`latency`]: the tail-latency harness (engine vs the bare ring round trip).

pub mod capture_cmd;
pub mod cold;
pub mod config;
pub mod doctor;
pub mod feed;
pub mod feeder;
#[cfg(feature = "fluss")]
pub mod fluss;
pub mod hot;
pub mod latency;
pub mod live;
pub mod pinning;
pub mod pipeline;
pub mod replay;
pub mod report;
pub mod run_bound;
pub mod send;
pub mod start_state;
