//! # krepis-model
//!
//! The Kubernetes control plane as a model for the krepis engine: resources,
//! an API server with optimistic concurrency, controllers written as pure
//! `step` functions, consistency models that decide what each controller
//! reads and where its writes land, properties, and scenarios.
//!
//! This slice covers nodes, pods and StatefulSets; the kubelet, scheduler,
//! PodGC and StatefulSet controllers; all five consistency models; and the
//! stale-reads scenario (Kubernetes issue 59848).

pub mod api;
pub mod audit;
pub mod cached;
pub mod consistency;
pub mod controllers;
pub mod kube;
pub mod locals;
pub mod meta;
pub mod owners;
pub mod pinning;
pub mod properties;
pub mod resources;
pub mod revision;
pub mod scenario;
pub mod scenario_file;
pub mod stamp_set;
pub mod store;
mod thin;

pub use kube::{check_scenario, KubeAction, KubeModel, KubeState};
pub use scenario::Scenario;
