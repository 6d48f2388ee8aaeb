//! PPEB: sampling with replacement and probability proportional to error
//! bound (Aslam, Popa & Rivest, "On Auditing Elections When Precincts Have
//! Different Sizes", EVT 2008), the sample of a MACRO batch-comparison
//! audit (Stark 2009, SSRN 1443314), drawn from the consistent sampler's
//! SHA-256 uniforms so that anyone re-derives the same draws from the
//! public seed. The specification is `docs/ppeb.md`:
//!
//! 1. The ids are listed in strictly increasing byte order, each with an
//!    integer weight (its error bound, e.g. in votes); `W` = the sum of the
//!    weights, `0 < W ≤ u64::MAX`.
//! 2. Draw `j` (`j = 1, 2, …`) of stream `s` (a contest id: printable
//!    ASCII, no spaces) has the ticket
//!    `x_j = sha256_uniform(seed_hash(seed) ‖ "ppeb " ‖ s ‖ " " ‖ decimal(j))`
//!    ([`crate::sha256_uniform`], [`crate::seed_hash`]).
//! 3. Its position is `r_j = ⌊x_j · W⌋`, computed exactly from the
//!    ticket's decimal digits ([`scale`]), so `0 ≤ r_j < W`.
//! 4. The id drawn is the first, in list order, whose cumulative weight
//!    (the sum of the weights up to and including it) is greater than
//!    `r_j`: each draw picks an id with probability weight/W, independently
//!    of the other draws; an id of weight 0 is never drawn.
//!
//! Draw `j` depends on the seed, the stream, `j` and the weights only, so a
//! later round continues the stream where the earlier one stopped
//! (`draws(…, 0, a + b)[a..] == draws(…, a, b)`).

use crate::{seed_hash, sha256_uniform, Error};

/// The ticket of draw `j` of `stream`, given the seed's hash
/// ([`crate::seed_hash`]): the uniform of
/// `seed_hash ‖ "ppeb " ‖ stream ‖ " " ‖ decimal(j)`.
pub fn ticket(seed_hash: &str, stream: &str, j: u64) -> String {
    sha256_uniform(&format!("{seed_hash}ppeb {stream} {j}"))
}

/// `⌊x · w⌋` for a ticket `x = 0.d₁d₂…d_L`, exactly: with `D` the integer
/// `d₁d₂…d_L`, this is `⌊D·w / 10^L⌋`, computed by long multiplication of
/// the digits by `w` from the last digit with a `u128` carry (each step
/// `v = d·w + carry`, `carry = ⌊v/10⌋`; the carry stays below `w`, so `v <
/// 10·w` fits), the final carry being the result. It is below `w` when
/// `w > 0`, and 0 when `w = 0`.
///
/// # Panics
/// If the ticket is not `0.` followed by decimal digits (as [`ticket`]
/// makes them).
pub fn scale(ticket: &str, w: u64) -> u64 {
    let digits = ticket
        .strip_prefix("0.")
        .unwrap_or_else(|| panic!("ppeb::scale: ticket {ticket:?} does not start with \"0.\""));
    let mut carry: u128 = 0;
    for d in digits.bytes().rev() {
        assert!(
            d.is_ascii_digit(),
            "ppeb::scale: ticket {ticket:?} has a character that is not a digit"
        );
        let v = u128::from(d - b'0') * u128::from(w) + carry;
        carry = v / 10;
    }
    // carry < w ≤ u64::MAX (or 0 when w = 0).
    carry as u64
}

/// One PPEB draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    /// The draw number `j` in the stream (1 for the first draw).
    pub index: u64,
    /// Its ticket `x_j`.
    pub ticket: String,
    /// The id drawn.
    pub id: String,
}

/// Checks the stream name: non-empty printable ASCII without spaces.
fn check_stream(stream: &str) -> Result<(), Error> {
    if stream.is_empty() || !stream.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::BadStream(stream.to_string()));
    }
    Ok(())
}

/// The cumulative weights of a list of `(id, weight)`, after checking that
/// the ids are strictly increasing in byte order and that the total is
/// above 0 and fits a `u64`. The last element is `W`.
pub fn cumulative(weighted: &[(String, u64)]) -> Result<Vec<u64>, Error> {
    let mut out = Vec::with_capacity(weighted.len());
    let mut total: u64 = 0;
    for (i, (id, w)) in weighted.iter().enumerate() {
        if i > 0 {
            let previous = &weighted[i - 1].0;
            if previous.as_bytes() >= id.as_bytes() {
                return Err(Error::UnorderedId {
                    line: i + 1,
                    id: id.clone(),
                    previous: previous.clone(),
                });
            }
        }
        total = total.checked_add(*w).ok_or_else(|| Error::WeightOverflow {
            line: i + 1,
            id: id.clone(),
            weight: *w,
        })?;
        out.push(total);
    }
    if total == 0 {
        return Err(Error::NoWeight {
            ids: weighted.len(),
        });
    }
    Ok(out)
}

/// Draws `drop + 1 ..= drop + take` of `stream` under `seed` over the
/// weighted ids (see the module documentation and `docs/ppeb.md`). Each
/// draw is a binary search over the cumulative weights.
pub fn draws(
    seed: &str,
    stream: &str,
    weighted: &[(String, u64)],
    drop: u64,
    take: u64,
) -> Result<Vec<Draw>, Error> {
    check_stream(stream)?;
    let cumulative = cumulative(weighted)?;
    let w = *cumulative.last().expect("cumulative checks W > 0");
    let last = drop
        .checked_add(take)
        .ok_or(Error::DrawNumberOverflow { drop, take })?;
    let sh = seed_hash(seed);
    Ok((drop + 1..=last)
        .map(|j| {
            let ticket = ticket(&sh, stream, j);
            let r = scale(&ticket, w);
            // The first id whose cumulative weight exceeds r; r < W, so
            // there is one.
            let k = cumulative.partition_point(|&c| c <= r);
            Draw {
                index: j,
                ticket,
                id: weighted[k].0.clone(),
            }
        })
        .collect())
}
