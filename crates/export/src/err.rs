//! NIST SP 1500-100 Revision 2 *Election Results Reporting* (ERR v2) of the
//! counted actas, down to the table, in JSON and XML, and a CSV of the same
//! figures for spreadsheets.
//!
//! [`err_report`] takes the election package, the one counted acta of each
//! table that has reported, and the log checkpoint they were read at
//! ([`AtCheckpoint`]), and returns an `ElectionReport` ([`Report`]) at
//! `precinct-level`: every figure is a table's, exactly as its signed acta
//! says, and nothing is added up. [`Report::to_json`] writes it for NIST's
//! JSON schema and [`Report::to_xml`] for NIST's XSD (both vendored byte for
//! byte in `schema/`, and every report the tests make is validated against
//! both). [`table_csv`] writes the same per-table figures as RFC 4180 CSV.
//!
//! # Bound to the log
//!
//! The report's `Notes` and three `ExternalIdentifier`s (`acta-log-origin`,
//! `acta-checkpoint-size`, `acta-checkpoint-root`) name the public log and
//! the checkpoint (tree size and root hash, hex) at which the counted actas
//! were read: anyone can mirror the log up to that checkpoint, check every
//! acta's signature and add the figures again. `GeneratedDate` is the time
//! that checkpoint was published, never the clock of the machine that
//! writes the report, so the same actas at the same checkpoint give the same
//! bytes, whatever the order they are given in.
//!
//! # Mapping
//!
//! | acta | NIST SP 1500-100 v2 |
//! |---|---|
//! | the report | `ElectionReport`, `Format` `precinct-level`, `SequenceStart` = `SequenceEnd` = 1, `VendorApplicationId` `acta` |
//! | all tables reported / not yet | `Status` `unofficial-complete` / `unofficial-partial` (the count is the machines'; certifying it is the authority's act, not this export's) |
//! | the center (publishes the log) | `Issuer`: the package's `log_origin`; `IssuerAbbreviation`: the name of the package's `center_key` (the package has no other name for the issuer) |
//! | log checkpoint | `Notes` and `ExternalIdentifier`s `other`: `acta-log-origin`, `acta-checkpoint-size`, `acta-checkpoint-root` |
//! | election | `Election`: `Type` `general` (the package names no type), `StartDate`/`EndDate` the UTC dates of `opens`/`closes`, `ElectionScopeId` the country, `ExternalIdentifier` `acta-election` |
//! | the country | `ReportingUnit` `gpunit_country`, `Type` `country` |
//! | state `SS` | `ReportingUnit` `gpunit_SS`, `Type` `state` |
//! | municipality `SS.MMM` / parish `SS.MMM.PP` | `ReportingUnit`, `Type` `other`, `OtherType` `municipality` / `parish` |
//! | voting center `SS.MMM.PP.CCCC` | `ReportingUnit`, `Type` `polling-place` |
//! | table `SS.MMM.PP.CCCC.TT` | `ReportingUnit`, `Type` `precinct`: `VotersRegistered` from the package, `VotersParticipated` = the acta's `authenticated` (NIST: "shown up at the polls, including those who did not cast ballots") |
//! | geography | every unit lists its children in `ComposingGpUnitIds`; every area and table carries its dotted code as a `national-level` `ExternalIdentifier`; every unit has `VotersRegistered` (the sum of its tables'), `TotalSubUnits` (its tables), `SubUnitsReported` (those counted) and a `total` `CountStatus`: `completed`, `in-process` or `not-processed` |
//! | a table's `ballots` | `Election.BallotCounts`: `GpUnitId` the table, `Type` `total`, `BallotsCast` |
//! | party | `Party` `party_<id>`: `Abbreviation` the id, `Name`, `ExternalIdentifier` `acta-party` |
//! | plurality contest | `CandidateContest` `contest_<id>`, `VoteVariation` `plurality` (one seat) or `n-of-m`, `VotesAllowed` = `NumberElected` = seats |
//! | candidate | `Candidate` `candidate_<contest>_<candidate>`: `BallotName`, `ExternalIdentifier` `acta-candidate`, `PartyId` only when they stand on one card |
//! | a candidate's card, choice `C1/PDA` | `CandidateSelection` `selection_<contest>_C1_PDA`: `CandidateIds` the candidate, `EndorsementPartyIds` the card's party. Votes are counted per card, so each card is a selection of its own; a candidate's votes are the sum of their cards' |
//! | referendum | `BallotMeasureContest`, `Type` `referendum`, `VoteVariation` `majority`; `BallotMeasureSelection` `NO` and `YES` |
//! | party-list contest | `PartyContest`, `VoteVariation` `proportional`, `ExternalIdentifier`s `acta-method` (`d-hondt`, `sainte-lague`) and `acta-seats`; one `PartySelection` per list |
//! | every contest | `ElectionDistrictId` its scope's unit; `TotalSubUnits` the tables that vote on it, `SubUnitsReported` those counted; `ExternalIdentifier` `acta-contest` |
//! | `votes <choice> <n>` of table T | the choice's selection: `VoteCounts` `GpUnitId` T, `Type` `total`, `Count` n (zeros included) |
//! | `blank` b and `null` u of table T, in a contest with N votes allowed and V votes | the contest's `OtherCounts` for T: `Overvotes` = N × u (a voided ballot loses all its votes; the machine refuses a real overvote), `Undervotes` = N × ballots − V − N × u (N for each blank ballot plus the unused votes of partly marked ones). Exactly the sums of this crate's [`crate::cvr`] export of the table's ballot records. Where N = 1 (every referendum, list and one-seat contest) `Undervotes` = b and `Overvotes` = u; for N > 1 the acta's own blank and null figures are in [`table_csv`] |
//!
//! Names (`Election.Name`, `BallotName`, party and area names) are
//! `InternationalizedText` of `Language` `und` (ISO 639-2 "undetermined"):
//! the package does not say which language they are in. Ids are
//! `<kind>_<code>` with `/` written `_` (codes have no `_`), so they are XML
//! `ID`s and unique in the report.
//!
//! # CSV
//!
//! [`table_csv`]: a header and one row per counted table and choice,
//! `table,contest,choice,candidate,party,votes,registered,authenticated,ballots`,
//! with each contest's blank and null ballots as two more rows whose choice
//! is `(blank)` / `(null)` ([`acta_election::BLANK`], [`acta_election::NULL`]).
//! `candidate` and `party` hold names (the choice code holds their ids);
//! the last three columns repeat the table's figures on each of its rows.
//! RFC 4180: CRLF line ends, a field quoted (`"` doubled) when it holds
//! `,`, `"`, CR or LF; UTF-8 without a byte-order mark. Fields are written
//! exactly as the signed package spells them.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use acta_election::{Contest, Kind, Level};
use acta_sheet::{Acta, ContestCount};
use serde::Serialize;

