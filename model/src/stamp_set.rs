//! Sets of stamps (revisions and uids) as bitmaps, and the dense
//! renumbering of such a set that normalisation applies.
//!
//! Stamps are small numbers: normalisation renumbers them densely from 1
//! after every step, so a state's stamps are below a few times its history's
//! length. A bitmap holds the stamps below 128 inline (16 bytes), unions are
//! word-wise ORs, and a stamp's rank is a prefix count plus one popcount.

use krepis_encodings::Pext;
use smallvec::SmallVec;

use crate::meta::Rev;

/// The largest stamp of the bitmap `words`, if any.
pub fn highest_of(words: &[u64]) -> Option<Rev> {
    let top = words.iter().rposition(|w| *w != 0)?;
    Some(top as Rev * 64 + 63 - words[top].leading_zeros())
}

/// An order-preserving renumbering of stamps (strictly increasing on the
/// stamps it is applied to): a function, and the image of a set of stamps
/// under it, which a renumbering by ranks ([`Ranks`]) computes a word at a
/// time instead of stamp by stamp. Any `Fn(Rev) -> Rev` is one.
pub trait StampMap {
    /// The image of stamp `r`.
    fn map(&self, r: Rev) -> Rev;

    /// A stamp below which the map changes no stamp (0: not known), so
    /// that a set of stamps all below it is passed over without mapping
    /// any.
    fn fixes_below(&self) -> Rev {
        0
    }

    /// The set of the images of `set`'s stamps. Since the map is strictly
    /// increasing there, it equals `set` iff the map changes none of them.
    fn images(&self, set: &StampSet) -> StampSet {
        let mut out = Gather::new();
        set.each(&mut |r| out.insert(self.map(r)));
        out.finish()
    }

    /// Whether the map changes some stamp of `set`: none if they are all
    /// below [`Self::fixes_below`], else as their images say.
    fn moves(&self, set: &StampSet) -> bool {
        set.highest().is_some_and(|h| h >= self.fixes_below()) && self.images(set) != *set
    }
}

impl<F: Fn(Rev) -> Rev> StampMap for F {
    #[inline]
    fn map(&self, r: Rev) -> Rev {
        self(r)
    }
}

/// Renumbering by ranks among a set: `images` word-wise for a subset of
/// it (the stamps of a snapshot, among its state's). Walking a snapshot's
/// stamps one by one, to tell whether renumbering moves them and to map
/// them, was 6% of a synchronous BFS run on `cluster`.
impl StampMap for Ranks<'_> {
    #[inline]
    fn map(&self, r: Rev) -> Rev {
        Ranks::map(self, r)
    }

    fn images(&self, set: &StampSet) -> StampSet {
        set.images(self)
    }

    /// The smallest stamp from 1 up that the ranked set lacks (0 if it
    /// holds 0): each stamp of the set below it is its own rank.
    fn fixes_below(&self) -> Rev {
        self.first_gap
    }
}

/// A set of stamps. Equal sets are equal values (no trailing zero words).
///
/// Stamps below 128 are held inline (two words; normalisation keeps stamps
/// below that, [`crate::kube::normalize`]), larger ones on the heap. Four
/// words inline made a frozen store 16 bytes larger, past mimalloc's
/// 112-byte block into its 128-byte one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StampSet {
    words: Words,
}

/// A [`StampSet`]'s words.
type Words = SmallVec<[u64; 2]>;

impl StampSet {
    /// The empty set.
    pub fn new() -> Self {
        StampSet::default()
    }

    /// Adds `r`.
    #[inline]
    pub fn insert(&mut self, r: Rev) {
        let w = r as usize / 64;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (r % 64);
    }

