//! Built-in scenarios: the Kubernetes model's, then the engine's example models.

use std::process::ExitCode;

use clap::Args;
use krepis_engine::cli::{self, CheckArgs};
use krepis_engine::models::{Philosophers, SlidingPuzzle, TwoPhaseCommit};
use krepis_model::consistency::{
    Causal, Consistency, MonotonicSession, OptimisticLinear, ResettableSession, Synchronous,
};
use krepis_model::{KubeModel, Scenario as KubeScenario};

/// The scenario `krepis check` runs without one named.
pub const DEFAULT: &str = "stale-reads";

/// A built-in scenario: its name and a one-line description.
pub struct Scenario {
    pub name: &'static str,
    pub about: &'static str,
}

/// Every built-in scenario.
pub const ALL: &[Scenario] = &[
    Scenario {
        name: "stale-reads",
        about: "Kubernetes issue 59848: a StatefulSet pod on two nodes, one restart (default consistency: causal)",
    },
    Scenario {
        name: "statefulset-scale",
        about: "a StatefulSet of 2 on one node scaled once; ordering guarantees checked (default: synchronous)",
    },
    Scenario {
        name: "replicaset-scale",
        about: "one ReplicaSet of 2 replicas scaled once by a client, one restart (default: synchronous)",
    },
    Scenario {
        name: "overlapping-replicasets",
        about: "two ReplicaSets (1 and 2 replicas) with the same selector (default: synchronous)",
    },
    Scenario {
        name: "deployment-rollout",
        about: "a Deployment of 2 rolled out, its image changed once: a rolling update (default: synchronous)",
    },
    Scenario {
        name: "deployment-paused",
        about: "a paused Deployment of 1, resumed and paused by a client: no ReplicaSet while paused (synchronous)",
    },
    Scenario {
        name: "job-parallel",
        about: "a Job of 2 completions, 2 at a time, suspended once, one restart (default: synchronous)",
    },
    Scenario {
        name: "cluster",
        about: "one of every object and controller, every perturbation, unbounded: use --max-depth (synchronous)",
    },
    Scenario {
        name: "puzzle8",
        about: "engine example: the 8-puzzle from the solved position (181,440 states, depth 31)",
    },
    Scenario {
        name: "puzzle15",
        about: "engine example: the 15-puzzle (about 10^13 states: use --time-limit or --max-states)",
    },
    Scenario {
        name: "two-phase-commit:N",
        about: "engine example: two-phase commit with N resource managers, 1 to 31",
    },
    Scenario {
        name: "philosophers:N",
        about: "engine example: dining philosophers, 2 to 16, ordered forks: starvation lasso",
    },
];

/// Flags that shape the Kubernetes scenarios (DESIGN.md section 3). Each
/// overrides what the scenario says; an object-count flag replaces the
/// scenario's objects of that kind by generated ones (rep-1, dep-1, sts-1,
/// job-1, pod-0, ...).
#[derive(Args, Clone, Debug, Default)]
pub struct KubeArgs {
    /// Consistency model of the store [default: the scenario's; stale-reads: causal].
    #[arg(long, value_name = "MODEL", value_parser = clap::builder::PossibleValuesParser::new(krepis_model::consistency::NAMES))]
    pub consistency: Option<String>,
    /// Nodes (each with its kubelet).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=8))]
    pub nodes: Option<u8>,
    /// Scheduler instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub schedulers: Option<u8>,
    /// How schedulers choose between equally loaded nodes: `name`, the first
    /// by name (the spec's rule), or `any`, any of them (as kube-scheduler,
    /// which picks at random: a scheduler step has one transition per node,
    /// and nodes become interchangeable, so symmetry permutes them with their
    /// kubelets) [default: the scenario's; built-in scenarios: name].
    #[arg(long, value_name = "TIES", value_parser = clap::builder::PossibleValuesParser::new(krepis_model::scenario::SchedulerTies::NAMES))]
    pub scheduler_ties: Option<String>,
    /// ReplicaSet controller instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub replicaset_controllers: Option<u8>,
    /// StatefulSet controller instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub statefulset_controllers: Option<u8>,
    /// Deployment controller instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub deployment_controllers: Option<u8>,
    /// Job controller instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub job_controllers: Option<u8>,
    /// PodGC instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub podgc_controllers: Option<u8>,
    /// ReplicaSets rep-1.. (replacing the scenario's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub replicasets: Option<u8>,
    /// Replicas of each generated ReplicaSet and Deployment.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=8))]
    pub pods_per_replicaset: u32,
    /// Deployments dep-1.. (replacing the scenario's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub deployments: Option<u8>,
    /// StatefulSets sts-1.. (replacing the scenario's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub statefulsets: Option<u8>,
    /// Replicas of each generated StatefulSet.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=8))]
    pub pods_per_statefulset: u32,
    /// Jobs job-1.. of one pod each (replacing the scenario's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub jobs: Option<u8>,
    /// Bare pods pod-0.. (replacing the scenario's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub initial_pods: Option<u8>,
    /// Controller or node restarts allowed in a run (255: unbounded).
    #[arg(long, value_name = "N")]
    pub restarts: Option<u8>,
    /// Client writes (the scenario's perturbations) allowed in a run (255: unbounded).
    #[arg(long, value_name = "N")]
    pub client_writes: Option<u8>,
}

