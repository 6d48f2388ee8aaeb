//! The independent observer (SYSTEM.md §10): it trusts only the authority and
//! auditor keys it was given, mirrors what the center publishes over HTTP,
//! checks every signature, certificate and proof, re-adds every acta itself —
//! sharing no code with the center's SQL totals — and compares its sums with
//! every figure the center publishes and signs. Each finding names the table
//! or area, the figure, both values, and the signed evidence behind them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::path::Path;

use acta_election::{Election, Trust, BLANK, NULL};
use acta_sheet::{Acta, Announcement, Content, EntryKind, Tally};
use acta_tlog::{Checkpoint, Tree};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

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
    /// The election package fails the trust quorum or is malformed.
    #[error("election package: {0}")]
    Package(#[from] acta_election::Error),
    /// The log's checkpoint is not signed by the center key of the package.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] acta_tlog::Error),
    /// Writing evidence failed.
    #[error("evidence directory: {0}")]
    Io(#[from] std::io::Error),
}

/// What kind of discrepancy a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FindingKind {
    /// A table's figure in the center's results differs from its signed acta.
    TableFigure,
    /// An area's published total differs from the sum of the signed actas.
    AreaFigure,
    /// A figure of the signed announcement differs from the sum of the
    /// signed actas in its checkpoint.
    AnnouncementFigure,
    /// The signed announcement is malformed, not signed by the center, or
    /// not about this election and log.
    Announcement,
    /// A table's certified machine signed two different actas.
    ConflictingActas,
    /// The center logged the same acta body twice.
    RepeatedActa,
    /// A log entry is not an authentic acta.
    InvalidLogEntry,
    /// The center says an entry is counted, held or a conflict, and the
    /// acta says otherwise.
    EntryStatus,
    /// The signed root does not match the entries served.
    LogRoot,
    /// The public checkpoint lacks the witness cosignatures the package requires.
    Cosignatures,
    /// The log at an earlier checkpoint is not a prefix of the log now.
    ConsistencyProof,
    /// A table with a countable acta in the log is not in the center's results.
    MissingTable,
    /// The center counts a table with no countable acta in the log.
    PhantomTable,
}

/// The observer's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Verdict {
    /// Everything the center published is what the signed actas say.
    Consistent,
    /// At least one finding.
    Discrepancies,
}

/// An authentic acta that cannot be counted, as the observer judges it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldActa {
    /// Table id.
    pub table: String,
    /// Log index.
    pub index: u64,
    /// Why, one line per reason.
    pub reasons: Vec<String>,
}

/// A discrepancy, with what each side says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of discrepancy.
    pub kind: FindingKind,
    /// The table id or area (`country` for the whole country).
    pub place: String,
    /// Which figure.
    pub figure: String,
    /// What the center says.
    pub center: String,
    /// What the signed actas say.
    pub machines: String,
    /// Where the proof is: log indices, signed notes saved as evidence.
    pub evidence: String,
}

/// Totals of one contest as re-added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sums {
    /// Tables counted.
    pub tables: u64,
    /// Registered voters at those tables.
    pub registered: u64,
    /// Authenticated voters.
    pub authenticated: u64,
    /// Ballots.
    pub ballots: u64,
    /// contest → choice (or `(blank)`, `(null)`) → votes.
    pub votes: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Sums {
    fn add(&mut self, a: &Acta) {
        self.tables += 1;
        self.registered += a.registered as u64;
        self.authenticated += a.authenticated as u64;
        self.ballots += a.ballots as u64;
        for c in &a.contests {
            let m = self.votes.entry(c.contest.clone()).or_default();
            for (ch, n) in &c.votes {
                *m.entry(ch.clone()).or_default() += *n as u64;
            }
            *m.entry(BLANK.into()).or_default() += c.blank as u64;
            *m.entry(NULL.into()).or_default() += c.null as u64;
        }
    }
}