use crate::Error;

/// The `targetNamespace` of NIST's ERR v2 XSD.
pub const NAMESPACE: &str = "http://itl.nist.gov/ns/voting/1500-100/v2";

/// `VendorApplicationId`.
pub const VENDOR_APPLICATION: &str = "acta";

/// The `Language` of every name: ISO 639-2 "undetermined".
pub const LANGUAGE: &str = "und";

/// The log checkpoint at which the counted actas were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtCheckpoint {
    /// The tree size of the checkpoint.
    pub size: u64,
    /// Its root hash, 64 lowercase hex digits.
    pub root_hex: String,
    /// When the checkpoint was published, Unix seconds: the report's
    /// `GeneratedDate`.
    pub generated: u64,
}

/// An `ElectionResults.ExternalIdentifier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ExternalIdentifier {
    /// `ElectionResults.ExternalIdentifier`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// What the value is, when `Type` is `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_type: Option<&'static str>,
    /// `national-level` or `other`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// The identifier.
    pub value: String,
}

impl ExternalIdentifier {
    fn other(what: &'static str, value: impl Into<String>) -> ExternalIdentifier {
        ExternalIdentifier {
            type_: "ElectionResults.ExternalIdentifier",
            other_type: Some(what),
            kind: "other",
            value: value.into(),
        }
    }

    fn national(value: &str) -> ExternalIdentifier {
        ExternalIdentifier {
            type_: "ElectionResults.ExternalIdentifier",
            other_type: None,
            kind: "national-level",
            value: value.to_string(),
        }
    }
}

/// An `ElectionResults.InternationalizedText`: one text, in [`LANGUAGE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Text {
    /// `ElectionResults.InternationalizedText`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The one text.
    #[serde(rename = "Text")]
    pub text: Vec<LanguageString>,
}

/// An `ElectionResults.LanguageString`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct LanguageString {
    /// `ElectionResults.LanguageString`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The text.
    pub content: String,
    /// [`LANGUAGE`].
    pub language: &'static str,
}

impl Text {
    fn of(s: &str) -> Text {
        Text {
            type_: "ElectionResults.InternationalizedText",
            text: vec![LanguageString {
                type_: "ElectionResults.LanguageString",
                content: s.to_string(),
                language: LANGUAGE,
            }],
        }
    }
}

/// An `ElectionResults.CountStatus` of `Type` `total`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CountStatus {
    /// `ElectionResults.CountStatus`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// `completed`, `in-process` or `not-processed`.
    pub status: &'static str,
    /// `total`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
}

impl CountStatus {
    /// Of `reported` among `total` tables.
    fn of(reported: u64, total: u64) -> CountStatus {
        CountStatus {
            type_: "ElectionResults.CountStatus",
            status: if reported == total {
                "completed"
            } else if reported == 0 {
                "not-processed"
            } else {
                "in-process"
            },
            kind: "total",
        }
    }
}

