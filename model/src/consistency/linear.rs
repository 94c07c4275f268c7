//! A linear (or, for optimistic linear, tree-shaped) history of states,
//! shared by the four non-causal models.

use super::Kept;
use crate::api::{apply, Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::stamp_set::{Ranks, StampSet};
use crate::store::{Snapshot, Store};
use krepis_encodings::share;
use triomphe::Arc;

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

/// A history's entries: a persistent list, newest first, in the state as
/// one 8-byte pointer. A write adds one node (its entry and a link to the
/// list it was written on), sharing every older node with the state it came
/// from; a step that leaves the history as it was shares the whole list; a
/// prune or a renumbering rebuilds it. Revisions grow from the oldest entry
/// to the newest (a write takes the next revision; prunes and renumberings
/// keep the order), so the newest holds the greatest and the entries newer
/// than a revision are a run at the front. It hashes, compares and serialises as
/// the `Vec<Entry>` (oldest first) it replaces, so fingerprints and
/// checkpoints are unchanged.
///
/// Measured on `cluster`, BFS stopped at 3 M states, one thread, peak RSS
/// per state: resettable session 829 bytes with a vector copied into every
/// state (DHAT: those copies were 27% of the peak heap), 730 with one shared
/// exact-size list per write, 600 with this list; monotonic session 691 with
/// the shared list, 619 with this one; synchronous 654 and 658 (its prunes
/// rebuild short lists).
#[derive(Clone)]
pub(crate) struct Entries(Arc<Node>);

/// One entry of a history and the entries before it.
struct Node {
    entry: Entry,
    /// Entries up to and including this one.
    len: u32,
    older: Option<Arc<Node>>,
}

// Dropping the last state that holds a long history frees its nodes one
// after another, not by recursion (a walk to depth 100,000 under resettable
// session keeps every write).
impl Drop for Node {
    fn drop(&mut self) {
        let mut next = self.older.take();
        while let Some(node) = next {
            match Arc::try_unwrap(node) {
                Ok(mut node) => next = node.older.take(),
                Err(_) => break, // still shared: its holder frees it
            }
        }
    }
}

impl Entries {
    /// The history of one entry.
    fn one(entry: Entry) -> Self {
        Entries(Arc::new(Node { entry, len: 1, older: None }))
    }

    /// This history with `entry` written after its newest (shares this one).
    fn with(&self, entry: Entry) -> Self {
        Entries(Arc::new(Node { entry, len: self.0.len + 1, older: Some(self.0.clone()) }))
    }

    /// The history of `entries`, oldest first; `None` if there are none.
    fn of(entries: impl IntoIterator<Item = Entry>) -> Option<Self> {
        let mut it = entries.into_iter();
        let first = Entries::one(it.next()?);
        Some(it.fold(first, |h, e| h.with(e)))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.0.len as usize
    }

    /// The newest entry.
    pub fn newest(&self) -> &Entry {
        &self.0.entry
    }

    /// The entries, newest first (cheapest when the order does not matter).
    pub fn newest_first(&self) -> impl Iterator<Item = &Entry> {
        std::iter::successors(Some(&*self.0), |n| n.older.as_deref()).map(|n| &n.entry)
    }

    /// The entries, oldest first (write order), gathered first: on the
    /// stack up to eight entries (pruning and renumbering go through here
    /// once per successor), on the heap beyond.
    pub fn iter(&self) -> smallvec::IntoIter<[&Entry; 8]> {
        let mut v: smallvec::SmallVec<[&Entry; 8]> = self.newest_first().collect();
        v.reverse();
        v.into_iter()
    }

    /// Calls `f` on every entry, oldest first (write order), without
    /// allocating: by recursion down the list, or through a vector when it
    /// is longer than [`RECURSE_AT`] entries.
    pub fn for_each<'a>(&'a self, mut f: impl FnMut(&'a Entry)) {
        fn visit<'a>(n: &'a Node, f: &mut impl FnMut(&'a Entry)) {
            if let Some(o) = &n.older {
                visit(o, f);
            }
            f(&n.entry);
        }
        if self.len() <= RECURSE_AT {
            visit(&self.0, &mut f);
        } else {
            self.iter().for_each(f);
        }
    }

    /// The revisions of the entries newer than `rev` (of every entry for
    /// `None`), oldest first, appended to `out`.
    pub fn revs_after(&self, rev: Option<Rev>, out: &mut Vec<Revision>) {
        let from = out.len();
        let newer = |e: &&Entry| rev.is_none_or(|r| e.rev > r);
        out.extend(self.newest_first().take_while(newer).map(|e| Revision::at(e.rev)));
        out[from..].reverse();
    }

    /// How many entries are newer than `rev`.
    pub fn count_after(&self, rev: Rev) -> usize {
        self.newest_first().take_while(|e| e.rev > rev).count()
    }
}

/// Longest history [`Entries::for_each`] walks by recursion (a few dozen
/// bytes of stack a level).
const RECURSE_AT: usize = 1024;

// Walks both lists together up to the first node they share (what is
// older is the same): equal histories reached along different paths
// usually share all but their newest few entries.
impl PartialEq for Entries {
    fn eq(&self, o: &Self) -> bool {
        if self.len() != o.len() {
            return false;
        }
        let (mut a, mut b) = (&self.0, &o.0);
        loop {
            if Arc::ptr_eq(a, b) {
                return true;
            }
            if a.entry != b.entry {
                return false;
            }
            match (&a.older, &b.older) {
                (Some(x), Some(y)) => (a, b) = (x, y),
                // Equal lengths: both end here.
                _ => return true,
            }
        }
    }
}

impl Eq for Entries {}

impl std::hash::Hash for Entries {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // As a slice hashes: its length, then its items in order.
        h.write_usize(self.len());
        self.for_each(|e| e.hash(h));
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

// An entry's store held by a node that other histories share may be met
// again in a sharing session though the store's own count is 1.
impl serde::Serialize for Entries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut nodes = std::iter::successors(Some(&self.0), |n| n.older.as_ref());
        if nodes.all(|n| n.is_unique()) {
            s.collect_seq(self.iter())
        } else {
            share::reached_again(|| s.collect_seq(self.iter()))
        }
    }
}

