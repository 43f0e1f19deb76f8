//! What a run replays: its signal source (the W1/W2 generator or a capture
//! file), the account universe and symbol names, and the rules it runs
//! under. Cold path: built at start-up, read by the feeder thread.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use tradeengine_adapters::feeds::capture::read_header;
use tradeengine_adapters::feeds::{
    CaptureFile, Dictionary, InputKind, RecordType, RecordedInput, Workload, WorkloadGenerator,
};
use tradeengine_adapters::store::Names;
use tradeengine_model::{AccountPolicy, StrategySignal};

use crate::config::{Config, Universe};
use crate::pipeline::workload_config;

/// Where a run's signals come from.
#[derive(Clone)]
pub enum SourceSpec {
    /// The deterministic W1/W2 generator.
    Workload(Workload),
    /// A verified, memory-mapped capture file of signals.
    Capture(Arc<CaptureFile<StrategySignal>>),
    /// A recording: every input of a run, in the order its hot thread consumed them.
    Recording(Arc<CaptureFile<RecordedInput>>),
}

/// Everything a replay needs to know before its threads start.
#[derive(Clone)]
pub struct RunSpec {
    /// `W1`, `W2`, or `FEED`: the tag of the result line.
    pub tag: &'static str,
    /// Signals of the whole run (from sequence 0).
    pub n: u64,
    /// The effective config: machine settings from the user's file, rules
    /// from the workload when the source is one.
    pub cfg: Config,
    /// Account policies by dense id.
    pub policies: Vec<AccountPolicy>,
    pub names: Names,
    /// Strategy / run id names.
    pub strategies: Vec<String>,
    /// Position slots per account (the largest `maxOpenSymbols`).
    pub slots_per_account: usize,
    /// The venue's answers are inputs of the run (a live recording's
    /// execution reports): the simulated venue stays silent.
    pub recorded_venue: bool,
    pub source: SourceSpec,
    /// How a workload's signals reach the feeder (captures and recordings
    /// are read from their file either way).
    pub workload_feed: WorkloadFeed,
}

/// How a W1/W2 workload's signals reach the feeder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WorkloadFeed {
    /// The feeder generates them as it goes (its core does the generator's work during the run).
    #[default]
    Generated,
    /// Generated into memory before the run starts: the feeder only stamps
    /// and copies them, as for a capture file (64 bytes per signal of memory).
    Preloaded,
}

impl RunSpec {
    /// A W1/W2 run: the universe and rules W1.md fixes.
    pub fn workload(cfg: &Config, w: &Workload) -> Self {
        RunSpec {
            tag: w.tag(),
            n: w.n,
            cfg: workload_config(cfg, w),
            policies: w.account_policies(),
            names: Names {
                accounts: (0..w.accounts).map(|i| w.account_name(i)).collect(),
                symbols: (0..w.symbols).map(|i| w.symbol_name(i)).collect(),
            },
            strategies: vec![w.tag().to_string()],
            slots_per_account: w.max_open_symbols as usize,
            recorded_venue: false,
            source: SourceSpec::Workload(w.clone()),
            workload_feed: WorkloadFeed::Generated,
        }
    }

    /// A capture-file run: accounts and rules from `cfg`, symbols from the
    /// file's dictionary (the symbol capacity grows to hold them).
    pub fn capture(cfg: &Config, path: &Path) -> anyhow::Result<Self> {
        let file = CaptureFile::<StrategySignal>::open(path)?;
        let universe = Universe::from_config(cfg)?;
        let mut cfg = cfg.clone();
        let symbols = file.dictionary().symbols.len();
        cfg.capacity.symbols = cfg.capacity.symbols.max(symbols);
        if let Some(bad) = file.blocks().flatten().find(|s| s.symbol as usize >= symbols) {
            bail!(
                "{}: signal seq {} names symbol id {}, but the dictionary has {symbols} symbols",
                path.display(),
                bad.seq,
                bad.symbol
            );
        }
        Ok(RunSpec {
            tag: "FEED",
            n: file.len(),
            policies: universe.policies.clone(),
            names: Names { accounts: universe.accounts.names().to_vec(), symbols: file.dictionary().symbols.clone() },
            strategies: file.dictionary().strategies.clone(),
            slots_per_account: universe.max_open_symbols(),
            recorded_venue: false,
            cfg,
            source: SourceSpec::Capture(Arc::new(file)),
            workload_feed: WorkloadFeed::Generated,
        })
    }

    /// A replay of `path`, a signals capture or a recording (by its header).
    pub fn from_file(cfg: &Config, path: &Path) -> anyhow::Result<Self> {
        match RecordType::from_u16(read_header(path)?.record_type) {
            Some(RecordType::Recording) => Self::recording(cfg, path),
            _ => Self::capture(cfg, path),
        }
    }

