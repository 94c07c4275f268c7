//! The Deployment controller: owns ReplicaSets, one per pod template (named
//! `<deployment>-<pod-template-hash>`), and moves pods from the old ones to
//! the new one by the rollout strategy, one write per step.
//!
//! Follows Kubernetes (`pkg/controller/deployment`) where the reference
//! deviates (its section 11): the rolling-update helpers are not inverted
//! (max surge and max unavailable are resolved from the spec, surge rounded
//! up and unavailability down, as `ResolveFenceposts`), and the status is
//! written through the status subresource only when it changes, so a settled
//! Deployment quiesces (the reference rewrites it on every step). Krepis has
//! no clock: `minReadySeconds` is 0 (available = ready) and there is no
//! progress deadline. Old ReplicaSets are never deleted (revision history is
//! kept), as with the reference's history limit. When a scaling step finds a
//! ReplicaSet at the right size with stale replica annotations it rewrites
//! the annotations (Kubernetes would leave them and keep treating every sync
//! as a scaling event).

use super::{Refs, View};
use crate::api::Operation;
use crate::meta::{decimal_name, name, name_joined, Kind, Labels, Meta, Name, OwnerRef};
use crate::resources::{
    Deployment, DeploymentStatus, ObservedStatus, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, Strategy,
};

/// The label that ties a ReplicaSet and its pods to one pod template.
pub const HASH_LABEL: &str = "pod-template-hash";
/// The annotation holding a ReplicaSet's rollout revision.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The annotation holding the Deployment's replicas when the set was last scaled.
pub const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
/// The annotation holding replicas + max surge when the set was last scaled.
pub const MAX: &str = "deployment.kubernetes.io/max-replicas";

/// One Deployment-controller step: the first write any Deployment needs.
pub(crate) fn step(view: &View<'_>) -> Option<Operation> {
    view.store.deployments.iter().find_map(|d| reconcile(d, view))
}

/// The pod-template hash of `d` (with its collision count): xxh3 of the
/// template, low 32 bits in decimal, each digit mapped into Kubernetes'
/// `SafeEncodeString` alphabet (no vowels, so no words).
pub fn template_hash(d: &Deployment) -> super::hash::SafeHash {
    super::hash::safe_hash(&(&d.spec.template_labels, &d.spec.template_images, d.status.collision_count))
}

/// Whether `rs`'s pod template is `d`'s (ignoring the hash label).
pub fn template_eq(rs: &ReplicaSet, d: &Deployment) -> bool {
    let mut labels = rs.spec.template_labels.clone();
    labels.remove(HASH_LABEL);
    labels == d.spec.template_labels && rs.spec.template_images == d.spec.template_images
}

/// A ReplicaSet's revision annotation (0 when missing or not a number).
pub fn revision(rs: &ReplicaSet) -> u64 {
    rs.meta.annotations.get(REVISION).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn owner(d: &Deployment) -> OwnerRef {
    OwnerRef { kind: Kind::Deployment, name: d.meta.name, uid: d.meta.uid, controller: true }
}

fn annotated(rs: &ReplicaSet, key: &str) -> Option<u32> {
    rs.meta.annotations.get(key).and_then(|v| v.parse().ok())
}

/// The write that sets `rs` to `n` replicas with the replica annotations of
/// `d`, if anything changes (Kubernetes' `scaleReplicaSet`).
fn scale(rs: &ReplicaSet, n: u32, d: &Deployment) -> Option<Operation> {
    let surge = d.spec.strategy.fenceposts(d.spec.replicas).0;
    let (desired, max) = (d.spec.replicas, d.spec.replicas + surge);
    if rs.spec.replicas == n && annotated(rs, DESIRED) == Some(desired) && annotated(rs, MAX) == Some(max) {
        return None;
    }
    let mut new = rs.clone();
    new.spec.replicas = n;
    new.meta.annotations.insert(name(DESIRED), decimal_name(desired.into()));
    new.meta.annotations.insert(name(MAX), decimal_name(max.into()));
    Some(Operation::UpdateReplicaSet(new))
}

/// The sets of one Deployment: `new` (its template) and the others, oldest first.
struct Sets<'a> {
    new: Option<&'a ReplicaSet>,
    old: Refs<'a, ReplicaSet>,
}

impl<'a> Sets<'a> {
    fn all(&self) -> impl Iterator<Item = &'a ReplicaSet> + '_ {
        self.old.iter().copied().chain(self.new)
    }
    fn replicas(&self) -> u32 {
        self.all().map(|rs| rs.spec.replicas).sum()
    }
}

