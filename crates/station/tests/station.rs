use std::collections::BTreeMap;

use acta_election::time;
use acta_sheet::{Acta, Alarm};
use acta_station::{Error, Mark, Station};
use acta_synth::ceremony::{run as generate, Ceremony as Generated};
use acta_synth::generate::Options;
use acta_synth::simulate::run_table;

fn election() -> Generated {
    generate(&Options { seed: 5, tables: 6 })
}

fn opens(g: &Generated) -> u64 {
    time::parse(&g.election.opens).unwrap()
}

fn station(g: &Generated, i: usize) -> (Station, Vec<String>) {
    let (r, codes) = g.roll(i);
    (
        Station::provision(
            &g.election,
            &g.election.tables[i].id,
            r,
            g.machines[i].clone(),
        )
        .unwrap(),
        codes,
    )
}

fn all_blank(s: &Station) -> Vec<Mark> {
    s.ballot().iter().map(|_| Mark::Blank).collect()
}

/// Hand-count the ballot records and compare with the signed acta: the paper
/// trail and the acta must agree exactly.
#[test]
fn a_simulated_day_yields_an_acta_that_the_ballot_records_confirm() {
    let g = election();
    let (r, codes) = g.roll(2);
    let (_, day) = run_table(&g.election, 2, r, &codes, g.machines[2].clone(), 99).unwrap();
    let opened = Acta::open(day.acta.as_bytes(), &g.election).unwrap();
    let acta = opened.acta;
    assert_eq!(acta.ballots as usize, day.records.len());
    assert!(acta.ballots > 0);
    let mut recount: BTreeMap<(String, String), u32> = BTreeMap::new();
    for rec in &day.records {
        for line in rec.lines().skip(1) {
            let (contest, marks) = line.split_once(' ').unwrap();
            for m in marks.split(',') {
                *recount
                    .entry((contest.to_string(), m.to_string()))
                    .or_default() += 1;
            }
        }
    }
    for c in &acta.contests {
        for (choice, n) in &c.votes {
            assert_eq!(
                recount
                    .get(&(c.contest.clone(), choice.clone()))
                    .copied()
                    .unwrap_or(0),
                *n,
                "{} {choice}",
                c.contest
            );
        }
        assert_eq!(
            recount
                .get(&(c.contest.clone(), "blank".into()))
                .copied()
                .unwrap_or(0),
            c.blank
        );
        assert_eq!(
            recount
                .get(&(c.contest.clone(), "null".into()))
                .copied()
                .unwrap_or(0),
            c.null
        );
    }
    // The records root does not depend on storage order.
    let mut leaves: Vec<_> = day
        .records
        .iter()
        .rev()
        .map(|r| acta_tlog::leaf_hash(r.as_bytes()))
        .collect();
    leaves.sort();
    assert_eq!(acta_tlog::root_of(&leaves), acta.records);
    assert_eq!(acta.alarms, [0; 8], "a normal day raises no alarm");
    // The zero report is signed by the same machine and shows zero.
    let key: acta_note::Verifier = g.election.tables[2].key.parse().unwrap();
    let zero =
        acta_sheet::ZeroReport::parse(acta_note::open(day.zero.as_bytes(), &key).unwrap()).unwrap();
    assert_eq!(zero.table, g.election.tables[2].id);
}

#[test]
fn each_voter_votes_once_and_only_on_this_roll() {
    let g = election();
    let (mut s, _) = station(&g, 0);
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    s.open(t0).unwrap();
    let v = &r.voters[0];
    s.authenticate(t0 + 60, &v.id, v.template, None).unwrap();
    s.cast(t0 + 90, &all_blank(&s)).unwrap();
    assert!(matches!(
        s.authenticate(t0 + 200, &v.id, v.template, None),
        Err(Error::AlreadyVoted(_))
    ));
    let (other, _) = g.roll(1);
    assert!(matches!(
        s.authenticate(
            t0 + 260,
            &other.voters[0].id,
            other.voters[0].template,
            None
        ),
        Err(Error::NotOnRoll(_))
    ));
    assert_eq!(s.acta().authenticated, 1);
    assert_eq!(s.acta().ballots, 1);
}

