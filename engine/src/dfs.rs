//! Depth-first search with a depth bound (one thread).
//!
//! A state first reached deep and later reached by a shorter path is explored
//! again from the shorter depth, so with a bound D the search visits exactly the
//! states within D steps of an initial state: the same unique-state count as
//! breadth-first search to D. Traces follow the parent recorded at a state's
//! shallowest visit; they are real but not necessarily shortest. The run stops
//! at the first violation of an `always` property.
//!
//! `max_depth_reached`: with a bound, the largest shortest-path depth of a
//! visited state (equal to BFS to the same bound); without a bound, the
//! deepest path the search took, which is usually deeper than the BFS figure.
//!
//! For the `eventually` pass it records, as BFS does, the expansion of every
//! state in which some `eventually` predicate fails
//! ([`crate::eventually::Recording`]): once, at the state's first expansion
//! (a state expanded again from a shorter depth has the same successors).
//! Under a bound it keeps the states it met only at the bound (left
//! unexpanded) in which some predicate fails, for the pass to expand. Past
//! [`crate::Options::records_memory`] it lets its records and those states
//! go and records no more (the pass then generates successors itself).

use std::sync::atomic::Ordering;

use hashbrown::HashMap;

use crate::eventually::{self, Recorder, Recording};
use crate::fingerprint::{nonzero, Fingerprint};
use crate::progress::Counters;
use crate::property::{Kind, Property};
use crate::report::StopReason;
use crate::search::{Chain, Hits, Left, SearchOutcome};
use crate::trace::chain_from_parents;
use crate::{GroupMap, Model, Options};

struct Seen {
    parent: Fingerprint,
    depth: u64,
}

/// A state being expanded: its successors not visited yet, canonical and
/// fingerprinted, the next one last.
struct Frame<S> {
    fp: Fingerprint,
    depth: u64,
    succ: Vec<(Fingerprint, S)>,
}

/// What visiting a state found.
enum Visit {
    /// Seen before at no greater depth (or met at the bound again).
    Skip,
    /// To expand: for the first time if `first` (it is recorded then).
    Expand { first: bool },
    /// Met for the first time, at the bound: not expanded (yet).
    AtBound,
}

struct Dfs<'a, M: Model> {
    model: &'a M,
    props: &'a [Property<M>],
    symmetry: bool,
    bound: u64,
    seen: HashMap<Fingerprint, Seen>,
    hits: Hits,
    violated: bool,
    truncated: bool,
    max_depth: u64,
    new_states: u64,
    transitions: u64,
    /// What to record for the `eventually` pass (`None`: nothing, or no
    /// more once `records_dropped`).
    record: Option<Recording>,
    rec: Recorder,
    /// The records were dropped ([`Counters::records_dropped`]).
    records_dropped: bool,
    counters: &'a Counters,
    /// States met only at the bound so far in which some `eventually`
    /// predicate fails (kept only when recording).
    at_bound: HashMap<Fingerprint, M::State>,
    /// The model's successors of the state being expanded.
    generated: Vec<(M::Action, M::State)>,
    /// Successor lists of finished frames, for reuse.
    pool: Vec<Vec<(Fingerprint, M::State)>>,
    map: GroupMap,
}

