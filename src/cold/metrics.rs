//! Prometheus metrics: values the cold threads keep, rendered in the text
//! exposition format and served over HTTP on loopback. The hot thread is
//! never involved: its decisions are counted from the journal, and ring
//! counters are read from the rings' own atomics. Cold path.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use ringbuffers::RingStats;
use tradeengine_model::Outcome;

use super::http::{HttpServer, Response};
use super::JournalSummary;

/// An `f64` in an atomic.
#[derive(Debug, Default)]
pub struct AtomicF64(AtomicU64);

impl AtomicF64 {
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Relaxed)
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }
}

/// One account's capacity use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountCapacity {
    pub name: String,
    pub open_positions: u32,
    pub max_open_symbols: u32,
}

/// Everything the endpoint exposes.
#[derive(Debug, Default)]
pub struct EngineMetrics {
    /// Journal counts (decisions by outcome, fills, …), replaced as the persistence thread advances.
    summary: Mutex<JournalSummary>,
    pub store_commits: AtomicU64,
    pub store_commit_seconds_total: AtomicF64,
    pub store_commit_seconds_max: AtomicF64,
    /// Highest input sequence the journal delivered / the store committed.
    pub journaled_seq: AtomicU64,
    pub persisted_seq: AtomicU64,
    rings: Mutex<Vec<Arc<RingStats>>>,
    accounts: Mutex<Vec<AccountCapacity>>,
}

impl EngineMetrics {
    /// A shared, empty registry.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Exposes a ring's counters.
    pub fn add_ring(&self, r: Arc<RingStats>) {
        self.rings.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    }

    /// Replaces the journal counts.
    pub fn set_summary(&self, s: &JournalSummary) {
        *self.summary.lock().unwrap_or_else(|e| e.into_inner()) = s.clone();
    }

    /// Replaces the per-account capacity use.
    pub fn set_accounts(&self, a: Vec<AccountCapacity>) {
        *self.accounts.lock().unwrap_or_else(|e| e.into_inner()) = a;
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let summary = self.summary.lock().unwrap_or_else(|e| e.into_inner()).clone();
        metric(
            &mut s,
            "tradeengine_decisions_total",
            "counter",
            "Routing decisions by outcome (routed or the drop reason).",
        );
        let _ = writeln!(s, "tradeengine_decisions_total{{outcome=\"routed\"}} {}", summary.routed);
        for o in Outcome::ALL.iter().filter(|o| o.is_drop()) {
            let _ = writeln!(
                s,
                "tradeengine_decisions_total{{outcome=\"{}\"}} {}",
                o.name(),
                summary.dropped_by[*o as usize]
            );
        }
        metric(&mut s, "tradeengine_fills_total", "counter", "Fills applied to positions.");
        let _ = writeln!(s, "tradeengine_fills_total {}", summary.fills);
        metric(&mut s, "tradeengine_order_updates_total", "counter", "Order state changes not carried by fills.");
        let _ = writeln!(s, "tradeengine_order_updates_total {}", summary.order_updates);
        metric(&mut s, "tradeengine_risk_events_total", "counter", "Risk rules that fired.");
        let _ = writeln!(s, "tradeengine_risk_events_total {}", summary.risk_events);
        metric(&mut s, "tradeengine_store_commits_total", "counter", "Store transactions committed.");
        let _ = writeln!(s, "tradeengine_store_commits_total {}", self.store_commits.load(Relaxed));
        metric(&mut s, "tradeengine_store_commit_seconds_total", "counter", "Time spent committing.");
        let _ = writeln!(s, "tradeengine_store_commit_seconds_total {}", self.store_commit_seconds_total.get());
        metric(&mut s, "tradeengine_store_commit_seconds_max", "gauge", "Slowest commit so far.");
        let _ = writeln!(s, "tradeengine_store_commit_seconds_max {}", self.store_commit_seconds_max.get());
        metric(&mut s, "tradeengine_store_lag_inputs", "gauge", "Inputs journaled but not yet committed to the store.");
        let lag = self.journaled_seq.load(Relaxed).saturating_sub(self.persisted_seq.load(Relaxed));
        let _ = writeln!(s, "tradeengine_store_lag_inputs {lag}");
        let rings = self.rings.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let ring_series: [RingSeries; 5] = [
            ("tradeengine_ring_depth", "gauge", "Events in the ring.", |r| r.depth()),
            ("tradeengine_ring_high_water", "gauge", "Largest depth seen by the consumer.", |r| r.high_water),
            ("tradeengine_ring_capacity", "gauge", "Ring capacity in events.", |r| r.capacity),
            ("tradeengine_ring_pushed_total", "counter", "Events published.", |r| r.pushed),
            ("tradeengine_ring_producer_stalls_total", "counter", "Times the producer found the ring full.", |r| {
                r.stalls
            }),
        ];
        for (name, kind, help, f) in ring_series {
            metric(&mut s, name, kind, help);
            for r in &rings {
                let _ = writeln!(s, "{name}{{ring=\"{}\"}} {}", r.name(), f(&r.snapshot()));
            }
        }
        metric(&mut s, "tradeengine_account_open_positions", "gauge", "Open positions per account.");
        let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for a in &accounts {
            let _ = writeln!(
                s,
                "tradeengine_account_open_positions{{account=\"{}\"}} {}",
                escape(&a.name),
                a.open_positions
            );
        }
        metric(
            &mut s,
            "tradeengine_account_capacity_used_ratio",
            "gauge",
            "Open positions / maxOpenSymbols per account.",
        );
        for a in &accounts {
            let used = if a.max_open_symbols > 0 { a.open_positions as f64 / a.max_open_symbols as f64 } else { 0.0 };
            let _ = writeln!(s, "tradeengine_account_capacity_used_ratio{{account=\"{}\"}} {used}", escape(&a.name));
        }
        s
    }
}

/// (name, kind, help, value of a ring snapshot)
type RingSeries = (&'static str, &'static str, &'static str, fn(&ringbuffers::RingSnapshot) -> u64);

fn metric(s: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A running metrics endpoint; stops when dropped.
pub struct MetricsServer {
    http: HttpServer,
}

impl MetricsServer {
    /// Serves `GET /metrics` on `listen` (e.g. `127.0.0.1:9464`; port 0 picks one).
    pub fn start(listen: &str, metrics: Arc<EngineMetrics>) -> std::io::Result<Self> {
        let http = HttpServer::start(listen, "te-metrics", move |req| {
            if req.method == "GET" && req.path == "/metrics" {
                Response { status: 200, content_type: "text/plain; version=0.0.4", body: metrics.render() }
            } else {
                Response::text(404, "only GET /metrics is served\n")
            }
        })?;
        Ok(Self { http })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }
}