#[test]
fn a_biometric_mismatch_needs_a_one_time_code() {
    let g = election();
    let (mut s, codes) = station(&g, 0);
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    s.open(t0).unwrap();
    let (a, b) = (&r.voters[0], &r.voters[1]);
    assert!(matches!(
        s.authenticate(t0 + 60, &a.id, [9; 32], None),
        Err(Error::BiometricMismatch(_))
    ));
    assert!(matches!(
        s.authenticate(t0 + 60, &a.id, [9; 32], Some("00000000x")),
        Err(Error::BadOverride)
    ));
    s.authenticate(t0 + 60, &a.id, [9; 32], Some(&codes[0]))
        .unwrap();
    s.cast(t0 + 100, &all_blank(&s)).unwrap();
    assert!(
        matches!(
            s.authenticate(t0 + 200, &b.id, [9; 32], Some(&codes[0])),
            Err(Error::BadOverride)
        ),
        "codes are single use"
    );
    // b presents a's fingerprint: a different voter id with a template already seen.
    s.authenticate(t0 + 300, &b.id, [9; 32], Some(&codes[1]))
        .unwrap();
    assert_eq!(s.acta().overrides, 2);
    // Both of b's attempts with a's fingerprint count, the refused one too.
    assert_eq!(s.alarms()[Alarm::RepeatedTemplate.index()], 2);
}

#[test]
fn schedule_sequence_and_pace_raise_alarms() {
    let g = election();
    let (mut s, _) = station(&g, 0);
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    assert!(
        matches!(s.open(t0 - 600), Err(Error::OutsideSchedule { .. })),
        "no opening before the schedule"
    );
    s.open(t0).unwrap();
    assert!(matches!(
        s.cast(t0 + 10, &all_blank(&s)),
        Err(Error::Sequence(_))
    ));
    assert_eq!(s.alarms()[Alarm::BallotsExceedAuthenticated.index()], 1);
    for (k, v) in r.voters[..3].iter().enumerate() {
        let t = t0 + 100 + k as u64 * 5;
        s.authenticate(t, &v.id, v.template, None).unwrap();
        s.cast(t, &all_blank(&s)).unwrap();
    }
    assert_eq!(
        s.alarms()[Alarm::Burst.index()],
        2,
        "three ballots five seconds apart"
    );
    let v = &r.voters[5];
    s.authenticate(t0 + 50, &v.id, v.template, None).unwrap();
    assert_eq!(
        s.alarms()[Alarm::ClockJump.index()],
        1,
        "the clock went back"
    );
    let closes = time::parse(&g.election.closes).unwrap();
    assert!(matches!(
        s.cast(closes + 1, &all_blank(&s)),
        Err(Error::OutsideSchedule { .. })
    ));
    assert_eq!(s.alarms()[Alarm::OutsideSchedule.index()], 2);
    let acta = Acta::open(s.close(closes + 2).unwrap().as_bytes(), &g.election)
        .unwrap()
        .acta;
    assert_eq!(acta.alarms, s.alarms());
    assert_eq!(acta.ballots, 3);
    assert_eq!(acta.authenticated, 4);
}

#[test]
fn invalid_ballots_are_refused_without_counting() {
    let g = election();
    let (mut s, _) = station(&g, 0);
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    s.open(t0).unwrap();
    s.authenticate(t0 + 60, &r.voters[0].id, r.voters[0].template, None)
        .unwrap();
    let mut marks = all_blank(&s);
    let pres = s.ballot().iter().position(|c| c.id == "PRES").unwrap();
    marks[pres] = Mark::Choices(vec!["C1/PDA".into(), "C2/UPL".into()]);
    assert!(
        matches!(s.cast(t0 + 90, &marks), Err(Error::Ballot(_))),
        "vote-for-1 with two marks"
    );
    marks[pres] = Mark::Choices(vec!["C9/PDA".into()]);
    assert!(matches!(s.cast(t0 + 90, &marks), Err(Error::Ballot(_))));
    let cle = s
        .ballot()
        .iter()
        .position(|c| c.id.starts_with("CLE-"))
        .unwrap();
    marks[pres] = Mark::Blank;
    marks[cle] = Mark::Choices(vec!["L1/PDA".into(), "L2/UPL".into(), "L3/MRC".into()]);
    s.cast(t0 + 90, &marks).unwrap();
    assert_eq!(s.acta().ballots, 1);
}

