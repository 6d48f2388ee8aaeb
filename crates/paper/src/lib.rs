//! The printed artifacts of a polling-table machine (SYSTEM.md §3, §4, §6):
//! the zero report, the voter's receipt and the acta, rendered as a
//! thermal printer prints them — 58 mm (384 dots) or 80 mm (576 dots) wide at
//! 203 dpi, black on white — both as a PNG image (one pixel per dot) and as
//! SVG; and the signed acta or zero report read back from a PNG of its
//! printout ([`read_png`]), the way a witness's phone or the observer reads
//! the paper.
//!
//! Text uses the public-domain 8×8 bitmap font of `font8x8`, drawn at 2×
//! (16×16 dots a character: 23 characters a line on 58 mm, 35 on 80 mm)
//! and at 3× for the security code. Long lines wrap; a label and its value
//! share a line (value flush right) when both fit. QR codes are
//! `acta_sheet::qr` codes (level M, byte mode, 4-module quiet zone), drawn
//! centered with the largest whole number of dots per module that fits the
//! paper (2 to 6), so every module stays square; nothing is printed inside a
//! quiet zone.
//!
//! **Zero report** ([`zero_report`]): `ZERO REPORT` / `ACTA DE INICIO`;
//! election, table, machine, opening time, registered voters,
//! authenticated 0, ballots 0; every contest of the ballot at 0; the
//! software release and the journal head (first 16 hex digits); the
//! security code (`acta_sheet::security_code`) in large type; then each QR
//! part of the whole signed note, labelled `QR i/n`.
//!
//! **Receipt** ([`receipt`]): `RECEIPT` / `COMPROBANTE`; for each contest
//! of the ballot record, in record order, the contest code (and its name
//! when the package is given), then each marked choice code (with the
//! candidate's name and party card, or the list's party name), or `BLANK`
//! or `NULL`; then one QR code of the ballot record text, byte for byte.
//! Nothing else: no time, no sequence number, no table, nothing that could
//! order ballots or link one to a voter — the record itself cannot carry a
//! time, since every value on it is a code of `A-Z 0-9 . - /`.
//!
//! **Acta** ([`acta()`]): `ACTA DE ESCRUTINIO` / `TALLY SHEET` (and the
//! election's name when the package is given); election, table, machine,
//! opening and closing times; registered, authenticated, overrides,
//! ballots; per contest its code (and name), each choice code with its
//! votes (with the candidate's name and party card, or the list's party),
//! blank and null; every alarm by name with its count; the records root and
//! journal head (first 16 hex digits); the security code in large type;
//! then every QR part of the signed note (`acta_sheet::qr::split` at
//! `DEFAULT_CHUNK`), stacked, each labelled `QR i/n`.
//!
//! The QR codes carry the exact signed bytes, and [`read_png`] returns them
//! only if every part is there, readable and chained to the others: a
//! damaged code, a missing part or a part pasted from another acta is
//! refused. The text is for people; only the QR bytes and the signature on
//! them are evidence.
//!
//! This crate does no I/O: it takes bytes and returns values.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod layout;

use acta_election::{candidate_of, time, Election, Kind};
use acta_sheet::{Acta, ZeroReport, ALARMS};

use layout::{Doc, LARGE, NORMAL};

/// Paper width of a thermal receipt printer at 203 dpi.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Width {
    /// 58 mm paper: 384 dots.
    Mm58,
    /// 80 mm paper: 576 dots.
    Mm80,
}

impl Width {
    /// Printable width in dots (pixels of the PNG).
    pub fn dots(self) -> u32 {
        match self {
            Width::Mm58 => 384,
            Width::Mm80 => 576,
        }
    }

    /// Paper width in millimetres (the SVG's width).
    pub fn mm(self) -> u32 {
        match self {
            Width::Mm58 => 58,
            Width::Mm80 => 80,
        }
    }
}

/// One printout, as a PNG image (one pixel per printer dot, the paper's
/// width in dots) and as SVG (the paper's width in millimetres).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printout {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// SVG text.
    pub svg: String,
}

