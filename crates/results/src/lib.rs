//! The results site (SYSTEM.md §9): what the center published, readable by
//! a citizen, every figure one click from the signed acta behind it.
//!
//! The site is built from what an observer verified, never from what a
//! center says: a [`Snapshot`] is the observer's state (its checkpoint and
//! its [`Ledger`], the log folded table by table) and the log's own tiles
//! (for each acta's bytes and its inclusion proof). So the site can be run
//! by anyone who mirrors the log — a party, a newspaper — and shows the
//! same figures as every other honest mirror.
//!
//! Everything a page needs is computed once per snapshot (the sums of every
//! area in one pass over the tables; each announcement held against the
//! log); a page is then O(its size), and each is cached until the next
//! checkpoint, so no request makes the site do O(election) work.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod pages;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use acta_election::{Election, Trust};
use acta_tlog::{Checkpoint, Hash, Tile, Tree};
use acta_verify::{Ledger, Sums};
use axum::extract::{Multipart, Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

pub use pages::Lang;

/// Why a snapshot could not be built.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of the state or the bundle is missing or unreadable.
    #[error("{path}: {what}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
    /// The package, checkpoint or ledger does not hold together.
    #[error("{0}")]
    Invalid(String),
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        what: e.to_string(),
    })
}

/// Most bytes of a journal read for the forensic screens (a table of 1,000
/// voters journals about 80 KB; a larger file is refused as such).
pub const MOST_JOURNAL_BYTES: u64 = 4 << 20;

/// One announcement of the log, held against the log.
#[derive(Debug, Clone)]
pub struct Announced {
    /// Its log index.
    pub index: u64,
    /// The signed note.
    pub note: String,
    /// What differs from the signed actas (empty: it matches the log).
    pub differences: Vec<String>,
}

/// One table's hand count in an audit.
#[derive(Debug, Clone)]
pub struct HandCounted {
    /// The audit's name.
    pub audit: String,
    /// Receipts in the box.
    pub receipts: u64,
    /// Per contest, as the board counted.
    pub contests: Vec<acta_sheet::audit::HandCount>,
}

/// Everything the site shows, as of one verified checkpoint.
pub struct Snapshot {
    /// The election package.
    pub election: Election,
    /// The checkpoint note, as the center signed it (with cosignatures).
    pub checkpoint_note: String,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Names of the witnesses whose cosignatures verify on it.
    pub cosigners: Vec<String>,
    /// The latest time a witness cosigned it, if any did.
    pub cosigned_at: Option<u64>,
    /// The log folded per table.
    pub ledger: Ledger,
    /// Sums of every area (`""`: the country) over the counted actas.
    pub sums: HashMap<String, Sums>,
    /// The announcements, each held against the log.
    pub announcements: Vec<Announced>,
    /// The audits in the log, re-derived step by step.
    pub audits: Vec<acta_verify::audit::AuditSummary>,
    /// Audit steps that are not what the log before them gives.
    pub audit_disputes: Vec<String>,
    /// Hand counts logged by the audits, per table: audit name, receipts
    /// counted and per contest.
    pub hand_counts: std::collections::BTreeMap<String, Vec<HandCounted>>,
    /// Batch audits waiting for hand counts: audit name and the tables drawn
    /// and not yet counted.
    pub awaiting: Vec<(String, Vec<String>)>,
    tree: Tree,
    bundle: PathBuf,
}

