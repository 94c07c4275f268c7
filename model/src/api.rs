//! The API server: operations on a store, with optimistic concurrency.
//!
//! Krepis follows Kubernetes where the reference (Themelios) deviates:
//! status is written through a status subresource (only the status changes and
//! the generation does not move), the generation moves only on spec changes,
//! updates must carry the stored resource version exactly, deletes carry a uid
//! precondition, and a graceful delete marks the object (`deleting`) until its
//! owner lets go. A rejected write is a normal outcome ([`Rejection`]).

use std::fmt;

use crate::meta::{name_joined, with_decimal, with_joined, Kind, Name, Rev, Uid};
use crate::resources::{
    ControllerRevision, Deployment, Job, Node, Object, PersistentVolumeClaim, Pod, ReplicaSet, StatefulSet,
};
use crate::store::{Collection, Store};

/// A write a controller or the environment asks the API server for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Operation {
    /// Register a node (Ready) under this name.
    NodeJoin(Name),
    /// Remove a node (uid precondition).
    DeleteNode { name: Name, uid: Uid },
    /// Create a pod; the server sets its uid and version.
    CreatePod(Pod),
    /// Update a pod's spec and metadata (version must match).
    UpdatePod(Pod),
    /// Update a pod's status (version must match).
    UpdatePodStatus(Pod),
    /// Start a graceful delete (uid precondition): an unbound pod goes at once,
    /// a bound one is marked until its kubelet has stopped it.
    DeletePod { name: Name, uid: Uid },
    /// Remove a pod now (grace period 0; uid precondition).
    RemovePod { name: Name, uid: Uid },
    /// Create a ReplicaSet (clients).
    CreateReplicaSet(ReplicaSet),
    /// Update a ReplicaSet's spec (clients: scaling).
    UpdateReplicaSet(ReplicaSet),
    /// Update a ReplicaSet's status (version must match).
    UpdateReplicaSetStatus(ReplicaSet),
    /// Create a StatefulSet (clients).
    CreateStatefulSet(StatefulSet),
    /// Update a StatefulSet's spec (clients: scaling).
    UpdateStatefulSet(StatefulSet),
    /// Update a StatefulSet's status (version must match).
    UpdateStatefulSetStatus(StatefulSet),
    /// Create a Deployment (clients).
    CreateDeployment(Deployment),
    /// Update a Deployment's spec (clients: scale, image, pause).
    UpdateDeployment(Deployment),
    /// Update a Deployment's status (version must match).
    UpdateDeploymentStatus(Deployment),
    /// Create a Job (clients).
    CreateJob(Job),
    /// Update a Job's spec (clients: suspend).
    UpdateJob(Job),
    /// Update a Job's status (version must match).
    UpdateJobStatus(Job),
    /// Create a ControllerRevision (the StatefulSet controller).
    CreateControllerRevision(ControllerRevision),
    /// Renumber a ControllerRevision (version must match).
    UpdateControllerRevision(ControllerRevision),
    /// Create a PersistentVolumeClaim (the StatefulSet controller).
    CreatePvc(PersistentVolumeClaim),
}

/// Why the API server refused a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Rejection {
    /// Create of a name that exists.
    AlreadyExists,
    /// The object is not there.
    NotFound,
    /// The object changed since it was read (resource version or uid differs).
    Conflict,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::AlreadyExists => "already exists",
            Rejection::NotFound => "not found",
            Rejection::Conflict => "conflict",
        })
    }
}

impl Operation {
    /// The kind and name of the object written.
    pub fn target(&self) -> (Kind, &Name) {
        match self {
            Operation::NodeJoin(n) | Operation::DeleteNode { name: n, .. } => (Kind::Node, n),
            Operation::CreatePod(p) | Operation::UpdatePod(p) | Operation::UpdatePodStatus(p) => {
                (Kind::Pod, &p.meta.name)
            }
            Operation::DeletePod { name, .. } | Operation::RemovePod { name, .. } => (Kind::Pod, name),
            Operation::CreateStatefulSet(s)
            | Operation::UpdateStatefulSet(s)
            | Operation::UpdateStatefulSetStatus(s) => (Kind::StatefulSet, &s.meta.name),
            Operation::CreateReplicaSet(s) | Operation::UpdateReplicaSet(s) | Operation::UpdateReplicaSetStatus(s) => {
                (Kind::ReplicaSet, &s.meta.name)
            }
            Operation::CreateDeployment(d) | Operation::UpdateDeployment(d) | Operation::UpdateDeploymentStatus(d) => {
                (Kind::Deployment, &d.meta.name)
            }
            Operation::CreateJob(j) | Operation::UpdateJob(j) | Operation::UpdateJobStatus(j) => {
                (Kind::Job, &j.meta.name)
            }
            Operation::CreateControllerRevision(r) | Operation::UpdateControllerRevision(r) => {
                (Kind::ControllerRevision, &r.meta.name)
            }
            Operation::CreatePvc(c) => (Kind::PersistentVolumeClaim, &c.meta.name),
        }
    }

