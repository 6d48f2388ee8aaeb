//! The center's write path, on both stores: batching, receipts, tiles,
//! cancellation, several centers over one database, corruption, witnesses.

use std::time::Duration;

use acta_api::{Outcome, Submitted};
use acta_center::{Center, Config};
use acta_note::cosignature::Cosigner;
use acta_sheet::EntryKind;
use acta_synth::testdb::database;
use acta_synth::Ceremony;
use acta_tlog::{Checkpoint, Tile, TlogProof};
use sqlx::Connection as _;

const TABLES: usize = 40;

fn ceremony() -> Ceremony {
    acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 21,
        tables: TABLES,
    })
}

fn config(g: &Ceremony, db: &str) -> Config {
    let mut c = Config::new(
        db,
        g.package.clone().into_bytes(),
        g.trust.clone(),
        g.center.clone(),
    );
    c.batch_interval = Duration::from_millis(5);
    c
}

async fn open(g: &Ceremony, db: &str) -> Result<Center, acta_center::Error> {
    Center::open(config(g, db)).await
}

fn key(g: &Ceremony) -> acta_note::Verifier {
    g.election.center_key.parse().unwrap()
}

/// Checks a receipt offline, with the package alone.
fn check_receipt(g: &Ceremony, s: &Submitted, note: &[u8], need: usize) -> Checkpoint {
    let witnesses: Vec<_> = g
        .election
        .witness_keys()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    TlogProof::parse(&s.receipt)
        .unwrap()
        .verify(note, &key(g), &g.election.log_origin, &witnesses, need)
        .unwrap()
        .checkpoint
}

/// Reads the whole log through the tiles alone and checks it against the
/// checkpoint; returns the entries.
async fn entries_from_tiles(c: &Center, cp: &Checkpoint) -> Vec<Vec<u8>> {
    let mut tiles = Vec::new();
    for t in Tile::hash_tiles(cp.size)
        .into_iter()
        .chain(Tile::entry_bundles(cp.size))
    {
        tiles.push((
            t,
            c.tile(&t)
                .await
                .unwrap()
                .expect("tile of a checkpointed size"),
        ));
    }
    let (_, entries) = acta_tlog::tile::verify_log(
        cp.size,
        &cp.root,
        tiles.iter().map(|(t, b)| (*t, b.as_slice())),
    )
    .unwrap();
    entries.into_iter().map(<[u8]>::to_vec).collect()
}

async fn receipts_duplicates_conflicts_and_tiles(backend: &str) {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path(), "receipts").await;
    let c = open(&g, &db).await.unwrap();
    // Zero reports first, then actas, all at once: batches form.
    let days: Vec<_> = (0..TABLES).map(|i| g.day(i, 3)).collect();
    let mut tasks = Vec::new();
    for d in &days {
        let (c1, z) = (c.clone(), d.zero.clone());
        tasks.push(tokio::spawn(async move {
            (z.clone(), c1.submit(z.as_bytes(), EntryKind::Zero).await)
        }));
    }
    for t in tasks {
        let (note, r) = t.await.unwrap();
        let s = r.unwrap();
        assert!(matches!(s.outcome, Outcome::Logged { .. }), "{s:?}");
        check_receipt(&g, &s, note.as_bytes(), 0);
    }
    for d in &days {
        let s = c.submit(d.acta.as_bytes(), EntryKind::Acta).await.unwrap();
        assert!(matches!(s.outcome, Outcome::Accepted { .. }), "{s:?}");
        check_receipt(&g, &s, d.acta.as_bytes(), 0);
    }
    // A resend is a duplicate with a receipt for the entry already logged.
    let again = c
        .submit(days[7].acta.as_bytes(), EntryKind::Acta)
        .await
        .unwrap();
    let Outcome::Duplicate { index, .. } = again.outcome else {
        panic!("{again:?}")
    };
    assert_eq!(index, TABLES as u64 + 7);
    check_receipt(&g, &again, days[7].acta.as_bytes(), 0);
    // A zero report on the acta route and the other way round are refused.
    assert!(c
        .submit(days[0].zero.as_bytes(), EntryKind::Acta)
        .await
        .is_err());
    assert!(c
        .submit(days[0].acta.as_bytes(), EntryKind::Zero)
        .await
        .is_err());
    // A second, different acta by the same machine: a conflict, logged.
    let mut other = acta_sheet::Acta::parse(
        acta_note::Note::parse(days[3].acta.as_bytes())
            .unwrap()
            .text,
    )
    .unwrap();
    other.contests[0].null += 1;
    let forged = other.sign(&g.machines[3]);
    let s = c.submit(forged.as_bytes(), EntryKind::Acta).await.unwrap();
    assert!(matches!(s.outcome, Outcome::Conflict { first, .. } if first == TABLES as u64 + 3));
    // The announcement is an entry of the log too.
    let (ann, s) = c.announce().await.unwrap();
    check_receipt(&g, &s, ann.as_bytes(), 0);
    let a = acta_sheet::Announcement::open(ann.as_bytes(), &g.election).unwrap();
    assert_eq!(a.tables_reported, TABLES as u64);
    assert_eq!(a.checkpoint.size, 2 * TABLES as u64 + 1);
    // The tiles hold exactly the notes as received, in order.
    let cp = Checkpoint::open(c.checkpoint().await.unwrap().as_bytes(), &key(&g)).unwrap();
    assert_eq!(cp.size, 2 * TABLES as u64 + 2);
    let entries = entries_from_tiles(&c, &cp).await;
    assert_eq!(entries.last().unwrap(), ann.as_bytes());
    assert_eq!(entries[TABLES + 7], days[7].acta.as_bytes());
    assert_eq!(entries[2 * TABLES], forged.as_bytes());
}

