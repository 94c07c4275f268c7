//! Two-phase commit with N resource managers, after Lamport's TwoPhase
//! specification: a transaction manager (TM) collects `Prepared` messages and
//! broadcasts `Commit` or `Abort`; messages are never lost and stay in the
//! message set once sent.
//!
//! Known counts (as TLC gives for TwoPhase): 288 states for N = 3, 8,832 for N = 5.
//! Resource managers are interchangeable: [`Model::canonicalize`] sorts them,
//! which is sound because every property is symmetric in them.

use crate::{Model, Property};

/// Largest number of resource managers supported.
pub const MAX_RMS: usize = 12;

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

/// A global state. Only the first `n` entries of `rm` are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TpcState {
    /// Each resource manager's state.
    pub rm: [RmState; MAX_RMS],
    /// The TM's state.
    pub tm: TmState,
    /// Resource managers the TM has seen prepared (bit i).
    pub tm_prepared: u16,
    /// `Prepared` messages sent (bit i).
    pub msg_prepared: u16,
    /// Whether `Commit` was sent.
    pub msg_commit: bool,
    /// Whether `Abort` was sent.
    pub msg_abort: bool,
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

/// Two-phase commit with `n` resource managers (1..=12).
#[derive(Clone, Debug)]
pub struct TwoPhaseCommit {
    n: usize,
}

impl TwoPhaseCommit {
    /// The protocol with `n` resource managers; `n` is clamped to 1..=12.
    pub fn new(n: usize) -> Self {
        TwoPhaseCommit { n: n.clamp(1, MAX_RMS) }
    }

    /// Number of resource managers.
    pub fn rms(&self) -> usize {
        self.n
    }
}

impl Model for TwoPhaseCommit {
    type State = TpcState;
    type Action = TpcAction;

    fn init_states(&self, out: &mut Vec<TpcState>) {
        out.push(TpcState {
            rm: [RmState::Working; MAX_RMS],
            tm: TmState::Init,
            tm_prepared: 0,
            msg_prepared: 0,
            msg_commit: false,
            msg_abort: false,
        });
    }

    fn successors(&self, s: &TpcState, out: &mut Vec<(TpcAction, TpcState)>) {
        let all = (1u16 << self.n) - 1;
        if s.tm == TmState::Init {
            for i in 0..self.n {
                if s.msg_prepared >> i & 1 == 1 {
                    out.push((TpcAction::TmRcvPrepared(i), TpcState { tm_prepared: s.tm_prepared | 1 << i, ..*s }));
                }
            }
            if s.tm_prepared == all {
                out.push((TpcAction::TmCommit, TpcState { tm: TmState::Committed, msg_commit: true, ..*s }));
            }
            out.push((TpcAction::TmAbort, TpcState { tm: TmState::Aborted, msg_abort: true, ..*s }));
        }
        for i in 0..self.n {
            let with = |st: RmState| {
                let mut t = *s;
                t.rm[i] = st;
                t
            };
            if s.rm[i] == RmState::Working {
                let mut t = with(RmState::Prepared);
                t.msg_prepared |= 1 << i;
                out.push((TpcAction::RmPrepare(i), t));
                out.push((TpcAction::RmChooseToAbort(i), with(RmState::Aborted)));
            }
            if s.msg_commit {
                out.push((TpcAction::RmRcvCommit(i), with(RmState::Committed)));
            }
            if s.msg_abort {
                out.push((TpcAction::RmRcvAbort(i), with(RmState::Aborted)));
            }
        }
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("consistent", |m: &Self, s: &TpcState| {
                let rms = &s.rm[..m.n];
                !(rms.contains(&RmState::Committed) && rms.contains(&RmState::Aborted))
            }),
            Property::sometimes("all-committed", |m: &Self, s: &TpcState| {
                s.rm[..m.n].iter().all(|r| *r == RmState::Committed)
            }),
        ]
    }

    /// Sorts the resource managers by (state, prepared message, seen by TM).
    fn canonicalize(&self, s: &mut TpcState) {
        let mut rms: [(RmState, bool, bool); MAX_RMS] = [(RmState::Working, false, false); MAX_RMS];
        for (i, r) in rms.iter_mut().enumerate().take(self.n) {
            *r = (s.rm[i], s.msg_prepared >> i & 1 == 1, s.tm_prepared >> i & 1 == 1);
        }
        rms[..self.n].sort_unstable();
        s.msg_prepared = 0;
        s.tm_prepared = 0;
        for (i, (st, sent, seen)) in rms[..self.n].iter().enumerate() {
            s.rm[i] = *st;
            s.msg_prepared |= u16::from(*sent) << i;
            s.tm_prepared |= u16::from(*seen) << i;
        }
    }

    /// xxh3 of the state packed into at most 52 bits: 2 bits per RM state, the TM's
    /// state, both bit sets and both flags.
    fn fingerprint(&self, s: &TpcState) -> crate::Fingerprint {
        let mut w = 0u64;
        for r in &s.rm[..self.n] {
            w = w << 2 | *r as u64;
        }
        w = w << 2 | s.tm as u64;
        w = w << 12 | u64::from(s.tm_prepared);
        w = w << 12 | u64::from(s.msg_prepared);
        w = w << 1 | u64::from(s.msg_commit);
        w = w << 1 | u64::from(s.msg_abort);
        crate::fingerprint::fingerprint_bytes(&w.to_le_bytes())
    }

    fn format_state(&self, s: &TpcState) -> String {
        format!(
            "tm={:?} rms={:?} tm_prepared={:0w$b} sent: prepared={:0w$b} commit={} abort={}",
            s.tm,
            &s.rm[..self.n],
            s.tm_prepared,
            s.msg_prepared,
            s.msg_commit,
            s.msg_abort,
            w = self.n
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