fn reconcile(d: &Deployment, view: &View<'_>) -> Option<Operation> {
    if d.meta.deleting {
        return None;
    }
    let store = view.store;
    // Release sets that no longer match; adopt matching orphans.
    for rs in store.replicasets.iter().filter(|rs| !rs.meta.deleting) {
        let matches = !d.spec.selector.is_empty() && rs.meta.labels.matches(&d.spec.selector);
        let ours = rs.meta.controller_uid() == Some(d.meta.uid);
        if ours && !matches {
            let mut released = rs.clone();
            released.meta.owners.retain(|o| o.uid != d.meta.uid);
            return Some(Operation::UpdateReplicaSet(released));
        }
        if matches && rs.meta.controller_uid().is_none() {
            let mut adopted = rs.clone();
            adopted.meta.owners.push(owner(d));
            return Some(Operation::UpdateReplicaSet(adopted));
        }
    }
    // Oldest first (uids are creation stamps), as Kubernetes sorts by creation time.
    let mut owned: Refs<ReplicaSet> = store
        .replicasets
        .iter()
        .filter(|rs| !rs.meta.deleting && rs.meta.controller_uid() == Some(d.meta.uid))
        .collect();
    owned.sort_by_key(|rs| rs.meta.uid);
    let new = owned.iter().copied().find(|rs| template_eq(rs, d));
    let old: Refs<ReplicaSet> =
        owned.iter().copied().filter(|rs| Some(rs.meta.uid) != new.map(|n| n.meta.uid)).collect();
    let sets = Sets { new, old };
    // The new set's revision follows the old ones'.
    let next_revision = sets.old.iter().map(|rs| revision(rs)).max().unwrap_or(0) + 1;
    if let Some(n) = sets.new {
        if revision(n) < next_revision {
            let mut bumped = n.clone();
            bumped.meta.annotations.insert(name(REVISION), decimal_name(next_revision));
            return Some(Operation::UpdateReplicaSet(bumped));
        }
    }
    let op = if d.spec.paused || scaling_event(d, &sets) {
        sync(d, &sets)
    } else {
        match d.spec.strategy {
            Strategy::RollingUpdate { .. } => rolling(d, &sets, view, next_revision),
            Strategy::Recreate => recreate(d, &sets, view, next_revision),
        }
    };
    op.or_else(|| status(d, &sets, view))
}

/// Kubernetes' `isScalingEvent`: an active set was last sized for another
/// number of replicas than the Deployment now wants.
fn scaling_event(d: &Deployment, sets: &Sets<'_>) -> bool {
    sets.all().filter(|rs| rs.spec.replicas > 0).any(|rs| annotated(rs, DESIRED).is_some_and(|n| n != d.spec.replicas))
}

/// Paused or scaling: resize the sets, never roll out (Kubernetes' `sync`).
fn sync(d: &Deployment, sets: &Sets<'_>) -> Option<Operation> {
    let active: Refs<ReplicaSet> = sets.all().filter(|rs| rs.spec.replicas > 0).collect();
    let want = d.spec.replicas;
    // One active set (or none: the new one, else the newest old) takes all.
    let lone = match active.len() {
        0 => sets.new.or(sets.old.last().copied()),
        1 => Some(active[0]),
        _ => None,
    };
    if active.len() <= 1 {
        return lone.and_then(|rs| scale(rs, want, d));
    }
    if let Some(n) = sets.new.filter(|n| n.spec.replicas == want && n.status.ready_replicas == want) {
        // The new set is saturated: the old ones go.
        let _ = n;
        return sets.old.iter().find(|rs| rs.spec.replicas > 0).and_then(|rs| scale(rs, 0, d));
    }
    if !matches!(d.spec.strategy, Strategy::RollingUpdate { .. }) {
        return None;
    }
    proportional(d, &active)
}

