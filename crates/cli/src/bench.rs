//! `acta bench ingest`: how fast the center logs signed actas over
//! loopback HTTP, beside the floor measured in the same run on the same
//! machine — bare Ed25519 verification of the same signatures on every
//! core — and the ratio; optionally under a garbage flood from another
//! address. The center runs as its own process, so its peak memory is its
//! own.

use axum::serve::ListenerExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Signed actas to ingest (one per table).
    #[arg(long, default_value_t = 30_000)]
    pub(crate) actas: usize,
    /// Concurrent submitting stations.
    #[arg(long, default_value_t = 16)]
    pub(crate) clients: usize,
    /// Stores to measure: `sqlite`, or a `postgres://…` server URL (a scratch
    /// database is created on it). Repeat for several.
    #[arg(long = "store", default_value = "sqlite")]
    pub(crate) stores: Vec<String>,
    /// Also measure under a flood of junk and forged actas from another address.
    #[arg(long)]
    pub(crate) flood: bool,
    /// The center's `--batch-ms`: how long its sequencer lets submissions gather.
    #[arg(long, default_value_t = 5)]
    pub(crate) batch_ms: u64,
}

#[derive(clap::Args)]
pub struct ObserveArgs {
    /// Signed actas in the log (one per table).
    #[arg(long, default_value_t = 30_000)]
    actas: usize,
}

/// `acta bench`: one table of every speed beside its floor, or one
/// measurement in detail.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    cmd: Option<BenchCmd>,
    #[command(flatten)]
    summary: crate::bench_summary::SummaryArgs,
}

#[derive(clap::Subcommand)]
pub enum BenchCmd {
    /// Center ingest rate against the bare signature-verification floor.
    Ingest(IngestArgs),
    /// Observer speed and memory on a log of signed actas served over
    /// loopback, against the bare signature-verification floor.
    Observe(ObserveArgs),
    /// Results-site page latency, first render and cached, against a bare
    /// loopback round trip.
    Results(ResultsArgs),
    /// The audit's measured risk: many audits, each from its own seed, of
    /// an election whose announced winner lost on the receipts — how often
    /// a wrong outcome is confirmed, against the risk limit.
    Audit(crate::bench_audit::SimArgs),
    /// The forensic screens' calibration: false-alarm rates on clean
    /// synthetic elections, detection rates and fit errors on stuffed,
    /// inflated and burst ones.
    Forensics(crate::bench_forensics::CalibrationArgs),
}

pub(crate) struct Row {
    what: String,
    pub(crate) seconds: f64,
    pub(crate) peak_mib: Option<u64>,
    flood_sent: u64,
    center_cpu: Option<f64>,
    /// CPU of this process — the stations' HTTP clients, and the flood's
    /// — while it ran, on the same cores as the center.
    stations_cpu: Option<f64>,
}

