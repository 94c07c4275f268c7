//! Scenario files (YAML): the objects, controller counts, consistency model,
//! perturbation budgets. Every error names the file, the line and the field.
//!
//! ```yaml
//! name: web                    # optional; defaults to the file name
//! consistency: causal          # synchronous | monotonic-session | resettable-session | optimistic-linear | causal
//! nodes: 2                     # each with its kubelet, registered and Ready
//! controllers: { scheduler: 1, replicaset: 1, statefulset: 0, podgc: 1, deployment: 1, job: 1 }
//! scheduler_ties: name         # between equally loaded nodes: name (the first by name) | any (any of them)
//! restarts: 1                  # controller or node restarts allowed in a run (255: unbounded)
//! client_writes: 1             # client writes (perturbations) allowed in a run (255: unbounded)
//! perturbations: [scale]       # any of: scale, image, pause, suspend
//! settle: false                # true: start once the controllers have nothing left to do
//! properties: [pods-on-nodes-unique]   # optional: check only these (default: all that apply)
//! replicasets:
//!   - { name: web, replicas: 2, labels: { app: web }, image: nginx }
//! statefulsets:                # optional: claims (volume claim templates), partition, on_delete
//!   - { name: db, replicas: 1, labels: { app: db }, image: postgres, claims: [data] }
//! deployments:                 # optional: paused, strategy (rolling-update | recreate), max_surge, max_unavailable (counts)
//!   - { name: api, replicas: 2, labels: { app: api }, image: api }
//! jobs:                        # optional: completions, suspend, backoff_limit (default 6)
//!   - { name: batch, parallelism: 2, completions: 2, labels: { app: batch }, image: batch }
//! pods:
//!   - { name: spare, image: busybox }           # optional: labels, node, owner
//! ```
//!
//! Controller counts default to 1 for the scheduler and PodGC and, for the
//! other kinds, to 1 when the file has objects of that kind.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::meta::{name, Kind, Labels, Meta, OwnerRef};
use crate::resources::{
    Deployment, DeploymentSpec, DeploymentStatus, Job, JobSpec, JobStatus, Phase, Pod, PodManagement, PodSpec,
    ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, StatefulSet, StatefulSetSpec, StatefulSetStatus, Strategy,
};
use crate::scenario::{Perturbations, Scenario, SchedulerTies};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: Option<String>,
    consistency: Option<String>,
    nodes: Option<u8>,
    #[serde(default)]
    controllers: Controllers,
    scheduler_ties: Option<String>,
    restarts: Option<u8>,
    client_writes: Option<u8>,
    #[serde(default)]
    settle: bool,
    properties: Option<Vec<String>>,
    #[serde(default)]
    perturbations: Vec<String>,
    #[serde(default)]
    replicasets: Vec<SetFile>,
    #[serde(default)]
    statefulsets: Vec<StatefulSetFile>,
    #[serde(default)]
    deployments: Vec<DeploymentFile>,
    #[serde(default)]
    jobs: Vec<JobFile>,
    #[serde(default)]
    pods: Vec<PodFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Controllers {
    scheduler: Option<u8>,
    replicaset: Option<u8>,
    statefulset: Option<u8>,
    podgc: Option<u8>,
    deployment: Option<u8>,
    job: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatefulSetFile {
    name: String,
    replicas: u32,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    image: Option<String>,
    /// Volume claim templates: pod k gets a claim `<template>-<set>-<k>`.
    #[serde(default)]
    claims: Vec<String>,
    /// Rolling-update partition (ordinals below it keep their revision).
    #[serde(default)]
    partition: u32,
    /// `on-delete` instead of rolling updates.
    #[serde(default)]
    on_delete: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeploymentFile {
    name: String,
    replicas: u32,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    image: Option<String>,
    #[serde(default)]
    paused: bool,
    #[serde(default)]
    strategy: StrategyFile,
    max_surge: Option<u32>,
    max_unavailable: Option<u32>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum StrategyFile {
    #[default]
    RollingUpdate,
    Recreate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobFile {
    name: String,
    parallelism: u32,
    completions: Option<u32>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    image: Option<String>,
    #[serde(default)]
    suspend: bool,
    backoff_limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetFile {
    name: String,
    replicas: u32,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    image: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PodFile {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    image: Option<String>,
    node: Option<String>,
    owner: Option<String>,
}

fn labels(l: &BTreeMap<String, String>) -> Labels {
    let mut out = Labels::default();
    for (k, v) in l {
        out.insert(name(k), name(v));
    }
    out
}

/// The line (1-based) of the first line of `text` that contains all of `parts`.
fn line_of(text: &str, parts: &[&str]) -> usize {
    text.lines().position(|l| parts.iter().all(|p| l.contains(p))).map_or(1, |i| i + 1)
}

/// Parses a scenario from YAML `text`; `file` names it in errors and
/// provides the default name.
pub fn parse(file: &str, text: &str) -> Result<Scenario, String> {
    let f: File = serde_norway::from_str(text).map_err(|e| match e.location() {
        Some(loc) => format!("{file}:{}:{}: {}", loc.line(), loc.column(), strip_location(&e.to_string())),
        None => format!("{file}: {e}"),
    })?;
    let err = |parts: &[&str], msg: String| format!("{file}:{}: {msg}", line_of(text, parts));
    let consistency = f.consistency.clone().unwrap_or_else(|| "synchronous".into());
    if !crate::consistency::NAMES.contains(&consistency.as_str()) {
        return Err(err(
            &["consistency", &consistency],
            format!(
                "field `consistency`: unknown model '{consistency}' (one of: {})",
                crate::consistency::NAMES.join(", ")
            ),
        ));
    }
    let scheduler_ties = match &f.scheduler_ties {
        None => SchedulerTies::Name,
        Some(t) => SchedulerTies::parse(t).ok_or_else(|| {
            err(
                &["scheduler_ties", t],
                format!("field `scheduler_ties`: unknown setting '{t}' (one of: {})", SchedulerTies::NAMES.join(", ")),
            )
        })?,
    };
    let nodes = f.nodes.unwrap_or(1);
    if nodes == 0 || nodes > 8 {
        return Err(err(&["nodes"], format!("field `nodes`: must be 1 to 8, got {nodes}")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (kind, n) in f
        .replicasets
        .iter()
        .map(|s| ("replicaset", &s.name))
        .chain(f.statefulsets.iter().map(|s| ("statefulset", &s.name)))
        .chain(f.deployments.iter().map(|s| ("deployment", &s.name)))
        .chain(f.jobs.iter().map(|s| ("job", &s.name)))
        .chain(f.pods.iter().map(|p| ("pod", &p.name)))
    {
        if n.is_empty() || !seen.insert((kind, n.clone())) {
            return Err(err(&["name", n], format!("field `name`: {kind} name '{n}' is empty or used twice")));
        }
    }
    let image = |i: &Option<String>| -> crate::meta::Names {
        krepis_encodings::SymList::new(&[name(i.as_deref().unwrap_or("app"))])
    };
    let replicasets: Vec<ReplicaSet> = f
        .replicasets
        .iter()
        .map(|s| ReplicaSet {
            meta: Meta { labels: labels(&s.labels), ..Meta::named(&s.name) },
            spec: ReplicaSetSpec {
                replicas: s.replicas,
                selector: labels(&s.labels),
                template_labels: labels(&s.labels),
                template_images: image(&s.image),
            },
            status: ReplicaSetStatus::default(),
        })
        .collect();
    let statefulsets: Vec<StatefulSet> = f
        .statefulsets
        .iter()
        .map(|s| StatefulSet {
            meta: Meta { labels: labels(&s.labels), ..Meta::named(&s.name) },
            spec: StatefulSetSpec {
                replicas: s.replicas,
                selector: labels(&s.labels),
                template_labels: labels(&s.labels),
                template_images: image(&s.image),
                pod_management: PodManagement::OrderedReady,
                update_strategy: if s.on_delete {
                    crate::resources::UpdateStrategy::OnDelete
                } else {
                    crate::resources::UpdateStrategy::RollingUpdate { partition: s.partition }
                },
                volume_claim_templates: s.claims.iter().map(|c| name(c)).collect(),
            },
            status: StatefulSetStatus::default(),
        })
        .collect();
    let mut deployments = Vec::new();
    for d in &f.deployments {
        let strategy = match (d.strategy, d.max_surge, d.max_unavailable) {
            (StrategyFile::Recreate, None, None) => Strategy::Recreate,
            (StrategyFile::Recreate, _, _) => {
                return Err(err(
                    &["max_"],
                    format!("field `max_surge`/`max_unavailable`: deployment '{}' uses recreate", d.name),
                ))
            }
            (StrategyFile::RollingUpdate, None, None) => Strategy::DEFAULT,
            (StrategyFile::RollingUpdate, s, u) => {
                Strategy::RollingUpdate { max_surge: s.unwrap_or(0), max_unavailable: u.unwrap_or(0), percent: false }
            }
        };
        deployments.push(Deployment {
            meta: Meta { labels: labels(&d.labels), ..Meta::named(&d.name) },
            spec: DeploymentSpec {
                replicas: d.replicas,
                selector: labels(&d.labels),
                template_labels: labels(&d.labels),
                template_images: image(&d.image),
                strategy,
                paused: d.paused,
            },
            status: DeploymentStatus::default(),
        });
    }
    let mut jobs = Vec::new();
    for j in &f.jobs {
        if j.parallelism == 0 || j.completions == Some(0) {
            return Err(err(
                &["name", &j.name],
                format!("field `parallelism`/`completions`: job '{}' must run at least one pod", j.name),
            ));
        }
        jobs.push(Job {
            meta: Meta::named(&j.name),
            spec: JobSpec {
                parallelism: j.parallelism,
                completions: j.completions,
                template_labels: labels(&j.labels),
                template_images: image(&j.image),
                suspend: j.suspend,
                backoff_limit: j.backoff_limit.unwrap_or(6),
            },
            status: JobStatus::default(),
        });
    }
    let mut perturbations = Perturbations::default();
    for p in &f.perturbations {
        if !perturbations.enable(p) {
            return Err(err(
                &["perturbations", p],
                format!(
                    "field `perturbations`: unknown perturbation '{p}' (any of: {})",
                    Perturbations::NAMES.join(", ")
                ),
            ));
        }
    }
    let node_names: Vec<String> = (0..nodes).map(|i| format!("node-{i}")).collect();
    let mut pods = Vec::new();
    for p in &f.pods {
        let mut meta = Meta { labels: labels(&p.labels), ..Meta::named(&p.name) };
        if let Some(o) = &p.owner {
            let kind = if f.replicasets.iter().any(|s| &s.name == o) {
                Kind::ReplicaSet
            } else if f.statefulsets.iter().any(|s| &s.name == o) {
                Kind::StatefulSet
            } else if f.jobs.iter().any(|s| &s.name == o) {
                Kind::Job
            } else {
                return Err(err(
                    &["owner", o],
                    format!("field `owner`: pod '{}' names no ReplicaSet, StatefulSet or Job '{o}'", p.name),
                ));
            };
            // The uid is filled in when the owner is created (`KubeModel::initial`).
            meta.owners.push(OwnerRef { kind, name: name(o), uid: 0, controller: true });
        }
        if let Some(n) = &p.node {
            if !node_names.contains(n) {
                return Err(err(
                    &["node", n],
                    format!("field `node`: pod '{}' is on '{n}', not one of node-0..node-{}", p.name, nodes - 1),
                ));
            }
        }
        pods.push(Pod {
            meta,
            spec: PodSpec { node_name: p.node.as_deref().map(name), images: image(&p.image), run_to_completion: false },
            phase: Phase::Pending,
            ready: false,
        });
    }
    let c = &f.controllers;
    Ok(Scenario {
        name: f.name.clone().unwrap_or_else(|| file.to_string()),
        consistency,
        nodes: node_names,
        statefulsets,
        replicasets,
        deployments,
        jobs,
        pods,
        schedulers: c.scheduler.unwrap_or(1).into(),
        scheduler_ties,
        replicaset_controllers: c
            .replicaset
            .unwrap_or(u8::from(!f.replicasets.is_empty() || !f.deployments.is_empty()))
            .into(),
        statefulset_controllers: c.statefulset.unwrap_or(u8::from(!f.statefulsets.is_empty())).into(),
        podgc_controllers: c.podgc.unwrap_or(1).into(),
        deployment_controllers: c.deployment.unwrap_or(u8::from(!f.deployments.is_empty())).into(),
        job_controllers: c.job.unwrap_or(u8::from(!f.jobs.is_empty())).into(),
        restarts: f.restarts.unwrap_or(0),
        client_writes: f.client_writes.unwrap_or(0),
        perturbations,
        settle: f.settle,
        properties: None,
    })
    .and_then(|mut s| {
        if let Some(chosen) = &f.properties {
            let known = crate::properties::applicable_names(&s);
            if let Some(bad) = chosen.iter().find(|c| !known.contains(c)) {
                return Err(err(
                    &["properties", bad],
                    format!(
                        "field `properties`: '{bad}' is not a property of this scenario (one of: {})",
                        known.join(", ")
                    ),
                ));
            }
            s.properties = Some(chosen.clone());
        }
        Ok(s)
    })
}

/// serde_norway appends " at line L column C" to messages; the location is
/// printed first instead.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Reads and parses the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse(&path.display().to_string(), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
consistency: causal
nodes: 2
controllers: { scheduler: 1, replicaset: 2, podgc: 1 }
scheduler_ties: any
restarts: 1
client_writes: 2
perturbations: [scale, pause]
deployments:
  - { name: api, replicas: 2, labels: { app: api }, max_surge: 1 }
jobs:
  - { name: batch, parallelism: 1, completions: 1 }
replicasets:
  - { name: web, replicas: 2, labels: { app: web }, image: nginx }
pods:
  - { name: stray, labels: { app: web }, owner: web }
";

    #[test]
    fn a_good_file_builds_the_scenario() {
        let s = parse("s.yaml", GOOD).expect("valid");
        assert_eq!((s.consistency.as_str(), s.nodes.len(), s.replicaset_controllers, s.restarts), ("causal", 2, 2, 1));
        assert_eq!(s.replicasets[0].spec.replicas, 2);
        assert_eq!(s.pods[0].meta.owners[0].kind, Kind::ReplicaSet);
        assert_eq!(s.name, "s.yaml");
        assert_eq!((s.client_writes, s.perturbations.names()), (2, vec!["scale", "pause"]));
        assert_eq!((s.deployment_controllers, s.job_controllers), (1, 1));
        assert_eq!(s.deployments[0].spec.strategy.fenceposts(2), (1, 0));
        assert_eq!(s.jobs[0].spec.completions, Some(1));
        assert_eq!(s.scheduler_ties, SchedulerTies::Any);
        let plain = parse("p.yaml", "nodes: 2\n").expect("valid");
        assert_eq!(plain.scheduler_ties, SchedulerTies::Name, "the spec's rule by default");
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        for (text, line, needle) in [
            ("nodes: 1\nfrobs: 2\n", 2, "unknown field `frobs`"),
            ("replicasets:\n  - { name: a, replicas: -1 }\n", 2, "replicas"),
            ("controllers: { scheduler: 1, deployer: 1 }\n", 1, "unknown field `deployer`"),
            ("replicasets:\n  - { name: a, replicas: 1 }\npods:\n  - { name: p, owner: b }\n", 4, "field `owner`"),
            ("nodes: 2\nconsistency: eventual\n", 2, "field `consistency`"),
            ("nodes: 0\n", 1, "field `nodes`"),
            ("nodes: 2\nscheduler_ties: random\n", 2, "field `scheduler_ties`: unknown setting 'random'"),
            ("client_writes: 1\nperturbations: [scale, explode]\n", 2, "field `perturbations`"),
            ("jobs:\n  - { name: j, parallelism: 0 }\n", 2, "field `parallelism`"),
            ("deployments:\n  - { name: d, replicas: 1, strategy: sideways }\n", 2, "strategy"),
            ("nodes: 1\nproperties: [pods-on-nodes-unique, jobs-complete]\n", 2, "field `properties`"),
        ] {
            let e = parse("f.yaml", text).expect_err(text);
            assert!(e.starts_with(&format!("f.yaml:{line}")), "{text:?} -> {e}");
            assert!(e.contains(needle), "{text:?} -> {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
