//! The dishonest authority: how the demo and the tests lie, the way a real
//! authority holding the center's database and the center's signing key
//! would — never through a switch inside the center. It has three means:
//!
//! - **database edits** behind the center's back (the center then counts,
//!   publishes and signs whatever the database says, as a captured center
//!   would);
//! - **lies signed with the center key**, appended to the log in the
//!   database exactly as a second center process sharing it would append
//!   them (the running center catches up and the witnesses cosign: they
//!   check that the log only grows, not what it says);
//! - **a lying proxy** in front of the center, serving some readers other
//!   bytes than the center does.
//!
//! This is the one place outside `acta-center` that writes SQL, and it is
//! here precisely because it is an attack on the center's storage.

use std::collections::BTreeMap;
use std::sync::Arc;

use acta_election::{Election, BLANK, NULL};
use acta_sheet::{Acta, Announcement, EntryKind};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

use crate::Ceremony;

/// A lie the demo can tell (`acta demo --tamper <lie>`): one line of the
/// manipulation matrix each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lie {
    /// `inflate-turnout=N`: N more authenticated voters and N more ballots,
    /// spread over the counted tables, by editing the per-table figures.
    InflateTurnout(u64),
    /// `alter-votes`: votes moved between choices at three tables.
    AlterVotes,
    /// `drop-tables=N`: the actas of N tables are intercepted on their way
    /// to the center and never logged, while their figures (read off the
    /// paper) are counted and announced.
    DropTables(usize),
    /// `phantom-table`: a table that never transmitted is counted with
    /// invented figures.
    PhantomTable,
    /// `wrong-machine`: an acta signed by an uncertified machine is put in
    /// the log in place of a table's intercepted one, and counted.
    WrongMachine,
    /// `conflicting-acta`: an insider makes a table's certified machine
    /// sign a second, different acta and transmits it.
    ConflictingActa,
    /// `swap-package`: a proxy serves a package re-signed by the authority
    /// alone, with another software release hash.
    SwapPackage,
    /// `fork-log`: a proxy serves a log with one counted acta cut out,
    /// under a checkpoint signed with the center key.
    ForkLog,
    /// `hide-alarms`: the alarms of every acta are zeroed in the published
    /// figures, and held actas are counted as if they were clean.
    HideAlarms,
    /// `wrong-seats`: a second announcement, signed with the center key,
    /// moves a seat between parties.
    WrongSeats,
    /// `area-figure`: a proxy adds ballots to one municipality's published
    /// totals.
    AreaFigure,
}

/// Every lie's name, as typed.
pub const NAMES: &str = "inflate-turnout=N, alter-votes, drop-tables=N, phantom-table, wrong-machine, conflicting-acta, swap-package, fork-log, hide-alarms, wrong-seats, area-figure";

impl std::str::FromStr for Lie {
    type Err = String;
    fn from_str(s: &str) -> Result<Lie, String> {
        let number = |n: &str, what: &str| {
            acta_note::canon::decimal(n)
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{what} takes a positive number, not {n:?}"))
        };
        Ok(match s.split_once('=') {
            Some(("inflate-turnout", n)) => Lie::InflateTurnout(number(n, "inflate-turnout")?),
            Some(("drop-tables", n)) => Lie::DropTables(number(n, "drop-tables")? as usize),
            Some(_) => return Err(format!("unknown lie {s:?}; known: {NAMES}")),
            None => match s {
                "alter-votes" => Lie::AlterVotes,
                "phantom-table" => Lie::PhantomTable,
                "wrong-machine" => Lie::WrongMachine,
                "conflicting-acta" => Lie::ConflictingActa,
                "swap-package" => Lie::SwapPackage,
                "fork-log" => Lie::ForkLog,
                "hide-alarms" => Lie::HideAlarms,
                "wrong-seats" => Lie::WrongSeats,
                "area-figure" => Lie::AreaFigure,
                _ => return Err(format!("unknown lie {s:?}; known: {NAMES}")),
            },
        })
    }
}