/// The verdict and everything behind it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Consistent, or discrepancies found.
    pub verdict: Verdict,
    /// Election id.
    pub election: String,
    /// Log size verified.
    pub log_size: u64,
    /// Log root verified (base64).
    pub log_root: String,
    /// Tables in the election.
    pub tables_total: u64,
    /// Tables with a counted acta.
    pub tables_reported: u64,
    /// Signed actas verified.
    pub actas_verified: u64,
    /// Tiles and entry bundles verified against the signed root.
    pub proofs_verified: u64,
    /// Log index of the latest announcement compared, if the log has one.
    pub announced: Option<u64>,
    /// National sums re-added from the actas.
    pub sums: Sums,
    /// Authentic actas that cannot be counted (listed, not counted).
    pub held: Vec<HeldActa>,
    /// Every discrepancy.
    pub findings: Vec<Finding>,
}

/// The center's figures in the shape the comparison needs.
struct CenterTotals {
    tables_reported: u64,
    held: u64,
    registered: u64,
    authenticated: u64,
    ballots: u64,
    contests: Vec<Tally>,
}

impl From<&Announcement> for CenterTotals {
    fn from(a: &Announcement) -> Self {
        CenterTotals {
            tables_reported: a.tables_reported,
            held: a.held,
            registered: a.registered,
            authenticated: a.authenticated,
            ballots: a.ballots,
            contests: a.contests.clone(),
        }
    }
}

impl From<acta_api::Totals> for CenterTotals {
    fn from(t: acta_api::Totals) -> Self {
        CenterTotals {
            tables_reported: t.tables_reported,
            held: t.held,
            registered: t.registered,
            authenticated: t.authenticated,
            ballots: t.ballots,
            contests: t.contests,
        }
    }
}

fn http(e: acta_api::ClientError) -> Error {
    Error::Http {
        url: String::new(),
        what: e.to_string(),
    }
}

/// The log as mirrored from the tiles and checked against the checkpoint.
struct Mirror {
    checkpoint_note: String,
    checkpoint: Checkpoint,
    tree: Tree,
    entries: Vec<String>,
    statuses: Vec<acta_api::LoggedEntry>,
    tiles: u64,
}

