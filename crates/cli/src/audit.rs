//! `acta audit …`: the post-election audit, each step a signed note in the
//! log — commit the manifest, record the public seed, draw a round, record
//! the hand counts, measure the risk — and the sample on its own.
//!
//! The authority's tool derives every step from the log, exactly as an
//! observer re-derives it (`acta_audit::workflow`), signs it with the
//! center key and appends it through the center.

use std::path::PathBuf;

use acta_audit::workflow::{self, Next};
use acta_election::Election;
use acta_note::Signer;
use acta_observer::verify::Ledger;
use acta_sheet::audit::{
    fraction_text, parse_fraction, risk_text, AuditMethod, AuditNote, AuditStep, HandCount, Mark,
    Receipt, Verdict,
};
use acta_tlog::{Checkpoint, Tree};
use anyhow::{bail, Context, Result};

use crate::center::Open;

#[derive(clap::Subcommand)]
pub enum AuditCmd {
    /// Draw a sample with Rivest's consistent sampler: one line per draw,
    /// `<ticket> <id> <generation>`, as the reference implementation
    /// prints them.
    Sample {
        /// The public seed (the parties' dice digits).
        #[arg(long)]
        seed: String,
        /// The canonical ids, one per line (table ids or ballot-record ids).
        #[arg(long)]
        ids: PathBuf,
        /// Draw with replacement (an id may come back, with its generation).
        #[arg(long)]
        with_replacement: bool,
        /// How many draws to print (all ids without replacement).
        #[arg(long)]
        take: Option<usize>,
        /// Skip the first draws (a later round continues an earlier one).
        #[arg(long, default_value_t = 0)]
        drop: usize,
        /// Significant digits printed after any leading nines.
        #[arg(long, default_value_t = 9)]
        digits: usize,
    },
    /// Commit the audit manifest: the counted actas at the latest public
    /// checkpoint, the contests and the risk limit, signed and logged
    /// before any seed exists.
    Commit {
        #[command(flatten)]
        open: Open,
        /// The audit's name (a code, e.g. POST-1).
        #[arg(long)]
        audit: String,
        /// The risk limit α, e.g. 0.05.
        #[arg(long, default_value = "0.05")]
        risk_limit: String,
        /// Contests to audit (all contests of the package if none given).
        #[arg(long)]
        contest: Vec<String>,
        /// Rounds of sampling before a full hand count is required.
        #[arg(long, default_value_t = 4)]
        max_rounds: u32,
        /// `batch`: draw tables by error bound, count each box by hand
        /// against its acta (MACRO); `polling`: draw receipts uniformly
        /// from every box of each contest and read them (ALPHA).
        #[arg(long, default_value = "batch")]
        method: String,
    },
    /// Record the public seed: each party's dice digits, read out in order
    /// (refused while no manifest is logged).
    Seed {
        #[command(flatten)]
        open: Open,
        #[arg(long)]
        audit: String,
        /// One party's digits, as PARTY=DIGITS; give it once per party, in
        /// the order they were read out.
        #[arg(long, required = true)]
        contribution: Vec<String>,
    },
    /// Draw the next round and log it; prints the tables whose receipt
    /// boxes are to be counted by hand.
    Round {
        #[command(flatten)]
        open: Open,
        #[arg(long)]
        audit: String,
    },
    /// Record the hand count of one drawn table.
    Record {
        #[command(flatten)]
        open: Open,
        #[arg(long)]
        audit: String,
        /// The table counted.
        #[arg(long)]
        table: String,
        /// Batch: the board's tally — `receipts N`, then per contest
        /// `contest ID`, `votes CODE N` for each choice of the acta, `blank
        /// N`, `null N`. Polling: the drawn receipts as read — `receipt K`,
        /// then `mark CONTEST CHOICES|blank|null` per contest.
        #[arg(long, conflicts_with = "records")]
        count: Option<PathBuf>,
        /// Or the ballot records of the receipts in the box, in box order
        /// (as the station's receipts carry them): tallied (batch), or the
        /// drawn positions read from them (polling).
        #[arg(long)]
        records: Option<PathBuf>,
    },
    /// Measure the risk of the round just counted and log it: confirmed,
    /// escalate, or full hand count.
    Risk {
        #[command(flatten)]
        open: Open,
        #[arg(long)]
        audit: String,
    },
    /// The election-night citizen check: the share of tables whose
    /// receipts are counted at closing and compared with their actas —
    /// which tables (Rivest's consistent sampler, without replacement, from
    /// a public seed) and what risk that actually limits for the margins
    /// announced at the latest public checkpoint.
    CitizenCheck {
        #[command(flatten)]
        open: Open,
        /// The share of tables checked, e.g. 0.54.
        #[arg(long)]
        share: String,
        /// The public seed: draw the tables (else report the risk for any
        /// draw of that share).
        #[arg(long)]
        seed: Option<String>,
        /// Contests (all of the package if none given).
        #[arg(long)]
        contest: Vec<String>,
    },
    /// Where an audit stands, re-derived from the log.
    Status {
        #[command(flatten)]
        open: Open,
        #[arg(long)]
        audit: String,
    },
}

