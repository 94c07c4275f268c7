//! The model crate's integration tests, in one test binary: each file is a
//! module (`cargo test -p krepis-model --test all agree::` runs one). One
//! binary compiles the engine's generic checkers for the Kubernetes model
//! once, where a binary per file compiled them once per file (at the test
//! profile's opt-level 3, most of the suite's build time).
//! `allocations.rs` stays a binary of its own: its counting global
//! allocator would count the other tests' allocations too.

mod common;
mod reach;

mod agree;
mod choices;
mod encoding;
mod renumbering;
mod stale_reads;
mod symmetry;
mod written;