/// Why a printout could not be made or read back.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes are not the signed document the printout is for: not a
    /// signed note, not canonical `zero/v1` or `acta/v1`, or — when the
    /// package is given — not signed by its table's certified machine.
    #[error("not a valid {what}: {cause}")]
    Document {
        /// `zero report` or `acta`.
        what: &'static str,
        /// Why, with the line number where there is one.
        cause: acta_sheet::Error,
    },
    /// The text is not a `ballot/v1` record (or, with the package, names a
    /// contest or choice the package does not have).
    #[error("not a ballot record: {0}")]
    Record(String),
    /// A QR code could not be made, or does not fit the paper.
    #[error("QR code: {0}")]
    Qr(String),
    /// The printout image could not be read back: not an image, no QR code,
    /// a damaged code, or parts missing, repeated differently or from
    /// different documents.
    #[error("reading the printout: {0}")]
    Read(acta_sheet::Error),
}

/// First 16 hex digits of a hash: enough for a person to compare.
fn short(hash: &[u8; 32]) -> String {
    hex::encode(&hash[..8])
}

fn security(doc: &mut Doc, signed: &[u8]) {
    doc.rule();
    doc.center("SECURITY CODE", NORMAL);
    doc.center("CODIGO DE SEGURIDAD", NORMAL);
    doc.gap(4);
    doc.center(&acta_sheet::security_code(signed), LARGE);
}

/// Every QR part of a signed note, stacked, each labelled `QR i/n`.
fn parts(doc: &mut Doc, signed: &[u8]) -> Result<(), Error> {
    let parts = acta_sheet::qr::split(signed, acta_sheet::qr::DEFAULT_CHUNK);
    let n = parts.len();
    doc.rule();
    doc.center(
        &format!("SCAN ALL {n} QR PART{}", if n == 1 { "" } else { "S" }),
        NORMAL,
    );
    for (i, p) in parts.iter().enumerate() {
        doc.gap(8);
        doc.center(&format!("QR {}/{n}", i + 1), NORMAL);
        doc.qr(p)?;
    }
    Ok(())
}

fn finish(doc: Doc) -> Printout {
    Printout {
        png: doc.png(),
        svg: doc.svg(),
    }
}

/// The zero report a machine prints when its table opens, from its signed
/// note (`zero/v1`). The note is parsed, not verified: the machine prints
/// what it signed.
pub fn zero_report(signed: &[u8], width: Width) -> Result<Printout, Error> {
    let bad = |cause: acta_sheet::Error| Error::Document {
        what: "zero report",
        cause,
    };
    let note = acta_note::Note::parse(signed).map_err(|e| bad(e.into()))?;
    let z = ZeroReport::parse(note.text).map_err(bad)?;
    let mut doc = Doc::new(width);
    doc.center("ZERO REPORT", NORMAL);
    doc.center("ACTA DE INICIO", NORMAL);
    doc.rule();
    doc.pair("Election", &z.election);
    doc.pair("Table", &z.table);
    doc.pair("Machine", &z.machine);
    doc.pair("Opened", &time::format(z.opened));
    doc.pair("Registered", &z.registered.to_string());
    doc.pair("Authenticated", "0");
    doc.pair("Ballots", "0");
    doc.rule();
    doc.line("CONTESTS (ALL AT ZERO)");
    for c in &z.contests {
        doc.pair(c, "0");
    }
    doc.rule();
    doc.pair("Software", &short(&z.software));
    doc.pair("Journal", &short(&z.journal));
    security(&mut doc, signed);
    parts(&mut doc, signed)?;
    Ok(finish(doc))
}

/// One contest line of a ballot record.
struct Marked<'a> {
    contest: &'a str,
    /// `blank`, `null`, or the choice codes.
    marks: Vec<&'a str>,
}

