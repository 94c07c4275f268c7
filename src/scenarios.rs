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
        name: "puzzle8",
        about: "engine example: the 8-puzzle from the solved position (181,440 states, depth 31)",
    },
    Scenario {
        name: "puzzle15",
        about: "engine example: the 15-puzzle (about 10^13 states: use --time-limit or --max-states)",
    },
    Scenario {
        name: "two-phase-commit:N",
        about: "engine example: two-phase commit with N resource managers, 1 to 12",
    },
    Scenario {
        name: "philosophers:N",
        about: "engine example: dining philosophers, 2 to 16, ordered forks: starvation lasso",
    },
];

/// Flags that shape the Kubernetes scenarios (DESIGN.md section 3).
#[derive(Args, Clone, Debug)]
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
    /// ReplicaSet controller instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub replicaset_controllers: Option<u8>,
    /// StatefulSet controller instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub statefulset_controllers: Option<u8>,
    /// PodGC instances.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub podgc_controllers: Option<u8>,
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
    extra.insert(
        "scenario".into(),
        serde_json::json!({
            "name": s.name,
            "nodes": s.nodes,
            "schedulers": s.schedulers,
        "replicaset_controllers": s.replicaset_controllers,
        "replicasets": s.replicasets.iter().map(|r| serde_json::json!({"name": &*r.meta.name, "replicas": r.spec.replicas})).collect::<Vec<_>>(),
        "scales": s.scales,
            "statefulset_controllers": s.statefulset_controllers,
            "podgc_controllers": s.podgc_controllers,
            "restarts": s.restarts,
        }),
    );
    extra.insert("consistency".into(), serde_json::Value::String(C::NAME.into()));
    cli::run(&KubeModel::<C>::new(s), args, extra)
}

fn run_kube(mut s: KubeScenario, k: &KubeArgs, args: &CheckArgs) -> ExitCode {
    if let Some(n) = k.nodes {
        s.nodes = (0..n).map(|i| format!("node-{i}")).collect();
    }
    if let Some(n) = k.schedulers {
        s.schedulers = n.into();
    }
    if let Some(n) = k.replicaset_controllers {
        s.replicaset_controllers = n.into();
    }
    if let Some(n) = k.statefulset_controllers {
        s.statefulset_controllers = n.into();
    }
    if let Some(n) = k.podgc_controllers {
        s.podgc_controllers = n.into();
    }
    if let Some(c) = &k.consistency {
        s.consistency = c.clone();
    }
    match s.consistency.as_str() {
        "synchronous" => kube::<Synchronous>(s, args),
        "monotonic-session" => kube::<MonotonicSession>(s, args),
        "resettable-session" => kube::<ResettableSession>(s, args),
        "optimistic-linear" => kube::<OptimisticLinear>(s, args),
        _ => kube::<Causal>(s, args),
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
    let kube_flags = k.consistency.is_some()
        || k.nodes.is_some()
        || k.schedulers.is_some()
        || k.statefulset_controllers.is_some()
        || k.replicaset_controllers.is_some()
        || k.podgc_controllers.is_some();
    let file = name.ends_with(".yaml") || name.ends_with(".yml");
    let kube_scenario =
        file || matches!(base, "stale-reads" | "statefulset-scale" | "replicaset-scale" | "overlapping-replicasets");
    if !kube_scenario && kube_flags {
        return Err(format!(
            "scenario '{name}' is an engine example: the Kubernetes flags (--consistency, --nodes, ...) do not apply"
        ));
    }
    Ok(match (base, param) {
        ("stale-reads", None) => run_kube(KubeScenario::stale_reads("causal", 1), k, args),
        ("statefulset-scale", None) => run_kube(KubeScenario::statefulset_scale("synchronous", 1), k, args),
        ("replicaset-scale", None) => run_kube(KubeScenario::replicaset_scale("synchronous", 1), k, args),
        ("overlapping-replicasets", None) => run_kube(KubeScenario::overlapping_replicasets("synchronous", 1), k, args),
        ("puzzle8", None) => cli::run(&SlidingPuzzle::puzzle8(), args, extra(name)),
        ("puzzle15", None) => cli::run(&SlidingPuzzle::new(4, 4), args, extra(name)),
        ("two-phase-commit", p) => {
            let n = size(name, p.unwrap_or("3"), 1, 12)?;
            cli::run(&TwoPhaseCommit::new(n), args, extra(&format!("two-phase-commit:{n}")))
        }
        ("philosophers", p) => {
            let n = size(name, p.unwrap_or("3"), 2, 16)?;
            cli::run(&Philosophers::new(n), args, extra(&format!("philosophers:{n}")))
        }
        _ if file => run_kube(krepis_model::scenario_file::load(std::path::Path::new(name))?, k, args),
        _ => return Err(format!("unknown scenario '{name}' (krepis scenarios lists them; files end in .yaml)")),
    })
}
