//! Checking `eventually` properties.
//!
//! Semantics (shared with the reference checker): let G be the set of states
//! reachable from an initial state along paths of at most `max_depth` steps
//! (any length when there is no bound) on which the predicate never holds. The
//! property is violated iff some state of G has no successors at all (a
//! deadlock), or the subgraph of the model induced by G has a *weakly fair*
//! cycle: one such that every fairness group ([`Model::fairness`]) enabled in
//! all of its states takes a step in it. Without fairness groups every cycle
//! is fair. A state of G whose successors all lie outside G (they satisfy the
//! predicate, or are beyond the bound) is not a counterexample.
//!
//! A strongly connected component of G contains a weakly fair cycle iff, for
//! every group enabled in all of its states, one of its internal edges belongs
//! to that group (a closed walk through the whole component then is fair, and
//! any cycle inside a component that lacks such an edge is unfair). So the
//! pass is a breadth-first search of G that records its edges and finds the
//! shortest path to a deadlock (the model's work on every thread, level by
//! level; the recording on one), then Tarjan's algorithm over G on one
//! thread, testing each cyclic component. A fair component is reported as a
//! lasso: the shortest path to its shallowest state, then a closed walk from
//! there that takes an edge of every group the component needs. Under
//! symmetry reduction G is a set of orbits; a cycle of orbits is a real path
//! that returns to a permutation of a state it visited, which repeats for ever
//! since the predicate and the fairness groups are symmetric. A model whose
//! fairness groups are not symmetric ([`Model::fairness_is_symmetric`]) gets
//! this pass on unreduced states (the checker turns symmetry off for it).

use std::collections::VecDeque;

use hashbrown::HashMap;

use std::sync::atomic::Ordering;

use crate::fingerprint::{nonzero, Fingerprint};
use crate::progress::Counters;
use crate::property::Property;
use crate::search::Chain;
use crate::sync::lock;
use crate::trace::chain_from_parents;
use crate::Model;

/// The verdict of the pass on one property.
pub(crate) enum Verdict {
    Holds,
    Violated(Chain),
    /// A stop was requested before the pass finished.
    Unknown,
}

/// An edge of G: its target and the fairness group of its action (bit mask, 0 for none).
type Edge = (Fingerprint, u64);

struct Node {
    parent: Fingerprint,
    /// Groups with an action available here (towards any state, in G or not).
    enabled: u64,
    edges: Vec<Edge>,
}

/// The fairness group of an action as a one-bit mask (0 for none).
pub(crate) fn group_bit<M: Model>(model: &M, a: &M::Action) -> u64 {
    fairness_bit(model.fairness(a))
}

/// The bit of fairness group `g` in a set of groups (0 for none).
pub(crate) fn fairness_bit(g: Option<u8>) -> u64 {
    g.map_or(0, |g| 1u64 << (g % 64))
}

/// A state explored by the shared pass: which predicates hold there, the
/// groups enabled, its edges to explored states, and whether it has no
/// successor at all.
struct Explored {
    holds: u64,
    enabled: u64,
    edges: Vec<Edge>,
    deadlock: bool,
}

/// Checks the `eventually` properties `props` within `max_depth` (0 = no
/// bound), one verdict each, in order.
///
/// One search serves them all (so successors are generated once, not once
/// per property): it explores every state reachable along paths on which
/// some predicate fails, recording edges. Each property's G is then found
/// by a breadth-first search over the recorded edges, in the order a search
/// of that property alone would take, so verdicts and traces are the same.
/// That G lies inside the explored region: a state reachable within the
/// bound along states failing one predicate is reachable within it along
/// states failing some predicate.
pub(crate) fn check_all<M: Model>(
    model: &M,
    props: &[&Property<M>],
    symmetry: bool,
    max_depth: u64,
    threads: usize,
    counters: &Counters,
) -> Vec<Verdict> {
    let mut out = Vec::with_capacity(props.len());
    for chunk in props.chunks(64) {
        out.extend(check_chunk(model, chunk, symmetry, max_depth, threads, counters));
    }
    out
}

