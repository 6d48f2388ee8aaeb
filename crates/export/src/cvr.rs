//! NIST SP 1500-103 v1.0 cast vote records (JSON) of one table's ballot
//! records.
//!
//! A table's machine stores one ballot record per voter (see
//! `acta_station::Station::cast`):
//!
//! ```text
//! ballot/v1
//! <contest-id> <choice>[,<choice>…]      or  <contest-id> blank  /  <contest-id> null
//! …one line per contest on the table's ballot, in ballot (contest id) order
//! ```
//!
//! [`cvr_report`] parses them strictly ([`parse_record`]: one spelling per
//! ballot, only the table's contests and choices) and writes a
//! `CVR.CastVoteRecordReport` ([`Report`]) that validates against NIST's
//! published JSON schema.
//!
//! # Nothing orders or times a ballot
//!
//! The report has exactly one time, `GeneratedDate` (the schema requires
//! it): the election's scheduled closing from the package, the same for
//! every table. The CVRs are sorted by the RFC 9162 leaf hash of their
//! record (never the order of voting or of storage); no `BatchSequenceId`,
//! no `BallotAuditId`, no timestamp. A CVR's `UniqueId` is
//! `<position>-<leaf hash>`: its 1-based position in that sorted order and
//! the hex SHA-256 leaf hash of its record, so it derives from the records
//! alone. The same records in any order give byte-identical JSON.
//!
//! # Bound to the acta
//!
//! The report's `Notes` begins `records <hex>`: the RFC 9162 Merkle root of
//! the records' sorted leaf hashes ([`records_root`]), spelled exactly as
//! the `records` line of the table's acta, so a reader can check the CVRs
//! against the signed acta.
//!
//! # Mapping
//!
//! | acta | NIST SP 1500-103 |
//! |---|---|
//! | table | `GpUnit` `precinct` (`@id` `gpunit_<table id>`), listing its machine in `ReportingDeviceIds`; its center is a `polling-place`; parish, municipality, state and the country are `other` (`OtherType` names the level); each with a `national-level` `Code` holding its dotted code |
//! | the table's machine | `ReportingDevice` `device_<machine>` (`SerialNumber` the machine id, `Code` `acta-machine-key` its certified key), the report's `ReportGeneratingDeviceIds` and each CVR's `CreatingDeviceId`; `ReportType` `originating-device-export` |
//! | election | `Election` `election_<id>` scoped to the country, with only the contests on the table's ballot |
//! | party | `Party` `party_<id>` (`Abbreviation` the id, `Name`) |
//! | plurality contest | `CandidateContest` `contest_<id>`, `VoteVariation` `plurality` (one seat) or `n-of-m`, `VotesAllowed` = `NumberElected` = seats |
//! | candidate | `Candidate` `candidate_<contest>_<candidate>`, `PartyId` only when they stand on one card |
//! | a candidate's card, choice `C1/PDA` | `CandidateSelection` `selection_<contest>_C1_PDA` with `CandidateIds` and `Code`s `acta-choice` (`C1/PDA`) and `acta-card` (`PDA`): votes are counted per card, so each card is a selection of its own |
//! | referendum | `BallotMeasureContest`, `VoteVariation` `majority`; `BallotMeasureSelection` `NO` and `YES` |
//! | party-list contest | `PartyContest`, `VoteVariation` `proportional`, `Code`s `acta-method` (`d-hondt`, `sainte-lague`) and `acta-seats`; one `PartySelection` per list |
//! | ballot record | `CVR`, one `CVRSnapshot` of `Type` `original`, one `CVRContest` per contest on the ballot, in ballot order |
//! | a marked choice | `CVRContestSelection` → one `SelectionPosition` with `HasIndication` `yes`, `NumberVotes` 1, `IsAllocable` `yes` |
//! | choices | `Overvotes` 0, `Undervotes` = votes allowed − choices marked, `Status` `undervoted` when that is not 0 |
//! | `blank` | no selection; `Undervotes` = votes allowed, `Overvotes` 0, `Status` `not-indicated`, `undervoted` |
//! | `null` (voided by the voter) | no selection; `Overvotes` = votes allowed (every vote of the contest is lost), `Undervotes` 0, `Status` `other` with `OtherStatus` `null`, so it is never taken for a real overvote (the machine refuses one) |
//!
//! Every `Code` of `Type` `other` names in `OtherType` the acta field it
//! holds (`acta-election`, `acta-contest`, `acta-candidate`, `acta-party`,
//! `acta-choice`, `acta-card`, …).

