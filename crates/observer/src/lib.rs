//! The independent observer (SYSTEM.md §10): it trusts only the authority and
//! auditor keys it was given, mirrors what the center publishes — the log
//! from its C2SP tiles, then the center's statements — checks every
//! signature, certificate and root, re-adds every acta itself with the pure
//! checks of `acta-verify` (which share no code with the center's SQL
//! totals), and holds the log against every signed checkpoint it saw
//! before or was given by other observers. Paper actas and receipts a party
//! witness holds are checked against the same log.
//!
//! The I/O is here; the judgement is in `acta-verify`. The same code runs
//! on a live center and, with no network, on an evidence bundle: what
//! `acta evidence verify` prints is what the observer concluded, from the
//! same bytes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod source;

use std::path::{Path, PathBuf};

use acta_election::{Election, Trust};
use acta_tlog::{Checkpoint, Tile, Tree};
use acta_verify::{checkpoints, compare, paper, Finding, FindingKind, Ledger, Report, Verdict};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

pub use acta_verify as verify;
pub use source::{file_of, Source};

/// Why observation could not even start or finish: the input is unusable
/// (exit code 2), as opposed to findings about the election (exit code 1).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The center could not be reached or answered garbage.
    #[error("center at {url}: {what}")]
    Http {
        /// What was fetched.
        url: String,
        /// What went wrong.
        what: String,
    },
    /// What was asked for is not published there (HTTP 404, or no such
    /// file in the bundle).
    #[error("{url}: not published here")]
    NotPublished {
        /// What was asked for.
        url: String,
    },
    /// A file of an evidence bundle is unreadable.
    #[error("evidence bundle {file}: {what}")]
    Bundle {
        /// The file.
        file: String,
        /// What went wrong.
        what: String,
    },
    /// A paper acta, receipt or peer checkpoint could not be read.
    #[error("{file}: {what}")]
    Input {
        /// The file or URL.
        file: String,
        /// What went wrong.
        what: String,
    },
    /// The log's checkpoint is not signed by the center key of the package.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] acta_tlog::Error),
    /// The trust file or state is malformed.
    #[error("election package: {0}")]
    Package(#[from] acta_election::Error),
    /// Reading or writing the state or evidence directory failed.
    #[error("state or evidence directory: {0}")]
    Io(#[from] std::io::Error),
}

/// Where the observer is in a long run, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// What is being done.
    pub phase: &'a str,
    /// How far.
    pub done: u64,
    /// Out of.
    pub total: u64,
}

/// What to observe with, besides the source.
#[derive(Debug, Clone)]
pub struct Options {
    /// The authority and auditor keys that make a package authentic.
    pub trust: Trust,
    /// A directory where the observer keeps its state between runs: the
    /// last verified checkpoint and the folded log at that size.
    pub state: Option<PathBuf>,
    /// A directory to record everything read into, as an evidence bundle.
    pub record: Option<PathBuf>,
    /// Signed checkpoints other observers (or witnesses) saw: files or URLs.
    pub peers: Vec<String>,
    /// Actas held on paper: PNG photos of printed actas, or signed notes.
    pub paper: Vec<PathBuf>,
    /// Stations' receipts (`<table>.acta.tlog-proof`), each checked with
    /// the paper acta of its table.
    pub receipts: Vec<PathBuf>,
}

impl Options {
    /// Observe with nothing but the trust file.
    pub fn new(trust: Trust) -> Options {
        Options {
            trust,
            state: None,
            record: None,
            peers: Vec::new(),
            paper: Vec::new(),
            receipts: Vec::new(),
        }
    }
}

