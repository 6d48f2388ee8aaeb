//! Known answers of ALPHA (Stark 2023) and the SHANGRLA assorters, as
//! collected in `../shared/research/audits-forensics.md` §1, §2.1 and §3
//! (from SHANGRLA's `tests/core/test_NonnegMean.py`), and the identities
//! the formulas imply.

use acta_audit::risk::alpha::{
    self, betting_mart, kaplan_markov, lambda, mart, sample_size, sjm, Estimator, ShrinkTrunc,
};
use acta_audit::risk::assorter;
use acta_audit::Error;
use proptest::prelude::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

const FIXED: Estimator = Estimator::Fixed { eta0: 0.75 };

/// u = 1, t = 1/2, η = 0.75, N = 1000, α = 5%: all draws 1 → 8
/// (1.5⁸ = 25.6 > 20); all draws 0.75 → 14 (1.25¹⁴ = 22.7).
#[test]
fn sample_sizes_8_and_14() {
    assert_eq!(
        sample_size(0.05, 1.0, 1.0, Some(1000), 0.5, &FIXED, 1000).unwrap(),
        Some(8)
    );
    assert_eq!(
        sample_size(0.05, 0.75, 1.0, Some(1000), 0.5, &FIXED, 1000).unwrap(),
        Some(14)
    );
    // The same from the sequence itself.
    let ones = mart(&[1.0; 20], 1.0, Some(1000), 0.5, &FIXED).unwrap();
    assert_eq!(ones.stop(0.05), Some(8));
    assert!(ones.t[6] < 20.0 && ones.t[7] >= 20.0);
    let threes = mart(&[0.75; 20], 1.0, Some(1000), 0.5, &FIXED).unwrap();
    assert_eq!(threes.stop(0.05), Some(14));
    // With replacement the factors are exactly 1.5 and 1.25.
    let inf = mart(&[1.0; 8], 1.0, None, 0.5, &FIXED).unwrap();
    assert!(close(inf.t[7], 1.5f64.powi(8), 1e-12), "{}", inf.t[7]);
    let inf = mart(&[0.75; 14], 1.0, None, 0.5, &FIXED).unwrap();
    assert!(close(inf.t[13], 1.25f64.powi(14), 1e-12), "{}", inf.t[13]);
    assert!(close(inf.p_value, 1.25f64.powi(-14), 1e-12));
    assert_eq!(
        sample_size(0.05, 1.0, 1.0, None, 0.5, &FIXED, 1000).unwrap(),
        Some(8)
    );
    assert_eq!(
        sample_size(0.05, 0.5, 1.0, None, 0.5, &FIXED, 1000).unwrap(),
        None,
        "draws at the null mean never confirm"
    );
}

/// SHANGRLA's `kaplan_markov([1,1,1,1,1,0], g = 0.1)`, t = 1/2:
/// `p = (1.1/0.6)⁻⁵`, the minimum being after the fifth draw.
#[test]
fn kaplan_markov_of_a_mean() {
    let x = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0];
    let want = (1.1f64 / 0.6).powi(-5);
    let p = kaplan_markov(&x, 0.5, 0.1).unwrap();
    assert!(close(p, want, 1e-12), "{p} vs {want}");
    // It is the betting form with λ = 1/(t + g), with replacement.
    let b = betting_mart(&x, 1.0, None, 0.5, 1.0 / 0.6).unwrap();
    assert!(close(b.p_value, want, 1e-12), "{}", b.p_value);
    assert_eq!(kaplan_markov(&[], 0.5, 0.1).unwrap(), 1.0);
    assert!(kaplan_markov(&[-0.1], 0.5, 0.1).is_err());
    assert!(kaplan_markov(&[1.0], 0.5, -0.1).is_err());
}

/// SHANGRLA's `sjm(5, 1.53, [1, 2, .5, 1, 4])`.
#[test]
fn sjm_vector() {
    let mu = sjm(Some(5), 1.53, &[1.0, 2.0, 0.5, 1.0, 4.0]);
    let want = [1.53, 1.6625, 1.55, 2.075, 3.15];
    assert_eq!(mu.len(), want.len());
    for (m, w) in mu.iter().zip(want) {
        assert!(close(*m, w, 1e-12), "{mu:?}");
    }
    assert_eq!(sjm(None, 0.5, &[1.0, 0.0]), vec![0.5, 0.5]);
}

