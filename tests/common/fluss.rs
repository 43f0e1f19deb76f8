//! A local Fluss cluster for tests: `tools/fluss/cluster.sh` on free
//! loopback ports in a fresh directory, stopped when dropped.

use std::path::PathBuf;
use std::process::Command;

/// A running cluster.
pub struct Cluster {
    pub dir: PathBuf,
    /// `127.0.0.1:<coordinator port>`.
    pub bootstrap: String,
}

fn script() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("tools/fluss/cluster.sh").exists())
        .unwrap()
        .join("tools/fluss/cluster.sh")
}

/// A base port P with P..P+4 free (coordinator, tablet server 0, ZooKeeper,
/// tablet servers 1 and 2), below the kernel's ephemeral range: ports from
/// that range (what `bind(0)` hands out) are also the source ports of
/// outgoing connections, and one of those (the cluster's own JVMs', a
/// parallel test's client) could take P+k between this check and the
/// server's bind — CI once saw a tablet server fail with "Address already
/// in use". Each call in a process starts from a different candidate, so
/// parallel tests do not pick the same range.
pub fn free_base() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    let (low, high) = (10_000u32, ephemeral_low.saturating_sub(5).max(10_100));
    let slots = (high - low) / 5;
    let first = std::process::id().wrapping_mul(7_919).wrapping_add(CALLS.fetch_add(1, Ordering::Relaxed) * 97);
    (0..slots)
        .map(|i| (low + (first.wrapping_add(i) % slots) * 5) as u16)
        .find(|&p| (0..5).all(|k| std::net::TcpListener::bind(("127.0.0.1", p + k)).is_ok()))
        .expect("no five free loopback ports below the ephemeral range")
}

impl Cluster {
    /// Starts a cluster (one tablet server) and waits until it is ready.
    pub fn start(name: &str) -> Cluster {
        Self::start_with(name, 1)
    }

    /// Starts a cluster of `tablets` tablet servers (replication factor
    /// `tablets`) and waits until it is ready.
    pub fn start_with(name: &str, tablets: u32) -> Cluster {
        let dir = std::env::temp_dir().join(format!("te-fluss-{}-{name}", std::process::id()));
        let out = Command::new("bash")
            .arg(script())
            .args(["start", "--dir", dir.to_str().unwrap(), "--port", &free_base().to_string()])
            .args(["--tablets", &tablets.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "cluster.sh start failed: {}", String::from_utf8_lossy(&out.stderr));
        let bootstrap = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Cluster { dir, bootstrap }
    }
}

impl Cluster {
    /// Runs `cluster.sh CMD --dir <this cluster>` (e.g. `kill-tablet`,
    /// `start-tablet`) and panics unless it succeeds.
    #[allow(dead_code)]
    pub fn script(&self, cmd: &str) {
        let out = Command::new("bash").arg(script()).args([cmd, "--dir", self.dir.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "cluster.sh {cmd} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).args(["stop", "--dir", self.dir.to_str().unwrap()]).output();
    }
}
