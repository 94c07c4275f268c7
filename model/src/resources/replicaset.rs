//! ReplicaSet.

use crate::meta::{Labels, Meta, Names, Rev};

/// A ReplicaSet's desired state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ReplicaSetSpec {
    /// Desired number of pods.
    pub replicas: u32,
    /// Which pods it manages.
    pub selector: Labels,
    /// Labels of the pods it creates.
    pub template_labels: Labels,
    /// Container images of the pods it creates.
    pub template_images: Names,
}

/// A ReplicaSet's observed state, written by its controller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ReplicaSetStatus {
    /// The generation the status was computed for.
    pub observed_generation: u32,
    /// The newest write of the view the status was computed from.
    pub observed_revision: Option<Rev>,
    /// Active pods it owns.
    pub replicas: u32,
    /// Of those, Running and Ready.
    pub ready_replicas: u32,
}

/// A ReplicaSet.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ReplicaSet {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: ReplicaSetSpec,
    /// Status.
    pub status: ReplicaSetStatus,
}

super::object_with_spec!(ReplicaSet);
