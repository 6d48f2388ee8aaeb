//! The fold of a mirrored log into what the observer needs to keep: one
//! compact record per table, never the entries themselves.
//!
//! Entries are opened (signature, certificate, format) in parallel on every
//! core with [`open_all`], then folded in log order by [`Ledger::apply`].
//! The fold keeps, per table, its zero report, its first acta (the one that
//! counts, or is held) with that acta's figures as a flat vector in package
//! order, and the indices of any conflicting actas. Memory is proportional
//! to the number of tables, whatever the size of the log; a `Ledger` can be
//! saved and resumed, so a second run verifies only what is new.

use std::collections::BTreeMap;

use acta_api::Status;
use acta_election::{Election, BLANK, NULL};
use acta_sheet::{Acta, Content, Entry, EntryKind};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, FindingKind};

/// Opens every entry of a batch on all cores: each result is what
/// [`Entry::open`] says of that note (signature by the table's certified
/// machine, or by the center for an announcement, and a canonical format).
pub fn open_all(election: &Election, notes: &[&[u8]]) -> Vec<Result<Entry, acta_sheet::Error>> {
    notes.par_iter().map(|n| Entry::open(n, election)).collect()
}

/// The figures of one acta, flattened in package order: for each contest of
/// the table's ballot (sorted by id) its choices, then blank, then null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Registered voters.
    pub registered: u64,
    /// Authenticated voters.
    pub authenticated: u64,
    /// Ballots.
    pub ballots: u64,
    /// Sum of all alarm counts on the acta.
    pub alarms: u64,
    /// Votes, flattened in package order.
    pub votes: Vec<u32>,
}

impl Figures {
    /// The figures of an acta whose contests are the package's (a counted acta).
    pub fn of(acta: &Acta) -> Figures {
        let mut votes = Vec::new();
        for c in &acta.contests {
            votes.extend(c.votes.iter().map(|(_, n)| *n));
            votes.push(c.blank);
            votes.push(c.null);
        }
        Figures {
            registered: acta.registered as u64,
            authenticated: acta.authenticated as u64,
            ballots: acta.ballots as u64,
            alarms: acta.alarms.iter().map(|&n| n as u64).sum(),
            votes,
        }
    }

    /// The votes as `contest → choice (or (blank), (null)) → n`, laid out by
    /// the package's ballot for `table`.
    pub fn votes_map(
        &self,
        election: &Election,
        table: &str,
    ) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        let mut it = self.votes.iter();
        for c in election.ballot(table) {
            let m: &mut BTreeMap<String, u64> = out.entry(c.id.clone()).or_default();
            for ch in c.choices().into_iter().chain([BLANK.into(), NULL.into()]) {
                m.insert(ch, it.next().copied().unwrap_or(0) as u64);
            }
        }
        out
    }
}

/// The acta that stands for a table: the first authentic one logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstActa {
    /// Log index.
    pub index: u64,
    /// SHA-256 of the acta's body text (its identity).
    pub body: [u8; 32],
    /// Its figures if it can be counted; `None` if held.
    pub counted: Option<Figures>,
}

/// What the log holds for one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFacts {
    /// Log index and body hash of the zero report.
    pub zero: Option<(u64, [u8; 32])>,
    /// The acta that stands for the table.
    pub acta: Option<FirstActa>,
    /// Log indices and body hashes of different bodies the same machine
    /// also signed.
    pub conflicts: Vec<(u64, [u8; 32])>,
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

/// Re-added totals of a set of tables.
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

/// Most signed notes kept as exhibits for findings; beyond this a
/// finding still names the log index, and the log itself is the exhibit.
const MOST_EXHIBITS: usize = 10_000;

/// The log folded, entry by entry, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ledger {
    /// Entries folded so far.
    pub size: u64,
    /// Authentic entries among them.
    pub verified: u64,
    /// Per table, in package order (`election.tables`).
    pub tables: Vec<TableFacts>,
    /// Held actas, in log order.
    pub held: Vec<HeldActa>,
    /// Every announcement in the log: index and signed note.
    pub announcements: Vec<(u64, String)>,
    /// Every audit step in the log: index and signed note.
    #[serde(default)]
    pub audits: Vec<(u64, String)>,
    /// Log indices of conflicting actas (second bodies of a machine).
    #[serde(default)]
    pub conflicting_actas: Vec<u64>,
    /// Findings about the log itself (invalid entries, conflicts, statuses).
    pub findings: Vec<Finding>,
    /// Signed notes behind the findings: file name → note.
    pub exhibits: BTreeMap<String, String>,
}

