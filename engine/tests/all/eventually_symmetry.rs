//! The `eventually` pass on orbits of a model whose fairness groups are
//! permuted by its symmetry (a group per process, processes interchangeable):
//! on random systems of identical processes it gives the verdicts of the
//! pass on unreduced states, and of the reference checker (which runs it
//! unreduced), on every thread count; deadlock traces are as short, and
//! lassos are real, closed and weakly fair.

use crate::common;

use krepis_engine::{check, check_reference, GroupMap, Kind, Model, Options, Property, Status, Strategy};

/// `n` identical processes sharing a global variable: a process in local
/// state `l` with global `g` may move as `table[l][g]` lists (new local, new
/// global), in its own fairness group; the environment may change the
/// global as `env[g]` lists, unfairly. Processes are interchangeable: a
/// state is canonical with its locals sorted. The initial states are every
/// arrangement of `init`.
struct Processes {
    seed: u64,
    table: Vec<Vec<Vec<(u8, u8)>>>,
    env: Vec<Vec<u8>>,
    goals: [(u8, u8); 3],
    init: Vec<u8>,
    /// Whether `canonicalize_groups` reports its renaming (false: the
    /// identity, a model bug).
    honest: bool,
}

/// Local states and global values.
const LOCALS: u8 = 4;
const GLOBALS: u8 = 3;

type State = (u8, Vec<u8>);

impl Processes {
    fn new(seed: u64) -> Self {
        let mut next = common::xorshift(seed);
        let n = 2 + next(2) as usize;
        let table = (0..LOCALS)
            .map(|_| {
                (0..GLOBALS)
                    .map(|_| {
                        let moves = [0, 1, 1, 2][next(4) as usize];
                        (0..moves).map(|_| (next(LOCALS as u64) as u8, next(GLOBALS as u64) as u8)).collect()
                    })
                    .collect()
            })
            .collect();
        let env = (0..GLOBALS).map(|_| if next(3) == 0 { vec![next(GLOBALS as u64) as u8] } else { vec![] }).collect();
        // Goals: (kind, value): 0 the global is `value`, 1 some process is in
        // local `value`, 2 every process is.
        let goals = std::array::from_fn(|_| (next(3) as u8, next(LOCALS as u64) as u8));
        let init = (0..n).map(|_| if next(2) == 0 { 0 } else { next(LOCALS as u64) as u8 }).collect();
        Processes { seed, table, env, goals, init, honest: true }
    }

    fn goal(&self, k: usize, (g, locals): &State) -> bool {
        let (kind, v) = self.goals[k];
        match kind {
            0 => *g == v,
            1 => locals.contains(&v),
            _ => locals.iter().all(|&l| l == v),
        }
    }
}

impl Model for Processes {
    type State = State;
    /// (process or `u8::MAX` for the environment, new local, new global).
    type Action = (u8, u8, u8);
    fn init_states(&self, out: &mut Vec<State>) {
        // Every permutation of `init`: the initial states must be closed
        // under the permutations symmetry quotients by.
        let mut first = self.init.clone();
        first.sort_unstable();
        let mut perm = first.clone();
        loop {
            out.push((0, perm.clone()));
            // The next permutation in lexicographic order, if any.
            let Some(i) = (1..perm.len()).rev().find(|&i| perm[i - 1] < perm[i]) else {
                break;
            };
            let j = (i..perm.len()).rev().find(|&j| perm[j] > perm[i - 1]).unwrap_or(i);
            perm.swap(i - 1, j);
            perm[i..].reverse();
        }
    }
    fn successors(&self, (g, locals): &State, out: &mut Vec<((u8, u8, u8), State)>) {
        for (i, &l) in locals.iter().enumerate() {
            for &(l2, g2) in &self.table[l as usize][*g as usize] {
                let mut next = locals.clone();
                next[i] = l2;
                out.push(((i as u8, l2, g2), (g2, next)));
            }
        }
        for &g2 in &self.env[*g as usize] {
            out.push(((u8::MAX, 0, g2), (g2, locals.clone())));
        }
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::eventually("goal-0", |m, s| m.goal(0, s)),
            Property::eventually("goal-1", |m, s| m.goal(1, s)),
            Property::eventually("goal-2", |m, s| m.goal(2, s)),
        ]
    }
    fn fairness(&self, a: &(u8, u8, u8)) -> Option<u8> {
        (a.0 != u8::MAX).then_some(a.0)
    }
    fn canonicalize(&self, s: &mut State) {
        s.1.sort_unstable();
    }
    fn fairness_is_symmetric(&self) -> bool {
        false
    }
    fn reports_group_maps(&self) -> bool {
        true
    }
    fn canonicalize_groups(&self, s: &mut State, groups: &mut GroupMap) {
        let mut order: Vec<usize> = (0..s.1.len()).collect();
        order.sort_by_key(|&i| s.1[i]);
        *groups = GroupMap::IDENTITY;
        for (k, &i) in order.iter().enumerate() {
            if self.honest {
                groups.set(i as u8, k as u8);
            }
        }
        self.canonicalize(s);
    }
    fn name(&self) -> String {
        format!("processes {}", self.seed)
    }
}