impl Snapshot {
    /// Loads the observer's state directory (`state.json`, `leaves.bin`,
    /// written by `acta observe --state`) and the bundle it recorded the
    /// log into (`acta observe --evidence`), for the election `trust`
    /// accepts.
    pub fn load(state: &Path, bundle: &Path, trust: &Trust) -> Result<Snapshot, Error> {
        let package = read(&bundle.join("package.note"))?;
        let election =
            Election::open(&package, trust).map_err(|e| Error::Invalid(e.to_string()))?;
        #[derive(Deserialize)]
        struct Saved {
            election: String,
            checkpoint: String,
            ledger: Ledger,
        }
        let saved: Saved = serde_json::from_slice(&read(&state.join("state.json"))?)
            .map_err(|e| Error::Invalid(format!("state.json: {e}")))?;
        if saved.election != election.id || saved.ledger.tables.len() != election.tables.len() {
            return Err(Error::Invalid(
                "the observer state is another election's".into(),
            ));
        }
        let key: acta_note::Verifier = election
            .center_key
            .parse()
            .map_err(|e| Error::Invalid(format!("package center key: {e}")))?;
        let checkpoint = Checkpoint::open(saved.checkpoint.as_bytes(), &key)
            .map_err(|e| Error::Invalid(format!("checkpoint: {e}")))?;
        let witnesses: Vec<_> = election
            .witness_keys()
            .map_err(|e| Error::Invalid(e.to_string()))?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let note = acta_note::Note::parse(saved.checkpoint.as_bytes())
            .map_err(|e| Error::Invalid(format!("checkpoint: {e}")))?;
        let by = acta_note::cosignature::cosigners(&note, &witnesses)
            .map_err(|e| Error::Invalid(format!("checkpoint cosignature: {e}")))?;
        let cosigned_at = by.iter().map(|(_, t)| *t).max();
        let cosigners: Vec<String> = by.into_iter().map(|(w, _)| w.name().to_string()).collect();
        if checkpoint.origin != election.log_origin {
            return Err(Error::Invalid(format!(
                "the checkpoint is of log {}, the package names {}",
                checkpoint.origin, election.log_origin
            )));
        }
        // A checkpoint the witnesses did not cosign could be a view shown to
        // this mirror alone: it is not shown.
        if cosigners.len() < election.witness_quorum as usize {
            return Err(Error::Invalid(format!(
                "the checkpoint of size {} carries {} of the {} witness cosignatures the package requires",
                checkpoint.size,
                cosigners.len(),
                election.witness_quorum
            )));
        }
        if saved.ledger.size != checkpoint.size {
            return Err(Error::Invalid(format!(
                "the observer's ledger folds {} entries, its checkpoint has {}",
                saved.ledger.size, checkpoint.size
            )));
        }
        let leaves = read(&state.join("leaves.bin"))?;
        let tree = Tree::from_leaves(leaves.chunks_exact(32).map(|c| {
            let mut h: Hash = [0; 32];
            h.copy_from_slice(c);
            h
        }));
        if tree.size() != checkpoint.size || tree.root() != checkpoint.root {
            return Err(Error::Invalid(
                "the observer's leaves do not make its checkpoint".into(),
            ));
        }
        let ledger = saved.ledger;
        let mut areas: BTreeSet<&str> = election.areas.iter().map(|a| a.code.as_str()).collect();
        areas.insert("");
        let sums = ledger.sums_by_area(&election, checkpoint.size, &areas);
        let root_at = |n: u64| tree.root_at(n).ok();
        let announcements = ledger
            .announcements
            .iter()
            .map(|(index, note)| Announced {
                index: *index,
                note: note.clone(),
                differences: acta_verify::compare::announcement(
                    &election, &ledger, *index, note, &root_at,
                )
                .iter()
                .map(|f| {
                    format!(
                        "{}: {} — announced {}, actas {}",
                        f.place, f.figure, f.center, f.machines
                    )
                })
                .collect(),
            })
            .collect();
        let (replayed, disputes) = acta_verify::audit::replay(&election, &ledger, root_at);
        let audits = acta_verify::audit::summaries(&replayed);
        let audit_disputes = disputes
            .iter()
            .map(|f| format!("{} — {}: {}", f.place, f.figure, f.machines))
            .collect();
        let mut hand_counts: std::collections::BTreeMap<String, Vec<HandCounted>> =
            Default::default();
        let awaiting = replayed
            .audits
            .values()
            .filter(|a| a.commit.method == acta_sheet::audit::AuditMethod::Batch)
            .filter_map(|a| match a.next() {
                acta_verify::audit::Next::Count(t) => Some((a.name.clone(), t)),
                _ => None,
            })
            .collect();
        for a in replayed.audits.values() {
            for (table, (receipts, contests)) in &a.counts {
                hand_counts
                    .entry(table.clone())
                    .or_default()
                    .push(HandCounted {
                        audit: a.name.clone(),
                        receipts: *receipts,
                        contests: contests.clone(),
                    });
            }
        }
        Ok(Snapshot {
            election,
            checkpoint_note: saved.checkpoint,
            checkpoint,
            cosigners,
            cosigned_at,
            ledger,
            sums,
            announcements,
            audits,
            audit_disputes,
            hand_counts,
            awaiting,
            tree,
            bundle: bundle.to_path_buf(),
        })
    }

