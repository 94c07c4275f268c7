//! Short lists of `Copy` items held inline: a [`SmallVec`] whose copies and
//! collections take the short way.
//!
//! `SmallVec`'s derived `Clone` and its `FromIterator` go through its
//! generic `extend`, which reserves from the iterator's size hint and then
//! tests the capacity per element. For the lists a model state holds (a
//! read point's revisions, an object's names and owners, a packed local
//! state's words), that was about 1.5% of a synchronous BFS run on
//! `cluster`, and five types had a hand-written `Clone` copying their lists
//! as bytes instead. [`InlineVec`] does it once: a clone copies the items
//! as a slice (the inline buffer whole, without a `memcpy` call, when
//! they fit), and collecting pushes one by one.

use std::fmt;
use std::ops::{Deref, DerefMut};

use smallvec::SmallVec;

/// Up to `N` items of `T` held inline, more on the heap. Dereferences to
/// the [`SmallVec`] it wraps, for everything but cloning and collecting.
///
/// Guarantees: equality, order, hashing, `Debug` and serialisation are
/// those of the slice of its items (as `SmallVec`'s and `Vec`'s are), so
/// replacing a `SmallVec` or a `Vec` by it changes no fingerprint, no
/// saved file and no printed value.
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct InlineVec<T: Copy, const N: usize>(SmallVec<[T; N]>);

impl<T: Copy, const N: usize> InlineVec<T, N> {
    /// An empty list (nothing allocated).
    pub fn new() -> Self {
        InlineVec(SmallVec::new())
    }

    /// A list of copies of `items` (on the heap only past `N` of them).
    pub fn from_slice(items: &[T]) -> Self {
        InlineVec(SmallVec::from_slice(items))
    }

    /// The items, as a slice.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T: Copy, const N: usize> Default for InlineVec<T, N> {
    fn default() -> Self {
        InlineVec::new()
    }
}

/// An [`InlineVec`] of the items listed, as `vec!` makes a `Vec`.
#[macro_export]
macro_rules! inline_vec {
    ($($x:expr),* $(,)?) => {
        <$crate::InlineVec<_, _> as ::core::iter::FromIterator<_>>::from_iter([$($x),*])
    };
}

/// Copies the items as a slice. A short list (`N` up to 4) that fits
/// inline is rebuilt from a fixed-size buffer, filled element by element
/// up to its length, which the compiler unrolls, where `from_slice`'s
/// variable-length copy calls `memcpy` (0.8% of a synchronous BFS run when
/// `Meta`'s lists were copied that way); longer ones are copied by
/// `from_slice`.
impl<T: Copy, const N: usize> Clone for InlineVec<T, N> {
    #[inline]
    fn clone(&self) -> Self {
        let len = self.0.len();
        match self.0.first() {
            None => InlineVec::new(),
            Some(&first) if N <= 4 && len <= N => {
                let (items, mut buf) = (&self.0[..], [first; N]);
                for k in 1..N {
                    if k < len {
                        buf[k] = items[k];
                    }
                }
                InlineVec(SmallVec::from_buf_and_len(buf, len))
            }
            Some(_) => InlineVec::from_slice(&self.0),
        }
    }
}

impl<T: Copy, const N: usize> Deref for InlineVec<T, N> {
    type Target = SmallVec<[T; N]>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T: Copy, const N: usize> DerefMut for InlineVec<T, N> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Pushes one by one (no reservation from the size hint).
impl<T: Copy, const N: usize> FromIterator<T> for InlineVec<T, N> {
    #[inline]
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut v = InlineVec::new();
        v.extend(items);
        v
    }
}

/// Pushes one by one (no reservation from the size hint).
impl<T: Copy, const N: usize> Extend<T> for InlineVec<T, N> {
    #[inline]
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for x in items {
            self.0.push(x);
        }
    }
}

impl<T: Copy, const N: usize> From<Vec<T>> for InlineVec<T, N> {
    /// Kept on the heap if longer than `N`, inline otherwise.
    fn from(v: Vec<T>) -> Self {
        InlineVec(SmallVec::from_vec(v))
    }
}

impl<T: Copy, const N: usize> IntoIterator for InlineVec<T, N> {
    type Item = T;
    type IntoIter = smallvec::IntoIter<[T; N]>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a InlineVec<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a mut InlineVec<T, N> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

/// As the slice of its items.
impl<T: Copy + fmt::Debug, const N: usize> fmt::Debug for InlineVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0[..].fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::hash::{Hash, Hasher};

    fn hash_of(x: &impl Hash) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        x.hash(&mut h);
        h.finish()
    }

    proptest! {
        /// Clones, collects and extends give the items in order, inline or
        /// spilled, and hash, compare, print and serialise as the `Vec` of
        /// the same items.
        #[test]
        fn it_behaves_as_a_vec(items in proptest::collection::vec(any::<u32>(), 0..9), more in proptest::collection::vec(any::<u32>(), 0..4)) {
            let v: InlineVec<u32, 3> = items.iter().copied().collect();
            prop_assert_eq!(v.as_slice(), &items[..]);
            prop_assert_eq!(v.spilled(), items.len() > 3);
            let c = v.clone();
            prop_assert_eq!(c.as_slice(), &items[..]);
            prop_assert_eq!(c.spilled(), items.len() > 3);
            prop_assert_eq!(&c, &v);
            prop_assert_eq!(hash_of(&v), hash_of(&items));
            prop_assert_eq!(format!("{v:?}"), format!("{items:?}"));
            prop_assert_eq!(postcard::to_allocvec(&v).unwrap(), postcard::to_allocvec(&items).unwrap());
            let back: InlineVec<u32, 3> = postcard::from_bytes(&postcard::to_allocvec(&v).unwrap()).unwrap();
            prop_assert_eq!(&back, &v);
            let mut e = c;
            e.extend(more.iter().copied());
            let mut all = items.clone();
            all.extend(&more);
            prop_assert_eq!(e.as_slice(), &all[..]);
            prop_assert_eq!(v.cmp(&e), items.cmp(&all));
            let (from_vec, from_slice) = (InlineVec::<u32, 3>::from(items.clone()), InlineVec::<u32, 3>::from_slice(&items));
            prop_assert_eq!(from_vec.as_slice(), &items[..]);
            prop_assert_eq!(from_slice.as_slice(), &items[..]);
        }
    }

    #[test]
    fn a_full_buffer_is_inline() {
        let v: InlineVec<u8, 2> = [7u8, 8].into_iter().collect();
        assert!(!v.spilled());
        assert_eq!(v.clone().as_slice(), &[7, 8]);
        assert_eq!(InlineVec::<u8, 2>::new().clone().len(), 0);
    }
}
