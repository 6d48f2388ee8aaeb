//! `acta-audit/v1`: the steps of a post-election audit, each a note the
//! center signs and appends to the public log (SYSTEM.md §11), so that the
//! order of the steps is the log's order and anyone can re-derive every one
//! of them from what came before (`acta_audit::workflow` does).
//!
//! Every step starts with the same four lines and then says its own part:
//!
//! ```text
//! acta-audit/v1
//! election SYN-2026
//! audit POST-1
//! step commit                         the manifest, before any seed exists
//! checkpoint <origin> <size> <base64 root>
//! risk-limit 0.05
//! max-rounds 4
//! method batch                        batch (each table's box against its acta) or polling
//! tables 298                          tables with a counted acta at the checkpoint
//! missing 2                           tables of the package without one
//! manifest <sha256 hex>               of the manifest listing (acta_audit::workflow)
//! contest PRES 21000000000            per contest: total error bound ×10⁹ (batch) or ballots (polling)
//! ```
//!
//! ```text
//! step seed                           only after the commitment is logged
//! commitment <sha256 hex of the commit note's text>
//! contribution PARTY-A 31415926       each party's dice, in the order read out
//! contribution MISSION 27182818
//! seed 3141592627182818               the contributions, concatenated
//! ```
//!
//! ```text
//! step round
//! commitment <hex>
//! round 1
//! draws PRES 1 30                     draws 1..=30 of the contest's PPEB stream
//! table 01.001.0001-1                 the tables this round adds to the hand count
//!                                     (cut so that the step fits one log entry)
//! ```
//!
//! ```text
//! step count                          one sampled table's receipts, counted by hand
//! commitment <hex>
//! table 01.001.0001-1
//! receipts 412
//! contest PRES
//! votes C1/PDA 120
//! …
//! blank 3
//! null 1
//! ```
//!
//! ```text
//! step receipts                       polling: the receipts drawn from one table's box, as read
//! commitment <hex>
//! table 01.001.0001-1
//! receipt 17                          the 17th receipt of the box (1-based)
//! mark AN PDA                         per contest on the ballot: its choices, blank, null or missing
//! mark PRES C1/AVZ
//! ```
//!
//! ```text
//! step risk                           the risk measured once a round is counted
//! commitment <hex>
//! round 1
//! contest PRES 0.231377 escalate 12
//! outcome escalate
//! ```
//!
//! Numbers are canonical decimals; the risk limit is a decimal fraction of at
//! most six places without trailing zeros; a measured risk is written with
//! exactly six places, rounded up. The parser accepts exactly what
//! [`AuditNote::to_text`] writes.

use std::fmt::Write as _;

use acta_election::Election;
use acta_tlog::Checkpoint;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::text::{is_code, number64, syntax, Lines};
use crate::Error;

/// First line of every audit note.
pub const AUDIT_FORMAT: &str = "acta-audit/v1";

/// Millionths: risk limits and measured risks, exactly.
pub const MILLION: u32 = 1_000_000;

/// The manifest, committed before the seed exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    /// The log checkpoint whose counted actas are the audited population.
    pub checkpoint: Checkpoint,
    /// The risk limit α, in millionths (1..=999 999).
    pub risk_limit: u32,
    /// Rounds before the audit gives up sampling and demands a full hand count.
    pub max_rounds: u32,
    /// How the receipts are sampled and compared.
    pub method: AuditMethod,
    /// Tables with a counted acta at the checkpoint.
    pub tables: u64,
    /// Tables of the package with no counted acta at the checkpoint.
    pub missing: u64,
    /// SHA-256 of the manifest listing.
    pub manifest: [u8; 32],
    /// Contests audited, by id, each with its stream's total weight: for a
    /// batch audit the total error bound ×10⁹, for polling the ballots of
    /// its tables; 0 when the reported margin is not positive once missing
    /// tables are assumed against the winner.
    pub contests: Vec<(String, u64)>,
}

