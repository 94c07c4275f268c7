//! The reference checker: slow, obvious, single-threaded, full states.
//!
//! It keeps every state in a `hashbrown` map (no fingerprints), explores level
//! by level, and decides `eventually` properties with full states and a
//! different algorithm from the optimised pass (Kosaraju's components instead
//! of Tarjan's, over a graph of full states). The optimised checkers must
//! agree with it on unique-state counts, `max_depth_reached` and verdicts; the
//! tests compare them on every example model and thread count.
//!
//! It honours the depth bound and symmetry, ignores the time, state and memory
//! limits (it is meant for small models in tests), and stops, like BFS, at the
//! end of the level in which an `always` property is violated.

use std::time::Instant;

use hashbrown::{HashMap, HashSet};

use crate::checker::CheckResult;
use crate::property::{Kind, Property};
use crate::report::{PropertyReport, Report, Status, StopReason};
use crate::trace::Trace;
use crate::{Model, Options, Strategy};

fn canon<M: Model>(model: &M, symmetry: bool, mut s: M::State) -> M::State {
    if symmetry {
        model.canonicalize(&mut s);
    }
    s
}

/// Checks `model` exhaustively with the reference algorithm (see module docs).
pub fn check_reference<M: Model>(model: &M, opts: &Options) -> CheckResult<M> {
    let start = Instant::now();
    // The properties `opts` chooses; a name the model has none of is an
    // error in the report (the run then checks none).
    let (props, error) = match crate::property::select(model.properties(), opts.properties.as_deref()) {
        Ok(props) => (props, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let sym = opts.symmetry;
    let bound = opts.max_depth;
    let mut parent: HashMap<M::State, Option<M::State>> = HashMap::new();
    let mut decided: Vec<Option<M::State>> = vec![None; props.len()];
    let mut transitions = 0u64;
    let mut max_depth_reached = 0u64;

    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut level: Vec<M::State> = Vec::new();
    for s in init {
        let s = canon(model, sym, s);
        if !parent.contains_key(&s) {
            parent.insert(s.clone(), None);
            level.push(s);
        }
    }
    let decide = |decided: &mut Vec<Option<M::State>>, s: &M::State| {
        for (i, p) in props.iter().enumerate() {
            let hit = match p.kind {
                Kind::Always => !(p.check)(model, s),
                Kind::Sometimes => (p.check)(model, s),
                Kind::Eventually => false,
            };
            if hit && decided[i].is_none() {
                decided[i] = Some(s.clone());
            }
        }
    };
    let violated =
        |decided: &[Option<M::State>]| props.iter().zip(decided).any(|(p, d)| p.kind == Kind::Always && d.is_some());
    for s in &level {
        decide(&mut decided, s);
    }
    let mut depth = 0u64;
    let mut buf = Vec::new();
    let stop_reason = loop {
        if violated(&decided) {
            break StopReason::Violation;
        }
        if level.is_empty() {
            break StopReason::Exhausted;
        }
        if bound > 0 && depth >= bound {
            break StopReason::MaxDepth;
        }
        let mut next = Vec::new();
        for s in &level {
            buf.clear();
            model.successors(s, &mut buf);
            transitions += buf.len() as u64;
            for (_, t) in buf.drain(..) {
                let t = canon(model, sym, t);
                if !parent.contains_key(&t) {
                    parent.insert(t.clone(), Some(s.clone()));
                    decide(&mut decided, &t);
                    next.push(t);
                }
            }
        }
        depth += 1;
        if !next.is_empty() {
            max_depth_reached = depth;
        }
        level = next;
    };
    let closed = stop_reason.explored_a_closed_region();

    let mut traces = Vec::new();
    let mut reports = Vec::new();
    for (i, p) in props.iter().enumerate() {
        let (status, trace) = match p.kind {
            Kind::Eventually if closed => match eventually(model, p, sym && model.fairness_is_symmetric(), bound) {
                Some((path, loop_start)) => {
                    (Status::Violated, concretize(model, sym && model.fairness_is_symmetric(), &path, loop_start))
                }
                None => (Status::Holds, None),
            },
            Kind::Eventually => (Status::Unknown, None),
            _ => match &decided[i] {
                Some(s) => {
                    let mut path = vec![s.clone()];
                    while let Some(Some(p)) = parent.get(path.last().unwrap_or(s)) {
                        path.push(p.clone());
                    }
                    path.reverse();
                    let path: Vec<(M::State, u64)> = path.into_iter().map(|s| (s, ANY)).collect();
                    let status = if p.kind == Kind::Always { Status::Violated } else { Status::Found };
                    (status, concretize(model, sym, &path, None))
                }
                None if closed => (if p.kind == Kind::Always { Status::Holds } else { Status::NotFound }, None),
                None => (Status::Unknown, None),
            },
        };
        reports.push(PropertyReport {
            name: p.name.clone(),
            kind: p.kind,
            status,
            trace: trace.as_ref().map(|t: &Trace<M>| t.to_steps(model)),
            loop_start: trace.as_ref().and_then(|t| t.loop_start),
            loop_permuted: trace.as_ref().is_some_and(|t| t.loop_is_permuted()),
        });
        traces.push(trace);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let unique = parent.len() as u64;
    let entry = std::mem::size_of::<(M::State, Option<M::State>)>() as u64 + 1;
    let report = Report {
        model: model.name(),
        strategy: Strategy::Bfs,
        threads: 1,
        symmetry: sym,
        complete: stop_reason == StopReason::Exhausted,
        stop_reason,
        unique_states: unique,
        transitions,
        max_depth_reached,
        walks: None,
        elapsed_s: elapsed,
        liveness_s: 0.0,
        liveness_states: 0,
        liveness_recorded: false,
        records_dropped_bytes: 0,
        checkpoint_s: 0.0,
        resume_s: 0.0,
        states_per_s: if elapsed > 0.0 { unique as f64 / elapsed } else { 0.0 },
        us_per_state: if unique > 0 { elapsed * 1e6 / unique as f64 } else { 0.0 },
        peak_rss_bytes: crate::memory::peak_rss(),
        visited_set_bytes: parent.capacity() as u64 * entry,
        parent_log_bytes: 0,
        bytes_per_state: if unique > 0 { (parent.capacity() as u64 * entry) as f64 / unique as f64 } else { 0.0 },
        collision_probability: 0.0,
        resumed_states: 0,
        checkpoint: None,
        error,
        properties: reports,
    };
    CheckResult { report, traces, leftovers: Vec::new() }
}

/// Decides an `eventually` property on full states; returns a counterexample
/// path of canonical states (and its loop start) if there is one.
#[allow(clippy::type_complexity)]
fn eventually<M: Model>(
    model: &M,
    p: &Property<M>,
    sym: bool,
    bound: u64,
) -> Option<(Vec<(M::State, u64)>, Option<usize>)> {
    let holds = |s: &M::State| (p.check)(model, s);
    // G: states reachable along ¬P paths of at most `bound` steps.
    let mut parent: HashMap<M::State, Option<M::State>> = HashMap::new();
    let mut order: Vec<M::State> = Vec::new();
    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut level = Vec::new();
    for s in init {
        let s = canon(model, sym, s);
        if !holds(&s) && !parent.contains_key(&s) {
            parent.insert(s.clone(), None);
            level.push(s);
        }
    }
    let mut depth = 0;
    let mut buf = Vec::new();
    while !level.is_empty() {
        order.extend(level.iter().cloned());
        if bound > 0 && depth >= bound {
            break;
        }
        let mut next = Vec::new();
        for s in &level {
            buf.clear();
            model.successors(s, &mut buf);
            for (_, t) in buf.drain(..) {
                let t = canon(model, sym, t);
                if !holds(&t) && !parent.contains_key(&t) {
                    parent.insert(t.clone(), Some(s.clone()));
                    next.push(t);
                }
            }
        }
        level = next;
        depth += 1;
    }
    let path_to = |s: &M::State| {
        let mut path = vec![s.clone()];
        while let Some(Some(p)) = parent.get(path.last().unwrap_or(s)) {
            path.push(p.clone());
        }
        path.reverse();
        path
    };
    // The induced subgraph, with each edge's fairness group and each state's
    // enabled groups; a deadlock anywhere in G is a counterexample.
    let mut succs: HashMap<M::State, Vec<(M::State, u64)>> = HashMap::new();
    let mut enabled: HashMap<M::State, u64> = HashMap::new();
    for s in &order {
        buf.clear();
        model.successors(s, &mut buf);
        if buf.is_empty() {
            return Some((path_to(s).into_iter().map(|s| (s, ANY)).collect(), None));
        }
        let mut en = 0;
        let mut inside = Vec::new();
        for (a, t) in buf.drain(..) {
            let bit = crate::eventually::group_bit(model, &a);
            en |= bit;
            let t = canon(model, sym, t);
            if parent.contains_key(&t) {
                inside.push((t, bit));
            }
        }
        enabled.insert(s.clone(), en);
        succs.insert(s.clone(), inside);
    }
    // Kosaraju: finishing order on G, then components on the reversed graph.
    let mut finished: Vec<M::State> = Vec::new();
    let mut visited: HashSet<M::State> = HashSet::new();
    for root in &order {
        if !visited.insert(root.clone()) {
            continue;
        }
        let mut stack: Vec<(M::State, usize)> = vec![(root.clone(), 0)];
        while let Some((v, i)) = stack.pop() {
            let edges = &succs[&v];
            if i < edges.len() {
                let w = edges[i].0.clone();
                stack.push((v, i + 1));
                if visited.insert(w.clone()) {
                    stack.push((w, 0));
                }
            } else {
                finished.push(v);
            }
        }
    }
    let mut preds: HashMap<M::State, Vec<M::State>> = HashMap::new();
    for (s, ts) in &succs {
        for (t, _) in ts {
            preds.entry(t.clone()).or_default().push(s.clone());
        }
    }
    let mut assigned: HashSet<M::State> = HashSet::new();
    let mut components: Vec<Vec<M::State>> = Vec::new();
    for v in finished.iter().rev() {
        if !assigned.insert(v.clone()) {
            continue;
        }
        let mut comp = vec![v.clone()];
        let mut todo = vec![v.clone()];
        while let Some(x) = todo.pop() {
            for p in preds.get(&x).into_iter().flatten() {
                if assigned.insert(p.clone()) {
                    comp.push(p.clone());
                    todo.push(p.clone());
                }
            }
        }
        components.push(comp);
    }
    let position: HashMap<&M::State, usize> = order.iter().enumerate().map(|(i, s)| (s, i)).collect();
    // The fair cyclic component whose shallowest state comes first in BFS order.
    let mut best: Option<(usize, Vec<M::State>, u64)> = None;
    for comp in components {
        let inside: HashSet<&M::State> = comp.iter().collect();
        let internal =
            |s: &M::State| succs[s].iter().filter(|(t, _)| inside.contains(t)).map(|(_, b)| *b).collect::<Vec<_>>();
        let cyclic = comp.len() > 1 || succs[&comp[0]].iter().any(|(t, _)| *t == comp[0]);
        if !cyclic {
            continue;
        }
        let all_enabled = comp.iter().fold(u64::MAX, |m, s| m & enabled[s]);
        let taken = comp.iter().flat_map(internal).fold(0, |m, b| m | b);
        if all_enabled & !taken != 0 {
            continue;
        }
        let first = comp.iter().map(|s| position[s]).min().unwrap_or(usize::MAX);
        drop(inside);
        if best.as_ref().is_none_or(|(f, _, _)| first < *f) {
            best = Some((first, comp, all_enabled));
        }
    }
    let (first, comp, needed) = best?;
    let entry = order[first].clone();
    let somewhere = comp.iter().fold(0, |m, s| m | enabled[s]);
    let inside: HashSet<M::State> = comp.into_iter().collect();
    // Breadth-first path inside the component to an edge accepted by `goal`:
    // the states after `from`, each with the group bit of the edge into it.
    let path = |from: &M::State, goal: &dyn Fn(&M::State, u64) -> bool| -> Option<Vec<(M::State, u64)>> {
        let mut prev: HashMap<M::State, (M::State, u64)> = HashMap::new();
        let mut seen: HashSet<M::State> = [from.clone()].into_iter().collect();
        let mut queue = std::collections::VecDeque::from([from.clone()]);
        while let Some(v) = queue.pop_front() {
            for (w, b) in &succs[&v] {
                if !inside.contains(w) {
                    continue;
                }
                if goal(w, *b) {
                    let mut p = vec![(w.clone(), *b)];
                    let mut cur = v.clone();
                    while cur != *from {
                        let (before, bit) = prev[&cur].clone();
                        p.push((cur, bit));
                        cur = before;
                    }
                    p.reverse();
                    return Some(p);
                }
                if seen.insert(w.clone()) {
                    prev.insert(w.clone(), (v.clone(), *b));
                    queue.push_back(w.clone());
                }
            }
        }
        None
    };
    // A fair loop: every group enabled somewhere in the component takes a
    // step or (if not enabled everywhere) meets a state where it is disabled.
    let mut walk: Vec<(M::State, u64)> = path_to(&entry).into_iter().map(|s| (s, ANY)).collect();
    let loop_start = walk.len() - 1;
    let mut cur = entry.clone();
    for g in 0..64 {
        let bit = 1u64 << g;
        if somewhere & bit == 0 {
            continue;
        }
        let met = |s: &M::State, b: u64| b & bit != 0 || (needed & bit == 0 && enabled[s] & bit == 0);
        if walk[loop_start..].iter().enumerate().any(|(i, (s, b))| met(s, if i == 0 { 0 } else { *b })) {
            continue;
        }
        let p = path(&cur, &met)?;
        cur = p.last()?.0.clone();
        walk.extend(p);
    }
    if cur != entry || walk.len() == loop_start + 1 {
        walk.extend(path(&cur, &|w, _| *w == entry)?);
    }
    Some((walk, Some(loop_start)))
}

/// In a path's group bits: any action leading to the state will do.
const ANY: u64 = u64::MAX;

/// Turns a path of canonical states, each with the group bit its step's
/// action must have ([`ANY`]: any), into a real execution from an initial
/// state, choosing at each step the first such successor whose canonical
/// form is the next state of the path.
fn concretize<M: Model>(model: &M, sym: bool, path: &[(M::State, u64)], loop_start: Option<usize>) -> Option<Trace<M>> {
    let ((first, _), rest) = path.split_first()?;
    let mut init = Vec::new();
    model.init_states(&mut init);
    let s0 = init.into_iter().find(|s| canon(model, sym, s.clone()) == *first)?;
    let mut steps = vec![(None, s0)];
    let mut buf = Vec::new();
    for (want, bit) in rest {
        buf.clear();
        model.successors(&steps.last()?.1, &mut buf);
        let fits = |a: &M::Action| *bit == ANY || crate::eventually::group_bit(model, a) == *bit;
        let i = buf.iter().position(|(a, t)| fits(a) && canon(model, sym, t.clone()) == *want)?;
        let (a, t) = buf.swap_remove(i);
        steps.push((Some(a), t));
    }
    Some(Trace { steps, loop_start })
}
