//! Checkpoints: a BFS run stopped early (memory, time, state or depth limit,
//! Ctrl-C) saved to a file, so that a later run resumes it and ends with the
//! same unique-state count and verdicts as a run never interrupted.
//!
//! A checkpoint holds the visited set (fingerprints and parent links), the
//! states of the level being expanded that were not expanded yet, the states
//! of the next level found so far, the states the visited set had no room for,
//! and the properties decided so far. Because the BFS is level-synchronous
//! and a stop falls between chunks of work, these are exactly what the rest of
//! the run needs: every state is either expanded (its successors are in the
//! set) or in one of the saved lists.
//!
//! # Format (version 3)
//! All integers little-endian.
//! - the 8 bytes `KREPIS\0C`, a `u16` version;
//! - a `u32` length, then a [`Header`] in postcard (version 3 added its
//!   `model_revision`; version 2 files are refused);
//! - `header.visited` entries of 16 bytes: fingerprint `u64`, parent `u64`,
//!   in the order of the run's parent log (every parent before its children;
//!   a file in another order resumes, and its traces take longer to rebuild);
//! - `header.current`, then `header.next` state records: fingerprint `u64`,
//!   `u32` length, the model's encoding of the state ([`Model::encode_state`]);
//! - `header.unstored` records: fingerprint `u64`, parent `u64`, `u32`
//!   length, the encoding;
//!
//!   every state is encoded in one sharing session
//!   ([`krepis_encodings::share`]) and decoded in one, in file order: a part
//!   several states share (in the Kubernetes model, a store, an object list,
//!   an object) is written once, where it first appears, and referred to by
//!   number after (version 1 wrote every state in full: over 50 GB for a
//!   `cluster` frontier of eleven million states);
//! - the xxh3-64 of every byte before it, as a `u64`.
//!
//! The visited set is raw fixed-width pairs rather than postcard: it is most
//! of the file, fingerprints are uniformly random (a varint would make them
//! longer), and it streams in and out without a copy in memory. Files are
//! written to `FILE.partial` and renamed, so a crash while writing never
//! replaces a good checkpoint with a broken one.
//!
//! # Where it is incomplete
//! Only BFS writes and resumes checkpoints. States are saved with the model's
//! own encoding, so a checkpoint resumes only on a build of the model that
//! encodes states the same way and gives them the same fingerprints (checked
//! on load: the initial states' fingerprints and every saved state's) and
//! has the same [`Model::revision`]: a change that merges states the model
//! kept apart can leave every saved state's fingerprint as it was, and only
//! the revision, which such a change must raise, tells.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use krepis_encodings::share;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3Default;

use crate::fingerprint::{nonzero, Fingerprint};
use crate::parent_log::{LogBuffer, ParentLog};
use crate::visited::{Insert, VisitedSet};
use crate::Model;

/// The first bytes of a checkpoint file.
pub const MAGIC: [u8; 8] = *b"KREPIS\0C";
/// The format version this build writes and reads.
pub const VERSION: u16 = 3;

/// What a checkpoint says about itself: the run it continues and the sizes
/// of its sections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The model's name ([`Model::name`]).
    pub model: String,
    /// The model's revision ([`Model::revision`]).
    pub model_revision: u32,
    /// The command-line arguments of the run that wrote it (empty when
    /// written through the library), to say how to resume it.
    pub args: Vec<String>,
    /// The names of the model's properties, in order.
    pub properties: Vec<String>,
    /// Fingerprints of the initial states (canonical when `symmetry`).
    pub init: Vec<Fingerprint>,
    /// Whether states were reduced by symmetry.
    pub symmetry: bool,
    /// Why the run that wrote it stopped (a [`crate::StopReason`] name).
    pub stopped: String,
    /// The BFS depth of the `current` states (`next` states are one deeper).
    pub depth: u64,
    /// Deepest depth with a state in the visited set.
    pub max_depth_reached: u64,
    /// Unique states so far (the visited entries).
    pub unique: u64,
    /// Transitions generated so far.
    pub transitions: u64,
    /// Per property: the fingerprint of the state that decided it.
    pub decided: Vec<Option<Fingerprint>>,
    /// Per property: the smallest fingerprint among the `next` states that
    /// decide it (settled when the `current` level ends).
    pub next_hits: Vec<Option<Fingerprint>>,
    /// Number of visited entries.
    pub visited: u64,
    /// Number of states at `depth` still to expand.
    pub current: u64,
    /// Number of states at `depth + 1` already in the visited set.
    pub next: u64,
    /// Number of states at `depth + 1` the visited set had no room for.
    pub unstored: u64,
}

