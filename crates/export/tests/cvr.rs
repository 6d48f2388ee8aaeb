//! NIST SP 1500-103 cast vote records of a simulated table: valid against
//! NIST's published JSON schema (vendored byte for byte in `schema/`),
//! canonical, untimed and unordered, bound to the acta by its records root,
//! and built only from records the station could have written.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, OnceLock};

use acta_export::cvr::{cvr_report, parse_record, records_root, Mark, Report};
use acta_export::Error;
use acta_station::Station;
use acta_synth::ceremony::{run as ceremony, Ceremony};
use acta_synth::generate::Options;
use acta_synth::simulate::run_table;
use proptest::prelude::*;
use serde_json::Value;

/// NIST's schema, exactly as published.
const SCHEMA: &str = include_str!("../schema/NIST_V0_cast_vote_records.json");

/// Where the schema is registered with the validator (never fetched).
const SCHEMA_URL: &str = "file:///acta-export/schema/NIST_V0_cast_vote_records.json";

/// A simulated table's day: the ceremony, the table, its ballot records,
/// its signed acta and the station's own records root.
struct Day {
    g: Ceremony,
    index: usize,
    table: String,
    records: Vec<String>,
    acta: String,
    station_root: [u8; 32],
}

fn day() -> &'static Day {
    static DAY: OnceLock<Day> = OnceLock::new();
    DAY.get_or_init(|| {
        let g = ceremony(&Options {
            seed: 11,
            tables: 3,
        });
        let index = 1;
        let (roll, codes) = g.roll(index);
        let (station, day) = run_table(
            &g.election,
            index,
            roll,
            &codes,
            g.machines[index].clone(),
            4242,
        )
        .expect("a simulated day runs");
        Day {
            table: g.election.tables[index].id.clone(),
            index,
            records: day.records,
            acta: day.acta,
            station_root: station.records_root(),
            g,
        }
    })
}

/// The canonical writer of ballot records: a real station of the day's
/// table, open, casting each ballot for the next voter on its roll (a fresh
/// station when the roll runs out).
struct Writer {
    station: Station,
    voters: Vec<acta_election::Voter>,
    next: usize,
    now: u64,
}

impl Writer {
    fn new(d: &Day) -> Writer {
        let (roll, _) = d.g.roll(d.index);
        let voters = roll.voters.clone();
        let mut station =
            Station::provision(&d.g.election, &d.table, roll, d.g.machines[d.index].clone())
                .expect("provisioned");
        let opens = acta_election::time::parse(&d.g.election.opens).expect("canonical");
        station.open(opens).expect("the table opens");
        Writer {
            station,
            voters,
            next: 0,
            now: opens,
        }
    }
}

/// The ballot record the station writes for these marks (in ballot order).
fn write(marks: &[acta_station::Mark]) -> Result<String, acta_station::Error> {
    static W: OnceLock<Mutex<Writer>> = OnceLock::new();
    let mut w = W
        .get_or_init(|| Mutex::new(Writer::new(day())))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if w.next == w.voters.len() {
        *w = Writer::new(day());
    }
    let voter = w.voters[w.next].clone();
    w.next += 1;
    w.now += 1;
    let now = w.now;
    w.station
        .authenticate(now, &voter.id, voter.template, None)
        .expect("a voter on the roll, once");
    w.station.cast(now, marks).inspect_err(|_| {
        let _ = w.station.abandon(now);
    })
}

/// The contests on the day's table's ballot.
fn ballot() -> Vec<acta_election::Contest> {
    let d = day();
    d.g.election.ballot(&d.table).into_iter().cloned().collect()
}

/// The validator, compiled once from the vendored schema.
fn validator() -> &'static (boon::Schemas, boon::SchemaIndex) {
    static V: OnceLock<(boon::Schemas, boon::SchemaIndex)> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler
            .add_resource(SCHEMA_URL, schema)
            .expect("the schema registers");
        let index = compiler
            .compile(SCHEMA_URL, &mut schemas)
            .unwrap_or_else(|e| panic!("the NIST schema compiles: {e:#}"));
        (schemas, index)
    })
}

