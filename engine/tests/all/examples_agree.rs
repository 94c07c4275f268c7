//! The example models: known state counts, and the optimised checkers agree
//! with the reference checker on every thread count, with and without
//! symmetry, with and without a depth bound.

use crate::common;

use common::{agree, opts, Counters};
use krepis_engine::models::{Philosophers, PuzzleState, SlidingPuzzle, TwoPhaseCommit};
use krepis_engine::{check, Options, Status, StopReason};

#[test]
fn puzzle8_has_181440_states_and_depth_31() {
    let r = agree(&SlidingPuzzle::puzzle8(), opts(1));
    assert_eq!(r.report.unique_states, 181_440);
    assert_eq!(r.report.max_depth_reached, 31);
    assert_eq!(r.report.stop_reason, StopReason::Exhausted);
    assert!(r.report.complete);
}

#[test]
fn puzzle8_far_position_is_31_moves_away_and_replays() {
    let model = SlidingPuzzle::puzzle8();
    let target = PuzzleState::from_tiles(&[8, 6, 7, 2, 5, 4, 3, 0, 1]).unwrap();
    for t in common::THREADS {
        let r = check(&model, &opts(t));
        assert_eq!(r.report.status("reach-target"), Some(Status::Found));
        let trace = r.trace("reach-target").expect("a trace to the far position");
        assert_eq!(trace.len(), 31, "BFS traces are shortest");
        assert_eq!(trace.last_state(), Some(&target));
        trace.replays(&model, true).expect("replays");
    }
}

#[test]
fn puzzle8_with_a_depth_bound_agrees() {
    for d in [1, 5, 12] {
        let r = agree(&SlidingPuzzle::puzzle8(), opts(1).max_depth(d));
        assert_eq!(r.report.max_depth_reached, d);
        assert_eq!(r.report.stop_reason, StopReason::MaxDepth);
        assert_eq!(r.report.status("reach-target"), Some(Status::NotFound));
    }
}

#[test]
fn two_phase_commit_counts() {
    for (n, states) in [(3, 288), (5, 8_832)] {
        let r = agree(&TwoPhaseCommit::new(n), opts(1).symmetry(false));
        assert_eq!(r.report.unique_states, states, "two-phase commit with {n} RMs");
        assert_eq!(r.report.status("consistent"), Some(Status::Holds));
        assert_eq!(r.report.status("all-committed"), Some(Status::Found));
    }
}

#[test]
fn two_phase_commit_symmetry_agrees_with_the_reference() {
    for n in [3, 4, 5] {
        let plain = check(&TwoPhaseCommit::new(n), &opts(2).symmetry(false));
        let reduced = agree(&TwoPhaseCommit::new(n), opts(1).symmetry(true));
        assert!(reduced.report.unique_states < plain.report.unique_states);
        assert_eq!(common::verdicts(&reduced.report), common::verdicts(&plain.report));
    }
}

#[test]
fn philosophers_starve_in_a_lasso() {
    for n in [2, 3, 4] {
        let model = Philosophers::new(n);
        let r = agree(&model, opts(1));
        assert_eq!(r.report.status("neighbours-never-eat-together"), Some(Status::Holds));
        assert_eq!(r.report.status("someone-gets-hungry"), Some(Status::Holds));
        assert_eq!(r.report.status("philosopher-0-eats"), Some(Status::Violated));
        let opt = check(&model, &opts(2));
        let lasso = opt.trace("philosopher-0-eats").expect("a lasso");
        let at = lasso.loop_start.expect("a cycle, not a deadlock: the model has none");
        assert_eq!(lasso.steps[at].1, lasso.last_state().cloned().unwrap());
        assert!(lasso.len() > at, "the loop has at least one step");
    }
}

#[test]
fn philosophers_with_a_depth_bound_agree() {
    for d in [1, 2, 3, 6] {
        agree(&Philosophers::new(3), opts(1).max_depth(d));
    }
}

#[test]
fn violations_give_shortest_traces_and_stop_after_their_level() {
    for target in [1u8, 4, 7] {
        let model = Counters { max: 6, target };
        let r = agree(&model, opts(1));
        assert_eq!(r.report.status("sum-is-not-target"), Some(Status::Violated));
        assert_eq!(r.report.stop_reason, StopReason::Violation);
        assert!(!r.report.complete);
        assert_eq!(r.report.max_depth_reached, u64::from(target));
        for t in common::THREADS {
            let o = check(&model, &opts(t));
            assert_eq!(o.trace("sum-is-not-target").map(|t| t.len()), Some(usize::from(target)));
        }
    }
}

#[test]
fn deadlocks_violate_eventually_and_properties_hold_when_unreachable() {
    // target out of reach: the invariant holds; every path ends in (max, max).
    let r = agree(&Counters { max: 3, target: 100 }, opts(1));
    assert_eq!(r.report.status("sum-is-not-target"), Some(Status::Holds));
    assert_eq!(r.report.status("both-at-max"), Some(Status::Found));
    assert_eq!(r.report.status("ends-equal"), Some(Status::Holds));
    assert_eq!(r.report.status("a-far-ahead"), Some(Status::Violated));
    assert_eq!(r.report.unique_states, 16);
    for t in [1, 2] {
        let o = check(&Counters { max: 3, target: 100 }, &opts(t));
        let trace = o.trace("a-far-ahead").expect("a path to a deadlock");
        assert_eq!(trace.loop_start, None, "a deadlock, not a lasso");
        assert_eq!(trace.last_state(), Some(&(3, 3)));
        assert_eq!(trace.len(), 6, "the shortest path to the deadlock");
    }
    // With a depth bound the deadlock at depth 6 is out of reach: holds within the bound.
    let r = agree(&Counters { max: 3, target: 100 }, opts(1).max_depth(5));
    assert_eq!(r.report.status("ends-equal"), Some(Status::Holds));
    assert_eq!(r.report.status("a-far-ahead"), Some(Status::Holds));
    assert_eq!(r.report.status("both-at-max"), Some(Status::NotFound));
}

