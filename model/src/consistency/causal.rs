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

use super::Consistency;
use crate::api::{apply, Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::stamp_set::StampSet;
use crate::store::{Snapshot, Store};
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
struct Node {
    rev: Rev,
    preds: Vec<Rev>,
    store: Snapshot,
}

/// A set of a history's nodes, by index, one bit each (inline up to 256).
type Mask = smallvec::SmallVec<[u64; 4]>;

/// Whether node `i` is in `mask`.
fn has(mask: &Mask, i: usize) -> bool {
    mask.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
}

/// The causal model, with pruning (`PRUNE`) or without.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CausalHistory<const PRUNE: bool> {
    nodes: Vec<Node>,
    heads: Vec<Rev>,
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

    fn node(&self, r: Rev) -> Option<&Node> {
        self.index(r).map(|i| &self.nodes[i])
    }

    /// For every node, the set of it and its ancestors (node indices), in
    /// one sweep: predecessors are older writes, so they come first. Bitmaps
    /// instead of lists of revisions searched at every step, which were half
    /// of a causal simulation's time.
    fn ancestries(&self) -> Vec<Mask> {
        let words = self.nodes.len().div_ceil(64);
        let mut all: Vec<Mask> = Vec::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate() {
            let mut m: Mask = smallvec::smallvec![0; words];
            m[i / 64] |= 1 << (i % 64);
            for j in n.preds.iter().filter_map(|p| self.index(*p)) {
                if j < i {
                    m.iter_mut().zip(&all[j]).for_each(|(a, b)| *a |= b);
                }
            }
            all.push(m);
        }
        all
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

    /// The writes `read` merges and all their ancestors, from the table of
    /// every node's ancestry (`all`, from [`Self::ancestries`]): a union of
    /// a few bitmaps instead of a sweep over the nodes.
    fn ancestry_in(&self, all: &[Mask], read: &[Rev]) -> Mask {
        let mut mask: Mask = smallvec::smallvec![0; self.nodes.len().div_ceil(64)];
        for i in read.iter().filter_map(|r| self.index(*r)) {
            mask.iter_mut().zip(&all[i]).for_each(|(a, b)| *a |= b);
        }
        mask
    }

    /// `[start]` (a node index) and every extension by later writes
    /// concurrent with all of it.
    fn combinations(&self, all: &[Mask], start: usize, out: &mut Vec<Revision>) {
        fn extend<const P: bool>(c: &CausalHistory<P>, all: &[Mask], combo: &mut Vec<usize>, out: &mut Vec<Revision>) {
            out.push(Revision::merged(combo.iter().map(|&i| c.nodes[i].rev).collect()));
            let last = *combo.last().unwrap_or(&0);
            // Later nodes cannot be ancestors of earlier ones: concurrent
            // with `x` means not descended from it.
            for n in last + 1..c.nodes.len() {
                if combo.iter().all(|&x| !has(&all[n], x)) {
                    combo.push(n);
                    extend(c, all, combo, out);
                    combo.pop();
                }
            }
        }
        extend(self, all, &mut vec![start], out);
    }

    /// How many sets `combinations` gives from `combo` (its extensions and
    /// itself), without building them. No set is given twice (each is
    /// built from its smallest node, adding larger ones), so this is the
    /// number `reads` keeps after removing duplicates.
    fn count_combinations(&self, all: &[Mask], combo: &mut smallvec::SmallVec<[usize; 8]>) -> usize {
        let last = *combo.last().unwrap_or(&0);
        let mut n = 1;
        for x in last + 1..self.nodes.len() {
            if combo.iter().all(|&c| !has(&all[x], c)) {
                combo.push(x);
                n += self.count_combinations(all, combo);
                combo.pop();
            }
        }
        n
    }

    fn merge_of(&self, revs: &[Rev]) -> Cow<'_, Store> {
        match revs {
            [one] => match self.node(*one) {
                Some(n) => Cow::Borrowed(&n.store),
                None => Cow::Owned(Store::default()),
            },
            _ => {
                let mut stores = revs.iter().filter_map(|r| self.node(*r));
                let mut s = stores.next().map_or_else(Store::default, |n| Store::clone(&n.store));
                stores.for_each(|n| s.merge(&n.store));
                Cow::Owned(s)
            }
        }
    }
}

