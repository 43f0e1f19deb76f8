//! Replay into SQLite: the tables agree with the engine, `store dump` prints
//! them, and a run killed with SIGKILL at random points and resumed ends with
//! exactly the tables of an uninterrupted run (nothing lost, nothing twice).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tradeengine::config::Config;
use tradeengine::pipeline::{run_workload, HotHooks, WorkloadFeed};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};

mod common;
use common::cli::{bin, dump, result_fields, tables, tmp};

/// A config with event-time portfolio snapshots every 10 ms (W1 signals are
/// 1 µs apart: one snapshot per 10,000 signals).
fn snapshot_config(dir: &Path) -> PathBuf {
    let p = dir.join("te.toml");
    std::fs::write(&p, "[portfolio]\nsnapshot_interval_ms = 10\n").unwrap();
    p
}

fn replay(db: &Path, n: u64, resume: bool) -> std::process::Child {
    let mut c = Command::new(bin());
    let cfg = snapshot_config(db.parent().unwrap());
    c.args(["--config", cfg.to_str().unwrap()]);
    c.args(["replay", "--workload", "w1", "--n", &n.to_string(), "--db", db.to_str().unwrap()]);
    if resume {
        c.arg("--resume");
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

fn finish(c: std::process::Child) -> String {
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "replay failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn replay_tables_match_the_engine_and_dump_as_csv() {
    let n = 30_000;
    let d = tmp("basic");
    let db = d.join("t.db");
    let out = finish(replay(&db, n, false));
    let bench = run_workload(
        &Config::builtin(),
        &Workload::new(WorkloadKind::W1, n, 42),
        WorkloadFeed::Generated,
        HotHooks::default(),
    )
    .unwrap();
    assert_eq!(result_fields(&out), bench.result_fields(), "tables read back give the bench's result");
    assert!(out.contains("replay W1 into sqlite") && out.contains("throughput:"), "{out}");
    let signals = dump(&db, "trade_signals");
    assert!(signals.starts_with("seq,ts_event,strategy,symbol,side,outcome,route,account,order_id,qty,price\n"));
    assert_eq!(signals.lines().count() as u64, n + 1);
    let fills = dump(&db, "fills");
    assert_eq!(fills.lines().count() as u64 - 1, bench.counters.fills);
    let orders = dump(&db, "orders");
    assert_eq!(orders.lines().count() as u64 - 1, bench.counters.routed_buy + bench.counters.routed_sell);
    assert!(orders.lines().skip(1).all(|l| l.contains(",FILLED,")), "inline fills leave every order FILLED");
    let positions = dump(&db, "open_positions_rollup");
    assert_eq!(positions.lines().count() as u64 - 1, bench.open_positions);
    let last_ts = 1_700_000_000_000_000_000u64 + (n - 1) * 1_000;
    assert!(dump(&db, "engine_checkpoint").contains(&format!("\n0,{},{last_ts},0,", n - 1)));
    assert_eq!(dump(&db, "account_policy").lines().count(), 1001);
    // Portfolio rows for every account that traded, snapshots every 10 ms of event time.
    let portfolio = dump(&db, "portfolio");
    assert!(portfolio.starts_with("account,initial_capital,cash,equity,realized_pnl,unrealized_pnl,gross_exposure,net_exposure,open_positions,capital_usage_pct,peak_equity,drawdown_pct,fills,seq,ts_event\n"), "{portfolio}");
    assert_eq!(portfolio.lines().count(), 981, "the 980 ACTIVE accounts traded");
    let pnl = dump(&db, "pnl_timeseries");
    let snapshots: std::collections::BTreeSet<&str> =
        pnl.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(snapshots.len() as u64, (n - 1) / 10_000, "one snapshot per 10 ms of event time");
    assert_eq!(dump(&db, "symbol_marks").lines().count(), 501);
    // A second run into the same database must say how to continue it.
    let again = replay(&db, n, false).wait_with_output().unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("add --resume"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // Resuming a finished run does nothing and changes nothing.
    let before = tables(&db);
    let out = finish(replay(&db, n, true));
    assert_eq!(result_fields(&out), bench.result_fields());
    assert_eq!(tables(&db), before);
    // Bad dump requests are clear errors.
    let e = Command::new(bin()).args(["store", "dump", "nope", "--db", db.to_str().unwrap()]).output().unwrap();
    assert!(!e.status.success() && String::from_utf8_lossy(&e.stderr).contains("unknown table `nope`"));
    let e = Command::new(bin()).args(["store", "dump", "fills", "--db", "/nonexistent/x.db"]).output().unwrap();
    assert!(!e.status.success() && String::from_utf8_lossy(&e.stderr).contains("no database at /nonexistent/x.db"));
}

#[test]
fn killed_at_random_points_and_resumed_equals_uninterrupted() {
    let n = 150_000;
    let d = tmp("kill");
    let reference_db = d.join("reference.db");
    let t0 = std::time::Instant::now();
    let reference_out = finish(replay(&reference_db, n, false));
    let full = t0.elapsed();
    let reference = tables(&reference_db);

    let db = d.join("crashy.db");
    // Deterministic "random" kill points (xorshift), spread over the run.
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut kills = 0;
    let mut resume = false;
    for _ in 0..8 {
        if kills == 3 {
            break;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Somewhere in the first ~40 % of a full run's time: mid-run even for
        // the shorter resumed runs, at a different point each time.
        let delay = full.mul_f64((5 + rng % 35) as f64 / 100.0).max(Duration::from_millis(20));
        let mut child = replay(&db, n, resume);
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let _ = child.wait();
        resume = true;
    }
    let out = finish(replay(&db, n, true));
    assert!(kills >= 2, "the test must actually kill the process (killed {kills} times)");
    // The last resume started after a durable checkpoint, not from scratch.
    let started: u64 = out
        .lines()
        .find_map(|l| l.split("inputs ").nth(1))
        .and_then(|r| r.split("..").next())
        .and_then(|v| v.parse().ok())
        .expect("summary names the first input");
    assert!(started > 0, "the crashed runs committed nothing before being killed");
    assert_eq!(result_fields(&out), result_fields(&reference_out));
    for ((t, want), (_, got)) in reference.iter().zip(tables(&db)) {
        assert!(want == &got, "table {t} differs after {kills} kills");
    }
}
