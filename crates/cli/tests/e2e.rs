//! The chain end to end over real loopback HTTP, on both stores: a 50-table
//! election is voted, transmitted, logged, announced and observed; then each
//! attack of the issue is tried and must fail in the way it names.

use acta_election::generate::{generate, machine_key, roll, Generated, Options};
use acta_observer::{observe, Report};
use acta_sheet::Acta;
use acta_station::simulate::{run_table, TableDay};

const SEED: u64 = 50;
const TABLES: usize = 50;

struct Running {
    url: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A fresh database per test: a temporary SQLite file, or a new PostgreSQL
/// database on the project's server (ACTA_TEST_POSTGRES, default
/// postgres://postgres@127.0.0.1:5432).
async fn database(backend: &str, dir: &std::path::Path) -> String {
    match backend {
        "sqlite" => format!("sqlite://{}", dir.join("center.db").display()),
        _ => {
            use sqlx::Connection as _;
            let base = std::env::var("ACTA_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
                .await
                .expect("PostgreSQL must be running for the PostgreSQL half of the suite");
            let name = format!(
                "acta_test_{}_{}",
                std::process::id(),
                dir.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "")
            );
            let sql = format!("CREATE DATABASE {name}");
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
            format!("{base}/{name}")
        }
    }
}

async fn start(g: &Generated, backend: &str, inflate: u64) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let center = acta_center::Center::open(acta_center::Config {
        database: database(backend, dir.path()).await,
        package: g.package.clone().into_bytes(),
        trust: g.trust.clone(),
        key: g.center.clone(),
        tamper_inflate_turnout: inflate,
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, acta_center::router(center)).await });
    Running {
        url,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

fn election() -> Generated {
    generate(&Options {
        seed: SEED,
        tables: TABLES,
        ..Options::default()
    })
}

fn day(g: &Generated, i: usize, sim_seed: u64) -> TableDay {
    let (r, codes) = roll(SEED, &g.election, i);
    run_table(&g.election, i, r, &codes, machine_key(SEED, i), sim_seed)
        .unwrap()
        .1
}

impl Running {
    async fn post(&self, acta: &[u8]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}/api/actas", self.url))
            .body(acta.to_vec())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn get(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
    async fn size(&self, g: &Generated) -> u64 {
        let key: acta_note::Verifier = g.election.center_key.parse().unwrap();
        acta_tlog::Checkpoint::open(self.get("/api/log/checkpoint").await.as_bytes(), &key)
            .unwrap()
            .size
    }
    async fn observe(&self, g: &Generated) -> Report {
        observe(&self.url, &g.trust, None, &|_| {}).await.unwrap()
    }
}

/// Votes at every table and transmits every acta.
async fn full_election(g: &Generated, c: &Running) -> Vec<TableDay> {
    let days: Vec<TableDay> = (0..TABLES).map(|i| day(g, i, 1)).collect();
    for d in &days {
        assert_eq!(c.post(d.acta.as_bytes()).await.0, 201);
    }
    days
}

async fn honest_election_is_consistent_and_attacks_fail(backend: &str) {
    let g = election();
    let c = start(&g, backend, 0).await;
    let days = full_election(&g, &c).await;
    let report = c.observe(&g).await;
    assert_eq!(report.verdict, "consistent", "{:#?}", report.findings);
    assert_eq!(report.tables_reported, TABLES as u64);
    assert_eq!(report.actas_verified, TABLES as u64);
    assert!(report.proofs_verified >= TABLES as u64);
    let ballots: u64 = days
        .iter()
        .map(|d| {
            Acta::parse(acta_note::Note::parse(d.acta.as_bytes()).unwrap().text)
                .unwrap()
                .ballots as u64
        })
        .sum();
    assert_eq!(report.sums.ballots, ballots);
    let results_before = c.get("/api/results").await;
    let size = c.size(&g).await;

    // One acta's counts altered after signing: rejected at ingest, nothing stored.
    let altered = days[3].acta.replacen("\nballots ", "\nballots 1", 1);
    let (status, body) = c.post(altered.as_bytes()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("signature"), "{body}");
    // An acta signed by another table's machine: rejected.
    let acta3 = Acta::parse(
        acta_note::Note::parse(days[3].acta.as_bytes())
            .unwrap()
            .text,
    )
    .unwrap();
    let forged = acta3.sign(&machine_key(SEED, 4));
    let (status, body) = c.post(forged.as_bytes()).await;
    assert_eq!(status, 422, "{body}");
    // Oversized input: refused before it is read in full.
    assert_eq!(c.post(&vec![b'a'; 200 * 1024]).await.0, 413);
    assert_eq!(c.size(&g).await, size, "rejected actas never reach the log");
    assert_eq!(c.get("/api/results").await, results_before);

    // A resent acta: idempotent.
    let (status, body) = c.post(days[7].acta.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"duplicate\"") && body.contains("\"index\":7"),
        "{body}"
    );
    assert_eq!(c.size(&g).await, size);

    // A different acta, validly signed by the right machine, for a table that
    // already reported: logged as evidence, totals unchanged, observer reports it.
    let second = day(&g, 9, 2);
    assert_ne!(second.acta, days[9].acta);
    let (status, body) = c.post(second.acta.as_bytes()).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("\"counted\":9"), "{body}");
    assert_eq!(
        c.size(&g).await,
        size + 1,
        "the conflicting acta is logged as evidence"
    );
    assert_eq!(
        c.get("/api/results").await,
        results_before,
        "conflicts never change totals"
    );
    let conflicts = c.get("/api/conflicts").await;
    assert!(conflicts.contains(&g.election.tables[9].id));
    let table = c
        .get(&format!("/api/tables/{}", g.election.tables[9].id))
        .await;
    assert!(table.contains("\"status\":\"conflict\""), "{table}");
    let report = c.observe(&g).await;
    assert_eq!(report.verdict, "discrepancies");
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(
        (f.kind.as_str(), f.place.as_str()),
        ("conflicting-actas", g.election.tables[9].id.as_str())
    );
    assert_eq!(
        report.sums.ballots, ballots,
        "the observer counts the first acta too"
    );
}

