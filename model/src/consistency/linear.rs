//! A linear (or, for optimistic linear, tree-shaped) history of states,
//! shared by the four non-causal models.

use crate::api::{apply, Operation, Rejection};
use crate::meta::Rev;
use crate::stamp_set::{Ranks, StampSet};
use crate::store::{Snapshot, Store};
use crate::thin::list;

/// One state of the history.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    /// The write that produced it (its read point is `Revision::at(rev)`).
    pub rev: Rev,
    /// The entry it was written on (optimistic linear); `None` for the first.
    pub parent: Option<Rev>,
    /// The objects.
    pub store: Snapshot,
}

/// Entries in write order; the last is the newest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct Linear {
    pub entries: Entries,
}

/// A history's entries: one shared, immutable list (8 bytes in the state).
/// A step that leaves the history as it was (a read that writes nothing and
/// prunes nothing) shares its parent's list instead of copying it; a change
/// builds a new list in one allocation of the exact size. Hashes, compares
/// and serialises as the `Vec<Entry>` it replaces, so fingerprints and
/// checkpoints are unchanged. On `cluster` (resettable session) the copied
/// lists were about a quarter of a BFS's peak heap (DHAT: 21.9 MB of 81.6 MB
/// at 100,000 states).
#[derive(Clone)]
pub(crate) struct Entries(triomphe::ThinArc<(), Entry>);

impl Entries {
    /// The list of the `len` entries `it` yields.
    fn of(it: impl Iterator<Item = Entry>, len: usize) -> Self {
        Entries(list(it, len))
    }
}

impl std::ops::Deref for Entries {
    type Target = [Entry];
    fn deref(&self) -> &[Entry] {
        &self.0.slice
    }
}

impl PartialEq for Entries {
    fn eq(&self, o: &Self) -> bool {
        self.0.as_ptr() == o.0.as_ptr() || **self == **o
    }
}

impl Eq for Entries {}

impl std::hash::Hash for Entries {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl serde::Serialize for Entries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<Entry>::deserialize(d)?;
        if v.is_empty() {
            return Err(serde::de::Error::custom("a history has at least one entry"));
        }
        let len = v.len();
        Ok(Entries::of(v.into_iter(), len))
    }
}

impl Linear {
    pub fn new(initial: Store, rev: Rev) -> Self {
        let first = Entry { rev, parent: None, store: Snapshot::new(initial) };
        Linear { entries: Entries::of(std::iter::once(first), 1) }
    }

    pub fn last(&self) -> &Entry {
        // The history is never empty: `new` makes one entry, pruning keeps the last.
        &self.entries[self.entries.len() - 1]
    }

    pub fn get(&self, rev: Rev) -> Option<&Entry> {
        self.entries.iter().find(|e| e.rev == rev)
    }

    /// The next write's revision: greater than every stamp held.
    pub fn next_rev(&self) -> Rev {
        self.entries.iter().map(|e| e.rev).max().unwrap_or(0) + 1
    }

    /// Applies `op` to the entry `base` and appends the result (child of `base`).
    pub fn append_on(&mut self, base: Rev, op: &Operation) -> Result<(), Rejection> {
        let rev = self.next_rev();
        let on = self.get(base).or_else(|| self.entries.last()).ok_or(Rejection::NotFound)?;
        let mut store = (*on.store).clone();
        apply(&mut store, op, rev)?;
        let new = Entry { rev, parent: Some(on.rev), store: Snapshot::new(store) };
        let len = self.entries.len() + 1;
        self.entries = Entries::of(self.entries.iter().cloned().chain(std::iter::once(new)), len);
        Ok(())
    }

    /// Keeps the entries for which `keep` holds, and always the last one.
    pub fn retain(&mut self, keep: impl Fn(&Entry) -> bool) {
        let last = self.last().rev;
        let kept: smallvec::SmallVec<[Rev; 16]> =
            self.entries.iter().filter(|e| e.rev == last || keep(e)).map(|e| e.rev).collect();
        if kept.len() == self.entries.len() {
            return; // shared as it is
        }
        // An entry whose parent went has no readable parent any more.
        let entries = self
            .entries
            .iter()
            .filter(|e| kept.contains(&e.rev))
            .map(|e| Entry { parent: e.parent.filter(|p| kept.contains(p)), ..e.clone() });
        self.entries = Entries::of(entries, kept.len());
    }

    pub fn stamps(&self, set: &mut StampSet) {
        for e in self.entries.iter() {
            set.insert(e.rev);
            if let Some(p) = e.parent {
                set.insert(p);
            }
            set.union(e.store.stamp_set());
        }
    }

