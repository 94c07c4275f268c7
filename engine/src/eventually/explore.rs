//! The exploration of the `eventually` pass: breadth first over every state
//! reachable along paths on which some predicate fails, recording edges.
//!
//! Level by level. Within a level every thread expands chunks of the
//! frontier: successors, canonical forms, fingerprints; a successor is looked
//! up in the states of earlier levels (read only, no lock) and, if new, put
//! in the level's set of claims, a lock-free table ([`papaya`]): the thread
//! whose insert puts it there claims it (computes its predicates and keeps
//! it for the next level). No lock and no counter shared by all threads is
//! touched per state. An edge to a state first met in this level is
//! recorded with the target's fingerprint; between levels each shard
//! numbers its new states in the order of their fingerprints (shards in
//! parallel), then every chunk's edges and next states get their ids
//! (chunks in parallel). So the graph (ids included) does not depend on
//! the thread count or on timing.
//!
//! When the search (BFS or DFS) recorded its expansions ([`FromSearch`]), a
//! state is expanded from its record (edges with the targets' fingerprints,
//! no successor generated); only the states it left at its depth bound are expanded by
//! generating their successors. Either way the graph is the same.
//!
//! On orbits ([`Reduction::Orbits`], [`Reduction::Renaming`]) each
//! successor is canonicalised; under renaming each edge also records how
//! canonicalising renamed the fairness groups. A chunk numbers the distinct
//! renamings it meets in a table of its own; between levels the new ones
//! get numbers in the graph's table (in their order, so again independent
//! of timing) and the chunk's edges are renumbered.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

use hashbrown::HashMap;
use krepis_encodings::Carried;

use super::graph::{group_bit, id_of, shard_of, Edge, Graph, Node, SHARDS, SHARD_CAPACITY};
use super::map_table::MapTable;
use super::recorded::{At, FromSearch};
use super::{Pass, Reduction};
use crate::fingerprint::{nonzero, Fingerprint};
use crate::property::Property;
use crate::report::StopReason;
use crate::sync::lock;
use crate::{GroupMap, Model};

/// States a thread takes at once.
const CHUNK: usize = 256;

/// The states of one shard met in earlier levels: fingerprint to local number.
type Known = HashMap<Fingerprint, u32>;

/// The ids of the states numbered so far (met in earlier levels): a state
/// the search recorded by its record's number, any other by fingerprint in
/// its shard's table. (The records are an index already: a table beside
/// them cost 16-32 bytes a state, about 100 MB of a pass of 3.5 M states on
/// `replicaset-scale`, and a second lookup per edge.)
struct Numbered {
    known: Vec<Known>,
    /// Per recorded state, its id plus one (0: not numbered).
    by_record: Vec<AtomicU32>,
}

/// Numbers the state `fp` of `shard` (recorded at `at` if it was) as the
/// shard's `local`-th: in `by_record` (a [`Numbered`]'s) if recorded, else
/// in the shard's table `known`.
fn set_number(by_record: &[AtomicU32], known: &mut Known, shard: usize, fp: Fingerprint, local: u32, at: Option<At>) {
    match at {
        Some(at) => by_record[at.index()].store(id_of(shard, local) + 1, Ordering::Relaxed),
        None => {
            known.insert(fp, local);
        }
    }
}

impl Numbered {
    /// Nothing numbered, for `records` recorded states.
    fn new(records: usize) -> Self {
        Numbered { known: vec![Known::new(); SHARDS], by_record: (0..records).map(|_| AtomicU32::new(0)).collect() }
    }

    /// The id of the state `fp`, recorded at `at` if it was, if numbered.
    #[inline]
    fn get(&self, fp: Fingerprint, at: Option<At>) -> Option<u32> {
        match at {
            Some(at) => self.by_record[at.index()].load(Ordering::Relaxed).checked_sub(1),
            None => {
                let shard = shard_of(fp);
                self.known[shard].get(&fp).map(|&local| id_of(shard, local))
            }
        }
    }
}

