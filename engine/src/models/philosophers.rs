//! Dining philosophers with resource ordering: each philosopher picks up the
//! lower-numbered of its two forks first, so the system never deadlocks, but a
//! philosopher can starve while the others eat in a cycle forever. The
//! `eventually` property `philosopher-0-eats` therefore fails with a lasso.

use crate::{Model, Property};

/// Largest number of philosophers supported.
pub const MAX_PHILOSOPHERS: usize = 16;

/// What a philosopher is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    /// Thinking (holds no fork).
    Thinking,
    /// Hungry, holds no fork yet.
    Hungry,
    /// Holds its first (lower-numbered) fork.
    HasFirst,
    /// Holds both forks and eats.
    Eating,
}

/// `n` philosophers around a table with `n` forks; philosopher i uses forks
/// i and i+1 (mod n), so fork f lies between philosophers f-1 and f.
#[derive(Clone, Debug)]
pub struct Philosophers {
    n: usize,
    fair: bool,
    choices: bool,
}

impl Philosophers {
    /// `n` philosophers, clamped to 2..=16.
    pub fn new(n: usize) -> Self {
        Philosophers { n: n.clamp(2, MAX_PHILOSOPHERS), fair: false, choices: false }
    }

    /// The same table with every philosopher weakly fair (each one's actions
    /// form a fairness group): a philosopher that can move for ever does.
    pub fn with_fairness(mut self) -> Self {
        self.fair = true;
        self
    }

    /// The same table offering [`Model::choices`], so that simulation
    /// computes only the successor a walk takes (the same walks: tests
    /// compare the two).
    pub fn with_choices(mut self) -> Self {
        self.choices = true;
        self
    }

    /// Philosopher `p`'s next phase, if it can move.
    fn next_phase(&self, s: &[Phase; MAX_PHILOSOPHERS], p: usize) -> Option<Phase> {
        let (first, second) = self.forks(p);
        match s[p] {
            Phase::Thinking => Some(Phase::Hungry),
            Phase::Hungry if self.free(s, first) => Some(Phase::HasFirst),
            Phase::HasFirst if self.free(s, second) => Some(Phase::Eating),
            Phase::Eating => Some(Phase::Thinking),
            _ => None,
        }
    }

    fn forks(&self, p: usize) -> (usize, usize) {
        let (a, b) = (p, (p + 1) % self.n);
        (a.min(b), a.max(b))
    }

    fn holds(&self, s: &[Phase; MAX_PHILOSOPHERS], p: usize, fork: usize) -> bool {
        let (first, second) = self.forks(p);
        match s[p] {
            Phase::HasFirst => first == fork,
            Phase::Eating => first == fork || second == fork,
            _ => false,
        }
    }

    fn free(&self, s: &[Phase; MAX_PHILOSOPHERS], fork: usize) -> bool {
        // Only the two philosophers beside a fork can hold it.
        let right = fork;
        let left = (fork + self.n - 1) % self.n;
        !self.holds(s, left, fork) && !self.holds(s, right, fork)
    }
}

impl Model for Philosophers {
    type State = [Phase; MAX_PHILOSOPHERS];
    type Action = (usize, Phase);

    fn init_states(&self, out: &mut Vec<Self::State>) {
        out.push([Phase::Thinking; MAX_PHILOSOPHERS]);
    }

    fn successors(&self, s: &Self::State, out: &mut Vec<(Self::Action, Self::State)>) {
        for p in 0..self.n {
            if let Some(ph) = self.next_phase(s, p) {
                let mut t = *s;
                t[p] = ph;
                out.push(((p, ph), t));
            }
        }
    }

    /// A choice per philosopher that can move (its number), when built
    /// [`Philosophers::with_choices`].
    fn choices(&self, s: &Self::State, out: &mut Vec<crate::Choice>) -> bool {
        if !self.choices {
            return false;
        }
        for p in 0..self.n {
            if let Some(ph) = self.next_phase(s, p) {
                out.push(crate::Choice { id: p as u64, fairness: self.fairness(&(p, ph)) });
            }
        }
        true
    }

    fn take(&self, s: &Self::State, c: crate::Choice) -> Option<(Self::Action, Self::State)> {
        let p = usize::try_from(c.id).ok().filter(|p| *p < self.n)?;
        let ph = self.next_phase(s, p)?;
        let mut t = *s;
        t[p] = ph;
        Some(((p, ph), t))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("neighbours-never-eat-together", |m: &Self, s: &Self::State| {
                (0..m.n).all(|p| !(s[p] == Phase::Eating && s[(p + 1) % m.n] == Phase::Eating))
            }),
            Property::sometimes("all-hungry", |m: &Self, s: &Self::State| s[..m.n].iter().all(|p| *p == Phase::Hungry)),
            Property::eventually("someone-gets-hungry", |m: &Self, s: &Self::State| {
                s[..m.n].iter().any(|p| *p != Phase::Thinking)
            }),
            Property::eventually("philosopher-0-eats", |_: &Self, s: &Self::State| s[0] == Phase::Eating),
        ]
    }

    fn fairness(&self, (p, _): &Self::Action) -> Option<u8> {
        self.fair.then_some(*p as u8)
    }

    fn format_action(&self, (p, ph): &Self::Action) -> String {
        let what = match ph {
            Phase::Thinking => "puts both forks down and thinks",
            Phase::Hungry => "gets hungry",
            Phase::HasFirst => "picks up its first fork",
            Phase::Eating => "picks up its second fork and eats",
        };
        format!("philosopher {p} {what}")
    }

    fn format_state(&self, s: &Self::State) -> String {
        format!("{:?}", &s[..self.n])
    }

    fn encode_state(&self, state: &Self::State, out: &mut Vec<u8>) -> bool {
        crate::checkpoint::postcard_encode(state, out)
    }

    fn decode_state(&self, bytes: &[u8]) -> Option<Self::State> {
        crate::checkpoint::postcard_decode(bytes)
    }

    fn name(&self) -> String {
        format!("philosophers({})", self.n)
    }
}