impl Ledger {
    /// An empty fold for this election.
    pub fn new(election: &Election) -> Ledger {
        Ledger {
            size: 0,
            verified: 0,
            tables: vec![TableFacts::default(); election.tables.len()],
            held: Vec::new(),
            announcements: Vec::new(),
            audits: Vec::new(),
            conflicting_actas: Vec::new(),
            findings: Vec::new(),
            exhibits: BTreeMap::new(),
        }
    }

    /// Keeps a signed note as an exhibit (an empty `note` only names it:
    /// the entry is in the log the evidence carries).
    fn exhibit(&mut self, index: u64, note: &[u8]) -> String {
        let name = format!("entry-{index}.note");
        if !note.is_empty() && self.exhibits.len() < MOST_EXHIBITS {
            self.exhibits
                .entry(name.clone())
                .or_insert_with(|| String::from_utf8_lossy(note).into_owned());
        }
        name
    }

    /// Folds entry `self.size`: its signed bytes, what opening it gave, and
    /// the status the center claims for it (if it published one).
    pub fn apply(
        &mut self,
        election: &Election,
        note: &[u8],
        opened: Result<Entry, acta_sheet::Error>,
        claimed: Option<Status>,
    ) {
        let i = self.size;
        self.size += 1;
        let judged = match opened {
            Err(e) => {
                let evidence = self.exhibit(i, note);
                let table = acta_sheet::Acta::parse(
                    acta_note::Note::parse(note)
                        .map(|n| n.text)
                        .unwrap_or_default(),
                )
                .map(|a| a.table)
                .unwrap_or_else(|_| format!("log entry {i}"));
                self.findings.push(Finding {
                    kind: FindingKind::InvalidLogEntry,
                    place: table,
                    figure: format!("log entry {i}: signature and format"),
                    center: "logged it".into(),
                    machines: e.to_string(),
                    evidence,
                });
                None
            }
            Ok(e) => {
                self.verified += 1;
                Some(self.fold(election, i, note, e))
            }
        };
        if let (Some(expected), Some(claimed)) = (judged, claimed) {
            if claimed != expected {
                let evidence = self.exhibit(i, note);
                self.findings.push(Finding {
                    kind: FindingKind::EntryStatus,
                    place: format!("log entry {i}"),
                    figure: "status".into(),
                    center: claimed.as_str().to_string(),
                    machines: expected.as_str().to_string(),
                    evidence,
                });
            }
        }
    }

    fn fold(&mut self, election: &Election, i: u64, note: &[u8], e: Entry) -> Status {
        let kind = e.kind();
        if let Content::Audit(_) = e.content {
            self.audits
                .push((i, String::from_utf8_lossy(note).into_owned()));
            return Status::Logged;
        }
        let Some(t) = e.table().and_then(|id| table_index(election, id)) else {
            self.announcements
                .push((i, String::from_utf8_lossy(note).into_owned()));
            return Status::Logged;
        };
        let id = election.tables[t].id.clone();
        let earlier = match kind {
            EntryKind::Zero => self.tables[t].zero,
            _ => self.tables[t].acta.as_ref().map(|a| (a.index, a.body)),
        };
        if let Some((first, body)) = earlier {
            let (a, b) = (self.exhibit(first, &[]), self.exhibit(i, note));
            let finding = if body == e.body_hash {
                Finding {
                    kind: FindingKind::RepeatedActa,
                    place: id,
                    figure: kind.as_str().into(),
                    center: format!("logged the note of log entry {first} again at entry {i}"),
                    machines: "one note, one log entry".into(),
                    evidence: format!("{a}, {b}"),
                }
            } else {
                Finding {
                    kind: FindingKind::ConflictingActas,
                    place: id,
                    figure: kind.as_str().into(),
                    center: format!("first at log entry {first}"),
                    machines: format!(
                        "the table's machine also signed a different one, log entry {i} (security code {})",
                        acta_sheet::security_code(note)
                    ),
                    evidence: format!("{a}, {b}"),
                }
            };
            self.findings.push(finding);
            self.tables[t].conflicts.push((i, e.body_hash));
            if kind == EntryKind::Acta {
                self.conflicting_actas.push(i);
            }
            return Status::Conflict;
        }
        match e.content {
            Content::Zero(_) => {
                self.tables[t].zero = Some((i, e.body_hash));
                Status::Logged
            }
            Content::Acta { acta, holds } if holds.is_empty() => {
                self.tables[t].acta = Some(FirstActa {
                    index: i,
                    body: e.body_hash,
                    counted: Some(Figures::of(&acta)),
                });
                Status::Counted
            }
            Content::Acta { holds, .. } => {
                self.tables[t].acta = Some(FirstActa {
                    index: i,
                    body: e.body_hash,
                    counted: None,
                });
                self.held.push(HeldActa {
                    table: id,
                    index: i,
                    reasons: holds.iter().map(|h| h.to_string()).collect(),
                });
                Status::Held
            }
            _ => Status::Logged,
        }
    }

