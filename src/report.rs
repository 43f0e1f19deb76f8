//! Backtest report from a store: a summary table (signals, routed/dropped by
//! reason, orders, fills, closed trades and win rate, realized/unrealized
//! P&L, max drawdown), per-account and per-symbol CSV breakdowns, the equity
//! curve and drawdown as CSV and PNG. Cold path, after a run.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;
use tradeengine_adapters::feeds::time::format_ns;
use tradeengine_adapters::store::{ReportData, SqliteStore};

use crate::latency::report::register_font;

/// Closed-trade statistics of one symbol (or of everything).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TradeStats {
    pub fills: u64,
    /// SELL fills that closed (part of) a long.
    pub closed: u64,
    /// Closed trades with a positive P&L.
    pub wins: u64,
    pub realized_pnl: f64,
}

impl TradeStats {
    /// Wins / closed trades, in percent (0 without closed trades).
    pub fn win_rate_pct(&self) -> f64 {
        if self.closed == 0 {
            0.0
        } else {
            100.0 * self.wins as f64 / self.closed as f64
        }
    }
}

/// The computed report.
#[derive(Clone, Debug, Default)]
pub struct Backtest {
    pub signals: u64,
    pub routed: u64,
    /// (reason, count) of dropped decisions.
    pub dropped: Vec<(String, u64)>,
    pub orders: u64,
    pub all: TradeStats,
    pub by_symbol: BTreeMap<String, TradeStats>,
    pub unrealized_pnl: f64,
    pub initial_capital: f64,
    pub final_equity: f64,
    /// (event time ns, total equity over every account).
    pub equity: Vec<(u64, f64)>,
    /// (event time ns, drawdown from the running peak, percent).
    pub drawdown: Vec<(u64, f64)>,
    pub max_drawdown_pct: f64,
    pub risk_events: u64,
    pub data: ReportData,
    /// Tick-to-trade of the run, when it was measured (see
    /// `PersistOutcome::tick_to_trade`): written as `tick_to_trade.hgrm`.
    pub tick_to_trade: Option<hdrhistogram::Histogram<u64>>,
}

