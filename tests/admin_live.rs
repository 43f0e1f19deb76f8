//! Operators on a running engine: `tradeengine admin` flips the kill switch
//! through the admin endpoint of a live replay; the hot thread applies it, the
//! store records it, and a wrong token is refused.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::cli::{bin, dump, http_get};
use common::executor::free_port;

fn admin(addr: &str, token: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(["admin", "--addr", addr, "--token", token]).args(args).output().unwrap()
}

/// Signals the replay's engine has routed so far, by its metrics endpoint
/// (`None` while the endpoint is not up).
fn routed(metrics: &str) -> Option<u64> {
    let s = http_get(metrics, "/metrics").ok()?;
    s.lines().find_map(|l| l.strip_prefix("tradeengine_decisions_total{outcome=\"routed\"} ")?.trim().parse().ok())
}

#[test]
fn kill_switch_from_the_admin_endpoint_stops_new_orders() {
    let dir = std::env::temp_dir().join(format!("te-admin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = dir.join("a.db");
    let addr = format!("127.0.0.1:{}", free_port());
    let metrics = format!("127.0.0.1:{}", free_port());
    let child = Command::new(bin())
        .args(["replay", "--workload", "w1", "--n", "800000", "--db", db.to_str().unwrap(), "--admin", &addr])
        .args(["--metrics", &metrics])
        .env("TRADEENGINE_ADMIN_TOKEN", "t0k")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the endpoint, checking a wrong token is refused on the way.
    let t0 = Instant::now();
    loop {
        let out = admin(&addr, "wrong", &["kill"]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        if err.contains("answered 401") {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "the admin endpoint never answered: {err}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The endpoint is up before the hot thread starts: a kill sent now
    // could be applied before the first signal. Wait until the engine
    // routes, so that the kill reaches a running engine.
    while routed(&metrics).is_none_or(|n| n == 0) {
        assert!(t0.elapsed() < Duration::from_secs(30), "the replay never routed a signal");
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = admin(&addr, "t0k", &["kill"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok kill_all\n");
    let bad = admin(&addr, "t0k", &["set-status", "NOPE", "BLOCKED"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("unknown account `NOPE`"));
    let run = child.wait_with_output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let signals = dump(&db, "trade_signals");
    let outcomes: Vec<&str> = signals.lines().skip(1).map(|l| l.split(',').nth(5).unwrap()).collect();
    let first_kill = outcomes.iter().position(|o| *o == "kill_switch").expect("the kill switch dropped signals");
    assert!(first_kill > 0, "the kill arrived while the replay was running");
    assert!(outcomes[first_kill..].iter().all(|o| *o == "kill_switch"), "no order after the kill switch");
    assert!(
        dump(&db, "engine_checkpoint").lines().nth(1).unwrap().split(',').nth(3) == Some("1"),
        "kill switch stored"
    );
}

#[test]
fn admin_endpoint_needs_a_token() {
    let out = Command::new(bin())
        .args(["replay", "--n", "10", "--store", "none", "--admin", "127.0.0.1:0"])
        .env_remove("TRADEENGINE_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--admin needs a token"));
}
