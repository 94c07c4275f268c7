//! The objects of one state of the cluster: a collection per kind, each kept
//! sorted by name with names unique, so that equal contents are equal values.

use std::sync::atomic::AtomicBool;

use krepis_encodings::share;
use triomphe::{Arc, ThinArc};

use crate::meta::{Rev, Uid};
use crate::pinning::Pinning;
use crate::resources::{
    ControllerRevision, Deployment, Job, Node, Object, PersistentVolumeClaim, Pod, ReplicaSet, StatefulSet,
};
use crate::stamp_set::{Gather, Ranks, StampMap, StampSet};
use crate::thin::list_with;

/// Objects of one kind, sorted by name. Objects and whole collections are
/// shared between stores (`Arc`): cloning a store copies no object and
/// allocates nothing, and a write copies only the list of the kind it
/// changes and the object it writes.
///
/// `Arc`s are `triomphe`'s: no weak count (8 bytes less per object and
/// per store), and a list is one `ThinArc` allocation holding its length
/// (an `Arc<Vec<_>>` was two, 40 bytes more, and an `Arc<[_]>`'s fat
/// pointer would make every store 64 bytes larger).
///
/// Each object carries the xxh3 digest of its contents, computed once when
/// it is written, and the list the digest of its objects' digests,
/// computed once when it is made or changed in place; the collection
/// hashes as that one `u64`. Freezing a store ([`Snapshot::new`]) after a
/// write thus hashes 8 bytes per kind instead of every object's contents
/// (hashing was about 30% of a search's time on the `cluster` scenario
/// before) or every object's digest (0.6% of a synchronous BFS run).
///
/// An empty collection holds no list at all (`None`): nothing to allocate,
/// and no reference count that every state touches. (The empty lists a
/// scenario starts with were shared by every state descending from it, so
/// cloning and dropping stores on several threads contended for their
/// counts' cache lines: four of the eight lists of `stale-reads`.)
#[derive(Clone)]
pub struct Collection<T> {
    items: Option<Pinning<ThinArc<Head, Arc<Hashed<T>>>>>,
}

/// What a list holds beside its objects: its [`Header`], and the flag set
/// once the list is pinned ([`Pinning`]: a list most states share, the
/// nodes, say, stops being counted once [`crate::pinning::PIN_AT`] stores
/// hold it, so that a write, which copies its store's list pointers, writes
/// no count every core writes).
struct Head {
    h: Header,
    pinned: AtomicBool,
}

impl Head {
    fn new(h: Header) -> Self {
        Head { h, pinned: AtomicBool::new(false) }
    }
}

impl AsRef<AtomicBool> for Head {
    fn as_ref(&self) -> &AtomicBool {
        &self.pinned
    }
}

// No list is the null pointer: a collection stays one pointer.
const _: () = assert!(std::mem::size_of::<Collection<Pod>>() == 8);

// A list's head, with the reference count and the length before it: 48
// bytes (see [`Header`]).
const _: () = assert!(std::mem::size_of::<Head>() == 32);

/// The digest of an empty list ([`Collection::digest_of`] no objects: it
/// does not depend on the kind). Out of line: a store's hash inlines its
/// lists' digests, and this path made the compiler stop inlining the hasher
/// there (3% more instructions on a synchronous BFS run on `cluster`).
#[cold]
#[inline(never)]
fn empty_digest() -> u64 {
    static EMPTY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *EMPTY.get_or_init(|| krepis_engine::fingerprint::fingerprint_gathered::<256>(0, |_| {}))
}

/// What a collection's list keeps beside its objects, computed once when
/// the list is made or changed in place: the digest of its objects'
/// digests, and the set of their stamps below 64 as a bitmap (bit `r` for
/// stamp `r`; `visit`: the bitmap does not hold every stamp, because one is
/// 64 or more or because the list was made by a merge, which leaves it
/// unset). Freezing a store after a write ([`Snapshot::new`]) thus ORs a
/// word per kind instead of visiting every stamp of every object: only the
/// list the write made visits its objects' stamps (2.0% fewer instructions
/// on a synchronous or monotonic BFS run on `cluster`, 1.4% on a causal
/// one).
///
/// One word, not four (stamps below 256, until 2026-11-29): BFS renumbers
/// every successor densely, and every list of a `cluster` search held
/// stamps below 32 (3 M lists counted); a synchronous simulation's, which
/// keep stamps as written (up to 240 then, 120 since), below 64 for 99.6%
/// of lists. The list with its header and reference count takes 48 bytes
/// besides its object pointers where it took 72: mimalloc's block for a
/// list of one object is 56 bytes instead of 80, of two 64 instead of 96
/// (`cluster` synchronous, 2 M states: 482-485 -> 455-459 bytes per
/// state). Tried and measured worse:
/// a bitmap per object, ORed into the list's (1.7% more than visiting,
/// synchronous BFS: 32 bytes more to copy per object written); the list's
/// bitmap computed on first use (0.8% more than computing it at once,
/// synchronous BFS); the bitmap set for merged lists too (1% more on a
/// causal simulation, whose reads merge stores that are mostly never
/// frozen).
#[derive(Clone, Copy, Default)]
struct Header {
    digest: u64,
    low: u64,
    /// The highest stamp in `low` (0 if none): renumbering passes over a
    /// list whose stamps are all below the first it moves with one
    /// comparison (finding the highest bit of `low` there, for each kind
    /// of every store renumbered, was 1.9% of a synchronous BFS run on
    /// `cluster`).
    top: Rev,
    visit: bool,
}

/// An object with the digest of its contents with every stamp replaced by
/// 0 (its body: what renumbering stamps never changes) and the digest of
/// its contents, made of the body's and the stamps ([`Hashed::digest`]).
///
/// So an object renumbered keeps its body and rehashes only its stamps (a
/// dozen bytes): renumbering copies the objects whose stamps move, and
/// rehashing each in full was 4% of a synchronous BFS run on `cluster`.
/// Hashing up to renumbering ([`crate::consistency::Consistency::RANKED`])
/// reads the body as it is (it was computed, a second full hash, the first
/// time a ranked fingerprint met the object).
struct Hashed<T> {
    digest: u64,
    body: u64,
    value: T,
}

impl<T: std::hash::Hash + Stamps + Clone> Hashed<T> {
    fn new(mut value: T) -> Arc<Self> {
        // Blanked in place and put back (a blank copy's clone and drop
        // cost more than hashing it).
        let mut stamps: smallvec::SmallVec<[Rev; 8]> = smallvec::SmallVec::new();
        value.replace(&mut |r| {
            stamps.push(r);
            0
        });
        let body = krepis_engine::fingerprint::fingerprint_of(&value);
        let mut saved = stamps.iter();
        value.replace(&mut |r| saved.next().copied().unwrap_or(r));
        // The stamps taken out are those `visit` gives, in its order
        // (`Stamps::replace`'s contract): hashed from here, not visited again.
        let digest = Self::digest_of_stamps(body, &stamps);
        debug_assert_eq!(digest, Self::digest(&value, body));
        Arc::new(Hashed { digest, body, value })
    }

