//! Compact state for krepis: interned strings ([`Sym`]), lists of
//! string pairs ([`Pairs`]: label maps) and lists of strings ([`SymList`]:
//! images, finalizers), and sharing sessions ([`share`])
//! that serialise values sharing parts with each part written once, and
//! hash-consing tables ([`HashCons`]) that keep one copy of equal values,
//! a hasher for keys that already are hashes ([`Carried`]), short lists of
//! `Copy` items held inline ([`InlineVec`]), bit-packed
//! records of fixed size laid out at start-up ([`layout`]), and the
//! processor's parallel bit extract where it is fast ([`Pext`]).

pub mod carried;
pub mod hashcons;
pub mod inline_vec;
pub mod intern;
pub mod layout;
pub mod pairs;
pub mod pext;
mod recent;
pub mod share;
mod slice_table;
pub mod sym_list;

pub use carried::Carried;
pub use hashcons::HashCons;
pub use inline_vec::InlineVec;
pub use intern::Sym;
pub use layout::{Field, Layout, LayoutBuilder};
pub use pairs::Pairs;
pub use pext::Pext;
pub use sym_list::SymList;
