//! Parallel, level-synchronous breadth-first search.
//!
//! Each level's frontier is fixed when the level starts and cut into chunks;
//! worker threads claim chunks through one atomic cursor (one `fetch_add` per
//! chunk of up to 1,024 states, never per state), take and expand them (and
//! free them: a level's memory is released by every thread as it goes), and
//! insert the successors' fingerprints into the lock-free [`VisitedSet`],
//! their parent links into the [`ParentLog`]. New states go to
//! the thread's own buffer, which becomes one segment of the next frontier.
//! This balances like per-thread work-stealing deques (a thread idles only when
//! no chunk of the level is left) without deque traffic, and it makes the
//! result independent of the thread count: a state is always first inserted at
//! its BFS depth, so unique-state counts, `max_depth_reached` and verdicts are
//! the same for any number of threads, and every trace is a shortest one.
//!
//! Threads meet at a barrier between phases: the end of a level, or a rebuild
//! of the visited set when it passes 70% full (the rebuild itself runs on all
//! threads). Between the two barriers the leader (thread 0) settles the phase
//! and publishes the next task. Properties decided in a level are settled at
//! its end by taking, per property, the smallest fingerprint among the states
//! that decide it, so the state reported does not depend on timing.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard};

use crate::checkpoint::{self, Checkpoint, Frontiers, Header};
use crate::eventually::{self, Recorder, Recording};
use crate::fingerprint::{nonzero, Fingerprint};
use crate::parent_log::{LogBuffer, ParentLog};
use crate::progress::Counters;
use crate::property::Property;
use crate::report::{group, human_bytes, StopReason};
use crate::search::{Chain, Hits, Left, SearchOutcome};
use crate::sync::lock;
use crate::visited::{grown_capacity, mark_for, Insert, VisitedSet, FULL_AT, MIN_SLOTS, SLOT_BYTES};
use crate::{GroupMap, Model, Options};

/// Largest chunk of frontier states a thread claims at once.
const MAX_CHUNK: usize = 1024;
/// States expanded before their successors are inserted (see `expand`).
const PREFETCH_BATCH: usize = 8;
/// States in one segment of a thread's new states ([`Buffers::out`]): as
/// many as the largest chunk, so that a segment is a chunk of the next
/// frontier as it is.
const SEGMENT: usize = MAX_CHUNK;
/// Room for states in a phase's first segment, which grows by doubling up
/// to [`SEGMENT`] (a level may hold a handful of states, and a model's
/// states may be large); the phase's later segments are allocated whole.
const FIRST_SEGMENT: usize = 16;
/// Levels smaller than this are expanded by the leader alone, sparing every
/// thread two barrier waits per level (two-phase commit with 5 RMs, 17 small
/// levels: 6 ms with 2 threads before, against 4 ms with 1).
const SOLO_BELOW: usize = 2048;
/// Slots copied per claim when rebuilding the visited set.
const REHASH_CHUNK: usize = 1 << 16;

type Item<S> = (Fingerprint, S);

/// One level's states, cut into chunks. A thread that claims a chunk takes
/// its states, and drops them once expanded: a level's states are freed by
/// every thread as the level goes (its memory reused for the next level's
/// states), not by one thread while the others wait at the barrier (a
/// tenth of a `cluster` search's samples were the leader dropping levels and
/// the last frontier).
struct Frontier<S> {
    /// Each chunk is locked once, by the thread that claims it (or, after a
    /// stop, by the leader saving what is left): never contended.
    chunks: Vec<Mutex<Vec<Item<S>>>>,
    cursor: AtomicUsize,
}

impl<S> Frontier<S> {
    /// Cuts `segments` into chunks of at most `chunk` states (a copy of the
    /// states' handles, a small part of a level's cost).
    fn new(segments: Vec<Vec<Item<S>>>, chunk: usize) -> Self {
        let mut chunks = Vec::new();
        for seg in segments {
            if seg.len() <= chunk {
                if !seg.is_empty() {
                    chunks.push(Mutex::new(seg));
                }
                continue;
            }
            let mut items = seg.into_iter();
            loop {
                let part: Vec<Item<S>> = items.by_ref().take(chunk).collect();
                if part.is_empty() {
                    break;
                }
                chunks.push(Mutex::new(part));
            }
        }
        Frontier { chunks, cursor: AtomicUsize::new(0) }
    }

    /// Takes the next unclaimed chunk's states.
    fn claim(&self) -> Option<Vec<Item<S>>> {
        let i = self.cursor.fetch_add(1, Ordering::Relaxed);
        Some(std::mem::take(&mut *lock(self.chunks.get(i)?)))
    }

    /// The chunks nobody claimed (after a stop, or at a periodic save).
    fn remaining(&self) -> Vec<MutexGuard<'_, Vec<Item<S>>>> {
        let from = self.cursor.load(Ordering::Relaxed).min(self.chunks.len());
        self.chunks[from..].iter().map(lock).collect()
    }

    /// Takes every state not claimed yet (for dropping).
    fn take_remaining(&self) -> Vec<Vec<Item<S>>> {
        self.remaining().into_iter().map(|mut g| std::mem::take(&mut *g)).collect()
    }

    fn exhausted(&self) -> bool {
        self.cursor.load(Ordering::Relaxed) >= self.chunks.len()
    }
}

