//! Heap allocations per generated successor on the checker's hot path,
//! counted by a global allocator that wraps the system's. The figures are
//! printed (`cargo test -p krepis-model --test allocations -- --nocapture`)
//! and each is held under a ceiling about 15% above what it is today, so a
//! change that allocates more per state fails here instead of going
//! unnoticed. Today (2026-11-29): stale-reads to depth 5 synchronous 2.3,
//! monotonic 3.0, resettable 2.0, causal 3.0; cluster to depth 3 3.1
//! (synchronous 2.4, monotonic 3.1 and cluster 3.3 before the per-thread
//! cache of renumbered objects held its pairs in place instead of boxed;
//! synchronous 3.0 and cluster 4.2 before a synchronous history held its
//! one state in the state instead of in a list of one node; causal 4.3
//! before a causal history's tables reused the allocations of those
//! pruning let go; 3.4, 3.2, 2.0, 4.4 and 4.4 in the tenth session, before
//! renumbered objects were cached per thread; 3.8, 3.7, 2.4, 4.9 and 4.6 before the controllers' lists of
//! the objects a step looks at were held inline; 4.3, 4.2, 2.8, 5.3 and 5.4 before actions stopped keeping
//! the operation they wrote, boxed; 4.5, 4.5, 3.0, 6.7 and 5.5 before the read points of a
//! state's sessions went into one vector the thread keeps, and causal
//! read points were made from an inline set; causal 7.2 before a causal history's writes became one
//! allocation holding their length instead of an `Arc` of a vector;
//! synchronous 4.8 and cluster 5.4 before synchronous states forgot old
//! sessions, a smaller state space; causal 7.7 before a write appended to a shared
//! history's copy made with room for it, where the copy's growth
//! reallocated; 5.5 before BFS turned client writes into successors as
//! they are built instead of gathering them in a vector first; 5.3, 5.0,
//! 3.5, 8.2 and 6.2 before the names the model
//! builds to look up or intern, generated names and template hashes, were
//! formatted on the stack; 6.4, 5.5, 3.6, 9.8 and 8.4 earlier that day
//! before prunes and renumberings changed in place what a state alone
//! holds; 7.2, 5.9, 3.6, 11.8 and 9.4 before linear histories' entries were
//! gathered on the stack and causal pruning's sets held inline; 6.6,
//! 5.5, 3.4, 13.4 and 9.4 before local states became packed forms that
//! equal local states share, which a run this short meets for the first
//! time often, and causal predecessors and heads were held inline; 6.9, 6.4, 4.5, 13.0 and 8.6 before linear histories became
//! persistent lists, which a write extends by one node and a prune rebuilds
//! node by node: fewer bytes, more but smaller blocks; 12.1, 10.9, 7.9, 16.8 and 18.8 before local states were
//! packed, objects' name lists held inline and object lists made one
//! allocation; 22.6, 23.3, 18.7, 42.5 and
//! 26.4 before inline read points, stamp tables and ancestry bitmaps,
//! copy-on-write collections, and renumbered snapshots cached per thread).
//! The goal of none per successor needs packed states (issue 4).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use krepis_engine::Model;
use krepis_model::consistency::{Causal, Consistency, MonotonicSession, ResettableSession, Synchronous};
use krepis_model::{KubeModel, Scenario};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: defers every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per successor over the successors (canonicalised and
/// fingerprinted, as the BFS does) of every state within `depth` of the
/// initial state: (successors, allocations per successor).
fn per_successor<C: Consistency>(scenario: Scenario, depth: usize) -> (u64, f64) {
    let model = KubeModel::<C>::new(scenario);
    let mut level = Vec::new();
    model.init_states(&mut level);
    let mut succ = Vec::with_capacity(256);
    let (mut generated, mut allocations) = (0u64, 0u64);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..depth {
        let mut next = Vec::new();
        for s in &level {
            succ.clear();
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            model.successors(s, &mut succ);
            let mut fps = [0u64; 256];
            for (i, (_, t)) in succ.iter_mut().enumerate() {
                model.canonicalize(t);
                fps[i % 256] = model.fingerprint(t);
            }
            allocations += ALLOCATIONS.load(Ordering::Relaxed) - before;
            generated += succ.len() as u64;
            for ((_, t), fp) in succ.drain(..).zip(fps) {
                if seen.insert(fp) {
                    next.push(t);
                }
            }
        }
        level = next;
    }
    (generated, allocations as f64 / generated as f64)
}

#[test]
fn allocations_per_successor_stay_under_their_ceilings() {
    let cases: Vec<(&str, (u64, f64), f64)> = vec![
        ("stale-reads synchronous", per_successor::<Synchronous>(Scenario::stale_reads("synchronous", 1), 5), 2.7),
        (
            "stale-reads monotonic",
            per_successor::<MonotonicSession>(Scenario::stale_reads("monotonic-session", 1), 5),
            3.7,
        ),
        (
            "stale-reads resettable",
            per_successor::<ResettableSession>(Scenario::stale_reads("resettable-session", 1), 5),
            2.3,
        ),
        ("stale-reads causal", per_successor::<Causal>(Scenario::stale_reads("causal", 1), 5), 3.5),
        ("cluster synchronous", per_successor::<Synchronous>(Scenario::cluster("synchronous"), 3), 3.6),
    ];
    for (name, (generated, per), ceiling) in cases {
        println!("{name}: {per:.1} allocations per successor ({generated} successors)");
        assert!(per <= ceiling, "{name}: {per:.1} allocations per successor, over {ceiling}");
    }
}