use std::collections::HashSet;

use acta_election::{Contest, Kind, Level};
use serde::Serialize;

use crate::Error;

/// The first line of every ballot record.
pub const RECORD_FORMAT: &str = "ballot/v1";

/// The NIST SP 1500-103 version this module writes.
pub const VERSION: &str = "1.0.0";

/// One contest's mark on a ballot record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mark {
    /// The voter chose nothing in this contest.
    Blank,
    /// The voter voided this contest.
    Null,
    /// The choice codes marked, sorted, 1 to the contest's votes allowed, no
    /// candidate twice.
    Choices(Vec<String>),
}

/// A parsed ballot record: one mark per contest on the table's ballot, in
/// ballot order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotRecord {
    /// `(contest id, mark)` in ballot order.
    pub marks: Vec<(String, Mark)>,
}

impl BallotRecord {
    /// The canonical text, as the station writes it.
    pub fn to_text(&self) -> String {
        let mut s = String::from(RECORD_FORMAT);
        s.push('\n');
        for (contest, mark) in &self.marks {
            s.push_str(contest);
            s.push(' ');
            match mark {
                Mark::Blank => s.push_str("blank"),
                Mark::Null => s.push_str("null"),
                Mark::Choices(cs) => s.push_str(&cs.join(",")),
            }
            s.push('\n');
        }
        s
    }
}

/// At most this many characters of a refused field are quoted in an error.
const SHOWN: usize = 40;

/// A field of outside bytes, quoted and cut short for an error message.
fn shown(s: &str) -> String {
    match s.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{:?}…", &s[..at]),
        None => format!("{s:?}"),
    }
}

/// Parses ballot record number `record` (its position among the records,
/// used in errors) of table `table_id`, strictly: `ballot/v1` and then one
/// line per contest on the table's ballot, in ballot order, each
/// `<contest> blank`, `<contest> null` or `<contest> <choice>[,<choice>…]`
/// with 1 to the contest's votes allowed choices of that contest, sorted,
/// no candidate twice; `\n` line ends, a final newline, nothing else. Every
/// accepted text is what [`BallotRecord::to_text`] writes for the result.
pub fn parse_record(
    election: &acta_election::Election,
    table_id: &str,
    record: usize,
    text: &str,
) -> Result<BallotRecord, Error> {
    if election.table(table_id).is_none() {
        return Err(Error::UnknownTable(table_id.to_string()));
    }
    let ballot = election.ballot(table_id);
    let choices: Vec<Vec<String>> = ballot.iter().map(|c| c.choices()).collect();
    parse_on(&ballot, &choices, record, text)
}

