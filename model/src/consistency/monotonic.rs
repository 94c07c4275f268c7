//! Monotonic session: writes apply to the newest state; a controller reads any
//! state newer than the last one it read (so its reads never go back but may
//! lag); a controller without a session reads the newest state.

use std::borrow::Cow;

use super::linear::{linear_common, Linear};
use super::{min_session, Consistency};
use crate::api::{Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::store::Store;

/// The monotonic-session model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct MonotonicSession(pub(crate) Linear);

/// Reads strictly newer than `session`, oldest first; the newest alone without one.
pub(crate) fn newer(h: &Linear, session: Option<&Revision>, out: &mut Vec<Revision>) {
    match session {
        None => out.push(Revision::at(h.last().rev)),
        Some(s) => h.entries.revs_after(Some(s.newest()), out),
    }
}

/// The `k`-th point [`newer`] gives (its tokens are indices), without
/// building the others.
pub(crate) fn nth_newer(h: &Linear, session: Option<&Revision>, k: u64) -> Option<Revision> {
    match session {
        None => (k == 0).then(|| Revision::at(h.last().rev)),
        Some(s) => h.entries.nth_after(Some(s.newest()), usize::try_from(k).ok()?),
    }
}

/// How many points [`newer`] gives.
pub(crate) fn newer_count(h: &Linear, session: Option<&Revision>) -> usize {
    match session {
        None => 1,
        Some(s) => h.entries.count_after(s.newest()),
    }
}

impl Consistency for MonotonicSession {
    const NAME: &'static str = "monotonic-session";
    const RANKED: bool = true;

    linear_common!(MonotonicSession);

    fn reads(&self, session: Option<&Revision>, out: &mut Vec<Revision>) {
        newer(&self.0, session, out)
    }
    fn read_count(&self, session: Option<&Revision>) -> usize {
        newer_count(&self.0, session)
    }
    fn read_of_token(&self, session: Option<&Revision>, token: u64) -> Option<Revision> {
        nth_newer(&self.0, session, token)
    }
    fn base(&self, _read: &Revision) -> Cow<'_, Store> {
        self.latest()
    }
    fn write(&mut self, _read: &Revision, op: &Operation) -> Result<(), Rejection> {
        let m = self.0.last().rev;
        self.0.append_on(m, op)
    }
    /// A controller with session `s` reads only entries newer than `s`; one
    /// without a session (now or after a restart) reads only the newest. So
    /// entries no newer than every session are unreadable for ever.
    fn prune(&mut self, sessions: &[Option<&[Rev]>], _resets_possible: bool) {
        match min_session(sessions) {
            Some(min) => self.0.retain(|e| e.rev > min),
            None => self.0.retain(|_| false),
        }
    }
}
