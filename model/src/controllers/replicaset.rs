//! The ReplicaSet controller: adopts matching orphans, releases owned pods
//! that no longer match, creates or deletes one pod per step until the number
//! of active owned pods equals `spec.replicas`, and writes the status.
//!
//! Follows Kubernetes where the reference deviates: generation moves only on
//! spec changes (so `observed_generation` tracks spec), the status is written
//! through the status subresource, and pods to delete are ranked as
//! Kubernetes' `ActivePods` order (unbound, then Pending, then not ready,
//! then name order).

use super::{Refs, View};
use crate::api::Operation;
use crate::meta::{name_joined, Kind, Meta, OwnerRef};
use crate::resources::{ObservedStatus, Phase, Pod, PodSpec, ReplicaSet, ReplicaSetStatus};

/// The pod a ReplicaSet creates (named by the API server from `<rs>-`).
pub fn pod_for(rs: &ReplicaSet) -> Pod {
    let mut meta = Meta::named("");
    meta.generate_name = Some(name_joined(&[&rs.meta.name, "-"]));
    meta.labels = rs.spec.template_labels.clone();
    meta.owners.push(owner(rs));
    Pod {
        meta,
        spec: PodSpec { node_name: None, images: rs.spec.template_images, run_to_completion: false },
        phase: Phase::Pending,
        ready: false,
    }
}

fn owner(rs: &ReplicaSet) -> OwnerRef {
    OwnerRef { kind: Kind::ReplicaSet, name: rs.meta.name, uid: rs.meta.uid, controller: true }
}

/// One ReplicaSet-controller step.
pub(crate) fn step(view: &View<'_>) -> Option<Operation> {
    view.store.replicasets.iter().find_map(|rs| reconcile(rs, view))
}

