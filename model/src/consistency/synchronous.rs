//! Synchronous: every read is of the newest state and every write applies to
//! the newest state. A controller that has read the newest state has nothing
//! new to read until someone writes.
//!
//! So a controller's session matters only in whether it is the newest
//! revision: an older one, like none, lets it read the newest state, and
//! the controllers never look at their session otherwise (they act on what
//! they read). [`Synchronous`] therefore drops every older session when a
//! state is normalised ([`Consistency::READS_NEWEST_ONLY`]), merging states
//! the reference checker keeps apart (its states record how far behind
//! each controller's last read is): on stale-reads to depth 8, 11,157
//! states where it has 172,369. The merged states have the same successors
//! but one kind: a restart of an instance whose only local state was an old
//! session, which changes nothing but the restart budget, is not offered
//! (restarts are offered only to instances with a local state), so every
//! state the merged model reaches stands for states the full one reaches,
//! and at the same depth. [`SynchronousKeepingSessions`] keeps every
//! session; `model/tests/all/agree.rs` shows the two give the same verdicts and
//! shortest traces, and that the merged model's states are exactly the
//! full one's states with old sessions dropped when no restart can happen.

use std::borrow::Cow;

use super::linear::Entry;
use super::Consistency;
use crate::api::{apply, Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::stamp_set::{Gather, Ranks, StampMap};
use crate::store::{Snapshot, Store};

/// The synchronous model (linearizable reads and writes), dropping
/// sessions older than the newest revision (`FORGET`) or keeping them.
///
/// Only the newest state is ever read, so the history is that state alone,
/// held in the state itself: a write replaces it. (It was a one-entry
/// linear history (`Linear`) before, whose node was an allocation of
/// its own per successor besides the store's: 0.9 of a synchronous BFS
/// run's 4.5 allocations per transition on `cluster`.) It hashes,
/// compares and serialises as that one-entry list did, so fingerprints and
/// checkpoints are unchanged. Both `FORGET` settings serialise as the
/// history alone, so a state of one decodes as the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncHistory<const FORGET: bool>(Newest);

/// The newest state: a linear history's [`Entry`] without its parent
/// (a synchronous history's newest state has none: the one it was written
/// on is gone). 24 bytes where an entry takes 32, so a state in a BFS
/// frontier takes 48 bytes with its fingerprint instead of 56. Hashes,
/// compares and serialises as the entry with no parent.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Newest {
    /// The write that produced it.
    rev: Rev,
    /// The objects.
    store: Snapshot,
}

const _: () = assert!(std::mem::size_of::<Newest>() == 24);

impl Newest {
    /// The linear history's entry it stands for.
    fn entry(&self) -> Entry {
        Entry { rev: self.rev, parent: None, store: self.store.clone() }
    }
}

/// The synchronous model, as the CLI runs it: sessions older than the
/// newest revision are dropped.
pub type Synchronous = SyncHistory<true>;

/// The synchronous model keeping every session, as the reference checker
/// does: the same behaviour over more states. Tests compare it with
/// [`Synchronous`].
pub type SynchronousKeepingSessions = SyncHistory<false>;

/// As a list of one entry hashes (its length, then the entry).
impl<const FORGET: bool> std::hash::Hash for SyncHistory<FORGET> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_usize(1);
        // As `Entry`'s derived `Hash`: its fields in order.
        self.0.rev.hash(h);
        None::<Rev>.hash(h);
        self.0.store.hash(h);
    }
}

/// As the history of one entry serialises: a struct of one field, the
/// entries in write order.
#[derive(serde::Serialize)]
struct AsListRef<'a> {
    entries: &'a [Entry],
}

#[derive(serde::Deserialize)]
struct AsList {
    entries: Vec<Entry>,
}

impl<const FORGET: bool> serde::Serialize for SyncHistory<FORGET> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&AsListRef { entries: std::slice::from_ref(&self.0.entry()) }, s)
    }
}

impl<'de, const FORGET: bool> serde::Deserialize<'de> for SyncHistory<FORGET> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let AsList { mut entries } = AsList::deserialize(d)?;
        match (entries.pop(), entries.is_empty()) {
            (Some(Entry { rev, parent: None, store }), true) => Ok(SyncHistory(Newest { rev, store })),
            (Some(_), true) => Err(serde::de::Error::custom("a synchronous history's state has no parent")),
            _ => Err(serde::de::Error::custom("a synchronous history holds exactly one state")),
        }
    }
}