impl KubeArgs {
    /// Whether any flag that shapes a Kubernetes scenario was given.
    fn any(&self) -> bool {
        let counts = [
            self.nodes,
            self.schedulers,
            self.replicaset_controllers,
            self.statefulset_controllers,
            self.deployment_controllers,
            self.job_controllers,
            self.podgc_controllers,
            self.replicasets,
            self.deployments,
            self.statefulsets,
            self.jobs,
            self.initial_pods,
            self.restarts,
            self.client_writes,
        ];
        self.consistency.is_some()
            || self.scheduler_ties.is_some()
            || counts.iter().any(Option::is_some)
            || self.pods_per_replicaset != 1
            || self.pods_per_statefulset != 1
    }

    /// Applies the flags to `s`.
    fn apply(&self, s: &mut KubeScenario) {
        use krepis_model::scenario::own_labels;
        let count = |n: &Option<u8>, into: &mut usize| {
            if let Some(n) = n {
                *into = usize::from(*n);
            }
        };
        if let Some(n) = self.nodes {
            s.nodes = KubeScenario::node_names(n.into());
        }
        count(&self.schedulers, &mut s.schedulers);
        if let Some(t) = self.scheduler_ties.as_deref().and_then(krepis_model::scenario::SchedulerTies::parse) {
            s.scheduler_ties = t;
        }
        count(&self.replicaset_controllers, &mut s.replicaset_controllers);
        count(&self.statefulset_controllers, &mut s.statefulset_controllers);
        count(&self.deployment_controllers, &mut s.deployment_controllers);
        count(&self.job_controllers, &mut s.job_controllers);
        count(&self.podgc_controllers, &mut s.podgc_controllers);
        if let Some(n) = self.replicasets {
            s.replicasets = (1..=n)
                .map(|i| {
                    let mut rs = KubeScenario::replicaset(&format!("rep-{i}"), self.pods_per_replicaset);
                    own_labels(&mut rs.meta, &mut rs.spec.selector, &mut rs.spec.template_labels);
                    rs
                })
                .collect();
        }
        if let Some(n) = self.deployments {
            s.deployments = (1..=n)
                .map(|i| {
                    let mut d = KubeScenario::deployment(&format!("dep-{i}"), self.pods_per_replicaset);
                    own_labels(&mut d.meta, &mut d.spec.selector, &mut d.spec.template_labels);
                    d
                })
                .collect();
        }
        if let Some(n) = self.statefulsets {
            s.statefulsets =
                (1..=n).map(|i| KubeScenario::statefulset(&format!("sts-{i}"), self.pods_per_statefulset)).collect();
        }
        if let Some(n) = self.jobs {
            s.jobs = (1..=n).map(|i| KubeScenario::job(&format!("job-{i}"), 1, Some(1))).collect();
        }
        if let Some(n) = self.initial_pods {
            // All with the image of the composed model's first pod.
            s.pods = (0..n).map(|i| KubeScenario::bare_pod(&format!("pod-{i}"), "pod-0")).collect();
        }
        if let Some(n) = self.restarts {
            s.restarts = n;
        }
        if let Some(n) = self.client_writes {
            s.client_writes = n;
        }
        if let Some(c) = &self.consistency {
            s.consistency = c.clone();
        }
    }
}

