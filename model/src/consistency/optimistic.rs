//! Optimistic linear: a write lands on the state its writer read, and the
//! result becomes the newest state, dropping every change not on its ancestry
//! (lost optimistic writes, as after a leader change). A controller reads the
//! ancestors of the newest state that are newer than its session, newest
//! first; without a session, the newest state.

use std::borrow::Cow;

use super::linear::{linear_common, Linear};
use super::{min_session, Consistency};
use crate::api::{Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::store::Store;

/// The optimistic-linear model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct OptimisticLinear(Linear);

impl OptimisticLinear {
    /// The newest entry and its ancestors, newest first.
    fn chain(&self) -> Vec<Rev> {
        let mut out = Vec::new();
        let mut cur = Some(self.0.last().rev);
        while let Some(r) = cur {
            out.push(r);
            cur = self.0.get(r).and_then(|e| e.parent);
        }
        out
    }
}

impl Consistency for OptimisticLinear {
    const NAME: &'static str = "optimistic-linear";

    linear_common!(OptimisticLinear);

    fn reads(&self, session: Option<&Revision>, out: &mut Vec<Revision>) {
        match session {
            None => out.push(self.max()),
            Some(s) => out.extend(self.chain().into_iter().take_while(|r| *r > s.newest()).map(Revision::at)),
        }
    }
    fn base(&self, read: &Revision) -> Cow<'_, Store> {
        self.view(read)
    }
    fn write(&mut self, read: &Revision, op: &Operation) -> Result<(), Rejection> {
        self.0.append_on(read.newest(), op)
    }
    /// Reads follow the newest entry's ancestry, and the newest entry only
    /// ever changes to a child of a readable entry: entries off that chain are
    /// unreadable for ever, and so are those no newer than every session
    /// (a controller without a session reads only the newest).
    fn prune(&mut self, sessions: &[Option<&[Rev]>], _resets_possible: bool) {
        let chain = self.chain();
        let min = min_session(sessions);
        self.0.retain(|e| chain.contains(&e.rev) && min.is_some_and(|m| e.rev > m));
    }
}