    /// [`Self::digest`] of an object whose stamps, in [`Stamps::visit`]
    /// order, are `stamps`.
    fn digest_of_stamps(body: u64, stamps: &[Rev]) -> u64 {
        Self::digest_from(body, |f| stamps.iter().for_each(|r| f(*r)))
    }

    /// The digest of an object whose body digest is `body` and whose
    /// stamps `stamps` calls its argument on, in [`Stamps::visit`] order.
    #[inline]
    fn digest_from(body: u64, stamps: impl FnOnce(&mut dyn FnMut(Rev))) -> u64 {
        krepis_engine::fingerprint::fingerprint_gathered::<64>(body, |g| stamps(&mut |r| g.put(&r.to_le_bytes())))
    }

    /// `value`, whose body digest is `body` (an object's whose stamps alone
    /// were changed).
    fn with_body(value: T, body: u64) -> Arc<Self> {
        Arc::new(Hashed { digest: Self::digest(&value, body), body, value })
    }

    /// An object's digest: xxh3, seeded with its body's digest, of its
    /// stamps in the order [`Stamps::visit`] gives them (little-endian
    /// `u32`s). The two determine the contents (the body keeps where each
    /// stamp is and whether an optional one is there), so equal digests
    /// mean equal objects up to collisions. The stamps are gathered on the
    /// stack (an object has a few: more than 16 go to the heap).
    fn digest(value: &T, body: u64) -> u64 {
        Self::digest_from(body, |f| value.visit(&mut |r| f(r)))
    }
}

impl<T> Collection<T> {
    /// The objects, in name order.
    #[inline]
    fn items(&self) -> &[Arc<Hashed<T>>] {
        match &self.items {
            Some(l) => &l.slice,
            None => &[],
        }
    }

    /// Where the list is (0 for an empty collection): equal for
    /// collections that share their list.
    fn address(&self) -> usize {
        self.items.as_ref().map_or(0, |l| l.as_ptr() as usize)
    }
}

impl<T: Stamps> Collection<T> {
    /// The collection of the `len` objects `it` yields, in order, with its
    /// header.
    fn of(it: impl Iterator<Item = Arc<Hashed<T>>>, len: usize) -> Self {
        if len == 0 {
            return Collection { items: None };
        }
        let mut items = list_with(Head::new(Header::default()), it, len);
        items.with_arc_mut(|list| {
            if let Some(list) = Arc::get_mut(list) {
                list.header_mut().h = Self::header_of(list.slice());
            }
        });
        Collection { items: Some(Pinning::new(items)) }
    }

    /// [`Self::of`], leaving the header's bitmap unset: [`Self::gather_stamps`]
    /// then visits the objects.
    fn of_unstamped(it: impl Iterator<Item = Arc<Hashed<T>>>, len: usize) -> Self {
        if len == 0 {
            return Collection { items: None };
        }
        let mut items = list_with(Head::new(Header { visit: true, ..Header::default() }), it, len);
        items.with_arc_mut(|list| {
            if let Some(list) = Arc::get_mut(list) {
                list.header_mut().h.digest = Self::digest_of(list.slice());
            }
        });
        Collection { items: Some(Pinning::new(items)) }
    }

    /// The header of a list of `items`: their digest ([`Self::digest_of`])
    /// and stamps.
    fn header_of(items: &[Arc<Hashed<T>>]) -> Header {
        let mut h = Header { digest: Self::digest_of(items), ..Header::default() };
        for o in items {
            o.value.visit(&mut |r| {
                if r < 64 {
                    h.low |= 1 << r;
                    h.top = h.top.max(r);
                } else {
                    h.visit = true;
                }
            });
        }
        h
    }

    /// Calls `f` on every stamp of its objects, in order ([`Stamps::visit`]).
    #[inline]
    fn visit_stamps(&self, f: &mut impl FnMut(Rev)) {
        self.items().iter().for_each(|o| o.value.visit(f));
    }

    /// Adds every stamp of its objects to `set`: the header's bitmap, or
    /// the objects' stamps one by one if it does not hold them all.
    fn gather_stamps(&self, set: &mut Gather) {
        let Some(list) = &self.items else {
            return;
        };
        let h = &list.header.header.h;
        if h.visit {
            self.visit_stamps(&mut |r| set.insert(r));
        } else {
            set.union_first_word(h.low);
        }
        debug_assert!(
            h.visit || {
                let fresh = Self::header_of(self.items());
                (fresh.low, fresh.top, fresh.visit) == (h.low, h.top, false)
            }
        );
    }
}

impl<T> Collection<T> {
    /// xxh3, seeded with the number of objects, of their digests in order
    /// (little-endian), gathered on the stack up to 32 objects.
    fn digest_of(items: &[Arc<Hashed<T>>]) -> u64 {
        krepis_engine::fingerprint::fingerprint_gathered::<256>(items.len() as u64, |g| {
            items.iter().for_each(|o| g.put(&o.digest.to_le_bytes()));
        })
    }

    /// The list's digest ([`Self::digest_of`] its objects).
    #[inline]
    fn digest(&self) -> u64 {
        let digest = match &self.items {
            Some(l) => l.header.header.h.digest,
            None => empty_digest(),
        };
        debug_assert_eq!(digest, Self::digest_of(self.items()));
        digest
    }
}

impl<T: Stamps> Default for Collection<T> {
    fn default() -> Self {
        Collection::of(std::iter::empty(), 0)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Collection<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.items().iter().map(|o| &o.value)).finish()
    }
}

// Equal digests of equal values; contents are compared unless shared.
impl<T: PartialEq> PartialEq for Collection<T> {
    fn eq(&self, other: &Self) -> bool {
        self.address() == other.address()
            || self.digest() == other.digest()
                && self.items().len() == other.items().len()
                && self
                    .items()
                    .iter()
                    .zip(other.items().iter())
                    .all(|(a, b)| a.digest == b.digest && (Arc::ptr_eq(a, b) || a.value == b.value))
    }
}

impl<T: Eq> Eq for Collection<T> {}

impl<T> std::hash::Hash for Collection<T> {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.digest());
    }
}

// Serialised as the sequence of its objects. In a sharing session
// (`krepis_encodings::share`: checkpoints) the list and each object are
// shared parts, written once however many states hold them.
impl<T: serde::Serialize + 'static> serde::Serialize for Collection<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Objects<'a, T>(&'a [Arc<Hashed<T>>]);
        impl<T: serde::Serialize + 'static> serde::Serialize for Objects<'_, T> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(SharedObject))
            }
        }
        // Every empty collection is the part at address 0 (all equal).
        share::serialize_shared::<Collection<T>, _, _>(
            s,
            self.address() as *const (),
            self.items.as_ref().is_some_and(|l| ThinArc::strong_count(l) == 1),
            &Objects(self.items()),
        )
    }
}

/// One object of a collection, serialised as a shared part.
struct SharedObject<'a, T>(&'a Arc<Hashed<T>>);

impl<T: serde::Serialize + 'static> serde::Serialize for SharedObject<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        share::serialize_shared::<Arc<Hashed<T>>, _, _>(
            s,
            Arc::as_ptr(self.0).cast(),
            self.0.is_unique(),
            &self.0.value,
        )
    }
}

