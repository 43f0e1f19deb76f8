//! What a run replays: its signal source (the W1/W2 generator or a capture
//! file), the account universe and symbol names, and the rules it runs
//! under. Cold path: built at start-up, read by the feeder thread.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use tradeengine_adapters::feeds::{CaptureFile, Workload, WorkloadGenerator};
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
    /// Position slots per account (the largest `maxOpenSymbols`).
    pub slots_per_account: usize,
    pub source: SourceSpec,
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
            slots_per_account: w.max_open_symbols as usize,
            source: SourceSpec::Workload(w.clone()),
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
            slots_per_account: universe.max_open_symbols(),
            cfg,
            source: SourceSpec::Capture(Arc::new(file)),
        })
    }

    /// A source positioned at the first signal whose seq is at least `seq`.
    pub fn source_from(&self, seq: u64) -> Box<dyn SignalSource> {
        match &self.source {
            SourceSpec::Workload(w) => {
                let mut g = w.generator();
                g.skip_to(seq);
                Box::new(GeneratorSource { g, buf: vec![StrategySignal::default(); 512] })
            }
            SourceSpec::Capture(f) => {
                let next = f.index_of_seq(seq);
                Box::new(CaptureSource { file: f.clone(), next })
            }
        }
    }

    /// The sequence number of the last signal, if any (the checkpoint a
    /// complete run ends at).
    pub fn last_seq(&self) -> Option<u64> {
        match &self.source {
            SourceSpec::Workload(w) => w.n.checked_sub(1),
            SourceSpec::Capture(f) => f.len().checked_sub(1).and_then(|i| f.get(i)).map(|s| s.seq),
        }
    }

    /// What is replayed, for summaries (`W1`, or the file's path).
    pub fn describe(&self) -> String {
        match &self.source {
            SourceSpec::Workload(w) => w.tag().to_string(),
            SourceSpec::Capture(f) => f.path().display().to_string(),
        }
    }
}

/// A stream of signals in sequence order, handed out in batches.
pub trait SignalSource: Send {
    /// The next batch of at most `max` signals; empty at the end. The slice
    /// may point into a memory-mapped file (no copy).
    fn next_batch(&mut self, max: usize) -> &[StrategySignal];
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
