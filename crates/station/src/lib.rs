//! The polling-table machine (SYSTEM.md §3–§6).
//!
//! A [`Station`] serves exactly one table with the key certified for it. It
//! opens with a signed zero report, authenticates each voter against the roll
//! once (a biometric mismatch needs a one-time override code, and every
//! override is counted), records one ballot per authenticated voter, keeps a
//! hash-chained journal of every event, raises alarms it cannot suppress, and
//! closes with a signed acta.
//!
//! Ballot records carry no time and no voter, and are stored in random order,
//! so neither the storage nor the journal links a ballot to a voter. The
//! acta commits to them by the RFC 9162 root of their sorted hashes, which does
//! not depend on the order of voting.
//!
//! State lives in a directory (see [`Station::save`]) so a station process can
//! stop and resume; a resume after an unclean stop raises the restart alarm.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use acta_election::{time, Contest, Election, Roll, Table};
use acta_note::Signer;
use acta_sheet::{Acta, Alarm, ContestCount, ZeroReport};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// The biometric does not match and no valid override code was given.
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
    /// Reading or writing the station directory failed.
    #[error("station directory: {0}")]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    Ready,
    Open,
    Closed,
}

/// Everything that changes while the table runs; saved as `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    phase: Phase,
    opened: Option<u64>,
    closed: Option<u64>,
    last_time: u64,
    last_ballot: Option<u64>,
    authenticated: Vec<String>,
    templates: HashMap<String, String>,
    used_codes: Vec<String>,
    overrides: u32,
    waiting: bool,
    ballots: u32,
    counts: BTreeMap<String, (BTreeMap<String, u32>, u32, u32)>,
    records: Vec<String>,
    journal: Vec<String>,
    journal_head: String,
    alarms: [u32; 8],
    clean: bool,
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
    state: State,
}

fn random_below(n: usize) -> usize {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).expect("operating system RNG");
    (u64::from_le_bytes(b) % n as u64) as usize
}