fn validate(doc: &Value) -> Result<(), String> {
    let (schemas, index) = validator();
    schemas.validate(doc, *index).map_err(|e| format!("{e:#}"))
}

fn json(report: &Report) -> Value {
    serde_json::from_str(&report.to_json()).expect("the report is JSON")
}

fn marks_text(marks: &[acta_station::Mark]) -> String {
    format!("{marks:?}")
}

/// Records that exercise every mapping: partial votes in a vote-for-3
/// contest, blank and null contests, every kind of contest.
fn crafted() -> Vec<String> {
    let ballot = ballot();
    let mut out = Vec::new();
    for variant in 0..4 {
        let marks: Vec<acta_station::Mark> = ballot
            .iter()
            .map(|c| {
                let choices = c.choices();
                match variant {
                    0 => acta_station::Mark::Blank,
                    1 => acta_station::Mark::Null,
                    2 => acta_station::Mark::Choices(vec![choices[0].clone()]),
                    _ => {
                        // As many distinct candidates as allowed.
                        let mut picked: Vec<String> = Vec::new();
                        for ch in choices.iter().rev() {
                            let cand = acta_election::candidate_of(ch);
                            if picked.len() < c.max_marks() as usize
                                && !picked
                                    .iter()
                                    .any(|p| acta_election::candidate_of(p) == cand)
                            {
                                picked.push(ch.clone());
                            }
                        }
                        acta_station::Mark::Choices(picked)
                    }
                }
            })
            .collect();
        out.push(write(&marks).unwrap_or_else(|e| panic!("{}: {e}", marks_text(&marks))));
    }
    out
}

#[test]
fn the_report_validates_against_the_published_nist_schema() {
    let d = day();
    assert!(d.records.len() > 50, "a real day has many ballots");
    let report = cvr_report(&d.g.election, &d.table, &d.records).unwrap();
    assert_eq!(report.cvr.len(), d.records.len());
    let doc = json(&report);
    validate(&doc).unwrap_or_else(|e| panic!("the report is not valid SP 1500-103: {e}"));

    // The crafted records cover blank, null, partial and full marks of
    // every kind of contest; an empty table is valid too.
    let crafted = crafted();
    let doc = json(&cvr_report(&d.g.election, &d.table, &crafted).unwrap());
    validate(&doc).unwrap_or_else(|e| panic!("crafted report: {e}"));
    let text = doc.to_string();
    for needle in [
        "\"OtherStatus\":\"null\"",
        "\"not-indicated\"",
        "\"undervoted\"",
        "CVR.CandidateContest",
        "CVR.BallotMeasureContest",
        "CVR.PartyContest",
        "CVR.CandidateSelection",
        "CVR.BallotMeasureSelection",
        "CVR.PartySelection",
        "\"VoteVariation\":\"n-of-m\"",
    ] {
        assert!(text.contains(needle), "the crafted report lacks {needle}");
    }
    let empty = json(&cvr_report(&d.g.election, &d.table, &[]).unwrap());
    validate(&empty).unwrap_or_else(|e| panic!("empty report: {e}"));
    assert_eq!(empty["CVR"], Value::Array(vec![]));
}

/// A deliberate break of a valid report.
type Breaks = Box<dyn Fn(&mut Value)>;

