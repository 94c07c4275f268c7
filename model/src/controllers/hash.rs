//! Short, stable names from hashes (pod-template hashes, revision names).

/// xxh3 of `value`'s `Hash` bytes, low 32 bits in decimal, each digit
/// mapped into Kubernetes' `SafeEncodeString` alphabet (no vowels, so no
/// words). Stable across runs and versions (xxh3 is specified).
pub fn safe_hash<T: std::hash::Hash + ?Sized>(value: &T) -> SafeHash {
    let (digits, start) = crate::meta::decimal(u64::from(krepis_engine::fingerprint::fingerprint_of(value) as u32));
    let mut text = [0u8; 10];
    for (t, d) in text.iter_mut().zip(&digits[start..]) {
        *t = ALPHABET[usize::from(*d) % 27];
    }
    SafeHash { text, len: (digits.len() - start) as u8 }
}

/// The digits' images: Kubernetes' `SafeEncodeString` alphabet (no vowels).
const ALPHABET: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";

/// A [`safe_hash`]: up to 10 ASCII letters and digits, held inline (it is
/// built on every Deployment step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SafeHash {
    text: [u8; 10],
    len: u8,
}

impl SafeHash {
    /// The hash as text.
    pub fn as_str(&self) -> &str {
        // Letters and digits of `ALPHABET` only: ASCII.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Display for SafeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_the_decimal_digits_mapped_into_the_safe_alphabet() {
        for v in 0u64..2000 {
            // The definition, spelt out with strings.
            let n = krepis_engine::fingerprint::fingerprint_of(&v) as u32;
            let want: String = n.to_string().bytes().map(|c| ALPHABET[usize::from(c) % 27] as char).collect();
            let got = safe_hash(&v);
            assert_eq!(got.as_str(), want, "{v}");
            assert_eq!(got.to_string(), want, "{v}");
        }
    }
}
