//! # krepis-engine
//!
//! A fast explicit-state model checker that knows nothing of Kubernetes.
//!
//! Implement [`Model`] for a system (initial states, successors into a reused
//! buffer, named [`Property`]s, optionally a symmetry [`Model::canonicalize`]),
//! then call [`check`] with [`Options`]:
//!
//! ```
//! use krepis_engine::{check, models::TwoPhaseCommit, Options, Status};
//! let result = check(&TwoPhaseCommit::new(3), &Options::default().threads(2).symmetry(false));
//! assert_eq!(result.report.unique_states, 288);
//! assert_eq!(result.report.status("consistent"), Some(Status::Holds));
//! ```
//!
//! Strategies: parallel level-synchronous BFS ([`bfs`](Strategy::Bfs), shortest
//! traces, results independent of the thread count), depth-bounded DFS, and
//! reproducible random walks ([`Strategy::Simulation`]). The visited set keeps
//! 64-bit xxh3 fingerprints only (8 bytes per slot, at most 16 per state), in a
//! lock-free table, and BFS's parent links go to a file on disk
//! ([`parent_log`]); [`check_reference`] is the slow, obvious checker (full
//! states in a hash map) that every optimisation is tested against.
//!
//! ## Where it is unsound or incomplete
//! - Fingerprints can collide: two distinct states with the same 64-bit
//!   fingerprint count as one, which may hide states. The report gives the
//!   birthday bound (about n²/2⁶⁵ for n states). A trace that cannot be rebuilt
//!   because of a collision is reported as an error, never as a wrong trace.
//! - Symmetry reduction is sound only if [`Model::canonicalize`] maps each
//!   state to a representative of its orbit, the permutations are
//!   automorphisms that fix the set of initial states, and every property is
//!   invariant under them; the engine cannot check this. For `eventually`
//!   properties of a model whose symmetry permutes its fairness groups, the
//!   renamings [`Model::canonicalize_groups`] reports must be right too: a
//!   wrong one can hide a fair cycle (a wrong `holds`, undetected) or show
//!   one the states do not have (detected: the lasso search on unreduced
//!   states finds none, and the report names the problem).
//! - With a depth bound, verdicts hold for the states within the bound; the
//!   `eventually` semantics under a bound are stated in the `eventually` module
//!   docs (a cycle among ¬P states within the bound is a counterexample).
//! - Simulation explores a sample: it never reports `holds`, only `violated`,
//!   `found` or `unknown`.

mod bfs;
mod checker;
pub mod checkpoint;
#[cfg(test)]
mod counting;
mod dfs;
mod eventually;
pub mod fingerprint;
mod group_map;
pub mod memory;
mod model;
pub mod models;
mod options;
pub mod parent_log;
mod progress;
mod property;
mod reference;
mod report;
mod search;
mod simulation;
mod slots;
mod stack_bytes;
mod sync;
mod trace;
pub mod trace_file;
pub mod visited;

#[cfg(feature = "cli")]
pub mod cli;

pub use checker::{check, CheckResult};
pub use checkpoint::{Checkpoint, CheckpointTo};
pub use fingerprint::Fingerprint;
pub use group_map::GroupMap;
pub use model::{Choice, ChoiceRun, Drawn, Model};
pub use options::{Options, ProgressFn, Strategy};
pub use progress::Progress;
pub use property::{select as select_properties, Kind, Property};
pub use reference::check_reference;
pub use report::{PropertyReport, Report, Status, StopReason, TraceStep};
pub use trace::Trace;
