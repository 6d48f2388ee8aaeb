//! Audits (SYSTEM.md §11): the sample that says which tables or ballot
//! records are checked, and the risk arithmetic that says when the checks
//! suffice. Pure, no I/O. The parts:
//! - this module: Rivest's consistent sampler (below), which draws ids with
//!   or without replacement, every id equally likely;
//! - [`ppeb`]: draws with replacement and probability proportional to an
//!   integer error bound (PPEB, Aslam, Popa & Rivest 2008), the sample of a
//!   MACRO batch-comparison audit; specified in `docs/ppeb.md`;
//! - [`rivest2011`]: Rivest's 2011 `sampler.py` (integers in a range), kept
//!   to re-derive samples published with it;
//! - [`risk`]: BRAVO, Kaplan–Markov (with Arlo's first-round estimate),
//!   MACRO, and SHANGRLA's ALPHA test supermartingale with its assorters
//!   (Stark 2020, 2023);
//! - [`workflow`]: the audit as the log records it — the manifest of the
//!   counted actas, the seed, PPEB rounds, hand counts and MACRO risk, each
//!   step derived from the ones before, so the authority's tool and every
//!   observer derive the same steps; and the election-night citizen check.
//!
//! The consistent sampler (R. L. Rivest, "Consistent Sampling with
//! Replacement", arXiv:1808.10016; the reference is
//! `ron-rivest/consistent_sampler`, MIT, which Arlo uses) lets anyone
//! re-derive, from the public seed and the canonical ids, exactly the
//! tables or ballot records drawn, in order.
//!
//! The algorithm, as the reference computes it:
//! 1. `seed_hash` = lowercase hex of SHA-256(UTF-8(seed)).
//! 2. A *uniform* of a string `s`: SHA-256(UTF-8(s)) read as a big-endian
//!    integer, written in decimal zero-padded to at least 64 digits,
//!    reversed, after `0.`. The first ticket of `id` is the uniform of
//!    `seed_hash ‖ id`.
//! 3. Tickets sort as byte strings; without replacement, ascending order is
//!    the sample.
//! 4. With replacement, after ticket `x` is drawn its id gets a next ticket:
//!    with `x0 = x ‖ "0"` and `k` the index of the first character after
//!    `0.` below `9`, the first `y = x0[..k] ‖ uniform(x ‖ ":" ‖ i)[2..]`,
//!    `i = 1, 2, …`, with `y > x0`; the id goes back in with generation + 1.
//! 5. A ticket is printed as its first `k + digits` characters (`digits` 9
//!    by default): nine significant digits after any leading nines.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ppeb;
pub mod risk;
pub mod rivest2011;
pub mod workflow;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use sha2::{Digest, Sha256};

/// Why a sample cannot be drawn.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The same id appears twice in the list sampled from.
    #[error("id {0:?} is listed twice")]
    DuplicateId(String),
    /// An audit step cannot be derived or is not due.
    #[error("{0}")]
    Workflow(String),
    /// An id that is empty or has a line break or surrounding spaces.
    #[error("line {line}: {what}")]
    BadId {
        /// 1-based line of the id list.
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A parameter of a risk computation is outside its domain.
    #[error("{test}: {name} = {value} is invalid: {why}")]
    BadParameter {
        /// The computation (`"ALPHA"`, `"Kaplan–Markov"`, …).
        test: &'static str,
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The domain it must lie in.
        why: &'static str,
    },
    /// A draw given to a risk computation is outside `[0, u]`.
    #[error("{test}: draw {index} is {value}, outside [0, {u}]")]
    DrawOutOfRange {
        /// The computation.
        test: &'static str,
        /// 1-based position of the draw in the sequence.
        index: usize,
        /// The draw.
        value: f64,
        /// The upper bound `u`.
        u: f64,
    },
    /// More draws without replacement than the population has.
    #[error("{test}: {draws} draws without replacement from a population of {population}")]
    SampleExceedsPopulation {
        /// The computation.
        test: &'static str,
        /// Draws given.
        draws: usize,
        /// The population size `N`.
        population: u64,
    },
    /// The range of Rivest's 2011 sampler is empty (`a > b`).
    #[error("rivest2011: the range {a}..={b} is empty")]
    EmptyRange {
        /// Lower end.
        a: u64,
        /// Upper end.
        b: u64,
    },
    /// More distinct values asked for than a range holds.
    #[error("rivest2011: {count} draws without replacement from {a}..={b}, which holds fewer")]
    RangeTooSmall {
        /// Draws asked for.
        count: u64,
        /// Lower end.
        a: u64,
        /// Upper end.
        b: u64,
    },
    /// A PPEB stream name that is empty or not printable ASCII without
    /// spaces.
    #[error("ppeb: stream {0:?} must be non-empty printable ASCII without spaces")]
    BadStream(String),
    /// PPEB ids out of order: each must come strictly after the one before
    /// it in byte order.
    #[error("ppeb: line {line}: id {id:?} does not come strictly after {previous:?} (ids must be strictly increasing in byte order)")]
    UnorderedId {
        /// 1-based position of the offending id in the list.
        line: usize,
        /// The id.
        id: String,
        /// The id before it.
        previous: String,
    },
    /// The PPEB weights sum past `u64::MAX`.
    #[error(
        "ppeb: line {line}: adding the weight {weight} of id {id:?} overflows the total (u64)"
    )]
    WeightOverflow {
        /// 1-based position of the id whose weight overflows the sum.
        line: usize,
        /// The id.
        id: String,
        /// Its weight.
        weight: u64,
    },
    /// Every PPEB weight is 0 (or the list is empty): nothing can be drawn.
    #[error("ppeb: the weights of the {ids} ids sum to 0, so nothing can be drawn")]
    NoWeight {
        /// How many ids were listed.
        ids: usize,
    },
    /// Draw numbers past `u64::MAX` were asked for.
    #[error("ppeb: draws {drop} + {take} run past the last draw number (u64)")]
    DrawNumberOverflow {
        /// Draws skipped.
        drop: u64,
        /// Draws asked for.
        take: u64,
    },
}

