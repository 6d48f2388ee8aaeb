//! The verdict as people read it: a headline first, findings grouped by
//! kind with counts, the tables with no counted acta, then the details.

use serde::{Deserialize, Serialize};

use crate::finding::{thousands, Finding, FindingKind, Verdict};
use crate::ledger::{HeldActa, Sums};
use crate::paper::PaperCheck;

/// A table of the package with no counted acta in the log: its witnesses
/// should bring their paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreported {
    /// Table id.
    pub table: String,
    /// Registered voters at the table.
    pub registered: u64,
    /// What the log holds for it instead (`nothing`, `held acta at entry N`).
    pub log: String,
}

/// Findings of one kind, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The kind.
    pub kind: FindingKind,
    /// What it means.
    pub meaning: String,
    /// How many findings.
    pub count: usize,
}

/// The verdict and everything behind it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// One sentence: the most serious finding, with its figures; or that
    /// everything is consistent.
    pub headline: String,
    /// Consistent, or discrepancies found.
    pub verdict: Verdict,
    /// Election id.
    pub election: String,
    /// Log size verified.
    pub log_size: u64,
    /// Log root verified (base64).
    pub log_root: String,
    /// Tables in the election.
    pub tables_total: u64,
    /// Tables with a counted acta.
    pub tables_reported: u64,
    /// Registered voters of the whole package.
    pub registered_total: u64,
    /// Signed entries verified.
    pub actas_verified: u64,
    /// Tiles and entry bundles verified against the signed root.
    pub proofs_verified: u64,
    /// Entries mirrored and verified in this run (the rest came from the
    /// state a previous run left).
    #[serde(default)]
    pub verified_now: u64,
    /// Log index of the latest announcement, if the log has one.
    pub announced: Option<u64>,
    /// National sums re-added from the actas.
    pub sums: Sums,
    /// Authentic actas that cannot be counted (listed, not counted).
    pub held: Vec<HeldActa>,
    /// Every table with no counted acta in the log.
    pub unreported: Vec<Unreported>,
    /// Paper actas and receipts checked, if any were given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paper: Vec<PaperCheck>,
    /// What could not be compared, and why (a static mirror publishes no
    /// statements; figures about a log newer than the one verified): while
    /// anything is here, the verdict is never "consistent".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
    /// Remarks that do not limit the verdict (a state set aside).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The audits in the log, as re-derived from it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audits: Vec<crate::audit::AuditSummary>,
    /// Findings grouped by kind, most serious first.
    pub groups: Vec<Group>,
    /// Every discrepancy, most serious kind first.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Sorts the findings by kind, groups them, sets the verdict and writes
    /// the headline. Call once everything is in.
    pub fn conclude(&mut self) {
        self.findings.sort_by_key(|f| f.kind);
        self.groups.clear();
        for f in &self.findings {
            match self.groups.last_mut() {
                Some(g) if g.kind == f.kind => g.count += 1,
                _ => self.groups.push(Group {
                    kind: f.kind,
                    meaning: f.kind.meaning().into(),
                    count: 1,
                }),
            }
        }
        self.verdict = if !self.findings.is_empty() {
            Verdict::Discrepancies
        } else if !self.unchecked.is_empty() {
            Verdict::Incomplete
        } else {
            Verdict::Consistent
        };
        self.headline = self.write_headline();
    }

    fn write_headline(&self) -> String {
        if let (None, Some(what)) = (self.findings.first(), self.unchecked.first()) {
            return format!(
                "no discrepancy in what could be checked, but not everything could be: {what}{}",
                if self.unchecked.len() > 1 {
                    format!(" (and {} more)", self.unchecked.len() - 1)
                } else {
                    String::new()
                }
            );
        }
        let Some(first) = self.findings.first() else {
            let mut s = format!(
                "everything the center publishes and signs is what the {} signed actas in the log add up to",
                thousands(self.tables_reported)
            );
            if !self.unreported.is_empty() {
                s.push_str(&format!(
                    "; {} of {} tables have no counted acta in the log yet",
                    thousands(self.unreported.len() as u64),
                    thousands(self.tables_total)
                ));
            }
            for a in &self.audits {
                s.push_str(&format!("; audit {}: {}", a.audit, a.status));
            }
            return s;
        };
        let count = |k| self.findings.iter().filter(|f| f.kind == k).count() as u64;
        let national = |figure: &str| {
            self.findings.iter().find(|f| {
                f.kind == FindingKind::AnnouncementFigure
                    && f.place == "country"
                    && f.figure.starts_with(&format!("{figure} (diff"))
            })
        };
        let figures = |f: &Finding| -> Option<(u64, u64)> {
            Some((f.center.parse().ok()?, f.machines.parse().ok()?))
        };
        match first.kind {
            FindingKind::ForkedLog => format!(
                "the center signed two logs that cannot both be true ({}): {}",
                first.figure, first.evidence
            ),
            FindingKind::ReceiptNotHonored => format!(
                "the center gave table {} a receipt for an acta its log does not hold where the receipt says",
                first.place
            ),
            FindingKind::Package => format!(
                "the election package the center serves is not the one the auditors signed: {}",
                first.machines
            ),
            FindingKind::AnnouncementFigure => {
                let reported = self.tables_reported;
                let tables = national("tables").and_then(figures).filter(|(c, m)| c > m);
                if let Some((c, m)) = tables {
                    let voters = national("ballots")
                        .and_then(figures)
                        .filter(|(c, m)| c > m)
                        .map(|(c, m)| format!(" and {} more voters", thousands(c - m)))
                        .unwrap_or_default();
                    format!(
                        "the announcement counts {} tables{voters}; the log holds counted signed actas for {}: {} tables are announced with no signed acta in the log",
                        thousands(c),
                        thousands(m),
                        thousands(c - m)
                    )
                } else if let Some((c, m)) = national("ballots").and_then(figures).filter(|(c, m)| c != m) {
                    let (more, diff) = if c > m { ("more", c - m) } else { ("fewer", m - c) };
                    format!(
                        "the announcement counts {} {more} voters than the {} signed actas add up to: {} announced, {} signed",
                        thousands(diff),
                        thousands(reported),
                        thousands(c),
                        thousands(m)
                    )
                } else {
                    let figure = first.figure.split(" (diff").next().unwrap_or(&first.figure);
                    format!(
                        "the signed announcement gives {figure} {}, where the signed actas add up to {}",
                        first.center, first.machines
                    )
                }
            }
            FindingKind::AbsentFromLog => format!(
                "{} actas held on paper are not in the public log (first: table {})",
                thousands(count(FindingKind::AbsentFromLog)),
                first.place
            ),
            FindingKind::PhantomTable => format!(
                "the center counts {} tables that have no signed acta in the log (first: {})",
                thousands(count(FindingKind::PhantomTable)),
                first.place
            ),
            _ => format!(
                "{} {}: {} {} — the center says {}, the signed evidence says {}",
                thousands(count(first.kind)),
                first.kind.meaning(),
                first.place,
                first.figure,
                first.center,
                first.machines
            ),
        }
    }
}
