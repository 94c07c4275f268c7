//! Deployment.

use crate::meta::{Labels, Meta, Names, Rev};

/// How a Deployment replaces old pods by new ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Strategy {
    /// Kill all old pods, then start the new ones.
    Recreate,
    /// Replace pods gradually. Each bound is a count of pods or, with
    /// `percent`, a percentage of `spec.replicas` (surge rounds up,
    /// unavailability rounds down, as Kubernetes' `ResolveFenceposts`).
    RollingUpdate {
        /// How many pods over `replicas` may exist during the update.
        max_surge: u32,
        /// How many of `replicas` may be unavailable during the update.
        max_unavailable: u32,
        /// Whether both bounds are percentages.
        percent: bool,
    },
}

impl Strategy {
    /// Kubernetes' default: rolling update with 25% surge and 25% unavailable.
    pub const DEFAULT: Strategy = Strategy::RollingUpdate { max_surge: 25, max_unavailable: 25, percent: true };

    /// (max surge, max unavailable) resolved against `replicas`. If both
    /// would be 0, unavailability is 1 (Kubernetes: progress must be possible).
    pub fn fenceposts(&self, replicas: u32) -> (u32, u32) {
        match *self {
            Strategy::Recreate => (0, 0),
            Strategy::RollingUpdate { max_surge, max_unavailable, percent } => {
                let (s, u) = if percent {
                    ((max_surge * replicas).div_ceil(100), max_unavailable * replicas / 100)
                } else {
                    (max_surge, max_unavailable)
                };
                if s == 0 && u == 0 {
                    (0, 1)
                } else {
                    (s, u)
                }
            }
        }
    }
}

/// A Deployment's desired state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DeploymentSpec {
    /// Desired number of pods.
    pub replicas: u32,
    /// Which ReplicaSets (and pods) it manages.
    pub selector: Labels,
    /// Labels of the pod template.
    pub template_labels: Labels,
    /// Container images of the pod template.
    pub template_images: Names,
    /// The rollout strategy.
    pub strategy: Strategy,
    /// A paused Deployment scales but does not roll out.
    pub paused: bool,
}

/// A Deployment's observed state, written by its controller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DeploymentStatus {
    /// The generation the status was computed for.
    pub observed_generation: u32,
    /// The newest write of the view the status was computed from.
    pub observed_revision: Option<Rev>,
    /// Pods of all its ReplicaSets (their `status.replicas`).
    pub replicas: u32,
    /// Pods of the ReplicaSet whose template is the Deployment's.
    pub updated_replicas: u32,
    /// Ready pods of all its ReplicaSets.
    pub ready_replicas: u32,
    /// Available pods (ready; krepis has no clock, so `minReadySeconds` is 0).
    pub available_replicas: u32,
    /// Desired pods not available.
    pub unavailable_replicas: u32,
    /// Bumped when a new ReplicaSet's name is taken by another object.
    pub collision_count: u32,
}

/// A Deployment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Deployment {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: DeploymentSpec,
    /// Status.
    pub status: DeploymentStatus,
}

impl Deployment {
    /// Kubernetes' `DeploymentComplete`: every desired pod is updated and
    /// available, no old pod is left, and the status is current.
    pub fn complete(&self) -> bool {
        let s = &self.status;
        s.updated_replicas == self.spec.replicas
            && s.replicas == self.spec.replicas
            && s.available_replicas == self.spec.replicas
            && s.observed_generation >= self.meta.generation
    }
}

super::object_with_spec!(Deployment);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenceposts_round_surge_up_and_unavailability_down() {
        assert_eq!(Strategy::DEFAULT.fenceposts(2), (1, 0));
        assert_eq!(Strategy::DEFAULT.fenceposts(4), (1, 1));
        assert_eq!(Strategy::DEFAULT.fenceposts(0), (0, 1));
        let fixed = Strategy::RollingUpdate { max_surge: 0, max_unavailable: 0, percent: false };
        assert_eq!(fixed.fenceposts(3), (0, 1));
        assert_eq!(Strategy::Recreate.fenceposts(3), (0, 0));
    }
}
