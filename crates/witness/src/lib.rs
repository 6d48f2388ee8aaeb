//! A witness of acta logs, as C2SP `tlog-witness` specifies
//! (https://c2sp.org/tlog-witness), cosigning with C2SP `tlog-cosignature`
//! `cosignature/v1`.
//!
//! A witness is run by a party or an observer mission, not by the
//! authority. For each log it knows (origin and the center's key) it keeps
//! the latest checkpoint it cosigned, on disk, and cosigns a new checkpoint
//! only with a consistency proof from exactly that one. A center that shows
//! one history to this witness can never get it to cosign another: a fork
//! is refused with a message naming both checkpoints, and the refused
//! checkpoint is kept as evidence.
//!
//! State is one file per log, `<hex SHA-256(origin)>.checkpoint`, replaced
//! atomically (write, fsync, rename, fsync of the directory) *before* the
//! cosignature is returned (tlog-witness: "MUST persist the new checkpoint
//! before responding"), under one lock so that check and update are atomic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use acta_note::cosignature::Cosigner;
use acta_note::{Note, Verifier};
use acta_tlog::witness::{AddCheckpoint, SIZE_CONTENT_TYPE};
use acta_tlog::{Checkpoint, Hash};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// Why a checkpoint was not cosigned; each maps to the status code the
/// spec prescribes.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: the body is malformed or `old` exceeds the new size.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 403: no valid signature by the log's key.
    #[error("not signed by the log's key: {0}")]
    Forbidden(String),
    /// 404: this witness does not know the log.
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// 409: `old` is not the size this witness last cosigned.
    #[error("the latest checkpoint cosigned for this log has size {0}")]
    Conflict(u64),
    /// 422: the proof does not verify — a fork, or a bad proof.
    #[error("{0}")]
    Inconsistent(String),
    /// 500: the state could not be persisted; nothing was cosigned.
    #[error("witness state: {0}")]
    Storage(String),
}

impl Refusal {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) => 400,
            Refusal::Forbidden(_) => 403,
            Refusal::UnknownOrigin(_) => 404,
            Refusal::Conflict(_) => 409,
            Refusal::Inconsistent(_) => 422,
            Refusal::Storage(_) => 500,
        }
    }
}

/// Why the witness could not start.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The state directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A stored checkpoint does not verify with the log's key.
    #[error("{path}: stored checkpoint is not valid: {what}")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

/// The latest checkpoint cosigned for one log.
#[derive(Debug, Clone)]
struct Latest {
    size: u64,
    root: Hash,
    /// The checkpoint note with the log's signature and ours.
    note: String,
}

struct Log {
    latest: Option<Latest>,
    /// A state write failed after it may have reached the disk.
    broken: bool,
}

/// A running witness (cheap to clone).
#[derive(Clone)]
pub struct Witness(Arc<Inner>);

