//! The dishonest authority: how the demo and the tests lie, the way a real
//! authority with the center's database and key would — never through a
//! switch inside the center. It edits the center's database behind the
//! center's back; the center then counts, publishes and signs whatever the
//! database says, as a captured center would.
//!
//! This is the one place outside `acta-center` that writes SQL, and it is
//! here precisely because it is an attack on the center's storage.

use sqlx::any::AnyPoolOptions;
use sqlx::Row;

/// A lie the demo can tell (`acta demo --tamper <lie>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lie {
    /// Add exactly N voters to the turnout: N more authenticated voters and
    /// N more ballots, spread over the counted tables.
    InflateTurnout(u64),
}

impl std::str::FromStr for Lie {
    type Err = String;
    fn from_str(s: &str) -> Result<Lie, String> {
        match s.split_once('=') {
            Some(("inflate-turnout", n)) => acta_note::canon::decimal(n)
                .filter(|&n| n > 0)
                .map(Lie::InflateTurnout)
                .ok_or_else(|| format!("inflate-turnout takes a positive number, not {n:?}")),
            _ => Err(format!("unknown lie {s:?}; known: inflate-turnout=N")),
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
    /// Nothing to lie about yet.
    #[error("no counted table to inflate")]
    NothingCounted,
}

/// Tells the lie by editing the center's database at `url`.
pub async fn tell(url: &str, lie: &Lie) -> Result<(), Error> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
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
                return Err(Error::NothingCounted);
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
    }
    pool.close().await;
    Ok(())
}
