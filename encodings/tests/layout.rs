//! Bit-packed records against the obvious model (a vector of values): any
//! layout, any sequence of writes, every field reads back what was last
//! written to it, and equal values make equal words.

use krepis_encodings::layout::{Field, LayoutBuilder};
use proptest::prelude::*;

/// A bound of a random bit length (0 to 64 bits), so layouts mix flags,
/// small fields, fields that fill most of a word and whole words.
fn bound() -> impl Strategy<Value = u64> {
    (0u32..=64, any::<u64>()).prop_map(|(bits, x)| if bits == 0 { 0 } else { x >> (64 - bits) | 1 << (bits - 1) })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_field_reads_back_its_last_write(
        bounds in prop::collection::vec(bound(), 1..40),
        writes in prop::collection::vec((any::<prop::sample::Index>(), any::<u64>(), any::<bool>()), 0..200),
    ) {
        let mut b = LayoutBuilder::new();
        let fields: Vec<Field> = bounds.iter().enumerate().map(|(i, &m)| b.field(&format!("f{i}"), m)).collect();
        let layout = b.build();
        prop_assert!(layout.words() * 64 >= layout.bits() as usize);
        prop_assert!(layout.words() <= fields.len());
        let mut record = layout.zeroed();
        let mut want = vec![0u64; fields.len()];
        for (at, x, in_bounds) in writes {
            let i = at.index(fields.len());
            let f = fields[i];
            // Half the writes in bounds, the rest anything (most refused).
            let v = if in_bounds { x.checked_rem(f.max().wrapping_add(1)).unwrap_or(x) } else { x };
            match f.set(&mut record, v) {
                Ok(()) => {
                    prop_assert!(v <= f.max());
                    want[i] = v;
                }
                Err(e) => prop_assert!(v > f.max() && e.value == v && e.max == f.max()),
            }
            for (j, g) in fields.iter().enumerate() {
                prop_assert_eq!(g.get(&record), want[j], "field {} after writing field {}", j, i);
            }
        }
        // The same values written in another order give the same words.
        let mut again = layout.zeroed();
        for (j, g) in fields.iter().enumerate().rev() {
            g.put(&mut again, want[j]);
        }
        prop_assert_eq!(again, record);
    }
}