    /// A short verb for traces.
    pub fn verb(&self) -> &'static str {
        match self {
            Operation::NodeJoin(_) => "join",
            Operation::DeleteNode { .. } => "delete",
            Operation::CreatePod(_) => "create",
            Operation::UpdatePod(p) if p.spec.node_name.is_some() => "bind/update",
            Operation::UpdatePod(_) => "update",
            Operation::UpdatePodStatus(_) => "update status of",
            Operation::DeletePod { .. } => "delete",
            Operation::RemovePod { .. } => "remove",
            Operation::CreateStatefulSet(_)
            | Operation::CreateReplicaSet(_)
            | Operation::CreateDeployment(_)
            | Operation::CreateJob(_)
            | Operation::CreateControllerRevision(_)
            | Operation::CreatePvc(_) => "create",
            Operation::UpdateReplicaSet(_)
            | Operation::UpdateStatefulSet(_)
            | Operation::UpdateDeployment(_)
            | Operation::UpdateJob(_)
            | Operation::UpdateControllerRevision(_) => "update",
            Operation::UpdateReplicaSetStatus(_)
            | Operation::UpdateStatefulSetStatus(_)
            | Operation::UpdateDeploymentStatus(_)
            | Operation::UpdateJobStatus(_) => "update status of",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, name) = self.target();
        match self {
            Operation::CreatePod(p) if name.is_empty() => {
                let prefix = p.meta.generate_name.as_deref().unwrap_or("");
                write!(f, "{} {kind} {prefix}*", self.verb())?
            }
            _ => write!(f, "{} {kind} {name}", self.verb())?,
        }
        match self {
            Operation::UpdatePod(p) => {
                if let Some(n) = &p.spec.node_name {
                    write!(f, " (node {n})")?;
                }
            }
            Operation::UpdatePodStatus(p) => write!(f, " ({:?}{})", p.phase, if p.ready { ", ready" } else { "" })?,
            Operation::UpdateStatefulSetStatus(s) => {
                write!(f, " (replicas {}, ready {})", s.status.replicas, s.status.ready_replicas)?
            }
            Operation::UpdateReplicaSet(s) | Operation::CreateReplicaSet(s) => {
                write!(f, " (spec replicas {})", s.spec.replicas)?
            }
            Operation::UpdateDeployment(d) => write!(
                f,
                " (replicas {}, image {}{})",
                d.spec.replicas,
                d.spec.template_images.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(","),
                if d.spec.paused { ", paused" } else { "" }
            )?,
            Operation::UpdateDeploymentStatus(d) => write!(
                f,
                " (replicas {}, updated {}, available {})",
                d.status.replicas, d.status.updated_replicas, d.status.available_replicas
            )?,
            Operation::UpdateJob(j) => write!(f, " ({})", if j.spec.suspend { "suspend" } else { "resume" })?,
            Operation::UpdateJobStatus(j) => write!(
                f,
                " (active {}, succeeded {}, uncounted {}{})",
                j.status.active,
                j.status.succeeded,
                j.status.uncounted_succeeded.len() + j.status.uncounted_failed.len(),
                if j.status.complete { ", complete" } else { "" }
            )?,
            Operation::UpdateStatefulSet(s) => write!(f, " (spec replicas {})", s.spec.replicas)?,
            Operation::UpdateReplicaSetStatus(s) => {
                write!(f, " (replicas {}, ready {})", s.status.replicas, s.status.ready_replicas)?
            }
            _ => {}
        }
        Ok(())
    }
}

fn create<T: Object>(c: &mut Collection<T>, mut obj: T, rev: Rev) -> Result<(), Rejection> {
    if let Some(prefix) = obj.meta().generate_name {
        if obj.meta().name.is_empty() {
            let taken = |k: u32| with_decimal(k.into(), |d| with_joined(&[&prefix, d], |n| c.get(n).is_some()));
            let free = (0u32..).find(|k| !taken(*k)).unwrap_or(0);
            obj.meta_mut().name = with_decimal(free.into(), |d| name_joined(&[&prefix, d]));
        }
    }
    if c.get(&obj.meta().name).is_some() {
        return Err(Rejection::AlreadyExists);
    }
    let m = obj.meta_mut();
    m.uid = rev;
    m.resource_version = rev;
    m.generation = 1;
    m.deleting = false;
    m.grace_zero = false;
    c.put(obj);
    Ok(())
}

