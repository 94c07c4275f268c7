//! The runtime against a real etcd (Debian's etcd-server; see the README).

use std::time::Duration;

use krepis_model::Scenario;
use krepis_runtime::etcd_process::EtcdProcess;
use krepis_runtime::{run, RunOptions};

fn etcd() -> EtcdProcess {
    EtcdProcess::start().unwrap_or_else(|e| panic!("these tests need a real etcd: {e}"))
}

fn opts(e: &EtcdProcess) -> RunOptions {
    RunOptions { endpoint: e.endpoint(), duration: Duration::from_secs(30), echo: true }
}

#[test]
fn replicaset_scale_converges_and_validates() {
    let e = etcd();
    let s = Scenario::replicaset_scale("synchronous", 1);
    let r = run(s, &opts(&e)).expect("run");
    assert!(r.converged.is_some(), "did not converge: {:?}", r.steps);
    assert_eq!(r.replay.divergence, None);
    assert!(r.replay.violations.is_empty(), "{:?}", r.replay.violations);
    let rs = r.last.replicasets.iter().next().expect("the ReplicaSet");
    let pods: Vec<_> = r.last.pods.iter().collect();
    assert_eq!(pods.len(), rs.spec.replicas as usize);
    for p in pods {
        assert_eq!(p.meta.controller_uid(), Some(rs.meta.uid), "{p:?}");
        assert!(p.spec.node_name.is_some() && p.ready, "{p:?}");
    }
    assert_eq!(rs.status.replicas, rs.spec.replicas);
}