/// The report: `ElectionResults.ElectionReport`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Report {
    /// `ElectionResults.ElectionReport`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The one election.
    pub election: Vec<Election>,
    /// The log origin, checkpoint size and root.
    pub external_identifier: Vec<ExternalIdentifier>,
    /// `precinct-level`.
    pub format: &'static str,
    /// When the checkpoint was published (canonical UTC).
    pub generated_date: String,
    /// The country, every area and every table, in code order.
    pub gp_unit: Vec<GpUnit>,
    /// The package's log origin.
    pub issuer: String,
    /// The name of the package's center key.
    pub issuer_abbreviation: String,
    /// The checkpoint, in words.
    pub notes: String,
    /// Every party of the package.
    pub party: Vec<Party>,
    /// 1.
    pub sequence_end: u32,
    /// 1.
    pub sequence_start: u32,
    /// `unofficial-partial` or `unofficial-complete`.
    pub status: &'static str,
    /// [`VENDOR_APPLICATION`].
    pub vendor_application_id: &'static str,
}

/// An `ElectionResults.Election`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Election {
    /// `ElectionResults.Election`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// One per counted table.
    pub ballot_counts: Vec<BallotCounts>,
    /// Every candidate of every plurality contest.
    pub candidate: Vec<Candidate>,
    /// Every contest, with its figures.
    pub contest: Vec<ContestResult>,
    /// Over every table.
    pub count_status: Vec<CountStatus>,
    /// The country.
    pub election_scope_id: String,
    /// The UTC date of the scheduled closing.
    pub end_date: String,
    /// `acta-election`.
    pub external_identifier: Vec<ExternalIdentifier>,
    /// The package's name.
    pub name: Text,
    /// The UTC date of the scheduled opening.
    pub start_date: String,
    /// `general`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
}

/// An `ElectionResults.BallotCounts`: a table's ballots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BallotCounts {
    /// `ElectionResults.BallotCounts`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The acta's `ballots`.
    pub ballots_cast: u32,
    /// The table.
    pub gp_unit_id: String,
    /// `total`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
}

/// A contest: `ElectionResults.CandidateContest`,
/// `ElectionResults.BallotMeasureContest` or `ElectionResults.PartyContest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ContestResult {
    /// `contest_<id>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// The contest's class.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The contest id.
    pub abbreviation: String,
    /// One per choice, in choice-code order, with its figures per table.
    pub contest_selection: Vec<Selection>,
    /// Over the tables that vote on it.
    pub count_status: Vec<CountStatus>,
    /// Its scope's unit.
    pub election_district_id: String,
    /// `acta-contest`; for a list, `acta-method` and `acta-seats`.
    pub external_identifier: Vec<ExternalIdentifier>,
    /// Title.
    pub name: String,
    /// Candidate contest: the seats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_elected: Option<u32>,
    /// Over- and undervotes per counted table.
    pub other_counts: Vec<OtherCounts>,
    /// Counted tables that vote on it.
    pub sub_units_reported: u64,
    /// Tables that vote on it.
    pub total_sub_units: u64,
    /// Ballot measure: `referendum`.
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// `plurality`, `n-of-m`, `majority` or `proportional`.
    pub vote_variation: &'static str,
    /// Candidate contest: the seats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub votes_allowed: Option<u32>,
}

/// A choice: `ElectionResults.CandidateSelection` (a candidate on one
/// card), `ElectionResults.BallotMeasureSelection` or
/// `ElectionResults.PartySelection` (a list), with its votes per table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Selection {
    /// `selection_<contest>_<choice>` (`/` written `_`).
    #[serde(rename = "@id")]
    pub id: String,
    /// The selection's class.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// Candidate selection: the candidate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidate_ids: Vec<String>,
    /// Candidate selection: the card's party.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endorsement_party_ids: Vec<String>,
    /// Ballot measure selection: `acta-choice`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_identifier: Vec<ExternalIdentifier>,
    /// Party selection: the list's party.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub party_ids: Vec<String>,
    /// Ballot measure selection: `NO` or `YES`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<Text>,
    /// One per counted table that votes on the contest, in table order.
    pub vote_counts: Vec<VoteCounts>,
}

/// An `ElectionResults.VoteCounts`: a choice's votes at one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct VoteCounts {
    /// `ElectionResults.VoteCounts`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The votes, as on the acta.
    pub count: u64,
    /// The table.
    pub gp_unit_id: String,
    /// `total`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
}

/// An `ElectionResults.OtherCounts`: a contest's over- and undervotes at
/// one table (see the [mapping](self#mapping)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct OtherCounts {
    /// `ElectionResults.OtherCounts`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The table.
    pub gp_unit_id: String,
    /// Votes allowed × null ballots.
    pub overvotes: u64,
    /// Votes allowed × ballots − votes − overvotes.
    pub undervotes: u64,
}

/// An `ElectionResults.Candidate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Candidate {
    /// `candidate_<contest>_<candidate>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// `ElectionResults.Candidate`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The name on the ballot.
    pub ballot_name: Text,
    /// `acta-candidate`: the candidate id.
    pub external_identifier: Vec<ExternalIdentifier>,
    /// The party, when the candidate stands on one card only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_id: Option<String>,
}

/// An `ElectionResults.Party`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Party {
    /// `party_<id>`.
    #[serde(rename = "@id")]
    pub id: String,
    /// `ElectionResults.Party`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// The party id.
    pub abbreviation: Text,
    /// `acta-party`: the party id.
    pub external_identifier: Vec<ExternalIdentifier>,
    /// Full name.
    pub name: Text,
}

