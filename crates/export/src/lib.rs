//! Exports of acta's records in published interchange formats, so that tools
//! written for other election systems can read them.
//!
//! [`cvr`] writes a table's ballot records as a NIST SP 1500-103 v1.0
//! *Cast Vote Record Report* in JSON, valid against NIST's published schema
//! (vendored in `schema/`), carrying nothing that orders or times the
//! ballots, and bound to the table's acta by the records root.
//!
//! This crate does no I/O: it takes values and texts and returns values.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cvr;

pub use cvr::{cvr_report, parse_record, records_root, BallotRecord, Mark, Report};

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
}
