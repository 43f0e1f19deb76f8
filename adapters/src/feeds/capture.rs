//! Capture files: fixed-size `Pod` records in checksummed blocks, a name
//! dictionary for the interned ids, read back through `memmap2` without
//! copying a record. The byte layout is documented in `docs/capture-format.md`.
//! Cold path: files are written and verified before or beside the hot thread,
//! never by it.
//!
//! Guarantees:
//! - [`CaptureFile::open`] verifies the whole file (header, every block's
//!   CRC-32 and record count, increasing sequence numbers, the dictionary)
//!   before it hands out a single record: a replay either runs on a sound file
//!   or does not start. Every error names the file and the byte offset.
//! - A writer that did not [`CaptureWriter::finish`] leaves a file marked
//!   unfinished ("torn"), which is reported as such, with how much of it is
//!   readable.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use bytemuck::{Pod, Zeroable};
use tradeengine_model::{Interner, StrategySignal};

/// First eight bytes of every capture file.
pub const MAGIC: [u8; 8] = *b"TECAPTUR";
/// The format version this build reads and writes.
pub const VERSION: u16 = 1;
/// Records per block (the last block may hold fewer).
pub const BLOCK_RECORDS: u32 = 4096;
/// Size of the file header.
pub const HEADER_LEN: usize = 64;
/// Size of a block header.
pub const BLOCK_HEADER_LEN: usize = 16;

/// What the records of a file are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum RecordType {
    /// [`StrategySignal`] records (64 bytes): a feed.
    Signals = 1,
    /// [`RecordedInput`] records (80 bytes): every input a run's hot thread consumed.
    Recording = 2,
}

impl RecordType {
    /// Decodes the header's record type.
    pub fn from_u16(v: u16) -> Option<Self> {
        match v {
            1 => Some(Self::Signals),
            2 => Some(Self::Recording),
            _ => None,
        }
    }

    /// The record size this type must have.
    pub fn record_size(self) -> usize {
        match self {
            Self::Signals => std::mem::size_of::<StrategySignal>(),
            Self::Recording => std::mem::size_of::<RecordedInput>(),
        }
    }

    /// Lower-case name for output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Signals => "signals",
            Self::Recording => "recording",
        }
    }
}

/// A record of a [`RecordType`]: ties a `Pod` type to its tag.
pub trait CaptureRecord: Pod {
    /// The header's record type for files of this record.
    const TYPE: RecordType;
    /// The input sequence number (must increase through a file).
    fn seq(&self) -> u64;
    /// Event time in nanoseconds.
    fn ts_event(&self) -> u64;
}

impl CaptureRecord for StrategySignal {
    const TYPE: RecordType = RecordType::Signals;
    fn seq(&self) -> u64 {
        self.seq
    }
    fn ts_event(&self) -> u64 {
        self.ts_event
    }
}

/// Which ring an input of a recording came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum InputKind {
    Signal = 1,
    ExecReport = 2,
    Control = 3,
    Policy = 4,
    Rollup = 5,
}

impl InputKind {
    /// Decodes a recorded kind.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Signal),
            2 => Some(Self::ExecReport),
            3 => Some(Self::Control),
            4 => Some(Self::Policy),
            5 => Some(Self::Rollup),
            _ => None,
        }
    }
}

/// One input the hot thread consumed, in consumption order: the ring it came
/// from, its place in the recording, and the event's 64 bytes as they were.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct RecordedInput {
    /// [`InputKind`].
    pub kind: u8,
    pub _pad: [u8; 3],
    pub _pad2: u32,
    /// Position in the recording (0, 1, 2, …): the file's sequence.
    pub index: u64,
    /// The event itself (a `StrategySignal`, `ExecReport`, `Control`, `AccountPolicy` or `RollupChange`).
    pub event: [u64; 8],
}

