//! The Kubernetes model as an engine [`Model`]: a history under a consistency
//! model, the controllers' local states, and the restarts left.

use std::fmt::Write;
use std::marker::PhantomData;

use krepis_engine::{ChoiceRun, Drawn, Model, Property};

use crate::api::{apply, Operation, Rejection};
use crate::consistency::Consistency;
use crate::controllers::{step, step_picking, Controller, Local, View};
use crate::locals::{LocalRef, Locals};
use crate::meta::{name, Name, Rev};
use crate::revision::Revision;
use crate::scenario::{Perturbations, Scenario, UNBOUNDED};
use crate::stamp_set::{Gather, StampSet};
use crate::store::Store;

/// A state of the model.
///
/// Stamps (revisions and uids) matter only by order and equality, so two
/// states that differ only in their numbering are the same state. Under
/// default [`normalize`] renumbers every successor densely, so equal states
/// are equal field by field and the model fingerprints them as they are.
/// In [`KubeModel::ranked`] mode successors keep their stamps as written,
/// which saves copying about half an object per successor: `==` compares
/// states renumbered densely, and `Hash` (the fingerprint in that mode)
/// feeds every stamp through its rank among the state's stamps and every
/// object through its stamp-free digest.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct KubeState<C> {
    /// The cluster's history under the consistency model.
    pub history: C,
    /// Each controller instance's local state, in [`Scenario::controllers`] order.
    pub locals: Locals,
    /// Restarts the scenario still allows.
    pub restarts_left: u8,
    /// Client writes the scenario still allows.
    pub client_left: u8,
    /// Ghost state for ordering properties.
    pub audit: crate::audit::Audit,
}

impl<C: Consistency> KubeState<C> {
    /// Every stamp the state holds: its history's and its sessions'.
    pub fn stamp_set(&self) -> StampSet {
        let mut present = Gather::new();
        self.history.stamps(&mut present);
        present.union(self.locals.session_stamps());
        present.finish()
    }

    /// Whether every field is equal as it is (same numbering).
    fn same_fields(&self, o: &Self) -> bool {
        self.restarts_left == o.restarts_left
            && self.client_left == o.client_left
            && self.audit == o.audit
            && self.locals == o.locals
            && self.history == o.history
    }

    /// Hashes the state as it is, stamps included: for densely renumbered
    /// states, where it agrees with `==` and costs less than `Hash`.
    fn hash_raw(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        self.history.hash(h);
        self.locals.hash(h);
        self.restarts_left.hash(h);
        self.client_left.hash(h);
        self.audit.hash(h);
    }
}

/// Equal once both are renumbered densely ([`renumber`]).
impl<C: Consistency> PartialEq for KubeState<C> {
    fn eq(&self, o: &Self) -> bool {
        self.same_fields(o) || {
            let (mut a, mut b) = (self.clone(), o.clone());
            renumber(&mut a);
            renumber(&mut b);
            a.same_fields(&b)
        }
    }
}

impl<C: Consistency> Eq for KubeState<C> {}

/// A state hashed as it is ([`KubeState::hash_raw`]), through a `Hash`
/// impl so the hasher's writes inline (through `dyn Hasher` they made a
/// BFS step a third slower).
struct Raw<'a, C>(&'a KubeState<C>);

impl<C: Consistency> std::hash::Hash for Raw<'_, C> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.hash_raw(h);
    }
}

/// Hashes the state up to renumbering (see [`KubeState`]): equal states
/// (`==`) hash equally.
impl<C: Consistency> std::hash::Hash for KubeState<C> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let present = self.stamp_set();
        let ranks = present.ranks();
        self.history.hash_ranked(&ranks, h);
        h.write_usize(self.locals.len());
        for l in self.locals.iter() {
            match l.session() {
                None => h.write_u8(0),
                Some(s) => {
                    h.write_u8(1);
                    h.write_usize(s.len());
                    s.iter().for_each(|r| h.write_u32(ranks.map(*r)));
                }
            }
            l.running.hash(h);
        }
        self.restarts_left.hash(h);
        self.client_left.hash(h);
        self.audit.hash(h);
    }
}

/// A transition.
///
/// What a step or a client wrote is not kept: it follows from the state the
/// transition was taken from ([`KubeModel::written`]), and traces print it
/// from there ([`Model::format_step`]). Keeping it took an allocation per
/// writing successor (the operation, 240 bytes, boxed), most of them for
/// labels a search drops unread: 0.86 of a synchronous BFS run's 6.6
/// allocations per transition on `cluster`; held unboxed instead, the
/// larger actions cost 2.2% more instructions. Nor is how many writes a
/// step's read missed, which traces also take from that state (counting
/// them was a tenth of a causal simulation step).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KubeAction {
    /// Controller `controller` read the state at `read` and, if `outcome`
    /// is some, asked for a write, which the API server accepted or
    /// rejected.
    Step {
        /// Index of the controller instance.
        controller: usize,
        /// What it read.
        read: Revision,
        /// Which of its choices it made ([`crate::controllers::step_picking`]):
        /// 0 but for schedulers that may take any of equally loaded nodes
        /// ([`crate::scenario::SchedulerTies::Any`]).
        pick: u8,
        /// The API server's answer to its write (none: it wrote nothing).
        outcome: Option<Result<(), Rejection>>,
    },
    /// A client wrote to the newest state (a perturbation: scale, image,
    /// pause, suspend): the `write`-th the state offers ([`client_write`]).
    Client {
        /// Which of the state's client writes.
        write: usize,
        /// The API server's answer.
        outcome: Result<(), Rejection>,
    },
    /// A controller restarted and lost its local state.
    Restart {
        /// Index of the controller instance.
        controller: usize,
    },
    /// A node restarted: its kubelet lost its state and the node object was deleted.
    NodeRestart {
        /// Index of the kubelet.
        controller: usize,
        /// The API server's answer to the node deletion.
        outcome: Result<(), Rejection>,
    },
}

/// The model of one scenario under consistency model `C`.
pub struct KubeModel<C> {
    scenario: Scenario,
    controllers: Vec<Controller>,
    /// Runs of two or more interchangeable controller instances (one kind,
    /// not kubelets), as index ranges into `controllers`.
    symmetric: Vec<std::ops::Range<usize>>,
    /// How many picks each controller instance's step has
    /// ([`crate::controllers::step_picking`]): the number of nodes for
    /// schedulers under [`crate::scenario::SchedulerTies::Any`], 1 for
    /// every other instance.
    picks: Vec<u8>,
    /// Whether nodes are interchangeable ([`Self::interchangeable_nodes`]).
    node_symmetry: bool,
    /// Whether successors keep their stamps as written ([`Self::ranked`]).
    ranked: bool,
    /// History parts the states of the BFS level being found share.
    kept: crate::consistency::Kept,
    _c: PhantomData<fn() -> C>,
}

impl<C: Consistency> KubeModel<C> {
    /// The model of `scenario` (its `consistency` field is ignored: `C` rules).
    pub fn new(scenario: Scenario) -> Self {
        let controllers = scenario.controllers();
        let mut symmetric = Vec::new();
        let mut start = 0;
        for i in 1..=controllers.len() {
            if i == controllers.len() || controllers[i] != controllers[start] {
                if i - start >= 2 && !matches!(controllers[start], Controller::Kubelet { .. }) {
                    symmetric.push(start..i);
                }
                start = i;
            }
        }
        let any_tie = scenario.scheduler_ties == crate::scenario::SchedulerTies::Any;
        let nodes = u8::try_from(scenario.nodes.len().max(1)).unwrap_or(u8::MAX);
        let picks =
            controllers.iter().map(|c| if any_tie && *c == Controller::Scheduler { nodes } else { 1 }).collect();
        let node_symmetry = any_tie && scenario.nodes.len() >= 2;
        KubeModel {
            scenario,
            controllers,
            symmetric,
            picks,
            node_symmetry,
            ranked: false,
            kept: Default::default(),
            _c: PhantomData,
        }
    }

