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

/// The traits an interned list (a newtype over `&'static Entry`, whose
/// `list` field is the interned slice of `$item`, with an `empty()`
/// constructor) has alike: `Default` (the empty list), `Deref` to the slice,
/// `Debug` as the slice, equality by pointer (equal lists are one copy) and
/// the slice's order.
macro_rules! interned_list_traits {
    ($list:ident, $item:ty) => {
        impl Default for $list {
            fn default() -> Self {
                $list::empty()
            }
        }

        impl std::ops::Deref for $list {
            type Target = [$item];
            fn deref(&self) -> &[$item] {
                self.0.list
            }
        }

        impl std::fmt::Debug for $list {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.list.fmt(f)
            }
        }

        impl PartialEq for $list {
            fn eq(&self, other: &Self) -> bool {
                // Interned: equal lists are the same copy.
                std::ptr::eq(self.0, other.0)
            }
        }

        impl Eq for $list {}

        impl PartialOrd for $list {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $list {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                if self == other {
                    std::cmp::Ordering::Equal
                } else {
                    self.0.list.cmp(other.0.list)
                }
            }
        }
    };
}

pub(crate) use interned_list_traits;
