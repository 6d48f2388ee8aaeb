//! Integer-percentage peaks (Kobak, Shpilkin & Pshenichnikov, "Integer
//! percentages as electoral falsification fingerprints", AOAS 10(1):54–73,
//! 2016; `dkobak/elections`; research note §5.3).
//!
//! Figures written to a target ("85 % turnout, 80 % for the winner") leave
//! more tables at whole percentages than counting gives. Following the
//! paper: keep tables with at least 100 ballots and turnout and winner's
//! share both at most 99 %; count those whose turnout or winner's share lies
//! within ±0.05 percentage points of a whole number. The null redraws each
//! table: ballots ~ Binomial(registered, its turnout), valid votes ~
//! Binomial(ballots, its valid share), the winner's votes ~ Binomial(valid,
//! its share), and counts again. The excess is observed minus the null's
//! mean; the p-value the Monte Carlo upper tail. With tables of a few
//! hundred voters a whole percentage is hit often by chance (research note
//! §5.5, Rozenas 2017): that is what the redraw on our own sizes accounts
//! for.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::stats::{binomial, p_upper, rng};
use crate::{p_words, Finding, Options, Screen, Table};

/// Fewest ballots of a table the screen reads.
pub const MIN_BALLOTS: u32 = 100;
/// Half-width of the window around a whole percentage, in points.
pub const WINDOW: f64 = 0.05;

/// The screen's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peaks {
    /// Tables read.
    pub tables: usize,
    /// Tables at a whole percentage.
    pub observed: u32,
    /// The null's mean.
    pub null_mean: f64,
    /// The null's standard deviation.
    pub null_sd: f64,
    /// Observed minus the null's mean.
    pub excess: f64,
    /// Monte Carlo p-value.
    pub p_value: f64,
    /// Whether it flags the election.
    pub flagged: bool,
    /// The tables at whole percentages: id and which figure.
    pub at_integer: Vec<(String, String)>,
    /// Turnout histogram for the chart: tables per bin of `bin_width`
    /// percentage points, bin `k` centred on `k × bin_width` %.
    pub turnout_histogram: Vec<u32>,
    /// Width of a histogram bin, percentage points.
    pub bin_width: f64,
    /// The false-alarm rate it was held to.
    pub alpha: f64,
}

impl Peaks {
    pub(crate) fn finding(&self) -> Finding {
        Finding {
            screen: Screen::IntegerPeaks,
            flagged: self.flagged,
            summary: format!(
                "{} tables at a whole percentage, {:.1} ± {:.1} expected: excess {:+.1}; {}",
                self.observed,
                self.null_mean,
                self.null_sd,
                self.excess,
                p_words(self.p_value, self.alpha)
            ),
            p_value: Some(self.p_value),
            tables: self.tables,
            skipped: None,
        }
    }
}

fn whole(pct: f64) -> bool {
    (pct - pct.round()).abs() <= WINDOW + 1e-9
}

/// Whether a table with these figures is read, and whether it is at a whole
/// percentage (turnout, share).
fn judge(registered: u32, ballots: u32, valid: u32, leader: u32) -> Option<(bool, bool)> {
    if ballots < MIN_BALLOTS || valid == 0 || registered == 0 {
        return None;
    }
    let t = 100.0 * f64::from(ballots) / f64::from(registered);
    let s = 100.0 * f64::from(leader) / f64::from(valid);
    (t <= 99.0 && s <= 99.0).then_some((whole(t), whole(s)))
}

/// Runs the screen over the usable tables.
pub(crate) fn screen(tables: &[&Table], leader: &[usize], opts: &Options) -> Peaks {
    let mut read = 0;
    let mut at_integer = Vec::new();
    for t in tables {
        if let Some((wt, ws)) = judge(t.registered, t.ballots, t.valid(), t.votes_for(leader)) {
            read += 1;
            if wt || ws {
                let mut what = Vec::new();
                if wt {
                    what.push(format!(
                        "turnout {:.2} %",
                        100.0 * f64::from(t.ballots) / f64::from(t.registered)
                    ));
                }
                if ws {
                    what.push(format!(
                        "winner's share {:.2} %",
                        100.0 * f64::from(t.votes_for(leader)) / f64::from(t.valid())
                    ));
                }
                at_integer.push((t.id.clone(), what.join(", ")));
            }
        }
    }
    let observed = at_integer.len() as u32;
    let null: Vec<f64> = (0..opts.replicates as u64)
        .into_par_iter()
        .map(|rep| {
            let mut r = rng(opts.seed, 2_000 + rep);
            let mut k = 0u32;
            for t in tables {
                let b = binomial(
                    &mut r,
                    t.registered,
                    f64::from(t.ballots) / f64::from(t.registered),
                );
                let v = binomial(&mut r, b, f64::from(t.valid()) / f64::from(t.ballots));
                let l = binomial(
                    &mut r,
                    v,
                    f64::from(t.votes_for(leader)) / f64::from(t.valid()),
                );
                if let Some((wt, ws)) = judge(t.registered, b, v, l) {
                    k += u32::from(wt || ws);
                }
            }
            f64::from(k)
        })
        .collect();
    let mean = null.iter().sum::<f64>() / null.len().max(1) as f64;
    let sd =
        (null.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / null.len().max(1) as f64).sqrt();
    let p_value = p_upper(f64::from(observed), &null);
    let bin_width: f64 = if tables.len() >= 20_000 {
        0.1
    } else if tables.len() >= 2_000 {
        0.25
    } else {
        1.0
    };
    // Bin k is centred on k × bin_width, so a whole percentage sits in the
    // middle of its bin and a peak there stands out.
    let bins = (100.0 / bin_width).round() as usize + 1;
    let mut turnout_histogram = vec![0u32; bins];
    for t in tables {
        let pct = 100.0 * f64::from(t.ballots) / f64::from(t.registered);
        turnout_histogram[((pct / bin_width + 0.5) as usize).min(bins - 1)] += 1;
    }
    Peaks {
        tables: read,
        observed,
        null_mean: mean,
        null_sd: sd,
        excess: f64::from(observed) - mean,
        p_value,
        flagged: p_value <= opts.alpha,
        at_integer,
        turnout_histogram,
        bin_width,
        alpha: opts.alpha,
    }
}
