//! Compact state for krepis: interned strings, and sharing sessions that
//! serialise values sharing parts with each part written once (more to
//! come: bit-packed records, arenas, canonical forms under permutation).

pub mod intern;
pub mod pairs;
pub mod share;

pub use intern::Sym;
pub use pairs::Pairs;