    /// With `on` (and a [`Consistency::RANKED`] model), successors keep
    /// their stamps as written and are fingerprinted up to renumbering
    /// instead of being renumbered densely (see [`KubeState`]). The same
    /// states, fingerprints differ from the default's: one run uses one
    /// setting. Worth it for simulation, where each step renumbers
    /// snapshots no other state shares (measured on `cluster`, 10 s runs:
    /// monotonic session 6.9 -> 4.3 µs per step, synchronous 3.6 -> 3.3);
    /// BFS renumbers siblings' shared snapshots once through a cache and
    /// is faster without (2.1 -> 2.7 µs per transition with).
    pub fn ranked(mut self, on: bool) -> Self {
        self.ranked = on && C::RANKED;
        self
    }

    /// [`normalize`], keeping stamps as written in ranked mode.
    fn normalize(&self, s: &mut KubeState<C>) {
        normalize(s, self.ranked);
    }

    /// Whether nodes are interchangeable, and [`Model::canonicalize`]
    /// permutes them: the scheduler takes any of equally loaded nodes
    /// ([`crate::scenario::SchedulerTies::Any`]), and there are two nodes
    /// or more.
    pub fn interchangeable_nodes(&self) -> bool {
        self.node_symmetry
    }

    /// The state node symmetry maps `s` to under `perm` (node i becomes node
    /// `perm[i]`, by index into the scenario's nodes; a permutation of
    /// them): every store of the history has its nodes renamed, pods'
    /// bindings with them, and node i's kubelet's local state becomes node
    /// `perm[i]`'s kubelet's. Stamps (uids included) stay as they are.
    /// When nodes are interchangeable ([`Self::interchangeable_nodes`]),
    /// the model's transitions commute with it: the successors of the
    /// image are the images of the successors.
    pub fn rename_nodes(&self, s: &KubeState<C>, perm: &[usize]) -> KubeState<C> {
        let mut t = s.clone();
        self.rename_history_nodes(&mut t.history, perm);
        // Kubelets are instances 0..nodes, in node order.
        let mut order: Vec<usize> = (0..self.controllers.len()).collect();
        for (i, &j) in perm.iter().enumerate() {
            order[j] = i;
        }
        t.locals = s.locals.permuted(&order);
        t
    }

    /// The history part of [`Self::rename_nodes`]: node i becomes node
    /// `perm[i]` in every store.
    fn rename_history_nodes(&self, history: &mut C, perm: &[usize]) {
        let nodes: smallvec::SmallVec<[Name; 8]> = self.node_names().copied().collect();
        assert_eq!(perm.len(), nodes.len(), "a permutation of the scenario's nodes");
        let to = |n: &Name| nodes.iter().position(|m| m == n).map_or(*n, |i| nodes[perm[i]]);
        history.rename_nodes(&to);
    }

    /// The nodes' names, in the scenario's order: those of the kubelets,
    /// which come first among the instances ([`Scenario::controllers`]).
    fn node_names(&self) -> impl Iterator<Item = &Name> {
        self.controllers.iter().map_while(|c| match c {
            Controller::Kubelet { node } => Some(node),
            _ => None,
        })
    }

    /// The controller instances.
    pub fn controllers(&self) -> &[Controller] {
        &self.controllers
    }

    /// How many picks instance `i`'s step has (see [`KubeAction::Step`]'s
    /// `pick`): the number of nodes for a scheduler that may take any of
    /// equally loaded nodes, else 1.
    pub fn picks(&self, i: usize) -> u8 {
        self.picks[i]
    }

