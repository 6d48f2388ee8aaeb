//! The audit as the log records it. Two methods, over the same streams:
//! - **batch comparison** (MACRO, Stark 2009), each table a batch — its acta
//!   the reported tally, the hand count of its receipt box the audited
//!   tally — tables drawn by PPEB ([`crate::ppeb`], `docs/ppeb.md`) with
//!   probability proportional to their error bound;
//! - **ballot polling** (ALPHA, Stark 2023), receipts drawn uniformly from
//!   every box of a contest (PPEB with each table weighted by its ballots,
//!   so a draw lands on one receipt) and read.
//!
//! Every step is an `acta-audit/v1` note ([`acta_sheet::audit`]) and every
//! step but the seed, the hand counts and the receipts read is a function
//! of the steps before it and of the log: the manifest of the counted actas
//! at a checkpoint, the draws of each round (from the commit note's hash
//! and the seed together, so dice rolled for one manifest draw nothing
//! known for another), the risk after each round. The authority's tool
//! derives the next step with this module; the observer replays the logged
//! steps with the same functions ([`replay`]) and names any step that is
//! not what it derives.
//!
//! # Assertions
//!
//! The reported outcome of a contest is a set of linear assertions over the
//! votes, each `a·votes(w) − b·votes(l) > 0` (Stark & Teague, "Verifiable
//! European Elections", 2014, for the divisor methods):
//! - plurality and vote-for-N: every reported winner `w` against every
//!   other candidate `l` (`a = b = 1`), votes summed over each
//!   candidate's party cards;
//! - referendum: the winning side against the other (`a = b = 1`); a tie
//!   announces no winner and cannot be confirmed by sampling;
//! - party list: for every list `w` with `s_w ≥ 1` seats and every other
//!   list `l` with `s_l` seats, `w`'s last seat beats `l`'s next one:
//!   `a = d(s_l + 1)`, `b = d(s_w)`, with divisors `d(k) = k` (D'Hondt) or
//!   `2k − 1` (Sainte-Laguë).
//!
//! # Error bounds and taints (MACRO)
//!
//! `V_A` is the assertion's reported margin over the counted tables, minus
//! `b` times the registered voters of the tables with no counted acta (as
//! if every one of them voted for the loser). A table `p` with reported
//! contribution `x_pA = a·v_w − b·v_l` and at most `n_p` receipts in its box
//! (its roll, or its acta's ballots if more: a machine can understate its
//! own ballots, not the roll) can overstate the margin by at most
//! `x_pA + b·n_p`; its error bound is
//! `u_p = max_A (x_pA + b·n_p)/V_A`, stored exactly as the integer weight
//! `⌈10⁹ u_p⌉` (rounding up keeps it a bound). The hand count gives the
//! taint `t_p = max_A max(0, x_pA − x'_pA)/V_A ÷ u_p` (a box with more
//! receipts than `n_p` is a taint of 1). With `U = Σ u_p`,
//! after draws `p_1 … p_n` the risk is `∏ (1 − 1/U)/(1 − t_{p_i})`; a
//! taint of 1 or more ends the sampling in a full hand count.
//!
//! # Rounds
//!
//! Round 1 draws, per contest, the size at which clean draws reach the
//! risk limit (`⌈ln α / ln(1 − 1/U)⌉ + 1`, as Arlo sizes MACRO). After
//! each round the risk decides per contest: confirmed (risk ≤ α), full
//! hand count (a taint ≥ 1, a non-positive margin, `max-rounds` spent, or
//! [`MOST_DRAWS_PER_TABLE`] draws per drawable table), or escalate by the
//! size that would reach α if the rest came back clean. A contest whose
//! every drawable table is counted is decided by that complete count, the
//! tables that cannot be drawn counted as they report (the worst their
//! roll allows). Polling sizes round 1 by ALPHA with every receipt at the
//! reported mean and doubles the sample after it.

use std::collections::{BTreeMap, BTreeSet};

use acta_election::{Contest, Election, Kind, Method};
use acta_sheet::audit::{
    AuditMethod, AuditNote, AuditStep, Commitment, ContestRisk, HandCount, Mark, Receipt, Verdict,
    MILLION,
};
use acta_tlog::Checkpoint;
use sha2::{Digest, Sha256};

use crate::risk::macro_batch;
use crate::Error;

/// Error bounds are stored as integers, ×10⁹.
pub const SCALE: u64 = 1_000_000_000;

/// The fewest digits a seed may have (Rivest's sampler notes ask for 20 or
/// more, rolled by several parties).
pub const MIN_SEED_DIGITS: usize = 20;

/// The fewest parties that contribute dice to a seed.
pub const MIN_CONTRIBUTIONS: usize = 2;

/// The largest risk limit an audit may commit to: beyond it a "confirmed"
/// would say little (the literature's audits run at 5 % or 10 %).
pub const MAX_RISK_LIMIT: u32 = 100_000;

/// A batch audit draws at most this many times per table that can be drawn:
/// by then nearly every such table is counted and the complete count
/// decides; it keeps every reader's work bounded, whatever the margin.
pub const MOST_DRAWS_PER_TABLE: u64 = 10;

/// A polling audit draws at most this many receipts per contest; past it
/// the audit ends in a full hand count.
pub const MOST_POLLING_DRAWS: u64 = 1_000_000;

/// The most bytes a round step's text may take, so that it fits one log
/// entry (C2SP tlog-tiles: 65,535 bytes) with the center's signature. A
/// round that would add more tables stops its draws at the first one that
/// brings its text within reach of this (room is kept for a `draws` line
/// and one more table line per contest, and for the step's header): the
/// stop depends only on the draws before it, so every risk measured on the
/// draws so far stays valid. Such a round is *cut*: the next round carries
/// on, and a cut round does not count toward `max-rounds`.
pub const ROUND_STEP_BYTES: usize = 64_000;

/// Room for a round step's header: format, election, audit, step,
/// commitment and round lines.
const ROUND_HEADER_BYTES: usize = 1_024;

/// One counted table as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// Table id.
    pub table: String,
    /// SHA-256 of its counted acta's text.
    pub acta: [u8; 32],
    /// Ballots on the acta.
    pub ballots: u64,
    /// Voters on the table's roll (from the package): the most receipts its
    /// box can hold, whatever its own acta says.
    pub registered: u64,
    /// contest → choice code → votes, as the acta says (keys that are not
    /// choice codes, such as `(blank)`, are ignored).
    pub votes: BTreeMap<String, BTreeMap<String, u64>>,
}

/// What is audited: the counted actas at a checkpoint, and the tables
/// without one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Population {
    /// Counted tables, sorted by id.
    pub counted: Vec<Reported>,
    /// Tables with no counted acta: id and registered voters, sorted by id.
    pub missing: Vec<(String, u64)>,
}

