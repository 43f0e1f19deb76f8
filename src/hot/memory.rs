//! Memory preparation for the hot tables (start-up) and the hot loop's
//! cache hints ([`prefetch`]).
//!
//! Large tables are allocated zeroed, which the OS backs lazily: the first
//! write to each page would fault into the kernel on the hot thread, in the
//! middle of a run. [`prefault`] takes those faults at start-up instead, and
//! asks for transparent huge pages on tables of 2 MiB or more (W2's holder
//! and position tables are hundreds of MiB: with 4 KiB pages nearly every
//! lookup also misses the TLB).

const PAGE: usize = 4096;

/// Writes every page of `data` once (each byte keeps its value), so the OS
/// maps it now. Start-up only.
pub fn prefault<T: bytemuck::Pod>(data: &mut [T]) {
    let bytes = bytemuck::cast_slice_mut::<T, u8>(data);
    advise_huge_pages(bytes);
    touch(bytes);
}

const HUGE_PAGE: usize = 2 << 20;

/// Asks the kernel to back the 2 MiB-aligned interior of `bytes` with
/// transparent huge pages (`madvise(MADV_HUGEPAGE)`; THP mode `madvise` or
/// `always`). Advice only: where the kernel says no, nothing changes.
#[cfg(target_os = "linux")]
fn advise_huge_pages(bytes: &mut [u8]) {
    let start = (bytes.as_mut_ptr() as usize).next_multiple_of(HUGE_PAGE);
    let end = (bytes.as_mut_ptr() as usize + bytes.len()) & !(HUGE_PAGE - 1);
    if end > start {
        // SAFETY: [start, end) lies inside `bytes`, memory this process owns;
        // MADV_HUGEPAGE changes how it is backed, never its contents.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_bytes: &mut [u8]) {}

fn touch(bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        // SAFETY: `i` is in bounds; volatile keeps the write from being elided.
        unsafe {
            let p = bytes.as_mut_ptr().add(i);
            std::ptr::write_volatile(p, std::ptr::read_volatile(p));
        }
        i += PAGE;
    }
}

/// Hints the CPU to bring the cache line holding `*p` into L1. A hint only:
/// no fault, no effect on program state, nothing on non-x86-64 targets.
/// Hot path: never allocates, locks or blocks.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 never faults, whatever the address; SSE is baseline on x86-64.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// [`prefetch`] for every cache line of a record of at most 64 bytes that
/// may straddle two lines (its first and its last byte): a 48-byte position
/// in a packed table does so half the time, and a hint for its first line
/// alone leaves the fields in the second a miss. A hint only; hot path:
/// never allocates, locks or blocks.
#[inline(always)]
pub fn prefetch_record<T>(p: *const T) {
    const { assert!(std::mem::size_of::<T>() <= 64, "a record of at most one cache line") };
    prefetch(p);
    prefetch(p.cast::<u8>().wrapping_add(std::mem::size_of::<T>().saturating_sub(1)));
}

/// [`prefetch_record`] with [`prefetch_for_write`]. A hint only; hot path:
/// never allocates, locks or blocks.
#[inline(always)]
pub fn prefetch_record_for_write<T>(p: *const T) {
    const { assert!(std::mem::size_of::<T>() <= 64, "a record of at most one cache line") };
    prefetch_for_write(p);
    prefetch_for_write(p.cast::<u8>().wrapping_add(std::mem::size_of::<T>().saturating_sub(1)));
}

/// Hints the CPU to bring the cache line holding `*p` into L1 for writing
/// (PREFETCHW: the line arrives owned, so the stores that follow do not wait
/// for it in the store buffer). A hint only: no fault, no effect on program
/// state, a no-op on CPUs without it and on non-x86-64 targets.
/// Hot path: never allocates, locks or blocks.
#[inline(always)]
pub fn prefetch_for_write<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHW never faults, whatever the address, and decodes as a
    // NOP where it is not implemented; it touches no register or flag.
    unsafe {
        core::arch::asm!("prefetchw [{p}]", p = in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefault_keeps_values() {
        let mut v: Vec<u64> = (0..10_000).collect();
        prefault(&mut v);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
    }

    #[test]
    fn hints_change_nothing_and_never_fault() {
        // records straddling two lines, the last byte of a table, and
        // addresses that are not mapped: a hint never faults
        let v: Vec<[f64; 6]> = (0..64).map(|i| [i as f64; 6]).collect();
        for r in &v {
            prefetch_record(r);
            prefetch_record_for_write(r);
        }
        for p in [std::ptr::null::<[f64; 6]>(), usize::MAX as *const [f64; 6], std::ptr::dangling::<[f64; 6]>()] {
            prefetch_record(p);
            prefetch_record_for_write(p);
            prefetch(p);
            prefetch_for_write(p);
        }
        assert!(v.iter().enumerate().all(|(i, r)| r.iter().all(|&x| x == i as f64)));
    }
}
