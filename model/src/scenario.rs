//! Scenarios: the initial objects, the controllers, the consistency model and
//! the perturbations of one check.

use crate::controllers::Controller;
use crate::meta::{name, Labels, Meta};
use crate::resources::{
    Deployment, DeploymentSpec, DeploymentStatus, Job, JobSpec, JobStatus, Phase, Pod, PodManagement, PodSpec,
    ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, StatefulSet, StatefulSetSpec, StatefulSetStatus, Strategy,
};

/// Gives an object the labels `app=<its name>` and makes its selector and
/// pod-template labels the same, so that objects of one kind do not select
/// each other's pods.
pub fn own_labels(meta: &mut Meta, selector: &mut Labels, template: &mut Labels) {
    meta.labels = Labels::from_pairs(&[("app", &meta.name)]);
    selector.clone_from(&meta.labels);
    template.clone_from(&meta.labels);
}

/// A budget that never runs out: [`Scenario::restarts`] or
/// [`Scenario::client_writes`] set to this are not decremented, so only the
/// depth bound limits the run (the state space may be infinite).
pub const UNBOUNDED: u8 = u8::MAX;

/// Which client writes (perturbations) a scenario offers, each on the newest
/// state and within [`Scenario::client_writes`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Perturbations {
    /// Scale every ReplicaSet, StatefulSet and Deployment up by one, and down by one while above 0.
    pub scale: bool,
    /// Change the first container image of every ReplicaSet, StatefulSet and Deployment.
    pub image: bool,
    /// Pause or resume every Deployment.
    pub pause: bool,
    /// Suspend or resume every Job.
    pub suspend: bool,
}

impl Perturbations {
    /// The names scenario files use, in this order: scale, image, pause, suspend.
    pub const NAMES: [&'static str; 4] = ["scale", "image", "pause", "suspend"];

    /// Every perturbation.
    pub const ALL: Perturbations = Perturbations { scale: true, image: true, pause: true, suspend: true };

    /// Turns on the perturbation called `name`; false if there is none.
    pub fn enable(&mut self, name: &str) -> bool {
        match name {
            "scale" => self.scale = true,
            "image" => self.image = true,
            "pause" => self.pause = true,
            "suspend" => self.suspend = true,
            _ => return false,
        }
        true
    }

    /// The names of those enabled.
    pub fn names(&self) -> Vec<&'static str> {
        let on = [self.scale, self.image, self.pause, self.suspend];
        Self::NAMES.iter().zip(on).filter(|(_, on)| *on).map(|(n, _)| *n).collect()
    }
}

/// How the scheduler chooses between equally loaded nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SchedulerTies {
    /// The first by name, as the spec's scheduler does (spec §4.2): one
    /// transition per scheduler read.
    #[default]
    Name,
    /// Any of them, as kube-scheduler does (it picks one of the
    /// best-scoring nodes at random): a scheduler read has one transition
    /// per node of the scenario, the `k`-th binding to the `k`-th tied node
    /// in name order, modulo how many are tied (so some are the same
    /// transition). With it, nodes are interchangeable. Settling
    /// ([`Scenario::settle`]) still takes the first by name: it is one run,
    /// not a search.
    Any,
}

