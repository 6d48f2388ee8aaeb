//! The dishonest authority: how the demo and the tests lie, the way a real
//! authority holding the center's database and the center's signing key
//! would — never through a switch inside the center. It has three means:
//!
//! - **database edits** behind the center's back (the center then counts,
//!   publishes and signs whatever the database says, as a captured center
//!   would);
//! - **lies signed with the center key**, appended to the log in the
//!   database exactly as a second center process sharing it would append
//!   them ([`append`]: the running center catches up and the witnesses
//!   cosign — they check that the log only grows, not what it says);
//! - **a lying proxy** in front of the center ([`proxy`]), serving some
//!   readers other bytes than the center does.
//!
//! Each [`Lie`] is one line of the manipulation matrix, told as small as a
//! real authority would tell it. The demo drives them in this order:
//! [`Lie::intercepted`] while transmitting (those tables' actas never reach
//! the center), [`conflicting_acta`] for the insider, [`tell`] after
//! transmission, [`tell_after_announcement`] once the genuine announcement
//! is logged, and [`proxy`] for what observers are shown.
//!
//! This is the one place outside `acta-center` that writes SQL, and it is
//! here precisely because it is an attack on the center's storage: it
//! knows the center's tables (`log_head`, `log_entries`, `table_results`,
//! `checkpoints`) and writes rows the center will take as its own.

use std::collections::BTreeMap;
use std::sync::Arc;

use acta_election::{Election, Kind, BLANK, NULL};
use acta_sheet::{Acta, Announcement, EntryKind, Tally};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::Ceremony;

/// A lie the demo can tell (`acta demo --tamper <lie>`): one line of the
/// manipulation matrix each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lie {
    /// `inflate-turnout=N`: N more authenticated voters and N more ballots,
    /// spread over the counted tables. A real authority edits the per-table
    /// figures the center counts from; the log is untouched.
    InflateTurnout(u64),
    /// `alter-votes`: at three counted tables, up to 7 votes moved from the
    /// leading choice of a contest to the runner-up. A real authority edits
    /// the per-table figures in the database; the signed actas in the log
    /// still say otherwise.
    AlterVotes,
    /// `drop-tables=N`: the authority's network intercepts the actas of N
    /// tables before they reach the center, so they are never logged; then
    /// it counts their figures (read off the paper) by inserting per-table
    /// rows in the database. The announcement counts every table, the log
    /// holds N actas fewer.
    DropTables(usize),
    /// `phantom-table`: the last table of the package never transmits (its
    /// acta is intercepted); the authority inserts a per-table row with
    /// invented, plausible figures, so a table with no acta is counted.
    PhantomTable,
    /// `wrong-machine`: a table's acta is intercepted and replaced by one
    /// with 50 more voters signed by a machine key nobody certified (same
    /// machine name), appended to the log in the database as a counted
    /// entry, its figures counted.
    WrongMachine,
    /// `conflicting-acta`: an insider at a table makes its certified
    /// machine sign a second, different acta (one vote moved) and
    /// transmits it through the normal path ([`conflicting_acta`]).
    ConflictingActa,
    /// `swap-package`: a proxy serves, as the election package, one
    /// re-signed by the authority alone (no auditor countersignatures) with
    /// another software release hash.
    SwapPackage,
    /// `fork-log`: a proxy serves a log with one counted acta cut out and
    /// every later entry renumbered, under a checkpoint signed with the
    /// center key — and no witness cosignature, for the witnesses refuse a
    /// log that does not extend the one they saw.
    ForkLog,
    /// `hide-alarms`: the alarms of every counted acta are zeroed in the
    /// database, and held actas are marked counted and their figures
    /// counted, as if they were clean.
    HideAlarms,
    /// `wrong-seats`: after the genuine announcement, a second one, signed
    /// with the center key, moves a seat between parties (or gives a
    /// plurality win to the runner-up); appended to the log in the database.
    WrongSeats,
    /// `miscount`: the machines of as few tables as it takes are
    /// compromised — each prints true receipts but signs an acta that moves
    /// the votes of the leading candidate of a national plurality contest to
    /// the runner-up, so the runner-up is announced the winner. Every acta
    /// is authentic and every published figure adds up: only a hand count
    /// of the receipts against the actas (`acta audit`) can find it.
    Miscount,
    /// `stuff-ballots`: the machines of one table in ten are compromised;
    /// at closing each casts, for the national leader, ballots for 70 % of
    /// the voters who did not come, writes them into its journal (an
    /// authentication and a ballot each, in the minutes before the close
    /// line) and signs the acta that counts them. Every acta and journal is
    /// authentic and every figure adds up; the ballot boxes hold no receipt
    /// for them. The forensic screens point at these tables
    /// ([`stuff_ballots`]); a hand count of their boxes proves it.
    StuffBallots,
    /// `area-figure`: a proxy adds 50 ballots (and 50 votes to one choice)
    /// to one municipality's published totals, on its results page and in
    /// the list of every area's totals.
    AreaFigure,
}

/// Every lie's name, as typed.
pub const NAMES: &str = "inflate-turnout=N, alter-votes, drop-tables=N, phantom-table, wrong-machine, conflicting-acta, swap-package, fork-log, hide-alarms, wrong-seats, area-figure, miscount, stuff-ballots";

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
            Some(("drop-tables", n)) => Lie::DropTables(
                usize::try_from(number(n, "drop-tables")?)
                    .map_err(|_| format!("drop-tables={n} is too many"))?,
            ),
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
                "miscount" => Lie::Miscount,
                "stuff-ballots" => Lie::StuffBallots,
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
            Lie::Miscount => f.write_str("miscount"),
            Lie::StuffBallots => f.write_str("stuff-ballots"),
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
    /// Nothing to lie about (no counted table, no alarm, no intercepted
    /// acta, …), or a stored or given note that does not parse.
    #[error("nothing to lie about: {0}")]
    Nothing(String),
}