impl Population {
    /// The manifest listing: one line per table of the package, in id
    /// order — `counted <table> <acta sha256 hex> <ballots>` or
    /// `missing <table> <registered>`.
    pub fn listing(&self) -> String {
        let mut rows: Vec<(&str, String)> = self
            .counted
            .iter()
            .map(|r| {
                (
                    r.table.as_str(),
                    format!(
                        "counted {} {} {}\n",
                        r.table,
                        acta_note::canon::to_hex(&r.acta),
                        r.ballots
                    ),
                )
            })
            .chain(
                self.missing
                    .iter()
                    .map(|(t, n)| (t.as_str(), format!("missing {t} {n}\n"))),
            )
            .collect();
        rows.sort();
        rows.into_iter().map(|(_, l)| l).collect()
    }

    /// SHA-256 of [`Population::listing`].
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.listing().as_bytes()).into()
    }
}

/// One assertion: `a·votes(winner) − b·votes(loser) > 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// The reported winner (candidate, side or list).
    pub winner: String,
    /// The one it must beat.
    pub loser: String,
    /// Weight of the winner's votes.
    pub a: u64,
    /// Weight of the loser's votes.
    pub b: u64,
}

impl Assertion {
    fn contribution(&self, grouped: &BTreeMap<String, u64>) -> i128 {
        let v = |k: &str| i128::from(grouped.get(k).copied().unwrap_or(0));
        i128::from(self.a) * v(&self.winner) - i128::from(self.b) * v(&self.loser)
    }
}

/// Votes grouped by what wins: candidates (over their cards), sides, lists.
fn grouped(contest: &Contest, votes: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for (code, n) in votes {
        if code.starts_with('(') {
            continue;
        }
        let g = match contest.kind {
            Kind::Plurality => acta_election::candidate_of(code),
            _ => code.as_str(),
        };
        *out.entry(g.to_string()).or_default() += n;
    }
    out
}

fn divisor(method: Method, k: u64) -> Option<u64> {
    match method {
        Method::DHondt => Some(k),
        Method::SainteLague => Some(2 * k - 1),
        _ => None,
    }
}

/// The assertions behind a contest's reported outcome, from its reported
/// totals per choice code; `None` when the totals announce no winner.
pub fn assertions(contest: &Contest, totals: &BTreeMap<String, u64>) -> Option<Vec<Assertion>> {
    let cards: Vec<(String, u64)> = contest
        .choices()
        .into_iter()
        .map(|c| {
            let n = totals.get(&c).copied().unwrap_or(0);
            (c, n)
        })
        .collect();
    let won = acta_election::seats(contest, &cards);
    if won.is_empty() {
        return None;
    }
    let one = |w: &str, l: &str| Assertion {
        winner: w.to_string(),
        loser: l.to_string(),
        a: 1,
        b: 1,
    };
    let mut out = Vec::new();
    match contest.kind {
        Kind::Plurality => {
            for (w, _) in &won {
                for c in &contest.candidates {
                    if !won.iter().any(|(x, _)| x == &c.id) {
                        out.push(one(w, &c.id));
                    }
                }
            }
        }
        Kind::Referendum => {
            let w = &won[0].0;
            let l = if w == "YES" { "NO" } else { "YES" };
            out.push(one(w, l));
        }
        Kind::PartyList => {
            let method = contest.method.unwrap_or(Method::DHondt);
            let seats = |l: &str| {
                won.iter()
                    .find(|(x, _)| x == l)
                    .map_or(0, |(_, s)| u64::from(*s))
            };
            for (w, sw) in &won {
                for l in &contest.lists {
                    if l != w {
                        out.push(Assertion {
                            winner: w.clone(),
                            loser: l.clone(),
                            a: divisor(method, seats(l) + 1)?,
                            b: divisor(method, u64::from(*sw))?,
                        });
                    }
                }
            }
        }
        _ => return None,
    }
    Some(out)
}

/// A contest's audit plan: its assertions, their margins and each counted
/// table's error bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestPlan {
    /// Contest id.
    pub contest: String,
    /// The assertions (empty when no winner is reported).
    pub assertions: Vec<Assertion>,
    /// Each assertion's margin `V_A`, with missing tables assumed lost.
    pub margins: Vec<i128>,
    /// Error bound ×10⁹ of each counted table that votes on the contest,
    /// sorted by table id: the PPEB weights.
    pub weights: Vec<(String, u64)>,
    /// `W = Σ weights`; 0 when some margin is not positive (no sample can
    /// confirm the outcome).
    pub total: u64,
    /// Ballots at the counted tables that vote on the contest.
    pub ballots: u64,
    /// Registered voters at the tables without a counted acta that vote on
    /// it, assumed lost for every winner.
    pub lost: u64,
}

impl ContestPlan {
    /// `U = W/10⁹`, the total error bound.
    pub fn total_bound(&self) -> f64 {
        self.total as f64 / SCALE as f64
    }

    /// The taint of a table: its largest overstatement of a margin found by
    /// the hand count, relative to its error bound.
    pub fn taint(
        &self,
        contest: &Contest,
        reported: &Reported,
        receipts: u64,
        counted: &HandCount,
    ) -> f64 {
        // More receipts than the box can hold: the acta understated its
        // ballots, or the box was stuffed; no bound holds.
        if receipts > reported.ballots.max(reported.registered) {
            return f64::INFINITY;
        }
        let Ok(i) = self
            .weights
            .binary_search_by(|(t, _)| t.as_str().cmp(&reported.table))
        else {
            return 0.0;
        };
        let w = self.weights[i].1;
        if w == 0 {
            return 0.0;
        }
        let rep = reported
            .votes
            .get(&self.contest)
            .map(|v| grouped(contest, v))
            .unwrap_or_default();
        let hand: BTreeMap<String, u64> =
            grouped(contest, &counted.votes.iter().cloned().collect());
        let mut e = 0.0f64;
        for (a, v) in self.assertions.iter().zip(&self.margins) {
            let over = a.contribution(&rep) - a.contribution(&hand);
            if over > 0 {
                e = e.max(over as f64 / *v as f64);
            }
        }
        e * SCALE as f64 / w as f64
    }
}

fn ceil_div(n: u128, d: u128) -> u128 {
    n.div_ceil(d)
}

