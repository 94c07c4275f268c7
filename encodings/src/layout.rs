//! Bit-packed records of fixed size: a [`Layout`] computed at start-up from
//! the largest value each field can hold, and [`Field`] handles that read
//! and write one field of a record (a `[u64]` of [`Layout::words`] words).
//!
//! A model whose state is a bounded set of small values (phases, counters,
//! flags, indices) declares each field once with its bound, in a
//! [`LayoutBuilder`]; the layout gives each field the fewest bits that hold
//! its bound and places fields in words in the order declared, a field
//! never straddling two words. A state is then `W` words, copied, compared
//! and hashed as such (`xxh3` of `W * 8` bytes is the whole fingerprint),
//! and every access goes through the one pair of methods here rather than
//! shifts and masks written per field.
//!
//! Guarantees: [`Field::get`] returns what the last [`Field::set`] /
//! [`Field::put`] of that field stored, whatever was written to other
//! fields; a value above the field's bound is refused ([`Overflow`]) or,
//! with `put`, panics: it never wraps into a wrong state. Two records hold
//! the same field values iff their words are equal, provided both started
//! from [`Layout::zeroed`] (bits outside every field stay 0).

use std::fmt;

/// One field of a [`Layout`]: where it is and how large a value it holds.
/// Copy it into the model once; it reads and writes records of that layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    word: u32,
    shift: u8,
    width: u8,
    max: u64,
    /// The field's bits, in place.
    mask: u64,
}

/// A value too large for its field ([`Field::set`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow {
    /// The value refused.
    pub value: u64,
    /// The largest value the field holds.
    pub max: u64,
}

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} does not fit a field that holds at most {}", self.value, self.max)
    }
}

impl std::error::Error for Overflow {}

impl Field {
    /// The field's value in `record` (a record of its layout).
    #[inline]
    pub fn get(self, record: &[u64]) -> u64 {
        (record[self.word as usize] & self.mask) >> self.shift
    }

    /// Stores `value` in the field of `record`; refused (record unchanged)
    /// if it exceeds the field's bound.
    #[inline]
    pub fn set(self, record: &mut [u64], value: u64) -> Result<(), Overflow> {
        if value > self.max {
            return Err(Overflow { value, max: self.max });
        }
        let w = &mut record[self.word as usize];
        *w = (*w & !self.mask) | (value << self.shift);
        Ok(())
    }

    /// [`Field::set`] for values the caller knows are in bounds (its own
    /// computations, not input); panics, naming both, if one is not.
    #[inline]
    pub fn put(self, record: &mut [u64], value: u64) {
        if let Err(e) = self.set(record, value) {
            panic!("bit-packed record: {e}");
        }
    }

    /// The largest value the field holds.
    pub fn max(self) -> u64 {
        self.max
    }

    /// Bits the field takes.
    pub fn width(self) -> u32 {
        u32::from(self.width)
    }
}

/// Declares fields, then lays them out ([`LayoutBuilder::build`]).
#[derive(Debug, Default)]
pub struct LayoutBuilder {
    fields: Vec<(String, Field)>,
    /// Words begun, and bits used in the last.
    words: u32,
    used: u32,
}

impl LayoutBuilder {
    /// No fields yet.
    pub fn new() -> Self {
        LayoutBuilder::default()
    }

    /// A field holding `0..=max`, in the fewest bits that do (none for
    /// `max == 0`: a field that is always 0).
    pub fn field(&mut self, name: &str, max: u64) -> Field {
        let width = 64 - max.leading_zeros();
        if self.words == 0 || self.used + width > 64 {
            self.words += 1;
            self.used = 0;
        }
        // A field of no bits sits at bit 0 (its mask is empty).
        let shift = if width == 0 { 0 } else { self.used as u8 };
        let mask = if width == 64 { u64::MAX } else { ((1u64 << width) - 1) << shift };
        let f = Field { word: self.words - 1, shift, width: width as u8, max, mask };
        // A 64-bit field fills its word (its shift is 0).
        self.used += width;
        self.fields.push((name.to_string(), f));
        f
    }

