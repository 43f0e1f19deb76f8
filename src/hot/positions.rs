//! Open positions: a preallocated pool of position records, and per account
//! the (symbol, record) pairs it holds, kept compact so that finding an
//! account's position in a symbol scans at most `maxOpenSymbols` ids.
//!
//! Hot-path rules: nothing here allocates after [`PositionBook::new`]; pool
//! memory is zero-initialised lazily by the OS, so only records ever used
//! become resident.

use bytemuck::{Pod, Zeroable};
use tradeengine_model::{AccountId, SymbolId};

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

    /// No filled quantity and nothing in flight: the record can be released.
    #[inline]
    pub fn is_flat_and_idle(&self) -> bool {
        self.net_qty == 0.0 && self.pending_buy < QTY_EPSILON && self.pending_sell < QTY_EPSILON
    }
}

/// All open positions of all accounts.
#[derive(Debug)]
pub struct PositionBook {
    slots_per_account: usize,
    /// Positions held per account (its open count, reserved ones included).
    used: Vec<u32>,
    /// `held_symbol[a * K + i]`, `i < used[a]`: symbols account `a` holds.
    held_symbol: Vec<SymbolId>,
    /// `held_record[a * K + i]`: the pool record of that position.
    held_record: Vec<u32>,
    pool: Vec<Position>,
    fresh: u32,
    free: Vec<u32>,
    open_total: u64,
}

impl PositionBook {
    /// A book for `accounts` accounts of at most `slots_per_account` positions
    /// each, with `pool_capacity` position records in all. Start-up only.
    pub fn new(accounts: usize, slots_per_account: usize, pool_capacity: usize) -> Self {
        Self {
            slots_per_account,
            used: vec![0; accounts],
            held_symbol: vec![0; accounts * slots_per_account],
            held_record: vec![0; accounts * slots_per_account],
            pool: bytemuck::zeroed_vec(pool_capacity),
            fresh: 0,
            free: Vec::with_capacity(pool_capacity),
            open_total: 0,
        }
    }

    /// Maps every page now (start-up), so no page fault hits the hot loop.
    pub fn prefault(&mut self) {
        use super::memory::{prefault, prefault_spare};
        prefault(&mut self.used);
        prefault(&mut self.held_symbol);
        prefault(&mut self.held_record);
        prefault(&mut self.pool);
        prefault_spare(&mut self.free);
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

    /// The pool record of account `a`'s position in `s`, if it has one.
    #[inline]
    pub fn find(&self, a: AccountId, s: SymbolId) -> Option<u32> {
        let base = a as usize * self.slots_per_account;
        let n = self.used[a as usize] as usize;
        let syms = &self.held_symbol[base..base + n];
        syms.iter().position(|&x| x == s).map(|i| self.held_record[base + i])
    }

    /// Opens an empty position of `a` in `s` (the caller checked it has none
    /// and has a free slot). `None` if the account's slots or the pool are
    /// exhausted. Never allocates.
    #[inline]
    pub fn open(&mut self, a: AccountId, s: SymbolId) -> Option<u32> {
        let n = self.used[a as usize] as usize;
        if n >= self.slots_per_account {
            return None;
        }
        let rec = if let Some(r) = self.free.pop() {
            r
        } else if (self.fresh as usize) < self.pool.len() {
            self.fresh += 1;
            self.fresh - 1
        } else {
            return None;
        };
        self.pool[rec as usize] = Position::default();
        let base = a as usize * self.slots_per_account;
        self.held_symbol[base + n] = s;
        self.held_record[base + n] = rec;
        self.used[a as usize] += 1;
        self.open_total += 1;
        Some(rec)
    }

    /// Removes `a`'s position in `s` and frees its record. Returns false if it had none.
    #[inline]
    pub fn close(&mut self, a: AccountId, s: SymbolId) -> bool {
        let base = a as usize * self.slots_per_account;
        let n = self.used[a as usize] as usize;
        let Some(i) = self.held_symbol[base..base + n].iter().position(|&x| x == s) else {
            return false;
        };
        let rec = self.held_record[base + i];
        // swap-remove keeps the account's list compact
        self.held_symbol[base + i] = self.held_symbol[base + n - 1];
        self.held_record[base + i] = self.held_record[base + n - 1];
        self.used[a as usize] -= 1;
        self.open_total -= 1;
        // `free` was preallocated with the pool's capacity: this push never allocates.
        debug_assert!(self.free.len() < self.free.capacity());
        self.free.push(rec);
        true
    }

    /// A position record.
    #[inline]
    pub fn get(&self, rec: u32) -> &Position {
        &self.pool[rec as usize]
    }

    /// A position record, mutable.
    #[inline]
    pub fn get_mut(&mut self, rec: u32) -> &mut Position {
        &mut self.pool[rec as usize]
    }

    /// The (symbol, position) pairs account `a` holds, in slot order.
    pub fn positions_of(&self, a: AccountId) -> impl Iterator<Item = (SymbolId, &Position)> + '_ {
        let base = a as usize * self.slots_per_account;
        let n = self.used[a as usize] as usize;
        (base..base + n).map(move |i| (self.held_symbol[i], &self.pool[self.held_record[i] as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn open_find_close_reuses_records() {
        let mut b = PositionBook::new(3, 2, 4);
        let r1 = b.open(1, 10).unwrap();
        let r2 = b.open(1, 11).unwrap();
        assert_eq!(b.open(1, 12), None, "account slots exhausted");
        assert_eq!(b.open_count(1), 2);
        assert_eq!(b.find(1, 11), Some(r2));
        assert_eq!(b.find(0, 11), None);
        assert!(b.close(1, 10));
        assert!(!b.close(1, 10));
        assert_eq!(b.find(1, 11), Some(r2));
        assert_eq!(b.open(2, 10), Some(r1), "freed record is reused");
        assert_eq!(b.open_total(), 2);
        let held: Vec<_> = b.positions_of(1).map(|(s, _)| s).collect();
        assert_eq!(held, vec![11]);
    }

    #[test]
    fn pool_exhaustion_is_reported() {
        let mut b = PositionBook::new(2, 2, 1);
        assert!(b.open(0, 1).is_some());
        assert_eq!(b.open(1, 1), None);
    }
}