#[test]
fn an_empty_model_is_exhausted_at_once() {
    struct Empty;
    impl krepis_engine::Model for Empty {
        type State = u8;
        type Action = u8;
        fn init_states(&self, _: &mut Vec<u8>) {}
        fn successors(&self, _: &u8, _: &mut Vec<(u8, u8)>) {}
        fn properties(&self) -> Vec<krepis_engine::Property<Self>> {
            vec![krepis_engine::Property::always("true", |_, _| true)]
        }
    }
    let r = check(&Empty, &Options::default().threads(2));
    assert_eq!((r.report.unique_states, r.report.complete), (0, true));
    assert_eq!(r.report.status("true"), Some(Status::Holds));
}

#[test]
fn weak_fairness_rules_out_starving_cycles() {
    use common::Spinner;
    let unfair = agree(&Spinner { fair: false }, opts(1));
    assert_eq!(unfair.report.status("done"), Some(Status::Violated));
    let fair = agree(&Spinner { fair: true }, opts(1));
    assert_eq!(fair.report.status("done"), Some(Status::Holds));
    // Simulation applies the same rule to the cycles its walks close.
    let sim = |fair| {
        check(
            &Spinner { fair },
            &Options::default().strategy(krepis_engine::Strategy::Simulation).walks(50).max_depth(20),
        )
        .report
        .status("done")
    };
    assert_eq!(sim(false), Some(Status::Violated));
    assert_ne!(sim(true), Some(Status::Violated));
}

#[test]
fn fair_lassos_take_every_group_enabled_along_them() {
    // Philosophers with every philosopher weakly fair: starvation remains
    // possible (forks are not continuously free), and the lasso reported
    // must let every always-enabled philosopher move.
    let model = Philosophers::new(3).with_fairness();
    let r = agree(&model, opts(1));
    assert_eq!(r.report.status("philosopher-0-eats"), Some(Status::Violated));
    let opt = check(&model, &opts(2));
    let lasso = opt.trace("philosopher-0-eats").unwrap();
    let at = lasso.loop_start.expect("a cycle");
    let movers: std::collections::BTreeSet<usize> =
        lasso.steps[at + 1..].iter().filter_map(|(a, _)| a.map(|(p, _)| p)).collect();
    for p in 0..3 {
        let always_enabled = lasso.steps[at..].iter().all(|(_, s)| {
            let mut succ = Vec::new();
            krepis_engine::Model::successors(&model, s, &mut succ);
            succ.iter().any(|((q, _), _)| *q == p)
        });
        assert!(!always_enabled || movers.contains(&p), "philosopher {p} is starved unfairly");
    }
}

#[test]
fn keep_going_decides_every_property_in_one_run() {
    let model = Counters { max: 4, target: 3 };
    for strategy in [krepis_engine::Strategy::Bfs, krepis_engine::Strategy::Dfs] {
        let r = check(&model, &opts(2).strategy(strategy).keep_going(true));
        assert_eq!(r.report.status("sum-is-not-target"), Some(Status::Violated), "{strategy:?}");
        assert_eq!(r.report.status("both-at-max"), Some(Status::Found), "{strategy:?}");
        assert_eq!(r.report.status("ends-equal"), Some(Status::Holds), "{strategy:?}");
        assert_eq!(r.report.status("a-far-ahead"), Some(Status::Violated), "{strategy:?}");
        assert_eq!(r.report.unique_states, 25, "every state: (0..=4)^2");
        assert!(r.report.complete);
    }
    // BFS's counterexample is still the shortest one.
    let r = check(&model, &opts(2).keep_going(true));
    assert_eq!(r.trace("sum-is-not-target").map(|t| t.len()), Some(3));
    // Without it the run stops at the violation's level.
    let r = check(&model, &opts(2));
    assert_eq!(r.report.stop_reason, StopReason::Violation);
    assert_eq!(r.report.status("both-at-max"), Some(Status::Unknown));
}

/// The `eventually` pass expands each level on every thread (in chunks of
/// 256 states), and threads number the states they find first: its
/// verdicts, lassos and the explored region are the same on any thread
/// count, with or without fairness, with or without a depth bound.
#[test]
fn the_eventually_pass_is_the_same_on_every_thread_count() {
    for model in [Philosophers::new(7), Philosophers::new(7).with_fairness()] {
        for depth in [0, 9] {
            let one = check(&model, &Options::default().threads(1).symmetry(false).keep_going(true).max_depth(depth));
            assert!(one.report.liveness_s > 0.0, "the pass ran");
            assert_eq!(one.report.status("philosopher-0-eats"), Some(Status::Violated));
            for threads in [2, 3, 4] {
                let o = Options::default().threads(threads).symmetry(false).keep_going(true).max_depth(depth);
                let r = check(&model, &o);
                assert_eq!(common::verdicts(&r.report), common::verdicts(&one.report), "{threads} threads");
                for p in &one.report.properties {
                    let (a, b) = (one.trace(&p.name), r.trace(&p.name));
                    assert_eq!(a.map(|t| (&t.steps, t.loop_start)), b.map(|t| (&t.steps, t.loop_start)), "{}", p.name);
                }
            }
        }
    }
}
