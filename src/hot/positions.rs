//! Open positions: per account a compact run of slots, each a symbol id and
//! its position, so that finding an account's position in a symbol scans at
//! most `maxOpenSymbols` ids and reads the position from the same slot.
//!
//! Hot-path rules: nothing here allocates after [`PositionBook::new`].

use bytemuck::{Pod, Zeroable};
use tradeengine_model::{AccountId, RollupChange, RollupOp, SymbolId};

/// One (account, symbol) position. Long-only: SELLs close.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct Position {
    /// Filled net quantity.
    pub net_qty: f64,
    /// Weighted average entry price of `net_qty`.
    pub avg_price: f64,
    /// Realized P&L since the position was opened.
    pub realized_pnl: f64,
    /// Quantity of BUY orders in flight (reserved at routing time).
    pub pending_buy: f64,
    /// Quantity of SELL orders in flight.
    pub pending_sell: f64,
    /// Price of the latest fill.
    pub last_price: f64,
}

/// Quantities below this are zero (guards against float residue of partial fills).
pub const QTY_EPSILON: f64 = 1e-9;

impl Position {
    /// Applies a fill (W1.md arithmetic): a BUY of `f` at `px` moves the
    /// average to `(avg*q + px*f)/(q+f)`; a SELL realizes `(px - avg)*f`.
    /// Returns the realized P&L of this fill.
    #[inline]
    pub fn apply_fill(&mut self, is_buy: bool, qty: f64, px: f64) -> f64 {
        self.last_price = px;
        if is_buy {
            let q = self.net_qty;
            self.avg_price = (self.avg_price * q + px * qty) / (q + qty);
            self.net_qty = q + qty;
            0.0
        } else {
            let qty = qty.min(self.net_qty);
            let pnl = (px - self.avg_price) * qty;
            self.realized_pnl += pnl;
            self.net_qty -= qty;
            if self.net_qty.abs() < QTY_EPSILON {
                self.net_qty = 0.0;
            }
            pnl
        }
    }

    /// The rollup change this position reports after a fill (`last_price`
    /// is that fill's price): UPSERT while it holds a quantity, DELETE (no
    /// quantity, no average) once flat. The hot thread journals it; the cold
    /// side's mirror derives the same one for a `TradeFilled`.
    #[inline(always)]
    pub fn rollup(&self, account: AccountId, symbol: SymbolId, engine: u32, seq: u64, ts_event: u64) -> RollupChange {
        let open = self.net_qty > 0.0;
        RollupChange {
            op: if open { RollupOp::Upsert } else { RollupOp::Delete } as u8,
            account,
            symbol,
            engine,
            seq,
            ts_event,
            net_qty: self.net_qty,
            avg_price: if open { self.avg_price } else { 0.0 },
            realized_pnl: self.realized_pnl,
            last_price: self.last_price,
            ..Default::default()
        }
    }

    /// The position a BUY of `qty` at `px` opens: `Position::default()`
    /// after [`Position::apply_fill`] of that BUY, built as a value (so a
    /// freshly opened slot is only ever written, never read back).
    #[inline]
    pub fn bought(qty: f64, px: f64) -> Self {
        let mut p = Self::default();
        p.apply_fill(true, qty, px);
        p
    }

    /// A SELL can close it: a filled quantity and no close in flight.
    #[inline(always)]
    pub fn sellable(&self) -> bool {
        self.net_qty > QTY_EPSILON && self.pending_sell < QTY_EPSILON
    }

    /// No filled quantity and nothing in flight: the record can be released.
    #[inline]
    pub fn is_flat_and_idle(&self) -> bool {
        self.net_qty == 0.0 && self.pending_buy < QTY_EPSILON && self.pending_sell < QTY_EPSILON
    }
}

