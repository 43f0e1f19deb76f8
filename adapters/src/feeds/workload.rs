//! The reference workloads W1 and W2 (../shared/workloads/W1.md): a
//! deterministic stream of strategy signals that any implementation can
//! generate bit for bit, and the account universe it runs against.

use std::str::FromStr;

use tradeengine_model::{AccountPolicy, AccountStatus, Side, StrategySignal};

/// splitmix64, exactly as W1.md specifies.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose state starts at `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64-bit value.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Which reference workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// 1,000 accounts, 500 symbols, `maxOpenSymbols` 20.
    W1,
    /// 100,000 accounts, 10,000 symbols, `maxOpenSymbols` 50.
    W2,
}

impl FromStr for WorkloadKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "w1" => Ok(WorkloadKind::W1),
            "w2" => Ok(WorkloadKind::W2),
            other => Err(format!("unknown workload `{other}` (expected w1 or w2)")),
        }
    }
}

/// A workload: its universe, size and seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub kind: WorkloadKind,
    /// Number of signals.
    pub n: u64,
    pub seed: u64,
    pub accounts: u32,
    pub symbols: u32,
    pub max_open_symbols: u32,
    pub initial_capital: f64,
    /// Constant order quantity.
    pub default_qty: f64,
    /// Scale-in to holders is allowed.
    pub allow_scale_in: bool,
}

impl Workload {
    /// W1 (or W2) with `n` signals and `seed`.
    pub fn new(kind: WorkloadKind, n: u64, seed: u64) -> Self {
        let (accounts, symbols, max_open_symbols) = match kind {
            WorkloadKind::W1 => (1_000, 500, 20),
            WorkloadKind::W2 => (100_000, 10_000, 50),
        };
        Self {
            kind,
            n,
            seed,
            accounts,
            symbols,
            max_open_symbols,
            initial_capital: 1_000_000.0,
            default_qty: 1.0,
            allow_scale_in: true,
        }
    }

    /// `W1` or `W2`: the tag of the result line.
    pub fn tag(&self) -> &'static str {
        match self.kind {
            WorkloadKind::W1 => "W1",
            WorkloadKind::W2 => "W2",
        }
    }

    /// True for the accounts W1.md makes BLOCKED (`id % 50 == 49`).
    pub fn is_blocked(id: u32) -> bool {
        id % 50 == 49
    }

    /// Start price of symbol `s`: `100.0 + (s % 100)`.
    pub fn start_price(s: u32) -> f64 {
        100.0 + (s % 100) as f64
    }

    /// Account name: `ACC-0000` … (wider for universes over 10,000 accounts).
    pub fn account_name(&self, id: u32) -> String {
        let width = digits(self.accounts.saturating_sub(1)).max(4);
        format!("ACC-{id:0width$}")
    }

    /// Symbol name: `SYM000` … (wider for universes over 1,000 symbols).
    pub fn symbol_name(&self, id: u32) -> String {
        let width = digits(self.symbols.saturating_sub(1)).max(3);
        format!("SYM{id:0width$}")
    }

    /// The account policies of the universe. The workload sets no risk limits
    /// beyond W1.md's (`maxOpenSymbols`, capital), so the limits are unbounded.
    pub fn account_policies(&self) -> Vec<AccountPolicy> {
        (0..self.accounts)
            .map(|id| AccountPolicy {
                account: id,
                status: if Self::is_blocked(id) { AccountStatus::Blocked } else { AccountStatus::Active } as u8,
                max_open_symbols: self.max_open_symbols,
                max_open_orders: u32::MAX,
                initial_capital: self.initial_capital,
                max_order_qty: f64::INFINITY,
                max_order_notional: f64::INFINITY,
                max_capital_usage: f64::INFINITY,
                ..Default::default()
            })
            .collect()
    }

    /// A generator of this workload's signals from sequence 0.
    pub fn generator(&self) -> WorkloadGenerator {
        WorkloadGenerator::new(self)
    }
}

fn digits(mut v: u32) -> usize {
    let mut d = 1;
    while v >= 10 {
        v /= 10;
        d += 1;
    }
    d
}

/// Timestamp of signal 0 (ns); signal `i` is `i * 1,000` ns later.
pub const W1_EPOCH_NS: u64 = 1_700_000_000_000_000_000;

const SMA_LONG: usize = 21;
const SMA_SHORT: usize = 5;

/// Generates a workload's signals in order, exactly as W1.md draws them.
#[derive(Clone, Debug)]
pub struct WorkloadGenerator {
    rng: SplitMix64,
    n: u64,
    next_seq: u64,
    symbols: u64,
    prices: Vec<f64>,
    /// Per symbol, the last 21 closes, each stored twice (`history[s * 42 + k]`
    /// and `+ 21`), so that any window of the ring is one contiguous slice.
    history: Vec<f64>,
    /// Per symbol, how many closes it has had so far.
    closes: Vec<u64>,
}

impl WorkloadGenerator {
    /// A generator at sequence 0.
    pub fn new(w: &Workload) -> Self {
        let s = w.symbols as usize;
        Self {
            rng: SplitMix64::new(w.seed),
            n: w.n,
            next_seq: 0,
            symbols: w.symbols as u64,
            prices: (0..w.symbols).map(Workload::start_price).collect(),
            history: vec![0.0; s * 2 * SMA_LONG],
            closes: vec![0; s],
        }
    }

    /// Sequence number of the next signal.
    pub fn position(&self) -> u64 {
        self.next_seq
    }

    /// Signals left.
    pub fn remaining(&self) -> u64 {
        self.n - self.next_seq
    }

    /// Advances to sequence `seq` (the generator must be replayed from 0 to
    /// reproduce prices and averages, so this costs the skipped signals).
    pub fn skip_to(&mut self, seq: u64) {
        while self.next_seq < seq.min(self.n) {
            self.next_signal();
        }
    }

