//! The totalization center (SYSTEM.md §7–§9): it logs every authentic note
//! it receives — actas, zero reports, its own announcements — in one public
//! append-only log, served as C2SP tlog-tiles, and adds up the actas.
//!
//! The write path (ARCHITECTURE.md, "The write path"):
//!
//! 1. **verify** — a submission is opened against the election package
//!    before anything else ([`acta_sheet::Entry::open`]); bytes that are not
//!    an authentic note are refused and never stored;
//! 2. **pool** — authentic notes wait in a bounded pool; a full pool is
//!    answered 503 with `Retry-After`, never by dropping a waiting note;
//! 3. **sequence** — every short interval one task takes the pool, locks
//!    the log in the database (so several centers over one PostgreSQL make
//!    one log), catches up with entries other centers committed, and decides
//!    each note: new (counted, held or logged), duplicate (same text) or
//!    conflict (a second, different note of a table);
//! 4. **commit** — entries, counted figures and a newly signed checkpoint
//!    are written in one transaction; the checkpoint is signed only after
//!    checking that the tree extends the last stored checkpoint;
//! 5. **witness** — the checkpoint goes to the package's witnesses (C2SP
//!    tlog-witness) and their cosignatures are stored with it; it becomes
//!    the public `/log/checkpoint` once the package's quorum cosigned;
//! 6. **receipt** — only then is each submitter answered, with a C2SP
//!    tlog-proof of its note under that checkpoint.
//!
//! A submitter that goes away mid-request changes nothing: its note is
//! sequenced all the same. A center killed at any moment restarts from what
//! was committed, which is exactly what was acknowledged or more.
//!
//! This is the only crate that knows SQL (SQLite by default, PostgreSQL for
//! scale, one portable dialect).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod http;
mod sequencer;
mod serve;
mod store;
mod totals;
mod witnesses;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use acta_api::{LoggedEntry, Submitted, TableResult, Totals};
use acta_election::Election;
use acta_note::cosignature::CosignatureVerifier;
use acta_note::Signer;
use acta_sheet::{Entry, EntryKind};
use acta_tlog::{Checkpoint, Tile, TileLevel, Tree};
use tokio::sync::{mpsc, oneshot, Mutex, RwLock};

pub use http::{router, router_with, Limits};
pub use serve::{serve, Bounded, BoundedIo, Peer};
pub use totals::announcement;

/// The largest note the center reads: an entry bundle's uint16 length
/// prefix bounds every log entry (C2SP tlog-tiles §"Log entries").
pub const MAX_NOTE_BYTES: usize = acta_tlog::tile::MAX_ENTRY_BYTES;

/// Why the center refused or failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not an authentic note; nothing was stored.
    #[error("refused: {0}")]
    Rejected(#[from] acta_sheet::Error),
    /// The note is of a kind the route does not take.
    #[error("refused: {0}")]
    WrongKind(String),
    /// The pool of notes waiting to be sequenced is full: retry later.
    #[error("the center is busy: {0} notes are waiting to be logged; retry shortly")]
    Busy(usize),
    /// The package or key given at start-up is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The stored log does not agree with itself or with a signed
    /// checkpoint: the center refuses to serve it or to sign anything more.
    #[error("stored log is corrupt: {0}")]
    Corrupt(String),
    /// A request asked for something outside the log.
    #[error("{0}")]
    Log(#[from] acta_tlog::Error),
    /// A batch could not be committed or witnessed for a reason worth
    /// retrying (the database went away mid-commit): resend the note.
    #[error("try again: {0}")]
    Unavailable(String),
    /// No checkpoint has yet been cosigned by the package's witness quorum.
    #[error("no checkpoint is cosigned by {0} witnesses yet")]
    NotYetWitnessed(usize),
    /// The sequencer stopped (the center is shutting down).
    #[error("the sequencer stopped before answering")]
    Stopped,
    /// The note is longer than one log entry can be: an entry bundle's
    /// uint16 length prefix (C2SP tlog-tiles §"Log entries") could not
    /// carry it, and a log holding it could not be served as tiles.
    #[error("a note of {0} bytes does not fit one log entry (at most {MAX_NOTE_BYTES} bytes)")]
    TooLarge(usize),
}

/// Refuses a note no entry bundle could carry: the log never takes an
/// entry it could not serve.
pub(crate) fn fits(note: &[u8]) -> Result<(), Error> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(Error::TooLarge(note.len()));
    }
    Ok(())
}

