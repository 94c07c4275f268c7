//! Causal: a write lands on the (possibly merged) state its writer read and
//! becomes a new head; the newest state is the merge of all heads. A
//! controller reads any state it has not seen yet, merged with any set of
//! states concurrent with it. Merging keeps, per object, the version with the
//! higher resource version and never deletes, so a merged read can bring a
//! deleted object back.
//!
//! Krepis computes concurrency from ancestry (two writes are concurrent iff
//! neither is an ancestor of the other). The reference marks siblings (two
//! writes on the same parent) as never concurrent; krepis treats them as
//! concurrent, as causal consistency defines it.
//!
//! The history and the model's operations are here; [`table`] holds what a
//! list of writes and their links give (ancestries, the index by revision,
//! later concurrent writes), [`read_sets`] the read points drawn from them,
//! [`word_counts`] the memo that counts them.

mod read_sets;
mod table;
mod word_counts;

use super::{Consistency, PickPoint};
use crate::api::{apply, Operation, Rejection};
use crate::cached::Cached;
use crate::meta::Rev;
use crate::revision::Revision;
use crate::stamp_set::Gather;
use crate::store::{Snapshot, Store};
use read_sets::{has, Mask, ReadSets, SET_NODES, SET_TOKEN};
use std::borrow::Cow;
use table::{spare, Table};
use triomphe::{Arc, ThinArc};

use crate::thin::list_with;

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct Node {
    rev: Rev,
    /// Hashes and serialises as the `Vec` it replaced (inline: no
    /// allocation per node of every successor's copy of the history).
    preds: Preds,
    store: Snapshot,
}

/// A write's predecessors (one, or a few after concurrent writes).
type Preds = krepis_encodings::InlineVec<Rev, 2>;

/// A history's heads (one, or a few while writes are concurrent).
type Heads = krepis_encodings::InlineVec<Rev, 2>;

/// A history's writes, in increasing revision order, behind one pointer:
/// a step that writes nothing shares them with the state it came from, and
/// states of one BFS level with equal writes share one copy
/// ([`Consistency::keep`]). Compares, hashes and serialises as the vector
/// it was (fingerprints and checkpoints are unchanged).
///
/// The list is one allocation holding its length (`triomphe::ThinArc`,
/// as [`crate::store::Collection`]'s): an `Arc<Vec<Node>>` was two per
/// write (the `Arc` and the vector), 0.8 of the 7.2 allocations per
/// successor of a causal stale-reads search. A write copies the list
/// into a new one with room for its node, as the vector did whenever the
/// history was shared with the state it came from, which is every write
/// of a search.
#[derive(Clone)]
pub(crate) struct Nodes(ThinArc<(), Node>);

impl std::hash::Hash for Nodes {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self[..].hash(h)
    }
}

impl PartialEq for Nodes {
    fn eq(&self, o: &Self) -> bool {
        self.same(o) || self[..] == o[..]
    }
}

impl Eq for Nodes {}

impl Nodes {
    fn new(nodes: Vec<Node>) -> Self {
        let n = nodes.len();
        Nodes(list_with((), nodes.into_iter(), n))
    }

    /// Whether both are the one list (not merely equal).
    fn same(&self, o: &Self) -> bool {
        self.0.as_ptr() == o.0.as_ptr()
    }

    /// Changes every node with `f`: in place if no other history holds
    /// the list, else in a copy.
    fn change(&mut self, mut f: impl FnMut(&mut Node)) {
        let in_place = self.0.with_arc_mut(|list| {
            let Some(list) = Arc::get_mut(list) else {
                return false;
            };
            list.slice_mut().iter_mut().for_each(&mut f);
            true
        });
        if !in_place {
            let n = self.len();
            let copy = self.iter().map(|m| {
                let mut m = m.clone();
                f(&mut m);
                m
            });
            self.0 = list_with((), copy, n);
        }
    }

    /// Keeps the nodes `keep` accepts, each changed by `f`, in a new list
    /// (one allocation: the list cannot shrink in place).
    fn retain_changing(&mut self, keep: impl Fn(&Node) -> bool, f: impl Fn(&mut Node)) {
        let n = self.iter().filter(|m| keep(m)).count();
        let kept = self.0.slice.iter().filter(|m| keep(m)).map(|m| {
            let mut m = m.clone();
            f(&mut m);
            m
        });
        self.0 = list_with((), kept, n);
    }

