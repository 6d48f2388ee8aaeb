//! The journal's grammar, its chain and its verification against the acta.

use acta_sheet::journal::{self, Event, Line, Refusal, Report, Transmission};
use acta_sheet::{Acta, ALARMS};
use acta_synth::ceremony::run as generate;
use acta_synth::generate::Options;
use proptest::prelude::*;

fn event() -> impl Strategy<Value = Event> {
    let detail = "[!-~]{1,8}( [!-~]{1,8}){0,3}";
    prop_oneof![
        ("[A-Z0-9]{1,6}", "[A-Z0-9]{1,6}", any::<u32>()).prop_map(|(t, m, r)| Event::Open {
            table: t,
            machine: m,
            registered: r
        }),
        any::<bool>().prop_map(Event::Authenticated),
        prop::sample::select(vec![
            Refusal::NotOnRoll,
            Refusal::AlreadyVoted,
            Refusal::NoMatch,
            Refusal::BadOverride
        ])
        .prop_map(Event::Refused),
        Just(Event::Ballot),
        Just(Event::LeftWithoutVoting),
        (
            prop::sample::select(ALARMS.to_vec()),
            prop::option::of(detail)
        )
            .prop_map(|(a, d)| Event::Alarm(a, d.unwrap_or_default())),
        any::<u32>().prop_map(Event::Close),
        (any::<bool>(), any::<u32>()).prop_map(|(z, n)| Event::Transmit(
            if z { Report::Zero } else { Report::Acta },
            Transmission::Attempt(n)
        )),
        detail.prop_map(|d| Event::Transmit(Report::Acta, Transmission::Failed(d))),
        any::<u64>().prop_map(|i| Event::Transmit(Report::Zero, Transmission::Logged(i))),
    ]
}

proptest! {
    #[test]
    fn every_line_round_trips(at in 0u64..4_000_000_000, e in event()) {
        let line = Line { at, event: e };
        let text = line.to_text();
        prop_assert_eq!(Line::parse(&text, 1).unwrap(), line);
    }

    /// Anything accepted is canonical: it re-encodes to the same bytes.
    #[test]
    fn accepted_text_is_canonical(s in "[ -~]{0,80}") {
        if let Ok(l) = Line::parse(&s, 1) {
            prop_assert_eq!(l.to_text(), s);
        }
    }

    /// A valid line with one byte changed is refused or still canonical.
    #[test]
    fn a_changed_byte_is_refused_or_canonical(at in 0u64..4_000_000_000, e in event(), i in any::<prop::sample::Index>(), b in 0x20u8..0x7f) {
        let mut bytes = Line { at, event: e }.to_text().into_bytes();
        let k = i.index(bytes.len());
        bytes[k] = b;
        let s = String::from_utf8(bytes).unwrap();
        if let Ok(l) = Line::parse(&s, 3) {
            prop_assert_eq!(l.to_text(), s);
        }
    }
}

#[test]
fn non_canonical_lines_are_refused_naming_the_line() {
    for bad in [
        "2026-12-06T10:00:00Z  ballot",
        "2026-12-06T10:00:00Z ballot ",
        "2026-12-06T10:00:00Z close ballots 07",
        "2026-12-06T10:00:00Z authenticated V00001",
        "2026-12-06T10:00:00Z alarm burst  5s",
        "2026-12-06T10:00:00Z alarm fire",
        "2026-12-06 10:00:00 ballot",
        "2026-12-06T10:00:00Z transmit acta logged -1",
        "2026-12-06T10:00:00Z refused maybe",
    ] {
        let text = format!("2026-12-06T09:00:00Z ballot\n{bad}\n");
        let e = journal::read(&text).unwrap_err().to_string();
        assert!(e.starts_with("line 2:"), "{bad:?}: {e}");
    }
    assert!(journal::read("2026-12-06T09:00:00Z ballot")
        .unwrap_err()
        .to_string()
        .contains("newline"));
}

#[test]
fn a_station_journal_verifies_against_its_acta_and_nothing_else() {
    let g = generate(&Options { seed: 3, tables: 3 });
    let day = g.day(1, 7);
    let acta = Acta::open(day.acta.as_bytes(), &g.election).unwrap().acta;
    let text: String = day.journal.iter().map(|l| format!("{l}\n")).collect();
    let s = journal::verify(&text, None, &acta).unwrap();
    assert_eq!(s.ballots, acta.ballots);
    // Each way of lying about the day is caught.
    let drop_ballot = text.replacen(" ballot\n", " left-without-voting\n", 1);
    let no_close: String = day
        .journal
        .iter()
        .filter(|l| !l.contains(" close "))
        .map(|l| format!("{l}\n"))
        .collect();
    let extra_alarm = text.replacen(
        " ballot\n",
        " ballot\n2026-12-06T12:00:00Z alarm burst 1s after the previous ballot\n",
        1,
    );
    for (what, t) in [
        ("a ballot made a departure", drop_ballot),
        ("the close line removed", no_close),
        ("an alarm added", extra_alarm),
    ] {
        assert!(journal::verify(&t, None, &acta).is_err(), "{what}");
    }
    let other = Acta::open(g.day(2, 7).acta.as_bytes(), &g.election)
        .unwrap()
        .acta;
    assert!(
        journal::verify(&text, None, &other).is_err(),
        "another table's acta"
    );
}
