//! The store adapter: the model's objects in etcd, read as whole consistent
//! snapshots and written through the model's own API server.
//!
//! # How a write happens
//! [`EtcdStore::write`] reads every object at etcd's current revision `R`,
//! applies the operation with [`krepis_model::api::apply`] (the API server the
//! checker uses: resource-version and uid preconditions, generated names,
//! graceful deletes), and commits the difference in one transaction that
//! also rewrites the guard key, on condition that the guard's mod revision is
//! still `R`. So a write is decided on exactly the state it commits on, as
//! in the model; if anything was written in between, it is decided again on
//! the newer state. A rejection ([`Rejection`]) is an answer, not an error.
//!
//! # Revisions and stamps
//! Objects are JSON under Kubernetes' keys ([`crate::keys`]). A resource
//! version is the object's etcd mod revision, less the revision `base` at
//! which the run started (kept in the guard's value): so the model's write
//! numbers (1, 2, ...) and etcd's revisions correspond one to one, and
//! uids (the number of the creating write) are etcd create revisions less
//! `base`. A write that changes no object still rewrites the guard, as the
//! model's history still gains an entry for it.
//!
//! # Lost connections
//! A request that fails or takes longer than [`TIMEOUT`] is
//! [`RuntimeError::Unreachable`]. [`EtcdStore::write`] retries with backoff
//! and, when a commit's answer was lost, reads the guard at the revision the
//! commit would have had to learn whether it happened: a write is neither
//! lost nor applied twice.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use etcd_client::{Client, Compare, CompareOp, ConnectOptions, GetOptions, Txn, TxnOp, WatchOptions};
use krepis_model::api::{apply, Operation, Rejection};
use krepis_model::meta::{Kind, Rev};
use krepis_model::resources::Object;
use krepis_model::store::{Collection, Store};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use crate::keys::{key, parse, GUARD, PREFIX};

/// How long connecting, and then each request, may take before etcd counts
/// as unreachable (a healthy etcd on loopback answers in milliseconds).
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The longest pause between retries while etcd is unreachable.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What can go wrong talking to etcd (rejected writes are not errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeError {
    /// etcd did not answer (connection refused or lost, or a timeout).
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// What failed.
        detail: String,
    },
    /// etcd holds data krepis did not write, or was written by someone else
    /// during the run.
    NotOurs(String),
    /// Data krepis cannot read back (a bad object, a revision out of range).
    Corrupt(String),
    /// A run asked for something the scenario does not have.
    BadInput(String),
}