/// Parses a `ballot/v1` record: `ballot/v1`, then one `<contest> <marks>`
/// line per contest, where marks are `blank`, `null` or choice codes
/// joined by `,`; every value a code; each line ending in a newline.
fn parse_record<'a>(
    record: &'a str,
    election: Option<&Election>,
) -> Result<Vec<Marked<'a>>, Error> {
    let bad = |m: String| Error::Record(m);
    let body = record
        .strip_prefix("ballot/v1\n")
        .ok_or_else(|| bad("the first line must be 'ballot/v1'".into()))?;
    let body = body
        .strip_suffix('\n')
        .ok_or_else(|| bad("a record has at least one contest and ends with a newline".into()))?;
    let mut out: Vec<Marked> = Vec::new();
    for (k, line) in body.split('\n').enumerate() {
        let n = k + 2;
        let (contest, marks) = line
            .split_once(' ')
            .ok_or_else(|| bad(format!("line {n}: expected '<contest> <marks>'")))?;
        if !acta_note::canon::is_code(contest) {
            return Err(bad(format!("line {n}: contest '{contest}' is not a code")));
        }
        if out.iter().any(|m| m.contest == contest) {
            return Err(bad(format!("line {n}: contest {contest} appears twice")));
        }
        let marks: Vec<&str> = marks.split(',').collect();
        let special = marks.len() == 1 && matches!(marks[0], "blank" | "null");
        if !special && !marks.iter().all(|m| acta_note::canon::is_code(m)) {
            return Err(bad(format!(
                "line {n}: marks must be 'blank', 'null' or choice codes joined by ','"
            )));
        }
        if let Some(e) = election {
            let c = e
                .contest(contest)
                .ok_or_else(|| bad(format!("line {n}: no contest {contest} in the package")))?;
            let choices = c.choices();
            if let Some(m) = marks
                .iter()
                .find(|m| !special && !choices.iter().any(|c| c == *m))
            {
                return Err(bad(format!("line {n}: {m} is not a choice of {contest}")));
            }
        }
        out.push(Marked { contest, marks });
    }
    Ok(out)
}

/// The name printed under a choice code: the candidate and the party card
/// (plurality), or the list's party (party list); none for a referendum or
/// without the package.
fn choice_name(election: Option<&Election>, contest: &str, choice: &str) -> Option<String> {
    let e = election?;
    let c = e.contest(contest)?;
    let party = |id: &str| {
        e.parties
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
    };
    match c.kind {
        Kind::Plurality => {
            let cand = c.candidates.iter().find(|x| x.id == candidate_of(choice))?;
            let card = choice.split_once('/').map_or("", |(_, card)| card);
            Some(format!("{} ({card})", cand.name))
        }
        Kind::PartyList => party(choice),
        _ => None,
    }
}

fn contest_header(doc: &mut Doc, election: Option<&Election>, contest: &str) {
    doc.line(contest);
    if let Some(c) = election.and_then(|e| e.contest(contest)) {
        doc.line(&c.name);
    }
}

/// The voter's receipt for a ballot record (`ballot/v1`, as
/// `Station::cast` returns it). With the package, contest and candidate
/// names are printed too, and the record must name only its contests and
/// choices. The receipt carries the record and nothing else: no time, no
/// sequence number, nothing that orders ballots.
pub fn receipt(record: &str, election: Option<&Election>, width: Width) -> Result<Printout, Error> {
    let lines = parse_record(record, election)?;
    let mut doc = Doc::new(width);
    doc.center("RECEIPT", NORMAL);
    doc.center("COMPROBANTE", NORMAL);
    for m in &lines {
        doc.rule();
        contest_header(&mut doc, election, m.contest);
        for mark in &m.marks {
            match *mark {
                "blank" => doc.line("  BLANK / EN BLANCO"),
                "null" => doc.line("  NULL / NULO"),
                choice => {
                    doc.line(&format!("  {choice}"));
                    if let Some(name) = choice_name(election, m.contest, choice) {
                        doc.line(&format!("    {name}"));
                    }
                }
            }
        }
    }
    doc.rule();
    doc.gap(8);
    doc.qr(record.as_bytes())?;
    doc.center("CHECK, THEN DROP IN THE BOX", NORMAL);
    Ok(finish(doc))
}

