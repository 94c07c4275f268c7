//! ControllerRevision: an immutable snapshot of a pod template, numbered.

use crate::meta::{Labels, Meta, Names};

/// A ControllerRevision. `data` never changes after create; only the
/// revision number (and metadata) may.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ControllerRevision {
    /// Metadata (the owner is the StatefulSet).
    pub meta: Meta,
    /// The template's labels.
    pub template_labels: Labels,
    /// The template's container images.
    pub template_images: Names,
    /// Its number among its owner's revisions (higher: newer).
    pub revision: u64,
}

impl super::Object for ControllerRevision {
    fn meta(&self) -> &Meta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }
    fn same_spec(&self, other: &Self) -> bool {
        self.template_labels == other.template_labels
            && self.template_images == other.template_images
            && self.revision == other.revision
    }
}