/// The authority's audit desk: the center, read as an observer reads it,
/// and the key its steps are signed with.
pub struct Desk {
    /// The center (its database, opened directly).
    pub center: acta_center::Center,
    /// The center key.
    pub key: Signer,
    /// The log as folded so far: each read folds only the entries logged
    /// since (an audit of a national election takes a step per drawn
    /// table; refolding the whole log at each was O(steps × log)).
    logged: tokio::sync::Mutex<Logged>,
}

/// The log as the desk reads it.
pub struct Logged {
    ledger: Ledger,
    tree: Tree,
}

impl Desk {
    pub async fn open(open: &Open) -> Result<Desk> {
        Ok(Desk::new(
            acta_center::Center::open(open.config()?).await?,
            open.key()?,
        ))
    }

    pub fn new(center: acta_center::Center, key: Signer) -> Desk {
        let logged = Logged {
            ledger: Ledger::new(center.election()),
            tree: Tree::new(),
        };
        Desk {
            center,
            key,
            logged: tokio::sync::Mutex::new(logged),
        }
    }

    fn election(&self) -> &Election {
        self.center.election()
    }

    /// Folds the whole log, as an observer would: what was folded before,
    /// and every entry logged since.
    pub async fn read(&self) -> Result<tokio::sync::MutexGuard<'_, Logged>> {
        let election = self.election();
        let mut logged = self.logged.lock().await;
        let size = self.center.size().await;
        let Logged { ledger, tree } = &mut *logged;
        let mut at = tree.size();
        while at < size {
            let page = self.center.entries(at, size).await?;
            if page.is_empty() {
                bail!("the log has {size} entries but {at}.. could not be read");
            }
            let notes: Vec<&[u8]> = page.iter().map(|e| e.note.as_bytes()).collect();
            for (note, opened) in notes
                .iter()
                .zip(acta_observer::verify::ledger::open_all(election, &notes))
            {
                tree.append(acta_tlog::leaf_hash(note));
                ledger.apply(election, note, opened, None);
            }
            at += page.len() as u64;
        }
        Ok(logged)
    }

    /// An audit replayed from the log; refuses if any of its steps is
    /// disputed (the log then needs an observer, not another step).
    pub async fn audit(
        &self,
        name: &str,
    ) -> Result<(tokio::sync::MutexGuard<'_, Logged>, workflow::Audit)> {
        let logged = self.read().await?;
        let (replay, _) =
            acta_observer::verify::audit::replay(self.election(), &logged.ledger, |n| {
                logged.tree.root_at(n).ok()
            });
        if let Some(d) = replay.disputes.iter().find(|d| d.audit == name) {
            bail!(
                "audit {name}: the {} step at log entry {} is disputed: {}",
                d.step,
                d.index,
                d.what
            );
        }
        let Some(a) = replay.audits.get(name).cloned() else {
            bail!("audit {name} has no manifest in the log: run `acta audit commit` first");
        };
        Ok((logged, a))
    }

    /// Signs and appends a step; returns its log index.
    pub async fn append(&self, name: &str, step: AuditStep) -> Result<u64> {
        let note = AuditNote {
            election: self.election().id.clone(),
            audit: name.to_string(),
            step,
        }
        .sign(&self.key);
        let s = self.center.append_audit(note.as_bytes()).await?;
        Ok(s.outcome.index())
    }

    /// Commits the manifest at the latest public checkpoint.
    pub async fn commit(
        &self,
        name: &str,
        method: AuditMethod,
        risk_limit: u32,
        max_rounds: u32,
        contests: &[String],
    ) -> Result<(u64, AuditNote)> {
        let election = self.election();
        let key: acta_note::Verifier = election.center_key.parse()?;
        let cp = Checkpoint::open(self.center.checkpoint().await?.as_bytes(), &key)?;
        let logged = self.read().await?;
        let population =
            acta_observer::verify::audit::population(election, &logged.ledger, cp.size);
        let note = workflow::commit(
            election,
            &population,
            cp,
            name,
            method,
            risk_limit,
            max_rounds,
            contests,
        )?;
        let index = self.append(name, note.step.clone()).await?;
        Ok((index, note))
    }

    /// Records the seed.
    pub async fn seed(&self, name: &str, contributions: Vec<(String, String)>) -> Result<u64> {
        let (logged, a) = self.audit(name).await?;
        if a.next() != Next::Seed {
            bail!("audit {name} already has its seed");
        }
        let seed: String = contributions.iter().map(|(_, d)| d.as_str()).collect();
        let (replay, _) =
            acta_observer::verify::audit::replay(self.election(), &logged.ledger, |n| {
                logged.tree.root_at(n).ok()
            });
        if let Some(other) = replay
            .audits
            .values()
            .find(|o| o.seed.as_deref() == Some(seed.as_str()))
        {
            bail!(
                "audit {} already drew from this seed: roll new dice for audit {name}",
                other.name
            );
        }
        let step = AuditStep::Seed {
            commitment: a.commitment,
            contributions,
            seed,
        };
        self.append_checked(name, &a, step).await
    }

    /// Appends a step the audit `a` accepts as due (a step it refuses is
    /// never logged).
    async fn append_checked(
        &self,
        name: &str,
        a: &workflow::Audit,
        step: AuditStep,
    ) -> Result<u64> {
        let mut check = a.clone();
        check
            .apply(self.election(), &step)
            .map_err(|e| anyhow::anyhow!("audit {name}: {e}"))?;
        self.append(name, step).await
    }

    /// Draws and logs the next round; returns its tables.
    pub async fn round(&self, name: &str) -> Result<(u64, AuditStep)> {
        let (_, a) = self.audit(name).await?;
        let step = a.derive_round().with_context(|| format!("audit {name}"))?;
        Ok((self.append(name, step.clone()).await?, step))
    }

    /// Records the drawn receipts of a table, as read (polling).
    pub async fn record_receipts(
        &self,
        name: &str,
        table: &str,
        receipts: Vec<Receipt>,
    ) -> Result<u64> {
        let (_, a) = self.audit(name).await?;
        let step = AuditStep::Receipts {
            commitment: a.commitment,
            table: table.to_string(),
            receipts,
        };
        self.append_checked(name, &a, step).await
    }

    /// Records a table's hand count.
    pub async fn record(
        &self,
        name: &str,
        table: &str,
        receipts: u64,
        contests: Vec<HandCount>,
    ) -> Result<u64> {
        let (_, a) = self.audit(name).await?;
        let step = AuditStep::Count {
            commitment: a.commitment,
            table: table.to_string(),
            receipts,
            contests,
        };
        self.append_checked(name, &a, step).await
    }

    /// Records the hand counts of a round's tables against the audit `a`
    /// as replayed once, advancing it: each step is checked as due in
    /// turn, then all are appended together, many to a batch of the log
    /// (the order of a round's counts among themselves carries nothing).
    pub async fn record_round(
        &self,
        name: &str,
        a: &mut workflow::Audit,
        counts: Vec<(String, u64, Vec<HandCount>)>,
        bar: &indicatif::ProgressBar,
    ) -> Result<()> {
        let mut sends = tokio::task::JoinSet::new();
        for (table, receipts, contests) in counts {
            let step = AuditStep::Count {
                commitment: a.commitment,
                table,
                receipts,
                contests,
            };
            a.apply(self.election(), &step)
                .map_err(|e| anyhow::anyhow!("audit {name}: {e}"))?;
            let note = AuditNote {
                election: self.election().id.clone(),
                audit: name.to_string(),
                step,
            }
            .sign(&self.key);
            let center = self.center.clone();
            sends.spawn(async move { center.append_audit(note.as_bytes()).await });
            if sends.len() >= 256 {
                sends.join_next().await.expect("non-empty")??;
                bar.inc(1);
            }
        }
        while let Some(r) = sends.join_next().await {
            r??;
            bar.inc(1);
        }
        Ok(())
    }

    /// Measures and logs the risk of the round counted.
    pub async fn risk(&self, name: &str) -> Result<(u64, AuditStep)> {
        let (_, a) = self.audit(name).await?;
        let step = a
            .derive_risk(self.election())
            .with_context(|| format!("audit {name}"))?;
        Ok((self.append(name, step.clone()).await?, step))
    }
}

