//! A causal history's table: what its writes and their links give (every
//! write's ancestry, the index of writes by revision and, once read points
//! are counted, the later writes concurrent with each), made once for one
//! list of writes and kept by the thread that made it.

use super::read_sets::{has, Later};
use super::{CausalHistory, Node, Nodes};
use crate::meta::Rev;

/// One node set per node, all in one allocation, `words` words each (a
/// `Vec` of node sets was 40 bytes and a loop per row, and building the
/// ancestry table twice a step that way was a tenth of a causal
/// simulation step).
pub(super) struct Rows {
    pub(super) words: usize,
    pub(super) bits: Vec<u64>,
}

impl Rows {
    /// `rows` empty sets over `nodes` nodes.
    pub(super) fn empty(rows: usize, nodes: usize) -> Self {
        let words = nodes.div_ceil(64);
        Rows { words, bits: vec![0; rows * words] }
    }

    /// Row `i`.
    pub(super) fn row(&self, i: usize) -> &[u64] {
        &self.bits[i * self.words..(i + 1) * self.words]
    }

    /// The first word of row `i` (0 past the end).
    pub(super) fn first_word(&self, i: usize) -> u64 {
        if self.words == 0 {
            return 0;
        }
        self.bits.get(i * self.words).copied().unwrap_or(0)
    }
}

thread_local! {
    /// This thread's last table and the nodes it was made for
    /// ([`CausalHistory::table`]).
    static LAST_TABLE: std::cell::RefCell<Option<(Nodes, std::rc::Rc<Table>)>> =
        const { std::cell::RefCell::new(None) };
}

thread_local! {
    /// A table no history's nodes need any more, kept for its allocations
    /// (a table is made for nearly every write; allocated afresh after
    /// each pruning, tables were 1.5 allocations per successor of a causal
    /// stale-reads search).
    static SPARE_TABLE: std::cell::Cell<Option<std::rc::Rc<Table>>> = const { std::cell::Cell::new(None) };
}

/// Keeps `table` as this thread's spare if nothing else holds it.
pub(super) fn spare(mut table: std::rc::Rc<Table>) {
    if std::rc::Rc::get_mut(&mut table).is_some() {
        SPARE_TABLE.set(Some(table));
    }
}

/// What a history's nodes and their links give, made once for one list of
/// nodes ([`CausalHistory::table`]): drawing a step, pruning the history
/// and naming read points all read it.
pub(super) struct Table {
    /// For every node, it and its ancestors. Bitmaps instead of lists of
    /// revisions searched at every step, which were half of a causal
    /// simulation's time.
    pub(super) ancestries: Rows,
    /// Node index by revision (`u32::MAX`: none); empty when revisions
    /// are too sparse for a table (then a binary search over the nodes).
    /// Revisions are renumbered densely after every step, so the table is
    /// a few dozen entries.
    pub(super) index: Vec<u32>,
    /// For every node, its predecessors as a node set, when the history's
    /// node sets fit one word (up to 64 nodes, nearly every history on
    /// `cluster`); empty otherwise. Both tables are built from these, one
    /// `or` of words per link: through the revision lists, slices of rows
    /// and the index, building them took about 2,500 instructions each for
    /// a history of 25 nodes, 9% of a causal simulation step.
    pub(super) preds: Vec<u64>,
    /// For every node, the later nodes concurrent with it
    /// ([`CausalHistory::fill_later`]), made the first time read points
    /// are counted or named.
    pub(super) later: std::cell::OnceCell<std::rc::Rc<Later>>,
    /// The later nodes of the nodes the table was made for before, kept
    /// for their allocations when it was made again for other nodes.
    pub(super) spare_later: std::cell::Cell<Option<std::rc::Rc<Later>>>,
}

/// The index of write `r` among `history`'s nodes, by `index`
/// ([`Table::index`], made for them).
pub(super) fn index_in<const P: bool>(index: &[u32], history: &CausalHistory<P>, r: Rev) -> Option<usize> {
    if index.is_empty() {
        return history.index(r);
    }
    index.get(r as usize).filter(|&&i| i != u32::MAX).map(|&i| i as usize)
}

