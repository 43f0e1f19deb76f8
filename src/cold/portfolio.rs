//! Portfolio and P&L, per account, from the journal: cash, equity, realized
//! and unrealized P&L, gross and net exposure, open positions, capital usage
//! and drawdown from the peak. Snapshots are taken in **event time** (every
//! `interval_ns` of the records' timestamps), so replays are deterministic.
//! Cold path.
//!
//! Positions come from the rollup changelog (the hot thread's own numbers:
//! no position arithmetic is done twice); cash from fills; marks from the
//! signals' closes and fill prices.

use std::collections::BTreeMap;

use tradeengine_adapters::store::{PnlRow, PortfolioRow};
use tradeengine_model::{
    AccountId, Fill, JournalEvent, JournalKind, RollupChange, RollupOp, Side, SymbolId, TradeSignal,
};

/// One account's books.
#[derive(Clone, Debug, Default, PartialEq)]
struct Book {
    row: PortfolioRow,
    /// symbol → (net qty, average price, realized P&L of the open position)
    positions: BTreeMap<SymbolId, (f64, f64, f64)>,
    touched: bool,
}

/// The portfolio of every account.
#[derive(Clone, Debug)]
pub struct Portfolio {
    books: Vec<Book>,
    marks: Vec<f64>,
    interval_ns: u64,
    /// Event time of the latest record seen.
    last_ts: u64,
    /// Rows produced since the last `take`.
    pnl: Vec<PnlRow>,
    marks_changed: BTreeMap<SymbolId, f64>,
}

impl Portfolio {
    /// Books for `capital.len()` accounts and `symbols` symbols; snapshots
    /// every `interval_ns` of event time (0: never).
    pub fn new(capital: &[f64], symbols: usize, interval_ns: u64) -> Self {
        let books = capital
            .iter()
            .enumerate()
            .map(|(a, &c)| Book {
                row: PortfolioRow {
                    account: a as AccountId,
                    initial_capital: c,
                    cash: c,
                    equity: c,
                    peak_equity: c,
                    ..Default::default()
                },
                ..Default::default()
            })
            .collect();
        Self {
            books,
            marks: vec![0.0; symbols],
            interval_ns,
            last_ts: 0,
            pnl: Vec::new(),
            marks_changed: BTreeMap::new(),
        }
    }

    /// Restores the state a store kept (rows, open positions, marks, last event time).
    pub fn restore(
        &mut self,
        rows: &[PortfolioRow],
        positions: &[RollupChange],
        marks: &[(SymbolId, f64)],
        last_ts: u64,
    ) {
        for r in rows {
            if let Some(b) = self.books.get_mut(r.account as usize) {
                b.row = r.clone();
            }
        }
        for p in positions {
            if let Some(b) = self.books.get_mut(p.account as usize) {
                b.positions.insert(p.symbol, (p.net_qty, p.avg_price, p.realized_pnl));
            }
        }
        for &(s, m) in marks {
            if let Some(x) = self.marks.get_mut(s as usize) {
                *x = m;
            }
        }
        self.last_ts = last_ts;
    }

    fn mark(&mut self, s: SymbolId, px: f64) {
        if let Some(m) = self.marks.get_mut(s as usize) {
            if *m != px {
                *m = px;
                self.marks_changed.insert(s, px);
            }
        }
    }

    /// Applies one journal record (taking the snapshots its timestamp passes first).
    pub fn on_record(&mut self, ev: &JournalEvent) {
        let ts = match ev.kind() {
            Some(JournalKind::TradeSignal) => ev.get::<TradeSignal>().map(|t| t.ts_event),
            Some(JournalKind::Fill) => ev.get::<Fill>().map(|f| f.ts_event),
            Some(JournalKind::RollupChange) => ev.get::<RollupChange>().map(|r| r.ts_event),
            _ => None,
        };
        if let Some(ts) = ts {
            self.advance_to(ts);
        }
        match ev.kind() {
            Some(JournalKind::TradeSignal) => {
                if let Some(t) = ev.get::<TradeSignal>() {
                    if t.price.is_finite() && t.price > 0.0 {
                        self.mark(t.symbol, t.price);
                    }
                }
            }
            Some(JournalKind::Fill) => {
                let Some(f) = ev.get::<Fill>() else { return };
                self.mark(f.symbol, f.price);
                let Some(b) = self.books.get_mut(f.account as usize) else { return };
                let flow = f.qty * f.price;
                if f.side == Side::Buy as u8 {
                    b.row.cash -= flow;
                } else {
                    b.row.cash += flow;
                }
                b.row.fills += 1;
                b.row.seq = f.seq;
                b.row.ts_event = f.ts_event;
                self.revalue(f.account as usize);
            }
            Some(JournalKind::RollupChange) => {
                let Some(r) = ev.get::<RollupChange>() else { return };
                let Some(b) = self.books.get_mut(r.account as usize) else { return };
                let before = b.positions.get(&r.symbol).map_or(0.0, |p| p.2);
                let delta = r.realized_pnl - before;
                // One change at a time, in journal order: the same sums, bit
                // for bit, as the hot thread's per-account realized P&L.
                if delta != 0.0 {
                    b.row.realized_pnl += delta;
                }
                match r.op() {
                    RollupOp::Upsert => {
                        b.positions.insert(r.symbol, (r.net_qty, r.avg_price, r.realized_pnl));
                    }
                    RollupOp::Delete => {
                        b.positions.remove(&r.symbol);
                    }
                }
                b.row.seq = r.seq;
                b.row.ts_event = r.ts_event;
                self.revalue(r.account as usize);
            }
            _ => {}
        }
    }

