//! Every controller instance's local state, packed into two buffers behind
//! one pointer that states with equal local states share.
//!
//! A state held one 56-byte [`Local`] per instance in a heap vector: about
//! 400 bytes and an allocation per successor on `cluster` (a third of a
//! state's memory; a BFS frontier holds millions of states, and fresh
//! memory was a third of a long BFS run's time, the kernel zeroing pages).
//! The packed form holds the same content in a word per instance plus its
//! session's revisions, and the kubelets' running pods in one list of
//! names (inline up to 20 words of sessions and 4 running pods); a state
//! holds a pointer to it, found again through a per-thread cache of
//! recent forms ([`Locals`]).
//!
//! Equality and order of instances are exactly those of the `Vec<Local>`
//! it replaces, and it serialises as that vector: checkpoint and trace
//! files are unchanged by the packing. `Hash` writes the length and one
//! 64-bit digest (xxh3) of what the vector's `Hash` writes, computed once
//! per packed form when it is first hashed: a state's fingerprint reads 16 bytes of
//! local state instead of walking every instance (4% of a BFS transition's
//! instructions on `cluster`). Fingerprints therefore differ from builds
//! before 2026-11-27's digest; a checkpoint from such a build is refused on
//! load (its saved fingerprints no longer match), not resumed wrongly.

use krepis_encodings::InlineVec;
use smallvec::SmallVec;
use triomphe::Arc;

use crate::controllers::{Local, Running};
use crate::meta::{Name, Rev};
use crate::pinning::Pinning;
use crate::revision::Revision;
use crate::stamp_set::{Gather, StampMap, StampSet};

/// Header bits holding a session's length (the rest: the running pods').
const SESSION_BITS: u32 = 16;

/// The local states of a scenario's controller instances, in instance order:
/// a pointer to a packed form (`Packed`) that states with equal local
/// states share.
///
/// A BFS level of `cluster` holds hundreds of states for each distinct
/// set of local states (62,011 distinct among 17.1 M states at depth 6,
/// synchronous), so a state holds 8 bytes where it held the 136-byte packed
/// form inline (most of a frontier state's own size). A change builds the
/// new packed form on the stack and looks it up in a small per-thread cache
/// of recent ones (`intern`): found (nearly always), the state shares it
/// and nothing is allocated; otherwise it gets an allocation of its own,
/// which the cache then hands out.
///
/// The pointer is a [`Pinning`] handle: a form most states share (a
/// successor holds its parent's, or the thread cache's copy) stops being
/// counted once [`crate::pinning::PIN_AT`] states hold it, so copying it
/// writes no cache line every core writes.
#[derive(Clone)]
pub struct Locals(Pinning<Arc<Interned>>);

/// A packed form with the digest its `Hash` writes and its sessions' stamps.
struct Interned {
    packed: Packed,
    /// [`Packed::digest`] of `packed`, or 0 until the form is first hashed:
    /// states hashed up to renumbering (simulation's ranked mode) hash
    /// their sessions' ranks instead and never ask for it, and making it
    /// with every new form was 2.8% of a monotonic-session simulation step
    /// on `cluster` (4.5 M of 164.5 M instructions, 100 walks). Threads
    /// that hash the form at once all store the same value, so relaxed
    /// loads and stores suffice (a digest that is 0 is computed each time).
    digest: std::sync::atomic::AtomicU64,
    /// Every revision of every instance's session: normalisation reads it
    /// for every successor, and walking the instances for it took 1% of a
    /// synchronous BFS run's instructions on `cluster`; packed forms are
    /// few and shared, so it is gathered once per form. (Gathering it only
    /// when first asked for made no difference, simulation included.)
    sessions: StampSet,
    /// Set once the form is pinned ([`Pinning`]).
    pinned: std::sync::atomic::AtomicBool,
}