impl CaptureRecord for RecordedInput {
    const TYPE: RecordType = RecordType::Recording;
    fn seq(&self) -> u64 {
        self.index
    }
    fn ts_event(&self) -> u64 {
        // Every event type keeps `ts_event` as a u64 field; its place differs.
        match InputKind::from_u8(self.kind) {
            Some(InputKind::Signal) => bytemuck::cast::<_, StrategySignal>(self.event).ts_event,
            _ => 0,
        }
    }
}

/// The 64-byte file header.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct CaptureHeader {
    pub magic: [u8; 8],
    pub version: u16,
    pub record_type: u16,
    pub record_size: u32,
    pub record_count: u64,
    /// Wall-clock creation time, ns since the Unix epoch.
    pub created_ns: u64,
    /// Records per full block.
    pub block_records: u32,
    /// Bit 0: the writer finished (dictionary written, counts final).
    pub flags: u32,
    /// Byte offset of the dictionary (= end of the last block).
    pub dict_offset: u64,
    pub dict_len: u64,
    pub dict_crc: u32,
    /// CRC-32 of the header's first 60 bytes.
    pub header_crc: u32,
}

const FLAG_FINISHED: u32 = 1;
const _: () = assert!(std::mem::size_of::<CaptureHeader>() == HEADER_LEN);
const _: () = assert!(std::mem::size_of::<RecordedInput>() == 80);

impl CaptureHeader {
    fn crc(&self) -> u32 {
        crc32fast::hash(&bytemuck::bytes_of(self)[..HEADER_LEN - 4])
    }
}

/// A block's 16-byte header.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
struct BlockHeader {
    count: u32,
    /// CRC-32 of the block's record bytes.
    crc: u32,
    /// Index (in the file) of the block's first record.
    first: u64,
}

/// Names of the interned ids of a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dictionary {
    pub accounts: Vec<String>,
    pub symbols: Vec<String>,
    pub strategies: Vec<String>,
}

impl Dictionary {
    /// A dictionary from interners (names in id order).
    pub fn from_interners(accounts: &Interner, symbols: &Interner, strategies: &Interner) -> Self {
        Self {
            accounts: accounts.names().to_vec(),
            symbols: symbols.names().to_vec(),
            strategies: strategies.names().to_vec(),
        }
    }

    /// Text form: one `section count` line, then one name a line, per section.
    fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        for (tag, names) in [("accounts", &self.accounts), ("symbols", &self.symbols), ("strategies", &self.strategies)]
        {
            out.push_str(&format!("{tag} {}\n", names.len()));
            for n in names {
                out.push_str(n);
                out.push('\n');
            }
        }
        out.into_bytes()
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("dictionary is not UTF-8: {e}"))?;
        let mut lines = text.split('\n');
        let mut d = Dictionary::default();
        for (tag, dst) in
            [("accounts", &mut d.accounts), ("symbols", &mut d.symbols), ("strategies", &mut d.strategies)]
        {
            let head = lines.next().ok_or_else(|| format!("dictionary ends before its `{tag}` section"))?;
            let n: usize = head
                .strip_prefix(tag)
                .and_then(|r| r.trim().parse().ok())
                .ok_or_else(|| format!("dictionary section `{tag}` expected, found `{head}`"))?;
            for i in 0..n {
                let name = lines.next().ok_or_else(|| format!("dictionary `{tag}` ends after {i} of {n} names"))?;
                dst.push(name.to_string());
            }
        }
        match lines.next() {
            Some("") | None if lines.next().is_none() => Ok(d),
            _ => Err("dictionary has bytes after its last section".into()),
        }
    }

    /// Checks a name can be stored (no line breaks).
    pub fn check_name(name: &str) -> Result<(), String> {
        if name.contains(['\n', '\r']) {
            Err(format!("name `{}` contains a line break", name.escape_debug()))
        } else {
            Ok(())
        }
    }
}

/// A capture file error: the file, where in it, and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {what}", path.display(), offset.map(|o| format!(": at byte {o}")).unwrap_or_default())]
pub struct CaptureError {
    pub path: PathBuf,
    /// Byte offset of the problem, where one applies.
    pub offset: Option<u64>,
    pub what: String,
}

