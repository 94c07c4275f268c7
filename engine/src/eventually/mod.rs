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
//! pass explores the union of the properties' Gs breadth first on every
//! thread, recording edges ([`explore`], into a [`graph`]); then, per
//! property, a breadth-first search of the recorded edges finds its G and
//! the shortest path to a deadlock, and Tarjan's algorithm over G tests each
//! cyclic component ([`decide`], on one thread). A fair component is reported as a
//! lasso: the shortest path to its shallowest state, then a closed walk from
//! there that takes an edge of every group the component needs. Under
//! symmetry reduction G is a set of orbits; a cycle of orbits is a real path
//! that returns to a permutation of a state it visited, which repeats for ever
//! since the predicate and the fairness groups are symmetric (the trace is
//! gone round again until it closes on the very state: `trace::close_loop`).
//!
//! After BFS or DFS the pass reads the successors the search recorded for it
//! ([`recorded`], unless [`crate::Options::record_for_pass`] is off)
//! instead of generating them again; the graph is the same.
//!
//! A model whose fairness groups are not symmetric
//! ([`Model::fairness_is_symmetric`]: a group per instance, and instances are
//! permuted) gets this pass on orbits only if it reports how canonicalising
//! renames the groups ([`Model::reports_group_maps`],
//! [`Model::canonicalize_groups`]); each edge then records its renaming, and a
//! component is tested up to the renamings on its cycles ([`renaming`]: exact,
//! the same verdict as on the real states the component stands for). Deadlock
//! paths found on orbits are real paths (rebuilt as BFS traces are); a fair
//! cycle of orbits may need several turns to close on a real state, so for
//! a property violated that way the pass runs again on unreduced states, for
//! that property alone, and reports the shortest real lasso it finds. A model
//! that does not report renamings gets the pass on unreduced states.

mod decide;
mod explore;
mod graph;
mod map_table;
mod recorded;
mod recording;
mod renaming;

pub(crate) use recorded::{FromSearch, Recorder};
pub(crate) use recording::Recording;

use crate::progress::Counters;
use crate::property::Property;
use crate::search::Chain;
use crate::Model;

/// What states the pass explores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reduction {
    /// Real (unreduced) states.
    None,
    /// Orbits, fairness groups symmetric.
    Orbits,
    /// Orbits, edges recording how they rename fairness groups.
    Renaming,
}

impl Reduction {
    /// How `model`'s `eventually` properties are checked with symmetry
    /// reduction on (`symmetry`) or off.
    pub(crate) fn of<M: Model>(model: &M, symmetry: bool) -> Reduction {
        if !symmetry {
            Reduction::None
        } else if model.fairness_is_symmetric() {
            Reduction::Orbits
        } else if model.reports_group_maps() {
            Reduction::Renaming
        } else {
            Reduction::None
        }
    }
}

/// What every exploration of the pass shares: the model, the depth bound
/// (0 = none), the threads it may use, the run's counters and what the
/// search recorded for it (used by the explorations it fits: of the same
/// properties on the same states).
pub(crate) struct Pass<'a, M: Model> {
    pub model: &'a M,
    pub max_depth: u64,
    pub threads: usize,
    pub counters: &'a Counters,
    pub from_search: Option<&'a FromSearch<'a, M::State>>,
}

/// The verdict of the pass on one property.
pub(crate) enum Verdict {
    Holds,
    /// Violated, with a path to a deadlock or a lasso; `on_orbits`: its
    /// fingerprints are of canonical forms (rebuild it with symmetry).
    Violated {
        chain: Chain,
        on_orbits: bool,
    },
    /// A stop was requested before the pass finished.
    Unknown,
    /// Within [`decide`] under renaming: a fair cycle of orbits, whose real
    /// lasso is to be found on unreduced states.
    CycleOfOrbits,
}

/// The fairness group of an action as a one-bit mask (0 for none).
pub(crate) fn group_bit<M: Model>(model: &M, a: &M::Action) -> u64 {
    fairness_bit(model.fairness(a))
}

/// The fairness group of `a` as an edge of the pass records it (and as
/// [`crate::search::Chain::groups`] names it): 0 to 63, or `u8::MAX` for none.
pub(crate) fn group_of<M: Model>(model: &M, a: &M::Action) -> u8 {
    model.fairness(a).map_or(graph::NO_GROUP, |g| g % 64)
}

/// The predicates of `props` that hold in `s`: bit i for the i-th (up to 64).
pub(crate) fn predicates_holding<'p, M: Model + 'p>(
    model: &M,
    props: impl IntoIterator<Item = &'p Property<M>>,
    s: &M::State,
) -> u64 {
    props.into_iter().enumerate().fold(0, |m, (i, p)| if (p.check)(model, s) { m | 1 << i } else { m })
}

