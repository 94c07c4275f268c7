//! The processor's parallel bit extract (`pext`, x86-64 BMI2), behind a
//! value that proves it is there and fast.
//!
//! `pext(x, mask)` packs the bits of `x` at the positions set in `mask` into
//! the low bits of the result, in order. It is one instruction where the
//! processor has BMI2; a loop over the mask's bits elsewhere. The model
//! uses it to map a set of stamps to their ranks among a larger set a word
//! at a time (`krepis_model::stamp_set`). It is used only where it is fast:
//! AMD processors before Zen 3 (family 19h) run `pext` in microcode, at up
//! to hundreds of cycles per call, slower than the loops it would replace,
//! so [`Pext::detect`] says `None` there and callers keep their own loops.
//!
//! The one `unsafe` call is exercised under Miri by `scripts/miri`, with
//! BMI2 off (no [`Pext`] can be had) and turned on for Miri (Miri cannot
//! run `cpuid`, so under it BMI2 alone decides).

/// Proof that this processor has a fast `pext`: only [`Pext::detect`]
/// makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pext(());

impl Pext {
    /// `Some` where the processor has BMI2 and is not an AMD processor
    /// before Zen 3 (see the module's documentation). Checked once per
    /// process; later calls read the answer.
    pub fn detect() -> Option<Pext> {
        static FAST: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        FAST.get_or_init(fast).then_some(Pext(()))
    }

    /// The bits of `x` at the positions set in `mask`, packed into the low
    /// bits in order: bit `k` of the result is the bit of `x` at the
    /// `k`-th lowest set bit of `mask`. Equal to [`extract_portable`].
    #[inline]
    pub fn extract(self, x: u64, mask: u64) -> u64 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: a `Pext` exists only where `detect` found BMI2, the
            // one requirement of `extract_bmi2`.
            unsafe { extract_bmi2(x, mask) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            extract_portable(x, mask)
        }
    }
}

/// [`Pext::extract`] without the instruction: one step per set bit of
/// `mask`.
pub fn extract_portable(x: u64, mask: u64) -> u64 {
    let (mut out, mut k, mut rest) = (0, 0, mask);
    while rest != 0 {
        let low = rest & rest.wrapping_neg();
        if x & low != 0 {
            out |= 1 << k;
        }
        k += 1;
        rest &= rest - 1;
    }
    out
}

/// # Safety
/// The processor must have BMI2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
unsafe fn extract_bmi2(x: u64, mask: u64) -> u64 {
    std::arch::x86_64::_pext_u64(x, mask)
}

/// Whether the processor has BMI2 and a fast `pext`.
#[cfg(target_arch = "x86_64")]
fn fast() -> bool {
    if !std::arch::is_x86_feature_detected!("bmi2") {
        return false;
    }
    if cfg!(miri) {
        return true;
    }
    // `__cpuid` is safe from Rust 1.87 on; this workspace builds on 1.85.
    #[allow(unused_unsafe)]
    // SAFETY: every x86-64 processor has `cpuid`, with leaves 0 and 1.
    let (vendor, signature) = unsafe {
        let v = std::arch::x86_64::__cpuid(0);
        (v, std::arch::x86_64::__cpuid(1).eax)
    };
    // "AuthenticAMD" in ebx, edx, ecx.
    let amd = (vendor.ebx, vendor.edx, vendor.ecx) == (0x6874_7541, 0x6974_6e65, 0x444d_4163);
    // The family: the base family, plus the extended one when the base is 0xF.
    let base = (signature >> 8) & 0xF;
    let family = if base == 0xF { base + ((signature >> 20) & 0xFF) } else { base };
    !amd || family >= 0x19
}

#[cfg(not(target_arch = "x86_64"))]
fn fast() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_extract_packs_the_masked_bits_in_order() {
        assert_eq!(extract_portable(0b1011_0110, 0b1111_0000), 0b1011);
        assert_eq!(extract_portable(0b1011_0110, 0b0101_0101), 0b0110);
        assert_eq!(extract_portable(!0, 0), 0);
        assert_eq!(extract_portable(!0, !0), !0);
        assert_eq!(extract_portable(1 << 63, 1 << 63 | 1), 0b10);
    }

    proptest::proptest! {
        /// Where the processor offers it, the instruction agrees with the
        /// loop (and `detect` answers the same each time).
        #[test]
        fn extract_equals_the_portable_loop(x in proptest::prelude::any::<u64>(), mask in proptest::prelude::any::<u64>()) {
            proptest::prop_assert_eq!(Pext::detect(), Pext::detect());
            if let Some(p) = Pext::detect() {
                proptest::prop_assert_eq!(p.extract(x, mask), extract_portable(x, mask));
            }
        }
    }
}
