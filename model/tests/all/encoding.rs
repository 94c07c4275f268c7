//! Every state the checker can reach encodes and decodes to itself, with
//! the same fingerprint, in every built-in scenario under every consistency
//! model (the encoding checkpoints save). States come from random walks:
//! proptest draws the successor taken at each step, and shrinks a failure
//! to the shortest walk that shows it.

use krepis_encodings::share;
use krepis_engine::Model;
use krepis_model::consistency::{Consistency, Synchronous};
use krepis_model::{KubeModel, Scenario};
use proptest::prelude::*;

use crate::common;
use common::{MODELS, SCENARIOS};

/// Walks `model` from its initial state, taking successor `choice % n` at
/// each step, and checks every state round-trips, canonical or not; then
/// that every state of the walk and every successor met on it, encoded in
/// one sharing session as checkpoints encode them, decode in one to
/// themselves.
fn walk<C: Consistency>(model: &KubeModel<C>, choices: &[u16]) -> Result<(), TestCaseError> {
    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut state = init.swap_remove(0);
    let mut succ = Vec::new();
    let mut met = vec![state.clone()];
    for step in 0..=choices.len() {
        let mut canonical = state.clone();
        model.canonicalize(&mut canonical);
        // A model without interchangeable instances says so, and then
        // canonicalising changes nothing (simulation skips it).
        prop_assert!(model.has_symmetry() || canonical == state, "step {}: no symmetry, yet canonicalised", step);
        for s in [&state, &canonical] {
            let mut bytes = Vec::new();
            prop_assert!(model.encode_state(s, &mut bytes), "encodes");
            let back = model.decode_state(&bytes);
            prop_assert!(back.as_ref() == Some(s), "step {}: decodes to itself", step);
            prop_assert_eq!(back.map(|b| model.fingerprint(&b)), Some(model.fingerprint(s)));
        }
        let Some(&choice) = choices.get(step) else { break };
        succ.clear();
        model.successors(&state, &mut succ);
        if succ.is_empty() {
            break;
        }
        met.extend(succ.iter().map(|(_, s)| s.clone()));
        state = succ.swap_remove(choice as usize % succ.len()).1;
    }
    let encoded = share::writing(|| {
        met.iter()
            .map(|s| {
                let mut bytes = Vec::new();
                model.encode_state(s, &mut bytes).then_some(bytes)
            })
            .collect::<Option<Vec<_>>>()
    });
    prop_assert!(encoded.is_some(), "encodes in a session");
    let back = share::reading(|| encoded.iter().flatten().map(|b| model.decode_state(b)).collect::<Option<Vec<_>>>());
    prop_assert!(back.as_ref() == Some(&met), "decodes to itself in a session");
    for (a, b) in met.iter().zip(back.iter().flatten()) {
        prop_assert_eq!(model.fingerprint(a), model.fingerprint(b));
    }
    Ok(())
}

/// The walk `choices` draws, on any model.
struct Walk<'a>(&'a [u16]);

impl common::WithModel for Walk<'_> {
    type Out = Result<(), TestCaseError>;
    fn with<C: Consistency>(&mut self, model: &KubeModel<C>) -> Self::Out {
        walk(model, self.0)
    }
}

fn check(consistency: usize, s: usize, instances: usize, choices: &[u16]) -> Result<(), TestCaseError> {
    common::with_model(consistency, s, instances, &mut Walk(choices))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reachable_states_round_trip(
        consistency in 0..MODELS,
        s in 0..SCENARIOS,
        instances in 1usize..=2,
        choices in prop::collection::vec(any::<u16>(), 0..40),
    ) {
        check(consistency, s, instances, &choices)?;
    }
}

#[test]
fn every_scenario_and_model_round_trips_on_a_fixed_walk() {
    // The same walk everywhere, so no pair is left to chance.
    let choices: Vec<u16> = (0..30u16).map(|i| i.wrapping_mul(7919)).collect();
    for consistency in 0..MODELS {
        for s in 0..SCENARIOS {
            check(consistency, s, 2, &choices).unwrap_or_else(|e| panic!("model {consistency}, scenario {s}: {e}"));
        }
    }
}

#[test]
fn bytes_that_are_not_a_state_decode_to_none() {
    let model = KubeModel::<Synchronous>::new(Scenario::stale_reads("synchronous", 1));
    for bytes in [&[][..], &[0xff; 3], b"not a state at all"] {
        assert_eq!(model.decode_state(bytes), None);
    }
    // A state of a scenario with other controllers is refused too.
    let two = KubeModel::<Synchronous>::new(Scenario::stale_reads("synchronous", 2));
    let mut init = Vec::new();
    two.init_states(&mut init);
    let mut bytes = Vec::new();
    assert!(two.encode_state(&init[0], &mut bytes));
    assert_eq!(model.decode_state(&bytes), None);
}

/// A checkpoint writes a store, an object list or an object that several
/// states share once: the `cluster` states of a BFS to depth 3 encoded in
/// one sharing session take a small fraction of their encodings one by one.
#[test]
fn a_sharing_session_writes_shared_parts_once() {
    let model = KubeModel::<Synchronous>::new(Scenario::cluster("synchronous"));
    let mut level = Vec::new();
    model.init_states(&mut level);
    let mut all = level.clone();
    let mut succ = Vec::new();
    for _ in 0..3 {
        let mut next = Vec::new();
        for s in &level {
            succ.clear();
            model.successors(s, &mut succ);
            next.extend(succ.drain(..).map(|(_, s)| s));
        }
        all.extend(next.iter().cloned());
        level = next;
    }
    let size = |states: &[_]| -> usize {
        let mut total = 0;
        for s in states {
            let mut bytes = Vec::new();
            assert!(model.encode_state(s, &mut bytes));
            total += bytes.len();
        }
        total
    };
    let plain = size(&all);
    let shared = share::writing(|| size(&all));
    assert!(all.len() > 5_000, "{} states", all.len());
    assert!(shared * 4 < plain, "{shared} bytes shared, {plain} one by one, {} states", all.len());
}
