//! Symmetry over interchangeable controller instances, and over nodes when
//! the scheduler takes any of equally loaded nodes (`KubeModel::canonicalize`):
//! exact (the reduced unique-state count is the number of orbits, counted by
//! brute force over every permutation) and sound (the same verdicts with and
//! without it, on every consistency model).

use std::collections::HashSet;
use std::ops::Range;

use krepis_engine::{check, check_reference, GroupMap, Kind, Model, Options};
use krepis_model::consistency::*;
use krepis_model::controllers::Controller;
use krepis_model::scenario::SchedulerTies;
use krepis_model::{KubeModel, KubeState, Scenario};

use crate::reach;
use reach::{reachable, within};

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for at in 0..=p.len() {
            let mut q = p.clone();
            q.insert(at, n - 1);
            out.push(q);
        }
    }
    out
}

/// Every image of `s` under the permutations of each run, and of the nodes
/// if they are interchangeable (their product).
fn images<C: Consistency>(m: &KubeModel<C>, runs: &[Range<usize>], s: &KubeState<C>) -> Vec<KubeState<C>> {
    let mut out = match m.interchangeable_nodes() {
        true => permutations(m.scenario().nodes.len()).iter().map(|p| m.rename_nodes(s, p)).collect(),
        false => vec![s.clone()],
    };
    for run in runs {
        let mut next = Vec::new();
        for t in &out {
            for p in permutations(run.len()) {
                let mut u = t.clone();
                for (k, &from) in p.iter().enumerate() {
                    u.locals.set(run.start + k, &t.locals.get(run.start + from).to_local());
                }
                next.push(u);
            }
        }
        out = next;
    }
    out
}

/// What the `eventually` pass explores, unreduced, by its definition: the
/// initial states where some `eventually` predicate fails, then level by
/// level to `depth` the successors of states where one fails.
fn pass_states<C: Consistency>(m: &KubeModel<C>, depth: u64) -> HashSet<KubeState<C>> {
    let props = m.properties();
    let live: Vec<_> = props.iter().filter(|p| p.kind == Kind::Eventually).collect();
    assert!(!live.is_empty());
    within(m, depth, &|s| live.iter().any(|p| !(p.check)(m, s)))
}

/// The orbits among `states` (closed under the permutations).
fn count_orbits<C: Consistency>(m: &KubeModel<C>, runs: &[Range<usize>], states: &HashSet<KubeState<C>>) -> u64 {
    let mut seen = HashSet::new();
    let mut orbits = 0u64;
    for s in states {
        if seen.insert(s.clone()) {
            orbits += 1;
            seen.extend(images(m, runs, s));
        }
    }
    orbits
}

/// Orbits counted by brute force == unique states with symmetry (optimised
/// and reference checkers); states without symmetry == all reachable.
fn exact<C: Consistency>(scenario: Scenario, depth: u64) {
    let m = KubeModel::<C>::new(scenario);
    let runs = m.interchangeable().to_vec();
    assert!(!runs.is_empty() || m.interchangeable_nodes(), "the scenario has interchangeable instances");
    for run in &runs {
        let kind = &m.controllers()[run.start];
        assert!(!matches!(kind, Controller::Kubelet { .. }) && m.controllers()[run.clone()].iter().all(|c| c == kind));
    }
    let all = reachable(&m, depth);
    let mut seen = HashSet::new();
    let mut orbits = 0u64;
    for s in &all {
        if seen.contains(s) {
            continue;
        }
        orbits += 1;
        for image in images(&m, &runs, s) {
            assert!(all.contains(&image), "a permutation of a reachable state is reachable (automorphism)");
            seen.insert(image);
        }
    }
    let opts = |sym: bool| Options::default().threads(2).max_depth(depth).symmetry(sym);
    let plain = check(&m, &opts(false)).report;
    let reduced = check(&m, &opts(true)).report;
    let reference = check_reference(&m, &opts(true)).report;
    assert_eq!(plain.unique_states, all.len() as u64, "{}", C::NAME);
    assert_eq!(reduced.unique_states, orbits, "{}", C::NAME);
    assert_eq!(reference.unique_states, orbits, "{}", C::NAME);
    assert!(orbits < all.len() as u64, "{}: the reduction reduces", C::NAME);
    // Canonicalising reports how it renames the instances' fairness groups:
    // what group g does in a state, group σ(g) does in its canonical form.
    let mut renamed = 0;
    for s in &all {
        let (mut c, mut sigma) = (s.clone(), GroupMap::IDENTITY);
        m.canonicalize_groups(&mut c, &mut sigma);
        let mut plain = s.clone();
        m.canonicalize(&mut plain);
        assert!(c == plain && sigma.is_permutation());
        renamed += usize::from(!sigma.is_identity());
        let canon = |mut t: KubeState<C>| {
            m.canonicalize(&mut t);
            t
        };
        let (mut from_s, mut from_c) = (Vec::new(), Vec::new());
        m.successors(s, &mut from_s);
        m.successors(&c, &mut from_c);
        let from_c: HashSet<(Option<u8>, KubeState<C>)> =
            from_c.into_iter().map(|(a, t)| (m.fairness(&a), canon(t))).collect();
        for (a, t) in from_s {
            let g = m.fairness(&a).map(|g| sigma.get(g));
            assert!(from_c.contains(&(g, canon(t))), "{}: a step of group {:?} has no image", C::NAME, m.fairness(&a));
        }
    }
    assert!(renamed > 0, "some states are not canonical as reached");
    // The `eventually` pass, on orbits too: it holds the orbits of what it
    // holds unreduced (counted by brute force).
    let pass = pass_states(&m, depth);
    let pass_orbits = count_orbits(&m, &runs, &pass);
    let live = |sym: bool| check(&m, &opts(sym).keep_going(true)).report;
    let (plain, reduced) = (live(false), live(true));
    assert_eq!(plain.liveness_states, pass.len() as u64, "{}", C::NAME);
    assert_eq!(reduced.liveness_states, pass_orbits, "{}", C::NAME);
    assert!(pass_orbits < pass.len() as u64);
    eprintln!(
        "{} {} depth {depth}: {} states, {orbits} orbits (reduction {:.2}x)",
        m.scenario().name,
        C::NAME,
        all.len(),
        all.len() as f64 / orbits as f64
    );
}

