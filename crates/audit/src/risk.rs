//! Risk measurement: the formulas of the three audits the system runs, as
//! their papers and the reference tools state them, and SHANGRLA's general
//! engine, the ALPHA test supermartingale over assorters ([`alpha`],
//! [`assorter`]), of which they are closed-form relatives (the known
//! answers in `tests/risk.rs` and `tests/alpha.rs` come from Arlo, rlacalc,
//! SHANGRLA and published audits). Pure arithmetic; which audit runs when,
//! and on what, is decided by the caller.

pub mod alpha;
pub mod assorter;

/// BRAVO ballot polling (Lindeman, Stark & Yates, EVT/WOTE 2012), for one
/// winner–loser pair.
pub mod bravo {
    /// The risk measured after sampling ballots with replacement: `1/T`
    /// with `T = (2s)^w · (2(1−s))^l`, `s` the winner's reported share of
    /// the pair, `w` and `l` the sampled ballots for each (ballots for
    /// neither change nothing).
    pub fn risk(reported_winner: u64, reported_loser: u64, winner: u64, loser: u64) -> f64 {
        let s = reported_winner as f64 / (reported_winner + reported_loser) as f64;
        let log_t = winner as f64 * (2.0 * s).ln() + loser as f64 * (2.0 * (1.0 - s)).ln();
        (-log_t).exp().min(1.0)
    }

    /// The average sample number at risk limit `alpha` when the reported
    /// shares are right: `(ln(1/α) + z_w/2) / (p_w z_w + p_l z_l)`, with
    /// `z_w = ln 2s`, `z_l = ln(2 − 2s)`, `p` the shares of all ballots.
    pub fn asn(alpha: f64, winner: u64, loser: u64, ballots: u64) -> u64 {
        let s = winner as f64 / (winner + loser) as f64;
        let (zw, zl) = ((2.0 * s).ln(), (2.0 - 2.0 * s).ln());
        let (pw, pl) = (
            winner as f64 / ballots as f64,
            loser as f64 / ballots as f64,
        );
        (((1.0 / alpha).ln() + zw / 2.0) / (pw * zw + pl * zl)).ceil() as u64
    }
}

/// Ballot-level comparison, Kaplan–Markov ("super-simple", Stark 2010).
pub mod kaplan_markov {
    /// The error inflation used by Stark's tool, AGI and Colorado's RLA tool.
    pub const GAMMA: f64 = 1.03905;