/// Plans the audit of one contest over the population.
pub fn plan(election: &Election, population: &Population, id: &str) -> Result<ContestPlan, Error> {
    let contest = election
        .contest(id)
        .ok_or_else(|| Error::Workflow(format!("contest {id} is not in the package")))?;
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut tables: Vec<(&Reported, BTreeMap<String, u64>)> = Vec::new();
    for r in &population.counted {
        if let Some(v) = r.votes.get(id) {
            for (c, n) in v {
                *totals.entry(c.clone()).or_default() += n;
            }
            tables.push((r, grouped(contest, v)));
        }
    }
    let lost: u64 = population
        .missing
        .iter()
        .filter(|(t, _)| contest.applies_to(t))
        .map(|(_, n)| n)
        .sum();
    let Some(assertions) = assertions(contest, &totals) else {
        return Ok(ContestPlan {
            contest: id.to_string(),
            assertions: vec![],
            margins: vec![],
            weights: vec![],
            total: 0,
            ballots: tables.iter().map(|(r, _)| r.ballots).sum(),
            lost,
        });
    };
    let grouped_totals = grouped(contest, &totals);
    let margins: Vec<i128> = assertions
        .iter()
        .map(|a| a.contribution(&grouped_totals) - i128::from(a.b) * i128::from(lost))
        .collect();
    let auditable = margins.iter().all(|&v| v > 0);
    let mut weights = Vec::with_capacity(tables.len());
    let mut total: u64 = 0;
    for (r, g) in &tables {
        let mut w: u128 = 0;
        if auditable {
            for (a, v) in assertions.iter().zip(&margins) {
                // The box may hold more receipts than its acta admits: the
                // roll bounds them, the acta does not.
                let most = r.ballots.max(r.registered);
                let bound = a.contribution(g) + i128::from(a.b) * i128::from(most);
                if bound > 0 {
                    let n = (bound as u128)
                        .checked_mul(u128::from(SCALE))
                        .ok_or_else(|| Error::Workflow("error bound overflows".into()))?;
                    w = w.max(ceil_div(n, *v as u128));
                }
            }
        }
        let w = u64::try_from(w)
            .map_err(|_| Error::Workflow(format!("table {}: error bound overflows", r.table)))?;
        total = total
            .checked_add(w)
            .ok_or_else(|| Error::Workflow(format!("contest {id}: total error bound overflows")))?;
        weights.push((r.table.clone(), w));
    }
    if !auditable {
        total = 0;
    }
    Ok(ContestPlan {
        contest: id.to_string(),
        assertions,
        margins,
        weights,
        total,
        ballots: tables.iter().map(|(r, _)| r.ballots).sum(),
        lost,
    })
}

/// Plans a contest for ballot polling: the same assertions and margins,
/// each table weighted by its ballots, so that a PPEB draw is a ballot
/// drawn uniformly from every ballot of the contest.
pub fn plan_polling(
    election: &Election,
    population: &Population,
    id: &str,
) -> Result<ContestPlan, Error> {
    let mut p = plan(election, population, id)?;
    let auditable = p.total > 0;
    p.weights = population
        .counted
        .iter()
        .filter(|r| r.votes.contains_key(id))
        .map(|r| (r.table.clone(), r.ballots))
        .collect();
    p.total = if auditable { p.ballots } else { 0 };
    Ok(p)
}

/// The plan of a contest for an audit of `method`.
pub fn plan_for(
    method: AuditMethod,
    election: &Election,
    population: &Population,
    id: &str,
) -> Result<ContestPlan, Error> {
    match method {
        AuditMethod::Polling => plan_polling(election, population, id),
        _ => plan(election, population, id),
    }
}

/// A polling assertion as an ALPHA test (SHANGRLA's assorter for a linear
/// assertion): a receipt with `x = a·[winner] − b·[loser]` scores
/// `(x + b)/(2b)` in `[0, u]`, `u = (a + b)/(2b)`; the null mean is
/// `1/2 + lost/(2·ballots)` (the tables without a counted acta assumed
/// lost); the reported mean is `1/2 + (a·V_w − b·V_l)/(2b·ballots)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollingTest {
    /// Upper bound of the assorter.
    pub u: f64,
    /// Null mean.
    pub t: f64,
    /// Reported mean.
    pub eta: f64,
}

impl ContestPlan {
    /// The ALPHA test of assertion `i` in a polling audit.
    pub fn polling_test(&self, i: usize) -> PollingTest {
        let a = &self.assertions[i];
        let (af, bf, n) = (a.a as f64, a.b as f64, self.ballots.max(1) as f64);
        let reported = self.margins[i] + i128::from(a.b) * i128::from(self.lost);
        PollingTest {
            u: (af + bf) / (2.0 * bf),
            t: 0.5 + self.lost as f64 / (2.0 * n),
            eta: 0.5 + reported as f64 / (2.0 * bf * n),
        }
    }

    /// The assorter of one receipt's mark for assertion `i`.
    pub fn assort(&self, contest: &Contest, i: usize, mark: Option<&Mark>) -> f64 {
        let a = &self.assertions[i];
        let marked = |who: &str| match mark {
            Some(Mark::Choices(cs)) => cs.iter().any(|c| {
                (match contest.kind {
                    Kind::Plurality => acta_election::candidate_of(c),
                    _ => c.as_str(),
                }) == who
            }),
            _ => false,
        };
        let x = a.a as f64 * f64::from(u8::from(marked(&a.winner)))
            - a.b as f64 * f64::from(u8::from(marked(&a.loser)));
        // A receipt that is not in the box, or cannot be read, scores the
        // worst for the winner (SHANGRLA's "evil zombie").
        if matches!(mark, None | Some(Mark::Missing)) {
            return 0.0;
        }
        (x + a.b as f64) / (2.0 * a.b as f64)
    }
}

/// The commit step: the manifest of `population` at `checkpoint`.
#[allow(clippy::too_many_arguments)]
pub fn commit(
    election: &Election,
    population: &Population,
    checkpoint: Checkpoint,
    audit: &str,
    method: AuditMethod,
    risk_limit: u32,
    max_rounds: u32,
    contests: &[String],
) -> Result<AuditNote, Error> {
    if !acta_note::canon::is_code(audit) {
        return Err(Error::Workflow(format!(
            "audit name {audit:?} must use only A-Z, 0-9, '.', '-', '/'"
        )));
    }
    if risk_limit == 0 || risk_limit > MAX_RISK_LIMIT {
        return Err(Error::Workflow(format!(
            "the risk limit must be above 0 and at most {}",
            acta_sheet::audit::fraction_text(MAX_RISK_LIMIT)
        )));
    }
    if max_rounds == 0 {
        return Err(Error::Workflow("an audit needs at least one round".into()));
    }
    let ids: BTreeSet<&str> = if contests.is_empty() {
        election.contests.iter().map(|c| c.id.as_str()).collect()
    } else {
        contests.iter().map(String::as_str).collect()
    };
    let mut planned = Vec::new();
    for id in ids {
        planned.push((
            id.to_string(),
            plan_for(method, election, population, id)?.total,
        ));
    }
    Ok(AuditNote {
        election: election.id.clone(),
        audit: audit.to_string(),
        step: AuditStep::Commit(Commitment {
            checkpoint,
            risk_limit,
            max_rounds,
            method,
            tables: population.counted.len() as u64,
            missing: population.missing.len() as u64,
            manifest: population.digest(),
            contests: planned,
        }),
    })
}

/// A round as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// Per contest: draws `from..=to` of its stream.
    pub draws: Vec<(String, u64, u64)>,
    /// Tables the round added.
    pub tables: Vec<String>,
    /// Polling: the receipts the round drew, by table (positions in the
    /// box, derived from the seed; empty for a batch audit).
    pub positions: BTreeMap<String, BTreeSet<u64>>,
    /// Whether its draws stopped short so that its step fits one log entry
    /// ([`ROUND_STEP_BYTES`]); a cut round does not count toward
    /// `max-rounds`.
    pub cut: bool,
}