fn on_disk(g: &Generated, dir: &std::path::Path) -> Station {
    let (r, _) = g.roll(0);
    Station::create(
        dir,
        g.package.as_bytes(),
        &g.trust.to_text(),
        &r,
        &g.machines[0],
        &g.election.tables[0].id,
    )
    .unwrap()
}

fn first_choices(s: &Station) -> Vec<Mark> {
    s.ballot()
        .iter()
        .map(|c| Mark::Choices(vec![c.choices()[0].clone()]))
        .collect()
}

#[test]
fn a_station_resumes_from_disk_and_an_unclean_stop_is_an_alarm() {
    let g = election();
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    let mut s = on_disk(&g, dir.path());
    let zero = s.open(t0).unwrap();
    s.stop().unwrap();
    let mut s = Station::load(dir.path(), t0 + 30).unwrap();
    assert_eq!(s.zero_report().unwrap(), zero, "the zero report is rebuilt");
    s.authenticate(t0 + 60, &r.voters[0].id, r.voters[0].template, None)
        .unwrap();
    s.cast(t0 + 90, &all_blank(&s)).unwrap();
    s.stop().unwrap();
    let s = Station::load(dir.path(), t0 + 120).unwrap();
    assert_eq!(s.acta().ballots, 1);
    assert_eq!(s.alarms()[Alarm::Restart.index()], 0);
    drop(s); // the process dies without a clean stop
    let mut s = Station::load(dir.path(), t0 + 400).unwrap();
    assert_eq!(s.alarms()[Alarm::Restart.index()], 1);
    assert!(s.journal().last().unwrap().contains("alarm restart"));
    assert!(matches!(
        s.authenticate(t0 + 500, &r.voters[0].id, r.voters[0].template, None),
        Err(Error::AlreadyVoted(_))
    ));
    let acta = s.close(time::parse(&g.election.closes).unwrap()).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("acta.note")).unwrap(),
        acta
    );
    // The acta is the same bytes after a restart, and the journal verifies.
    drop(s);
    let s = Station::load(dir.path(), t0 + 9000).unwrap();
    assert_eq!(s.signed_acta().unwrap(), acta);
    let opened = Acta::open(acta.as_bytes(), &g.election).unwrap().acta;
    let z = acta_sheet::ZeroReport::parse(
        acta_note::open(zero.as_bytes(), &g.election.tables[0].key.parse().unwrap()).unwrap(),
    )
    .unwrap();
    acta_sheet::journal::verify(&s.journal_text(), Some(&z), &opened).unwrap();
    // A key not certified for this table cannot be provisioned.
    assert!(Station::provision(
        &g.election,
        &g.election.tables[0].id,
        r.clone(),
        g.machines[1].clone()
    )
    .is_err());
}

