//! States are the same state whatever their stamps' numbering: a state,
//! its dense renumbering and an order-preserving renumbering with gaps are
//! `==` and hash alike (`Hash`, and the fingerprint of a model in ranked
//! mode, [`KubeModel::ranked`]). States a default model reaches are dense.
//! Checked at every state of a fixed walk of every built-in scenario under
//! every consistency model, in both modes (and `Consistency::newest`
//! against `max().newest()` on the way).

use krepis_engine::Model;
use krepis_model::consistency::Consistency;
use krepis_model::kube::renumber;
use krepis_model::{KubeModel, KubeState};

use crate::common;
use common::{MODELS, SCENARIOS};

/// `s` with every stamp `r` replaced by `3r + 5` (order-preserving, with gaps).
fn spread<C: Consistency>(s: &KubeState<C>) -> KubeState<C> {
    let mut t = s.clone();
    let map = |r: u32| 3 * r + 5;
    t.history.map_stamps(&map);
    t.locals.map_sessions(&map);
    t
}

/// Walks the model in ranked mode or not.
struct Walk(bool);

impl common::WithModel for Walk {
    type Out = usize;
    fn with<C: Consistency>(&mut self, model: &KubeModel<C>) -> usize {
        let ranked = KubeModel::<C>::new(model.scenario().clone()).ranked(self.0);
        let model = &ranked;
        let hash = |s: &KubeState<C>| krepis_engine::fingerprint::fingerprint_of(s);
        let mut init = Vec::new();
        model.init_states(&mut init);
        let mut state = init.swap_remove(0);
        let mut succ = Vec::new();
        let mut checked = 0;
        for step in 0..40u64 {
            let newest = state.history.max().newest();
            assert_eq!(state.history.newest(), newest, "step {step}: newest() is max().newest()");
            let mut dense = state.clone();
            renumber(&mut dense);
            assert!(dense == state, "step {step}: a state equals its dense renumbering");
            assert_eq!(model.fingerprint(&dense), model.fingerprint(&state), "step {step}: dense fingerprint");
            assert_eq!(hash(&dense), hash(&state), "step {step}: dense hash");
            let spread = spread(&state);
            assert!(spread == state, "step {step}: a state equals its renumbering by 3r + 5");
            assert_eq!(hash(&spread), hash(&state), "step {step}: spread hash");
            if self.0 && C::RANKED {
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
    for ranked in [false, true] {
        for consistency in 0..MODELS {
            for s in 0..SCENARIOS {
                checked += common::with_model(consistency, s, 1, &mut Walk(ranked));
            }
        }
    }
    assert!(checked > 2000, "{checked} states checked");
}

/// A model in ranked mode finds the same unique states and verdicts as the
/// default one and as the reference checker (full states in a hash set,
/// compared with `==`), by BFS on 1 and 2 threads and by simulation with
/// one seed, on the stale-reads scenario with two instances of each
/// controller.
#[test]
fn ranked_mode_agrees_with_renumbering() {
    use krepis_engine::{check, check_reference, Options, Strategy};
    fn agree<C: Consistency>() {
        let build = || krepis_model::Scenario::stale_reads(C::NAME, 2);
        let (plain, ranked) = (KubeModel::<C>::new(build()), KubeModel::<C>::new(build()).ranked(true));
        let base = Options::default().max_depth(5).symmetry(false);
        let summary = |r: &krepis_engine::Report| {
            let verdicts: Vec<_> = r.properties.iter().map(|p| (p.name.clone(), p.status)).collect();
            (r.unique_states, verdicts)
        };
        let reference = summary(&check_reference(&ranked, &base).report);
        assert_eq!(summary(&check_reference(&plain, &base).report), reference, "{}: reference checkers", C::NAME);
        for threads in [1, 2] {
            let opts = base.clone().threads(threads);
            assert_eq!(summary(&check(&ranked, &opts).report), reference, "{}: ranked, {threads} threads", C::NAME);
            assert_eq!(summary(&check(&plain, &opts).report), reference, "{}: plain, {threads} threads", C::NAME);
        }
        let sim = Options::default().strategy(Strategy::Simulation).max_depth(30).walks(200).seed(7).threads(1);
        let (a, b) = (check(&plain, &sim).report, check(&ranked, &sim).report);
        assert_eq!((a.transitions, a.unique_states), (b.transitions, b.unique_states), "{}: simulation", C::NAME);
    }
    agree::<krepis_model::consistency::Synchronous>();
    agree::<krepis_model::consistency::MonotonicSession>();
}
