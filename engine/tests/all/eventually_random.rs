//! The `eventually` pass against the reference checker on random graphs:
//! deadlocks, fair and unfair cycles, several fairness groups, several
//! properties at once, with and without a depth bound, on every thread count.

use crate::common;

use krepis_engine::{check, Model, Options, Property, Status};

/// A random directed graph: states `0..n`, each with up to four edges, each
/// edge in fairness group 0, 1 or 2 or in none; three goals (sets of states).
struct RandomGraph {
    seed: u64,
    inits: Vec<u16>,
    edges: Vec<Vec<(u8, u16)>>,
    goals: [Vec<bool>; 3],
}

/// No fairness group.
const NONE: u8 = u8::MAX;

impl RandomGraph {
    fn new(seed: u64) -> Self {
        let mut next = common::xorshift(seed);
        let n = 3 + next(30) as u16;
        let edges = (0..n)
            .map(|_| {
                // About one state in eight is a dead end.
                let degree = if next(8) == 0 { 0 } else { 1 + next(4) };
                (0..degree).map(|_| ([0, 1, 2, NONE][next(4) as usize], next(n as u64) as u16)).collect()
            })
            .collect();
        let mut goal = || (0..n).map(|_| next(10) < 3).collect::<Vec<bool>>();
        let goals = [goal(), goal(), goal()];
        let inits = (0..1 + next(2)).map(|_| next(n as u64) as u16).collect();
        RandomGraph { seed, inits, edges, goals }
    }
}

impl Model for RandomGraph {
    type State = u16;
    type Action = (u8, u16);
    fn init_states(&self, out: &mut Vec<u16>) {
        out.extend(&self.inits);
    }
    fn successors(&self, s: &u16, out: &mut Vec<((u8, u16), u16)>) {
        out.extend(self.edges[*s as usize].iter().map(|&(g, t)| ((g, t), t)));
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::eventually("goal-0", |m, s| m.goals[0][*s as usize]),
            Property::eventually("goal-1", |m, s| m.goals[1][*s as usize]),
            Property::eventually("goal-2", |m, s| m.goals[2][*s as usize]),
        ]
    }
    fn fairness(&self, a: &(u8, u16)) -> Option<u8> {
        (a.0 != NONE).then_some(a.0)
    }
    fn name(&self) -> String {
        format!("random graph {}", self.seed)
    }
}

#[test]
fn the_pass_agrees_with_the_reference_on_random_graphs() {
    let mut violated = [0usize; 2]; // deadlocks, lassos
    let mut holds = 0;
    for seed in 0..150 {
        let model = RandomGraph::new(seed);
        for depth in [0, 2, 5] {
            let base = Options::default().symmetry(false).keep_going(true).max_depth(depth);
            let reference = common::agree(&model, base.clone());
            for p in &reference.report.properties {
                if let Some(t) = reference.trace(&p.name).filter(|t| t.loop_start.is_some()) {
                    assert!(t.loop_is_fair(&model), "seed {seed}, {}: reference's loop unfair", p.name);
                }
            }
            // Lassos and deadlock paths are the same on every thread count.
            let one = check(&model, &base.clone().threads(1));
            for threads in [2, 4] {
                let r = check(&model, &base.clone().threads(threads));
                for p in &one.report.properties {
                    let (a, b) = (one.trace(&p.name), r.trace(&p.name));
                    assert_eq!(a.map(|t| (&t.steps, t.loop_start)), b.map(|t| (&t.steps, t.loop_start)), "seed {seed}");
                }
            }
            for p in &one.report.properties {
                // A lasso's loop is weakly fair as printed: its steps are
                // the actions that make it so.
                if let Some(t) = one.trace(&p.name).filter(|t| t.loop_start.is_some()) {
                    assert!(t.loop_is_fair(&model), "seed {seed}, {}: unfair loop", p.name);
                }
                match (p.status, one.trace(&p.name).map(|t| t.loop_start.is_some())) {
                    (Status::Violated, Some(false)) => violated[0] += 1,
                    (Status::Violated, Some(true)) => violated[1] += 1,
                    (Status::Holds, _) => holds += 1,
                    _ => {}
                }
            }
        }
    }
    // The graphs exercise every outcome.
    assert!(violated[0] > 20 && violated[1] > 20 && holds > 20, "deadlocks, lassos, holds: {violated:?} {holds}");
}
