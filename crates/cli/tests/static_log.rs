//! The log is static files: `acta log export` writes the center's tiles to
//! a directory, a plain static file server (tower-http's `ServeDir`, which
//! knows nothing of acta) serves it, and a client written here from the
//! C2SP and RFC texts alone — its own note parsing, Ed25519 check, tile
//! paths, entry-bundle reader and Merkle tree hash, no acta crate — checks
//! every entry against the signed checkpoint.

use std::process::Command;

use base64::Engine as _;
use sha2::{Digest, Sha256};

const TABLES: usize = 300;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// RFC 9162 §2.1.1, from the definition.
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(mth(&leaves[..k]));
            h.update(mth(&leaves[k..]));
            h.finalize().into()
        }
    }
}

/// C2SP tlog-tiles §"Merkle Tree" path of tile `n` (n < 1000 here).
fn path(level: &str, n: u64, width: u64) -> String {
    assert!(n < 1000);
    if width == 256 {
        format!("tile/{level}/{n:03}")
    } else {
        format!("tile/{level}/{n:03}.p/{width}")
    }
}

/// Checks a C2SP signed note's Ed25519 signature by `vkey`
/// (`name+hex id+base64(0x01 ‖ key)`) and returns the text.
fn open_note(note: &str, vkey: &str) -> String {
    let mut parts = vkey.splitn(3, '+');
    let (name, id, key) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let key = b64().decode(key).unwrap();
    assert_eq!(key[0], 1);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&key[1..].try_into().unwrap()).unwrap();
    let split = note.rfind("\n\n").unwrap();
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    for line in sigs.lines() {
        let rest = line.strip_prefix("\u{2014} ").unwrap();
        let (n, sig) = rest.split_once(' ').unwrap();
        let raw = b64().decode(sig).unwrap();
        if n == name && hex::encode(&raw[..4]) == id {
            let sig = ed25519_dalek::Signature::from_slice(&raw[4..]).unwrap();
            vk.verify_strict(text.as_bytes(), &sig).unwrap();
            return text.to_string();
        }
    }
    panic!("no signature by {name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_log_served_by_a_plain_file_server_verifies_independently() {
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 90,
        tables: TABLES,
    });
    let dir = tempfile::tempdir().unwrap();
    let db = acta_synth::testdb::database("sqlite", dir.path(), "static").await;
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
    let notes = acta_synth::direct::actas(&g, 9);
    let client = acta_api::Client::new(&url);
    let mut sends = tokio::task::JoinSet::new();
    for n in notes.clone() {
        let client = client.clone();
        sends.spawn(async move { client.submit(acta_api::ACTAS, n.as_bytes()).await.unwrap() });
    }
    while let Some(r) = sends.join_next().await {
        r.unwrap();
    }
    center.announce().await.unwrap();
    let trust = dir.path().join("trust.txt");
    std::fs::write(&trust, g.trust.to_text()).unwrap();
    let out = dir.path().join("log");
    let export = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["log", "export", "--center", &url, "--trust"])
        .arg(&trust)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );

    // A static file server that knows nothing of acta.
    let files = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", files.local_addr().unwrap());
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(&out));
    tokio::spawn(async move { axum::serve(files, app).await });

    // The independent client.
    let http = reqwest::Client::new();
    let get = |p: String| {
        let http = http.clone();
        let url = format!("{base}/{p}");
        async move {
            let r = http.get(&url).send().await.unwrap();
            assert!(r.status().is_success(), "{url}: {}", r.status());
            r.bytes().await.unwrap().to_vec()
        }
    };
    let checkpoint = String::from_utf8(get("checkpoint".into()).await).unwrap();
    let text = open_note(&checkpoint, &g.election.center_key);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], g.election.log_origin);
    let size: u64 = lines[1].parse().unwrap();
    let root: [u8; 32] = b64().decode(lines[2]).unwrap().try_into().unwrap();
    assert_eq!(size, TABLES as u64 + 1, "every acta and the announcement");
    let mut leaves = Vec::new();
    let mut entries = Vec::new();
    for n in 0..size.div_ceil(256) {
        let width = (size - n * 256).min(256);
        let bundle = get(path("entries", n, width)).await;
        let mut rest = bundle.as_slice();
        while !rest.is_empty() {
            let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            let e = &rest[2..2 + len];
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(e);
            leaves.push(<[u8; 32]>::from(h.finalize()));
            entries.push(e.to_vec());
            rest = &rest[2 + len..];
        }
        let tile = get(path("0", n, width)).await;
        let from = (n * 256) as usize;
        assert_eq!(
            tile,
            leaves[from..].concat(),
            "level-0 tile {n} holds the leaf hashes"
        );
    }
    assert_eq!(leaves.len() as u64, size);
    assert_eq!(
        mth(&leaves),
        root,
        "every entry verifies against the signed checkpoint"
    );
    // Level 1: the hash of the one full level-0 tile.
    let l1 = get(path("1", 0, size / 256)).await;
    assert_eq!(l1, mth(&leaves[..256]).to_vec());
    for n in &notes {
        assert!(
            entries.iter().any(|e| e == n.as_bytes()),
            "each acta is served byte for byte"
        );
    }
}
