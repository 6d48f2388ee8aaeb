//! The chain end to end over real loopback HTTP, on both stores: a 50-table
//! election made by a real key ceremony is voted, transmitted, logged,
//! announced and observed; then each attack is tried and must fail in the way
//! it names, and each impossible acta must be logged and held.

use acta_observer::verify::{FindingKind, Report, Verdict};
use acta_observer::{observe, Source};
use acta_sheet::Acta;
use acta_synth::ceremony::{run as generate, Ceremony as Generated};
use acta_synth::generate::Options;
use acta_synth::simulate::{run_table, TableDay};

const SEED: u64 = 50;
const TABLES: usize = 50;

struct Running {
    url: String,
    db: String,
    center: acta_center::Center,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start(g: &Generated, backend: &str) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let tag = format!(
        "e2e_{}",
        dir.path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let db = acta_synth::testdb::database(backend, dir.path(), &tag).await;
    let center = acta_center::Center::open(acta_center::Config::new(
        &db,
        g.package.clone().into_bytes(),
        g.trust.clone(),
        g.center.clone(),
    ))
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = acta_center::router(center.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Running {
        url,
        db,
        center,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

fn election() -> Generated {
    generate(&Options {
        seed: SEED,
        tables: TABLES,
    })
}

fn day(g: &Generated, i: usize, sim_seed: u64) -> TableDay {
    let (r, codes) = g.roll(i);
    run_table(&g.election, i, r, &codes, g.machines[i].clone(), sim_seed)
        .unwrap()
        .1
}

/// Tables left out of the full election, to receive impossible actas.
const SPARE: usize = 5;

/// The same acta text signed again by the same key with another nonce: a
/// different, equally valid Ed25519 signature (RFC 8032 signatures are
/// deterministic only by convention; any nonce verifies).
fn resign_with_other_nonce(signed: &str, key: &acta_note::Signer) -> String {
    use base64::Engine as _;
    use ed25519_dalek::hazmat::{raw_sign, ExpandedSecretKey};
    let b64 = base64::engine::general_purpose::STANDARD;
    let private = key.to_private_key();
    let raw = b64.decode(private.splitn(5, '+').nth(4).unwrap()).unwrap();
    let seed: [u8; 32] = raw[1..].try_into().unwrap();
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let mut esk = ExpandedSecretKey::from(&seed);
    esk.hash_prefix = [7u8; 32];
    let text = acta_note::Note::parse(signed.as_bytes()).unwrap().text;
    let sig = raw_sign::<sha2::Sha512>(&esk, text.as_bytes(), &sk.verifying_key());
    let mut blob = key.verifier().key_id().to_be_bytes().to_vec();
    blob.extend_from_slice(&sig.to_bytes());
    format!("{text}\n\u{2014} {} {}\n", key.name(), b64.encode(blob))
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
    /// The national results, without the log size they are at.
    async fn results(&self) -> serde_json::Value {
        let mut v: serde_json::Value =
            serde_json::from_str(&self.get("/api/results").await).unwrap();
        v.as_object_mut().unwrap().remove("size");
        v
    }
    async fn size(&self, g: &Generated) -> u64 {
        let key: acta_note::Verifier = g.election.center_key.parse().unwrap();
        acta_tlog::Checkpoint::open(self.get("/log/checkpoint").await.as_bytes(), &key)
            .unwrap()
            .size
    }
    async fn observe(&self, g: &Generated) -> Report {
        observe(
            &Source::Center(acta_api::Client::new(&self.url)),
            &acta_observer::Options::new(g.trust.clone()),
            &|_| {},
        )
        .await
        .unwrap()
    }
}

/// Votes at every table but the spare ones and transmits every acta.
async fn full_election(g: &Generated, c: &Running) -> Vec<TableDay> {
    let days: Vec<TableDay> = (0..TABLES - SPARE).map(|i| day(g, i, 1)).collect();
    for d in &days {
        assert_eq!(c.post(d.acta.as_bytes()).await.0, 201);
    }
    days
}

fn acta_of(d: &TableDay) -> Acta {
    Acta::parse(acta_note::Note::parse(d.acta.as_bytes()).unwrap().text).unwrap()
}

async fn honest_election_is_consistent_and_attacks_fail(backend: &str) {
    let g = election();
    let c = start(&g, backend).await;
    let days = full_election(&g, &c).await;
    let report = c.observe(&g).await;
    assert_eq!(
        report.verdict,
        Verdict::Consistent,
        "{:#?}",
        report.findings
    );
    assert_eq!(report.tables_reported, (TABLES - SPARE) as u64);
    assert_eq!(report.actas_verified, (TABLES - SPARE) as u64);
    assert_eq!(
        report.proofs_verified, 2,
        "one level-0 tile and one entry bundle"
    );
    let ballots: u64 = days.iter().map(|d| acta_of(d).ballots as u64).sum();
    assert_eq!(report.sums.ballots, ballots);
    let results_before = c.results().await;
    let size = c.size(&g).await;

    // One acta's counts altered after signing: refused at ingest, nothing stored.
    let altered = days[3].acta.replacen("\nballots ", "\nballots 1", 1);
    let (status, body) = c.post(altered.as_bytes()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("signature"), "{body}");
    // An acta signed by another table's machine: refused.
    let forged = acta_of(&days[3]).sign(&g.machines[4]);
    let (status, body) = c.post(forged.as_bytes()).await;
    assert_eq!(status, 422, "{body}");
    // Oversized input: refused before it is read in full.
    assert_eq!(c.post(&vec![b'a'; 200 * 1024]).await.0, 413);
    // A published acta with a junk signature line appended, and with a real
    // signature by some other key appended: refused, never a "conflict".
    let junk = format!("{}\u{2014} x AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", days[5].acta);
    let (status, body) = c.post(junk.as_bytes()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("exactly one signature"), "{body}");
    let cosigned = acta_note::countersign(days[5].acta.as_bytes(), &g.auditors[0]).unwrap();
    let (status, body) = c.post(cosigned.as_bytes()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(c.size(&g).await, size, "refused bytes never reach the log");
    assert_eq!(c.results().await, results_before);
    assert_eq!(c.get("/api/conflicts").await, "[]");

    // A resent acta: idempotent.
    let (status, body) = c.post(days[7].acta.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"duplicate\"") && body.contains("\"index\":7"),
        "{body}"
    );
    // The same body under a different, valid signature: the same acta.
    let other = resign_with_other_nonce(&days[7].acta, &g.machines[7]);
    assert_ne!(other, days[7].acta);
    acta_sheet::Acta::open(other.as_bytes(), &g.election).expect("the other encoding is valid");
    let (status, body) = c.post(other.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"duplicate\"") && body.contains("\"index\":7"),
        "{body}"
    );
    assert_eq!(c.size(&g).await, size);
    let report = c.observe(&g).await;
    assert_eq!(
        report.verdict,
        Verdict::Consistent,
        "{:#?}",
        report.findings
    );

    // A different body, validly signed by the table's machine, for a table
    // that already reported: logged as evidence, totals unchanged, observer
    // names the table.
    let second = day(&g, 9, 2);
    assert_ne!(second.acta, days[9].acta);
    let (status, body) = c.post(second.acta.as_bytes()).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("\"first\":9"), "{body}");
    assert_eq!(
        c.size(&g).await,
        size + 1,
        "the conflicting acta is logged as evidence"
    );
    assert_eq!(
        c.results().await,
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
    assert_eq!(report.verdict, Verdict::Discrepancies);
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(
        (f.kind, f.place.as_str()),
        (
            FindingKind::ConflictingActas,
            g.election.tables[9].id.as_str()
        )
    );
    assert_eq!(
        report.sums.ballots, ballots,
        "the observer counts the first acta too"
    );
}

/// Each impossible acta, validly signed by its table's machine: logged,
/// held with its reason, not counted, listed by the center, reported by the
/// observer — and the verdict stays consistent, because the center told
/// the truth about it.
async fn impossible_actas_are_logged_and_held(backend: &str) {
    let g = election();
    let c = start(&g, backend).await;
    full_election(&g, &c).await;
    let results_before: serde_json::Value =
        serde_json::from_str(&c.get("/api/results").await).unwrap();
    let size = c.size(&g).await;
    let opens = acta_election::time::parse(&g.election.opens).unwrap();
    type Edit = fn(&mut Acta, u64);
    let cases: [(&str, Edit); 5] = [
        ("authenticated", |a, _| a.authenticated = a.registered + 1),
        ("ballots", |a, _| a.ballots = a.authenticated + 3),
        ("do not fit", |a, _| {
            a.contests[0].votes[0].1 += a.ballots + 1
        }),
        ("alarm overrides", |a, _| {
            a.alarms[acta_sheet::Alarm::Overrides.index()] = 2
        }),
        ("schedule", |a, opens| a.opened = opens - 7200),
    ];
    for (k, (why, edit)) in cases.iter().enumerate() {
        let i = TABLES - SPARE + k;
        let mut a = acta_of(&day(&g, i, 1));
        edit(&mut a, opens);
        let (status, body) = c.post(a.sign(&g.machines[i]).as_bytes()).await;
        assert_eq!(status, 201, "{body}");
        assert!(
            body.contains("\"held\"") && body.contains(why),
            "{why}: {body}"
        );
    }
    assert_eq!(
        c.size(&g).await,
        size + SPARE as u64,
        "held actas are logged"
    );
    let held: Vec<serde_json::Value> = serde_json::from_str(&c.get("/api/held").await).unwrap();
    assert_eq!(held.len(), SPARE);
    assert!(held
        .iter()
        .all(|h| !h["reason"].as_str().unwrap().is_empty()));
    let results: serde_json::Value = serde_json::from_str(&c.get("/api/results").await).unwrap();
    assert_eq!(
        results["tables_reported"],
        results_before["tables_reported"]
    );
    assert_eq!(
        results["ballots"], results_before["ballots"],
        "held actas are never counted"
    );
    assert_eq!(results["held"], SPARE);
    let t = c
        .get(&format!("/api/tables/{}", g.election.tables[TABLES - 1].id))
        .await;
    assert!(t.contains("\"status\":\"held\""), "{t}");
    let report = c.observe(&g).await;
    assert_eq!(
        report.verdict,
        Verdict::Consistent,
        "{:#?}",
        report.findings
    );
    let tables: Vec<&str> = report.held.iter().map(|h| h.table.as_str()).collect();
    let want: Vec<&str> = g.election.tables[TABLES - SPARE..]
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(tables, want);
}

/// A dishonest authority edits the center's database to add voters: the
/// observer names each table and the exact national difference.
async fn inflated_center_totals_are_caught(backend: &str) {
    let g = election();
    let c = start(&g, backend).await;
    let days = full_election(&g, &c).await;
    let authority = acta_synth::dishonest::Authority {
        db: c.db.clone(),
        ceremony: &g,
        intercepted: Default::default(),
    };
    acta_synth::dishonest::tell(
        &authority,
        &acta_synth::dishonest::Lie::InflateTurnout(1_000_003),
    )
    .await
    .unwrap();
    // The authority announces what its database now says.
    c.center.announce().await.unwrap();
    let report = c.observe(&g).await;
    assert_eq!(report.verdict, Verdict::Discrepancies);
    let tables: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::TableFigure && f.figure == "ballots")
        .map(|f| f.place.as_str())
        .collect();
    assert_eq!(
        tables.len(),
        TABLES - SPARE,
        "every inflated table is named"
    );
    let first = acta_of(&days[0]);
    let f = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::TableFigure && f.figure == "ballots")
        .unwrap();
    let share = 1_000_003 / (TABLES - SPARE) as u32 + 1;
    assert_eq!(
        (f.center.clone(), f.machines.clone()),
        (
            (first.ballots + share).to_string(),
            first.ballots.to_string()
        )
    );
    let ann = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::AnnouncementFigure && f.figure.starts_with("ballots"))
        .expect("the signed announcement is caught");
    assert_eq!(
        ann.center.parse::<u64>().unwrap(),
        report.sums.ballots + 1_000_003
    );
    assert_eq!(ann.machines.parse::<u64>().unwrap(), report.sums.ballots);
    assert!(ann.figure.contains("+1000003"), "{}", ann.figure);
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

#[tokio::test]
async fn sqlite_impossible_actas_are_logged_and_held() {
    impossible_actas_are_logged_and_held("sqlite").await;
}

#[tokio::test]
async fn postgres_impossible_actas_are_logged_and_held() {
    impossible_actas_are_logged_and_held("postgres").await;
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
        stdout.contains("VERDICT: DISCREPANCIES FOUND")
            && stdout.contains("ballots (diff +4)")
            && stdout.contains(
                "the announcement counts 4 more voters than the 20 signed actas add up to"
            ),
        "{stdout}"
    );
}

