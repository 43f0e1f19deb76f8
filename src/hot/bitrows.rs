//! Rows of fixed-width bitsets with a summary (and, for rows wider than
//! 4,096 bits, a summary of the summary: the top), for the picker's indexes
//! (accounts by open count, holders by symbol).
//!
//! Hot-path rules: after [`BitRows::new`] nothing here allocates; every query
//! skips empty 64-bit words through the summary and empty summary words
//! through the top, so finding the first set bit of a row costs a top word,
//! a summary word and a data word (plus one per non-empty word visited; a
//! loop over top words only past 262,144 bits), never a scan of every
//! account.

/// The lowest set bit `>= from` of `words` read as one bitset (bit `i` is
/// bit `i % 64` of word `i / 64`), scanning word by word.
#[inline]
pub fn first_set_bit(words: &[u64], from: usize) -> Option<usize> {
    let mut w = from / 64;
    let mut bits = *words.get(w)? & (!0u64 << (from % 64));
    while bits == 0 {
        w += 1;
        bits = *words.get(w)?;
    }
    Some(w * 64 + bits.trailing_zeros() as usize)
}

/// The first non-zero data word at or after word `w` of one row, by the
/// row's `summary` and its `top` (empty for a one-word summary): the
/// summary word of `w`, else the first non-empty one after it, found in
/// the top. Reads at most one summary word, one top word and the summary
/// word it names (top words in a loop only past 64 summary words).
#[inline(always)]
fn next_word(summary: &[u64], top: &[u64], w: usize) -> Option<usize> {
    let sw = w / 64;
    let bits = *summary.get(sw)? & (!0u64 << (w % 64));
    if bits != 0 {
        return Some(sw * 64 + bits.trailing_zeros() as usize);
    }
    // top bits are set only for the row's own non-zero summary words
    let next = first_set_bit(top, sw + 1)?;
    Some(next * 64 + summary[next].trailing_zeros() as usize)
}

/// `rows` bitsets of `width` bits each, stored row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitRows {
    width: usize,
    words_per_row: usize,
    summary_per_row: usize,
    /// Top words per row: 0 for rows of at most 4,096 bits (one summary
    /// word, nothing to skip), else one per 64 summary words.
    top_per_row: usize,
    words: Vec<u64>,
    /// Bit `i` of a row's summary is set iff word `i` of that row is non-zero.
    summary: Vec<u64>,
    /// Bit `j` of a row's top is set iff summary word `j` of that row is
    /// non-zero (rows wider than 4,096 bits only).
    top: Vec<u64>,
}

impl BitRows {
    /// All-clear rows. Allocates (start-up only). Memory pages are touched
    /// lazily by the OS, so sparse rows cost little resident memory.
    pub fn new(rows: usize, width: usize) -> Self {
        let words_per_row = width.div_ceil(64).max(1);
        let summary_per_row = words_per_row.div_ceil(64);
        let top_per_row = if summary_per_row > 1 { summary_per_row.div_ceil(64) } else { 0 };
        Self {
            width,
            words_per_row,
            summary_per_row,
            top_per_row,
            words: vec![0; rows * words_per_row],
            summary: vec![0; rows * summary_per_row],
            top: vec![0; rows * top_per_row],
        }
    }

    /// Maps every page now (start-up), so no page fault hits the hot loop.
    pub fn prefault(&mut self) {
        super::memory::prefault(&mut self.words);
        super::memory::prefault(&mut self.summary);
        super::memory::prefault(&mut self.top);
    }

    /// Bits per row.
    #[inline]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Sets `bit` of `row`.
    #[inline]
    pub fn set(&mut self, row: usize, bit: usize) {
        debug_assert!(bit < self.width);
        let w = bit / 64;
        self.words[row * self.words_per_row + w] |= 1u64 << (bit % 64);
        let si = self.summary_index(row, w);
        // SAFETY: see `summary_index` and `top_index`
        unsafe {
            *self.summary.get_unchecked_mut(si) |= 1u64 << (w % 64);
            if self.top_per_row > 0 {
                let ti = self.top_index(row, w);
                *self.top.get_unchecked_mut(ti) |= 1u64 << (w / 64 % 64);
            }
        }
    }