struct Inner {
    cosigner: Cosigner,
    keys: HashMap<String, Verifier>,
    dir: PathBuf,
    logs: Mutex<HashMap<String, Log>>,
    now: fn() -> u64,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn state_file(dir: &Path, origin: &str) -> PathBuf {
    dir.join(format!(
        "{}.checkpoint",
        hex::encode(Sha256::digest(origin.as_bytes()))
    ))
}

impl Witness {
    /// A witness cosigning with `cosigner` for the logs `(origin, key)`,
    /// keeping its state in `dir` (created if needed, reloaded if present).
    pub fn open(
        cosigner: Cosigner,
        logs: Vec<(String, Verifier)>,
        dir: &Path,
    ) -> Result<Witness, Error> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut map = HashMap::new();
        let mut keys = HashMap::new();
        for (origin, key) in logs {
            let path = state_file(dir, &origin);
            let latest = match std::fs::read_to_string(&path) {
                Ok(note) => {
                    let cp = Checkpoint::open(note.as_bytes(), &key).map_err(|e| Error::State {
                        path: path.clone(),
                        what: e.to_string(),
                    })?;
                    if cp.origin != origin {
                        return Err(Error::State {
                            path,
                            what: format!("origin {:?} is not {origin:?}", cp.origin),
                        });
                    }
                    Some(Latest {
                        size: cp.size,
                        root: cp.root,
                        note,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(&path)(e)),
            };
            keys.insert(origin.clone(), key);
            map.insert(
                origin,
                Log {
                    latest,
                    broken: false,
                },
            );
        }
        Ok(Witness(Arc::new(Inner {
            cosigner,
            keys,
            dir: dir.to_path_buf(),
            logs: Mutex::new(map),
            now: unix_now,
        })))
    }

    /// The witness's public key, for the election package.
    pub fn verifier(&self) -> acta_note::cosignature::CosignatureVerifier {
        self.0.cosigner.verifier()
    }

    /// tlog-witness §"add-checkpoint": checks the request and, if the
    /// checkpoint is consistent with the latest one cosigned for its log,
    /// persists it and returns the cosignature line (with its newline).
    pub async fn add_checkpoint(&self, body: &[u8]) -> Result<String, Refusal> {
        let body = std::str::from_utf8(body)
            .map_err(|_| Refusal::BadRequest("request body is not UTF-8".into()))?;
        let req = AddCheckpoint::parse(body).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let note = Note::parse(req.checkpoint.as_bytes())
            .map_err(|e| Refusal::BadRequest(format!("checkpoint note: {e}")))?;
        let cp = Checkpoint::parse(note.text)
            .map_err(|e| Refusal::BadRequest(format!("checkpoint: {e}")))?;
        // The signature is checked before the state lock is taken, so a
        // flood of forged checkpoints cannot hold up the log's requests.
        let key = self
            .0
            .keys
            .get(&cp.origin)
            .ok_or_else(|| Refusal::UnknownOrigin(cp.origin.clone()))?;
        match note.verified_by(std::slice::from_ref(key)) {
            Ok(by) if !by.is_empty() => {}
            Ok(_) => return Err(Refusal::Forbidden("no signature by the log's key".into())),
            Err(e) => return Err(Refusal::Forbidden(e.to_string())),
        }
        let mut logs = self.0.logs.lock().await;
        let log = logs
            .get_mut(&cp.origin)
            .ok_or_else(|| Refusal::UnknownOrigin(cp.origin.clone()))?;
        if log.broken {
            return Err(Refusal::Storage(
                "an earlier write of this log's state failed; restart the witness".into(),
            ));
        }
        if req.old > cp.size {
            return Err(Refusal::BadRequest(format!(
                "old size {} is larger than the checkpoint's size {}",
                req.old, cp.size
            )));
        }
        let (latest_size, latest_root) = log
            .latest
            .as_ref()
            .map_or((0, acta_tlog::empty_root()), |l| (l.size, l.root));
        if req.old != latest_size {
            return Err(Refusal::Conflict(latest_size));
        }
        if cp.size == 0 && cp.root != acta_tlog::empty_root() {
            return Err(Refusal::Inconsistent(
                "a checkpoint of size 0 must have the empty tree's root".into(),
            ));
        }
        if req.old == 0 && !req.proof.is_empty() {
            return Err(Refusal::Inconsistent(
                "a proof from size 0 must be empty".into(),
            ));
        }
        if acta_tlog::verify_consistency(req.old, cp.size, &req.proof, &latest_root, &cp.root)
            .is_err()
        {
            self.keep_refused(&cp, &req.checkpoint);
            let earlier = log
                .latest
                .as_ref()
                .map_or(String::new(), |l| l.note.clone());
            return Err(Refusal::Inconsistent(format!(
                "FORK: the checkpoint of size {} (root {}) is not consistent with the checkpoint of size {latest_size} (root {}) this witness cosigned; both follow.\n\n{}\n{earlier}",
                cp.size,
                B64.encode(cp.root),
                B64.encode(latest_root),
                req.checkpoint,
            )));
        }
        // The spec forbids a zero timestamp; a clock before 1970 is not one.
        let line = format!(
            "{}\n",
            self.0.cosigner.cosign(note.text, (self.0.now)().max(1))
        );
        // What is kept: the text, the log's own signature lines as received, ours.
        let mut stored = format!("{}\n", note.text);
        // Only the log's own valid signature line is kept with ours.
        for l in req.checkpoint[note.text.len() + 1..].lines() {
            let one = format!("{}\n{l}\n", note.text);
            if acta_note::open_single(one.as_bytes(), key).is_ok() {
                stored.push_str(l);
                stored.push('\n');
            }
        }
        stored.push_str(&line);
        let (dir, origin, body) = (self.0.dir.clone(), cp.origin.clone(), stored.clone());
        let written = tokio::task::spawn_blocking(move || persist(&dir, &origin, &body))
            .await
            .map_err(|e| Refusal::Storage(e.to_string()))?;
        if let Err(e) = written {
            // The disk may or may not hold the new state: cosign nothing
            // more for this log until a restart reads what is really there.
            log.broken = true;
            return Err(e);
        }
        log.latest = Some(Latest {
            size: cp.size,
            root: cp.root,
            note: stored,
        });
        Ok(line)
    }

    /// The latest checkpoint cosigned for `origin`, with its signatures.
    pub async fn latest(&self, origin: &str) -> Option<String> {
        self.0
            .logs
            .lock()
            .await
            .get(origin)
            .and_then(|l| l.latest.as_ref().map(|l| l.note.clone()))
    }

    /// Keeps a refused, validly signed checkpoint as evidence of a fork.
    fn keep_refused(&self, cp: &Checkpoint, note: &str) {
        let name = format!(
            "refused-{}-{}.checkpoint",
            cp.size,
            hex::encode(&Sha256::digest(note.as_bytes())[..8])
        );
        let _ = std::fs::write(self.0.dir.join(name), note);
    }
}

/// The witness's routes: `POST /add-checkpoint` and the monitoring
/// `GET /<hex SHA-256(origin)>/checkpoint`.
pub fn router(w: Witness) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(latest))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(w)
}

async fn add_checkpoint(State(w): State<Witness>, body: Bytes) -> Response {
    match w.add_checkpoint(&body).await {
        Ok(line) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], line).into_response(),
        Err(Refusal::Conflict(size)) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)],
            format!("{size}\n"),
        )
            .into_response(),
        Err(r) => (
            StatusCode::from_u16(r.status()).expect("valid status"),
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{r}\n"),
        )
            .into_response(),
    }
}

async fn latest(State(w): State<Witness>, UrlPath(hash): UrlPath<String>) -> Response {
    let logs = w.0.logs.lock().await;
    let found = logs
        .iter()
        .find(|(origin, _)| hex::encode(Sha256::digest(origin.as_bytes())) == hash);
    match found.and_then(|(_, l)| l.latest.as_ref()) {
        Some(l) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            l.note.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "no checkpoint cosigned for this log\n",
        )
            .into_response(),
    }
}

/// Replaces the state file of `origin` atomically and durably.
fn persist(dir: &Path, origin: &str, note: &str) -> Result<(), Refusal> {
    let path = state_file(dir, origin);
    let tmp = path.with_extension("tmp");
    let storage = |e: std::io::Error| Refusal::Storage(format!("{}: {e}", path.display()));
    let mut f = std::fs::File::create(&tmp).map_err(storage)?;
    f.write_all(note.as_bytes()).map_err(storage)?;
    f.sync_all().map_err(storage)?;
    std::fs::rename(&tmp, &path).map_err(storage)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(storage)?;
    Ok(())
}