fn nothing(e: impl std::fmt::Display) -> Error {
    Error::Nothing(e.to_string())
}

/// What the authority holds: the center's database and key, the package.
pub struct Authority<'a> {
    /// The center's database URL.
    pub db: String,
    /// The ceremony: package, center and authority keys, machine keys.
    pub ceremony: &'a Ceremony,
    /// The signed actas of the tables it intercepted, by table id (for
    /// `drop-tables` and `wrong-machine`: the figures on the paper).
    pub intercepted: BTreeMap<String, String>,
}

impl Lie {
    /// The tables whose genuine acta the authority's network intercepts
    /// before it reaches the center (`drop-tables`, `phantom-table`,
    /// `wrong-machine`); their zero reports go through.
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

/// The center's database, as the center itself opens it (on SQLite, a
/// writer waits for the center's transactions instead of failing).
async fn connect(url: &str) -> Result<AnyPool, Error> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    Ok(AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    sqlx::query("PRAGMA busy_timeout = 30000")
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

/// A `sqlx` integer column is signed.
fn int(n: u64) -> Result<i64, Error> {
    i64::try_from(n).map_err(|_| Error::Nothing(format!("{n} does not fit the database")))
}

/// One row of `table_results`, as the center writes it.
struct Figures {
    registered: u64,
    authenticated: u64,
    ballots: u64,
    alarms: u64,
    /// `contest choice n` lines, as the center keeps them.
    votes: String,
}

impl Figures {
    fn of(acta: &Acta) -> Figures {
        let mut votes = String::new();
        for c in &acta.contests {
            for (ch, n) in c
                .votes
                .iter()
                .map(|(c, n)| (c.as_str(), *n))
                .chain([(BLANK, c.blank), (NULL, c.null)])
            {
                votes.push_str(&format!("{} {ch} {n}\n", c.contest));
            }
        }
        Figures {
            registered: acta.registered.into(),
            authenticated: acta.authenticated.into(),
            ballots: acta.ballots.into(),
            alarms: acta.alarms.iter().map(|&n| u64::from(n)).sum(),
            votes,
        }
    }
}

async fn insert_result(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    index: u64,
    f: &Figures,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO table_results (table_id, idx, registered, authenticated, ballots, alarms, votes) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(table)
        .bind(int(index)?)
        .bind(int(f.registered)?)
        .bind(int(f.authenticated)?)
        .bind(int(f.ballots)?)
        .bind(int(f.alarms)?)
        .bind(f.votes.clone())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The log index of a table's zero report, where a forged row can point
/// (0 when it has none).
async fn zero_index(tx: &mut Transaction<'static, Any>, table: &str) -> Result<u64, Error> {
    let at = sqlx::query("SELECT idx FROM log_entries WHERE table_id = $1 AND kind = $2")
        .bind(table)
        .bind(EntryKind::Zero.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.get::<i64, _>(0))
        .unwrap_or(0);
    Ok(u64::try_from(at).unwrap_or(0))
}

fn parse_acta(note: &str) -> Result<Acta, Error> {
    let text = acta_note::Note::parse(note.as_bytes())
        .map_err(nothing)?
        .text;
    Acta::parse(text).map_err(nothing)
}

/// Tells the database and signed-log lies (`inflate-turnout`,
/// `alter-votes`, `drop-tables`, `phantom-table`, `wrong-machine`,
/// `hide-alarms`), after transmission and before the announcement; the
/// other lies need nothing here. Each is one transaction.
pub async fn tell(auth: &Authority<'_>, lie: &Lie) -> Result<(), Error> {
    let election = &auth.ceremony.election;
    match lie {
        Lie::InflateTurnout(_)
        | Lie::AlterVotes
        | Lie::DropTables(_)
        | Lie::PhantomTable
        | Lie::WrongMachine
        | Lie::HideAlarms => {}
        _ => return Ok(()),
    }
    if let Lie::WrongMachine = lie {
        // The forged entry goes through the log first (its own transaction,
        // under the log lock); its figures are counted after.
        let (table, note) = auth
            .intercepted
            .iter()
            .next()
            .ok_or_else(|| Error::Nothing("no intercepted table".into()))?;
        let mut acta = parse_acta(note)?;
        let more = 50.min(acta.registered.saturating_sub(acta.authenticated));
        acta.ballots += more;
        acta.authenticated += more;
        if let Some((_, n)) = acta.contests.first_mut().and_then(|c| c.votes.first_mut()) {
            *n += more;
        }
        // A machine nobody certified, bearing the table's machine name.
        let forger = acta_note::Signer::generate(&acta.machine).map_err(nothing)?;
        let forged = acta.sign(&forger);
        let g = auth.ceremony;
        let index = append(
            &auth.db,
            &g.center,
            election,
            &forged,
            EntryKind::Acta,
            table,
            acta_api::Status::Counted,
        )
        .await?;
        let pool = connect(&auth.db).await?;
        let mut tx = pool.begin().await?;
        insert_result(&mut tx, table, index, &Figures::of(&acta)).await?;
        tx.commit().await?;
        pool.close().await;
        return Ok(());
    }
    let pool = connect(&auth.db).await?;
    let mut tx = pool.begin().await?;
    match lie {
        Lie::InflateTurnout(n) => {
            let tables: Vec<String> =
                sqlx::query("SELECT table_id FROM table_results ORDER BY table_id")
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.get::<String, _>(0))
                    .collect();
            if tables.is_empty() {
                return Err(Error::Nothing("no counted table to inflate".into()));
            }
            let k = tables.len() as u64;
            for (i, t) in tables.iter().enumerate() {
                // N split as evenly as integers allow: exactly N in all.
                let share = n / k + u64::from((i as u64) < n % k);
                if share == 0 {
                    continue;
                }
                sqlx::query("UPDATE table_results SET authenticated = authenticated + $1, ballots = ballots + $1 WHERE table_id = $2")
                    .bind(int(share)?)
                    .bind(t)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Lie::AlterVotes => {
            let rows = sqlx::query("SELECT table_id, votes FROM table_results ORDER BY table_id")
                .fetch_all(&mut *tx)
                .await?;
            let mut altered = 0;
            for r in rows {
                let (table, votes): (String, String) = (r.get(0), r.get(1));
                let Some(moved) = move_votes(&votes, 7) else {
                    continue;
                };
                sqlx::query("UPDATE table_results SET votes = $1 WHERE table_id = $2")
                    .bind(moved)
                    .bind(&table)
                    .execute(&mut *tx)
                    .await?;
                altered += 1;
                if altered == 3 {
                    break;
                }
            }
            if altered == 0 {
                return Err(Error::Nothing("no counted table has votes to move".into()));
            }
        }
        Lie::DropTables(_) => {
            if auth.intercepted.is_empty() {
                return Err(Error::Nothing("no intercepted acta".into()));
            }
            for (table, note) in &auth.intercepted {
                let acta = parse_acta(note)?;
                let at = zero_index(&mut tx, table).await?;
                insert_result(&mut tx, table, at, &Figures::of(&acta)).await?;
            }
        }
        Lie::PhantomTable => {
            let table = lie
                .intercepted(election)
                .into_iter()
                .next()
                .ok_or_else(|| Error::Nothing("the package has no table".into()))?;
            let figures = invented(election, &table)?;
            let at = zero_index(&mut tx, &table).await?;
            insert_result(&mut tx, &table, at, &figures).await?;
        }
        Lie::HideAlarms => {
            let held = sqlx::query("SELECT idx, table_id, note FROM log_entries WHERE status = $1 AND kind = $2 ORDER BY idx")
                .bind(acta_api::Status::Held.as_str())
                .bind(EntryKind::Acta.as_str())
                .fetch_all(&mut *tx)
                .await?;
            let mut hidden = 0u64;
            for r in held {
                let (idx, table, note): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
                let counted = sqlx::query("SELECT 1 FROM table_results WHERE table_id = $1")
                    .bind(&table)
                    .fetch_optional(&mut *tx)
                    .await?;
                if counted.is_some() {
                    continue;
                }
                sqlx::query("UPDATE log_entries SET status = $1 WHERE idx = $2")
                    .bind(acta_api::Status::Counted.as_str())
                    .bind(idx)
                    .execute(&mut *tx)
                    .await?;
                let index = u64::try_from(idx).map_err(nothing)?;
                insert_result(&mut tx, &table, index, &Figures::of(&parse_acta(&note)?)).await?;
                hidden += 1;
            }
            hidden += sqlx::query("UPDATE table_results SET alarms = 0 WHERE alarms > 0")
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if hidden == 0 {
                return Err(Error::Nothing("no acta carries an alarm".into()));
            }
        }
        _ => {}
    }
    tx.commit().await?;
    pool.close().await;
    Ok(())
}

/// Invented figures for a table that never transmitted, in the shape of a
/// real acta: the package's registered voters, 60 % turnout, 2 % blank and
/// 1 % null in each contest on its ballot, the rest split over the choices
/// with uneven weights drawn from the table and contest.
fn invented(election: &Election, table: &str) -> Result<Figures, Error> {
    use sha2::Digest as _;
    let t = election
        .table(table)
        .ok_or_else(|| Error::Nothing(format!("no table {table} in the package")))?;
    let registered = u64::from(t.registered);
    let ballots = registered * 3 / 5;
    let mut votes = String::new();
    for c in election.ballot(table) {
        let choices = c.choices();
        let (blank, null) = (ballots / 50, ballots / 100);
        let marks = ballots - blank - null;
        let weights: Vec<u64> = choices
            .iter()
            .map(|ch| {
                let h = sha2::Sha256::digest(format!("{table} {} {ch}", c.id).as_bytes());
                1 + u64::from(h[0] % 20)
            })
            .collect();
        for (ch, n) in choices.iter().zip(split(marks, &weights)) {
            votes.push_str(&format!("{} {ch} {n}\n", c.id));
        }
        votes.push_str(&format!(
            "{} {BLANK} {blank}\n{} {NULL} {null}\n",
            c.id, c.id
        ));
    }
    Ok(Figures {
        registered,
        authenticated: ballots,
        ballots,
        alarms: 0,
        votes,
    })
}

/// `total` split in proportion to `weights`, by largest remainder: the
/// parts add up to `total` exactly.
fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u64 = weights.iter().sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let mut parts: Vec<u64> = weights.iter().map(|w| total * w / sum).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(total * weights[i] % sum));
    let short = total - parts.iter().sum::<u64>();
    for &i in order.iter().take(short as usize) {
        parts[i] += 1;
    }
    parts
}

/// Moves up to `n` votes from the leading choice of a contest to the
/// runner-up, in the center's `contest choice n` lines: the first contest
/// (in the lines' order) with at least two choices and a leader with votes.
/// `None` when there is no such contest.
fn move_votes(votes: &str, n: u64) -> Option<String> {
    let mut lines: Vec<(String, String, u64)> = Vec::new();
    for l in votes.lines() {
        let mut f = l.split(' ');
        let (Some(c), Some(ch), Some(k), None) = (f.next(), f.next(), f.next(), f.next()) else {
            return None;
        };
        lines.push((c.to_string(), ch.to_string(), k.parse().ok()?));
    }
    let mut contests: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    contests.dedup();
    for contest in contests {
        let mut choices: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].0 == contest && lines[i].1 != BLANK && lines[i].1 != NULL)
            .collect();
        // Leader first, runner-up second (ties by line order).
        choices.sort_by_key(|&i| std::cmp::Reverse(lines[i].2));
        if let [from, to, ..] = choices[..] {
            let k = n.min(lines[from].2);
            if k == 0 {
                continue;
            }
            let mut lines = lines.clone();
            lines[from].2 -= k;
            lines[to].2 += k;
            return Some(
                lines
                    .iter()
                    .map(|(c, ch, n)| format!("{c} {ch} {n}\n"))
                    .collect(),
            );
        }
    }
    None
}

