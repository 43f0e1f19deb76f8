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

use super::bitrows::{first_set_bit, BitRows};
use super::holders::Holders;
use super::positions::PositionBook;

const NONE: u32 = u32::MAX;

/// How ties between equally loaded accounts are broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TieBreak {
    /// The lowest account id wins (deterministic, W1's rule).
    LowestId,
    /// The next account after the last one chosen wins (spreads load).
    RoundRobin,
}

/// BUY candidates the picker checks one by one before it falls back to
/// walking the whole bucket row against the symbol's holders
/// ([`Holders::first_not_holding`]).
const CANDIDATES_CHECKED: usize = 4;

/// Holder bit rows above this size are not cache-resident: the holders are
/// then kept in lists ([`Holders`], unless the rows are dense, see
/// [`MAX_HOLDER_RUN`]), and a BUY candidate is looked up in its own held
/// list (a few lines, hot for the accounts the picker keeps choosing)
/// instead of the symbol's.
const HOLDERS_CACHED_BYTES: usize = 1 << 20;

/// Longest holder list run: beyond it a symbol's share of the positions is
/// so large that its bit row is dense (many holders per cache line), while
/// an insert into its list could move thousands of ids (a BUY whose
/// account is not among the lowest, as under round-robin). Such universes
/// keep bit rows.
const MAX_HOLDER_RUN: usize = 2048;

/// Ids per symbol in a holder list: twice the symbol's share of every
/// position the accounts can open (a symbol held by more spills into a bit
/// row), at least one cache line.
fn holder_run(accounts: usize, symbols: usize, max_slots: usize) -> usize {
    (2 * accounts * max_slots).div_ceil(symbols.max(1)).clamp(16, accounts.max(16))
}

/// The steps of the look-ahead for a SELL, from the earliest: the line of
/// the symbol's holder index that names its lowest-id holder (the account
/// a SELL closes first), then that account's book entries, then its
/// position and the account's last position (which the close moves into
/// its slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SellLookAhead {
    LowestHolder,
    HolderBook,
    Position,
}

/// What the SELL look-ahead's steps found for one signal
/// ([`Picker::prefetch_sell`]); `NONE` (`u32::MAX`) where nothing yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SellFound {
    /// The lowest-id holder and its position's slot (`Position`).
    account: u32,
    slot: u32,
}

impl Default for SellFound {
    fn default() -> Self {
        Self { account: NONE, slot: NONE }
    }
}

/// Accounts bucketed by a small key (open count), with a mask of non-empty
/// buckets. With `MEMBERS`, each bucket knows which accounts it holds (a
/// bitset row per key, whose emptiness is the bucket's); without, it only
/// counts them (enough to know the least key in use). Which bucket each
/// account is in is kept by the caller ([`BucketKeys`]).
#[derive(Debug)]
struct Buckets<const MEMBERS: bool> {
    /// Row `k`: the accounts in bucket `k` (no rows without `MEMBERS`).
    members: BitRows,
    /// Accounts per bucket (empty with `MEMBERS`: the rows say it).
    len: Vec<u32>,
    /// Bit `k % 64` of word `k / 64`: bucket `k` has members (keys are open
    /// counts: one or two words).
    nonempty: Vec<u64>,
}

impl<const MEMBERS: bool> Buckets<MEMBERS> {
    fn new(keys: usize, accounts: usize) -> Self {
        Self {
            members: if MEMBERS { BitRows::new(keys, accounts) } else { BitRows::new(0, 0) },
            len: if MEMBERS { Vec::new() } else { vec![0; keys] },
            nonempty: vec![0; keys.div_ceil(64)],
        }
    }

    /// Moves account `a` from bucket `old` to bucket `key` (`NONE`: out of
    /// every bucket; the two differ).
    #[inline(always)]
    fn shift(&mut self, a: usize, old: u32, key: u32) {
        debug_assert_ne!(old, key);
        // SAFETY (the `nonempty` words): `k / 64` is in range for every key
        // `k` below the bucket count, which the checked access to bucket
        // `k`'s row or count just before it proves.
        if old != NONE {
            let emptied = if MEMBERS {
                self.members.clear(old as usize, a)
            } else {
                let len = &mut self.len[old as usize];
                *len -= 1;
                *len == 0
            };
            if emptied {
                unsafe { *self.nonempty.get_unchecked_mut(old as usize / 64) &= !(1u64 << (old % 64)) };
            }
        }
        if key != NONE {
            if MEMBERS {
                self.members.set(key as usize, a);
            } else {
                self.len[key as usize] += 1;
            }
            unsafe { *self.nonempty.get_unchecked_mut(key as usize / 64) |= 1u64 << (key % 64) };
        }
    }

    /// Maps every page now (start-up).
    fn prefault(&mut self) {
        self.members.prefault();
        crate::hot::memory::prefault(&mut self.nonempty);
        crate::hot::memory::prefault(&mut self.len);
    }

    #[inline]
    fn first_key_from(&self, k: usize) -> Option<usize> {
        first_set_bit(&self.nonempty, k)
    }
}

/// One account's buckets: its key in the open buckets and in the scale-in
/// buckets (`NONE`: not in them). Both in one array, so that an account's
/// re-filing reads one entry (on W2, one cache line instead of two misses).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
struct BucketKeys {
    open: u32,
    scale: u32,
}

/// The lowest-id holder of one symbol and the slot of its position, kept
/// so that a SELL reads its answer instead of walking to it
/// ([`Picker::pick_sell`]). `account` [`UNKNOWN`]: not known (the next walk
/// of the row finds it); [`NO_HOLDER`]: the row is empty. Every close
/// goes through [`Picker::close`], which follows the slot when the close
/// of another of the account's positions moves it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
struct FirstHolder {
    account: u32,
    slot: u32,
}

/// [`FirstHolder::account`]: not known.
const UNKNOWN: u32 = NONE;
/// [`FirstHolder::account`]: the symbol has no holder.
const NO_HOLDER: u32 = NONE - 1;
/// [`Picker::buy_candidate`]: no account is eligible for a new position.
const NO_CANDIDATE: u32 = NONE - 1;

/// Most symbols [`Picker::close`] leaves for idle turns to find the first
/// holder of (more: found by their next SELL).
const TO_FIND: usize = 64;

/// A bounded stack of symbols whose first holder is to be found.
#[derive(Debug)]
struct ToFind {
    symbols: [SymbolId; TO_FIND],
    len: usize,
}

