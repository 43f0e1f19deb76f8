//! The live engine end to end against the QuickFIX/J Executor: signals sent
//! to the ingress (JSON lines and binary frames) become orders at the
//! Executor, fills come back into positions and the store; a bad line is
//! refused and the good ones kept; Ctrl-C drains and shuts down cleanly; the
//! run's recording replays to the same tables; `--resume` continues the
//! input sequence after the store's checkpoint.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::cli::{assert_same_tables, bin, dump, run_ok, tmp};
use common::executor::{free_port, Executor};

fn start_engine(cfg: &Path, db: &Path, extra: &[&str]) -> Child {
    Command::new(bin())
        .args(["--config", cfg.to_str().unwrap(), "run", "--db", db.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_listening(port: u16) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(20), "the ingress never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_rows(db: &Path, table: &str, rows: usize) -> String {
    let t0 = Instant::now();
    loop {
        let d = dump(db, table);
        if d.lines().count() > rows {
            return d;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{table} never reached {rows} rows:\n{d}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn interrupt(child: Child) -> String {
    let ok = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn send(cfg: &Path, file: &Path) -> std::process::Output {
    Command::new(bin()).args(["--config", cfg.to_str().unwrap(), "send", file.to_str().unwrap()]).output().unwrap()
}

fn signal(symbol: &str, side: &str, close: f64, second: u32) -> String {
    format!(
        "{{\"runId\":\"live\",\"symbol\":\"{symbol}\",\"timestamp\":\"2024-01-02T10:00:{second:02}Z\",\"close\":{close},\"sma5\":1,\"sma21\":1,\"signal\":\"{side}\",\"signalStrength\":0.5}}\n"
    )
}

#[test]
fn signals_to_fills_to_store_then_replay_and_resume() {
    let ex = Executor::start("live");
    let d = tmp("live");
    let port = free_port();
    let cfg = d.join("live.toml");
    std::fs::write(
        &cfg,
        format!(
            "[accounts]\ncount = 3\n[live]\ningress = \"127.0.0.1:{port}\"\nsymbols = [\"AAA\", \"BBB\"]\n\
             fix_addr = \"127.0.0.1:{}\"\nseq_dir = \"{}\"\ndrain_secs = 5\n",
            ex.port,
            d.join("fixseq").display()
        ),
    )
    .unwrap();
    let db = d.join("live.db");
    let rec = d.join("live.rec");
    let engine = start_engine(&cfg, &db, &["--record", rec.to_str().unwrap()]);
    wait_listening(port);

    // Two BUYs and a line for an unknown symbol: the good ones are kept.
    let f1 = d.join("buys.jsonl");
    std::fs::write(&f1, signal("AAA", "BUY", 12.0, 0) + &signal("ZZZ", "BUY", 1.0, 1) + &signal("BBB", "BUY", 20.0, 2))
        .unwrap();
    let out = send(&cfg, &f1);
    assert!(!out.status.success(), "a refused line makes send fail");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("sent 3 signals") && stdout.contains("2 accepted, 1 refused"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2: field symbol: `ZZZ` is not a traded symbol"));
    let fills = wait_rows(&db, "fills", 2);
    assert!(fills.lines().skip(1).all(|l| l.contains(",12.3,")), "filled at the Executor's market price:\n{fills}");

    // Close AAA.
    let f2 = d.join("sell.jsonl");
    std::fs::write(&f2, signal("AAA", "SELL", 13.0, 3)).unwrap();
    assert!(send(&cfg, &f2).status.success());
    wait_rows(&db, "fills", 3);

    // A binary frame (a capture whose dictionary lists AAA then BBB).
    let csv = d.join("bin.csv");
    std::fs::write(
        &csv,
        "runId,symbol,timestamp,close,sma5,sma21,signal,signalStrength\nlive,AAA,2024-01-02T10:00:04Z,11,1,1,BUY,1\n",
    )
    .unwrap();
    let cap = d.join("bin.cap");
    run_ok(&["capture", "import", csv.to_str().unwrap(), "--out", cap.to_str().unwrap()]);
    let out = send(&cfg, &cap);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_rows(&db, "fills", 4);

    let summary = interrupt(engine);
    assert!(summary.contains("4 signals (1 refused at the ingress); routed 3 BUY, 1 SELL; dropped 0"), "{summary}");
    assert!(summary.contains("4 orders sent") && summary.contains("orders open at exit 0"), "{summary}");
    assert!(summary.contains("recorded: 12 inputs"), "4 signals and 8 execution reports: {summary}");
    let positions = dump(&db, "open_positions_rollup");
    let held: Vec<String> =
        positions.lines().skip(1).map(|l| l.split(',').take(3).collect::<Vec<_>>().join(",")).collect();
    assert_eq!(
        held,
        ["ACC-0000,AAA,1.0", "ACC-0001,BBB,1.0"],
        "AAA closed and bought again by the least-loaded account"
    );
    let orders = dump(&db, "orders");
    assert_eq!(orders.lines().filter(|l| l.contains(",FILLED,")).count(), 4, "{orders}");
    assert!(dump(&db, "engine_checkpoint").contains("\n0,3,"), "checkpoint after input 3");
    let nos = ex.messages().iter().filter(|m| m.contains("incoming") && m.contains("|35=D|")).count();
    assert_eq!(nos, 4, "the Executor received each order once");

    // The recording reproduces the live run's tables.
    let replay_db = d.join("replayed.db");
    run_ok(&[
        "--config",
        cfg.to_str().unwrap(),
        "replay",
        "--feed",
        rec.to_str().unwrap(),
        "--db",
        replay_db.to_str().unwrap(),
    ]);
    assert_same_tables(&db, &replay_db);

    // Resume: input numbers go on after the checkpoint; held positions are kept.
    let engine = start_engine(&cfg, &db, &["--resume"]);
    wait_listening(port);
    let f3 = d.join("more.jsonl");
    std::fs::write(&f3, signal("BBB", "SELL", 21.0, 5)).unwrap();
    assert!(send(&cfg, &f3).status.success());
    wait_rows(&db, "fills", 5);
    let summary = interrupt(engine);
    assert!(summary.contains("inputs from 4: 1 signals") && summary.contains("routed 0 BUY, 1 SELL"), "{summary}");
    let signals = dump(&db, "trade_signals");
    assert!(signals.lines().last().unwrap().starts_with("4,"), "{signals}");
    assert_eq!(dump(&db, "open_positions_rollup").lines().count(), 2, "BBB closed, AAA still held");
}