/// An `ElectionResults.ReportingUnit`: the country, an area or a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GpUnit {
    /// `gpunit_<code>`, `gpunit_country` for the country.
    #[serde(rename = "@id")]
    pub id: String,
    /// `ElectionResults.ReportingUnit`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// Its areas or tables, in code order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub composing_gp_unit_ids: Vec<String>,
    /// Over its tables.
    pub count_status: Vec<CountStatus>,
    /// `national-level`: the dotted code (none for the country).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_identifier: Vec<ExternalIdentifier>,
    /// The area's name (none for the country or a table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// The level, when `Type` is `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_type: Option<&'static str>,
    /// Its counted tables.
    pub sub_units_reported: u64,
    /// Its tables.
    pub total_sub_units: u64,
    /// `country`, `state`, `other`, `polling-place` or `precinct`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// A counted table: the acta's `authenticated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voters_participated: Option<u32>,
    /// The registered voters of its tables, from the package.
    pub voters_registered: u64,
}

impl Report {
    /// The JSON text: compact, fields in the schema's order, a final
    /// newline. The same actas at the same checkpoint give the same bytes.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string(self).expect("a report serializes");
        s.push('\n');
        s
    }

    /// The XML text, in the XSD's namespace ([`NAMESPACE`]) and element
    /// order, polymorphic elements typed with `xsi:type`, indented by two
    /// spaces, UTF-8, a final newline. Text is escaped; a character that
    /// XML 1.0 cannot carry (which [`err_report`] never puts in a report) is
    /// written U+FFFD.
    pub fn to_xml(&self) -> String {
        let mut x = Xml::default();
        x.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.open(
            "ElectionReport",
            &[
                ("xmlns", NAMESPACE),
                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ],
        );
        for e in &self.election {
            x.election(e);
        }
        x.identifiers(&self.external_identifier);
        x.leaf("Format", self.format);
        x.leaf("GeneratedDate", &self.generated_date);
        for u in &self.gp_unit {
            x.gp_unit(u);
        }
        x.leaf("Issuer", &self.issuer);
        x.leaf("IssuerAbbreviation", &self.issuer_abbreviation);
        x.leaf("Notes", &self.notes);
        for p in &self.party {
            x.open("Party", &[("ObjectId", &p.id)]);
            x.text("Abbreviation", &p.abbreviation);
            x.identifiers(&p.external_identifier);
            x.text("Name", &p.name);
            x.close("Party");
        }
        x.leaf("SequenceStart", &self.sequence_start.to_string());
        x.leaf("SequenceEnd", &self.sequence_end.to_string());
        x.leaf("Status", self.status);
        x.leaf("VendorApplicationId", self.vendor_application_id);
        x.close("ElectionReport");
        x.out
    }
}

/// The class name without `ElectionResults.`: the `xsi:type`.
fn xsi_type(type_: &str) -> &str {
    type_.strip_prefix("ElectionResults.").unwrap_or(type_)
}

