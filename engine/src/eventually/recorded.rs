//! The search's expansions, recorded for the `eventually` pass.
//!
//! The exhaustive searches (BFS, DFS) generate, canonicalise and
//! fingerprint the successors of every state above their depth bound; the
//! pass needs exactly that of every state some `eventually` predicate fails
//! in. So the search records, for each state it expands in which some
//! predicate fails, which predicates hold there and its edges (target
//! fingerprint, fairness group, renaming; [`super::Recording`] says what and
//! how), and the pass reads them instead of generating the successors
//! again. What the search does not expand, the states it met only at a
//! depth bound, it hands over as states ([`FromSearch::leftover`]: BFS its
//! whole last level, DFS those in which some predicate fails): the pass
//! expands the ones it meets itself (on its own last level; a state the
//! search first met at depth D is at least D steps away along states
//! failing a predicate). DFS expands a state again when it meets it at a
//! shorter depth; it records only the first expansion.
//!
//! The graph the pass builds from records is the one it builds by
//! generating successors, ids included: the same states, met in the same
//! levels, their edges in successor order (the unit test
//! `the_graph_from_the_search_records_is_the_graph_explored` compares them;
//! `engine/tests/all/eventually_symmetry.rs` and `tests/all/verdict_table.rs`
//! compare whole reports). Records are trusted to be complete: a state the
//! pass meets by fingerprint alone that the search neither recorded nor
//! handed over is taken for one where every predicate holds (the search
//! expanded it, or DFS left it at the bound, and recorded nothing because
//! they all hold).
//!
//! Memory: 12 bytes per recorded edge and 24 per recorded state, plus a
//! directory of 2 to 4 bytes per state while the pass runs (held by the run
//! until the pass ends). The recorded states are the index: before the pass
//! they are gathered into one array grouped by fingerprint (a bucket per
//! range of mixed fingerprints, 2 to 4 states each on average), where a
//! lookup scans one bucket; a hash table beside them took 24 bytes a state
//! more (143 MB on `replicaset-scale`). There BFS records 5.9 M of its 9.2 M
//! states and 22 M edges (the pass explores 3.5 M of them: BFS cannot tell
//! which states the pass will reach), about 0.4 GB.

use hashbrown::HashMap;
use krepis_encodings::Carried;

use super::map_table::MapTable;
use super::Reduction;
use crate::fingerprint::Fingerprint;
use crate::GroupMap;

/// Bits of an edge's tag that hold its renaming's number.
const MAP_BITS: u32 = 24;
/// The renaming's number in a tag (in its part's table).
const MAP_MASK: u32 = (1 << MAP_BITS) - 1;
/// Bits of a record's span that hold its number of edges (the others: where
/// the first is).
const LEN_BITS: u32 = 24;
/// The number of edges in a span.
const LEN_MASK: u64 = (1 << LEN_BITS) - 1;
/// Recorded states per bucket of the index, at most, on average.
const PER_BUCKET: usize = 4;

/// One state's expansion: which predicates hold there and where its edges
/// are (24 bytes; the groups enabled are those of its edges).
#[derive(Clone, Copy, Default)]
struct Expanded {
    fp: Fingerprint,
    holds: u64,
    /// The first edge's index (in the recorder; in [`FromSearch`], across
    /// all parts' edges), shifted left by [`LEN_BITS`], plus the number of
    /// edges.
    span: u64,
}

impl Expanded {
    /// Its edges' indices.
    fn edges(self) -> std::ops::Range<usize> {
        let start = (self.span >> LEN_BITS) as usize;
        start..start + (self.span & LEN_MASK) as usize
    }
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
    /// More renamings than a tag can number, or more edges from one state
    /// than a span can count: records unusable.
    overflow: bool,
}

impl Recorder {
    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The states recorded, in order, with their edges' targets.
    #[cfg(test)]
    pub fn expansions(&self) -> Vec<(Fingerprint, Vec<Fingerprint>)> {
        self.states.iter().map(|s| (s.fp, self.tos[s.edges()].to_vec())).collect()
    }