/// [`parse_record`] against a ballot and its contests' choices.
fn parse_on(
    ballot: &[&Contest],
    choices: &[Vec<String>],
    record: usize,
    text: &str,
) -> Result<BallotRecord, Error> {
    let bad = |line: usize, what: String| Error::Record { record, line, what };
    let Some(body) = text.strip_suffix('\n') else {
        return Err(bad(
            text.split('\n').count(),
            "a ballot record must end with a newline".into(),
        ));
    };
    let mut lines = body.split('\n');
    let first = lines.next().unwrap_or_default();
    if first != RECORD_FORMAT {
        return Err(bad(
            1,
            format!("expected {RECORD_FORMAT:?}, found {}", shown(first)),
        ));
    }
    let mut marks = Vec::with_capacity(ballot.len());
    for (i, (contest, valid)) in ballot.iter().zip(choices).enumerate() {
        let n = i + 2;
        let Some(line) = lines.next() else {
            return Err(bad(
                n,
                format!(
                    "missing the line of contest {} (the record ends)",
                    contest.id
                ),
            ));
        };
        let Some((id, mark)) = line.split_once(' ') else {
            return Err(bad(
                n,
                format!("expected '<contest> <mark>', found {}", shown(line)),
            ));
        };
        if id != contest.id {
            return Err(bad(
                n,
                format!(
                    "expected contest {} (ballot order), found {}",
                    contest.id,
                    shown(id)
                ),
            ));
        }
        let mark = match mark {
            "blank" => Mark::Blank,
            "null" => Mark::Null,
            list => {
                let cs: Vec<&str> = list.split(',').collect();
                if let Some(c) = cs
                    .iter()
                    .find(|c| valid.binary_search_by(|v| v.as_str().cmp(c)).is_err())
                {
                    return Err(bad(
                        n,
                        format!("{} is not a choice of contest {}", shown(c), contest.id),
                    ));
                }
                if !cs.windows(2).all(|w| w[0] < w[1]) {
                    return Err(bad(
                        n,
                        format!(
                            "the choices of contest {} are not sorted without repeats",
                            contest.id
                        ),
                    ));
                }
                if cs.len() > contest.max_marks() as usize {
                    return Err(bad(
                        n,
                        format!(
                            "{} choices marked in contest {}, which allows {}",
                            cs.len(),
                            contest.id,
                            contest.max_marks()
                        ),
                    ));
                }
                let candidates: HashSet<&str> =
                    cs.iter().map(|c| acta_election::candidate_of(c)).collect();
                if candidates.len() != cs.len() {
                    return Err(bad(
                        n,
                        format!("contest {}: one candidate marked on two cards", contest.id),
                    ));
                }
                Mark::Choices(cs.into_iter().map(str::to_string).collect())
            }
        };
        marks.push((contest.id.clone(), mark));
    }
    if lines.next().is_some() {
        return Err(bad(
            ballot.len() + 2,
            format!(
                "the table's ballot has {} contests: no line may follow",
                ballot.len()
            ),
        ));
    }
    let parsed = BallotRecord { marks };
    debug_assert_eq!(parsed.to_text(), text);
    Ok(parsed)
}

/// The RFC 9162 Merkle root of the records' leaf hashes, sorted: the value
/// the table's acta carries on its `records` line (computed exactly as
/// `acta_station::Station::records_root`), whatever the records' order.
pub fn records_root(records: &[String]) -> [u8; 32] {
    let mut leaves: Vec<[u8; 32]> = records
        .iter()
        .map(|r| acta_tlog::leaf_hash(r.as_bytes()))
        .collect();
    leaves.sort_unstable();
    acta_tlog::root_of(&leaves)
}

/// A `CVR.Code`: an identifier of some scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Code {
    /// `CVR.Code`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// What the value is, when `Type` is `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_type: Option<String>,
    /// `national-level` or `other`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// The identifier.
    pub value: String,
}

impl Code {
    fn other(what: &str, value: impl Into<String>) -> Code {
        Code {
            type_: "CVR.Code",
            other_type: Some(what.to_string()),
            kind: "other",
            value: value.into(),
        }
    }

    fn national(value: &str) -> Code {
        Code {
            type_: "CVR.Code",
            other_type: None,
            kind: "national-level",
            value: value.to_string(),
        }
    }
}

/// The report: `CVR.CastVoteRecordReport`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Report {
    /// `CVR.CastVoteRecordReport`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// One CVR per ballot record, sorted by the record's leaf hash.
    #[serde(rename = "CVR")]
    pub cvr: Vec<Cvr>,
    /// The election, with the contests on the table's ballot.
    pub election: Vec<Election>,
    /// The election's scheduled closing (the same for every table).
    pub generated_date: String,
    /// The country, the table's enclosing areas and the table.
    pub gp_unit: Vec<GpUnit>,
    /// `records <root hex> …`: binds the CVRs to the table's acta.
    pub notes: String,
    /// Every party of the package.
    pub party: Vec<Party>,
    /// The table's machine.
    pub report_generating_device_ids: Vec<String>,
    /// `originating-device-export`.
    pub report_type: Vec<&'static str>,
    /// The table's machine.
    pub reporting_device: Vec<ReportingDevice>,
    /// [`VERSION`].
    pub version: &'static str,
}

