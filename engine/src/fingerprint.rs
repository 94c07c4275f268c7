//! 64-bit xxh3 fingerprints of states.
//!
//! xxh3 is a specified algorithm: the same bytes give the same fingerprint on
//! every platform and every version of `xxhash-rust`, so fingerprints stored in
//! files stay valid.

use std::hash::{Hash, Hasher};

use crate::stack_bytes::StackBytes;

/// A state fingerprint. Never 0 inside the engine: 0 marks an empty slot.
pub type Fingerprint = u64;

/// Fingerprint of any `Hash` value through a streaming xxh3.
///
/// Stable for a fixed `Hash` implementation. Note that `std`'s `Hash` for
/// `usize` and slice lengths writes native-width integers, so fingerprints of
/// such states differ between 32- and 64-bit targets.
pub fn fingerprint_of<T: Hash + ?Sized>(value: &T) -> Fingerprint {
    let mut h = Collect { buf: StackBytes::new(), spill: None };
    value.hash(&mut h);
    h.finish()
}

/// [`fingerprint_of`] (the same function of the same bytes) for values that
/// hash more than 256 bytes, such as whole states with histories: their
/// bytes are gathered in a per-thread buffer ([`fingerprint_filled`]) and
/// hashed at once, instead of spilling into a streaming xxh3 fed a few bytes
/// at a time. (Gathering them on the stack up to 1 KiB first, through
/// [`Gathered`], took 1.7% more instructions on a synchronous BFS run on
/// `cluster`, 4.2% more on a causal one.) Small values hash faster through
/// [`fingerprint_of`], which has no thread-local lookup.
pub fn fingerprint_of_large<T: Hash + ?Sized>(value: &T) -> Fingerprint {
    fingerprint_filled(|bytes| value.hash(&mut Append(bytes)))
}

/// A hasher that appends what it is fed to a buffer (hashed afterwards).
struct Append<'a>(&'a mut Vec<u8>);

impl Hasher for Append<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
    fn finish(&self) -> u64 {
        fingerprint_bytes(self.0)
    }
}

thread_local! {
    /// Buffers for hashing values too large for the stack, kept with their
    /// capacity: once a thread has warmed up, no fingerprint allocates.
    static POOL: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty buffer from this thread's pool.
fn pooled() -> Vec<u8> {
    let mut bytes = POOL.with_borrow_mut(Vec::pop).unwrap_or_default();
    bytes.clear();
    bytes
}

/// Gives `bytes` back to this thread's pool.
fn unpool(bytes: Vec<u8>) {
    POOL.with_borrow_mut(|pool| pool.push(bytes));
}

/// The xxh3 fingerprint ([`fingerprint_bytes`]) of what `fill` appends to
/// an empty buffer. Buffers come from a per-thread pool and go back to it
/// with their capacity, so once a thread has warmed up no call allocates,
/// nested calls included (a `Hash` implementation that fingerprints a part
/// while a whole state is being fingerprinted gets a buffer of its own).
pub fn fingerprint_filled(fill: impl FnOnce(&mut Vec<u8>)) -> Fingerprint {
    let mut bytes = pooled();
    fill(&mut bytes);
    let fp = fingerprint_bytes(&bytes);
    unpool(bytes);
    fp
}

/// Fingerprint of the bytes `feed` writes into the hasher it is given (the
/// same streaming xxh3 as [`fingerprint_of`]): for values hashed up to some
/// equivalence, which no `Hash` implementation can express.
pub fn fingerprint_with(feed: impl FnOnce(&mut dyn Hasher)) -> Fingerprint {
    let mut h = Collect { buf: StackBytes::new(), spill: None };
    feed(&mut h);
    h.finish()
}

const COLLECT: usize = 256;

/// Gathers the bytes a `Hash` implementation writes in a stack buffer and
/// hashes them in one shot; past 256 bytes it spills into a streaming xxh3.
/// Both give xxh3 of the same byte sequence, so the result is the same
/// function either way. The one-shot path avoids setting up the streaming
/// state (about 600 bytes) for every state.
struct Collect {
    buf: StackBytes<COLLECT>,
    spill: Option<Box<xxhash_rust::xxh3::Xxh3Default>>,
}

impl Collect {
    /// `write` for a fixed-size integer: the copy of a constant length inlines
    /// instead of calling `memmove` (18% of two-phase commit's time before).
    #[inline(always)]
    fn fixed<const N: usize>(&mut self, bytes: &[u8; N]) {
        if self.spill.is_some() || !self.buf.try_put(bytes) {
            self.write(bytes);
        }
    }
}

impl Hasher for Collect {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        if let Some(s) = &mut self.spill {
            s.update(bytes);
        } else if !self.buf.try_put(bytes) {
            let mut s = Box::new(xxhash_rust::xxh3::Xxh3Default::new());
            s.update(self.buf.as_slice());
            s.update(bytes);
            self.spill = Some(s);
        }
    }

    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.fixed(&[v]);
    }
    #[inline]
    fn write_u16(&mut self, v: u16) {
        self.fixed(&v.to_ne_bytes());
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.fixed(&v.to_ne_bytes());
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.fixed(&v.to_ne_bytes());
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.fixed(&v.to_ne_bytes());
    }
    #[inline]
    fn write_isize(&mut self, v: isize) {
        self.fixed(&v.to_ne_bytes());
    }

    fn finish(&self) -> u64 {
        match &self.spill {
            Some(s) => s.digest(),
            None => xxhash_rust::xxh3::xxh3_64(self.buf.as_slice()),
        }
    }
}

