//! Named properties: invariants, reachability goals and liveness goals.

use serde::Serialize;

/// The kind of a property, which fixes what a trace for it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Invariant: every reachable state satisfies the predicate. A trace is a
    /// counterexample ending in a state that does not.
    Always,
    /// Reachability: some reachable state satisfies the predicate. A trace is an
    /// example ending in such a state.
    Sometimes,
    /// Liveness: on every maximal path the predicate eventually holds. A path
    /// that reaches a state without successors, or closes a cycle, without the
    /// predicate ever holding is a counterexample (a lasso for a cycle).
    Eventually,
}

impl Kind {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Always => "always",
            Kind::Sometimes => "sometimes",
            Kind::Eventually => "eventually",
        }
    }
}

/// A named predicate over states of model `M`, with its [`Kind`].
pub struct Property<M: crate::Model> {
    /// Name shown in reports; unique within a model.
    pub name: String,
    /// What the predicate must satisfy.
    pub kind: Kind,
    /// The predicate. It must be a pure function of the state.
    pub check: fn(&M, &M::State) -> bool,
}

impl<M: crate::Model> Clone for Property<M> {
    fn clone(&self) -> Self {
        Property { name: self.name.clone(), kind: self.kind, check: self.check }
    }
}

impl<M: crate::Model> Property<M> {
    /// An invariant that must hold in every reachable state.
    pub fn always(name: impl Into<String>, check: fn(&M, &M::State) -> bool) -> Self {
        Property { name: name.into(), kind: Kind::Always, check }
    }
    /// A goal that some reachable state must satisfy.
    pub fn sometimes(name: impl Into<String>, check: fn(&M, &M::State) -> bool) -> Self {
        Property { name: name.into(), kind: Kind::Sometimes, check }
    }
    /// A goal that every maximal path must eventually satisfy.
    pub fn eventually(name: impl Into<String>, check: fn(&M, &M::State) -> bool) -> Self {
        Property { name: name.into(), kind: Kind::Eventually, check }
    }
}
