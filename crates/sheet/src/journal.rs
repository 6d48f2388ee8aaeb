//! The machine's journal: one line per event, hash-chained, published with
//! the acta (SYSTEM.md §4–§6).
//!
//! ```text
//! <time> open table <table> machine <machine> registered <n>
//! <time> authenticated[ override]
//! <time> refused <not-on-roll|already-voted|no-match|bad-override>
//! <time> ballot
//! <time> left-without-voting
//! <time> alarm <alarm-name>[ <detail>]
//! <time> close ballots <n>
//! <time> transmit <zero|acta> <attempt <n>|failed <detail>|logged <index>>
//! ```
//!
//! `<time>` is `YYYY-MM-DDTHH:MM:SSZ`; `<detail>` is printable ASCII without
//! a leading, trailing or doubled space. Each line is one event, ending in
//! `\n`; nothing else is accepted.
//!
//! **The chain.** `head(0)` is 32 zero bytes and `head(i) = SHA-256(head(i-1)
//! ‖ line(i))` without the newline. The zero report carries the head after
//! the `open` line, the acta the head after the `close` line; lines after it
//! (transmission) extend the same chain.
//!
//! **Secrecy.** No line names a voter or carries a ballot's content: an
//! authentication says only whether an override code was used, a ballot line
//! says only that a ballot was cast. The voter ids live in the station's
//! private poll book, never in the journal; the ballot records carry no time,
//! so nothing here links a voter to a ballot.

use sha2::{Digest, Sha256};

use crate::acta::{Alarm, ALARMS};
use crate::text::{is_code, number, syntax};
use crate::{Acta, Error, ZeroReport};
use acta_election::time;

/// Why the station refused an authentication (the screen says it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The id is not on this table's roll.
    NotOnRoll,
    /// The voter was already authenticated at this table.
    AlreadyVoted,
    /// The biometric did not match and no override code was given.
    NoMatch,
    /// The override code is unknown or was already used.
    BadOverride,
}

impl Refusal {
    /// The word written in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotOnRoll => "not-on-roll",
            Refusal::AlreadyVoted => "already-voted",
            Refusal::NoMatch => "no-match",
            Refusal::BadOverride => "bad-override",
        }
    }
    fn parse(s: &str) -> Option<Refusal> {
        [
            Refusal::NotOnRoll,
            Refusal::AlreadyVoted,
            Refusal::NoMatch,
            Refusal::BadOverride,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Which signed report a transmission line is about: a table sends these
/// two and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The zero report.
    Zero,
    /// The acta.
    Acta,
}

impl Report {
    /// The word written in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Report::Zero => "zero",
            Report::Acta => "acta",
        }
    }
}

/// What happened to one transmission attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transmission {
    /// Attempt number `n` (1-based) was started.
    Attempt(u32),
    /// The attempt failed: the network or the center said why.
    Failed(String),
    /// The center logged it at this index and its receipt verified.
    Logged(u64),
}

/// One journaled event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The table opened.
    Open {
        /// Table id.
        table: String,
        /// Machine id.
        machine: String,
        /// Voters on the roll.
        registered: u32,
    },
    /// A voter was authenticated; `true` when an override code was used.
    Authenticated(bool),
    /// An authentication was refused.
    Refused(Refusal),
    /// A ballot was cast (nothing about its content).
    Ballot,
    /// The authenticated voter left without casting a ballot.
    LeftWithoutVoting,
    /// An alarm, with a detail that names no voter.
    Alarm(Alarm, String),
    /// The table closed with this many ballots.
    Close(u32),
    /// A transmission event.
    Transmit(Report, Transmission),
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When it happened, by the machine's clock.
    pub at: u64,
    /// What happened.
    pub event: Event,
}

/// Makes any text a valid `<detail>`: printable ASCII, single-spaced, at
/// most 200 characters; `-` if nothing is left.
pub fn clean_detail(s: &str) -> String {
    let ascii: String = s
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .collect();
    let one = ascii.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = one.chars().take(200).collect();
    match cut.trim() {
        "" => "-".to_string(),
        t => t.to_string(),
    }
}

/// The latest time a journal line can carry (`9999-12-31T23:59:59Z`).
pub const LAST_TIME: u64 = 253_402_300_799;

fn is_detail(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains("  ")
}

