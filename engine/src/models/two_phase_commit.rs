//! Two-phase commit with N resource managers, after Lamport's TwoPhase
//! specification: a transaction manager (TM) collects `Prepared` messages and
//! broadcasts `Commit` or `Abort`; messages are never lost and stay in the
//! message set once sent.
//!
//! Known counts (as TLC gives for TwoPhase): 288 states for N = 3, 8,832 for N = 5.
//! Resource managers are interchangeable: [`Model::canonicalize`] sorts them,
//! which is sound because every property is symmetric in them.

use krepis_encodings::layout::{Field, Layout, LayoutBuilder};

use crate::{Model, Property};

/// Largest number of resource managers supported.
pub const MAX_RMS: usize = 31;

/// A resource manager's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum RmState {
    /// Working on the transaction.
    Working,
    /// Prepared to commit.
    Prepared,
    /// Committed.
    Committed,
    /// Aborted.
    Aborted,
}

/// The transaction manager's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TmState {
    /// Collecting `Prepared` messages.
    Init,
    /// Decided to commit.
    Committed,
    /// Decided to abort.
    Aborted,
}

/// A global state: a bit-packed record of the model's [`Layout`] (2 bits
/// per RM state, the TM's state, the TM's and the message set's bit per RM,
/// two flags: 4n + 4 bits). Read and written through the model
/// ([`TwoPhaseCommit::rm`] and the like), which holds the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TpcState {
    words: [u64; WORDS],
}

/// Words of a state: enough for [`MAX_RMS`] resource managers.
const WORDS: usize = 2;

/// Where each part of a state is in its record.
#[derive(Clone, Debug)]
struct Fields {
    layout: Layout,
    rm: Vec<Field>,
    tm: Field,
    tm_prepared: Vec<Field>,
    msg_prepared: Vec<Field>,
    msg_commit: Field,
    msg_abort: Field,
}

impl Fields {
    fn new(n: usize) -> Self {
        let mut b = LayoutBuilder::new();
        let rm = b.fields("rm", n, RmState::Aborted as u64);
        let tm = b.field("tm", TmState::Aborted as u64);
        let tm_prepared = b.fields("tm_prepared", n, 1);
        let msg_prepared = b.fields("msg_prepared", n, 1);
        let msg_commit = b.field("msg_commit", 1);
        let msg_abort = b.field("msg_abort", 1);
        Fields { layout: b.build(), rm, tm, tm_prepared, msg_prepared, msg_commit, msg_abort }
    }
}

/// An action of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TpcAction {
    /// The TM receives `Prepared` from RM i.
    TmRcvPrepared(usize),
    /// The TM decides to commit (all prepared).
    TmCommit,
    /// The TM decides to abort.
    TmAbort,
    /// RM i prepares and sends `Prepared`.
    RmPrepare(usize),
    /// RM i aborts on its own.
    RmChooseToAbort(usize),
    /// RM i receives `Commit`.
    RmRcvCommit(usize),
    /// RM i receives `Abort`.
    RmRcvAbort(usize),
}

/// Two-phase commit with `n` resource managers (1..=31).
#[derive(Clone, Debug)]
pub struct TwoPhaseCommit {
    n: usize,
    f: Fields,
}

const RMS: [RmState; 4] = [RmState::Working, RmState::Prepared, RmState::Committed, RmState::Aborted];
const TMS: [TmState; 3] = [TmState::Init, TmState::Committed, TmState::Aborted];

impl TwoPhaseCommit {
    /// The protocol with `n` resource managers; `n` is clamped to 1..=31.
    pub fn new(n: usize) -> Self {
        let n = n.clamp(1, MAX_RMS);
        let f = Fields::new(n);
        debug_assert!(f.layout.fits::<WORDS>().is_ok(), "{}", f.layout);
        TwoPhaseCommit { n, f }
    }

    /// Number of resource managers.
    pub fn rms(&self) -> usize {
        self.n
    }

