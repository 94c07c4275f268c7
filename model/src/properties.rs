//! The properties checked on every scenario.

use crate::consistency::Consistency;
use crate::kube::{KubeModel, KubeState};
use crate::meta::Kind;
use krepis_engine::Property;

/// No pod name is run by two kubelets at once: Kubernetes issue 59848, where a
/// kubelet acting on a stale read runs a pod that was deleted and re-created
/// (same name, new uid) on another node.
pub const PODS_ON_NODES_UNIQUE: &str = "pods-on-nodes-unique";
/// Names are unique per kind in the newest state.
pub const UNIQUE_NAMES: &str = "unique-names";
/// A ReplicaSet whose status is the newest write and reflects its spec
/// (stable) counts exactly its active pods.
pub const RS_STATUS_REPLICAS: &str = "rs-stable-status-counts-pods";
/// A stable ReplicaSet's status replicas equal its spec replicas.
pub const RS_STATUS_MATCHES_SPEC: &str = "rs-stable-status-matches-spec";
/// On every path, there comes a point where every active pod is bound to a
/// node (the reference left this property disabled). Controllers are weakly
/// fair (`KubeModel::fairness`): a cycle in which the scheduler could read
/// all along but never does is not a counterexample.
pub const PODS_EVENTUALLY_SCHEDULED: &str = "pods-eventually-scheduled";
/// On every path, there comes a point where every ReplicaSet has exactly
/// `spec.replicas` active pods and says so in its status (perturbations are
/// bounded, so every path eventually stops perturbing).
pub const REPLICASETS_CONVERGE: &str = "replicasets-eventually-converge";
/// An OrderedReady StatefulSet never creates pod k before pods 0..k-1 are
/// Running and Ready, judged on the state the create lands on.
pub const STS_CREATES_IN_ORDER: &str = "sts-creates-in-order";
/// An OrderedReady StatefulSet deletes condemned pods highest ordinal first.
pub const STS_DELETES_IN_REVERSE: &str = "sts-deletes-in-reverse";
/// A stable StatefulSet's `status.replicas` counts its pods that are not
/// finished (as its controller computes it), in the newest state.
pub const STS_STATUS_REPLICAS: &str = "sts-stable-status-replicas";
/// A stable StatefulSet's `status.ready_replicas` counts its Running and
/// Ready pods in the newest state.
pub const STS_STATUS_READY: &str = "sts-stable-status-ready";
/// When a StatefulSet is stable, the smallest ordinal among its pods is 0
/// (or it has none): the first pod has the right start ordinal.
pub const STS_START_ORDINAL: &str = "sts-stable-start-ordinal";
/// The reference's check: every StatefulSet status written counts the pods
/// (not finished; Running and Ready) of the view its controller read.
pub const STS_STATUS_MATCHES_VIEW: &str = "sts-status-matches-observed-view";
/// The reference's check: every StatefulSet status is written from a view
/// whose smallest pod ordinal is 0 (or that has no pod).
pub const STS_START_ORDINAL_IN_VIEW: &str = "sts-start-ordinal-in-observed-view";
/// Some reachable state has a StatefulSet whose template changed (its
/// update revision is not its first) and every StatefulSet rolled out: the
/// update revision is current and every wanted pod runs the set's template,
/// Running and Ready (checked when the scenario changes images).
pub const STS_UPDATE_COMPLETES: &str = "sts-update-completes";
/// Every StatefulSet has all its pods Running and Ready at some point.
pub const STATEFULSETS_READY: &str = "statefulsets-ready";
/// Some reachable state has every Deployment complete (Kubernetes'
/// `DeploymentComplete`: all pods updated and available, no old pods, status
/// current).
pub const DEPLOYMENTS_COMPLETE: &str = "deployments-complete";
/// On every path, every Deployment that is not paused is eventually
/// complete (perturbations are bounded; controllers weakly fair). A paused
/// Deployment does not roll out, so it is exempt.
pub const DEPLOYMENTS_EVENTUALLY_COMPLETE: &str = "deployments-eventually-complete";
/// Every ReplicaSet a Deployment controls carries one non-empty
/// pod-template-hash in its labels, selector and template labels, and its
/// name ends with it.
pub const DEP_RS_HASH: &str = "dep-rs-has-pod-template-hash";
/// A Deployment that is not paused, whose stable status says the rollout is
/// complete, has scaled every other ReplicaSet it owns to 0.
pub const DEP_OLD_RS_SCALED_DOWN: &str = "dep-old-replicasets-scaled-down";
/// No ReplicaSet is created for a Deployment that is paused in the state the
/// create lands on (the reference had this as a constant-true placeholder).
pub const DEP_NO_RS_WHILE_PAUSED: &str = "dep-no-replicaset-created-while-paused";
/// A stable Job's `status.active` equals its active pods.
pub const JOB_STATUS_ACTIVE: &str = "job-stable-status-active";
/// A stable Job's `status.ready` equals its ready active pods.
pub const JOB_STATUS_READY: &str = "job-stable-status-ready";
/// A Job never counts more successes (counted and recorded) than its completions.
pub const JOB_SUCCEEDED_WITHIN_COMPLETIONS: &str = "job-succeeded-within-completions";
/// Some reachable state has every Job complete.
pub const JOBS_COMPLETE: &str = "jobs-complete";