    pub fn hash_ranked(&self, ranks: &Ranks<'_>, h: &mut dyn std::hash::Hasher) {
        h.write_usize(self.entries.len());
        for e in self.entries.iter() {
            h.write_u32(ranks.map(e.rev));
            h.write_u32(e.parent.map_or(0, |p| ranks.map(p)));
            e.store.hash_ranked(ranks, h);
        }
    }

    pub fn map_stamps(&mut self, map: &dyn Fn(Rev) -> Rev) {
        let entries = self.entries.iter().map(|e| {
            let mut e = e.clone();
            e.rev = map(e.rev);
            e.parent = e.parent.map(map);
            e.store.renumber(map);
            e
        });
        self.entries = Entries::of(entries, self.entries.len());
    }
}

/// The methods every model over a [`Linear`] history shares (the history is
/// field 0 of the model): construction, the newest state, views by revision,
/// and stamp handling.
macro_rules! linear_common {
    ($model:ident) => {
        fn new(initial: Store, rev: Rev) -> Self {
            $model(Linear::new(initial, rev))
        }
        fn latest(&self) -> Cow<'_, Store> {
            Cow::Borrowed(&self.0.last().store)
        }
        fn max(&self) -> Revision {
            Revision::at(self.0.last().rev)
        }
        fn view(&self, at: &Revision) -> Cow<'_, Store> {
            Cow::Borrowed(&self.0.get(at.newest()).unwrap_or(self.0.last()).store)
        }
        fn stamps(&self, set: &mut crate::stamp_set::StampSet) {
            self.0.stamps(set)
        }
        fn missing(&self, read: &Revision) -> usize {
            self.0.entries.iter().filter(|e| e.rev > read.newest()).count()
        }
        fn map_stamps(&mut self, map: &dyn Fn(Rev) -> Rev) {
            self.0.map_stamps(map)
        }
        fn hash_ranked(&self, ranks: &crate::stamp_set::Ranks<'_>, h: &mut dyn std::hash::Hasher) {
            self.0.hash_ranked(ranks, h)
        }
    };
}
pub(crate) use linear_common;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::name;

    /// A history of three writes: nodes a, b, c joining at revisions 2, 3, 4.
    fn three() -> Linear {
        let mut h = Linear::new(Store::default(), 1);
        for (base, n) in [(1, "a"), (2, "b"), (3, "c")] {
            h.append_on(base, &Operation::NodeJoin(name(n))).expect("a join applies");
        }
        h
    }

    #[test]
    fn entries_hash_and_serialise_as_the_vector_they_replace() {
        let h = three();
        let v: Vec<Entry> = h.entries.to_vec();
        assert_eq!(v.iter().map(|e| e.rev).collect::<Vec<_>>(), [1, 2, 3, 4]);
        use krepis_engine::fingerprint::fingerprint_of;
        assert_eq!(fingerprint_of(&h.entries), fingerprint_of(&v));
        use krepis_engine::checkpoint::{postcard_decode, postcard_encode};
        let (mut bytes, mut want) = (Vec::new(), Vec::new());
        assert!(postcard_encode(&h.entries, &mut bytes) && postcard_encode(&v, &mut want));
        assert_eq!(bytes, want);
        assert_eq!(postcard_decode::<Entries>(&bytes), Some(h.entries.clone()));
        let mut empty = Vec::new();
        assert!(postcard_encode(&Vec::<Entry>::new(), &mut empty));
        assert_eq!(postcard_decode::<Entries>(&empty), None, "a history is never empty");
    }

    #[test]
    fn a_history_left_as_it_was_is_shared_and_a_changed_one_is_not() {
        let h = three();
        let mut same = h.clone();
        same.retain(|_| true);
        assert_eq!(same.entries.0.as_ptr(), h.entries.0.as_ptr(), "nothing pruned: shared");
        let mut pruned = h.clone();
        pruned.retain(|e| e.rev != 2);
        assert_ne!(pruned.entries.0.as_ptr(), h.entries.0.as_ptr());
        let kept: Vec<(Rev, Option<Rev>)> = pruned.entries.iter().map(|e| (e.rev, e.parent)).collect();
        assert_eq!(kept, [(1, None), (3, None), (4, Some(3))], "the parent that went is forgotten");
        assert_eq!(h.entries.len(), 4, "the original is untouched");
        let mut renumbered = pruned.clone();
        renumbered.map_stamps(&|r| if r > 2 { r - 1 } else { r });
        let revs: Vec<(Rev, Option<Rev>)> = renumbered.entries.iter().map(|e| (e.rev, e.parent)).collect();
        assert_eq!(revs, [(1, None), (2, None), (3, Some(2))]);
        assert_eq!(pruned.entries.iter().map(|e| e.rev).collect::<Vec<_>>(), [1, 3, 4]);
    }
}
