//! `acta demo`: a whole election on this machine — generate, serve, vote,
//! transmit, announce, observe — leaving every artifact on disk.

use axum::serve::ListenerExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use acta_sheet::EntryKind;
use acta_synth::ceremony::{self, Ceremony};
use acta_synth::dishonest::{self, Lie};
use anyhow::{Context, Result};

use crate::center;

#[derive(clap::Args)]
pub struct Args {
    /// Number of polling tables.
    #[arg(long, default_value_t = 300, conflicts_with = "scale")]
    tables: usize,
    /// A country-sized election: `national` is Venezuela's size (30,000
    /// tables, about 21 million registered voters, 24 states, 335
    /// municipalities, some 15,000 voting centers), every ballot cast
    /// through the stations; `brazil` is 470,000 tables with the stations
    /// simulated (center, witnesses and observer at that size).
    #[arg(long, value_enum)]
    scale: Option<Scale>,
    /// Seed of the synthetic election's content (never of its keys).
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output directory (replaced if it exists).
    #[arg(long, default_value = "acta-demo")]
    out: PathBuf,
    /// Center store: defaults to sqlite://<out>/center.db; postgres://… also works.
    #[arg(long)]
    db: Option<String>,
    /// Play a dishonest authority, to watch the observer catch it. One of:
    /// inflate-turnout=N, alter-votes, drop-tables=N, phantom-table,
    /// wrong-machine, conflicting-acta, swap-package, fork-log,
    /// hide-alarms, wrong-seats, area-figure.
    #[arg(long)]
    tamper: Option<Lie>,
    /// Run the night under faults and check that nothing is lost or counted
    /// twice: `all`, or some of loss, flood, kill-center, db-restart,
    /// station-crash, duplicates, forgery, witness-offline. The center and
    /// witnesses then run as their own processes.
    #[arg(long, conflicts_with = "tamper")]
    faults: Option<crate::night::Faults>,
}

/// Sizes of a whole country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Venezuela: 30,000 tables, about 21 million registered voters.
    National,
    /// Brazil's 470,000 electoral sections: the center, its witnesses and
    /// an observer at that size, the stations simulated (actas signed
    /// directly by their machine keys).
    Brazil,
}

impl Scale {
    fn tables(self) -> usize {
        match self {
            Scale::National => 30_000,
            Scale::Brazil => crate::brazil::TABLES,
        }
    }
}

/// How long each phase of the night took, and the process's peak memory
/// when it ended: the summary table printed last.
pub(crate) struct Phases {
    started: Instant,
    last: Instant,
    done: Vec<(&'static str, String, f64, Option<u64>)>,
}

impl Phases {
    pub(crate) fn new() -> Phases {
        let now = Instant::now();
        Phases {
            started: now,
            last: now,
            done: Vec::new(),
        }
    }

    /// Ends the current phase: `what` it did.
    pub(crate) fn end(&mut self, phase: &'static str, what: String) {
        let now = Instant::now();
        self.done.push((
            phase,
            what,
            (now - self.last).as_secs_f64(),
            crate::peak_mib(),
        ));
        self.last = now;
    }

