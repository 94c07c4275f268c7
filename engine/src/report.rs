//! The report of a run: counts, rates, memory, and a verdict per property.

use serde::Serialize;

use crate::options::Strategy;
use crate::property::Kind;

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Every reachable state was explored.
    Exhausted,
    /// The depth bound was reached with states left unexpanded.
    MaxDepth,
    /// The time limit passed.
    TimeLimit,
    /// The unique-state bound was reached.
    MaxStates,
    /// A property was violated (the level in which it was found was finished).
    Violation,
    /// The cancel flag was set (Ctrl-C).
    Interrupted,
    /// The visited set filled its memory budget.
    MemoryLimit,
    /// The simulation ran all its walks.
    Walks,
}

impl StopReason {
    /// Every reason, in declaration order (index = discriminant).
    pub const ALL: [StopReason; 8] = [
        StopReason::Exhausted,
        StopReason::MaxDepth,
        StopReason::TimeLimit,
        StopReason::MaxStates,
        StopReason::Violation,
        StopReason::Interrupted,
        StopReason::MemoryLimit,
        StopReason::Walks,
    ];

    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Exhausted => "exhausted",
            StopReason::MaxDepth => "max-depth",
            StopReason::TimeLimit => "time-limit",
            StopReason::MaxStates => "max-states",
            StopReason::Violation => "violation",
            StopReason::Interrupted => "interrupted",
            StopReason::MemoryLimit => "memory-limit",
            StopReason::Walks => "walks",
        }
    }

    /// Whether the part of the space that was explored is a well-defined one
    /// (everything, or everything within the depth bound), so that "holds" and
    /// "not-found" are meaningful verdicts.
    pub fn explored_a_closed_region(self) -> bool {
        matches!(self, StopReason::Exhausted | StopReason::MaxDepth)
    }
}

/// The verdict on one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// `always`/`eventually`: no counterexample in the explored region.
    Holds,
    /// `always`/`eventually`: a counterexample was found (see the trace).
    Violated,
    /// `sometimes`: an example was found (see the trace).
    Found,
    /// `sometimes`: no example in the explored region.
    NotFound,
    /// The run stopped before the property could be decided.
    Unknown,
}

impl Status {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Holds => "holds",
            Status::Violated => "violated",
            Status::Found => "found",
            Status::NotFound => "not-found",
            Status::Unknown => "unknown",
        }
    }

    /// Whether this verdict is a failure of the property (exit status 1).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Violated | Status::NotFound)
    }
}

/// One step of a trace as shown to people: the action taken (none for the
/// initial state) and the state it led to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    /// The action, formatted by the model; `null` for the initial state.
    pub action: Option<String>,
    /// The state after the action, formatted by the model.
    pub state: String,
}

/// The verdict on one property, with its trace.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyReport {
    /// The property's name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Its verdict.
    pub status: Status,
    /// A counterexample (violated) or example (found), from an initial state.
    pub trace: Option<Vec<TraceStep>>,
    /// For a lasso (an `eventually` counterexample that closes a cycle): the
    /// index in `trace` of the state the last step returns to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loop_start: Option<usize>,
    /// For a lasso found on orbits (symmetry reduction): the last state is
    /// the loop-start state with interchangeable instances permuted, not
    /// that state itself; going round again with them permuted the same
    /// way goes on for ever.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub loop_permuted: bool,
}