    /// The runs of two or more interchangeable controller instances (one
    /// kind other than kubelets), as index ranges into [`Self::controllers`]:
    /// what [`Model::canonicalize`] permutes.
    pub fn interchangeable(&self) -> &[std::ops::Range<usize>] {
        &self.symmetric
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Steps every controller instance in turn on `store` (as the newest
    /// state, writes applied at once) until a whole round writes nothing;
    /// returns the last revision written. Sessions are cleared afterwards
    /// (the history starts anew); kubelets keep the pods they run. Gives up
    /// after 10,000 rounds (a scenario that never settles starts from where
    /// it got).
    fn settle(&self, store: &mut Store, locals: &mut [Local], mut rev: u32) -> u32 {
        for _ in 0..10_000 {
            let mut wrote = false;
            for (c, local) in self.controllers.iter().zip(locals.iter_mut()) {
                let read = Revision::at(rev);
                let snapshot = store.clone();
                if let Some(op) = step(c, local, &View { revision: &read, store: &snapshot }) {
                    if apply(store, &op, rev + 1).is_ok() {
                        rev += 1;
                        wrote = true;
                    }
                }
            }
            if !wrote {
                break;
            }
        }
        locals.iter_mut().for_each(|l| l.session = None);
        rev
    }

    /// The writes that create the scenario's objects, in order: the one
    /// before settling, numbered 1, 2, ... (each StatefulSet is followed by
    /// its first ControllerRevision; pods' owner references by name get the
    /// owner's uid). The checker's initial state and `krepis run`'s loading
    /// of etcd both start from exactly these writes.
    pub fn initial_writes(&self) -> Vec<Operation> {
        let mut store = Store::default();
        let mut ops = Vec::new();
        let mut put = |op: Operation, store: &mut Store| {
            // The scenario was validated: names are unique, so creates succeed.
            let _ = apply(store, &op, ops.len() as u32 + 1);
            ops.push(op);
        };
        for n in &self.scenario.nodes {
            put(Operation::NodeJoin(name(n)), &mut store);
        }
        for s in &self.scenario.statefulsets {
            put(Operation::CreateStatefulSet(s.clone()), &mut store);
            // Its first revision, as the controller's first sync records it:
            // the search starts with it (one step fewer in every trace).
            if let Some(created) = store.statefulsets.get(&s.meta.name).cloned() {
                put(
                    Operation::CreateControllerRevision(crate::controllers::statefulset::revision_for(&created, 1)),
                    &mut store,
                );
            }
        }
        for s in &self.scenario.replicasets {
            put(Operation::CreateReplicaSet(s.clone()), &mut store);
        }
        for d in &self.scenario.deployments {
            put(Operation::CreateDeployment(d.clone()), &mut store);
        }
        for j in &self.scenario.jobs {
            put(Operation::CreateJob(j.clone()), &mut store);
        }
        for p in &self.scenario.pods {
            let mut p = p.clone();
            // Owner references by name (scenario files) get the owner's uid.
            for o in p.meta.owners.iter_mut().filter(|o| o.uid == 0) {
                let uid = match o.kind {
                    crate::meta::Kind::ReplicaSet => store.replicasets.get(&o.name).map(|s| s.meta.uid),
                    crate::meta::Kind::StatefulSet => store.statefulsets.get(&o.name).map(|s| s.meta.uid),
                    crate::meta::Kind::Job => store.jobs.get(&o.name).map(|s| s.meta.uid),
                    _ => None,
                };
                o.uid = uid.unwrap_or(0);
            }
            put(Operation::CreatePod(p), &mut store);
        }
        ops
    }

    /// The initial state: [`Self::initial_writes`] applied in order, then
    /// settled if the scenario says so.
    pub fn initial(&self) -> KubeState<C> {
        let mut store = Store::default();
        let mut rev = 0;
        for op in self.initial_writes() {
            rev += 1;
            let _ = apply(&mut store, &op, rev);
        }
        if self.scenario.scheduler_ties == crate::scenario::SchedulerTies::Any {
            // Nodes that may be interchangeable get the uid and version of
            // the first, so that they differ by name only: nothing reads a
            // node's uid or version but a kubelet's restart, which deletes
            // its node by the uid it reads in the state it deletes from.
            // Joined one after the other, each node would keep the place its
            // name gave it in the order of stamps, and no state would be the
            // image of another under a renaming of nodes until one restarts.
            let first = store.nodes.iter().next().map(|n| n.meta.uid);
            if let Some(uid) = first {
                let later: Vec<_> = store.nodes.iter().filter(|n| n.meta.uid != uid).cloned().collect();
                for mut n in later {
                    (n.meta.uid, n.meta.resource_version) = (uid, uid);
                    store.nodes.put(n);
                }
            }
        }
        let mut locals = vec![Local::default(); self.controllers.len()];
        if self.scenario.settle {
            rev = self.settle(&mut store, &mut locals, rev);
        }
        let mut s = KubeState {
            history: C::new(store, rev.max(1)),
            locals: Locals::from_locals(&locals),
            restarts_left: self.scenario.restarts,
            client_left: self.scenario.client_writes,
            audit: Default::default(),
        };
        self.normalize(&mut s);
        s
    }
}

/// Stamps at or above this are renumbered ([`normalize`]): stamp sets stay
/// in their inline bitmap (128 stamps: a write adds a few), and stamps
/// never overflow however deep a search goes. It was 240 while the bitmap
/// held 256; only ranked mode (simulation) waits for it, and walks to depth
/// 100 on `cluster` rarely reach it.
const RENUMBER_AT: Rev = 120;

/// Drops sessions older than the newest revision where the consistency
/// model reads only the newest state ([`Consistency::READS_NEWEST_ONLY`]);
/// prunes the history to what can still be read; renumbers the stamps
/// densely ([`renumber`]), or with `keep_stamps` ([`KubeModel::ranked`])
/// only once the largest stamp reaches `RENUMBER_AT` (120). Only the
/// order and equality of stamps matter to the API server, the controllers
/// and the properties, and states are compared and hashed up to
/// renumbering, so leaving stamps as written changes no state's identity
/// (it saves copying every object whose stamps a renumbering shifts).
pub fn normalize<C: Consistency>(s: &mut KubeState<C>, keep_stamps: bool) {
    if C::READS_NEWEST_ONLY {
        s.locals.forget_sessions_before(s.history.newest());
    }
    if C::PRUNE_READS_SESSIONS {
        // Borrowed from the local states: no read point is built.
        let sessions: krepis_encodings::InlineVec<Option<&[Rev]>, 16> = s.locals.iter().map(|l| l.session()).collect();
        s.history.prune(&sessions, s.restarts_left > 0);
    } else {
        s.history.prune(&[], s.restarts_left > 0);
    }
    if !keep_stamps || s.history.newest() >= RENUMBER_AT {
        renumber(s);
    }
}

/// Renumbers every stamp (revisions and uids) densely from 1, keeping their
/// order: states that differ only in numbering become equal field by field.
pub fn renumber<C: Consistency>(s: &mut KubeState<C>) {
    // Stamps are small numbers (at most a few per write): the set is a
    // bitmap (snapshots keep theirs, so gathering is word-wise ORs) ranked
    // by prefix counts, instead of sorting (which took a tenth of the run
    // time) or marking stamp by stamp (a tenth of a causal simulation).
    let present = s.stamp_set();
    if present.is_dense() {
        return;
    }
    let ranks = present.ranks();
    s.history.map_stamps(&ranks);
    s.locals.map_sessions(&ranks);
}

/// The read points of each controller instance of a state, computed once per
/// distinct session: instances often share one (none at the start, the same
/// read after a settled round), and a causal history's read points cost a
/// walk over its ancestry (most of a causal simulation step's time).
///
/// The points of every session go into one vector, which the thread keeps
/// between states ([`READ_POINTS`]): a vector per session per state was
/// 0.5 allocations per successor of a causal stale-reads search.
struct ReadPoints {
    /// Each distinct session and where its points are in `points`.
    by_session: smallvec::SmallVec<[(Option<Revision>, std::ops::Range<usize>); 4]>,
    points: Vec<Revision>,
}

thread_local! {
    /// The vector of this thread's last [`ReadPoints`], emptied, for its next.
    static READ_POINTS: std::cell::Cell<Vec<Revision>> = const { std::cell::Cell::new(Vec::new()) };
}

impl ReadPoints {
    fn new() -> Self {
        ReadPoints { by_session: smallvec::SmallVec::new(), points: READ_POINTS.take() }
    }

    /// What instance `i` of `state` may read, in the order `reads` gives.
    fn of<C: Consistency>(&mut self, state: &KubeState<C>, i: usize) -> &[Revision] {
        let session = state.locals.get(i).session();
        let at = match self.by_session.iter().position(|(s, _)| s.as_ref().map(|r| r.components()) == session) {
            Some(at) => at,
            None => {
                let session = session.map(Revision::from_sorted);
                let start = self.points.len();
                state.history.reads(session.as_ref(), &mut self.points);
                self.by_session.push((session, start..self.points.len()));
                self.by_session.len() - 1
            }
        };
        &self.points[self.by_session[at].1.clone()]
    }
}

/// Hands the emptied vector back to the thread (a `ReadPoints` made while
/// another is alive gets a vector of its own).
impl Drop for ReadPoints {
    fn drop(&mut self) {
        let mut points = std::mem::take(&mut self.points);
        points.clear();
        let _ = READ_POINTS.try_with(|p| p.set(points));
    }
}

/// The distinct sessions of `state`'s controller instances, in order of
/// first appearance, and for each instance the index of its session among
/// them (instances often share one).
type Sessions = (krepis_encodings::InlineVec<usize, 16>, smallvec::SmallVec<[Option<Revision>; 8]>);

fn sessions<C: Consistency>(state: &KubeState<C>) -> Sessions {
    let mut distinct: smallvec::SmallVec<[Option<Revision>; 8]> = smallvec::SmallVec::new();
    let which = state
        .locals
        .iter()
        .map(|l| {
            let s = l.session();
            distinct.iter().position(|d| d.as_ref().map(|r| r.components()) == s).unwrap_or_else(|| {
                distinct.push(l.revision());
                distinct.len() - 1
            })
        })
        .collect();
    (which, distinct)
}

/// The read-point tokens ([`Consistency::read_tokens`]) of each controller
/// instance of `state`, in instance order: `which[i]` indexes the token
/// list of instance `i`'s session in `tokens`.
fn read_tokens<C: Consistency>(state: &KubeState<C>) -> (krepis_encodings::InlineVec<usize, 16>, Vec<Vec<u64>>) {
    let (which, distinct) = sessions(state);
    let sessions: krepis_encodings::InlineVec<Option<&Revision>, 8> = distinct.iter().map(|s| s.as_ref()).collect();
    let mut tokens = vec![Vec::new(); distinct.len()];
    state.history.read_tokens(&sessions, &mut |s, t| tokens[s].push(t));
    (which, tokens)
}

/// Choice ids ([`krepis_engine::Choice::id`]) of the Kubernetes model: the
/// kind of transition in the top two bits, then its numbers (a step's: its
/// pick in 6 bits, its instance in 9, its read-point token in 47).
mod choice {
    /// A decoded choice id.
    pub(super) enum Kind {
        /// Controller instance, token of the read point among its reads
        /// ([`crate::consistency::Consistency::read_tokens`]), pick
        /// ([`super::KubeAction::Step`]).
        Step(usize, u64, u8),
        /// Index among the client writes offered.
        Client(usize),
        /// Controller instance.
        Restart(usize),
    }

    /// Bits of a step's read-point token (tokens are below 2^47).
    const TOKEN_BITS: u32 = 47;

    /// Controller instances a step id can name (the 9 bits left of 56).
    pub(super) const MAX_INSTANCES: usize = 1 << (56 - TOKEN_BITS);

    /// Picks a step id can name (6 bits: nodes are at most 8).
    pub(super) const MAX_PICKS: u8 = 1 << 6;

    pub(super) fn step(i: usize, token: u64, pick: u8) -> u64 {
        u64::from(pick) << 56 | (i as u64) << TOKEN_BITS | token
    }

    pub(super) fn client(k: usize) -> u64 {
        1 << 62 | k as u64
    }

    pub(super) fn restart(i: usize) -> u64 {
        2 << 62 | i as u64
    }

    pub(super) fn decode(id: u64) -> Kind {
        let low = (id & ((1 << 62) - 1)) as usize;
        match id >> 62 {
            0 => Kind::Step(
                (id >> TOKEN_BITS) as usize & (MAX_INSTANCES - 1),
                id & ((1 << TOKEN_BITS) - 1),
                (id >> 56) as u8,
            ),
            1 => Kind::Client(low),
            _ => Kind::Restart(low),
        }
    }
}

/// The most renamings of nodes a canonical form compares
/// ([`KubeModel::interchangeable_nodes`]): where more arrangements of nodes
/// with equal signatures keep the signatures' order (5 nodes or more alike,
/// say, as they start), nodes that tie keep their order by index instead.
/// That form is not the same for every member of an orbit: a smaller
/// reduction there, not a wrong one.
pub const MAX_TIED_ARRANGEMENTS: usize = 24;

/// Whether canonical forms compare every arrangement of groups of nodes
/// alike of these sizes: at most [`MAX_TIED_ARRANGEMENTS`] in all.
fn arranged_every_way(sizes: impl Iterator<Item = usize>) -> bool {
    let factorial = |n: usize| (1..=n).try_fold(1usize, |a, k| a.checked_mul(k));
    sizes.map(factorial).try_fold(1usize, |a, f| a.checked_mul(f?)).is_some_and(|a| a <= MAX_TIED_ARRANGEMENTS)
}

/// Whether node symmetry's canonical forms are exact for `nodes` nodes
/// even in states where every node looks alike (they are up to 4 nodes:
/// [`MAX_TIED_ARRANGEMENTS`]); beyond, such states keep nodes that tie in
/// index order, and some members of an orbit stay apart (a smaller
/// reduction, not a wrong one).
pub fn node_symmetry_is_exact(nodes: usize) -> bool {
    arranged_every_way(std::iter::once(nodes))
}

/// Every permutation of `0..n` (`p[i]`: where i goes), the identity first.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    let mut out = vec![(0..n).collect::<Vec<_>>()];
    // Heap's algorithm, iteratively.
    let mut c = vec![0; n];
    let mut p: Vec<usize> = (0..n).collect();
    let mut i = 0;
    while i < n {
        if c[i] < i {
            p.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
            out.push(p.clone());
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    out
}

/// A renaming of nodes: `p[i]` is where node i goes.
type Renaming = smallvec::SmallVec<[usize; 8]>;

/// The renamings a canonical form compares: inline for up to two (no tie,
/// or two nodes alike).
type Renamings = smallvec::SmallVec<[Renaming; 2]>;

/// Every permutation of `0..n` for the sizes a group of tied nodes can have
/// ([`MAX_TIED_ARRANGEMENTS`] = 4!), made once: making them anew for every
/// state with ties was 4% of a `cluster` run with node symmetry (2 nodes,
/// callgrind, 2026-11-29).
fn arrangements(n: usize) -> &'static [Vec<usize>] {
    static TABLE: std::sync::OnceLock<Vec<Vec<Vec<usize>>>> = std::sync::OnceLock::new();
    &TABLE.get_or_init(|| (0..=4).map(permutations).collect())[n]
}

/// The renamings that put nodes in the order of their signatures `sig`
/// (`sig[i]`: node i's), the node of least signature first: every
/// arrangement of the nodes whose signatures are equal, if there are at
/// most [`MAX_TIED_ARRANGEMENTS`]; else only the one that keeps nodes of
/// equal signatures in index order.
fn sorting_renamings(sig: &[u64]) -> Renamings {
    let mut order: Renaming = (0..sig.len()).collect();
    // A stable insertion sort: a few nodes.
    for k in 1..order.len() {
        let mut j = k;
        while j > 0 && sig[order[j - 1]] > sig[order[j]] {
            order.swap(j - 1, j);
            j -= 1;
        }
    }
    let renaming_of = |order: &[usize]| {
        let mut p: Renaming = smallvec::smallvec![0; order.len()];
        for (place, &node) in order.iter().enumerate() {
            p[node] = place;
        }
        p
    };
    if order.windows(2).all(|w| sig[w[0]] != sig[w[1]]) {
        // No tie, one renaming (most states: 72% of those of a `cluster`
        // run on two nodes).
        return smallvec::smallvec![renaming_of(&order)];
    }
    // The runs of equal signatures in `order`, as ranges of places.
    let mut groups: smallvec::SmallVec<[std::ops::Range<usize>; 8]> = smallvec::SmallVec::new();
    let mut start = 0;
    for k in 1..=order.len() {
        if k == order.len() || sig[order[k]] != sig[order[start]] {
            if k - start >= 2 {
                groups.push(start..k);
            }
            start = k;
        }
    }
    if !arranged_every_way(groups.iter().map(|g| g.len())) {
        return smallvec::smallvec![renaming_of(&order)];
    }
    // Every combination of an arrangement of each group (each of at most
    // 4 nodes, since 5! > MAX_TIED_ARRANGEMENTS).
    let mut out: Renamings = smallvec::smallvec![order];
    for g in &groups {
        let perms = self::arrangements(g.len());
        out = out
            .iter()
            .flat_map(|o| {
                perms.iter().map(move |p| {
                    let mut q = o.clone();
                    for (k, &to) in p.iter().enumerate() {
                        q[g.start + to] = o[g.start + k];
                    }
                    q
                })
            })
            .collect();
    }
    out.iter().map(|o| renaming_of(o)).collect()
}

/// A budget after one use ([`UNBOUNDED`] stays).
pub fn spend(budget: u8) -> u8 {
    if budget == UNBOUNDED {
        budget
    } else {
        budget.saturating_sub(1)
    }
}

/// The client writes `perturbations` offers on the newest state `latest`, in
/// a fixed order: scalings (up, then down while above 0), image changes
/// (the first container's image gets a "1" appended), pause toggles,
/// suspend toggles.
pub fn client_writes(latest: &Store, perturbations: Perturbations) -> Vec<Operation> {
    let mut ops = Vec::new();
    each_client_write(latest, perturbations, &mut |op| ops.push(op));
    ops
}

/// Calls `f` on each of [`client_writes`], in order, without gathering
/// them (BFS turns each into a successor as it comes: the vector and its
/// growth were one to four allocations per state expanded).
pub fn each_client_write(latest: &Store, perturbations: Perturbations, f: &mut dyn FnMut(Operation)) {
    offer_client_writes(latest, perturbations, &mut Offer { index: 0, wanted: None, sink: f });
}

/// How many client writes [`client_writes`] offers, without building them.
pub fn client_write_count(latest: &Store, perturbations: Perturbations) -> usize {
    let mut offer = Offer { index: 0, wanted: Some(usize::MAX), sink: &mut |_| {} };
    offer_client_writes(latest, perturbations, &mut offer);
    offer.index
}

/// The `k`-th of [`client_writes`], building only it.
pub fn client_write(latest: &Store, perturbations: Perturbations, k: usize) -> Option<Operation> {
    let mut found = None;
    offer_client_writes(
        latest,
        perturbations,
        &mut Offer { index: 0, wanted: Some(k), sink: &mut |op| found = Some(op) },
    );
    found
}

/// The choices of a state besides controller steps, which come after them
/// (in [`Model::choices`] and [`Model::draw`] alike): `clients` client
/// writes (the client-write choices 0..clients), then a restart of each
/// instance in `restarts`.
struct Environment {
    clients: u64,
    restarts: smallvec::SmallVec<[usize; 16]>,
}

impl Environment {
    /// Its choices, in order.
    fn choices(&self) -> impl Iterator<Item = krepis_engine::Choice> + '_ {
        let clients = (0..self.clients as usize).map(choice::client);
        let restarts = self.restarts.iter().map(|&i| choice::restart(i));
        clients.chain(restarts).map(|id| krepis_engine::Choice { id, fairness: None })
    }
}

/// Hands `sink` the operations offered whose index is wanted (`None`:
/// all). Building one clones an object (and may format an image name): a
/// simulation step needs one of them, not all (a fifth of its time).
struct Offer<'a> {
    index: usize,
    wanted: Option<usize>,
    sink: &'a mut dyn FnMut(Operation),
}