// In a sharing session (checkpoints: `krepis_encodings::share`) entries
// read back with the same store (a shared part), revision and parent after
// the same older node are one node again, so histories that shared nodes
// when saved share them when resumed (not as nodes of their own: 56 bytes
// an entry in every state).
impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<Entry>::deserialize(d)?;
        let mut it = v.into_iter();
        let Some(first) = it.next() else {
            return Err(serde::de::Error::custom("a history has at least one entry"));
        };
        let node = |older: Option<&Entries>, entry: Entry| {
            let key = (older.map_or(0, |o| Arc::as_ptr(&o.0) as usize), entry.rev, entry.parent, entry.store.address());
            let make = |entry| match older {
                Some(o) => o.with(entry),
                None => Entries::one(entry),
            };
            share::reading_cache(|cache: &mut NodeCache| {
                cache.0.entry(key).or_insert_with(|| make(entry.clone())).clone()
            })
            .unwrap_or_else(|| make(entry))
        };
        let first = node(None, first);
        Ok(it.fold(first, |h, e| node(Some(&h), e)))
    }
}

/// The nodes read so far in a sharing session, by (older node, revision,
/// parent, store).
#[derive(Default)]
struct NodeCache(hashbrown::HashMap<(usize, Rev, Option<Rev>, usize), Entries>);

impl Linear {
    pub fn new(initial: Store, rev: Rev) -> Self {
        Linear { entries: Entries::one(Entry { rev, parent: None, store: Snapshot::new(initial) }) }
    }

    /// Shares the entries with an equal history [`Kept`] met before in the
    /// same BFS level, if any (two states reached along different paths
    /// often hold equal histories: a fifth to a half of a `cluster` level's
    /// states have a history no other state of the level has).
    pub fn keep(&mut self, kept: &Kept) {
        let hash = krepis_engine::fingerprint::fingerprint_of(&self.entries);
        kept.linear.share(hash, &mut self.entries);
    }

    pub fn last(&self) -> &Entry {
        self.entries.newest()
    }

    pub fn get(&self, rev: Rev) -> Option<&Entry> {
        self.entries.newest_first().find(|e| e.rev == rev)
    }

    /// The next write's revision: greater than every stamp held (the
    /// newest entry's is the greatest: see [`Entries`]).
    pub fn next_rev(&self) -> Rev {
        self.last().rev + 1
    }

