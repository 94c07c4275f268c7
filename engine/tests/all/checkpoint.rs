//! Checkpoints: a BFS run cut short by any limit saves a checkpoint, and
//! resuming it ends exactly where a run never interrupted ends: the same
//! unique states, depth, verdicts, and traces that replay. Every case runs
//! with 1 and 2 threads (and resumes with the other count).

use crate::temp;

use std::path::Path;

use krepis_engine::checkpoint::{Checkpoint, CheckpointTo};
use krepis_engine::models::{PuzzleState, SlidingPuzzle, TwoPhaseCommit};
use krepis_engine::visited::SLOT_BYTES;
use krepis_engine::{check, Model, Options, Report, Status, StopReason};
use temp::temp;

/// The 8-puzzle with the target 31 moves from the start: 181,440 states,
/// `reach-target` found at the last level.
fn puzzle() -> SlidingPuzzle {
    let far = PuzzleState::from_tiles(&[8, 6, 7, 2, 5, 4, 3, 0, 1]).expect("a permutation");
    SlidingPuzzle::puzzle8().with_target(far)
}

fn to(path: &Path, any_stop: bool) -> CheckpointTo {
    CheckpointTo { path: path.to_path_buf(), any_stop, args: vec!["check".into(), "test".into()] }
}

fn verdicts(r: &Report) -> Vec<(String, Status)> {
    r.properties.iter().map(|p| (p.name.clone(), p.status)).collect()
}

/// Resumes `path` with `opts` and checks the end equals `whole`'s.
fn resume_matches<M: Model>(model: &M, path: &Path, opts: Options, whole: &Report) -> Report {
    let cp = Checkpoint::open(path).expect("the checkpoint opens");
    let result = check(model, &opts.resume(cp));
    let r = result.report.clone();
    assert_eq!(r.error, None);
    assert_eq!(r.unique_states, whole.unique_states);
    assert_eq!(r.max_depth_reached, whole.max_depth_reached);
    assert_eq!(r.stop_reason, whole.stop_reason);
    assert_eq!(verdicts(&r), verdicts(whole));
    for (p, t) in r.properties.iter().zip(&result.traces) {
        if let Some(t) = t {
            assert_eq!(t.replays(model, true), Ok(()), "trace of {} replays", p.name);
            let whole_len =
                whole.properties.iter().find(|w| w.name == p.name).and_then(|w| w.trace.as_ref()).map(Vec::len);
            assert_eq!(Some(t.len() + 1), whole_len, "{}: shortest trace", p.name);
        }
    }
    r
}

#[test]
fn a_run_stopped_by_max_states_resumes_to_the_same_end() {
    let model = puzzle();
    let whole = check(&model, &Options::default().threads(2)).report;
    assert_eq!((whole.unique_states, whole.max_depth_reached), (181_440, 31));
    assert_eq!(whole.status("reach-target"), Some(Status::Found));
    for (threads, then) in [(1, 2), (2, 1)] {
        let path = temp(&format!("states-{threads}"));
        let o = Options::default().threads(threads).max_states(50_000).checkpoint(to(&path, true));
        let first = check(&model, &o).report;
        assert_eq!(first.stop_reason, StopReason::MaxStates);
        assert_eq!(first.checkpoint.as_deref(), Some(path.to_str().unwrap()));
        assert_eq!(first.status("reach-target"), Some(Status::Unknown));
        let header = Checkpoint::open(&path).unwrap().header().clone();
        assert_eq!(header.unique, first.unique_states);
        assert_eq!(header.visited, first.unique_states);
        assert_eq!(header.stopped, "max-states");
        assert_eq!(header.args, ["check", "test"]);
        let r = resume_matches(&model, &path, Options::default().threads(then), &whole);
        assert_eq!(r.resumed_states, first.unique_states);
        assert_eq!(r.checkpoint, None, "a run that finishes writes no checkpoint");
    }
}

#[test]
fn a_run_can_be_stopped_and_resumed_many_times() {
    let model = puzzle();
    let path = temp("chain");
    let step = |o: Options| o.threads(2).checkpoint(to(&path, true));
    let mut r = check(&model, &step(Options::default()).max_states(30_000)).report;
    let mut stops = 1;
    while r.stop_reason == StopReason::MaxStates {
        let cp = Checkpoint::open(&path).unwrap();
        let bound = r.unique_states + 30_000;
        r = check(&model, &step(Options::default()).max_states(bound).resume(cp)).report;
        stops += 1;
    }
    assert!(stops >= 6, "{stops} runs");
    assert_eq!(r.stop_reason, StopReason::Exhausted);
    assert_eq!((r.unique_states, r.max_depth_reached), (181_440, 31));
    assert_eq!(r.status("reach-target"), Some(Status::Found));
}

