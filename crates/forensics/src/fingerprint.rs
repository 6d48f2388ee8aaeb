//! The election fingerprint and Klimek's ballot-stuffing model.
//!
//! **Fingerprint** (Klimek, Yegorov, Hanel & Thurner, "Statistical
//! detection of systematic election irregularities", PNAS 109(41):16469,
//! 2012): the 2-D histogram of tables by turnout (ballots / registered) and
//! the winner's share of valid votes. A fair election draws one compact
//! cluster; stuffing smears it toward the upper right, extreme stuffing
//! piles tables near 100 % / 100 %.
//!
//! **Model** (the paper's, as `kkalininMI/EFToolkit: R/ComputeKlimekModel.R`
//! ports it; research note §5.1). A fair table of `N` registered has turnout
//! `t ~ N(p, σ_t)` and winner's share `v ~ N(λ, σ_v)` (clamped to [0, 1]),
//! where — our departure from the paper — `p` and `λ` are its region's
//! (a state's strongholds and its turnout are geography, not stuffing: a
//! single national cluster takes them for it),
//! `V = round(N t)` voters, `W = round(V v)` for the winner and `O = V − W`
//! for the rest. With probability `f_i` a table is stuffed incrementally by
//! `x = |N(0, θ)|`, with probability `f_e` extremely by `x = 1 − |N(0,
//! 0.075)|`; then the winner gains `floor(x (N − V))` stuffed ballots and
//! `round(x^α O)` votes stolen from the rest. The baseline is read from
//! the left side of each distribution, the normal through its 10 % and
//! 30 % quantiles (stuffing moves tables right, so the left side is the
//! fair one): each region's median, shifted by the left-side centre of the
//! tables' distances to their region's median, and one spread from those
//! distances (regions with fewer than [`MIN_REGION`] tables pool into one); `f_i, f_e, α, θ` are fitted by
//! grid search, minimising `Σ (H_sim − H_obs)² / (H_obs + 1)` over a 25 × 25
//! turnout × share histogram, each simulation averaged over four replicates
//! drawn on the election's own table sizes with common random numbers (the
//! same draws at every grid point, so the distance is smooth in the
//! parameters). A coarse grid (`f_i` 0–0.40 by 0.04, `f_e` 0–0.16 by 0.02,
//! `α ∈ {½, 1}`, `θ ∈ {0.05, 0.1, 0.2, 0.4}`) is refined around its best
//! point (`f_i` by 0.01, `f_e` by 0.005).
//!
//! **Ranking.** At the fitted parameters eight fresh replicates split each
//! histogram cell into fair and stuffed tables; a table's score is the
//! stuffed share of its cell (a cell the model never reaches scores 1 above
//! and right of the baseline, 0 elsewhere), ties broken by how far above
//! the baseline it lies. Stuffed tables come first.
//!
//! **Flag.** The fingerprint flags the election when the fitted stuffing
//! lowers the distance by at least [`FLAG_GAIN`] below the fair model's
//! (a likelihood-ratio-like test: the fitted rates alone move with noise
//! and with how far the fair cluster is from a normal one, the gain much
//! less). The threshold is set so that clean synthetic elections of our
//! table sizes flag at most 1 % of the time; `acta bench forensics`
//! measures it, and the README has the figures. With fewer than
//! [`MIN_FLAG_TABLES`] tables the screen never flags (the fit is too
//! noisy there), but still draws and ranks.

use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::stats::{left_normal, rng};
use crate::{Finding, Options, Screen, Table};

/// Cells per axis of the drawn fingerprint.
pub const CHART_BINS: usize = 50;
/// Cells per axis of the fitted histogram.
const FIT_BINS: usize = 25;
/// Replicates per simulation in the fit.
const FIT_REPLICATES: usize = 4;
/// Fewest tables a region needs for its own centre.
pub const MIN_REGION: usize = 30;
/// Replicates for the ranking.
const RANK_REPLICATES: usize = 8;
/// How much the fitted stuffing must lower the distance below the fair
/// model's for the screen to flag.
pub const FLAG_GAIN: f64 = 20.0;
/// Fewest tables for the fingerprint to flag an election: below this its
/// false-alarm rate is above 1 % and its power low (`acta bench forensics
/// --tables 300`); it still draws the fingerprint and ranks the tables.
pub const MIN_FLAG_TABLES: usize = 1_000;

