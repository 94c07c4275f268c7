//! Simulation: the same seed gives the same walks on any thread count.

use crate::common;

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

/// A model offering choices (only the successor taken is computed) walks
/// exactly as the same model computing every successor: same states, depth,
/// verdicts and traces, with one successor computed per step instead of all.
#[test]
fn walks_with_choices_are_the_walks_without() {
    for fair in [false, true] {
        for (t, seed) in [(1, 3), (2, 5), (1, 11)] {
            let plain = if fair { Philosophers::new(4).with_fairness() } else { Philosophers::new(4) };
            let lazy = plain.clone().with_choices();
            let opts = sim(t, seed).walks(300).keep_going(true);
            let (a, b) = (check(&plain, &opts), check(&lazy, &opts));
            let (ra, rb) = (&a.report, &b.report);
            assert_eq!(
                (ra.unique_states, ra.max_depth_reached, ra.walks),
                (rb.unique_states, rb.max_depth_reached, rb.walks)
            );
            assert_eq!(common::verdicts(ra), common::verdicts(rb), "fair {fair}, seed {seed}");
            for p in &ra.properties {
                let (x, y) = (a.trace(&p.name), b.trace(&p.name));
                assert_eq!(x.map(|x| (&x.steps, x.loop_start)), y.map(|y| (&y.steps, y.loop_start)), "{}", p.name);
            }
            common::assert_traces_replay(&lazy, &b, true);
            assert!(rb.transitions < ra.transitions, "one successor per step: {} < {}", rb.transitions, ra.transitions);
        }
    }
}

/// The visited set starts small (1 MiB) and is rebuilt larger while walkers
/// pause between walks: a run that outgrows it several times counts the same
/// distinct states on any thread count (a lost or doubled entry would show).
#[test]
fn a_growing_visited_set_loses_no_state() {
    let model = SlidingPuzzle::new(4, 4);
    let opts = |t| sim(t, 17).walks(40_000).max_depth(60);
    let first = check(&model, &opts(1)).report;
    assert_eq!(first.stop_reason, StopReason::Walks);
    assert!(first.unique_states > 300_000, "{} states: too few to grow the table", first.unique_states);
    // Grown from 1 MiB several times, to twice the states it held each time.
    assert!(first.visited_set_bytes >= 4 << 20, "grown from 1 MiB: {} bytes", first.visited_set_bytes);
    assert!(first.bytes_per_state <= 16.0, "{} bytes per state", first.bytes_per_state);
    for t in [2, 3, 4] {
        let r = check(&model, &opts(t)).report;
        assert_eq!(
            (r.unique_states, r.transitions, r.walks),
            (first.unique_states, first.transitions, first.walks),
            "{t} threads"
        );
    }
}