fn is_zero_f(x: &f64) -> bool {
    *x == 0.0
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The result of a run. Field names follow DESIGN.md section 4.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The model's name.
    pub model: String,
    /// Strategy used.
    pub strategy: Strategy,
    /// Worker threads used.
    pub threads: usize,
    /// Whether symmetry reduction was on.
    pub symmetry: bool,
    /// Whether every reachable state was explored.
    pub complete: bool,
    /// Why the run ended.
    pub stop_reason: StopReason,
    /// Distinct states (after canonicalisation) explored.
    pub unique_states: u64,
    /// Successors generated.
    pub transitions: u64,
    /// Depth of the deepest state explored (initial states: 0).
    pub max_depth_reached: u64,
    /// Random walks run (simulation only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walks: Option<u64>,
    /// Wall-clock seconds.
    pub elapsed_s: f64,
    /// Of `elapsed_s`, the seconds of the `eventually` pass (after the search;
    /// 0 when there was none). The rest is the search itself.
    pub liveness_s: f64,
    /// States the `eventually` pass explored (orbits when symmetry reduced
    /// it; a second, unreduced exploration that finds a lasso for a fair
    /// cycle of orbits counts too); 0 when there was no pass.
    #[serde(default)]
    pub liveness_states: u64,
    /// The `eventually` pass read the successors the search (BFS or DFS) recorded for it
    /// ([`crate::Options::record_for_pass`]) instead of generating them again.
    #[serde(default)]
    pub liveness_recorded: bool,
    /// The process's resident memory when the search (BFS or DFS) dropped
    /// its records for the `eventually` pass, past
    /// [`crate::Options::records_memory`]; 0 if it did not (the pass, if
    /// any, then generated successors itself).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub records_dropped_bytes: u64,
    /// Of `elapsed_s`, the seconds spent writing checkpoints (BFS with
    /// `--checkpoint`, `--checkpoint-every` or a memory stop; else 0).
    #[serde(default, skip_serializing_if = "is_zero_f")]
    pub checkpoint_s: f64,
    /// Of `elapsed_s`, the seconds spent loading the checkpoint the run
    /// resumed (else 0). `--time-limit` does not count them.
    #[serde(default, skip_serializing_if = "is_zero_f")]
    pub resume_s: f64,
    /// Unique states per second, not counting `checkpoint_s` and `resume_s`.
    pub states_per_s: f64,
    /// Elapsed microseconds per unique state, not counting `checkpoint_s` and `resume_s`.
    pub us_per_state: f64,
    /// Peak resident memory of the process.
    pub peak_rss_bytes: u64,
    /// Bytes of the visited set at the end of the run.
    pub visited_set_bytes: u64,
    /// Visited-set bytes per unique state (memory; BFS's parent links are on
    /// disk, in `parent_log_bytes`).
    pub bytes_per_state: f64,
    /// Bytes of parent links BFS wrote to its parent log, an unnamed temporary
    /// file (16 per unique state; 0 for other strategies).
    #[serde(skip_serializing_if = "is_zero")]
    pub parent_log_bytes: u64,
    /// Birthday bound on a fingerprint collision among the unique states.
    pub collision_probability: f64,
    /// Unique states the run started with, resumed from a checkpoint (0 for a
    /// new run). `states_per_s` and `us_per_state` count only the others.
    #[serde(skip_serializing_if = "is_zero")]
    pub resumed_states: u64,
    /// The checkpoint file written when the run stopped early, if one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// Set when the run ended on a resource problem (e.g. the memory budget).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// One verdict per property, in the model's order.
    pub properties: Vec<PropertyReport>,
}

impl Report {
    /// Whether some property failed (violated, or a `sometimes` not found).
    pub fn has_failure(&self) -> bool {
        self.properties.iter().any(|p| p.status.is_failure())
    }

    /// The verdict on the property called `name`.
    pub fn status(&self, name: &str) -> Option<Status> {
        self.properties.iter().find(|p| p.name == name).map(|p| p.status)
    }