#[test]
fn the_validator_rejects_broken_reports() {
    let d = day();
    let good = json(&cvr_report(&d.g.election, &d.table, &crafted()).unwrap());
    validate(&good).unwrap();
    let broken: Vec<(&str, Breaks)> = vec![
        (
            "a CVR with a wrong @type",
            Box::new(|v| v["CVR"][0]["@type"] = "CVR.Ballot".into()),
        ),
        (
            "no GeneratedDate",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("GeneratedDate");
            }),
        ),
        (
            "a GeneratedDate that is not a date-time",
            Box::new(|v| v["GeneratedDate"] = "at closing".into()),
        ),
        (
            "a CVR without a snapshot",
            Box::new(|v| v["CVR"][1]["CVRSnapshot"] = Value::Array(vec![])),
        ),
        (
            "an indication that is neither yes, no nor unknown",
            Box::new(|v| {
                let marked = v["CVR"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .flat_map(|c| c["CVRSnapshot"][0]["CVRContest"].as_array_mut().unwrap())
                    .find(|c| c.get("CVRContestSelection").is_some())
                    .unwrap();
                marked["CVRContestSelection"][0]["SelectionPosition"][0]["HasIndication"] =
                    "maybe".into();
            }),
        ),
        (
            "a field the schema does not define",
            Box::new(|v| v["CVR"][0]["BallotTime"] = "2026-12-06T10:00:00Z".into()),
        ),
        (
            "a party selection naming no party",
            Box::new(|v| {
                let contests = v["Election"][0]["Contest"].as_array_mut().unwrap();
                let list = contests
                    .iter_mut()
                    .find(|c| c["@type"] == "CVR.PartyContest")
                    .unwrap();
                list["ContestSelection"][0]["PartyIds"] = Value::Array(vec![]);
            }),
        ),
        (
            "an unknown version",
            Box::new(|v| v["Version"] = "1.0".into()),
        ),
    ];
    for (what, breaks) in broken {
        let mut doc = good.clone();
        breaks(&mut doc);
        assert_ne!(doc, good, "{what}: the mutation changed nothing");
        assert!(
            validate(&doc).is_err(),
            "the validator accepted a report with {what}"
        );
    }
}

#[test]
fn the_same_ballots_in_any_order_give_the_same_bytes() {
    let d = day();
    let once = cvr_report(&d.g.election, &d.table, &d.records)
        .unwrap()
        .to_json();
    let mut reversed = d.records.clone();
    reversed.reverse();
    let mut interleaved: Vec<String> = d.records.iter().step_by(2).cloned().collect();
    interleaved.extend(d.records.iter().skip(1).step_by(2).cloned());
    let mut sorted = d.records.clone();
    sorted.sort();
    for other in [reversed, interleaved, sorted] {
        assert_ne!(other, d.records);
        let again = cvr_report(&d.g.election, &d.table, &other)
            .unwrap()
            .to_json();
        assert!(once == again, "another order gave other bytes");
    }
    // And other ballots give other bytes.
    let fewer = cvr_report(&d.g.election, &d.table, &d.records[1..])
        .unwrap()
        .to_json();
    assert_ne!(once, fewer);
}

/// Every key of the JSON tree with the path to it, and every string value.
fn walk<'a>(v: &'a Value, path: &str, keys: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                keys.push((k.clone(), x));
                walk(x, &format!("{path}/{k}"), keys);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, &format!("{path}/{i}"), keys);
            }
        }
        _ => {}
    }
}

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Looks like an RFC 3339 date: `dddd-dd-dd`.
fn has_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(10).any(|w| {
        w.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
    })
}

#[test]
fn nothing_in_the_report_times_or_orders_the_ballots() {
    let d = day();
    let doc = json(&cvr_report(&d.g.election, &d.table, &d.records).unwrap());
    let mut keys = Vec::new();
    walk(&doc, "", &mut keys);
    let mut generated = 0;
    for (key, value) in &keys {
        // "Candidate" spells "date" by accident; it is no time.
        let word = key.replace("Candidate", "").to_ascii_lowercase();
        if ["time", "date", "sequence"]
            .iter()
            .any(|w| word.contains(w))
        {
            assert_eq!(
                key, "GeneratedDate",
                "key {key} times or orders the ballots"
            );
            assert_eq!(
                value.as_str(),
                Some(d.g.election.closes.as_str()),
                "GeneratedDate is the package's closing time"
            );
            generated += 1;
        }
        assert!(
            ![
                "BallotAuditId",
                "BatchId",
                "BallotSheetId",
                "BallotPrePrintedId"
            ]
            .contains(&key.as_str()),
            "key {key} would number the ballots"
        );
    }
    assert_eq!(generated, 1, "exactly one GeneratedDate, at the top");
    // No other value carries a date.
    let mut values = Vec::new();
    strings(&doc, &mut values);
    let dated: Vec<&&str> = values.iter().filter(|s| has_date(s)).collect();
    assert_eq!(dated, vec![&d.g.election.closes.as_str()]);

    // The CVRs are in leaf-hash order, and each UniqueId is its position in
    // that order and its record's leaf hash — nothing else.
    let mut leaves: Vec<[u8; 32]> = d
        .records
        .iter()
        .map(|r| acta_tlog::leaf_hash(r.as_bytes()))
        .collect();
    leaves.sort();
    let cvrs = doc["CVR"].as_array().unwrap();
    assert_eq!(cvrs.len(), leaves.len());
    for (i, (cvr, leaf)) in cvrs.iter().zip(&leaves).enumerate() {
        assert_eq!(
            cvr["UniqueId"].as_str().unwrap(),
            format!("{}-{}", i + 1, hex::encode(leaf))
        );
    }
}

