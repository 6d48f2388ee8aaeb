//! The audit workflow over a synthetic election: an honest audit is
//! re-derived step by step and confirmed; every step a dishonest authority
//! could log out of turn or bent — a seed before the manifest, a manifest
//! that is not the log's, hand-picked tables, a risk the counts do not give
//! — is disputed by the replay, naming the step.

use std::collections::BTreeMap;

use acta_audit::workflow::{self, Next, Population, Reported};
use acta_election::Election;
use acta_sheet::audit::{AuditMethod, AuditNote, AuditStep, HandCount, Mark, Receipt, Verdict};
use acta_sheet::Acta;
use acta_tlog::Checkpoint;

struct Fixture {
    election: Election,
    population: Population,
    actas: BTreeMap<String, Acta>,
    checkpoint: Checkpoint,
}

fn fixture(tables: usize) -> Fixture {
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options { seed: 7, tables });
    let election = g.election.clone();
    let mut population = Population::default();
    let mut actas = BTreeMap::new();
    for signed in acta_synth::direct::actas(&g, 11) {
        let o = Acta::open(signed.as_bytes(), &election).unwrap();
        let votes = o
            .acta
            .contests
            .iter()
            .map(|c| {
                (
                    c.contest.clone(),
                    c.votes
                        .iter()
                        .map(|(k, n)| (k.clone(), u64::from(*n)))
                        .collect(),
                )
            })
            .collect();
        population.counted.push(Reported {
            table: o.acta.table.clone(),
            acta: o.body_hash,
            ballots: u64::from(o.acta.ballots),
            registered: u64::from(o.acta.registered),
            votes,
        });
        actas.insert(o.acta.table.clone(), o.acta);
    }
    population.counted.sort_by(|a, b| a.table.cmp(&b.table));
    let checkpoint = Checkpoint {
        origin: election.log_origin.clone(),
        size: 2 * tables as u64,
        root: [7; 32],
    };
    Fixture {
        election,
        population,
        actas,
        checkpoint,
    }
}

/// The hand count that agrees with the acta.
fn honest(acta: &Acta) -> (u64, Vec<HandCount>) {
    (
        u64::from(acta.ballots),
        acta.contests.iter().map(HandCount::agreeing).collect(),
    )
}

fn note(e: &Election, step: AuditStep) -> AuditNote {
    AuditNote {
        election: e.id.clone(),
        audit: "POST-1".into(),
        step,
    }
}

/// Runs an audit to its end, logging every step as the authority's tool
/// derives it; `count` gives each drawn table's hand count.
fn run(
    f: &Fixture,
    contests: &[String],
    count: impl Fn(&Acta) -> (u64, Vec<HandCount>),
) -> (Vec<(u64, [u8; 32], AuditNote)>, workflow::Audit) {
    run_with(
        f,
        AuditMethod::Batch,
        contests,
        count,
        |_, _| unreachable!(),
    )
}

/// The receipts in a table's box, in box order, as the acta says: per
/// contest its choices one receipt each, then blank, then null (every
/// synthetic ballot marks one choice per contest).
fn box_of(acta: &Acta) -> Vec<Vec<(String, Mark)>> {
    let mut out: Vec<Vec<(String, Mark)>> = vec![Vec::new(); acta.ballots as usize];
    for c in &acta.contests {
        let mut marks: Vec<Mark> = Vec::new();
        for (k, n) in &c.votes {
            marks.extend((0..*n).map(|_| Mark::Choices(vec![k.clone()])));
        }
        marks.extend((0..c.blank).map(|_| Mark::Blank));
        marks.extend((0..c.null).map(|_| Mark::Null));
        for (r, m) in out.iter_mut().zip(marks) {
            r.push((c.contest.clone(), m));
        }
    }
    out
}

