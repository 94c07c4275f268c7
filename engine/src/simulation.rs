//! Simulation: reproducible random walks.
//!
//! Walk `i` draws its choices from ChaCha8 seeded with the run's seed on stream
//! `i`, so it is the same walk whatever the thread count, the platform or the
//! crate version. A walk starts at a random initial state and takes random
//! successors until it reaches a state without successors or the depth bound;
//! without a depth bound it also ends when it returns to a state it visited.
//! A walk that closes a cycle is checked for `eventually` counterexamples.
//! Every state on a walk is checked against the `always` and `sometimes`
//! properties; a walk that ends in a deadlock or a cycle without an `eventually`
//! predicate having held on it is a counterexample (a lasso for a cycle).
//!
//! Threads claim walks by index. When walk `i` finds a violation, walks past
//! `i` are no longer started and the verdict comes from the lowest-indexed walk
//! that decided each property, so verdicts and traces are the same for any
//! thread count; `unique_states` counts the distinct states of all walks run.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use hashbrown::HashMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::eventually::{fairness_bit, group_bit};
use crate::fingerprint::Fingerprint;
use crate::model::{ChoiceRun, Drawn};
use crate::progress::Counters;
use crate::property::{Kind, Property};
use crate::report::{group, human_bytes, StopReason};
use crate::search::{Chain, SearchOutcome, Taken, Walked};
use crate::sync::lock;
use crate::visited::{grown_capacity, mark_for, Insert, VisitedSet, MIN_SLOTS, SLOT_BYTES};
use crate::{Model, Options};

/// Per property: the lowest walk index that decided it, with its trace.
type Found = Vec<Option<(u64, Chain)>>;

/// Keeps walk `walk`'s trace for property `i` if no lower walk decided it;
/// the trace is built only then (a `sometimes` property that holds on most
/// states of most walks would otherwise copy the walk at every step).
fn keep_lowest(found: &mut Found, i: usize, walk: u64, chain: impl FnOnce() -> Chain) {
    if found[i].as_ref().is_none_or(|(w, _)| walk < *w) {
        found[i] = Some((walk, chain()));
    }
}

/// Runs the walks until their count, a limit or a violation ends them.
pub(crate) fn run<M: Model>(model: &M, props: &[Property<M>], opts: &Options, counters: &Counters) -> SearchOutcome {
    let threads = opts.threads.max(1);
    let budget_slots = ((opts.memory / SLOT_BYTES as u64) as usize).max(16);
    let wanted = if opts.walks > 0 && opts.max_depth > 0 {
        (opts.walks.saturating_mul(opts.max_depth + 1).saturating_mul(2)).min(MIN_SLOTS as u64) as usize
    } else {
        MIN_SLOTS
    };
    let table = Table::new(wanted.clamp(1024, budget_slots.max(1024)).min(budget_slots), budget_slots, threads);
    let next_walk = AtomicU64::new(0);
    // Walks at or past this index are not started (a violation was found).
    let cutoff = AtomicU64::new(u64::MAX);
    let walks_done = AtomicU64::new(0);
    let max_depth = AtomicU64::new(0);
    let found: Mutex<Found> = Mutex::new(vec![None; props.len()]);

    let mut init = Vec::new();
    model.init_states(&mut init);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                // Leaves the table's pause protocol however the thread ends
                // (a model that panics must not leave the others waiting).
                let _leave = Leave(&table);
                let mut walker = Walker::new(model, props, opts, &init);
                let mut local: Found = vec![None; props.len()];
                loop {
                    table.pause_point();
                    let w = next_walk.fetch_add(1, Ordering::Relaxed);
                    if (opts.walks > 0 && w >= opts.walks) || w >= cutoff.load(Ordering::Relaxed) || counters.stopped()
                    {
                        break;
                    }
                    let current = table.current();
                    let r = walker.walk(w, &current, &mut local);
                    drop(current);
                    counters.transitions.fetch_add(r.steps, Ordering::Relaxed);
                    let unique = counters.add_unique(r.new_states, opts.max_states);
                    if unique >= table.mark.load(Ordering::Relaxed) && !table.ask_to_grow() && !counters.stopped() {
                        counters.request_stop(StopReason::MemoryLimit);
                    }
                    max_depth.fetch_max(r.depth, Ordering::Relaxed);
                    walks_done.fetch_add(1, Ordering::Relaxed);
                    counters.depth.store(walks_done.load(Ordering::Relaxed), Ordering::Relaxed);
                    if r.violated && !opts.keep_going {
                        cutoff.fetch_min(w + 1, Ordering::Relaxed);
                    }
                }
                let mut f = lock(&found);
                for (i, l) in local.into_iter().enumerate() {
                    if let Some((w, chain)) = l {
                        keep_lowest(&mut f, i, w, || chain);
                    }
                }
            });
        }
    });

    let mut outcome = SearchOutcome::new(props.len());
    let cut = cutoff.load(Ordering::Relaxed);
    let found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    for (i, f) in found.into_iter().enumerate() {
        if let Some((w, chain)) = f {
            if w < cut {
                outcome.decided[i] = chain.fps.last().copied();
                outcome.chains[i] = Some(chain);
            }
        }
    }
    outcome.walks = Some(walks_done.load(Ordering::Relaxed));
    outcome.max_depth_reached = max_depth.load(Ordering::Relaxed);
    let table = table.current();
    outcome.visited_bytes = table.bytes() as u64;
    outcome.stop_reason =
        if cut != u64::MAX { StopReason::Violation } else { counters.stop_reason().unwrap_or(StopReason::Walks) };
    if outcome.stop_reason == StopReason::MemoryLimit {
        outcome.error = Some(format!(
            "the visited set is full: {} states in {} (--memory); raise --memory or run fewer walks",
            group(counters.unique.load(Ordering::Relaxed)),
            human_bytes(table.bytes() as u64)
        ));
    }
    outcome
}

