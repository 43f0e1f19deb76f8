//! Daily OHLCV bars into strategy signals, the way the seed's SMA-cross
//! strategy makes them: per symbol, SMA5 and SMA21 of the close; BUY when
//! SMA5 crosses above SMA21, SELL when it crosses below; strength
//! `min(1, 50 · |SMA5 − SMA21| / SMA21)`. Cold path.
//!
//! Bad bars are reported and skipped, never used: unparseable fields, zero
//! or negative prices, a close outside low–high, duplicate (symbol, date).
//! A symbol missing trading days (days other symbols traded, between its
//! first and last bar) is reported, and its averages restart after the gap
//! so that no average spans missing closes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tradeengine_model::{Interner, Side, StrategySignal};

use super::capture::{CaptureError, CaptureWriter, Dictionary};
use super::import::split_csv;
use super::time::parse_date;

/// One daily bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Days since 1970-01-01.
    pub day: i64,
    pub symbol: String,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

const COLUMNS: [&str; 7] = ["date", "symbol", "open", "high", "low", "close", "volume"];

/// Column positions of a bars CSV header (any order, case ignored).
#[derive(Clone, Debug)]
pub struct BarColumns {
    index: [usize; 7],
}

impl BarColumns {
    /// Reads the header; every column of `Date,Symbol,Open,High,Low,Close,Volume` is required.
    pub fn from_header(line: &str) -> Result<Self, String> {
        let cells: Vec<String> = split_csv(line)?.into_iter().map(|c| c.trim().to_ascii_lowercase()).collect();
        let mut index = [0; 7];
        for (k, want) in COLUMNS.iter().enumerate() {
            index[k] = cells.iter().position(|c| c == want).ok_or_else(|| format!("header lacks column `{want}`"))?;
        }
        Ok(Self { index })
    }

    /// Parses and checks one bar; the error names the field.
    pub fn parse(&self, line: &str) -> Result<Bar, String> {
        let cells = split_csv(line)?;
        let cell = |k: usize| {
            cells.get(self.index[k]).map(|s| s.trim()).ok_or_else(|| format!("field {}: missing", COLUMNS[k]))
        };
        let num = |k: usize| -> Result<f64, String> {
            let t = cell(k)?;
            let v: f64 = t.parse().map_err(|_| format!("field {}: `{t}` is not a number", COLUMNS[k]))?;
            if !v.is_finite() {
                return Err(format!("field {}: `{t}` is not finite", COLUMNS[k]));
            }
            Ok(v)
        };
        let day = parse_date(cell(0)?).map_err(|e| format!("field date: {e}"))?;
        // Event time is u64 nanoseconds: 1970-01-01 ..= 2554-07-21.
        if !(0..=MAX_DAY).contains(&day) {
            return Err(format!("field date: `{}` is outside 1970-01-01 .. 2554-07-21", cell(0)?));
        }
        let symbol = cell(1)?.to_string();
        if symbol.is_empty() {
            return Err("field symbol: empty".into());
        }
        Dictionary::check_name(&symbol).map_err(|e| format!("field symbol: {e}"))?;
        let b = Bar { day, symbol, open: num(2)?, high: num(3)?, low: num(4)?, close: num(5)?, volume: num(6)? };
        for (k, v) in [(2, b.open), (3, b.high), (4, b.low), (5, b.close)] {
            if v <= 0.0 {
                return Err(format!("field {}: {v} is not a positive price", COLUMNS[k]));
            }
        }
        if b.volume < 0.0 {
            return Err(format!("field volume: {} is negative", b.volume));
        }
        if b.low > b.high {
            return Err(format!("field low: {} is above high {}", b.low, b.high));
        }
        if b.close < b.low || b.close > b.high {
            return Err(format!("field close: {} is outside low–high {}–{}", b.close, b.low, b.high));
        }
        Ok(b)
    }
}

