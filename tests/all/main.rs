//! krepis's integration tests, in one test binary: each file is a module
//! (`cargo test --test all verdicts::` runs one). One binary compiles the
//! checkers for the Kubernetes model once and links once, where a binary
//! per file did both once per file.

#[path = "../../engine/tests/common/temp.rs"]
mod temp;

mod checkpoint;
mod cli;
mod deployments;
mod jobs;
mod replicasets;
mod run;
mod statefulsets;
mod verdict_table;
mod verdicts;
