//! `acta bench` with no subcommand: one table of every speed that matters,
//! each beside its physical floor measured in the same run on the same
//! machine — bare Ed25519 of the same signatures, bare SHA-256 of the same
//! bytes, a bare write of the same bytes — and the ratio.

use std::time::Instant;

use acta_station::Mark;
use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::bench::{self, IngestArgs};

#[derive(clap::Args)]
pub struct SummaryArgs {
    /// Election sizes to measure, in tables (one signed acta each).
    #[arg(long = "actas", value_delimiter = ',', default_value = "30000")]
    sizes: Vec<usize>,
    /// Stores for the ingest rows: `sqlite`, or a `postgres://…` server URL.
    #[arg(
        long = "store",
        default_values_t = ["sqlite".to_string(), "postgres://postgres@127.0.0.1:5432".to_string()]
    )]
    stores: Vec<String>,
    /// Ballots cast at one station on disk for its latency.
    #[arg(long, default_value_t = 200)]
    ballots: usize,
}

/// One row: what, how long, against what floor.
struct Line {
    what: String,
    took: f64,
    unit: &'static str,
    floor_what: String,
    floor: f64,
    peak_mib: Option<u64>,
}

fn line(what: impl Into<String>, took: f64, floor_what: impl Into<String>, floor: f64) -> Line {
    Line {
        what: what.into(),
        took,
        unit: "s",
        floor_what: floor_what.into(),
        floor,
        peak_mib: None,
    }
}

pub async fn run(args: SummaryArgs) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut lines = Vec::new();
    lines.extend(station_latency(args.ballots)?);
    for &n in &args.sizes {
        eprintln!("making a synthetic election of {n} tables and its key ceremony…");
        let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
            seed: 2026,
            tables: n,
        });
        let notes = acta_synth::direct::actas(&g, 1);
        lines.extend(signing(&g, &notes, cores)?);
        lines.extend(merkle(&notes)?);
        let floor = bench::floor(&g, &notes, cores)?;
        let dir = bench::tempfile_dir()?;
        std::fs::write(dir.join("package.note"), &g.package)?;
        std::fs::write(dir.join("trust.txt"), g.trust.to_text())?;
        std::fs::write(dir.join("center.key"), g.center.to_private_key() + "\n")?;
        for (k, store) in args.stores.iter().enumerate() {
            let name = if store == "sqlite" {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            let db = if store == "sqlite" {
                format!("sqlite://{}", dir.join(format!("summary_{k}.db")).display())
            } else {
                match bench::scratch_postgres(store, &format!("summary_{k}")).await {
                    Ok(db) => db,
                    Err(e) => {
                        eprintln!(
                            "{name} at {store} is not reachable ({e:#}); its row is left out"
                        );
                        continue;
                    }
                }
            };
            eprintln!("ingesting {n} actas into {name}…");
            let ingest = IngestArgs {
                actas: n,
                clients: 256,
                stores: vec![],
                flood: false,
                batch_ms: 5,
            };
            let r = bench::ingest(&dir, &db, &notes, &ingest, false, name).await?;
            lines.push(Line {
                peak_mib: r.peak_mib,
                ..line(
                    format!("center ingest, {name}, {n} actas over HTTP"),
                    r.seconds,
                    format!("Ed25519 verify, keys pre-decoded, {cores} cores"),
                    floor,
                )
            });
        }
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("observing {n} actas…");
        let o = bench::observed(&g, &notes).await?;
        lines.push(Line {
            peak_mib: o.peak_mib,
            ..line(
                format!("observer, {n} actas over HTTP (whole process)"),
                o.seconds,
                format!("Ed25519 verify, keys decoded, {cores} cores"),
                o.floor_sig,
            )
        });
    }
    println!();
    println!(
        "acta bench: {} cores, {}; every floor measured in this run",
        cores,
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| c
                .lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string()))
            .unwrap_or_else(|| "unknown CPU".into())
    );
    println!(
        "{:<52} {:>11} {:<40} {:>11} {:>8} {:>10}",
        "measure", "took", "floor", "floor took", "ratio", "peak MiB"
    );
    for l in &lines {
        println!(
            "{:<52} {:>11} {:<40} {:>11} {:>7.2}× {:>10}",
            l.what,
            show(l.took, l.unit),
            l.floor_what,
            show(l.floor, l.unit),
            l.took / l.floor,
            l.peak_mib.map_or("-".into(), |m| m.to_string())
        );
    }
    Ok(())
}

