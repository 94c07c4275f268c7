//! The states a Kubernetes model reaches within a depth, unreduced, found
//! by a plain breadth-first walk over `Model::successors`: what the tests
//! that count states by brute force compare the checker with.

use std::collections::HashSet;

use krepis_engine::Model;
use krepis_model::consistency::Consistency;
use krepis_model::{KubeModel, KubeState};

/// Every state within `depth` steps of the initial one, unreduced.
pub fn reachable<C: Consistency>(m: &KubeModel<C>, depth: u64) -> HashSet<KubeState<C>> {
    within(m, depth, &|_| true)
}

/// The states within `depth` steps of an initial state along paths whose
/// states (the last excepted) all satisfy `expand`, unreduced; initial
/// states that do not are left out.
pub fn within<C: Consistency>(
    m: &KubeModel<C>,
    depth: u64,
    expand: &dyn Fn(&KubeState<C>) -> bool,
) -> HashSet<KubeState<C>> {
    let mut init = Vec::new();
    m.init_states(&mut init);
    let mut level: Vec<KubeState<C>> = init.into_iter().filter(|s| expand(s)).collect();
    let mut all: HashSet<KubeState<C>> = level.iter().cloned().collect();
    let mut buf = Vec::new();
    for _ in 0..depth {
        let mut next = Vec::new();
        for s in &level {
            buf.clear();
            m.successors(s, &mut buf);
            for (_, t) in buf.drain(..) {
                if all.insert(t.clone()) && expand(&t) {
                    next.push(t);
                }
            }
        }
        level = next;
    }
    all
}