impl RuntimeError {
    /// Whether retrying later may help (etcd unreachable).
    pub fn is_transient(&self) -> bool {
        matches!(self, RuntimeError::Unreachable { .. })
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Unreachable { endpoint, detail } => write!(f, "etcd at {endpoint} is unreachable: {detail}"),
            RuntimeError::NotOurs(m) | RuntimeError::Corrupt(m) | RuntimeError::BadInput(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RuntimeError {}

/// Every object at one etcd revision.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// etcd's revision of the read.
    pub revision: i64,
    /// etcd's revision when the run started (stamps are relative to it).
    pub base: i64,
    /// The objects, with resource versions from etcd.
    pub store: Store,
    /// Who wrote the guard last (empty before the first write).
    pub last_writer: String,
    /// Whether a krepis run has written this etcd (the guard exists).
    pub guarded: bool,
}

impl Snapshot {
    /// The read's revision as a model stamp.
    pub fn stamp(&self) -> Result<Rev, RuntimeError> {
        stamp(self.revision, self.base)
    }
}

fn stamp(revision: i64, base: i64) -> Result<Rev, RuntimeError> {
    Rev::try_from(revision - base)
        .map_err(|_| RuntimeError::Corrupt(format!("etcd revision {revision} is out of range for base {base}")))
}

/// The API server's answer to a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The etcd revision of the state the write was decided on.
    pub decided_at: i64,
    /// The revision it committed as, or why it was refused.
    pub outcome: Result<i64, Rejection>,
}

/// A connection to etcd, as one writer (a controller instance, or the loader).
pub struct EtcdStore {
    client: Client,
    endpoint: String,
    writer: String,
    seq: u64,
}

impl EtcdStore {
    /// Connects to `endpoint` (`http://host:port`) as `writer` and reads once,
    /// so that an unreachable etcd is an error here, within [`TIMEOUT`] or so.
    pub async fn connect(endpoint: &str, writer: &str) -> Result<Self, RuntimeError> {
        let unreachable = |detail: String| RuntimeError::Unreachable { endpoint: endpoint.to_string(), detail };
        let opts = ConnectOptions::new().with_connect_timeout(TIMEOUT).with_timeout(TIMEOUT);
        let client = match tokio::time::timeout(TIMEOUT, Client::connect([endpoint], Some(opts))).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable(format!("no answer within {} s", TIMEOUT.as_secs()))),
        };
        let mut store = EtcdStore { client, endpoint: endpoint.to_string(), writer: writer.to_string(), seq: 0 };
        store.read().await?;
        Ok(store)
    }

    /// Another writer on the same connection.
    pub fn handle(&self, writer: &str) -> Self {
        EtcdStore { client: self.client.clone(), endpoint: self.endpoint.clone(), writer: writer.to_string(), seq: 0 }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn unreachable(&self, detail: impl fmt::Display) -> RuntimeError {
        RuntimeError::Unreachable { endpoint: self.endpoint.clone(), detail: brief(&detail.to_string()) }
    }

    /// Every object now.
    pub async fn read(&mut self) -> Result<Snapshot, RuntimeError> {
        self.range(None).await
    }

    /// Every object at etcd revision `revision` (which must not be compacted).
    pub async fn read_at(&mut self, revision: i64) -> Result<Snapshot, RuntimeError> {
        self.range(Some(revision)).await
    }

    async fn range(&mut self, revision: Option<i64>) -> Result<Snapshot, RuntimeError> {
        let mut opts = GetOptions::new().with_prefix();
        if let Some(r) = revision {
            opts = opts.with_revision(r);
        }
        let resp = match tokio::time::timeout(TIMEOUT, self.client.get(PREFIX, Some(opts))).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(self.unreachable(e)),
            Err(_) => return Err(self.unreachable(format!("a read took over {} s", TIMEOUT.as_secs()))),
        };
        let now = resp.header().map(|h| h.revision()).ok_or_else(|| self.unreachable("a read without header"))?;
        let at = revision.unwrap_or(now);
        let mut guard = None;
        let mut objects = Vec::new();
        for kv in resp.kvs() {
            let k = kv.key_str().map_err(|e| RuntimeError::NotOurs(format!("a key that is not UTF-8: {e}")))?;
            if k == GUARD {
                let v = kv.value_str().unwrap_or("");
                guard = Some((kv.mod_revision(), v.to_string()));
            } else {
                let (kind, name) = parse(k).ok_or_else(|| {
                    RuntimeError::NotOurs(format!("etcd at {} holds {k}, which krepis did not write", self.endpoint))
                })?;
                objects.push((kind, name.to_string(), kv.value().to_vec(), kv.mod_revision()));
            }
        }
        let (base, last_writer, guarded) = match guard {
            Some((m, v)) => {
                if m != at {
                    return Err(RuntimeError::NotOurs(format!(
                        "etcd at {}: revision {at} was not written by krepis (its last write is revision {m}); \
                         a run needs an etcd that nothing else writes",
                        self.endpoint
                    )));
                }
                let (b, w) = v.split_once(' ').unwrap_or((&v, ""));
                let b = b.parse().map_err(|_| RuntimeError::Corrupt(format!("a bad guard value {v:?}")))?;
                (b, w.to_string(), true)
            }
            None if objects.is_empty() => (at, String::new(), false),
            None => {
                return Err(RuntimeError::NotOurs(format!(
                    "etcd at {} holds {} objects under {PREFIX} that krepis did not write: use an empty etcd",
                    self.endpoint,
                    objects.len()
                )))
            }
        };
        let mut store = Store::default();
        for (kind, name, value, m) in objects {
            decode(&mut store, kind, &name, &value, stamp(m, base)?)
                .map_err(|e| RuntimeError::Corrupt(format!("{}: {e}", key(kind, &name))))?;
        }
        Ok(Snapshot { revision: at, base, store, last_writer, guarded })
    }

    /// Applies `op` through the model's API server on the newest state and
    /// commits it (see the module doc). While etcd is unreachable it retries
    /// with backoff until `until`, then gives up with the last error; the
    /// write's fate is then unknown only if its commit was sent and never
    /// answered.
    pub async fn write(&mut self, op: &Operation, until: Instant) -> Result<Written, RuntimeError> {
        match self.write_on(op, None, until).await? {
            Some(w) => Ok(w),
            None => Err(RuntimeError::Corrupt("a write without a required revision was not decided".into())),
        }
    }

    /// As [`Self::write`], but only on the state at etcd revision `on`
    /// if given: `None` if etcd has moved past it (nothing written).
    pub async fn write_on(
        &mut self,
        op: &Operation,
        on: Option<i64>,
        until: Instant,
    ) -> Result<Option<Written>, RuntimeError> {
        self.seq += 1;
        let tag = format!("{}#{}", self.writer, self.seq);
        let mut pending = None;
        let mut delay = Duration::from_millis(100);
        loop {
            match self.try_write(op, on, &tag, &mut pending).await {
                Err(e) if e.is_transient() && Instant::now() + delay < until => {
                    if delay == Duration::from_millis(100) {
                        eprintln!("{}: lost etcd while writing: {e}; retrying with backoff", self.writer);
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
                other => {
                    if other.is_ok() && delay > Duration::from_millis(100) {
                        eprintln!("{}: etcd is back", self.writer);
                    }
                    return other;
                }
            }
        }
    }

    async fn try_write(
        &mut self,
        op: &Operation,
        on: Option<i64>,
        tag: &str,
        pending: &mut Option<i64>,
    ) -> Result<Option<Written>, RuntimeError> {
        loop {
            if let Some(at) = *pending {
                // A commit that would have been revision `at` went unanswered.
                let now = self.read().await?;
                if now.revision >= at && self.read_at(at).await?.last_writer == tag {
                    *pending = None;
                    return Ok(Some(Written { decided_at: at - 1, outcome: Ok(at) }));
                }
                *pending = None;
            }
            let snap = self.read().await?;
            if on.is_some_and(|r| r != snap.revision) {
                return Ok(None);
            }
            let mut next = snap.store.clone();
            let write_stamp = snap.stamp()? + 1;
            if let Err(rejection) = apply(&mut next, op, write_stamp) {
                return Ok(Some(Written { decided_at: snap.revision, outcome: Err(rejection) }));
            }
            let mut ops = changes(&snap.store, &next)?;
            ops.push(TxnOp::put(GUARD, format!("{} {tag}", snap.base), None));
            let txn = Txn::new()
                .when([Compare::mod_revision(GUARD, CompareOp::Equal, if snap.guarded { snap.revision } else { 0 })])
                .and_then(ops);
            *pending = Some(snap.revision + 1);
            let resp = match tokio::time::timeout(TIMEOUT, self.client.txn(txn)).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return Err(self.unreachable(e)),
                Err(_) => return Err(self.unreachable(format!("a commit took over {} s", TIMEOUT.as_secs()))),
            };
            *pending = None;
            if resp.succeeded() {
                let commit = resp.header().map(|h| h.revision()).unwrap_or(snap.revision + 1);
                return Ok(Some(Written { decided_at: snap.revision, outcome: Ok(commit) }));
            }
            // Someone wrote in between: decide again on the newer state.
        }
    }

    /// Waits until etcd has a revision after `after`, `wake` changes,
    /// `until` passes, or a second goes by (the caller reads again: a watch
    /// on a dead connection may never say so).
    pub async fn wait_change(
        &mut self,
        after: i64,
        wake: &mut watch::Receiver<u64>,
        until: Instant,
    ) -> Result<(), RuntimeError> {
        let opts = WatchOptions::new().with_prefix().with_start_revision(after + 1);
        let mut stream = match tokio::time::timeout(TIMEOUT, self.client.watch(PREFIX, Some(opts))).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(self.unreachable(e)),
            Err(_) => return Err(self.unreachable("a watch took too long to start")),
        };
        let tick = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                msg = stream.message() => match msg {
                    Ok(Some(resp)) if resp.events().is_empty() && !resp.canceled() => continue,
                    Ok(_) => return Ok(()),
                    Err(e) => return Err(self.unreachable(e)),
                },
                _ = wake.changed() => return Ok(()),
                _ = tokio::time::sleep_until(until.into()) => return Ok(()),
                _ = &mut tick => return Ok(()),
            }
        }
    }

    /// Writes `ops` (a scenario's [`krepis_model::KubeModel::initial_writes`])
    /// into an etcd that holds nothing under [`PREFIX`]. Returns the base
    /// revision: write `k` (from 1) is then etcd revision `base + k`.
    pub async fn load(&mut self, ops: &[Operation], until: Instant) -> Result<i64, RuntimeError> {
        let snap = self.read().await?;
        if snap.guarded {
            return Err(RuntimeError::NotOurs(format!(
                "etcd at {} already holds a krepis run (revision {}): use an empty etcd",
                self.endpoint, snap.revision
            )));
        }
        let base = snap.revision;
        for (k, op) in ops.iter().enumerate() {
            let w = self.write(op, until).await?;
            if w.outcome != Ok(base + k as i64 + 1) {
                return Err(RuntimeError::NotOurs(format!(
                    "loading the scenario: {op} gave {:?} (expected revision {}); was etcd written meanwhile?",
                    w.outcome,
                    base + k as i64 + 1
                )));
            }
        }
        Ok(base)
    }
}