/// Tallies the ballot records of a receipt box, as a board counts it.
pub fn tally_records(
    election: &Election,
    table: &str,
    text: &str,
) -> Result<(u64, Vec<HandCount>)> {
    let mut marks = Vec::new();
    for (i, record) in split_records(text).into_iter().enumerate() {
        let r = acta_export::cvr::parse_record(election, table, i + 1, record)?;
        let mut one = Vec::with_capacity(r.marks.len());
        for (contest, m) in r.marks {
            one.push(match m {
                acta_export::cvr::Mark::Blank => Some(vec![]),
                acta_export::cvr::Mark::Null => None,
                acta_export::cvr::Mark::Choices(cs) => Some(cs),
                other => bail!(
                    "record {}: contest {contest}: a mark this tally does not know: {other:?}",
                    i + 1
                ),
            });
        }
        marks.push(one);
    }
    Ok((marks.len() as u64, workflow::tally(election, table, &marks)))
}

/// Reads the receipts at `positions` (1-based, in box order) from the
/// ballot records of a box, as a board reads them out.
pub fn read_records(
    election: &Election,
    table: &str,
    text: &str,
    positions: &[u64],
) -> Result<Vec<Receipt>> {
    let records = split_records(text);
    let mut out = Vec::with_capacity(positions.len());
    for &k in positions {
        let Some(record) = usize::try_from(k - 1).ok().and_then(|i| records.get(i)) else {
            // Not in the box: recorded as missing, the worst for the winner.
            out.push(Receipt {
                position: k,
                marks: election
                    .ballot(table)
                    .iter()
                    .map(|c| (c.id.clone(), Mark::Missing))
                    .collect(),
            });
            continue;
        };
        let r = acta_export::cvr::parse_record(election, table, k as usize, record)?;
        let mut marks = Vec::with_capacity(r.marks.len());
        for (contest, m) in r.marks {
            marks.push((
                contest.clone(),
                match m {
                    acta_export::cvr::Mark::Blank => Mark::Blank,
                    acta_export::cvr::Mark::Null => Mark::Null,
                    acta_export::cvr::Mark::Choices(cs) => Mark::Choices(cs),
                    other => bail!("receipt {k}: contest {contest}: a mark this reader does not know: {other:?}"),
                },
            ));
        }
        marks.sort_by(|a, b| a.0.cmp(&b.0));
        out.push(Receipt { position: k, marks });
    }
    Ok(out)
}

