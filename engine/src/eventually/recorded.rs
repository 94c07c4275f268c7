//! The search's expansions, recorded for the `eventually` pass.
//!
//! BFS generates, canonicalises and fingerprints the successors of every
//! state above its depth bound; the pass needs exactly that of every state
//! some `eventually` predicate fails in. So BFS records, for each state it
//! expands in which some predicate fails, which predicates hold there and
//! its edges (target fingerprint, fairness group, renaming), and the pass
//! reads them instead of generating the successors again. What BFS does not
//! expand, the states of its last level under a depth bound, it hands over
//! as states ([`FromSearch::leftover`]): the pass expands the ones it meets
//! itself (on its own last level; a state BFS first met at depth D is at
//! least D steps away along states failing a predicate).
//!
//! The graph the pass builds from records is the one it builds by
//! generating successors, ids included: the same states, met in the same
//! levels, their edges in successor order (the unit test
//! `the_graph_from_the_search_records_is_the_graph_explored` compares them;
//! `engine/tests/eventually_symmetry.rs` and `tests/verdict_table.rs`
//! compare whole reports). Records are trusted to be complete: a state the
//! pass meets by fingerprint alone that BFS neither recorded nor left
//! unexpanded is taken for one where every predicate holds (BFS expanded it
//! and recorded nothing because they all hold).
//!
//! Memory: 12 bytes per recorded edge and 24 per recorded state, plus an
//! index of about 20 bytes per state while the pass runs (held by the run
//! until the pass ends). On `replicaset-scale` BFS records 5.9 M of its
//! 9.2 M states and 22 M edges (the pass explores 3.5 M of them: BFS cannot
//! tell which states the pass will reach), about 0.6 GB.

use hashbrown::HashMap;
use krepis_encodings::Carried;

use super::map_table::MapTable;
use super::Reduction;
use crate::fingerprint::Fingerprint;
use crate::GroupMap;

/// Bits of an edge's tag that hold its renaming's number.
const MAP_BITS: u32 = 24;

/// One state's expansion: where its edges are in its recorder (24 bytes;
/// the groups enabled are those of its edges).
#[derive(Clone, Copy)]
struct Expanded {
    fp: Fingerprint,
    holds: u64,
    start: u32,
    len: u32,
}

/// One thread's records of one level (a part of [`FromSearch`]).
#[derive(Default)]
pub(crate) struct Recorder {
    states: Vec<Expanded>,
    /// Edge targets' fingerprints, in order of recording.
    tos: Vec<Fingerprint>,
    /// Per edge: its group in the top 8 bits, its renaming's number in
    /// `maps` in the others.
    tags: Vec<u32>,
    /// Renamings the edges refer to.
    maps: MapTable,
    /// More renamings than a tag can number, or more edges than a `u32`
    /// can index: records unusable.
    overflow: bool,
}

impl Recorder {
    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Starts recording the expansion of the state `fp`, in which the
    /// predicates `holds` hold (bit i: the i-th `eventually` property).
    pub fn begin(&mut self, fp: Fingerprint, holds: u64) {
        self.overflow |= self.tos.len() > u32::MAX as usize / 2;
        self.states.push(Expanded { fp, holds, start: self.tos.len() as u32, len: 0 });
    }

    /// Records an edge of the state begun last: to `to`, by an action of
    /// `group` (as [`super::group_of`] gives it), its target's canonical
    /// form having renamed the groups by `map`.
    pub fn edge(&mut self, to: Fingerprint, group: u8, map: &GroupMap) {
        let n = self.maps.number(map, 1 << MAP_BITS, |_| true).unwrap_or_else(|| {
            self.overflow = true;
            0
        });
        self.tos.push(to);
        self.tags.push(u32::from(group) << MAP_BITS | n);
        if let Some(s) = self.states.last_mut() {
            s.len += 1;
        }
    }
}

/// Everything BFS recorded, indexed by fingerprint, with the states it
/// left unexpanded.
pub(crate) struct FromSearch<'a, S> {
    parts: Vec<Recorder>,
    /// Where each recorded state is (fingerprints are hashes already:
    /// the index hashes nothing again).
    index: HashMap<Fingerprint, At, Carried>,
    /// The states BFS left unexpanded (its last level under a depth bound).
    leftovers: HashMap<Fingerprint, &'a S, Carried>,
    /// The number of properties the records' predicates are of.
    props: usize,
    /// The states the records are of.
    reduction: Reduction,
}

/// Where a recorded expansion is: part, index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At(u32, u32);

/// One recorded expansion.
pub(crate) struct Record<'r> {
    part: &'r Recorder,
    state: Expanded,
}

impl<'r> Record<'r> {
    /// The predicates that hold in the state.
    pub fn holds(&self) -> u64 {
        self.state.holds
    }

    /// Its edges in successor order: target, group, renaming.
    pub fn edges(&self) -> impl Iterator<Item = (Fingerprint, u8, &'r GroupMap)> + 'r {
        let part = self.part;
        let start = self.state.start as usize;
        let range = start..start + self.state.len as usize;
        part.tos[range.clone()]
            .iter()
            .zip(&part.tags[range])
            .map(move |(&to, &tag)| (to, (tag >> MAP_BITS) as u8, part.maps.get(tag & ((1 << MAP_BITS) - 1))))
    }
}

impl<'a, S> FromSearch<'a, S> {
    /// Indexes the records `parts` (of `props` properties, made on states
    /// reduced as `reduction` says) and the states BFS left unexpanded;
    /// `None` if a part could not number its renamings.
    pub fn new(
        parts: Vec<Recorder>,
        props: usize,
        reduction: Reduction,
        leftovers: &'a [Vec<(Fingerprint, S)>],
    ) -> Option<Self> {
        if parts.iter().any(|p| p.overflow) {
            return None;
        }
        let total = parts.iter().map(|p| p.states.len()).sum();
        let mut index = HashMap::with_capacity_and_hasher(total, Carried);
        for (i, part) in parts.iter().enumerate() {
            for (j, s) in part.states.iter().enumerate() {
                index.insert(s.fp, At(i as u32, j as u32));
            }
        }
        let mut kept = HashMap::with_capacity_and_hasher(leftovers.iter().map(Vec::len).sum(), Carried);
        kept.extend(leftovers.iter().flatten().map(|(fp, s)| (*fp, s)));
        let leftovers = kept;
        Some(FromSearch { parts, index, leftovers, props, reduction })
    }

    /// Where the recorded expansion of the state `fp` is, if BFS recorded
    /// one (it does for every state it expanded in which some predicate fails).
    pub fn locate(&self, fp: Fingerprint) -> Option<At> {
        self.index.get(&fp).copied()
    }

    /// The recorded expansion at `at` (from [`FromSearch::locate`]).
    pub fn record(&self, At(p, i): At) -> Record<'_> {
        let part = &self.parts[p as usize];
        Record { part, state: part.states[i as usize] }
    }

    /// True if these records serve a pass of `props` properties on
    /// `reduction`'s states (the ones they were made for).
    pub fn fits(&self, reduction: Reduction, props: usize) -> bool {
        self.reduction == reduction && self.props == props
    }

    /// The state `fp` if BFS met it but left it unexpanded.
    pub fn leftover(&self, fp: Fingerprint) -> Option<&'a S> {
        self.leftovers.get(&fp).copied()
    }
}