impl Report {
    /// The JSON text: compact, fields in a fixed order, a final newline.
    /// The same records, in any order, give the same bytes.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string(self).expect("a report serializes");
        s.push('\n');
        s
    }
}

/// A `CVR.CVR`: one ballot record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Cvr {
    /// `CVR.CVR`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The table's `GpUnit`.
    pub ballot_style_unit_id: String,
    /// The one snapshot, `original`.
    #[serde(rename = "CVRSnapshot")]
    pub cvr_snapshot: Vec<Snapshot>,
    /// The table's machine.
    pub creating_device_id: String,
    /// The one snapshot's `@id`.
    pub current_snapshot_id: String,
    /// The election's `@id`.
    pub election_id: String,
    /// `<position>-<leaf hash hex>`: position (1-based) in leaf-hash order.
    pub unique_id: String,
}

/// A `CVR.CVRSnapshot`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Snapshot {
    /// `snapshot_<position>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// `CVR.CVRSnapshot`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// One per contest on the ballot, in ballot order.
    #[serde(rename = "CVRContest")]
    pub cvr_contest: Vec<CvrContest>,
    /// `original`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
}

/// A `CVR.CVRContest`: one contest's line of a ballot record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CvrContest {
    /// `CVR.CVRContest`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The choices marked, in the contest's choice order.
    #[serde(rename = "CVRContestSelection", skip_serializing_if = "Vec::is_empty")]
    pub cvr_contest_selection: Vec<CvrContestSelection>,
    /// The contest's `@id`.
    pub contest_id: String,
    /// `null` when the voter voided the contest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_status: Option<&'static str>,
    /// Votes lost: all of them on a null contest, else 0.
    pub overvotes: u32,
    /// `undervoted`, `not-indicated` (blank), `other` (null).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<&'static str>,
    /// Votes allowed but not cast (all of them on a blank contest).
    pub undervotes: u32,
}

/// A `CVR.CVRContestSelection`: one choice marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CvrContestSelection {
    /// `CVR.CVRContestSelection`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The selection's `@id`.
    pub contest_selection_id: String,
    /// The one mark.
    pub selection_position: Vec<SelectionPosition>,
}

/// A `CVR.SelectionPosition`: the mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SelectionPosition {
    /// `CVR.SelectionPosition`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// `yes`.
    pub has_indication: &'static str,
    /// `yes`.
    pub is_allocable: &'static str,
    /// 1.
    pub number_votes: u32,
}

/// A `CVR.Election`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Election {
    /// `election_<id>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// `CVR.Election`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The candidates of the contests on the ballot.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidate: Vec<Candidate>,
    /// `acta-election`: the election id.
    pub code: Vec<Code>,
    /// The contests on the table's ballot, in ballot order.
    pub contest: Vec<ContestDef>,
    /// The country's `GpUnit`.
    pub election_scope_id: String,
    /// The election's title.
    pub name: String,
}

/// A contest: `CVR.CandidateContest`, `CVR.BallotMeasureContest` or
/// `CVR.PartyContest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ContestDef {
    /// `contest_<id>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// The contest's class.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The contest id.
    pub abbreviation: String,
    /// `acta-contest`, and for lists `acta-method` and `acta-seats`.
    pub code: Vec<Code>,
    /// Every choice, in the contest's choice order.
    pub contest_selection: Vec<ContestSelection>,
    /// The contest's title.
    pub name: String,
    /// Plurality: the seats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_elected: Option<u32>,
    /// The kind of contest, when `VoteVariation` is `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_vote_variation: Option<String>,
    /// `plurality`, `n-of-m`, `majority` or `proportional`.
    pub vote_variation: &'static str,
    /// Plurality: the seats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub votes_allowed: Option<u32>,
}

