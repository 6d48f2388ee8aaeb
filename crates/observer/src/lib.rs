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
use acta_sheet::{Acta, Announcement, Tally};
use acta_tlog::{Checkpoint, Hash, Tree};
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
    /// The announcement is at a checkpoint beyond the mirrored one.
    AnnouncementAhead,
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
    /// An inclusion proof does not reach the signed root.
    InclusionProof,
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
    /// Inclusion and consistency proofs verified.
    pub proofs_verified: u64,
    /// National sums re-added from the actas.
    pub sums: Sums,
    /// Authentic actas that cannot be counted (listed, not counted).
    pub held: Vec<HeldActa>,
    /// Every discrepancy.
    pub findings: Vec<Finding>,
}

#[derive(Deserialize)]
struct Entry {
    index: u64,
    status: String,
    acta: String,
}

#[derive(Deserialize)]
struct Proof {
    hashes: Vec<String>,
}

#[derive(Deserialize)]
struct CenterTable {
    table: String,
    index: u64,
    registered: u64,
    authenticated: u64,
    ballots: u64,
    votes: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Deserialize)]
struct CenterTotals {
    tables_reported: u64,
    #[serde(default)]
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

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn text(&self, path: &str) -> Result<String, Error> {
        let url = format!("{}{path}", self.base);
        let err = |what: String| Error::Http {
            url: url.clone(),
            what,
        };
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| err(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(err(format!("HTTP {}", resp.status())));
        }
        resp.text().await.map_err(|e| err(e.to_string()))
    }

    async fn json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, Error> {
        let body = self.text(path).await?;
        serde_json::from_str(&body).map_err(|e| Error::Http {
            url: format!("{}{path}", self.base),
            what: format!("unexpected JSON: {e}"),
        })
    }