/// A `kill -9` can cut each durable step. The station finishes or drops the
/// one operation that was cut, and never loses a confirmed ballot.
#[test]
fn a_cut_operation_is_finished_or_dropped_on_restart() {
    let g = election();
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    let dir = tempfile::tempdir().unwrap();
    let mut s = on_disk(&g, dir.path());
    s.open(t0).unwrap();
    s.authenticate(t0 + 60, &r.voters[0].id, r.voters[0].template, None)
        .unwrap();
    s.cast(t0 + 90, &first_choices(&s)).unwrap();
    let confirmed = s.records().to_vec();
    drop(s);
    let journal = dir.path().join("journal.log");
    let poll_book = dir.path().join("poll-book.log");
    let slots = dir.path().join("ballots.slots");
    let snapshot = |p: &std::path::Path| std::fs::read(p).unwrap();
    let (j0, p0, s0) = (snapshot(&journal), snapshot(&poll_book), snapshot(&slots));

    // 1. The poll book has the next voter but the journal does not: the
    // authentication never returned, so the voter was not let through.
    let mut p = p0.clone();
    p.extend_from_slice(
        format!(
            "{} {} -\n",
            r.voters[1].id,
            hex::encode(r.voters[1].template)
        )
        .as_bytes(),
    );
    std::fs::write(&poll_book, &p).unwrap();
    let mut s = Station::load(dir.path(), t0 + 100).unwrap();
    assert!(!s.voter_waiting());
    assert_eq!(s.authenticated().0, 1);
    assert_eq!(
        std::fs::read(&poll_book).unwrap(),
        p0,
        "the cut line is dropped"
    );
    s.authenticate(t0 + 120, &r.voters[1].id, r.voters[1].template, None)
        .unwrap();
    assert_eq!(s.alarms()[Alarm::StateMismatch.index()], 0);
    drop(s);

    // 2. Half a journal line: cut off.
    let mut j = std::fs::read(&journal).unwrap();
    let whole = j.clone();
    j.extend_from_slice(b"2026-12-06T10:0");
    std::fs::write(&journal, &j).unwrap();
    let s = Station::load(dir.path(), t0 + 130).unwrap();
    assert!(s.voter_waiting(), "voter 1 is still waiting to vote");
    assert!(std::fs::read(&journal).unwrap().starts_with(&whole));
    drop(s);

    // 3. The ballot reached its slot but not the journal: it counts, once.
    let s = Station::load(dir.path(), t0 + 140).unwrap();
    let record = s.record(&all_blank(&s)).unwrap();
    drop(s);
    let before_slot = std::fs::read(&slots).unwrap();
    let size = before_slot.len() / g.election.tables[0].registered as usize;
    let free = (0..g.election.tables[0].registered as usize)
        .find(|i| {
            before_slot[i * size..(i + 1) * size]
                .iter()
                .all(|&b| b == 0)
        })
        .unwrap();
    let mut slot = vec![0u8; size];
    use sha2::Digest;
    slot[..32].copy_from_slice(&sha2::Sha256::digest(record.as_bytes()));
    slot[32..34].copy_from_slice(&(record.len() as u16).to_le_bytes());
    slot[34..34 + record.len()].copy_from_slice(record.as_bytes());
    let mut with = before_slot.clone();
    with[free * size..(free + 1) * size].copy_from_slice(&slot);
    std::fs::write(&slots, &with).unwrap();
    let s = Station::load(dir.path(), t0 + 150).unwrap();
    assert_eq!(s.ballots(), 2);
    assert!(!s.voter_waiting());
    assert_eq!(s.alarms()[Alarm::StateMismatch.index()], 0);
    assert!(s.records().contains(&record));
    drop(s);
    let s = Station::load(dir.path(), t0 + 160).unwrap();
    assert_eq!(s.ballots(), 2, "counted once, not again on the next start");
    for c in &confirmed {
        assert!(s.records().contains(c), "the confirmed ballot is kept");
    }
    drop(s);

    // 4. A torn slot while a voter waits: that ballot was never confirmed.
    std::fs::write(&journal, &j0).unwrap();
    std::fs::write(&poll_book, &p0).unwrap();
    std::fs::write(&slots, &s0).unwrap();
    let mut s = Station::load(dir.path(), t0 + 170).unwrap();
    s.authenticate(t0 + 180, &r.voters[2].id, r.voters[2].template, None)
        .unwrap();
    drop(s);
    let mut torn = std::fs::read(&slots).unwrap();
    let free = (0..torn.len() / size)
        .find(|i| torn[i * size..(i + 1) * size].iter().all(|&b| b == 0))
        .unwrap();
    torn[free * size..free * size + 20].copy_from_slice(&[7; 20]);
    std::fs::write(&slots, &torn).unwrap();
    let mut s = Station::load(dir.path(), t0 + 190).unwrap();
    assert_eq!(s.ballots(), 1);
    assert!(s.voter_waiting(), "the voter may cast the ballot again");
    assert_eq!(s.alarms()[Alarm::StateMismatch.index()], 0);
    s.cast(t0 + 200, &all_blank(&s)).unwrap();
    assert_eq!(s.ballots(), 2);
}