enum Task<S> {
    /// Expand the frontier (states at `depth`); ask for a rebuild of the table
    /// once the run holds `mark` unique states.
    Expand {
        frontier: Arc<Frontier<S>>,
        table: Arc<VisitedSet>,
        depth: u64,
        mark: u64,
    },
    /// Copy every entry of `old` into `new`.
    Rehash {
        old: Arc<VisitedSet>,
        new: Arc<VisitedSet>,
        cursor: Arc<AtomicUsize>,
    },
    Done,
}

impl<S> Clone for Task<S> {
    fn clone(&self) -> Self {
        match self {
            Task::Expand { frontier, table, depth, mark } => {
                Task::Expand { frontier: frontier.clone(), table: table.clone(), depth: *depth, mark: *mark }
            }
            Task::Rehash { old, new, cursor } => {
                Task::Rehash { old: old.clone(), new: new.clone(), cursor: cursor.clone() }
            }
            Task::Done => Task::Done,
        }
    }
}

/// Where workers hand their results to the leader, once per phase.
struct Coord<S> {
    task: Task<S>,
    next: Vec<Vec<Item<S>>>,
    hits: Hits,
    /// Successors the full visited set had no room for: (fingerprint, parent, state).
    unstored: Vec<Pending<S>>,
    max_branching: usize,
    /// Expansions recorded for the `eventually` pass, one part per thread and phase.
    recorded: Vec<Recorder>,
    /// New states of the level being found that were checked and let go
    /// ([`thins`]).
    thinned: u64,
}

type Pending<S> = (Fingerprint, Fingerprint, S);

struct Shared<'a, M: Model> {
    model: &'a M,
    props: &'a [Property<M>],
    /// Properties still checked (undecided); changed only between phases.
    live: Vec<AtomicBool>,
    opts: &'a Options,
    counters: &'a Counters,
    /// Parent links of every stored state.
    log: ParentLog,
    barrier: Barrier,
    coord: Mutex<Coord<M::State>>,
    /// Set by a worker whose chunk took the run past the task's mark.
    grow: AtomicBool,
    /// When the run started, for periodic checkpoints.
    started: std::time::Instant,
    /// Milliseconds after `started` at which the next periodic checkpoint
    /// is due (`u64::MAX`: never); changed only between phases.
    save_at_ms: AtomicU64,
    /// Set by a worker that saw a periodic checkpoint fall due.
    save_due: AtomicBool,
    /// What to record for the `eventually` pass (`None`: nothing).
    record: Option<Recording>,
    /// The level at the depth bound keeps only the states the `eventually`
    /// pass may expand ([`thins`]): the run has a bound and no checkpoint
    /// that a deeper run could resume.
    thin_last: bool,
    /// A thread that finds a violation of an `always` property keeps no
    /// more states of the level it is finding: the run stops at the end of
    /// the level it is expanding (no `keep_going`, and no checkpoint that
    /// a run going on could resume).
    thin_after_violation: bool,
}

/// Whether the level found by expanding the level at `depth` keeps only the
/// states the `eventually` pass may expand: it is the last one under the
/// depth bound, which BFS checks but never expands, and no checkpoint that
/// a deeper run could resume is asked for. Its other states are checked
/// and let go at once (on `cluster` a level holds about ten times the
/// states of the one before, so the last one was most of a bounded run's
/// memory).
fn thins<M: Model>(shared: &Shared<'_, M>, depth: u64) -> bool {
    shared.thin_last && depth + 1 == shared.opts.max_depth
}

/// The leader's own state, touched only between barriers.
struct Leader<M: Model> {
    budget_slots: usize,
    outcome: SearchOutcome,
    table: Arc<VisitedSet>,
    /// The expansion to resume after a rebuild of the visited set.
    pending: Option<(Arc<Frontier<M::State>>, u64)>,
    /// The frontier of the level a stop interrupted (handed to the caller,
    /// which frees it after the report is made).
    stopped: Option<Arc<Frontier<M::State>>>,
    /// Buffers for the levels the leader expands alone.
    solo: Buffers<M>,
}

/// A thread's expansion buffers, kept for the whole run.
struct Buffers<M: Model> {
    /// New states of the current phase, in segments of at most [`SEGMENT`]
    /// states, each but the first allocated at that size: the next
    /// frontier's chunks.
    /// (One vector grown by doubling copied every state again at each
    /// doubling, took fresh memory for each larger copy, and was cut into
    /// chunks by a further copy.)
    out: Vec<Vec<Item<M::State>>>,
    succ: Vec<(M::Action, M::State)>,
    /// Successors waiting for insertion, their slots being prefetched.
    pending: Vec<Pending<M::State>>,
    /// Successors the full visited set had no room for.
    unstored: Vec<Pending<M::State>>,
    hits: Hits,
    /// Parent links of the states this thread stored, not yet written.
    log: LogBuffer,
    /// Expansions recorded for the `eventually` pass in this phase.
    rec: Recorder,
    /// New states checked and let go in this phase ([`thins`], or after
    /// a violation: `violated`).
    thinned: u64,
    /// This thread found a violation of an `always` property in this phase.
    violated: bool,
}

