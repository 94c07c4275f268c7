//! `krepis scaling-table`: how a check's time falls as threads are added,
//! and whether it gives the same answer on every thread count.
//!
//! Runs one `krepis check` (by default the scaling scenario,
//! stale-reads under causal consistency to depth 7 with every property
//! decided) with each thread count in turn, each in a process of its own,
//! several rounds alternated (this VM's speed drifts from minute to minute:
//! alternating spreads the drift over every count), and prints per thread
//! count the fastest search, `eventually` pass and total, their speed-ups
//! over the first count, and whether the run found what the first count's
//! first run found (unique states, transitions, the pass's states, every
//! verdict). Exit 1 if some run's answer differs.

use std::process::ExitCode;

use clap::Args;

/// The check run when none is given.
const DEFAULT_CHECK: [&str; 6] = ["stale-reads", "--consistency", "causal", "--max-depth", "7", "--keep-going"];

/// Flags the table sets itself.
const SET_HERE: [&str; 4] = ["--threads", "--format", "--trace-out", "--save-trace"];

/// Stop reasons that cut a run at a point that depends on timing: such
/// runs' answers are not compared.
const TIMED: [&str; 4] = ["time-limit", "max-states", "memory-limit", "interrupted"];

/// Options of `krepis scaling-table`.
#[derive(Args, Clone, Debug)]
pub struct ScalingArgs {
    /// Thread counts, e.g. 1,2,4,8 [default: 1 and doubling below the
    /// cores, then the cores].
    #[arg(long, value_name = "N,N...", value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Vec<u64>,
    /// Runs per thread count, in rounds over every count (the table keeps
    /// each count's fastest).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
    /// The check to run: `krepis check` arguments after `--`, without
    /// --threads or --format [default: stale-reads --consistency causal
    /// --max-depth 7 --keep-going].
    #[arg(last = true, value_name = "CHECK ARGS")]
    pub check: Vec<String>,
}

/// The thread counts to run: `given`, or 1, 2, 4, ... below `cores`, then `cores`.
fn thread_counts(given: &[u64], cores: usize) -> Vec<usize> {
    if !given.is_empty() {
        return given.iter().map(|&n| usize::try_from(n).unwrap_or(1)).collect();
    }
    let mut counts: Vec<usize> =
        std::iter::successors(Some(1usize), |n| n.checked_mul(2)).take_while(|&n| n < cores).collect();
    counts.push(cores.max(1));
    counts
}

/// What one run found and how long it took.
struct Run {
    search_s: f64,
    pass_s: f64,
    total_s: f64,
    /// Unique states, transitions, pass states, stop reason and every
    /// verdict, as one comparable text.
    answer: String,
    /// The stop reason, if it depends on timing.
    timed: Option<String>,
    unique: u64,
}

fn measure(exe: &std::path::Path, check: &[String], threads: usize) -> Result<Run, String> {
    let mut args = check.to_vec();
    args.extend(["--threads".to_string(), threads.to_string(), "-q".to_string()]);
    let report = crate::child::check_report(exe, &args)?;
    let stop = report.get("stop_reason").and_then(serde_json::Value::as_str).unwrap_or("?").to_string();
    // A memory stop is a row of its own (not compared); any other error ends the table.
    match report.get("error").and_then(serde_json::Value::as_str) {
        Some(e) if stop != "memory-limit" => return Err(format!("the check stopped on an error: {e}")),
        _ => {}
    }
    let number = |k: &str| report.get(k).and_then(serde_json::Value::as_f64);
    let (Some(total), Some(unique)) = (number("elapsed_s"), number("unique_states")) else {
        return Err("the check's report lacks elapsed_s or unique_states".to_string());
    };
    let pass_s = number("liveness_s").unwrap_or(0.0);
    // Writing and loading checkpoints is not checking.
    let total_s = total - number("checkpoint_s").unwrap_or(0.0) - number("resume_s").unwrap_or(0.0);
    let verdicts: Vec<String> = report
        .get("properties")
        .and_then(serde_json::Value::as_array)
        .map(|ps| ps.iter().map(|p| format!("{} {}", p["name"], p["status"])).collect())
        .unwrap_or_default();
    let answer = format!(
        "unique states {}, transitions {}, pass states {}, stopped by {stop}, verdicts {}",
        unique,
        number("transitions").unwrap_or(0.0),
        number("liveness_states").unwrap_or(0.0),
        verdicts.join(", ")
    );
    let timed = TIMED.contains(&stop.as_str()).then_some(stop);
    Ok(Run { search_s: total_s - pass_s, pass_s, total_s, answer, timed, unique: unique as u64 })
}