impl Offer<'_> {
    fn offer(&mut self, build: impl FnOnce() -> Operation) {
        if self.wanted.is_none_or(|w| w == self.index) {
            (self.sink)(build());
        }
        self.index += 1;
    }
}

fn offer_client_writes(latest: &Store, perturbations: Perturbations, o: &mut Offer) {
    let steps = |r: u32| [Some(r + 1), r.checked_sub(1)].into_iter().flatten();
    let bumped = |images: &[Name]| -> crate::meta::Names {
        let mut v: smallvec::SmallVec<[Name; 4]> = images.into();
        if let Some(first) = v.first_mut() {
            *first = crate::meta::name_joined(&[first, "1"]);
        }
        crate::meta::Names::new(&v)
    };
    if perturbations.scale {
        for set in latest.statefulsets.iter() {
            for r in steps(set.spec.replicas) {
                o.offer(|| {
                    let mut scaled = set.clone();
                    scaled.spec.replicas = r;
                    Operation::UpdateStatefulSet(scaled)
                });
            }
        }
        for rs in latest.replicasets.iter().filter(|rs| rs.meta.controller_uid().is_none()) {
            for r in steps(rs.spec.replicas) {
                o.offer(|| {
                    let mut scaled = rs.clone();
                    scaled.spec.replicas = r;
                    Operation::UpdateReplicaSet(scaled)
                });
            }
        }
        for d in latest.deployments.iter() {
            for r in steps(d.spec.replicas) {
                o.offer(|| {
                    let mut scaled = d.clone();
                    scaled.spec.replicas = r;
                    Operation::UpdateDeployment(scaled)
                });
            }
        }
    }
    if perturbations.image {
        for set in latest.statefulsets.iter().filter(|s| !s.spec.template_images.is_empty()) {
            o.offer(|| {
                let mut changed = set.clone();
                changed.spec.template_images = bumped(&set.spec.template_images);
                Operation::UpdateStatefulSet(changed)
            });
        }
        for rs in latest.replicasets.iter().filter(|rs| rs.meta.controller_uid().is_none()) {
            if !rs.spec.template_images.is_empty() {
                o.offer(|| {
                    let mut changed = rs.clone();
                    changed.spec.template_images = bumped(&rs.spec.template_images);
                    Operation::UpdateReplicaSet(changed)
                });
            }
        }
        for d in latest.deployments.iter().filter(|d| !d.spec.template_images.is_empty()) {
            o.offer(|| {
                let mut changed = d.clone();
                changed.spec.template_images = bumped(&d.spec.template_images);
                Operation::UpdateDeployment(changed)
            });
        }
    }
    if perturbations.pause {
        for d in latest.deployments.iter() {
            o.offer(|| {
                let mut toggled = d.clone();
                toggled.spec.paused = !d.spec.paused;
                Operation::UpdateDeployment(toggled)
            });
        }
    }
    if perturbations.suspend {
        for j in latest.jobs.iter() {
            o.offer(|| {
                let mut toggled = j.clone();
                toggled.spec.suspend = !j.spec.suspend;
                Operation::UpdateJob(toggled)
            });
        }
    }
}