impl HandCount {
    /// The hand count that agrees with an acta's count of a contest.
    pub fn agreeing(c: &crate::ContestCount) -> HandCount {
        HandCount {
            contest: c.contest.clone(),
            votes: c
                .votes
                .iter()
                .map(|(k, n)| (k.clone(), u64::from(*n)))
                .collect(),
            blank: u64::from(c.blank),
            null: u64::from(c.null),
        }
    }
}

/// How an audit samples the receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditMethod {
    /// Batch comparison (MACRO): tables drawn by error bound, each box
    /// counted by hand against its acta.
    Batch,
    /// Ballot polling (ALPHA): receipts drawn uniformly from all the
    /// contest's boxes, each read.
    Polling,
}

impl AuditMethod {
    /// As written: `batch`, `polling`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditMethod::Batch => "batch",
            AuditMethod::Polling => "polling",
        }
    }

    /// Inverse of [`AuditMethod::as_str`].
    pub fn parse(s: &str) -> Option<AuditMethod> {
        match s {
            "batch" => Some(AuditMethod::Batch),
            "polling" => Some(AuditMethod::Polling),
            _ => None,
        }
    }
}

/// A contest as marked on one receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Nothing marked.
    Blank,
    /// Voided.
    Null,
    /// The choice codes marked, sorted.
    Choices(Vec<String>),
    /// The receipt drawn is not in the box (fewer receipts than drawn
    /// positions), or cannot be read: scored as the worst for the winner.
    Missing,
}

/// One receipt drawn from a box, as read: its position and its marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// 1-based position in the box.
    pub position: u64,
    /// Per contest on the ballot, sorted by contest id.
    pub marks: Vec<(String, Mark)>,
}

/// A hand count of one contest at one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandCount {
    /// Contest id.
    pub contest: String,
    /// Votes per choice code, sorted by code (the acta's codes).
    pub votes: Vec<(String, u64)>,
    /// Blank.
    pub blank: u64,
    /// Null.
    pub null: u64,
}

/// What a round's risk measurement decided, for a contest or the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The reported outcome is confirmed at the risk limit.
    Confirmed,
    /// Sample more: this many further draws (per contest).
    Escalate(u64),
    /// Stop sampling: count every receipt by hand.
    FullHandCount,
}

/// One contest's line in a risk step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestRisk {
    /// Contest id.
    pub contest: String,
    /// The measured risk in millionths, rounded up: the MACRO p-value of a
    /// batch audit, the largest ALPHA p-value of a polling audit.
    pub risk: u32,
    /// What follows for this contest.
    pub verdict: Verdict,
}

/// What one audit note records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditStep {
    /// The manifest.
    Commit(Commitment),
    /// The public seed.
    Seed {
        /// The commit note this seed follows.
        commitment: [u8; 32],
        /// Each party's digits, in the order read out.
        contributions: Vec<(String, String)>,
        /// The contributions concatenated.
        seed: String,
    },
    /// The draws of a round and the tables they add.
    Round {
        /// The commit note.
        commitment: [u8; 32],
        /// 1, 2, …
        round: u32,
        /// Per contest still sampled: its stream's draws `from..=to`.
        draws: Vec<(String, u64, u64)>,
        /// Tables newly drawn, sorted.
        tables: Vec<String>,
    },
    /// A sampled table's hand count.
    Count {
        /// The commit note.
        commitment: [u8; 32],
        /// Table id.
        table: String,
        /// Receipts in the box.
        receipts: u64,
        /// Per contest on the table's ballot, sorted by id.
        contests: Vec<HandCount>,
    },
    /// Polling: the receipts drawn from one box, as read.
    Receipts {
        /// The commit note.
        commitment: [u8; 32],
        /// Table id.
        table: String,
        /// The receipts, by position.
        receipts: Vec<Receipt>,
    },
    /// The risk after a round.
    Risk {
        /// The commit note.
        commitment: [u8; 32],
        /// The round measured.
        round: u32,
        /// Per contest audited.
        contests: Vec<ContestRisk>,
        /// The audit's state: confirmed when every contest is, a full hand
        /// count when any contest needs one, otherwise escalate (the number
        /// is the largest of the contests').
        outcome: Verdict,
    },
}