/// What the audit needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The public seed.
    Seed,
    /// The draws of this round.
    Round(u32),
    /// The hand counts of these tables.
    Count(Vec<String>),
    /// The risk of this round.
    Risk(u32),
    /// Nothing: the audit ended so.
    Done(Verdict),
}

/// An audit replayed from its logged steps.
#[derive(Debug, Clone)]
pub struct Audit {
    /// Its name.
    pub name: String,
    /// Log index of the commit step.
    pub index: u64,
    /// SHA-256 of the commit note's text: what later steps name.
    pub commitment: [u8; 32],
    /// The manifest.
    pub commit: Commitment,
    /// Per contest audited, in id order.
    pub plans: Vec<ContestPlan>,
    /// The counted tables, by id.
    pub reported: BTreeMap<String, Reported>,
    /// The seed, once logged.
    pub seed: Option<String>,
    /// The seed's contributions.
    pub contributions: Vec<(String, String)>,
    /// Rounds drawn.
    pub rounds: Vec<Round>,
    /// Hand counts, by table: receipts and per contest (batch).
    pub counts: BTreeMap<String, (u64, Vec<HandCount>)>,
    /// Receipts read, by table and position (polling).
    pub readings: BTreeMap<String, BTreeMap<u64, Vec<(String, Mark)>>>,
    /// Receipts drawn and not yet read, by table (polling).
    pub unread: BTreeMap<String, BTreeSet<u64>>,
    /// The risk after each measured round.
    pub risks: Vec<(Vec<ContestRisk>, Verdict)>,
}

fn risk_ppm(p: f64) -> u32 {
    let n = (p * f64::from(MILLION)).ceil();
    if n.is_nan() || n >= f64::from(MILLION) {
        MILLION
    } else if n <= 0.0 {
        0
    } else {
        n as u32
    }
}

