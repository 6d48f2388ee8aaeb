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

use acta_election::{Election, Trust};
use acta_sheet::Acta;
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

/// A discrepancy, with what each side says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind: `table-figure`, `area-figure`, `announcement-figure`,
    /// `conflicting-actas`, `invalid-log-entry`, `log-root`, `inclusion-proof`,
    /// `consistency-proof`, `missing-table`, `phantom-table`.
    pub kind: String,
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
            *m.entry("(blank)".into()).or_default() += c.blank as u64;
            *m.entry("(null)".into()).or_default() += c.null as u64;
        }
    }
}

/// The verdict and everything behind it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// `consistent` or `discrepancies`.
    pub verdict: String,
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
    /// Every discrepancy.
    pub findings: Vec<Finding>,
}

#[derive(Deserialize)]
struct Entry {
    index: u64,
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
    registered: u64,
    authenticated: u64,
    ballots: u64,
    contests: Vec<CenterContest>,
}

#[derive(Deserialize)]
struct CenterContest {
    contest: String,
    votes: Vec<(String, u64)>,
    blank: u64,
    null: u64,
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
        }
    }
    let tree = Tree::from_leaves(entries.iter().map(|a| acta_tlog::leaf_hash(a.as_bytes())));
    if tree.root() != cp.root {
        findings.push(Finding {
            kind: "log-root".into(),
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
                kind: "inclusion-proof".into(),
                place: format!("log entry {i}"),
                figure: "inclusion proof".into(),
                center: "served a proof".into(),
                machines: "proof does not reach the signed root".into(),
                evidence: "checkpoint.note".into(),
            });
        }
        proofs += 1;
    }

    // Verify and re-add every acta; the first per table counts.
    progress("verifying signatures and re-adding every acta");
    let mut counted: BTreeMap<String, (u64, Acta, String)> = BTreeMap::new();
    let mut prefix_sums: Vec<Sums> = Vec::new();
    let mut running = Sums::default();
    let mut verified = 0u64;
    for (i, signed) in entries.iter().enumerate() {
        match Acta::open(signed.as_bytes(), &election) {
            Ok(o) => {
                verified += 1;
                if let Some((first, prev, prev_signed)) = counted.get(&o.acta.table) {
                    findings.push(Finding {
                        kind: "conflicting-actas".into(),
                        place: o.acta.table.clone(),
                        figure: "acta".into(),
                        center: format!("counts log entry {first} (security code {})", acta_sheet::security_code(prev_signed.as_bytes())),
                        machines: format!(
                            "machine {} also signed log entry {i} (security code {}): ballots {} vs {}",
                            o.acta.machine,
                            acta_sheet::security_code(signed.as_bytes()),
                            prev.ballots,
                            o.acta.ballots
                        ),
                        evidence: format!("acta-{first}.note, acta-{i}.note"),
                    });
                    save.push((format!("acta-{first}.note"), prev_signed.clone()));
                    save.push((format!("acta-{i}.note"), signed.clone()));
                } else {
                    running.add(&o.acta);
                    counted.insert(o.acta.table.clone(), (i as u64, o.acta, signed.clone()));
                }
            }
            Err(e) => findings.push(Finding {
                kind: "invalid-log-entry".into(),
                place: format!("log entry {i}"),
                figure: "signature and format".into(),
                center: "logged it".into(),
                machines: e.to_string(),
                evidence: format!("acta-{i}.note"),
            }),
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
                kind: "phantom-table".into(),
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
                kind: "table-figure".into(),
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
                kind: "missing-table".into(),
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
    compare_totals("country", "results", &national, &running, &mut findings);
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
            &mut findings,
        );
    }

    // The signed announcement, at its own checkpoint.
    progress("checking the signed announcement");
    let ann_note = client.text("/api/announcement").await?;
    save.push(("announcement.note".into(), ann_note.clone()));
    match acta_note::open(ann_note.as_bytes(), &center_key)
        .map_err(|e| e.to_string())
        .and_then(parse_announcement)
    {
        Ok((size, root, totals)) => {
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
                    kind: "announcement-ahead".into(),
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
                compare_totals("country", "announcement", &totals, &at, &mut findings);
            }
        }
        Err(e) => findings.push(Finding {
            kind: "announcement".into(),
            place: "country".into(),
            figure: "signature and format".into(),
            center: "published it".into(),
            machines: e,
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
            "consistent"
        } else {
            "discrepancies"
        }
        .into(),
        election: election.id.clone(),
        log_size: cp.size,
        log_root: B64.encode(cp.root),
        tables_total: election.tables.len() as u64,
        tables_reported: counted.len() as u64,
        actas_verified: verified,
        proofs_verified: proofs,
        sums: running,
        findings,
    })
}