/// Splits concatenated ballot records at each `ballot/v1` line.
fn split_records(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = text
        .match_indices("ballot/v1\n")
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')
        .collect();
    if starts.first() != Some(&0) && !text.is_empty() {
        starts.insert(0, 0);
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| &text[s..starts.get(k + 1).copied().unwrap_or(text.len())])
        .collect()
}

fn print_round(step: &AuditStep, index: u64, a: Option<&workflow::Audit>) {
    let AuditStep::Round {
        round,
        draws,
        tables,
        ..
    } = step
    else {
        return;
    };
    println!("round {round} logged at entry {index}");
    for (c, from, to) in draws {
        println!("  contest {c}: draws {from}..{to}");
    }
    match a.filter(|a| a.commit.method == AuditMethod::Polling) {
        Some(a) => {
            println!(
                "  {} boxes to open; the receipts to read, by position in the box:",
                tables.len()
            );
            for t in tables {
                let want: Vec<String> = a
                    .unread
                    .get(t)
                    .into_iter()
                    .flatten()
                    .map(|k| k.to_string())
                    .collect();
                println!("    {t}: {}", want.join(" "));
            }
        }
        None => {
            println!("  {} tables to count by hand:", tables.len());
            for t in tables {
                println!("    {t}");
            }
        }
    }
}