impl Table {
    /// The index of write `r` among `history`'s nodes, the ones the table
    /// was made for.
    pub(super) fn of<const P: bool>(&self, history: &CausalHistory<P>, r: Rev) -> Option<usize> {
        index_in(&self.index, history, r)
    }
}

impl<const PRUNE: bool> CausalHistory<PRUNE> {
    /// Fills `index` with the node index of every revision
    /// ([`Table::index`]), or leaves it empty when revisions are too sparse.
    pub(super) fn fill_index(&self, index: &mut Vec<u32>) {
        index.clear();
        let top = self.nodes.last().map_or(0, |n| n.rev as usize);
        if top > 16 * self.nodes.len() + 1024 {
            return;
        }
        index.resize(top + 1, u32::MAX);
        for (i, n) in self.nodes.iter().enumerate() {
            index[n.rev as usize] = i as u32;
        }
    }

    /// The table of these nodes ([`Table`]).
    ///
    /// It depends only on the nodes and how they link, so this thread's
    /// last table is kept with the nodes it was made for (held, so their
    /// address cannot be reused) and handed out again for the same nodes:
    /// a simulation step built the table for the state's read points after
    /// the previous step had built it to prune the same nodes (each a tenth
    /// of a causal step), and BFS prunes successors that wrote nothing with
    /// their parent's table.
    ///
    /// A new table goes into the last one's allocations when nothing else
    /// holds that one any more (two allocations per causal successor that
    /// wrote, before).
    pub(super) fn table(&self) -> std::rc::Rc<Table> {
        LAST_TABLE.with(|last| {
            let mut last = last.borrow_mut();
            if let Some((nodes, table)) = &*last {
                if nodes.same(&self.nodes) {
                    return table.clone();
                }
            }
            // The last table's allocations if nothing else holds it, else
            // the spare's.
            let old = last.take().map(|(_, table)| table).filter(|t| std::rc::Rc::strong_count(t) == 1);
            let reused = old.or_else(|| SPARE_TABLE.take()).and_then(|mut table| {
                self.compute_table_into(std::rc::Rc::get_mut(&mut table)?);
                Some(table)
            });
            let table = reused.unwrap_or_else(|| std::rc::Rc::new(self.compute_table()));
            *last = Some((self.nodes.clone(), table.clone()));
            table
        })
    }

    /// Lets go of this thread's last table if it was made for these
    /// nodes, which are about to change: held, they would be copied first.
    /// Returns the table, if any, so that a change that keeps the links
    /// (renumbering) can hand it back ([`Self::remember_table`]).
    pub(super) fn forget_table(&self) -> Option<std::rc::Rc<Table>> {
        self.take_last_table(|_| true)
    }

    /// Takes this thread's last table if it was made for these nodes and
    /// nothing else holds it (a table a search still reads stays where it
    /// is, for the next state made from these nodes).
    pub(super) fn take_table(&self) -> Option<std::rc::Rc<Table>> {
        self.take_last_table(|table| std::rc::Rc::strong_count(table) == 1)
    }

    /// Takes this thread's last table if it was made for these nodes and
    /// `also` accepts it.
    fn take_last_table(&self, also: impl Fn(&std::rc::Rc<Table>) -> bool) -> Option<std::rc::Rc<Table>> {
        LAST_TABLE.with(|last| {
            let mut last = last.borrow_mut();
            if last.as_ref().is_some_and(|(nodes, table)| nodes.same(&self.nodes) && also(table)) {
                return last.take().map(|(_, table)| table);
            }
            None
        })
    }

    /// Makes `table` this thread's last table, for these nodes.
    pub(super) fn remember_table(&self, table: std::rc::Rc<Table>) {
        LAST_TABLE.with(|last| *last.borrow_mut() = Some((self.nodes.clone(), table)));
    }