    /// Takes every snapshot whose boundary lies at or before `ts`.
    fn advance_to(&mut self, ts: u64) {
        if self.interval_ns > 0 && self.last_ts > 0 {
            let mut boundary = (self.last_ts / self.interval_ns + 1) * self.interval_ns;
            while boundary <= ts {
                self.snapshot(boundary);
                boundary += self.interval_ns;
            }
        }
        self.last_ts = self.last_ts.max(ts);
    }

    /// Values every account at the current marks and appends a `pnl_timeseries`
    /// row for each account that has traded.
    fn snapshot(&mut self, ts: u64) {
        for a in 0..self.books.len() {
            if self.books[a].row.fills == 0 && self.books[a].positions.is_empty() {
                continue;
            }
            self.revalue(a);
            let r = &self.books[a].row;
            self.pnl.push(PnlRow {
                ts_event: ts,
                account: a as AccountId,
                cash: r.cash,
                equity: r.equity,
                realized_pnl: r.realized_pnl,
                unrealized_pnl: r.unrealized_pnl,
                drawdown_pct: r.drawdown_pct,
            });
        }
    }

    /// Account `a` valued at the current marks (peak and drawdown included).
    fn valued(&self, a: usize) -> PortfolioRow {
        let b = &self.books[a];
        let (mut unrealized, mut gross, mut net, mut cost) = (0.0, 0.0, 0.0, 0.0);
        for (&s, &(q, avg, _)) in &b.positions {
            let m = self.marks.get(s as usize).copied().filter(|m| *m > 0.0).unwrap_or(avg);
            unrealized += (m - avg) * q;
            gross += (q * m).abs();
            net += q * m;
            cost += q * avg;
        }
        let mut r = b.row.clone();
        r.unrealized_pnl = unrealized;
        r.gross_exposure = gross;
        r.net_exposure = net;
        r.open_positions = b.positions.len() as u32;
        r.equity = r.cash + net;
        r.capital_usage_pct = if r.initial_capital > 0.0 { 100.0 * cost / r.initial_capital } else { 0.0 };
        r.peak_equity = r.peak_equity.max(r.equity);
        r.drawdown_pct = if r.peak_equity > 0.0 { 100.0 * (r.peak_equity - r.equity) / r.peak_equity } else { 0.0 };
        r
    }

    /// Revalues account `a` now and marks its row for the next commit. Rows
    /// are valued when a record touches them (never at commit time), so the
    /// tables do not depend on where commits fall.
    fn revalue(&mut self, a: usize) {
        self.books[a].row = self.valued(a);
        self.books[a].touched = true;
    }

    /// The rows changed since the last call: portfolio rows of touched
    /// accounts (revalued), new `pnl_timeseries` rows, changed marks.
    pub fn take(&mut self) -> (Vec<PortfolioRow>, Vec<PnlRow>, Vec<(SymbolId, f64)>) {
        let mut rows = Vec::new();
        for b in self.books.iter_mut().filter(|b| b.touched) {
            b.touched = false;
            rows.push(b.row.clone());
        }
        let marks = std::mem::take(&mut self.marks_changed).into_iter().collect();
        (rows, std::mem::take(&mut self.pnl), marks)
    }

    /// Event time of the latest record.
    pub fn last_ts(&self) -> u64 {
        self.last_ts
    }

