//! The StatefulSet controller: pods named `<set>-<ordinal>`, created in
//! ordinal order and deleted in reverse, each waiting for its predecessors to
//! be Running and Ready under the default OrderedReady policy; failed pods are
//! deleted to be created again; each pod's claims (`<template>-<set>-<k>`)
//! are created before it and kept when the set scales down (retention policy
//! Retain, Kubernetes' default).
//!
//! Revisions, as Kubernetes: the set's pod template is recorded in a
//! ControllerRevision (`<set>-<hash>`, numbered); pods carry the revision
//! they were made from (`controller-revision-hash`). When the template
//! changes, a rolling update deletes out-of-date pods one at a time from the
//! highest ordinal down to the partition, each once the pods above it are
//! healthy, and the scaling loop creates them again from the new revision.
//! When every pod is updated and ready, the update revision becomes current.
//!
//! Not modelled: claim retention policies other than Retain (no owner
//! references on claims), the revision history limit (old revisions are
//! kept; the scenarios change a template a bounded number of times),
//! `minReadySeconds` (no clock), adoption of orphans.

use super::{Refs, View};
use crate::api::Operation;
use crate::meta::{name, with_joined, Kind, Meta, OwnerRef};
use crate::resources::{
    ControllerRevision, ObservedStatus, PersistentVolumeClaim, Phase, Pod, PodManagement, PodSpec, StatefulSet,
    StatefulSetStatus, UpdateStrategy,
};

/// The label naming the revision a pod was made from.
pub const REVISION_LABEL: &str = "controller-revision-hash";

fn owner(set: &StatefulSet) -> OwnerRef {
    OwnerRef { kind: Kind::StatefulSet, name: set.meta.name, uid: set.meta.uid, controller: true }
}

/// The revision that `set`'s current template would get (not yet numbered).
pub fn revision_for(set: &StatefulSet, number: u64) -> ControllerRevision {
    let hash =
        super::hash::safe_hash(&(&set.spec.template_labels, &set.spec.template_images, set.status.collision_count));
    let mut meta = with_joined(&[&set.meta.name, "-", hash.as_str()], Meta::named);
    meta.labels = set.spec.template_labels.clone();
    meta.owners.push(owner(set));
    ControllerRevision {
        meta,
        template_labels: set.spec.template_labels.clone(),
        template_images: set.spec.template_images,
        revision: number,
    }
}

/// The pod a set creates for ordinal `k` from revision `rev`.
pub fn pod_for(set: &StatefulSet, k: u32, rev: &ControllerRevision) -> Pod {
    let mut meta = set.with_pod_name(k, Meta::named);
    meta.labels = rev.template_labels.clone();
    meta.labels.insert(name(REVISION_LABEL), rev.meta.name);
    meta.owners.push(owner(set));
    Pod {
        meta,
        spec: PodSpec { node_name: None, images: rev.template_images, run_to_completion: false },
        phase: Phase::Pending,
        ready: false,
    }
}

/// The claim `template` of ordinal `k`.
pub fn claim_for(set: &StatefulSet, template: &str, k: u32) -> PersistentVolumeClaim {
    let mut meta = set.with_claim_name(template, k, Meta::named);
    meta.labels = set.spec.selector.clone();
    PersistentVolumeClaim { meta }
}

/// One StatefulSet-controller step.
pub(crate) fn step(view: &View<'_>) -> Option<Operation> {
    view.store.statefulsets.iter().find_map(|set| reconcile(set, view))
}

/// The set's update revision, or the write that makes it exist.
fn update_revision<'a>(
    set: &StatefulSet,
    revs: &[&'a ControllerRevision],
    view: &View<'a>,
) -> Result<&'a ControllerRevision, Box<Operation>> {
    let next = revs.last().map_or(1, |r| r.revision + 1);
    let equal = revs
        .iter()
        .rev()
        .find(|r| r.template_labels == set.spec.template_labels && r.template_images == set.spec.template_images);
    match equal {
        Some(r) if Some(r.meta.uid) == revs.last().map(|l| l.meta.uid) => Ok(r),
        Some(r) => {
            // Back to an older template: that revision becomes the newest.
            let mut bumped = (*r).clone();
            bumped.revision = next;
            Err(Box::new(Operation::UpdateControllerRevision(bumped)))
        }
        None => {
            let new = revision_for(set, next);
            if view.store.controllerrevisions.get(&new.meta.name).is_some() {
                let mut s = set.clone();
                s.status.collision_count += 1;
                return Err(Box::new(Operation::UpdateStatefulSetStatus(s)));
            }
            Err(Box::new(Operation::CreateControllerRevision(new)))
        }
    }
}