fn run_with(
    f: &Fixture,
    method: AuditMethod,
    contests: &[String],
    count: impl Fn(&Acta) -> (u64, Vec<HandCount>),
    read: impl Fn(&Acta, u64) -> Vec<(String, Mark)>,
) -> (Vec<(u64, [u8; 32], AuditNote)>, workflow::Audit) {
    let e = &f.election;
    let commit = workflow::commit(
        e,
        &f.population,
        f.checkpoint.clone(),
        "POST-1",
        method,
        50_000,
        3,
        contests,
    )
    .unwrap();
    let hash = acta_sheet::body_hash(&commit.to_text());
    let mut log = vec![(f.checkpoint.size, hash, commit.clone())];
    let mut a =
        workflow::Audit::start(e, f.checkpoint.size, hash, &commit, f.population.clone()).unwrap();
    let mut push = |a: &mut workflow::Audit, step: AuditStep| {
        a.apply(e, &step).unwrap();
        let n = note(e, step);
        let h = acta_sheet::body_hash(&n.to_text());
        log.push((log.len() as u64 + f.checkpoint.size, h, n));
    };
    push(
        &mut a,
        AuditStep::Seed {
            commitment: hash,
            contributions: vec![
                ("PARTY-A".into(), "31415926535".into()),
                ("PARTY-B".into(), "27182818284".into()),
            ],
            seed: "3141592653527182818284".into(),
        },
    );
    loop {
        match a.next() {
            Next::Round(_) => {
                let s = a.derive_round().unwrap();
                push(&mut a, s);
            }
            Next::Count(tables) if method == AuditMethod::Polling => {
                for t in tables {
                    let receipts: Vec<Receipt> = a.unread[&t]
                        .iter()
                        .map(|&k| Receipt {
                            position: k,
                            marks: read(&f.actas[&t], k),
                        })
                        .collect();
                    push(
                        &mut a,
                        AuditStep::Receipts {
                            commitment: hash,
                            table: t,
                            receipts,
                        },
                    );
                }
            }
            Next::Count(tables) => {
                for t in tables {
                    let (receipts, contests) = count(&f.actas[&t]);
                    push(
                        &mut a,
                        AuditStep::Count {
                            commitment: hash,
                            table: t,
                            receipts,
                            contests,
                        },
                    );
                }
            }
            Next::Risk(_) => {
                let s = a.derive_risk(e).unwrap();
                push(&mut a, s);
            }
            Next::Done(_) => break,
            Next::Seed => unreachable!("seeded above"),
        }
    }
    (log, a)
}

fn plurality(e: &Election) -> String {
    e.contests
        .iter()
        .find(|c| c.scope.is_empty() && c.kind == acta_election::Kind::Plurality)
        .unwrap()
        .id
        .clone()
}

fn replay(f: &Fixture, log: &[(u64, [u8; 32], AuditNote)]) -> workflow::Replay {
    workflow::replay(&f.election, log, |cp, _| {
        if *cp == f.checkpoint {
            Ok(f.population.clone())
        } else {
            Err("not this log's checkpoint".into())
        }
    })
}

#[test]
fn an_honest_audit_is_confirmed_in_one_round_and_replays_without_dispute() {
    let f = fixture(40);
    let c = plurality(&f.election);
    let (log, a) = run(&f, std::slice::from_ref(&c), honest);
    assert_eq!(a.next(), Next::Done(Verdict::Confirmed));
    assert_eq!(a.rounds.len(), 1, "clean counts confirm in the first round");
    // Within the expected number of tables: no more than round 1's draws.
    let plan = &a.plans[0];
    let n0 = workflow::first_round(0.05, plan.total_bound());
    assert!(
        a.counts.len() as u64 <= n0,
        "{} tables for {n0} draws",
        a.counts.len()
    );
    let AuditStep::Risk { contests, .. } = &log.last().unwrap().2.step else {
        panic!("the audit ends with its risk")
    };
    assert!(
        contests[0].risk <= 50_000,
        "risk {} over the limit",
        contests[0].risk
    );
    let r = replay(&f, &log);
    assert!(r.disputes.is_empty(), "{:?}", r.disputes);
    assert_eq!(r.audits["POST-1"].next(), Next::Done(Verdict::Confirmed));
    // Every step's text parses back to itself.
    for (_, _, n) in &log {
        assert_eq!(AuditNote::parse(&n.to_text()).unwrap(), *n);
    }
}

