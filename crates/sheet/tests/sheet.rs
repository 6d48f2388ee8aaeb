use acta_sheet::{qr, Acta, Alarm, ContestCount, Error, Hold, ZeroReport, ALARMS};
use acta_synth::ceremony::{run as generate, Ceremony as Generated};
use acta_synth::generate::Options;
use proptest::prelude::*;
use std::sync::OnceLock;

fn election() -> &'static Generated {
    static G: OnceLock<Generated> = OnceLock::new();
    G.get_or_init(|| {
        generate(&Options {
            seed: 11,
            tables: 12,
        })
    })
}

/// A consistent acta for table `index`, with counts drawn from `seed`.
fn acta_for(index: usize, seed: u64) -> Acta {
    let e = &election().election;
    let t = &e.tables[index];
    let ballots = (seed % 300) as u32 + 20;
    let contests = e
        .ballot(&t.id)
        .iter()
        .map(|c| {
            let choices = c.choices();
            let blank = (seed % 3) as u32;
            let null = (seed % 2) as u32;
            let mut votes: Vec<(String, u32)> = choices.iter().map(|ch| (ch.clone(), 0)).collect();
            for b in 0..(ballots - blank - null) {
                let k = (b as u64 * 7 + seed) as usize % votes.len();
                votes[k].1 += 1;
            }
            ContestCount {
                contest: c.id.clone(),
                votes,
                blank,
                null,
            }
        })
        .collect();
    Acta {
        election: e.id.clone(),
        table: t.id.clone(),
        machine: t.machine.clone(),
        opened: 1_796_551_200,
        closed: 1_796_594_400 + seed % 100,
        registered: t.registered,
        authenticated: ballots,
        overrides: (seed % 4) as u32,
        ballots,
        contests,
        records: [seed as u8; 32],
        journal: [7; 32],
        alarms: [0, 0, 0, (seed % 5) as u32, 0, 0, 1, 0],
    }
}

fn signed(index: usize, seed: u64) -> String {
    acta_for(index, seed).sign(&election().machines[index].clone())
}

#[test]
fn a_signed_acta_opens_against_the_package() {
    let s = signed(3, 42);
    let opened = Acta::open(s.as_bytes(), &election().election).unwrap();
    assert_eq!(opened.acta, acta_for(3, 42));
    assert_eq!(opened.table.id, election().election.tables[3].id);
    assert!(s.starts_with("acta/v1\nelection SYN-11\n"));
}

#[test]
fn an_acta_signed_by_another_tables_machine_is_rejected() {
    let forged = acta_for(3, 42).sign(&election().machines[4].clone());
    let err = Acta::open(forged.as_bytes(), &election().election).unwrap_err();
    assert!(
        matches!(err, Error::Note(acta_note::Error::Quorum { got: 0, .. })),
        "{err}"
    );
    // Claiming the other machine's id in the text does not help: the table's certificate names its machine.
    let mut a = acta_for(3, 42);
    a.machine = election().election.tables[4].machine.clone();
    let err = Acta::open(
        a.sign(&election().machines[4].clone()).as_bytes(),
        &election().election,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Note(_) | Error::Package(_)), "{err}");
}

/// An authentic acta whose figures cannot be is opened, not refused: it is
/// the machine's word, returned with the reason it is held.
#[test]
fn authentic_but_impossible_actas_open_with_their_hold() {
    let open = |a: &Acta| {
        Acta::open(
            a.sign(&election().machines[2]).as_bytes(),
            &election().election,
        )
        .unwrap()
    };
    assert!(open(&acta_for(2, 9)).counts());
    let mut a = acta_for(2, 9);
    a.contests[0].votes[0].1 += 1;
    let o = open(&a);
    assert!(
        matches!(o.holds.as_slice(), [Hold::Impossible(m)] if m.contains("do not fit")),
        "{:?}",
        o.holds
    );
    let mut a = acta_for(2, 9);
    a.contests.pop();
    let o = open(&a);
    assert!(
        matches!(o.holds.as_slice(), [Hold::Package(m)] if m.contains("votes on")),
        "{:?}",
        o.holds
    );
    let mut a = acta_for(2, 9);
    a.authenticated = a.registered + 1;
    assert!(open(&a)
        .holds
        .iter()
        .any(|h| h.to_string().contains("above registered")));
    let mut a = acta_for(2, 9);
    a.alarms[Alarm::Overrides.index()] = 1;
    assert!(open(&a)
        .holds
        .iter()
        .any(|h| h.to_string().contains("alarm overrides")));
    let mut a = acta_for(2, 9);
    a.closed = a.opened;
    assert!(open(&a)
        .holds
        .iter()
        .any(|h| matches!(h, Hold::Schedule(_))));
}

