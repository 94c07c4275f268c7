//! States are the same state whatever their stamps' numbering: under the
//! models that keep stamps as written ([`Consistency::RANKED`]), a state,
//! its dense renumbering and any order-preserving renumbering of it are
//! `==` and have one fingerprint; under the others every state is already
//! dense. Checked at every state of a fixed walk of every built-in scenario
//! under every consistency model.

use krepis_engine::Model;
use krepis_model::consistency::Consistency;
use krepis_model::kube::renumber;
use krepis_model::{KubeModel, KubeState};

mod common;
use common::{MODELS, SCENARIOS};

/// `s` with every stamp `r` replaced by `3r + 5` (order-preserving, with gaps).
fn spread<C: Consistency>(s: &KubeState<C>) -> KubeState<C> {
    let mut t = s.clone();
    let map = |r: u32| 3 * r + 5;
    t.history.map_stamps(&map);
    for l in &mut t.locals {
        if let Some(sess) = &mut l.session {
            sess.map(&map);
        }
    }
    t
}

struct Walk;

impl common::WithModel for Walk {
    type Out = usize;
    fn with<C: Consistency>(&mut self, model: &KubeModel<C>) -> usize {
        let mut init = Vec::new();
        model.init_states(&mut init);
        let mut state = init.swap_remove(0);
        let mut succ = Vec::new();
        let mut checked = 0;
        for step in 0..40u64 {
            let mut dense = state.clone();
            renumber(&mut dense);
            assert!(dense == state, "step {step}: a state equals its dense renumbering");
            assert_eq!(model.fingerprint(&dense), model.fingerprint(&state), "step {step}: dense fingerprint");
            let spread = spread(&state);
            if C::RANKED {
                assert!(spread == state, "step {step}: a state equals its renumbering by 3r + 5");
                assert_eq!(model.fingerprint(&spread), model.fingerprint(&state), "step {step}: spread fingerprint");
            } else {
                assert!(state.stamp_set().is_dense(), "step {step}: {} states are renumbered densely", C::NAME);
            }
            succ.clear();
            model.successors(&state, &mut succ);
            for (_, next) in &succ {
                let same = model.fingerprint(next) == model.fingerprint(&state);
                assert_eq!(*next == state, same, "step {step}: == agrees with the fingerprint");
            }
            checked += 1;
            if succ.is_empty() {
                break;
            }
            let pick = (step.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize % succ.len();
            state = succ.swap_remove(pick).1;
        }
        checked
    }
}

#[test]
fn states_are_the_same_whatever_their_numbering() {
    let mut checked = 0;
    for consistency in 0..MODELS {
        for s in 0..SCENARIOS {
            checked += common::with_model(consistency, s, 1, &mut Walk);
        }
    }
    assert!(checked > 1000, "{checked} states checked");
}
