//! Deciding one `eventually` property on the explored [`Graph`]: its G
//! breadth first (the first deadlock ends it), then Tarjan's algorithm over
//! G, testing each cyclic component for a weakly fair cycle as it completes.
//!
//! Arrays indexed by state id hold G's parent links, Tarjan's numbers and
//! components (about 17 bytes a state, for one property at a time); G's
//! edges are not copied: an edge belongs to G when its target does.

use std::collections::VecDeque;

use hashbrown::HashMap;

use super::graph::{group_bit, Graph};
use super::Verdict;
use crate::fingerprint::Fingerprint;
use crate::progress::Counters;
use crate::search::{Chain, ANY_GROUP};

/// No state / not numbered yet.
const NONE: u32 = u32::MAX;

/// The verdict of the property whose predicate is bit `bit` of each state's
/// `holds`. With `renaming` (states are orbits whose edges rename fairness
/// groups) a fair cycle gives [`Verdict::CycleOfOrbits`], not a lasso.
pub(super) fn decide(graph: &Graph, bit: u64, max_depth: u64, renaming: bool, counters: &Counters) -> Verdict {
    let n = graph.id_bound();
    let in_g = |id: u32| graph.node(id).holds & bit == 0;
    // G, breadth first from the initial states, as a search of this
    // property alone would find it. `parent[id]`: NONE outside G, itself
    // for an initial state.
    let mut parent = vec![NONE; n];
    let mut order: Vec<u32> = Vec::new();
    let mut frontier: Vec<u32> = Vec::new();
    for &r in &graph.roots {
        if in_g(r) && parent[r as usize] == NONE {
            parent[r as usize] = r;
            order.push(r);
            frontier.push(r);
        }
    }
    let mut depth = 0u64;
    while !frontier.is_empty() {
        let last_level = max_depth > 0 && depth >= max_depth;
        let mut next = Vec::new();
        for &v in &frontier {
            if counters.stopped() {
                return Verdict::Unknown;
            }
            if graph.node(v).deadlock {
                let fps = path_to(graph, &parent, v);
                return Verdict::Violated {
                    chain: Chain { fps, loop_start: None, walked: None, groups: None },
                    on_orbits: false,
                };
            }
            if last_level {
                continue; // its edges lead only to states already in G
            }
            for e in graph.edges(v) {
                if parent[e.to as usize] == NONE && in_g(e.to) {
                    parent[e.to as usize] = v;
                    order.push(e.to);
                    next.push(e.to);
                }
            }
        }
        frontier = next;
        depth += 1;
    }
    let in_g = |id: u32| parent[id as usize] != NONE;
    match fair_component(graph, &order, &in_g, renaming, counters) {
        None => Verdict::Unknown,
        Some(None) => Verdict::Holds,
        Some(Some(_)) if renaming => Verdict::CycleOfOrbits,
        Some(Some((comp, comp_of, needed))) => {
            // The shallowest state of the component starts the loop.
            let rank: HashMap<u32, usize> = order.iter().enumerate().map(|(i, &v)| (v, i)).collect();
            let Some(&entry) = comp.iter().min_by_key(|v| rank.get(*v).copied().unwrap_or(usize::MAX)) else {
                return Verdict::Holds; // cannot happen: components are not empty
            };
            let inside = |v: u32| comp_of[v as usize] == comp_of[entry as usize];
            let mut fps = path_to(graph, &parent, entry);
            let loop_start = fps.len() - 1;
            // The loop's steps must be the edges that make it fair.
            let mut groups = vec![ANY_GROUP; loop_start];
            let somewhere = comp.iter().fold(0, |m, &w| m | graph.node(w).enabled);
            for (v, group) in fair_walk(graph, &inside, entry, needed, somewhere) {
                fps.push(graph.node(v).fp);
                groups.push(group);
            }
            let chain = Chain { fps, loop_start: Some(loop_start), walked: None, groups: Some(groups) };
            Verdict::Violated { chain, on_orbits: false }
        }
    }
}

/// The fingerprints from an initial state to `v` along G's parent links.
fn path_to(graph: &Graph, parent: &[u32], v: u32) -> Vec<Fingerprint> {
    let mut path = vec![graph.node(v).fp];
    let mut cur = v;
    while parent[cur as usize] != cur && path.len() <= parent.len() {
        cur = parent[cur as usize];
        path.push(graph.node(cur).fp);
    }
    path.reverse();
    path
}

