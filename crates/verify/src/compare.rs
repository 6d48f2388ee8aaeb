//! What the center publishes and signs, held against the folded log.
//!
//! Every function here is pure: the center's statements (as fetched, or as
//! kept in an evidence bundle) and the [`Ledger`] in, typed findings out.
//! Statements about a log larger than the verified checkpoint are not
//! judged: the observer judges them on its next round.

use std::collections::{BTreeMap, BTreeSet};

use acta_api::{LoggedEntry, TableResult, Totals};
use acta_election::{Election, BLANK, NULL};
use acta_sheet::{Announcement, Tally};

use crate::finding::{thousands, Finding, FindingKind};
use crate::ledger::{table_index, Ledger, Sums};

/// Where a set of totals comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The center's results pages and API (not signed).
    Published,
    /// A signed announcement in the log, at this log index.
    Announcement(u64),
}

impl Source {
    fn evidence(self) -> String {
        match self {
            Source::Published => {
                "the center's published results vs the signed actas in the log".into()
            }
            Source::Announcement(i) => {
                format!("announcement at log entry {i} (signed by the center)")
            }
        }
    }
    fn kind(self) -> FindingKind {
        match self {
            Source::Published => FindingKind::AreaFigure,
            Source::Announcement(_) => FindingKind::AnnouncementFigure,
        }
    }
}

/// The figures a set of totals states, from either source.
#[derive(Debug, Clone)]
pub struct Stated {
    /// Tables reported.
    pub tables_reported: u64,
    /// Held actas.
    pub held: u64,
    /// Registered voters at the reported tables.
    pub registered: u64,
    /// Authenticated voters.
    pub authenticated: u64,
    /// Ballots.
    pub ballots: u64,
    /// Per contest, with seats or winners.
    pub contests: Vec<Tally>,
}

impl From<&Announcement> for Stated {
    fn from(a: &Announcement) -> Self {
        Stated {
            tables_reported: a.tables_reported,
            held: a.held,
            registered: a.registered,
            authenticated: a.authenticated,
            ballots: a.ballots,
            contests: a.contests.clone(),
        }
    }
}

impl From<&Totals> for Stated {
    fn from(t: &Totals) -> Self {
        Stated {
            tables_reported: t.tables_reported,
            held: t.held,
            registered: t.registered,
            authenticated: t.authenticated,
            ballots: t.ballots,
            contests: t.contests.clone(),
        }
    }
}

