//! Dining philosophers with ordered forks: no deadlock, but starvation, shown
//! as a lasso trace. `cargo run -p krepis-engine --release --example philosophers -- 4`
use std::process::ExitCode;

use clap::Parser;
use krepis_engine::cli::{self, CheckArgs};
use krepis_engine::models::Philosophers;

/// Check the dining philosophers: `philosopher-0-eats` fails with a cycle in
/// which philosopher 0 never eats.
#[derive(Parser)]
struct Args {
    /// Number of philosophers (2 to 16).
    #[arg(default_value = "3", value_parser = clap::value_parser!(u8).range(2..=16))]
    philosophers: u8,
    #[command(flatten)]
    check: CheckArgs,
}

fn main() -> ExitCode {
    let args: Args = cli::parse_or_exit();
    cli::run(&Philosophers::new(args.philosophers.into()), &args.check, Default::default())
}
