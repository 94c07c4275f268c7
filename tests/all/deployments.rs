//! Deployment scenarios: the rollout completes under synchronous, and the
//! new property "no ReplicaSet is created while paused" breaks under
//! monotonic session with one instance; the shortest trace, read step by step.

use krepis_engine::{Options, Status};
use krepis_model::properties::{
    DEPLOYMENTS_COMPLETE, DEPLOYMENTS_EVENTUALLY_COMPLETE, DEP_NO_RS_WHILE_PAUSED, DEP_OLD_RS_SCALED_DOWN, DEP_RS_HASH,
};
use krepis_model::{check_scenario, Scenario};

/// Under synchronous, a rolling update from a settled Deployment of 2
/// replicas completes on every path, never leaves a completed rollout with
/// an old ReplicaSet scaled up, and keeps the hash labels consistent, within
/// depth 12 (the whole space, 4.5 M states to depth 29, takes 100 s).
#[test]
fn a_rollout_completes_under_synchronous() {
    let s = Scenario::deployment_rollout("synchronous", 1);
    let r = check_scenario(s, &Options::default().threads(2).max_depth(12)).expect("a known model");
    for (p, want) in [
        (DEP_RS_HASH, Status::Holds),
        (DEP_OLD_RS_SCALED_DOWN, Status::Holds),
        (DEP_NO_RS_WHILE_PAUSED, Status::Holds),
        (DEPLOYMENTS_COMPLETE, Status::Found),
        (DEPLOYMENTS_EVENTUALLY_COMPLETE, Status::Holds),
    ] {
        assert_eq!(r.status(p), Some(want), "{p}");
    }
}

/// A Deployment controller acting on a lagging read creates a ReplicaSet
/// for a Deployment that a client has paused again in the meantime:
/// 1. the controller reads the (paused) Deployment and writes its status;
/// 2. a client resumes the Deployment;
/// 3. the client pauses it again;
/// 4. the controller reads a state one write behind, in which the Deployment
///    is resumed, and creates its first ReplicaSet; the create lands on the
///    newest state, where the Deployment is paused.
///
/// Real behaviour: Kubernetes' Deployment controller decides from its
/// informer cache, which may lag the API server; nothing on the server side
/// ties a ReplicaSet create to the owner's `paused` field.
#[test]
fn monotonic_session_creates_a_replicaset_while_paused() {
    let s = Scenario::deployment_paused("monotonic-session", 1);
    let r = check_scenario(s, &Options::default().threads(2).max_depth(6)).expect("a known model");
    assert_eq!(r.status(DEP_NO_RS_WHILE_PAUSED), Some(Status::Violated));
    let p = r.properties.iter().find(|p| p.name == DEP_NO_RS_WHILE_PAUSED).unwrap();
    let trace = p.trace.as_ref().expect("a trace");
    let actions: Vec<&str> = trace[1..].iter().map(|s| s.action.as_deref().unwrap_or("")).collect();
    assert_eq!(actions.len(), 4, "{actions:#?}");
    assert!(actions[0].starts_with("deployment-controller read the newest state") && actions[0].contains("status"));
    assert!(actions[1].starts_with("client wrote: update deployment") && !actions[1].ends_with("paused)"));
    assert!(actions[2].starts_with("client wrote: update deployment") && actions[2].ends_with("paused)"));
    assert!(
        actions[3].contains("read a stale state") && actions[3].contains("create replicaset test-paused-deployment-"),
        "{}",
        actions[3]
    );
}

/// The same scenario under synchronous: the controller always sees the
/// pause, so the property holds (complete search).
#[test]
fn synchronous_never_creates_a_replicaset_while_paused() {
    let s = Scenario::deployment_paused("synchronous", 1);
    let r = check_scenario(s, &Options::default().threads(2)).expect("a known model");
    assert!(r.complete);
    assert_eq!(r.status(DEP_NO_RS_WHILE_PAUSED), Some(Status::Holds));
    assert_eq!(r.status(DEPLOYMENTS_EVENTUALLY_COMPLETE), Some(Status::Holds));
}
