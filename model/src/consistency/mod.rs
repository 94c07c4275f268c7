//! Consistency models: where a controller's reads come from and where its
//! writes land. One module each, behind [`Consistency`]; no controller knows
//! which one is in force.
//!
//! Every model also prunes its history to what some controller can still read
//! (now, or after a restart the scenario still allows), so that an entry no
//! reader can reach never keeps two otherwise equal states apart. Each
//! module's `prune` says why its pruning is sound.

mod causal;
mod linear;
mod monotonic;
mod optimistic;
mod resettable;
mod synchronous;

use std::borrow::Cow;
use std::fmt::Debug;
use std::hash::Hash;

pub use causal::{Causal, CausalHistory, CausalUnpruned};
pub use monotonic::MonotonicSession;
pub use optimistic::OptimisticLinear;
pub use resettable::ResettableSession;
pub use synchronous::{SyncHistory, Synchronous, SynchronousKeepingSessions};

use crate::api::{Operation, Rejection};
use crate::meta::Rev;
use crate::revision::Revision;
use crate::stamp_set::Gather;
use crate::store::Store;

/// The names of the consistency models, as the CLI spells them.
pub const NAMES: [&str; 5] = ["synchronous", "monotonic-session", "resettable-session", "optimistic-linear", "causal"];

/// Parts of histories that states waiting in a BFS frontier share
/// ([`Consistency::keep`]): one copy of each distinct part per level.
#[derive(Default)]
pub struct Kept {
    /// Linear histories' entries.
    pub(crate) linear: krepis_encodings::HashCons<linear::Entries>,
    /// Causal histories' writes.
    pub(crate) causal: krepis_encodings::HashCons<causal::Nodes>,
}

impl Kept {
    /// Forgets every part (the states that hold them keep them).
    pub fn clear(&self) {
        self.linear.clear();
        self.causal.clear();
    }

    /// How many distinct parts it holds.
    pub fn len(&self) -> usize {
        self.linear.len() + self.causal.len()
    }

