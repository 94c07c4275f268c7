//! A path in a fresh temporary directory, for tests that write files
//! (checkpoints, traces). Shared by the engine's and the root crate's
//! integration tests (the latter include this file by path).

use std::path::{Path, PathBuf};

/// A path named `name` in a fresh directory, removed with everything in it
/// when dropped.
pub struct Temp {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Temp {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.path
    }
}

impl AsRef<Path> for Temp {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

/// `name` in a new directory of its own under the system's temporary one.
pub fn temp(name: &str) -> Temp {
    let dir = tempfile::Builder::new().prefix("krepis-test-").tempdir().expect("temp dir");
    Temp { path: dir.path().join(name), _dir: dir }
}
