//! Exports of acta's records in published interchange formats, so that tools
//! written for other election systems can read them.
//!
//! [`cvr`] writes a table's ballot records as a NIST SP 1500-103 v1.0
//! *Cast Vote Record Report* in JSON, valid against NIST's published schema
//! (vendored in `schema/`), carrying nothing that orders or times the
//! ballots, and bound to the table's acta by the records root.
//!
//! [`err`] writes the counted actas as a NIST SP 1500-100 v2 *Election
//! Results Reporting* `ElectionReport`, down to the table, in JSON and XML,
//! valid against NIST's published JSON schema and XSD (vendored in
//! `schema/`) and bound to the log checkpoint the actas were read at; and
//! the same figures as CSV, one row per table and choice.
//!
//! This crate does no I/O: it takes values and texts and returns values.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cvr;
pub mod err;

pub use cvr::{cvr_report, parse_record, records_root, BallotRecord, Mark, Report};
pub use err::{err_report, table_csv, AtCheckpoint};

/// Why an export was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The table is not in the election package.
    #[error("table {0:?} is not in the election package")]
    UnknownTable(String),
    /// A ballot record is not one that this table's machine could have
    /// written (not `ballot/v1` in canonical form, or a contest or choice that
    /// is not on the table's ballot).
    #[error("ballot record {record}, line {line}: {what}")]
    Record {
        /// The record's position in the slice given (0-based).
        record: usize,
        /// 1-based line of the record (line 1 is `ballot/v1`).
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// An acta given as counted cannot be counted with this package (see
    /// `acta_sheet::Acta::holds`): another election, machine or ballot,
    /// impossible figures, times outside the schedule.
    #[error("the acta of table {table} cannot be counted: {reason}")]
    NotCountable {
        /// The acta's table.
        table: String,
        /// Its first hold.
        reason: String,
    },
    /// Two actas were given as counted for one table.
    #[error("two actas given as counted for table {0}")]
    CountedTwice(String),
    /// The checkpoint the figures are bound to is not one the log could
    /// have published (root not 64 lowercase hex digits, fewer entries than
    /// actas, a time past the year 9999).
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A contest of a kind this export does not know how to write.
    #[error("contest {0} is of a kind this export does not know")]
    UnknownContestKind(String),
    /// A name in the package holds a character that XML 1.0 cannot carry
    /// (a control character other than tab, line feed, carriage return).
    #[error("{0} holds a character that XML 1.0 cannot carry")]
    NotXml(String),
}
