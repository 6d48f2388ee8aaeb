//! The observer's checks as pure functions (SHAPE.md: "pure checks, thin
//! I/O"): verified data in, typed findings out. The observer, the offline
//! evidence verifier and the results site all use them; none of them
//! shares code with the center's totals, so re-adding stays independent of
//! what it checks.
//!
//! - [`ledger`]: the log folded into one compact record per table;
//! - [`compare`]: the center's per-table figures, area totals, held list
//!   and signed announcements against the ledger;
//! - [`checkpoints`]: signed checkpoints seen earlier or elsewhere against
//!   the log verified now (forks and split views);
//! - [`paper`]: actas and receipts held on paper against the log;
//! - [`audit`]: the audits in the log, re-derived step by step;
//! - [`report`]: the verdict, headline first.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod checkpoints;
pub mod compare;
pub mod finding;
pub mod ledger;
pub mod paper;
pub mod report;

pub use finding::{thousands, Finding, FindingKind, Verdict};
pub use ledger::{HeldActa, Ledger, Sums};
pub use paper::{PaperCheck, PaperStatus};
pub use report::{Report, Unreported};

/// Every table of the package without a counted acta in the ledger.
pub fn unreported(election: &acta_election::Election, ledger: &Ledger) -> Vec<Unreported> {
    election
        .tables
        .iter()
        .zip(&ledger.tables)
        .filter(|(_, f)| f.acta.as_ref().and_then(|a| a.counted.as_ref()).is_none())
        .map(|(t, f)| Unreported {
            table: t.id.clone(),
            registered: t.registered as u64,
            log: match &f.acta {
                Some(a) => format!("held acta at entry {}", a.index),
                None => "nothing".into(),
            },
        })
        .collect()
}
