//! `acta demo --scale brazil`: the center, its two party witnesses and an
//! independent observer at the size of Brazil's electoral sections
//! (470,000 tables). At this size the stations are simulated, and the
//! output says so: each table's acta is signed directly by its certified
//! machine key from simulated counts ([`acta_synth::direct`]), as the table
//! closes and transmits, and no zero report is sent. `--scale national`
//! casts every ballot through the station code.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use acta_sheet::EntryKind;
use acta_synth::ceremony;
use anyhow::Result;

use crate::center;
use crate::demo::{phase_bar, public_size, start_center, write, PartyWitnesses, Phases};

/// Brazil's electoral sections, about 470,000.
pub(crate) const TABLES: usize = 470_000;

pub(crate) async fn run(seed: u64, out: &Path, db: Option<String>) -> Result<ExitCode> {
    let started = Instant::now();
    let mut phases = Phases::new();
    eprintln!(
        "[1/6] key ceremony: two party witnesses and {TABLES} machines make their keys, the authority defines the package, {} auditors countersign (content seed {seed})",
        ceremony::AUDITORS
    );
    eprintln!(
        "      SIMULATED STATIONS: at this size no ballot goes through the station code. Each table's acta is signed directly by its certified machine key from simulated counts when the table transmits, and no zero report is sent (--scale national votes every ballot through the stations)."
    );
    let witnesses = PartyWitnesses::bind(out).await?;
    let g = crate::demo::run_ceremony(seed, TABLES, witnesses.named.clone()).await?;
    write(&out.join("package.note"), &g.package)?;
    write(&out.join("trust.txt"), g.trust.to_text())?;
    write(
        &out.join("keys/center.key"),
        g.center.to_private_key() + "\n",
    )?;
    phases.end(
        "ceremony",
        format!(
            "{} machine keys certified, {} registered voters (tables the size of the national generator's), package of {} MB signed by the authority and {} auditors",
            g.election.tables.len(),
            g.election.registered(),
            g.package.len() / 1_000_000,
            ceremony::AUDITORS
        ),
    );
    witnesses.serve(&g, out)?;

    let db = db.unwrap_or_else(|| format!("sqlite://{}", out.join("center.db").display()));
    eprintln!("[2/6] starting the center on loopback (store {db}), witnessed by two parties");
    let (center, url) = start_center(&db, &g, out).await?;

    eprintln!(
        "[3/6] {TABLES} simulated stations close, each signs its acta with its machine key and transmits it over HTTP to {url}, {} at a time; each checks its receipt",
        crate::demo::STATIONS_SENDING
    );
    let g = Arc::new(g);
    let client = acta_api::Client::new(&url);
    let progress = phase_bar(TABLES as u64, "actas signed, sent and receipted");
    let mut outcomes = std::collections::BTreeMap::<&str, u64>::new();
    let mut cosigned_short = 0u64;
    let mut sends = tokio::task::JoinSet::new();
    let mut count = |r: (acta_api::Submitted, usize)| {
        *outcomes
            .entry(crate::demo::outcome_name(&r.0.outcome))
            .or_default() += 1;
        if r.1 < g.election.witness_quorum as usize {
            cosigned_short += 1;
        }
    };
    for i in 0..TABLES {
        let (client, g) = (client.clone(), g.clone());
        sends.spawn(async move {
            // The station signs at closing: on the same cores as the center.
            let acta = acta_synth::direct::acta(&g, i, seed);
            center::send_with(&client, &g.election, acta.as_bytes(), EntryKind::Acta, 8).await
        });
        if sends.len() >= crate::demo::STATIONS_SENDING {
            count(sends.join_next().await.expect("non-empty")??);
            progress.inc(1);
        }
    }
    while let Some(r) = sends.join_next().await {
        count(r??);
        progress.inc(1);
    }
    progress.finish_and_clear();
    let summary: Vec<String> = outcomes.iter().map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!("      actas: {}", summary.join(", "));
    phases.end(
        "signing, transmission",
        format!(
            "{TABLES} actas signed and sent over HTTP, {} stations at a time: {}; every receipt proves its acta in the log ({cosigned_short} short of the witness quorum when answered)",
            crate::demo::STATIONS_SENDING,
            summary.join(", ")
        ),
    );

    eprintln!("[4/6] the authority announces the totals: signed once, appended to the log");
    let (announcement, receipt) = center.announce().await?;
    write(&out.join("announcement.note"), &announcement)?;
    write(&out.join("announcement.tlog-proof"), &receipt.receipt)?;
    let index = acta_tlog::TlogProof::parse(&receipt.receipt)?.index;
    phases.end(
        "totalization",
        format!("announcement signed once and logged at entry {index}"),
    );

    eprintln!("[5/6] the two party witnesses cosign the log with the announcement");
    let mut waited = 0;
    while public_size(&center).await? <= index {
        anyhow::ensure!(
            waited < 600,
            "the witnesses never cosigned the log with the announcement"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    let public = center.checkpoint().await?;
    write(&out.join("checkpoint.note"), &public)?;
    let cosigned = acta_note::Note::parse(public.as_bytes())?.signatures.len() - 1;
    phases.end(
        "witnessing",
        format!(
            "public checkpoint of size {} carries {cosigned} witness cosignatures",
            public_size(&center).await?
        ),
    );

    eprintln!("[6/6] independent observer: mirror the tiles, verify every signature on every core, re-add, compare");
    let mut opts = acta_observer::Options::new(g.trust.clone());
    opts.state = Some(out.join("observer-state"));
    let report = crate::demo::observe_into(&url, &opts, out, &mut phases).await?;

    println!();
    println!(
        "election {} — {} (Brazil's size; stations simulated)",
        g.election.id, g.election.name
    );
    println!(
        "tables reported {} of {}; ballots {}",
        report.tables_reported,
        g.election.tables.len(),
        report.sums.ballots
    );
    crate::demo::print_national(&g.election, &client).await?;
    println!();
    crate::observe::print_report(&report);
    println!();
    phases.print();
    println!(
        "\ntime taken {:.1} s; artifacts in {} (the center, both witnesses and the observer ran in this one process: the peak is theirs together)",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(
        if report.verdict == acta_observer::verify::Verdict::Consistent {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}