/// Whether XML 1.0 can carry `c` (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `s` escaped as XML character data, or as an attribute value when `attr`.
fn escape(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            // Kept through end-of-line and attribute-value normalization.
            '\r' => out.push_str("&#13;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            c if xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// The hand-written XML writer: elements only, indented.
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape(v, true, &mut self.out);
            self.out.push('"');
        }
        self.out.push('>');
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push('\n');
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], value: &str) {
        self.start(name, attrs);
        escape(value, false, &mut self.out);
        let _ = writeln!(self.out, "</{name}>");
    }

    fn leaf(&mut self, name: &str, value: &str) {
        self.leaf_with(name, &[], value);
    }

    fn number(&mut self, name: &str, n: impl std::fmt::Display) {
        self.leaf(name, &n.to_string());
    }

    /// An `IDREFS` element, when there is any.
    fn refs(&mut self, name: &str, ids: &[String]) {
        if !ids.is_empty() {
            self.leaf(name, &ids.join(" "));
        }
    }

    fn text(&mut self, name: &str, t: &Text) {
        self.open(name, &[]);
        for s in &t.text {
            self.leaf_with("Text", &[("Language", s.language)], &s.content);
        }
        self.close(name);
    }

    fn identifiers(&mut self, ids: &[ExternalIdentifier]) {
        for i in ids {
            self.open("ExternalIdentifier", &[]);
            self.leaf("Type", i.kind);
            if let Some(o) = i.other_type {
                self.leaf("OtherType", o);
            }
            self.leaf("Value", &i.value);
            self.close("ExternalIdentifier");
        }
    }

    fn count_status(&mut self, all: &[CountStatus]) {
        for s in all {
            self.open("CountStatus", &[]);
            self.leaf("Status", s.status);
            self.leaf("Type", s.kind);
            self.close("CountStatus");
        }
    }

    fn election(&mut self, e: &Election) {
        self.open("Election", &[]);
        for b in &e.ballot_counts {
            self.open("BallotCounts", &[]);
            self.leaf("GpUnitId", &b.gp_unit_id);
            self.leaf("Type", b.kind);
            self.number("BallotsCast", b.ballots_cast);
            self.close("BallotCounts");
        }
        for c in &e.candidate {
            self.open("Candidate", &[("ObjectId", &c.id)]);
            self.text("BallotName", &c.ballot_name);
            self.identifiers(&c.external_identifier);
            if let Some(p) = &c.party_id {
                self.leaf("PartyId", p);
            }
            self.close("Candidate");
        }
        for c in &e.contest {
            self.contest(c);
        }
        self.count_status(&e.count_status);
        self.leaf("ElectionScopeId", &e.election_scope_id);
        self.identifiers(&e.external_identifier);
        self.text("Name", &e.name);
        self.leaf("StartDate", &e.start_date);
        self.leaf("EndDate", &e.end_date);
        self.leaf("Type", e.kind);
        self.close("Election");
    }

    fn contest(&mut self, c: &ContestResult) {
        self.open(
            "Contest",
            &[("ObjectId", &c.id), ("xsi:type", xsi_type(c.type_))],
        );
        self.leaf("Abbreviation", &c.abbreviation);
        for s in &c.contest_selection {
            self.selection(s);
        }
        self.count_status(&c.count_status);
        self.leaf("ElectionDistrictId", &c.election_district_id);
        self.identifiers(&c.external_identifier);
        self.leaf("Name", &c.name);
        for o in &c.other_counts {
            self.open("OtherCounts", &[]);
            self.leaf("GpUnitId", &o.gp_unit_id);
            self.number("Overvotes", o.overvotes);
            self.number("Undervotes", o.undervotes);
            self.close("OtherCounts");
        }
        self.number("SubUnitsReported", c.sub_units_reported);
        self.number("TotalSubUnits", c.total_sub_units);
        self.leaf("VoteVariation", c.vote_variation);
        // The subclass's own elements follow the base's.
        if let Some(n) = c.number_elected {
            self.number("NumberElected", n);
        }
        if let Some(n) = c.votes_allowed {
            self.number("VotesAllowed", n);
        }
        if let Some(t) = c.kind {
            self.leaf("Type", t);
        }
        self.close("Contest");
    }

    fn selection(&mut self, s: &Selection) {
        self.open(
            "ContestSelection",
            &[("ObjectId", &s.id), ("xsi:type", xsi_type(s.type_))],
        );
        for v in &s.vote_counts {
            self.open("VoteCounts", &[]);
            self.leaf("GpUnitId", &v.gp_unit_id);
            self.leaf("Type", v.kind);
            self.number("Count", v.count);
            self.close("VoteCounts");
        }
        self.refs("CandidateIds", &s.candidate_ids);
        self.refs("EndorsementPartyIds", &s.endorsement_party_ids);
        self.identifiers(&s.external_identifier);
        if let Some(t) = &s.selection {
            self.text("Selection", t);
        }
        self.refs("PartyIds", &s.party_ids);
        self.close("ContestSelection");
    }

    fn gp_unit(&mut self, u: &GpUnit) {
        self.open(
            "GpUnit",
            &[("ObjectId", &u.id), ("xsi:type", xsi_type(u.type_))],
        );
        self.refs("ComposingGpUnitIds", &u.composing_gp_unit_ids);
        self.identifiers(&u.external_identifier);
        if let Some(n) = &u.name {
            self.text("Name", n);
        }
        self.count_status(&u.count_status);
        self.number("SubUnitsReported", u.sub_units_reported);
        self.number("TotalSubUnits", u.total_sub_units);
        self.leaf("Type", u.kind);
        if let Some(o) = u.other_type {
            self.leaf("OtherType", o);
        }
        if let Some(n) = u.voters_participated {
            self.number("VotersParticipated", n);
        }
        self.number("VotersRegistered", u.voters_registered);
        self.close("GpUnit");
    }
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

/// The code of the unit directly above `code` (`""` is the country).
fn parent_of(code: &str) -> &str {
    code.rsplit_once('.').map_or("", |(p, _)| p)
}

/// Refuses a package name that XML 1.0 cannot carry.
fn xml_safe(what: impl FnOnce() -> String, s: &str) -> Result<(), Error> {
    if s.chars().all(xml_char) {
        Ok(())
    } else {
        Err(Error::NotXml(what()))
    }
}

/// Every name the report carries can be written in XML.
fn check_names(election: &acta_election::Election) -> Result<(), Error> {
    xml_safe(|| "the election's name".into(), &election.name)?;
    xml_safe(|| "the log origin".into(), &election.log_origin)?;
    for p in &election.parties {
        xml_safe(|| format!("the name of party {}", p.id), &p.name)?;
    }
    for a in &election.areas {
        xml_safe(|| format!("the name of area {}", a.code), &a.name)?;
    }
    for c in &election.contests {
        xml_safe(|| format!("the name of contest {}", c.id), &c.name)?;
        for k in &c.candidates {
            xml_safe(
                || format!("the name of candidate {} of contest {}", k.id, c.id),
                &k.name,
            )?;
        }
    }
    Ok(())
}

