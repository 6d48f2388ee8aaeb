//! The totalization center (SYSTEM.md §7–§9).
//!
//! It opens each acta against the election package *before* touching the
//! database: bytes that are not an authentic acta (unparseable, not exactly
//! one signature, not by the table's certified machine) are refused and
//! never stored. Every authentic acta is appended to the public RFC 9162 log
//! — it is the machine's word and is never lost — and then:
//!
//! - the first acta of a table whose figures can be is *counted*;
//! - the first acta of a table whose figures cannot be is *held*: logged,
//!   listed in public with the reason, not counted;
//! - a later acta with a *different body* for the same table is a
//!   *conflict*: logged as evidence against that machine, never counted,
//!   never overwriting;
//! - an acta whose body was already logged is a *duplicate*, whatever its
//!   signature bytes: the identity of an acta is the hash of its text.
//!
//! This is the only crate that knows SQL and serves HTTP. Storage is SQLite by
//! default and PostgreSQL when given a `postgres://` URL, through one portable
//! SQL dialect (BIGINT and TEXT columns, `$n` placeholders).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod http;
mod store;

use std::sync::Arc;

use acta_election::Election;
use acta_note::Signer;
use acta_sheet::{Acta, Announcement, Hold, Tally};
use acta_tlog::{Checkpoint, Tree};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

pub use http::router;
pub use store::{Status, TableResult, Totals};

/// The largest acta the center reads; a national-ballot acta is a few KiB.
pub const MAX_ACTA_BYTES: usize = 64 * 1024;

/// Why the center refused or failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not an authentic acta; nothing was stored.
    #[error("acta rejected: {0}")]
    Rejected(#[from] acta_sheet::Error),
    /// The package or key given at start-up is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The stored log does not hash to itself: the center refuses to serve it.
    #[error("stored log is corrupt: {0}")]
    Corrupt(String),
    /// A request asked for something outside the log.
    #[error("{0}")]
    Log(#[from] acta_tlog::Error),
    /// The ingest task died (a bug); the log was resynchronized from storage.
    #[error("ingest task failed: {0}")]
    Task(String),
}

/// What happened to a submitted acta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Ingest {
    /// New: logged and counted.
    Accepted {
        /// Log index.
        index: u64,
        /// Table id.
        table: String,
    },
    /// New, authentic, but its figures cannot be counted: logged and held.
    Held {
        /// Log index.
        index: u64,
        /// Table id.
        table: String,
        /// Why, one line per reason.
        reasons: Vec<String>,
    },
    /// The same acta body was already logged: a harmless retry.
    Duplicate {
        /// Log index of the earlier copy.
        index: u64,
        /// Table id.
        table: String,
    },
    /// A different, authentic acta for a table that already has one in the
    /// log: logged as evidence, not counted.
    Conflict {
        /// Log index of this acta.
        index: u64,
        /// Log index of the table's first acta.
        first: u64,
        /// Table id.
        table: String,
    },
}

/// Start-up settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub database: String,
    /// The signed election package, as published.
    pub package: Vec<u8>,
    /// Whose signatures the package needs.
    pub trust: acta_election::Trust,
    /// The center's signing key; must match the package's `center_key`.
    pub key: Signer,
}

pub(crate) struct Inner {
    pub(crate) election: Election,
    pub(crate) package: Vec<u8>,
    pub(crate) key: Signer,
    pub(crate) store: store::Store,
    pub(crate) log: Mutex<Tree>,
}

/// An authentic acta, owned, on its way into the log.
struct Arrival {
    signed: Vec<u8>,
    acta: Acta,
    body: String,
    holds: Vec<Hold>,
}

/// A running center (cheap to clone).
#[derive(Clone)]
pub struct Center(pub(crate) Arc<Inner>);

impl Center {
    /// Opens the store, creating its schema, and rebuilds the log tree by
    /// re-hashing every stored acta. A row that does not hash to its stored
    /// leaf, or a gap in the indices, stops the center with
    /// [`Error::Corrupt`]: it never serves a tree it cannot vouch for.
    pub async fn open(config: Config) -> Result<Center, Error> {
        let election = Election::open(&config.package, &config.trust)
            .map_err(|e| Error::Config(e.to_string()))?;
        if config.key.verifier().to_string() != election.center_key {
            return Err(Error::Config(
                "the center key is not the one named in the election package".into(),
            ));
        }
        let store = store::Store::connect(&config.database).await?;
        let mut tree = Tree::new();
        store.extend_tree(&mut tree).await?;
        Ok(Center(Arc::new(Inner {
            election,
            package: config.package,
            key: config.key,
            store,
            log: Mutex::new(tree),
        })))
    }

    /// The election.
    pub fn election(&self) -> &Election {
        &self.0.election
    }

