//! Zero-initialised storage for the visited set's slots.
//!
//! A table of millions of slots must not be written once just to zero it, and
//! its random access pattern touches every page at once, so 4 KiB pages cost
//! one page fault per 256 slots (8,364 faults, about a fifth of the time, for
//! puzzle8's 8 MiB table). On Linux, tables of 2 MiB and more are therefore an
//! anonymous mapping (zero pages supplied lazily by the kernel) advised to use
//! transparent huge pages; smaller tables and other systems use a boxed slice
//! written with zeros. Under Miri (`scripts/miri`) the mapping is made,
//! read, written and unmapped as on Linux, without the huge-page advice,
//! which Miri does not implement.

use std::ops::Deref;

/// Types for which the all-zero bit pattern is a valid value.
///
/// # Safety
/// Implement only for types whose every field is an integer or atomic integer.
pub(crate) unsafe trait Zeroable {}

// SAFETY: a slot is one `AtomicU64` (repr(transparent)); all-zero bytes are an
// atomic holding 0, which is a valid value.
unsafe impl Zeroable for crate::visited::Slot {}

/// A fixed-length, zero-initialised array of `T`.
pub(crate) struct Slots<T: Zeroable> {
    inner: Inner<T>,
}

enum Inner<T> {
    Boxed(Box<[T]>),
    #[cfg(target_os = "linux")]
    Mapped(Mapping<T>),
}

/// Below this size a boxed slice is cheaper than a mapping.
#[cfg(target_os = "linux")]
const MAP_FROM_BYTES: usize = 2 << 20;

impl<T: Zeroable + Default> Slots<T> {
    /// `len` zeroed elements.
    pub fn zeroed(len: usize) -> Self {
        #[cfg(target_os = "linux")]
        if len.saturating_mul(std::mem::size_of::<T>()) >= MAP_FROM_BYTES {
            if let Some(m) = Mapping::new(len) {
                return Slots { inner: Inner::Mapped(m) };
            }
        }
        Slots { inner: Inner::Boxed((0..len).map(|_| T::default()).collect()) }
    }
}

impl<T: Zeroable> Deref for Slots<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.inner {
            Inner::Boxed(b) => b,
            #[cfg(target_os = "linux")]
            Inner::Mapped(m) => m.as_slice(),
        }
    }
}

/// An anonymous private mapping holding `len` values of `T`.
#[cfg(target_os = "linux")]
struct Mapping<T> {
    ptr: std::ptr::NonNull<T>,
    len: usize,
    bytes: usize,
}

#[cfg(target_os = "linux")]
impl<T: Zeroable> Mapping<T> {
    fn new(len: usize) -> Option<Self> {
        let bytes = len.checked_mul(std::mem::size_of::<T>())?;
        if bytes == 0 || std::mem::align_of::<T>() > 4096 {
            return None;
        }
        // SAFETY: an anonymous private mapping with no address hint has no
        // preconditions; failure is reported as MAP_FAILED and handled.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: `p..p+bytes` is the mapping just created. The advice is a
        // hint: failure leaves ordinary pages, which is fine. (Miri has no
        // `madvise`; it runs everything else here.)
        #[cfg(not(miri))]
        unsafe {
            libc::madvise(p, bytes, libc::MADV_HUGEPAGE);
        }
        let ptr = std::ptr::NonNull::new(p.cast::<T>())?;
        Some(Mapping { ptr, len, bytes })
    }

    fn as_slice(&self) -> &[T] {
        // SAFETY: the mapping is page-aligned (so aligned for T, checked in
        // `new`), `len * size_of::<T>()` bytes long, zero-filled by the kernel
        // (a valid T by `Zeroable`), and lives as long as `self`. Shared access
        // only: T's mutation goes through atomics.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

#[cfg(target_os = "linux")]
impl<T> Drop for Mapping<T> {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region mapped in `new`, once; no slice
        // borrowed from it outlives `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.bytes);
        }
    }
}

// SAFETY: the mapping is owned memory holding `T`s, like a `Box<[T]>`: it can
// move to and be shared between threads exactly when `T` can.
#[cfg(target_os = "linux")]
unsafe impl<T: Send> Send for Mapping<T> {}
// SAFETY: as above; shared access hands out `&[T]` only.
#[cfg(target_os = "linux")]
unsafe impl<T: Sync> Sync for Mapping<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Default)]
    struct Word(AtomicU64);
    // SAFETY: one `AtomicU64`; all-zero bytes are an atomic holding 0.
    unsafe impl Zeroable for Word {}

    /// Every unsafe block of this file, small enough for `scripts/miri`:
    /// a mapping is made zeroed, written and read from two threads, and
    /// unmapped; a boxed table reads the same.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_mapping_is_zeroed_shared_and_unmapped() {
        let m = Mapping::<Word>::new(1024).expect("an anonymous mapping");
        let words = m.as_slice();
        assert_eq!(words.len(), 1024);
        assert!(words.iter().all(|w| w.0.load(Ordering::Relaxed) == 0));
        std::thread::scope(|s| {
            for t in 0..2u64 {
                s.spawn(move || (0..512).for_each(|k| words[(t * 512 + k) as usize].0.store(k + 1, Ordering::Relaxed)));
            }
        });
        assert_eq!(words.iter().map(|w| w.0.load(Ordering::Relaxed)).sum::<u64>(), 2 * (512 * 513 / 2));
        drop(m);
        assert!(Mapping::<Word>::new(0).is_none(), "an empty table is boxed, not mapped");
    }

    #[test]
    fn a_small_table_is_boxed_and_zeroed() {
        let t = Slots::<Word>::zeroed(100);
        assert!(matches!(t.inner, Inner::Boxed(_)));
        assert!(t.iter().all(|w| w.0.load(Ordering::Relaxed) == 0));
    }
}