/// A choice: `CVR.CandidateSelection` (a candidate on one card),
/// `CVR.BallotMeasureSelection` or `CVR.PartySelection` (a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ContestSelection {
    /// `selection_<contest>_<choice>` (`/` written `_`).
    #[serde(rename = "@id")]
    pub id: String,
    /// The selection's class.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// Candidate selection: the candidate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidate_ids: Vec<String>,
    /// `acta-choice`, and for a candidate `acta-card`.
    pub code: Vec<Code>,
    /// Party selection: the list's party.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub party_ids: Vec<String>,
    /// Ballot measure selection: `NO` or `YES`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
}

/// A `CVR.Candidate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Candidate {
    /// `candidate_<contest>_<candidate>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// `CVR.Candidate`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// `acta-candidate`: the candidate id.
    pub code: Vec<Code>,
    /// The name on the ballot.
    pub name: String,
    /// The party, when the candidate stands on one card only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_id: Option<String>,
}

/// A `CVR.Party`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Party {
    /// `party_<id>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// `CVR.Party`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The party id.
    pub abbreviation: String,
    /// `acta-party`: the party id.
    pub code: Vec<Code>,
    /// Full name.
    pub name: String,
}

/// A `CVR.GpUnit`: the country, an area or the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GpUnit {
    /// `gpunit_<code>`, `gpunit_country` for the country.
    #[serde(rename = "@id")]
    pub id: String,
    /// `CVR.GpUnit`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// `national-level`: the dotted code (none for the country).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<Code>,
    /// The area's name (none for the country or a table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The level, when `Type` is `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_type: Option<&'static str>,
    /// The table: its machine.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reporting_device_ids: Vec<String>,
    /// `precinct` (table), `polling-place` (center) or `other`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
}

/// A `CVR.ReportingDevice`: the table's machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ReportingDevice {
    /// `device_<machine>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// `CVR.ReportingDevice`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// `acta-station`.
    pub application: String,
    /// `acta-machine-key`: the machine's certified verifier key.
    pub code: Vec<Code>,
    /// The machine id.
    pub serial_number: String,
}

fn contest_ref(contest: &str) -> String {
    format!("contest_{contest}")
}

fn selection_ref(contest: &str, choice: &str) -> String {
    format!("selection_{contest}_{}", choice.replace('/', "_"))
}

fn candidate_ref(contest: &str, candidate: &str) -> String {
    format!("candidate_{contest}_{candidate}")
}

fn party_ref(party: &str) -> String {
    format!("party_{party}")
}

fn gpunit_ref(code: &str) -> String {
    if code.is_empty() {
        "gpunit_country".into()
    } else {
        format!("gpunit_{code}")
    }
}

/// The contest definition of one contest on the ballot.
fn contest_def(c: &Contest) -> ContestDef {
    let mut code = vec![Code::other("acta-contest", &c.id)];
    let (type_, selection_type, vote_variation, seats) = match c.kind {
        Kind::Plurality => (
            "CVR.CandidateContest",
            "CVR.CandidateSelection",
            if c.seats == 1 { "plurality" } else { "n-of-m" },
            Some(c.seats),
        ),
        Kind::Referendum => (
            "CVR.BallotMeasureContest",
            "CVR.BallotMeasureSelection",
            "majority",
            None,
        ),
        Kind::PartyList => {
            if let Some(Ok(serde_json::Value::String(m))) = c.method.map(serde_json::to_value) {
                code.push(Code::other("acta-method", m));
            }
            code.push(Code::other("acta-seats", c.seats.to_string()));
            (
                "CVR.PartyContest",
                "CVR.PartySelection",
                "proportional",
                None,
            )
        }
        // A kind of contest this exporter does not know yet: the generic
        // classes, its choices named by their codes only.
        _ => ("CVR.Contest", "CVR.ContestSelection", "other", None),
    };
    let contest_selection = c
        .choices()
        .iter()
        .map(|choice| {
            let mut s = ContestSelection {
                id: selection_ref(&c.id, choice),
                type_: selection_type,
                candidate_ids: Vec::new(),
                code: vec![Code::other("acta-choice", choice)],
                party_ids: Vec::new(),
                selection: None,
            };
            match c.kind {
                Kind::Plurality => {
                    let (candidate, card) = choice.split_once('/').unwrap_or((choice, ""));
                    s.candidate_ids = vec![candidate_ref(&c.id, candidate)];
                    s.code.push(Code::other("acta-card", card));
                }
                Kind::Referendum => s.selection = Some(choice.clone()),
                Kind::PartyList => s.party_ids = vec![party_ref(choice)],
                _ => {}
            }
            s
        })
        .collect();
    ContestDef {
        id: contest_ref(&c.id),
        type_,
        abbreviation: c.id.clone(),
        code,
        contest_selection,
        name: c.name.clone(),
        number_elected: seats,
        other_vote_variation: (vote_variation == "other").then(|| format!("{:?}", c.kind)),
        vote_variation,
        votes_allowed: seats,
    }
}

