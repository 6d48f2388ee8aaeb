//! `acta/v1`: the signed tally sheet of one table.

use std::fmt::Write as _;

use acta_election::{time, Election, Table};

use crate::text::{is_code, number, syntax, Lines};
use crate::Error;

/// The alarms a machine raises and cannot suppress (SYSTEM.md §5), in the fixed
/// order they appear on the acta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Alarm {
    /// More ballots than authenticated voters.
    BallotsExceedAuthenticated,
    /// Authentication overrides above the package threshold.
    Overrides,
    /// A vote attempted outside the schedule.
    OutsideSchedule,
    /// Votes faster than a human can vote.
    Burst,
    /// The machine restarted while the table was open.
    Restart,
    /// The clock went backwards or jumped.
    ClockJump,
    /// The same biometric template presented for two voter ids.
    RepeatedTemplate,
    /// On start, the machine's stored counts or journal did not match its
    /// ballot records or hash chain: its storage was edited or corrupted.
    StateMismatch,
}

/// Every alarm, in acta order.
pub const ALARMS: [Alarm; 8] = [
    Alarm::BallotsExceedAuthenticated,
    Alarm::Overrides,
    Alarm::OutsideSchedule,
    Alarm::Burst,
    Alarm::Restart,
    Alarm::ClockJump,
    Alarm::RepeatedTemplate,
    Alarm::StateMismatch,
];

impl Alarm {
    /// The name written on the acta.
    pub fn name(self) -> &'static str {
        match self {
            Alarm::BallotsExceedAuthenticated => "ballots-exceed-authenticated",
            Alarm::Overrides => "overrides",
            Alarm::OutsideSchedule => "outside-schedule",
            Alarm::Burst => "burst",
            Alarm::Restart => "restart",
            Alarm::ClockJump => "clock-jump",
            Alarm::RepeatedTemplate => "repeated-template",
            Alarm::StateMismatch => "state-mismatch",
        }
    }
    /// Position in [`ALARMS`].
    pub fn index(self) -> usize {
        ALARMS.iter().position(|a| *a == self).expect("listed")
    }
}

/// The counts of one contest at one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestCount {
    /// Contest id.
    pub contest: String,
    /// Votes per choice code, sorted by code (see `Contest::choices`).
    pub votes: Vec<(String, u32)>,
    /// Ballots with nothing marked in this contest.
    pub blank: u32,
    /// Ballots deliberately voided in this contest.
    pub null: u32,
}

/// The content of an acta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acta {
    /// Election id.
    pub election: String,
    /// Table id.
    pub table: String,
    /// Machine id.
    pub machine: String,
    /// When the table opened.
    pub opened: u64,
    /// When the table closed.
    pub closed: u64,
    /// Voters on the roll.
    pub registered: u32,
    /// Voters authenticated (each at most once).
    pub authenticated: u32,
    /// Authentications that needed a one-time override code.
    pub overrides: u32,
    /// Ballots cast.
    pub ballots: u32,
    /// Counts per contest, sorted by contest id.
    pub contests: Vec<ContestCount>,
    /// RFC 9162 Merkle root over the table's ballot records, sorted.
    pub records: [u8; 32],
    /// Head of the machine's hash-chained journal at closing.
    pub journal: [u8; 32],
    /// Count of each alarm, in [`ALARMS`] order.
    pub alarms: [u32; 8],
}