/// A checkpoint file whose header and checksum have been read and checked.
/// The visited set and states are read again when the run resumes
/// ([`crate::Options::resume`]), so a large file is never held in memory.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    path: PathBuf,
    header: Header,
}

/// When a run writes a checkpoint, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointTo {
    /// The file to write.
    pub path: PathBuf,
    /// Write on every early stop (time, states, depth, memory, Ctrl-C);
    /// when false, only when the run stops on memory.
    pub any_stop: bool,
    /// Stored in the header (see [`Header::args`]).
    pub args: Vec<String>,
}

impl Checkpoint {
    /// Opens `path`: checks the magic, version and checksum and reads the
    /// header. The error names the path and what is wrong.
    pub fn open(path: &Path) -> Result<Checkpoint, String> {
        let fail = |e: String| format!("{}: {e}", path.display());
        let file = File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let len = file.metadata().map_err(|e| fail(format!("cannot read: {e}")))?.len();
        let mut r = Hashing::new(BufReader::with_capacity(1 << 20, file));
        let header = read_header(&mut r).map_err(fail)?;
        // Stream the rest through the hash, checking the sections' sizes.
        let body = len.checked_sub(8).ok_or_else(|| fail("truncated checkpoint".into()))?;
        let mut buf = vec![0u8; 1 << 16];
        let mut left = body.checked_sub(r.count).ok_or_else(|| fail("truncated checkpoint".into()))?;
        while left > 0 {
            let n = (left as usize).min(buf.len());
            r.read_exact(&mut buf[..n]).map_err(|e| fail(format!("cannot read: {e}")))?;
            left -= n as u64;
        }
        let sum = r.hash.digest();
        let mut tail = [0u8; 8];
        r.inner.read_exact(&mut tail).map_err(|e| fail(format!("cannot read: {e}")))?;
        if u64::from_le_bytes(tail) != sum {
            return Err(fail("corrupt checkpoint (checksum mismatch)".into()));
        }
        let cp = Checkpoint { path: path.to_path_buf(), header };
        // Sections must fill the file exactly; records are checked on resume.
        if cp.header.visited.checked_mul(16).is_none_or(|v| v > body) {
            return Err(fail("corrupt checkpoint (visited section longer than the file)".into()));
        }
        Ok(cp)
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks that the checkpoint was written by a run of `model` with
    /// symmetry `symmetry` checking the properties called `properties` (all
    /// of the model's, or those `--property` chose): same name, same
    /// properties, same initial states. The error says what differs.
    pub fn check_model<M: Model>(&self, model: &M, symmetry: bool, properties: &[String]) -> Result<(), String> {
        let h = &self.header;
        let written = if h.args.is_empty() { String::new() } else { format!(" (by `krepis {}`)", h.args.join(" ")) };
        let fail = |what: String| Err(format!("{}: written for {what}{written}", self.path.display()));
        if h.model != model.name() {
            return fail(format!("model '{}', resuming '{}'", h.model, model.name()));
        }
        if h.model_revision != model.revision() {
            return fail(format!(
                "revision {} of model '{}', this build has revision {} (its states differ)",
                h.model_revision,
                h.model,
                model.revision()
            ));
        }
        if h.symmetry != symmetry {
            let on = |b: bool| if b { "on" } else { "off" };
            return fail(format!("symmetry {}, resuming with symmetry {}", on(h.symmetry), on(symmetry)));
        }
        if h.properties != properties {
            return fail(format!("properties {:?}, this run checks {:?}", h.properties, properties));
        }
        if h.init != init_fingerprints(model, symmetry) {
            return fail("other initial states (the scenario or the model differs)".into());
        }
        Ok(())
    }
}

/// An implementation of [`Model::encode_state`] for states with serde
/// support: postcard, appended to `out`. False only if serialising fails.
pub fn postcard_encode<T: Serialize>(state: &T, out: &mut Vec<u8>) -> bool {
    match postcard::to_stdvec(state) {
        Ok(bytes) => {
            out.extend_from_slice(&bytes);
            true
        }
        Err(_) => false,
    }
}

/// The [`Model::decode_state`] that goes with [`postcard_encode`].
pub fn postcard_decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    postcard::from_bytes(bytes).ok()
}

