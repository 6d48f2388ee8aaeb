//! The signed texts of an election on one line grammar: the acta, the tally
//! sheet a polling-table machine signs when the table closes (SYSTEM.md §6);
//! the zero report it signs when the table opens; and the center's
//! announcement of the totals at a log checkpoint (SYSTEM.md §9).
//!
//! The text is `acta/v1`: ASCII lines `key value…`, one fixed field order, one
//! spelling per value. The parser accepts only that canonical form, so the
//! same count can never travel as two different byte strings, and whoever
//! holds the bytes holds exactly what the machine signed. The acta is signed as
//! a C2SP signed note by the machine's certified key; QR codes carry the whole
//! signed note, split into hash-chained parts when it is long (see [`qr`]).
//!
//! This crate does no I/O: it takes bytes and returns values (the QR module
//! renders and decodes PNG images in memory).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod acta;
mod announcement;
pub mod audit;
mod entry;
pub mod journal;
pub mod qr;
mod text;
mod zero;

pub use acta::{
    body_hash, Acta, Alarm, ContestCount, Hold, OpenedActa, ALARMS, LATE_CLOSE_SECONDS,
};
pub use announcement::{Announcement, Tally, ANNOUNCEMENT_FORMAT};
pub use audit::{AuditNote, AuditStep, AUDIT_FORMAT};
pub use entry::{Content, Entry, EntryKind};
pub use zero::ZeroReport;

use sha2::{Digest, Sha256};

/// Why an acta, zero report or QR payload was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not canonical `acta/v1` (or `zero/v1`).
    #[error("line {line}: {what}")]
    Syntax {
        /// 1-based line of the acta text.
        line: usize,
        /// What is wrong and what was expected.
        what: String,
    },
    /// The note around the acta is malformed or its signature fails.
    #[error("signature: {0}")]
    Note(#[from] acta_note::Error),
    /// The acta does not fit the election package.
    #[error("does not match the election package: {0}")]
    Package(String),
    /// QR parts are missing, duplicated, mixed or unreadable.
    #[error("QR: {0}")]
    Qr(String),
}

/// The table of the package that a single-author note speaks for, once the
/// note is shown to carry exactly one signature: a valid one by the key
/// certified for that table. Shared by the acta and the zero report.
pub(crate) fn certified_table<'e>(
    note: &acta_note::Note<'_>,
    election: &'e acta_election::Election,
    table: &str,
) -> Result<&'e acta_election::Table, Error> {
    let t = election
        .table(table)
        .ok_or_else(|| Error::Package(format!("table {table} is not in the election")))?;
    note.check_single(t.verifier()?)?;
    Ok(t)
}

/// A short code printed under the QR codes so that a person can compare a
/// paper acta with the one the center shows: the first 60 bits of SHA-256 of
/// the signed bytes in Crockford base32, as `XXXX-XXXX-XXXX`.
pub fn security_code(signed: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let d = Sha256::digest(signed);
    let bits = u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) >> 4;
    let chars: Vec<u8> = (0..12)
        .map(|i| ALPHABET[((bits >> (55 - 5 * i)) & 31) as usize])
        .collect();
    format!(
        "{}-{}-{}",
        std::str::from_utf8(&chars[0..4]).expect("ascii"),
        std::str::from_utf8(&chars[4..8]).expect("ascii"),
        std::str::from_utf8(&chars[8..12]).expect("ascii")
    )
}
