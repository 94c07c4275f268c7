//! A linear (or, for optimistic linear, tree-shaped) history of states,
//! shared by the four non-causal models.

use crate::api::{apply, Operation, Rejection};
use crate::meta::Rev;
use crate::stamp_set::{Ranks, StampSet};
use crate::store::{Snapshot, Store};

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
    pub entries: Vec<Entry>,
}

impl Linear {
    pub fn new(initial: Store, rev: Rev) -> Self {
        Linear { entries: vec![Entry { rev, parent: None, store: Snapshot::new(initial) }] }
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
        let parent = Some(on.rev);
        self.entries.push(Entry { rev, parent, store: Snapshot::new(store) });
        Ok(())
    }

    /// Keeps the entries for which `keep` holds, and always the last one.
    pub fn retain(&mut self, keep: impl Fn(&Entry) -> bool) {
        let last = self.last().rev;
        self.entries.retain(|e| e.rev == last || keep(e));
        // An entry whose parent went has no readable parent any more.
        let kept: Vec<Rev> = self.entries.iter().map(|e| e.rev).collect();
        for e in &mut self.entries {
            if e.parent.is_some_and(|p| !kept.contains(&p)) {
                e.parent = None;
            }
        }
    }

    pub fn stamps(&self, set: &mut StampSet) {
        for e in &self.entries {
            set.insert(e.rev);
            if let Some(p) = e.parent {
                set.insert(p);
            }
            set.union(e.store.stamp_set());
        }
    }

    pub fn hash_ranked(&self, ranks: &Ranks<'_>, h: &mut dyn std::hash::Hasher) {
        h.write_usize(self.entries.len());
        for e in &self.entries {
            h.write_u32(ranks.map(e.rev));
            h.write_u32(e.parent.map_or(0, |p| ranks.map(p)));
            e.store.hash_ranked(ranks, h);
        }
    }

    pub fn map_stamps(&mut self, map: &dyn Fn(Rev) -> Rev) {
        for e in &mut self.entries {
            e.rev = map(e.rev);
            e.parent = e.parent.map(map);
            e.store.renumber(map);
        }
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
