//! The cold path: threads that consume what the hot thread publishes. They
//! may allocate, lock and do I/O, and they share cores, so when idle they park
//! or yield instead of spinning.

pub mod admin;
pub mod http;
pub mod journal_expand;
pub mod journal_summary;
pub mod metrics;
pub mod persist;
pub mod portfolio;

pub use admin::AdminServer;
pub use journal_expand::JournalExpander;
pub use journal_summary::{drain_journal, JournalSummary};
pub use metrics::{AccountCapacity, EngineMetrics, MetricsServer};
pub use persist::{persist_journal, MetricsHook, PersistOutcome, PersistParams};
pub use portfolio::Portfolio;