    /// The next signal, or `None` after `n`.
    #[inline]
    pub fn next_signal(&mut self) -> Option<StrategySignal> {
        if self.next_seq >= self.n {
            return None;
        }
        let i = self.next_seq;
        self.next_seq += 1;
        let s = (self.rng.next_u64() % self.symbols) as usize;
        let mv = ((self.rng.next_u64() % 2001) as f64 - 1000.0) / 1_000_000.0;
        let close = self.prices[s] * (1.0 + mv);
        self.prices[s] = close;
        let side = if self.rng.next_u64() % 100 < 55 { Side::Buy } else { Side::Sell };
        let strength = (self.rng.next_u64() % 1000) as f64 / 1000.0;

        let count = self.closes[s];
        let hist = &mut self.history[s * 2 * SMA_LONG..(s + 1) * 2 * SMA_LONG];
        let slot = (count % SMA_LONG as u64) as usize;
        hist[slot] = close;
        hist[slot + SMA_LONG] = close;
        let count = count + 1;
        self.closes[s] = count;
        // The newest close sits at `slot` (and `slot + 21`): the last k closes,
        // oldest first, are `hist[slot + 22 - k ..= slot + 21]`.
        let sma5 = mean(&hist[slot + SMA_LONG + 1 - (count as usize).min(SMA_SHORT)..=slot + SMA_LONG]);
        let sma21 = mean(&hist[slot + SMA_LONG + 1 - (count as usize).min(SMA_LONG)..=slot + SMA_LONG]);

        Some(StrategySignal {
            seq: i,
            ts_event: W1_EPOCH_NS + i * 1_000,
            ingress: 0,
            close,
            sma5,
            sma21,
            strength,
            symbol: s as u32,
            strategy: 0,
            side: side as u8,
            _pad: 0,
        })
    }

    /// Fills `buf` with the next signals; returns how many (0 at the end).
    #[inline]
    pub fn fill(&mut self, buf: &mut [StrategySignal]) -> usize {
        let mut k = 0;
        while k < buf.len() {
            match self.next_signal() {
                Some(s) => buf[k] = s,
                None => break,
            }
            k += 1;
        }
        k
    }
}

/// Mean of `closes`, summed oldest first (left to right).
#[inline]
fn mean(closes: &[f64]) -> f64 {
    let mut sum = 0.0;
    for c in closes {
        sum += c;
    }
    sum / closes.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_values() {
        // Reference values of splitmix64 seeded with 0 (Vigna's C code).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn first_signals_follow_the_draw_order() {
        let w = Workload::new(WorkloadKind::W1, 3, 42);
        let mut g = w.generator();
        let mut r = SplitMix64::new(42);
        let mut p: Vec<f64> = (0..500).map(Workload::start_price).collect();
        for i in 0..3u64 {
            let sig = g.next_signal().unwrap();
            let s = (r.next_u64() % 500) as usize;
            p[s] *= 1.0 + ((r.next_u64() % 2001) as f64 - 1000.0) / 1_000_000.0;
            let buy = r.next_u64() % 100 < 55;
            let st = (r.next_u64() % 1000) as f64 / 1000.0;
            assert_eq!(sig.seq, i);
            assert_eq!(sig.symbol as usize, s);
            assert_eq!(sig.close, p[s]);
            assert_eq!(sig.side(), Some(if buy { Side::Buy } else { Side::Sell }));
            assert_eq!(sig.strength, st);
            assert_eq!(sig.ts_event, W1_EPOCH_NS + i * 1000);
        }
        assert!(g.next_signal().is_none());
    }

    #[test]
    fn moving_averages_use_the_last_closes_of_the_symbol() {
        let w = Workload::new(WorkloadKind::W1, 20_000, 7);
        let mut g = w.generator();
        let mut closes: Vec<Vec<f64>> = vec![Vec::new(); 500];
        while let Some(sig) = g.next_signal() {
            let c = &mut closes[sig.symbol as usize];
            c.push(sig.close);
            for (win, got) in [(5usize, sig.sma5), (21, sig.sma21)] {
                let tail = &c[c.len().saturating_sub(win)..];
                let want = tail.iter().sum::<f64>() / tail.len() as f64;
                assert_eq!(got, want, "seq {} window {win}", sig.seq);
            }
        }
    }

    #[test]
    fn skip_to_resumes_the_same_stream() {
        let w = Workload::new(WorkloadKind::W1, 1000, 42);
        let all: Vec<_> = {
            let mut g = w.generator();
            std::iter::from_fn(|| g.next_signal()).collect()
        };
        let mut g = w.generator();
        g.skip_to(600);
        assert_eq!(g.position(), 600);
        let rest: Vec<_> = std::iter::from_fn(|| g.next_signal()).collect();
        assert_eq!(rest, all[600..]);
    }

    #[test]
    fn universe_names_and_status() {
        let w1 = Workload::new(WorkloadKind::W1, 1, 42);
        assert_eq!(w1.account_name(7), "ACC-0007");
        assert_eq!(w1.symbol_name(499), "SYM499");
        let w2 = Workload::new(WorkloadKind::W2, 1, 42);
        assert_eq!(w2.account_name(7), "ACC-00007");
        assert_eq!(w2.symbol_name(7), "SYM0007");
        let p = w1.account_policies();
        assert_eq!(p.len(), 1000);
        assert_eq!(p[49].status(), AccountStatus::Blocked);
        assert_eq!(p[48].status(), AccountStatus::Active);
        assert_eq!("W2".parse::<WorkloadKind>(), Ok(WorkloadKind::W2));
        assert!("w3".parse::<WorkloadKind>().is_err());
    }
}
