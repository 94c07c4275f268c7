//! Pod.

use crate::meta::{Meta, Name};

/// A pod's phase, in Kubernetes' order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PodSpec {
    /// The node the pod is bound to (set once by the scheduler).
    pub node_name: Option<Name>,
    /// Container images (one per container).
    pub images: Vec<Name>,
}

/// A pod.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

super::object_with_spec!(Pod);
