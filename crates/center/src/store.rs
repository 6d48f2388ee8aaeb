//! The center's database: one portable schema for SQLite and PostgreSQL.

use std::collections::BTreeMap;

use acta_election::{Election, BLANK, NULL};
use acta_sheet::{Acta, Tally};
use acta_tlog::Tree;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

use crate::Error;

const SCHEMA: [&str; 4] = [
    // Every authentic acta, in log order, exactly as received. `body` is the
    // SHA-256 of the acta text: its identity. `status` is counted, held or
    // conflict; `reason` says why an acta is held.
    "CREATE TABLE IF NOT EXISTS log_entries (
        idx BIGINT PRIMARY KEY,
        leaf TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL UNIQUE,
        table_id TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        acta TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS table_results (
        table_id TEXT PRIMARY KEY,
        idx BIGINT NOT NULL,
        registered BIGINT NOT NULL,
        authenticated BIGINT NOT NULL,
        ballots BIGINT NOT NULL,
        alarms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS votes (
        table_id TEXT NOT NULL,
        contest TEXT NOT NULL,
        choice TEXT NOT NULL,
        votes BIGINT NOT NULL,
        PRIMARY KEY (table_id, contest, choice))",
    "CREATE TABLE IF NOT EXISTS announcements (
        size BIGINT PRIMARY KEY,
        note TEXT NOT NULL)",
];

/// What became of a logged acta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Status {
    /// The table's first acta, and its figures can be: counted.
    Counted,
    /// The table's first acta, but its figures cannot be: held, not counted.
    Held,
    /// A later, different acta for a table: evidence, not counted.
    Conflict,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Counted => "counted",
            Status::Held => "held",
            Status::Conflict => "conflict",
        }
    }
    fn parse(s: &str) -> Result<Status, Error> {
        Ok(match s {
            "counted" => Status::Counted,
            "held" => Status::Held,
            "conflict" => Status::Conflict,
            other => return Err(Error::Corrupt(format!("unknown entry status {other:?}"))),
        })
    }
}

/// Totals of an area as the center counts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Area code (`""` = whole country).
    pub area: String,
    /// Tables with a counted acta.
    pub tables_reported: u64,
    /// Tables in the area.
    pub tables_total: u64,
    /// Tables whose acta is held.
    pub held: u64,
    /// Registered voters at tables that reported.
    pub registered: u64,
    /// Registered voters in the whole area.
    pub registered_total: u64,
    /// Voters authenticated.
    pub authenticated: u64,
    /// Ballots cast.
    pub ballots: u64,
    /// Per contest voted on in the area, with seats by the package's rules.
    pub contests: Vec<Tally>,
}

/// One logged entry as stored.
#[derive(Debug, Clone)]
pub(crate) struct EntryRow {
    pub(crate) index: u64,
    pub(crate) status: Status,
    pub(crate) reason: String,
    pub(crate) table: String,
    pub(crate) acta: String,
}

/// A new log entry to store.
pub(crate) struct NewEntry<'a> {
    pub(crate) index: u64,
    pub(crate) leaf: &'a str,
    pub(crate) body: &'a str,
    pub(crate) signed: &'a [u8],
    pub(crate) acta: &'a Acta,
    pub(crate) status: Status,
    pub(crate) reason: &'a str,
}

pub(crate) struct Store {
    pool: AnyPool,
}

fn like(area: &str) -> String {
    if area.is_empty() {
        "%".to_string()
    } else {
        format!("{area}.%")
    }
}

impl Store {
    pub(crate) async fn connect(url: &str) -> Result<Store, Error> {
        sqlx::any::install_default_drivers();
        let url = if url.starts_with("sqlite:") && !url.contains('?') {
            format!("{url}?mode=rwc")
        } else {
            url.to_string()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if url.starts_with("sqlite:") { 1 } else { 8 })
            .connect(&url)
            .await?;
        for stmt in SCHEMA {
            sqlx::query(stmt).execute(&pool).await?;
        }
        Ok(Store { pool })
    }