impl AuditStep {
    /// The step's name as written.
    pub fn name(&self) -> &'static str {
        match self {
            AuditStep::Commit(_) => "commit",
            AuditStep::Seed { .. } => "seed",
            AuditStep::Round { .. } => "round",
            AuditStep::Count { .. } => "count",
            AuditStep::Receipts { .. } => "receipts",
            AuditStep::Risk { .. } => "risk",
        }
    }

    /// The commit note a later step follows (none for the commit itself).
    pub fn commitment(&self) -> Option<[u8; 32]> {
        match self {
            AuditStep::Commit(_) => None,
            AuditStep::Seed { commitment, .. }
            | AuditStep::Round { commitment, .. }
            | AuditStep::Count { commitment, .. }
            | AuditStep::Receipts { commitment, .. }
            | AuditStep::Risk { commitment, .. } => Some(*commitment),
        }
    }
}

/// One step of an audit, signed by the center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNote {
    /// Election id.
    pub election: String,
    /// The audit's name (a code), e.g. `POST-1`.
    pub audit: String,
    /// What the step records.
    pub step: AuditStep,
}

/// A fraction in millionths, without trailing zeros: `0.05`, `0.000001`.
pub fn fraction_text(millionths: u32) -> String {
    let s = format!("0.{millionths:06}");
    s.trim_end_matches('0').to_string()
}

/// Parses [`fraction_text`]: `0.` and 1–6 digits, not ending in 0.
pub fn parse_fraction(v: &str) -> Option<u32> {
    let d = v.strip_prefix("0.")?;
    if d.is_empty() || d.len() > 6 || d.ends_with('0') || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = format!("{d:0<6}").parse().ok()?;
    (n > 0).then_some(n)
}

/// A measured risk: exactly six places, `0.000000` to `1.000000`.
pub fn risk_text(millionths: u32) -> String {
    format!("{}.{:06}", millionths / MILLION, millionths % MILLION)
}

fn parse_risk(v: &str) -> Option<u32> {
    let (i, d) = v.split_once('.')?;
    if d.len() != 6 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = match i {
        "0" => d.parse::<u32>().ok()?,
        "1" if d == "000000" => MILLION,
        _ => return None,
    };
    Some(n)
}

fn verdict_text(v: Verdict) -> String {
    match v {
        Verdict::Confirmed => "confirmed".into(),
        Verdict::Escalate(n) => format!("escalate {n}"),
        Verdict::FullHandCount => "full-hand-count".into(),
    }
}

fn parse_verdict(parts: &[&str]) -> Option<Verdict> {
    match parts {
        ["confirmed"] => Some(Verdict::Confirmed),
        ["full-hand-count"] => Some(Verdict::FullHandCount),
        ["escalate", n] => number64(n).filter(|&n| n > 0).map(Verdict::Escalate),
        _ => None,
    }
}

fn hex(h: &[u8; 32]) -> String {
    acta_note::canon::to_hex(h)
}