#[test]
fn a_full_visited_set_stops_with_a_checkpoint_that_resumes_with_more_memory() {
    let model = puzzle();
    let whole = check(&model, &Options::default().threads(2)).report;
    for threads in [1, 2] {
        let path = temp(&format!("memory-{threads}"));
        // 1 MiB: 131,072 slots, fewer than the space's 181,440 states.
        let o = Options::default().threads(threads).memory(1 << 20).checkpoint(to(&path, false));
        let first = check(&model, &o).report;
        assert_eq!(first.stop_reason, StopReason::MemoryLimit);
        assert!(first.error.as_deref().is_some_and(|e| e.contains("--memory")), "{:?}", first.error);
        assert_eq!(first.checkpoint.as_deref(), Some(path.to_str().unwrap()));
        // Resuming within the same budget cannot work and says so.
        let cp = Checkpoint::open(&path).unwrap();
        let again = check(&model, &Options::default().threads(threads).memory(1 << 20).resume(cp)).report;
        assert!(again.error.as_deref().is_some_and(|e| e.contains("raise --memory")), "{:?}", again.error);
        resume_matches(&model, &path, Options::default().threads(threads).memory(64 << 20), &whole);
    }
}

#[test]
fn only_memory_stops_write_a_checkpoint_unless_asked() {
    let model = puzzle();
    let path = temp("not-written");
    let _ = std::fs::remove_file(&path);
    let r = check(&model, &Options::default().threads(2).max_states(10_000).checkpoint(to(&path, false))).report;
    assert_eq!((r.stop_reason, r.checkpoint), (StopReason::MaxStates, None));
    assert!(!path.exists());
}

#[test]
fn a_depth_bounded_run_resumes_deeper() {
    let model = puzzle();
    let deep = check(&model, &Options::default().threads(2).max_depth(20)).report;
    for threads in [1, 2] {
        let path = temp(&format!("depth-{threads}"));
        let o = Options::default().threads(threads).max_depth(12).checkpoint(to(&path, true));
        let first = check(&model, &o).report;
        assert_eq!((first.stop_reason, first.max_depth_reached), (StopReason::MaxDepth, 12));
        let header = Checkpoint::open(&path).unwrap().header().clone();
        assert_eq!((header.depth, header.next), (12, 0));
        // The same bound again: nothing left to do within it.
        let cp = Checkpoint::open(&path).unwrap();
        let same = check(&model, &Options::default().threads(threads).max_depth(12).resume(cp)).report;
        assert_eq!((same.unique_states, same.stop_reason), (first.unique_states, StopReason::MaxDepth));
        resume_matches(&model, &path, Options::default().threads(3 - threads).max_depth(20), &deep);
    }
}

#[test]
fn a_checkpoint_resumes_only_the_model_it_was_written_for() {
    let path = temp("other-model");
    let tpc = TwoPhaseCommit::new(5);
    let r = check(&tpc, &Options::default().threads(2).max_states(100).checkpoint(to(&path, true))).report;
    assert_eq!(r.stop_reason, StopReason::MaxStates);
    let cp = || Checkpoint::open(&path).unwrap();
    let e = check(&puzzle(), &Options::default().resume(cp())).report.error.unwrap();
    assert!(e.contains("model 'two_phase_commit(5)'") && e.contains("krepis check test"), "{e}");
    let e = check(&TwoPhaseCommit::new(4), &Options::default().resume(cp())).report.error.unwrap();
    assert!(e.contains("two_phase_commit(5)"), "{e}");
    let e = check(&tpc, &Options::default().symmetry(false).resume(cp())).report.error.unwrap();
    assert!(e.contains("symmetry on, resuming with symmetry off"), "{e}");
    let e = check(&tpc, &Options::default().strategy(krepis_engine::Strategy::Dfs).resume(cp())).report.error.unwrap();
    assert!(e.contains("only BFS"), "{e}");
    // The right model resumes to TLC's count.
    let done = check(&tpc, &Options::default().symmetry(true).resume(cp())).report;
    let whole = check(&tpc, &Options::default()).report;
    assert_eq!((done.unique_states, &done.error), (whole.unique_states, &None));
    assert_eq!(done.status("consistent"), Some(Status::Holds));
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    let path = temp("good");
    let model = puzzle();
    check(&model, &Options::default().threads(1).max_states(5_000).checkpoint(to(&path, true)));
    let bytes = std::fs::read(&path).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "not a krepis checkpoint"),
        ("text", b"hello, this is not a checkpoint".to_vec(), "not a krepis checkpoint"),
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "checkpoint"),
        (
            "flipped",
            {
                let mut b = bytes.clone();
                let i = b.len() / 2;
                b[i] ^= 0x40;
                b
            },
            "checksum",
        ),
        (
            "version",
            {
                let mut b = bytes.clone();
                b[8] = 99;
                b
            },
            "version 99",
        ),
    ];
    for (name, content, needle) in cases {
        let p = temp(name);
        std::fs::write(&p, content).unwrap();
        let e = Checkpoint::open(&p).expect_err(name);
        assert!(e.contains(needle) && e.contains(p.to_str().unwrap()), "{name}: {e}");
    }
    let e = Checkpoint::open(&temp("absent")).expect_err("absent");
    assert!(e.contains("cannot read"), "{e}");
}