/// The gist of a gRPC error (tonic's messages carry the whole source chain).
fn brief(detail: &str) -> String {
    let d = detail.strip_prefix("grpc request error: ").unwrap_or(detail);
    let refused = d.contains("Connection refused");
    let d = d.split(", source:").next().unwrap_or(d);
    if refused {
        format!("{d} (connection refused)")
    } else {
        d.to_string()
    }
}

fn decode(store: &mut Store, kind: Kind, name: &str, value: &[u8], rv: Rev) -> Result<(), String> {
    fn put<T: Object + DeserializeOwned>(
        c: &mut Collection<T>,
        name: &str,
        value: &[u8],
        rv: Rev,
    ) -> Result<(), String> {
        let mut o: T = serde_json::from_slice(value).map_err(|e| e.to_string())?;
        if *o.meta().name != *name {
            return Err(format!("holds an object called {}", o.meta().name));
        }
        o.meta_mut().resource_version = rv;
        c.put(o);
        Ok(())
    }
    match kind {
        Kind::Node => put(&mut store.nodes, name, value, rv),
        Kind::Pod => put(&mut store.pods, name, value, rv),
        Kind::StatefulSet => put(&mut store.statefulsets, name, value, rv),
        Kind::ReplicaSet => put(&mut store.replicasets, name, value, rv),
        Kind::Deployment => put(&mut store.deployments, name, value, rv),
        Kind::Job => put(&mut store.jobs, name, value, rv),
        Kind::ControllerRevision => put(&mut store.controllerrevisions, name, value, rv),
        Kind::PersistentVolumeClaim => put(&mut store.pvcs, name, value, rv),
    }
}