/// The acta a machine prints when its table closes, from its signed note
/// (`acta/v1`). Without the package the note is parsed, not verified; with
/// it the note must also open as the center opens it (`Acta::open`: its
/// table's certified machine, alone), so the paper never carries an acta the
/// center would refuse, and names are printed beside the codes.
pub fn acta(signed: &[u8], election: Option<&Election>, width: Width) -> Result<Printout, Error> {
    let bad = |cause: acta_sheet::Error| Error::Document {
        what: "acta",
        cause,
    };
    let a = match election {
        Some(e) => Acta::open(signed, e).map_err(bad)?.acta,
        None => {
            let note = acta_note::Note::parse(signed).map_err(|e| bad(e.into()))?;
            Acta::parse(note.text).map_err(bad)?
        }
    };
    let mut doc = Doc::new(width);
    doc.center("ACTA DE ESCRUTINIO", NORMAL);
    doc.center("TALLY SHEET", NORMAL);
    if let Some(e) = election {
        doc.center(&e.name, NORMAL);
    }
    doc.rule();
    doc.pair("Election", &a.election);
    doc.pair("Table", &a.table);
    doc.pair("Machine", &a.machine);
    doc.pair("Opened", &time::format(a.opened));
    doc.pair("Closed", &time::format(a.closed));
    doc.rule();
    doc.pair("Registered", &a.registered.to_string());
    doc.pair("Authenticated", &a.authenticated.to_string());
    doc.pair("Overrides", &a.overrides.to_string());
    doc.pair("Ballots", &a.ballots.to_string());
    for c in &a.contests {
        doc.rule();
        contest_header(&mut doc, election, &c.contest);
        for (choice, n) in &c.votes {
            doc.pair(choice, &n.to_string());
            if let Some(name) = choice_name(election, &c.contest, choice) {
                doc.line(&format!("  {name}"));
            }
        }
        doc.pair("Blank", &c.blank.to_string());
        doc.pair("Null", &c.null.to_string());
    }
    doc.rule();
    doc.line("ALARMS");
    for (alarm, n) in ALARMS.iter().zip(a.alarms) {
        doc.pair(alarm.name(), &n.to_string());
    }
    doc.rule();
    doc.pair("Records", &short(&a.records));
    doc.pair("Journal", &short(&a.journal));
    security(&mut doc, signed);
    parts(&mut doc, signed)?;
    Ok(finish(doc))
}

/// Reads the signed note (an acta or a zero report) back from a PNG of its
/// printout — or of any image holding all its QR parts: decodes every QR
/// code and joins the parts into the exact signed bytes. Refused: an image
/// that does not decode, no QR code, a code that cannot be read, a missing
/// part, or parts of different documents. The bytes are not verified here:
/// open them against the package (`acta_sheet::Entry::open`).
pub fn read_png(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let payloads = acta_sheet::qr::decode_png(bytes).map_err(Error::Read)?;
    acta_sheet::qr::join(&payloads).map_err(Error::Read)
}

/// Reads the ballot record back from a PNG of a receipt: exactly one QR
/// code whose content is a `ballot/v1` record (the same code seen twice in
/// one photo is one code; two different codes are refused).
pub fn read_receipt_png(bytes: &[u8]) -> Result<String, Error> {
    let mut payloads = acta_sheet::qr::decode_png(bytes).map_err(Error::Read)?;
    if payloads.len() != 1 {
        return Err(Error::Read(acta_sheet::Error::Qr(format!(
            "a receipt has one QR code, the image has {}",
            payloads.len()
        ))));
    }
    let record = String::from_utf8(payloads.remove(0))
        .map_err(|_| Error::Record("the QR code is not text".into()))?;
    parse_record(&record, None)?;
    Ok(record)
}