impl AsRef<std::sync::atomic::AtomicBool> for Interned {
    fn as_ref(&self) -> &std::sync::atomic::AtomicBool {
        &self.pinned
    }
}

impl Interned {
    /// [`Packed::digest`] of the form, computed once (see the field).
    #[inline]
    fn digest(&self) -> u64 {
        use std::sync::atomic::Ordering::Relaxed;
        match self.digest.load(Relaxed) {
            0 => {
                let d = self.packed.digest();
                self.digest.store(d, Relaxed);
                d
            }
            d => d,
        }
    }
}

impl std::ops::Deref for Interned {
    type Target = Packed;
    fn deref(&self) -> &Packed {
        &self.packed
    }
}

/// Per instance, `words` holds a header (session length in the low 16 bits,
/// 0 for no session, since a read point is never empty; running pods in the
/// high 16) followed by the session's revisions; `names` holds every
/// instance's running pods, in instance order.
///
/// Its lists are [`InlineVec`]s: every step that changes an instance's
/// local state copies its state's packed form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Packed {
    words: InlineVec<u32, 20>,
    names: InlineVec<Name, 4>,
    len: usize,
}

/// One instance's local state, borrowed from [`Locals`]. Ordered as
/// [`Local`] is (session, then running pods): an empty session orders
/// first as `None` does, and slices order as `Revision`'s and `Running`'s
/// lists do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalRef<'a> {
    /// The session's revisions (empty: no session).
    session: &'a [Rev],
    /// The pods it runs (kubelets), sorted.
    pub running: &'a [Name],
}

impl<'a> LocalRef<'a> {
    /// The read point of the instance's last read, as its revisions; `None`
    /// until it reads (again).
    pub fn session(&self) -> Option<&'a [Rev]> {
        (!self.session.is_empty()).then_some(self.session)
    }

    /// The read point of the instance's last read.
    pub fn revision(&self) -> Option<Revision> {
        self.session().map(Revision::from_sorted)
    }

    /// An owned copy.
    pub fn to_local(&self) -> Local {
        Local { session: self.revision(), running: self.running.iter().cloned().collect::<Running>() }
    }

    /// Whether it is the state of an instance that never ran (or restarted).
    pub fn is_default(&self) -> bool {
        self.session.is_empty() && self.running.is_empty()
    }
}

impl Packed {
    fn new(n: usize) -> Self {
        Packed { words: std::iter::repeat_n(0, n).collect(), names: InlineVec::new(), len: n }
    }

    fn from_locals(locals: &[Local]) -> Self {
        let mut out = Packed { words: InlineVec::new(), names: InlineVec::new(), len: locals.len() };
        for l in locals {
            out.push(l);
        }
        out
    }

    fn push(&mut self, l: &Local) {
        let session = l.session.as_ref().map_or(&[][..], |s| s.components());
        self.words.push(header(session.len(), l.running.len()));
        self.words.extend_from_slice(session);
        self.names.extend(l.running.iter().cloned());
    }

    /// Where instance `i`'s header is in `words` and its pods in `names`.
    fn position(&self, i: usize) -> (usize, usize) {
        let (mut w, mut n) = (0, 0);
        for _ in 0..i {
            let (s, r) = split(self.words[w]);
            w += 1 + s;
            n += r;
        }
        (w, n)
    }

