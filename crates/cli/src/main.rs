//! `acta`: one binary, one subcommand per role. The roles' logic lives in the
//! library crates; this file parses arguments, reads and writes files, and
//! prints tables.
#![forbid(unsafe_code)]

mod audit;
mod bench;
mod bench_audit;
mod bench_forensics;
mod bench_summary;
mod brazil;
mod center;
mod ceremony;
mod demo;
mod forensics;
mod night;
mod observe;
mod results;
mod station;
mod witness;

use std::path::PathBuf;
use std::process::ExitCode;

/// The center answers thousands of small requests a second, each allocating
/// and freeing its body, note and rows across threads: glibc's allocator
/// spent a tenth of the center's time consolidating its heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};

/// Sends each answer's bytes at once (`TCP_NODELAY`), as nginx and the
/// center do: without it a small answer written in two parts (headers, then
/// body) waits for the client's delayed acknowledgement, 40 ms a request.
pub(crate) fn no_delay(stream: &mut tokio::net::TcpStream) {
    // A socket that refuses the option still serves, only slower.
    let _ = stream.set_nodelay(true);
}

#[derive(Parser)]
#[command(
    name = "acta",
    version,
    about = "Verifiable election totalization: stations, center, observers."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole election end to end on this machine and verify it.
    Demo(demo::Args),
    /// Make a signing key (authority, auditor, center) from the operating
    /// system's randomness; prints the verifier key to publish.
    Keygen(ceremony::KeygenArgs),
    /// On a polling-table machine: make its own key and certificate request.
    #[command(subcommand)]
    Machine(ceremony::MachineCmd),
    /// Define, countersign and inspect election packages.
    #[command(subcommand)]
    Election(ElectionCmd),
    /// The polling-table machine.
    #[command(subcommand)]
    Station(station::Cmd),
    /// The totalization center.
    #[command(subcommand)]
    Center(center::CenterCmd),
    /// The public log.
    #[command(subcommand)]
    Log(center::LogCmd),
    /// A witness of a center's log, run by a party or an observer mission.
    #[command(subcommand)]
    Witness(witness::WitnessCmd),
    /// Measure speeds beside their floors, measured in the same run: with
    /// no subcommand, one table of every speed that matters.
    Bench(bench::BenchArgs),
    /// Mirror a center, verify everything, re-add, and give a verdict.
    /// Exit code 0: consistent; 1: discrepancies found; 2: unusable input.
    Observe(observe::ObserveArgs),
    /// Post-election audits, each step a signed note in the log: commit,
    /// seed, round, record, risk, status; and the public sample on its own.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// The results site: totals, drill-down to each table's signed acta and
    /// proof, the log and its announcements, the paper check.
    #[command(subcommand)]
    Results(results::ResultsCmd),
    /// Statistical screens over what an observer verified (fingerprint,
    /// digits, integer percentages, closing-hour bursts, overrides): tables
    /// to inspect, with charts. A flag never proves fraud.
    Forensics(forensics::ForensicsArgs),
    /// Evidence bundles: export everything behind a verdict, or check one
    /// offline and print the same verdict.
    #[command(subcommand)]
    Evidence(observe::EvidenceCmd),
    /// Verify a signed acta (a .note file, or PNG images of its QR codes)
    /// against the election package.
    VerifyActa(VerifyArgs),
}

#[derive(Subcommand)]
enum ElectionCmd {
    /// Write a synthetic election's content (definition.json, rolls,
    /// override codes, machines.txt) for the ceremony commands to use.
    Generate {
        /// Seed: the same seed and size give the same content.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Number of tables (Venezuela has about 30,000).
        #[arg(long, default_value_t = 300)]
        tables: usize,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// The center's verifier key (from `acta keygen --name center`).
        #[arg(long)]
        center_key: String,
        /// SHA-256 of the audited release; defaults to this executable's.
        #[arg(long)]
        software: Option<String>,
    },
    /// The authority: build the package from a definition, the machines'
    /// certificate requests and the rolls, and sign it.
    Define {
        /// The election definition (JSON, `election-definition/v1`).
        #[arg(long)]
        definition: PathBuf,
        /// Directory of signed certificate requests, one file per machine.
        #[arg(long)]
        requests: PathBuf,
        /// Directory of `roll/v1` files, one per table.
        #[arg(long)]
        rolls: PathBuf,
        /// The authority's private key.
        #[arg(long)]
        authority_key: PathBuf,
        /// Where to write the signed package.
        #[arg(long)]
        out: PathBuf,
    },
    /// A party auditor: add your signature to the exact package bytes you reviewed.
    Countersign {
        #[arg(long)]
        package: PathBuf,
        /// Your private key.
        #[arg(long)]
        key: PathBuf,
        /// Show afterwards who has signed and whether the quorum is met.
        #[arg(long)]
        trust: Option<PathBuf>,
    },
    /// Summarize a package and say who signed it and whether the trust
    /// file's quorum is met (exit code 1 if not).
    Show {
        #[arg(long)]
        package: PathBuf,
        #[arg(long)]
        trust: PathBuf,
    },
}