fn reconcile(set: &StatefulSet, view: &View<'_>) -> Option<Operation> {
    if set.meta.deleting {
        return None;
    }
    let store = view.store;
    let mut revs: Refs<ControllerRevision> =
        store.controllerrevisions.iter().filter(|r| r.meta.controller_uid() == Some(set.meta.uid)).collect();
    revs.sort_by(|a, b| (a.revision, &a.meta.name).cmp(&(b.revision, &b.meta.name)));
    let update = match update_revision(set, &revs, view) {
        Ok(r) => r,
        Err(op) => return Some(*op),
    };
    let current = set
        .status
        .current_revision
        .as_ref()
        .and_then(|n| revs.iter().copied().find(|r| r.meta.name == *n))
        .unwrap_or(update);
    let partition = match set.spec.update_strategy {
        UpdateStrategy::RollingUpdate { partition } => partition,
        UpdateStrategy::OnDelete => set.spec.replicas,
    };
    let ours: Refs<Pod> = store
        .pods
        .iter()
        .filter(|p| p.meta.labels.matches(&set.spec.selector) && p.meta.controller_uid() == Some(set.meta.uid))
        .collect();
    let pod = |k: u32| set.with_pod_name(k, |name| ours.iter().copied().find(|p| *p.meta.name == *name));
    let missing_claim = |k: u32| {
        set.spec
            .volume_claim_templates
            .iter()
            .find(|t| set.with_claim_name(t, k, |name| store.pvcs.get(name).is_none()))
            .map(|t| Operation::CreatePvc(claim_for(set, t, k)))
    };
    let ordered = set.spec.pod_management == PodManagement::OrderedReady;
    // Scale: create (claims first), replace failed pods, in ordinal order.
    let mut stopped = false;
    for k in 0..set.spec.replicas {
        match pod(k) {
            None => {
                if set.with_pod_name(k, |name| store.pods.get(name).is_some()) {
                    stopped = true; // the name is taken by a pod not ours
                    break;
                }
                if let Some(op) = missing_claim(k) {
                    return Some(op);
                }
                let rev = if k < partition { current } else { update };
                return Some(Operation::CreatePod(pod_for(set, k, rev)));
            }
            Some(p) if p.phase == Phase::Failed && !p.meta.deleting => {
                return Some(Operation::DeletePod { name: p.meta.name, uid: p.meta.uid });
            }
            Some(p) => {
                if p.phase == Phase::Pending {
                    if let Some(op) = missing_claim(k) {
                        return Some(op);
                    }
                }
                if ordered && !p.running_and_ready() {
                    stopped = true;
                    break;
                }
            }
        }
    }
    // Condemned pods, highest ordinal first.
    if !stopped {
        let mut condemned: Vec<(u32, &Pod)> = ours
            .iter()
            .filter_map(|p| set.ordinal(&p.meta.name).map(|k| (k, *p)))
            .filter(|(k, _)| *k >= set.spec.replicas)
            .collect();
        condemned.sort_by_key(|c| std::cmp::Reverse(c.0));
        for (_, p) in condemned {
            if p.meta.deleting {
                if ordered {
                    stopped = true;
                    break;
                }
                continue;
            }
            return Some(Operation::DeletePod { name: p.meta.name, uid: p.meta.uid });
        }
    }
    // Rolling update: out-of-date pods go, highest ordinal first, down to the partition.
    if !stopped && matches!(set.spec.update_strategy, UpdateStrategy::RollingUpdate { .. }) {
        for k in (partition..set.spec.replicas).rev() {
            let Some(p) = pod(k) else { break };
            if p.meta.labels.get(REVISION_LABEL) != Some(&update.meta.name) && !p.meta.deleting {
                return Some(Operation::DeletePod { name: p.meta.name, uid: p.meta.uid });
            }
            if !p.running_and_ready() {
                break;
            }
        }
    }
    // Status.
    let live: Refs<&Pod> = ours.iter().filter(|p| !matches!(p.phase, Phase::Succeeded | Phase::Failed)).collect();
    let of = |rev: &ControllerRevision| {
        live.iter().filter(|p| !p.meta.deleting && p.meta.labels.get(REVISION_LABEL) == Some(&rev.meta.name)).count()
            as u32
    };
    let mut status = StatefulSetStatus {
        observed_generation: set.meta.generation,
        observed_revision: Some(view.revision.newest()),
        replicas: live.len() as u32,
        ready_replicas: ours.iter().filter(|p| p.running_and_ready()).count() as u32,
        current_replicas: of(current),
        updated_replicas: of(update),
        current_revision: Some(current.meta.name),
        update_revision: Some(update.meta.name),
        collision_count: set.status.collision_count,
    };
    if status.updated_replicas == set.spec.replicas && status.ready_replicas == set.spec.replicas {
        status.current_revision = status.update_revision;
        status.current_replicas = status.updated_replicas;
    }
    if set.status.worth_writing(&status) {
        let mut s = set.clone();
        s.status = status;
        return Some(Operation::UpdateStatefulSetStatus(s));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apply;
    use crate::controllers::testing::{bound, store, sts};
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

    /// A store with `set` and its first revision (created through the API).
    fn with_revision(set: &StatefulSet) -> (Store, ControllerRevision) {
        let mut s = store(vec![], vec![]);
        s.statefulsets.put(set.clone());
        let Some(op @ Operation::CreateControllerRevision(_)) = run(&s) else { panic!("a revision first") };
        apply(&mut s, &op, 8).unwrap();
        let rev = s.controllerrevisions.iter().next().unwrap().clone();
        assert_eq!((rev.revision, rev.meta.controller_uid()), (1, Some(set.meta.uid)));
        (s, rev)
    }

    #[test]
    fn creates_ordinal_zero_first_and_waits_for_it() {
        let set = sts("web", 2, 7);
        let (mut s, rev) = with_revision(&set);
        let Some(Operation::CreatePod(p)) = run(&s) else { panic!("create web-0") };
        assert_eq!(&*p.meta.name, "web-0");
        assert_eq!(p.meta.controller_uid(), Some(7));
        assert_eq!(p.meta.labels.get(REVISION_LABEL), Some(&rev.meta.name));
        let mut p0 = p;
        p0.meta.uid = 9;
        s.pods.put(bound(p0.clone(), "n"));
        // web-0 not ready: no web-1 yet, only a status write.
        let op = run(&s);
        assert!(matches!(op, Some(Operation::UpdateStatefulSetStatus(_))), "{op:?}");
        s.pods.put(ready(bound(p0, "n")));
        let Some(Operation::CreatePod(p)) = run(&s) else { panic!("create web-1") };
        assert_eq!(&*p.meta.name, "web-1");
    }

    #[test]
    fn claims_come_before_their_pod_and_stay_on_scale_down() {
        let mut set = sts("db", 1, 7);
        set.spec.volume_claim_templates = krepis_encodings::SymList::new(&[name("data")]);
        let (mut s, _) = with_revision(&set);
        let Some(op @ Operation::CreatePvc(_)) = run(&s) else { panic!("the claim first") };
        apply(&mut s, &op, 9).unwrap();
        assert!(s.pvcs.get("data-db-0").is_some());
        let Some(Operation::CreatePod(p)) = run(&s) else { panic!("then the pod") };
        assert_eq!(&*p.meta.name, "db-0");
    }

    #[test]
    fn deletes_the_highest_ordinal_first_when_scaling_down() {
        let set = sts("web", 1, 7);
        let (mut s, rev) = with_revision(&set);
        for k in 0..3 {
            let mut p = pod_for(&set, k, &rev);
            p.meta.uid = 10 + k;
            s.pods.put(ready(bound(p, "n")));
        }
        assert_eq!(run(&s), Some(Operation::DeletePod { name: name("web-2"), uid: 12 }));
    }

    #[test]
    fn a_failed_pod_is_deleted_to_be_replaced() {
        let set = sts("web", 1, 7);
        let (mut s, rev) = with_revision(&set);
        let mut p = pod_for(&set, 0, &rev);
        p.meta.uid = 9;
        p.phase = Phase::Failed;
        s.pods.put(p);
        assert_eq!(run(&s), Some(Operation::DeletePod { name: name("web-0"), uid: 9 }));
    }

    /// A template change: a new revision, then the highest ordinal is
    /// deleted first; the lower one waits until the higher one is back and
    /// healthy on the new revision; then the new revision becomes current.
    #[test]
    fn a_template_change_rolls_pods_from_the_highest_ordinal_down() {
        let set = sts("web", 2, 7);
        let (mut s, old) = with_revision(&set);
        for k in 0..2 {
            let mut p = pod_for(&set, k, &old);
            p.meta.uid = 10 + k;
            s.pods.put(ready(bound(p, "n")));
        }
        let mut changed = set.clone();
        changed.spec.template_images = krepis_encodings::SymList::new(&[name("img2")]);
        s.statefulsets.put(changed.clone());
        let Some(op @ Operation::CreateControllerRevision(_)) = run(&s) else { panic!("a second revision") };
        apply(&mut s, &op, 30).unwrap();
        let new = s.controllerrevisions.iter().find(|r| r.revision == 2).unwrap().clone();
        assert_eq!(run(&s), Some(Operation::DeletePod { name: name("web-1"), uid: 11 }));
        // web-1 back on the new revision but not ready yet: web-0 waits.
        let mut p1 = pod_for(&changed, 1, &new);
        p1.meta.uid = 31;
        s.pods.put(bound(p1.clone(), "n"));
        let op = run(&s);
        assert!(matches!(op, Some(Operation::UpdateStatefulSetStatus(_))), "{op:?}");
        s.pods.put(ready(bound(p1, "n")));
        assert_eq!(run(&s), Some(Operation::DeletePod { name: name("web-0"), uid: 10 }));
        let mut p0 = pod_for(&changed, 0, &new);
        p0.meta.uid = 32;
        s.pods.put(ready(bound(p0, "n")));
        let Some(Operation::UpdateStatefulSetStatus(done)) = run(&s) else { panic!("a status write") };
        assert_eq!(done.status.current_revision, Some(new.meta.name));
        assert_eq!((done.status.updated_replicas, done.status.current_replicas), (2, 2));
    }
}
