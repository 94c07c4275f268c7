//! Built-in scenarios: for now the engine's example models.

use std::process::ExitCode;

use krepis_engine::cli::{self, CheckArgs};
use krepis_engine::models::{Philosophers, SlidingPuzzle, TwoPhaseCommit};

/// The scenario `krepis check` runs without one named.
pub const DEFAULT: &str = "puzzle8";

/// A built-in scenario: its name and a one-line description.
pub struct Scenario {
    pub name: &'static str,
    pub about: &'static str,
}

/// Every built-in scenario.
pub const ALL: &[Scenario] = &[
    Scenario {
        name: "puzzle8",
        about: "the 8-puzzle from the solved position (181,440 states, depth 31)",
    },
    Scenario {
        name: "puzzle15",
        about: "the 15-puzzle (about 10^13 states: use --time-limit or --max-states)",
    },
    Scenario {
        name: "two-phase-commit:N",
        about: "two-phase commit with N resource managers, 1 to 12 (N=3: 288 states)",
    },
    Scenario {
        name: "philosophers:N",
        about: "dining philosophers, 2 to 16, ordered forks: starvation lasso",
    },
];

fn size(name: &str, arg: &str, lo: usize, hi: usize) -> Result<usize, String> {
    let n: usize = arg
        .parse()
        .map_err(|_| format!("scenario '{name}': '{arg}' is not a number"))?;
    if !(lo..=hi).contains(&n) {
        return Err(format!(
            "scenario '{name}': size must be {lo} to {hi}, got {n}"
        ));
    }
    Ok(n)
}

/// Runs the scenario called `name` with the engine flags `args`.
pub fn run(name: &str, args: &CheckArgs) -> Result<ExitCode, String> {
    let (base, param) = match name.split_once(':') {
        Some((b, p)) => (b, Some(p)),
        None => (name, None),
    };
    let extra = |v: &str| {
        let mut m = serde_json::Map::new();
        m.insert("scenario".into(), serde_json::Value::String(v.to_string()));
        m
    };
    Ok(match (base, param) {
        ("puzzle8", None) => cli::run(&SlidingPuzzle::puzzle8(), args, extra(name)),
        ("puzzle15", None) => cli::run(&SlidingPuzzle::new(4, 4), args, extra(name)),
        ("two-phase-commit", p) => {
            let n = size(name, p.unwrap_or("3"), 1, 12)?;
            cli::run(
                &TwoPhaseCommit::new(n),
                args,
                extra(&format!("two-phase-commit:{n}")),
            )
        }
        ("philosophers", p) => {
            let n = size(name, p.unwrap_or("3"), 2, 16)?;
            cli::run(
                &Philosophers::new(n),
                args,
                extra(&format!("philosophers:{n}")),
            )
        }
        _ => {
            return Err(format!(
                "unknown scenario '{name}' (krepis scenarios lists them)"
            ))
        }
    })
}