impl Line {
    /// The canonical text, without the newline.
    pub fn to_text(&self) -> String {
        let t = time::format(self.at);
        match &self.event {
            Event::Open {
                table,
                machine,
                registered,
            } => format!("{t} open table {table} machine {machine} registered {registered}"),
            Event::Authenticated(false) => format!("{t} authenticated"),
            Event::Authenticated(true) => format!("{t} authenticated override"),
            Event::Refused(r) => format!("{t} refused {}", r.as_str()),
            Event::Ballot => format!("{t} ballot"),
            Event::LeftWithoutVoting => format!("{t} left-without-voting"),
            Event::Alarm(a, d) if d.is_empty() => format!("{t} alarm {}", a.name()),
            Event::Alarm(a, d) => format!("{t} alarm {} {d}", a.name()),
            Event::Close(n) => format!("{t} close ballots {n}"),
            Event::Transmit(r, x) => {
                let r = r.as_str();
                match x {
                    Transmission::Attempt(n) => format!("{t} transmit {r} attempt {n}"),
                    Transmission::Failed(d) => format!("{t} transmit {r} failed {d}"),
                    Transmission::Logged(i) => format!("{t} transmit {r} logged {i}"),
                }
            }
        }
    }

    /// Parses one line (without its newline); `line` is its 1-based number,
    /// for the error. Only the canonical form is accepted.
    pub fn parse(s: &str, line: usize) -> Result<Line, Error> {
        let bad = |what: &str| syntax(line, what);
        let (t, rest) = s
            .split_once(' ')
            .ok_or_else(|| bad("expected `<time> <event>`"))?;
        let at = time::parse(t)
            .filter(|&v| time::format(v) == t)
            .ok_or_else(|| bad("time is not YYYY-MM-DDTHH:MM:SSZ"))?;
        let words: Vec<&str> = rest.split(' ').collect();
        let event = match words.as_slice() {
            ["open", "table", table, "machine", machine, "registered", n]
                if is_code(table) && is_code(machine) =>
            {
                Event::Open {
                    table: table.to_string(),
                    machine: machine.to_string(),
                    registered: number(n).ok_or_else(|| bad("registered is not a number"))?,
                }
            }
            ["authenticated"] => Event::Authenticated(false),
            ["authenticated", "override"] => Event::Authenticated(true),
            ["refused", r] => {
                Event::Refused(Refusal::parse(r).ok_or_else(|| bad("unknown refusal"))?)
            }
            ["ballot"] => Event::Ballot,
            ["left-without-voting"] => Event::LeftWithoutVoting,
            ["alarm", name, ..] => {
                let alarm = ALARMS
                    .into_iter()
                    .find(|a| a.name() == *name)
                    .ok_or_else(|| bad("unknown alarm"))?;
                let detail = rest
                    .strip_prefix("alarm ")
                    .and_then(|r| r.strip_prefix(name))
                    .unwrap_or("");
                let detail = match detail.strip_prefix(' ') {
                    None if detail.is_empty() => String::new(),
                    Some(d) if is_detail(d) => d.to_string(),
                    _ => return Err(bad("alarm detail is not printable single-spaced ASCII")),
                };
                Event::Alarm(alarm, detail)
            }
            ["close", "ballots", n] => {
                Event::Close(number(n).ok_or_else(|| bad("ballots is not a number"))?)
            }
            ["transmit", r, what, ..] => {
                let report = match *r {
                    "zero" => Report::Zero,
                    "acta" => Report::Acta,
                    _ => return Err(bad("transmit names neither zero nor acta")),
                };
                let arg = rest
                    .splitn(4, ' ')
                    .nth(3)
                    .ok_or_else(|| bad("transmit needs an argument"))?;
                let x = match *what {
                    "attempt" => Transmission::Attempt(
                        number(arg).ok_or_else(|| bad("attempt is not a number"))?,
                    ),
                    "failed" if is_detail(arg) => Transmission::Failed(arg.to_string()),
                    "logged" => Transmission::Logged(
                        crate::text::number64(arg).ok_or_else(|| bad("index is not a number"))?,
                    ),
                    _ => return Err(bad("transmit: expected attempt, failed or logged")),
                };
                Event::Transmit(report, x)
            }
            _ => return Err(bad("unknown event")),
        };
        let parsed = Line { at, event };
        if parsed.to_text() != s {
            return Err(bad("not in canonical form"));
        }
        Ok(parsed)
    }
}

/// One step of the chain: SHA-256(head ‖ line).
pub fn chain(head: [u8; 32], line: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(head)
        .chain_update(line.as_bytes())
        .finalize()
        .into()
}