/// All open positions of all accounts.
///
/// Account `a`'s positions live in its own run of slots `a * K .. a * K + K`
/// (`K` = slots per account), kept compact (swap-remove), next to the run of
/// the symbols they are in: finding a position scans the account's symbol
/// ids and reads the position from the same slot, with no record pool in
/// between (one cache miss less per lookup on a large book).
#[derive(Debug)]
pub struct PositionBook {
    slots_per_account: usize,
    /// Positions held per account (its open count, reserved ones included).
    used: Vec<u32>,
    /// `held_symbol[a * K + i]`, `i < used[a]`: symbols account `a` holds.
    held_symbol: Vec<SymbolId>,
    /// `positions[a * K + i]`: the position in that symbol.
    positions: Vec<Position>,
    /// Most positions open at once, across all accounts.
    capacity: u64,
    open_total: u64,
}

impl PositionBook {
    /// A book for `accounts` accounts of at most `slots_per_account` positions
    /// each, with at most `max_open` positions open at once in all (0: no
    /// limit beyond the slots). Start-up only.
    ///
    /// # Panics
    /// If `accounts * slots_per_account` does not fit a `u32` slot index
    /// (the config loader's capacity limits keep it far below).
    pub fn new(accounts: usize, slots_per_account: usize, max_open: usize) -> Self {
        let slots = accounts * slots_per_account;
        assert!(u32::try_from(slots).is_ok(), "{accounts} accounts x {slots_per_account} slots exceed u32 slot ids");
        let capacity = if max_open == 0 { slots } else { max_open.min(slots) };
        Self {
            slots_per_account,
            used: vec![0; accounts],
            held_symbol: vec![0; slots],
            positions: bytemuck::zeroed_vec(slots),
            capacity: capacity as u64,
            open_total: 0,
        }
    }

    /// Maps every page now (start-up), so no page fault hits the hot loop.
    pub fn prefault(&mut self) {
        use super::memory::prefault;
        prefault(&mut self.used);
        prefault(&mut self.held_symbol);
        prefault(&mut self.positions);
    }

    /// Positions slots per account (the largest `maxOpenSymbols` allowed).
    #[inline]
    pub fn slots_per_account(&self) -> usize {
        self.slots_per_account
    }

    /// Positions the account holds, reserved ones included (its `openCount`).
    #[inline]
    pub fn open_count(&self, a: AccountId) -> u32 {
        self.used[a as usize]
    }

    /// Positions open across all accounts (reserved ones included).
    #[inline]
    pub fn open_total(&self) -> u64 {
        self.open_total
    }

    /// The slot of account `a`'s position in `s`, if it has one. A slot id
    /// stays valid until a position of the same account is closed.
    #[inline(always)]
    ///
    /// A plain scan on purpose: its exit branch is predicted, so the CPU
    /// starts loading the position it will read next while the symbol ids
    /// are still in flight. A branch-free vector compare (tried) makes that
    /// load wait for the compare: on W2, where both are DRAM misses, it was
    /// 10-20 % slower for 9 % fewer instructions on W1.
    pub fn find(&self, a: AccountId, s: SymbolId) -> Option<u32> {
        let n = *self.used.get(a as usize)? as usize;
        let base = a as usize * self.slots_per_account;
        // SAFETY: `a` is in range (its count was read), and every account's
        // run `base .. base + used[a]` lies inside `held_symbol` (`used[a]`
        // never exceeds the slots per account: `open_with` checks).
        let syms = unsafe { self.held_symbol.get_unchecked(base..base + n) };
        syms.iter().position(|&x| x == s).map(|i| (base + i) as u32)
    }

    /// Whether `slot` (once one of account `a`'s) still holds `a`'s position
    /// in `s` (a close of another of `a`'s positions may have moved it).
    /// Reads two entries, both addressed from the arguments alone (no scan).
    #[inline]
    pub fn holds_at(&self, a: AccountId, slot: u32, s: SymbolId) -> bool {
        let base = a as usize * self.slots_per_account;
        let end = base + self.used.get(a as usize).copied().unwrap_or(0) as usize;
        let slot = slot as usize;
        slot >= base && slot < end && self.held_symbol[slot] == s
    }

    /// Hints what closing account `a`'s position in `slot` reads besides the
    /// position (its open count and the held-symbol entry of the slot)
    /// into cache (out of range: ignored). Hot path: changes nothing.
    #[inline]
    pub fn prefetch_close(&self, a: AccountId, slot: u32) {
        if let (Some(n), Some(h)) = (self.used.get(a as usize), self.held_symbol.get(slot as usize)) {
            super::memory::prefetch(n);
            super::memory::prefetch(h);
        }
    }