impl Acta {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(1024);
        let _ = write!(
            s,
            "acta/v1\nelection {}\ntable {}\nmachine {}\nopened {}\nclosed {}\nregistered {}\nauthenticated {}\noverrides {}\nballots {}\n",
            self.election,
            self.table,
            self.machine,
            time::format(self.opened),
            time::format(self.closed),
            self.registered,
            self.authenticated,
            self.overrides,
            self.ballots
        );
        for c in &self.contests {
            let _ = writeln!(s, "contest {}", c.contest);
            for (choice, n) in &c.votes {
                let _ = writeln!(s, "votes {choice} {n}");
            }
            let _ = write!(s, "blank {}\nnull {}\n", c.blank, c.null);
        }
        let _ = write!(
            s,
            "records {}\njournal {}\n",
            hex::encode(self.records),
            hex::encode(self.journal)
        );
        for (a, n) in ALARMS.iter().zip(self.alarms) {
            let _ = writeln!(s, "alarm {} {n}", a.name());
        }
        s
    }

    /// Parses canonical `acta/v1` text; anything else is refused with the line
    /// and the reason.
    pub fn parse(text: &str) -> Result<Acta, Error> {
        let mut l = Lines::new(text)?;
        if l.take::<0>("acta/v1").is_err() {
            return Err(syntax(1, "first line must be 'acta/v1'"));
        }
        let election = l.code("election")?.to_string();
        let table = l.code("table")?.to_string();
        let machine = l.code("machine")?.to_string();
        let opened = l.time("opened")?;
        let closed = l.time("closed")?;
        let registered = l.count("registered")?;
        let authenticated = l.count("authenticated")?;
        let overrides = l.count("overrides")?;
        let ballots = l.count("ballots")?;
        let mut contests: Vec<ContestCount> = Vec::new();
        while l.peek_key() == Some("contest") {
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
            let mut votes: Vec<(String, u32)> = Vec::new();
            while l.peek_key() == Some("votes") {
                let line = l.line_no();
                let v = l.take::<2>("votes")?;
                if !is_code(v[0]) {
                    return Err(syntax(
                        line,
                        format!("choice '{}' must use only A-Z, 0-9, '.', '-', '/'", v[0]),
                    ));
                }
                let n = number(v[1]).ok_or_else(|| {
                    syntax(
                        line,
                        format!(
                            "vote count '{}' must be a number without sign or leading zeros",
                            v[1]
                        ),
                    )
                })?;
                if votes.last().is_some_and(|(c, _)| c.as_str() >= v[0]) {
                    return Err(syntax(
                        line,
                        format!(
                            "choice '{}' is out of order or repeated: choices are sorted",
                            v[0]
                        ),
                    ));
                }
                votes.push((v[0].to_string(), n));
            }
            let blank = l.count("blank")?;
            let null = l.count("null")?;
            contests.push(ContestCount {
                contest: id,
                votes,
                blank,
                null,
            });
        }
        if contests.is_empty() {
            return Err(syntax(l.line_no(), "expected at least one 'contest'"));
        }
        let records = l.hash("records")?;
        let journal = l.hash("journal")?;
        let mut alarms = [0u32; 8];
        for (i, a) in ALARMS.iter().enumerate() {
            let line = l.line_no();
            let v = l.take::<2>("alarm")?;
            if v[0] != a.name() {
                return Err(syntax(
                    line,
                    format!("expected 'alarm {}', found 'alarm {}'", a.name(), v[0]),
                ));
            }
            alarms[i] = number(v[1]).ok_or_else(|| {
                syntax(
                    line,
                    "alarm count must be a number without sign or leading zeros",
                )
            })?;
        }
        l.end()?;
        let acta = Acta {
            election,
            table,
            machine,
            opened,
            closed,
            registered,
            authenticated,
            overrides,
            ballots,
            contests,
            records,
            journal,
            alarms,
        };
        debug_assert_eq!(acta.to_text(), text);
        Ok(acta)
    }

    /// Why this acta, authentic or not, cannot be counted as it stands:
    /// every way it fails to fit the package or contradicts itself, in a
    /// fixed order. Empty means it can be counted. See [`Hold`].
    pub fn holds(&self, election: &Election) -> Vec<Hold> {
        let mut out = Vec::new();
        let mut pkg = |m: String| out.push(Hold::Package(m));
        if self.election != election.id {
            pkg(format!(
                "acta is for election {}, package is {}",
                self.election, election.id
            ));
        }
        let Some(table) = election.table(&self.table) else {
            pkg(format!("table {} is not in the election", self.table));
            return out;
        };
        if table.machine != self.machine {
            pkg(format!(
                "table {} is served by machine {}, acta names {}",
                self.table, table.machine, self.machine
            ));
        }
        if self.registered != table.registered {
            pkg(format!(
                "table {} has {} registered voters, acta says {}",
                self.table, table.registered, self.registered
            ));
        }
        let ballot = election.ballot(&self.table);
        let ids: Vec<&str> = self.contests.iter().map(|c| c.contest.as_str()).collect();
        let want: Vec<&str> = ballot.iter().map(|c| c.id.as_str()).collect();
        let same_ballot = ids == want;
        if !same_ballot {
            pkg(format!(
                "table {} votes on [{}], acta counts [{}]",
                self.table,
                want.join(" "),
                ids.join(" ")
            ));
        }
        // Times: the table opens within the schedule and closes after it
        // opened, no later than the end of the election day.
        let opens = time::parse(&election.opens).expect("validated package");
        let closes = time::parse(&election.closes).expect("validated package");
        if self.opened < opens || self.opened > closes {
            out.push(Hold::Schedule(format!(
                "opened {} outside the schedule {} to {}",
                time::format(self.opened),
                election.opens,
                election.closes
            )));
        }
        if self.closed <= self.opened || self.closed > closes + LATE_CLOSE_SECONDS {
            out.push(Hold::Schedule(format!(
                "closed {} (opened {}, schedule ends {}; at most {} h late)",
                time::format(self.closed),
                time::format(self.opened),
                election.closes,
                LATE_CLOSE_SECONDS / 3600
            )));
        }
        let mut imp = |m: String| out.push(Hold::Impossible(m));
        if self.authenticated > self.registered {
            imp(format!(
                "authenticated {} above registered {}",
                self.authenticated, self.registered
            ));
        }
        if self.overrides > self.authenticated {
            imp(format!(
                "overrides {} above authenticated {}",
                self.overrides, self.authenticated
            ));
        }
        let unmatched = self.alarms[Alarm::BallotsExceedAuthenticated.index()];
        if self.ballots as u64 > self.authenticated as u64 + unmatched as u64 {
            imp(format!(
                "ballots {} above authenticated {} with {} ballots-exceed-authenticated alarms",
                self.ballots, self.authenticated, unmatched
            ));
        }
        // The override alarm fires once per override above the threshold.
        let expected = self.overrides.saturating_sub(election.override_alarm);
        let raised = self.alarms[Alarm::Overrides.index()];
        if raised != expected {
            imp(format!(
                "alarm overrides {raised} contradicts {} overrides over a threshold of {}",
                self.overrides, election.override_alarm
            ));
        }
        if same_ballot {
            for (count, contest) in self.contests.iter().zip(ballot) {
                if !contest.has_choices(count.votes.iter().map(|(c, _)| c.as_str())) {
                    let choices: Vec<&str> = count.votes.iter().map(|(c, _)| c.as_str()).collect();
                    out.push(Hold::Package(format!(
                        "contest {}: choices [{}] differ from the package's",
                        contest.id,
                        choices.join(" ")
                    )));
                    continue;
                }
                let marks: u64 = count.votes.iter().map(|(_, n)| *n as u64).sum();
                let voided = count.blank as u64 + count.null as u64;
                let fits = (self.ballots as u64)
                    .checked_sub(voided)
                    .is_some_and(|b| marks >= b && marks <= b * contest.max_marks() as u64);
                if !fits {
                    out.push(Hold::Impossible(format!(
                        "contest {}: {marks} votes, {} blank and {} null do not fit {} ballots",
                        contest.id, count.blank, count.null, self.ballots
                    )));
                }
            }
        }
        out
    }

    /// The count for a contest.
    pub fn contest(&self, id: &str) -> Option<&ContestCount> {
        self.contests.iter().find(|c| c.contest == id)
    }
}