/// The center's per-table figures against the counted actas of the log of
/// `size` entries.
pub fn table_results(
    election: &Election,
    ledger: &Ledger,
    size: u64,
    center: &[TableResult],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut listed = BTreeSet::new();
    for ct in center {
        if !listed.insert(ct.table.as_str()) {
            out.push(Finding {
                kind: FindingKind::TableFigure,
                place: ct.table.clone(),
                figure: "per-table results".into(),
                center: "lists the table more than once".into(),
                machines: "one table, one counted acta".into(),
                evidence: "the center's published per-table results".into(),
            });
            continue;
        }
        if ct.index >= size {
            continue; // beyond the verified log: judged next round
        }
        seen.insert(ct.table.as_str());
        let facts = table_index(election, &ct.table).map(|t| &ledger.tables[t]);
        let acta = facts.and_then(|f| f.acta.as_ref());
        let Some((acta, fig)) = acta.and_then(|a| Some((a, a.counted.as_ref()?))) else {
            out.push(Finding {
                kind: FindingKind::PhantomTable,
                place: ct.table.clone(),
                figure: "acta".into(),
                center: format!(
                    "counts it: {} ballots (says log entry {})",
                    thousands(ct.ballots),
                    ct.index
                ),
                machines: match acta {
                    Some(a) => format!("its acta at log entry {} is held, not countable", a.index),
                    None => "no valid signed acta for this table in the log".into(),
                },
                evidence: "the checkpoint and the log it signs".into(),
            });
            continue;
        };
        let evidence = format!(
            "log entry {} (signed by machine {})",
            acta.index,
            election.tables[table_index(election, &ct.table).unwrap_or(0)].machine
        );
        let mut diff = |kind, figure: &str, c: String, m: String| {
            out.push(Finding {
                kind,
                place: ct.table.clone(),
                figure: figure.into(),
                center: c,
                machines: m,
                evidence: evidence.clone(),
            })
        };
        for (figure, c, m) in [
            ("registered", ct.registered, fig.registered),
            ("authenticated", ct.authenticated, fig.authenticated),
            ("ballots", ct.ballots, fig.ballots),
        ] {
            if c != m {
                diff(
                    FindingKind::TableFigure,
                    figure,
                    c.to_string(),
                    m.to_string(),
                );
            }
        }
        if ct.alarms < fig.alarms {
            diff(
                FindingKind::HiddenAlarms,
                "alarms",
                ct.alarms.to_string(),
                fig.alarms.to_string(),
            );
        }
        let mine = fig.votes_map(election, &ct.table);
        if ct.votes != mine {
            for (contest, choice, c, m) in map_diffs(&ct.votes, &mine) {
                diff(
                    FindingKind::TableFigure,
                    &format!("{contest} {choice}"),
                    c.to_string(),
                    m.to_string(),
                );
            }
        }
        if ct.index != acta.index {
            diff(
                FindingKind::TableFigure,
                "counted acta",
                format!("log entry {}", ct.index),
                format!("log entry {}", acta.index),
            );
        }
    }
    for (t, a, _) in ledger.counted_before(size) {
        let id = &election.tables[t].id;
        if !seen.contains(id.as_str()) {
            out.push(Finding {
                kind: FindingKind::MissingTable,
                place: id.clone(),
                figure: "acta".into(),
                center: "does not count it".into(),
                machines: format!("signed acta at log entry {}", a.index),
                evidence: format!("log entry {}", a.index),
            });
        }
    }
    out
}

fn map_diffs(
    c: &BTreeMap<String, BTreeMap<String, u64>>,
    m: &BTreeMap<String, BTreeMap<String, u64>>,
) -> Vec<(String, String, u64, u64)> {
    let empty = BTreeMap::new();
    let contests: BTreeSet<&String> = c.keys().chain(m.keys()).collect();
    let mut out = Vec::new();
    for k in contests {
        let (a, b) = (c.get(k).unwrap_or(&empty), m.get(k).unwrap_or(&empty));
        let choices: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for ch in choices {
            let (x, y) = (
                a.get(ch).copied().unwrap_or(0),
                b.get(ch).copied().unwrap_or(0),
            );
            if x != y {
                out.push((k.clone(), ch.clone(), x, y));
            }
        }
    }
    out
}

/// Stated totals of the area `area` (`""` for the country) against the
/// sums of the counted actas before `size`, seats and winners included.
pub fn totals(
    election: &Election,
    area: &str,
    stated: &Stated,
    sums: &Sums,
    held: u64,
    source: Source,
) -> Vec<Finding> {
    let place = if area.is_empty() {
        "country".to_string()
    } else {
        area.to_string()
    };
    let (kind, evidence) = (source.kind(), source.evidence());
    let mut out = Vec::new();
    let mut push = |figure: String, c: u64, m: u64| {
        if c != m {
            out.push(Finding {
                kind,
                place: place.clone(),
                figure: format!("{figure} (diff {:+})", c as i128 - m as i128),
                center: c.to_string(),
                machines: m.to_string(),
                evidence: evidence.clone(),
            });
        }
    };
    push("tables".into(), stated.tables_reported, sums.tables);
    if matches!(source, Source::Announcement(_)) || area.is_empty() {
        push("held actas".into(), stated.held, held);
    }
    push("registered".into(), stated.registered, sums.registered);
    push(
        "authenticated".into(),
        stated.authenticated,
        sums.authenticated,
    );
    push("ballots".into(), stated.ballots, sums.ballots);
    let mut stated_votes = BTreeMap::new();
    for t in &stated.contests {
        let m: &mut BTreeMap<String, u64> = stated_votes.entry(t.contest.clone()).or_default();
        m.extend(t.votes.iter().cloned());
        m.insert(BLANK.into(), t.blank);
        m.insert(NULL.into(), t.null);
    }
    for (contest, choice, c, m) in map_diffs(&stated_votes, &sums.votes) {
        push(format!("{contest} {choice}"), c, m);
    }
    // Seats and winners, re-derived by the package's method from the
    // signed actas' votes.
    for t in &stated.contests {
        let Some(def) = election.contest(&t.contest) else {
            continue;
        };
        let empty = BTreeMap::new();
        let mm = sums.votes.get(&t.contest).unwrap_or(&empty);
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
            out.push(Finding {
                kind: FindingKind::Seats,
                place: place.clone(),
                figure: format!("{} seats", t.contest),
                center: show(&t.seats),
                machines: show(&mine),
                evidence: evidence.clone(),
            });
        }
    }
    out
}