/// What a thread found expanding one chunk.
struct ChunkOut<S> {
    /// Per state expanded: id, enabled groups, deadlock, its edges' start and length in `edges`.
    expanded: Vec<(u32, u64, bool, u32, u32)>,
    edges: Vec<Edge>,
    /// Edges to states first met in this level: index in `edges`, the
    /// target's fingerprint and record (its id is known once the level is
    /// numbered).
    unresolved: Vec<(u32, Fingerprint, Option<At>)>,
    /// States this chunk claimed: fingerprint, predicates that hold,
    /// record; in shard order (sorted by the thread that expanded the chunk).
    claimed: Vec<(Fingerprint, u64, Option<At>)>,
    /// Claimed states some predicate fails in: the next level's.
    next: Vec<(Fingerprint, Waiting<S>)>,
    /// The same with their ids, once the level is numbered.
    numbered: Vec<Frontier<S>>,
    /// The group renamings its edges refer to until the level is
    /// numbered, then the graph's.
    maps: MapTable,
    /// More renamings than an edge can refer to, or a model's map that is
    /// not a permutation: the pass cannot run on orbits.
    unreducible: bool,
    /// A state the search neither recorded nor left unexpanded: the records
    /// do not fit this pass (explore without them).
    unrecorded: bool,
}

/// A state waiting to be expanded: id, fingerprint, what expands it.
type Frontier<S> = (u32, Fingerprint, Waiting<S>);

/// What a state waiting to be expanded is expanded from.
enum Waiting<S> {
    /// The state itself: its successors are generated.
    State(S),
    /// The search's record of its expansion.
    Recorded(At),
    /// The search's state, left unexpanded on its last level: its
    /// successors are generated.
    Leftover,
}

impl<S> ChunkOut<S> {
    /// The number of `map` in this chunk's table (added if new).
    fn map_number(&mut self, map: &GroupMap) -> u16 {
        let admit = |m: &GroupMap| {
            debug_assert!(m.is_permutation(), "Model::canonicalize_groups gave {m:?}, not a permutation");
            m.is_permutation()
        };
        match self.maps.number(map, u32::from(u16::MAX) + 1, admit) {
            Some(n) => n as u16,
            None => {
                self.unreducible = true;
                0
            }
        }
    }
}

/// Why the exploration ended without a graph.
#[derive(Debug)]
pub(super) enum Halt {
    /// A stop was requested.
    Stopped,
    /// The successors' group renamings cannot be recorded (over 65,535
    /// distinct ones, or a model's map that is not a permutation): explore
    /// unreduced states instead.
    Unreducible,
    /// The search's records lack a state the pass met: explore without them.
    Unrecorded,
}