/// Stable: the status reflects the newest spec (observed generation) and
/// nothing has been written since the object (its version is the newest
/// write), as the reference defines it.
fn stable(meta: &crate::meta::Meta, observed_generation: u32, newest: crate::meta::Rev) -> bool {
    observed_generation >= meta.generation && meta.resource_version == newest
}

/// The properties of a model of `scenario`, in report order: the global
/// ones, then those of each kind of object the scenario has.
pub fn all<C: Consistency>(scenario: &crate::Scenario) -> Vec<Property<KubeModel<C>>> {
    let mut props = applicable(scenario);
    if let Some(chosen) = &scenario.properties {
        props.retain(|p| chosen.contains(&p.name));
    }
    props
}

/// The names of the properties that apply to `scenario`'s kinds of objects
/// (what [`crate::Scenario::properties`] may choose from), in report order.
pub fn applicable_names(scenario: &crate::Scenario) -> Vec<String> {
    applicable::<crate::consistency::Synchronous>(scenario).into_iter().map(|p| p.name).collect()
}

/// Every property that applies to `scenario`'s kinds of objects.
fn applicable<C: Consistency>(scenario: &crate::Scenario) -> Vec<Property<KubeModel<C>>> {
    let mut props = vec![
        Property::always(PODS_ON_NODES_UNIQUE, |_, s: &KubeState<C>| {
            // Checked on every new state: a few names, compared pairwise
            // in place (a hash set allocated per state).
            let running = s.locals.all_running();
            running.iter().enumerate().all(|(i, p)| !running[..i].contains(p))
        }),
        Property::always(UNIQUE_NAMES, |_, s: &KubeState<C>| {
            let st = s.history.latest();
            // Without collecting the names (six allocations per state).
            fn increasing<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
                let Some(mut prev) = names.next() else { return true };
                names.all(|n| std::mem::replace(&mut prev, n) < n)
            }
            increasing(st.pods.iter().map(|p| &*p.meta.name))
                && increasing(st.nodes.iter().map(|p| &*p.meta.name))
                && increasing(st.statefulsets.iter().map(|p| &*p.meta.name))
                && increasing(st.replicasets.iter().map(|p| &*p.meta.name))
                && increasing(st.deployments.iter().map(|p| &*p.meta.name))
                && increasing(st.jobs.iter().map(|p| &*p.meta.name))
        }),
    ];
    props.push(Property::eventually(PODS_EVENTUALLY_SCHEDULED, |_, s: &KubeState<C>| {
        let st = s.history.latest();
        let all = st.pods.iter().all(|p| !p.active() || p.spec.node_name.is_some());
        all
    }));
    let has_replicasets = !scenario.replicasets.is_empty() || !scenario.deployments.is_empty();
    if has_replicasets && scenario.replicaset_controllers > 0 {
        props.extend([rs_status_replicas(), rs_status_matches_spec()]);
        props.push(Property::eventually(REPLICASETS_CONVERGE, |_, s: &KubeState<C>| {
            let st = s.history.latest();
            let converged = st.replicasets.iter().all(|rs| {
                let pods =
                    st.pods.iter().filter(|p| p.active() && p.meta.controller_uid() == Some(rs.meta.uid)).count();
                pods as u32 == rs.spec.replicas && rs.status.replicas == rs.spec.replicas
            });
            converged
        }));
    }
    if !scenario.statefulsets.is_empty() {
        props.push(Property::always(STS_CREATES_IN_ORDER, |_, s: &KubeState<C>| !s.audit.created_before_predecessors));
        props.push(Property::always(STS_DELETES_IN_REVERSE, |_, s: &KubeState<C>| !s.audit.deleted_out_of_order));
        props.extend(statefulset_status_properties());
        props.push(statefulsets_ready());
        if scenario.perturbations.image && scenario.client_writes > 0 {
            props.push(Property::sometimes(STS_UPDATE_COMPLETES, |_, s: &KubeState<C>| {
                let st = s.history.latest();
                let number = |set: &crate::resources::StatefulSet| {
                    let rev = set.status.update_revision.as_ref()?;
                    st.controllerrevisions.get(rev).map(|r| r.revision)
                };
                let changed = st.statefulsets.iter().any(|set| number(set).is_some_and(|n| n > 1));
                let done = changed
                    && st.statefulsets.iter().all(|set| {
                        set.status.current_revision.is_some()
                            && set.status.current_revision == set.status.update_revision
                            && set.status.updated_replicas == set.spec.replicas
                            && (0..set.spec.replicas).all(|k| {
                                set.with_pod_name(k, |name| {
                                    st.pods.get(name).is_some_and(|p| {
                                        p.running_and_ready() && p.spec.images == set.spec.template_images
                                    })
                                })
                            })
                    });
                done
            }));
        }
    }
    if !scenario.deployments.is_empty() {
        props.extend(deployment_properties());
    }
    if !scenario.jobs.is_empty() {
        props.extend(job_properties());
    }
    props
}

