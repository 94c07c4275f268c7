//! The [`Model`] trait: what a system must provide to be checked.

use std::fmt::Debug;
use std::hash::Hash;

use crate::fingerprint::{fingerprint_of, Fingerprint};
use crate::property::Property;

/// A transition of a state, named without computing the state it leads to
/// (see [`Model::choices`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What the model needs to compute the transition ([`Model::take`]);
    /// its meaning is the model's.
    pub id: u64,
    /// The weak-fairness group of the transition's action: what
    /// [`Model::fairness`] gives for it.
    pub fairness: Option<u8>,
}

/// Consecutive choices of one fairness group, counted rather than listed
/// (see [`Model::draw`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChoiceRun {
    /// How many choices the run holds.
    pub count: u64,
    /// Their weak-fairness group ([`Choice::fairness`]).
    pub fairness: Option<u8>,
}

/// What [`Model::draw`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drawn {
    /// The model does not offer choices: use [`Model::successors`].
    Unsupported,
    /// The state has no transitions (`pick` was not called).
    Deadlock,
    /// The choice at the index `pick` returned.
    Choice(Choice),
}

/// A finite transition system to be checked.
///
/// Implementations describe initial states, a successor relation and named
/// properties. The checkers call [`Model::successors`] on the hot path with a
/// buffer they own and reuse, so a model whose states are plain values (no heap
/// inside) generates successors without allocating.
///
/// Guarantees the checkers rely on (and that a model must keep):
/// - `successors` is a pure function of the state: the same state always gives
///   the same successors in the same order (determinism of traces and walks).
/// - `fingerprint` is a pure function of the state, equal for equal states.
/// - `canonicalize` maps every state of one symmetry orbit to one
///   representative, and every property gives the same answer on all states of
///   an orbit. The permutations must be automorphisms (the successors of a
///   permuted state are the permuted successors) and the set of initial
///   states must be closed under them (with a depth bound, a state and its
///   images are then at the same depth). If a model has no symmetry, keep
///   the default (identity).
pub trait Model: Sync {
    /// A global state. `Eq + Hash` are used by the reference checker, which keeps
    /// full states; the optimised checkers keep only fingerprints.
    type State: Clone + Eq + Hash + Debug + Send + Sync;
    /// A transition label, shown in traces.
    type Action: Clone + Debug + Send + Sync;

    /// Appends the initial states to `out` (which the caller has cleared).
    fn init_states(&self, out: &mut Vec<Self::State>);

    /// Appends every successor of `state`, with the action that leads to it,
    /// to `out` (which the caller has cleared and keeps between calls).
    /// A state with no successors is a deadlock (terminal state).
    fn successors(&self, state: &Self::State, out: &mut Vec<(Self::Action, Self::State)>);

    /// Names the transitions of `state` without computing the states they
    /// lead to, appending one [`Choice`] per successor to `out` (cleared by
    /// the caller) in the order of [`Model::successors`]: [`Model::take`] of
    /// the n-th choice must give the n-th successor. Returns false if the
    /// model does not offer this (the default).
    ///
    /// Simulation uses it to compute only the successor a walk takes
    /// instead of all of them at every step (the reference checker's
    /// `actions` and `next_state` split); exhaustive searches need every
    /// successor anyway and do not call it.
    fn choices(&self, _state: &Self::State, _out: &mut Vec<Choice>) -> bool {
        false
    }

    /// Draws one of `state`'s choices without listing them all: calls
    /// `pick` once with the choices as runs ([`ChoiceRun`]: consecutive
    /// choices of one fairness group, counted), in the order of
    /// [`Model::choices`], and returns the choice at the index `pick`
    /// returns (an index below the runs' total count; it is the index in the
    /// list `choices` gives; an index out of range gives
    /// [`Drawn::Unsupported`]). `pick` is not called when there is no choice.
    ///
    /// Simulation draws every step through it: a model whose transitions are
    /// many and cheap to count (the causal model's read points: hundreds a
    /// state) names only the one drawn. The default lists [`Model::choices`]
    /// and gives every choice a run of its own; a model that overrides it
    /// must agree with `choices` exactly (same total, same fairness at every
    /// index, same choice at every index).
    fn draw(&self, state: &Self::State, pick: &mut dyn FnMut(&[ChoiceRun]) -> u64) -> Drawn {
        let mut choices = Vec::new();
        if !self.choices(state, &mut choices) {
            return Drawn::Unsupported;
        }
        if choices.is_empty() {
            return Drawn::Deadlock;
        }
        let runs: Vec<ChoiceRun> = choices.iter().map(|c| ChoiceRun { count: 1, fairness: c.fairness }).collect();
        match usize::try_from(pick(&runs)).ok().and_then(|n| choices.get(n)) {
            Some(c) => Drawn::Choice(*c),
            None => Drawn::Unsupported,
        }
    }

    /// The successor `choice` (one of [`Model::choices`] of `state`) names,
    /// with its action; `None` if the model cannot compute it (simulation
    /// then falls back to [`Model::successors`] for that step).
    fn take(&self, _state: &Self::State, _choice: Choice) -> Option<(Self::Action, Self::State)> {
        None
    }

    /// The named properties to check. Called once per run.
    fn properties(&self) -> Vec<Property<Self>>
    where
        Self: Sized;

    /// Replaces `state` by the representative of its symmetry orbit.
    /// Called only when symmetry reduction is on. Default: no symmetry.
    fn canonicalize(&self, _state: &mut Self::State) {}