/// One object read back (shared with earlier reads in a sharing session).
struct ReadObject<T>(Arc<Hashed<T>>);

impl<'de, T> serde::Deserialize<'de> for ReadObject<T>
where
    T: serde::Deserialize<'de> + std::hash::Hash + Stamps + Clone + 'static,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        share::deserialize_shared(d, Hashed::new).map(ReadObject)
    }
}

impl<'de, T> serde::Deserialize<'de> for Collection<T>
where
    T: serde::Deserialize<'de> + std::hash::Hash + Stamps + Clone + 'static,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        share::deserialize_shared(d, |items: Vec<ReadObject<T>>| {
            let n = items.len();
            Collection::of(items.into_iter().map(|o| o.0), n)
        })
    }
}

impl<T: Object + std::hash::Hash + Stamps + Clone> Collection<T> {
    fn position(&self, name: &str) -> Result<usize, usize> {
        self.items().binary_search_by(|o| (*o.value.meta().name).cmp(name))
    }

    /// The object called `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.position(name).ok().map(|i| &self.items()[i].value)
    }

    /// Objects in name order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items().iter().map(|o| &o.value)
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.items().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items().is_empty()
    }

    /// Inserts `obj`, or replaces the object of the same name.
    pub fn put(&mut self, obj: T) {
        let (keep, skip) = match self.position(&obj.meta().name.clone()) {
            Ok(i) => (i, i + 1),
            Err(i) => (i, i),
        };
        let xs = self.items();
        let new = std::iter::once(Hashed::new(obj));
        let len = xs.len() + 1 + keep - skip;
        *self = Collection::of(xs[..keep].iter().cloned().chain(new).chain(xs[skip..].iter().cloned()), len);
    }

    /// The collection with each object `f` gives a replacement for
    /// replaced by it, made in one pass and sorted by name again (a
    /// replacement may be renamed); `None` if `f` replaces none.
    fn replaced(&self, f: impl Fn(&T) -> Option<T>) -> Option<Self> {
        let mut any = false;
        let mut items: smallvec::SmallVec<[Arc<Hashed<T>>; 8]> = self
            .items()
            .iter()
            .map(|o| match f(&o.value) {
                Some(v) => {
                    any = true;
                    Hashed::new(v)
                }
                None => o.clone(),
            })
            .collect();
        if !any {
            return None;
        }
        items.sort_by_key(|a| a.value.meta().name);
        let n = items.len();
        Some(Collection::of(items.into_iter(), n))
    }

    /// Removes the object called `name`; returns whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        match self.position(name) {
            Ok(i) => {
                let xs = self.items();
                *self = Collection::of(xs[..i].iter().chain(&xs[i + 1..]).cloned(), xs.len() - 1);
                true
            }
            Err(_) => false,
        }
    }

    /// Replaces every stamp `x` of every object by `map(x)`, copying only
    /// the objects it changes (no copy at all when none changes). A list
    /// this collection alone holds changes in place, and so does an object
    /// it alone holds (the one a write just made): renumbering after a
    /// write copied it, an allocation per renumbering successor.
    ///
    /// A list whose header holds its stamps, all below the stamp the map
    /// changes none below ([`StampMap::fixes_below`]), is passed over
    /// without visiting its objects.
    fn map_stamps(&mut self, map: &impl StampMap)
    where
        T: objects_renumbered::Cached,
    {
        let Some(list) = &self.items else {
            return;
        };
        // `top` is checked against the objects where every frozen list's
        // stamps are gathered (`gather_stamps`).
        let h = &list.header.header.h;
        if !h.visit && h.top < map.fixes_below() {
            return;
        }
        let map = &|r: Rev| map.map(r);
        let changes = |o: &Hashed<T>| {
            let mut changes = false;
            o.value.visit(&mut |r| changes |= map(r) != r);
            changes
        };
        // Siblings renumber the objects they share with their parent the
        // same way, so copies come from this thread's cache when one did.
        let copy = |o: &Arc<Hashed<T>>| {
            let mut images: smallvec::SmallVec<[Rev; 8]> = smallvec::SmallVec::new();
            o.value.visit(&mut |r| images.push(map(r)));
            objects_renumbered::lookup(o, &images, || {
                let mut copy = o.value.clone();
                copy.map(map);
                Hashed::with_body(copy, o.body)
            })
        };
        let xs = self.items();
        let Some(first) = xs.iter().position(|o| changes(o)) else {
            return;
        };
        // The first is known to change; the others are visited once.
        let moved = |k: usize, o: &Hashed<T>| k == 0 || changes(o);
        // A pinned list is never changed in place.
        let in_place = self.items.as_mut().and_then(Pinning::get_mut).is_some_and(|items| {
            items.with_arc_mut(|list| {
                let Some(list) = Arc::get_mut(list) else {
                    return false;
                };
                for (_, o) in list.slice_mut()[first..].iter_mut().enumerate().filter(|(k, o)| moved(*k, o)) {
                    match Arc::get_mut(o) {
                        // Its body (stamps blanked) stays what it was.
                        Some(h) => {
                            h.value.map(map);
                            h.digest = Hashed::digest(&h.value, h.body);
                        }
                        None => *o = copy(o),
                    }
                }
                list.header_mut().h = Self::header_of(list.slice());
                true
            })
        });
        if in_place {
            return;
        }
        let xs = self.items();
        let rest = xs[first..].iter().enumerate().map(|(k, o)| if moved(k, o) { copy(o) } else { o.clone() });
        *self = Collection::of(xs[..first].iter().cloned().chain(rest), xs.len());
    }

    /// Appends to `out` this collection up to renumbering of stamps: its
    /// length, then per object its body digest and the images of its stamps
    /// under `ranks`, in the order [`Stamps::visit`] gives them (native-
    /// endian, as `Hash` writes integers). Two collections append the same
    /// bytes iff they are equal once their stamps are mapped by `ranks` (up
    /// to digest collisions).
    fn ranked_bytes(&self, ranks: &Ranks<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.items().len().to_ne_bytes());
        for o in self.items().iter() {
            out.extend_from_slice(&o.body.to_ne_bytes());
            o.value.visit(&mut |r| out.extend_from_slice(&ranks.map(r).to_ne_bytes()));
        }
    }
}

/// The stamps (uids, resource versions, observed revisions, uids of
/// uncounted pods) an object holds: visited and rewritten in one place, so
/// normalisation can tell which objects a renumbering changes before
/// copying any, and fingerprints can hash objects up to renumbering.
pub trait Stamps {
    /// Calls `f` on every stamp.
    fn visit(&self, f: &mut impl FnMut(Rev));
    /// Replaces every stamp `x` by `map(x)`.
    fn map(&mut self, map: &impl Fn(Rev) -> Rev) {
        self.replace(&mut |r| map(r));
    }
    /// Replaces every stamp `x` by `f(x)`, calling `f` on the stamps in the
    /// order [`Stamps::visit`] gives them.
    fn replace(&mut self, f: &mut impl FnMut(Rev) -> Rev);
}