/// Mirrors the log from its tiles (C2SP tlog-tiles): the level-0 tiles must
/// rebuild the checkpoint's root, every higher tile must hash from them,
/// and every entry must hash to its leaf. Then the center's statement of
/// what became of each entry, page by page.
async fn mirror(
    client: &acta_api::Client,
    election: &Election,
    findings: &mut Vec<Finding>,
    progress: &dyn Fn(&str),
) -> Result<Mirror, Error> {
    let center_key: acta_note::Verifier = election
        .center_key
        .parse()
        .map_err(acta_tlog::Error::from)?;
    progress("fetching the signed checkpoint");
    let checkpoint_note = client.checkpoint().await.map_err(http)?;
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
            url: client.base().into(),
            what: format!(
                "the signed checkpoint claims {} entries; an election of {} tables cannot have more than {most}: checkpoint.note is evidence against the center",
                cp.size,
                election.tables.len()
            ),
        });
    }
    let witnesses: Vec<_> = election
        .witness_keys()?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let note =
        acta_note::Note::parse(checkpoint_note.as_bytes()).map_err(acta_tlog::Error::from)?;
    let by =
        acta_note::cosignature::cosigners(&note, &witnesses).map_err(acta_tlog::Error::from)?;
    if by.len() < election.witness_quorum as usize {
        findings.push(Finding {
            kind: FindingKind::Cosignatures,
            place: "log".into(),
            figure: format!("witness cosignatures on checkpoint {}", cp.size),
            center: by.len().to_string(),
            machines: format!("{} required by the package", election.witness_quorum),
            evidence: "checkpoint.note".into(),
        });
    }
    let (mut l0, mut hi) = (Vec::new(), Vec::new());
    let tiles = acta_tlog::Tile::hash_tiles(cp.size);
    for (k, t) in tiles.iter().enumerate() {
        if k % 64 == 0 {
            progress(&format!("mirroring hash tiles {k}/{}", tiles.len()));
        }
        let b = client.tile(t).await.map_err(http)?;
        if t.level == acta_tlog::TileLevel::Hashes(0) {
            l0.push((*t, b));
        } else {
            hi.push((*t, b));
        }
    }
    let mut count = tiles.len() as u64;
    let tree = match acta_tlog::tile::tree_from_tiles(
        cp.size,
        &cp.root,
        l0.iter().map(|(t, b)| (*t, b.as_slice())),
        hi.iter().map(|(t, b)| (*t, b.as_slice())),
    ) {
        Ok(t) => t,
        Err(e) => {
            findings.push(Finding {
                kind: FindingKind::LogRoot,
                place: "log".into(),
                figure: format!("tiles at size {}", cp.size),
                center: B64.encode(cp.root),
                machines: e.to_string(),
                evidence: "checkpoint.note: the signed root does not match the tiles served".into(),
            });
            return Err(Error::Http {
                url: client.base().into(),
                what: format!("the tiles do not match the signed checkpoint: {e}"),
            });
        }
    };
    let mut entries: Vec<String> = Vec::with_capacity(cp.size as usize);
    let bundles = acta_tlog::Tile::entry_bundles(cp.size);
    for (k, t) in bundles.iter().enumerate() {
        if k % 16 == 0 {
            progress(&format!("mirroring entry bundles {k}/{}", bundles.len()));
        }
        let b = client.tile(t).await.map_err(http)?;
        count += 1;
        let bad = |what: String| Error::Http {
            url: format!("{}/log/{}", client.base(), t.path()),
            what,
        };
        for e in acta_tlog::tile::read_bundle(&b, t.width)? {
            let i = entries.len() as u64;
            if tree.leaf(i) != Some(&acta_tlog::leaf_hash(e)) {
                findings.push(Finding {
                    kind: FindingKind::LogRoot,
                    place: format!("log entry {i}"),
                    figure: "entry".into(),
                    center: "served an entry".into(),
                    machines: "it does not hash to the leaf under the signed root".into(),
                    evidence: "checkpoint.note".into(),
                });
            }
            entries.push(
                String::from_utf8(e.to_vec())
                    .map_err(|_| bad(format!("entry {i} is not UTF-8")))?,
            );
        }
    }
    let mut statuses = Vec::with_capacity(cp.size as usize);
    while (statuses.len() as u64) < cp.size {
        let start = statuses.len() as u64;
        let page = client
            .entries(start, (start + acta_api::MAX_PAGE).min(cp.size))
            .await
            .map_err(http)?;
        if page.is_empty()
            || page
                .iter()
                .enumerate()
                .any(|(k, e)| e.index != start + k as u64)
        {
            return Err(Error::Http {
                url: client.base().into(),
                what: format!("entry statuses stop or skip at {start} of {}", cp.size),
            });
        }
        statuses.extend(page);
    }
    statuses.truncate(cp.size as usize);
    Ok(Mirror {
        checkpoint_note,
        checkpoint: cp,
        tree,
        entries,
        statuses,
        tiles: count,
    })
}

