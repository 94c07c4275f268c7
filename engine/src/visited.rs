//! The visited set: a lock-free open-addressing table of fingerprints with
//! parent links.
//!
//! Each slot is 16 bytes: the state's fingerprint and its parent's fingerprint
//! (0 for an initial state), from which shortest traces are rebuilt by
//! replaying the model. Insertion is one compare-and-swap on an empty slot; no
//! lock and no shared counter is touched per state. Slots are found by
//! multiply-shift ("fastrange") on the fingerprint's high bits and linear
//! probing, so the capacity need not be a power of two and can match a memory
//! budget exactly.
//!
//! The table does not grow by itself: the checkers count insertions per chunk
//! of work and rebuild it larger ([`VisitedSet::rehash_range`]) at a point where
//! no thread inserts, which keeps the insert path free of any coordination.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::fingerprint::Fingerprint;

/// Bytes one slot takes.
pub const SLOT_BYTES: usize = 16;

#[repr(C)]
#[derive(Default)]
pub(crate) struct Slot {
    key: AtomicU64,
    parent: AtomicU64,
}

/// Outcome of [`VisitedSet::insert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    /// The fingerprint was absent and is now present with the given parent.
    New,
    /// The fingerprint was already present; nothing changed.
    Present,
    /// Every slot is taken: the fingerprint could not be stored.
    Full,
}

/// A fixed-capacity, lock-free set of non-zero fingerprints, each with a parent
/// fingerprint. Safe to share between threads (`&self` methods only).
pub struct VisitedSet {
    slots: crate::slots::Slots<Slot>,
}

impl VisitedSet {
    /// A table with room for `capacity` fingerprints (at least 1).
    /// Memory: `capacity * 16` bytes. Large tables are mapped lazily from the
    /// kernel in huge pages where the system allows (module `slots`).
    pub fn with_capacity(capacity: usize) -> Self {
        VisitedSet { slots: crate::slots::Slots::zeroed(capacity.max(1)) }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Bytes the table occupies.
    pub fn bytes(&self) -> usize {
        self.slots.len() * SLOT_BYTES
    }

    #[inline]
    fn home(&self, fp: Fingerprint) -> usize {
        ((fp as u128 * self.slots.len() as u128) >> 64) as usize
    }

    /// Starts fetching the cache line where `fp` would live, so that a later
    /// [`VisitedSet::insert`] of it does not wait for memory. Inserting a batch
    /// of successors after prefetching them all overlaps their cache misses,
    /// which dominate the cost of a search (73% of puzzle8's time before).
    #[inline]
    pub fn prefetch(&self, fp: Fingerprint) {
        let slot: *const Slot = &self.slots[self.home(fp)];
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 target has; a
        // prefetch never faults and has no effect on memory contents, and the
        // pointer is to a live slot of `self` anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(slot.cast());
        }
        #[cfg(any(not(target_arch = "x86_64"), miri))]
        let _ = slot;
    }