    /// Opens and records one signed acta.
    ///
    /// Verification happens before any database work. The rest runs as its
    /// own task, so that a caller who goes away — a dropped HTTP connection,
    /// a cancelled future — cannot stop it between the database commit and
    /// the tree append: the log, the rows and every checkpoint signed later
    /// always agree. If the database fails mid-way (the commit may or may not
    /// have landed), the tree is resynchronized from storage before the lock
    /// is released, so the next ingest starts from the truth.
    pub async fn ingest(&self, signed: &[u8]) -> Result<Ingest, Error> {
        let opened = Acta::open(signed, &self.0.election)?;
        let arrival = Arrival {
            body: hex::encode(opened.body_hash),
            signed: opened.signed,
            acta: opened.acta,
            holds: opened.holds,
        };
        let center = self.clone();
        tokio::spawn(async move { center.record(arrival).await })
            .await
            .map_err(|e| Error::Task(e.to_string()))?
    }

    async fn record(&self, a: Arrival) -> Result<Ingest, Error> {
        let table = a.acta.table.clone();
        let leaf = acta_tlog::leaf_hash(&a.signed);
        let mut log = self.0.log.lock().await;
        let result = async {
            if let Some(index) = self.0.store.find_body(&a.body).await? {
                return Ok(Ingest::Duplicate { index, table });
            }
            let index = log.size();
            let first = self.0.store.first_entry(&table).await?;
            let reasons: Vec<String> = a.holds.iter().map(|h| h.to_string()).collect();
            let status = match (first, reasons.is_empty()) {
                (Some(_), _) => Status::Conflict,
                (None, true) => Status::Counted,
                (None, false) => Status::Held,
            };
            self.0
                .store
                .append(store::NewEntry {
                    index,
                    leaf: &hex::encode(leaf),
                    body: &a.body,
                    signed: &a.signed,
                    acta: &a.acta,
                    status,
                    reason: &reasons.join("; "),
                })
                .await?;
            log.append(leaf);
            Ok(match status {
                Status::Counted => Ingest::Accepted { index, table },
                Status::Held => Ingest::Held {
                    index,
                    table,
                    reasons,
                },
                Status::Conflict => Ingest::Conflict {
                    index,
                    first: first.expect("conflicts follow a first acta"),
                    table,
                },
            })
        }
        .await;
        if result.is_err() {
            // The commit may have landed even though we saw an error.
            self.0.store.extend_tree(&mut log).await?;
        }
        result
    }

    /// A freshly signed checkpoint of the current log.
    pub async fn checkpoint(&self) -> String {
        let log = self.0.log.lock().await;
        self.sign_checkpoint(&log)
    }

    fn sign_checkpoint(&self, log: &Tree) -> String {
        acta_note::sign(&self.checkpoint_of(log).to_text(), &[&self.0.key])
            .expect("checkpoint text is valid")
    }

    fn checkpoint_of(&self, log: &Tree) -> Checkpoint {
        Checkpoint {
            origin: self.0.election.log_origin.clone(),
            size: log.size(),
            root: log.root(),
        }
    }

    /// Totals for an area (`""` for the whole country) as the center counts them.
    pub async fn totals(&self, area: &str) -> Result<Totals, Error> {
        self.0.store.totals(&self.0.election, area).await
    }

    /// A signed announcement: "at log checkpoint (size, root) the national
    /// totals are …". Taken under the log lock so the figures are exactly
    /// those of the actas in the checkpoint.
    pub async fn announce(&self) -> Result<String, Error> {
        let log = self.0.log.lock().await;
        let totals = self.0.store.totals(&self.0.election, "").await?;
        let a = announcement(&self.0.election, self.checkpoint_of(&log), &totals);
        let note = a.sign(&self.0.key);
        self.0.store.save_announcement(log.size(), &note).await?;
        Ok(note)
    }

    /// Proofs from the current tree.
    pub(crate) async fn with_log<T>(&self, f: impl FnOnce(&Tree) -> T) -> T {
        let log = self.0.log.lock().await;
        f(&log)
    }
}

/// The announcement of `totals` at `checkpoint`: every contest of the
/// package with every choice, and the winners by the package's rules.
pub fn announcement(election: &Election, checkpoint: Checkpoint, totals: &Totals) -> Announcement {
    let contests = election
        .contests
        .iter()
        .map(|c| {
            let found = totals.contests.iter().find(|t| t.contest == c.id);
            let votes: Vec<(String, u64)> = c
                .choices()
                .into_iter()
                .map(|ch| {
                    let n = found
                        .and_then(|t| t.votes.iter().find(|(x, _)| *x == ch))
                        .map_or(0, |(_, n)| *n);
                    (ch, n)
                })
                .collect();
            Tally {
                contest: c.id.clone(),
                seats: acta_election::seats(c, &votes),
                votes,
                blank: found.map_or(0, |t| t.blank),
                null: found.map_or(0, |t| t.null),
            }
        })
        .collect();
    Announcement {
        election: election.id.clone(),
        checkpoint,
        tables_reported: totals.tables_reported,
        tables_total: totals.tables_total,
        held: totals.held,
        registered: totals.registered,
        authenticated: totals.authenticated,
        ballots: totals.ballots,
        contests,
    }
}