fn consistency_finding(old: u64, new: u64) -> Finding {
    Finding {
        kind: "consistency-proof".into(),
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
    findings: &mut Vec<Finding>,
) {
    let evidence = if source == "announcement" {
        "announcement.note (signed by the center)".to_string()
    } else {
        format!("center {source} endpoint vs the signed actas in the log")
    };
    let kind = if source == "announcement" {
        "announcement-figure"
    } else {
        "area-figure"
    };
    let mut push = |figure: String, center: u64, machines: u64| {
        if center != machines {
            findings.push(Finding {
                kind: kind.into(),
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
            cm.insert("(blank)".into(), t.blank);
            cm.insert("(null)".into(), t.null);
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
    }
}

/// Parses `acta-announcement/v1` into (checkpoint size, root, totals).
fn parse_announcement(text: &str) -> Result<(u64, Hash, CenterTotals), String> {
    let mut lines = text.lines();
    let mut next = |key: &str| -> Result<Vec<String>, String> {
        let l = lines
            .next()
            .ok_or(format!("announcement ends before '{key}'"))?;
        let mut p = l.split(' ');
        if p.next() != Some(key) {
            return Err(format!("announcement: expected '{key}', found '{l}'"));
        }
        Ok(p.map(str::to_string).collect())
    };
    next("acta-announcement/v1")?;
    next("election")?;
    let cp = next("checkpoint")?;
    let num = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("announcement: bad number '{s}'"))
    };
    if cp.len() != 3 {
        return Err("announcement: bad checkpoint line".into());
    }
    let size = num(&cp[1])?;
    let root: Hash = B64
        .decode(&cp[2])
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or("announcement: bad root")?;
    let tables = next("tables")?;
    let mut t = CenterTotals {
        tables_reported: num(tables.first().ok_or("announcement: bad tables line")?)?,
        registered: num(&next("registered")?.concat())?,
        authenticated: num(&next("authenticated")?.concat())?,
        ballots: num(&next("ballots")?.concat())?,
        contests: Vec::new(),
    };
    let rest: Vec<&str> = lines.collect();
    let mut i = 0;
    while i < rest.len() {
        let id = rest[i].strip_prefix("contest ").ok_or(format!(
            "announcement: expected 'contest', found '{}'",
            rest[i]
        ))?;
        let mut c = CenterContest {
            contest: id.to_string(),
            votes: vec![],
            blank: 0,
            null: 0,
        };
        i += 1;
        while i < rest.len() && rest[i].starts_with("votes ") {
            let p: Vec<&str> = rest[i].split(' ').collect();
            if p.len() != 3 {
                return Err(format!("announcement: bad line '{}'", rest[i]));
            }
            c.votes.push((p[1].to_string(), num(p[2])?));
            i += 1;
        }
        c.blank = num(rest
            .get(i)
            .and_then(|l| l.strip_prefix("blank "))
            .ok_or("announcement: expected 'blank'")?)?;
        c.null = num(rest
            .get(i + 1)
            .and_then(|l| l.strip_prefix("null "))
            .ok_or("announcement: expected 'null'")?)?;
        i += 2;
        t.contests.push(c);
    }
    Ok((size, root, t))
}