impl<C: Consistency> KubeModel<C> {
    /// Controller instance `i` reads the state at `read` (one of the points
    /// `history.reads` offers it) and steps, making its `pick`-th choice
    /// (below [`Self::picks`]`(i)`; [`crate::controllers::step_picking`]):
    /// the transition and the state it leads to, not yet normalised. The
    /// one controller transition there is: `successors` and `krepis run`'s
    /// trace validation both take it.
    pub fn controller_step(
        &self,
        state: &KubeState<C>,
        i: usize,
        read: Revision,
        pick: u8,
    ) -> (KubeAction, KubeState<C>) {
        let c = &self.controllers[i];
        let store = state.history.view(&read);
        let mut local = state.locals.get(i).to_local();
        let wrote = step_picking(c, &mut local, &View { revision: &read, store: &store }, pick.into());
        // The successor is built from its parts, not from a clone of the
        // state whose history and local states it replaces (each a count
        // added and taken off again; most states share the local states').
        let mut audit = state.audit.clone();
        let (history, outcome) = match &wrote {
            None => (state.history.clone(), None),
            Some(op) => {
                let audited = matches!(c, Controller::StatefulSet | Controller::Deployment);
                let before = audited.then(|| match C::WRITES_ON_VIEW {
                    true => Store::clone(&store),
                    false => state.history.base(&read).into_owned(),
                });
                let (history, result) = state.history.written_on_view(&read, &store, op);
                if let (Some(before), Ok(())) = (before, &result) {
                    audit.record(c, op, &store, &before);
                }
                (history, Some(result))
            }
        };
        let locals = if C::READS_NEWEST_ONLY && matches!(outcome, Some(Ok(()))) {
            // The write leaves every session old: dropped now, in the one
            // new packed form, rather than by normalisation in a second.
            state.locals.with_forgetting(i, &local, history.newest())
        } else {
            state.locals.with(i, &local)
        };
        let next =
            KubeState { history, locals, restarts_left: state.restarts_left, client_left: state.client_left, audit };
        (KubeAction::Step { controller: i, read, pick, outcome }, next)
    }

    /// What `action`, taken from `from`, asked the API server to write (none
    /// for a step that wrote nothing and a restart that deletes no node):
    /// the step is taken again, since actions do not keep it ([`KubeAction`]).
    pub fn written(&self, from: &KubeState<C>, action: &KubeAction) -> Option<Operation> {
        match action {
            KubeAction::Step { controller: i, read, pick, outcome: Some(_) } => {
                let store = from.history.view(read);
                let mut local = from.locals.get(*i).to_local();
                step_picking(&self.controllers[*i], &mut local, &View { revision: read, store: &store }, (*pick).into())
            }
            KubeAction::Client { write, .. } => {
                client_write(&from.history.latest(), self.scenario.perturbations, *write)
            }
            KubeAction::NodeRestart { controller: i, .. } => {
                self.restart_effect(from.locals.get(*i), &from.history.latest(), *i).flatten()
            }
            KubeAction::Step { outcome: None, .. } | KubeAction::Restart { .. } => None,
        }
    }

    /// `a` in words, with how far behind a step's read was if the state it
    /// was taken from is known (`from`), and what it wrote if known
    /// (`wrote`, from [`Self::written`]).
    fn describe(&self, a: &KubeAction, from: Option<&KubeState<C>>, wrote: Option<&Operation>) -> String {
        let op = |verb: &str| match wrote {
            Some(op) => format!("{verb}: {op}"),
            None => format!("{verb} a write"),
        };
        match a {
            KubeAction::Step { controller, read, outcome, .. } => {
                let who = &self.controllers[*controller];
                let when = match from.map(|s| s.history.missing(read)) {
                    None => format!("the state {read}"),
                    Some(0) => format!("the newest state {read}"),
                    Some(1) => format!("a stale state {read}, 1 write behind"),
                    Some(n) => format!("a stale state {read}, {n} writes behind"),
                };
                match outcome {
                    Some(Ok(())) => format!("{who} read {when}; {}", op("wrote")),
                    Some(Err(e)) => format!("{who} read {when}; {} -> rejected ({e})", op("tried")),
                    None => format!("{who} read {when}; nothing to do"),
                }
            }
            KubeAction::Client { outcome, .. } => match outcome {
                Ok(()) => format!("client {}", op("wrote")),
                Err(e) => format!("client {} -> rejected ({e})", op("tried")),
            },
            KubeAction::Restart { controller } => {
                format!("{} restarts (local state lost)", self.controllers[*controller])
            }
            KubeAction::NodeRestart { controller, outcome } => {
                let r = if outcome.is_ok() { "" } else { " (delete rejected)" };
                format!("{} restarts: kubelet state lost, node object deleted{r}", self.controllers[*controller])
            }
        }
    }