    /// Discrepancies found: one- and two-vote overstatements and
    /// understatements.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Discrepancies {
        /// One-vote overstatements.
        pub o1: u64,
        /// Two-vote overstatements.
        pub o2: u64,
        /// One-vote understatements.
        pub u1: u64,
        /// Two-vote understatements.
        pub u2: u64,
    }

    /// The p-value after `n` ballots compared at diluted margin `mu`.
    pub fn p_value(n: u64, gamma: f64, mu: f64, d: Discrepancies) -> f64 {
        let g = gamma;
        ((1.0 - mu / (2.0 * g)).ln() * n as f64
            - d.o1 as f64 * (1.0 - 1.0 / (2.0 * g)).ln()
            - d.o2 as f64 * (1.0 - 1.0 / g).ln()
            - d.u1 as f64 * (1.0 + 1.0 / (2.0 * g)).ln()
            - d.u2 as f64 * (1.0 + 1.0 / g).ln())
        .exp()
        .min(1.0)
    }

    /// The ballots to compare to reach risk limit `alpha` with the
    /// discrepancies `d`: `⌈−2γ(ln α + o1 ln(1−1/2γ) + o2 ln(1−1/γ) +
    /// u1 ln(1+1/2γ) + u2 ln(1+1/γ))/μ⌉`.
    pub fn stopping_size(alpha: f64, gamma: f64, mu: f64, d: Discrepancies) -> u64 {
        let g = gamma;
        let s = alpha.ln()
            + d.o1 as f64 * (1.0 - 1.0 / (2.0 * g)).ln()
            + d.o2 as f64 * (1.0 - 1.0 / g).ln()
            + d.u1 as f64 * (1.0 + 1.0 / (2.0 * g)).ln()
            + d.u2 as f64 * (1.0 + 1.0 / g).ln();
        (-2.0 * g * s / mu).ceil() as u64
    }

    /// The one-vote discrepancy rate Arlo assumes for a first round.
    pub const ASSUMED_ONE_VOTE_RATE: f64 = 0.001;
    /// The two-vote discrepancy rate Arlo assumes for a first round.
    pub const ASSUMED_TWO_VOTE_RATE: f64 = 0.0001;

    /// The first-round sample size as Arlo estimates it (`supersimple.py`;
    /// research notes §2.3 "Arlo's first round"), allowing for the
    /// discrepancies a sample of that size would meet at the assumed rates
    /// ([`ASSUMED_ONE_VOTE_RATE`] for one-vote, [`ASSUMED_TWO_VOTE_RATE`]
    /// for two-vote over- and understatements):
    /// 1. `n₀ = ⌈ln α / (ln(1 − μ/2γ) − r₁ ln(1 − 1/2γ) − r₂ ln(1 − 1/γ) −
    ///    r₁ ln(1 + 1/2γ) − r₂ ln(1 + 1/γ))⌉`, the size at which the
    ///    expected log p-value per ballot reaches `ln α`;
    /// 2. `o1 = u1 = ⌈r₁ n₀⌉`, `o2 = u2 = round(r₂ n₀)` (ties to even, as
    ///    Python's `round`);
    /// 3. the [`stopping_size`] with those discrepancies.
    ///
    /// `None` when the assumed discrepancies cost more per ballot than the
    /// margin gains (the bracket in step 1 is not negative: at γ =
    /// [`GAMMA`], margins below about 0.109 %), or `μ` is not in `(0, 2γ)`:
    /// no sample size reaches α at those rates.
    ///
    /// (Arlo's last step, counting negative errors as 0, concerns the risk
    /// measured after the round, not this estimate.)
    pub fn first_round(alpha: f64, gamma: f64, mu: f64) -> Option<u64> {
        let g = gamma;
        let (r1, r2) = (ASSUMED_ONE_VOTE_RATE, ASSUMED_TWO_VOTE_RATE);
        let per_ballot = (1.0 - mu / (2.0 * g)).ln()
            - r1 * (1.0 - 1.0 / (2.0 * g)).ln()
            - r2 * (1.0 - 1.0 / g).ln()
            - r1 * (1.0 + 1.0 / (2.0 * g)).ln()
            - r2 * (1.0 + 1.0 / g).ln();
        if !(mu > 0.0 && mu < 2.0 * g && per_ballot < 0.0) {
            return None;
        }
        let n0 = (alpha.ln() / per_ballot).ceil();
        let one = (r1 * n0).ceil() as u64;
        let two = (r2 * n0).round_ties_even() as u64;
        Some(stopping_size(
            alpha,
            gamma,
            mu,
            Discrepancies {
                o1: one,
                o2: two,
                u1: one,
                u2: two,
            },
        ))
    }
}

/// Batch comparison, MACRO (Stark 2009), each table a batch.
pub mod macro_batch {
    /// A table's maximum relative overstatement for one winner–loser
    /// pair: `((v_w − v_l) + b) / V`, with `b` its ballots and `V` the
    /// reported margin of the pair over the contest.
    pub fn error_bound(v_winner: u64, v_loser: u64, ballots: u64, margin: u64) -> f64 {
        (v_winner as f64 - v_loser as f64 + ballots as f64) / margin as f64
    }

    /// A table's taint: its overstatement found by the hand count, relative
    /// to its error bound (`e/u`, negative overstatements counted as 0).
    pub fn taint(reported: (u64, u64), counted: (u64, u64), margin: u64, bound: f64) -> f64 {
        let e = ((reported.0 as f64 - reported.1 as f64) - (counted.0 as f64 - counted.1 as f64))
            / margin as f64;
        e.max(0.0) / bound
    }

    /// The p-value of the draws so far: `∏ (1 − 1/U)/(1 − t_p)`; a taint of
    /// 1 or more means a full hand count (`1.0`).
    pub fn p_value(total_bound: f64, taints: &[f64]) -> f64 {
        let mut p = 1.0;
        for &t in taints {
            if t >= 1.0 {
                return 1.0;
            }
            p *= (1.0 - 1.0 / total_bound) / (1.0 - t);
        }
        p.min(1.0)
    }

    /// Further draws needed to reach `alpha` from p-value `p`, if the rest
    /// come back clean: `⌈(ln α − ln P)/ln(1 − 1/U)⌉ + 1` (Arlo's +1).
    pub fn next_round(alpha: f64, total_bound: f64, p: f64) -> u64 {
        if p <= alpha {
            return 0;
        }
        ((alpha.ln() - p.ln()) / (1.0 - 1.0 / total_bound).ln()).ceil() as u64 + 1
    }
}