impl std::fmt::Display for Lie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lie::InflateTurnout(n) => write!(f, "inflate-turnout={n}"),
            Lie::DropTables(n) => write!(f, "drop-tables={n}"),
            Lie::AlterVotes => f.write_str("alter-votes"),
            Lie::PhantomTable => f.write_str("phantom-table"),
            Lie::WrongMachine => f.write_str("wrong-machine"),
            Lie::ConflictingActa => f.write_str("conflicting-acta"),
            Lie::SwapPackage => f.write_str("swap-package"),
            Lie::ForkLog => f.write_str("fork-log"),
            Lie::HideAlarms => f.write_str("hide-alarms"),
            Lie::WrongSeats => f.write_str("wrong-seats"),
            Lie::AreaFigure => f.write_str("area-figure"),
        }
    }
}

/// Why the lie could not be told.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The center's database refused.
    #[error("center database: {0}")]
    Database(#[from] sqlx::Error),
    /// The center's HTTP interface failed (proxy set-up).
    #[error("center: {0}")]
    Center(String),
    /// Nothing to lie about.
    #[error("nothing to lie about: {0}")]
    Nothing(String),
}

/// What the authority holds: the center's database and key, the package.
pub struct Authority<'a> {
    /// The center's database URL.
    pub db: String,
    /// The ceremony: package, center and authority keys, machine keys.
    pub ceremony: &'a Ceremony,
    /// The signed actas of the tables it intercepted, by table id.
    pub intercepted: BTreeMap<String, String>,
}