impl<M: Model> Buffers<M> {
    fn new(props: usize) -> Self {
        Buffers {
            out: Vec::new(),
            succ: Vec::new(),
            pending: Vec::new(),
            unstored: Vec::new(),
            hits: Hits::new(props),
            log: LogBuffer::new(),
            rec: Recorder::default(),
            thinned: 0,
            violated: false,
        }
    }

    /// Hands this phase's results to the leader (the parent links to the
    /// log first, so that they are on file before any state of the next
    /// level is stored).
    fn hand_over(&mut self, shared: &Shared<'_, M>, branching: usize) {
        append_log(shared, &mut self.log);
        let c = &mut *lock(&shared.coord);
        c.next.extend(self.out.drain(..).filter(|seg| !seg.is_empty()));
        c.unstored.append(&mut self.unstored);
        if shared.counters.records_dropped() {
            // Past `Options::records_memory`: let every record go.
            self.rec = Recorder::default();
            c.recorded = Vec::new();
        } else if !self.rec.is_empty() {
            c.recorded.push(std::mem::take(&mut self.rec));
        }
        c.thinned += std::mem::take(&mut self.thinned);
        self.violated = false;
        c.hits.merge(&self.hits);
        self.hits.clear();
        c.max_branching = c.max_branching.max(branching);
    }
}

/// Writes a thread's parent links; a write error stops the run (the error is
/// reported from the log at the end).
fn append_log<M: Model>(shared: &Shared<'_, M>, buf: &mut LogBuffer) {
    if shared.log.append(buf).is_err() {
        shared.counters.request_stop(StopReason::Interrupted);
    }
}

/// Runs the search until the space, a limit or a violation ends it.
pub(crate) fn run<M: Model>(
    model: &M,
    props: &[Property<M>],
    opts: &Options,
    counters: &Counters,
) -> (SearchOutcome, Left<M::State>) {
    let threads = opts.threads.max(1);
    let budget_slots = ((opts.memory / SLOT_BYTES as u64) as usize).max(16);
    let live: Vec<AtomicBool> = props.iter().map(|_| AtomicBool::new(true)).collect();
    let mut outcome = SearchOutcome::new(props.len());
    let log = match ParentLog::new() {
        Ok(log) => log,
        Err(e) => {
            outcome.error = Some(e);
            outcome.stop_reason = StopReason::Interrupted;
            return (outcome, Left::nothing());
        }
    };
    // A checkpoint whose levels a run going on (deeper, or past a
    // violation) could expand: levels are kept whole.
    let resumable = opts.checkpoint_every.is_some() || opts.checkpoint.as_ref().is_some_and(|c| c.any_stop);
    let shared = Shared {
        model,
        props,
        live,
        opts,
        counters,
        log,
        barrier: Barrier::new(threads),
        coord: Mutex::new(Coord {
            task: Task::Done,
            next: Vec::new(),
            hits: Hits::new(props.len()),
            unstored: Vec::new(),
            max_branching: 1,
            recorded: Vec::new(),
            thinned: 0,
        }),
        grow: AtomicBool::new(false),
        started: std::time::Instant::now(),
        save_at_ms: AtomicU64::new(next_save_ms(opts, 0)),
        save_due: AtomicBool::new(false),
        record: Recording::of(model, props, opts),
        thin_last: opts.max_depth > 0 && !resumable,
        thin_after_violation: !opts.keep_going && !resumable,
    };

    let start = match &opts.resume {
        None => Ok(fresh(&shared, &mut outcome, budget_slots)),
        Some(cp) => {
            // Loading is not checking: the time limit starts after it.
            let loading = std::time::Instant::now();
            counters.pause_deadline();
            let r = resume(&shared, &mut outcome, budget_slots, cp);
            let loaded = loading.elapsed();
            counters.excuse(loaded);
            outcome.resume_s = loaded.as_secs_f64();
            r
        }
    };
    let start = match start {
        Ok(s) => s,
        Err(e) => {
            outcome.error = Some(e);
            outcome.stop_reason = StopReason::Interrupted;
            return (outcome, Left::nothing());
        }
    };
    {
        let mut c = lock(&shared.coord);
        c.task = match start.stop {
            Some(reason) => {
                outcome.stop_reason = reason;
                Task::Done
            }
            None => expansion(vec![start.current], start.table.clone(), start.depth, threads, 16, budget_slots),
        };
        if !start.next.is_empty() {
            c.next.push(start.next);
        }
        c.hits = start.hits;
    }
    let table = start.table;
    let mut leader =
        Leader { budget_slots, outcome, table, pending: None, stopped: None, solo: Buffers::new(props.len()) };
    std::thread::scope(|s| {
        for _ in 1..threads {
            let shared = &shared;
            s.spawn(move || worker(shared, None));
        }
        worker(&shared, Some(&mut leader));
    });
    // A run stopped within a level leaves parts kept for it.
    model.forget_kept();

    let mut outcome = leader.outcome;
    let log = &shared.log;
    if let Some(e) = log.error() {
        outcome.error = Some(e);
    }
    for (i, fp) in outcome.decided.iter().enumerate() {
        if let Some(fp) = fp {
            match log.chain(*fp) {
                Ok(fps) => outcome.chains[i] = Some(Chain { fps, loop_start: None, walked: None, groups: None }),
                Err(e) if outcome.error.is_none() => outcome.error = Some(format!("no trace: {e}")),
                Err(_) => {}
            }
        }
    }
    outcome.visited_bytes = leader.table.bytes() as u64;
    outcome.parent_log_bytes = log.bytes();
    let mut states = leader.stopped.take().map(|f| f.take_remaining()).unwrap_or_default();
    let c = &mut *lock(&shared.coord);
    states.append(&mut c.next);
    // Records are whole or of no use: once dropped, none is handed over.
    let records_dropped = shared.record.is_some() && counters.records_dropped();
    let recorded = if records_dropped { Vec::new() } else { std::mem::take(&mut c.recorded) };
    (outcome, Left { states, recorded, records_dropped })
}