fn check_chunk<M: Model>(
    model: &M,
    props: &[&Property<M>],
    symmetry: bool,
    max_depth: u64,
    threads: usize,
    counters: &Counters,
) -> Vec<Verdict> {
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
    let mut explored: HashMap<Fingerprint, Explored> = HashMap::new();
    let mut roots: Vec<Fingerprint> = Vec::new();
    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut frontier = Vec::new();
    for s in init {
        let (fp, s) = canon(s);
        let h = holds(&s);
        if h != all && !explored.contains_key(&fp) {
            explored.insert(fp, Explored { holds: h, enabled: 0, edges: Vec::new(), deadlock: false });
            roots.push(fp);
            frontier.push((fp, s));
        }
    }

    // Breadth-first over the union of the Gs, recording edges. Each level's
    // model work (successors, canonical forms, predicates) runs on every
    // thread; the results are then merged on one thread in frontier order,
    // exactly as a sequential search would, so the explored region, its
    // edges and every verdict and trace do not depend on the thread count.
    let mut depth = 0u64;
    while !frontier.is_empty() {
        // For progress: the depth (plus one: 0 means not running) and states.
        counters.live_depth.store(depth + 1, Ordering::Relaxed);
        counters.live_states.store(explored.len() as u64, Ordering::Relaxed);
        let last_level = max_depth > 0 && depth >= max_depth;
        let Some(results) = expand_level(model, &frontier, &explored, last_level, threads, counters, (&canon, &holds))
        else {
            return props.iter().map(|_| Verdict::Unknown).collect();
        };
        // Each successor unknown when the level started came with its state
        // and predicates from the one expansion that claimed it first (which
        // need not be the first in frontier order).
        let (results, claimed) = results;
        let mut fresh: HashMap<Fingerprint, (u64, M::State)> = HashMap::with_capacity(claimed.len());
        fresh.extend(claimed.into_iter().map(|(fp, h, t)| (fp, (h, t))));
        let mut next = Vec::new();
        for ((fp, _), r) in frontier.iter().zip(results) {
            let mut edges = Vec::with_capacity(r.succ.len());
            for (tfp, bit) in r.succ {
                if !explored.contains_key(&tfp) {
                    if last_level {
                        continue;
                    }
                    let Some(&(h, _)) = fresh.get(&tfp) else {
                        continue;
                    };
                    if h == all {
                        continue;
                    }
                    explored.insert(tfp, Explored { holds: h, enabled: 0, edges: Vec::new(), deadlock: false });
                    if let Some((_, t)) = fresh.remove(&tfp) {
                        next.push((tfp, t));
                    }
                }
                edges.push((tfp, bit));
            }
            if let Some(n) = explored.get_mut(fp) {
                n.enabled = r.enabled;
                n.edges = edges;
                n.deadlock = r.deadlock;
            }
        }
        frontier = next;
        depth += 1;
    }
    counters.live_states.store(explored.len() as u64, Ordering::Relaxed);
    let verdicts = (0..props.len()).map(|i| decide(&explored, &roots, 1u64 << i, max_depth, counters)).collect();
    counters.live_depth.store(0, Ordering::Relaxed);
    verdicts
}

/// What expanding one state found: the groups enabled, whether it has no
/// successor, and each successor in order: its fingerprint and group bit.
struct Expansion {
    enabled: u64,
    deadlock: bool,
    succ: Vec<(Fingerprint, u64)>,
}

/// What expanding a level found: per state, in frontier order, its
/// [`Expansion`]; and each successor not explored when the level started,
/// once, with the predicates that hold there and the state itself.
type Level<S> = (Vec<Expansion>, Vec<(Fingerprint, u64, S)>);

/// States a thread claims at once in [`expand_level`].
const LEVEL_CHUNK: usize = 256;
/// Shards of the set of successors claimed in a level.
const CLAIM_SHARDS: usize = 64;