    /// Hints the start of account `a`'s held-symbol list (what
    /// [`PositionBook::find`] scans first) into cache. Hot path: changes nothing.
    #[inline]
    pub fn prefetch_account(&self, a: usize) {
        if let (Some(n), Some(h)) = (self.used.get(a), self.held_symbol.get(a.saturating_mul(self.slots_per_account))) {
            super::memory::prefetch(n);
            super::memory::prefetch(h);
        }
    }

    /// Hints the slot [`PositionBook::open`] would give account `a`'s next
    /// position into cache for writing (out of range: ignored). Hot path:
    /// changes nothing.
    #[inline]
    pub fn prefetch_next_slot(&self, a: usize) {
        if let Some(&n) = self.used.get(a) {
            if let Some(p) = self.positions.get(a.saturating_mul(self.slots_per_account).saturating_add(n as usize)) {
                super::memory::prefetch_record_for_write(p);
            }
        }
    }

    /// Hints account `a`'s last open position and its held-symbol entry
    /// into cache: what [`PositionBook::close_slot`] moves into the slot it
    /// frees (out of range, or no open position: ignored). Hot path:
    /// changes nothing.
    #[inline]
    pub fn prefetch_last_slot(&self, a: AccountId) {
        if let Some(&n) = self.used.get(a as usize).filter(|&&n| n > 0) {
            let last = (a as usize * self.slots_per_account).saturating_add(n as usize - 1);
            if let (Some(p), Some(h)) = (self.positions.get(last), self.held_symbol.get(last)) {
                super::memory::prefetch_record(p);
                super::memory::prefetch(h);
            }
        }
    }

    /// Hints position `slot` into cache (out of range: ignored). Hot path: changes nothing.
    #[inline]
    pub fn prefetch_position(&self, slot: u32) {
        if let Some(p) = self.positions.get(slot as usize) {
            super::memory::prefetch_record(p);
        }
    }

    /// Whether [`PositionBook::open`] would succeed for account `a`.
    #[inline]
    pub fn can_open(&self, a: AccountId) -> bool {
        self.used.get(a as usize).is_some_and(|&n| (n as usize) < self.slots_per_account)
            && self.open_total < self.capacity
    }

    /// Opens an empty position of `a` in `s` (the caller checked it has none
    /// and has a free slot). `None` if the account's slots or the book's
    /// capacity are exhausted. Never allocates.
    #[inline]
    pub fn open(&mut self, a: AccountId, s: SymbolId) -> Option<u32> {
        self.open_with(a, s, Position::default())
    }

    /// [`PositionBook::open`] with the position `p` in the new slot (written
    /// once, never read). Never allocates.
    #[inline]
    pub fn open_with(&mut self, a: AccountId, s: SymbolId, p: Position) -> Option<u32> {
        let used = self.used.get_mut(a as usize)?;
        let n = *used as usize;
        if n >= self.slots_per_account || self.open_total >= self.capacity {
            return None;
        }
        *used += 1;
        self.open_total += 1;
        let slot = a as usize * self.slots_per_account + n;
        // SAFETY: `a` is in range and `n` is below the slots per account, so
        // the slot is inside the account's run, inside both tables.
        unsafe {
            *self.positions.get_unchecked_mut(slot) = p;
            *self.held_symbol.get_unchecked_mut(slot) = s;
        }
        Some(slot as u32)
    }

    /// Removes `a`'s position in `s` (the account's last position moves into
    /// its slot). Returns false if it had none. For a book without a picker
    /// (benches): the engine closes through [`super::picker::Picker::close`],
    /// which keeps the picker's first holders in step with moved slots.
    #[inline]
    pub fn close(&mut self, a: AccountId, s: SymbolId) -> bool {
        match self.find(a, s) {
            Some(slot) => {
                let _ = self.close_slot(a, slot);
                true
            }
            None => false,
        }
    }

