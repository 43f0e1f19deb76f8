//! Which accounts hold each symbol: the index behind every SELL (its
//! lowest-id holder), scale-in and the BUY fallback that skips holders.
//!
//! Two layouts, chosen at start-up by the universe's size (the picker's
//! `HOLDERS_CACHED_BYTES` and `MAX_HOLDER_RUN`):
//! - **bit rows** (a row of account bits per symbol, [`BitRows`]) while they
//!   fit the caches (W1: 500 rows of 1,000 bits, 62 KB): one bit test per
//!   query, no search; also where they do not fit but are dense (each
//!   symbol's share of the positions in the thousands: holders share cache
//!   lines, and a list insert could move thousands of ids).
//! - **holder lists** beyond that. W2's rows would be 10,000 × 100,000 bits
//!   (125 MB) holding ~100 marks each, so nearly every holder has a cache
//!   line of its own, and every mark, clear and first-holder lookup is a
//!   DRAM miss (with no holder index at all — SELL answers recorded in one
//!   run and replayed in the next — W2 routed ~30 % faster).
//!   A list keeps a symbol's holders as sorted ids in a fixed run of slots,
//!   highest first: the lowest holder (what a SELL closes) is the run's last
//!   id, read and removed there; a BUY inserts its account in order, moving
//!   the ids below it up one (few while the lists are short; the walk grows
//!   with the list, see `docs/performance-history.md`, session 21).
//!   A symbol with more holders than its run holds **spills** into a bit
//!   row (exact; without the bit layout's hints of the lowest holder's
//!   word) until its last holder leaves.
//!
//! Every query answers exactly as a bit row would. Hot-path rules: nothing
//! here allocates after [`Holders::new`]; hints never change an answer.

use super::bitrows::BitRows;
use super::memory::{prefetch, prefetch_for_write};

/// [`HolderLists::len`]: the symbol's holders are in its spill row.
const SPILLED: u32 = u32::MAX;

/// Ids per cache line.
const IDS_PER_LINE: usize = 16;

/// The accounts holding each symbol (see the module doc).
#[derive(Debug)]
pub enum Holders {
    /// A bit row per symbol.
    Bits(BitRows),
    /// A sorted list per symbol, spilling into bit rows.
    Lists(HolderLists),
}

/// Per-symbol sorted holder ids in fixed runs, with bit rows for symbols
/// that outgrow their run.
#[derive(Debug)]
pub struct HolderLists {
    /// Ids per symbol's run.
    run: usize,
    /// Holders per symbol, or [`SPILLED`].
    len: Vec<u32>,
    /// Run `s`: `ids[s * run .. s * run + len[s]]`, descending.
    ids: Vec<u32>,
    /// The rows of spilled symbols (the others' rows stay empty).
    spill: BitRows,
}

impl Holders {
    /// The index for `symbols` × `accounts`: bit rows if `lists` is false,
    /// else lists of `run` ids per symbol (rounded up to whole cache lines;
    /// at least one line) spilling into bit rows. Start-up only.
    pub fn new(symbols: usize, accounts: usize, lists: bool, run: usize) -> Self {
        if !lists {
            return Self::Bits(BitRows::new(symbols, accounts));
        }
        let run = run.max(1).next_multiple_of(IDS_PER_LINE);
        Self::Lists(HolderLists {
            run,
            len: vec![0; symbols],
            ids: vec![0; symbols * run],
            spill: BitRows::new(symbols, accounts),
        })
    }

    /// Maps every page now (start-up).
    pub fn prefault(&mut self) {
        match self {
            Self::Bits(b) => b.prefault(),
            Self::Lists(l) => {
                super::memory::prefault(&mut l.len);
                super::memory::prefault(&mut l.ids);
                l.spill.prefault();
            }
        }
    }

    /// Records that `a` holds `s` (it did not). Hot path: never allocates.
    #[inline(always)]
    pub fn add(&mut self, s: usize, a: usize) {
        match self {
            Self::Bits(b) => b.set(s, a),
            Self::Lists(l) => l.add(s, a),
        }
    }

    /// Records that `a` no longer holds `s` (it did). Returns whether `s`
    /// has no holder left. Hot path: never allocates.
    #[inline(always)]
    pub fn remove(&mut self, s: usize, a: usize) -> bool {
        match self {
            Self::Bits(b) => b.clear(s, a),
            Self::Lists(l) => l.remove(s, a),
        }
    }