async fn cancelled_submissions_leave_log_rows_and_checkpoints_in_agreement(backend: &str) {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path(), "cancel").await;
    let center = open(&g, &db).await.unwrap();
    let actas: Vec<String> = (0..TABLES).map(|i| g.day(i, 3).acta).collect();
    let mut points = acta_synth::rng::SplitMix::new(0x9E37_79B9_7F4A_7C15);
    let mut checkpoints = Vec::new();
    for _ in 0..3 {
        let mut tasks = Vec::new();
        for a in &actas {
            let (c, a) = (center.clone(), a.clone());
            let yields = points.below(60);
            let task = tokio::spawn(async move { c.submit(a.as_bytes(), EntryKind::Acta).await });
            tasks.push((task, yields));
        }
        for (task, yields) in tasks {
            for _ in 0..yields {
                tokio::task::yield_now().await;
            }
            task.abort();
            checkpoints.push(center.checkpoint().await.unwrap());
        }
    }
    for a in &actas {
        let s = center.submit(a.as_bytes(), EntryKind::Acta).await.unwrap();
        assert!(matches!(
            s.outcome,
            Outcome::Accepted { .. } | Outcome::Duplicate { .. }
        ));
    }
    let last = Checkpoint::open(center.checkpoint().await.unwrap().as_bytes(), &key(&g)).unwrap();
    assert_eq!(last.size, TABLES as u64, "each acta logged exactly once");
    checkpoints.extend(center.checkpoints().await.unwrap());
    drop(center);
    let reopened = open(&g, &db).await.unwrap();
    let again =
        Checkpoint::open(reopened.checkpoint().await.unwrap().as_bytes(), &key(&g)).unwrap();
    assert_eq!((again.size, again.root), (last.size, last.root));
    let entries = entries_from_tiles(&reopened, &again).await;
    let tree = acta_tlog::Tree::from_leaves(entries.iter().map(|e| acta_tlog::leaf_hash(e)));
    for cp in &checkpoints {
        let cp = Checkpoint::open(cp.as_bytes(), &key(&g)).unwrap();
        assert_eq!(
            tree.root_at(cp.size).unwrap(),
            cp.root,
            "checkpoint at {}",
            cp.size
        );
    }
    assert_eq!(
        reopened.totals("").await.unwrap().tables_reported,
        TABLES as u64
    );
}

