//! Known answers of Rivest's 2011 `sampler.py`, as collected in
//! `../shared/research/audits-forensics.md` §4.2 and in
//! `cjerdonek/rivest-sampler-tests: tests.json` (range 1..=`total`, with
//! replacement).

use acta_audit::rivest2011::{draws, pick};
use acta_audit::Error;

#[test]
fn the_published_vectors_hold() {
    for (seed, b, want) in [
        ("1", 1000, [97, 89, 163]),
        ("0", 2, [1, 1, 2]),
        ("0", 1000, [905, 573, 160]),
        // The seed is text: "0000000000" is not "0".
        ("0000000000", 1000, [978, 359, 132]),
        // tests.json's other two cases.
        ("999999999999999999999999", 1000, [544, 800, 654]),
        ("abcde", 1000, [247, 427, 157]),
    ] {
        assert_eq!(draws(seed, 1, b, true, 3).unwrap(), want, "seed {seed:?}");
    }
}

#[test]
fn without_replacement_a_repeat_is_skipped() {
    let seed = "3546311556112163624615351222";
    let got = draws(seed, 1, 876, false, 40).unwrap();
    assert_eq!(&got[..8], &[740, 180, 264, 789, 238, 448, 272, 611]);
    // Pick 32 repeats pick 8 (611) and is skipped: the 32nd value drawn is
    // pick 33.
    assert_eq!(pick(seed, 1, 876, 8), 611);
    assert_eq!(pick(seed, 1, 876, 32), 611);
    assert_eq!(got[30], pick(seed, 1, 876, 31));
    assert_eq!(got[31], pick(seed, 1, 876, 33));
    assert_eq!(got.iter().filter(|&&v| v == 611).count(), 1);
    let with = draws(seed, 1, 876, true, 32).unwrap();
    assert_eq!(with[31], 611, "with replacement the repeat stays");
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), got.len());
}

#[test]
fn the_whole_range_and_its_limits() {
    // Without replacement the whole range comes out, each value once.
    let mut all = draws("dice 4 6 1", 10, 29, false, 20).unwrap();
    all.sort_unstable();
    assert_eq!(all, (10..=29).collect::<Vec<_>>());
    assert!(matches!(
        draws("x", 10, 29, false, 21),
        Err(Error::RangeTooSmall { count: 21, .. })
    ));
    assert!(matches!(
        draws("x", 5, 4, true, 1),
        Err(Error::EmptyRange { a: 5, b: 4 })
    ));
    // A one-value range, and the widest one (2⁶⁴ values) without overflow.
    assert_eq!(draws("x", 7, 7, true, 3).unwrap(), [7, 7, 7]);
    let wide = draws("x", 0, u64::MAX, true, 3).unwrap();
    assert_eq!(wide.len(), 3);
    assert!(draws("x", 0, 0, false, 0).unwrap().is_empty());
}