#[derive(clap::Args)]
struct VerifyArgs {
    #[arg(long)]
    package: PathBuf,
    #[arg(long)]
    trust: PathBuf,
    /// A signed acta file, or one or more PNG images of its QR codes (a
    /// printout, or photos of its parts).
    files: Vec<PathBuf>,
    /// Relay it: submit the verified acta to this center and check the
    /// receipt (what a witness's phone does for a table whose network
    /// never came back). The receipt is written to `--receipt`.
    #[arg(long)]
    center: Option<String>,
    #[arg(long, requires = "center")]
    receipt: Option<PathBuf>,
}

/// Peak resident memory of this process so far, in MiB (Linux's `VmHWM`).
fn peak_mib() -> Option<u64> {
    peak_mib_of("self")
}

/// Peak resident memory of process `pid` so far, in MiB.
fn peak_mib_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024)
}

fn read_trust(path: &std::path::Path) -> Result<acta_election::Trust> {
    ceremony::read_trust(path)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = rt.block_on(run(cli));
    // What the command did is done: servers still running in the
    // background (a demo's center, witnesses) are not waited for, nor a
    // long computation a failed request left behind.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Station(cmd) => station::run(cmd).await.map(|_| ExitCode::SUCCESS),
        Command::Keygen(a) => ceremony::keygen(a).map(|_| ExitCode::SUCCESS),
        Command::Machine(cmd) => ceremony::machine(cmd).map(|_| ExitCode::SUCCESS),
        Command::Election(ElectionCmd::Generate {
            seed,
            tables,
            out,
            center_key,
            software,
        }) => {
            ceremony::generate(seed, tables, &out, &center_key, software).map(|_| ExitCode::SUCCESS)
        }
        Command::Election(ElectionCmd::Define {
            definition,
            requests,
            rolls,
            authority_key,
            out,
        }) => ceremony::define(&definition, &requests, &rolls, &authority_key, &out)
            .map(|_| ExitCode::SUCCESS),
        Command::Election(ElectionCmd::Countersign {
            package,
            key,
            trust,
        }) => ceremony::countersign(&package, &key, trust.as_deref()).map(|_| ExitCode::SUCCESS),
        Command::Election(ElectionCmd::Show { package, trust }) => {
            Ok(if ceremony::show(&package, &trust)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Center(cmd) => center::run(cmd).await.map(|_| ExitCode::SUCCESS),
        Command::Log(cmd) => center::log(cmd).await.map(|_| ExitCode::SUCCESS),
        Command::Witness(cmd) => witness::run(cmd).await.map(|_| ExitCode::SUCCESS),
        Command::Bench(cmd) => bench::run(cmd).await.map(|_| ExitCode::SUCCESS),
        Command::Observe(args) => observe::run(args).await,
        Command::Results(cmd) => results::run(cmd).await.map(|_| ExitCode::SUCCESS),
        Command::Audit(cmd) => audit::run(cmd).await.map(|_| ExitCode::SUCCESS),
        Command::Evidence(cmd) => observe::evidence(cmd).await,
        Command::Forensics(args) => forensics::run(args).map(|_| ExitCode::SUCCESS),
        Command::VerifyActa(args) => {
            let e = acta_election::Election::open(
                &std::fs::read(&args.package)?,
                &read_trust(&args.trust)?,
            )?;
            if args.files.is_empty() {
                bail!("give a signed acta file or PNG images of its QR codes");
            }
            let blobs: Vec<Vec<u8>> = args
                .files
                .iter()
                .map(std::fs::read)
                .collect::<Result<_, _>>()?;
            let signed = if blobs.len() == 1 && blobs[0].starts_with(b"\x89PNG") {
                acta_paper::read_png(&blobs[0])?
            } else if blobs[0].starts_with(b"\x89PNG") {
                acta_sheet::qr::read_pngs(&blobs)?
            } else {
                blobs[0].clone()
            };
            let opened = acta_sheet::Acta::open(&signed, &e)?;
            println!(
                "valid acta: table {} machine {} ballots {} security code {}",
                opened.acta.table,
                opened.acta.machine,
                opened.acta.ballots,
                acta_sheet::security_code(&signed)
            );
            for h in &opened.holds {
                println!("HELD, not countable as it stands: {h}");
            }
            if let Some(url) = &args.center {
                let client = acta_api::Client::new(url);
                let s = center::send(&client, &e, &signed, acta_sheet::EntryKind::Acta).await?;
                match s.outcome {
                    acta_api::Outcome::Duplicate { index, .. } => {
                        println!("relayed: the center already had this acta, at log index {index}")
                    }
                    acta_api::Outcome::Conflict { index, first, .. } => println!(
                        "relayed: CONFLICT, the center holds a different acta for this table at index {first}; this one is kept as evidence at {index}"
                    ),
                    other => println!("relayed: logged at index {}", other.index()),
                }
                if let Some(p) = &args.receipt {
                    std::fs::write(p, &s.receipt)?;
                    println!("receipt verified and kept in {}", p.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