    fn get(&self, i: usize) -> LocalRef<'_> {
        assert!(i < self.len, "instance {i} of {}", self.len);
        let (w, n) = self.position(i);
        let (s, r) = split(self.words[w]);
        LocalRef { session: &self.words[w + 1..w + 1 + s], running: &self.names[n..n + r] }
    }

    fn iter(&self) -> impl Iterator<Item = LocalRef<'_>> + '_ {
        let (mut w, mut n) = (0, 0);
        (0..self.len).map(move |_| {
            let (s, r) = split(self.words[w]);
            let l = LocalRef { session: &self.words[w + 1..w + 1 + s], running: &self.names[n..n + r] };
            w += 1 + s;
            n += r;
            l
        })
    }

    fn set(&mut self, i: usize, l: &Local) {
        assert!(i < self.len, "instance {i} of {}", self.len);
        let (w, n) = self.position(i);
        let (s, r) = split(self.words[w]);
        let session = l.session.as_ref().map_or(&[][..], |s| s.components());
        if session.len() == s {
            self.words[w] = header(s, l.running.len());
            self.words[w + 1..w + 1 + s].copy_from_slice(session);
        } else {
            let tail: SmallVec<[u32; 20]> = self.words.drain(w..).skip(1 + s).collect();
            self.words.push(header(session.len(), l.running.len()));
            self.words.extend_from_slice(session);
            self.words.extend(tail);
        }
        if l.running.as_slice() != &self.names[n..n + r] {
            let tail: SmallVec<[Name; 4]> = self.names.drain(n..).skip(r).collect();
            self.names.extend(l.running.iter().cloned());
            self.names.extend(tail);
        }
    }

    /// Replaces every session revision `x` by `map(x)`.
    fn map_sessions(&mut self, map: &impl Fn(Rev) -> Rev) {
        let mut w = 0;
        while w < self.words.len() {
            let (s, _) = split(self.words[w]);
            self.words[w + 1..w + 1 + s].iter_mut().for_each(|r| *r = map(*r));
            w += 1 + s;
        }
    }

    /// Drops every session whose newest revision is below `newest`.
    fn forget_sessions_before(&mut self, newest: Rev) {
        let mut words: InlineVec<u32, 20> = InlineVec::new();
        let mut w = 0;
        while w < self.words.len() {
            let (s, r) = split(self.words[w]);
            let session = &self.words[w + 1..w + 1 + s];
            if session.last().is_some_and(|&last| last < newest) {
                words.push(header(0, r));
            } else {
                words.push(self.words[w]);
                session.iter().for_each(|&x| words.push(x));
            }
            w += 1 + s;
        }
        self.words = words;
    }

    /// The xxh3 of what the `Vec<Local>` this packs writes to a hasher
    /// (its length, then per instance the session as an `Option` of its
    /// revisions and the running pods): stable across runs and platforms
    /// of one word size, as fingerprints must be.
    ///
    /// The bytes are laid out here as `Hash` writes them on this platform
    /// (native-endian; an `Option`'s discriminant as an `isize`, a slice's
    /// length as a `usize`, a name as its precomputed hash) and hashed at
    /// once: fed to a hasher call by call, the digest was 1,000 instructions,
    /// 3% of a causal or monotonic-session simulation step, where local
    /// states are new at nearly every step. The property test
    /// `packed_locals_act_as_the_vector` compares it with the fingerprint of
    /// the vector's own `Hash` on random local states.
    fn digest(&self) -> u64 {
        // Gathered on the stack (xxh3 with seed 0 is plain xxh3, so the
        // digest is the same), not appended to a pooled vector: 0.55% fewer
        // instructions on `stale-reads` (causal, depth 6). A digest still
        // takes about 610 there, most of it xxh3 of some 300 bytes.
        krepis_engine::fingerprint::fingerprint_gathered::<512>(0, |g| {
            // The length; per instance a discriminant and two lengths; a
            // revision per session word; a hash per running pod.
            g.put(&self.len.to_ne_bytes());
            for l in self.iter() {
                match l.session() {
                    None => g.put(&0isize.to_ne_bytes()),
                    Some(revs) => {
                        g.put(&1isize.to_ne_bytes());
                        g.put(&revs.len().to_ne_bytes());
                        revs.iter().for_each(|r| g.put(&r.to_ne_bytes()));
                    }
                }
                g.put(&l.running.len().to_ne_bytes());
                l.running.iter().for_each(|n| g.put(&n.precomputed_hash().to_ne_bytes()));
            }
        })
    }

    /// A hash of the contents for [`intern`]'s cache (names by their
    /// precomputed hashes): cheaper than xxh3, and never leaves the process.
    fn quick_hash(&self) -> u64 {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mix = |h: u64, x: u64| (h.rotate_left(5) ^ x).wrapping_mul(K);
        let h = self.words.iter().fold(self.len as u64, |h, &w| mix(h, u64::from(w)));
        self.names.iter().fold(h, |h, n| mix(h, n.precomputed_hash()))
    }
}

