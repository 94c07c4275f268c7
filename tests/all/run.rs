//! `krepis run` end to end: the binary against a real etcd.
#![cfg(feature = "etcd")]

use std::process::Command;
use std::time::{Duration, Instant};

use krepis_runtime::etcd_process::EtcdProcess;

fn krepis(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_krepis")).args(args).output().expect("krepis runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_prints_actions_and_a_validated_summary() {
    let e = EtcdProcess::start().unwrap_or_else(|e| panic!("needs a real etcd: {e}"));
    let (code, out, err) = krepis(&["run", "replicaset-scale", "--etcd", &e.endpoint(), "--client-write-at", "0.3"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("client                     read @"), "{out}");
    assert!(out.contains("update replicaset test-spec-replicas-change (spec replicas 3) -> ok @"), "{out}");
    assert!(out.contains("replicaset-scale: converged at etcd revision"), "{out}");
    assert!(out.contains("are steps the model allows (resettable session)"), "{out}");
    assert!(out.contains("always pods-on-nodes-unique: holds on every state of the run"), "{out}");
    // The same etcd again: refused, it holds that run.
    let (code, _, err) = krepis(&["run", "replicaset-scale", "--etcd", &e.endpoint(), "-q"]);
    assert_eq!(code, 2);
    assert!(err.contains("already holds a krepis run"), "{err}");
}

/// `--scheduler-ties any`: the scheduler picks between equally loaded nodes
/// at random (`--seed`), says which pick it made, and the run validates.
#[test]
fn run_with_scheduler_ties_any_shows_its_picks_and_validates() {
    let e = EtcdProcess::start().unwrap_or_else(|e| panic!("needs a real etcd: {e}"));
    let args = ["run", "replicaset-scale", "--etcd", &e.endpoint(), "--nodes", "2", "--scheduler-ties", "any"];
    let (code, out, err) = krepis(&[&args[..], &["--seed", "3"]].concat());
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("scheduler (pick "), "{out}");
    assert!(out.contains("are steps the model allows (resettable session)"), "{out}");
}

#[test]
fn run_refuses_bad_input_with_exit_2() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let (code, out, err) = krepis(&["run", "replicaset-scale", "--etcd", &endpoint]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&endpoint) && err.contains("unreachable"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8));
    for (args, needle) in [
        (vec!["run", "puzzle8"], "not a Kubernetes scenario"),
        (vec!["run", "nope.yaml"], "nope.yaml"),
        (vec!["run", "replicaset-scale", "--consistency", "causal"], "--consistency does not apply"),
        (vec!["run", "replicaset-scale", "--seed", "x"], "invalid value 'x' for '--seed <S>'"),
        (vec!["run", "replicaset-scale", "--client-write-at", "1", "--client-write-at", "2"], "allows 1 client writes"),
        (vec!["run", "replicaset-scale", "--restart-node", "node-0"], "takes WHAT@TIME"),
        (vec!["run", "replicaset-scale", "--restart-node", "node-0@x"], "not a duration"),
        (vec!["run", "replicaset-scale", "--for=-1"], "0 or more"),
        (vec!["run", "replicaset-scale", "--for", "2 fortnights"], "--for"),
    ] {
        let (code, _, err) = krepis(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
