//! `acta demo --faults …`: the election night under the faults of a real
//! one. The center and both witnesses run as their own processes, so that
//! they can be killed with SIGKILL; the stations reach the center through
//! a lossy proxy of our own on loopback; an attacker floods, forges and
//! replays; stations lose power mid-vote and resume from their disks. At
//! the end every acta must be in the log exactly once, counted, with every
//! receipt a station was given proving its place in the final log, and an
//! independent observer must find the result consistent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use acta_api::{Client, ClientError, Outcome, Status};
use acta_sheet::EntryKind;
use acta_synth::ceremony::{self, Ceremony};
use acta_synth::rng::SplitMix;
use anyhow::{bail, ensure, Context, Result};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The faults a night can be run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Latency on every exchange between stations and center, and
    /// connections cut at random: before the request reaches the center,
    /// or after it did and before its answer comes back.
    Loss,
    /// An unauthenticated flood of junk and forged actas from another
    /// address, all night.
    Flood,
    /// The center killed with SIGKILL, three times during transmission,
    /// and restarted on its store.
    KillCenter,
    /// Every PostgreSQL connection of the center cut, twice, as a restart
    /// of the database server cuts them (PostgreSQL stores only).
    DbRestart,
    /// Stations kept on disk that lose power between a voter's
    /// authentication and their ballot, and are restarted from their disk.
    StationCrash,
    /// Every acta delivered twice, zero reports and actas in random order.
    Duplicates,
    /// An attacker's actas: signed by uncertified keys, altered after
    /// signing, sent to the wrong route, and genuine ones replayed.
    Forgery,
    /// One of the two witnesses offline for the first half of the night.
    WitnessOffline,
}

impl Fault {
    /// Every fault, in the order the summary lists them.
    pub const ALL: [Fault; 8] = [
        Fault::Loss,
        Fault::Flood,
        Fault::KillCenter,
        Fault::DbRestart,
        Fault::StationCrash,
        Fault::Duplicates,
        Fault::Forgery,
        Fault::WitnessOffline,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Loss => "loss",
            Fault::Flood => "flood",
            Fault::KillCenter => "kill-center",
            Fault::DbRestart => "db-restart",
            Fault::StationCrash => "station-crash",
            Fault::Duplicates => "duplicates",
            Fault::Forgery => "forgery",
            Fault::WitnessOffline => "witness-offline",
        }
    }
}

/// `all`, or a comma-separated list of fault names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults(pub Vec<Fault>);

impl std::str::FromStr for Faults {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "all" {
            return Ok(Faults(Fault::ALL.to_vec()));
        }
        let mut out = Vec::new();
        for name in s.split(',') {
            let f = Fault::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or_else(|| {
                    format!(
                        "unknown fault {name:?}: write `all` or some of {}",
                        Fault::ALL.map(Fault::name).join(",")
                    )
                })?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out.sort();
        Ok(Faults(out))
    }
}

/// One line of the summary: a fault, what it did, and what became of it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FaultLine {
    pub fault: String,
    pub happened: String,
}

/// What the night proved, written to `faults.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NightReport {
    pub tables: usize,
    pub faults: Vec<FaultLine>,
    /// What the faults did, counted.
    pub counts: BTreeMap<String, u64>,
    /// Tables whose acta is in the log exactly once and counted.
    pub actas_once: usize,
    /// Tables whose zero report is in the log exactly once.
    pub zero_once: usize,
    /// Receipts the stations were given, and how many prove their note's
    /// place in the final log.
    pub receipts: usize,
    pub receipts_in_final_log: usize,
    /// Entries in the log that no station sent (forgeries would be here).
    pub foreign_entries: usize,
    /// Ballots the stations' actas add up to, and what the observer re-added.
    pub ballots_signed: u64,
    pub ballots_observed: u64,
    pub observer_verdict: String,
    pub observer_headline: String,
    pub ok: bool,
}

/// A child process of this binary (`acta center serve`, `acta witness
/// serve`) that can be killed with SIGKILL and started again on the same
/// port and state.
struct Proc {
    what: &'static str,
    args: Vec<String>,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    early_exits: u64,
}

