//! The `krepis` binary as a user meets it: exit statuses, one-line errors,
//! JSON reports, trace files.

use std::process::{Command, Output};

fn krepis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_krepis")).args(args).output().expect("krepis runs")
}

/// Runs krepis in a fresh directory of its own (for files it writes there).
/// (The directory is removed when the returned handle is dropped.)
fn krepis_in(args: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = temp_dir();
    let o =
        Command::new(env!("CARGO_BIN_EXE_krepis")).args(args).current_dir(dir.path()).output().expect("krepis runs");
    (o, dir)
}

/// A fresh directory, removed with everything in it when dropped.
fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("krepis-cli-").tempdir().expect("temp dir")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    for args in [
        &["check", "--threads", "0"][..],
        &["check", "--max-depth", "-1"],
        &["check", "--max-states", "many"],
        &["check", "--memory", "12 parsecs"],
        &["check", "--strategy", "astar"],
        &["check", "--format", "xml"],
        &["check", "--time-limit", "-5"],
        &["check", "--no-such-flag"],
        &["check", "--checkpoint-every", "5"],
        &["check", "--checkpoint", "cp", "--checkpoint-every", "0"],
        &["check", "no-such-scenario"],
        &["check", "stale-reads", "--property", "no-such-property"],
        &["check", "stale-reads", "--property", "unique-names,"],
        &["check", "stale-reads", "--scheduler-ties", "random"],
        &["check", "two-phase-commit:0"],
        &["check", "philosophers:x"],
        &["frobnicate"],
        &["symmetry-table", "--row", "stale-reads"],
        &["symmetry-table", "--row", "stale-reads,eventual,3"],
        &["symmetry-table", "--row", "no-such-scenario,causal,3"],
        &["symmetry-table", "--row", "puzzle8,causal,3"],
        &["symmetry-table", "--instances", "0"],
        &["symmetry-table", "--nodes", "9"],
        &["symmetry-table", "--scheduler-ties", "random"],
    ] {
        let o = krepis(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: one line, got {e:?}");
        assert!(e.starts_with("error:"), "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{args:?}: {e}");
    }
}