#[test]
fn the_pass_on_orbits_agrees_with_the_pass_on_states() {
    let (mut deadlocks, mut lassos, mut holds) = (0, 0, 0);
    for seed in 0..400 {
        let m = Processes::new(seed);
        for depth in [0, 4] {
            let base = Options::default().keep_going(true).max_depth(depth);
            let plain = check(&m, &base.clone().symmetry(false).threads(1));
            let reference = check_reference(&m, &base.clone().symmetry(true));
            assert_eq!(common::verdicts(&plain.report), common::verdicts(&reference.report), "seed {seed}");
            for threads in [1, 2, 3] {
                let reduced = check(&m, &base.clone().symmetry(true).threads(threads));
                assert_eq!(reduced.report.error, None, "seed {seed}");
                // The pass on the search's records (the default) is the pass
                // that generates successors itself: same graph, same traces.
                for symmetry in [false, true] {
                    let with = if symmetry { &reduced } else { &plain };
                    let without = check(&m, &base.clone().symmetry(symmetry).threads(threads).record_for_pass(false));
                    assert_eq!(
                        format!("{:?}", with.report.properties),
                        format!("{:?}", without.report.properties),
                        "seed {seed}, depth {depth}, symmetry {symmetry}, {threads} threads: records change the pass"
                    );
                    assert_eq!(with.report.liveness_states, without.report.liveness_states, "seed {seed}");
                    assert!(with.report.liveness_recorded && !without.report.liveness_recorded, "seed {seed}");
                }
                assert_eq!(
                    common::verdicts(&reduced.report),
                    common::verdicts(&plain.report),
                    "seed {seed}, depth {depth}, {threads} threads: {:?} {:?} {:?}",
                    m.table,
                    m.env,
                    m.goals
                );
                common::assert_traces_replay(&m, &reduced, true);
                for p in &reduced.report.properties {
                    let (Some(t), Some(u)) = (reduced.trace(&p.name), plain.trace(&p.name)) else {
                        continue;
                    };
                    assert_eq!(t.loop_start.is_some(), u.loop_start.is_some(), "seed {seed}: {}", p.name);
                    match t.loop_start {
                        None => assert_eq!(t.steps.len(), u.steps.len(), "seed {seed}: shortest deadlock paths"),
                        Some(_) => {
                            // A real lasso: closes on the very state, fairly.
                            t.replays(&m, false).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
                            assert!(u.loop_is_fair(&m), "seed {seed}: {} loop unfair unreduced {:?}", p.name, u.steps);
                            assert!(t.loop_is_fair(&m), "seed {seed}: {} loop unfair", p.name);
                            assert_eq!(t.steps.len(), u.steps.len(), "seed {seed}: the lasso of the pass on states");
                        }
                    }
                }
                if threads == 1 {
                    for p in &reduced.report.properties {
                        assert_eq!(p.kind, Kind::Eventually);
                        match (p.status, reduced.trace(&p.name).map(|t| t.loop_start.is_some())) {
                            (Status::Violated, Some(false)) => deadlocks += 1,
                            (Status::Violated, Some(true)) => lassos += 1,
                            (Status::Holds, _) => holds += 1,
                            (s, _) => panic!("seed {seed}: {} {s:?}", p.name),
                        }
                    }
                }
            }
        }
    }
    eprintln!("deadlocks {deadlocks}, lassos {lassos}, holds {holds}");
    assert!(deadlocks > 20 && lassos > 20 && holds > 20, "every outcome: {deadlocks} {lassos} {holds}");
}

