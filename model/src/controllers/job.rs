//! The Job controller: runs pods to completion, `parallelism` at a time,
//! until `completions` have succeeded, counting finished pods exactly once
//! through a tracking finalizer. One write per step, in Kubernetes' order:
//!
//! 1. a finished pod that still carries the finalizer is first recorded in
//!    the status (`uncounted_*`),
//! 2. then its finalizer is removed,
//! 3. then the uid moves from `uncounted_*` to the counters;
//! 4. the Failed (backoff limit) and Complete conditions are set;
//! 5. pods are created (with the finalizer) or deleted (finalizer first) to
//!    reach the wanted number of active pods (none while suspended);
//! 6. the active/ready counts are written when they change.
//!
//! Follows Kubernetes where the reference deviates: the reference removes the
//! finalizer before persisting the uncounted uid, so it loses count of its
//! pods and creates replacements; it also rewrites a finished Job's
//! conditions on every step. Pods are the Job's by owner uid (Kubernetes
//! selects them by a generated `controller-uid` label, which no other object
//! carries). Deadlines and pod failure policies are not modelled (no clock).

use super::{Refs, View};
use crate::api::Operation;
use crate::meta::{name, name_joined, Kind, Meta, OwnerRef};
use crate::resources::{Job, JobStatus, ObservedStatus, Phase, Pod, PodSpec};

/// The finalizer that keeps a Job's pod until the Job has counted it.
pub const FINALIZER: &str = "batch.kubernetes.io/job-tracking";

/// The pod a Job creates (named by the API server from `<job>-`).
pub fn pod_for(job: &Job) -> Pod {
    let mut meta = Meta::named("");
    meta.generate_name = Some(name_joined(&[&job.meta.name, "-"]));
    meta.labels = job.spec.template_labels.clone();
    meta.finalizers.push(name(FINALIZER));
    meta.owners.push(OwnerRef { kind: Kind::Job, name: job.meta.name, uid: job.meta.uid, controller: true });
    Pod {
        meta,
        spec: PodSpec { node_name: None, images: job.spec.template_images, run_to_completion: true },
        phase: Phase::Pending,
        ready: false,
    }
}

/// One Job-controller step: the first write any Job needs.
pub(crate) fn step(view: &View<'_>) -> Option<Operation> {
    view.store.jobs.iter().find_map(|j| reconcile(j, view))
}

fn tracked(p: &Pod) -> bool {
    p.meta.finalizers.iter().any(|f| &**f == FINALIZER)
}

/// Failed, or deleted before it succeeded (Kubernetes counts those as failed).
fn failed(p: &Pod) -> bool {
    p.phase == Phase::Failed || (p.meta.deleting && p.phase != Phase::Succeeded)
}

fn without_finalizer(p: &Pod) -> Operation {
    let mut q = p.clone();
    q.meta.finalizers.retain(|f| &**f != FINALIZER);
    Operation::UpdatePod(q)
}

fn status_write(job: &Job, status: JobStatus) -> Option<Operation> {
    let mut new = job.clone();
    new.status = status;
    Some(Operation::UpdateJobStatus(new))
}