// Inlined: called for every object of every store a write freezes (a
// call each was 0.6% of a synchronous BFS run on `cluster`).
#[inline(always)]
fn visit_meta(m: &crate::meta::Meta, f: &mut impl FnMut(Rev)) {
    f(m.uid);
    f(m.resource_version);
    m.owners.iter().for_each(|o| f(o.uid));
}

#[inline(always)]
fn map_meta(m: &mut crate::meta::Meta, map: &mut impl FnMut(Uid) -> Uid) {
    m.uid = map(m.uid);
    m.resource_version = map(m.resource_version);
    m.owners.iter_mut().for_each(|o| o.uid = map(o.uid));
}

/// Objects whose only stamps are in their metadata.
macro_rules! meta_stamps {
    ($($t:ty),*) => {$(
        impl Stamps for $t {
            fn visit(&self, f: &mut impl FnMut(Rev)) {
                visit_meta(&self.meta, f)
            }
            fn replace(&mut self, map: &mut impl FnMut(Rev) -> Rev) {
                map_meta(&mut self.meta, map)
            }
        }
    )*};
}
meta_stamps!(Node, Pod, ControllerRevision, PersistentVolumeClaim);

/// Objects with an observed revision in their status besides.
macro_rules! observed_stamps {
    ($($t:ty),*) => {$(
        impl Stamps for $t {
            fn visit(&self, f: &mut impl FnMut(Rev)) {
                visit_meta(&self.meta, f);
                if let Some(r) = self.status.observed_revision {
                    f(r);
                }
            }
            fn replace(&mut self, map: &mut impl FnMut(Rev) -> Rev) {
                map_meta(&mut self.meta, map);
                self.status.observed_revision = self.status.observed_revision.map(map);
            }
        }
    )*};
}
observed_stamps!(StatefulSet, ReplicaSet, Deployment);

impl Stamps for Job {
    fn visit(&self, f: &mut impl FnMut(Rev)) {
        visit_meta(&self.meta, f);
        if let Some(r) = self.status.observed_revision {
            f(r);
        }
        self.status.uncounted_succeeded.iter().chain(&self.status.uncounted_failed).for_each(|u| f(*u));
    }
    fn replace(&mut self, map: &mut impl FnMut(Rev) -> Rev) {
        map_meta(&mut self.meta, map);
        self.status.observed_revision = self.status.observed_revision.map(&mut *map);
        // Order-preserving: the sorted lists stay sorted.
        let s = &mut self.status;
        s.uncounted_succeeded.iter_mut().chain(&mut s.uncounted_failed).for_each(|u| *u = map(*u));
    }
}

/// Every object of one cluster state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Store {
    /// Nodes.
    pub nodes: Collection<Node>,
    /// Pods.
    pub pods: Collection<Pod>,
    /// StatefulSets.
    pub statefulsets: Collection<StatefulSet>,
    /// ReplicaSets.
    pub replicasets: Collection<ReplicaSet>,
    /// Deployments.
    pub deployments: Collection<Deployment>,
    /// Jobs.
    pub jobs: Collection<Job>,
    /// ControllerRevisions (of StatefulSets).
    pub controllerrevisions: Collection<ControllerRevision>,
    /// PersistentVolumeClaims.
    pub pvcs: Collection<PersistentVolumeClaim>,
}

/// Calls `$method($args)` on the collection of every kind of `$store`, in
/// the order of [`Store`]'s fields (the order stamps are visited and stores
/// hashed in).
macro_rules! each_kind {
    ($store:ident . $method:ident ( $($arg:expr),* )) => {{
        $store.nodes.$method($($arg),*);
        $store.pods.$method($($arg),*);
        $store.statefulsets.$method($($arg),*);
        $store.replicasets.$method($($arg),*);
        $store.deployments.$method($($arg),*);
        $store.jobs.$method($($arg),*);
        $store.controllerrevisions.$method($($arg),*);
        $store.pvcs.$method($($arg),*);
    }};
}

impl Store {
    /// Adds every stamp of the store ([`Store::stamps`]) to `set`, from the
    /// bitmaps its collections keep.
    pub fn gather_stamps(&self, set: &mut Gather) {
        each_kind!(self.gather_stamps(set));
    }

    /// Calls `f` on every stamp (resource version, uid, owner uid, observed
    /// revision) in the store.
    pub fn stamps(&self, f: &mut impl FnMut(Rev)) {
        each_kind!(self.visit_stamps(f));
    }

    /// Appends this store up to renumbering to `out`: equal bytes iff the
    /// stores are equal once their stamps are mapped by `ranks` (see
    /// [`Collection::ranked_bytes`]).
    fn ranked_bytes(&self, ranks: &Ranks<'_>, out: &mut Vec<u8>) {
        each_kind!(self.ranked_bytes(ranks, out));
    }

    /// Replaces every stamp `x` by `map(x)`, copying only the objects whose
    /// stamps change (and the lists that hold them).
    pub fn map_stamps(&mut self, map: &impl StampMap) {
        each_kind!(self.map_stamps(map));
    }

    /// The store with every node `n` called `to(n)` instead, node objects
    /// and pods' bindings alike (`to` must be one-to-one on the store's
    /// node names); `None` if it changes nothing. Stamps, uids included,
    /// stay as they are: what node symmetry permutes is names
    /// ([`crate::KubeModel::rename_nodes`]).
    pub fn with_nodes_renamed(&self, to: &impl Fn(&crate::meta::Name) -> crate::meta::Name) -> Option<Store> {
        let nodes = self.nodes.replaced(|n| {
            let name = to(&n.meta.name);
            (name != n.meta.name).then(|| {
                let mut m = n.clone();
                m.meta.name = name;
                m
            })
        });
        let pods = self.pods.replaced(|p| {
            let node = p.spec.node_name.as_ref().map(to);
            (node != p.spec.node_name).then(|| {
                let mut q = p.clone();
                q.spec.node_name = node;
                q
            })
        });
        if nodes.is_none() && pods.is_none() {
            return None;
        }
        let mut out = self.clone();
        if let Some(nodes) = nodes {
            out.nodes = nodes;
        }
        if let Some(pods) = pods {
            out.pods = pods;
        }
        Some(out)
    }

