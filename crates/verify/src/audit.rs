//! The audits in the log, re-derived: the population each manifest names
//! (the counted actas at its checkpoint, from the ledger), every round's
//! draws from the public seed, every risk from the logged hand counts
//! ([`acta_audit::workflow::replay`]). A step that is not what the log
//! before it gives is a finding; each audit's state is summarised for the
//! report.

use acta_audit::workflow::{self, Population, Replay, Reported};
pub use acta_audit::workflow::{Audit, Next};
use acta_election::Election;
use acta_sheet::audit::{fraction_text, risk_text, AuditNote, Verdict};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, FindingKind};
use crate::ledger::Ledger;

/// The population at a log size: every table's first counted acta logged
/// before it, and the tables without one — a table whose machine also
/// signed a different acta before that size is among the latter: its
/// figures are its machine's word against itself, so it counts as lost for
/// every winner.
pub fn population(election: &Election, ledger: &Ledger, size: u64) -> Population {
    let mut p = Population::default();
    for (t, facts) in election.tables.iter().zip(&ledger.tables) {
        let conflicted = facts.conflicts.iter().any(|(i, _)| *i < size);
        match facts
            .acta
            .as_ref()
            .filter(|a| a.index < size && !conflicted)
            .and_then(|a| a.counted.as_ref().map(|f| (a, f)))
        {
            Some((a, f)) => p.counted.push(Reported {
                table: t.id.clone(),
                acta: a.body,
                ballots: f.ballots,
                registered: u64::from(t.registered),
                votes: f.votes_map(election, &t.id),
            }),
            None => p.missing.push((t.id.clone(), u64::from(t.registered))),
        }
    }
    p
}

/// The audit steps of the ledger, opened: index, text hash, note.
pub fn steps(ledger: &Ledger) -> Vec<(u64, [u8; 32], AuditNote)> {
    ledger
        .audits
        .iter()
        .filter_map(|(i, signed)| {
            let n = acta_note::Note::parse(signed.as_bytes()).ok()?;
            let note = AuditNote::parse(n.text).ok()?;
            Some((*i, acta_sheet::body_hash(n.text), note))
        })
        .collect()
}

/// Replays every audit of the log. `root_at(size)` is the verified log's
/// root at a size (`None` beyond the log): a manifest whose checkpoint is
/// not of this log is disputed.
pub fn replay(
    election: &Election,
    ledger: &Ledger,
    root_at: impl Fn(u64) -> Option<acta_tlog::Hash>,
) -> (Replay, Vec<Finding>) {
    let steps = steps(ledger);
    // The announcements, by log index, with the log size each speaks for:
    // an audit of an older checkpoint than one already announced would
    // confirm an outcome nobody announced last.
    let announced: Vec<(u64, u64)> = ledger
        .announcements
        .iter()
        .filter_map(|(i, note)| {
            let text = acta_note::Note::parse(note.as_bytes()).ok()?.text;
            Some((
                *i,
                acta_sheet::Announcement::parse(text).ok()?.checkpoint.size,
            ))
        })
        .collect();
    let r = workflow::replay(election, &steps, |cp, at| {
        if cp.origin != election.log_origin {
            return Err(format!("its checkpoint is of log {}", cp.origin));
        }
        if let Some((i, size)) = announced
            .iter()
            .rev()
            .find(|(i, size)| *i < at && *size > cp.size)
        {
            return Err(format!(
                "it audits checkpoint {}, older than the announcement at log entry {i} (checkpoint {size})",
                cp.size
            ));
        }
        match root_at(cp.size) {
            Some(root) if root == cp.root => Ok(population(election, ledger, cp.size)),
            Some(_) => Err(format!(
                "its checkpoint {} does not have this log's root at that size",
                cp.size
            )),
            None => Err(format!(
                "its checkpoint {} is beyond the log verified",
                cp.size
            )),
        }
    });
    let findings = r
        .disputes
        .iter()
        .map(|d| Finding {
            kind: FindingKind::Audit,
            place: format!("audit {}", d.audit),
            figure: format!("{} step, log entry {}", d.step, d.index),
            center: "logged it".into(),
            machines: d.what.clone(),
            evidence: format!("entry-{}.note", d.index),
        })
        .collect();
    (r, findings)
}

/// One contest's standing in an audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestStanding {
    /// Contest id.
    pub contest: String,
    /// The risk measured last (`1.000000` before any).
    pub risk: String,
    /// `confirmed`, `escalate N`, `full-hand-count` or `sampling`.
    pub verdict: String,
}

/// An audit as the observer re-derived it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// The audit's name.
    pub audit: String,
    /// Log index of its manifest.
    pub manifest_index: u64,
    /// Log size of the checkpoint it audits.
    pub checkpoint: u64,
    /// The risk limit, as written (`0.05`).
    pub risk_limit: String,
    /// `batch` (boxes counted against actas) or `polling` (receipts read).
    #[serde(default)]
    pub method: String,
    /// Polling: receipts drawn and read.
    #[serde(default)]
    pub receipts_read: u64,
    /// The public seed, once logged.
    pub seed: Option<String>,
    /// Rounds drawn.
    pub rounds: usize,
    /// Tables drawn and hand-counted (batch), or whose drawn receipts were
    /// read (polling).
    pub tables_counted: usize,
    /// Tables drawn in all.
    pub tables_drawn: usize,
    /// One sentence: confirmed at the risk limit, full hand count required,
    /// or what it waits for.
    pub status: String,
    /// Per contest.
    pub contests: Vec<ContestStanding>,
}

/// The summaries of the audits replayed.
pub fn summaries(r: &Replay) -> Vec<AuditSummary> {
    let mut out: Vec<AuditSummary> = r
        .audits
        .values()
        .map(|a| {
            let last = a.risks.last().map(|(cs, _)| cs);
            AuditSummary {
                audit: a.name.clone(),
                manifest_index: a.index,
                checkpoint: a.commit.checkpoint.size,
                risk_limit: fraction_text(a.commit.risk_limit),
                method: a.commit.method.as_str().to_string(),
                receipts_read: a.readings.values().map(|r| r.len() as u64).sum(),
                seed: a.seed.clone(),
                rounds: a.rounds.len(),
                tables_counted: a.counts.len() + a.readings.len(),
                tables_drawn: a.drawn().len(),
                status: match a.next() {
                    Next::Done(Verdict::Confirmed) => format!(
                        "outcome confirmed at risk limit {}",
                        fraction_text(a.commit.risk_limit)
                    ),
                    Next::Done(_) => "full hand count required".into(),
                    n => format!("in progress: needs {}", workflow::describe(&n)),
                },
                contests: a
                    .plans
                    .iter()
                    .map(|p| {
                        let c = last.and_then(|cs| cs.iter().find(|c| c.contest == p.contest));
                        ContestStanding {
                            contest: p.contest.clone(),
                            risk: risk_text(c.map_or(acta_sheet::audit::MILLION, |c| c.risk)),
                            verdict: match c.map(|c| c.verdict) {
                                Some(Verdict::Confirmed) => "confirmed".into(),
                                Some(Verdict::FullHandCount) => "full-hand-count".into(),
                                Some(Verdict::Escalate(n)) => format!("escalate {n}"),
                                None => "sampling".into(),
                            },
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    out.sort_by_key(|a| a.manifest_index);
    out
}