/// Kubernetes' proportional scaling: spread the difference between the
/// allowed total and the current one over the active sets in proportion
/// to their size; leftovers go to the largest. One set is written per step.
fn proportional(d: &Deployment, active: &[&ReplicaSet]) -> Option<Operation> {
    let surge = d.spec.strategy.fenceposts(d.spec.replicas).0;
    let allowed = if d.spec.replicas > 0 { i64::from(d.spec.replicas + surge) } else { 0 };
    let current: i64 = active.iter().map(|rs| i64::from(rs.spec.replicas)).sum();
    let to_add = allowed - current;
    let mut order: Refs<ReplicaSet> = Refs::from_slice(active);
    // Largest first; ties: newer first when growing, older first when shrinking.
    if to_add > 0 {
        order.sort_by_key(|rs| (std::cmp::Reverse(rs.spec.replicas), std::cmp::Reverse(rs.meta.uid)));
    } else {
        order.sort_by_key(|rs| (std::cmp::Reverse(rs.spec.replicas), rs.meta.uid));
    }
    let mut added = 0i64;
    let mut sizes: Vec<i64> = Vec::with_capacity(order.len());
    for rs in &order {
        let r = i64::from(rs.spec.replicas);
        let share = if r == 0 || to_add == 0 || added == to_add {
            0
        } else {
            let fraction = if d.spec.replicas == 0 {
                -r
            } else {
                let annotated_max = annotated(rs, MAX).map_or(i64::from(d.status.replicas), i64::from).max(1);
                // Rounded to the nearest, as Go's math.Round on positive numbers.
                (2 * r * allowed + annotated_max) / (2 * annotated_max) - r
            };
            if to_add > 0 {
                fraction.min(to_add - added)
            } else {
                fraction.max(to_add - added)
            }
        };
        added += share;
        sizes.push((r + share).max(0));
    }
    if let Some(first) = sizes.first_mut() {
        *first = (*first + to_add - added).max(0);
    }
    order.iter().zip(sizes).find_map(|(rs, n)| scale(rs, n as u32, d))
}

/// A new ReplicaSet for `d`'s template, or a status write bumping the
/// collision count when its name is taken.
fn create_new(d: &Deployment, replicas: u32, view: &View<'_>, revision: u64) -> Operation {
    let hash = template_hash(d);
    let rs_name = name_joined(&[&d.meta.name, "-", hash.as_str()]);
    let hash = name(hash.as_str());
    if view.store.replicasets.get(&rs_name).is_some() {
        let mut bumped = d.clone();
        bumped.status.collision_count += 1;
        return Operation::UpdateDeploymentStatus(bumped);
    }
    let with_hash = |l: &Labels| {
        let mut l = l.clone();
        l.insert(name(HASH_LABEL), hash);
        l
    };
    let surge = d.spec.strategy.fenceposts(d.spec.replicas).0;
    let mut meta = Meta { labels: with_hash(&d.spec.template_labels), ..Meta::named(&rs_name) };
    meta.owners.push(owner(d));
    meta.annotations = d.meta.annotations.clone();
    for (k, v) in [(REVISION, revision), (DESIRED, d.spec.replicas.into()), (MAX, (d.spec.replicas + surge).into())] {
        meta.annotations.insert(name(k), decimal_name(v));
    }
    Operation::CreateReplicaSet(ReplicaSet {
        meta,
        spec: ReplicaSetSpec {
            replicas,
            selector: with_hash(&d.spec.selector),
            template_labels: with_hash(&d.spec.template_labels),
            template_images: d.spec.template_images,
        },
        status: ReplicaSetStatus::default(),
    })
}

/// Kubernetes' `NewRSNewReplicas` for a rolling update: grow the new set as
/// far as the surge allows, never past `replicas`.
fn new_replicas(d: &Deployment, sets: &Sets<'_>) -> u32 {
    let surge = d.spec.strategy.fenceposts(d.spec.replicas).0;
    let current = sets.replicas();
    let new = sets.new.map_or(0, |n| n.spec.replicas);
    let max_total = d.spec.replicas + surge;
    if current >= max_total {
        return new;
    }
    new + (max_total - current).min(d.spec.replicas.saturating_sub(new))
}

