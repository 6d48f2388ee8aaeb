//! SHANGRLA assorters (P. B. Stark, "Sets of Half-Average Nulls Generate
//! Risk-Limiting Audits: SHANGRLA", Voting '20, arXiv:1911.10035; research
//! notes `audits-forensics.md` §1). A reported outcome is correct if, for
//! every assertion, the mean of its assorter `A` over all cards is above
//! 1/2; each assertion is tested (by [`super::alpha`]) against the null
//! "mean ≤ 1/2". An assorter takes values in `[0, u]`.
//!
//! A card with no cast vote record (a phantom) is scored 1/2 when its CVR
//! is needed, and a card that cannot be found is scored 0 on the manual
//! side (the "evil zombie"); both are the caller's to apply.

/// The plurality assorter for reported winner `w` against loser `l` on one
/// card: `(b_w − b_l + 1)/2 ∈ {0, 1/2, 1}`, with `b_w`, `b_l` whether the
/// card has a valid vote for each. Upper bound [`PLURALITY_UPPER`].
pub fn plurality(for_winner: bool, for_loser: bool) -> f64 {
    (f64::from(u8::from(for_winner)) - f64::from(u8::from(for_loser)) + 1.0) / 2.0
}

/// The upper bound `u` of the plurality assorter.
pub const PLURALITY_UPPER: f64 = 1.0;

/// The supermajority assorter (the winner needs a fraction `f` of the
/// valid votes, `0 < f < 1`) on one card: `b_w/(2f)` if the card has
/// exactly one valid vote in the contest, else 1/2.
pub fn supermajority(f: f64, for_winner: bool, valid_votes: u32) -> f64 {
    if valid_votes == 1 {
        f64::from(u8::from(for_winner)) / (2.0 * f)
    } else {
        0.5
    }
}

/// The upper bound `u = 1/(2f)` of the supermajority assorter.
pub fn supermajority_upper(f: f64) -> f64 {
    1.0 / (2.0 * f)
}

/// The supermajority assorter's margin `q(p/f − 1)`, with `q` the fraction
/// of cards with exactly one valid vote and `p` the fraction of those cards
/// that vote for the winner.
pub fn supermajority_margin(f: f64, q: f64, p: f64) -> f64 {
    q * (p / f - 1.0)
}

/// The assorter margin `v = 2·mean(A) − 1` of the assorter's values over
/// all cards (the diluted margin μ for plurality). `-1` for no cards.
pub fn margin(values: &[f64]) -> f64 {
    if values.is_empty() {
        return -1.0;
    }
    2.0 * values.iter().sum::<f64>() / values.len() as f64 - 1.0
}

/// The overstatement assorter of a comparison audit,
/// `B = (1 − ω/u)/(2 − v/u)`, with `ω = A(CVR) − A(manual record)` the
/// card's overstatement, `u` the assorter's upper bound and `v` its
/// reported margin. `B ∈ [0, 2/(2 − v/u)]`, and the null is `mean(B) ≤
/// 1/2`. For plurality (`u = 1`): `1/(2 − v)` for a correct card,
/// `(1/2)/(2 − v)` for a one-vote overstatement, 0 for a two-vote one.
pub fn overstatement(omega: f64, u: f64, v: f64) -> f64 {
    (1.0 - omega / u) / (2.0 - v / u)
}

/// The overstatement assorter from the two assorter values of a card:
/// [`overstatement`] with `ω = cvr − manual`.
pub fn overstatement_of(cvr: f64, manual: f64, u: f64, v: f64) -> f64 {
    overstatement(cvr - manual, u, v)
}

/// The upper bound `2/(2 − v/u)` of the overstatement assorter.
pub fn overstatement_upper(u: f64, v: f64) -> f64 {
    2.0 / (2.0 - v / u)
}
