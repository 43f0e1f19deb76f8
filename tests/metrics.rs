//! The Prometheus endpoint: the exposition passes `promtool check metrics`
//! (Debian package `prometheus`, installed by tools/test.sh), over real HTTP.

use std::io::Write;
use std::process::{Command, Stdio};

mod common;

use ringbuffers::channel;
use tradeengine::cold::{AccountCapacity, EngineMetrics, JournalSummary, MetricsServer};
use tradeengine_model::{JournalEvent, Outcome, TradeSignal};

fn promtool_check(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: tools/test.sh installs it (Debian package `prometheus`)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    common::cli::http_get(addr, path).unwrap()
}

fn populated() -> std::sync::Arc<EngineMetrics> {
    let m = EngineMetrics::new();
    let mut sum = JournalSummary::default();
    for (i, o) in [Outcome::Routed, Outcome::Routed, Outcome::NoHolder].iter().enumerate() {
        sum.add(&JournalEvent::from(TradeSignal { outcome: *o as u8, seq: i as u64, ..Default::default() }));
    }
    m.set_summary(&sum);
    let (mut tx, mut rx) = channel::<u64>("signals", 8);
    assert!(tx.try_push(1) && tx.try_push(2));
    rx.drain(1, |_| {});
    m.add_ring(tx.stats().clone());
    m.set_accounts(vec![
        AccountCapacity { name: "ACC-0000".into(), open_positions: 5, max_open_symbols: 20 },
        AccountCapacity { name: "we\"ird".into(), open_positions: 0, max_open_symbols: 20 },
    ]);
    m.journaled_seq.store(10, std::sync::atomic::Ordering::Relaxed);
    m.persisted_seq.store(7, std::sync::atomic::Ordering::Relaxed);
    m.store_commit_seconds_max.set(0.25);
    m
}

#[test]
fn exposition_passes_promtool_and_carries_the_values() {
    let text = populated().render();
    let (ok, msg) = promtool_check(&text);
    assert!(ok, "promtool rejected the exposition: {msg}\n{text}");
    for line in [
        "tradeengine_decisions_total{outcome=\"routed\"} 2",
        "tradeengine_decisions_total{outcome=\"no_holder\"} 1",
        "tradeengine_store_lag_inputs 3",
        "tradeengine_store_commit_seconds_max 0.25",
        "tradeengine_ring_depth{ring=\"signals\"} 1",
        "tradeengine_ring_high_water{ring=\"signals\"} 2",
        "tradeengine_account_capacity_used_ratio{account=\"ACC-0000\"} 0.25",
        "tradeengine_account_open_positions{account=\"we\\\"ird\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
    }
}

#[test]
fn served_over_http_on_loopback() {
    let server = MetricsServer::start("127.0.0.1:0", populated()).unwrap();
    assert!(server.addr().ip().is_loopback());
    let resp = get(server.addr(), "/metrics");
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("Content-Type: text/plain; version=0.0.4"));
    let body = resp.split("\r\n\r\n").nth(1).unwrap();
    let (ok, msg) = promtool_check(body);
    assert!(ok, "{msg}");
    assert!(get(server.addr(), "/other").starts_with("HTTP/1.1 404"));
    drop(server);
}

#[test]
fn grafana_dashboard_uses_only_exposed_metrics() {
    let dash =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tools/grafana/tradeengine-dashboard.json"))
            .unwrap();
    let text = populated().render();
    let mut names: Vec<&str> = Vec::new();
    let mut rest = dash.as_str();
    while let Some(i) = rest.find("tradeengine_") {
        let tail = &rest[i..];
        let end = tail.find(|c: char| !(c.is_ascii_lowercase() || c == '_')).unwrap_or(tail.len());
        names.push(&tail[..end]);
        rest = &tail[end..];
    }
    assert!(names.len() >= 8, "the dashboard has panels: {names:?}");
    for n in names {
        assert!(text.contains(&format!("# TYPE {n} ")), "the dashboard uses `{n}`, which the endpoint does not expose");
    }
}
