//! The process's allocator: mimalloc, called as the system allocator is.
//!
//! The model allocates several small blocks per successor (issue 4 has not
//! packed its states yet): glibc's malloc took about 40% of a stale-reads
//! check, and mimalloc is the measured fix. The `mimalloc` crate's
//! `MiMalloc` asks for every block through `mi_malloc_aligned`, whose
//! alignment checks cost about 60 instructions a call on `cluster`. This
//! wrapper calls plain `mi_malloc` when the alignment asked for is one
//! mimalloc gives every block anyway (the rule std's own `System` allocator
//! applies to `malloc`): 1.4% fewer instructions on a synchronous BFS run
//! on `cluster` (callgrind, main thread, 100,000 states: 1.006 G ->
//! 0.992 G), 1.7% on a causal one (1.400 G -> 1.377 G), 0.7% on a
//! synchronous simulation. Other layouts go through the aligned calls, as
//! `MiMalloc` does.
//!
//! Miri cannot run foreign calls, so the `unsafe` here is not checked under
//! it; the unit test runs natively, over sizes and alignments on both sides
//! of the boundary, and the whole test suite runs on this allocator.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// Every block `mi_malloc` returns is aligned to this (mimalloc's
/// `MI_MAX_ALIGN_SIZE` on 64-bit targets), or to its size when smaller.
const MI_MAX_ALIGN: usize = 16;

/// Whether `mi_malloc(size)` is aligned enough for `align`.
#[inline]
fn plain(align: usize, size: usize) -> bool {
    align <= MI_MAX_ALIGN && align <= size
}

/// mimalloc as the global allocator.
pub struct Mimalloc;

// SAFETY: each method passes the caller's layout to the mimalloc call that
// honours it: plain calls only where `plain` holds (mimalloc aligns every
// block of `size` bytes to `min(16, size)` rounded to a power of two, so
// to `align`), aligned calls otherwise. Blocks from any of them are freed
// and resized by `mi_free` and `mi_realloc*`, which accept every block
// mimalloc allocated.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            // SAFETY: see the impl; `layout.size()` is nonzero (GlobalAlloc's contract).
            unsafe { libmimalloc_sys::mi_malloc(layout.size()).cast() }
        } else {
            // SAFETY: `layout.align()` is a power of two (Layout's invariant).
            unsafe { libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast() }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            // SAFETY: as in `alloc`.
            unsafe { libmimalloc_sys::mi_zalloc(layout.size()).cast() }
        } else {
            // SAFETY: as in `alloc`.
            unsafe { libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast() }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (GlobalAlloc's contract),
        // so from mimalloc.
        unsafe { libmimalloc_sys::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain(layout.align(), new_size) {
            // SAFETY: `ptr` came from mimalloc; the new block is aligned
            // enough (`plain`) and mimalloc copies the old contents.
            unsafe { libmimalloc_sys::mi_realloc(ptr.cast::<c_void>(), new_size).cast() }
        } else {
            // SAFETY: as above, with the alignment asked for.
            unsafe { libmimalloc_sys::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size and alignment around the boundary between the plain and
    /// the aligned calls gets a block aligned as asked, whose bytes hold
    /// what is written to them through growing and shrinking reallocations
    /// (zeroed where asked).
    #[test]
    fn blocks_are_aligned_and_keep_their_contents() {
        let a = Mimalloc;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1000, 5000, 70_000] {
                let layout = Layout::from_size_align(size, align).expect("a valid layout");
                // SAFETY: a nonzero size; each block is written within its
                // size, reallocated with the layout it has, freed once.
                unsafe {
                    let z = a.alloc_zeroed(layout);
                    assert!(!z.is_null() && z as usize % align == 0, "zeroed {size} bytes aligned {align}");
                    assert!((0..size).all(|i| *z.add(i) == 0), "zeroed {size} bytes aligned {align}");
                    a.dealloc(z, layout);
                    let p = a.alloc(layout);
                    assert!(!p.is_null() && p as usize % align == 0, "{size} bytes aligned {align}");
                    (0..size).for_each(|i| *p.add(i) = i as u8);
                    let mut p = p;
                    let mut old = layout;
                    for new in [size * 3, size.div_ceil(2), size + 1] {
                        p = a.realloc(p, old, new);
                        assert!(!p.is_null() && p as usize % align == 0, "{size} -> {new} bytes aligned {align}");
                        let kept = old.size().min(new);
                        assert!((0..kept).all(|i| *p.add(i) == i as u8), "{size} -> {new} bytes aligned {align}");
                        (0..new).for_each(|i| *p.add(i) = i as u8);
                        old = Layout::from_size_align(new, align).expect("a valid layout");
                    }
                    a.dealloc(p, old);
                }
            }
        }
    }
}
