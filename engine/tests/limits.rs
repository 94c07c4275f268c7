//! Limits and interruptions: every way a run can be cut short yields a
//! report marked incomplete with the right stop reason, never a panic.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use krepis_engine::models::{Philosophers, SlidingPuzzle};
use krepis_engine::{check, Options, Status, StopReason, Strategy};

/// The 15-puzzle: about 10^13 states, never finished in a test.
fn big() -> SlidingPuzzle {
    SlidingPuzzle::new(4, 4)
}

#[test]
fn time_limit_stops_every_strategy() {
    for strategy in [Strategy::Bfs, Strategy::Dfs, Strategy::Simulation] {
        let o = Options::default().threads(2).strategy(strategy).walks(0).time_limit(Duration::from_millis(300));
        let r = check(&big(), &o).report;
        assert!(!r.complete);
        assert_eq!(r.stop_reason, StopReason::TimeLimit, "{strategy:?}");
        assert!(r.unique_states > 0);
        assert_eq!(r.status("tiles-are-a-permutation"), Some(Status::Unknown));
        assert!(r.elapsed_s < 30.0);
    }
}

#[test]
fn cancel_flag_stops_the_run_as_interrupted() {
    let o = Options::default().threads(2);
    let cancel = o.cancel.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        cancel.store(true, Ordering::SeqCst);
    });
    let r = check(&big(), &o).report;
    stopper.join().unwrap();
    assert!(!r.complete);
    assert_eq!(r.stop_reason, StopReason::Interrupted);
    assert!(r.unique_states > 0);
}

#[test]
fn max_states_stops_near_the_bound() {
    for t in [1, 2] {
        let r = check(&big(), &Options::default().threads(t).max_states(50_000)).report;
        assert_eq!(r.stop_reason, StopReason::MaxStates);
        assert!(r.unique_states >= 50_000 && r.unique_states < 200_000, "{}", r.unique_states);
    }
}

#[test]
fn a_full_visited_set_is_a_clear_error_not_an_abort() {
    for t in [1, 2, 4] {
        let r = check(&big(), &Options::default().threads(t).memory(1 << 20)).report;
        assert_eq!(r.stop_reason, StopReason::MemoryLimit);
        assert!(!r.complete);
        let e = r.error.expect("an error message");
        assert!(e.contains("visited set is full") && e.contains("--memory"), "{e}");
        assert!(r.visited_set_bytes <= 1 << 20);
        // 131,072 slots, stopped at 90%: most of them were used.
        assert!(r.unique_states > 110_000, "{}", r.unique_states);
    }
}

#[test]
fn the_visited_set_grows_within_the_budget() {
    // puzzle8 needs more than the initial 131,072 slots: it must grow, not fail,
    // and the grown table holds at most 16 bytes per state.
    for threads in [1, 2] {
        let r = check(&SlidingPuzzle::puzzle8(), &Options::default().threads(threads).memory(64 << 20)).report;
        assert_eq!(r.unique_states, 181_440);
        assert!(r.visited_set_bytes > 1 << 20, "{}", r.visited_set_bytes);
        assert!(r.bytes_per_state <= 16.0, "{}", r.bytes_per_state);
        assert_eq!(r.parent_log_bytes, 181_440 * 16);
    }
    // Too small a budget for the whole space: it stops cleanly instead.
    let r = check(&SlidingPuzzle::puzzle8(), &Options::default().threads(2).memory(1 << 20)).report;
    assert_eq!(r.stop_reason, StopReason::MemoryLimit);
}

#[test]
fn eventually_is_unknown_when_the_run_is_cut_short() {
    let r = check(&Philosophers::new(3), &Options::default().threads(1).max_states(5)).report;
    assert_eq!(r.stop_reason, StopReason::MaxStates);
    assert_eq!(r.status("philosopher-0-eats"), Some(Status::Unknown));
    assert_eq!(r.status("neighbours-never-eat-together"), Some(Status::Unknown));
}

#[test]
fn the_process_memory_limit_stops_the_run_before_the_machine_runs_out() {
    let mut o = Options::default().threads(2);
    o.rss_limit = krepis_engine::memory::current_rss() + (96 << 20);
    let r = check(&big(), &o).report;
    assert_eq!(r.stop_reason, StopReason::MemoryLimit);
    let e = r.error.expect("a message");
    assert!(e.contains("of memory") && e.contains("stopped before"), "{e}");
}

#[test]
fn a_memory_stop_while_keeping_the_passs_records_says_they_can_be_left_out() {
    for records in [true, false] {
        let mut o = Options::default().threads(2).record_for_pass(records);
        o.rss_limit = krepis_engine::memory::current_rss() + (64 << 20);
        let r = check(&Philosophers::new(16), &o).report;
        assert_eq!(r.stop_reason, StopReason::MemoryLimit);
        let e = r.error.expect("a message");
        assert_eq!(e.contains("--no-pass-records"), records, "{e}");
    }
}

/// Progress goes on during the `eventually` pass and says so: its depth
/// within the bound and the states it has explored, never more than the
/// search found.
#[test]
fn progress_reports_the_eventually_pass() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut o = Options::default().threads(2).max_depth(40);
    o.progress = Some(std::sync::Arc::new(move |p: &krepis_engine::Progress| {
        log.lock().unwrap().push((p.eventually_pass, p.unique_states));
    }));
    o.progress_interval = Duration::from_millis(1);
    let r = check(&Philosophers::new(9), &o).report;
    assert!(r.liveness_s > 0.0, "the pass ran");
    let seen = seen.lock().unwrap();
    let during: Vec<_> = seen.iter().filter_map(|(p, u)| p.map(|p| (p, *u))).collect();
    assert!(!during.is_empty(), "{} reports, none during the pass of {} s", seen.len(), r.liveness_s);
    for ((depth, explored), unique) in &during {
        assert!(*depth <= 40 && *explored <= *unique && *unique == r.unique_states);
    }
}