fn err(path: &Path, offset: Option<u64>, what: impl Into<String>) -> CaptureError {
    CaptureError { path: path.to_path_buf(), offset, what: what.into() }
}

/// Streams records into a new capture file, block by block.
pub struct CaptureWriter<T: CaptureRecord> {
    path: PathBuf,
    out: BufWriter<File>,
    header: CaptureHeader,
    block: Vec<T>,
    offset: u64,
    last_seq: Option<u64>,
}

impl<T: CaptureRecord> CaptureWriter<T> {
    /// Creates (or truncates) `path` and writes an unfinished header.
    pub fn create(path: &Path) -> Result<Self, CaptureError> {
        let file = File::create(path).map_err(|e| err(path, None, format!("cannot create: {e}")))?;
        let created_ns =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let header = CaptureHeader {
            magic: MAGIC,
            version: VERSION,
            record_type: T::TYPE as u16,
            record_size: std::mem::size_of::<T>() as u32,
            created_ns,
            block_records: BLOCK_RECORDS,
            ..Default::default()
        };
        let mut w = Self {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            header,
            block: Vec::with_capacity(BLOCK_RECORDS as usize),
            offset: HEADER_LEN as u64,
            last_seq: None,
        };
        let mut h = w.header;
        h.header_crc = h.crc();
        w.write(bytemuck::bytes_of(&h))?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), CaptureError> {
        self.out.write_all(bytes).map_err(|e| err(&self.path, Some(self.offset), format!("write failed: {e}")))
    }

    /// Appends one record. Sequence numbers must increase.
    pub fn push(&mut self, r: &T) -> Result<(), CaptureError> {
        if let Some(last) = self.last_seq {
            if r.seq() <= last {
                return Err(err(
                    &self.path,
                    None,
                    format!(
                        "record {} has seq {} after seq {last}: sequence numbers must increase",
                        self.header.record_count,
                        r.seq()
                    ),
                ));
            }
        }
        self.last_seq = Some(r.seq());
        self.block.push(*r);
        self.header.record_count += 1;
        if self.block.len() == BLOCK_RECORDS as usize {
            self.flush_block()?;
        }
        Ok(())
    }

    /// Appends every record of `rs`.
    pub fn push_all(&mut self, rs: &[T]) -> Result<(), CaptureError> {
        rs.iter().try_for_each(|r| self.push(r))
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.header.record_count
    }

    fn flush_block(&mut self) -> Result<(), CaptureError> {
        if self.block.is_empty() {
            return Ok(());
        }
        let bytes: &[u8] = bytemuck::cast_slice(&self.block);
        let bh = BlockHeader {
            count: self.block.len() as u32,
            crc: crc32fast::hash(bytes),
            first: self.header.record_count - self.block.len() as u64,
        };
        let len = (BLOCK_HEADER_LEN + bytes.len()) as u64;
        let block = std::mem::take(&mut self.block);
        self.write(bytemuck::bytes_of(&bh))?;
        self.write(bytemuck::cast_slice(&block))?;
        self.block = block;
        self.block.clear();
        self.offset += len;
        Ok(())
    }

    /// Writes the last block, the dictionary and the final header, and syncs
    /// the file. Without this call the file stays marked unfinished.
    pub fn finish(mut self, dict: &Dictionary) -> Result<u64, CaptureError> {
        self.flush_block()?;
        let d = dict.encode();
        self.header.dict_offset = self.offset;
        self.header.dict_len = d.len() as u64;
        self.header.dict_crc = crc32fast::hash(&d);
        self.header.flags |= FLAG_FINISHED;
        self.write(&d)?;
        let mut h = self.header;
        h.header_crc = h.crc();
        let path = self.path.clone();
        let io = |e: std::io::Error| err(&path, Some(0), format!("finishing failed: {e}"));
        self.out.flush().map_err(io)?;
        let mut file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(bytemuck::bytes_of(&h)).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(h.record_count)
    }
}

