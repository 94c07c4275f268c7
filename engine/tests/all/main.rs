//! The engine's integration tests, in one test binary: each file is a
//! module (`cargo test -p krepis-engine --test all simulation::` runs one).
//! One binary compiles the generic checkers for each test model once, and
//! links once. `limits.rs` stays a binary of its own: it stops runs at a
//! resident-memory limit measured from the process's own size, which other
//! tests running beside it in one process would change.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/temp.rs"]
mod temp;

mod checkpoint;
mod eventually_random;
mod eventually_symmetry;
mod examples_agree;
mod keep;
mod simulation;