    pub(crate) fn print(&self) {
        println!(
            "{:<16} {:>9} {:>15}  what happened",
            "phase", "time (s)", "peak MiB so far"
        );
        for (phase, what, secs, peak) in &self.done {
            println!(
                "{phase:<16} {secs:>9.1} {:>15}  {what}",
                peak.map_or("-".into(), |m| m.to_string())
            );
        }
        println!(
            "{:<16} {:>9.1} {:>15}",
            "whole night",
            self.started.elapsed().as_secs_f64(),
            crate::peak_mib().map_or("-".into(), |m| m.to_string())
        );
    }
}

/// Stations sending at once: a country's tables close together and
/// transmit within minutes of each other.
pub(crate) const STATIONS_SENDING: usize = 256;

/// Two parties' witnesses of the log, bound on loopback before the
/// ceremony so that the package can name them (and need both
/// cosignatures on a public checkpoint); their keys are written to
/// `keys/witness-<party>.key`.
pub(crate) struct PartyWitnesses {
    pub(crate) named: Vec<acta_election::Witness>,
    bound: Vec<(
        tokio::net::TcpListener,
        acta_note::cosignature::Cosigner,
        &'static str,
    )>,
}

impl PartyWitnesses {
    pub(crate) async fn bind(out: &Path) -> Result<PartyWitnesses> {
        let mut bound = Vec::new();
        let mut named = Vec::new();
        for party in ["party-a", "party-b"] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let key = acta_note::Signer::generate(&format!("witness.{party}.example"))?;
            write(
                &out.join(format!("keys/witness-{party}.key")),
                key.to_private_key() + "\n",
            )?;
            let cosigner = acta_note::cosignature::Cosigner::from_signer(&key);
            named.push(acta_election::Witness {
                key: cosigner.verifier().to_string(),
                url: format!("http://{}", listener.local_addr()?),
            });
            bound.push((listener, cosigner, party));
        }
        Ok(PartyWitnesses { named, bound })
    }

    /// Serves each witness for the package's log, its state in
    /// `witness-<party>/`.
    pub(crate) fn serve(self, g: &Ceremony, out: &Path) -> Result<()> {
        for (listener, cosigner, party) in self.bound {
            let w = acta_witness::Witness::open(
                cosigner,
                vec![(g.election.log_origin.clone(), g.center.verifier())],
                &out.join(format!("witness-{party}")),
            )?;
            tokio::spawn(async move {
                axum::serve(listener.tap_io(crate::no_delay), acta_witness::router(w)).await
            });
        }
        Ok(())
    }
}

/// Opens the center on `db` and serves it on loopback; its URL is written
/// to `center-url.txt`.
pub(crate) async fn start_center(
    db: &str,
    g: &Ceremony,
    out: &Path,
) -> Result<(acta_center::Center, String)> {
    let center = acta_center::Center::open(acta_center::Config::new(
        db,
        g.package.clone().into_bytes(),
        g.trust.clone(),
        g.center.clone(),
    ))
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    // Every simulated station sends from 127.0.0.1: the per-address
    // limits, meant for one station or one attacker, would throttle the
    // whole country.
    let limits = acta_center::Limits {
        per_address_burst: 1_000_000,
        per_address_per_second: 1_000_000,
        ..acta_center::Limits::default()
    };
    tokio::spawn(acta_center::serve(listener, center.clone(), limits));
    write(&out.join("center-url.txt"), format!("{url}\n"))?;
    Ok((center, url))
}

pub(crate) fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Writes what the ceremony made public — package, trust file, definition,
/// certificate requests — and, because this is a demo, the synthetic
/// authority, auditor and center keys.
fn write_ceremony(out: &Path, c: &Ceremony) -> Result<()> {
    write(&out.join("package.note"), &c.package)?;
    write(&out.join("trust.txt"), c.trust.to_text())?;
    write(&out.join("definition.json"), c.content.definition.to_text())?;
    for (t, r) in c.election.tables.iter().zip(&c.requests) {
        write(&out.join("requests").join(format!("{}.note", t.machine)), r)?;
    }
    write(
        &out.join("keys/authority.key"),
        c.authority.to_private_key() + "\n",
    )?;
    for a in &c.auditors {
        write(
            &out.join(format!("keys/{}.key", a.name())),
            a.to_private_key() + "\n",
        )?;
    }
    write(
        &out.join("keys/center.key"),
        c.center.to_private_key() + "\n",
    )?;
    Ok(())
}