    /// `count` fields holding `0..=max` each, named `name[i]`.
    pub fn fields(&mut self, name: &str, count: usize, max: u64) -> Vec<Field> {
        (0..count).map(|i| self.field(&format!("{name}[{i}]"), max)).collect()
    }

    /// The layout of the fields declared.
    pub fn build(self) -> Layout {
        let words = (self.words as usize).max(1);
        Layout { fields: self.fields, words }
    }
}

/// Where each field of a record is: computed once (at start-up, from the
/// bounds a scenario gives) by a [`LayoutBuilder`].
#[derive(Clone, Debug)]
pub struct Layout {
    fields: Vec<(String, Field)>,
    words: usize,
}

impl Layout {
    /// Words in a record (at least 1).
    pub fn words(&self) -> usize {
        self.words
    }

    /// Bits the fields take, padding at word ends left out.
    pub fn bits(&self) -> u32 {
        self.fields.iter().map(|(_, f)| f.width()).sum()
    }

    /// A record with every field 0.
    pub fn zeroed(&self) -> Vec<u64> {
        vec![0; self.words]
    }

    /// The field called `name`, if declared.
    pub fn field(&self, name: &str) -> Option<Field> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, f)| *f)
    }

    /// Every field with its name, in the order declared.
    pub fn fields(&self) -> impl Iterator<Item = (&str, Field)> + '_ {
        self.fields.iter().map(|(n, f)| (n.as_str(), *f))
    }

    /// Whether a record fits `N` words (for models that keep states as
    /// `[u64; N]`); if not, a message that says how many it needs.
    pub fn fits<const N: usize>(&self) -> Result<(), String> {
        if self.words <= N {
            Ok(())
        } else {
            Err(format!(
                "the state needs {} bits in {} words; at most {N} words are supported",
                self.bits(),
                self.words
            ))
        }
    }
}

impl fmt::Display for Layout {
    /// One line per field: name, word, bits, bound.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} words, {} bits in fields", self.words, self.bits())?;
        for (name, fl) in &self.fields {
            let end = u32::from(fl.shift) + fl.width();
            writeln!(f, "  {name}: word {} bits {}..{end} (max {})", fl.word, fl.shift, fl.max)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_take_the_fewest_bits_and_never_straddle_words() {
        let mut b = LayoutBuilder::new();
        let flag = b.field("flag", 1);
        let phase = b.field("phase", 4);
        let big = b.field("big", u64::MAX);
        let zero = b.field("zero", 0);
        let many = b.fields("n", 20, 7);
        let layout = b.build();
        assert_eq!((flag.width(), phase.width(), big.width(), zero.width()), (1, 3, 64, 0));
        assert_eq!(layout.bits(), 1 + 3 + 64 + 20 * 3);
        // flag+phase in word 0, big alone in word 1, zero and 20 x 3 bits in word 2.
        assert_eq!(layout.words(), 3);
        assert_eq!(layout.field("n[19]"), Some(many[19]));
        assert!(layout.fits::<3>().is_ok());
        assert!(layout.fits::<2>().unwrap_err().contains("3 words"));
        let mut r = layout.zeroed();
        big.put(&mut r, u64::MAX);
        phase.put(&mut r, 4);
        many[19].put(&mut r, 7);
        assert_eq!((flag.get(&r), phase.get(&r), big.get(&r), zero.get(&r), many[18].get(&r)), (0, 4, u64::MAX, 0, 0));
        assert_eq!(phase.set(&mut r, 5), Err(Overflow { value: 5, max: 4 }));
        assert_eq!(zero.set(&mut r, 1), Err(Overflow { value: 1, max: 0 }));
        assert_eq!(phase.get(&r), 4, "a refused value leaves the record as it was");
        assert!(layout.to_string().contains("phase: word 0 bits 1..4 (max 4)"), "{layout}");
        assert_eq!(LayoutBuilder::new().build().words(), 1);
    }

    #[test]
    #[should_panic(expected = "9 does not fit a field that holds at most 7")]
    fn put_refuses_loudly() {
        let mut b = LayoutBuilder::new();
        let f = b.field("f", 7);
        let layout = b.build();
        f.put(&mut layout.zeroed(), 9);
    }
}
