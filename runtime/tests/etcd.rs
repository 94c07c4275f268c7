//! The runtime against a real etcd (Debian's etcd-server; see the README).
//! Each test starts its own etcd on free loopback ports.

use std::time::{Duration, Instant};

use krepis_model::api::{Operation, Rejection};
use krepis_model::Scenario;
use krepis_runtime::etcd_process::EtcdProcess;
use krepis_runtime::record::Actor;
use krepis_runtime::validate::replay;
use krepis_runtime::{run, EtcdStore, RunOptions, RunResult, RuntimeError};

fn etcd() -> EtcdProcess {
    EtcdProcess::start().unwrap_or_else(|e| panic!("these tests need a real etcd: {e}"))
}

fn opts(e: &EtcdProcess, client_writes_at: &[u64]) -> RunOptions {
    RunOptions {
        endpoint: e.endpoint(),
        duration: Duration::from_secs(40),
        echo: true,
        client_writes_at: client_writes_at.iter().map(|ms| Duration::from_millis(*ms)).collect(),
        restarts_at: vec![],
        seed: 0,
    }
}

/// A run that converged, replayed through the model without divergence or
/// violated invariant.
fn assert_clean(r: &RunResult) {
    assert_validated(r);
    assert!(r.replay.violations.is_empty(), "{:?}", r.replay.violations);
}

/// A run that converged and replayed through the model without divergence.
fn assert_validated(r: &RunResult) {
    assert!(r.converged.is_some(), "did not converge: {:#?}", r.steps);
    assert_eq!(r.replay.divergence, None);
    assert_eq!(r.replay.steps, r.steps.len());
    assert!(r.replay.states > 1);
}

/// Invariants other than the ReplicaSet status ones held. A ReplicaSet
/// controller may write a status computed from a read that other writes
/// have overtaken: the ReplicaSet is then "stable" (its status is the newest
/// write and reflects its spec) while the status miscounts its pods, until
/// the next sync. The checker finds the same under resettable session (with
/// two ReplicaSet controllers, or one and a restart: the verdict table); a
/// real run may or may not hit it.
fn assert_only_status_lags(r: &RunResult) {
    for v in &r.replay.violations {
        assert!(v.property.starts_with("rs-stable-status"), "{v:?}");
    }
    assert!(r.replay.invariants.iter().any(|p| p == "pods-on-nodes-unique"));
}

/// Every ReplicaSet has exactly its replicas as pods, owned by it, bound,
/// Running and Ready, and says so in its status.
fn assert_replicasets_converged(r: &RunResult) {
    for rs in r.last.replicasets.iter() {
        let pods: Vec<_> = r.last.pods.iter().filter(|p| p.meta.controller_uid() == Some(rs.meta.uid)).collect();
        assert_eq!(pods.len(), rs.spec.replicas as usize, "{}: {pods:?}", rs.meta.name);
        for p in pods {
            assert!(p.spec.node_name.is_some() && p.ready && !p.meta.deleting, "{p:?}");
            assert_eq!(p.spec.images, rs.spec.template_images);
        }
        assert_eq!((rs.status.replicas, rs.status.ready_replicas), (rs.spec.replicas, rs.spec.replicas));
    }
}

#[test]
fn replicaset_scale_converges_and_validates() {
    let e = etcd();
    let r = run(Scenario::replicaset_scale("synchronous", 1), &opts(&e, &[])).expect("run");
    assert_clean(&r);
    assert_eq!(r.last.pods.len(), 2);
    assert_replicasets_converged(&r);
    // Objects are JSON where Kubernetes keeps them; a resource version is
    // the etcd mod revision (less the run's base revision).
    let rs = r.last.replicasets.iter().next().expect("the ReplicaSet");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let kv = rt.block_on(async {
        let mut c = etcd_client::Client::connect([e.endpoint()], None).await.expect("connect");
        let key = format!("/registry/replicasets/default/{}", rs.meta.name);
        c.get(key, None).await.expect("get").kvs().first().cloned().expect("the key")
    });
    assert_eq!(kv.mod_revision(), r.base + i64::from(rs.meta.resource_version));
    let json: serde_json::Value = serde_json::from_slice(kv.value()).expect("JSON");
    assert_eq!(json["meta"]["name"], rs.meta.name.as_str());
}