#[test]
fn the_reduced_count_is_the_number_of_orbits() {
    exact::<Synchronous>(Scenario::replicaset_scale("synchronous", 2), 4);
    exact::<ResettableSession>(Scenario::replicaset_scale("resettable-session", 2), 4);
    exact::<Causal>(Scenario::stale_reads("causal", 2), 3);
}

/// `scenario` with the scheduler taking any of equally loaded nodes.
fn any_ties(mut scenario: Scenario) -> Scenario {
    scenario.scheduler_ties = SchedulerTies::Any;
    scenario
}

/// Stale-reads on five nodes whose scheduler takes any of them: 120
/// arrangements of nodes alike, more than canonical forms compare
/// (`MAX_TIED_ARRANGEMENTS`), so some orbits keep several members.
fn five_nodes() -> Scenario {
    let mut s = any_ties(Scenario::stale_reads("optimistic-linear", 1));
    s.nodes = Scenario::node_names(5);
    s
}

/// Past `MAX_TIED_ARRANGEMENTS` the reduction may be partial but is sound:
/// fewer states than without symmetry, no fewer than the orbits (counted by
/// brute force), and every canonical form is an image of its state.
#[test]
fn past_the_arrangements_compared_the_reduction_is_partial() {
    let m = KubeModel::<OptimisticLinear>::new(five_nodes());
    let all = reachable(&m, 4);
    let (mut seen, mut orbits) = (HashSet::new(), 0u64);
    for s in &all {
        if seen.insert(s.clone()) {
            orbits += 1;
            seen.extend(images(&m, &[], s));
        }
        let mut c = s.clone();
        m.canonicalize(&mut c);
        assert!(images(&m, &[], s).contains(&c), "a canonical form is an image");
    }
    let reduced = check(&m, &Options::default().threads(2).max_depth(4)).report.unique_states;
    // (Here as many as the orbits: states whose five nodes all look alike
    // are rare, and those reached to depth 4 have no image but themselves.)
    assert!(orbits <= reduced && reduced < all.len() as u64, "{orbits} orbits, {reduced}, {} states", all.len());
}

/// Nodes (with their kubelets) are permuted too when the scheduler takes
/// any of equally loaded nodes: the reduced count is still the number of
/// orbits, now under node renamings as well (alone, and with runs of
/// interchangeable instances), and a renamed reachable state is reachable.
#[test]
fn with_any_ties_the_reduced_count_is_the_number_of_orbits_under_node_renamings() {
    let m = KubeModel::<Synchronous>::new(any_ties(Scenario::stale_reads("synchronous", 1)));
    assert!(m.interchangeable_nodes() && m.interchangeable().is_empty());
    exact::<Synchronous>(any_ties(Scenario::stale_reads("synchronous", 1)), 7);
    exact::<OptimisticLinear>(any_ties(Scenario::stale_reads("optimistic-linear", 1)), 5);
    exact::<Causal>(any_ties(Scenario::stale_reads("causal", 1)), 5);
    exact::<ResettableSession>(any_ties(Scenario::replicaset_scale("resettable-session", 2)), 4);
    // Three nodes: renamings within groups of equal signatures.
    let mut three = any_ties(Scenario::stale_reads("synchronous", 1));
    three.nodes = Scenario::node_names(3);
    exact::<Synchronous>(three, 6);
    // By name, nodes stay apart.
    assert!(!KubeModel::<Synchronous>::new(Scenario::stale_reads("synchronous", 1)).interchangeable_nodes());
}

