//! `krepis run`: a scenario's controllers for real, against etcd.

use std::process::ExitCode;

use std::time::Duration;

use clap::Args;
use krepis_engine::cli::parse_duration;

use crate::scenarios::KubeArgs;

/// `krepis run` arguments.
#[derive(Args)]
pub struct RunArgs {
    /// A built-in Kubernetes scenario (see `krepis scenarios`) or a YAML scenario file.
    pub scenario: String,
    /// The etcd client URL. etcd must hold nothing under /registry/ (a fresh
    /// etcd), and nothing else may write it during the run.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:2379")]
    pub etcd: String,
    /// Run for at most this long (seconds, or with units: 90s, 5m); the run
    /// ends earlier once every controller has nothing left to do (converged)
    /// and no client write is due.
    #[arg(long = "for", value_name = "DURATION", default_value = "60", value_parser = parse_duration)]
    pub duration: Duration,
    /// At this time after the start (seconds, or with units: 1.5, 500ms), the
    /// client performs the first write the scenario's perturbations offer on
    /// the newest state, as the checker's client would (scale, image, pause,
    /// suspend). Repeatable; at most the scenario's client-write budget.
    #[arg(long = "client-write-at", value_name = "TIME", value_parser = parse_duration)]
    pub client_write_at: Vec<Duration>,
    /// At TIME after the start (seconds, or with units), every instance of controller KIND
    /// (replicaset-controller, scheduler, ...) loses its local state, as the
    /// checker's restart action does. Repeatable; within the scenario's
    /// restart budget.
    #[arg(long = "restart-controller", value_name = "KIND@TIME")]
    pub restart_controller: Vec<String>,
    /// At TIME after the start (seconds, or with units), node NAME restarts: its kubelet loses its
    /// state and the node object is deleted (the kubelet registers it
    /// again), as the checker's node restart does. Repeatable; within the
    /// scenario's restart budget.
    #[arg(long = "restart-node", value_name = "NAME@TIME")]
    pub restart_node: Vec<String>,
    /// Seed of the scheduler's random choice between equally loaded nodes
    /// under --scheduler-ties any (each scheduler instance draws from its own
    /// stream; the checker explores every choice). The recorded run keeps
    /// each choice, and its replay through the model makes the same.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Print the summary only, not every action.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Runs `krepis run`. Exit 0: every recorded step is one the model allows
/// and every invariant held on every state; 1: the run diverged from the
/// model or broke an invariant; 2: bad input or etcd unreachable.
pub fn main(args: &RunArgs) -> ExitCode {
    match go(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(not(feature = "etcd"))]
fn go(_args: &RunArgs) -> Result<ExitCode, String> {
    Err("this krepis was built without etcd support: build it with `cargo build --release --features etcd` \
         (which needs protoc: apt-get install protobuf-compiler)"
        .into())
}

#[cfg(feature = "etcd")]
fn go(args: &RunArgs) -> Result<ExitCode, String> {
    use crate::scenarios;
    use krepis_runtime::{run, Restart, RunOptions};

    if args.kube.consistency.is_some() {
        return Err("--consistency does not apply to `krepis run`: a real run is checked against \
                    resettable session, the model of what etcd and the controllers do"
            .into());
    }
    let scenario = scenarios::kube_scenario(&args.scenario, &args.kube)?;
    let opts = RunOptions {
        endpoint: args.etcd.clone(),
        duration: args.duration,
        echo: !args.quiet,
        client_writes_at: args.client_write_at.clone(),
        restarts_at: vec![],
        seed: args.seed,
    };
    let mut opts = opts;
    let at = |flag: &str, v: &str| -> Result<(String, Duration), String> {
        let (what, secs) = v
            .rsplit_once('@')
            .ok_or_else(|| format!("{flag} takes WHAT@TIME (for example {flag} x@1.5), got '{v}'"))?;
        Ok((what.to_string(), parse_duration(secs).map_err(|e| format!("{flag} {v}: {e}"))?))
    };
    for v in &args.restart_controller {
        let (kind, t) = at("--restart-controller", v)?;
        opts.restarts_at.push((t, Restart::Controller(kind)));
    }
    for v in &args.restart_node {
        let (node, t) = at("--restart-node", v)?;
        opts.restarts_at.push((t, Restart::Node(node)));
    }
    let name = scenario.name.clone();
    let r = run(scenario, &opts).map_err(|e| e.to_string())?;
    let writes = r.steps.iter().filter(|s| matches!(s.outcome, Some(Ok(_)))).count();
    let rejected = r.steps.iter().filter(|s| matches!(s.outcome, Some(Err(_)))).count();
    println!();
    match r.converged {
        Some(rev) => println!(
            "{name}: converged at etcd revision {rev} after {:.2} s ({writes} writes, {rejected} rejected)",
            r.elapsed.as_secs_f64()
        ),
        None => println!(
            "{name}: still busy when the time ran out after {:.2} s ({writes} writes, {rejected} rejected)",
            r.elapsed.as_secs_f64()
        ),
    }
    let mut ok = true;
    match &r.replay.divergence {
        None => println!(
            "replay: all {} steps are steps the model allows (resettable session); etcd matched the model at each of \
             {} states",
            r.replay.steps, r.replay.states
        ),
        Some(d) => {
            ok = false;
            let at = d.step.as_ref().map_or("the loading".to_string(), |s| format!("step {}", s.seq));
            println!("replay: the run and the model differ at {at}: {}", d.reason);
        }
    }
    for p in &r.replay.invariants {
        match r.replay.violations.iter().find(|v| &v.property == p) {
            Some(v) => {
                ok = false;
                println!("  always {p}: VIOLATED (first at etcd revision {})", v.revision)
            }
            None => println!("  always {p}: holds on every state of the run"),
        }
    }
    for (p, holds) in &r.replay.goals_at_end {
        println!("  {p}: {} at the end", if *holds { "holds" } else { "does not hold" });
    }
    for n in r.last.nodes.iter() {
        let pods: Vec<&str> = r
            .last
            .pods
            .iter()
            .filter(|p| p.spec.node_name.as_ref() == Some(&n.meta.name))
            .map(|p| &*p.meta.name)
            .collect();
        println!("  {} runs [{}]", n.meta.name, pods.join(", "));
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