    /// The bytes of log entry `index`, read from the bundle's entry tiles.
    pub fn entry(&self, index: u64) -> Option<Vec<u8>> {
        let tile = Tile::entry_bundles(self.checkpoint.size)
            .into_iter()
            .find(|t| t.first() <= index && index < t.first() + u64::from(t.width))?;
        let bytes = std::fs::read(self.bundle.join("log").join(tile.path())).ok()?;
        let entries = acta_tlog::tile::read_bundle(&bytes, tile.width).ok()?;
        let e = entries.get((index - tile.first()) as usize)?;
        // Only bytes whose hash is the leaf the checkpoint commits to.
        (self.tree.leaf(index) == Some(&acta_tlog::leaf_hash(e))).then(|| e.to_vec())
    }

    /// The counted acta of every reporting table, read from the bundle's
    /// entry tiles (each tile once), each hashed against its leaf and
    /// opened against the package.
    pub fn counted_actas(&self) -> Result<Vec<acta_sheet::Acta>, Error> {
        let wanted: std::collections::BTreeSet<u64> = self
            .ledger
            .counted_before(self.checkpoint.size)
            .map(|(_, a, _)| a.index)
            .collect();
        let mut out = Vec::with_capacity(wanted.len());
        for tile in Tile::entry_bundles(self.checkpoint.size) {
            let first = tile.first();
            if wanted
                .range(first..first + u64::from(tile.width))
                .next()
                .is_none()
            {
                continue;
            }
            let Ok(bytes) = std::fs::read(self.bundle.join("log").join(tile.path())) else {
                continue;
            };
            let Ok(entries) = acta_tlog::tile::read_bundle(&bytes, tile.width) else {
                continue;
            };
            for (k, e) in entries.iter().enumerate() {
                let i = first + k as u64;
                if wanted.contains(&i) && self.tree.leaf(i) == Some(&acta_tlog::leaf_hash(e)) {
                    if let Ok(o) = acta_sheet::Acta::open(e, &self.election) {
                        out.push(o.acta);
                    }
                }
            }
        }
        // Never a report that quietly leaves tables out while it names the
        // checkpoint: every counted acta is there, or there is no report.
        if out.len() != wanted.len() {
            return Err(Error::Invalid(format!(
                "{} of the {} counted actas could not be read from this mirror's tiles as the checkpoint commits to them",
                wanted.len() - out.len(),
                wanted.len()
            )));
        }
        Ok(out)
    }