    /// Inserts `fp` (which must be non-zero) with `parent` (0 for none).
    ///
    /// Exactly one of several concurrent inserts of the same fingerprint
    /// returns [`Insert::New`]. The parent written by that insert is visible to
    /// readers that synchronise with the inserting thread afterwards (the
    /// checkers read parents only after a barrier).
    #[inline]
    pub fn insert(&self, fp: Fingerprint, parent: Fingerprint) -> Insert {
        debug_assert_ne!(fp, 0, "fingerprint 0 is reserved for empty slots");
        let n = self.slots.len();
        let mut i = self.home(fp);
        for _ in 0..n {
            let slot = &self.slots[i];
            let key = slot.key.load(Ordering::Relaxed);
            if key == fp {
                return Insert::Present;
            }
            if key == 0 {
                match slot.key.compare_exchange(0, fp, Ordering::AcqRel, Ordering::Relaxed) {
                    Ok(_) => {
                        slot.parent.store(parent, Ordering::Relaxed);
                        return Insert::New;
                    }
                    Err(actual) if actual == fp => return Insert::Present,
                    Err(_) => {}
                }
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        Insert::Full
    }

    /// The parent stored with `fp`, or `None` if `fp` is absent.
    /// `Some(0)` means `fp` was inserted as an initial state.
    pub fn parent(&self, fp: Fingerprint) -> Option<Fingerprint> {
        let n = self.slots.len();
        let mut i = self.home(fp);
        for _ in 0..n {
            let slot = &self.slots[i];
            let key = slot.key.load(Ordering::Acquire);
            if key == fp {
                return Some(slot.parent.load(Ordering::Relaxed));
            }
            if key == 0 {
                return None;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        None
    }

    /// Whether `fp` is present.
    pub fn contains(&self, fp: Fingerprint) -> bool {
        self.parent(fp).is_some()
    }

    /// Copies the entries of slots `range` of `self` into `into`; several threads
    /// may copy disjoint ranges at once. Returns `false` if `into` filled up.
    pub fn rehash_range(&self, range: std::ops::Range<usize>, into: &VisitedSet) -> bool {
        for slot in &self.slots[range] {
            let key = slot.key.load(Ordering::Acquire);
            if key != 0 && into.insert(key, slot.parent.load(Ordering::Relaxed)) == Insert::Full {
                return false;
            }
        }
        true
    }

    /// Every entry as (fingerprint, parent), in slot order (a full scan; for
    /// checkpoints, when no thread inserts).
    pub fn entries(&self) -> impl Iterator<Item = (Fingerprint, Fingerprint)> + '_ {
        self.slots.iter().filter_map(|s| {
            let key = s.key.load(Ordering::Acquire);
            (key != 0).then(|| (key, s.parent.load(Ordering::Relaxed)))
        })
    }

    /// Counts the occupied slots (a full scan; for tests and reports).
    pub fn count(&self) -> usize {
        self.slots.iter().filter(|s| s.key.load(Ordering::Relaxed) != 0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn insert_then_present_then_parent() {
        let t = VisitedSet::with_capacity(8);
        assert_eq!(t.insert(42, 0), Insert::New);
        assert_eq!(t.insert(42, 7), Insert::Present);
        assert_eq!(t.parent(42), Some(0));
        assert_eq!(t.insert(43, 42), Insert::New);
        assert_eq!(t.parent(43), Some(42));
        assert_eq!(t.parent(44), None);
        assert_eq!(t.count(), 2);
    }

    #[test]
    fn full_table_says_full() {
        let t = VisitedSet::with_capacity(3);
        for fp in 1..=3 {
            assert_eq!(t.insert(fp * 0x1234_5678_9abc, 0), Insert::New);
        }
        assert_eq!(t.insert(99, 0), Insert::Full);
        assert!(t.contains(0x1234_5678_9abc));
        assert!(!t.contains(99));
    }

    #[test]
    fn probing_wraps_around_the_end() {
        let t = VisitedSet::with_capacity(4);
        // Fingerprints whose home is the last slot.
        let a = u64::MAX;
        let b = u64::MAX - 1;
        assert_eq!(t.insert(a, 0), Insert::New);
        assert_eq!(t.insert(b, a), Insert::New);
        assert_eq!(t.parent(b), Some(a));
    }

    #[test]
    fn concurrent_inserts_count_each_key_once() {
        let t = Arc::new(VisitedSet::with_capacity(1 << 16));
        let news: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let t = &t;
                    s.spawn(move || {
                        (1..=20_000u64)
                            .filter(|k| {
                                let fp = crate::fingerprint::nonzero(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                                t.insert(fp, *k) == Insert::New
                            })
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(news, 20_000);
        assert_eq!(t.count(), 20_000);
    }

    #[test]
    fn a_large_mapped_table_works_and_is_zeroed() {
        // 8 MiB: above the size at which the table is mapped in huge pages.
        let t = VisitedSet::with_capacity(1 << 19);
        assert_eq!(t.count(), 0);
        for k in 1..=10_000u64 {
            let fp = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            assert_eq!(t.insert(fp, k), Insert::New);
            t.prefetch(fp);
        }
        assert_eq!(t.count(), 10_000);
        assert_eq!(t.parent(0x9E37_79B9_7F4A_7C15 | 1), Some(1));
        assert_eq!(t.bytes(), 8 << 20);
    }

    #[test]
    fn rehash_keeps_every_entry() {
        let small = VisitedSet::with_capacity(100);
        for k in 1..=60u64 {
            small.insert(k.wrapping_mul(0xDEAD_BEEF_1234_5677), k);
        }
        let big = VisitedSet::with_capacity(1000);
        assert!(small.rehash_range(0..50, &big));
        assert!(small.rehash_range(50..100, &big));
        assert_eq!(big.count(), 60);
        for k in 1..=60u64 {
            assert_eq!(big.parent(k.wrapping_mul(0xDEAD_BEEF_1234_5677)), Some(k));
        }
    }
}
