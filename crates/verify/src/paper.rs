//! Paper in hand: a party witness's actas (decoded from the printed QR
//! codes, or as files) and stations' receipts, held against the log.
//!
//! For each acta: is the machine's signature valid; is that exact body in
//! the log, and where; is it the acta the center counts for the table. An
//! authentic acta absent from the log is the evidence of 2024 (per-table
//! results never published), and becomes an [`FindingKind::AbsentFromLog`]
//! finding. A receipt (C2SP tlog-proof, kept by the station at
//! transmission) proves the center logged the acta at an index under a
//! checkpoint it signed and the witnesses cosigned; if the verified log
//! has another root at that size, the center rewrote what it had accepted.

use acta_election::Election;
use acta_sheet::{Acta, EntryKind};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, FindingKind};
use crate::ledger::{table_index, Ledger};

/// What the log says of one paper acta or receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PaperStatus {
    /// Authentic, and the acta the log counts (or holds) for its table.
    InLog,
    /// Authentic, and logged as a conflicting second acta of its machine.
    Conflict,
    /// Authentic, and not in the log.
    Absent,
    /// Not signed by the table's certified machine, or altered since.
    NotAuthentic,
    /// The receipt verifies and the log holds the acta where it says.
    ReceiptHonored,
    /// The receipt verifies and the log has another root at its size.
    ReceiptNotHonored,
    /// The receipt does not verify (altered, or not for this acta).
    BadReceipt,
    /// The receipt verifies, under a checkpoint newer than the log
    /// verified: not provable either way until the observer catches up.
    ReceiptAhead,
}

/// One paper acta or receipt, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperCheck {
    /// Where it came from (file name).
    pub source: String,
    /// Its table, if it could be read.
    pub table: String,
    /// The conclusion.
    pub status: PaperStatus,
    /// In words, with log indices and security code.
    pub detail: String,
}

/// Checks one signed acta (or zero report) held on paper.
pub fn acta(
    election: &Election,
    ledger: &Ledger,
    source: &str,
    signed: &[u8],
) -> (PaperCheck, Option<Finding>) {
    let code = acta_sheet::security_code(signed);
    let check = |table: String, status, detail: String| PaperCheck {
        source: source.into(),
        table,
        status,
        detail,
    };
    let opened = match EntryKind::of(signed) {
        Some(EntryKind::Acta) | None => {
            Acta::open(signed, election).map(|o| (o.acta.table.clone(), ()))
        }
        Some(EntryKind::Zero) => {
            acta_sheet::ZeroReport::open(signed, election).map(|z| (z.table, ()))
        }
        Some(_) => {
            return (
                check(
                    String::new(),
                    PaperStatus::NotAuthentic,
                    "an announcement, not a table's paper".into(),
                ),
                None,
            )
        }
    };
    let table = match opened {
        Ok((t, ())) => t,
        Err(e) => {
            return (
                check(
                    String::new(),
                    PaperStatus::NotAuthentic,
                    format!("not the table machine's signed acta (security code {code}): {e}"),
                ),
                None,
            )
        }
    };
    let body = acta_note::Note::parse(signed)
        .map(|n| acta_sheet::body_hash(n.text))
        .unwrap_or_default();
    let facts = table_index(election, &table).map(|t| &ledger.tables[t]);
    let zero = EntryKind::of(signed) == Some(EntryKind::Zero);
    let logged = facts.and_then(|f| {
        if zero {
            f.zero.filter(|(_, b)| *b == body).map(|(i, _)| (i, false))
        } else {
            f.acta
                .as_ref()
                .filter(|a| a.body == body)
                .map(|a| (a.index, false))
                .or_else(|| {
                    f.conflicts
                        .iter()
                        .find(|(_, b)| *b == body)
                        .map(|(i, _)| (*i, true))
                })
        }
    });
    match logged {
        Some((i, false)) => (
            check(
                table,
                PaperStatus::InLog,
                format!("signature valid; in the log at entry {i}, the acta that stands for its table (security code {code})"),
            ),
            None,
        ),
        Some((i, true)) => (
            check(
                table,
                PaperStatus::Conflict,
                format!("signature valid; in the log at entry {i} as a second, conflicting acta of its machine (security code {code})"),
            ),
            None,
        ),
        None => {
            let instead = match facts.and_then(|f| if zero { None } else { f.acta.as_ref() }) {
                Some(a) => format!("the log holds a different acta for the table, at entry {}", a.index),
                None => "the log holds no acta for the table".into(),
            };
            let detail = format!(
                "signature valid, NOT IN THE LOG of {} entries: {instead} (security code {code})",
                ledger.size
            );
            let finding = Finding {
                kind: FindingKind::AbsentFromLog,
                place: table.clone(),
                figure: if zero { "zero report".into() } else { "acta".into() },
                center: format!("its log of {} entries does not hold it; {instead}", ledger.size),
                machines: format!("the table's machine signed it (security code {code})"),
                evidence: format!("paper {source}"),
            };
            (check(table, PaperStatus::Absent, detail), Some(finding))
        }
    }
}

