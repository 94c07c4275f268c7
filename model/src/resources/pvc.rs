//! PersistentVolumeClaim: storage claimed for one StatefulSet pod.

use crate::meta::Meta;

/// A PersistentVolumeClaim. Krepis models its existence and ownership;
/// binding to a volume is immediate and not modelled.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PersistentVolumeClaim {
    /// Metadata; named `<template>-<set>-<ordinal>` for StatefulSet claims.
    pub meta: Meta,
}

impl super::Object for PersistentVolumeClaim {
    fn meta(&self) -> &Meta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }
    fn same_spec(&self, _other: &Self) -> bool {
        true
    }
}