/// The visited set of a simulation, rebuilt to twice the states it holds
/// (up to the memory budget) when it passes 70% full. Walkers insert without any
/// coordination; a rebuild waits until every walker is between two walks
/// (they check at [`Table::pause_point`]), so no insert is lost. Walks do
/// not depend on the table (it only counts distinct states), so rebuilds
/// change no walk, verdict or count.
struct Table {
    current: Mutex<Arc<VisitedSet>>,
    budget_slots: usize,
    /// Unique states at which to grow (or, at the budget, to stop).
    mark: AtomicU64,
    grow: AtomicBool,
    pause: Mutex<Pause>,
    resumed: Condvar,
}

struct Pause {
    /// Walkers still running walks.
    active: usize,
    /// Walkers waiting at the pause point.
    waiting: usize,
    /// Rebuilds done (what waiters wait to change).
    rebuilds: u64,
}

impl Table {
    fn new(slots: usize, budget_slots: usize, threads: usize) -> Self {
        let t = VisitedSet::with_capacity(slots);
        Table {
            mark: AtomicU64::new(mark_for(t.capacity(), budget_slots)),
            current: Mutex::new(Arc::new(t)),
            budget_slots,
            grow: AtomicBool::new(false),
            pause: Mutex::new(Pause { active: threads, waiting: 0, rebuilds: 0 }),
            resumed: Condvar::new(),
        }
    }

    fn current(&self) -> Arc<VisitedSet> {
        lock(&self.current).clone()
    }

    /// Asks for a rebuild; false if the table is already at the budget.
    fn ask_to_grow(&self) -> bool {
        if self.current().capacity() >= self.budget_slots {
            return false;
        }
        self.grow.store(true, Ordering::Relaxed);
        true
    }

