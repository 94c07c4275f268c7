//! Shared helpers for the engine's integration tests.
#![allow(dead_code)]

use krepis_engine::{check, check_reference, CheckResult, Model, Options, Property, Report, Status, Strategy};

/// Thread counts every parallel case runs with (more than the cores on CI).
pub const THREADS: [usize; 4] = [1, 2, 4, 8];

/// Options for a quiet exhaustive run.
pub fn opts(threads: usize) -> Options {
    Options::default().threads(threads).memory(256 << 20)
}

/// The verdicts of a report, by property name.
pub fn verdicts(r: &Report) -> Vec<(String, Status)> {
    r.properties.iter().map(|p| (p.name.clone(), p.status)).collect()
}

/// Checks `model` with the reference checker and with BFS (every thread count)
/// and DFS, under `base` options, and asserts they agree on unique states,
/// maximum depth and verdicts; returns the reference result.
pub fn agree<M: Model>(model: &M, base: Options) -> CheckResult<M> {
    let reference = check_reference(model, &base);
    let want = (reference.report.unique_states, reference.report.max_depth_reached, verdicts(&reference.report));
    for t in THREADS {
        let r = check(model, &base.clone().threads(t));
        assert_eq!(
            (r.report.unique_states, r.report.max_depth_reached, verdicts(&r.report)),
            want,
            "bfs with {t} threads disagrees with the reference on {}",
            model.name()
        );
        assert_eq!(r.report.stop_reason, reference.report.stop_reason);
        assert_traces_replay(model, &r, base.symmetry);
    }
    // DFS agrees on counts and verdicts when nothing stops it early, and on the
    // maximum depth when a bound makes it the shortest-path depth.
    if reference.report.stop_reason.explored_a_closed_region() {
        let r = check(model, &base.clone().strategy(Strategy::Dfs));
        let depth = if base.max_depth > 0 { r.report.max_depth_reached } else { want.1 };
        assert_eq!(
            (r.report.unique_states, depth, verdicts(&r.report)),
            want,
            "dfs disagrees with the reference on {}",
            model.name()
        );
        assert_traces_replay(model, &r, base.symmetry);
    }
    assert_traces_replay(model, &reference, base.symmetry);
    reference
}

/// Every trace replays, and ends in a state that decides its property.
pub fn assert_traces_replay<M: Model>(model: &M, r: &CheckResult<M>, symmetry: bool) {
    let props: Vec<Property<M>> = model.properties();
    for (p, (pr, trace)) in props.iter().zip(r.report.properties.iter().zip(&r.traces)) {
        let Some(trace) = trace else {
            assert!(
                !matches!(pr.status, Status::Violated | Status::Found),
                "'{}' is {:?} without a trace",
                pr.name,
                pr.status
            );
            continue;
        };
        trace.replays(model, symmetry).unwrap_or_else(|e| panic!("trace of '{}' does not replay: {e}", p.name));
        let last = trace.last_state().expect("non-empty trace");
        match pr.status {
            Status::Violated if p.kind == krepis_engine::Kind::Always => {
                assert!(!(p.check)(model, last), "'{}' trace does not end in a violation", p.name)
            }
            Status::Found => assert!((p.check)(model, last), "'{}' trace does not end in the goal", p.name),
            Status::Violated => {
                // eventually: the predicate never holds along the trace
                for (_, s) in &trace.steps {
                    assert!(!(p.check)(model, s), "'{}' lasso passes a state where it holds", p.name);
                }
            }
            s => panic!("'{}' has a trace but status {s:?}", p.name),
        }
    }
}

/// Two counters incremented one at a time up to `max`; the invariant
/// `sum != target` is first violated after exactly `target` steps.
#[derive(Clone, Debug)]
pub struct Counters {
    pub max: u8,
    pub target: u8,
}

impl Model for Counters {
    type State = (u8, u8);
    type Action = char;

    fn init_states(&self, out: &mut Vec<(u8, u8)>) {
        out.push((0, 0));
    }

    fn successors(&self, s: &(u8, u8), out: &mut Vec<(char, (u8, u8))>) {
        if s.0 < self.max {
            out.push(('a', (s.0 + 1, s.1)));
        }
        if s.1 < self.max {
            out.push(('b', (s.0, s.1 + 1)));
        }
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("sum-is-not-target", |m: &Self, s: &(u8, u8)| s.0 + s.1 != m.target),
            Property::sometimes("both-at-max", |m: &Self, s: &(u8, u8)| s.0 == m.max && s.1 == m.max),
            // Every path ends in (max, max), a deadlock where a != b is false.
            Property::eventually("ends-equal", |m: &Self, s: &(u8, u8)| s.0 == s.1 && s.0 == m.max),
            // Fails on the path that runs b up first: it ends in a deadlock.
            Property::eventually("a-far-ahead", |_: &Self, s: &(u8, u8)| s.0 >= s.1 + 4),
        ]
    }

    fn name(&self) -> String {
        format!("counters({}, {})", self.max, self.target)
    }
}

/// A spinner that may toggle a bit for ever, and a worker that can finish at
/// any time. "eventually done" fails without fairness (the spinner loops) and
/// holds when the worker is weakly fair (`fair`), since it is always enabled.
#[derive(Clone, Debug)]
pub struct Spinner {
    pub fair: bool,
}

impl Model for Spinner {
    type State = (bool, bool); // (bit, done)
    type Action = &'static str;

    fn init_states(&self, out: &mut Vec<(bool, bool)>) {
        out.push((false, false));
    }

    fn successors(&self, s: &(bool, bool), out: &mut Vec<(&'static str, (bool, bool))>) {
        out.push(("toggle", (!s.0, s.1)));
        if !s.1 {
            out.push(("finish", (s.0, true)));
        }
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::eventually("done", |_, s: &(bool, bool)| s.1)]
    }

    fn fairness(&self, a: &&'static str) -> Option<u8> {
        (self.fair && *a == "finish").then_some(0)
    }
}

/// A small deterministic generator for random test models (xorshift64*):
/// `next(k)` is uniform enough in `0..k`.
pub fn xorshift(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move |k: u64| {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) % k
    }
}