    /// A hash of the writes, the same for equal lists, for the level's
    /// table of histories ([`Consistency::keep`]): each node's revision,
    /// predecessors and store digest folded in by a multiply and a rotate.
    /// Not the fingerprint, which hashes as `Vec<Node>` does through xxh3:
    /// this saves about 60 instructions a new state (0.5% of a causal BFS
    /// run's on `cluster`; causal histories are a few writes long).
    fn table_hash(&self) -> u64 {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let mix = |h: u64, x: u64| (h.rotate_left(26) ^ x).wrapping_mul(K);
        let h = self.iter().fold(self.len() as u64, |h, m| {
            let h = mix(h, u64::from(m.rev) << 8 | m.preds.len() as u64);
            let h = m.preds.iter().fold(h, |h, p| mix(h, u64::from(*p)));
            mix(h, m.store.digest())
        });
        // The high bits into the low ones, where tables take their bucket.
        h ^ (h >> 29)
    }

    /// Appends `node`, in a new list with room for it.
    fn push(&mut self, node: Node) {
        let n = self.len() + 1;
        self.0 = list_with((), self.0.slice.iter().cloned().chain(std::iter::once(node)), n);
    }
}

impl std::ops::Deref for Nodes {
    type Target = [Node];
    fn deref(&self) -> &[Node] {
        &self.0.slice
    }
}

impl std::fmt::Debug for Nodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self[..].fmt(f)
    }
}

impl serde::Serialize for Nodes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self[..].serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Nodes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(Nodes::new)
    }
}

/// The causal model, with pruning (`PRUNE`) or without.
#[derive(Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CausalHistory<const PRUNE: bool> {
    nodes: Nodes,
    /// Sorted; inline up to two (hashes and serialises as the `Vec` it was).
    heads: Heads,
    /// The merge of the heads when there are several ([`Consistency::latest`]),
    /// computed once per history: every property reads the newest state, and
    /// merging it afresh for each was a sixth of a causal simulation step.
    /// Cleared by every change to the heads or their stores.
    #[serde(skip)]
    latest: Cached<Arc<Store>>,
}

/// Written out, not derived: a derived `Clone` is marked `#[inline]`, and
/// inlining it into every state's clone made causal BFS on `cluster`
/// execute 4.0% more instructions (callgrind, 100,000 states: 1.543 G
/// against 1.484 G), though it does the same work.
impl<const PRUNE: bool> Clone for CausalHistory<PRUNE> {
    fn clone(&self) -> Self {
        CausalHistory { nodes: self.nodes.clone(), heads: Heads::from_slice(&self.heads), latest: self.latest.clone() }
    }
}

/// The causal model.
pub type Causal = CausalHistory<true>;

/// The causal model without pruning: the same behaviour over larger states.
/// Tests compare it with [`Causal`] to show the pruning loses nothing.
pub type CausalUnpruned = CausalHistory<false>;

impl<const PRUNE: bool> CausalHistory<PRUNE> {
    /// The index of write `r` in `nodes` (kept in increasing `rev` order:
    /// writes append a greater revision, pruning and renumbering keep order).
    fn index(&self, r: Rev) -> Option<usize> {
        self.nodes.binary_search_by_key(&r, |n| n.rev).ok()
    }

    /// The read point merging the nodes of `set` (node indices, each
    /// below the number of nodes).
    fn point_of_set(&self, set: u64) -> Revision {
        let mut rest = set;
        let mut revs = Vec::with_capacity(set.count_ones() as usize);
        while rest != 0 {
            revs.push(self.nodes[rest.trailing_zeros() as usize].rev);
            rest &= rest - 1;
        }
        Revision::merged(revs)
    }

    fn node(&self, r: Rev) -> Option<&Node> {
        self.index(r).map(|i| &self.nodes[i])
    }

    /// The writes `read` merges and all their ancestors, as a node set: one
    /// sweep from the newest node down, since predecessors are older writes.
    fn ancestry_of(&self, read: &[Rev]) -> Mask {
        let mut mask: Mask = smallvec::smallvec![0; self.nodes.len().div_ceil(64)];
        for i in read.iter().filter_map(|r| self.index(*r)) {
            mask[i / 64] |= 1 << (i % 64);
        }
        for (i, n) in self.nodes.iter().enumerate().rev() {
            if has(&mask, i) {
                for j in n.preds.iter().filter_map(|p| self.index(*p)) {
                    mask[j / 64] |= 1 << (j % 64);
                }
            }
        }
        mask
    }

