//! Running a check: strategy dispatch, the `eventually` pass, traces, report.

use std::time::Instant;

use crate::eventually::{self, Reduction, Verdict};
use crate::fingerprint::collision_probability;
use crate::progress::{monitored, Counters};
use crate::property::Kind;
use crate::report::{PropertyReport, Report, Status, StopReason};
use crate::search::Chain;
use crate::trace::{replay_chain, Trace};
use crate::{Model, Options, Strategy};

/// A report together with the traces in the model's own types, for callers
/// that want to replay or inspect them.
pub struct CheckResult<M: Model> {
    /// The report (what the CLI prints).
    pub report: Report,
    /// Per property, in the model's order: its trace, if it has one.
    pub traces: Vec<Option<Trace<M>>>,
    /// The states a stopped BFS left unexpanded (the rest of the level it was
    /// expanding, the next level found so far; under a depth bound, its last
    /// level), or those DFS kept for the `eventually` pass (met only at its
    /// depth bound, some predicate failing in them). Freeing them takes seconds
    /// on a run of millions of states, so they are freed with the result,
    /// after the report is made, or handed to [`CheckResult::leftovers`].
    pub(crate) leftovers: Vec<Vec<(crate::fingerprint::Fingerprint, M::State)>>,
}

impl<M: Model> CheckResult<M> {
    /// Takes the states the run left unexpanded (see the field's docs), for
    /// a caller that wants to free them elsewhere (the CLI frees them on a
    /// thread of their own while the process exits) or not at all.
    pub fn leftovers(&mut self) -> Vec<Vec<(crate::fingerprint::Fingerprint, M::State)>> {
        std::mem::take(&mut self.leftovers)
    }

    /// The trace of the property called `name`, if any.
    pub fn trace(&self, name: &str) -> Option<&Trace<M>> {
        let i = self.report.properties.iter().position(|p| p.name == name)?;
        self.traces[i].as_ref()
    }
}