#[test]
fn the_report_carries_the_records_root_of_the_acta() {
    let d = day();
    let report = cvr_report(&d.g.election, &d.table, &d.records).unwrap();
    // Computed here from acta_tlog directly.
    let mut leaves: Vec<[u8; 32]> = d
        .records
        .iter()
        .map(|r| acta_tlog::leaf_hash(r.as_bytes()))
        .collect();
    leaves.sort();
    let root = acta_tlog::root_of(&leaves);
    assert_eq!(records_root(&d.records), root);
    assert_eq!(d.station_root, root, "the station commits to the same root");
    let acta = acta_sheet::Acta::open(d.acta.as_bytes(), &d.g.election)
        .unwrap()
        .acta;
    assert_eq!(
        acta.records, root,
        "the signed acta commits to the same root"
    );
    let expected = format!("records {} ", hex::encode(root));
    assert!(
        report.notes.starts_with(&expected),
        "Notes {:?} does not begin with {expected:?}",
        report.notes
    );
    let doc = json(&report);
    assert_eq!(doc["Notes"].as_str(), Some(report.notes.as_str()));
    // The order of the records does not move the root.
    let mut reversed = d.records.clone();
    reversed.reverse();
    assert_eq!(records_root(&reversed), root);
    assert_eq!(records_root(&[]), acta_tlog::empty_root());
}

