//! Zero-initialised storage for the visited set's slots.
//!
//! A table of millions of slots must not be written once just to zero it, and
//! its random access pattern touches every page at once, so 4 KiB pages cost
//! one page fault per 256 slots (8,364 faults, about a fifth of the time, for
//! puzzle8's 8 MiB table). On Linux, tables of 2 MiB and more are therefore an
//! anonymous mapping (zero pages supplied lazily by the kernel) advised to use
//! transparent huge pages; smaller tables, other systems and Miri use a boxed
//! slice written with zeros.

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
    #[cfg(all(target_os = "linux", not(miri)))]
    Mapped(Mapping<T>),
}

/// Below this size a boxed slice is cheaper than a mapping.
#[cfg(all(target_os = "linux", not(miri)))]
const MAP_FROM_BYTES: usize = 2 << 20;

impl<T: Zeroable + Default> Slots<T> {
    /// `len` zeroed elements.
    pub fn zeroed(len: usize) -> Self {
        #[cfg(all(target_os = "linux", not(miri)))]
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
            #[cfg(all(target_os = "linux", not(miri)))]
            Inner::Mapped(m) => m.as_slice(),
        }
    }
}

/// An anonymous private mapping holding `len` values of `T`.
#[cfg(all(target_os = "linux", not(miri)))]
struct Mapping<T> {
    ptr: std::ptr::NonNull<T>,
    len: usize,
    bytes: usize,
}

#[cfg(all(target_os = "linux", not(miri)))]
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
        // hint: failure leaves ordinary pages, which is fine.
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

#[cfg(all(target_os = "linux", not(miri)))]
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
#[cfg(all(target_os = "linux", not(miri)))]
unsafe impl<T: Send> Send for Mapping<T> {}
// SAFETY: as above; shared access hands out `&[T]` only.
#[cfg(all(target_os = "linux", not(miri)))]
unsafe impl<T: Sync> Sync for Mapping<T> {}