    /// The successor in which a client writes `op`, the state's `write`-th
    /// client write, to the newest state `max`.
    fn client_write(
        &self,
        state: &KubeState<C>,
        max: &Revision,
        write: usize,
        op: &Operation,
    ) -> (KubeAction, KubeState<C>) {
        let (history, outcome) = state.history.written(max, op);
        let mut next = KubeState {
            history,
            locals: state.locals.clone(),
            restarts_left: state.restarts_left,
            client_left: spend(state.client_left),
            audit: state.audit.clone(),
        };
        self.normalize(&mut next);
        (KubeAction::Client { write, outcome }, next)
    }

    /// Whether controller instance `i` of `state` can restart, with the
    /// node deletion that comes with it for a kubelet (`latest` is the
    /// newest state): a kubelet's node must be there and ready, another
    /// controller must have some local state to lose (`local`, instance
    /// `i`'s: callers going over every instance pass it from
    /// `locals.iter()`, as `Locals::get` walks the instances before `i`).
    fn restart_effect(&self, local: LocalRef<'_>, latest: &Store, i: usize) -> Option<Option<Operation>> {
        match &self.controllers[i] {
            Controller::Kubelet { node } => {
                let uid = latest.nodes.get(node).filter(|n| n.ready)?.meta.uid;
                Some(Some(Operation::DeleteNode { name: *node, uid }))
            }
            _ if !local.is_default() => Some(None),
            _ => None,
        }
    }

    /// The choices of `state` that are not controller steps.
    fn environment(&self, state: &KubeState<C>) -> Environment {
        let mut env = Environment { clients: 0, restarts: smallvec::SmallVec::new() };
        if state.client_left == 0 && state.restarts_left == 0 {
            return env;
        }
        let latest = state.history.latest();
        if state.client_left > 0 {
            env.clients = client_write_count(&latest, self.scenario.perturbations) as u64;
        }
        if state.restarts_left > 0 {
            let n = self.controllers.len();
            let can = |&(i, l): &(usize, LocalRef<'_>)| self.restart_effect(l, &latest, i).is_some();
            env.restarts = state.locals.iter().take(n).enumerate().filter(can).map(|(i, _)| i).collect();
        }
        env
    }

    /// The successor in which controller instance `i` restarts (a kubelet:
    /// its node restarts), if that can happen ([`Self::restart_effect`]).
    fn restart(&self, state: &KubeState<C>, latest: &Store, i: usize) -> Option<(KubeAction, KubeState<C>)> {
        let node_deletion = self.restart_effect(state.locals.get(i), latest, i)?;
        let (history, action) = match node_deletion {
            Some(op) => {
                let (history, outcome) = state.history.written(&state.history.max(), &op);
                (history, KubeAction::NodeRestart { controller: i, outcome })
            }
            None => (state.history.clone(), KubeAction::Restart { controller: i }),
        };
        let mut next = KubeState {
            history,
            locals: state.locals.with(i, &Local::default()),
            restarts_left: spend(state.restarts_left),
            client_left: state.client_left,
            audit: state.audit.clone(),
        };
        self.normalize(&mut next);
        Some((action, next))
    }
}

impl<C: Consistency> KubeModel<C> {
    /// Under node symmetry, turns `s` into its canonical form
    /// ([`Model::canonicalize`]): its image under the renaming of the nodes
    /// that puts them in the order of their signatures
    /// ([`Self::node_signatures`]), with its runs of interchangeable
    /// instances sorted; where signatures tie, the image of least
    /// fingerprint among those of every renaming that keeps the order.
    /// Returns where the instances went (`order[k]`: the instance now at
    /// place k; the identity when tied images leave `s` as it was), or
    /// `None` when no renaming or sorting applied (`s` is unchanged).
    fn to_least_image(&self, s: &mut KubeState<C>) -> Option<smallvec::SmallVec<[usize; 16]>> {
        let n = self.controllers.len();
        // Only renamings that put the nodes in the order of their
        // signatures are tried (the node of least signature first): the
        // same images for every member of the orbit, since a renaming
        // carries each node's signature with it. Nodes whose signatures
        // differ need no comparison of images at all.
        let candidates = sorting_renamings(&self.node_signatures(s));
        // Renaming nodes moves only kubelets (instances 0..nodes), which no
        // run of interchangeable instances holds, and changes no local
        // state: the runs sort the same way under every renaming.
        let runs = s.locals.sorting_order(&self.symmetric);
        let order_of = |perm: &Renaming| {
            let mut order: smallvec::SmallVec<[usize; 16]> = match &runs {
                Some(o) => o.clone(),
                None => (0..n).collect(),
            };
            for (i, &j) in perm.iter().enumerate() {
                order[j] = i;
            }
            order
        };
        let moves_nodes = |perm: &Renaming| perm.iter().enumerate().any(|(i, &j)| i != j);
        // Permuting the local states makes a packed form (1,800 instructions
        // a call): only when some instance moves.
        let moves = |perm: &Renaming| runs.is_some() || moves_nodes(perm);
        if let [only] = &candidates[..] {
            // One renaming puts the nodes in order: no image to compare,
            // and `s` changes in place.
            if !moves(only) {
                return None;
            }
            if moves_nodes(only) {
                self.rename_history_nodes(&mut s.history, only);
            }
            let order = order_of(only);
            s.locals = s.locals.permuted(&order);
            return Some(order);
        }
        let image = |perm: &Renaming| {
            let order = order_of(perm);
            let mut t = s.clone();
            if moves(perm) {
                if moves_nodes(perm) {
                    self.rename_history_nodes(&mut t.history, perm);
                }
                t.locals = s.locals.permuted(&order);
            }
            (self.fingerprint(&t), t, order)
        };
        let mut best = image(&candidates[0]);
        for p in &candidates[1..] {
            let candidate = image(p);
            if candidate.0 < best.0 {
                best = candidate;
            }
        }
        *s = best.1;
        Some(best.2)
    }

    /// What tells each node apart but its name, as a digest, by node index:
    /// its kubelet's pods and whether the kubelet has a session, whether
    /// the newest state has the node object and its flags, and the names
    /// and status of the pods bound to it there. A renaming of nodes
    /// carries each node's signature with it. Stamps (sessions' revisions,
    /// uids) are left out, so that states equal up to renumbering give
    /// equal signatures.
    fn node_signatures(&self, s: &KubeState<C>) -> smallvec::SmallVec<[u64; 4]> {
        struct Signature<'a> {
            local: LocalRef<'a>,
            node: Option<&'a crate::resources::Node>,
            name: &'a Name,
            latest: &'a Store,
        }
        impl std::hash::Hash for Signature<'_> {
            fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
                self.local.running.hash(h);
                self.local.session().is_some().hash(h);
                self.node.map(|n| (n.ready, n.unschedulable)).hash(h);
                for p in self.latest.pods.iter().filter(|p| p.spec.node_name.as_ref() == Some(self.name)) {
                    (&p.meta.name, p.phase, p.ready, p.meta.deleting).hash(h);
                }
            }
        }
        let latest = s.history.latest();
        self.node_names()
            .enumerate()
            .map(|(i, name)| {
                let sig = Signature { local: s.locals.get(i), node: latest.nodes.get(name), name, latest: &latest };
                krepis_engine::fingerprint::fingerprint_of(&sig)
            })
            .collect()
    }

    /// Whether every choice fits a choice id ([`choice`]): at most 512
    /// instances and 64 picks a step.
    fn choices_fit(&self) -> bool {
        self.controllers.len() <= choice::MAX_INSTANCES && self.picks.iter().all(|&k| k <= choice::MAX_PICKS)
    }
}

