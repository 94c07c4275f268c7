//! The parent log: the parent link of every state a breadth-first search
//! stores, kept on disk so that the visited set in memory holds fingerprints
//! alone (8 bytes a slot, at most 16 bytes a state).
//!
//! A record is 16 bytes: the state's fingerprint and its parent's (0 for an
//! initial state), both little-endian `u64`. Each thread gathers records in a
//! [`LogBuffer`] (1 MiB) and appends it to the shared file when it fills or
//! when its phase of the search ends, so the file lock is taken once per
//! 65,536 states, never per state. The file is an unnamed temporary file
//! (`tempfile`, in `TMPDIR` or the system's temporary directory): nothing is
//! left behind when the run ends, even by `kill -9`. The operating system's
//! page cache absorbs the writes; a run that must never touch disk can use DFS
//! or simulation, which keep no parent links.
//!
//! Traces are rebuilt after the search by one backward scan ([`ParentLog::chain`]):
//! a level-synchronous search writes every state's record after its parent's
//! (a parent is stored, and its thread's buffer written at the end of its
//! level, before any of its successors is generated), so reading the file from
//! the end, each link found is followed further back. Checkpoints copy the
//! records in file order, so a resumed run's log keeps that order. Should the
//! order not hold, the scan starts again from the end (one more pass per link),
//! so a trace is still found, only more slowly.
//!
//! # Where it is incomplete
//! The file lives as long as the run: a run that is killed keeps no parent
//! links (a checkpoint does: it copies the log). Disk space is 16 bytes per
//! unique state; a full disk stops the run with an error naming the file
//! system problem.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::fingerprint::Fingerprint;
use crate::sync::lock;

/// Bytes of one record: fingerprint and parent.
pub const RECORD_BYTES: usize = 16;
/// Records a [`LogBuffer`] gathers before it asks to be written.
const BUFFER_RECORDS: usize = 1 << 16;
/// Bytes read at once when scanning the file.
const READ_BYTES: usize = 1 << 20;

/// The parent links of a run's stored states, in an unnamed temporary file.
pub struct ParentLog {
    file: Mutex<File>,
    records: AtomicU64,
    /// The first write error, if any (later writes are skipped).
    error: Mutex<Option<String>>,
}

/// One thread's records not yet written to the [`ParentLog`].
#[derive(Default)]
pub struct LogBuffer {
    bytes: Vec<u8>,
}

impl LogBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        LogBuffer::default()
    }

    /// Adds the record of `fp` (parent `parent`, 0 for none). Returns `true`
    /// when the buffer is full and should be written ([`ParentLog::append`]).
    #[inline]
    pub fn push(&mut self, fp: Fingerprint, parent: Fingerprint) -> bool {
        if self.bytes.capacity() == 0 {
            self.bytes.reserve_exact(BUFFER_RECORDS * RECORD_BYTES);
        }
        self.bytes.extend_from_slice(&fp.to_le_bytes());
        self.bytes.extend_from_slice(&parent.to_le_bytes());
        self.bytes.len() >= BUFFER_RECORDS * RECORD_BYTES
    }

    /// Whether no record waits.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl ParentLog {
    /// A new, empty log in a fresh unnamed temporary file.
    pub fn new() -> Result<Self, String> {
        let file = tempfile::tempfile().map_err(|e| {
            format!(
                "cannot create the parent log in {}: {e} (set TMPDIR to a writable directory)",
                std::env::temp_dir().display()
            )
        })?;
        Ok(ParentLog { file: Mutex::new(file), records: AtomicU64::new(0), error: Mutex::new(None) })
    }

    /// Writes and empties `buf`. On failure the error is kept
    /// ([`ParentLog::error`]), returned, and later appends are dropped.
    pub fn append(&self, buf: &mut LogBuffer) -> Result<(), String> {
        if buf.bytes.is_empty() {
            return Ok(());
        }
        let n = (buf.bytes.len() / RECORD_BYTES) as u64;
        let mut file = lock(&self.file);
        if let Some(e) = lock(&self.error).clone() {
            buf.bytes.clear();
            return Err(e);
        }
        let written = file.seek(SeekFrom::End(0)).and_then(|_| file.write_all(&buf.bytes));
        buf.bytes.clear();
        match written {
            Ok(()) => {
                self.records.fetch_add(n, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                let e = format!("cannot write the parent log (BFS keeps its parent links in TMPDIR): {e}");
                *lock(&self.error) = Some(e.clone());
                Err(e)
            }
        }
    }

    /// The first write error, if any: the log misses records after it.
    pub fn error(&self) -> Option<String> {
        lock(&self.error).clone()
    }

    /// Records written.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// Bytes written.
    pub fn bytes(&self) -> u64 {
        self.records() * RECORD_BYTES as u64
    }

    /// Calls `f(fingerprint, parent)` on every record written, in file order.
    pub fn for_each(&self, mut f: impl FnMut(Fingerprint, Fingerprint) -> Result<(), String>) -> Result<(), String> {
        let total = self.bytes();
        let mut buf = vec![0u8; READ_BYTES];
        let mut at = 0;
        while at < total {
            let len = (total - at).min(READ_BYTES as u64) as usize;
            self.read(at, &mut buf[..len])?;
            for r in buf[..len].chunks_exact(RECORD_BYTES) {
                let (fp, parent) = record(r);
                f(fp, parent)?;
            }
            at += len as u64;
        }
        Ok(())
    }

    /// The fingerprints from an initial state to `fp`, following parent
    /// links (`[fp]` alone when `fp` is initial). Every record written must be
    /// in the file (no buffer still held). Errors if `fp`, or a parent on the
    /// way, has no record.
    pub fn chain(&self, fp: Fingerprint) -> Result<Vec<Fingerprint>, String> {
        let total = self.bytes();
        let mut chain = vec![fp];
        let mut target = fp;
        let mut buf = vec![0u8; READ_BYTES];
        // Scans from the end; a pass that finds nothing means a missing link.
        loop {
            let mut found = false;
            let mut end = total;
            while end > 0 {
                let len = end.min(READ_BYTES as u64) as usize;
                let from = end - len as u64;
                self.read(from, &mut buf[..len])?;
                for r in buf[..len].chunks_exact(RECORD_BYTES).rev() {
                    let (f, parent) = record(r);
                    if f != target {
                        continue;
                    }
                    found = true;
                    if parent == 0 {
                        chain.reverse();
                        return Ok(chain);
                    }
                    if chain.len() as u64 > self.records() {
                        return Err("the parent log has a cycle".into());
                    }
                    chain.push(parent);
                    target = parent;
                }
                end = from;
            }
            if !found {
                return Err(format!("the parent log has no record of state {target:#018x}"));
            }
        }
    }

    fn read(&self, at: u64, buf: &mut [u8]) -> Result<(), String> {
        let mut file = lock(&self.file);
        file.seek(SeekFrom::Start(at))
            .and_then(|_| file.read_exact(buf))
            .map_err(|e| format!("cannot read the parent log: {e}"))
    }
}