    /// Makes `table`, made for these nodes but the newest (just written),
    /// the table of them all and this thread's last, when nothing else
    /// holds it and node sets still fit one word: the new node's row is the
    /// union of its predecessors', and it joins the later nodes of every
    /// node that is not its ancestor, whose counts of read points are
    /// forgotten (the others stand). Computing the table afresh for every write's pruning was
    /// 3.6% of a causal simulation step.
    pub(super) fn extend_table(&self, mut table: std::rc::Rc<Table>) {
        // Unique as taken; the later nodes may still be held.
        // Called after a write, so there is a newest node.
        let Some(i) = self.nodes.len().checked_sub(1) else { return spare(table) };
        let fits = |t: &mut Table| i < 64 && t.ancestries.words == 1 && t.preds.len() == i;
        if !std::rc::Rc::get_mut(&mut table).is_some_and(fits) {
            return spare(table);
        }
        let (Some(t), Some(node)) = (std::rc::Rc::get_mut(&mut table), self.nodes.last()) else { return };
        self.fill_index(&mut t.index);
        let row = self.push_word_row(i, node, &t.index, &mut t.preds, &mut t.ancestries.bits);
        if let Some(mut later) = t.later.take() {
            if let Some(l) = std::rc::Rc::get_mut(&mut later) {
                // A node's read points are counted through its later nodes
                // and theirs (all later than it): only the nodes the new one
                // joins count differently.
                for (j, (r, count)) in l.rows.bits.iter_mut().zip(&l.counts).enumerate() {
                    if row >> j & 1 == 0 {
                        *r |= 1 << i;
                        count.set(0);
                    }
                }
                l.rows.bits.push(0);
                l.counts.push(std::cell::Cell::new(0));
                t.later = later.into();
            }
        }
        self.remember_table(table);
    }

    /// [`Self::table`], computed.
    pub(super) fn compute_table(&self) -> Table {
        let mut table = Table {
            ancestries: Rows::empty(0, 0),
            index: Vec::new(),
            preds: Vec::new(),
            later: Default::default(),
            spare_later: Default::default(),
        };
        self.compute_table_into(&mut table);
        table
    }

    /// Appends `node`'s (node `i`'s) predecessors as a node set to `preds` and its
    /// ancestry, the union of theirs and itself, to `rows` (both one word
    /// per node, filled for the nodes before `i`), by `index` (made for
    /// these nodes); returns the ancestry.
    // Inlined: a call per node made causal BFS on `cluster` 0.5% dearer
    // (callgrind, 100,000 states: 1.1720 G against 1.1639 G).
    #[inline(always)]
    fn push_word_row(&self, i: usize, node: &Node, index: &[u32], preds: &mut Vec<u64>, rows: &mut Vec<u64>) -> u64 {
        let mine = node
            .preds
            .iter()
            .filter_map(|p| index_in(index, self, *p))
            .filter(|&j| j < i)
            .fold(0u64, |m, j| m | 1 << j);
        let (mut row, mut rest) = (1u64 << i, mine);
        while rest != 0 {
            row |= rows[rest.trailing_zeros() as usize];
            rest &= rest - 1;
        }
        preds.push(mine);
        rows.push(row);
        row
    }

    /// [`Self::compute_table`] into `table`'s allocations: the index, then
    /// the ancestries in one sweep (predecessors are older writes, so they
    /// come first); the later nodes are left to be made when first read.
    pub(super) fn compute_table_into(&self, table: &mut Table) {
        let Table { ancestries: all, index, preds, later, spare_later } = table;
        self.fill_index(index);
        if let Some(old) = later.take() {
            spare_later.set(Some(old));
        }
        let n = self.nodes.len();
        preds.clear();
        if n <= 64 {
            // One word per row: each node's predecessors as a set, then its
            // ancestry as the union of theirs.
            all.words = usize::from(n > 0);
            all.bits.clear();
            for (i, node) in self.nodes.iter().enumerate() {
                self.push_word_row(i, node, index, preds, &mut all.bits);
            }
            return;
        }
        all.words = n.div_ceil(64);
        all.bits.clear();
        all.bits.resize(n * all.words, 0);
        let words = all.words;
        for (i, node) in self.nodes.iter().enumerate() {
            let (older, rest) = all.bits.split_at_mut(i * words);
            let row = &mut rest[..words];
            row[i / 64] |= 1 << (i % 64);
            for j in node.preds.iter().filter_map(|p| index_in(index, self, *p)) {
                if j < i {
                    row.iter_mut().zip(&older[j * words..(j + 1) * words]).for_each(|(a, b)| *a |= b);
                }
            }
        }
    }