fn reconcile(rs: &ReplicaSet, view: &View<'_>) -> Option<Operation> {
    if rs.meta.deleting {
        return None;
    }
    let store = view.store;
    let active: Refs<Pod> = store.pods.iter().filter(|p| p.active()).collect();
    // Release owned pods that no longer match; adopt matching orphans.
    for p in &active {
        let matches = p.meta.labels.matches(&rs.spec.selector);
        let ours = p.meta.controller_uid() == Some(rs.meta.uid);
        if ours && !matches {
            let mut released = (*p).clone();
            released.meta.owners.retain(|o| o.uid != rs.meta.uid);
            return Some(Operation::UpdatePod(released));
        }
        if matches && p.meta.controller_uid().is_none() {
            let mut adopted = (*p).clone();
            adopted.meta.owners.push(owner(rs));
            return Some(Operation::UpdatePod(adopted));
        }
    }
    let owned: Refs<Pod> = active.into_iter().filter(|p| p.meta.controller_uid() == Some(rs.meta.uid)).collect();
    let want = rs.spec.replicas as usize;
    if owned.len() < want {
        return Some(Operation::CreatePod(pod_for(rs)));
    }
    if owned.len() > want {
        let victim = owned.iter().min_by_key(|p| (p.spec.node_name.is_some(), p.phase, p.ready, p.meta.name))?;
        return Some(Operation::DeletePod { name: victim.meta.name, uid: victim.meta.uid });
    }
    let status = ReplicaSetStatus {
        observed_generation: rs.meta.generation,
        observed_revision: Some(view.revision.newest()),
        replicas: owned.len() as u32,
        ready_replicas: owned.iter().filter(|p| p.running_and_ready()).count() as u32,
    };
    if rs.status.worth_writing(&status) {
        let mut new = rs.clone();
        new.status = status;
        return Some(Operation::UpdateReplicaSetStatus(new));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{apply, Rejection};
    use crate::controllers::testing::{bound, rs, store};
    use crate::meta::{name, Labels};
    use crate::revision::Revision;
    use crate::store::Store;

    fn run(s: &Store) -> Option<Operation> {
        step(&View { revision: &Revision::at(30), store: s })
    }

    fn owned(rs: &ReplicaSet, n: &str, uid: u32) -> Pod {
        let mut p = pod_for(rs);
        p.meta.name = name(n);
        p.meta.uid = uid;
        p.meta.resource_version = uid;
        p
    }

    #[test]
    fn creates_up_to_replicas_with_generated_names() {
        let r = rs("web", 2, 7);
        let mut s = store(vec![], vec![]);
        s.replicasets.put(r.clone());
        let Some(op @ Operation::CreatePod(_)) = run(&s) else { panic!("a create") };
        apply(&mut s, &op, 8).unwrap();
        let Some(op @ Operation::CreatePod(_)) = run(&s) else { panic!("a second create") };
        apply(&mut s, &op, 9).unwrap();
        let names: Vec<&str> = s.pods.iter().map(|p| &*p.meta.name).collect();
        assert_eq!(names, vec!["web-0", "web-1"]);
        let Some(Operation::UpdateReplicaSetStatus(st)) = run(&s) else { panic!("a status write") };
        assert_eq!((st.status.replicas, st.status.observed_generation), (2, 1));
    }

    #[test]
    fn deletes_unbound_before_bound_pods() {
        let r = rs("web", 1, 7);
        let mut s = store(vec![], vec![bound(owned(&r, "web-0", 10), "n"), owned(&r, "web-1", 11)]);
        s.replicasets.put(r);
        assert_eq!(run(&s), Some(Operation::DeletePod { name: name("web-1"), uid: 11 }));
    }

    /// Why pods are not permuted by symmetry reduction: between pods that
    /// rank alike the controller deletes the first by name, so renaming two
    /// of one owner's pods (the same objects, uids and all, under swapped
    /// names) changes which pod object is deleted. The transition relation
    /// is not invariant under pod renaming (nor is the kubelet's, which
    /// starts its pods in name order, nor the API server's, which names a
    /// new pod by the smallest free suffix), so canonicalising over it would
    /// explore states the model never reaches.
    #[test]
    fn victims_go_by_name_so_renamed_pods_lose_other_objects() {
        let r = rs("web", 1, 7);
        let running = |n: &str, uid| {
            let mut p = bound(owned(&r, n, uid), "n");
            p.phase = Phase::Running;
            p.ready = true;
            p
        };
        let victim = |pods| {
            let mut s = store(vec![], pods);
            s.replicasets.put(r.clone());
            let Some(Operation::DeletePod { uid, .. }) = run(&s) else { panic!("a delete") };
            uid
        };
        assert_eq!(victim(vec![running("web-0", 10), running("web-1", 11)]), 10);
        assert_eq!(victim(vec![running("web-0", 11), running("web-1", 10)]), 11, "the renamed pod 11 goes");
    }

    #[test]
    fn adopts_matching_orphans_and_a_second_adopter_conflicts() {
        let a = rs("a", 1, 7);
        let mut b = rs("b", 1, 8);
        b.spec.selector = a.spec.selector.clone();
        let mut orphan = owned(&a, "x", 20);
        orphan.meta.owners.clear();
        orphan.meta.labels = Labels::from_pairs(&[("app", "a")]);
        let mut s = store(vec![], vec![orphan]);
        s.replicasets.put(a.clone());
        let read = s.clone();
        let first = step(&View { revision: &Revision::at(30), store: &read }).unwrap();
        let second = reconcile(&b, &View { revision: &Revision::at(30), store: &read }).unwrap();
        assert!(matches!(&first, Operation::UpdatePod(p) if p.meta.controller_uid() == Some(7)));
        assert!(matches!(&second, Operation::UpdatePod(p) if p.meta.controller_uid() == Some(8)));
        apply(&mut s, &first, 31).unwrap();
        assert_eq!(apply(&mut s, &second, 32), Err(Rejection::Conflict));
    }
}