    /// Between two walks: waits while a rebuild is due, the last walker to
    /// arrive doing it.
    fn pause_point(&self) {
        if !self.grow.load(Ordering::Relaxed) {
            return;
        }
        let mut p = lock(&self.pause);
        if !self.grow.load(Ordering::Relaxed) {
            return;
        }
        p.waiting += 1;
        if p.waiting == p.active {
            self.rebuild(&mut p);
            return;
        }
        let seen = p.rebuilds;
        while p.rebuilds == seen {
            p = self.resumed.wait(p).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// A walker is done: if every other one waits for a rebuild, do it.
    fn leave(&self) {
        let mut p = lock(&self.pause);
        p.active -= 1;
        if self.grow.load(Ordering::Relaxed) && p.waiting > 0 && p.waiting == p.active {
            self.rebuild(&mut p);
        }
    }

    /// Copies every entry into a table twice the size of its contents (within
    /// the budget) and wakes the waiters. Called with every active walker
    /// waiting.
    fn rebuild(&self, p: &mut Pause) {
        let old = self.current();
        let unique = old.count() as u64;
        let new = VisitedSet::with_capacity(grown_capacity(unique, self.budget_slots).max(old.capacity() + 1));
        // The new table is larger than the old one: it cannot fill up.
        let copied = old.rehash_range(0..old.capacity(), &new);
        debug_assert!(copied);
        self.mark.store(mark_for(new.capacity(), self.budget_slots), Ordering::Relaxed);
        *lock(&self.current) = Arc::new(new);
        self.grow.store(false, Ordering::Relaxed);
        p.waiting = 0;
        p.rebuilds += 1;
        self.resumed.notify_all();
    }
}

/// Calls [`Table::leave`] when dropped.
struct Leave<'a>(&'a Table);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

struct WalkResult {
    steps: u64,
    new_states: u64,
    depth: u64,
    violated: bool,
}

/// One thread's reusable buffers for walking.
struct Walker<'a, M: Model> {
    model: &'a M,
    props: &'a [Property<M>],
    opts: &'a Options,
    init: &'a [M::State],
    path: Vec<Fingerprint>,
    on_path: HashMap<Fingerprint, usize>,
    succ: Vec<(M::Action, M::State)>,
    /// Per `eventually` property: whether its predicate held on the walk.
    held: Vec<bool>,
    /// Per state of the walk: the fairness groups enabled there.
    enabled: Vec<u64>,
    /// Per step of the walk: the fairness group of its action.
    took: Vec<u64>,
    /// The walk's initial state (index) and steps, to rebuild its trace.
    walked: Walked,
}

impl<'a, M: Model> Walker<'a, M> {
    fn new(model: &'a M, props: &'a [Property<M>], opts: &'a Options, init: &'a [M::State]) -> Self {
        Walker {
            model,
            props,
            opts,
            init,
            path: Vec::new(),
            on_path: HashMap::new(),
            succ: Vec::new(),
            held: vec![false; props.len()],
            enabled: Vec::new(),
            took: Vec::new(),
            walked: Walked { init: 0, steps: Vec::new() },
        }
    }

    /// The walk so far as a chain (`loop_start` for a lasso).
    fn chain(&self, loop_start: Option<usize>) -> Chain {
        Chain { fps: self.path.clone(), loop_start, walked: Some(self.walked.clone()), groups: None }
    }

    fn fp(&self, s: &M::State) -> Fingerprint {
        crate::trace::canonical_fp(self.model, s, self.opts.symmetry)
    }