    /// Merges `other` into `self` (causal reads): per name, the object with
    /// the higher resource version wins; objects only in `other` are added.
    /// Merging never deletes, so an object deleted on one branch comes back
    /// if another branch still has it (the causal model's resurrection).
    pub fn merge(&mut self, other: &Store) {
        // One pass over both sorted lists; the result is built only when
        // `b` brings something `a` lacks (inserting object by object and
        // copying lists per insert was a seventh of a causal simulation).
        fn merge<T: Object + std::hash::Hash>(a: &mut Collection<T>, b: &Collection<T>) {
            if a.address() == b.address() || b.items().is_empty() {
                return;
            }
            if a.items().is_empty() {
                a.items = b.items.clone();
                return;
            }
            let newer = |x: &Arc<Hashed<T>>, y: &Arc<Hashed<T>>| {
                !Arc::ptr_eq(x, y) && y.value.meta().resource_version > x.value.meta().resource_version
            };
            let order = |x: &Arc<Hashed<T>>, y: &Arc<Hashed<T>>| {
                if Arc::ptr_eq(x, y) {
                    std::cmp::Ordering::Equal
                } else {
                    x.value.meta().name.cmp(&y.value.meta().name)
                }
            };
            let (xs, ys) = (a.items(), b.items());
            let (mut i, mut j) = (0, 0);
            let mut changes = false;
            while j < ys.len() {
                if i == xs.len() {
                    changes = true;
                    break;
                }
                match order(&xs[i], &ys[j]) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => {
                        changes = true;
                        break;
                    }
                    std::cmp::Ordering::Equal => {
                        if newer(&xs[i], &ys[j]) {
                            changes = true;
                            break;
                        }
                        i += 1;
                        j += 1;
                    }
                }
            }
            if !changes {
                return;
            }
            let mut out = Vec::with_capacity(xs.len() + ys.len() - j);
            let (mut i, mut j) = (0, 0);
            while i < xs.len() && j < ys.len() {
                match order(&xs[i], &ys[j]) {
                    std::cmp::Ordering::Less => {
                        out.push(xs[i].clone());
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        out.push(ys[j].clone());
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        out.push(if newer(&xs[i], &ys[j]) { ys[j].clone() } else { xs[i].clone() });
                        i += 1;
                        j += 1;
                    }
                }
            }
            out.extend(xs[i..].iter().cloned());
            out.extend(ys[j..].iter().cloned());
            let n = out.len();
            // A merged read is frozen only if a write follows it: its
            // stamps are gathered then, by visiting (setting the bitmap for
            // every merge cost a causal simulation 1% more).
            *a = Collection::of_unstamped(out.into_iter(), n);
        }
        merge(&mut self.nodes, &other.nodes);
        merge(&mut self.pods, &other.pods);
        merge(&mut self.statefulsets, &other.statefulsets);
        merge(&mut self.replicasets, &other.replicasets);
        merge(&mut self.deployments, &other.deployments);
        merge(&mut self.jobs, &other.jobs);
        merge(&mut self.controllerrevisions, &other.controllerrevisions);
        merge(&mut self.pvcs, &other.pvcs);
    }
}

/// An immutable store in a history, with its digest up to renumbering
/// computed once.
///
/// Hashing a state hashes every store of its history; a snapshot hashes as
/// its 64-bit xxh3 digest and its stamps' images (`hash_ranked`)
/// instead of its contents (an incremental hash of the history), which took
/// hashing from about half of the run time to little. Equality still
/// compares contents, so the reference checker stays exact.
#[derive(Clone, Debug)]
pub struct Snapshot {
    store: Arc<Frozen>,
    digest: u64,
}

/// A frozen store with the set of stamps it holds, as a bitmap (stamps are
/// small numbers: normalisation renumbers them once they reach 120):
/// normalisation reads every stamp of every store of a history for every
/// successor, which walked every object (15% of a linear-model search)
/// before. Stamps below 128 live in the store's own allocation (16 bytes;
/// a sorted list of them took about 200 bytes per state on `cluster`).
/// With its reference count, a frozen store is 112 bytes, a block size of
/// mimalloc's (it was 128 while stamps below 256 lived here).
#[derive(Debug)]
struct Frozen {
    store: Store,
    stamps: StampSet,
    /// The digest of the store with its stamps replaced by their ranks
    /// among `stamps`: the same for every renumbering of the store.
    /// Computed on first use (by the models that hash up to renumbering).
    local: std::sync::OnceLock<u64>,
}

const _: () = assert!(std::mem::size_of::<Frozen>() + 8 == 112);

impl Snapshot {
    /// Where the frozen store is: equal for snapshots that share it.
    pub(crate) fn address(&self) -> usize {
        Arc::as_ptr(&self.store) as usize
    }

    /// The xxh3 digest of the store's contents: equal for equal stores.
    pub(crate) fn digest(&self) -> u64 {
        self.digest
    }

    /// Freezes `store`.
    pub fn new(store: Store) -> Self {
        let digest = krepis_engine::fingerprint::fingerprint_of(&store);
        let mut stamps = Gather::new();
        store.gather_stamps(&mut stamps);
        let stamps = stamps.finish();
        Snapshot { store: Arc::new(Frozen { store, stamps, local: std::sync::OnceLock::new() }), digest }
    }

    /// xxh3 of the store's bytes up to renumbering ([`Store::ranked_bytes`])
    /// under the ranks of its own stamps, gathered in a per-thread buffer and
    /// hashed at once (xxh3 of the same bytes as feeding them to a hasher
    /// piece by piece, which spilled into a streaming xxh3 past 256 bytes
    /// and, with a `SmallVec` buffer per object, was a fifth of a
    /// synchronous simulation step). Called while a whole state is being
    /// fingerprinted: the pool hands it a second buffer.
    fn local_digest(store: &Store, stamps: &StampSet) -> u64 {
        krepis_engine::fingerprint::fingerprint_filled(|out| store.ranked_bytes(&stamps.ranks(), out))
    }

    /// Feeds `h` this snapshot up to renumbering: its stamps' images under
    /// `ranks` (the ranks of a set holding all of them) and the digest of
    /// the store with its stamps replaced by their ranks among its own.
    /// The two determine the store renumbered by `ranks`, so two snapshots
    /// feed the same bytes iff they are equal once renumbered by their
    /// states' ranks (up to digest collisions).
    pub(crate) fn hash_ranked(&self, ranks: &Ranks<'_>, h: &mut dyn std::hash::Hasher) {
        let f = &*self.store;
        h.write_u64(*f.local.get_or_init(|| Self::local_digest(&f.store, &f.stamps)));
        // The images as a bitmap (bit k: the stamp of rank k), written at
        // once: a few words instead of a call per stamp. Under the ranks of
        // a dense set (1..=n, as after renumbering) every stamp is its own
        // image, so the bitmap is the stamp set itself.
        if ranks.is_identity() {
            return self.store.stamps.hash_words(h);
        }
        self.store.stamps.hash_images(ranks, h);
    }

    /// Replaces every stamp `x` of this snapshot by `map(x)`.
    ///
    /// Renumbering was half of a monotonic-session simulation's time on
    /// `cluster`: every successor of a state renumbers the same snapshots of
    /// its history, usually with the same map. A snapshot shared with other
    /// states goes through a small per-thread cache keyed by the snapshot
    /// (its allocation, held alive by the cache) and the images of its
    /// stamps, which returns the snapshot renumbered before (the same value
    /// either way, computed once). A snapshot this state alone holds (the
    /// one its last write made) is renumbered in place: no other state can
    /// present it again, so caching it would only cost (a third of a
    /// synchronous simulation step).
    ///
    /// Whether the map moves a stamp, and where the stamps go, is read off
    /// the image of the snapshot's stamp set ([`StampMap::images`]: a word
    /// at a time under ranks), which the map, strictly increasing on the
    /// stamps, leaves equal to the set iff it moves none.
    pub(crate) fn renumber(&mut self, map: &impl StampMap) {
        if self.store.stamps.highest().is_none_or(|h| h < map.fixes_below()) {
            return;
        }
        let images = map.images(&self.store.stamps);
        if images == self.store.stamps {
            return;
        }
        if let Some(frozen) = Arc::get_mut(&mut self.store) {
            frozen.store.map_stamps(map);
            // The store's stamps now are the images of those it had
            // (`map_stamps` maps every stamp `stamps` visits): mapping
            // the set spares a visit of every object (1.7% of the
            // instructions of a synchronous BFS run on `cluster`).
            debug_assert_eq!(images, {
                let mut visited = StampSet::new();
                frozen.store.stamps(&mut |r| visited.insert(r));
                visited
            });
            frozen.stamps = images;
            // `local` is the same for every renumbering.
            self.digest = krepis_engine::fingerprint::fingerprint_of(&frozen.store);
            return;
        }
        *self = renumbering::lookup(self, images, || {
            let mut s = self.store.store.clone();
            s.map_stamps(map);
            Snapshot::new(s)
        });
    }

