//! A table of group renamings, numbered in the order they are first met.

use hashbrown::HashMap;

use crate::GroupMap;

/// Renamings by number, number 0 being the identity, and where each is.
/// Edges refer to a renaming by its number (the pass's chunks and the
/// search's records keep one table each).
#[derive(Clone)]
pub(super) struct MapTable {
    maps: Vec<GroupMap>,
    index: HashMap<GroupMap, u32>,
}

impl Default for MapTable {
    fn default() -> Self {
        MapTable { maps: vec![GroupMap::IDENTITY], index: HashMap::new() }
    }
}

impl MapTable {
    /// The number of `map`, added if new: `None` if it is new and `admit`
    /// refuses it or its number would be `limit` or more.
    #[inline]
    pub fn number(&mut self, map: &GroupMap, limit: u32, admit: impl FnOnce(&GroupMap) -> bool) -> Option<u32> {
        if map.is_identity() {
            return Some(0);
        }
        if let Some(&n) = self.index.get(map) {
            return Some(n);
        }
        let n = self.maps.len() as u32;
        if n >= limit || !admit(map) {
            return None;
        }
        self.maps.push(*map);
        self.index.insert(*map, n);
        Some(n)
    }

    /// The renaming numbered `n`.
    #[inline]
    pub fn get(&self, n: u32) -> &GroupMap {
        &self.maps[n as usize]
    }

    /// The renamings by number, the identity first.
    pub fn maps(&self) -> &[GroupMap] {
        &self.maps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamings_are_numbered_once_in_the_order_met_within_the_limit() {
        let mut t = MapTable::default();
        let mut swap = GroupMap::IDENTITY;
        swap.set(0, 1);
        swap.set(1, 0);
        let mut other = GroupMap::IDENTITY;
        other.set(2, 3);
        other.set(3, 2);
        assert_eq!(t.number(&GroupMap::IDENTITY, 2, |_| true), Some(0));
        assert_eq!(t.number(&swap, 2, |_| true), Some(1));
        assert_eq!(t.number(&swap, 2, |_| false), Some(1), "known: not asked again");
        assert_eq!(t.number(&other, 2, |_| true), None, "over the limit");
        assert_eq!(t.number(&other, 3, |_| false), None, "refused");
        assert_eq!(t.number(&other, 3, |_| true), Some(2));
        assert_eq!(t.get(1), &swap);
        assert_eq!(t.maps().len(), 3);
    }
}