/// Start-up settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path` or `postgres://…`.
    pub database: String,
    /// The signed election package, as published.
    pub package: Vec<u8>,
    /// Whose signatures the package needs.
    pub trust: acta_election::Trust,
    /// The center's signing key; must match the package's `center_key`.
    pub key: Signer,
    /// How long the sequencer lets the pool fill before committing a batch.
    pub batch_interval: Duration,
    /// The most notes one batch commits.
    pub batch_max: usize,
    /// The most notes waiting in the pool; beyond it submitters get 503.
    pub pool: usize,
    /// How long to wait for each witness's cosignature.
    pub witness_timeout: Duration,
}

impl Config {
    /// Settings with the default batching: 5 ms, up to 4,096 notes per
    /// batch, a pool of 16,384, witnesses given 5 s.
    pub fn new(
        database: &str,
        package: Vec<u8>,
        trust: acta_election::Trust,
        key: Signer,
    ) -> Config {
        Config {
            database: database.to_string(),
            package,
            trust,
            key,
            batch_interval: Duration::from_millis(5),
            batch_max: 4096,
            pool: 16_384,
            witness_timeout: Duration::from_secs(5),
        }
    }
}

/// The sequencer's view of the log: the tree and what is needed to decide
/// each new note without asking the database.
#[derive(Default)]
pub(crate) struct LogState {
    pub(crate) tree: Tree,
    /// Note-text hash → index of the entry with that text.
    pub(crate) bodies: HashMap<[u8; 32], u64>,
    /// (kind, table) → index of that table's first note of that kind.
    pub(crate) first: HashMap<(EntryKind, String), u64>,
}

impl LogState {
    /// Adds a stored or new entry to the view.
    pub(crate) fn add(
        &mut self,
        leaf: acta_tlog::Hash,
        body: [u8; 32],
        kind: EntryKind,
        table: &str,
    ) {
        let index = self.tree.append(leaf);
        self.bodies.insert(body, index);
        if matches!(kind, EntryKind::Acta | EntryKind::Zero) {
            self.first.entry((kind, table.to_string())).or_insert(index);
        }
    }
}

pub(crate) struct Inner {
    pub(crate) election: Election,
    /// The package's contests and slots, numbered for the stored figures.
    pub(crate) layout: store::Layout,
    pub(crate) package: Vec<u8>,
    pub(crate) key: Signer,
    pub(crate) store: store::Store,
    pub(crate) state: RwLock<LogState>,
    pub(crate) pool: mpsc::Sender<sequencer::Pending>,
    pub(crate) pool_size: usize,
    pub(crate) witnesses: Vec<(CosignatureVerifier, String)>,
    pub(crate) witness_quorum: usize,
    /// What the center knows of each witness, by URL.
    pub(crate) witness_views: Mutex<HashMap<String, witnesses::WitnessView>>,
    pub(crate) http: reqwest::Client,
    pub(crate) totals: Mutex<HashMap<String, Arc<Totals>>>,
    pub(crate) area_totals: Mutex<Option<Arc<Vec<Totals>>>>,
    pub(crate) table_results: Mutex<Option<(u64, Arc<Vec<TableResult>>)>>,
    /// The audit manifests and seeds logged so far, and the log size they
    /// were read up to: a national audit logs a step per drawn table, and
    /// each append must not read every step before it again.
    pub(crate) audit_steps: Mutex<(u64, Vec<AuditStepSeen>)>,
}

/// An audit manifest or seed already logged, with its body hash.
pub(crate) type AuditStepSeen = (acta_sheet::AuditNote, [u8; 32]);

/// A running center (cheap to clone).
#[derive(Clone)]
pub struct Center(pub(crate) Arc<Inner>);

