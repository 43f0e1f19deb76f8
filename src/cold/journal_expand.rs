//! The cold side's first reading of the journal. For a decision whose order
//! filled in full at once (the simulated venue's fast lane) the hot thread
//! writes one record, a [`TradeFilled`]; this turns it back into the three
//! records it stands for — the decision, its fill and the position change —
//! so that everything downstream (summary, portfolio, stores) reads the
//! journal exactly as if the hot thread had written all three.
//!
//! The position change needs the position before the fill: the expander
//! keeps a mirror of every open position, moved by the same arithmetic as
//! the hot thread's ([`Position::apply_fill`]) and set outright by every
//! explicit rollup record (live fills, rollups from other engines). The hot
//! thread writes a [`TradeFilled`] only while no other order is in flight,
//! so the mirror's rule — a position is gone once its quantity is zero —
//! is then the hot book's rule too.
//!
//! Cold path: allocates (the mirror grows with the accounts seen).

use tradeengine_model::{
    AccountId, Fill, JournalEvent, OrderState, RollupChange, RollupOp, Route, Side, SymbolId, TradeFilled, TradeSignal,
};

use crate::hot::positions::Position;

/// Expands the hot thread's journal into the records it stands for.
#[derive(Clone, Debug, Default)]
pub struct JournalExpander {
    /// Engine id stamped on the rollups it derives (the hot thread's own).
    engine: u32,
    /// Open positions by account: (symbol, position), unordered.
    books: Vec<Vec<(SymbolId, Position)>>,
    /// Implied fills that disagreed with the mirror: an opening fill of a
    /// position the mirror holds, a scale-in or close of one it does not, a
    /// BUY that left no position or a SELL that left one. Must stay 0:
    /// anything else means the mirror lost step with the hot book.
    mismatched: u64,
}

impl JournalExpander {
    /// An expander for engine `engine` starting from no open position.
    pub fn new(engine: u32) -> Self {
        Self { engine, ..Default::default() }
    }

    /// An expander for engine `engine` starting from the open positions a
    /// run was restored with (the same list the hot thread was seeded with).
    pub fn seeded(engine: u32, positions: &[RollupChange]) -> Self {
        let mut x = Self::new(engine);
        positions.iter().for_each(|r| x.set(r));
        x
    }

    /// Passes `ev` to `out` as the record(s) it stands for: a
    /// [`TradeFilled`] as its decision, fill and rollup, in that order (the
    /// order in which the hot thread writes them when it writes all three);
    /// any other record unchanged.
    pub fn expand(&mut self, ev: &JournalEvent, mut out: impl FnMut(&JournalEvent)) {
        match ev.get::<TradeFilled>() {
            Some(t) => {
                let t = t.0;
                out(&JournalEvent::from(t));
                out(&JournalEvent::from(filled(&t)));
                out(&JournalEvent::from(self.apply(&t)));
            }
            None => {
                if let Some(r) = ev.get::<RollupChange>() {
                    self.set(r);
                }
                out(ev);
            }
        }
    }

    /// [`JournalExpander::expand`] of every record of `evs`, appended to `out`.
    pub fn expand_into(&mut self, evs: &[JournalEvent], out: &mut Vec<JournalEvent>) {
        for ev in evs {
            self.expand(ev, |e| out.push(*e));
        }
    }

    /// Implied fills that disagreed with the mirror (0 in a healthy run).
    pub fn mismatched(&self) -> u64 {
        self.mismatched
    }

    /// Open positions in the mirror.
    pub fn open_positions(&self) -> usize {
        self.books.iter().map(Vec::len).sum()
    }

    /// The mirror's position of `account` in `symbol`, if open.
    pub fn position(&self, account: AccountId, symbol: SymbolId) -> Option<&Position> {
        let book = self.books.get(account as usize)?;
        book.iter().find(|(s, _)| *s == symbol).map(|(_, p)| p)
    }

    fn book(&mut self, account: AccountId) -> &mut Vec<(SymbolId, Position)> {
        let a = account as usize;
        if a >= self.books.len() {
            self.books.resize_with(a + 1, Vec::new);
        }
        &mut self.books[a]
    }

    /// Takes the state an explicit rollup reports, as the hot thread does
    /// (`HotEngine::on_rollup`): a positive quantity is an open position,
    /// anything else a flat one.
    fn set(&mut self, r: &RollupChange) {
        let open = r.op() == RollupOp::Upsert && r.net_qty > 0.0 && r.net_qty.is_finite();
        let book = self.book(r.account);
        let i = book.iter().position(|(s, _)| *s == r.symbol);
        match (i, open) {
            (Some(i), false) => {
                book.swap_remove(i);
            }
            (None, false) => {}
            (i, true) => {
                let p = Position {
                    net_qty: r.net_qty,
                    avg_price: r.avg_price,
                    realized_pnl: r.realized_pnl,
                    last_price: r.last_price,
                    ..Default::default()
                };
                match i {
                    Some(i) => book[i].1 = p,
                    None => book.push((r.symbol, p)),
                }
            }
        }
    }

    /// Applies the fill `t` implies to the mirror and returns the rollup the
    /// hot thread would have written for it.
    fn apply(&mut self, t: &TradeSignal) -> RollupChange {
        let (opening, engine) = (t.route() == Route::Open, self.engine);
        let book = self.book(t.account);
        let found = book.iter().position(|(s, _)| *s == t.symbol);
        let i = found.unwrap_or_else(|| {
            book.push((t.symbol, Position::default()));
            book.len() - 1
        });
        let p = &mut book[i].1;
        p.apply_fill(t.side == Side::Buy as u8, t.qty, t.price);
        let r = p.rollup(t.account, t.symbol, engine, t.seq, t.ts_event);
        if r.op() == RollupOp::Delete {
            book.swap_remove(i);
        }
        // An opening fill finds no position, any other one finds it; a BUY
        // leaves a position open, a SELL closes it whole (the rule the
        // journal summary counts a TradeFilled's rollup by).
        let buy = t.side == Side::Buy as u8;
        if found.is_some() == opening || (r.op() == RollupOp::Upsert) != buy {
            self.mismatched += 1;
        }
        r
    }
}

