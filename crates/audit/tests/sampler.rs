//! Known answers of Rivest's consistent sampler, from the reference
//! implementation (`ron-rivest/consistent_sampler`) and Arlo's snapshot
//! tests, as collected in `../shared/research/audits-forensics.md` §4.1.

use acta_audit::{
    first_ticket, next_ticket, parse_ids, print_ticket, sample, seed_hash, sha256_uniform,
};
use proptest::prelude::*;

#[test]
fn uniforms_and_tickets_match_the_reference() {
    assert_eq!(
        sha256_uniform("abc"),
        "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"
    );
    assert_eq!(
        first_ticket(&seed_hash("01382438112797316654"), "AB-130"),
        "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
    );
    assert_eq!(
        next_ticket("0.25471"),
        "0.642853261655004694691182528114375607701032283189922170593838029306715548381901"
    );
}

/// The reference's doctests (`pkg/consistent_sampler/consistent_sampler.py`).
#[test]
fn the_reference_doctests_hold() {
    let ab130 = "0.26299714122838008416507544297546663599715395525154425586041245287750224561854";
    assert_eq!(
        next_ticket(ab130),
        "0.8232357229934205790595761924514048157652891124687533667363938813600770093316"
    );
    let sh = seed_hash("xy()134!g2n");
    for (id, ticket) in [
        (
            "cat",
            "0.24866413894129579898796850445568128508290132707747976039848637531569373309555",
        ),
        (
            "dog",
            "0.33886035615681875183111698317327684455682722683976874746986356932751818935066",
        ),
        (
            "fish",
            "0.74685932088827950509145941729789143204056041958068799542050396198792954500593",
        ),
        (
            "goat",
            "0.49599842072022713663423753308080171636735689997237236247068925068573448764387",
        ),
    ] {
        assert_eq!(first_ticket(&sh, id), ticket, "{id}");
    }
    assert_eq!(print_ticket("0.9991234567890", 4), "0.9991234");
}

#[test]
fn a_sample_without_replacement_matches_the_reference() {
    let ids: Vec<String> = ["ab-1", "ab-2", "cd-1", "ef-3"].map(String::from).to_vec();
    let s = sample("314159", &ids, false, 0, 10).unwrap();
    let got: Vec<(String, &str)> = s
        .iter()
        .map(|d| (print_ticket(&d.ticket, 9), d.id.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("0.317685817".to_string(), "cd-1"),
            ("0.832984519".to_string(), "ef-3"),
            ("0.9098039269".to_string(), "ab-1"),
            ("0.9231549043".to_string(), "ab-2"),
        ]
    );
    assert!(s.iter().all(|d| d.generation == 1));
}

/// Arlo's snapshot: 4 batches × 25 ballots, with replacement, 18 digits.
#[test]
fn a_sample_with_replacement_matches_arlos_snapshot() {
    let ids: Vec<String> = (1..=4)
        .flat_map(|p| (1..=25).map(move |b| format!("('pct {p}', {b})")))
        .collect();
    let seed = "12345678901234567890abcdefghijklmnopqrstuvwxyz😊";
    let s = sample(seed, &ids, true, 0, 11).unwrap();
    let first: Vec<(String, &str)> = s[..5]
        .iter()
        .map(|d| (print_ticket(&d.ticket, 18), d.id.as_str()))
        .collect();
    assert_eq!(
        first,
        vec![
            ("0.000617786129909912".to_string(), "('pct 2', 3)"),
            ("0.002991631653037245".to_string(), "('pct 3', 24)"),
            ("0.012057030610635061".to_string(), "('pct 1', 25)"),
            ("0.017930028930651931".to_string(), "('pct 4', 19)"),
            ("0.025599454926985137".to_string(), "('pct 3', 15)"),
        ]
    );
    assert_eq!(s[10].id, "('pct 1', 20)");
    assert_eq!(s[10].generation, 2);
    assert_eq!(print_ticket(&s[10].ticket, 18), "0.096136506157297637");
}

#[test]
fn a_sample_expands_consistently_and_ids_are_checked() {
    let ids: Vec<String> = (0..50).map(|i| format!("01.001.01.{i:04}.01")).collect();
    let whole = sample("2026", &ids, false, 0, 20).unwrap();
    let next = sample("2026", &ids, false, 10, 10).unwrap();
    assert_eq!(
        &whole[10..],
        &next[..],
        "a second round continues the first"
    );
    assert!(parse_ids("a\na\n").is_err());
    assert!(parse_ids("a\n\nb\n")
        .unwrap_err()
        .to_string()
        .starts_with("line 2:"));
    assert!(parse_ids(" a\n").is_err());
}

proptest! {
    /// Any text is refused or parsed into one id per line, each canonical.
    #[test]
    fn id_lists_are_refused_or_exact(text in "[ -~\\n]{0,80}") {
        if let Ok(ids) = parse_ids(&text) {
            prop_assert_eq!(ids.len(), text.lines().count());
            for (id, line) in ids.iter().zip(text.lines()) {
                prop_assert_eq!(id.as_str(), line);
                prop_assert!(!id.is_empty() && id.trim() == id);
            }
        }
    }

    /// Tickets sort the ids the same way whatever order they are given in,
    /// and with replacement every draw's ticket is above the one before.
    #[test]
    fn order_given_does_not_matter(seed in "[0-9]{6,20}", n in 1usize..30) {
        let ids: Vec<String> = (0..n).map(|i| format!("T{i}")).collect();
        let mut rev = ids.clone();
        rev.reverse();
        let a = sample(&seed, &ids, true, 0, 2 * n).unwrap();
        let b = sample(&seed, &rev, true, 0, 2 * n).unwrap();
        prop_assert_eq!(&a, &b);
        for w in a.windows(2) {
            prop_assert!(w[0].ticket < w[1].ticket);
        }
    }
}
