//! The pure checks on hand-made ledgers and statements.

use acta_api::{LoggedEntry, Status};
use acta_verify::{compare, FindingKind, Ledger};

fn entry(index: u64) -> LoggedEntry {
    LoggedEntry {
        index,
        kind: "acta".into(),
        table: String::new(),
        status: Status::Conflict,
        reason: String::new(),
        note: String::new(),
    }
}

fn ledger() -> (acta_synth::Ceremony, Ledger) {
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options { seed: 7, tables: 4 });
    let l = Ledger::new(&g.election);
    (g, l)
}

#[test]
fn unlisted_conflicts_and_announcements_are_named() {
    let (_, mut l) = ledger();
    l.conflicting_actas = vec![3, 9];
    l.announcements = vec![(5, String::new()), (12, String::new())];
    // Everything listed: nothing to say.
    let all = compare::listed(
        &l,
        20,
        Some(&[entry(3), entry(9)]),
        Some(&[entry(5), entry(12)]),
    );
    assert!(all.is_empty(), "{all:?}");
    // One conflict and one announcement hidden.
    let hidden = compare::listed(&l, 20, Some(&[entry(3)]), Some(&[entry(12)]));
    let kinds: Vec<(FindingKind, &str)> = hidden
        .iter()
        .map(|f| (f.kind, f.evidence.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (FindingKind::ConflictingActas, "log entry 9"),
            (FindingKind::Announcement, "log entry 5")
        ]
    );
    // Entries beyond the verified size are not judged yet.
    assert!(compare::listed(&l, 4, Some(&[entry(3)]), Some(&[])).is_empty());
}

#[test]
fn every_package_area_must_be_published_once() {
    let (g, l) = ledger();
    let size = 0;
    let totals = |area: &str| acta_api::Totals {
        area: area.into(),
        size,
        tables_total: g
            .election
            .tables
            .iter()
            .filter(|t| acta_verify::ledger::in_area(&t.id, area))
            .count() as u64,
        registered_total: g
            .election
            .tables
            .iter()
            .filter(|t| acta_verify::ledger::in_area(&t.id, area))
            .map(|t| t.registered as u64)
            .sum(),
        ..Default::default()
    };
    let mut all: Vec<acta_api::Totals> = std::iter::once(totals(""))
        .chain(g.election.areas.iter().map(|a| totals(&a.code)))
        .collect();
    let clean = compare::areas(&g.election, &l, size, &all);
    assert!(clean.is_empty(), "{clean:?}");
    // One area left out, one listed twice: both named.
    let gone = all.remove(1);
    all.push(all[1].clone());
    let f = compare::areas(&g.election, &l, size, &all);
    assert!(
        f.iter()
            .any(|f| f.place == gone.area && f.center == "does not publish them"),
        "{f:?}"
    );
    assert!(
        f.iter()
            .any(|f| f.place == all[1].area && f.center.contains("2 times")),
        "{f:?}"
    );
}
