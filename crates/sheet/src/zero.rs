//! `zero/v1`: the report a machine signs when its table opens, showing every
//! counter at zero before the first voter (SYSTEM.md §3).

use acta_election::time;

use crate::text::{syntax, Lines};
use crate::Error;

/// The zero report of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZeroReport {
    /// Election id.
    pub election: String,
    /// Table id.
    pub table: String,
    /// Machine id.
    pub machine: String,
    /// SHA-256 of the software the machine runs.
    pub software: [u8; 32],
    /// When the table opened.
    pub opened: u64,
    /// Voters on the roll.
    pub registered: u32,
    /// Contests on the ballot, each at zero.
    pub contests: Vec<String>,
    /// Journal head after the opening entry.
    pub journal: [u8; 32],
}

impl ZeroReport {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "zero/v1\nelection {}\ntable {}\nmachine {}\nsoftware {}\nopened {}\nregistered {}\nauthenticated 0\nballots 0\n",
            self.election,
            self.table,
            self.machine,
            hex::encode(self.software),
            time::format(self.opened),
            self.registered
        );
        for c in &self.contests {
            s.push_str(&format!("contest {c} 0\n"));
        }
        s.push_str(&format!("journal {}\n", hex::encode(self.journal)));
        s
    }

    /// Parses canonical `zero/v1` text.
    pub fn parse(text: &str) -> Result<ZeroReport, Error> {
        let mut l = Lines::new(text)?;
        if l.field("zero/v1", 0).is_err() {
            return Err(syntax(1, "first line must be 'zero/v1'"));
        }
        let election = l.code("election")?.to_string();
        let table = l.code("table")?.to_string();
        let machine = l.code("machine")?.to_string();
        let software = l.hash("software")?;
        let opened = l.time("opened")?;
        let registered = l.count("registered")?;
        for key in ["authenticated", "ballots"] {
            let line = l.line_no();
            if l.count(key)? != 0 {
                return Err(syntax(line, format!("'{key}' must be 0 on a zero report")));
            }
        }
        let mut contests: Vec<String> = Vec::new();
        while l.peek_key() == Some("contest") {
            let line = l.line_no();
            let v = l.field("contest", 2)?;
            if v[1] != "0" {
                return Err(syntax(line, "every contest must be at 0 on a zero report"));
            }
            if contests.last().is_some_and(|c| c.as_str() >= v[0]) || !crate::text::is_code(v[0]) {
                return Err(syntax(line, "contests must be codes sorted by id"));
            }
            contests.push(v[0].to_string());
        }
        let journal = l.hash("journal")?;
        l.end()?;
        Ok(ZeroReport {
            election,
            table,
            machine,
            software,
            opened,
            registered,
            contests,
            journal,
        })
    }
}

impl ZeroReport {
    /// Opens a signed zero report: canonical text, a table of the package,
    /// exactly one signature — a valid one by the key certified for that
    /// table — and the package's election, machine, registered voters,
    /// software release and ballot.
    pub fn open(signed: &[u8], election: &acta_election::Election) -> Result<ZeroReport, Error> {
        let note = acta_note::Note::parse(signed)?;
        let zero = ZeroReport::parse(note.text)?;
        let table = crate::certified_table(&note, election, &zero.table)?;
        let contests: Vec<String> = election
            .ballot(&zero.table)
            .iter()
            .map(|c| c.id.clone())
            .collect();
        if zero.election != election.id
            || zero.machine != table.machine
            || zero.registered != table.registered
            || acta_note::canon::to_hex(&zero.software) != election.software
            || zero.contests != contests
        {
            return Err(Error::Package(format!(
                "zero report of table {} does not match the package (election, machine, registered, software or ballot)",
                zero.table
            )));
        }
        Ok(zero)
    }
}
