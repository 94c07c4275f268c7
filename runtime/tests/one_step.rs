//! By code structure, not convention: the runtime runs the checker's
//! controllers and nothing else.
//!
//! - The per-kind controller functions are private to the model crate
//!   (`pub(crate)`), so the runtime cannot call them: the compiler enforces
//!   that its only way into controller logic is `controllers::step_picking`,
//!   the function the checker's transitions call (with the pick the checker
//!   explores: a scheduler may be given any of equally loaded nodes; the
//!   runtime draws it at random, as kube-scheduler does), or `step`, its
//!   pick 0.
//! - This test reads the sources: the runtime calls `step_picking` in
//!   exactly one place and names no controller module; the checker's
//!   transition calls `step_picking` too, and `step` is its pick 0; and the
//!   model has no cargo features or `cfg` switches, so no branch of it can
//!   exist in one build and not the other.

use std::fs;
use std::path::Path;

fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).expect("sources") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.display().to_string(), fs::read_to_string(&p).expect("read")));
        }
    }
    out
}

/// The text with `//` comments removed.
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_runtime_calls_the_checkers_step_once_and_no_controller_directly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = sources(&root.join("src"));
    let calls: usize =
        runtime.iter().map(|(_, t)| code(t).matches("= step_picking(&ctx.controller, &mut local,").count()).sum();
    assert_eq!(calls, 1, "the controller loop calls the model's step exactly once");
    // Nor `step` (pick 0 always) anywhere: a word `step(`, not `client_step(`.
    let bare = |t: &str| {
        t.match_indices("step(")
            .filter(|(at, _)| !t[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            .count()
    };
    assert_eq!(runtime.iter().map(|(_, t)| bare(&code(t))).sum::<usize>(), 0, "the runtime calls `step`");
    for (path, text) in &runtime {
        let text = code(text);
        for module in ["replicaset::", "scheduler::", "kubelet::", "podgc::", "statefulset::", "deployment::", "job::"]
        {
            assert!(!text.contains(&format!("controllers::{module}")), "{path} reaches into {module}");
        }
        let imports: Vec<&str> = text.lines().filter(|l| l.contains("krepis_model::controllers::")).collect();
        for l in imports {
            assert!(
                l.contains("controllers::{step_picking, Controller, Local, View}")
                    || l.contains("controllers::{Controller, Local}"),
                "{path}: {l}"
            );
        }
    }
    // The checker's transition calls `step_picking` too, and `step` is its
    // pick 0.
    let kube = code(&fs::read_to_string(root.join("../model/src/kube.rs")).expect("kube.rs"));
    assert!(kube.contains("let wrote = step_picking(c, &mut local, &View"), "the checker's transition");
    let controllers = code(&fs::read_to_string(root.join("../model/src/controllers/mod.rs")).expect("mod.rs"));
    let step = controllers.split("pub fn step(").nth(1).expect("controllers::step");
    let body = &step[..step.find("\n}").expect("its end")];
    assert!(body.trim_end().ends_with("step_picking(controller, local, view, 0)"), "step is pick 0: {body}");
}

#[test]
fn the_model_has_no_build_switches() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../model");
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("manifest");
    assert!(!manifest.contains("[features]"), "the model crate must have no features");
    for (path, text) in sources(&root.join("src")) {
        let text = code(&text);
        assert!(!text.contains("cfg(feature"), "{path}: a feature switch");
        assert!(!text.contains("cfg!("), "{path}: a cfg! switch");
    }
}
