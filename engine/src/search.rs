//! What the search strategies share: per-property hits and the raw outcome
//! that [`crate::checker`] turns into a report.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::fingerprint::Fingerprint;
use crate::property::{Kind, Property};
use crate::report::StopReason;
use crate::Model;

/// Per property, the smallest fingerprint of a state that decides it (violates
/// an `always`, satisfies a `sometimes`) among the states checked so far.
/// Taking the minimum makes the chosen state independent of thread timing.
#[derive(Clone, Debug)]
pub(crate) struct Hits {
    min: Vec<Option<Fingerprint>>,
}

impl Hits {
    pub fn new(n: usize) -> Self {
        Hits { min: vec![None; n] }
    }

    /// Checks the `always` and `sometimes` properties for which `live(i)` holds
    /// on `state` and records `fp` for those it decides; true if it violates
    /// such an `always` property.
    #[inline]
    pub fn check<M: Model>(
        &mut self,
        model: &M,
        props: &[Property<M>],
        state: &M::State,
        fp: Fingerprint,
        live: impl Fn(usize) -> bool,
    ) -> bool {
        let mut violates = false;
        for (i, p) in props.iter().enumerate() {
            let decides = match p.kind {
                Kind::Always => live(i) && !(p.check)(model, state),
                Kind::Sometimes => live(i) && (p.check)(model, state),
                Kind::Eventually => false,
            };
            if decides {
                violates |= p.kind == Kind::Always;
                self.record(i, fp);
            }
        }
        violates
    }

    /// Like [`Hits::check`] for the properties not decided yet in `self`: the
    /// first state that decides a property is the one kept.
    pub fn check_first<M: Model>(&mut self, model: &M, props: &[Property<M>], state: &M::State, fp: Fingerprint) {
        for (i, p) in props.iter().enumerate() {
            if self.min[i].is_none() {
                let decides = match p.kind {
                    Kind::Always => !(p.check)(model, state),
                    Kind::Sometimes => (p.check)(model, state),
                    Kind::Eventually => false,
                };
                if decides {
                    self.min[i] = Some(fp);
                }
            }
        }
    }

    fn record(&mut self, i: usize, fp: Fingerprint) {
        let m = &mut self.min[i];
        if m.is_none_or(|old| fp < old) {
            *m = Some(fp);
        }
    }

    pub fn merge(&mut self, other: &Hits) {
        for (i, h) in other.min.iter().enumerate() {
            if let Some(fp) = h {
                self.record(i, *fp);
            }
        }
    }

    pub fn clear(&mut self) {
        self.min.iter_mut().for_each(|m| *m = None);
    }

    pub fn get(&self, i: usize) -> Option<Fingerprint> {
        self.min[i]
    }

    /// The hits as saved in a checkpoint.
    pub fn to_vec(&self) -> Vec<Option<Fingerprint>> {
        self.min.clone()
    }

    /// Hits read back from a checkpoint.
    pub fn from_vec(min: Vec<Option<Fingerprint>>) -> Self {
        Hits { min }
    }
}

/// A trace as canonical fingerprints from an initial state, with the lasso's
/// loop start if it is one, and, for a simulation walk, the steps it took.
#[derive(Clone, Debug)]
pub(crate) struct Chain {
    pub fps: Vec<Fingerprint>,
    pub loop_start: Option<usize>,
    /// How a walk went (simulation): the trace is rebuilt by taking these
    /// steps again instead of searching each state's successors.
    pub walked: Option<Walked>,
    /// Per step after the first, the fairness group ([`Model::fairness`],
    /// `u8::MAX` for none) its action must have, or [`ANY_GROUP`]: an
    /// `eventually` lasso's loop must take the steps that make it fair,
    /// not another action between the same two states.
    pub groups: Option<Vec<u8>>,
}

/// In [`Chain::groups`]: any action leading to the step's state will do.
pub(crate) const ANY_GROUP: u8 = u8::MAX - 1;

