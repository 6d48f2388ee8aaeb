//! The center's HTTP interface, defined once (SHAPE.md "one wire type per
//! message"): the routes, the JSON the center writes and its clients read,
//! what each status code means, and [`Client`], the one typed client.
//!
//! | method | path | answer |
//! |---|---|---|
//! | POST | `/api/actas` | a signed acta: 201 logged (`accepted` or `held`), 200 `duplicate`, 409 `conflict`; each with its receipt. 422 refused, 413 too large, 503 pool full (`Retry-After`) |
//! | POST | `/api/zero-reports` | a signed zero report: 201 `logged`, 200 `duplicate`, 409 `conflict` |
//! | GET | `/api/election` | the signed election package |
//! | GET | `/api/log/entries?start=&end=[&notes=false]` | what became of each entry (at most [`MAX_PAGE`] per page), with or without its note |
//! | GET | `/api/announcements` | every announcement in the log, numbered, oldest first |
//! | GET | `/api/results`, `/api/results/area/{code}` | totals of the country or an area at the latest checkpoint |
//! | GET | `/api/results/areas` | totals of the country and every area, country first, at one size |
//! | GET | `/api/results/tables` | the per-table figures the totals are made of |
//! | GET | `/api/tables/{id}` | a table's entries and status |
//! | GET | `/api/conflicts`, `/api/held` | conflicting and held actas |
//! | GET | `/log/checkpoint` | C2SP tlog-tiles: the latest public checkpoint, with cosignatures |
//! | GET | `/log/tile/<L>/<N>[.p/<W>]`, `/log/tile/entries/<N>[.p/<W>]` | C2SP tlog-tiles: tiles and entry bundles |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;

use std::collections::BTreeMap;

use acta_sheet::Tally;
use serde::{Deserialize, Serialize};

pub use client::{Client, ClientError};

/// Where to POST actas.
pub const ACTAS: &str = "/api/actas";
/// Where to POST zero reports.
pub const ZERO_REPORTS: &str = "/api/zero-reports";
/// The signed election package.
pub const ELECTION: &str = "/api/election";
/// Entry statuses, paginated.
pub const ENTRIES: &str = "/api/log/entries";
/// The announcements in the log.
pub const ANNOUNCEMENTS: &str = "/api/announcements";
/// National results.
pub const RESULTS: &str = "/api/results";
/// Per-table results.
pub const RESULTS_TABLES: &str = "/api/results/tables";
/// Totals of the country and of every area, in one answer.
pub const RESULTS_AREAS: &str = "/api/results/areas";
/// Conflicting actas.
pub const CONFLICTS: &str = "/api/conflicts";
/// Held actas.
pub const HELD: &str = "/api/held";
/// The prefix of the tiled log (C2SP tlog-tiles).
pub const LOG: &str = "/log";
/// The most entries one page of [`ENTRIES`] returns.
pub const MAX_PAGE: u64 = 1000;

/// What became of a logged entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Status {
    /// The table's first acta, and its figures can be: counted.
    Counted,
    /// The table's first acta, but its figures cannot be: held, not counted.
    Held,
    /// A later, different acta or zero report for a table: evidence, not counted.
    Conflict,
    /// A zero report or announcement: logged.
    Logged,
}

impl Status {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Counted => "counted",
            Status::Held => "held",
            Status::Conflict => "conflict",
            Status::Logged => "logged",
        }
    }
    /// Inverse of [`Status::as_str`].
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Counted,
            Status::Held,
            Status::Conflict,
            Status::Logged,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What happened to a submission. Every variant comes with a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Outcome {
    /// A new acta: logged and counted (201).
    Accepted {
        /// Log index.
        index: u64,
        /// Table id.
        table: String,
    },
    /// A new, authentic acta whose figures cannot be counted: logged and held (201).
    Held {
        /// Log index.
        index: u64,
        /// Table id.
        table: String,
        /// Why, one line per reason.
        reasons: Vec<String>,
    },
    /// A new zero report: logged (201).
    Logged {
        /// Log index.
        index: u64,
        /// Table id.
        table: String,
    },
    /// The same text was already logged: a harmless retry (200).
    Duplicate {
        /// Log index of the copy already logged.
        index: u64,
        /// Table id.
        table: String,
    },
    /// A different, authentic note for a table that already has one of its
    /// kind in the log: logged as evidence, not counted (409).
    Conflict {
        /// Log index of this note.
        index: u64,
        /// Log index of the table's first note of this kind.
        first: u64,
        /// Table id.
        table: String,
    },
}

impl Outcome {
    /// The HTTP status the center answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            Outcome::Accepted { .. } | Outcome::Held { .. } | Outcome::Logged { .. } => 201,
            Outcome::Duplicate { .. } => 200,
            Outcome::Conflict { .. } => 409,
        }
    }

    /// The log index the receipt proves.
    pub fn index(&self) -> u64 {
        match self {
            Outcome::Accepted { index, .. }
            | Outcome::Held { index, .. }
            | Outcome::Logged { index, .. }
            | Outcome::Duplicate { index, .. }
            | Outcome::Conflict { index, .. } => *index,
        }
    }
}

/// The answer to a submission: what happened, and a C2SP `tlog-proof` that
/// the note is in the log at that index under a signed checkpoint. The
/// submitter keeps the receipt; anyone can verify it offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// `c2sp.org/tlog-proof@v1` text.
    pub receipt: String,
}

/// One log entry as the center describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedEntry {
    /// Log index.
    pub index: u64,
    /// `acta`, `zero` or `announcement`.
    pub kind: String,
    /// Table id (empty for announcements).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub table: String,
    /// What became of it.
    pub status: Status,
    /// Why it is held.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The signed note exactly as logged.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Totals of an area as the center counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Area code (`""` = whole country).
    pub area: String,
    /// Log size these totals are at.
    pub size: u64,
    /// Tables with a counted acta.
    pub tables_reported: u64,
    /// Tables in the area.
    pub tables_total: u64,
    /// Tables whose acta is held.
    pub held: u64,
    /// Registered voters at tables that reported.
    pub registered: u64,
    /// Registered voters in the whole area.
    pub registered_total: u64,
    /// Voters authenticated.
    pub authenticated: u64,
    /// Ballots cast.
    pub ballots: u64,
    /// Per contest voted on in the area, with seats by the package's rules.
    pub contests: Vec<Tally>,
}

/// One table's figures as counted by the center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableResult {
    /// Table id.
    pub table: String,
    /// Log index of the counted acta.
    pub index: u64,
    /// Registered.
    pub registered: u64,
    /// Authenticated.
    pub authenticated: u64,
    /// Ballots.
    pub ballots: u64,
    /// Sum of the alarm counts on the counted acta.
    #[serde(default)]
    pub alarms: u64,
    /// contest → choice (or `(blank)`, `(null)`) → votes.
    pub votes: BTreeMap<String, BTreeMap<String, u64>>,
}

/// An error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
}
