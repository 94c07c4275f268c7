//! The StatefulSet controller: pods named `<set>-<ordinal>`, created in
//! ordinal order and deleted in reverse, each waiting for its predecessors to
//! be Running and Ready under the default OrderedReady policy; failed pods are
//! deleted to be created again; the status counts the pods.
//!
//! Not yet modelled (left for a later slice): controller revisions and rolling
//! updates, persistent volume claims, adoption of orphans.

use super::View;
use crate::api::Operation;
use crate::meta::{Kind, Meta, OwnerRef};
use crate::resources::{Phase, Pod, PodManagement, PodSpec, StatefulSet, StatefulSetStatus};

/// The pod a set creates for ordinal `k`.
pub fn pod_for(set: &StatefulSet, k: u32) -> Pod {
    let mut meta = Meta::named(&set.pod_name(k));
    meta.labels = set.spec.template_labels.clone();
    meta.owners.push(OwnerRef {
        kind: Kind::StatefulSet,
        name: set.meta.name.clone(),
        uid: set.meta.uid,
        controller: true,
    });
    Pod {
        meta,
        spec: PodSpec { node_name: None, images: set.spec.template_images.clone(), run_to_completion: false },
        phase: Phase::Pending,
        ready: false,
    }
}

/// One StatefulSet-controller step.
pub fn step(view: &View<'_>) -> Option<Operation> {
    view.store.statefulsets.iter().find_map(|set| reconcile(set, view))
}

fn reconcile(set: &StatefulSet, view: &View<'_>) -> Option<Operation> {
    if set.meta.deleting {
        return None;
    }
    let store = view.store;
    let ours: Vec<&Pod> = store
        .pods
        .iter()
        .filter(|p| p.meta.labels.matches(&set.spec.selector) && p.meta.controller_uid() == Some(set.meta.uid))
        .collect();
    let ordered = set.spec.pod_management == PodManagement::OrderedReady;
    let status = StatefulSetStatus {
        observed_generation: set.meta.generation,
        observed_revision: Some(view.revision.newest()),
        replicas: ours.iter().filter(|p| !matches!(p.phase, Phase::Succeeded | Phase::Failed)).count() as u32,
        ready_replicas: ours.iter().filter(|p| p.running_and_ready()).count() as u32,
    };
    let scaling = 'scale: {
        for k in 0..set.spec.replicas {
            let pod_name = set.pod_name(k);
            match ours.iter().find(|p| *p.meta.name == *pod_name) {
                None => {
                    if store.pods.get(&pod_name).is_some() {
                        break 'scale None; // the name is taken by a pod not ours
                    }
                    return Some(Operation::CreatePod(pod_for(set, k)));
                }
                Some(p) if p.phase == Phase::Failed && !p.meta.deleting => {
                    return Some(Operation::DeletePod { name: p.meta.name.clone(), uid: p.meta.uid });
                }
                Some(p) if ordered && !p.running_and_ready() => break 'scale None,
                Some(_) => {}
            }
        }
        // Condemned pods, highest ordinal first.
        let mut condemned: Vec<(u32, &&Pod)> = ours
            .iter()
            .filter_map(|p| set.ordinal(&p.meta.name).map(|k| (k, p)))
            .filter(|(k, _)| *k >= set.spec.replicas)
            .collect();
        condemned.sort_by_key(|c| std::cmp::Reverse(c.0));
        for (_, p) in condemned {
            if p.meta.deleting {
                if ordered {
                    break;
                }
                continue;
            }
            return Some(Operation::DeletePod { name: p.meta.name.clone(), uid: p.meta.uid });
        }
        None
    };
    if scaling.is_some() {
        return scaling;
    }
    // The observed revision alone does not make a status worth writing.
    let mut unchanged = set.status.clone();
    unchanged.observed_revision = status.observed_revision;
    if unchanged != status {
        let mut s = set.clone();
        s.status = status;
        return Some(Operation::UpdateStatefulSetStatus(s));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{bound, store, sts};
    use crate::meta::name;
    use crate::revision::Revision;
    use crate::store::Store;

    fn run(s: &Store) -> Option<Operation> {
        step(&View { revision: &Revision::at(20), store: s })
    }

    fn ready(mut p: Pod) -> Pod {
        p.phase = Phase::Running;
        p.ready = true;
        p
    }

    #[test]
    fn creates_ordinal_zero_first_and_waits_for_it() {
        let set = sts("web", 2, 7);
        let mut s = store(vec![], vec![]);
        s.statefulsets.put(set.clone());
        let Some(Operation::CreatePod(p)) = run(&s) else { panic!("create web-0") };
        assert_eq!(&*p.meta.name, "web-0");
        assert_eq!(p.meta.controller_uid(), Some(7));
        let mut p0 = p;
        p0.meta.uid = 8;
        s.pods.put(bound(p0.clone(), "n"));
        // web-0 not ready: no web-1 yet, only a status write.
        let op = run(&s);
        assert!(matches!(op, Some(Operation::UpdateStatefulSetStatus(_))), "{op:?}");
        s.pods.put(ready(bound(p0, "n")));
        let Some(Operation::CreatePod(p)) = run(&s) else { panic!("create web-1") };
        assert_eq!(&*p.meta.name, "web-1");
    }

    #[test]
    fn deletes_the_highest_ordinal_first_when_scaling_down() {
        let set = sts("web", 1, 7);
        let mut s = store(vec![], vec![]);
        s.statefulsets.put(set.clone());
        for k in 0..3 {
            let mut p = pod_for(&set, k);
            p.meta.uid = 10 + k;
            s.pods.put(ready(bound(p, "n")));
        }
        assert_eq!(run(&s), Some(Operation::DeletePod { name: name("web-2"), uid: 12 }));
    }

    #[test]
    fn a_failed_pod_is_deleted_to_be_replaced() {
        let set = sts("web", 1, 7);
        let mut s = store(vec![], vec![]);
        s.statefulsets.put(set.clone());
        let mut p = pod_for(&set, 0);
        p.meta.uid = 9;
        p.phase = Phase::Failed;
        s.pods.put(p);
        assert_eq!(run(&s), Some(Operation::DeletePod { name: name("web-0"), uid: 9 }));
    }
}