impl AuditNote {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{AUDIT_FORMAT}\nelection {}\naudit {}\nstep {}\n",
            self.election,
            self.audit,
            self.step.name()
        );
        if let Some(c) = self.step.commitment() {
            let _ = writeln!(s, "commitment {}", hex(&c));
        }
        match &self.step {
            AuditStep::Commit(c) => {
                let cp = &c.checkpoint;
                let _ = write!(
                    s,
                    "checkpoint {} {} {}\nrisk-limit {}\nmax-rounds {}\nmethod {}\ntables {}\nmissing {}\nmanifest {}\n",
                    cp.origin,
                    cp.size,
                    B64.encode(cp.root),
                    fraction_text(c.risk_limit),
                    c.max_rounds,
                    c.method.as_str(),
                    c.tables,
                    c.missing,
                    hex(&c.manifest)
                );
                for (id, w) in &c.contests {
                    let _ = writeln!(s, "contest {id} {w}");
                }
            }
            AuditStep::Seed {
                contributions,
                seed,
                ..
            } => {
                for (who, digits) in contributions {
                    let _ = writeln!(s, "contribution {who} {digits}");
                }
                let _ = writeln!(s, "seed {seed}");
            }
            AuditStep::Round {
                round,
                draws,
                tables,
                ..
            } => {
                let _ = writeln!(s, "round {round}");
                for (c, from, to) in draws {
                    let _ = writeln!(s, "draws {c} {from} {to}");
                }
                for t in tables {
                    let _ = writeln!(s, "table {t}");
                }
            }
            AuditStep::Count {
                table,
                receipts,
                contests,
                ..
            } => {
                let _ = writeln!(s, "table {table}");
                s.push_str(&hand_count_text(*receipts, contests));
            }
            AuditStep::Receipts {
                table, receipts, ..
            } => {
                let _ = writeln!(s, "table {table}");
                s.push_str(&readings_text(receipts));
            }
            AuditStep::Risk {
                round,
                contests,
                outcome,
                ..
            } => {
                let _ = writeln!(s, "round {round}");
                for c in contests {
                    let _ = writeln!(
                        s,
                        "contest {} {} {}",
                        c.contest,
                        risk_text(c.risk),
                        verdict_text(c.verdict)
                    );
                }
                let _ = writeln!(s, "outcome {}", verdict_text(*outcome));
            }
        }
        s
    }

    /// Parses the canonical text; anything else is refused with its line.
    pub fn parse(text: &str) -> Result<AuditNote, Error> {
        let mut l = Lines::new(text)?;
        if l.field(AUDIT_FORMAT, 0).is_err() {
            return Err(syntax(1, format!("first line must be '{AUDIT_FORMAT}'")));
        }
        let election = l.code("election")?.to_string();
        let audit = l.code("audit")?.to_string();
        let line = l.line_no();
        let step_name = l.one("step")?;
        if !["commit", "seed", "round", "count", "receipts", "risk"].contains(&step_name) {
            return Err(syntax(
                line,
                format!("unknown step '{step_name}': commit, seed, round, count, receipts or risk"),
            ));
        }
        let commitment = if step_name == "commit" {
            None
        } else {
            Some(l.hash("commitment")?)
        };
        let step = match (step_name, commitment) {
            ("commit", None) => AuditStep::Commit(commit(&mut l)?),
            ("seed", Some(commitment)) => {
                let mut contributions: Vec<(String, String)> = Vec::new();
                while l.peek_key() == Some("contribution") {
                    let line = l.line_no();
                    let v = l.field("contribution", 2)?;
                    if !is_code(v[0]) {
                        return Err(syntax(
                            line,
                            format!("contributor '{}' must be a code", v[0]),
                        ));
                    }
                    if v[1].is_empty()
                        || v[1].len() > 64
                        || !v[1].bytes().all(|b| b.is_ascii_digit())
                    {
                        return Err(syntax(line, "a contribution is 1 to 64 decimal digits"));
                    }
                    if contributions.iter().any(|(w, _)| w == v[0]) {
                        return Err(syntax(line, format!("{} contributes twice", v[0])));
                    }
                    contributions.push((v[0].to_string(), v[1].to_string()));
                }
                let line = l.line_no();
                let seed = l.one("seed")?.to_string();
                let joined: String = contributions.iter().map(|(_, d)| d.as_str()).collect();
                if seed != joined {
                    return Err(syntax(
                        line,
                        "the seed must be the contributions' digits concatenated in order",
                    ));
                }
                AuditStep::Seed {
                    commitment,
                    contributions,
                    seed,
                }
            }
            ("round", Some(commitment)) => {
                let round = round_no(&mut l)?;
                let mut draws: Vec<(String, u64, u64)> = Vec::new();
                while l.peek_key() == Some("draws") {
                    let line = l.line_no();
                    let v = l.field("draws", 3)?;
                    let (Some(from), Some(to)) = (number64(v[1]), number64(v[2])) else {
                        return Err(syntax(line, "'draws' takes a contest and two decimals"));
                    };
                    if !is_code(v[0]) || from == 0 || to < from {
                        return Err(syntax(
                            line,
                            "'draws <contest> <from> <to>' with 1 <= from <= to",
                        ));
                    }
                    if draws.last().is_some_and(|(c, _, _)| c.as_str() >= v[0]) {
                        return Err(syntax(line, "contests are sorted by id, once each"));
                    }
                    draws.push((v[0].to_string(), from, to));
                }
                let tables = sorted_codes(&mut l, "table")?;
                AuditStep::Round {
                    commitment,
                    round,
                    draws,
                    tables,
                }
            }
            ("count", Some(commitment)) => {
                let table = l.code("table")?.to_string();
                let (receipts, contests) = count_section(&mut l)?;
                AuditStep::Count {
                    commitment,
                    table,
                    receipts,
                    contests,
                }
            }
            ("receipts", Some(commitment)) => {
                let table = l.code("table")?.to_string();
                let receipts = receipts_section(&mut l)?;
                AuditStep::Receipts {
                    commitment,
                    table,
                    receipts,
                }
            }
            ("risk", Some(commitment)) => {
                let round = round_no(&mut l)?;
                let mut contests: Vec<ContestRisk> = Vec::new();
                while l.peek_key() == Some("contest") {
                    let line = l.line_no();
                    let v: Vec<&str> = l.field_any("contest")?;
                    let bad = || {
                        syntax(
                            line,
                            "'contest <id> <risk> confirmed|escalate <n>|full-hand-count'",
                        )
                    };
                    if v.len() < 3 || !is_code(v[0]) {
                        return Err(bad());
                    }
                    let risk = parse_risk(v[1]).ok_or_else(|| {
                        syntax(
                            line,
                            "a measured risk is written with six places, 0.000000 to 1.000000",
                        )
                    })?;
                    let verdict = parse_verdict(&v[2..]).ok_or_else(bad)?;
                    if contests.last().is_some_and(|c| c.contest.as_str() >= v[0]) {
                        return Err(syntax(line, "contests are sorted by id, once each"));
                    }
                    contests.push(ContestRisk {
                        contest: v[0].to_string(),
                        risk,
                        verdict,
                    });
                }
                let line = l.line_no();
                let v = l.field_any("outcome")?;
                let outcome = parse_verdict(&v).ok_or_else(|| {
                    syntax(line, "'outcome confirmed|escalate <n>|full-hand-count'")
                })?;
                AuditStep::Risk {
                    commitment,
                    round,
                    contests,
                    outcome,
                }
            }
            _ => {
                return Err(syntax(
                    line,
                    format!("unknown step '{step_name}': commit, seed, round, count or risk"),
                ))
            }
        };
        l.end()?;
        let n = AuditNote {
            election,
            audit,
            step,
        };
        if n.to_text() != text {
            return Err(syntax(1, "audit note is not in canonical form"));
        }
        Ok(n)
    }

    /// Refuses a note that is not about this election and its log.
    pub fn check(&self, election: &Election) -> Result<(), Error> {
        if self.election != election.id {
            return Err(Error::Package(format!(
                "audit note is for election {}, package is {}",
                self.election, election.id
            )));
        }
        if let AuditStep::Commit(c) = &self.step {
            if c.checkpoint.origin != election.log_origin {
                return Err(Error::Package(format!(
                    "audit manifest is at a checkpoint of log {}, the package's log is {}",
                    c.checkpoint.origin, election.log_origin
                )));
            }
            for (id, _) in &c.contests {
                if !election.contests.iter().any(|k| &k.id == id) {
                    return Err(Error::Package(format!(
                        "contest {id} is not in the package"
                    )));
                }
            }
        }
        if let AuditStep::Count { table, .. } | AuditStep::Receipts { table, .. } = &self.step {
            if election.table(table).is_none() {
                return Err(Error::Package(format!(
                    "table {table} is not in the election"
                )));
            }
        }
        Ok(())
    }

    /// Signs with the center's key.
    pub fn sign(&self, center: &acta_note::Signer) -> String {
        acta_note::sign(&self.to_text(), &[center]).expect("audit text is a valid note text")
    }

    /// Opens a signed audit note: a valid signature by the package's center
    /// key, canonical text, and about this election and log.
    pub fn open(signed: &[u8], election: &Election) -> Result<AuditNote, Error> {
        let key: acta_note::Verifier = election.center_key.parse()?;
        let text = acta_note::open(signed, &key)?;
        let n = AuditNote::parse(text)?;
        n.check(election)?;
        Ok(n)
    }
}