/// Checks `model` with `opts`.
///
/// Guarantees: with BFS or DFS, `unique_states`, `max_depth_reached` and every
/// verdict depend only on the model and the limits that make the explored
/// region well defined (depth bound), never on the thread count; BFS traces
/// are shortest. Every trace in the result replays through the model
/// ([`Trace::replays`]); a trace that cannot be rebuilt (a fingerprint
/// collision) is reported as an error instead of a wrong trace.
pub fn check<M: Model>(model: &M, opts: &Options) -> CheckResult<M> {
    let (props, unselectable) = match crate::property::select(model.properties(), opts.properties.as_deref()) {
        Ok(props) => (props, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let counters = Counters::new();
    let start = Instant::now();
    let mut liveness_s = 0.0;
    let mut liveness_states = 0;
    let mut liveness_recorded = false;
    // Per property: its chain, from the `eventually` pass, is of real states.
    let mut unreduced_chain = vec![false; props.len()];
    let mut leftovers = Vec::new();
    let mut recorded = Vec::new();
    // Whether the search keeps records for the `eventually` pass (of
    // `Reduction::of`'s states): false again if it drops them.
    let mut recording = eventually::Recording::of(model, &props, opts).is_some();
    // The process's memory when the search dropped its records (0: it did not).
    let mut records_dropped_bytes = 0;
    if recording {
        counters.will_record();
        // Past the records' limit already: none are kept (the monitor
        // checks again about ten times a second).
        if opts.records_memory > 0 {
            counters.drop_records_past(crate::memory::current_rss(), opts.records_memory);
        }
    }
    let outcome = monitored(opts, &counters, start, || {
        let mut outcome = match opts.strategy {
            _ if unselectable.is_some() => {
                let mut o = crate::search::SearchOutcome::new(0);
                o.error = unselectable.clone();
                o.stop_reason = StopReason::Interrupted;
                return o;
            }
            Strategy::Dfs | Strategy::Simulation if opts.resume.is_some() => {
                let mut o = crate::search::SearchOutcome::new(props.len());
                o.error = Some("only BFS resumes checkpoints".into());
                o.stop_reason = StopReason::Interrupted;
                return o;
            }
            Strategy::Bfs | Strategy::Dfs => {
                let (outcome, left) = if opts.strategy == Strategy::Bfs {
                    crate::bfs::run(model, &props, opts, &counters)
                } else {
                    crate::dfs::run(model, &props, opts, &counters)
                };
                leftovers = left.states;
                recorded = left.recorded;
                if left.records_dropped {
                    recording = false;
                    records_dropped_bytes = counters.records_dropped_at();
                }
                outcome
            }
            Strategy::Simulation => crate::simulation::run(model, &props, opts, &counters),
        };
        // Liveness pass for the exhaustive strategies, if there is an
        // `eventually` property to decide (none: the report says no pass ran).
        let eventually = props.iter().any(|p| p.kind == Kind::Eventually);
        if opts.strategy != Strategy::Simulation && outcome.stop_reason.explored_a_closed_region() && eventually {
            let live: Vec<usize> = (0..props.len()).filter(|&i| props[i].kind == Kind::Eventually).collect();
            let chosen: Vec<&crate::Property<M>> = live.iter().map(|&i| &props[i]).collect();
            let reduction = Reduction::of(model, opts.symmetry);
            let threads = opts.threads.max(1);
            let pass = Instant::now();
            // What the search recorded for this pass (nothing if no state it
            // expanded fails a predicate: the pass then has no state either).
            let from_search = recording
                .then(|| {
                    eventually::FromSearch::new(
                        std::mem::take(&mut recorded),
                        chosen.len(),
                        reduction,
                        &leftovers,
                        threads,
                    )
                })
                .flatten();
            let run = eventually::Pass {
                model,
                max_depth: opts.max_depth,
                threads,
                counters: &counters,
                from_search: from_search.as_ref(),
            };
            let checked = eventually::check_all(&run, &chosen, reduction);
            liveness_states = checked.states;
            liveness_recorded = checked.recorded;
            liveness_s = pass.elapsed().as_secs_f64();
            outcome.error = outcome.error.take().or(checked.error);
            for (i, verdict) in live.into_iter().zip(checked.verdicts) {
                match verdict {
                    Verdict::Holds => {}
                    Verdict::Violated { chain, on_orbits } => {
                        outcome.decided[i] = chain.fps.last().copied();
                        outcome.chains[i] = Some(chain);
                        unreduced_chain[i] = !on_orbits;
                    }
                    Verdict::Unknown | Verdict::CycleOfOrbits => {
                        outcome.stop_reason = counters.stop_reason().unwrap_or(StopReason::Interrupted);
                        break;
                    }
                }
            }
        }
        outcome
    });
    let elapsed = start.elapsed().as_secs_f64();
    // Saving and loading checkpoints is not checking: rates leave it out.
    let working = elapsed - outcome.checkpoint_s - outcome.resume_s;
    let unique = counters.unique.load(std::sync::atomic::Ordering::Relaxed);
    let transitions = counters.transitions.load(std::sync::atomic::Ordering::Relaxed);
    let closed = outcome.stop_reason.explored_a_closed_region();
    // States found by this run (a resumed run starts with some).
    let found = unique.saturating_sub(outcome.resumed);

    // A run that kept records for the pass may fit without them.
    let mut error = counters
        .rss_stop_message()
        .map(|m| if recording { format!("{m}, or pass --no-pass-records (the eventually pass's records)") } else { m })
        .or_else(|| outcome.error.clone())
        .map(|e| match outcome.no_checkpoint {
            Some(why) => format!("{e}; {why}"),
            None => e,
        });
    let mut traces = Vec::with_capacity(props.len());
    let mut reports = Vec::with_capacity(props.len());
    for (i, p) in props.iter().enumerate() {
        let decided = outcome.decided[i].is_some();
        let status = match (p.kind, decided) {
            (Kind::Always | Kind::Eventually, true) => Status::Violated,
            (Kind::Sometimes, true) => Status::Found,
            (Kind::Always | Kind::Eventually, false) if closed => Status::Holds,
            (Kind::Sometimes, false) if closed => Status::NotFound,
            _ => Status::Unknown,
        };
        // Chains are of canonical forms under symmetry (simulation's too:
        // walks fingerprint canonical forms), except those the `eventually`
        // pass says are of real states.
        let sym = opts.symmetry && !unreduced_chain[i];
        let trace = outcome.chains[i].as_ref().and_then(|c| rebuild(model, sym, c));
        if outcome.chains[i].is_some() && trace.is_none() {
            error = Some(format!(
                "the trace for '{}' could not be rebuilt: a fingerprint collision (probability < {:.1e})",
                p.name,
                collision_probability(unique)
            ));
        }
        reports.push(PropertyReport {
            name: p.name.clone(),
            kind: p.kind,
            status,
            trace: trace.as_ref().map(|t| t.to_steps(model)),
            loop_start: trace.as_ref().and_then(|t| t.loop_start),
            loop_permuted: trace.as_ref().is_some_and(|t| t.loop_is_permuted()),
        });
        traces.push(trace);
    }
    let report = Report {
        model: model.name(),
        strategy: opts.strategy,
        threads: if opts.strategy == Strategy::Dfs { 1 } else { opts.threads.max(1) },
        symmetry: opts.symmetry,
        complete: outcome.stop_reason == StopReason::Exhausted,
        stop_reason: outcome.stop_reason,
        unique_states: unique,
        transitions,
        max_depth_reached: outcome.max_depth_reached,
        walks: outcome.walks,
        elapsed_s: elapsed,
        liveness_s,
        liveness_states,
        liveness_recorded,
        records_dropped_bytes,
        checkpoint_s: outcome.checkpoint_s,
        resume_s: outcome.resume_s,
        states_per_s: if working > 0.0 { found as f64 / working } else { 0.0 },
        us_per_state: if found > 0 { working * 1e6 / found as f64 } else { 0.0 },
        peak_rss_bytes: crate::memory::peak_rss(),
        visited_set_bytes: outcome.visited_bytes,
        parent_log_bytes: outcome.parent_log_bytes,
        bytes_per_state: if unique > 0 { outcome.visited_bytes as f64 / unique as f64 } else { 0.0 },
        collision_probability: collision_probability(unique),
        resumed_states: outcome.resumed,
        checkpoint: outcome.checkpoint.as_ref().map(|p| p.display().to_string()),
        error,
        properties: reports,
    };
    CheckResult { report, traces, leftovers }
}

fn rebuild<M: Model>(model: &M, symmetry: bool, chain: &Chain) -> Option<Trace<M>> {
    let walked = chain.walked.as_ref().and_then(|w| crate::trace::replay_walk(model, symmetry, &chain.fps, w));
    let mut t = walked.or_else(|| replay_chain(model, symmetry, &chain.fps, chain.groups.as_deref()))?;
    t.loop_start = chain.loop_start;
    // Only a lasso rebuilt from canonical forms can end on a permutation.
    crate::trace::close_loop(model, symmetry, &mut t, &chain.fps, chain.groups.as_deref());
    Some(t)
}