/// Tells the lie signed after the genuine announcement (`wrong-seats`): a
/// second announcement, the latest one with a seat moved in a national
/// contest, signed with the center key and appended to the log. Returns
/// its log index, or `None` for the other lies.
pub async fn tell_after_announcement(
    auth: &Authority<'_>,
    lie: &Lie,
) -> Result<Option<u64>, Error> {
    if *lie != Lie::WrongSeats {
        return Ok(None);
    }
    let pool = connect(&auth.db).await?;
    let note: String =
        sqlx::query("SELECT note FROM log_entries WHERE kind = $1 ORDER BY idx DESC LIMIT 1")
            .bind(EntryKind::Announcement.as_str())
            .fetch_optional(&pool)
            .await?
            .map(|r| r.get(0))
            .ok_or_else(|| Error::Nothing("no announcement in the log".into()))?;
    pool.close().await;
    let g = auth.ceremony;
    let election = &g.election;
    let mut ann = Announcement::open(note.as_bytes(), election).map_err(nothing)?;
    // National contests first, party lists before pluralities.
    let mut order: Vec<usize> = (0..ann.contests.len()).collect();
    let rank = |t: &Tally| {
        let c = election.contest(&t.contest);
        (
            c.is_none_or(|c| !c.scope.is_empty()),
            c.is_none_or(|c| c.kind != Kind::PartyList),
        )
    };
    order.sort_by_key(|&i| rank(&ann.contests[i]));
    let moved = order.into_iter().any(|i| {
        let t = &mut ann.contests[i];
        election
            .contest(&t.contest)
            .is_some_and(|c| move_seat(c.kind, t))
    });
    if !moved {
        return Err(Error::Nothing("no contest with a seat to move".into()));
    }
    let forged = ann.sign(&g.center);
    append(
        &auth.db,
        &g.center,
        election,
        &forged,
        EntryKind::Announcement,
        "",
        acta_api::Status::Logged,
    )
    .await
    .map(Some)
}