/// Fingerprint of raw bytes (one-shot xxh3, the fast path for packed states).
pub fn fingerprint_bytes(bytes: &[u8]) -> Fingerprint {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// xxh3-64 of `bytes` with `seed` (stable across versions, like
/// [`fingerprint_bytes`]): a digest of a few bytes that extends another
/// digest, the seed, in one call.
pub fn fingerprint_bytes_seeded(bytes: &[u8], seed: u64) -> Fingerprint {
    xxhash_rust::xxh3::xxh3_64_with_seed(bytes, seed)
}

/// [`fingerprint_bytes_seeded`] of the bytes `fill` puts
/// ([`Gathered::put`]), gathered in an `N`-byte buffer on the stack (not
/// zeroed first) and in a per-thread buffer once longer: a digest of a few
/// fixed-size values (an object's stamps, a list's digests) with neither a
/// hasher call per value nor an allocation.
pub fn fingerprint_gathered<const N: usize>(seed: u64, fill: impl FnOnce(&mut Gathered<N>)) -> Fingerprint {
    let mut g = Gathered { stack: StackBytes::new(), heap: None };
    fill(&mut g);
    match g.heap {
        None => fingerprint_bytes_seeded(g.stack.as_slice(), seed),
        Some(heap) => {
            let fp = fingerprint_bytes_seeded(&heap, seed);
            unpool(heap);
            fp
        }
    }
}

/// The bytes being gathered for [`fingerprint_gathered`].
pub struct Gathered<const N: usize> {
    stack: StackBytes<N>,
    /// Every byte put, once they outgrew `stack` (`None` until then).
    heap: Option<Vec<u8>>,
}

impl<const N: usize> Gathered<N> {
    /// Appends `bytes`.
    #[inline(always)]
    pub fn put(&mut self, bytes: &[u8]) {
        match &mut self.heap {
            None if self.stack.try_put(bytes) => {}
            Some(heap) => heap.extend_from_slice(bytes),
            None => self.spill(bytes),
        }
    }

    /// Moves the bytes so far to a pooled buffer and appends `bytes` there.
    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        let mut heap = pooled();
        heap.extend_from_slice(self.stack.as_slice());
        heap.extend_from_slice(bytes);
        self.heap = Some(heap);
    }
}

/// Maps the reserved value 0 to another fixed value, so that 0 can mark empty
/// slots. This merges two fingerprints; the collision bound in reports counts it.
#[inline]
pub(crate) fn nonzero(fp: Fingerprint) -> Fingerprint {
    if fp == 0 {
        0x9E37_79B9_7F4A_7C15
    } else {
        fp
    }
}

/// Birthday bound on the probability that two of `n` distinct states share a
/// 64-bit fingerprint: about n²/2⁶⁵.
pub fn collision_probability(n: u64) -> f64 {
    let n = n as f64;
    (n * n / 2f64.powi(65)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh3_is_the_specified_function() {
        // Published xxh3_64 test vector: the empty input with seed 0.
        assert_eq!(fingerprint_bytes(b""), 0x2D06_8005_38D3_94C2);
    }

    #[test]
    fn gathered_bytes_hash_like_one_shot_xxh3_on_the_stack_or_the_heap() {
        for n in [0usize, 1, 7, 8, 9, 16, 17, 100] {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 13) as u8).collect();
            let fp = fingerprint_gathered::<8>(42, |g| bytes.chunks(3).for_each(|c| g.put(c)));
            assert_eq!(fp, fingerprint_bytes_seeded(&bytes, 42), "{n} bytes");
        }
    }

    #[test]
    fn short_and_spilled_inputs_hash_like_one_shot_xxh3() {
        for n in [0usize, 1, 8, 255, 256, 257, 1000, 4096, 5000] {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
            let mut h = Collect { buf: StackBytes::new(), spill: None };
            for part in bytes.chunks(100) {
                h.write(part);
            }
            assert_eq!(h.finish(), fingerprint_bytes(&bytes), "{n} bytes");
            assert_eq!(fingerprint_bytes_seeded(&bytes, 0), fingerprint_bytes(&bytes), "seed 0 is unseeded");
        }
        // Values: the same fingerprint through either function, nested too.
        // Around 1 KiB (128 values) as well as far past the stack hasher's
        // 256 bytes.
        for n in [0u64, 10, 127, 128, 129, 300, 1000] {
            let v: Vec<u64> = (0..n).collect();
            assert_eq!(fingerprint_of(&v), fingerprint_of_large(&v), "{n} values");
        }
        struct Nested(Vec<u64>);
        impl Hash for Nested {
            fn hash<H: Hasher>(&self, h: &mut H) {
                h.write_u64(fingerprint_of_large(&self.0));
                self.0.hash(h);
            }
        }
        let nested = Nested((0..100).collect());
        assert_eq!(fingerprint_of(&nested), fingerprint_of_large(&nested));
    }

    #[test]
    fn nonzero_never_returns_zero() {
        assert_ne!(nonzero(0), 0);
        assert_eq!(nonzero(5), 5);
    }

    #[test]
    fn collision_bound_grows_quadratically() {
        assert!(collision_probability(1 << 20) < 1e-7);
        assert!(collision_probability(1 << 32) > 0.4);
    }
}