impl<M: Model> Dfs<'_, M> {
    /// Visits `state` (canonical, fingerprint `fp`) at `depth` from `parent`.
    fn visit(&mut self, state: &M::State, fp: Fingerprint, parent: Fingerprint, depth: u64) -> Visit {
        let first = match self.seen.get_mut(&fp) {
            None => {
                self.seen.insert(fp, Seen { parent, depth });
                self.new_states += 1;
                self.max_depth = self.max_depth.max(depth);
                self.hits.check_first(self.model, self.props, state, fp);
                self.violated =
                    self.props.iter().enumerate().any(|(i, p)| p.kind == Kind::Always && self.hits.get(i).is_some());
                true
            }
            Some(e) if self.bound > 0 && depth < e.depth => {
                // Met at a shorter depth: expanded again, for the first
                // time if it was met only at the bound before.
                let first = e.depth >= self.bound;
                e.depth = depth;
                e.parent = parent;
                if first {
                    self.at_bound.remove(&fp);
                }
                return Visit::Expand { first };
            }
            Some(_) => return Visit::Skip,
        };
        if self.bound > 0 && depth >= self.bound {
            self.truncated = true;
            return Visit::AtBound;
        }
        Visit::Expand { first }
    }

    /// The frame of `s` (fingerprint `fp`, at `depth`): its successors
    /// canonical and fingerprinted, the expansion recorded if `first`.
    fn expand(&mut self, s: &M::State, fp: Fingerprint, depth: u64, first: bool) -> Frame<M::State> {
        if self.record.is_some() && self.counters.records_dropped() {
            self.drop_records();
        }
        let model = self.model;
        self.generated.clear();
        model.successors(s, &mut self.generated);
        self.transitions += self.generated.len() as u64;
        let recording = self.record.as_ref().filter(|r| first && r.begin(model, self.props, &mut self.rec, fp, s));
        let mut succ = self.pool.pop().unwrap_or_default();
        for (a, mut next) in self.generated.drain(..) {
            Recording::canonicalize(recording, self.symmetry, model, &mut next, &mut self.map);
            let nfp = nonzero(model.fingerprint(&next));
            if recording.is_some() {
                self.rec.edge(nfp, eventually::group_of(model, &a), &self.map);
            }
            succ.push((nfp, next));
        }
        succ.reverse(); // popped from the back: visit in the model's order
        Frame { fp, depth, succ }
    }

    /// Lets every record and every state kept for the pass go, and records
    /// no more: records are whole or of no use.
    fn drop_records(&mut self) {
        self.record = None;
        self.rec = Recorder::default();
        self.at_bound = HashMap::new();
        self.records_dropped = true;
    }

    /// Keeps `s`, met for the first time at the bound, for the pass if
    /// some predicate fails in it.
    fn leave(&mut self, s: M::State, fp: Fingerprint) {
        if self.record.as_ref().is_some_and(|r| r.fails_in(self.model, self.props, &s)) {
            self.at_bound.insert(fp, s);
        }
    }
}

