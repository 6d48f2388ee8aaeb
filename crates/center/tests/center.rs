//! The center's log cannot be wedged or made to lie by callers who go away:
//! ingests are cancelled at random points under concurrency, and afterwards
//! the in-memory tree, the stored rows, a center reopened from storage and
//! every checkpoint signed along the way all agree. And a stored row that no
//! longer hashes to its leaf stops the center from starting.

use acta_center::{Center, Config, Ingest};
use acta_synth::Ceremony;
use acta_tlog::Checkpoint;
use sqlx::Connection as _;

const TABLES: usize = 40;

fn ceremony() -> Ceremony {
    acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 21,
        tables: TABLES,
    })
}

async fn database(backend: &str, dir: &std::path::Path, tag: &str) -> String {
    match backend {
        "sqlite" => format!("sqlite://{}", dir.join(format!("{tag}.db")).display()),
        _ => {
            let base = std::env::var("ACTA_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
                .await
                .expect("PostgreSQL must be running for the PostgreSQL half of the suite");
            let name = format!("acta_center_{tag}_{}", std::process::id());
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            format!("{base}/{name}")
        }
    }
}

async fn open(g: &Ceremony, db: &str) -> Result<Center, acta_center::Error> {
    Center::open(Config {
        database: db.to_string(),
        package: g.package.clone().into_bytes(),
        trust: g.trust.clone(),
        key: g.center.clone(),
    })
    .await
}

/// A small deterministic generator for cancellation points (xorshift).
struct Points(u64);
impl Points {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn cancelled_ingests_leave_log_rows_and_checkpoints_in_agreement(backend: &str) {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path(), "cancel").await;
    let center = open(&g, &db).await.unwrap();
    let key: acta_note::Verifier = g.election.center_key.parse().unwrap();
    let actas: Vec<String> = (0..TABLES).map(|i| g.day(i, 3).acta).collect();
    let mut points = Points(0x9E37_79B9_7F4A_7C15);
    let mut checkpoints = Vec::new();
    // Three rounds: every acta is submitted each round by a task that is
    // aborted after a random number of scheduler yields (often mid-flight).
    for _ in 0..3 {
        let mut tasks = Vec::new();
        for a in &actas {
            let (c, a) = (center.clone(), a.clone());
            let yields = points.next(40);
            let task = tokio::spawn(async move { c.ingest(a.as_bytes()).await });
            tasks.push((task, yields));
        }
        for (task, yields) in tasks {
            for _ in 0..yields {
                tokio::task::yield_now().await;
            }
            task.abort();
            checkpoints.push(center.checkpoint().await);
        }
    }
    // Whatever was cancelled, a final pass logs every acta exactly once.
    for a in &actas {
        match center.ingest(a.as_bytes()).await.unwrap() {
            Ingest::Accepted { .. } | Ingest::Duplicate { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let last = Checkpoint::open(center.checkpoint().await.as_bytes(), &key).unwrap();
    assert_eq!(last.size, TABLES as u64, "each acta logged exactly once");
    // A center reopened from the rows rebuilds the same tree.
    drop(center);
    let reopened = open(&g, &db).await.unwrap();
    let again = Checkpoint::open(reopened.checkpoint().await.as_bytes(), &key).unwrap();
    assert_eq!((again.size, again.root), (last.size, last.root));
    // Every checkpoint signed along the way is a prefix of the final log.
    let mut tree = acta_tlog::Tree::new();
    let mut leaves = Vec::new();
    let client = reqwest_free_entries(&reopened).await;
    for e in &client {
        leaves.push(acta_tlog::leaf_hash(e.as_bytes()));
        tree.append(*leaves.last().unwrap());
    }
    assert_eq!(
        tree.root(),
        last.root,
        "the stored rows hash to the signed root"
    );
    for cp in &checkpoints {
        let cp = Checkpoint::open(cp.as_bytes(), &key).unwrap();
        assert_eq!(
            tree.root_at(cp.size).unwrap(),
            cp.root,
            "checkpoint at {}",
            cp.size
        );
    }
    // The counted rows are exactly one per table.
    let totals = reopened.totals("").await.unwrap();
    assert_eq!(totals.tables_reported, TABLES as u64);
}

/// The stored entries, in log order, through the center's own HTTP router
/// served on loopback.
async fn reqwest_free_entries(c: &Center) -> Vec<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = acta_center::router(c.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let req = format!(
        "GET /api/log/entries?start=0&end={TABLES} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).await.unwrap();
    let text = String::from_utf8(body).unwrap();
    let json = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let entries: Vec<serde_json::Value> = serde_json::from_str(json).unwrap();
    entries
        .iter()
        .map(|e| e["acta"].as_str().unwrap().to_string())
        .collect()
}

async fn a_corrupt_stored_acta_stops_the_center(backend: &str) {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path(), "corrupt").await;
    let center = open(&g, &db).await.unwrap();
    for i in 0..3 {
        center.ingest(g.day(i, 3).acta.as_bytes()).await.unwrap();
    }
    drop(center);
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&db).await.unwrap();
    sqlx::query(
        "UPDATE log_entries SET acta = REPLACE(acta, 'ballots ', 'ballots 9') WHERE idx = 1",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    match open(&g, &db).await {
        Err(acta_center::Error::Corrupt(m)) => assert!(m.contains("log entry 1"), "{m}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a corrupt log must stop the center"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_cancelled_ingests_leave_log_rows_and_checkpoints_in_agreement() {
    cancelled_ingests_leave_log_rows_and_checkpoints_in_agreement("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cancelled_ingests_leave_log_rows_and_checkpoints_in_agreement() {
    cancelled_ingests_leave_log_rows_and_checkpoints_in_agreement("postgres").await;
}

#[tokio::test]
async fn sqlite_a_corrupt_stored_acta_stops_the_center() {
    a_corrupt_stored_acta_stops_the_center("sqlite").await;
}

#[tokio::test]
async fn postgres_a_corrupt_stored_acta_stops_the_center() {
    a_corrupt_stored_acta_stops_the_center("postgres").await;
}
