//! `acta-announcement/v1`: the center's signed statement "at log checkpoint
//! (size, root) the totals are …" (SYSTEM.md §9). Written by the center,
//! read by observers and the results site, always through this module.
//!
//! ```text
//! acta-announcement/v1
//! election SYN-2026
//! checkpoint acta.example/log/syn-2026 300 <base64 root>
//! tables 298 300
//! held 1
//! registered 209113
//! authenticated 129655
//! ballots 129655
//! contest AN
//! votes AVZ 16890
//! …
//! blank 1921
//! null 655
//! seats PDA 5
//! …
//! contest PRES
//! …
//! seats C1 1
//! ```
//!
//! Every contest of the package appears once, in id order, with every one of
//! its choices (zeros included) in code order, then `blank`, `null`, and one
//! `seats <choice> <n>` line per winner: seats won by each party list,
//! `1` for each winning plurality candidate, `1` for the winning side of a
//! referendum (none on a tie). Numbers are canonical decimals. The parser
//! accepts exactly what [`Announcement::to_text`] writes; [`Announcement::check`]
//! then refuses one that is not about this election and this log.

use std::fmt::Write as _;

use acta_election::Election;
use acta_tlog::Checkpoint;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::text::{is_code, syntax, Lines};
use crate::Error;

/// First line of every announcement.
pub const ANNOUNCEMENT_FORMAT: &str = "acta-announcement/v1";

/// The totals of one contest over many tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// Contest id.
    pub contest: String,
    /// Votes per choice code, sorted by code.
    pub votes: Vec<(String, u64)>,
    /// Blank ballots.
    pub blank: u64,
    /// Null ballots.
    pub null: u64,
    /// Winners: seats per list, or 1 per winning candidate or referendum side.
    pub seats: Vec<(String, u32)>,
}

/// A signed statement of the totals at one checkpoint of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Election id.
    pub election: String,
    /// The checkpoint the totals are the sum of.
    pub checkpoint: Checkpoint,
    /// Tables with a counted acta in that checkpoint.
    pub tables_reported: u64,
    /// Tables in the election.
    pub tables_total: u64,
    /// Tables whose only actas are held.
    pub held: u64,
    /// Registered voters at the reporting tables.
    pub registered: u64,
    /// Voters authenticated.
    pub authenticated: u64,
    /// Ballots cast.
    pub ballots: u64,
    /// Every contest of the package, sorted by id.
    pub contests: Vec<Tally>,
}

