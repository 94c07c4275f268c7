//! `krepis symmetry-table`: what symmetry reduction buys and whether it
//! keeps the verdicts. Each row checks one scenario under one consistency
//! model to a depth bound twice, with `--no-symmetry` and `--symmetry`,
//! with N instances of every controller kind the scenario uses (symmetry
//! permutes interchangeable instances of one kind: with one of each there is
//! nothing to reduce, unless `--scheduler-ties any` makes the nodes
//! interchangeable too), and prints the unique states of both runs, their
//! ratio, the states the `eventually` pass explored in each (on orbits with
//! symmetry, since it follows instances' fairness through the permutations)
//! and whether every property got the same verdict.

use std::process::ExitCode;

use clap::Args;

/// The rows run when none is given: the scenarios and depths of the README's
/// figures (each a few seconds on two cores). Synchronous rows go to depth
/// 12: since synchronous states forget old sessions, depth 6 holds a few
/// thousand states.
const DEFAULT_ROWS: [(&str, &str, u64); 6] = [
    ("replicaset-scale", "synchronous", 12),
    ("replicaset-scale", "resettable-session", 5),
    ("stale-reads", "causal", 5),
    ("stale-reads", "monotonic-session", 6),
    ("deployment-rollout", "synchronous", 12),
    ("job-parallel", "synchronous", 12),
];

/// Options of `krepis symmetry-table`.
#[derive(Args, Clone, Debug)]
pub struct SymmetryArgs {
    /// A row: SCENARIO,CONSISTENCY,DEPTH (repeatable) [default: six rows
    /// over replicaset-scale, stale-reads, deployment-rollout and job-parallel].
    #[arg(long = "row", value_name = "SCENARIO,CONSISTENCY,DEPTH", value_parser = parse_row)]
    pub rows: Vec<Row>,
    /// Instances of each controller kind the scenario uses.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub instances: u8,
    /// Checker threads per run [default: all cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// How schedulers choose between equally loaded nodes in every run
    /// (`krepis check --scheduler-ties`): with `any`, nodes (with their
    /// kubelets) are interchangeable too, and symmetry permutes them.
    #[arg(long, value_name = "TIES", default_value = "name", value_parser = clap::builder::PossibleValuesParser::new(krepis_model::scenario::SchedulerTies::NAMES))]
    pub scheduler_ties: String,
    /// Nodes of every row's scenario (`krepis check --nodes`) [default: each
    /// scenario's].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=8))]
    pub nodes: Option<u8>,
}

/// One row of the table: a scenario, a consistency model, a depth bound.
#[derive(Clone, Debug)]
pub struct Row {
    scenario: String,
    consistency: String,
    depth: u64,
}

fn parse_row(s: &str) -> Result<Row, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [scenario, consistency, depth] = parts[..] else {
        return Err(format!("'{s}': expected SCENARIO,CONSISTENCY,DEPTH, e.g. stale-reads,causal,5"));
    };
    if !krepis_model::consistency::NAMES.contains(&consistency) {
        return Err(format!(
            "'{consistency}' is not a consistency model (one of: {})",
            krepis_model::consistency::NAMES.join(", ")
        ));
    }
    let depth = match depth.parse::<u64>() {
        Ok(d) if d >= 1 => d,
        _ => return Err(format!("'{depth}': the depth is a whole number from 1")),
    };
    Ok(Row { scenario: scenario.to_string(), consistency: consistency.to_string(), depth })
}

/// The controller-count flags that give `instances` instances of every
/// kind `scenario` uses; an error if it is not a Kubernetes scenario.
fn instance_flags(scenario: &str, instances: u8) -> Result<Vec<String>, String> {
    let s = crate::scenarios::kube_scenario(scenario, &crate::scenarios::KubeArgs::default())?;
    let kinds = [
        ("--schedulers", s.schedulers),
        ("--replicaset-controllers", s.replicaset_controllers),
        ("--statefulset-controllers", s.statefulset_controllers),
        ("--deployment-controllers", s.deployment_controllers),
        ("--job-controllers", s.job_controllers),
        ("--podgc-controllers", s.podgc_controllers),
    ];
    Ok(kinds.iter().filter(|(_, n)| *n > 0).flat_map(|(flag, _)| [flag.to_string(), instances.to_string()]).collect())
}

/// What one run found: unique states, states of the `eventually` pass,
/// whether it completed, and each property's verdict.
struct Outcome {
    unique: u64,
    pass: u64,
    complete: bool,
    verdicts: Vec<(String, String)>,
}

fn outcome(report: &serde_json::Value) -> Result<Outcome, String> {
    let unique = report.get("unique_states").and_then(serde_json::Value::as_u64);
    let props = report.get("properties").and_then(serde_json::Value::as_array);
    let (Some(unique), Some(props)) = (unique, props) else {
        return Err("the check's report lacks unique_states or properties".to_string());
    };
    let text = |p: &serde_json::Value, k: &str| p.get(k).and_then(serde_json::Value::as_str).unwrap_or("?").to_string();
    Ok(Outcome {
        unique,
        pass: report.get("liveness_states").and_then(serde_json::Value::as_u64).unwrap_or(0),
        // Exhausted, or stopped only by the depth bound: every state
        // within it was seen.
        complete: report
            .get("stop_reason")
            .and_then(serde_json::Value::as_str)
            .is_none_or(|r| r == "max-depth" || r == "exhausted"),
        verdicts: props.iter().map(|p| (text(p, "name"), text(p, "status"))).collect(),
    })
}