    /// The forensic screens' input: every counted acta, the held ones, and
    /// for each table the journal `<table>.log` in `journals` if there is
    /// one (at most [`MOST_JOURNAL_BYTES`]; each is held against its acta,
    /// and one that does not match is reported, not used).
    pub fn forensic_input(
        &self,
        contest: Option<&str>,
        journals: Option<&Path>,
    ) -> Result<acta_forensics::Input, Error> {
        let actas = self.counted_actas()?;
        let held = self
            .ledger
            .held
            .iter()
            .filter(|h| h.index < self.checkpoint.size)
            .map(|h| acta_forensics::Held {
                table: h.table.clone(),
                reasons: h.reasons.clone(),
            })
            .collect();
        let read = |id: &str| -> Result<String, String> {
            use std::io::Read as _;
            let dir = journals.expect("only called with a directory");
            let f = std::fs::File::open(dir.join(format!("{id}.log"))).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    "not published".to_string()
                } else {
                    format!("unreadable: {e}")
                }
            })?;
            let mut bytes = Vec::new();
            f.take(MOST_JOURNAL_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("unreadable: {e}"))?;
            if bytes.len() as u64 > MOST_JOURNAL_BYTES {
                return Err(format!("larger than {MOST_JOURNAL_BYTES} bytes"));
            }
            String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
        };
        let read: &dyn Fn(&str) -> Result<String, String> = &read;
        acta_forensics::Input::from_actas(
            &self.election,
            contest,
            &actas,
            held,
            journals.map(|_| read),
        )
        .map_err(|e| Error::Invalid(e.to_string()))
    }

    /// The log indices of the actas a table's machine signed besides the
    /// one that stands for the table, with a different text (a resend of the
    /// same text is not a conflict).
    pub fn conflicts(&self, table: usize) -> Vec<u64> {
        let facts = &self.ledger.tables[table];
        let body = facts.acta.as_ref().map(|a| a.body);
        facts
            .conflicts
            .iter()
            .filter(|(i, b)| Some(*b) != body && self.ledger.conflicting_actas.contains(i))
            .map(|(i, _)| *i)
            .collect()
    }

    /// The point of the log the exports are bound to.
    pub fn at(&self) -> acta_export::AtCheckpoint {
        acta_export::AtCheckpoint {
            size: self.checkpoint.size,
            root_hex: hex::encode(self.checkpoint.root),
            generated: self
                .cosigned_at
                .unwrap_or_else(|| acta_election::time::parse(&self.election.closes).unwrap_or(0)),
        }
    }

    /// The inclusion proof of entry `index` in the checkpoint, verified.
    pub fn proof(&self, index: u64) -> Option<Vec<Hash>> {
        let p = self
            .tree
            .inclusion_proof(index, self.checkpoint.size)
            .ok()?;
        let leaf = *self.tree.leaf(index)?;
        acta_tlog::verify_inclusion(
            index,
            self.checkpoint.size,
            &leaf,
            &p,
            &self.checkpoint.root,
        )
        .ok()?;
        Some(p)
    }
}

/// A rendered page: its content type and bytes.
type Page = (String, Vec<u8>);

/// The most bytes of rendered pages kept at once.
pub const CACHE_BYTES: usize = 256 << 20;

/// The site: the current snapshot and the pages rendered from it.
#[derive(Clone)]
pub struct Site {
    snapshot: Arc<RwLock<Arc<Snapshot>>>,
    cache: Arc<Mutex<HashMap<String, Page>>>,
    render: Arc<Mutex<()>>,
    desk: Option<Arc<Desk>>,
    journals: Option<Arc<PathBuf>>,
    screens: Arc<Mutex<Screens>>,
}

/// The forensic screens of the site: the latest computed (the checkpoint
/// size it is of, and the report or why it could not run), and the size
/// being computed now, if any. They take seconds at national scale, so
/// they run on their own thread, once per checkpoint someone asks about,
/// never in a request and never holding up the other pages' renders.
#[derive(Default)]
struct Screens {
    done: Option<(u64, Result<Arc<acta_forensics::Report>, String>)>,
    running: Option<u64>,
}

/// What the forensic page shows.
pub(crate) enum ScreensView {
    /// The screens of this checkpoint size; `true` if the site shows a
    /// newer checkpoint whose screens are being computed.
    Ready(u64, Arc<acta_forensics::Report>, bool),
    /// They could not run, and why.
    Failed(String),
    /// Nothing computed yet.
    Computing,
}

