//! Example models shipped with the engine: small, classic systems whose
//! state counts are known, used by the tests, the benches and the examples
//! (`cargo run -p krepis-engine --release --example puzzle8`).

mod philosophers;
mod puzzle;
mod two_phase_commit;

pub use philosophers::{Phase, Philosophers};
pub use puzzle::{Move, PuzzleState, SlidingPuzzle};
pub use two_phase_commit::{RmState, TmState, TpcAction, TpcState, TwoPhaseCommit};