impl Announcement {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        let cp = &self.checkpoint;
        let mut s = format!(
            "{ANNOUNCEMENT_FORMAT}\nelection {}\ncheckpoint {} {} {}\ntables {} {}\nheld {}\nregistered {}\nauthenticated {}\nballots {}\n",
            self.election,
            cp.origin,
            cp.size,
            B64.encode(cp.root),
            self.tables_reported,
            self.tables_total,
            self.held,
            self.registered,
            self.authenticated,
            self.ballots
        );
        for c in &self.contests {
            let _ = writeln!(s, "contest {}", c.contest);
            for (choice, n) in &c.votes {
                let _ = writeln!(s, "votes {choice} {n}");
            }
            let _ = write!(s, "blank {}\nnull {}\n", c.blank, c.null);
            for (choice, n) in &c.seats {
                let _ = writeln!(s, "seats {choice} {n}");
            }
        }
        s
    }

    /// Parses the canonical text; anything else is refused with its line.
    pub fn parse(text: &str) -> Result<Announcement, Error> {
        let mut l = Lines::new(text)?;
        if l.field(ANNOUNCEMENT_FORMAT, 0).is_err() {
            return Err(syntax(
                1,
                format!("first line must be '{ANNOUNCEMENT_FORMAT}'"),
            ));
        }
        let election = l.code("election")?.to_string();
        let line = l.line_no();
        let cp = l.field("checkpoint", 3)?;
        let checkpoint = Checkpoint::parse(&format!("{}\n{}\n{}\n", cp[0], cp[1], cp[2]))
            .map_err(|e| syntax(line, format!("checkpoint: {e}")))?;
        let line = l.line_no();
        let tables = l.field("tables", 2)?;
        let (Some(tables_reported), Some(tables_total)) = (
            crate::text::number64(tables[0]),
            crate::text::number64(tables[1]),
        ) else {
            return Err(syntax(line, "'tables' takes two canonical decimals"));
        };
        if tables_reported > tables_total {
            return Err(syntax(line, "more tables reported than exist"));
        }
        let held = l.count64("held")?;
        let registered = l.count64("registered")?;
        let authenticated = l.count64("authenticated")?;
        let ballots = l.count64("ballots")?;
        let mut contests: Vec<Tally> = Vec::new();
        while l.peek_key().is_some() {
            let line = l.line_no();
            let id = l.code("contest")?.to_string();
            if contests.last().is_some_and(|c| c.contest >= id) {
                return Err(syntax(
                    line,
                    format!(
                        "contest '{id}' is out of order or repeated: contests are sorted by id"
                    ),
                ));
            }
            let votes = pairs(&mut l, "votes", crate::text::number64)?;
            let blank = l.count64("blank")?;
            let null = l.count64("null")?;
            let seats = pairs(&mut l, "seats", |v| {
                crate::text::number(v).filter(|&n| n > 0)
            })?;
            contests.push(Tally {
                contest: id,
                votes,
                blank,
                null,
                seats,
            });
        }
        l.end()?;
        let a = Announcement {
            election,
            checkpoint,
            tables_reported,
            tables_total,
            held,
            registered,
            authenticated,
            ballots,
            contests,
        };
        if a.to_text() != text {
            return Err(syntax(1, "announcement is not in canonical form"));
        }
        Ok(a)
    }

    /// Refuses an announcement that is not about this election and its log:
    /// the election id, the log origin and the number of tables must be the
    /// package's, and every contest of the package must appear with exactly
    /// its choices.
    pub fn check(&self, election: &Election) -> Result<(), Error> {
        let pkg = |m: String| Err(Error::Package(m));
        if self.election != election.id {
            return pkg(format!(
                "announcement is for election {}, package is {}",
                self.election, election.id
            ));
        }
        if self.checkpoint.origin != election.log_origin {
            return pkg(format!(
                "announcement is at a checkpoint of log {}, the package's log is {}",
                self.checkpoint.origin, election.log_origin
            ));
        }
        if self.tables_total != election.tables.len() as u64 {
            return pkg(format!(
                "announcement says {} tables, the package has {}",
                self.tables_total,
                election.tables.len()
            ));
        }
        let ids: Vec<&str> = self.contests.iter().map(|c| c.contest.as_str()).collect();
        let want: Vec<&str> = election.contests.iter().map(|c| c.id.as_str()).collect();
        if ids != want {
            return pkg(format!(
                "announcement lists contests [{}], the package has [{}]",
                ids.join(" "),
                want.join(" ")
            ));
        }
        for (t, c) in self.contests.iter().zip(&election.contests) {
            let choices: Vec<&str> = t.votes.iter().map(|(c, _)| c.as_str()).collect();
            if choices != c.choices() {
                return pkg(format!(
                    "contest {}: announced choices [{}] are not the package's",
                    c.id,
                    choices.join(" ")
                ));
            }
        }
        Ok(())
    }

    /// Signs with the center's key.
    pub fn sign(&self, center: &acta_note::Signer) -> String {
        acta_note::sign(&self.to_text(), &[center]).expect("announcement text is a valid note text")
    }

    /// Opens a signed announcement: a valid signature by the package's center
    /// key, canonical text, and about this election and log.
    pub fn open(signed: &[u8], election: &Election) -> Result<Announcement, Error> {
        let key: acta_note::Verifier = election.center_key.parse()?;
        let text = acta_note::open(signed, &key)?;
        let a = Announcement::parse(text)?;
        a.check(election)?;
        Ok(a)
    }
}

/// Reads sorted, unrepeated `key <code> <n>` lines.
fn pairs<T>(
    l: &mut Lines<'_>,
    key: &str,
    num: impl Fn(&str) -> Option<T>,
) -> Result<Vec<(String, T)>, Error> {
    let mut out: Vec<(String, T)> = Vec::new();
    while l.peek_key() == Some(key) {
        let line = l.line_no();
        let v = l.field(key, 2)?;
        if !is_code(v[0]) {
            return Err(syntax(
                line,
                format!("choice '{}' must use only A-Z, 0-9, '.', '-', '/'", v[0]),
            ));
        }
        if out.last().is_some_and(|(c, _)| c.as_str() >= v[0]) {
            return Err(syntax(
                line,
                format!(
                    "'{key} {}' is out of order or repeated: choices are sorted",
                    v[0]
                ),
            ));
        }
        let n = num(v[1]).ok_or_else(|| {
            syntax(
                line,
                format!("'{key}' count '{}' must be a canonical decimal", v[1]),
            )
        })?;
        out.push((v[0].to_string(), n));
    }
    Ok(out)
}