fn rolling(d: &Deployment, sets: &Sets<'_>, view: &View<'_>, revision: u64) -> Option<Operation> {
    let Some(new) = sets.new else {
        return Some(create_new(d, new_replicas(d, sets), view, revision));
    };
    // Scale up the new set.
    if new.spec.replicas > d.spec.replicas {
        return scale(new, d.spec.replicas, d);
    }
    if new.spec.replicas < d.spec.replicas {
        let n = new_replicas(d, sets);
        if n != new.spec.replicas {
            return scale(new, n, d);
        }
    }
    // Scale down the old sets (Kubernetes' `reconcileOldReplicaSets`).
    let old_pods: u32 = sets.old.iter().map(|rs| rs.spec.replicas).sum();
    if old_pods == 0 {
        return None;
    }
    let unavailable = d.spec.strategy.fenceposts(d.spec.replicas).1;
    let min_available = d.spec.replicas.saturating_sub(unavailable);
    let new_unavailable = i64::from(new.spec.replicas) - i64::from(new.status.ready_replicas);
    let max_down = i64::from(sets.replicas()) - i64::from(min_available) - new_unavailable;
    if max_down <= 0 {
        return None;
    }
    // First the old sets' unhealthy (not available) pods...
    for rs in &sets.old {
        let unhealthy = rs.spec.replicas.saturating_sub(rs.status.ready_replicas);
        if rs.spec.replicas == 0 || unhealthy == 0 {
            continue;
        }
        let down = i64::from(unhealthy).min(max_down) as u32;
        return scale(rs, rs.spec.replicas - down, d);
    }
    // ...then available ones, keeping `min_available` available.
    let available: u32 = sets.all().map(|rs| rs.status.ready_replicas).sum();
    if available <= min_available {
        return None;
    }
    let budget = available - min_available;
    let rs = sets.old.iter().find(|rs| rs.spec.replicas > 0)?;
    scale(rs, rs.spec.replicas - rs.spec.replicas.min(budget), d)
}

fn recreate(d: &Deployment, sets: &Sets<'_>, view: &View<'_>, revision: u64) -> Option<Operation> {
    if let Some(rs) = sets.old.iter().find(|rs| rs.spec.replicas > 0) {
        return scale(rs, 0, d);
    }
    // Wait until the old pods are gone.
    if sets.old.iter().any(|rs| rs.status.replicas > 0) {
        return None;
    }
    match sets.new {
        None => Some(create_new(d, d.spec.replicas, view, revision)),
        Some(new) => scale(new, d.spec.replicas, d),
    }
}

/// The status `d` should have, from its sets (Kubernetes' `calculateStatus`),
/// computed from the view at `observed`.
pub fn computed_status(
    d: &Deployment,
    new: Option<&ReplicaSet>,
    all: &[&ReplicaSet],
    observed: crate::meta::Rev,
) -> DeploymentStatus {
    let available: u32 = all.iter().map(|rs| rs.status.ready_replicas).sum();
    let total: u32 = all.iter().map(|rs| rs.spec.replicas).sum();
    DeploymentStatus {
        observed_generation: d.meta.generation,
        observed_revision: Some(observed),
        replicas: all.iter().map(|rs| rs.status.replicas).sum(),
        updated_replicas: new.map_or(0, |n| n.status.replicas),
        ready_replicas: all.iter().map(|rs| rs.status.ready_replicas).sum(),
        available_replicas: available,
        unavailable_replicas: total.saturating_sub(available),
        collision_count: d.status.collision_count,
    }
}

fn status(d: &Deployment, sets: &Sets<'_>, view: &View<'_>) -> Option<Operation> {
    let all: Refs<ReplicaSet> = sets.all().collect();
    let status = computed_status(d, sets.new, &all, view.revision.newest());
    if !d.status.worth_writing(&status) {
        return None;
    }
    let mut new = d.clone();
    new.status = status;
    Some(Operation::UpdateDeploymentStatus(new))
}

