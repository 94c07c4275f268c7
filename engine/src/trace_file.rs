//! Saved traces: a counterexample stored as the choices that reproduce it,
//! so that it can be replayed later (`krepis replay FILE`), on any machine,
//! against the model that produced it.
//!
//! Format: the 8 bytes `KREPIS\0T`, a little-endian `u16` version, then a
//! [`TraceFile`] in postcard (a stable, documented format), then (since
//! version 2) the little-endian xxh3 of those postcard bytes, so that a file
//! damaged in storage or in transit is reported as such rather than as a
//! model that has changed. Version 1 files (no checksum) are still read.
//! A step is stored
//! as the index of the chosen successor in the model's successor order, with
//! the xxh3 fingerprint of the state it reaches, so a replay detects a model
//! that has changed since the file was written and names the first step
//! that differs.

use serde::{Deserialize, Serialize};

use crate::trace::Trace;
use crate::Model;

/// The first bytes of a trace file.
pub const MAGIC: [u8; 8] = *b"KREPIS\0T";
/// The format version this build writes (it reads this one and 1).
pub const VERSION: u16 = 2;

/// One saved trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTrace {
    /// The property the trace decides.
    pub property: String,
    /// Index of the first state among the model's initial states.
    pub init: u32,
    /// For each step, the index of the successor taken.
    pub choices: Vec<u32>,
    /// The fingerprint of every state of the trace (`choices.len() + 1`).
    pub fingerprints: Vec<u64>,
    /// For a lasso, the index of the state the last one returns to.
    pub loop_start: Option<u32>,
}

/// A trace file: the model, the command-line arguments that built it, and
/// its traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceFile {
    /// The model's name ([`Model::name`]).
    pub model: String,
    /// The arguments of the command that wrote the file (to rebuild the model).
    pub args: Vec<String>,
    /// The traces.
    pub traces: Vec<SavedTrace>,
}

