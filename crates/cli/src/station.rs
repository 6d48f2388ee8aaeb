//! `acta station …`: drive one polling-table machine whose state lives in a
//! directory, one command per poll-worker action.

use std::path::PathBuf;

use acta_api::Outcome;
use acta_election::time;
use acta_sheet::EntryKind;
use acta_station::{Mark, Station};
use anyhow::{bail, Context, Result};

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Provision a station directory for one table.
    Init {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        package: PathBuf,
        #[arg(long)]
        trust: PathBuf,
        #[arg(long)]
        roll: PathBuf,
        /// The machine's private key (PRIVATE+KEY+…).
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        table: String,
    },
    /// Open the table and print the signed zero report.
    Open(Common),
    /// Authenticate a voter.
    Auth {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        voter: String,
        /// SHA-256 (hex) of the biometric template read by the scanner.
        #[arg(long)]
        template: String,
        /// One-time override code, when the biometric does not match.
        #[arg(long = "override")]
        override_code: Option<String>,
    },
    /// Cast the authenticated voter's ballot: --mark CONTEST=CHOICE[,CHOICE]
    /// or CONTEST=blank / CONTEST=null; unmarked contests are blank.
    Vote {
        #[command(flatten)]
        common: Common,
        #[arg(long = "mark")]
        marks: Vec<String>,
    },
    /// Close the table: writes acta.note and acta.png in the directory.
    Close(Common),
    /// Run the table's machine with its screens: the poll-worker screen at
    /// `/` and the voter screen at `/vote`, with the outbox sending the zero
    /// report and the acta to --center until each is logged.
    Serve {
        #[arg(long)]
        dir: PathBuf,
        /// Address of the poll-worker screen (the machine's own: keep it local).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// Address of the voter screen, a listener of its own so the
        /// poll-worker side has no route to it.
        #[arg(long, default_value = "127.0.0.1:8091")]
        voter_listen: String,
        /// The center to transmit to.
        #[arg(long)]
        center: Option<String>,
        /// Run a simulated clock from this time (UTC) instead of the system
        /// clock: for demonstrations and rehearsals of a whole day.
        #[arg(long)]
        clock: Option<String>,
        /// Machine seconds per real second, with --clock.
        #[arg(long, default_value_t = 1)]
        speed: u32,
    },
    /// Verify a published journal against its table's signed acta (and zero
    /// report): the heads they carry and every count.
    Journal {
        /// The journal (journal.log).
        journal: PathBuf,
        /// The signed acta.
        #[arg(long)]
        acta: PathBuf,
        /// The signed zero report.
        #[arg(long)]
        zero: Option<PathBuf>,
        /// The election package and trust file, to check the signatures.
        #[arg(long)]
        package: PathBuf,
        #[arg(long)]
        trust: PathBuf,
    },
    /// Export the ballot records of a closed table as NIST SP 1500-103 cast
    /// vote records (JSON).
    ExportCvr {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Send the acta to a center (safe to repeat).
    Send {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        center: String,
    },
}

#[derive(clap::Args)]
pub struct Common {
    #[arg(long)]
    dir: PathBuf,
    /// Time of the action (UTC, 2026-12-06T10:00:00Z); defaults to the clock.
    #[arg(long)]
    at: Option<String>,
}

impl Common {
    fn now(&self) -> Result<u64> {
        match &self.at {
            Some(t) => {
                time::parse(t).with_context(|| format!("--at {t}: expected 2026-12-06T10:00:00Z"))
            }
            None => Ok(std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs()),
        }
    }
}

/// Every event is already on disk when an operation returns, refusals
/// included; a clean stop only tells the next start that this run ended well.
fn finish(s: Station, r: Result<(), acta_station::Error>) -> Result<()> {
    s.stop()?;
    Ok(r?)
}

