//! Job scenarios: counting under synchronous, and the stale status krepis
//! finds under resettable session, read step by step.

use krepis_engine::{Options, Status};
use krepis_model::properties::{JOBS_COMPLETE, JOB_STATUS_ACTIVE, JOB_STATUS_READY, JOB_SUCCEEDED_WITHIN_COMPLETIONS};
use krepis_model::{check_scenario, Scenario};

/// Without perturbation or restart, the Job of 2 completions completes and
/// never counts more than 2 successes; its stable status is always right.
/// Complete search.
#[test]
fn a_job_completes_and_counts_exactly_under_synchronous() {
    let mut s = Scenario::job_parallel("synchronous", 1);
    s.restarts = 0;
    s.client_writes = 0;
    let r = check_scenario(s, &Options::default().threads(2)).expect("a known model");
    assert!(r.complete, "{:?}", r.stop_reason);
    for (p, want) in [
        (JOB_STATUS_ACTIVE, Status::Holds),
        (JOB_STATUS_READY, Status::Holds),
        (JOB_SUCCEEDED_WITHIN_COMPLETIONS, Status::Holds),
        (JOBS_COMPLETE, Status::Found),
    ] {
        assert_eq!(r.status(p), Some(want), "{p}");
    }
}

/// A session-less Job controller (resettable session: it has not read yet)
/// acts on the initial state after a client suspended the Job:
/// 1. a client suspends the Job;
/// 2. the controller reads the state before the suspension and creates a pod;
/// 3. it reads the state with the suspension but without its own create, and
///    writes status `active: 0`.
///
/// The status write is the newest write and reflects the newest spec, so the
/// Job is "stable", yet one active pod exists. Real behaviour of a controller
/// whose cache lags its own writes: Kubernetes' Job controller computes the
/// status from its cache too (its expectations gate pod creation, not the
/// status).
#[test]
fn resettable_session_writes_a_stale_active_count() {
    let s = Scenario::job_parallel("resettable-session", 1);
    let r = check_scenario(s, &Options::default().threads(2).max_depth(4)).expect("a known model");
    assert_eq!(r.status(JOB_STATUS_ACTIVE), Some(Status::Violated));
    let p = r.properties.iter().find(|p| p.name == JOB_STATUS_ACTIVE).unwrap();
    let trace = p.trace.as_ref().expect("a trace");
    let actions: Vec<&str> = trace[1..].iter().map(|s| s.action.as_deref().unwrap_or("")).collect();
    assert_eq!(actions.len(), 3, "{actions:#?}");
    assert!(actions[0].starts_with("client wrote: update job parallel (suspend)"));
    assert!(actions[1].contains("read a stale state") && actions[1].contains("create pod parallel-*"));
    assert!(actions[2].contains("read a stale state") && actions[2].contains("active 0"));
    assert!(trace[3].state.contains("parallel-0#"), "{}", trace[3].state);
}
