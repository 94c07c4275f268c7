//! The resources the model stores, with the fields that matter.

pub use controllerrevision::ControllerRevision;
pub use deployment::{Deployment, DeploymentSpec, DeploymentStatus, Strategy};
pub use job::{Job, JobSpec, JobStatus};
pub use node::Node;
pub use pod::{Phase, Pod, PodSpec};
pub use pvc::PersistentVolumeClaim;
pub use replicaset::{ReplicaSet, ReplicaSetSpec, ReplicaSetStatus};
pub use statefulset::{PodManagement, StatefulSet, StatefulSetSpec, StatefulSetStatus, UpdateStrategy};

use crate::meta::Meta;

/// What the store needs of every kind: metadata, stamps, and whether a change is a
/// spec change (which bumps the generation).
pub trait Object: Clone + std::fmt::Debug + PartialEq + Eq + std::hash::Hash + crate::store::Stamps {
    /// The object's metadata.
    fn meta(&self) -> &Meta;
    /// The object's metadata, mutably.
    fn meta_mut(&mut self) -> &mut Meta;
    /// Whether `self` and `other` have the same spec (desired state).
    fn same_spec(&self, other: &Self) -> bool;
    /// Replaces `self`'s status by `from`'s (the status subresource). Kinds
    /// without a status keep the default, which does nothing.
    fn copy_status(&mut self, _from: &Self) {}
    /// Whether an update leaves the object to be removed: it is being deleted
    /// and no finalizer holds it.
    fn removable(&self) -> bool {
        self.meta().deleting && self.meta().finalizers.is_empty()
    }
}

/// A status written by a controller, recording the view it came from.
pub trait ObservedStatus: Clone + PartialEq {
    /// The newest write of the view the status was computed from.
    fn observed_revision_mut(&mut self) -> &mut Option<crate::meta::Rev>;

    /// Whether `new` differs from `self` in more than the observed
    /// revision: the observed revision alone does not make a status worth
    /// writing (otherwise a controller would never quiesce).
    fn worth_writing(&self, new: &Self) -> bool {
        let mut old = self.clone();
        let mut new = new.clone();
        *old.observed_revision_mut() = None;
        *new.observed_revision_mut() = None;
        old != new
    }
}

/// Implements [`ObservedStatus`] for status types with `observed_revision`.
macro_rules! observed_status {
    ($($status:ty),*) => {
        $(impl ObservedStatus for $status {
            fn observed_revision_mut(&mut self) -> &mut Option<crate::meta::Rev> {
                &mut self.observed_revision
            }
        })*
    };
}
observed_status!(ReplicaSetStatus, StatefulSetStatus, DeploymentStatus, JobStatus);

/// Implements [`Object`] for a kind with `meta` and `spec` fields.
macro_rules! object_with_spec {
    ($kind:ty) => {
        impl $crate::resources::Object for $kind {
            fn meta(&self) -> &$crate::meta::Meta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut $crate::meta::Meta {
                &mut self.meta
            }
            fn same_spec(&self, other: &Self) -> bool {
                self.spec == other.spec
            }
            fn copy_status(&mut self, from: &Self) {
                self.status = from.status.clone();
            }
        }
    };
}
pub(crate) use object_with_spec;

mod controllerrevision;
mod deployment;
mod job;
mod node;
mod pod;
mod pvc;
mod replicaset;
mod statefulset;