/// One block of a verified file.
#[derive(Clone, Copy, Debug)]
pub struct BlockRef {
    /// Byte offset of the block's first record.
    pub data: usize,
    /// Records in the block.
    pub count: usize,
    /// File index of the block's first record.
    pub first: u64,
}

/// A verified, memory-mapped capture file of `T` records.
pub struct CaptureFile<T: CaptureRecord> {
    path: PathBuf,
    map: memmap2::Mmap,
    header: CaptureHeader,
    blocks: Vec<BlockRef>,
    dict: Dictionary,
    _t: std::marker::PhantomData<T>,
}

/// What a file's header says, readable without knowing its record type.
pub fn read_header(path: &Path) -> Result<CaptureHeader, CaptureError> {
    use std::io::Read;
    let file = File::open(path).map_err(|e| err(path, None, format!("cannot open: {e}")))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    file.take(HEADER_LEN as u64).read_to_end(&mut bytes).map_err(|e| err(path, None, format!("cannot read: {e}")))?;
    parse_header(path, &bytes)
}

fn parse_header(path: &Path, bytes: &[u8]) -> Result<CaptureHeader, CaptureError> {
    if bytes.len() < HEADER_LEN {
        return Err(err(
            path,
            Some(bytes.len() as u64),
            format!("truncated: {} bytes is shorter than the {HEADER_LEN}-byte header", bytes.len()),
        ));
    }
    let h: CaptureHeader = bytemuck::pod_read_unaligned(&bytes[..HEADER_LEN]);
    if h.magic != MAGIC {
        return Err(err(path, Some(0), "not a TradeEngine capture file (bad magic)"));
    }
    if h.version != VERSION {
        return Err(err(
            path,
            Some(8),
            format!("format version {} is not supported (this build reads version {VERSION})", h.version),
        ));
    }
    if h.header_crc != h.crc() {
        return Err(err(path, Some(60), "header checksum mismatch: the header is corrupted"));
    }
    Ok(h)
}