/// Every object of `store` as (key, JSON).
pub fn encode(store: &Store) -> Result<BTreeMap<String, Vec<u8>>, RuntimeError> {
    fn add<T: Object + Serialize>(
        out: &mut BTreeMap<String, Vec<u8>>,
        kind: Kind,
        c: &Collection<T>,
    ) -> Result<(), RuntimeError> {
        for o in c.iter() {
            let json = serde_json::to_vec(o).map_err(|e| RuntimeError::Corrupt(e.to_string()))?;
            out.insert(key(kind, &o.meta().name), json);
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    add(&mut out, Kind::Node, &store.nodes)?;
    add(&mut out, Kind::Pod, &store.pods)?;
    add(&mut out, Kind::StatefulSet, &store.statefulsets)?;
    add(&mut out, Kind::ReplicaSet, &store.replicasets)?;
    add(&mut out, Kind::Deployment, &store.deployments)?;
    add(&mut out, Kind::Job, &store.jobs)?;
    add(&mut out, Kind::ControllerRevision, &store.controllerrevisions)?;
    add(&mut out, Kind::PersistentVolumeClaim, &store.pvcs)?;
    Ok(out)
}

/// The puts and deletes that turn `old` into `new`.
fn changes(old: &Store, new: &Store) -> Result<Vec<TxnOp>, RuntimeError> {
    let (old, new) = (encode(old)?, encode(new)?);
    let mut ops = Vec::new();
    for (k, v) in &new {
        if old.get(k) != Some(v) {
            ops.push(TxnOp::put(k.as_str(), v.clone(), None));
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        ops.push(TxnOp::delete(k.as_str(), None));
    }
    Ok(ops)
}