/// The fair cluster, read from the left side of the distributions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Mean of the tables' fair turnout (their regions' centres).
    pub turnout: f64,
    /// The spread of turnout about a region's centre.
    pub turnout_sd: f64,
    /// Mean of the tables' fair winner's share.
    pub share: f64,
    /// The spread of the share about a region's centre.
    pub share_sd: f64,
    /// Regions with their own centre.
    pub regions: usize,
}

/// Each table's fair centre, (turnout, share), and the baseline.
fn baseline(tables: &[&Table], points: &[(f64, f64)]) -> (Vec<(f64, f64)>, Baseline) {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in tables.iter().enumerate() {
        by.entry(t.region.as_str()).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut pooled = Vec::new();
    for (_, idx) in by {
        if idx.len() >= MIN_REGION {
            groups.push(idx);
        } else {
            pooled.extend(idx);
        }
    }
    let regions = groups.len();
    if !pooled.is_empty() {
        groups.push(pooled);
    }
    let mut centre = vec![(0.0, 0.0); points.len()];
    for g in &groups {
        let m = (
            crate::stats::median(&g.iter().map(|&i| points[i].0).collect::<Vec<_>>()),
            crate::stats::median(&g.iter().map(|&i| points[i].1).collect::<Vec<_>>()),
        );
        for &i in g {
            centre[i] = m;
        }
    }
    let dt: Vec<f64> = points.iter().zip(&centre).map(|(p, c)| p.0 - c.0).collect();
    let dv: Vec<f64> = points.iter().zip(&centre).map(|(p, c)| p.1 - c.1).collect();
    let (ot, turnout_sd) = left_normal(&dt);
    let (ov, share_sd) = left_normal(&dv);
    for c in &mut centre {
        c.0 += ot;
        c.1 += ov;
    }
    let n = points.len().max(1) as f64;
    let b = Baseline {
        turnout: centre.iter().map(|c| c.0).sum::<f64>() / n,
        turnout_sd,
        share: centre.iter().map(|c| c.1).sum::<f64>() / n,
        share_sd,
        regions,
    };
    (centre, b)
}

/// Stuffing parameters of the model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stuffing {
    /// Share of tables stuffed incrementally (`f_i`).
    pub incremental: f64,
    /// Share of tables stuffed to the brim (`f_e`).
    pub extreme: f64,
    /// Exponent of the votes stolen with the stuffing (`α`).
    pub alpha: f64,
    /// Size of incremental stuffing (`θ`).
    pub theta: f64,
}

impl Stuffing {
    /// No stuffing.
    pub const FAIR: Stuffing = Stuffing {
        incremental: 0.0,
        extreme: 0.0,
        alpha: 1.0,
        theta: 0.1,
    };
}

/// The fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// The fair cluster.
    pub baseline: Baseline,
    /// The fitted stuffing.
    pub stuffing: Stuffing,
    /// Distance of the best fit.
    pub distance: f64,
    /// Distance of the fair model (`f_i = f_e = 0`).
    pub fair_distance: f64,
    /// Whether the fit flags the election.
    pub flagged: bool,
}

/// One table's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// Table id.
    pub table: String,
    /// Turnout.
    pub turnout: f64,
    /// Winner's share.
    pub share: f64,
    /// Probability the fitted model gives it of being stuffed.
    pub score: f64,
}

/// The fingerprint screen's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Tables per cell, `CHART_BINS × CHART_BINS`, row by winner's share
    /// (row 0 is 0–2 %), column by turnout.
    pub heat: Vec<u32>,
    /// The fit.
    pub fit: Fit,
    /// Every screened table, in [`crate::Input::tables`] order of the
    /// screened subset, with its score: see [`Fingerprint::ranking`].
    #[serde(skip)]
    pub ranking: Vec<(usize, f64)>,
    /// The 100 highest-ranked tables.
    pub top: Vec<Ranked>,
}

