//! The totalization center (SYSTEM.md §7–§9).
//!
//! It verifies each acta against the election package *before* touching the
//! database, appends every validly signed acta to the public RFC 9162 log,
//! counts the first acta of each table, keeps any different second acta for
//! the same table as logged evidence (never overwriting), and serves the log,
//! proofs, totals by contest and geography, and signed announcements over
//! HTTP.
//!
//! This is the only crate that knows SQL and serves HTTP. Storage is SQLite by
//! default and PostgreSQL when given a `postgres://` URL, through one portable
//! SQL dialect (BIGINT and TEXT columns, `$n` placeholders).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod http;
mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use acta_election::Election;
use acta_note::Signer;
use acta_sheet::Acta;
use acta_tlog::{Checkpoint, Tree};
use serde::Serialize;
use tokio::sync::Mutex;

pub use http::router;
pub use store::Totals;

/// The largest acta the center reads; a national-ballot acta is a few KiB.
pub const MAX_ACTA_BYTES: usize = 64 * 1024;

/// Why the center refused or failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The acta failed verification; nothing was stored.
    #[error("acta rejected: {0}")]
    Rejected(#[from] acta_sheet::Error),
    /// The package or key given at start-up is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A request asked for something outside the log.
    #[error("{0}")]
    Log(#[from] acta_tlog::Error),
}

/// What happened to a submitted acta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The very same bytes were already logged: a harmless retry.
    Duplicate {
        /// Log index of the earlier copy.
        index: u64,
        /// Table id.
        table: String,
    },
    /// A different, validly signed acta for a table that already reported:
    /// logged as evidence, not counted.
    Conflict {
        /// Log index of this acta.
        index: u64,
        /// Log index of the counted acta.
        counted: u64,
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
    /// Demonstration of fraud: inflate the turnout the center reports by this
    /// many voters, one per table, as a dishonest center would. Never set it
    /// outside `acta demo --tamper`.
    pub tamper_inflate_turnout: u64,
}

pub(crate) struct Inner {
    pub(crate) election: Election,
    pub(crate) package: Vec<u8>,
    pub(crate) key: Signer,
    pub(crate) store: store::Store,
    pub(crate) log: Mutex<Tree>,
    pub(crate) tamper_left: AtomicU64,
}

/// A running center (cheap to clone).
#[derive(Clone)]
pub struct Center(pub(crate) Arc<Inner>);

impl Center {
    /// Opens the store, creating its schema, and rebuilds the log tree from it.
    pub async fn open(config: Config) -> Result<Center, Error> {
        let election = Election::open(&config.package, &config.trust)
            .map_err(|e| Error::Config(e.to_string()))?;
        if config.key.verifier().to_string() != election.center_key {
            return Err(Error::Config(
                "the center key is not the one named in the election package".into(),
            ));
        }
        let store = store::Store::connect(&config.database).await?;
        let leaves = store.leaf_hashes().await?;
        Ok(Center(Arc::new(Inner {
            election,
            package: config.package,
            key: config.key,
            store,
            log: Mutex::new(Tree::from_leaves(leaves)),
            tamper_left: AtomicU64::new(config.tamper_inflate_turnout),
        })))
    }

    /// The election.
    pub fn election(&self) -> &Election {
        &self.0.election
    }

    /// Verifies and records one signed acta. Verification happens before any
    /// database work; the log lock serializes appends so that log order,
    /// database rows and tree always agree.
    pub async fn ingest(&self, signed: &[u8]) -> Result<Ingest, Error> {
        let opened = Acta::open(signed, &self.0.election)?;
        let table = opened.acta.table.clone();
        let leaf = acta_tlog::leaf_hash(signed);
        let mut log = self.0.log.lock().await;
        if let Some(index) = self.0.store.find_entry(&hex::encode(leaf)).await? {
            return Ok(Ingest::Duplicate { index, table });
        }
        let index = log.size();
        let counted = self.0.store.counted_index(&table).await?;
        let mut acta = opened.acta;
        let inflate = counted.is_none()
            && self
                .0
                .tamper_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if inflate {
            acta.authenticated += 1;
            acta.ballots += 1;
        }
        self.0
            .store
            .append(index, &hex::encode(leaf), signed, &acta, counted.is_none())
            .await?;
        log.append(leaf);
        Ok(match counted {
            None => Ingest::Accepted { index, table },
            Some(c) => Ingest::Conflict {
                index,
                counted: c,
                table,
            },
        })
    }

    /// A freshly signed checkpoint of the current log.
    pub async fn checkpoint(&self) -> String {
        let log = self.0.log.lock().await;
        self.sign_checkpoint(&log)
    }

    fn sign_checkpoint(&self, log: &Tree) -> String {
        let cp = Checkpoint {
            origin: self.0.election.log_origin.clone(),
            size: log.size(),
            root: log.root(),
        };
        acta_note::sign(&cp.to_text(), &[&self.0.key]).expect("checkpoint text is valid")
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
        let cp = Checkpoint {
            origin: self.0.election.log_origin.clone(),
            size: log.size(),
            root: log.root(),
        };
        let text = announcement_text(&self.0.election.id, &cp, &totals);
        let note = acta_note::sign(&text, &[&self.0.key]).expect("valid text");
        self.0.store.save_announcement(log.size(), &note).await?;
        Ok(note)
    }

    /// Proofs from the current tree.
    pub(crate) async fn with_log<T>(&self, f: impl FnOnce(&Tree) -> T) -> T {
        let log = self.0.log.lock().await;
        f(&log)
    }
}

/// The text of an announcement (`acta-announcement/v1`).
pub fn announcement_text(election: &str, cp: &Checkpoint, t: &Totals) -> String {
    use base64::Engine as _;
    let mut s = format!(
        "acta-announcement/v1\nelection {election}\ncheckpoint {} {} {}\ntables {} {}\nregistered {}\nauthenticated {}\nballots {}\n",
        cp.origin,
        cp.size,
        base64::engine::general_purpose::STANDARD.encode(cp.root),
        t.tables_reported,
        t.tables_total,
        t.registered,
        t.authenticated,
        t.ballots
    );
    for c in &t.contests {
        s.push_str(&format!("contest {}\n", c.contest));
        for (choice, n) in &c.votes {
            s.push_str(&format!("votes {choice} {n}\n"));
        }
        s.push_str(&format!("blank {}\nnull {}\n", c.blank, c.null));
    }
    s
}
