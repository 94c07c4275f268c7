//! BFS hands every new state to [`Model::keep`] once, before it waits in the
//! frontier, and calls [`Model::forget_kept`] exactly between levels (the
//! contract models that share parts of waiting states rely on), on any
//! thread count, through small levels (expanded by one thread) and large ones.

use std::sync::Mutex;

use krepis_engine::{check, Model, Options, Property, Status};

/// Points of a cube of side `n`, moving one step up along any axis: level
/// `k` holds the points whose coordinates sum to `k`.
struct Cube {
    n: u16,
    events: Mutex<Vec<Event>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Keep(u32),
    Forget,
}

impl Model for Cube {
    type State = [u16; 3];
    type Action = usize;

    fn init_states(&self, out: &mut Vec<[u16; 3]>) {
        out.push([0, 0, 0]);
    }

    fn successors(&self, s: &[u16; 3], out: &mut Vec<(usize, [u16; 3])>) {
        for axis in 0..3 {
            if s[axis] + 1 < self.n {
                let mut t = *s;
                t[axis] += 1;
                out.push((axis, t));
            }
        }
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::always("inside", |m: &Cube, s: &[u16; 3]| s.iter().all(|&c| c < m.n))]
    }

    fn keep(&self, s: &mut [u16; 3]) {
        let level = s.iter().map(|&c| u32::from(c)).sum();
        self.events.lock().unwrap().push(Event::Keep(level));
    }

    fn forget_kept(&self) {
        self.events.lock().unwrap().push(Event::Forget);
    }
}

#[test]
fn keep_sees_each_new_state_once_and_forget_falls_between_levels() {
    for n in [5u16, 70] {
        for threads in [1, 2, 4] {
            let model = Cube { n, events: Mutex::new(Vec::new()) };
            let r = check(&model, &Options::default().threads(threads)).report;
            let states = u64::from(n).pow(3);
            assert_eq!(r.unique_states, states);
            assert_eq!(r.status("inside"), Some(Status::Holds));
            let events = model.events.into_inner().unwrap();
            let keeps: Vec<u32> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Keep(l) => Some(*l),
                    Event::Forget => None,
                })
                .collect();
            assert_eq!(keeps.len() as u64, states - 1, "every state but the initial one, once");
            // Between two forgets, the states of exactly one level.
            let runs: Vec<&[Event]> = events.split(|e| *e == Event::Forget).collect();
            let levels = 3 * (u32::from(n) - 1);
            // A forget after every level expanded (the last finds nothing),
            // and one as the run ends.
            assert_eq!(runs.len() as u32, levels + 3, "n {n}, {threads} threads: a forget after every level");
            for (k, run) in runs.iter().enumerate() {
                let want = k as u32 + 1;
                assert!(
                    run.iter().all(|e| *e == Event::Keep(want)),
                    "n {n}, {threads} threads: run {k} holds other levels' states"
                );
            }
        }
    }
}