impl ToFind {
    /// Adds `s`; when full, drops it (its next SELL finds the holder).
    #[inline(always)]
    fn push(&mut self, s: SymbolId) {
        if let Some(slot) = self.symbols.get_mut(self.len) {
            *slot = s;
            self.len += 1;
        }
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<SymbolId> {
        self.len = self.len.checked_sub(1)?;
        Some(self.symbols[self.len])
    }
}

/// The routing state and its indexes.
#[derive(Debug)]
pub struct Picker {
    tie_break: TieBreak,
    allow_scale_in: bool,
    /// BUY-eligible accounts with free capacity, by open count.
    open_buckets: Buckets<true>,
    /// BUY-eligible accounts (for scale-in), counted by open count.
    scale_buckets: Buckets<false>,
    /// Each account's keys in the two bucket sets.
    keys: Vec<BucketKeys>,
    /// The accounts holding each symbol (reserved positions included):
    /// bit rows, or holder lists where the tables exceed the caches and
    /// the rows are sparse.
    holders: Holders,
    /// Per symbol, its lowest-id holder (see [`FirstHolder`]), kept at every
    /// holder change; empty (not kept) where the tables exceed the caches:
    /// finding the next holder after a close would be a miss every time,
    /// for a SELL that the look-ahead serves anyway.
    first_holder: Vec<FirstHolder>,
    /// Symbols whose first holder a close left unknown, to find in idle turns.
    to_find: ToFind,
    /// The first account the next BUY considers ([`Picker::first_candidate`]),
    /// found by a BUY or an idle turn; under the lowest-id rule kept through
    /// every bucket move ([`Picker::candidate_after_move`]), under
    /// round-robin [`UNKNOWN`] after any move or change of the rule's
    /// start. [`NO_CANDIDATE`]: no eligible account.
    buy_candidate: u32,
    /// Whether BUY candidates are checked in the book, not the holder index
    /// (see [`HOLDERS_CACHED_BYTES`]); the holder index is then in lists
    /// unless its rows are dense ([`MAX_HOLDER_RUN`]).
    candidates_in_book: bool,
    accounts: usize,
    cursor: usize,
    /// Whether [`Picker::buy_candidate`] is kept through bucket moves: under
    /// the lowest-id rule (round-robin's start moves with every pick) where
    /// the tables exceed the caches, so that the BUY look-ahead
    /// ([`Picker::likely_buy`]) starts from it instead of walking the
    /// buckets for every BUY (on cached tables the upkeep costs more than
    /// the walks it saves, and idle turns find the candidate for paced
    /// signals).
    keep_candidate: bool,
}

impl Picker {
    /// A picker for `accounts` accounts, `symbols` symbols and open counts up
    /// to `max_slots`. Start-up only (allocates its indexes).
    pub fn new(accounts: usize, symbols: usize, max_slots: usize, tie_break: TieBreak, allow_scale_in: bool) -> Self {
        let large = symbols * accounts.div_ceil(64) * 8 > HOLDERS_CACHED_BYTES;
        Self::with_layout(accounts, symbols, max_slots, tie_break, allow_scale_in, large)
    }

    /// [`Picker::new`] with the layout for large tables (candidates checked
    /// in the book, the candidate kept, holder lists unless the rows are
    /// dense) or for cached ones chosen by the caller, whatever the size.
    /// Start-up only.
    pub fn with_layout(
        accounts: usize,
        symbols: usize,
        max_slots: usize,
        tie_break: TieBreak,
        allow_scale_in: bool,
        large: bool,
    ) -> Self {
        let run = holder_run(accounts, symbols, max_slots);
        let lists = large && run <= MAX_HOLDER_RUN;
        Self {
            tie_break,
            allow_scale_in,
            open_buckets: Buckets::new(max_slots + 1, accounts),
            scale_buckets: Buckets::new(max_slots + 1, accounts),
            keys: vec![BucketKeys { open: NONE, scale: NONE }; accounts],
            holders: Holders::new(symbols, accounts, lists, run),
            first_holder: if large {
                Vec::new()
            } else {
                vec![FirstHolder { account: NO_HOLDER, slot: NONE }; symbols]
            },
            to_find: ToFind { symbols: [0; TO_FIND], len: 0 },
            buy_candidate: UNKNOWN,
            candidates_in_book: large,
            accounts,
            cursor: usize::MAX,
            keep_candidate: large && tie_break == TieBreak::LowestId,
        }
    }

    /// Maps every page of the indexes now (start-up).
    pub fn prefault(&mut self) {
        self.open_buckets.prefault();
        self.scale_buckets.prefault();
        crate::hot::memory::prefault(&mut self.keys);
        crate::hot::memory::prefault(&mut self.first_holder);
        self.holders.prefault();
    }

    /// Re-files account `a` after any change to its eligibility or open count.
    #[inline]
    pub fn refresh(&mut self, a: AccountId, buy_eligible: bool, open_count: u32, max_open: u32) {
        let i = a as usize;
        let open_key = if buy_eligible && open_count < max_open { open_count } else { NONE };
        let scale_key = if buy_eligible { open_count } else { NONE };
        let old = std::mem::replace(&mut self.keys[i], BucketKeys { open: open_key, scale: scale_key });
        self.shift(i, old, open_key, scale_key);
    }

    /// [`Picker::refresh`] after a change to `a`'s open count alone (a
    /// position opened or closed; its eligibility is as at its last
    /// re-filing, which its scale-in key records: an eligible account is in
    /// a scale-in bucket, the one of its open count). Hot path: reads the
    /// account's keys only, never allocates.
    #[inline]
    pub fn recount(&mut self, a: AccountId, open_count: u32, max_open: u32) {
        let i = a as usize;
        let keys = &mut self.keys[i];
        if keys.scale == NONE {
            // not eligible: in no bucket, and it stays out
            return;
        }
        let open_key = if open_count < max_open { open_count } else { NONE };
        let old = std::mem::replace(keys, BucketKeys { open: open_key, scale: open_count });
        self.shift(i, old, open_key, open_count);
    }

    /// Moves account `i` from its `old` buckets to those of the new keys.
    #[inline(always)]
    fn shift(&mut self, i: usize, old: BucketKeys, open_key: u32, scale_key: u32) {
        if old.open != open_key {
            self.open_buckets.shift(i, old.open, open_key);
            self.buy_candidate =
                if self.keep_candidate { self.candidate_after_move(i, old.open, open_key) } else { UNKNOWN };
        }
        if old.scale != scale_key {
            self.scale_buckets.shift(i, old.scale, scale_key);
        }
    }

    /// Records that `a` now holds `s`, its position in book slot `slot`.
    #[inline(always)]
    pub fn add_holder(&mut self, s: SymbolId, a: AccountId, slot: u32) {
        self.holders.add(s as usize, a as usize);
        self.note_holder(s, a, slot);
    }

