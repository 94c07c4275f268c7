//! Scenarios: the initial objects, the controllers, the consistency model and
//! the perturbations of one check.

use crate::controllers::Controller;
use crate::meta::{name, Labels, Meta};
use crate::resources::{
    Phase, Pod, PodManagement, PodSpec, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, StatefulSet, StatefulSetSpec,
    StatefulSetStatus,
};

/// A fully resolved scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// Its name (built-in name or file).
    pub name: String,
    /// The consistency model (one of [`crate::consistency::NAMES`]).
    pub consistency: String,
    /// Node names; each has a kubelet. Registered (and Ready) at the start.
    pub nodes: Vec<String>,
    /// StatefulSets at the start.
    pub statefulsets: Vec<StatefulSet>,
    /// ReplicaSets at the start.
    pub replicasets: Vec<ReplicaSet>,
    /// Bare pods at the start.
    pub pods: Vec<Pod>,
    /// Scheduler instances.
    pub schedulers: usize,
    /// ReplicaSet controller instances.
    pub replicaset_controllers: usize,
    /// StatefulSet controller instances.
    pub statefulset_controllers: usize,
    /// PodGC instances.
    pub podgc_controllers: usize,
    /// How many restarts (of a controller, or of a node) may happen in a run:
    /// a bound that keeps the state space finite.
    pub restarts: u8,
    /// How many client scalings (a ReplicaSet's replicas up or down by one)
    /// may happen in a run.
    pub scales: u8,
}

impl Scenario {
    /// The controller instances, in a fixed order: kubelets (node order),
    /// schedulers, StatefulSet controllers, PodGC.
    pub fn controllers(&self) -> Vec<Controller> {
        let mut c: Vec<Controller> = self.nodes.iter().map(|n| Controller::Kubelet { node: name(n) }).collect();
        c.extend(std::iter::repeat_n(Controller::Scheduler, self.schedulers));
        c.extend(std::iter::repeat_n(Controller::ReplicaSet, self.replicaset_controllers));
        c.extend(std::iter::repeat_n(Controller::StatefulSet, self.statefulset_controllers));
        c.extend(std::iter::repeat_n(Controller::PodGc, self.podgc_controllers));
        c
    }

    /// The stale-reads scenario (Kubernetes issue 59848): a StatefulSet of
    /// one pod on two nodes, plus an unlabelled, unscheduled spare pod; one
    /// restart allowed. `instances` scheduler, StatefulSet and PodGC
    /// controllers.
    pub fn stale_reads(consistency: &str, instances: usize) -> Self {
        let labels = Labels::from_pairs(&[("app", "stale-reads")]);
        let set = StatefulSet {
            meta: Meta { labels: labels.clone(), ..Meta::named("stale-reads") },
            spec: StatefulSetSpec {
                replicas: 1,
                selector: labels.clone(),
                template_labels: labels,
                template_images: vec![name("app")],
                pod_management: PodManagement::OrderedReady,
            },
            status: StatefulSetStatus::default(),
        };
        let spare = Pod {
            meta: Meta::named("zspare-pod"),
            spec: PodSpec { node_name: None, images: vec![name("spare")] },
            phase: Phase::Pending,
            ready: false,
        };
        Scenario {
            name: "stale-reads".into(),
            consistency: consistency.into(),
            nodes: vec!["node-0".into(), "node-1".into()],
            statefulsets: vec![set],
            replicasets: vec![],
            pods: vec![spare],
            schedulers: instances,
            replicaset_controllers: 0,
            statefulset_controllers: instances,
            podgc_controllers: instances,
            restarts: 1,
            scales: 0,
        }
    }

    fn replicaset(name: &str, replicas: u32) -> ReplicaSet {
        let labels = Labels::from_pairs(&[("name", "test")]);
        ReplicaSet {
            meta: Meta { labels: labels.clone(), ..Meta::named(name) },
            spec: ReplicaSetSpec {
                replicas,
                selector: labels.clone(),
                template_labels: labels,
                template_images: vec![self::name("fake")],
            },
            status: ReplicaSetStatus::default(),
        }
    }

    fn replicaset_scenario(scenario: &str, consistency: &str, instances: usize, sets: Vec<ReplicaSet>) -> Self {
        Scenario {
            name: scenario.into(),
            consistency: consistency.into(),
            nodes: (0..instances).map(|i| format!("node-{i}")).collect(),
            statefulsets: vec![],
            replicasets: sets,
            pods: vec![],
            schedulers: instances,
            replicaset_controllers: instances,
            statefulset_controllers: 0,
            podgc_controllers: instances,
            restarts: 1,
            scales: 1,
        }
    }

    /// One StatefulSet of 2 replicas on one node, scaled once by a client
    /// (the reference's statefulset `test_spec_replicas_change`); `instances`
    /// scheduler, StatefulSet and PodGC controllers; one restart.
    pub fn statefulset_scale(consistency: &str, instances: usize) -> Self {
        let mut s = Self::stale_reads(consistency, instances);
        s.name = "statefulset-scale".into();
        s.nodes = vec!["node-0".into()];
        s.pods.clear();
        s.statefulsets[0].meta.name = name("web");
        s.statefulsets[0].spec.replicas = 2;
        s.scales = 1;
        s
    }

    /// One ReplicaSet of 2 replicas, scaled once by a client; `instances`
    /// nodes and instances of every controller kind (the reference's
    /// `test_spec_replicas_change`).
    pub fn replicaset_scale(consistency: &str, instances: usize) -> Self {
        let set = Self::replicaset("test-spec-replicas-change", 2);
        Self::replicaset_scenario("replicaset-scale", consistency, instances, vec![set])
    }

    /// Two ReplicaSets (1 and 2 replicas) with the same selector (the
    /// reference's `test_overlapping_rss`).
    pub fn overlapping_replicasets(consistency: &str, instances: usize) -> Self {
        let sets = vec![Self::replicaset("test-overlapping-rss-1", 1), Self::replicaset("test-overlapping-rss-2", 2)];
        Self::replicaset_scenario("overlapping-replicasets", consistency, instances, sets)
    }
}