/// The steps of a simulation walk: the index of its initial state (in
/// [`Model::init_states`] order) and one entry
/// per step.
#[derive(Clone, Debug)]
pub(crate) struct Walked {
    pub init: usize,
    pub steps: Vec<Taken>,
}

/// One step of a walk.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Taken {
    /// The choice taken ([`Model::take`]).
    Choice(crate::model::Choice),
    /// The index of the successor taken ([`Model::successors`]).
    Successor(usize),
}

/// What a strategy found, before traces are replayed and verdicts named.
pub(crate) struct SearchOutcome {
    pub stop_reason: StopReason,
    pub max_depth_reached: u64,
    pub error: Option<String>,
    /// Bytes held by the visited set at the end.
    pub visited_bytes: u64,
    /// Bytes of parent links written to the parent log on disk (BFS).
    pub parent_log_bytes: u64,
    /// Per property: the fingerprint of the state that decided it.
    pub decided: Vec<Option<Fingerprint>>,
    /// Per property: its trace, when the strategy built it itself.
    pub chains: Vec<Option<Chain>>,
    /// Walks run (simulation).
    pub walks: Option<u64>,
    /// The checkpoint written when the run stopped, if one was.
    pub checkpoint: Option<std::path::PathBuf>,
    /// Why a run stopped for memory saved no checkpoint, if it did not.
    pub no_checkpoint: Option<&'static str>,
    /// Seconds spent writing checkpoints (periodic saves included).
    pub checkpoint_s: f64,
    /// Unique states the run started with (resumed from a checkpoint).
    pub resumed: u64,
    /// Seconds spent loading the checkpoint it resumed (0 if none).
    pub resume_s: f64,
}

impl SearchOutcome {
    pub fn new(n: usize) -> Self {
        SearchOutcome {
            stop_reason: StopReason::Exhausted,
            max_depth_reached: 0,
            error: None,
            visited_bytes: 0,
            parent_log_bytes: 0,
            decided: vec![None; n],
            chains: vec![None; n],
            walks: None,
            checkpoint: None,
            no_checkpoint: None,
            checkpoint_s: 0.0,
            resumed: 0,
            resume_s: 0.0,
        }
    }

    /// Records the hits of a finished level: each property not yet decided that
    /// the level decides is decided now and no longer checked (`live` false).
    /// Returns whether an `always` property was violated (the run stops).
    pub fn settle_level<M: Model>(&mut self, props: &[Property<M>], hits: &Hits, live: &[AtomicBool]) -> bool {
        let mut violated = false;
        for (i, p) in props.iter().enumerate() {
            if self.decided[i].is_none() {
                if let Some(fp) = hits.get(i) {
                    self.decided[i] = Some(fp);
                    live[i].store(false, Ordering::Relaxed);
                    violated |= p.kind == Kind::Always;
                }
            }
        }
        violated
    }
}

/// The states a stopped run leaves unexpanded, as (fingerprint, state).
pub(crate) type Leftovers<S> = Vec<Vec<(Fingerprint, S)>>;

/// What an exhaustive search gives besides its outcome: the states it left
/// unexpanded (freeing them takes seconds on large runs: the caller does it
/// after the report is made; the `eventually` pass expands those it meets)
/// and what it recorded for the `eventually` pass
/// ([`crate::eventually::Recording`]; empty if nothing).
pub(crate) struct Left<S> {
    pub states: Leftovers<S>,
    pub recorded: Vec<crate::eventually::Recorder>,
    /// The search recorded for the pass, then dropped its records
    /// ([`crate::Options::records_memory`]): `recorded` is empty and the
    /// pass must generate successors itself.
    pub records_dropped: bool,
}

impl<S> Left<S> {
    /// Nothing left and nothing recorded.
    pub fn nothing() -> Self {
        Left { states: Vec::new(), recorded: Vec::new(), records_dropped: false }
    }
}