fn commit(l: &mut Lines<'_>) -> Result<Commitment, Error> {
    let line = l.line_no();
    let cp = l.field("checkpoint", 3)?;
    let checkpoint = Checkpoint::parse(&format!("{}\n{}\n{}\n", cp[0], cp[1], cp[2]))
        .map_err(|e| syntax(line, format!("checkpoint: {e}")))?;
    let line = l.line_no();
    let v = l.one("risk-limit")?;
    let risk_limit = parse_fraction(v).ok_or_else(|| {
        syntax(
            line,
            format!("risk limit '{v}' must be like 0.05: 0. and at most six digits, no trailing 0"),
        )
    })?;
    let line = l.line_no();
    let max_rounds = l.count("max-rounds")?;
    if max_rounds == 0 {
        return Err(syntax(line, "an audit needs at least one round"));
    }
    let line = l.line_no();
    let v = l.one("method")?;
    let method = AuditMethod::parse(v)
        .ok_or_else(|| syntax(line, format!("method '{v}' must be batch or polling")))?;
    let tables = l.count64("tables")?;
    let missing = l.count64("missing")?;
    let manifest = l.hash("manifest")?;
    let mut contests: Vec<(String, u64)> = Vec::new();
    while l.peek_key() == Some("contest") {
        let line = l.line_no();
        let v = l.field("contest", 2)?;
        let Some(w) = number64(v[1]) else {
            return Err(syntax(line, "'contest <id> <total error bound>'"));
        };
        if !is_code(v[0]) || contests.last().is_some_and(|(c, _)| c.as_str() >= v[0]) {
            return Err(syntax(line, "contests are codes, sorted by id, once each"));
        }
        contests.push((v[0].to_string(), w));
    }
    if contests.is_empty() {
        return Err(syntax(l.line_no(), "an audit names at least one contest"));
    }
    Ok(Commitment {
        checkpoint,
        risk_limit,
        max_rounds,
        method,
        tables,
        missing,
        manifest,
        contests,
    })
}

