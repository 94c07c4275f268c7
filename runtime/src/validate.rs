//! Trace validation: a recorded run replayed through the checker's own
//! transition relation.
//!
//! The replay starts from the scenario's initial writes (which must be what
//! etcd holds after loading) under resettable session, the consistency model
//! that describes a real run (see the crate doc), and takes the recorded
//! steps in the order the API server decided them. For each step it checks
//! that the model offers the controller the state it read, that the model's
//! step ([`KubeModel::controller_step`], the very transition the checker
//! explores) asks for the same write, that the API server's answer is the
//! same, and that etcd then holds exactly the model's newest state. The
//! scenario's invariants are checked on every state the run went through.

use std::collections::BTreeMap;

use krepis_engine::{Kind as PropertyKind, Model};
use krepis_model::api::{apply, Operation, Rejection};
use krepis_model::consistency::{Consistency, ResettableSession};
use krepis_model::controllers::{Controller, Local};
use krepis_model::kube::{client_writes, spend, KubeAction, KubeModel, KubeState};
use krepis_model::locals::Locals;
use krepis_model::revision::Revision;
use krepis_model::store::Store;
use krepis_model::Scenario;

use crate::record::{Actor, Step};

/// The model a real run is a run of.
pub type RunModel = KubeModel<ResettableSession>;

/// Where the run and the model part ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The step (`None`: the loading of the scenario, or the end of the run).
    pub step: Option<Step>,
    /// What differs.
    pub reason: String,
}

/// An invariant that failed on a state of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property.
    pub property: String,
    /// The etcd revision of the first state where it failed.
    pub revision: i64,
}

/// What replaying a run found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replay {
    /// Steps replayed (the recorded ones).
    pub steps: usize,
    /// States of the run checked (the loaded one and one per accepted write).
    pub states: usize,
    /// The first divergence from the model, if any (the replay stops there).
    pub divergence: Option<Divergence>,
    /// Invariants (`always` properties) that failed, first failure each.
    pub violations: Vec<Violation>,
    /// The invariants checked.
    pub invariants: Vec<String>,
    /// `sometimes`/`eventually` properties and whether they hold at the end.
    pub goals_at_end: Vec<(String, bool)>,
}

