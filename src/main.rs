//! The `krepis` command line: a thin layer that parses arguments, builds a
//! model, calls the engine and prints. See DESIGN.md section 3.
//!
//! `krepis check` runs the stale-reads scenario under causal consistency by
//! default; `krepis scenarios` lists the others (and the engine's examples).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use krepis_engine::cli::{self, CheckArgs};

mod scenarios;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Krepis: a fast explicit-state model checker for the Kubernetes control plane.
///
/// Exit status: 0 every property holds within the bounds checked, 1 a property
/// was violated, 2 bad input, 3 the run stopped on a resource error (memory).
#[derive(Parser)]
#[command(name = "krepis", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a scenario exhaustively (bfs, dfs) or by random walks (simulation).
    Check {
        /// A built-in scenario (see `krepis scenarios`) or a YAML scenario
        /// file ending in .yaml (format: krepis-model's `scenario_file`).
        #[arg(default_value = scenarios::DEFAULT)]
        scenario: String,
        #[command(flatten)]
        kube: scenarios::KubeArgs,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// List the built-in scenarios, one line each.
    Scenarios,
}

fn main() -> ExitCode {
    let cli: Cli = cli::parse_or_exit();
    match cli.command {
        Command::Scenarios => {
            for s in scenarios::ALL {
                println!("{:<22} {}", s.name, s.about);
            }
            ExitCode::SUCCESS
        }
        Command::Check { scenario, kube, check } => match scenarios::run(&scenario, &kube, &check) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}
