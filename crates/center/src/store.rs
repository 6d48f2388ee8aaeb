//! The center's database: one portable schema for SQLite and PostgreSQL
//! (BIGINT and TEXT columns, `$n` placeholders). Only this module knows SQL.
//!
//! Invariants the center keeps and checks on every start:
//!
//! - `log_entries` holds indices `0..log_head.size` with no gap, each note
//!   hashing to its stored leaf;
//! - a checkpoint is stored for `log_head.size`, in the same transaction as
//!   the entries it covers, and every stored checkpoint's root is the root of
//!   the tree at its size;
//! - `table_results` holds one row per counted acta, written in the same
//!   transaction as its log entry; a table with two rows stops every read
//!   of the totals (checked on each read, not on start).

use std::collections::BTreeMap;

use acta_api::{Status, TableResult};
use acta_election::{BLANK, NULL};
use acta_sheet::{Acta, EntryKind};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::Error;

const SCHEMA: [&str; 8] = [
    // The single row every writer locks before sequencing: one log, one order,
    // however many center processes share the database.
    "CREATE TABLE IF NOT EXISTS log_head (
        id BIGINT PRIMARY KEY,
        size BIGINT NOT NULL)",
    // Every logged note, in log order, exactly as received. `body` is the
    // SHA-256 of the note text: the entry's identity, unique (and with it
    // the leaf, the hash of the whole note). Its uniqueness is checked, not
    // indexed: the sequencer decides under the log lock from a view caught
    // up with every committed entry, and every start re-reads the log and
    // refuses one that repeats a text. An index of random hashes would cost
    // one page write per entry.
    "CREATE TABLE IF NOT EXISTS log_entries (
        idx BIGINT PRIMARY KEY,
        leaf TEXT NOT NULL,
        body TEXT NOT NULL,
        kind TEXT NOT NULL,
        table_id TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        note TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS log_entries_table ON log_entries (table_id)",
    "CREATE INDEX IF NOT EXISTS log_entries_kind ON log_entries (kind, status)",
    // The entries of one kind from an index on (the audit steps since the
    // last one read).
    "CREATE INDEX IF NOT EXISTS log_entries_kind_idx ON log_entries (kind, idx)",
    // The figures of each counted acta; `votes` is `contest choice n` lines.
    // Keyed by log index, so rows append; one row per table is what the
    // sequencer writes (the first acta of a table is the one counted) and
    // what every read of the totals checks.
    "CREATE TABLE IF NOT EXISTS table_results (
        idx BIGINT PRIMARY KEY,
        table_id TEXT NOT NULL,
        registered BIGINT NOT NULL,
        authenticated BIGINT NOT NULL,
        ballots BIGINT NOT NULL,
        alarms BIGINT NOT NULL,
        votes TEXT NOT NULL)",
    // Every checkpoint the center ever signed; `cosigned` adds the witnesses'
    // cosignatures as they arrive.
    "CREATE TABLE IF NOT EXISTS checkpoints (
        size BIGINT PRIMARY KEY,
        root TEXT NOT NULL,
        note TEXT NOT NULL,
        cosigned TEXT NOT NULL,
        cosignatures BIGINT NOT NULL)",
    "INSERT INTO log_head (id, size) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
];

/// A stored entry, without or with its note.
#[derive(Debug, Clone)]
pub(crate) struct EntryRow {
    pub(crate) index: u64,
    pub(crate) leaf: String,
    pub(crate) body: String,
    pub(crate) kind: EntryKind,
    pub(crate) table: String,
    pub(crate) status: Status,
    pub(crate) reason: String,
    pub(crate) note: String,
}

/// A stored checkpoint.
#[derive(Debug, Clone)]
pub(crate) struct CheckpointRow {
    pub(crate) size: u64,
    pub(crate) root: String,
    pub(crate) note: String,
    pub(crate) cosigned: String,
}