impl SchedulerTies {
    /// The names the CLI and scenario files use: `name`, `any`.
    pub const NAMES: [&'static str; 2] = ["name", "any"];

    /// The setting called `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "name" => Some(SchedulerTies::Name),
            "any" => Some(SchedulerTies::Any),
            _ => None,
        }
    }

    /// Its name, as [`Self::parse`] takes it.
    pub fn name(self) -> &'static str {
        match self {
            SchedulerTies::Name => "name",
            SchedulerTies::Any => "any",
        }
    }
}

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
    /// Deployments at the start.
    pub deployments: Vec<Deployment>,
    /// Jobs at the start.
    pub jobs: Vec<Job>,
    /// Bare pods at the start.
    pub pods: Vec<Pod>,
    /// Scheduler instances.
    pub schedulers: usize,
    /// How schedulers choose between equally loaded nodes.
    pub scheduler_ties: SchedulerTies,
    /// ReplicaSet controller instances.
    pub replicaset_controllers: usize,
    /// StatefulSet controller instances.
    pub statefulset_controllers: usize,
    /// PodGC instances.
    pub podgc_controllers: usize,
    /// Deployment controller instances.
    pub deployment_controllers: usize,
    /// Job controller instances.
    pub job_controllers: usize,
    /// How many restarts (of a controller, or of a node) may happen in a run:
    /// a bound that keeps the state space finite.
    pub restarts: u8,
    /// How many client writes (perturbations) may happen in a run
    /// ([`UNBOUNDED`]: any number).
    pub client_writes: u8,
    /// Which client writes are offered.
    pub perturbations: Perturbations,
    /// Start from the state the controllers reach on their own: before the
    /// search, every controller instance steps in turn on the newest state
    /// (synchronously) until none has anything to write. The search then
    /// starts from a cluster at rest, so that its depth goes to what the
    /// perturbations and restarts set off rather than to the initial rollout.
    pub settle: bool,
    /// The properties to check, by name; `None`: every property that
    /// applies to the scenario's kinds of objects
    /// ([`crate::properties::applicable_names`]).
    pub properties: Option<Vec<String>>,
}

impl Scenario {
    /// The controller instances, in a fixed order: kubelets (node order),
    /// schedulers, ReplicaSet, StatefulSet, PodGC, Deployment and Job controllers.
    pub fn controllers(&self) -> Vec<Controller> {
        let mut c: Vec<Controller> = self.nodes.iter().map(|n| Controller::Kubelet { node: name(n) }).collect();
        c.extend(std::iter::repeat_n(Controller::Scheduler, self.schedulers));
        c.extend(std::iter::repeat_n(Controller::ReplicaSet, self.replicaset_controllers));
        c.extend(std::iter::repeat_n(Controller::StatefulSet, self.statefulset_controllers));
        c.extend(std::iter::repeat_n(Controller::PodGc, self.podgc_controllers));
        c.extend(std::iter::repeat_n(Controller::Deployment, self.deployment_controllers));
        c.extend(std::iter::repeat_n(Controller::Job, self.job_controllers));
        c
    }

    /// A scenario with no objects and no controllers (a base for builders).
    pub fn empty(name: &str, consistency: &str) -> Self {
        Scenario {
            name: name.into(),
            consistency: consistency.into(),
            nodes: vec![],
            statefulsets: vec![],
            replicasets: vec![],
            deployments: vec![],
            jobs: vec![],
            pods: vec![],
            schedulers: 0,
            scheduler_ties: SchedulerTies::Name,
            replicaset_controllers: 0,
            statefulset_controllers: 0,
            podgc_controllers: 0,
            deployment_controllers: 0,
            job_controllers: 0,
            restarts: 0,
            client_writes: 0,
            perturbations: Perturbations::default(),
            settle: false,
            properties: None,
        }
    }

