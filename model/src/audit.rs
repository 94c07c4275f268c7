//! Ghost state for properties about the order of events: recorded when a
//! write is accepted, never read by any controller.

use crate::api::Operation;
use crate::controllers::Controller;
use crate::resources::{Phase, PodManagement};
use crate::store::Store;

/// What the run has done so far that a StatefulSet's guarantees forbid.
/// Flags only ever go from false to true.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Audit {
    /// An OrderedReady StatefulSet created pod k while a pod 0..k-1 was
    /// missing or not Running and Ready.
    pub created_before_predecessors: bool,
    /// An OrderedReady StatefulSet deleted a condemned pod while a higher
    /// condemned pod was still there and not being deleted.
    pub deleted_out_of_order: bool,
    /// The Deployment controller created a ReplicaSet for a Deployment
    /// that was paused in the state the create landed on.
    pub replicaset_created_while_paused: bool,
    /// A StatefulSet status write whose counts differ from the pods of the
    /// view its controller read (the reference's observed-state check).
    pub sts_status_unlike_view: bool,
    /// A StatefulSet status write made from a view in which the set's
    /// smallest pod ordinal was not 0.
    pub sts_start_ordinal_unlike_view: bool,
}

impl Audit {
    /// Records `op`, accepted from a `controller` instance that read `view`,
    /// judged against `store`, the state it was applied to (before the write).
    pub fn record(&mut self, controller: &Controller, op: &Operation, view: &Store, store: &Store) {
        match controller {
            Controller::StatefulSet => {
                self.statefulset_status(op, view);
                self.statefulset_write(op, store)
            }
            Controller::Deployment => self.deployment_write(op, store),
            _ => {}
        }
    }

    /// The reference's StatefulSet status checks: a status write is judged
    /// against the view it was computed from. The write makes the set
    /// stable at once (it is the newest write, on the newest generation), so
    /// checking each accepted write is the reference's "when stable, the
    /// status matches the observed state".
    pub fn statefulset_status(&mut self, op: &Operation, view: &Store) {
        let Operation::UpdateStatefulSetStatus(set) = op else { return };
        let pods: Vec<_> = view
            .pods
            .iter()
            .filter(|p| p.meta.labels.matches(&set.spec.selector) && p.meta.controller_uid() == Some(set.meta.uid))
            .collect();
        let live = pods.iter().filter(|p| !matches!(p.phase, Phase::Succeeded | Phase::Failed)).count();
        let ready = pods.iter().filter(|p| p.running_and_ready()).count();
        self.sts_status_unlike_view |=
            set.status.replicas as usize != live || set.status.ready_replicas as usize != ready;
        let first = pods.iter().filter_map(|p| set.ordinal(&p.meta.name)).min();
        self.sts_start_ordinal_unlike_view |= first.is_some_and(|k| k != 0);
    }

    /// Records `op`, accepted from the Deployment controller.
    pub fn deployment_write(&mut self, op: &Operation, store: &Store) {
        if let Operation::CreateReplicaSet(rs) = op {
            let Some(owner) = rs.meta.owners.iter().find(|o| o.controller) else { return };
            let paused = store.deployments.get(&owner.name).is_some_and(|d| d.meta.uid == owner.uid && d.spec.paused);
            self.replicaset_created_while_paused |= paused;
        }
    }

    /// Records `op`, accepted from the StatefulSet controller, judged against
    /// `store`, the state it was applied to (before the write).
    pub fn statefulset_write(&mut self, op: &Operation, store: &Store) {
        match op {
            Operation::CreatePod(p) => {
                let Some(owner) = p.meta.owners.iter().find(|o| o.controller) else { return };
                let Some(set) = store.statefulsets.get(&owner.name) else { return };
                if set.spec.pod_management != PodManagement::OrderedReady {
                    return;
                }
                let Some(k) = set.ordinal(&p.meta.name) else { return };
                let ready = (0..k)
                    .all(|j| set.with_pod_name(j, |name| store.pods.get(name).is_some_and(|q| q.running_and_ready())));
                self.created_before_predecessors |= !ready;
            }
            Operation::DeletePod { name, .. } => {
                for set in store.statefulsets.iter() {
                    let Some(k) = set.ordinal(name) else { continue };
                    if set.spec.pod_management != PodManagement::OrderedReady || k < set.spec.replicas {
                        continue; // not a condemned pod (e.g. a failed one replaced in place)
                    }
                    let higher_alive =
                        store.pods.iter().any(|q| set.ordinal(&q.meta.name).is_some_and(|j| j > k) && !q.meta.deleting);
                    self.deleted_out_of_order |= higher_alive;
                }
            }
            _ => {}
        }
    }
}
