//! The read points of a causal history: sets of pairwise concurrent
//! writes, named, counted and drawn from bitmaps over the history's nodes.

use super::table::{Rows, Table};
use super::word_counts::WordCounts;
use super::CausalHistory;
use crate::meta::Rev;
use crate::revision::Revision;
use hashbrown::HashMap;

/// A set of a history's nodes, by index, one bit each (inline up to 256).
pub(super) type Mask = smallvec::SmallVec<[u64; 4]>;

/// Whether node `i` is in `mask`.
pub(super) fn has(mask: &[u64], i: usize) -> bool {
    mask.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
}

/// The read points of one history, for any session. A read point is a set
/// of pairwise concurrent writes; each is built from its oldest write (its
/// start: a head for a controller without a session, else any write its
/// session has not seen) by adding later writes concurrent with all it
/// holds, smaller ones first. Node indices follow revisions, so this depth-
/// first order is the sorted order of the read points (a set comes right
/// before its extensions, which come before sets whose next write is
/// larger), and no set is built twice (only from its oldest write).
///
/// Every set is a bitmap over node indices, so extending a set is one
/// `and` of its candidates with the new write's later concurrent writes,
/// and counting the sets from a start visits each once without building
/// it (the per-set lists and searches this replaced were two thirds of a
/// causal simulation step, most of it counting).
pub(super) struct ReadSets<'a, const P: bool> {
    pub(super) history: &'a CausalHistory<P>,
    pub(super) table: std::rc::Rc<Table>,
    /// [`Table::later`].
    pub(super) later: std::rc::Rc<Later>,
}

/// For every node of a history, the later nodes concurrent with it (not
/// descended from it), and how many read points start at it, once counted.
pub(super) struct Later {
    pub(super) rows: Rows,
    /// By node; 0 until counted (a node starts one read point at least:
    /// itself alone). Kept with the table, so that a step drawn on the
    /// same nodes as the one before (a step that wrote nothing) sums
    /// counts instead of counting (counting was a tenth of a causal
    /// simulation step).
    pub(super) counts: Vec<std::cell::Cell<u64>>,
}

/// The nodes a session's read points start from ([`ReadSets::starts`]).
pub(super) struct Starts(Mask);

impl Starts {
    /// The starts, in increasing order.
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        bits(&self.0)
    }
}

/// Remembered counts of read points for one history's [`ReadSets`]: by
/// candidate set as a word where the history's node sets fit one (up to 64
/// nodes, whatever its tokens; counting histories of 47 to 64 nodes through
/// slices and a map keyed by them was a tenth of a causal simulation step),
/// else by candidate set as a slice.
pub(super) struct Counter {
    pub(super) one_word: bool,
    pub(super) words: WordCounts,
    pub(super) masks: HashMap<Mask, usize>,
}

/// Histories of up to this many nodes (nearly all of them on `cluster`)
/// name a read point by its node set: a token with [`SET_TOKEN`] and one
/// bit per node, which [`crate::consistency::Consistency::read_of_token`] turns back into the
/// point without any table. Larger ones name points by their index.
pub(super) const SET_NODES: usize = 46;

/// The flag of a token holding a node set.
pub(super) const SET_TOKEN: u64 = 1 << SET_NODES;

impl<'a, const P: bool> ReadSets<'a, P> {
    /// The read sets of `history`, from its table, whose later concurrent
    /// nodes are made the first time they are read.
    pub(super) fn new(history: &'a CausalHistory<P>) -> Self {
        let table = history.table();
        let later = table
            .later
            .get_or_init(|| {
                // Into the allocations of the later nodes this table held
                // for the nodes it was made for before, if nothing else
                // holds them.
                let spare = table.spare_later.take().and_then(|mut later| {
                    history.fill_later(&table, std::rc::Rc::get_mut(&mut later)?);
                    Some(later)
                });
                spare.unwrap_or_else(|| {
                    let mut later = Later { rows: Rows::empty(0, 0), counts: Vec::new() };
                    history.fill_later(&table, &mut later);
                    std::rc::Rc::new(later)
                })
            })
            .clone();
        ReadSets { history, table, later }
    }