    /// Starts recording the expansion of the state `fp`, in which the
    /// predicates `holds` hold (bit i: the i-th `eventually` property).
    pub fn begin(&mut self, fp: Fingerprint, holds: u64) {
        self.overflow |= self.tos.len() as u64 > u64::MAX >> LEN_BITS;
        self.states.push(Expanded { fp, holds, span: (self.tos.len() as u64) << LEN_BITS });
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
            if s.span & LEN_MASK == LEN_MASK {
                self.overflow = true;
            } else {
                s.span += 1;
            }
        }
    }
}

/// Everything the search recorded, indexed by fingerprint, with the states
/// it left unexpanded.
pub(crate) struct FromSearch<'a, S> {
    /// The recorded states, bucket by bucket: bucket b (of a fingerprint,
    /// [`bucket`]) holds `states[dir[b]..dir[b + 1]]`. Their spans count
    /// edges across the parts, one part after the other.
    states: Vec<Expanded>,
    dir: Vec<usize>,
    /// Bits of a bucket's number.
    bits: u32,
    /// The parts, their states moved to `states`; their edges stay.
    parts: Vec<Recorder>,
    /// The index of each part's first edge across the parts.
    firsts: Vec<usize>,
    /// The states the search left unexpanded (met only at its depth bound).
    leftovers: HashMap<Fingerprint, &'a S, Carried>,
    /// The number of properties the records' predicates are of.
    props: usize,
    /// The states the records are of.
    reduction: Reduction,
}

/// The bucket of fingerprint `fp` among `2^bits`: its top bits once mixed
/// (fingerprints are hashes, but a model may compute its own; mixing
/// spreads any that differ in their low bits only).
#[inline]
fn bucket(fp: Fingerprint, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (fp.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize
    }
}

/// Where a recorded expansion is (from [`FromSearch::locate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At(usize);

impl At {
    /// Its number among the recorded expansions, below [`FromSearch::len`]
    /// (for arrays indexed by recorded state).
    pub fn index(self) -> usize {
        self.0
    }
}

/// One recorded expansion.
pub(crate) struct Record<'r> {
    holds: u64,
    tos: &'r [Fingerprint],
    tags: &'r [u32],
    maps: &'r MapTable,
}

impl<'r> Record<'r> {
    /// The predicates that hold in the state.
    pub fn holds(&self) -> u64 {
        self.holds
    }