    /// Whether `a` holds `s`.
    #[inline(always)]
    pub fn contains(&self, s: usize, a: usize) -> bool {
        match self {
            Self::Bits(b) => b.contains(s, a),
            Self::Lists(l) => l.contains(s, a),
        }
    }

    /// The lowest-id holder of `s` at or above `from`.
    #[inline(always)]
    pub fn first_from(&self, s: usize, from: usize) -> Option<usize> {
        match self {
            Self::Bits(b) => b.first_from(s, from, None),
            Self::Lists(l) if from == 0 => l.lowest(s),
            Self::Lists(l) => l.first_from(s, from),
        }
    }

    /// The lowest member `>= from` of row `k` of `rows` (same width) that
    /// does not hold `s`.
    #[inline(always)]
    pub fn first_not_holding(&self, rows: &BitRows, k: usize, from: usize, s: usize) -> Option<usize> {
        match self {
            Self::Bits(b) => rows.first_from(k, from, Some((b, s))),
            Self::Lists(l) => l.first_not_holding(rows, k, from, s),
        }
    }

    /// Hints what a query on `s` reads first into cache: the bit row's
    /// first words, or the list's length. Hot path: changes nothing.
    #[inline(always)]
    pub fn prefetch_symbol(&self, s: usize) {
        match self {
            Self::Bits(b) => b.prefetch_row(s),
            Self::Lists(l) => {
                if let Some(n) = l.len.get(s) {
                    prefetch(n);
                }
            }
        }
    }

    /// Hints the line holding the lowest holder of `s` (lists; its length
    /// should be cached, [`Holders::prefetch_symbol`]), or the bit row's
    /// first words. Hot path: changes nothing.
    #[inline(always)]
    pub fn prefetch_lowest(&self, s: usize) {
        match self {
            Self::Bits(b) => b.prefetch_row(s),
            Self::Lists(l) => {
                if let Some(p) = l.lowest_slot(s) {
                    prefetch(p);
                }
            }
        }
    }

    /// Hints what adding a holder `a` to `s` writes into cache, owned: the
    /// bit's word, or the list's length and the end of its run (where a
    /// low id goes, and the line before it). Hot path: changes nothing.
    #[inline(always)]
    pub fn prefetch_add(&self, s: usize, a: usize) {
        match self {
            Self::Bits(b) => b.prefetch_mark_for_write(s, a),
            Self::Lists(l) => {
                if let Some(n) = l.len.get(s) {
                    prefetch_for_write(n);
                }
                if let Some(p) = l.lowest_slot(s) {
                    prefetch_for_write(p);
                    prefetch_for_write(p.wrapping_add(1));
                    // the line before, when the lowest id sits in the first
                    // half of its line (else the same line again): the
                    // insert's walk crosses into it (W2 in-run 0.985–0.998
                    // of the time at 10 M signals, 0.991–0.992 at 30 M)
                    prefetch_for_write(p.wrapping_sub(IDS_PER_LINE / 2));
                }
            }
        }
    }

    /// Symbols now in their spill rows (tests).
    #[cfg(test)]
    pub(crate) fn spilled(&self) -> usize {
        match self {
            Self::Bits(_) => 0,
            Self::Lists(l) => l.len.iter().filter(|&&n| n == SPILLED).count(),
        }
    }
}

impl HolderLists {
    /// `s`'s run and its length (`SPILLED`: in the spill row).
    #[inline(always)]
    fn run_of(&self, s: usize) -> (&[u32], u32) {
        let n = self.len[s];
        let start = s * self.run;
        (&self.ids[start..start + self.run], n)
    }

    /// Where the lowest holder of `s` sits (`None`: no list entry).
    #[inline(always)]
    fn lowest_slot(&self, s: usize) -> Option<*const u32> {
        let n = *self.len.get(s)?;
        if n == SPILLED || n == 0 {
            return None;
        }
        Some(self.ids.as_ptr().wrapping_add(s * self.run + n as usize - 1))
    }

    /// The lowest holder of `s` (a SELL's answer, W2's most frequent
    /// query): a small function of its own, without the binary search's
    /// set-up.
    #[inline(never)]
    fn lowest(&self, s: usize) -> Option<usize> {
        let n = self.len[s];
        if n == SPILLED {
            return self.spill.first_from(s, 0, None);
        }
        let last = (n as usize).checked_sub(1)?;
        Some(self.ids[s * self.run..][last] as usize)
    }

