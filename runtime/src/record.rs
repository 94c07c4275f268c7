//! The record of a run: every step a controller took, in the order taken.

use std::sync::Mutex;

use krepis_model::api::{Operation, Rejection};
use serde::{Deserialize, Serialize};

/// Who took a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    /// A controller instance (index into the scenario's controllers).
    Controller(usize),
    /// The client, performing one of the scenario's perturbations.
    Client,
    /// A controller instance restarted: its local state is lost.
    Restart(usize),
    /// A node restarted: its kubelet (this controller instance) lost its
    /// state, and the node object was deleted (the write).
    NodeRestart(usize),
}

/// One step of a real run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Position in the run's record (the order in which steps finished).
    pub seq: u64,
    /// Who took it.
    pub actor: Actor,
    /// The etcd revision it read (the client writes on the newest state).
    pub read: i64,
    /// Which of its choices the step made (`controllers::step_picking`): the
    /// scheduler's pick between equally loaded nodes under scheduler ties
    /// `any`, drawn at random; 0 for every other step.
    #[serde(default)]
    pub pick: u8,
    /// The write it asked for.
    pub wrote: Option<Operation>,
    /// The etcd revision of the state the write was decided on (the read,
    /// for a step without a write).
    pub decided_at: i64,
    /// The commit revision of an accepted write, or the rejection; `None`
    /// without a write.
    pub outcome: Option<Result<i64, Rejection>>,
}

/// The steps of a run, shared by its controllers.
#[derive(Debug, Default)]
pub struct Log {
    steps: Mutex<Vec<Step>>,
}

impl Log {
    /// Appends `step`, numbering it.
    pub fn push(&self, mut step: Step) -> Step {
        let mut steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        step.seq = steps.len() as u64;
        steps.push(step.clone());
        step
    }

    /// Every step so far.
    pub fn steps(&self) -> Vec<Step> {
        self.steps.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