/// Rebuilds each CVR's ballot record from the JSON alone, and checks every
/// reference and the vote arithmetic on the way.
#[test]
fn every_cvr_gives_back_its_ballot_record() {
    let d = day();
    let mut records = d.records.clone();
    records.extend(crafted());
    let doc = json(&cvr_report(&d.g.election, &d.table, &records).unwrap());

    // Every @id is defined once; every reference names a defined @id.
    let mut keys = Vec::new();
    walk(&doc, "", &mut keys);
    let mut ids = HashSet::new();
    for (k, v) in &keys {
        if k == "@id" {
            assert!(ids.insert(v.as_str().unwrap()), "@id {v} defined twice");
        }
    }
    for (k, v) in &keys {
        let refs: Vec<&str> = match (k.as_str(), v) {
            (k, Value::String(s)) if k.ends_with("Id") && k != "UniqueId" => vec![s.as_str()],
            (k, Value::Array(a)) if k.ends_with("Ids") => {
                a.iter().map(|x| x.as_str().unwrap()).collect()
            }
            _ => continue,
        };
        for r in refs {
            assert!(ids.contains(r), "{k} refers to undefined {r}");
        }
    }

    // Selection @id → acta choice code; contest @id → (acta id, votes allowed).
    let election = &doc["Election"][0];
    let mut choice_of: BTreeMap<&str, &str> = BTreeMap::new();
    let mut contest_of: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
    let code = |v: &'static str, node: &Value| -> Option<String> {
        node["Code"]
            .as_array()?
            .iter()
            .find(|c| c["OtherType"] == v)
            .map(|c| c["Value"].as_str().unwrap().to_string())
    };
    let mut owned: Vec<String> = Vec::new();
    for c in election["Contest"].as_array().unwrap() {
        owned.push(code("acta-contest", c).unwrap());
        for s in c["ContestSelection"].as_array().unwrap() {
            owned.push(code("acta-choice", s).unwrap());
        }
    }
    let mut it = owned.iter();
    for c in election["Contest"].as_array().unwrap() {
        let id = it.next().unwrap().as_str();
        let allowed = c["VotesAllowed"].as_u64().unwrap_or(1);
        contest_of.insert(c["@id"].as_str().unwrap(), (id, allowed));
        for s in c["ContestSelection"].as_array().unwrap() {
            choice_of.insert(s["@id"].as_str().unwrap(), it.next().unwrap().as_str());
        }
    }

    let mut rebuilt = Vec::new();
    for cvr in doc["CVR"].as_array().unwrap() {
        let snaps = cvr["CVRSnapshot"].as_array().unwrap();
        assert_eq!(snaps.len(), 1);
        assert_eq!(snaps[0]["Type"], "original");
        assert_eq!(cvr["CurrentSnapshotId"], snaps[0]["@id"]);
        let mut text = String::from("ballot/v1\n");
        for c in snaps[0]["CVRContest"].as_array().unwrap() {
            let (id, allowed) = contest_of[c["ContestId"].as_str().unwrap()];
            let selections = c["CVRContestSelection"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let over = c["Overvotes"].as_u64().unwrap();
            let under = c["Undervotes"].as_u64().unwrap();
            assert_eq!(
                over + under + selections.len() as u64,
                allowed,
                "votes allowed = overvotes + undervotes + votes"
            );
            let status: Vec<&str> = c["Status"]
                .as_array()
                .map(|a| a.iter().map(|s| s.as_str().unwrap()).collect())
                .unwrap_or_default();
            let mark = if !selections.is_empty() {
                for s in &selections {
                    let pos = &s["SelectionPosition"];
                    assert_eq!(pos.as_array().unwrap().len(), 1);
                    assert_eq!(pos[0]["HasIndication"], "yes");
                    assert_eq!(pos[0]["NumberVotes"], 1);
                    assert_eq!(pos[0]["IsAllocable"], "yes");
                }
                selections
                    .iter()
                    .map(|s| choice_of[s["ContestSelectionId"].as_str().unwrap()])
                    .collect::<Vec<_>>()
                    .join(",")
            } else if c["OtherStatus"] == "null" {
                assert_eq!((over, under, status), (allowed, 0, vec!["other"]));
                "null".to_string()
            } else {
                assert_eq!(
                    (over, under, status),
                    (0, allowed, vec!["not-indicated", "undervoted"])
                );
                "blank".to_string()
            };
            text.push_str(&format!("{id} {mark}\n"));
        }
        rebuilt.push(text);
    }
    let mut expected: Vec<(String, [u8; 32])> = records
        .iter()
        .map(|r| (r.clone(), acta_tlog::leaf_hash(r.as_bytes())))
        .collect();
    expected.sort_by_key(|a| a.1);
    let expected: Vec<String> = expected.into_iter().map(|(r, _)| r).collect();
    assert_eq!(rebuilt, expected);
}

fn refused(records: &[String], table: &str) -> Error {
    let d = day();
    cvr_report(&d.g.election, table, records).expect_err("refused")
}