fn print_risk(step: &AuditStep, index: u64, alpha: &str) {
    let AuditStep::Risk {
        round,
        contests,
        outcome,
        ..
    } = step
    else {
        return;
    };
    let headline = match outcome {
        Verdict::Confirmed => format!("outcome confirmed at risk limit {alpha}"),
        Verdict::FullHandCount => "FULL HAND COUNT REQUIRED".to_string(),
        Verdict::Escalate(n) => format!(
            "escalate: round {} draws up to {n} more per contest",
            round + 1
        ),
    };
    println!("round {round}: {headline} (logged at entry {index})");
    println!("  {:<12} {:>10}  verdict", "contest", "risk");
    for c in contests {
        let v = match c.verdict {
            Verdict::Confirmed => "confirmed".to_string(),
            Verdict::FullHandCount => "full hand count".to_string(),
            Verdict::Escalate(n) => format!("escalate by {n}"),
        };
        println!("  {:<12} {:>10}  {v}", c.contest, risk_text(c.risk));
    }
}

fn contributions(given: &[String]) -> Result<Vec<(String, String)>> {
    given
        .iter()
        .map(|c| {
            let (who, digits) = c
                .split_once('=')
                .with_context(|| format!("--contribution {c:?}: write PARTY=DIGITS"))?;
            Ok((who.to_string(), digits.to_string()))
        })
        .collect()
}

