//! Property tests: whatever figures reach the screens — consistent with
//! each other or not (ballots above registered, votes that do not add up),
//! with or without a day — they never panic, every screen reports once,
//! and every flag names a table that was given.

use acta_forensics::{screen, Day, Held, Input, Options, Screen, Table};
use proptest::prelude::*;

fn table() -> impl Strategy<Value = Table> {
    (
        1u32..2_000,
        0u32..2_100,
        0u32..2_100,
        0u32..50,
        proptest::collection::vec(0u32..800, 3),
        0u32..30,
        0u32..30,
        proptest::option::of(proptest::collection::vec(0u32..200, 1..14)),
        0u8..4,
    )
        .prop_map(
            |(registered, authenticated, ballots, overrides, votes, blank, null, hours, region)| {
                let day = hours.map(|hourly| Day {
                    closing_hour: *hourly.last().unwrap(),
                    ballots: hourly.iter().sum(),
                    hourly,
                });
                Table {
                    id: String::new(),
                    region: format!("R{region}"),
                    registered,
                    authenticated,
                    ballots,
                    overrides,
                    votes,
                    blank,
                    null,
                    day,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn screens_never_panic_and_flag_only_given_tables(
        mut tables in proptest::collection::vec(table(), 20..80),
        held in proptest::collection::vec("[a-z]{1,8}", 0..3),
    ) {
        for (i, t) in tables.iter_mut().enumerate() {
            t.id = format!("T{i:03}");
        }
        let input = Input {
            contest: "PRES".into(),
            choices: vec!["A".into(), "B".into(), "C".into()],
            tables,
            held: held.iter().map(|h| Held { table: h.clone(), reasons: vec!["why".into()] }).collect(),
            bad_journals: Vec::new(),
        };
        let opts = Options { replicates: acta_forensics::MIN_REPLICATES, ..Options::default() };
        match screen(&input, &opts) {
            Ok(r) => {
                prop_assert_eq!(r.findings.len(), Screen::ALL.len());
                for (f, s) in r.findings.iter().zip(Screen::ALL) {
                    prop_assert_eq!(f.screen, s);
                }
                for f in &r.flags {
                    prop_assert!(
                        input.tables.iter().any(|t| t.id == f.table) || held.contains(&f.table),
                        "flag for an unknown table {}", f.table
                    );
                }
                prop_assert!(r.headline.ends_with(acta_forensics::CAVEAT));
            }
            Err(acta_forensics::Error::TooFew(n)) => prop_assert!(n < acta_forensics::MIN_TABLES),
            Err(e) => prop_assert!(false, "{}", e),
        }
    }

    #[test]
    fn a_day_holds_every_ballot_once(
        opened in 0u64..1_000_000,
        length in 0u64..400_000,
        offsets in proptest::collection::vec(0u64..500_000, 0..300),
    ) {
        let closed = opened + length;
        let d = Day::from_times(opened, closed, offsets.iter().map(|o| opened + o));
        prop_assert_eq!(d.ballots as usize, offsets.len());
        prop_assert_eq!(d.hourly.iter().sum::<u32>(), d.ballots);
        prop_assert!(d.closing_hour <= d.ballots);
        prop_assert!(!d.hourly.is_empty() && d.hourly.len() <= acta_forensics::day::MOST_HOURS);
    }
}