impl Locals {
    /// `n` instances, each with the default (empty) local state.
    pub fn new(n: usize) -> Self {
        intern(Packed::new(n))
    }

    /// Packs `locals`, in order.
    pub fn from_locals(locals: &[Local]) -> Self {
        intern(Packed::from_locals(locals))
    }

    /// How many instances.
    pub fn len(&self) -> usize {
        self.0.len
    }

    /// Whether there are no instances.
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// Instance `i`'s local state. Panics if `i >= len()`.
    pub fn get(&self, i: usize) -> LocalRef<'_> {
        self.0.get(i)
    }

    /// Every instance's local state, in order.
    pub fn iter(&self) -> impl Iterator<Item = LocalRef<'_>> + '_ {
        self.0.iter()
    }

    /// Replaces instance `i`'s local state by `l`. Panics if `i >= len()`.
    pub fn set(&mut self, i: usize, l: &Local) {
        *self = self.with(i, l);
    }

    /// These local states with instance `i`'s replaced by `l` (as
    /// [`Self::set`] on a copy, without the copy: a successor built from a
    /// clone of its parent's local states then set cloned and dropped a
    /// count most states share, two of the 2.4 count changes per
    /// transition the packed forms made on `cluster`, `scripts/refcounts`).
    /// Panics if `i >= len()`.
    pub fn with(&self, i: usize, l: &Local) -> Locals {
        let mut p = self.0.packed.clone();
        p.set(i, l);
        intern(p)
    }

    /// Every instance's running pods, in instance order: the concatenation
    /// of their `running` lists, read without decoding each instance (the
    /// property `pods-on-nodes-unique` reads it in every state a search
    /// meets; going instance by instance was 3.7% of a synchronous BFS run).
    pub fn all_running(&self) -> &[Name] {
        &self.0.names
    }

    /// The revisions of every instance's session (of their last reads).
    pub fn session_stamps(&self) -> &StampSet {
        &self.0.sessions
    }

    /// Replaces every session revision `x` by `map(x)` (order-preserving
    /// maps keep each session sorted).
    pub fn map_sessions(&mut self, map: &impl StampMap) {
        // Unchanged, it stays the one packed form (no copy, no lookup).
        if !map.moves(&self.0.sessions) {
            return;
        }
        let mut p = self.0.packed.clone();
        p.map_sessions(&|r| map.map(r));
        *self = intern(p);
    }

    /// [`Self::set`], then [`Self::forget_sessions_before`], making one new
    /// packed form instead of two.
    pub fn set_forgetting(&mut self, i: usize, l: &Local, newest: Rev) {
        *self = self.with_forgetting(i, l, newest);
    }

    /// [`Self::set_forgetting`] on a copy, without the copy (see
    /// [`Self::with`]).
    pub fn with_forgetting(&self, i: usize, l: &Local, newest: Rev) -> Locals {
        let mut p = self.0.packed.clone();
        p.set(i, l);
        p.forget_sessions_before(newest);
        intern(p)
    }

    /// Drops (sets to none) every session whose newest revision is below
    /// `newest`: for a consistency model whose reads see only the newest
    /// state, such a session and none give the instance the same choices
    /// ([`crate::consistency::Consistency::READS_NEWEST_ONLY`]).
    pub fn forget_sessions_before(&mut self, newest: Rev) {
        // Nothing to drop (most successors): the same packed form.
        if !self.0.sessions.has_below(newest) {
            return;
        }
        let mut p = self.0.packed.clone();
        p.forget_sessions_before(newest);
        *self = intern(p);
    }

    /// Sorts the local states of the instances in `run` (in [`Local`]'s
    /// order), leaving the others in place: the canonical form under
    /// permutations of interchangeable instances.
    pub fn sort_run(&mut self, run: std::ops::Range<usize>) {
        if let Some(order) = self.sorting_order(std::slice::from_ref(&run)) {
            *self = self.permuted(&order);
        }
    }

    /// The order that sorts each run of `runs` (in [`Local`]'s order,
    /// equal states keeping their places) and leaves every other instance
    /// where it is: `order[k]` is the instance that goes to place k. `None`
    /// if every run is sorted already.
    pub fn sorting_order(&self, runs: &[std::ops::Range<usize>]) -> Option<SmallVec<[usize; 16]>> {
        // Only the instances up to the end of the last run are compared.
        let end = runs.iter().map(|r| r.end).max()?;
        let refs: SmallVec<[LocalRef<'_>; 16]> = self.iter().take(end).collect();
        let sorted = |run: &std::ops::Range<usize>| refs[run.clone()].windows(2).all(|w| w[0] <= w[1]);
        if runs.iter().all(sorted) {
            return None;
        }
        let mut order: SmallVec<[usize; 16]> = (0..self.len()).collect();
        for run in runs {
            order[run.clone()].sort_by(|&a, &b| refs[a].cmp(&refs[b]));
        }
        Some(order)
    }

    /// The instances' local states in the order `order` gives (`order[k]`
    /// goes to place k; a permutation of `0..len()`), packed straight from
    /// this packed form.
    pub fn permuted(&self, order: &[usize]) -> Locals {
        assert_eq!(order.len(), self.len(), "a permutation of every instance");
        let refs: SmallVec<[LocalRef<'_>; 16]> = self.iter().collect();
        let mut p = Packed { words: InlineVec::new(), names: InlineVec::new(), len: order.len() };
        for &i in order {
            let l = refs[i];
            p.words.push(header(l.session.len(), l.running.len()));
            p.words.extend_from_slice(l.session);
            p.names.extend(l.running.iter().cloned());
        }
        intern(p)
    }

    /// Whether `self` and `other` share one packed form.
    pub fn shares(&self, other: &Locals) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Slots of [`intern`]'s per-thread cache (a power of two).
const RECENT_SLOTS: usize = 1024;

thread_local! {
    /// Recently made packed forms, direct-mapped by [`Packed::quick_hash`]:
    /// a form replaces whatever held its slot. Bounded (about 150 KB a
    /// thread at most), so simulations and long runs never grow it.
    static RECENT: std::cell::RefCell<Vec<Option<Locals>>> = std::cell::RefCell::new(vec![None; RECENT_SLOTS]);
}

/// `p` as a [`Locals`]: the one this thread's cache holds if equal, or a
/// new allocation (which the cache then holds).
fn intern(p: Packed) -> Locals {
    let slot = (p.quick_hash().wrapping_mul(0xff51_afd7_ed55_8ccd) >> 54) as usize & (RECENT_SLOTS - 1);
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if let Some(l) = &recent[slot] {
            if l.0.packed == p {
                return l.clone();
            }
        }
        let mut sessions = Gather::new();
        p.iter().for_each(|l| l.session.iter().for_each(|r| sessions.insert(*r)));
        let l = Locals(Pinning::new(Arc::new(Interned {
            packed: p,
            digest: Default::default(),
            sessions: sessions.finish(),
            pinned: Default::default(),
        })));
        recent[slot] = Some(l.clone());
        l
    })
}