    fn walk(&mut self, index: u64, table: &VisitedSet, found: &mut Found) -> WalkResult {
        let mut rng = ChaCha8Rng::seed_from_u64(self.opts.seed);
        rng.set_stream(index);
        let mut r = WalkResult { steps: 0, new_states: 0, depth: 0, violated: false };
        if self.init.is_empty() {
            return r;
        }
        self.path.clear();
        self.on_path.clear();
        self.enabled.clear();
        self.took.clear();
        self.walked.steps.clear();
        self.held.iter_mut().for_each(|h| *h = false);
        self.walked.init = rng.gen_range(0..self.init.len());
        let mut state = self.init[self.walked.init].clone();
        let mut fp = self.fp(&state);
        loop {
            let depth = self.path.len() as u64;
            self.path.push(fp);
            // The first visit: a loop from there holds every later loop
            // back to this state, so it is weakly fair if any of them is.
            self.on_path.entry(fp).or_insert(self.path.len() - 1);
            r.depth = depth;
            if table.insert(fp) == Insert::New {
                r.new_states += 1;
            }
            for (i, p) in self.props.iter().enumerate() {
                let sat = (p.check)(self.model, &state);
                let chain = || self.chain(None);
                match p.kind {
                    Kind::Always if !sat => {
                        keep_lowest(found, i, index, chain);
                        r.violated = true;
                    }
                    Kind::Sometimes if sat => keep_lowest(found, i, index, chain),
                    Kind::Eventually => self.held[i] |= sat,
                    _ => {}
                }
            }
            if r.violated || (self.opts.max_depth > 0 && depth >= self.opts.max_depth) {
                return r;
            }
            let Some((a, next)) = self.step(&state, &mut rng, &mut r) else {
                self.eventually_fails(index, None, found, &mut r);
                return r;
            };
            self.took.push(group_bit(self.model, &a));
            state = next;
            fp = self.fp(&state);
            if let Some(&at) = self.on_path.get(&fp) {
                // The cycle path[at..] counts only if it is weakly fair.
                let all_enabled = self.enabled[at..].iter().fold(u64::MAX, |m, e| m & e);
                let taken = self.took[at..].iter().fold(0, |m, t| m | t);
                if all_enabled & !taken == 0 {
                    self.path.push(fp);
                    self.eventually_fails(index, Some(at), found, &mut r);
                    self.path.pop();
                }
                // Without a depth bound the walk ends here (it could loop
                // forever); with one it goes on to the bound.
                if r.violated || self.opts.max_depth == 0 {
                    return r;
                }
            }
        }
    }

    /// Takes one step from `state`, chosen uniformly among its successors
    /// (`None`: it has none), recording the fairness groups enabled there.
    /// With [`Model::draw`], only the successor taken is computed (and only
    /// the choice drawn is named); the walk is the same as computing them
    /// all, since choices come in the order of successors and the same
    /// index is drawn.
    fn step(&mut self, state: &M::State, rng: &mut ChaCha8Rng, r: &mut WalkResult) -> Option<(M::Action, M::State)> {
        let mut enabled = 0;
        // The index drawn among the choices, if the model offers them.
        let mut drawn = None;
        let mut pick = |runs: &[ChoiceRun]| {
            let total: u64 = runs.iter().map(|r| r.count).sum();
            enabled = runs.iter().filter(|r| r.count > 0).fold(0, |m, r| m | fairness_bit(r.fairness));
            let n = if total == 0 { 0 } else { rng.gen_range(0..total as usize) };
            drawn = Some(n);
            n as u64
        };
        match self.model.draw(state, &mut pick) {
            Drawn::Deadlock => return None,
            Drawn::Choice(c) => {
                if let Some(taken) = self.model.take(state, c) {
                    self.enabled.push(enabled);
                    self.walked.steps.push(Taken::Choice(c));
                    r.steps += 1;
                    return Some(taken);
                }
                // The model could not compute its own choice: every
                // successor, taking the one already drawn.
            }
            Drawn::Unsupported => {}
        }
        self.succ.clear();
        self.model.successors(state, &mut self.succ);
        r.steps += self.succ.len() as u64;
        if self.succ.is_empty() {
            return None;
        }
        self.enabled.push(self.succ.iter().fold(0, |m, (a, _)| m | group_bit(self.model, a)));
        let n = drawn.unwrap_or_else(|| rng.gen_range(0..self.succ.len()));
        self.walked.steps.push(Taken::Successor(n));
        (n < self.succ.len()).then(|| self.succ.swap_remove(n))
    }

    /// The walk ended in a deadlock (`loop_start` none) or closed a cycle:
    /// every `eventually` predicate that never held on it is violated.
    fn eventually_fails(&mut self, index: u64, loop_start: Option<usize>, found: &mut Found, r: &mut WalkResult) {
        for (i, p) in self.props.iter().enumerate() {
            if p.kind == Kind::Eventually && !self.held[i] {
                keep_lowest(found, i, index, || self.chain(loop_start));
                r.violated = true;
            }
        }
    }
}
