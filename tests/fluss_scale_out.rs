//! Scale-out on a real Fluss cluster: two engines, each owning a slice of
//! the accounts and taking the signals of a slice of the symbols
//! (`[partition]`), replay W1 at the same time into one database. Every
//! signal is decided by exactly one engine, every account is routed only by
//! its owner and stays within its capacity, and each engine sees the other's
//! positions through the `open_positions_rollup` changelog.
#![cfg(feature = "fluss")]

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

mod common;
use common::cli::{bin, run_ok, tmp};
use common::fluss::Cluster;

/// The partition rule, computed independently: FNV-1a 64 of the name, mod 2.
fn owner(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)) % 2
}

fn rows(csv: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines.map(|l| head.iter().map(|h| h.to_string()).zip(l.split(',').map(str::to_string)).collect()).collect()
}

#[test]
fn two_engines_split_the_accounts_never_overfill_and_see_each_other_through_the_changelog() {
    let n = 60_000u64;
    let cluster = Cluster::start("scale");
    let d = tmp("fluss-scale");
    let cfg = |member: u32| {
        let p = d.join(format!("engine{member}.toml"));
        std::fs::write(
            &p,
            format!(
                "store = \"fluss\"\n[engine]\nid = {}\n[partition]\nmembers = 2\nmember = {member}\n\
                 [fluss]\nbootstrap_servers = \"{}\"\ndatabase = \"scale\"\n[portfolio]\nsnapshot_interval_ms = 10\n",
                member + 1,
                cluster.bootstrap
            ),
        )
        .unwrap();
        p
    };
    let (a, b) = (cfg(0), cfg(1));
    // Paced (W1 is 1 µs of event time per signal: 60 ms at 1/500 speed ≈ 12 s)
    // so the two runs overlap for seconds.
    let spawn = |c: &std::path::Path| {
        Command::new(bin())
            .args(["--config", c.to_str().unwrap(), "replay", "--workload", "w1", "--n", &n.to_string()])
            .args(["--speed", "0.002"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (pa.wait_with_output().unwrap(), pb.wait_with_output().unwrap());
    for o in [&oa, &ob] {
        assert!(o.status.success(), "an engine failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    let (oa, ob) = (String::from_utf8_lossy(&oa.stdout).to_string(), String::from_utf8_lossy(&ob.stdout).to_string());
    for out in [&oa, &ob] {
        // "changelog: N position and M policy changes from elsewhere applied, ...;
        //  open positions: X on own accounts, Y seen on other engines' accounts"
        let line = out.lines().find(|l| l.starts_with("changelog: ")).unwrap_or_else(|| panic!("{out}"));
        let num = |after: &str| -> u64 {
            line.split(after).nth(1).unwrap().split_whitespace().next().unwrap().trim_end_matches(',').parse().unwrap()
        };
        assert!(num("changelog: ") > 0, "no position change from the other engine was applied: {line}");
        assert!(num("accounts, ") > 0, "no position of the other engine is seen: {line}");
        assert!(line.contains(" own skipped"), "{line}");
    }

    let dump = |t: &str| rows(&run_ok(&["--config", a.to_str().unwrap(), "store", "dump", t]));
    // Every signal decided exactly once, by the engine that owns its symbol;
    // every routed signal went to an account of that same engine.
    let signals = dump("trade_signals");
    let seqs: Vec<u64> = signals.iter().map(|r| r["seq"].parse().unwrap()).collect();
    let distinct: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(seqs.len() as u64, n, "signals decided more or less than once");
    assert_eq!(distinct, (0..n).collect(), "every signal decided exactly once");
    let mut routed_by = [0u64; 2];
    for r in &signals {
        if !r["account"].is_empty() {
            assert_eq!(owner(&r["account"]), owner(&r["symbol"]), "routed across the partition: {r:?}");
            routed_by[owner(&r["account"]) as usize] += 1;
        }
    }
    assert!(routed_by.iter().all(|&k| k > 1000), "both engines routed: {routed_by:?}");
    // Positions: written by the owner only, never beyond an account's capacity.
    let limits: BTreeMap<String, u64> =
        dump("account_policy").iter().map(|r| (r["account"].clone(), r["max_open_symbols"].parse().unwrap())).collect();
    let mut open: BTreeMap<String, u64> = BTreeMap::new();
    for r in dump("open_positions_rollup") {
        let engine: u64 = r["engine"].parse().unwrap();
        assert_eq!(engine, owner(&r["account"]) + 1, "position written by an engine that does not own it: {r:?}");
        *open.entry(r["account"].clone()).or_default() += 1;
    }
    assert!(!open.is_empty());
    for (acc, k) in &open {
        assert!(*k <= limits[acc], "{acc} holds {k} symbols, limit {}", limits[acc]);
    }
    // Each account's portfolio row comes from its owner alone (one row each).
    let portfolio = dump("portfolio");
    let accounts: BTreeSet<&String> = portfolio.iter().map(|r| &r["account"]).collect();
    assert_eq!(accounts.len(), portfolio.len());
}