/// A fixed bet λ with replacement and constant draws x:
/// `p = (1 + λ(x − t))⁻ⁿ`.
#[test]
fn fixed_bet_vector() {
    for (lam, x, n) in [
        (0.5, 0.9, 10),
        (1.0, 0.75, 25),
        (1.9, 0.6, 7),
        (0.25, 1.0, 40),
    ] {
        let b = betting_mart(&vec![x; n], 1.0, None, 0.5, lam).unwrap();
        let want = (1.0 + lam * (x - 0.5)).powi(-(n as i32));
        assert!(
            close(b.p_value, want, 1e-12),
            "λ={lam} x={x}: {}",
            b.p_value
        );
    }
    // A bet above 1/μ is capped there: all in, never below 0.
    let b = betting_mart(&[0.0, 1.0], 1.0, None, 0.5, 5.0).unwrap();
    assert_eq!(b.t, vec![0.0, 0.0]);
}

/// §3: an all-in bet on the overstatement assorter of a comparison audit
/// (`η = u`) with no discrepancies needs `⌈ln(1/α)/ln(2/(2 − μ))⌉ = 119`
/// cards at μ = α = 5%.
#[test]
fn an_all_in_bet_needs_119_at_five_percent() {
    let v = 0.05;
    let u = assorter::overstatement_upper(1.0, v);
    let x = assorter::overstatement(0.0, 1.0, v);
    let est = Estimator::Fixed { eta0: u };
    assert_eq!(
        sample_size(0.05, x, u, None, 0.5, &est, 10_000).unwrap(),
        Some(119)
    );
}

#[test]
fn the_guards() {
    // N·t = 1: the second draw makes the sample total 2 > 1, so the null
    // is impossible (∞, p = 0); before it μ₂ = 0 ≈ 0 makes a factor of 1.
    let m = mart(&[1.0, 1.0], 1.0, Some(5), 0.2, &FIXED).unwrap();
    assert_eq!(m.mu[1], 0.0);
    assert!(m.t[1].is_infinite());
    assert_eq!(m.p_value, 0.0);
    // A total of exactly N·t is not enough.
    let m = mart(&[1.0, 0.0], 1.0, Some(5), 0.2, &FIXED).unwrap();
    assert!(m.t[1].is_finite());
    // N·t = 2 with N = 4 and draws of 0: μ₃ = 1 = u (factor 1), μ₄ = 2 > u
    // (factor 0: the null mean t is out of reach, the test gives up).
    let est = Estimator::Fixed { eta0: 0.6 };
    let m = mart(&[0.0, 0.0, 0.0, 0.0], 1.0, Some(4), 0.5, &est).unwrap();
    assert_eq!(m.mu, vec![0.5, 2.0 / 3.0, 1.0, 2.0]);
    // Factors (1 − η)/(1 − μ): 0.4/0.5, then 0.2/(1/3); then 1, then 0.
    assert!(close(m.t[0], 0.8, 1e-15) && close(m.t[1], 0.48, 1e-15));
    assert_eq!(m.t[2], m.t[1]);
    assert_eq!(m.t[3], 0.0);
    assert_eq!(m.p_value, 1.0);
    // Once ∞, always ∞; and no draws is p = 1.
    let m = mart(&[1.0, 1.0, 0.0], 1.0, Some(3), 0.5, &FIXED).unwrap();
    assert!(m.t[1].is_infinite() && m.t[2].is_infinite());
    assert_eq!(mart(&[], 1.0, None, 0.5, &FIXED).unwrap().p_value, 1.0);
}