impl Lie {
    /// The tables whose genuine acta the authority's network intercepts
    /// before it reaches the center.
    pub fn intercepted(&self, election: &Election) -> Vec<String> {
        let ids: Vec<&String> = election.tables.iter().map(|t| &t.id).collect();
        match self {
            Lie::DropTables(n) => {
                // Spread over the country, never the first table (whose
                // printed acta the demo keeps as an example).
                let step = (ids.len() / (*n).max(1)).max(1);
                ids.iter()
                    .skip(step / 2)
                    .step_by(step)
                    .take(*n)
                    .map(|s| s.to_string())
                    .collect()
            }
            Lie::PhantomTable => ids.last().map(|s| s.to_string()).into_iter().collect(),
            Lie::WrongMachine => ids.get(1).map(|s| s.to_string()).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the observer must be pointed at a lying proxy.
    pub fn needs_proxy(&self) -> bool {
        matches!(self, Lie::SwapPackage | Lie::ForkLog | Lie::AreaFigure)
    }
}

async fn connect(url: &str) -> Result<AnyPool, Error> {
    sqlx::any::install_default_drivers();
    Ok(AnyPoolOptions::new().max_connections(1).connect(url).await?)
}

/// The `contest choice n` lines the center keeps per counted table.
fn votes_text(acta: &Acta) -> String {
    let mut s = String::new();
    for c in &acta.contests {
        for (ch, n) in c.votes.iter().map(|(c, n)| (c.as_str(), *n)).chain([(BLANK, c.blank), (NULL, c.null)]) {
            s.push_str(&format!("{} {ch} {n}\n", c.contest));
        }
    }
    s
}

async fn insert_result(pool: &AnyPool, table: &str, index: i64, a: &Acta) -> Result<(), Error> {
    sqlx::query("INSERT INTO table_results (table_id, idx, registered, authenticated, ballots, alarms, votes) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(table)
        .bind(index)
        .bind(i64::from(a.registered))
        .bind(i64::from(a.authenticated))
        .bind(i64::from(a.ballots))
        .bind(a.alarms.iter().map(|&n| i64::from(n)).sum::<i64>())
        .bind(votes_text(a))
        .execute(pool)
        .await?;
    Ok(())
}

/// The log index of a table's zero report, where a forged row can point.
async fn zero_index(pool: &AnyPool, table: &str) -> Result<i64, Error> {
    Ok(sqlx::query("SELECT idx FROM log_entries WHERE table_id = $1 AND kind = 'zero'")
        .bind(table)
        .fetch_optional(pool)
        .await?
        .map(|r| r.get::<i64, _>(0))
        .unwrap_or(0))
}

/// Tells the database and signed-log lies, after transmission and before
/// the announcement.
pub async fn tell(auth: &Authority<'_>, lie: &Lie) -> Result<(), Error> {
    let pool = connect(&auth.db).await?;
    let election = &auth.ceremony.election;
    match lie {
        Lie::InflateTurnout(n) => {
            let tables: Vec<String> =
                sqlx::query("SELECT table_id FROM table_results ORDER BY table_id")
                    .fetch_all(&pool)
                    .await?
                    .iter()
                    .map(|r| r.get::<String, _>(0))
                    .collect();
            if tables.is_empty() {
                return Err(Error::Nothing("no counted table to inflate".into()));
            }
            let k = tables.len() as u64;
            let mut tx = pool.begin().await?;
            for (i, t) in tables.iter().enumerate() {
                // N split as evenly as integers allow: exactly N in all.
                let share = n / k + u64::from((i as u64) < n % k);
                if share == 0 {
                    continue;
                }
                sqlx::query("UPDATE table_results SET authenticated = authenticated + $1, ballots = ballots + $1 WHERE table_id = $2")
                    .bind(share as i64)
                    .bind(t)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Lie::AlterVotes => {
            let rows = sqlx::query("SELECT table_id, votes FROM table_results ORDER BY table_id LIMIT 3")
                .fetch_all(&pool)
                .await?;
            for r in rows {
                let (table, votes): (String, String) = (r.get(0), r.get(1));
                sqlx::query("UPDATE table_results SET votes = $1 WHERE table_id = $2")
                    .bind(move_votes(&votes, 7))
                    .bind(&table)
                    .execute(&pool)
                    .await?;
            }
        }
        Lie::DropTables(_) => {
            for (table, note) in &auth.intercepted {
                let acta = parse_acta(note)?;
                let at = zero_index(&pool, table).await?;
                insert_result(&pool, table, at, &acta).await?;
            }
        }
        Lie::PhantomTable => {
            let (table, note) = auth
                .intercepted
                .iter()
                .next()
                .ok_or_else(|| Error::Nothing("no intercepted table".into()))?;
            // Invented figures in the shape of a real acta: 60 % turnout,
            // every ballot to the first choice of each contest.
            let mut acta = parse_acta(note)?;
            acta.authenticated = acta.registered * 3 / 5;
            acta.ballots = acta.authenticated;
            for c in &mut acta.contests {
                for (k, (_, n)) in c.votes.iter_mut().enumerate() {
                    *n = if k == 0 { acta.ballots } else { 0 };
                }
                c.blank = 0;
                c.null = 0;
            }
            let at = zero_index(&pool, table).await?;
            insert_result(&pool, table, at, &acta).await?;
        }
        Lie::WrongMachine => {
            let (table, note) = auth
                .intercepted
                .iter()
                .next()
                .ok_or_else(|| Error::Nothing("no intercepted table".into()))?;
            let mut acta = parse_acta(note)?;
            acta.ballots += 50;
            acta.authenticated += 50;
            if let Some(c) = acta.contests.first_mut() {
                if let Some((_, n)) = c.votes.first_mut() {
                    *n += 50;
                }
            }
            // A machine nobody certified, bearing the table's machine name.
            let forger = acta_note::Signer::generate(&acta.machine)
                .map_err(|e| Error::Nothing(e.to_string()))?;
            let forged = acta.sign(&forger);
            let index = append(&auth.db, auth.ceremony, &forged, EntryKind::Acta, table, "counted").await?;
            insert_result(&pool, table, index as i64, &acta).await?;
        }
        Lie::HideAlarms => {
            let held = sqlx::query("SELECT idx, table_id, note FROM log_entries WHERE status = 'held'")
                .fetch_all(&pool)
                .await?;
            for r in held {
                let (idx, table, note): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
                sqlx::query("UPDATE log_entries SET status = 'counted' WHERE idx = $1")
                    .bind(idx)
                    .execute(&pool)
                    .await?;
                insert_result(&pool, &table, idx, &parse_acta(&note)?).await?;
            }
            let n = sqlx::query("UPDATE table_results SET alarms = 0 WHERE alarms > 0")
                .execute(&pool)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(Error::Nothing("no acta carries an alarm".into()));
            }
        }
        _ => {}
    }
    let _ = election;
    pool.close().await;
    Ok(())
}

/// Tells the lies signed after the genuine announcement: a second
/// announcement, signed with the center key, that moves a seat.
pub async fn tell_after_announcement(auth: &Authority<'_>, lie: &Lie) -> Result<Option<u64>, Error> {
    if *lie != Lie::WrongSeats {
        return Ok(None);
    }
    let pool = connect(&auth.db).await?;
    let note: String = sqlx::query("SELECT note FROM log_entries WHERE kind = 'announcement' ORDER BY idx DESC LIMIT 1")
        .fetch_optional(&pool)
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| Error::Nothing("no announcement in the log".into()))?;
    pool.close().await;
    let election = &auth.ceremony.election;
    let mut ann = Announcement::open(note.as_bytes(), election)
        .map_err(|e| Error::Nothing(e.to_string()))?;
    let contest = ann
        .contests
        .iter_mut()
        .find(|c| c.seats.len() >= 2 || (c.seats.len() == 1 && c.votes.len() >= 2))
        .ok_or_else(|| Error::Nothing("no contest with seats to move".into()))?;
    if contest.seats.len() >= 2 && contest.seats[0].1 > 0 {
        contest.seats[0].1 -= 1;
        contest.seats[1].1 += 1;
    } else {
        // A plurality contest: give the win to the runner-up.
        let winner = contest.seats[0].0.clone();
        let other = contest
            .votes
            .iter()
            .map(|(c, _)| c.clone())
            .find(|c| *c != winner)
            .unwrap_or(winner);
        contest.seats[0].0 = other;
    }
    let forged = ann.sign(&auth.ceremony.center);
    append(&auth.db, auth.ceremony, &forged, EntryKind::Announcement, "", "logged")
        .await
        .map(Some)
}

fn parse_acta(note: &str) -> Result<Acta, Error> {
    let text = acta_note::Note::parse(note.as_bytes())
        .map_err(|e| Error::Nothing(e.to_string()))?
        .text;
    Acta::parse(text).map_err(|e| Error::Nothing(e.to_string()))
}

/// Moves up to `n` votes from the leading choice of the first contest to
/// the next choice, in the center's `contest choice n` lines.
fn move_votes(votes: &str, n: u64) -> String {
    let mut lines: Vec<(String, String, u64)> = votes
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            Some((f.next()?.to_string(), f.next()?.to_string(), f.next()?.parse().ok()?))
        })
        .collect();
    let Some(contest) = lines.first().map(|l| l.0.clone()) else {
        return votes.to_string();
    };
    let choices: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].0 == contest && lines[i].1 != BLANK && lines[i].1 != NULL)
        .collect();
    if let (Some(&from), Some(&to)) = (
        choices.iter().max_by_key(|&&i| lines[i].2),
        choices.iter().find(|&&i| Some(&i) != choices.iter().max_by_key(|&&i| lines[i].2)),
    ) {
        let k = n.min(lines[from].2);
        lines[from].2 -= k;
        lines[to].2 += k;
    }
    lines
        .iter()
        .map(|(c, ch, n)| format!("{c} {ch} {n}\n"))
        .collect()
}

