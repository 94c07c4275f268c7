//! Interned lists of symbols: an object's finalizers, a pod's or a
//! template's images.
//!
//! A [`SymList`] is a pointer to the one copy of its list, 8 bytes where
//! the inline `InlineVec<Sym, 2>` it replaces took 24. Objects copy these
//! lists far more often than they change them (a pod takes its template's
//! images as they are; a write copies the object it changes), and a model
//! holds few distinct lists, so each is interned once, as [`crate::Pairs`]
//! are. Making one looks in a small cache of this thread's recent lists
//! first, then in the table every thread shares. Lists live for the rest of
//! the process (they are leaked, as symbols are): a model that made new
//! lists without end would grow without end.
//!
//! Unlike [`crate::Pairs`], a list hashes, orders and serialises exactly as
//! the slice of its symbols (as the `InlineVec` it replaced did), so
//! fingerprints, checkpoints and saved traces made before it stay valid.
//! Equality is a pointer comparison.

use std::hash::{Hash, Hasher};

use crate::recent::{recent, Slots};
use crate::slice_table::SliceTable;
use crate::Sym;

/// An interned list of symbols. Cheap to copy (one thin pointer); equal iff
/// the lists are equal; hashed, ordered and serialised as its slice.
#[derive(Clone, Copy)]
pub struct SymList(&'static Entry);

/// An interned list.
struct Entry {
    list: &'static [Sym],
}

/// The empty list's entry.
static EMPTY: Entry = Entry { list: &[] };

/// Every list made so far, by contents.
static TABLE: SliceTable<Sym, Entry> = SliceTable::new();

/// Slots of each thread's cache of recent lists (direct-mapped by hash).
const RECENT: usize = 64;

thread_local! {
    static RECENT_LISTS: Slots<Entry, RECENT> = const { Slots::new([None; RECENT]) };
}

/// A list being built, on the stack up to eight symbols.
type Building = smallvec::SmallVec<[Sym; 8]>;

impl SymList {
    /// The interned copy of `items` (in the order given).
    pub fn new(items: &[Sym]) -> SymList {
        if items.is_empty() {
            return SymList::empty();
        }
        let hash = items
            .iter()
            .fold(items.len() as u64, |h, s| (h ^ s.precomputed_hash()).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        // Symbols compare by pointer: a slice comparison is a few words.
        SymList(recent(&RECENT_LISTS, hash, |e| e.list == items, || TABLE.get_or_make(items, |list| Entry { list })))
    }

    /// The empty list (no lock taken).
    pub const fn empty() -> SymList {
        SymList(&EMPTY)
    }

    /// The symbols, in order.
    pub fn as_slice(&self) -> &'static [Sym] {
        self.0.list
    }

    /// Makes this the list with `item` appended.
    pub fn push(&mut self, item: Sym) {
        let mut v: Building = self.0.list.iter().copied().collect();
        v.push(item);
        *self = SymList::new(&v);
    }

    /// Makes this the list of the symbols for which `keep` holds, in order.
    pub fn retain(&mut self, keep: impl Fn(&Sym) -> bool) {
        if self.0.list.iter().all(&keep) {
            return;
        }
        let v: Building = self.0.list.iter().filter(|s| keep(s)).copied().collect();
        *self = SymList::new(&v);
    }
}

crate::slice_table::interned_list_traits!(SymList, Sym);

impl FromIterator<Sym> for SymList {
    fn from_iter<I: IntoIterator<Item = Sym>>(iter: I) -> Self {
        let v: Building = iter.into_iter().collect();
        SymList::new(&v)
    }
}

impl From<&[Sym]> for SymList {
    fn from(items: &[Sym]) -> Self {
        SymList::new(items)
    }
}

/// As the slice of its symbols: its length, then each symbol.
impl Hash for SymList {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.list.hash(h);
    }
}

/// As the sequence of its symbols.
impl serde::Serialize for SymList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.list.serialize(s)
    }
}