#[test]
fn shrink_trunc_follows_its_formula() {
    let st = ShrinkTrunc::default_for(1.0, 0.5);
    assert_eq!(
        (st.eta0, st.d, st.c, st.f),
        (0.75, 100.0, 0.125, 0.0),
        "defaults"
    );
    let x = [1.0, 0.0, 1.0, 1.0, 0.5, 1.0];
    let m = mart(&x, 1.0, None, 0.5, &Estimator::ShrinkTrunc(st)).unwrap();
    let mut s = 0.0;
    let mut t = 1.0;
    for (i, &xi) in x.iter().enumerate() {
        let j = i as f64 + 1.0;
        let eta = ((100.0 * 0.75 + s) / (100.0 + j - 1.0))
            .max(0.5 + 0.125 / (100.0 + j - 1.0).sqrt())
            .min(1.0 - f64::EPSILON);
        assert!(close(m.eta[i], eta, 1e-14), "η_{j}");
        t *= xi * eta / 0.5 + (1.0 - xi) * (1.0 - eta) / 0.5;
        assert!(close(m.t[i], t, 1e-12), "T_{j}");
        s += xi;
    }
    // With f > 0 the estimate is pulled towards u by 1/sd: a sample with
    // no spread (sd = minsd) bets nearly all in; the cap keeps η < u.
    let pulled = ShrinkTrunc { f: 0.1, ..st };
    let m = mart(&[0.9; 5], 1.0, None, 0.5, &Estimator::ShrinkTrunc(pulled)).unwrap();
    assert!(m.eta[0] < m.eta[4] && m.eta[4] < 1.0, "{:?}", m.eta);
    assert!(m.eta[4] > 0.999, "{:?}", m.eta);
    // Without replacement the floor follows μ_j.
    let m = mart(&[0.0; 10], 1.0, Some(12), 0.5, &Estimator::ShrinkTrunc(st)).unwrap();
    for (eta, mu) in m.eta.iter().zip(&m.mu) {
        assert!(*eta > *mu || *mu >= 1.0, "η {eta} μ {mu}");
    }
}

#[test]
fn bad_inputs_are_refused_with_where() {
    let e = mart(&[0.5, 1.5], 1.0, None, 0.5, &FIXED).unwrap_err();
    assert!(matches!(e, Error::DrawOutOfRange { index: 2, .. }), "{e}");
    assert!(e.to_string().contains("draw 2"), "{e}");
    assert!(matches!(
        mart(&[0.5; 3], 1.0, Some(2), 0.5, &FIXED),
        Err(Error::SampleExceedsPopulation {
            draws: 3,
            population: 2,
            ..
        })
    ));
    assert!(mart(&[0.5], 1.0, None, 1.0, &FIXED).is_err(), "t = u");
    assert!(mart(&[0.5], 0.0, None, 0.5, &FIXED).is_err(), "u = 0");
    assert!(mart(&[f64::NAN], 1.0, None, 0.5, &FIXED).is_err());
    assert!(mart(&[0.5], 1.0, None, 0.5, &Estimator::Fixed { eta0: 1.5 }).is_err());
    assert!(betting_mart(&[0.5], 1.0, None, 0.5, -1.0).is_err());
    assert!(sample_size(1.0, 1.0, 1.0, None, 0.5, &FIXED, 10).is_err());
    let bad_st = ShrinkTrunc {
        d: 0.0,
        ..ShrinkTrunc::default_for(1.0, 0.5)
    };
    let e = mart(&[0.5], 1.0, None, 0.5, &Estimator::ShrinkTrunc(bad_st)).unwrap_err();
    assert!(e.to_string().starts_with("ALPHA: d = 0"), "{e}");
}