    // The list operations stay out of line: the bit layout's callers (W1's
    // decisions) inline only the few instructions of its own case.
    #[inline(never)]
    fn add(&mut self, s: usize, a: usize) {
        let n = self.len[s];
        if n == SPILLED {
            return self.spill.set(s, a);
        }
        let n = n as usize;
        if n == self.run {
            return self.spill_symbol(s, a);
        }
        let a = a as u32;
        let start = s * self.run;
        let run = &mut self.ids[start..start + n + 1];
        // the ids below `a` sit at the end: each moves up one as the walk
        // passes it (no call to memmove for the usual few)
        let mut i = n;
        while i > 0 && run[i - 1] < a {
            run[i] = run[i - 1];
            i -= 1;
        }
        debug_assert!(i == 0 || run[i - 1] != a, "{a} already holds {s}");
        run[i] = a;
        self.len[s] = n as u32 + 1;
    }

    /// Moves `s`'s full run into its spill row, with `a`. Rare (a symbol
    /// held by more accounts than its run holds), never allocates.
    #[cold]
    #[inline(never)]
    fn spill_symbol(&mut self, s: usize, a: usize) {
        let start = s * self.run;
        for &id in &self.ids[start..start + self.run] {
            self.spill.set(s, id as usize);
        }
        self.spill.set(s, a);
        self.len[s] = SPILLED;
    }

    #[inline(never)]
    fn remove(&mut self, s: usize, a: usize) -> bool {
        let n = self.len[s];
        if n == SPILLED {
            let emptied = self.spill.clear(s, a);
            if emptied {
                // back to an (empty) list
                self.len[s] = 0;
            }
            return emptied;
        }
        let n = n as usize;
        let a = a as u32;
        let start = s * self.run;
        let run = &mut self.ids[start..start + n];
        // from the lowest up: SELLs close the lowest holder
        let mut j = n;
        while j > 0 && run[j - 1] < a {
            j -= 1;
        }
        if j == 0 || run[j - 1] != a {
            debug_assert!(false, "{a} does not hold {s}");
            return n == 0;
        }
        // the ids below `a` move down one (none for the lowest)
        if j < n {
            run.copy_within(j..n, j - 1);
        }
        self.len[s] = n as u32 - 1;
        n == 1
    }

    #[inline(never)]
    fn contains(&self, s: usize, a: usize) -> bool {
        let (run, n) = self.run_of(s);
        if n == SPILLED {
            return self.spill.contains(s, a);
        }
        let Ok(a) = u32::try_from(a) else { return false };
        run[..n as usize].binary_search_by(|x| a.cmp(x)).is_ok()
    }

    #[inline(never)]
    fn first_from(&self, s: usize, from: usize) -> Option<usize> {
        let (run, n) = self.run_of(s);
        if n == SPILLED {
            return self.spill.first_from(s, from, None);
        }
        let run = &run[..n as usize];
        // the ids >= from are a prefix (descending); the last of it
        let k = run.partition_point(|&x| x as usize >= from);
        k.checked_sub(1).map(|i| run[i] as usize)
    }

