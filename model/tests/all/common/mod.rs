//! What the random-walk tests share: the built-in scenarios and every
//! consistency model, chosen by number (as proptest draws them).

use krepis_model::consistency::{
    Causal, CausalUnpruned, Consistency, MonotonicSession, OptimisticLinear, ResettableSession, Synchronous,
};
use krepis_model::{KubeModel, Scenario};

/// The built-in scenarios, with 1 or 2 instances of each controller.
pub fn scenario(i: usize, consistency: &str, instances: usize) -> Scenario {
    match i {
        0 => Scenario::stale_reads(consistency, instances),
        1 => Scenario::statefulset_scale(consistency, instances),
        2 => Scenario::replicaset_scale(consistency, instances),
        3 => Scenario::overlapping_replicasets(consistency, instances),
        4 => Scenario::deployment_rollout(consistency, instances),
        5 => Scenario::deployment_paused(consistency, instances),
        6 => Scenario::job_parallel(consistency, instances),
        7 => Scenario::cluster(consistency),
        _ => {
            // Two nodes whichever `instances`, for the scheduler to choose
            // between.
            let mut s = Scenario::replicaset_scale(consistency, instances);
            s.nodes = Scenario::node_names(2);
            s.scheduler_ties = krepis_model::scenario::SchedulerTies::Any;
            s
        }
    }
}

/// How many scenarios [`scenario`] knows: the built-in ones, and
/// replicaset-scale on two nodes whose scheduler takes any of equally
/// loaded nodes.
pub const SCENARIOS: usize = 9;

/// How many models [`with_model`] knows: the five consistency models and
/// causal without pruning.
pub const MODELS: usize = 6;

/// Something to do with a model, whatever its consistency model.
pub trait WithModel {
    /// What it gives.
    type Out;
    /// Does it with `model`.
    fn with<C: Consistency>(&mut self, model: &KubeModel<C>) -> Self::Out;
}

/// Runs `f` on scenario `s` with `instances` instances under model number
/// `consistency` (see [`MODELS`]).
pub fn with_model<F: WithModel>(consistency: usize, s: usize, instances: usize, f: &mut F) -> F::Out {
    let names = ["synchronous", "monotonic-session", "resettable-session", "optimistic-linear", "causal"];
    let sc = scenario(s, names[consistency % names.len()], instances);
    match consistency {
        0 => f.with(&KubeModel::<Synchronous>::new(sc)),
        1 => f.with(&KubeModel::<MonotonicSession>::new(sc)),
        2 => f.with(&KubeModel::<ResettableSession>::new(sc)),
        3 => f.with(&KubeModel::<OptimisticLinear>::new(sc)),
        4 => f.with(&KubeModel::<Causal>::new(sc)),
        _ => f.with(&KubeModel::<CausalUnpruned>::new(sc)),
    }
}