    /// The report as human-readable text (several lines, ending in a newline).
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} {} with {} thread{}, symmetry {}: {} ({})",
            self.model,
            self.strategy.as_str(),
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            if self.symmetry { "on" } else { "off" },
            if self.complete { "complete" } else { "incomplete" },
            self.stop_reason.as_str()
        );
        if let Some(e) = &self.error {
            let _ = writeln!(s, "error: {e}");
        }
        let _ = writeln!(
            s,
            "  unique states {}  transitions {}  max depth {}{}",
            group(self.unique_states),
            group(self.transitions),
            self.max_depth_reached,
            self.walks.map(|w| format!("  walks {}", group(w))).unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "  {:.3} s  {} states/s  {:.3} µs/state  visited set {:.1} bytes/state  peak memory {}{}{}",
            self.elapsed_s,
            group(self.states_per_s as u64),
            self.us_per_state,
            self.bytes_per_state,
            human_bytes(self.peak_rss_bytes),
            match self.peak_rss_bytes.checked_div(self.unique_states) {
                Some(per) if per > 0 => format!(" ({per} bytes/state)"),
                _ => String::new(),
            },
            if self.parent_log_bytes > 0 {
                format!("  parent links on disk {}", human_bytes(self.parent_log_bytes))
            } else {
                String::new()
            }
        );
        if self.liveness_s > 0.0 || self.checkpoint_s > 0.0 || self.resume_s > 0.0 {
            let search = self.elapsed_s - self.liveness_s - self.checkpoint_s - self.resume_s;
            s.push_str("  ");
            if self.resume_s > 0.0 {
                let _ = write!(s, "loading the checkpoint {:.3} s, ", self.resume_s);
            }
            let _ = write!(s, "search {search:.3} s");
            if self.liveness_s > 0.0 {
                let from = if self.liveness_recorded { ", on the search's records" } else { "" };
                let _ = write!(
                    s,
                    ", eventually pass {:.3} s ({} states{from})",
                    self.liveness_s,
                    group(self.liveness_states)
                );
            }
            if self.checkpoint_s > 0.0 {
                let _ = write!(s, ", saving checkpoints {:.3} s", self.checkpoint_s);
            }
            s.push('\n');
        }
        if self.records_dropped_bytes > 0 {
            let _ = writeln!(
                s,
                "  records for the eventually pass dropped at {} of memory, past their limit (--pass-records-memory, \
                 by default half the memory limit): the pass generates successors itself",
                human_bytes(self.records_dropped_bytes)
            );
        }
        let _ = writeln!(s, "  fingerprint collision probability < {:.1e}", self.collision_probability);
        if self.resumed_states > 0 {
            let _ = writeln!(s, "  resumed with {} states from a checkpoint", group(self.resumed_states));
        }
        if let Some(path) = &self.checkpoint {
            let _ = writeln!(s, "  checkpoint saved to {path} (resume it with --resume {path})");
        }
        for p in &self.properties {
            let _ = writeln!(s, "  {:<10} {:<10} {}", p.kind.as_str(), p.status.as_str(), p.name);
        }
        for p in &self.properties {
            if let Some(trace) = &p.trace {
                let what = if p.status == Status::Found { "example" } else { "counterexample" };
                let _ = writeln!(s, "\n{what} for '{}' ({} steps):", p.name, trace.len().saturating_sub(1));
                for (i, step) in trace.iter().enumerate() {
                    let mark = if p.loop_start == Some(i) { " <- loop starts here" } else { "" };
                    match &step.action {
                        None => {
                            let _ = writeln!(s, "  {i:>3}. (initial) {}{mark}", step.state);
                        }
                        Some(a) => {
                            let _ = writeln!(s, "  {i:>3}. {a}\n       -> {}{mark}", step.state);
                        }
                    }
                }
                match p.loop_start {
                    Some(l) if p.loop_permuted => {
                        let _ = writeln!(
                            s,
                            "       (the last state is state {l} with interchangeable instances permuted: going round \
                             again, each time with them permuted the same way, the path goes on forever)"
                        );
                    }
                    Some(l) => {
                        let _ = writeln!(s, "       (the last state equals state {l}: the path loops forever)");
                    }
                    None => {}
                }
            }
        }
        s
    }
}

/// `1234567` as `1,234,567`.
pub fn group(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::with_capacity(d.len() + d.len() / 3);
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes with a binary unit, e.g. `1.5 GiB`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_units() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(181440), "181,440");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }

    #[test]
    fn stop_reason_table_matches_discriminants() {
        for (i, r) in StopReason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
    }
}
