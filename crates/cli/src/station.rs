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

fn finish(mut s: Station, dir: &std::path::Path, r: Result<(), acta_station::Error>) -> Result<()> {
    // Save even after a refusal: refusals are journaled and may raise alarms.
    s.save(dir, true)?;
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
            let r = s.open(now).map(|zero| {
                print!("{zero}");
                let _ = std::fs::write(c.dir.join("zero.note"), zero);
            });
            finish(s, &c.dir, r)?;
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
            finish(s, &common.dir, r)?;
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
            finish(s, &common.dir, r)?;
        }
        Cmd::Close(c) => {
            let now = c.now()?;
            let mut s = Station::load(&c.dir, now)?;
            let acta = s.close(now)?;
            std::fs::write(c.dir.join("acta.note"), &acta)?;
            std::fs::write(
                c.dir.join("acta.png"),
                acta_sheet::qr::acta_png(acta.as_bytes())?,
            )?;
            s.save(&c.dir, true)?;
            print!("{acta}");
            eprintln!(
                "security code {}; acta.note and acta.png written",
                acta_sheet::security_code(acta.as_bytes())
            );
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