/// Expands every state of `frontier` on up to `threads` threads, reading
/// (never changing) `explored`, with `canon` (canonical form and
/// fingerprint) and `holds` (predicates); on the `last_level`, keeps no new
/// state. Results are in frontier order; `None` if a stop was requested. A
/// successor new to the level is claimed in a set sharded by fingerprint (a
/// lock per successor, on one of 64 shards), so its predicates are computed
/// and its state kept once.
fn expand_level<M: Model, C, H>(
    model: &M,
    frontier: &[(Fingerprint, M::State)],
    explored: &HashMap<Fingerprint, Explored>,
    last_level: bool,
    threads: usize,
    counters: &Counters,
    (canon, holds): (&C, &H),
) -> Option<Level<M::State>>
where
    C: Fn(M::State) -> (Fingerprint, M::State) + Sync,
    H: Fn(&M::State) -> u64 + Sync,
{
    let claimed: Vec<std::sync::Mutex<hashbrown::HashSet<Fingerprint>>> =
        (0..CLAIM_SHARDS).map(|_| std::sync::Mutex::new(hashbrown::HashSet::new())).collect();
    let claim = |fp: Fingerprint| {
        let shard = &claimed[(fp >> 58) as usize % CLAIM_SHARDS];
        lock(shard).insert(fp)
    };
    let expand_chunk = |states: &[(Fingerprint, M::State)]| -> Option<Level<M::State>> {
        let mut succ = Vec::new();
        let mut out = Vec::with_capacity(states.len());
        let mut new = Vec::new();
        for (_, s) in states {
            if counters.stopped() {
                return None;
            }
            succ.clear();
            model.successors(s, &mut succ);
            let mut e = Expansion { enabled: 0, deadlock: succ.is_empty(), succ: Vec::with_capacity(succ.len()) };
            for (a, t) in succ.drain(..) {
                let bit = group_bit(model, &a);
                e.enabled |= bit;
                let (tfp, t) = canon(t);
                // On the last level, successors not explored stay so.
                if !last_level && !explored.contains_key(&tfp) && claim(tfp) {
                    new.push((tfp, holds(&t), t));
                }
                e.succ.push((tfp, bit));
            }
            out.push(e);
        }
        Some((out, new))
    };
    let chunks: Vec<&[(Fingerprint, M::State)]> = frontier.chunks(LEVEL_CHUNK).collect();
    if threads <= 1 || chunks.len() <= 1 {
        return expand_chunk(frontier);
    }
    let cursor = std::sync::atomic::AtomicUsize::new(0);
    let done: Vec<std::sync::Mutex<Option<Level<M::State>>>> =
        chunks.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let stopped = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(chunks.len()) {
            scope.spawn(|| loop {
                let i = cursor.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else {
                    return;
                };
                match expand_chunk(chunk) {
                    Some(r) => *lock(&done[i]) = Some(r),
                    None => {
                        stopped.store(true, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                }
            });
        }
    });
    if stopped.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let mut out = Vec::with_capacity(frontier.len());
    let mut new = Vec::new();
    for d in done {
        let (o, n) = d.into_inner().unwrap_or_else(|e| e.into_inner())?;
        out.extend(o);
        new.extend(n);
    }
    Some((out, new))
}