    /// Removes the position in `slot`, which must be one of account `a`'s
    /// (from [`PositionBook::find`] or [`PositionBook::open`], with no close
    /// of `a` since): the account's last position moves into it. Returns
    /// the symbol of the position that moved and the slot it left (`None`:
    /// `slot` was the last).
    #[inline]
    pub fn close_slot(&mut self, a: AccountId, slot: u32) -> Option<(SymbolId, u32)> {
        let base = a as usize * self.slots_per_account;
        let used = &mut self.used[a as usize];
        let (slot, n) = (slot as usize, *used as usize);
        assert!(slot.wrapping_sub(base) < n, "slot {slot} is not one of account {a}'s open positions");
        *used -= 1;
        self.open_total -= 1;
        let last = base + n - 1;
        // SAFETY: `base <= slot <= last < base + used[a]`, inside the
        // account's run (see `find`).
        unsafe {
            let moved = *self.held_symbol.get_unchecked(last);
            *self.held_symbol.get_unchecked_mut(slot) = moved;
            *self.positions.get_unchecked_mut(slot) = *self.positions.get_unchecked(last);
            (slot != last).then_some((moved, last as u32))
        }
    }

    /// The position in a slot.
    #[inline]
    pub fn get(&self, slot: u32) -> &Position {
        &self.positions[slot as usize]
    }

    /// The position in a slot, mutable.
    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Position {
        &mut self.positions[slot as usize]
    }