    /// Members of `rows[k]` from `from` up, and `s`'s holders from `from`
    /// up, walked together: the first member that is not a holder.
    fn first_not_holding(&self, rows: &BitRows, k: usize, from: usize, s: usize) -> Option<usize> {
        let (run, n) = self.run_of(s);
        if n == SPILLED {
            return rows.first_from(k, from, Some((&self.spill, s)));
        }
        let run = &run[..n as usize];
        // holders >= from: run[..j], the lowest at j - 1
        let mut j = run.partition_point(|&x| x as usize >= from);
        let mut at = from;
        while let Some(a) = rows.first_from(k, at, None) {
            while j > 0 && (run[j - 1] as usize) < a {
                j -= 1;
            }
            if j == 0 || run[j - 1] as usize != a {
                return Some(a);
            }
            at = a + 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hot::picker::tests::below;
    use std::collections::BTreeSet;

    /// Both layouts (lists with runs short enough to spill, and long
    /// enough not to) against a naive set through random adds and removes
    /// weighted towards the lowest holder, as W2's SELLs and BUYs are.
    #[test]
    fn every_layout_answers_as_a_naive_set() {
        let (symbols, accounts) = (7, 300);
        for (lists, run) in [(false, 0), (true, 16), (true, 32), (true, 400)] {
            let mut h = Holders::new(symbols, accounts, lists, run);
            h.prefault();
            let mut naive = vec![BTreeSet::new(); symbols];
            let mut next = below(0x401D_E125 + run as u64);
            let mut spilled = 0;
            for step in 0..60_000 {
                let s = next(symbols as u64) as usize;
                match next(10) {
                    // add: a low id most often
                    0..=4 => {
                        let a = if next(3) == 0 { next(accounts as u64) } else { next(40) } as usize;
                        if naive[s].insert(a) {
                            h.add(s, a);
                        }
                    }
                    // remove the lowest
                    5..=7 => {
                        if let Some(&a) = naive[s].first() {
                            naive[s].remove(&a);
                            assert_eq!(h.remove(s, a), naive[s].is_empty(), "step {step}");
                        }
                    }
                    // remove any
                    _ => {
                        let k = next(naive[s].len() as u64 + 1) as usize;
                        if let Some(&a) = naive[s].iter().nth(k) {
                            naive[s].remove(&a);
                            assert_eq!(h.remove(s, a), naive[s].is_empty(), "step {step}");
                        }
                    }
                }
                if let Holders::Lists(l) = &h {
                    spilled += usize::from(l.len[s] == SPILLED);
                }
                let from = next(accounts as u64 + 5) as usize;
                let expect_from = naive[s].range(from..).next().copied();
                assert_eq!(h.first_from(s, from), expect_from, "step {step} from {from}");
                assert_eq!(h.first_from(s, 0), naive[s].first().copied());
                let a = next(accounts as u64) as usize;
                assert_eq!(h.contains(s, a), naive[s].contains(&a));
                for x in [s, a, from] {
                    h.prefetch_symbol(x);
                    h.prefetch_lowest(x);
                    h.prefetch_add(x, a);
                }
            }
            if lists && run <= 32 {
                assert!(spilled > 0, "run {run}: no symbol spilled");
            }
            if lists && run == 400 {
                assert_eq!(spilled, 0);
            }
        }
    }

    #[test]
    fn the_first_member_not_holding_skips_holders_in_both_layouts() {
        let accounts = 500;
        let mut rows = BitRows::new(2, accounts);
        for a in (0..accounts).step_by(3) {
            rows.set(1, a);
        }
        for (lists, run) in [(false, 0), (true, 16), (true, 512)] {
            let mut h = Holders::new(3, accounts, lists, run);
            // symbol 2 holds every member below 300 but 150
            for a in (0..300).step_by(3).filter(|&a| a != 150) {
                h.add(2, a);
            }
            let naive = |from: usize| (from..accounts).find(|&a| a % 3 == 0 && !h.contains(2, a));
            for from in [0, 1, 149, 150, 151, 298, 299, 300, 301, 499] {
                assert_eq!(h.first_not_holding(&rows, 1, from, 2), naive(from), "lists {lists} run {run} from {from}");
            }
            assert_eq!(h.first_not_holding(&rows, 1, 0, 2), Some(150));
            assert_eq!(h.first_not_holding(&rows, 1, 151, 2), Some(300));
            assert_eq!(h.first_not_holding(&rows, 0, 0, 2), None, "an empty row");
            // a symbol with no holder: the row's first member
            assert_eq!(h.first_not_holding(&rows, 1, 4, 0), Some(6));
        }
    }

    #[test]
    fn a_spilled_symbol_returns_to_a_list_when_it_empties() {
        let mut h = Holders::new(2, 100, true, 16);
        for a in 0..20 {
            h.add(1, a);
        }
        let Holders::Lists(l) = &h else { unreachable!() };
        assert_eq!(l.len[1], SPILLED);
        assert_eq!(l.len[0], 0, "the other symbol's list is untouched");
        for a in 0..19 {
            assert!(!h.remove(1, a));
            assert_eq!(h.first_from(1, 0), Some(a + 1));
        }
        assert!(h.remove(1, 19));
        let Holders::Lists(l) = &h else { unreachable!() };
        assert_eq!(l.len[1], 0, "a list again");
        h.add(1, 7);
        h.add(1, 3);
        assert_eq!((h.first_from(1, 0), h.first_from(1, 4)), (Some(3), Some(7)));
        let Holders::Lists(l) = &h else { unreachable!() };
        assert_eq!(l.len[1], 2);
    }
}