    /// Its edges in successor order: target, group, renaming.
    pub fn edges(&self) -> impl Iterator<Item = (Fingerprint, u8, &'r GroupMap)> + 'r {
        let maps = self.maps;
        self.tos.iter().zip(self.tags).map(move |(&to, &tag)| (to, (tag >> MAP_BITS) as u8, maps.get(tag & MAP_MASK)))
    }
}

impl<'a, S> FromSearch<'a, S> {
    /// Indexes the records `parts` (of `props` properties, made on states
    /// reduced as `reduction` says) and the states the search left unexpanded, on
    /// up to `threads` threads; `None` if a part overflowed. The index is
    /// the same on every thread count.
    pub fn new(
        mut parts: Vec<Recorder>,
        props: usize,
        reduction: Reduction,
        leftovers: &'a [Vec<(Fingerprint, S)>],
        threads: usize,
    ) -> Option<Self> {
        if parts.iter().any(|p| p.overflow) {
            return None;
        }
        let total: usize = parts.iter().map(|p| p.states.len()).sum();
        let mut firsts = Vec::with_capacity(parts.len());
        let mut edges = 0usize;
        for p in &parts {
            firsts.push(edges);
            edges += p.tos.len();
        }
        if edges as u64 > u64::MAX >> LEN_BITS {
            return None;
        }
        let bits = (total / PER_BUCKET).max(1).next_power_of_two().trailing_zeros();
        let buckets = 1usize << bits;
        // Each thread takes a run of buckets, which is a run of `states`:
        // it reads every part's states and counts, then places, the ones
        // in its run, in the order of the parts (so the index does not
        // depend on the thread count). Every thread reads every record
        // once per phase, in order; no two write the same memory.
        let per = buckets.div_ceil(threads.clamp(1, buckets));
        let recorded = || parts.iter().zip(&firsts).flat_map(|(p, &first)| p.states.iter().map(move |s| (s, first)));
        // Bucket sizes (bucket b's in `dir[b + 1]`), then where each begins.
        let mut dir = vec![0usize; buckets + 1];
        std::thread::scope(|scope| {
            for (t, counts) in dir[1..].chunks_mut(per).enumerate() {
                let recorded = &recorded;
                scope.spawn(move || {
                    let lo = t * per;
                    for (s, _) in recorded() {
                        if let Some(c) = bucket(s.fp, bits).checked_sub(lo).and_then(|i| counts.get_mut(i)) {
                            *c += 1;
                        }
                    }
                });
            }
        });
        for b in 1..dir.len() {
            dir[b] += dir[b - 1];
        }
        let mut states = vec![Expanded::default(); total];
        std::thread::scope(|scope| {
            let mut rest: &mut [Expanded] = &mut states;
            for t in 0..buckets.div_ceil(per) {
                let (lo, hi) = (t * per, ((t + 1) * per).min(buckets));
                let (run, tail) = std::mem::take(&mut rest).split_at_mut(dir[hi] - dir[lo]);
                rest = tail;
                let (recorded, dir) = (&recorded, &dir);
                scope.spawn(move || {
                    // Where the next state of each bucket of the run goes in `run`.
                    let mut next: Vec<usize> = dir[lo..hi].iter().map(|&d| d - dir[lo]).collect();
                    for (s, first) in recorded() {
                        let b = bucket(s.fp, bits);
                        if (lo..hi).contains(&b) {
                            let at = &mut next[b - lo];
                            run[*at] = Expanded { span: s.span + ((first as u64) << LEN_BITS), ..*s };
                            *at += 1;
                        }
                    }
                });
            }
        });
        for part in &mut parts {
            part.states = Vec::new();
        }
        let mut kept = HashMap::with_capacity_and_hasher(leftovers.iter().map(Vec::len).sum(), Carried);
        kept.extend(leftovers.iter().flatten().map(|(fp, s)| (*fp, s)));
        Some(FromSearch { states, dir, bits, parts, firsts, leftovers: kept, props, reduction })
    }

    /// The number of recorded expansions.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Where the recorded expansion of the state `fp` is, if the search recorded
    /// one (it does for every state it expanded in which some predicate fails).
    #[inline]
    pub fn locate(&self, fp: Fingerprint) -> Option<At> {
        let b = bucket(fp, self.bits);
        let from = self.dir[b];
        self.states[from..self.dir[b + 1]].iter().position(|s| s.fp == fp).map(|i| At(from + i))
    }

    /// The recorded expansion at `at` (from [`FromSearch::locate`]).
    pub fn record(&self, At(i): At) -> Record<'_> {
        let s = self.states[i];
        let edges = s.edges();
        // The part whose edges these are (a state's edges are all in one).
        let p = self.firsts.partition_point(|&f| f <= edges.start) - 1;
        let part = &self.parts[p];
        let local = edges.start - self.firsts[p]..edges.end - self.firsts[p];
        Record { holds: s.holds, tos: &part.tos[local.clone()], tags: &part.tags[local], maps: &part.maps }
    }

    /// True if these records serve a pass of `props` properties on
    /// `reduction`'s states (the ones they were made for).
    pub fn fits(&self, reduction: Reduction, props: usize) -> bool {
        self.reduction == reduction && self.props == props
    }

    /// The state `fp` if the search met it but left it unexpanded.
    pub fn leftover(&self, fp: Fingerprint) -> Option<&'a S> {
        self.leftovers.get(&fp).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group_map::swap;

