//! Actions do not keep what they wrote ([`KubeAction`]): `KubeModel::written`
//! takes the step again from the state it was taken from, and traces print
//! it through `Model::format_step`. These tests hold `written` to the write
//! each successor was built with, over every transition within a depth (the
//! API server gives the same answer to it from the same state), and hold
//! `format_step` to its contract: two steps from one state that read alike
//! lead to the same state (trace replay tells steps apart by their text).
//! Nor do actions keep how many writes a step's read missed: the text
//! counts them in the state the step was taken from.

use crate::reach;

use std::collections::HashMap;

use krepis_engine::Model;
use krepis_model::api::Operation;
use krepis_model::consistency::{Causal, Consistency, Synchronous};
use krepis_model::{KubeAction, KubeModel, Scenario};

/// Checks every transition of every state within `depth`; returns how many
/// controller writes, client writes, node restarts and controller steps
/// that read a stale state it checked.
fn check_all<C: Consistency>(m: &KubeModel<C>, depth: u64) -> [usize; 4] {
    let mut counts = [0; 4];
    let mut buf = Vec::new();
    for s in reach::reachable(m, depth) {
        buf.clear();
        m.successors(&s, &mut buf);
        let mut by_text = HashMap::new();
        for (a, t) in &buf {
            let op = m.written(&s, a);
            let answer = |read, op: &Operation| s.history.clone().write(read, op);
            match a {
                KubeAction::Step { read, outcome, .. } => {
                    assert_eq!(op.is_some(), outcome.is_some(), "{a:?}: written {op:?}");
                    if let (Some(op), Some(outcome)) = (&op, outcome) {
                        assert_eq!(answer(read, op), *outcome, "{a:?}: {op}");
                        counts[0] += 1;
                    }
                }
                KubeAction::Client { outcome, .. } => {
                    let op = op.as_ref().expect("a client write writes");
                    assert_eq!(answer(&s.history.max(), op), *outcome, "{a:?}: {op}");
                    counts[1] += 1;
                }
                KubeAction::NodeRestart { outcome, .. } => {
                    let op = op.as_ref().expect("a node restart deletes the node");
                    assert!(matches!(op, Operation::DeleteNode { .. }), "{op}");
                    assert_eq!(answer(&s.history.max(), op), *outcome, "{a:?}: {op}");
                    counts[2] += 1;
                }
                KubeAction::Restart { .. } => assert_eq!(op, None, "{a:?}"),
            }
            let text = m.format_step(&s, a);
            if let KubeAction::Step { read, .. } = a {
                let said = match s.history.missing(read) {
                    0 => format!("the newest state {read}"),
                    1 => format!("a stale state {read}, 1 write behind"),
                    n => format!("a stale state {read}, {n} writes behind"),
                };
                assert!(text.contains(&said), "'{text}' does not say it read {said}");
                assert!(m.format_action(a).contains(&format!("the state {read}")), "{a:?}");
                counts[3] += usize::from(!said.starts_with("the newest"));
            }
            // A node restart's text names the deletion in words of its own.
            if let (Some(op), false) = (&op, matches!(a, KubeAction::NodeRestart { .. })) {
                assert!(text.contains(&op.to_string()), "'{text}' does not say it wrote {op}");
            }
            if let Some(other) = by_text.insert(text.clone(), t) {
                assert!(other == t, "two steps read '{text}' and lead to different states");
            }
        }
    }
    counts
}

#[test]
fn written_is_the_write_each_synchronous_successor_was_built_with() {
    let [steps, clients, _, _] = check_all(&KubeModel::<Synchronous>::new(Scenario::cluster("synchronous")), 3);
    assert!(steps > 100 && clients > 100, "{steps} controller writes, {clients} client writes checked");
}

#[test]
fn written_is_the_write_each_causal_successor_was_built_with() {
    let [steps, _, node_restarts, stale] = check_all(&KubeModel::<Causal>::new(Scenario::stale_reads("causal", 1)), 5);
    assert!(steps > 100 && node_restarts > 10, "{steps} controller writes, {node_restarts} node restarts checked");
    assert!(stale > 10, "{stale} stale reads checked");
}