impl Center {
    /// Opens the store, creating its schema, rebuilds the tree by re-hashing
    /// every stored note, and checks it against every checkpoint ever
    /// signed. A row that does not hash to its stored leaf, a gap, an entry
    /// beyond the last checkpoint, or a checkpoint whose root is not the
    /// tree's stops the center with [`Error::Corrupt`]: it never serves or
    /// extends a log it cannot vouch for.
    pub async fn open(config: Config) -> Result<Center, Error> {
        let election = Election::open(&config.package, &config.trust)
            .map_err(|e| Error::Config(e.to_string()))?;
        if config.key.verifier().to_string() != election.center_key {
            return Err(Error::Config(
                "the center key is not the one named in the election package".into(),
            ));
        }
        let witnesses = election
            .witness_keys()
            .map_err(|e| Error::Config(e.to_string()))?;
        let store = store::Store::connect(&config.database).await?;
        let (tx, rx) = mpsc::channel(config.pool.max(1));
        let center = Center(Arc::new(Inner {
            witness_quorum: election.witness_quorum as usize,
            layout: store::Layout::of(&election),
            election,
            package: config.package,
            key: config.key,
            store,
            state: RwLock::new(LogState::default()),
            pool: tx,
            pool_size: config.pool.max(1),
            witnesses,
            witness_views: Mutex::new(HashMap::new()),
            http: reqwest::Client::builder()
                .timeout(config.witness_timeout)
                .build()
                .map_err(|e| Error::Config(e.to_string()))?,
            totals: Mutex::new(HashMap::new()),
            area_totals: Mutex::new(None),
            table_results: Mutex::new(None),
            audit_steps: Mutex::new((0, Vec::new())),
        }));
        center.first_checkpoint().await?;
        center.rebuild().await?;
        witnesses::spawn_rewitness(Arc::downgrade(&center.0));
        sequencer::spawn(
            Arc::downgrade(&center.0),
            rx,
            config.batch_interval,
            config.batch_max.max(1),
        );
        Ok(center)
    }

    /// The election.
    pub fn election(&self) -> &Election {
        &self.0.election
    }

    /// Submits a signed note of `kind`: verified here, then pooled,
    /// sequenced, committed and witnessed; answered with its receipt.
    pub async fn submit(&self, note: &[u8], kind: EntryKind) -> Result<Submitted, Error> {
        fits(note)?;
        match EntryKind::of(note) {
            Some(k) if k == kind && matches!(kind, EntryKind::Acta | EntryKind::Zero) => {}
            _ => {
                return Err(Error::WrongKind(format!(
                    "this route takes {} notes only",
                    kind.first_line()
                )))
            }
        }
        let entry = Entry::open(note, &self.0.election)?;
        // A note already logged is answered from the log at once: a replay
        // flood of published actas never takes a place in the pool.
        if let Some(s) = self.already_logged(&entry).await? {
            return Ok(s);
        }
        let (reply, answer) = oneshot::channel();
        self.0
            .pool
            .try_send(sequencer::Pending {
                work: sequencer::Work::Note(Box::new(entry)),
                reply,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => Error::Busy(self.0.pool_size),
                mpsc::error::TrySendError::Closed(_) => Error::Stopped,
            })?;
        let done = answer.await.map_err(|_| Error::Stopped)??;
        Ok(Submitted {
            outcome: done.outcome,
            receipt: done.receipt,
        })
    }

    /// The receipt of a note whose text is already in the log.
    async fn already_logged(&self, entry: &Entry) -> Result<Option<Submitted>, Error> {
        let (index, size, path) = {
            let state = self.0.state.read().await;
            let Some(&index) = state.bodies.get(&entry.body_hash) else {
                return Ok(None);
            };
            let size = state.tree.size();
            (index, size, state.tree.inclusion_proof(index, size)?)
        };
        let Some((_, checkpoint, _)) = self.0.store.checkpoint_at(size).await? else {
            return Ok(None); // let the sequencer answer it
        };
        Ok(Some(Submitted {
            outcome: acta_api::Outcome::Duplicate {
                index,
                table: entry.table().unwrap_or_default().to_string(),
            },
            receipt: acta_tlog::TlogProof {
                extra: None,
                index,
                path,
                checkpoint,
            }
            .to_text(),
        }))
    }

    /// The authority's act of announcing: totals of the counted actas at the
    /// current log size, signed once and appended to the log. Returns the
    /// signed announcement and its receipt.
    pub async fn announce(&self) -> Result<(String, Submitted), Error> {
        let (reply, answer) = oneshot::channel();
        self.0
            .pool
            .send(sequencer::Pending {
                work: sequencer::Work::Announce,
                reply,
            })
            .await
            .map_err(|_| Error::Stopped)?;
        let done = answer.await.map_err(|_| Error::Stopped)??;
        Ok((
            done.note,
            Submitted {
                outcome: done.outcome,
                receipt: done.receipt,
            },
        ))
    }