/// An observer with state verifies only what is new on its next run, and
/// its verdict is the same as a fresh observer's.
#[tokio::test]
async fn observer_state_resumes_with_only_new_entries() {
    let g = election();
    let c = start(&g, "sqlite").await;
    let days: Vec<TableDay> = (0..TABLES - SPARE).map(|i| day(&g, i, 1)).collect();
    let state = tempfile::tempdir().unwrap();
    let mut opts = acta_observer::Options::new(g.trust.clone());
    opts.state = Some(state.path().to_path_buf());
    let source = Source::Center(acta_api::Client::new(&c.url));
    for d in &days[..20] {
        assert_eq!(c.post(d.acta.as_bytes()).await.0, 201);
    }
    let first = observe(&source, &opts, &|_| {}).await.unwrap();
    assert_eq!(first.verdict, Verdict::Consistent, "{:#?}", first.findings);
    assert_eq!(first.verified_now, 20);
    for d in &days[20..] {
        assert_eq!(c.post(d.acta.as_bytes()).await.0, 201);
    }
    let size = c.size(&g).await;
    let second = observe(&source, &opts, &|_| {}).await.unwrap();
    assert_eq!(
        second.verdict,
        Verdict::Consistent,
        "{:#?}",
        second.findings
    );
    assert_eq!(second.log_size, size);
    assert_eq!(second.verified_now, size - 20, "only the new entries");
    assert_eq!(second.actas_verified, size);
    let fresh = c.observe(&g).await;
    assert_eq!(fresh.sums, second.sums);
    assert_eq!(fresh.tables_reported, second.tables_reported);
    // A state file edited to hide a table makes no difference to a
    // verdict: the state's checkpoint must still be a prefix, and a state
    // that does not rebuild to its checkpoint is dropped.
    let file = state.path().join("leaves.bin");
    let mut leaves = std::fs::read(&file).unwrap();
    leaves[0] ^= 1;
    std::fs::write(&file, leaves).unwrap();
    let third = observe(&source, &opts, &|_| {}).await.unwrap();
    assert_eq!(third.verdict, Verdict::Consistent);
    assert_eq!(third.verified_now, size, "a corrupt state is not trusted");
}

