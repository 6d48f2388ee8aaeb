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

#[test]
fn a_station_resumes_from_disk_and_an_unclean_stop_is_an_alarm() {
    let g = election();
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    let mut s = Station::create(
        dir.path(),
        g.package.as_bytes(),
        &g.trust.to_text(),
        &r,
        &g.machines[0].clone(),
        &g.election.tables[0].id,
    )
    .unwrap();
    s.open(t0).unwrap();
    s.save(dir.path(), true).unwrap();
    let mut s = Station::load(dir.path(), t0 + 30).unwrap();
    s.authenticate(t0 + 60, &r.voters[0].id, r.voters[0].template, None)
        .unwrap();
    s.cast(t0 + 90, &all_blank(&s)).unwrap();
    s.save(dir.path(), true).unwrap();
    let s = Station::load(dir.path(), t0 + 120).unwrap();
    assert_eq!(s.acta().ballots, 1);
    assert_eq!(s.alarms()[Alarm::Restart.index()], 0);
    drop(s); // the process "dies" without a clean save
    let mut s = Station::load(dir.path(), t0 + 400).unwrap();
    assert_eq!(s.alarms()[Alarm::Restart.index()], 1);
    assert!(matches!(
        s.authenticate(t0 + 500, &r.voters[0].id, r.voters[0].template, None),
        Err(Error::AlreadyVoted(_))
    ));
    // A key not certified for this table cannot be provisioned.
    assert!(Station::provision(
        &g.election,
        &g.election.tables[0].id,
        r.clone(),
        g.machines[1].clone()
    )
    .is_err());
}

/// Someone with the machine's disk edits its stored counts, or its journal:
/// on the next start the station re-derives the counts from its ballot
/// records and re-hashes its journal, raises the state-mismatch alarm, and
/// that alarm is on the signed acta. Nothing is silently repaired.
#[test]
fn an_edited_station_state_is_an_alarm_on_the_acta() {
    let g = election();
    let (r, _) = g.roll(0);
    let t0 = opens(&g);
    let fresh = |dir: &std::path::Path| {
        let mut s = Station::create(
            dir,
            g.package.as_bytes(),
            &g.trust.to_text(),
            &r,
            &g.machines[0],
            &g.election.tables[0].id,
        )
        .unwrap();
        s.open(t0).unwrap();
        s.authenticate(t0 + 60, &r.voters[0].id, r.voters[0].template, None)
            .unwrap();
        let marks: Vec<Mark> = s
            .ballot()
            .iter()
            .map(|c| Mark::Choices(vec![c.choices()[0].clone()]))
            .collect();
        s.cast(t0 + 90, &marks).unwrap();
        s.save(dir, true).unwrap();
    };

    // Untouched: no alarm.
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let s = Station::load(dir.path(), t0 + 120).unwrap();
    assert_eq!(s.alarms()[Alarm::StateMismatch.index()], 0);

    // A count moved from one choice to another in state.json.
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let path = dir.path().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let pres = &mut state["counts"]["PRES"][0];
    let choices: Vec<String> = pres.as_object().unwrap().keys().cloned().collect();
    pres[&choices[0]] = 0.into();
    pres[&choices[1]] = 1.into();
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let mut s = Station::load(dir.path(), t0 + 120).unwrap();
    assert!(s.alarms()[Alarm::StateMismatch.index()] >= 1);
    let acta = Acta::open(s.close(t0 + 200).unwrap().as_bytes(), &g.election)
        .unwrap()
        .acta;
    assert!(
        acta.alarms[Alarm::StateMismatch.index()] >= 1,
        "the alarm is on the signed acta"
    );
    let pres = acta.contest("PRES").unwrap();
    assert_eq!(
        pres.votes[1].1, 1,
        "the edited count is not silently repaired"
    );

    // A journal line rewritten.
    let dir = tempfile::tempdir().unwrap();
    fresh(dir.path());
    let path = dir.path().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["journal"][1] = "2026-12-06T10:01:00Z authenticated V00000000".into();
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let s = Station::load(dir.path(), t0 + 120).unwrap();
    assert!(s.alarms()[Alarm::StateMismatch.index()] >= 1);
    assert!(s
        .journal()
        .iter()
        .any(|l| l.contains("state-mismatch") && l.contains("journal")));
}