    /// Appends a step of an audit, signed with the center's key by the
    /// authority's audit tool: sequenced, committed and witnessed like any
    /// entry, answered with its receipt. Refused unless it is an authentic
    /// `acta-audit/v1` note and, for every step after the manifest, the
    /// manifest it names is already in the log (a seed is never drawn
    /// before the commitment exists) and, for a seed, no seed follows that
    /// manifest yet. Whether each step is the one due is for the audit
    /// tool and every observer to re-derive (`acta_audit::workflow`).
    pub async fn append_audit(&self, note: &[u8]) -> Result<Submitted, Error> {
        fits(note)?;
        if EntryKind::of(note) != Some(EntryKind::Audit) {
            return Err(Error::WrongKind(format!(
                "only {} notes are audit steps",
                EntryKind::Audit.first_line()
            )));
        }
        let entry = Entry::open(note, &self.0.election)?;
        let acta_sheet::Content::Audit(step) = &entry.content else {
            unreachable!("opened as an audit note")
        };
        if let Some(s) = self.already_logged(&entry).await? {
            return Ok(s);
        }
        // The manifests and seeds logged so far (by any center process on
        // this database): what was read before, and the audit entries since.
        let mut steps = self.0.audit_steps.lock().await;
        let from = steps.0;
        let rows = self
            .0
            .store
            .entries_with_from(EntryKind::Audit, from)
            .await?;
        for e in &rows {
            steps.0 = steps.0.max(e.index + 1);
            let Ok(n) = acta_note::Note::parse(e.note.as_bytes()) else {
                continue;
            };
            let Ok(a) = acta_sheet::AuditNote::parse(n.text) else {
                continue;
            };
            if matches!(
                a.step,
                acta_sheet::AuditStep::Commit(_) | acta_sheet::AuditStep::Seed { .. }
            ) {
                steps.1.push((a, acta_sheet::body_hash(n.text)));
            }
        }
        // For a manifest or a seed the gate stays held until the step is
        // logged: two sent at once (two seeds for one manifest) are checked
        // one after the other, never both against a log that has neither.
        // Other steps are not checked here and go at once (a round's counts
        // come by the thousand).
        let logged = steps.1.clone();
        let gate = if matches!(
            step.step,
            acta_sheet::AuditStep::Commit(_) | acta_sheet::AuditStep::Seed { .. }
        ) {
            Some(steps)
        } else {
            drop(steps);
            None
        };
        let refuse = |m: String| Err(Error::WrongKind(m));
        match step.step.commitment() {
            None => {
                if logged.iter().any(|(n, _)| {
                    n.audit == step.audit && matches!(n.step, acta_sheet::AuditStep::Commit(_))
                }) {
                    return refuse(format!("audit {} is already committed", step.audit));
                }
            }
            Some(c) => {
                if !logged.iter().any(|(n, h)| {
                    *h == c
                        && n.audit == step.audit
                        && matches!(n.step, acta_sheet::AuditStep::Commit(_))
                }) {
                    return refuse(format!(
                        "no manifest of audit {} with that commitment is in the log: commit first",
                        step.audit
                    ));
                }
                if matches!(step.step, acta_sheet::AuditStep::Seed { .. })
                    && logged.iter().any(|(n, _)| {
                        n.step.commitment() == Some(c)
                            && matches!(n.step, acta_sheet::AuditStep::Seed { .. })
                    })
                {
                    return refuse(format!("audit {} already has its seed", step.audit));
                }
            }
        }
        let (reply, answer) = oneshot::channel();
        self.0
            .pool
            .send(sequencer::Pending {
                work: sequencer::Work::Note(Box::new(entry)),
                reply,
            })
            .await
            .map_err(|_| Error::Stopped)?;
        let done = answer.await.map_err(|_| Error::Stopped)??;
        drop(gate);
        Ok(Submitted {
            outcome: done.outcome,
            receipt: done.receipt,
        })
    }