    /// The starts of `session`'s read points, as a node set: word-wise
    /// complements of what the session has seen (listing them node by node
    /// was 4% of a causal simulation step).
    pub(super) fn starts(&self, session: Option<&Revision>) -> Starts {
        let h = self.history;
        let n = h.nodes.len();
        match session {
            None => {
                let mut heads: Mask = smallvec::smallvec![0; n.div_ceil(64)];
                h.heads.iter().filter_map(|r| h.index(*r)).for_each(|i| heads[i / 64] |= 1 << (i % 64));
                Starts(heads)
            }
            Some(s) => {
                let mut unseen = h.ancestry_in(&self.table, s.components());
                for (w, word) in unseen.iter_mut().enumerate() {
                    let inside = if (w + 1) * 64 <= n { !0 } else { (1u64 << (n % 64)) - 1 };
                    *word = !*word & inside;
                }
                Starts(unseen)
            }
        }
    }

    /// Appends every read point starting at node `i` to `out`, in order.
    /// The set being built stays inline and each point is made from it as
    /// it is (its writes come in node order, which is revision order): a
    /// vector per start and a copy per point were 0.5 allocations per
    /// successor of a causal stale-reads search.
    pub(super) fn all_from(&self, i: usize, out: &mut Vec<Revision>) {
        type Set = smallvec::SmallVec<[Rev; 8]>;
        fn extend<const P: bool>(s: &ReadSets<'_, P>, set: &mut Set, cand: &Mask, out: &mut Vec<Revision>) {
            out.push(Revision::from_sorted(set));
            for x in bits(cand) {
                set.push(s.history.nodes[x].rev);
                extend(s, set, &and(cand, s.later.rows.row(x)), out);
                set.pop();
            }
        }
        extend(
            self,
            &mut smallvec::smallvec![self.history.nodes[i].rev],
            &Mask::from_slice(self.later.rows.row(i)),
            out,
        );
    }

    /// An empty [`Counter`] for this history.
    pub(super) fn counter(&self) -> Counter {
        Counter { one_word: self.history.nodes.len() <= 64, words: WordCounts::new(), masks: HashMap::new() }
    }

    /// How many read points start at node `i`, as words or slices as
    /// `counter` says.
    pub(super) fn count_at(&self, i: usize, counter: &mut Counter) -> u64 {
        let known = &self.later.counts[i];
        if known.get() != 0 {
            return known.get();
        }
        let n = if counter.one_word {
            self.count_word(self.later_word(i), &mut counter.words)
        } else {
            self.count_from(i, &mut counter.masks) as u64
        };
        known.set(n);
        n
    }

    /// The `k`-th read point of those [`Self::count_at`] counts from node
    /// `i` (`k` below that count).
    pub(super) fn nth_at(&self, i: usize, k: u64, counter: &mut Counter) -> Option<Revision> {
        if counter.one_word {
            self.nth_word_from(i, k, &mut counter.words).map(|set| self.history.point_of_set(set))
        } else {
            self.nth_from(i, usize::try_from(k).ok()?, &mut counter.masks)
        }
    }

    /// How many read points start at node `i` (`memo` as for [`Self::count`]).
    pub(super) fn count_from(&self, i: usize, memo: &mut HashMap<Mask, usize>) -> usize {
        self.count(self.later.rows.row(i), memo)
    }

    /// How many sets extend a set whose candidates (later writes concurrent
    /// with all of it) are `cand`, the set itself included, none built;
    /// remembering the count of every candidate set met in `memo` (the
    /// same for every call on this history), as [`Self::count_word`] does
    /// for one-word sets: without it, counting visited every read point
    /// (2^k for an antichain of k writes), a third of a causal simulation
    /// step on `cluster` once histories outgrow one word.
    pub(super) fn count(&self, cand: &[u64], memo: &mut HashMap<Mask, usize>) -> usize {
        if cand.iter().all(|w| *w == 0) {
            return 1;
        }
        if let Some(&n) = memo.get(cand) {
            return n;
        }
        let n = bits(cand).fold(1usize, |n, x| n.saturating_add(self.count(&and(cand, self.later.rows.row(x)), memo)));
        memo.insert(Mask::from_slice(cand), n);
        n
    }

