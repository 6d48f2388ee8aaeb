//! The election package: everything a machine, the center and an observer must
//! agree on before the first vote — geography, each table's roll commitment,
//! the contests and their choices, the software release, each machine's
//! certified key and the center's log key.
//!
//! The package travels as a signed note (SYSTEM.md §1) whose text is one line
//! of canonical JSON. "Canonical" is enforced, not hoped for: a package text is
//! accepted only if re-encoding the parsed value gives back the very same bytes,
//! so two packages with the same meaning cannot differ in their bytes. It is
//! signed by the authority and countersigned by the parties' auditors; a
//! [`Trust`] says which keys count and how many must have signed.
//!
//! This crate does no I/O: it takes bytes and returns values.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod apportion;
mod define;
mod request;
mod roll;
pub mod time;

use std::collections::HashSet;

use acta_note::canon;
use serde::{Deserialize, Serialize};

pub use apportion::{apportion, seats, Method};
pub use define::{define, Definition, TableDefinition, DEFINITION_FORMAT};
pub use request::{CertRequest, REQUEST_FORMAT};
pub use roll::{override_code_hash, Roll, RollCommitment, Voter};

/// The first field of every package; bumped on any incompatible change.
pub const FORMAT: &str = "election/v1";

/// Why a package, roll or trust file was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The package text is not the JSON acta expects.
    #[error("election package is not valid: {0}")]
    Json(String),
    /// The JSON is valid but not in canonical form.
    #[error("election package is not canonical: re-encoding it changes bytes at offset {0}")]
    NotCanonical(usize),
    /// The package is structurally wrong.
    #[error("election package: {0}")]
    Invalid(String),
    /// A roll is malformed or does not match its commitment.
    #[error("roll line {line}: {what}")]
    Roll {
        /// 1-based line (0 when the whole roll is at fault).
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// A trust file is malformed.
    #[error("trust file line {line}: {what}")]
    Trust {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// A machine's certificate request is malformed.
    #[error("certificate request line {line}: {what}")]
    Request {
        /// 1-based line (0 when the whole text is at fault).
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The definition, requests and rolls do not make a package.
    #[error("cannot define the election: {0}")]
    Define(String),
    /// The package signatures do not satisfy the trust quorum.
    #[error("election package signatures: {0}")]
    Signature(#[from] acta_note::Error),
}

/// A political party: one "card" on the ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Short code, e.g. `PDA`.
    pub id: String,
    /// Full name.
    pub name: String,
}

/// What kind of question a contest asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Kind {
    /// Vote for up to `seats` candidates; each vote is for a candidate on one
    /// party card, and is counted per card.
    Plurality,
    /// Yes or no.
    Referendum,
    /// Vote for one party list; seats shared by `method`.
    PartyList,
}

/// A candidate in a plurality contest and the party cards they stand on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    /// Short code, unique in the contest, e.g. `C03`.
    pub id: String,
    /// Name as printed on the ballot.
    pub name: String,
    /// Party ids whose cards carry this candidate.
    pub cards: Vec<String>,
}

/// One question on the ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contest {
    /// Short code, e.g. `PRES` or `GOB-07`.
    pub id: String,
    /// Title as printed on the ballot.
    pub name: String,
    /// The area whose tables vote on it; empty for the whole country.
    pub scope: String,
    /// The kind of question.
    pub kind: Kind,
    /// Plurality: how many a voter may choose (and who wins). Party list: seats.
    pub seats: u32,
    /// Party list: the apportionment method.
    pub method: Option<Method>,
    /// Plurality: the candidates.
    pub candidates: Vec<Candidate>,
    /// Party list: the party ids with a list.
    pub lists: Vec<String>,
}

/// Choice codes of a referendum.
pub const REFERENDUM_CHOICES: [&str; 2] = ["NO", "YES"];

impl Contest {
    /// Every figure an acta counts for this contest: its
    /// [`choices`](Contest::choices), then [`BLANK`] and [`NULL`].
    pub fn slots(&self) -> Vec<String> {
        let mut out = self.choices();
        out.push(BLANK.to_string());
        out.push(NULL.to_string());
        out
    }

