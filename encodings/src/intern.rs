//! Interned strings: names, label keys and values, images.
//!
//! A [`Sym`] is a pointer to the one copy of its text, which also holds the
//! xxh3 hash of the text, computed once. Equality is a pointer comparison
//! and hashing writes that one precomputed `u64`, so hashing a Kubernetes
//! object costs a word per name instead of its bytes (hashing names was
//! about a third of the model's time). Order is the order of the texts, so
//! collections sorted by name stay sorted the same way.
//!
//! Hand-written rather than taken from `ustr` or `internment`: the hash fed
//! into fingerprints must be xxh3 (specified and stable across versions, so
//! fingerprints in files stay valid) and the same in every run and on every
//! thread count; `internment` hashes the pointer (different per run) and
//! `ustr`'s precomputed hash is not a specified algorithm.
//!
//! Interned texts live for the rest of the process (they are leaked): the set
//! of names a model checks is small and finite. Interning looks in a small
//! cache of this thread's recent symbols first (no lock, nothing shared:
//! a model step that names a pod interns its name, and a read lock on the
//! one table of every thread would be a cache line all cores write to),
//! then takes the table's read lock, and its write lock the first time a
//! text is met; lookups and comparisons of existing symbols take no lock.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{OnceLock, RwLock};

use hashbrown::HashMap;

use crate::recent::{recent, Slots};

struct Entry {
    hash: u64,
    text: Box<str>,
}

/// An interned string. A pointer, so `Copy` (lists of names copy as
/// bytes); equal iff the texts are equal; ordered by text; hashes as the
/// xxh3 of its text (one `u64`).
#[derive(Clone, Copy)]
pub struct Sym(&'static Entry);

fn table() -> &'static RwLock<HashMap<&'static str, &'static Entry>> {
    static TABLE: OnceLock<RwLock<HashMap<&'static str, &'static Entry>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

/// Slots of each thread's cache of recent symbols (direct-mapped by hash).
const RECENT: usize = 1024;

thread_local! {
    static RECENT_SYMS: Slots<Entry, RECENT> = const { Slots::new([None; RECENT]) };
}

impl Sym {
    /// The symbol of `text`, interning it on first use.
    pub fn new(text: &str) -> Sym {
        let hash = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
        Sym(recent(&RECENT_SYMS, hash, |e| e.hash == hash && *e.text == *text, || Self::from_table(text, hash)))
    }

    /// The entry of `text` (whose xxh3 hash is `hash`) in the table of
    /// every thread, made if it is not there.
    fn from_table(text: &str, hash: u64) -> &'static Entry {
        // A poisoned lock only means another thread panicked while inserting;
        // the map itself is still consistent (inserts are single calls).
        if let Some(e) = table().read().unwrap_or_else(|p| p.into_inner()).get(text) {
            return e;
        }
        let mut map = table().write().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get(text) {
            return e;
        }
        let entry: &'static Entry = Box::leak(Box::new(Entry { hash, text: text.into() }));
        map.insert(&entry.text, entry);
        entry
    }

    /// The text.
    pub fn as_str(&self) -> &'static str {
        &self.0.text
    }

    /// The xxh3 hash of the text (what [`Hash`] writes).
    pub fn precomputed_hash(&self) -> u64 {
        self.0.hash
    }
}

impl std::ops::Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.text
    }
}

impl PartialEq for Sym {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Sym {}

impl PartialOrd for Sym {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sym {
    fn cmp(&self, other: &Self) -> Ordering {
        if self == other {
            Ordering::Equal
        } else {
            self.0.text.cmp(&other.0.text)
        }
    }
}

impl Hash for Sym {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.0.hash);
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0.text, f)
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

/// Serialised as its text (JSON objects in etcd, scenario files); in a
/// sharing session ([`crate::share`]: checkpoints), as a shared part, so each
/// name's text is written once.
impl serde::Serialize for Sym {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The entry is never freed: its address names it for good.
        crate::share::serialize_shared::<Sym, _, _>(s, std::ptr::from_ref(self.0).cast(), false, self.as_str())
    }
}

/// Deserialised by interning the text.
impl<'de> serde::Deserialize<'de> for Sym {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sym, D::Error> {
        crate::share::deserialize_shared(d, |text: std::borrow::Cow<'de, str>| Sym::new(&text))
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Self {
        Sym::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_are_one_symbol_ordered_by_text() {
        let a = Sym::new("web-1");
        let b = Sym::new(&format!("web-{}", 1));
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_eq!(a, b);
        assert!(Sym::new("web-10") < Sym::new("web-2"), "text order, not creation order");
        assert_eq!(&*a, "web-1");
        assert_eq!(format!("{a} {a:?}"), "web-1 \"web-1\"");
    }

    #[test]
    fn the_hash_is_xxh3_of_the_text_whatever_the_thread() {
        let want = xxhash_rust::xxh3::xxh3_64(b"node-0");
        let hashes: Vec<u64> = (0..4)
            .map(|_| std::thread::spawn(|| Sym::new("node-0").precomputed_hash()))
            .map(|t| t.join().unwrap())
            .collect();
        assert_eq!(hashes, vec![want; 4]);
    }

    #[test]
    fn texts_sharing_a_cache_slot_stay_apart() {
        // Four times the cache's slots: many texts share a slot and evict
        // each other; each still gets its own symbol, the same every time.
        let texts: Vec<String> = (0..4 * RECENT).map(|i| format!("slot-{i}")).collect();
        let first: Vec<Sym> = texts.iter().map(|t| Sym::new(t)).collect();
        for _ in 0..2 {
            for (t, s) in texts.iter().zip(&first) {
                let again = Sym::new(t);
                assert_eq!(again.as_str(), t.as_str());
                assert!(std::ptr::eq(again.as_str(), s.as_str()));
            }
        }
    }

    #[test]
    fn concurrent_interning_agrees() {
        let names: Vec<Vec<&'static str>> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..500).map(|i| Sym::new(&format!("pod-{i}")).as_str()).collect::<Vec<_>>())
            })
            .map(|t| t.join().unwrap())
            .collect();
        for other in &names[1..] {
            assert!(names[0].iter().zip(other).all(|(a, b)| std::ptr::eq(*a, *b)));
        }
    }
}