/// Records a board's hand count: audit, table, receipts, per contest; the
/// log index of the step, or why it was refused.
pub type RecordHandCount = Arc<
    dyn Fn(
            String,
            String,
            u64,
            Vec<acta_sheet::audit::HandCount>,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, String>> + Send>>
        + Send
        + Sync,
>;

/// The authority's audit desk behind the site's hand-count form: only a
/// site run by the authority, with the center key, has one; every mirror
/// shows the form's page as absent.
pub struct Desk {
    /// The secret an audit board types to record a count.
    pub token: String,
    /// Where the count goes.
    pub record: RecordHandCount,
}

impl Site {
    /// A site showing `snapshot`.
    pub fn new(snapshot: Snapshot) -> Site {
        Site {
            snapshot: Arc::new(RwLock::new(Arc::new(snapshot))),
            cache: Arc::new(Mutex::new(HashMap::new())),
            render: Arc::new(Mutex::new(())),
            desk: None,
            journals: None,
            screens: Arc::new(Mutex::new(Screens::default())),
        }
    }

    /// The forensic screens to show, starting their computation for the
    /// shown checkpoint if nobody has.
    fn screens(&self) -> ScreensView {
        let snap = self.snapshot();
        let size = snap.checkpoint.size;
        let mut st = self.screens.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = st.done.as_ref().is_some_and(|(n, _)| *n == size);
        if !fresh && st.running.is_none() {
            st.running = Some(size);
            let (screens, journals) = (self.screens.clone(), self.journals.clone());
            std::thread::spawn(move || {
                // Whatever happens, `running` is cleared: a screen that
                // panics is reported, never left "being computed".
                let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    snap.forensic_input(None, journals.as_deref().map(|p| p.as_path()))
                        .map_err(|e| e.to_string())
                        .and_then(|input| {
                            acta_forensics::screen(&input, &acta_forensics::Options::default())
                                .map(Arc::new)
                                .map_err(|e| e.to_string())
                        })
                }))
                .unwrap_or_else(|_| Err("the screens failed on this checkpoint".into()));
                let mut st = screens.lock().unwrap_or_else(|p| p.into_inner());
                st.done = Some((size, report));
                st.running = None;
            });
        }
        match &st.done {
            Some((n, Ok(r))) => ScreensView::Ready(*n, r.clone(), *n != size),
            Some((_, Err(e))) => ScreensView::Failed(e.clone()),
            None => ScreensView::Computing,
        }
    }

    /// The same site with the stations' published journals (`<table>.log`
    /// in `dir`) behind its forensic screens, for ballots per hour.
    pub fn with_journals(mut self, dir: PathBuf) -> Site {
        self.journals = Some(Arc::new(dir));
        self
    }

    /// The same site with the authority's audit desk behind its hand-count
    /// form (`/audit/record`).
    pub fn with_desk(mut self, desk: Desk) -> Site {
        self.desk = Some(Arc::new(desk));
        self
    }

    /// Shows a newer snapshot (a larger verified checkpoint) and drops
    /// every cached page. A smaller or equal one is ignored: the site never
    /// steps back.
    pub fn update(&self, snapshot: Snapshot) -> bool {
        let mut s = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
        if snapshot.checkpoint.size <= s.checkpoint.size {
            return false;
        }
        // Only a log that grew from the one shown: not a fork of it.
        if snapshot.tree.root_at(s.checkpoint.size).ok() != Some(s.checkpoint.root) {
            return false;
        }
        *s = Arc::new(snapshot);
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
        true
    }

    /// The snapshot shown.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A page from the cache, or rendered once and kept until the next
    /// checkpoint. Renders run one at a time off the async threads, and a
    /// request that waited for another's render of the same page gets that
    /// render: a crowd asking for an expensive page at a new checkpoint
    /// costs one render, not one per request.
    async fn cached(
        &self,
        key: String,
        render: impl FnOnce(&Snapshot) -> (String, Vec<u8>) + Send + 'static,
    ) -> Response {
        let hit = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let (ty, body) = match hit {
            Some(v) => v,
            None => {
                let site = self.clone();
                let done = tokio::task::spawn_blocking(move || {
                    let _one = site.render.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(v) = site
                        .cache
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&key)
                    {
                        return v.clone();
                    }
                    let snap = site.snapshot();
                    let v = render(&snap);
                    let mut cache = site.cache.lock().unwrap_or_else(|p| p.into_inner());
                    // Kept only if the snapshot is still the one shown, and
                    // the cache stays bounded: past its budget it starts over.
                    if Arc::ptr_eq(&snap, &site.snapshot()) {
                        let used: usize = cache.values().map(|(_, b)| b.len()).sum();
                        if used + v.1.len() > CACHE_BYTES {
                            cache.clear();
                        }
                        cache.insert(key, v.clone());
                    }
                    v
                })
                .await;
                match done {
                    Ok(v) => v,
                    Err(_) => {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed")
                            .into_response()
                    }
                }
            }
        };
        ([(header::CONTENT_TYPE, ty)], body).into_response()
    }
}

fn html(m: maud::Markup) -> (String, Vec<u8>) {
    (
        "text/html; charset=utf-8".into(),
        m.into_string().into_bytes(),
    )
}

