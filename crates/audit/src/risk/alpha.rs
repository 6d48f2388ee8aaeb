//! ALPHA, the test supermartingale of SHANGRLA (P. B. Stark, "ALPHA: Audit
//! that Learns from Previously Hand-Audited Ballots", Ann. Appl. Stat.
//! 17(1), 2023, doi:10.1214/22-AOAS1646; research notes
//! `audits-forensics.md` §2.1), implemented from the paper's formulas.
//!
//! It tests the null "the mean of a population of values in `[0, u]` is
//! `t`" (for an assertion, `t = 1/2` and the values are an
//! [assorter](super::assorter)'s) from draws `x₁, x₂, …` in draw order, with
//! replacement (population `None`: infinite) or without (population
//! `Some(N)`):
//! 1. `S_j = x₁ + … + x_{j−1}`;
//! 2. `μ_j = (N·t − S_j)/(N − j + 1)`, the mean of the cards not yet drawn
//!    if the null is true ([`sjm`]), or `t` with replacement;
//! 3. `T_j = T_{j−1} · [x_j·η_j/μ_j + (u − x_j)(u − η_j)/(u − μ_j)] / u`,
//!    `T₀ = 1`, with `η_j` an estimate of the true mean from `x₁ … x_{j−1}`
//!    only ([`Estimator`]);
//! 4. guards: `μ_j < 0` makes `T_j = ∞` (the null is impossible);
//!    `μ_j > u` makes the factor 0; `μ_j ≈ 0` or `μ_j ≈ u` makes it 1; a
//!    sample total above `N·t` makes the last `T` infinite;
//! 5. the p-value is `min(1, 1/max_k T_k)`; the assertion is confirmed at
//!    risk limit α once some `T_k ≥ 1/α`.
//!
//! The factor is also `1 + λ_j(x_j − μ_j)` with the bet
//! `λ_j = (η_j/μ_j − 1)/(u − μ_j)` ([`lambda`]); [`betting_mart`] runs the
//! same test with a fixed bet instead of an estimate.
//!
//! Tolerances (the notes' `≈`): `μ_j ≈ 0` is `|μ_j| ≤ 10⁻⁸·u`, `μ_j ≈ u`
//! is `|μ_j − u| ≤ 10⁻⁸·u + 10⁻⁵·u` (NumPy's `isclose`, scaled by `u`); a
//! sum exceeds `N·t` when it does by more than `10⁻¹²·N·u`, far above the
//! rounding of the compensated sums used. The total guard is applied after
//! every draw, so `T_k` depends on `x₁ … x_k` only (a draw whose prefix
//! total exceeds `N·t` is where the null became impossible).

use crate::Error;

const TEST: &str = "ALPHA";

/// Absolute tolerance (times `u`) of `μ ≈ 0` and `μ ≈ u`.
const ATOL: f64 = 1e-8;
/// Relative tolerance of `μ ≈ u`.
const RTOL: f64 = 1e-5;
/// Tolerance (times `N·u`) of a sum exceeding `N·t`.
const SUM_TOL: f64 = 1e-12;

/// The truncated-shrinkage estimator of ALPHA §2.5.2:
/// `η_j = min(u(1 − ε), max([(d·η₀ + S_j)/(d + j − 1) + f·u/sd_j] /
/// (1 + f/sd_j), μ_j + c/√(d + j − 1)))`: the sample mean shrunk towards
/// `η₀` with the weight of `d` draws, then towards `u` with weight
/// `f/sd_j`, kept above `μ_j` by a margin that shrinks as the sample grows
/// and below `u`. `sd_1 = sd_2 = 1`; for `j > 2`, `sd_j` is the standard
/// deviation of `x₁ … x_{j−1}` (denominator `j − 2`), at least `minsd`.
///
/// The research notes (§2.1) write the bounds as `u(1 − ε) −
/// c/√(d + j − 1)` and `μ_j(1 + ε) + c/√(d + j − 1)`; this follows the
/// paper's (and SHANGRLA's documented) `u(1 − ε)` and `μ_j + c/√(d + j −
/// 1)`. Either keeps `η_j` in `[0, u]`, which is what validity needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShrinkTrunc {
    /// The initial estimate `η₀`, in `[0, u]`.
    pub eta0: f64,
    /// The weight of `η₀`, in draws (> 0).
    pub d: f64,
    /// The scale of the margin kept above `μ_j` (≥ 0).
    pub c: f64,
    /// The weight of the pull towards `u`, relative to `1/sd_j` (≥ 0).
    pub f: f64,
    /// The smallest standard deviation used (> 0).
    pub minsd: f64,
    /// The cap: `η_j ≤ u(1 − ε)`, `0 ≤ ε < 1`.
    pub eps: f64,
}

