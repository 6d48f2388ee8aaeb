//! The witness against the log it watches and against a log that forks.

use acta_note::cosignature::{cosigners, Cosigner};
use acta_note::{Note, Signer};
use acta_tlog::witness::AddCheckpoint;
use acta_tlog::{leaf_hash, Checkpoint, Tree};
use acta_witness::{Refusal, Witness};

const ORIGIN: &str = "acta.example/log/w-test";

fn log_key() -> Signer {
    Signer::from_seed("center", [3; 32]).unwrap()
}

fn tree(n: u64, salt: u8) -> Tree {
    Tree::from_leaves((0..n).map(|i| {
        let mut b = i.to_be_bytes().to_vec();
        if i >= 5 {
            b.push(salt);
        }
        leaf_hash(&b)
    }))
}

fn checkpoint(t: &Tree, key: &Signer) -> String {
    let body = Checkpoint {
        origin: ORIGIN.into(),
        size: t.size(),
        root: t.root(),
    }
    .to_text();
    acta_note::sign(&body, &[key]).unwrap()
}

fn request(t: &Tree, old: u64, key: &Signer) -> Vec<u8> {
    AddCheckpoint {
        old,
        proof: t.consistency_proof(old, t.size()).unwrap(),
        checkpoint: checkpoint(t, key),
    }
    .to_text()
    .into_bytes()
}

fn witness(dir: &std::path::Path) -> Witness {
    let cosigner = Cosigner::from_signer(&Signer::from_seed("witness.party-a", [4; 32]).unwrap());
    Witness::open(cosigner, vec![(ORIGIN.into(), log_key().verifier())], dir).unwrap()
}

#[tokio::test]
async fn cosigns_a_growing_log_and_refuses_a_fork_naming_both_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let key = log_key();
    let mut last = 0;
    for size in [0u64, 1, 5, 9, 300] {
        let t = tree(size, 0);
        let line = w.add_checkpoint(&request(&t, last, &key)).await.unwrap();
        let joined = format!("{}{line}", checkpoint(&t, &key));
        let keys = [w.verifier()];
        let by = cosigners(&Note::parse(joined.as_bytes()).unwrap(), &keys).unwrap();
        assert_eq!(
            by.len(),
            1,
            "the line is a valid cosignature by this witness"
        );
        last = size;
    }
    // Sent again (same size, same root) it is cosigned again.
    w.add_checkpoint(&request(&tree(300, 0), 300, &key))
        .await
        .unwrap();

    // A fork: same first five leaves, different later ones, larger size.
    let forked = tree(400, 1);
    let fake_proof = AddCheckpoint {
        old: 300,
        proof: forked.consistency_proof(300, 400).unwrap(),
        checkpoint: checkpoint(&forked, &key),
    };
    let r = w
        .add_checkpoint(fake_proof.to_text().as_bytes())
        .await
        .unwrap_err();
    let Refusal::Inconsistent(msg) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(r.status(), 422);
    assert!(msg.starts_with("FORK: the checkpoint of size 400"), "{msg}");
    assert!(msg.contains("checkpoint of size 300"), "{msg}");
    assert!(
        msg.contains(&checkpoint(&forked, &key)),
        "the refused checkpoint is quoted"
    );
    assert!(
        msg.contains(&checkpoint(&tree(300, 0), &key)),
        "the cosigned one is quoted"
    );
    // A fork at the same size.
    let same = tree(300, 2);
    let r = w
        .add_checkpoint(
            AddCheckpoint {
                old: 300,
                proof: vec![],
                checkpoint: checkpoint(&same, &key),
            }
            .to_text()
            .as_bytes(),
        )
        .await
        .unwrap_err();
    assert_eq!(r.status(), 422);
    assert!(std::fs::read_dir(dir.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("refused-400-")));

    // The state survives a restart: the fork is still refused, the true log
    // still grows from 300.
    drop(w);
    let w = witness(dir.path());
    assert_eq!(
        w.add_checkpoint(&request(&tree(400, 1), 0, &key))
            .await
            .unwrap_err(),
        Refusal::Conflict(300)
    );
    assert!(w
        .add_checkpoint(fake_proof.to_text().as_bytes())
        .await
        .is_err());
    w.add_checkpoint(&request(&tree(500, 0), 300, &key))
        .await
        .unwrap();
    assert!(w.latest(ORIGIN).await.unwrap().contains("\n500\n"));
}