    /// The latest checkpoint cosigned by the package's witness quorum (the
    /// latest checkpoint, when the package names no witnesses).
    pub async fn checkpoint(&self) -> Result<String, Error> {
        self.0
            .store
            .public_checkpoint(self.0.witness_quorum)
            .await?
            .map(|(_, note)| note)
            .ok_or(Error::NotYetWitnessed(self.0.witness_quorum))
    }

    /// The size of the latest public checkpoint: what every published
    /// figure speaks for, so that anyone can check it against a log the
    /// witnesses cosigned (never ahead of it while witnesses catch up).
    pub async fn public_size(&self) -> Result<u64, Error> {
        let size = self.size().await;
        Ok(self
            .0
            .store
            .public_checkpoint(self.0.witness_quorum)
            .await?
            .map_or(0, |(n, _)| n)
            .min(size))
    }

    /// Every checkpoint ever signed, oldest first, in cosigned form.
    pub async fn checkpoints(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .0
            .store
            .checkpoints(None)
            .await?
            .into_iter()
            .map(|c| c.cosigned)
            .collect())
    }

    /// The committed log size this center has caught up with.
    pub async fn size(&self) -> u64 {
        self.0.state.read().await.tree.size()
    }

    /// A tile or entry bundle, `None` if the committed log has no such tile.
    pub async fn tile(&self, tile: &Tile) -> Result<Option<Vec<u8>>, Error> {
        let end = tile
            .first()
            .checked_add(u64::from(tile.width))
            .ok_or(Error::Log(acta_tlog::Error::BadTile(
                "tile index overflows",
            )))?;
        if let TileLevel::Hashes(l) = tile.level {
            if let Some(bytes) = self.0.state.read().await.tree.tile(tile) {
                return Ok(Some(bytes));
            }
            // Perhaps another center committed it: catch up once.
            let span = 256u64.checked_pow(u32::from(l));
            if span
                .and_then(|s| s.checked_mul(end))
                .is_some_and(|need| need <= u64::MAX / 2)
            {
                self.catch_up().await?;
            }
            return Ok(self.0.state.read().await.tree.tile(tile));
        }
        if end > self.size().await {
            self.catch_up().await?;
            if end > self.size().await {
                return Ok(None);
            }
        }
        let notes = self.0.store.notes(tile.first(), end).await?;
        if notes.len() as u64 != u64::from(tile.width) {
            return Err(Error::Corrupt(format!(
                "entries {}..{end} are not all stored",
                tile.first()
            )));
        }
        Ok(Some(acta_tlog::tile::write_bundle(
            notes.iter().map(|n| n.as_bytes()),
        )?))
    }

    /// Entries `start..end` (clamped to the log and to [`acta_api::MAX_PAGE`]).
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<LoggedEntry>, Error> {
        let mut size = self.size().await;
        if end > size {
            // Another center process may have logged more than this one
            // has seen.
            self.catch_up().await?;
            size = self.size().await;
        }
        let start = start.min(size);
        let end = end.min(size).min(start.saturating_add(acta_api::MAX_PAGE));
        let rows = self.0.store.entries_in(None, start, end.max(start)).await?;
        Ok(rows.into_iter().map(logged).collect())
    }

    /// Every entry of a table, in log order.
    pub async fn table_entries(&self, table: &str) -> Result<Vec<LoggedEntry>, Error> {
        Ok(self
            .0
            .store
            .table_entries(table)
            .await?
            .into_iter()
            .map(logged)
            .collect())
    }

    /// Entries of a kind (and status), in log order.
    pub async fn entries_with(
        &self,
        kind: EntryKind,
        status: Option<acta_api::Status>,
    ) -> Result<Vec<LoggedEntry>, Error> {
        Ok(self
            .0
            .store
            .entries_with(kind, status)
            .await?
            .into_iter()
            .map(logged)
            .collect())
    }

    /// Totals for an area (`""` for the country) at the current size,
    /// computed once per log size and area.
    pub async fn totals(&self, area: &str) -> Result<Arc<Totals>, Error> {
        let size = self.public_size().await?;
        if let Some(t) = self.0.totals.lock().await.get(area) {
            if t.size == size {
                return Ok(t.clone());
            }
        }
        let (counted, held) = self
            .0
            .store
            .counted(None, &self.0.layout, area, size)
            .await?;
        let t = Arc::new(totals::totals(
            &self.0.election,
            &self.0.layout,
            area,
            size,
            &counted,
            held,
        ));
        self.0
            .totals
            .lock()
            .await
            .insert(area.to_string(), t.clone());
        Ok(t)
    }

    /// Totals of the country and of every area of the package, country
    /// first, at one size: computed once per log size from one read, each
    /// area's tables a contiguous run of the sorted table ids.
    pub async fn area_totals(&self) -> Result<Arc<Vec<Totals>>, Error> {
        let size = self.public_size().await?;
        if let Some(t) = &*self.0.area_totals.lock().await {
            if t.first().map(|c| c.size) == Some(size) {
                return Ok(t.clone());
            }
        }
        let (counted, held) = self.0.store.counted(None, &self.0.layout, "", size).await?;
        let held_tables = self.0.store.held_tables(size).await?;
        let election = &self.0.election;
        let mut all = Vec::with_capacity(election.areas.len() + 1);
        let layout = &self.0.layout;
        all.push(totals::totals(election, layout, "", size, &counted, held));
        let ids: Vec<&str> = counted.iter().map(|c| c.table.as_str()).collect();
        let held_ids: Vec<&str> = held_tables.iter().map(String::as_str).collect();
        for area in &election.areas {
            let prefix = format!("{}.", area.code);
            let run = |ids: &[&str]| {
                let from = ids.partition_point(|t| *t < prefix.as_str());
                let to = from + ids[from..].partition_point(|t| t.starts_with(&prefix));
                (from, to)
            };
            let (from, to) = run(&ids);
            let (hf, ht) = run(&held_ids);
            all.push(totals::totals(
                election,
                layout,
                &area.code,
                size,
                &counted[from..to],
                (ht - hf) as u64,
            ));
        }
        let all = Arc::new(all);
        *self.0.area_totals.lock().await = Some(all.clone());
        Ok(all)
    }

    /// The per-table figures the totals are made of, computed once per log size.
    pub async fn table_results(&self) -> Result<Arc<Vec<TableResult>>, Error> {
        let size = self.public_size().await?;
        if let Some((at, t)) = &*self.0.table_results.lock().await {
            if *at == size {
                return Ok(t.clone());
            }
        }
        let layout = &self.0.layout;
        let (counted, _) = self.0.store.counted(None, layout, "", size).await?;
        let t = Arc::new(
            counted
                .into_iter()
                .map(|c| c.result(layout))
                .collect::<Vec<_>>(),
        );
        *self.0.table_results.lock().await = Some((size, t.clone()));
        Ok(t)
    }

    /// Reads entries other centers committed since this one last looked.
    ///
    /// The rows are read before the view is locked: the sequencer takes the
    /// database first and the view second, so waiting for the database
    /// while holding the view could deadlock (SQLite has one connection).
    pub(crate) async fn catch_up(&self) -> Result<(), Error> {
        let head = self.0.store.head().await?;
        let from = self.size().await;
        if head <= from {
            return Ok(());
        }
        let rows = self.0.store.entries_in(None, from, head).await?;
        let mut state = self.0.state.write().await;
        // The sequencer may have caught up meanwhile: take only what is new.
        let now = state.tree.size();
        if now < head && now >= from {
            absorb(&mut state, &rows[(now - from) as usize..], now)?;
        }
        Ok(())
    }

    /// Signs and stores the checkpoint of the empty log, once.
    async fn first_checkpoint(&self) -> Result<(), Error> {
        let (mut tx, head) = self.0.store.lock().await?;
        if head == 0
            && self
                .0
                .store
                .checkpoint_root(Some(&mut tx), 0)
                .await?
                .is_none()
        {
            let note = self.sign_checkpoint(&Tree::new());
            store::Store::insert_checkpoint(
                &mut tx,
                0,
                &acta_note::canon::to_hex(&acta_tlog::empty_root()),
                &note,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Rebuilds the view from storage and checks it against every
    /// checkpoint, under the log lock so that no other center commits
    /// half-way through the reading.
    async fn rebuild(&self) -> Result<(), Error> {
        let store = &self.0.store;
        let (mut tx, head) = store.lock().await?;
        let mut state = self.0.state.write().await;
        let mut from = 0;
        while from < head {
            let to = head.min(from + 10_000);
            let rows = store.entries_in(Some(&mut tx), from, to).await?;
            absorb(&mut state, &rows, from)?;
            from = to;
        }
        let beyond = store
            .entries_in(Some(&mut tx), head, i64::MAX as u64)
            .await?;
        if let Some(r) = beyond.first() {
            return Err(Error::Corrupt(format!(
                "log entry {} is stored beyond the last committed size {head}",
                r.index
            )));
        }
        let key = self.0.key.verifier();
        let witnesses: Vec<_> = self.0.witnesses.iter().map(|(k, _)| k.clone()).collect();
        let checkpoints = store.checkpoints(Some(&mut tx)).await?;
        tx.commit().await?;
        for c in &checkpoints {
            let signed = Checkpoint::open(c.note.as_bytes(), &key)
                .map_err(|e| Error::Corrupt(format!("checkpoint {}: {e}", c.size)))?;
            let root = state.tree.root_at(c.size).map_err(|_| {
                Error::Corrupt(format!(
                    "checkpoint of size {} is beyond the stored log of {head}",
                    c.size
                ))
            })?;
            if signed.size != c.size
                || signed.root != root
                || acta_note::canon::to_hex(&root) != c.root
                || signed.origin != self.0.election.log_origin
            {
                return Err(Error::Corrupt(format!(
                    "the stored log does not have the root signed in checkpoint {}",
                    c.size
                )));
            }
            // What is served as cosigned must be the center's note plus
            // valid cosignatures by the package's witnesses, and nothing else.
            let extra = c
                .cosigned
                .strip_prefix(c.note.as_str())
                .map(|x| x.lines().count());
            let valid = acta_note::Note::parse(c.cosigned.as_bytes())
                .ok()
                .and_then(|n| acta_note::cosignature::cosigners(&n, &witnesses).ok())
                .map(|by| by.len());
            if extra.is_none() || extra != valid {
                return Err(Error::Corrupt(format!(
                    "the cosigned form of checkpoint {} is not the center's note with valid witness cosignatures",
                    c.size
                )));
            }
        }
        if checkpoints.last().map(|c| c.size) != Some(head) {
            return Err(Error::Corrupt(format!(
                "no checkpoint for the committed size {head}"
            )));
        }
        Ok(())
    }

    pub(crate) fn sign_checkpoint(&self, tree: &Tree) -> String {
        let body = Checkpoint {
            origin: self.0.election.log_origin.clone(),
            size: tree.size(),
            root: tree.root(),
        }
        .to_text();
        acta_note::sign(&body, &[&self.0.key]).expect("checkpoint text is valid")
    }
}

/// Adds stored rows `from..` to the view, re-hashing each note.
pub(crate) fn absorb(
    state: &mut LogState,
    rows: &[store::EntryRow],
    from: u64,
) -> Result<(), Error> {
    for (k, r) in rows.iter().enumerate() {
        let want = from + k as u64;
        if r.index != want || state.tree.size() != want {
            return Err(Error::Corrupt(format!(
                "log entry {want} is missing (next stored entry is {})",
                r.index
            )));
        }
        let leaf = acta_tlog::leaf_hash(r.note.as_bytes());
        if acta_note::canon::to_hex(&leaf) != r.leaf {
            return Err(Error::Corrupt(format!(
                "log entry {want}: the stored note does not hash to its stored leaf"
            )));
        }
        let text = acta_note::Note::parse(r.note.as_bytes())
            .map_err(|e| Error::Corrupt(format!("log entry {want}: {e}")))?
            .text;
        let body = acta_sheet::body_hash(text);
        if acta_note::canon::to_hex(&body) != r.body {
            return Err(Error::Corrupt(format!(
                "log entry {want}: the stored text hash is not the note's"
            )));
        }
        if let Some(first) = state.bodies.get(&body) {
            return Err(Error::Corrupt(format!(
                "log entry {want} repeats the text of entry {first}"
            )));
        }
        state.add(leaf, body, r.kind, &r.table);
    }
    Ok(())
}

fn logged(r: store::EntryRow) -> LoggedEntry {
    LoggedEntry {
        index: r.index,
        kind: r.kind.as_str().to_string(),
        table: r.table,
        status: r.status,
        reason: r.reason,
        note: r.note,
    }
}
