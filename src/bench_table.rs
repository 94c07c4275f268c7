//! `krepis bench-table`: the reference's published performance table
//! (Jeffery and Mortier, 2024: µs per state for four consistency models,
//! 60-second runs to depth 100), measured on this machine with krepis.

use std::process::ExitCode;

use clap::Args;
use krepis_engine::Strategy;

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

/// One row: states explored, unique states, and µs per explored state.
/// "Explored" counts as the reference (stateright) does: BFS counts every
/// successor generated, duplicates included; simulation counts the states
/// its walks visit, one per step (the reference computes only the successor
/// a walk takes, and so does krepis: the Kubernetes model offers
/// `Model::choices`, so simulation's `transitions` are its steps).
/// Also says what stopped the run: BFS on `cluster` fills the memory of a
/// small machine before 60 s (the process stops at 85% of RAM).
struct Row {
    explored: u64,
    unique: u64,
    us: f64,
    stopped: String,
}

fn row(transitions: u64, unique_states: u64, elapsed_s: f64, stopped: String) -> Row {
    let explored = transitions.max(unique_states);
    Row { explored, unique: unique_states, us: elapsed_s * 1e6 / explored.max(1) as f64, stopped }
}

/// Runs one row's check in a process of its own (`krepis check ... --format
/// json`), as the reference's runs were: a simulation run after a BFS run
/// in the same process ran 30-40% slower (the allocator keeps the BFS run's
/// many gigabytes of pages), which measured the order of the rows, not the
/// checker.
fn measure(
    exe: &std::path::Path,
    args: &BenchArgs,
    consistency: &str,
    strategy: Strategy,
    threads: usize,
) -> Result<Row, String> {
    let mut cmd: Vec<String> = vec![args.scenario.clone()];
    let mut push = |xs: &[&str]| cmd.extend(xs.iter().map(|x| x.to_string()));
    push(&["--consistency", consistency, "--strategy", strategy.as_str(), "--keep-going"]);
    push(&["--max-depth", &args.depth.to_string(), "--time-limit", &args.seconds.to_string()]);
    push(&["--threads", &threads.to_string()]);
    if strategy == Strategy::Simulation {
        push(&["--walks", "0"]);
    } else {
        // A run stopped by the time limit has no `eventually` pass: records
        // for it would only take memory (and the reference records nothing).
        push(&["--no-pass-records"]);
    }
    if let Some(m) = args.memory {
        push(&["--memory", &m.to_string()]);
    }
    let report = crate::child::check_report(exe, &cmd)?;
    let field = |k: &str| report.get(k).and_then(serde_json::Value::as_f64);
    // Saving a checkpoint (after a memory stop) is not checking.
    let saving = field("checkpoint_s").unwrap_or(0.0);
    let stop = report.get("stop_reason").and_then(serde_json::Value::as_str).unwrap_or("?");
    match (field("transitions"), field("unique_states"), field("elapsed_s")) {
        (Some(t), Some(u), Some(e)) => {
            let stopped =
                if stop == "time-limit" { stop.to_string() } else { format!("{stop} at {:.0} s", e - saving) };
            Ok(row(t as u64, u as u64, e - saving, stopped))
        }
        _ => Err("the check's report lacks transitions, unique_states or elapsed_s".to_string()),
    }
}

/// Runs the table and prints it (markdown) on stdout; progress on stderr.
pub fn run(args: &BenchArgs) -> ExitCode {
    let threads = crate::child::threads(args.threads);
    let mut out = format!(
        "scenario {}, depth {}, {} s per run, {threads} threads\n\n\
         states explored: bfs, successors generated (duplicates included); simulation, states visited\n\
         on walks (one per step); both as the reference counts\n\n\
         | consistency | strategy | states explored | unique states | µs/state | stopped by | reference µs/state |\n\
         |---|---|---|---|---|---|---|\n",
        args.scenario, args.depth, args.seconds
    );
    let exe = match crate::child::this_program() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for (consistency, reference) in REFERENCE {
        for strategy in [Strategy::Bfs, Strategy::Simulation] {
            eprintln!("{consistency} {strategy:?}: {} s ...", args.seconds);
            let Row { explored, unique, us, stopped } = match measure(&exe, args, consistency, strategy, threads) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {consistency} {strategy:?}: {e}");
                    return ExitCode::from(2);
                }
            };
            let name = strategy.as_str();
            out.push_str(&format!(
                "| {consistency} | {name} | {explored} | {unique} | {us:.3} | {stopped} | {reference:.3} |\n"
            ));
        }
    }
    print!("{out}");
    ExitCode::SUCCESS
}