#[test]
fn a_checkpoint_that_cannot_be_written_is_an_error_not_a_panic() {
    let path = std::env::temp_dir().join("krepis-no-such-dir/deeper/cp");
    let r = check(&puzzle(), &Options::default().threads(2).max_states(5_000).checkpoint(to(&path, true))).report;
    assert_eq!(r.stop_reason, StopReason::MaxStates);
    assert!(r.error.as_deref().is_some_and(|e| e.contains("cannot write the checkpoint")), "{:?}", r.error);
    assert_eq!(r.checkpoint, None);
}

#[test]
fn states_the_full_visited_set_had_no_room_for_are_saved_and_resumed() {
    // Tiny tables: chunks in flight when the table passes its mark overflow
    // it, and the successors that found no slot must not be lost.
    let model = puzzle();
    let whole = check(&model, &Options::default().threads(2)).report;
    let mut overflowed = 0;
    for (i, slots) in [200u64, 256, 300, 400].into_iter().enumerate() {
        for threads in [1, 2] {
            let path = temp(&format!("overflow-{i}-{threads}"));
            let o = Options::default().threads(threads).memory(slots * SLOT_BYTES as u64).checkpoint(to(&path, false));
            let first = check(&model, &o).report;
            assert_eq!(first.stop_reason, StopReason::MemoryLimit);
            let h = Checkpoint::open(&path).unwrap().header().clone();
            overflowed += h.unstored;
            resume_matches(&model, &path, Options::default().threads(threads), &whole);
        }
    }
    assert!(overflowed > 0, "no case overflowed its table");
}

#[test]
fn periodic_checkpoints_let_a_killed_run_resume() {
    let model = puzzle();
    let whole = check(&model, &Options::default().threads(2)).report;
    for threads in [1, 2] {
        let path = temp(&format!("periodic-{threads}"));
        let mut o = Options::default().threads(threads).checkpoint(to(&path, true));
        o.checkpoint_every = Some(std::time::Duration::from_millis(1));
        let r = check(&model, &o).report;
        // The run itself is unaffected and finishes.
        assert_eq!((r.unique_states, r.stop_reason, &r.checkpoint), (181_440, StopReason::Exhausted, &None));
        assert_eq!(verdicts(&r), verdicts(&whole));
        // The last periodic save stands for a run killed after it.
        let h = Checkpoint::open(&path).expect("a periodic checkpoint").header().clone();
        assert_eq!(h.stopped, "periodic");
        resume_matches(&model, &path, Options::default().threads(3 - threads), &whole);
    }
}

/// A stopped BFS hands back the states it left unexpanded (freed with the
/// result, after the report): exactly the states its checkpoint saves, the
/// rest of the level it was expanding and the next level so far.
#[test]
fn a_stopped_run_hands_back_exactly_the_states_it_saves() {
    let model = puzzle();
    for threads in [1, 2] {
        for (name, o) in [
            ("states", Options::default().max_states(50_000)),
            ("depth", Options::default().max_depth(12)),
            ("memory", Options::default().memory(1 << 20)),
        ] {
            let path = temp(&format!("leftovers-{name}-{threads}"));
            let mut result = check(&model, &o.threads(threads).checkpoint(to(&path, true)));
            assert_ne!(result.report.stop_reason, StopReason::Exhausted, "{name}");
            let h = Checkpoint::open(&path).unwrap().header().clone();
            let left: Vec<(u64, PuzzleState)> = result.leftovers().into_iter().flatten().collect();
            assert!(!left.is_empty(), "{name}");
            assert_eq!(left.len() as u64, h.current + h.next, "{name}, {threads} threads");
            assert!(result.leftovers().is_empty(), "taken once");
            // Each is a state of the space with its own fingerprint.
            assert!(left.iter().all(|(fp, s)| *fp == model.fingerprint(s)));
        }
    }
}

