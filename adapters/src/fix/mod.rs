//! FIX 4.4 execution adapter: codec (framing, fields, builder), session
//! layer (logon, heartbeats, sequence numbers, resend and gap fill, reject,
//! logout), application mapping (NewOrderSingle, OrderCancelRequest,
//! ExecutionReport, BusinessMessageReject), persisted sequence numbers, and
//! the mio link thread that joins them to the hot thread's rings.
//!
//! Cold path: the adapter runs on its own thread; it talks to the hot thread
//! only through the orders ring and the exec-reports ring. The codec and the
//! application mapping allocate nothing per message after start-up.

pub mod app;
pub mod codec;
pub mod link;
pub mod session;
pub mod store;

pub use app::FixApp;
pub use link::{FixLink, LinkConfig, LinkCounters, LinkReport};
pub use session::{Session, SessionConfig};
pub use store::SeqStore;