impl<C: Consistency> Model for KubeModel<C> {
    /// Up to renumbering in ranked mode; as the state is otherwise (states
    /// are renumbered densely, and hashing them as they are is cheaper).
    fn fingerprint(&self, state: &Self::State) -> krepis_engine::Fingerprint {
        if self.ranked {
            krepis_engine::fingerprint::fingerprint_of_large(state)
        } else {
            krepis_engine::fingerprint::fingerprint_of_large(&Raw(state))
        }
    }

    type State = KubeState<C>;
    type Action = KubeAction;

    fn init_states(&self, out: &mut Vec<Self::State>) {
        out.push(self.initial());
    }

    fn successors(&self, state: &Self::State, out: &mut Vec<(Self::Action, Self::State)>) {
        let mut reads = ReadPoints::new();
        for i in 0..self.controllers.len() {
            for r in reads.of(state, i) {
                for pick in 0..self.picks[i] {
                    let (action, mut next) = self.controller_step(state, i, r.clone(), pick);
                    self.normalize(&mut next);
                    out.push((action, next));
                }
            }
        }
        if state.client_left == 0 && state.restarts_left == 0 {
            return;
        }
        let latest = state.history.latest();
        if state.client_left > 0 {
            let max = state.history.max();
            let mut write = 0;
            each_client_write(&latest, self.scenario.perturbations, &mut |op| {
                out.push(self.client_write(state, &max, write, &op));
                write += 1;
            });
        }
        if state.restarts_left > 0 {
            out.extend((0..self.controllers.len()).filter_map(|i| self.restart(state, &latest, i)));
        }
    }

    /// One choice per successor, in the order of `successors`: controller
    /// steps (controller, read-point token, pick), client writes, restarts.
    /// Not offered for more than 512 controller instances (step ids hold 9
    /// bits of instance) or 64 picks.
    fn choices(&self, state: &Self::State, out: &mut Vec<krepis_engine::Choice>) -> bool {
        if !self.choices_fit() {
            return false;
        }
        let (which, tokens) = read_tokens(state);
        for (i, &w) in which.iter().enumerate().take(self.controllers.len()) {
            let fairness = Some((i % 64) as u8);
            for &t in &tokens[w] {
                out.extend((0..self.picks[i]).map(|k| krepis_engine::Choice { id: choice::step(i, t, k), fairness }));
            }
        }
        out.extend(self.environment(state).choices());
        true
    }

    /// Counts the read points of each distinct session
    /// ([`Consistency::pick_read_token`]), the client writes and the
    /// restarts, and names only the choice drawn: a causal state has
    /// hundreds of read points (328 a step on average on `cluster`), and
    /// naming them all was 43% of a causal simulation step.
    fn draw(&self, state: &Self::State, pick: &mut dyn FnMut(&[ChoiceRun]) -> u64) -> Drawn {
        if !self.choices_fit() {
            return Drawn::Unsupported;
        }
        let Environment { clients, restarts } = self.environment(state);
        let (which, distinct) = sessions(state);
        let sessions: krepis_encodings::InlineVec<Option<&Revision>, 8> = distinct.iter().map(|s| s.as_ref()).collect();
        let steps = which.len().min(self.controllers.len());
        // What the pick named: a step of an instance (its token comes back
        // from the history), or another choice.
        let (mut instance, mut other, mut deadlock, mut picked) = (None, None, false, 0);
        let token = state.history.pick_read_token(&sessions, &mut |counts| {
            let fair = |i: usize| Some((i % 64) as u8);
            // Instance i has `picks` choices per read point, in a row.
            let count = |i: usize| counts[which[i]] * u64::from(self.picks[i]);
            let mut runs: smallvec::SmallVec<[ChoiceRun; 32]> =
                (0..steps).map(|i| ChoiceRun { count: count(i), fairness: fair(i) }).collect();
            if clients > 0 {
                runs.push(ChoiceRun { count: clients, fairness: None });
            }
            runs.extend(restarts.iter().map(|_| ChoiceRun { count: 1, fairness: None }));
            if runs.iter().all(|r| r.count == 0) {
                deadlock = true;
                return None;
            }
            let mut n = pick(&runs);
            for (i, &w) in which.iter().enumerate().take(steps) {
                if n < count(i) {
                    instance = Some(i);
                    let picks = u64::from(self.picks[i]);
                    picked = (n % picks) as u8;
                    return Some((w, n / picks));
                }
                n -= count(i);
            }
            if n < clients {
                other = Some(choice::client(n as usize));
                return None;
            }
            other = usize::try_from(n - clients).ok().and_then(|k| restarts.get(k)).map(|&i| choice::restart(i));
            None
        });
        match (instance, token, other) {
            (Some(i), Some(t), _) => {
                Drawn::Choice(krepis_engine::Choice { id: choice::step(i, t, picked), fairness: Some((i % 64) as u8) })
            }
            (_, _, Some(id)) => Drawn::Choice(krepis_engine::Choice { id, fairness: None }),
            _ if deadlock => Drawn::Deadlock,
            _ => Drawn::Unsupported,
        }
    }

    fn take(&self, state: &Self::State, c: krepis_engine::Choice) -> Option<(Self::Action, Self::State)> {
        match choice::decode(c.id) {
            choice::Kind::Step(i, k, pick) => {
                let session = (i < state.locals.len()).then(|| state.locals.get(i).revision())?;
                if pick >= self.picks[i] {
                    return None;
                }
                let read = state.history.read_of_token(session.as_ref(), k)?;
                let (action, mut next) = self.controller_step(state, i, read, pick);
                self.normalize(&mut next);
                Some((action, next))
            }
            choice::Kind::Client(k) => {
                let op = client_write(&state.history.latest(), self.scenario.perturbations, k)?;
                Some(self.client_write(state, &state.history.max(), k, &op))
            }
            choice::Kind::Restart(i) => {
                (i < self.controllers.len()).then(|| self.restart(state, &state.history.latest(), i)).flatten()
            }
        }
    }

    fn properties(&self) -> Vec<Property<Self>> {
        crate::properties::all(&self.scenario)
    }

    /// Controller instances of one kind are interchangeable: they run the
    /// same step on the same history, differ only in their local states, and
    /// no property tells them apart (the ghost audit records kinds, not
    /// instances). So a state is replaced by the one with each run of such
    /// instances' local states sorted: an exact canonical form of the orbit
    /// under those permutations (the initial state is fixed by them, and
    /// successors of a permuted state are the permuted successors).
    ///
    /// Kubelets are permuted only with their nodes, and nodes only when the
    /// scheduler takes any of equally loaded nodes
    /// ([`Self::interchangeable_nodes`]; by default it breaks ties by name,
    /// as the spec's deterministic stand-in for Kubernetes' random pick, and
    /// renaming nodes would change which node object gets a pod). Then the
    /// state is replaced by its image under the renaming of the nodes
    /// ([`Self::rename_nodes`]) that puts them in the order of their
    /// signatures, with its runs sorted; where signatures tie, by the image
    /// of least fingerprint among those of every renaming that keeps the
    /// order. A renaming carries each node's signature with it, so every
    /// member of the orbit has the same candidates and the same canonical
    /// form, up to fingerprint collisions, which could only leave two
    /// members of an orbit apart (a smaller reduction, not a wrong one).
    fn canonicalize(&self, s: &mut KubeState<C>) {
        if self.node_symmetry {
            self.to_least_image(s);
        } else if let Some(order) = s.locals.sorting_order(&self.symmetric) {
            s.locals = s.locals.permuted(&order);
        }
    }