/// One ballot record's CVR; `position` is 1-based in leaf-hash order.
fn cvr_of(
    position: usize,
    leaf: &[u8; 32],
    record: &BallotRecord,
    ballot: &[&Contest],
    table_unit: &str,
    device: &str,
    election_id: &str,
) -> Cvr {
    let snapshot_id = format!("snapshot_{position}");
    let cvr_contest = record
        .marks
        .iter()
        .zip(ballot)
        .map(|((id, mark), contest)| {
            let allowed = contest.max_marks();
            let mut c = CvrContest {
                type_: "CVR.CVRContest",
                cvr_contest_selection: Vec::new(),
                contest_id: contest_ref(id),
                other_status: None,
                overvotes: 0,
                status: Vec::new(),
                undervotes: 0,
            };
            match mark {
                Mark::Blank => {
                    c.undervotes = allowed;
                    c.status = vec!["not-indicated", "undervoted"];
                }
                Mark::Null => {
                    c.overvotes = allowed;
                    c.status = vec!["other"];
                    c.other_status = Some("null");
                }
                Mark::Choices(cs) => {
                    c.undervotes = allowed.saturating_sub(cs.len() as u32);
                    if c.undervotes > 0 {
                        c.status = vec!["undervoted"];
                    }
                    c.cvr_contest_selection = cs
                        .iter()
                        .map(|choice| CvrContestSelection {
                            type_: "CVR.CVRContestSelection",
                            contest_selection_id: selection_ref(id, choice),
                            selection_position: vec![SelectionPosition {
                                type_: "CVR.SelectionPosition",
                                has_indication: "yes",
                                is_allocable: "yes",
                                number_votes: 1,
                            }],
                        })
                        .collect();
                }
            }
            c
        })
        .collect();
    Cvr {
        type_: "CVR.CVR",
        ballot_style_unit_id: table_unit.to_string(),
        cvr_snapshot: vec![Snapshot {
            id: snapshot_id.clone(),
            type_: "CVR.CVRSnapshot",
            cvr_contest,
            kind: "original",
        }],
        creating_device_id: device.to_string(),
        current_snapshot_id: snapshot_id,
        election_id: election_id.to_string(),
        unique_id: format!("{position}-{}", hex::encode(leaf)),
    }
}