/// Verifies a whole file's bytes as a capture of `T` records: header,
/// blocks, sequence order, dictionary. `path` only names the file in errors.
/// Never panics, whatever the bytes (fuzzed: `fuzz/fuzz_targets/capture_decode.rs`).
pub fn verify<T: CaptureRecord>(
    path: &Path,
    bytes: &[u8],
) -> Result<(CaptureHeader, Vec<BlockRef>, Dictionary), CaptureError> {
    let h = parse_header(path, bytes)?;
    let ty = RecordType::from_u16(h.record_type)
        .ok_or_else(|| err(path, Some(10), format!("unknown record type {}", h.record_type)))?;
    if ty != T::TYPE {
        return Err(err(path, Some(10), format!("holds {} records, expected {}", ty.name(), T::TYPE.name())));
    }
    let size = std::mem::size_of::<T>();
    if h.record_size as usize != size {
        return Err(err(
            path,
            Some(12),
            format!("record size {} does not match {} records ({size} bytes)", h.record_size, ty.name()),
        ));
    }
    if h.block_records == 0 {
        return Err(err(path, Some(32), "block size 0"));
    }
    // Walk the blocks: structure, CRCs, counts, sequence order.
    let finished = h.flags & FLAG_FINISHED != 0;
    let end = if finished { h.dict_offset as usize } else { bytes.len() };
    if end > bytes.len() {
        return Err(err(
            path,
            Some(bytes.len() as u64),
            format!("truncated: the dictionary should start at byte {end}, the file has {} bytes", bytes.len()),
        ));
    }
    let mut blocks = Vec::new();
    let mut off = HEADER_LEN;
    let mut index = 0u64;
    let mut last_seq: Option<u64> = None;
    while off < end {
        let torn_or = |what: String| {
            if finished {
                err(path, Some(off as u64), what)
            } else {
                torn(path, off, index)
            }
        };
        if end - off < BLOCK_HEADER_LEN {
            return Err(torn_or(format!("truncated block header ({} bytes left)", end - off)));
        }
        let bh: BlockHeader = bytemuck::pod_read_unaligned(&bytes[off..off + BLOCK_HEADER_LEN]);
        if bh.count == 0 || bh.count > h.block_records || bh.first != index {
            return Err(torn_or(format!(
                "corrupted block header (count {}, first record {}, expected first {index})",
                bh.count, bh.first
            )));
        }
        let data = off + BLOCK_HEADER_LEN;
        let len = bh.count as usize * size;
        if end - data < len {
            return Err(torn_or(format!(
                "truncated block: {} records need {len} bytes, {} left; the last complete record ends at byte {}",
                bh.count,
                end - data,
                data + (end - data) / size * size
            )));
        }
        let body = &bytes[data..data + len];
        let crc = crc32fast::hash(body);
        if crc != bh.crc {
            return Err(torn_or(format!(
                "block of records {}..{} is corrupted (checksum {:08x}, stored {:08x})",
                index,
                index + bh.count as u64,
                crc,
                bh.crc
            )));
        }
        for k in 0..bh.count as usize {
            let r: T = bytemuck::pod_read_unaligned(&body[k * size..(k + 1) * size]);
            if let Some(prev) = last_seq {
                if r.seq() <= prev {
                    return Err(err(
                        path,
                        Some((data + k * size) as u64),
                        format!(
                            "record {} has seq {} after seq {prev}: sequence numbers must increase",
                            index + k as u64,
                            r.seq()
                        ),
                    ));
                }
            }
            last_seq = Some(r.seq());
        }
        blocks.push(BlockRef { data, count: bh.count as usize, first: index });
        index += bh.count as u64;
        off = data + len;
    }
    if !finished {
        return Err(torn(path, off, index));
    }
    if index != h.record_count {
        return Err(err(
            path,
            Some(h.dict_offset),
            format!("header says {} records, the blocks hold {index}", h.record_count),
        ));
    }
    let dict_end = h.dict_offset.checked_add(h.dict_len).filter(|&e| e <= bytes.len() as u64).ok_or_else(|| {
        err(
            path,
            Some(bytes.len() as u64),
            format!(
                "truncated: the dictionary ({} bytes at byte {}) runs past the end of the file ({} bytes)",
                h.dict_len,
                h.dict_offset,
                bytes.len()
            ),
        )
    })?;
    if dict_end != bytes.len() as u64 {
        return Err(err(
            path,
            Some(dict_end),
            format!("{} trailing bytes after the dictionary", bytes.len() as u64 - dict_end),
        ));
    }
    let dbytes = &bytes[h.dict_offset as usize..dict_end as usize];
    if crc32fast::hash(dbytes) != h.dict_crc {
        return Err(err(path, Some(h.dict_offset), "dictionary checksum mismatch: the dictionary is corrupted"));
    }
    let dict = Dictionary::decode(dbytes).map_err(|e| err(path, Some(h.dict_offset), e))?;
    Ok((h, blocks, dict))
}

impl<T: CaptureRecord> CaptureFile<T> {
    /// Maps and verifies `path` (see the module's guarantees).
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let file = File::open(path).map_err(|e| err(path, None, format!("cannot open: {e}")))?;
        // SAFETY: the file is mapped read-only; a capture file being rewritten
        // while replayed is outside the contract (writers create new files).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| err(path, None, format!("cannot map: {e}")))?;
        let (h, blocks, dict) = verify::<T>(path, &map)?;
        // Zero-copy access needs the records aligned for `T` (the map is page
        // aligned and every offset is a multiple of 8).
        if let Some(b) = blocks.first() {
            if !(map.as_ptr() as usize + b.data).is_multiple_of(std::mem::align_of::<T>()) {
                return Err(err(path, Some(b.data as u64), "records are not aligned for zero-copy reading"));
            }
        }
        Ok(Self { path: path.to_path_buf(), map, header: h, blocks, dict, _t: std::marker::PhantomData })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The verified header.
    pub fn header(&self) -> &CaptureHeader {
        &self.header
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        self.header.record_count
    }