/// Two centers over one database, each taking half the actas and all of
/// them again: one log, every acta once, every checkpoint of either a
/// prefix of the final log.
async fn two_centers_make_one_log(backend: &str) {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path(), "two").await;
    let a = open(&g, &db).await.unwrap();
    let b = open(&g, &db).await.unwrap();
    let actas: Vec<String> = (0..TABLES).map(|i| g.day(i, 3).acta).collect();
    let mut tasks = Vec::new();
    for (i, acta) in actas.iter().enumerate() {
        for c in [&a, &b] {
            if i % 2 == 0 || std::ptr::eq(c, &b) {
                let (c, acta) = (c.clone(), acta.clone());
                tasks.push(tokio::spawn(async move {
                    let s = c.submit(acta.as_bytes(), EntryKind::Acta).await.unwrap();
                    (acta, s)
                }));
            }
        }
    }
    let mut indices = std::collections::HashMap::new();
    for t in tasks {
        let (acta, s) = t.await.unwrap();
        let cp = check_receipt(&g, &s, acta.as_bytes(), 0);
        assert!(cp.size <= 2 * TABLES as u64);
        let i = s.outcome.index();
        assert_eq!(*indices.entry(acta).or_insert(i), i, "one acta, one index");
    }
    assert_eq!(indices.len(), TABLES);
    let mut all = a.checkpoints().await.unwrap();
    all.extend(b.checkpoints().await.unwrap());
    let cp = Checkpoint::open(b.checkpoint().await.unwrap().as_bytes(), &key(&g)).unwrap();
    assert_eq!(cp.size, TABLES as u64);
    let entries = entries_from_tiles(&a, &cp).await;
    let tree = acta_tlog::Tree::from_leaves(entries.iter().map(|e| acta_tlog::leaf_hash(e)));
    for n in &all {
        let c = Checkpoint::open(n.as_bytes(), &key(&g)).unwrap();
        assert_eq!(tree.root_at(c.size).unwrap(), c.root);
    }
}