/// A signed note read from a file of the bundle or state, if present.
fn read_opt(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn input(file: &Path, what: impl std::fmt::Display) -> Error {
    Error::Input {
        file: file.display().to_string(),
        what: what.to_string(),
    }
}

/// The state kept between runs.
#[derive(serde::Serialize, serde::Deserialize)]
struct State {
    election: String,
    checkpoint: String,
    ledger: Ledger,
}

/// Observes `source`. See the crate documentation for what is checked.
/// With `opts.record`, the report is written into the bundle too.
pub async fn observe(
    source: &Source,
    opts: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, Error> {
    let report = observe_all(source, opts, progress).await?;
    if let Some(dir) = &opts.record {
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_vec_pretty(&report).map_err(|e| input(dir, e))?,
        )?;
    }
    Ok(report)
}

async fn observe_all(
    source: &Source,
    opts: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, Error> {
    let record = opts.record.as_deref();
    if let Some(dir) = record {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("trust.txt"), opts.trust.to_text())?;
    }
    let step = |phase: &str| {
        progress(Progress {
            phase,
            done: 0,
            total: 0,
        })
    };
    step("fetching the election package");
    let package = source.get(acta_api::ELECTION, record).await?;
    let election = match Election::open(&package, &opts.trust) {
        Ok(e) => std::sync::Arc::new(e),
        Err(e) => return Ok(package_report(&package, e)),
    };
    step("fetching the signed checkpoint");
    let checkpoint_note = source.text("/log/checkpoint", record).await?;
    let center_key: acta_note::Verifier = election
        .center_key
        .parse()
        .map_err(acta_tlog::Error::from)?;
    let cp = Checkpoint::open(checkpoint_note.as_bytes(), &center_key)?;
    if cp.origin != election.log_origin {
        return Err(Error::Checkpoint(acta_tlog::Error::WrongOrigin {
            found: cp.origin,
            expected: election.log_origin.clone(),
        }));
    }
    // A signed size no election could fill is not mirrored: a log of this
    // package holds a zero report and an acta per table, the conflicts the
    // machines signed and the announcements, nowhere near this.
    let most = 16 * election.tables.len() as u64 + 100_000;
    if cp.size > most {
        return Err(Error::Http {
            url: source.name(),
            what: format!(
                "the signed checkpoint claims {} entries; an election of {} tables cannot have more than {most}: the checkpoint is evidence against the center",
                cp.size,
                election.tables.len()
            ),
        });
    }
    let mut findings = Vec::new();
    findings.extend(cosignatures(&election, &checkpoint_note, &cp)?);

    // What this observer saw before, and what others saw.
    let mut seen: Vec<(String, String, Checkpoint)> = Vec::new();
    let mut notes = Vec::new();
    // A state that does not parse, is another election's or a package's
    // with other tables, or whose checkpoint the center key did not sign,
    // is set aside (and said so), never trusted and never fatal.
    let earlier: Option<State> = match &opts.state {
        Some(dir) => match read_opt(&dir.join("state.json"))? {
            Some(s) => match serde_json::from_str::<State>(&s) {
                Ok(s)
                    if s.election == election.id
                        && s.ledger.tables.len() == election.tables.len() =>
                {
                    Some(s)
                }
                Ok(_) => {
                    notes.push(
                        "the state directory holds another election's state: set aside".into(),
                    );
                    None
                }
                Err(e) => {
                    notes.push(format!(
                        "the state directory's state.json is unreadable ({e}): set aside"
                    ));
                    None
                }
            },
            None => None,
        },
        None => None,
    };
    let earlier =
        earlier.filter(
            |s| match Checkpoint::open(s.checkpoint.as_bytes(), &center_key) {
                Ok(c) => {
                    seen.push((
                        "the checkpoint this observer verified on its last run".into(),
                        s.checkpoint.clone(),
                        c,
                    ));
                    true
                }
                Err(e) => {
                    notes.push(format!(
                        "the state's checkpoint is not the center's ({e}): set aside"
                    ));
                    false
                }
            },
        );
    let earlier_size = earlier.as_ref().and(seen.first()).map(|(_, _, c)| c.size);
    for (name, note) in read_seen(source).await? {
        let c = Checkpoint::open(note.as_bytes(), &center_key)?;
        seen.push((name, note, c));
    }
    for peer in &opts.peers {
        let note = if peer.starts_with("http://") || peer.starts_with("https://") {
            // The URL as given: another observer's `checkpoint.note`, or a
            // witness's or a mirror's `…/checkpoint`.
            acta_api::Client::new(peer)
                .bytes_at_most("", 1 << 16)
                .await
                .map_err(|e| input(Path::new(peer), e))
                .and_then(|b| {
                    String::from_utf8(b).map_err(|_| input(Path::new(peer), "not UTF-8"))
                })?
        } else {
            std::fs::read_to_string(peer).map_err(|e| input(Path::new(peer), e))?
        };
        let c = Checkpoint::open(note.as_bytes(), &center_key).map_err(|e| {
            input(
                Path::new(peer),
                format!("not a checkpoint signed by the center: {e}"),
            )
        })?;
        if c.origin != election.log_origin {
            return Err(input(Path::new(peer), "a checkpoint of another log"));
        }
        seen.push((format!("peer checkpoint {peer}"), note, c));
    }
    if let Some(dir) = record {
        let d = dir.join("seen");
        std::fs::create_dir_all(&d)?;
        for (k, (name, note, _)) in seen.iter().enumerate() {
            std::fs::write(d.join(format!("{k}.checkpoint")), note)?;
            std::fs::write(d.join(format!("{k}.name")), name)?;
        }
    }

    // Resume from the state if its checkpoint is a prefix of this one —
    // but a recorded bundle must hold the whole log, so then start afresh.
    let resume = earlier
        .filter(|_| record.is_none())
        .zip(seen.first())
        .filter(|(_, (_, _, c))| c.size <= cp.size)
        .map(|(s, (_, _, c))| (c.clone(), s.ledger));

    let mirrored = mirror(
        source,
        record,
        &election,
        &cp,
        resume,
        &opts.state,
        progress,
    )
    .await?;
    let Mirrored {
        tree,
        ledger,
        tiles,
        statuses: mirrored_statuses,
        new,
    } = mirrored;
    if tree.root() != cp.root {
        // Entries that do not make the signed root are not the center's
        // log: whoever served them (the center, a mirror, a network in
        // between) is not to be believed, and nothing judged from them
        // would be evidence against the center.
        return Err(Error::Http {
            url: source.name(),
            what: format!(
                "the entries served hash to the root {}, not to the signed checkpoint's {}: not the center's log",
                B64.encode(tree.root()),
                B64.encode(cp.root)
            ),
        });
    }
    findings.extend(ledger.findings.iter().cloned());
    let root_at = |n: u64| tree.root_at(n).ok();
    let mut later = None;
    let mut unchecked = Vec::new();
    let mut behind = Vec::new();
    for (name, _, c) in &seen {
        findings.extend(checkpoints::continuity(c, name, cp.size, &root_at));
        if c.size > cp.size {
            behind.push((name, c));
        }
    }
    if !behind.is_empty() {
        // Someone saw a larger log than the one mirrored: if the center
        // still serves a smaller one, it shows a shorter log than it
        // signed; if it has grown meanwhile, this run merely lagged.
        let now = latest(&mut later, source, record, &election, &center_key, &cp).await?;
        for (name, c) in behind {
            if now.size < c.size {
                findings.extend(checkpoints::rollback(c, name, now.size));
            } else {
                unchecked.push(format!(
                    "{name} is ahead of this run's checkpoint; observe again to check it"
                ));
            }
        }
    }

    step("comparing the center's per-table figures, areas and held actas");
    let size = cp.size;
    // The largest log size a statement speaks for: statements beyond the
    // verified checkpoint cannot be judged on this run.
    let mut claimed = 0u64;
    match source
        .json_opt::<Vec<acta_api::TableResult>>(acta_api::RESULTS_TABLES, record)
        .await?
    {
        Some(t) => {
            claimed = claimed.max(
                t.iter()
                    .map(|r| r.index.saturating_add(1))
                    .max()
                    .unwrap_or(0),
            );
            findings.extend(compare::table_results(&election, &ledger, size, &t))
        }
        None => unchecked.push(format!(
            "{} is not published here: per-table figures not compared",
            acta_api::RESULTS_TABLES
        )),
    }
    match source
        .json_opt::<Vec<acta_api::Totals>>(acta_api::RESULTS_AREAS, record)
        .await?
    {
        Some(a) => {
            claimed = claimed.max(a.iter().map(|t| t.size).max().unwrap_or(0));
            findings.extend(compare::areas(&election, &ledger, size, &a));
            // The national page is published apart: it is held to the
            // signed actas as well.
            match source
                .json_opt::<acta_api::Totals>(acta_api::RESULTS, record)
                .await?
            {
                Some(n) => {
                    claimed = claimed.max(n.size);
                    findings.extend(compare::page(&election, &ledger, size, &n));
                }
                None => unchecked.push(format!(
                    "{} is not published here: the national page not compared",
                    acta_api::RESULTS
                )),
            }
        }
        None => unchecked.push(format!(
            "{} is not published here: area totals not compared",
            acta_api::RESULTS_AREAS
        )),
    }
    if claimed > size {
        // Published figures about a log larger than the one verified: if
        // the center still serves no checkpoint that large, it publishes
        // figures for a log nobody can check; if it does, this run lagged.
        let now = latest(&mut later, source, record, &election, &center_key, &cp).await?;
        if now.size < claimed {
            findings.push(Finding {
                kind: FindingKind::AreaFigure,
                place: "country".into(),
                figure: "log size of the published results".into(),
                center: format!("publishes figures for a log of {claimed} entries"),
                machines: format!("its latest checkpoint signs {} entries", now.size),
                evidence: "log/checkpoint and the center's published results".into(),
            });
        } else {
            unchecked.push(format!(
                "some published figures speak for a log of {claimed} entries, beyond this run's checkpoint of {size}: observe again to judge them"
            ));
        }
    }
    match source
        .json_opt::<Vec<acta_api::LoggedEntry>>(acta_api::HELD, record)
        .await?
    {
        Some(h) => findings.extend(compare::held(&ledger, size, &h)),
        None => unchecked.push(format!(
            "{} is not published here: the held list not compared",
            acta_api::HELD
        )),
    }
    let conflicts = source
        .json_opt::<Vec<acta_api::LoggedEntry>>(acta_api::CONFLICTS, record)
        .await?;
    let announcements = source
        .json_opt::<Vec<acta_api::LoggedEntry>>(acta_api::ANNOUNCEMENTS, record)
        .await?;
    for (what, got) in [
        (acta_api::CONFLICTS, conflicts.is_some()),
        (acta_api::ANNOUNCEMENTS, announcements.is_some()),
    ] {
        if !got {
            unchecked.push(format!(
                "{what} is not published here: that list not compared"
            ));
        }
    }
    findings.extend(compare::listed(
        &ledger,
        size,
        conflicts.as_deref(),
        announcements.as_deref(),
    ));
    if !mirrored_statuses {
        unchecked.push(format!(
            "{} is not published here: entry statuses not compared",
            acta_api::ENTRIES
        ));
    }
    step("checking every signed announcement in the log");
    for (index, note) in &ledger.announcements {
        findings.extend(compare::announcement(
            &election, &ledger, *index, note, &root_at,
        ));
    }

    let mut audits = Vec::new();
    if !ledger.audits.is_empty() {
        step("re-deriving every audit step in the log: manifest, seed, draws, risk");
        let (replayed, found) = acta_verify::audit::replay(&election, &ledger, root_at);
        audits = acta_verify::audit::summaries(&replayed);
        findings.extend(found);
    }

    let mut paper_checks = Vec::new();
    if !opts.paper.is_empty() || !opts.receipts.is_empty() {
        step("checking the paper actas and receipts");
        let (checks, found) = check_paper(&election, &ledger, opts, record, &root_at)?;
        for c in checks
            .iter()
            .filter(|c| c.status == acta_verify::PaperStatus::ReceiptAhead)
        {
            unchecked.push(format!("receipt {}: {}", c.source, c.detail));
        }
        paper_checks = checks;
        findings.extend(found);
    }

    if let Some(dir) = record {
        let d = dir.join("exhibits");
        std::fs::create_dir_all(&d)?;
        for (name, note) in &ledger.exhibits {
            std::fs::write(d.join(name), note)?;
        }
    }
    let fork = findings.iter().any(|f| f.kind == FindingKind::ForkedLog);
    if let Some(dir) = &opts.state {
        std::fs::create_dir_all(dir)?;
        if fork {
            // Keep the earlier checkpoint as the state; the new one is evidence.
            std::fs::write(
                dir.join(format!("refused-{}.checkpoint", cp.size)),
                &checkpoint_note,
            )?;
        } else if earlier_size.is_some_and(|n| n > cp.size) {
            // The state saw a larger log: keep it, never step back.
        } else {
            let s = State {
                election: election.id.clone(),
                checkpoint: checkpoint_note.clone(),
                ledger: ledger.clone(),
            };
            let tmp = dir.join("state.json.tmp");
            std::fs::write(&tmp, serde_json::to_vec(&s).map_err(|e| input(&tmp, e))?)?;
            std::fs::write(dir.join("leaves.bin"), tree_leaves(&tree))?;
            std::fs::rename(&tmp, dir.join("state.json"))?;
            std::fs::write(dir.join("checkpoint.note"), &checkpoint_note)?;
        }
    }

    let mut report = Report {
        headline: String::new(),
        verdict: Verdict::Consistent,
        election: election.id.clone(),
        log_size: cp.size,
        log_root: B64.encode(cp.root),
        tables_total: election.tables.len() as u64,
        tables_reported: ledger.reported(),
        registered_total: election.registered(),
        actas_verified: ledger.verified,
        proofs_verified: tiles,
        verified_now: new,
        announced: ledger.announcements.last().map(|(i, _)| *i),
        sums: ledger.sums(&election, "", cp.size),
        held: ledger.held.clone(),
        unreported: acta_verify::unreported(&election, &ledger),
        paper: paper_checks,
        unchecked,
        notes,
        audits,
        groups: Vec::new(),
        findings,
    };
    report.conclude();
    Ok(report)
}

/// The center's latest public checkpoint, fetched again (once per run,
/// kept in `later`) and recorded as `log/checkpoint.later`; it counts only
/// if signed by the center key, of this log, carrying the witness quorum
/// and larger than `cp` — a checkpoint the witnesses did not cosign does
/// not show that the log has grown. Otherwise the answer is `cp`.
async fn latest(
    later: &mut Option<Checkpoint>,
    source: &Source,
    record: Option<&Path>,
    election: &Election,
    center_key: &acta_note::Verifier,
    cp: &Checkpoint,
) -> Result<Checkpoint, Error> {
    if let Some(c) = later {
        return Ok(c.clone());
    }
    let note = match source {
        Source::Center(_) => {
            let n = source.text("/log/checkpoint", None).await?;
            if let Some(dir) = record {
                std::fs::write(dir.join("log/checkpoint.later"), &n)?;
            }
            n
        }
        Source::Bundle(dir) => match read_opt(&dir.join("log/checkpoint.later"))? {
            Some(n) => n,
            None => source.text("/log/checkpoint", None).await?,
        },
    };
    let c = Checkpoint::open(note.as_bytes(), center_key)?;
    let counts = c.origin == election.log_origin
        && cosignatures(election, &note, &c)?.is_empty()
        && c.size > cp.size;
    let c = if counts { c } else { cp.clone() };
    *later = Some(c.clone());
    Ok(c)
}

/// The report when the package itself is not the auditors'.
fn package_report(package: &[u8], e: acta_election::Error) -> Report {
    let id = Election::parse(
        acta_note::Note::parse(package)
            .map(|n| n.text)
            .unwrap_or_default(),
    )
    .map(|e| e.id)
    .unwrap_or_default();
    let mut r = Report {
        headline: String::new(),
        verdict: Verdict::Discrepancies,
        election: id,
        log_size: 0,
        log_root: String::new(),
        tables_total: 0,
        tables_reported: 0,
        registered_total: 0,
        actas_verified: 0,
        proofs_verified: 0,
        verified_now: 0,
        announced: None,
        sums: Default::default(),
        held: Vec::new(),
        unreported: Vec::new(),
        paper: Vec::new(),
        unchecked: Vec::new(),
        notes: Vec::new(),
        audits: Vec::new(),
        groups: Vec::new(),
        findings: vec![Finding {
            kind: FindingKind::Package,
            place: "package".into(),
            figure: "auditors' countersignatures".into(),
            center: "serves this package as the election's".into(),
            machines: e.to_string(),
            evidence: "package.note, trust.txt".into(),
        }],
    };
    r.conclude();
    r
}

fn cosignatures(election: &Election, note: &str, cp: &Checkpoint) -> Result<Vec<Finding>, Error> {
    let witnesses: Vec<_> = election
        .witness_keys()?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let parsed = acta_note::Note::parse(note.as_bytes()).map_err(acta_tlog::Error::from)?;
    let by =
        acta_note::cosignature::cosigners(&parsed, &witnesses).map_err(acta_tlog::Error::from)?;
    Ok(if by.len() < election.witness_quorum as usize {
        vec![Finding {
            kind: FindingKind::Cosignatures,
            place: "log".into(),
            figure: format!("witness cosignatures on checkpoint {}", cp.size),
            center: by.len().to_string(),
            machines: format!("{} required by the package", election.witness_quorum),
            evidence: "log/checkpoint".into(),
        }]
    } else {
        Vec::new()
    })
}

/// Checkpoints an evidence bundle says were seen before (`seen/K.checkpoint`).
async fn read_seen(source: &Source) -> Result<Vec<(String, String)>, Error> {
    let Source::Bundle(dir) = source else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for k in 0.. {
        let Some(note) = read_opt(&dir.join(format!("seen/{k}.checkpoint")))? else {
            break;
        };
        let name = read_opt(&dir.join(format!("seen/{k}.name")))?.unwrap_or_default();
        out.push((name, note));
    }
    Ok(out)
}

fn tree_leaves(tree: &Tree) -> Vec<u8> {
    let mut out = Vec::with_capacity(tree.size() as usize * 32);
    for i in 0..tree.size() {
        if let Some(h) = tree.leaf(i) {
            out.extend_from_slice(h);
        }
    }
    out
}

struct Mirrored {
    tree: Tree,
    ledger: Ledger,
    tiles: u64,
    /// Whether the center published entry statuses.
    statuses: bool,
    /// Entries mirrored in this run.
    new: u64,
}

/// Bundles in flight at once while the previous ones are verified.
const IN_FLIGHT: usize = 8;

/// An entry bundle's entries opened: leaf hash and what [`Entry::open`]
/// says of each, from entry `from` on.
type Opened = Vec<([u8; 32], Result<acta_sheet::Entry, acta_sheet::Error>)>;

/// Opens the entries of one bundle on every core.
fn open_bundle(
    election: &Election,
    t: Tile,
    from: u64,
    bytes: Vec<u8>,
) -> Result<(Vec<u8>, Opened), Error> {
    use rayon::prelude::*;
    let entries = acta_tlog::tile::read_bundle(&bytes, t.width)?;
    let skip = from.saturating_sub(t.first()) as usize;
    let opened = entries[skip.min(entries.len())..]
        .par_iter()
        .map(|n| {
            (
                acta_tlog::leaf_hash(n),
                acta_sheet::Entry::open(n, election),
            )
        })
        .collect();
    Ok((bytes, opened))
}

/// Mirrors the log of `cp` from its entry bundles (C2SP tlog-tiles), folding
/// each bundle as it arrives: leaves hashed and entries opened on all cores,
/// then folded in order with the center's status for each. Then every hash
/// tile is fetched and must equal the one computed from the entries.
async fn mirror(
    source: &Source,
    record: Option<&Path>,
    election: &std::sync::Arc<Election>,
    cp: &Checkpoint,
    resume: Option<(Checkpoint, Ledger)>,
    state: &Option<PathBuf>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Mirrored, Error> {
    let (mut tree, mut ledger) = match (resume, state) {
        (Some((old, ledger)), Some(dir)) if ledger.size == old.size => {
            let leaves = std::fs::read(dir.join("leaves.bin")).unwrap_or_default();
            let tree = Tree::from_leaves(leaves.chunks_exact(32).map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            }));
            if tree.size() == old.size && tree.root() == old.root && tree.root_at(old.size).is_ok()
            {
                (tree, ledger)
            } else {
                (Tree::new(), Ledger::new(election))
            }
        }
        _ => (Tree::new(), Ledger::new(election)),
    };
    // A resumed tree must extend to this checkpoint; if the earlier state
    // is not a prefix of this log, start afresh (the fork is reported by
    // the continuity check, from the signed checkpoints).
    let from = tree.size();
    let bundles: Vec<Tile> = Tile::entry_bundles(cp.size)
        .into_iter()
        .filter(|t| t.first() + u64::from(t.width) > from)
        .collect();
    let total = bundles.len() as u64;
    // Stage 1: fetch bundles and open their entries, IN_FLIGHT at a time,
    // the opening (signatures, formats, leaf hashes) on every core.
    let (tx, mut rx) = tokio::sync::mpsc::channel(IN_FLIGHT);
    {
        let (source, record) = (source.clone(), record.map(Path::to_path_buf));
        let (bundles, election) = (bundles.clone(), election.clone());
        tokio::spawn(async move {
            let mut queue = std::collections::VecDeque::new();
            let mut it = bundles.into_iter();
            loop {
                while queue.len() < IN_FLIGHT {
                    let Some(t) = it.next() else { break };
                    let (s, r, e) = (source.clone(), record.clone(), election.clone());
                    queue.push_back(tokio::spawn(async move {
                        let b = s.get(&format!("/log/{}", t.path()), r.as_deref()).await?;
                        let opened =
                            tokio::task::spawn_blocking(move || open_bundle(&e, t, from, b))
                                .await
                                .map_err(|e| Error::Http {
                                    url: t.path(),
                                    what: e.to_string(),
                                })??;
                        Ok::<_, Error>((t, opened))
                    }));
                }
                let Some(h) = queue.pop_front() else { break };
                let Ok(got) = h.await else { break };
                if tx.send(got).await.is_err() {
                    break;
                }
            }
        });
    }
    // Stage 2: the center's statuses, page by page, ahead of the fold.
    let (stx, mut srx) =
        tokio::sync::mpsc::channel::<Result<Option<Vec<acta_api::LoggedEntry>>, Error>>(4);
    {
        let (source, record) = (source.clone(), record.map(Path::to_path_buf));
        let size = cp.size;
        let mut next = from - from % acta_api::MAX_PAGE;
        tokio::spawn(async move {
            while next < size {
                let to = (next + acta_api::MAX_PAGE).min(size);
                let page = source
                    .json_opt::<Vec<acta_api::LoggedEntry>>(
                        &format!("{}?start={next}&end={to}&notes=false", acta_api::ENTRIES),
                        record.as_deref(),
                    )
                    .await;
                let stop = !matches!(page, Ok(Some(_)));
                if stx.send(page).await.is_err() || stop {
                    break;
                }
                next = to;
            }
        });
    }
    // Stage 3: fold in log order.
    let mut statuses: std::collections::VecDeque<acta_api::LoggedEntry> = Default::default();
    let mut published = true;
    let mut next_status = from - from % acta_api::MAX_PAGE;
    let mut done = 0u64;
    while let Some(got) = rx.recv().await {
        let (t, (bytes, opened)) = got?;
        let entries = acta_tlog::tile::read_bundle(&bytes, t.width)?;
        let first = t.first();
        let skip = from.saturating_sub(first) as usize;
        let notes = &entries[skip.min(entries.len())..];
        let end = first + entries.len() as u64;
        while published && next_status < end.min(cp.size) {
            let to = (next_status + acta_api::MAX_PAGE).min(cp.size);
            let Some(page) = srx.recv().await.transpose()?.flatten() else {
                published = false;
                break;
            };
            if page
                .iter()
                .enumerate()
                .any(|(k, e)| e.index != next_status + k as u64)
                || page.is_empty()
            {
                return Err(Error::Http {
                    url: source.name(),
                    what: format!(
                        "entry statuses stop or skip at {next_status} of {}",
                        cp.size
                    ),
                });
            }
            statuses.extend(page);
            next_status = to;
        }
        for (note, (leaf, opened)) in notes.iter().zip(opened) {
            let i = tree.append(leaf);
            while statuses.front().is_some_and(|e| e.index < i) {
                statuses.pop_front();
            }
            let claimed = statuses.front().filter(|e| e.index == i).map(|e| e.status);
            ledger.apply(election, note, opened, claimed);
        }
        done += 1;
        progress(Progress {
            phase: "mirroring and verifying the log",
            done,
            total,
        });
    }
    if tree.size() != cp.size {
        return Err(Error::Http {
            url: source.name(),
            what: format!(
                "the entry bundles hold {} entries, the checkpoint {}",
                tree.size(),
                cp.size
            ),
        });
    }
    // Every hash tile the center serves must be the one the entries make.
    let tiles = Tile::hash_tiles(cp.size);
    let mut count = total;
    let mut queue = std::collections::VecDeque::new();
    let mut it = tiles.iter().copied();
    let mut k = 0u64;
    loop {
        while queue.len() < IN_FLIGHT {
            let Some(t) = it.next() else { break };
            let (s, r) = (source.clone(), record.map(Path::to_path_buf));
            queue.push_back(tokio::spawn(async move {
                (t, s.get(&format!("/log/{}", t.path()), r.as_deref()).await)
            }));
        }
        let Some(h) = queue.pop_front() else { break };
        let (t, served) = h.await.map_err(|e| Error::Http {
            url: source.name(),
            what: e.to_string(),
        })?;
        let served = served?;
        count += 1;
        k += 1;
        if tree.tile(&t).as_deref() != Some(served.as_slice()) {
            return Err(Error::Http {
                url: source.name(),
                what: format!(
                    "hash tile {} does not hash from the entries of the log",
                    t.path()
                ),
            });
        }
        progress(Progress {
            phase: "checking the hash tiles",
            done: k,
            total: tiles.len() as u64,
        });
    }
    Ok(Mirrored {
        tree,
        ledger,
        tiles: count,
        statuses: published,
        new: cp.size - from,
    })
}