/// The stored object that `incoming` may replace: same uid and version.
fn current<'a, T: Object>(c: &'a Collection<T>, incoming: &T) -> Result<&'a T, Rejection> {
    let old = c.get(&incoming.meta().name).ok_or(Rejection::NotFound)?;
    if old.meta().uid != incoming.meta().uid || old.meta().resource_version != incoming.meta().resource_version {
        return Err(Rejection::Conflict);
    }
    Ok(old)
}

fn update<T: Object>(c: &mut Collection<T>, mut obj: T, rev: Rev) -> Result<(), Rejection> {
    let old = current(c, &obj)?;
    let generation = old.meta().generation + u32::from(!old.same_spec(&obj));
    let deleting = old.meta().deleting;
    let m = obj.meta_mut();
    m.generation = generation;
    m.deleting |= deleting; // a delete cannot be undone
    m.resource_version = rev;
    if obj.removable() {
        c.remove(&obj.meta().name.clone());
    } else {
        c.put(obj);
    }
    Ok(())
}

/// A spec (and metadata) update: the stored status stays.
fn update_spec<T: Object>(c: &mut Collection<T>, obj: &T, rev: Rev) -> Result<(), Rejection> {
    let old = current(c, obj)?;
    let mut new = obj.clone();
    new.copy_status(old);
    update(c, new, rev)
}

/// A status update (the status subresource): only the status changes.
fn update_status<T: Object>(c: &mut Collection<T>, obj: &T, rev: Rev) -> Result<(), Rejection> {
    let old = current(c, obj)?;
    let mut new = old.clone();
    new.copy_status(obj);
    new.meta_mut().resource_version = rev;
    c.put(new);
    Ok(())
}

fn precondition<'a, T: Object>(c: &'a Collection<T>, name: &str, uid: Uid) -> Result<&'a T, Rejection> {
    let o = c.get(name).ok_or(Rejection::NotFound)?;
    if o.meta().uid != uid {
        return Err(Rejection::Conflict);
    }
    Ok(o)
}