    /// Applies `op` to the entry `base` and appends the result (child of `base`).
    pub fn append_on(&mut self, base: Rev, op: &Operation) -> Result<(), Rejection> {
        let rev = self.next_rev();
        let on = self.get(base).unwrap_or(self.last());
        let mut store = (*on.store).clone();
        apply(&mut store, op, rev)?;
        let new = Entry { rev, parent: Some(on.rev), store: Snapshot::new(store) };
        self.entries = self.entries.with(new);
        Ok(())
    }

    /// Keeps the entries for which `keep` holds, and always the last one.
    pub fn retain(&mut self, keep: impl Fn(&Entry) -> bool) {
        let last = self.last().rev;
        let kept: smallvec::SmallVec<[Rev; 16]> =
            self.entries.newest_first().filter(|e| e.rev == last || keep(e)).map(|e| e.rev).collect();
        if kept.len() == self.entries.len() {
            return; // shared as it is
        }
        // An entry whose parent went has no readable parent any more.
        let entries = self
            .entries
            .iter()
            .filter(|e| kept.contains(&e.rev))
            .map(|e| Entry { parent: e.parent.filter(|p| kept.contains(p)), ..e.clone() });
        if let Some(entries) = Entries::of(entries) {
            self.entries = entries; // never empty: the newest is kept
        }
    }

    pub fn stamps(&self, set: &mut StampSet) {
        for e in self.entries.newest_first() {
            set.insert(e.rev);
            if let Some(p) = e.parent {
                set.insert(p);
            }
            set.union(e.store.stamp_set());
        }
    }

    pub fn hash_ranked(&self, ranks: &Ranks<'_>, h: &mut dyn std::hash::Hasher) {
        h.write_usize(self.entries.len());
        self.entries.for_each(|e| {
            h.write_u32(ranks.map(e.rev));
            h.write_u32(e.parent.map_or(0, |p| ranks.map(p)));
            e.store.hash_ranked(ranks, h);
        });
    }