    /// Where word `w` of `row` has its summary bit. In range whenever the
    /// word `row * words_per_row + w` is (callers index it first, checked):
    /// that word's index is below `rows * words_per_row`, so `w` is below
    /// `(rows - row) * words_per_row`, and `w / 64` below `(rows - row) *
    /// summary_per_row`.
    #[inline(always)]
    fn summary_index(&self, row: usize, w: usize) -> usize {
        row * self.summary_per_row + w / 64
    }

    /// Where word `w` of `row` has its top bit (rows with a top). In range
    /// whenever the word is, by `summary_index`'s argument one level up.
    #[inline(always)]
    fn top_index(&self, row: usize, w: usize) -> usize {
        row * self.top_per_row + w / 64 / 64
    }

    /// Clears `bit` of `row`. Returns whether `row` is now empty.
    #[inline]
    pub fn clear(&mut self, row: usize, bit: usize) -> bool {
        debug_assert!(bit < self.width);
        let w = bit / 64;
        let word = &mut self.words[row * self.words_per_row + w];
        *word &= !(1u64 << (bit % 64));
        if *word != 0 {
            return false;
        }
        let si = self.summary_index(row, w);
        // SAFETY: see `summary_index` and `top_index`; the row is in range
        // (its word was), and so is its whole top.
        unsafe {
            let sw = self.summary.get_unchecked_mut(si);
            *sw &= !(1u64 << (w % 64));
            if *sw != 0 {
                return false;
            }
            if self.top_per_row == 0 {
                // one summary word: the row is empty with it
                return true;
            }
            let ti = self.top_index(row, w);
            let tw = self.top.get_unchecked_mut(ti);
            *tw &= !(1u64 << (w / 64 % 64));
            let first = row * self.top_per_row;
            // the row is empty when its whole top is (one word for rows of
            // up to 262,144 bits)
            *tw == 0
                && (self.top_per_row == 1
                    || self.top.get_unchecked(first..first + self.top_per_row).iter().all(|&x| x == 0))
        }
    }

    /// Whether `bit` of `row` is set.
    #[inline]
    pub fn contains(&self, row: usize, bit: usize) -> bool {
        bit < self.width && self.words[row * self.words_per_row + bit / 64] & (1u64 << (bit % 64)) != 0
    }

    /// The lowest set bit `>= from` of `row`, ignoring bits set in row
    /// `exclude_row` of `exclude` (which must have the same width). Reads a
    /// data word only where the summary says it is non-zero, so a sparse row
    /// in a large table costs a summary word and one data word, not a miss
    /// on each.
    #[inline]
    pub fn first_from(&self, row: usize, from: usize, exclude: Option<(&BitRows, usize)>) -> Option<usize> {
        match exclude {
            None if self.summary_per_row == 1 => self.first_from_narrow(row, from),
            None => self.first_from_wide(row, from),
            Some(_) => self.first_from_summarised(row, from, exclude),
        }
    }

    /// [`BitRows::first_from`] without exclusion for rows of at most 4,096
    /// bits, whose summary is one word: the candidate words are that word's
    /// set bits, visited lowest first. Short enough to inline at every
    /// caller (W1's holder and bucket rows are this narrow).
    #[inline(always)]
    fn first_from_narrow(&self, row: usize, from: usize) -> Option<usize> {
        debug_assert_eq!(self.summary_per_row, 1);
        if from >= self.width {
            return None;
        }
        // `from < width <= 4096`: word `first < 64`, a bit of the one summary word
        let first = from / 64;
        let mut pending = *self.summary.get(row)? & (!0u64 << first);
        let base = row * self.words_per_row;
        let mut low = !0u64 << (from % 64);
        while pending != 0 {
            let w = pending.trailing_zeros() as usize;
            if w != first {
                low = !0;
            }
            // SAFETY: the row is in range (its summary word was read) and
            // summary bits are set only for the row's own words
            let bits = unsafe { *self.words.get_unchecked(base + w) } & low;
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            pending &= pending - 1;
        }
        None
    }

    /// [`BitRows::first_from`] without exclusion for rows wider than 4,096
    /// bits (with a top): the word of `from` if its summary bit says it is
    /// non-zero, else the first non-zero word after it ([`next_word`]), whose
    /// lowest bit is the answer. At most two data words, no loop.
    #[inline(always)]
    fn first_from_wide(&self, row: usize, from: usize) -> Option<usize> {
        if from >= self.width {
            return None;
        }
        let (summary, top) = self.summary_and_top(row);
        let base = row * self.words_per_row;
        let w = from / 64;
        if summary[w / 64] & (1u64 << (w % 64)) != 0 {
            let bits = self.words[base + w] & (!0u64 << (from % 64));
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
        }
        let next = next_word(summary, top, w + 1)?;
        Some(next * 64 + self.words[base + next].trailing_zeros() as usize)
    }