/// Fingerprints of the model's initial states, canonical under `symmetry`.
pub(crate) fn init_fingerprints<M: Model>(model: &M, symmetry: bool) -> Vec<Fingerprint> {
    let mut init = Vec::new();
    model.init_states(&mut init);
    init.iter_mut()
        .map(|s| {
            if symmetry {
                model.canonicalize(s);
            }
            nonzero(model.fingerprint(s))
        })
        .collect()
}

fn read_header(r: &mut impl Read) -> Result<Header, String> {
    let mut magic = [0u8; 10];
    r.read_exact(&mut magic).map_err(|_| "not a krepis checkpoint (too short)".to_string())?;
    if magic[..8] != MAGIC {
        return Err("not a krepis checkpoint".into());
    }
    let version = u16::from_le_bytes([magic[8], magic[9]]);
    if version != VERSION {
        return Err(format!("checkpoint version {version}, this krepis reads version {VERSION}"));
    }
    let len = read_u32(r)? as usize;
    if len > 1 << 30 {
        return Err("corrupt checkpoint (header too long)".into());
    }
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes).map_err(|_| "truncated checkpoint".to_string())?;
    postcard::from_bytes(&bytes).map_err(|e| format!("corrupt checkpoint header: {e}"))
}

fn read_u32(r: &mut impl Read) -> Result<u32, String> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).map_err(|_| "truncated checkpoint".to_string())?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(r: &mut impl Read) -> Result<u64, String> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b).map_err(|_| "truncated checkpoint".to_string())?;
    Ok(u64::from_le_bytes(b))
}

/// A reader or writer that hashes every byte passing through it.
struct Hashing<T> {
    inner: T,
    hash: Box<Xxh3Default>,
    count: u64,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Hashing { inner, hash: Box::new(Xxh3Default::new()), count: 0 }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The states a checkpoint saves besides the visited set, borrowed from the
/// stopped run.
pub(crate) struct Frontiers<'a, S> {
    /// States at `depth` not expanded yet.
    pub current: Vec<&'a [(Fingerprint, S)]>,
    /// States at `depth + 1` in the visited set.
    pub next: Vec<&'a [(Fingerprint, S)]>,
    /// States at `depth + 1` not in the visited set: (fingerprint, parent, state).
    pub unstored: &'a [(Fingerprint, Fingerprint, S)],
}