    /// The codes counted on the acta for this contest, in canonical (byte) order:
    /// `candidate/party` per card for plurality, `NO`/`YES` for a referendum,
    /// the party id for a list.
    pub fn choices(&self) -> Vec<String> {
        let mut out: Vec<String> = match self.kind {
            Kind::Plurality => self
                .candidates
                .iter()
                .flat_map(|c| c.cards.iter().map(move |card| format!("{}/{}", c.id, card)))
                .collect(),
            Kind::Referendum => REFERENDUM_CHOICES.iter().map(|s| s.to_string()).collect(),
            Kind::PartyList => self.lists.clone(),
        };
        out.sort();
        out
    }

    /// Whether `id` is one of [`Contest::choices`], without building them.
    pub fn is_choice(&self, id: &str) -> bool {
        match self.kind {
            Kind::Plurality => id.split_once('/').is_some_and(|(c, card)| {
                self.candidates
                    .iter()
                    .any(|k| k.id == c && k.cards.iter().any(|p| p == card))
            }),
            Kind::Referendum => REFERENDUM_CHOICES.contains(&id),
            Kind::PartyList => self.lists.iter().any(|l| l == id),
        }
    }

    /// Whether `ids` are exactly [`Contest::choices`], in their order,
    /// without building them (every acta is held to this): strictly sorted,
    /// each a choice, as many as there are.
    pub fn has_choices<'a>(&self, ids: impl ExactSizeIterator<Item = &'a str> + Clone) -> bool {
        let count = match self.kind {
            Kind::Plurality => self.candidates.iter().map(|c| c.cards.len()).sum(),
            Kind::Referendum => REFERENDUM_CHOICES.len(),
            Kind::PartyList => self.lists.len(),
        };
        ids.len() == count
            && ids.clone().zip(ids.clone().skip(1)).all(|(a, b)| a < b)
            && ids.into_iter().all(|id| self.is_choice(id))
    }

    /// How many choices one ballot may mark in this contest.
    pub fn max_marks(&self) -> u32 {
        match self.kind {
            Kind::Plurality => self.seats,
            _ => 1,
        }
    }

    /// Whether a table votes on this contest.
    pub fn applies_to(&self, table_id: &str) -> bool {
        self.scope.is_empty()
            || (table_id.starts_with(&self.scope)
                && table_id.as_bytes().get(self.scope.len()) == Some(&b'.'))
    }
}

/// A named area of the geography: a state, municipality, parish or voting center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Dotted code; its number of parts is its level (see [`Level`]).
    pub code: String,
    /// Name.
    pub name: String,
}

/// A polling table: its roll commitment and its certified machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// `SS.MMM.PP.CCCC.TT`: state, municipality, parish, center, table.
    pub id: String,
    /// Registered voters on the roll.
    pub registered: u32,
    /// SHA-256 (hex) of the table's canonical roll text.
    pub roll: String,
    /// Machine id.
    pub machine: String,
    /// The machine's certified verifier key (`name+id+key`), whose name is the
    /// machine id. Only this key can sign for this table.
    pub key: String,
    /// `key`, parsed once (the center opens tens of thousands of actas).
    #[serde(skip)]
    verifier: std::sync::OnceLock<Result<acta_note::Verifier, acta_note::Error>>,
}