/// `acta evidence export` against a live center writes a bundle that
/// `acta evidence verify` checks with no network, under the verifier's own
/// trust file; `acta observe --peer` takes another observer's checkpoint
/// as a file and as a URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_export_and_verify_through_the_binary() {
    let g = election();
    let c = start(&g, "sqlite").await;
    full_election(&g, &c).await;
    c.center.announce().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let trust = dir.path().join("trust.txt");
    std::fs::write(&trust, g.trust.to_text()).unwrap();
    let bundle = dir.path().join("bundle");
    let acta = |args: Vec<String>| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_acta"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let s = |p: &std::path::Path| p.display().to_string();
    let (code, err) = tokio::task::spawn_blocking({
        let (url, trust, bundle) = (c.url.clone(), s(&trust), s(&bundle));
        move || {
            acta(vec![
                "evidence".into(),
                "export".into(),
                "--center".into(),
                url,
                "--trust".into(),
                trust,
                "--out".into(),
                bundle,
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = acta(vec![
        "evidence".into(),
        "verify".into(),
        s(&bundle),
        "--trust".into(),
        s(&trust),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("the bundle's contents give the report it carries"),
        "{err}"
    );

    // Another observer's checkpoint, as a file and as a URL.
    let peer = dir.path().join("peer.note");
    std::fs::write(&peer, c.get("/log/checkpoint").await).unwrap();
    let (code, err) = tokio::task::spawn_blocking({
        let (url, trust, peer) = (c.url.clone(), s(&trust), s(&peer));
        move || {
            acta(vec![
                "observe".into(),
                "--center".into(),
                url.clone(),
                "--trust".into(),
                trust,
                "--peer".into(),
                peer,
                "--peer".into(),
                format!("{url}/log/checkpoint"),
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
}