    /// Appends to `tree` every stored entry beyond its size, re-hashing the
    /// stored acta bytes: a row whose bytes do not hash to its stored leaf,
    /// or an index out of sequence, is corruption and stops everything.
    pub(crate) async fn extend_tree(&self, tree: &mut Tree) -> Result<(), Error> {
        let rows =
            sqlx::query("SELECT idx, leaf, acta FROM log_entries WHERE idx >= $1 ORDER BY idx")
                .bind(tree.size() as i64)
                .fetch_all(&self.pool)
                .await?;
        for r in &rows {
            let idx = r.get::<i64, _>(0) as u64;
            if idx != tree.size() {
                return Err(Error::Corrupt(format!(
                    "log entry {} is missing (next stored entry is {idx})",
                    tree.size()
                )));
            }
            let leaf = acta_tlog::leaf_hash(r.get::<String, _>(2).as_bytes());
            if hex::encode(leaf) != r.get::<String, _>(1) {
                return Err(Error::Corrupt(format!(
                    "log entry {idx}: the stored acta does not hash to its stored leaf"
                )));
            }
            tree.append(leaf);
        }
        Ok(())
    }

    /// The log index of the acta with this body hash, if logged.
    pub(crate) async fn find_body(&self, body: &str) -> Result<Option<u64>, Error> {
        let row = sqlx::query("SELECT idx FROM log_entries WHERE body = $1")
            .bind(body)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<i64, _>(0) as u64))
    }

    /// The log index of the first acta of a table, if any.
    pub(crate) async fn first_entry(&self, table: &str) -> Result<Option<u64>, Error> {
        let row = sqlx::query("SELECT MIN(idx) FROM log_entries WHERE table_id = $1")
            .bind(table)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).map(|i| i as u64))
    }

    /// Appends a log entry, and counts it when it is counted, in one transaction.
    pub(crate) async fn append(&self, e: NewEntry<'_>) -> Result<(), Error> {
        let (index, acta) = (e.index, e.acta);
        let signed = std::str::from_utf8(e.signed)
            .map_err(|_| Error::Corrupt("an opened note is UTF-8".into()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO log_entries (idx, leaf, body, table_id, status, reason, acta) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(index as i64)
            .bind(e.leaf)
            .bind(e.body)
            .bind(&acta.table)
            .bind(e.status.as_str())
            .bind(e.reason)
            .bind(signed)
            .execute(&mut *tx)
            .await?;
        if e.status == Status::Counted {
            sqlx::query("INSERT INTO table_results (table_id, idx, registered, authenticated, ballots, alarms) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&acta.table)
                .bind(index as i64)
                .bind(acta.registered as i64)
                .bind(acta.authenticated as i64)
                .bind(acta.ballots as i64)
                .bind(acta.alarms.iter().map(|&a| a as i64).sum::<i64>())
                .execute(&mut *tx)
                .await?;
            for c in &acta.contests {
                let rows = c
                    .votes
                    .iter()
                    .map(|(ch, n)| (ch.as_str(), *n))
                    .chain([(BLANK, c.blank), (NULL, c.null)]);
                for (choice, n) in rows {
                    sqlx::query("INSERT INTO votes (table_id, contest, choice, votes) VALUES ($1, $2, $3, $4)")
                        .bind(&acta.table)
                        .bind(&c.contest)
                        .bind(choice)
                        .bind(n as i64)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn entries(&self, start: u64, end: u64) -> Result<Vec<EntryRow>, Error> {
        let rows = sqlx::query(
            "SELECT idx, status, reason, table_id, acta FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(start as i64)
        .bind(end as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_row).collect()
    }

    pub(crate) async fn table_entries(&self, table: &str) -> Result<Vec<EntryRow>, Error> {
        let rows = sqlx::query(
            "SELECT idx, status, reason, table_id, acta FROM log_entries WHERE table_id = $1 ORDER BY idx",
        )
        .bind(table)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_row).collect()
    }

    /// Every entry with a status, in log order.
    pub(crate) async fn entries_with(&self, status: Status) -> Result<Vec<EntryRow>, Error> {
        let rows = sqlx::query(
            "SELECT idx, status, reason, table_id, acta FROM log_entries WHERE status = $1 ORDER BY idx",
        )
        .bind(status.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_row).collect()
    }

    /// The per-table figures the center counts (what its totals are made of).
    pub(crate) async fn table_results(&self) -> Result<Vec<TableResult>, Error> {
        let rows = sqlx::query("SELECT table_id, idx, registered, authenticated, ballots FROM table_results ORDER BY table_id").fetch_all(&self.pool).await?;
        let mut out: Vec<TableResult> = rows
            .iter()
            .map(|r| TableResult {
                table: r.get(0),
                index: r.get::<i64, _>(1) as u64,
                registered: r.get::<i64, _>(2) as u64,
                authenticated: r.get::<i64, _>(3) as u64,
                ballots: r.get::<i64, _>(4) as u64,
                votes: BTreeMap::new(),
            })
            .collect();
        let votes =
            sqlx::query("SELECT table_id, contest, choice, votes FROM votes ORDER BY table_id")
                .fetch_all(&self.pool)
                .await?;
        let mut k = 0;
        for v in &votes {
            let t: String = v.get(0);
            while k < out.len() && out[k].table < t {
                k += 1;
            }
            if k < out.len() && out[k].table == t {
                out[k]
                    .votes
                    .entry(v.get(1))
                    .or_default()
                    .insert(v.get(2), v.get::<i64, _>(3) as u64);
            }
        }
        Ok(out)
    }

    pub(crate) async fn totals(&self, election: &Election, area: &str) -> Result<Totals, Error> {
        let pattern = like(area);
        let row = sqlx::query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(registered), 0) AS BIGINT), CAST(COALESCE(SUM(authenticated), 0) AS BIGINT), CAST(COALESCE(SUM(ballots), 0) AS BIGINT) FROM table_results WHERE table_id LIKE $1",
        )
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query("SELECT contest, choice, CAST(SUM(votes) AS BIGINT) FROM votes WHERE table_id LIKE $1 GROUP BY contest, choice ORDER BY contest, choice")
            .bind(&pattern)
            .fetch_all(&self.pool)
            .await?;
        let held = sqlx::query(
            "SELECT COUNT(*) FROM log_entries WHERE status = 'held' AND table_id LIKE $1",
        )
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await?
        .get::<i64, _>(0) as u64;
        let mut by: BTreeMap<String, Tally> = BTreeMap::new();
        for r in &rows {
            let contest: String = r.get(0);
            let choice: String = r.get(1);
            let n = r.get::<i64, _>(2) as u64;
            let c = by.entry(contest.clone()).or_insert_with(|| Tally {
                contest,
                ..Tally::default()
            });
            match choice.as_str() {
                BLANK => c.blank = n,
                NULL => c.null = n,
                _ => c.votes.push((choice, n)),
            }
        }
        let in_area: Vec<_> = election
            .tables
            .iter()
            .filter(|t| area.is_empty() || t.id.starts_with(&format!("{area}.")))
            .collect();
        let mut contests: Vec<Tally> = by.into_values().collect();
        for c in &mut contests {
            if let Some(def) = election.contest(&c.contest) {
                c.seats = acta_election::seats(def, &c.votes);
            }
        }
        Ok(Totals {
            area: area.to_string(),
            tables_reported: row.get::<i64, _>(0) as u64,
            tables_total: in_area.len() as u64,
            held,
            registered: row.get::<i64, _>(1) as u64,
            registered_total: in_area.iter().map(|t| t.registered as u64).sum(),
            authenticated: row.get::<i64, _>(2) as u64,
            ballots: row.get::<i64, _>(3) as u64,
            contests,
        })
    }

    pub(crate) async fn save_announcement(&self, size: u64, note: &str) -> Result<(), Error> {
        sqlx::query("DELETE FROM announcements WHERE size = $1")
            .bind(size as i64)
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO announcements (size, note) VALUES ($1, $2)")
            .bind(size as i64)
            .bind(note)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// A `(idx, status, reason, table_id, acta)` row of `log_entries`.
fn entry_row(r: &sqlx::any::AnyRow) -> Result<EntryRow, Error> {
    Ok(EntryRow {
        index: r.get::<i64, _>(0) as u64,
        status: Status::parse(&r.get::<String, _>(1))?,
        reason: r.get(2),
        table: r.get(3),
        acta: r.get(4),
    })
}

/// One table's figures as counted by the center.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableResult {
    /// Table id.
    pub table: String,
    /// Log index of the counted acta.
    pub index: u64,
    /// Registered.
    pub registered: u64,
    /// Authenticated.
    pub authenticated: u64,
    /// Ballots.
    pub ballots: u64,
    /// contest → choice (or `(blank)`, `(null)`) → votes.
    pub votes: BTreeMap<String, BTreeMap<String, u64>>,
}