impl Station {
    /// Sets up the machine for its table: the key must be the one certified for
    /// the table, and the roll must be the one the package commits to.
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
        let counts = ballot
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    (c.choices().into_iter().map(|ch| (ch, 0)).collect(), 0, 0),
                )
            })
            .collect();
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
            table,
            ballot,
            roll,
            key,
            state: State {
                phase: Phase::Ready,
                opened: None,
                closed: None,
                last_time: 0,
                last_ballot: None,
                authenticated: Vec::new(),
                templates: HashMap::new(),
                used_codes: Vec::new(),
                overrides: 0,
                waiting: false,
                ballots: 0,
                counts,
                records: Vec::new(),
                journal: Vec::new(),
                journal_head: hex::encode([0u8; 32]),
                alarms: [0; 8],
                clean: true,
            },
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

    /// Ballots cast so far.
    pub fn ballots(&self) -> u32 {
        self.state.ballots
    }

    /// Alarm counts so far.
    pub fn alarms(&self) -> [u32; 8] {
        self.state.alarms
    }

    /// The journal lines so far.
    pub fn journal(&self) -> &[String] {
        &self.state.journal
    }

    /// Appends an event to the hash-chained journal: head' = SHA-256(head ‖ line).
    fn log(&mut self, now: u64, event: &str) {
        let line = format!("{} {event}", time::format(now));
        let prev = hex::decode(&self.state.journal_head).expect("own hex");
        let head = Sha256::new()
            .chain_update(prev)
            .chain_update(line.as_bytes())
            .finalize();
        self.state.journal_head = hex::encode(head);
        self.state.journal.push(line);
    }

    fn alarm(&mut self, now: u64, a: Alarm, detail: &str) {
        self.state.alarms[a.index()] += 1;
        self.log(now, &format!("alarm {} {detail}", a.name()));
    }

    /// Observes the clock: a clock that goes backwards raises an alarm.
    fn tick(&mut self, now: u64) {
        if now < self.state.last_time {
            let detail = format!(
                "from {} back to {}",
                time::format(self.state.last_time),
                time::format(now)
            );
            self.alarm(now, Alarm::ClockJump, &detail);
        }
        self.state.last_time = self.state.last_time.max(now);
    }

    fn in_schedule(&mut self, now: u64, what: &str) -> Result<(), Error> {
        if now < self.opens || now > self.closes {
            self.alarm(now, Alarm::OutsideSchedule, what);
            return Err(Error::OutsideSchedule {
                opens: time::format(self.opens),
                closes: time::format(self.closes),
            });
        }
        Ok(())
    }

    /// Opens the table and returns the signed zero report. Opening before the
    /// scheduled time is refused.
    pub fn open(&mut self, now: u64) -> Result<String, Error> {
        self.tick(now);
        if self.state.phase != Phase::Ready {
            return Err(Error::Phase("already open or closed"));
        }
        self.in_schedule(now, "open")?;
        self.state.phase = Phase::Open;
        self.state.opened = Some(now);
        self.log(
            now,
            &format!(
                "open table {} machine {} registered {}",
                self.table.id, self.table.machine, self.table.registered
            ),
        );
        let zero = ZeroReport {
            election: self.election_id.clone(),
            table: self.table.id.clone(),
            machine: self.table.machine.clone(),
            software: self.software,
            opened: now,
            registered: self.table.registered,
            contests: self.ballot.iter().map(|c| c.id.clone()).collect(),
            journal: self.head(),
        };
        Ok(acta_note::sign(&zero.to_text(), &[&self.key]).expect("valid text"))
    }

    fn head(&self) -> [u8; 32] {
        hex::decode(&self.state.journal_head)
            .expect("own hex")
            .try_into()
            .expect("32 bytes")
    }

    fn require_open(&self) -> Result<(), Error> {
        match self.state.phase {
            Phase::Open => Ok(()),
            Phase::Ready => Err(Error::Phase("not open yet")),
            Phase::Closed => Err(Error::Phase("closed")),
        }
    }

    /// Authenticates a voter by id and presented biometric template hash. A
    /// mismatch needs an unused one-time override code from the roll.
    pub fn authenticate(
        &mut self,
        now: u64,
        voter: &str,
        template: [u8; 32],
        override_code: Option<&str>,
    ) -> Result<(), Error> {
        self.tick(now);
        self.require_open()?;
        self.in_schedule(now, "authenticate")?;
        if self.state.waiting {
            return Err(Error::Sequence(
                "the previous voter has not cast a ballot yet",
            ));
        }
        let enrolled = self
            .roll
            .voter(voter)
            .ok_or_else(|| Error::NotOnRoll(voter.to_string()))?
            .template;
        if self
            .state
            .authenticated
            .binary_search_by(|v| v.as_str().cmp(voter))
            .is_ok()
        {
            self.log(now, &format!("refused {voter} already-voted"));
            return Err(Error::AlreadyVoted(voter.to_string()));
        }
        let presented = hex::encode(template);
        if let Some(other) = self.state.templates.get(&presented).cloned() {
            if other != voter {
                self.alarm(
                    now,
                    Alarm::RepeatedTemplate,
                    &format!("{voter} presented the template of {other}"),
                );
            }
        }
        let mut overridden = false;
        if template != enrolled {
            let code = override_code.ok_or_else(|| Error::BiometricMismatch(voter.to_string()))?;
            let h = hex::encode(acta_election::override_code_hash(code));
            let known = self.roll.override_codes.iter().any(|c| hex::encode(c) == h);
            if !known || self.state.used_codes.contains(&h) {
                self.log(now, &format!("refused {voter} bad-override"));
                return Err(Error::BadOverride);
            }
            self.state.used_codes.push(h);
            self.state.overrides += 1;
            overridden = true;
        }
        let pos = self
            .state
            .authenticated
            .binary_search_by(|v| v.as_str().cmp(voter))
            .unwrap_err();
        self.state.authenticated.insert(pos, voter.to_string());
        self.state.templates.insert(presented, voter.to_string());
        self.state.waiting = true;
        self.log(
            now,
            &format!(
                "authenticated {voter}{}",
                if overridden { " override" } else { "" }
            ),
        );
        if overridden && self.state.overrides > self.override_alarm {
            let detail = format!(
                "{} overrides, threshold {}",
                self.state.overrides, self.override_alarm
            );
            self.alarm(now, Alarm::Overrides, &detail);
        }
        Ok(())
    }

    /// Records the ballot of the authenticated voter and returns the ballot
    /// record printed on the receipt. `marks` follows [`Station::ballot`] order.
    pub fn cast(&mut self, now: u64, marks: &[Mark]) -> Result<String, Error> {
        self.tick(now);
        self.require_open()?;
        self.in_schedule(now, "cast")?;
        if !self.state.waiting {
            self.alarm(
                now,
                Alarm::BallotsExceedAuthenticated,
                "ballot attempted without an authenticated voter",
            );
            return Err(Error::Sequence("no authenticated voter is waiting to vote"));
        }
        if marks.len() != self.ballot.len() {
            return Err(Error::Ballot(format!(
                "{} contests on this ballot, {} marked",
                self.ballot.len(),
                marks.len()
            )));
        }
        let mut record = String::from("ballot/v1\n");
        for (contest, mark) in self.ballot.iter().zip(marks) {
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
                    let candidates: Vec<&str> = cs
                        .iter()
                        .map(|c| c.split('/').next().unwrap_or(c))
                        .collect();
                    if candidates
                        .iter()
                        .collect::<std::collections::HashSet<_>>()
                        .len()
                        != candidates.len()
                    {
                        return Err(Error::Ballot(format!(
                            "contest {}: one candidate marked on two cards",
                            contest.id
                        )));
                    }
                    record.push_str(&format!("{} {}\n", contest.id, cs.join(",")));
                }
            }
        }
        // All checks passed: now count.
        for (contest, mark) in self.ballot.iter().zip(marks) {
            let entry = self
                .state
                .counts
                .get_mut(&contest.id)
                .expect("every contest counted");
            match mark {
                Mark::Blank => entry.1 += 1,
                Mark::Null => entry.2 += 1,
                Mark::Choices(cs) => {
                    let mut cs = cs.clone();
                    cs.sort();
                    cs.dedup();
                    for c in cs {
                        *entry.0.get_mut(&c).expect("validated") += 1;
                    }
                }
            }
        }
        if let Some(prev) = self.state.last_ballot {
            if now.saturating_sub(prev) < BURST_SECONDS {
                self.alarm(
                    now,
                    Alarm::Burst,
                    &format!("{}s after the previous ballot", now.saturating_sub(prev)),
                );
            }
        }
        self.state.last_ballot = Some(now);
        self.state.waiting = false;
        self.state.ballots += 1;
        let at = random_below(self.state.records.len() + 1);
        self.state.records.insert(at, record.clone());
        self.log(now, "ballot");
        Ok(record)
    }

    /// Lets an authenticated voter leave without voting (the voter changed their mind).
    pub fn abandon(&mut self, now: u64) -> Result<(), Error> {
        self.tick(now);
        self.require_open()?;
        if !self.state.waiting {
            return Err(Error::Sequence("no authenticated voter is waiting"));
        }
        self.state.waiting = false;
        self.log(now, "left-without-voting");
        Ok(())
    }

    /// The RFC 9162 root over the ballot records' leaf hashes, sorted, so it
    /// does not depend on the order of voting or of storage.
    pub fn records_root(&self) -> [u8; 32] {
        let mut leaves: Vec<[u8; 32]> = self
            .state
            .records
            .iter()
            .map(|r| acta_tlog::leaf_hash(r.as_bytes()))
            .collect();
        leaves.sort();
        acta_tlog::root_of(&leaves)
    }

    /// The stored ballot records (random order).
    pub fn records(&self) -> &[String] {
        &self.state.records
    }

    /// Closes the table and returns the signed acta.
    pub fn close(&mut self, now: u64) -> Result<String, Error> {
        self.tick(now);
        self.require_open()?;
        if self.state.waiting {
            self.abandon(now)?;
        }
        self.state.phase = Phase::Closed;
        self.state.closed = Some(now.max(self.state.opened.unwrap_or(0) + 1));
        self.log(now, &format!("close ballots {}", self.state.ballots));
        Ok(self.acta().sign(&self.key))
    }

    /// The acta as of now (the counts are final once closed).
    pub fn acta(&self) -> Acta {
        let contests = self
            .state
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
            opened: self.state.opened.unwrap_or(self.opens),
            closed: self.state.closed.unwrap_or(self.state.last_time),
            registered: self.table.registered,
            authenticated: self.state.authenticated.len() as u32,
            overrides: self.state.overrides,
            ballots: self.state.ballots,
            contests,
            records: self.records_root(),
            journal: self.head(),
            alarms: self.state.alarms,
        }
    }

    /// Saves to `dir` atomically: `package.note`, `roll.txt`, `machine.key`,
    /// `trust.txt` are written by [`Station::create`]; this writes `state.json`
    /// and `journal.log`.
    pub fn save(&mut self, dir: &Path, clean: bool) -> Result<(), Error> {
        self.state.clean = clean;
        let json = serde_json::to_vec(&self.state).map_err(|e| Error::Io(e.to_string()))?;
        write_atomic(&dir.join("state.json"), &json)?;
        write_atomic(
            &dir.join("journal.log"),
            (self.state.journal.join("\n") + "\n").as_bytes(),
        )
    }

    /// Creates a station directory with everything the machine needs.
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
        let mut s = Station::provision(&election, table_id, roll.clone(), key.clone())?;
        std::fs::create_dir_all(dir).map_err(|e| Error::Io(format!("{}: {e}", dir.display())))?;
        write_atomic(&dir.join("package.note"), package)?;
        write_atomic(&dir.join("trust.txt"), trust.as_bytes())?;
        write_atomic(&dir.join("roll.txt"), roll.to_text().as_bytes())?;
        write_atomic(
            &dir.join("machine.key"),
            format!("{}\ntable {table_id}\n", key.to_private_key()).as_bytes(),
        )?;
        s.save(dir, true)?;
        Ok(s)
    }

    /// Loads a station directory, re-verifying the package and provisioning.
    /// The state is immediately re-saved as "in use": if the process dies
    /// before [`Station::save`] with `clean = true`, the next load raises the
    /// restart alarm.
    pub fn load(dir: &Path, now: u64) -> Result<Station, Error> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| Error::Io(format!("{}: {e}", dir.join(name).display())))
        };
        let package = read("package.note")?;
        let trust = String::from_utf8(read("trust.txt")?).map_err(|e| Error::Io(e.to_string()))?;
        let t = acta_election::Trust::parse(&trust).map_err(|e| Error::Provision(e.to_string()))?;
        let election = Election::open(&package, &t).map_err(|e| Error::Provision(e.to_string()))?;
        let roll = Roll::parse(
            &String::from_utf8(read("roll.txt")?).map_err(|e| Error::Io(e.to_string()))?,
        )
        .map_err(|e| Error::Provision(e.to_string()))?;
        let keyfile =
            String::from_utf8(read("machine.key")?).map_err(|e| Error::Io(e.to_string()))?;
        let mut lines = keyfile.lines();
        let key = Signer::from_private_key(lines.next().unwrap_or(""))
            .map_err(|e| Error::Provision(e.to_string()))?;
        let table_id = lines
            .next()
            .and_then(|l| l.strip_prefix("table "))
            .ok_or_else(|| Error::Provision("machine.key lacks its table line".into()))?;
        let mut s = Station::provision(&election, table_id, roll, key)?;
        s.state = serde_json::from_slice(&read("state.json")?)
            .map_err(|e| Error::Io(format!("state.json: {e}")))?;
        let journal_file = std::fs::read_to_string(dir.join("journal.log")).ok();
        let mismatches = s.audit_state(journal_file.as_deref());
        if !mismatches.is_empty() && s.state.phase != Phase::Ready {
            s.tick(now);
            for m in mismatches {
                s.alarm(now, Alarm::StateMismatch, &m);
            }
        }
        if !s.state.clean && s.state.phase == Phase::Open {
            s.tick(now);
            s.alarm(now, Alarm::Restart, "resumed after an unclean stop");
        }
        s.save(dir, false)?;
        Ok(s)
    }
}