#[tokio::test]
async fn refuses_what_the_spec_says_to_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let key = log_key();
    let t = tree(10, 0);
    // Unknown origin: 404.
    let other = AddCheckpoint {
        old: 0,
        proof: vec![],
        checkpoint: acta_note::sign(
            &Checkpoint {
                origin: "other/log".into(),
                size: 10,
                root: t.root(),
            }
            .to_text(),
            &[&key],
        )
        .unwrap(),
    };
    assert_eq!(
        w.add_checkpoint(other.to_text().as_bytes())
            .await
            .unwrap_err()
            .status(),
        404
    );
    // Signed by another key: 403.
    let forger = Signer::from_seed("center", [9; 32]).unwrap();
    assert_eq!(
        w.add_checkpoint(&request(&t, 0, &forger))
            .await
            .unwrap_err()
            .status(),
        403
    );
    // Old larger than size: 400.
    let mut big =
        AddCheckpoint::parse(std::str::from_utf8(&request(&t, 0, &key)).unwrap()).unwrap();
    big.old = 11;
    assert_eq!(
        w.add_checkpoint(big.to_text().as_bytes())
            .await
            .unwrap_err()
            .status(),
        400
    );
    // A proof from 0 must be empty: 422.
    let mut p = AddCheckpoint::parse(std::str::from_utf8(&request(&t, 0, &key)).unwrap()).unwrap();
    p.proof = vec![[0; 32]];
    assert_eq!(
        w.add_checkpoint(p.to_text().as_bytes())
            .await
            .unwrap_err()
            .status(),
        422
    );
    // Wrong old size: 409 with the latest size.
    w.add_checkpoint(&request(&t, 0, &key)).await.unwrap();
    assert_eq!(
        w.add_checkpoint(&request(&tree(12, 0), 3, &key))
            .await
            .unwrap_err(),
        Refusal::Conflict(10)
    );
    // Garbage: 400.
    assert_eq!(w.add_checkpoint(b"hello").await.unwrap_err().status(), 400);
}

#[tokio::test]
async fn speaks_the_protocol_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, acta_witness::router(w)).await });
    let http = reqwest::Client::new();
    let key = log_key();
    let t = tree(7, 0);
    let r = http
        .post(format!("{url}/add-checkpoint"))
        .body(request(&t, 3, &key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "text/x.tlog.size");
    assert_eq!(r.text().await.unwrap(), "0\n");
    let r = http
        .post(format!("{url}/add-checkpoint"))
        .body(request(&t, 0, &key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let line = r.text().await.unwrap();
    assert!(line.starts_with("\u{2014} witness.party-a ") && line.ends_with('\n'));
    use sha2::Digest as _;
    let hash = hex::encode(sha2::Sha256::digest(ORIGIN.as_bytes()));
    let latest = http
        .get(format!("{url}/{hash}/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(latest, format!("{}{line}", checkpoint(&t, &key)));
}

#[tokio::test]
async fn more_refusals_and_atomic_updates() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let key = log_key();
    // A signature line under the log's name and key id that does not verify: 403.
    let good = checkpoint(&tree(8, 0), &key);
    let other = checkpoint(&tree(8, 9), &key);
    assert_ne!(good, other);
    let forged_sig = other.lines().last().unwrap();
    let text = good.split("\n\n").next().unwrap();
    let bad = AddCheckpoint {
        old: 0,
        proof: vec![],
        checkpoint: format!("{text}\n\n{forged_sig}\n"),
    };
    assert_eq!(
        w.add_checkpoint(bad.to_text().as_bytes())
            .await
            .unwrap_err()
            .status(),
        403
    );
    // Size 0 with a root other than the empty tree's: 422.
    let zero = acta_note::sign(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: 0,
            root: [7; 32],
        }
        .to_text(),
        &[&key],
    )
    .unwrap();
    let r = AddCheckpoint {
        old: 0,
        proof: vec![],
        checkpoint: zero,
    };
    assert_eq!(
        w.add_checkpoint(r.to_text().as_bytes())
            .await
            .unwrap_err()
            .status(),
        422
    );
    // Many checkpoints of different sizes, all claiming to follow size 0, at
    // once: exactly one is cosigned, every other is told the new size.
    let mut tasks = Vec::new();
    for n in 1..=16u64 {
        let (w, body) = (w.clone(), request(&tree(n, 0), 0, &key));
        tasks.push(tokio::spawn(async move { w.add_checkpoint(&body).await }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(Refusal::Conflict(n)) => assert!(n > 0),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1, "check and update are one atomic step");
}