fn show(v: f64, unit: &str) -> String {
    match unit {
        "ms" => format!("{v:.3} ms"),
        _ => format!("{v:.3} s"),
    }
}

/// A station on disk casting `ballots` ballots: the median time of one
/// cast (the ballot record in its slot and the journal line, each written
/// and fsynced), against writing and fsyncing the same record's bytes once.
fn station_latency(ballots: usize) -> Result<Vec<Line>> {
    eprintln!("casting {ballots} ballots at a station on disk…");
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 2026,
        tables: 1,
    });
    let dir = bench::tempfile_dir()?.join("station");
    let _ = std::fs::remove_dir_all(&dir);
    let (roll, _) = g.roll(0);
    let table = &g.election.tables[0];
    let mut st = acta_station::Station::create(
        &dir.join("machine"),
        g.package.as_bytes(),
        &g.trust.to_text(),
        &roll,
        &g.machines[0],
        &table.id,
    )?;
    let opens = acta_election::time::parse(&g.election.opens).context("opening time")?;
    st.open(opens)?;
    let marks: Vec<Mark> = st
        .ballot()
        .iter()
        .map(|c| Mark::Choices(vec![c.choices()[0].clone()]))
        .collect();
    let (mut cast, mut floor) = (Vec::new(), Vec::new());
    let mut now = opens + 60;
    let mut probe = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("floor.bin"))?;
    let mut journal = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("floor.log"))?;
    for v in roll.voters.iter().take(ballots) {
        now += 60;
        st.authenticate(now, &v.id, v.template, None)?;
        let t = Instant::now();
        let record = st.cast(now + 30, &marks)?;
        cast.push(t.elapsed().as_secs_f64());
        // The floor: the same two durable writes a cast makes (the record
        // in its slot, a line in the journal), bare.
        let t = Instant::now();
        use std::io::Write as _;
        probe.write_all(record.as_bytes())?;
        probe.sync_data()?;
        journal.write_all(b"ballot\n")?;
        journal.sync_data()?;
        floor.push(t.elapsed().as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&dir);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] * 1e3
    };
    Ok(vec![Line {
        unit: "ms",
        ..line(
            format!("station: one ballot cast, median of {}", cast.len()),
            median(&mut cast),
            "the same 2 writes, each fdatasynced",
            median(&mut floor),
        )
    }])
}

/// Signing and opening the actas, against bare Ed25519 on every core.
fn signing(g: &acta_synth::Ceremony, notes: &[String], cores: usize) -> Result<Vec<Line>> {
    use ed25519_dalek::Signer as _;
    let n = notes.len();
    let texts: Vec<&str> = notes
        .iter()
        .map(|s| acta_note::Note::parse(s.as_bytes()).map(|n| n.text))
        .collect::<Result<_, _>>()?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(cores).build()?;
    let t = Instant::now();
    let signed: Vec<String> = pool.install(|| {
        texts
            .par_iter()
            .zip(&g.machines)
            .map(|(text, key)| acta_note::sign(text, &[key]))
            .collect::<Result<_, _>>()
    })?;
    let sign = t.elapsed().as_secs_f64();
    let keys: Vec<ed25519_dalek::SigningKey> = (0..n)
        .map(|i| ed25519_dalek::SigningKey::from_bytes(&sha2_32(i)))
        .collect();
    let t = Instant::now();
    let bare: Vec<ed25519_dalek::Signature> = pool.install(|| {
        texts
            .par_iter()
            .zip(&keys)
            .map(|(text, k)| k.sign(text.as_bytes()))
            .collect()
    });
    let sign_floor = t.elapsed().as_secs_f64();
    std::hint::black_box((&signed, &bare));
    let t = Instant::now();
    let opened = pool.install(|| {
        notes
            .par_iter()
            .filter(|s| acta_sheet::Acta::open(s.as_bytes(), &g.election).is_ok())
            .count()
    });
    let open = t.elapsed().as_secs_f64();
    anyhow::ensure!(opened == n, "a benchmark acta does not open");
    let verify_floor = bench::floor(g, notes, cores)?;
    Ok(vec![
        line(
            format!("acta signing, {n} actas"),
            sign,
            format!("Ed25519 sign, {cores} cores"),
            sign_floor,
        ),
        line(
            format!("acta opening (parse, verify, hold to package), {n}"),
            open,
            format!("Ed25519 verify, keys pre-decoded, {cores} cores"),
            verify_floor,
        ),
    ])
}