    pub fn map_stamps(&mut self, map: &dyn Fn(Rev) -> Rev) {
        let entries = self.entries.iter().map(|e| {
            let mut e = e.clone();
            e.rev = map(e.rev);
            e.parent = e.parent.map(map);
            e.store.renumber(map);
            e
        });
        if let Some(entries) = Entries::of(entries) {
            self.entries = entries;
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
            self.0.entries.count_after(read.newest())
        }
        fn map_stamps(&mut self, map: &dyn Fn(Rev) -> Rev) {
            self.0.map_stamps(map)
        }
        fn hash_ranked(&self, ranks: &crate::stamp_set::Ranks<'_>, h: &mut dyn std::hash::Hasher) {
            self.0.hash_ranked(ranks, h)
        }
        fn keep(&mut self, kept: &super::Kept) {
            self.0.keep(kept)
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
        let v: Vec<Entry> = h.entries.iter().cloned().collect();
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

    /// `three()` built again from scratch: equal, sharing no node.
    fn three_again() -> Linear {
        let h = three();
        assert!(!Arc::ptr_eq(&h.entries.0, &three().entries.0));
        h
    }

    #[test]
    fn histories_compare_entry_by_entry_up_to_a_shared_node() {
        let (a, b) = (three(), three_again());
        assert_eq!(a, b, "equal contents, no shared node");
        let mut c = a.clone();
        c.append_on(4, &Operation::NodeJoin(name("d"))).expect("a join applies");
        let mut d = a.clone();
        d.append_on(4, &Operation::NodeJoin(name("e"))).expect("a join applies");
        assert_ne!(c, d, "shared tail, different newest entries");
        let mut e = b.clone();
        e.append_on(4, &Operation::NodeJoin(name("d"))).expect("a join applies");
        assert_eq!(c, e, "equal newest entries on equal tails held apart");
        // Different oldest entries under equal newer ones.
        let mut f = Linear::new(Store::default(), 1);
        f.append_on(1, &Operation::NodeJoin(name("z"))).expect("a join applies");
        let mut g = Linear::new(Store::default(), 1);
        g.append_on(1, &Operation::NodeJoin(name("y"))).expect("a join applies");
        assert_ne!(f, g);
        assert_ne!(a, c, "different lengths");
    }

    #[test]
    fn kept_histories_share_one_copy_per_level() {
        let kept = Kept::default();
        let (mut a, mut b) = (three(), three_again());
        let mut other = three();
        other.append_on(4, &Operation::NodeJoin(name("d"))).expect("a join applies");
        let other_ptr = Arc::as_ptr(&other.entries.0);
        for h in [&mut a, &mut b, &mut other] {
            h.keep(&kept);
        }
        assert!(Arc::ptr_eq(&a.entries.0, &b.entries.0), "the second equal history takes the first's nodes");
        assert_eq!(a, three());
        assert_eq!(Arc::as_ptr(&other.entries.0), other_ptr, "a history met first keeps its own");
        assert_eq!(kept.len(), 2);
        kept.clear();
        assert!(kept.is_empty());
        let mut c = three_again();
        let c_ptr = Arc::as_ptr(&c.entries.0);
        c.keep(&kept);
        assert_eq!(Arc::as_ptr(&c.entries.0), c_ptr, "a cleared table shares nothing");
    }

    #[test]
    fn a_history_left_as_it_was_is_shared_and_a_changed_one_is_not() {
        let h = three();
        let mut same = h.clone();
        same.retain(|_| true);
        assert!(Arc::ptr_eq(&same.entries.0, &h.entries.0), "nothing pruned: shared");
        let mut pruned = h.clone();
        pruned.retain(|e| e.rev != 2);
        assert!(!Arc::ptr_eq(&pruned.entries.0, &h.entries.0));
        let kept: Vec<(Rev, Option<Rev>)> = pruned.entries.iter().map(|e| (e.rev, e.parent)).collect();
        assert_eq!(kept, [(1, None), (3, None), (4, Some(3))], "the parent that went is forgotten");
        assert_eq!(h.entries.len(), 4, "the original is untouched");
        let mut renumbered = pruned.clone();
        renumbered.map_stamps(&|r| if r > 2 { r - 1 } else { r });
        let revs: Vec<(Rev, Option<Rev>)> = renumbered.entries.iter().map(|e| (e.rev, e.parent)).collect();
        assert_eq!(revs, [(1, None), (2, None), (3, Some(2))]);
        assert_eq!(pruned.entries.iter().map(|e| e.rev).collect::<Vec<_>>(), [1, 3, 4]);
    }

    #[test]
    fn a_write_shares_every_older_entry() {
        let h = three();
        let mut next = h.clone();
        next.append_on(4, &Operation::NodeJoin(name("d"))).expect("a join applies");
        assert_eq!(next.entries.len(), 5);
        let older = next.entries.0.older.as_ref().expect("an older entry");
        assert!(Arc::ptr_eq(older, &h.entries.0), "the new list links to the old one");
        assert_eq!(next.entries.newest().rev, 5);
        assert_eq!(next.entries.iter().map(|e| e.rev).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_very_long_history_is_freed_without_recursion() {
        let h = three();
        let e = h.entries.newest().clone();
        let mut long = h.entries.clone();
        for _ in 0..1_000_000 {
            long = long.with(e.clone());
        }
        assert_eq!(long.len(), 1_000_004);
        let shared = long.clone();
        drop(long); // still held: nothing freed
        assert_eq!(shared.len(), 1_000_004);
        drop(shared); // a million nodes, one after another
        assert_eq!(h.entries.len(), 4, "the shared start outlives them");
    }

    #[test]
    fn histories_read_back_in_one_sharing_session_share_their_nodes() {
        use krepis_engine::checkpoint::{postcard_decode, postcard_encode};
        let h = three();
        let mut next = h.clone();
        next.append_on(4, &Operation::NodeJoin(name("d"))).expect("a join applies");
        let mut bytes = Vec::new();
        assert!(share::writing(|| postcard_encode(&(&h.entries, &next.entries), &mut bytes)));
        let (a, b): (Entries, Entries) = share::reading(|| postcard_decode(&bytes)).expect("reads back");
        assert_eq!((&a, &b), (&h.entries, &next.entries));
        let older = b.0.older.as_ref().expect("an older entry");
        assert!(Arc::ptr_eq(older, &a.0), "the longer history's older nodes are the shorter one's");
        // Outside a session each history is read on its own.
        let (c, d): (Entries, Entries) = postcard_decode(&bytes_plain(&h, &next)).expect("reads back");
        assert_eq!((&c, &d), (&h.entries, &next.entries));
        assert!(!Arc::ptr_eq(d.0.older.as_ref().unwrap(), &c.0));
    }

    fn bytes_plain(a: &Linear, b: &Linear) -> Vec<u8> {
        let mut bytes = Vec::new();
        assert!(krepis_engine::checkpoint::postcard_encode(&(&a.entries, &b.entries), &mut bytes));
        bytes
    }
}
