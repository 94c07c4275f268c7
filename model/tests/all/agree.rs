//! The optimised checker agrees with the reference checker (full states in a
//! hash set) on the Kubernetes model, for every consistency model, on 1 and
//! 2 threads, and its counterexamples replay step by step.

use krepis_engine::{check, check_reference, Model, Options, Report, Status};
use krepis_model::consistency::*;
use krepis_model::properties::PODS_ON_NODES_UNIQUE;
use krepis_model::{KubeModel, KubeState, Scenario};

use crate::reach;
use reach::reachable;

fn verdicts(r: &Report) -> Vec<(String, Status)> {
    r.properties.iter().map(|p| (p.name.clone(), p.status)).collect()
}

/// A scenario builder: (consistency, instances) -> scenario.
type Build = fn(&str, usize) -> Scenario;

fn agree_on<C: Consistency>(build: Build, instances: usize, depth: u64) {
    let model = KubeModel::<C>::new(build(C::NAME, instances));
    let name = model.scenario().name.clone();
    let base = Options::default().max_depth(depth).symmetry(false);
    let reference = check_reference(&model, &base).report;
    for threads in [1, 2] {
        let r = check(&model, &base.clone().threads(threads));
        assert_eq!(
            (r.report.unique_states, r.report.max_depth_reached, verdicts(&r.report)),
            (reference.unique_states, reference.max_depth_reached, verdicts(&reference)),
            "{name} under {} with {instances} instances to depth {depth}, {threads} threads",
            C::NAME
        );
        for t in r.traces.iter().flatten() {
            t.replays(&model, false).unwrap_or_else(|e| panic!("{}: {e}", C::NAME));
        }
    }
    assert!(reference.unique_states > 100, "a non-trivial space: {}", reference.unique_states);
}

fn agree<C: Consistency>(instances: usize, depth: u64) {
    agree_on::<C>(Scenario::stale_reads, instances, depth);
}

#[test]
fn synchronous_agrees() {
    agree::<Synchronous>(1, 6);
    agree::<Synchronous>(2, 4);
}

#[test]
fn monotonic_session_agrees() {
    agree::<MonotonicSession>(1, 5);
    agree::<MonotonicSession>(2, 4);
}

#[test]
fn resettable_session_agrees() {
    agree::<ResettableSession>(1, 5);
    agree::<ResettableSession>(2, 4);
}

#[test]
fn optimistic_linear_agrees() {
    agree::<OptimisticLinear>(1, 6);
    agree::<OptimisticLinear>(2, 4);
}

#[test]
fn causal_agrees() {
    agree::<Causal>(1, 5);
    agree::<Causal>(2, 4);
}

#[test]
fn the_causal_counterexample_replays_and_ends_with_a_pod_on_two_nodes() {
    let model = KubeModel::<Causal>::new(Scenario::stale_reads("causal", 1));
    let r = check(&model, &Options::default().threads(2).max_depth(8));
    assert_eq!(r.report.status(PODS_ON_NODES_UNIQUE), Some(Status::Violated));
    let trace = r.trace(PODS_ON_NODES_UNIQUE).expect("a counterexample");
    assert_eq!(trace.len(), 7, "the shortest counterexample has 7 steps");
    trace.replays(&model, false).expect("every step is a step of the model");
    // Each prefix keeps the property; the last state breaks it.
    let prop = model.properties().into_iter().find(|p| p.name == PODS_ON_NODES_UNIQUE).unwrap();
    for (i, (_, s)) in trace.steps.iter().enumerate() {
        assert_eq!((prop.check)(&model, s), i + 1 < trace.steps.len(), "step {i}");
    }
    let last = trace.last_state().unwrap();
    let running: Vec<_> = last.locals.iter().flat_map(|l| l.running.iter().map(|p| p.to_string())).collect();
    assert_eq!(running, vec!["stale-reads-0".to_string(), "stale-reads-0".to_string()], "one pod name on two kubelets");
}

/// Stale-reads whose scheduler takes any of equally loaded nodes.
fn stale_reads_any_ties(consistency: &str, instances: usize) -> Scenario {
    let mut s = Scenario::stale_reads(consistency, instances);
    s.scheduler_ties = krepis_model::scenario::SchedulerTies::Any;
    s
}

