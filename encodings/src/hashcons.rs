//! Hash-consing: one copy of each distinct value among many holders.
//!
//! A [`HashCons`] remembers values by their hash; [`HashCons::share`] hands
//! a holder the copy met first when its own value is equal to it, so the
//! holder's copy can be freed. Meant for values that are cheap to clone
//! (a reference-counted pointer): a breadth-first search's frontier, where
//! states reached along different paths often hold equal parts in separate
//! allocations, keeps one of each.
//!
//! The table is split into 256 shards, each behind its own lock on its own
//! cache line, picked by the hash: threads sharing values at once rarely
//! wait for each other. A value shared takes one lock (uncontended, two
//! atomic operations), as the visited set takes one compare-and-swap per
//! new state: both touch memory other threads touch, which on many cores
//! costs a cache-line transfer per call, not a wait.
//! It holds every value it was given until [`HashCons::clear`]; a caller
//! clears it when the values it met have all been given to their holders
//! (say, between two BFS levels).

use std::sync::Mutex;

use hashbrown::HashTable;

/// Shards of a table (a power of two).
const SHARDS: usize = 256;

/// One shard: values with their hashes, alone on its cache line(s) so that
/// threads locking neighbouring shards do not slow each other down.
#[repr(align(64))]
struct Shard<T>(Mutex<HashTable<(u64, T)>>);

/// A table of distinct values of type `T`, shared between threads.
pub struct HashCons<T> {
    shards: Box<[Shard<T>]>,
}

impl<T> Default for HashCons<T> {
    fn default() -> Self {
        HashCons { shards: (0..SHARDS).map(|_| Shard(Mutex::new(HashTable::new()))).collect() }
    }
}

impl<T: Eq + Clone> HashCons<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// If the table holds a value equal to `value` (`hash` being the
    /// caller's hash of it, the same for equal values), replaces `value`
    /// by a clone of it and returns true; otherwise remembers a clone of
    /// `value` and returns false. `value` stays equal to what it was.
    pub fn share(&self, hash: u64, value: &mut T) -> bool {
        let mut table = self.shard(hash);
        if let Some((_, met)) = table.find(hash, |(h, v)| *h == hash && v == value) {
            *value = met.clone();
            return true;
        }
        table.insert_unique(hash, (hash, value.clone()), |(h, _)| *h);
        false
    }

    /// How many distinct values the table holds.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    /// Whether the table holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every value (dropping the table's clones).
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            // Dropped outside the lock: freeing values can take a while.
            let old = std::mem::take(&mut *shard.0.lock().unwrap_or_else(|e| e.into_inner()));
            drop(old);
        }
    }

    /// The shard of values with this hash, locked. A shard whose lock a
    /// panicking thread held is used as it is (its table is never left
    /// half-changed: `share` changes it in one call).
    fn shard(&self, hash: u64) -> std::sync::MutexGuard<'_, HashTable<(u64, T)>> {
        // Bits the tables' own probing uses least (the low bits pick a
        // bucket, the top seven tag it).
        let i = (hash >> 32) as usize & (SHARDS - 1);
        self.shards[i].0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn equal_values_come_back_as_the_first_copy() {
        let table = HashCons::new();
        let mut a = Arc::new(String::from("pod-a"));
        assert!(!table.share(1, &mut a));
        let mut b = Arc::new(String::from("pod-a"));
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(table.share(1, &mut b));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn different_values_with_one_hash_stay_apart() {
        let table = HashCons::new();
        let mut a = Arc::new(1u32);
        let mut b = Arc::new(2u32);
        assert!(!table.share(7, &mut a));
        assert!(!table.share(7, &mut b));
        assert_eq!((*a, *b), (1, 2));
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn clearing_drops_the_table_copies() {
        let table = HashCons::new();
        let mut a = Arc::new(5u64);
        table.share(3, &mut a);
        assert_eq!(Arc::strong_count(&a), 2);
        table.clear();
        assert!(table.is_empty());
        assert_eq!(Arc::strong_count(&a), 1);
        let mut b = Arc::new(5u64);
        assert!(!table.share(3, &mut b), "forgotten values are not handed out");
    }

    #[test]
    fn threads_sharing_at_once_end_with_one_copy_each() {
        let table = HashCons::new();
        let values: Vec<Vec<Arc<u64>>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..1000u64)
                            .map(|v| {
                                let mut a = Arc::new(v % 100);
                                table.share(xxhash_rust::xxh3::xxh3_64(&(v % 100).to_le_bytes()), &mut a);
                                a
                            })
                            .collect()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("no panic")).collect()
        });
        assert_eq!(table.len(), 100);
        let first = &values[0];
        for v in values.iter().flatten() {
            assert!(Arc::ptr_eq(v, &first[(**v) as usize]), "one allocation per distinct value");
        }
    }
}