fn deployment_properties<C: Consistency>() -> Vec<Property<KubeModel<C>>> {
    use crate::controllers::deployment::{template_eq, HASH_LABEL};
    vec![
        Property::sometimes(DEPLOYMENTS_COMPLETE, |_, s: &KubeState<C>| {
            let all = s.history.latest().deployments.iter().all(|d| d.complete());
            all
        }),
        Property::eventually(DEPLOYMENTS_EVENTUALLY_COMPLETE, |_, s: &KubeState<C>| {
            let all = s.history.latest().deployments.iter().all(|d| d.spec.paused || d.complete());
            all
        }),
        Property::always(DEP_RS_HASH, |_, s: &KubeState<C>| {
            let st = s.history.latest();
            let ok =
                st.replicasets.iter().filter(|rs| rs.meta.controller_of_kind(Kind::Deployment).is_some()).all(|rs| {
                    let hash = rs.meta.labels.get(HASH_LABEL);
                    hash.is_some_and(|h| {
                        !h.is_empty() && rs.meta.name.strip_suffix(&**h).is_some_and(|n| n.ends_with('-'))
                    }) && rs.spec.selector.get(HASH_LABEL) == hash
                        && rs.spec.template_labels.get(HASH_LABEL) == hash
                });
            ok
        }),
        Property::always(DEP_OLD_RS_SCALED_DOWN, |_, s: &KubeState<C>| {
            let st = s.history.latest();
            let now = s.history.newest();
            let ok = st
                .deployments
                .iter()
                .filter(|d| !d.spec.paused && d.complete() && stable(&d.meta, d.status.observed_generation, now))
                .all(|d| {
                    st.replicasets
                        .iter()
                        .filter(|rs| rs.meta.controller_uid() == Some(d.meta.uid) && !template_eq(rs, d))
                        .all(|rs| rs.spec.replicas == 0)
                });
            ok
        }),
        Property::always(DEP_NO_RS_WHILE_PAUSED, |_, s: &KubeState<C>| !s.audit.replicaset_created_while_paused),
    ]
}