#[derive(Deserialize, Default)]
struct Q {
    #[serde(default)]
    lang: Lang,
    #[serde(default)]
    q: String,
}

/// The site's routes.
pub fn router(site: Site) -> Router {
    Router::new()
        .route("/", get(national))
        .route("/area/{code}", get(area))
        .route("/table/{id}", get(table))
        .route("/table/{id}/acta.png", get(acta_png))
        .route("/table/{id}/acta.note", get(acta_note))
        .route("/log", get(log))
        .route("/audit", get(audit))
        .route("/audit/record", get(record_form).post(record))
        .route("/forensics", get(forensics))
        .route("/search", get(search))
        .route("/check", get(check_form).post(check))
        .route("/size", get(size))
        .route("/export/{file}", get(export))
        .layer(axum::extract::DefaultBodyLimit::max(8 << 20))
        .with_state(site)
}

async fn audit(State(site): State<Site>, Query(q): Query<Q>) -> Response {
    let desk = site.desk.is_some();
    site.cached(format!("/audit?{:?}", q.lang), move |s| {
        html(pages::audit(s, q.lang, desk))
    })
    .await
}

async fn forensics(State(site): State<Site>, Query(q): Query<Q>) -> Response {
    // The page is drawn from the report (its size is the histograms' and
    // the flags listed, not the election's); the report itself is computed
    // off the request path (`Site::screens`).
    let view = site.screens();
    let s = site.snapshot();
    html_response(StatusCode::OK, pages::forensics(&s, q.lang, view))
}

#[derive(Deserialize, Default)]
struct RecordQ {
    #[serde(default)]
    lang: Lang,
    #[serde(default)]
    audit: String,
    #[serde(default)]
    table: String,
}

const NO_DESK: &str = "This site is a mirror: hand counts are recorded at the authority's audit desk, and appear here once logged.";

async fn record_form(State(site): State<Site>, Query(q): Query<RecordQ>) -> Response {
    if site.desk.is_none() {
        return (StatusCode::NOT_FOUND, NO_DESK).into_response();
    }
    let s = site.snapshot();
    match pages::record_form(&s, &q.audit, &q.table, q.lang, None) {
        Some(page) => html_response(StatusCode::OK, page),
        None => (StatusCode::NOT_FOUND, "no such table awaiting a hand count").into_response(),
    }
}

fn html_response(status: StatusCode, m: maud::Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        m.into_string(),
    )
        .into_response()
}

/// A board's hand count from the form: checked (same origin, the desk's
/// token, every figure a canonical decimal, every contest and choice of the
/// table's acta) and sent to the desk, which derives and logs the step.
async fn record(
    State(site): State<Site>,
    Query(q): Query<RecordQ>,
    headers: axum::http::HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Response {
    let Some(desk) = site.desk.clone() else {
        return (StatusCode::NOT_FOUND, NO_DESK).into_response();
    };
    if let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        let origin = origin.to_str().unwrap_or("");
        let host = host.to_str().unwrap_or("");
        if origin.split_once("://").map(|(_, h)| h) != Some(host) {
            return (StatusCode::FORBIDDEN, "a form from another site").into_response();
        }
    }
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let (audit, table) = (get("audit").to_string(), get("table").to_string());
    let s = site.snapshot();
    let again = |e: String| {
        pages::record_form(&s, &audit, &table, q.lang, Some(e)).map_or_else(
            || (StatusCode::NOT_FOUND, "no such table awaiting a hand count").into_response(),
            |p| html_response(StatusCode::UNPROCESSABLE_ENTITY, p),
        )
    };
    let token = get("token").as_bytes();
    let want = desk.token.as_bytes();
    let same =
        token.len() == want.len() && token.iter().zip(want).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
    if !same {
        return again("the audit board's token is not right".into());
    }
    let Some(shape) = pages::count_shape(&s, &table) else {
        return again(format!("table {table} has no counted acta"));
    };
    let num = |k: &str| -> Result<u64, String> {
        acta_note::canon::decimal(get(k))
            .ok_or_else(|| format!("'{}' must be a whole number, found {:?}", k, get(k)))
    };
    let receipts = match num("receipts") {
        Ok(n) => n,
        Err(e) => return again(e),
    };
    let mut counts = Vec::new();
    for (contest, choices) in shape {
        let mut h = acta_sheet::audit::HandCount {
            contest: contest.clone(),
            ..Default::default()
        };
        for c in choices {
            match num(&format!("v|{contest}|{c}")) {
                Ok(n) => h.votes.push((c, n)),
                Err(e) => return again(e),
            }
        }
        match (num(&format!("b|{contest}")), num(&format!("n|{contest}"))) {
            (Ok(b), Ok(n)) => {
                h.blank = b;
                h.null = n;
            }
            (Err(e), _) | (_, Err(e)) => return again(e),
        }
        counts.push(h);
    }
    match (desk.record)(audit.clone(), table.clone(), receipts, counts).await {
        Ok(index) => html_response(
            StatusCode::OK,
            pages::recorded(&s, &audit, &table, index, q.lang),
        ),
        Err(e) => again(e),
    }
}