    /// A recording run: the universe of `cfg` must be the recorded run's
    /// (same account names in the same order); symbols from the recording.
    pub fn recording(cfg: &Config, path: &Path) -> anyhow::Result<Self> {
        let file = CaptureFile::<RecordedInput>::open(path)?;
        let universe = Universe::from_config(cfg)?;
        let dict = file.dictionary();
        if dict.accounts != universe.accounts.names() {
            bail!(
                "{}: recorded with {} accounts ({}…), the config has {} ({}…): replay it with the config it was recorded with",
                path.display(),
                dict.accounts.len(),
                dict.accounts.first().map_or("", String::as_str),
                universe.accounts.len(),
                universe.accounts.name(0).unwrap_or("")
            );
        }
        let mut cfg = cfg.clone();
        cfg.capacity.symbols = cfg.capacity.symbols.max(dict.symbols.len());
        let (mut signals, mut exec_reports) = (0u64, false);
        for r in file.blocks().flatten() {
            signals += (r.kind == InputKind::Signal as u8) as u64;
            exec_reports |= r.kind == InputKind::ExecReport as u8;
        }
        Ok(RunSpec {
            tag: "FEED",
            n: signals,
            policies: universe.policies.clone(),
            names: Names { accounts: dict.accounts.clone(), symbols: dict.symbols.clone() },
            strategies: dict.strategies.clone(),
            slots_per_account: universe.max_open_symbols(),
            cfg,
            recorded_venue: exec_reports,
            source: SourceSpec::Recording(Arc::new(file)),
            workload_feed: WorkloadFeed::Generated,
        })
    }

    /// The names of the run's ids, for a recording's dictionary.
    pub fn dictionary(&self) -> Dictionary {
        Dictionary {
            accounts: self.names.accounts.clone(),
            symbols: self.names.symbols.clone(),
            strategies: self.strategies.clone(),
        }
    }

    /// A source positioned at the first signal whose seq is at least `seq`.
    /// (A recording is not a signal source: its feeder replays every kind.)
    /// With `[partition]` splitting the work between engines, only the
    /// signals of this engine's symbols come out (their seqs unchanged).
    pub fn source_from(&self, seq: u64) -> Box<dyn SignalSource> {
        let source = self.unpartitioned_source_from(seq);
        match self.cfg.partition.owned(&self.names.symbols) {
            Some(take) => Box::new(PartitionedSource { inner: source, take, buf: Vec::with_capacity(4096) }),
            None => source,
        }
    }

    fn unpartitioned_source_from(&self, seq: u64) -> Box<dyn SignalSource> {
        match &self.source {
            SourceSpec::Workload(w) => {
                let mut g = w.generator();
                g.skip_to(seq);
                if self.workload_feed == WorkloadFeed::Preloaded {
                    let mut signals = vec![StrategySignal::default(); g.remaining() as usize];
                    let n = g.fill(&mut signals);
                    signals.truncate(n);
                    return Box::new(PreloadedSource { signals, next: 0 });
                }
                Box::new(GeneratorSource { g, buf: vec![StrategySignal::default(); 512] })
            }
            SourceSpec::Capture(f) => {
                let next = f.index_of_seq(seq);
                Box::new(CaptureSource { file: f.clone(), next })
            }
            SourceSpec::Recording(_) => Box::new(EmptySource),
        }
    }

    /// What is replayed, for summaries (`W1`, or the file's path).
    pub fn describe(&self) -> String {
        match &self.source {
            SourceSpec::Workload(w) => w.tag().to_string(),
            SourceSpec::Capture(f) => f.path().display().to_string(),
            SourceSpec::Recording(f) => format!("recording {}", f.path().display()),
        }
    }
}

/// A stream of signals in sequence order, handed out in batches.
pub trait SignalSource: Send {
    /// The next batch of at most `max` signals; empty at the end. The slice
    /// may point into a memory-mapped file (no copy).
    fn next_batch(&mut self, max: usize) -> &[StrategySignal];
}

struct EmptySource;

/// The signals of this engine's symbols (scale-out), in order.
struct PartitionedSource {
    inner: Box<dyn SignalSource>,
    /// By symbol id: does this engine take its signals?
    take: Vec<bool>,
    buf: Vec<StrategySignal>,
}

impl SignalSource for PartitionedSource {
    fn next_batch(&mut self, max: usize) -> &[StrategySignal] {
        self.buf.clear();
        let max = max.min(self.buf.capacity()).max(1);
        while self.buf.is_empty() {
            let batch = self.inner.next_batch(max);
            if batch.is_empty() {
                break;
            }
            let take = &self.take;
            self.buf.extend(batch.iter().filter(|s| take.get(s.symbol as usize).copied().unwrap_or(true)));
        }
        &self.buf
    }
}

impl SignalSource for EmptySource {
    fn next_batch(&mut self, _: usize) -> &[StrategySignal] {
        &[]
    }
}

struct GeneratorSource {
    g: WorkloadGenerator,
    buf: Vec<StrategySignal>,
}

impl SignalSource for GeneratorSource {
    fn next_batch(&mut self, max: usize) -> &[StrategySignal] {
        let m = max.min(self.buf.len());
        let n = self.g.fill(&mut self.buf[..m]);
        &self.buf[..n]
    }
}

/// A workload generated into memory before the run (see [`WorkloadFeed::Preloaded`]).
struct PreloadedSource {
    signals: Vec<StrategySignal>,
    /// Index of the next signal.
    next: usize,
}

impl SignalSource for PreloadedSource {
    fn next_batch(&mut self, max: usize) -> &[StrategySignal] {
        let from = self.next;
        self.next = (from + max).min(self.signals.len());
        &self.signals[from..self.next]
    }
}

struct CaptureSource {
    file: Arc<CaptureFile<StrategySignal>>,
    /// Index of the next record.
    next: u64,
}

impl SignalSource for CaptureSource {
    fn next_batch(&mut self, max: usize) -> &[StrategySignal] {
        let Some(block) = self.file.records_from(self.next).next() else {
            return &[];
        };
        let n = block.len().min(max);
        self.next += n as u64;
        &block[..n]
    }
}