impl Backtest {
    /// Computes the report from what the store holds. Accounts are valued
    /// at the last marks (`symbol_marks`): the `portfolio` rows hold each
    /// account as of its own last record, so a later price move of a symbol
    /// it holds is priced in here.
    pub fn from_data(mut data: ReportData) -> Self {
        let marks: HashMap<&str, f64> = data.marks.iter().map(|(s, p)| (s.as_str(), *p)).collect();
        let mut held: HashMap<&str, (f64, f64)> = HashMap::new();
        for (a, s, q, avg) in &data.positions {
            let m = marks.get(s.as_str()).copied().filter(|m| *m > 0.0).unwrap_or(*avg);
            let e = held.entry(a.as_str()).or_default();
            e.0 += q * m;
            e.1 += (m - avg) * q;
        }
        let revalued: Vec<(f64, f64)> = data
            .accounts
            .iter()
            .map(|a| {
                let (value, unrealized) = held.get(a.account.as_str()).copied().unwrap_or((0.0, 0.0));
                (a.cash + value, unrealized)
            })
            .collect();
        for (a, (equity, unrealized)) in data.accounts.iter_mut().zip(revalued) {
            a.equity = equity;
            a.unrealized_pnl = unrealized;
        }
        let mut b = Backtest { orders: data.orders, risk_events: data.risk_events, ..Default::default() };
        for (outcome, n) in &data.outcomes {
            b.signals += n;
            if outcome == "routed" {
                b.routed += n;
            } else {
                b.dropped.push((outcome.clone(), *n));
            }
        }
        b.dropped.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        // Closed trades: replay the fills through per-(account, symbol) longs.
        let mut pos: HashMap<(&str, &str), (f64, f64)> = HashMap::new();
        for f in &data.fills {
            let st = b.by_symbol.entry(f.symbol.clone()).or_default();
            st.fills += 1;
            b.all.fills += 1;
            let p = pos.entry((f.account.as_str(), f.symbol.as_str())).or_insert((0.0, 0.0));
            if f.side == "BUY" {
                let q = p.0 + f.qty;
                p.1 = if q > 0.0 { (p.1 * p.0 + f.price * f.qty) / q } else { 0.0 };
                p.0 = q;
            } else {
                let q = f.qty.min(p.0);
                let pnl = (f.price - p.1) * q;
                p.0 -= q;
                for s in [&mut *st, &mut b.all] {
                    s.closed += 1;
                    s.wins += (pnl > 0.0) as u64;
                    s.realized_pnl += pnl;
                }
            }
        }
        b.unrealized_pnl = data.accounts.iter().map(|a| a.unrealized_pnl).sum();
        b.initial_capital = data.total_initial_capital;
        let initial: HashMap<&str, f64> =
            data.accounts.iter().map(|a| (a.account.as_str(), a.initial_capital)).collect();
        // Total equity per snapshot: untraded accounts stay at their capital.
        let mut last_ts = None;
        let mut gain = 0.0;
        for s in &data.snapshots {
            if last_ts.is_some_and(|t| t != s.ts_event) {
                b.equity.push((last_ts.unwrap_or(0), b.initial_capital + gain));
                gain = 0.0;
            }
            last_ts = Some(s.ts_event);
            gain += s.equity - initial.get(s.account.as_str()).copied().unwrap_or(s.equity);
        }
        if let Some(t) = last_ts {
            b.equity.push((t, b.initial_capital + gain));
        }
        b.final_equity = b.initial_capital + data.accounts.iter().map(|a| a.equity - a.initial_capital).sum::<f64>();
        let end_ts = data.fills.last().map(|f| f.ts_event).unwrap_or(0);
        if b.equity.last().is_none_or(|&(t, _)| t < end_ts) {
            b.equity.push((end_ts, b.final_equity));
        }
        let mut peak = f64::MIN;
        for &(t, e) in &b.equity {
            peak = peak.max(e);
            let dd = if peak > 0.0 { 100.0 * (peak - e) / peak } else { 0.0 };
            b.max_drawdown_pct = b.max_drawdown_pct.max(dd);
            b.drawdown.push((t, dd));
        }
        b.data = data;
        b
    }

