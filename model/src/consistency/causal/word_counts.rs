//! A memo of counts keyed by non-zero words, for counting a causal
//! history's read points ([`super`]): open addressing in a fixed
//! table that each thread reuses, with a map for what does not fit.
//!
//! Drawing a causal step counts the read points of every session through
//! a few dozen candidate sets (about ten distinct ones a draw on `cluster`,
//! at most a few hundred). A `hashbrown` map made for each draw was 9% of
//! a causal simulation step's instructions: its allocation and clearing,
//! and hashing each key through the map's hasher. The fixed table held
//! inline cost 2.4% of the step in copies and clearing of its 4 KiB.

use hashbrown::HashMap;

/// Slots in the fixed table. Filled to at most [`LIMIT`], so that every
/// probe ends at an empty slot soon.
const SLOTS: usize = 256;

/// Entries the fixed table takes before new keys go to the map.
const LIMIT: usize = SLOTS * 3 / 4;

/// Counts by non-zero key. A key, once inserted, keeps its count: nothing
/// is evicted, so a memoised recursion stays polynomial in the keys it
/// meets, whatever they are.
pub(super) struct WordCounts {
    /// `None` only once dropped (given back to the thread).
    slots: Option<Box<Slots>>,
    len: usize,
    /// Keys past [`LIMIT`]; empty (no allocation) until then.
    overflow: HashMap<u64, u64>,
}

/// The fixed table.
struct Slots {
    /// 0: an empty slot (0 is never a key).
    keys: [u64; SLOTS],
    counts: [u64; SLOTS],
}

thread_local! {
    /// The fixed table of this thread's last memo, empty, for the next.
    static SPARE: std::cell::Cell<Option<Box<Slots>>> = const { std::cell::Cell::new(None) };
}

impl WordCounts {
    /// An empty memo (in this thread's spare table, if it has one).
    pub(super) fn new() -> Self {
        let slots = SPARE.take().unwrap_or_else(|| Box::new(Slots { keys: [0; SLOTS], counts: [0; SLOTS] }));
        WordCounts { slots: Some(slots), len: 0, overflow: HashMap::new() }
    }

    /// The slot of `key` in `slots`: where it is, or the empty slot where
    /// it would go.
    fn slot(slots: &Slots, key: u64) -> usize {
        // Fibonacci hashing: the top byte of the product.
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize;
        while slots.keys[i] != key && slots.keys[i] != 0 {
            i = (i + 1) % SLOTS;
        }
        i
    }

    /// The count remembered for `key` (non-zero), if any.
    pub(super) fn get(&self, key: u64) -> Option<u64> {
        debug_assert!(key != 0);
        if let Some(slots) = &self.slots {
            let i = Self::slot(slots, key);
            if slots.keys[i] == key {
                return Some(slots.counts[i]);
            }
        }
        if self.overflow.is_empty() {
            return None;
        }
        self.overflow.get(&key).copied()
    }

    /// Remembers `count` for `key` (non-zero, not yet remembered).
    pub(super) fn insert(&mut self, key: u64, count: u64) {
        debug_assert!(key != 0 && self.get(key).is_none());
        match &mut self.slots {
            Some(slots) if self.len < LIMIT => {
                let i = Self::slot(slots, key);
                slots.keys[i] = key;
                slots.counts[i] = count;
                self.len += 1;
            }
            _ => {
                self.overflow.insert(key, count);
            }
        }
    }
}

impl Drop for WordCounts {
    /// Empties the fixed table and keeps it as this thread's spare.
    fn drop(&mut self) {
        if let Some(mut slots) = self.slots.take() {
            if self.len > 0 {
                slots.keys.fill(0);
            }
            SPARE.set(Some(slots));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_every_key_past_the_fixed_table() {
        let mut memo = WordCounts::new();
        // Keys that collide in the fixed table's top byte, then many more
        // than it holds.
        let keys: Vec<u64> = (1..=40u64).map(|k| k << 8).chain((1..=1000u64).map(|k| k * 7919)).collect();
        for (n, &k) in keys.iter().enumerate() {
            assert_eq!(memo.get(k), None, "key {k} before its insert");
            memo.insert(k, n as u64 * 3);
        }
        for (n, &k) in keys.iter().enumerate() {
            assert_eq!(memo.get(k), Some(n as u64 * 3), "key {k}");
        }
        assert_eq!(memo.get(5), None);
        assert!(memo.len == LIMIT && memo.overflow.len() == keys.len() - LIMIT);
        drop(memo);
        // The next memo on this thread reuses the table, emptied.
        let mut again = WordCounts::new();
        for &k in &keys {
            assert_eq!(again.get(k), None, "key {k} of the dropped memo");
        }
        again.insert(keys[3], 9);
        assert_eq!(again.get(keys[3]), Some(9));
    }
}