/// Reads the paper actas (PNG photos of printed actas, or signed notes) and
/// receipts, and checks them against the log.
fn check_paper(
    election: &Election,
    ledger: &Ledger,
    opts: &Options,
    record: Option<&Path>,
    root_at: &dyn Fn(u64) -> Option<[u8; 32]>,
) -> Result<(Vec<acta_verify::PaperCheck>, Vec<Finding>), Error> {
    let mut checks = Vec::new();
    let mut findings = Vec::new();
    let mut by_table = std::collections::BTreeMap::new();
    for f in &opts.paper {
        let bytes = std::fs::read(f).map_err(|e| input(f, e))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(dir) = record {
            keep(dir, "paper", &name, &bytes)?;
        }
        let signed = read_paper(&bytes);
        let signed = match signed {
            Ok(s) => s,
            Err(what) => {
                checks.push(acta_verify::PaperCheck {
                    source: name,
                    table: String::new(),
                    status: acta_verify::PaperStatus::NotAuthentic,
                    detail: what,
                });
                continue;
            }
        };
        let (c, finding) = paper::acta(election, ledger, &name, &signed);
        if !c.table.is_empty() {
            by_table.insert(c.table.clone(), signed);
        }
        checks.push(c);
        findings.extend(finding);
    }
    for f in &opts.receipts {
        let text = std::fs::read_to_string(f).map_err(|e| input(f, e))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(dir) = record {
            keep(dir, "receipts", &name, text.as_bytes())?;
        }
        let table = name.split(".acta.").next().unwrap_or_default();
        let Some(signed) = by_table.get(table) else {
            return Err(input(
                f,
                format!("no paper acta of table {table} was given to check this receipt with"),
            ));
        };
        let (c, finding) = paper::receipt(election, &name, signed, &text, ledger.size, root_at);
        checks.push(c);
        findings.extend(finding);
    }
    Ok((checks, findings))
}