    /// A new state's history shares its entries (linear models) or its
    /// writes (causal) with an equal history of its BFS level, if one was
    /// kept before (see [`Consistency::keep`]).
    fn keep(&self, s: &mut KubeState<C>) {
        s.history.keep(&self.kept);
    }

    fn forget_kept(&self) {
        self.kept.clear();
    }

    /// Runs of interchangeable instances, and nodes with their kubelets
    /// when they are interchangeable.
    fn has_symmetry(&self) -> bool {
        !self.symmetric.is_empty() || self.node_symmetry
    }

    /// Fairness groups are per controller instance, and instances are
    /// permuted: liveness is checked on orbits that follow each instance
    /// through the renamings ([`Model::canonicalize_groups`]).
    fn fairness_is_symmetric(&self) -> bool {
        !self.has_symmetry()
    }

    /// A group per instance, up to 64 instances (beyond, groups are shared
    /// modulo 64 and a permutation of instances is not one of groups: the
    /// pass then runs on unreduced states).
    fn reports_group_maps(&self) -> bool {
        self.controllers.len() <= 64
    }

    /// Sorts each run of interchangeable instances as
    /// [`Model::canonicalize`] does; the instance that moves from place i to
    /// place k takes its group from i to k.
    fn canonicalize_groups(&self, s: &mut KubeState<C>, groups: &mut krepis_engine::GroupMap) {
        *groups = krepis_engine::GroupMap::IDENTITY;
        if self.node_symmetry {
            // The instance that moves from place i to place k takes its
            // group from i to k.
            for (k, &i) in self.to_least_image(s).iter().flatten().enumerate() {
                groups.set(i as u8, k as u8);
            }
            return;
        }
        if let Some(order) = s.locals.sorting_order(&self.symmetric) {
            for (k, &i) in order.iter().enumerate() {
                groups.set(i as u8, k as u8);
            }
            s.locals = s.locals.permuted(&order);
        }
    }

    /// Every controller instance is weakly fair: one that can step for ever
    /// (it has a state to read) eventually does. Restarts, node restarts and
    /// client writes are not: they may never happen.
    fn fairness(&self, a: &KubeAction) -> Option<u8> {
        match a {
            KubeAction::Step { controller, .. } => Some((*controller % 64) as u8),
            _ => None,
        }
    }

    /// Without the state it was taken from, what a step wrote and how far
    /// behind its read was are not known ([`KubeAction`]): the text says
    /// what it read, whether it wrote and the answer. Traces use
    /// [`Model::format_step`].
    fn format_action(&self, a: &KubeAction) -> String {
        self.describe(a, None, None)
    }

    fn format_step(&self, from: &KubeState<C>, a: &KubeAction) -> String {
        self.describe(a, Some(from), self.written(from, a).as_ref())
    }

    fn format_state(&self, s: &KubeState<C>) -> String {
        let mut out = String::new();
        for (c, l) in self.controllers.iter().zip(s.locals.iter()) {
            if let Controller::Kubelet { node } = c {
                let _ =
                    write!(out, "{node} runs [{}]; ", l.running.iter().map(|p| &**p).collect::<Vec<_>>().join(", "));
            }
        }
        let latest = s.history.latest();
        let pods: Vec<String> = latest
            .pods
            .iter()
            .map(|p| {
                format!(
                    "{}#{} {} {:?}{}{}",
                    p.meta.name,
                    p.meta.uid,
                    p.spec.node_name.as_deref().map_or("unbound".to_string(), |n| format!("on {n}")),
                    p.phase,
                    if p.ready { " ready" } else { "" },
                    if p.meta.deleting { " deleting" } else { "" }
                )
            })
            .collect();
        let nodes: Vec<&str> = latest.nodes.iter().map(|n| &*n.meta.name).collect();
        let _ = write!(out, "pods: {}; nodes: {}", pods.join(", "), nodes.join(", "));
        out
    }

    fn encode_state(&self, state: &Self::State, out: &mut Vec<u8>) -> bool {
        krepis_engine::checkpoint::postcard_encode(state, out)
    }

    fn decode_state(&self, bytes: &[u8]) -> Option<Self::State> {
        let state: Self::State = krepis_engine::checkpoint::postcard_decode(bytes)?;
        // A state of another scenario would index controllers out of range.
        (state.locals.len() == self.controllers.len()).then_some(state)
    }

    /// The scenario's name and the consistency model, and the scheduler's
    /// ties unless by name (a checkpoint is resumed only by the model that
    /// wrote it, and the ties change the transitions, not the initial state).
    fn name(&self) -> String {
        match self.scenario.scheduler_ties {
            crate::scenario::SchedulerTies::Name => format!("{} ({})", self.scenario.name, C::NAME),
            t => format!("{} ({}, scheduler ties: {})", self.scenario.name, C::NAME, t.name()),
        }
    }

    /// 1 since synchronous states drop sessions older than the newest
    /// revision (2026-11-28): a synchronous checkpoint of revision 0 holds
    /// states the model now merges, with the fingerprints they had. One
    /// number covers every consistency model (the others' states did not
    /// change then, and their older checkpoints are refused too).
    fn revision(&self) -> u32 {
        1
    }
}

/// Checks `scenario` under the consistency model it names (one of
/// [`crate::consistency::NAMES`]; anything else is an error).
pub fn check_scenario(scenario: Scenario, opts: &krepis_engine::Options) -> Result<krepis_engine::Report, String> {
    use crate::consistency::*;
    fn go<C: Consistency>(s: Scenario, o: &krepis_engine::Options) -> krepis_engine::Report {
        // Simulation keeps stamps as written (`KubeModel::ranked` says why).
        let ranked = o.strategy == krepis_engine::Strategy::Simulation;
        krepis_engine::check(&KubeModel::<C>::new(s).ranked(ranked), o).report
    }
    Ok(match scenario.consistency.as_str() {
        "synchronous" => go::<Synchronous>(scenario, opts),
        "monotonic-session" => go::<MonotonicSession>(scenario, opts),
        "resettable-session" => go::<ResettableSession>(scenario, opts),
        "optimistic-linear" => go::<OptimisticLinear>(scenario, opts),
        "causal" => go::<Causal>(scenario, opts),
        other => return Err(format!("unknown consistency model '{other}' (one of: {})", NAMES.join(", "))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nodes go in the order of their signatures; nodes whose signatures
    /// tie are arranged every way while that is at most
    /// `MAX_TIED_ARRANGEMENTS` ways, else kept in index order.
    #[test]
    fn sorting_renamings_order_nodes_and_arrange_ties() {
        let as_vecs = |r: Renamings| r.into_iter().map(|p| p.to_vec()).collect::<Vec<_>>();
        assert_eq!(as_vecs(sorting_renamings(&[7, 3])), [[1, 0]]);
        let mut tied = as_vecs(sorting_renamings(&[5, 1, 5]));
        tied.sort();
        assert_eq!(tied, [[1, 0, 2], [2, 0, 1]]);
        assert_eq!(sorting_renamings(&[9; 4]).len(), 24);
        assert_eq!(as_vecs(sorting_renamings(&[9; 5])), [[0, 1, 2, 3, 4]], "120 ways: index order");
        // Two groups: 2 x 2 arrangements.
        assert_eq!(sorting_renamings(&[1, 2, 1, 2]).len(), 4);
        assert!(node_symmetry_is_exact(4) && !node_symmetry_is_exact(5) && !node_symmetry_is_exact(100));
    }

    #[test]
    fn permutations_start_with_the_identity_and_are_all_there() {
        let p = permutations(4);
        assert_eq!(p[0], [0, 1, 2, 3]);
        let distinct: std::collections::HashSet<_> = p.iter().collect();
        assert_eq!((p.len(), distinct.len()), (24, 24));
    }
}