#[test]
fn receipts_that_contradict_the_actas_end_in_a_full_hand_count() {
    let f = fixture(40);
    let c = plurality(&f.election);
    // Every box holds receipts for the runner-up where the acta says the
    // winner: the hand count gives all of the winner's votes to the loser.
    let plan = workflow::plan(&f.election, &f.population, &c).unwrap();
    let (w, l) = (
        plan.assertions[0].winner.clone(),
        plan.assertions[0].loser.clone(),
    );
    let (log, a) = run(&f, std::slice::from_ref(&c), |acta| {
        let (n, mut cs) = honest(acta);
        for h in cs.iter_mut().filter(|h| h.contest == c) {
            let moved: u64 = h
                .votes
                .iter_mut()
                .filter(|(k, _)| acta_election::candidate_of(k) == w)
                .map(|(_, n)| std::mem::take(n))
                .sum();
            let to = h
                .votes
                .iter()
                .position(|(k, _)| acta_election::candidate_of(k) == l)
                .unwrap();
            h.votes[to].1 += moved;
        }
        (n, cs)
    });
    assert_eq!(a.next(), Next::Done(Verdict::FullHandCount));
    assert!(replay(&f, &log).disputes.is_empty());
}

#[test]
fn steps_out_of_turn_or_bent_are_disputed() {
    let f = fixture(30);
    let c = plurality(&f.election);
    let (log, _) = run(&f, std::slice::from_ref(&c), honest);
    let seed_at = 1;
    let round_at = 2;
    let risk_at = log.len() - 1;
    let dispute_of = |log: &[(u64, [u8; 32], AuditNote)]| {
        let r = replay(&f, log);
        assert!(!r.disputes.is_empty(), "a bent log must be disputed");
        r.disputes[0].clone()
    };

    // A seed logged before the manifest.
    let mut bent = log.clone();
    bent.swap(0, seed_at);
    let d = dispute_of(&bent);
    assert_eq!(d.step, "seed");
    assert!(d.what.contains("no manifest"), "{}", d.what);

    // A manifest that leaves a table out.
    let mut bent = log.clone();
    let AuditStep::Commit(cm) = &mut bent[0].2.step else {
        panic!()
    };
    cm.tables -= 1;
    let d = dispute_of(&bent);
    assert_eq!(d.step, "commit");
    assert!(d.what.contains("counted"), "{}", d.what);

    // A round whose tables were hand-picked instead of drawn.
    let mut bent = log.clone();
    let AuditStep::Round { tables, .. } = &mut bent[round_at].2.step else {
        panic!()
    };
    let picked = f
        .population
        .counted
        .iter()
        .map(|r| r.table.clone())
        .find(|t| !tables.contains(t))
        .unwrap();
    tables[0] = picked;
    tables.sort();
    let d = dispute_of(&bent);
    assert_eq!((d.step.as_str(), d.index), ("round", bent[round_at].0));

    // A risk that says confirmed at a lower risk than the counts give.
    let mut bent = log.clone();
    let AuditStep::Risk { contests, .. } = &mut bent[risk_at].2.step else {
        panic!()
    };
    contests[0].risk = contests[0].risk.saturating_sub(1).max(1) / 2;
    let d = dispute_of(&bent);
    assert_eq!(d.step, "risk");

    // A seed of one party's digits only.
    let mut bent = log.clone();
    if let AuditStep::Seed {
        contributions,
        seed,
        ..
    } = &mut bent[seed_at].2.step
    {
        contributions.truncate(1);
        *seed = contributions[0].1.clone();
    }
    let d = dispute_of(&bent);
    assert!(d.what.contains("at least 2 parties"), "{}", d.what);

    // A hand count of a table nobody drew.
    let mut bent = log.clone();
    let count_at = bent
        .iter()
        .position(|(_, _, n)| matches!(n.step, AuditStep::Count { .. }))
        .unwrap();
    let AuditStep::Count { table, .. } = &mut bent[count_at].2.step else {
        panic!()
    };
    *table = picked_not_drawn(&f, &log);
    let d = dispute_of(&bent);
    assert_eq!(d.step, "count");

    // A manifest at a checkpoint that is not the log's.
    let mut bent = log.clone();
    let AuditStep::Commit(cm) = &mut bent[0].2.step else {
        panic!()
    };
    cm.checkpoint.root = [8; 32];
    let d = dispute_of(&bent);
    assert_eq!(d.step, "commit");
    // …and everything after it follows a disputed manifest.
    assert_eq!(replay(&f, &bent).disputes.len(), bent.len());
}