/// The figures of a counted acta as the totals read them back.
#[derive(Debug, Clone)]
pub(crate) struct Counted {
    pub(crate) table: String,
    pub(crate) index: u64,
    pub(crate) registered: u64,
    pub(crate) authenticated: u64,
    pub(crate) ballots: u64,
    pub(crate) alarms: u64,
    /// `(contest, slot, votes)` in the [`Layout`]'s numbering, in the
    /// stored order: a few bytes a figure where maps of names took a
    /// hundred (at 470,000 tables the difference is gigabytes).
    pub(crate) votes: Vec<(u16, u16, u64)>,
}

/// The package's contests and each one's slots — its choices, sorted, then
/// blank and null — numbered once, so that stored figures are read into
/// numbers and named again only where a page shows them.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// Contest ids, sorted as the package sorts them.
    pub(crate) contests: Vec<String>,
    /// Per contest, its slot names.
    pub(crate) slots: Vec<Vec<String>>,
}

impl Layout {
    pub(crate) fn of(election: &acta_election::Election) -> Layout {
        Layout {
            contests: election.contests.iter().map(|c| c.id.clone()).collect(),
            slots: election.contests.iter().map(|c| c.slots()).collect(),
        }
    }

    /// The numbers of contest `c` and its slot `ch`.
    fn find(&self, c: &str, ch: &str) -> Option<(u16, u16)> {
        let k = self.contests.binary_search_by(|x| x.as_str().cmp(c)).ok()?;
        let slot = self.slots[k].iter().position(|x| x == ch)?;
        Some((u16::try_from(k).ok()?, u16::try_from(slot).ok()?))
    }

    /// Names figures again: contest → slot name → votes.
    pub(crate) fn named(
        &self,
        votes: &[(u16, u16, u64)],
    ) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for &(c, ch, n) in votes {
            out.entry(self.contests[c as usize].clone())
                .or_default()
                .insert(self.slots[c as usize][ch as usize].clone(), n);
        }
        out
    }
}

pub(crate) struct Store {
    pool: AnyPool,
}

/// Every SQLite connection's settings: durable at commit (one fsync of the
/// write-ahead log); a writer waits for another process's lock rather
/// than failing; 64 MiB of page cache, so that a batch's index pages are
/// not read back from the file; the write-ahead log folded into the
/// database every 64 MiB, so that a page rewritten by many batches is
/// copied once.
const SQLITE_PRAGMAS: [&str; 5] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 30000",
    "PRAGMA cache_size = -65536",
    "PRAGMA wal_autocheckpoint = 16384",
];

/// Rows per multi-row INSERT. Binding a `$n` parameter in SQLite looks its
/// name up among all the statement's parameters, so the cost per row grows
/// with the statement: a few dozen rows amortize the statement without that.
const ROWS_PER_STATEMENT: usize = 32;

/// `prefix` followed by `rows` groups of `columns` numbered placeholders.
fn values_sql(prefix: &str, columns: usize, rows: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::from(prefix);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            // Writing to a String cannot fail.
            let _ = write!(sql, "${}", r * columns + c + 1);
        }
        sql.push(')');
    }
    sql
}

/// The `contest choice n` lines of an acta's figures.
fn votes_text(acta: &Acta) -> String {
    use std::fmt::Write as _;
    let mut votes = String::with_capacity(32 * acta.contests.len() * 8);
    for c in &acta.contests {
        for (ch, n) in c
            .votes
            .iter()
            .map(|(ch, n)| (ch.as_str(), *n))
            .chain([(BLANK, c.blank), (NULL, c.null)])
        {
            // Writing to a String cannot fail.
            let _ = writeln!(votes, "{} {ch} {n}", c.contest);
        }
    }
    votes
}

/// A `sqlx` integer column is signed; every index and count the center
/// stores fits in `i64`, and a value that does not is refused, never wrapped.
pub(crate) fn i64_of(n: u64) -> Result<i64, Error> {
    i64::try_from(n).map_err(|_| Error::Corrupt(format!("{n} does not fit the database")))
}

fn u64_of(n: i64) -> Result<u64, Error> {
    u64::try_from(n).map_err(|_| Error::Corrupt(format!("negative stored number {n}")))
}