/// Runs the search until the space, a limit or a violation ends it.
pub(crate) fn run<M: Model>(
    model: &M,
    props: &[Property<M>],
    opts: &Options,
    counters: &Counters,
) -> (SearchOutcome, Left<M::State>) {
    let mut d = Dfs {
        model,
        props,
        symmetry: opts.symmetry,
        bound: opts.max_depth,
        seen: HashMap::new(),
        hits: Hits::new(props.len()),
        violated: false,
        truncated: false,
        max_depth: 0,
        new_states: 0,
        transitions: 0,
        record: Recording::of(model, props, opts),
        rec: Recorder::default(),
        records_dropped: false,
        counters,
        at_bound: HashMap::new(),
        generated: Vec::new(),
        pool: Vec::new(),
        map: GroupMap::IDENTITY,
    };
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    let mut steps = 0u64;

    let mut init = Vec::new();
    model.init_states(&mut init);
    'search: for mut root in init {
        if opts.symmetry {
            model.canonicalize(&mut root);
        }
        let rfp = nonzero(model.fingerprint(&root));
        match d.visit(&root, rfp, 0, 0) {
            Visit::Expand { first } => stack.push(d.expand(&root, rfp, 0, first)),
            Visit::AtBound => d.leave(root, rfp),
            Visit::Skip => {}
        }
        if d.violated && !opts.keep_going {
            break;
        }
        while !stack.is_empty() {
            steps += 1;
            if steps % 1024 == 0 {
                counters.transitions.store(d.transitions, Ordering::Relaxed);
                counters.depth.store(stack.len() as u64, Ordering::Relaxed);
                counters.queue.store(stack.len() as u64, Ordering::Relaxed);
                counters.add_unique(std::mem::take(&mut d.new_states), opts.max_states);
                if counters.stopped() {
                    break 'search;
                }
            }
            let Some(top) = stack.last_mut() else { break };
            let Some((fp, next)) = top.succ.pop() else {
                if let Some(f) = stack.pop() {
                    d.pool.push(f.succ);
                }
                continue;
            };
            let (parent, depth) = (top.fp, top.depth + 1);
            let visit = d.visit(&next, fp, parent, depth);
            if d.violated && !opts.keep_going {
                break 'search;
            }
            match visit {
                Visit::Expand { first } => {
                    let frame = d.expand(&next, fp, depth, first);
                    stack.push(frame);
                }
                Visit::AtBound => d.leave(next, fp),
                Visit::Skip => {}
            }
        }
    }
    counters.add_unique(d.new_states, 0);
    counters.transitions.store(d.transitions, Ordering::Relaxed);
    let mut outcome = SearchOutcome::new(props.len());
    for i in 0..props.len() {
        if let Some(fp) = d.hits.get(i) {
            outcome.decided[i] = Some(fp);
            let fps = chain_from_parents(fp, |f| d.seen.get(&f).map(|e| e.parent));
            outcome.chains[i] = Some(Chain { fps, loop_start: None, walked: None, groups: None });
        }
    }
    // Within a bound every state ends at its shortest depth: report the BFS
    // figure. Without one, depths are those of the paths taken.
    outcome.max_depth_reached =
        if d.bound > 0 { d.seen.values().map(|e| e.depth).max().unwrap_or(0) } else { d.max_depth };
    outcome.stop_reason = if d.violated && !opts.keep_going {
        StopReason::Violation
    } else if let Some(r) = counters.stop_reason() {
        r
    } else if d.truncated {
        StopReason::MaxDepth
    } else {
        StopReason::Exhausted
    };
    outcome.visited_bytes = (d.seen.capacity() * (std::mem::size_of::<(Fingerprint, Seen)>() + 1)) as u64;
    let recorded = if d.rec.is_empty() { Vec::new() } else { vec![d.rec] };
    let states = vec![d.at_bound.into_iter().collect()];
    (outcome, Left { states, recorded, records_dropped: d.records_dropped })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counting::Counting;

    #[test]
    fn every_state_expanded_within_the_bound_is_recorded_once() {
        let counters = Counters::new();
        let fp = |x: u8| nonzero(Counting.fingerprint(&x));
        for bound in [0, 4, 6, 11] {
            let opts = Options::default().strategy(crate::Strategy::Dfs).max_depth(bound).keep_going(true);
            let (outcome, left) = run(&Counting, &Counting.properties(), &opts, &counters);
            if bound > 0 {
                // Every state at its shortest depth: 20's is 10.
                assert_eq!(outcome.max_depth_reached, bound.min(10), "bound {bound}");
            }
            let expansions: Vec<_> = left.recorded.iter().flat_map(|r| r.expansions()).collect();
            let mut want: Vec<(Fingerprint, Vec<Fingerprint>)> = (0..20u8)
                .filter(|&x| bound == 0 || u64::from(x.div_ceil(2)) < bound)
                .map(|x| (fp(x), [1, 2].into_iter().filter(|d| x + d <= 20).map(|d| fp(x + d)).collect()))
                .collect();
            let mut got = expansions.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "bound {bound}: every expanded state failing the predicate, once, edges in order");
            let mut left_over: Vec<Fingerprint> = left.states.iter().flatten().map(|(f, _)| *f).collect();
            left_over.sort();
            let mut at_bound: Vec<Fingerprint> =
                (0..20u8).filter(|&x| bound > 0 && u64::from(x.div_ceil(2)) == bound).map(fp).collect();
            at_bound.sort();
            assert_eq!(
                left_over, at_bound,
                "bound {bound}: the states met only at the bound, 20 (which holds) left out"
            );
        }
    }
}