/// What a journal says, folded line by line: the station rebuilds its state
/// from it, and `acta journal verify` holds it against the acta.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub lines: usize,
    /// Head after the last line.
    pub head: [u8; 32],
    /// When the table opened, and the head after the open line.
    pub opened: Option<(u64, [u8; 32])>,
    /// When the table closed, and the head after the close line.
    pub closed: Option<(u64, [u8; 32])>,
    /// Authentications (each a different voter, by the station's poll book).
    pub authenticated: u32,
    /// Of which with an override code.
    pub overrides: u32,
    /// Ballots cast.
    pub ballots: u32,
    /// Alarm counts in [`ALARMS`] order.
    pub alarms: [u32; 8],
    /// An authenticated voter has not yet cast a ballot or left.
    pub waiting: bool,
    /// Latest time seen.
    pub last_time: u64,
    /// Time of the latest ballot.
    pub last_ballot: Option<u64>,
    /// Latest transmission line per report (zero, acta).
    pub transmitted: [Option<Transmission>; 2],
    /// Counts as of the close line (what the acta must say).
    pub at_close: Option<Box<Summary>>,
}

impl Summary {
    /// Folds one parsed line whose text is `text`.
    pub fn apply(&mut self, line: &Line, text: &str) {
        self.lines += 1;
        self.head = chain(self.head, text);
        self.last_time = self.last_time.max(line.at);
        match &line.event {
            Event::Open { .. } => self.opened = Some((line.at, self.head)),
            Event::Authenticated(o) => {
                self.authenticated += 1;
                self.overrides += u32::from(*o);
                self.waiting = true;
            }
            Event::Refused(_) => {}
            Event::Ballot => {
                self.ballots += 1;
                self.waiting = false;
                self.last_ballot = Some(line.at);
            }
            Event::LeftWithoutVoting => self.waiting = false,
            Event::Alarm(a, _) => self.alarms[a.index()] += 1,
            Event::Close(_) => {
                self.waiting = false;
                self.closed = Some((line.at, self.head));
                let mut snapshot = self.clone();
                snapshot.at_close = None;
                self.at_close = Some(Box::new(snapshot));
            }
            Event::Transmit(r, x) => {
                self.transmitted[matches!(r, Report::Acta) as usize] = Some(x.clone())
            }
        }
    }
}

/// Parses a whole journal (every line ending in `\n`) and folds it.
pub fn read(text: &str) -> Result<(Vec<Line>, Summary), Error> {
    let mut lines = Vec::new();
    let mut s = Summary::default();
    if text.is_empty() {
        return Ok((lines, s));
    }
    let body = text.strip_suffix('\n').ok_or_else(|| {
        syntax(
            text.lines().count(),
            "the last line does not end in a newline",
        )
    })?;
    for (i, l) in body.split('\n').enumerate() {
        let line = Line::parse(l, i + 1)?;
        s.apply(&line, l);
        lines.push(line);
    }
    Ok((lines, s))
}

/// Holds a published journal against the signed zero report and acta it
/// belongs to: the heads they carry must be heads of this chain, at the open
/// and close lines, and every count on the acta must be what the journal
/// says. Returns the journal's summary.
pub fn verify(text: &str, zero: Option<&ZeroReport>, acta: &Acta) -> Result<Summary, Error> {
    let (_, s) = read(text)?;
    let mismatch = |m: String| Error::Package(format!("journal: {m}"));
    let (opened, open_head) = s.opened.ok_or_else(|| mismatch("no open line".into()))?;
    if let Some(z) = zero {
        if z.journal != open_head || z.opened != opened || z.table != acta.table {
            return Err(mismatch(
                "the zero report's journal head or opening time is not the head after the open line"
                    .into(),
            ));
        }
    }
    let (closed, close_head) = s
        .closed
        .ok_or_else(|| mismatch("no close line: the table never closed".into()))?;
    if close_head != acta.journal {
        return Err(mismatch(format!(
            "the acta's journal head {} is not the head after the close line ({})",
            hex::encode(acta.journal),
            hex::encode(close_head)
        )));
    }
    let c = s.at_close.as_deref().expect("set with closed");
    let pairs = [
        ("authenticated", c.authenticated, acta.authenticated),
        ("overrides", c.overrides, acta.overrides),
        ("ballots", c.ballots, acta.ballots),
    ];
    for (what, journal, on_acta) in pairs {
        if journal != on_acta {
            return Err(mismatch(format!(
                "{what}: journal {journal}, acta {on_acta}"
            )));
        }
    }
    for a in ALARMS {
        let (j, on) = (c.alarms[a.index()], acta.alarms[a.index()]);
        if j != on {
            return Err(mismatch(format!(
                "alarm {}: journal {j}, acta {on}",
                a.name()
            )));
        }
    }
    if opened != acta.opened || closed > acta.closed {
        return Err(mismatch(format!(
            "opened {} / closed {} in the journal, {} / {} on the acta",
            time::format(opened),
            time::format(closed),
            time::format(acta.opened),
            time::format(acta.closed)
        )));
    }
    Ok(s)
}