/// The counted actas by table id, each checked to be countable with the
/// package (the one rule: `Acta::holds`), one per table.
fn by_table<'a>(
    election: &acta_election::Election,
    counted: &'a [Acta],
) -> Result<HashMap<&'a str, &'a Acta>, Error> {
    let mut out: HashMap<&str, &Acta> = HashMap::with_capacity(counted.len());
    for a in counted {
        if election.table(&a.table).is_none() {
            return Err(Error::UnknownTable(a.table.clone()));
        }
        if let Some(hold) = a.holds(election).first() {
            return Err(Error::NotCountable {
                table: a.table.clone(),
                reason: hold.to_string(),
            });
        }
        if out.insert(a.table.as_str(), a).is_some() {
            return Err(Error::CountedTwice(a.table.clone()));
        }
    }
    Ok(out)
}

/// The contest's count on an acta that `by_table` accepted.
fn count_of<'a>(acta: &'a Acta, contest: &str) -> &'a ContestCount {
    acta.contest(contest)
        .expect("a countable acta counts every contest on its ballot")
}

/// The NIST SP 1500-100 v2 election results report of the counted actas
/// (one per reporting table, in any order) at checkpoint `at`: see the
/// [module](self) for what goes where.
///
/// Refused: an acta of a table not in the package ([`Error::UnknownTable`]),
/// one that cannot be counted with this package ([`Error::NotCountable`]),
/// two for one table ([`Error::CountedTwice`]), a checkpoint whose root is
/// not 64 lowercase hex digits, whose size is below the number of actas or
/// whose time has no four-digit year ([`Error::Checkpoint`]), a contest of a
/// kind this export does not know ([`Error::UnknownContestKind`]), or a name
/// in the package that XML 1.0 cannot carry ([`Error::NotXml`]).
pub fn err_report(
    election: &acta_election::Election,
    counted: &[Acta],
    at: &AtCheckpoint,
) -> Result<Report, Error> {
    if acta_note::canon::hex32(&at.root_hex).is_none() {
        return Err(Error::Checkpoint(format!(
            "root {:?} is not 64 lowercase hex digits",
            at.root_hex.chars().take(70).collect::<String>()
        )));
    }
    if at.size < counted.len() as u64 {
        return Err(Error::Checkpoint(format!(
            "a log of {} entries cannot hold {} actas",
            at.size,
            counted.len()
        )));
    }
    let generated = acta_election::time::format(at.generated);
    if acta_election::time::parse(&generated) != Some(at.generated) {
        return Err(Error::Checkpoint(format!(
            "published at {} seconds, past the year 9999",
            at.generated
        )));
    }
    check_names(election)?;
    let actas = by_table(election, counted)?;

    // Units: the country, every area and every table, in code order (the
    // order of a walk down the tree); each area's children; tables and
    // counted tables and registered voters under each unit.
    let mut codes: Vec<&str> = vec![""];
    codes.extend(election.areas.iter().map(|a| a.code.as_str()));
    codes.extend(election.tables.iter().map(|t| t.id.as_str()));
    codes.sort_unstable();
    let known: std::collections::HashSet<&str> = codes.iter().copied().collect();
    // The nearest declared unit above a code.
    let above = |code: &str| -> String {
        let mut p = parent_of(code);
        while !known.contains(p) {
            p = parent_of(p);
        }
        p.to_string()
    };
    let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for code in codes.iter().skip(1) {
        children
            .entry(above(code))
            .or_default()
            .push(gpunit_ref(code));
    }
    // (tables, counted tables, registered voters) under each unit.
    let mut under: HashMap<String, (u64, u64, u64)> = HashMap::new();
    for t in &election.tables {
        let reported = u64::from(actas.contains_key(t.id.as_str()));
        let mut code = t.id.as_str();
        loop {
            let e = under.entry(code.to_string()).or_default();
            e.0 += 1;
            e.1 += reported;
            e.2 += u64::from(t.registered);
            if code.is_empty() {
                break;
            }
            code = parent_of(code);
        }
    }
    let gp_unit: Vec<GpUnit> = codes
        .iter()
        .map(|&code| {
            let (kind, other_type) = match Level::of(code) {
                Some(Level::Country) => ("country", None),
                Some(Level::State) => ("state", None),
                Some(Level::Municipality) => ("other", Some("municipality")),
                Some(Level::Parish) => ("other", Some("parish")),
                Some(Level::Center) => ("polling-place", None),
                Some(Level::Table) => ("precinct", None),
                _ => ("other", Some("area")),
            };
            let (tables, reported, registered) = under.get(code).copied().unwrap_or_default();
            let is_table = Level::of(code) == Some(Level::Table);
            GpUnit {
                id: gpunit_ref(code),
                type_: "ElectionResults.ReportingUnit",
                composing_gp_unit_ids: children.remove(code).unwrap_or_default(),
                count_status: vec![CountStatus::of(reported, tables)],
                external_identifier: if code.is_empty() {
                    Vec::new()
                } else {
                    vec![ExternalIdentifier::national(code)]
                },
                name: if code.is_empty() || is_table {
                    None
                } else {
                    election.area_name(code).map(Text::of)
                },
                other_type,
                sub_units_reported: reported,
                total_sub_units: tables,
                kind,
                voters_participated: actas.get(code).map(|a| a.authenticated),
                voters_registered: registered,
            }
        })
        .collect();

    // Contests, their selections and figures, table by table.
    let mut contest = Vec::with_capacity(election.contests.len());
    for c in &election.contests {
        contest.push(contest_result(election, c, &actas)?);
    }
    let candidate = election
        .contests
        .iter()
        .filter(|c| c.kind == Kind::Plurality)
        .flat_map(|c| {
            c.candidates.iter().map(move |k| Candidate {
                id: candidate_ref(&c.id, &k.id),
                type_: "ElectionResults.Candidate",
                ballot_name: Text::of(&k.name),
                external_identifier: vec![ExternalIdentifier::other("acta-candidate", &k.id)],
                party_id: match k.cards.as_slice() {
                    [only] => Some(party_ref(only)),
                    _ => None,
                },
            })
        })
        .collect();
    let ballot_counts = election
        .tables
        .iter()
        .filter_map(|t| actas.get(t.id.as_str()))
        .map(|a| BallotCounts {
            type_: "ElectionResults.BallotCounts",
            ballots_cast: a.ballots,
            gp_unit_id: gpunit_ref(&a.table),
            kind: "total",
        })
        .collect();

    let tables = election.tables.len() as u64;
    let reported = actas.len() as u64;
    let center = election
        .center_key
        .parse::<acta_note::Verifier>()
        .map(|v| v.name().to_string())
        .unwrap_or_else(|_| election.center_key.clone());
    Ok(Report {
        type_: "ElectionResults.ElectionReport",
        election: vec![Election {
            type_: "ElectionResults.Election",
            ballot_counts,
            candidate,
            contest,
            count_status: vec![CountStatus::of(reported, tables)],
            election_scope_id: gpunit_ref(""),
            end_date: election.closes.chars().take(10).collect(),
            external_identifier: vec![ExternalIdentifier::other("acta-election", &election.id)],
            name: Text::of(&election.name),
            start_date: election.opens.chars().take(10).collect(),
            kind: "general",
        }],
        external_identifier: vec![
            ExternalIdentifier::other("acta-log-origin", &election.log_origin),
            ExternalIdentifier::other("acta-checkpoint-size", at.size.to_string()),
            ExternalIdentifier::other("acta-checkpoint-root", &at.root_hex),
        ],
        format: "precinct-level",
        generated_date: generated.clone(),
        gp_unit,
        issuer: election.log_origin.clone(),
        issuer_abbreviation: center,
        notes: format!(
            "The figures of the actas of {reported} of {tables} tables, each a signed entry of \
             the public log {} read at its checkpoint of size {} and root hash {} (hex), \
             published {generated}. Check them: mirror the log up to that checkpoint, verify \
             every acta's signature and add them again.",
            election.log_origin, at.size, at.root_hex
        ),
        party: election
            .parties
            .iter()
            .map(|p| Party {
                id: party_ref(&p.id),
                type_: "ElectionResults.Party",
                abbreviation: Text::of(&p.id),
                external_identifier: vec![ExternalIdentifier::other("acta-party", &p.id)],
                name: Text::of(&p.name),
            })
            .collect(),
        sequence_end: 1,
        sequence_start: 1,
        status: if reported == tables {
            "unofficial-complete"
        } else {
            "unofficial-partial"
        },
        vendor_application_id: VENDOR_APPLICATION,
    })
}

