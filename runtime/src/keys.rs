//! Where objects live in etcd: Kubernetes' own key layout
//! (`/registry/<resource>/<namespace>/<name>`; nodes, cluster-scoped, under
//! `/registry/minions/<name>` as the Kubernetes API server keeps them).

use krepis_model::meta::Kind;

/// Every key krepis reads or writes starts with this.
pub const PREFIX: &str = "/registry/";

/// The guard key: written by every krepis transaction, so that its mod
/// revision is the store's revision (see [`crate::etcd_store`]).
pub const GUARD: &str = "/registry/krepis.io/revision";

/// The namespace every namespaced object of a scenario lives in.
pub const NAMESPACE: &str = "default";

const RESOURCES: [(Kind, &str, bool); 8] = [
    (Kind::Node, "minions", false),
    (Kind::Pod, "pods", true),
    (Kind::StatefulSet, "statefulsets", true),
    (Kind::ReplicaSet, "replicasets", true),
    (Kind::Deployment, "deployments", true),
    (Kind::Job, "jobs", true),
    (Kind::ControllerRevision, "controllerrevisions", true),
    (Kind::PersistentVolumeClaim, "persistentvolumeclaims", true),
];

/// The key of the object of kind `kind` called `name`.
pub fn key(kind: Kind, name: &str) -> String {
    let (_, resource, namespaced) = RESOURCES.iter().find(|(k, _, _)| *k == kind).copied().unwrap_or(RESOURCES[0]);
    if namespaced {
        format!("{PREFIX}{resource}/{NAMESPACE}/{name}")
    } else {
        format!("{PREFIX}{resource}/{name}")
    }
}

/// The kind and name of an object key written by [`key`]; `None` for any
/// other key (the guard among them).
pub fn parse(key: &str) -> Option<(Kind, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let (resource, rest) = rest.split_once('/')?;
    let (kind, _, namespaced) = RESOURCES.iter().find(|(_, r, _)| *r == resource).copied()?;
    let name = if namespaced { rest.strip_prefix(NAMESPACE)?.strip_prefix('/')? } else { rest };
    (!name.is_empty() && !name.contains('/')).then_some((kind, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_others_are_not_objects() {
        for (kind, _, _) in RESOURCES {
            let k = key(kind, "web-0");
            assert_eq!(parse(&k), Some((kind, "web-0")), "{k}");
        }
        assert_eq!(key(Kind::Pod, "a"), "/registry/pods/default/a");
        assert_eq!(key(Kind::Node, "n1"), "/registry/minions/n1");
        assert_eq!(parse(GUARD), None);
        assert_eq!(parse("/registry/pods/other/a"), None);
        assert_eq!(parse("/registry/pods/default/"), None);
        assert_eq!(parse("/elsewhere/pods/default/a"), None);
    }
}
