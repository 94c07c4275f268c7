//! A value derived from the rest of a state, computed on first use and kept
//! with the state, but no part of what the state is.

use std::sync::OnceLock;

/// A lazily computed value that a state carries beside its contents.
///
/// It takes no part in the state's identity: every `Cached` equals every
/// other and hashes as nothing (and its owner skips it when serialising:
/// `#[serde(skip)]` makes it decode empty), so
/// a state's fingerprint, equality and files are those of its contents
/// alone. The owner must [`Cached::clear`] it whenever the contents it is
/// derived from change; a clone carries the value along (a clone has the
/// same contents).
pub struct Cached<T>(OnceLock<T>);

impl<T> Cached<T> {
    /// The value, computed by `f` if it is not there yet.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(f)
    }

    /// Forgets the value (its contents changed).
    pub fn clear(&mut self) {
        self.0.take();
    }

    /// Whether the value has been computed.
    pub fn is_set(&self) -> bool {
        self.0.get().is_some()
    }
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached(OnceLock::new())
    }
}

impl<T: Clone> Clone for Cached<T> {
    fn clone(&self) -> Self {
        Cached(self.0.clone())
    }
}

impl<T> std::fmt::Debug for Cached<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() { "Cached(..)" } else { "Cached(-)" })
    }
}

impl<T> PartialEq for Cached<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Cached<T> {}

impl<T> std::hash::Hash for Cached<T> {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A computed value changes neither equality nor the fingerprint, and
    /// clearing it makes the next use compute again.
    #[test]
    fn a_cached_value_is_no_part_of_the_state() {
        let mut a: (u32, Cached<u64>) = (7, Cached::default());
        let b: (u32, Cached<u64>) = (7, Cached::default());
        assert_eq!(*a.1.get_or_init(|| 1), 1);
        assert!(a.1.is_set() && !b.1.is_set());
        assert_eq!(a, b);
        let fp = krepis_engine::fingerprint::fingerprint_of;
        assert_eq!(fp(&a), fp(&b));
        assert_eq!(*a.clone().1.get_or_init(|| 2), 1, "a clone carries the value");
        a.1.clear();
        assert_eq!(*a.1.get_or_init(|| 3), 3, "computed again after clearing");
    }
}
