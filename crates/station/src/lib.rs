//! The polling-table machine (SYSTEM.md §3–§7).
//!
//! A [`Station`] serves exactly one table with the key certified for it. It
//! opens with a signed zero report, authenticates each voter against the roll
//! once (a biometric mismatch needs a one-time override code, and every
//! override is counted), records one ballot per authenticated voter, keeps a
//! hash-chained journal of every event ([`acta_sheet::journal`]), raises
//! alarms it cannot suppress, and closes with a signed acta.
//!
//! **Secrecy.** Ballot records carry no time and no voter; on disk they sit
//! in slots drawn at random ([`store`]); the journal says that a ballot was
//! cast and nothing of what it holds, and names no voter (the voter ids are
//! in the private poll book). The acta commits to the records by the RFC 9162
//! root of their sorted hashes, which does not depend on the order of voting.
//!
//! **Durability.** A station made by [`Station::create`] writes every event
//! to its directory, fsynced, before the operation returns; there is no state
//! file. [`Station::load`] rebuilds everything from the journal, the poll
//! book and the ballot slots, finishes or drops the one operation a crash
//! may have cut, and raises the restart alarm after an unclean stop. A
//! station made by [`Station::provision`] keeps everything in memory (the
//! simulator's many tables).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod outbox;
pub mod serve;
mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use acta_election::{time, Contest, Election, Roll, Table};
use acta_note::Signer;
use acta_sheet::journal::{self, Event, Refusal, Report, Summary, Transmission};
use acta_sheet::{Acta, Alarm, ContestCount, ZeroReport};
use serde::{Deserialize, Serialize};
use store::{AppendLog, Slot, Slots};

/// Minimum seconds between two ballots below which the burst alarm fires:
/// nobody identifies, votes and confirms faster than this.
pub const BURST_SECONDS: u64 = 10;

/// Why the station refused an operation. Refusals never change the counts;
/// those that matter for integrity are also journaled and counted as alarms.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The table is not open (or already closed).
    #[error("the table is {0}")]
    Phase(&'static str),
    /// Outside the scheduled hours.
    #[error("outside the schedule ({opens} to {closes}): refused and journaled")]
    OutsideSchedule {
        /// Scheduled opening.
        opens: String,
        /// Scheduled closing.
        closes: String,
    },
    /// The voter id is not on this table's roll.
    #[error("voter {0} is not on this table's roll")]
    NotOnRoll(String),
    /// The voter already voted here.
    #[error("voter {0} has already been authenticated at this table")]
    AlreadyVoted(String),
    /// The biometric does not match and no override code was given.
    #[error("biometric does not match voter {0}: a one-time override code is required")]
    BiometricMismatch(String),
    /// The override code is unknown or used.
    #[error("override code is not valid for this table or was already used")]
    BadOverride,
    /// A ballot without an authenticated voter waiting, or a voter waiting.
    #[error("{0}")]
    Sequence(&'static str),
    /// The ballot does not match the table's contests.
    #[error("invalid ballot: {0}")]
    Ballot(String),
    /// Provisioning data does not match the election package.
    #[error("provisioning: {0}")]
    Provision(String),
    /// Reading or writing the station directory failed; after a failed write
    /// the station refuses everything until it is restarted.
    #[error("station storage: {0}")]
    Io(String),
}

/// What a voter marked in one contest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Mark {
    /// Nothing marked.
    Blank,
    /// Deliberately voided.
    Null,
    /// The choice codes marked (see `Contest::choices`).
    Choices(Vec<String>),
}

/// Where the table is in its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Phase {
    /// Provisioned, not opened.
    Ready,
    /// Open: voters are being authenticated and ballots cast.
    Open,
    /// Closed: the acta is final.
    Closed,
}

type Counts = BTreeMap<String, (BTreeMap<String, u32>, u32, u32)>;

#[derive(Debug)]
struct Disk {
    dir: PathBuf,
    journal: AppendLog,
    poll_book: AppendLog,
    poll_book_lines: Vec<u64>,
    slots: Slots,
    free: Vec<usize>,
}