fn reconcile(job: &Job, view: &View<'_>) -> Option<Operation> {
    let pods: Refs<Pod> = view.store.pods.iter().filter(|p| p.meta.controller_uid() == Some(job.meta.uid)).collect();
    let active: Refs<Pod> = pods.iter().copied().filter(|p| p.active()).collect();
    let ready = active.iter().filter(|p| p.ready).count() as u32;
    let mut status = job.status.clone();
    status.observed_revision = Some(view.revision.newest());
    status.observed_generation = job.meta.generation;
    status.active = active.len() as u32;
    status.ready = ready;
    let recorded_before = &job.status;
    let uncounted =
        |uid| recorded_before.uncounted_succeeded.contains(&uid) || recorded_before.uncounted_failed.contains(&uid);
    // 1. Record finished pods before letting them go.
    let mut recorded = false;
    for p in pods.iter().filter(|p| tracked(p) && !uncounted(p.meta.uid)) {
        if p.phase == Phase::Succeeded {
            status.uncounted_succeeded.push(p.meta.uid);
            recorded = true;
        } else if failed(p) {
            status.uncounted_failed.push(p.meta.uid);
            recorded = true;
        }
    }
    if recorded {
        status.uncounted_succeeded.sort_unstable();
        status.uncounted_failed.sort_unstable();
        return status_write(job, status);
    }
    // 2. Remove the finalizer of recorded pods.
    if let Some(p) = pods.iter().find(|p| tracked(p) && uncounted(p.meta.uid)) {
        return Some(without_finalizer(p));
    }
    // 3. Count the recorded pods that are let go.
    let still_tracked = |uid| pods.iter().any(|p| p.meta.uid == uid && tracked(p));
    let (done_s, keep_s): (Vec<u32>, Vec<u32>) = status.uncounted_succeeded.iter().partition(|u| !still_tracked(**u));
    let (done_f, keep_f): (Vec<u32>, Vec<u32>) = status.uncounted_failed.iter().partition(|u| !still_tracked(**u));
    if !done_s.is_empty() || !done_f.is_empty() {
        status.succeeded += done_s.len() as u32;
        status.failed += done_f.len() as u32;
        status.uncounted_succeeded = keep_s;
        status.uncounted_failed = keep_f;
        return status_write(job, status);
    }
    // 4. Conditions.
    if job.finished() {
        // A failed Job stops its pods; their finalizers were handled above.
        if let Some(p) = active.first() {
            return Some(if tracked(p) { without_finalizer(p) } else { delete(p) });
        }
        return (status != job.status).then(|| status_write(job, status)).flatten();
    }
    if status.failed > job.spec.backoff_limit {
        status.failed_condition = true;
        return status_write(job, status);
    }
    let succeeded = status.succeeded;
    let done = match job.spec.completions {
        Some(c) => succeeded >= c,
        None => succeeded > 0,
    };
    if done && active.is_empty() {
        status.complete = true;
        return status_write(job, status);
    }
    // 5. Manage the active pods.
    let want = if job.spec.suspend {
        0
    } else {
        match job.spec.completions {
            Some(c) => c.saturating_sub(succeeded).min(job.spec.parallelism),
            None if succeeded > 0 => active.len() as u32,
            None => job.spec.parallelism,
        }
    } as usize;
    if active.len() > want {
        // The least useful pod first, as Kubernetes' `ActivePods` ranking.
        let victim = active.iter().min_by_key(|p| (p.spec.node_name.is_some(), p.phase, p.ready, p.meta.name))?;
        return Some(if tracked(victim) { without_finalizer(victim) } else { delete(victim) });
    }
    if active.len() < want {
        return Some(Operation::CreatePod(pod_for(job)));
    }
    // 6. Status.
    status.suspended = job.spec.suspend;
    job.status.worth_writing(&status).then(|| status_write(job, status)).flatten()
}

