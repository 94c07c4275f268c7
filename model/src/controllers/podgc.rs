//! The pod garbage collector: removes pods bound to nodes that no longer exist
//! and unbound pods that are being deleted.
//!
//! Follows Kubernetes (`gcOrphaned`, `gcUnscheduledTerminating`): orphaned
//! pods are force-deleted (grace period 0) in one write, where the reference
//! first marks them and removes them on a later step.

use super::View;
use crate::api::Operation;

/// One PodGC step.
pub(crate) fn step(view: &View<'_>) -> Option<Operation> {
    let store = view.store;
    // A pod already force-deleted waits for its finalizers only.
    let p = store.pods.iter().filter(|p| !p.meta.grace_zero).find(|p| match &p.spec.node_name {
        Some(n) => store.nodes.get(n).is_none(),
        None => p.meta.deleting,
    })?;
    Some(Operation::RemovePod { name: p.meta.name, uid: p.meta.uid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{bound, node, pod, store};
    use crate::meta::name;
    use crate::revision::Revision;

    #[test]
    fn removes_pods_of_missing_nodes_only() {
        let s = store(vec![node("n1")], vec![bound(pod("a", 1), "n1"), bound(pod("b", 2), "gone")]);
        let op = step(&View { revision: &Revision::at(5), store: &s });
        assert_eq!(op, Some(Operation::RemovePod { name: name("b"), uid: 2 }));
        let s = store(vec![node("n1")], vec![bound(pod("a", 1), "n1"), pod("c", 3)]);
        assert_eq!(step(&View { revision: &Revision::at(5), store: &s }), None);
    }
}