    /// The `k`-th read point starting at node `i` (`k` less than
    /// [`Self::count_from`]), found by skipping whole subtrees by their counts.
    pub(super) fn nth_from(&self, i: usize, mut k: usize, memo: &mut HashMap<Mask, usize>) -> Option<Revision> {
        let mut set = vec![self.history.nodes[i].rev];
        let mut cand = Mask::from_slice(self.later.rows.row(i));
        while k > 0 {
            k -= 1;
            let mut chosen = None;
            for x in bits(&cand) {
                let next = and(&cand, self.later.rows.row(x));
                let n = self.count(&next, memo);
                if k < n {
                    chosen = Some((x, next));
                    break;
                }
                k -= n;
            }
            let (x, next) = chosen?;
            set.push(self.history.nodes[x].rev);
            cand = next;
        }
        Some(Revision::merged(set))
    }

    /// Names every read point starting at node `i`, in order, by its node
    /// set (histories of at most [`SET_NODES`] nodes): each set is visited
    /// once, one `and` of words per set.
    pub(super) fn tokens_from(&self, i: usize, emit: &mut dyn FnMut(u64)) {
        fn go<const P: bool>(s: &ReadSets<'_, P>, set: u64, cand: u64, emit: &mut dyn FnMut(u64)) {
            emit(SET_TOKEN | set);
            let mut rest = cand;
            while rest != 0 {
                let x = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                go(s, set | 1 << x, cand & s.later.rows.first_word(x), emit);
            }
        }
        go(self, 1 << i, self.later.rows.first_word(i), emit);
    }

    /// The later nodes concurrent with node `i`, as one word (histories of
    /// at most [`SET_NODES`] nodes).
    pub(super) fn later_word(&self, i: usize) -> u64 {
        self.later.rows.first_word(i)
    }

    /// [`Self::count`] for one-word sets, remembering the count of every
    /// candidate set met: sets that grow by different writes often have
    /// the same candidates left (an antichain of `k` writes has `2^k` read
    /// points but `k` candidate sets), so drawing one point costs far less
    /// than naming them all.
    pub(super) fn count_word(&self, cand: u64, memo: &mut WordCounts) -> u64 {
        if cand & cand.wrapping_sub(1) == 0 {
            // No candidate (the set alone), or one (the set, and it with that one).
            return 1 + u64::from(cand != 0);
        }
        if let Some(n) = memo.get(cand) {
            return n;
        }
        let mut n = 1u64;
        let mut rest = cand;
        while rest != 0 {
            let x = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            n = n.saturating_add(self.count_word(cand & self.later_word(x), memo));
        }
        memo.insert(cand, n);
        n
    }

    /// The node set of the `k`-th read point starting at node `i` (in
    /// [`Self::tokens_from`] order; `k` below `count_word` of its
    /// candidates), skipping whole subtrees by their counts.
    pub(super) fn nth_word_from(&self, i: usize, mut k: u64, memo: &mut WordCounts) -> Option<u64> {
        let mut set = 1u64 << i;
        let mut cand = self.later_word(i);
        while k > 0 {
            k -= 1;
            let mut chosen = None;
            let mut rest = cand;
            while rest != 0 {
                let x = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                let next = cand & self.later_word(x);
                let n = self.count_word(next, memo);
                if k < n {
                    chosen = Some((x, next));
                    break;
                }
                k -= n;
            }
            let (x, next) = chosen?;
            set |= 1 << x;
            cand = next;
        }
        Some(set)
    }
}

/// The nodes in `m`, in increasing order.
pub(super) fn bits(m: &[u64]) -> impl Iterator<Item = usize> + '_ {
    m.iter().enumerate().flat_map(|(w, &word)| {
        std::iter::successors((word != 0).then_some(word), |&b| {
            let b = b & (b - 1);
            (b != 0).then_some(b)
        })
        .map(move |b| w * 64 + b.trailing_zeros() as usize)
    })
}

/// The nodes in both `a` and `b`.
pub(super) fn and(a: &[u64], b: &[u64]) -> Mask {
    a.iter().zip(b.iter()).map(|(x, y)| x & y).collect()
}
