//! The center under `kill -9`, on both stores: `acta center serve`
//! processes are killed at random moments while stations submit thousands
//! of notes concurrently, and restarted, again and again. Afterwards every
//! note whose submitter got an answer with a receipt is in the log exactly
//! once, every receipt verifies against the final log, and every
//! checkpoint ever served is consistent with the final one. Then two
//! center processes over one database make one log.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acta_api::{Client, ClientError, Outcome};
use acta_synth::Ceremony;
use acta_tlog::{Checkpoint, Tile, TlogProof, Tree};

const TABLES: usize = 600;

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn setup(g: &Ceremony) -> Files {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.note"), &g.package).unwrap();
    std::fs::write(dir.path().join("trust.txt"), g.trust.to_text()).unwrap();
    std::fs::write(
        dir.path().join("center.key"),
        g.center.to_private_key() + "\n",
    )
    .unwrap();
    Files { dir }
}

/// A center process; killed with SIGKILL when dropped.
struct Center(Child, String);

impl Drop for Center {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(f: &Files, db: &str) -> Center {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args([
            "center",
            "serve",
            "--package",
            &f.path("package.note"),
            "--trust",
            &f.path("trust.txt"),
        ])
        .args([
            "--key",
            &f.path("center.key"),
            "--db",
            db,
            "--batch-ms",
            "5",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = Client::new(&url);
    // Ready when it serves its checkpoint (readiness, not timing).
    for _ in 0..1200 {
        if client.checkpoint().await.is_ok() {
            return Center(child, url);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the center did not start");
}

#[derive(Default)]
struct Seen {
    /// note → receipts received for it.
    receipts: HashMap<String, Vec<String>>,
    /// Every checkpoint note read from /log/checkpoint.
    checkpoints: Vec<String>,
    /// Submissions cut off by a kill before an answer came.
    cut: usize,
}

/// Submits `notes` from 12 concurrent stations until `stop` answers have
/// come back, then kills the center; every answer is recorded.
async fn round(center: Center, notes: &[String], stop: usize, seen: &Arc<Mutex<Seen>>) {
    let client = Client::new(&center.1);
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in notes.chunks(notes.len().div_ceil(12).max(1)) {
        let (client, chunk, seen, answered) = (
            client.clone(),
            chunk.to_vec(),
            seen.clone(),
            answered.clone(),
        );
        tasks.spawn(async move {
            for n in chunk {
                match client.submit(acta_api::ACTAS, n.as_bytes()).await {
                    Ok(s) => {
                        assert!(
                            matches!(
                                s.outcome,
                                Outcome::Accepted { .. } | Outcome::Duplicate { .. }
                            ),
                            "{s:?}"
                        );
                        seen.lock()
                            .unwrap()
                            .receipts
                            .entry(n)
                            .or_default()
                            .push(s.receipt);
                        answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    Err(ClientError::Network { .. }) => {
                        seen.lock().unwrap().cut += 1;
                        return;
                    }
                    Err(ClientError::Busy { .. }) => return,
                    Err(e) => panic!("{e}"),
                }
            }
        });
    }
    {
        let (client, seen) = (client.clone(), seen.clone());
        tasks.spawn(async move {
            while let Ok(cp) = client.checkpoint().await {
                seen.lock().unwrap().checkpoints.push(cp);
                tokio::task::yield_now().await;
            }
        });
    }
    while answered.load(std::sync::atomic::Ordering::SeqCst) < stop && tasks.len() > 1 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    drop(center); // SIGKILL, whatever it was doing
    while let Some(r) = tasks.join_next().await {
        r.expect("a station saw an answer no center may give");
    }
}

/// The whole log, through the tiles alone, checked against the checkpoint.
async fn read_log(url: &str, key: &acta_note::Verifier) -> (Checkpoint, Tree, Vec<String>) {
    let client = Client::new(url);
    let cp = Checkpoint::open(client.checkpoint().await.unwrap().as_bytes(), key).unwrap();
    let mut tiles = Vec::new();
    for t in Tile::hash_tiles(cp.size)
        .into_iter()
        .chain(Tile::entry_bundles(cp.size))
    {
        tiles.push((t, client.tile(&t).await.unwrap()));
    }
    let (tree, entries) = acta_tlog::tile::verify_log(
        cp.size,
        &cp.root,
        tiles.iter().map(|(t, b)| (*t, b.as_slice())),
    )
    .unwrap();
    let entries = entries
        .into_iter()
        .map(|e| String::from_utf8(e.to_vec()).unwrap())
        .collect();
    (cp, tree, entries)
}

async fn killed_centers_lose_nothing_acknowledged(backend: &str) {
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 77,
        tables: TABLES,
    });
    let notes = acta_synth::direct::actas(&g, 5);
    let f = setup(&g);
    let db = acta_synth::testdb::database(backend, f.dir.path(), &format!("kill_{backend}")).await;
    let key: acta_note::Verifier = g.election.center_key.parse().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut points = acta_synth::rng::SplitMix::new(0xDEAD_BEEF_1234_5678);
    // Each round resends everything not yet answered, in a shuffled order,
    // and kills the center after a random number of answers.
    for _ in 0..6 {
        let mut pending: Vec<String> = {
            let s = seen.lock().unwrap();
            notes
                .iter()
                .filter(|n| !s.receipts.contains_key(*n))
                .cloned()
                .collect()
        };
        for i in (1..pending.len()).rev() {
            pending.swap(i, points.below(i as u64 + 1) as usize);
        }
        let stop = 1 + points.below(pending.len().max(2) as u64 / 2) as usize;
        round(serve(&f, &db).await, &pending, stop, &seen).await;
    }
    // A last, uninterrupted run: every note is answered; resending answered
    // ones must give duplicates with the same index.
    let center = serve(&f, &db).await;
    let client = Client::new(&center.1);
    for n in &notes {
        let s = client
            .submit_until_answered(acta_api::ACTAS, n.as_bytes(), 5)
            .await
            .unwrap();
        seen.lock()
            .unwrap()
            .receipts
            .entry(n.clone())
            .or_default()
            .push(s.receipt);
    }
    let (cp, tree, entries) = read_log(&center.1, &key).await;
    let seen = seen.lock().unwrap();
    assert_eq!(cp.size, TABLES as u64, "every acta logged, none twice");
    let mut index_of: HashMap<&str, u64> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        assert!(
            index_of.insert(e.as_str(), i as u64).is_none(),
            "entry {i} logged twice"
        );
    }
    let mut receipts = 0;
    for (note, rs) in &seen.receipts {
        let at = *index_of
            .get(note.as_str())
            .expect("an acknowledged acta is in the log");
        for r in rs {
            let p = TlogProof::parse(r).unwrap();
            let c = p
                .verify(note.as_bytes(), &key, &g.election.log_origin, &[], 0)
                .unwrap()
                .checkpoint;
            assert_eq!(p.index, at, "a receipt names the one index of its acta");
            assert_eq!(
                tree.root_at(c.size).unwrap(),
                c.root,
                "receipt checkpoint {} is a prefix",
                c.size
            );
            receipts += 1;
        }
    }
    assert!(receipts >= TABLES);
    assert!(
        seen.cut > 0,
        "some submissions were in flight when a center was killed"
    );
    for n in &seen.checkpoints {
        let c = Checkpoint::open(n.as_bytes(), &key).unwrap();
        assert_eq!(
            tree.root_at(c.size).unwrap(),
            c.root,
            "served checkpoint {} is a prefix",
            c.size
        );
    }
}

/// Two `acta center serve` processes over one database, each given every
/// acta: one log, each acta once, and both serve the same final checkpoint.
async fn two_processes_make_one_log(backend: &str) {
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 78,
        tables: 200,
    });
    let notes = acta_synth::direct::actas(&g, 6);
    let f = setup(&g);
    let db = acta_synth::testdb::database(backend, f.dir.path(), &format!("two_{backend}")).await;
    let key: acta_note::Verifier = g.election.center_key.parse().unwrap();
    let (a, b) = (serve(&f, &db).await, serve(&f, &db).await);
    let mut tasks = tokio::task::JoinSet::new();
    for (k, url) in [&a.1, &b.1, &a.1, &b.1].into_iter().enumerate() {
        let client = Client::new(url);
        let mut mine = notes.clone();
        if k % 2 == 1 {
            mine.reverse();
        }
        tasks.spawn(async move {
            let mut got = Vec::new();
            for n in mine {
                let s = client
                    .submit_until_answered(acta_api::ACTAS, n.as_bytes(), 5)
                    .await
                    .unwrap();
                got.push((n, s.outcome.index()));
            }
            got
        });
    }
    let mut index_of: HashMap<String, u64> = HashMap::new();
    while let Some(r) = tasks.join_next().await {
        for (n, i) in r.unwrap() {
            assert_eq!(
                *index_of.entry(n).or_insert(i),
                i,
                "one acta, one index, whichever center answered"
            );
        }
    }
    let (cp_a, _, entries) = read_log(&a.1, &key).await;
    let (cp_b, _, _) = read_log(&b.1, &key).await;
    assert_eq!(cp_a.size, notes.len() as u64);
    assert_eq!((cp_a.size, cp_a.root), (cp_b.size, cp_b.root));
    for (n, i) in &index_of {
        assert_eq!(&entries[*i as usize], n);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_centers_lose_nothing_acknowledged() {
    killed_centers_lose_nothing_acknowledged("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_centers_lose_nothing_acknowledged() {
    killed_centers_lose_nothing_acknowledged("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_processes_make_one_log() {
    two_processes_make_one_log("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_make_one_log() {
    two_processes_make_one_log("postgres").await;
}