pub async fn run(cmd: AuditCmd) -> Result<()> {
    match cmd {
        AuditCmd::Sample {
            seed,
            ids,
            with_replacement,
            take,
            drop,
            digits,
        } => {
            let text = std::fs::read_to_string(&ids)
                .with_context(|| format!("reading {}", ids.display()))?;
            let ids = acta_audit::parse_ids(&text).with_context(|| format!("{}", ids.display()))?;
            let take = take.unwrap_or(ids.len());
            let mut out = String::new();
            for d in acta_audit::sample(&seed, &ids, with_replacement, drop, take)? {
                out.push_str(&format!(
                    "{} {} {}\n",
                    acta_audit::print_ticket(&d.ticket, digits),
                    d.id,
                    d.generation
                ));
            }
            print!("{out}");
        }
        AuditCmd::Commit {
            open,
            audit,
            risk_limit,
            contest,
            max_rounds,
            method,
        } => {
            let alpha = parse_fraction(&risk_limit).with_context(|| {
                format!("--risk-limit {risk_limit:?}: write a fraction such as 0.05")
            })?;
            let method = AuditMethod::parse(&method)
                .with_context(|| format!("--method {method:?}: batch or polling"))?;
            let desk = Desk::open(&open).await?;
            let (index, note) = desk
                .commit(&audit, method, alpha, max_rounds, &contest)
                .await?;
            print!("{}", note.to_text());
            eprintln!("manifest of audit {audit} committed at log entry {index}; now roll the dice and run `acta audit seed`");
        }
        AuditCmd::Seed {
            open,
            audit,
            contribution,
        } => {
            let desk = Desk::open(&open).await?;
            let c = contributions(&contribution)?;
            let index = desk.seed(&audit, c).await?;
            println!("seed of audit {audit} logged at entry {index}");
        }
        AuditCmd::Round { open, audit } => {
            let desk = Desk::open(&open).await?;
            let (index, step) = desk.round(&audit).await?;
            let (_, a) = desk.audit(&audit).await?;
            print_round(&step, index, Some(&a));
        }
        AuditCmd::Record {
            open,
            audit,
            table,
            count,
            records,
        } => {
            let desk = Desk::open(&open).await?;
            let (_, a) = desk.audit(&audit).await?;
            let read = |f: &PathBuf| {
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))
            };
            if a.commit.method == AuditMethod::Polling {
                let receipts = match (count, records) {
                    (Some(f), None) => acta_sheet::audit::parse_readings(&read(&f)?)
                        .with_context(|| format!("{}", f.display()))?,
                    (None, Some(f)) => {
                        let want: Vec<u64> = a
                            .unread
                            .get(&table)
                            .into_iter()
                            .flatten()
                            .copied()
                            .collect();
                        read_records(desk.election(), &table, &read(&f)?, &want)
                            .with_context(|| format!("{}", f.display()))?
                    }
                    _ => bail!("give the receipts read with --count FILE or --records FILE"),
                };
                let n = receipts.len();
                let index = desk.record_receipts(&audit, &table, receipts).await?;
                println!("{n} receipts of {table} read, logged at entry {index}");
            } else {
                let (receipts, contests) = match (count, records) {
                    (Some(f), None) => acta_sheet::audit::parse_hand_count(&read(&f)?)
                        .with_context(|| format!("{}", f.display()))?,
                    (None, Some(f)) => tally_records(desk.election(), &table, &read(&f)?)
                        .with_context(|| format!("{}", f.display()))?,
                    _ => bail!("give the hand count with --count FILE or --records FILE"),
                };
                let index = desk.record(&audit, &table, receipts, contests).await?;
                println!("hand count of {table} ({receipts} receipts) logged at entry {index}");
            }
        }
        AuditCmd::Risk { open, audit } => {
            let desk = Desk::open(&open).await?;
            let (_, a) = desk.audit(&audit).await?;
            let (index, step) = desk.risk(&audit).await?;
            print_risk(&step, index, &fraction_text(a.commit.risk_limit));
        }
        AuditCmd::CitizenCheck {
            open,
            share,
            seed,
            contest,
        } => {
            let share = parse_fraction(&share)
                .with_context(|| format!("--share {share:?}: write a fraction such as 0.54"))?;
            let desk = Desk::open(&open).await?;
            let election = desk.election();
            let key: acta_note::Verifier = election.center_key.parse()?;
            let cp = Checkpoint::open(desk.center.checkpoint().await?.as_bytes(), &key)?;
            let logged = desk.read().await?;
            let population =
                acta_observer::verify::audit::population(election, &logged.ledger, cp.size);
            let ids: Vec<String> = population.counted.iter().map(|r| r.table.clone()).collect();
            let take = (ids.len() as u64 * u64::from(share)).div_ceil(1_000_000) as usize;
            let drawn: Option<std::collections::BTreeSet<String>> = match &seed {
                Some(seed) => Some(
                    acta_audit::sample(seed, &ids, false, 0, take)?
                        .into_iter()
                        .map(|d| d.id)
                        .collect(),
                ),
                None => None,
            };
            let contests: Vec<String> = if contest.is_empty() {
                election.contests.iter().map(|c| c.id.clone()).collect()
            } else {
                contest
            };
            println!(
                "citizen check of {} of {} tables with a counted acta at checkpoint {} (share {})",
                take,
                ids.len(),
                cp.size,
                fraction_text(share)
            );
            println!(
                "  {:<12} {:>8} {:>8} {:>14} {:>12}",
                "contest", "tables", "checked", "fewest wrong", "risk"
            );
            for c in &contests {
                let plan = workflow::plan(election, &population, c)?;
                let k = match &drawn {
                    Some(d) => plan.weights.iter().filter(|(t, _)| d.contains(t)).count() as u64,
                    None => (plan.weights.len() as u64 * u64::from(share)).div_ceil(1_000_000),
                };
                let r = workflow::citizen_check(&plan, k);
                println!(
                    "  {:<12} {:>8} {:>8} {:>14} {:>12.6}",
                    c,
                    r.tables,
                    r.checked,
                    r.fewest_wrong
                        .map_or("no margin".to_string(), |m| m.to_string()),
                    r.risk
                );
            }
            println!("  (risk: the chance that the check misses every table of the fewest whose actas could overturn the outcome)");
            if let Some(d) = drawn {
                println!("tables to check:");
                for t in d {
                    println!("  {t}");
                }
            }
        }
        AuditCmd::Status { open, audit } => {
            let desk = Desk::open(&open).await?;
            let (_, a) = desk.audit(&audit).await?;
            println!(
                "audit {audit}: manifest at log entry {} over checkpoint {} ({} counted tables, {} missing), risk limit {}",
                a.index,
                a.commit.checkpoint.size,
                a.commit.tables,
                a.commit.missing,
                fraction_text(a.commit.risk_limit)
            );
            println!(
                "  rounds {}, tables drawn {}, counted {}",
                a.rounds.len(),
                a.drawn().len(),
                a.counts.len()
            );
            println!("  next: {}", workflow::describe(&a.next()));
        }
    }
    Ok(())
}