    /// Adds every stamp of `other`.
    pub fn union(&mut self, other: &StampSet) {
        if other.words.len() > self.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a |= b);
    }

    /// Calls `f` on each stamp, in increasing order.
    pub fn each(&self, f: &mut dyn FnMut(Rev)) {
        for (w, bits) in self.words.iter().enumerate() {
            let mut bits = *bits;
            while bits != 0 {
                f(w as Rev * 64 + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
    }

    /// The largest stamp, if any.
    pub fn highest(&self) -> Option<Rev> {
        highest_of(&self.words)
    }

    /// The smallest stamp from 1 up that the set lacks, or 0 if the set
    /// holds 0 (ranks, counted from 1, then move every stamp).
    fn first_gap(&self) -> Rev {
        if self.words.first().is_some_and(|w| w & 1 == 1) {
            return 0;
        }
        let mut at = 0;
        for (k, w) in self.words.iter().enumerate() {
            // The gap sought is from 1 up.
            let w = if k == 0 { w | 1 } else { *w };
            if w != u64::MAX {
                return at + (!w).trailing_zeros();
            }
            at += 64;
        }
        at.max(1)
    }

    /// The words of the bitmap (bit `r % 64` of word `r / 64` for stamp
    /// `r`), without trailing zero words.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Whether some stamp of the set is below `r`.
    pub fn has_below(&self, r: Rev) -> bool {
        let (full, part) = (r as usize / 64, r % 64);
        let low = self.words.iter().take(full).any(|w| *w != 0);
        low || self.words.get(full).is_some_and(|w| w & ((1u64 << part) - 1) != 0)
    }

    /// Number of stamps.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// Feeds `h` the set's words (the same for equal sets).
    pub fn hash_words(&self, h: &mut dyn std::hash::Hasher) {
        h.write_usize(self.words.len());
        self.words.iter().for_each(|w| h.write_u64(*w));
    }

    /// Whether the set is exactly `1..=n` for some `n` (0 is not a stamp
    /// normalisation produces): renumbering it densely changes nothing.
    pub fn is_dense(&self) -> bool {
        let Some(first) = self.words.first() else {
            return true;
        };
        if first & 1 == 1 {
            return false;
        }
        let highest = self
            .words
            .iter()
            .rposition(|w| *w != 0)
            .map_or(0, |w| w * 64 + 63 - self.words[w].leading_zeros() as usize);
        self.len() == highest
    }

    /// The dense renumbering of this set: the `k`-th smallest stamp becomes
    /// `k` (from 1). Order-preserving, so it keeps every comparison between
    /// stamps of the set.
    pub fn ranks(&self) -> Ranks<'_> {
        let mut below: SmallVec<[u32; 8]> = SmallVec::with_capacity(self.words.len());
        let mut n = 0;
        for w in &self.words {
            below.push(n);
            n += w.count_ones();
        }
        Ranks { set: self, below, dense: self.is_dense(), first_gap: self.first_gap(), pext: Pext::detect() }
    }
}

impl StampSet {
    /// The set of the images of this set's stamps under `ranks` (the set
    /// `{ranks.map(r) : r in self}`): a word at a time with the
    /// processor's `pext` where it is fast ([`Pext`]) and the set is a
    /// subset of the ranked one, else stamp by stamp.
    pub fn images(&self, ranks: &Ranks<'_>) -> StampSet {
        let Some(n) = self.image_words(ranks) else {
            return StampSet::new();
        };
        let mut words: Words = smallvec::smallvec![0; n];
        self.images_into(ranks, &mut words);
        StampSet { words }
    }

    /// Feeds `h` what `self.images(ranks).hash_words(h)` feeds it, building
    /// the images on the stack when they fit in eight words (512 stamps):
    /// a snapshot's images are hashed in every state a simulation meets.
    pub fn hash_images(&self, ranks: &Ranks<'_>, h: &mut dyn std::hash::Hasher) {
        const STACK: usize = 8;
        match self.image_words(ranks) {
            None => h.write_usize(0),
            Some(n) if n <= STACK => {
                let mut buf = [0u64; STACK];
                self.images_into(ranks, &mut buf[..n]);
                h.write_usize(n);
                buf[..n].iter().for_each(|w| h.write_u64(*w));
            }
            Some(_) => self.images(ranks).hash_words(h),
        }
    }

    /// How many words the images take (none for the empty set): up to the
    /// image of the largest stamp.
    fn image_words(&self, ranks: &Ranks<'_>) -> Option<usize> {
        let top = self.words.iter().rposition(|w| *w != 0)?;
        let high = top as Rev * 64 + 63 - self.words[top].leading_zeros();
        Some(ranks.map(high) as usize / 64 + 1)
    }

    /// Sets the images' bits in `out` (zero, [`Self::image_words`] long).
    /// A subset of the ranked set (a snapshot's stamps are among its
    /// state's) goes a word at a time where the processor has a fast
    /// `pext`; anything else stamp by stamp. The images of a
    /// monotonic-session state's snapshots were 14% of a simulation step on
    /// `cluster` stamp by stamp (24.7 M of 171.5 M instructions over 100
    /// walks to depth 100), a popcount and a shift per stamp.
    fn images_into(&self, ranks: &Ranks<'_>, out: &mut [u64]) {
        match ranks.pext {
            Some(pext) if self.is_subset_of(ranks.set) => self.images_by_word(pext, ranks, out),
            _ => self.images_by_stamp(ranks, out),
        }
    }

    /// Whether every stamp of this set is one of `other`'s.
    fn is_subset_of(&self, other: &StampSet) -> bool {
        self.words.len() <= other.words.len() && self.words.iter().zip(&other.words).all(|(a, b)| a & !b == 0)
    }

    /// [`Self::images_into`] for a subset of the ranked set, a word at a
    /// time: the images of a word's stamps are the ranked set's bits of
    /// that word that the stamps select, packed (`pext`), then moved up
    /// past the ranked stamps of the words before.
    fn images_by_word(&self, pext: Pext, ranks: &Ranks<'_>, out: &mut [u64]) {
        for ((&stamps, &set), &below) in self.words.iter().zip(&ranks.set.words[..]).zip(&ranks.below[..]) {
            if stamps == 0 {
                continue;
            }
            // The stamps' ranks within the word, from bit 0 (the word's
            // lowest ranked stamp): the ranked set is a superset.
            let packed = pext.extract(stamps, set);
            // Its lowest ranked stamp has rank `below + 1`.
            let at = below as usize + 1;
            out[at / 64] |= packed << (at % 64);
            let spill = if at % 64 == 0 { 0 } else { packed >> (64 - at % 64) };
            if spill != 0 {
                out[at / 64 + 1] |= spill;
            }
        }
    }

    /// [`Self::images_into`] stamp by stamp, for any set: one popcount
    /// per stamp.
    fn images_by_stamp(&self, ranks: &Ranks<'_>, out: &mut [u64]) {
        let (set, below) = (&ranks.set.words[..], &ranks.below[..]);
        let past = ranks.set.len() as Rev + 1;
        for (w, &word) in self.words.iter().enumerate() {
            let mut bits = word;
            match (set.get(w), below.get(w)) {
                (Some(&set), Some(&below)) => {
                    while bits != 0 {
                        let r = below + (set & ((bits & bits.wrapping_neg()) - 1)).count_ones() + 1;
                        out[r as usize / 64] |= 1 << (r % 64);
                        bits &= bits - 1;
                    }
                }
                // Past the ranked set: every stamp maps to one past its size.
                _ if bits != 0 => out[past as usize / 64] |= 1 << (past % 64),
                _ => {}
            }
        }
    }
}

/// Builds a [`StampSet`] stamp by stamp and set by set: stamps below 256
/// (nearly all, as normalisation renumbers from 1) go into four words on
/// the stack with one shift and OR each, unions into those words with four
/// ORs, and only larger stamps into a set beside. Building snapshots' and
/// states' sets through [`StampSet::insert`] (a length check and a resize
/// test per stamp) took 3.4% more instructions on a synchronous BFS run on
/// `cluster`.
#[derive(Default)]
pub struct Gather {
    low: [u64; LOW_WORDS],
    high: StampSet,
}

/// The words [`Gather`] holds on the stack.
const LOW_WORDS: usize = 4;

impl Gather {
    /// Nothing gathered yet.
    pub fn new() -> Self {
        Gather::default()
    }

    /// Adds `r`.
    #[inline]
    pub fn insert(&mut self, r: Rev) {
        match self.low.get_mut(r as usize / 64) {
            Some(w) => *w |= 1 << (r % 64),
            None => self.high.insert(r),
        }
    }

    /// Adds the stamps below 64 whose bits `word` sets (bit `r` for stamp
    /// `r`).
    #[inline]
    pub fn union_first_word(&mut self, word: u64) {
        self.low[0] |= word;
    }

    /// Adds every stamp of `set`.
    #[inline]
    pub fn union(&mut self, set: &StampSet) {
        self.low.iter_mut().zip(&set.words).for_each(|(a, b)| *a |= b);
        if set.words.len() > LOW_WORDS {
            self.high.union(set);
        }
    }

    /// The set of every stamp added (no trailing zero words, as
    /// [`StampSet`]'s equality requires).
    pub fn finish(self) -> StampSet {
        if self.high.words.is_empty() {
            // The usual case: the four words, up to the last one in use
            // (inline up to two, made from a two-word buffer: `from_slice`
            // for every length took 0.6% more instructions on a synchronous
            // BFS run on `cluster`).
            let len = self.low.iter().rposition(|w| *w != 0).map_or(0, |w| w + 1);
            if len <= 2 {
                return StampSet { words: SmallVec::from_buf_and_len([self.low[0], self.low[1]], len) };
            }
            return StampSet { words: SmallVec::from_slice(&self.low[..len]) };
        }
        // `high` holds a stamp of 256 or more: its last word is in use and
        // comes after the four.
        let mut words = self.high.words;
        words.iter_mut().zip(self.low).for_each(|(a, b)| *a |= b);
        StampSet { words }
    }
}

/// The dense renumbering of a [`StampSet`] (see [`StampSet::ranks`]).
pub struct Ranks<'a> {
    set: &'a StampSet,
    /// Per word, the number of stamps in the words before it.
    below: SmallVec<[u32; 8]>,
    /// Whether the set is `1..=n`.
    dense: bool,
    /// [`StampSet::first_gap`] of the set.
    first_gap: Rev,
    /// The processor's `pext`, where it is fast ([`StampSet::images`]
    /// then maps a word at a time).
    pext: Option<Pext>,
}

