//! The sliding-tile puzzle (3x3 = the 8-puzzle, 4x4 = the 15-puzzle), explored
//! from the solved position.
//!
//! Known facts (checked in the tests): the 3x3 puzzle has 181,440 reachable
//! positions (half of 9!) and the farthest are 31 moves from the solved one.

use crate::fingerprint::{fingerprint_bytes, Fingerprint};
use crate::{Model, Property};

/// A position: tile numbers, 4 bits per cell in row-major order (0 = blank),
/// and the blank's cell index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PuzzleState {
    /// Cell `i` holds tile `(cells >> 4i) & 15`.
    pub cells: u64,
    /// Index of the blank cell.
    pub blank: u8,
}

impl PuzzleState {
    /// The tile in cell `i` (0 = blank).
    pub fn tile(&self, i: usize) -> u8 {
        ((self.cells >> (4 * i)) & 15) as u8
    }

    /// The position whose cells hold `tiles` (0 = blank). `None` unless the
    /// tiles are a permutation of 0..len with len <= 16.
    pub fn from_tiles(tiles: &[u8]) -> Option<Self> {
        let n = tiles.len();
        if n > 16 {
            return None;
        }
        let mut seen = 0u32;
        let mut cells = 0u64;
        let mut blank = 0;
        for (i, &t) in tiles.iter().enumerate() {
            if t as usize >= n || seen >> t & 1 == 1 {
                return None;
            }
            seen |= 1 << t;
            cells |= (t as u64) << (4 * i);
            if t == 0 {
                blank = i as u8;
            }
        }
        Some(PuzzleState { cells, blank })
    }
}

/// Which way the blank moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Move {
    /// Blank moves up (the tile above slides down).
    Up,
    /// Blank moves down.
    Down,
    /// Blank moves left.
    Left,
    /// Blank moves right.
    Right,
}

/// A `width` x `height` sliding puzzle (at most 16 cells), starting solved:
/// tiles 1..n-1 in order, blank last. Its `sometimes` property `reach-target`
/// looks for `target` when one is set.
#[derive(Clone, Debug)]
pub struct SlidingPuzzle {
    width: usize,
    height: usize,
    target: Option<PuzzleState>,
}

impl SlidingPuzzle {
    /// A puzzle of the given size. Panics if it has more than 16 cells or a
    /// side of 0 (a programming error, not user input).
    pub fn new(width: usize, height: usize) -> Self {
        assert!(width > 0 && height > 0 && width * height <= 16, "a puzzle has 1 to 16 cells");
        SlidingPuzzle { width, height, target: None }
    }

    /// The 8-puzzle with the `reach-target` property set to a position 31
    /// moves from the solved one (one of the two farthest).
    pub fn puzzle8() -> Self {
        let far = PuzzleState::from_tiles(&[8, 6, 7, 2, 5, 4, 3, 0, 1]);
        SlidingPuzzle { target: far, ..SlidingPuzzle::new(3, 3) }
    }

    /// Sets the position looked for by `reach-target`.
    pub fn with_target(mut self, target: PuzzleState) -> Self {
        self.target = Some(target);
        self
    }

    /// The solved position.
    pub fn solved(&self) -> PuzzleState {
        let n = self.width * self.height;
        let tiles: Vec<u8> = (1..n as u8).chain(std::iter::once(0)).collect();
        PuzzleState::from_tiles(&tiles).unwrap_or(PuzzleState { cells: 0, blank: 0 })
    }
}

impl Model for SlidingPuzzle {
    type State = PuzzleState;
    type Action = Move;

    fn init_states(&self, out: &mut Vec<PuzzleState>) {
        out.push(self.solved());
    }

    #[inline]
    fn successors(&self, s: &PuzzleState, out: &mut Vec<(Move, PuzzleState)>) {
        let b = s.blank as usize;
        let (r, c) = (b / self.width, b % self.width);
        let mut slide = |m: Move, to: usize| {
            let tile = (s.cells >> (4 * to)) & 15;
            let cells = (s.cells & !(15 << (4 * to))) | (tile << (4 * b));
            out.push((m, PuzzleState { cells, blank: to as u8 }));
        };
        if r > 0 {
            slide(Move::Up, b - self.width);
        }
        if r + 1 < self.height {
            slide(Move::Down, b + self.width);
        }
        if c > 0 {
            slide(Move::Left, b - 1);
        }
        if c + 1 < self.width {
            slide(Move::Right, b + 1);
        }
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut props = vec![Property::always("tiles-are-a-permutation", |m: &Self, s: &PuzzleState| {
            let n = m.width * m.height;
            let mut seen = 0u32;
            (0..n).for_each(|i| seen |= 1 << s.tile(i));
            seen == (1u32 << n) - 1 && s.tile(s.blank as usize) == 0
        })];
        if self.target.is_some() {
            props.push(Property::sometimes("reach-target", |m: &Self, s: &PuzzleState| Some(*s) == m.target));
        }
        props
    }

    #[inline]
    fn fingerprint(&self, s: &PuzzleState) -> Fingerprint {
        // The blank's index follows from the cells.
        fingerprint_bytes(&s.cells.to_le_bytes())
    }

    fn format_state(&self, s: &PuzzleState) -> String {
        (0..self.height)
            .map(|r| {
                (0..self.width)
                    .map(|c| match s.tile(r * self.width + c) {
                        0 => "_".to_string(),
                        t => t.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join(" / ")
    }

    fn encode_state(&self, state: &Self::State, out: &mut Vec<u8>) -> bool {
        crate::checkpoint::postcard_encode(state, out)
    }

    fn decode_state(&self, bytes: &[u8]) -> Option<Self::State> {
        crate::checkpoint::postcard_decode(bytes)
    }

    fn name(&self) -> String {
        match (self.width, self.height) {
            (3, 3) => "puzzle8".into(),
            (4, 4) => "puzzle15".into(),
            (w, h) => format!("puzzle{w}x{h}"),
        }
    }
}