/// Moves one seat in an announced tally: from the list with the most seats
/// to the best-voted other list; a plurality win to the best-voted
/// candidate who did not win; a referendum to the other side.
fn move_seat(kind: Kind, t: &mut Tally) -> bool {
    let mut seats: BTreeMap<String, u32> = t.seats.iter().cloned().collect();
    match kind {
        Kind::PartyList => {
            let Some(from) = seats
                .iter()
                .max_by_key(|(c, n)| (**n, std::cmp::Reverse((*c).clone())))
                .map(|(c, _)| c.clone())
            else {
                return false;
            };
            let Some(to) = t
                .votes
                .iter()
                .filter(|(c, _)| *c != from)
                .max_by_key(|(_, n)| *n)
                .map(|(c, _)| c.clone())
            else {
                return false;
            };
            if let Some(n) = seats.get_mut(&from) {
                *n -= 1;
            }
            *seats.entry(to).or_default() += 1;
        }
        Kind::Plurality => {
            let mut per: BTreeMap<&str, u64> = BTreeMap::new();
            for (c, n) in &t.votes {
                *per.entry(acta_election::candidate_of(c)).or_default() += n;
            }
            let Some((runner_up, _)) = per
                .iter()
                .filter(|(c, _)| !seats.contains_key(**c))
                .max_by_key(|(_, n)| **n)
            else {
                return false;
            };
            let runner_up = runner_up.to_string();
            let Some(winner) = seats.keys().next().cloned() else {
                return false;
            };
            seats.remove(&winner);
            seats.insert(runner_up, 1);
        }
        Kind::Referendum => {
            let side = match seats.keys().next().map(String::as_str) {
                Some("YES") => "NO",
                _ => "YES",
            };
            seats = [(side.to_string(), 1)].into();
        }
        _ => return false,
    }
    t.seats = seats.into_iter().filter(|(_, n)| *n > 0).collect();
    true
}

/// The insider at the table of `index` (in package order): its certified
/// machine signs a second acta for the table with one vote moved between
/// the first two choices of a contest — otherwise valid, so the center
/// logs it as a conflict.
pub fn conflicting_acta(g: &Ceremony, index: usize, genuine: &str) -> Result<String, Error> {
    let mut acta = parse_acta(genuine)?;
    let machine = g
        .machines
        .get(index)
        .ok_or_else(|| Error::Nothing(format!("no table {index} in the package")))?;
    let c = acta
        .contests
        .iter_mut()
        .find(|c| c.votes.len() >= 2 && c.votes[0].1 > 0)
        .ok_or_else(|| Error::Nothing("no vote to move".into()))?;
    c.votes[0].1 -= 1;
    c.votes[1].1 += 1;
    Ok(acta.sign(machine))
}