/// Every published area total (country first) at its own size, if that
/// size is within the verified log.
pub fn areas(election: &Election, ledger: &Ledger, size: u64, all: &[Totals]) -> Vec<Finding> {
    let mut out = Vec::new();
    let published = |place: &str, figure: &str, center: String, machines: String| Finding {
        kind: FindingKind::AreaFigure,
        place: if place.is_empty() {
            "country".into()
        } else {
            place.into()
        },
        figure: figure.into(),
        center,
        machines,
        evidence: Source::Published.evidence(),
    };
    // Every area of the package, and the country, is published: the
    // center does not choose which areas are checked.
    let mut package: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    package.insert("", (0, 0));
    for a in &election.areas {
        package.insert(a.code.as_str(), (0, 0));
    }
    for t in &election.tables {
        for a in std::iter::once("").chain(acta_election::Level::ancestors(&t.id)) {
            if let Some(e) = package.get_mut(a) {
                e.0 += 1;
                e.1 += t.registered as u64;
            }
        }
    }
    // Each area's published totals, found once (a scan of every area's
    // totals per area of the package would be quadratic in the country).
    let mut by_area: BTreeMap<&str, Vec<&Totals>> = BTreeMap::new();
    for t in all {
        by_area.entry(t.area.as_str()).or_default().push(t);
    }
    for (code, (tables, registered)) in &package {
        let published_here = by_area.get(code).map_or(&[][..], Vec::as_slice);
        match published_here.len() {
            0 => out.push(published(
                code,
                "totals",
                "does not publish them".into(),
                "an area of the package".into(),
            )),
            1 => {}
            n => out.push(published(
                code,
                "totals",
                format!("publishes them {n} times"),
                "one area, one set of totals".into(),
            )),
        }
        for t in published_here {
            if t.tables_total != *tables {
                out.push(published(
                    code,
                    "tables total",
                    t.tables_total.to_string(),
                    tables.to_string(),
                ));
            }
            if t.registered_total != *registered {
                out.push(published(
                    code,
                    "registered total",
                    t.registered_total.to_string(),
                    registered.to_string(),
                ));
            }
        }
    }
    for t in all
        .iter()
        .filter(|t| !package.contains_key(t.area.as_str()))
    {
        out.push(published(
            &t.area,
            "totals",
            "publishes totals for it".into(),
            "no such area in the package".into(),
        ));
    }
    // Totals at a handful of log sizes are judged; a center that spreads
    // its pages over many sizes is named for it rather than re-added for
    // each.
    let sizes: BTreeSet<u64> = all.iter().map(|t| t.size).filter(|&s| s <= size).collect();
    if sizes.len() > MOST_SIZES {
        out.push(published(
            "",
            "log sizes of the published totals",
            sizes.len().to_string(),
            format!("at most {MOST_SIZES}"),
        ));
    }
    for at in sizes.into_iter().rev().take(MOST_SIZES) {
        let here: Vec<&Totals> = all.iter().filter(|t| t.size == at).collect();
        let codes: BTreeSet<&str> = here.iter().map(|t| t.area.as_str()).collect();
        let sums = ledger.sums_by_area(election, at, &codes);
        let held = ledger.held_before(at);
        for t in here {
            let empty = Sums::default();
            let s = sums.get(&t.area).unwrap_or(&empty);
            out.extend(totals(
                election,
                &t.area,
                &t.into(),
                s,
                held,
                Source::Published,
            ));
        }
    }
    out
}

