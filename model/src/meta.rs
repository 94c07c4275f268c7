//! Object metadata: names, uids, resource versions, labels, owner references.

use std::fmt;

use krepis_encodings::Pairs;

/// An object or label name, interned: cheap to clone and compare, hashed as
/// one precomputed word, ordered by text.
pub type Name = krepis_encodings::Sym;

/// A resource version: the number of the write that last created or changed
/// an object. Only the order of versions matters, so states are kept with
/// versions renumbered densely (see `relabel`).
pub type Rev = u32;

/// An object's unique id, different for every incarnation of a name (a pod
/// deleted and created again under the same name gets a new uid).
pub type Uid = u32;

/// Makes a [`Name`].
pub fn name(s: &str) -> Name {
    Name::new(s)
}

/// The decimal digits of `n` (ASCII), in `digits[start..]` of the
/// `(digits, start)` returned: for names built on every state, where
/// `core::fmt` costs more than the rest of the work.
pub fn decimal(n: u64) -> ([u8; 20], usize) {
    let mut digits = [0u8; 20];
    let (mut at, mut rest) = (digits.len(), n);
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            return (digits, at);
        }
    }
}

/// The name spelling `n` in decimal, built on the stack (`n.to_string()`
/// allocated a `String` per annotation a Deployment step writes: 0.23
/// allocations per transition of a synchronous BFS run on `cluster`).
pub fn decimal_name(n: u64) -> Name {
    with_decimal(n, name)
}

/// Runs `f` on `n` in decimal, spelt on the stack.
pub fn with_decimal<R>(n: u64, f: impl FnOnce(&str) -> R) -> R {
    let (digits, start) = decimal(n);
    f(std::str::from_utf8(&digits[start..]).expect("decimal digits are ASCII"))
}

/// Runs `f` on the concatenation of `parts`, built on the stack when it fits
/// in 64 bytes: the names the model builds on every successor to look up
/// or intern (generated names, hashes) allocate nothing (`format!` did,
/// half an allocation per transition on `cluster`) and go through no
/// formatting machinery (`core::fmt` was 1.6% of the instructions of a
/// synchronous BFS run on `cluster`; joining saves 0.2% of the run, interning
/// being most of what a name costs).
pub fn with_joined<R>(parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 64];
    let mut len = 0;
    for p in parts {
        let Some(slot) = buf.get_mut(len..len + p.len()) else {
            return f(&parts.concat());
        };
        slot.copy_from_slice(p.as_bytes());
        len += p.len();
    }
    // Whole `&str`s were joined: the bytes are UTF-8.
    f(std::str::from_utf8(&buf[..len]).expect("joined text is UTF-8"))
}

/// The [`Name`] of the concatenation of `parts` (see [`with_joined`]).
pub fn name_joined(parts: &[&str]) -> Name {
    with_joined(parts, name)
}

/// A list of names (images, finalizers, claim templates): an interned list
/// ([`krepis_encodings::SymList`], 8 bytes; the two names held inline before
/// took 24), so cloning an object copies a pointer for it and allocates
/// nothing. Hashes, compares and serialises as a `Vec` would (as its slice),
/// as the inline list did: fingerprints and saved files are unchanged.
pub type Names = krepis_encodings::SymList;

pub use crate::owners::Owners;

/// A label map, sorted by key, keys unique: an interned list of pairs
/// ([`Pairs`], 8 bytes; the two pairs held inline before took 40, and an
/// object holds two to four maps). Cloning an object copies a pointer per
/// map; setting a label interns the new map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Labels(Pairs);

impl Labels {
    /// Labels from `(key, value)` pairs (later pairs win).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let mut l = Labels::default();
        for (k, v) in pairs {
            l.insert(name(k), name(v));
        }
        l
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: Name, value: Name) {
        self.0 = self.0.with(key, value);
    }

    /// Removes `key` if present.
    pub fn remove(&mut self, key: &str) {
        if self.get(key).is_some() {
            self.0 = self.0.without(|(k, _)| &**k == key);
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Name> {
        self.0.iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
    }

    /// The pairs, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = &(Name, Name)> {
        self.0.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every pair of `selector` is in `self` (an empty selector
    /// matches everything, as in Kubernetes' `matchLabels`).
    pub fn matches(&self, selector: &Labels) -> bool {
        selector.0.iter().all(|(k, v)| self.get(k) == Some(v))
    }
}

/// The kinds of objects the model stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// A Node.
    Node,
    /// A Pod.
    Pod,
    /// A StatefulSet.
    StatefulSet,
    /// A ReplicaSet.
    ReplicaSet,
    /// A Deployment.
    Deployment,
    /// A Job.
    Job,
    /// A ControllerRevision.
    ControllerRevision,
    /// A PersistentVolumeClaim.
    PersistentVolumeClaim,
}

/// A reference from an object to its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct OwnerRef {
    /// The owner's kind.
    pub kind: Kind,
    /// The owner's name.
    pub name: Name,
    /// The owner's uid: what "owned by" means.
    pub uid: Uid,
    /// Whether the owner is the managing controller.
    pub controller: bool,
}

