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
    let mut h = xxhash_rust::xxh3::Xxh3Default::new();
    value.hash(&mut h);
    h.finish()
}

/// Fingerprint of raw bytes (one-shot xxh3, the fast path for packed states).
pub fn fingerprint_bytes(bytes: &[u8]) -> Fingerprint {
    xxhash_rust::xxh3::xxh3_64(bytes)
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