    /// Keeps `s`'s first holder when `a` (position in `slot`) joins its holders.
    #[inline(always)]
    fn note_holder(&mut self, s: SymbolId, a: AccountId, slot: u32) {
        if let Some(f) = self.first_holder.get_mut(s as usize) {
            // UNKNOWN is the largest value: it stays unknown
            if f.account == NO_HOLDER || (a < f.account && f.account != UNKNOWN) {
                *f = FirstHolder { account: a, slot };
            }
        }
    }

    /// Closes `a`'s position in `s` (in book slot `slot`) and records that
    /// `a` no longer holds `s`. If `a` was `s`'s first holder, the next one
    /// is left to find ([`Picker::idle_step`], in an idle turn,
    /// or the next SELL of `s`); the first holder whose slot the close
    /// moved follows it.
    #[inline(always)]
    pub fn close(&mut self, s: SymbolId, a: AccountId, slot: u32, book: &mut PositionBook) {
        let moved = book.close_slot(a, slot);
        self.closed(s, a, slot, moved);
    }

    /// [`Picker::close`] after the book's part: `moved` is what
    /// [`PositionBook::close_slot`] of `slot` returned.
    #[inline(always)]
    pub fn closed(&mut self, s: SymbolId, a: AccountId, slot: u32, moved: Option<(SymbolId, u32)>) {
        let emptied = self.holders.remove(s as usize, a as usize);
        if self.first_holder.is_empty() {
            return;
        }
        if let Some((moved, from)) = moved {
            if let Some(f) = self.first_holder.get_mut(moved as usize) {
                if *f == (FirstHolder { account: a, slot: from }) {
                    f.slot = slot;
                }
            }
        }
        if let Some(f) = self.first_holder.get_mut(s as usize) {
            if f.account == a {
                f.account = if emptied { NO_HOLDER } else { UNKNOWN };
                if !emptied {
                    self.to_find.push(s);
                }
            }
        }
    }

    /// One bounded step of upkeep for the hot loop's idle turns, if one is
    /// due; returns whether there was one: finding a first holder that a
    /// close left unknown ([`Picker::close`]: one row walk, one held-symbol
    /// scan), else the first account the next BUY considers (a few words of
    /// the bucket rows). Undone, each is done by the next decision that
    /// needs it, as part of it. Changes no decision. Hot path: never
    /// allocates.
    #[inline]
    pub fn idle_step(&mut self, book: &PositionBook) -> bool {
        if let Some(s) = self.to_find.pop() {
            if self.first_holder.get(s as usize).is_some_and(|f| f.account == UNKNOWN) {
                self.find_first_holder(s, book);
            }
            return true;
        }
        if self.buy_candidate == UNKNOWN {
            self.buy_candidate = self.first_candidate();
            return true;
        }
        false
    }

    /// The first holder of `s` and its position's slot, when kept and known
    /// (what the next SELL of `s` closes if the position can be sold).
    /// Hot path: reads one entry, changes nothing.
    #[inline]
    pub fn known_first_holder(&self, s: SymbolId) -> Option<(AccountId, u32)> {
        let f = self.first_holder.get(s as usize)?;
        (f.account != UNKNOWN && f.account != NO_HOLDER).then_some((f.account, f.slot))
    }

    /// Walks row `s` (settled first) for its lowest-id holder and keeps it
    /// (with its slot) as the first holder, if first holders are kept.
    #[inline(always)]
    fn find_first_holder(&mut self, s: SymbolId, book: &PositionBook) {
        let found = match self.holders.first_from(s as usize, 0) {
            None => FirstHolder { account: NO_HOLDER, slot: NONE },
            Some(a) => match book.find(a as AccountId, s) {
                Some(slot) => FirstHolder { account: a as u32, slot },
                // a holder with no position cannot happen; leave it to the walk
                None => FirstHolder { account: UNKNOWN, slot: NONE },
            },
        };
        if let Some(f) = self.first_holder.get_mut(s as usize) {
            *f = found;
        }
    }

    /// Does `a` hold `s` (reserved positions included)?
    #[inline]
    pub fn is_holder(&self, s: SymbolId, a: AccountId) -> bool {
        self.holders.contains(s as usize, a as usize)
    }

    /// Chooses the account for a BUY of `s`, or `None` (drop: no eligible
    /// account). `book` holds every candidate's own positions.
    #[inline]
    pub fn pick_buy(&mut self, s: SymbolId, book: &PositionBook) -> Option<(AccountId, Route)> {
        let mut c = self.buy_candidate;
        if c == UNKNOWN && self.keep_candidate {
            c = self.find_candidate();
        }
        if c < NO_CANDIDATE {
            // The first account to consider is known (kept through the
            // moves since it was found): if it does not hold `s`, it is the
            // pick, with no walk.
            if !self.holds_candidate(s, c as usize, book) {
                self.chosen(c as usize);
                return Some((c, Route::Open));
            }
        }
        // the least-loaded bucket here; the others and scale-in out of line
        if let Some(k) = self.open_buckets.first_key_from(0) {
            if let Some(a) = self.first_non_holder(k, s, book) {
                self.chosen(a);
                return Some((a as AccountId, Route::Open));
            }
        }
        self.pick_buy_past_least(s, book)
    }

