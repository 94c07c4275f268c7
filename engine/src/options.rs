//! What a run does and where it stops: strategy, threads, limits, symmetry.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::checkpoint::{Checkpoint, CheckpointTo};
use crate::progress::Progress;

/// The search strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Parallel breadth-first search: exhaustive, shortest traces.
    Bfs,
    /// Depth-first search with a depth bound (single thread): exhaustive within
    /// the bound, traces not necessarily shortest.
    Dfs,
    /// Random walks from the initial states, reproducible from a seed.
    Simulation,
}

impl Strategy {
    /// The lower-case name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Bfs => "bfs",
            Strategy::Dfs => "dfs",
            Strategy::Simulation => "simulation",
        }
    }
}

/// A callback that receives progress about once per `progress_interval`.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Everything that shapes a run. `Options::default()` is a full parallel BFS
/// on all cores with half the machine's memory for the visited set.
#[derive(Clone)]
pub struct Options {
    /// Search strategy.
    pub strategy: Strategy,
    /// Worker threads (at least 1; more than the cores is allowed).
    pub threads: usize,
    /// Deepest depth explored (initial states are at depth 0); 0 = no bound.
    pub max_depth: u64,
    /// Wall-clock limit for the whole run, not counting the loading of a
    /// checkpoint it resumes.
    pub time_limit: Option<Duration>,
    /// Stop after about this many unique states; 0 = no bound.
    pub max_states: u64,
    /// Byte budget of the visited set. The run stops cleanly when it is full.
    pub memory: u64,
    /// Resident memory of the whole process at which the run stops cleanly
    /// (`memory-limit`) instead of being killed; 0 = no limit. Default: 85% of RAM.
    pub rss_limit: u64,
    /// Canonicalise states with [`crate::Model::canonicalize`] before fingerprinting.
    pub symmetry: bool,
    /// Seed of the random walks (simulation).
    pub seed: u64,
    /// Number of random walks (simulation); 0 = until another limit stops it.
    pub walks: u64,
    /// Keep exploring after a property is violated, to decide every property
    /// in one run (BFS: traces stay shortest). Default: stop after the level
    /// (BFS), state (DFS) or walk (simulation) that found the first violation.
    pub keep_going: bool,
    /// Set to `true` from anywhere (e.g. a Ctrl-C handler) to stop the run; the
    /// report is still produced, marked incomplete with reason `interrupted`.
    pub cancel: Arc<AtomicBool>,
    /// Where to save a checkpoint when a BFS run stops early, if anywhere.
    /// One that saves on any stop ([`CheckpointTo::any_stop`]), like
    /// [`Options::checkpoint_every`], makes BFS keep every level whole, so
    /// that a deeper run (or one going on past a violation) can resume it;
    /// otherwise the level at the depth bound keeps only the states the
    /// `eventually` pass may expand, and a thread that finds a violation
    /// of an `always` property keeps no more states of the level it is
    /// finding (the run stops after the level it is expanding).
    pub checkpoint: Option<CheckpointTo>,
    /// Also save a checkpoint this often while the run goes on (BFS, with
    /// [`Options::checkpoint`]), so that a crash or a kill loses at most
    /// this much work; each save replaces the last.
    pub checkpoint_every: Option<Duration>,
    /// A checkpoint to resume (BFS): the run starts where it stopped. Open
    /// it with [`Checkpoint::open`]; the run checks it is of this model.
    pub resume: Option<Arc<Checkpoint>>,
    /// Progress callback, called from a monitor thread.
    pub progress: Option<ProgressFn>,
    /// How often the progress callback is called.
    pub progress_interval: Duration,
    /// BFS and DFS record, for the `eventually` pass that follows them, the
    /// successors they generate of each state in which some `eventually`
    /// predicate fails, so that the pass does not generate them again
    /// (default: true). The verdicts, traces and the pass's graph are the
    /// same either way; recording costs 12 bytes per such edge while the
    /// run lasts, also when it stops before the pass (a violation, a limit).
    /// Under a depth bound DFS also keeps the states it met only at the
    /// bound in which some predicate fails, for the pass to expand (as BFS
    /// keeps those of its last level). Past [`Options::records_memory`] they
    /// drop what they recorded and record no more.
    pub record_for_pass: bool,
    /// Resident memory of the process past which BFS and DFS drop what they
    /// recorded for the `eventually` pass (and the states DFS kept for it)
    /// and record no more, so that records never stop a run that fits
    /// without them; the pass then generates the successors itself, as with
    /// [`Options::record_for_pass`] off (same verdicts and traces, a slower
    /// pass). Read by the monitor thread about ten times a second, as
    /// [`Options::rss_limit`] is. 0 = never. Default: half of the default
    /// `rss_limit` (42.5% of RAM).
    pub records_memory: u64,
    /// Check only the properties of these names (`None`: every property of
    /// the model). The eventually pass runs only if one of them is an
    /// `eventually` property: it can take far longer than the search (under
    /// a depth bound it generates the successors of the bound's last level,
    /// as a search one level deeper would). A name the model has no
    /// property of stops the run with an error in the report.
    pub properties: Option<Vec<String>>,
}

