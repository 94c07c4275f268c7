//! Short, stable names from hashes (pod-template hashes, revision names).

/// xxh3 of `value`'s `Hash` bytes, low 32 bits in decimal, each digit
/// mapped into Kubernetes' `SafeEncodeString` alphabet (no vowels, so no
/// words). Stable across runs and versions (xxh3 is specified).
pub fn safe_hash<T: std::hash::Hash + ?Sized>(value: &T) -> String {
    const ALPHABET: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";
    let fp = krepis_engine::fingerprint::fingerprint_of(value);
    (fp as u32).to_string().bytes().map(|c| ALPHABET[usize::from(c) % 27] as char).collect()
}