    /// [`Picker::pick_buy`] when no member of the least-loaded open bucket
    /// can take the BUY: the other buckets, in load order, then scale-in.
    #[inline(never)]
    fn pick_buy_past_least(&mut self, s: SymbolId, book: &PositionBook) -> Option<(AccountId, Route)> {
        let row = s as usize;
        let mut key = self.open_buckets.first_key_from(0).and_then(|k| self.open_buckets.first_key_from(k + 1));
        while let Some(k) = key {
            if let Some(a) = self.first_non_holder(k, s, book) {
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
            while let Some(a) = self.holders.first_from(row, from) {
                if a >= hi {
                    break;
                }
                let k = self.keys[a].scale;
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

    /// Hints the holder index of `s` into cache ahead of a decision on `s`
    /// (see [`Holders::prefetch_symbol`]). Hot path: changes nothing.
    #[inline]
    pub fn prefetch_symbol(&self, s: SymbolId) {
        self.holders.prefetch_symbol(s as usize);
    }

    /// Whether the holder table is larger than the caches (see
    /// `HOLDERS_CACHED_BYTES`, 1 MiB): then lookups into it and the book are
    /// misses worth hinting ahead ([`Picker::prefetch_sell`]).
    #[inline]
    pub fn tables_exceed_cache(&self) -> bool {
        self.candidates_in_book
    }

    /// One step of the look-ahead for a SELL of `s` (see [`SellLookAhead`]):
    /// each step reads only what the step before brought into cache, and
    /// what it found (`found`, the same record from step to step: a fresh
    /// [`SellFound::default`] for the first). Worth it only where
    /// [`Picker::tables_exceed_cache`]. Returns the account whose entries
    /// the `HolderBook` step hinted (its caller hints that account's own
    /// row). The `Position` step's finding, with the row as it is then, is
    /// the decision's answer if no holder of `s` changes before it
    /// ([`Picker::pick_sell_found`]). Hot path: changes nothing but `found`.
    #[inline]
    pub fn prefetch_sell(
        &self,
        s: SymbolId,
        step: SellLookAhead,
        book: &PositionBook,
        found: &mut SellFound,
    ) -> Option<usize> {
        let row = s as usize;
        match step {
            SellLookAhead::LowestHolder => {
                self.holders.prefetch_lowest(row);
                None
            }
            SellLookAhead::HolderBook => {
                let a = self.holders.first_from(row, 0)?;
                book.prefetch_account(a);
                if let Some(k) = self.keys.get(a) {
                    super::memory::prefetch(k);
                }
                Some(a)
            }
            SellLookAhead::Position => {
                // with the row as it is now: a decision may use it
                let a = self.holders.first_from(row, 0)?;
                let slot = book.find(a as AccountId, s)?;
                book.prefetch_position(slot);
                // the close that the SELL most likely makes moves the
                // account's last position into this slot
                book.prefetch_last_slot(a as AccountId);
                *found = SellFound { account: a as u32, slot };
                None
            }
        }
    }

    /// The account a BUY would most likely go to after `skip` more BUYs:
    /// the `skip`-th member of the open buckets, least loaded first, each
    /// from the tie rule's start. A guess for look-ahead hints
    /// ([`Picker::prefetch_buy`]), never a decision: it ignores holdings,
    /// round-robin wrap-around, and that the accounts the BUYs before take
    /// move to the next bucket. Hot path: changes nothing.
    #[inline]
    pub fn likely_buy(&self, skip: usize) -> Option<usize> {
        let rows = &self.open_buckets.members;
        let mut skip = skip;
        let c = self.buy_candidate;
        let (mut key, mut from) = if c < NO_CANDIDATE && self.tie_break == TieBreak::LowestId {
            // the walk's first step, known: the least-loaded bucket's first member
            if skip == 0 {
                return Some(c as usize);
            }
            skip -= 1;
            (Some(self.keys[c as usize].open as usize), c as usize + 1)
        } else {
            (self.open_buckets.first_key_from(0), self.start())
        };
        while let Some(k) = key {
            while let Some(a) = rows.first_from(k, from, None) {
                if skip == 0 {
                    return Some(a);
                }
                skip -= 1;
                from = a + 1;
            }
            key = self.open_buckets.first_key_from(k + 1);
            from = self.start();
        }
        None
    }

    /// Hints what a BUY of `s` routed to account `a` writes in the picker's
    /// indexes (its holder entry, [`Holders::prefetch_add`], and its bucket
    /// keys) into cache. Hot path: changes nothing.
    #[inline]
    pub fn prefetch_buy(&self, s: SymbolId, a: usize) {
        self.holders.prefetch_add(s as usize, a);
        if let Some(k) = self.keys.get(a) {
            super::memory::prefetch_for_write(k);
        }
    }

    /// Chooses the account for a SELL of `s`: the lowest-id holder with a
    /// filled position and no close in flight. Returns the account and its
    /// position record, or `None` with whether any holder existed at all.
    #[inline]
    pub fn pick_sell(&mut self, s: SymbolId, book: &PositionBook) -> Result<(AccountId, u32), bool> {
        self.pick_sell_found(s, book, None)
    }

    /// [`Picker::pick_sell`], given what the look-ahead's `Position` step
    /// found for this SELL ([`Picker::prefetch_sell`]), which the caller
    /// vouches for: no holder of `s` has changed since that step. Then its
    /// account is still `s`'s lowest-id holder, and if the slot still holds
    /// `s` (another close of the account may have moved it) and the
    /// position can be sold, that is the answer, with no walk; else the
    /// walk decides. Same answer as [`Picker::pick_sell`].
    #[inline]
    pub fn pick_sell_found(
        &mut self,
        s: SymbolId,
        book: &PositionBook,
        found: Option<&SellFound>,
    ) -> Result<(AccountId, u32), bool> {
        if let Some(f) = found {
            let (a, slot) = (f.account, f.slot);
            if a != NONE && book.holds_at(a, slot, s) && book.get(slot).sellable() {
                return Ok((a, slot));
            }
        }
        let row = s as usize;
        let mut from = 0;
        let mut any = false;
        if let Some(&known) = self.first_holder.get(row) {
            let mut f = known;
            let walked = f.account == UNKNOWN;
            if walked {
                self.find_first_holder(s, book);
                f = self.first_holder[row];
            }
            if f.account == NO_HOLDER {
                return Err(false);
            }
            if f.account != UNKNOWN {
                // The lowest holder is known, and its slot (closes keep it): no walk.
                let a = f.account as AccountId;
                debug_assert!(book.holds_at(a, f.slot, s), "first holder {a} of {s} is not in slot {}", f.slot);
                let p = book.get(f.slot);
                if p.sellable() {
                    if !walked {
                        // what the close will read (a walk brings it in)
                        book.prefetch_close(a, f.slot);
                    }
                    return Ok((a, f.slot));
                }
                any = true;
                from = a as usize + 1;
            }
        }
        while let Some(a) = self.holders.first_from(row, from) {
            any = true;
            if let Some(rec) = book.find(a as AccountId, s) {
                let p = book.get(rec);
                if p.sellable() {
                    return Ok((a as AccountId, rec));
                }
            }
            from = a + 1;
        }
        Err(any)
    }

    /// First member of open bucket `k`, from the tie rule's start (wrapping),
    /// that does not hold `s`. The first few candidates are checked one by
    /// one (in the book when the holder table is large); past them the
    /// bucket row is walked against the symbol's holders.
    #[inline]
    fn first_non_holder(&self, k: usize, s: SymbolId, book: &PositionBook) -> Option<usize> {
        let start = self.start();
        self.first_non_holder_in(k, s, book, start, self.accounts).or_else(|| {
            if start > 0 {
                self.first_non_holder_in(k, s, book, 0, start)
            } else {
                None
            }
        })
    }

    /// [`Picker::first_non_holder`] among the members `lo..hi` of bucket `k`.
    /// The first member is checked here; the rest, needed only when it
    /// holds `s`, out of line ([`Picker::first_non_holder_after`]), so the
    /// common case carries none of the loop's set-up.
    #[inline(always)]
    fn first_non_holder_in(&self, k: usize, s: SymbolId, book: &PositionBook, lo: usize, hi: usize) -> Option<usize> {
        let a = self.open_buckets.members.first_from(k, lo, None).filter(|&a| a < hi)?;
        if !self.holds_candidate(s, a, book) {
            return Some(a);
        }
        self.first_non_holder_after(k, s, book, a + 1, hi)
    }

    /// [`Picker::first_non_holder_in`] past its first member, which holds
    /// `s`: a few more candidates one by one, then the bucket row walked
    /// against the symbol's holders.
    #[inline(never)]
    fn first_non_holder_after(
        &self,
        k: usize,
        s: SymbolId,
        book: &PositionBook,
        lo: usize,
        hi: usize,
    ) -> Option<usize> {
        let rows = &self.open_buckets.members;
        let mut from = lo;
        for _ in 1..CANDIDATES_CHECKED {
            let a = rows.first_from(k, from, None).filter(|&a| a < hi)?;
            if !self.holds_candidate(s, a, book) {
                return Some(a);
            }
            from = a + 1;
        }
        self.holders.first_not_holding(rows, k, from, s as usize).filter(|&a| a < hi)
    }

    /// Does BUY candidate `a` hold `s`? Checked in its own held symbols when
    /// the holder table is large (see [`HOLDERS_CACHED_BYTES`]), else by its
    /// holder bit (the bit layout's [`Holders::contains`]).
    #[inline(always)]
    fn holds_candidate(&self, s: SymbolId, a: usize, book: &PositionBook) -> bool {
        if self.candidates_in_book {
            book.find(a as AccountId, s).is_some()
        } else {
            self.is_holder(s, a as AccountId)
        }
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
        if self.tie_break == TieBreak::RoundRobin {
            // the tie rule's start moved
            self.buy_candidate = UNKNOWN;
        }
    }

    /// The first BUY candidate after account `i` moved from open bucket
    /// `old` to `key` (`NONE`: none), from the one before the move. Under
    /// the lowest-id rule the candidate is the lowest-id member of the
    /// least-loaded bucket, so the move alone decides it, except when the
    /// candidate itself moved up or out: then it is the next member of its
    /// bucket, or the first of the next bucket in use (a walk). Unknown
    /// stays unknown. Only for a picker that keeps the candidate.
    #[inline(never)]
    fn candidate_after_move(&self, i: usize, old: u32, key: u32) -> u32 {
        let c = self.buy_candidate;
        if c == UNKNOWN {
            return UNKNOWN;
        }
        let i = i as u32;
        if c == NO_CANDIDATE {
            // no account was in any open bucket: the one that joined is alone
            return if key != NONE { i } else { NO_CANDIDATE };
        }
        if i == c {
            if key < old {
                // down into an empty bucket below the least-loaded one
                return c;
            }
            return self.next_candidate(old as usize, c as usize);
        }
        let kc = self.keys[c as usize].open;
        if key < kc || (key == kc && i < c) {
            i
        } else {
            c
        }
    }

    /// Finds the BUY candidate for a picker that keeps it (found once, it
    /// is kept from then on: no idle turn needed) and returns it.
    #[inline(never)]
    fn find_candidate(&mut self) -> u32 {
        self.buy_candidate = self.first_candidate();
        self.buy_candidate
    }

    /// The first candidate once candidate `c`, the lowest-id member of
    /// bucket `k` (the least-loaded), has left it: the next member of `k`,
    /// else the first member of the least-loaded bucket now in use.
    #[inline(never)]
    fn next_candidate(&self, k: usize, c: usize) -> u32 {
        match self.open_buckets.members.first_from(k, c + 1, None) {
            Some(a) => a as u32,
            None => self.first_candidate(),
        }
    }

    /// The first account a BUY considers: the first member, from the tie
    /// rule's start (wrapping), of the least-loaded open bucket.
    #[inline]
    fn first_candidate(&self) -> u32 {
        let Some(k) = self.open_buckets.first_key_from(0) else { return NO_CANDIDATE };
        let rows = &self.open_buckets.members;
        match rows.first_from(k, self.start(), None).or_else(|| rows.first_from(k, 0, None)) {
            Some(a) => a as u32,
            None => NO_CANDIDATE,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::hot::positions::QTY_EPSILON;

    /// A xorshift stream from `seed`: each call draws a number below `k`.
    pub(crate) fn below(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut rng = seed;
        move |k| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % k
        }
    }

    /// `n` eligible accounts with one free slot each; `holding` of them hold
    /// symbol 7. `in_book`: candidates checked in the book (as for a large
    /// holder table), else by holder bit.
    fn setup(n: usize, holding: &[usize], tie: TieBreak, in_book: bool) -> (Picker, PositionBook) {
        let mut p = Picker::with_layout(n, 10, 2, tie, false, in_book);
        let mut book = PositionBook::new(n, 2, n * 2);
        for a in 0..n {
            if holding.contains(&a) {
                let slot = book.open(a as AccountId, 7).unwrap();
                p.add_holder(7, a as AccountId, slot);
            }
            p.refresh(a as AccountId, true, book.open_count(a as AccountId), 2);
        }
        (p, book)
    }

    #[test]
    fn a_recount_files_the_account_where_a_full_refresh_does() {
        // Two pickers over the same book: one re-filed in full after every
        // change, one recounted after opens and closes (refreshed only when
        // eligibility or the limit changes). Their buckets must agree.
        let (n, slots) = (130, 6);
        let mut full = Picker::new(n, 40, slots, TieBreak::LowestId, true);
        let mut counted = Picker::new(n, 40, slots, TieBreak::LowestId, true);
        let mut book = PositionBook::new(n, slots, 0);
        let mut eligible = vec![true; n];
        let mut max_open = vec![slots as u32; n];
        let mut next = below(0x005E_ED0F_2026);
        for a in 0..n as AccountId {
            full.refresh(a, true, 0, max_open[a as usize]);
            counted.refresh(a, true, 0, max_open[a as usize]);
        }
        for step in 0..20_000 {
            let a = next(n as u64) as AccountId;
            let i = a as usize;
            let policy_change = match next(10) {
                0 => {
                    eligible[i] = !eligible[i];
                    true
                }
                1 => {
                    max_open[i] = next(slots as u64 + 1) as u32;
                    true
                }
                2..=5 => {
                    let s = next(40) as SymbolId;
                    if book.find(a, s).is_some() || book.open(a, s).is_none() {
                        continue;
                    }
                    false
                }
                _ => {
                    let held: Vec<SymbolId> = book.positions_of(a).map(|(s, _)| s).collect();
                    let Some(&s) = held.get(next(held.len() as u64 + 1) as usize) else { continue };
                    let slot = book.find(a, s).unwrap();
                    let _ = book.close_slot(a, slot);
                    false
                }
            };
            let count = book.open_count(a);
            full.refresh(a, eligible[i], count, max_open[i]);
            if policy_change {
                counted.refresh(a, eligible[i], count, max_open[i]);
            } else {
                counted.recount(a, count, max_open[i]);
            }
            assert_eq!(counted.keys, full.keys, "step {step}: account {a}");
            assert_eq!(counted.open_buckets.members, full.open_buckets.members, "step {step}");
            assert_eq!(counted.open_buckets.nonempty, full.open_buckets.nonempty, "step {step}");
            assert_eq!(counted.scale_buckets.len, full.scale_buckets.len, "step {step}");
            assert_eq!(counted.scale_buckets.nonempty, full.scale_buckets.nonempty, "step {step}");
        }
    }

    #[test]
    fn the_candidate_kept_through_every_move_is_the_one_a_walk_finds() {
        // Random opens, closes, eligibility and limit changes, and now and
        // then a BUY (which finds the candidate if it is unknown). Under the
        // lowest-id rule the candidate is kept through every move (no idle
        // turn here): it must always be the account `first_candidate` walks
        // to, and be known from the first BUY on; under round-robin any move
        // forgets it.
        let (n, slots) = (90, 4);
        for tie in [TieBreak::LowestId, TieBreak::RoundRobin] {
            let mut p = Picker::new(n, 40, slots, tie, true);
            assert!(!p.keep_candidate, "small tables leave the candidate to idle turns");
            // large tables keep it under the lowest-id rule only
            assert_eq!(Picker::new(10_000, 1_000, slots, tie, true).keep_candidate, tie == TieBreak::LowestId);
            p.keep_candidate = tie == TieBreak::LowestId;
            let mut book = PositionBook::new(n, slots, 0);
            let mut eligible = vec![true; n];
            let mut max_open = vec![slots as u32; n];
            let mut next = below(0x00CA_4D1D_A7E5);
            for a in 0..n as AccountId {
                p.refresh(a, true, 0, slots as u32);
            }
            assert_eq!(p.buy_candidate, UNKNOWN);
            let (mut known, mut moved_away, mut steps) = (0, 0, 0);
            for step in 0..30_000 {
                let a = next(n as u64) as AccountId;
                let i = a as usize;
                let before = p.buy_candidate;
                match next(12) {
                    0 => {
                        eligible[i] = !eligible[i];
                        p.refresh(a, eligible[i], book.open_count(a), max_open[i]);
                    }
                    1 => {
                        max_open[i] = next(slots as u64 + 1) as u32;
                        p.refresh(a, eligible[i], book.open_count(a), max_open[i]);
                    }
                    2 => {
                        // the BUY's pick itself is checked against a walk elsewhere
                        let _ = p.pick_buy(next(40) as SymbolId, &book);
                    }
                    3..=7 => {
                        // the candidate opens most of the positions: it moves on
                        let a = if next(2) == 0 && p.buy_candidate < NO_CANDIDATE { p.buy_candidate } else { a };
                        let s = next(40) as SymbolId;
                        if book.find(a, s).is_some() || book.open(a, s).is_none() {
                            continue;
                        }
                        p.recount(a, book.open_count(a), max_open[a as usize]);
                        moved_away += usize::from(a == before);
                    }
                    _ => {
                        let held: Vec<SymbolId> = book.positions_of(a).map(|(s, _)| s).collect();
                        let Some(&s) = held.get(next(held.len() as u64 + 1) as usize) else { continue };
                        let slot = book.find(a, s).unwrap();
                        let _ = book.close_slot(a, slot);
                        p.recount(a, book.open_count(a), max_open[i]);
                    }
                }
                let c = p.buy_candidate;
                if c != UNKNOWN {
                    assert_eq!(c, p.first_candidate(), "step {step} ({tie:?})");
                }
                known += usize::from(c != UNKNOWN);
                steps += 1;
            }
            if tie == TieBreak::LowestId {
                assert!(known + 100 > steps, "known at {known} of {steps} steps");
                assert!(moved_away > 1_000, "the candidate itself moved {moved_away} times");
            } else {
                assert!(known < steps / 2, "round-robin forgets: known at {known} of {steps} steps");
            }
        }
    }

    #[test]
    fn a_buy_skips_holders_past_the_candidates_checked_one_by_one() {
        for in_book in [false, true] {
            buy_skips_holders(in_book);
        }
    }

    fn buy_skips_holders(in_book: bool) {
        // accounts 0..150 hold 7 (open count 1); 150..200 hold nothing (open count 0)
        let holding: Vec<usize> = (0..150).collect();
        let (mut p, book) = setup(200, &holding, TieBreak::LowestId, in_book);
        // the least loaded bucket comes first: account 150
        assert_eq!(p.pick_buy(7, &book), Some((150, Route::Open)));
        // symbol 3: nobody holds it, lowest id of the least loaded bucket
        assert_eq!(p.pick_buy(3, &book), Some((150, Route::Open)));
        // everyone at one position, the first 150 holding 7: the walk passes
        // the book-checked candidates and falls back to the masked row scan
        let (mut p, mut book) = setup(200, &holding, TieBreak::LowestId, in_book);
        for a in 150..200u32 {
            let slot = book.open(a, 1).unwrap();
            p.add_holder(1, a, slot);
            p.refresh(a, true, 1, 2);
        }
        assert_eq!(p.pick_buy(7, &book), Some((150, Route::Open)));
        assert_eq!(p.pick_buy(1, &book), Some((0, Route::Open)));
    }

    #[test]
    fn the_likely_buy_is_the_pick_of_buys_routed_one_after_another() {
        for tie in [TieBreak::LowestId, TieBreak::RoundRobin] {
            // 6 accounts, two slots each; accounts 1 and 4 already hold one
            // symbol, so they sit in the second bucket
            let (mut p, mut book) = setup(6, &[1, 4], tie, true);
            // exact while the BUYs stay in the least-loaded bucket (accounts
            // 0, 2, 3, 5); past it, the guess is the next bucket's member
            // (1) and misses account 0, which the first BUY moved there
            assert_eq!(p.likely_buy(4), Some(1), "{tie:?}");
            for skip in 0..4 {
                // the guess for the BUY after `skip` more BUYs, each of a
                // symbol nobody holds, is the account those BUYs lead to
                let guess = p.likely_buy(skip);
                let (mut q, mut qbook) = setup(6, &[1, 4], tie, true);
                q.cursor = p.cursor;
                let mut pick = None;
                for i in 0..=skip {
                    let (a, route) = q.pick_buy(i as SymbolId, &qbook).unwrap();
                    assert_eq!(route, Route::Open);
                    let slot = qbook.open(a, i as SymbolId).unwrap();
                    q.add_holder(i as SymbolId, a, slot);
                    q.refresh(a, true, qbook.open_count(a), 2);
                    pick = Some(a as usize);
                }
                assert_eq!(guess, pick, "{tie:?}, after {skip} BUYs");
            }
            // a BUY changes the guess as it changes the buckets
            let first = p.likely_buy(0).unwrap();
            let slot = book.open(first as AccountId, 8).unwrap();
            p.add_holder(8, first as AccountId, slot);
            p.refresh(first as AccountId, true, 1, 2);
            assert_ne!(p.likely_buy(0), Some(first), "{tie:?}");
        }
        // nobody eligible: no guess
        let (mut p, book) = setup(2, &[], TieBreak::LowestId, true);
        for a in 0..2 {
            p.refresh(a, false, book.open_count(a), 2);
        }
        assert_eq!(p.likely_buy(0), None);
    }

    #[test]
    fn answers_kept_from_idle_turns_give_every_decision_the_walk_gives() {
        for tie in [TieBreak::LowestId, TieBreak::RoundRobin] {
            kept_answers(tie);
        }
    }

    fn kept_answers(tie: TieBreak) {
        // Five pickers over one random run: two keep each symbol's first
        // holder (one in holder bits, one in holder lists short enough to
        // spill), one walks every time (nothing kept; it never idles), and
        // two have the layout of large tables (candidates checked in the
        // book, the BUY candidate kept through moves, no first holders),
        // one with holder lists, one with the bit rows of dense tables.
        // Positions get closes in flight and empty reservations (not SELL
        // targets), and closes move slots. Every BUY must agree with the
        // walking picker's, every SELL with it and with a naive scan.
        let (accounts, symbols, slots) = (24usize, 5u32, 3usize);
        let mut next = below(0x2545_F491_4F6C_DD1Du64);
        let mut kept = Picker::new(accounts, symbols as usize, slots, tie, true);
        let mut listed = Picker::new(accounts, symbols as usize, slots, tie, true);
        listed.holders = Holders::new(symbols as usize, accounts, true, 16);
        let mut large = Picker::with_layout(accounts, symbols as usize, slots, tie, true, true);
        assert!(large.first_holder.is_empty() && matches!(large.holders, Holders::Lists(_)));
        // the layout of large tables with dense rows: bit rows
        let mut dense = Picker::with_layout(accounts, symbols as usize, slots, tie, true, true);
        dense.holders = Holders::new(symbols as usize, accounts, false, 0);
        let mut walked = Picker::new(accounts, symbols as usize, slots, tie, true);
        walked.first_holder = Vec::new();
        walked.keep_candidate = false;
        assert!(!kept.first_holder.is_empty(), "a small table keeps first holders");
        let mut book = PositionBook::new(accounts, slots, 0);
        for a in 0..accounts as AccountId {
            for p in [&mut kept, &mut listed, &mut large, &mut dense, &mut walked] {
                p.refresh(a, true, 0, slots as u32);
            }
        }
        let naive = |book: &PositionBook, s: SymbolId| -> Result<(AccountId, u32), bool> {
            let mut any = false;
            for a in 0..accounts as AccountId {
                if let Some(slot) = book.find(a, s) {
                    any = true;
                    let p = book.get(slot);
                    if p.net_qty > QTY_EPSILON && p.pending_sell < QTY_EPSILON {
                        return Ok((a, slot));
                    }
                }
            }
            Err(any)
        };
        let (mut sells, mut known, mut skipped, mut buys, mut buys_known) = (0, 0, 0, 0, 0);
        let mut spilled = 0;
        for step in 0..30_000 {
            spilled += listed.holders.spilled();
            let s = next(symbols as u64) as SymbolId;
            match next(8) {
                0..=3 => {
                    let pick = walked.pick_buy(s, &book);
                    let was_known = kept.buy_candidate < NO_CANDIDATE;
                    assert_eq!(kept.pick_buy(s, &book), pick, "step {step}: BUY of {s} ({tie:?})");
                    assert_eq!(listed.pick_buy(s, &book), pick, "step {step}: BUY of {s} ({tie:?}, lists)");
                    assert_eq!(large.pick_buy(s, &book), pick, "step {step}: BUY of {s} ({tie:?}, large)");
                    assert_eq!(dense.pick_buy(s, &book), pick, "step {step}: BUY of {s} ({tie:?}, dense)");
                    buys += 1;
                    buys_known += usize::from(was_known);
                    if let Some((a, Route::Open)) = pick {
                        let slot = book.open(a, s).unwrap();
                        // one in five stays an empty reservation for a while
                        book.get_mut(slot).net_qty = if next(5) == 0 { 0.0 } else { 1.0 };
                        book.get_mut(slot).pending_buy = 1.0 - book.get(slot).net_qty;
                        for p in [&mut kept, &mut listed, &mut large, &mut dense, &mut walked] {
                            p.add_holder(s, a, slot);
                            p.refresh(a, true, book.open_count(a), slots as u32);
                        }
                    }
                }
                4 if next(3) == 0 => {
                    // idle turns find the first holders closes left unknown
                    // and the next BUY's first account (`walked` never idles)
                    for p in [&mut kept, &mut listed, &mut large, &mut dense] {
                        while p.idle_step(&book) {}
                    }
                }
                4 => {
                    // a close goes in flight, or one in flight is done, or a
                    // reservation fills, on a random position of `s`
                    let a = next(accounts as u64) as AccountId;
                    if let Some(slot) = book.find(a, s) {
                        let p = book.get_mut(slot);
                        if p.net_qty == 0.0 {
                            (p.net_qty, p.pending_buy) = (1.0, 0.0);
                        } else {
                            p.pending_sell = if p.pending_sell > 0.0 { 0.0 } else { p.net_qty };
                        }
                    }
                }
                _ => {
                    let want = naive(&book, s);
                    let was_known = kept.first_holder[s as usize].account < NO_HOLDER;
                    // a known first holder is the lowest-id holder, in its slot
                    assert_eq!(kept.known_first_holder(s).is_some(), was_known);
                    if let Some((a, slot)) = kept.known_first_holder(s) {
                        let lowest = (0..a).all(|b| book.find(b, s).is_none());
                        assert!(book.holds_at(a, slot, s) && lowest, "step {step}: first holder {a} of {s}");
                    }
                    assert_eq!(walked.known_first_holder(s), None, "nothing kept, nothing known");
                    let pick = kept.pick_sell(s, &book);
                    assert_eq!(pick, want, "step {step}: SELL of {s}");
                    assert_eq!(listed.pick_sell(s, &book), want, "step {step}: SELL of {s} (lists)");
                    assert_eq!(large.pick_sell(s, &book), want, "step {step}: SELL of {s} (large)");
                    assert_eq!(dense.pick_sell(s, &book), want, "step {step}: SELL of {s} (dense)");
                    for x in 0..symbols {
                        for p in [&mut large, &mut dense] {
                            let mut found = SellFound::default();
                            for look in
                                [SellLookAhead::LowestHolder, SellLookAhead::HolderBook, SellLookAhead::Position]
                            {
                                let _ = p.prefetch_sell(x, look, &book, &mut found);
                            }
                            let found = p.pick_sell_found(x, &book, Some(&found));
                            assert_eq!(found, naive(&book, x), "step {step}: found ahead");
                        }
                    }
                    assert_eq!(walked.pick_sell(s, &book), want, "step {step}: SELL of {s} (walked)");
                    if let Ok((a, slot)) = pick {
                        sells += 1;
                        known += usize::from(was_known);
                        skipped += usize::from((0..a).any(|b| book.find(b, s).is_some()));
                        let moved = book.close_slot(a, slot);
                        for p in [&mut kept, &mut listed, &mut large, &mut dense, &mut walked] {
                            p.closed(s, a, slot, moved);
                            p.refresh(a, true, book.open_count(a), slots as u32);
                        }
                    }
                }
            }
        }
        assert!(
            sells > 3_000 && known > 1_000 && sells - known > 200,
            "the run sold from known and unknown first holders: {sells} sells, {known} known"
        );
        assert!(buys > 5_000 && buys_known > 500 && buys - buys_known > 500, "{buys} BUYs, {buys_known} known");
        assert!(skipped > 300, "and passed first holders that could not sell: {skipped}");
        assert!(spilled > 1_000, "lists spilled into bit rows: {spilled} symbol-steps spilled");
    }

    #[test]
    fn round_robin_wraps_and_still_skips_holders() {
        for in_book in [false, true] {
            round_robin(in_book);
        }
    }

    fn round_robin(in_book: bool) {
        let holding: Vec<usize> = (0..10).chain(20..30).collect();
        let (mut p, book) = setup(30, &holding, TieBreak::RoundRobin, in_book);
        // bucket 0 = accounts 10..20 (no position); round robin walks them in turn
        let picks: Vec<_> = (0..12).map(|_| p.pick_buy(7, &book).unwrap().0).collect();
        assert_eq!(picks, vec![10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 10, 11]);
        // bucket 1 only (holders of 7 and of nothing else): no non-holder there
        let (mut p, book) = setup(30, &(0..30).collect::<Vec<_>>(), TieBreak::RoundRobin, in_book);
        assert_eq!(p.pick_buy(7, &book), None);
        assert_eq!(p.pick_buy(8, &book).map(|x| x.0), Some(0));
        assert_eq!(p.pick_buy(8, &book).map(|x| x.0), Some(1));
    }

    #[test]
    fn large_sparse_universes_keep_holder_lists_and_dense_or_cached_ones_bit_rows() {
        let layout = |accounts, symbols, slots| {
            let p = Picker::new(accounts, symbols, slots, TieBreak::LowestId, true);
            (p.tables_exceed_cache(), matches!(p.holders, Holders::Lists(_)))
        };
        // W2: 125 MB of bits, ~500 holders per symbol with every slot used
        assert_eq!(layout(100_000, 10_000, 50), (true, true));
        // W1: 62 KB of bits, cached
        assert_eq!(layout(1_000, 500, 20), (false, false));
        // large but dense: 100 symbols share 5 M slots (50,000 each)
        assert_eq!(layout(100_000, 100, 50), (true, false));
    }

    #[test]
    fn a_sell_found_ahead_answers_as_the_walk_does() {
        // holder bits and holder lists (the layout of large tables)
        for large in [false, true] {
            sell_found_ahead(large);
        }
    }

    fn sell_found_ahead(large: bool) {
        use crate::hot::positions::Position;
        // the look-ahead's three steps for a SELL of `s`, as a batch runs them
        fn look(p: &Picker, s: SymbolId, book: &PositionBook) -> SellFound {
            let mut found = SellFound::default();
            for step in [SellLookAhead::LowestHolder, SellLookAhead::HolderBook, SellLookAhead::Position] {
                let _ = p.prefetch_sell(s, step, book, &mut found);
            }
            found
        }
        let mut p = Picker::with_layout(6, 4, 3, TieBreak::LowestId, false, large);
        assert_eq!(matches!(p.holders, Holders::Lists(_)), large);
        let mut book = PositionBook::new(6, 3, 0);
        let open = |p: &mut Picker, book: &mut PositionBook, a: AccountId, s: SymbolId| {
            let slot = book.open_with(a, s, Position::bought(1.0, 10.0)).unwrap();
            p.add_holder(s, a, slot);
            slot
        };
        // account 2 holds 1 then 2 (its position in 2 in its last slot), account 4 holds 2
        let in_1 = open(&mut p, &mut book, 2, 1);
        let in_2 = open(&mut p, &mut book, 2, 2);
        open(&mut p, &mut book, 4, 2);

        let found = look(&p, 2, &book);
        assert_eq!(p.pick_sell_found(2, &book, Some(&found)), Ok((2, in_2)));
        assert_eq!(p.pick_sell(2, &book), Ok((2, in_2)));

        // account 2 closes its position in 1: the one in 2 moves to its slot
        p.close(1, 2, in_1, &mut book);
        assert_eq!(p.pick_sell_found(2, &book, Some(&found)), Ok((2, in_1)), "the moved slot, not the one found");

        // a lower holder: the next look-ahead finds it
        let slot = book.open_with(0, 2, Position::bought(1.0, 10.0)).unwrap();
        p.add_holder(2, 0, slot);
        let found = look(&p, 2, &book);
        assert_eq!((found.account, found.slot), (0, slot));
        assert_eq!(p.pick_sell_found(2, &book, Some(&found)), Ok((0, slot)));

        // a holder whose close is in flight is passed over, as by the walk
        let found = look(&p, 2, &book);
        book.get_mut(slot).pending_sell = 1.0;
        assert_eq!(p.pick_sell_found(2, &book, Some(&found)), p.pick_sell(2, &book));
        assert_eq!(p.pick_sell(2, &book), Ok((2, in_1)));
    }
}