    async fn proof(&self, path: &str) -> Result<Vec<Hash>, Error> {
        let p: Proof = self.json(path).await?;
        p.hashes
            .iter()
            .map(|h| B64.decode(h).ok().and_then(|v| v.try_into().ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or_else(|| Error::Http {
                url: path.into(),
                what: "proof hash is not 32 bytes of base64".into(),
            })
    }
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
    let client = Client {
        base: url.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
    };
    progress("fetching the election package");
    let package = client.text("/api/election").await?;
    let election = Election::open(package.as_bytes(), trust)?;
    let center_key: acta_note::Verifier = election
        .center_key
        .parse()
        .map_err(acta_tlog::Error::from)?;

    progress("fetching the signed checkpoint");
    let cp_note = client.text("/api/log/checkpoint").await?;
    let cp = Checkpoint::open(cp_note.as_bytes(), &center_key)?;
    if cp.origin != election.log_origin {
        return Err(Error::Checkpoint(acta_tlog::Error::BadCheckpoint {
            line: 1,
            what: "origin is not the package's log origin",
        }));
    }
    let mut findings = Vec::new();
    let mut save: Vec<(String, String)> = vec![("checkpoint.note".into(), cp_note.clone())];

    // Mirror every entry.
    let mut entries: Vec<String> = Vec::with_capacity(cp.size as usize);
    let mut statuses: Vec<String> = Vec::with_capacity(cp.size as usize);
    while (entries.len() as u64) < cp.size {
        let start = entries.len() as u64;
        progress(&format!(
            "mirroring log entries {start}..{} of {}",
            (start + 1000).min(cp.size),
            cp.size
        ));
        let page: Vec<Entry> = client
            .json(&format!("/api/log/entries?start={start}&end={}", cp.size))
            .await?;
        if page.is_empty() {
            return Err(Error::Http {
                url: url.into(),
                what: format!(
                    "log entries stop at {start} but the checkpoint says {}",
                    cp.size
                ),
            });
        }
        for e in page {
            if e.index != entries.len() as u64 {
                return Err(Error::Http {
                    url: url.into(),
                    what: format!("entry {} served out of order", e.index),
                });
            }
            entries.push(e.acta);
            statuses.push(e.status);
        }
    }
    let tree = Tree::from_leaves(entries.iter().map(|a| acta_tlog::leaf_hash(a.as_bytes())));
    if tree.root() != cp.root {
        findings.push(Finding {
            kind: FindingKind::LogRoot,
            place: "log".into(),
            figure: format!("root at size {}", cp.size),
            center: B64.encode(cp.root),
            machines: B64.encode(tree.root()),
            evidence: "checkpoint.note: the signed root does not match the entries served".into(),
        });
    }

    // Every inclusion proof, against the signed root.
    let mut proofs = 0u64;
    for (i, a) in entries.iter().enumerate() {
        if i % 500 == 0 {
            progress(&format!("verifying inclusion proofs {i}/{}", cp.size));
        }
        let p = client
            .proof(&format!(
                "/api/log/proof/inclusion?index={i}&size={}",
                cp.size
            ))
            .await?;
        if acta_tlog::verify_inclusion(
            i as u64,
            cp.size,
            &acta_tlog::leaf_hash(a.as_bytes()),
            &p,
            &cp.root,
        )
        .is_err()
        {
            findings.push(Finding {
                kind: FindingKind::InclusionProof,
                place: format!("log entry {i}"),
                figure: "inclusion proof".into(),
                center: "served a proof".into(),
                machines: "proof does not reach the signed root".into(),
                evidence: "checkpoint.note".into(),
            });
        }
        proofs += 1;
    }

    // Open and re-add every acta. The first acta of a table counts if its
    // figures can be, and is held if not; a later different body is a
    // conflict; a repeated body should never have been logged.
    progress("verifying signatures and re-adding every acta");
    let mut counted: BTreeMap<String, (u64, Acta, String)> = BTreeMap::new();
    let mut first_of: BTreeMap<String, (u64, [u8; 32], String)> = BTreeMap::new();
    let mut held: Vec<HeldActa> = Vec::new();
    let mut prefix_sums: Vec<Sums> = Vec::new();
    let mut running = Sums::default();
    let mut verified = 0u64;
    for (i, signed) in entries.iter().enumerate() {
        let status = statuses[i].as_str();
        let mut judged = "invalid";
        match Acta::open(signed.as_bytes(), &election) {
            Ok(o) => {
                verified += 1;
                let table = o.acta.table.clone();
                if let Some((first, body, first_signed)) = first_of.get(&table) {
                    if *body == o.body_hash {
                        judged = "repeated";
                        findings.push(Finding {
                            kind: FindingKind::RepeatedActa,
                            place: table.clone(),
                            figure: "acta".into(),
                            center: format!(
                                "logged the acta of log entry {first} again at entry {i}"
                            ),
                            machines: "one acta, one log entry".into(),
                            evidence: format!("acta-{first}.note, acta-{i}.note"),
                        });
                    } else {
                        judged = "conflict";
                        findings.push(Finding {
                            kind: FindingKind::ConflictingActas,
                            place: table.clone(),
                            figure: "acta".into(),
                            center: format!(
                                "first acta at log entry {first} (security code {})",
                                acta_sheet::security_code(first_signed.as_bytes())
                            ),
                            machines: format!(
                                "machine {} also signed a different acta, log entry {i} (security code {})",
                                o.acta.machine,
                                acta_sheet::security_code(signed.as_bytes()),
                            ),
                            evidence: format!("acta-{first}.note, acta-{i}.note"),
                        });
                    }
                    save.push((format!("acta-{first}.note"), first_signed.clone()));
                    save.push((format!("acta-{i}.note"), signed.clone()));
                } else {
                    first_of.insert(table.clone(), (i as u64, o.body_hash, signed.clone()));
                    if o.counts() {
                        judged = "counted";
                        running.add(&o.acta);
                        counted.insert(table, (i as u64, o.acta, signed.clone()));
                    } else {
                        judged = "held";
                        held.push(HeldActa {
                            table,
                            index: i as u64,
                            reasons: o.holds.iter().map(|h| h.to_string()).collect(),
                        });
                    }
                }
            }
            Err(e) => findings.push(Finding {
                kind: FindingKind::InvalidLogEntry,
                place: format!("log entry {i}"),
                figure: "signature and format".into(),
                center: "logged it".into(),
                machines: e.to_string(),
                evidence: format!("acta-{i}.note"),
            }),
        }
        let expected = match judged {
            "repeated" => "conflict",
            other => other,
        };
        if judged != "invalid" && status != expected {
            findings.push(Finding {
                kind: FindingKind::EntryStatus,
                place: format!("log entry {i}"),
                figure: "status".into(),
                center: status.to_string(),
                machines: expected.to_string(),
                evidence: format!("acta-{i}.note"),
            });
            save.push((format!("acta-{i}.note"), signed.clone()));
        }
        prefix_sums.push(running.clone());
    }

    // The per-table figures behind the center's totals.
    progress("comparing the center's per-table figures");
    let center_tables: Vec<CenterTable> = client.json("/api/results/tables").await?;
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
                evidence: format!("acta-{index}.note (signed by machine {})", acta.machine),
            });
            save.push((format!("acta-{index}.note"), signed.clone()));
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
                evidence: format!("acta-{index}.note"),
            });
        }
    }

    // The published totals, for the country and each state.
    progress("comparing published totals");
    let national: CenterTotals = client.json("/api/results").await?;
    compare_totals(
        "country",
        "results",
        &national,
        &running,
        &election,
        &mut findings,
    );
    for state in election.areas_at(acta_election::Level::State) {
        let t: CenterTotals = client
            .json(&format!("/api/results/area/{}", state.code))
            .await?;
        let mut s = Sums::default();
        for (id, (_, a, _)) in &counted {
            if id.starts_with(&format!("{}.", state.code)) {
                s.add(a);
            }
        }
        compare_totals(
            &format!("state {}", state.code),
            "results",
            &t,
            &s,
            &election,
            &mut findings,
        );
    }

    // The signed announcement, at its own checkpoint.
    progress("checking the signed announcement");
    let ann_note = client.text("/api/announcement").await?;
    save.push(("announcement.note".into(), ann_note.clone()));
    match Announcement::open(ann_note.as_bytes(), &election) {
        Ok(ann) => {
            let (size, root) = (ann.checkpoint.size, ann.checkpoint.root);
            let totals = CenterTotals::from(&ann);
            if size > cp.size {
                // Newer than our mirror: prove the mirror is a prefix of it.
                let p = client
                    .proof(&format!(
                        "/api/log/proof/consistency?old={}&new={size}",
                        cp.size
                    ))
                    .await?;
                if acta_tlog::verify_consistency(cp.size, size, &p, &cp.root, &root).is_err() {
                    findings.push(consistency_finding(cp.size, size));
                }
                proofs += 1;
                findings.push(Finding {
                    kind: FindingKind::AnnouncementAhead,
                    place: "country".into(),
                    figure: "checkpoint size".into(),
                    center: size.to_string(),
                    machines: format!("mirrored {}", cp.size),
                    evidence: "announcement.note: run the observer again to cover it".into(),
                });
            } else {
                let p = client
                    .proof(&format!(
                        "/api/log/proof/consistency?old={size}&new={}",
                        cp.size
                    ))
                    .await?;
                if acta_tlog::verify_consistency(size, cp.size, &p, &root, &cp.root).is_err()
                    || tree.root_at(size).ok() != Some(root)
                {
                    findings.push(consistency_finding(size, cp.size));
                }
                proofs += 1;
                let at = if size == 0 {
                    Sums::default()
                } else {
                    prefix_sums[size as usize - 1].clone()
                };
                let held_at = held.iter().filter(|h| h.index < size).count() as u64;
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
                    &at,
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
        proofs_verified: proofs,
        sums: running,
        held,
        findings,
    })
}

fn consistency_finding(old: u64, new: u64) -> Finding {
    Finding {
        kind: FindingKind::ConsistencyProof,
        place: "log".into(),
        figure: format!("consistency {old} -> {new}"),
        center: "served a proof".into(),
        machines: "the log at the announcement is not a prefix of the log now".into(),
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
