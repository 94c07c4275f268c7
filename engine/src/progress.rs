//! Progress of a running check, sampled by a monitor thread.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::options::Options;
use crate::report::StopReason;

/// A snapshot of a run in progress.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Time since the run started.
    pub elapsed: Duration,
    /// Unique states so far.
    pub unique_states: u64,
    /// Transitions (successors generated) so far.
    pub transitions: u64,
    /// Depth being explored (BFS level, DFS stack depth, or walks done in
    /// simulation: see `strategy`).
    pub depth: u64,
    /// The run's strategy (what `depth` and `queue` count).
    pub strategy: crate::Strategy,
    /// States waiting to be expanded.
    pub queue: u64,
    /// Resident memory of the process in bytes.
    pub rss_bytes: u64,
    /// The search has dropped its records for the `eventually` pass (past
    /// [`Options::records_memory`]): the pass will generate successors itself.
    pub pass_records_dropped: bool,
    /// The unique-state bound, if any (for a progress bar).
    pub max_states: u64,
    /// While the `eventually` pass runs (after the search): the depth it
    /// has reached and the states it has explored so far.
    pub eventually_pass: Option<(u64, u64)>,
}

/// [`Counters::excused_ms`] while the time limit's clock is paused.
const PAUSED: u64 = u64::MAX;

/// Counters shared by the workers of one run and its monitor. Workers update
/// them once per chunk of work, not per state.
pub(crate) struct Counters {
    pub unique: AtomicU64,
    pub transitions: AtomicU64,
    pub depth: AtomicU64,
    pub queue: AtomicU64,
    /// The `eventually` pass's depth and explored states, plus one (0: not
    /// running), set once per level.
    pub live_depth: AtomicU64,
    pub live_states: AtomicU64,
    /// Set to stop every worker at its next chunk boundary.
    pub stop: AtomicBool,
    reason: AtomicU8,
    /// Milliseconds the time limit does not count (loading a checkpoint);
    /// [`PAUSED`] while such work runs.
    excused_ms: AtomicU64,
    /// When the process memory stopped the run: (resident bytes, limit).
    rss_stop: std::sync::Mutex<Option<(u64, u64)>>,
    /// The process's resident memory when it passed
    /// [`Options::records_memory`] (0: it has not): the searches then drop
    /// their records for the `eventually` pass.
    records_dropped_at: AtomicU64,
    /// The search records for the `eventually` pass (set before it starts).
    recording: AtomicBool,
}

impl Counters {
    pub fn new() -> Self {
        Counters {
            unique: AtomicU64::new(0),
            transitions: AtomicU64::new(0),
            depth: AtomicU64::new(0),
            queue: AtomicU64::new(0),
            live_depth: AtomicU64::new(0),
            live_states: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            reason: AtomicU8::new(0),
            excused_ms: AtomicU64::new(0),
            rss_stop: std::sync::Mutex::new(None),
            records_dropped_at: AtomicU64::new(0),
            recording: AtomicBool::new(false),
        }
    }

    /// Says the search records for the `eventually` pass: the monitor then
    /// watches [`Options::records_memory`].
    pub fn will_record(&self) {
        self.recording.store(true, Ordering::Relaxed);
    }

    /// Tells a search that records to drop its records when the process,
    /// holding `rss` bytes, is past `limit` ([`Options::records_memory`]; 0:
    /// no limit).
    pub fn drop_records_past(&self, rss: u64, limit: u64) {
        if limit > 0 && rss > limit && self.recording.load(Ordering::Relaxed) {
            self.drop_records(rss);
        }
    }

    /// Tells the searches to drop their records for the `eventually` pass,
    /// the process holding `rss` bytes (the first call's figure is kept).
    pub fn drop_records(&self, rss: u64) {
        let _ = self.records_dropped_at.compare_exchange(0, rss.max(1), Ordering::Relaxed, Ordering::Relaxed);
    }

    /// True once the searches are to drop their records ([`Counters::drop_records`]).
    #[inline]
    pub fn records_dropped(&self) -> bool {
        self.records_dropped_at.load(Ordering::Relaxed) != 0
    }

    /// The resident memory at which the records were to be dropped (0: they were not).
    pub fn records_dropped_at(&self) -> u64 {
        self.records_dropped_at.load(Ordering::Relaxed)
    }

    /// Records that the process's memory stopped the run.
    pub fn note_rss_stop(&self, rss: u64, limit: u64) {
        if let Ok(mut g) = self.rss_stop.lock() {
            *g = Some((rss, limit));
        }
    }