/// A table counted twice in the stored figures (a bug, or a hand in the
/// database) stops every read of the totals instead of adding it twice.
async fn a_table_counted_twice_stops_the_totals(backend: &str) {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, dir.path(), "counted_twice").await;
    let center = open(&g, &db).await.unwrap();
    for i in 0..3 {
        center
            .submit(g.day(i, 3).acta.as_bytes(), EntryKind::Acta)
            .await
            .unwrap();
    }
    assert_eq!(center.table_results().await.unwrap().len(), 3);
    drop(center);
    tokio::time::sleep(Duration::from_millis(50)).await;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&db).await.unwrap();
    sqlx::query(
        "UPDATE table_results SET table_id = (SELECT table_id FROM table_results WHERE idx = 0) \
         WHERE idx = 1",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let center = open(&g, &db).await.unwrap();
    match center.table_results().await {
        Err(acta_center::Error::Corrupt(m)) => assert!(m.contains("counted twice"), "{m}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(r) => panic!("a table counted twice was read as {} results", r.len()),
    }
    match center.announce().await {
        Err(acta_center::Error::Corrupt(m)) => assert!(m.contains("counted twice"), "{m}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("an announcement was signed over a table counted twice"),
    }
}

async fn corruption_stops_the_center(backend: &str) {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    for (tag, sql, expect) in [
        (
            "note",
            "UPDATE log_entries SET note = REPLACE(note, 'ballots ', 'ballots 9') WHERE idx = 1",
            "log entry 1",
        ),
        ("gap", "DELETE FROM log_entries WHERE idx = 1", "log entry 1 is missing"),
        (
            "unsigned",
            "DELETE FROM checkpoints WHERE size = 3",
            "no checkpoint for the committed size 3",
        ),
        (
            "root",
            "UPDATE checkpoints SET root = '00' WHERE size = 3",
            "checkpoint 3",
        ),
        (
            "cosigned",
            "UPDATE checkpoints SET cosigned = cosigned || '— witness.fake AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
' WHERE size = 3",
            "cosigned form of checkpoint 3",
        ),
        (
            "rollback",
            "UPDATE log_head SET size = 2",
            "beyond the last committed size",
        ),
        (
            // A text logged twice: nothing but the start's check forbids it.
            "repeat",
            "UPDATE log_entries SET note = (SELECT note FROM log_entries WHERE idx = 1), \
             leaf = (SELECT leaf FROM log_entries WHERE idx = 1), \
             body = (SELECT body FROM log_entries WHERE idx = 1) WHERE idx = 2",
            "log entry 2 repeats the text of entry 1",
        ),
    ] {
        let db = database(backend, dir.path(), &format!("corrupt_{tag}")).await;
        let center = open(&g, &db).await.unwrap();
        for i in 0..3 {
            center.submit(g.day(i, 3).acta.as_bytes(), EntryKind::Acta).await.unwrap();
        }
        drop(center);
        tokio::time::sleep(Duration::from_millis(50)).await;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&db).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        match open(&g, &db).await {
            Err(acta_center::Error::Corrupt(m)) => assert!(m.contains(expect), "{tag}: {m}"),
            Err(e) => panic!("{tag}: wrong error: {e}"),
            Ok(_) => panic!("{tag}: a corrupt log must stop the center"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_receipts_duplicates_conflicts_and_tiles() {
    receipts_duplicates_conflicts_and_tiles("sqlite").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_receipts_duplicates_conflicts_and_tiles() {
    receipts_duplicates_conflicts_and_tiles("postgres").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_cancelled_submissions_leave_log_rows_and_checkpoints_in_agreement() {
    cancelled_submissions_leave_log_rows_and_checkpoints_in_agreement("sqlite").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cancelled_submissions_leave_log_rows_and_checkpoints_in_agreement() {
    cancelled_submissions_leave_log_rows_and_checkpoints_in_agreement("postgres").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_centers_make_one_log() {
    two_centers_make_one_log("sqlite").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_centers_make_one_log() {
    two_centers_make_one_log("postgres").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_table_counted_twice_stops_the_totals() {
    a_table_counted_twice_stops_the_totals("sqlite").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_table_counted_twice_stops_the_totals() {
    a_table_counted_twice_stops_the_totals("postgres").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_corruption_stops_the_center() {
    corruption_stops_the_center("sqlite").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_corruption_stops_the_center() {
    corruption_stops_the_center("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_answers_busy_and_loses_nothing() {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let db = database("sqlite", dir.path(), "busy").await;
    let mut cfg = config(&g, &db);
    cfg.pool = 2;
    cfg.batch_max = 2;
    cfg.batch_interval = Duration::from_millis(200);
    let c = Center::open(cfg).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..TABLES {
        let (c, a) = (c.clone(), g.day(i, 3).acta);
        tasks.push(tokio::spawn(async move {
            c.submit(a.as_bytes(), EntryKind::Acta).await
        }));
    }
    let (mut ok, mut busy) = (0, 0);
    let mut logged_tables = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(_) => {
                ok += 1;
                logged_tables.push(i);
            }
            Err(acta_center::Error::Busy(2)) => busy += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(busy > 0, "a pool of 2 cannot take {TABLES} at once");
    assert_eq!(
        c.size().await,
        ok,
        "every accepted submission is logged, none other"
    );
    // A replay of everything already logged never waits in the pool: each
    // is answered at once with the receipt of its entry, none is busy.
    let mut replays = Vec::new();
    for &i in &logged_tables {
        let (c, a) = (c.clone(), g.day(i, 3).acta);
        replays.push(tokio::spawn(async move {
            (c.submit(a.as_bytes(), EntryKind::Acta).await, a)
        }));
    }
    for r in replays {
        match r.await.unwrap() {
            (Ok(s), a) => {
                assert!(matches!(s.outcome, Outcome::Duplicate { .. }), "{s:?}");
                check_receipt(&g, &s, a.as_bytes(), 0);
            }
            (Err(e), _) => panic!("a replay was refused: {e}"),
        }
    }
    assert_eq!(c.size().await, ok, "replays add nothing");
}

/// Witnesses named in the package cosign each checkpoint; the public
/// checkpoint is the latest with the quorum; receipts carry the
/// cosignatures; a witness that goes away stops the public checkpoint from
/// advancing but never the logging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_cosign_and_gate_the_public_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut servers = Vec::new();
    let mut listeners = Vec::new();
    for i in 0..2 {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cos = Cosigner::from_signer(
            &acta_note::Signer::generate(&format!("witness-{i}.example")).unwrap(),
        );
        servers.push(acta_election::Witness {
            key: cos.verifier().to_string(),
            url: format!("http://{}", l.local_addr().unwrap()),
        });
        listeners.push((l, cos));
    }
    let g = acta_synth::ceremony::run_with_witnesses(
        &acta_synth::generate::Options {
            seed: 22,
            tables: 6,
        },
        servers,
        2,
    );
    let mut handles = Vec::new();
    for (i, (l, cos)) in listeners.into_iter().enumerate() {
        let w = acta_witness::Witness::open(
            cos,
            vec![(g.election.log_origin.clone(), key(&g))],
            &dir.path().join(format!("w{i}")),
        )
        .unwrap();
        handles.push(tokio::spawn(async move {
            axum::serve(l, acta_witness::router(w)).await
        }));
    }
    let db = database("sqlite", dir.path(), "witnessed").await;
    let c = open(&g, &db).await.unwrap();
    assert!(
        matches!(
            c.checkpoint().await,
            Err(acta_center::Error::NotYetWitnessed(2))
        ),
        "no checkpoint is public before the witnesses cosigned one"
    );
    for i in 0..3 {
        let acta = g.day(i, 3).acta;
        let s = c.submit(acta.as_bytes(), EntryKind::Acta).await.unwrap();
        let cp = check_receipt(&g, &s, acta.as_bytes(), 2);
        assert_eq!(cp.size, i as u64 + 1);
    }
    let public = c.checkpoint().await.unwrap();
    assert!(public.contains("\n3\n"), "{public}");
    assert_eq!(
        public.matches('\u{2014}').count(),
        3,
        "center and two witnesses:\n{public}"
    );
    // One witness goes away: logging goes on, the public checkpoint stays.
    handles[1].abort();
    let _ = handles.remove(1).await;
    let acta = g.day(3, 3).acta;
    let s = c.submit(acta.as_bytes(), EntryKind::Acta).await.unwrap();
    check_receipt(&g, &s, acta.as_bytes(), 1);
    assert_eq!(c.size().await, 4);
    assert_eq!(
        c.checkpoint().await.unwrap(),
        public,
        "short of the quorum: not public"
    );
}

/// A note longer than one log entry can be (C2SP tlog-tiles: a uint16
/// length prefix) is refused before anything is stored, on every path in:
/// a station's submission and the audit tool's step. A national audit's
/// first round listed 2,895 drawn tables in 69,676 bytes; logged, it made
/// the whole log unservable as tiles.
async fn notes_longer_than_an_entry_are_refused(backend: &str) {
    let g = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let c = open(&g, &database(backend, dir.path(), "toolarge").await)
        .await
        .unwrap();
    let table = g.election.tables[0].id.clone();
    let round = acta_sheet::AuditNote {
        election: g.election.id.clone(),
        audit: "POST-1".into(),
        step: acta_sheet::AuditStep::Round {
            commitment: [7; 32],
            round: 1,
            draws: vec![],
            tables: vec![table; 4000],
        },
    }
    .sign(&g.center);
    assert!(round.len() > acta_center::MAX_NOTE_BYTES);
    let before = c.size().await;
    assert!(matches!(
        c.append_audit(round.as_bytes()).await,
        Err(acta_center::Error::TooLarge(n)) if n == round.len()
    ));
    let padded = format!("{}{}", g.package, " ".repeat(70_000));
    assert!(matches!(
        c.submit(padded.as_bytes(), EntryKind::Acta).await,
        Err(acta_center::Error::TooLarge(_))
    ));
    assert_eq!(c.size().await, before, "nothing was logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_notes_longer_than_an_entry_are_refused() {
    notes_longer_than_an_entry_are_refused("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notes_longer_than_an_entry_are_refused() {
    notes_longer_than_an_entry_are_refused("postgres").await;
}