impl ShrinkTrunc {
    /// The defaults of the notes for values in `[0, u]` and null mean `t`:
    /// `η₀ = t + (u − t)/2`, `d = 100`, `f = 0`, `c = (η₀ − t)/2`; and
    /// `minsd = 10⁻⁶`, `ε` the machine epsilon.
    pub fn default_for(u: f64, t: f64) -> Self {
        let eta0 = t + (u - t) / 2.0;
        ShrinkTrunc {
            eta0,
            d: 100.0,
            c: (eta0 - t) / 2.0,
            f: 0.0,
            minsd: 1e-6,
            eps: f64::EPSILON,
        }
    }
}

/// How `η_j`, the alternative the test bets on, is chosen from the draws
/// before `j`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimator {
    /// A fixed alternative mean `η₀` for the whole population: `η_j =
    /// (N·η₀ − S_j)/(N − j + 1)` (the mean of the cards not yet drawn if
    /// the population mean were `η₀`), or `η₀` with replacement; kept in
    /// `[0, u]` (it leaves it only when the sample strays far from `η₀`).
    Fixed {
        /// The alternative mean, in `[0, u]`.
        eta0: f64,
    },
    /// Truncated shrinkage ([`ShrinkTrunc`]).
    ShrinkTrunc(ShrinkTrunc),
}

/// The test's sequence over the draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Mart {
    /// `μ_j`, the null mean of the cards not yet drawn before draw `j`.
    pub mu: Vec<f64>,
    /// `η_j`, the alternative bet on at draw `j` (for a fixed bet `λ`, the
    /// `η` it amounts to: `μ_j(1 + λ_j(u − μ_j))`).
    pub eta: Vec<f64>,
    /// `T_j` after draw `j`.
    pub t: Vec<f64>,
    /// `min(1, 1/max_j T_j)` (1 for no draws).
    pub p_value: f64,
}

impl Mart {
    /// The first draw (1-based) after which `T_j ≥ 1/α`: where the
    /// assertion is confirmed at risk limit `alpha`.
    pub fn stop(&self, alpha: f64) -> Option<usize> {
        self.t.iter().position(|&t| t >= 1.0 / alpha).map(|i| i + 1)
    }
}

/// `μ_j` for each draw `j` (SHANGRLA's `sjm`): `(N·t − S_j)/(N − j + 1)`,
/// or `t` when the population is infinite (`None`). Meaningful for at most
/// `N` draws (for more, the denominator is not positive).
pub fn sjm(population: Option<u64>, t: f64, x: &[f64]) -> Vec<f64> {
    let mut s = Sum::default();
    x.iter()
        .enumerate()
        .map(|(i, &xi)| {
            let mu = null_mean(population, t, s.value(), i as u64 + 1);
            s.add(xi);
            mu
        })
        .collect()
}

/// The bet `λ = (η/μ − 1)/(u − μ)` equivalent to the alternative `η`
/// when the null mean is `μ`.
pub fn lambda(eta: f64, mu: f64, u: f64) -> f64 {
    (eta / mu - 1.0) / (u - mu)
}

/// The ALPHA test over draws `x` in `[0, u]` with null mean `t`, population
/// `N` (`None` for sampling with replacement) and the estimator `est`.
pub fn mart(
    x: &[f64],
    u: f64,
    population: Option<u64>,
    t: f64,
    est: &Estimator,
) -> Result<Mart, Error> {
    check_estimator(est, u)?;
    run(x, u, population, t, Bet::Alpha(est))
}

/// The test in betting form with a fixed bet: each factor is
/// `1 + λ_j(x_j − μ_j)`, `λ_j = min(λ, 1/μ_j)` (the cap keeps every factor
/// non-negative), with the same guards as [`mart`].
pub fn betting_mart(
    x: &[f64],
    u: f64,
    population: Option<u64>,
    t: f64,
    lambda: f64,
) -> Result<Mart, Error> {
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(bad("λ", lambda, "a bet must be finite and ≥ 0"));
    }
    run(x, u, population, t, Bet::Lambda(lambda))
}