    /// The (symbol, position) pairs account `a` holds, in slot order.
    pub fn positions_of(&self, a: AccountId) -> impl Iterator<Item = (SymbolId, &Position)> + '_ {
        let base = a as usize * self.slots_per_account;
        let n = self.used[a as usize] as usize;
        (base..base + n).map(move |i| (self.held_symbol[i], &self.positions[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetching_an_account_changes_nothing_and_ignores_ids_out_of_range() {
        let mut b = PositionBook::new(3, 4, 0);
        let slot = b.open(2, 7).unwrap();
        for a in [0, 2, 3, usize::MAX] {
            b.prefetch_account(a);
        }
        for slot in [0, slot, u32::MAX] {
            b.prefetch_position(slot);
        }
        for a in [0, 2, 3, usize::MAX] {
            b.prefetch_next_slot(a);
        }
        for a in [0, 2, 3, AccountId::MAX] {
            // account 0 has no open position, 3 and past are outside the book
            b.prefetch_last_slot(a);
        }
        assert_eq!((b.find(2, 7), b.find(0, 7), b.open_total()), (Some(slot), None, 1));
    }

    #[test]
    fn ids_outside_the_book_find_nothing_and_open_nothing() {
        let mut b = PositionBook::new(3, 2, 0);
        assert_eq!(b.open(3, 1), None, "account 3 of 3");
        assert_eq!(b.open(u32::MAX, 1), None);
        assert!(!b.can_open(3));
        assert_eq!(b.find(3, 1), None);
        let (x, y) = (b.open(2, 1).unwrap(), b.open(2, 4).unwrap());
        assert_eq!(b.open(2, 5), None, "the account's two slots are taken");
        assert_eq!((b.find(2, 1), b.find(2, 4), b.find(2, 5)), (Some(x), Some(y), None));
        assert_eq!(b.close_slot(2, x), Some((4, y)), "the last position moves into the closed slot");
        assert_eq!((b.find(2, 4), b.open_count(2), b.open_total()), (Some(x), 1, 1));
    }

    #[test]
    #[should_panic(expected = "is not one of account 1's open positions")]
    fn closing_a_slot_the_account_does_not_hold_panics() {
        let mut b = PositionBook::new(3, 2, 0);
        let slot = b.open(2, 1).unwrap();
        let _ = b.open(1, 1).unwrap();
        // account 1's run is slots 2..4 with one used: slot 3 is free, and
        // account 2's slot is not account 1's
        let _ = b.close_slot(1, slot);
    }

    #[test]
    fn the_position_a_buy_opens_is_the_fill_applied_to_an_empty_one() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let qty = (x % 1_000_000) as f64 / 997.0 + 1e-6;
            let px = (x >> 20) as f64 / 3.0e9 + 0.01;
            let mut filled = Position::default();
            filled.apply_fill(true, qty, px);
            let opened = Position::bought(qty, px);
            assert_eq!(bytemuck::bytes_of(&opened), bytemuck::bytes_of(&filled), "qty {qty} px {px}");
        }
    }

    #[test]
    fn average_price_and_realized_pnl() {
        let mut p = Position::default();
        assert_eq!(p.apply_fill(true, 1.0, 100.0), 0.0);
        p.apply_fill(true, 3.0, 104.0);
        assert_eq!(p.net_qty, 4.0);
        assert_eq!(p.avg_price, (100.0 * 1.0 + 104.0 * 3.0) / 4.0);
        let pnl = p.apply_fill(false, 4.0, 110.0);
        assert_eq!(pnl, (110.0 - 103.0) * 4.0);
        assert_eq!(p.net_qty, 0.0);
        assert_eq!(p.realized_pnl, 28.0);
    }

    #[test]
    fn open_find_close_keeps_each_position_with_its_symbol() {
        let mut b = PositionBook::new(3, 2, 0);
        let r1 = b.open(1, 10).unwrap();
        b.get_mut(r1).net_qty = 10.0;
        let r2 = b.open(1, 11).unwrap();
        b.get_mut(r2).net_qty = 11.0;
        assert_eq!(b.open(1, 12), None, "account slots exhausted");
        assert_eq!(b.open_count(1), 2);
        assert_eq!(b.find(1, 11), Some(r2));
        assert_eq!(b.find(0, 11), None);
        assert!(b.close(1, 10));
        assert!(!b.close(1, 10));
        // the account's last position moved into the freed slot, with its values
        let r = b.find(1, 11).unwrap();
        assert_eq!(b.get(r).net_qty, 11.0);
        let r3 = b.open(1, 12).unwrap();
        assert_eq!(b.get(r3), &Position::default(), "a reopened slot starts empty");
        assert_eq!(b.get(b.find(1, 11).unwrap()).net_qty, 11.0);
        assert!(b.open(2, 10).is_some());
        assert_eq!(b.open_total(), 3);
        let held: Vec<_> = b.positions_of(1).map(|(s, p)| (s, p.net_qty)).collect();
        assert_eq!(held, vec![(11, 11.0), (12, 0.0)]);
    }

    #[test]
    fn find_sees_every_slot_and_close_slot_keeps_the_rest() {
        let mut b = PositionBook::new(3, 20, 0);
        let mut held: Vec<SymbolId> = (0..20).map(|i| 100 + 7 * i).collect();
        for &s in &held {
            let r = b.open(2, s).unwrap();
            b.get_mut(r).net_qty = s as f64;
        }
        for &s in &held {
            assert_eq!(b.get(b.find(2, s).unwrap()).net_qty, s as f64, "symbol {s}");
            assert_eq!(b.find(1, s), None, "another account holds nothing");
        }
        assert_eq!(b.find(2, 101), None);
        // close from the middle, the first and the last slot, by slot
        for s in [100 + 7 * 9, 100, 100 + 7 * 19] {
            let slot = b.find(2, s).unwrap();
            b.close_slot(2, slot);
            held.retain(|&x| x != s);
            assert_eq!(b.find(2, s), None);
            for &h in &held {
                assert_eq!(b.get(b.find(2, h).unwrap()).net_qty, h as f64, "symbol {h} after closing {s}");
            }
        }
        assert_eq!(b.open_count(2), 17);
        let mut listed: Vec<_> = b.positions_of(2).map(|(s, _)| s).collect();
        listed.sort_unstable();
        assert_eq!(listed, held);
        assert_eq!(b.open_total(), 17);
        let r0 = b.open(1, 0).unwrap();
        assert_eq!((b.find(1, 0), b.find(2, 0)), (Some(r0), None), "symbol 0 is a symbol like any other");
    }

    #[test]
    fn the_books_capacity_is_reported() {
        let mut b = PositionBook::new(2, 2, 1);
        assert!(b.open(0, 1).is_some());
        assert_eq!(b.open(1, 1), None);
        assert!(b.close(0, 1));
        assert!(b.open(1, 1).is_some(), "a closed position frees capacity");
    }
}