/// Every property's status is the same with and without symmetry, and
/// every trace found with it replays as a real trace of the model.
/// Returns how many properties it found violated (with a trace).
fn same_verdicts<C: Consistency>(scenario: Scenario, depth: u64) -> usize {
    let m = KubeModel::<C>::new(scenario);
    let opts = |sym: bool| Options::default().threads(2).max_depth(depth).symmetry(sym).keep_going(true);
    let plain = check(&m, &opts(false));
    let reduced = check(&m, &opts(true));
    assert_eq!(reduced.report.error, None);
    for (a, b) in plain.report.properties.iter().zip(&reduced.report.properties) {
        assert_eq!((&a.name, a.status), (&b.name, b.status), "{} under {}", m.scenario().name, C::NAME);
        assert_eq!(a.trace.as_ref().map(|t| t.len()), b.trace.as_ref().map(|t| t.len()), "{}: shortest traces", a.name);
    }
    assert!(reduced.report.unique_states <= plain.report.unique_states);
    reduced
        .report
        .properties
        .iter()
        .filter(|p| p.trace.is_some() && p.status == krepis_engine::Status::Violated)
        .count()
}

#[test]
fn verdicts_are_the_same_with_and_without_symmetry() {
    let violated = [
        same_verdicts::<Synchronous>(Scenario::replicaset_scale("synchronous", 2), 5),
        same_verdicts::<MonotonicSession>(Scenario::replicaset_scale("monotonic-session", 2), 4),
        same_verdicts::<ResettableSession>(Scenario::replicaset_scale("resettable-session", 2), 4),
        same_verdicts::<OptimisticLinear>(Scenario::replicaset_scale("optimistic-linear", 2), 4),
        same_verdicts::<Causal>(Scenario::stale_reads("causal", 2), 4),
        same_verdicts::<MonotonicSession>(Scenario::stale_reads("monotonic-session", 2), 5),
        same_verdicts::<Synchronous>(any_ties(Scenario::stale_reads("synchronous", 1)), 9),
        same_verdicts::<MonotonicSession>(any_ties(Scenario::stale_reads("monotonic-session", 1)), 6),
        same_verdicts::<ResettableSession>(any_ties(Scenario::stale_reads("resettable-session", 1)), 5),
        same_verdicts::<OptimisticLinear>(any_ties(Scenario::stale_reads("optimistic-linear", 1)), 6),
        same_verdicts::<Causal>(any_ties(Scenario::stale_reads("causal", 1)), 6),
        same_verdicts::<Causal>(any_ties(Scenario::replicaset_scale("causal", 2)), 4),
        // Five nodes alike: more arrangements than canonical forms compare.
        same_verdicts::<OptimisticLinear>(five_nodes(), 6),
    ];
    eprintln!("violations with traces found under symmetry: {violated:?}");
    // Traces found on reduced states are concrete traces (rebuilt and
    // checked by the engine): some must be there for this to test that.
    assert!(violated.iter().sum::<usize>() > 0);
}

/// The composed model's ReplicaSet part with two schedulers and two
/// ReplicaSet controllers: with restarts and client writes unbounded, a
/// kubelet that keeps restarting keeps its node away from the scheduler,
/// so "pods are eventually scheduled" fails on a weakly fair lasso. Its
/// `eventually` pass runs on orbits (the instances' fairness groups follow
/// the permutations), finds the fair cycle there, and the lasso printed is
/// a real one: the one the pass on unreduced states prints.
#[test]
fn a_fair_cycle_found_on_orbits_is_printed_as_a_real_lasso() {
    let mut s = Scenario::cluster("synchronous");
    s.statefulsets.clear();
    s.deployments.clear();
    s.jobs.clear();
    (s.statefulset_controllers, s.deployment_controllers, s.job_controllers, s.podgc_controllers) = (0, 0, 0, 0);
    (s.schedulers, s.replicaset_controllers) = (2, 2);
    let m = KubeModel::<Synchronous>::new(s);
    assert!(!m.interchangeable().is_empty());
    let opts = |sym: bool| Options::default().threads(2).max_depth(5).symmetry(sym).keep_going(true);
    let (plain, reduced) = (check(&m, &opts(false)), check(&m, &opts(true)));
    assert_eq!(reduced.report.error, None);
    let name = krepis_model::properties::PODS_EVENTUALLY_SCHEDULED;
    for r in [&plain, &reduced] {
        assert_eq!(r.report.status(name), Some(krepis_engine::Status::Violated));
        let t = r.trace(name).expect("a trace");
        let start = t.loop_start.expect("a lasso");
        t.replays(&m, false).expect("a real lasso, closing on the very state it loops to");
        assert!(t.loop_is_fair(&m) && start < t.steps.len(), "the loop is weakly fair as printed");
    }
    let (a, b) = (plain.trace(name).expect("a trace"), reduced.trace(name).expect("a trace"));
    assert_eq!((a.steps.len(), a.loop_start), (b.steps.len(), b.loop_start));
    assert!(reduced.report.unique_states < plain.report.unique_states);
    // The pass read the search's records (the default), and printed what
    // the pass that generates successors itself prints.
    for (sym, with) in [(false, &plain), (true, &reduced)] {
        let without = check(&m, &opts(sym).record_for_pass(false));
        assert!(with.report.liveness_recorded && !without.report.liveness_recorded);
        assert_eq!(format!("{:?}", with.report.properties), format!("{:?}", without.report.properties));
        assert_eq!(with.report.liveness_states, without.report.liveness_states);
    }
}
