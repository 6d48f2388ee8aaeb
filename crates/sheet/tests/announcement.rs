//! `acta-announcement/v1`: one spelling per announcement, checked against
//! the package it claims to be about.

use acta_sheet::{Announcement, Tally};
use acta_tlog::Checkpoint;
use proptest::prelude::*;
use std::sync::OnceLock;

fn ceremony() -> &'static acta_synth::Ceremony {
    static G: OnceLock<acta_synth::Ceremony> = OnceLock::new();
    G.get_or_init(|| {
        acta_synth::ceremony::run(&acta_synth::generate::Options { seed: 3, tables: 8 })
    })
}

/// An announcement of the package's contests with votes drawn from `seed`.
fn announcement(seed: u64) -> Announcement {
    let e = &ceremony().election;
    let contests = e
        .contests
        .iter()
        .map(|c| {
            let votes: Vec<(String, u64)> = c
                .choices()
                .into_iter()
                .enumerate()
                .map(|(i, ch)| (ch, (seed * 31 + i as u64 * 17) % 1000))
                .collect();
            Tally {
                contest: c.id.clone(),
                seats: acta_election::seats(c, &votes),
                votes,
                blank: seed % 7,
                null: seed % 3,
            }
        })
        .collect();
    Announcement {
        election: e.id.clone(),
        checkpoint: Checkpoint {
            origin: e.log_origin.clone(),
            size: seed % 50,
            root: [seed as u8; 32],
        },
        tables_reported: 5,
        tables_total: e.tables.len() as u64,
        held: 1,
        registered: 3500 + seed,
        authenticated: 2100,
        ballots: 2100,
        contests,
    }
}

/// The exact text of a small announcement, written out by hand.
#[test]
fn known_answer() {
    let a = Announcement {
        election: "VE-2026".into(),
        checkpoint: Checkpoint {
            origin: "acta.example/log/ve-2026".into(),
            size: 2,
            root: [0; 32],
        },
        tables_reported: 2,
        tables_total: 3,
        held: 0,
        registered: 1400,
        authenticated: 900,
        ballots: 900,
        contests: vec![Tally {
            contest: "REF".into(),
            votes: vec![("NO".into(), 400), ("YES".into(), 480)],
            blank: 15,
            null: 5,
            seats: vec![("YES".into(), 1)],
        }],
    };
    let text = "acta-announcement/v1\nelection VE-2026\ncheckpoint acta.example/log/ve-2026 2 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntables 2 3\nheld 0\nregistered 1400\nauthenticated 900\nballots 900\ncontest REF\nvotes NO 400\nvotes YES 480\nblank 15\nnull 5\nseats YES 1\n";
    assert_eq!(a.to_text(), text);
    assert_eq!(Announcement::parse(text).unwrap(), a);
}

#[test]
fn signed_announcement_opens_against_its_package() {
    let a = announcement(4);
    let signed = a.sign(&ceremony().center);
    assert_eq!(
        Announcement::open(signed.as_bytes(), &ceremony().election).unwrap(),
        a
    );
    // Signed by anyone else: refused.
    let other = a.sign(&ceremony().authority);
    assert!(Announcement::open(other.as_bytes(), &ceremony().election).is_err());
}

/// Each non-canonical or self-contradicting spelling is refused, with the
/// line where it goes wrong.
#[test]
fn every_non_canonical_variant_is_refused() {
    let text = announcement(9).to_text();
    let first_contest = text.find("\ncontest ").unwrap() + 1;
    let second_contest = text[first_contest + 1..].find("\ncontest ").unwrap() + first_contest + 2;
    let block = &text[first_contest..second_contest];
    let first_votes = text.lines().find(|l| l.starts_with("votes ")).unwrap();
    let variants: Vec<(&str, String)> = vec![
        (
            "contest block twice",
            format!(
                "{}{block}{}",
                &text[..second_contest],
                &text[second_contest..]
            ),
        ),
        (
            "votes line twice",
            text.replacen(first_votes, &format!("{first_votes}\n{first_votes}"), 1),
        ),
        ("plus sign", text.replacen("\nballots ", "\nballots +", 1)),
        (
            "leading zero",
            text.replacen("\nballots ", "\nballots 0", 1),
        ),
        (
            "trailing space",
            text.replacen("\nheld 1\n", "\nheld 1 \n", 1),
        ),
        ("no final newline", text.trim_end().to_string()),
        ("unknown line", format!("{text}extra 1\n")),
        (
            "fields reordered",
            text.replacen("held 1\nregistered", "registered", 1)
                .replacen("authenticated", "held 1\nauthenticated", 1),
        ),
        (
            "seat of zero",
            text.replacen("\nseats ", "\nseats AAA 0\nseats ", 1),
        ),
        (
            "reported above total",
            text.replacen("\ntables 5 8\n", "\ntables 9 8\n", 1),
        ),
        (
            "checkpoint size leading zero",
            text.replacen(" 9 ", " 09 ", 1),
        ),
    ];
    for (what, v) in variants {
        assert_ne!(v, text, "{what}: the variant must differ");
        assert!(
            Announcement::parse(&v).is_err(),
            "{what} was accepted:\n{v}"
        );
    }
}

/// Well formed but about something else: refused by `check`.
#[test]
fn an_announcement_about_another_election_or_log_is_refused() {
    let e = &ceremony().election;
    let mut a = announcement(2);
    a.election = "OTHER-1".into();
    assert!(a.check(e).unwrap_err().to_string().contains("election"));
    let mut a = announcement(2);
    a.checkpoint.origin = "evil.example/log".into();
    assert!(a.check(e).unwrap_err().to_string().contains("log"));
    let mut a = announcement(2);
    a.tables_total += 1;
    assert!(a.check(e).unwrap_err().to_string().contains("tables"));
    let mut a = announcement(2);
    a.contests.pop();
    assert!(a.check(e).is_err());
    let mut a = announcement(2);
    a.contests[0].votes.pop();
    assert!(a.check(e).is_err());
    assert!(announcement(2).check(e).is_ok());
}

proptest! {
    #[test]
    fn round_trips(seed in 0u64..10_000) {
        let a = announcement(seed);
        let text = a.to_text();
        prop_assert_eq!(Announcement::parse(&text).unwrap(), a);
    }

    #[test]
    fn never_panics_and_accepts_only_canonical(text in "[a-z0-9 /.\n-]{0,200}") {
        if let Ok(a) = Announcement::parse(&text) {
            prop_assert_eq!(a.to_text(), text);
        }
    }
}
