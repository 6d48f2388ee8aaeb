//! Small exact statistics the screens share: medians and one-sided spreads,
//! binomial tails, Monte Carlo p-values and quantiles, and the seeded
//! generator every simulated null draws from (so anyone re-running a screen
//! on the same figures gets the same numbers).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

/// A generator for one stream of one screen: `seed` is the screen's
/// options, `stream` tells replicates and screens apart.
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// A draw from Binomial(n, p); `p` outside [0, 1] is clamped.
pub(crate) fn binomial(r: &mut ChaCha8Rng, n: u32, p: f64) -> u32 {
    let p = if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    };
    if n == 0 || p == 0.0 {
        return 0;
    }
    if p == 1.0 {
        return n;
    }
    Binomial::new(u64::from(n), p)
        .map(|b| b.sample(r) as u32)
        .unwrap_or(0)
}

/// The median of `v` (NaN-free), or 0 for an empty slice.
pub(crate) fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// The `q` quantile of an ascending slice (nearest rank), 0 if empty.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// The mean and standard deviation of the normal distribution whose 10 %
/// and 30 % quantiles are those of `v`: read from the left side only,
/// which ballot stuffing (it moves tables right) leaves nearly clean — a
/// share `f` of tables moved right shifts these quantiles to the fair
/// ones at `p / (1 − f)`, about a tenth of a standard deviation when
/// `f = 0.1`.
pub(crate) fn left_normal(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let (q10, q30) = (quantile(&s, 0.10), quantile(&s, 0.30));
    // Φ⁻¹(0.10) = −1.28155, Φ⁻¹(0.30) = −0.52440.
    let sd = ((q30 - q10) / (1.28155 - 0.52440)).max(0.005);
    (q30 + 0.52440 * sd, sd)
}

/// `ln k!` for `k` up to a bound, by running sums.
pub(crate) struct LnFactorial(Vec<f64>);

impl LnFactorial {
    pub(crate) fn new(max: u32) -> LnFactorial {
        let mut t = Vec::with_capacity(max as usize + 1);
        t.push(0.0);
        let mut acc = 0.0;
        for k in 1..=max {
            acc += f64::from(k).ln();
            t.push(acc);
        }
        LnFactorial(t)
    }

    pub(crate) fn ln_choose(&self, n: u32, k: u32) -> f64 {
        let (n, k) = (n as usize, k as usize);
        self.0[n] - self.0[k] - self.0[n - k]
    }

    fn ln_pmf(&self, n: u32, k: u32, p: f64) -> f64 {
        self.ln_choose(n, k) + f64::from(k) * p.ln() + f64::from(n - k) * (1.0 - p).ln()
    }

    /// P(X ≥ k) for X ~ Binomial(n, p), summed exactly in log space.
    pub(crate) fn upper_tail(&self, n: u32, k: u32, p: f64) -> f64 {
        if k == 0 {
            return 1.0;
        }
        if k > n {
            return 0.0;
        }
        if p <= 0.0 {
            return 0.0;
        }
        if p >= 1.0 {
            return 1.0;
        }
        let terms: Vec<f64> = (k..=n).map(|j| self.ln_pmf(n, j, p)).collect();
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln())
            .exp()
            .min(1.0)
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine coefficients; relative
/// error below 1e-13, Press et al., Numerical Recipes §6.1).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let a = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |a, (i, g)| a + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// P(X ≥ k) for X ~ Beta-Binomial(n, mean `p`, intra-class correlation
/// `rho`): a binomial whose rate varies from table to table with that
/// spread; `rho = 0` is the binomial.
pub(crate) fn beta_binomial_upper(f: &LnFactorial, n: u32, k: u32, p: f64, rho: f64) -> f64 {
    if rho <= 0.0 {
        return f.upper_tail(n, k, p);
    }
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    let s = 1.0 / rho - 1.0;
    let (a, b) = (p * s, (1.0 - p) * s);
    let base = ln_beta(a, b);
    let terms: Vec<f64> = (k..=n)
        .map(|j| f.ln_choose(n, j) + ln_beta(f64::from(j) + a, f64::from(n - j) + b) - base)
        .collect();
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln())
        .exp()
        .min(1.0)
}

