//! Compact state for krepis: interned strings ([`Sym`]) and lists of
//! string pairs ([`Pairs`]: label maps), and sharing sessions ([`share`])
//! that serialise values sharing parts with each part written once (more
//! to come: bit-packed records, arenas).

pub mod intern;
pub mod pairs;
pub mod share;

pub use intern::Sym;
pub use pairs::Pairs;
