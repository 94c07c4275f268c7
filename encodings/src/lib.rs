//! Compact state for krepis: interned strings (more to come: bit-packed
//! records, arenas, canonical forms under permutation).

pub mod intern;

pub use intern::Sym;
