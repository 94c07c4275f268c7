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

/// The properties of `all` whose names `names` lists, in `all`'s order
/// (`None`: every one). A name no property has is an error naming the ones
/// there are.
pub fn select<M: crate::Model>(all: Vec<Property<M>>, names: Option<&[String]>) -> Result<Vec<Property<M>>, String> {
    let Some(names) = names else {
        return Ok(all);
    };
    if let Some(unknown) = names.iter().find(|n| !all.iter().any(|p| &p.name == *n)) {
        let known: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        return Err(format!("unknown property '{unknown}'; this model has: {}", known.join(", ")));
    }
    Ok(all.into_iter().filter(|p| names.contains(&p.name)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Philosophers;
    use crate::{check, check_reference, Model, Options, Status};

    fn names<M: crate::Model>(props: &[Property<M>]) -> Vec<&str> {
        props.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn properties_are_chosen_by_name_in_the_models_order() {
        let m = Philosophers::new(3);
        assert_eq!(select(m.properties(), None).unwrap().len(), 4);
        let chosen = ["philosopher-0-eats".to_string(), "all-hungry".to_string()];
        assert_eq!(names(&select(m.properties(), Some(&chosen)).unwrap()), ["all-hungry", "philosopher-0-eats"]);
        let e = select(m.properties(), Some(&["eats".to_string()])).map(|_| ()).unwrap_err();
        assert!(e.contains("'eats'") && e.contains("neighbours-never-eat-together, all-hungry"), "{e}");
    }

    /// The chosen properties get the verdicts a run of all of them gives,
    /// from both checkers; without an `eventually` one there is no pass; a
    /// name the model lacks is an error in the report, with no verdict.
    #[test]
    fn a_run_of_chosen_properties_decides_them_as_a_whole_run_does() {
        let m = Philosophers::new(3);
        let opts = Options::default().threads(2).keep_going(true);
        let whole = check(&m, &opts).report;
        for chosen in [&["all-hungry", "neighbours-never-eat-together"][..], &["philosopher-0-eats"]] {
            let o = opts.clone().properties(chosen.iter().map(|s| s.to_string()).collect());
            for r in [check(&m, &o).report, check_reference(&m, &o).report] {
                assert_eq!(r.properties.len(), chosen.len());
                for p in &r.properties {
                    let w = whole.properties.iter().find(|w| w.name == p.name).expect("a chosen property");
                    assert_eq!((p.kind, p.status), (w.kind, w.status), "{}", p.name);
                }
                assert_eq!(r.error, None);
            }
            let r = check(&m, &o).report;
            let pass = chosen.contains(&"philosopher-0-eats");
            assert_eq!((r.liveness_states > 0, r.liveness_s > 0.0), (pass, pass), "{chosen:?}");
            assert_eq!(r.to_text().contains("eventually pass"), pass, "{chosen:?}");
        }
        assert_eq!(whole.properties.iter().filter(|p| p.status == Status::Violated).count(), 1);
        let r = check(&m, &opts.clone().properties(vec!["nobody".into()])).report;
        assert!(r.properties.is_empty() && r.error.as_deref().is_some_and(|e| e.contains("'nobody'")), "{r:?}");
        let r = check_reference(&m, &opts.properties(vec!["nobody".into()])).report;
        assert!(r.error.as_deref().is_some_and(|e| e.contains("'nobody'")));
    }
}
