//! Runs the controllers krepis checks, for real, against etcd.
//!
//! `krepis run` loads a scenario's objects into etcd and runs each controller
//! instance as a loop over the very function the checker explores
//! ([`krepis_model::controllers::step`]); its writes go through the model's
//! own API server ([`krepis_model::api::apply`]) and land in etcd as
//! transactions that compare mod revisions. Kubelets are simulated nodes: a
//! pod "runs" when its kubelet records it, so a whole scenario runs on one
//! machine. At the end the recorded run is replayed through the checker's
//! transition relation ([`validate`]) and the scenario's invariants are
//! checked on every state the run went through.
//!
//! # What is and is not faithful
//! - Writes are linearizable and decided on the newest state, as the model's
//!   API server decides them; reads are linearizable when taken, and go stale
//!   while the controller computes. Such runs are runs of the model under
//!   resettable session (a controller's first read may be any state, later
//!   reads only newer ones), which is what [`validate`] checks them against.
//! - Every write also bumps a guard key, so etcd's revisions are exactly the
//!   model's write numbers (shifted by the revision at which the run started):
//!   an etcd written by anyone else during a run is refused, not misread.
//! - Scenarios that settle (`settle: true`) start from their objects as
//!   written, not from the settled state: the controllers settle them for real.
//! - Client perturbations and restarts happen at given times, each as the
//!   checker's environment would perform it (the first client write the
//!   scenario offers; a controller's local state lost; a node object deleted
//!   and its kubelet's state lost), within the scenario's budgets.
//! - Kubelets run no containers, and nothing in the run has a clock: as in
//!   the model, a pod is Ready as soon as its kubelet says so.

pub mod etcd_process;
pub mod etcd_store;
pub mod keys;
pub mod record;
pub mod runner;
pub mod validate;

pub use etcd_store::{EtcdStore, RuntimeError};
pub use runner::{run, Restart, RunOptions, RunResult};