    /// The writes `read` merges and all their ancestors, from `table` (made
    /// for these nodes): a union of a few bitmaps instead of a sweep over
    /// the nodes.
    fn ancestry_in(&self, table: &Table, read: &[Rev]) -> Mask {
        if table.ancestries.words == 1 {
            let rows = &table.ancestries.bits;
            let word = read.iter().filter_map(|r| table.of(self, *r)).fold(0, |w, i| w | rows[i]);
            return smallvec::smallvec![word];
        }
        let mut mask: Mask = smallvec::smallvec![0; self.nodes.len().div_ceil(64)];
        for i in read.iter().filter_map(|r| table.of(self, *r)) {
            mask.iter_mut().zip(table.ancestries.row(i)).for_each(|(a, b)| *a |= b);
        }
        mask
    }

    /// The newest write that every other write is an ancestor or a
    /// descendant of and that every session of `sessions` has seen
    /// ([`Consistency::prune`]), by node index, from `table` (made for these
    /// nodes); `one_word` (node sets of one word) takes the word-wise test.
    fn cut(&self, table: &Table, sessions: &[Option<&[Rev]>], one_word: bool) -> Option<usize> {
        let ancestries = &table.ancestries;
        let n = self.nodes.len();
        // Nodes are in increasing revision order: the newest cut is the
        // first met from the end.
        if one_word {
            // One word per row: `i` is a cut iff its ancestry is every node
            // up to it (no older node is concurrent with it) and it is in
            // the ancestry of every newer node (nor any newer one), tested
            // with the intersection of the newer nodes' ancestries, kept
            // as the scan goes down (testing node pairs bit by bit was 4% of
            // a causal simulation step).
            let rows = &ancestries.bits;
            let seen = sessions.iter().flatten().fold(!0u64, |all, s| all & self.ancestry_in(table, s)[0]);
            let mut newer = !0u64;
            (0..n).rev().find(|&i| {
                let upto = !0u64 >> (63 - i);
                let cut = rows[i] == upto && newer >> i & 1 == 1 && seen >> i & 1 == 1;
                newer &= rows[i];
                cut
            })
        } else {
            // On the stack for the usual sizes: this runs once per successor.
            let seen: smallvec::SmallVec<[Mask; 4]> =
                sessions.iter().flatten().map(|s| self.ancestry_in(table, s)).collect();
            (0..n).rev().find(|&i| {
                let anc = ancestries.row(i);
                (0..n).all(|j| has(anc, j) || has(ancestries.row(j), i)) && seen.iter().all(|s| has(s, i))
            })
        }
    }

    /// Writes `op`, computed from the state at `read`, onto `store` (that
    /// state) as a new write after every other.
    fn write_on(&mut self, read: &Revision, mut store: Store, op: &Operation) -> Result<(), Rejection> {
        let rev = self.nodes.iter().map(|n| n.rev).max().unwrap_or(0) + 1;
        apply(&mut store, op, rev)?;
        let preds = Preds::from_slice(read.components());
        self.heads.retain(|h| !preds.contains(h));
        self.heads.push(rev);
        self.heads.sort_unstable();
        let table = self.take_table();
        self.nodes.push(Node { rev, preds, store: Snapshot::new(store) });
        self.latest.clear();
        if let Some(table) = table {
            self.extend_table(table);
        }
        Ok(())
    }

    /// The merge of the stores of the writes `revs`: one write's store
    /// itself. Inlined, so that reading one write costs no call: in its
    /// own function (as codegen units happened to partition the crate on
    /// 2026-11-29) it was 3% more instructions on a causal BFS run on
    /// `cluster`, its 1.4 M calls mostly for one write.
    #[inline(always)]
    fn merge_of(&self, revs: &[Rev]) -> Cow<'_, Store> {
        match revs {
            [one] => match self.node(*one) {
                Some(n) => Cow::Borrowed(&n.store),
                None => Cow::Owned(Store::default()),
            },
            _ => Cow::Owned(self.merge_several(revs)),
        }
    }

    /// [`Self::merge_of`] several writes: a copy of the first one's store
    /// with the others merged in.
    #[inline(never)]
    fn merge_several(&self, revs: &[Rev]) -> Store {
        let mut stores = revs.iter().filter_map(|r| self.node(*r));
        let mut s = stores.next().map_or_else(Store::default, |n| Store::clone(&n.store));
        stores.for_each(|n| s.merge(&n.store));
        s
    }
}

impl<const PRUNE: bool> Consistency for CausalHistory<PRUNE> {
    const NAME: &'static str = "causal";
    const WRITES_ON_VIEW: bool = true;