/// One contest's definition and its figures at every counted table.
fn contest_result(
    election: &acta_election::Election,
    c: &Contest,
    actas: &HashMap<&str, &Acta>,
) -> Result<ContestResult, Error> {
    let mut external_identifier = vec![ExternalIdentifier::other("acta-contest", &c.id)];
    let (type_, selection_type, vote_variation, seats, kind) = match c.kind {
        Kind::Plurality => (
            "ElectionResults.CandidateContest",
            "ElectionResults.CandidateSelection",
            if c.seats == 1 { "plurality" } else { "n-of-m" },
            Some(c.seats),
            None,
        ),
        Kind::Referendum => (
            "ElectionResults.BallotMeasureContest",
            "ElectionResults.BallotMeasureSelection",
            "majority",
            None,
            Some("referendum"),
        ),
        Kind::PartyList => {
            if let Some(Ok(serde_json::Value::String(m))) = c.method.map(serde_json::to_value) {
                external_identifier.push(ExternalIdentifier::other("acta-method", m));
            }
            external_identifier.push(ExternalIdentifier::other("acta-seats", c.seats.to_string()));
            (
                "ElectionResults.PartyContest",
                "ElectionResults.PartySelection",
                "proportional",
                None,
                None,
            )
        }
        _ => return Err(Error::UnknownContestKind(c.id.clone())),
    };
    let choices = c.choices();
    let mut contest_selection: Vec<Selection> = choices
        .iter()
        .map(|choice| {
            let mut s = Selection {
                id: selection_ref(&c.id, choice),
                type_: selection_type,
                candidate_ids: Vec::new(),
                endorsement_party_ids: Vec::new(),
                external_identifier: Vec::new(),
                party_ids: Vec::new(),
                selection: None,
                vote_counts: Vec::new(),
            };
            match c.kind {
                Kind::Plurality => {
                    let (candidate, card) = choice.split_once('/').unwrap_or((choice, ""));
                    s.candidate_ids = vec![candidate_ref(&c.id, candidate)];
                    s.endorsement_party_ids = vec![party_ref(card)];
                }
                Kind::Referendum => {
                    s.external_identifier = vec![ExternalIdentifier::other("acta-choice", choice)];
                    s.selection = Some(Text::of(choice));
                }
                _ => s.party_ids = vec![party_ref(choice)],
            }
            s
        })
        .collect();
    let allowed = u64::from(c.max_marks());
    let mut other_counts = Vec::new();
    let (mut total, mut reported) = (0u64, 0u64);
    for t in election.tables.iter().filter(|t| c.applies_to(&t.id)) {
        total += 1;
        let Some(acta) = actas.get(t.id.as_str()) else {
            continue;
        };
        reported += 1;
        let unit = gpunit_ref(&t.id);
        let count = count_of(acta, &c.id);
        let mut votes = 0u64;
        for (s, (_, n)) in contest_selection.iter_mut().zip(&count.votes) {
            votes += u64::from(*n);
            s.vote_counts.push(VoteCounts {
                type_: "ElectionResults.VoteCounts",
                count: u64::from(*n),
                gp_unit_id: unit.clone(),
                kind: "total",
            });
        }
        let overvotes = allowed * u64::from(count.null);
        other_counts.push(OtherCounts {
            type_: "ElectionResults.OtherCounts",
            gp_unit_id: unit,
            overvotes,
            // A countable acta's votes fit its ballots: never below zero.
            undervotes: (allowed * u64::from(acta.ballots)).saturating_sub(votes + overvotes),
        });
    }
    Ok(ContestResult {
        id: contest_ref(&c.id),
        type_,
        abbreviation: c.id.clone(),
        contest_selection,
        count_status: vec![CountStatus::of(reported, total)],
        election_district_id: gpunit_ref(&c.scope),
        external_identifier,
        name: c.name.clone(),
        number_elected: seats,
        other_counts,
        sub_units_reported: reported,
        total_sub_units: total,
        kind,
        vote_variation,
        votes_allowed: seats,
    })
}

