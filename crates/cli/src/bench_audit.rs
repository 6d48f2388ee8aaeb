//! `acta bench audit`: the audit's measured risk. Many audits of one
//! synthetic election, each from its own seed and run to its end, in a world
//! where the receipts agree with the actas and in two where the announced
//! winner lost on the receipts; the share of wrong outcomes confirmed is the
//! risk, beside the risk limit.

use acta_audit::workflow::{self, Next};
use acta_election::Election;
use acta_sheet::audit::{
    fraction_text, parse_fraction, AuditMethod, AuditStep, HandCount, Mark, Receipt, Verdict,
};
use acta_tlog::Checkpoint;
use anyhow::{bail, Context, Result};

#[derive(clap::Args)]
pub struct SimArgs {
    /// Tables in the synthetic election.
    #[arg(long, default_value_t = 1000)]
    tables: usize,
    /// Audits per scenario, each from its own seed.
    #[arg(long, default_value_t = 2000)]
    trials: u64,
    /// The risk limit.
    #[arg(long, default_value = "0.05")]
    risk_limit: String,
    /// `batch` (MACRO, boxes) or `polling` (ALPHA, receipts).
    #[arg(long, default_value = "batch")]
    method: String,
    /// The announced margin of the contest, as a share of its ballots: the
    /// synthetic actas are moved, table by table in proportion, from the
    /// leader to the runner-up until the leader's lead is this share.
    #[arg(long, default_value = "0.05")]
    margin: String,
}

/// One scenario's figures.
struct Outcome {
    confirmed: u64,
    tables: u64,
    rounds: u64,
}

/// Receipt `k` (1-based) of a box whose tallies are `counts`: per contest,
/// the box holds its choices one receipt each in code order, then blank,
/// then null (and blank beyond, for a contest with fewer marks).
fn receipt_of(counts: &[HandCount], k: u64) -> Vec<(String, Mark)> {
    counts
        .iter()
        .map(|h| {
            let mut left = k - 1;
            for (code, n) in &h.votes {
                if left < *n {
                    return (h.contest.clone(), Mark::Choices(vec![code.clone()]));
                }
                left -= n;
            }
            let m = if left >= h.blank && left - h.blank < h.null {
                Mark::Null
            } else {
                Mark::Blank
            };
            (h.contest.clone(), m)
        })
        .collect()
}

/// Moves up to `most` votes of candidate `from`'s cards to candidate `to`'s
/// first card; returns how many moved.
fn move_votes(h: &mut HandCount, from: &str, to: &str, most: u64) -> u64 {
    let Some(dest) = h
        .votes
        .iter()
        .position(|(k, _)| acta_election::candidate_of(k) == to)
    else {
        return 0;
    };
    let mut moved = 0;
    for v in h.votes.iter_mut() {
        if acta_election::candidate_of(&v.0) == from {
            let m = v.1.min(most - moved);
            v.1 -= m;
            moved += m;
        }
    }
    h.votes[dest].1 += moved;
    moved
}

/// Runs one audit to its end with the hand counts `truth` gives.
fn simulate_one(
    election: &Election,
    start: &workflow::Audit,
    seed: String,
    truth: &std::collections::BTreeMap<String, Vec<HandCount>>,
) -> Result<(bool, u64, u64)> {
    let mut a = start.clone();
    let commitment = a.commitment;
    let step = |a: &mut workflow::Audit, s: AuditStep| {
        a.apply(election, &s)
            .map_err(|e| anyhow::anyhow!("simulated audit: {e}"))
    };
    step(
        &mut a,
        AuditStep::Seed {
            commitment,
            contributions: vec![
                ("SIM-A".into(), seed[..12].to_string()),
                ("SIM-B".into(), seed[12..].to_string()),
            ],
            seed,
        },
    )?;
    loop {
        match a.next() {
            Next::Round(_) => {
                let s = a.derive_round()?;
                step(&mut a, s)?;
            }
            Next::Count(tables) if a.commit.method == AuditMethod::Polling => {
                for t in tables {
                    let want: Vec<u64> = a.unread[&t].iter().copied().collect();
                    let receipts = want
                        .into_iter()
                        .map(|k| Receipt {
                            position: k,
                            marks: receipt_of(&truth[&t], k),
                        })
                        .collect();
                    let s = AuditStep::Receipts {
                        commitment,
                        receipts,
                        table: t,
                    };
                    step(&mut a, s)?;
                }
            }
            Next::Count(tables) => {
                for t in tables {
                    let s = AuditStep::Count {
                        commitment,
                        receipts: 0,
                        contests: truth[&t].clone(),
                        table: t,
                    };
                    step(&mut a, s)?;
                }
            }
            Next::Risk(_) => {
                let s = a.derive_risk(election)?;
                step(&mut a, s)?;
            }
            Next::Done(v) => {
                let work = if a.commit.method == AuditMethod::Polling {
                    a.readings.values().map(|r| r.len() as u64).sum()
                } else {
                    a.counts.len() as u64
                };
                return Ok((v == Verdict::Confirmed, work, a.rounds.len() as u64));
            }
            Next::Seed => bail!("seeded above"),
        }
    }
}