    /// The message for a run stopped by the process's memory, if it was.
    pub fn rss_stop_message(&self) -> Option<String> {
        let (rss, limit) = (*self.rss_stop.lock().ok()?)?;
        Some(format!(
            "the process uses {} of memory, over its limit of {} (85% of RAM): stopped before the machine runs out; \
             lower --max-depth or use a smaller scenario",
            crate::report::human_bytes(rss),
            crate::report::human_bytes(limit)
        ))
    }

    /// Stops the time limit's clock until [`Counters::excuse`] (for work
    /// that is not checking, such as loading a checkpoint).
    pub fn pause_deadline(&self) {
        self.excused_ms.store(PAUSED, Ordering::Relaxed);
    }

    /// Restarts the time limit's clock, moving the deadline `by` later.
    pub fn excuse(&self, by: Duration) {
        self.excused_ms.store(by.as_millis().min(PAUSED as u128 - 1) as u64, Ordering::Relaxed);
    }

    /// Whether the time limit `deadline` has passed at `now`, not counting
    /// the excused time; never while the clock is paused.
    fn past(&self, deadline: Instant, now: Instant) -> bool {
        match self.excused_ms.load(Ordering::Relaxed) {
            PAUSED => false,
            ms => now >= deadline + Duration::from_millis(ms),
        }
    }

    /// Asks every worker to stop; the first reason given wins.
    pub fn request_stop(&self, reason: StopReason) {
        let _ = self.reason.compare_exchange(0, reason as u8 + 1, Ordering::AcqRel, Ordering::Acquire);
        self.stop.store(true, Ordering::Release);
    }

    #[inline]
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The reason given to the first `request_stop`, if any.
    pub fn stop_reason(&self) -> Option<StopReason> {
        match self.reason.load(Ordering::Acquire) {
            0 => None,
            r => Some(StopReason::ALL[(r - 1) as usize]),
        }
    }

    /// Adds one chunk's worth of new states; requests a stop at `max_states`.
    pub fn add_unique(&self, n: u64, max_states: u64) -> u64 {
        let total = self.unique.fetch_add(n, Ordering::Relaxed) + n;
        if max_states > 0 && total >= max_states {
            self.request_stop(StopReason::MaxStates);
        }
        total
    }
}

/// Runs `work` while a monitor thread enforces the time limit and the cancel
/// flag and reports progress. Returns what `work` returns.
pub(crate) fn monitored<R>(opts: &Options, counters: &Counters, start: Instant, work: impl FnOnce() -> R) -> R {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            let deadline = opts.time_limit.map(|t| start + t);
            let tick = Duration::from_millis(20).min(opts.progress_interval);
            let mut next_report = start + opts.progress_interval;
            let mut next_rss_check = start;
            while let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(tick) {
                let now = Instant::now();
                if opts.cancel.load(Ordering::Relaxed) {
                    counters.request_stop(StopReason::Interrupted);
                }
                if deadline.is_some_and(|d| counters.past(d, now)) {
                    counters.request_stop(StopReason::TimeLimit);
                }
                // Stop before the machine runs out of memory (the frontier
                // and the model's states are not bounded by `--memory`).
                if (opts.rss_limit > 0 || opts.records_memory > 0) && now >= next_rss_check {
                    next_rss_check = now + Duration::from_millis(100);
                    let rss = crate::memory::current_rss();
                    if opts.rss_limit > 0 && rss > opts.rss_limit && !counters.stopped() {
                        counters.note_rss_stop(rss, opts.rss_limit);
                        counters.request_stop(StopReason::MemoryLimit);
                    }
                    // Records for the pass are a speed-up, never worth a
                    // memory stop: past their limit the searches drop them.
                    counters.drop_records_past(rss, opts.records_memory);
                }
                if now >= next_report {
                    next_report = now + opts.progress_interval;
                    if let Some(f) = &opts.progress {
                        f(&Progress {
                            elapsed: now - start,
                            unique_states: counters.unique.load(Ordering::Relaxed),
                            transitions: counters.transitions.load(Ordering::Relaxed),
                            depth: counters.depth.load(Ordering::Relaxed),
                            strategy: opts.strategy,
                            queue: counters.queue.load(Ordering::Relaxed),
                            rss_bytes: crate::memory::current_rss(),
                            pass_records_dropped: counters.records_dropped(),
                            max_states: opts.max_states,
                            eventually_pass: match counters.live_depth.load(Ordering::Relaxed) {
                                0 => None,
                                d => Some((d - 1, counters.live_states.load(Ordering::Relaxed))),
                            },
                        });
                    }
                }
            }
        });
        let r = work();
        drop(done_tx);
        r
    })
}