/// A component of G with a weakly fair cycle, with every state's component
/// number and the groups enabled in all of its states; Tarjan's algorithm,
/// iteratively, from the states in `order`, testing components in the order
/// they complete (with `renaming`, up to the renamings on their edges:
/// [`super::renaming`]). `Some(None)`: none; `None`: a stop was requested.
#[allow(clippy::type_complexity)]
fn fair_component(
    graph: &Graph,
    order: &[u32],
    in_g: &impl Fn(u32) -> bool,
    renaming: bool,
    counters: &Counters,
) -> Option<Option<(Vec<u32>, Vec<u32>, u64)>> {
    let n = graph.id_bound();
    let mut index = vec![NONE; n];
    let mut low = vec![NONE; n];
    let mut on_stack = vec![false; n];
    let mut comp_of = vec![NONE; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut comp: Vec<u32> = Vec::new();
    let mut next = 0u32;
    let mut comps = 0u32;
    for &root in order {
        if index[root as usize] != NONE {
            continue;
        }
        // Frames: (state, index of its next edge).
        let mut frames: Vec<(u32, usize)> = vec![(root, 0)];
        index[root as usize] = next;
        low[root as usize] = next;
        next += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut ei)) = frames.last_mut() {
            if next % 4096 == 0 && counters.stopped() {
                return None;
            }
            let edges = graph.edges(v);
            if *ei < edges.len() {
                let w = edges[*ei].to;
                *ei += 1;
                if !in_g(w) {
                    continue;
                }
                if index[w as usize] == NONE {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    frames.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(p, _)) = frames.last() {
                low[p as usize] = low[p as usize].min(low[v as usize]);
            }
            if index[v as usize] != low[v as usize] {
                continue;
            }
            comp.clear();
            while let Some(w) = stack.pop() {
                on_stack[w as usize] = false;
                comp_of[w as usize] = comps;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            let c = comps;
            comps += 1;
            let cyclic = comp.len() > 1 || graph.edges(v).iter().any(|e| e.to == v);
            if !cyclic {
                continue;
            }
            if renaming {
                if super::renaming::fair_up_to_renaming(graph, &comp, &|w| comp_of[w as usize] == c) {
                    return Some(Some((comp, comp_of, 0)));
                }
                continue;
            }
            let enabled_everywhere = comp.iter().fold(u64::MAX, |m, &w| m & graph.node(w).enabled);
            let taken = comp
                .iter()
                .flat_map(|&w| graph.edges(w))
                .filter(|e| comp_of[e.to as usize] == c)
                .fold(0, |m, e| m | e.bit());
            if enabled_everywhere & !taken != 0 {
                continue; // every cycle here starves some group
            }
            return Some(Some((comp, comp_of, enabled_everywhere)));
        }
    }
    Some(None)
}

/// Shortest path (by edges inside the component) from `from` to a state
/// satisfying `goal`, as the states after `from` with the group of the
/// edge into each; `goal` is tested on the target of each edge together
/// with the edge's group bit.
fn path_inside(
    graph: &Graph,
    inside: &impl Fn(u32) -> bool,
    from: u32,
    goal: impl Fn(u32, u64) -> bool,
) -> Option<Vec<(u32, u8)>> {
    // Per state reached: the state before it and the group of the edge.
    let mut prev: HashMap<u32, (u32, u8)> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen: hashbrown::HashSet<u32> = [from].into_iter().collect();
    while let Some(v) = queue.pop_front() {
        for e in graph.edges(v) {
            if !inside(e.to) {
                continue;
            }
            if goal(e.to, e.bit()) {
                let mut path = vec![(e.to, e.group)];
                let mut cur = v;
                while cur != from {
                    let (before, group) = prev[&cur];
                    path.push((cur, group));
                    cur = before;
                }
                path.reverse();
                return Some(path);
            }
            if seen.insert(e.to) {
                prev.insert(e.to, (v, e.group));
                queue.push_back(e.to);
            }
        }
    }
    None
}

/// A closed walk from `entry` inside the component, ending back at
/// `entry` (the states after `entry`, each with the group of the edge taken
/// into it), that is weakly fair: every group of `somewhere` (groups enabled
/// in some state of the component) takes a step on it or is disabled in one
/// of its states, and every group of `everywhere` (enabled in all of them)
/// takes a step.
fn fair_walk(
    graph: &Graph,
    inside: &impl Fn(u32) -> bool,
    entry: u32,
    everywhere: u64,
    somewhere: u64,
) -> Vec<(u32, u8)> {
    let mut walk = Vec::new();
    let mut cur = entry;
    // Groups taken on the walk so far or disabled in one of its states.
    let mut done = !graph.node(entry).enabled & !everywhere;
    let mut missing = somewhere & !done;
    while missing != 0 {
        let bit = missing & missing.wrapping_neg();
        let disabled_will_do = everywhere & bit == 0;
        let goal = |w: u32, b: u64| b & bit != 0 || (disabled_will_do && graph.node(w).enabled & bit == 0);
        // (Always found: the component has such an edge or state.)
        if let Some(p) = path_inside(graph, inside, cur, goal) {
            for &(v, group) in &p {
                done |= (!graph.node(v).enabled & !everywhere) | group_bit(group);
            }
            cur = p.last().map_or(cur, |&(v, _)| v);
            walk.extend(p);
        }
        done |= bit;
        missing = somewhere & !done;
    }
    if cur != entry || walk.is_empty() {
        if let Some(p) = path_inside(graph, inside, cur, |w, _| w == entry) {
            walk.extend(p);
        }
    }
    walk
}
