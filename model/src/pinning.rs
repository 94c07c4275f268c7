//! Handles to shared parts of states that stop touching the reference count
//! once a part is widely shared.
//!
//! A state shares most of its parts with other states: object lists, packed
//! local states. Copying a handle adds one to the part's count and dropping
//! it takes one off: an atomic write to the part's count. A list that most
//! states share (the nodes, say) thus has its count written by every core on
//! most transitions, and on many cores that cache line moving between cores
//! limits the whole search (`scripts/refcounts` measures these writes: on
//! `cluster`, 3.5 count changes per transition found the count at 65,536 or
//! more before this module).
//!
//! A [`Pinning`] handle pins its part once the part's count reaches
//! [`PIN_AT`]: it adds one count that is never taken off (the part then lives
//! until the process ends) and sets the part's flag. From then on, handles
//! to it copy and drop without touching the count: the flag, read by every
//! core and written once, stays in every core's cache.
//!
//! Why this is sound: a handle that saw the flag unset counts as usual, and
//! its drop takes off only the one it added (or, if it sees the flag set,
//! nothing); a handle that saw the flag set was made after the pinning count
//! was added, which nothing takes off (and the pinning handle's own count,
//! held while it pins, is not taken off either: its drop, after the flag's
//! store on the same thread, sees the flag). So the count never returns to
//! 0 once an uncounted handle exists, and the part is never freed under one. Which
//! ordering a thread sees the flag in does not matter: every count taken
//! off was added by the same handle. The part is never mutated through a
//! handle once pinned ([`Pinning::get_mut`] refuses), and a pinned part's
//! count stays at 2 or more, so `get_mut`-style uniqueness checks on the
//! inner handle fail too.
//!
//! What it costs: one relaxed load of the flag per copy and per drop, a
//! load of the count after each counted copy (1.6% more instructions on a
//! synchronous BFS run of `cluster`), and parts that stay alive. A part is
//! pinned only when [`PIN_AT`] handles hold it at once, so the parts pinned
//! over a run are at most its copies divided by [`PIN_AT`] (a bound far
//! above what runs pin, 6 to 114 in the runs measured: [`pinned`] counts
//! them).
//! Where it is incomplete: a part pinned late still has handles that count
//! (those made before), and their drops skip the count once they see the
//! flag, so the count of a pinned part means nothing.

use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use triomphe::{Arc, ThinArc};

/// The count at which a copy pins its part. Parts held this widely are the
/// ones whose counts every core writes; the bound on parts pinned per run
/// is the run's copies divided by this.
pub const PIN_AT: usize = 4096;

/// Parts pinned since the process started (a part pinned by two threads at
/// once counts twice).
pub fn pinned() -> u64 {
    PINNED.load(Ordering::Relaxed)
}

static PINNED: AtomicU64 = AtomicU64::new(0);

/// A shared part's handle that [`Pinning`] can pin: a reference-counted
/// pointer whose pointee holds a pin flag.
pub trait Shared: Clone {
    /// The pointee's pin flag (set once, never cleared).
    fn pin_flag(&self) -> &AtomicBool;
    /// The pointee's reference count.
    fn count(&self) -> usize;
}

impl<T: AsRef<AtomicBool>> Shared for Arc<T> {
    fn pin_flag(&self) -> &AtomicBool {
        (**self).as_ref()
    }
    fn count(&self) -> usize {
        Arc::count(self)
    }
}

impl<H: AsRef<AtomicBool>, T> Shared for ThinArc<H, T> {
    fn pin_flag(&self) -> &AtomicBool {
        self.header.header.as_ref()
    }
    fn count(&self) -> usize {
        ThinArc::strong_count(self)
    }
}

/// A handle to a shared part that stops counting once the part is pinned
/// (see the module). Dereferences to the inner handle.
pub struct Pinning<P: Shared>(ManuallyDrop<P>);

impl<P: Shared> Pinning<P> {
    /// Wraps `p` (counted as it is).
    pub fn new(p: P) -> Self {
        Pinning(ManuallyDrop::new(p))
    }