/// What a conversion found and made.
#[derive(Clone, Debug, Default)]
pub struct BarsReport {
    pub bars: u64,
    pub bad: u64,
    /// The first bad bars' messages (`file:line: field X: what`, at most 20).
    pub errors: Vec<String>,
    pub symbols: usize,
    pub trading_days: usize,
    /// Symbols with missing trading days, and the days missed in all.
    pub symbols_with_gaps: usize,
    pub missing_days: u64,
    /// The first gaps as `SYMBOL: n days missing before YYYY-MM-DD` (at most 20).
    pub gaps: Vec<String>,
    pub signals: u64,
    pub buys: u64,
    pub sells: u64,
}

/// The last day whose midnight fits u64 nanoseconds.
const MAX_DAY: i64 = (u64::MAX / 86_400_000_000_000) as i64;

const SHORT: usize = 5;
const LONG: usize = 21;

/// One crossing of SMA5 over or under SMA21.
#[derive(Clone, Copy, Debug)]
struct Cross {
    day: i64,
    side: Side,
    close: f64,
    sma5: f64,
    sma21: f64,
    strength: f64,
}

/// A run of missing trading days: the day after it, and how many.
type Gap = (i64, u64);

/// Crossings of one symbol's bars (sorted by day, no duplicates), given the
/// trading calendar, and the gaps found.
fn cross_signals(bars: &[Bar], calendar: &[i64]) -> (Vec<Cross>, Vec<Gap>) {
    let mut out = Vec::new();
    let mut gaps = Vec::new();
    let mut window: Vec<f64> = Vec::with_capacity(LONG);
    let mut prev_gap: Option<f64> = None;
    let mut prev_day: Option<i64> = None;
    for b in bars {
        if let Some(pd) = prev_day {
            // Trading days strictly between the previous bar and this one.
            let lo = calendar.partition_point(|&d| d <= pd);
            let hi = calendar.partition_point(|&d| d < b.day);
            if hi > lo {
                gaps.push((b.day, (hi - lo) as u64));
                window.clear();
                prev_gap = None;
            }
        }
        prev_day = Some(b.day);
        if window.len() == LONG {
            window.remove(0);
        }
        window.push(b.close);
        if window.len() < LONG {
            continue;
        }
        let sma21 = window.iter().sum::<f64>() / LONG as f64;
        let sma5 = window[LONG - SHORT..].iter().sum::<f64>() / SHORT as f64;
        let gap = sma5 - sma21;
        if let Some(pg) = prev_gap {
            let side = if pg <= 0.0 && gap > 0.0 {
                Some(Side::Buy)
            } else if pg >= 0.0 && gap < 0.0 {
                Some(Side::Sell)
            } else {
                None
            };
            if let Some(side) = side {
                let strength = (50.0 * gap.abs() / sma21).min(1.0);
                out.push(Cross { day: b.day, side, close: b.close, sma5, sma21, strength });
            }
        }
        prev_gap = Some(gap);
    }
    (out, gaps)
}