impl Audit {
    /// Starts an audit from its commit note, after checking the manifest
    /// against the population it names (the caller reads the population
    /// of the log at the commit's checkpoint).
    pub fn start(
        election: &Election,
        index: u64,
        commitment: [u8; 32],
        note: &AuditNote,
        population: Population,
    ) -> Result<Audit, String> {
        let AuditStep::Commit(c) = &note.step else {
            return Err("an audit starts with its commit step".into());
        };
        if index < c.checkpoint.size {
            return Err(format!(
                "the manifest at log entry {index} names checkpoint {}, which it is not after",
                c.checkpoint.size
            ));
        }
        let contests: Vec<String> = c.contests.iter().map(|(k, _)| k.clone()).collect();
        let want = commit(
            election,
            &population,
            c.checkpoint.clone(),
            &note.audit,
            c.method,
            c.risk_limit,
            c.max_rounds,
            &contests,
        )
        .map_err(|e| e.to_string())?;
        if want != *note {
            let AuditStep::Commit(w) = &want.step else {
                unreachable!("commit() makes a commit step")
            };
            let what = if w.manifest != c.manifest || w.tables != c.tables || w.missing != c.missing
            {
                format!(
                    "the manifest lists {} counted and {} missing tables (digest {}); the log at checkpoint {} has {} and {} (digest {})",
                    c.tables,
                    c.missing,
                    acta_note::canon::to_hex(&c.manifest),
                    c.checkpoint.size,
                    w.tables,
                    w.missing,
                    acta_note::canon::to_hex(&w.manifest)
                )
            } else {
                let show = |v: &[(String, u64)]| {
                    v.iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!(
                    "the manifest's error bounds are [{}]; the counted actas give [{}]",
                    show(&c.contests),
                    show(&w.contests)
                )
            };
            return Err(what);
        }
        let plans = contests
            .iter()
            .map(|id| plan_for(c.method, election, &population, id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(Audit {
            name: note.audit.clone(),
            index,
            commitment,
            commit: c.clone(),
            plans,
            reported: population
                .counted
                .into_iter()
                .map(|r| (r.table.clone(), r))
                .collect(),
            seed: None,
            contributions: vec![],
            rounds: vec![],
            counts: BTreeMap::new(),
            readings: BTreeMap::new(),
            unread: BTreeMap::new(),
            risks: vec![],
        })
    }

    /// The risk limit as a fraction.
    pub fn alpha(&self) -> f64 {
        f64::from(self.commit.risk_limit) / f64::from(MILLION)
    }

    /// What the audit needs next.
    pub fn next(&self) -> Next {
        if self.seed.is_none() {
            return Next::Seed;
        }
        if self.rounds.len() == self.risks.len() {
            return match self.risks.last() {
                Some((_, Verdict::Escalate(_))) | None => Next::Round(self.rounds.len() as u32 + 1),
                Some((_, v)) => Next::Done(*v),
            };
        }
        let pending = self.pending();
        if pending.is_empty() {
            Next::Risk(self.rounds.len() as u32)
        } else {
            Next::Count(pending)
        }
    }

    /// Tables drawn and not yet counted (batch), or with receipts drawn
    /// and not yet read (polling).
    pub fn pending(&self) -> Vec<String> {
        if self.commit.method == AuditMethod::Polling {
            return self.unread.keys().cloned().collect();
        }
        self.rounds
            .iter()
            .flat_map(|r| r.tables.iter())
            .filter(|t| !self.counts.contains_key(*t))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Polling: every receipt drawn so far, by table.
    pub fn positions(&self) -> BTreeMap<String, BTreeSet<u64>> {
        let mut out: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
        for r in &self.rounds {
            for (t, ps) in &r.positions {
                out.entry(t.clone()).or_default().extend(ps);
            }
        }
        out
    }

    /// Polling: the receipts of a contest's draws `from..=to`, in draw
    /// order: the PPEB position `r` (uniform over every ballot of the
    /// contest) is the table's ballot `r − (ballots of the tables before
    /// it) + 1`.
    pub fn ballot_draws(
        &self,
        plan: &ContestPlan,
        from: u64,
        to: u64,
    ) -> Result<Vec<(String, u64)>, Error> {
        let seed = self.draw_seed()?;
        let seed = seed.as_str();
        let cum = crate::ppeb::cumulative(&plan.weights)?;
        let total = cum.last().copied().unwrap_or(0);
        Ok(
            crate::ppeb::draws(seed, &plan.contest, &plan.weights, from - 1, to - from + 1)?
                .into_iter()
                .map(|d| {
                    let r = crate::ppeb::scale(&d.ticket, total);
                    let i = cum.partition_point(|&c| c <= r);
                    let before = if i == 0 { 0 } else { cum[i - 1] };
                    (d.id, r - before + 1)
                })
                .collect(),
        )
    }

    /// Every table drawn so far.
    pub fn drawn(&self) -> BTreeSet<&str> {
        self.rounds
            .iter()
            .flat_map(|r| r.tables.iter().map(String::as_str))
            .collect()
    }

    /// The last draw of a contest's stream so far.
    fn drawn_to(&self, contest: &str) -> u64 {
        self.rounds
            .iter()
            .flat_map(|r| r.draws.iter())
            .filter(|(c, _, _)| c == contest)
            .map(|(_, _, to)| *to)
            .max()
            .unwrap_or(0)
    }

    /// The seed the draws are made from: the commit note's hash and the
    /// public seed, `<commitment hex>:<seed>` — so that a seed rolled for
    /// one manifest draws nothing known for any other.
    pub fn draw_seed(&self) -> Result<String, Error> {
        let seed = self
            .seed
            .as_deref()
            .ok_or_else(|| Error::Workflow("no seed yet".into()))?;
        Ok(format!(
            "{}:{seed}",
            acta_note::canon::to_hex(&self.commitment)
        ))
    }

    /// The tables of a contest's draws `from..=to`, in draw order.
    pub fn draws(&self, plan: &ContestPlan, from: u64, to: u64) -> Result<Vec<String>, Error> {
        let seed = self.draw_seed()?;
        let seed = seed.as_str();
        Ok(
            crate::ppeb::draws(seed, &plan.contest, &plan.weights, from - 1, to - from + 1)?
                .into_iter()
                .map(|d| d.id)
                .collect(),
        )
    }

    /// The round that must come next (when [`Audit::next`] says so).
    pub fn derive_round(&self) -> Result<AuditStep, Error> {
        self.round_due().map(|(step, _)| step)
    }

    /// The round due, and whether it was cut to fit one log entry.
    fn round_due(&self) -> Result<(AuditStep, bool), Error> {
        let Next::Round(k) = self.next() else {
            return Err(Error::Workflow(format!(
                "no round is due: the audit needs {}",
                describe(&self.next())
            )));
        };
        let alpha = self.alpha();
        let polling = self.commit.method == AuditMethod::Polling;
        let mut draws = Vec::new();
        for p in &self.plans {
            let n = if k == 1 {
                if p.total == 0 {
                    continue;
                }
                if polling {
                    first_round_polling(alpha, p)?
                } else {
                    first_round(alpha, p.total_bound())
                }
            } else {
                let Some(Verdict::Escalate(n)) = self
                    .risks
                    .last()
                    .and_then(|(cs, _)| cs.iter().find(|c| c.contest == p.contest))
                    .map(|c| c.verdict)
                else {
                    continue;
                };
                n
            };
            let from = self.drawn_to(&p.contest) + 1;
            let most = if polling {
                MOST_POLLING_DRAWS
            } else {
                MOST_DRAWS_PER_TABLE * p.weights.iter().filter(|(_, w)| *w > 0).count() as u64
            };
            let n = n.min(most.saturating_sub(from - 1)).max(1);
            draws.push((p.contest.clone(), from, from + n - 1));
        }
        // One table line at most: `table <id>\n`; one draws line at most:
        // `draws <contest> <from> <to>\n`, numbers of up to 20 digits.
        let line = self
            .plans
            .iter()
            .flat_map(|p| p.weights.iter().map(|(t, _)| t.len()))
            .max()
            .unwrap_or(0)
            + "table \n".len();
        let draws_line = |c: &str| "draws   \n".len() + c.len() + 40;
        let reserved: usize = draws.iter().map(|(c, _, _)| draws_line(c) + line).sum();
        // Table lines stop at the draw that reaches `full`; each contest
        // after it adds at most one line (its first draw), which
        // `reserved` keeps room for.
        let full = ROUND_STEP_BYTES.saturating_sub(ROUND_HEADER_BYTES + reserved);
        let mut cut_short = false;
        let mut bytes = 0;
        let mut tables = BTreeSet::new();
        let before_positions = if polling {
            self.positions()
        } else {
            BTreeMap::new()
        };
        let before = self.drawn();
        let mut cut = Vec::with_capacity(draws.len());
        for (c, from, to) in draws {
            let p = self.plan(&c).expect("drawn contests are planned");
            // Each draw's table, and whether it adds to the hand count.
            let each: Vec<(String, bool)> = if polling {
                self.ballot_draws(p, from, to)?
                    .into_iter()
                    .map(|(t, k)| {
                        let new = !before_positions.get(&t).is_some_and(|ps| ps.contains(&k));
                        (t, new)
                    })
                    .collect()
            } else {
                self.draws(p, from, to)?
                    .into_iter()
                    .map(|t| {
                        let new = !before.contains(t.as_str());
                        (t, new)
                    })
                    .collect()
            };
            let mut last = from - 1;
            for (t, new) in each {
                last += 1;
                if new && !tables.contains(&t) {
                    bytes += "table \n".len() + t.len();
                    tables.insert(t);
                }
                if bytes >= full {
                    break;
                }
            }
            cut_short |= last < to;
            cut.push((c, from, last));
        }
        let draws = cut;
        Ok((
            AuditStep::Round {
                commitment: self.commitment,
                round: k,
                draws,
                tables: tables.into_iter().collect(),
            },
            cut_short,
        ))
    }

    /// Rounds that count toward `max-rounds`: every round but those cut to
    /// fit one log entry.
    fn full_rounds(&self) -> u32 {
        self.rounds.iter().filter(|r| !r.cut).count() as u32
    }

    fn plan(&self, contest: &str) -> Option<&ContestPlan> {
        self.plans.iter().find(|p| p.contest == contest)
    }

    /// The risk step that must come next (when [`Audit::next`] says so).
    pub fn derive_risk(&self, election: &Election) -> Result<AuditStep, Error> {
        let Next::Risk(k) = self.next() else {
            return Err(Error::Workflow(format!(
                "no risk measurement is due: the audit needs {}",
                describe(&self.next())
            )));
        };
        let alpha = self.alpha();
        let before = self.risks.last().map(|(cs, _)| cs);
        let mut out = Vec::new();
        for p in &self.plans {
            if let Some(c) = before
                .and_then(|cs| cs.iter().find(|c| c.contest == p.contest))
                .filter(|c| !matches!(c.verdict, Verdict::Escalate(_)))
            {
                out.push(c.clone());
                continue;
            }
            if p.total == 0 {
                out.push(ContestRisk {
                    contest: p.contest.clone(),
                    risk: MILLION,
                    verdict: Verdict::FullHandCount,
                });
                continue;
            }
            let contest = election.contest(&p.contest).ok_or_else(|| {
                Error::Workflow(format!("contest {} left the package", p.contest))
            })?;
            let to = self.drawn_to(&p.contest);
            if self.commit.method == AuditMethod::Polling {
                out.push(self.polling_risk(contest, p, to)?);
                continue;
            }
            let mut taints = Vec::with_capacity(to as usize);
            for t in self.draws(p, 1, to)? {
                let r = self
                    .reported
                    .get(&t)
                    .ok_or_else(|| Error::Workflow(format!("table {t} is not in the manifest")))?;
                let (receipts, counts) = self
                    .counts
                    .get(&t)
                    .ok_or_else(|| Error::Workflow(format!("table {t} is not counted yet")))?;
                let hc = counts
                    .iter()
                    .find(|h| h.contest == p.contest)
                    .cloned()
                    .unwrap_or_default();
                taints.push(p.taint(contest, r, *receipts, &hc));
            }
            let u = p.total_bound();
            let mut risk = macro_batch::p_value(u, &taints);
            let verdict = if let Some(holds) = self.complete_count(contest, p) {
                // Every table that could be drawn is counted: the hand
                // count is complete and decides, with no sampling risk.
                risk = if holds { 0.0 } else { 1.0 };
                if holds {
                    Verdict::Confirmed
                } else {
                    Verdict::FullHandCount
                }
            } else if taints.iter().any(|&t| t >= 1.0) {
                Verdict::FullHandCount
            } else if risk <= alpha {
                Verdict::Confirmed
            } else if self.full_rounds() >= self.commit.max_rounds
                || to
                    >= MOST_DRAWS_PER_TABLE
                        * p.weights.iter().filter(|(_, w)| *w > 0).count() as u64
            {
                Verdict::FullHandCount
            } else {
                Verdict::Escalate(macro_batch::next_round(alpha, u, risk).max(1))
            };
            out.push(ContestRisk {
                contest: p.contest.clone(),
                risk: risk_ppm(risk),
                verdict,
            });
        }
        let escalate = out
            .iter()
            .filter_map(|c| match c.verdict {
                Verdict::Escalate(n) => Some(n),
                _ => None,
            })
            .max();
        let outcome = match escalate {
            Some(n) => Verdict::Escalate(n),
            None if out.iter().any(|c| c.verdict == Verdict::FullHandCount) => {
                Verdict::FullHandCount
            }
            None => Verdict::Confirmed,
        };
        Ok(AuditStep::Risk {
            commitment: self.commitment,
            round: k,
            contests: out,
            outcome,
        })
    }

    /// Polling: the risk of a contest after its draws `1..=to` — for each
    /// assertion the ALPHA test (shrink-truncate estimator from the
    /// reported mean, sampling with replacement) of the receipts' assorter
    /// values in draw order; the contest's risk is its largest.
    fn polling_risk(
        &self,
        contest: &Contest,
        p: &ContestPlan,
        to: u64,
    ) -> Result<ContestRisk, Error> {
        let alpha = self.alpha();
        let drawn = self.ballot_draws(p, 1, to)?;
        let mut risk = 0.0f64;
        for i in 0..p.assertions.len() {
            let test = p.polling_test(i);
            let xs: Vec<f64> = drawn
                .iter()
                .map(|(t, pos)| {
                    let mark = self
                        .readings
                        .get(t)
                        .and_then(|r| r.get(pos))
                        .and_then(|ms| ms.iter().find(|(c, _)| *c == p.contest))
                        .map(|(_, m)| m);
                    p.assort(contest, i, mark)
                })
                .collect();
            let mart =
                crate::risk::alpha::mart(&xs, test.u, None, test.t, &polling_estimator(&test))?;
            risk = risk.max(mart.p_value);
        }
        let verdict = if risk <= alpha {
            Verdict::Confirmed
        } else if self.full_rounds() >= self.commit.max_rounds
            || to >= p.ballots
            || to >= MOST_POLLING_DRAWS
        {
            Verdict::FullHandCount
        } else {
            // Double the sample: as many more draws as so far.
            Verdict::Escalate(to.max(1))
        };
        Ok(ContestRisk {
            contest: p.contest.clone(),
            risk: risk_ppm(risk),
            verdict,
        })
    }

    /// When every table a contest's draws could reach is hand-counted,
    /// whether every assertion holds on the hand counts (tables without a
    /// counted acta still assumed lost); `None` while some table is not.
    pub fn complete_count(&self, contest: &Contest, p: &ContestPlan) -> Option<bool> {
        let mut sums = vec![0i128; p.assertions.len()];
        for (t, w) in &p.weights {
            if *w == 0 {
                // Never drawn: its error bound is 0, so it reports the
                // worst its roll allows (every voter for the loser of every
                // assertion); the truth can be no worse.
                let r = self.reported.get(t)?;
                let rep = r
                    .votes
                    .get(&p.contest)
                    .map(|v| grouped(contest, v))
                    .unwrap_or_default();
                for (s, a) in sums.iter_mut().zip(&p.assertions) {
                    *s += a.contribution(&rep);
                }
                continue;
            }
            let (receipts, counts) = self.counts.get(t)?;
            let r = self.reported.get(t)?;
            if *receipts > r.ballots.max(r.registered) {
                return Some(false);
            }
            let hand = counts
                .iter()
                .find(|h| h.contest == p.contest)
                .map(|h| grouped(contest, &h.votes.iter().cloned().collect()))
                .unwrap_or_default();
            for (s, a) in sums.iter_mut().zip(&p.assertions) {
                *s += a.contribution(&hand);
            }
        }
        // The margins were taken with the missing tables' voters against
        // the winner; do the same to the hand-counted sums.
        Some(
            p.assertions
                .iter()
                .zip(&sums)
                .zip(&p.margins)
                .all(|((a, s), v)| {
                    let reported_sum: i128 = p
                        .weights
                        .iter()
                        .filter_map(|(t, _)| self.reported.get(t))
                        .map(|r| {
                            a.contribution(
                                &r.votes
                                    .get(&p.contest)
                                    .map(|v| grouped(contest, v))
                                    .unwrap_or_default(),
                            )
                        })
                        .sum();
                    let lost = reported_sum - v;
                    s - lost > 0
                }),
        )
    }

    /// The hand-count shape a table's count must have: per contest of its
    /// acta, the acta's choice codes.
    pub fn count_shape(&self, table: &str) -> Option<Vec<(String, Vec<String>)>> {
        let r = self.reported.get(table)?;
        Some(
            r.votes
                .iter()
                .map(|(c, v)| {
                    (
                        c.clone(),
                        v.keys().filter(|k| !k.starts_with('(')).cloned().collect(),
                    )
                })
                .collect(),
        )
    }

    /// Applies a logged step after the commit: it must be the step due and,
    /// where the step is derived, exactly the derived one.
    pub fn apply(&mut self, election: &Election, step: &AuditStep) -> Result<(), String> {
        if step.commitment() != Some(self.commitment) {
            return Err("it names another commitment".into());
        }
        let next = self.next();
        match (step, &next) {
            (
                AuditStep::Seed {
                    contributions,
                    seed,
                    ..
                },
                Next::Seed,
            ) => {
                if contributions.len() < MIN_CONTRIBUTIONS || seed.len() < MIN_SEED_DIGITS {
                    return Err(format!(
                        "a seed needs dice from at least {MIN_CONTRIBUTIONS} parties and {MIN_SEED_DIGITS} digits; this one has {} and {}",
                        contributions.len(),
                        seed.len()
                    ));
                }
                self.seed = Some(seed.clone());
                self.contributions = contributions.clone();
                Ok(())
            }
            (AuditStep::Round { .. }, Next::Round(_)) => {
                let (want, cut) = self.round_due().map_err(|e| e.to_string())?;
                if &want != step {
                    return Err(format!(
                        "the round is not the one the seed and the manifest give: expected\n{}",
                        body(&want)
                    ));
                }
                let AuditStep::Round { draws, tables, .. } = want else {
                    unreachable!()
                };
                let mut positions: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
                if self.commit.method == AuditMethod::Polling {
                    for (c, from, to) in &draws {
                        let p = self.plan(c).expect("drawn contests are planned");
                        for (t, k) in self
                            .ballot_draws(p, *from, *to)
                            .map_err(|e| e.to_string())?
                        {
                            positions.entry(t).or_default().insert(k);
                        }
                    }
                }
                for (t, ps) in &positions {
                    let read = self.readings.get(t);
                    let new: BTreeSet<u64> = ps
                        .iter()
                        .copied()
                        .filter(|k| !read.is_some_and(|r| r.contains_key(k)))
                        .collect();
                    if !new.is_empty() {
                        self.unread.entry(t.clone()).or_default().extend(new);
                    }
                }
                self.rounds.push(Round {
                    draws,
                    tables,
                    positions,
                    cut,
                });
                Ok(())
            }
            (
                AuditStep::Count {
                    table,
                    receipts,
                    contests,
                    ..
                },
                Next::Count(pending),
            ) => {
                if self.commit.method != AuditMethod::Batch {
                    return Err(
                        "a polling audit reads drawn receipts, it does not count boxes".into(),
                    );
                }
                if !pending.contains(table) {
                    return Err(format!(
                        "table {table} was not drawn, or is already counted"
                    ));
                }
                let shape = self.count_shape(table).unwrap_or_default();
                let got: Vec<(String, Vec<String>)> = contests
                    .iter()
                    .map(|h| {
                        (
                            h.contest.clone(),
                            h.votes.iter().map(|(c, _)| c.clone()).collect(),
                        )
                    })
                    .collect();
                if got != shape {
                    return Err(format!(
                        "the hand count of {table} does not have the contests and choices of its acta"
                    ));
                }
                self.counts
                    .insert(table.clone(), (*receipts, contests.clone()));
                Ok(())
            }
            (
                AuditStep::Receipts {
                    table, receipts, ..
                },
                Next::Count(pending),
            ) => {
                if self.commit.method != AuditMethod::Polling {
                    return Err(
                        "a batch audit counts whole boxes, it does not read receipts".into(),
                    );
                }
                if !pending.contains(table) {
                    return Err(format!("no receipt of table {table} is waiting to be read"));
                }
                let want: Vec<u64> = self
                    .unread
                    .get(table)
                    .into_iter()
                    .flatten()
                    .copied()
                    .collect();
                let got: Vec<u64> = receipts.iter().map(|r| r.position).collect();
                if got != want {
                    return Err(format!(
                        "table {table}: the receipts drawn and not yet read are {want:?}; the step reads {got:?}"
                    ));
                }
                let shape = self.count_shape(table).unwrap_or_default();
                for r in receipts {
                    let contests: Vec<&String> = r.marks.iter().map(|(c, _)| c).collect();
                    if contests != shape.iter().map(|(c, _)| c).collect::<Vec<_>>() {
                        return Err(format!(
                            "table {table}, receipt {}: its marks are not the contests of the table's ballot",
                            r.position
                        ));
                    }
                    for ((c, m), (_, choices)) in r.marks.iter().zip(&shape) {
                        if let Mark::Choices(cs) = m {
                            let most = election.contest(c).map_or(1, |k| k.max_marks()) as usize;
                            if cs.is_empty()
                                || cs.len() > most
                                || cs.iter().any(|x| !choices.contains(x))
                            {
                                return Err(format!(
                                    "table {table}, receipt {}: contest {c} marks choices the acta does not have, or too many",
                                    r.position
                                ));
                            }
                        }
                    }
                }
                let entry = self.readings.entry(table.clone()).or_default();
                for Receipt { position, marks } in receipts {
                    entry.insert(*position, marks.clone());
                }
                self.unread.remove(table);
                Ok(())
            }
            (
                AuditStep::Risk {
                    contests, outcome, ..
                },
                Next::Risk(_),
            ) => {
                let want = self.derive_risk(election).map_err(|e| e.to_string())?;
                if &want != step {
                    return Err(format!(
                        "the risk is not what the hand counts give: expected\n{}",
                        body(&want)
                    ));
                }
                self.risks.push((contests.clone(), *outcome));
                Ok(())
            }
            (s, n) => Err(format!(
                "a {} step is not due: the audit needs {}",
                s.name(),
                describe(n)
            )),
        }
    }
}

/// The estimator a polling test bets with: SHANGRLA's shrink-truncate,
/// starting from the reported mean.
pub fn polling_estimator(test: &PollingTest) -> crate::risk::alpha::Estimator {
    let mut st = crate::risk::alpha::ShrinkTrunc::default_for(test.u, test.t);
    st.eta0 = test.eta.min(test.u * (1.0 - 1e-9)).max(test.t);
    st.c = ((st.eta0 - test.t) / 2.0).max(1e-9);
    crate::risk::alpha::Estimator::ShrinkTrunc(st)
}

/// Polling round 1's size: for each assertion, the draws after which ALPHA
/// reaches the risk limit if every receipt scored the reported mean; the
/// largest over the contest's assertions.
pub fn first_round_polling(alpha: f64, p: &ContestPlan) -> Result<u64, Error> {
    let mut n = 1;
    for i in 0..p.assertions.len() {
        let test = p.polling_test(i);
        let need = crate::risk::alpha::sample_size(
            alpha,
            test.eta,
            test.u,
            None,
            test.t,
            &polling_estimator(&test),
            p.ballots.max(1),
        )?
        .unwrap_or(p.ballots.max(1));
        n = n.max(need);
    }
    Ok(n)
}

/// Round 1's size: where clean draws reach the risk limit.
pub fn first_round(alpha: f64, total_bound: f64) -> u64 {
    if total_bound <= 1.0 {
        return 1;
    }
    macro_batch::next_round(alpha, total_bound, 1.0).max(1)
}

fn body(step: &AuditStep) -> String {
    let t = AuditNote {
        election: String::new(),
        audit: String::new(),
        step: step.clone(),
    }
    .to_text();
    t.lines().skip(5).collect::<Vec<_>>().join("\n")
}

/// The next step, in words.
pub fn describe(n: &Next) -> String {
    match n {
        Next::Seed => "its seed".into(),
        Next::Round(k) => format!("the draws of round {k}"),
        Next::Count(t) => format!("the hand counts of {} tables ({})", t.len(), preview(t)),
        Next::Risk(k) => format!("the risk of round {k}"),
        Next::Done(Verdict::Confirmed) => "nothing: it ended, outcome confirmed".into(),
        Next::Done(_) => "nothing: it ended, a full hand count is required".into(),
    }
}

fn preview(t: &[String]) -> String {
    let mut s: Vec<&str> = t.iter().take(5).map(String::as_str).collect();
    if t.len() > 5 {
        s.push("…");
    }
    s.join(", ")
}

/// A logged audit step that is not what the log before it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    /// Log index of the step.
    pub index: u64,
    /// The audit's name.
    pub audit: String,
    /// The step's name.
    pub step: String,
    /// What is wrong.
    pub what: String,
}

/// Every audit in the log, replayed.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The audits whose manifest holds, by name.
    pub audits: BTreeMap<String, Audit>,
    /// Every step disputed, in log order.
    pub disputes: Vec<Dispute>,
}

/// Replays the audit steps of a log, in log order: `(index, text hash,
/// note)` each, already opened (signed by the center, canonical).
/// `population` gives the log's population at a checkpoint named by the
/// manifest at a log index, or says why it cannot (a checkpoint that is not
/// of this log, or older than an announcement the manifest follows).
pub fn replay(
    election: &Election,
    steps: &[(u64, [u8; 32], AuditNote)],
    mut population: impl FnMut(&Checkpoint, u64) -> Result<Population, String>,
) -> Replay {
    let mut out = Replay::default();
    let mut disputed: BTreeSet<[u8; 32]> = BTreeSet::new();
    // Every audit name ever committed (disputed or not), and every seed:
    // a name committed again, or a seed used twice, is a second try at a
    // sample — disputed.
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut seeds: BTreeMap<String, String> = BTreeMap::new();
    for (index, hash, note) in steps {
        let dispute = |what: String| Dispute {
            index: *index,
            audit: note.audit.clone(),
            step: note.step.name().to_string(),
            what,
        };
        match &note.step {
            AuditStep::Commit(c) => {
                if !names.insert(note.audit.clone()) {
                    disputed.insert(*hash);
                    out.disputes.push(dispute(format!(
                        "audit {} is already committed",
                        note.audit
                    )));
                    continue;
                }
                let started = population(&c.checkpoint, *index)
                    .and_then(|p| Audit::start(election, *index, *hash, note, p));
                match started {
                    Ok(a) => {
                        out.audits.insert(note.audit.clone(), a);
                    }
                    Err(e) => {
                        disputed.insert(*hash);
                        out.disputes.push(dispute(e));
                    }
                }
            }
            step => {
                let c = step.commitment().expect("later steps name a commitment");
                if disputed.contains(&c) {
                    out.disputes
                        .push(dispute("it follows a disputed manifest".into()));
                    continue;
                }
                let Some(a) = out
                    .audits
                    .get_mut(&note.audit)
                    .filter(|a| a.commitment == c)
                else {
                    out.disputes.push(dispute(format!(
                        "no manifest of audit {} was logged before it",
                        note.audit
                    )));
                    continue;
                };
                if let AuditStep::Seed { seed, .. } = step {
                    if let Some(other) = seeds.get(seed) {
                        out.disputes.push(dispute(format!(
                            "the seed was already used by audit {other}: a sample must come from dice rolled for it"
                        )));
                        continue;
                    }
                }
                match a.apply(election, step) {
                    Ok(()) => {
                        if let AuditStep::Seed { seed, .. } = step {
                            seeds.insert(seed.clone(), note.audit.clone());
                        }
                    }
                    Err(e) => out.disputes.push(dispute(e)),
                }
            }
        }
    }
    out
}

/// A hand count from the ballot records in a table's receipt box, as a
/// board would tally it: per contest on the ballot, each choice code of
/// the acta, blank and null. `marks` gives, per record, per contest in
/// ballot order, the choice codes marked (empty for blank) or `None` for
/// null.
pub fn tally(
    election: &Election,
    table: &str,
    marks: &[Vec<Option<Vec<String>>>],
) -> Vec<HandCount> {
    let ballot = election.ballot(table);
    let mut out: Vec<HandCount> = ballot
        .iter()
        .map(|c| HandCount {
            contest: c.id.clone(),
            votes: c.choices().into_iter().map(|k| (k, 0)).collect(),
            blank: 0,
            null: 0,
        })
        .collect();
    for record in marks {
        for (h, m) in out.iter_mut().zip(record) {
            match m {
                None => h.null += 1,
                Some(cs) if cs.is_empty() => h.blank += 1,
                Some(cs) => {
                    for c in cs {
                        if let Some(v) = h.votes.iter_mut().find(|(k, _)| k == c) {
                            v.1 += 1;
                        }
                    }
                }
            }
        }
    }
    out
}

/// What the election-night citizen check limits: the receipts of `k` of
/// the contest's `N` tables, drawn uniformly without replacement, counted
/// and compared with their actas.
#[derive(Debug, Clone, PartialEq)]
pub struct CitizenCheck {
    /// Tables that vote on the contest (with a counted acta).
    pub tables: u64,
    /// Tables checked.
    pub checked: u64,
    /// The fewest tables whose actas must be wrong for the announced
    /// outcome to be wrong: the largest error bounds first, until they
    /// cover the margin (`None` when no number of tables can, or the
    /// margin is not positive).
    pub fewest_wrong: Option<u64>,
    /// The chance that a check of `checked` uniformly drawn tables misses
    /// every one of `fewest_wrong` altered tables:
    /// `C(N − m, k)/C(N, k) = ∏_{i<k} (N − m − i)/(N − i)` — the risk the
    /// check limits, if a compared table always shows its error.
    pub risk: f64,
}

/// The risk a citizen check of `checked` tables limits for a contest.
pub fn citizen_check(plan: &ContestPlan, checked: u64) -> CitizenCheck {
    let n = plan.weights.len() as u64;
    let k = checked.min(n);
    let mut bounds: Vec<u64> = plan.weights.iter().map(|(_, w)| *w).collect();
    bounds.sort_unstable_by(|a, b| b.cmp(a));
    let mut fewest = None;
    if plan.total > 0 {
        let mut sum: u128 = 0;
        for (i, w) in bounds.iter().enumerate() {
            sum += u128::from(*w);
            if sum >= u128::from(SCALE) {
                fewest = Some(i as u64 + 1);
                break;
            }
        }
    }
    let risk = match fewest {
        None => 1.0,
        Some(m) => {
            let mut p = 1.0f64;
            for i in 0..k {
                if n - i <= m {
                    p = 0.0;
                    break;
                }
                p *= (n - m - i) as f64 / (n - i) as f64;
            }
            p
        }
    };
    CitizenCheck {
        tables: n,
        checked: k,
        fewest_wrong: fewest,
        risk,
    }
}