/// Appends a signed note to the log in the center's database as a second
/// center process would: in one transaction under the log's row lock (the
/// one the center's sequencer takes), the leaf after the last stored one,
/// the entry row, a checkpoint of the new size signed with the center key
/// (not yet cosigned) and the new head. Returns the entry's index. The
/// running center catches up from the database; its witnesses cosign the
/// new checkpoint because the log only grew.
pub async fn append(
    db_url: &str,
    center: &acta_note::Signer,
    election: &Election,
    note: &str,
    kind: EntryKind,
    table: &str,
    status: acta_api::Status,
) -> Result<u64, Error> {
    let text = acta_note::Note::parse(note.as_bytes())
        .map_err(nothing)?
        .text;
    let body = acta_sheet::body_hash(text);
    let leaf = acta_tlog::leaf_hash(note.as_bytes());
    let pool = connect(db_url).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE log_head SET size = size WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    let head: i64 = sqlx::query("SELECT size FROM log_head WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let leaves = sqlx::query("SELECT idx, leaf FROM log_entries WHERE idx < $1 ORDER BY idx")
        .bind(head)
        .fetch_all(&mut *tx)
        .await?;
    let mut tree = acta_tlog::Tree::new();
    for (k, r) in leaves.iter().enumerate() {
        let (idx, hex): (i64, String) = (r.get(0), r.get(1));
        let h = acta_note::canon::hex32(&hex)
            .filter(|_| idx == k as i64)
            .ok_or_else(|| Error::Nothing(format!("stored log entry {k}")))?;
        tree.append(h);
    }
    if tree.size() != u64::try_from(head).map_err(nothing)? {
        return Err(Error::Nothing(format!(
            "the stored log stops before its head {head}"
        )));
    }
    let index = tree.append(leaf);
    sqlx::query("INSERT INTO log_entries (idx, leaf, body, kind, table_id, status, reason, note) VALUES ($1, $2, $3, $4, $5, $6, '', $7)")
        .bind(int(index)?)
        .bind(acta_note::canon::to_hex(&leaf))
        .bind(acta_note::canon::to_hex(&body))
        .bind(kind.as_str())
        .bind(table)
        .bind(status.as_str())
        .bind(note)
        .execute(&mut *tx)
        .await?;
    let cp = acta_tlog::Checkpoint {
        origin: election.log_origin.clone(),
        size: tree.size(),
        root: tree.root(),
    };
    let signed = acta_note::sign(&cp.to_text(), &[center]).map_err(nothing)?;
    sqlx::query("INSERT INTO checkpoints (size, root, note, cosigned, cosignatures) VALUES ($1, $2, $3, $3, 0)")
        .bind(int(cp.size)?)
        .bind(acta_note::canon::to_hex(&cp.root))
        .bind(&signed)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE log_head SET size = $1 WHERE id = 1")
        .bind(int(cp.size)?)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    pool.close().await;
    Ok(index)
}

/// What a lying proxy serves in place of the center's answers.
enum Served {
    /// `swap-package`: this package at [`acta_api::ELECTION`].
    Package(Vec<u8>),
    /// `fork-log`: the forked log at `/log/…` and [`acta_api::ENTRIES`].
    Fork(Fork),
    /// `area-figure`: this municipality's figures rewritten.
    Area(String),
}

/// A log forked from the center's: its entries (renumbered), their tree,
/// and a checkpoint of it signed with the center key.
struct Fork {
    entries: Vec<acta_api::LoggedEntry>,
    tree: acta_tlog::Tree,
    checkpoint: String,
}

struct Proxy {
    upstream: String,
    http: reqwest::Client,
    served: Served,
}

/// Starts a lying proxy in front of the center at `upstream` for a lie
/// that needs one (`swap-package`, `fork-log`, `area-figure`) and returns
/// its URL (`http://127.0.0.1:<port>`); `None` for the other lies. It
/// serves what the lie changes and forwards every other request to the
/// center unchanged, for as long as the tokio runtime runs. A `fork-log`
/// fork is cut once, here, from the log the center serves now.
pub async fn proxy(
    upstream: &str,
    auth: &Authority<'_>,
    lie: &Lie,
) -> Result<Option<String>, Error> {
    let client = acta_api::Client::new(upstream);
    let g = auth.ceremony;
    let served = match lie {
        Lie::SwapPackage => {
            let mut e = g.election.clone();
            e.software = acta_note::canon::to_hex(&[0x5a; 32]);
            let package = acta_note::sign(&e.to_text(), &[&g.authority]).map_err(nothing)?;
            Served::Package(package.into_bytes())
        }
        Lie::AreaFigure => {
            let center = |e: acta_api::ClientError| Error::Center(e.to_string());
            let areas: Vec<acta_api::Totals> =
                client.json(acta_api::RESULTS_AREAS).await.map_err(center)?;
            let area = areas
                .iter()
                .filter(|t| {
                    acta_election::Level::of(&t.area) == Some(acta_election::Level::Municipality)
                })
                .find(|t| t.ballots > 0 && t.contests.iter().any(|c| !c.votes.is_empty()))
                .ok_or_else(|| Error::Nothing("no municipality with ballots".into()))?;
            Served::Area(area.area.clone())
        }
        Lie::ForkLog => Served::Fork(fork(&client, g).await?),
        _ => return Ok(None),
    };
    let proxy = Arc::new(Proxy {
        upstream: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
        served,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::Center(e.to_string()))?;
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .map_err(|e| Error::Center(e.to_string()))?
    );
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let proxy = proxy.clone();
        async move { proxy.answer(req).await }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Some(url))
}

