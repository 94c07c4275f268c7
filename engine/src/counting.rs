//! Small models for the searches' unit tests.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::progress::Counters;
use crate::{Model, Property};

/// Counts from 0 to 20 by steps of 1 or 2; eventually 20. Depth-first
/// (steps of 1 first) meets most numbers first deeper than their
/// shortest depth (x/2 rounded up), and expands them again from there.
pub(crate) struct Counting;

impl Model for Counting {
    type State = u8;
    type Action = u8;
    fn init_states(&self, out: &mut Vec<u8>) {
        out.push(0);
    }
    fn successors(&self, x: &u8, out: &mut Vec<(u8, u8)>) {
        out.extend([1, 2].into_iter().filter(|d| x + d <= 20).map(|d| (d, x + d)));
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::eventually("twenty", |_, x| *x == 20)]
    }
}

/// [`Counting`], asking the search to drop its records when it
/// generates the successors of its `after`-th state (as the monitor
/// does past `Options::records_memory`).
pub(crate) struct DropsAfter<'a> {
    pub counters: &'a Counters,
    pub after: usize,
    pub calls: AtomicUsize,
}

impl Model for DropsAfter<'_> {
    type State = u8;
    type Action = u8;
    fn init_states(&self, out: &mut Vec<u8>) {
        Counting.init_states(out);
    }
    fn successors(&self, x: &u8, out: &mut Vec<(u8, u8)>) {
        if self.calls.fetch_add(1, Ordering::Relaxed) == self.after {
            self.counters.drop_records(1);
        }
        Counting.successors(x, out);
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::eventually("twenty", |_, x| *x == 20)]
    }
}

/// [`Counting`] with one `always` property, broken first at 9 (depth 5,
/// as 10).
pub(crate) struct UnderNine;

impl Model for UnderNine {
    type State = u8;
    type Action = u8;
    fn init_states(&self, out: &mut Vec<u8>) {
        Counting.init_states(out);
    }
    fn successors(&self, x: &u8, out: &mut Vec<(u8, u8)>) {
        Counting.successors(x, out);
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::always("under-nine", |_, x| *x < 9)]
    }
}