    /// Records `states` states over `parts` parts (fingerprints `fp(i)`,
    /// state i with i % 5 edges, renamings varying by part), gathers them
    /// and checks every lookup against what was recorded.
    fn gather_and_check(parts: usize, states: u64, fp: impl Fn(u64) -> Fingerprint) {
        let maps = [GroupMap::IDENTITY, swap(0, 1), swap(1, 2), swap(0, 2)];
        let edge = |i: u64, k: u64| (fp(i * 7 + k + 1_000_000), (k % 3) as u8, &maps[((i + k) % 4) as usize]);
        let mut recs: Vec<Recorder> = (0..parts).map(|_| Recorder::default()).collect();
        for i in 0..states {
            let r = &mut recs[(i % parts as u64) as usize];
            r.begin(fp(i), i % 8);
            for k in 0..i % 5 {
                let (to, group, map) = edge(i, k);
                r.edge(to, group, map);
            }
        }
        let record = |recs: &[Recorder]| {
            recs.iter()
                .map(|r| Recorder {
                    states: r.states.clone(),
                    tos: r.tos.clone(),
                    tags: r.tags.clone(),
                    maps: r.maps.clone(),
                    overflow: r.overflow,
                })
                .collect::<Vec<_>>()
        };
        // The same index on every thread count.
        let layout =
            |f: &FromSearch<'_, ()>| (f.dir.clone(), f.states.iter().map(|s| (s.fp, s.span)).collect::<Vec<_>>());
        let one = FromSearch::<()>::new(record(&recs), 3, Reduction::Renaming, &[], 1).expect("within limits");
        for threads in [2, 3, 8] {
            let many =
                FromSearch::<()>::new(record(&recs), 3, Reduction::Renaming, &[], threads).expect("within limits");
            assert!(layout(&many) == layout(&one), "{threads} threads: a different index");
        }
        let from = FromSearch::<()>::new(recs, 3, Reduction::Renaming, &[], 2).expect("within limits");
        assert!(
            from.fits(Reduction::Renaming, 3) && !from.fits(Reduction::None, 3) && !from.fits(Reduction::Renaming, 2)
        );
        for i in 0..states {
            let at = from.locate(fp(i)).unwrap_or_else(|| panic!("state {i} recorded"));
            let r = from.record(at);
            assert_eq!(r.holds(), i % 8, "state {i}");
            let got: Vec<(Fingerprint, u8, GroupMap)> = r.edges().map(|(t, g, m)| (t, g, *m)).collect();
            let want: Vec<(Fingerprint, u8, GroupMap)> =
                (0..i % 5).map(|k| edge(i, k)).map(|(t, g, m)| (t, g, *m)).collect();
            assert_eq!(got, want, "state {i}");
        }
        for i in states..states + 100 {
            assert_eq!(from.locate(fp(i)), None, "state {i} was not recorded");
        }
    }

    #[test]
    fn every_recorded_state_is_found_with_its_predicates_and_edges() {
        let hashed = |i: u64| xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()) | 1;
        gather_and_check(1, 1, hashed);
        gather_and_check(3, 1000, hashed);
        gather_and_check(7, 20_000, hashed);
        // Fingerprints a model computed itself, differing in low bits only.
        gather_and_check(4, 5000, |i| i + 1);
        // Nothing recorded.
        gather_and_check(2, 0, hashed);
    }

    #[test]
    fn a_state_with_more_edges_than_a_span_counts_makes_the_records_unusable() {
        let mut r = Recorder::default();
        r.begin(1, 0);
        for _ in 0..LEN_MASK {
            r.edge(2, 0, &GroupMap::IDENTITY);
        }
        assert!(!r.overflow, "{LEN_MASK} edges fit");
        r.edge(2, 0, &GroupMap::IDENTITY);
        assert!(FromSearch::<()>::new(vec![r], 1, Reduction::None, &[], 1).is_none());
    }
}