/// DFS records its expansions for the pass as BFS does: the pass on them
/// builds the graph it builds by generating successors (same reports,
/// traces included, and states), with and without symmetry, with and
/// without a depth bound (under which DFS hands over the states it met only
/// at the bound, and expands states again from shorter depths); and its
/// verdicts are BFS's.
#[test]
fn the_pass_on_dfs_records_is_the_pass_on_states() {
    let mut handed_over = 0;
    for seed in 0..400 {
        let m = Processes::new(seed);
        for depth in [0, 3, 4] {
            for symmetry in [false, true] {
                let base = Options::default().keep_going(true).max_depth(depth).symmetry(symmetry);
                let dfs = base.clone().strategy(Strategy::Dfs);
                let mut with = check(&m, &dfs);
                let without = check(&m, &dfs.clone().record_for_pass(false));
                // Past the records' memory limit from the start: none kept.
                let dropped = check(&m, &dfs.clone().records_memory(1));
                let bfs = check(&m, &base.clone().threads(2));
                let bfs_dropped = check(&m, &base.clone().threads(2).records_memory(1));
                let at = format!("seed {seed}, depth {depth}, symmetry {symmetry}");
                assert_eq!(with.report.error, None, "{at}");
                assert_eq!(
                    format!("{:?}", with.report.properties),
                    format!("{:?}", without.report.properties),
                    "{at}: records change the pass"
                );
                for (run, of) in [(&dropped, &without), (&bfs_dropped, &bfs)] {
                    assert_eq!(format!("{:?}", run.report.properties), format!("{:?}", of.report.properties), "{at}");
                    assert_eq!(run.report.liveness_states, of.report.liveness_states, "{at}");
                    assert!(!run.report.liveness_recorded && run.report.records_dropped_bytes > 0, "{at}");
                }
                assert_eq!(with.report.liveness_states, without.report.liveness_states, "{at}");
                assert!(with.report.liveness_recorded && !without.report.liveness_recorded, "{at}");
                assert_eq!(common::verdicts(&with.report), common::verdicts(&bfs.report), "{at}: DFS against BFS");
                common::assert_traces_replay(&m, &with, true);
                let left = with.leftovers();
                assert!(depth > 0 || left.iter().all(Vec::is_empty), "{at}: nothing left without a bound");
                handed_over += left.iter().map(Vec::len).sum::<usize>();
            }
        }
    }
    assert!(handed_over > 100, "states handed over at the bound: {handed_over}");
}

/// Two processes (initially in locals 0 and 1); the one in 0, A, spins between locals 0 and 2 around B, which
/// waits in local 1 and, once it moves, reaches the goal (local 3). Each
/// spin swaps the two in sorted order, so on orbits the cycle steps both
/// instances' groups, but it is always A that moves: B is starved, the
/// cycle is unfair, and the property holds. Read without the renamings,
/// the orbits would have a fair cycle.
#[test]
fn a_cycle_of_orbits_that_swaps_instances_is_unfair_if_one_real_instance_moves() {
    let m = Processes {
        seed: 0,
        table: vec![vec![vec![(2, 0)]], vec![vec![(3, 0)]], vec![vec![(0, 0)]], vec![vec![]]],
        env: vec![vec![]],
        goals: [(1, 3), (1, 3), (1, 3)],
        init: vec![0, 1],
        honest: true,
    };
    for sym in [false, true] {
        let r = check(&m, &Options::default().keep_going(true).symmetry(sym).threads(2));
        assert_eq!(r.report.status("goal-0"), Some(Status::Holds), "symmetry {sym}");
        assert_eq!(r.report.error, None);
    }
    // A model that does not report the renaming gets a fair cycle of
    // orbits that the states do not have: the verdict is the unreduced
    // one, and the report says what went wrong.
    let liar = Processes { honest: false, ..m };
    let r = check(&liar, &Options::default().keep_going(true).threads(2));
    assert_eq!(r.report.status("goal-0"), Some(Status::Holds));
    assert!(r.report.error.as_deref().is_some_and(|e| e.contains("canonicalize_groups")), "{:?}", r.report.error);
}

/// `n` processes in a ring pass a token on; any process may also finish
/// (the goal) at any time. The initial states are the token at each place.
/// Symmetry: rotations, the canonical state having the token first.
struct TokenRing {
    n: usize,
}