fn sha2_32(i: usize) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(i.to_be_bytes()).into()
}

/// The log's own work: appending the notes to the Merkle tree, proving and
/// verifying every inclusion, writing the tiles — against bare SHA-256 of
/// the same bytes and a bare write of the same bytes.
fn merkle(notes: &[String]) -> Result<Vec<Line>> {
    use sha2::Digest as _;
    let n = notes.len();
    let bytes: usize = notes.iter().map(String::len).sum();
    // Floor: one SHA-256 per note, over the same bytes (the second of two
    // passes: the first brings the notes into cache, as the append finds them).
    let mut x = 0u8;
    let mut sha_floor = 0.0;
    for _ in 0..2 {
        let t = Instant::now();
        for s in notes {
            x ^= sha2::Sha256::digest(s.as_bytes())[0];
        }
        sha_floor = t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let mut tree = acta_tlog::Tree::new();
    for s in notes {
        tree.append(acta_tlog::leaf_hash(s.as_bytes()));
    }
    let append = t.elapsed().as_secs_f64();
    // A tree of n leaves hashes n - 1 interior nodes too: 65 bytes each.
    let t = Instant::now();
    let mut h = [0u8; 32];
    for _ in 1..notes.len() {
        let mut d = sha2::Sha256::new();
        d.update([1u8]);
        d.update(h);
        d.update(h);
        h = d.finalize().into();
    }
    sha_floor += t.elapsed().as_secs_f64();
    std::hint::black_box(h);
    let size = tree.size();
    let indices: Vec<u64> = (0..size).collect();
    let t = Instant::now();
    let proofs = tree.inclusion_proofs(&indices, size)?;
    let prove = t.elapsed().as_secs_f64();
    // Proving reads stored hashes: its floor is copying the same bytes.
    let t = Instant::now();
    let copied = proofs.clone();
    let copy_floor = t.elapsed().as_secs_f64();
    std::hint::black_box(&copied);
    drop(copied);
    let leaves: Vec<acta_tlog::Hash> = notes
        .iter()
        .map(|s| acta_tlog::leaf_hash(s.as_bytes()))
        .collect();
    let root = tree.root();
    let t = Instant::now();
    for (i, p) in proofs.iter().enumerate() {
        acta_tlog::verify_inclusion(i as u64, size, &leaves[i], p, &root)?;
    }
    let verify = t.elapsed().as_secs_f64();
    // Floor of proving and verifying: hashing as many 64-byte node pairs
    // as the proofs hold, bare.
    let pairs: usize = proofs.iter().map(Vec::len).sum();
    let t = Instant::now();
    let mut h = [0u8; 32];
    for _ in 0..pairs {
        let mut d = sha2::Sha256::new();
        d.update([1u8]);
        d.update(h);
        d.update(h);
        h = d.finalize().into();
    }
    let node_floor = t.elapsed().as_secs_f64();
    std::hint::black_box((x, h));
    // Tiles, written as any static server would serve them, against the
    // same bytes written to one file.
    let dir = bench::tempfile_dir()?.join("tiles");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let t = Instant::now();
    let written = bench::write_tiles(&dir, &tree, notes)?;
    let tiles = t.elapsed().as_secs_f64();
    let blob = vec![7u8; written];
    let t = Instant::now();
    std::fs::write(dir.join("floor.bin"), &blob)?;
    let write_floor = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(vec![
        line(
            format!(
                "Merkle append, {n} notes ({:.0} MiB)",
                bytes as f64 / 1048576.0
            ),
            append,
            "SHA-256 of the same leaves and nodes",
            sha_floor,
        ),
        line(
            format!("inclusion proofs, all {n}"),
            prove,
            "a copy of the same proof bytes",
            copy_floor,
        ),
        line(
            format!("inclusion proof verification, all {n}"),
            verify,
            format!("SHA-256 of {pairs} node pairs, 1 core"),
            node_floor,
        ),
        line(
            format!("tile writing ({:.0} MiB)", written as f64 / 1048576.0),
            tiles,
            "one file write of the same bytes",
            write_floor,
        ),
    ])
}