/// How late after the scheduled closing a table may still close: tables
/// close when the last voter in line has voted, within the election day.
pub const LATE_CLOSE_SECONDS: u64 = 12 * 3600;

/// Why an authentic acta is *held*: logged as the machine's word, listed in
/// public with the reason, and not counted — the way results systems set
/// aside "actas con inconsistencias" for review rather than count or discard
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Hold {
    /// It does not fit the package: other election, machine, registered
    /// voters, contests or choices than the table's.
    Package(String),
    /// Its figures cannot be: more authenticated than registered, ballots
    /// beyond authenticated voters without the matching alarm, votes that do
    /// not fit the ballots, an alarm count its own figures contradict.
    Impossible(String),
    /// Its times lie outside the schedule.
    Schedule(String),
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hold::Package(m) => write!(f, "does not fit the package: {m}"),
            Hold::Impossible(m) => write!(f, "impossible figures: {m}"),
            Hold::Schedule(m) => write!(f, "outside the schedule: {m}"),
        }
    }
}

/// An authentic acta: the exact signed bytes, what they say, whose table it
/// is, and why it is held, if it is.
#[derive(Debug, Clone)]
pub struct OpenedActa<'e> {
    /// The signed note, byte for byte as received.
    pub signed: Vec<u8>,
    /// The parsed content.
    pub acta: Acta,
    /// The table in the package.
    pub table: &'e Table,
    /// SHA-256 of the acta text (the note body): the acta's identity. Two
    /// notes with the same body are the same acta, whatever their signature
    /// bytes.
    pub body_hash: [u8; 32],
    /// Why it cannot be counted; empty when it counts.
    pub holds: Vec<Hold>,
}

impl OpenedActa<'_> {
    /// Whether it is counted (no hold).
    pub fn counts(&self) -> bool {
        self.holds.is_empty()
    }
}

/// SHA-256 of an acta's text: the identity of an acta.
pub fn body_hash(text: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).into()
}

impl Acta {
    /// Signs the acta with the machine key, giving the note to store and send.
    pub fn sign(&self, machine: &acta_note::Signer) -> String {
        acta_note::sign(&self.to_text(), &[machine]).expect("acta text is a valid note text")
    }

    /// Opens a received signed acta. It is *refused* (an error, nothing to
    /// store) unless the note parses, the acta text is canonical, the table
    /// is in the package, and the note carries exactly one signature: a
    /// valid one by the key certified for that table. Anything else about it
    /// — figures, times, fit with the package — does not refuse an authentic
    /// acta: it is the machine's word and is returned with its [`Hold`]s.
    pub fn open<'e>(signed: &[u8], election: &'e Election) -> Result<OpenedActa<'e>, Error> {
        let note = acta_note::Note::parse(signed)?;
        let acta = Acta::parse(note.text)?;
        let table = crate::certified_table(&note, election, &acta.table)?;
        let holds = acta.holds(election);
        Ok(OpenedActa {
            signed: signed.to_vec(),
            body_hash: body_hash(note.text),
            acta,
            table,
            holds,
        })
    }
}