    /// True for a file without records.
    pub fn is_empty(&self) -> bool {
        self.header.record_count == 0
    }

    /// The names of the interned ids.
    pub fn dictionary(&self) -> &Dictionary {
        &self.dict
    }

    /// The blocks' records, in order, as slices of the mapped file (no copy).
    pub fn blocks(&self) -> impl Iterator<Item = &[T]> + '_ {
        self.blocks.iter().map(move |b| self.block_slice(b))
    }

    fn block_slice(&self, b: &BlockRef) -> &[T] {
        let len = b.count * std::mem::size_of::<T>();
        bytemuck::cast_slice(&self.map[b.data..b.data + len])
    }

    /// Record `i` (a copy).
    pub fn get(&self, i: u64) -> Option<T> {
        let k = self.blocks.partition_point(|b| b.first + b.count as u64 <= i);
        let b = self.blocks.get(k)?;
        self.block_slice(b).get((i - b.first) as usize).copied()
    }

    /// Every record from index `from` on, as slices of the mapped file.
    pub fn records_from(&self, from: u64) -> impl Iterator<Item = &[T]> + '_ {
        let k = self.blocks.partition_point(|b| b.first + b.count as u64 <= from);
        self.blocks[k..].iter().map(move |b| {
            let s = self.block_slice(b);
            let skip = from.saturating_sub(b.first) as usize;
            &s[skip.min(s.len())..]
        })
    }

    /// Index of the first record whose seq is at least `seq` (records are in seq order).
    pub fn index_of_seq(&self, seq: u64) -> u64 {
        let (mut lo, mut hi) = (0u64, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.get(mid).is_some_and(|r| r.seq() < seq) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

fn torn(path: &Path, off: usize, index: u64) -> CaptureError {
    err(
        path,
        Some(off as u64),
        format!(
            "torn file: its writer did not finish (no dictionary, counts not final); {index} complete records are readable, up to byte {off}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(i: u64) -> StrategySignal {
        StrategySignal {
            seq: i,
            ts_event: 1_000 + i,
            close: 100.0 + i as f64,
            sma5: 1.0,
            sma21: 2.0,
            strength: 0.5,
            symbol: (i % 3) as u32,
            side: 1,
            ..Default::default()
        }
    }

    fn dict() -> Dictionary {
        Dictionary {
            accounts: vec![],
            symbols: vec!["A".into(), "B".into(), "C".into()],
            strategies: vec!["run".into()],
        }
    }

    fn write(path: &Path, n: u64) {
        let mut w = CaptureWriter::<StrategySignal>::create(path).unwrap();
        for i in 0..n {
            w.push(&sig(i)).unwrap();
        }
        assert_eq!(w.finish(&dict()).unwrap(), n);
    }

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("te-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn round_trip_across_blocks() {
        let p = tmp("rt.cap");
        write(&p, 10_000);
        let f = CaptureFile::<StrategySignal>::open(&p).unwrap();
        assert_eq!(f.len(), 10_000);
        assert_eq!(f.dictionary(), &dict());
        let all: Vec<StrategySignal> = f.blocks().flat_map(|b| b.iter().copied()).collect();
        assert_eq!(all, (0..10_000).map(sig).collect::<Vec<_>>());
        assert_eq!(f.blocks().count(), 3);
        assert_eq!(f.get(4097), Some(sig(4097)));
        let from: Vec<u64> = f.records_from(8190).flat_map(|b| b.iter().map(|s| s.seq)).collect();
        assert_eq!(from, (8190..10_000).collect::<Vec<_>>());
        assert_eq!(f.index_of_seq(5000), 5000);
        assert_eq!(f.index_of_seq(20_000), 10_000);
    }

    #[test]
    fn empty_file_is_valid() {
        let p = tmp("empty.cap");
        write(&p, 0);
        let f = CaptureFile::<StrategySignal>::open(&p).unwrap();
        assert!(f.is_empty());
        assert_eq!(f.blocks().count(), 0);
    }

    fn open_err(p: &Path) -> String {
        match CaptureFile::<StrategySignal>::open(p) {
            Ok(_) => panic!("{} opened", p.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn damage_is_reported_with_offsets() {
        let p = tmp("dmg.cap");
        write(&p, 5000);
        let good = std::fs::read(&p).unwrap();

        // A flipped record byte in the second block.
        let mut b = good.clone();
        let second_block = HEADER_LEN + BLOCK_HEADER_LEN + 4096 * 64;
        b[second_block + BLOCK_HEADER_LEN + 100] ^= 0x40;
        std::fs::write(&p, &b).unwrap();
        let e = open_err(&p);
        assert!(e.contains(&format!("at byte {second_block}")) && e.contains("records 4096..5000 is corrupted"), "{e}");

        // Truncated in the middle of the second block.
        std::fs::write(&p, &good[..second_block + 1000]).unwrap();
        let e = open_err(&p);
        assert!(e.contains("truncated"), "{e}");

        // Wrong version.
        let mut b = good.clone();
        b[8] = 9;
        std::fs::write(&p, &b).unwrap();
        assert!(open_err(&p).contains("format version 9 is not supported"));

        // Corrupted header byte.
        let mut b = good.clone();
        b[20] ^= 1;
        std::fs::write(&p, &b).unwrap();
        assert!(open_err(&p).contains("header checksum mismatch"));

        // Trailing garbage.
        let mut b = good.clone();
        b.extend_from_slice(b"xx");
        std::fs::write(&p, &b).unwrap();
        assert!(open_err(&p).contains("2 trailing bytes"));

        // Corrupted dictionary.
        let mut b = good.clone();
        let n = b.len();
        b[n - 3] ^= 1;
        std::fs::write(&p, &b).unwrap();
        assert!(open_err(&p).contains("dictionary checksum mismatch"));

        // Not a capture file, and a short one.
        std::fs::write(&p, b"hello").unwrap();
        assert!(open_err(&p).contains("truncated: 5 bytes"));
        std::fs::write(&p, vec![0u8; 100]).unwrap();
        assert!(open_err(&p).contains("bad magic"));
    }

    #[test]
    fn wrong_record_type_or_size() {
        let p = tmp("type.cap");
        write(&p, 3);
        match CaptureFile::<RecordedInput>::open(&p) {
            Err(e) => assert!(e.to_string().contains("holds signals records, expected recording"), "{e}"),
            Ok(_) => panic!("opened as a recording"),
        }
        let mut b = std::fs::read(&p).unwrap();
        let mut h: CaptureHeader = bytemuck::pod_read_unaligned(&b[..HEADER_LEN]);
        h.record_size = 48;
        h.header_crc = h.crc();
        b[..HEADER_LEN].copy_from_slice(bytemuck::bytes_of(&h));
        std::fs::write(&p, &b).unwrap();
        assert!(open_err(&p).contains("record size 48 does not match signals records (64 bytes)"));
    }

    #[test]
    fn unfinished_writer_leaves_a_torn_file() {
        let p = tmp("torn.cap");
        let mut w = CaptureWriter::<StrategySignal>::create(&p).unwrap();
        for i in 0..5000 {
            w.push(&sig(i)).unwrap();
        }
        drop(w); // no finish: the BufWriter flushes what it had
        let e = open_err(&p);
        assert!(e.contains("torn file") && e.contains("4096 complete records are readable"), "{e}");
    }

    #[test]
    fn sequence_must_increase() {
        let p = tmp("seq.cap");
        let mut w = CaptureWriter::<StrategySignal>::create(&p).unwrap();
        w.push(&sig(5)).unwrap();
        let e = w.push(&sig(5)).unwrap_err().to_string();
        assert!(e.contains("seq 5 after seq 5"), "{e}");
    }
}
