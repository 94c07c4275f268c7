//! Each thread's cache of values it interned recently, in front of a table
//! every thread shares: a value this thread met lately is found without
//! touching the shared table (its lock is a word all cores would write).

use std::cell::RefCell;
use std::thread::LocalKey;

/// A cache's slots, direct-mapped by hash: one interned (`'static`) value
/// each, replaced by the next value whose hash picks the slot.
pub(crate) type Slots<T, const N: usize> = RefCell<[Option<&'static T>; N]>;

/// The value in `cache`'s slot for `hash` if `is` accepts it; otherwise
/// the value `make` gives (from the shared table), which then takes the
/// slot. `is` must accept exactly the value `make` would give.
pub(crate) fn recent<T: 'static, const N: usize>(
    cache: &'static LocalKey<Slots<T, N>>,
    hash: u64,
    is: impl Fn(&T) -> bool,
    make: impl FnOnce() -> &'static T,
) -> &'static T {
    let slot = (hash.wrapping_mul(0xff51_afd7_ed55_8ccd) >> 32) as usize % N;
    if let Some(v) = cache.with_borrow(|r| r[slot]).filter(|v| is(v)) {
        return v;
    }
    let v = make();
    cache.with_borrow_mut(|r| r[slot] = Some(v));
    v
}