/// Deserialised by interning the sequence read.
impl<'de> serde::Deserialize<'de> for SymList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SymList, D::Error> {
        let items: Building = serde::Deserialize::deserialize(d)?;
        Ok(SymList::new(&items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InlineVec;
    use std::cmp::Ordering;

    fn syms(texts: &[&str]) -> Vec<Sym> {
        texts.iter().map(|t| Sym::new(t)).collect()
    }

    fn hash_of(x: &impl Hash) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        x.hash(&mut h);
        h.finish()
    }

    #[test]
    fn equal_lists_are_one_copy_of_eight_bytes() {
        let a = SymList::new(&syms(&["fake", "sidecar"]));
        let b: SymList = syms(&["fake", "sidecar"]).into_iter().collect();
        let c = SymList::new(&syms(&["fake"]));
        assert!(std::ptr::eq(a.as_slice(), b.as_slice()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(SymList::new(&[]), SymList::empty());
        assert!(SymList::default().is_empty());
        assert_eq!(std::mem::size_of::<SymList>(), 8);
    }

    /// Fingerprints, checkpoints and saved traces depend on these: a list
    /// must hash, order and serialise as the `InlineVec` it replaced.
    #[test]
    fn hashes_orders_and_serialises_as_the_inline_list_it_replaced() {
        for texts in [&[][..], &["fake"][..], &["fake", "sidecar"][..], &["a", "b", "c"][..]] {
            let list = SymList::new(&syms(texts));
            let inline: InlineVec<Sym, 2> = InlineVec::from_slice(&syms(texts));
            assert_eq!(hash_of(&list), hash_of(&inline), "{texts:?}");
            assert_eq!(serde_json::to_string(&list).unwrap(), serde_json::to_string(&inline).unwrap());
            let back: SymList = serde_json::from_str(&serde_json::to_string(&inline).unwrap()).unwrap();
            assert_eq!(back, list);
        }
        let (a, b) = (SymList::new(&syms(&["b"])), SymList::new(&syms(&["a", "z"])));
        let (ia, ib): (InlineVec<Sym, 2>, InlineVec<Sym, 2>) =
            (InlineVec::from_slice(a.as_slice()), InlineVec::from_slice(b.as_slice()));
        assert_eq!(a.cmp(&b), ia.cmp(&ib));
        assert_eq!(b.cmp(&a), ib.cmp(&ia));
        assert_eq!(a.cmp(&a), Ordering::Equal);
    }

    #[test]
    fn push_and_retain_give_the_interned_lists() {
        let mut l = SymList::new(&syms(&["a"]));
        l.push(Sym::new("b"));
        assert_eq!(l, SymList::new(&syms(&["a", "b"])));
        l.retain(|s| &**s != "a");
        assert_eq!(l, SymList::new(&syms(&["b"])));
        let before = l;
        l.retain(|_| true);
        assert_eq!(l, before);
        l.retain(|_| false);
        assert_eq!(l, SymList::empty());
    }

    #[test]
    fn lists_sharing_a_cache_slot_stay_apart() {
        // Four times the cache's slots: lists evict each other; each still
        // gets its own copy, the same every time.
        let lists: Vec<Vec<Sym>> = (0..4 * RECENT).map(|i| syms(&[&format!("image-{i}"), "z"])).collect();
        let first: Vec<SymList> = lists.iter().map(|l| SymList::new(l)).collect();
        for _ in 0..2 {
            for (l, s) in lists.iter().zip(&first) {
                let again = SymList::new(l);
                assert_eq!(again.as_slice(), &l[..]);
                assert_eq!(again, *s);
            }
        }
    }

    #[test]
    fn threads_intern_to_one_copy() {
        let made: Vec<usize> = (0..4)
            .map(|_| std::thread::spawn(|| SymList::new(&syms(&["threads", "one"])).as_slice().as_ptr() as usize))
            .map(|t| t.join().unwrap())
            .collect();
        assert!(made.windows(2).all(|w| w[0] == w[1]));
    }
}