pub async fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Init {
            dir,
            package,
            trust,
            roll,
            key,
            table,
        } => {
            let roll = acta_election::Roll::parse(&std::fs::read_to_string(&roll)?)?;
            let key = acta_note::Signer::from_private_key(std::fs::read_to_string(&key)?.trim())?;
            let s = Station::create(
                &dir,
                &std::fs::read(&package)?,
                &std::fs::read_to_string(&trust)?,
                &roll,
                &key,
                &table,
            )?;
            println!(
                "station for table {} (machine {}) ready in {}",
                s.table().id,
                s.table().machine,
                dir.display()
            );
        }
        Cmd::Open(c) => {
            let now = c.now()?;
            let mut s = Station::load(&c.dir, now)?;
            let r = s.open(now).map(|zero| print!("{zero}"));
            finish(s, r)?;
        }
        Cmd::Auth {
            common,
            voter,
            template,
            override_code,
        } => {
            let now = common.now()?;
            let t: [u8; 32] = hex::decode(&template)
                .ok()
                .and_then(|v| v.try_into().ok())
                .context("--template must be 64 hex digits")?;
            let mut s = Station::load(&common.dir, now)?;
            let r = s.authenticate(now, &voter, t, override_code.as_deref());
            if r.is_ok() {
                println!("voter {voter} authenticated: proceed to the ballot screen");
            }
            finish(s, r)?;
        }
        Cmd::Vote { common, marks } => {
            let now = common.now()?;
            let mut s = Station::load(&common.dir, now)?;
            let mut chosen = vec![Mark::Blank; s.ballot().len()];
            for m in &marks {
                let Some((contest, what)) = m.split_once('=') else {
                    bail!("--mark {m}: expected CONTEST=CHOICE")
                };
                let Some(i) = s.ballot().iter().position(|c| c.id == contest) else {
                    bail!("contest {contest} is not on this ballot")
                };
                chosen[i] = match what {
                    "blank" => Mark::Blank,
                    "null" => Mark::Null,
                    list => Mark::Choices(list.split(',').map(str::to_string).collect()),
                };
            }
            let r = s
                .cast(now, &chosen)
                .map(|receipt| print!("receipt:\n{receipt}"));
            finish(s, r)?;
        }
        Cmd::Close(c) => {
            let now = c.now()?;
            let mut s = Station::load(&c.dir, now)?;
            let r = s.close(now);
            let acta = match r {
                Ok(a) => a,
                Err(e) => return finish(s, Err(e)),
            };
            std::fs::write(
                c.dir.join("acta.png"),
                acta_sheet::qr::acta_png(acta.as_bytes())?,
            )?;
            s.stop()?;
            print!("{acta}");
            eprintln!(
                "security code {}; acta.note and acta.png written",
                acta_sheet::security_code(acta.as_bytes())
            );
        }
        Cmd::Serve {
            dir,
            listen,
            voter_listen,
            center,
            clock,
            speed,
        } => {
            let clock = match clock {
                Some(t) => acta_station::serve::Clock::Simulated {
                    start: time::parse(&t)
                        .with_context(|| format!("--clock {t}: expected 2026-12-06T10:00:00Z"))?,
                    speed,
                },
                None => acta_station::serve::Clock::System,
            };
            let config = acta_station::serve::Config {
                dir: dir.clone(),
                center,
                clock,
            };
            let app = acta_station::serve::App::load(&config)?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let voter = tokio::net::TcpListener::bind(&voter_listen)
                .await
                .with_context(|| format!("binding {voter_listen}"))?;
            let (table, phase, ballots) =
                app.station(|s, _| (s.table().id.clone(), s.phase(), s.ballots()));
            println!("http://{}", listener.local_addr()?);
            println!("http://{}", voter.local_addr()?);
            eprintln!(
                "table {table} ({phase:?}, {ballots} ballots): poll-worker screen at http://{}/, voter screen at http://{}/vote",
                listener.local_addr()?,
                voter.local_addr()?
            );
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            acta_station::serve::serve(app.clone(), listener, voter, shutdown).await?;
            app.stop()?;
        }
        Cmd::Journal {
            journal,
            acta,
            zero,
            package,
            trust,
        } => {
            let election = acta_election::Election::open(
                &std::fs::read(&package)?,
                &acta_election::Trust::parse(&std::fs::read_to_string(&trust)?)?,
            )?;
            let opened =
                acta_sheet::Acta::open(&std::fs::read(&acta)?, &election).context("the acta")?;
            let zero = match zero {
                Some(z) => {
                    let bytes = std::fs::read(&z)?;
                    let table = election
                        .table(&opened.acta.table)
                        .context("the acta's table is not in the package")?;
                    let body = acta_note::open(&bytes, table.verifier()?)
                        .context("the zero report is not signed by the table's machine")?;
                    Some(acta_sheet::ZeroReport::parse(body)?)
                }
                None => None,
            };
            let text = std::fs::read_to_string(&journal)?;
            let s = acta_sheet::journal::verify(&text, zero.as_ref(), &opened.acta)
                .with_context(|| format!("{}", journal.display()))?;
            let raised: u32 = s.alarms.iter().sum();
            println!(
                "journal verified: {} lines; the acta's head is the head after its close line; {} authenticated ({} with an override code), {} ballots, {raised} alarms, as on the acta",
                s.lines,
                opened.acta.authenticated,
                opened.acta.overrides,
                opened.acta.ballots
            );
        }
        Cmd::ExportCvr { dir, out } => {
            let s = Station::inspect(&dir)?;
            let closed = s.phase() == acta_station::Phase::Closed;
            let election = acta_election::Election::open(
                &std::fs::read(dir.join("package.note"))?,
                &acta_election::Trust::parse(&std::fs::read_to_string(dir.join("trust.txt"))?)?,
            )?;
            let report = acta_export::cvr::cvr_report(&election, &s.table().id, s.records());
            if !closed {
                bail!("the table is not closed: ballot records are exported only after closing");
            }
            let json = serde_json::to_string_pretty(&report?)?;
            match out {
                Some(p) => std::fs::write(&p, json + "\n")?,
                None => println!("{json}"),
            }
        }
        Cmd::Send { dir, center } => {
            let acta = std::fs::read(dir.join("acta.note"))
                .context("no acta.note: close the table first")?;
            let election = acta_election::Election::open(
                &std::fs::read(dir.join("package.note"))?,
                &acta_election::Trust::parse(&std::fs::read_to_string(dir.join("trust.txt"))?)?,
            )?;
            let client = acta_api::Client::new(&center);
            if let Ok(zero) = std::fs::read(dir.join("zero.note")) {
                let s = crate::center::send(&client, &election, &zero, EntryKind::Zero).await?;
                std::fs::write(dir.join("zero.tlog-proof"), &s.receipt)?;
            }
            let s = crate::center::send(&client, &election, &acta, EntryKind::Acta).await?;
            std::fs::write(dir.join("acta.tlog-proof"), &s.receipt)?;
            match s.outcome {
                Outcome::Accepted { index, .. } => {
                    println!("accepted by the center at log index {index}")
                }
                Outcome::Held { index, reasons, .. } => println!(
                    "logged at index {index} but HELD, not counted: {}",
                    reasons.join("; ")
                ),
                Outcome::Duplicate { index, .. } => {
                    println!("the center already had this acta, at log index {index}")
                }
                Outcome::Conflict { index, first, .. } => println!(
                    "CONFLICT: the center holds a different acta for this table at index {first}; this one is kept as evidence at {index}"
                ),
                other => bail!("unexpected answer {other:?}"),
            }
            println!(
                "receipt verified and kept in {}",
                dir.join("acta.tlog-proof").display()
            );
        }
    }
    Ok(())
}