#[test]
fn assorters() {
    use assorter::*;
    assert_eq!(plurality(true, false), 1.0);
    assert_eq!(plurality(false, true), 0.0);
    assert_eq!(plurality(false, false), 0.5);
    assert_eq!(plurality(true, true), 0.5);
    // 60 cards for w, 40 for l: the plurality assorter's margin is the
    // diluted margin, 0.2.
    let cards: Vec<f64> = (0..100).map(|i| plurality(i < 60, i >= 60)).collect();
    assert!(close(margin(&cards), 0.2, 1e-12));
    // Supermajority f = 2/3: 100 cards, 90 with one valid vote of which 63
    // for w, 10 blank or invalid. Margin q(p/f − 1) = 0.9(0.7/(2/3) − 1).
    let f = 2.0 / 3.0;
    let cards: Vec<f64> = (0..100)
        .map(|i| supermajority(f, i < 63, if i < 90 { 1 } else { 0 }))
        .collect();
    let want = supermajority_margin(f, 0.9, 0.7);
    assert!(close(want, 0.045, 1e-12));
    assert!(close(margin(&cards), want, 1e-12), "{}", margin(&cards));
    assert!(cards
        .iter()
        .all(|&a| (0.0..=supermajority_upper(f)).contains(&a)));
    // Overstatement assorter, plurality (u = 1), v = 0.2.
    let v = 0.2;
    assert!(close(overstatement(0.0, 1.0, v), 1.0 / 1.8, 1e-15));
    assert!(close(overstatement(0.5, 1.0, v), 0.5 / 1.8, 1e-15));
    assert_eq!(overstatement(1.0, 1.0, v), 0.0);
    assert!(close(
        overstatement(-1.0, 1.0, v),
        overstatement_upper(1.0, v),
        1e-15
    ));
    // A one-vote overstatement: the CVR shows w, the card is blank.
    assert_eq!(
        overstatement_of(plurality(true, false), plurality(false, false), 1.0, v),
        overstatement(0.5, 1.0, v)
    );
    // A general u: B = (1 − ω/u)/(2 − v/u).
    assert!(close(
        overstatement(0.3, 1.5, 0.1),
        0.8 / (2.0 - 0.1 / 1.5),
        1e-15
    ));
}

#[test]
fn a_prefix_gives_the_same_sequence() {
    let x = [0.9, 0.1, 1.0, 0.75, 0.6, 0.0, 1.0];
    let est = Estimator::ShrinkTrunc(ShrinkTrunc::default_for(1.0, 0.5));
    let all = mart(&x, 1.0, Some(50), 0.5, &est).unwrap();
    for k in 0..x.len() {
        let part = mart(&x[..k], 1.0, Some(50), 0.5, &est).unwrap();
        assert_eq!(&part.t[..], &all.t[..k]);
    }
}

proptest! {
    /// With replacement and a fixed η, ALPHA is the betting form with
    /// `λ = (η/μ − 1)/(u − μ)`.
    #[test]
    fn alpha_is_the_betting_form(
        x in proptest::collection::vec(0.0f64..=2.0, 0..40),
        eta in 1.0f64..=2.0,
    ) {
        let (u, t) = (2.0, 1.0);
        let a = mart(&x, u, None, t, &Estimator::Fixed { eta0: eta }).unwrap();
        let b = betting_mart(&x, u, None, t, lambda(eta, t, u)).unwrap();
        for (p, q) in a.t.iter().zip(&b.t) {
            prop_assert!(close(*p, *q, 1e-9), "{p} {q}");
        }
        prop_assert!(close(a.p_value, b.p_value, 1e-9));
    }

    /// `T` never goes negative, the p-value is in [0, 1], and under
    /// sampling without replacement μ_j is the null mean of the rest.
    #[test]
    fn the_sequence_is_a_nonnegative_process(
        x in proptest::collection::vec(0.0f64..=1.0, 1..60),
        extra in 0u64..100,
    ) {
        let n = x.len() as u64 + extra;
        let est = Estimator::ShrinkTrunc(ShrinkTrunc::default_for(1.0, 0.5));
        let m = mart(&x, 1.0, Some(n), 0.5, &est).unwrap();
        prop_assert!(m.t.iter().all(|t| *t >= 0.0));
        prop_assert!((0.0..=1.0).contains(&m.p_value));
        prop_assert_eq!(&m.mu, &sjm(Some(n), 0.5, &x));
        let fixed = mart(&x, 1.0, Some(n), 0.5, &FIXED).unwrap();
        prop_assert!(fixed.t.iter().all(|t| *t >= 0.0));
    }
}

#[test]
fn alpha_module_is_reachable() {
    // `risk::alpha::lambda` at the null mean 1/2 with η = 0.75, u = 1.
    assert!(close(alpha::lambda(0.75, 0.5, 1.0), 1.0, 1e-15));
}