/// Someone with the machine's disk removes, adds or corrupts a ballot, or
/// edits the journal: on the next start the station raises the
/// state-mismatch alarm, and that alarm is on the signed acta; an edited
/// journal stops the machine with a message. Nothing is silently repaired.
#[test]
fn an_edited_station_disk_is_an_alarm_on_the_acta() {
    let g = election();
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    let fresh = |dir: &std::path::Path| {
        let mut s = on_disk(&g, dir);
        s.open(t0).unwrap();
        for (k, v) in r.voters[..2].iter().enumerate() {
            s.authenticate(t0 + 60 + 60 * k as u64, &v.id, v.template, None)
                .unwrap();
            s.cast(t0 + 90 + 60 * k as u64, &first_choices(&s)).unwrap();
        }
        s.stop().unwrap();
    };
    let slots_of = |dir: &std::path::Path| {
        let b = std::fs::read(dir.join("ballots.slots")).unwrap();
        let size = b.len() / g.election.tables[0].registered as usize;
        (b, size)
    };

    // Untouched: no alarm.
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let s = Station::load(dir.path(), t0 + 300).unwrap();
    assert_eq!(s.alarms()[Alarm::StateMismatch.index()], 0);
    drop(s);

    // A ballot removed from the box.
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let (mut b, size) = slots_of(dir.path());
    let used = (0..b.len() / size)
        .find(|i| b[i * size..(i + 1) * size].iter().any(|&x| x != 0))
        .unwrap();
    b[used * size..(used + 1) * size].fill(0);
    std::fs::write(dir.path().join("ballots.slots"), &b).unwrap();
    let mut s = Station::load(dir.path(), t0 + 300).unwrap();
    assert_eq!(s.alarms()[Alarm::StateMismatch.index()], 1);
    let acta = Acta::open(s.close(t0 + 400).unwrap().as_bytes(), &g.election)
        .unwrap()
        .acta;
    assert_eq!(
        acta.alarms[Alarm::StateMismatch.index()],
        1,
        "on the signed acta"
    );
    assert_eq!(acta.ballots, 2, "the journal's count");
    assert_eq!(
        acta.contest("PRES").unwrap().votes[0].1,
        1,
        "the counts are what the box holds, not repaired"
    );

    // A ballot stuffed in: a well-formed slot the journal never saw.
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let (mut b, size) = slots_of(dir.path());
    let used = (0..b.len() / size)
        .find(|i| b[i * size..(i + 1) * size].iter().any(|&x| x != 0))
        .unwrap();
    let free = (0..b.len() / size)
        .find(|i| b[i * size..(i + 1) * size].iter().all(|&x| x == 0))
        .unwrap();
    let copy = b[used * size..(used + 1) * size].to_vec();
    b[free * size..(free + 1) * size].copy_from_slice(&copy);
    std::fs::write(dir.path().join("ballots.slots"), &b).unwrap();
    let s = Station::load(dir.path(), t0 + 300).unwrap();
    assert_eq!(s.alarms()[Alarm::StateMismatch.index()], 1);
    assert!(s
        .journal()
        .last()
        .unwrap()
        .contains("3 ballot records in the slots, 2 ballots in the journal"));
    drop(s);

    // A journal line rewritten into something the format does not allow.
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let path = dir.path().join("journal.log");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("authenticated\n", "authenticated V00000001\n", 1),
    )
    .unwrap();
    let e = Station::load(dir.path(), t0 + 300).unwrap_err().to_string();
    assert!(e.contains("journal.log") && e.contains("line 2"), "{e}");
}

/// SYSTEM.md §4: nothing on the disk, the journal or the exports orders the
/// ballots or names a voter.
#[test]
fn ballots_are_stored_without_order_or_voter() {
    let g = election();
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    let voters = &r.voters[..6];
    let marks = |s: &Station, k: usize| -> Vec<Mark> {
        s.ballot()
            .iter()
            .map(|c| {
                let ch = c.choices();
                Mark::Choices(vec![ch[k % ch.len()].clone()])
            })
            .collect()
    };
    let run = |order: &[usize]| {
        let dir = tempfile::tempdir().unwrap();
        let mut s = on_disk(&g, dir.path());
        s.open(t0).unwrap();
        for (n, &k) in order.iter().enumerate() {
            let t = t0 + 60 * (n as u64 + 1);
            s.authenticate(t, &voters[k].id, voters[k].template, None)
                .unwrap();
            s.cast(t + 30, &marks(&s, k)).unwrap();
        }
        let journal = s.journal_text();
        let mut records = s.records().to_vec();
        records.sort();
        let root = s.records_root();
        (dir, journal, records, root)
    };
    let (dir_a, journal_a, a, root_a) = run(&[0, 1, 2, 3, 4, 5]);
    let (_dir_b, _, b, root_b) = run(&[5, 3, 1, 0, 4, 2]);
    assert_eq!(
        a, b,
        "the same voters in another order: byte-identical records"
    );
    assert_eq!(root_a, root_b);
    for v in voters {
        assert!(!journal_a.contains(&v.id), "the journal names no voter");
    }
    for rec in &a {
        assert!(rec.starts_with("ballot/v1\n"));
        assert!(!rec.contains(":"), "no time on a ballot record: {rec}");
    }
    // The slot file holds the records, each in its own fixed-size slot,
    // and nothing else: no counter, no time.
    let slots = std::fs::read(dir_a.path().join("ballots.slots")).unwrap();
    let size = slots.len() / g.election.tables[0].registered as usize;
    let used: Vec<usize> = (0..slots.len() / size)
        .filter(|i| slots[i * size..(i + 1) * size].iter().any(|&x| x != 0))
        .collect();
    assert_eq!(used.len(), 6);
    // Six ballots in slots drawn at random are not the first six slots in
    // order (with hundreds of slots, the chance that they are is below 1e-15).
    assert_ne!(used, (0..6).collect::<Vec<_>>());
}

