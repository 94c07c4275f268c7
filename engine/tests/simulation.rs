//! Simulation: the same seed gives the same walks on any thread count.

mod common;

use krepis_engine::models::{Philosophers, SlidingPuzzle, TwoPhaseCommit};
use krepis_engine::{check, Options, Status, StopReason, Strategy};

fn sim(threads: usize, seed: u64) -> Options {
    Options::default().strategy(Strategy::Simulation).threads(threads).seed(seed).walks(200).max_depth(40)
}

#[test]
fn same_seed_same_result_on_any_thread_count() {
    let model = SlidingPuzzle::puzzle8();
    let first = check(&model, &sim(1, 7)).report;
    assert_eq!(first.stop_reason, StopReason::Walks);
    assert_eq!(first.walks, Some(200));
    for t in common::THREADS {
        let r = check(&model, &sim(t, 7)).report;
        assert_eq!(
            (r.unique_states, r.transitions, r.max_depth_reached),
            (first.unique_states, first.transitions, first.max_depth_reached)
        );
    }
    let other = check(&model, &sim(1, 8)).report;
    assert_ne!(other.unique_states, first.unique_states, "another seed walks elsewhere");
}

#[test]
fn simulation_finds_the_lasso_and_the_same_one_every_time() {
    let model = Philosophers::new(3);
    let first = check(&model, &sim(1, 3));
    assert_eq!(first.report.status("philosopher-0-eats"), Some(Status::Violated));
    assert_eq!(first.report.stop_reason, StopReason::Violation);
    common::assert_traces_replay(&model, &first, true);
    let lasso = first.trace("philosopher-0-eats").unwrap();
    assert!(lasso.loop_start.is_some());
    for t in [2, 4, 8] {
        let r = check(&model, &sim(t, 3));
        assert_eq!(common::verdicts(&r.report), common::verdicts(&first.report));
        assert_eq!(r.trace("philosopher-0-eats").unwrap().steps, lasso.steps);
    }
}

#[test]
fn simulation_never_claims_a_property_holds() {
    let r = check(&TwoPhaseCommit::new(3), &sim(2, 1).walks(20_000)).report;
    assert_eq!(r.status("consistent"), Some(Status::Unknown));
    assert_eq!(r.status("all-committed"), Some(Status::Found));
    assert!(!r.complete);
}
