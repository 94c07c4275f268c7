//! The graph the `eventually` pass explores: states by dense id, their
//! predicates, enabled fairness groups and edges.
//!
//! Ids are `local << SHARD_BITS | shard`: a state's shard is chosen by its
//! fingerprint, and each shard numbers its states from 0, level by level,
//! within a level in increasing order of fingerprint. So ids are dense up to
//! the spread between shard sizes (a few per cent), shards number their
//! states in parallel and share nothing per state, and a state's id does
//! not depend on the thread count or on timing. Nothing decided from the
//! graph depends on ids anyway: every search over it follows the initial
//! states' order and each state's edges in successor order.

use crate::fingerprint::Fingerprint;
use crate::GroupMap;

/// Bits of an id that name its shard.
pub(super) const SHARD_BITS: u32 = 8;
/// Shards of the graph (and of the pass's sets of states).
pub(super) const SHARDS: usize = 1 << SHARD_BITS;
/// States one shard can number: ids are `u32`.
pub(super) const SHARD_CAPACITY: u32 = 1 << (32 - SHARD_BITS);
/// An edge's group when its action belongs to no fairness group.
pub(super) const NO_GROUP: u8 = u8::MAX;

/// The shard of the state with fingerprint `fp`.
#[inline]
pub(super) fn shard_of(fp: Fingerprint) -> usize {
    fp as usize % SHARDS
}

/// The id of the `local`-th state of `shard`.
#[inline]
pub(super) fn id_of(shard: usize, local: u32) -> u32 {
    local << SHARD_BITS | shard as u32
}

/// An edge: its target's id, the fairness group of its action
/// ([`NO_GROUP`] for none) and how canonicalising its target renamed the
/// groups (an index into [`Graph::map`]'s table, 0 for none), 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Edge {
    pub to: u32,
    pub group: u8,
    pub map: u16,
}

/// Group `group` (as an edge records it) as a one-bit mask (0 for [`NO_GROUP`]).
#[inline]
pub(super) fn group_bit(group: u8) -> u64 {
    if group == NO_GROUP {
        0
    } else {
        1 << group
    }
}

impl Edge {
    /// The edge's group as a one-bit mask (0 for none).
    #[inline]
    pub fn bit(self) -> u64 {
        group_bit(self.group)
    }
}

/// What the pass knows of one state.
#[derive(Clone, Copy, Debug)]
pub(super) struct Node {
    pub fp: Fingerprint,
    /// The predicates that hold here (bit i: property i of the chunk).
    pub holds: u64,
    /// Groups with an action available here (towards any state, explored or not).
    pub enabled: u64,
    /// No successor at all.
    pub deadlock: bool,
    /// Where its edges are: buffer, start, length (all 0 if it was not expanded).
    edges: (u32, u32, u32),
}

impl Node {
    /// A state just found: `holds` known, not yet expanded.
    pub fn found(fp: Fingerprint, holds: u64) -> Self {
        Node { fp, holds, enabled: 0, deadlock: false, edges: (0, 0, 0) }
    }
}

/// States by id, with their edges.
pub(super) struct Graph {
    /// Per shard, its states by local number.
    shards: Vec<Vec<Node>>,
    /// Edge lists, as the workers of each level wrote them.
    buffers: Vec<Vec<Edge>>,
    /// The initial states (explored ones), in [`crate::Model::init_states`] order.
    pub roots: Vec<u32>,
    /// The group renamings edges refer to; the first is the identity.
    maps: Vec<GroupMap>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Graph {
            shards: vec![Vec::new(); SHARDS],
            buffers: Vec::new(),
            roots: Vec::new(),
            maps: vec![GroupMap::IDENTITY],
        }
    }

    /// How canonicalising the target of `e` renamed the fairness groups.
    #[inline]
    pub fn map(&self, e: Edge) -> &GroupMap {
        &self.maps[e.map as usize]
    }

    /// The renamings edges refer to, by index (the first is the identity),
    /// for the pass to extend.
    pub fn maps_mut(&mut self) -> &mut Vec<GroupMap> {
        &mut self.maps
    }

    /// The node with id `id`.
    #[inline]
    pub fn node(&self, id: u32) -> &Node {
        &self.shards[id as usize % SHARDS][(id >> SHARD_BITS) as usize]
    }

    /// The states of each shard (the pass fills them level by level).
    pub fn shards_mut(&mut self) -> &mut [Vec<Node>] {
        &mut self.shards
    }

    /// States numbered in shard `shard`.
    #[cfg(test)]
    pub fn shard_len(&self, shard: usize) -> usize {
        self.shards[shard].len()
    }

    /// States explored.
    pub fn len(&self) -> usize {
        self.shards.iter().map(Vec::len).sum()
    }

    /// One more than the largest id in use: the length of an array indexed by id.
    pub fn id_bound(&self) -> usize {
        self.shards.iter().map(Vec::len).max().unwrap_or(0) << SHARD_BITS
    }

    /// Stores a buffer of edges; returns its number, for [`Graph::set_expansion`].
    pub fn add_buffer(&mut self, edges: Vec<Edge>) -> u32 {
        self.buffers.push(edges);
        (self.buffers.len() - 1) as u32
    }

    /// Records what expanding state `id` found; its edges are
    /// `len` edges of buffer `buffer` from `start`.
    pub fn set_expansion(&mut self, id: u32, enabled: u64, deadlock: bool, (buffer, start, len): (u32, u32, u32)) {
        let n = &mut self.shards[id as usize % SHARDS][(id >> SHARD_BITS) as usize];
        n.enabled = enabled;
        n.deadlock = deadlock;
        n.edges = (buffer, start, len);
    }

    /// The edges of state `id`, in the order of its successors.
    #[inline]
    pub fn edges(&self, id: u32) -> &[Edge] {
        let (b, s, l) = self.node(id).edges;
        if l == 0 {
            return &[];
        }
        &self.buffers[b as usize][s as usize..(s + l) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_shard_and_number() {
        for (shard, local) in [(0, 0), (SHARDS - 1, 0), (3, 1), (SHARDS - 1, SHARD_CAPACITY - 1)] {
            let id = id_of(shard, local);
            assert_eq!(id as usize % SHARDS, shard);
            assert_eq!(id >> SHARD_BITS, local);
        }
        assert_eq!(Edge { to: 0, group: NO_GROUP, map: 0 }.bit(), 0);
        assert_eq!(Edge { to: 0, group: 5, map: 0 }.bit(), 32);
        assert_eq!(std::mem::size_of::<Edge>(), 8);
    }
}