    /// The snapshot of this store with its nodes renamed
    /// ([`Store::with_nodes_renamed`]); `None` if that changes nothing.
    pub(crate) fn with_nodes_renamed(&self, to: &impl Fn(&crate::meta::Name) -> crate::meta::Name) -> Option<Snapshot> {
        self.store.store.with_nodes_renamed(to).map(Snapshot::new)
    }

    /// The distinct stamps of the store (the set [`Store::stamps`] visits).
    pub fn stamp_set(&self) -> &StampSet {
        &self.store.stamps
    }
}

// Serialised as its store; the digest is computed again when read.
// Serialised as its store; a shared part in a sharing session.
impl serde::Serialize for Snapshot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        share::serialize_shared::<Snapshot, _, _>(
            s,
            Arc::as_ptr(&self.store).cast(),
            self.store.is_unique(),
            &self.store.store,
        )
    }
}

impl<'de> serde::Deserialize<'de> for Snapshot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        share::deserialize_shared(d, Snapshot::new)
    }
}

impl std::ops::Deref for Snapshot {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store.store
    }
}

// Equal stores have equal stamps and the same `local`, computed or not.
impl PartialEq for Frozen {
    fn eq(&self, other: &Self) -> bool {
        self.store == other.store
    }
}

impl Eq for Frozen {}

impl PartialEq for Snapshot {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && (Arc::ptr_eq(&self.store, &other.store) || self.store == other.store)
    }
}

impl Eq for Snapshot {}

impl std::hash::Hash for Snapshot {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.digest);
    }
}

/// The slot, among `entries`, of a direct-mapped cache of renumberings that
/// the thing at `address` with its stamps mapped to `images` (stamps, or
/// the words of their set) takes.
fn slot(address: usize, images: impl IntoIterator<Item = u64>, entries: usize) -> usize {
    let mut h = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for r in images {
        h = (h ^ r).wrapping_mul(0x0100_0000_01B3);
    }
    (h >> 32) as usize % entries
}

/// The per-thread cache of renumbered snapshots behind [`Snapshot::renumber`].
mod renumbering {
    use std::cell::RefCell;

    use triomphe::Arc;

    use super::{Frozen, Snapshot, StampSet};

    /// Entries (direct-mapped: an entry replaces whatever shared its index).
    const ENTRIES: usize = 512;

    struct Entry {
        /// The snapshot renumbered; holding it keeps its address from being
        /// reused by another snapshot while the entry lives.
        from: Arc<Frozen>,
        /// The set of the images of its stamps (which, the renumbering
        /// preserving order, says where each goes).
        images: StampSet,
        to: Snapshot,
    }

    thread_local! {
        static CACHE: RefCell<Vec<Option<Entry>>> = RefCell::new((0..ENTRIES).map(|_| None).collect());
    }

    /// `from` renumbered so that its stamps become `images` (in order),
    /// from the cache or computed by `compute` (and cached).
    pub(super) fn lookup(from: &Snapshot, images: StampSet, compute: impl FnOnce() -> Snapshot) -> Snapshot {
        let at = super::slot(Arc::as_ptr(&from.store) as usize, images.words().iter().copied(), ENTRIES);
        let hit = CACHE.with(|c| {
            c.borrow()[at]
                .as_ref()
                .filter(|e| Arc::ptr_eq(&e.from, &from.store) && e.images == images)
                .map(|e| e.to.clone())
        });
        if let Some(to) = hit {
            return to;
        }
        let to = compute();
        let entry = Entry { from: from.store.clone(), images, to: to.clone() };
        CACHE.with(|c| c.borrow_mut()[at] = Some(entry));
        to
    }
}

/// The per-thread cache of renumbered objects behind [`Collection`]'s
/// `map_stamps`: the siblings of a BFS state share their parent's objects,
/// and renumbering after each one's write shifts most of them alike.
mod objects_renumbered {
    use std::cell::RefCell;

    use triomphe::Arc;

    use super::{Hashed, Rev};
    use crate::resources::{
        ControllerRevision, Deployment, Job, Node, PersistentVolumeClaim, Pod, ReplicaSet, StatefulSet,
    };

    /// An object renumbered and its copy, of one of the kinds a store
    /// holds: held in the entry itself (a `Box<dyn Any>` of the pair was an
    /// allocation per copy cached, 0.11 per transition of a synchronous BFS
    /// run on `cluster`). Holding the object keeps its address from being
    /// reused by another while the entry lives.
    #[allow(dead_code, reason = "the object renumbered is held, never read")]
    pub(super) enum Pair {
        Node(Arc<Hashed<Node>>, Arc<Hashed<Node>>),
        Pod(Arc<Hashed<Pod>>, Arc<Hashed<Pod>>),
        StatefulSet(Arc<Hashed<StatefulSet>>, Arc<Hashed<StatefulSet>>),
        ReplicaSet(Arc<Hashed<ReplicaSet>>, Arc<Hashed<ReplicaSet>>),
        Deployment(Arc<Hashed<Deployment>>, Arc<Hashed<Deployment>>),
        Job(Arc<Hashed<Job>>, Arc<Hashed<Job>>),
        ControllerRevision(Arc<Hashed<ControllerRevision>>, Arc<Hashed<ControllerRevision>>),
        PersistentVolumeClaim(Arc<Hashed<PersistentVolumeClaim>>, Arc<Hashed<PersistentVolumeClaim>>),
    }

    /// A kind whose renumbered copies the cache holds.
    pub(crate) trait Cached: Sized {
        /// The pair of `from` and its copy `to`.
        fn pair(from: Arc<Hashed<Self>>, to: Arc<Hashed<Self>>) -> Pair;
        /// The copy in `pair`, if it is of this kind.
        fn copy(pair: &Pair) -> Option<&Arc<Hashed<Self>>>;
    }

    macro_rules! cached {
        ($($kind:ident),*) => {$(
            impl Cached for $kind {
                fn pair(from: Arc<Hashed<Self>>, to: Arc<Hashed<Self>>) -> Pair {
                    Pair::$kind(from, to)
                }
                fn copy(pair: &Pair) -> Option<&Arc<Hashed<Self>>> {
                    match pair {
                        Pair::$kind(_, to) => Some(to),
                        _ => None,
                    }
                }
            }
        )*};
    }
    cached!(Node, Pod, StatefulSet, ReplicaSet, Deployment, Job, ControllerRevision, PersistentVolumeClaim);