/// Where a run starts: a table, the level to expand, what is known of the
/// level after it.
struct Start<S> {
    table: Arc<VisitedSet>,
    /// States at `depth`, to expand.
    current: Vec<Item<S>>,
    depth: u64,
    /// States at `depth + 1` already found (resumed runs).
    next: Vec<Item<S>>,
    /// Hits among `next`.
    hits: Hits,
    /// Set when there is nothing to expand.
    stop: Option<StopReason>,
}

/// A new run: the initial states, checked and settled as level 0.
fn fresh<M: Model>(shared: &Shared<'_, M>, outcome: &mut SearchOutcome, budget_slots: usize) -> Start<M::State> {
    let (model, props, opts, counters, live) = (shared.model, shared.props, shared.opts, shared.counters, &shared.live);
    let table = Arc::new(VisitedSet::with_capacity(MIN_SLOTS.min(budget_slots)));
    let mut hits = Hits::new(props.len());
    let mut init = Vec::new();
    model.init_states(&mut init);
    let mut level0 = Vec::new();
    let mut log = LogBuffer::new();
    for mut s in init {
        if opts.symmetry {
            model.canonicalize(&mut s);
        }
        let fp = nonzero(model.fingerprint(&s));
        if table.insert(fp) == Insert::New {
            hits.check(model, props, &s, fp, |_| true);
            level0.push((fp, s));
            if log.push(fp, 0) {
                append_log(shared, &mut log);
            }
        }
    }
    append_log(shared, &mut log);
    counters.add_unique(level0.len() as u64, 0);
    counters.queue.store(level0.len() as u64, Ordering::Relaxed);
    let violated = outcome.settle_level(props, &hits, live) && !opts.keep_going;
    let stop = if violated {
        Some(StopReason::Violation)
    } else if level0.is_empty() {
        Some(StopReason::Exhausted)
    } else {
        None
    };
    Start { table, current: level0, depth: 0, next: Vec::new(), hits: Hits::new(props.len()), stop }
}

/// A run resumed from a checkpoint: its table, levels, counters and verdicts.
fn resume<M: Model>(
    shared: &Shared<'_, M>,
    outcome: &mut SearchOutcome,
    budget_slots: usize,
    cp: &Checkpoint,
) -> Result<Start<M::State>, String> {
    let (model, props, opts, counters, live) = (shared.model, shared.props, shared.opts, shared.counters, &shared.live);
    let names: Vec<String> = props.iter().map(|p| p.name.clone()).collect();
    cp.check_model(model, opts.symmetry, &names)?;
    let h = cp.header();
    if h.decided.len() != props.len() || h.next_hits.len() != props.len() {
        return Err(format!("{}: corrupt checkpoint (property counts)", cp.path().display()));
    }
    // Room for every saved state with the table under its growth mark.
    let want = grown_capacity(h.visited + h.unstored, budget_slots);
    let most = (budget_slots as f64 * FULL_AT) as u64;
    if h.visited + h.unstored > most {
        return Err(format!(
            "{}: the checkpoint holds {} states; --memory {} holds at most {}: raise --memory",
            cp.path().display(),
            group(h.visited + h.unstored),
            human_bytes(budget_slots as u64 * SLOT_BYTES as u64),
            group(most)
        ));
    }
    let table = Arc::new(VisitedSet::with_capacity(want));
    // Set before loading, which takes a while on a large checkpoint, so
    // that progress shows the run being resumed rather than an empty one.
    counters.add_unique(h.visited, 0);
    counters.transitions.store(h.transitions, Ordering::Relaxed);
    counters.depth.store(h.depth, Ordering::Relaxed);
    counters.queue.store(h.current, Ordering::Relaxed);
    let saved = cp.load_into(model, opts.symmetry, &table, &shared.log)?;
    outcome.resumed = h.visited;
    outcome.max_depth_reached = h.max_depth_reached;
    outcome.decided.clone_from(&h.decided);
    for (i, d) in h.decided.iter().enumerate() {
        live[i].store(d.is_none(), Ordering::Relaxed);
    }
    let mut hits = Hits::from_vec(h.next_hits.clone());
    let mut next = saved.next;
    let mut new = 0;
    let mut log = LogBuffer::new();
    for (fp, parent, s) in saved.unstored {
        if table.insert(fp) == Insert::New {
            new += 1;
            hits.check(model, props, &s, fp, |i| live[i].load(Ordering::Relaxed));
            next.push((fp, s));
            if log.push(fp, parent) {
                append_log(shared, &mut log);
            }
        }
    }
    append_log(shared, &mut log);
    if let Some(e) = shared.log.error() {
        return Err(e);
    }
    counters.add_unique(new, 0);
    if !next.is_empty() {
        outcome.max_depth_reached = outcome.max_depth_reached.max(h.depth + 1);
    }
    let stop = (opts.max_depth > 0 && h.depth >= opts.max_depth).then_some(StopReason::MaxDepth);
    Ok(Start { table, current: saved.current, depth: h.depth, next, hits, stop })
}

