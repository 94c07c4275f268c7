//! Hash-consing: one copy of each distinct value among many holders.
//!
//! A [`HashCons`] remembers values by their hash; [`HashCons::share`] hands
//! a holder the copy met first when its own value is equal to it, so the
//! holder's copy can be freed. Meant for values that are cheap to clone
//! (a reference-counted pointer): a breadth-first search's frontier, where
//! states reached along different paths often hold equal parts in separate
//! allocations, keeps one of each.
//!
//! Each thread has a table of its own (a `hashbrown` table behind a mutex
//! only that thread takes, but for [`HashCons::clear`]), so sharing writes
//! no memory another thread reads: no cache line moves between cores per
//! value, however many threads share at once. The price is that equal
//! values met first on different threads stay apart, one copy per thread
//! that met them: sharing is within a thread, and it shares less the more
//! threads there are. Measured on BFS frontiers (2026-11-29, `cluster` to
//! 2 M states; `docs/performance-log.md`), against one lock-free `papaya`
//! map all threads shared, which this replaced: 219 fewer instructions per
//! value (causal, one thread: the map's epoch guard, its entry allocation
//! per value and its probing), and runs 10-25% shorter on one thread and
//! 20-40% on two (the map's entries and their deferred frees took system
//! time, and its resizes stop every thread); peak memory per state 5-7%
//! less on one thread (no entry per value), within 4% either way on two,
//! and 4-7% more on eight threads (on 2 cores: monotonic session 511-515
//! bytes against 485-496, causal 673-675 against 628-631; with no sharing
//! at all 548 and 712).
//!
//! It holds every value it was given until [`HashCons::clear`], which
//! forgets them all, on every thread, at once (their clones are dropped
//! then); a caller clears it when the values it met have all been given to
//! their holders (say, between two BFS levels). A clear waits for a thread
//! inside [`HashCons::share`] to finish with its own table; it never hands
//! out a value other than an equal one.

use std::sync::{Mutex, MutexGuard, PoisonError};

use hashbrown::HashTable;
use thread_local::ThreadLocal;

/// One thread's remembered values, each with its hash.
type Table<T> = HashTable<(u64, T)>;

/// A table of distinct values of type `T`, one per thread that shares.
pub struct HashCons<T: Send> {
    tables: ThreadLocal<Mutex<Table<T>>>,
}

impl<T: Send> Default for HashCons<T> {
    fn default() -> Self {
        HashCons { tables: ThreadLocal::new() }
    }
}

/// A table's lock. Poisoning is ignored: a panic while a table was held
/// leaves it consistent (values are only added whole or cleared).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Eq + Clone + Send> HashCons<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// If this thread's table holds a value equal to `value` (`hash` being
    /// the caller's hash of it, the same for equal values), replaces
    /// `value` by a clone of it and returns true; otherwise remembers a
    /// clone of `value` and returns false. `value` stays equal to what it
    /// was.
    pub fn share(&self, hash: u64, value: &mut T) -> bool {
        let mut table = lock(self.tables.get_or_default());
        let met = table.find(hash, |(h, v)| *h == hash && v == value).map(|(_, v)| v.clone());
        match met {
            Some(met) => {
                *value = met;
                true
            }
            None => {
                table.insert_unique(hash, (hash, value.clone()), |(h, _)| *h);
                false
            }
        }
    }

    /// How many values the tables hold (a value remembered on several
    /// threads counts once per thread).
    pub fn len(&self) -> usize {
        self.tables.iter().map(|t| lock(t).len()).sum()
    }

    /// Whether the tables hold no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every value, on every thread (their clones are dropped
    /// here). Each table keeps its capacity for the values that come next.
    pub fn clear(&self) {
        for t in self.tables.iter() {
            lock(t).clear();
        }
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
        let held = values.iter().filter(|a| Arc::strong_count(a) > 1).count();
        assert_eq!(held, 0, "{held} of 10,000 cleared values still held");
    }

    #[test]
    fn a_clear_on_one_thread_forgets_what_every_thread_remembered() {
        let table = HashCons::new();
        let together = std::sync::Barrier::new(3);
        let kept: Vec<Arc<u64>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..3u64)
                .map(|t| {
                    let (table, together) = (&table, &together);
                    s.spawn(move || {
                        let mut a = Arc::new(t);
                        table.share(t, &mut a);
                        together.wait();
                        a
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("no panic")).collect()
        });
        assert_eq!(table.len(), 3);
        assert!(kept.iter().all(|a| Arc::strong_count(a) == 2));
        table.clear();
        assert!(table.is_empty());
        assert!(kept.iter().all(|a| Arc::strong_count(a) == 1), "every thread's clones dropped");
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
    fn each_thread_ends_with_one_copy_of_each_value_it_met() {
        let table = HashCons::new();
        // All four alive at once (a thread's table passes to a thread
        // started after it ends).
        let together = std::sync::Barrier::new(4);
        let values: Vec<Vec<Arc<u64>>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let mine = (0..1000u64)
                            .map(|v| {
                                let mut a = Arc::new(v % 100);
                                table.share(xxhash_rust::xxh3::xxh3_64(&(v % 100).to_le_bytes()), &mut a);
                                a
                            })
                            .collect();
                        together.wait();
                        mine
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("no panic")).collect()
        });
        assert_eq!(table.len(), 400, "a table per thread, each with the 100 values it met");
        for mine in &values {
            for v in mine {
                assert!(Arc::ptr_eq(v, &mine[(**v) as usize]), "one allocation per distinct value a thread met");
            }
        }
        // Sharing is within a thread: another thread's copies stay apart.
        assert!(!Arc::ptr_eq(&values[0][0], &values[1][0]));
    }
}
