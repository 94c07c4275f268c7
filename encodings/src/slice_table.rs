//! The table every thread shares of interned slices: one leaked copy of
//! each distinct slice, with an entry made from it once. [`crate::Pairs`]
//! and [`crate::SymList`] keep theirs in one each.

use std::hash::Hash;
use std::sync::{OnceLock, RwLock};

use hashbrown::HashMap;

/// Interned slices of `T` and, for each, an entry `E` made once from the
/// leaked copy. Entries live for the rest of the process.
pub(crate) struct SliceTable<T: 'static, E: 'static>(OnceLock<RwLock<HashMap<&'static [T], &'static E>>>);

impl<T: Eq + Hash + Clone, E> SliceTable<T, E> {
    /// An empty table (usable in a `static`).
    pub(crate) const fn new() -> Self {
        SliceTable(OnceLock::new())
    }

    /// The entry of `items`, made by `make` from a leaked copy of them the
    /// first time they are met. Takes the read lock, and the write lock the
    /// first time.
    pub(crate) fn get_or_make(&'static self, items: &[T], make: impl FnOnce(&'static [T]) -> E) -> &'static E {
        let table = self.0.get_or_init(Default::default);
        // A poisoned lock only means another thread panicked while
        // inserting; the table itself is still consistent (inserts are
        // single calls).
        if let Some(e) = table.read().unwrap_or_else(|p| p.into_inner()).get(items) {
            return e;
        }
        let mut map = table.write().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get(items) {
            return e;
        }
        let list: &'static [T] = Box::leak(items.to_vec().into_boxed_slice());
        let entry: &'static E = Box::leak(Box::new(make(list)));
        map.insert(list, entry);
        entry
    }
}