/// Observes the center at `url`, trusting `trust` for the package. If
/// `evidence` is given, signed notes behind the findings are saved there.
/// `progress` is told what is happening, for long mirrors.
pub async fn observe(
    url: &str,
    trust: &Trust,
    evidence: Option<&Path>,
    progress: &dyn Fn(&str),
) -> Result<Report, Error> {
    let client = acta_api::Client::new(url);
    progress("fetching the election package");
    let package = client.text(acta_api::ELECTION).await.map_err(http)?;
    let election = Election::open(package.as_bytes(), trust)?;
    let mut findings = Vec::new();
    let m = mirror(&client, &election, &mut findings, progress).await?;
    let cp = m.checkpoint.clone();
    let mut save: Vec<(String, String)> =
        vec![("checkpoint.note".into(), m.checkpoint_note.clone())];

    // The latest announcement in the log, and the size it speaks for.
    let last_announcement = m
        .entries
        .iter()
        .enumerate()
        .rev()
        .find(|(_, e)| EntryKind::of(e.as_bytes()) == Some(EntryKind::Announcement))
        .map(|(i, e)| (i as u64, e.clone()));
    let announced_size = last_announcement
        .as_ref()
        .and_then(|(_, e)| Announcement::open(e.as_bytes(), &election).ok())
        .map(|a| a.checkpoint.size);

    // Open and re-add every entry. The first acta of a table counts if its
    // figures can be, and is held if not; a later different body is a
    // conflict; a repeated body should never have been logged. The same for
    // zero reports, which are logged, not counted.
    progress("verifying signatures and re-adding every acta");
    let mut counted: BTreeMap<String, (u64, Acta, String)> = BTreeMap::new();
    let mut first_of: BTreeMap<(EntryKind, String), (u64, [u8; 32], String)> = BTreeMap::new();
    let mut held: Vec<HeldActa> = Vec::new();
    let mut running = Sums::default();
    let mut at_announcement = if announced_size == Some(0) {
        Some((Sums::default(), 0u64))
    } else {
        None
    };
    let mut verified = 0u64;
    for (i, signed) in m.entries.iter().enumerate() {
        let claimed = &m.statuses[i];
        let mut judged: Option<acta_api::Status> = None;
        match acta_sheet::Entry::open(signed.as_bytes(), &election) {
            Ok(e) => {
                verified += 1;
                let kind = e.kind();
                let table = e.table().unwrap_or_default().to_string();
                let key = (kind, table.clone());
                if kind == EntryKind::Announcement {
                    judged = Some(acta_api::Status::Logged);
                } else if let Some((first, body, first_signed)) = first_of.get(&key) {
                    judged = Some(acta_api::Status::Conflict);
                    if *body == e.body_hash {
                        findings.push(Finding {
                            kind: FindingKind::RepeatedActa,
                            place: table.clone(),
                            figure: kind.as_str().into(),
                            center: format!(
                                "logged the note of log entry {first} again at entry {i}"
                            ),
                            machines: "one note, one log entry".into(),
                            evidence: format!("entry-{first}.note, entry-{i}.note"),
                        });
                    } else {
                        findings.push(Finding {
                            kind: FindingKind::ConflictingActas,
                            place: table.clone(),
                            figure: kind.as_str().into(),
                            center: format!(
                                "first at log entry {first} (security code {})",
                                acta_sheet::security_code(first_signed.as_bytes())
                            ),
                            machines: format!(
                                "the table's machine also signed a different one, log entry {i} (security code {})",
                                acta_sheet::security_code(signed.as_bytes()),
                            ),
                            evidence: format!("entry-{first}.note, entry-{i}.note"),
                        });
                    }
                    save.push((format!("entry-{first}.note"), first_signed.clone()));
                    save.push((format!("entry-{i}.note"), signed.clone()));
                } else {
                    first_of.insert(key, (i as u64, e.body_hash, signed.clone()));
                    judged = Some(match e.content {
                        Content::Acta { acta, holds } if holds.is_empty() => {
                            running.add(&acta);
                            counted.insert(table, (i as u64, acta, signed.clone()));
                            acta_api::Status::Counted
                        }
                        Content::Acta { holds, .. } => {
                            held.push(HeldActa {
                                table,
                                index: i as u64,
                                reasons: holds.iter().map(|h| h.to_string()).collect(),
                            });
                            acta_api::Status::Held
                        }
                        _ => acta_api::Status::Logged,
                    });
                }
            }
            Err(e) => {
                findings.push(Finding {
                    kind: FindingKind::InvalidLogEntry,
                    place: format!("log entry {i}"),
                    figure: "signature and format".into(),
                    center: "logged it".into(),
                    machines: e.to_string(),
                    evidence: format!("entry-{i}.note"),
                });
                save.push((format!("entry-{i}.note"), signed.clone()));
            }
        }
        if let Some(expected) = judged {
            if claimed.status != expected {
                findings.push(Finding {
                    kind: FindingKind::EntryStatus,
                    place: format!("log entry {i}"),
                    figure: "status".into(),
                    center: claimed.status.as_str().to_string(),
                    machines: expected.as_str().to_string(),
                    evidence: format!("entry-{i}.note"),
                });
                save.push((format!("entry-{i}.note"), signed.clone()));
            }
        }
        if announced_size == Some(i as u64 + 1) {
            at_announcement = Some((running.clone(), held.len() as u64));
        }
    }

    // The per-table figures behind the center's totals.
    progress("comparing the center's per-table figures");
    let center_tables: Vec<acta_api::TableResult> =
        client.json(acta_api::RESULTS_TABLES).await.map_err(http)?;
    let mut seen = std::collections::BTreeSet::new();
    for ct in &center_tables {
        seen.insert(ct.table.clone());
        let Some((index, acta, signed)) = counted.get(&ct.table) else {
            findings.push(Finding {
                kind: FindingKind::PhantomTable,
                place: ct.table.clone(),
                figure: "acta".into(),
                center: format!("counts ballots {}", ct.ballots),
                machines: "no valid signed acta in the log".into(),
                evidence: "checkpoint.note".into(),
            });
            continue;
        };
        let mut mine = Sums::default();
        mine.add(acta);
        let mut diffs = Vec::new();
        for (fig, c, m) in [
            ("registered", ct.registered, mine.registered),
            ("authenticated", ct.authenticated, mine.authenticated),
            ("ballots", ct.ballots, mine.ballots),
        ] {
            if c != m {
                diffs.push((fig.to_string(), c.to_string(), m.to_string()));
            }
        }
        if ct.votes != mine.votes {
            diffs.push((
                "votes".into(),
                format!("{:?}", ct.votes),
                format!("{:?}", mine.votes),
            ));
        }
        if ct.index != *index {
            diffs.push((
                "counted acta".into(),
                format!("log entry {}", ct.index),
                format!("log entry {index}"),
            ));
        }
        for (figure, center, machines) in diffs {
            findings.push(Finding {
                kind: FindingKind::TableFigure,
                place: ct.table.clone(),
                figure,
                center,
                machines,
                evidence: format!("entry-{index}.note (signed by machine {})", acta.machine),
            });
            save.push((format!("entry-{index}.note"), signed.clone()));
        }
    }
    for (table, (index, _, _)) in &counted {
        if !seen.contains(table) {
            findings.push(Finding {
                kind: FindingKind::MissingTable,
                place: table.clone(),
                figure: "acta".into(),
                center: "does not count it".into(),
                machines: format!("signed acta at log entry {index}"),
                evidence: format!("entry-{index}.note"),
            });
        }
    }

    // The published totals, for the country and each state.
    progress("comparing published totals");
    let national: acta_api::Totals = client.json(acta_api::RESULTS).await.map_err(http)?;
    compare_totals(
        "country",
        "results",
        &national.into(),
        &running,
        &election,
        &mut findings,
    );
    for state in election.areas_at(acta_election::Level::State) {
        let t: acta_api::Totals = client
            .json(&format!("/api/results/area/{}", state.code))
            .await
            .map_err(http)?;
        let mut s = Sums::default();
        for (id, (_, a, _)) in &counted {
            if id.starts_with(&format!("{}.", state.code)) {
                s.add(a);
            }
        }
        compare_totals(
            &format!("state {}", state.code),
            "results",
            &t.into(),
            &s,
            &election,
            &mut findings,
        );
    }

    // The latest signed announcement in the log, at its own checkpoint.
    progress("checking the latest announcement");
    if let Some((index, note)) = &last_announcement {
        save.push(("announcement.note".into(), note.clone()));
        match Announcement::open(note.as_bytes(), &election) {
            Ok(ann) => {
                let (size, root) = (ann.checkpoint.size, ann.checkpoint.root);
                if size > *index || m.tree.root_at(size).ok() != Some(root) {
                    findings.push(consistency_finding(size, cp.size));
                } else {
                    let (sums, held_at) = at_announcement.clone().unwrap_or_default();
                    let totals = CenterTotals::from(&ann);
                    if totals.held != held_at {
                        findings.push(Finding {
                            kind: FindingKind::AnnouncementFigure,
                            place: "country".into(),
                            figure: format!(
                                "held actas (diff {:+})",
                                totals.held as i128 - held_at as i128
                            ),
                            center: totals.held.to_string(),
                            machines: held_at.to_string(),
                            evidence: "announcement.note (signed by the center)".into(),
                        });
                    }
                    compare_totals(
                        "country",
                        "announcement",
                        &totals,
                        &sums,
                        &election,
                        &mut findings,
                    );
                }
            }
            Err(e) => findings.push(Finding {
                kind: FindingKind::Announcement,
                place: "country".into(),
                figure: "signature and format".into(),
                center: "published it".into(),
                machines: e.to_string(),
                evidence: "announcement.note".into(),
            }),
        }
    }

    if let Some(dir) = evidence {
        std::fs::create_dir_all(dir)?;
        for (name, body) in &save {
            std::fs::write(dir.join(name), body)?;
        }
        std::fs::write(dir.join("package.note"), &package)?;
    }
    Ok(Report {
        verdict: if findings.is_empty() {
            Verdict::Consistent
        } else {
            Verdict::Discrepancies
        },
        election: election.id.clone(),
        log_size: cp.size,
        log_root: B64.encode(cp.root),
        tables_total: election.tables.len() as u64,
        tables_reported: counted.len() as u64,
        actas_verified: verified,
        proofs_verified: m.tiles,
        announced: last_announcement.map(|(i, _)| i),
        sums: running,
        held,
        findings,
    })
}