impl<const FORGET: bool> SyncHistory<FORGET> {
    /// The entry `op` makes, applied to the newest state (`write` and
    /// `written` both take it; a rejection changes nothing).
    fn entry_after(&self, op: &Operation) -> Result<Newest, Rejection> {
        let rev = self.0.rev + 1;
        let mut store = Store::clone(&self.0.store);
        apply(&mut store, op, rev)?;
        Ok(Newest { rev, store: Snapshot::new(store) })
    }
}

impl<const FORGET: bool> Consistency for SyncHistory<FORGET> {
    const NAME: &'static str = "synchronous";
    const RANKED: bool = true;
    const PRUNE_READS_SESSIONS: bool = false;
    const READS_NEWEST_ONLY: bool = FORGET;

    // No sharing of equal histories ([`Consistency::keep`]): a synchronous
    // history is its newest state alone, whose store is shared with the
    // state it came from already. (A table of equal one-entry lists cost
    // more than it saved: measured on `cluster`, BFS stopped at 1 M states,
    // one thread, peak 722 bytes per state with it, 698 without.)

    fn new(initial: Store, rev: Rev) -> Self {
        SyncHistory(Newest { rev, store: Snapshot::new(initial) })
    }
    fn latest(&self) -> Cow<'_, Store> {
        Cow::Borrowed(&self.0.store)
    }
    fn max(&self) -> Revision {
        Revision::at(self.0.rev)
    }
    fn newest(&self) -> Rev {
        self.0.rev
    }
    fn reads(&self, session: Option<&Revision>, out: &mut Vec<Revision>) {
        if session.is_none_or(|s| s.newest() < self.0.rev) {
            out.push(Revision::at(self.0.rev));
        }
    }
    fn read_count(&self, session: Option<&Revision>) -> usize {
        usize::from(session.is_none_or(|s| s.newest() < self.0.rev))
    }
    /// The newest state: the only one there is.
    fn view(&self, _at: &Revision) -> Cow<'_, Store> {
        self.latest()
    }
    fn missing(&self, read: &Revision) -> usize {
        usize::from(self.0.rev > read.newest())
    }
    fn base(&self, _read: &Revision) -> Cow<'_, Store> {
        self.latest()
    }
    /// Applies `op` to the newest state, which the result replaces (as the
    /// list's prune, which kept only the newest entry, left it: without a
    /// parent, the one it was written on being gone).
    fn write(&mut self, _read: &Revision, op: &Operation) -> Result<(), Rejection> {
        self.0 = self.entry_after(op)?;
        Ok(())
    }
    /// The newest state written, made from this history's without
    /// cloning the history first (a clone's count on the frozen store,
    /// taken off again as the write replaces it). A rejection gives a
    /// clone.
    fn written(&self, _read: &Revision, op: &Operation) -> (Self, Result<(), Rejection>) {
        match self.entry_after(op) {
            Ok(e) => (SyncHistory(e), Ok(())),
            Err(e) => (self.clone(), Err(e)),
        }
    }
    fn written_on_view(&self, read: &Revision, _view: &Store, op: &Operation) -> (Self, Result<(), Rejection>) {
        self.written(read, op)
    }
    /// Only the newest state is ever read, and it is all the history holds.
    fn prune(&mut self, _sessions: &[Option<&[Rev]>], _resets_possible: bool) {}
    fn stamps(&self, set: &mut Gather) {
        set.insert(self.0.rev);
        set.union(self.0.store.stamp_set());
    }
    fn map_stamps(&mut self, map: &impl StampMap) {
        let e = &mut self.0;
        e.rev = map.map(e.rev);
        e.store.renumber(map);
    }
    fn rename_nodes(&mut self, to: &dyn Fn(&crate::meta::Name) -> crate::meta::Name) {
        if let Some(renamed) = self.0.store.with_nodes_renamed(&to) {
            self.0.store = renamed;
        }
    }
    /// As a list of one entry feeds it.
    fn hash_ranked(&self, ranks: &Ranks<'_>, h: &mut dyn std::hash::Hasher) {
        let e = &self.0;
        h.write_usize(1);
        h.write_u32(ranks.map(e.rev));
        // No parent.
        h.write_u32(0);
        e.store.hash_ranked(ranks, h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consistency::linear::Linear;
    use crate::meta::name;
    use krepis_engine::checkpoint::{postcard_decode, postcard_encode};
    use krepis_engine::fingerprint::{fingerprint_of, fingerprint_with};

    /// A synchronous history and the one-entry list it replaces, written
    /// the same way (a write, then the prune that kept the newest entry):
    /// the same newest state, stamps, hashes (as they are and up to
    /// renumbering), serialised bytes, and renumbered alike; the bytes
    /// decode as the history, and a list of two entries does not.
    #[test]
    fn acts_hashes_and_serialises_as_the_one_entry_list_it_replaces() {
        let mut list = Linear::new(Store::default(), 1);
        let mut sync = Synchronous::new(Store::default(), 1);
        let ops = [
            Operation::NodeJoin(name("a")),
            Operation::NodeJoin(name("b")),
            Operation::NodeJoin(name("a")), // rejected: already there
            Operation::NodeJoin(name("c")),
        ];
        let stamps = |f: &dyn Fn(&mut Gather)| {
            let mut g = Gather::new();
            f(&mut g);
            g.finish()
        };
        for (k, op) in ops.iter().enumerate() {
            let listed = list.append_on(list.last().rev, op);
            list.retain(|_| false);
            // `written` is the history `write` makes, and leaves this one.
            let before = sync.clone();
            let (copy, outcome) = sync.written(&sync.max(), op);
            assert_eq!(sync, before, "op {k}");
            let written = sync.write(&sync.max(), op);
            assert_eq!((copy, outcome.is_ok()), (sync.clone(), written.is_ok()), "op {k}");
            assert_eq!(listed.is_ok(), written.is_ok(), "op {k}");
            assert_eq!(listed.is_ok(), k != 2, "op {k}: only the repeated join is rejected");
            assert_eq!((list.entries.len(), list.last()), (1, &sync.0.entry()), "op {k}: the newest state alone");
            assert_eq!(stamps(&|g| list.stamps(g)), stamps(&|g| sync.stamps(g)), "op {k}");
            assert_eq!(fingerprint_of(&list), fingerprint_of(&sync), "op {k}: hash");
            let present = stamps(&|g| sync.stamps(g));
            let ranks = present.ranks();
            let ranked = |h: &dyn Fn(&mut dyn std::hash::Hasher)| fingerprint_with(|x| h(x));
            assert_eq!(
                ranked(&|h| list.hash_ranked(&ranks, h)),
                ranked(&|h| sync.hash_ranked(&ranks, h)),
                "op {k}: hash up to renumbering"
            );
            let (mut a, mut b) = (Vec::new(), Vec::new());
            assert!(postcard_encode(&list, &mut a) && postcard_encode(&sync, &mut b));
            assert_eq!(a, b, "op {k}: serialised");
            assert_eq!(postcard_decode::<Synchronous>(&b).as_ref(), Some(&sync), "op {k}: decoded");
        }
        let spread = |r: Rev| 3 * r + 5;
        list.map_stamps(&spread);
        sync.map_stamps(&spread);
        assert_eq!(list.last(), &sync.0.entry(), "renumbered alike");
        assert_eq!(fingerprint_of(&list), fingerprint_of(&sync));
        list.append_on(list.last().rev, &Operation::NodeJoin(name("d"))).expect("a new node joins");
        let mut two = Vec::new();
        assert!(postcard_encode(&list, &mut two));
        assert_eq!(postcard_decode::<Synchronous>(&two), None, "two states are not a synchronous history");
        // One state with a parent (an optimistic history's) is not one either.
        let entry = Entry { rev: 3, parent: Some(2), store: Snapshot::new(Store::default()) };
        let mut parented = Vec::new();
        assert!(postcard_encode(&AsListRef { entries: &[entry] }, &mut parented));
        assert_eq!(postcard_decode::<Synchronous>(&parented), None, "a synchronous state has no parent");
    }
}