/// Metadata common to every object. Its lists are interned ([`Labels`],
/// [`Names`]) or [`InlineVec`]s ([`Owners`]), so a derived `Clone` copies
/// them without `SmallVec`'s generic `extend` (1.8% of a synchronous BFS
/// run on `cluster` before: every write copies the object it changes).
///
/// [`InlineVec`]: krepis_encodings::InlineVec
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// Unique per kind.
    pub name: Name,
    /// On create with this set, the API server names the object
    /// `<generate_name><k>` with the smallest `k` not in use (Kubernetes adds
    /// a random suffix; the smallest free one keeps states canonical).
    pub generate_name: Option<Name>,
    /// Set by the API server on create.
    pub uid: Uid,
    /// Set by the API server on every write.
    pub resource_version: Rev,
    /// Starts at 1; bumped by the API server when the spec changes.
    pub generation: u32,
    /// Labels (selectors match them).
    pub labels: Labels,
    /// Annotations (not matched by selectors; the Deployment controller
    /// keeps its revision numbers here).
    pub annotations: Labels,
    /// Set when a graceful delete starts; the object is removed once its
    /// finalizers are gone and its owner (the kubelet, for pods) lets go.
    pub deleting: bool,
    /// The delete has no grace period left (a force delete, or the kubelet
    /// has stopped the pod): the object goes as soon as `finalizers` is empty.
    pub grace_zero: bool,
    /// Finalizers that block removal.
    pub finalizers: Names,
    /// Owner references.
    pub owners: Owners,
}

impl Meta {
    /// Metadata for a new object called `name` (uid and version set on create).
    pub fn named(name: &str) -> Self {
        Meta {
            name: self::name(name),
            generate_name: None,
            uid: 0,
            resource_version: 0,
            generation: 0,
            labels: Labels::default(),
            annotations: Labels::default(),
            deleting: false,
            grace_zero: false,
            finalizers: Default::default(),
            owners: Default::default(),
        }
    }

    /// The controlling owner's uid, if any.
    pub fn controller_uid(&self) -> Option<Uid> {
        self.owners.iter().find(|o| o.controller).map(|o| o.uid)
    }

    /// The controlling owner's uid if it is of kind `kind`.
    pub fn controller_of_kind(&self, kind: Kind) -> Option<Uid> {
        self.owners.iter().find(|o| o.controller && o.kind == kind).map(|o| o.uid)
    }

    /// Whether some owner reference points at `uid`.
    pub fn owned_by(&self, uid: Uid) -> bool {
        self.owners.iter().any(|o| o.uid == uid)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Node => "node",
            Kind::Pod => "pod",
            Kind::StatefulSet => "statefulset",
            Kind::ReplicaSet => "replicaset",
            Kind::Deployment => "deployment",
            Kind::Job => "job",
            Kind::ControllerRevision => "controllerrevision",
            Kind::PersistentVolumeClaim => "persistentvolumeclaim",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_names_spell_numbers_as_to_string_does() {
        for n in [0, 7, 10, 42, 1_000, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(decimal_name(n), name(&n.to_string()), "{n}");
        }
    }

    #[test]
    fn text_is_joined_on_the_stack_or_the_heap_alike() {
        for len in [0, 1, 60, 61, 62, 63, 64, 65, 200] {
            let prefix = "p".repeat(len);
            for n in [0u64, 42, 999] {
                let want = format!("{prefix}-{n}");
                let joined = |f: &dyn Fn(&[&str]) -> String| with_decimal(n, |d| f(&[prefix.as_str(), "-", d]));
                assert_eq!(joined(&|parts| with_joined(parts, str::to_string)), want, "{len} {n}");
                assert_eq!(with_decimal(n, |d| name_joined(&[&prefix, "-", d])), name(&want), "{len} {n}");
            }
        }
        assert_eq!(with_joined(&[], str::to_string), "");
    }

    #[test]
    fn selectors_match_subsets_and_empty_matches_all() {
        let l = Labels::from_pairs(&[("app", "web"), ("tier", "front")]);
        assert!(l.matches(&Labels::from_pairs(&[("app", "web")])));
        assert!(!l.matches(&Labels::from_pairs(&[("app", "db")])));
        assert!(l.matches(&Labels::default()));
        assert!(!Labels::default().matches(&Labels::from_pairs(&[("app", "web")])));
    }
}