impl<const PRUNE: bool> Consistency for CausalHistory<PRUNE> {
    const NAME: &'static str = "causal";

    fn new(initial: Store, rev: Rev) -> Self {
        CausalHistory { nodes: vec![Node { rev, preds: vec![], store: Snapshot::new(initial) }], heads: vec![rev] }
    }
    fn latest(&self) -> Cow<'_, Store> {
        self.merge_of(&self.heads)
    }
    fn max(&self) -> Revision {
        Revision::merged(self.heads.clone())
    }
    fn reads(&self, session: Option<&Revision>, out: &mut Vec<Revision>) {
        let all = self.ancestries();
        match session {
            None => {
                for h in self.heads.iter().filter_map(|h| self.index(*h)) {
                    self.combinations(&all, h, out);
                }
            }
            Some(s) => {
                let seen = self.ancestry_in(&all, s.components());
                for i in 0..self.nodes.len() {
                    if !has(&seen, i) {
                        self.combinations(&all, i, out);
                    }
                }
            }
        }
        out.sort();
        out.dedup();
    }
    fn read_count(&self, session: Option<&Revision>) -> usize {
        let all = self.ancestries();
        let mut combo = smallvec::SmallVec::new();
        let mut count = |start: usize| {
            combo.clear();
            combo.push(start);
            self.count_combinations(&all, &mut combo)
        };
        match session {
            None => self.heads.iter().filter_map(|h| self.index(*h)).map(&mut count).sum(),
            Some(s) => {
                let seen = self.ancestry_in(&all, s.components());
                (0..self.nodes.len()).filter(|&i| !has(&seen, i)).map(&mut count).sum()
            }
        }
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
        let rev = self.nodes.iter().map(|n| n.rev).max().unwrap_or(0) + 1;
        let mut store = self.view(read).into_owned();
        apply(&mut store, op, rev)?;
        let preds = read.components().to_vec();
        self.heads.retain(|h| !preds.contains(h));
        self.heads.push(rev);
        self.heads.sort_unstable();
        self.nodes.push(Node { rev, preds, store: Snapshot::new(store) });
        Ok(())
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
    fn prune(&mut self, sessions: &[Option<Revision>], _resets_possible: bool) {
        if !PRUNE || self.nodes.len() < 2 {
            return;
        }
        let ancestries = self.ancestries();
        let seen: Vec<Mask> =
            sessions.iter().flatten().map(|s| self.ancestry_in(&ancestries, s.components())).collect();
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.nodes[i].rev));
        let cut = order.into_iter().find(|&i| {
            let anc = &ancestries[i];
            ancestries.iter().enumerate().all(|(j, a)| has(anc, j) || has(a, i)) && seen.iter().all(|s| has(s, i))
        });
        let Some(i) = cut else { return };
        let keep_n = self.heads.contains(&self.nodes[i].rev);
        let dropped: Vec<Rev> = (0..self.nodes.len())
            .filter(|&j| has(&ancestries[i], j) && (j != i || !keep_n))
            .map(|j| self.nodes[j].rev)
            .collect();
        if dropped.is_empty() {
            return;
        }
        self.nodes.retain(|m| !dropped.contains(&m.rev));
        for m in &mut self.nodes {
            m.preds.retain(|p| !dropped.contains(p));
        }
    }
    fn stamps(&self, set: &mut StampSet) {
        for n in &self.nodes {
            set.insert(n.rev);
            n.preds.iter().for_each(|p| set.insert(*p));
            set.union(n.store.stamp_set());
        }
    }
    fn map_stamps(&mut self, map: &dyn Fn(Rev) -> Rev) {
        for n in &mut self.nodes {
            n.rev = map(n.rev);
            n.preds.iter_mut().for_each(|p| *p = map(*p));
            n.store.renumber(map);
        }
        self.heads.iter_mut().for_each(|h| *h = map(*h));
    }
}
