//! The properties checked on every scenario.

use std::collections::HashSet;

use crate::consistency::Consistency;
use crate::kube::{KubeModel, KubeState};
use krepis_engine::Property;

/// No pod name is run by two kubelets at once: Kubernetes issue 59848, where a
/// kubelet acting on a stale read runs a pod that was deleted and re-created
/// (same name, new uid) on another node.
pub const PODS_ON_NODES_UNIQUE: &str = "pods-on-nodes-unique";
/// Names are unique per kind in the newest state.
pub const UNIQUE_NAMES: &str = "unique-names";
/// A ReplicaSet whose status is the newest write and reflects its spec
/// (stable) counts exactly its active pods.
pub const RS_STATUS_REPLICAS: &str = "rs-stable-status-counts-pods";
/// A stable ReplicaSet's status replicas equal its spec replicas.
pub const RS_STATUS_MATCHES_SPEC: &str = "rs-stable-status-matches-spec";
/// On every path, there comes a point where every active pod is bound to a
/// node (the reference left this property disabled). Controllers are weakly
/// fair (`KubeModel::fairness`): a cycle in which the scheduler could read
/// all along but never does is not a counterexample.
pub const PODS_EVENTUALLY_SCHEDULED: &str = "pods-eventually-scheduled";
/// On every path, there comes a point where every ReplicaSet has exactly
/// `spec.replicas` active pods and says so in its status (perturbations are
/// bounded, so every path eventually stops perturbing).
pub const REPLICASETS_CONVERGE: &str = "replicasets-eventually-converge";
/// An OrderedReady StatefulSet never creates pod k before pods 0..k-1 are
/// Running and Ready, judged on the state the create lands on.
pub const STS_CREATES_IN_ORDER: &str = "sts-creates-in-order";
/// An OrderedReady StatefulSet deletes condemned pods highest ordinal first.
pub const STS_DELETES_IN_REVERSE: &str = "sts-deletes-in-reverse";
/// Every StatefulSet has all its pods Running and Ready at some point.
pub const STATEFULSETS_READY: &str = "statefulsets-ready";

/// Stable: the status reflects the newest spec (observed generation) and
/// nothing has been written since the object (its version is the newest
/// write), as the reference defines it.
fn stable(meta: &crate::meta::Meta, observed_generation: u32, newest: crate::meta::Rev) -> bool {
    observed_generation >= meta.generation && meta.resource_version == newest
}

/// The properties of a model of `scenario`, in report order: the global
/// ones, then those of each kind of object the scenario has.
pub fn all<C: Consistency>(scenario: &crate::Scenario) -> Vec<Property<KubeModel<C>>> {
    let mut props = vec![
        Property::always(PODS_ON_NODES_UNIQUE, |_, s: &KubeState<C>| {
            let mut seen = HashSet::new();
            s.locals.iter().flat_map(|l| l.running.iter()).all(|p| seen.insert(p))
        }),
        Property::always(UNIQUE_NAMES, |_, s: &KubeState<C>| {
            let st = s.history.latest();
            let sorted = |names: Vec<&str>| names.windows(2).all(|w| w[0] < w[1]);
            sorted(st.pods.iter().map(|p| &*p.meta.name).collect())
                && sorted(st.nodes.iter().map(|p| &*p.meta.name).collect())
                && sorted(st.statefulsets.iter().map(|p| &*p.meta.name).collect())
        }),
    ];
    props.push(Property::eventually(PODS_EVENTUALLY_SCHEDULED, |_, s: &KubeState<C>| {
        let st = s.history.latest();
        let all = st.pods.iter().all(|p| !p.active() || p.spec.node_name.is_some());
        all
    }));
    if !scenario.replicasets.is_empty() {
        props.extend([rs_status_replicas(), rs_status_matches_spec()]);
        props.push(Property::eventually(REPLICASETS_CONVERGE, |_, s: &KubeState<C>| {
            let st = s.history.latest();
            let converged = st.replicasets.iter().all(|rs| {
                let pods =
                    st.pods.iter().filter(|p| p.active() && p.meta.controller_uid() == Some(rs.meta.uid)).count();
                pods as u32 == rs.spec.replicas && rs.status.replicas == rs.spec.replicas
            });
            converged
        }));
    }
    if !scenario.statefulsets.is_empty() {
        props.push(Property::always(STS_CREATES_IN_ORDER, |_, s: &KubeState<C>| !s.audit.created_before_predecessors));
        props.push(Property::always(STS_DELETES_IN_REVERSE, |_, s: &KubeState<C>| !s.audit.deleted_out_of_order));
        props.push(statefulsets_ready());
    }
    props
}

fn rs_status_replicas<C: Consistency>() -> Property<KubeModel<C>> {
    Property::always(RS_STATUS_REPLICAS, |_, s: &KubeState<C>| {
        let st = s.history.latest();
        let now = s.history.max().newest();
        let ok = st.replicasets.iter().filter(|rs| stable(&rs.meta, rs.status.observed_generation, now)).all(|rs| {
            let pods = st.pods.iter().filter(|p| p.active() && p.meta.controller_uid() == Some(rs.meta.uid)).count();
            pods as u32 == rs.status.replicas
        });
        ok
    })
}

fn rs_status_matches_spec<C: Consistency>() -> Property<KubeModel<C>> {
    Property::always(RS_STATUS_MATCHES_SPEC, |_, s: &KubeState<C>| {
        let st = s.history.latest();
        let now = s.history.max().newest();
        let ok = st
            .replicasets
            .iter()
            .filter(|rs| stable(&rs.meta, rs.status.observed_generation, now))
            .all(|rs| rs.spec.replicas == rs.status.replicas);
        ok
    })
}

fn statefulsets_ready<C: Consistency>() -> Property<KubeModel<C>> {
    Property::sometimes(STATEFULSETS_READY, |_, s: &KubeState<C>| {
        let st = s.history.latest();
        let ready = st.statefulsets.iter().all(|set| {
            (0..set.spec.replicas).all(|k| st.pods.get(&set.pod_name(k)).is_some_and(|p| p.running_and_ready()))
        });
        ready
    })
}