/// Decimal digits of a 256-bit big-endian integer, at least 64 of them.
fn decimal(bytes: [u8; 32]) -> String {
    // Little-endian base-10^19 limbs by repeated division of the bytes.
    let mut n: Vec<u32> = bytes
        .chunks(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut chunks: Vec<u64> = Vec::new();
    const BASE: u64 = 10_000_000_000_000_000_000;
    while n.iter().any(|&w| w != 0) {
        let mut rem: u128 = 0;
        for w in n.iter_mut() {
            let cur = (rem << 32) | u128::from(*w);
            *w = (cur / u128::from(BASE)) as u32;
            rem = cur % u128::from(BASE);
        }
        chunks.push(rem as u64);
    }
    let mut s = String::new();
    for (i, c) in chunks.iter().rev().enumerate() {
        if i == 0 {
            s.push_str(&c.to_string());
        } else {
            s.push_str(&format!("{c:019}"));
        }
    }
    if s.len() < 64 {
        s = format!("{}{s}", "0".repeat(64 - s.len()));
    }
    s
}

/// The uniform of `s`: `0.` and the reversed decimal digits of SHA-256(s).
pub fn sha256_uniform(s: &str) -> String {
    let d: [u8; 32] = Sha256::digest(s.as_bytes()).into();
    let digits: String = decimal(d).chars().rev().collect();
    format!("0.{digits}")
}

/// The lowercase hex SHA-256 of the seed.
pub fn seed_hash(seed: &str) -> String {
    Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first ticket of `id` under the seed (given as its hash).
pub fn first_ticket(seed_hash: &str, id: &str) -> String {
    sha256_uniform(&format!("{seed_hash}{id}"))
}

/// Index of the first character after `0.` that is below `9`.
fn first_below_nine(x: &str) -> usize {
    x.bytes()
        .enumerate()
        .skip(2)
        .find(|(_, b)| *b < b'9')
        .map_or(x.len(), |(i, _)| i)
}

/// The ticket an id gets after its ticket `x` was drawn (step 4).
pub fn next_ticket(x: &str) -> String {
    let x0 = format!("{x}0");
    let k = first_below_nine(&x0);
    for i in 1u64.. {
        let u = sha256_uniform(&format!("{x}:{i}"));
        let y = format!("{}{}", &x0[..k], &u[2..]);
        if y > x0 {
            return y;
        }
    }
    unreachable!("some uniform exceeds x0")
}

/// A ticket as printed: `k + digits` characters (step 5).
pub fn print_ticket(x: &str, digits: usize) -> String {
    let k = first_below_nine(x);
    x[..(k + digits).min(x.len())].to_string()
}

/// One draw of the sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    /// The full ticket.
    pub ticket: String,
    /// The id drawn.
    pub id: String,
    /// 1 for an id's first draw, 2 for its second (with replacement), …
    pub generation: u32,
}

/// Parses a list of ids, one per line: each id non-empty, no surrounding
/// spaces, no duplicates.
pub fn parse_ids(text: &str) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.is_empty() {
            return Err(Error::BadId {
                line,
                what: "empty id",
            });
        }
        if l.trim() != l {
            return Err(Error::BadId {
                line,
                what: "spaces around the id",
            });
        }
        if !seen.insert(l) {
            return Err(Error::DuplicateId(l.to_string()));
        }
        out.push(l.to_string());
    }
    Ok(out)
}

/// The sample: `take` draws after skipping the first `drop`, with or
/// without replacement (without, at most one draw per id).
pub fn sample(
    seed: &str,
    ids: &[String],
    with_replacement: bool,
    drop: usize,
    take: usize,
) -> Result<Vec<Draw>, Error> {
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if !seen.insert(id.as_str()) {
            return Err(Error::DuplicateId(id.clone()));
        }
    }
    let sh = seed_hash(seed);
    let mut heap: BinaryHeap<Reverse<(String, usize, u32)>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Reverse((first_ticket(&sh, id), i, 1)))
        .collect();
    let mut out = Vec::new();
    let mut n = 0;
    while out.len() < take {
        let Some(Reverse((ticket, i, generation))) = heap.pop() else {
            break;
        };
        if with_replacement {
            heap.push(Reverse((next_ticket(&ticket), i, generation + 1)));
        }
        n += 1;
        if n > drop {
            out.push(Draw {
                ticket,
                id: ids[i].clone(),
                generation,
            });
        }
    }
    Ok(out)
}