/// Replays `steps` of a run of `scenario` started at etcd revision `base`;
/// `etcd_at(r)` is what etcd held at revision `r`.
pub fn replay(scenario: Scenario, base: i64, steps: &[Step], etcd_at: &BTreeMap<i64, Store>) -> Replay {
    let model = RunModel::new(scenario);
    let props = model.properties();
    let mut out = Replay {
        steps: 0,
        invariants: props.iter().filter(|p| p.kind == PropertyKind::Always).map(|p| p.name.clone()).collect(),
        ..Default::default()
    };
    let check = |state: &KubeState<ResettableSession>, revision: i64, out: &mut Replay| {
        out.states += 1;
        for p in props.iter().filter(|p| p.kind == PropertyKind::Always) {
            if !(p.check)(&model, state) && !out.violations.iter().any(|v| v.property == p.name) {
                out.violations.push(Violation { property: p.name.clone(), revision });
            }
        }
    };
    let diverge = |out: &mut Replay, step: Option<&Step>, reason: String| {
        out.divergence = Some(Divergence { step: step.cloned(), reason });
    };
    // The loading.
    let writes = model.initial_writes();
    let mut store = Store::default();
    for (k, op) in writes.iter().enumerate() {
        let _ = apply(&mut store, op, k as u32 + 1);
    }
    let loaded = base + writes.len() as i64;
    match etcd_at.get(&loaded) {
        Some(s) if *s == store => {}
        Some(s) => {
            diverge(&mut out, None, format!("after loading, etcd holds {}", difference(&store, s)));
            return out;
        }
        None => {
            diverge(&mut out, None, format!("no record of etcd at revision {loaded} (after loading)"));
            return out;
        }
    }
    let mut state = KubeState {
        history: ResettableSession::new(store, writes.len() as u32),
        locals: Locals::new(model.controllers().len()),
        restarts_left: model.scenario().restarts,
        client_left: model.scenario().client_writes,
        audit: Default::default(),
    };
    check(&state, loaded, &mut out);
    // Decided order: by the state the API server decided on; at one state,
    // steps that leave it unchanged before the write that moves it on.
    let mut order: Vec<&Step> = steps.iter().collect();
    order.sort_by_key(|s| (s.decided_at, matches!(s.outcome, Some(Ok(_))), s.seq));
    for s in order {
        out.steps += 1;
        // The environment's steps: the client's writes and restarts.
        let env = match s.actor {
            Actor::Controller(_) => None,
            Actor::Client => Some(client_step(&model, &mut state, s)),
            Actor::Restart(i) | Actor::NodeRestart(i) => Some(restart_step(&model, &mut state, s, i)),
        };
        if let Some(replayed) = env {
            if let Err(reason) = replayed.and_then(|()| after_write(&state, s, base, etcd_at)) {
                diverge(&mut out, Some(s), reason);
                return out;
            }
            if let Some(Ok(commit)) = s.outcome {
                check(&state, commit, &mut out);
            }
            continue;
        }
        let Actor::Controller(i) = s.actor else { continue };
        let Some(c) = model.controllers().get(i) else {
            diverge(&mut out, Some(s), format!("controller {i} does not exist in the scenario"));
            return out;
        };
        let read = match u32::try_from(s.read - base) {
            Ok(r) => Revision::at(r),
            Err(_) => {
                diverge(&mut out, Some(s), format!("read revision {} is before the run", s.read));
                return out;
            }
        };
        let mut offered = Vec::new();
        state.history.reads(state.locals.get(i).revision().as_ref(), &mut offered);
        if !offered.contains(&read) {
            let offered: Vec<String> = offered.iter().map(|r| shift(r, base)).collect();
            diverge(
                &mut out,
                Some(s),
                format!(
                    "{c} read revision {}, which the model does not offer it (it offers {})",
                    s.read,
                    offered.join(", ")
                ),
            );
            return out;
        }
        // The choice the run made (the scheduler's between equally loaded
        // nodes under ties 'any'; 0 otherwise), one the model must offer.
        if s.pick >= model.picks(i) {
            diverge(
                &mut out,
                Some(s),
                format!("{c} made choice {} of a step, which has {} in the model", s.pick, model.picks(i)),
            );
            return out;
        }
        let (action, next) = model.controller_step(&state, i, read, s.pick);
        let KubeAction::Step { outcome, .. } = &action else { unreachable!("controller_step returns a step") };
        let written = model.written(&state, &action);
        let wrote = written.as_ref();
        if wrote != s.wrote.as_ref() {
            diverge(
                &mut out,
                Some(s),
                format!("{c}: the model's step writes {}, the run wrote {}", show(wrote), show(s.wrote.as_ref())),
            );
            return out;
        }
        let run_outcome: Option<Result<(), Rejection>> = s.outcome.map(|o| o.map(|_| ()));
        if *outcome != run_outcome {
            diverge(&mut out, Some(s), format!("{c}: the model answers {outcome:?}, etcd answered {:?}", s.outcome));
            return out;
        }
        state = next;
        if let Err(reason) = after_write(&state, s, base, etcd_at) {
            diverge(&mut out, Some(s), reason);
            return out;
        }
        if let Some(Ok(commit)) = s.outcome {
            check(&state, commit, &mut out);
        }
    }
    if let Some((last, e)) = etcd_at.iter().next_back() {
        if *last > base + i64::from(state.history.max().newest()) && *e != *state.history.latest() {
            diverge(&mut out, None, format!("etcd went on to revision {last}, which no recorded step wrote"));
            return out;
        }
    }
    for p in props.iter().filter(|p| p.kind != PropertyKind::Always) {
        out.goals_at_end.push((p.name.clone(), (p.check)(&model, &state)));
    }
    out
}

/// The client's write `s`: one the model's client offers on the newest
/// state, within the budget, with the same answer.
fn client_step(model: &RunModel, state: &mut KubeState<ResettableSession>, s: &Step) -> Result<(), String> {
    let Some(op) = &s.wrote else {
        return Err("a client step without a write".into());
    };
    if state.client_left == 0 {
        return Err(format!("the client wrote '{op}' past the scenario's budget of client writes"));
    }
    let offered = client_writes(&state.history.latest(), model.scenario().perturbations);
    if !offered.contains(op) {
        return Err(format!("the client wrote '{op}', which the scenario's perturbations do not offer"));
    }
    state.client_left = spend(state.client_left);
    environment_write(state, op, s)
}

