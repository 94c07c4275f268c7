//! An object's owner references in 16 bytes: none, one held inline, or
//! several on the heap.
//!
//! Objects of the model's scenarios have at most one owner, their
//! controller. An `InlineVec<OwnerRef, 1>` took 24 bytes for it; this takes
//! the reference's own 16 (the compiler keeps the discriminant in values
//! the reference's fields never take, such as [`Kind`]'s unused ones; a
//! compile-time assertion holds the size), which brings a pod with its
//! digests and reference count to 128 bytes, mimalloc's block size, where it
//! took 160.
//!
//! It hashes, compares and serialises as the slice of its references, as
//! the inline list did: fingerprints, checkpoints and saved traces are
//! unchanged.
//!
//! [`Kind`]: crate::meta::Kind

use std::hash::{Hash, Hasher};

use crate::meta::OwnerRef;

/// Owner references, in order. Holds several on the heap only when there
/// are two or more (so equal lists have one form).
#[derive(Clone, Default)]
pub struct Owners(Repr);

#[derive(Clone, Default)]
enum Repr {
    #[default]
    None,
    One(OwnerRef),
    /// Two or more. A `Box<[OwnerRef]>` would be a 16-byte pointer, which
    /// leaves no room for the discriminant: the enum would take 24 bytes.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<OwnerRef>>),
}

const _: () = assert!(std::mem::size_of::<Owners>() == 16);

impl Owners {
    /// No owner.
    pub const fn new() -> Self {
        Owners(Repr::None)
    }

    /// The references, in order.
    pub fn as_slice(&self) -> &[OwnerRef] {
        match &self.0 {
            Repr::None => &[],
            Repr::One(o) => std::slice::from_ref(o),
            Repr::Many(v) => v,
        }
    }

    /// The references, in order, to change in place.
    pub fn as_mut_slice(&mut self) -> &mut [OwnerRef] {
        match &mut self.0 {
            Repr::None => &mut [],
            Repr::One(o) => std::slice::from_mut(o),
            Repr::Many(v) => v,
        }
    }

    /// Appends `o`.
    pub fn push(&mut self, o: OwnerRef) {
        self.0 = match std::mem::take(&mut self.0) {
            Repr::None => Repr::One(o),
            Repr::One(first) => Repr::Many(Box::new(vec![first, o])),
            Repr::Many(mut v) => {
                v.push(o);
                Repr::Many(v)
            }
        };
    }

    /// Keeps the references for which `keep` holds, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&OwnerRef) -> bool) {
        match &mut self.0 {
            Repr::None => {}
            Repr::One(o) => {
                if !keep(o) {
                    self.0 = Repr::None;
                }
            }
            Repr::Many(v) => {
                v.retain(|o| keep(o));
                // Back to the one form of a list of fewer than two.
                if v.len() < 2 {
                    *self = v.iter().copied().collect();
                }
            }
        }
    }

    /// Drops every reference.
    pub fn clear(&mut self) {
        self.0 = Repr::None;
    }
}

impl std::ops::Deref for Owners {
    type Target = [OwnerRef];
    fn deref(&self) -> &[OwnerRef] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for Owners {
    fn deref_mut(&mut self) -> &mut [OwnerRef] {
        self.as_mut_slice()
    }
}

impl FromIterator<OwnerRef> for Owners {
    fn from_iter<I: IntoIterator<Item = OwnerRef>>(iter: I) -> Self {
        let mut owners = Owners::new();
        iter.into_iter().for_each(|o| owners.push(o));
        owners
    }
}

impl PartialEq for Owners {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Owners {}

/// As the slice of its references: its length, then each reference.
impl Hash for Owners {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_slice().hash(h);
    }
}

impl std::fmt::Debug for Owners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

/// As the sequence of its references.
impl serde::Serialize for Owners {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Owners {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Owners, D::Error> {
        let v: Vec<OwnerRef> = serde::Deserialize::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{name, Kind};
    use krepis_encodings::InlineVec;

    fn owner(n: &str, uid: u32, controller: bool) -> OwnerRef {
        OwnerRef { kind: Kind::ReplicaSet, name: name(n), uid, controller }
    }

    fn hash_of(x: &impl Hash) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        x.hash(&mut h);
        h.finish()
    }

    /// Fingerprints, checkpoints and saved traces depend on these: the
    /// references must hash and serialise as the inline list they replaced.
    #[test]
    fn hashes_and_serialises_as_the_inline_list_it_replaced() {
        let all = [owner("a", 3, true), owner("b", 7, false), owner("c", 9, false)];
        for n in 0..=all.len() {
            let owners: Owners = all[..n].iter().copied().collect();
            let inline: InlineVec<OwnerRef, 1> = InlineVec::from_slice(&all[..n]);
            assert_eq!(owners.as_slice(), &all[..n]);
            assert_eq!(hash_of(&owners), hash_of(&inline), "{n} owners");
            let json = serde_json::to_string(&inline).unwrap();
            assert_eq!(serde_json::to_string(&owners).unwrap(), json);
            let back: Owners = serde_json::from_str(&json).unwrap();
            assert_eq!(back, owners);
            let bytes = postcard::to_allocvec(&owners).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&inline).unwrap());
            assert_eq!(postcard::from_bytes::<Owners>(&bytes).unwrap(), owners);
        }
    }

    #[test]
    fn lists_changed_to_equal_contents_are_equal() {
        let (a, b) = (owner("a", 3, true), owner("b", 7, false));
        let mut two = Owners::new();
        two.push(a);
        two.push(b);
        assert_eq!(two.as_slice(), &[a, b]);
        let mut three = two.clone();
        three.push(owner("c", 9, false));
        three.retain(|o| o.uid != 3);
        assert_eq!(three.as_slice(), &[b, owner("c", 9, false)]);
        two.retain(|o| o.uid != 7);
        // Back to one reference, held inline: equal to one pushed.
        let mut one = Owners::new();
        one.push(a);
        assert_eq!(two, one);
        assert!(matches!(two.0, Repr::One(_)));
        two.iter_mut().for_each(|o| o.uid = 4);
        assert_eq!(two[0].uid, 4);
        two.clear();
        assert_eq!(two, Owners::default());
        assert!(two.is_empty());
    }
}