/// One published totals page (the national results, or an area's page)
/// against the signed actas at its own size, if within the verified log.
pub fn page(election: &Election, ledger: &Ledger, size: u64, t: &Totals) -> Vec<Finding> {
    if t.size > size {
        return Vec::new();
    }
    let sums = ledger.sums(election, &t.area, t.size);
    totals(
        election,
        &t.area,
        &t.into(),
        &sums,
        ledger.held_before(t.size),
        Source::Published,
    )
}

/// Distinct log sizes of published totals re-added in one run.
const MOST_SIZES: usize = 4;

/// Announcement `index` of the log (`note` its signed text), against the
/// signed actas of the checkpoint it names. `root_at(n)` is the verified
/// log's root at size `n`, if `n` is within it.
pub fn announcement(
    election: &Election,
    ledger: &Ledger,
    index: u64,
    note: &str,
    root_at: &dyn Fn(u64) -> Option<[u8; 32]>,
) -> Vec<Finding> {
    let evidence = format!("announcement at log entry {index}");
    let ann = match Announcement::open(note.as_bytes(), election) {
        Ok(a) => a,
        Err(e) => {
            return vec![Finding {
                kind: FindingKind::Announcement,
                place: "country".into(),
                figure: "signature and format".into(),
                center: "published it".into(),
                machines: e.to_string(),
                evidence,
            }]
        }
    };
    let size = ann.checkpoint.size;
    if size > index || root_at(size) != Some(ann.checkpoint.root) {
        return vec![Finding {
            kind: FindingKind::ForkedLog,
            place: "log".into(),
            figure: format!("the checkpoint of size {size} the announcement counts"),
            center: "announced totals at this checkpoint".into(),
            machines: "the log at that size has another root, or the announcement precedes its own checkpoint".into(),
            evidence,
        }];
    }
    let sums = ledger.sums(election, "", size);
    totals(
        election,
        "",
        &(&ann).into(),
        &sums,
        ledger.held_before(size),
        Source::Announcement(index),
    )
}

/// The center's list of held actas against those the observer holds.
pub fn held(ledger: &Ledger, size: u64, center: &[LoggedEntry]) -> Vec<Finding> {
    let shown: BTreeSet<u64> = center.iter().map(|e| e.index).collect();
    ledger
        .held
        .iter()
        .filter(|h| h.index < size && !shown.contains(&h.index))
        .map(|h| Finding {
            kind: FindingKind::HiddenAlarms,
            place: h.table.clone(),
            figure: "held acta".into(),
            center: "does not list it as held".into(),
            machines: format!("held: {}", h.reasons.join("; ")),
            evidence: format!("log entry {}", h.index),
        })
        .collect()
}

/// The center's lists of conflicting actas and of announcements against
/// the log: every one the log holds before `size` must be listed.
pub fn listed(
    ledger: &Ledger,
    size: u64,
    conflicts: Option<&[LoggedEntry]>,
    announcements: Option<&[LoggedEntry]>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(c) = conflicts {
        let shown: BTreeSet<u64> = c.iter().map(|e| e.index).collect();
        for &i in ledger
            .conflicting_actas
            .iter()
            .filter(|&&i| i < size && !shown.contains(&i))
        {
            out.push(Finding {
                kind: FindingKind::ConflictingActas,
                place: format!("log entry {i}"),
                figure: "conflicting acta".into(),
                center: "does not list it among the conflicts".into(),
                machines: "a second acta signed by the table's machine".into(),
                evidence: format!("log entry {i}"),
            });
        }
    }
    if let Some(a) = announcements {
        let shown: BTreeSet<u64> = a.iter().map(|e| e.index).collect();
        for (i, _) in ledger
            .announcements
            .iter()
            .filter(|(i, _)| *i < size && !shown.contains(i))
        {
            out.push(Finding {
                kind: FindingKind::Announcement,
                place: "country".into(),
                figure: "history of announcements".into(),
                center: "does not list it".into(),
                machines: format!("an announcement it signed, at log entry {i}"),
                evidence: format!("log entry {i}"),
            });
        }
    }
    out
}