/// Every one of `n` predicates holding (n up to 64).
pub(crate) fn all_predicates(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// The bit of fairness group `g` in a set of groups (0 for none).
pub(crate) fn fairness_bit(g: Option<u8>) -> u64 {
    g.map_or(0, |g| 1u64 << (g % 64))
}

/// Checks the `eventually` properties `props` within `max_depth` (0 = no
/// bound), one verdict each, in order, on the states `reduction` says
/// (see the module docs for what happens to fair cycles of orbits).
///
/// One exploration serves up to 64 of them (so successors are generated
/// once, not once per property): it explores every state reachable along
/// paths on which some predicate fails, recording edges
/// ([`explore::explore`]). Each property's G is then found by a
/// breadth-first search over the recorded edges, in the order a search of
/// that property alone would take, so verdicts and traces are the same.
/// That G lies inside the explored region: a state reachable within the
/// bound along states failing one predicate is reachable within it along
/// states failing some predicate.
pub(crate) fn check_all<M: Model>(run: &Pass<'_, M>, props: &[&Property<M>], reduction: Reduction) -> Checked {
    let (mut out, mut states, recorded) = pass(run, props, reduction);
    let mut error = None;
    let cycles: Vec<usize> = (0..out.len()).filter(|&i| matches!(out[i], Verdict::CycleOfOrbits)).collect();
    if !cycles.is_empty() {
        let again: Vec<&Property<M>> = cycles.iter().map(|&i| props[i]).collect();
        let (lassos, more, _) = pass(run, &again, Reduction::None);
        states += more;
        for (i, v) in cycles.into_iter().zip(lassos) {
            // The real states have a fair cycle iff the orbits do
            // (`renaming`), so this is a lasso unless stopped.
            if matches!(v, Verdict::Holds) {
                error = Some(format!(
                    "'{}': the eventually pass on orbits found a fair cycle that the states themselves do not have \
                     (does Model::canonicalize_groups report the renaming its canonical form makes?); \
                     the verdict given is the one on unreduced states",
                    props[i].name
                ));
            }
            out[i] = v;
        }
    }
    run.counters.live_depth.store(0, std::sync::atomic::Ordering::Relaxed);
    Checked { verdicts: out, states, error, recorded }
}

/// What [`check_all`] found.
pub(crate) struct Checked {
    /// One per property, in order.
    pub verdicts: Vec<Verdict>,
    /// States its explorations held, summed.
    pub states: u64,
    /// A disagreement between the pass on orbits and on states (a model
    /// whose renamings are wrong), for the report.
    pub error: Option<String>,
    /// The first exploration read the search's records (it did not
    /// generate the successors of states the search had expanded).
    pub recorded: bool,
}

/// One exploration per 64 properties and a decision for each; on orbits
/// unless a renaming cannot be recorded (then on real states). Also gives
/// the states the explorations held and whether they all read the search's
/// records instead of generating successors.
fn pass<M: Model>(run: &Pass<'_, M>, props: &[&Property<M>], reduction: Reduction) -> (Vec<Verdict>, u64, bool) {
    let mut out = Vec::with_capacity(props.len());
    let mut states = 0;
    let mut recorded = !props.is_empty();
    for chunk in props.chunks(64) {
        let mut reduction = reduction;
        let mut run = Pass { ..*run };
        let graph = loop {
            // Records serve only the exploration they were made for.
            run.from_search = run.from_search.filter(|f| f.fits(reduction, chunk.len()));
            match explore::explore(&run, chunk, reduction) {
                Ok(graph) => break Some(graph),
                Err(explore::Halt::Unreducible) if reduction != Reduction::None => reduction = Reduction::None,
                Err(explore::Halt::Unrecorded) if run.from_search.is_some() => run.from_search = None,
                Err(_) => break None,
            }
        };
        let Some(graph) = graph else {
            out.extend(props.iter().map(|_| Verdict::Unknown));
            break;
        };
        states += graph.len() as u64;
        recorded &= run.from_search.is_some();
        let renaming = reduction == Reduction::Renaming;
        out.extend((0..chunk.len()).map(|i| {
            match decide::decide(&graph, 1u64 << i, run.max_depth, renaming, run.counters) {
                Verdict::Violated { chain, .. } => Verdict::Violated { chain, on_orbits: reduction != Reduction::None },
                v => v,
            }
        }));
    }
    out.truncate(props.len());
    (out, states, recorded)
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
            Verdict::Violated { chain: c, .. } => format!("{:?} loop {:?}", c.fps, c.loop_start),
            Verdict::CycleOfOrbits => "cycle of orbits".into(),
        }
    }

    #[test]
    fn one_shared_pass_decides_each_property_as_a_pass_of_its_own() {
        let props = Ring.properties();
        let refs: Vec<&Property<Ring>> = props.iter().collect();
        for depth in [0, 3, 4, 10] {
            let counters = Counters::new();
            let run = Pass { model: &Ring, max_depth: depth, threads: 1, counters: &counters, from_search: None };
            let together = check_all(&run, &refs, Reduction::None).verdicts;
            for (i, p) in refs.iter().enumerate() {
                let alone = check_all(&run, &[*p], Reduction::None).verdicts;
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