/// The insider at table `index`: its certified machine signs a second acta
/// with one vote moved between the first two choices of a contest.
pub fn conflicting_acta(g: &Ceremony, index: usize, genuine: &str) -> Result<String, Error> {
    let mut acta = parse_acta(genuine)?;
    let c = acta
        .contests
        .iter_mut()
        .find(|c| c.votes.len() >= 2 && c.votes[0].1 > 0)
        .ok_or_else(|| Error::Nothing("no vote to move".into()))?;
    c.votes[0].1 -= 1;
    c.votes[1].1 += 1;
    Ok(acta.sign(&g.machines[index]))
}

/// Appends a signed note to the log in the center's database as a second
/// center process would: under the log's row lock, the leaf after the
/// last, a checkpoint signed with the center key for the new size. The
/// running center catches up from the database; its witnesses cosign the
/// new checkpoint because the log only grew.
pub async fn append(
    db: &str,
    g: &Ceremony,
    note: &str,
    kind: EntryKind,
    table: &str,
    status: &str,
) -> Result<u64, Error> {
    let pool = connect(db).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE log_head SET size = size WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    let head: i64 = sqlx::query("SELECT size FROM log_head WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let leaves = sqlx::query("SELECT leaf FROM log_entries WHERE idx < $1 ORDER BY idx")
        .bind(head)
        .fetch_all(&mut *tx)
        .await?;
    let mut tree = acta_tlog::Tree::new();
    for r in leaves {
        let hex: String = r.get(0);
        let h = acta_note::canon::hex32(&hex).ok_or_else(|| Error::Nothing("stored leaf".into()))?;
        tree.append(h);
    }
    let leaf = acta_tlog::leaf_hash(note.as_bytes());
    let text = acta_note::Note::parse(note.as_bytes())
        .map_err(|e| Error::Nothing(e.to_string()))?
        .text;
    tree.append(leaf);
    sqlx::query("INSERT INTO log_entries (idx, leaf, body, kind, table_id, status, reason, note) VALUES ($1, $2, $3, $4, $5, $6, '', $7)")
        .bind(head)
        .bind(acta_note::canon::to_hex(&leaf))
        .bind(acta_note::canon::to_hex(&acta_sheet::body_hash(text)))
        .bind(kind.as_str())
        .bind(table)
        .bind(status)
        .bind(note)
        .execute(&mut *tx)
        .await?;
    let cp = acta_tlog::Checkpoint {
        origin: g.election.log_origin.clone(),
        size: tree.size(),
        root: tree.root(),
    };
    let signed = acta_note::sign(&cp.to_text(), &[&g.center]).map_err(|e| Error::Nothing(e.to_string()))?;
    sqlx::query("INSERT INTO checkpoints (size, root, note, cosigned, cosignatures) VALUES ($1, $2, $3, $3, 0)")
        .bind(head + 1)
        .bind(acta_note::canon::to_hex(&cp.root))
        .bind(&signed)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE log_head SET size = $1 WHERE id = 1")
        .bind(head + 1)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    pool.close().await;
    Ok(head as u64)
}

/// What a lying proxy serves instead of the center.
struct Lies {
    upstream: String,
    http: reqwest::Client,
    /// Path → body served in place of the center's.
    replaced: BTreeMap<String, Vec<u8>>,
    /// Paths refused as not published (tiles of the genuine log that the
    /// forked one does not have).
    fork: Option<acta_tlog::Tree>,
}

/// Starts a lying proxy in front of the center at `upstream` for a lie
/// that needs one; returns its URL.
pub async fn proxy(upstream: &str, auth: &Authority<'_>, lie: &Lie) -> Result<Option<String>, Error> {
    let client = acta_api::Client::new(upstream);
    let http = reqwest::Client::new();
    let g = auth.ceremony;
    let center = |e: acta_api::ClientError| Error::Center(e.to_string());
    let mut replaced = BTreeMap::new();
    let mut fork = None;
    match lie {
        Lie::SwapPackage => {
            let mut e = g.election.clone();
            e.software = acta_note::canon::to_hex(&[0x5a; 32]);
            let package = acta_note::sign(&e.to_text(), &[&g.authority])
                .map_err(|e| Error::Nothing(e.to_string()))?;
            replaced.insert(acta_api::ELECTION.to_string(), package.into_bytes());
        }
        Lie::AreaFigure => {
            let mut areas: Vec<acta_api::Totals> =
                client.json(acta_api::RESULTS_AREAS).await.map_err(center)?;
            let t = areas
                .iter_mut()
                .find(|t| acta_election::Level::of(&t.area) == Some(acta_election::Level::Municipality))
                .ok_or_else(|| Error::Nothing("no municipality".into()))?;
            t.ballots += 50;
            t.authenticated += 50;
            if let Some((_, n)) = t.contests.first_mut().and_then(|c| c.votes.first_mut()) {
                *n += 50;
            }
            let one = serde_json::to_vec(&*t).map_err(|e| Error::Nothing(e.to_string()))?;
            replaced.insert(format!("/api/results/area/{}", t.area), one);
            replaced.insert(
                acta_api::RESULTS_AREAS.to_string(),
                serde_json::to_vec(&areas).map_err(|e| Error::Nothing(e.to_string()))?,
            );
        }
        Lie::ForkLog => {
            let cp = acta_tlog::Checkpoint::parse(
                acta_note::Note::parse(client.checkpoint().await.map_err(center)?.as_bytes())
                    .map_err(|e| Error::Nothing(e.to_string()))?
                    .text,
            )
            .map_err(|e| Error::Nothing(e.to_string()))?;
            let mut entries = Vec::new();
            while (entries.len() as u64) < cp.size {
                let start = entries.len() as u64;
                let page = client
                    .entries(start, (start + acta_api::MAX_PAGE).min(cp.size))
                    .await
                    .map_err(center)?;
                if page.is_empty() {
                    return Err(Error::Center("entries stop early".into()));
                }
                entries.extend(page);
            }
            entries.truncate(cp.size as usize);
            // Cut out the first counted acta; renumber what follows.
            let cut = entries
                .iter()
                .position(|e| e.status == acta_api::Status::Counted)
                .ok_or_else(|| Error::Nothing("no counted acta to cut".into()))?;
            entries.remove(cut);
            let mut tree = acta_tlog::Tree::new();
            for (i, e) in entries.iter_mut().enumerate() {
                e.index = i as u64;
                tree.append(acta_tlog::leaf_hash(e.note.as_bytes()));
            }
            let forked = acta_tlog::Checkpoint {
                origin: g.election.log_origin.clone(),
                size: tree.size(),
                root: tree.root(),
            };
            let note = acta_note::sign(&forked.to_text(), &[&g.center])
                .map_err(|e| Error::Nothing(e.to_string()))?;
            replaced.insert("/log/checkpoint".into(), note.into_bytes());
            for t in acta_tlog::Tile::entry_bundles(tree.size()) {
                let first = t.first() as usize;
                let b = acta_tlog::tile::write_bundle(
                    entries[first..first + usize::from(t.width)].iter().map(|e| e.note.as_bytes()),
                )
                .map_err(|e| Error::Nothing(e.to_string()))?;
                replaced.insert(format!("/log/{}", t.path()), b);
            }
            for start in (0..tree.size()).step_by(acta_api::MAX_PAGE as usize) {
                let end = (start + acta_api::MAX_PAGE).min(tree.size());
                let page: Vec<acta_api::LoggedEntry> = entries[start as usize..end as usize]
                    .iter()
                    .cloned()
                    .map(|mut e| {
                        e.note = String::new();
                        e
                    })
                    .collect();
                replaced.insert(
                    format!("{}?start={start}&end={end}&notes=false", acta_api::ENTRIES),
                    serde_json::to_vec(&page).map_err(|e| Error::Nothing(e.to_string()))?,
                );
            }
            fork = Some(tree);
        }
        _ => return Ok(None),
    }
    let lies = Arc::new(Lies {
        upstream: upstream.trim_end_matches('/').to_string(),
        http,
        replaced,
        fork,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::Center(e.to_string()))?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| Error::Center(e.to_string()))?);
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let lies = lies.clone();
        async move { lies.answer(req).await }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Some(url))
}

