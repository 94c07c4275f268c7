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
/// Every StatefulSet has all its pods Running and Ready at some point.
pub const STATEFULSETS_READY: &str = "statefulsets-ready";

/// The properties of a model, in report order.
pub fn all<C: Consistency>() -> Vec<Property<KubeModel<C>>> {
    vec![
        Property::always(PODS_ON_NODES_UNIQUE, |_, s: &KubeState<C>| {
            let mut seen = HashSet::new();
            s.locals
                .iter()
                .flat_map(|l| l.running.iter())
                .all(|p| seen.insert(p))
        }),
        Property::always(UNIQUE_NAMES, |_, s: &KubeState<C>| {
            let st = s.history.latest();
            let sorted = |names: Vec<&str>| names.windows(2).all(|w| w[0] < w[1]);
            sorted(st.pods.iter().map(|p| &*p.meta.name).collect())
                && sorted(st.nodes.iter().map(|p| &*p.meta.name).collect())
                && sorted(st.statefulsets.iter().map(|p| &*p.meta.name).collect())
        }),
        Property::sometimes(STATEFULSETS_READY, |_, s: &KubeState<C>| {
            let st = s.history.latest();
            let ready = st.statefulsets.iter().all(|set| {
                (0..set.spec.replicas).all(|k| {
                    st.pods
                        .get(&set.pod_name(k))
                        .is_some_and(|p| p.running_and_ready())
                })
            });
            ready
        }),
    ]
}