    /// The counted actas logged before `size`: table position and figures.
    pub fn counted_before(&self, size: u64) -> impl Iterator<Item = (usize, &FirstActa, &Figures)> {
        self.tables.iter().enumerate().filter_map(move |(t, f)| {
            let a = f.acta.as_ref()?;
            let fig = a.counted.as_ref()?;
            (a.index < size).then_some((t, a, fig))
        })
    }

    /// Sums of the counted actas logged before `size` in the area `area`
    /// (`""` for the country).
    pub fn sums(&self, election: &Election, area: &str, size: u64) -> Sums {
        self.sums_by_area(election, size, &std::iter::once(area).collect())
            .remove(area)
            .unwrap_or_default()
    }

    /// Sums of every area in `areas` (`""` for the country) at once, over
    /// the counted actas logged before `size`: one pass over the tables,
    /// each table added to the areas that enclose it.
    pub fn sums_by_area(
        &self,
        election: &Election,
        size: u64,
        areas: &std::collections::BTreeSet<&str>,
    ) -> std::collections::HashMap<String, Sums> {
        // Per area, the contests' figures as flat vectors in the layout of
        // `Figures::votes` (choices, blank, null): one addition per figure,
        // the names attached once at the end.
        #[derive(Default)]
        struct Acc {
            tables: u64,
            registered: u64,
            authenticated: u64,
            ballots: u64,
            votes: Vec<Option<Vec<u64>>>,
        }
        let layouts: Vec<Vec<String>> = election.contests.iter().map(|c| c.slots()).collect();
        let mut acc: std::collections::HashMap<&str, Acc> =
            areas.iter().map(|a| (*a, Acc::default())).collect();
        for (t, _, f) in self.counted_before(size) {
            let id = &election.tables[t].id;
            for area in std::iter::once("").chain(acta_election::Level::ancestors(id)) {
                let Some(s) = acc.get_mut(area) else { continue };
                s.tables += 1;
                s.registered += f.registered;
                s.authenticated += f.authenticated;
                s.ballots += f.ballots;
                if s.votes.is_empty() {
                    s.votes.resize_with(layouts.len(), || None);
                }
                let mut at = 0;
                for (k, c) in election.contests.iter().enumerate() {
                    if !c.applies_to(id) {
                        continue;
                    }
                    let n = layouts[k].len();
                    let sum = s.votes[k].get_or_insert_with(|| vec![0; n]);
                    for (j, v) in sum.iter_mut().enumerate() {
                        *v += f.votes.get(at + j).copied().unwrap_or(0) as u64;
                    }
                    at += n;
                }
            }
        }
        acc.into_iter()
            .map(|(area, a)| {
                let votes = a
                    .votes
                    .into_iter()
                    .enumerate()
                    .filter_map(|(k, v)| {
                        let v = v?;
                        let by_choice = layouts[k].iter().cloned().zip(v).collect();
                        Some((election.contests[k].id.clone(), by_choice))
                    })
                    .collect();
                let sums = Sums {
                    tables: a.tables,
                    registered: a.registered,
                    authenticated: a.authenticated,
                    ballots: a.ballots,
                    votes,
                };
                (area.to_string(), sums)
            })
            .collect()
    }

    /// Tables with a counted acta.
    pub fn reported(&self) -> u64 {
        self.counted_before(u64::MAX).count() as u64
    }

    /// Held actas logged before `size`.
    pub fn held_before(&self, size: u64) -> u64 {
        self.held.iter().filter(|h| h.index < size).count() as u64
    }
}

/// Whether table `id` lies in the area with code `prefix` (`""`: anywhere).
pub fn in_area(id: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || (id.len() > prefix.len()
            && id.starts_with(prefix)
            && id.as_bytes()[prefix.len()] == b'.')
}

/// The position of a table in the package (tables are sorted by id).
pub fn table_index(election: &Election, id: &str) -> Option<usize> {
    election
        .tables
        .binary_search_by(|t| t.id.as_str().cmp(id))
        .ok()
}