/// The name a Deployment's ReplicaSet for the current template gets.
pub fn replicaset_name(d: &Deployment) -> Name {
    name_joined(&[&d.meta.name, "-", template_hash(d).as_str()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{apply, Rejection};
    use crate::controllers::testing::deployment;
    use crate::revision::Revision;
    use crate::store::Store;

    fn run(s: &Store) -> Option<Operation> {
        step(&View { revision: &Revision::at(50), store: s })
    }

    /// Applies the controller's writes until it has none, at revisions from
    /// `rev`; `between` plays the other controllers after each write.
    fn settle(s: &mut Store, rev: &mut u32, mut between: impl FnMut(&mut Store, &mut u32)) -> Vec<String> {
        let mut log = Vec::new();
        for _ in 0..40 {
            let Some(op) = run(s) else { return log };
            log.push(op.to_string());
            *rev += 1;
            apply(s, &op, *rev).expect("accepted");
            between(s, rev);
        }
        panic!("no quiescence: {log:?}")
    }

    /// The ReplicaSet controller and kubelets, idealised: every set's pods
    /// exist and are ready at once.
    fn pods_follow(s: &mut Store, rev: &mut u32) {
        let sets: Vec<ReplicaSet> = s.replicasets.iter().cloned().collect();
        for mut rs in sets {
            let n = rs.spec.replicas;
            if rs.status.replicas != n || rs.status.ready_replicas != n {
                rs.status.replicas = n;
                rs.status.ready_replicas = n;
                *rev += 1;
                apply(s, &Operation::UpdateReplicaSetStatus(rs), *rev).unwrap();
            }
        }
    }

    #[test]
    fn a_new_deployment_gets_one_hashed_replicaset_and_completes() {
        let mut s = Store::default();
        s.deployments.put(deployment("web", 2, 7));
        let mut rev = 10;
        let log = settle(&mut s, &mut rev, pods_follow);
        assert_eq!(s.replicasets.len(), 1, "{log:?}");
        let rs = s.replicasets.iter().next().unwrap();
        let d = s.deployments.get("web").unwrap();
        let hash = *rs.meta.labels.get(HASH_LABEL).unwrap();
        assert_eq!(rs.meta.name, replicaset_name(d));
        assert!(rs.meta.name.ends_with(&*hash));
        assert_eq!(rs.spec.selector.get(HASH_LABEL), Some(&hash));
        assert_eq!(rs.spec.template_labels.get(HASH_LABEL), Some(&hash));
        assert_eq!((rs.spec.replicas, revision(rs)), (2, 1));
        assert!(d.complete(), "{:?}", d.status);
    }

    #[test]
    fn an_image_change_rolls_out_within_surge_and_unavailability() {
        let mut s = Store::default();
        s.deployments.put(deployment("web", 4, 7));
        let mut rev = 10;
        settle(&mut s, &mut rev, pods_follow);
        let mut d = s.deployments.get("web").unwrap().clone();
        d.spec.template_images = krepis_encodings::SymList::new(&[name("img2")]);
        rev += 1;
        apply(&mut s, &Operation::UpdateDeployment(d), rev).unwrap();
        // 25% of 4: surge 1, unavailable 1. At every point: at most 5 pods
        // wanted, at least 3 available.
        let mut worst = (0, u32::MAX);
        settle(&mut s, &mut rev, |s, rev| {
            pods_follow(s, rev);
            let total: u32 = s.replicasets.iter().map(|rs| rs.spec.replicas).sum();
            let ready: u32 = s.replicasets.iter().map(|rs| rs.status.ready_replicas).sum();
            worst = (worst.0.max(total), worst.1.min(ready));
        });
        assert_eq!(worst, (5, 3), "at most replicas + surge pods, at least replicas - unavailable available");
        let d = s.deployments.get("web").unwrap();
        assert!(d.complete());
        let mut sets: Vec<(u64, u32)> = s.replicasets.iter().map(|rs| (revision(rs), rs.spec.replicas)).collect();
        sets.sort();
        assert_eq!(sets, vec![(1, 0), (2, 4)], "the old set is scaled to 0 and kept");
    }

    #[test]
    fn a_paused_deployment_creates_no_replicaset_but_scales() {
        let mut s = Store::default();
        let mut d = deployment("web", 1, 7);
        d.spec.paused = true;
        s.deployments.put(d);
        let Some(Operation::UpdateDeploymentStatus(st)) = run(&s) else { panic!("only a status write") };
        assert_eq!(st.status.observed_generation, 1);
        let mut rs =
            match create_new(s.deployments.get("web").unwrap(), 1, &View { revision: &Revision::at(50), store: &s }, 1)
            {
                Operation::CreateReplicaSet(rs) => rs,
                other => panic!("{other:?}"),
            };
        rs.meta.uid = 20;
        rs.meta.resource_version = 20;
        s.replicasets.put(rs);
        let mut d = s.deployments.get("web").unwrap().clone();
        d.spec.replicas = 3;
        d.meta.resource_version = 1;
        s.deployments.put(d);
        let Some(Operation::UpdateReplicaSet(scaled)) = run(&s) else { panic!("a scale") };
        assert_eq!(scaled.spec.replicas, 3);
    }

    #[test]
    fn a_stale_scale_of_a_replicaset_conflicts() {
        let mut s = Store::default();
        s.deployments.put(deployment("web", 2, 7));
        let mut rev = 10;
        settle(&mut s, &mut rev, pods_follow);
        let mut d = s.deployments.get("web").unwrap().clone();
        d.spec.replicas = 3;
        rev += 1;
        apply(&mut s, &Operation::UpdateDeployment(d), rev).unwrap();
        let read = s.clone();
        let first = run(&read).unwrap();
        rev += 1;
        apply(&mut s, &first, rev).unwrap();
        rev += 1;
        assert_eq!(apply(&mut s, &first, rev), Err(Rejection::Conflict), "same write from a second instance");
    }
}
