//! The center's database: one portable schema for SQLite and PostgreSQL.

use std::collections::BTreeMap;

use acta_election::{apportion, Election, Kind};
use acta_sheet::Acta;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

use crate::Error;

const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS log_entries (
        idx BIGINT PRIMARY KEY,
        leaf TEXT NOT NULL UNIQUE,
        table_id TEXT NOT NULL,
        counted BIGINT NOT NULL,
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

/// The blank and null pseudo-choices in the `votes` table; they cannot clash
/// with choice codes, which never contain parentheses.
const BLANK: &str = "(blank)";
const NULL: &str = "(null)";

/// Totals of one contest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestTotals {
    /// Contest id.
    pub contest: String,
    /// Votes per choice code, sorted.
    pub votes: Vec<(String, u64)>,
    /// Blank ballots.
    pub blank: u64,
    /// Null ballots.
    pub null: u64,
    /// Seats won, for party-list and plurality contests (choice or candidate, seats).
    pub seats: Vec<(String, u32)>,
}

/// Totals of an area as the center counts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Area code (`""` = whole country).
    pub area: String,
    /// Tables that reported.
    pub tables_reported: u64,
    /// Tables in the area.
    pub tables_total: u64,
    /// Registered voters at tables that reported.
    pub registered: u64,
    /// Registered voters in the whole area.
    pub registered_total: u64,
    /// Voters authenticated.
    pub authenticated: u64,
    /// Ballots cast.
    pub ballots: u64,
    /// Per contest.
    pub contests: Vec<ContestTotals>,
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

    pub(crate) async fn leaf_hashes(&self) -> Result<Vec<[u8; 32]>, Error> {
        let rows = sqlx::query("SELECT leaf FROM log_entries ORDER BY idx")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                hex::decode(r.get::<String, _>(0))
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .unwrap_or([0; 32])
            })
            .collect())
    }

    pub(crate) async fn find_entry(&self, leaf: &str) -> Result<Option<u64>, Error> {
        let row = sqlx::query("SELECT idx FROM log_entries WHERE leaf = $1")
            .bind(leaf)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<i64, _>(0) as u64))
    }

    pub(crate) async fn counted_index(&self, table: &str) -> Result<Option<u64>, Error> {
        let row = sqlx::query("SELECT idx FROM table_results WHERE table_id = $1")
            .bind(table)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<i64, _>(0) as u64))
    }

    /// Appends a log entry, and counts it when `count` is set, in one transaction.
    pub(crate) async fn append(
        &self,
        index: u64,
        leaf: &str,
        signed: &[u8],
        acta: &Acta,
        count: bool,
    ) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO log_entries (idx, leaf, table_id, counted, acta) VALUES ($1, $2, $3, $4, $5)")
            .bind(index as i64)
            .bind(leaf)
            .bind(&acta.table)
            .bind(count as i64)
            .bind(String::from_utf8_lossy(signed).into_owned())
            .execute(&mut *tx)
            .await?;
        if count {
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

    pub(crate) async fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, String, bool)>, Error> {
        let rows = sqlx::query(
            "SELECT idx, acta, counted FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(start as i64)
        .bind(end as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entry_row).collect())
    }

    pub(crate) async fn table_entries(
        &self,
        table: &str,
    ) -> Result<Vec<(u64, String, bool)>, Error> {
        let rows = sqlx::query(
            "SELECT idx, acta, counted FROM log_entries WHERE table_id = $1 ORDER BY idx",
        )
        .bind(table)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entry_row).collect())
    }

    pub(crate) async fn conflicts(&self) -> Result<Vec<(u64, String, String)>, Error> {
        let rows = sqlx::query(
            "SELECT idx, table_id, acta FROM log_entries WHERE counted = 0 ORDER BY idx",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<i64, _>(0) as u64,
                    r.get::<String, _>(1),
                    r.get::<String, _>(2),
                )
            })
            .collect())
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
        let mut by: BTreeMap<String, ContestTotals> = BTreeMap::new();
        for r in &rows {
            let contest: String = r.get(0);
            let choice: String = r.get(1);
            let n = r.get::<i64, _>(2) as u64;
            let c = by.entry(contest.clone()).or_insert_with(|| ContestTotals {
                contest,
                votes: vec![],
                blank: 0,
                null: 0,
                seats: vec![],
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
        let mut contests: Vec<ContestTotals> = by.into_values().collect();
        for c in &mut contests {
            if let Some(def) = election.contest(&c.contest) {
                c.seats = seats(def, &c.votes);
            }
        }
        Ok(Totals {
            area: area.to_string(),
            tables_reported: row.get::<i64, _>(0) as u64,
            tables_total: in_area.len() as u64,
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

/// A `(idx, acta, counted)` row of `log_entries`.
fn entry_row(r: &sqlx::any::AnyRow) -> (u64, String, bool) {
    (
        r.get::<i64, _>(0) as u64,
        r.get::<String, _>(1),
        r.get::<i64, _>(2) != 0,
    )
}

/// Who wins seats: party lists by their apportionment method; plurality
/// contests by votes summed over each candidate's cards, top `seats`.
pub fn seats(contest: &acta_election::Contest, votes: &[(String, u64)]) -> Vec<(String, u32)> {
    match contest.kind {
        Kind::PartyList => {
            let method = contest.method.unwrap_or(acta_election::Method::DHondt);
            let won = apportion(
                method,
                &votes.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
                contest.seats,
            );
            votes
                .iter()
                .zip(won)
                .filter(|(_, s)| *s > 0)
                .map(|((c, _), s)| (c.clone(), s))
                .collect()
        }
        Kind::Plurality => {
            let mut per: BTreeMap<&str, u64> = BTreeMap::new();
            for (c, n) in votes {
                *per.entry(c.split('/').next().unwrap_or(c)).or_default() += n;
            }
            let mut ranked: Vec<(&str, u64)> = per.into_iter().collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            ranked
                .iter()
                .take(contest.seats as usize)
                .filter(|(_, n)| *n > 0)
                .map(|(c, _)| (c.to_string(), 1))
                .collect()
        }
        _ => Vec::new(),
    }
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
