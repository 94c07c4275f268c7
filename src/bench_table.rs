//! `krepis bench-table`: the reference's published performance table
//! (Jeffery and Mortier, 2024: µs per state for four consistency models,
//! 60-second runs to depth 100), measured on this machine with krepis.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use krepis_engine::{Options, Report, Strategy};
use krepis_model::Scenario;

/// The reference's figures: µs per state, 60 s runs to depth 100, from a
/// larger machine than CI's (its paper's table).
const REFERENCE: [(&str, f64); 4] =
    [("synchronous", 2.464), ("monotonic-session", 2.561), ("resettable-session", 2.600), ("causal", 6.040)];

/// Options of `krepis bench-table`.
#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Seconds per run (the reference ran 60).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Depth bound of every run.
    #[arg(long, value_name = "D", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub depth: u64,
    /// Checker threads [default: all cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// The scenario (default: the reference CLI's composed model).
    #[arg(long, value_name = "NAME", default_value = "cluster", value_parser = ["cluster", "stale-reads"])]
    pub scenario: String,
    /// Visited-set budget per run, e.g. 4GiB [default: half of RAM].
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,
}

fn parse_memory(s: &str) -> Result<u64, String> {
    parse_size::parse_size(s).map_err(|e| format!("'{s}': {e} (e.g. 4GiB)"))
}

fn scenario(name: &str, consistency: &str) -> Scenario {
    match name {
        "stale-reads" => Scenario::stale_reads(consistency, 1),
        _ => Scenario::cluster(consistency),
    }
}

/// One row: states explored, unique states, and µs per explored state.
/// "Explored" counts as the reference (stateright) does: BFS counts every
/// successor generated, duplicates included; simulation counts the states
/// its walks visit, one per step (the reference computes only the successor
/// a walk takes, and so does krepis: the Kubernetes model offers
/// `Model::choices`, so simulation's `transitions` are its steps).
fn row(r: &Report) -> (u64, u64, f64) {
    let explored = r.transitions.max(r.unique_states);
    (explored, r.unique_states, r.elapsed_s * 1e6 / explored.max(1) as f64)
}

/// Runs the table and prints it (markdown) on stdout; progress on stderr.
pub fn run(args: &BenchArgs) -> ExitCode {
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| usize::try_from(n).unwrap_or(1),
    );
    let mut out = format!(
        "scenario {}, depth {}, {} s per run, {threads} threads\n\n\
         states explored: bfs, successors generated (duplicates included); simulation, states visited\n\
         on walks (one per step); both as the reference counts\n\n\
         | consistency | strategy | states explored | unique states | µs/state | reference µs/state |\n\
         |---|---|---|---|---|---|\n",
        args.scenario, args.depth, args.seconds
    );
    for (consistency, reference) in REFERENCE {
        for strategy in [Strategy::Bfs, Strategy::Simulation] {
            let mut opts = Options::default()
                .threads(threads)
                .strategy(strategy)
                .max_depth(args.depth)
                .time_limit(Duration::from_secs(args.seconds))
                .keep_going(true);
            if strategy == Strategy::Simulation {
                opts = opts.walks(0);
            }
            if let Some(m) = args.memory {
                opts = opts.memory(m);
            }
            eprintln!("{consistency} {strategy:?}: {} s ...", args.seconds);
            let report = match krepis_model::check_scenario(scenario(&args.scenario, consistency), &opts) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let (explored, unique, us) = row(&report);
            let name = if strategy == Strategy::Bfs { "bfs" } else { "simulation" };
            out.push_str(&format!("| {consistency} | {name} | {explored} | {unique} | {us:.3} | {reference:.3} |\n"));
        }
    }
    print!("{out}");
    ExitCode::SUCCESS
}
