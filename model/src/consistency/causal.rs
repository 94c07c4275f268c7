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
use crate::store::{Snapshot, Store};
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
struct Node {
    rev: Rev,
    preds: Vec<Rev>,
    store: Snapshot,
}

/// A set of writes, held inline while small (no heap allocation).
type Revs = smallvec::SmallVec<[Rev; 16]>;

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
    fn node(&self, r: Rev) -> Option<&Node> {
        self.nodes.iter().find(|n| n.rev == r)
    }

    /// `r` and all its ancestors.
    fn ancestry(&self, r: Rev, out: &mut Revs) {
        let mut todo: Revs = smallvec::smallvec![r];
        while let Some(x) = todo.pop() {
            if out.contains(&x) {
                continue;
            }
            out.push(x);
            if let Some(n) = self.node(x) {
                todo.extend(n.preds.iter().copied());
            }
        }
    }

    fn related(&self, a: Rev, b: Rev) -> bool {
        let mut anc = Revs::new();
        self.ancestry(a, &mut anc);
        if anc.contains(&b) {
            return true;
        }
        anc.clear();
        self.ancestry(b, &mut anc);
        anc.contains(&a)
    }

    /// `[start]` and every extension by later writes concurrent with all of it.
    fn combinations(&self, start: Rev, out: &mut Vec<Revision>) {
        fn extend<const P: bool>(c: &CausalHistory<P>, combo: &mut Vec<Rev>, out: &mut Vec<Revision>) {
            out.push(Revision::merged(combo.clone()));
            let last = *combo.last().unwrap_or(&0);
            for n in &c.nodes {
                if n.rev > last && combo.iter().all(|&x| !c.related(x, n.rev)) {
                    combo.push(n.rev);
                    extend(c, combo, out);
                    combo.pop();
                }
            }
        }
        extend(self, &mut vec![start], out);
    }

    fn merge_of(&self, revs: &[Rev]) -> Cow<'_, Store> {
        match revs {
            [one] => match self.node(*one) {
                Some(n) => Cow::Borrowed(&n.store),
                None => Cow::Owned(Store::default()),
            },
            _ => {
                let mut s = Store::default();
                for r in revs {
                    if let Some(n) = self.node(*r) {
                        s.merge(&n.store);
                    }
                }
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
        match session {
            None => {
                for h in &self.heads {
                    self.combinations(*h, out);
                }
            }
            Some(s) => {
                let mut seen = Revs::new();
                for c in s.components() {
                    self.ancestry(*c, &mut seen);
                }
                for n in &self.nodes {
                    if !seen.contains(&n.rev) {
                        self.combinations(n.rev, out);
                    }
                }
            }
        }
        out.sort();
        out.dedup();
    }
    fn view(&self, at: &Revision) -> Cow<'_, Store> {
        self.merge_of(at.components())
    }
    fn missing(&self, read: &Revision) -> usize {
        let mut seen = Revs::new();
        for c in read.components() {
            self.ancestry(*c, &mut seen);
        }
        self.nodes.iter().filter(|n| !seen.contains(&n.rev)).count()
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
        let ancestries: Vec<Revs> = self
            .nodes
            .iter()
            .map(|n| {
                let mut a = Revs::new();
                self.ancestry(n.rev, &mut a);
                a
            })
            .collect();
        let mut seen: Vec<Revs> = Vec::new();
        for s in sessions.iter().flatten() {
            let mut a = Revs::new();
            for c in s.components() {
                self.ancestry(*c, &mut a);
            }
            seen.push(a);
        }
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.nodes[i].rev));
        let cut = order.into_iter().find(|&i| {
            let n = self.nodes[i].rev;
            let anc = &ancestries[i];
            ancestries.iter().zip(&self.nodes).all(|(a, m)| anc.contains(&m.rev) || a.contains(&n))
                && seen.iter().all(|s| s.contains(&n))
        });
        let Some(i) = cut else { return };
        let n = self.nodes[i].rev;
        let keep_n = self.heads.contains(&n);
        let dropped: Vec<Rev> = ancestries[i].iter().copied().filter(|&a| a != n || !keep_n).collect();
        if dropped.is_empty() {
            return;
        }
        self.nodes.retain(|m| !dropped.contains(&m.rev));
        for m in &mut self.nodes {
            m.preds.retain(|p| !dropped.contains(p));
        }
    }
    fn stamps(&self, f: &mut dyn FnMut(Rev)) {
        for n in &self.nodes {
            f(n.rev);
            n.preds.iter().for_each(|p| f(*p));
            n.store.stamps(&mut |r| f(r));
        }
    }
    fn map_stamps(&mut self, map: &dyn Fn(Rev) -> Rev) {
        for n in &mut self.nodes {
            n.rev = map(n.rev);
            n.preds.iter_mut().for_each(|p| *p = map(*p));
            let mut s = (*n.store).clone();
            s.map_stamps(&map);
            if s != *n.store {
                n.store = Snapshot::new(s);
            }
        }
        self.heads.iter_mut().for_each(|h| *h = map(*h));
    }
}