/// A hand count as a board writes it down: the `receipts` line and the
/// contests, exactly as in a count step (the same lines, the same order).
pub fn hand_count_text(receipts: u64, contests: &[HandCount]) -> String {
    let mut s = format!("receipts {receipts}\n");
    for c in contests {
        let _ = writeln!(s, "contest {}", c.contest);
        for (code, n) in &c.votes {
            let _ = writeln!(s, "votes {code} {n}");
        }
        let _ = write!(s, "blank {}\nnull {}\n", c.blank, c.null);
    }
    s
}

/// Parses [`hand_count_text`]; anything else is refused with its line.
pub fn parse_hand_count(text: &str) -> Result<(u64, Vec<HandCount>), Error> {
    let mut l = Lines::new(text)?;
    let out = count_section(&mut l)?;
    l.end()?;
    if hand_count_text(out.0, &out.1) != text {
        return Err(syntax(1, "hand count is not in canonical form"));
    }
    Ok(out)
}

/// Receipts as a board reads them out: `receipt <position>`, then one
/// `mark <contest> <choices|blank|null>` line per contest — the lines of a
/// receipts step.
pub fn readings_text(receipts: &[Receipt]) -> String {
    let mut s = String::new();
    for r in receipts {
        let _ = writeln!(s, "receipt {}", r.position);
        for (c, m) in &r.marks {
            let m = match m {
                Mark::Blank => "blank".to_string(),
                Mark::Null => "null".to_string(),
                Mark::Missing => "missing".to_string(),
                Mark::Choices(cs) => cs.join(","),
            };
            let _ = writeln!(s, "mark {c} {m}");
        }
    }
    s
}

/// Parses [`readings_text`]; anything else is refused with its line.
pub fn parse_readings(text: &str) -> Result<Vec<Receipt>, Error> {
    let mut l = Lines::new(text)?;
    let out = receipts_section(&mut l)?;
    l.end()?;
    if readings_text(&out) != text {
        return Err(syntax(1, "readings are not in canonical form"));
    }
    Ok(out)
}