/// The environment's write `op` applied to the newest state, as the model's
/// environment writes; its answer must be the one etcd gave in `s`.
fn environment_write(state: &mut KubeState<ResettableSession>, op: &Operation, s: &Step) -> Result<(), String> {
    let max = state.history.max();
    let outcome = state.history.write(&max, op);
    if outcome != s.outcome.map_or(Ok(()), |o| o.map(|_| ())) {
        return Err(format!("the model answers {outcome:?}, etcd answered {:?}", s.outcome));
    }
    Ok(())
}

/// A restart `s` of controller instance `i`: one the model's environment
/// offers (within the budget; a controller with state to lose; a node that
/// is there and Ready, deleted with its uid), with the same answer.
fn restart_step(model: &RunModel, state: &mut KubeState<ResettableSession>, s: &Step, i: usize) -> Result<(), String> {
    let c = model.controllers().get(i).ok_or_else(|| format!("controller {i} does not exist in the scenario"))?;
    if state.restarts_left == 0 {
        return Err(format!("{c} restarted past the scenario's budget of restarts"));
    }
    state.restarts_left = spend(state.restarts_left);
    match (c, s.actor) {
        (Controller::Kubelet { node }, Actor::NodeRestart(_)) => {
            let latest = state.history.latest().into_owned();
            let Some(n) = latest.nodes.get(node).filter(|n| n.ready) else {
                return Err(format!("{c}: the model offers no node restart without a Ready node object"));
            };
            let op = Operation::DeleteNode { name: *node, uid: n.meta.uid };
            if s.wrote.as_ref() != Some(&op) {
                return Err(format!("{c}: a node restart writes '{op}', the run wrote {}", show(s.wrote.as_ref())));
            }
            state.locals.set(i, &Local::default());
            environment_write(state, &op, s)
        }
        (Controller::Kubelet { .. }, _) | (_, Actor::NodeRestart(_)) => {
            Err(format!("{c}: a restart of the wrong sort ({:?})", s.actor))
        }
        _ => {
            if state.locals.get(i).is_default() {
                return Err(format!("{c}: the model offers no restart of a controller with no state to lose"));
            }
            state.locals.set(i, &Local::default());
            Ok(())
        }
    }
}

/// After an accepted write: etcd's commit is the model's write number and
/// holds the model's newest state.
fn after_write(
    state: &KubeState<ResettableSession>,
    s: &Step,
    base: i64,
    etcd_at: &BTreeMap<i64, Store>,
) -> Result<(), String> {
    let Some(Ok(commit)) = s.outcome else {
        return Ok(());
    };
    let expected = base + i64::from(state.history.max().newest());
    if commit != expected {
        return Err(format!("committed as revision {commit}, the model's write is {expected}"));
    }
    match etcd_at.get(&commit) {
        Some(e) if *e == *state.history.latest() => Ok(()),
        Some(e) => Err(format!("after the write, etcd holds {}", difference(&state.history.latest(), e))),
        None => Err(format!("no record of etcd at revision {commit}")),
    }
}

fn shift(r: &Revision, base: i64) -> String {
    format!("{}", base + i64::from(r.newest()))
}

fn show(op: Option<&Operation>) -> String {
    op.map_or("nothing".to_string(), |o| format!("'{o}'"))
}

/// The first object that differs between what the model expects and etcd holds.
fn difference(model: &Store, etcd: &Store) -> String {
    let (Ok(m), Ok(e)) = (crate::etcd_store::encode(model), crate::etcd_store::encode(etcd)) else {
        return "objects that cannot be encoded".into();
    };
    for (k, v) in &m {
        match e.get(k) {
            None => return format!("no {k}, which the model has"),
            Some(w) if w != v => {
                return format!("{k} as {}, the model as {}", String::from_utf8_lossy(w), String::from_utf8_lossy(v))
            }
            _ => {}
        }
    }
    match e.keys().find(|k| !m.contains_key(*k)) {
        Some(k) => format!("{k}, which the model does not have"),
        None => "the same objects (in a different form)".into(),
    }
}
