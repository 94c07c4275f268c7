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

use std::sync::atomic::Ordering;

use hashbrown::HashMap;

use crate::fingerprint::{nonzero, Fingerprint};
use crate::progress::Counters;
use crate::property::{Kind, Property};
use crate::report::StopReason;
use crate::search::{Chain, Hits, SearchOutcome};
use crate::trace::chain_from_parents;
use crate::{Model, Options};

struct Seen {
    parent: Fingerprint,
    depth: u64,
}

struct Frame<A, S> {
    fp: Fingerprint,
    depth: u64,
    succ: Vec<(A, S)>,
}

struct Dfs<'a, M: Model> {
    model: &'a M,
    props: &'a [Property<M>],
    bound: u64,
    seen: HashMap<Fingerprint, Seen>,
    hits: Hits,
    violated: bool,
    truncated: bool,
    max_depth: u64,
    new_states: u64,
}

impl<M: Model> Dfs<'_, M> {
    /// Visits `state` (canonical, fingerprint `fp`) at `depth` from `parent`;
    /// returns whether it must be expanded.
    fn visit(&mut self, state: &M::State, fp: Fingerprint, parent: Fingerprint, depth: u64) -> bool {
        match self.seen.get_mut(&fp) {
            None => {
                self.seen.insert(fp, Seen { parent, depth });
                self.new_states += 1;
                self.max_depth = self.max_depth.max(depth);
                self.hits.check_first(self.model, self.props, state, fp);
                self.violated =
                    self.props.iter().enumerate().any(|(i, p)| p.kind == Kind::Always && self.hits.get(i).is_some());
            }
            Some(e) if self.bound > 0 && depth < e.depth => {
                e.depth = depth;
                e.parent = parent;
            }
            Some(_) => return false,
        }
        if self.bound > 0 && depth >= self.bound {
            self.truncated = true;
            return false;
        }
        true
    }
}

/// Runs the search until the space, a limit or a violation ends it.
pub(crate) fn run<M: Model>(model: &M, props: &[Property<M>], opts: &Options, counters: &Counters) -> SearchOutcome {
    let mut d = Dfs {
        model,
        props,
        bound: opts.max_depth,
        seen: HashMap::new(),
        hits: Hits::new(props.len()),
        violated: false,
        truncated: false,
        max_depth: 0,
        new_states: 0,
    };
    let mut pool: Vec<Vec<(M::Action, M::State)>> = Vec::new();
    let mut stack: Vec<Frame<M::Action, M::State>> = Vec::new();
    let mut transitions = 0u64;
    let mut steps = 0u64;
    let expand = |s: &M::State, fp: Fingerprint, depth: u64, pool: &mut Vec<Vec<_>>, transitions: &mut u64| {
        let mut succ = pool.pop().unwrap_or_default();
        model.successors(s, &mut succ);
        *transitions += succ.len() as u64;
        succ.reverse(); // popped from the back: visit in the model's order
        Frame { fp, depth, succ }
    };

    let mut init = Vec::new();
    model.init_states(&mut init);
    'search: for mut root in init {
        if opts.symmetry {
            model.canonicalize(&mut root);
        }
        let rfp = nonzero(model.fingerprint(&root));
        if d.visit(&root, rfp, 0, 0) {
            stack.push(expand(&root, rfp, 0, &mut pool, &mut transitions));
        }
        if d.violated && !opts.keep_going {
            break;
        }
        while !stack.is_empty() {
            steps += 1;
            if steps % 1024 == 0 {
                counters.transitions.store(transitions, Ordering::Relaxed);
                counters.depth.store(stack.len() as u64, Ordering::Relaxed);
                counters.queue.store(stack.len() as u64, Ordering::Relaxed);
                counters.add_unique(std::mem::take(&mut d.new_states), opts.max_states);
                if counters.stopped() {
                    break 'search;
                }
            }
            let Some(top) = stack.last_mut() else { break };
            let Some((_, mut next)) = top.succ.pop() else {
                if let Some(f) = stack.pop() {
                    pool.push(f.succ);
                }
                continue;
            };
            let (parent, depth) = (top.fp, top.depth + 1);
            if opts.symmetry {
                model.canonicalize(&mut next);
            }
            let fp = nonzero(model.fingerprint(&next));
            let more = d.visit(&next, fp, parent, depth);
            if d.violated && !opts.keep_going {
                break 'search;
            }
            if more {
                stack.push(expand(&next, fp, depth, &mut pool, &mut transitions));
            }
        }
    }
    counters.add_unique(d.new_states, 0);
    counters.transitions.store(transitions, Ordering::Relaxed);

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
    outcome
}