#[test]
fn stale_reads_with_any_ties_agrees_on_every_model() {
    agree_on::<Synchronous>(stale_reads_any_ties, 1, 6);
    agree_on::<MonotonicSession>(stale_reads_any_ties, 1, 5);
    agree_on::<ResettableSession>(stale_reads_any_ties, 1, 5);
    agree_on::<OptimisticLinear>(stale_reads_any_ties, 1, 6);
    agree_on::<Causal>(stale_reads_any_ties, 1, 6);
}

/// When the scheduler may take either node, the bug needs no restart: two
/// writers on diverging branches bind the one pod to different nodes, and
/// each node's kubelet starts it (6 steps, against 7 with ties by name).
#[test]
fn with_any_ties_the_causal_counterexample_binds_the_pod_to_both_nodes() {
    let model = KubeModel::<Causal>::new(stale_reads_any_ties("causal", 1));
    let r = check(&model, &Options::default().threads(2).max_depth(8));
    assert_eq!(r.report.status(PODS_ON_NODES_UNIQUE), Some(Status::Violated));
    let trace = r.trace(PODS_ON_NODES_UNIQUE).expect("a counterexample");
    assert_eq!(trace.len(), 6, "the shortest counterexample has 6 steps");
    trace.replays(&model, false).expect("every step is a step of the model");
    let bindings: Vec<String> = trace
        .steps
        .windows(2)
        .filter_map(|w| w[1].0.as_ref().and_then(|a| model.written(&w[0].1, a)))
        .map(|op| op.to_string())
        .filter(|op| op.starts_with("bind"))
        .collect();
    assert_eq!(bindings.len(), 2, "{bindings:?}");
    let on = |b: &str, n: &str| b.contains(&format!("(node {n})"));
    assert!(on(&bindings[0], "node-0") != on(&bindings[1], "node-0"), "two nodes: {bindings:?}");
    use krepis_model::KubeAction::{NodeRestart, Restart};
    assert!(!trace.steps.iter().any(|(a, _)| matches!(a, Some(Restart { .. } | NodeRestart { .. }))), "no restart");
}

fn agree_rs<C: Consistency>(instances: usize, depth: u64) {
    agree_on::<C>(Scenario::replicaset_scale, instances, depth);
}

#[test]
fn replicaset_scale_agrees_on_every_model() {
    agree_rs::<Synchronous>(1, 6);
    agree_rs::<MonotonicSession>(1, 5);
    agree_rs::<ResettableSession>(1, 5);
    agree_rs::<OptimisticLinear>(1, 6);
    agree_rs::<Causal>(1, 5);
}

fn agree_everywhere(build: Build, instances: usize, depth: u64) {
    agree_on::<Synchronous>(build, instances, depth);
    agree_on::<MonotonicSession>(build, instances, depth);
    agree_on::<ResettableSession>(build, instances, depth);
    agree_on::<OptimisticLinear>(build, instances, depth);
    agree_on::<Causal>(build, instances, depth);
}

#[test]
fn deployment_scenarios_agree_on_every_model() {
    agree_everywhere(Scenario::deployment_rollout, 1, 7);
    agree_everywhere(Scenario::deployment_paused, 1, 6);
}

#[test]
fn job_parallel_agrees_on_every_model() {
    agree_everywhere(Scenario::job_parallel, 1, 6);
}

/// Causal pruning drops only writes no controller can read again: the
/// verdicts and shortest counterexample lengths are those of the unpruned
/// model, over no more states.
#[test]
fn causal_pruning_keeps_verdicts() {
    fn summary(r: &Report) -> Vec<(String, Status, usize)> {
        r.properties.iter().map(|p| (p.name.clone(), p.status, p.trace.as_ref().map_or(0, |t| t.len()))).collect()
    }
    for (build, depth) in
        [(Scenario::stale_reads as Build, 7), (Scenario::replicaset_scale, 5), (Scenario::job_parallel, 5)]
    {
        let opts = Options::default().threads(2).max_depth(depth).keep_going(true);
        let pruned = check(&KubeModel::<Causal>::new(build("causal", 1)), &opts).report;
        let unpruned = check(&KubeModel::<CausalUnpruned>::new(build("causal", 1)), &opts).report;
        assert_eq!(summary(&pruned), summary(&unpruned), "{}", pruned.model);
        assert!(pruned.unique_states <= unpruned.unique_states);
    }
}

