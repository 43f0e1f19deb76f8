//! Failures of a real Fluss cluster (two tablet servers, replication factor
//! 2) during a replay: a tablet server killed and restarted mid-run loses no
//! row and duplicates none (the run rides through: failed commits are
//! retried on a new connection, skipping the log rows that landed); a
//! cluster that stops answering for longer than the write timeout stops the
//! run with a clear error, the store keeps everything committed, and
//! `--resume` completes it to exactly the tables of an uninterrupted run.
//!
//! (With a single tablet server, Fluss truncates a restarted server's logs
//! to its last high-watermark checkpoint, dropping acknowledged rows: the
//! store then stops with "the cluster lost acknowledged rows". Durability
//! across a server crash needs a replica.)
#![cfg(feature = "fluss")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::cli::{bin, comparable, run_ok, tmp};
use common::fluss::Cluster;
use tradeengine_adapters::store::TABLES;

const N: &str = "40000";

fn config(dir: &Path, cluster: &Cluster, database: &str, extra: &str) -> PathBuf {
    let p = dir.join(format!("{database}.toml"));
    std::fs::write(
        &p,
        format!(
            "store = \"fluss\"\n[fluss]\nbootstrap_servers = \"{}\"\ndatabase = \"{database}\"\n{extra}\
             [portfolio]\nsnapshot_interval_ms = 10\n",
            cluster.bootstrap
        ),
    )
    .unwrap();
    p
}

/// Every table of the store `cfg` names, without the checkpoint's wall clock.
fn tables(cfg: &Path) -> Vec<(String, String)> {
    TABLES
        .iter()
        .map(|t| (t.to_string(), comparable(t, run_ok(&["--config", cfg.to_str().unwrap(), "store", "dump", t]))))
        .collect()
}

/// Asserts every table of `cfg`'s store equals `reference`; on a difference
/// the message shows `log` (the run's stderr: its retries).
fn assert_same(reference: &[(String, String)], cfg: &Path, log: &str) {
    let mut bad = Vec::new();
    for ((t, want), (_, got)) in reference.iter().zip(tables(cfg)) {
        if *want != got {
            let w: std::collections::BTreeSet<&str> = want.lines().collect();
            let g: std::collections::BTreeSet<&str> = got.lines().collect();
            let missing: Vec<&&str> = w.difference(&g).take(3).collect();
            let extra: Vec<&&str> = g.difference(&w).take(3).collect();
            bad.push(format!(
                "{t}: {} vs {} lines ({} distinct); missing e.g. {missing:?}; extra e.g. {extra:?}",
                want.lines().count(),
                got.lines().count(),
                g.len()
            ));
        }
    }
    assert!(bad.is_empty(), "tables differ from the uninterrupted run:\n{}\nthe run said:\n{log}", bad.join("\n"));
}

/// A replay paced to last ~16 s (W1: 1 µs of event time per signal).
fn paced(cfg: &Path) -> std::process::Child {
    Command::new(bin())
        .args(["--config", cfg.to_str().unwrap(), "replay", "--workload", "w1", "--n", N, "--speed", "0.0025"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn tablet_server_failures_lose_nothing_duplicate_nothing_and_a_long_outage_resumes_exactly() {
    let cluster = Cluster::start_with("failures", 2);
    let d = tmp("fluss-failures");
    let reference = config(&d, &cluster, "reference", "");
    run_ok(&["--config", reference.to_str().unwrap(), "replay", "--workload", "w1", "--n", N]);
    let want = tables(&reference);
    assert!(want.iter().all(|(t, d)| d.lines().count() > 1 || t == "risk_events"));

    // 1. The tablet server dies 4 s in and comes back: the run rides through.
    let ride = config(&d, &cluster, "ride", "");
    let child = paced(&ride);
    std::thread::sleep(Duration::from_secs(4));
    cluster.script("kill-tablet");
    std::thread::sleep(Duration::from_secs(2));
    cluster.script("start-tablet");
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the run did not ride through: {log}");
    assert_same(&want, &ride, &log);

    // 2. Unanswered for longer than the write timeout (every tablet server
    //    frozen, as in a network cut): a clear error, then --resume.
    let cut = config(&d, &cluster, "cut", "write_timeout_secs = 3\n");
    let child = paced(&cut);
    std::thread::sleep(Duration::from_secs(4));
    cluster.script("pause");
    let out = child.wait_with_output().unwrap();
    cluster.script("resume");
    // A frozen server still holds the dead engine's last requests in its
    // socket buffers and applies them when thawed; let it, before the
    // restart reads what landed (a real cut delivers or drops them before).
    std::thread::sleep(Duration::from_secs(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the run should have stopped");
    assert!(err.contains("the store stopped the run: store fluss: "), "{err}");
    assert!(err.contains("no acknowledgement within 3s"), "{err}");
    assert!(err.contains("run the same command with --resume"), "{err}");
    // The same store, with the default write timeout: a just-thawed cluster
    // on a loaded 2-core machine can take longer than 3 s to answer at
    // first (seen once in CI), which is not what this step tests.
    let cut = config(&d, &cluster, "cut", "");
    let out = run_ok(&["--config", cut.to_str().unwrap(), "replay", "--workload", "w1", "--n", N, "--resume"]);
    assert!(out.contains("replay W1 into fluss: inputs "), "{out}");
    assert_same(&want, &cut, &format!("{err}\n(resumed) {out}"));
}