impl Table {
    /// The machine's certified key, parsed from [`Table::key`] once.
    pub fn verifier(&self) -> Result<&acta_note::Verifier, acta_note::Error> {
        self.verifier
            .get_or_init(|| self.key.parse())
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The levels of the geography, from the whole country down to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Level {
    /// The whole country (empty code).
    Country,
    /// `SS`.
    State,
    /// `SS.MMM`.
    Municipality,
    /// `SS.MMM.PP`.
    Parish,
    /// `SS.MMM.PP.CCCC`.
    Center,
    /// `SS.MMM.PP.CCCC.TT`.
    Table,
}

/// Digit widths of the parts of a table id.
const ID_WIDTHS: [usize; 5] = [2, 3, 2, 4, 2];

impl Level {
    /// The level of a dotted code, if it is well formed.
    pub fn of(code: &str) -> Option<Level> {
        if code.is_empty() {
            return Some(Level::Country);
        }
        let parts: Vec<&str> = code.split('.').collect();
        if parts.len() > 5 {
            return None;
        }
        for (p, w) in parts.iter().zip(ID_WIDTHS) {
            if p.len() != w || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
        }
        Some(
            [
                Level::State,
                Level::Municipality,
                Level::Parish,
                Level::Center,
                Level::Table,
            ][parts.len() - 1],
        )
    }

    /// The enclosing areas of a table id, from the state down to its center.
    pub fn ancestors(table_id: &str) -> Vec<&str> {
        table_id
            .match_indices('.')
            .map(|(i, _)| &table_id[..i])
            .collect()
    }
}

/// The whole election definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Election {
    /// Always [`FORMAT`].
    pub format: String,
    /// Election id, `[A-Z0-9-]`, e.g. `VE-2026-12-06`.
    pub id: String,
    /// Human title.
    pub name: String,
    /// Scheduled opening (canonical UTC, see [`time`]).
    pub opens: String,
    /// Scheduled closing.
    pub closes: String,
    /// SHA-256 (hex) of the only software release machines may run.
    pub software: String,
    /// Origin line of the center's public log.
    pub log_origin: String,
    /// The center's verifier key: it signs checkpoints and announcements.
    pub center_key: String,
    /// Witnesses that cosign the log's checkpoints (C2SP tlog-witness), run
    /// by parties and observer missions, never by the authority.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<Witness>,
    /// How many distinct witness cosignatures make a checkpoint public.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub witness_quorum: u32,
    /// Authentication overrides per table above which the machine raises an alarm.
    pub override_alarm: u32,
    /// Parties.
    pub parties: Vec<Party>,
    /// Contests, sorted by id.
    pub contests: Vec<Contest>,
    /// Named areas, sorted by code.
    pub areas: Vec<Area>,
    /// Tables, sorted by id.
    pub tables: Vec<Table>,
    /// [`Election::table`]'s index over `tables`, built on first use.
    #[serde(skip)]
    pub(crate) table_index: TableIndex,
}

/// Every table id packed into a `u64` (its 13 digits), in table order: a
/// binary search over 8 bytes a table stays in cache where one over the
/// tables themselves misses it twice a probe — the center looks up one
/// table per acta. An index found stale (the public `tables` changed after
/// it was built) is never trusted: a hit is checked against the table's own
/// id, and a miss falls back to searching the tables.
#[derive(Clone, Default)]
pub(crate) struct TableIndex(std::sync::OnceLock<Vec<u64>>);

impl TableIndex {
    fn position(&self, tables: &[Table], id: &str) -> Option<usize> {
        let packed = self.0.get_or_init(|| {
            tables
                .iter()
                .map(|t| pack_table_id(&t.id).unwrap_or(u64::MAX))
                .collect()
        });
        let i = packed.binary_search(&pack_table_id(id)?).ok()?;
        (tables.get(i)?.id == id).then_some(i)
    }
}

impl std::fmt::Debug for TableIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TableIndex")
    }
}

/// An index is not part of what an election is.
impl PartialEq for TableIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for TableIndex {}

/// The digits of a well-formed table id (`SS.MMM.PP.CCCC.TT`) as one
/// number; ids of that fixed-width form sort as their numbers do.
fn pack_table_id(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut n = 0u64;
    for (i, &c) in b.iter().enumerate() {
        match (i, c) {
            (2 | 6 | 9 | 14, b'.') => {}
            (2 | 6 | 9 | 14, _) => return None,
            (_, b'0'..=b'9') => n = n * 10 + u64::from(c - b'0'),
            _ => return None,
        }
    }
    Some(n)
}

/// A witness of the log: who it is and where it takes checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    /// Its cosignature/v1 verifier key (`name+id+base64(0x04 ‖ key)`).
    pub key: String,
    /// Its submission prefix: `<url>/add-checkpoint`.
    pub url: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_code(s: &str) -> bool {
    canon::is_id(s)
}

fn is_hex32(s: &str) -> bool {
    canon::hex32(s).is_some()
}

/// The pseudo-choice under which blank ballots of a contest are tallied in
/// flat `choice → votes` maps; it cannot clash with a choice code.
pub const BLANK: &str = "(blank)";
/// The pseudo-choice for null (voided) ballots; see [`BLANK`].
pub const NULL: &str = "(null)";