/// Synchronous states drop sessions older than the newest revision
/// (`Consistency::READS_NEWEST_ONLY`): the verdicts and shortest trace
/// lengths are those of the model keeping every session, over fewer states.
#[test]
fn synchronous_forgetting_old_sessions_keeps_verdicts() {
    fn summary(r: &Report) -> Vec<(String, Status, usize)> {
        r.properties.iter().map(|p| (p.name.clone(), p.status, p.trace.as_ref().map_or(0, |t| t.len()))).collect()
    }
    for (build, depth) in [
        (Scenario::stale_reads as Build, 7),
        (Scenario::replicaset_scale, 6),
        (Scenario::statefulset_scale, 6),
        (Scenario::deployment_rollout, 6),
        (Scenario::job_parallel, 6),
    ] {
        let opts = Options::default().threads(2).max_depth(depth).keep_going(true);
        let merged = check(&KubeModel::<Synchronous>::new(build("synchronous", 1)), &opts).report;
        let full = check(&KubeModel::<SynchronousKeepingSessions>::new(build("synchronous", 1)), &opts).report;
        assert_eq!(summary(&merged), summary(&full), "{}", merged.model);
        assert!(
            merged.unique_states < full.unique_states,
            "{}: {} against {}",
            merged.model,
            merged.unique_states,
            full.unique_states
        );
    }
}

/// The states the synchronous model reaches are exactly the states the
/// model keeping every session reaches, with old sessions dropped, when no
/// restart can happen; with restarts, some of the latter are not reached
/// (a restart that only drops an old session is not offered), and none
/// besides them.
#[test]
fn synchronous_states_are_the_full_models_with_old_sessions_dropped() {
    for (build, depth) in [(Scenario::stale_reads as Build, 7), (Scenario::replicaset_scale, 7)] {
        for restarts in [0, 2] {
            let mut scenario = build("synchronous", 1);
            scenario.restarts = restarts;
            let merged = KubeModel::<Synchronous>::new(scenario.clone());
            let full = KubeModel::<SynchronousKeepingSessions>::new(scenario);
            // A full state with its old sessions dropped, as the merged
            // model's state.
            let drop_old = |s: &KubeState<SynchronousKeepingSessions>| {
                let mut bytes = Vec::new();
                assert!(full.encode_state(s, &mut bytes));
                let mut s = merged.decode_state(&bytes).expect("one history serialises as the other");
                krepis_model::kube::normalize(&mut s, false);
                s
            };
            let states = reachable(&full, depth);
            let dropped: hashbrown::HashSet<u64> = states.iter().map(|s| merged.fingerprint(&drop_old(s))).collect();
            let reached: hashbrown::HashSet<u64> =
                reachable(&merged, depth).iter().map(|s| merged.fingerprint(s)).collect();
            let name = &merged.scenario().name;
            if restarts == 0 {
                // Step for step: a state's successors, old sessions
                // dropped, are the merged state's successors (so no step
                // is offered to an instance that has read the newest state).
                let (mut out, mut out_merged) = (Vec::new(), Vec::new());
                for s in &states {
                    full.successors(s, &mut out);
                    let from_full: hashbrown::HashSet<u64> =
                        out.drain(..).map(|(_, t)| merged.fingerprint(&drop_old(&t))).collect();
                    merged.successors(&drop_old(s), &mut out_merged);
                    let from_merged: hashbrown::HashSet<u64> =
                        out_merged.drain(..).map(|(_, t)| merged.fingerprint(&t)).collect();
                    assert_eq!(from_full, from_merged, "{name}: {}", full.format_state(s));
                }
            }
            assert!(reached.is_subset(&dropped), "{name}, {restarts} restarts: a state of its own");
            if restarts == 0 {
                assert_eq!(reached.len(), dropped.len(), "{name}");
            } else {
                assert!(reached.len() < dropped.len(), "{name}: burnt restarts");
            }
            let opts = Options::default().threads(2).max_depth(depth).symmetry(false);
            assert_eq!(check(&merged, &opts).report.unique_states, reached.len() as u64, "{name}");
        }
    }
}
