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

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Node {
    rev: Rev,
    preds: Vec<Rev>,
    store: Snapshot,
}

/// The causal model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Causal {
    nodes: Vec<Node>,
    heads: Vec<Rev>,
}

impl Causal {
    fn node(&self, r: Rev) -> Option<&Node> {
        self.nodes.iter().find(|n| n.rev == r)
    }

    /// `r` and all its ancestors.
    fn ancestry(&self, r: Rev, out: &mut Vec<Rev>) {
        let mut todo = vec![r];
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
        let mut anc = Vec::new();
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
        fn extend(c: &Causal, combo: &mut Vec<Rev>, out: &mut Vec<Revision>) {
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

impl Consistency for Causal {
    const NAME: &'static str = "causal";

    fn new(initial: Store, rev: Rev) -> Self {
        Causal { nodes: vec![Node { rev, preds: vec![], store: Snapshot::new(initial) }], heads: vec![rev] }
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
                let mut seen = Vec::new();
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
        let mut seen = Vec::new();
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
    /// No pruning yet: an old write can still be merged into a read by a
    /// controller that has not seen it, and deciding when no controller ever
    /// can needs the concurrency structure; left for later (the state space
    /// is bounded by the depth bound meanwhile).
    fn prune(&mut self, _sessions: &[Option<Revision>], _resets_possible: bool) {}
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