pub async fn run(args: BenchArgs) -> Result<()> {
    let Some(cmd) = args.cmd else {
        return crate::bench_summary::run(args.summary).await;
    };
    let args = match cmd {
        BenchCmd::Ingest(a) => a,
        BenchCmd::Observe(a) => return observe(a).await,
        BenchCmd::Results(a) => return results(a).await,
        BenchCmd::Audit(a) => return crate::bench_audit::simulate(a),
        BenchCmd::Forensics(a) => return crate::bench_forensics::simulate_all(a),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    eprintln!(
        "making a synthetic election of {} tables and its key ceremony…",
        args.actas
    );
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 2026,
        tables: args.actas,
    });
    eprintln!(
        "  {:.1} s; signing one acta per table with its machine key…",
        t.elapsed().as_secs_f64()
    );
    let notes = acta_synth::direct::actas(&g, 1);
    let floor = floor(&g, &notes, cores)?;
    let dir = tempfile_dir()?;
    std::fs::write(dir.join("package.note"), &g.package)?;
    std::fs::write(dir.join("trust.txt"), g.trust.to_text())?;
    std::fs::write(dir.join("center.key"), g.center.to_private_key() + "\n")?;
    let mut rows = Vec::new();
    for store in &args.stores {
        for flooded in [false, true] {
            if flooded && !args.flood {
                continue;
            }
            let tag = format!("bench_{}", rows.len());
            let db = if store == "sqlite" {
                format!("sqlite://{}", dir.join(format!("{tag}.db")).display())
            } else {
                scratch_postgres(store, &tag).await?
            };
            let name = if store == "sqlite" {
                "sqlite"
            } else {
                "postgres"
            };
            eprintln!(
                "ingesting into {name}{}…",
                if flooded { " under a flood" } else { "" }
            );
            rows.push(ingest(&dir, &db, &notes, &args, flooded, name).await?);
        }
    }
    println!();
    println!(
        "ingest of {} signed actas over loopback HTTP by {} concurrent stations; {} cores",
        notes.len(),
        args.clients,
        cores
    );
    println!(
        "floor: bare Ed25519 verification of the same {} signatures on {} cores: {:.2} s ({:.0}/s)",
        notes.len(),
        cores,
        floor,
        notes.len() as f64 / floor
    );
    println!();
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>15} {:>13} {:>16} {:>16}",
        "store",
        "time (s)",
        "actas/s",
        "× floor",
        "center CPU (s)",
        "× floor CPU",
        "stations CPU (s)",
        "center peak MiB"
    );
    // The floor's CPU: `cores` threads busy for `floor` seconds.
    let floor_cpu = floor * cores as f64;
    for r in &rows {
        println!(
            "{:<22} {:>9.2} {:>9.0} {:>8.1}× {:>15} {:>13} {:>16} {:>16}",
            r.what,
            r.seconds,
            notes.len() as f64 / r.seconds,
            r.seconds / floor,
            r.center_cpu.map_or("-".into(), |c| format!("{c:.2}")),
            r.center_cpu
                .map_or("-".into(), |c| format!("{:.1}×", c / floor_cpu)),
            r.stations_cpu.map_or("-".into(), |c| format!("{c:.2}")),
            r.peak_mib.map_or("-".into(), |m| m.to_string())
        );
    }
    println!(
        "(× floor CPU: the center's CPU time against the floor's, {floor_cpu:.2} s; the stations share the center's cores)"
    );
    for pair in rows.windows(2) {
        if pair[1].what.ends_with("under flood") {
            println!(
                "{}: legitimate ingest kept {:.0} % of its rate while {} flood requests were answered",
                pair[1].what,
                100.0 * pair[0].seconds / pair[1].seconds,
                pair[1].flood_sent
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

pub(crate) fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("acta-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub(crate) async fn scratch_postgres(server: &str, tag: &str) -> Result<String> {
    use sqlx::Connection as _;
    let server = server.trim_end_matches('/');
    let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    let name = format!("acta_{tag}_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    Ok(format!("{server}/{name}"))
}

/// Bare Ed25519 verification of every acta's one signature, split over
/// `cores` threads: the least any verifier of these actas must do.
pub(crate) fn floor(g: &acta_synth::Ceremony, notes: &[String], cores: usize) -> Result<f64> {
    floor_of(g, notes, cores, false)
}

/// The same, decoding each machine's public key from the package's bytes
/// inside the timing (`keys_decoded`): what a verifier that sees each key
/// once — an observer, one acta per table — cannot avoid.
fn floor_of(
    g: &acta_synth::Ceremony,
    notes: &[String],
    cores: usize,
    keys_decoded: bool,
) -> Result<f64> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut work = Vec::with_capacity(notes.len());
    for (i, n) in notes.iter().enumerate() {
        let split = n.rfind("\n\n").context("note")?;
        let line = n[split + 2..].trim_end();
        let sig = b64.decode(line.rsplit(' ').next().context("signature")?)?;
        let key: acta_note::Verifier = g.election.tables[i].key.parse()?;
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key())?;
        let sig = ed25519_dalek::Signature::from_slice(&sig[4..])?;
        work.push((vk, key.public_key(), sig, &n[..split + 1]));
    }
    let start = Instant::now();
    let ok = AtomicU64::new(0);
    std::thread::scope(|s| {
        for chunk in work.chunks(work.len().div_ceil(cores).max(1)) {
            let ok = &ok;
            s.spawn(move || {
                for (vk, bytes, sig, text) in chunk {
                    let decoded;
                    let vk = if keys_decoded {
                        match ed25519_dalek::VerifyingKey::from_bytes(bytes) {
                            Ok(k) => {
                                decoded = k;
                                &decoded
                            }
                            Err(_) => continue,
                        }
                    } else {
                        vk
                    };
                    if vk.verify_strict(text.as_bytes(), sig).is_ok() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    if ok.load(Ordering::Relaxed) != notes.len() as u64 {
        bail!("a benchmark acta does not verify");
    }
    Ok(secs)
}

pub(crate) async fn ingest(
    dir: &Path,
    db: &str,
    notes: &[String],
    args: &IngestArgs,
    flooded: bool,
    name: &str,
) -> Result<Row> {
    let clients = args.clients;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let p = |f: &str| dir.join(f).display().to_string();
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "center",
            "serve",
            "--package",
            &p("package.note"),
            "--trust",
            &p("trust.txt"),
        ])
        .args([
            "--key",
            &p("center.key"),
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "--per-address-per-second",
            "1000000",
            "--per-address-burst",
            "1000000",
            "--batch-ms",
            &args.batch_ms.to_string(),
        ])
        .stderr(Stdio::null())
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}");
    let client = acta_api::Client::new(&url);
    let mut ready = false;
    for _ in 0..2400 {
        if client.checkpoint().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    if !ready {
        let _ = child.kill();
        bail!("the center did not start");
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut flood = tokio::task::JoinSet::new();
    if flooded {
        let junk = flood_bodies(notes);
        for lane in 0..4usize {
            flood.spawn(flood_lane(
                format!("{url}{}", acta_api::ACTAS),
                junk.clone(),
                (lane, 4),
                stop.clone(),
                sent.clone(),
            ));
        }
    }
    let progress = indicatif::ProgressBar::new(notes.len() as u64);
    let stations_cpu_before = cpu_seconds("self");
    let center_cpu_before = cpu_seconds(&child.id().to_string());
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in notes.chunks(notes.len().div_ceil(clients.max(1))) {
        let (client, chunk, progress) = (client.clone(), chunk.to_vec(), progress.clone());
        tasks.spawn(async move {
            for n in chunk {
                client
                    .submit_until_answered(acta_api::ACTAS, n.as_bytes(), 50)
                    .await?;
                progress.inc(1);
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let seconds = start.elapsed().as_secs_f64();
    progress.finish_and_clear();
    stop.store(true, Ordering::Relaxed);
    while flood.join_next().await.is_some() {}
    let size = acta_tlog::Checkpoint::parse(
        acta_note::Note::parse(client.checkpoint().await?.as_bytes())?.text,
    )?
    .size;
    let center_cpu = cpu_seconds(&child.id().to_string())
        .zip(center_cpu_before)
        .map(|(a, b)| a - b);
    let stations_cpu = cpu_seconds("self")
        .zip(stations_cpu_before)
        .map(|(a, b)| a - b);
    let peak_mib = crate::peak_mib_of(&child.id().to_string());
    let _ = child.kill();
    let _ = child.wait();
    if size != notes.len() as u64 {
        bail!("the log holds {size} entries, expected {}", notes.len());
    }
    Ok(Row {
        what: format!("{name}{}", if flooded { " under flood" } else { "" }),
        seconds,
        peak_mib,
        flood_sent: sent.load(Ordering::Relaxed),
        center_cpu,
        stations_cpu,
    })
}

/// What a flood sends: genuine actas with a figure changed after signing,
/// the forgery that costs a verifier the most.
pub(crate) fn flood_bodies(notes: &[String]) -> Vec<Vec<u8>> {
    notes
        .iter()
        .take(64)
        .map(|n| n.replacen("\nballots ", "\nballots 9", 1).into_bytes())
        .collect()
}

/// One lane `(k, of)` of an unauthenticated flood from 127.0.0.2 on `url`
/// until `stop`: forged actas alternating with 512 bytes of garbage, as
/// fast as the answers come; `answered` counts the requests answered (an
/// unreachable center is waited out, not counted).
pub(crate) async fn flood_lane(
    url: String,
    junk: Vec<Vec<u8>>,
    (k, of): (usize, usize),
    stop: Arc<std::sync::atomic::AtomicBool>,
    answered: Arc<AtomicU64>,
) -> Result<()> {
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()?;
    let mut i = k;
    while !stop.load(Ordering::Relaxed) {
        let body = if i % 2 == 0 {
            junk[i % junk.len()].clone()
        } else {
            vec![b'x'; 512]
        };
        match http.post(&url).body(body).send().await {
            Ok(_) => {
                answered.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
        i += of;
    }
    Ok(())
}

/// utime + stime of process `pid` (or `self`) so far, in seconds (the
/// kernel counts in ticks of 1/100 s).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest: Vec<&str> = s.rsplit_once(") ")?.1.split_whitespace().collect();
    Some((rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?) as f64 / 100.0)
}

/// `acta bench observe`: a log of signed actas (signed directly by their
/// certified machine keys) is written as C2SP tiles with a signed
/// checkpoint, served by a static file server over loopback, and observed
/// by `acta observe` as its own process; beside it, the floors measured in
/// the same run: bare Ed25519 verification of the same signatures on every
/// core, and bare SHA-256 of the same bytes on one core.
async fn observe(args: ObserveArgs) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "making a synthetic election of {} tables and its key ceremony…",
        args.actas
    );
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 2026,
        tables: args.actas,
    });
    eprintln!("signing one acta per table with its machine key…");
    let notes = acta_synth::direct::actas(&g, 1);
    let m = observed(&g, &notes).await?;
    let (seconds, floor_sig, floor_bare, floor_sha, peak) = (
        m.seconds,
        m.floor_sig,
        m.floor_bare,
        m.floor_sha,
        m.peak_mib,
    );
    let bytes: usize = notes.iter().map(String::len).sum();
    println!();
    println!(
        "observing a log of {} signed actas ({:.0} MiB) served over loopback; {} cores",
        notes.len(),
        bytes as f64 / (1 << 20) as f64,
        cores
    );
    println!("{:<58} {:>9} {:>16}", "", "time (s)", "observe ÷ this");
    println!(
        "{:<58} {:>9.2} {:>16}",
        "acta observe (mirror, verify, re-add; whole process)", seconds, "-"
    );
    for (what, t) in [
        (
            format!("floor: Ed25519 verification, keys decoded, {cores} cores"),
            floor_sig,
        ),
        (
            format!("floor: Ed25519 verification, keys pre-decoded, {cores} cores"),
            floor_bare,
        ),
        (
            "floor: SHA-256 of the same bytes, 1 core".to_string(),
            floor_sha,
        ),
    ] {
        println!("{what:<58} {t:>9.2} {:>15.2}×", seconds / t);
    }
    println!(
        "observer peak memory: {} MiB",
        peak.map_or("-".into(), |m| m.to_string())
    );
    Ok(())
}

/// What `acta observe` took on a log of `notes`, beside its floors.
pub(crate) struct Observed {
    pub(crate) seconds: f64,
    /// Ed25519 verification of the same signatures, keys decoded, every core.
    pub(crate) floor_sig: f64,
    /// The same with the keys decoded beforehand.
    pub(crate) floor_bare: f64,
    /// SHA-256 of the same bytes, one core.
    pub(crate) floor_sha: f64,
    pub(crate) peak_mib: Option<u64>,
}

/// Writes `notes` as a static tiled log, serves it over loopback and
/// times `acta observe` on it as its own process.
pub(crate) async fn observed(g: &acta_synth::Ceremony, notes: &[String]) -> Result<Observed> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = tempfile_dir()?.join("observe");
    std::fs::create_dir_all(&dir)?;
    eprintln!("writing the log as tiles under {}…", dir.display());
    write_static_log(&dir, g, notes)?;
    let floor_sig = floor_of(g, notes, cores, true)?;
    let floor_bare = floor(g, notes, cores)?;
    let start = Instant::now();
    let mut x = 0u8;
    for n in notes {
        x ^= acta_tlog::leaf_hash(n.as_bytes())[0];
    }
    let floor_sha = start.elapsed().as_secs_f64();
    std::hint::black_box(x);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(&dir));
    tokio::spawn(async move { axum::serve(listener.tap_io(crate::no_delay), app).await });
    eprintln!("observing {url} with `acta observe` in its own process…");
    let start = Instant::now();
    let out = Command::new(std::env::current_exe()?)
        .args([
            "observe",
            "--center",
            &url,
            "--json",
            "--peak-memory",
            "--trust",
        ])
        .arg(dir.join("trust.txt"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()?;
    let seconds = start.elapsed().as_secs_f64();
    let report: acta_observer::verify::Report = serde_json::from_slice(&out.stdout)
        .with_context(|| String::from_utf8_lossy(&out.stderr).into_owned())?;
    if report.actas_verified != notes.len() as u64 || !report.findings.is_empty() {
        bail!(
            "the observer did not verify the log cleanly: {}",
            report.headline
        );
    }
    let peak = String::from_utf8_lossy(&out.stderr).lines().find_map(|l| {
        l.strip_prefix("peak memory ")?
            .strip_suffix(" MiB")?
            .parse::<u64>()
            .ok()
    });
    // ACTA_BENCH_KEEP=1 keeps the tile directory (a bundle-shaped mirror)
    // for profiling `acta observe --bundle` against it.
    if std::env::var_os("ACTA_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Observed {
        seconds,
        floor_sig,
        floor_bare,
        floor_sha,
        peak_mib: peak,
    })
}

/// Writes the hash tiles of `tree` and the entry bundles of `notes` (its
/// leaves) under `dir`, as C2SP tlog-tiles lays them out; returns the bytes
/// written.
pub(crate) fn write_tiles(dir: &Path, tree: &acta_tlog::Tree, notes: &[String]) -> Result<usize> {
    let put = |path: &str, bytes: &[u8]| -> Result<()> {
        let f = dir.join(path);
        std::fs::create_dir_all(f.parent().context("path")?)?;
        std::fs::write(f, bytes)?;
        Ok(())
    };
    let mut written = 0;
    for t in acta_tlog::Tile::hash_tiles(tree.size()) {
        let b = tree.tile(&t).context("tile")?;
        written += b.len();
        put(&t.path(), &b)?;
    }
    for t in acta_tlog::Tile::entry_bundles(tree.size()) {
        let first = t.first() as usize;
        let b = acta_tlog::tile::write_bundle(
            notes[first..first + usize::from(t.width)]
                .iter()
                .map(|n| n.as_bytes()),
        )?;
        written += b.len();
        put(&t.path(), &b)?;
    }
    Ok(written)
}

/// Writes `notes` as a static C2SP tiled log under `dir/log/` with the
/// center's signed checkpoint, plus the package and trust file, so that the
/// directory is both a mirror to serve and an evidence-bundle-shaped copy.
fn write_static_log(dir: &Path, g: &acta_synth::Ceremony, notes: &[String]) -> Result<()> {
    let mut tree = acta_tlog::Tree::new();
    for n in notes {
        tree.append(acta_tlog::leaf_hash(n.as_bytes()));
    }
    let put = |path: &str, bytes: &[u8]| -> Result<()> {
        let f = dir.join(path);
        std::fs::create_dir_all(f.parent().context("path")?)?;
        std::fs::write(f, bytes)?;
        Ok(())
    };
    write_tiles(&dir.join("log"), &tree, notes)?;
    let cp = acta_tlog::Checkpoint {
        origin: g.election.log_origin.clone(),
        size: tree.size(),
        root: tree.root(),
    };
    put(
        "log/checkpoint",
        acta_note::sign(&cp.to_text(), &[&g.center])?.as_bytes(),
    )?;
    put("api/election", g.package.as_bytes())?;
    // The same directory is also an evidence-bundle-shaped mirror, for
    // `acta observe --bundle` (no network).
    put("package.note", g.package.as_bytes())?;
    put("trust.txt", g.trust.to_text().as_bytes())?;
    Ok(())
}

#[derive(clap::Args)]
pub struct ResultsArgs {
    /// Tables in the election, each with one signed acta in the log.
    #[arg(long, default_value_t = 30_000)]
    tables: usize,
}

/// Median of `n` timings of `f`, in milliseconds.
async fn median_ms<F, Fut>(n: usize, mut f: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await?;
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    v.sort_by(f64::total_cmp);
    Ok(v[v.len() / 2])
}

/// `acta bench results`: the results site's page latency on an election of
/// `--tables` tables, each page's first render (once per checkpoint) and
/// its cached serving, beside the floor — a bare loopback HTTP round trip
/// to the same server in the same run.
async fn results(args: ResultsArgs) -> Result<()> {
    eprintln!("making a synthetic election of {} tables…", args.tables);
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 2026,
        tables: args.tables,
    });
    let notes = acta_synth::direct::actas(&g, 1);
    let dir = tempfile_dir()?;
    write_static_log(&dir, &g, &notes)?;
    eprintln!("observing it into a state, as a results site's observer does…");
    let mut opts = acta_observer::Options::new(g.trust.clone());
    opts.state = Some(dir.join("observer-state"));
    acta_observer::observe(&acta_observer::Source::Bundle(dir.clone()), &opts, &|_| {}).await?;
    let t = Instant::now();
    let snap = acta_results::Snapshot::load(&dir.join("observer-state"), &dir, &g.trust)?;
    let load = t.elapsed().as_secs_f64() * 1000.0;
    let state = g.election.areas_at(acta_election::Level::State)[0]
        .code
        .clone();
    let municipality = g.election.areas_at(acta_election::Level::Municipality)[0]
        .code
        .clone();
    let table = g.election.tables[g.election.tables.len() / 2].id.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let site = acta_results::Site::new(snap);
    tokio::spawn(async move {
        axum::serve(listener.tap_io(crate::no_delay), acta_results::router(site)).await
    });
    let http = reqwest::Client::new();
    let get = |path: String| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http.get(format!("{url}{path}")).send().await?;
            anyhow::ensure!(r.status().is_success(), "{path}: {}", r.status());
            r.bytes().await?;
            Ok(())
        }
    };
    let floor = median_ms(50, || get("/size".into())).await?;
    println!();
    println!(
        "results site of {} tables ({} cores); snapshot built once per checkpoint in {load:.0} ms",
        args.tables,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<40} {:>14} {:>14} {:>10}",
        "page", "first (ms)", "cached (ms)", "÷ floor"
    );
    for (what, path) in [
        ("national", "/?lang=en".to_string()),
        ("a state", format!("/area/{state}?lang=en")),
        ("a municipality", format!("/area/{municipality}?lang=en")),
        ("a table (acta, proof)", format!("/table/{table}?lang=en")),
        (
            "a table's printed acta (PNG)",
            format!("/table/{table}/acta.png"),
        ),
        ("the log and its announcements", "/log?lang=en".to_string()),
        (
            "open data: NIST SP 1500-100 JSON",
            "/export/err.json".to_string(),
        ),
        ("open data: CSV per table", "/export/tables.csv".to_string()),
    ] {
        let t = Instant::now();
        get(path.clone()).await?;
        let first = t.elapsed().as_secs_f64() * 1000.0;
        let cached = median_ms(20, || get(path.clone())).await?;
        println!(
            "{what:<40} {first:>14.2} {cached:>14.2} {:>9.1}×",
            cached / floor
        );
    }
    println!(
        "{:<40} {:>14} {floor:>14.2} {:>10}",
        "floor: loopback round trip (/size)", "-", "1.0×"
    );
    if std::env::var_os("ACTA_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