    /// Whether [`Model::canonicalize`] can change some state. A model that
    /// says `false` (say, no two interchangeable instances in this
    /// configuration) has borrowed states fingerprinted without the copy
    /// canonicalising them needs (simulation steps, trace rebuilding); saying
    /// `false` when `canonicalize` changes a state gives wrong counts.
    /// Default: true.
    fn has_symmetry(&self) -> bool {
        true
    }

    /// Called by BFS (and by the `eventually` pass that follows it) on each
    /// new state (one the visited set did not hold) before it waits in the
    /// frontier for its level to be expanded. A model
    /// may replace parts of `state` by equal parts that other waiting states
    /// hold (hash-consing), so that a level's states share memory instead of
    /// holding equal copies. It must leave the state's value unchanged: equal
    /// (`==`) to what it was, with the same fingerprint. Default: nothing.
    fn keep(&self, _state: &mut Self::State) {}

    /// Called by BFS between levels and when it ends (and by the
    /// `eventually` pass likewise), when every state [`Model::keep`] was
    /// given so far waits in the frontier or has been expanded: whatever a
    /// model remembered to share parts with may be forgotten (states hold
    /// their parts themselves). Default: nothing.
    fn forget_kept(&self) {}

    /// 64-bit xxh3 fingerprint of the state. The default feeds the state's
    /// `Hash` implementation to a streaming xxh3; models with a compact encoding
    /// should override it with `xxh3_64` over their bytes (much faster).
    fn fingerprint(&self, state: &Self::State) -> Fingerprint {
        fingerprint_of(state)
    }

    /// The weak-fairness group of `action`, if it has one (0 to 63).
    ///
    /// An `eventually` counterexample that loops counts only if its cycle is
    /// weakly fair: every group enabled (some action of it available) in
    /// every state of the cycle takes a step somewhere in the cycle. Actions
    /// without a group are unconstrained. Default: no fairness, so any cycle
    /// without the predicate is a counterexample.
    fn fairness(&self, _action: &Self::Action) -> Option<u8> {
        None
    }

    /// Whether the [`Model::fairness`] groups are invariant under the
    /// permutations [`Model::canonicalize`] quotients by. When they are not
    /// (say a group per controller instance, and instances are permuted), a
    /// cycle of orbits can be fair while the real path it stands for is not,
    /// or the other way round; the `eventually` pass then runs on unreduced
    /// states (safety properties stay reduced). Default: true.
    fn fairness_is_symmetric(&self) -> bool {
        true
    }

    /// Whether [`Model::canonicalize_groups`] reports how canonicalising
    /// renames the fairness groups. A model whose groups are not symmetric
    /// ([`Model::fairness_is_symmetric`] false) and that says true here gets
    /// its `eventually` properties checked on orbits too, the pass following
    /// each instance through the renamings; otherwise they are checked on
    /// unreduced states. Default: false.
    fn reports_group_maps(&self) -> bool {
        false
    }

    /// Does what [`Model::canonicalize`] does to `state` and sets `groups`
    /// to how it renamed the fairness groups: for every group g of `state`
    /// as it was, `groups.get(g)` is the group whose actions, in the
    /// canonical state, are the images of g's actions (the same instance's
    /// group after the permutation). The map must be a permutation; groups
    /// no action uses may go anywhere that keeps it one. Called by the
    /// `eventually` pass only when [`Model::reports_group_maps`] is true.
    /// Default: `canonicalize` and the identity (right when the groups are
    /// symmetric).
    fn canonicalize_groups(&self, state: &mut Self::State, groups: &mut crate::GroupMap) {
        *groups = crate::GroupMap::IDENTITY;
        self.canonicalize(state);
    }

    /// Appends to `out` an encoding of `state` from which
    /// [`Model::decode_state`] rebuilds an equal state, in this process or a
    /// later one running the same model. Returns false if the model cannot
    /// (the default). Checkpoints need it; nothing on the hot path calls it.
    /// Checkpoints encode their states in one sharing session
    /// ([`krepis_encodings::share`]) and decode them in one, in the same
    /// order, so a serde encoding whose shared parts go through
    /// `share::serialize_shared` writes each part once per checkpoint.
    fn encode_state(&self, _state: &Self::State, _out: &mut Vec<u8>) -> bool {
        false
    }

    /// The state `encode_state` wrote into `bytes`; `None` if `bytes` is not
    /// such an encoding (or the model cannot decode, the default).
    fn decode_state(&self, _bytes: &[u8]) -> Option<Self::State> {
        None
    }

    /// How an action is shown when the state it was taken from is not at
    /// hand. Default: its `Debug` form.
    fn format_action(&self, action: &Self::Action) -> String {
        format!("{action:?}")
    }

    /// How the step `action` from `from` is shown in a trace: what the
    /// checker prints and what it compares to tell two steps from one state
    /// apart, so two different actions from one state must read differently.
    /// A model whose actions leave out what follows from the state they were
    /// taken from (what a step wrote, say, so that building a successor
    /// allocates nothing for its label) says it here. Default:
    /// [`Model::format_action`].
    fn format_step(&self, from: &Self::State, action: &Self::Action) -> String {
        let _ = from;
        self.format_action(action)
    }

    /// How a state is shown in a trace.
    fn format_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }

    /// The revision of the model's states: raise it whenever a change makes
    /// the model reach other states while the states it keeps still encode
    /// and fingerprint as before (states merged that were apart, say), so
    /// that a checkpoint written before is refused instead of resumed into
    /// a mix of both. Checkpoints record it. Default: 0.
    fn revision(&self) -> u32 {
        0
    }

    /// A short name for reports (e.g. `puzzle8`).
    fn name(&self) -> String {
        "model".to_string()
    }
}
