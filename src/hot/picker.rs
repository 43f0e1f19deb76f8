//! TradePicker: chooses the account for each signal.
//!
//! - BUY: among ACTIVE (not killed, buys not blocked) accounts that do not
//!   hold the symbol and have `openCount < maxOpenSymbols`, the least
//!   `openCount`; ties to the lowest id or round-robin. Else, with scale-in,
//!   among such accounts that hold it, the least `openCount`, same tie rule.
//! - SELL: the lowest-id holder with filled quantity and no close in flight,
//!   whatever its status.
//!
//! Indexes keep every decision independent of the number of accounts: eligible
//! accounts are bucketed by open count in bitsets, holders are bitsets per
//! symbol, and both are walked through summaries. Nothing here allocates
//! after [`Picker::new`].

use tradeengine_model::{AccountId, Route, SymbolId};

use super::bitrows::BitRows;
use super::positions::{PositionBook, QTY_EPSILON};

const NONE: u32 = u32::MAX;

/// How ties between equally loaded accounts are broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TieBreak {
    /// The lowest account id wins (deterministic, W1's rule).
    LowestId,
    /// The next account after the last one chosen wins (spreads load).
    RoundRobin,
}

/// Accounts bucketed by a small key (open count), with a mask of non-empty
/// buckets. With `members`, each bucket also knows which accounts it holds;
/// without, it only counts them (enough to know the least key in use).
#[derive(Debug)]
struct Buckets {
    members: Option<BitRows>,
    key_of: Vec<u32>,
    len: Vec<u32>,
    nonempty: BitRows,
}

impl Buckets {
    fn new(keys: usize, accounts: usize, with_members: bool) -> Self {
        Self {
            members: with_members.then(|| BitRows::new(keys, accounts)),
            key_of: vec![NONE; accounts],
            len: vec![0; keys],
            nonempty: BitRows::new(1, keys),
        }
    }

    /// Moves account `a` to bucket `key` (`NONE`: out of every bucket).
    #[inline]
    fn place(&mut self, a: usize, key: u32) {
        let old = self.key_of[a];
        if old == key {
            return;
        }
        if old != NONE {
            if let Some(m) = self.members.as_mut() {
                m.clear(old as usize, a);
            }
            self.len[old as usize] -= 1;
            if self.len[old as usize] == 0 {
                self.nonempty.clear(0, old as usize);
            }
        }
        if key != NONE {
            if let Some(m) = self.members.as_mut() {
                m.set(key as usize, a);
            }
            self.len[key as usize] += 1;
            self.nonempty.set(0, key as usize);
        }
        self.key_of[a] = key;
    }

    #[inline]
    fn first_key_from(&self, k: usize) -> Option<usize> {
        self.nonempty.first_from(0, k, None)
    }
}

/// The routing state and its indexes.
#[derive(Debug)]
pub struct Picker {
    tie_break: TieBreak,
    allow_scale_in: bool,
    /// BUY-eligible accounts with free capacity, by open count.
    open_buckets: Buckets,
    /// BUY-eligible accounts (for scale-in), counted by open count.
    scale_buckets: Buckets,
    /// Row `s`: accounts holding symbol `s` (reserved positions included).
    holders: BitRows,
    accounts: usize,
    cursor: usize,
}

impl Picker {
    /// A picker for `accounts` accounts, `symbols` symbols and open counts up
    /// to `max_slots`. Start-up only (allocates its indexes).
    pub fn new(accounts: usize, symbols: usize, max_slots: usize, tie_break: TieBreak, allow_scale_in: bool) -> Self {
        Self {
            tie_break,
            allow_scale_in,
            open_buckets: Buckets::new(max_slots + 1, accounts, true),
            scale_buckets: Buckets::new(max_slots + 1, accounts, false),
            holders: BitRows::new(symbols, accounts),
            accounts,
            cursor: usize::MAX,
        }
    }

    /// Maps every page of the indexes now (start-up).
    pub fn prefault(&mut self) {
        for b in [&mut self.open_buckets, &mut self.scale_buckets] {
            if let Some(m) = b.members.as_mut() {
                m.prefault();
            }
            b.nonempty.prefault();
            crate::hot::memory::prefault(&mut b.key_of);
            crate::hot::memory::prefault(&mut b.len);
        }
        self.holders.prefault();
    }