/// One CSV field, quoted when RFC 4180 needs it.
fn csv_field(s: &str, out: &mut String) {
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn csv_row(fields: &[&str], out: &mut String) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(f, out);
    }
    out.push_str("\r\n");
}

/// The header of [`table_csv`].
pub const CSV_HEADER: [&str; 9] = [
    "table",
    "contest",
    "choice",
    "candidate",
    "party",
    "votes",
    "registered",
    "authenticated",
    "ballots",
];

/// The counted actas' figures as RFC 4180 CSV (see the [module](self#csv)):
/// tables in package order (whatever the order of `counted`), contests and
/// choices in acta order, then `(blank)` and `(null)`. The figures are
/// written as the actas say them, one block per acta given (the caller
/// gives one counted acta per table, as to [`err_report`], which refuses
/// anything else); a choice the package does not know is written with no
/// names.
pub fn table_csv(election: &acta_election::Election, counted: &[Acta]) -> String {
    let mut actas: Vec<&Acta> = counted.iter().collect();
    actas.sort_by(|a, b| a.table.cmp(&b.table));
    let party_name: HashMap<&str, &str> = election
        .parties
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    let mut out = String::new();
    csv_row(&CSV_HEADER, &mut out);
    for a in actas {
        let (registered, authenticated, ballots) = (
            a.registered.to_string(),
            a.authenticated.to_string(),
            a.ballots.to_string(),
        );
        for count in &a.contests {
            let contest = election.contest(&count.contest);
            let kind = contest.map(|c| c.kind);
            for (choice, n) in &count.votes {
                let (candidate, party) = match kind {
                    Some(Kind::Plurality) => {
                        let (k, card) = choice.split_once('/').unwrap_or((choice, ""));
                        let name = contest
                            .and_then(|c| c.candidates.iter().find(|x| x.id == k))
                            .map_or("", |x| x.name.as_str());
                        (name, party_name.get(card).copied().unwrap_or(""))
                    }
                    Some(Kind::PartyList) => {
                        ("", party_name.get(choice.as_str()).copied().unwrap_or(""))
                    }
                    _ => ("", ""),
                };
                csv_row(
                    &[
                        &a.table,
                        &count.contest,
                        choice,
                        candidate,
                        party,
                        &n.to_string(),
                        &registered,
                        &authenticated,
                        &ballots,
                    ],
                    &mut out,
                );
            }
            for (choice, n) in [
                (acta_election::BLANK, count.blank),
                (acta_election::NULL, count.null),
            ] {
                csv_row(
                    &[
                        &a.table,
                        &count.contest,
                        choice,
                        "",
                        "",
                        &n.to_string(),
                        &registered,
                        &authenticated,
                        &ballots,
                    ],
                    &mut out,
                );
            }
        }
    }
    out
}
