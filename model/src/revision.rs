//! Read points in a history.

use std::fmt;

use krepis_encodings::InlineVec;

use crate::meta::Rev;

/// A point of a history that a controller reads: one write in the linear
/// histories, or a set of concurrent writes merged together (causal). Sorted,
/// without duplicates, never empty. Up to four components are held inline
/// (no heap allocation: read points are cloned into every successor).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Revision(InlineVec<Rev, 4>);

impl Revision {
    /// The read point of the single write `r`.
    pub fn at(r: Rev) -> Self {
        Revision(krepis_encodings::inline_vec![r])
    }

    /// The merge of the writes `rs` (sorted and de-duplicated here).
    pub fn merged(mut rs: Vec<Rev>) -> Self {
        rs.sort_unstable();
        rs.dedup();
        Revision(InlineVec::from(rs))
    }

    /// The read point of the writes `rs`, which are sorted, without
    /// duplicates and not empty (checked in debug builds).
    pub fn from_sorted(rs: &[Rev]) -> Self {
        debug_assert!(!rs.is_empty() && rs.windows(2).all(|w| w[0] < w[1]), "{rs:?}");
        Revision(InlineVec::from_slice(rs))
    }

    /// The writes merged at this point.
    pub fn components(&self) -> &[Rev] {
        &self.0
    }

    /// The newest write in it.
    pub fn newest(&self) -> Rev {
        self.0.last().copied().unwrap_or(0)
    }

    /// Replaces every component `x` by `map(x)` (order-preserving maps keep it sorted).
    pub fn map(&mut self, map: &impl Fn(Rev) -> Rev) {
        self.0.iter_mut().for_each(|r| *r = map(*r));
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|r| r.to_string()).collect();
        write!(f, "@{}", parts.join("+"))
    }
}