impl Fingerprint {
    pub(crate) fn finding(&self, tables: usize) -> Finding {
        let s = self.fit.stuffing;
        Finding {
            screen: Screen::Fingerprint,
            flagged: self.fit.flagged,
            summary: format!(
                "{}fitted stuffing: incremental {:.1} % of tables (θ = {}), extreme {:.1} %, α = {}; it lowers the distance by {:.1} below the fair model's {:.1} (flags at {FLAG_GAIN}); fair clusters ({} regions) about turnout {:.1} % ± {:.1}, winner's share {:.1} % ± {:.1}",
                if tables < MIN_FLAG_TABLES {
                    format!("never flags below {MIN_FLAG_TABLES} tables (its false-alarm rate is not held there); ")
                } else {
                    String::new()
                },
                100.0 * s.incremental,
                s.theta,
                100.0 * s.extreme,
                s.alpha,
                self.fit.fair_distance - self.fit.distance,
                self.fit.fair_distance,
                self.fit.baseline.regions,
                100.0 * self.fit.baseline.turnout,
                100.0 * self.fit.baseline.turnout_sd,
                100.0 * self.fit.baseline.share,
                100.0 * self.fit.baseline.share_sd,
            ),
            p_value: None,
            tables,
            skipped: None,
        }
    }
}

/// A table's (turnout, winner's share).
pub(crate) fn point(t: &Table, leader: &[usize]) -> (f64, f64) {
    (
        (f64::from(t.ballots) / f64::from(t.registered)).min(1.0),
        (f64::from(t.votes_for(leader)) / f64::from(t.valid())).min(1.0),
    )
}

fn cell(x: f64, bins: usize) -> usize {
    ((x * bins as f64) as usize).min(bins - 1)
}

/// The draws one simulated table consumes.
#[derive(Clone, Copy)]
struct Draw {
    turnout: f64,
    share: f64,
    u: f64,
    incremental: f64,
    extreme: f64,
}

fn draws(n: usize, seed: u64, stream: u64) -> Vec<Draw> {
    let mut r = rng(seed, stream);
    (0..n)
        .map(|_| Draw {
            turnout: StandardNormal.sample(&mut r),
            share: StandardNormal.sample(&mut r),
            u: rand::Rng::random::<f64>(&mut r),
            incremental: StandardNormal.sample(&mut r),
            extreme: StandardNormal.sample(&mut r),
        })
        .collect()
}

/// One simulated table: its (turnout, share) and whether it was stuffed,
/// or `None` if it has no votes.
fn simulate(
    n: u32,
    centre: (f64, f64),
    d: &Draw,
    b: &Baseline,
    s: &Stuffing,
) -> Option<(f64, f64, bool)> {
    let n = f64::from(n);
    let t = (centre.0 + b.turnout_sd * d.turnout).clamp(0.0, 1.0);
    let v = (centre.1 + b.share_sd * d.share).clamp(0.0, 1.0);
    let voters = (n * t).round();
    let mut w = (voters * v).round();
    let mut o = voters - w;
    let x = if d.u < s.incremental {
        (s.theta * d.incremental.abs()).min(1.0)
    } else if d.u < s.incremental + s.extreme {
        (1.0 - 0.075 * d.extreme.abs()).max(0.0)
    } else {
        0.0
    };
    if x > 0.0 {
        let stolen = (x.powf(s.alpha) * o).round();
        w += (x * (n - voters)).floor() + stolen;
        o -= stolen;
    }
    let total = w + o;
    (total > 0.0).then(|| ((total / n).min(1.0), w / total, x > 0.0))
}

fn distance(
    sizes: &[u32],
    centres: &[(f64, f64)],
    draws: &[Vec<Draw>],
    b: &Baseline,
    s: &Stuffing,
    observed: &[f64],
) -> f64 {
    let mut h = vec![0f64; FIT_BINS * FIT_BINS];
    for rep in draws {
        for ((n, c), d) in sizes.iter().zip(centres).zip(rep) {
            if let Some((t, v, _)) = simulate(*n, *c, d, b, s) {
                h[cell(v, FIT_BINS) * FIT_BINS + cell(t, FIT_BINS)] += 1.0;
            }
        }
    }
    let r = draws.len() as f64;
    h.iter()
        .zip(observed)
        .map(|(s, o)| (s / r - o).powi(2) / (o + 1.0))
        .sum()
}

fn steps(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let n = ((hi - lo) / step).round() as usize;
    (0..=n)
        .map(|k| ((lo + k as f64 * step) * 1e6).round() / 1e6)
        .filter(|x| *x >= 0.0)
        .collect()
}