/// The task that expands a new level made of `segments` (states at `depth`).
fn expansion<S>(
    segments: Vec<Vec<Item<S>>>,
    table: Arc<VisitedSet>,
    depth: u64,
    threads: usize,
    branching: usize,
    budget_slots: usize,
) -> Task<S> {
    let cap = table.capacity();
    // After a worker passes the mark, every thread may still finish one chunk:
    // keep chunk * threads * branching within 20% of a table that can grow (it
    // asks to at 70% full, so it is at most 90% full when it does), 40% of one
    // at the budget (asking to stop at 90%: successors it has no room for are
    // kept and saved, so larger chunks lose nothing).
    let room = if cap < budget_slots { cap / 5 } else { cap * 2 / 5 };
    let total: usize = segments.iter().map(Vec::len).sum();
    let chunk = (room / (threads * branching.max(1))).clamp(1, MAX_CHUNK).min(total.div_ceil(threads * 4).max(1));
    let frontier = Arc::new(Frontier::new(segments, chunk));
    let mark = mark_for(cap, budget_slots);
    Task::Expand { frontier, table, depth, mark }
}

fn worker<M: Model>(shared: &Shared<'_, M>, mut leader: Option<&mut Leader<M>>) {
    let mut bufs = Buffers::<M>::new(shared.props.len());
    loop {
        let task = lock(&shared.coord).task.clone();
        match task {
            Task::Done => return,
            Task::Expand { frontier, table, depth, mark } => {
                let branching = expand(shared, &frontier, &table, depth, mark, &mut bufs);
                bufs.hand_over(shared, branching);
            }
            Task::Rehash { old, new, cursor } => loop {
                let b = cursor.fetch_add(REHASH_CHUNK, Ordering::Relaxed);
                if b >= old.capacity() {
                    break;
                }
                // The new table is larger than the old one: it cannot fill up.
                let copied = old.rehash_range(b..(b + REHASH_CHUNK).min(old.capacity()), &new);
                debug_assert!(copied);
            },
        }
        shared.barrier.wait();
        if let Some(l) = leader.as_deref_mut() {
            decide(shared, l);
        }
        shared.barrier.wait();
    }
}

/// Expands chunks until the frontier is exhausted, a stop is requested, or the
/// run passes `mark` unique states. Returns the largest out-degree seen.
fn expand<M: Model>(
    shared: &Shared<'_, M>,
    frontier: &Frontier<M::State>,
    table: &VisitedSet,
    depth: u64,
    mark: u64,
    bufs: &mut Buffers<M>,
) -> usize {
    let Buffers { out, succ, pending, unstored, hits, log, rec, thinned, violated } = bufs;
    let thin = thins(shared, depth);
    let model = shared.model;
    let symmetry = shared.opts.symmetry;
    let mut map = GroupMap::IDENTITY;
    let counters = shared.counters;
    let mut max_branching = 0;
    while !counters.stopped() && !shared.grow.load(Ordering::Relaxed) && !shared.save_due.load(Ordering::Relaxed) {
        if shared.started.elapsed().as_millis() as u64 >= shared.save_at_ms.load(Ordering::Relaxed) {
            shared.save_due.store(true, Ordering::Relaxed);
            break;
        }
        let Some(states) = frontier.claim() else {
            break;
        };
        let states = &states;
        let record = shared.record.as_ref().filter(|_| !counters.records_dropped());
        let mut new = 0u64;
        let mut transitions = 0u64;
        // Expand a few states, prefetch the slots of all their successors, then
        // insert them: the cache misses overlap instead of queueing.
        for batch in states.chunks(PREFETCH_BATCH) {
            for (fp, state) in batch {
                succ.clear();
                model.successors(state, succ);
                transitions += succ.len() as u64;
                max_branching = max_branching.max(succ.len());
                // Record the expansion if some `eventually` predicate fails
                // here (and records are still kept).
                let recording = record.filter(|r| r.begin(model, shared.props, rec, *fp, state));
                for (a, mut next) in succ.drain(..) {
                    Recording::canonicalize(recording, symmetry, model, &mut next, &mut map);
                    let nfp = nonzero(model.fingerprint(&next));
                    if recording.is_some() {
                        rec.edge(nfp, eventually::group_of(model, &a), &map);
                    }
                    table.prefetch(nfp);
                    pending.push((nfp, *fp, next));
                }
            }
            for (nfp, parent, mut next) in pending.drain(..) {
                match table.insert(nfp) {
                    Insert::New => {
                        new += 1;
                        if log.push(nfp, parent) {
                            append_log(shared, log);
                        }
                        let live = |i: usize| shared.live[i].load(Ordering::Relaxed);
                        *violated |= hits.check(model, shared.props, &next, nfp, live) && shared.thin_after_violation;
                        // On the last level, only what the pass may expand
                        // from the records is kept; after a violation,
                        // nothing (the run stops when this level is done).
                        if *violated || thin && !record.is_some_and(|r| r.fails_in(model, shared.props, &next)) {
                            *thinned += 1;
                            continue;
                        }
                        model.keep(&mut next);
                        match out.last_mut() {
                            Some(seg) if seg.len() < SEGMENT => seg.push((nfp, next)),
                            _ => {
                                let room = if out.is_empty() { FIRST_SEGMENT } else { SEGMENT };
                                let mut seg = Vec::with_capacity(room);
                                seg.push((nfp, next));
                                out.push(seg);
                            }
                        }
                    }
                    Insert::Present => {}
                    Insert::Full => {
                        counters.request_stop(StopReason::MemoryLimit);
                        unstored.push((nfp, parent, next));
                    }
                }
            }
        }
        counters.transitions.fetch_add(transitions, Ordering::Relaxed);
        if counters.add_unique(new, shared.opts.max_states) >= mark {
            shared.grow.store(true, Ordering::Relaxed);
        }
    }
    max_branching
}