fn consistency_finding(old: u64, new: u64) -> Finding {
    Finding {
        kind: FindingKind::ConsistencyProof,
        place: "log".into(),
        figure: format!("announcement checkpoint {old} within log {new}"),
        center: "announced totals at this checkpoint".into(),
        machines:
            "the log at that size has another root, or the announcement precedes its own checkpoint"
                .into(),
        evidence: "announcement.note, checkpoint.note".into(),
    }
}

fn compare_totals(
    place: &str,
    source: &str,
    c: &CenterTotals,
    s: &Sums,
    election: &Election,
    findings: &mut Vec<Finding>,
) {
    let evidence = if source == "announcement" {
        "announcement.note (signed by the center)".to_string()
    } else {
        format!("center {source} endpoint vs the signed actas in the log")
    };
    let kind = if source == "announcement" {
        FindingKind::AnnouncementFigure
    } else {
        FindingKind::AreaFigure
    };
    let mut seat_findings = Vec::new();
    let mut push = |figure: String, center: u64, machines: u64| {
        if center != machines {
            findings.push(Finding {
                kind,
                place: place.into(),
                figure: format!("{figure} (diff {:+})", center as i128 - machines as i128),
                center: center.to_string(),
                machines: machines.to_string(),
                evidence: evidence.clone(),
            });
        }
    };
    push("tables".into(), c.tables_reported, s.tables);
    push("registered".into(), c.registered, s.registered);
    push("authenticated".into(), c.authenticated, s.authenticated);
    push("ballots".into(), c.ballots, s.ballots);
    let mut keys: std::collections::BTreeSet<String> = s.votes.keys().cloned().collect();
    keys.extend(c.contests.iter().map(|x| x.contest.clone()));
    for contest in keys {
        let theirs = c.contests.iter().find(|x| x.contest == contest);
        let mut cm: BTreeMap<String, u64> = BTreeMap::new();
        if let Some(t) = theirs {
            cm.extend(t.votes.iter().cloned());
            cm.insert(BLANK.into(), t.blank);
            cm.insert(NULL.into(), t.null);
        }
        let empty = BTreeMap::new();
        let mm = s.votes.get(&contest).unwrap_or(&empty);
        let mut choices: std::collections::BTreeSet<&String> = cm.keys().collect();
        choices.extend(mm.keys());
        for ch in choices {
            push(
                format!("{contest} {ch}"),
                cm.get(ch).copied().unwrap_or(0),
                mm.get(ch).copied().unwrap_or(0),
            );
        }
        // Winners, re-derived by the package's rules from the signed actas.
        if let (Some(def), Some(t)) = (election.contest(&contest), theirs) {
            let votes: Vec<(String, u64)> = def
                .choices()
                .into_iter()
                .map(|ch| {
                    let n = mm.get(&ch).copied().unwrap_or(0);
                    (ch, n)
                })
                .collect();
            let mine = acta_election::seats(def, &votes);
            if t.seats != mine {
                let show = |v: &[(String, u32)]| {
                    v.iter()
                        .map(|(c, n)| format!("{c}:{n}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                seat_findings.push(Finding {
                    kind,
                    place: place.into(),
                    figure: format!("{contest} seats"),
                    center: show(&t.seats),
                    machines: show(&mine),
                    evidence: evidence.clone(),
                });
            }
        }
    }
    findings.extend(seat_findings);
}