    /// The summary table.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let a = &self.all;
        let _ = writeln!(s, "signals            {}", self.signals);
        let _ = writeln!(s, "routed             {}", self.routed);
        let _ = writeln!(s, "dropped            {}", self.signals - self.routed);
        for (r, n) in &self.dropped {
            let _ = writeln!(s, "  {r:<22} {n}");
        }
        let _ = writeln!(s, "orders             {}", self.orders);
        let _ = writeln!(s, "fills              {}", a.fills);
        let _ = writeln!(s, "closed trades      {}", a.closed);
        let _ = writeln!(s, "win rate           {:.1} %", a.win_rate_pct());
        let _ = writeln!(s, "realized P&L       {:.2}", a.realized_pnl);
        let _ = writeln!(s, "unrealized P&L     {:.2}", self.unrealized_pnl);
        let ret = if self.initial_capital > 0.0 {
            100.0 * (self.final_equity - self.initial_capital) / self.initial_capital
        } else {
            0.0
        };
        let _ = writeln!(s, "initial capital    {:.2}", self.initial_capital);
        let _ = writeln!(s, "final equity       {:.2} ({ret:+.2} %)", self.final_equity);
        let _ = writeln!(s, "max drawdown       {:.2} %", self.max_drawdown_pct);
        let _ = writeln!(s, "risk events        {}", self.risk_events);
        if let (Some(f), Some(l)) = (self.equity.first(), self.equity.last()) {
            let _ = writeln!(s, "event time         {} .. {}", format_ns(f.0), format_ns(l.0));
        }
        if let Some(h) = &self.tick_to_trade {
            let _ = writeln!(
                s,
                "tick-to-trade      p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} routed signals; ingress -> decision on the cold side)",
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max(),
                h.len()
            );
        }
        s
    }

    /// Writes `summary.txt`, `accounts.csv`, `symbols.csv`, `equity.csv`,
    /// `equity.png` and `drawdown.png` into `dir`; returns how many files.
    pub fn write(&self, dir: &Path) -> anyhow::Result<usize> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let put = |name: &str, text: String| {
            std::fs::write(dir.join(name), text).with_context(|| format!("writing {}", dir.join(name).display()))
        };
        put("summary.txt", self.summary())?;
        let mut acc = String::from("account,initial_capital,equity,realized_pnl,unrealized_pnl,open_positions\n");
        for a in &self.data.accounts {
            let _ = writeln!(
                acc,
                "{},{:.6},{:.6},{:.6},{:.6},{}",
                a.account, a.initial_capital, a.equity, a.realized_pnl, a.unrealized_pnl, a.open_positions
            );
        }
        put("accounts.csv", acc)?;
        let mut sym =
            String::from("symbol,routed_buy,routed_sell,dropped,fills,closed_trades,wins,win_rate_pct,realized_pnl\n");
        for (name, buy, sell, dropped) in &self.data.signals_by_symbol {
            let t = self.by_symbol.get(name).cloned().unwrap_or_default();
            let _ = writeln!(
                sym,
                "{name},{buy},{sell},{dropped},{},{},{},{:.2},{:.6}",
                t.fills,
                t.closed,
                t.wins,
                t.win_rate_pct(),
                t.realized_pnl
            );
        }
        put("symbols.csv", sym)?;
        let mut eq = String::from("ts_event,time,equity,drawdown_pct\n");
        for (&(t, e), &(_, d)) in self.equity.iter().zip(&self.drawdown) {
            let _ = writeln!(eq, "{t},{},{e:.6},{d:.6}", format_ns(t));
        }
        put("equity.csv", eq)?;
        line_chart(&dir.join("equity.png"), "Equity (all accounts)", "equity", &self.equity, &RGBColor(20, 90, 200))?;
        line_chart(&dir.join("drawdown.png"), "Drawdown from peak", "drawdown %", &self.drawdown, &RED)?;
        if let Some(h) = &self.tick_to_trade {
            put("tick_to_trade.hgrm", crate::latency::report::hgrm(h))?;
            return Ok(7);
        }
        Ok(6)
    }
}

/// Reads the store at `db` and writes the report into `dir`, with the
/// run's tick-to-trade histogram when it was measured; returns the report.
pub fn report_from_store(
    db: &Path,
    dir: &Path,
    tick_to_trade: Option<&hdrhistogram::Histogram<u64>>,
) -> anyhow::Result<(Backtest, usize)> {
    let store = SqliteStore::open_existing(db)?;
    let mut b = Backtest::from_data(store.report_data()?);
    b.tick_to_trade = tick_to_trade.cloned();
    let n = b.write(dir)?;
    Ok((b, n))
}

