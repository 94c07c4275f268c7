//! [`GroupMap`]: how canonicalising a state renamed its fairness groups.

/// A permutation of the 64 fairness groups ([`Model::fairness`](crate::Model::fairness)):
/// `get(g)` is the group that group `g`'s actions have after the renaming.
///
/// A model whose fairness groups belong to instances that symmetry
/// reduction permutes (one group per controller instance, say) reports one
/// from [`Model::canonicalize_groups`](crate::Model::canonicalize_groups):
/// the group each instance had in the state before canonicalising, mapped to
/// the group the same instance has in the canonical state. The `eventually`
/// pass then runs on orbits and follows instances through the renamings
/// (see the `eventually` module's docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupMap([u8; 64]);

impl GroupMap {
    /// The map that renames nothing.
    pub const IDENTITY: GroupMap = {
        let mut m = [0u8; 64];
        let mut g = 0;
        while g < 64 {
            m[g] = g as u8;
            g += 1;
        }
        GroupMap(m)
    };

    /// The group `g` becomes (`g` is taken modulo 64, as fairness groups are).
    #[inline]
    pub fn get(&self, g: u8) -> u8 {
        self.0[(g % 64) as usize]
    }

    /// Makes group `from` become `to` (both modulo 64). The caller keeps
    /// the map a permutation (every group the image of exactly one); the
    /// `eventually` pass refuses a model's map that is not.
    #[inline]
    pub fn set(&mut self, from: u8, to: u8) {
        self.0[(from % 64) as usize] = to % 64;
    }

    /// Whether it renames nothing.
    pub fn is_identity(&self) -> bool {
        *self == GroupMap::IDENTITY
    }

    /// Whether every group is the image of exactly one group.
    pub fn is_permutation(&self) -> bool {
        let mut seen = 0u64;
        for &to in &self.0 {
            seen |= 1 << (to % 64);
        }
        seen == u64::MAX
    }

    /// This renaming followed by `next`: `g` becomes `next.get(self.get(g))`.
    pub fn then(&self, next: &GroupMap) -> GroupMap {
        let mut out = [0u8; 64];
        for (o, &to) in out.iter_mut().zip(&self.0) {
            *o = next.0[to as usize];
        }
        GroupMap(out)
    }

    /// The renaming that undoes this one (for a permutation).
    pub fn inverse(&self) -> GroupMap {
        let mut out = [0u8; 64];
        for (g, &to) in self.0.iter().enumerate() {
            out[to as usize] = g as u8;
        }
        GroupMap(out)
    }

    /// The groups of the set `groups` (bit g: group g) after the renaming.
    pub fn image(&self, groups: u64) -> u64 {
        if groups == 0 {
            return 0;
        }
        let mut out = 0u64;
        let mut rest = groups;
        while rest != 0 {
            let g = rest.trailing_zeros() as usize;
            out |= 1 << self.0[g];
            rest &= rest - 1;
        }
        out
    }
}

impl Default for GroupMap {
    fn default() -> Self {
        GroupMap::IDENTITY
    }
}

impl std::fmt::Debug for GroupMap {
    /// Only the groups it moves, as `from->to`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let moved: Vec<String> =
            (0..64u8).filter(|&g| self.get(g) != g).map(|g| format!("{g}->{}", self.get(g))).collect();
        write!(f, "GroupMap[{}]", moved.join(" "))
    }
}

/// The renaming that swaps groups `a` and `b` (for tests).
#[cfg(test)]
pub(crate) fn swap(a: u8, b: u8) -> GroupMap {
    let mut m = GroupMap::IDENTITY;
    m.set(a, b);
    m.set(b, a);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composition_inverse_and_images_follow_the_definitions() {
        let (s, t) = (swap(0, 1), swap(1, 2));
        let st = s.then(&t); // 0 -> 1 -> 2, 1 -> 0 -> 0, 2 -> 2 -> 1
        assert_eq!((st.get(0), st.get(1), st.get(2), st.get(3)), (2, 0, 1, 3));
        assert!(st.is_permutation() && !st.is_identity());
        assert!(st.then(&st.inverse()).is_identity() && st.inverse().then(&st).is_identity());
        assert_eq!(st.image(0b1011), 0b1101);
        assert_eq!(st.image(0), 0);
        assert_eq!(GroupMap::IDENTITY.image(u64::MAX), u64::MAX);
        let mut broken = GroupMap::IDENTITY;
        broken.set(5, 6);
        assert!(!broken.is_permutation());
        assert_eq!(format!("{st:?}"), "GroupMap[0->2 1->0 2->1]");
    }
}
