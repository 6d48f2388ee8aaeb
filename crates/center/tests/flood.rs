//! The write path under a flood: while one address floods the center with
//! garbage and forged actas as fast as it can, stations at another address
//! all get their receipts, nothing forged is stored, and the flooder is
//! throttled.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use acta_api::{Client, Outcome};
use acta_center::{Center, Config, Limits};

const TABLES: usize = 120;

/// A center of a fresh `tables`-table election, served with `limits` on a
/// loopback port: the ceremony, the center, its address, and the directory
/// holding its database (dropped with it).
async fn start(
    seed: u64,
    tables: usize,
    limits: Limits,
) -> (
    acta_synth::Ceremony,
    Center,
    std::net::SocketAddr,
    tempfile::TempDir,
) {
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options { seed, tables });
    let dir = tempfile::tempdir().unwrap();
    let db = acta_synth::testdb::database("sqlite", dir.path(), &format!("flood{seed}")).await;
    let mut cfg = Config::new(
        &db,
        g.package.clone().into_bytes(),
        g.trust.clone(),
        g.center.clone(),
    );
    cfg.batch_interval = Duration::from_millis(5);
    let center = Center::open(cfg).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(acta_center::serve(listener, center.clone(), limits));
    (g, center, addr, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stations_get_their_receipts_through_a_garbage_flood() {
    let limits = Limits {
        per_address_burst: 200,
        per_address_per_second: 200,
        connections: 256,
        ..Limits::default()
    };
    let (g, center, addr, _dir) = start(31, TABLES, limits).await;
    let port = addr.port();

    // The flood: from 127.0.0.2, four connections' worth of junk and of
    // actas re-signed by a key the package does not know.
    let notes = acta_synth::direct::actas(&g, 4);
    let stranger = acta_note::Signer::generate("M000001").unwrap();
    let forged: Vec<String> = notes
        .iter()
        .map(|n| {
            let text = acta_note::Note::parse(n.as_bytes()).unwrap().text;
            acta_note::sign(text, &[&stranger]).unwrap()
        })
        .collect();
    let (sent, throttled, refused) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = tokio::task::JoinSet::new();
    for k in 0..4 {
        let http = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
            .build()
            .unwrap();
        // The center listens on 127.0.0.1; the flood comes from 127.0.0.2.
        let url = format!("http://127.0.0.1:{port}{}", acta_api::ACTAS);
        let (forged, sent, throttled, refused, stop) = (
            forged.clone(),
            sent.clone(),
            throttled.clone(),
            refused.clone(),
            stop.clone(),
        );
        flood.spawn(async move {
            let mut i = k;
            while !stop.load(Ordering::Relaxed) {
                let body = if i % 2 == 0 {
                    forged[i % forged.len()].clone().into_bytes()
                } else {
                    vec![b'x'; 1 + i % 5000]
                };
                let r = http.post(&url).body(body).send().await;
                sent.fetch_add(1, Ordering::Relaxed);
                match r.map(|r| r.status().as_u16()) {
                    Ok(429) => {
                        throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(422) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(s) => panic!("the flood got HTTP {s}"),
                    Err(_) => {}
                }
                i += 4;
            }
        });
    }

    // The stations, from 127.0.0.1, eight at a time.
    let client = Client::new(&format!("http://127.0.0.1:{port}"));
    let center_key: acta_note::Verifier = g.election.center_key.parse().unwrap();
    let origin = g.election.log_origin.clone();
    let mut stations = tokio::task::JoinSet::new();
    for chunk in notes.chunks(TABLES / 8) {
        let (client, chunk, center_key, origin) = (
            client.clone(),
            chunk.to_vec(),
            center_key.clone(),
            origin.clone(),
        );
        stations.spawn(async move {
            for n in chunk {
                let s = client
                    .submit_until_answered(acta_api::ACTAS, n.as_bytes(), 20)
                    .await
                    .unwrap();
                assert!(matches!(s.outcome, Outcome::Accepted { .. }), "{s:?}");
                acta_tlog::TlogProof::parse(&s.receipt)
                    .unwrap()
                    .verify(n.as_bytes(), &center_key, &origin, &[], 0)
                    .expect("each station's receipt proves its acta is logged");
            }
        });
    }
    while let Some(r) = stations.join_next().await {
        r.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    while let Some(r) = flood.join_next().await {
        r.expect("the flood never gets anything but 422 or 429");
    }
    assert_eq!(
        center.size().await,
        TABLES as u64,
        "every acta logged, nothing forged"
    );
    let (sent, throttled, refused) = (
        sent.load(Ordering::Relaxed),
        throttled.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    assert!(
        sent > 0 && refused > 0,
        "the flood reached the center ({sent} sent)"
    );
    assert!(
        throttled > 0,
        "the flooding address was throttled ({throttled} of {sent})"
    );
}

/// Slowloris: one address opens connections and sends a byte of a request
/// line, then nothing. It gets its share of the connection slots and no
/// more; a station at another address still gets its receipts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_every_connection() {
    let limits = Limits {
        connections: 16,
        per_address_connections: 8,
        ..Limits::default()
    };
    let (g, center, addr, _dir) = start(32, 10, limits).await;
    let mut held = Vec::new();
    for _ in 0..40 {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        if let Ok(mut s) = sock.connect(addr).await {
            use tokio::io::AsyncWriteExt as _;
            let _ = s.write_all(b"P").await;
            held.push(s);
        }
    }
    let client = Client::new(&format!("http://{addr}"));
    for n in acta_synth::direct::actas(&g, 2) {
        let s = tokio::time::timeout(
            Duration::from_secs(20),
            client.submit_until_answered(acta_api::ACTAS, n.as_bytes(), 5),
        )
        .await
        .expect("the station is not locked out")
        .unwrap();
        assert!(matches!(s.outcome, Outcome::Accepted { .. }), "{s:?}");
    }
    assert_eq!(center.size().await, 10);
    drop(held);
}

/// A client that trickles a request's headers a few bytes at a time —
/// never idle, never done — is cut off once the header time is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_headers_are_cut_off() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let limits = Limits {
        header_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let (_g, _center, addr, _dir) = start(33, 4, limits).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /api/actas HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut closed = false;
    for i in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if s.write_all(format!("X-{i}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "a trickling client was served headers for 10 s");
}