/// Reads bars from `text` (named `name` in errors) and returns the signals
/// in (day, symbol) order with the dictionary, and the report.
pub fn bars_to_signals(text: &str, name: &str) -> Result<(Vec<StrategySignal>, Dictionary, BarsReport), String> {
    let mut rep = BarsReport::default();
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| format!("{name}: empty file (a header row is required)"))?;
    let cols = BarColumns::from_header(header).map_err(|e| format!("{name}:1: {e}"))?;
    let mut by_symbol: BTreeMap<String, BTreeMap<i64, Bar>> = BTreeMap::new();
    let note = |rep: &mut BarsReport, msg: String| {
        rep.bad += 1;
        if rep.errors.len() < 20 {
            rep.errors.push(msg);
        }
    };
    for (i, line) in lines {
        match cols.parse(line.trim_end_matches('\r')) {
            Ok(b) => {
                let series = by_symbol.entry(b.symbol.clone()).or_default();
                match series.entry(b.day) {
                    std::collections::btree_map::Entry::Occupied(_) => note(
                        &mut rep,
                        format!("{name}:{}: duplicate bar for {} on this date (first kept)", i + 1, b.symbol),
                    ),
                    std::collections::btree_map::Entry::Vacant(v) => {
                        rep.bars += 1;
                        v.insert(b);
                    }
                }
            }
            Err(e) => note(&mut rep, format!("{name}:{}: {e}", i + 1)),
        }
    }
    let calendar: Vec<i64> =
        by_symbol.values().flat_map(|s| s.keys().copied()).collect::<BTreeSet<_>>().into_iter().collect();
    rep.trading_days = calendar.len();
    rep.symbols = by_symbol.len();
    let mut symbols = Interner::new();
    let mut all: Vec<(u32, Cross)> = Vec::new();
    for (sym, series) in &by_symbol {
        let bars: Vec<Bar> = series.values().cloned().collect();
        let (sigs, gaps) = cross_signals(&bars, &calendar);
        if !gaps.is_empty() {
            rep.symbols_with_gaps += 1;
        }
        for (day, n) in gaps {
            rep.missing_days += n;
            if rep.gaps.len() < 20 {
                let (y, m, d) = super::time::civil_from_days(day);
                rep.gaps.push(format!("{sym}: {n} trading day(s) missing before {y:04}-{m:02}-{d:02}"));
            }
        }
        let id = symbols.intern(sym);
        all.extend(sigs.into_iter().map(|c| (id, c)));
    }
    all.sort_by_key(|&(sym, c)| (c.day, sym));
    let signals: Vec<StrategySignal> = all
        .iter()
        .enumerate()
        .map(|(i, &(sym, Cross { day, side, close, sma5, sma21, strength }))| {
            match side {
                Side::Buy => rep.buys += 1,
                Side::Sell => rep.sells += 1,
            }
            StrategySignal {
                seq: i as u64,
                ts_event: day as u64 * 86_400_000_000_000,
                close,
                sma5,
                sma21,
                strength,
                symbol: sym,
                strategy: 0,
                side: side as u8,
                ..Default::default()
            }
        })
        .collect();
    rep.signals = signals.len() as u64;
    let dict =
        Dictionary { accounts: Vec::new(), symbols: symbols.names().to_vec(), strategies: vec!["sma-cross".into()] };
    Ok((signals, dict, rep))
}

