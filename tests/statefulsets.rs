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
        ("resettable-session", 7, Violated, Holds),
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
