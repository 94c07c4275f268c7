//! Pod.

use crate::meta::{Meta, Name, Names};

/// A pod's phase, in Kubernetes' order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    /// Accepted, not running yet.
    Pending,
    /// Running on a node.
    Running,
    /// All containers exited with 0.
    Succeeded,
    /// Some container failed.
    Failed,
}

/// A pod's desired state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PodSpec {
    /// The node the pod is bound to (set once by the scheduler).
    pub node_name: Option<Name>,
    /// Container images (one per container).
    pub images: Names,
    /// The containers exit (with 0) after running and being ready for a
    /// while, as a Job's pods do (restart policy Never); otherwise they run
    /// until stopped.
    pub run_to_completion: bool,
}

/// A pod.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Pod {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: PodSpec,
    /// `status.phase`.
    pub phase: Phase,
    /// Whether the Ready condition is True.
    pub ready: bool,
}

impl Pod {
    /// Not finished and not being deleted.
    pub fn active(&self) -> bool {
        !matches!(self.phase, Phase::Succeeded | Phase::Failed) && !self.meta.deleting
    }

    /// Running, Ready, and not being deleted.
    pub fn running_and_ready(&self) -> bool {
        self.phase == Phase::Running && self.ready && !self.meta.deleting
    }
}

impl super::Object for Pod {
    fn meta(&self) -> &Meta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }
    fn same_spec(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
    fn copy_status(&mut self, from: &Self) {
        self.phase = from.phase;
        self.ready = from.ready;
    }
    /// A pod being deleted goes once its finalizers are gone if its kubelet
    /// has let go (grace period zero) or it never ran (unbound).
    fn removable(&self) -> bool {
        self.meta.deleting && self.meta.finalizers.is_empty() && (self.meta.grace_zero || self.spec.node_name.is_none())
    }
}