/// `acta bench audit`: the audit's risk, measured.
pub fn simulate(args: SimArgs) -> Result<()> {
    use rayon::prelude::*;
    use sha2::Digest as _;
    let alpha = parse_fraction(&args.risk_limit)
        .with_context(|| format!("--risk-limit {:?}", args.risk_limit))?;
    let method = AuditMethod::parse(&args.method)
        .with_context(|| format!("--method {:?}: batch or polling", args.method))?;
    eprintln!("making a synthetic election of {} tables…", args.tables);
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 2026,
        tables: args.tables,
    });
    let election = &g.election;
    let contest = election
        .contests
        .iter()
        .find(|c| c.scope.is_empty() && c.kind == acta_election::Kind::Plurality && c.seats == 1)
        .context("the synthetic election has no national single-winner contest")?;
    let mut population = workflow::Population::default();
    let mut reported: std::collections::BTreeMap<String, Vec<HandCount>> = Default::default();
    for signed in acta_synth::direct::actas(&g, 1) {
        let o = acta_sheet::Acta::open(signed.as_bytes(), election)?;
        let counts: Vec<HandCount> = o.acta.contests.iter().map(HandCount::agreeing).collect();
        population.counted.push(workflow::Reported {
            table: o.acta.table.clone(),
            acta: o.body_hash,
            ballots: u64::from(o.acta.ballots),
            registered: u64::from(o.acta.registered),
            votes: Default::default(),
        });
        reported.insert(o.acta.table.clone(), counts);
    }
    // Bring the announced lead down to the margin asked for.
    let want =
        parse_fraction(&args.margin).with_context(|| format!("--margin {:?}", args.margin))?;
    let candidate = |h: &HandCount, who: &str| -> u64 {
        h.votes
            .iter()
            .filter(|(k, _)| acta_election::candidate_of(k) == who)
            .map(|(_, n)| n)
            .sum()
    };
    let of_contest = |cs: &Vec<HandCount>| cs.iter().find(|h| h.contest == contest.id).cloned();
    let mut totals: std::collections::BTreeMap<String, u64> = Default::default();
    let mut ballots = 0u64;
    for cs in reported.values() {
        if let Some(h) = of_contest(cs) {
            for c in &contest.candidates {
                *totals.entry(c.id.clone()).or_default() += candidate(&h, &c.id);
            }
            ballots += h.votes.iter().map(|(_, n)| n).sum::<u64>() + h.blank + h.null;
        }
    }
    let mut ranked: Vec<(u64, String)> = totals.into_iter().map(|(k, n)| (n, k)).collect();
    ranked.sort_by(|a, b| b.cmp(a));
    let (lead, lw, ll) = (
        ranked[0].0 - ranked[1].0,
        ranked[0].1.clone(),
        ranked[1].1.clone(),
    );
    let target = ballots * u64::from(want) / 1_000_000;
    if lead > target {
        let shift = (lead - target) / 2;
        let from_total = ranked[0].0;
        for cs in reported.values_mut() {
            let Some(h) = cs.iter_mut().find(|h| h.contest == contest.id) else {
                continue;
            };
            let take = candidate(h, &lw) * shift / from_total;
            move_votes(h, &lw, &ll, take);
        }
    }
    for r in &mut population.counted {
        r.votes = reported[&r.table]
            .iter()
            .map(|h| (h.contest.clone(), h.votes.iter().cloned().collect()))
            .collect();
    }
    let checkpoint = Checkpoint {
        origin: election.log_origin.clone(),
        size: args.tables as u64,
        root: [0; 32],
    };
    let commit = workflow::commit(
        election,
        &population,
        checkpoint,
        "SIM",
        method,
        alpha,
        4,
        std::slice::from_ref(&contest.id),
    )?;
    let hash = acta_sheet::body_hash(&commit.to_text());
    let start = workflow::Audit::start(election, args.tables as u64, hash, &commit, population)
        .map_err(|e| anyhow::anyhow!(e))?;
    let plan = &start.plans[0];
    // The binding assertion: the winner against the runner-up.
    let tight = (0..plan.margins.len())
        .min_by_key(|&i| plan.margins[i])
        .context("the contest has a winner and a loser")?;
    let (w, l) = (
        &plan.assertions[tight].winner,
        &plan.assertions[tight].loser,
    );
    let margin = plan.margins[tight];
    eprintln!(
        "contest {}: {} announced winner by {} votes over {}; {}",
        contest.id,
        w,
        margin,
        l,
        if method == AuditMethod::Polling {
            format!("{} ballots to draw from", plan.ballots)
        } else {
            format!("total error bound U = {:.1}", plan.total_bound())
        }
    );

    // The truth the receipts tell when the announced outcome is wrong:
    // votes of the winner's cards given to the runner-up's first card, just
    // enough in all (margin/2 + 1) to make the runner-up the true winner —
    // either at as few tables as it takes, or spread thin over every table.
    let need = u64::try_from(margin / 2 + 1).context("a positive margin")?;
    let wrong = |spread: bool| -> std::collections::BTreeMap<String, Vec<HandCount>> {
        let mut truth = reported.clone();
        let winner_votes = |h: &HandCount| -> u64 {
            h.votes
                .iter()
                .filter(|(k, _)| acta_election::candidate_of(k) == w)
                .map(|(_, n)| n)
                .sum()
        };
        let of = |cs: &Vec<HandCount>| {
            cs.iter()
                .filter(|h| h.contest == contest.id)
                .map(winner_votes)
                .sum::<u64>()
        };
        let total: u64 = truth.values().map(of).sum();
        let mut order: Vec<String> = truth.keys().cloned().collect();
        if !spread {
            order.sort_by_key(|t| std::cmp::Reverse(of(&truth[t])));
        }
        let mut left = need;
        for t in order {
            if left == 0 {
                break;
            }
            let Some(h) = truth
                .get_mut(&t)
                .and_then(|cs| cs.iter_mut().find(|h| h.contest == contest.id))
            else {
                continue;
            };
            let have = winner_votes(h);
            let take = if spread {
                (have * need).div_ceil(total.max(1))
            } else {
                have
            }
            .min(left);
            left -= move_votes(h, w, l, take);
        }
        truth
    };
    let scenarios = [
        ("clean: receipts agree with every acta", reported.clone()),
        ("wrong outcome, errors at the fewest tables", wrong(false)),
        ("wrong outcome, errors spread over every table", wrong(true)),
    ];
    let mut rows = Vec::new();
    for (name, truth) in &scenarios {
        let bar = indicatif::ProgressBar::new(args.trials).with_message(name.to_string());
        let results: Vec<(bool, u64, u64)> = (0..args.trials)
            .into_par_iter()
            .map(|k| {
                // 24 digits per trial, as the parties' dice would give.
                let d = sha2::Sha256::digest(format!("trial {k}").as_bytes());
                let seed: String = d
                    .iter()
                    .take(24)
                    .map(|b| char::from(b'0' + b % 10))
                    .collect();
                let r = simulate_one(election, &start, seed, truth);
                bar.inc(1);
                r
            })
            .collect::<Result<_>>()?;
        bar.finish_and_clear();
        rows.push((
            *name,
            Outcome {
                confirmed: results.iter().filter(|r| r.0).count() as u64,
                tables: results.iter().map(|r| r.1).sum(),
                rounds: results.iter().map(|r| r.2).sum(),
            },
        ));
    }
    let a = f64::from(alpha) / 1e6;
    println!(
        "audit simulation: {} tables, contest {}, announced margin {} votes ({:.2} % of its ballots), risk limit {}, {} audits per scenario ({}, up to 4 rounds)",
        args.tables,
        contest.id,
        margin,
        100.0 * margin as f64 / ballots.max(1) as f64,
        fraction_text(alpha),
        args.trials,
        if method == AuditMethod::Polling {
            "ballot polling, ALPHA"
        } else {
            "batch comparison, MACRO, PPEB"
        }
    );
    println!(
        "{:<48} {:>10} {:>10} {:>12} {:>8}",
        "scenario",
        "confirmed",
        "rate",
        if method == AuditMethod::Polling {
            "receipts/audit"
        } else {
            "tables/audit"
        },
        "rounds"
    );
    for (name, o) in &rows {
        println!(
            "{:<48} {:>10} {:>10.4} {:>12.1} {:>8.2}",
            name,
            o.confirmed,
            o.confirmed as f64 / args.trials as f64,
            o.tables as f64 / args.trials as f64,
            o.rounds as f64 / args.trials as f64
        );
    }
    for (name, o) in rows.iter().skip(1) {
        let n = args.trials as f64;
        let rate = o.confirmed as f64 / n;
        // Wilson's 95 % score interval for the share of wrong outcomes
        // confirmed: the simulation's own sampling error.
        let z = 1.959_964f64;
        let centre = (rate + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z * (rate * (1.0 - rate) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
        let (lo, hi) = ((centre - half).max(0.0), (centre + half).min(1.0));
        println!(
            "measured risk ({name}): {rate:.4} (95 % interval {lo:.4}–{hi:.4}) — {} the risk limit {a}",
            if hi <= a {
                "under"
            } else if lo <= a {
                "consistent with"
            } else {
                "ABOVE"
            }
        );
    }
    Ok(())
}