/// The verdict of the property whose predicate is bit `bit` of `holds`.
fn decide(
    explored: &HashMap<Fingerprint, Explored>,
    roots: &[Fingerprint],
    bit: u64,
    max_depth: u64,
    counters: &Counters,
) -> Verdict {
    let in_g = |f: &Fingerprint| explored.get(f).is_some_and(|e| e.holds & bit == 0);
    // G, breadth first from the initial states, as a search of this
    // property alone would find it; the first deadlock ends it.
    let mut g: HashMap<Fingerprint, Node> = HashMap::new();
    let mut order: Vec<Fingerprint> = Vec::new();
    let mut frontier: Vec<Fingerprint> = Vec::new();
    for r in roots.iter().filter(|r| in_g(r)) {
        if !g.contains_key(r) {
            g.insert(*r, Node { parent: 0, enabled: 0, edges: Vec::new() });
            order.push(*r);
            frontier.push(*r);
        }
    }
    let mut depth = 0u64;
    while !frontier.is_empty() {
        let mut next = Vec::new();
        let last_level = max_depth > 0 && depth >= max_depth;
        for fp in &frontier {
            if counters.stopped() {
                return Verdict::Unknown;
            }
            let e = &explored[fp];
            if e.deadlock {
                let fps = chain_from_parents(*fp, |f| g.get(&f).map(|n| n.parent));
                return Verdict::Violated(Chain { fps, loop_start: None, walked: None });
            }
            let mut edges = Vec::new();
            for &(t, b) in &e.edges {
                if !g.contains_key(&t) {
                    if last_level || !in_g(&t) {
                        continue;
                    }
                    g.insert(t, Node { parent: *fp, enabled: 0, edges: Vec::new() });
                    order.push(t);
                    next.push(t);
                }
                edges.push((t, b));
            }
            if let Some(n) = g.get_mut(fp) {
                n.enabled = e.enabled;
                n.edges = edges;
            }
        }
        frontier = next;
        depth += 1;
    }

    // Tarjan's strongly connected components over G, iteratively.
    let Some(components) = tarjan(&g, &order, counters) else {
        return Verdict::Unknown;
    };
    let rank: HashMap<Fingerprint, usize> = order.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    for comp in components {
        let inside: hashbrown::HashSet<Fingerprint> = comp.iter().copied().collect();
        let cyclic = comp.len() > 1 || g[&comp[0]].edges.iter().any(|(t, _)| *t == comp[0]);
        if !cyclic {
            continue;
        }
        let enabled_everywhere = comp.iter().fold(u64::MAX, |m, f| m & g[f].enabled);
        let taken =
            comp.iter().flat_map(|f| g[f].edges.iter()).filter(|(t, _)| inside.contains(t)).fold(0, |m, (_, b)| m | b);
        if enabled_everywhere & !taken != 0 {
            continue; // every cycle here starves some group
        }
        // The shallowest state of the component starts the loop.
        let Some(&entry) = comp.iter().min_by_key(|f| rank.get(*f).copied().unwrap_or(usize::MAX)) else {
            continue;
        };
        let mut fps = chain_from_parents(entry, |f| g.get(&f).map(|e| e.parent));
        let loop_start = fps.len() - 1;
        let walk = fair_walk(&g, &inside, entry, enabled_everywhere);
        fps.extend(walk);
        return Verdict::Violated(Chain { fps, loop_start: Some(loop_start), walked: None });
    }
    Verdict::Holds
}