/// The NIST SP 1500-103 cast vote record report of table `table_id`'s
/// ballot records (in any order): see the [module](self) for what goes
/// where. Every record is parsed with [`parse_record`]; the first that is
/// refused refuses the report, naming its position in `records` and its
/// line.
pub fn cvr_report(
    election: &acta_election::Election,
    table_id: &str,
    records: &[String],
) -> Result<Report, Error> {
    let table = election
        .table(table_id)
        .ok_or_else(|| Error::UnknownTable(table_id.to_string()))?;
    let ballot = election.ballot(table_id);
    let choices: Vec<Vec<String>> = ballot.iter().map(|c| c.choices()).collect();
    let mut parsed: Vec<([u8; 32], BallotRecord)> = Vec::with_capacity(records.len());
    for (i, text) in records.iter().enumerate() {
        let record = parse_on(&ballot, &choices, i, text)?;
        parsed.push((acta_tlog::leaf_hash(text.as_bytes()), record));
    }
    // Leaf-hash order: equal hashes are equal records, so the order is total.
    parsed.sort_unstable_by_key(|a| a.0);
    let leaves: Vec<[u8; 32]> = parsed.iter().map(|(l, _)| *l).collect();
    let root = acta_tlog::root_of(&leaves);

    let device = format!("device_{}", table.machine);
    let table_unit = gpunit_ref(&table.id);
    let election_ref = format!("election_{}", election.id);

    // The country, the table's areas from the state down, and the table.
    let mut gp_unit = vec![GpUnit {
        id: gpunit_ref(""),
        type_: "CVR.GpUnit",
        code: Vec::new(),
        name: None,
        other_type: Some("country"),
        reporting_device_ids: Vec::new(),
        kind: "other",
    }];
    for area in Level::ancestors(&table.id) {
        let (kind, other_type) = match Level::of(area) {
            Some(Level::State) => ("other", Some("state")),
            Some(Level::Municipality) => ("other", Some("municipality")),
            Some(Level::Parish) => ("other", Some("parish")),
            Some(Level::Center) => ("polling-place", None),
            _ => ("other", Some("area")),
        };
        gp_unit.push(GpUnit {
            id: gpunit_ref(area),
            type_: "CVR.GpUnit",
            code: vec![Code::national(area)],
            name: election.area_name(area).map(str::to_string),
            other_type,
            reporting_device_ids: Vec::new(),
            kind,
        });
    }
    gp_unit.push(GpUnit {
        id: table_unit.clone(),
        type_: "CVR.GpUnit",
        code: vec![Code::national(&table.id)],
        name: None,
        other_type: None,
        reporting_device_ids: vec![device.clone()],
        kind: "precinct",
    });

    let candidate = ballot
        .iter()
        .filter(|c| c.kind == Kind::Plurality)
        .flat_map(|c| {
            c.candidates.iter().map(move |k| Candidate {
                id: candidate_ref(&c.id, &k.id),
                type_: "CVR.Candidate",
                code: vec![Code::other("acta-candidate", &k.id)],
                name: k.name.clone(),
                party_id: match k.cards.as_slice() {
                    [only] => Some(party_ref(only)),
                    _ => None,
                },
            })
        })
        .collect();
    let contest = ballot.iter().map(|c| contest_def(c)).collect();

    let cvr = parsed
        .iter()
        .enumerate()
        .map(|(i, (leaf, record))| {
            cvr_of(
                i + 1,
                leaf,
                record,
                &ballot,
                &table_unit,
                &device,
                &election_ref,
            )
        })
        .collect();

    Ok(Report {
        type_: "CVR.CastVoteRecordReport",
        cvr,
        election: vec![Election {
            id: election_ref.clone(),
            type_: "CVR.Election",
            candidate,
            code: vec![Code::other("acta-election", &election.id)],
            contest,
            election_scope_id: gpunit_ref(""),
            name: election.name.clone(),
        }],
        generated_date: election.closes.clone(),
        gp_unit,
        notes: format!(
            "records {} is the RFC 9162 Merkle root of the sorted SHA-256 leaf hashes of \
             these {} ballot records of table {}, as on the records line of its acta",
            hex::encode(root),
            records.len(),
            table.id
        ),
        party: election
            .parties
            .iter()
            .map(|p| Party {
                id: party_ref(&p.id),
                type_: "CVR.Party",
                abbreviation: p.id.clone(),
                code: vec![Code::other("acta-party", &p.id)],
                name: p.name.clone(),
            })
            .collect(),
        report_generating_device_ids: vec![device.clone()],
        report_type: vec!["originating-device-export"],
        reporting_device: vec![ReportingDevice {
            id: device,
            type_: "CVR.ReportingDevice",
            application: "acta-station".into(),
            code: vec![Code::other("acta-machine-key", &table.key)],
            serial_number: table.machine.clone(),
        }],
        version: VERSION,
    })
}
