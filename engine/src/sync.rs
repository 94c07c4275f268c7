//! Locking that survives a panicking holder.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, taking the data even if a thread panicked while holding it:
/// the engine's mutexes guard plain hand-over data (buffers, results, a
/// table pointer) that a panic cannot leave half-updated in a way a later
/// reader would misread, and a model's panic is reported on its own.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
