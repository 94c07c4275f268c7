//! Runs `krepis check ... --format json` in a child process and reads its
//! report: how the tables (`bench-table`, `symmetry-table`) measure, one
//! process per run, so that no run inherits another's allocator state.

use std::path::{Path, PathBuf};

/// This program, to run checks with.
pub fn this_program() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find this program to run the checks: {e}"))
}

/// The checker threads per run: `arg`, or every core.
pub fn threads(arg: Option<u64>) -> usize {
    arg.map_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()), |n| usize::try_from(n).unwrap_or(1))
}

/// Runs `exe check ARGS --format json` in a temporary directory (a run that
/// fills memory saves a checkpoint in its working directory; the directory
/// is removed afterwards) and returns its JSON report. A run without a
/// report (bad arguments, a crash) is an error quoting the last line the
/// child wrote on stderr.
pub fn check_report(exe: &Path, args: &[String]) -> Result<serde_json::Value, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let output = std::process::Command::new(exe)
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {exe:?}: {e}"))?;
    serde_json::from_slice(&output.stdout).map_err(|_| {
        let err = String::from_utf8_lossy(&output.stderr);
        format!("the check gave no report ({}): {}", output.status, err.lines().last().unwrap_or(""))
    })
}
