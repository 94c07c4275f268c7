//! Traces: sequences of states from an initial state, rebuilt from
//! fingerprints by replaying the model.

use hashbrown::HashMap;

use crate::fingerprint::{nonzero, Fingerprint};
use crate::report::TraceStep;
use crate::search::ANY_GROUP;
use crate::Model;

/// A trace with the model's own actions and states.
pub struct Trace<M: Model> {
    /// `(action, state)` pairs; the first has no action (an initial state).
    pub steps: Vec<(Option<M::Action>, M::State)>,
    /// For a lasso: index of the state the last step returns to.
    pub loop_start: Option<usize>,
}

impl<M: Model> Clone for Trace<M> {
    fn clone(&self) -> Self {
        Trace { steps: self.steps.clone(), loop_start: self.loop_start }
    }
}

impl<M: Model> std::fmt::Debug for Trace<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace").field("steps", &self.steps).field("loop_start", &self.loop_start).finish()
    }
}

impl<M: Model> Trace<M> {
    /// Number of actions in the trace.
    pub fn len(&self) -> usize {
        self.steps.len().saturating_sub(1)
    }

    /// Whether the trace is a single initial state.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last state.
    pub fn last_state(&self) -> Option<&M::State> {
        self.steps.last().map(|(_, s)| s)
    }

    /// The trace formatted for reports.
    pub fn to_steps(&self, model: &M) -> Vec<TraceStep> {
        self.steps
            .iter()
            .enumerate()
            .map(|(i, (a, s))| TraceStep {
                action: a.as_ref().zip(i.checked_sub(1)).map(|(a, p)| model.format_step(&self.steps[p].1, a)),
                state: model.format_state(s),
            })
            .collect()
    }

    /// Whether it is a lasso whose last state is not its loop-start state
    /// itself (only the same up to symmetry: found on orbits).
    pub fn loop_is_permuted(&self) -> bool {
        match (self.loop_start.and_then(|l| self.steps.get(l)), self.steps.last()) {
            (Some((_, at)), Some((_, last))) => at != last,
            _ => false,
        }
    }

    /// Whether it is a lasso whose loop is weakly fair as written: every
    /// fairness group ([`Model::fairness`]) enabled in every state of the
    /// loop (from `loop_start` to the state before the last) has an action
    /// among the loop's steps. (A loop that closes on a permutation of its
    /// state is judged on one turn.) False for a trace that is not a lasso.
    pub fn loop_is_fair(&self, model: &M) -> bool {
        let Some(start) = self.loop_start.filter(|&l| l < self.steps.len()) else {
            return false;
        };
        let bit = |a: &M::Action| crate::eventually::group_bit(model, a);
        let (mut always, mut moved) = (u64::MAX, 0u64);
        let mut buf = Vec::new();
        for (i, (action, s)) in self.steps.iter().enumerate().skip(start) {
            if i + 1 < self.steps.len() {
                buf.clear();
                model.successors(s, &mut buf);
                always &= buf.iter().fold(0, |m, (a, _)| m | bit(a));
            }
            if i > start {
                moved |= action.as_ref().map_or(0, bit);
            }
        }
        always & !moved == 0
    }

    /// Checks that the trace is a real execution of `model`: the first state is
    /// initial and every step is one of the successors of the state before it
    /// (same action text, equal state). For a lasso, the last state must equal
    /// the loop-start state up to symmetry when `symmetry` is on.
    pub fn replays(&self, model: &M, symmetry: bool) -> Result<(), String> {
        let Some((_, first)) = self.steps.first() else {
            return Err("empty trace".into());
        };
        let mut init = Vec::new();
        model.init_states(&mut init);
        if !init.contains(first) {
            return Err("the first state is not an initial state".into());
        }
        let mut buf = Vec::new();
        for (i, w) in self.steps.windows(2).enumerate() {
            let (_, from) = &w[0];
            let (action, to) = &w[1];
            let Some(action) = action else {
                return Err(format!("step {} has no action", i + 1));
            };
            buf.clear();
            model.successors(from, &mut buf);
            let want = model.format_step(from, action);
            if !buf.iter().any(|(a, s)| s == to && model.format_step(from, a) == want) {
                return Err(format!("step {} ({want}) is not a successor of the state before it", i + 1));
            }
        }
        if let Some(l) = self.loop_start {
            let key = |s: &M::State| canonical_fp(model, s, symmetry);
            let (Some((_, at)), Some((_, last))) = (self.steps.get(l), self.steps.last()) else {
                return Err("loop start out of range".into());
            };
            if key(at) != key(last) {
                return Err("the last state does not return to the loop start".into());
            }
        }
        Ok(())
    }
}