/// Under scheduler ties 'any' the runtime's scheduler picks between equally
/// loaded nodes at random (from the run's seed), records each pick, and the
/// replay through the model makes the same pick: a pick changed in the
/// record makes it diverge, and a pick the model does not offer too.
#[test]
fn scheduler_ties_any_picks_at_random_and_the_replay_makes_the_same_picks() {
    use krepis_model::controllers::Controller;
    use krepis_model::scenario::SchedulerTies;
    use rand::{Rng, SeedableRng};

    let e = etcd();
    let mut s = Scenario::replicaset_scale("synchronous", 1);
    s.nodes = Scenario::node_names(2);
    s.scheduler_ties = SchedulerTies::Any;
    let sched = s.controllers().iter().position(|c| *c == Controller::Scheduler).expect("a scheduler");
    // A seed whose scheduler draws pick 1 first: the second of two tied nodes.
    let first_draw = |seed| {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(sched as u64);
        r.gen_range(0..2u8)
    };
    let seed = (0..100).find(|&seed| first_draw(seed) == 1).expect("a seed drawing 1");
    let mut o = opts(&e, &[]);
    o.seed = seed;
    let r = run(s.clone(), &o).expect("run");
    assert_clean(&r);
    assert_replicasets_converged(&r);
    let ours: Vec<_> = r.steps.iter().filter(|st| st.actor == Actor::Controller(sched)).collect();
    assert_eq!(ours.first().map(|st| st.pick), Some(1), "the first draw is recorded: {ours:?}");
    assert!(ours.iter().all(|st| st.pick < 2), "{ours:?}");
    assert!(r.steps.iter().all(|st| st.actor == Actor::Controller(sched) || st.pick == 0));
    // The first binding ties (no pod is bound yet, both nodes are Ready), so
    // its pick decides the node: the other pick writes another binding.
    let at = r
        .steps
        .iter()
        .position(|st| st.actor == Actor::Controller(sched) && matches!(st.outcome, Some(Ok(_))))
        .expect("a binding");
    let mut changed = r.steps.clone();
    changed[at].pick ^= 1;
    let d = replay(s.clone(), r.base, &changed, &r.etcd_at).divergence.expect("diverges");
    assert!(d.reason.contains("the model's step writes"), "{d:?}");
    changed[at].pick = 2;
    let d = replay(s, r.base, &changed, &r.etcd_at).divergence.expect("diverges");
    assert!(d.reason.contains("made choice 2 of a step, which has 2 in the model"), "{d:?}");
}

#[test]
fn a_client_scale_is_followed_and_validated() {
    let e = etcd();
    let r = run(Scenario::replicaset_scale("synchronous", 1), &opts(&e, &[300])).expect("run");
    assert_clean(&r);
    let client: Vec<_> = r.steps.iter().filter(|s| s.actor == Actor::Client).collect();
    assert_eq!(client.len(), 1, "{client:?}");
    assert!(matches!(client[0].wrote, Some(Operation::UpdateReplicaSet(_))));
    assert_eq!(r.last.pods.len(), 3, "scaled from 2 to 3");
    assert_replicasets_converged(&r);
}

#[test]
fn two_instances_of_every_controller_converge_and_validate() {
    let e = etcd();
    let r = run(Scenario::replicaset_scale("synchronous", 2), &opts(&e, &[])).expect("run");
    assert_validated(&r);
    assert_only_status_lags(&r);
    assert_replicasets_converged(&r);
}

