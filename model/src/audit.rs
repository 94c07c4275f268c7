//! Ghost state for properties about the order of events: recorded when a
//! write is accepted, never read by any controller.

use crate::api::Operation;
use crate::controllers::Controller;
use crate::resources::PodManagement;
use crate::store::Store;

/// What the run has done so far that a StatefulSet's guarantees forbid.
/// Flags only ever go from false to true.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
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
}

impl Audit {
    /// Records `op`, accepted from a `controller` instance, judged against
    /// `store`, the state it was applied to (before the write).
    pub fn record(&mut self, controller: &Controller, op: &Operation, store: &Store) {
        match controller {
            Controller::StatefulSet => self.statefulset_write(op, store),
            Controller::Deployment => self.deployment_write(op, store),
            _ => {}
        }
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
                let ready = (0..k).all(|j| store.pods.get(&set.pod_name(j)).is_some_and(|q| q.running_and_ready()));
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