    /// Re-files account `a` after any change to its eligibility or open count.
    #[inline]
    pub fn refresh(&mut self, a: AccountId, buy_eligible: bool, open_count: u32, max_open: u32) {
        let i = a as usize;
        let open_key = if buy_eligible && open_count < max_open { open_count } else { NONE };
        self.open_buckets.place(i, open_key);
        let scale_key = if buy_eligible { open_count } else { NONE };
        self.scale_buckets.place(i, scale_key);
    }

    /// Records that `a` now holds `s`.
    #[inline]
    pub fn add_holder(&mut self, s: SymbolId, a: AccountId) {
        self.holders.set(s as usize, a as usize);
    }

    /// Records that `a` no longer holds `s`.
    #[inline]
    pub fn remove_holder(&mut self, s: SymbolId, a: AccountId) {
        self.holders.clear(s as usize, a as usize);
    }

    /// Does `a` hold `s` (reserved positions included)?
    #[inline]
    pub fn is_holder(&self, s: SymbolId, a: AccountId) -> bool {
        self.holders.contains(s as usize, a as usize)
    }

    /// Chooses the account for a BUY of `s`, or `None` (drop: no eligible account).
    #[inline]
    pub fn pick_buy(&mut self, s: SymbolId) -> Option<(AccountId, Route)> {
        let row = s as usize;
        let mut key = self.open_buckets.first_key_from(0);
        while let Some(k) = key {
            let hit = self.open_buckets.members.as_ref().and_then(|m| self.first_in(m, k, Some(row)));
            if let Some(a) = hit {
                self.chosen(a);
                return Some((a as AccountId, Route::Open));
            }
            key = self.open_buckets.first_key_from(k + 1);
        }
        if self.allow_scale_in {
            if let Some(a) = self.pick_scale_in(row) {
                self.chosen(a);
                return Some((a as AccountId, Route::ScaleIn));
            }
        }
        None
    }

    /// Among eligible holders of `s`: the least open count, ties by the tie rule.
    #[inline]
    fn pick_scale_in(&self, row: usize) -> Option<usize> {
        // No holder can beat the least open count of all eligible accounts,
        // so the walk stops at the first holder that has it.
        let floor = self.scale_buckets.first_key_from(0)? as u32;
        let start = self.start();
        let mut best: Option<(u32, usize)> = None;
        for (lo, hi) in [(start, self.accounts), (0, start)] {
            let mut from = lo;
            while let Some(a) = self.holders.first_from(row, from, None) {
                if a >= hi {
                    break;
                }
                let k = self.scale_buckets.key_of[a];
                if k != NONE && best.is_none_or(|(bk, _)| k < bk) {
                    if k == floor {
                        return Some(a);
                    }
                    best = Some((k, a));
                }
                from = a + 1;
            }
        }
        best.map(|(_, a)| a)
    }

    /// Chooses the account for a SELL of `s`: the lowest-id holder with a
    /// filled position and no close in flight. Returns the account and its
    /// position record, or `None` with whether any holder existed at all.
    #[inline]
    pub fn pick_sell(&self, s: SymbolId, book: &PositionBook) -> Result<(AccountId, u32), bool> {
        let row = s as usize;
        let mut from = 0;
        let mut any = false;
        while let Some(a) = self.holders.first_from(row, from, None) {
            any = true;
            if let Some(rec) = book.find(a as AccountId, s) {
                let p = book.get(rec);
                if p.net_qty > QTY_EPSILON && p.pending_sell < QTY_EPSILON {
                    return Ok((a as AccountId, rec));
                }
            }
            from = a + 1;
        }
        Err(any)
    }

    /// First account of bucket row `k` at or after the round-robin start
    /// (wrapping), skipping holders of `exclude_symbol`.
    #[inline]
    fn first_in(&self, rows: &BitRows, k: usize, exclude_symbol: Option<usize>) -> Option<usize> {
        let ex = exclude_symbol.map(|s| (&self.holders, s));
        let start = self.start();
        rows.first_from(k, start, ex).or_else(|| if start > 0 { rows.first_from(k, 0, ex) } else { None })
    }

    #[inline]
    fn start(&self) -> usize {
        match self.tie_break {
            TieBreak::LowestId => 0,
            TieBreak::RoundRobin => self.cursor.wrapping_add(1) % self.accounts.max(1),
        }
    }

    #[inline]
    fn chosen(&mut self, a: usize) {
        self.cursor = a;
    }
}