#[test]
fn deployment_rollout_rolls_out_the_new_image() {
    let e = etcd();
    let r = run(Scenario::deployment_rollout("synchronous", 1), &opts(&e, &[1500])).expect("run");
    assert_clean(&r);
    let d = r.last.deployments.iter().next().expect("the Deployment");
    assert!(d.spec.template_images.iter().any(|i| i.ends_with('1')), "the client changed the image: {d:?}");
    assert_eq!(r.last.replicasets.len(), 2, "the old and the new ReplicaSet");
    for rs in r.last.replicasets.iter() {
        assert_eq!(rs.meta.controller_uid(), Some(d.meta.uid));
        let new = rs.spec.template_images == d.spec.template_images;
        assert_eq!(rs.spec.replicas, if new { d.spec.replicas } else { 0 }, "{rs:?}");
    }
    assert_replicasets_converged(&r);
    assert_eq!(r.last.pods.len(), d.spec.replicas as usize);
    assert!(r.replay.goals_at_end.iter().any(|(p, holds)| p == "deployments-complete" && *holds));
}

#[test]
fn a_tampered_record_is_caught_by_the_replay() {
    let e = etcd();
    let scenario = Scenario::replicaset_scale("synchronous", 1);
    let r = run(scenario.clone(), &opts(&e, &[])).expect("run");
    assert_clean(&r);
    // A write the model's step does not ask for.
    let mut steps = r.steps.clone();
    let w = steps.iter_mut().find(|s| matches!(s.wrote, Some(Operation::UpdatePod(_)))).expect("a bind");
    if let Some(Operation::UpdatePod(p)) = &mut w.wrote {
        p.spec.node_name = Some(krepis_model::meta::name("elsewhere"));
    }
    let d = replay(scenario.clone(), r.base, &steps, &r.etcd_at).divergence.expect("caught");
    assert!(d.reason.contains("the model's step writes"), "{}", d.reason);
    // An answer the API server would not give.
    let mut steps = r.steps.clone();
    let w = steps.iter_mut().find(|s| matches!(s.outcome, Some(Ok(_)))).expect("a write");
    w.outcome = Some(Err(Rejection::Conflict));
    assert!(replay(scenario.clone(), r.base, &steps, &r.etcd_at).divergence.is_some());
    // etcd holding something else than the model after a write.
    let mut etcd_at = r.etcd_at.clone();
    let last = *etcd_at.keys().next_back().expect("states");
    etcd_at.get_mut(&last).expect("last").pods = Default::default();
    let d = replay(scenario, r.base, &r.steps, &etcd_at).divergence.expect("caught");
    assert!(d.reason.contains("etcd holds"), "{}", d.reason);
}

#[test]
fn a_write_conflict_is_a_rejected_write() {
    let e = etcd();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let until = Instant::now() + Duration::from_secs(10);
        let mut a = EtcdStore::connect(&e.endpoint(), "a").await.expect("connect");
        let model = krepis_model::KubeModel::<krepis_model::consistency::Synchronous>::new(Scenario::replicaset_scale(
            "synchronous",
            1,
        ));
        a.load(&model.initial_writes(), until).await.expect("load");
        let mut b = a.handle("b");
        // Two controller instances read the same ReplicaSet and both write its status.
        let snap = a.read().await.expect("read");
        let rs = snap.store.replicasets.iter().next().expect("rs").clone();
        let mut first = rs.clone();
        first.status.replicas = 1;
        let mut second = rs;
        second.status.replicas = 2;
        let w = a.write(&Operation::UpdateReplicaSetStatus(first), until).await.expect("write");
        assert_eq!(w.outcome, Ok(snap.revision + 1));
        let w = b.write(&Operation::UpdateReplicaSetStatus(second), until).await.expect("write");
        assert_eq!(w.outcome, Err(Rejection::Conflict));
        assert_eq!(w.decided_at, snap.revision + 1);
        let now = b.read().await.expect("read");
        assert_eq!(now.revision, snap.revision + 1, "a rejected write writes nothing");
        assert_eq!(now.store.replicasets.iter().next().expect("rs").status.replicas, 1);
    });
}