impl TraceFile {
    /// The file's bytes: header, postcard, checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        // Serialising owned strings and vectors into a Vec cannot fail.
        let body = postcard::to_stdvec(self).unwrap_or_default();
        out.extend_from_slice(&body);
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
        out
    }

    /// Parses a file's bytes; the error says what is wrong (not a trace
    /// file, another version, truncated or corrupt).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < 10 || bytes[..8] != MAGIC {
            return Err("not a krepis trace file".into());
        }
        let body = match u16::from_le_bytes([bytes[8], bytes[9]]) {
            1 => &bytes[10..],
            VERSION => {
                // The header (10 bytes), the body, the checksum (8 bytes).
                let Some(body_len) = bytes.len().checked_sub(18) else {
                    return Err("truncated trace file".into());
                };
                let (body, sum) = bytes[10..].split_at(body_len);
                if sum != xxhash_rust::xxh3::xxh3_64(body).to_le_bytes() {
                    return Err("corrupt trace file (checksum mismatch: truncated or damaged)".into());
                }
                body
            }
            v => return Err(format!("trace file version {v}, this krepis reads versions 1 and {VERSION}")),
        };
        postcard::from_bytes(body).map_err(|e| format!("corrupt trace file: {e}"))
    }

    /// Writes the file.
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_bytes())
    }

    /// Reads a file; errors name the path.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl<M: Model> Trace<M> {
    /// The trace as choices of `model`, for property `property`. `None` if
    /// the trace is not an execution of `model` (it always is for traces
    /// the checker returns).
    pub fn save(&self, model: &M, property: &str) -> Option<SavedTrace> {
        let mut init = Vec::new();
        model.init_states(&mut init);
        let (_, first) = self.steps.first()?;
        let start = init.iter().position(|s| s == first)?;
        let mut choices = Vec::with_capacity(self.len());
        let mut succ = Vec::new();
        for w in self.steps.windows(2) {
            let ((_, from), (action, to)) = (&w[0], &w[1]);
            succ.clear();
            model.successors(from, &mut succ);
            let text = action.as_ref().map(|a| model.format_step(from, a));
            let i = succ
                .iter()
                .position(|(a, s)| s == to && Some(model.format_step(from, a)) == text)
                .or_else(|| succ.iter().position(|(_, s)| s == to))?;
            choices.push(u32::try_from(i).ok()?);
        }
        Some(SavedTrace {
            property: property.to_string(),
            init: u32::try_from(start).ok()?,
            choices,
            fingerprints: self.steps.iter().map(|(_, s)| model.fingerprint(s)).collect(),
            loop_start: self.loop_start.and_then(|l| u32::try_from(l).ok()),
        })
    }

    /// Rebuilds a saved trace by following its choices through `model`. The
    /// error names the first step where the model no longer does what the
    /// file recorded.
    pub fn from_saved(model: &M, saved: &SavedTrace) -> Result<Self, String> {
        let fp_at = |i: usize| saved.fingerprints.get(i).copied();
        if saved.fingerprints.len() != saved.choices.len() + 1 {
            return Err("corrupt trace: one fingerprint per state expected".into());
        }
        let mut init = Vec::new();
        model.init_states(&mut init);
        let first = init
            .into_iter()
            .nth(saved.init as usize)
            .ok_or_else(|| format!("the model has no initial state number {}", saved.init))?;
        if Some(model.fingerprint(&first)) != fp_at(0) {
            return Err("the initial state differs from the one recorded: the model has changed".into());
        }
        let mut steps = vec![(None, first)];
        let mut succ = Vec::new();
        for (k, &c) in saved.choices.iter().enumerate() {
            succ.clear();
            let (_, from) = &steps[steps.len() - 1];
            model.successors(from, &mut succ);
            let n = succ.len();
            if c as usize >= n {
                return Err(format!("step {}: the state has {n} successors, the trace takes number {c}", k + 1));
            }
            let (a, s) = succ.swap_remove(c as usize);
            if Some(model.fingerprint(&s)) != fp_at(k + 1) {
                return Err(format!(
                    "step {}: '{}' reaches another state than the one recorded: the model has changed",
                    k + 1,
                    model.format_step(from, &a)
                ));
            }
            steps.push((Some(a), s));
        }
        Ok(Trace { steps, loop_start: saved.loop_start.map(|l| l as usize) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::SlidingPuzzle;
    use crate::{check, Options};

    /// The first property with a trace, and the trace.
    fn first_trace<M: Model>(model: &M) -> (String, Trace<M>) {
        let r = check(model, &Options::default().threads(2));
        r.report
            .properties
            .iter()
            .zip(&r.traces)
            .find_map(|(p, t)| t.as_ref().map(|t| (p.name.clone(), t.clone())))
            .expect("a trace")
    }

    #[test]
    fn a_saved_trace_replays_to_the_same_states_and_survives_the_file_format() {
        let model = crate::models::Philosophers::new(3);
        let (name, trace) = first_trace(&model);
        let saved = trace.save(&model, &name).expect("an execution of the model");
        let file = TraceFile { model: model.name(), args: vec!["check".into()], traces: vec![saved] };
        let back = TraceFile::from_bytes(&file.to_bytes()).expect("round trip");
        assert_eq!(back, file);
        let replayed = Trace::from_saved(&model, &back.traces[0]).expect("replays");
        assert_eq!(
            replayed.steps.iter().map(|(_, s)| s).collect::<Vec<_>>(),
            trace.steps.iter().map(|(_, s)| s).collect::<Vec<_>>()
        );
        assert_eq!(replayed.loop_start, trace.loop_start);
    }

    #[test]
    fn a_changed_model_or_a_bad_file_is_reported_not_replayed() {
        let model = SlidingPuzzle::puzzle8();
        let (name, trace) = first_trace(&model);
        let mut saved = trace.save(&model, &name).unwrap();
        saved.fingerprints[3] ^= 1;
        let e = Trace::from_saved(&model, &saved).expect_err("a mismatch");
        assert!(e.starts_with("step 3:"), "{e}");
        saved.choices[0] = 99;
        assert!(Trace::from_saved(&model, &saved).unwrap_err().contains("successors"));
        assert_eq!(TraceFile::from_bytes(b"hello world").unwrap_err(), "not a krepis trace file");
        let mut bytes = TraceFile { model: "m".into(), args: vec![], traces: vec![] }.to_bytes();
        bytes[8] = 9;
        assert!(TraceFile::from_bytes(&bytes).unwrap_err().contains("version"));
        let ok = TraceFile { model: "m".into(), args: vec![], traces: vec![] }.to_bytes();
        assert!(TraceFile::from_bytes(&ok[..ok.len() - 1]).unwrap_err().starts_with("corrupt"));
        assert_eq!(TraceFile::from_bytes(&ok[..12]).unwrap_err(), "truncated trace file");
    }

    /// A byte changed anywhere after the header is caught by the checksum,
    /// including in a fingerprint, which would otherwise read as a model
    /// that changed; a version 1 file (no checksum) still reads.
    #[test]
    fn a_damaged_file_is_caught_by_its_checksum_and_version_1_still_reads() {
        let model = SlidingPuzzle::puzzle8();
        let (name, trace) = first_trace(&model);
        let file = TraceFile {
            model: model.name(),
            args: vec!["check".into()],
            traces: vec![trace.save(&model, &name).unwrap()],
        };
        let bytes = file.to_bytes();
        for at in 10..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            let e = TraceFile::from_bytes(&damaged).expect_err("damage is caught");
            assert!(e.contains("checksum mismatch"), "byte {at}: {e}");
        }
        let mut v1 = bytes[..bytes.len() - 8].to_vec();
        v1[8..10].copy_from_slice(&1u16.to_le_bytes());
        assert_eq!(TraceFile::from_bytes(&v1), Ok(file));
    }
}