/// Fingerprint of `state` after canonicalisation (if `symmetry`), never 0.
#[inline]
pub(crate) fn canonical_fp<M: Model>(model: &M, state: &M::State, symmetry: bool) -> Fingerprint {
    if symmetry && model.has_symmetry() {
        let mut c = state.clone();
        model.canonicalize(&mut c);
        nonzero(model.fingerprint(&c))
    } else {
        nonzero(model.fingerprint(state))
    }
}

/// Rebuilds a real (unreduced) execution whose canonical fingerprints are
/// `chain`, starting from an initial state. Each step takes the first successor
/// (in the model's order) whose canonical fingerprint is the next in the chain.
/// Returns `None` if no such execution exists (a fingerprint collision).
///
/// With `groups` (see [`crate::search::Chain::groups`]), a step takes a
/// successor whose action is in the step's fairness group.
pub(crate) fn replay_chain<M: Model>(
    model: &M,
    symmetry: bool,
    chain: &[Fingerprint],
    groups: Option<&[u8]>,
) -> Option<Trace<M>> {
    let (&first, rest) = chain.split_first()?;
    let mut init = Vec::new();
    model.init_states(&mut init);
    let start = init.into_iter().find(|s| canonical_fp(model, s, symmetry) == first)?;
    let mut steps: Vec<(Option<M::Action>, M::State)> = vec![(None, start)];
    let mut buf = Vec::new();
    for (k, &want) in rest.iter().enumerate() {
        buf.clear();
        model.successors(&steps.last()?.1, &mut buf);
        let group = groups.and_then(|g| g.get(k)).copied().unwrap_or(ANY_GROUP);
        let i = buf.iter().position(|(a, s)| in_group(model, a, group) && canonical_fp(model, s, symmetry) == want)?;
        let (a, s) = buf.swap_remove(i);
        steps.push((Some(a), s));
    }
    Some(Trace { steps, loop_start: None })
}

/// Whether `a` is in `group`, a [`crate::search::Chain::groups`] entry
/// ([`ANY_GROUP`] takes any action).
fn in_group<M: Model>(model: &M, a: &M::Action, group: u8) -> bool {
    group == ANY_GROUP || crate::eventually::group_of(model, a) == group
}

/// [`close_loop`]'s search: per node (position in the loop's turn, 0 at a
/// turn's end; real state), the node before it and the action that led
/// there (`None` for where it starts).
type Came<M> = HashMap<(usize, <M as Model>::State), Option<((usize, <M as Model>::State), <M as Model>::Action)>>;

/// States [`close_loop`] visits at most.
const CLOSE_LIMIT: usize = 1 << 16;

/// A lasso rebuilt from canonical fingerprints (`chain`, with its `groups`)
/// may end on a permutation of its loop-start state rather than on that
/// state. Going round the loop again from there, along the same
/// fingerprints, is a real path too, with the instances permuted once more
/// each turn (weakly fair if one turn is: the enabled and stepping groups
/// of each turn are the first turn's, permuted), and some number of turns
/// (the permutation's order, at most) closes on the very state. This finds
/// the fewest more turns that do, breadth first over the real states that
/// match each position of the loop (at most [`CLOSE_LIMIT`] of them), and
/// appends them; `trace` is left as it was if none is found within that.
pub(crate) fn close_loop<M: Model>(
    model: &M,
    symmetry: bool,
    trace: &mut Trace<M>,
    chain: &[Fingerprint],
    groups: Option<&[u8]>,
) {
    let Some(l) = trace.loop_start else {
        return;
    };
    if !trace.loop_is_permuted() || chain.len() != trace.steps.len() || l + 1 >= chain.len() {
        return;
    }
    let turn = &chain[l + 1..];
    let group_at = |k: usize| groups.and_then(|g| g.get(l + k)).copied().unwrap_or(ANY_GROUP);
    let (Some((_, goal)), Some((_, from))) = (trace.steps.get(l), trace.steps.last()) else {
        return;
    };
    let mut prev: Came<M> = HashMap::new();
    prev.insert((0, from.clone()), None);
    let mut queue = std::collections::VecDeque::from([(0usize, from.clone())]);
    let mut buf = Vec::new();
    while let Some((pos, x)) = queue.pop_front() {
        if prev.len() > CLOSE_LIMIT {
            return;
        }
        buf.clear();
        model.successors(&x, &mut buf);
        let group = group_at(pos);
        for (a, y) in buf.drain(..) {
            if !in_group(model, &a, group) || canonical_fp(model, &y, symmetry) != turn[pos] {
                continue;
            }
            let next = ((pos + 1) % turn.len(), y);
            if prev.contains_key(&next) {
                continue;
            }
            let done = next.0 == 0 && next.1 == *goal;
            prev.insert(next.clone(), Some(((pos, x.clone()), a)));
            if done {
                // Walk back to the first turn's end, then append forwards.
                let mut more = Vec::new();
                let mut at = next;
                while let Some(Some((before, a))) = prev.get(&at) {
                    more.push((Some(a.clone()), at.1.clone()));
                    at = before.clone();
                }
                more.reverse();
                trace.steps.extend(more);
                return;
            }
            queue.push_back(next);
        }
    }
}