#[test]
fn json_report_has_the_documented_fields() {
    let o = krepis(&["check", "two-phase-commit:3", "--no-symmetry", "--threads", "2", "--format", "json", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object on stdout");
    for field in [
        "strategy",
        "threads",
        "symmetry",
        "scenario",
        "complete",
        "stop_reason",
        "unique_states",
        "transitions",
        "max_depth_reached",
        "elapsed_s",
        "states_per_s",
        "us_per_state",
        "peak_rss_bytes",
        "bytes_per_state",
        "properties",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["unique_states"], 288);
    assert_eq!(v["complete"], true);
    assert_eq!(v["stop_reason"], "exhausted");
    assert_eq!(v["properties"][0]["name"], "consistent");
    assert_eq!(v["properties"][0]["status"], "holds");
    assert_eq!(v["properties"][1]["status"], "found");
}

#[test]
fn a_violation_exits_1_and_writes_the_lasso() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let file = dir.join("traces.json");
    let o = krepis(&["check", "philosophers:3", "-q", "--trace-out", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("violated   philosopher-0-eats"), "{text}");
    assert!(text.contains("loop starts here"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let p = v["properties"].as_array().unwrap().iter().find(|p| p["name"] == "philosopher-0-eats").unwrap();
    assert!(p["loop_start"].is_u64());
    assert!(p["trace"].as_array().unwrap().len() > 1);
}

#[test]
fn memory_exhaustion_exits_3_with_a_message_and_a_checkpoint() {
    let (o, dir) = krepis_in(&["check", "puzzle15", "-q", "--memory", "1MiB", "--threads", "2"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("visited set is full"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("memory-limit"));
    // Saved where the user is, with the command that continues it.
    assert!(dir.path().join("krepis.checkpoint").is_file());
    let to_continue = "to continue: krepis check puzzle15 -q --memory 1MiB --threads 2 --resume krepis.checkpoint";
    assert!(stderr(&o).contains(to_continue), "{}", stderr(&o));
}

/// A run that fills --memory while finding the level at its depth bound,
/// which BFS keeps only in part, saves no checkpoint (a deeper run could
/// not resume it) and says why; one level deeper it saves one.
#[test]
fn memory_exhaustion_on_the_last_level_saves_no_checkpoint_and_says_why() {
    // puzzle8 fills 1 MiB of visited set at 118,792 states, while finding depth 24.
    let (o, dir) = krepis_in(&["check", "puzzle8", "-q", "--memory", "1MiB", "--max-depth", "24", "--threads", "2"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("visited set is full"), "{}", stderr(&o));
    assert!(stderr(&o).contains("no checkpoint: the run was finding a level it does not keep whole"), "{}", stderr(&o));
    assert!(!dir.path().join("krepis.checkpoint").exists());
    let (o, dir) = krepis_in(&["check", "puzzle8", "-q", "--memory", "1MiB", "--max-depth", "25", "--threads", "2"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!stderr(&o).contains("no checkpoint"), "{}", stderr(&o));
    assert!(dir.path().join("krepis.checkpoint").is_file());
}

#[test]
fn a_killed_run_resumes_from_its_last_periodic_checkpoint() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_krepis"))
        .args(["check", "puzzle15", "--threads", "2", "-q", "--checkpoint", "cp", "--checkpoint-every", "0.3"])
        .current_dir(dir)
        .spawn()
        .expect("krepis starts");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().expect("killed"); // SIGKILL: no chance to save on the way out
    child.wait().unwrap();
    assert!(dir.join("cp").is_file(), "a periodic checkpoint was saved before the kill");
    let cp = dir.join("cp");
    let o = krepis(&[
        "check",
        "puzzle15",
        "--threads",
        "2",
        "-q",
        // The limit counts the checkpoint's loading too: 1 s left no time
        // to explore on a loaded 2-core machine (CI failed once so).
        "--time-limit",
        "3",
        "--format",
        "json",
        "--resume",
        cp.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["resumed_states"].as_u64().unwrap() > 0);
    assert!(v["unique_states"].as_u64() > v["resumed_states"].as_u64());
}

#[test]
fn a_stopped_check_resumes_to_the_same_result_and_bad_resumes_are_refused() {
    let json = |o: &Output| -> serde_json::Value { serde_json::from_slice(&o.stdout).expect("a JSON report") };
    let scenario = ["check", "stale-reads", "--consistency", "optimistic-linear", "--format", "json", "-q"];
    let whole = krepis(&[&scenario[..], &["--max-depth", "7"]].concat());
    assert_eq!(whole.status.code(), Some(1), "{}", stderr(&whole));
    let (first, dir) = krepis_in(&[&scenario[..], &["--max-states", "20000", "--checkpoint", "cp"]].concat());
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(json(&first)["checkpoint"], "cp");
    let cp = dir.path().join("cp");
    let cp = cp.to_str().unwrap();
    let resumed = krepis(&[&scenario[..], &["--max-depth", "7", "--threads", "1", "--resume", cp]].concat());
    assert_eq!(resumed.status.code(), Some(1), "{}", stderr(&resumed));
    let (w, r) = (json(&whole), json(&resumed));
    assert_eq!(r["resumed_states"], json(&first)["unique_states"]);
    for field in ["unique_states", "max_depth_reached", "stop_reason", "properties"] {
        assert_eq!(w[field], r[field], "{field}");
    }
    for (args, needle) in [
        (vec!["check", "stale-reads", "--resume", cp], "written for model 'stale-reads (optimistic-linear)'"),
        (
            vec!["check", "stale-reads", "--consistency", "optimistic-linear", "--no-symmetry", "--resume", cp],
            "symmetry",
        ),
        (vec!["check", "stale-reads", "--strategy", "dfs", "--resume", cp], "bfs only"),
        (
            vec![
                "check",
                "stale-reads",
                "--consistency",
                "optimistic-linear",
                "--scheduler-ties",
                "any",
                "--resume",
                cp,
            ],
            "resuming 'stale-reads (optimistic-linear, scheduler ties: any)'",
        ),
        (
            vec![
                "check",
                "stale-reads",
                "--consistency",
                "optimistic-linear",
                "--property",
                "unique-names",
                "--resume",
                cp,
            ],
            "this run checks [\"unique-names\"]",
        ),
        (vec!["check", "stale-reads", "--resume", "/no/such/checkpoint"], "cannot read"),
        (vec!["check", "stale-reads", "--resume", env!("CARGO_BIN_EXE_krepis")], "not a krepis checkpoint"),
    ] {
        let o = krepis(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: one line, got {e:?}");
        assert!(e.starts_with("error:") && e.contains(needle), "{args:?}: {e}");
    }
}

/// `--property` checks the properties it names (in the model's order,
/// whatever the flags' order) and gives each the verdict a run of every
/// property gives it; without an `eventually` property among them there is
/// no eventually pass.
#[test]
fn chosen_properties_get_the_verdicts_of_a_whole_run() {
    let json = |o: &Output| -> serde_json::Value { serde_json::from_slice(&o.stdout).expect("a JSON report") };
    let run =
        ["check", "stale-reads", "--consistency", "causal", "--max-depth", "7", "--keep-going", "--format", "json"];
    let whole = json(&krepis(&[&run[..], &["-q"]].concat()));
    let status = |v: &serde_json::Value, name: &str| -> serde_json::Value {
        v["properties"].as_array().unwrap().iter().find(|p| p["name"] == name).expect(name)["status"].clone()
    };
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["properties"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    assert!(whole["liveness_states"].as_u64().unwrap() > 0, "the whole run has an eventually pass");
    assert_eq!(status(&whole, "pods-on-nodes-unique"), "violated", "the stale-reads bug, within depth 7");
    for (chosen, want, pass) in [
        ("unique-names,pods-on-nodes-unique", ["pods-on-nodes-unique", "unique-names"], false),
        ("pods-eventually-scheduled,pods-on-nodes-unique", ["pods-on-nodes-unique", "pods-eventually-scheduled"], true),
    ] {
        let o = krepis(&[&run[..], &["-q", "--property", chosen]].concat());
        let v = json(&o);
        assert_eq!(names(&v), want, "{chosen}");
        for name in want {
            assert_eq!(status(&v, name), status(&whole, name), "{chosen}: {name}");
        }
        assert_eq!(v["unique_states"], whole["unique_states"], "{chosen}");
        assert_eq!(v["liveness_states"].as_u64().unwrap() > 0, pass, "{chosen}: an eventually pass iff one is chosen");
        assert_eq!(o.status.code(), Some(1), "{chosen}: pods-on-nodes-unique is violated");
    }
}

#[test]
fn a_time_limit_prints_an_incomplete_report() {
    let o = krepis(&["check", "puzzle15", "--time-limit", "0.5", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["complete"], false);
    assert_eq!(v["stop_reason"], "time-limit");
    // Progress goes to stderr, not into the JSON.
    assert!(v["unique_states"].as_u64().unwrap() > 0);
}

#[test]
fn scenarios_are_listed() {
    let o = krepis(&["scenarios"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().any(|l| l.starts_with("puzzle8 ")));
    for name in [
        "stale-reads",
        "replicaset-scale",
        "overlapping-replicasets",
        "deployment-rollout",
        "deployment-paused",
        "statefulset-scale",
        "job-parallel",
        "cluster",
    ] {
        assert!(out.lines().any(|l| l.starts_with(&format!("{name} "))), "{name} missing:\n{out}");
    }
}

/// The composed model is built from the count flags (one of everything by
/// default), with every perturbation and no budget: only the depth bounds it.
#[test]
fn the_cluster_scenario_follows_the_count_flags() {
    let o = krepis(&["check", "cluster", "--max-depth", "3", "-q", "--format", "json", "--keep-going"]);
    // Exit 1: no Job completes within 3 steps ("sometimes" not found).
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sc = &v["scenario"];
    assert_eq!(sc["perturbations"], serde_json::json!(["scale", "image", "pause", "suspend"]));
    assert_eq!((sc["restarts"].as_u64(), sc["client_writes"].as_u64()), (Some(255), Some(255)));
    for kind in ["replicasets", "deployments", "statefulsets", "jobs"] {
        assert_eq!(sc[kind].as_array().map(Vec::len), Some(1), "{kind}");
    }
    let names: Vec<&str> = v["properties"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for p in ["pods-on-nodes-unique", "rs-stable-status-counts-pods", "deployments-complete", "jobs-complete"] {
        assert!(names.contains(&p), "{p} not checked: {names:?}");
    }
    let o = krepis(&[
        "check",
        "cluster",
        "--max-depth",
        "2",
        "-q",
        "--format",
        "json",
        "--deployments",
        "2",
        "--jobs",
        "0",
        "--nodes",
        "2",
        "--job-controllers",
        "0",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scenario"]["deployments"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["scenario"]["jobs"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["scenario"]["nodes"].as_array().map(Vec::len), Some(2));
    // Engine examples take no Kubernetes flags.
    let o = krepis(&["check", "puzzle8", "--deployments", "1"]);
    assert_eq!(o.status.code(), Some(2));
    // An infinite space without a bound is refused, not run to the memory limit.
    let o = krepis(&["check", "cluster"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--max-depth") && stderr(&o).trim_end().lines().count() == 1, "{}", stderr(&o));
    let o = krepis(&["check", "replicaset-scale", "--client-writes", "255", "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn help_explains_and_exits_0() {
    let o = krepis(&["check", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for flag in ["--strategy", "--threads", "--max-depth", "--time-limit", "--memory", "--seed", "--format"] {
        assert!(out.contains(flag), "help lacks {flag}");
    }
}

#[test]
fn ctrl_c_stops_cleanly_and_still_reports() {
    let child = Command::new(env!("CARGO_BIN_EXE_krepis"))
        .args(["check", "puzzle15", "--format", "json", "--threads", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("krepis starts");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let o = child.wait_with_output().expect("krepis ends");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("the report is still printed");
    assert_eq!(v["complete"], false);
    assert_eq!(v["stop_reason"], "interrupted");
    assert!(stderr(&o).contains("interrupted"));
}

#[test]
fn scenario_files_run_and_their_errors_name_file_line_and_field() {
    let o = krepis(&["check", "scenarios/web.yaml", "--max-depth", "4", "-q", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["consistency"], "synchronous");
    assert_eq!(v["scenario"]["name"], "web");

    let tmp = temp_dir();
    let dir = tmp.path();
    for (i, (text, line, needle)) in [
        ("nodes: 1\nreplicas: 3\n", 2, "unknown field `replicas`"),
        ("replicasets:\n  - { name: a, replicas: -1 }\n", 2, "replicas"),
        ("controllers: { scheduler: 1, deployer: 2 }\n", 1, "unknown field `deployer`"),
        ("statefulsets:\n  - { name: s, replicas: 1 }\npods:\n  - { name: p, owner: ghost }\n", 4, "owner"),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(format!("bad{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let o = krepis(&["check", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let e = stderr(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "{e}");
        assert!(e.contains(&format!("bad{i}.yaml:{line}")), "{text:?}: {e}");
        assert!(e.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn progress_goes_to_stderr_about_once_a_second() {
    let o = krepis(&["check", "puzzle15", "--time-limit", "2.5", "--threads", "2"]);
    assert_eq!(o.status.code(), Some(0));
    let e = stderr(&o);
    let lines: Vec<&str> = e.lines().filter(|l| l.contains("states (") && l.contains("/s)")).collect();
    assert!((1..=4).contains(&lines.len()), "{e}");
    assert!(lines[0].contains("depth") && lines[0].contains("queue") && lines[0].contains("mem"), "{e}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("time-limit"));
}

/// A counterexample saved with --save-trace replays step by step with
/// `krepis replay`, showing the same steps the check printed; a damaged file
/// or a changed model is one line and exit 2.
#[test]
fn saved_traces_replay_and_bad_ones_are_refused() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let file = dir.join("stale.trace");
    let f = file.to_str().unwrap();
    let o = krepis(&["check", "stale-reads", "--max-depth", "8", "-q", "--save-trace", f]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let checked = String::from_utf8_lossy(&o.stdout).to_string();
    let o = krepis(&["replay", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let replayed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(replayed.contains("'pods-on-nodes-unique' (7 steps)"), "{replayed}");
    assert!(replayed.contains("replayed: 'pods-on-nodes-unique' is violated in the last state"), "{replayed}");
    let steps = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| l.split_once(". ").is_some_and(|(n, _)| n.parse::<u32>().is_ok()))
            .map(String::from)
            .collect()
    };
    let first = steps(&checked);
    assert!(!first.is_empty() && steps(&replayed).starts_with(&first[..8]), "{checked}\n---\n{replayed}");

    // The same file on another consistency model: the model differs.
    let o = krepis(&["check", "stale-reads", "--consistency", "synchronous", "--replay", f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("saved from model"), "{}", stderr(&o));
    // A damaged file.
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes.truncate(n - 3);
    std::fs::write(&file, &bytes).unwrap();
    let o = krepis(&["replay", f]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
}

/// The reference's table, in miniature: four consistency models, BFS and
/// simulation, with the reference's µs per state beside ours.
#[test]
fn bench_table_prints_the_four_models_for_both_strategies() {
    let o = krepis(&["bench-table", "--seconds", "1", "--scenario", "stale-reads", "--threads", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| consistency")).collect();
    assert_eq!(rows.len(), 8, "{out}");
    for (model, reference) in
        [("synchronous", "2.464"), ("monotonic-session", "2.561"), ("resettable-session", "2.600"), ("causal", "6.040")]
    {
        for strategy in ["bfs", "simulation"] {
            let row = rows.iter().find(|r| r.starts_with(&format!("| {model} | {strategy} |"))).expect("a row");
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert!(cells[3].parse::<u64>().is_ok_and(|n| n > 0), "{row}");
            assert!(cells[5].parse::<f64>().is_ok_and(|us| us > 0.0), "{row}");
            // What stopped the run: the time limit, or a stop reason and when.
            assert!(cells[6] == "time-limit" || cells[6].ends_with(" s"), "{row}");
            assert_eq!(cells[7], reference);
        }
    }
    let o = krepis(&["bench-table", "--seconds", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn scaling_table_runs_every_thread_count_and_compares_their_answers() {
    let check = ["replicaset-scale", "--max-depth", "6", "--keep-going"];
    let o = krepis(&[&["scaling-table", "--runs", "2", "--threads", "1,2", "--"][..], &check[..]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("krepis check replicaset-scale --max-depth 6 --keep-going\n2 runs per thread count"),
        "{out}"
    );
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| threads"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    let unique = unique_states(&["replicaset-scale", "--max-depth", "6"]).to_string();
    for (row, threads) in rows.iter().zip(["1", "2"]) {
        assert_eq!((row[1], row[8], row[9]), (threads, unique.as_str(), "yes"), "{out}");
        assert!(row[4].parse::<f64>().is_ok_and(|t| t > 0.0), "{out}");
    }
    assert_eq!(rows[0][7], "1.00x", "{out}");
    for bad in
        [&["scaling-table", "--", "replicaset-scale", "--threads", "2"][..], &["scaling-table", "--threads", "0"]]
    {
        let o = krepis(bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
    let o = krepis(&["scaling-table", "--runs", "1", "--threads", "1", "--", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown scenario 'nope'"), "{}", stderr(&o));
}

/// Unique states of `check ARGS --keep-going` (JSON report).
fn unique_states(args: &[&str]) -> u64 {
    let mut all = vec!["check"];
    all.extend(args);
    all.extend(["--keep-going", "--format", "json", "-q", "--threads", "2"]);
    let o = krepis(&all);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{all:?}: {e}: {}", stderr(&o)));
    v["unique_states"].as_u64().expect("unique_states")
}

/// The symmetry table's counts are those of the checks it describes, run
/// directly: with one instance per kind nothing is reduced, with two the
/// ReplicaSet-scale scenario shrinks (its search and its `eventually`
/// pass) and keeps its verdicts; with scheduler ties 'any', nodes are
/// permuted too.
#[test]
fn symmetry_table_reports_what_direct_checks_find() {
    let table =
        |instances: &str| symmetry_table(&["--row", "replicaset-scale,synchronous,4", "--instances", instances]).1;
    let base = ["replicaset-scale", "--consistency", "synchronous", "--max-depth", "4"];
    let one = table("1");
    let plain = unique_states(&base).to_string();
    assert_eq!((one[4].as_str(), one[5].as_str(), one[6].as_str()), (plain.as_str(), plain.as_str(), "1.0x"));
    assert_eq!(one[7], one[8], "the eventually pass, with nothing to reduce");
    assert_eq!(one[9], "equal");
    // The scenario runs a scheduler, a ReplicaSet controller and PodGC.
    let two = table("2");
    let mut doubled = base.to_vec();
    doubled.extend(["--schedulers", "2", "--replicaset-controllers", "2", "--podgc-controllers", "2"]);
    let without = unique_states(&[&doubled[..], &["--no-symmetry"]].concat());
    let with = unique_states(&[&doubled[..], &["--symmetry"]].concat());
    assert!(with < without, "{with} < {without}");
    assert_eq!((two[4].clone(), two[5].clone()), (without.to_string(), with.to_string()));
    let pass: Vec<u64> = two[7..9].iter().map(|c| c.parse().expect("a count")).collect();
    assert!(pass[1] < pass[0], "the eventually pass runs on orbits: {pass:?}");
    assert_eq!(two[9], "equal");
    // With scheduler ties 'any' the two nodes of stale-reads are permuted
    // too; a row whose search exhausts before its depth bound is compared.
    let any = ["--instances", "1", "--scheduler-ties", "any"];
    let (heading, row) = symmetry_table(&[&["--row", "stale-reads,synchronous,30"], &any[..]].concat());
    assert!(heading.contains("scheduler ties: any"), "{heading}");
    assert_eq!(
        (row[4].as_str(), row[5].as_str(), row[6].as_str(), row[9].as_str()),
        ("70588", "35310", "2.0x", "equal")
    );
    // `--nodes` reaches every row's checks: three nodes, the counts of the
    // checks run directly.
    let (heading, row) = symmetry_table(&[&["--row", "stale-reads,synchronous,5", "--nodes", "3"], &any[..]].concat());
    assert!(heading.contains("scheduler ties: any, 3 nodes"), "{heading}");
    let direct = ["stale-reads", "--consistency", "synchronous", "--max-depth", "5", "--scheduler-ties", "any"];
    let three = [&direct[..], &["--nodes", "3"]].concat();
    let without = unique_states(&[&three[..], &["--no-symmetry"]].concat());
    let with = unique_states(&[&three[..], &["--symmetry"]].concat());
    assert!(with < without);
    assert_eq!((row[4].clone(), row[5].clone()), (without.to_string(), with.to_string()));
}

/// `krepis symmetry-table ARGS --threads 2` (which must succeed): its
/// heading line and the cells of its one row.
fn symmetry_table(args: &[&str]) -> (String, Vec<String>) {
    let o = krepis(&[&["symmetry-table"], args, &["--threads", "2"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let heading = out.lines().next().unwrap_or_default().to_string();
    let row = out.lines().find(|l| l.starts_with("| ") && !l.starts_with("| scenario |")).expect("a row");
    (heading, row.split('|').map(|c| c.trim().to_string()).collect())
}

#[test]
fn the_eventually_pass_reads_the_searchs_records_unless_told_not_to() {
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "replicaset-scale", "--max-depth", "4", "--keep-going", "-q", "--format", "json"];
        args.extend_from_slice(extra);
        let o = krepis(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("a JSON report")
    };
    let (on, off) = (run(&[]), run(&["--no-pass-records"]));
    assert_eq!((on["liveness_recorded"].as_bool(), off["liveness_recorded"].as_bool()), (Some(true), Some(false)));
    assert!(on["liveness_states"].as_u64() > Some(100), "{}", on["liveness_states"]);
    // Past --pass-records-memory (any process holds more than 1 KiB) the
    // searches drop their records, and the report says so.
    for strategy in ["bfs", "dfs"] {
        let dropped = run(&["--pass-records-memory", "1KiB", "--strategy", strategy]);
        assert_eq!(dropped["liveness_recorded"].as_bool(), Some(false), "{strategy}");
        assert!(
            dropped["records_dropped_bytes"].as_u64() > Some(1024),
            "{strategy}: {}",
            dropped["records_dropped_bytes"]
        );
        for field in ["liveness_states", "unique_states", "properties"] {
            assert_eq!(on[field], dropped[field], "{strategy}: {field}");
        }
    }
    assert_eq!(on.get("records_dropped_bytes"), None, "not dropped: not in the report");
    for field in ["liveness_states", "unique_states", "properties"] {
        assert_eq!(on[field], off[field], "{field}");
    }
    let text = |extra: &[&str]| {
        let o = krepis(&[&["check", "replicaset-scale", "--max-depth", "4", "--keep-going", "-q"][..], extra].concat());
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(text(&[]).contains("states, on the search's records)"));
    assert!(text(&["--pass-records-memory", "0"]).contains("states, on the search's records)"), "0: never dropped");
    let dropped = text(&["--pass-records-memory", "1KiB"]);
    assert!(dropped.contains("records for the eventually pass dropped at "), "{dropped}");
    // The progress lines say so too.
    let o = krepis(&[
        "check",
        "cluster",
        "--strategy",
        "dfs",
        "--max-depth",
        "100",
        "--keep-going",
        "--time-limit",
        "1.5",
        "--pass-records-memory",
        "1KiB",
    ]);
    let progress: Vec<String> = stderr(&o).lines().filter(|l| l.contains("states (")).map(str::to_string).collect();
    assert!(!progress.is_empty() && progress.iter().all(|l| l.contains("(pass records dropped)")), "{progress:?}");
    let o = krepis(&["check", "replicaset-scale", "--pass-records-memory", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'lots' is not a size"), "{}", stderr(&o));
}

/// `--scheduler-ties any` gives the scheduler a transition per node and
/// makes nodes interchangeable, which the report names; `name` is the
/// default.
#[test]
fn scheduler_ties_are_a_flag_the_report_names() {
    let base = ["stale-reads", "--consistency", "synchronous"];
    let by_name = unique_states(&base);
    assert_eq!(unique_states(&[&base[..], &["--scheduler-ties", "name"]].concat()), by_name);
    let any = [&base[..], &["--scheduler-ties", "any"]].concat();
    let any_plain = [&any[..], &["--no-symmetry"]].concat();
    // With any ties nodes are interchangeable, and symmetry halves the space.
    assert_eq!((by_name, unique_states(&any_plain), unique_states(&any)), (56_458, 70_588, 35_310));
    let o = krepis(&[&["check"], &any[..], &["--format", "json", "-q", "--threads", "2"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
    assert_eq!(v["scenario"]["scheduler_ties"], "any");
    assert_eq!(v["model"], "stale-reads (synchronous, scheduler ties: any)");
    // With 5 nodes alike, 120 renamings would be compared: the check says
    // it compares at most 24.
    let five = krepis(&[&["check"], &any[..], &["--nodes", "5", "--max-depth", "2", "--threads", "2"]].concat());
    // (Exit 1: a `sometimes` property is not found within depth 2.)
    assert_eq!(five.status.code(), Some(1), "{}", stderr(&five));
    assert!(stderr(&five).contains("at most 24 renamings of nodes that look alike"), "{}", stderr(&five));
}