/// The demo's audit: the national contests at risk limit 0.05; the dice of
/// two parties and a mission, from the operating system's randomness once
/// the manifest is logged; hand counts from the receipts in each drawn
/// table's box (`boxes/<table>.records`). Prints each round; returns how
/// it ended.
pub async fn demo(
    center: &acta_center::Center,
    g: &acta_synth::Ceremony,
    boxes: &std::path::Path,
) -> Result<Verdict> {
    let desk = Desk::new(center.clone(), g.center.clone());
    let election = &g.election;
    let name = "POST-1";
    let national: Vec<String> = election
        .contests
        .iter()
        .filter(|c| c.scope.is_empty())
        .map(|c| c.id.clone())
        .collect();
    let (index, note) = desk
        .commit(name, AuditMethod::Batch, 50_000, 4, &national)
        .await?;
    let AuditStep::Commit(c) = &note.step else {
        unreachable!("commit() makes a commit step")
    };
    eprintln!(
        "      manifest at log entry {index}: {} counted tables, {} without a counted acta, contests {}",
        c.tables,
        c.missing,
        national.join(" ")
    );
    let mut dice = Vec::new();
    for party in ["PARTY-A", "PARTY-B", "MISSION"] {
        let mut b = [0u8; 8];
        getrandom::getrandom(&mut b).context("the operating system's randomness")?;
        dice.push((
            party.to_string(),
            format!("{:08}", u64::from_le_bytes(b) % 100_000_000),
        ));
    }
    let seeded = desk.seed(name, dice.clone()).await?;
    eprintln!(
        "      seed at log entry {seeded}: {}",
        dice.iter()
            .map(|(p, d)| format!("{p} rolled {d}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    loop {
        let (_, round) = desk.round(name).await?;
        let AuditStep::Round {
            round: k, tables, ..
        } = &round
        else {
            unreachable!("round() makes a round step")
        };
        let bar = indicatif::ProgressBar::new(tables.len() as u64)
            .with_message(format!("round {k}: hand-counting receipt boxes"));
        let (_, mut a) = desk.audit(name).await?;
        let mut counts = Vec::with_capacity(tables.len());
        for t in tables {
            let path = boxes.join(format!("{t}.records"));
            let records = std::fs::read_to_string(&path)
                .with_context(|| format!("opening the box of table {t}: {}", path.display()))?;
            let (receipts, count) = tally_records(election, t, &records)?;
            counts.push((t.clone(), receipts, count));
        }
        desk.record_round(name, &mut a, counts, &bar).await?;
        bar.finish_and_clear();
        let (_, risk) = desk.risk(name).await?;
        let AuditStep::Risk {
            contests, outcome, ..
        } = &risk
        else {
            unreachable!("risk() makes a risk step")
        };
        let per: Vec<String> = contests
            .iter()
            .map(|c| {
                let v = match c.verdict {
                    Verdict::Confirmed => "confirmed".to_string(),
                    Verdict::FullHandCount => "full hand count".to_string(),
                    Verdict::Escalate(n) => format!("escalate by {n}"),
                };
                format!("{} risk {} {v}", c.contest, risk_text(c.risk))
            })
            .collect();
        eprintln!(
            "      round {k}: {} tables drawn and counted; {}",
            tables.len(),
            per.join("; ")
        );
        if !matches!(outcome, Verdict::Escalate(_)) {
            let (_, a) = desk.audit(name).await?;
            eprintln!(
                "      audit {name}: {} after {} tables counted by hand",
                match outcome {
                    Verdict::Confirmed => "OUTCOME CONFIRMED at risk limit 0.05".to_string(),
                    _ => "FULL HAND COUNT REQUIRED".to_string(),
                },
                a.counts.len()
            );
            return Ok(*outcome);
        }
    }
}
