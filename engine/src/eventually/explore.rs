//! The exploration of the `eventually` pass: breadth first over every state
//! reachable along paths on which some predicate fails, recording edges.
//!
//! Level by level. Within a level every thread expands chunks of the
//! frontier: successors, canonical forms, fingerprints; a successor is looked
//! up in the states of earlier levels (read only, no lock) and, if new, in its
//! shard's claims for this level (one lock per new-looking successor, on one
//! of [`SHARDS`] shards). The thread that claims a state numbers it, computes
//! its predicates and keeps it for the next level. Between levels each shard
//! takes in its claims on its own, so no step is serialised on one thread.
//! What the graph ends up holding (states, predicates, enabled groups, edges
//! in successor order) does not depend on the thread count; only the ids do.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use hashbrown::HashMap;

use super::graph::{id_of, shard_of, Edge, Graph, Node, NO_GROUP, SHARDS, SHARD_CAPACITY};
use crate::fingerprint::{nonzero, Fingerprint};
use crate::progress::Counters;
use crate::property::Property;
use crate::report::StopReason;
use crate::sync::lock;
use crate::Model;

/// States a thread takes at once.
const CHUNK: usize = 256;

/// The states of one shard met in earlier levels: fingerprint to local number.
type Known = HashMap<Fingerprint, u32>;

/// What a thread found expanding one chunk.
struct ChunkOut<S> {
    /// Per state expanded: id, enabled groups, deadlock, its edges' start and length in `edges`.
    expanded: Vec<(u32, u64, bool, u32, u32)>,
    edges: Vec<Edge>,
    /// States this chunk claimed: id, predicates that hold.
    claimed: Vec<(u32, u64)>,
    /// Claimed states some predicate fails in: the next level's.
    next: Vec<(u32, S)>,
}

