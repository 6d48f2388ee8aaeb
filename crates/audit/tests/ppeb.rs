//! PPEB as `docs/ppeb.md` specifies it: the worked example of the document
//! (cross-checked with an independent script written from the
//! specification), exactness of the scaling, the prefix property, the
//! frequencies, and the refusals.

use acta_audit::ppeb::{cumulative, draws, scale, ticket};
use acta_audit::{seed_hash, Error};
use proptest::prelude::*;

const SEED: &str = "81552 40667 09124 37715";

fn example() -> Vec<(String, u64)> {
    [
        ("01-001-01", 30),
        ("01-001-02", 0),
        ("01-002-01", 125),
        ("02-001-01", 45),
    ]
    .map(|(id, w)| (id.to_string(), w))
    .to_vec()
}

/// The worked example of `docs/ppeb.md`.
#[test]
fn the_worked_example() {
    let sh = seed_hash(SEED);
    assert_eq!(
        sh,
        "7d94df78fdc9ab5d3c2139e58d93bd50e016089baa350bf85d8269b083dc4299"
    );
    assert_eq!(
        ticket(&sh, "president", 1),
        "0.09653017954097194454999375683108589003526091123296374206998992197066801321156"
    );
    let got = draws(SEED, "president", &example(), 0, 8).unwrap();
    let want = [
        ("0.09653017954", 19, "01-001-01"),
        ("0.61730765870", 123, "01-002-01"),
        ("0.23151730616", 46, "01-002-01"),
        ("0.79006347542", 158, "02-001-01"),
        ("0.84083664841", 168, "02-001-01"),
        ("0.25781964816", 51, "01-002-01"),
        // r = 30 is the first cumulative weight itself: not above it, nor
        // above the weight-0 table's (also 30); the next table is drawn.
        ("0.15092093311", 30, "01-002-01"),
        ("0.47452284472", 94, "01-002-01"),
    ];
    for (d, (j, (prefix, r, id))) in got.iter().zip(want.iter().enumerate()) {
        assert_eq!(d.index, j as u64 + 1);
        assert!(
            d.ticket.starts_with(prefix),
            "draw {}: {}",
            d.index,
            d.ticket
        );
        assert_eq!(d.ticket, ticket(&sh, "president", d.index));
        assert_eq!(scale(&d.ticket, 200), *r, "draw {}", d.index);
        assert_eq!(d.id, *id, "draw {}", d.index);
    }
    assert_eq!(cumulative(&example()).unwrap(), vec![30, 30, 155, 200]);
}

#[test]
fn later_rounds_continue_the_stream() {
    let w = example();
    let all = draws(SEED, "president", &w, 0, 30).unwrap();
    for (a, b) in [(0, 30), (5, 25), (12, 7), (29, 1), (30, 0)] {
        let part = draws(SEED, "president", &w, a, b).unwrap();
        assert_eq!(&all[a as usize..(a + b) as usize], &part[..], "{a}+{b}");
    }
    // Another stream (contest) under the same seed draws independently.
    let other = draws(SEED, "senate-01", &w, 0, 30).unwrap();
    assert_ne!(
        all.iter().map(|d| &d.ticket).collect::<Vec<_>>(),
        other.iter().map(|d| &d.ticket).collect::<Vec<_>>()
    );
}

/// Chi-square of 20,000 draws against weight/W (5 degrees of freedom: six
/// ids with weight; the 99.99 % point of χ²₅ is 25.7, the bound 30).
/// Deterministic: the seed is fixed.
#[test]
fn frequencies_follow_the_weights() {
    let weights: Vec<(String, u64)> = [
        ("a", 1),
        ("b", 2),
        ("c", 3),
        ("d", 0),
        ("e", 10),
        ("f", 34),
        ("g", 50),
    ]
    .map(|(id, w)| (id.to_string(), w))
    .to_vec();
    let n = 20_000u64;
    let got = draws("2026-07-28 dice 6 2 5 1 3 3 4", "c1", &weights, 0, n).unwrap();
    let total: u64 = weights.iter().map(|(_, w)| w).sum();
    let mut chi2 = 0.0;
    for (id, w) in &weights {
        let count = got.iter().filter(|d| &d.id == id).count() as f64;
        if *w == 0 {
            assert_eq!(count, 0.0, "a weight-0 id is never drawn");
            continue;
        }
        let expected = n as f64 * *w as f64 / total as f64;
        chi2 += (count - expected).powi(2) / expected;
    }
    assert!(chi2 < 30.0, "χ² = {chi2}");
}

/// Weights near the top of u64: W = 2⁶⁴ − 2, two halves and one vote.
#[test]
fn huge_weights_are_exact() {
    let half = u64::MAX / 2;
    let weights = vec![
        ("a".to_string(), half),
        ("b".to_string(), 1),
        ("c".to_string(), half),
    ];
    assert_eq!(
        *cumulative(&weights).unwrap().last().unwrap(),
        u64::MAX,
        "2·(2⁶³ − 1) + 1"
    );
    let got = draws("x", "s", &weights, 0, 4000).unwrap();
    let a = got.iter().filter(|d| d.id == "a").count() as f64;
    assert!((a / 4000.0 - 0.5).abs() < 0.03, "{a}");
    assert!(got.iter().all(|d| d.id != "b"), "1 in 2⁶⁴");
}