/// The Monte Carlo p-value of `observed` against `null` draws, upper tail:
/// `(1 + #{null ≥ observed}) / (1 + draws)`, never zero (Davison & Hinkley
/// 1997, §4.2).
pub(crate) fn p_upper(observed: f64, null: &[f64]) -> f64 {
    let k = null.iter().filter(|&&x| x >= observed - 1e-12).count();
    (1 + k) as f64 / (1 + null.len()) as f64
}

/// Two-sided: twice the smaller tail, capped at 1.
pub(crate) fn p_two_sided(observed: f64, null: &[f64]) -> f64 {
    let hi = null.iter().filter(|&&x| x >= observed - 1e-12).count();
    let lo = null.iter().filter(|&&x| x <= observed + 1e-12).count();
    (2.0 * (1 + hi.min(lo)) as f64 / (1 + null.len()) as f64).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_tail_matches_closed_forms() {
        let f = LnFactorial::new(100);
        // P(X ≥ 1) = 1 − (1−p)^n.
        let p = 0.03;
        assert!((f.upper_tail(50, 1, p) - (1.0 - (1.0f64 - p).powi(50))).abs() < 1e-12);
        // P(X ≥ n) = p^n.
        assert!((f.upper_tail(10, 10, 0.5) - 0.5f64.powi(10)).abs() < 1e-15);
        // Symmetry at p = ½: P(X ≥ 6) for n = 10 is 386/1024.
        assert!((f.upper_tail(10, 6, 0.5) - 386.0 / 1024.0).abs() < 1e-12);
        assert_eq!(f.upper_tail(10, 0, 0.2), 1.0);
        assert_eq!(f.upper_tail(10, 11, 0.2), 0.0);
    }

    #[test]
    fn ln_gamma_and_the_beta_binomial_tail() {
        // Γ(n) = (n − 1)!, Γ(½) = √π.
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-10);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        assert!((ln_gamma(0.1) - 2.252_712_651_734_206).abs() < 1e-10);
        let f = LnFactorial::new(50);
        // ρ → 0 is the binomial.
        let b = f.upper_tail(40, 7, 0.1);
        assert!((beta_binomial_upper(&f, 40, 7, 0.1, 1e-9) - b).abs() < 1e-6);
        // With a = b = 1 (mean ½, ρ = ⅓) every count is equally likely:
        // P(X ≥ k) = (n − k + 1) / (n + 1).
        let p = beta_binomial_upper(&f, 10, 4, 0.5, 1.0 / 3.0);
        assert!((p - 7.0 / 11.0).abs() < 1e-10, "{p}");
        // Overdispersion fattens the tail.
        let far = f.upper_tail(40, 12, 0.1);
        assert!(beta_binomial_upper(&f, 40, 12, 0.1, 0.05) > 10.0 * far);
    }

    #[test]
    fn mc_p_values_are_never_zero_and_count_ties() {
        let null = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(p_upper(10.0, &null), 0.2);
        assert_eq!(p_upper(3.0, &null), 0.6);
        assert_eq!(p_two_sided(2.5, &null), 1.0);
        assert_eq!(p_two_sided(0.0, &null), 0.4);
    }

    #[test]
    fn the_left_side_ignores_a_right_hand_spike() {
        let mut r = rng(7, 0);
        let mut v: Vec<f64> = (0..20_000)
            .map(|_| {
                let z: f64 = rand_distr::StandardNormal.sample(&mut r);
                (0.6 + 0.05 * z).clamp(0.0, 1.0)
            })
            .collect();
        // A tenth of the tables moved right shifts the estimate by about a
        // tenth of a standard deviation (0.005 here), as documented.
        v.extend(std::iter::repeat_n(0.995, 1_500));
        v.extend(std::iter::repeat_n(0.8, 500));
        let (m, s) = left_normal(&v);
        assert!((m - 0.6).abs() < 0.008, "mean {m}");
        assert!((s - 0.05).abs() < 0.005, "sd {s}");
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.0);
    }
}
