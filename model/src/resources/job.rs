//! Job.

use crate::meta::{Labels, Meta, Names, Rev, Uid};

/// A Job's desired state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct JobSpec {
    /// How many pods may run at once.
    pub parallelism: u32,
    /// How many pods must succeed; `None`: the first success completes the
    /// Job once no pod is active (a work queue).
    pub completions: Option<u32>,
    /// Labels of the pods it creates (its pods are found by owner uid, as
    /// Kubernetes' generated `controller-uid` selector does).
    pub template_labels: Labels,
    /// Container images of the pods it creates.
    pub template_images: Names,
    /// A suspended Job deletes its active pods and creates none.
    pub suspend: bool,
    /// Failed pods tolerated before the Job fails.
    pub backoff_limit: u32,
}

/// A Job's observed state, written by its controller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct JobStatus {
    /// The generation the status was computed for.
    pub observed_generation: u32,
    /// The newest write of the view the status was computed from.
    pub observed_revision: Option<Rev>,
    /// Pods not finished and not being deleted.
    pub active: u32,
    /// Of those, Ready.
    pub ready: u32,
    /// Pods that succeeded and were counted (finalizer removed).
    pub succeeded: u32,
    /// Pods that failed and were counted.
    pub failed: u32,
    /// Finished pods recorded here before their tracking finalizer is
    /// removed, so that none is counted twice or lost (Kubernetes'
    /// `uncountedTerminatedPods`): succeeded uids.
    pub uncounted_succeeded: Vec<Uid>,
    /// Failed uids not yet counted.
    pub uncounted_failed: Vec<Uid>,
    /// The Complete condition.
    pub complete: bool,
    /// The Failed condition (backoff limit exceeded).
    pub failed_condition: bool,
    /// The Suspended condition.
    pub suspended: bool,
}

/// A Job.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Job {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: JobSpec,
    /// Status.
    pub status: JobStatus,
}

impl Job {
    /// Whether the Job has finished (Complete or Failed).
    pub fn finished(&self) -> bool {
        self.status.complete || self.status.failed_condition
    }
}

super::object_with_spec!(Job);