fn picked_not_drawn(f: &Fixture, log: &[(u64, [u8; 32], AuditNote)]) -> String {
    let drawn: Vec<&String> = log
        .iter()
        .filter_map(|(_, _, n)| match &n.step {
            AuditStep::Round { tables, .. } => Some(tables),
            _ => None,
        })
        .flatten()
        .collect();
    f.population
        .counted
        .iter()
        .map(|r| r.table.clone())
        .find(|t| !drawn.contains(&t))
        .unwrap()
}

#[test]
fn every_contest_kind_has_assertions_whose_margins_are_the_reported_ones() {
    let f = fixture(30);
    for c in &f.election.contests {
        let p = workflow::plan(&f.election, &f.population, &c.id).unwrap();
        if p.total == 0 {
            continue;
        }
        assert!(!p.assertions.is_empty(), "{}", c.id);
        assert!(p.margins.iter().all(|&v| v > 0), "{}", c.id);
        // U ≥ 1: the error bounds cover at least the margin.
        assert!(p.total_bound() >= 1.0, "{} U = {}", c.id, p.total_bound());
    }
}

#[test]
fn missing_tables_count_against_the_winner() {
    let mut f = fixture(30);
    let c = plurality(&f.election);
    let full = workflow::plan(&f.election, &f.population, &c).unwrap();
    let gone = f.population.counted.remove(3);
    f.population.missing.push((gone.table.clone(), 1_000_000));
    let p = workflow::plan(&f.election, &f.population, &c).unwrap();
    assert_eq!(
        p.total, 0,
        "a million voters missing can overturn any margin"
    );
    assert!(full.total > 0);
}

#[test]
fn the_citizen_check_risk_is_the_chance_of_missing_every_table_that_could_overturn() {
    let f = fixture(40);
    let c = plurality(&f.election);
    let p = workflow::plan(&f.election, &f.population, &c).unwrap();
    let none = workflow::citizen_check(&p, 0);
    assert_eq!(none.risk, 1.0, "checking nothing limits nothing");
    let all = workflow::citizen_check(&p, 40);
    assert_eq!(all.risk, 0.0, "checking every table leaves no risk");
    let m = all.fewest_wrong.unwrap();
    // The m largest bounds cover the margin; m − 1 do not.
    let mut b: Vec<u64> = p.weights.iter().map(|(_, w)| *w).collect();
    b.sort_unstable_by(|x, y| y.cmp(x));
    assert!(b[..m as usize].iter().sum::<u64>() >= workflow::SCALE);
    assert!(b[..m as usize - 1].iter().sum::<u64>() < workflow::SCALE);
    // Hypergeometric: missing all m of N in k draws.
    let half = workflow::citizen_check(&p, 20);
    let mut want = 1.0;
    for i in 0..20u64 {
        want *= (40 - m - i) as f64 / (40 - i) as f64;
    }
    assert!((half.risk - want).abs() < 1e-12);
    assert!(half.risk < none.risk && half.risk > all.risk);
}