fn size(name: &str, arg: &str, lo: usize, hi: usize) -> Result<usize, String> {
    let n: usize = arg.parse().map_err(|_| format!("scenario '{name}': '{arg}' is not a number"))?;
    if !(lo..=hi).contains(&n) {
        return Err(format!("scenario '{name}': size must be {lo} to {hi}, got {n}"));
    }
    Ok(n)
}

fn kube<C: Consistency>(s: KubeScenario, args: &CheckArgs) -> ExitCode {
    let mut extra = serde_json::Map::new();
    let sets = |v: Vec<(&str, u32)>| {
        v.into_iter().map(|(n, r)| serde_json::json!({ "name": n, "replicas": r })).collect::<Vec<_>>()
    };
    extra.insert(
        "scenario".into(),
        serde_json::json!({
            "name": s.name,
            "nodes": s.nodes,
            "replicasets": sets(s.replicasets.iter().map(|r| (&*r.meta.name, r.spec.replicas)).collect()),
            "statefulsets": sets(s.statefulsets.iter().map(|r| (&*r.meta.name, r.spec.replicas)).collect()),
            "deployments": sets(s.deployments.iter().map(|r| (&*r.meta.name, r.spec.replicas)).collect()),
            "jobs": sets(s.jobs.iter().map(|r| (&*r.meta.name, r.spec.parallelism)).collect()),
            "pods": s.pods.iter().map(|p| &*p.meta.name).collect::<Vec<_>>(),
            "schedulers": s.schedulers,
            "scheduler_ties": s.scheduler_ties.name(),
            "replicaset_controllers": s.replicaset_controllers,
            "statefulset_controllers": s.statefulset_controllers,
            "deployment_controllers": s.deployment_controllers,
            "job_controllers": s.job_controllers,
            "podgc_controllers": s.podgc_controllers,
            "restarts": s.restarts,
            "client_writes": s.client_writes,
            "perturbations": s.perturbations.names(),
        }),
    );
    extra.insert("consistency".into(), serde_json::Value::String(C::NAME.into()));
    // Simulation keeps stamps as written (KubeModel::ranked says why).
    let ranked = args.strategy == cli::StrategyArg::Simulation;
    cli::run(&KubeModel::<C>::new(s).ranked(ranked), args, extra)
}

fn run_kube(mut s: KubeScenario, k: &KubeArgs, args: &CheckArgs) -> Result<ExitCode, String> {
    k.apply(&mut s);
    use krepis_model::scenario::UNBOUNDED;
    let unbounded = s.restarts == UNBOUNDED || s.client_writes == UNBOUNDED;
    let bounded_run = args.max_depth > 0 || args.time_limit.is_some() || args.max_states > 0 || args.replay.is_some();
    if unbounded && !bounded_run {
        return Err(format!(
            "scenario '{}' has an unbounded budget (restarts or client writes 255), so its state space is infinite: \
             give --max-depth, --time-limit or --max-states",
            s.name
        ));
    }
    let max = krepis_model::kube::MAX_TIED_ARRANGEMENTS;
    if s.scheduler_ties == krepis_model::scenario::SchedulerTies::Any
        && !krepis_model::kube::node_symmetry_is_exact(s.nodes.len())
        && !args.no_symmetry
        && !args.quiet
    {
        eprintln!(
            "note: symmetry compares at most {max} renamings of nodes that look alike; in states where more \
             arrangements of these {} nodes look alike, some members of an orbit stay apart (a smaller \
             reduction, not a wrong one)",
            s.nodes.len()
        );
    }
    Ok(match s.consistency.as_str() {
        "synchronous" => kube::<Synchronous>(s, args),
        "monotonic-session" => kube::<MonotonicSession>(s, args),
        "resettable-session" => kube::<ResettableSession>(s, args),
        "optimistic-linear" => kube::<OptimisticLinear>(s, args),
        _ => kube::<Causal>(s, args),
    })
}