/// Applies `op` to `store` as the write numbered `rev` (greater than every
/// stamp in the store). On rejection the store is unchanged.
pub fn apply(store: &mut Store, op: &Operation, rev: Rev) -> Result<(), Rejection> {
    match op {
        Operation::NodeJoin(name) => create(
            &mut store.nodes,
            Node { meta: crate::meta::Meta::named(name), unschedulable: false, ready: true },
            rev,
        ),
        Operation::DeleteNode { name, uid } => {
            precondition(&store.nodes, name, *uid)?;
            store.nodes.remove(name);
            Ok(())
        }
        Operation::CreatePod(p) => create(&mut store.pods, p.clone(), rev),
        Operation::UpdatePod(p) => update_spec(&mut store.pods, p, rev),
        Operation::UpdatePodStatus(p) => update_status(&mut store.pods, p, rev),
        Operation::DeletePod { name, uid } => {
            let pod = precondition(&store.pods, name, *uid)?;
            if pod.meta.deleting {
                return Ok(());
            }
            if pod.spec.node_name.is_none() && pod.meta.finalizers.is_empty() {
                store.pods.remove(name);
            } else {
                let mut p = pod.clone();
                p.meta.deleting = true;
                p.meta.resource_version = rev;
                store.pods.put(p);
            }
            Ok(())
        }
        Operation::RemovePod { name, uid } => {
            let pod = precondition(&store.pods, name, *uid)?;
            if pod.meta.finalizers.is_empty() {
                store.pods.remove(name);
            } else if !(pod.meta.deleting && pod.meta.grace_zero) {
                let mut p = pod.clone();
                p.meta.deleting = true;
                p.meta.grace_zero = true;
                p.meta.resource_version = rev;
                store.pods.put(p);
            }
            Ok(())
        }
        Operation::CreateStatefulSet(s) => create(&mut store.statefulsets, s.clone(), rev),
        Operation::UpdateStatefulSet(s) => update_spec(&mut store.statefulsets, s, rev),
        Operation::UpdateStatefulSetStatus(s) => update_status(&mut store.statefulsets, s, rev),
        Operation::CreateReplicaSet(s) => create(&mut store.replicasets, s.clone(), rev),
        Operation::UpdateReplicaSet(s) => update_spec(&mut store.replicasets, s, rev),
        Operation::UpdateReplicaSetStatus(s) => update_status(&mut store.replicasets, s, rev),
        Operation::CreateDeployment(d) => create(&mut store.deployments, d.clone(), rev),
        Operation::UpdateDeployment(d) => update_spec(&mut store.deployments, d, rev),
        Operation::UpdateDeploymentStatus(d) => update_status(&mut store.deployments, d, rev),
        Operation::CreateJob(j) => create(&mut store.jobs, j.clone(), rev),
        Operation::UpdateJob(j) => update_spec(&mut store.jobs, j, rev),
        Operation::UpdateJobStatus(j) => update_status(&mut store.jobs, j, rev),
        Operation::CreateControllerRevision(r) => create(&mut store.controllerrevisions, r.clone(), rev),
        Operation::UpdateControllerRevision(r) => update_spec(&mut store.controllerrevisions, r, rev),
        Operation::CreatePvc(c) => create(&mut store.pvcs, c.clone(), rev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{name, Meta};
    use crate::resources::{Phase, PodSpec};

    fn pod(n: &str) -> Pod {
        Pod {
            meta: Meta::named(n),
            spec: PodSpec {
                node_name: None,
                images: krepis_encodings::SymList::new(&[name("img")]),
                run_to_completion: false,
            },
            phase: Phase::Pending,
            ready: false,
        }
    }

    #[test]
    fn create_sets_uid_version_generation_and_refuses_duplicates() {
        let mut s = Store::default();
        apply(&mut s, &Operation::CreatePod(pod("a")), 5).unwrap();
        let a = s.pods.get("a").unwrap();
        assert_eq!((a.meta.uid, a.meta.resource_version, a.meta.generation), (5, 5, 1));
        assert_eq!(apply(&mut s, &Operation::CreatePod(pod("a")), 6), Err(Rejection::AlreadyExists));
    }

    #[test]
    fn stale_updates_conflict_and_leave_the_store_unchanged() {
        let mut s = Store::default();
        apply(&mut s, &Operation::CreatePod(pod("a")), 1).unwrap();
        let read = s.pods.get("a").unwrap().clone();
        let mut bound = read.clone();
        bound.spec.node_name = Some(name("n1"));
        apply(&mut s, &Operation::UpdatePod(bound), 2).unwrap();
        assert_eq!(s.pods.get("a").unwrap().meta.generation, 2, "spec change bumps generation");
        let before = s.clone();
        let mut other = read;
        other.spec.node_name = Some(name("n2"));
        assert_eq!(apply(&mut s, &Operation::UpdatePod(other), 3), Err(Rejection::Conflict));
        assert_eq!(s, before);
    }

    #[test]
    fn status_updates_keep_spec_and_generation() {
        let mut s = Store::default();
        apply(&mut s, &Operation::CreatePod(pod("a")), 1).unwrap();
        let mut p = s.pods.get("a").unwrap().clone();
        p.phase = Phase::Running;
        p.spec.node_name = Some(name("sneaky"));
        apply(&mut s, &Operation::UpdatePodStatus(p), 2).unwrap();
        let a = s.pods.get("a").unwrap();
        assert_eq!(
            (a.phase, a.spec.node_name, a.meta.generation, a.meta.resource_version),
            (Phase::Running, None, 1, 2)
        );
    }

    #[test]
    fn deletes_check_the_uid_and_are_graceful_for_bound_pods() {
        let mut s = Store::default();
        apply(&mut s, &Operation::CreatePod(pod("a")), 1).unwrap();
        let mut p = s.pods.get("a").unwrap().clone();
        p.spec.node_name = Some(name("n"));
        apply(&mut s, &Operation::UpdatePod(p), 2).unwrap();
        assert_eq!(apply(&mut s, &Operation::DeletePod { name: name("a"), uid: 99 }, 3), Err(Rejection::Conflict));
        apply(&mut s, &Operation::DeletePod { name: name("a"), uid: 1 }, 3).unwrap();
        assert!(s.pods.get("a").unwrap().meta.deleting, "bound pods wait for their kubelet");
        apply(&mut s, &Operation::RemovePod { name: name("a"), uid: 1 }, 4).unwrap();
        assert!(s.pods.get("a").is_none());
        assert_eq!(apply(&mut s, &Operation::RemovePod { name: name("a"), uid: 1 }, 5), Err(Rejection::NotFound));
        // an unbound pod goes at once
        apply(&mut s, &Operation::CreatePod(pod("b")), 6).unwrap();
        apply(&mut s, &Operation::DeletePod { name: name("b"), uid: 6 }, 7).unwrap();
        assert!(s.pods.get("b").is_none());
    }
}