/// Checks a station's receipt for the signed note `signed` it was issued
/// for. `root_at(n)` is the verified log's root at size `n`.
pub fn receipt(
    election: &Election,
    source: &str,
    signed: &[u8],
    receipt: &str,
    size: u64,
    root_at: &dyn Fn(u64) -> Option<[u8; 32]>,
) -> (PaperCheck, Option<Finding>) {
    let table = Acta::parse(
        &acta_note::Note::parse(signed)
            .map(|n| n.text.to_string())
            .unwrap_or_default(),
    )
    .map(|a| a.table)
    .unwrap_or_default();
    let bad = |what: String| {
        (
            PaperCheck {
                source: source.into(),
                table: table.clone(),
                status: PaperStatus::BadReceipt,
                detail: what,
            },
            None,
        )
    };
    let proof = match acta_tlog::TlogProof::parse(receipt) {
        Ok(p) => p,
        Err(e) => return bad(format!("not a tlog-proof: {e}")),
    };
    let (log, witnesses) = match (election.center_key.parse(), election.witness_keys()) {
        (Ok(l), Ok(w)) => (l, w.into_iter().map(|(k, _)| k).collect::<Vec<_>>()),
        _ => return bad("the package's center or witness keys do not parse".into()),
    };
    let proven = match proof.verify(
        signed,
        &log,
        &election.log_origin,
        &witnesses,
        election.witness_quorum as usize,
    ) {
        Ok(p) => p,
        Err(e) => return bad(format!("does not prove this acta: {e}")),
    };
    let cp = &proven.checkpoint;
    let witnessed = if proven.witnesses.is_empty() {
        String::new()
    } else {
        format!(", cosigned by {}", proven.witnesses.join(", "))
    };
    if cp.size > size {
        return (
            PaperCheck {
                source: source.into(),
                table,
                status: PaperStatus::ReceiptAhead,
                detail: format!(
                    "the center logged it at entry {} under its checkpoint of size {}{witnessed}, newer than the log of {size} verified: observe again",
                    proof.index, cp.size
                ),
            },
            None,
        );
    }
    if root_at(cp.size) == Some(cp.root) {
        (
            PaperCheck {
                source: source.into(),
                table,
                status: PaperStatus::ReceiptHonored,
                detail: format!(
                    "the center logged it at entry {} under its checkpoint of size {}{witnessed}; the log still holds it there",
                    proof.index, cp.size
                ),
            },
            None,
        )
    } else {
        let finding = Finding {
            kind: FindingKind::ReceiptNotHonored,
            place: table.clone(),
            figure: format!("log entry {} under checkpoint {}", proof.index, cp.size),
            center:
                "its log does not hold the acta there (another root at that size, or a smaller log)"
                    .into(),
            machines: format!("the center signed a receipt for it{witnessed}"),
            evidence: format!("receipt {source}"),
        };
        (
            PaperCheck {
                source: source.into(),
                table,
                status: PaperStatus::ReceiptNotHonored,
                detail: format!(
                    "the center accepted it (entry {} under checkpoint {}{witnessed}) and its log no longer holds it there",
                    proof.index, cp.size
                ),
            },
            Some(finding),
        )
    }
}