/// One table's machine.
#[derive(Debug)]
pub struct Station {
    election_id: String,
    opens: u64,
    closes: u64,
    software: [u8; 32],
    override_alarm: u32,
    table: Table,
    ballot: Vec<Contest>,
    roll: Roll,
    key: Signer,
    summary: Summary,
    journal: Vec<String>,
    authenticated: BTreeSet<String>,
    templates: HashMap<[u8; 32], String>,
    used_codes: HashSet<[u8; 32]>,
    counts: Counts,
    records: Vec<String>,
    disk: Option<Disk>,
    failed: Option<String>,
    /// The clock's previous reading: a reading before it is a jump back.
    last_seen: u64,
    /// The acta as written to `acta.note` when the table closed.
    printed_acta: Option<String>,
}

fn random_below(n: usize) -> usize {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).expect("operating system RNG");
    (u64::from_le_bytes(b) % n as u64) as usize
}

fn zero_counts(ballot: &[Contest]) -> Counts {
    ballot
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                (c.choices().into_iter().map(|ch| (ch, 0)).collect(), 0, 0),
            )
        })
        .collect()
}

impl Station {
    /// Sets up the machine for its table, in memory: the key must be the one
    /// certified for the table, and the roll must be the one the package
    /// commits to.
    pub fn provision(
        election: &Election,
        table_id: &str,
        roll: Roll,
        key: Signer,
    ) -> Result<Station, Error> {
        let table = election
            .table(table_id)
            .ok_or_else(|| Error::Provision(format!("table {table_id} is not in the election")))?
            .clone();
        if key.verifier().to_string() != table.key {
            return Err(Error::Provision(format!(
                "this key is not the one certified for table {table_id} (machine {})",
                table.machine
            )));
        }
        if roll.hash() != table.roll || roll.table != table.id || roll.election != election.id {
            return Err(Error::Provision(format!(
                "the roll does not match the package's commitment for table {table_id}"
            )));
        }
        let ballot: Vec<Contest> = election.ballot(table_id).into_iter().cloned().collect();
        let software: [u8; 32] = hex::decode(&election.software)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| Error::Provision("bad software hash".into()))?;
        Ok(Station {
            election_id: election.id.clone(),
            opens: time::parse(&election.opens).expect("validated"),
            closes: time::parse(&election.closes).expect("validated"),
            software,
            override_alarm: election.override_alarm,
            counts: zero_counts(&ballot),
            table,
            ballot,
            roll,
            key,
            summary: Summary::default(),
            journal: Vec::new(),
            authenticated: BTreeSet::new(),
            templates: HashMap::new(),
            used_codes: HashSet::new(),
            records: Vec::new(),
            disk: None,
            failed: None,
            last_seen: 0,
            printed_acta: None,
        })
    }

    /// The table served.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The contests on this table's ballot.
    pub fn ballot(&self) -> &[Contest] {
        &self.ballot
    }

    /// The election id.
    pub fn election_id(&self) -> &str {
        &self.election_id
    }

    /// Scheduled opening and closing.
    pub fn schedule(&self) -> (u64, u64) {
        (self.opens, self.closes)
    }

    /// Where the table is in its day.
    pub fn phase(&self) -> Phase {
        match (self.summary.opened, self.summary.closed) {
            (None, _) => Phase::Ready,
            (Some(_), None) => Phase::Open,
            (Some(_), Some(_)) => Phase::Closed,
        }
    }

    /// An authenticated voter may cast a ballot now.
    pub fn voter_waiting(&self) -> bool {
        self.summary.waiting
    }

    /// Ballots cast so far.
    pub fn ballots(&self) -> u32 {
        self.summary.ballots
    }

    /// Voters authenticated so far, and of them with an override code.
    pub fn authenticated(&self) -> (u32, u32) {
        (self.summary.authenticated, self.summary.overrides)
    }

    /// Alarm counts so far.
    pub fn alarms(&self) -> [u32; 8] {
        self.summary.alarms
    }

    /// The journal lines so far.
    pub fn journal(&self) -> &[String] {
        &self.journal
    }

    /// The journal as published: every line followed by a newline.
    pub fn journal_text(&self) -> String {
        let mut s = String::new();
        for l in &self.journal {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// The latest transmission line for the zero report and the acta.
    pub fn transmission(&self, report: Report) -> Option<&Transmission> {
        self.summary.transmitted[matches!(report, Report::Acta) as usize].as_ref()
    }

    /// The directory of a station made by [`Station::create`].
    pub fn dir(&self) -> Option<&Path> {
        self.disk.as_ref().map(|d| d.dir.as_path())
    }

    /// Appends an event to the journal (and, for a station on disk, to
    /// `journal.log`, fsynced) before anything else may depend on it.
    fn log(&mut self, now: u64, event: Event) -> Result<(), Error> {
        if let Some(why) = &self.failed {
            return Err(Error::Io(format!(
                "an earlier write failed ({why}); restart the station"
            )));
        }
        // Every line written must be one this station will read back: the
        // details are cleaned and the time clamped to the format's range.
        let event = match event {
            Event::Alarm(a, d) if !d.is_empty() => Event::Alarm(a, journal::clean_detail(&d)),
            Event::Transmit(r, Transmission::Failed(d)) => {
                Event::Transmit(r, Transmission::Failed(journal::clean_detail(&d)))
            }
            e => e,
        };
        let line = journal::Line {
            at: now.min(journal::LAST_TIME),
            event,
        };
        let text = line.to_text();
        if let Err(e) = journal::Line::parse(&text, self.journal.len() + 1) {
            return Err(Error::Io(format!("refusing to journal {text:?}: {e}")));
        }
        if let Some(d) = &mut self.disk {
            if let Err(e) = d.journal.append(&text) {
                self.failed = Some(e.to_string());
                return Err(e);
            }
        }
        self.summary.apply(&line, &text);
        self.journal.push(text);
        Ok(())
    }

    fn alarm(&mut self, now: u64, a: Alarm, detail: &str) -> Result<(), Error> {
        self.log(now, Event::Alarm(a, detail.to_string()))
    }

    /// Observes the clock: a clock that goes backwards raises an alarm.
    /// One jump back is one alarm: the reading after it is compared with
    /// the jumped clock, not with the time before the jump.
    fn tick(&mut self, now: u64) -> Result<(), Error> {
        if let Some(why) = &self.failed {
            return Err(Error::Io(format!(
                "an earlier write failed ({why}); restart the station"
            )));
        }
        let before = self.last_seen;
        self.last_seen = now;
        if now < before {
            let detail = format!(
                "from {} back to {}",
                time::format(before),
                time::format(now)
            );
            self.alarm(now, Alarm::ClockJump, &detail)?;
        }
        Ok(())
    }

    /// Records a clock jump that the caller saw (the wall clock moved away
    /// from the monotonic clock): raises the clock-jump alarm.
    pub fn clock_jumped(&mut self, now: u64, detail: &str) -> Result<(), Error> {
        self.alarm(now, Alarm::ClockJump, detail)
    }

    fn in_schedule(&mut self, now: u64, what: &str) -> Result<(), Error> {
        if now < self.opens || now > self.closes {
            self.alarm(now, Alarm::OutsideSchedule, what)?;
            return Err(Error::OutsideSchedule {
                opens: time::format(self.opens),
                closes: time::format(self.closes),
            });
        }
        Ok(())
    }

    fn require_open(&self) -> Result<(), Error> {
        match self.phase() {
            Phase::Open => Ok(()),
            Phase::Ready => Err(Error::Phase("not open yet")),
            Phase::Closed => Err(Error::Phase("closed")),
        }
    }

    /// Opens the table and returns the signed zero report. Opening before the
    /// scheduled time is refused.
    pub fn open(&mut self, now: u64) -> Result<String, Error> {
        self.tick(now)?;
        if self.phase() != Phase::Ready {
            return Err(Error::Phase("already open or closed"));
        }
        self.in_schedule(now, "open")?;
        self.log(
            now,
            Event::Open {
                table: self.table.id.clone(),
                machine: self.table.machine.clone(),
                registered: self.table.registered,
            },
        )?;
        let zero = self.zero_report().expect("just opened");
        if let Some(d) = &self.disk {
            store::write_atomic(&d.dir.join("zero.note"), zero.as_bytes())?;
        }
        Ok(zero)
    }

    /// The signed zero report, once the table is open. Ed25519 signatures are
    /// deterministic, so this is the same text every time.
    pub fn zero_report(&self) -> Option<String> {
        let (opened, head) = self.summary.opened?;
        let zero = ZeroReport {
            election: self.election_id.clone(),
            table: self.table.id.clone(),
            machine: self.table.machine.clone(),
            software: self.software,
            opened,
            registered: self.table.registered,
            contests: self.ballot.iter().map(|c| c.id.clone()).collect(),
            journal: head,
        };
        Some(acta_note::sign(&zero.to_text(), &[&self.key]).expect("valid text"))
    }

    /// Authenticates a voter by id and presented biometric template hash. A
    /// mismatch needs an unused one-time override code from the roll. Every
    /// refusal is journaled (without the voter's id) and says why.
    pub fn authenticate(
        &mut self,
        now: u64,
        voter: &str,
        template: [u8; 32],
        override_code: Option<&str>,
    ) -> Result<(), Error> {
        self.tick(now)?;
        self.require_open()?;
        self.in_schedule(now, "authenticate")?;
        if self.summary.waiting {
            return Err(Error::Sequence(
                "the previous voter has not cast a ballot yet",
            ));
        }
        let Some(enrolled) = self.roll.voter(voter).map(|v| v.template) else {
            self.log(now, Event::Refused(Refusal::NotOnRoll))?;
            return Err(Error::NotOnRoll(voter.to_string()));
        };
        if self.authenticated.contains(voter) {
            self.log(now, Event::Refused(Refusal::AlreadyVoted))?;
            return Err(Error::AlreadyVoted(voter.to_string()));
        }
        // Raised whether or not the authentication then succeeds.
        if self
            .templates
            .get(&template)
            .is_some_and(|other| other != voter)
        {
            self.alarm(
                now,
                Alarm::RepeatedTemplate,
                "a template already presented for another voter id",
            )?;
        }
        let mut code_hash = None;
        if template != enrolled {
            let Some(code) = override_code else {
                self.log(now, Event::Refused(Refusal::NoMatch))?;
                return Err(Error::BiometricMismatch(voter.to_string()));
            };
            let h = acta_election::override_code_hash(code);
            if !self.roll.override_codes.contains(&h) || self.used_codes.contains(&h) {
                self.log(now, Event::Refused(Refusal::BadOverride))?;
                return Err(Error::BadOverride);
            }
            code_hash = Some(h);
        }
        // The alarm goes first: a cut between it and the authentication
        // leaves one alarm too many, never one too few.
        if code_hash.is_some() && self.summary.overrides + 1 > self.override_alarm {
            let detail = format!(
                "{} overrides, threshold {}",
                self.summary.overrides + 1,
                self.override_alarm
            );
            self.alarm(now, Alarm::Overrides, &detail)?;
        }
        // Durable: the poll book first, then the journal line that confirms it.
        if let Some(d) = &mut self.disk {
            let line = format!(
                "{voter} {} {}",
                hex::encode(template),
                code_hash.map_or("-".to_string(), hex::encode)
            );
            let before = d.poll_book_lines.last().copied().unwrap_or(0);
            if let Err(e) = d.poll_book.append(&line) {
                self.failed = Some(e.to_string());
                return Err(e);
            }
            d.poll_book_lines.push(before + line.len() as u64 + 1);
        }
        self.log(now, Event::Authenticated(code_hash.is_some()))?;
        self.authenticated.insert(voter.to_string());
        self.templates.insert(template, voter.to_string());
        if let Some(h) = code_hash {
            self.used_codes.insert(h);
        }
        Ok(())
    }

    /// Checks the marks against this table's ballot and writes the ballot
    /// record: `ballot/v1`, then one line per contest in ballot order.
    pub fn record(&self, marks: &[Mark]) -> Result<String, Error> {
        write_record(&self.ballot, marks)
    }

    /// Records the ballot of the authenticated voter and returns the ballot
    /// record printed on the receipt. `marks` follows [`Station::ballot`]
    /// order. On a station on disk the record is in its slot and the journal
    /// line written, both fsynced, before this returns.
    pub fn cast(&mut self, now: u64, marks: &[Mark]) -> Result<String, Error> {
        self.tick(now)?;
        self.require_open()?;
        self.in_schedule(now, "cast")?;
        if !self.summary.waiting {
            self.alarm(
                now,
                Alarm::BallotsExceedAuthenticated,
                "ballot attempted without an authenticated voter",
            )?;
            return Err(Error::Sequence("no authenticated voter is waiting to vote"));
        }
        let record = self.record(marks)?;
        let previous = self.summary.last_ballot;
        // The alarm goes before the ballot, so a cut cannot lose it.
        if let Some(prev) = previous {
            if now.saturating_sub(prev) < BURST_SECONDS {
                let detail = format!("{}s after the previous ballot", now.saturating_sub(prev));
                self.alarm(now, Alarm::Burst, &detail)?;
            }
        }
        if let Some(d) = &mut self.disk {
            if d.free.is_empty() {
                return Err(Error::Ballot("no empty ballot slot is left".into()));
            }
            let slot = d.free.swap_remove(random_below(d.free.len()));
            if let Err(e) = d.slots.write(slot, Some(&record)) {
                self.failed = Some(e.to_string());
                return Err(e);
            }
        }
        self.log(now, Event::Ballot)?;
        count(&mut self.counts, &record);
        let at = random_below(self.records.len() + 1);
        self.records.insert(at, record.clone());
        Ok(record)
    }

    /// Lets an authenticated voter leave without voting (the voter changed their mind).
    pub fn abandon(&mut self, now: u64) -> Result<(), Error> {
        self.tick(now)?;
        self.require_open()?;
        if !self.summary.waiting {
            return Err(Error::Sequence("no authenticated voter is waiting"));
        }
        self.log(now, Event::LeftWithoutVoting)
    }

    /// The RFC 9162 root over the ballot records' leaf hashes, sorted, so it
    /// does not depend on the order of voting or of storage.
    pub fn records_root(&self) -> [u8; 32] {
        let mut leaves: Vec<[u8; 32]> = self
            .records
            .iter()
            .map(|r| acta_tlog::leaf_hash(r.as_bytes()))
            .collect();
        leaves.sort();
        acta_tlog::root_of(&leaves)
    }

    /// The stored ballot records (random order).
    pub fn records(&self) -> &[String] {
        &self.records
    }

    /// Closes the table and returns the signed acta. Closing before the
    /// scheduled time is allowed (everyone on the roll may have voted) but
    /// raises the outside-schedule alarm.
    pub fn close(&mut self, now: u64) -> Result<String, Error> {
        self.tick(now)?;
        self.require_open()?;
        if self.summary.waiting {
            self.abandon(now)?;
        }
        if now < self.closes {
            let detail = format!("closed before the scheduled {}", time::format(self.closes));
            self.alarm(now, Alarm::OutsideSchedule, &detail)?;
        }
        let opened = self.summary.opened.expect("open").0;
        let closed = now.max(opened + 1);
        self.log(closed, Event::Close(self.summary.ballots))?;
        let acta = self.signed_acta().expect("just closed");
        if let Some(d) = &self.disk {
            store::write_atomic(&d.dir.join("acta.note"), acta.as_bytes())?;
            self.printed_acta = Some(acta.clone());
        }
        Ok(acta)
    }

    /// The signed acta, once closed (the same bytes every time).
    pub fn signed_acta(&self) -> Option<String> {
        self.summary.closed?;
        // Once printed and sent, the acta is those bytes, whatever the disk
        // says later (a difference is a state-mismatch alarm at start).
        if let Some(a) = &self.printed_acta {
            return Some(a.clone());
        }
        Some(self.acta().sign(&self.key))
    }

    /// Journals a transmission event of the zero report or the acta.
    pub fn transmitted(
        &mut self,
        now: u64,
        report: Report,
        what: Transmission,
    ) -> Result<(), Error> {
        self.log(now, Event::Transmit(report, what))
    }

    /// The acta as of now (as of the close line once closed).
    pub fn acta(&self) -> Acta {
        let s = self.summary.at_close.as_deref().unwrap_or(&self.summary);
        let contests = self
            .counts
            .iter()
            .map(|(id, (votes, blank, null))| ContestCount {
                contest: id.clone(),
                votes: votes.iter().map(|(c, n)| (c.clone(), *n)).collect(),
                blank: *blank,
                null: *null,
            })
            .collect();
        Acta {
            election: self.election_id.clone(),
            table: self.table.id.clone(),
            machine: self.table.machine.clone(),
            opened: s.opened.map_or(self.opens, |o| o.0),
            closed: s.closed.map_or(s.last_time, |c| c.0),
            registered: self.table.registered,
            authenticated: s.authenticated,
            overrides: s.overrides,
            ballots: s.ballots,
            contests,
            records: self.records_root(),
            journal: s.closed.map_or(s.head, |c| c.1),
            alarms: s.alarms,
        }
    }

    /// Creates a station directory with everything the machine needs, and
    /// returns the station running on it.
    pub fn create(
        dir: &Path,
        package: &[u8],
        trust: &str,
        roll: &Roll,
        key: &Signer,
        table_id: &str,
    ) -> Result<Station, Error> {
        let t = acta_election::Trust::parse(trust).map_err(|e| Error::Provision(e.to_string()))?;
        let election = Election::open(package, &t).map_err(|e| Error::Provision(e.to_string()))?;
        let s = Station::provision(&election, table_id, roll.clone(), key.clone())?;
        std::fs::create_dir_all(dir).map_err(|e| store::io(dir, e))?;
        if dir.join(store::JOURNAL).exists() {
            return Err(Error::Provision(format!(
                "{} already holds a station",
                dir.display()
            )));
        }
        store::write_atomic(&dir.join("package.note"), package)?;
        store::write_atomic(&dir.join("trust.txt"), trust.as_bytes())?;
        store::write_atomic(&dir.join("roll.txt"), roll.to_text().as_bytes())?;
        store::write_atomic(
            &dir.join("machine.key"),
            format!("{}\ntable {table_id}\n", key.to_private_key()).as_bytes(),
        )?;
        Slots::create(
            dir.join(store::SLOTS),
            s.table.registered.max(1) as usize,
            store::slot_size(&s.ballot),
        )?;
        drop(s);
        Station::load(dir, 0)
    }

    /// The station as provisioned in `dir`, before any event is read.
    fn provisioned(dir: &Path) -> Result<Station, Error> {
        let read =
            |name: &str| std::fs::read(dir.join(name)).map_err(|e| store::io(&dir.join(name), e));
        let text = |name: &str| {
            String::from_utf8(read(name)?).map_err(|_| Error::Io(format!("{name} is not UTF-8")))
        };
        let t = acta_election::Trust::parse(&text("trust.txt")?)
            .map_err(|e| Error::Provision(e.to_string()))?;
        let election = Election::open(&read("package.note")?, &t)
            .map_err(|e| Error::Provision(e.to_string()))?;
        let roll = Roll::parse(&text("roll.txt")?).map_err(|e| Error::Provision(e.to_string()))?;
        let keyfile = text("machine.key")?;
        let mut lines = keyfile.lines();
        let key = Signer::from_private_key(lines.next().unwrap_or(""))
            .map_err(|e| Error::Provision(e.to_string()))?;
        let table_id = lines
            .next()
            .and_then(|l| l.strip_prefix("table "))
            .ok_or_else(|| Error::Provision("machine.key lacks its table line".into()))?;
        Station::provision(&election, table_id, roll, key)
    }

    /// Reads a station directory without touching it — no recovery, no
    /// alarm, no marker — to export or inspect it, even while the station
    /// runs. The result keeps everything in memory.
    pub fn inspect(dir: &Path) -> Result<Station, Error> {
        let mut s = Station::provisioned(dir)?;
        let path = dir.join(store::JOURNAL);
        let text = std::fs::read_to_string(&path).map_err(|e| store::io(&path, e))?;
        let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        let (_, summary) =
            journal::read(whole).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        s.journal = whole.lines().map(str::to_string).collect();
        s.summary = summary;
        let path = dir.join(store::SLOTS);
        let bytes = std::fs::read(&path).map_err(|e| store::io(&path, e))?;
        let size = store::slot_size(&s.ballot);
        if bytes.len() % size != 0 {
            return Err(Error::Io(format!(
                "{}: {} bytes is not a whole number of {size}-byte slots",
                path.display(),
                bytes.len()
            )));
        }
        for slot in bytes.chunks(size) {
            if let Slot::Record(r) = store::decode(slot) {
                if recount(&s.ballot, &mut s.counts, &r).is_ok() {
                    s.records.push(r);
                }
            }
        }
        Ok(s)
    }

    /// Loads a station directory: re-verifies the package and provisioning,
    /// rebuilds the state from the journal, the poll book and the ballot
    /// slots, finishes or drops the one operation a crash may have cut, and
    /// raises the state-mismatch alarm for anything that does not add up and
    /// the restart alarm after an unclean stop while open. Nothing is
    /// repaired: the counts are what the ballot slots hold.
    pub fn load(dir: &Path, now: u64) -> Result<Station, Error> {
        let mut s = Station::provisioned(dir)?;
        let (journal_log, jtext) = AppendLog::open(dir.join(store::JOURNAL))?;
        journal_log.lock()?;
        let (_, summary) = journal::read(&jtext).map_err(|e| {
            Error::Io(format!(
                "{}: {e}: the journal was edited or corrupted; the station will not run on it",
                dir.join(store::JOURNAL).display()
            ))
        })?;
        s.journal = jtext.lines().map(str::to_string).collect();
        s.last_seen = summary.last_time;
        s.summary = summary;

        let mut mismatches = Vec::new();
        let (mut poll_book, ptext) = AppendLog::open(dir.join(store::POLL_BOOK))?;
        let mut ends = Vec::new();
        let mut entries = Vec::new();
        let mut end = 0u64;
        for line in ptext.lines() {
            end += line.len() as u64 + 1;
            ends.push(end);
            entries.push(line.to_string());
        }
        let journaled = s.summary.authenticated as usize;
        if entries.len() == journaled + 1 {
            // The last authentication never reached the journal: it never
            // returned, and the voter was not let through.
            entries.pop();
            ends.pop();
            poll_book.truncate(ends.last().copied().unwrap_or(0))?;
        } else if entries.len() != journaled {
            mismatches.push(format!(
                "the poll book holds {} authentications, the journal {journaled}",
                entries.len()
            ));
        }
        for e in &entries {
            let f: Vec<&str> = e.split(' ').collect();
            let parsed = match f.as_slice() {
                [voter, template, code] => hex::decode(template)
                    .ok()
                    .and_then(|v| <[u8; 32]>::try_from(v).ok())
                    .map(|t| (voter.to_string(), t, *code)),
                _ => None,
            };
            let Some((voter, template, code)) = parsed else {
                mismatches.push("a poll-book line is malformed".into());
                continue;
            };
            if let Some(h) = hex::decode(code)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
            {
                s.used_codes.insert(h);
            }
            s.templates.insert(template, voter.clone());
            if !s.authenticated.insert(voter) {
                mismatches.push("the poll book names one voter twice".into());
            }
        }

        let (mut slots, contents) =
            Slots::open(dir.join(store::SLOTS), store::slot_size(&s.ballot))?;
        let mut free = Vec::new();
        let mut torn = Vec::new();
        for (i, c) in contents.into_iter().enumerate() {
            match c {
                Slot::Empty => free.push(i),
                Slot::Torn => torn.push(i),
                Slot::Record(r) => s.records.push(r),
            }
        }
        let mut recovered_ballot = false;
        let journaled = s.summary.ballots as usize;
        if s.summary.waiting && torn.len() == 1 && s.records.len() == journaled {
            // A ballot whose slot write was cut: it was never confirmed.
            slots.write(torn[0], None)?;
            free.push(torn.pop().expect("one"));
        } else if s.summary.waiting && torn.is_empty() && s.records.len() == journaled + 1 {
            // The ballot reached its slot but not the journal: it was cast by
            // the voter who was waiting, so it counts and is journaled now.
            recovered_ballot = true;
        } else {
            if !torn.is_empty() {
                mismatches.push(format!("{} ballot slots are unreadable", torn.len()));
            }
            if s.records.len() != journaled {
                mismatches.push(format!(
                    "{} ballot records in the slots, {journaled} ballots in the journal",
                    s.records.len()
                ));
            }
        }
        for r in &s.records {
            if let Err(m) = recount(&s.ballot, &mut s.counts, r) {
                mismatches.push(m);
            }
        }
        s.disk = Some(Disk {
            dir: dir.to_path_buf(),
            journal: journal_log,
            poll_book,
            poll_book_lines: ends,
            slots,
            free,
        });
        let was_running = dir.join(store::IN_USE).exists();
        store::write_atomic(&dir.join(store::IN_USE), b"running\n")?;
        s.tick(now)?;
        if recovered_ballot {
            s.log(now, Event::Ballot)?;
        }
        for m in mismatches {
            s.alarm(now, Alarm::StateMismatch, &m)?;
        }
        if was_running && s.phase() == Phase::Open {
            s.alarm(now, Alarm::Restart, "resumed after an unclean stop")?;
        }
        // Alarms the journal implies must be in it (an older write order, or
        // lines removed by hand).
        if s.summary.overrides > s.override_alarm && s.summary.alarms[Alarm::Overrides.index()] == 0
        {
            let detail = format!(
                "{} overrides, threshold {}, found at start",
                s.summary.overrides, s.override_alarm
            );
            s.alarm(now, Alarm::Overrides, &detail)?;
        }
        // What was printed and sent must still be what the disk rebuilds.
        for (name, rebuilt) in [
            ("zero.note", s.zero_report()),
            ("acta.note", s.signed_acta()),
        ] {
            let stored = std::fs::read_to_string(dir.join(name)).ok();
            if let (Some(stored), Some(rebuilt)) = (&stored, &rebuilt) {
                if stored != rebuilt {
                    s.alarm(
                        now,
                        Alarm::StateMismatch,
                        &format!("{name} differs from what the journal and the ballots rebuild"),
                    )?;
                }
            }
            if name == "acta.note" {
                s.printed_acta = stored;
            }
        }
        Ok(s)
    }

    /// Stops cleanly: the next load raises no restart alarm.
    pub fn stop(self) -> Result<(), Error> {
        if let Some(d) = &self.disk {
            let p = d.dir.join(store::IN_USE);
            std::fs::remove_file(&p).map_err(|e| store::io(&p, e))?;
        }
        Ok(())
    }
}

/// Adds a record written by [`Station::record`] to the counts.
fn count(counts: &mut Counts, record: &str) {
    for line in record.lines().skip(1) {
        let (contest, mark) = line.split_once(' ').expect("own record");
        let entry = counts.get_mut(contest).expect("own record");
        match mark {
            "blank" => entry.1 += 1,
            "null" => entry.2 += 1,
            choices => {
                for c in choices.split(',') {
                    *entry.0.get_mut(c).expect("own record") += 1;
                }
            }
        }
    }
}

/// The ballot record for `marks` on `ballot`: the one canonical writer.
fn write_record(ballot: &[Contest], marks: &[Mark]) -> Result<String, Error> {
    if marks.len() != ballot.len() {
        return Err(Error::Ballot(format!(
            "{} contests on this ballot, {} marked",
            ballot.len(),
            marks.len()
        )));
    }
    let mut record = String::from("ballot/v1\n");
    for (contest, mark) in ballot.iter().zip(marks) {
        match mark {
            Mark::Blank => record.push_str(&format!("{} blank\n", contest.id)),
            Mark::Null => record.push_str(&format!("{} null\n", contest.id)),
            Mark::Choices(cs) => {
                let valid = contest.choices();
                let mut cs = cs.clone();
                cs.sort();
                cs.dedup();
                if cs.is_empty() || cs.len() > contest.max_marks() as usize {
                    return Err(Error::Ballot(format!(
                        "contest {}: mark 1 to {} choices",
                        contest.id,
                        contest.max_marks()
                    )));
                }
                if let Some(bad) = cs.iter().find(|c| !valid.contains(c)) {
                    return Err(Error::Ballot(format!(
                        "contest {}: no choice {bad}",
                        contest.id
                    )));
                }
                let candidates: HashSet<&str> =
                    cs.iter().map(|c| acta_election::candidate_of(c)).collect();
                if candidates.len() != cs.len() {
                    return Err(Error::Ballot(format!(
                        "contest {}: one candidate marked on two cards",
                        contest.id
                    )));
                }
                record.push_str(&format!("{} {}\n", contest.id, cs.join(",")));
            }
        }
    }
    Ok(record)
}

/// Adds a record read back from disk, refusing anything but what the
/// canonical writer makes for this ballot (so one record is one ballot:
/// no repeated choice, no more marks than allowed, no other spelling).
fn recount(ballot: &[Contest], counts: &mut Counts, record: &str) -> Result<(), String> {
    let refused = || "a ballot record is not one this ballot's writer makes".to_string();
    let mut lines = record.strip_suffix('\n').ok_or_else(refused)?.split('\n');
    if lines.next() != Some("ballot/v1") {
        return Err(refused());
    }
    let marks: Vec<Mark> = lines
        .zip(ballot)
        .map(|(line, c)| match line.strip_prefix(&format!("{} ", c.id)) {
            Some("blank") => Mark::Blank,
            Some("null") => Mark::Null,
            Some(list) => Mark::Choices(list.split(',').map(str::to_string).collect()),
            None => Mark::Choices(Vec::new()),
        })
        .collect();
    match write_record(ballot, &marks) {
        Ok(canonical) if canonical == record => {
            count(counts, record);
            Ok(())
        }
        _ => Err(refused()),
    }
}