async fn national(State(site): State<Site>, Query(q): Query<Q>) -> Response {
    site.cached(format!("/?{:?}", q.lang), move |s| {
        html(pages::area(s, "", q.lang))
    })
    .await
}

async fn area(
    State(site): State<Site>,
    UrlPath(code): UrlPath<String>,
    Query(q): Query<Q>,
) -> Response {
    if site.snapshot().election.area_name(&code).is_none() {
        return (StatusCode::NOT_FOUND, "no such area").into_response();
    }
    site.cached(format!("/area/{code}?{:?}", q.lang), move |s| {
        html(pages::area(s, &code, q.lang))
    })
    .await
}

async fn table(
    State(site): State<Site>,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<Q>,
) -> Response {
    let Some(t) = acta_verify::ledger::table_index(&site.snapshot().election, &id) else {
        return (StatusCode::NOT_FOUND, "no such table").into_response();
    };
    site.cached(format!("/table/{id}?{:?}", q.lang), move |s| {
        html(pages::table(s, t, q.lang))
    })
    .await
}

fn counted_entry(s: &Snapshot, id: &str) -> Option<Vec<u8>> {
    let t = acta_verify::ledger::table_index(&s.election, id)?;
    s.entry(s.ledger.tables[t].acta.as_ref()?.index)
}

async fn acta_png(State(site): State<Site>, UrlPath(id): UrlPath<String>) -> Response {
    let snap = site.snapshot();
    let Some(bytes) = counted_entry(&snap, &id) else {
        return (StatusCode::NOT_FOUND, "no acta in the log for this table").into_response();
    };
    site.cached(
        format!("/table/{id}/acta.png"),
        move |s| match acta_paper::acta(&bytes, Some(&s.election), acta_paper::Width::Mm80) {
            Ok(p) => ("image/png".into(), p.png),
            Err(e) => ("text/plain".into(), e.to_string().into_bytes()),
        },
    )
    .await
}

async fn acta_note(State(site): State<Site>, UrlPath(id): UrlPath<String>) -> Response {
    match counted_entry(&site.snapshot(), &id) {
        Some(b) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], b).into_response(),
        None => (StatusCode::NOT_FOUND, "no acta in the log for this table").into_response(),
    }
}

async fn log(State(site): State<Site>, Query(q): Query<Q>) -> Response {
    site.cached(format!("/log?{:?}", q.lang), move |s| {
        html(pages::log(s, q.lang))
    })
    .await
}

async fn search(State(site): State<Site>, Query(q): Query<Q>) -> Response {
    let snap = site.snapshot();
    pages::search(&snap, &q.q, q.lang).into_response()
}

async fn size(State(site): State<Site>) -> String {
    site.snapshot().checkpoint.size.to_string()
}

async fn check_form(Query(q): Query<Q>) -> Response {
    pages::check(None, q.lang).into_response()
}