    /// [`BitRows::first_from`] for any width, with or without exclusion.
    #[inline]
    fn first_from_summarised(&self, row: usize, from: usize, exclude: Option<(&BitRows, usize)>) -> Option<usize> {
        if from >= self.width {
            return None;
        }
        let base = row * self.words_per_row;
        let (summary, top) = self.summary_and_top(row);
        let mut low = !0u64 << (from % 64);
        let mut w = from / 64;
        loop {
            // the next non-zero word at or after `w`, by the summary
            let next = next_word(summary, top, w)?;
            if next != w {
                low = !0;
                w = next;
            }
            let mut bits = self.words[base + w] & low;
            if let Some((e, r)) = exclude {
                bits &= !e.words[r * e.words_per_row + w];
            }
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            low = !0;
        }
    }

    /// `row`'s summary words and top words (none for rows of one summary
    /// word). Panics if `row` is out of range.
    #[inline(always)]
    fn summary_and_top(&self, row: usize) -> (&[u64], &[u64]) {
        (
            &self.summary[row * self.summary_per_row..(row + 1) * self.summary_per_row],
            &self.top[row * self.top_per_row..(row + 1) * self.top_per_row],
        )
    }

    /// Hints the first summary word and the first word of `row` into cache
    /// (an out-of-range row is ignored). Hot path: no allocation, no effect
    /// on the rows.
    #[inline]
    pub fn prefetch_row(&self, row: usize) {
        if let (Some(s), Some(w)) = (
            self.summary.get(row.saturating_mul(self.summary_per_row)),
            self.words.get(row.saturating_mul(self.words_per_row)),
        ) {
            super::memory::prefetch(s);
            super::memory::prefetch(w);
        }
    }

    /// Hints the word holding `bit` of `row` into cache for writing (out of
    /// range: ignored). Hot path: no allocation, no effect on the rows.
    #[inline]
    pub fn prefetch_bit_for_write(&self, row: usize, bit: usize) {
        if bit < self.width {
            if let Some(w) = self.words.get(row.saturating_mul(self.words_per_row).saturating_add(bit / 64)) {
                super::memory::prefetch_for_write(w);
            }
        }
    }

    /// Hints the two words [`BitRows::set`] of `bit` in `row` writes (the
    /// bit's word and its summary word) into cache for writing (out of
    /// range: ignored). Hot path: no allocation, no effect on the rows.
    #[inline]
    pub fn prefetch_mark_for_write(&self, row: usize, bit: usize) {
        self.prefetch_bit_for_write(row, bit);
        if bit < self.width {
            if let Some(word) = self.summary.get(row.saturating_mul(self.summary_per_row).saturating_add(bit / 64 / 64))
            {
                super::memory::prefetch_for_write(word);
            }
        }
    }

