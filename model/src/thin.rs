//! Lists in one allocation that holds their length (`triomphe::ThinArc`):
//! an 8-byte pointer in the structure that holds them, shared by cloning.

use triomphe::ThinArc;

/// An iterator that yields exactly `len` items (checked when the list is
/// built): what `ThinArc` needs to allocate a list at once.
struct Exact<I> {
    it: I,
    len: usize,
}

impl<I: Iterator> Iterator for Exact<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        let x = self.it.next()?;
        self.len = self.len.saturating_sub(1);
        Some(x)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<I: Iterator> ExactSizeIterator for Exact<I> {}

/// The list of the `len` items `it` yields, with `header` beside its
/// length, in one allocation. `ThinArc` panics if `it` yields a different
/// number: callers pass the length of what they iterate over.
pub(crate) fn list_with<H, T>(header: H, it: impl Iterator<Item = T>, len: usize) -> ThinArc<H, T> {
    ThinArc::from_header_and_iter(header, Exact { it, len })
}
