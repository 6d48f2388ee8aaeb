//! Digit tests of the per-table counts (Mebane; `kkalininMI/EFToolkit:
//! R/BasicElectionForensics.R`, research note §5.2): the last digit, the
//! second digit (2BL) and the share of counts ending in 0 or 5.
//!
//! The counts are every choice's votes at every table whose *expected*
//! count — the table's valid votes times the choice's national share — is
//! at least [`MIN_COUNT`] (second digit; the count itself must have two
//! digits) or [`MIN_LAST`] (last digit, 0-or-5). Selecting on the count
//! itself would shape its last digit by the slope of its distribution
//! across the cut, which the redraw (whose spread is about twice the
//! counts') does not reproduce: cut on counts at 10, clean synthetic
//! elections failed the 0-or-5 test 4 % of the time instead of 1 %. The reference is not a textbook
//! constant (Benford's 2BL mean 4.187, a uniform last digit): on tables of
//! a few hundred voters those are off (research note §5.5 measured a 2BL
//! mean of 4.105). It is simulated: each replicate redraws every table's
//! votes from Multinomial(valid votes, the table's own shares) and computes
//! the same statistic, so the null has this election's table sizes and
//! vote shares. Statistics:
//! - last digit: χ² of the ten digit counts against the null's mean counts,
//!   upper-tail p-value;
//! - second digit: the mean second digit, two-sided;
//! - 0 or 5: the share of last digits that are 0 or 5, upper tail (written-
//!   in figures favour round numbers).
//!
//! Each p-value is the Monte Carlo one, `(1 + #{null ≥ observed}) / (1 +
//! replicates)`; the band drawn around each digit's share is the null's
//! 2.5–97.5 % range.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::stats::{binomial, p_two_sided, p_upper, quantile, rng};
use crate::{p_words, Finding, Options, Screen, Table};

/// Smallest expected count the second-digit test reads (and a count
/// itself must have two digits).
pub const MIN_COUNT: u32 = 25;
/// Smallest expected count the last-digit and 0-or-5 tests read.
pub const MIN_LAST: u32 = 100;

/// One digit test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigitTest {
    /// Counts read.
    pub counts: usize,
    /// Share of each digit 0–9 among them.
    pub observed: Vec<f64>,
    /// The null's mean share of each digit.
    pub null_mean: Vec<f64>,
    /// The null's 2.5 % quantile of each digit's share.
    pub band_low: Vec<f64>,
    /// The null's 97.5 % quantile of each digit's share.
    pub band_high: Vec<f64>,
    /// The statistic (χ², mean digit or share).
    pub statistic: f64,
    /// The null's mean of it.
    pub null_statistic: f64,
    /// Its Monte Carlo p-value.
    pub p_value: f64,
}

/// The three digit tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digits {
    /// Last digit, χ².
    pub last: DigitTest,
    /// Second digit, mean.
    pub second: DigitTest,
    /// Share of last digits 0 or 5 (digit shares as in `last`).
    pub zero_five: DigitTest,
    /// The false-alarm rate each was held to.
    pub alpha: f64,
    /// Tables whose counts were read.
    pub tables: usize,
}

impl Digits {
    pub(crate) fn findings(&self) -> Vec<Finding> {
        let f = |screen, t: &DigitTest, what: String| Finding {
            screen,
            flagged: t.p_value <= self.alpha,
            summary: format!("{what}; {}", p_words(t.p_value, self.alpha)),
            p_value: Some(t.p_value),
            tables: self.tables,
            skipped: None,
        };
        vec![
            f(
                Screen::LastDigit,
                &self.last,
                format!(
                    "χ² = {:.1} over {} counts (null mean {:.1})",
                    self.last.statistic, self.last.counts, self.last.null_statistic
                ),
            ),
            f(
                Screen::SecondDigit,
                &self.second,
                format!(
                    "mean second digit {:.3} over {} counts (null {:.3}; Benford's 4.187 is not the reference)",
                    self.second.statistic, self.second.counts, self.second.null_statistic
                ),
            ),
            f(
                Screen::ZeroFive,
                &self.zero_five,
                format!(
                    "{:.1} % of counts end in 0 or 5 (null {:.1} %)",
                    100.0 * self.zero_five.statistic,
                    100.0 * self.zero_five.null_statistic
                ),
            ),
        ]
    }
}

/// Which tests read a (table, choice) count: chosen by its expected size —
/// the table's valid votes times the choice's national share — never by
/// the count itself, so the observed counts and the redrawn ones are read
/// alike (a cut on the count would shape its last digit by the slope of its
/// distribution across the cut, which a redraw does not reproduce).
#[derive(Clone, Copy)]
struct Read {
    last: bool,
    second: bool,
}

fn reads(tables: &[&Table]) -> Vec<Vec<Read>> {
    let k = tables.iter().map(|t| t.votes.len()).max().unwrap_or(0);
    let mut sums = vec![0u64; k];
    let mut total = 0u64;
    for t in tables {
        for (s, v) in sums.iter_mut().zip(&t.votes) {
            *s += u64::from(*v);
        }
        total += u64::from(t.valid());
    }
    tables
        .iter()
        .map(|t| {
            (0..t.votes.len())
                .map(|c| {
                    let expected = f64::from(t.valid()) * sums[c] as f64 / total.max(1) as f64;
                    Read {
                        last: expected >= f64::from(MIN_LAST),
                        second: expected >= f64::from(MIN_COUNT),
                    }
                })
                .collect()
        })
        .collect()
}

