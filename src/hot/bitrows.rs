//! Rows of fixed-width bitsets with a one-level summary, for the picker's
//! indexes (accounts by open count, holders by symbol).
//!
//! Hot-path rules: after [`BitRows::new`] nothing here allocates; every query
//! skips empty 64-bit words through the summary, so finding the first set bit
//! of a row costs O(row width / 4096) word reads plus one per non-empty word
//! visited, never a scan of every account.

/// How [`BitRows::first_from`] filters a row by a row of another table.
#[derive(Clone, Copy, Debug)]
pub enum Mask<'a> {
    /// Every set bit counts.
    None,
    /// Bits set in row `.1` of `.0` are skipped.
    Exclude(&'a BitRows, usize),
}

/// `rows` bitsets of `width` bits each, stored row-major.
#[derive(Clone, Debug)]
pub struct BitRows {
    width: usize,
    words_per_row: usize,
    summary_per_row: usize,
    words: Vec<u64>,
    /// Bit `i` of a row's summary is set iff word `i` of that row is non-zero.
    summary: Vec<u64>,
}

impl BitRows {
    /// All-clear rows. Allocates (start-up only). Memory pages are touched
    /// lazily by the OS, so sparse rows cost little resident memory.
    pub fn new(rows: usize, width: usize) -> Self {
        let words_per_row = width.div_ceil(64).max(1);
        let summary_per_row = words_per_row.div_ceil(64);
        Self {
            width,
            words_per_row,
            summary_per_row,
            words: vec![0; rows * words_per_row],
            summary: vec![0; rows * summary_per_row],
        }
    }

    /// Maps every page now (start-up), so no page fault hits the hot loop.
    pub fn prefault(&mut self) {
        super::memory::prefault(&mut self.words);
        super::memory::prefault(&mut self.summary);
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
        self.summary[row * self.summary_per_row + w / 64] |= 1u64 << (w % 64);
    }

    /// Clears `bit` of `row`.
    #[inline]
    pub fn clear(&mut self, row: usize, bit: usize) {
        debug_assert!(bit < self.width);
        let w = bit / 64;
        let wi = row * self.words_per_row + w;
        self.words[wi] &= !(1u64 << (bit % 64));
        if self.words[wi] == 0 {
            self.summary[row * self.summary_per_row + w / 64] &= !(1u64 << (w % 64));
        }
    }

    /// Whether `bit` of `row` is set.
    #[inline]
    pub fn contains(&self, row: usize, bit: usize) -> bool {
        bit < self.width && self.words[row * self.words_per_row + bit / 64] & (1u64 << (bit % 64)) != 0
    }

    /// The lowest set bit `>= from` of `row`, skipping the bits `mask` excludes
    /// (a row of another `BitRows` of the same width). Reads a data word only
    /// where the summary says it is non-zero, so a sparse row in a large table
    /// costs a summary word and one data word, not a miss on each.
    #[inline]
    pub fn first_from(&self, row: usize, from: usize, mask: Mask<'_>) -> Option<usize> {
        if from >= self.width {
            return None;
        }
        let base = row * self.words_per_row;
        let sbase = row * self.summary_per_row;
        let summary = |si: usize| self.summary[sbase + si];
        let word = |w: usize| -> u64 {
            let bits = self.words[base + w];
            match mask {
                Mask::None => bits,
                Mask::Exclude(m, r) => bits & !m.words[r * m.words_per_row + w],
            }
        };
        let mut w = from / 64;
        let mut low = !0u64 << (from % 64);
        loop {
            // the next non-zero word at or after `w`, by the summary
            let mut si = w / 64;
            let mut sm = summary(si) & (!0u64 << (w % 64));
            while sm == 0 {
                si += 1;
                if si >= self.summary_per_row {
                    return None;
                }
                sm = summary(si);
            }
            let next = si * 64 + sm.trailing_zeros() as usize;
            if next != w {
                low = !0;
                w = next;
            }
            let bits = word(w) & low;
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            low = !0;
            if w >= self.words_per_row {
                return None;
            }
        }
    }

    /// Iterates the set bits of `row` in increasing order.
    pub fn iter_row(&self, row: usize) -> impl Iterator<Item = usize> + '_ {
        let mut next = 0;
        std::iter::from_fn(move || {
            let b = self.first_from(row, next, Mask::None)?;
            next = b + 1;
            Some(b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_from_skips_and_excludes() {
        let mut a = BitRows::new(3, 10_000);
        let mut ex = BitRows::new(2, 10_000);
        for b in [5, 64, 4095, 4096, 9_999] {
            a.set(1, b);
        }
        assert_eq!(a.first_from(1, 0, Mask::None), Some(5));
        assert_eq!(a.first_from(1, 6, Mask::None), Some(64));
        assert_eq!(a.first_from(1, 65, Mask::None), Some(4095));
        assert_eq!(a.first_from(1, 4097, Mask::None), Some(9_999));
        assert_eq!(a.first_from(1, 10_000, Mask::None), None);
        assert_eq!(a.first_from(0, 0, Mask::None), None);
        ex.set(1, 5);
        ex.set(1, 64);
        assert_eq!(a.first_from(1, 0, Mask::Exclude(&ex, 1)), Some(4095));
        a.clear(1, 4095);
        a.clear(1, 4096);
        assert_eq!(a.first_from(1, 6, Mask::Exclude(&ex, 1)), Some(9_999));
        assert_eq!(a.iter_row(1).collect::<Vec<_>>(), vec![5, 64, 9_999]);
        assert!(a.contains(1, 64) && !a.contains(1, 63) && !a.contains(2, 64));
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
        // wide enough for several summary words; sparse so that empty words
        // and empty summary words are common
        let width = 9_000;
        let mut a = BitRows::new(2, width);
        let mut m = BitRows::new(3, width);
        let mut naive = [vec![false; width], vec![false; width]];
        for _ in 0..20_000 {
            let (t, b) = ((next() % 2) as usize, (next() % width as u64) as usize);
            if next() % 3 == 0 {
                if t == 0 {
                    a.clear(1, b);
                } else {
                    m.clear(2, b);
                }
                naive[t][b] = false;
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
            assert_eq!(a.first_from(1, from, Mask::None), plain);
            assert_eq!(a.first_from(1, from, Mask::Exclude(&m, 2)), excl);
            assert_eq!(a.first_from(0, from, Mask::None), None);
        }
    }
}