fn line_chart(path: &Path, title: &str, y_desc: &str, pts: &[(u64, f64)], color: &RGBColor) -> anyhow::Result<()> {
    let text = register_font();
    let t0 = pts.first().map_or(0, |p| p.0);
    let days: Vec<(f64, f64)> = pts.iter().map(|&(t, v)| ((t - t0) as f64 / 86_400e9, v)).collect();
    let x_max = days.last().map_or(1.0, |p| p.0).max(1e-9);
    let (lo, hi) = days.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.1), h.max(p.1)));
    let (lo, hi) = if days.is_empty() { (0.0, 1.0) } else { (lo, hi) };
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-6).max(1e-9);
    let root = BitMapBackend::new(path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut b = ChartBuilder::on(&root);
    b.margin(20);
    if text {
        b.caption(title, ("sans-serif", 24)).x_label_area_size(45).y_label_area_size(110);
    }
    let mut chart = b.build_cartesian_2d(0.0..x_max, (lo - pad)..(hi + pad)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("event time (days from the first snapshot)")
            .y_desc(y_desc)
            .y_label_formatter(&|y| format!("{y:.2}"));
    } else {
        mesh.disable_x_mesh().disable_y_mesh();
    }
    mesh.draw().map_err(|e| anyhow::anyhow!("{e}"))?;
    chart.draw_series(LineSeries::new(days, color.stroke_width(2))).map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_adapters::store::{AccountValue, FillRow, SnapshotRow};

    fn fill(seq: u64, account: &str, side: &str, qty: f64, price: f64) -> FillRow {
        FillRow {
            seq,
            ts_event: seq * 1_000_000_000,
            account: account.into(),
            symbol: "X".into(),
            side: side.into(),
            qty,
            price,
        }
    }

    #[test]
    fn accounts_are_valued_at_the_last_marks() {
        let data = ReportData {
            accounts: vec![AccountValue {
                account: "a".into(),
                initial_capital: 100.0,
                cash: 80.0,
                equity: 100.0, // as of its own last record (mark 10)
                realized_pnl: 0.0,
                unrealized_pnl: 0.0,
                open_positions: 1,
            }],
            positions: vec![("a".into(), "X".into(), 2.0, 10.0)],
            marks: vec![("X".into(), 12.0)], // another account's later fill moved X
            total_initial_capital: 100.0,
            ..Default::default()
        };
        let b = Backtest::from_data(data);
        assert_eq!((b.data.accounts[0].equity, b.data.accounts[0].unrealized_pnl), (104.0, 4.0));
        assert_eq!((b.final_equity, b.unrealized_pnl), (104.0, 4.0));
    }

    #[test]
    fn closed_trades_win_rate_and_drawdown() {
        let data = ReportData {
            outcomes: vec![("no_holder".into(), 2), ("routed".into(), 5)],
            fills: vec![
                fill(0, "a", "BUY", 1.0, 10.0),
                fill(1, "a", "BUY", 1.0, 12.0),
                fill(2, "b", "BUY", 2.0, 10.0),
                fill(3, "a", "SELL", 2.0, 13.0), // +4 win (avg 11)
                fill(4, "b", "SELL", 2.0, 9.0),  // -2 loss
            ],
            accounts: vec![
                AccountValue {
                    account: "a".into(),
                    initial_capital: 100.0,
                    cash: 102.0,
                    equity: 102.0,
                    realized_pnl: 2.0,
                    unrealized_pnl: 0.0,
                    open_positions: 0,
                },
                AccountValue {
                    account: "b".into(),
                    initial_capital: 100.0,
                    cash: 98.0,
                    equity: 98.0,
                    realized_pnl: -2.0,
                    unrealized_pnl: 0.0,
                    open_positions: 0,
                },
            ],
            total_initial_capital: 300.0,
            snapshots: vec![
                SnapshotRow { ts_event: 1, account: "a".into(), equity: 110.0, drawdown_pct: 0.0 },
                SnapshotRow { ts_event: 2, account: "a".into(), equity: 99.0, drawdown_pct: 10.0 },
                SnapshotRow { ts_event: 2, account: "b".into(), equity: 100.0, drawdown_pct: 0.0 },
            ],
            ..Default::default()
        };
        let b = Backtest::from_data(data);
        assert_eq!((b.signals, b.routed), (7, 5));
        assert_eq!(b.dropped, vec![("no_holder".to_string(), 2)]);
        assert_eq!((b.all.fills, b.all.closed, b.all.wins), (5, 2, 1));
        assert_eq!(b.all.win_rate_pct(), 50.0);
        assert_eq!(b.all.realized_pnl, 2.0);
        // Curve: 310 at t1, 299 at t2, then the final 300 at the last fill.
        let eq: Vec<f64> = b.equity.iter().map(|p| p.1).collect();
        assert_eq!(eq, vec![310.0, 299.0, 300.0]);
        assert!((b.max_drawdown_pct - 100.0 * 11.0 / 310.0).abs() < 1e-9);
        let dir = std::env::temp_dir().join(format!("te-report-{}", std::process::id()));
        assert_eq!(b.write(&dir).unwrap(), 6);
        let png = std::fs::read(dir.join("equity.png")).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        assert!(std::fs::read_to_string(dir.join("summary.txt")).unwrap().contains("win rate           50.0 %"));
    }
}