impl Store {
    pub(crate) async fn connect(url: &str) -> Result<Store, Error> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let url = if sqlite && !url.contains('?') {
            format!("{url}?mode=rwc")
        } else {
            url.to_string()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 1 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        for pragma in SQLITE_PRAGMAS {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        for stmt in SCHEMA {
            sqlx::query(stmt).execute(&pool).await?;
        }
        Ok(Store { pool })
    }

    /// Begins a sequencing transaction: takes the log lock (the head row)
    /// and returns the committed log size.
    pub(crate) async fn lock(&self) -> Result<(Transaction<'static, Any>, u64), Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE log_head SET size = size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let size = sqlx::query("SELECT size FROM log_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?
            .get::<i64, _>(0);
        Ok((tx, u64_of(size)?))
    }

    /// The committed log size, without locking.
    pub(crate) async fn head(&self) -> Result<u64, Error> {
        let size = sqlx::query("SELECT size FROM log_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .get::<i64, _>(0);
        u64_of(size)
    }

    /// Entries `from..to`, in order, with their notes.
    pub(crate) async fn entries_in(
        &self,
        tx: Option<&mut Transaction<'static, Any>>,
        from: u64,
        to: u64,
    ) -> Result<Vec<EntryRow>, Error> {
        let q = sqlx::query(
            "SELECT idx, leaf, body, kind, table_id, status, reason, note FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(i64_of(from)?)
        .bind(i64_of(to)?);
        let rows = match tx {
            Some(tx) => q.fetch_all(&mut **tx).await?,
            None => q.fetch_all(&self.pool).await?,
        };
        rows.iter().map(entry_row).collect()
    }

    /// Inserts entries and the figures of the counted ones, many rows per
    /// statement.
    pub(crate) async fn insert_batch(
        tx: &mut Transaction<'static, Any>,
        entries: &[EntryRow],
        counted: &[(u64, &Acta)],
    ) -> Result<(), Error> {
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let sql = values_sql(
                "INSERT INTO log_entries (idx, leaf, body, kind, table_id, status, reason, note) VALUES ",
                8,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = q
                    .bind(i64_of(e.index)?)
                    .bind(e.leaf.clone())
                    .bind(e.body.clone())
                    .bind(e.kind.as_str())
                    .bind(e.table.clone())
                    .bind(e.status.as_str())
                    .bind(e.reason.clone())
                    .bind(e.note.clone());
            }
            q.execute(&mut **tx).await?;
        }
        for chunk in counted.chunks(ROWS_PER_STATEMENT) {
            let sql = values_sql(
                "INSERT INTO table_results (table_id, idx, registered, authenticated, ballots, alarms, votes) VALUES ",
                7,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for (index, acta) in chunk {
                q = q
                    .bind(acta.table.clone())
                    .bind(i64_of(*index)?)
                    .bind(i64::from(acta.registered))
                    .bind(i64::from(acta.authenticated))
                    .bind(i64::from(acta.ballots))
                    .bind(acta.alarms.iter().map(|&a| i64::from(a)).sum::<i64>())
                    .bind(votes_text(acta));
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub(crate) async fn insert_checkpoint(
        tx: &mut Transaction<'static, Any>,
        size: u64,
        root: &str,
        note: &str,
    ) -> Result<(), Error> {
        sqlx::query("INSERT INTO checkpoints (size, root, note, cosigned, cosignatures) VALUES ($1, $2, $3, $3, 0)")
            .bind(i64_of(size)?)
            .bind(root)
            .bind(note)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE log_head SET size = $1 WHERE id = 1")
            .bind(i64_of(size)?)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Records the cosigned form of a checkpoint.
    pub(crate) async fn set_cosigned(
        &self,
        size: u64,
        note: &str,
        cosignatures: usize,
    ) -> Result<(), Error> {
        sqlx::query("UPDATE checkpoints SET cosigned = $1, cosignatures = $2 WHERE size = $3 AND cosignatures < $2")
            .bind(note)
            .bind(cosignatures as i64)
            .bind(i64_of(size)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every stored checkpoint, by size, read inside `tx` when given.
    pub(crate) async fn checkpoints(
        &self,
        tx: Option<&mut Transaction<'static, Any>>,
    ) -> Result<Vec<CheckpointRow>, Error> {
        let q = sqlx::query("SELECT size, root, note, cosigned FROM checkpoints ORDER BY size");
        let rows = match tx {
            Some(tx) => q.fetch_all(&mut **tx).await?,
            None => q.fetch_all(&self.pool).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(CheckpointRow {
                    size: u64_of(r.get(0))?,
                    root: r.get(1),
                    note: r.get(2),
                    cosigned: r.get(3),
                })
            })
            .collect()
    }

    /// The latest checkpoint with at least `need` cosignatures, cosigned form.
    pub(crate) async fn public_checkpoint(
        &self,
        need: usize,
    ) -> Result<Option<(u64, String)>, Error> {
        let row = sqlx::query(
            "SELECT size, cosigned FROM checkpoints WHERE cosignatures >= $1 ORDER BY size DESC LIMIT 1",
        )
        .bind(need as i64)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((u64_of(r.get(0))?, r.get(1)))).transpose()
    }

    /// The root stored for the checkpoint of `size`, read inside `tx` when given.
    pub(crate) async fn checkpoint_root(
        &self,
        tx: Option<&mut Transaction<'static, Any>>,
        size: u64,
    ) -> Result<Option<String>, Error> {
        let q = sqlx::query("SELECT root FROM checkpoints WHERE size = $1").bind(i64_of(size)?);
        let row = match tx {
            Some(tx) => q.fetch_optional(&mut **tx).await?,
            None => q.fetch_optional(&self.pool).await?,
        };
        Ok(row.map(|r| r.get(0)))
    }

    /// The checkpoint of `size`: the center's note, its cosigned form and
    /// how many witnesses cosigned it.
    pub(crate) async fn checkpoint_at(
        &self,
        size: u64,
    ) -> Result<Option<(String, String, usize)>, Error> {
        let row =
            sqlx::query("SELECT note, cosigned, cosignatures FROM checkpoints WHERE size = $1")
                .bind(i64_of(size)?)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok((r.get(0), r.get(1), u64_of(r.get(2))? as usize)))
            .transpose()
    }

    /// The notes of entries `from..to` (for entry bundles).
    pub(crate) async fn notes(&self, from: u64, to: u64) -> Result<Vec<String>, Error> {
        let rows =
            sqlx::query("SELECT note FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx")
                .bind(i64_of(from)?)
                .bind(i64_of(to)?)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(crate) async fn table_entries(&self, table: &str) -> Result<Vec<EntryRow>, Error> {
        let rows = sqlx::query(
            "SELECT idx, leaf, body, kind, table_id, status, reason, note FROM log_entries WHERE table_id = $1 ORDER BY idx",
        )
        .bind(table)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_row).collect()
    }

    /// Every entry with a status and kind, in log order.
    pub(crate) async fn entries_with(
        &self,
        kind: EntryKind,
        status: Option<Status>,
    ) -> Result<Vec<EntryRow>, Error> {
        let rows = sqlx::query(
            "SELECT idx, leaf, body, kind, table_id, status, reason, note FROM log_entries WHERE kind = $1 AND ($2 = '' OR status = $2) ORDER BY idx",
        )
        .bind(kind.as_str())
        .bind(status.map_or("", Status::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_row).collect()
    }

    /// Entries of `kind` from log index `from` on, in log order.
    pub(crate) async fn entries_with_from(
        &self,
        kind: EntryKind,
        from: u64,
    ) -> Result<Vec<EntryRow>, Error> {
        let rows = sqlx::query(
            "SELECT idx, leaf, body, kind, table_id, status, reason, note FROM log_entries WHERE kind = $1 AND idx >= $2 ORDER BY idx",
        )
        .bind(kind.as_str())
        .bind(i64_of(from)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_row).collect()
    }

    /// The tables of the held actas logged before `size`, sorted.
    pub(crate) async fn held_tables(&self, size: u64) -> Result<Vec<String>, Error> {
        Ok(sqlx::query(
            "SELECT table_id FROM log_entries WHERE status = 'held' AND idx < $1 ORDER BY table_id",
        )
        .bind(i64_of(size)?)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect())
    }

    /// The counted figures of tables in `area` (`""` for all) logged before
    /// `size`, and how many actas there are held, read inside `tx` when given.
    pub(crate) async fn counted(
        &self,
        tx: Option<&mut Transaction<'static, Any>>,
        layout: &Layout,
        area: &str,
        size: u64,
    ) -> Result<(Vec<Counted>, u64), Error> {
        let pattern = if area.is_empty() {
            "%".to_string()
        } else {
            format!("{area}.%")
        };
        let q = sqlx::query("SELECT table_id, idx, registered, authenticated, ballots, votes, alarms FROM table_results WHERE table_id LIKE $1 AND idx < $2 ORDER BY table_id")
            .bind(pattern.clone())
            .bind(i64_of(size)?);
        let h = sqlx::query(
            "SELECT COUNT(*) FROM log_entries WHERE status = 'held' AND table_id LIKE $1 AND idx < $2",
        )
        .bind(pattern)
        .bind(i64_of(size)?);
        let (rows, held) = match tx {
            Some(tx) => (q.fetch_all(&mut **tx).await?, h.fetch_one(&mut **tx).await?),
            None => (
                q.fetch_all(&self.pool).await?,
                h.fetch_one(&self.pool).await?,
            ),
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let text: &str = r.get(5);
            let mut votes = Vec::with_capacity(text.len() / 16);
            for line in text.lines() {
                let mut f = line.split(' ');
                let (Some(c), Some(ch), Some(n), None) = (f.next(), f.next(), f.next(), f.next())
                else {
                    return Err(Error::Corrupt(format!("votes row {line:?}")));
                };
                let n = n
                    .parse()
                    .map_err(|_| Error::Corrupt(format!("votes row {line:?}")))?;
                let (c, ch) = layout.find(c, ch).ok_or_else(|| {
                    Error::Corrupt(format!(
                        "votes row {line:?}: not a contest and choice of the package"
                    ))
                })?;
                votes.push((c, ch, n));
            }
            let table: String = r.get(0);
            if out.last().is_some_and(|c: &Counted| c.table == table) {
                return Err(Error::Corrupt(format!(
                    "table {table} is counted twice in the stored results"
                )));
            }
            out.push(Counted {
                table,
                index: u64_of(r.get(1))?,
                registered: u64_of(r.get(2))?,
                authenticated: u64_of(r.get(3))?,
                ballots: u64_of(r.get(4))?,
                alarms: u64_of(r.get(6))?,
                votes,
            });
        }
        Ok((out, u64_of(held.get::<i64, _>(0))?))
    }
}

impl Counted {
    /// The published form, figures named.
    pub(crate) fn result(self, layout: &Layout) -> TableResult {
        TableResult {
            votes: layout.named(&self.votes),
            table: self.table,
            index: self.index,
            registered: self.registered,
            authenticated: self.authenticated,
            ballots: self.ballots,
            alarms: self.alarms,
        }
    }
}

fn entry_row(r: &AnyRow) -> Result<EntryRow, Error> {
    let kind: String = r.get(3);
    let status: String = r.get(5);
    Ok(EntryRow {
        index: u64_of(r.get(0))?,
        leaf: r.get(1),
        body: r.get(2),
        kind: EntryKind::parse(&kind)
            .ok_or_else(|| Error::Corrupt(format!("unknown entry kind {kind:?}")))?,
        table: r.get(4),
        status: Status::parse(&status)
            .ok_or_else(|| Error::Corrupt(format!("unknown entry status {status:?}")))?,
        reason: r.get(6),
        note: r.get(7),
    })
}