impl Proc {
    /// Starts the process and waits until it listens. Like a service
    /// manager, it starts it again when it exits first (a center whose
    /// database is being cut at that moment stops with that error), up to
    /// five times; `early_exits` counts those.
    async fn start(&mut self) -> Result<()> {
        for _ in 0..5 {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)?;
            let child = Command::new(std::env::current_exe()?)
                .args(&self.args)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting the {}", self.what))?;
            self.child = Some(child);
            let mut exited = false;
            for _ in 0..1200 {
                if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                    return Ok(());
                }
                if let Some(Some(_)) = self.child.as_mut().map(|c| c.try_wait().ok().flatten()) {
                    exited = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            if !exited {
                bail!("the {} did not start listening", self.what);
            }
            self.child = None;
            self.early_exits += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "the {} exited before listening five times; see {}",
            self.what,
            self.log.display()
        )
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[derive(Default)]
struct ProxyStats {
    connections: AtomicU64,
    cut_before: AtomicU64,
    cut_after: AtomicU64,
    refused: AtomicU64,
}

/// A TCP proxy between the stations and the center: every chunk waits
/// 1–15 ms each way, and one chunk sent to the center in 25 is lost with
/// its connection — half of them before the center sees it, half after the
/// center has it and before its answer comes back (the case where a
/// station cannot know whether its acta was logged).
async fn proxy(listener: TcpListener, upstream: u16, seed: u64, stats: Arc<ProxyStats>) {
    let mut n = 0u64;
    loop {
        let client = match listener.accept().await {
            Ok((c, _)) => c,
            Err(e) => {
                // A connection aborted before it was accepted, or no file
                // descriptor free for a moment: the proxy goes on.
                eprintln!("      proxy: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        n += 1;
        let stats = stats.clone();
        stats.connections.fetch_add(1, Ordering::Relaxed);
        let mut r = SplitMix::new(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let delay = Duration::from_millis(1 + r.below(15));
            let drop_answer = AtomicBool::new(false);
            let up = async {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    tokio::time::sleep(delay).await;
                    match r.below(50) {
                        0 => {
                            stats.cut_before.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        1 => drop_answer.store(true, Ordering::Relaxed),
                        _ => {}
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            };
            let down = async {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if drop_answer.load(Ordering::Relaxed) {
                        stats.cut_after.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    tokio::time::sleep(delay).await;
                    if cw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            };
            // Either direction ending ends the connection: both halves drop.
            tokio::select! {
                _ = up => {}
                _ = down => {}
            }
        });
    }
}

const REPLAYED: &str = "genuine actas replayed";

/// What the stations got back.
struct Sent {
    kind: EntryKind,
    note: String,
    submitted: acta_api::Submitted,
}

pub async fn run(
    tables: usize,
    seed: u64,
    out: &Path,
    db: Option<String>,
    faults: &Faults,
) -> Result<std::process::ExitCode> {
    let on = |f: Fault| faults.0.contains(&f);
    let started = Instant::now();
    let mut dice = [0u8; 8];
    getrandom::getrandom(&mut dice).context("the operating system's randomness")?;
    let mut rng = SplitMix::new(u64::from_le_bytes(dice));
    let mut lines: Vec<FaultLine> = Vec::new();
    // The same as figures, for machines (`faults.json`).
    let mut counts = BTreeMap::<&str, u64>::new();
    let db = db.unwrap_or_else(|| format!("sqlite://{}", out.join("center.db").display()));
    let postgres = db.starts_with("postgres");
    eprintln!(
        "[1/6] key ceremony: two party witnesses, {tables} machines; faults on: {}",
        faults
            .0
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut witnesses = Vec::new();
    let mut named = Vec::new();
    for party in ["party-a", "party-b"] {
        let port = free_port()?;
        let key = acta_note::Signer::generate(&format!("witness.{party}.example"))?;
        let cosigner = acta_note::cosignature::Cosigner::from_signer(&key);
        let key_file = out.join(format!("keys/witness-{party}.key"));
        crate::demo::write(&key_file, key.to_private_key() + "\n")?;
        named.push(acta_election::Witness {
            key: cosigner.verifier().to_string(),
            url: format!("http://127.0.0.1:{port}"),
        });
        witnesses.push((party, port, key_file));
    }
    let g = ceremony::run_with_witnesses(&acta_synth::generate::Options { seed, tables }, named, 2);
    crate::demo::write(&out.join("package.note"), &g.package)?;
    crate::demo::write(&out.join("trust.txt"), g.trust.to_text())?;
    crate::demo::write(
        &out.join("keys/center.key"),
        g.center.to_private_key() + "\n",
    )?;
    let mut witness_procs = Vec::new();
    for (party, port, key_file) in witnesses {
        let mut p = Proc {
            what: if party == "party-a" {
                "witness of party A"
            } else {
                "witness of party B"
            },
            args: vec![
                "witness".into(),
                "serve".into(),
                "--key".into(),
                key_file.display().to_string(),
                "--origin".into(),
                g.election.log_origin.clone(),
                "--log-key".into(),
                g.election.center_key.clone(),
                "--state".into(),
                out.join(format!("witness-{party}")).display().to_string(),
                "--listen".into(),
                format!("127.0.0.1:{port}"),
            ],
            port,
            log: out.join(format!("witness-{party}.log")),
            child: None,
            early_exits: 0,
        };
        p.start().await?;
        witness_procs.push(p);
    }

    let center_port = free_port()?;
    let center_url = format!("http://127.0.0.1:{center_port}");
    let open_args = |db: &str| -> Vec<String> {
        vec![
            "--package".into(),
            out.join("package.note").display().to_string(),
            "--trust".into(),
            out.join("trust.txt").display().to_string(),
            "--key".into(),
            out.join("keys/center.key").display().to_string(),
            "--db".into(),
            db.to_string(),
        ]
    };
    let mut center = Proc {
        what: "center",
        args: [
            vec!["center".to_string(), "serve".to_string()],
            open_args(&db),
        ]
        .concat()
        .into_iter()
        .chain(["--listen".to_string(), format!("127.0.0.1:{center_port}")])
        .collect(),
        port: center_port,
        log: out.join("center.log"),
        child: None,
        early_exits: 0,
    };
    eprintln!("[2/6] the center ({db}) and both witnesses, each its own process");
    center.start().await?;

    eprintln!("[3/6] election day at {tables} tables, every ballot through a station");
    let crashing: Vec<usize> = if on(Fault::StationCrash) {
        // A few stations on disk: each fsyncs every event.
        let n = tables.clamp(1, 3);
        (0..n).map(|k| k * tables / n).collect()
    } else {
        Vec::new()
    };
    let days = {
        let (g, crashing, out) = (g.clone(), crashing.clone(), out.to_path_buf());
        let crash_seed = rng.next_u64();
        tokio::task::spawn_blocking(move || -> Result<Vec<(String, String)>> {
            use rayon::prelude::*;
            (0..g.election.tables.len())
                .into_par_iter()
                .map(|i| {
                    let d = if crashing.contains(&i) {
                        let crash = acta_synth::simulate::Crash {
                            dir: out.join("stations").join(&g.election.tables[i].id),
                            after_voter: 5
                                + (SplitMix::new(crash_seed ^ i as u64).below(60) as usize),
                        };
                        g.day_crashing(i, g.content.options.seed, &crash)?
                    } else {
                        g.day(i, g.content.options.seed)
                    };
                    Ok((d.zero, d.acta))
                })
                .collect()
        })
        .await??
    };
    if on(Fault::StationCrash) {
        let mut restart_alarms = 0u64;
        let restarts: Vec<String> = crashing
            .iter()
            .map(|&i| {
                let a = acta_sheet::Acta::parse(
                    acta_note::Note::parse(days[i].1.as_bytes())
                        .expect("signed by the station")
                        .text,
                )
                .expect("the station's own acta");
                let restarts = a.alarms[acta_sheet::Alarm::Restart.index()];
                (
                    restarts,
                    format!("{} ({restarts} restart alarm)", g.election.tables[i].id),
                )
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(n, line)| {
                restart_alarms += u64::from(n);
                line
            })
            .collect();
        ensure!(
            restart_alarms >= crashing.len() as u64,
            "a station meant to crash mid-vote did not (its acta has no restart alarm)"
        );
        counts.insert("restart alarms", restart_alarms);
        lines.push(FaultLine {
            fault: Fault::StationCrash.name().into(),
            happened: format!(
                "{} stations on disk lost power between a voter's authentication and ballot and were restarted from their journal, poll book and ballot slots: {}",
                crashing.len(),
                restarts.join(", ")
            ),
        });
    }

    eprintln!("[4/6] transmission under the faults");
    let stats = Arc::new(ProxyStats::default());
    let station_url = if on(Fault::Loss) {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(proxy(listener, center_port, rng.next_u64(), stats.clone()));
        url
    } else {
        center_url.clone()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    // Set when the stations are done, however that went: nothing waits
    // for answers that will not come.
    let done = Arc::new(AtomicBool::new(false));
    let mut background = tokio::task::JoinSet::new();
    // The flood: junk and forged bodies from 127.0.0.2, as fast as it can.
    let flood_sent = Arc::new(AtomicU64::new(0));
    if on(Fault::Flood) {
        let actas: Vec<String> = days.iter().map(|(_, a)| a.clone()).collect();
        let junk = crate::bench::flood_bodies(&actas);
        for lane in 0..2usize {
            let flood = crate::bench::flood_lane(
                format!("{center_url}{}", acta_api::ACTAS),
                junk.clone(),
                (lane, 2),
                stop.clone(),
                flood_sent.clone(),
            );
            background.spawn(async move { flood.await.map(|()| String::new()) });
        }
    }
    let total = days.len() as u64 * if on(Fault::Duplicates) { 3 } else { 2 };
    // The witness of party B is offline until half the notes are answered.
    let mut witness_b = witness_procs.pop().context("two witnesses")?;
    if on(Fault::WitnessOffline) {
        witness_b.kill();
    }
    let witness_b_back = {
        let (answered, center_url, done) = (answered.clone(), center_url.clone(), done.clone());
        async move {
            let mut seen = None;
            if on(Fault::WitnessOffline) {
                while answered.load(Ordering::Relaxed) < total / 2 && !done.load(Ordering::Relaxed)
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                // What anyone could read while the quorum was short.
                let public = public_size(&Client::new(&center_url)).await;
                seen = Some((answered.load(Ordering::Relaxed), public));
                witness_b.start().await?;
            }
            anyhow::Ok((witness_b, seen))
        }
    };
    // The killer: SIGKILL to the center at three random moments.
    let killer = {
        let (answered, done) = (answered.clone(), done.clone());
        let mut r = SplitMix::new(rng.next_u64());
        async move {
            let mut kills = Vec::new();
            if on(Fault::KillCenter) {
                for share in [0.2, 0.45, 0.7] {
                    let at = (share * total as f64) as u64 + r.below(total / 10 + 1);
                    while answered.load(Ordering::Relaxed) < at.min(total - 1) {
                        if done.load(Ordering::Relaxed) {
                            return anyhow::Ok((center, kills));
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    tokio::time::sleep(Duration::from_millis(r.below(100))).await;
                    let when = answered.load(Ordering::Relaxed);
                    center.kill();
                    let t = Instant::now();
                    center.start().await?;
                    kills.push(format!(
                        "after {when} answers, serving again {:.2} s later",
                        t.elapsed().as_secs_f64()
                    ));
                }
            }
            anyhow::Ok((center, kills))
        }
    };
    // The database restarts: every connection of the center's database cut.
    let db_restarts = {
        let (answered, db, done) = (answered.clone(), db.clone(), done.clone());
        async move {
            let mut cut = Vec::new();
            if on(Fault::DbRestart) && postgres {
                for share in [0.3, 0.6] {
                    while answered.load(Ordering::Relaxed) < ((share * total as f64) as u64) {
                        if done.load(Ordering::Relaxed) {
                            return anyhow::Ok(cut);
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    // A center just restarted may hold no connection yet:
                    // cut when there is something to cut.
                    let mut n = 0;
                    for _ in 0..250 {
                        n = terminate_connections(&db).await?;
                        if n > 0 || done.load(Ordering::Relaxed) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    cut.push(n);
                }
            }
            anyhow::Ok(cut)
        }
    };
    // The stations, in random order, 64 sending at once.
    let mut order: Vec<usize> = (0..days.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let election = Arc::new(g.election.clone());
    // Receipts whose checkpoint lacks the witness quorum.
    let short = Arc::new(AtomicU64::new(0));
    let stations = {
        let (answered, election, station_url, short) = (
            answered.clone(),
            election.clone(),
            station_url.clone(),
            short.clone(),
        );
        let days = days.clone();
        let dup = on(Fault::Duplicates);
        let mut r = SplitMix::new(rng.next_u64());
        async move {
            let client = Client::new(&station_url);
            let bar = crate::demo::phase_bar(total, "notes answered");
            let mut sends = tokio::task::JoinSet::new();
            let mut sent = Vec::new();
            for i in order {
                let (zero, acta) = days[i].clone();
                let mut notes = vec![(EntryKind::Zero, zero), (EntryKind::Acta, acta.clone())];
                if dup {
                    if r.below(2) == 0 {
                        notes.swap(0, 1);
                    }
                    notes.push((EntryKind::Acta, acta));
                }
                let (client, election, answered, bar, short) = (
                    client.clone(),
                    election.clone(),
                    answered.clone(),
                    bar.clone(),
                    short.clone(),
                );
                sends.spawn(async move {
                    let mut got = Vec::new();
                    for (kind, note) in notes {
                        let (s, cosigned) =
                            crate::center::send_with(&client, &election, note.as_bytes(), kind, 40)
                                .await
                                .with_context(|| format!("table {}", election.tables[i].id))?;
                        if cosigned < election.witness_quorum as usize {
                            short.fetch_add(1, Ordering::Relaxed);
                        }
                        answered.fetch_add(1, Ordering::Relaxed);
                        bar.inc(1);
                        got.push(Sent {
                            kind,
                            note,
                            submitted: s,
                        });
                    }
                    anyhow::Ok(got)
                });
                if sends.len() >= 64 {
                    sent.extend(sends.join_next().await.expect("non-empty")??);
                }
            }
            while let Some(r) = sends.join_next().await {
                sent.extend(r??);
            }
            bar.finish_and_clear();
            anyhow::Ok(sent)
        }
    };
    // The attacker: forged, altered, misrouted and replayed actas, sent
    // straight to the center while the stations transmit.
    let attacker = {
        let (g, days, center_url) = (g.clone(), days.clone(), center_url.clone());
        let mut r = SplitMix::new(rng.next_u64());
        async move {
            let mut tally = BTreeMap::<&'static str, (u64, u64)>::new();
            if !on(Fault::Forgery) {
                return anyhow::Ok(tally);
            }
            let client = Client::new(&center_url);
            let n = (days.len() / 10).max(3).min(days.len());
            for _ in 0..n {
                let i = r.below(days.len() as u64) as usize;
                let table = &g.election.tables[i];
                let (zero, acta) = &days[i];
                let body = acta_note::Note::parse(acta.as_bytes())?.text.to_string();
                // Signed by a key named after the machine, never certified.
                let fake = acta_note::Signer::generate(&table.machine)?;
                let forged = acta_note::sign(&body, &[&fake])?;
                // The genuine signature over figures changed afterwards.
                let altered = acta.replacen("\nballots ", "\nballots 1", 1);
                for (what, path, note) in [
                    ("signed by an uncertified key", acta_api::ACTAS, forged),
                    ("altered after signing", acta_api::ACTAS, altered),
                    (
                        "a zero report sent as an acta",
                        acta_api::ACTAS,
                        zero.clone(),
                    ),
                ] {
                    let e = tally.entry(what).or_default();
                    e.0 += 1;
                    if let Err(ClientError::Refused { status, .. }) = client
                        .submit_until_answered(path, note.as_bytes(), 40)
                        .await
                    {
                        if (400..500).contains(&status) {
                            e.1 += 1;
                        }
                    }
                }
            }
            anyhow::Ok(tally)
        }
    };
    let stations = {
        let done = done.clone();
        async move {
            let r = stations.await;
            done.store(true, Ordering::Relaxed);
            r
        }
    };
    let (sent, killed, cut, witness_b, tally) =
        tokio::join!(stations, killer, db_restarts, witness_b_back, attacker);
    stop.store(true, Ordering::Relaxed);
    while background.join_next().await.is_some() {}
    let sent = sent?;
    let (mut center, kills) = killed?;
    let cut = cut?;
    let (witness_b, offline_seen) = witness_b?;
    witness_procs.push(witness_b);
    let mut tally = tally?;

    // Replays: published actas, resent by anyone once the night is over.
    if on(Fault::Forgery) {
        let client = Client::new(&center_url);
        let e = tally.entry(REPLAYED).or_default();
        for s in sent.iter().filter(|s| s.kind == EntryKind::Acta).take(20) {
            e.0 += 1;
            let again = client
                .submit_until_answered(acta_api::ACTAS, s.note.as_bytes(), 40)
                .await?;
            if matches!(again.outcome, Outcome::Duplicate { index, .. } if index == s.submitted.outcome.index())
            {
                e.1 += 1;
            }
        }
    }

    // Announce with the witnesses back: a checkpoint of the whole log that
    // both cosign.
    eprintln!("[5/6] the authority announces: `acta center announce`, its own process");
    let status = Command::new(std::env::current_exe()?)
        .args(["center", "announce"])
        .args(open_args(&db))
        .arg("--out")
        .arg(out.join("announcement.note"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()?;
    ensure!(status.success(), "the announcement failed");

    eprintln!("[6/6] an independent observer, and the exactly-once checks");
    // What every station holds: its signed notes and the receipts it got.
    for (t, (zero, acta)) in g.election.tables.iter().zip(&days) {
        crate::demo::write(&out.join("actas").join(format!("{}.note", t.id)), acta)?;
        crate::demo::write(&out.join("zero").join(format!("{}.note", t.id)), zero)?;
    }
    // Each receipt beside the note it was given for.
    for (k, s) in sent.iter().enumerate() {
        crate::demo::write(
            &out.join("receipts").join(format!("{k:06}.tlog-proof")),
            &s.submitted.receipt,
        )?;
        crate::demo::write(&out.join("receipts").join(format!("{k:06}.note")), &s.note)?;
    }
    let mut opts = acta_observer::Options::new(g.trust.clone());
    opts.state = Some(out.join("observer-state"));
    opts.record = Some(out.join("evidence"));
    let report = acta_observer::observe(
        &acta_observer::Source::Center(Client::new(&center_url)),
        &opts,
        &crate::observe::progress_bar(false),
    )
    .await?;
    crate::demo::write(
        &out.join("observer-report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let checks = exactly_once(&g, &center_url, &days, &sent).await?;
    center.kill();
    drop(witness_procs);

    if on(Fault::Loss) {
        counts.insert(
            "connections cut before the request",
            stats.cut_before.load(Ordering::Relaxed),
        );
        counts.insert(
            "connections cut before the answer",
            stats.cut_after.load(Ordering::Relaxed),
        );
        lines.push(FaultLine {
            fault: Fault::Loss.name().into(),
            happened: format!(
                "{} connections through the lossy proxy, 1–15 ms each way; {} cut before the center saw the request, {} cut after it did and before the answer, {} refused while the center was down; every station resent until answered",
                stats.connections.load(Ordering::Relaxed),
                stats.cut_before.load(Ordering::Relaxed),
                stats.cut_after.load(Ordering::Relaxed),
                stats.refused.load(Ordering::Relaxed)
            ),
        });
    }
    if on(Fault::Flood) {
        counts.insert("flood requests", flood_sent.load(Ordering::Relaxed));
        lines.push(FaultLine {
            fault: Fault::Flood.name().into(),
            happened: format!(
                "{} junk and forged requests from 127.0.0.2 answered (refused or rate-limited); none logged",
                flood_sent.load(Ordering::Relaxed)
            ),
        });
    }
    if on(Fault::KillCenter) {
        counts.insert("center kills", kills.len() as u64);
        lines.push(FaultLine {
            fault: Fault::KillCenter.name().into(),
            happened: format!(
                "center killed with SIGKILL {} times: {}{}",
                kills.len(),
                kills.join("; "),
                match center.early_exits {
                    0 => String::new(),
                    n => format!(
                        "; {n} restarts stopped on the database being cut at that moment and were started again"
                    ),
                }
            ),
        });
    }
    if on(Fault::DbRestart) {
        lines.push(FaultLine {
            fault: Fault::DbRestart.name().into(),
            happened: if postgres {
                counts.insert("database connection cuts", cut.len() as u64);
                counts.insert("database connections cut", cut.iter().sum::<u64>());
                format!(
                    "every PostgreSQL connection of the center cut {} times ({} connections)",
                    cut.len(),
                    cut.iter().sum::<u64>()
                )
            } else {
                "not applicable: the store is SQLite, inside the center's process (killed with it above)".into()
            },
        });
    }
    if on(Fault::Duplicates) {
        let dups = sent
            .iter()
            .filter(|s| matches!(s.submitted.outcome, Outcome::Duplicate { .. }))
            .count();
        counts.insert("duplicate answers", dups as u64);
        lines.push(FaultLine {
            fault: Fault::Duplicates.name().into(),
            happened: format!(
                "every acta sent twice, half of them before their zero report, tables in random order; {dups} answers were the receipt of the entry already logged"
            ),
        });
    }
    if on(Fault::Forgery) {
        let parts: Vec<String> = tally
            .iter()
            .map(|(what, (n, ok))| {
                let answer = if *what == REPLAYED {
                    "answered with the receipt of the entry already logged"
                } else {
                    "refused"
                };
                format!("{what}: {ok} of {n} {answer}")
            })
            .collect();
        for (what, (n, ok)) in &tally {
            counts.insert(what, *n);
            if n != ok {
                counts.insert("attacks not refused", n - ok);
            }
        }
        lines.push(FaultLine {
            fault: Fault::Forgery.name().into(),
            happened: parts.join("; "),
        });
    }
    if let Some((answered, public)) = offline_seen {
        lines.push(FaultLine {
            fault: Fault::WitnessOffline.name().into(),
            happened: format!(
                "the witness of party B was offline until {answered} notes were answered: the public checkpoint, which needs both cosignatures, was then at size {}; {} receipts carried fewer cosignatures than the quorum; at the end the public checkpoint is at size {} with both",
                public.map_or("not yet public (no checkpoint had both)".into(), |n| n.to_string()),
                short.load(Ordering::Relaxed),
                checks.public_size
            ),
        });
        counts.insert(
            "receipts short of the witness quorum",
            short.load(Ordering::Relaxed),
        );
    }
    let forged_all_refused = tally.values().all(|(n, ok)| n == ok);
    let ballots_signed: u64 = days
        .iter()
        .map(|(_, a)| {
            acta_note::Note::parse(a.as_bytes())
                .ok()
                .and_then(|n| acta_sheet::Acta::parse(n.text).ok())
                .map_or(0, |a| u64::from(a.ballots))
        })
        .sum();
    let consistent = report.verdict == acta_observer::verify::Verdict::Consistent;
    let outcome = NightReport {
        tables: days.len(),
        faults: lines,
        counts: counts
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        actas_once: checks.actas_once,
        zero_once: checks.zero_once,
        receipts: sent.len(),
        receipts_in_final_log: checks.receipts_in_final_log,
        foreign_entries: checks.foreign_entries,
        ballots_signed,
        ballots_observed: report.sums.ballots,
        observer_verdict: format!("{:?}", report.verdict),
        observer_headline: report.headline.clone(),
        ok: false,
    };
    let ok = outcome.actas_once == days.len()
        && outcome.zero_once == days.len()
        && outcome.receipts_in_final_log == outcome.receipts
        && outcome.foreign_entries == 0
        && outcome.ballots_signed == outcome.ballots_observed
        && consistent
        && forged_all_refused;
    let outcome = NightReport { ok, ..outcome };
    crate::demo::write(
        &out.join("faults.json"),
        serde_json::to_string_pretty(&outcome)?,
    )?;

    println!();
    println!("the night of {} tables under faults", days.len());
    println!("{:<16}  what happened", "fault");
    for l in &outcome.faults {
        println!("{:<16}  {}", l.fault, l.happened);
    }
    println!();
    let mark = |b: bool| if b { "yes" } else { "NO" };
    println!(
        "{:<60} {}",
        format!(
            "every acta in the log exactly once, counted ({} of {})",
            outcome.actas_once,
            days.len()
        ),
        mark(outcome.actas_once == days.len())
    );
    println!(
        "{:<60} {}",
        format!(
            "every zero report in the log exactly once ({} of {})",
            outcome.zero_once,
            days.len()
        ),
        mark(outcome.zero_once == days.len())
    );
    println!(
        "{:<60} {}",
        format!(
            "every receipt proves its note in the final log ({} of {})",
            outcome.receipts_in_final_log, outcome.receipts
        ),
        mark(outcome.receipts_in_final_log == outcome.receipts)
    );
    println!(
        "{:<60} {}",
        format!(
            "no entry that no station sent ({} found)",
            outcome.foreign_entries
        ),
        mark(outcome.foreign_entries == 0)
    );
    println!(
        "{:<60} {}",
        format!(
            "ballots re-added by the observer = signed ({} / {})",
            outcome.ballots_observed, outcome.ballots_signed
        ),
        mark(outcome.ballots_signed == outcome.ballots_observed)
    );
    println!(
        "{:<60} {}",
        "every forgery refused, every replay answered as a duplicate",
        mark(forged_all_refused)
    );
    println!(
        "{:<60} {}",
        format!("observer: {}", report.headline),
        mark(consistent)
    );
    println!(
        "\n{} in {:.1} s; artifacts in {}",
        if ok {
            "NOTHING LOST, NOTHING COUNTED TWICE"
        } else {
            "THE NIGHT DID NOT HOLD"
        },
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

/// The size of the center's public (quorum-cosigned) checkpoint, if any.
async fn public_size(client: &Client) -> Option<u64> {
    let note = client.checkpoint().await.ok()?;
    let text = acta_note::Note::parse(note.as_bytes()).ok()?.text;
    Some(acta_tlog::Checkpoint::parse(text).ok()?.size)
}

/// Cuts every connection to the center's PostgreSQL database, as a restart
/// of the server does; returns how many were cut.
async fn terminate_connections(db: &str) -> Result<u64> {
    use sqlx::Connection as _;
    let (server, name) = db
        .rsplit_once('/')
        .context("a postgres:// URL names its database")?;
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .fetch_one(&mut admin)
    .await?;
    Ok(n as u64)
}

struct Checks {
    public_size: u64,
    actas_once: usize,
    zero_once: usize,
    receipts_in_final_log: usize,
    foreign_entries: usize,
}

/// Reads the whole log back and checks it against what the stations sent
/// and were told: each table's acta and zero report once (the acta
/// counted), nothing else but announcements, and every receipt's entry at
/// its index with its checkpoint a prefix of the final tree.
async fn exactly_once(
    g: &Ceremony,
    url: &str,
    days: &[(String, String)],
    sent: &[Sent],
) -> Result<Checks> {
    let client = Client::new(url);
    let key: acta_note::Verifier = g.election.center_key.parse()?;
    let checkpoint = acta_tlog::Checkpoint::open(client.checkpoint().await?.as_bytes(), &key)?;
    let mut entries = Vec::new();
    while (entries.len() as u64) < checkpoint.size {
        let page = client
            .entries(entries.len() as u64, checkpoint.size)
            .await?;
        ensure!(
            !page.is_empty(),
            "the center served an empty page of its log"
        );
        entries.extend(page);
    }
    let mut tree = acta_tlog::Tree::new();
    for e in &entries {
        tree.append(acta_tlog::leaf_hash(e.note.as_bytes()));
    }
    ensure!(
        tree.root() == checkpoint.root,
        "the entries the center serves are not the log its checkpoint signs"
    );
    let mut by_note: BTreeMap<&str, Vec<&acta_api::LoggedEntry>> = BTreeMap::new();
    for e in &entries {
        by_note.entry(e.note.as_str()).or_default().push(e);
    }
    let once = |note: &str, counted: bool| {
        by_note
            .get(note)
            .is_some_and(|v| v.len() == 1 && (!counted || v[0].status == Status::Counted))
    };
    let actas_once = days.iter().filter(|(_, a)| once(a, true)).count();
    let zero_once = days.iter().filter(|(z, _)| once(z, false)).count();
    let ours: std::collections::HashSet<&str> = days
        .iter()
        .flat_map(|(z, a)| [z.as_str(), a.as_str()])
        .collect();
    // Everything else in the log is foreign — but the one announcement.
    let announcements = entries.iter().filter(|e| e.kind == "announcement").count();
    let foreign_entries = entries
        .iter()
        .filter(|e| e.kind != "announcement" && !ours.contains(e.note.as_str()))
        .count()
        + announcements.saturating_sub(1);
    let witnesses: Vec<_> = g
        .election
        .witness_keys()?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut receipts_in_final_log = 0;
    for s in sent {
        let Ok(proof) = acta_tlog::TlogProof::parse(&s.submitted.receipt) else {
            continue;
        };
        let Ok(proven) = proof.verify(
            s.note.as_bytes(),
            &key,
            &g.election.log_origin,
            &witnesses,
            0,
        ) else {
            continue;
        };
        let at = entries.get(proof.index as usize);
        if at.is_some_and(|e| e.note == s.note)
            && tree.root_at(proven.checkpoint.size).ok() == Some(proven.checkpoint.root)
        {
            receipts_in_final_log += 1;
        }
    }
    Ok(Checks {
        public_size: checkpoint.size,
        actas_once,
        zero_once,
        receipts_in_final_log,
        foreign_entries,
    })
}
