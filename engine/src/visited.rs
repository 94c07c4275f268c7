//! The visited set: a lock-free open-addressing table of fingerprints.
//!
//! Each slot is one 8-byte fingerprint. Parent links, from which BFS rebuilds
//! shortest traces, are not kept here but appended to a
//! [`ParentLog`](crate::parent_log::ParentLog) on disk, so the memory a run
//! holds per state is the slot alone: tables grow to twice the states they
//! hold and grow again when 70% full, so a table holds at most 16 bytes per
//! state (11.4 at the fullest) once past its 1 MiB minimum. Insertion is one
//! compare-and-swap on an empty slot; no lock and no shared counter is touched
//! per state. Slots are found by multiply-shift ("fastrange") on the
//! fingerprint's high bits and linear probing, so the capacity need not be a
//! power of two and can match a memory budget exactly; and since a slot's home
//! grows with the fingerprint, a rebuild reads the old table and writes the
//! new one in nearly sequential order.
//!
//! The table does not grow by itself: the checkers count insertions per chunk
//! of work and rebuild it larger ([`VisitedSet::rehash_range`]) at a point where
//! no thread inserts, which keeps the insert path free of any coordination.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::fingerprint::Fingerprint;

/// Bytes one slot takes.
pub const SLOT_BYTES: usize = 8;

/// Smallest table allocated (slots): 1 MiB.
pub(crate) const MIN_SLOTS: usize = 1 << 17;
/// A table is rebuilt larger when it passes this fraction full.
pub(crate) const GROW_AT: f64 = 0.7;
/// With no room left in the budget to grow, a run stops at this fraction full.
pub(crate) const FULL_AT: f64 = 0.9;

/// The capacity a table holding `unique` states is rebuilt to: twice that
/// (so at most 16 bytes per state), within `budget_slots`.
pub(crate) fn grown_capacity(unique: u64, budget_slots: usize) -> usize {
    (unique.saturating_mul(2).min(usize::MAX as u64) as usize).max(MIN_SLOTS).min(budget_slots)
}

/// The unique-state count at which a table of `cap` slots asks to be rebuilt
/// (or, at the budget, to stop).
pub(crate) fn mark_for(cap: usize, budget_slots: usize) -> u64 {
    let at = if cap < budget_slots { GROW_AT } else { FULL_AT };
    ((cap as f64 * at) as u64).max(1)
}

#[repr(transparent)]
#[derive(Default)]
pub(crate) struct Slot {
    key: AtomicU64,
}

/// Outcome of [`VisitedSet::insert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    /// The fingerprint was absent and is now present.
    New,
    /// The fingerprint was already present; nothing changed.
    Present,
    /// Every slot is taken: the fingerprint could not be stored.
    Full,
}

/// A fixed-capacity, lock-free set of non-zero fingerprints. Safe to share
/// between threads (`&self` methods only).
pub struct VisitedSet {
    slots: crate::slots::Slots<Slot>,
}