/// The smallest number of draws, all equal to `x`, after which the ALPHA
/// test reaches `1/α` (for first-round estimates: `x` is the value a
/// correct card would have), at most `limit` and, without replacement, at
/// most `N`; `None` if it is not reached by then.
pub fn sample_size(
    alpha: f64,
    x: f64,
    u: f64,
    population: Option<u64>,
    t: f64,
    est: &Estimator,
    limit: u64,
) -> Result<Option<u64>, Error> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(bad("α", alpha, "a risk limit must be in (0, 1)"));
    }
    check_common(u, population, t)?;
    check_draw(x, u, 1)?;
    check_estimator(est, u)?;
    let limit = population.map_or(limit, |n| limit.min(n));
    let mut engine = Engine::new(u, population, t, Bet::Alpha(est));
    for n in 1..=limit {
        engine.step(x);
        if engine.t >= 1.0 / alpha {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

/// The Kaplan–Markov test of a mean (SHANGRLA's `kaplan_markov`, sampling
/// with replacement): `p = min(1, min_k ∏_{i≤k} (t + g)/(x_i + g))`, with
/// `g ≥ 0` the hedge against draws near 0. It is the betting form with the
/// fixed bet `λ = 1/(t + g)` and `N = ∞`.
pub fn kaplan_markov(x: &[f64], t: f64, g: f64) -> Result<f64, Error> {
    const KM: &str = "Kaplan–Markov";
    if !(t.is_finite() && t > 0.0) {
        return Err(Error::BadParameter {
            test: KM,
            name: "t",
            value: t,
            why: "the null mean must be finite and > 0",
        });
    }
    if !(g.is_finite() && g >= 0.0) {
        return Err(Error::BadParameter {
            test: KM,
            name: "g",
            value: g,
            why: "the hedge must be finite and ≥ 0",
        });
    }
    let mut p: f64 = 1.0;
    let mut best: f64 = 1.0;
    for (i, &xi) in x.iter().enumerate() {
        if !(xi.is_finite() && xi >= 0.0) {
            return Err(Error::DrawOutOfRange {
                test: KM,
                index: i + 1,
                value: xi,
                u: f64::INFINITY,
            });
        }
        p *= (t + g) / (xi + g);
        best = best.min(p);
    }
    Ok(best)
}

/// A compensated (Neumaier) sum, so that the guards compare sums of
/// thousands of draws with `N·t` without drift.
#[derive(Debug, Default, Clone, Copy)]
struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }
    fn value(&self) -> f64 {
        self.s + self.c
    }
}

/// `μ_j` given `S_j`.
fn null_mean(population: Option<u64>, t: f64, s: f64, j: u64) -> f64 {
    match population {
        None => t,
        Some(n) => (n as f64 * t - s) / (n as f64 - j as f64 + 1.0),
    }
}

#[derive(Debug, Clone, Copy)]
enum Bet<'a> {
    Alpha(&'a Estimator),
    Lambda(f64),
}

/// The test one draw at a time.
struct Engine<'a> {
    u: f64,
    population: Option<u64>,
    t_null: f64,
    bet: Bet<'a>,
    /// Draws so far.
    j: u64,
    sum: Sum,
    /// Welford's running mean and sum of squared deviations.
    mean: f64,
    m2: f64,
    /// `T` after the draws so far.
    t: f64,
}

impl<'a> Engine<'a> {
    fn new(u: f64, population: Option<u64>, t_null: f64, bet: Bet<'a>) -> Self {
        Engine {
            u,
            population,
            t_null,
            bet,
            j: 0,
            sum: Sum::default(),
            mean: 0.0,
            m2: 0.0,
            t: 1.0,
        }
    }

    /// `sd_j` of [`ShrinkTrunc`], before draw `j = self.j + 1`.
    fn sd(&self, minsd: f64) -> f64 {
        if self.j < 2 {
            1.0
        } else {
            (self.m2 / (self.j - 1) as f64).sqrt().max(minsd)
        }
    }

    /// `η_j` for the next draw, given `μ_j`.
    fn eta(&self, mu: f64) -> f64 {
        let (u, s, j) = (self.u, self.sum.value(), self.j as f64 + 1.0);
        match self.bet {
            Bet::Alpha(Estimator::Fixed { eta0 }) => match self.population {
                None => *eta0,
                Some(n) => ((n as f64 * eta0 - s) / (n as f64 - j + 1.0)).clamp(0.0, u),
            },
            Bet::Alpha(Estimator::ShrinkTrunc(st)) => {
                let sd = self.sd(st.minsd);
                let weighted =
                    ((st.d * st.eta0 + s) / (st.d + j - 1.0) + st.f * u / sd) / (1.0 + st.f / sd);
                let floor = mu + st.c / (st.d + j - 1.0).sqrt();
                (u * (1.0 - st.eps)).min(weighted.max(floor))
            }
            Bet::Lambda(l) => {
                let l = if mu > 0.0 { l.min(1.0 / mu) } else { l };
                mu * (1.0 + l * (u - mu))
            }
        }
    }