/// `signals sma-cross`: reads `bars`, writes the signals as a capture file at `out`.
pub fn sma_cross_file(bars: &Path, out: &Path) -> Result<BarsReport, String> {
    let text = std::fs::read_to_string(bars).map_err(|e| format!("{}: cannot read: {e}", bars.display()))?;
    let (signals, dict, rep) = bars_to_signals(&text, &bars.display().to_string())?;
    let write = || -> Result<(), CaptureError> {
        let mut w = CaptureWriter::<StrategySignal>::create(out)?;
        w.push_all(&signals)?;
        w.finish(&dict)?;
        Ok(())
    };
    write().map_err(|e| e.to_string())?;
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::time::days_from_civil;

    fn csv(rows: &[(&str, &str, f64)]) -> String {
        let mut s = String::from("Date,Symbol,Open,High,Low,Close,Volume\n");
        for (d, sym, c) in rows {
            s.push_str(&format!("{d},{sym},{c},{},{},{c},1000\n", c + 1.0, c - 1.0));
        }
        s
    }

    fn date(i: i64) -> String {
        let (y, m, d) = crate::feeds::time::civil_from_days(days_from_civil(2010, 1, 1) + i);
        format!("{y:04}-{m:02}-{d:02}")
    }

    #[test]
    fn crossings_make_buy_then_sell() {
        // 25 days falling, 15 rising, 15 falling: one cross up, one cross down.
        let mut closes = Vec::new();
        let mut c = 100.0;
        for i in 0..55 {
            c += if i < 25 {
                -1.0
            } else if i < 40 {
                1.5
            } else {
                -1.5
            };
            closes.push(c);
        }
        let rows: Vec<(String, &str, f64)> =
            closes.iter().enumerate().map(|(i, &c)| (date(i as i64), "X", c)).collect();
        let rows: Vec<(&str, &str, f64)> = rows.iter().map(|(d, s, c)| (d.as_str(), *s, *c)).collect();
        let (sig, dict, rep) = bars_to_signals(&csv(&rows), "t.csv").unwrap();
        assert_eq!(dict.symbols, vec!["X"]);
        let sides: Vec<Side> = sig.iter().map(|s| s.side().unwrap()).collect();
        assert_eq!(sides, vec![Side::Buy, Side::Sell]);
        assert_eq!((rep.buys, rep.sells, rep.bad), (1, 1, 0));
        for s in &sig {
            let gap = s.sma5 - s.sma21;
            assert_eq!(s.strength, (50.0 * gap.abs() / s.sma21).min(1.0));
            assert!(s.side() == Some(Side::Buy) && gap > 0.0 || s.side() == Some(Side::Sell) && gap < 0.0);
        }
        // The BUY's averages are those of the last 5 / 21 closes up to its day.
        let day = (sig[0].ts_event / 86_400_000_000_000) as i64 - days_from_civil(2010, 1, 1);
        let w = &closes[..=day as usize];
        assert_eq!(sig[0].sma21, w[w.len() - 21..].iter().sum::<f64>() / 21.0);
        assert_eq!(sig[0].sma5, w[w.len() - 5..].iter().sum::<f64>() / 5.0);
    }

    #[test]
    fn bad_bars_are_reported_and_skipped() {
        let text = "date,symbol,open,high,low,close,volume\n\
                    2010-01-04,A,1,2,0.5,1.5,10\n\
                    2010-01-04,A,1,2,0.5,1.5,10\n\
                    2010-01-05,A,0,2,0.5,1.5,10\n\
                    2010-01-06,A,1,2,0.5,2.5,10\n\
                    2010-02-30,A,1,2,0.5,1.5,10\n\
                    2010-01-07,A,1,2,x,1.5,10\n\
                    2010-01-08,A,1,2\n\
                    9999-12-31,A,1,2,0.5,1.5,10\n";
        let (_, _, rep) = bars_to_signals(text, "b.csv").unwrap();
        assert_eq!((rep.bars, rep.bad), (1, 7));
        assert!(rep.errors[0].starts_with("b.csv:3: duplicate bar for A"), "{:?}", rep.errors);
        assert!(rep.errors[1].contains("b.csv:4: field open: 0 is not a positive price"));
        assert!(rep.errors[2].contains("b.csv:5: field close: 2.5 is outside low–high"));
        assert!(rep.errors[3].contains("b.csv:6: field date:"));
        assert!(rep.errors[4].contains("b.csv:7: field low: `x` is not a number"));
        assert!(rep.errors[5].contains("b.csv:8: field low: missing"));
        assert!(rep.errors[6].contains("b.csv:9: field date: `9999-12-31` is outside"), "{:?}", rep.errors);
        assert!(bars_to_signals("date,symbol\n", "h.csv").unwrap_err().contains("h.csv:1: header lacks column `open`"));
    }

    #[test]
    fn missing_days_restart_the_averages() {
        // B trades every day; A misses day 10: A's averages restart after it.
        let mut rows = Vec::new();
        for i in 0..40 {
            let d = date(i);
            rows.push((d.clone(), "B", 50.0));
            if i != 10 {
                rows.push((d, "A", 100.0 + i as f64));
            }
        }
        let rows: Vec<(&str, &str, f64)> = rows.iter().map(|(d, s, c)| (d.as_str(), *s, *c)).collect();
        let (sig, _, rep) = bars_to_signals(&csv(&rows), "g.csv").unwrap();
        assert_eq!((rep.symbols_with_gaps, rep.missing_days), (1, 1));
        assert!(rep.gaps[0].starts_with("A: 1 trading day(s) missing before 2010-01-12"), "{:?}", rep.gaps);
        // A rises steadily: no crossing is possible without a flat start, and
        // none of its averages may include closes from before the gap.
        assert!(sig.iter().all(|s| s.sma21 > 110.0 || s.symbol != 0));
    }
}
