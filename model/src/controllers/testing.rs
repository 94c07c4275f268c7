//! Hand-built views for the controllers' unit tests.
#![cfg(test)]

use crate::meta::{name, Labels, Meta};
use crate::resources::{
    Node, Phase, Pod, PodManagement, PodSpec, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, StatefulSet,
    StatefulSetSpec, StatefulSetStatus,
};
use crate::store::Store;

pub fn node(n: &str) -> Node {
    let mut meta = Meta::named(n);
    meta.uid = 100;
    Node { meta, unschedulable: false, ready: true }
}

pub fn pod(n: &str, uid: u32) -> Pod {
    let mut meta = Meta::named(n);
    meta.uid = uid;
    meta.resource_version = uid;
    Pod {
        meta,
        spec: PodSpec {
            node_name: None,
            images: krepis_encodings::SymList::new(&[name("img")]),
            run_to_completion: false,
        },
        phase: Phase::Pending,
        ready: false,
    }
}

pub fn bound(mut p: Pod, node: &str) -> Pod {
    p.spec.node_name = Some(name(node));
    p
}

pub fn sts(n: &str, replicas: u32, uid: u32) -> StatefulSet {
    let mut meta = Meta::named(n);
    meta.uid = uid;
    meta.generation = 1;
    let labels = Labels::from_pairs(&[("app", n)]);
    StatefulSet {
        meta,
        spec: StatefulSetSpec {
            replicas,
            selector: labels.clone(),
            template_labels: labels,
            template_images: krepis_encodings::SymList::new(&[name("img")]),
            pod_management: PodManagement::OrderedReady,
            update_strategy: crate::resources::UpdateStrategy::RollingUpdate { partition: 0 },
            volume_claim_templates: krepis_encodings::SymList::empty(),
        },
        status: StatefulSetStatus::default(),
    }
}

pub fn rs(n: &str, replicas: u32, uid: u32) -> ReplicaSet {
    let mut meta = Meta::named(n);
    meta.uid = uid;
    meta.generation = 1;
    let labels = Labels::from_pairs(&[("app", n)]);
    ReplicaSet {
        meta,
        spec: ReplicaSetSpec {
            replicas,
            selector: labels.clone(),
            template_labels: labels,
            template_images: krepis_encodings::SymList::new(&[name("img")]),
        },
        status: ReplicaSetStatus::default(),
    }
}

pub fn store(nodes: Vec<Node>, pods: Vec<Pod>) -> Store {
    let mut s = Store::default();
    nodes.into_iter().for_each(|n| s.nodes.put(n));
    pods.into_iter().for_each(|p| s.pods.put(p));
    s
}

pub fn deployment(n: &str, replicas: u32, uid: u32) -> crate::resources::Deployment {
    use crate::resources::{Deployment, DeploymentSpec, DeploymentStatus, Strategy};
    let mut meta = Meta::named(n);
    meta.uid = uid;
    meta.generation = 1;
    let labels = Labels::from_pairs(&[("app", n)]);
    Deployment {
        meta,
        spec: DeploymentSpec {
            replicas,
            selector: labels.clone(),
            template_labels: labels,
            template_images: krepis_encodings::SymList::new(&[name("img")]),
            strategy: Strategy::DEFAULT,
            paused: false,
        },
        status: DeploymentStatus::default(),
    }
}

pub fn job(n: &str, parallelism: u32, completions: Option<u32>, uid: u32) -> crate::resources::Job {
    use crate::resources::{Job, JobSpec, JobStatus};
    let mut meta = Meta::named(n);
    meta.uid = uid;
    meta.generation = 1;
    Job {
        meta,
        spec: JobSpec {
            parallelism,
            completions,
            template_labels: Labels::from_pairs(&[("job", n)]),
            template_images: krepis_encodings::SymList::new(&[name("img")]),
            suspend: false,
            backoff_limit: 6,
        },
        status: JobStatus::default(),
    }
}