impl Model for TokenRing {
    /// Per process: 0 idle, 1 holds the token, 2 finished.
    type State = Vec<u8>;
    /// (process, "pass" or "finish").
    type Action = (u8, &'static str);
    fn init_states(&self, out: &mut Vec<Vec<u8>>) {
        for at in 0..self.n {
            out.push((0..self.n).map(|i| u8::from(i == at)).collect());
        }
    }
    fn successors(&self, s: &Vec<u8>, out: &mut Vec<((u8, &'static str), Vec<u8>)>) {
        for i in 0..self.n {
            if s[i] == 1 {
                let mut t = s.clone();
                t[i] = 0;
                t[(i + 1) % self.n] = 1;
                out.push(((i as u8, "pass"), t));
            }
            if s[i] != 2 {
                let mut t = s.clone();
                t[i] = 2;
                out.push(((i as u8, "finish"), t));
            }
        }
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::eventually("someone-finishes", |_, s: &Vec<u8>| s.contains(&2))]
    }
    fn fairness(&self, a: &(u8, &'static str)) -> Option<u8> {
        Some(a.0)
    }
    fn canonicalize(&self, s: &mut Vec<u8>) {
        let mut map = GroupMap::IDENTITY;
        self.canonicalize_groups(s, &mut map);
    }
    fn fairness_is_symmetric(&self) -> bool {
        false
    }
    fn reports_group_maps(&self) -> bool {
        true
    }
    fn canonicalize_groups(&self, s: &mut Vec<u8>, groups: &mut GroupMap) {
        // The rotation that makes the state greatest: new place k holds
        // the process at old place (k + r) % n.
        let rotated = |r: usize| -> Vec<u8> { (0..self.n).map(|k| s[(k + r) % self.n]).collect() };
        let r = (0..self.n).max_by_key(|&r| (rotated(r), std::cmp::Reverse(r))).unwrap_or(0);
        for k in 0..self.n {
            groups.set(((k + r) % self.n) as u8, k as u8);
        }
        for g in self.n..64 {
            groups.set(g as u8, g as u8);
        }
        *s = rotated(r);
    }
}

/// On orbits the ring is one state whose only internal edge is the token
/// holder's pass, renaming every process one place on: a fair cycle (the
/// real token visits every process, each passing it in turn) although one
/// group, read without renamings, is the only one stepping while every
/// other could finish. So nobody need ever finish.
#[test]
fn a_token_passed_round_a_ring_is_a_fair_cycle_of_one_orbit() {
    for n in [2, 3, 4] {
        let m = TokenRing { n };
        for sym in [false, true] {
            let r = check(&m, &Options::default().keep_going(true).symmetry(sym).threads(2));
            assert_eq!(r.report.status("someone-finishes"), Some(Status::Violated), "{n} processes, symmetry {sym}");
            let t = r.trace("someone-finishes").expect("a lasso");
            let start = t.loop_start.expect("a lasso, not a deadlock");
            t.replays(&m, false).expect("a real lasso");
            assert_eq!(t.steps.len() - 1 - start, n, "the token goes round once");
        }
        let (plain, reduced) = (check(&m, &Options::default().symmetry(false)), check(&m, &Options::default()));
        assert!(reduced.report.unique_states < plain.report.unique_states, "{n} processes: rotations reduce");
        // Walks find it too: on orbits every pass returns to the one orbit,
        // and the loop from its first visit, once the token has gone round,
        // is fair. The trace goes round until it closes on the very state.
        let sim = Options::default().strategy(Strategy::Simulation).walks(20_000).max_depth(12).threads(1);
        let r = check(&m, &sim);
        assert_eq!(r.report.status("someone-finishes"), Some(Status::Violated), "{n} processes, simulation");
        let t = r.trace("someone-finishes").expect("a lasso");
        t.replays(&m, false).expect("a real closed lasso");
        assert!(t.loop_is_fair(&m));
    }
}

/// Simulation under symmetry: walks fingerprint canonical forms, so a
/// walk may close its loop on a permutation of the state it left (which,
/// repeated with the same permutation, goes on for ever, weakly fair when
/// one turn is). Every violation it reports is one the exhaustive check
/// finds, its trace is rebuilt and replays, and its loop is gone round as
/// many more times as it takes to close on the very state (here always
/// found), weakly fair.
#[test]
fn simulation_on_orbits_reports_real_violations_with_their_traces() {
    let (mut violated, mut unrolled) = (0, 0);
    for seed in 0..200 {
        let m = Processes::new(seed);
        let sim = Options::default().strategy(Strategy::Simulation).walks(200).max_depth(8).keep_going(true);
        let r = check(&m, &sim.threads(1));
        assert_eq!(r.report.error, None, "seed {seed}");
        let exhaustive = check(&m, &Options::default().symmetry(false).max_depth(8).keep_going(true));
        for p in &r.report.properties {
            if p.status != Status::Violated {
                continue;
            }
            violated += 1;
            assert_eq!(exhaustive.report.status(&p.name), Some(Status::Violated), "seed {seed}: {}", p.name);
            let t = r.trace(&p.name).expect("a trace");
            // Real steps; a lasso closes on the very state.
            t.replays(&m, false).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            let Some(start) = t.loop_start else {
                continue;
            };
            assert!(t.loop_is_fair(&m) && !p.loop_permuted, "seed {seed}: {}", p.name);
            // Gone round more than once: the loop passes a permutation of
            // its first state before closing on it.
            let canon = |s: &State| {
                let mut c = s.clone();
                m.canonicalize(&mut c);
                c
            };
            let (first, last) = (&t.steps[start].1, t.steps.len() - 1);
            unrolled +=
                usize::from(t.steps[start + 1..last].iter().any(|(_, s)| s != first && canon(s) == canon(first)));
        }
    }
    assert!(violated > 50 && unrolled > 5, "{violated} violations, {unrolled} loops gone round more than once");
}