/// The fill a [`TradeFilled`] decision implies: its whole quantity, at its
/// price and event time.
fn filled(t: &TradeSignal) -> Fill {
    Fill {
        side: t.side,
        order_state: OrderState::Filled as u8,
        account: t.account,
        symbol: t.symbol,
        seq: t.seq,
        ts_event: t.ts_event,
        order_id: t.order_id,
        qty: t.qty,
        price: t.price,
        cum_qty: t.qty,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_model::{JournalKind, Outcome};

    fn filled_decision(
        side: Side,
        route: Route,
        account: u32,
        symbol: u32,
        qty: f64,
        price: f64,
        seq: u64,
    ) -> JournalEvent {
        TradeFilled(TradeSignal {
            side: side as u8,
            outcome: Outcome::Routed as u8,
            route: route as u8,
            account,
            symbol,
            seq,
            ts_event: 1_000 + seq,
            order_id: seq + 1,
            qty,
            price,
            ..Default::default()
        })
        .into()
    }

    fn expand(x: &mut JournalExpander, ev: &JournalEvent) -> Vec<JournalEvent> {
        let mut out = Vec::new();
        x.expand_into(std::slice::from_ref(ev), &mut out);
        out
    }

    #[test]
    fn a_filled_decision_becomes_decision_fill_and_rollup() {
        let mut x = JournalExpander::new(7);
        let out = expand(&mut x, &filled_decision(Side::Buy, Route::Open, 2, 5, 3.0, 10.0, 40));
        let kinds: Vec<_> = out.iter().map(|e| e.kind()).collect();
        assert_eq!(kinds, [Some(JournalKind::TradeSignal), Some(JournalKind::Fill), Some(JournalKind::RollupChange)]);
        assert!(out.iter().all(|e| e.seq() == 40));
        let d = out[0].get::<TradeSignal>().unwrap();
        assert_eq!((d.account, d.qty, d.is_routed()), (2, 3.0, true));
        let f = out[1].get::<Fill>().unwrap();
        assert_eq!((f.account, f.symbol, f.order_id, f.qty, f.price, f.cum_qty), (2, 5, 41, 3.0, 10.0, 3.0));
        assert_eq!((f.order_state, f.ts_event), (OrderState::Filled as u8, 1_040));
        let r = out[2].get::<RollupChange>().unwrap();
        assert_eq!((r.op(), r.engine, r.net_qty, r.avg_price, r.last_price), (RollupOp::Upsert, 7, 3.0, 10.0, 10.0));
        // Scale in at 13: the average moves as the hot book moves it; then a close realizes.
        let out = expand(&mut x, &filled_decision(Side::Buy, Route::ScaleIn, 2, 5, 1.0, 14.0, 41));
        let r = *out[2].get::<RollupChange>().unwrap();
        assert_eq!((r.net_qty, r.avg_price), (4.0, 11.0));
        let out = expand(&mut x, &filled_decision(Side::Sell, Route::Close, 2, 5, 4.0, 12.0, 42));
        let r = *out[2].get::<RollupChange>().unwrap();
        assert_eq!((r.op(), r.net_qty, r.avg_price, r.realized_pnl), (RollupOp::Delete, 0.0, 0.0, 4.0));
        assert_eq!((x.open_positions(), x.mismatched()), (0, 0));
    }

    #[test]
    fn explicit_rollups_and_seeds_set_the_mirror_and_pass_through() {
        let seed = RollupChange {
            op: RollupOp::Upsert as u8,
            account: 1,
            symbol: 3,
            net_qty: 2.0,
            avg_price: 50.0,
            realized_pnl: -1.5,
            ..Default::default()
        };
        let mut x = JournalExpander::seeded(0, &[seed]);
        assert_eq!(x.position(1, 3).map(|p| (p.net_qty, p.avg_price, p.realized_pnl)), Some((2.0, 50.0, -1.5)));
        // A close of the restored position realizes against its average and keeps its P&L so far.
        let out = expand(&mut x, &filled_decision(Side::Sell, Route::Close, 1, 3, 2.0, 51.0, 9));
        assert_eq!(out[2].get::<RollupChange>().unwrap().realized_pnl, 0.5);
        // Another engine's upsert passes through unchanged and sets the mirror; its delete removes it.
        let foreign = JournalEvent::from(RollupChange { engine: 9, account: 4, symbol: 1, net_qty: 5.0, ..seed });
        assert_eq!(expand(&mut x, &foreign), vec![foreign]);
        assert_eq!(x.position(4, 1).map(|p| p.net_qty), Some(5.0));
        let gone =
            JournalEvent::from(RollupChange { op: RollupOp::Delete as u8, net_qty: 0.0, ..*foreign.get().unwrap() });
        expand(&mut x, &gone);
        assert!(x.position(4, 1).is_none());
        assert_eq!(x.mismatched(), 0);
    }

    #[test]
    fn fills_that_disagree_with_the_mirror_are_counted() {
        let mut x = JournalExpander::new(0);
        // A close of a position the mirror does not have, then an opening buy of one it has.
        expand(&mut x, &filled_decision(Side::Buy, Route::ScaleIn, 0, 0, 1.0, 10.0, 1));
        expand(&mut x, &filled_decision(Side::Buy, Route::Open, 0, 0, 1.0, 10.0, 2));
        assert_eq!(x.mismatched(), 2);
    }
}