    /// One account valued at the current marks (changes nothing).
    pub fn row(&self, a: AccountId) -> Option<PortfolioRow> {
        ((a as usize) < self.books.len()).then(|| self.valued(a as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_model::OrderState;

    fn fill(a: u32, s: u32, side: Side, qty: f64, px: f64, ts: u64) -> JournalEvent {
        Fill {
            side: side as u8,
            order_state: OrderState::Filled as u8,
            account: a,
            symbol: s,
            ts_event: ts,
            qty,
            price: px,
            cum_qty: qty,
            ..Default::default()
        }
        .into()
    }

    fn rollup(a: u32, s: u32, op: RollupOp, qty: f64, avg: f64, realized: f64, ts: u64) -> JournalEvent {
        RollupChange {
            op: op as u8,
            account: a,
            symbol: s,
            ts_event: ts,
            net_qty: qty,
            avg_price: avg,
            realized_pnl: realized,
            ..Default::default()
        }
        .into()
    }

    fn signal(s: u32, px: f64, ts: u64) -> JournalEvent {
        TradeSignal { symbol: s, price: px, ts_event: ts, ..Default::default() }.into()
    }

    #[test]
    fn cash_equity_pnl_exposure_and_drawdown() {
        let mut p = Portfolio::new(&[1_000.0, 500.0], 4, 1_000);
        p.on_record(&signal(1, 10.0, 100));
        p.on_record(&fill(0, 1, Side::Buy, 5.0, 10.0, 100));
        p.on_record(&rollup(0, 1, RollupOp::Upsert, 5.0, 10.0, 0.0, 100));
        let r = p.row(0).unwrap();
        assert_eq!((r.cash, r.equity, r.unrealized_pnl), (950.0, 1_000.0, 0.0));
        assert_eq!((r.gross_exposure, r.net_exposure, r.open_positions), (50.0, 50.0, 1));
        assert_eq!(r.capital_usage_pct, 5.0);
        // The mark moves up (valued at the 2,000 ns snapshot), then down.
        p.on_record(&signal(1, 14.0, 1_100));
        assert_eq!(p.row(0).unwrap().equity, 1_020.0);
        p.on_record(&signal(1, 6.0, 2_100));
        let r = p.row(0).unwrap();
        assert_eq!((r.equity, r.unrealized_pnl, r.peak_equity), (980.0, -20.0, 1_020.0));
        assert!((r.drawdown_pct - 100.0 * 40.0 / 1_020.0).abs() < 1e-12);
        // Close at 8: realized -10, flat, cash back.
        p.on_record(&fill(0, 1, Side::Sell, 5.0, 8.0, 2_200));
        p.on_record(&rollup(0, 1, RollupOp::Delete, 0.0, 0.0, -10.0, 2_200));
        let r = p.row(0).unwrap();
        assert_eq!(
            (r.cash, r.equity, r.realized_pnl, r.unrealized_pnl, r.open_positions),
            (990.0, 990.0, -10.0, 0.0, 0)
        );
        assert_eq!(r.fills, 2);
        let (rows, pnl, marks) = p.take();
        assert_eq!(rows.len(), 1, "only account 0 traded");
        assert_eq!(rows[0], r);
        // Snapshots at 1,000 ns (mark 10) and 2,000 ns (mark 14), account 0 only.
        assert_eq!(
            pnl.iter().map(|r| (r.ts_event, r.account, r.equity)).collect::<Vec<_>>(),
            vec![(1_000, 0, 1_000.0), (2_000, 0, 1_020.0)]
        );
        assert_eq!(marks, vec![(1, 8.0)]);
        p.on_record(&signal(2, 5.0, 3_500));
        let (_, pnl, _) = p.take();
        assert_eq!(pnl.iter().map(|r| (r.ts_event, r.equity)).collect::<Vec<_>>(), vec![(3_000, 990.0)]);
    }

    #[test]
    fn restore_continues_where_the_store_left_off() {
        let mut a = Portfolio::new(&[100.0], 2, 50);
        let events = [
            signal(0, 2.0, 10),
            fill(0, 0, Side::Buy, 3.0, 2.0, 10),
            rollup(0, 0, RollupOp::Upsert, 3.0, 2.0, 0.0, 10),
            signal(0, 3.0, 70),
            signal(0, 2.5, 130),
        ];
        for e in &events[..3] {
            a.on_record(e);
        }
        let (rows, _, marks) = a.take();
        let mut b = Portfolio::new(&[100.0], 2, 50);
        b.restore(
            &rows,
            &[RollupChange { account: 0, symbol: 0, net_qty: 3.0, avg_price: 2.0, ..Default::default() }],
            &marks,
            a.last_ts(),
        );
        for e in &events[3..] {
            a.on_record(e);
            b.on_record(e);
        }
        assert_eq!(a.take(), b.take());
    }
}