/// Explores the union of the properties' Gs to the run's depth bound on
/// its threads, on states reduced as `reduction` says (from the search's
/// records if the run has them: they must be of `props` on those states,
/// [`FromSearch::fits`]).
pub(super) fn explore<M: Model>(
    run: &Pass<'_, M>,
    props: &[&Property<M>],
    reduction: Reduction,
) -> Result<Graph, Halt> {
    let Pass { model, max_depth, threads, counters, from_search: from } = *run;
    let all = super::all_predicates(props.len());
    let holds = |s: &M::State| super::predicates_holding(model, props.iter().copied(), s);
    // The predicates that hold in a state met by fingerprint alone (the
    // search recorded it at `at` if it did), and what expands it: the search
    // recorded every state it expanded in which one fails, and left the
    // others it met unexpanded; in any other, every predicate holds.
    // (Records are trusted to be complete here; a state waiting as
    // `Leftover` that the search did not leave is caught.)
    let holds_at = |f: &FromSearch<'_, M::State>, fp: Fingerprint, at: Option<At>| match at {
        Some(at) => (f.record(at).holds(), Waiting::Recorded(at)),
        None => (f.leftover(fp).map_or(all, &holds), Waiting::Leftover),
    };
    // Canonicalises `s` (setting `map` under renaming).
    let canon = |mut s: M::State, map: &mut GroupMap| {
        match reduction {
            Reduction::None => {}
            Reduction::Orbits => model.canonicalize(&mut s),
            Reduction::Renaming => model.canonicalize_groups(&mut s, map),
        }
        (nonzero(model.fingerprint(&s)), s)
    };
    let mut map_index: HashMap<GroupMap, u16> = HashMap::new();
    let mut graph = Graph::new();
    let mut numbered = Numbered::new(from.map_or(0, FromSearch::len));
    // The next level's states, in the lists the workers made them.
    let mut frontier: Vec<Vec<Frontier<M::State>>> = vec![Vec::new()];
    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut ignored = GroupMap::IDENTITY;
    for s in init {
        // An initial state's renaming does not matter: only renamings
        // along cycles do.
        let (fp, s) = canon(s, &mut ignored);
        let h = holds(&s);
        let shard = shard_of(fp);
        let at = from.and_then(|f| f.locate(fp));
        if h == all || numbered.get(fp, at).is_some() {
            continue;
        }
        let nodes = &mut graph.shards_mut()[shard];
        let id = id_of(shard, nodes.len() as u32);
        set_number(&numbered.by_record, &mut numbered.known[shard], shard, fp, nodes.len() as u32, at);
        nodes.push(Node::found(fp, h));
        graph.roots.push(id);
        let waiting = match at {
            Some(at) => Waiting::Recorded(at),
            None => Waiting::State(s),
        };
        frontier[0].push((id, fp, waiting));
    }

    let mut depth = 0u64;
    while frontier.iter().any(|f| !f.is_empty()) {
        // For progress: the depth (plus one: 0 means not running) and states.
        counters.live_depth.store(depth + 1, Ordering::Relaxed);
        counters.live_states.store(graph.len() as u64, Ordering::Relaxed);
        let last_level = max_depth > 0 && depth >= max_depth;
        // Sized for a next level as large as this one (growing the table
        // while threads insert was 4% of a pass on records).
        let size: usize = frontier.iter().map(Vec::len).sum();
        let claims: papaya::HashSet<Fingerprint, Carried> = papaya::HashSet::with_capacity_and_hasher(size, Carried);
        let expand = |states: Vec<Frontier<M::State>>| -> Option<ChunkOut<M::State>> {
            let claims = claims.pin();
            let mut out = ChunkOut {
                expanded: Vec::with_capacity(states.len()),
                edges: Vec::new(),
                unresolved: Vec::new(),
                claimed: Vec::new(),
                next: Vec::new(),
                numbered: Vec::new(),
                maps: MapTable::default(),
                unreducible: false,
                unrecorded: false,
            };
            let mut map = GroupMap::IDENTITY;
            let mut succ = Vec::new();
            // One state's edges: target, group, renaming (numbered in `out`),
            // the target itself when generated here.
            let mut found: Vec<(Fingerprint, u8, u16, Option<M::State>)> = Vec::new();
            let renaming = reduction == Reduction::Renaming;
            for (id, fp, s) in states {
                if counters.stopped() {
                    return None;
                }
                let (record, s) = match (s, from) {
                    (Waiting::Recorded(at), Some(f)) => (Some(f.record(at)), None),
                    (Waiting::State(s), _) => (None, Some(s)),
                    _ => (None, None),
                };
                if let Some(r) = record {
                    for (tfp, group, m) in r.edges() {
                        let m = if renaming { out.map_number(m) } else { 0 };
                        found.push((tfp, group, m, None));
                    }
                } else {
                    let Some(s) = s.as_ref().or_else(|| from.and_then(|f| f.leftover(fp))) else {
                        out.unrecorded = true;
                        return Some(out);
                    };
                    succ.clear();
                    model.successors(s, &mut succ);
                    for (a, t) in succ.drain(..) {
                        let group = super::group_of(model, &a);
                        let (tfp, t) = canon(t, &mut map);
                        let m = if renaming { out.map_number(&map) } else { 0 };
                        found.push((tfp, group, m, Some(t)));
                    }
                }
                drop(s);
                // Every successor counts, explored or not.
                let enabled = found.iter().fold(0u64, |e, &(_, group, ..)| e | group_bit(group));
                let deadlock = found.is_empty();
                let start = out.edges.len() as u32;
                for (tfp, group, map, t) in found.drain(..) {
                    let at = from.and_then(|f| f.locate(tfp));
                    let to = match numbered.get(tfp, at) {
                        Some(id) => id,
                        // On the last level, states not explored stay so.
                        None if last_level => continue,
                        None => {
                            if claims.insert(tfp) {
                                let (h, waiting) = match (t, from) {
                                    // With records, the state is found again by
                                    // fingerprint (its predicates from it when here).
                                    (Some(t), Some(_)) => (holds(&t), at.map_or(Waiting::Leftover, Waiting::Recorded)),
                                    (None, Some(f)) => holds_at(f, tfp, at),
                                    (Some(mut t), None) => {
                                        let h = holds(&t);
                                        if h != all {
                                            model.keep(&mut t);
                                        }
                                        (h, Waiting::State(t))
                                    }
                                    (None, None) => unreachable!("only records give targets without states"),
                                };
                                out.claimed.push((tfp, h, at));
                                if h != all {
                                    out.next.push((tfp, waiting));
                                }
                            }
                            out.unresolved.push((out.edges.len() as u32, tfp, at));
                            0 // set once the level is numbered
                        }
                    };
                    out.edges.push(Edge { to, group, map });
                }
                out.expanded.push((id, enabled, deadlock, start, out.edges.len() as u32 - start));
            }
            out.claimed.sort_unstable_by_key(|&(fp, ..)| shard_of(fp));
            Some(out)
        };
        let outs = run_chunks(std::mem::take(&mut frontier), threads, &expand);
        // Every state kept in this level waits in `outs` (or was dropped).
        model.forget_kept();
        let mut outs = outs.ok_or(Halt::Stopped)?;
        drop(claims);
        if outs.iter().any(|o| o.unrecorded) {
            return Err(Halt::Unrecorded);
        }
        if !number_claims(&mut numbered, graph.shards_mut(), &outs, threads) {
            // Over 4 billion states in a shard: ids are u32 (the pass
            // would need terabytes before this).
            counters.request_stop(StopReason::MemoryLimit);
            return Err(Halt::Stopped);
        }
        if !number_maps(&mut map_index, graph.maps_mut(), &outs) {
            return Err(Halt::Unreducible);
        }
        resolve(&numbered, &map_index, &mut outs, threads);
        for out in outs {
            let buffer = graph.add_buffer(out.edges);
            for (id, enabled, deadlock, start, len) in out.expanded {
                graph.set_expansion(id, enabled, deadlock, (buffer, start, len));
            }
            if !out.numbered.is_empty() {
                frontier.push(out.numbered);
            }
        }
        depth += 1;
    }
    counters.live_states.store(graph.len() as u64, Ordering::Relaxed);
    Ok(graph)
}