/// Writes a checkpoint of a stopped run to `to.path` (through a `.partial`
/// file renamed at the end). `header`'s counts are filled in here.
pub(crate) fn write<M: Model>(
    model: &M,
    to: &CheckpointTo,
    mut header: Header,
    log: &ParentLog,
    states: &Frontiers<'_, M::State>,
) -> Result<(), String> {
    let partial = {
        let mut p = to.path.clone().into_os_string();
        p.push(".partial");
        PathBuf::from(p)
    };
    let fail = |e: String| format!("cannot write the checkpoint {}: {e}", to.path.display());
    let count = |parts: &[&[(Fingerprint, M::State)]]| parts.iter().map(|p| p.len() as u64).sum::<u64>();
    header.args.clone_from(&to.args);
    header.visited = log.records();
    header.current = count(&states.current);
    header.next = count(&states.next);
    header.unstored = states.unstored.len() as u64;
    let mut enc = Vec::new();
    let record = |w: &mut Hashing<BufWriter<File>>, s: &M::State, enc: &mut Vec<u8>| -> Result<(), String> {
        enc.clear();
        if !model.encode_state(s, enc) {
            return Err(format!("model '{}' cannot encode its states (Model::encode_state)", model.name()));
        }
        let len = u32::try_from(enc.len()).map_err(|_| "a state's encoding is over 4 GiB".to_string())?;
        w.write_all(&len.to_le_bytes()).and_then(|_| w.write_all(enc)).map_err(|e| e.to_string())
    };
    let result = (|| -> Result<(), String> {
        let file = File::create(&partial).map_err(|e| e.to_string())?;
        let mut w = Hashing::new(BufWriter::with_capacity(1 << 20, file));
        let io = |e: std::io::Error| e.to_string();
        let head = postcard::to_stdvec(&header).map_err(|e| e.to_string())?;
        w.write_all(&MAGIC).map_err(io)?;
        w.write_all(&VERSION.to_le_bytes()).map_err(io)?;
        w.write_all(&(head.len() as u32).to_le_bytes()).map_err(io)?;
        w.write_all(&head).map_err(io)?;
        // In the log's order, parents before children, which a resumed run's
        // log keeps (its traces are then rebuilt in one pass).
        log.for_each(|fp, parent| {
            w.write_all(&fp.to_le_bytes()).and_then(|_| w.write_all(&parent.to_le_bytes())).map_err(io)
        })?;
        // One sharing session for every state: a part shared by states
        // (a store, an object) is written once.
        share::writing(|| -> Result<(), String> {
            for part in states.current.iter().chain(&states.next) {
                for (fp, s) in part.iter() {
                    w.write_all(&fp.to_le_bytes()).map_err(io)?;
                    record(&mut w, s, &mut enc)?;
                }
            }
            for (fp, parent, s) in states.unstored {
                w.write_all(&fp.to_le_bytes()).and_then(|_| w.write_all(&parent.to_le_bytes())).map_err(io)?;
                record(&mut w, s, &mut enc)?;
            }
            Ok(())
        })?;
        let sum = w.hash.digest();
        let mut file = w.inner.into_inner().map_err(|e| e.to_string())?;
        file.write_all(&sum.to_le_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&partial, &to.path).map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.map_err(fail)
}

/// What a resumed run starts from, read back from a checkpoint.
pub(crate) struct Resumed<S> {
    /// States at `header.depth` to expand.
    pub current: Vec<(Fingerprint, S)>,
    /// States at `header.depth + 1`, in the visited set and checked.
    pub next: Vec<(Fingerprint, S)>,
    /// States at `header.depth + 1` not yet in the visited set.
    pub unstored: Vec<(Fingerprint, Fingerprint, S)>,
}

impl Checkpoint {
    /// Reads the visited entries into `table` (which must have room) and
    /// `log`, and decodes the saved states, checking each one's fingerprint.
    pub(crate) fn load_into<M: Model>(
        &self,
        model: &M,
        symmetry: bool,
        table: &VisitedSet,
        log: &ParentLog,
    ) -> Result<Resumed<M::State>, String> {
        let fail = |e: String| format!("{}: {e}", self.path.display());
        let file = File::open(&self.path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let header = read_header(&mut r).map_err(fail)?;
        if header != self.header {
            return Err(fail("changed since it was opened".into()));
        }
        let mut links = LogBuffer::new();
        for _ in 0..header.visited {
            let fp = read_u64(&mut r).map_err(fail)?;
            let parent = read_u64(&mut r).map_err(fail)?;
            if fp == 0 || table.insert(fp) != Insert::New {
                return Err(fail("corrupt checkpoint (visited section)".into()));
            }
            if links.push(fp, parent) {
                log.append(&mut links)?;
            }
        }
        log.append(&mut links)?;
        let mut buf = Vec::new();
        let mut state = |r: &mut BufReader<File>, fp: Fingerprint| -> Result<M::State, String> {
            let len = read_u32(r)? as usize;
            buf.resize(len, 0);
            r.read_exact(&mut buf).map_err(|_| "truncated checkpoint".to_string())?;
            let mut s = model.decode_state(&buf).ok_or("a saved state does not decode (the model changed)")?;
            if symmetry {
                model.canonicalize(&mut s);
            }
            if nonzero(model.fingerprint(&s)) != fp {
                return Err("a saved state has another fingerprint now (the model changed)".into());
            }
            Ok(s)
        };
        // The sharing session the states were written in.
        share::reading(|| {
            let mut current = Vec::with_capacity(header.current.min(1 << 20) as usize);
            for _ in 0..header.current {
                let fp = read_u64(&mut r).map_err(fail)?;
                current.push((fp, state(&mut r, fp).map_err(fail)?));
            }
            let mut next = Vec::with_capacity(header.next.min(1 << 20) as usize);
            for _ in 0..header.next {
                let fp = read_u64(&mut r).map_err(fail)?;
                next.push((fp, state(&mut r, fp).map_err(fail)?));
            }
            let mut unstored = Vec::new();
            for _ in 0..header.unstored {
                let fp = read_u64(&mut r).map_err(fail)?;
                let parent = read_u64(&mut r).map_err(fail)?;
                unstored.push((fp, parent, state(&mut r, fp).map_err(fail)?));
            }
            Ok(Resumed { current, next, unstored })
        })
    }
}
