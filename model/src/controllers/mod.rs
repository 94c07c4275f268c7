//! Controllers: pure functions of (local state, view) returning at most one
//! write. [`step_picking`] is the one entry point, used by the checker (every
//! pick the model offers) and by the real runtime (the pick it draws) alike;
//! [`step`] is its pick 0, the spec's rule.

pub mod deployment;
pub mod hash;
pub mod job;
pub mod kubelet;
pub mod podgc;
pub mod replicaset;
pub mod scheduler;
pub mod statefulset;
pub(crate) mod testing;

use std::fmt;

use crate::api::Operation;
use crate::meta::Name;
use crate::revision::Revision;
use crate::store::Store;

/// References to the few objects a step looks at (a set's pods, a
/// Deployment's ReplicaSets), held inline up to eight: no heap allocation
/// per step at the sizes scenarios have. Slices and `Vec`s read the same.
pub type Refs<'a, T> = smallvec::SmallVec<[&'a T; 8]>;

/// What a controller reads: the objects of one state and that state's read point.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// Where in the history the state is.
    pub revision: &'a Revision,
    /// The objects.
    pub store: &'a Store,
}

/// A controller instance's kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Controller {
    /// The kubelet of one node.
    Kubelet {
        /// The node's name.
        node: Name,
    },
    /// The scheduler.
    Scheduler,
    /// The StatefulSet controller.
    StatefulSet,
    /// The ReplicaSet controller.
    ReplicaSet,
    /// The pod garbage collector.
    PodGc,
    /// The Deployment controller.
    Deployment,
    /// The Job controller.
    Job,
}

impl Controller {
    /// The kind's name as scenario files and the CLI spell it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Controller::Kubelet { .. } => "kubelet",
            Controller::Scheduler => "scheduler",
            Controller::StatefulSet => "statefulset-controller",
            Controller::ReplicaSet => "replicaset-controller",
            Controller::PodGc => "podgc",
            Controller::Deployment => "deployment-controller",
            Controller::Job => "job-controller",
        }
    }
}

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Controller::Kubelet { node } => write!(f, "kubelet({node})"),
            other => f.write_str(other.kind_name()),
        }
    }
}

/// The pods a kubelet runs, by name, sorted; two are held inline (no heap
/// allocation when a state is cloned).
pub type Running = krepis_encodings::InlineVec<Name, 2>;

/// A controller instance's local state. Lost on restart. Ordered (any fixed
/// order) so that interchangeable instances can be sorted by it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Local {
    /// The read point of its last read; `None` until it reads (again).
    pub session: Option<Revision>,
    /// Kubelets: the pods it runs, by name (sorted). Empty for others.
    pub running: Running,
}

/// Runs one step of `controller` on `view`: updates `local` (the session, and
/// whatever the controller keeps) and returns the write it asks for, if any.
/// Local changes stand whether or not the write is later accepted.
pub fn step(controller: &Controller, local: &mut Local, view: &View<'_>) -> Option<Operation> {
    step_picking(controller, local, view, 0)
}

/// [`step`], making the `pick`-th of the choices the controller has where
/// Kubernetes leaves it free: the scheduler's among equally loaded nodes
/// (the `pick`-th in name order, modulo how many are tied; see
/// [`scheduler`]). Other controllers have one choice and ignore `pick`.
/// Pick 0 is [`step`].
pub fn step_picking(controller: &Controller, local: &mut Local, view: &View<'_>, pick: usize) -> Option<Operation> {
    local.session = Some(view.revision.clone());
    match controller {
        Controller::Kubelet { node } => kubelet::step(node, &mut local.running, view),
        Controller::Scheduler => scheduler::step(view, pick),
        Controller::StatefulSet => statefulset::step(view),
        Controller::ReplicaSet => replicaset::step(view),
        Controller::PodGc => podgc::step(view),
        Controller::Deployment => deployment::step(view),
        Controller::Job => job::step(view),
    }
}
