//! The election night under every fault at once (`acta demo --faults
//! all`), at CI size, on both stores: a lossy proxy between stations and
//! center, a flood, the center killed three times, PostgreSQL's
//! connections cut, stations losing power mid-vote, every acta sent twice
//! in random order, forgeries and replays, a witness offline. The binary
//! checks itself; this test checks it again from what it left on disk:
//! the observer's evidence bundle verifies offline as consistent, every
//! table's acta is in the bundle's log exactly once, every receipt a
//! station was given proves its note at its index, and every fault did
//! happen.

use std::collections::HashMap;
use std::process::Command;

use acta_tlog::{Checkpoint, Tile, TlogProof};

const TABLES: usize = 300;

fn night(backend: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("night");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_acta"));
    cmd.args(["demo", "--faults", "all", "--tables", &TABLES.to_string()])
        .arg("--out")
        .arg(&out);
    if backend == "postgres" {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let db = rt.block_on(acta_synth::testdb::database(
            "postgres",
            dir.path(),
            "night",
        ));
        cmd.args(["--db", &db]);
    }
    // The night's output goes to files, so that a night that hangs is
    // stopped and shown rather than waited for.
    let (so, se) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = cmd
        .stdout(std::fs::File::create(&so).unwrap())
        .stderr(std::fs::File::create(&se).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the night did not end in 15 minutes:\n{}",
                std::fs::read_to_string(&se).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&so).unwrap();
    assert!(
        status.success(),
        "{stdout}\n{}",
        std::fs::read_to_string(&se).unwrap_or_default()
    );
    assert!(
        stdout.contains("NOTHING LOST, NOTHING COUNTED TWICE"),
        "{stdout}"
    );

    // Every fault happened.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("faults.json")).unwrap()).unwrap();
    let count = |k: &str| report["counts"][k].as_u64().unwrap_or(0);
    assert_eq!(count("center kills"), 3, "{report:#}");
    assert!(count("restart alarms") >= 3, "{report:#}");
    assert!(
        count("receipts short of the witness quorum") > 0,
        "{report:#}"
    );
    assert!(count("connections cut before the answer") > 0, "{report:#}");
    assert!(
        count("connections cut before the request") > 0,
        "{report:#}"
    );
    assert!(count("flood requests") > 0);
    assert!(count("duplicate answers") >= TABLES as u64);
    assert!(count("signed by an uncertified key") > 0);
    assert_eq!(count("attacks not refused"), 0);
    if backend == "postgres" {
        assert_eq!(count("database connection cuts"), 2);
        assert!(count("database connections cut") > 0, "{report:#}");
    }
    assert_eq!(report["ok"], true);

    // The evidence bundle verifies offline, as consistent.
    let trust = out.join("trust.txt");
    let v = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["evidence", "verify", "--trust"])
        .arg(&trust)
        .arg(out.join("evidence"))
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );

    // The bundle's log, read from its tiles, holds each acta exactly once.
    let package = std::fs::read_to_string(out.join("package.note")).unwrap();
    let election = acta_election::Election::open(
        package.as_bytes(),
        &acta_election::Trust::parse(&std::fs::read_to_string(&trust).unwrap()).unwrap(),
    )
    .unwrap();
    let key: acta_note::Verifier = election.center_key.parse().unwrap();
    let log = out.join("evidence/log");
    let checkpoint =
        Checkpoint::open(&std::fs::read(log.join("checkpoint")).unwrap(), &key).unwrap();
    let mut entries: Vec<Vec<u8>> = Vec::new();
    for t in Tile::entry_bundles(checkpoint.size) {
        let bytes = std::fs::read(log.join(t.path())).unwrap();
        entries.extend(
            acta_tlog::tile::read_bundle(&bytes, t.width)
                .unwrap()
                .into_iter()
                .map(|e| e.to_vec()),
        );
    }
    assert_eq!(entries.len() as u64, checkpoint.size);
    let mut tree = acta_tlog::Tree::new();
    for e in &entries {
        tree.append(acta_tlog::leaf_hash(e));
    }
    assert_eq!(tree.root(), checkpoint.root);
    let mut times: HashMap<&[u8], usize> = HashMap::new();
    for e in &entries {
        *times.entry(e.as_slice()).or_default() += 1;
    }
    for t in &election.tables {
        for kind in ["actas", "zero"] {
            let note = std::fs::read(out.join(kind).join(format!("{}.note", t.id))).unwrap();
            assert_eq!(
                times.get(note.as_slice()),
                Some(&1),
                "{kind} of {} not in the log exactly once",
                t.id
            );
        }
    }

    // Every receipt proves a station's note at its index of this log.
    let witnesses: Vec<_> = election
        .witness_keys()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let sent: std::collections::HashSet<Vec<u8>> = election
        .tables
        .iter()
        .flat_map(|t| {
            ["actas", "zero"]
                .map(|kind| std::fs::read(out.join(kind).join(format!("{}.note", t.id))).unwrap())
        })
        .collect();
    let mut receipts = 0;
    for r in std::fs::read_dir(out.join("receipts")).unwrap() {
        let path = r.unwrap().path();
        if path.extension().is_some_and(|e| e == "note") {
            continue;
        }
        let proof = TlogProof::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let note = &entries[proof.index as usize];
        assert!(sent.contains(note), "a receipt for a note no station sent");
        // The entry it proves is the very note the station was answered for.
        let given = std::fs::read(path.with_extension("note")).unwrap();
        assert_eq!(note, &given, "{} proves another note", path.display());
        let proven = proof
            .verify(note, &key, &election.log_origin, &witnesses, 0)
            .unwrap();
        // The receipt's checkpoint is a prefix of the final log.
        assert_eq!(
            tree.root_at(proven.checkpoint.size).unwrap(),
            proven.checkpoint.root
        );
        receipts += 1;
    }
    assert_eq!(
        receipts,
        3 * TABLES,
        "a zero report and two acta sends per table"
    );
}

#[test]
fn sqlite_night_under_every_fault_loses_nothing_and_counts_nothing_twice() {
    night("sqlite");
}

#[test]
fn postgres_night_under_every_fault_loses_nothing_and_counts_nothing_twice() {
    night("postgres");
}
