//! The Fluss store against a real cluster (tools/fluss/cluster.sh): a W1
//! replay into Fluss gives exactly the tables of the same replay into
//! SQLite — same rows, same CSV from `store dump` — and a finished run is
//! not overwritten and resumes as a no-op.
#![cfg(feature = "fluss")]

use std::path::Path;

mod common;
use common::cli::{comparable, dump, run_err, run_ok, tmp};
use common::fluss::Cluster;
use tradeengine_adapters::store::TABLES;

fn dump_fluss(cfg: &Path, table: &str) -> String {
    run_ok(&["--config", cfg.to_str().unwrap(), "store", "dump", table])
}

#[test]
fn w1_into_fluss_equals_w1_into_sqlite() {
    let n = "100000";
    let cluster = Cluster::start("w1");
    let d = tmp("fluss-w1");
    let fl = d.join("fluss.toml");
    std::fs::write(
        &fl,
        format!(
            "store = \"fluss\"\n[fluss]\nbootstrap_servers = \"{}\"\n[portfolio]\nsnapshot_interval_ms = 10\n",
            cluster.bootstrap
        ),
    )
    .unwrap();
    let sq = d.join("sqlite.toml");
    std::fs::write(&sq, "[portfolio]\nsnapshot_interval_ms = 10\n").unwrap();
    let db = d.join("w1.db");
    let f_out = run_ok(&["--config", fl.to_str().unwrap(), "replay", "--workload", "w1", "--n", n]);
    let s_out = run_ok(&[
        "--config",
        sq.to_str().unwrap(),
        "replay",
        "--workload",
        "w1",
        "--n",
        n,
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(f_out.contains("replay W1 into fluss"), "{f_out}");
    let fields = |o: &str| o.lines().last().unwrap().split(" secs=").next().unwrap().to_string();
    assert_eq!(fields(&f_out), fields(&s_out), "same positions, checksum and realized P&L");
    for t in TABLES {
        let (a, b) = (comparable(t, dump_fluss(&fl, t)), comparable(t, dump(&db, t)));
        assert!(a.lines().count() > 1 || *t == "risk_events", "{t} is empty");
        assert!(a == b, "table {t} differs between Fluss and SQLite");
    }
    // The run is kept: a new run is refused, a resume of the finished run changes nothing.
    let e = run_err(&["--config", fl.to_str().unwrap(), "replay", "--workload", "w1", "--n", n]);
    assert!(e.contains("already holds a run through input 99999: add --resume"), "{e}");
    let before: Vec<String> = TABLES.iter().map(|t| comparable(t, dump_fluss(&fl, t))).collect();
    let out = run_ok(&["--config", fl.to_str().unwrap(), "replay", "--workload", "w1", "--n", n, "--resume"]);
    // (With Fluss the line's decision counts are this run's — none — while
    // positions, checksum and P&L are the restored state's.)
    let state = |o: &str| fields(o).split(" open_positions=").nth(1).unwrap().to_string();
    assert_eq!(state(&out), state(&s_out));
    assert!(out.contains("inputs 100000..100000 (0 signals this run)"), "{out}");
    let after: Vec<String> = TABLES.iter().map(|t| comparable(t, dump_fluss(&fl, t))).collect();
    assert!(before == after, "resuming a finished run wrote something");
}

#[test]
fn an_unreachable_cluster_is_a_clear_error_and_nothing_runs() {
    let d = tmp("fluss-down");
    let fl = d.join("down.toml");
    let port = common::fluss::free_base();
    std::fs::write(&fl, format!("store = \"fluss\"\n[fluss]\nbootstrap_servers = \"127.0.0.1:{port}\"\n")).unwrap();
    let e = run_err(&["--config", fl.to_str().unwrap(), "replay", "--workload", "w1", "--n", "100"]);
    assert!(e.contains(&format!("fluss 127.0.0.1:{port}: connecting")), "{e}");
}