/// Rebuilds a simulation walk by taking its recorded steps again (one
/// successor computed per step, instead of all of them as [`replay_chain`]
/// does: that was up to a tenth of a 10 s causal simulation's wall time).
/// Returns `None` if a step cannot be taken or its state's canonical
/// fingerprint is not the chain's (the caller then searches instead).
pub(crate) fn replay_walk<M: Model>(
    model: &M,
    symmetry: bool,
    chain: &[Fingerprint],
    walked: &crate::search::Walked,
) -> Option<Trace<M>> {
    if walked.steps.len() + 1 != chain.len() {
        return None;
    }
    let mut init = Vec::new();
    model.init_states(&mut init);
    if walked.init >= init.len() {
        return None;
    }
    let start = init.swap_remove(walked.init);
    if canonical_fp(model, &start, symmetry) != chain[0] {
        return None;
    }
    let mut steps: Vec<(Option<M::Action>, M::State)> = vec![(None, start)];
    let mut buf = Vec::new();
    for (taken, &want) in walked.steps.iter().zip(&chain[1..]) {
        let from = &steps.last()?.1;
        let (a, s) = match *taken {
            crate::search::Taken::Choice(c) => model.take(from, c)?,
            crate::search::Taken::Successor(i) => {
                buf.clear();
                model.successors(from, &mut buf);
                (i < buf.len()).then(|| buf.swap_remove(i))?
            }
        };
        if canonical_fp(model, &s, symmetry) != want {
            return None;
        }
        steps.push((Some(a), s));
    }
    Some(Trace { steps, loop_start: None })
}

/// Follows parent links from `fp` back to an initial state (parent 0) and
/// returns the chain from the initial state to `fp`.
pub(crate) fn chain_from_parents(
    fp: Fingerprint,
    parent: impl Fn(Fingerprint) -> Option<Fingerprint>,
) -> Vec<Fingerprint> {
    let mut chain = vec![fp];
    let mut cur = fp;
    while let Some(p) = parent(cur) {
        if p == 0 || chain.len() > 1 << 32 {
            break;
        }
        chain.push(p);
        cur = p;
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Philosophers;
    use crate::search::{Taken, Walked};

    /// Walks `model` from initial state 0 taking step `k % n` each time (by
    /// choice when the model offers choices): the chain and the steps taken.
    fn walk(model: &Philosophers, picks: &[usize]) -> (Vec<Fingerprint>, Walked, Vec<<Philosophers as Model>::State>) {
        let mut init = Vec::new();
        model.init_states(&mut init);
        let mut state = init.swap_remove(0);
        let mut fps = vec![canonical_fp(model, &state, true)];
        let mut walked = Walked { init: 0, steps: Vec::new() };
        let mut states = vec![state];
        for &k in picks {
            let mut choices = Vec::new();
            if model.choices(&state, &mut choices) {
                let c = choices[k % choices.len()];
                walked.steps.push(Taken::Choice(c));
                state = model.take(&state, c).unwrap().1;
            } else {
                let mut succ = Vec::new();
                model.successors(&state, &mut succ);
                walked.steps.push(Taken::Successor(k % succ.len()));
                state = succ.swap_remove(k % succ.len()).1;
            }
            fps.push(canonical_fp(model, &state, true));
            states.push(state);
        }
        (fps, walked, states)
    }

    #[test]
    fn a_walk_replays_by_taking_its_steps_again() {
        let picks = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
        for model in [Philosophers::new(3), Philosophers::new(3).with_choices()] {
            let (fps, walked, states) = walk(&model, &picks);
            let t = replay_walk(&model, true, &fps, &walked).expect("the walk replays");
            let got: Vec<_> = t.steps.iter().map(|(_, s)| *s).collect();
            assert_eq!(got, states, "the walk itself, step by step");
            assert!(t.replays(&model, true).is_ok());
            // A chain that does not match the steps is refused (the caller
            // then searches): a wrong fingerprint, a wrong length, a wrong start.
            let mut wrong = fps.clone();
            wrong[5] ^= 1;
            assert!(replay_walk(&model, true, &wrong, &walked).is_none());
            assert!(replay_walk(&model, true, &fps[..5], &walked).is_none());
            let elsewhere = Walked { init: 7, steps: walked.steps.clone() };
            assert!(replay_walk(&model, true, &fps, &elsewhere).is_none());
        }
    }
}
