//! Interned lists of symbol pairs: label maps and selectors.
//!
//! A [`Pairs`] is a pointer to the one copy of its list, 8 bytes where the
//! inline `SmallVec<[(Sym, Sym); 2]>` it replaces took 40: a Kubernetes
//! object holds two to four such maps (labels, annotations, a selector and
//! a template's labels), which were a third to half of its size, and every
//! object a search writes is a copy. Objects copy their maps far more often
//! than they change them (a pod takes its template's labels as they are),
//! and a model holds few distinct maps, so each is interned once, like
//! [`Sym`].
//!
//! Equality is a pointer comparison. Ordering is that of the slice of
//! pairs, and it serialises as that sequence. It hashes as one `u64`, the
//! list's digest computed when it is interned (xxh3 of its symbols' text
//! digests, so the same in every run): an object hashes two to four maps
//! each time it is written, and feeding every pair to the hasher cost 3.1%
//! of the instructions of a synchronous BFS run on `cluster`.
//!
//! Lists live for the rest of the process (they are leaked). Making one
//! looks in a small cache of this thread's recent lists first (no lock,
//! nothing shared: a Deployment controller step sets labels on a few maps),
//! then takes the table's read lock, and its write lock the first time a
//! list is met; copying, comparing and reading take no lock. Lists being
//! built ([`Pairs::with`], [`Pairs::without`]) are gathered on the stack.

use crate::recent::{recent, Slots};
use crate::slice_table::SliceTable;
use crate::Sym;
use std::hash::{Hash, Hasher};

/// One symbol pair: a key and its value.
pub type Pair = (Sym, Sym);

/// An interned list of pairs. Cheap to copy (one thin pointer, to the
/// list's entry); equal iff the lists are equal; ordered as its slice of
/// pairs; hashed as its digest ([`Pairs::digest`]).
#[derive(Clone, Copy)]
pub struct Pairs(&'static Entry);

/// An interned list and its digest.
struct Entry {
    list: &'static [Pair],
    digest: u64,
}

/// The empty list's entry (digest 0).
static EMPTY: Entry = Entry { list: &[], digest: 0 };

/// Every list made so far, by contents.
static TABLE: SliceTable<Pair, Entry> = SliceTable::new();

/// Slots of each thread's cache of recent lists (direct-mapped by hash).
const RECENT: usize = 256;

thread_local! {
    static RECENT_LISTS: Slots<Entry, RECENT> = const { Slots::new([None; RECENT]) };
}

/// A list being built, on the stack up to eight pairs.
type Building = smallvec::SmallVec<[Pair; 8]>;

impl Pairs {
    /// The interned copy of `pairs` (in the order given).
    pub fn new(pairs: &[Pair]) -> Pairs {
        if pairs.is_empty() {
            return Pairs::empty();
        }
        let hash = pairs.iter().fold(pairs.len() as u64, |h, (k, v)| {
            (h ^ k.precomputed_hash()).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ v.precomputed_hash()
        });
        // Symbols compare by pointer: a slice comparison is a few words.
        Pairs(recent(&RECENT_LISTS, hash, |e| e.list == pairs, || Self::from_table(pairs).0))
    }

    /// The list of `pairs` in the table of every thread, made if it is not
    /// there.
    fn from_table(pairs: &[Pair]) -> Pairs {
        Pairs(TABLE.get_or_make(pairs, |list| Entry { list, digest: Self::digest_of(list) }))
    }

    /// xxh3 of the length and each symbol's digest, in order (never 0, the
    /// empty list's digest, for a list that is not empty).
    fn digest_of(list: &[Pair]) -> u64 {
        let mut bytes = Vec::with_capacity(8 + 16 * list.len());
        bytes.extend_from_slice(&(list.len() as u64).to_le_bytes());
        for (k, v) in list {
            bytes.extend_from_slice(&k.precomputed_hash().to_le_bytes());
            bytes.extend_from_slice(&v.precomputed_hash().to_le_bytes());
        }
        xxhash_rust::xxh3::xxh3_64(&bytes).max(1)
    }

    /// The empty list (no lock taken).
    pub const fn empty() -> Pairs {
        Pairs(&EMPTY)
    }

    /// The pairs, in order.
    pub fn as_slice(&self) -> &'static [Pair] {
        self.0.list
    }

    /// The list's digest: 0 for the empty list, otherwise xxh3 of its
    /// length and its symbols' digests ([`Sym::precomputed_hash`]), so the
    /// same in every run and on every machine. What [`Hash`] feeds.
    pub fn digest(&self) -> u64 {
        self.0.digest
    }

    /// This list with `key` set to `value`, keeping the list sorted by key
    /// if it was.
    pub fn with(&self, key: Sym, value: Sym) -> Pairs {
        let mut v: Building = self.0.list.iter().cloned().collect();
        match v.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => v[i].1 = value,
            Err(i) => v.insert(i, (key, value)),
        }
        Pairs::new(&v)
    }

    /// This list without the pairs for which `drop` holds.
    pub fn without(&self, drop: impl Fn(&Pair) -> bool) -> Pairs {
        let v: Building = self.0.list.iter().filter(|p| !drop(p)).cloned().collect();
        Pairs::new(&v)
    }
}

