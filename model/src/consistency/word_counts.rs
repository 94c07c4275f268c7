//! A memo of counts keyed by non-zero words, for counting a causal
//! history's read points ([`super::causal`]): open addressing in a fixed
//! table on the stack, with a map for what does not fit.
//!
//! Drawing a causal step counts the read points of every session through
//! a few dozen candidate sets (about ten distinct ones a draw on `cluster`,
//! at most a few hundred). A `hashbrown` map made for each draw was 9% of
//! a causal simulation step's instructions: its allocation and clearing,
//! and hashing each key through the map's hasher.

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
    /// 0: an empty slot (0 is never a key).
    keys: [u64; SLOTS],
    counts: [u64; SLOTS],
    len: usize,
    /// Keys past [`LIMIT`]; empty (no allocation) until then.
    overflow: HashMap<u64, u64>,
}

impl WordCounts {
    /// An empty memo.
    pub(super) fn new() -> Self {
        WordCounts { keys: [0; SLOTS], counts: [0; SLOTS], len: 0, overflow: HashMap::new() }
    }

    /// The slot of `key`: where it is, or the empty slot where it would go.
    fn slot(&self, key: u64) -> usize {
        // Fibonacci hashing: the top byte of the product.
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize;
        while self.keys[i] != key && self.keys[i] != 0 {
            i = (i + 1) % SLOTS;
        }
        i
    }

    /// The count remembered for `key` (non-zero), if any.
    pub(super) fn get(&self, key: u64) -> Option<u64> {
        debug_assert!(key != 0);
        let i = self.slot(key);
        if self.keys[i] == key {
            return Some(self.counts[i]);
        }
        if self.overflow.is_empty() {
            return None;
        }
        self.overflow.get(&key).copied()
    }

    /// Remembers `count` for `key` (non-zero, not yet remembered).
    pub(super) fn insert(&mut self, key: u64, count: u64) {
        debug_assert!(key != 0 && self.get(key).is_none());
        if self.len < LIMIT {
            let i = self.slot(key);
            self.keys[i] = key;
            self.counts[i] = count;
            self.len += 1;
        } else {
            self.overflow.insert(key, count);
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
    }
}