/// Keeps a paper acta or receipt in a bundle under `sub/`, in the order
/// given (`sub/order.txt`, one file name a line); a name given twice is
/// kept under a numbered name.
fn keep(dir: &Path, sub: &str, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let d = dir.join(sub);
    std::fs::create_dir_all(&d)?;
    let order = d.join("order.txt");
    let listed = read_opt(&order)?.unwrap_or_default();
    let mut file = name.to_string();
    let mut k = 1;
    while file == "order.txt" || listed.lines().any(|l| l == file) {
        k += 1;
        file = format!("{k}-{name}");
    }
    std::fs::write(d.join(&file), bytes)?;
    std::fs::write(order, format!("{listed}{file}\n"))?;
    Ok(())
}

/// A paper acta as given: a PNG of the printed acta (its QR parts decoded
/// from the image), the signed note itself, or the QR parts' text one per
/// line.
fn read_paper(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.starts_with(b"\x89PNG") {
        return acta_sheet::qr::read_pngs(&[bytes.to_vec()])
            .map_err(|e| format!("the QR codes of this image do not make an acta: {e}"));
    }
    if acta_sheet::EntryKind::of(bytes).is_some() {
        return Ok(bytes.to_vec());
    }
    let parts: Vec<Vec<u8>> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    acta_sheet::qr::join(&parts).map_err(|e| format!("neither a signed acta nor its QR parts: {e}"))
}

/// Records the observer's own checkpoint for other observers: the signed
/// checkpoint it last verified, as a file they can be given.
pub fn state_checkpoint(state: &Path) -> Option<String> {
    read_opt(&state.join("checkpoint.note")).ok().flatten()
}
