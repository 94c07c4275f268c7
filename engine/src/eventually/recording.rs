//! What an exhaustive search records for the `eventually` pass, and how.
//!
//! BFS and DFS both expand every state within the depth bound; for each
//! state they expand in which some `eventually` predicate fails they record
//! the predicates that hold and the edges ([`super::Recorder`]), as the pass
//! on [`Reduction`]'s states would find them. Both canonicalise a recorded
//! state's successors as the pass does ([`Recording::canonicalize`]), so the
//! records are the pass's own edges.

use super::{Recorder, Reduction};
use crate::fingerprint::Fingerprint;
use crate::property::{Kind, Property};
use crate::{GroupMap, Model, Options, Strategy};

/// What a search records for the `eventually` pass: the properties, their
/// predicates, the states the pass runs on.
pub(crate) struct Recording {
    /// The `eventually` properties, by index in the model's list.
    props: Vec<usize>,
    /// All their predicates holding.
    all: u64,
    /// The pass's states: canonical forms whose renamings are recorded, or not.
    reduction: Reduction,
}

impl Recording {
    /// What to record for a pass after `opts`'s search of `model`, if it
    /// can use records: BFS or DFS from the start (records of a resumed run
    /// lack its first part), 1 to 64 `eventually` properties, the pass on
    /// the states the search explores, recording allowed.
    pub(crate) fn of<M: Model>(model: &M, props: &[Property<M>], opts: &Options) -> Option<Recording> {
        let live: Vec<usize> = (0..props.len()).filter(|&i| props[i].kind == Kind::Eventually).collect();
        let reduction = Reduction::of(model, opts.symmetry);
        let fits = opts.record_for_pass
            && matches!(opts.strategy, Strategy::Bfs | Strategy::Dfs)
            && opts.resume.is_none()
            && (1..=64).contains(&live.len())
            && (reduction != Reduction::None) == opts.symmetry;
        fits.then_some(Recording { all: super::all_predicates(live.len()), props: live, reduction })
    }

    /// The predicates that hold in `s` (bit i: the i-th `eventually` property).
    fn holds<M: Model>(&self, model: &M, props: &[Property<M>], s: &M::State) -> u64 {
        super::predicates_holding(model, self.props.iter().map(|&p| &props[p]), s)
    }

    /// True if some predicate fails in `s`: the pass may meet it.
    pub(crate) fn fails_in<M: Model>(&self, model: &M, props: &[Property<M>], s: &M::State) -> bool {
        self.holds(model, props, s) != self.all
    }

    /// Begins `rec`'s record of the expansion of `s` (fingerprint `fp`) if
    /// some predicate fails there; true if it did (the caller then records
    /// each edge).
    pub(crate) fn begin<M: Model>(
        &self,
        model: &M,
        props: &[Property<M>],
        rec: &mut Recorder,
        fp: Fingerprint,
        s: &M::State,
    ) -> bool {
        let h = self.holds(model, props, s);
        if h == self.all {
            return false;
        }
        rec.begin(fp, h);
        true
    }

    /// Puts a successor of a state being expanded in the canonical form the
    /// search fingerprints: that of the pass's states if the expansion is
    /// recorded (`recorded` is what records it; under renaming, `map` is set
    /// to the renaming of the groups), the search's otherwise (with
    /// `symmetry`). Both forms are the same state: only whether the
    /// renaming is reported differs.
    pub(crate) fn canonicalize<M: Model>(
        recorded: Option<&Self>,
        symmetry: bool,
        model: &M,
        s: &mut M::State,
        map: &mut GroupMap,
    ) {
        match recorded {
            Some(r) if r.reduction == Reduction::Renaming => model.canonicalize_groups(s, map),
            _ if symmetry => model.canonicalize(s),
            _ => {}
        }
    }
}