#[test]
fn ballot_polling_confirms_a_clean_election_and_not_a_wrong_one() {
    let f = fixture(40);
    let c = plurality(&f.election);
    let honest_box = |acta: &Acta, k: u64| box_of(acta)[k as usize - 1].clone();
    let (log, a) = run_with(
        &f,
        AuditMethod::Polling,
        std::slice::from_ref(&c),
        |_| unreachable!(),
        honest_box,
    );
    assert_eq!(a.next(), Next::Done(Verdict::Confirmed), "{:?}", a.risks);
    let drawn: usize = a.positions().values().map(|p| p.len()).sum();
    let ballots = a.plans[0].ballots as usize;
    assert!(drawn < ballots / 4, "{drawn} receipts of {ballots}");
    let r = replay(&f, &log);
    assert!(r.disputes.is_empty(), "{:?}", r.disputes);

    // Every receipt that says the winner says the runner-up on paper.
    let plan = workflow::plan(&f.election, &f.population, &c).unwrap();
    let tight = (0..plan.margins.len())
        .min_by_key(|&i| plan.margins[i])
        .unwrap();
    let (w, l) = (
        plan.assertions[tight].winner.clone(),
        plan.assertions[tight].loser.clone(),
    );
    let l_card = f
        .election
        .contest(&c)
        .unwrap()
        .choices()
        .into_iter()
        .find(|k| acta_election::candidate_of(k) == l)
        .unwrap();
    let (log, a) = run_with(
        &f,
        AuditMethod::Polling,
        std::slice::from_ref(&c),
        |_| unreachable!(),
        |acta, k| {
            let mut r = box_of(acta)[k as usize - 1].clone();
            for (contest, m) in r.iter_mut() {
                if *contest == c {
                    if let Mark::Choices(cs) = m {
                        if acta_election::candidate_of(&cs[0]) == w {
                            *cs = vec![l_card.clone()];
                        }
                    }
                }
            }
            r
        },
    );
    assert_eq!(a.next(), Next::Done(Verdict::FullHandCount));
    assert!(replay(&f, &log).disputes.is_empty());

    // A reading of receipts nobody drew is disputed.
    let (mut log, _) = run_with(
        &f,
        AuditMethod::Polling,
        std::slice::from_ref(&c),
        |_| unreachable!(),
        honest_box,
    );
    let at = log
        .iter()
        .position(|(_, _, n)| matches!(n.step, AuditStep::Receipts { .. }))
        .unwrap();
    let AuditStep::Receipts { receipts, .. } = &mut log[at].2.step else {
        panic!()
    };
    receipts[0].position += 1_000_000;
    receipts.sort_by_key(|r| r.position);
    let r = replay(&f, &log);
    assert_eq!(r.disputes[0].step, "receipts");
    assert!(
        r.disputes[0].what.contains("drawn and not yet read"),
        "{}",
        r.disputes[0].what
    );
}

#[test]
fn every_national_contest_kind_is_polled_and_replays() {
    let f = fixture(40);
    let national: Vec<String> = f
        .election
        .contests
        .iter()
        .filter(|c| c.scope.is_empty())
        .map(|c| c.id.clone())
        .collect();
    let (log, a) = run_with(
        &f,
        AuditMethod::Polling,
        &national,
        |_| unreachable!(),
        |acta, k| box_of(acta)[k as usize - 1].clone(),
    );
    let (cs, _) = a.risks.last().unwrap();
    assert!(replay(&f, &log).disputes.is_empty());
    for c in cs {
        let kind = f.election.contest(&c.contest).unwrap().kind;
        match kind {
            // Wide margins: confirmed by the receipts drawn.
            acta_election::Kind::Plurality | acta_election::Kind::Referendum => {
                assert_eq!(c.verdict, Verdict::Confirmed, "{}", c.contest)
            }
            // The last seat against the next one is a thin margin (a few
            // hundred weighted votes in 17,640 ballots): three rounds of
            // polling cannot confirm it, and the audit says so.
            _ => assert_eq!(c.verdict, Verdict::FullHandCount, "{}", c.contest),
        }
    }
}

fn referendum(e: &Election) -> String {
    e.contests
        .iter()
        .find(|c| c.kind == acta_election::Kind::Referendum)
        .unwrap()
        .id
        .clone()
}

