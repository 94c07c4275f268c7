//! Hash-consing: one copy of each distinct value among many holders.
//!
//! A [`HashCons`] remembers values by their hash; [`HashCons::share`] hands
//! a holder the copy met first when its own value is equal to it, so the
//! holder's copy can be freed. Meant for values that are cheap to clone
//! (a reference-counted pointer): a breadth-first search's frontier, where
//! states reached along different paths often hold equal parts in separate
//! allocations, keeps one of each.
//!
//! The table is a lock-free concurrent hash table ([`papaya`]): looking a
//! value up and remembering a new one take no lock and touch no counter
//! shared by all threads (the entry count is split per CPU), so threads
//! sharing values at once do not wait for each other however many there
//! are; on many cores what they share is the cache lines of the slots
//! they probe, as with the visited set's compare-and-swap per new state.
//! It holds every value it was given until [`HashCons::clear`]; a caller
//! clears it when the values it met have all been given to their holders
//! (say, between two BFS levels). A cleared value's clone is dropped once
//! no thread still inside [`HashCons::share`] can read it (epoch-based
//! reclamation, [`seize`](https://docs.rs/seize)): most at once, the last
//! few dozen per thread a little later, all when the table is dropped.

use std::hash::{Hash, Hasher};

use papaya::{Equivalent, HashMap};

use crate::Carried;

/// A remembered value with its hash.
struct Keyed<T> {
    hash: u64,
    value: T,
}

impl<T> Hash for Keyed<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.hash);
    }
}

impl<T: Eq> PartialEq for Keyed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.value == other.value
    }
}

impl<T: Eq> Eq for Keyed<T> {}

/// A value looked up by reference (no clone unless it is new).
struct Probe<'a, T> {
    hash: u64,
    value: &'a T,
}

impl<T> Hash for Probe<'_, T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.hash);
    }
}

impl<T: Eq> Equivalent<Keyed<T>> for Probe<'_, T> {
    fn equivalent(&self, key: &Keyed<T>) -> bool {
        self.hash == key.hash && *self.value == key.value
    }
}

/// A table of distinct values of type `T`, shared between threads.
pub struct HashCons<T> {
    map: HashMap<Keyed<T>, (), Carried>,
}

impl<T> Default for HashCons<T> {
    fn default() -> Self {
        HashCons { map: HashMap::builder().hasher(Carried).resize_mode(papaya::ResizeMode::Blocking).build() }
    }
}

impl<T: Eq + Clone + Send + Sync> HashCons<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// If the table holds a value equal to `value` (`hash` being the
    /// caller's hash of it, the same for equal values), replaces `value`
    /// by a clone of it and returns true; otherwise remembers a clone of
    /// `value` and returns false. `value` stays equal to what it was.
    /// Of several threads sharing equal values at once, exactly one
    /// remembers its own; the others get its clone.
    pub fn share(&self, hash: u64, value: &mut T) -> bool {
        let map = self.map.pin();
        let met = |value: &T| map.get_key_value(&Probe { hash, value }).map(|(k, _)| k.value.clone());
        let found = match met(value) {
            Some(found) => Some(found),
            None if map.try_insert(Keyed { hash, value: value.clone() }, ()).is_ok() => None,
            // Another thread remembered an equal value since the lookup (or
            // a clear forgot it since, and ours is kept).
            None => met(value),
        };
        match found {
            Some(found) => {
                *value = found;
                true
            }
            None => false,
        }
    }

    /// How many distinct values the table holds.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table holds no value.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forgets every value (their clones are dropped as the module doc
    /// says). Safe while other threads share: a value shared during a
    /// clear may or may not be remembered.
    pub fn clear(&self) {
        self.map.pin().clear();
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
        let mut b = Arc::new(5u64);
        assert!(!table.share(3, &mut b), "forgotten values are not handed out");
        assert!(!Arc::ptr_eq(&a, &b));
        drop(table);
        assert_eq!(Arc::strong_count(&a), 1, "every clone the table held is dropped");
        assert_eq!(Arc::strong_count(&b), 1);
    }

    #[test]
    fn clearing_frees_the_copies_without_waiting_for_the_drop() {
        let table = HashCons::new();
        let values: Vec<Arc<u64>> = (0..10_000u64)
            .map(|v| {
                let mut a = Arc::new(v);
                table.share(xxhash_rust::xxh3::xxh3_64(&v.to_le_bytes()), &mut a);
                a
            })
            .collect();
        assert!(values.iter().all(|a| Arc::strong_count(a) == 2));
        table.clear();
        // One more call lets this thread's last batch of cleared entries go.
        table.share(0, &mut Arc::new(u64::MAX));
        let held = values.iter().filter(|a| Arc::strong_count(a) > 1).count();
        assert!(held <= 64, "{held} of 10,000 cleared values still held");
    }

    #[test]
    fn clearing_while_others_share_hands_out_only_equal_values() {
        let table = HashCons::new();
        std::thread::scope(|s| {
            for t in 0..3u64 {
                let table = &table;
                s.spawn(move || {
                    for v in 0..20_000u64 {
                        let x = (v * (t + 1)) % 500;
                        let mut a = Arc::new(x);
                        table.share(xxhash_rust::xxh3::xxh3_64(&x.to_le_bytes()), &mut a);
                        assert_eq!(*a, x);
                    }
                });
            }
            s.spawn(|| {
                for _ in 0..200 {
                    table.clear();
                    std::thread::yield_now();
                }
            });
        });
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
