//! StatefulSet ordering guarantees (new: the reference never checked them),
//! per consistency model, on the statefulset-scale scenario by exhaustive
//! BFS to the stated depth.
//!
//! Krepis finds a violation of "pod k is not created before pods 0..k-1 are
//! Running and Ready" under monotonic and resettable session, in 7 steps: pod
//! web-0 runs and is ready; node-0 restarts (its node object is deleted);
//! then either PodGC removes web-0 (monotonic) or the restarted kubelet,
//! reading the state before the node deletion, starts web-0 again and reports
//! it Running but not ready (resettable; the write is accepted since the pod
//! did not change); finally the StatefulSet controller, reading a lagging
//! state in which web-0 is still Running and Ready, creates web-1, and the
//! create lands on the newest state, where web-0 is gone or not ready. A
//! controller acting on a stale cache does exactly this; synchronous reads
//! rule it out, and under optimistic linear and causal the create lands on the
//! (stale) state read, where web-0 is still ready.

use krepis_engine::{Options, Status};
use krepis_model::properties::{STS_CREATES_IN_ORDER, STS_DELETES_IN_REVERSE};
use krepis_model::{check_scenario, Scenario};

use Status::{Holds, Violated};

#[test]
fn ordering_verdicts_per_consistency_model() {
    for (consistency, depth, creates, deletes) in [
        ("synchronous", 8, Holds, Holds),
        ("monotonic-session", 8, Violated, Holds),
        ("resettable-session", 8, Violated, Holds),
        ("optimistic-linear", 8, Holds, Holds),
        ("causal", 7, Holds, Holds),
    ] {
        let r = check_scenario(
            Scenario::statefulset_scale(consistency, 1),
            // Keep going: other properties break earlier under lagging reads.
            &Options::default().threads(2).max_depth(depth).keep_going(true),
        )
        .expect("a known model");
        assert_eq!(
            (r.status(STS_CREATES_IN_ORDER), r.status(STS_DELETES_IN_REVERSE)),
            (Some(creates), Some(deletes)),
            "{consistency} to depth {depth}"
        );
        if creates == Violated {
            let p = r.properties.iter().find(|p| p.name == STS_CREATES_IN_ORDER).unwrap();
            let trace = p.trace.as_ref().unwrap();
            assert_eq!(trace.len(), 8, "{consistency}: 7 steps");
            let last = trace.last().unwrap();
            let action = last.action.as_deref().unwrap_or("");
            assert!(
                action.contains("statefulset-controller")
                    && action.contains("stale state")
                    && action.contains("create pod web-1"),
                "{action}"
            );
            // web-0 is gone, or not ready, when web-1 is created.
            let web0 = last.state.split("web-0#").nth(1).map(|rest| rest.split([',', ';']).next().unwrap_or(""));
            assert!(web0.is_none_or(|w| !w.contains("ready")), "{consistency}: {}", last.state);
        }
    }
}

/// A settled StatefulSet of 2 whose image a client changes once: under
/// synchronous the rolling update completes (the new revision becomes
/// current with both pods on the new image), replacing web-1 before web-0,
/// and the ordering guarantees hold throughout.
#[test]
fn an_image_change_rolls_the_set_highest_ordinal_first() {
    let mut s = Scenario::statefulset_scale("synchronous", 1);
    s.perturbations = Default::default();
    s.perturbations.image = true;
    s.restarts = 0;
    s.settle = true;
    let r = check_scenario(s, &Options::default().threads(2)).expect("a known model");
    assert!(r.complete);
    assert_eq!(r.status(krepis_model::properties::STS_UPDATE_COMPLETES), Some(Status::Found));
    assert_eq!(r.status(STS_CREATES_IN_ORDER), Some(Holds));
    let p = r.properties.iter().find(|p| p.name == krepis_model::properties::STS_UPDATE_COMPLETES).unwrap();
    let actions: Vec<&str> = p.trace.as_ref().unwrap().iter().filter_map(|s| s.action.as_deref()).collect();
    let at = |needle: &str| {
        actions.iter().position(|a| a.contains(needle)).unwrap_or_else(|| panic!("{needle}: {actions:#?}"))
    };
    assert!(actions[0].starts_with("client wrote: update statefulset web"), "{actions:#?}");
    assert!(at("create controllerrevision web-") < at("delete pod web-1"));
    assert!(at("delete pod web-1") < at("delete pod web-0"), "{actions:#?}");
}