/// A table that reports every voter on its roll for the loser can never be
/// drawn (its error bound is 0); a complete count of the others must still
/// count it against the winner. Here the other boxes hold just enough of
/// the winner's votes for the loser that the outcome is wrong only once
/// that table is counted: the audit must not confirm.
#[test]
fn a_table_that_cannot_be_drawn_still_counts_in_a_complete_count() {
    let mut f = fixture(6);
    let c = referendum(&f.election);
    let plan = workflow::plan(&f.election, &f.population, &c).unwrap();
    let (w, l) = (
        plan.assertions[0].winner.clone(),
        plan.assertions[0].loser.clone(),
    );
    // Table 0 reports its whole roll for the loser.
    let r0 = &mut f.population.counted[0];
    let roll = r0.registered;
    r0.ballots = roll;
    let v = r0.votes.get_mut(&c).unwrap();
    v.insert(w.clone(), 0);
    v.insert(l.clone(), roll);
    let t0 = r0.table.clone();
    let plan = workflow::plan(&f.election, &f.population, &c).unwrap();
    assert_eq!(
        plan.weights.iter().find(|(t, _)| *t == t0).unwrap().1,
        0,
        "its error bound is 0"
    );
    let margin = plan.margins[0];
    assert!(margin > 0);
    // Move S = (margin + roll/2)/2 of the winner's votes to the loser over
    // the other boxes: the others alone still favour the winner by about
    // roll/2, the whole election favours the loser.
    let s = ((margin + i128::from(roll) / 2) / 2) as u64;
    let others: u64 = f
        .actas
        .iter()
        .filter(|(t, _)| **t != t0)
        .map(|(_, a)| {
            a.contests.iter().find(|x| x.contest == c).map_or(0, |x| {
                x.votes
                    .iter()
                    .find(|(k, _)| *k == w)
                    .map_or(0, |(_, n)| u64::from(*n))
            })
        })
        .sum();
    let (log, a) = run(&f, std::slice::from_ref(&c), |acta| {
        let (n, mut cs) = honest(acta);
        for h in cs.iter_mut().filter(|h| h.contest == c) {
            let have = h.votes.iter().find(|(k, _)| *k == w).unwrap().1;
            let moved = have * s / others;
            h.votes.iter_mut().find(|(k, _)| *k == w).unwrap().1 -= moved;
            h.votes.iter_mut().find(|(k, _)| *k == l).unwrap().1 += moved;
        }
        (n, cs)
    });
    assert_ne!(a.next(), Next::Done(Verdict::Confirmed), "{:?}", a.risks);
    assert!(replay(&f, &log).disputes.is_empty());
}

/// A box with more receipts than its roll: no error bound holds, so the
/// audit ends in a full hand count.
#[test]
fn more_receipts_than_the_roll_is_a_full_hand_count() {
    let f = fixture(30);
    let c = plurality(&f.election);
    let (_, a) = run(&f, std::slice::from_ref(&c), |acta| {
        let (_, cs) = honest(acta);
        (u64::from(acta.registered) + 1, cs)
    });
    assert_eq!(a.next(), Next::Done(Verdict::FullHandCount));
}

/// A seed used again for another manifest, a name committed again after a
/// disputed manifest, and a risk limit no audit may take are refused or
/// disputed.
#[test]
fn second_tries_at_a_sample_are_disputed() {
    let f = fixture(30);
    let c = plurality(&f.election);
    let (log, _) = run(&f, std::slice::from_ref(&c), honest);

    // POST-2: a new manifest, then POST-1's seed again.
    let mut again = log.clone();
    let mut commit = log[0].2.clone();
    commit.audit = "POST-2".into();
    let h2 = acta_sheet::body_hash(&commit.to_text());
    let mut seed = log[1].2.clone();
    seed.audit = "POST-2".into();
    if let AuditStep::Seed { commitment, .. } = &mut seed.step {
        *commitment = h2;
    }
    let n = again.len() as u64 + 100;
    again.push((n, h2, commit));
    again.push((n + 1, acta_sheet::body_hash(&seed.to_text()), seed));
    let r = replay(&f, &again);
    assert_eq!(r.disputes.len(), 1, "{:?}", r.disputes);
    assert!(
        r.disputes[0].what.contains("already used by audit POST-1"),
        "{}",
        r.disputes[0].what
    );

    // POST-1 committed with a bent manifest, then committed again.
    let mut bent = log.clone();
    let AuditStep::Commit(cm) = &mut bent[0].2.step else {
        panic!()
    };
    cm.tables -= 1;
    let honest_commit = log[0].clone();
    bent.insert(1, (honest_commit.0 + 1, honest_commit.1, honest_commit.2));
    let r = replay(&f, &bent);
    assert!(
        r.disputes
            .iter()
            .any(|d| d.step == "commit" && d.what.contains("already committed")),
        "{:?}",
        r.disputes
    );
    assert!(!r.audits.contains_key("POST-1") || r.audits["POST-1"].commitment != log[0].1);

    // A risk limit of 0.5 is no audit.
    let e = workflow::commit(
        &f.election,
        &f.population,
        f.checkpoint.clone(),
        "LAX",
        AuditMethod::Batch,
        500_000,
        3,
        std::slice::from_ref(&c),
    )
    .unwrap_err();
    assert!(e.to_string().contains("at most 0.1"), "{e}");
}