#[test]
fn malformed_records_are_refused_naming_the_record_and_the_line() {
    let d = day();
    let good = crafted();
    let sample = &good[3]; // full marks in every contest
    let lines: Vec<&str> = sample.lines().collect();
    let contests = lines.len() - 1;
    assert!(contests >= 4, "{sample}");
    let replace = |n: usize, with: &str| -> String {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        l[n - 1] = with.to_string();
        l.join("\n") + "\n"
    };
    let pres = lines
        .iter()
        .position(|l| l.starts_with("PRES "))
        .expect("PRES on every ballot")
        + 1;
    let cle = lines
        .iter()
        .position(|l| l.starts_with("CLE-"))
        .expect("a vote-for-3 contest")
        + 1;
    let cle_id = lines[cle - 1].split(' ').next().unwrap();
    let cases: Vec<(String, usize, &str)> = vec![
        (sample.trim_end().to_string(), contests + 1, "newline"),
        (
            sample.replace("ballot/v1", "ballot/v2"),
            1,
            "expected \"ballot/v1\"",
        ),
        (sample.replace('\n', "\r\n"), 1, "expected \"ballot/v1\""),
        (format!("\n{sample}"), 1, "expected \"ballot/v1\""),
        (format!("{sample}\n"), contests + 2, "no line may follow"),
        (
            format!("{sample}PRES blank\n"),
            contests + 2,
            "no line may follow",
        ),
        (
            lines[..contests].join("\n") + "\n",
            contests + 1,
            "missing the line",
        ),
        (replace(pres, "PRES"), pres, "expected '<contest> <mark>'"),
        (replace(pres, "PRES  blank"), pres, "is not a choice"),
        (replace(pres, "PRES blank "), pres, "is not a choice"),
        (replace(pres, "PRES Blank"), pres, "is not a choice"),
        (replace(pres, "PRES "), pres, "is not a choice"),
        (
            replace(pres, "PRES C9/PDA"),
            pres,
            "\"C9/PDA\" is not a choice of contest PRES",
        ),
        (
            replace(pres, "PRES G1/PDA"),
            pres,
            "is not a choice of contest PRES",
        ),
        (replace(pres, "PRES c1/pda"), pres, "is not a choice"),
        (
            replace(pres, "PRES C1/PDA,C2/UPL"),
            pres,
            "2 choices marked in contest PRES, which allows 1",
        ),
        (replace(pres, "pres blank"), pres, "expected contest PRES"),
        (replace(pres, "XYZ blank"), pres, "expected contest PRES"),
        (
            replace(cle, &format!("{cle_id} L2/UPL,L1/PDA")),
            cle,
            "not sorted without repeats",
        ),
        (
            replace(cle, &format!("{cle_id} L1/PDA,L1/PDA")),
            cle,
            "not sorted without repeats",
        ),
        (
            replace(cle, &format!("{cle_id} L1/PDA,,L2/UPL")),
            cle,
            "\"\" is not a choice",
        ),
        (
            replace(cle, &format!("{cle_id} L1/PDA,L2/UPL,L3/MRC,L4/AVZ")),
            cle,
            "4 choices marked",
        ),
        (
            // Two contests swapped: ballot order is the only order.
            {
                let mut l: Vec<&str> = lines.clone();
                l.swap(1, 2);
                l.join("\n") + "\n"
            },
            2,
            "ballot order",
        ),
    ];
    for (bad, line, what) in cases {
        // Among good records, at position 2.
        let mut records = good.clone();
        records.insert(2, bad.clone());
        let e = refused(&records, &d.table);
        match &e {
            Error::Record {
                record,
                line: l,
                what: w,
            } => {
                assert_eq!((*record, *l), (2, line), "{bad:?}: wrong place in {e}");
                assert!(w.contains(what), "{bad:?}: {e} does not say {what:?}");
            }
            other => panic!("{bad:?}: {other}"),
        }
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("ballot record 2, line {line}: ")),
            "{shown}"
        );
    }
    // A record of another ballot: a contest this table does not vote on.
    let foreign = sample.replacen("PRES ", "ZZZ ", 1);
    assert!(matches!(
        refused(&[foreign], &d.table),
        Error::Record { record: 0, .. }
    ));
    // An unknown table.
    assert_eq!(
        refused(&good, "99.999.99.9999.99"),
        Error::UnknownTable("99.999.99.9999.99".into())
    );
    // A candidate on two cards, marked twice, in a vote-for-3 contest.
    let mut election = d.g.election.clone();
    let contest = election
        .contests
        .iter_mut()
        .find(|c| c.id == cle_id)
        .unwrap();
    contest.candidates[0].cards.push("AVZ".into());
    let first = contest.candidates[0].id.clone();
    let twice = replace(cle, &format!("{cle_id} {first}/AVZ,{first}/PDA"));
    let e = cvr_report(&election, &d.table, &[twice]).expect_err("refused");
    assert!(
        e.to_string().contains("one candidate marked on two cards"),
        "{e}"
    );
}

