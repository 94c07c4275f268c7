//! Synchronous: every read is of the newest state and every write applies to
//! the newest state. A controller that has read the newest state has nothing
//! new to read until someone writes.

use std::borrow::Cow;

use super::linear::{linear_common, Linear};
use super::Consistency;
use crate::api::{Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::store::Store;

/// The synchronous model (linearizable reads and writes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Synchronous(Linear);

impl Consistency for Synchronous {
    const NAME: &'static str = "synchronous";
    const RANKED: bool = true;
    const PRUNE_READS_SESSIONS: bool = false;

    linear_common!(Synchronous);

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