    /// Entries (direct-mapped: an entry replaces whatever shared its index).
    const ENTRIES: usize = 1024;

    struct Entry {
        /// Where the object renumbered is.
        from: usize,
        /// The images of its stamps, in [`super::Stamps::visit`] order.
        images: smallvec::SmallVec<[Rev; 8]>,
        /// The object renumbered and its copy.
        pair: Pair,
    }

    thread_local! {
        static CACHE: RefCell<Vec<Option<Entry>>> = RefCell::new((0..ENTRIES).map(|_| None).collect());
    }

    /// `from` with its stamps mapped to `images`, from the cache or made by
    /// `compute` (and cached).
    pub(super) fn lookup<T: Cached>(
        from: &Arc<Hashed<T>>,
        images: &[Rev],
        compute: impl FnOnce() -> Arc<Hashed<T>>,
    ) -> Arc<Hashed<T>> {
        let ptr = Arc::as_ptr(from) as usize;
        let at = super::slot(ptr, images.iter().map(|&r| u64::from(r)), ENTRIES);
        let hit = CACHE.with(|c| {
            c.borrow()[at]
                .as_ref()
                .filter(|e| e.from == ptr && e.images[..] == *images)
                .and_then(|e| T::copy(&e.pair))
                .cloned()
        });
        if let Some(to) = hit {
            return to;
        }
        let to = compute();
        let entry = Entry { from: ptr, images: images.into(), pair: T::pair(from.clone(), to.clone()) };
        CACHE.with(|c| c.borrow_mut()[at] = Some(entry));
        to
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{pod, rs};

    /// An object's digest depends on its contents alone, however it came
    /// to hold them: written afresh, copied by a renumbering (body kept,
    /// stamps rehashed) or renumbered in place. Otherwise equal states
    /// would fingerprint apart.
    #[test]
    fn digests_are_the_same_written_or_renumbered() {
        let mut owned = pod("p", 7);
        owned.meta.owners.push(crate::meta::OwnerRef {
            kind: crate::meta::Kind::ReplicaSet,
            name: crate::meta::name("r"),
            uid: 5,
            controller: true,
        });
        let mut set = rs("r", 2, 5);
        set.status.observed_revision = Some(9);
        let shift = |r: Rev| if r > 4 { r - 2 } else { r };
        fn check<
            T: Object + std::hash::Hash + Stamps + Clone + PartialEq + std::fmt::Debug + objects_renumbered::Cached,
        >(
            o: T,
            shift: &impl Fn(Rev) -> Rev,
        ) {
            let h = Hashed::new(o.clone());
            assert_eq!(h.value, o, "stamps put back after hashing the body");
            let mut moved = o.clone();
            moved.map(shift);
            assert_ne!(moved, o, "the test's map moves a stamp");
            let fresh = Hashed::new(moved.clone());
            let copied = Hashed::with_body(moved.clone(), h.body);
            assert_eq!((copied.digest, copied.body), (fresh.digest, fresh.body));
            assert_ne!(fresh.digest, h.digest, "stamps are part of the digest");
            // Lists: the first renumbered while its list and object are
            // shared with the second (copies), the second then holding
            // both alone (changed in place).
            let mut first = Collection::default();
            first.put(o.clone());
            let mut second = first.clone();
            first.map_stamps(shift);
            second.map_stamps(shift);
            let mut written = Collection::default();
            written.put(moved);
            for c in [&first, &second] {
                assert_eq!(c.digest(), written.digest());
                assert!(*c == written);
            }
        }
        check(owned, &shift);
        check(set, &shift);
    }

    /// An empty collection holds no list, whether made empty or emptied:
    /// it equals, hashes and serialises as any empty list of its kind did
    /// (a list of no objects), also several of them in one sharing session
    /// (checkpoints), which reads them back as empty collections.
    #[test]
    fn empty_collections_hold_no_list_and_act_as_empty_lists() {
        use krepis_engine::checkpoint::{postcard_decode, postcard_encode};
        let mut c: Collection<Pod> = Collection::default();
        assert!(c.items.is_none());
        c.put(pod("a", 1));
        let one = c.clone();
        assert!(c.items.is_some());
        assert!(c.remove("a"));
        assert!(c.items.is_none(), "emptied: no list");
        assert_eq!(c, Collection::default());
        assert_ne!(c, one);
        assert_eq!(c.digest(), Collection::<Pod>::digest_of(&[]));
        assert_eq!(c.len(), 0);
        let mut set = Gather::new();
        c.gather_stamps(&mut set);
        assert_eq!(set.finish(), StampSet::new());
        c.map_stamps(&|r: Rev| r + 1);
        assert!(c.items.is_none());
        let fp = krepis_engine::fingerprint::fingerprint_of;
        assert_eq!(fp(&c), fp(&Collection::<Pod>::of(std::iter::empty(), 0)));
        let mut plain = Vec::new();
        assert!(postcard_encode(&c, &mut plain));
        assert_eq!(plain, [0], "a sequence of no objects");
        let mut stores = vec![Store::default(), Store::default()];
        stores[1].pods = one;
        let bytes: Vec<Vec<u8>> = share::writing(|| {
            stores
                .iter()
                .map(|s| {
                    let mut out = Vec::new();
                    assert!(postcard_encode(s, &mut out));
                    out
                })
                .collect()
        });
        let back: Vec<Store> = share::reading(|| bytes.iter().map(|b| postcard_decode(b).expect("a store")).collect());
        assert_eq!(back, stores);
        assert!(back[0].pods.items.is_none() && back[1].nodes.items.is_none());
    }

    /// A list that `PIN_AT` collections hold is pinned: copies of it are
    /// not counted, it equals, hashes and serialises as before, and a
    /// renumbering copies it and leaves it as it was.
    #[test]
    fn a_pinned_list_is_shared_uncounted_and_copied_to_change() {
        use krepis_engine::checkpoint::{postcard_decode, postcard_encode};
        let shift = |r: Rev| if r > 4 { r - 2 } else { r };
        let mut c = Collection::default();
        c.put(pod("p", 7));
        let plain = c.clone();
        let holders: Vec<_> = (1..crate::pinning::PIN_AT).map(|_| c.clone()).collect();
        let list = c.items.as_ref().expect("one pod");
        assert!(list.is_pinned(), "pinned once PIN_AT collections hold it");
        let count = ThinArc::strong_count(list);
        let more: Vec<_> = (0..100).map(|_| c.clone()).collect();
        assert_eq!(ThinArc::strong_count(c.items.as_ref().expect("one pod")), count, "copies are not counted");
        drop((more, holders));
        // Equal, hashed and serialised as the list was before pinning.
        assert!(c == plain && c.digest() == plain.digest());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        assert!(postcard_encode(&c, &mut a) && postcard_encode(&plain, &mut b));
        assert_eq!(a, b);
        assert!(postcard_decode::<Collection<Pod>>(&a).is_some_and(|d| d == c));
        // Renumbered: a copy, the pinned list left as it was.
        let (address, mut renumbered) = (c.address(), c.clone());
        renumbered.map_stamps(&shift);
        let mut written = Collection::default();
        written.put(pod("p", shift(7)));
        assert!(renumbered == written && renumbered.digest() == written.digest());
        assert!(renumbered.address() != address && c.address() == address && c == plain);
        assert!(!renumbered.items.as_ref().expect("one pod").is_pinned(), "the copy counts");
    }

    /// Siblings that renumber an object they share the same way get one
    /// copy of it (the thread's cache); another renumbering gets its own,
    /// and every copy holds what renumbering it afresh gives. One object
    /// per list: the cache is direct-mapped by address, so a second
    /// object's entry may take the first's slot (about one run in a
    /// thousand: this test failed so once, 2026-11-29), which costs a copy,
    /// never a wrong one.
    #[test]
    fn objects_renumbered_alike_share_one_copy() {
        let down = |r: Rev| if r > 4 { r - 2 } else { r };
        let up = |r: Rev| if r > 4 { r + 1 } else { r };
        for (n, uid) in [("a", 7), ("b", 9)] {
            let mut parent = Collection::default();
            parent.put(pod(n, uid));
            let (mut x, mut y, mut z) = (parent.clone(), parent.clone(), parent.clone());
            x.map_stamps(&down);
            y.map_stamps(&down);
            z.map_stamps(&up);
            assert!(Arc::ptr_eq(&x.items()[0], &y.items()[0]), "{n}: one copy for both siblings");
            assert!(!Arc::ptr_eq(&x.items()[0], &z.items()[0]), "{n}: another map, another copy");
            assert!(!Arc::ptr_eq(&x.items()[0], &parent.items()[0]), "{n}: the parent's is not changed");
            let written = |map: &dyn Fn(Rev) -> Rev| {
                let mut c = Collection::default();
                c.put(pod(n, map(uid)));
                c
            };
            assert!(x == written(&down) && x.digest() == written(&down).digest());
            assert!(z == written(&up) && z.digest() == written(&up).digest());
            assert_eq!(parent.items()[0].value.meta.uid, uid, "the parent keeps its stamps");
        }
    }

    /// A snapshot renumbered by ranks (its stamps' images a word at a time)
    /// is the snapshot renumbered by the same map as a closure (stamp by
    /// stamp), whether it is renumbered in place (held alone) or as a
    /// copy (shared: the thread's cache, keyed by the images); a map that
    /// moves none of its stamps leaves it as it is, shared.
    #[test]
    fn snapshots_renumbered_by_ranks_are_renumbered_by_the_map() {
        let make = |map: &dyn Fn(Rev) -> Rev| {
            let mut store = Store::default();
            for (n, uid) in [("a", 3), ("b", 70), ("c", 200), ("d", 300)] {
                store.pods.put(pod(n, map(uid)));
            }
            let mut r = rs("r", 2, map(130));
            r.meta.resource_version = map(131);
            store.replicasets.put(r);
            Snapshot::new(store)
        };
        let frozen = make(&|r| r);
        let mut stamps = Vec::new();
        frozen.stamp_set().each(&mut |r| stamps.push(r));
        assert_eq!(stamps, [3, 70, 130, 131, 200, 300], "every stamp is one the maps below see");
        let mut present = frozen.stamp_set().clone();
        present.insert(1);
        present.insert(500);
        let ranks = present.ranks();
        let by_closure = |r: Rev| ranks.map(r);
        let mut want = frozen.clone();
        want.renumber(&by_closure);
        assert_ne!(want.stamp_set(), frozen.stamp_set(), "the ranks move stamps");
        let (mut shared, mut again) = (frozen.clone(), frozen.clone());
        shared.renumber(&ranks);
        again.renumber(&ranks);
        assert!(shared == want && shared.digest() == want.digest(), "as a copy");
        assert_eq!(shared.address(), again.address(), "one copy for both, from the cache");
        // One the cache has not met (it holds the snapshots it renumbered).
        let mut alone = make(&|r| r);
        let at = alone.address();
        alone.renumber(&ranks);
        assert_eq!(alone.address(), at, "held alone: renumbered in place");
        let fresh = make(&by_closure);
        assert!(alone == fresh && alone.digest() == fresh.digest() && alone.stamp_set() == fresh.stamp_set());
        // Its stamps are 2..=7: the ranks among 1..=7 move none.
        let mut dense = StampSet::new();
        (1..=7).for_each(|r| dense.insert(r));
        let identity = dense.ranks();
        let before = alone.clone();
        alone.renumber(&identity);
        assert_eq!(alone.address(), before.address(), "nothing moved: the same snapshot");
    }

    /// A store's stamps gathered from its lists' bitmaps are the stamps
    /// its objects hold, however its lists were made (put, remove,
    /// renumbered in place or as a copy, merged), stamps of 256 and more
    /// included.
    #[test]
    fn stamps_gathered_from_list_headers_are_the_objects_stamps() {
        fn visited(s: &Store) -> StampSet {
            let mut set = StampSet::new();
            s.stamps(&mut |r| set.insert(r));
            set
        }
        fn gathered(s: &Store) -> StampSet {
            let mut set = Gather::new();
            s.gather_stamps(&mut set);
            set.finish()
        }
        let mut store = Store::default();
        let mut seen = Vec::new();
        let mut check = |s: &Store, what: &str| {
            assert_eq!(gathered(s), visited(s), "{what}");
            assert_eq!(*Snapshot::new(s.clone()).stamp_set(), visited(s), "{what}: frozen");
            seen.push(visited(s));
        };
        check(&store, "empty");
        for (n, uid) in [("a", 3), ("b", 70), ("c", 200), ("d", 255)] {
            store.pods.put(pod(n, uid));
            check(&store, n);
        }
        store.replicasets.put(rs("r", 2, 130));
        check(&store, "a replicaset");
        store.pods.put(pod("e", 256));
        check(&store, "a stamp past the bitmap");
        store.pods.put(pod("f", 1000));
        check(&store, "a stamp far past it");
        let shared = store.clone();
        let down = |r: Rev| if r >= 256 { r - 250 } else { r };
        store.map_stamps(&down);
        check(&store, "renumbered as a copy");
        check(&shared, "the copy's original");
        drop(shared);
        let up = |r: Rev| if r > 2 { r + 1 } else { r };
        store.map_stamps(&up);
        check(&store, "renumbered in place");
        assert!(store.pods.remove("c"));
        check(&store, "removed");
        let mut other = Store::default();
        other.pods.put(pod("a", 40));
        other.pods.put(pod("g", 41));
        store.merge(&other);
        assert_eq!(store.pods.get("g").map(|p| p.meta.uid), Some(41), "the merge brings g");
        check(&store, "merged");
        store.pods.put(pod("h", 42));
        check(&store, "written after a merge");
        let past = |s: &StampSet| {
            let mut past = false;
            s.each(&mut |r| past |= r >= 256);
            past
        };
        assert!(seen.iter().any(past), "the test reaches past the bitmap: {seen:?}");
    }
}
