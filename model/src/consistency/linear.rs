//! A linear (or, for optimistic linear, tree-shaped) history of states,
//! shared by three of the four non-causal models (monotonic session,
//! resettable session, optimistic linear; a synchronous history holds its
//! one state itself: [`super::SyncHistory`]).

use super::Kept;
use crate::api::{apply, Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::stamp_set::{Gather, Ranks, StampMap};
use crate::store::{Snapshot, Store};
use krepis_encodings::share;
use std::sync::atomic::{AtomicU32, Ordering};
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
/// rebuild short lists; it holds its one entry itself since 2026-11-29).
#[derive(Clone)]
pub(crate) struct Entries(Arc<Node>);

/// One entry of a history and the entries before it. Cloned only by
/// `Arc::make_mut`, when a prune or a renumbering changes a node that other
/// histories share (a node this history alone holds changes in place).
struct Node {
    entry: Entry,
    /// Entries up to and including this one.
    len: u32,
    /// A 32-bit hash of the entries up to and including this one, the same
    /// for equal lists ([`Entries::chain`]), or [`UNKNOWN`] until asked
    /// for. It sits in what was the node's padding (a node is 48 bytes with
    /// or without it). Relaxed: every thread that computes it computes the
    /// same value, so a racing write stores what is already there.
    chain: AtomicU32,
    older: Option<Arc<Node>>,
}

// The chain costs no memory: a node stays 48 bytes.
const _: () = assert!(std::mem::size_of::<Node>() == 48);

/// The [`Node::chain`] of a node whose chain has not been computed (a
/// computed chain of 0 is stored as 1).
const UNKNOWN: u32 = 0;

impl Node {
    fn new(entry: Entry, len: u32, older: Option<Arc<Node>>) -> Self {
        Node { entry, len, chain: AtomicU32::new(UNKNOWN), older }
    }

    /// Forgets the chain: this node's entry or what is older changed.
    fn changed(&mut self) {
        *self.chain.get_mut() = UNKNOWN;
    }
}

impl Clone for Node {
    fn clone(&self) -> Self {
        let chain = AtomicU32::new(self.chain.load(Ordering::Relaxed));
        Node { entry: self.entry.clone(), len: self.len, chain, older: self.older.clone() }
    }
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
        Entries(Arc::new(Node::new(entry, 1, None)))
    }

    /// This history with `entry` written after its newest (shares this one).
    fn with(&self, entry: Entry) -> Self {
        Entries(Arc::new(Node::new(entry, self.0.len + 1, Some(self.0.clone()))))
    }

    /// Whether no other list holds this one's newest node.
    fn alone(&self) -> bool {
        Arc::count(&self.0) == 1
    }

    /// A hash of the entries, equal for equal lists, in constant time once
    /// known: each node keeps the hash of the list it heads ([`Node::chain`]),
    /// so only the nodes written or changed since it was last asked for are
    /// hashed (hashing the whole list for every new state of a search was 7%
    /// of a monotonic-session BFS run on `cluster`). Not the fingerprint:
    /// that hashes as `Vec<Entry>` does (see the type's doc).
    pub fn chain(&self) -> u64 {
        // The nodes down to the newest one whose chain is known, newest first.
        let mut unknown: smallvec::SmallVec<[&Node; 8]> = smallvec::SmallVec::new();
        let mut at = Some(&*self.0);
        let mut below = 0u32;
        while let Some(n) = at {
            match n.chain.load(Ordering::Relaxed) {
                UNKNOWN => unknown.push(n),
                known => {
                    below = known;
                    break;
                }
            }
            at = n.older.as_deref();
        }
        for n in unknown.iter().rev() {
            let e = &n.entry;
            let parent = e.parent.map_or(0, |p| u64::from(p) + 1);
            let words = [u64::from(below), u64::from(e.rev), parent, e.store.digest()];
            let bytes: [u8; 32] = le_bytes(words);
            // xxh3 called here, on 32 bytes it sees the length of: through
            // `fingerprint_bytes` (a call into the engine, the length not
            // known) 0.56% more instructions on a monotonic-session BFS run
            // on `cluster`, through `fingerprint_of` of the tuple 0.6% more,
            // and a rotate-and-multiply fold 0.23% more.
            let h = xxhash_rust::xxh3::xxh3_64(&bytes);
            below = match (h ^ (h >> 32)) as u32 {
                UNKNOWN => 1,
                c => c,
            };
            n.chain.store(below, Ordering::Relaxed);
        }
        // Spread over 64 bits, with the length, for the tables that take
        // their bucket from the low bits and a tag from the high ones.
        (u64::from(below) | (u64::from(self.0.len) << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
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

    /// The read point of the `k`-th entry (from 0, oldest first) of those
    /// newer than `rev` (of every entry for `None`): `revs_after`'s `k`-th,
    /// without building the others.
    pub fn nth_after(&self, rev: Option<Rev>, k: usize) -> Option<Revision> {
        let n = rev.map_or(self.len(), |r| self.count_after(r));
        let back = n.checked_sub(k.checked_add(1)?)?;
        self.newest_first().nth(back).map(|e| Revision::at(e.rev))
    }

    /// How many entries are newer than `rev`.
    pub fn count_after(&self, rev: Rev) -> usize {
        self.newest_first().take_while(|e| e.rev > rev).count()
    }
}

/// Four words as their little-endian bytes, in order.
fn le_bytes(words: [u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    out
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
    ///
    /// A list another history holds too (the state it came from, when the
    /// step wrote nothing) shares its memory already and is not looked up:
    /// 1.7% fewer instructions on a monotonic-session BFS run on `cluster`,
    /// the same peak memory. (The count may be stale while another thread
    /// drops a state that held the list: then the lookup is skipped, which
    /// costs memory, never correctness.)
    pub fn keep(&mut self, kept: &Kept) {
        if self.entries.alone() {
            kept.linear.share(self.entries.chain(), &mut self.entries);
        }
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
    ///
    /// Changes the list in place from the newest node down to the oldest
    /// that keeps an entry above a dropped one (only those change: their
    /// length, and their parent if it went); what is older stays shared.
    /// A node this history alone holds (the one its last write made) is
    /// changed where it is, a shared one is copied: a prune that drops
    /// every entry but the newest (synchronous, when it was a list)
    /// allocated a node per successor when the list was rebuilt.
    pub fn retain(&mut self, keep: impl Fn(&Entry) -> bool) {
        let last = self.last().rev;
        // An `InlineVec`: collecting into a `SmallVec` went through its
        // generic `extend`, a call per prune (0.7% of a synchronous BFS run).
        let kept: krepis_encodings::InlineVec<Rev, 16> =
            self.entries.newest_first().filter(|e| e.rev == last || keep(e)).map(|e| e.rev).collect();
        if kept.len() == self.entries.len() {
            return; // shared as it is
        }
        // Revisions decrease down the list, so `kept` is in list order and
        // the nodes below one hold the entries kept after it in `kept`.
        let mut at: &mut Arc<Node> = &mut self.entries.0;
        for (k, rev) in kept.iter().enumerate() {
            let node = Arc::make_mut(at);
            node.changed();
            debug_assert_eq!(node.entry.rev, *rev);
            let below = (kept.len() - k - 1) as u32;
            node.len = below + 1;
            // An entry whose parent went has no readable parent any more.
            node.entry.parent = node.entry.parent.filter(|p| kept.contains(p));
            // Unlink the dropped entries right below this one (all of
            // them, freed by `Node`'s drop, if nothing older is kept).
            let mut older = node.older.take().filter(|_| below > 0);
            while let Some(o) = older.take_if(|o| o.entry.rev != kept[k + 1]) {
                older = match Arc::try_unwrap(o) {
                    Ok(mut o) => o.older.take(),
                    Err(o) => o.older.clone(),
                };
            }
            node.older = older;
            match &mut node.older {
                // Nothing dropped further down: the rest stays as it is.
                Some(o) if o.len == below => return,
                Some(o) => at = o,
                None => return,
            }
        }
    }

    pub fn stamps(&self, set: &mut Gather) {
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

    /// Renames the nodes of every entry's store ([`Consistency::rename_nodes`]),
    /// from the newest entry down to the oldest one whose store changes
    /// (what is older stays shared).
    pub fn rename_nodes(&mut self, to: &dyn Fn(&crate::meta::Name) -> crate::meta::Name) {
        let mut renamed: Vec<Option<Snapshot>> =
            self.entries.newest_first().map(|e| e.store.with_nodes_renamed(&to)).collect();
        let Some(deepest) = renamed.iter().rposition(Option::is_some) else {
            return;
        };
        self.change_newest(deepest + 1, |k, e| {
            if let Some(store) = renamed[k].take() {
                e.store = store;
            }
        });
    }

    /// Changes the `n` newest entries with `f(k, entry)` (k: 0 for the
    /// newest): in place where this history alone holds their nodes, else
    /// in copies; what is older stays shared.
    fn change_newest(&mut self, n: usize, mut f: impl FnMut(usize, &mut Entry)) {
        let mut at: &mut Arc<Node> = &mut self.entries.0;
        for k in 0..n {
            let node = Arc::make_mut(at);
            node.changed();
            f(k, &mut node.entry);
            match &mut node.older {
                Some(o) if k + 1 < n => at = o,
                _ => return,
            }
        }
    }

    /// Replaces every stamp `x` of the history by `map(x)`, in place from
    /// the newest node down to the oldest one `map` changes (what is older
    /// stays shared). A node or snapshot this history alone holds changes
    /// where it is; a shared one is copied (snapshots through the
    /// per-thread cache of [`Snapshot::renumber`]).
    pub fn map_stamps(&mut self, map: &impl StampMap) {
        let changes = |e: &Entry| {
            map.map(e.rev) != e.rev || e.parent.is_some_and(|p| map.map(p) != p) || map.moves(e.store.stamp_set())
        };
        let Some(deepest) = self.entries.newest_first().enumerate().filter(|(_, e)| changes(e)).map(|(k, _)| k).last()
        else {
            return;
        };
        self.change_newest(deepest + 1, |_, e| {
            e.rev = map.map(e.rev);
            e.parent = e.parent.map(|p| map.map(p));
            e.store.renumber(map);
        });
    }
}

/// The methods every model over a [`Linear`] history shares (the history is
/// field 0 of the model): construction, the newest state, views by revision,
/// stamp handling, and (unless `without keep`) sharing equal histories of a
/// level ([`Linear::keep`]).
macro_rules! linear_common {
    ($model:ident) => {
        linear_common!($model, without keep);
        fn keep(&mut self, kept: &super::Kept) {
            self.0.keep(kept)
        }
    };
    ($model:ident, without keep) => {
        fn new(initial: Store, rev: Rev) -> Self {
            $model(Linear::new(initial, rev))
        }
        fn latest(&self) -> Cow<'_, Store> {
            Cow::Borrowed(&self.0.last().store)
        }
        fn max(&self) -> Revision {
            Revision::at(self.0.last().rev)
        }
        fn newest(&self) -> crate::meta::Rev {
            self.0.last().rev
        }
        fn view(&self, at: &Revision) -> Cow<'_, Store> {
            Cow::Borrowed(&self.0.get(at.newest()).unwrap_or(self.0.last()).store)
        }
        fn stamps(&self, set: &mut crate::stamp_set::Gather) {
            self.0.stamps(set)
        }
        fn missing(&self, read: &Revision) -> usize {
            self.0.entries.count_after(read.newest())
        }
        fn map_stamps(&mut self, map: &impl crate::stamp_set::StampMap) {
            self.0.map_stamps(map)
        }
        fn rename_nodes(&mut self, to: &dyn Fn(&crate::meta::Name) -> crate::meta::Name) {
            self.0.rename_nodes(to)
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
    use crate::consistency::Consistency;
    use crate::meta::name;

    /// A history of three writes: nodes a, b, c joining at revisions 2, 3, 4.
    fn three() -> Linear {
        let mut h = Linear::new(Store::default(), 1);
        for (base, n) in [(1, "a"), (2, "b"), (3, "c")] {
            h.append_on(base, &Operation::NodeJoin(name(n))).expect("a join applies");
        }
        h
    }

    /// A linear model's read points picked by place (`pick_read_token`,
    /// from the counts alone) are the ones `read_tokens` and
    /// `read_of_token` name, in `reads` order, for sessions that have read
    /// nothing, an old write, a middle one and the newest; a place past the
    /// last point picks nothing, and a token past them names nothing.
    fn picks_name_the_points_read<C: Consistency>() {
        let mut h = C::new(Store::default(), 1);
        for n in ["a", "b", "c", "d", "e"] {
            let at = h.max();
            h.write(&at, &Operation::NodeJoin(name(n))).expect("a join applies");
        }
        let sessions = [None, Some(Revision::at(1)), Some(Revision::at(3)), Some(h.max())];
        let borrowed: Vec<Option<&Revision>> = sessions.iter().map(|s| s.as_ref()).collect();
        let mut tokens = vec![Vec::new(); sessions.len()];
        h.read_tokens(&borrowed, &mut |s, t| tokens[s].push(t));
        let lens: Vec<u64> = tokens.iter().map(|t| t.len() as u64).collect();
        for (s, session) in borrowed.iter().enumerate() {
            let mut reads = Vec::new();
            h.reads(*session, &mut reads);
            assert_eq!(tokens[s].len(), reads.len(), "{}: session {s}", C::NAME);
            for k in 0..=reads.len() {
                let mut counts = Vec::new();
                let picked = h.pick_read_token(&borrowed, &mut |c| {
                    counts = c.to_vec();
                    Some((s, k as u64))
                });
                assert_eq!(counts, lens, "{}: counts of points", C::NAME);
                assert_eq!(picked, tokens[s].get(k).copied(), "{}: session {s}, point {k}", C::NAME);
                if let Some(t) = picked {
                    assert_eq!(h.read_of_token(*session, t).as_ref(), reads.get(k), "{}: session {s}", C::NAME);
                }
            }
            let past = reads.len() as u64;
            assert_eq!(h.read_of_token(*session, past), None, "{}: session {s}, a token past the points", C::NAME);
        }
        assert!(lens.iter().sum::<u64>() >= 3, "{}: sessions read several points ({lens:?})", C::NAME);
    }

    #[test]
    fn picks_name_the_points_read_in_every_linear_model() {
        use crate::consistency::{MonotonicSession, OptimisticLinear, ResettableSession, Synchronous};
        picks_name_the_points_read::<Synchronous>();
        picks_name_the_points_read::<MonotonicSession>();
        picks_name_the_points_read::<ResettableSession>();
        picks_name_the_points_read::<OptimisticLinear>();
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
        let mut held = three_again();
        let holder = held.clone();
        held.keep(&kept);
        assert!(Arc::ptr_eq(&held.entries.0, &holder.entries.0), "a list held twice is not looked up");
        assert_eq!(kept.len(), 2);
        kept.clear();
        assert!(kept.is_empty());
        let mut c = three_again();
        let c_ptr = Arc::as_ptr(&c.entries.0);
        c.keep(&kept);
        assert_eq!(Arc::as_ptr(&c.entries.0), c_ptr, "a cleared table shares nothing");
    }

    /// Two equal histories of model `C` written apart, kept one after the
    /// other: how many histories the table remembers.
    fn remembered<C: Consistency>() -> usize {
        let kept = Kept::default();
        for _ in 0..2 {
            let mut h = C::new(Store::default(), 1);
            for n in ["a", "b"] {
                let at = h.max();
                h.write(&at, &Operation::NodeJoin(name(n))).expect("a join applies");
            }
            h.keep(&kept);
        }
        kept.len()
    }

    #[test]
    fn every_linear_model_but_synchronous_shares_its_histories() {
        use crate::consistency::{MonotonicSession, OptimisticLinear, ResettableSession, Synchronous};
        assert_eq!(remembered::<MonotonicSession>(), 1);
        assert_eq!(remembered::<ResettableSession>(), 1);
        assert_eq!(remembered::<OptimisticLinear>(), 1);
        assert_eq!(remembered::<Synchronous>(), 0, "synchronous keeps nothing");
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

    /// A history written on the bases `bases` (optimistic linear: a write
    /// may go on an older entry), one node joining per write.
    fn written_on(bases: &[Rev]) -> Linear {
        let mut h = Linear::new(Store::default(), 1);
        for (k, &base) in bases.iter().enumerate() {
            h.append_on(base, &Operation::NodeJoin(name(&format!("n{k}")))).expect("a join applies");
        }
        h
    }

    /// Every node's length counts the nodes from it to the oldest.
    fn lengths_hold(h: &Linear) -> bool {
        let nodes: Vec<&Node> = std::iter::successors(Some(&*h.entries.0), |n| n.older.as_deref()).collect();
        nodes.iter().enumerate().all(|(k, n)| n.len as usize == nodes.len() - k)
    }

    /// Every way of pruning and then renumbering histories of up to five
    /// writes, each with its nodes from some depth on held by another
    /// history too, against the obvious vector filter and map: the same
    /// entries, the other history untouched, a node held by this history
    /// alone changed where it is.
    #[test]
    fn prunes_and_renumberings_in_place_equal_rebuilding() {
        let histories: Vec<Vec<Rev>> =
            vec![vec![], vec![1], vec![1, 2], vec![1, 1, 3], vec![1, 2, 2, 4], vec![1, 2, 3, 4, 5]];
        for bases in &histories {
            let n = bases.len() + 1;
            for held_from in 0..=n {
                for mask in 0u32..1 << n {
                    let mut h = written_on(bases);
                    // Chains known before the change, so a stale one would show.
                    h.entries.chain();
                    // The nodes from `held_from` (newest first) on are shared.
                    let held = std::iter::successors(Some(&h.entries.0), |n| n.older.as_ref()).nth(held_from).cloned();
                    let held_before: Option<Vec<Entry>> =
                        held.as_ref().map(|n| Entries(n.clone()).iter().cloned().collect());
                    let newest = Arc::as_ptr(&h.entries.0);
                    let all: Vec<Entry> = h.entries.iter().cloned().collect();
                    let keep = |e: &Entry| mask & 1 << (e.rev - 1) != 0;
                    let last = all.last().map(|e| e.rev);
                    let kept: Vec<Rev> = all.iter().filter(|e| keep(e) || Some(e.rev) == last).map(|e| e.rev).collect();
                    let mut want: Vec<Entry> = all
                        .iter()
                        .filter(|e| kept.contains(&e.rev))
                        .map(|e| Entry { parent: e.parent.filter(|p| kept.contains(p)), ..e.clone() })
                        .collect();
                    h.retain(keep);
                    let case = format!("bases {bases:?}, held from {held_from}, mask {mask:b}");
                    assert_eq!(h.entries.iter().cloned().collect::<Vec<_>>(), want, "{case}");
                    assert!(lengths_hold(&h), "{case}");
                    assert_eq!(h.entries.chain(), built(&want).chain(), "chain after the prune: {case}");
                    if held_from > 0 {
                        assert_eq!(Arc::as_ptr(&h.entries.0), newest, "unshared newest node kept in place: {case}");
                    }
                    // Nodes older than every dropped entry are the held ones.
                    let dropped = all.iter().map(|e| e.rev).find(|r| !kept.contains(r));
                    let held_nodes: Vec<*const Node> =
                        std::iter::successors(held.as_ref(), |n| n.older.as_ref()).map(Arc::as_ptr).collect();
                    for node in std::iter::successors(Some(&h.entries.0), |n| n.older.as_ref()) {
                        let below = dropped.is_some_and(|d| node.entry.rev < d);
                        let was_held = node.entry.rev as usize + held_from <= n; // depth n - rev
                        if below && was_held {
                            assert!(held_nodes.contains(&Arc::as_ptr(node)), "older nodes stay shared: {case}");
                        }
                    }
                    // Renumber densely: the k-th stamp in order becomes k + 1.
                    let mut stamps = Gather::new();
                    h.stamps(&mut stamps);
                    let stamps = stamps.finish();
                    let mut order = Vec::new();
                    stamps.each(&mut |r| order.push(r));
                    let map = |r: Rev| order.iter().position(|&x| x == r).map_or(r, |k| k as Rev + 1);
                    for e in &mut want {
                        e.rev = map(e.rev);
                        e.parent = e.parent.map(map);
                        e.store.renumber(&map);
                    }
                    h.map_stamps(&map);
                    assert_eq!(h.entries.iter().cloned().collect::<Vec<_>>(), want, "renumbered: {case}");
                    assert!(lengths_hold(&h), "{case}");
                    assert_eq!(h.entries.chain(), built(&want).chain(), "chain after renumbering: {case}");
                    if let (Some(held), Some(before)) = (held, held_before) {
                        assert_eq!(
                            Entries(held).iter().cloned().collect::<Vec<_>>(),
                            before,
                            "shared nodes untouched: {case}"
                        );
                    }
                }
            }
        }
    }

    /// A list of `entries` (oldest first) made node by node, no chain known.
    fn built(entries: &[Entry]) -> Entries {
        let (first, rest) = entries.split_first().expect("a history has an entry");
        rest.iter().fold(Entries::one(first.clone()), |l, e| l.with(e.clone()))
    }

    #[test]
    fn chains_are_equal_for_equal_lists_and_differ_otherwise() {
        let (a, b) = (three(), three_again());
        // `a`'s chain known node by node as it was written, `b`'s at once.
        let mut grown = Linear::new(Store::default(), 1);
        for (base, n) in [(1, "a"), (2, "b"), (3, "c")] {
            grown.entries.chain();
            grown.append_on(base, &Operation::NodeJoin(name(n))).expect("a join applies");
        }
        assert_eq!(grown.entries.chain(), b.entries.chain());
        assert_eq!(a.entries.chain(), b.entries.chain());
        let mut c = a.clone();
        c.append_on(4, &Operation::NodeJoin(name("d"))).expect("a join applies");
        let mut d = a.clone();
        d.append_on(4, &Operation::NodeJoin(name("e"))).expect("a join applies");
        let mut e = b.clone();
        e.append_on(4, &Operation::NodeJoin(name("d"))).expect("a join applies");
        assert_eq!(c.entries.chain(), e.entries.chain(), "equal newest entries on equal tails");
        assert_ne!(c.entries.chain(), d.entries.chain(), "different newest entries");
        assert_ne!(a.entries.chain(), c.entries.chain(), "different lengths");
        // The same entries in another order, and another parent.
        let entries: Vec<Entry> = c.entries.iter().cloned().collect();
        let mut swapped = entries.clone();
        swapped.swap(3, 4);
        assert_ne!(built(&swapped).chain(), c.entries.chain(), "order matters");
        let mut reparented = entries.clone();
        reparented[4].parent = Some(2);
        assert_ne!(built(&reparented).chain(), c.entries.chain(), "parents matter");
        assert_eq!(built(&entries).chain(), c.entries.chain());
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
