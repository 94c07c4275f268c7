//! StatefulSet.

use crate::meta::{Labels, Meta, Name, Names, Rev};

/// How a StatefulSet creates and deletes its pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PodManagement {
    /// One at a time, in ordinal order, each waiting for its predecessors to
    /// be Running and Ready (deletion in reverse order). Kubernetes' default.
    OrderedReady,
    /// All at once.
    Parallel,
}

/// How a StatefulSet replaces pods whose template is out of date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum UpdateStrategy {
    /// Delete out-of-date pods one at a time, highest ordinal first, down to
    /// `partition` (pods below it keep their revision). Kubernetes' default.
    RollingUpdate {
        /// Ordinals below this are not updated.
        partition: u32,
    },
    /// Leave out-of-date pods until something else deletes them.
    OnDelete,
}

/// A StatefulSet's desired state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct StatefulSetSpec {
    /// Desired number of pods.
    pub replicas: u32,
    /// Which pods the set manages.
    pub selector: Labels,
    /// Labels of the pods it creates.
    pub template_labels: Labels,
    /// Container images of the pods it creates.
    pub template_images: Names,
    /// Ordered or parallel pod management.
    pub pod_management: PodManagement,
    /// How out-of-date pods are replaced.
    pub update_strategy: UpdateStrategy,
    /// Names of the volume claim templates: pod k gets a claim
    /// `<template>-<set>-<k>` for each, created before the pod and kept
    /// when the set scales down (retention policy Retain, the default).
    pub volume_claim_templates: Names,
}

/// A StatefulSet's observed state, written by its controller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct StatefulSetStatus {
    /// The generation the status was computed for.
    pub observed_generation: u32,
    /// The version of the view the status was computed from (krepis, after
    /// Themelios: lets properties re-check the status against that view).
    pub observed_revision: Option<Rev>,
    /// Pods created and not finished.
    pub replicas: u32,
    /// Pods Running and Ready.
    pub ready_replicas: u32,
    /// Pods (not being deleted) of the current revision.
    pub current_replicas: u32,
    /// Pods (not being deleted) of the update revision.
    pub updated_replicas: u32,
    /// The revision the pods had before the update in progress.
    pub current_revision: Option<Name>,
    /// The revision of the set's template now.
    pub update_revision: Option<Name>,
    /// Bumped when a new revision's name is taken by other data.
    pub collision_count: u32,
}

/// A StatefulSet.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct StatefulSet {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: StatefulSetSpec,
    /// Status.
    pub status: StatefulSetStatus,
}

impl StatefulSet {
    /// The name of claim `template` of ordinal `k`.
    pub fn claim_name(&self, template: &str, k: u32) -> String {
        format!("{template}-{}-{k}", self.meta.name)
    }

    /// The name of the pod with ordinal `k`.
    pub fn pod_name(&self, k: u32) -> String {
        format!("{}-{k}", self.meta.name)
    }

    /// `f` of [`StatefulSet::pod_name`]`(k)`, built on the stack when it
    /// fits in 64 bytes (properties look pods up by name on every state a
    /// search visits; formatting a `String` each time was 2% of a
    /// simulation step on `cluster`).
    pub fn with_pod_name<R>(&self, k: u32, f: impl FnOnce(&str) -> R) -> R {
        crate::meta::with_decimal(k.into(), |d| crate::meta::with_joined(&[&self.meta.name, "-", d], f))
    }

    /// `f` of [`StatefulSet::claim_name`]`(template, k)`, built on the
    /// stack as [`StatefulSet::with_pod_name`] builds pod names.
    pub fn with_claim_name<R>(&self, template: &str, k: u32, f: impl FnOnce(&str) -> R) -> R {
        crate::meta::with_decimal(k.into(), |d| crate::meta::with_joined(&[template, "-", &self.meta.name, "-", d], f))
    }

    /// The ordinal of a pod called `pod` if it is one of this set's names.
    pub fn ordinal(&self, pod: &str) -> Option<u32> {
        let rest = pod.strip_prefix(&*self.meta.name)?.strip_prefix('-')?;
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) || (rest.len() > 1 && rest.starts_with('0')) {
            return None;
        }
        rest.parse().ok()
    }
}

super::object_with_spec!(StatefulSet);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_parse_only_exact_names() {
        let s = StatefulSet {
            meta: Meta::named("web"),
            spec: StatefulSetSpec {
                replicas: 1,
                selector: Labels::default(),
                template_labels: Labels::default(),
                template_images: krepis_encodings::SymList::empty(),
                pod_management: PodManagement::OrderedReady,
                update_strategy: UpdateStrategy::RollingUpdate { partition: 0 },
                volume_claim_templates: krepis_encodings::SymList::empty(),
            },
            status: StatefulSetStatus::default(),
        };
        assert_eq!(s.ordinal("web-0"), Some(0));
        assert_eq!(s.ordinal("web-12"), Some(12));
        assert_eq!(s.ordinal("web-01"), None);
        assert_eq!(s.ordinal("web-x"), None);
        assert_eq!(s.ordinal("webby-1"), None);
        assert_eq!(s.pod_name(3), "web-3");
        // Built on the stack, or in a String when too long for it.
        assert_eq!(s.with_pod_name(12, str::to_string), "web-12");
        assert_eq!(s.with_pod_name(0, str::to_string), "web-0");
        for len in [58, 59, 60, 61, 62, 63, 64, 65, 200] {
            let long = StatefulSet { meta: Meta::named(&"s".repeat(len)), ..s.clone() };
            assert_eq!(long.with_pod_name(u32::MAX, str::to_string), long.pod_name(u32::MAX), "{len}");
        }
    }
}