/// The candidate of a plurality choice code `candidate/card` (the code
/// itself for other kinds of contest).
pub fn candidate_of(choice: &str) -> &str {
    choice.split_once('/').map_or(choice, |(c, _)| c)
}

impl Election {
    /// The witnesses' keys and submission URLs, checked: keys parse as
    /// cosignature keys, no public key twice, URLs are http(s), and the
    /// quorum can be met.
    pub fn witness_keys(
        &self,
    ) -> Result<Vec<(acta_note::cosignature::CosignatureVerifier, String)>, Error> {
        let mut out: Vec<(acta_note::cosignature::CosignatureVerifier, String)> = Vec::new();
        for w in &self.witnesses {
            let key: acta_note::cosignature::CosignatureVerifier = w
                .key
                .parse()
                .map_err(|e| Error::Invalid(format!("witness key {:?}: {e}", w.key)))?;
            if out.iter().any(|(k, _)| k.public_key() == key.public_key()) {
                return Err(Error::Invalid(format!(
                    "witness {} repeats a public key: a witness quorum counts distinct keys",
                    key.name()
                )));
            }
            if !(w.url.starts_with("http://") || w.url.starts_with("https://"))
                || w.url.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(Error::Invalid(format!(
                    "witness url {:?} is not an http(s) URL",
                    w.url
                )));
            }
            out.push((key, w.url.clone()));
        }
        if self.witness_quorum as usize > out.len() {
            return Err(Error::Invalid(format!(
                "a witness quorum of {} cannot be met by {} witnesses",
                self.witness_quorum,
                out.len()
            )));
        }
        Ok(out)
    }

    /// The canonical text that is signed: compact JSON and a newline.
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string(self).expect("election serializes");
        s.push('\n');
        s
    }

    /// Parses a package text, demanding canonical form and a valid structure.
    pub fn parse(text: &str) -> Result<Election, Error> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| Error::Invalid("package text must end with a newline".into()))?;
        let e: Election = serde_json::from_str(body).map_err(|err| Error::Json(err.to_string()))?;
        let again = e.to_text();
        if again != text {
            let at = again
                .bytes()
                .zip(text.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(again.len().min(text.len()));
            return Err(Error::NotCanonical(at));
        }
        e.validate()?;
        Ok(e)
    }

    /// Verifies the package note against `trust` and parses it.
    pub fn open(note: &[u8], trust: &Trust) -> Result<Election, Error> {
        let text = trust.quorum.open(note)?;
        Election::parse(text)
    }

    /// Structural rules every consumer relies on.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Invalid(m));
        if self.format != FORMAT {
            return bad(format!("format is {:?}, expected {FORMAT:?}", self.format));
        }
        if !is_code(&self.id) {
            return bad(format!(
                "election id {:?} must be 1-32 of A-Z, 0-9, '-'",
                self.id
            ));
        }
        let (Some(opens), Some(closes)) = (time::parse(&self.opens), time::parse(&self.closes))
        else {
            return bad(
                "opens/closes must be canonical UTC times like 2026-12-06T06:00:00Z".into(),
            );
        };
        if opens >= closes {
            return bad("the table must open before it closes".into());
        }
        if !is_hex32(&self.software) {
            return bad("software must be a lowercase hex SHA-256".into());
        }
        if self.center_key.parse::<acta_note::Verifier>().is_err() {
            return bad("center_key is not a verifier key".into());
        }
        if let Err(e) = self.witness_keys() {
            return bad(e.to_string());
        }
        if self.log_origin.is_empty()
            || self.log_origin.len() > 200
            || !self.log_origin.bytes().all(|b| b.is_ascii_graphic())
        {
            return bad("log_origin must be printable ASCII without spaces".into());
        }
        let parties: HashSet<&str> = self.parties.iter().map(|p| p.id.as_str()).collect();
        if parties.len() != self.parties.len() || !self.parties.iter().all(|p| is_code(&p.id)) {
            return bad("party ids must be unique codes".into());
        }
        let areas: HashSet<&str> = self.areas.iter().map(|a| a.code.as_str()).collect();
        if !self.areas.windows(2).all(|w| w[0].code < w[1].code) {
            return bad("areas must be sorted by code without duplicates".into());
        }
        for a in &self.areas {
            match Level::of(&a.code) {
                Some(Level::Country) | Some(Level::Table) | None => {
                    return bad(format!(
                        "area code {:?} is not a state, municipality, parish or center",
                        a.code
                    ))
                }
                _ => {}
            }
        }
        if !self.contests.windows(2).all(|w| w[0].id < w[1].id) {
            return bad("contests must be sorted by id without duplicates".into());
        }
        for c in &self.contests {
            if !is_code(&c.id) {
                return bad(format!("contest id {:?} is not a code", c.id));
            }
            if !c.scope.is_empty() && !areas.contains(c.scope.as_str()) {
                return bad(format!("contest {} has unknown scope {:?}", c.id, c.scope));
            }
            let ok = match c.kind {
                Kind::Plurality => {
                    c.method.is_none()
                        && c.lists.is_empty()
                        && c.seats >= 1
                        && (c.seats as usize) < c.candidates.len().max(2)
                        && c.candidates.iter().all(|k| {
                            is_code(&k.id)
                                && !k.cards.is_empty()
                                && k.cards.iter().all(|p| parties.contains(p.as_str()))
                        })
                        && c.candidates
                            .iter()
                            .map(|k| &k.id)
                            .collect::<HashSet<_>>()
                            .len()
                            == c.candidates.len()
                        && c.candidates
                            .iter()
                            .all(|k| k.cards.iter().collect::<HashSet<_>>().len() == k.cards.len())
                }
                Kind::Referendum => {
                    c.method.is_none()
                        && c.seats == 0
                        && c.candidates.is_empty()
                        && c.lists.is_empty()
                }
                Kind::PartyList => {
                    c.method.is_some()
                        && c.seats >= 1
                        && c.candidates.is_empty()
                        && !c.lists.is_empty()
                        && c.lists.iter().all(|p| parties.contains(p.as_str()))
                        && c.lists.iter().collect::<HashSet<_>>().len() == c.lists.len()
                }
            };
            if !ok {
                return bad(format!(
                    "contest {} is not a well-formed {:?} contest",
                    c.id, c.kind
                ));
            }
        }
        if self.tables.is_empty() || !self.tables.windows(2).all(|w| w[0].id < w[1].id) {
            return bad("tables must be non-empty and sorted by id without duplicates".into());
        }
        // Every machine key decoded once, on every core, and kept for the
        // verification of that table's notes.
        {
            use rayon::prelude::*;
            if let Some((t, e)) = self
                .tables
                .par_iter()
                .find_map_first(|t| t.verifier().err().map(|e| (t, e)))
            {
                return bad(format!("table {}: machine key: {e}", t.id));
            }
        }
        let mut machines = HashSet::new();
        let mut keys = HashSet::new();
        for t in &self.tables {
            if Level::of(&t.id) != Some(Level::Table) {
                return bad(format!("table id {:?} is not SS.MMM.PP.CCCC.TT", t.id));
            }
            if let Some(a) = Level::ancestors(&t.id)
                .into_iter()
                .find(|a| !areas.contains(a))
            {
                return bad(format!("table {} lies in undeclared area {a}", t.id));
            }
            if !is_hex32(&t.roll) {
                return bad(format!(
                    "table {}: roll must be a lowercase hex SHA-256",
                    t.id
                ));
            }
            let key = t
                .verifier()
                .map_err(|e| Error::Invalid(format!("table {}: machine key: {e}", t.id)))?;
            if key.name() != t.machine || !is_code(&t.machine) {
                return bad(format!(
                    "table {}: machine key must be named after machine {}",
                    t.id, t.machine
                ));
            }
            if !machines.insert(t.machine.as_str()) {
                return bad(format!(
                    "machine {} is certified for more than one table",
                    t.machine
                ));
            }
            if !keys.insert(key.public_key()) {
                return bad(format!(
                    "table {}: machine {} has a public key already certified for another table",
                    t.id, t.machine
                ));
            }
        }
        Ok(())
    }

    /// The table with this id.
    pub fn table(&self, id: &str) -> Option<&Table> {
        let i = match self.table_index.position(&self.tables, id) {
            Some(i) => i,
            None => self
                .tables
                .binary_search_by(|t| t.id.as_str().cmp(id))
                .ok()?,
        };
        Some(&self.tables[i])
    }

    /// The contests on the ballot of a table, sorted by id.
    pub fn ballot(&self, table_id: &str) -> Vec<&Contest> {
        self.contests
            .iter()
            .filter(|c| c.applies_to(table_id))
            .collect()
    }

    /// The contest with this id.
    pub fn contest(&self, id: &str) -> Option<&Contest> {
        self.contests.iter().find(|c| c.id == id)
    }

    /// Total registered voters.
    pub fn registered(&self) -> u64 {
        self.tables.iter().map(|t| t.registered as u64).sum()
    }

    /// The area codes at a level (states, municipalities, ...).
    pub fn areas_at(&self, level: Level) -> Vec<&Area> {
        self.areas
            .iter()
            .filter(|a| Level::of(&a.code) == Some(level))
            .collect()
    }

    /// Names of every area, for display.
    pub fn area_name(&self, code: &str) -> Option<&str> {
        if code.is_empty() {
            return Some(&self.name);
        }
        self.areas
            .binary_search_by(|a| a.code.as_str().cmp(code))
            .ok()
            .map(|i| self.areas[i].name.as_str())
    }
}

