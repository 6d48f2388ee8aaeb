//! `acta center …` and `acta log …`: serve the center, make an
//! announcement, export the log as static tiles.

use std::path::{Path, PathBuf};
use std::time::Duration;

use acta_sheet::EntryKind;
use anyhow::{bail, Context, Result};

use crate::ceremony::{read_key, read_trust};

#[derive(clap::Subcommand)]
pub enum CenterCmd {
    /// Serve the center: the HTTP API and the tiled log under /log/.
    Serve {
        #[command(flatten)]
        open: Open,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// How long the sequencer lets submissions gather before committing
        /// them in one transaction (milliseconds).
        #[arg(long, default_value_t = 5)]
        batch_ms: u64,
        /// Connections open at once.
        #[arg(long, default_value_t = 4096)]
        connections: usize,
        /// Requests per second one address may make after its burst.
        #[arg(long, default_value_t = 1000)]
        per_address_per_second: u32,
        /// Requests one address may make at once.
        #[arg(long, default_value_t = 2000)]
        per_address_burst: u32,
    },
    /// The authority's act of announcing: totals of the counted actas at the
    /// current log size, signed once and appended to the log. Works on the
    /// database directly, alongside running centers.
    Announce {
        #[command(flatten)]
        open: Open,
        /// Where to write the signed announcement (and `<out>.tlog-proof`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// What every center process needs.
#[derive(clap::Args)]
pub struct Open {
    #[arg(long)]
    package: PathBuf,
    #[arg(long)]
    trust: PathBuf,
    /// The center's private key file (PRIVATE+KEY+…).
    #[arg(long)]
    key: PathBuf,
    /// sqlite://FILE (default) or postgres://…
    #[arg(long, default_value = "sqlite://acta-center.db")]
    db: String,
}

impl Open {
    /// The settings of a center process from their files.
    pub fn new(package: PathBuf, trust: PathBuf, key: PathBuf, db: String) -> Open {
        Open {
            package,
            trust,
            key,
            db,
        }
    }

    /// The center's signing key, for the authority's tools that sign with it.
    pub fn key(&self) -> Result<acta_note::Signer> {
        read_key(&self.key)
    }

    pub fn config(&self) -> Result<acta_center::Config> {
        Ok(acta_center::Config::new(
            &self.db,
            std::fs::read(&self.package)
                .with_context(|| format!("reading {}", self.package.display()))?,
            read_trust(&self.trust)?,
            read_key(&self.key)?,
        ))
    }
}

pub async fn run(cmd: CenterCmd) -> Result<()> {
    match cmd {
        CenterCmd::Serve {
            open,
            listen,
            batch_ms,
            connections,
            per_address_per_second,
            per_address_burst,
        } => {
            let mut config = open.config()?;
            config.batch_interval = Duration::from_millis(batch_ms);
            let center = acta_center::Center::open(config).await?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            eprintln!(
                "center for {} serving on http://{} (store {}, log size {})",
                center.election().id,
                listener.local_addr()?,
                open.db,
                center.size().await
            );
            let limits = acta_center::Limits {
                connections,
                per_address_per_second,
                per_address_burst,
                ..acta_center::Limits::default()
            };
            acta_center::serve(listener, center, limits).await?;
        }
        CenterCmd::Announce { open, out } => {
            let center = acta_center::Center::open(open.config()?).await?;
            let (note, submitted) = center.announce().await?;
            print!("{note}");
            eprintln!("announced at log index {}", submitted.outcome.index());
            if let Some(out) = out {
                std::fs::write(&out, &note)?;
                std::fs::write(out.with_extension("tlog-proof"), &submitted.receipt)?;
            }
        }
    }
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum LogCmd {
    /// Mirror a center's log into a directory of static files laid out as
    /// C2SP tlog-tiles says (checkpoint, tile/…, tile/entries/…), verifying
    /// every tile and entry against the signed checkpoint first. Any static
    /// file server can then serve the directory as the log.
    Export {
        /// The center's base URL.
        #[arg(long)]
        center: String,
        /// Trust file for the election package.
        #[arg(long)]
        trust: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn log(cmd: LogCmd) -> Result<()> {
    let LogCmd::Export { center, trust, out } = cmd;
    let client = acta_api::Client::new(&center);
    let package = client.text(acta_api::ELECTION).await?;
    let election = acta_election::Election::open(package.as_bytes(), &read_trust(&trust)?)?;
    let key: acta_note::Verifier = election.center_key.parse()?;
    let note = client.checkpoint().await?;
    let cp = acta_tlog::Checkpoint::open(note.as_bytes(), &key)?;
    if cp.origin != election.log_origin {
        bail!(
            "checkpoint origin {} is not the package's {}",
            cp.origin,
            election.log_origin
        );
    }
    let tiles = acta_tlog::Tile::hash_tiles(cp.size);
    let bundles = acta_tlog::Tile::entry_bundles(cp.size);
    let bar = indicatif::ProgressBar::new((tiles.len() + bundles.len()) as u64)
        .with_message("fetching tiles");
    let mut fetched = Vec::new();
    for t in tiles.iter().chain(&bundles) {
        fetched.push((*t, client.tile(t).await?));
        bar.inc(1);
    }
    bar.finish_and_clear();
    acta_tlog::tile::verify_log(
        cp.size,
        &cp.root,
        fetched.iter().map(|(t, b)| (*t, b.as_slice())),
    )
    .context("the center serves tiles that do not match its signed checkpoint")?;
    for (t, b) in &fetched {
        write(&out.join(t.path()), b)?;
    }
    write(&out.join("checkpoint"), note.as_bytes())?;
    println!(
        "exported a verified log of {} entries ({} tiles, {} entry bundles) to {}",
        cp.size,
        tiles.len(),
        bundles.len(),
        out.display()
    );
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Submits a signed note and says what happened; the receipt is returned
/// after checking it offline against the package.
pub async fn send(
    client: &acta_api::Client,
    election: &acta_election::Election,
    note: &[u8],
    kind: EntryKind,
) -> Result<acta_api::Submitted> {
    let (s, cosigned) = send_with(client, election, note, kind, 8).await?;
    let need = election.witness_quorum as usize;
    if cosigned < need {
        eprintln!(
            "warning: the receipt carries {cosigned} of the {need} witness cosignatures the package requires; it proves the center accepted the note, but not yet that everyone sees the same log"
        );
    }
    Ok(s)
}

/// [`send`], resending up to `attempts` times while the center cannot
/// answer (busy, unreachable, or cut off mid-answer); returns the receipt
/// and how many of the package's witnesses cosigned its checkpoint.
pub async fn send_with(
    client: &acta_api::Client,
    election: &acta_election::Election,
    note: &[u8],
    kind: EntryKind,
    attempts: u32,
) -> Result<(acta_api::Submitted, usize)> {
    let path = match kind {
        EntryKind::Zero => acta_api::ZERO_REPORTS,
        _ => acta_api::ACTAS,
    };
    let s = client.submit_until_answered(path, note, attempts).await?;
    let witnesses: Vec<_> = election
        .witness_keys()?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let key: acta_note::Verifier = election.center_key.parse()?;
    let proven = acta_tlog::TlogProof::parse(&s.receipt)?
        .verify(note, &key, &election.log_origin, &witnesses, 0)
        .context("the center's receipt does not prove this note is in its log")?;
    Ok((s, proven.witnesses.len()))
}