impl Lies {
    async fn answer(&self, req: axum::extract::Request) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        if let Some(body) = self.replaced.get(&path) {
            return body.clone().into_response();
        }
        if let Some(tree) = &self.fork {
            // Hash tiles of the forked tree; anything else of the log is not there.
            if let Some(p) = path.strip_prefix("/log/") {
                return match acta_tlog::Tile::parse_path(p).ok().and_then(|t| tree.tile(&t)) {
                    Some(b) => b.into_response(),
                    None => axum::http::StatusCode::NOT_FOUND.into_response(),
                };
            }
        }
        let method = req.method().clone();
        let body = match axum::body::to_bytes(req.into_body(), 1 << 20).await {
            Ok(b) => b,
            Err(_) => return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        };
        let r = self
            .http
            .request(method, format!("{}{path}", self.upstream))
            .body(body)
            .send()
            .await;
        match r {
            Ok(r) => {
                let status = r.status();
                let bytes = r.bytes().await.unwrap_or_default();
                (status, bytes).into_response()
            }
            Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in NAMES.split(", ") {
            let s = s.replace("=N", "=3");
            let lie: Lie = s.parse().unwrap();
            assert_eq!(lie.to_string(), s);
        }
        assert!("drop-tables=0".parse::<Lie>().is_err());
        assert!("fork".parse::<Lie>().is_err());
    }

    #[test]
    fn moving_votes_keeps_the_total() {
        let v = "PRES C1 10\nPRES C2 4\nPRES (blank) 1\nPRES (null) 0\n";
        let m = move_votes(v, 7);
        assert_eq!(m, "PRES C1 3\nPRES C2 11\nPRES (blank) 1\nPRES (null) 0\n");
    }
}