impl VisitedSet {
    /// A table with room for `capacity` fingerprints (at least 1).
    /// Memory: `capacity * 8` bytes. Large tables are mapped lazily from the
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
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 target has; a
        // prefetch never faults and has no effect on memory contents, and the
        // pointer is to a live slot of `self` anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(slot.cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Inserts `fp` (which must be non-zero).
    ///
    /// Exactly one of several concurrent inserts of the same fingerprint
    /// returns [`Insert::New`].
    #[inline]
    pub fn insert(&self, fp: Fingerprint) -> Insert {
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
                    Ok(_) => return Insert::New,
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

    /// Whether `fp` is present.
    pub fn contains(&self, fp: Fingerprint) -> bool {
        let n = self.slots.len();
        let mut i = self.home(fp);
        for _ in 0..n {
            let key = self.slots[i].key.load(Ordering::Acquire);
            if key == fp {
                return true;
            }
            if key == 0 {
                return false;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        false
    }

    /// Copies the entries of slots `range` of `self` into `into`; several threads
    /// may copy disjoint ranges at once. Returns `false` if `into` filled up.
    pub fn rehash_range(&self, range: std::ops::Range<usize>, into: &VisitedSet) -> bool {
        for slot in &self.slots[range] {
            let key = slot.key.load(Ordering::Acquire);
            if key != 0 && into.insert(key) == Insert::Full {
                return false;
            }
        }
        true
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
    fn insert_then_present() {
        let t = VisitedSet::with_capacity(8);
        assert_eq!(t.insert(42), Insert::New);
        assert_eq!(t.insert(42), Insert::Present);
        assert!(t.contains(42));
        assert_eq!(t.insert(43), Insert::New);
        assert!(t.contains(43));
        assert!(!t.contains(44));
        assert_eq!(t.count(), 2);
    }

    #[test]
    fn full_table_says_full() {
        let t = VisitedSet::with_capacity(3);
        for fp in 1..=3 {
            assert_eq!(t.insert(fp * 0x1234_5678_9abc), Insert::New);
        }
        assert_eq!(t.insert(99), Insert::Full);
        assert!(t.contains(0x1234_5678_9abc));
        assert!(!t.contains(99));
    }

    #[test]
    fn probing_wraps_around_the_end() {
        let t = VisitedSet::with_capacity(4);
        // Fingerprints whose home is the last slot.
        let a = u64::MAX;
        let b = u64::MAX - 1;
        assert_eq!(t.insert(a), Insert::New);
        assert_eq!(t.insert(b), Insert::New);
        assert!(t.contains(b) && t.contains(a));
        assert!(!t.contains(u64::MAX - 2));
    }

    #[test]
    fn concurrent_inserts_count_each_key_once() {
        // Fewer under Miri, which runs the same interleavings far slower.
        const PER_THREAD: u64 = if cfg!(miri) { 1_000 } else { 20_000 };
        let t = Arc::new(VisitedSet::with_capacity(if cfg!(miri) { 1 << 12 } else { 1 << 16 }));
        let news: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let t = &t;
                    s.spawn(move || {
                        (1..=PER_THREAD)
                            .filter(|k| {
                                let fp = crate::fingerprint::nonzero(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                                t.insert(fp) == Insert::New
                            })
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(news, PER_THREAD as usize);
        assert_eq!(t.count(), PER_THREAD as usize);
    }

    #[test]
    #[cfg_attr(miri, ignore = "half a million slots: minutes under Miri; slots.rs maps a small table instead")]
    fn a_large_mapped_table_works_and_is_zeroed() {
        // 4 MiB: above the size at which the table is mapped in huge pages.
        let t = VisitedSet::with_capacity(1 << 19);
        assert_eq!(t.count(), 0);
        for k in 1..=10_000u64 {
            let fp = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            assert_eq!(t.insert(fp), Insert::New);
            t.prefetch(fp);
        }
        assert_eq!(t.count(), 10_000);
        assert!(t.contains(0x9E37_79B9_7F4A_7C15 | 1));
        assert_eq!(t.bytes(), 4 << 20);
    }

    #[test]
    fn rehash_keeps_every_entry() {
        let small = VisitedSet::with_capacity(100);
        for k in 1..=60u64 {
            small.insert(k.wrapping_mul(0xDEAD_BEEF_1234_5677));
        }
        let big = VisitedSet::with_capacity(1000);
        assert!(small.rehash_range(0..50, &big));
        assert!(small.rehash_range(50..100, &big));
        assert_eq!(big.count(), 60);
        for k in 1..=60u64 {
            assert!(big.contains(k.wrapping_mul(0xDEAD_BEEF_1234_5677)));
        }
    }

    #[test]
    fn grown_tables_hold_at_most_16_bytes_per_state() {
        for unique in [1u64, 1000, 1 << 17, 3_000_000, 123_456_789] {
            let cap = grown_capacity(unique, usize::MAX);
            assert!(cap >= MIN_SLOTS);
            assert!(cap as u64 > unique, "room to insert");
            if cap > MIN_SLOTS {
                assert!(cap * SLOT_BYTES <= 16 * unique as usize);
            }
            // Grown before the next rebuild is asked for.
            assert!(mark_for(cap, usize::MAX) > unique);
        }
        assert_eq!(grown_capacity(1 << 30, 5_000_000), 5_000_000);
        assert_eq!(mark_for(100, 100), 90);
    }
}