fn record(r: &[u8]) -> (Fingerprint, Fingerprint) {
    let mut a = [0u8; 8];
    let mut b = [0u8; 8];
    a.copy_from_slice(&r[..8]);
    b.copy_from_slice(&r[8..16]);
    (u64::from_le_bytes(a), u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(records: &[(u64, u64)], per_buffer: usize) -> ParentLog {
        let log = ParentLog::new().unwrap();
        let mut buf = LogBuffer::new();
        for (i, &(fp, parent)) in records.iter().enumerate() {
            buf.push(fp, parent);
            if (i + 1) % per_buffer == 0 {
                log.append(&mut buf).unwrap();
            }
        }
        log.append(&mut buf).unwrap();
        log
    }

    #[test]
    fn chains_follow_parents_back_to_an_initial_state() {
        // Two initial states, a tree below them, parents before children.
        let recs = [(1, 0), (2, 0), (10, 1), (11, 2), (20, 10), (21, 11), (30, 21)];
        let log = log_of(&recs, 3);
        assert_eq!(log.records(), 7);
        assert_eq!(log.bytes(), 7 * 16);
        assert_eq!(log.chain(30).unwrap(), vec![2, 11, 21, 30]);
        assert_eq!(log.chain(20).unwrap(), vec![1, 10, 20]);
        assert_eq!(log.chain(2).unwrap(), vec![2]);
        assert!(log.chain(99).unwrap_err().contains("no record"));
        let mut all = Vec::new();
        log.for_each(|f, p| {
            all.push((f, p));
            Ok(())
        })
        .unwrap();
        assert_eq!(all, recs);
    }

    #[test]
    fn chains_are_found_whatever_the_record_order() {
        // Children before parents (an order a search never writes): one pass per link.
        let recs = [(30, 21), (21, 11), (11, 2), (2, 0), (1, 0)];
        assert_eq!(log_of(&recs, 2).chain(30).unwrap(), vec![2, 11, 21, 30]);
        // A broken link is an error, not a loop.
        assert!(log_of(&[(30, 21), (1, 0)], 1).chain(30).unwrap_err().contains("0x0000000000000015"));
        assert!(log_of(&[(5, 6), (6, 5)], 1).chain(5).unwrap_err().contains("cycle"));
    }

    #[test]
    fn scans_cross_read_blocks() {
        // More than one READ_BYTES block: a chain of 200,000 links.
        let recs: Vec<(u64, u64)> = (1..=200_000u64).map(|i| (i, i - 1)).collect();
        let log = log_of(&recs, BUFFER_RECORDS);
        let chain = log.chain(200_000).unwrap();
        assert_eq!(chain.len(), 200_000);
        assert!(chain.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn full_buffers_ask_to_be_written() {
        let mut buf = LogBuffer::new();
        assert!(buf.is_empty());
        assert!((0..BUFFER_RECORDS - 1).all(|i| !buf.push(i as u64 + 1, 0)));
        assert!(buf.push(7, 0));
    }
}