/// Whether `name` names a scenario file.
fn is_file(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// The Kubernetes scenario called `name` (built-in or a file), without the
/// flags applied; `None` for the engine's examples and unknown names.
fn builtin_kube(base: &str, param: Option<&str>, name: &str, file: bool) -> Result<Option<KubeScenario>, String> {
    Ok(Some(match (base, param) {
        ("stale-reads", None) => KubeScenario::stale_reads("causal", 1),
        ("statefulset-scale", None) => KubeScenario::statefulset_scale("synchronous", 1),
        ("replicaset-scale", None) => KubeScenario::replicaset_scale("synchronous", 1),
        ("overlapping-replicasets", None) => KubeScenario::overlapping_replicasets("synchronous", 1),
        ("deployment-rollout", None) => KubeScenario::deployment_rollout("synchronous", 1),
        ("deployment-paused", None) => KubeScenario::deployment_paused("synchronous", 1),
        ("job-parallel", None) => KubeScenario::job_parallel("synchronous", 1),
        ("cluster", None) => KubeScenario::cluster("synchronous"),
        _ if file => krepis_model::scenario_file::load(std::path::Path::new(name))?,
        _ => return Ok(None),
    }))
}

/// The Kubernetes scenario `name` (built-in or a YAML file) with the flags
/// `k` applied: what `krepis run` runs (and what `krepis symmetry-table`
/// reads each scenario's controller kinds from).
pub fn kube_scenario(name: &str, k: &KubeArgs) -> Result<KubeScenario, String> {
    match builtin_kube(name, None, name, is_file(name))? {
        Some(mut s) => {
            k.apply(&mut s);
            Ok(s)
        }
        None => Err(format!("'{name}' is not a Kubernetes scenario (krepis scenarios lists them; files end in .yaml)")),
    }
}

/// Runs the scenario called `name` with the engine flags `args`.
pub fn run(name: &str, k: &KubeArgs, args: &CheckArgs) -> Result<ExitCode, String> {
    let (base, param) = match name.split_once(':') {
        Some((b, p)) => (b, Some(p)),
        None => (name, None),
    };
    let extra = |v: &str| {
        let mut m = serde_json::Map::new();
        m.insert("scenario".into(), serde_json::Value::String(v.to_string()));
        m
    };
    let kube_flags = k.any();
    let file = is_file(name);
    // A built-in Kubernetes scenario's name (building one reads no file).
    let kube_scenario = file || builtin_kube(base, None, name, false)?.is_some();
    if !kube_scenario && kube_flags {
        return Err(format!(
            "scenario '{name}' is an engine example: the Kubernetes flags (--consistency, --nodes, ...) do not apply"
        ));
    }
    if let Some(s) = builtin_kube(base, param, name, file)? {
        return run_kube(s, k, args);
    }
    Ok(match (base, param) {
        ("puzzle8", None) => cli::run(&SlidingPuzzle::puzzle8(), args, extra(name)),
        ("puzzle15", None) => cli::run(&SlidingPuzzle::new(4, 4), args, extra(name)),
        ("two-phase-commit", p) => {
            let n = size(name, p.unwrap_or("3"), 1, 31)?;
            cli::run(&TwoPhaseCommit::new(n), args, extra(&format!("two-phase-commit:{n}")))
        }
        ("philosophers", p) => {
            let n = size(name, p.unwrap_or("3"), 2, 16)?;
            cli::run(&Philosophers::new(n), args, extra(&format!("philosophers:{n}")))
        }
        _ => return Err(format!("unknown scenario '{name}' (krepis scenarios lists them; files end in .yaml)")),
    })
}