    /// [`Self::compute_later_into`], into new rows (tests compare tables
    /// made afresh with the ones kept).
    #[cfg(test)]
    pub(super) fn compute_later(&self, table: &Table) -> Rows {
        let mut rows = Rows::empty(0, 0);
        self.compute_later_into(table, &mut rows);
        rows
    }

    /// Makes `later` the later nodes of these nodes
    /// ([`Self::compute_later_into`]), none of their read points counted.
    pub(super) fn fill_later(&self, table: &Table, later: &mut Later) {
        self.compute_later_into(table, &mut later.rows);
        later.counts.clear();
        later.counts.resize(self.nodes.len(), std::cell::Cell::new(0));
    }

    /// For every node, the later nodes concurrent with it: the later nodes
    /// that are not its descendants (a later node cannot be an ancestor of
    /// an earlier one), from `table`, made for these nodes, into `rows`'
    /// allocation.
    ///
    /// The descendants (itself included) of every node are the ancestry
    /// table transposed, built as that table is, by unions of rows along
    /// the links, newest node first (a node's children are newer), and then
    /// complemented in place. Transposing bit by bit (a bit per ancestor of
    /// every node, most pairs in a history with little concurrency) was
    /// 8.4% of a causal simulation step on `cluster`.
    pub(super) fn compute_later_into(&self, table: &Table, rows: &mut Rows) {
        let n = self.nodes.len();
        rows.words = n.div_ceil(64);
        rows.bits.clear();
        rows.bits.resize(n * rows.words, 0);
        if n <= 64 && n > 0 {
            // One word per row, from the predecessor sets.
            for c in (0..n).rev() {
                let row = rows.bits[c] | 1 << c;
                rows.bits[c] = row;
                let mut rest = table.preds[c];
                while rest != 0 {
                    rows.bits[rest.trailing_zeros() as usize] |= row;
                    rest &= rest - 1;
                }
            }
            let inside = if n == 64 { !0 } else { (1u64 << n) - 1 };
            for (i, row) in rows.bits.iter_mut().enumerate() {
                *row = !*row & (!0u64 << i << 1) & inside;
            }
            return;
        }
        let words = rows.words;
        for (c, node) in self.nodes.iter().enumerate().rev() {
            let (older, rest) = rows.bits.split_at_mut(c * words);
            let row = &mut rest[..words];
            row[c / 64] |= 1 << (c % 64);
            for p in node.preds.iter().filter_map(|p| table.of(self, *p)) {
                if p < c {
                    older[p * words..(p + 1) * words].iter_mut().zip(&*row).for_each(|(a, b)| *a |= b);
                }
            }
        }
        debug_assert!((0..n).all(|i| (0..n).all(|j| has(rows.row(i), j) == has(table.ancestries.row(j), i))));
        for i in 0..n {
            for w in 0..words {
                let above = match w.cmp(&(i / 64)) {
                    std::cmp::Ordering::Less => 0,
                    std::cmp::Ordering::Equal => (!0u64 << (i % 64)) << 1,
                    std::cmp::Ordering::Greater => !0,
                };
                let inside = if w + 1 == words && n % 64 != 0 { (1u64 << (n % 64)) - 1 } else { !0 };
                let bits = &mut rows.bits[i * words + w];
                *bits = !*bits & above & inside;
            }
        }
    }
}
