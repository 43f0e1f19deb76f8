//! Session sequence numbers kept across restarts: two `u64`s (next outgoing,
//! next incoming) in a small memory-mapped file, so every update is a plain
//! store — no system call per message — and survives the process dying.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// The persisted sequence numbers of one session.
pub struct SeqStore {
    path: Option<PathBuf>,
    map: Option<memmap2::MmapMut>,
    next_out: u64,
    next_in: u64,
}

const MAGIC: u64 = 0x5445_4649_5853_4551; // "TEFIXSEQ"

impl SeqStore {
    /// Opens (creating) `path`; a new file starts at 1 / 1.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        if file.metadata()?.len() != 24 {
            file.set_len(0)?;
            file.set_len(24)?;
        }
        // SAFETY: the file is private to this session (one engine per session id).
        let map = unsafe { memmap2::MmapMut::map_mut(&file)? };
        let word = |i: usize| u64::from_le_bytes(map[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        let (next_out, next_in) = if word(0) == MAGIC { (word(1).max(1), word(2).max(1)) } else { (1, 1) };
        let mut s = Self { path: Some(path.to_path_buf()), map: Some(map), next_out, next_in };
        s.write();
        Ok(s)
    }

    /// A store that keeps nothing (tests, or sessions that reset on every logon).
    pub fn in_memory() -> Self {
        Self { path: None, map: None, next_out: 1, next_in: 1 }
    }

    /// The file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Next MsgSeqNum to send.
    pub fn next_out(&self) -> u64 {
        self.next_out
    }

    /// Next MsgSeqNum expected from the peer.
    pub fn next_in(&self) -> u64 {
        self.next_in
    }

    /// Sets both numbers.
    pub fn set(&mut self, next_out: u64, next_in: u64) {
        self.next_out = next_out;
        self.next_in = next_in;
        self.write();
    }

    fn write(&mut self) {
        if let Some(m) = self.map.as_mut() {
            m[0..8].copy_from_slice(&MAGIC.to_le_bytes());
            m[8..16].copy_from_slice(&self.next_out.to_le_bytes());
            m[16..24].copy_from_slice(&self.next_in.to_le_bytes());
        }
    }

    /// Flushes the map to disk (shutdown).
    pub fn sync(&self) {
        if let Some(m) = self.map.as_ref() {
            let _ = m.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_survive_reopening() {
        let p = std::env::temp_dir().join(format!("te-seq-{}/s.seq", std::process::id()));
        let _ = std::fs::remove_file(&p);
        let mut s = SeqStore::open(&p).unwrap();
        assert_eq!((s.next_out(), s.next_in()), (1, 1));
        s.set(42, 17);
        drop(s);
        let s = SeqStore::open(&p).unwrap();
        assert_eq!((s.next_out(), s.next_in()), (42, 17));
        std::fs::write(&p, b"garbage").unwrap();
        let s = SeqStore::open(&p).unwrap();
        assert_eq!((s.next_out(), s.next_in()), (1, 1), "a damaged file starts over");
    }
}
