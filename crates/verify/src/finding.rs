//! What the observer concludes: typed findings and the verdict.

use serde::{Deserialize, Serialize};

/// What kind of discrepancy a finding is. Each line of the manipulation
/// matrix (`acta demo --tamper <name>`) is caught as one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FindingKind {
    /// Two signed checkpoints of one log that cannot both be true: a log
    /// rewritten between two runs, or shown differently to two observers.
    ForkedLog,
    /// A station holds a receipt for an acta the log does not have where
    /// the receipt's checkpoint put it.
    ReceiptNotHonored,
    /// The package served is not one the trusted auditors' quorum signed.
    Package,
    /// A figure of the signed announcement differs from the sum of the
    /// signed actas in its checkpoint.
    AnnouncementFigure,
    /// Seats or winners, announced or published, are not those of the
    /// package's method over the signed actas.
    Seats,
    /// The signed announcement is malformed, not signed by the center, or
    /// not about this election and log.
    Announcement,
    /// An acta a witness holds on paper is not in the log.
    AbsentFromLog,
    /// The center counts a table with no countable acta in the log.
    PhantomTable,
    /// A table with a countable acta in the log is not in the center's results.
    MissingTable,
    /// A table's figure in the center's results differs from its signed acta.
    TableFigure,
    /// An area's published total differs from the sum of its signed actas.
    AreaFigure,
    /// Alarms on a signed acta, or a held acta, missing from what the
    /// center shows.
    HiddenAlarms,
    /// A log entry is not an authentic acta, zero report or announcement:
    /// an uncertified machine, another table's machine, a bad signature.
    InvalidLogEntry,
    /// A table's certified machine signed two different actas.
    ConflictingActas,
    /// The center logged the same acta body twice.
    RepeatedActa,
    /// The center says an entry is counted, held or a conflict, and the
    /// acta says otherwise.
    EntryStatus,
    /// The signed root does not match the entries served.
    LogRoot,
    /// The public checkpoint lacks the witness cosignatures the package requires.
    Cosignatures,
    /// A logged audit step is not what the log before it gives: a manifest
    /// that is not the counted actas at its checkpoint, a seed before the
    /// commitment, draws or a risk the seed and the hand counts do not give.
    Audit,
}

impl FindingKind {
    /// The kebab-case name used in JSON and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::ForkedLog => "forked-log",
            FindingKind::ReceiptNotHonored => "receipt-not-honored",
            FindingKind::Package => "package",
            FindingKind::AnnouncementFigure => "announcement-figure",
            FindingKind::Seats => "seats",
            FindingKind::Announcement => "announcement",
            FindingKind::AbsentFromLog => "absent-from-log",
            FindingKind::PhantomTable => "phantom-table",
            FindingKind::MissingTable => "missing-table",
            FindingKind::TableFigure => "table-figure",
            FindingKind::AreaFigure => "area-figure",
            FindingKind::HiddenAlarms => "hidden-alarms",
            FindingKind::InvalidLogEntry => "invalid-log-entry",
            FindingKind::ConflictingActas => "conflicting-actas",
            FindingKind::RepeatedActa => "repeated-acta",
            FindingKind::EntryStatus => "entry-status",
            FindingKind::LogRoot => "log-root",
            FindingKind::Cosignatures => "cosignatures",
            FindingKind::Audit => "audit",
        }
    }

    /// What a finding of this kind means, in one sentence for a reader.
    pub fn meaning(self) -> &'static str {
        match self {
            FindingKind::ForkedLog => "the center signed two logs that cannot both be true",
            FindingKind::ReceiptNotHonored => {
                "the center gave a station a receipt for an acta its log does not hold"
            }
            FindingKind::Package => {
                "the election package served is not the one the auditors signed"
            }
            FindingKind::AnnouncementFigure => {
                "the signed announcement differs from what the signed actas add up to"
            }
            FindingKind::Seats => "seats or winners are not those the package's method gives",
            FindingKind::Announcement => "the announcement is not a valid signed statement",
            FindingKind::AbsentFromLog => "an acta held on paper is not in the public log",
            FindingKind::PhantomTable => "the center counts tables with no signed acta in the log",
            FindingKind::MissingTable => "signed actas in the log the center does not count",
            FindingKind::TableFigure => "per-table figures differ from the signed actas",
            FindingKind::AreaFigure => "area totals differ from the signed actas",
            FindingKind::HiddenAlarms => "alarms or held actas the center does not show",
            FindingKind::InvalidLogEntry => {
                "log entries not signed by the table's certified machine"
            }
            FindingKind::ConflictingActas => "a machine signed two different actas",
            FindingKind::RepeatedActa => "an acta logged twice",
            FindingKind::EntryStatus => "an entry's status differs from what its acta says",
            FindingKind::LogRoot => "the log served does not match its signed root",
            FindingKind::Cosignatures => "the checkpoint lacks the witness cosignatures required",
            FindingKind::Audit => "a logged audit step is not what the log before it gives",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The observer's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Verdict {
    /// Everything the center published is what the signed actas say.
    Consistent,
    /// At least one finding.
    Discrepancies,
    /// No finding in what could be checked, but something the center must
    /// publish could not be checked (see the report's `unchecked`): no
    /// verdict of consistency.
    Incomplete,
}

/// A discrepancy, with what each side says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of discrepancy.
    pub kind: FindingKind,
    /// The table id, area code (`country` for the whole country), `log`,
    /// or a log entry.
    pub place: String,
    /// Which figure.
    pub figure: String,
    /// What the center says.
    pub center: String,
    /// What the signed actas (or the earlier signed checkpoint) say.
    pub machines: String,
    /// Where the proof is: log indices, signed notes kept as evidence.
    pub evidence: String,
}

/// Writes `n` with thousands separators: `1,126,832`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_by_three() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1_126_832), "1,126,832");
    }
}
