//! `acta-audit/v1`: every step writes one canonical text and parses back to
//! itself; every other spelling is refused with the line that is wrong.

use acta_sheet::audit::{
    hand_count_text, parse_hand_count, AuditMethod, AuditNote, AuditStep, Commitment, ContestRisk,
    HandCount, Mark, Receipt, Verdict,
};
use acta_tlog::Checkpoint;
use proptest::prelude::*;

fn commitment(n: u8) -> [u8; 32] {
    [n; 32]
}

fn steps(n: u64) -> Vec<AuditStep> {
    let hc = HandCount {
        contest: "PRES".into(),
        votes: vec![("C1/AVZ".into(), n), ("C2/PTR".into(), n / 2)],
        blank: n % 7,
        null: n % 3,
    };
    vec![
        AuditStep::Commit(Commitment {
            checkpoint: Checkpoint {
                origin: "acta.example/log/syn-2026".into(),
                size: n + 10,
                root: [n as u8; 32],
            },
            risk_limit: 50_000,
            max_rounds: 4,
            method: if n % 2 == 1 {
                AuditMethod::Batch
            } else {
                AuditMethod::Polling
            },
            tables: n,
            missing: n % 5,
            manifest: [3; 32],
            contests: vec![("AN".into(), n * 1000 + 1), ("PRES".into(), 21_000_000_000)],
        }),
        AuditStep::Seed {
            commitment: commitment(1),
            contributions: vec![
                ("PARTY-A".into(), format!("{}", 10_000_000_000 + n)),
                ("MISSION".into(), "0042".into()),
            ],
            seed: format!("{}0042", 10_000_000_000 + n),
        },
        AuditStep::Round {
            commitment: commitment(1),
            round: 1 + (n % 4) as u32,
            draws: vec![("AN".into(), 1, n + 1), ("PRES".into(), n + 1, n + 30)],
            tables: vec!["01.001".into(), "01.002".into()],
        },
        AuditStep::Count {
            commitment: commitment(2),
            table: "01.001.01".into(),
            receipts: n,
            contests: vec![hc],
        },
        AuditStep::Receipts {
            commitment: commitment(2),
            table: "01.001.01".into(),
            receipts: vec![
                Receipt {
                    position: n + 1,
                    marks: vec![
                        ("AN".into(), Mark::Choices(vec!["PDA".into()])),
                        ("PRES".into(), Mark::Blank),
                        ("REF".into(), Mark::Null),
                    ],
                },
                Receipt {
                    position: n + 9,
                    marks: vec![("X".into(), Mark::Choices(vec!["A/B".into(), "C/D".into()]))],
                },
            ],
        },
        AuditStep::Risk {
            commitment: commitment(2),
            round: 2,
            contests: vec![
                ContestRisk {
                    contest: "AN".into(),
                    risk: (n % 1_000_001) as u32,
                    verdict: Verdict::Escalate(n + 1),
                },
                ContestRisk {
                    contest: "PRES".into(),
                    risk: 0,
                    verdict: Verdict::Confirmed,
                },
            ],
            outcome: Verdict::Escalate(n + 1),
        },
    ]
}

fn note(step: AuditStep) -> AuditNote {
    AuditNote {
        election: "SYN-2026".into(),
        audit: "POST-1".into(),
        step,
    }
}

#[test]
fn non_canonical_spellings_are_refused_with_their_line() {
    let text = note(steps(5).remove(0)).to_text();
    for (from, to, line) in [
        ("risk-limit 0.05", "risk-limit 0.050", 6),
        ("risk-limit 0.05", "risk-limit 5%", 6),
        ("max-rounds 4", "max-rounds 0", 7),
        ("method batch", "method vote", 8),
        ("tables 5", "tables 05", 9),
        ("contest AN", "contest an", 12),
    ] {
        let bad = text.replacen(from, to, 1);
        let e = AuditNote::parse(&bad).unwrap_err().to_string();
        assert!(e.starts_with(&format!("line {line}:")), "{to}: {e}");
    }
    // Contests out of order.
    let bad = text.replacen("contest AN", "contest ZZ", 1);
    assert!(AuditNote::parse(&bad).is_err());
    // A seed that is not the contributions joined.
    let seed = note(steps(5).remove(1)).to_text();
    let e = AuditNote::parse(&seed.replacen("\nseed 1", "\nseed 9", 1)).unwrap_err();
    assert!(e.to_string().contains("concatenated"), "{e}");
    // A step the format does not know.
    let e = AuditNote::parse(&text.replacen("step commit", "step pardon", 1)).unwrap_err();
    assert!(e.to_string().starts_with("line 4:"), "{e}");
    // A risk above 1.
    // Receipts out of order, a choice list unsorted.
    let receipts = note(steps(5).remove(4)).to_text();
    assert!(AuditNote::parse(&receipts.replacen("receipt 14", "receipt 5", 1)).is_err());
    assert!(AuditNote::parse(&receipts.replacen("A/B,C/D", "C/D,A/B", 1)).is_err());
    let risk = note(steps(5).remove(5)).to_text();
    assert!(AuditNote::parse(&risk.replacen("PRES 0.000000", "PRES 1.000001", 1)).is_err());
    // Trailing bytes.
    assert!(AuditNote::parse(&format!("{text}x\n")).is_err());
}

#[test]
fn a_hand_count_sheet_is_the_count_step_without_its_header() {
    let AuditStep::Count {
        receipts, contests, ..
    } = steps(9).remove(3)
    else {
        panic!()
    };
    let sheet = hand_count_text(receipts, &contests);
    assert_eq!(parse_hand_count(&sheet).unwrap(), (receipts, contests));
    let e = parse_hand_count(&sheet.replacen("blank 2", "blank two", 1)).unwrap_err();
    assert!(e.to_string().starts_with("line 5:"), "{e}");
    assert!(parse_hand_count(&sheet.replacen("votes C1/AVZ", "votes C3/AVZ", 1)).is_err());
}

proptest! {
    #[test]
    fn every_step_round_trips(n in 0u64..1_000_000_000) {
        for s in steps(n) {
            let n = note(s);
            prop_assert_eq!(AuditNote::parse(&n.to_text()).unwrap(), n);
        }
    }

    #[test]
    fn never_panics_and_accepts_only_canonical(text in "(acta-audit/v1\nelection SYN\naudit A\nstep (commit|seed|round|count|risk)\n)?[a-z0-9 ./\n-]{0,200}") {
        if let Ok(a) = AuditNote::parse(&text) {
            prop_assert_eq!(a.to_text(), text.clone());
        }
        if let Ok((r, c)) = parse_hand_count(&text) {
            prop_assert_eq!(hand_count_text(r, &c), text);
        }
    }
}
