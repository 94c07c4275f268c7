//! The 8-puzzle from the solved position: 181,440 positions, the farthest
//! 31 moves away. `cargo run -p krepis-engine --release --example puzzle8 -- --help`
use std::process::ExitCode;

use clap::Parser;
use krepis_engine::cli::{self, CheckArgs};
use krepis_engine::models::SlidingPuzzle;

/// Explore the 8-puzzle exhaustively and find the shortest path to one of the
/// two positions farthest (31 moves) from the solved one.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    check: CheckArgs,
}

fn main() -> ExitCode {
    let args: Args = cli::parse_or_exit();
    cli::run(&SlidingPuzzle::puzzle8(), &args.check, Default::default())
}