    /// Where each part of a state is: 4n + 4 bits.
    pub fn layout(&self) -> &Layout {
        &self.f.layout
    }

    /// RM `i`'s state in `s`.
    pub fn rm(&self, s: &TpcState, i: usize) -> RmState {
        RMS[(self.f.rm[i].get(&s.words) & 3) as usize]
    }

    /// The TM's state in `s`.
    pub fn tm(&self, s: &TpcState) -> TmState {
        TMS[(self.f.tm.get(&s.words) % 3) as usize]
    }

    /// Whether the TM has seen RM `i` prepared.
    pub fn tm_prepared(&self, s: &TpcState, i: usize) -> bool {
        self.f.tm_prepared[i].get(&s.words) == 1
    }

    /// Whether RM `i` sent `Prepared`.
    pub fn msg_prepared(&self, s: &TpcState, i: usize) -> bool {
        self.f.msg_prepared[i].get(&s.words) == 1
    }

    /// Whether `Commit` was sent.
    pub fn msg_commit(&self, s: &TpcState) -> bool {
        self.f.msg_commit.get(&s.words) == 1
    }

    /// Whether `Abort` was sent.
    pub fn msg_abort(&self, s: &TpcState) -> bool {
        self.f.msg_abort.get(&s.words) == 1
    }

    /// `s` with `field` set to `v`.
    fn with(s: &TpcState, field: Field, v: u64) -> TpcState {
        let mut t = *s;
        field.put(&mut t.words, v);
        t
    }

    /// Every RM's state.
    fn rms_of<'a>(&'a self, s: &'a TpcState) -> impl Iterator<Item = RmState> + 'a {
        (0..self.n).map(move |i| self.rm(s, i))
    }
}

impl Model for TwoPhaseCommit {
    type State = TpcState;
    type Action = TpcAction;

    /// Every field 0: RMs working, TM in `Init`, nothing sent.
    fn init_states(&self, out: &mut Vec<TpcState>) {
        out.push(TpcState { words: [0; WORDS] });
    }

