//! The `krepis` command line: a thin layer that parses arguments, builds a
//! model, calls the engine and prints. See DESIGN.md section 3.
//!
//! `krepis check` runs the stale-reads scenario under causal consistency by
//! default; `krepis scenarios` lists the others (and the engine's examples).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use krepis_engine::cli::{self, CheckArgs};

#[cfg(not(feature = "system-allocator"))]
mod allocator;
mod bench_table;
mod child;
mod run;
mod scaling_table;
mod scenarios;
mod symmetry_table;

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOC: allocator::Mimalloc = allocator::Mimalloc;

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

// Parsed once per run: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
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
    /// Measure the reference's published table (µs per state per consistency model).
    ///
    /// For synchronous, monotonic session, resettable session and causal:
    /// BFS and simulation runs of a fixed time to depth 100, with states
    /// explored and µs per state next to the reference's figures.
    BenchTable(bench_table::BenchArgs),
    /// Measure symmetry reduction: unique states with and without it, and whether the verdicts agree.
    ///
    /// Each row checks a scenario under a consistency model to a depth bound
    /// twice (--no-symmetry, --symmetry, with --keep-going) with N instances
    /// of every controller kind the scenario uses, and prints both unique-state
    /// counts, their ratio and whether every property got the same verdict.
    /// Exit 1 if some row's verdicts differ.
    SymmetryTable(symmetry_table::SymmetryArgs),
    /// Measure how a check scales with threads, and that every thread count gives the same answer.
    ///
    /// Runs one check (krepis check arguments after --; by default
    /// stale-reads under causal consistency to depth 7, every property
    /// decided) with each thread count, each run a process of its own,
    /// rounds alternated, and prints each count's fastest search, eventually
    /// pass and total with their speed-ups, and whether its runs found what
    /// the first run found (unique states, transitions, the pass's states,
    /// every verdict). Exit 1 if some answer differs. Example:
    /// krepis scaling-table --threads 1,2,4 -- cluster --consistency synchronous --max-depth 5 --keep-going
    ScalingTable(scaling_table::ScalingArgs),
    /// Replay a trace file written by `check --save-trace FILE`, step by step.
    ///
    /// Rebuilds the model from the arguments stored in the file and replays
    /// every trace. Exit 2 if the file is bad or the model no longer does
    /// what the file recorded (the message names the first step that differs).
    Replay {
        /// The trace file.
        file: std::path::PathBuf,
    },
    /// Run a scenario's controllers for real against etcd, then replay the
    /// run through the model.
    ///
    /// Loads the scenario's objects into etcd, runs every controller
    /// instance (kubelets as simulated nodes) on the same `step` functions
    /// the checker explores, prints each action, and stops once they have
    /// converged (or after --for). The recorded run is then replayed through
    /// the checker's transitions (every step must be one the model allows)
    /// and the scenario's invariants are checked on every state it went
    /// through. Needs a build with `--features etcd`. Exit status: 0 all
    /// good, 1 the run left the model or broke an invariant, 2 bad input or
    /// etcd unreachable (within a few seconds).
    Run(run::RunArgs),
}

/// The `check` arguments stored in a trace file, without the output flags,
/// with `--replay FILE` added.
fn replay_args(stored: &[String], file: &std::path::Path) -> Result<Vec<std::ffi::OsString>, String> {
    if stored.first().map(String::as_str) != Some("check") {
        return Err(format!("{}: not written by `krepis check` (arguments {stored:?})", file.display()));
    }
    let mut out: Vec<std::ffi::OsString> = vec!["krepis".into()];
    let mut skip_value = false;
    for a in stored {
        if skip_value {
            skip_value = false;
            continue;
        }
        let flag = a.split('=').next().unwrap_or("");
        if ["--save-trace", "--trace-out", "--replay", "--format"].contains(&flag) {
            skip_value = !a.contains('=');
            continue;
        }
        out.push(a.into());
    }
    out.push("--replay".into());
    out.push(file.into());
    Ok(out)
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
        Command::BenchTable(args) => bench_table::run(&args),
        Command::SymmetryTable(args) => symmetry_table::run(&args),
        Command::ScalingTable(args) => scaling_table::run(&args),
        Command::Run(args) => run::main(&args),
        Command::Replay { file } => {
            let stored = match krepis_engine::trace_file::TraceFile::load(&file) {
                Ok(f) => f.args,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let args = match replay_args(&stored, &file) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let Command::Check { scenario, kube, check } = cli::parse_from_or_exit::<Cli, _, _>(args).command else {
                eprintln!("error: {}: not a check command", file.display());
                return ExitCode::from(2);
            };
            match scenarios::run(&scenario, &kube, &check) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
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