pub async fn run(mut args: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let mut phases = Phases::new();
    if let Some(scale) = args.scale {
        args.tables = scale.tables();
    }
    if args.out.exists() {
        std::fs::remove_dir_all(&args.out)
            .with_context(|| format!("clearing {}", args.out.display()))?;
    }
    std::fs::create_dir_all(&args.out)?;
    let out = args.out.canonicalize()?;
    if let Some(faults) = &args.faults {
        return crate::night::run(args.tables, args.seed, &out, args.db.clone(), faults).await;
    }
    if args.scale == Some(Scale::Brazil) {
        anyhow::ensure!(
            args.tamper.is_none(),
            "--scale brazil runs an honest night (its stations are simulated)"
        );
        return crate::brazil::run(args.seed, &out, args.db.clone()).await;
    }

    eprintln!(
        "[1/7] key ceremony: two party witnesses and {} machines make their keys, the authority defines the package, {} auditors countersign (content seed {})",
        args.tables,
        ceremony::AUDITORS,
        args.seed
    );
    let witnesses = PartyWitnesses::bind(&out).await?;
    let g = run_ceremony(args.seed, args.tables, witnesses.named.clone()).await?;
    write_ceremony(&out, &g)?;
    phases.end(
        "ceremony",
        format!(
            "{} machine keys certified, {} registered voters, package signed by the authority and {} auditors",
            g.election.tables.len(),
            g.election.registered(),
            ceremony::AUDITORS
        ),
    );
    witnesses.serve(&g, &out)?;

    let db = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", out.join("center.db").display()));
    eprintln!("[2/7] starting the center on loopback (store {db}), witnessed by two parties");
    let (center, url) = start_center(&db, &g, &out).await?;

    eprintln!(
        "[3/7] election day at {} tables: each station opens (zero report), every voter who turns out is authenticated and casts a ballot through the station, each station closes and signs its acta",
        args.tables
    );
    // Stuffing rewrites journals and boxes after the day; any other run
    // writes each table's journal and box as soon as it closes and keeps
    // only its signed notes.
    let keep_boxes = args.tamper == Some(Lie::StuffBallots);
    let days = {
        let (g, out) = (g.clone(), out.clone());
        tokio::task::spawn_blocking(move || -> Result<Vec<acta_synth::simulate::TableDay>> {
            use rayon::prelude::*;
            let bar = phase_bar(
                g.election.tables.len() as u64,
                "tables opened, voted and closed",
            );
            let days = (0..g.election.tables.len())
                .into_par_iter()
                .map(|i| {
                    let mut day = g.day(i, g.content.options.seed);
                    if !keep_boxes {
                        write_box(&out, &g.election.tables[i].id, &day)?;
                        day.records = Vec::new();
                        day.journal = Vec::new();
                    }
                    bar.inc(1);
                    Ok(day)
                })
                .collect::<Result<Vec<_>>>();
            bar.finish_and_clear();
            days
        })
        .await??
    };
    let mut days = days;
    let ballots: u64 = {
        let mut n = 0u64;
        for d in &days {
            n += u64::from(
                acta_sheet::Acta::parse(acta_note::Note::parse(d.acta.as_bytes())?.text)?.ballots,
            );
        }
        n
    };
    phases.end(
        "election day",
        format!(
            "{} zero reports, {ballots} ballots cast through the stations, {} actas signed",
            days.len(),
            days.len()
        ),
    );
    if args.tamper == Some(Lie::Miscount) {
        let mut actas: Vec<String> = days.iter().map(|d| d.acta.clone()).collect();
        let altered = dishonest::miscount(&g, &mut actas)?;
        for (d, a) in days.iter_mut().zip(actas) {
            d.acta = a;
        }
        eprintln!(
            "      COMPROMISED MACHINES: {} tables sign actas that give the leader's votes to the runner-up; their receipts stay true (first: {})",
            altered.len(),
            altered.first().map(String::as_str).unwrap_or("-")
        );
    }
    if args.tamper == Some(Lie::StuffBallots) {
        let stuffed = dishonest::stuff_ballots(&g, &mut days)?;
        eprintln!(
            "      COMPROMISED MACHINES: {} tables cast ballots at closing for {:.0} % of the voters who did not come, journal them and sign actas that count them (first: {})",
            stuffed.len(),
            100.0 * dishonest::STUFFED_SHARE,
            stuffed.first().map(String::as_str).unwrap_or("-")
        );
    }
    for (t, day) in g.election.tables.iter().zip(&days) {
        write(&out.join("actas").join(format!("{}.note", t.id)), &day.acta)?;
        if keep_boxes {
            write_box(&out, &t.id, day)?;
        }
    }
    let first = &g.election.tables[0].id;
    write(
        &out.join("actas").join(format!("{first}.png")),
        acta_sheet::qr::acta_png(days[0].acta.as_bytes())?,
    )?;

    eprintln!(
        "[4/7] transmitting {} zero reports and actas over HTTP to {url}; each station keeps its receipt",
        days.len()
    );
    let intercepted: std::collections::BTreeSet<String> = args
        .tamper
        .as_ref()
        .map(|l| l.intercepted(&g.election).into_iter().collect())
        .unwrap_or_default();
    let client = acta_api::Client::new(&url);
    let progress = phase_bar(2 * days.len() as u64, "zero reports and actas answered");
    let mut outcomes = std::collections::BTreeMap::<&str, u64>::new();
    let mut sends = tokio::task::JoinSet::new();
    // One election shared by every sending station (a clone per table
    // would copy the whole package 30,000 times).
    let election = std::sync::Arc::new(g.election.clone());
    for (t, day) in g.election.tables.iter().zip(&days) {
        let (client, election, day, id) =
            (client.clone(), election.clone(), day.clone(), t.id.clone());
        // The dishonest authority's network swallows some tables' actas.
        let swallowed = intercepted.contains(&id);
        sends.spawn(async move {
            let z = center::send(&client, &election, day.zero.as_bytes(), EntryKind::Zero).await?;
            let a = if swallowed {
                None
            } else {
                Some(center::send(&client, &election, day.acta.as_bytes(), EntryKind::Acta).await?)
            };
            anyhow::Ok((id, z, a))
        });
        if sends.len() >= STATIONS_SENDING {
            let (id, z, a) = sends.join_next().await.expect("non-empty")??;
            record(&out, &id, &z, a.as_ref(), &mut outcomes)?;
            progress.inc(2);
        }
    }
    while let Some(r) = sends.join_next().await {
        let (id, z, a) = r??;
        record(&out, &id, &z, a.as_ref(), &mut outcomes)?;
        progress.inc(2);
    }
    progress.finish_and_clear();
    let summary: Vec<String> = outcomes.iter().map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!("      actas: {}", summary.join(", "));
    phases.end(
        "transmission",
        format!(
            "{} notes over HTTP, {STATIONS_SENDING} stations at a time; actas {}; each station holds a receipt for each note it sent",
            2 * days.len() - intercepted.len(),
            summary.join(", ")
        ),
    );
    let authority = dishonest::Authority {
        db: db.clone(),
        ceremony: &g,
        intercepted: g
            .election
            .tables
            .iter()
            .zip(&days)
            .filter(|(t, _)| intercepted.contains(&t.id))
            .map(|(t, d)| (t.id.clone(), d.acta.clone()))
            .collect(),
    };
    if let Some(lie) = &args.tamper {
        eprintln!("      DISHONEST AUTHORITY: {lie}");
        for t in &intercepted {
            write(
                &out.join("actas").join(format!("{t}.png")),
                acta_sheet::qr::acta_png(authority.intercepted[t].as_bytes())?,
            )?;
        }
        if *lie == Lie::ConflictingActa {
            let second = dishonest::conflicting_acta(&g, 0, &days[0].acta)?;
            let s = client
                .submit_until_answered(acta_api::ACTAS, second.as_bytes(), 8)
                .await?;
            write(
                &out.join("actas").join(format!("{first}.second.note")),
                &second,
            )?;
            eprintln!(
                "      an insider at {first} made its machine sign a second acta: {:?}",
                s.outcome
            );
        }
        dishonest::tell(&authority, lie).await?;
    }

    eprintln!("[5/7] the authority announces the totals: signed once, appended to the log");
    let (announcement, receipt) = center.announce().await?;
    write(&out.join("announcement.note"), &announcement)?;
    write(&out.join("announcement.tlog-proof"), &receipt.receipt)?;
    phases.end(
        "totalization",
        format!(
            "announcement signed once and logged at entry {}",
            acta_tlog::TlogProof::parse(&receipt.receipt)
                .map(|p| p.index.to_string())
                .unwrap_or_else(|_| "?".into())
        ),
    );
    if let Some(lie) = &args.tamper {
        if let Some(index) = dishonest::tell_after_announcement(&authority, lie).await? {
            eprintln!("      DISHONEST AUTHORITY: a second announcement at log entry {index}, signed with the center key; waiting for the witnesses to cosign it");
            let mut waited = 0;
            while public_size(&center).await? <= index {
                anyhow::ensure!(
                    waited < 600,
                    "the log with the false announcement was never cosigned"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                waited += 1;
            }
        }
    }
    eprintln!("[6/7] post-election audit of the national contests: manifest logged, then the parties' dice, then rounds of hand counts of the drawn tables' receipts against their actas");
    // An audit whose step cannot be logged is reported, not fatal: the
    // rest of the night still stands to be verified.
    let audited = match crate::audit::demo(&center, &g, &out.join("boxes")).await {
        Ok(v) => Ok(v),
        Err(e) => {
            eprintln!("      THE AUDIT COULD NOT BE LOGGED: {e:#}");
            Err(format!("{e:#}"))
        }
    };
    let public = center.checkpoint().await?;
    write(&out.join("checkpoint.note"), &public)?;
    let cosigned = acta_note::Note::parse(public.as_bytes())?.signatures.len() - 1;
    phases.end(
        "audit, witnessing",
        format!(
            "post-election audit: {}; public checkpoint of size {} carries {cosigned} witness cosignatures",
            match &audited {
                Ok(acta_sheet::audit::Verdict::Confirmed) => "outcome confirmed".to_string(),
                Ok(_) => "full hand count required".to_string(),
                Err(e) => format!("NOT LOGGED ({e})"),
            },
            public_size(&center).await?
        ),
    );

    eprintln!("[7/7] independent observer: mirror, verify, re-add, compare");
    let proxy = match &args.tamper {
        Some(lie) => dishonest::proxy(&url, &authority, lie).await?,
        None => None,
    };
    let mut opts = acta_observer::Options::new(g.trust.clone());
    opts.state = Some(out.join("observer-state"));
    if let Some(p) = &proxy {
        // The observer first sees the genuine center, and keeps its state;
        // from then on the authority shows it (and a second observer)
        // what the lying proxy serves.
        let first = acta_observer::observe(
            &acta_observer::Source::Center(acta_api::Client::new(&url)),
            &opts,
            &crate::observe::progress_bar(true),
        )
        .await?;
        eprintln!("      first run, at the center itself: {}", first.headline);
        eprintln!("      DISHONEST AUTHORITY: from now on observers are shown {p}");
        let mut b = acta_observer::Options::new(g.trust.clone());
        b.peers = vec![out
            .join("observer-state/checkpoint.note")
            .display()
            .to_string()];
        let other = acta_observer::observe(
            &acta_observer::Source::Center(acta_api::Client::new(p)),
            &b,
            &crate::observe::progress_bar(true),
        )
        .await?;
        eprintln!(
            "      a second observer, given the first one's checkpoint: {}",
            other.headline
        );
        write(
            &out.join("observer-b-report.json"),
            serde_json::to_string_pretty(&other)?,
        )?;
    }
    let seen_at = proxy.clone().unwrap_or_else(|| url.clone());
    opts.record = Some(out.join("evidence"));
    let report = observe_into(&seen_at, &opts, &out, &mut phases).await?;
    let screens = forensic_screens(&out, &g.trust);
    crate::observe::write_html(
        &report,
        &out.join("observer-report.html"),
        screens.as_ref().ok(),
    )?;

    println!();
    println!("election {} — {}", g.election.id, g.election.name);
    let reg = g.election.registered();
    println!(
        "tables reported {} of {}  ({:.1} % of registered voters)",
        report.tables_reported,
        g.election.tables.len(),
        100.0 * report.sums.registered as f64 / reg.max(1) as f64
    );
    println!(
        "ballots {}  turnout {:.1} %",
        report.sums.ballots,
        100.0 * report.sums.ballots as f64 / report.sums.registered.max(1) as f64
    );
    print_national(&g.election, &acta_api::Client::new(&seen_at)).await?;
    println!();
    crate::observe::print_report(&report);
    println!();
    match &screens {
        Ok(r) => {
            println!("forensic screens: {}", r.headline);
            for f in r.findings.iter().filter(|f| f.flagged) {
                println!("  FLAG  {}: {}", f.screen.title(), f.summary);
            }
            println!(
                "  (every screen and chart: {}/forensics.html; acta forensics --dir {0} --trust {0}/trust.txt --journals {0}/journals)",
                out.display()
            );
        }
        Err(e) => println!("forensic screens not run: {e:#}"),
    }
    phases.end(
        "forensics",
        match &screens {
            Ok(r) => r.headline.clone(),
            Err(e) => format!("not run: {e:#}"),
        },
    );
    println!();
    phases.print();
    println!(
        "\ntime taken {:.1} s; artifacts in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    println!(
        "browse the results, down to each table's acta: acta results serve --dir {0} --trust {0}/trust.txt",
        out.display()
    );
    match &audited {
        Ok(acta_sheet::audit::Verdict::Confirmed) => {}
        Ok(_) => println!("the post-election audit did not confirm the announced outcome: a full hand count of the receipts is required"),
        Err(e) => println!("the post-election audit could not be logged, so nothing is confirmed: {e}"),
    }
    Ok(
        if report.verdict == acta_observer::verify::Verdict::Consistent
            && matches!(audited, Ok(acta_sheet::audit::Verdict::Confirmed))
        {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// The observer's run at `url`: its report written to
/// `observer-report.json`, the verification phase ended.
pub(crate) async fn observe_into(
    url: &str,
    opts: &acta_observer::Options,
    out: &Path,
    phases: &mut Phases,
) -> Result<acta_observer::verify::Report> {
    let report = acta_observer::observe(
        &acta_observer::Source::Center(acta_api::Client::new(url)),
        opts,
        &crate::observe::progress_bar(false),
    )
    .await?;
    write(
        &out.join("observer-report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    phases.end(
        "verification",
        format!(
            "observer: {} actas verified and re-added; {}",
            report.tables_reported, report.headline
        ),
    );
    Ok(report)
}

/// The national contests as the center publishes them, with bars.
pub(crate) async fn print_national(
    election: &acta_election::Election,
    client: &acta_api::Client,
) -> Result<()> {
    let national = client.results().await?;
    for c in national.contests.iter().filter(|c| {
        election
            .contest(&c.contest)
            .is_some_and(|d| d.scope.is_empty())
    }) {
        let def = election.contest(&c.contest).expect("filtered");
        let total: u64 = c.votes.iter().map(|(_, n)| n).sum::<u64>().max(1);
        println!("\n  {} — {}", c.contest, def.name);
        for (choice, n) in &c.votes {
            println!(
                "    {:<10} {:>10} {:>6.2} % {}",
                choice,
                n,
                100.0 * *n as f64 / total as f64,
                bar(*n, total)
            );
        }
        println!(
            "    {:<10} {:>10}\n    {:<10} {:>10}",
            "blank", c.blank, "null", c.null
        );
        if !c.seats.is_empty() {
            let seats: Vec<String> = c.seats.iter().map(|(w, s)| format!("{w}: {s}")).collect();
            println!("    seats/winner: {}", seats.join(", "));
        }
    }
    Ok(())
}

/// The forensic screens over what the observer verified, with every
/// journal the stations published: `forensics.html` (charts) and
/// `forensics.json` in `out`.
fn forensic_screens(out: &Path, trust: &acta_election::Trust) -> Result<acta_forensics::Report> {
    let snap =
        acta_results::Snapshot::load(&out.join("observer-state"), &out.join("evidence"), trust)?;
    let input = snap.forensic_input(None, Some(&out.join("journals")))?;
    let r = acta_forensics::screen(&input, &acta_forensics::Options::default())?;
    write(&out.join("forensics.html"), acta_forensics::chart::page(&r))?;
    write(
        &out.join("forensics.json"),
        serde_json::to_string_pretty(&r)?,
    )?;
    Ok(r)
}

/// A table's journal, box of receipts and zero report, as published.
fn write_box(out: &Path, table: &str, day: &acta_synth::simulate::TableDay) -> Result<()> {
    // Journals are published with the actas (SYSTEM.md §4–§6).
    write(
        &out.join("journals").join(format!("{table}.log")),
        day.journal.join("\n") + "\n",
    )?;
    write(
        &out.join("boxes").join(format!("{table}.records")),
        day.records.concat(),
    )?;
    write(&out.join("zero").join(format!("{table}.note")), &day.zero)
}

/// The key ceremony for `tables` tables and the two parties' witnesses,
/// on every core, with a spinner while it runs (at 470,000 tables it takes
/// minutes).
pub(crate) async fn run_ceremony(
    seed: u64,
    tables: usize,
    witnesses: Vec<acta_election::Witness>,
) -> Result<Ceremony> {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_style(
        indicatif::ProgressStyle::with_template("      {spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.set_message(format!(
        "{tables} machines making their keys, rolls committed, package defined and countersigned"
    ));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let g = tokio::task::spawn_blocking(move || {
        ceremony::run_with_witnesses(
            &acta_synth::generate::Options { seed, tables },
            witnesses,
            2,
        )
    })
    .await?;
    spinner.finish_and_clear();
    Ok(g)
}

pub(crate) fn phase_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("      [{bar:40}] {pos}/{len} {msg} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}

fn bar(n: u64, total: u64) -> String {
    "#".repeat((40 * n / total) as usize)
}

/// Keeps a station's receipts and counts what happened to its acta.
fn record(
    out: &Path,
    table: &str,
    zero: &acta_api::Submitted,
    acta: Option<&acta_api::Submitted>,
    outcomes: &mut std::collections::BTreeMap<&'static str, u64>,
) -> Result<()> {
    let dir = out.join("receipts");
    write(&dir.join(format!("{table}.zero.tlog-proof")), &zero.receipt)?;
    let Some(acta) = acta else {
        *outcomes.entry("intercepted before the center").or_default() += 1;
        return Ok(());
    };
    write(&dir.join(format!("{table}.acta.tlog-proof")), &acta.receipt)?;
    *outcomes.entry(outcome_name(&acta.outcome)).or_default() += 1;
    Ok(())
}

/// What happened to an acta, as the demo's summary counts it.
pub(crate) fn outcome_name(outcome: &acta_api::Outcome) -> &'static str {
    match outcome {
        acta_api::Outcome::Accepted { .. } => "accepted",
        acta_api::Outcome::Held { .. } => "held",
        acta_api::Outcome::Duplicate { .. } => "duplicate",
        acta_api::Outcome::Conflict { .. } => "conflict",
        _ => "other",
    }
}

/// The size of the center's latest public (witnessed) checkpoint.
pub(crate) async fn public_size(center: &acta_center::Center) -> Result<u64> {
    match center.checkpoint().await {
        Ok(n) => Ok(acta_tlog::Checkpoint::parse(acta_note::Note::parse(n.as_bytes())?.text)?.size),
        Err(_) => Ok(0),
    }
}