    /// Takes draw `x`; returns `(μ_j, η_j)` and updates `T`.
    fn step(&mut self, x: f64) -> (f64, f64) {
        let u = self.u;
        let mu = null_mean(self.population, self.t_null, self.sum.value(), self.j + 1);
        let eta = self.eta(mu);
        let sum_tol = self.population.map(|n| SUM_TOL * n as f64 * u);
        let impossible = |s: f64| match (self.population, sum_tol) {
            (Some(n), Some(tol)) => s - n as f64 * self.t_null > tol,
            _ => false,
        };
        if self.t.is_infinite() || impossible(self.sum.value()) {
            // μ_j < 0: the null is already impossible.
            self.t = f64::INFINITY;
        } else {
            let factor = if mu.abs() <= ATOL * u || mu <= 0.0 || (mu - u).abs() <= (ATOL + RTOL) * u
            {
                1.0
            } else if mu > u {
                0.0
            } else {
                match self.bet {
                    Bet::Alpha(_) => (x * eta / mu + (u - x) * (u - eta) / (u - mu)) / u,
                    Bet::Lambda(l) => 1.0 + l.min(1.0 / mu) * (x - mu),
                }
            };
            self.t *= factor;
        }
        self.j += 1;
        self.sum.add(x);
        let delta = x - self.mean;
        self.mean += delta / self.j as f64;
        self.m2 += delta * (x - self.mean);
        if impossible(self.sum.value()) {
            // The sample total exceeds N·t.
            self.t = f64::INFINITY;
        }
        (mu, eta)
    }
}

fn bad(name: &'static str, value: f64, why: &'static str) -> Error {
    Error::BadParameter {
        test: TEST,
        name,
        value,
        why,
    }
}

fn check_common(u: f64, population: Option<u64>, t: f64) -> Result<(), Error> {
    if !(u.is_finite() && u > 0.0) {
        return Err(bad("u", u, "the upper bound must be finite and > 0"));
    }
    if !(t > 0.0 && t < u) {
        return Err(bad("t", t, "the null mean must be in (0, u)"));
    }
    if population == Some(0) {
        return Err(bad("N", 0.0, "the population must not be empty"));
    }
    Ok(())
}

fn check_draw(x: f64, u: f64, index: usize) -> Result<(), Error> {
    if !(x >= 0.0 && x <= u) {
        return Err(Error::DrawOutOfRange {
            test: TEST,
            index,
            value: x,
            u,
        });
    }
    Ok(())
}

fn check_estimator(est: &Estimator, u: f64) -> Result<(), Error> {
    let in_range = |name, v: f64| {
        if v >= 0.0 && v <= u {
            Ok(())
        } else {
            Err(bad(name, v, "the alternative mean must be in [0, u]"))
        }
    };
    match est {
        Estimator::Fixed { eta0 } => in_range("η₀", *eta0),
        Estimator::ShrinkTrunc(st) => {
            in_range("η₀", st.eta0)?;
            if !(st.d.is_finite() && st.d > 0.0) {
                return Err(bad(
                    "d",
                    st.d,
                    "the shrinkage weight must be finite and > 0",
                ));
            }
            if !(st.c.is_finite() && st.c >= 0.0) {
                return Err(bad(
                    "c",
                    st.c,
                    "the truncation scale must be finite and ≥ 0",
                ));
            }
            if !(st.f.is_finite() && st.f >= 0.0) {
                return Err(bad("f", st.f, "the weight of u must be finite and ≥ 0"));
            }
            if !(st.minsd.is_finite() && st.minsd > 0.0) {
                return Err(bad(
                    "minsd",
                    st.minsd,
                    "the smallest sd must be finite and > 0",
                ));
            }
            if !(st.eps >= 0.0 && st.eps < 1.0) {
                return Err(bad("ε", st.eps, "the cap must be in [0, 1)"));
            }
            Ok(())
        }
    }
}

fn run(x: &[f64], u: f64, population: Option<u64>, t: f64, bet: Bet<'_>) -> Result<Mart, Error> {
    check_common(u, population, t)?;
    for (i, &xi) in x.iter().enumerate() {
        check_draw(xi, u, i + 1)?;
    }
    if let Some(n) = population {
        if x.len() as u64 > n {
            return Err(Error::SampleExceedsPopulation {
                test: TEST,
                draws: x.len(),
                population: n,
            });
        }
    }
    let mut engine = Engine::new(u, population, t, bet);
    let mut out = Mart {
        mu: Vec::with_capacity(x.len()),
        eta: Vec::with_capacity(x.len()),
        t: Vec::with_capacity(x.len()),
        p_value: 1.0,
    };
    for &xi in x {
        let (mu, eta) = engine.step(xi);
        out.mu.push(mu);
        out.eta.push(eta);
        out.t.push(engine.t);
    }
    let max = out.t.iter().copied().fold(0.0, f64::max);
    out.p_value = if out.t.is_empty() {
        1.0
    } else {
        (1.0 / max).min(1.0)
    };
    Ok(out)
}