fn full_message(unique: u64, table: &VisitedSet) -> String {
    format!(
        "the visited set is full: {} states in {} (--memory); raise --memory to explore further",
        group(unique),
        human_bytes(table.bytes() as u64)
    )
}

/// When the next periodic checkpoint is due, `now_ms` after the start.
fn next_save_ms(opts: &Options, now_ms: u64) -> u64 {
    match (&opts.checkpoint, opts.checkpoint_every) {
        (Some(_), Some(every)) => now_ms.saturating_add(every.as_millis() as u64),
        _ => u64::MAX,
    }
}

/// Saves a checkpoint of a run stopped for `reason` (`None`: a periodic
/// save of a running search) if the options ask for one: `states.current`
/// are at `depth`, `hits` are among `states.next`.
fn save<M: Model>(
    shared: &Shared<'_, M>,
    l: &mut Leader<M>,
    reason: Option<StopReason>,
    depth: u64,
    hits: &Hits,
    states: &Frontiers<'_, M::State>,
) {
    let Some(to) = &shared.opts.checkpoint else {
        return;
    };
    if reason.is_some_and(|r| !to.any_stop && r != StopReason::MemoryLimit) {
        return;
    }
    let (model, counters) = (shared.model, shared.counters);
    let header = Header {
        model: model.name(),
        model_revision: model.revision(),
        args: Vec::new(),
        properties: shared.props.iter().map(|p| p.name.clone()).collect(),
        init: checkpoint::init_fingerprints(model, shared.opts.symmetry),
        symmetry: shared.opts.symmetry,
        stopped: reason.map_or("periodic", StopReason::as_str).to_string(),
        depth,
        max_depth_reached: l.outcome.max_depth_reached,
        unique: counters.unique.load(Ordering::Relaxed),
        transitions: counters.transitions.load(Ordering::Relaxed),
        decided: l.outcome.decided.clone(),
        next_hits: hits.to_vec(),
        visited: 0,
        current: 0,
        next: 0,
        unstored: 0,
    };
    let started = std::time::Instant::now();
    let written = checkpoint::write(model, to, header, &shared.log, states);
    l.outcome.checkpoint_s += started.elapsed().as_secs_f64();
    match written {
        Ok(()) if reason.is_some() => l.outcome.checkpoint = Some(to.path.clone()),
        Ok(()) => {}
        Err(e) => {
            l.outcome.error = Some(match l.outcome.error.take() {
                Some(first) => format!("{first}; {e}"),
                None => e,
            })
        }
    }
}