/// An acta is a note with exactly one signature: its machine's.
#[test]
fn an_acta_with_any_other_signature_line_is_refused() {
    let s = signed(3, 42);
    let junk = format!("{s}\u{2014} x AAAAAAAA\n");
    let err = Acta::open(junk.as_bytes(), &election().election).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Note(acta_note::Error::NotSingleSigned { found: 2, .. })
        ),
        "{err}"
    );
    let cosigned = acta_note::countersign(s.as_bytes(), &election().auditors[0]).unwrap();
    assert!(Acta::open(cosigned.as_bytes(), &election().election).is_err());
    let o = Acta::open(s.as_bytes(), &election().election).unwrap();
    assert_eq!(
        o.body_hash,
        acta_sheet::body_hash(&acta_for(3, 42).to_text())
    );
}

/// Each non-canonical spelling of the same acta is refused, naming the line.
#[test]
fn every_non_canonical_variant_is_rejected() {
    let text = acta_for(1, 5).to_text();
    assert_eq!(Acta::parse(&text).unwrap().to_text(), text);
    let lines: Vec<&str> = text.lines().collect();
    let with = |i: usize, new: &str| {
        let mut l = lines.clone();
        l[i] = new;
        l.join("\n") + "\n"
    };
    let ballots_line = lines
        .iter()
        .position(|l| l.starts_with("ballots "))
        .unwrap();
    let first_votes = lines.iter().position(|l| l.starts_with("votes ")).unwrap();
    let ballots_value = &lines[ballots_line][8..];
    let leading_zero = format!("ballots 0{ballots_value}");
    let plus = format!("ballots +{ballots_value}");
    let trailing = format!("{} ", lines[ballots_line]);
    let double = lines[ballots_line].replace(' ', "  ");
    let swapped = {
        let mut l = lines.clone();
        l.swap(1, 2);
        l.join("\n") + "\n"
    };
    let swapped_votes = {
        let mut l = lines.clone();
        l.swap(first_votes, first_votes + 1);
        l.join("\n") + "\n"
    };
    let duplicated = {
        let mut l = lines.clone();
        l.insert(ballots_line, lines[ballots_line]);
        l.join("\n") + "\n"
    };
    let dup_votes = {
        let mut l = lines.clone();
        l.insert(first_votes, lines[first_votes]);
        l.join("\n") + "\n"
    };
    let cases: Vec<(String, &str, usize)> = vec![
        (
            with(ballots_line, &leading_zero),
            "leading zeros",
            ballots_line + 1,
        ),
        (with(ballots_line, &plus), "leading zeros", ballots_line + 1),
        (with(ballots_line, &trailing), "trailing", ballots_line + 1),
        (with(ballots_line, &double), "doubled", ballots_line + 1),
        (swapped, "expected 'election'", 2),
        (swapped_votes, "out of order", first_votes + 2),
        (duplicated, "at least one 'contest'", ballots_line + 2),
        (dup_votes, "out of order or repeated", first_votes + 2),
        (
            text.trim_end().to_string(),
            "end with a newline",
            lines.len(),
        ),
        (text.replace('\n', "\r\n"), "control character", 1),
        (text.replacen("acta/v1", "acta/v2", 1), "acta/v1", 1),
        (with(4, "opened 2026-12-06T10:00:00+00:00"), "UTC time", 5),
        (
            with(lines.len() - 1, "alarm burst 0"),
            "alarm state-mismatch",
            lines.len(),
        ),
        (
            format!("{text}extra 1\n"),
            "unexpected line",
            lines.len() + 1,
        ),
        (text.replacen("table ", "table \u{e9}", 1), "ASCII", 3),
    ];
    for (bad, want, line) in cases {
        let err = Acta::parse(&bad).expect_err(&bad);
        let msg = err.to_string();
        assert!(msg.contains(want), "wanted {want:?} in {msg:?}");
        assert!(
            matches!(err, Error::Syntax { line: l, .. } if l == line),
            "wanted line {line}: {msg}"
        );
    }
    // Uppercase hex in a hash is another spelling of the same bytes.
    let text = acta_for(1, 0xab).to_text();
    let upper = text.replace(&hex::encode([0xabu8; 32]), &hex::encode_upper([0xabu8; 32]));
    assert_ne!(upper, text);
    assert!(Acta::parse(&upper)
        .unwrap_err()
        .to_string()
        .contains("lowercase hex"));
}

