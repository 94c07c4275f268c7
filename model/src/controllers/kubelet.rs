//! The kubelet of one node: registers the node, starts the pods bound to it,
//! reports their status (a pod that runs to completion succeeds once it has
//! been ready), and finishes their graceful deletion.
//!
//! Follows Kubernetes where the reference deviates: the kubelet also forgets
//! (stops) pods that are no longer bound to it in what it reads, as the real
//! kubelet's pod workers do; it records a pod as running as soon as it starts
//! it, whether or not its status write is accepted (as the real kubelet runs
//! containers before reporting).

use super::View;
use crate::api::Operation;
use crate::meta::Name;
use crate::resources::Phase;

/// One kubelet step for node `node`, which runs the pods named in `running`.
pub(crate) fn step(node: &Name, running: &mut super::Running, view: &View<'_>) -> Option<Operation> {
    let store = view.store;
    if store.nodes.get(node).is_none() {
        return Some(Operation::NodeJoin(*node));
    }
    // Stop what is no longer ours.
    running.retain(|name| store.pods.get(name).is_some_and(|p| p.spec.node_name.as_ref() == Some(node)));
    for p in store.pods.iter().filter(|p| p.spec.node_name.as_ref() == Some(node)) {
        let name = &p.meta.name;
        if p.active() {
            if let Err(at) = running.binary_search(name) {
                running.insert(at, *name);
                let mut started = p.clone();
                started.phase = Phase::Running;
                started.ready = false;
                return Some(Operation::UpdatePodStatus(started));
            }
            if p.phase == Phase::Running && !p.ready {
                let mut ready = p.clone();
                ready.ready = true;
                return Some(Operation::UpdatePodStatus(ready));
            }
            if p.phase == Phase::Running && p.spec.run_to_completion {
                // Its containers exit with 0: the pod has succeeded.
                if let Ok(at) = running.binary_search(name) {
                    running.remove(at);
                }
                let mut done = p.clone();
                done.phase = Phase::Succeeded;
                done.ready = false;
                return Some(Operation::UpdatePodStatus(done));
            }
        } else if p.meta.deleting && !p.meta.grace_zero {
            // Stopped: the delete completes (or waits for finalizers).
            if let Ok(at) = running.binary_search(name) {
                running.remove(at);
            }
            return Some(Operation::RemovePod { name: *name, uid: p.meta.uid });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{bound, node, pod, store};
    use crate::meta::name;
    use crate::revision::Revision;

    fn run(running: &mut crate::controllers::Running, s: &crate::store::Store) -> Option<Operation> {
        step(&name("n1"), running, &View { revision: &Revision::at(9), store: s })
    }

    #[test]
    fn joins_when_its_node_is_missing() {
        let s = store(vec![], vec![]);
        assert_eq!(run(&mut krepis_encodings::inline_vec![], &s), Some(Operation::NodeJoin(name("n1"))));
    }

    #[test]
    fn starts_then_reports_ready_then_rests() {
        let mut s = store(vec![node("n1")], vec![bound(pod("a", 3), "n1"), bound(pod("b", 4), "n2")]);
        let mut running = krepis_encodings::inline_vec![];
        let Some(Operation::UpdatePodStatus(p)) = run(&mut running, &s) else { panic!("start a") };
        assert_eq!((&*p.meta.name, p.phase, p.ready), ("a", Phase::Running, false));
        assert_eq!(running.as_slice(), [name("a")], "recorded before the write is accepted");
        crate::api::apply(&mut s, &Operation::UpdatePodStatus(p), 10).unwrap();
        let Some(Operation::UpdatePodStatus(p)) = run(&mut running, &s) else { panic!("ready a") };
        assert!(p.ready);
        crate::api::apply(&mut s, &Operation::UpdatePodStatus(p), 11).unwrap();
        assert_eq!(run(&mut running, &s), None);
    }

    #[test]
    fn finishes_deletion_and_forgets_pods_gone_elsewhere() {
        let mut deleting = bound(pod("a", 3), "n1");
        deleting.meta.deleting = true;
        let s = store(vec![node("n1")], vec![deleting]);
        let mut running = krepis_encodings::inline_vec![name("a"), name("ghost")];
        assert_eq!(run(&mut running, &s), Some(Operation::RemovePod { name: name("a"), uid: 3 }));
        assert!(running.is_empty());
    }

    #[test]
    fn a_pod_that_runs_to_completion_succeeds_after_being_ready() {
        let mut p = bound(pod("job-0", 3), "n1");
        p.spec.run_to_completion = true;
        p.phase = Phase::Running;
        p.ready = true;
        let s = store(vec![node("n1")], vec![p]);
        let mut running = krepis_encodings::inline_vec![name("job-0")];
        let Some(Operation::UpdatePodStatus(done)) = run(&mut running, &s) else { panic!("a status write") };
        assert_eq!((done.phase, done.ready), (Phase::Succeeded, false));
        assert!(running.is_empty(), "its containers have exited");
    }

    #[test]
    fn a_stopped_pod_held_by_a_finalizer_is_left_to_its_owner() {
        let mut p = bound(pod("job-0", 3), "n1");
        p.meta.deleting = true;
        p.meta.finalizers.push(name("batch.kubernetes.io/job-tracking"));
        let mut s = store(vec![node("n1")], vec![p]);
        let mut running = krepis_encodings::inline_vec![name("job-0")];
        let op = run(&mut running, &s).expect("the kubelet confirms the stop");
        crate::api::apply(&mut s, &op, 10).unwrap();
        let held = s.pods.get("job-0").expect("held by the finalizer");
        assert!(held.meta.grace_zero);
        assert_eq!(run(&mut running, &s), None, "no second confirmation");
        let mut released = held.clone();
        released.meta.finalizers = Default::default();
        crate::api::apply(&mut s, &Operation::UpdatePod(released), 11).unwrap();
        assert!(s.pods.get("job-0").is_none(), "gone once the finalizer is");
    }
}