fn job_properties<C: Consistency>() -> Vec<Property<KubeModel<C>>> {
    fn check<C: Consistency>(s: &KubeState<C>, ok: impl Fn(&crate::resources::Job, u32, u32) -> bool) -> bool {
        let st = s.history.latest();
        let now = s.history.newest();
        let all = st.jobs.iter().filter(|j| stable(&j.meta, j.status.observed_generation, now)).all(|j| {
            let (mut active, mut ready) = (0, 0);
            for p in st.pods.iter().filter(|p| p.active() && p.meta.controller_uid() == Some(j.meta.uid)) {
                active += 1;
                ready += u32::from(p.ready);
            }
            ok(j, active, ready)
        });
        all
    }
    vec![
        Property::always(JOB_STATUS_ACTIVE, |_, s: &KubeState<C>| check(s, |j, active, _| j.status.active == active)),
        Property::always(JOB_STATUS_READY, |_, s: &KubeState<C>| check(s, |j, _, ready| j.status.ready == ready)),
        Property::always(JOB_SUCCEEDED_WITHIN_COMPLETIONS, |_, s: &KubeState<C>| {
            let ok = s.history.latest().jobs.iter().all(|j| {
                let counted = j.status.succeeded as usize + j.status.uncounted_succeeded.len();
                j.spec.completions.is_none_or(|c| counted <= c as usize)
            });
            ok
        }),
        Property::sometimes(JOBS_COMPLETE, |_, s: &KubeState<C>| {
            let all = s.history.latest().jobs.iter().all(|j| j.status.complete);
            all
        }),
    ]
}

fn rs_status_replicas<C: Consistency>() -> Property<KubeModel<C>> {
    Property::always(RS_STATUS_REPLICAS, |_, s: &KubeState<C>| {
        let st = s.history.latest();
        let now = s.history.newest();
        let ok = st.replicasets.iter().filter(|rs| stable(&rs.meta, rs.status.observed_generation, now)).all(|rs| {
            let pods = st.pods.iter().filter(|p| p.active() && p.meta.controller_uid() == Some(rs.meta.uid)).count();
            pods as u32 == rs.status.replicas
        });
        ok
    })
}

fn rs_status_matches_spec<C: Consistency>() -> Property<KubeModel<C>> {
    Property::always(RS_STATUS_MATCHES_SPEC, |_, s: &KubeState<C>| {
        let st = s.history.latest();
        let now = s.history.newest();
        let ok = st
            .replicasets
            .iter()
            .filter(|rs| stable(&rs.meta, rs.status.observed_generation, now))
            .all(|rs| rs.spec.replicas == rs.status.replicas);
        ok
    })
}

fn statefulset_status_properties<C: Consistency>() -> Vec<Property<KubeModel<C>>> {
    use crate::resources::{Phase, Pod, StatefulSet};
    /// Whether every stable set satisfies `ok` with its pods of the newest state.
    fn check<C: Consistency>(s: &KubeState<C>, ok: impl Fn(&StatefulSet, &[&Pod]) -> bool) -> bool {
        let st = s.history.latest();
        let now = s.history.newest();
        let all =
            st.statefulsets.iter().filter(|set| stable(&set.meta, set.status.observed_generation, now)).all(|set| {
                let pods: smallvec::SmallVec<[&Pod; 8]> = st
                    .pods
                    .iter()
                    .filter(|p| {
                        p.meta.labels.matches(&set.spec.selector) && p.meta.controller_uid() == Some(set.meta.uid)
                    })
                    .collect();
                ok(set, &pods)
            });
        all
    }
    vec![
        Property::always(STS_STATUS_MATCHES_VIEW, |_, s: &KubeState<C>| !s.audit.sts_status_unlike_view),
        Property::always(STS_START_ORDINAL_IN_VIEW, |_, s: &KubeState<C>| !s.audit.sts_start_ordinal_unlike_view),
        Property::always(STS_STATUS_REPLICAS, |_, s: &KubeState<C>| {
            check(s, |set, pods| {
                let live = pods.iter().filter(|p| !matches!(p.phase, Phase::Succeeded | Phase::Failed)).count();
                set.status.replicas as usize == live
            })
        }),
        Property::always(STS_STATUS_READY, |_, s: &KubeState<C>| {
            check(s, |set, pods| {
                set.status.ready_replicas as usize == pods.iter().filter(|p| p.running_and_ready()).count()
            })
        }),
        Property::always(STS_START_ORDINAL, |_, s: &KubeState<C>| {
            check(s, |set, pods| pods.iter().filter_map(|p| set.ordinal(&p.meta.name)).min().is_none_or(|k| k == 0))
        }),
    ]
}

fn statefulsets_ready<C: Consistency>() -> Property<KubeModel<C>> {
    Property::sometimes(STATEFULSETS_READY, |_, s: &KubeState<C>| {
        let st = s.history.latest();
        let ready = st.statefulsets.iter().all(|set| {
            (0..set.spec.replicas)
                .all(|k| set.with_pod_name(k, |name| st.pods.get(name).is_some_and(|p| p.running_and_ready())))
        });
        ready
    })
}