#[test]
fn zero_report_round_trips_and_refuses_non_zero() {
    let z = ZeroReport {
        election: "SYN-11".into(),
        table: "01.001.01.0001.01".into(),
        machine: "M000001".into(),
        software: [1; 32],
        opened: 1_796_551_200,
        registered: 700,
        contests: vec!["AN".into(), "PRES".into()],
        journal: [2; 32],
    };
    assert_eq!(ZeroReport::parse(&z.to_text()).unwrap(), z);
    assert!(ZeroReport::parse(&z.to_text().replace("ballots 0", "ballots 1")).is_err());
    assert!(ZeroReport::parse(&z.to_text().replace("contest AN 0", "contest AN 3")).is_err());
}

#[test]
fn qr_parts_decode_from_png_in_any_order() {
    let s = signed(5, 77);
    let parts = qr::split(s.as_bytes(), 400);
    assert!(
        parts.len() >= 3,
        "a typical acta needs several 400-byte parts, got {}",
        parts.len()
    );
    let mut pngs: Vec<Vec<u8>> = parts
        .iter()
        .map(|p| qr::png(&qr::render(p).unwrap()))
        .collect();
    pngs.reverse();
    pngs.swap(0, 1);
    assert_eq!(qr::read_pngs(&pngs).unwrap(), s.as_bytes());
    // One printed sheet with every part on it.
    let sheet = qr::acta_png(s.as_bytes()).unwrap();
    assert_eq!(qr::read_pngs(&[sheet]).unwrap(), s.as_bytes());
    // A missing part is named.
    let err = qr::read_pngs(&pngs[1..]).unwrap_err().to_string();
    assert!(err.contains("missing part"), "{err}");
}

#[test]
fn qr_parts_from_two_actas_do_not_mix() {
    let a = qr::split(signed(5, 77).as_bytes(), 400);
    let b = qr::split(signed(5, 78).as_bytes(), 400);
    assert_eq!(a.len(), b.len());
    let mut mixed = a.clone();
    mixed[1] = b[1].clone();
    let err = qr::join(&mixed).unwrap_err().to_string();
    assert!(err.contains("does not chain"), "{err}");
    // Scanning a part twice is harmless.
    let mut twice = a.clone();
    twice.push(a[0].clone());
    assert_eq!(qr::join(&twice).unwrap(), signed(5, 77).as_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn acta_text_round_trips(index in 0usize..12, seed in any::<u64>()) {
        let a = acta_for(index, seed);
        prop_assert_eq!(Acta::parse(&a.to_text()).unwrap(), a);
    }

    #[test]
    fn any_single_byte_change_to_a_signed_acta_is_rejected(seed in 0u64..50, pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let s = signed((seed % 12) as usize, seed);
        let mut bytes = s.into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        prop_assert!(Acta::open(&bytes, &election().election).is_err());
    }

    #[test]
    fn qr_split_join_round_trips_in_any_order(seed in 0u64..1000, chunk in 50usize..900, order in any::<u64>()) {
        let s = signed((seed % 12) as usize, seed);
        let mut parts = qr::split(s.as_bytes(), chunk);
        let n = parts.len();
        for i in 0..n {
            parts.swap(i, (order as usize).wrapping_mul(i + 7) % n);
        }
        prop_assert_eq!(qr::join(&parts).unwrap(), s.as_bytes());
    }
}

#[test]
fn alarm_names_are_distinct() {
    let names: std::collections::HashSet<_> = ALARMS.iter().map(|a| a.name()).collect();
    assert_eq!(names.len(), ALARMS.len());
}