    /// Whether the part is pinned.
    #[inline]
    pub fn is_pinned(&self) -> bool {
        self.0.pin_flag().load(Ordering::Relaxed)
    }

    /// The inner handle, to change the part in place (the inner handle's
    /// own uniqueness checks still apply); `None` once the part is pinned.
    pub fn get_mut(&mut self) -> Option<&mut P> {
        if self.is_pinned() {
            return None;
        }
        Some(&mut self.0)
    }

    /// Pins the part `p` points to: one count added that nothing takes
    /// off, then the flag.
    #[cold]
    fn pin(p: &P) {
        std::mem::forget(p.clone());
        p.pin_flag().store(true, Ordering::Release);
        PINNED.fetch_add(1, Ordering::Relaxed);
    }
}

impl<P: Shared> Clone for Pinning<P> {
    #[inline]
    fn clone(&self) -> Self {
        if self.is_pinned() {
            // SAFETY: the part is pinned, so it holds a count nothing takes
            // off and lives until the process ends; the copy is never
            // dropped as a `P` (it is in a `ManuallyDrop`, and `drop` below
            // leaves pinned parts alone), so the count is never decremented
            // for it.
            return Pinning(ManuallyDrop::new(unsafe { std::ptr::read(&*self.0) }));
        }
        let p = P::clone(&self.0);
        if p.count() >= PIN_AT {
            Self::pin(&p);
        }
        Pinning(ManuallyDrop::new(p))
    }
}

impl<P: Shared> Drop for Pinning<P> {
    #[inline]
    fn drop(&mut self) {
        if !self.is_pinned() {
            // SAFETY: dropped once, here, and `self.0` is not used after.
            unsafe { ManuallyDrop::drop(&mut self.0) }
        }
    }
}

impl<P: Shared> std::ops::Deref for Pinning<P> {
    type Target = P;
    #[inline]
    fn deref(&self) -> &P {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Part {
        pinned: AtomicBool,
        value: u64,
    }

    impl AsRef<AtomicBool> for Part {
        fn as_ref(&self) -> &AtomicBool {
            &self.pinned
        }
    }

    impl Drop for Part {
        fn drop(&mut self) {
            FREED.fetch_add(1, Ordering::Relaxed);
        }
    }

    static FREED: AtomicU64 = AtomicU64::new(0);

    fn part(value: u64) -> Pinning<Arc<Part>> {
        Pinning::new(Arc::new(Part { pinned: AtomicBool::new(false), value }))
    }

    /// Below the threshold a part is counted and freed with its last
    /// handle; at it, it is pinned, copies no longer count, it refuses
    /// `get_mut` and is never freed. On two threads copying and dropping
    /// at once, the part stays readable throughout.
    #[test]
    fn parts_count_until_pinned_then_live_on_uncounted() {
        let freed = FREED.load(Ordering::Relaxed);
        let mut a = part(1);
        let b = a.clone();
        assert_eq!((a.count(), a.is_pinned()), (2, false));
        assert!(a.get_mut().is_some(), "not pinned: the inner handle is lent");
        drop(b);
        drop(a);
        assert_eq!(FREED.load(Ordering::Relaxed), freed + 1, "counted parts are freed");

        let p = part(7);
        let pins = pinned();
        let many: Vec<_> = (1..PIN_AT).map(|_| p.clone()).collect();
        assert!(p.is_pinned() && pinned() > pins, "pinned once PIN_AT handles hold it");
        let count = p.count();
        let copies: Vec<_> = (0..1000).map(|_| p.clone()).collect();
        assert_eq!(p.count(), count, "copies of a pinned part do not count");
        drop(copies);
        assert_eq!(p.count(), count, "nor do their drops");
        let mut q = p.clone();
        assert!(q.get_mut().is_none(), "a pinned part is never lent for change");
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        let c = p.clone();
                        assert_eq!(c.value, 7);
                    }
                });
            }
        });
        drop(many);
        drop(q);
        drop(p);
        assert_eq!(FREED.load(Ordering::Relaxed), freed + 1, "a pinned part lives on");
    }
}