fn delete(p: &Pod) -> Operation {
    Operation::DeletePod { name: p.meta.name, uid: p.meta.uid }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{apply, Rejection};
    use crate::controllers::testing::job;
    use crate::revision::Revision;
    use crate::store::Store;

    fn run(s: &Store) -> Option<Operation> {
        step(&View { revision: &Revision::at(90), store: s })
    }

    fn write(s: &mut Store, rev: &mut u32, op: &Operation) {
        *rev += 1;
        apply(s, op, *rev).unwrap_or_else(|e| panic!("{op}: {e}"));
    }

    /// Marks every active pod of the store as finished with `phase`.
    fn finish_all(s: &mut Store, rev: &mut u32, phase: Phase) {
        let pods: Vec<Pod> = s.pods.iter().filter(|p| p.active()).cloned().collect();
        for mut p in pods {
            p.phase = phase;
            write(s, rev, &Operation::UpdatePodStatus(p));
        }
    }

    fn settle(s: &mut Store, rev: &mut u32) -> Vec<String> {
        let mut log = Vec::new();
        while let Some(op) = run(s) {
            log.push(op.to_string());
            write(s, rev, &op);
            assert!(log.len() < 50, "no quiescence: {log:?}");
        }
        log
    }

    #[test]
    fn creates_parallelism_pods_counts_each_success_once_and_completes() {
        let mut s = Store::default();
        s.jobs.put(job("batch", 2, Some(3), 7));
        let mut rev = 10;
        settle(&mut s, &mut rev);
        assert_eq!(s.pods.len(), 2);
        assert!(s.pods.iter().all(|p| tracked(p) && p.spec.run_to_completion));
        finish_all(&mut s, &mut rev, Phase::Succeeded);
        let log = settle(&mut s, &mut rev);
        // record both, release both finalizers, count, one more pod (3 - 2), its status.
        assert_eq!(log.len(), 6, "{log:?}");
        assert!(log[0].contains("uncounted 2") && log[3].contains("succeeded 2, uncounted 0"), "{log:?}");
        let j = s.jobs.get("batch").unwrap();
        assert_eq!((j.status.succeeded, j.status.active, j.status.uncounted_succeeded.len()), (2, 1, 0));
        finish_all(&mut s, &mut rev, Phase::Succeeded);
        settle(&mut s, &mut rev);
        let j = s.jobs.get("batch").unwrap();
        assert_eq!((j.status.succeeded, j.status.complete), (3, true));
        assert_eq!(s.pods.iter().filter(|p| tracked(p)).count(), 0);
    }

    #[test]
    fn the_uid_is_recorded_before_the_finalizer_goes() {
        let mut s = Store::default();
        s.jobs.put(job("batch", 1, Some(1), 7));
        let mut rev = 10;
        settle(&mut s, &mut rev);
        finish_all(&mut s, &mut rev, Phase::Succeeded);
        let Some(Operation::UpdateJobStatus(j)) = run(&s) else { panic!("a status write first") };
        assert_eq!(j.status.uncounted_succeeded.len(), 1);
        assert_eq!(j.status.succeeded, 0);
    }

    #[test]
    fn suspending_releases_and_deletes_active_pods_uncounted() {
        let mut s = Store::default();
        s.jobs.put(job("batch", 2, None, 7));
        let mut rev = 10;
        settle(&mut s, &mut rev);
        let mut j = s.jobs.get("batch").unwrap().clone();
        j.spec.suspend = true;
        write(&mut s, &mut rev, &Operation::UpdateJob(j));
        let log = settle(&mut s, &mut rev);
        assert!(log.iter().any(|l| l.starts_with("delete pod")), "{log:?}");
        let j = s.jobs.get("batch").unwrap();
        assert_eq!((j.status.active, j.status.failed, j.status.suspended), (0, 0, true));
        assert!(s.pods.is_empty(), "unbound pods go at once");
    }

    #[test]
    fn failures_past_the_backoff_limit_fail_the_job() {
        let mut s = Store::default();
        let mut j = job("batch", 1, Some(1), 7);
        j.spec.backoff_limit = 0;
        s.jobs.put(j);
        let mut rev = 10;
        settle(&mut s, &mut rev);
        finish_all(&mut s, &mut rev, Phase::Failed);
        settle(&mut s, &mut rev);
        let j = s.jobs.get("batch").unwrap();
        assert!(j.status.failed_condition && !j.status.complete, "{:?}", j.status);
        assert_eq!(j.status.failed, 1);
    }

    #[test]
    fn a_second_instance_on_the_same_read_conflicts() {
        let mut s = Store::default();
        s.jobs.put(job("batch", 1, Some(1), 7));
        let mut rev = 10;
        settle(&mut s, &mut rev);
        finish_all(&mut s, &mut rev, Phase::Succeeded);
        let read = s.clone();
        let a = run(&read).unwrap();
        write(&mut s, &mut rev, &a);
        rev += 1;
        assert_eq!(apply(&mut s, &a, rev), Err(Rejection::Conflict));
    }
}