impl PartialEq for Locals {
    fn eq(&self, o: &Self) -> bool {
        Arc::ptr_eq(&self.0, &o.0) || self.0.packed == o.0.packed
    }
}

impl Eq for Locals {}

impl Default for Locals {
    fn default() -> Self {
        Locals::new(0)
    }
}

impl std::fmt::Debug for Locals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

fn header(session: usize, running: usize) -> u32 {
    assert!(session < 1 << SESSION_BITS && running < 1 << (32 - SESSION_BITS), "local state too large to pack");
    session as u32 | (running as u32) << SESSION_BITS
}

fn split(h: u32) -> (usize, usize) {
    ((h & ((1 << SESSION_BITS) - 1)) as usize, (h >> SESSION_BITS) as usize)
}

/// The length, then the digest of the contents (an xxh3 of what the vector of local states would hash):
/// equal local states hash equally.
impl std::hash::Hash for Locals {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_usize(self.len());
        h.write_u64(self.0.digest());
    }
}

impl serde::Serialize for Locals {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|l| l.to_local()))
    }
}

impl<'de> serde::Deserialize<'de> for Locals {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let all: Vec<Local> = Vec::deserialize(d)?;
        Ok(Locals::from_locals(&all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::name;
    use proptest::prelude::*;

    fn local(session: &[Rev], running: &[&str]) -> Local {
        Local {
            session: (!session.is_empty()).then(|| Revision::merged(session.to_vec())),
            running: running.iter().map(|p| name(p)).collect(),
        }
    }

    /// Every revision of every session of `v`, inserted one by one.
    fn sessions_of(v: &[Local]) -> StampSet {
        let mut set = StampSet::new();
        v.iter().filter_map(|l| l.session.as_ref()).for_each(|s| s.components().iter().for_each(|r| set.insert(*r)));
        set
    }

    fn arb_local() -> impl Strategy<Value = Local> {
        (proptest::collection::btree_set(1u32..40, 0..6), proptest::collection::btree_set(0u8..5, 0..4)).prop_map(
            |(s, r)| {
                let s: Vec<Rev> = s.into_iter().collect();
                let r: Vec<String> = r.into_iter().map(|k| format!("pod-{k}")).collect();
                local(&s, &r.iter().map(|x| x.as_str()).collect::<Vec<_>>())
            },
        )
    }

    fn fp(x: &impl std::hash::Hash) -> u64 {
        krepis_engine::fingerprint::fingerprint_of(x)
    }

    proptest! {
        /// Packing keeps every instance's state, hashes as the vector's digest,
        /// serialises as it, `set` and `sort_run` act as on the vector, and
        /// `all_running` is its running pods end to end.
        #[test]
        fn packed_locals_act_as_the_vector(
            mut v in proptest::collection::vec(arb_local(), 0..12),
            writes in proptest::collection::vec((0usize..12, arb_local()), 0..8),
            run in (0usize..12, 0usize..12),
        ) {
            let mut p = Locals::from_locals(&v);
            for (i, l) in writes {
                if i < v.len() {
                    v[i] = l.clone();
                    // `with` and `with_forgetting` are `set` and
                    // `set_forgetting` on a copy, and leave the original.
                    let before = p.clone();
                    let (with, forgetting) = (p.with(i, &l), p.with_forgetting(i, &l, 20));
                    prop_assert_eq!(&p, &before);
                    let mut forgot = p.clone();
                    forgot.set_forgetting(i, &l, 20);
                    prop_assert_eq!(&forgetting, &forgot);
                    p.set(i, &l);
                    prop_assert_eq!(&with, &p);
                }
                prop_assert_eq!(p.iter().map(|l| l.to_local()).collect::<Vec<_>>(), v.clone());
                prop_assert_eq!(p.len(), v.len());
                for (i, l) in v.iter().enumerate() {
                    prop_assert_eq!(p.get(i).to_local(), l.clone());
                }
                // The length, then the digest of the vector's own hash.
                prop_assert_eq!(fp(&p), fp(&(v.len(), fp(&v))));
                prop_assert_eq!(&p, &Locals::from_locals(&v), "one packing per content");
                prop_assert_eq!(p.session_stamps(), &sessions_of(&v));
                let running: Vec<Name> = v.iter().flat_map(|l| l.running.iter().copied()).collect();
                prop_assert_eq!(p.all_running(), &running[..]);
            }
            let mut bytes = Vec::new();
            prop_assert!(krepis_engine::checkpoint::postcard_encode(&p, &mut bytes));
            let mut vbytes = Vec::new();
            prop_assert!(krepis_engine::checkpoint::postcard_encode(&v, &mut vbytes));
            prop_assert_eq!(&bytes, &vbytes);
            prop_assert_eq!(krepis_engine::checkpoint::postcard_decode::<Locals>(&bytes), Some(p.clone()));
            let (a, b) = (run.0.min(run.1).min(v.len()), run.0.max(run.1).min(v.len()));
            v[a..b].sort_unstable();
            p.sort_run(a..b);
            prop_assert_eq!(&p, &Locals::from_locals(&v));
            // Any permutation, packed straight from the packed form.
            let mut order: Vec<usize> = (0..v.len()).collect();
            order.sort_by_key(|&i| (i * 7 + a) % v.len().max(1));
            let moved: Vec<Local> = order.iter().map(|&i| v[i].clone()).collect();
            prop_assert_eq!(&p.permuted(&order), &Locals::from_locals(&moved));
            let mut shifted = p.clone();
            shifted.map_sessions(&|r| 2 * r + 1);
            for (x, y) in shifted.iter().zip(p.iter()) {
                prop_assert_eq!(x.session().map(|s| s.to_vec()), y.session().map(|s| s.iter().map(|r| 2 * r + 1).collect()));
            }
            let mut images = StampSet::new();
            p.session_stamps().each(&mut |r| images.insert(2 * r + 1));
            prop_assert_eq!(shifted.session_stamps(), &images);
            // Forgetting old sessions: those whose newest revision is
            // below the bound go, the rest (running pods included) stay.
            for newest in [0, 1, 7, 20, 39, 40] {
                let mut forgot = p.clone();
                forgot.forget_sessions_before(newest);
                let kept: Vec<Local> = v
                    .iter()
                    .map(|l| Local {
                        session: l.session.clone().filter(|s| s.newest() >= newest),
                        running: l.running.clone(),
                    })
                    .collect();
                prop_assert_eq!(&forgot, &Locals::from_locals(&kept));
                prop_assert_eq!(forgot.session_stamps(), &sessions_of(&kept));
                if let Some(l) = v.first() {
                    let mut one = p.clone();
                    one.set_forgetting(0, l, newest);
                    let mut two = p.clone();
                    two.set(0, l);
                    two.forget_sessions_before(newest);
                    prop_assert_eq!(&one, &two);
                }
            }
        }
    }

    #[test]
    fn equal_local_states_made_apart_share_one_packed_form() {
        let v = vec![local(&[3], &["pod-a"]), local(&[], &[])];
        let a = Locals::from_locals(&v);
        let mut b = Locals::new(2);
        assert!(!a.shares(&b));
        b.set(0, &v[0]);
        assert!(a.shares(&b), "made by a change, found in the cache");
        assert_eq!(std::mem::size_of::<Locals>(), 8);
        // Another thread's cache holds its own copy: equal, not shared.
        let c = std::thread::spawn(move || Locals::from_locals(&v)).join().expect("no panic");
        assert!(!a.shares(&c));
        assert_eq!(a, c);
        assert_eq!(fp(&a), fp(&c));
    }

    #[test]
    fn a_new_set_of_locals_is_all_default() {
        let p = Locals::new(3);
        assert_eq!(p, Locals::from_locals(&[Local::default(), Local::default(), Local::default()]));
        assert!(p.iter().all(|l| l.is_default()));
        assert!(Locals::new(0).is_empty());
    }
}
