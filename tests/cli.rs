//! The `tradeengine` binary: help, the built-in config, config errors, and the
//! exact form of the `bench w1` result line.

use std::process::Command;

fn te(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tradeengine")).args(args).output().expect("run tradeengine");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_the_commands() {
    let (ok, out, _) = te(&["--help"]);
    assert!(ok);
    assert!(out.contains("bench") && out.contains("config"), "{out}");
    let (ok, out, _) = te(&["bench", "w1", "--help"]);
    assert!(ok);
    for flag in ["--n", "--workload", "--seed", "--config"] {
        assert!(out.contains(flag), "missing {flag}: {out}");
    }
}

#[test]
fn config_default_round_trips() {
    let (ok, out, _) = te(&["config", "default"]);
    assert!(ok);
    assert!(out.contains("[engine]") && out.contains("hot_core") && out.contains("# "), "{out}");
    let dir = std::env::temp_dir().join(format!("te-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("default.toml");
    std::fs::write(&f, &out).unwrap();
    let (ok, _, err) = te(&["config", "check", f.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(err.contains("ok (10 accounts)"), "{err}");
}

#[test]
fn bad_config_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("te-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    std::fs::write(&f, "[rings]\nsignals = 0\n").unwrap();
    let (ok, out, err) = te(&["--config", f.to_str().unwrap(), "bench", "w1", "--n", "10"]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(err.contains("bad.toml") && err.contains("key `rings.signals`"), "{err}");
    let (ok, _, err) = te(&["--config", "/nonexistent/x.toml", "config", "check"]);
    assert!(!ok);
    assert!(err.contains("/nonexistent/x.toml") && err.contains("cannot read"), "{err}");
}

/// The value of `key=value` field `key` in a space-separated line (panics if absent).
fn value_of<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no `{key}=` in: {line}"))
}

#[test]
fn bench_w1_prints_one_line_of_the_contract_form() {
    let (ok, out, err) = te(&["bench", "w1", "--n", "20000", "--seed", "42"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let keys: Vec<&str> = lines[0].split_whitespace().map(|kv| kv.split('=').next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "W1",
            "n",
            "routed_buy",
            "routed_sell",
            "dropped",
            "open_positions",
            "checksum",
            "realized_pnl",
            "secs",
            "signals_per_s"
        ]
    );
    assert!(lines[0].starts_with("W1 n=20000 "));
    let field = |k: &str| value_of(lines[0], k).to_string();
    let sum: u64 = ["routed_buy", "routed_sell", "dropped"].iter().map(|k| field(k).parse::<u64>().unwrap()).sum();
    assert_eq!(sum, 20_000);
    assert_eq!(field("checksum").split('.').nth(1).unwrap().len(), 6);
    assert_eq!(field("realized_pnl").split('.').nth(1).unwrap().len(), 6);
    // stderr: the pipeline's counters and what bounded the rate
    let pipeline = err.lines().find(|l| l.starts_with("tradeengine: pipeline ")).unwrap_or_else(|| panic!("{err}"));
    let counter = |k: &str| value_of(pipeline, k);
    let busy: u64 = counter("busy_turns").parse().unwrap();
    assert!(busy >= 20_000u64.div_ceil(256), "each turn drains at most a batch of 256: {pipeline}");
    let (deepest, capacity) = counter("signals_high_water").split_once('/').unwrap();
    assert!(deepest.parse::<u64>().unwrap() <= capacity.parse::<u64>().unwrap(), "{pipeline}");
    assert_eq!(capacity, "65536", "{pipeline}");
    assert!(["hot-thread", "journal", "feeder"].contains(&counter("bound")), "{pipeline}");
    let (ok, out, _) = te(&["bench", "w1", "--n", "500", "--workload", "w2"]);
    assert!(ok);
    assert!(out.starts_with("W2 n=500 "), "{out}");
}