#[test]
fn an_unreachable_etcd_is_a_quick_error_naming_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let o = RunOptions {
        endpoint: endpoint.clone(),
        duration: Duration::from_secs(5),
        echo: false,
        client_writes_at: vec![],
        restarts_at: vec![],
        seed: 0,
    };
    let err = run(Scenario::replicaset_scale("synchronous", 1), &o).expect_err("unreachable");
    assert!(matches!(err, RuntimeError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains(&endpoint), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
}

#[test]
fn an_etcd_outage_mid_run_is_ridden_out() {
    let mut e = etcd();
    let o = opts(&e, &[1200]);
    let handle = std::thread::spawn(move || run(Scenario::replicaset_scale("synchronous", 1), &o));
    // Down from 0.6 s to 2.5 s: the client's scale at 1.2 s waits for it.
    std::thread::sleep(Duration::from_millis(600));
    e.stop();
    std::thread::sleep(Duration::from_millis(1900));
    e.restart().expect("etcd back");
    let r = handle.join().expect("no panic").expect("run");
    assert_clean(&r);
    assert_eq!(r.last.pods.len(), 3, "scaled once, no pod lost or duplicated: {:?}", r.last.pods);
    assert_replicasets_converged(&r);
    let client = r.steps.iter().find(|s| s.actor == Actor::Client).expect("the client wrote");
    assert!(matches!(client.outcome, Some(Ok(_))));
}

#[test]
fn restarts_happen_as_the_checker_performs_them_and_validate() {
    use krepis_runtime::Restart;
    // A node restart (the node object deleted, its kubelet's state lost)
    // after convergence; the kubelet registers the node again. PodGC, on a
    // read from before the node came back, may remove pods of the node that
    // is back (seen: the ReplicaSet's status then lags, see
    // `assert_only_status_lags`); the ReplicaSet makes up for them.
    let e = etcd();
    let mut o = opts(&e, &[]);
    o.restarts_at = vec![(Duration::from_millis(500), Restart::Node("node-0".into()))];
    let r = run(Scenario::replicaset_scale("synchronous", 1), &o).expect("run");
    assert_validated(&r);
    assert_only_status_lags(&r);
    let restart = r.steps.iter().find(|s| matches!(s.actor, Actor::NodeRestart(_))).expect("the node restart");
    assert!(matches!(restart.wrote, Some(Operation::DeleteNode { .. })) && matches!(restart.outcome, Some(Ok(_))));
    assert!(r.last.nodes.get("node-0").is_some(), "registered again");
    assert_replicasets_converged(&r);
    // A controller restart: the ReplicaSet controller forgets, reads again.
    let e = etcd();
    let mut o = opts(&e, &[]);
    o.restarts_at = vec![(Duration::from_millis(500), Restart::Controller("replicaset-controller".into()))];
    let r = run(Scenario::replicaset_scale("synchronous", 1), &o).expect("run");
    assert_clean(&r);
    assert!(r.steps.iter().any(|s| matches!(s.actor, Actor::Restart(_))), "{:?}", r.steps);
    assert_replicasets_converged(&r);
    // Bad input: a kind or node the scenario does not have, or over budget.
    for restarts in [
        vec![(Duration::ZERO, Restart::Node("node-9".into()))],
        vec![(Duration::ZERO, Restart::Controller("job-controller".into()))],
        vec![(Duration::ZERO, Restart::Node("node-0".into())), (Duration::ZERO, Restart::Node("node-0".into()))],
    ] {
        let mut o = opts(&e, &[]);
        o.restarts_at = restarts;
        let err = run(Scenario::replicaset_scale("synchronous", 1), &o).expect_err("bad input");
        assert!(matches!(err, RuntimeError::BadInput(_)), "{err}");
    }
}