#[test]
fn scale_edges() {
    let nines = format!("0.{}", "9".repeat(78));
    assert_eq!(scale(&nines, u64::MAX), u64::MAX - 1);
    assert_eq!(scale(&nines, 1), 0);
    assert_eq!(scale("0.0", u64::MAX), 0);
    assert_eq!(scale("0.5", 3), 1);
    assert_eq!(scale("0.5", 2), 1);
    assert_eq!(scale("0.49999", 2), 0);
    assert_eq!(scale("0.25", 4), 1);
    assert_eq!(scale("0.7", 0), 0);
}

#[test]
fn refusals_say_what_and_where() {
    let mut w = example();
    w.swap(1, 2);
    let e = draws(SEED, "president", &w, 0, 1).unwrap_err();
    assert!(
        matches!(&e, Error::UnorderedId { line: 3, id, .. } if id == "01-001-02"),
        "{e}"
    );
    assert!(e.to_string().contains("line 3"), "{e}");
    let mut w = example();
    w[1].0 = w[0].0.clone();
    assert!(matches!(
        draws(SEED, "president", &w, 0, 1),
        Err(Error::UnorderedId { line: 2, .. })
    ));
    let w = vec![
        ("a".to_string(), u64::MAX),
        ("b".to_string(), 0),
        ("c".to_string(), 1),
    ];
    let e = draws(SEED, "p", &w, 0, 1).unwrap_err();
    assert!(
        matches!(&e, Error::WeightOverflow { line: 3, id, weight: 1 } if id == "c"),
        "{e}"
    );
    let zero = vec![("a".to_string(), 0), ("b".to_string(), 0)];
    assert!(matches!(
        draws(SEED, "p", &zero, 0, 1),
        Err(Error::NoWeight { ids: 2 })
    ));
    assert!(matches!(
        draws(SEED, "p", &[], 0, 1),
        Err(Error::NoWeight { ids: 0 })
    ));
    for bad in ["", "a b", "día", "tab\there", "line\n"] {
        assert!(
            matches!(draws(SEED, bad, &example(), 0, 1), Err(Error::BadStream(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        draws(SEED, "p", &example(), u64::MAX, 1),
        Err(Error::DrawNumberOverflow { .. })
    ));
    assert!(draws(SEED, "p", &example(), u64::MAX - 1, 1).is_ok());
    assert!(draws(SEED, "p", &example(), 7, 0).unwrap().is_empty());
}

proptest! {
    /// `scale(x, w) = ⌊D·w/10^L⌋` is below `w`; it lies between the values
    /// computed exactly (u128) from the first 19 digits and from those plus
    /// one unit, and for `w < 2⁴⁰` within 1 of the float estimate.
    #[test]
    fn scale_is_exact(digits in "[0-9]{1,90}", w in any::<u64>(), small in 1u64..(1 << 40)) {
        let t = format!("0.{digits}");
        let r = scale(&t, w);
        if w == 0 {
            prop_assert_eq!(r, 0);
        } else {
            prop_assert!(r < w);
        }
        let k = digits.len().min(19);
        let head: u128 = digits[..k].parse().unwrap();
        let ten_k = 10u128.pow(k as u32);
        let low = head * u128::from(w) / ten_k;
        let high = ((head + 1) * u128::from(w)).div_ceil(ten_k);
        prop_assert!(low <= u128::from(r) && u128::from(r) <= high, "{low} {r} {high}");
        if digits.len() <= 19 {
            prop_assert_eq!(u128::from(r), low);
        }
        let x: f64 = t.parse().unwrap();
        let approx = x * small as f64;
        let rs = scale(&t, small);
        prop_assert!((rs as f64 - approx).abs() <= 1.0, "{rs} vs {approx}");
        prop_assert!(rs < small);
    }

    /// The binary search draws what a scan of the cumulative weights would,
    /// and a weight-0 id is never drawn.
    #[test]
    fn draws_are_the_first_cumulative_above(
        ws in proptest::collection::vec(0u64..1000, 1..20),
        seed in "[0-9]{4,12}",
    ) {
        prop_assume!(ws.iter().any(|&w| w > 0));
        let weighted: Vec<(String, u64)> =
            ws.iter().enumerate().map(|(i, &w)| (format!("t{i:03}"), w)).collect();
        let cum = cumulative(&weighted).unwrap();
        let total = *cum.last().unwrap();
        for d in draws(&seed, "c", &weighted, 3, 20).unwrap() {
            let r = scale(&d.ticket, total);
            let k = cum.iter().position(|&c| c > r).unwrap();
            prop_assert_eq!(&d.id, &weighted[k].0);
            prop_assert!(weighted[k].1 > 0);
        }
    }
}