crate::slice_table::interned_list_traits!(Pairs, Pair);

impl Hash for Pairs {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.0.digest);
    }
}

/// Serialised as its sequence of pairs; in a sharing session
/// ([`crate::share`]), as a shared part (lists are never freed, so their
/// addresses name them for good).
impl serde::Serialize for Pairs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::share::serialize_shared::<Pairs, _, _>(s, std::ptr::from_ref(self.0).cast(), false, self.0.list)
    }
}

/// Deserialised by interning the sequence read.
impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Pairs, D::Error> {
        crate::share::deserialize_shared(d, |pairs: Vec<Pair>| Pairs::new(&pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(kv: &[(&str, &str)]) -> Vec<Pair> {
        kv.iter().map(|(k, v)| (Sym::new(k), Sym::new(v))).collect()
    }

    #[test]
    fn equal_lists_are_one_copy_and_hash_as_their_digest() {
        let a = Pairs::new(&pairs(&[("app", "web"), ("tier", "front")]));
        let b = Pairs::new(&pairs(&[("app", "web"), ("tier", "front")]));
        let c = Pairs::new(&pairs(&[("app", "web")]));
        assert!(std::ptr::eq(a.as_slice(), b.as_slice()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(Pairs::new(&[]), Pairs::empty());
        let hash = |x: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            x(&mut h);
            h.finish()
        };
        assert_eq!(hash(&|h| a.hash(h)), hash(&|h| h.write_u64(a.digest())));
        // The digest is a function of the texts, fixed here for good:
        // fingerprints written to files depend on it.
        let mut bytes = 2u64.to_le_bytes().to_vec();
        for text in ["app", "web", "tier", "front"] {
            bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(text.as_bytes()).to_le_bytes());
        }
        assert_eq!(a.digest(), xxhash_rust::xxh3::xxh3_64(&bytes));
        assert_ne!(a.digest(), c.digest());
        assert_eq!(Pairs::empty().digest(), 0);
        assert_eq!(a.cmp(&c), a.as_slice().cmp(c.as_slice()));
        assert_eq!(std::mem::size_of::<Pairs>(), 8);
        // Setting keeps the order by key; dropping keeps the rest.
        let d = c.with(Sym::new("tier"), Sym::new("front"));
        assert_eq!(d, a);
        assert_eq!(
            a.with(Sym::new("app"), Sym::new("api")).as_slice(),
            &pairs(&[("app", "api"), ("tier", "front")])[..]
        );
        assert_eq!(a.without(|(k, _)| &**k == "tier"), c);
    }

    #[test]
    fn serialises_as_its_sequence() {
        let a = Pairs::new(&pairs(&[("app", "web")]));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"[["app","web"]]"#);
        let back: Pairs = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn lists_sharing_a_cache_slot_stay_apart() {
        // Four times the cache's slots: lists evict each other; each
        // still gets its own copy, the same every time.
        let lists: Vec<Vec<Pair>> =
            (0..4 * RECENT).map(|i| pairs(&[("slot", &format!("{i}")), ("z", &format!("{}", i % 7))])).collect();
        let first: Vec<Pairs> = lists.iter().map(|l| Pairs::new(l)).collect();
        for _ in 0..2 {
            for (l, p) in lists.iter().zip(&first) {
                let again = Pairs::new(l);
                assert_eq!(again.as_slice(), &l[..]);
                assert_eq!(again, *p);
            }
        }
    }

    #[test]
    fn threads_intern_to_one_copy() {
        let made: Vec<usize> = (0..4)
            .map(|_| std::thread::spawn(|| std::ptr::from_ref(Pairs::new(&pairs(&[("k", "threads")])).0) as usize))
            .map(|t| t.join().unwrap())
            .collect();
        assert!(made.windows(2).all(|w| w[0] == w[1]));
    }
}