/// Closing before the scheduled time is allowed, with its alarm.
#[test]
fn closing_early_raises_the_schedule_alarm() {
    let g = election();
    let (mut s, _) = station(&g, 0);
    let t0 = opens(&g);
    s.open(t0).unwrap();
    let acta = Acta::open(s.close(t0 + 3600).unwrap().as_bytes(), &g.election)
        .unwrap()
        .acta;
    assert_eq!(acta.alarms[Alarm::OutsideSchedule.index()], 1);
    assert!(s
        .journal()
        .iter()
        .any(|l| l.contains("closed before the scheduled")));
}

/// A record the station's writer never makes (a choice twice, two marks in
/// a vote-for-one contest) put in a slot with a valid hash is not counted:
/// it is a state-mismatch alarm. An acta already printed is served as
/// printed, even if the disk is edited after closing.
#[test]
fn only_canonical_records_count_and_a_printed_acta_stays_printed() {
    let g = election();
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    let dir = tempfile::tempdir().unwrap();
    let mut s = on_disk(&g, dir.path());
    s.open(t0).unwrap();
    s.authenticate(t0 + 60, &r.voters[0].id, r.voters[0].template, None)
        .unwrap();
    let record = s.cast(t0 + 90, &first_choices(&s)).unwrap();
    s.stop().unwrap();
    let path = dir.path().join("ballots.slots");
    let mut b = std::fs::read(&path).unwrap();
    let size = b.len() / g.election.tables[0].registered as usize;
    let used = (0..b.len() / size)
        .find(|i| b[i * size..(i + 1) * size].iter().any(|&x| x != 0))
        .unwrap();
    // The same ballot with its PRES choice written twice.
    let pres = record.lines().find(|l| l.starts_with("PRES ")).unwrap();
    let doubled = record.replace(pres, &format!("{pres},{}", &pres[5..]));
    use sha2::Digest;
    let mut slot = vec![0u8; size];
    slot[..32].copy_from_slice(&sha2::Sha256::digest(doubled.as_bytes()));
    slot[32..34].copy_from_slice(&(doubled.len() as u16).to_le_bytes());
    slot[34..34 + doubled.len()].copy_from_slice(doubled.as_bytes());
    b[used * size..(used + 1) * size].copy_from_slice(&slot);
    std::fs::write(&path, &b).unwrap();
    let mut s = Station::load(dir.path(), t0 + 120).unwrap();
    assert_eq!(s.alarms()[Alarm::StateMismatch.index()], 1);
    let acta = s.close(time::parse(&g.election.closes).unwrap()).unwrap();
    let counted = Acta::open(acta.as_bytes(), &g.election).unwrap().acta;
    let votes: u32 = counted
        .contest("PRES")
        .unwrap()
        .votes
        .iter()
        .map(|v| v.1)
        .sum();
    assert_eq!(votes, 0, "the doubled record is not counted");
    drop(s);

    // After closing, the box is emptied on disk: the acta is still the one
    // printed, and the start says what changed.
    let mut b = std::fs::read(&path).unwrap();
    b.fill(0);
    std::fs::write(&path, &b).unwrap();
    let s = Station::load(dir.path(), t0 + 99_999).unwrap();
    assert_eq!(s.signed_acta().unwrap(), acta);
    assert!(s.journal().iter().any(|l| l.contains("acta.note differs")));
}