async fn inflated_center_totals_are_caught(backend: &str) {
    let g = election();
    let c = start(&g, backend, 3).await;
    let days = full_election(&g, &c).await;
    let report = c.observe(&g).await;
    assert_eq!(report.verdict, "discrepancies");
    let tables: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.kind == "table-figure" && f.figure == "ballots")
        .map(|f| f.place.as_str())
        .collect();
    assert_eq!(
        tables,
        g.election.tables[..3]
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>()
    );
    let first = Acta::parse(
        acta_note::Note::parse(days[0].acta.as_bytes())
            .unwrap()
            .text,
    )
    .unwrap();
    let f = report
        .findings
        .iter()
        .find(|f| f.kind == "table-figure" && f.figure == "ballots")
        .unwrap();
    assert_eq!(
        (f.center.clone(), f.machines.clone()),
        ((first.ballots + 1).to_string(), first.ballots.to_string())
    );
    let ann = report
        .findings
        .iter()
        .find(|f| f.kind == "announcement-figure" && f.figure.starts_with("ballots"))
        .expect("the signed announcement is caught");
    assert_eq!(ann.center.parse::<u64>().unwrap(), report.sums.ballots + 3);
    assert_eq!(ann.machines.parse::<u64>().unwrap(), report.sums.ballots);
    assert!(ann.figure.contains("+3"), "{}", ann.figure);
}

#[tokio::test]
async fn sqlite_honest_election_is_consistent_and_attacks_fail() {
    honest_election_is_consistent_and_attacks_fail("sqlite").await;
}

#[tokio::test]
async fn postgres_honest_election_is_consistent_and_attacks_fail() {
    honest_election_is_consistent_and_attacks_fail("postgres").await;
}

#[tokio::test]
async fn sqlite_inflated_center_totals_are_caught() {
    inflated_center_totals_are_caught("sqlite").await;
}

#[tokio::test]
async fn postgres_inflated_center_totals_are_caught() {
    inflated_center_totals_are_caught("postgres").await;
}

/// The binary itself: `acta demo` leaves verifiable artifacts and exits 0;
/// with `--tamper` the observer's discrepancies make it exit 1.
#[test]
fn the_demo_binary_runs_and_catches_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_acta"))
            .args(["demo", "--tables", "20", "--out"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let honest = run(&[]);
    let stdout = String::from_utf8_lossy(&honest.stdout);
    assert!(
        honest.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&honest.stderr)
    );
    assert!(stdout.contains("VERDICT: consistent"), "{stdout}");
    for f in [
        "package.note",
        "trust.txt",
        "checkpoint.note",
        "announcement.note",
        "center.db",
        "observer-report.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // A witness verifies a paper acta from its QR image with the CLI.
    let png = std::fs::read_dir(out.join("actas"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "png"))
        .unwrap();
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["verify-acta", "--package"])
        .arg(out.join("package.note"))
        .arg("--trust")
        .arg(out.join("trust.txt"))
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("valid acta"));

    let tampered = run(&["--tamper", "inflate-turnout=4"]);
    let stdout = String::from_utf8_lossy(&tampered.stdout);
    assert_eq!(tampered.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("DISCREPANCIES FOUND") && stdout.contains("ballots (diff +4)"),
        "{stdout}"
    );
}
