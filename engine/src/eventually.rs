//! Checking `eventually` properties.
//!
//! Semantics (shared with the reference checker): let G be the set of states
//! reachable from an initial state along paths of at most `max_depth` steps
//! (any length when there is no bound) on which the predicate never holds. The
//! property is violated iff some state of G has no successors at all (a
//! deadlock), or the subgraph of the model induced by G has a cycle (a path
//! that loops forever without the predicate). A state of G whose successors all
//! lie outside G (they satisfy the predicate, or are beyond the bound) is not a
//! counterexample.
//!
//! The pass runs after the main search, on one thread: a breadth-first search
//! of G (which finds the shortest path to a deadlock), then a depth-first
//! search for a back edge in G (any depth-first search finds a cycle iff there
//! is one). A cycle is reported as a lasso: the shortest path to the state where
//! the cycle starts, then the cycle. Under symmetry reduction G is a set of
//! orbits; a cycle of orbits is a real path that returns to a permutation of a
//! state it visited, which repeats forever since the predicate is symmetric.

use hashbrown::HashMap;

use crate::fingerprint::{nonzero, Fingerprint};
use crate::progress::Counters;
use crate::property::Property;
use crate::search::Chain;
use crate::trace::chain_from_parents;
use crate::Model;

/// The verdict of the pass on one property.
pub(crate) enum Verdict {
    Holds,
    Violated(Chain),
    /// A stop was requested before the pass finished.
    Unknown,
}

const WHITE: u8 = 0;
const GREY: u8 = 1;
const BLACK: u8 = 2;

struct Entry {
    parent: Fingerprint,
    color: u8,
}

/// Checks `prop` (of kind `eventually`) within `max_depth` (0 = no bound).
pub(crate) fn check<M: Model>(
    model: &M,
    prop: &Property<M>,
    symmetry: bool,
    max_depth: u64,
    counters: &Counters,
) -> Verdict {
    let holds = |s: &M::State| (prop.check)(model, s);
    let canon = |mut s: M::State| {
        if symmetry {
            model.canonicalize(&mut s);
        }
        let fp = nonzero(model.fingerprint(&s));
        (fp, s)
    };
    let mut g: HashMap<Fingerprint, Entry> = HashMap::new();
    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut roots = Vec::new();
    let mut frontier = Vec::new();
    for s in init {
        let (fp, s) = canon(s);
        if !holds(&s) && !g.contains_key(&fp) {
            g.insert(
                fp,
                Entry {
                    parent: 0,
                    color: WHITE,
                },
            );
            roots.push((fp, s.clone()));
            frontier.push((fp, s));
        }
    }

    // Breadth-first over G: membership, shortest prefixes, deadlocks.
    let mut succ = Vec::new();
    let mut depth = 0u64;
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for (fp, s) in &frontier {
            if counters.stopped() {
                return Verdict::Unknown;
            }
            succ.clear();
            model.successors(s, &mut succ);
            if succ.is_empty() {
                let fps = chain_from_parents(*fp, |f| g.get(&f).map(|e| e.parent));
                return Verdict::Violated(Chain {
                    fps,
                    loop_start: None,
                });
            }
            if max_depth > 0 && depth >= max_depth {
                continue;
            }
            for (_, t) in succ.drain(..) {
                let (tfp, t) = canon(t);
                if !g.contains_key(&tfp) && !holds(&t) {
                    g.insert(
                        tfp,
                        Entry {
                            parent: *fp,
                            color: WHITE,
                        },
                    );
                    next.push((tfp, t));
                }
            }
        }
        frontier = next;
        depth += 1;
    }

    // Depth-first over G for a back edge.
    struct Frame<S> {
        fp: Fingerprint,
        children: Vec<(Fingerprint, S)>,
    }
    let mut pool: Vec<Vec<(Fingerprint, M::State)>> = Vec::new();
    let mut expand = |s: &M::State,
                      g: &HashMap<Fingerprint, Entry>,
                      pool: &mut Vec<Vec<(Fingerprint, M::State)>>| {
        let mut children = pool.pop().unwrap_or_default();
        succ.clear();
        model.successors(s, &mut succ);
        for (_, t) in succ.drain(..) {
            let (tfp, t) = canon(t);
            if g.contains_key(&tfp) {
                children.push((tfp, t));
            }
        }
        children.reverse(); // popped from the back: visit in model order
        children
    };
    for (rfp, root) in roots {
        if g.get(&rfp).is_some_and(|e| e.color != WHITE) {
            continue;
        }
        if let Some(e) = g.get_mut(&rfp) {
            e.color = GREY;
        }
        let children = expand(&root, &g, &mut pool);
        let mut stack = vec![Frame { fp: rfp, children }];
        let mut steps = 0u64;
        while let Some(top) = stack.last_mut() {
            steps += 1;
            if steps % 1024 == 0 && counters.stopped() {
                return Verdict::Unknown;
            }
            let Some((cfp, child)) = top.children.pop() else {
                let done = stack.pop().map(|f| (f.fp, f.children));
                if let Some((fp, children)) = done {
                    if let Some(e) = g.get_mut(&fp) {
                        e.color = BLACK;
                    }
                    pool.push(children);
                }
                continue;
            };
            match g.get(&cfp).map(|e| e.color) {
                Some(WHITE) => {
                    if let Some(e) = g.get_mut(&cfp) {
                        e.color = GREY;
                    }
                    let children = expand(&child, &g, &mut pool);
                    stack.push(Frame { fp: cfp, children });
                }
                Some(GREY) => {
                    // A cycle: shortest prefix to `cfp`, then the stack from it.
                    let mut fps = chain_from_parents(cfp, |f| g.get(&f).map(|e| e.parent));
                    let loop_start = fps.len() - 1;
                    let at = stack.iter().position(|f| f.fp == cfp).unwrap_or(0);
                    fps.extend(stack[at + 1..].iter().map(|f| f.fp));
                    fps.push(cfp);
                    return Verdict::Violated(Chain {
                        fps,
                        loop_start: Some(loop_start),
                    });
                }
                _ => {}
            }
        }
    }
    Verdict::Holds
}