/// The verdicts that differ between two runs, as `name: a / b`.
fn differences(a: &Outcome, b: &Outcome) -> Vec<String> {
    let mut out: Vec<String> = a
        .verdicts
        .iter()
        .zip(&b.verdicts)
        .filter(|(x, y)| x != y)
        .map(|((n, s), (_, t))| format!("{n}: {s} / {t}"))
        .collect();
    if a.verdicts.len() != b.verdicts.len() {
        out.push(format!("{} / {} properties", a.verdicts.len(), b.verdicts.len()));
    }
    out
}

/// Runs the table and prints it (markdown) on stdout, progress on stderr.
/// Exit 0 if every row's verdicts agree, 1 if some row's differ (symmetry
/// reduction would be unsound there), 2 on bad input or a failed run.
pub fn run(args: &SymmetryArgs) -> ExitCode {
    match table(args) {
        Ok((out, agree)) => {
            print!("{out}");
            if agree {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: verdicts differ with and without symmetry (see the table)");
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn table(args: &SymmetryArgs) -> Result<(String, bool), String> {
    let threads = crate::child::threads(args.threads);
    let rows: Vec<Row> = if args.rows.is_empty() {
        DEFAULT_ROWS
            .iter()
            .map(|&(s, c, d)| Row { scenario: s.to_string(), consistency: c.to_string(), depth: d })
            .collect()
    } else {
        args.rows.clone()
    };
    // Every row's scenario is checked before the first run starts.
    let flags: Vec<Vec<String>> =
        rows.iter().map(|r| instance_flags(&r.scenario, args.instances)).collect::<Result<_, _>>()?;
    let exe = crate::child::this_program()?;
    let mut out = format!(
        "{} instances of each controller kind a scenario uses, {threads} threads, --keep-going, \
         scheduler ties: {}{}\n\n\
         | scenario | consistency | depth | unique states without symmetry | with | reduction \
         | eventually pass states without | with | verdicts |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        args.instances,
        args.scheduler_ties,
        args.nodes.map_or(String::new(), |n| format!(", {n} nodes"))
    );
    let mut agree = true;
    for (row, flags) in rows.iter().zip(&flags) {
        let run = |symmetry: &str| -> Result<Outcome, String> {
            eprintln!("{} {} depth {} {symmetry} ...", row.scenario, row.consistency, row.depth);
            let mut cmd = vec![row.scenario.clone(), "--consistency".into(), row.consistency.clone()];
            cmd.extend(["--max-depth".to_string(), row.depth.to_string(), "--threads".into(), threads.to_string()]);
            cmd.extend(["--keep-going".to_string(), "-q".into(), symmetry.into()]);
            cmd.extend(["--scheduler-ties".to_string(), args.scheduler_ties.clone()]);
            if let Some(n) = args.nodes {
                cmd.extend(["--nodes".to_string(), n.to_string()]);
            }
            cmd.extend(flags.iter().cloned());
            let report = crate::child::check_report(&exe, &cmd)?;
            outcome(&report).map_err(|e| format!("{} {}: {e}", row.scenario, row.consistency))
        };
        let (without, with) = (run("--no-symmetry")?, run("--symmetry")?);
        let diff = differences(&without, &with);
        let verdicts = if !without.complete || !with.complete {
            // A run stopped early (memory) leaves verdicts open: no comparison.
            "run stopped early".to_string()
        } else if diff.is_empty() {
            "equal".to_string()
        } else {
            agree = false;
            format!("DIFFER: {}", diff.join("; "))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1}x | {} | {} | {verdicts} |\n",
            row.scenario,
            row.consistency,
            row.depth,
            without.unique,
            with.unique,
            without.unique as f64 / with.unique.max(1) as f64,
            without.pass,
            with.pass,
        ));
    }
    Ok((out, agree))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_or_say_what_is_wrong() {
        let r = parse_row("stale-reads, causal, 5").expect("a row");
        assert_eq!((r.scenario.as_str(), r.consistency.as_str(), r.depth), ("stale-reads", "causal", 5));
        assert!(parse_row("stale-reads,causal").unwrap_err().contains("SCENARIO,CONSISTENCY,DEPTH"));
        assert!(parse_row("stale-reads,eventual,5").unwrap_err().contains("not a consistency model"));
        assert!(parse_row("stale-reads,causal,0").unwrap_err().contains("from 1"));
        assert!(parse_row("stale-reads,causal,x").unwrap_err().contains("from 1"));
    }

    #[test]
    fn instances_go_to_the_kinds_the_scenario_uses() {
        // replicaset-scale runs a scheduler and a ReplicaSet controller (and
        // no StatefulSet, Deployment or Job controller).
        let f = instance_flags("replicaset-scale", 3).expect("a Kubernetes scenario");
        assert!(f.windows(2).any(|w| w == ["--replicaset-controllers", "3"]), "{f:?}");
        assert!(f.windows(2).any(|w| w == ["--schedulers", "3"]), "{f:?}");
        assert!(!f.iter().any(|x| x == "--statefulset-controllers"), "{f:?}");
        assert!(instance_flags("puzzle8", 2).is_err(), "engine examples have no controllers");
    }
}