impl Ranks<'_> {
    /// Whether every stamp of the set is its own image (the set is
    /// `1..=n`, [`StampSet::is_dense`]).
    pub fn is_identity(&self) -> bool {
        self.dense
    }

    /// The image of `r`: one more than the number of stamps of the set
    /// smaller than `r` (for a stamp of the set, its rank from 1; the map is
    /// non-decreasing everywhere and strictly increasing on the set).
    #[inline]
    pub fn map(&self, r: Rev) -> Rev {
        let w = r as usize / 64;
        match self.set.words.get(w) {
            Some(bits) => self.below[w] + (bits & ((1u64 << (r % 64)) - 1)).count_ones() + 1,
            None => self.set.len() as Rev + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(stamps: &[Rev]) -> StampSet {
        let mut s = StampSet::new();
        stamps.iter().for_each(|r| s.insert(*r));
        s
    }

    #[test]
    fn has_below_is_some_stamp_below() {
        let cases: [&[Rev]; 6] = [&[], &[1], &[0, 63, 64, 255], &[256], &[3, 300, 1000, 5], &[255, 256, 70, 64]];
        for stamps in cases {
            let s = set(stamps);
            for r in [0, 1, 2, 3, 4, 6, 63, 64, 65, 70, 71, 128, 255, 256, 257, 300, 301, 1000, 1001, 5000] {
                assert_eq!(s.has_below(r), stamps.iter().any(|x| *x < r), "{stamps:?} below {r}");
            }
        }
    }

    #[test]
    fn gathering_equals_inserting_one_by_one() {
        let cases: [&[Rev]; 6] = [&[], &[1], &[0, 63, 64, 255], &[256], &[3, 300, 1000, 5], &[255, 256, 70, 64]];
        for stamps in cases {
            let mut g = Gather::new();
            stamps.iter().for_each(|r| g.insert(*r));
            assert_eq!(g.finish(), set(stamps), "{stamps:?}");
            // Unions of small and large sets, and of nothing.
            let mut g = Gather::new();
            g.union(&set(stamps));
            g.union(&set(&[2, 700]));
            g.union(&StampSet::new());
            let mut all = stamps.to_vec();
            all.extend([2, 700]);
            assert_eq!(g.finish(), set(&all), "{stamps:?} with 2 and 700");
        }
    }

    #[test]
    fn ranks_match_positions_in_sorted_order() {
        let stamps = [3, 7, 64, 65, 200, 1000];
        let s = set(&stamps);
        let ranks = s.ranks();
        for (k, r) in stamps.iter().enumerate() {
            assert_eq!(ranks.map(*r), k as Rev + 1, "stamp {r}");
        }
        let mut seen = Vec::new();
        s.each(&mut |r| seen.push(r));
        assert_eq!(seen, stamps);
        assert_eq!(s.len(), stamps.len());
    }

    #[test]
    fn ranks_never_decrease_off_the_set() {
        let s = set(&[2, 5, 9]);
        let ranks = s.ranks();
        let images: Vec<Rev> = (0..200).map(|r| ranks.map(r)).collect();
        assert!(images.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!((ranks.map(0), ranks.map(6), ranks.map(70)), (1, 3, 4));
    }

    /// Ranks fix exactly the stamps below the set's first gap (from 1 up),
    /// as `fixes_below` says, across word boundaries; `highest` is the
    /// largest stamp.
    #[test]
    fn ranks_fix_the_stamps_below_the_first_gap() {
        let all: Vec<Vec<Rev>> = vec![
            vec![],
            vec![1, 2, 3],
            vec![2, 3],
            vec![1, 2, 4, 5],
            vec![0, 1, 2, 7],
            vec![5, 300],
            (1..64).collect(),
            (1..=130).filter(|&r| r != 128).collect(),
        ];
        for stamps in &all {
            let s = set(stamps);
            let ranks = s.ranks();
            let gap = if stamps.contains(&0) { 0 } else { (1..).find(|r| !stamps.contains(r)).unwrap_or(1) };
            assert_eq!(StampMap::fixes_below(&ranks), gap, "{stamps:?}");
            for &r in stamps {
                assert_eq!(ranks.map(r) == r, r < gap, "{stamps:?}: stamp {r}");
            }
            assert_eq!(s.highest(), stamps.iter().copied().max(), "{stamps:?}");
        }
    }

    /// `images` is the set of `map` images, on sets inside, overlapping
    /// and outside the ranked set, across word boundaries.
    #[test]
    fn images_are_the_mapped_stamps() {
        let ranked = set(&[1, 3, 5, 64, 70, 130, 200, 300]);
        let ranks = ranked.ranks();
        for stamps in [&[][..], &[3], &[1, 5, 300], &[64, 70, 130], &[2, 4, 65, 199, 1000], &[400, 700], &[300, 301]] {
            let s = set(stamps);
            let expected = set(&stamps.iter().map(|r| ranks.map(*r)).collect::<Vec<_>>());
            assert_eq!(s.images(&ranks), expected, "{stamps:?}");
        }
    }

    /// A hasher that records what it is fed.
    #[derive(Default)]
    struct Words(Vec<u64>);

    impl std::hash::Hasher for Words {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.extend(bytes.iter().map(|b| *b as u64 | 1 << 63));
        }
        fn write_u64(&mut self, w: u64) {
            self.0.push(w);
        }
        fn write_usize(&mut self, n: usize) {
            self.0.extend([u64::MAX, n as u64]);
        }
    }

    proptest::proptest! {
        /// Word-at-a-time images (`pext`, where the processor has it) equal
        /// stamp-by-stamp ones, on subsets of ranked sets of up to 700
        /// stamps spread over up to 32 words (ranks crossing word
        /// boundaries; images longer than the eight words hashed on the
        /// stack), and `images` and `hash_images` agree with both whichever
        /// path they take.
        #[test]
        fn images_by_word_equal_images_by_stamp(
            ranked in proptest::collection::vec(0u32..2000, 0..700),
            pick in proptest::collection::vec(proptest::bool::ANY, 700),
        ) {
            let set_all = set(&ranked);
            let subset: Vec<Rev> = ranked.iter().zip(&pick).filter(|(_, p)| **p).map(|(r, _)| *r).collect();
            let sub = set(&subset);
            let mut ranks = set_all.ranks();
            let expected = set(&subset.iter().map(|r| ranks.map(*r)).collect::<Vec<_>>());
            proptest::prop_assert_eq!(&sub.images(&ranks), &expected);
            ranks.pext = None;
            proptest::prop_assert_eq!(&sub.images(&ranks), &expected);
            if let Some(pext) = Pext::detect() {
                let mut words = vec![0; sub.image_words(&ranks).unwrap_or(0)];
                sub.images_by_word(pext, &ranks, &mut words);
                proptest::prop_assert_eq!(&words[..], &expected.words[..]);
            }
            // Hashing the images on the stack feeds what hashing the set does.
            for p in [Pext::detect(), None] {
                ranks.pext = p;
                let (mut a, mut b) = (Words::default(), Words::default());
                sub.hash_images(&ranks, &mut a);
                expected.hash_words(&mut b);
                proptest::prop_assert_eq!(a.0, b.0);
            }
        }
    }

    #[test]
    fn density() {
        assert!(StampSet::new().is_dense());
        assert!(set(&[1, 2, 3]).is_dense());
        assert!(set(&(1..=130).collect::<Vec<_>>()).is_dense());
        assert!(!set(&[1, 3]).is_dense());
        assert!(!set(&[0, 1]).is_dense());
        assert!(!set(&[2]).is_dense());
        assert!(!set(&[1, 2, 70]).is_dense());
    }

    #[test]
    fn union_is_the_set_of_both() {
        let mut a = set(&[1, 300]);
        a.union(&set(&[2, 64]));
        assert_eq!(a, set(&[1, 2, 64, 300]));
        let mut b = set(&[2, 64]);
        b.union(&set(&[1, 300]));
        assert_eq!(a, b);
    }
}