/// The paper check: a pasted QR text (or signed acta), or a photo of the
/// printed acta; the answer says whether the log holds it unaltered.
async fn check(State(site): State<Site>, Query(q): Query<Q>, mut form: Multipart) -> Response {
    let mut text = String::new();
    let mut image = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let got = match name.as_str() {
                    "text" => field.text().await.map(|t| text = t),
                    "photo" => field.bytes().await.map(|b| image = b.to_vec()),
                    _ => Ok(()),
                };
                if let Err(e) = got {
                    return pages::check(
                        Some(Err(format!("the upload was cut or too large: {e}"))),
                        q.lang,
                    );
                }
            }
            Ok(None) => break,
            Err(e) => {
                return pages::check(
                    Some(Err(format!("the upload was cut or too large: {e}"))),
                    q.lang,
                )
            }
        }
    }
    if image.is_empty() && text.trim().is_empty() {
        return pages::check(None, q.lang);
    }
    let snap = site.snapshot();
    // Decoding a photo is the one expensive thing a stranger can ask for:
    // one at a time, off the async threads, and no image larger than a
    // phone's photo.
    let decoded = tokio::task::spawn_blocking(move || {
        let _one = PAPER.lock().unwrap_or_else(|p| p.into_inner());
        let signed = if !image.is_empty() {
            match png_size(&image) {
                Some((w, h)) if u64::from(w) * u64::from(h) <= MAX_PHOTO_PIXELS => {
                    acta_paper::read_png(&image).map_err(|e| e.to_string())
                }
                Some((w, h)) => Err(format!("a {w}×{h} image is larger than a printout's photo")),
                None => Err("not a PNG image".to_string()),
            }
        } else {
            let t = text.replace("\r\n", "\n");
            let t = t.trim_start();
            if t.starts_with("ACTA-QR/1") {
                let parts: Vec<Vec<u8>> = t
                    .split("ACTA-QR/1")
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| format!("ACTA-QR/1{p}").into_bytes())
                    .collect();
                acta_sheet::qr::join(&parts).map_err(|e| e.to_string())
            } else {
                Ok(t.as_bytes().to_vec())
            }
        };
        signed.map(|b| acta_verify::paper::acta(&snap.election, &snap.ledger, "paper", &b).0)
    })
    .await
    .unwrap_or_else(|_| Err("the check failed".into()));
    pages::check(Some(decoded), q.lang)
}

/// One paper check at a time.
static PAPER: Mutex<()> = Mutex::new(());

/// The largest photo the paper check decodes (24 megapixels).
pub const MAX_PHOTO_PIXELS: u64 = 24_000_000;

/// Width and height from a PNG's header, without decoding it.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 24 || &b[..8] != b"\x89PNG\r\n\x1a\n" || &b[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(b[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(b[20..24].try_into().ok()?);
    Some((w, h))
}

/// Open data, computed once per checkpoint: NIST SP 1500-100 results in
/// JSON and XML, and CSV per table, each bound to the checkpoint.
async fn export(State(site): State<Site>, UrlPath(file): UrlPath<String>) -> Response {
    let ty = match file.as_str() {
        "err.json" => "application/json",
        "err.xml" => "application/xml",
        "tables.csv" => "text/csv; charset=utf-8",
        _ => return (StatusCode::NOT_FOUND, "no such export").into_response(),
    };
    // Built outside the cache first time, so a failure is answered 500 and
    // not kept.
    let key = format!("/export/{file}");
    if let Some((t, b)) = site
        .cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .cloned()
    {
        return ([(header::CONTENT_TYPE, t)], b).into_response();
    }
    let snap = site.snapshot();
    let (worker, shown) = (site.clone(), snap.clone());
    let built = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let _one = worker.render.lock().unwrap_or_else(|p| p.into_inner());
        let actas = snap.counted_actas().map_err(|e| e.to_string())?;
        let body = match file.as_str() {
            "tables.csv" => acta_export::table_csv(&snap.election, &actas),
            f => {
                let r = acta_export::err_report(&snap.election, &actas, &snap.at())
                    .map_err(|e| e.to_string())?;
                if f == "err.json" {
                    r.to_json()
                } else {
                    r.to_xml()
                }
            }
        };
        Ok(body)
    })
    .await;
    match built {
        Ok(Ok(body)) => {
            let v = (ty.to_string(), body.into_bytes());
            if Arc::ptr_eq(&shown, &site.snapshot()) {
                site.cache
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key, v.clone());
            }
            ([(header::CONTENT_TYPE, v.0)], v.1).into_response()
        }
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("export refused: {e}"),
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "export failed").into_response(),
    }
}