    /// `n` nodes called node-0, node-1, ...
    pub fn node_names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("node-{i}")).collect()
    }

    /// The stale-reads scenario (Kubernetes issue 59848): a StatefulSet of
    /// one pod on two nodes, plus an unlabelled, unscheduled spare pod; one
    /// restart allowed. `instances` scheduler, StatefulSet and PodGC
    /// controllers. It checks the reference's properties of this test (pods
    /// on nodes unique, names unique, the StatefulSet status against the view
    /// it was computed from, the set ready at some point) and krepis's
    /// ordering and scheduling ones; the status-against-now properties are
    /// left to `statefulset-scale`, so that the shortest counterexample is
    /// the #59848 one.
    pub fn stale_reads(consistency: &str, instances: usize) -> Self {
        let set = Self::statefulset("stale-reads", 1);
        let spare = Self::bare_pod("zspare-pod", "spare");
        Scenario {
            nodes: Self::node_names(2),
            statefulsets: vec![set],
            pods: vec![spare],
            schedulers: instances,
            statefulset_controllers: instances,
            podgc_controllers: instances,
            restarts: 1,
            properties: Some(
                [
                    crate::properties::PODS_ON_NODES_UNIQUE,
                    crate::properties::UNIQUE_NAMES,
                    crate::properties::PODS_EVENTUALLY_SCHEDULED,
                    crate::properties::STS_CREATES_IN_ORDER,
                    crate::properties::STS_DELETES_IN_REVERSE,
                    crate::properties::STS_STATUS_MATCHES_VIEW,
                    crate::properties::STS_START_ORDINAL_IN_VIEW,
                    crate::properties::STATEFULSETS_READY,
                ]
                .map(String::from)
                .to_vec(),
            ),
            ..Self::empty("stale-reads", consistency)
        }
    }

    /// An OrderedReady StatefulSet labelled and selecting `app=<name>`,
    /// image `app`, rolling updates, no claims.
    pub fn statefulset(name: &str, replicas: u32) -> StatefulSet {
        let labels = Labels::from_pairs(&[("app", name)]);
        StatefulSet {
            meta: Meta { labels: labels.clone(), ..Meta::named(name) },
            spec: StatefulSetSpec {
                replicas,
                selector: labels.clone(),
                template_labels: labels,
                template_images: krepis_encodings::SymList::new(&[self::name("app")]),
                pod_management: PodManagement::OrderedReady,
                update_strategy: crate::resources::UpdateStrategy::RollingUpdate { partition: 0 },
                volume_claim_templates: krepis_encodings::SymList::empty(),
            },
            status: StatefulSetStatus::default(),
        }
    }

    /// An unlabelled, unscheduled pod with one container of `image`.
    pub fn bare_pod(name: &str, image: &str) -> Pod {
        Pod {
            meta: Meta::named(name),
            spec: PodSpec {
                node_name: None,
                images: krepis_encodings::SymList::new(&[self::name(image)]),
                run_to_completion: false,
            },
            phase: Phase::Pending,
            ready: false,
        }
    }

    /// A ReplicaSet with labels and selector `name=test` and image `fake`.
    pub fn replicaset(name: &str, replicas: u32) -> ReplicaSet {
        let labels = Labels::from_pairs(&[("name", "test")]);
        ReplicaSet {
            meta: Meta { labels: labels.clone(), ..Meta::named(name) },
            spec: ReplicaSetSpec {
                replicas,
                selector: labels.clone(),
                template_labels: labels,
                template_images: krepis_encodings::SymList::new(&[self::name("fake")]),
            },
            status: ReplicaSetStatus::default(),
        }
    }

    fn replicaset_scenario(scenario: &str, consistency: &str, instances: usize, sets: Vec<ReplicaSet>) -> Self {
        Scenario {
            nodes: Self::node_names(instances),
            replicasets: sets,
            schedulers: instances,
            replicaset_controllers: instances,
            podgc_controllers: instances,
            restarts: 1,
            client_writes: 1,
            perturbations: Perturbations { scale: true, ..Perturbations::default() },
            ..Self::empty(scenario, consistency)
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
        s.client_writes = 1;
        s.perturbations.scale = true;
        s.properties = None;
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

    /// A Deployment with labels and selector `name=test`, image `fake` and
    /// Kubernetes' default rolling update (25% surge, 25% unavailable).
    pub fn deployment(name: &str, replicas: u32) -> Deployment {
        let labels = Labels::from_pairs(&[("name", "test")]);
        Deployment {
            meta: Meta { labels: labels.clone(), ..Meta::named(name) },
            spec: DeploymentSpec {
                replicas,
                selector: labels.clone(),
                template_labels: labels,
                template_images: krepis_encodings::SymList::new(&[self::name("fake")]),
                strategy: Strategy::DEFAULT,
                paused: false,
            },
            status: DeploymentStatus::default(),
        }
    }

    fn deployment_scenario(scenario: &str, consistency: &str, instances: usize, d: Deployment) -> Self {
        Scenario {
            nodes: Self::node_names(instances),
            deployments: vec![d],
            schedulers: instances,
            replicaset_controllers: instances,
            deployment_controllers: instances,
            podgc_controllers: instances,
            ..Self::empty(scenario, consistency)
        }
    }

    /// A Deployment of 2 replicas (25% surge and unavailability) rolled out
    /// and at rest ([`Scenario::settle`]), then its image changed once by a
    /// client, so a rolling update replaces its pods (the reference's
    /// `test_deployment_rolling_update`); `instances` nodes and instances of
    /// every controller kind; no restarts.
    pub fn deployment_rollout(consistency: &str, instances: usize) -> Self {
        let mut s = Self::deployment_scenario(
            "deployment-rollout",
            consistency,
            instances,
            Self::deployment("test-rolling-update-deployment", 2),
        );
        s.client_writes = 1;
        s.perturbations.image = true;
        s.settle = true;
        s
    }

    /// A paused Deployment of 1 replica, resumed and paused by a client (two
    /// client writes): while paused it must not create ReplicaSets (the
    /// reference's `test_paused_deployment`).
    pub fn deployment_paused(consistency: &str, instances: usize) -> Self {
        let mut d = Self::deployment("test-paused-deployment", 1);
        d.spec.paused = true;
        let mut s = Self::deployment_scenario("deployment-paused", consistency, instances, d);
        s.client_writes = 2;
        s.perturbations.pause = true;
        s
    }

    /// A Job with template label `name=test`, image `fake`, backoff limit 6.
    pub fn job(name: &str, parallelism: u32, completions: Option<u32>) -> Job {
        Job {
            meta: Meta::named(name),
            spec: JobSpec {
                parallelism,
                completions,
                template_labels: Labels::from_pairs(&[("name", "test")]),
                template_images: krepis_encodings::SymList::new(&[self::name("fake")]),
                suspend: false,
                backoff_limit: 6,
            },
            status: JobStatus::default(),
        }
    }

    /// A Job of 2 completions, 2 at a time, suspended or resumed once by a
    /// client (the reference's `test_parallel_job`, with parallelism 2 and
    /// completions 2 instead of 5 and none, so that the search can finish);
    /// `instances` nodes and instances of every controller kind; one restart.
    pub fn job_parallel(consistency: &str, instances: usize) -> Self {
        Scenario {
            nodes: Self::node_names(instances),
            jobs: vec![Self::job("parallel", 2, Some(2))],
            schedulers: instances,
            job_controllers: instances,
            podgc_controllers: instances,
            restarts: 1,
            client_writes: 1,
            perturbations: Perturbations { suspend: true, ..Perturbations::default() },
            ..Self::empty("job-parallel", consistency)
        }
    }

    /// The reference CLI's composed model: one node, one bare pod, one
    /// ReplicaSet, Deployment, StatefulSet and Job of one replica each, one
    /// instance of every controller kind, every perturbation and restarts
    /// without bound: infinite, so only `--max-depth` (or a time or state
    /// limit) bounds the search.
    pub fn cluster(consistency: &str) -> Self {
        let mut rs = Self::replicaset("rep-1", 1);
        own_labels(&mut rs.meta, &mut rs.spec.selector, &mut rs.spec.template_labels);
        Scenario {
            nodes: Self::node_names(1),
            statefulsets: vec![Self::statefulset("sts-1", 1)],
            replicasets: vec![rs],
            deployments: vec![Self::deployment("dep-1", 1)],
            jobs: vec![Self::job("job-1", 1, Some(1))],
            pods: vec![Self::bare_pod("pod-0", "pod-0")],
            schedulers: 1,
            replicaset_controllers: 1,
            statefulset_controllers: 1,
            podgc_controllers: 1,
            deployment_controllers: 1,
            job_controllers: 1,
            restarts: UNBOUNDED,
            client_writes: UNBOUNDED,
            perturbations: Perturbations::ALL,
            ..Self::empty("cluster", consistency)
        }
    }
}