/// The day's station writes the parsed marks back: the canonical writer.
fn rewritten(marks: &[(String, Mark)]) -> String {
    let marks: Vec<acta_station::Mark> = marks
        .iter()
        .map(|(_, m)| match m {
            Mark::Blank => acta_station::Mark::Blank,
            Mark::Null => acta_station::Mark::Null,
            Mark::Choices(c) => acta_station::Mark::Choices(c.clone()),
            other => panic!("unknown mark {other:?}"),
        })
        .collect();
    write(&marks).expect("accepted marks are valid marks")
}

/// Any text is either refused or is exactly what the station writes for
/// what was parsed from it.
fn refused_or_canonical(text: &str) -> Result<(), TestCaseError> {
    let d = day();
    match parse_record(&d.g.election, &d.table, 0, text) {
        Err(Error::Record {
            record: 0, line, ..
        }) => {
            prop_assert!(line >= 1 && line <= text.split('\n').count() + 1);
        }
        Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
        Ok(parsed) => {
            prop_assert_eq!(parsed.to_text(), text);
            prop_assert_eq!(rewritten(&parsed.marks), text);
            let report = cvr_report(&d.g.election, &d.table, &[text.to_string()]);
            prop_assert!(report.is_ok());
        }
    }
    Ok(())
}

/// A valid record from random marks, written by the station.
fn valid_record() -> impl Strategy<Value = String> {
    let ballot = ballot();
    let per: Vec<BoxedStrategy<acta_station::Mark>> = ballot
        .iter()
        .map(|c| {
            let choices = c.choices();
            let max = c.max_marks() as usize;
            prop_oneof![
                1 => Just(acta_station::Mark::Blank),
                1 => Just(acta_station::Mark::Null),
                6 => proptest::sample::subsequence(choices, 1..=max).prop_map(|cs| {
                    // Keep one card per candidate, as the station demands.
                    let mut seen = HashSet::new();
                    let cs: Vec<String> = cs
                        .into_iter()
                        .filter(|c| seen.insert(acta_election::candidate_of(c).to_string()))
                        .collect();
                    acta_station::Mark::Choices(cs)
                }),
            ]
            .boxed()
        })
        .collect();
    per.prop_map(|marks| write(&marks).expect("valid marks"))
}

/// Bytes that make plausible damage to a ballot record.
fn splice() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\n".to_string()),
        Just(" ".to_string()),
        Just(",".to_string()),
        Just("/".to_string()),
        Just("\r".to_string()),
        Just("blank".to_string()),
        Just("null".to_string()),
        Just("C1/PDA".to_string()),
        Just("YES".to_string()),
        Just("PDA".to_string()),
        Just("é".to_string()),
        "[A-Z0-9/,. \n-]{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn records_the_station_writes_are_accepted_and_round_trip(text in valid_record()) {
        let d = day();
        let parsed = parse_record(&d.g.election, &d.table, 0, &text).unwrap();
        prop_assert_eq!(parsed.to_text(), text.clone());
        prop_assert_eq!(rewritten(&parsed.marks), text);
    }

    #[test]
    fn damaged_records_are_refused_or_round_trip(
        text in valid_record(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..8,
        with in splice(),
    ) {
        // Replace `cut` bytes at a char boundary with `with`.
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let start = bounds[at.index(bounds.len())];
        let end = bounds.iter().copied().find(|&b| b >= start + cut).unwrap_or(text.len());
        let damaged = format!("{}{}{}", &text[..start], with, &text[end..]);
        refused_or_canonical(&damaged)?;
    }

    #[test]
    fn arbitrary_text_is_refused_or_round_trips(text in "ballot/v1\n[A-Z0-9/,. \n-]{0,80}|\\PC{0,60}") {
        refused_or_canonical(&text)?;
    }
}