fn receipts_section(l: &mut Lines<'_>) -> Result<Vec<Receipt>, Error> {
    let mut receipts: Vec<Receipt> = Vec::new();
    while l.peek_key() == Some("receipt") {
        let line = l.line_no();
        let v = l.one("receipt")?;
        let position = number64(v).filter(|&n| n > 0).ok_or_else(|| {
            syntax(
                line,
                "'receipt' takes the receipt's 1-based position in the box",
            )
        })?;
        if receipts.last().is_some_and(|r| r.position >= position) {
            return Err(syntax(line, "receipts are sorted by position, once each"));
        }
        let mut marks: Vec<(String, Mark)> = Vec::new();
        while l.peek_key() == Some("mark") {
            let line = l.line_no();
            let v = l.field("mark", 2)?;
            if !is_code(v[0]) || marks.last().is_some_and(|(c, _)| c.as_str() >= v[0]) {
                return Err(syntax(line, "marks are per contest, sorted, once each"));
            }
            let m = match v[1] {
                "blank" => Mark::Blank,
                "null" => Mark::Null,
                "missing" => Mark::Missing,
                list => {
                    let cs: Vec<String> = list.split(',').map(str::to_string).collect();
                    if cs.iter().any(|c| !is_code(c)) || cs.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(syntax(
                            line,
                            "a mark is blank, null, or choice codes sorted and separated by commas",
                        ));
                    }
                    Mark::Choices(cs)
                }
            };
            marks.push((v[0].to_string(), m));
        }
        receipts.push(Receipt { position, marks });
    }
    if receipts.is_empty() {
        return Err(syntax(l.line_no(), "at least one receipt is read"));
    }
    Ok(receipts)
}

fn count_section(l: &mut Lines<'_>) -> Result<(u64, Vec<HandCount>), Error> {
    let receipts = l.count64("receipts")?;
    let mut contests: Vec<HandCount> = Vec::new();
    while l.peek_key() == Some("contest") {
        let line = l.line_no();
        let contest = l.code("contest")?.to_string();
        if contests.last().is_some_and(|c| c.contest >= contest) {
            return Err(syntax(line, "contests are sorted by id, once each"));
        }
        let mut votes: Vec<(String, u64)> = Vec::new();
        while l.peek_key() == Some("votes") {
            let line = l.line_no();
            let v = l.field("votes", 2)?;
            let Some(n) = number64(v[1]) else {
                return Err(syntax(line, "'votes' count must be a canonical decimal"));
            };
            if !is_code(v[0]) || votes.last().is_some_and(|(c, _)| c.as_str() >= v[0]) {
                return Err(syntax(line, "choices are codes, sorted, once each"));
            }
            votes.push((v[0].to_string(), n));
        }
        let blank = l.count64("blank")?;
        let null = l.count64("null")?;
        contests.push(HandCount {
            contest,
            votes,
            blank,
            null,
        });
    }
    Ok((receipts, contests))
}

fn round_no(l: &mut Lines<'_>) -> Result<u32, Error> {
    let line = l.line_no();
    let r = l.count("round")?;
    if r == 0 {
        return Err(syntax(line, "rounds are numbered from 1"));
    }
    Ok(r)
}

fn sorted_codes(l: &mut Lines<'_>, key: &str) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    while l.peek_key() == Some(key) {
        let line = l.line_no();
        let v = l.code(key)?;
        if out.last().is_some_and(|t| t.as_str() >= v) {
            return Err(syntax(line, format!("'{key}' lines are sorted, once each")));
        }
        out.push(v.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_have_one_spelling() {
        assert_eq!(fraction_text(50_000), "0.05");
        assert_eq!(parse_fraction("0.05"), Some(50_000));
        assert_eq!(parse_fraction("0.050"), None);
        assert_eq!(parse_fraction("0.0"), None);
        assert_eq!(parse_fraction(".05"), None);
        assert_eq!(parse_fraction("0.0000001"), None);
        assert_eq!(risk_text(1), "0.000001");
        assert_eq!(parse_risk("1.000000"), Some(MILLION));
        assert_eq!(parse_risk("1.000001"), None);
        assert_eq!(parse_risk("0.5"), None);
    }
}