/// The center's log at its public checkpoint with the first counted acta
/// cut out, every later entry renumbered.
async fn fork(client: &acta_api::Client, g: &Ceremony) -> Result<Fork, Error> {
    let center = |e: acta_api::ClientError| Error::Center(e.to_string());
    let note = client.checkpoint().await.map_err(center)?;
    let cp = acta_tlog::Checkpoint::parse(
        acta_note::Note::parse(note.as_bytes())
            .map_err(nothing)?
            .text,
    )
    .map_err(nothing)?;
    let mut entries = Vec::new();
    while (entries.len() as u64) < cp.size {
        let start = entries.len() as u64;
        let page = client
            .entries(start, (start + acta_api::MAX_PAGE).min(cp.size))
            .await
            .map_err(center)?;
        if page.is_empty() {
            return Err(Error::Center(format!(
                "entries stop at {start} of {}",
                cp.size
            )));
        }
        entries.extend(page);
    }
    entries.truncate(usize::try_from(cp.size).map_err(nothing)?);
    let cut = entries
        .iter()
        .position(|e| e.kind == EntryKind::Acta.as_str() && e.status == acta_api::Status::Counted)
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
    let checkpoint = acta_note::sign(&forked.to_text(), &[&g.center]).map_err(nothing)?;
    Ok(Fork {
        entries,
        tree,
        checkpoint,
    })
}

/// `start`, `end` and `notes` of an entries query, as the center reads them.
fn range(query: &str) -> Option<(u64, u64, bool)> {
    let (mut start, mut end, mut notes) = (None, None, true);
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        match kv.split_once('=')? {
            ("start", v) => start = Some(v.parse().ok()?),
            ("end", v) => end = Some(v.parse().ok()?),
            ("notes", v) => notes = v.parse().ok()?,
            _ => {}
        }
    }
    Some((start?, end?, notes))
}

type Response = axum::response::Response;

fn respond(content_type: &'static str, body: Vec<u8>) -> Response {
    use axum::response::IntoResponse as _;
    ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
}