    /// Iterates the set bits of `row` in increasing order.
    pub fn iter_row(&self, row: usize) -> impl Iterator<Item = usize> + '_ {
        let mut next = 0;
        std::iter::from_fn(move || {
            let b = self.first_from(row, next, None)?;
            next = b + 1;
            Some(b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetching_a_row_changes_nothing_and_ignores_rows_out_of_range() {
        let mut b = BitRows::new(4, 200);
        b.set(3, 150);
        let before = (b.words.clone(), b.summary.clone());
        for row in [0, 3, 4, usize::MAX] {
            b.prefetch_row(row);
            for bit in [0, 150, 199, 200, usize::MAX] {
                b.prefetch_bit_for_write(row, bit);
                b.prefetch_mark_for_write(row, bit);
            }
        }
        assert_eq!((b.words.clone(), b.summary.clone()), before);
        assert_eq!(b.first_from(3, 0, None), Some(150));
    }

    #[test]
    fn first_from_skips_and_excludes() {
        let mut a = BitRows::new(3, 10_000);
        let mut ex = BitRows::new(2, 10_000);
        for b in [5, 64, 4095, 4096, 9_999] {
            a.set(1, b);
        }
        assert_eq!(a.first_from(1, 0, None), Some(5));
        assert_eq!(a.first_from(1, 6, None), Some(64));
        assert_eq!(a.first_from(1, 65, None), Some(4095));
        assert_eq!(a.first_from(1, 4097, None), Some(9_999));
        assert_eq!(a.first_from(1, 10_000, None), None);
        assert_eq!(a.first_from(0, 0, None), None);
        ex.set(1, 5);
        ex.set(1, 64);
        assert_eq!(a.first_from(1, 0, Some((&ex, 1))), Some(4095));
        a.clear(1, 4095);
        a.clear(1, 4096);
        assert_eq!(a.first_from(1, 6, Some((&ex, 1))), Some(9_999));
        assert_eq!(a.iter_row(1).collect::<Vec<_>>(), vec![5, 64, 9_999]);
        assert!(a.contains(1, 64) && !a.contains(1, 63) && !a.contains(2, 64));
    }

    #[test]
    fn the_last_row_keeps_its_summary_and_a_row_past_it_panics() {
        for width in [1, 64, 4_096, 9_000, 300_000] {
            let mut r = BitRows::new(3, width);
            r.set(2, width - 1);
            assert_eq!(r.first_from(2, 0, None), Some(width - 1));
            assert!(r.clear(2, width - 1));
            assert_eq!(r.first_from(2, 0, None), None);
            let past = std::panic::catch_unwind(move || {
                let mut r = r;
                r.set(3, 0)
            });
            assert!(past.is_err(), "width {width}: a set in row 3 of 3 must panic");
        }
    }

    #[test]
    fn clearing_the_last_bit_of_a_row_says_so() {
        for width in [1, 64, 1_000, 4_096, 9_000, 300_000] {
            let mut r = BitRows::new(3, width);
            let bits: Vec<usize> = (0..width).step_by(width / 7 + 1).chain([width - 1]).collect();
            for &b in &bits {
                r.set(1, b);
                r.set(2, b);
            }
            let mut left = bits.clone();
            left.dedup();
            while let Some(b) = left.pop() {
                assert_eq!(r.clear(1, b), left.is_empty(), "width {width}: cleared {b}, {} left", left.len());
            }
            assert!(r.clear(1, 0), "an empty row stays empty");
            assert_eq!(r.first_from(1, 0, None), None);
            assert_eq!(r.first_from(2, 0, None), Some(0), "the other row keeps its bits");
        }
    }

    #[test]
    fn matches_a_naive_set_with_and_without_a_mask() {
        let mut rng = 12345u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        // wide enough for several top words (past 262,144 bits), for several
        // summary words under one top word, and, narrower, one summary word
        // (its own walk); sparse so that empty words, empty summary words
        // and empty top bits are common
        for (width, steps) in [(300_000, 2_000), (100_000, 5_000), (9_000, 20_000), (4_096, 20_000)] {
            matches_a_naive_set(width, steps, &mut next);
        }
        for width in [1_000, 64, 1] {
            matches_a_naive_set(width, 20_000, &mut next);
        }
    }

    fn matches_a_naive_set(width: usize, steps: usize, next: &mut impl FnMut() -> u64) {
        let mut a = BitRows::new(2, width);
        let mut m = BitRows::new(3, width);
        let mut naive = [vec![false; width], vec![false; width]];
        for _ in 0..steps {
            let (t, b) = ((next() % 2) as usize, (next() % width as u64) as usize);
            if next() % 3 == 0 {
                let emptied = if t == 0 { a.clear(1, b) } else { m.clear(2, b) };
                naive[t][b] = false;
                assert_eq!(emptied, !naive[t].iter().any(|&x| x), "clear reports whether the row is now empty");
            } else {
                if t == 0 {
                    a.set(1, b);
                } else {
                    m.set(2, b);
                }
                naive[t][b] = true;
            }
            let from = (next() % (width as u64 + 5)) as usize;
            let (row, mask) = (&naive[0], &naive[1]);
            let plain = (from..width).find(|&i| row[i]);
            let excl = (from..width).find(|&i| row[i] && !mask[i]);
            assert_eq!(a.first_from(1, from, None), plain);
            assert_eq!(a.first_from(1, from, Some((&m, 2))), excl);
            assert_eq!(a.first_from(0, from, None), None);
        }
    }
}