/// Components in the order Tarjan's algorithm completes them.
fn tarjan(g: &HashMap<Fingerprint, Node>, order: &[Fingerprint], counters: &Counters) -> Option<Vec<Vec<Fingerprint>>> {
    let mut index: HashMap<Fingerprint, (usize, usize)> = HashMap::new(); // (index, lowlink)
    let mut on_stack: hashbrown::HashSet<Fingerprint> = hashbrown::HashSet::new();
    let mut stack: Vec<Fingerprint> = Vec::new();
    let mut out = Vec::new();
    let mut next = 0usize;
    for &root in order {
        if index.contains_key(&root) {
            continue;
        }
        // Frames: (node, next edge index).
        let mut frames: Vec<(Fingerprint, usize)> = vec![(root, 0)];
        index.insert(root, (next, next));
        next += 1;
        stack.push(root);
        on_stack.insert(root);
        while let Some(&mut (v, ref mut ei)) = frames.last_mut() {
            if next % 4096 == 0 && counters.stopped() {
                return None;
            }
            let edges = &g[&v].edges;
            if *ei < edges.len() {
                let w = edges[*ei].0;
                *ei += 1;
                if !g.contains_key(&w) {
                    continue;
                }
                match index.get(&w) {
                    None => {
                        index.insert(w, (next, next));
                        next += 1;
                        stack.push(w);
                        on_stack.insert(w);
                        frames.push((w, 0));
                    }
                    Some(&(wi, _)) if on_stack.contains(&w) => {
                        if let Some(e) = index.get_mut(&v) {
                            e.1 = e.1.min(wi);
                        }
                    }
                    Some(_) => {}
                }
                continue;
            }
            frames.pop();
            let (vi, vl) = index[&v];
            if let Some(&(parent, _)) = frames.last() {
                if let Some(e) = index.get_mut(&parent) {
                    e.1 = e.1.min(vl);
                }
            }
            if vi == vl {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack.remove(&w);
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
        }
    }
    Some(out)
}

/// Shortest path (by edges inside the component) from `from` to a state
/// satisfying `goal`, as the list of states after `from`; `goal` is tested on
/// the target of each edge together with the edge's group.
fn path_inside(
    g: &HashMap<Fingerprint, Node>,
    inside: &hashbrown::HashSet<Fingerprint>,
    from: Fingerprint,
    goal: impl Fn(Fingerprint, u64) -> bool,
) -> Option<Vec<Fingerprint>> {
    let mut prev: HashMap<Fingerprint, Fingerprint> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen: hashbrown::HashSet<Fingerprint> = [from].into_iter().collect();
    while let Some(v) = queue.pop_front() {
        for &(w, bit) in &g[&v].edges {
            if !inside.contains(&w) {
                continue;
            }
            if goal(w, bit) {
                let mut path = vec![w];
                let mut cur = v;
                while cur != from {
                    path.push(cur);
                    cur = prev[&cur];
                }
                path.reverse();
                return Some(path);
            }
            if seen.insert(w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    None
}

/// A closed walk from `entry` inside the component that takes an edge of
/// every group in `needed`, ending back at `entry` (the states after `entry`).
fn fair_walk(
    g: &HashMap<Fingerprint, Node>,
    inside: &hashbrown::HashSet<Fingerprint>,
    entry: Fingerprint,
    needed: u64,
) -> Vec<Fingerprint> {
    let mut walk = Vec::new();
    let mut cur = entry;
    let mut missing = needed;
    while missing != 0 {
        let bit = missing & missing.wrapping_neg();
        match path_inside(g, inside, cur, |_, b| b & bit != 0) {
            Some(p) => {
                cur = *p.last().unwrap_or(&cur);
                walk.extend(p);
            }
            None => break, // cannot happen: the component has an edge of this group
        }
        missing &= !bit;
    }
    if cur != entry || walk.is_empty() {
        if let Some(p) = path_inside(g, inside, cur, |w, _| w == entry) {
            walk.extend(p);
        }
    }
    walk
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring 0 -> 1 -> ... -> 5 -> 0 ("tick", fairness group 0), with an
    /// unfair self-loop at 2 ("stay") and a dead end 6 reachable from 3.
    struct Ring;

    impl Model for Ring {
        type State = u8;
        type Action = &'static str;
        fn init_states(&self, out: &mut Vec<u8>) {
            out.push(0);
        }
        fn successors(&self, s: &u8, out: &mut Vec<(&'static str, u8)>) {
            match *s {
                6 => {}
                x => {
                    out.push(("tick", (x + 1) % 6));
                    if x == 2 {
                        out.push(("stay", 2));
                    }
                    if x == 3 {
                        out.push(("fall", 6));
                    }
                }
            }
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![
                // Fails only through the dead end: 0 1 2 3 6.
                Property::eventually("reaches-4-or-5", |_, s| *s == 4 || *s == 5),
                // Fails through the fair ring (6 satisfies it).
                Property::eventually("reaches-6", |_, s| *s == 6),
                // Holds: every path passes 1.
                Property::eventually("reaches-1", |_, s| *s == 1),
            ]
        }
        fn fairness(&self, a: &&'static str) -> Option<u8> {
            (*a == "tick").then_some(0)
        }
    }

    fn summary(v: &Verdict) -> String {
        match v {
            Verdict::Holds => "holds".into(),
            Verdict::Unknown => "unknown".into(),
            Verdict::Violated(c) => format!("{:?} loop {:?}", c.fps, c.loop_start),
        }
    }

    #[test]
    fn one_shared_pass_decides_each_property_as_a_pass_of_its_own() {
        let props = Ring.properties();
        let refs: Vec<&Property<Ring>> = props.iter().collect();
        for depth in [0, 3, 4, 10] {
            let together = check_all(&Ring, &refs, false, depth, 1, &Counters::new());
            for (i, p) in refs.iter().enumerate() {
                let alone = check_all(&Ring, &[*p], false, depth, 1, &Counters::new());
                assert_eq!(summary(&together[i]), summary(&alone[0]), "{} to depth {depth}", p.name);
            }
            if depth == 0 {
                let kinds: Vec<String> = together.iter().map(summary).collect();
                assert!(kinds[0].contains("loop None"), "a dead end: {kinds:?}");
                assert!(kinds[1].contains("loop Some"), "a fair lasso: {kinds:?}");
                assert_eq!(kinds[2], "holds");
            }
        }
    }
}