/// Gives the renamings the chunks `outs` met for the first time numbers in
/// the graph's table `maps` (and `index`, where each is), in their order;
/// `false` if a chunk could not record its renamings or the table would
/// outgrow an edge's 16-bit number.
fn number_maps<S>(index: &mut HashMap<GroupMap, u16>, maps: &mut Vec<GroupMap>, outs: &[ChunkOut<S>]) -> bool {
    if outs.iter().any(|o| o.unreducible) {
        return false;
    }
    let mut new: Vec<GroupMap> =
        outs.iter().flat_map(|o| &o.maps.maps()[1..]).filter(|m| !index.contains_key(*m)).copied().collect();
    new.sort_unstable();
    new.dedup();
    if maps.len() + new.len() > u16::MAX as usize + 1 {
        return false;
    }
    for m in new {
        index.insert(m, maps.len() as u16);
        maps.push(m);
    }
    true
}

/// Runs `f` on every item of `items`, split into up to `threads` runs of
/// consecutive items done in parallel.
fn in_parallel<T: Send>(items: &mut [T], threads: usize, f: &(impl Fn(&mut T) + Sync)) {
    if threads <= 1 || items.len() <= 1 {
        items.iter_mut().for_each(f);
        return;
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for run in items.chunks_mut(per) {
            scope.spawn(move || run.iter_mut().for_each(f));
        }
    });
}

