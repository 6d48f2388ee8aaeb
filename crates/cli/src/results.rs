//! `acta results serve`: the results site, built from what an observer
//! verified — never from what the center says.

use axum::serve::ListenerExt as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

#[derive(clap::Subcommand)]
pub enum ResultsCmd {
    /// Serve the results site. With --center, observe the center every
    /// --every seconds into --dir (state and bundle) and show each newer
    /// verified checkpoint; without, serve what --dir already holds
    /// (`acta demo --out DIR` writes one), reloading when it changes.
    Serve {
        /// Holds `observer-state/` and `evidence/` (the bundle).
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        trust: PathBuf,
        #[arg(long)]
        center: Option<String>,
        #[arg(long, default_value_t = 30)]
        every: u64,
        #[arg(long, default_value = "127.0.0.1:8088")]
        listen: String,
        /// The authority's own site only: the audit desk behind the
        /// hand-count form at /audit/record — the center's database (the
        /// package, trust and center key go with it) and a file holding the
        /// token audit boards type. A mirror has none.
        #[arg(long, requires_all = ["desk_package", "desk_key", "desk_token_file"])]
        desk_db: Option<String>,
        #[arg(long)]
        desk_package: Option<PathBuf>,
        #[arg(long)]
        desk_key: Option<PathBuf>,
        #[arg(long)]
        desk_token_file: Option<PathBuf>,
        /// The stations' published journals, `<table>.log` each, for the
        /// forensic screens' ballots per hour (/forensics).
        #[arg(long)]
        journals: Option<PathBuf>,
    },
    /// Write the open data of what --dir holds, bound to its checkpoint:
    /// NIST SP 1500-100 results as `err.json` and `err.xml`, and
    /// `tables.csv`, into --out.
    Export {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        trust: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn run(cmd: ResultsCmd) -> Result<()> {
    let (dir, trust_file, center, every, listen, desk, journals) = match cmd {
        ResultsCmd::Serve {
            dir,
            trust,
            center,
            every,
            listen,
            desk_db,
            desk_package,
            desk_key,
            desk_token_file,
            journals,
        } => {
            let desk = match (desk_db, desk_package, desk_key, desk_token_file) {
                (Some(db), Some(package), Some(key), Some(token)) => {
                    Some((db, package, key, token))
                }
                _ => None,
            };
            (dir, trust, center, every, listen, desk, journals)
        }
        ResultsCmd::Export { dir, trust, out } => return export(&dir, &trust, &out),
    };
    let trust = crate::ceremony::read_trust(&trust_file)?;
    let (state, bundle) = (dir.join("observer-state"), dir.join("evidence"));
    observe(center.as_deref(), &state, &bundle, &trust)
        .await
        .context("observing the center")?;
    let mut site = acta_results::Site::new(
        acta_results::Snapshot::load(&state, &bundle, &trust)
            .with_context(|| format!("loading {}", dir.display()))?,
    );
    if let Some(j) = journals {
        site = site.with_journals(j);
    }
    if let Some((db, package, key, token_file)) = desk {
        let token = std::fs::read_to_string(&token_file)
            .with_context(|| format!("reading {}", token_file.display()))?
            .trim()
            .to_string();
        anyhow::ensure!(
            token.len() >= 16,
            "{}: the audit board's token must have at least 16 characters",
            token_file.display()
        );
        let desk = std::sync::Arc::new(
            crate::audit::Desk::open(&crate::center::Open::new(
                package,
                trust_file.clone(),
                key,
                db,
            ))
            .await?,
        );
        let record: acta_results::RecordHandCount =
            std::sync::Arc::new(move |audit, table, receipts, counts| {
                let desk = desk.clone();
                Box::pin(async move {
                    desk.record(&audit, &table, receipts, counts)
                        .await
                        .map_err(|e| format!("{e:#}"))
                })
            });
        site = site.with_desk(acta_results::Desk { token, record });
        eprintln!("hand counts of drawn tables are recorded at /audit/record");
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!("http://{}", listener.local_addr()?);
    let s = site.snapshot();
    eprintln!(
        "results of {} at checkpoint {} ({} of {} tables counted)",
        s.election.id,
        s.checkpoint.size,
        s.ledger.reported(),
        s.election.tables.len()
    );
    let refresher = {
        let site = site.clone();
        let (state, bundle, trust) = (state.clone(), bundle.clone(), trust.clone());
        let live = center.is_some();
        let center = center.clone();
        tokio::spawn(async move {
            let mut last = std::fs::metadata(state.join("state.json"))
                .and_then(|m| m.modified())
                .ok();
            loop {
                tokio::time::sleep(Duration::from_secs(if live { every } else { 5 })).await;
                if let Err(e) = observe(center.as_deref(), &state, &bundle, &trust).await {
                    eprintln!("observing the center: {e}");
                    continue;
                }
                let now = std::fs::metadata(state.join("state.json"))
                    .and_then(|m| m.modified())
                    .ok();
                if now == last {
                    continue;
                }
                last = now;
                match acta_results::Snapshot::load(&state, &bundle, &trust) {
                    Ok(snap) => {
                        if site.update(snap) {
                            eprintln!("now at checkpoint {}", site.snapshot().checkpoint.size);
                        }
                    }
                    Err(e) => eprintln!("not shown: {e}"),
                }
            }
        })
    };
    axum::serve(listener.tap_io(crate::no_delay), acta_results::router(site)).await?;
    refresher.abort();
    Ok(())
}

/// One observer run into the state and the bundle, when there is a center.
async fn observe(
    center: Option<&str>,
    state: &std::path::Path,
    bundle: &std::path::Path,
    trust: &acta_election::Trust,
) -> Result<(), acta_observer::Error> {
    let Some(url) = center else { return Ok(()) };
    let mut opts = acta_observer::Options::new(trust.clone());
    opts.state = Some(state.to_path_buf());
    opts.record = Some(bundle.to_path_buf());
    acta_observer::observe(
        &acta_observer::Source::Center(acta_api::Client::new(url)),
        &opts,
        &|_| {},
    )
    .await
    .map(|_| ())
}

fn export(dir: &std::path::Path, trust: &std::path::Path, out: &std::path::Path) -> Result<()> {
    let trust = crate::ceremony::read_trust(trust)?;
    let snap =
        acta_results::Snapshot::load(&dir.join("observer-state"), &dir.join("evidence"), &trust)
            .with_context(|| format!("loading {}", dir.display()))?;
    let actas = snap.counted_actas()?;
    let report = acta_export::err_report(&snap.election, &actas, &snap.at())?;
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("err.json"), report.to_json())?;
    std::fs::write(out.join("err.xml"), report.to_xml())?;
    std::fs::write(
        out.join("tables.csv"),
        acta_export::table_csv(&snap.election, &actas),
    )?;
    println!(
        "{} counted actas at checkpoint {} written to {} (err.json, err.xml, tables.csv)",
        actas.len(),
        snap.checkpoint.size,
        out.display()
    );
    Ok(())
}