fn refuse(status: axum::http::StatusCode, what: &str) -> Response {
    use axum::response::IntoResponse as _;
    let body = serde_json::to_vec(&acta_api::ErrorBody {
        error: what.to_string(),
    })
    .unwrap_or_default();
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

impl Fork {
    fn answer(&self, path: &str, query: &str) -> Option<Response> {
        use axum::http::StatusCode;
        if path == "/log/checkpoint" {
            return Some(respond(
                "text/plain; charset=utf-8",
                self.checkpoint.clone().into_bytes(),
            ));
        }
        if let Some(p) = path.strip_prefix("/log/") {
            let Ok(t) = acta_tlog::Tile::parse_path(p) else {
                return Some(refuse(StatusCode::NOT_FOUND, "no such tile"));
            };
            let bytes = match t.level {
                acta_tlog::TileLevel::Hashes(_) => self.tree.tile(&t),
                acta_tlog::TileLevel::Entries => {
                    let first = usize::try_from(t.first()).ok()?;
                    self.entries
                        .get(first..first + usize::from(t.width))
                        .and_then(|es| {
                            acta_tlog::tile::write_bundle(es.iter().map(|e| e.note.as_bytes())).ok()
                        })
                }
            };
            return Some(match bytes {
                Some(b) => respond("application/octet-stream", b),
                None => refuse(StatusCode::NOT_FOUND, "no such tile in the log"),
            });
        }
        if path == acta_api::ENTRIES {
            let Some((start, end, notes)) = range(query) else {
                return Some(refuse(StatusCode::BAD_REQUEST, "start and end are numbers"));
            };
            // Clamped to the log and to a page, as the center does.
            let size = self.entries.len() as u64;
            let start = start.min(size);
            let end = end
                .min(size)
                .min(start.saturating_add(acta_api::MAX_PAGE))
                .max(start);
            let page: Vec<acta_api::LoggedEntry> = self.entries[start as usize..end as usize]
                .iter()
                .cloned()
                .map(|mut e| {
                    if !notes {
                        e.note = String::new();
                    }
                    e
                })
                .collect();
            return Some(respond("application/json", serde_json::to_vec(&page).ok()?));
        }
        None
    }
}

/// Adds 50 ballots, 50 authenticated voters and 50 votes for the first
/// choice of its first contest to an area's totals.
fn inflate(t: &mut acta_api::Totals) {
    t.ballots += 50;
    t.authenticated += 50;
    if let Some((_, n)) = t.contests.iter_mut().find_map(|c| c.votes.first_mut()) {
        *n += 50;
    }
}

impl Proxy {
    async fn answer(&self, req: axum::extract::Request) -> Response {
        use axum::http::StatusCode;
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let get = req.method() == axum::http::Method::GET;
        match &self.served {
            Served::Package(p) if get && path == acta_api::ELECTION => {
                return respond("text/plain; charset=utf-8", p.clone());
            }
            Served::Fork(f) if get => {
                if let Some(r) = f.answer(&path, &query) {
                    return r;
                }
            }
            Served::Area(code) if get => {
                let one = path.strip_prefix("/api/results/area/") == Some(code.as_str());
                if one || path == acta_api::RESULTS_AREAS {
                    let Ok((status, bytes)) = self.upstream(req).await else {
                        return refuse(StatusCode::BAD_GATEWAY, "the center did not answer");
                    };
                    if !status.is_success() {
                        use axum::response::IntoResponse as _;
                        return (status, bytes).into_response();
                    }
                    let rewritten = if one {
                        serde_json::from_slice::<acta_api::Totals>(&bytes)
                            .ok()
                            .and_then(|mut t| {
                                inflate(&mut t);
                                serde_json::to_vec(&t).ok()
                            })
                    } else {
                        serde_json::from_slice::<Vec<acta_api::Totals>>(&bytes)
                            .ok()
                            .and_then(|mut all| {
                                all.iter_mut().filter(|t| t.area == *code).for_each(inflate);
                                serde_json::to_vec(&all).ok()
                            })
                    };
                    return match rewritten {
                        Some(b) => respond("application/json", b),
                        None => refuse(StatusCode::BAD_GATEWAY, "the center's totals do not parse"),
                    };
                }
            }
            _ => {}
        }
        self.forward(req).await
    }

    /// The center's status and body for a request.
    async fn upstream(
        &self,
        req: axum::extract::Request,
    ) -> Result<(axum::http::StatusCode, Vec<u8>), ()> {
        let r = self.send(req).await?;
        let status = r.status();
        let bytes = r.bytes().await.map_err(|_| ())?;
        Ok((status, bytes.to_vec()))
    }

    async fn send(&self, req: axum::extract::Request) -> Result<reqwest::Response, ()> {
        let target = match req.uri().path_and_query() {
            Some(pq) => format!("{}{}", self.upstream, pq.as_str()),
            None => self.upstream.clone(),
        };
        let method = req.method().clone();
        let content_type = req.headers().get(axum::http::header::CONTENT_TYPE).cloned();
        let body = axum::body::to_bytes(req.into_body(), 1 << 20)
            .await
            .map_err(|_| ())?;
        let mut r = self.http.request(method, target).body(body);
        if let Some(ct) = content_type {
            r = r.header(axum::http::header::CONTENT_TYPE, ct);
        }
        r.send().await.map_err(|_| ())
    }

    /// Forwards a request to the center and its answer back, unchanged
    /// (status, content type, `Retry-After`, body).
    async fn forward(&self, req: axum::extract::Request) -> Response {
        use axum::response::IntoResponse as _;
        let Ok(r) = self.send(req).await else {
            return refuse(
                axum::http::StatusCode::BAD_GATEWAY,
                "the center did not answer",
            );
        };
        let status = r.status();
        let mut headers = axum::http::HeaderMap::new();
        for name in [
            axum::http::header::CONTENT_TYPE,
            axum::http::header::RETRY_AFTER,
        ] {
            if let Some(v) = r.headers().get(&name) {
                headers.insert(name, v.clone());
            }
        }
        match r.bytes().await {
            Ok(bytes) => (status, headers, bytes).into_response(),
            Err(_) => refuse(
                axum::http::StatusCode::BAD_GATEWAY,
                "the center's answer broke off",
            ),
        }
    }
}

/// The first national single-winner plurality contest (the presidency):
/// what `miscount` and `stuff-ballots` lie about.
fn presidency(e: &Election) -> Result<&acta_election::Contest, Error> {
    e.contests
        .iter()
        .find(|c| c.scope.is_empty() && c.kind == Kind::Plurality && c.seats == 1)
        .ok_or_else(|| Error::Nothing("no national single-winner plurality contest".into()))
}

/// Tells `miscount` at the machines, before anything is transmitted: in the
/// first national single-winner plurality contest, the actas of the tables
/// where the leader has most votes are re-signed by their own machines with
/// all of the leader's votes moved to the runner-up's first card, table
/// after table, until the runner-up leads by at least one vote more than a
/// fiftieth of the old margin. Ballots, turnout and the records root stay
/// as counted, so the actas still add up. Returns the tables altered.
pub fn miscount(g: &Ceremony, actas: &mut [String]) -> Result<Vec<String>, Error> {
    let e = &g.election;
    let contest = presidency(e)?;
    let mut parsed: Vec<Acta> = actas
        .iter()
        .map(|a| parse_acta(a))
        .collect::<Result<_, _>>()?;
    let candidate_votes = |a: &Acta, who: &str| -> u64 {
        a.contests
            .iter()
            .filter(|c| c.contest == contest.id)
            .flat_map(|c| c.votes.iter())
            .filter(|(code, _)| acta_election::candidate_of(code) == who)
            .map(|(_, n)| u64::from(*n))
            .sum()
    };
    let mut totals: Vec<(u64, &str)> = contest
        .candidates
        .iter()
        .map(|c| {
            (
                parsed.iter().map(|a| candidate_votes(a, &c.id)).sum(),
                c.id.as_str(),
            )
        })
        .collect();
    totals.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let [(tw, w), (tl, l), ..] = totals[..] else {
        return Err(Error::Nothing(
            "the contest has fewer than two candidates".into(),
        ));
    };
    let (w, l) = (w.to_string(), l.to_string());
    let mut order: Vec<usize> = (0..parsed.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(candidate_votes(&parsed[i], &w)));
    let mut lead = i128::from(tw) - i128::from(tl);
    let target = -(i128::from(tw - tl) / 50 + 1);
    let mut altered = Vec::new();
    for i in order {
        if lead <= target {
            break;
        }
        let a = &mut parsed[i];
        let Some(c) = a.contests.iter_mut().find(|c| c.contest == contest.id) else {
            continue;
        };
        let moved: u32 = c
            .votes
            .iter()
            .filter(|(code, _)| acta_election::candidate_of(code) == w)
            .map(|(_, n)| *n)
            .sum();
        let Some(to) = c
            .votes
            .iter()
            .position(|(code, _)| acta_election::candidate_of(code) == l)
        else {
            continue;
        };
        if moved == 0 {
            continue;
        }
        for v in c.votes.iter_mut() {
            if acta_election::candidate_of(&v.0) == w {
                v.1 = 0;
            }
        }
        c.votes[to].1 += moved;
        lead -= 2 * i128::from(moved);
        actas[i] = a.sign(&g.machines[i]);
        altered.push(a.table.clone());
    }
    if lead > 0 {
        return Err(Error::Nothing("not enough votes to move".into()));
    }
    Ok(altered)
}

/// Share of the non-voters [`stuff_ballots`] casts for.
pub const STUFFED_SHARE: f64 = 0.7;

/// Tells `stuff-ballots` at the machines, before anything is transmitted:
/// at every tenth table (positions 3, 13, 23, …) the machine casts, for
/// the first card of the candidate with most votes nationally in the first
/// national single-winner plurality contest, `floor(0.7 × (registered − authenticated))` ballots (blank in
/// every other contest), each an authentication and a ballot line in its
/// journal spread over the time between its last line and the close line,
/// and re-signs its acta with the new counts and journal head. The zero
/// report's head (after the open line) is untouched. Returns the tables
/// stuffed.
pub fn stuff_ballots(
    g: &Ceremony,
    days: &mut [crate::simulate::TableDay],
) -> Result<Vec<String>, Error> {
    use acta_sheet::journal::{chain, Event, Line};
    let e = &g.election;
    let contest = presidency(e)?;
    let mut parsed: Vec<Acta> = days
        .iter()
        .map(|d| parse_acta(&d.acta))
        .collect::<Result<_, _>>()?;
    // The leading candidate, over all its cards; the stuffed ballots go to
    // its first card.
    let mut totals = std::collections::BTreeMap::<String, u64>::new();
    for a in &parsed {
        for c in a.contests.iter().filter(|c| c.contest == contest.id) {
            for (code, n) in &c.votes {
                *totals
                    .entry(acta_election::candidate_of(code).to_string())
                    .or_default() += u64::from(*n);
            }
        }
    }
    let candidate = totals
        .iter()
        .max_by_key(|(code, n)| (**n, std::cmp::Reverse((*code).clone())))
        .map(|(c, _)| c.clone())
        .ok_or_else(|| Error::Nothing("no votes in the national contest".into()))?;
    let leader = contest
        .choices()
        .into_iter()
        .find(|c| acta_election::candidate_of(c) == candidate)
        .ok_or_else(|| Error::Nothing("the leader has no card".into()))?;
    let mut stuffed = Vec::new();
    for (i, (day, a)) in days.iter_mut().zip(parsed.iter_mut()).enumerate() {
        if i % 10 != 3 {
            continue;
        }
        let n = ((a.registered - a.authenticated) as f64 * STUFFED_SHARE).floor() as u32;
        if n == 0 {
            continue;
        }
        let mut lines: Vec<Line> = Vec::with_capacity(day.journal.len() + 2 * n as usize);
        let mut close = None;
        for (k, text) in day.journal.iter().enumerate() {
            let l = Line::parse(text, k + 1).map_err(nothing)?;
            if matches!(l.event, Event::Close(_)) {
                close = Some(l.at);
                break;
            }
            lines.push(l);
        }
        let close =
            close.ok_or_else(|| Error::Nothing(format!("table {}: no close line", a.table)))?;
        let from = lines.last().map_or(close, |l| l.at);
        let span = close.saturating_sub(from).max(1);
        for k in 0..u64::from(n) {
            let at = from + span * k / u64::from(n);
            lines.push(Line {
                at,
                event: Event::Authenticated(false),
            });
            lines.push(Line {
                at,
                event: Event::Ballot,
            });
        }
        a.authenticated += n;
        a.ballots += n;
        lines.push(Line {
            at: close,
            event: Event::Close(a.ballots),
        });
        for c in a.contests.iter_mut() {
            match c
                .votes
                .iter_mut()
                .find(|(code, _)| c.contest == contest.id && *code == leader)
            {
                Some(v) => v.1 += n,
                None => c.blank += n,
            }
        }
        day.journal = lines.iter().map(Line::to_text).collect();
        a.journal = day.journal.iter().fold([0u8; 32], |h, l| chain(h, l));
        day.acta = a.sign(&g.machines[i]);
        stuffed.push(a.table.clone());
    }
    Ok(stuffed)
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
        let v = "PRES C1 10\nPRES C2 4\nPRES C3 5\nPRES (blank) 1\nPRES (null) 0\n";
        let m = move_votes(v, 7).unwrap();
        assert_eq!(
            m,
            "PRES C1 3\nPRES C2 4\nPRES C3 12\nPRES (blank) 1\nPRES (null) 0\n"
        );
        // A contest with one choice, or no votes, is passed over.
        let v = "A X 9\nA (blank) 0\nA (null) 0\nB Y 0\nB Z 0\nC P 2\nC Q 0\n";
        assert_eq!(
            move_votes(v, 7).unwrap(),
            "A X 9\nA (blank) 0\nA (null) 0\nB Y 0\nB Z 0\nC P 0\nC Q 2\n"
        );
        assert_eq!(move_votes("A X 9\n", 7), None);
    }

    #[test]
    fn splits_add_up() {
        for total in [0u64, 1, 7, 100, 12345] {
            let w = [3, 1, 19, 7];
            assert_eq!(split(total, &w).iter().sum::<u64>(), total);
        }
        assert_eq!(split(10, &[1, 1]), vec![5, 5]);
    }

    #[test]
    fn seats_move() {
        let mut t = Tally {
            contest: "ASM".into(),
            votes: vec![("P1".into(), 100), ("P2".into(), 60), ("P3".into(), 10)],
            blank: 0,
            null: 0,
            seats: vec![("P1".into(), 1), ("P2".into(), 1)],
        };
        assert!(move_seat(Kind::PartyList, &mut t));
        assert_eq!(t.seats, vec![("P2".to_string(), 2)]);
        let mut t = Tally {
            contest: "PRES".into(),
            votes: vec![
                ("C1/P1".into(), 100),
                ("C1/P2".into(), 5),
                ("C2/P2".into(), 60),
            ],
            blank: 0,
            null: 0,
            seats: vec![("C1".into(), 1)],
        };
        assert!(move_seat(Kind::Plurality, &mut t));
        assert_eq!(t.seats, vec![("C2".to_string(), 1)]);
    }

    #[test]
    fn entries_queries() {
        assert_eq!(
            range("start=0&end=1000&notes=false"),
            Some((0, 1000, false))
        );
        assert_eq!(range("end=5&start=2"), Some((2, 5, true)));
        assert_eq!(range("start=2"), None);
    }
}