/// Numbers the states the chunks `outs` claimed: each shard (shards split
/// among `threads` threads) appends its new states to its nodes in
/// increasing order of fingerprint, and to `numbered`. `false` if a shard
/// would hold more than [`SHARD_CAPACITY`] states.
fn number_claims<S: Sync>(
    numbered: &mut Numbered,
    nodes: &mut [Vec<Node>],
    outs: &[ChunkOut<S>],
    threads: usize,
) -> bool {
    let fits = AtomicBool::new(true);
    let by_record = &numbered.by_record;
    let mut shards: Vec<(usize, &mut Known, &mut Vec<Node>)> =
        numbered.known.iter_mut().zip(nodes.iter_mut()).enumerate().map(|(s, (k, n))| (s, k, n)).collect();
    in_parallel(&mut shards, threads, &|(shard, known, nodes)| {
        let mut new: Vec<(Fingerprint, u64, Option<At>)> = Vec::new();
        for out in outs {
            let from = out.claimed.partition_point(|&(fp, ..)| shard_of(fp) < *shard);
            let to = out.claimed.partition_point(|&(fp, ..)| shard_of(fp) <= *shard);
            new.extend_from_slice(&out.claimed[from..to]);
        }
        if nodes.len() + new.len() > SHARD_CAPACITY as usize {
            fits.store(false, Ordering::Relaxed);
            return;
        }
        new.sort_unstable_by_key(|&(fp, ..)| fp);
        nodes.reserve(new.len());
        for (fp, h, at) in new {
            // Read by the next level's threads, which start after this.
            set_number(by_record, known, *shard, fp, nodes.len() as u32, at);
            nodes.push(Node::found(fp, h));
        }
    });
    fits.into_inner()
}

/// Sets the ids of the chunks' edges to states first met in this level
/// and of their next states (chunks split among `threads` threads), once
/// every such state is `numbered` (next states move to `out.numbered`), and
/// renumbers their edges' renamings as the graph's table (`maps`) numbers them.
fn resolve<S: Send>(numbered: &Numbered, maps: &HashMap<GroupMap, u16>, outs: &mut [ChunkOut<S>], threads: usize) {
    // Every state claimed in the level was numbered before this.
    let id = |fp: Fingerprint, at: Option<At>| numbered.get(fp, at).unwrap_or_else(|| unreachable!("numbered"));
    in_parallel(outs, threads, &|out| {
        for &(edge, fp, at) in &out.unresolved {
            out.edges[edge as usize].to = id(fp, at);
        }
        out.unresolved = Vec::new();
        if out.maps.maps().len() > 1 {
            let to: Vec<u16> = out.maps.maps().iter().map(|m| if m.is_identity() { 0 } else { maps[m] }).collect();
            for e in &mut out.edges {
                e.map = to[e.map as usize];
            }
        }
        out.numbered = std::mem::take(&mut out.next)
            .into_iter()
            .map(|(fp, s)| {
                let at = if let Waiting::Recorded(at) = s { Some(at) } else { None };
                (id(fp, at), fp, s)
            })
            .collect();
    });
}