/// Explores the union of the properties' Gs to `max_depth` (0 = no bound)
/// on up to `threads` threads; `None` if a stop was requested.
pub(super) fn explore<M: Model>(
    model: &M,
    props: &[&Property<M>],
    symmetry: bool,
    max_depth: u64,
    threads: usize,
    counters: &Counters,
) -> Option<Graph> {
    let all: u64 = if props.len() >= 64 { u64::MAX } else { (1u64 << props.len()) - 1 };
    let holds = |s: &M::State| {
        props.iter().enumerate().fold(0u64, |m, (i, p)| if (p.check)(model, s) { m | 1 << i } else { m })
    };
    let canon = |mut s: M::State| {
        if symmetry {
            model.canonicalize(&mut s);
        }
        (nonzero(model.fingerprint(&s)), s)
    };
    let mut graph = Graph::new();
    let mut known: Vec<Known> = vec![Known::new(); SHARDS];
    // The next level's states, in the lists the workers made them.
    let mut frontier: Vec<Vec<(u32, M::State)>> = vec![Vec::new()];
    let mut init = Vec::new();
    model.init_states(&mut init);
    for s in init {
        let (fp, s) = canon(s);
        let h = holds(&s);
        let shard = shard_of(fp);
        if h == all || known[shard].contains_key(&fp) {
            continue;
        }
        let nodes = &mut graph.shards_mut()[shard];
        let id = id_of(shard, nodes.len() as u32);
        known[shard].insert(fp, nodes.len() as u32);
        nodes.push(Node::found(fp, h));
        graph.roots.push(id);
        frontier[0].push((id, s));
    }

    let mut depth = 0u64;
    while frontier.iter().any(|f| !f.is_empty()) {
        // For progress: the depth (plus one: 0 means not running) and states.
        counters.live_depth.store(depth + 1, Ordering::Relaxed);
        counters.live_states.store(graph.len() as u64, Ordering::Relaxed);
        let last_level = max_depth > 0 && depth >= max_depth;
        let claims: Vec<Mutex<Known>> = (0..SHARDS).map(|_| Mutex::new(Known::new())).collect();
        let bases: Vec<u32> = graph.shards_mut().iter().map(|n| n.len() as u32).collect();
        let expand = |states: Vec<(u32, M::State)>| -> Option<ChunkOut<M::State>> {
            let mut out = ChunkOut {
                expanded: Vec::with_capacity(states.len()),
                edges: Vec::new(),
                claimed: Vec::new(),
                next: Vec::new(),
            };
            let mut succ = Vec::new();
            for (id, s) in states {
                if counters.stopped() {
                    return None;
                }
                succ.clear();
                model.successors(&s, &mut succ);
                drop(s);
                let start = out.edges.len() as u32;
                let mut enabled = 0u64;
                let deadlock = succ.is_empty();
                for (a, t) in succ.drain(..) {
                    let fairness = model.fairness(&a);
                    enabled |= super::fairness_bit(fairness);
                    let group = fairness.map_or(NO_GROUP, |g| g % 64);
                    let (tfp, t) = canon(t);
                    let shard = shard_of(tfp);
                    let to = match known[shard].get(&tfp) {
                        Some(&local) => id_of(shard, local),
                        // On the last level, states not explored stay so.
                        None if last_level => continue,
                        None => {
                            let mut c = lock(&claims[shard]);
                            if let Some(&local) = c.get(&tfp) {
                                id_of(shard, local)
                            } else {
                                let local = bases[shard] + c.len() as u32;
                                if local >= SHARD_CAPACITY {
                                    // Over 4 billion states: ids are u32 (the
                                    // pass would need terabytes before this).
                                    counters.request_stop(StopReason::MemoryLimit);
                                    return None;
                                }
                                c.insert(tfp, local);
                                drop(c);
                                let id = id_of(shard, local);
                                let h = holds(&t);
                                out.claimed.push((id, h));
                                if h != all {
                                    let mut t = t;
                                    model.keep(&mut t);
                                    out.next.push((id, t));
                                }
                                id
                            }
                        }
                    };
                    out.edges.push(Edge { to, group });
                }
                out.expanded.push((id, enabled, deadlock, start, out.edges.len() as u32 - start));
            }
            Some(out)
        };
        let outs = run_chunks(std::mem::take(&mut frontier), threads, &expand);
        // Every state kept in this level waits in `outs` (or was dropped).
        model.forget_kept();
        let outs = outs?;
        // Each shard takes in its claims (in parallel over shards).
        let claims: Vec<Known> =
            claims.into_iter().map(|c| c.into_inner().unwrap_or_else(|e| e.into_inner())).collect();
        merge_claims(&mut known, graph.shards_mut(), claims, threads);
        for out in outs {
            for &(id, h) in &out.claimed {
                graph.set_found(id, h);
            }
            let buffer = graph.add_buffer(out.edges);
            for (id, enabled, deadlock, start, len) in out.expanded {
                graph.set_expansion(id, enabled, deadlock, (buffer, start, len));
            }
            if !out.next.is_empty() {
                frontier.push(out.next);
            }
        }
        depth += 1;
    }
    counters.live_states.store(graph.len() as u64, Ordering::Relaxed);
    Some(graph)
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

/// Moves each shard's claims of a level into its known states and its nodes
/// (as found, predicates to be set), shards split among `threads` threads.
fn merge_claims(known: &mut [Known], nodes: &mut [Vec<Node>], claims: Vec<Known>, threads: usize) {
    let merge = |known: &mut Known, nodes: &mut Vec<Node>, claims: Known| {
        let base = nodes.len();
        nodes.resize(base + claims.len(), Node::found(0, 0));
        known.reserve(claims.len());
        for (fp, local) in claims {
            nodes[local as usize] = Node::found(fp, 0);
            known.insert(fp, local);
        }
    };
    let per = SHARDS.div_ceil(threads.max(1));
    let mut claims = claims.into_iter();
    let mut groups = Vec::new();
    for (k, n) in known.chunks_mut(per).zip(nodes.chunks_mut(per)) {
        let c: Vec<Known> = claims.by_ref().take(k.len()).collect();
        groups.push((k, n, c));
    }
    if threads <= 1 {
        for (k, n, c) in groups {
            k.iter_mut().zip(n.iter_mut()).zip(c).for_each(|((k, n), c)| merge(k, n, c));
        }
        return;
    }
    std::thread::scope(|scope| {
        for (k, n, c) in groups {
            scope.spawn(move || k.iter_mut().zip(n.iter_mut()).zip(c).for_each(|((k, n), c)| merge(k, n, c)));
        }
    });
}