    fn successors(&self, s: &TpcState, out: &mut Vec<(TpcAction, TpcState)>) {
        let f = &self.f;
        if self.tm(s) == TmState::Init {
            for i in 0..self.n {
                if self.msg_prepared(s, i) {
                    out.push((TpcAction::TmRcvPrepared(i), Self::with(s, f.tm_prepared[i], 1)));
                }
            }
            if (0..self.n).all(|i| self.tm_prepared(s, i)) {
                let t = Self::with(s, f.tm, TmState::Committed as u64);
                out.push((TpcAction::TmCommit, Self::with(&t, f.msg_commit, 1)));
            }
            let t = Self::with(s, f.tm, TmState::Aborted as u64);
            out.push((TpcAction::TmAbort, Self::with(&t, f.msg_abort, 1)));
        }
        for i in 0..self.n {
            let to = |st: RmState| Self::with(s, f.rm[i], st as u64);
            if self.rm(s, i) == RmState::Working {
                let t = to(RmState::Prepared);
                out.push((TpcAction::RmPrepare(i), Self::with(&t, f.msg_prepared[i], 1)));
                out.push((TpcAction::RmChooseToAbort(i), to(RmState::Aborted)));
            }
            if self.msg_commit(s) {
                out.push((TpcAction::RmRcvCommit(i), to(RmState::Committed)));
            }
            if self.msg_abort(s) {
                out.push((TpcAction::RmRcvAbort(i), to(RmState::Aborted)));
            }
        }
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("consistent", |m: &Self, s: &TpcState| {
                !(m.rms_of(s).any(|r| r == RmState::Committed) && m.rms_of(s).any(|r| r == RmState::Aborted))
            }),
            Property::sometimes("all-committed", |m: &Self, s: &TpcState| m.rms_of(s).all(|r| r == RmState::Committed)),
        ]
    }

    /// Sorts the resource managers by (state, prepared message, seen by TM).
    fn canonicalize(&self, s: &mut TpcState) {
        // Each RM as one small key ordered as that triple.
        let f = &self.f;
        let mut keys = [0u8; MAX_RMS];
        for (i, k) in keys.iter_mut().enumerate().take(self.n) {
            let (st, sent, seen) =
                (f.rm[i].get(&s.words), f.msg_prepared[i].get(&s.words), f.tm_prepared[i].get(&s.words));
            *k = (st << 2 | sent << 1 | seen) as u8;
        }
        let keys = &mut keys[..self.n];
        if keys.is_sorted() {
            return;
        }
        keys.sort_unstable();
        for (i, &k) in keys.iter().enumerate() {
            f.rm[i].put(&mut s.words, u64::from(k >> 2));
            f.msg_prepared[i].put(&mut s.words, u64::from(k >> 1 & 1));
            f.tm_prepared[i].put(&mut s.words, u64::from(k & 1));
        }
    }

    /// xxh3 of the record's words.
    fn fingerprint(&self, s: &TpcState) -> crate::Fingerprint {
        let mut bytes = [0u8; WORDS * 8];
        for (b, w) in bytes.chunks_exact_mut(8).zip(&s.words) {
            b.copy_from_slice(&w.to_le_bytes());
        }
        crate::fingerprint::fingerprint_bytes(&bytes)
    }

    fn format_state(&self, s: &TpcState) -> String {
        let bits = |b: &dyn Fn(usize) -> bool| (0..self.n).map(|i| if b(i) { '1' } else { '0' }).collect::<String>();
        format!(
            "tm={:?} rms={:?} tm_prepared={} sent: prepared={} commit={} abort={}",
            self.tm(s),
            self.rms_of(s).collect::<Vec<_>>(),
            bits(&|i| self.tm_prepared(s, i)),
            bits(&|i| self.msg_prepared(s, i)),
            self.msg_commit(s),
            self.msg_abort(s),
        )
    }

    fn encode_state(&self, state: &Self::State, out: &mut Vec<u8>) -> bool {
        crate::checkpoint::postcard_encode(state, out)
    }

    fn decode_state(&self, bytes: &[u8]) -> Option<Self::State> {
        crate::checkpoint::postcard_decode(bytes)
    }

    fn name(&self) -> String {
        format!("two_phase_commit({})", self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_4n_plus_4_bits_and_reads_back_what_was_written() {
        for n in 1..=MAX_RMS {
            let m = TwoPhaseCommit::new(n);
            assert_eq!(m.layout().bits() as usize, 4 * n + 4, "{}", m.layout());
            assert!(m.layout().fits::<WORDS>().is_ok());
            // Pseudo-random states, written field by field, read back.
            let mut x = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for _ in 0..200 {
                let mut next = |k: u64| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % k
                };
                let rms: Vec<u64> = (0..n).map(|_| next(4)).collect();
                let bits: Vec<(u64, u64)> = (0..n).map(|_| (next(2), next(2))).collect();
                let (tm, commit, abort) = (next(3), next(2), next(2));
                let mut s = TpcState { words: [0; WORDS] };
                for i in 0..n {
                    m.f.rm[i].put(&mut s.words, rms[i]);
                    m.f.tm_prepared[i].put(&mut s.words, bits[i].0);
                    m.f.msg_prepared[i].put(&mut s.words, bits[i].1);
                }
                m.f.tm.put(&mut s.words, tm);
                m.f.msg_commit.put(&mut s.words, commit);
                m.f.msg_abort.put(&mut s.words, abort);
                for i in 0..n {
                    assert_eq!(m.rm(&s, i), RMS[rms[i] as usize]);
                    assert_eq!((m.tm_prepared(&s, i), m.msg_prepared(&s, i)), (bits[i].0 == 1, bits[i].1 == 1));
                }
                assert_eq!((m.tm(&s), m.msg_commit(&s), m.msg_abort(&s)), (TMS[tm as usize], commit == 1, abort == 1));
            }
        }
    }
}