    fn new(initial: Store, rev: Rev) -> Self {
        CausalHistory {
            nodes: Nodes::new(vec![Node { rev, preds: Preds::new(), store: Snapshot::new(initial) }]),
            heads: krepis_encodings::inline_vec![rev],
            latest: Cached::default(),
        }
    }
    fn latest(&self) -> Cow<'_, Store> {
        match self.heads[..] {
            [_] => self.merge_of(&self.heads),
            _ => Cow::Borrowed(self.latest.get_or_init(|| Arc::new(self.merge_of(&self.heads).into_owned()))),
        }
    }
    fn max(&self) -> Revision {
        // Heads are kept sorted, without repeats.
        Revision::from_sorted(&self.heads)
    }
    fn newest(&self) -> Rev {
        self.heads.last().copied().unwrap_or(0)
    }
    /// Sorted and without duplicates (read sets are built in sorted order).
    fn reads(&self, session: Option<&Revision>, out: &mut Vec<Revision>) {
        let sets = ReadSets::new(self);
        let starts = sets.starts(session);
        let before = out.len();
        for i in starts.iter() {
            sets.all_from(i, out);
        }
        debug_assert!(out[before..].windows(2).all(|w| w[0] < w[1]), "read points come out sorted");
    }
    /// Histories of at most 46 nodes name points by node set,
    /// larger ones by index (counted, not built); one ancestry table serves
    /// all sessions.
    fn read_tokens(&self, sessions: &[Option<&Revision>], emit: &mut dyn FnMut(usize, u64)) {
        let sets = ReadSets::new(self);
        let starts: smallvec::SmallVec<[_; 4]> = sessions.iter().map(|s| sets.starts(*s)).collect();
        let small = self.nodes.len() <= SET_NODES;
        for (s, starts) in starts.iter().enumerate() {
            if small {
                starts.iter().for_each(|i| sets.tokens_from(i, &mut |t| emit(s, t)));
            } else {
                let mut counter = sets.counter();
                let n = starts.iter().fold(0u64, |n, i| n.saturating_add(sets.count_at(i, &mut counter)));
                (0..n).for_each(|k| emit(s, k));
            }
        }
    }
    /// Counts the points of every session (memoised over candidate sets)
    /// and builds only the token picked.
    fn pick_read_token(&self, sessions: &[Option<&Revision>], pick: &mut PickPoint<'_>) -> Option<u64> {
        let sets = ReadSets::new(self);
        let starts: smallvec::SmallVec<[_; 4]> = sessions.iter().map(|s| sets.starts(*s)).collect();
        let mut counter = sets.counter();
        let counts: smallvec::SmallVec<[u64; 8]> = starts
            .iter()
            .map(|st| st.iter().fold(0u64, |n, i| n.saturating_add(sets.count_at(i, &mut counter))))
            .collect();
        let (s, mut k) = pick(&counts)?;
        if k >= *counts.get(s)? {
            return None;
        }
        if self.nodes.len() > SET_NODES {
            return Some(k);
        }
        // Named by node set: the counter counted words.
        for i in starts[s].iter() {
            let n = sets.count_at(i, &mut counter);
            if k < n {
                return sets.nth_word_from(i, k, &mut counter.words).map(|set| SET_TOKEN | set);
            }
            k -= n;
        }
        None
    }
    /// A set token gives the merge of its nodes (checked to exist, not to
    /// be a read point of `session`) with no table at all; an index token
    /// the `k`-th point, found by counting whole subtrees of sets.
    fn read_of_token(&self, session: Option<&Revision>, token: u64) -> Option<Revision> {
        if self.nodes.len() > SET_NODES {
            let sets = ReadSets::new(self);
            let starts = sets.starts(session);
            let mut k = token;
            let mut counter = sets.counter();
            for i in starts.iter() {
                let n = sets.count_at(i, &mut counter);
                if k < n {
                    return sets.nth_at(i, k, &mut counter);
                }
                k -= n;
            }
            return None;
        }
        if token & SET_TOKEN == 0 {
            return None;
        }
        let set = token & !SET_TOKEN;
        if set == 0 || set >> self.nodes.len() != 0 {
            return None;
        }
        Some(self.point_of_set(set))
    }
    fn view(&self, at: &Revision) -> Cow<'_, Store> {
        self.merge_of(at.components())
    }
    fn missing(&self, read: &Revision) -> usize {
        let seen = self.ancestry_of(read.components());
        (0..self.nodes.len()).filter(|&i| !has(&seen, i)).count()
    }
    fn base(&self, read: &Revision) -> Cow<'_, Store> {
        self.view(read)
    }
    fn write(&mut self, read: &Revision, op: &Operation) -> Result<(), Rejection> {
        let store = self.view(read).into_owned();
        self.write_on(read, store, op)
    }
    fn write_on_view(&mut self, read: &Revision, view: &Store, op: &Operation) -> Result<(), Rejection> {
        debug_assert!(*view == *self.view(read), "the view at the read point");
        self.write_on(read, view.clone(), op)
    }

    /// Finds the newest write `n` that every other write is an ancestor or
    /// a descendant of (a cut of the history) and that every controller with
    /// a session has seen (`n` is in its session's ancestry), then drops
    /// `n`'s ancestors, and `n` itself unless it is a head.
    ///
    /// Why this is sound: a controller with a session reads only writes
    /// outside its session's ancestry; that ancestry holds `n` and so all of
    /// `n`'s ancestors, and what it reads next (writes outside that ancestry,
    /// all descendants of `n`) keeps them in the new session's ancestry. A
    /// controller without a session (started or restarted) reads heads
    /// merged with later concurrent writes: descendants of `n`, or `n` when
    /// it is the head. Writes land on what was read. So no read, write or
    /// merge can involve a dropped write again. Whether two remaining writes
    /// are concurrent does not change either: a path between two descendants
    /// of `n` never passes through `n`'s ancestors. The properties read only
    /// the heads. Restarts do not matter (unlike the linear models). Tests
    /// compare verdicts with [`CausalUnpruned`].
    fn prune(&mut self, sessions: &[Option<&[Rev]>], _resets_possible: bool) {
        if !PRUNE || self.nodes.len() < 2 {
            return;
        }
        let table = self.table();
        let ancestries = &table.ancestries;
        let cut = self.cut(&table, sessions, ancestries.words == 1);
        let Some(i) = cut else { return };
        let keep_n = self.heads.contains(&self.nodes[i].rev);
        let dropped: smallvec::SmallVec<[Rev; 8]> = (0..self.nodes.len())
            .filter(|&j| has(ancestries.row(i), j) && (j != i || !keep_n))
            .map(|j| self.nodes[j].rev)
            .collect();
        if dropped.is_empty() {
            return;
        }
        drop(table);
        if let Some(table) = self.forget_table() {
            spare(table);
        }
        self.nodes.retain_changing(|m| !dropped.contains(&m.rev), |m| m.preds.retain(|p| !dropped.contains(p)));
        // Heads are never dropped (a head that is an ancestor of `n` is
        // `n`), so the merge of the heads stands; cleared all the same, so
        // that its validity rests on no argument.
        self.latest.clear();
    }
    /// Shares the writes with an equal history's met before in the same
    /// BFS level, if any.
    fn keep(&mut self, kept: &super::Kept) {
        kept.causal.share(self.nodes.table_hash(), &mut self.nodes);
    }
    fn stamps(&self, set: &mut Gather) {
        for n in self.nodes.iter() {
            set.insert(n.rev);
            n.preds.iter().for_each(|p| set.insert(*p));
            set.union(n.store.stamp_set());
        }
    }
    fn hash_ranked(&self, ranks: &crate::stamp_set::Ranks<'_>, h: &mut dyn std::hash::Hasher) {
        h.write_usize(self.nodes.len());
        for n in self.nodes.iter() {
            h.write_u32(ranks.map(n.rev));
            h.write_usize(n.preds.len());
            n.preds.iter().for_each(|p| h.write_u32(ranks.map(*p)));
            n.store.hash_ranked(ranks, h);
        }
        h.write_usize(self.heads.len());
        self.heads.iter().for_each(|r| h.write_u32(ranks.map(*r)));
    }
    fn rename_nodes(&mut self, to: &dyn Fn(&crate::meta::Name) -> crate::meta::Name) {
        let renamed: Vec<Option<Snapshot>> = self.nodes.iter().map(|n| n.store.with_nodes_renamed(&to)).collect();
        if renamed.iter().all(Option::is_none) {
            return;
        }
        // The writes and their links stand, and with them the table; it is
        // let go all the same, so that its validity rests on no argument.
        if let Some(table) = self.forget_table() {
            spare(table);
        }
        let mut renamed = renamed.into_iter();
        self.nodes.change(|n| {
            if let Some(store) = renamed.next().flatten() {
                n.store = store;
            }
        });
        self.latest.clear();
    }

    fn map_stamps(&mut self, map: &impl crate::stamp_set::StampMap) {
        // The table stands (renumbering keeps the nodes and their links).
        let table = self.forget_table();
        self.nodes.change(|n| {
            n.rev = map.map(n.rev);
            n.preds.iter_mut().for_each(|p| *p = map.map(*p));
            n.store.renumber(map);
        });
        self.heads.iter_mut().for_each(|h| *h = map.map(*h));
        self.latest.clear();
        // The links stand, and with them the ancestries and later nodes;
        // the index by revision is made again.
        if let Some(mut table) = table {
            if let Some(t) = std::rc::Rc::get_mut(&mut table) {
                self.fill_index(&mut t.index);
                self.remember_table(table);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::read_sets::Later;
    use super::*;

    #[test]
    fn a_remembered_table_is_the_one_its_nodes_give() {
        let same = |h: &Causal| {
            let (got, want) = (h.table(), h.compute_table());
            assert_eq!((got.ancestries.words, &got.ancestries.bits), (want.ancestries.words, &want.ancestries.bits));
            assert_eq!(got.index, want.index);
            // The later nodes, made once and then read from the table.
            let sets = ReadSets::new(h);
            let fresh = h.compute_later(&want);
            assert_eq!((sets.later.rows.words, &sets.later.rows.bits), (fresh.words, &fresh.bits));
            assert!(std::rc::Rc::ptr_eq(&sets.later, got.later.get().expect("kept in the table")));
            // Counts the table kept are those of a fresh one; then every
            // node's is counted, for the next change to keep or forget.
            let counts = vec![std::cell::Cell::new(0); h.nodes.len()];
            let fresh = ReadSets {
                history: h,
                table: std::rc::Rc::new(want),
                later: std::rc::Rc::new(Later { rows: fresh, counts }),
            };
            for i in 0..h.nodes.len() {
                let kept = sets.later.counts[i].get();
                let want = fresh.count_at(i, &mut fresh.counter());
                assert!(kept == 0 || kept == want, "node {i}: {kept} read points kept, {want} counted");
                assert_eq!(sets.count_at(i, &mut sets.counter()), want);
            }
        };
        for seed in 0..20 {
            let mut h = history(12, seed);
            same(&h);
            // Renumbered (keeps the table), written on, pruned.
            h.map_stamps(&|r| 3 * r + 7);
            same(&h);
            let before = h.clone();
            let max = h.max();
            h.write(&max, &Operation::NodeJoin(crate::meta::name("x"))).expect("a join applies");
            same(&h);
            // A write on an old read: concurrent with the writes after it
            // (the table of `h`, just compared, is the thread's last).
            let old = Revision::at(h.nodes[4].rev);
            h.write(&old, &Operation::NodeJoin(crate::meta::name("y"))).expect("a join applies");
            same(&h);
            same(&before);
            h.prune(&[Some(h.max().components())], false);
            same(&h);
            same(&before);
        }
    }

    #[test]
    fn kept_causal_histories_share_their_writes_until_one_writes() {
        let kept = super::super::Kept::default();
        let join = |n: &str| Operation::NodeJoin(crate::meta::name(n));
        let (mut a, mut b) = (Causal::new(Store::default(), 1), Causal::new(Store::default(), 1));
        for h in [&mut a, &mut b] {
            h.write(&Revision::at(1), &join("a")).expect("a join applies");
        }
        assert!(!a.nodes.same(&b.nodes));
        a.keep(&kept);
        b.keep(&kept);
        assert!(a.nodes.same(&b.nodes), "the second takes the first's writes");
        assert_eq!(kept.len(), 1);
        let before = b.clone();
        a.write(&a.max(), &join("b")).expect("a join applies");
        assert_eq!((a.nodes.len(), b.nodes.len()), (3, 2), "a write copies shared writes first");
        assert_eq!(b, before);
        let mut c = before.clone();
        c.write(&c.max(), &join("c")).expect("a join applies");
        let mut again = before.clone();
        again.write(&again.max(), &join("b")).expect("a join applies");
        assert!(!again.nodes.same(&a.nodes));
        assert_eq!(again.nodes.table_hash(), a.nodes.table_hash(), "equal writes, equal hashes");
        assert_ne!(c.nodes.table_hash(), a.nodes.table_hash(), "another write, another hash");
        assert_ne!(b.nodes.table_hash(), a.nodes.table_hash(), "fewer writes, another hash");
    }

    /// A history of `n` writes (revisions 1..=n) whose predecessors a small
    /// generator draws from `seed`: each write lands on one or two earlier
    /// writes, mostly the one just before (as controllers' reads do), so
    /// histories have long chains and short concurrent branches (the read
    /// points of many concurrent writes are too many to enumerate).
    fn history(n: usize, seed: u64) -> Causal {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = |m: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m as u64) as usize
        };
        // A branch that ends unmerged is concurrent with every later
        // write, doubling the read points: few of them in long histories.
        let fork = if n <= 12 { 3 } else { 24 };
        let mut nodes = Vec::new();
        for i in 0..n {
            let mut preds = Preds::new();
            if i > 0 {
                for _ in 0..1 + usize::from(next(4) == 0) {
                    let back = if next(fork) == 0 { 1 + next(i.min(4)) } else { 1 };
                    preds.push((i - back + 1) as Rev);
                }
                preds.sort_unstable();
                preds.dedup();
            }
            nodes.push(Node { rev: (i + 1) as Rev, preds, store: Snapshot::new(Store::default()) });
        }
        let heads = (1..=n as Rev).filter(|r| nodes.iter().all(|m| !m.preds.contains(r))).collect();
        CausalHistory { nodes: Nodes::new(nodes), heads, latest: Cached::default() }
    }

    /// The table's ancestries and later concurrent nodes are those the
    /// definitions give, for histories whose node sets fit one word (built
    /// from predecessor sets) and larger ones (built row by row), and for
    /// a history whose revisions are too sparse for an index.
    #[test]
    fn tables_follow_their_definitions() {
        for (n, seeds) in [(1, 1), (2, 3), (12, 20), (63, 3), (64, 3), (65, 3), (130, 2)] {
            for seed in 0..seeds {
                let mut h = history(n, seed);
                if seed == 1 {
                    h.map_stamps(&|r| r * 5000);
                }
                let anc = ancestors(&h);
                let table = h.compute_table();
                assert_eq!(table.index.is_empty(), seed == 1 && n > 1, "{n} writes, seed {seed}: index");
                let later = h.compute_later(&table);
                for (i, a) in h.nodes.iter().enumerate() {
                    for (j, b) in h.nodes.iter().enumerate() {
                        let ancestor = i == j || anc.contains(&(b.rev, a.rev));
                        assert_eq!(has(table.ancestries.row(i), j), ancestor, "{n} writes, seed {seed}: {j} under {i}");
                        let concurrent = j > i && !anc.contains(&(a.rev, b.rev));
                        assert_eq!(has(later.row(i), j), concurrent, "{n} writes, seed {seed}: {j} later than {i}");
                    }
                }
            }
        }
    }

    /// The word-wise cut ([`CausalHistory::cut`], node sets of one word)
    /// is the node-pair one, for every session and none.
    #[test]
    fn word_cuts_are_node_pair_cuts() {
        let mut found = 0;
        for n in [2, 3, 5, 8, 12, 20, 40, 64] {
            for seed in 0..30u64 {
                let h = history(n, seed);
                let table = h.compute_table();
                assert_eq!(table.ancestries.words, 1);
                let revs: Vec<Rev> = h.nodes.iter().map(|m| m.rev).collect();
                let one = |k: u64| vec![revs[(seed * 7 + k) as usize % n]];
                let (a, b, both) = (one(1), one(3), vec![revs[0], revs[n - 1]]);
                let cases: [&[Option<&[Rev]>]; 5] =
                    [&[], &[None], &[Some(&a)], &[Some(&a), None, Some(&b)], &[Some(&both), Some(&a)]];
                for sessions in cases {
                    let cut = h.cut(&table, sessions, true);
                    assert_eq!(cut, h.cut(&table, sessions, false), "{n} writes, seed {seed}, {sessions:?}");
                    found += usize::from(cut.is_some());
                }
            }
        }
        assert!(found > 100, "cuts exist in these histories ({found})");
    }

    /// Every (ancestor, descendant) pair of writes, by walking each write's
    /// predecessors to the start.
    fn ancestors(h: &Causal) -> std::collections::HashSet<(Rev, Rev)> {
        let mut pairs = std::collections::HashSet::new();
        for n in h.nodes.iter() {
            let mut todo = n.preds.to_vec();
            while let Some(p) = todo.pop() {
                if pairs.insert((p, n.rev)) {
                    todo.extend(h.node(p).map_or(&[][..], |m| &m.preds[..]));
                }
            }
        }
        pairs
    }

    /// The read points of `session`, straight from the definition: sets of
    /// pairwise concurrent writes whose oldest write is a head (no session)
    /// or a write the session has not seen, sorted.
    fn expected(h: &Causal, session: Option<&Revision>) -> Vec<Revision> {
        let revs: Vec<Rev> = h.nodes.iter().map(|n| n.rev).collect();
        let pairs = ancestors(h);
        let ancestor = |a: Rev, b: Rev| pairs.contains(&(a, b));
        let concurrent = |a: Rev, b: Rev| a != b && !ancestor(a, b) && !ancestor(b, a);
        let starts: Vec<Rev> = match session {
            None => h.heads.to_vec(),
            Some(s) => {
                revs.iter().copied().filter(|&r| !s.components().iter().any(|&c| c == r || ancestor(r, c))).collect()
            }
        };
        fn grow(set: &mut Vec<Rev>, revs: &[Rev], conc: &dyn Fn(Rev, Rev) -> bool, out: &mut Vec<Revision>) {
            out.push(Revision::merged(set.clone()));
            let last = *set.last().unwrap_or(&0);
            for &r in revs.iter().filter(|&&r| r > last) {
                if set.iter().all(|&s| conc(s, r)) {
                    set.push(r);
                    grow(set, revs, conc, out);
                    set.pop();
                }
            }
        }
        let mut out = Vec::new();
        for s in starts {
            grow(&mut vec![s], &revs, &concurrent, &mut out);
        }
        out.sort();
        out
    }

    /// `reads` gives exactly the read points of the definition, sorted and
    /// once each, and the tokens `read_tokens` gives for several sessions at
    /// once name the same points in the same order: on histories named by
    /// node set (up to 46 writes) and by index (more: counted as one word
    /// up to 64, as several past it), with no session and with sessions
    /// that have seen one write or two.
    #[test]
    fn read_points_and_their_tokens_follow_the_definition() {
        let mut compared = 0;
        for (n, seeds) in
            [(1, 1), (2, 4), (5, 40), (12, 60), (SET_NODES, 10), (SET_NODES + 1, 10), (64, 4), (65, 4), (70, 4)]
        {
            for seed in 0..seeds {
                let h = history(n, seed);
                let mut sessions = vec![None, Some(Revision::at(1)), Some(Revision::at(n as Rev))];
                if n > 3 {
                    sessions.push(Some(Revision::merged(vec![2, n as Rev - 1])));
                }
                let borrowed: Vec<Option<&Revision>> = sessions.iter().map(|s| s.as_ref()).collect();
                let mut tokens = vec![Vec::new(); sessions.len()];
                h.read_tokens(&borrowed, &mut |s, t| tokens[s].push(t));
                for (s, session) in borrowed.iter().enumerate() {
                    let mut reads = Vec::new();
                    h.reads(*session, &mut reads);
                    assert_eq!(reads, expected(&h, *session), "{n} writes, seed {seed}, session {session:?}");
                    let named: Vec<Option<Revision>> =
                        tokens[s].iter().map(|&t| h.read_of_token(*session, t)).collect();
                    // Picking a point by its place names the same token,
                    // from the counts of every session's points.
                    let step = tokens[s].len() / 50 + 1;
                    for k in (0..tokens[s].len()).step_by(step) {
                        let mut counts = Vec::new();
                        let picked = h.pick_read_token(&borrowed, &mut |c| {
                            counts = c.to_vec();
                            Some((s, k as u64))
                        });
                        assert_eq!(picked, Some(tokens[s][k]), "{n} writes, seed {seed}, session {s}, point {k}");
                        let lens: Vec<u64> = tokens.iter().map(|t| t.len() as u64).collect();
                        assert_eq!(counts, lens, "{n} writes, seed {seed}: counts of points");
                    }
                    let past = h.pick_read_token(&borrowed, &mut |_| Some((s, tokens[s].len() as u64)));
                    assert_eq!(past, None, "a place past the last point");
                    let reads: Vec<Option<Revision>> = reads.into_iter().map(Some).collect();
                    assert_eq!(named, reads, "{n} writes, seed {seed}, session {session:?}: tokens");
                    compared += named.len();
                }
            }
        }
        assert!(compared > 10_000, "the histories have many read points ({compared})");
    }

    /// Tokens that name no write are refused.
    #[test]
    fn tokens_naming_no_write_are_refused() {
        let h = history(5, 3);
        assert_eq!(h.read_of_token(None, SET_TOKEN), None, "the empty set");
        assert_eq!(h.read_of_token(None, SET_TOKEN | 1 << 5), None, "a sixth write");
        let big = history(SET_NODES + 2, 3);
        let mut n = 0;
        big.read_tokens(&[None], &mut |_, _| n += 1);
        assert_eq!(big.read_of_token(None, n), None, "an index past the last point");
        assert!(big.read_of_token(None, n - 1).is_some());
    }
}
