//! Two-phase commit with N resource managers (288 states for N = 3, 8,832
//! for N = 5). `cargo run -p krepis-engine --release --example two_phase_commit -- 5`
use std::process::ExitCode;

use clap::Parser;
use krepis_engine::cli::{self, CheckArgs};
use krepis_engine::models::TwoPhaseCommit;

/// Check two-phase commit: no resource manager commits while another aborts.
#[derive(Parser)]
struct Args {
    /// Number of resource managers (1 to 31).
    #[arg(default_value = "3", value_parser = clap::value_parser!(u8).range(1..=31))]
    rms: u8,
    #[command(flatten)]
    check: CheckArgs,
}

fn main() -> ExitCode {
    let args: Args = cli::parse_or_exit();
    cli::run(&TwoPhaseCommit::new(args.rms.into()), &args.check, Default::default())
}
