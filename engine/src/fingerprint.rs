//! 64-bit xxh3 fingerprints of states.
//!
//! xxh3 is a specified algorithm: the same bytes give the same fingerprint on
//! every platform and every version of `xxhash-rust`, so fingerprints stored in
//! files stay valid.

use std::hash::{Hash, Hasher};

/// A state fingerprint. Never 0 inside the engine: 0 marks an empty slot.
pub type Fingerprint = u64;

/// Fingerprint of any `Hash` value through a streaming xxh3.
///
/// Stable for a fixed `Hash` implementation. Note that `std`'s `Hash` for
/// `usize` and slice lengths writes native-width integers, so fingerprints of
/// such states differ between 32- and 64-bit targets.
pub fn fingerprint_of<T: Hash + ?Sized>(value: &T) -> Fingerprint {
    let mut h = Collect { buf: [0; COLLECT], len: 0, spill: None };
    value.hash(&mut h);
    h.finish()
}

/// [`fingerprint_of`] (the same function of the same bytes) for values that
/// hash more than 256 bytes, such as whole states with histories: their
/// bytes are gathered in a per-thread buffer ([`fingerprint_filled`]) and
/// hashed at once, instead of spilling into a streaming xxh3 fed a few bytes
/// at a time.
pub fn fingerprint_of_large<T: Hash + ?Sized>(value: &T) -> Fingerprint {
    fingerprint_filled(|bytes| value.hash(&mut Append(bytes)))
}

/// The xxh3 fingerprint ([`fingerprint_bytes`]) of what `fill` appends to
/// an empty buffer. Buffers come from a per-thread pool and go back to it
/// with their capacity, so once a thread has warmed up no call allocates,
/// nested calls included (a `Hash` implementation that fingerprints a part
/// while a whole state is being fingerprinted gets a buffer of its own).
pub fn fingerprint_filled(fill: impl FnOnce(&mut Vec<u8>)) -> Fingerprint {
    thread_local! {
        static POOL: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut bytes = POOL.with_borrow_mut(Vec::pop).unwrap_or_default();
    bytes.clear();
    fill(&mut bytes);
    let fp = fingerprint_bytes(&bytes);
    POOL.with_borrow_mut(|pool| pool.push(bytes));
    fp
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

/// Fingerprint of the bytes `feed` writes into the hasher it is given (the
/// same streaming xxh3 as [`fingerprint_of`]): for values hashed up to some
/// equivalence, which no `Hash` implementation can express.
pub fn fingerprint_with(feed: impl FnOnce(&mut dyn Hasher)) -> Fingerprint {
    let mut h = Collect { buf: [0; COLLECT], len: 0, spill: None };
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
    buf: [u8; COLLECT],
    len: usize,
    spill: Option<Box<xxhash_rust::xxh3::Xxh3Default>>,
}

impl Collect {
    /// `write` for a fixed-size integer: the copy of a constant length inlines
    /// instead of calling `memmove` (18% of two-phase commit's time before).
    #[inline(always)]
    fn fixed<const N: usize>(&mut self, bytes: &[u8; N]) {
        if self.spill.is_none() && self.len + N <= COLLECT {
            self.buf[self.len..self.len + N].copy_from_slice(bytes);
            self.len += N;
        } else {
            self.write(bytes);
        }
    }
}

impl Hasher for Collect {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        if let Some(s) = &mut self.spill {
            s.update(bytes);
        } else if self.len + bytes.len() <= COLLECT {
            self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            let mut s = Box::new(xxhash_rust::xxh3::Xxh3Default::new());
            s.update(&self.buf[..self.len]);
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
            None => xxhash_rust::xxh3::xxh3_64(&self.buf[..self.len]),
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
/// ([`Gathered::put`]), gathered in an `N`-byte buffer on the stack and on
/// the heap once longer: a digest of a few fixed-size values (an object's
/// stamps, a list's digests) with neither a hasher call per value nor an
/// allocation.
pub fn fingerprint_gathered<const N: usize>(seed: u64, fill: impl FnOnce(&mut Gathered<N>)) -> Fingerprint {
    let mut g = Gathered { stack: [0; N], len: 0, heap: Vec::new() };
    fill(&mut g);
    let bytes = if g.heap.is_empty() { &g.stack[..g.len] } else { &g.heap[..] };
    fingerprint_bytes_seeded(bytes, seed)
}

/// The bytes being gathered for [`fingerprint_gathered`].
pub struct Gathered<const N: usize> {
    stack: [u8; N],
    len: usize,
    /// Every byte put, once they outgrew `stack` (empty until then).
    heap: Vec<u8>,
}

impl<const N: usize> Gathered<N> {
    /// Appends `bytes`.
    #[inline]
    pub fn put(&mut self, bytes: &[u8]) {
        if self.heap.is_empty() {
            if let Some(at) = self.stack.get_mut(self.len..self.len + bytes.len()) {
                at.copy_from_slice(bytes);
                self.len += bytes.len();
                return;
            }
            self.heap.extend_from_slice(&self.stack[..self.len]);
        }
        self.heap.extend_from_slice(bytes);
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
            let mut h = Collect { buf: [0; COLLECT], len: 0, spill: None };
            for part in bytes.chunks(100) {
                h.write(part);
            }
            assert_eq!(h.finish(), fingerprint_bytes(&bytes), "{n} bytes");
        }
        // Values: the same fingerprint through either function, nested too.
        for n in [0u64, 10, 300, 1000] {
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
