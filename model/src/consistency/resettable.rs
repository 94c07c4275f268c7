//! Resettable session: as monotonic session, except that a controller without
//! a session (at start, or after a restart) may read any state of the history,
//! then goes on monotonically from there.

use std::borrow::Cow;

use super::linear::{linear_common, Linear};
use super::monotonic::{newer, newer_count};
use super::{min_session, Consistency};
use crate::api::{Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::store::Store;

/// The resettable-session model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ResettableSession(Linear);

impl Consistency for ResettableSession {
    const NAME: &'static str = "resettable-session";

    linear_common!(ResettableSession);

    fn reads(&self, session: Option<&Revision>, out: &mut Vec<Revision>) {
        match session {
            None => self.0.entries.revs_after(None, out),
            Some(_) => newer(&self.0, session, out),
        }
    }
    fn read_count(&self, session: Option<&Revision>) -> usize {
        match session {
            None => self.0.entries.len(),
            Some(_) => newer_count(&self.0, session),
        }
    }
    /// The `token`-th point of `reads` without building the others
    /// (building every point of a long history for a controller without a
    /// session was 4.5% of a simulation step on `cluster`).
    fn read_of_token(&self, session: Option<&Revision>, token: u64) -> Option<Revision> {
        self.0.entries.nth_after(session.map(Revision::newest), usize::try_from(token).ok()?)
    }
    fn base(&self, _read: &Revision) -> Cow<'_, Store> {
        self.latest()
    }
    fn write(&mut self, _read: &Revision, op: &Operation) -> Result<(), Rejection> {
        let m = self.0.last().rev;
        self.0.append_on(m, op)
    }
    /// A controller without a session reads any entry, so nothing can go
    /// while one exists or a restart may still make one. Otherwise, as in
    /// monotonic session, entries no newer than every session are unreadable.
    fn prune(&mut self, sessions: &[Option<&[Rev]>], resets_possible: bool) {
        if resets_possible || sessions.iter().any(Option::is_none) {
            return;
        }
        if let Some(min) = min_session(sessions) {
            self.0.retain(|e| e.rev > min);
        }
    }
}