/// Digit tallies of one set of counts.
#[derive(Default, Clone, Copy)]
struct Tally {
    last: [u32; 10],
    second: [u32; 10],
    n: u32,
    n_last: u32,
}

impl Tally {
    /// Adds count `c` to the tests `read` selects.
    fn add(&mut self, c: u32, read: Read) {
        if read.last {
            self.n_last += 1;
            self.last[(c % 10) as usize] += 1;
        }
        if !read.second || c < 10 {
            return;
        }
        self.n += 1;
        let mut x = c;
        while x >= 100 {
            x /= 10;
        }
        self.second[(x % 10) as usize] += 1;
    }
    fn shares(h: &[u32; 10], n: u32) -> Vec<f64> {
        h.iter()
            .map(|&k| f64::from(k) / f64::from(n.max(1)))
            .collect()
    }
    fn mean_second(&self) -> f64 {
        self.second
            .iter()
            .enumerate()
            .map(|(d, &k)| d as f64 * f64::from(k))
            .sum::<f64>()
            / f64::from(self.n.max(1))
    }
    fn zero_five(&self) -> f64 {
        f64::from(self.last[0] + self.last[5]) / f64::from(self.n_last.max(1))
    }
}

fn chi2(h: &[u32; 10], n: u32, mean_share: &[f64]) -> f64 {
    h.iter()
        .zip(mean_share)
        .map(|(&o, &m)| {
            let e = m * f64::from(n);
            if e > 0.0 {
                (f64::from(o) - e).powi(2) / e
            } else {
                0.0
            }
        })
        .sum()
}

fn test(
    observed: Vec<f64>,
    shares: &[Vec<f64>],
    statistic: f64,
    null: &[f64],
    two_sided: bool,
    counts: usize,
) -> DigitTest {
    let digit = |d: usize| {
        let mut v: Vec<f64> = shares.iter().map(|s| s[d]).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let r = shares.len().max(1) as f64;
    DigitTest {
        counts,
        null_mean: (0..10)
            .map(|d| shares.iter().map(|s| s[d]).sum::<f64>() / r)
            .collect(),
        band_low: (0..10).map(|d| quantile(&digit(d), 0.025)).collect(),
        band_high: (0..10).map(|d| quantile(&digit(d), 0.975)).collect(),
        observed,
        statistic,
        null_statistic: null.iter().sum::<f64>() / null.len().max(1) as f64,
        p_value: if two_sided {
            p_two_sided(statistic, null)
        } else {
            p_upper(statistic, null)
        },
    }
}

/// Runs the digit tests over the usable tables.
pub(crate) fn screen(tables: &[&Table], opts: &Options) -> Digits {
    let reads = reads(tables);
    let mut obs = Tally::default();
    for (t, read) in tables.iter().zip(&reads) {
        for (&v, &r) in t.votes.iter().zip(read) {
            obs.add(v, r);
        }
    }
    let nulls: Vec<Tally> = (0..opts.replicates as u64)
        .into_par_iter()
        .map(|rep| {
            let mut r = rng(opts.seed, 1_000 + rep);
            let mut tally = Tally::default();
            for (t, read) in tables.iter().zip(&reads) {
                let mut left = t.valid();
                let mut mass = 1.0;
                let total = f64::from(t.valid());
                for (k, &v) in t.votes.iter().enumerate() {
                    let x = if k + 1 == t.votes.len() {
                        left
                    } else {
                        let p = f64::from(v) / total;
                        let x = binomial(&mut r, left, p / mass);
                        mass -= p;
                        x
                    };
                    left -= x;
                    tally.add(x, read[k]);
                }
            }
            tally
        })
        .collect();
    let last_shares: Vec<Vec<f64>> = nulls
        .iter()
        .map(|t| Tally::shares(&t.last, t.n_last))
        .collect();
    let second_shares: Vec<Vec<f64>> = nulls
        .iter()
        .map(|t| Tally::shares(&t.second, t.n))
        .collect();
    let r = nulls.len().max(1) as f64;
    let last_mean: Vec<f64> = (0..10)
        .map(|d| last_shares.iter().map(|s| s[d]).sum::<f64>() / r)
        .collect();
    let chi_null: Vec<f64> = nulls
        .iter()
        .map(|t| chi2(&t.last, t.n_last, &last_mean))
        .collect();
    let second_null: Vec<f64> = nulls.iter().map(Tally::mean_second).collect();
    let zf_null: Vec<f64> = nulls.iter().map(Tally::zero_five).collect();
    let (n, n_last) = (obs.n as usize, obs.n_last as usize);
    let last_obs = Tally::shares(&obs.last, obs.n_last);
    Digits {
        last: test(
            last_obs.clone(),
            &last_shares,
            chi2(&obs.last, obs.n_last, &last_mean),
            &chi_null,
            false,
            n_last,
        ),
        second: test(
            Tally::shares(&obs.second, obs.n),
            &second_shares,
            obs.mean_second(),
            &second_null,
            true,
            n,
        ),
        zero_five: test(
            last_obs,
            &last_shares,
            obs.zero_five(),
            &zf_null,
            false,
            n_last,
        ),
        alpha: opts.alpha,
        tables: tables.len(),
    }
}