/// Runs the table and prints it (markdown) on stdout; progress on stderr.
pub fn run(args: &ScalingArgs) -> ExitCode {
    if let Some(flag) = args.check.iter().find(|a| SET_HERE.iter().any(|f| a.split('=').next() == Some(*f))) {
        eprintln!("error: leave {flag} out of the check's arguments: the table sets it");
        return ExitCode::from(2);
    }
    let check: Vec<String> =
        if args.check.is_empty() { DEFAULT_CHECK.iter().map(|s| s.to_string()).collect() } else { args.check.clone() };
    let counts = thread_counts(&args.threads, crate::child::threads(None));
    let exe = match crate::child::this_program() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // runs[k]: every run with counts[k] threads, in order.
    let mut runs: Vec<Vec<Run>> = counts.iter().map(|_| Vec::new()).collect();
    for round in 1..=args.runs {
        for (k, &threads) in counts.iter().enumerate() {
            let s = if threads == 1 { "" } else { "s" };
            eprintln!("round {round} of {}: {threads} thread{s} ...", args.runs);
            match measure(&exe, &check, threads) {
                Ok(r) => runs[k].push(r),
                Err(e) => {
                    eprintln!("error: the run with {threads} thread{s}: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let (table, same) = table(&check, &counts, &runs);
    print!("{table}");
    if same {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The table of `runs` (per thread count of `counts`) and whether every
/// run's answer is the first run's (runs cut by timing are not compared).
fn table(check: &[String], counts: &[usize], runs: &[Vec<Run>]) -> (String, bool) {
    let fastest = |rs: &[Run], f: fn(&Run) -> f64| rs.iter().map(f).fold(f64::INFINITY, f64::min);
    let firsts = runs.first().map(Vec::as_slice).unwrap_or_default();
    let base = [fastest(firsts, |r| r.search_s), fastest(firsts, |r| r.pass_s), fastest(firsts, |r| r.total_s)];
    let reference = firsts.first();
    let per = runs.first().map_or(0, Vec::len);
    let mut out = format!(
        "krepis check {}\n{per} run{} per thread count, alternated; times are each count's fastest (seconds); \
         speed-ups against {} thread{}\n\n\
         | threads | search | eventually pass | total | search speed-up | pass speed-up | total speed-up | unique states | same answer |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        check.join(" "),
        if per == 1 { "" } else { "s" },
        counts.first().copied().unwrap_or(1),
        if counts.first() == Some(&1) { "" } else { "s" },
    );
    let mut same = true;
    for (&threads, rs) in counts.iter().zip(runs) {
        let t = [fastest(rs, |r| r.search_s), fastest(rs, |r| r.pass_s), fastest(rs, |r| r.total_s)];
        let speedup =
            |i: usize| if t[i] > 0.0 && base[i] > 0.0 { format!("{:.2}x", base[i] / t[i]) } else { "-".into() };
        let verdict = match (reference, rs.iter().find_map(|r| r.timed.as_deref())) {
            (_, Some(stop)) => format!("not compared (stopped by {stop})"),
            (Some(first), None) if first.timed.is_some() => "not compared".to_string(),
            (Some(first), None) => match rs.iter().find(|r| r.answer != first.answer) {
                None => "yes".to_string(),
                Some(r) => {
                    same = false;
                    format!("NO: {} against {}", r.answer, first.answer)
                }
            },
            (None, None) => "-".to_string(),
        };
        out.push_str(&format!(
            "| {threads} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} | {verdict} |\n",
            t[0],
            t[1],
            t[2],
            speedup(0),
            speedup(1),
            speedup(2),
            rs.first().map_or(0, |r| r.unique),
        ));
    }
    (out, same)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_double_up_to_the_cores() {
        assert_eq!(thread_counts(&[], 1), [1]);
        assert_eq!(thread_counts(&[], 2), [1, 2]);
        assert_eq!(thread_counts(&[], 6), [1, 2, 4, 6]);
        assert_eq!(thread_counts(&[], 64), [1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(thread_counts(&[3, 1], 64), [3, 1]);
    }

    fn run(total_s: f64, pass_s: f64, answer: &str, timed: Option<&str>) -> Run {
        let answer = answer.to_string();
        Run { search_s: total_s - pass_s, pass_s, total_s, answer, timed: timed.map(str::to_string), unique: 7 }
    }

    #[test]
    fn the_table_keeps_each_counts_fastest_and_compares_every_answer() {
        let check = vec!["stale-reads".to_string()];
        let runs = vec![vec![run(4.0, 3.0, "a", None), run(3.0, 2.0, "a", None)], vec![run(2.0, 1.0, "a", None)]];
        let (out, same) = table(&check, &[1, 2], &runs);
        assert!(same, "{out}");
        assert!(out.contains("| 1 | 1.000 | 2.000 | 3.000 | 1.00x | 1.00x | 1.00x | 7 | yes |"), "{out}");
        assert!(out.contains("| 2 | 1.000 | 1.000 | 2.000 | 1.00x | 2.00x | 1.50x | 7 | yes |"), "{out}");
        let runs = vec![vec![run(4.0, 3.0, "a", None)], vec![run(2.0, 1.0, "a", None), run(2.0, 1.0, "b", None)]];
        let (out, same) = table(&check, &[1, 2], &runs);
        assert!(!same && out.contains("NO: b against a"), "{out}");
        let runs = vec![vec![run(4.0, 0.0, "a", None)], vec![run(2.0, 0.0, "b", Some("time-limit"))]];
        let (out, same) = table(&check, &[1, 2], &runs);
        assert!(same && out.contains("not compared (stopped by time-limit)") && out.contains("| - |"), "{out}");
    }
}
