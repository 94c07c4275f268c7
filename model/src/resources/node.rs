//! Node.

use super::Object;
use crate::meta::Meta;

/// A node: where pods run. Registered by its kubelet.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Node {
    /// Metadata.
    pub meta: Meta,
    /// `spec.unschedulable`.
    pub unschedulable: bool,
    /// Whether the Ready condition is True.
    pub ready: bool,
}

impl Object for Node {
    fn meta(&self) -> &Meta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }
    fn same_spec(&self, other: &Self) -> bool {
        self.unschedulable == other.unschedulable
    }
}