/// Runs on the leader between two barriers, while every other worker waits:
/// settles the phase that ended and publishes the next task.
fn decide<M: Model>(shared: &Shared<'_, M>, l: &mut Leader<M>) {
    let threads = shared.opts.threads.max(1);
    let counters = shared.counters;
    let mut c = lock(&shared.coord);
    loop {
        let branching = c.max_branching;
        match std::mem::replace(&mut c.task, Task::Done) {
            Task::Done => {}
            Task::Rehash { new, .. } => {
                l.table = new.clone();
                if let Some((frontier, depth)) = l.pending.take() {
                    let mark = mark_for(new.capacity(), l.budget_slots);
                    c.task = Task::Expand { frontier, table: new, depth, mark };
                }
            }
            Task::Expand { frontier, table, depth, mark } => {
                let unique = counters.unique.load(Ordering::Relaxed);
                // New states of the level so far not kept.
                let thinned = c.thinned;
                // Saves the level as it stands: its unclaimed chunks, the next
                // level so far (`None`: a periodic save; the level goes on).
                let save_mid_level = |l: &mut Leader<M>, reason: Option<StopReason>| {
                    let next = c.next.iter().map(Vec::as_slice).collect();
                    let remaining = frontier.remaining();
                    let current = remaining.iter().map(|g| g.as_slice()).collect();
                    let states = Frontiers { current, next, unstored: &c.unstored };
                    save(shared, l, reason, depth, &c.hits, &states);
                };
                let stopped_mid_level = |l: &mut Leader<M>, reason: StopReason| {
                    l.outcome.stop_reason = reason;
                    if reason == StopReason::MemoryLimit {
                        l.outcome.error = Some(full_message(unique, &table));
                    }
                    if thins(shared, depth) || thinned > 0 {
                        // The level being found is kept in part (the last,
                        // or after a violation): a checkpoint of it could
                        // not be resumed.
                        if reason == StopReason::MemoryLimit {
                            l.outcome.no_checkpoint = Some(
                                "no checkpoint: the run was finding a level it does not keep whole (the last \
                                 under --max-depth, or one after a violation; --checkpoint FILE keeps them)",
                            );
                        }
                        l.stopped = Some(frontier.clone());
                        return;
                    }
                    save_mid_level(l, Some(reason));
                    l.stopped = Some(frontier.clone());
                };
                if counters.stop_reason() == Some(StopReason::MemoryLimit) {
                    stopped_mid_level(l, StopReason::MemoryLimit);
                    return;
                }
                if counters.stopped() {
                    stopped_mid_level(l, counters.stop_reason().unwrap_or(StopReason::Interrupted));
                    return;
                }
                if shared.grow.swap(false, Ordering::Relaxed) {
                    let cap = table.capacity();
                    if cap >= l.budget_slots {
                        stopped_mid_level(l, StopReason::MemoryLimit);
                        return;
                    }
                    let new = Arc::new(VisitedSet::with_capacity(grown_capacity(unique, l.budget_slots).max(cap + 1)));
                    l.pending = Some((frontier, depth));
                    c.task = Task::Rehash { old: table, new, cursor: Arc::new(AtomicUsize::new(0)) };
                    return;
                }
                if shared.save_due.swap(false, Ordering::Relaxed) {
                    // A periodic checkpoint, then on with the unclaimed chunks.
                    save_mid_level(l, None);
                    let now = shared.started.elapsed().as_millis() as u64;
                    shared.save_at_ms.store(next_save_ms(shared.opts, now), Ordering::Relaxed);
                    c.task = Task::Expand { frontier, table, depth, mark };
                    return;
                }
                debug_assert!(frontier.exhausted(), "workers leave a level only when it is exhausted, stopped or full");
                // The level is done: its successors form the next one.
                shared.model.forget_kept();
                let next = std::mem::take(&mut c.next);
                let hits = std::mem::replace(&mut c.hits, Hits::new(shared.props.len()));
                let total: usize = next.iter().map(Vec::len).sum();
                // States the level found, kept or not.
                let found = total as u64 + std::mem::take(&mut c.thinned);
                if found > 0 {
                    l.outcome.max_depth_reached = depth + 1;
                }
                counters.depth.store(depth + 1, Ordering::Relaxed);
                counters.queue.store(total as u64, Ordering::Relaxed);
                if l.outcome.settle_level(shared.props, &hits, &shared.live) && !shared.opts.keep_going {
                    l.outcome.stop_reason = StopReason::Violation;
                    // Left for the caller, who frees it after the report.
                    c.next = next;
                } else if found == 0 {
                    l.outcome.stop_reason = StopReason::Exhausted;
                } else if shared.opts.max_depth > 0 && depth + 1 >= shared.opts.max_depth {
                    l.outcome.stop_reason = StopReason::MaxDepth;
                    // The next level is found and checked but not expanded.
                    let current = next.iter().map(Vec::as_slice).collect();
                    let states = Frontiers { current, next: Vec::new(), unstored: &c.unstored };
                    let none = Hits::new(shared.props.len());
                    save(shared, l, Some(StopReason::MaxDepth), depth + 1, &none, &states);
                    c.next = next;
                } else if threads > 1 && total < SOLO_BELOW {
                    // Expand the small level here, then settle it like any phase.
                    let task = expansion(next, table, depth + 1, 1, branching, l.budget_slots);
                    if let Task::Expand { frontier, table, depth, mark } = &task {
                        let b = expand(shared, frontier, table, *depth, *mark, &mut l.solo);
                        drop(c);
                        l.solo.hand_over(shared, b);
                        c = lock(&shared.coord);
                    }
                    c.task = task;
                    continue;
                } else {
                    c.task = expansion(next, table, depth + 1, threads, branching, l.budget_slots);
                }
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::counting::{Counting, DropsAfter, UnderNine};
    use crate::fingerprint::Fingerprint;

    /// Both exhaustive searches, asked to drop their records at every
    /// point of a run: DFS lets go of its records and of the states it kept
    /// at the bound at its next expansion, BFS of its records (it hands
    /// over its last level either way); neither changes what it explores.
    #[test]
    fn records_dropped_mid_run_leave_nothing_for_the_pass_and_the_search_unchanged() {
        fn search(m: &DropsAfter<'_>, opts: &Options) -> (SearchOutcome, Left<u8>) {
            match opts.strategy {
                crate::Strategy::Dfs => crate::dfs::run(m, &m.properties(), opts, m.counters),
                _ => run(m, &m.properties(), opts, m.counters),
            }
        }
        for (strategy, threads) in [(crate::Strategy::Dfs, 1), (crate::Strategy::Bfs, 1), (crate::Strategy::Bfs, 2)] {
            for bound in [0, 6] {
                let opts = Options::default().strategy(strategy).max_depth(bound).keep_going(true).threads(threads);
                // How many times the search generates successors, and what it
                // records when never asked.
                let counters = Counters::new();
                let never = DropsAfter { counters: &counters, after: usize::MAX, calls: Default::default() };
                let whole = search(&never, &opts);
                let calls = never.calls.load(Ordering::Relaxed);
                let unique = if bound == 0 { 21 } else { 2 * bound + 1 };
                let expansions = |l: &Left<u8>| l.recorded.iter().map(|r| r.expansions().len()).sum::<usize>();
                assert!(!whole.1.records_dropped && expansions(&whole.1) > 0);
                let mut dropped = 0;
                for after in 0..calls + 2 {
                    let counters = Counters::new();
                    let m = DropsAfter { counters: &counters, after, calls: Default::default() };
                    let (outcome, left) = search(&m, &opts);
                    let at =
                        format!("{strategy:?}, {threads} threads, bound {bound}, dropped after {after} expansions");
                    assert_eq!(outcome.max_depth_reached, whole.0.max_depth_reached, "{at}");
                    assert_eq!(outcome.stop_reason, whole.0.stop_reason, "{at}");
                    assert_eq!(counters.unique.load(Ordering::Relaxed), unique, "{at}");
                    if left.records_dropped {
                        dropped += 1;
                        assert!(left.recorded.is_empty(), "{at}: records handed over");
                        if strategy == crate::Strategy::Dfs {
                            assert!(left.states.iter().all(Vec::is_empty), "{at}: states kept for the pass");
                        }
                    } else {
                        assert_eq!(expansions(&left), expansions(&whole.1), "{at}");
                    }
                    if !left.records_dropped {
                        let held = |l: &Left<u8>| l.states.iter().map(Vec::len).sum::<usize>();
                        assert_eq!(held(&left), held(&whole.1), "{at}: states left at the bound");
                    }
                }
                // DFS lets go at its next expansion, BFS at the end of the
                // search (or before).
                let asked = if strategy == crate::Strategy::Dfs { calls - 1 } else { calls };
                assert_eq!(dropped, asked, "{strategy:?}, bound {bound}: the runs asked in time");
            }
        }
    }

    /// The level at the depth bound keeps only the states the pass may
    /// expand (some predicate fails there, records kept), unless a
    /// checkpoint a deeper run could resume is asked for; what the search
    /// finds is the same either way.
    #[test]
    fn the_last_level_keeps_only_what_the_pass_may_expand() {
        // (Counting cannot encode its states: the checkpoint itself fails.)
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("run.checkpoint");
        let resumable = crate::checkpoint::CheckpointTo { path, any_stop: true, args: Vec::new() };
        let fp = |x: u8| nonzero(Counting.fingerprint(&x));
        // Depth 10 holds 19 and 20 (which holds "twenty").
        let base = Options::default().max_depth(10).keep_going(true);
        let mut periodic = base.clone();
        periodic.checkpoint_every = Some(std::time::Duration::from_secs(3600));
        for (opts, want, what) in [
            (base.clone(), vec![19], "thinned"),
            (base.clone().threads(2), vec![19], "thinned on two threads"),
            (base.clone().record_for_pass(false), vec![], "no records: nothing for the pass"),
            (base.clone().checkpoint(resumable), vec![19, 20], "a checkpoint a deeper run may resume"),
            (periodic, vec![19, 20], "periodic checkpoints"),
        ] {
            let counters = Counters::new();
            let (outcome, left) = run(&Counting, &Counting.properties(), &opts, &counters);
            let mut kept: Vec<Fingerprint> = left.states.iter().flatten().map(|(f, _)| *f).collect();
            kept.sort();
            let mut want: Vec<Fingerprint> = want.into_iter().map(fp).collect();
            want.sort();
            assert_eq!(kept, want, "{what}");
            assert_eq!(counters.unique.load(Ordering::Relaxed), 21, "{what}");
            assert_eq!((outcome.max_depth_reached, outcome.stop_reason), (10, StopReason::MaxDepth), "{what}");
        }
    }

    /// A run that stops at a violation keeps no state found after it in
    /// the level it ends with, unless `keep_going` or a resumable
    /// checkpoint asks for the level whole; it finds and reports the same.
    #[test]
    fn a_level_after_a_violation_keeps_no_more_states() {
        for threads in [1, 2] {
            let base = Options::default().threads(threads);
            let mut periodic = base.clone();
            periodic.checkpoint_every = Some(std::time::Duration::from_secs(3600));
            let mut found = Vec::new();
            for (opts, whole) in [(base.clone(), false), (base.clone().keep_going(true), true), (periodic, true)] {
                let counters = Counters::new();
                let (outcome, left) = run(&UnderNine, &UnderNine.properties(), &opts, &counters);
                let kept: usize = left.states.iter().map(Vec::len).sum();
                let at = format!("{threads} threads, keep going {}, whole {whole}", opts.keep_going);
                if opts.keep_going {
                    assert_eq!(outcome.stop_reason, StopReason::Exhausted, "{at}");
                    continue;
                }
                // The level at depth 5 holds 9 and 10: both kept, or neither
                // (on two threads one may come before the other's violation).
                assert_eq!(kept == 2, whole, "{at}: {kept} kept");
                assert!(whole || kept < 2, "{at}");
                found.push((
                    outcome.stop_reason,
                    outcome.max_depth_reached,
                    outcome.decided[0],
                    counters.unique.load(Ordering::Relaxed),
                ));
            }
            // Both break it: the smaller fingerprint decides.
            let first = nonzero(UnderNine.fingerprint(&9)).min(nonzero(UnderNine.fingerprint(&10)));
            let want = (StopReason::Violation, 5, Some(first), 11);
            assert!(found.iter().all(|f| *f == want), "{threads} threads: {found:?}");
        }
    }
}
