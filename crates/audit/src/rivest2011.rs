//! Rivest's 2011 SHA-256 sampler (`sampler.py`, R. L. Rivest, 2011; test
//! cases in `cjerdonek/rivest-sampler-tests: tests.json`; research notes
//! `audits-forensics.md` §4.2), kept so that a sample published with it
//! can be re-derived. New audits use the consistent sampler
//! ([`crate::sample`]) or PPEB ([`crate::ppeb`]).
//!
//! Pick `i` (`i = 1, 2, …`) of the range `a..=b` is
//! `a + (H mod (b − a + 1))`, where `H` is SHA-256(UTF-8(seed ‖ "," ‖
//! decimal(i))) read as a big-endian integer. The seed is text (dice
//! digits concatenated), never parsed as a number: `"0000000000"` and
//! `"0"` differ. With replacement the picks are the sample; without
//! replacement a pick equal to an earlier one is skipped (its `i` is
//! used up all the same).

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use crate::Error;

/// `H mod m` for a big-endian 256-bit (or any length) integer, by hand
/// over the bytes: `r ← (256·r + byte) mod m`, with `r < m ≤ 2⁶⁴` so
/// `256·r + byte < 2⁷²` fits a `u128`.
fn mod_be(bytes: &[u8], m: u128) -> u128 {
    bytes
        .iter()
        .fold(0u128, |r, &b| ((r << 8) | u128::from(b)) % m)
}

/// Pick `i` of the range `a..=b` (before any skipping of repeats).
///
/// # Panics
/// If `a > b` (use [`draws`], which reports it as an error).
pub fn pick(seed: &str, a: u64, b: u64, i: u64) -> u64 {
    assert!(a <= b, "rivest2011::pick: empty range {a}..={b}");
    let m = u128::from(b - a) + 1;
    let h = Sha256::digest(format!("{seed},{i}").as_bytes());
    // The remainder is below m ≤ 2⁶⁴ and a + it ≤ b: both fit a u64.
    a + mod_be(&h, m) as u64
}

/// The first `count` values of the sample of `a..=b` under `seed`, with or
/// without replacement (without: the picks in order, repeats skipped).
pub fn draws(
    seed: &str,
    a: u64,
    b: u64,
    with_replacement: bool,
    count: u64,
) -> Result<Vec<u64>, Error> {
    if a > b {
        return Err(Error::EmptyRange { a, b });
    }
    if !with_replacement && u128::from(count) > u128::from(b - a) + 1 {
        return Err(Error::RangeTooSmall { count, a, b });
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut i = 0u64;
    while (out.len() as u64) < count {
        i += 1;
        let v = pick(seed, a, b, i);
        if with_replacement || seen.insert(v) {
            out.push(v);
        }
    }
    Ok(out)
}