/// Runs the screen over the usable tables.
pub(crate) fn screen(tables: &[&Table], leader: &[usize], opts: &Options) -> Fingerprint {
    let points: Vec<(f64, f64)> = tables.iter().map(|t| point(t, leader)).collect();
    let sizes: Vec<u32> = tables.iter().map(|t| t.registered).collect();
    let mut heat = vec![0u32; CHART_BINS * CHART_BINS];
    let mut observed = vec![0f64; FIT_BINS * FIT_BINS];
    for &(t, v) in &points {
        heat[cell(v, CHART_BINS) * CHART_BINS + cell(t, CHART_BINS)] += 1;
        observed[cell(v, FIT_BINS) * FIT_BINS + cell(t, FIT_BINS)] += 1.0;
    }
    let (centres, baseline) = baseline(tables, &points);
    let fit_draws: Vec<Vec<Draw>> = (0..FIT_REPLICATES as u64)
        .map(|r| draws(tables.len(), opts.seed, 100 + r))
        .collect();
    let dist = |s: &Stuffing| distance(&sizes, &centres, &fit_draws, &baseline, s, &observed);

    let mut coarse = Vec::new();
    for fi in steps(0.0, 0.40, 0.04) {
        for fe in steps(0.0, 0.16, 0.02) {
            for alpha in [0.5, 1.0] {
                for theta in [0.05, 0.1, 0.2, 0.4] {
                    coarse.push(Stuffing {
                        incremental: fi,
                        extreme: fe,
                        alpha,
                        theta,
                    });
                }
            }
        }
    }
    let best_of = |grid: Vec<Stuffing>| {
        grid.into_par_iter()
            .map(|s| (dist(&s), s))
            .min_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then(a.1.incremental.total_cmp(&b.1.incremental))
                    .then(a.1.extreme.total_cmp(&b.1.extreme))
            })
            .expect("non-empty grid")
    };
    let (_, c) = best_of(coarse);
    let mut fine = Vec::new();
    for fi in steps(c.incremental - 0.03, c.incremental + 0.03, 0.01) {
        for fe in steps(c.extreme - 0.015, c.extreme + 0.015, 0.005) {
            fine.push(Stuffing {
                incremental: fi,
                extreme: fe,
                ..c
            });
        }
    }
    let (distance, stuffing) = best_of(fine);
    let fair_distance = dist(&Stuffing::FAIR);
    let flagged = fair_distance - distance >= FLAG_GAIN && tables.len() >= MIN_FLAG_TABLES;

    // The ranking, from fresh replicates at the fit.
    let mut fair = vec![0f64; FIT_BINS * FIT_BINS];
    let mut stuffed = vec![0f64; FIT_BINS * FIT_BINS];
    for r in 0..RANK_REPLICATES as u64 {
        for ((n, c), d) in sizes
            .iter()
            .zip(&centres)
            .zip(draws(tables.len(), opts.seed, 200 + r))
        {
            if let Some((t, v, x)) = simulate(*n, *c, &d, &baseline, &stuffing) {
                let k = cell(v, FIT_BINS) * FIT_BINS + cell(t, FIT_BINS);
                if x {
                    stuffed[k] += 1.0;
                } else {
                    fair[k] += 1.0;
                }
            }
        }
    }
    let mut ranking: Vec<(usize, f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, &(t, v))| {
            let k = cell(v, FIT_BINS) * FIT_BINS + cell(t, FIT_BINS);
            let c = centres[i];
            let above = (t - c.0) / baseline.turnout_sd + (v - c.1) / baseline.share_sd;
            let score = if fair[k] + stuffed[k] > 0.0 {
                stuffed[k] / (fair[k] + stuffed[k])
            } else if t > c.0 && v > c.1 {
                1.0
            } else {
                0.0
            };
            (i, score, above)
        })
        .collect();
    ranking.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(&b.0))
    });
    let top = ranking
        .iter()
        .take(100)
        .map(|&(i, score, _)| Ranked {
            table: tables[i].id.clone(),
            turnout: points[i].0,
            share: points[i].1,
            score,
        })
        .collect();
    Fingerprint {
        heat,
        fit: Fit {
            baseline,
            stuffing,
            distance,
            fair_distance,
            flagged,
        },
        ranking: ranking.into_iter().map(|(i, s, _)| (i, s)).collect(),
        top,
    }
}