/// A `side` x `side` grid walked right and down from the corner (`side`
/// states per anti-diagonal level at most), whose states take `decode_ms`
/// to decode and whose [`Model::revision`] is `revision`: the same states,
/// encodings and fingerprints under every revision.
struct Grid {
    side: u8,
    decode_ms: u64,
    revision: u32,
}

/// A 60 x 60 grid (3,600 states) whose states take 5 ms each to decode:
/// loading a checkpoint of it is slow, checking it is not.
const SLOW_GRID: Grid = Grid { side: 60, decode_ms: 5, revision: 0 };

impl Model for Grid {
    type State = (u8, u8);
    type Action = char;
    fn init_states(&self, out: &mut Vec<(u8, u8)>) {
        out.push((0, 0));
    }
    fn successors(&self, &(a, b): &(u8, u8), out: &mut Vec<(char, (u8, u8))>) {
        if a + 1 < self.side {
            out.push(('r', (a + 1, b)));
        }
        if b + 1 < self.side {
            out.push(('d', (a, b + 1)));
        }
    }
    fn properties(&self) -> Vec<krepis_engine::Property<Self>> {
        vec![krepis_engine::Property::sometimes("far-corner", |m, s| *s == (m.side - 1, m.side - 1))]
    }
    fn encode_state(&self, s: &(u8, u8), out: &mut Vec<u8>) -> bool {
        out.extend([s.0, s.1]);
        true
    }
    fn decode_state(&self, bytes: &[u8]) -> Option<(u8, u8)> {
        std::thread::sleep(std::time::Duration::from_millis(self.decode_ms));
        match bytes {
            [a, b] => Some((*a, *b)),
            _ => None,
        }
    }
    fn revision(&self) -> u32 {
        self.revision
    }
    fn name(&self) -> String {
        format!("grid-{}", self.side)
    }
}

#[test]
fn the_time_limit_of_a_resumed_run_starts_after_loading_the_checkpoint() {
    let whole = check(&SLOW_GRID, &Options::default().threads(2)).report;
    assert_eq!((whole.unique_states, whole.stop_reason), (3_600, StopReason::Exhausted));
    let path = temp("slow-grid");
    let first = check(&SLOW_GRID, &Options::default().threads(2).max_states(1_000).checkpoint(to(&path, true))).report;
    assert_eq!(first.stop_reason, StopReason::MaxStates);
    // Some 40 states wait in the checkpoint: 200 ms to load, twice the limit.
    let opts = Options::default().threads(2).time_limit(std::time::Duration::from_millis(100));
    let r = resume_matches(&SLOW_GRID, &path, opts, &whole);
    assert!(r.resume_s >= 0.15, "loading took {} s", r.resume_s);
    assert!(r.states_per_s > 0.0);
}

#[test]
fn a_checkpoint_of_another_model_revision_is_refused() {
    let path = temp("revision");
    let r = check(
        &Grid { side: 10, decode_ms: 0, revision: 0 },
        &Options::default().threads(2).max_states(20).checkpoint(to(&path, true)),
    )
    .report;
    assert_eq!(r.stop_reason, StopReason::MaxStates);
    assert_eq!(Checkpoint::open(&path).unwrap().header().model_revision, 0);
    let e = check(
        &Grid { side: 10, decode_ms: 0, revision: 1 },
        &Options::default().resume(Checkpoint::open(&path).unwrap()),
    )
    .report
    .error
    .unwrap();
    assert!(e.contains("revision 0 of model 'grid-10', this build has revision 1"), "{e}");
    let done = check(
        &Grid { side: 10, decode_ms: 0, revision: 0 },
        &Options::default().resume(Checkpoint::open(&path).unwrap()),
    )
    .report;
    assert_eq!((done.unique_states, &done.error), (100, &None));
}
