//! The stale-reads bug (Kubernetes issue 59848) under resettable session,
//! replayed step by step: every step must be one the model offers, and only
//! the last state breaks "pods on nodes have unique names".

use krepis_engine::Model;
use krepis_model::consistency::{Consistency, MonotonicSession, ResettableSession, Synchronous};
use krepis_model::properties::PODS_ON_NODES_UNIQUE;
use krepis_model::{KubeModel, KubeState, Scenario};

/// Follows `script`: at each step, the successor whose action text contains
/// every `&`-separated part of the line. Panics if the model offers none.
fn follow<C: Consistency>(model: &KubeModel<C>, script: &[&str]) -> Vec<KubeState<C>> {
    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut states = vec![init.remove(0)];
    for line in script {
        let mut out = Vec::new();
        let from = states.last().unwrap();
        model.successors(from, &mut out);
        let texts: Vec<String> = out.iter().map(|(a, _)| model.format_step(from, a)).collect();
        let i = texts
            .iter()
            .position(|t| line.split('&').all(|part| t.contains(part)))
            .unwrap_or_else(|| panic!("no step '{line}' among:\n  {}", texts.join("\n  ")));
        states.push(out.swap_remove(i).1);
    }
    states
}

/// A kubelet on node-0 restarts (node object deleted); PodGC removes the pod
/// bound there; the StatefulSet controller creates it again (same name, new
/// uid); it is scheduled to node-1 and started there; then node-0's kubelet,
/// which has no session after its restart, reads an old state in which the
/// old pod is still bound to node-0 and starts it too. Its status write is
/// rejected (the uid changed), but the pod runs on two nodes.
const SCRIPT: [&str; 8] = [
    "statefulset-controller&newest state&create pod stale-reads-0",
    "scheduler&newest state&bind/update pod stale-reads-0 (node node-0)",
    "kubelet(node-0) restarts",
    "podgc&newest state&remove pod stale-reads-0",
    "statefulset-controller&newest state&create pod stale-reads-0",
    "scheduler&newest state&(node node-1)",
    "kubelet(node-1)&newest state&Running",
    "kubelet(node-0)&stale state&stale-reads-0 (Running) -> rejected (conflict)",
];

#[test]
fn resettable_session_runs_a_pod_on_two_nodes() {
    let model = KubeModel::<ResettableSession>::new(Scenario::stale_reads("resettable-session", 1));
    let states = follow(&model, &SCRIPT);
    let prop = model.properties().into_iter().find(|p| p.name == PODS_ON_NODES_UNIQUE).unwrap();
    for (i, s) in states.iter().enumerate() {
        assert_eq!((prop.check)(&model, s), i + 1 < states.len(), "step {i}: {}", model.format_state(s));
    }
    let last = states.last().unwrap();
    let latest = last.history.latest();
    let pod = latest.pods.get("stale-reads-0").expect("the re-created pod");
    assert_eq!(pod.spec.node_name.as_deref(), Some("node-1"), "the API says node-1 only");
}

#[test]
fn under_synchronous_the_stale_kubelet_step_does_not_exist() {
    let model = KubeModel::<Synchronous>::new(Scenario::stale_reads("synchronous", 1));
    // The same prefix is possible...
    follow(&model, &SCRIPT[..7]);
    // ...but node-0's kubelet can only read the newest state, where the pod is on node-1.
    let result = std::panic::catch_unwind(|| follow(&model, &SCRIPT));
    assert!(result.is_err(), "no stale read exists under synchronous");
}

/// Under monotonic session reads never go back past a controller's own last
/// read, yet they may lag: PodGC reads once early, so it may later act on the
/// state just after node-0's kubelet restarted (node object deleted) while
/// that kubelet, back with no session, has already rejoined and started the
/// pod from the newest state. PodGC removes the pod; the StatefulSet controller
/// creates it again; the scheduler, which now finds the spare pod on node-0,
/// sends it to node-1, whose kubelet starts it: two nodes run it.
const MONOTONIC_SCRIPT: [&str; 11] = [
    "podgc&newest state&nothing to do",
    "statefulset-controller&newest state&create pod stale-reads-0",
    "scheduler&newest state&bind/update pod stale-reads-0 (node node-0)",
    "kubelet(node-0) restarts",
    "kubelet(node-0)&newest state&join node node-0",
    "kubelet(node-0)&newest state&stale-reads-0 (Running)",
    "podgc&stale state&remove pod stale-reads-0",
    "scheduler&newest state&bind/update pod zspare-pod (node node-0)",
    "statefulset-controller&newest state&create pod stale-reads-0",
    "scheduler&newest state&(node node-1)",
    "kubelet(node-1)&newest state&Running",
];

#[test]
fn monotonic_session_runs_a_pod_on_two_nodes_with_one_instance_or_two() {
    for instances in [1, 2] {
        let model = KubeModel::<MonotonicSession>::new(Scenario::stale_reads("monotonic-session", instances));
        let states = follow(&model, &MONOTONIC_SCRIPT);
        let prop = model.properties().into_iter().find(|p| p.name == PODS_ON_NODES_UNIQUE).unwrap();
        for (i, s) in states.iter().enumerate() {
            assert_eq!((prop.check)(&model, s), i + 1 < states.len(), "step {i}: {}", model.format_state(s));
        }
    }
    // Under synchronous PodGC cannot read the state after the restart once
    // newer ones exist.
    let model = KubeModel::<Synchronous>::new(Scenario::stale_reads("synchronous", 1));
    follow(&model, &MONOTONIC_SCRIPT[..6]);
    assert!(std::panic::catch_unwind(|| follow(&model, &MONOTONIC_SCRIPT[..7])).is_err());
}
