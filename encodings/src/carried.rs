//! A hasher for keys that already are hashes (fingerprints, or values
//! carrying their xxh3 digest): the table uses the 64 bits the key hands
//! it, instead of hashing them again.

use std::hash::{BuildHasher, Hasher};

/// Hashes a key to the last `u64` it writes: for keys that write one
/// well-spread `u64` (a fingerprint, a carried digest), that value itself.
/// A key that writes bytes instead still gets a hash of them (xxh3), so no
/// key collapses to a constant, but such keys lose the point of it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Carried;

/// The hasher of [`Carried`].
#[derive(Default)]
pub struct CarriedHasher(u64);

impl Hasher for CarriedHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for Carried {
    type Hasher = CarriedHasher;
    fn build_hasher(&self) -> CarriedHasher {
        CarriedHasher(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_u64_key_hashes_to_itself_and_bytes_still_spread() {
        for v in [0u64, 1, 0xDEAD_BEEF_0123_4567, u64::MAX] {
            assert_eq!(Carried.hash_one(v), v);
        }
        assert_ne!(Carried.hash_one("a"), Carried.hash_one("b"));
    }
}