impl Default for Options {
    fn default() -> Self {
        let ram = crate::memory::total_ram();
        Options {
            strategy: Strategy::Bfs,
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            max_depth: 0,
            time_limit: None,
            max_states: 0,
            memory: crate::memory::default_budget(),
            rss_limit: ram / 100 * 85,
            symmetry: true,
            seed: 0,
            walks: 1000,
            keep_going: false,
            cancel: Arc::new(AtomicBool::new(false)),
            checkpoint: None,
            checkpoint_every: None,
            resume: None,
            progress: None,
            progress_interval: Duration::from_secs(1),
            record_for_pass: true,
            records_memory: ram / 200 * 85,
            properties: None,
        }
    }
}

impl Options {
    /// Sets whether BFS and DFS record successors for the `eventually` pass
    /// ([`Options::record_for_pass`]).
    pub fn record_for_pass(mut self, on: bool) -> Self {
        self.record_for_pass = on;
        self
    }
    /// Sets the resident memory past which the searches drop their records
    /// for the `eventually` pass ([`Options::records_memory`]; 0: never).
    pub fn records_memory(mut self, bytes: u64) -> Self {
        self.records_memory = bytes;
        self
    }
    /// Sets the strategy.
    pub fn strategy(mut self, s: Strategy) -> Self {
        self.strategy = s;
        self
    }
    /// Sets the number of worker threads (0 is treated as 1).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }
    /// Sets the depth bound (0 = none).
    pub fn max_depth(mut self, d: u64) -> Self {
        self.max_depth = d;
        self
    }
    /// Sets the time limit.
    pub fn time_limit(mut self, t: Duration) -> Self {
        self.time_limit = Some(t);
        self
    }
    /// Sets the unique-state bound (0 = none).
    pub fn max_states(mut self, n: u64) -> Self {
        self.max_states = n;
        self
    }
    /// Sets the visited-set byte budget.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = bytes;
        self
    }
    /// Turns symmetry reduction on or off.
    pub fn symmetry(mut self, on: bool) -> Self {
        self.symmetry = on;
        self
    }
    /// Sets the simulation seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the number of simulation walks (0 = until another limit).
    pub fn walks(mut self, n: u64) -> Self {
        self.walks = n;
        self
    }
    /// Keeps exploring after a violation (see [`Options::keep_going`]).
    pub fn keep_going(mut self, on: bool) -> Self {
        self.keep_going = on;
        self
    }
    /// Saves a checkpoint as `to` says when the run stops early (BFS).
    pub fn checkpoint(mut self, to: CheckpointTo) -> Self {
        self.checkpoint = Some(to);
        self
    }
    /// Resumes the run saved in `from` (BFS).
    pub fn resume(mut self, from: Checkpoint) -> Self {
        self.resume = Some(Arc::new(from));
        self
    }
    /// Checks only the properties called `names` ([`Options::properties`]).
    pub fn properties(mut self, names: Vec<String>) -> Self {
        self.properties = Some(names);
        self
    }
    /// Installs a progress callback.
    pub fn on_progress(mut self, f: ProgressFn) -> Self {
        self.progress = Some(f);
        self
    }
}
