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
/// tablet servers 1 and 2).
pub fn free_base() -> u16 {
    loop {
        let p = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if p < 60_000 && (1..5).all(|k| std::net::TcpListener::bind(("127.0.0.1", p + k)).is_ok()) {
            return p;
        }
    }
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