/// Runs `work` on the frontier's lists (split where longer than
/// `2 * CHUNK`, so threads share the work evenly) on up to `threads`
/// threads; its outputs in any order, `None` if one returned `None`.
fn run_chunks<S: Send, O: Send>(
    frontier: Vec<Vec<S>>,
    threads: usize,
    work: &(impl Fn(Vec<S>) -> Option<O> + Sync),
) -> Option<Vec<O>> {
    let mut chunks: Vec<Mutex<Vec<S>>> = Vec::with_capacity(frontier.len());
    for mut list in frontier {
        while list.len() > 2 * CHUNK {
            let rest = list.split_off(list.len() - CHUNK);
            chunks.push(Mutex::new(rest));
        }
        if !list.is_empty() {
            chunks.push(Mutex::new(list));
        }
    }
    if threads <= 1 || chunks.len() <= 1 {
        return chunks.into_iter().map(|c| work(c.into_inner().unwrap_or_else(|e| e.into_inner()))).collect();
    }
    let cursor = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let outs: Vec<Vec<O>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(chunks.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while let Some(chunk) = chunks.get(cursor.fetch_add(1, Ordering::Relaxed)) {
                        match work(std::mem::take(&mut *lock(chunk))) {
                            Some(o) => mine.push(o),
                            None => {
                                failed.store(true, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    if failed.load(Ordering::Relaxed) {
        return None;
    }
    Some(outs.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Philosophers;
    use crate::progress::Counters;
    use crate::property::Kind;
    use crate::Options;

    /// Everything the graph holds, by id: fingerprint, predicates, enabled
    /// groups, deadlock, edges.
    type Contents = Vec<(u32, Fingerprint, u64, u64, bool, Vec<Edge>)>;

    fn contents(g: &Graph) -> Contents {
        let mut out = Vec::new();
        for id in 0..g.id_bound() as u32 {
            let local = (id >> super::super::graph::SHARD_BITS) as usize;
            if local < g.shard_len(id as usize % SHARDS) {
                let n = g.node(id);
                out.push((id, n.fp, n.holds, n.enabled, n.deadlock, g.edges(id).to_vec()));
            }
        }
        out
    }

    #[test]
    fn the_graph_ids_included_is_the_same_on_every_thread_count() {
        let model = Philosophers::new(8).with_fairness();
        let props = model.properties();
        let eventually: Vec<&Property<Philosophers>> = props.iter().filter(|p| p.kind == Kind::Eventually).collect();
        assert_eq!(eventually.len(), 2);
        for depth in [0, 6] {
            let counters = Counters::new();
            let run =
                |threads| Pass { model: &model, max_depth: depth, threads, counters: &counters, from_search: None };
            let one = explore(&run(1), &eventually, Reduction::None).expect("not stopped");
            let want = contents(&one);
            assert!(want.len() > if depth == 0 { 2 * CHUNK } else { 10 }, "{} states to depth {depth}", want.len());
            assert_eq!(want.len(), one.len());
            assert!(want.iter().any(|n| !n.5.is_empty()), "edges recorded");
            for threads in [2, 3, 4] {
                let many = explore(&run(threads), &eventually, Reduction::None).expect("not stopped");
                assert!(contents(&many) == want, "{threads} threads, depth {depth}: a different graph");
            }
        }
    }

    #[test]
    fn the_graph_from_the_search_records_is_the_graph_explored() {
        let model = Philosophers::new(7).with_fairness();
        let props = model.properties();
        let eventually: Vec<&Property<Philosophers>> = props.iter().filter(|p| p.kind == Kind::Eventually).collect();
        type Search = fn(
            &Philosophers,
            &[Property<Philosophers>],
            &Options,
            &Counters,
        )
            -> (crate::search::SearchOutcome, crate::search::Left<<Philosophers as Model>::State>);
        let searches: [(crate::Strategy, Search); 2] =
            [(crate::Strategy::Bfs, crate::bfs::run), (crate::Strategy::Dfs, crate::dfs::run)];
        for ((strategy, search), depth) in searches.into_iter().flat_map(|s| [(s, 0), (s, 5)]) {
            for symmetry in [false, true] {
                let opts = Options::default()
                    .strategy(strategy)
                    .threads(2)
                    .max_depth(depth)
                    .symmetry(symmetry)
                    .keep_going(true)
                    .memory(64 << 20);
                let reduction = Reduction::of(&model, symmetry);
                let counters = Counters::new();
                let (outcome, left) = search(&model, &props, &opts, &counters);
                assert!(outcome.stop_reason.explored_a_closed_region());
                assert!(!left.recorded.is_empty(), "{strategy:?} depth {depth}: recorded");
                let at_bound = left.states.iter().all(Vec::is_empty);
                assert_eq!(at_bound, depth == 0, "{strategy:?} depth {depth}: states at the bound left unexpanded");
                let from =
                    FromSearch::new(left.recorded, eventually.len(), reduction, &left.states, 2).expect("numbered");
                for threads in [1, 3] {
                    let run = |from_search| Pass {
                        model: &model,
                        max_depth: depth,
                        threads,
                        counters: &counters,
                        from_search,
                    };
                    let live = contents(&explore(&run(None), &eventually, reduction).expect("not stopped"));
                    let recorded = contents(&explore(&run(Some(&from)), &eventually, reduction).expect("records fit"));
                    assert!(live.len() > 100, "{} states", live.len());
                    assert!(
                        recorded == live,
                        "{strategy:?}, depth {depth}, symmetry {symmetry}, {threads} threads: a different graph"
                    );
                }
                // Without records, the initial states are expanded from
                // themselves, and their successors, which are neither
                // recorded nor left unexpanded, stop the pass instead of
                // being taken for states where every predicate holds.
                let none = FromSearch::new(Vec::new(), eventually.len(), reduction, &[], 1).expect("nothing to number");
                let run =
                    Pass { model: &model, max_depth: depth, threads: 1, counters: &counters, from_search: Some(&none) };
                assert!(matches!(explore(&run, &eventually, reduction), Err(Halt::Unrecorded)));
            }
        }
    }
}