impl Station {
    /// Re-derives what the stored state claims from what it rests on: every
    /// count from the ballot records, the journal head from the journal
    /// lines, the journal file from the journal. Returns one line per
    /// mismatch. Nothing is repaired: the caller raises the state-mismatch
    /// alarm, which goes on the acta, and the counts stay as stored so that
    /// the acta shows what the machine was made to hold.
    fn audit_state(&self, journal_file: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let mut counts: BTreeMap<String, (BTreeMap<String, u32>, u32, u32)> = self
            .ballot
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    (c.choices().into_iter().map(|ch| (ch, 0)).collect(), 0, 0),
                )
            })
            .collect();
        for record in &self.state.records {
            let mut lines = record.lines();
            if lines.next() != Some("ballot/v1") {
                out.push("a ballot record is not ballot/v1".into());
                continue;
            }
            for line in lines {
                let Some((contest, mark)) = line.split_once(' ') else {
                    out.push(format!("ballot record line {line:?} is malformed"));
                    continue;
                };
                let Some(entry) = counts.get_mut(contest) else {
                    out.push(format!(
                        "ballot record names contest {contest} not on this ballot"
                    ));
                    continue;
                };
                match mark {
                    "blank" => entry.1 += 1,
                    "null" => entry.2 += 1,
                    choices => {
                        for c in choices.split(',') {
                            match entry.0.get_mut(c) {
                                Some(n) => *n += 1,
                                None => out.push(format!(
                                    "ballot record marks {c}, not a choice of {contest}"
                                )),
                            }
                        }
                    }
                }
            }
        }
        if self.state.records.len() != self.state.ballots as usize {
            out.push(format!(
                "ballots {} but {} ballot records",
                self.state.ballots,
                self.state.records.len()
            ));
        }
        for (contest, (votes, blank, null)) in &counts {
            match self.state.counts.get(contest) {
                None => out.push(format!("contest {contest} missing from the stored counts")),
                Some((v, b, n)) => {
                    for (choice, m) in votes {
                        let stored = v.get(choice).copied().unwrap_or(0);
                        if stored != *m {
                            out.push(format!(
                                "{contest} {choice}: stored count {stored}, ballot records {m}"
                            ));
                        }
                    }
                    if v.len() != votes.len() {
                        out.push(format!(
                            "contest {contest}: stored choices differ from the ballot"
                        ));
                    }
                    if (b, n) != (blank, null) {
                        out.push(format!(
                            "{contest} blank/null: stored {b}/{n}, ballot records {blank}/{null}"
                        ));
                    }
                }
            }
        }
        let mut head = [0u8; 32];
        for line in &self.state.journal {
            head = Sha256::new()
                .chain_update(head)
                .chain_update(line.as_bytes())
                .finalize()
                .into();
        }
        if hex::encode(head) != self.state.journal_head {
            out.push("the journal lines do not hash to the stored journal head".into());
        }
        if let Some(file) = journal_file {
            let expected = self.state.journal.join("\n") + "\n";
            if file != expected {
                out.push("journal.log differs from the journal in the state".into());
            }
        }
        out
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| Error::Io(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
}
