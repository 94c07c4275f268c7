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

use super::linear::{linear_common, Linear};
use super::Consistency;
use crate::api::{Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::store::Store;

/// The synchronous model (linearizable reads and writes), dropping
/// sessions older than the newest revision (`FORGET`) or keeping them.
/// Both serialise as the history alone, so a state of one decodes as the
/// other.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SyncHistory<const FORGET: bool>(Linear);

/// The synchronous model, as the CLI runs it: sessions older than the
/// newest revision are dropped.
pub type Synchronous = SyncHistory<true>;

/// The synchronous model keeping every session, as the reference checker
/// does: the same behaviour over more states. Tests compare it with
/// [`Synchronous`].
pub type SynchronousKeepingSessions = SyncHistory<false>;

impl<const FORGET: bool> Consistency for SyncHistory<FORGET> {
    const NAME: &'static str = "synchronous";
    const RANKED: bool = true;
    const PRUNE_READS_SESSIONS: bool = false;
    const READS_NEWEST_ONLY: bool = FORGET;

    // No sharing of equal histories ([`Consistency::keep`]): a synchronous
    // history is its newest entry alone after every prune, and that entry's
    // store is shared with the state it came from already, so the table cost
    // more than it saved. Measured on `cluster`, BFS stopped at 1 M states,
    // one thread: peak 722 bytes per state with it, 698 without.
    linear_common!(SyncHistory, without keep);

    fn reads(&self, session: Option<&Revision>, out: &mut Vec<Revision>) {
        let m = self.0.last().rev;
        if session.is_none_or(|s| s.newest() < m) {
            out.push(Revision::at(m));
        }
    }
    fn read_count(&self, session: Option<&Revision>) -> usize {
        usize::from(session.is_none_or(|s| s.newest() < self.0.last().rev))
    }
    fn base(&self, _read: &Revision) -> Cow<'_, Store> {
        self.latest()
    }
    fn write(&mut self, _read: &Revision, op: &Operation) -> Result<(), Rejection> {
        let m = self.0.last().rev;
        self.0.append_on(m, op)
    }
    /// Only the newest state is ever read, so only it is kept.
    fn prune(&mut self, _sessions: &[Option<&[Rev]>], _resets_possible: bool) {
        self.0.retain(|_| false);
    }
}
