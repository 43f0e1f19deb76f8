//! Helpers for tests that drive the `tradeengine` binary and read its store.

use std::path::{Path, PathBuf};
use std::process::Command;

use tradeengine_adapters::store::TABLES;

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tradeengine")
}

/// A fresh temporary folder for test `name`.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("te-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary with `args`; panics (with its stderr) unless it succeeds; returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = Command::new(bin()).args(args).output().unwrap();
    assert!(out.status.success(), "tradeengine {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the binary with `args`; panics if it succeeds; returns stderr.
pub fn run_err(args: &[&str]) -> String {
    let out = Command::new(bin()).args(args).output().unwrap();
    assert!(!out.status.success(), "tradeengine {args:?} should have failed");
    String::from_utf8(out.stderr).unwrap()
}

/// The raw HTTP/1.1 response (status line, headers, body) of `GET path`
/// from `addr` (a metrics endpoint); an error while nothing listens there.
pub fn http_get(addr: impl std::net::ToSocketAddrs, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr)?;
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())?;
    let mut s = String::new();
    c.read_to_string(&mut s)?;
    Ok(s)
}

/// `store dump TABLE` of a SQLite store.
pub fn dump(db: &Path, table: &str) -> String {
    run_ok(&["store", "dump", table, "--db", db.to_str().unwrap()])
}

/// A dump of `table` as two runs can compare it: without the checkpoint's
/// wall-clock column.
pub fn comparable(table: &str, d: String) -> String {
    if table == "engine_checkpoint" {
        d.lines().map(|l| l.rsplit_once(',').map_or(l, |(a, _)| a).to_string() + "\n").collect()
    } else {
        d
    }
}

/// Every table except the checkpoint's wall-clock column.
pub fn tables(db: &Path) -> Vec<(String, String)> {
    TABLES.iter().map(|t| (t.to_string(), comparable(t, dump(db, t)))).collect()
}

/// Asserts two stores hold the same tables, naming the first that differs.
pub fn assert_same_tables(a: &Path, b: &Path) {
    for ((t, want), (_, got)) in tables(a).iter().zip(tables(b)) {
        assert!(*want == got, "table {t} differs between {} and {}", a.display(), b.display());
    }
}

/// The result line's fields before ` secs=`.
pub fn result_fields(stdout: &str) -> String {
    let line = stdout.lines().rfind(|l| l.contains(" n=")).unwrap();
    line.split(" secs=").next().unwrap().to_string()
}
