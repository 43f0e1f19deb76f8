//! The live engine on Fluss, against the QuickFIX/J Executor and a real
//! cluster: signals appended to the Fluss log table `strategy_signals` (by
//! any client: here the test, through fluss-rs) become orders at the
//! Executor; fills, orders and positions land in Fluss; a bad row is
//! refused and reported, the good ones kept; Ctrl-C drains and stops;
//! `--resume` continues from the log offset after the checkpoint, with the
//! positions bootstrapped from Fluss.
#![cfg(feature = "fluss")]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::cli::{bin, run_ok, tmp};
use common::executor::Executor;
use common::fluss::Cluster;
use tradeengine_fluss::{FlussClient, Value};

/// Starts `run`; its stderr goes to `<cfg dir>/engine.err` (shown when a wait fails).
fn start_engine(cfg: &Path, extra: &[&str]) -> Child {
    let err = std::fs::File::create(cfg.with_file_name("engine.err")).unwrap();
    Command::new(bin())
        .args(["--config", cfg.to_str().unwrap(), "run"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap()
}

fn dump(cfg: &Path, table: &str) -> String {
    run_ok(&["--config", cfg.to_str().unwrap(), "store", "dump", table])
}

fn wait_rows(cfg: &Path, table: &str, rows: usize) -> String {
    let t0 = Instant::now();
    loop {
        let d = dump(cfg, table);
        if d.lines().count() > rows {
            return d;
        }
        let err = std::fs::read_to_string(cfg.with_file_name("engine.err")).unwrap_or_default();
        assert!(t0.elapsed() < Duration::from_secs(60), "{table} never reached {rows} rows:\n{d}\nengine: {err}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn interrupt(child: Child, cfg: &Path) -> (String, String) {
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let e = std::fs::read_to_string(cfg.with_file_name("engine.err")).unwrap();
    let o = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "run failed: {e}");
    (o, e)
}

fn signal(symbol: &str, side: &str, close: f64, k: i64) -> Vec<Value> {
    let t = |s: &str| Value::Text(s.into());
    vec![
        t("live"),
        t(symbol),
        Value::Int(1_704_189_600_000_000_000 + k * 1_000_000_000),
        Value::Real(close),
        Value::Real(1.0),
        Value::Real(1.0),
        t(side),
        Value::Real(0.5),
    ]
}

#[test]
fn signals_from_a_fluss_log_to_fills_in_fluss_then_resume() {
    let cluster = Cluster::start("live");
    let ex = Executor::start("fluss-live");
    let d = tmp("fluss-live");
    let cfg = d.join("live.toml");
    std::fs::write(
        &cfg,
        format!(
            "store = \"fluss\"\n[fluss]\nbootstrap_servers = \"{}\"\ndatabase = \"live\"\n[accounts]\ncount = 3\n\
             [live]\ninput = \"fluss\"\nsymbols = [\"AAA\", \"BBB\"]\nfix_addr = \"127.0.0.1:{}\"\nseq_dir = \"{}\"\n\
             drain_secs = 5\n",
            cluster.bootstrap,
            ex.port,
            d.join("fixseq").display()
        ),
    )
    .unwrap();
    let engine = start_engine(&cfg, &[]);
    let mut log = FlussClient::connect(&cluster.bootstrap, "live", Duration::from_secs(30)).unwrap();
    log.ensure_schema().unwrap();
    // Two BUYs, a row for an unknown symbol, then a SELL.
    let rows = [signal("AAA", "BUY", 12.0, 0), signal("ZZZ", "BUY", 1.0, 1), signal("BBB", "BUY", 20.0, 2)];
    log.append("strategy_signals", &rows).unwrap();
    wait_rows(&cfg, "fills", 2);
    log.append("strategy_signals", &[signal("AAA", "SELL", 13.0, 3)]).unwrap();
    let fills = wait_rows(&cfg, "fills", 3);
    assert!(fills.lines().skip(1).all(|l| l.contains(",12.3,")), "filled at the Executor's price:\n{fills}");
    let (summary, err) = interrupt(engine, &cfg);
    assert!(err.contains("strategy_signals offset 1: symbol `ZZZ` is not traded"), "{err}");
    assert!(summary.contains("3 signals (1 refused at the ingress); routed 2 BUY, 1 SELL; dropped 0"), "{summary}");
    assert!(summary.contains("3 orders sent") && summary.contains("orders open at exit 0"), "{summary}");
    let orders = dump(&cfg, "orders");
    assert_eq!(orders.lines().filter(|l| l.contains(",FILLED,")).count(), 3, "{orders}");
    assert!(dump(&cfg, "engine_checkpoint").contains("\n0,3,"), "checkpoint after log offset 3");
    let nos = ex.messages().iter().filter(|m| m.contains("incoming") && m.contains("|35=D|")).count();
    assert_eq!(nos, 3, "the Executor received each order once");

    // A second run without --resume is refused; with it, it reads on from offset 4.
    let e = Command::new(bin()).args(["--config", cfg.to_str().unwrap(), "run"]).output().unwrap();
    assert!(String::from_utf8_lossy(&e.stderr).contains("already holds a run through input 3: add --resume"));
    let engine = start_engine(&cfg, &["--resume"]);
    log.append("strategy_signals", &[signal("BBB", "SELL", 21.0, 4)]).unwrap();
    wait_rows(&cfg, "fills", 4);
    let (summary, _) = interrupt(engine, &cfg);
    assert!(summary.contains("inputs from 4: 1 signals") && summary.contains("routed 0 BUY, 1 SELL"), "{summary}");
    assert_eq!(dump(&cfg, "open_positions_rollup").lines().count(), 1, "both closed: no position left");
}
