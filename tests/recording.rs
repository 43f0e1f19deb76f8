//! Recording a run and replaying the recording: `replay --record` writes
//! every input the hot thread consumed (signals and operator controls that
//! arrived mid-run through the admin endpoint) in consumption order;
//! `replay --feed <recording>` reproduces the run's decisions, orders,
//! fills, positions and portfolio exactly.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::cli::{assert_same_tables, bin, dump, run_err, run_ok, tmp};

fn admin(addr: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(["admin", "--addr", addr, "--token", "rec"]).args(args).output().unwrap()
}

#[test]
fn a_recorded_run_with_operator_actions_replays_identically() {
    let n = 30_000;
    let d = tmp("recording");
    let cap = d.join("w1.cap");
    run_ok(&["capture", "generate", "--n", &n.to_string(), "--out", cap.to_str().unwrap()]);
    let cfg = d.join("w1.cap.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[portfolio]\nsnapshot_interval_ms = 5\n");
    std::fs::write(&cfg, text).unwrap();
    let (cfg, cap) = (cfg.to_str().unwrap().to_string(), cap.to_str().unwrap().to_string());
    let rec = d.join("run.rec");
    let live_db = d.join("live.db");
    let addr = format!("127.0.0.1:{}", 20_000 + std::process::id() % 10_000);
    // 30 ms of event time at speed 0.01: about 3 s, long enough to act on.
    let child = Command::new(bin())
        .args(["--config", &cfg, "replay", "--feed", &cap, "--speed", "0.01", "--admin", &addr])
        .args(["--db", live_db.to_str().unwrap(), "--record", rec.to_str().unwrap()])
        .env("TRADEENGINE_ADMIN_TOKEN", "rec")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !admin(&addr, &["block-buys", "ACC-0003"]).status.success() {
        assert!(t0.elapsed() < Duration::from_secs(20), "the admin endpoint never answered");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(admin(&addr, &["set-status", "ACC-0005", "BLOCKED"]).status.success());
    assert!(admin(&addr, &["kill-account", "ACC-0007"]).status.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(admin(&addr, &["allow-buys", "ACC-0003"]).status.success());
    assert!(admin(&addr, &["kill"]).status.success());
    std::thread::sleep(Duration::from_millis(200));
    assert!(admin(&addr, &["release"]).status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("recorded: {} inputs to {}", n + 6, rec.display())), "{stdout}");

    // The operator actions really happened mid-run.
    let signals = dump(&live_db, "trade_signals");
    let kill_drops = signals.lines().filter(|l| l.contains(",kill_switch,")).count();
    assert!(kill_drops > 0 && kill_drops < n as usize, "the kill switch was on for part of the run ({kill_drops})");
    let info = run_ok(&["capture", "inspect", rec.to_str().unwrap()]);
    assert!(
        info.contains(&format!("inputs         {n} signals, 0 exec reports, 6 controls, 0 policies, 0 rollups")),
        "{info}"
    );

    // Replaying the recording (as fast as possible) reproduces every table.
    let replay_db = d.join("replayed.db");
    let out =
        run_ok(&["--config", &cfg, "replay", "--feed", rec.to_str().unwrap(), "--db", replay_db.to_str().unwrap()]);
    assert!(out.contains("replay recording"), "{out}");
    assert_same_tables(&live_db, &replay_db);

    // A recording replays under the config it was recorded with, and from its start.
    let e = run_err(&["replay", "--feed", rec.to_str().unwrap(), "--store", "none"]);
    assert!(e.contains("recorded with 1000 accounts (ACC-0000…), the config has 10"), "{e}");
    let e = run_err(&[
        "--config",
        &cfg,
        "replay",
        "--feed",
        rec.to_str().unwrap(),
        "--db",
        replay_db.to_str().unwrap(),
        "--resume",
    ]);
    assert!(e.contains("a recording replays from its start"), "{e}");
}