/// Whose signatures make a package authentic, and how many are needed.
///
/// Written as a small text file, `quorum N` and then one `key <verifier key>`
/// line per trusted key — the authority's and each party auditor's:
///
/// ```text
/// quorum 3
/// key authority+5a1c09f2+AR…
/// key auditor-pda+0c3e7710+AX…
/// ```
///
/// Strict like every signed format: `N` a canonical decimal between 1 and
/// the number of keys, each key canonical, no public key listed twice (under
/// one name or two), no blank or other lines, a final newline.
#[derive(Debug, Clone)]
pub struct Trust {
    /// Keys and threshold.
    pub quorum: acta_note::Quorum,
}

impl Trust {
    /// The text form.
    pub fn to_text(&self) -> String {
        let mut s = format!("quorum {}\n", self.quorum.need);
        for v in &self.quorum.verifiers {
            s.push_str(&format!("key {v}\n"));
        }
        s
    }

    /// Parses the text form strictly.
    pub fn parse(text: &str) -> Result<Trust, Error> {
        let bad = |line, what: &str| Error::Trust {
            line,
            what: what.to_string(),
        };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad(text.matches('\n').count() + 1, "must end with a newline"))?;
        let mut lines = body.split('\n').enumerate().map(|(i, l)| (i + 1, l));
        let (_, first) = lines.next().ok_or_else(|| bad(1, "empty trust file"))?;
        let need = first
            .strip_prefix("quorum ")
            .and_then(canon::decimal)
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                bad(
                    1,
                    "first line must be 'quorum N', N a decimal >= 1 without leading zeros",
                )
            })?;
        let mut verifiers: Vec<acta_note::Verifier> = Vec::new();
        for (n, line) in lines {
            let key = line
                .strip_prefix("key ")
                .ok_or_else(|| bad(n, "expected 'key <verifier key>'"))?;
            let v: acta_note::Verifier = key
                .parse()
                .map_err(|e: acta_note::Error| bad(n, &e.to_string()))?;
            if v.to_string() != key {
                return Err(bad(n, "key is not in canonical form"));
            }
            if let Some(first) = verifiers.iter().find(|o| o.public_key() == v.public_key()) {
                return Err(bad(
                    n,
                    &format!(
                        "key {} is the same public key as {}: a quorum counts distinct keys",
                        v.name(),
                        first.name()
                    ),
                ));
            }
            verifiers.push(v);
        }
        let keys = verifiers.len();
        let quorum = acta_note::Quorum::new(verifiers, need as usize).map_err(|_| {
            bad(
                1,
                &format!("a quorum of {need} cannot be met by the {keys} keys listed"),
            )
        })?;
        let t = Trust { quorum };
        debug_assert_eq!(t.to_text(), text);
        Ok(t)
    }

    /// Who among the trusted keys signed a package, and whether they are
    /// enough: what `acta election show` tells an auditor before and after
    /// countersigning.
    pub fn signers(&self, package: &[u8]) -> Result<(Vec<String>, bool), Error> {
        let by = self.quorum.signers(package)?;
        let names: Vec<String> = by.iter().map(|v| v.name().to_string()).collect();
        let met = by.len() >= self.quorum.need;
        Ok((names, met))
    }
}