/// Turns contest `c` into a near tie between its two leading candidates
/// (a candidate's votes are those of every party line `CANDIDATE/PARTY`
/// naming it): on each table their votes are split evenly, the odd vote
/// going to the first on one table in four; the actas and the manifest
/// agree.
fn nearly_tie(f: &mut Fixture, c: &str) {
    let who = |k: &str| k.split('/').next().unwrap_or(k).to_string();
    let mut national: BTreeMap<String, u64> = BTreeMap::new();
    for a in f.actas.values() {
        for cc in a.contests.iter().filter(|cc| cc.contest == c) {
            for (k, n) in &cc.votes {
                *national.entry(who(k)).or_default() += u64::from(*n);
            }
        }
    }
    let mut lead: Vec<(u64, String)> = national.into_iter().map(|(k, n)| (n, k)).collect();
    lead.sort_by(|a, b| b.cmp(a));
    let (first, second) = (lead[0].1.clone(), lead[1].1.clone());
    for (i, a) in f.actas.values_mut().enumerate() {
        for cc in a.contests.iter_mut().filter(|cc| cc.contest == c) {
            let sum = |w: &str, cc: &acta_sheet::ContestCount| -> u32 {
                cc.votes
                    .iter()
                    .filter(|(k, _)| who(k) == w)
                    .map(|(_, n)| *n)
                    .sum()
            };
            let (s0, s1) = (sum(&first, cc), sum(&second, cc));
            let total = s0 + s1;
            let want0 = total / 2 + if i % 4 == 0 { total % 2 } else { 0 };
            // Move votes line by line from the one over its share.
            let (from, to, mut moving) = if s0 > want0 {
                (first.clone(), second.clone(), s0 - want0)
            } else {
                (second.clone(), first.clone(), want0 - s0)
            };
            let target = cc.votes.iter().position(|(k, _)| who(k) == to).unwrap();
            for j in 0..cc.votes.len() {
                if moving == 0 {
                    break;
                }
                if who(&cc.votes[j].0) == from {
                    let m = moving.min(cc.votes[j].1);
                    cc.votes[j].1 -= m;
                    cc.votes[target].1 += m;
                    moving -= m;
                }
            }
        }
    }
    for r in &mut f.population.counted {
        let a = &f.actas[&r.table];
        let cc = a.contests.iter().find(|cc| cc.contest == c).unwrap();
        r.votes.insert(
            c.to_string(),
            cc.votes
                .iter()
                .map(|(k, n)| (k.clone(), u64::from(*n)))
                .collect(),
        );
    }
}

#[test]
fn a_round_longer_than_one_log_entry_is_cut_and_the_next_round_carries_on() {
    let mut f = fixture(3600);
    let c = plurality(&f.election);
    nearly_tie(&mut f, &c);
    // Every contest of the package at once: each adds its draws line, and
    // each after the cut one more table line, to the same step.
    let all: Vec<String> = f.election.contests.iter().map(|c| c.id.clone()).collect();
    assert!(all.len() > 50, "{} contests", all.len());
    let (log, a) = run(&f, &all, honest);
    let rounds: Vec<(usize, usize)> = log
        .iter()
        .filter_map(|(_, _, n)| match &n.step {
            AuditStep::Round { tables, .. } => Some((n.to_text().len(), tables.len())),
            _ => None,
        })
        .collect();
    eprintln!("rounds (bytes, tables): {rounds:?}");
    // Uncut, round 1 would list nearly every table: more than one entry.
    assert!(a.rounds[0].cut, "round 1 was not cut: {rounds:?}");
    assert!(
        rounds[0].0 > workflow::ROUND_STEP_BYTES - 8_000,
        "round 1 was cut well short of an entry: {rounds:?}"
    );
    assert!(rounds.len() >= 2, "the audit carried on: {rounds:?}");
    for (len, _) in &rounds {
        // The step and a center signature line fit one entry.
        assert!(*len + 200 <= acta_tlog::tile::MAX_ENTRY_BYTES, "{rounds:?}");
    }
    assert_eq!(a.next(), Next::Done(Verdict::Confirmed));
    let r = replay(&f, &log);
    assert!(r.disputes.is_empty(), "{:?}", r.disputes);
    assert_eq!(r.audits["POST-1"].next(), Next::Done(Verdict::Confirmed));
}
