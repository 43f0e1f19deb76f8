//! The QuickFIX/J Executor for tests: started by `tools/fix/executor.sh` on a
//! free loopback port in a fresh run directory, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running Executor.
pub struct Executor {
    pub port: u16,
    pub dir: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("tools/fix/executor.sh").exists())
        .unwrap()
        .join("tools/fix/executor.sh")
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Executor {
    /// Starts an Executor on a free port.
    pub fn start(name: &str) -> Self {
        Self::start_on(free_port(), name)
    }

    /// Starts an Executor on `port` (its store is always fresh).
    pub fn start_on(port: u16, name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("te-exec-{}-{name}", std::process::id()));
        let out = Command::new("bash")
            .arg(script())
            .args(["start", "--port", &port.to_string(), "--dir", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "executor.sh start failed: {}", String::from_utf8_lossy(&out.stderr));
        Executor { port, dir }
    }

    /// Stops the Executor (kill), keeping its run directory.
    pub fn stop(&self) {
        let _ = Command::new("bash").arg(script()).args(["stop", "--dir", self.dir.to_str().unwrap()]).output();
    }

    /// The FIX messages the Executor logged (its screen log: `incoming` and
    /// `outgoing` lines), SOH as `|`.
    pub fn messages(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("executor.out"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(", incoming> (") || l.contains(", outgoing> ("))
            .map(|l| l.replace('\u{1}', "|"))
            .collect()
    }

    /// `host:port` of the acceptor.
    pub fn addr(&self) -> std::net::SocketAddr {
        format!("127.0.0.1:{}", self.port).parse().unwrap()
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.stop();
    }
}