    /// Whether it holds no part.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What [`Consistency::pick_read_token`] asks: given how many read points
/// each session has, the `(session, index)` of the one wanted, if any.
pub type PickPoint<'a> = dyn FnMut(&[u64]) -> Option<(usize, u64)> + 'a;

/// A history of cluster states under one consistency model.
pub trait Consistency:
    Clone + Debug + Eq + Hash + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static
{
    /// The CLI name of the model.
    const NAME: &'static str;

    /// Whether states under this model keep their stamps as written and
    /// are hashed up to renumbering (see [`crate::KubeState`]), rather
    /// than renumbered densely after every step. Renumbering copies every
    /// object whose stamps a gap shifts; hashing up to renumbering maps
    /// every stamp of every snapshot to its rank. The first costs more on
    /// short histories (synchronous, monotonic session: half of a
    /// monotonic-session simulation step was renumbering), the second on
    /// long ones (resettable session keeps past states for controllers
    /// without a session: ranking was a third of its step). Default: false.
    const RANKED: bool = false;

    /// Whether [`Consistency::prune`] reads the controllers' sessions. A
    /// model whose pruning does not (synchronous: it keeps the newest
    /// state only) says false, and is given none: gathering them is a walk
    /// over every local state per successor (2% of a synchronous
    /// transition on `cluster`). Default: true.
    const PRUNE_READS_SESSIONS: bool = true;

    /// Whether a controller's read always sees the newest state, so that its
    /// session matters only in whether it is the newest revision (a
    /// controller that has read that has nothing new to read until someone
    /// writes; any older session, like none, lets it read the newest state).
    /// A model that says true has every session older than the newest
    /// revision dropped when a state is normalised: states that differ
    /// only in how far behind an instance's last read is are one state.
    /// Default: false.
    const READS_NEWEST_ONLY: bool = false;

    /// Whether [`Self::base`] is [`Self::view`] at the same point (a write
    /// lands on the state its writer read), so that a step holding that
    /// view writes through [`Self::write_on_view`] instead of having it
    /// made again. Default: false.
    const WRITES_ON_VIEW: bool = false;

    /// A history holding only `initial`, written as revision `rev`.
    fn new(initial: Store, rev: Rev) -> Self;

    /// Replaces parts of this history by equal parts that `kept` met
    /// before (and remembers the parts it did not meet), so that histories
    /// of states waiting in one BFS level share their memory. Leaves the
    /// history equal to what it was. Default: nothing.
    fn keep(&mut self, _kept: &Kept) {}

    /// The newest state, as properties and the environment see it.
    fn latest(&self) -> Cow<'_, Store>;

    /// The read point of the newest state.
    fn max(&self) -> Revision;

    /// The newest write's revision: `max().newest()`, without building the
    /// read point (properties ask for it in every state a search meets).
    fn newest(&self) -> Rev {
        self.max().newest()
    }

    /// The points a controller whose last read was `session` (none: it has
    /// not read since it started) may read now, in a fixed order, appended
    /// to `out` (what it holds already stays as it is).
    fn reads(&self, session: Option<&Revision>, out: &mut Vec<Revision>);

    /// How many points `reads` gives for `session`, without building them.
    /// Default: through `reads`.
    fn read_count(&self, session: Option<&Revision>) -> usize {
        let mut out = Vec::new();
        self.reads(session, &mut out);
        out.len()
    }

    /// Names the points `reads` gives for each of `sessions`, without
    /// building them: calls `emit(s, token)` for every point of
    /// `sessions[s]`, in `reads` order, session by session. One call per
    /// state, so a model can share the work between sessions (the causal
    /// model's ancestry tables). Tokens are below 2^47. Default: the index
    /// of the point in `reads` (counted by [`Self::read_count`]).
    fn read_tokens(&self, sessions: &[Option<&Revision>], emit: &mut dyn FnMut(usize, u64)) {
        for (s, session) in sessions.iter().enumerate() {
            (0..self.read_count(*session) as u64).for_each(|k| emit(s, k));
        }
    }

    /// Names one point among those [`Self::read_tokens`] names for
    /// `sessions`, without naming the others: calls `pick` once with how
    /// many points each session has (in `sessions` order), and returns the
    /// token `read_tokens` emits for the `(session, index)` pick answers
    /// (`None` if it answers `None` or a place out of range). Simulation
    /// draws a step through it. Default: the index `k` itself, from each
    /// session's [`Self::read_count`], as the default `read_tokens` names
    /// points (a model naming them otherwise overrides this with
    /// `read_tokens` and `read_of_token`). Listing every token first was 9%
    /// of a resettable-session simulation step on `cluster`, where a
    /// controller without a session may read any of a long history.
    fn pick_read_token(&self, sessions: &[Option<&Revision>], pick: &mut PickPoint<'_>) -> Option<u64> {
        let counts: smallvec::SmallVec<[u64; 8]> = sessions.iter().map(|s| self.read_count(*s) as u64).collect();
        let (s, k) = pick(&counts)?;
        (k < *counts.get(s)?).then_some(k)
    }

    /// The point `token` (from [`Self::read_tokens`] for `session` on this
    /// history) names. A token it did not give gives `None` or some point
    /// that need not be readable (callers pass only tokens it gave).
    fn read_of_token(&self, session: Option<&Revision>, token: u64) -> Option<Revision> {
        let mut out = Vec::new();
        self.reads(session, &mut out);
        let k = usize::try_from(token).ok()?;
        (k < out.len()).then(|| out.swap_remove(k))
    }

    /// The state at a read point returned by `reads` or `max`.
    fn view(&self, at: &Revision) -> Cow<'_, Store>;

    /// How many writes of the history the state at `read` does not include
    /// (0: it is the newest state). Shown in traces.
    fn missing(&self, read: &Revision) -> usize;

    /// The state a write computed from the state at `read` is applied to.
    fn base(&self, read: &Revision) -> Cow<'_, Store>;

    /// Applies `op`, computed from the state read at `read`, where the model
    /// says it lands. A rejection leaves the history unchanged.
    fn write(&mut self, read: &Revision, op: &Operation) -> Result<(), Rejection>;

    /// [`Self::write`], given `view`, the state at `read` ([`Self::view`]
    /// of this history): the same outcome and the same history. A model
    /// whose [`Self::WRITES_ON_VIEW`] holds applies `op` to a copy of
    /// `view` (a causal view merges the stores of the writes it reads,
    /// and merging it again for the write was 2-3% of a causal simulation
    /// step). Default: [`Self::write`].
    fn write_on_view(&mut self, read: &Revision, _view: &Store, op: &Operation) -> Result<(), Rejection> {
        self.write(read, op)
    }

    /// A copy of this history with [`Self::write`] applied, and its
    /// outcome: the history a successor holds. Default: a clone, written.
    /// A model whose write replaces what the clone shared overrides it,
    /// so that no count is added to the parent's parts only to be taken
    /// off again (`scripts/refcounts`).
    fn written(&self, read: &Revision, op: &Operation) -> (Self, Result<(), Rejection>) {
        let mut h = self.clone();
        let r = h.write(read, op);
        (h, r)
    }

    /// [`Self::written`], given `view` ([`Self::write_on_view`]).
    fn written_on_view(&self, read: &Revision, view: &Store, op: &Operation) -> (Self, Result<(), Rejection>) {
        let mut h = self.clone();
        let r = h.write_on_view(read, view, op);
        (h, r)
    }

    /// Drops the entries no controller can read: `sessions` are the
    /// controllers' last reads (each a read point's components, sorted, as
    /// [`Revision::components`] gives them), `resets_possible` whether some controller may
    /// still lose its session (a restart the scenario allows).
    fn prune(&mut self, sessions: &[Option<&[Rev]>], resets_possible: bool);

    /// Adds every stamp (revision or uid) the history holds to `set`.
    fn stamps(&self, set: &mut Gather);

    /// Replaces every stamp `x` by `map(x)`; `map` preserves order (any
    /// `Fn(Rev) -> Rev` that does, or ranks among a set of stamps, whose
    /// images of a snapshot's stamps are computed a word at a time).
    fn map_stamps(&mut self, map: &impl crate::stamp_set::StampMap);

    /// Renames the nodes of every store of the history, node `n` to
    /// `to(n)` ([`Store::with_nodes_renamed`]; `to` is one-to-one), leaving
    /// its stamps and shape as they are: the history of the state node
    /// symmetry maps this one's to ([`crate::KubeModel::rename_nodes`]).
    fn rename_nodes(&mut self, to: &dyn Fn(&crate::meta::Name) -> crate::meta::Name);

    /// Feeds `h` the history up to renumbering: every stamp through
    /// `ranks` (the ranks of a set holding all of its stamps), objects by
    /// their stamp-free digests. Two histories feed the same bytes iff they
    /// are equal once each is renumbered by its ranks (up to digest
    /// collisions), so states are fingerprinted without renumbering them.
    fn hash_ranked(&self, ranks: &crate::stamp_set::Ranks<'_>, h: &mut dyn std::hash::Hasher);
}

/// The smallest session among controllers that have one.
pub(crate) fn min_session(sessions: &[Option<&[Rev]>]) -> Option<Rev> {
    sessions.iter().flatten().map(|s| s.first().copied().unwrap_or(0)).min()
}
