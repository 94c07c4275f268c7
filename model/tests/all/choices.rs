//! The lazy transitions simulation takes ([`Model::choices`],
//! [`Model::draw`] and [`Model::take`]) agree with [`Model::successors`]:
//! one choice per successor, in order, each taking to the same action and
//! state (same fingerprint) with the action's fairness group, and drawing
//! the n-th choice by count names the n-th choice. The newest state a
//! history caches is the one computed afresh. Checked on every state of
//! random walks in every built-in scenario under every consistency model
//! (proptest draws the successor taken at each step).

use krepis_engine::{Choice, Drawn, Model};
use krepis_model::consistency::{Consistency, Synchronous};
use krepis_model::{KubeModel, Scenario};
use proptest::prelude::*;

use crate::common;
use common::{MODELS, SCENARIOS};

/// Walks `model`, taking successor `choice % n` at each step, and checks
/// choices against successors at every state. Returns the number of
/// transitions compared.
fn walk<C: Consistency>(model: &KubeModel<C>, steps: &[u16]) -> Result<usize, TestCaseError> {
    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut state = init.swap_remove(0);
    let (mut succ, mut choices): (Vec<_>, Vec<Choice>) = (Vec::new(), Vec::new());
    let mut compared = 0;
    for step in 0..=steps.len() {
        succ.clear();
        model.successors(&state, &mut succ);
        choices.clear();
        prop_assert!(model.choices(&state, &mut choices), "the model offers choices");
        prop_assert_eq!(choices.len(), succ.len(), "step {}: one choice per successor", step);
        for (n, (c, (action, next))) in choices.iter().zip(&succ).enumerate() {
            let taken = model.take(&state, *c);
            prop_assert!(taken.is_some(), "step {}: choice {} can be taken", step, n);
            let (a, s) = taken.unwrap_or_else(|| unreachable!());
            prop_assert_eq!(&a, action, "step {}: choice {}'s action", step, n);
            prop_assert!(&s == next, "step {}: choice {} leads to successor {}", step, n, n);
            prop_assert_eq!(model.fingerprint(&s), model.fingerprint(next));
            prop_assert_eq!(c.fairness, model.fairness(action), "step {}: choice {}'s fairness", step, n);
            compared += 1;
        }
        // Drawing the n-th choice names choices[n], from runs that count
        // the choices and carry their fairness.
        for n in 0..choices.len() {
            let mut runs = Vec::new();
            let drawn = model.draw(&state, &mut |r| {
                runs = r.to_vec();
                n as u64
            });
            prop_assert_eq!(drawn, Drawn::Choice(choices[n]), "step {}: drawing choice {}", step, n);
            let fairness: Vec<Option<u8>> =
                runs.iter().flat_map(|r| std::iter::repeat_n(r.fairness, r.count as usize)).collect();
            let expected: Vec<Option<u8>> = choices.iter().map(|c| c.fairness).collect();
            prop_assert_eq!(fairness, expected, "step {}: runs", step);
        }
        if choices.is_empty() {
            prop_assert_eq!(model.draw(&state, &mut |_| 0), Drawn::Deadlock, "step {}: no choice to draw", step);
        }
        // The newest state a history keeps with it (the causal model caches
        // the merge of its heads) is the one computed afresh: a state
        // decoded from its bytes carries no cache.
        let mut bytes = Vec::new();
        prop_assert!(model.encode_state(&state, &mut bytes));
        let fresh = model.decode_state(&bytes);
        prop_assert!(fresh.is_some(), "step {}: the state decodes", step);
        let fresh = fresh.unwrap_or_else(|| unreachable!());
        prop_assert!(*state.history.latest() == *fresh.history.latest(), "step {}: the newest state", step);
        let Some(&pick) = steps.get(step) else { break };
        if succ.is_empty() {
            break;
        }
        state = succ.swap_remove(pick as usize % succ.len()).1;
    }
    Ok(compared)
}

/// The walk `steps` draws, on any model.
struct Walk<'a>(&'a [u16]);

impl common::WithModel for Walk<'_> {
    type Out = Result<usize, TestCaseError>;
    fn with<C: Consistency>(&mut self, model: &KubeModel<C>) -> Self::Out {
        walk(model, self.0)
    }
}

fn check(consistency: usize, s: usize, instances: usize, steps: &[u16]) -> Result<usize, TestCaseError> {
    common::with_model(consistency, s, instances, &mut Walk(steps))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn choices_take_to_the_successors_in_order(
        consistency in 0..MODELS,
        s in 0..SCENARIOS,
        instances in 1usize..=2,
        steps in prop::collection::vec(any::<u16>(), 0..30),
    ) {
        check(consistency, s, instances, &steps)?;
    }
}

/// Every pair of scenario and consistency model, on one fixed walk, so no
/// pair depends on what proptest happens to draw; restarts and client
/// writes appear among the choices compared.
#[test]
fn every_scenario_and_model_on_a_fixed_walk() {
    let steps: Vec<u16> = (0..25u16).map(|i| i.wrapping_mul(7919) ^ 0x5a5a).collect();
    for consistency in 0..MODELS {
        for s in 0..SCENARIOS {
            let compared =
                check(consistency, s, 2, &steps).unwrap_or_else(|e| panic!("model {consistency}, scenario {s}: {e}"));
            assert!(compared > 25, "model {consistency}, scenario {s}: only {compared} transitions compared");
        }
    }
}

/// A choice whose numbers are out of range is refused, not a panic.
#[test]
fn a_foreign_choice_is_none() {
    let model = KubeModel::<Synchronous>::new(Scenario::stale_reads("synchronous", 1));
    let mut init = Vec::new();
    model.init_states(&mut init);
    for id in [u64::MAX, 1 << 56 | 999, 2 << 56 | 999, 999 << 28, 5] {
        assert!(model.take(&init[0], Choice { id, fairness: None }).is_none(), "id {id:#x}");
    }
}
