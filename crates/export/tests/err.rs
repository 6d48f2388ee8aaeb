//! NIST SP 1500-100 v2 election results of simulated elections: the JSON
//! valid against NIST's published JSON schema and the XML against NIST's
//! published XSD (both vendored byte for byte in `schema/`), every figure
//! the actas', every reference resolved, bound to the log checkpoint, and
//! the CSV read back as the actas.
//!
//! The XSD is checked with `xmllint` (Debian's `libxml2-utils`), which
//! `scripts/test` installs: without it these tests fail, they do not skip.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use acta_election::Kind;
use acta_export::err::{err_report, table_csv, AtCheckpoint, Report, CSV_HEADER, NAMESPACE};
use acta_export::Error;
use acta_sheet::Acta;
use acta_synth::ceremony::{run as ceremony, Ceremony};
use acta_synth::generate::Options;
use serde_json::Value;

/// NIST's JSON schema, exactly as published.
const SCHEMA: &str = include_str!("../schema/NIST_V2_election_results_reporting.json");

/// Where the JSON schema is registered with the validator (never fetched).
const SCHEMA_URL: &str = "file:///acta-export/schema/NIST_V2_election_results_reporting.json";

/// NIST's XSD, exactly as published.
const XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schema/NIST_V2_election_results_reporting.xsd"
);

/// An election and the counted acta of each of its tables (package order),
/// with the ballot records behind each when the day was voted through a
/// station.
struct Fixture {
    g: Ceremony,
    actas: Vec<Acta>,
    records: Vec<Vec<String>>,
}

/// Four tables, each a whole election day voted through the real station
/// code, its signed acta opened as the center opens it.
fn voted() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let g = ceremony(&Options {
            seed: 11,
            tables: 4,
        });
        let mut actas = Vec::new();
        let mut records = Vec::new();
        for i in 0..g.election.tables.len() {
            let day = g.day(i, 4242 + i as u64);
            let opened = Acta::open(day.acta.as_bytes(), &g.election).expect("authentic");
            assert!(opened.counts(), "{:?}", opened.holds);
            actas.push(opened.acta);
            records.push(day.records);
        }
        Fixture { g, actas, records }
    })
}

/// 130 tables in two states (each with its own governor and legislative
/// contests), with signed actas made straight from simulated counts.
fn wide() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let g = ceremony(&Options {
            seed: 7,
            tables: 130,
        });
        let actas = acta_synth::direct::actas(&g, 99)
            .iter()
            .map(|signed| {
                let opened = Acta::open(signed.as_bytes(), &g.election).expect("authentic");
                assert!(opened.counts(), "{:?}", opened.holds);
                opened.acta
            })
            .collect();
        Fixture {
            g,
            actas,
            records: Vec::new(),
        }
    })
}

/// A checkpoint that holds `actas` actas: an hour after closing.
fn at(g: &Ceremony, actas: usize) -> AtCheckpoint {
    AtCheckpoint {
        size: 2 * actas as u64 + 3,
        root_hex: hex::encode(acta_tlog::leaf_hash(format!("root {actas}").as_bytes())),
        generated: acta_election::time::parse(&g.election.closes).unwrap() + 3600,
    }
}

fn report(f: &Fixture, actas: &[Acta]) -> Report {
    err_report(&f.g.election, actas, &at(&f.g, actas.len())).expect("a report")
}

/// Every second table: a partial count.
fn half(f: &Fixture) -> Vec<Acta> {
    f.actas.iter().step_by(2).cloned().collect()
}

// ---------------------------------------------------------------- JSON schema

/// The JSON validator, compiled once from the vendored schema.
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

fn validate_json(doc: &Value) -> Result<(), String> {
    let (schemas, index) = validator();
    schemas.validate(doc, *index).map_err(|e| format!("{e:#}"))
}

fn json(report: &Report) -> Value {
    serde_json::from_str(&report.to_json()).expect("the report is JSON")
}

// ------------------------------------------------------------------ XSD (xmllint)

/// A fresh file under the test's temporary directory holding `text`.
fn temp_file(text: &str, ext: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("err");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(format!(
        "{}-{}.{ext}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).expect("written");
    path
}

/// Runs xmllint; fails the test (never skips it) when it is not installed.
fn xmllint(args: &[&str], file: &Path) -> std::process::Output {
    match Command::new("xmllint").args(args).arg(file).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "xmllint is not installed, and the XML must be validated against NIST's XSD: \
             run the tests through scripts/test, which installs Debian's libxml2-utils \
             (or `apt-get install libxml2-utils`)"
        ),
        Err(e) => panic!("xmllint could not run: {e}"),
    }
}

/// `xmllint --schema` over the vendored XSD: Ok, or what it said.
fn validate_xml(xml: &str) -> Result<(), String> {
    let file = temp_file(xml, "xml");
    let out = xmllint(&["--noout", "--nonet", "--schema", XSD], &file);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = std::fs::remove_file(&file);
    if out.status.success() {
        Ok(())
    } else {
        Err(said.chars().take(4000).collect())
    }
}

/// Evaluates an XPath 1.0 expression over an XML text with xmllint.
fn xpath(xml: &str, expr: &str) -> String {
    let file = temp_file(xml, "xml");
    let out = xmllint(&["--nonet", "--xpath", expr], &file);
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "xpath {expr}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut s = String::from_utf8(out.stdout).expect("UTF-8");
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

// ----------------------------------------------------------- reading the JSON

/// Every key of the JSON tree with its value.
fn walk<'a>(v: &'a Value, keys: &mut Vec<(&'a str, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                keys.push((k, x));
                walk(x, keys);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk(x, keys)),
        _ => {}
    }
}

fn ext_id<'a>(node: &'a Value, other_type: &str) -> Option<&'a str> {
    node["ExternalIdentifier"]
        .as_array()?
        .iter()
        .find(|i| i["OtherType"] == other_type)
        .and_then(|i| i["Value"].as_str())
}

fn text(node: &Value) -> &str {
    let t = node["Text"].as_array().expect("InternationalizedText");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["Language"], "und");
    t[0]["Content"].as_str().unwrap()
}

/// `(table, contest, choice) → votes`, read from the report alone: the
/// table from its unit's dotted code, the contest from its abbreviation,
/// the choice from the selection's candidate and card, measure or list.
fn figures(doc: &Value) -> BTreeMap<(String, String, String), u64> {
    let table_of: HashMap<&str, &str> = doc["GpUnit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["Type"] == "precinct")
        .map(|u| {
            let code = u["ExternalIdentifier"][0]["Value"].as_str().unwrap();
            (u["@id"].as_str().unwrap(), code)
        })
        .collect();
    let party_of: HashMap<&str, &str> = doc["Party"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["@id"].as_str().unwrap(), text(&p["Abbreviation"])))
        .collect();
    let election = &doc["Election"][0];
    let candidate_of: HashMap<&str, &str> = election["Candidate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["@id"].as_str().unwrap(),
                ext_id(c, "acta-candidate").unwrap(),
            )
        })
        .collect();
    let mut out = BTreeMap::new();
    for c in election["Contest"].as_array().unwrap() {
        let contest = c["Abbreviation"].as_str().unwrap();
        for s in c["ContestSelection"].as_array().unwrap() {
            let choice = match s["@type"].as_str().unwrap() {
                "ElectionResults.CandidateSelection" => {
                    let k = s["CandidateIds"].as_array().unwrap();
                    let p = s["EndorsementPartyIds"].as_array().unwrap();
                    assert_eq!((k.len(), p.len()), (1, 1), "one candidate on one card");
                    format!(
                        "{}/{}",
                        candidate_of[k[0].as_str().unwrap()],
                        party_of[p[0].as_str().unwrap()]
                    )
                }
                "ElectionResults.BallotMeasureSelection" => {
                    let choice = text(&s["Selection"]).to_string();
                    assert_eq!(ext_id(s, "acta-choice"), Some(choice.as_str()));
                    choice
                }
                "ElectionResults.PartySelection" => {
                    let p = s["PartyIds"].as_array().unwrap();
                    assert_eq!(p.len(), 1);
                    party_of[p[0].as_str().unwrap()].to_string()
                }
                other => panic!("selection of type {other}"),
            };
            for v in s["VoteCounts"].as_array().unwrap() {
                assert_eq!(v["Type"], "total");
                let table = table_of[v["GpUnitId"].as_str().unwrap()];
                let key = (table.to_string(), contest.to_string(), choice.clone());
                let n = v["Count"].as_u64().unwrap();
                assert!(out.insert(key, n).is_none(), "a figure given twice");
            }
        }
    }
    out
}

/// The same map, from the actas.
fn acta_figures(actas: &[Acta]) -> BTreeMap<(String, String, String), u64> {
    let mut out = BTreeMap::new();
    for a in actas {
        for c in &a.contests {
            for (choice, n) in &c.votes {
                out.insert(
                    (a.table.clone(), c.contest.clone(), choice.clone()),
                    u64::from(*n),
                );
            }
        }
    }
    out
}

// ----------------------------------------------------------------------- tests

#[test]
fn the_json_validates_against_the_published_nist_schema() {
    for f in [voted(), wide()] {
        for actas in [f.actas.clone(), half(f), Vec::new()] {
            let doc = json(&report(f, &actas));
            validate_json(&doc).unwrap_or_else(|e| {
                panic!(
                    "{} of {} tables: not valid SP 1500-100 v2 JSON: {e}",
                    actas.len(),
                    f.actas.len()
                )
            });
        }
    }
    // Every kind of contest, unit and selection is exercised.
    let doc = report(wide(), &half(wide())).to_json();
    for needle in [
        "\"@type\":\"ElectionResults.CandidateContest\"",
        "\"@type\":\"ElectionResults.BallotMeasureContest\"",
        "\"@type\":\"ElectionResults.PartyContest\"",
        "\"@type\":\"ElectionResults.CandidateSelection\"",
        "\"@type\":\"ElectionResults.BallotMeasureSelection\"",
        "\"@type\":\"ElectionResults.PartySelection\"",
        "\"VoteVariation\":\"n-of-m\"",
        "\"VoteVariation\":\"plurality\"",
        "\"Type\":\"country\"",
        "\"Type\":\"state\"",
        "\"OtherType\":\"municipality\"",
        "\"OtherType\":\"parish\"",
        "\"Type\":\"polling-place\"",
        "\"Type\":\"precinct\"",
        "\"Status\":\"in-process\"",
        "\"Status\":\"not-processed\"",
        "\"Status\":\"completed\"",
        "\"Format\":\"precinct-level\"",
        "\"VendorApplicationId\":\"acta\"",
    ] {
        assert!(doc.contains(needle), "the report lacks {needle}");
    }
}

/// A JSON value that keeps each object's keys in the order of the text
/// (`serde_json::Value` sorts them).
enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Scalar,
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = a.next_element()? {
                    out.push(x);
                }
                Ok(Ordered::Array(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, Ordered>()? {
                    out.push((k, v));
                }
                Ok(Ordered::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[test]
fn every_json_object_has_its_type_and_fields_in_schema_order() {
    let text = report(wide(), &half(wide())).to_json();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let ordered: Ordered = serde_json::from_str(&text).unwrap();
    // The schema's own order of each class's properties, from its text.
    let schema_order: Ordered = serde_json::from_str(SCHEMA).unwrap();
    let mut order: HashMap<String, Vec<String>> = HashMap::new();
    if let Ordered::Object(top) = &schema_order {
        for (k, defs) in top {
            if k != "definitions" {
                continue;
            }
            let Ordered::Object(defs) = defs else {
                panic!()
            };
            for (name, def) in defs {
                let Ordered::Object(def) = def else { panic!() };
                if let Some((_, Ordered::Object(props))) =
                    def.iter().find(|(k, _)| k == "properties")
                {
                    order.insert(name.clone(), props.iter().map(|(k, _)| k.clone()).collect());
                }
            }
        }
    }
    assert_eq!(order.len(), 40, "the schema's object classes");
    fn check(o: &Ordered, v: &Value, order: &HashMap<String, Vec<String>>, objects: &mut usize) {
        match (o, v) {
            (Ordered::Object(fields), Value::Object(m)) => {
                let t = m
                    .get("@type")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("an object without @type: {v}"));
                let want = &order[t];
                let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                let positions: Vec<usize> = keys
                    .iter()
                    .map(|k| {
                        want.iter()
                            .position(|o| o == k)
                            .unwrap_or_else(|| panic!("{t} has no {k}"))
                    })
                    .collect();
                assert!(
                    positions.windows(2).all(|w| w[0] < w[1]),
                    "{t}: {keys:?} is not in the schema's order {want:?}"
                );
                *objects += 1;
                for (k, x) in fields {
                    check(x, &m[k], order, objects);
                }
            }
            (Ordered::Array(a), Value::Array(b)) => {
                for (x, y) in a.iter().zip(b) {
                    check(x, y, order, objects);
                }
            }
            (Ordered::Scalar, _) => {}
            _ => panic!("the two readings differ"),
        }
    }
    let mut objects = 0;
    check(&ordered, &doc, &order, &mut objects);
    assert!(objects > 1000, "{objects}");
}

#[test]
fn the_xml_validates_against_the_published_nist_xsd() {
    for f in [voted(), wide()] {
        for actas in [f.actas.clone(), half(f), Vec::new()] {
            let xml = report(f, &actas).to_xml();
            assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ElectionReport "));
            assert!(xml.contains(&format!("xmlns=\"{NAMESPACE}\"")));
            validate_xml(&xml).unwrap_or_else(|e| {
                panic!(
                    "{} of {} tables: not valid against NIST's XSD: {e}",
                    actas.len(),
                    f.actas.len()
                )
            });
        }
    }
}

#[test]
fn the_xml_and_the_json_carry_the_same_figures() {
    let f = wide();
    let r = report(f, &half(f));
    let doc = json(&r);
    let xml = r.to_xml();
    let mut keys = Vec::new();
    walk(&doc, &mut keys);
    let sum = |name: &str| -> u64 {
        keys.iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_u64().unwrap())
            .sum()
    };
    let local = |name: &str| format!("//*[local-name()='{name}']");
    for name in [
        "Count",
        "BallotsCast",
        "Overvotes",
        "Undervotes",
        "VotersParticipated",
    ] {
        assert_eq!(
            xpath(&xml, &format!("sum({})", local(name))),
            sum(name).to_string(),
            "{name}"
        );
    }
    for name in [
        "VoteCounts",
        "OtherCounts",
        "BallotCounts",
        "GpUnit",
        "Party",
        "Candidate",
    ] {
        let json_count = keys
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_array().map_or(1, Vec::len))
            .sum::<usize>();
        assert_eq!(
            xpath(&xml, &format!("count({})", local(name))),
            json_count.to_string(),
            "{name}"
        );
    }
    // The same ids.
    let ids: BTreeSet<String> = keys
        .iter()
        .filter(|(k, _)| *k == "@id")
        .map(|(_, v)| v.as_str().unwrap().to_string())
        .collect();
    let xml_ids: BTreeSet<String> = xpath(&xml, "//@ObjectId")
        .split_whitespace()
        .map(|a| {
            a.strip_prefix("ObjectId=\"")
                .and_then(|a| a.strip_suffix('"'))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, xml_ids);
    // Every single reference names an ObjectId (xmllint checks that ids
    // are unique, not what an IDREF points to).
    assert_eq!(xpath(&xml, DANGLING), "0");
    let nowhere = xml.replacen("<GpUnitId>gpunit_", "<GpUnitId>gpunit_nowhere_", 1);
    assert_eq!(xpath(&nowhere, DANGLING), "1");
    // The top-level fields.
    for name in [
        "Format",
        "GeneratedDate",
        "Issuer",
        "IssuerAbbreviation",
        "Notes",
        "Status",
        "VendorApplicationId",
        "SequenceStart",
        "SequenceEnd",
    ] {
        let json_value = match &doc[name] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(
            xpath(&xml, &format!("string(/*/*[local-name()='{name}'])")),
            json_value,
            "{name}"
        );
    }
}

/// XPath: how many single references name no `ObjectId`.
const DANGLING: &str = "count(//*[local-name()='GpUnitId' or local-name()='ElectionScopeId' \
     or local-name()='ElectionDistrictId' or local-name()='PartyId'][not(. = //@ObjectId)])";

/// A deliberate break of a valid report.
type Breaks = Box<dyn Fn(&mut Value)>;

fn first_of<'a>(v: &'a mut Value, type_: &str) -> &'a mut Value {
    v["Election"][0]["Contest"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["@type"] == type_)
        .unwrap()
}

#[test]
fn the_json_validator_rejects_broken_reports() {
    let good = json(&report(voted(), &half(voted())));
    validate_json(&good).unwrap();
    let broken: Vec<(&str, Breaks)> = vec![
        (
            "a contest with a wrong @type",
            Box::new(|v| v["Election"][0]["Contest"][0]["@type"] = "ElectionResults.Race".into()),
        ),
        (
            "the report with a wrong @type",
            Box::new(|v| v["@type"] = "ElectionResults.Report".into()),
        ),
        (
            "no @type on a vote count",
            Box::new(|v| {
                let s = &mut first_of(v, "ElectionResults.CandidateContest")["ContestSelection"][0];
                s["VoteCounts"][0].as_object_mut().unwrap().remove("@type");
            }),
        ),
        (
            "no Issuer",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("Issuer");
            }),
        ),
        (
            "no SequenceEnd",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("SequenceEnd");
            }),
        ),
        (
            "a vote count without its unit",
            Box::new(|v| {
                let s = &mut first_of(v, "ElectionResults.PartyContest")["ContestSelection"][0];
                s["VoteCounts"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("GpUnitId");
            }),
        ),
        (
            "a candidate contest without VotesAllowed",
            Box::new(|v| {
                first_of(v, "ElectionResults.CandidateContest")
                    .as_object_mut()
                    .unwrap()
                    .remove("VotesAllowed");
            }),
        ),
        (
            "a status NIST does not define",
            Box::new(|v| v["Status"] = "partial".into()),
        ),
        (
            "a StartDate that is not a date",
            Box::new(|v| v["Election"][0]["StartDate"] = "6 December".into()),
        ),
        (
            "a GeneratedDate without a time zone",
            Box::new(|v| v["GeneratedDate"] = "2026-12-06T23:00:00".into()),
        ),
        (
            "a count that is not a number",
            Box::new(|v| {
                let s =
                    &mut first_of(v, "ElectionResults.BallotMeasureContest")["ContestSelection"][0];
                s["VoteCounts"][0]["Count"] = "12".into();
            }),
        ),
        (
            "a field the schema does not define",
            Box::new(|v| v["Election"][0]["Turnout"] = 0.5.into()),
        ),
        (
            "a unit type NIST does not define",
            Box::new(|v| v["GpUnit"][1]["Type"] = "parish".into()),
        ),
    ];
    for (what, breaks) in broken {
        let mut doc = good.clone();
        breaks(&mut doc);
        assert_ne!(doc, good, "{what}: the mutation changed nothing");
        assert!(
            validate_json(&doc).is_err(),
            "the JSON validator accepted a report with {what}"
        );
    }
}

#[test]
fn the_xsd_validator_rejects_broken_reports() {
    let good = report(voted(), &half(voted())).to_xml();
    validate_xml(&good).unwrap();
    let once = |from: &str, to: &str| -> String {
        assert!(good.contains(from), "{from:?} is not in the report");
        good.replacen(from, to, 1)
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "a contest with a wrong xsi:type",
            once(
                "xsi:type=\"CandidateContest\"",
                "xsi:type=\"CandidateRace\"",
            ),
        ),
        (
            "a unit with a type of another class",
            once(
                "xsi:type=\"ReportingUnit\"",
                "xsi:type=\"CandidateSelection\"",
            ),
        ),
        (
            "no VendorApplicationId",
            once("  <VendorApplicationId>acta</VendorApplicationId>\n", ""),
        ),
        ("no Issuer", {
            let start = good.find("  <Issuer>").unwrap();
            let end = start + good[start..].find('\n').unwrap() + 1;
            format!("{}{}", &good[..start], &good[end..])
        }),
        (
            "SequenceEnd before SequenceStart",
            once(
                "<SequenceStart>1</SequenceStart>\n  <SequenceEnd>1</SequenceEnd>",
                "<SequenceEnd>1</SequenceEnd>\n  <SequenceStart>1</SequenceStart>",
            ),
        ),
        ("a count that is no number", once("<Count>", "<Count>x")),
        (
            "a status NIST does not define",
            once(
                "<Status>unofficial-partial</Status>",
                "<Status>partial</Status>",
            ),
        ),
        (
            "another namespace",
            once(NAMESPACE, "http://itl.nist.gov/ns/voting/1500-100/v1"),
        ),
        (
            "an id given twice",
            once("ObjectId=\"party_UPL\"", "ObjectId=\"party_PDA\""),
        ),
        (
            "an element NIST does not define",
            once("<Format>", "<Turnout>1</Turnout>\n  <Format>"),
        ),
    ];
    for (what, bad) in cases {
        assert_ne!(bad, good, "{what}: the mutation changed nothing");
        assert!(
            validate_xml(&bad).is_err(),
            "the XSD validator accepted a report with {what}"
        );
    }
}

#[test]
fn the_vote_counts_are_the_actas_figures() {
    for f in [voted(), wide()] {
        for actas in [f.actas.clone(), half(f)] {
            let doc = json(&report(f, &actas));
            // Table by table, every figure, and nothing else.
            assert_eq!(figures(&doc), acta_figures(&actas));
            // Summed over the tables, per contest selection.
            let mut by_selection: BTreeMap<(String, String), u64> = BTreeMap::new();
            for ((_, contest, choice), n) in figures(&doc) {
                *by_selection.entry((contest, choice)).or_default() += n;
            }
            let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
            for a in &actas {
                for c in &a.contests {
                    for (choice, n) in &c.votes {
                        *expected
                            .entry((c.contest.clone(), choice.clone()))
                            .or_default() += u64::from(*n);
                    }
                }
            }
            assert_eq!(by_selection, expected);
            let every: u64 = expected.values().sum();
            assert!(actas.is_empty() || every > 0);

            // Ballots, turnout, over- and undervotes per table.
            let election = &doc["Election"][0];
            let unit_code =
                |id: &str| -> String { id.strip_prefix("gpunit_").unwrap().to_string() };
            let by_table: HashMap<&str, &Acta> =
                actas.iter().map(|a| (a.table.as_str(), a)).collect();
            let ballots: BTreeMap<String, u64> = election["BallotCounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    assert_eq!(b["Type"], "total");
                    (
                        unit_code(b["GpUnitId"].as_str().unwrap()),
                        b["BallotsCast"].as_u64().unwrap(),
                    )
                })
                .collect();
            let expected: BTreeMap<String, u64> = actas
                .iter()
                .map(|a| (a.table.clone(), u64::from(a.ballots)))
                .collect();
            assert_eq!(ballots, expected);
            for u in doc["GpUnit"].as_array().unwrap() {
                if u["Type"] != "precinct" {
                    assert!(u.get("VotersParticipated").is_none());
                    continue;
                }
                let code = unit_code(u["@id"].as_str().unwrap());
                let table = f.g.election.table(&code).unwrap();
                assert_eq!(u["VotersRegistered"], table.registered);
                match by_table.get(code.as_str()) {
                    Some(a) => assert_eq!(u["VotersParticipated"], a.authenticated),
                    None => assert!(u.get("VotersParticipated").is_none()),
                }
            }
            for c in election["Contest"].as_array().unwrap() {
                let id = c["Abbreviation"].as_str().unwrap();
                let contest = f.g.election.contest(id).unwrap();
                let allowed = u64::from(contest.max_marks());
                assert_eq!(
                    c["VotesAllowed"].as_u64(),
                    (contest.kind == Kind::Plurality).then_some(allowed)
                );
                let others = c["OtherCounts"].as_array().unwrap();
                let counted: Vec<&&Acta> =
                    f.g.election
                        .tables
                        .iter()
                        .filter(|t| contest.applies_to(&t.id))
                        .filter_map(|t| by_table.get(t.id.as_str()))
                        .collect();
                assert_eq!(others.len(), counted.len());
                assert_eq!(
                    c["SubUnitsReported"].as_u64().unwrap(),
                    counted.len() as u64
                );
                for (o, a) in others.iter().zip(counted) {
                    assert_eq!(unit_code(o["GpUnitId"].as_str().unwrap()), a.table);
                    let count = a.contest(id).unwrap();
                    let votes: u64 = count.votes.iter().map(|(_, n)| u64::from(*n)).sum();
                    let over = o["Overvotes"].as_u64().unwrap();
                    let under = o["Undervotes"].as_u64().unwrap();
                    assert_eq!(over, allowed * u64::from(count.null));
                    assert_eq!(votes + over + under, allowed * u64::from(a.ballots));
                    if allowed == 1 {
                        assert_eq!(
                            (under, over),
                            (u64::from(count.blank), u64::from(count.null))
                        );
                    }
                }
            }
        }
    }
}

/// The report's over- and undervotes of a table are the sums of this
/// crate's cast vote records of the same table's ballot records.
#[test]
fn over_and_undervotes_are_the_sums_of_the_cast_vote_records() {
    let f = voted();
    let doc = json(&report(f, &f.actas));
    for (acta, records) in f.actas.iter().zip(&f.records) {
        let cvr = serde_json::to_value(
            acta_export::cvr_report(&f.g.election, &acta.table, records).unwrap(),
        )
        .unwrap();
        let mut sums: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for c in cvr["CVR"].as_array().unwrap() {
            for k in c["CVRSnapshot"][0]["CVRContest"].as_array().unwrap() {
                let id = k["ContestId"].as_str().unwrap().to_string();
                let e = sums.entry(id).or_default();
                e.0 += k["Overvotes"].as_u64().unwrap();
                e.1 += k["Undervotes"].as_u64().unwrap();
            }
        }
        assert!(!sums.is_empty());
        let unit = format!("gpunit_{}", acta.table);
        for c in doc["Election"][0]["Contest"].as_array().unwrap() {
            let Some(o) = c["OtherCounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["GpUnitId"] == unit.as_str())
            else {
                continue;
            };
            let (over, under) = sums
                .remove(c["@id"].as_str().unwrap())
                .expect("on the ballot");
            assert_eq!(o["Overvotes"].as_u64(), Some(over), "{}", c["@id"]);
            assert_eq!(o["Undervotes"].as_u64(), Some(under), "{}", c["@id"]);
        }
        assert!(
            sums.is_empty(),
            "contests of the ballot not in the report: {sums:?}"
        );
    }
}

#[test]
fn every_reference_resolves_and_the_units_form_the_package_tree() {
    let f = wide();
    let doc = json(&report(f, &half(f)));
    let mut keys = Vec::new();
    walk(&doc, &mut keys);
    let mut ids = HashSet::new();
    for (k, v) in &keys {
        if *k == "@id" {
            assert!(ids.insert(v.as_str().unwrap()), "@id {v} defined twice");
        }
    }
    let units: HashSet<&str> = doc["GpUnit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["@id"].as_str().unwrap())
        .collect();
    let mut unit_refs = 0;
    for (k, v) in &keys {
        let refs: Vec<&str> = match (*k, v) {
            (k, Value::String(s)) if k.ends_with("Id") && k != "VendorApplicationId" => {
                vec![s.as_str()]
            }
            (k, Value::Array(a)) if k.ends_with("Ids") => {
                a.iter().map(|x| x.as_str().unwrap()).collect()
            }
            _ => continue,
        };
        for r in refs {
            assert!(ids.contains(r), "{k} refers to undefined {r}");
            if k.contains("GpUnit") || *k == "ElectionScopeId" || *k == "ElectionDistrictId" {
                assert!(units.contains(r), "{k} {r} is not a unit");
                unit_refs += 1;
            }
        }
    }
    assert!(unit_refs > 1000, "{unit_refs}");

    // From the country down, every unit once; the precincts are the tables.
    let by_id: HashMap<&str, &Value> = doc["GpUnit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["@id"].as_str().unwrap(), u))
        .collect();
    let mut seen = HashSet::new();
    let mut tables = Vec::new();
    let mut stack = vec![("gpunit_country", "")];
    while let Some((id, parent)) = stack.pop() {
        assert!(seen.insert(id), "{id} reached twice");
        let u = by_id[id];
        let code = ext_id_national(u);
        assert_eq!(code.rsplit_once('.').map_or("", |(p, _)| p), parent);
        let expected = match code.split('.').filter(|s| !s.is_empty()).count() {
            0 => ("country", None),
            1 => ("state", None),
            2 => ("other", Some("municipality")),
            3 => ("other", Some("parish")),
            4 => ("polling-place", None),
            _ => ("precinct", None),
        };
        assert_eq!(
            (u["Type"].as_str().unwrap(), u["OtherType"].as_str()),
            expected,
            "{id}"
        );
        if u["Type"] == "precinct" {
            tables.push(code.to_string());
            assert!(u.get("ComposingGpUnitIds").is_none());
        }
        for child in u["ComposingGpUnitIds"].as_array().into_iter().flatten() {
            stack.push((child.as_str().unwrap(), code));
        }
    }
    assert_eq!(seen.len(), by_id.len(), "units outside the tree");
    tables.sort();
    let package: Vec<String> = f.g.election.tables.iter().map(|t| t.id.clone()).collect();
    assert_eq!(tables, package);
    assert!(f.g.election.areas_at(acta_election::Level::State).len() >= 2);

    // Each unit's tables and registered voters add up from below.
    let country = by_id["gpunit_country"];
    assert_eq!(country["TotalSubUnits"], f.g.election.tables.len());
    assert_eq!(country["SubUnitsReported"], half(f).len());
    assert_eq!(country["VotersRegistered"], f.g.election.registered());
    for (id, u) in &by_id {
        let children = u["ComposingGpUnitIds"].as_array();
        let Some(children) = children else { continue };
        for field in ["TotalSubUnits", "SubUnitsReported", "VotersRegistered"] {
            let below: u64 = children
                .iter()
                .map(|c| {
                    let c = by_id[c.as_str().unwrap()];
                    if c["Type"] == "precinct" && field != "VotersRegistered" {
                        // A table is one unit, reported or not.
                        if field == "TotalSubUnits" {
                            1
                        } else {
                            c["SubUnitsReported"].as_u64().unwrap()
                        }
                    } else {
                        c[field].as_u64().unwrap()
                    }
                })
                .sum();
            assert_eq!(u[field].as_u64().unwrap(), below, "{id} {field}");
        }
    }
}

fn ext_id_national(u: &Value) -> &str {
    match u["ExternalIdentifier"].as_array() {
        None => "",
        Some(ids) => {
            assert_eq!(ids.len(), 1);
            assert_eq!(ids[0]["Type"], "national-level");
            ids[0]["Value"].as_str().unwrap()
        }
    }
}

#[test]
fn the_status_is_partial_until_every_table_has_reported() {
    let f = voted();
    let n = f.actas.len();
    for k in 0..=n {
        let doc = json(&report(f, &f.actas[..k]));
        let (status, count) = if k == n {
            ("unofficial-complete", "completed")
        } else if k == 0 {
            ("unofficial-partial", "not-processed")
        } else {
            ("unofficial-partial", "in-process")
        };
        assert_eq!(doc["Status"], status, "{k} of {n}");
        assert_eq!(doc["Election"][0]["CountStatus"][0]["Status"], count);
        assert_eq!(doc["Election"][0]["CountStatus"][0]["Type"], "total");
        assert_eq!(doc["GpUnit"][0]["SubUnitsReported"], k);
        // Each table's own status.
        for u in doc["GpUnit"].as_array().unwrap() {
            if u["Type"] == "precinct" {
                let code = ext_id_national(u);
                let reported = f.actas[..k].iter().any(|a| a.table == code);
                assert_eq!(
                    u["CountStatus"][0]["Status"],
                    if reported {
                        "completed"
                    } else {
                        "not-processed"
                    }
                );
                assert_eq!(u["SubUnitsReported"], u64::from(reported));
            }
        }
    }
}

#[test]
fn the_report_is_bound_to_the_checkpoint() {
    let f = voted();
    let at = AtCheckpoint {
        size: 12345,
        root_hex: "ab".repeat(32),
        generated: 1_796_000_000,
    };
    let r = err_report(&f.g.election, &f.actas, &at).unwrap();
    let doc = json(&r);
    assert_eq!(
        doc["GeneratedDate"],
        acta_election::time::format(at.generated)
    );
    assert_eq!(doc["GeneratedDate"], "2026-11-30T00:53:20Z");
    let notes = doc["Notes"].as_str().unwrap();
    for needle in [
        "12345",
        &at.root_hex,
        &f.g.election.log_origin,
        "2026-11-30T00:53:20Z",
    ] {
        assert!(notes.contains(needle), "Notes {notes:?} lacks {needle}");
    }
    assert_eq!(ext_id(&doc, "acta-checkpoint-size"), Some("12345"));
    assert_eq!(
        ext_id(&doc, "acta-checkpoint-root"),
        Some(at.root_hex.as_str())
    );
    assert_eq!(
        ext_id(&doc, "acta-log-origin"),
        Some(f.g.election.log_origin.as_str())
    );
    assert_eq!(doc["Issuer"], f.g.election.log_origin.as_str());
    assert_eq!(doc["IssuerAbbreviation"], "center");
    assert_eq!(doc["Election"][0]["StartDate"], &f.g.election.opens[..10]);
    assert_eq!(doc["Election"][0]["EndDate"], &f.g.election.closes[..10]);
    assert_eq!(
        ext_id(&doc["Election"][0], "acta-election"),
        Some(f.g.election.id.as_str())
    );
    // Another checkpoint, another report.
    let later = AtCheckpoint {
        size: at.size + 1,
        ..at.clone()
    };
    assert_ne!(
        err_report(&f.g.election, &f.actas, &later)
            .unwrap()
            .to_json(),
        r.to_json()
    );
}

#[test]
fn the_same_actas_in_any_order_give_the_same_bytes() {
    let f = wide();
    let actas = half(f);
    let at = at(&f.g, actas.len());
    let once = err_report(&f.g.election, &actas, &at).unwrap();
    let mut reversed = actas.clone();
    reversed.reverse();
    let mut interleaved: Vec<Acta> = actas.iter().skip(1).step_by(2).cloned().collect();
    interleaved.extend(actas.iter().step_by(2).cloned());
    for other in [reversed, interleaved] {
        let again = err_report(&f.g.election, &other, &at).unwrap();
        assert!(
            once.to_json() == again.to_json(),
            "another order, other JSON"
        );
        assert!(once.to_xml() == again.to_xml(), "another order, other XML");
        assert_eq!(
            table_csv(&f.g.election, &other),
            table_csv(&f.g.election, &actas)
        );
    }
}

#[test]
fn what_cannot_be_reported_is_refused() {
    let f = voted();
    let e = &f.g.election;
    let good_at = at(&f.g, f.actas.len());
    let refused =
        |actas: &[Acta], at: &AtCheckpoint| err_report(e, actas, at).expect_err("refused");

    // Two actas for one table.
    let mut twice = f.actas.clone();
    twice.push(f.actas[1].clone());
    assert_eq!(
        refused(&twice, &good_at),
        Error::CountedTwice(f.actas[1].table.clone())
    );
    // A table the package does not have.
    let mut foreign = f.actas.clone();
    foreign[0].table = "99.999.99.9999.99".into();
    assert_eq!(
        refused(&foreign, &good_at),
        Error::UnknownTable("99.999.99.9999.99".into())
    );
    // An acta that cannot be counted: another election; votes that do not
    // fit the ballots; a choice not on the ballot.
    let mut other = f.actas.clone();
    other[2].election = "OTHER".into();
    let mut more = f.actas.clone();
    more[0].contests[0].votes[0].1 += more[0].ballots + 1;
    let mut renamed = f.actas.clone();
    renamed[3].contests[0].votes[0].0 = "ZZ/ZZZ".into();
    for (bad, table) in [(other, 2), (more, 0), (renamed, 3)] {
        match refused(&bad, &good_at) {
            Error::NotCountable { table: t, reason } => {
                assert_eq!(t, f.actas[table].table);
                assert!(!reason.is_empty());
            }
            other => panic!("{other}"),
        }
    }
    // Checkpoints no log could have published.
    for at in [
        AtCheckpoint {
            root_hex: "AB".repeat(32),
            ..good_at.clone()
        },
        AtCheckpoint {
            root_hex: "ab".repeat(31),
            ..good_at.clone()
        },
        AtCheckpoint {
            size: f.actas.len() as u64 - 1,
            ..good_at.clone()
        },
        AtCheckpoint {
            generated: u64::MAX,
            ..good_at.clone()
        },
        AtCheckpoint {
            generated: 253_402_300_800, // 10000-01-01
            ..good_at.clone()
        },
    ] {
        assert!(
            matches!(refused(&f.actas, &at), Error::Checkpoint(_)),
            "{at:?}"
        );
    }
    // The last second of the year 9999 is still a date.
    let last = AtCheckpoint {
        generated: 253_402_300_799,
        ..good_at.clone()
    };
    let xml = err_report(e, &f.actas, &last).unwrap().to_xml();
    assert!(xml.contains("<GeneratedDate>9999-12-31T23:59:59Z</GeneratedDate>"));
    validate_xml(&xml).unwrap();
    // A name XML 1.0 cannot carry.
    let mut bell = e.clone();
    bell.parties[1].name.push('\u{7}');
    match err_report(&bell, &f.actas, &good_at).expect_err("refused") {
        Error::NotXml(what) => assert!(what.contains(&bell.parties[1].id), "{what}"),
        other => panic!("{other}"),
    }
    // Errors say what.
    assert_eq!(
        Error::CountedTwice("01.001.01.0001.01".into()).to_string(),
        "two actas given as counted for table 01.001.01.0001.01"
    );
}

/// A package whose names need escaping in XML and quoting in CSV.
fn awkward() -> acta_election::Election {
    let mut e = voted().g.election.clone();
    e.name = "Elección <general> & \"popular\" 'única'".into();
    e.parties[0].name = "Frente \"Amplio\", Unido\r\nNacional".into();
    e.parties[1].name = "Tab\there & <there>]]>".into();
    e.areas[0].name = "Mérida, Táchira & \"Zulia\"\n".into();
    let pres = e.contests.iter_mut().find(|c| c.id == "PRES").unwrap();
    pres.candidates[0].name = "María \"la, de\" O'Neil".into();
    pres.name = "Presidencia\r\nde la <República>".into();
    e
}

#[test]
fn names_are_escaped_and_read_back_exactly() {
    let f = voted();
    let e = awkward();
    let r = err_report(&e, &f.actas, &at(&f.g, f.actas.len())).unwrap();
    validate_json(&json(&r)).unwrap();
    let xml = r.to_xml();
    validate_xml(&xml).unwrap_or_else(|err| panic!("{err}"));
    let q = |path: &str| xpath(&xml, &format!("string({path})"));
    assert_eq!(
        q("/*/*[local-name()='Election']/*[local-name()='Name']/*"),
        e.name
    );
    assert_eq!(
        q("/*/*[local-name()='Party'][1]/*[local-name()='Name']/*"),
        e.parties[0].name
    );
    assert_eq!(
        q("/*/*[local-name()='Party'][2]/*[local-name()='Name']/*"),
        e.parties[1].name
    );
    assert_eq!(
        q(&format!(
            "//*[@ObjectId='gpunit_{}']/*[local-name()='Name']/*",
            e.areas[0].code
        )),
        e.areas[0].name
    );
    let pres = e.contest("PRES").unwrap();
    assert_eq!(
        q(&format!(
            "//*[@ObjectId='candidate_PRES_{}']/*[local-name()='BallotName']/*",
            pres.candidates[0].id
        )),
        pres.candidates[0].name
    );
    assert_eq!(
        q("//*[@ObjectId='contest_PRES']/*[local-name()='Name']"),
        pres.name
    );
    assert_eq!(
        q("//*[@ObjectId='contest_PRES']/*[local-name()='Name']/../@*[local-name()='type']"),
        "CandidateContest"
    );
}

/// A minimal RFC 4180 reader: CRLF records, quoted fields with `""`.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            '"' => panic!("a quote inside an unquoted field"),
            ',' => {
                row.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF outside quotes");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                at_start = true;
            }
            '\n' => panic!("LF without CR outside quotes"),
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    assert!(!quoted, "an unterminated quote");
    assert!(
        field.is_empty() && row.is_empty(),
        "the last record has no CRLF"
    );
    rows
}

#[test]
fn the_csv_reads_back_as_the_actas() {
    for (f, e) in [
        (voted(), awkward()),
        (voted(), voted().g.election.clone()),
        (wide(), wide().g.election.clone()),
    ] {
        let actas = half(f);
        let text = table_csv(&e, &actas);
        assert!(!text.starts_with('\u{feff}'), "no byte-order mark");
        let rows = read_csv(&text);
        assert_eq!(rows[0], CSV_HEADER);
        let mut expected = Vec::new();
        for a in &actas {
            for c in &a.contests {
                let contest = e.contest(&c.contest).unwrap();
                let mut choices: Vec<(String, u32)> = c.votes.clone();
                choices.push((acta_election::BLANK.into(), c.blank));
                choices.push((acta_election::NULL.into(), c.null));
                for (choice, n) in choices {
                    let blank_or_null =
                        choice == acta_election::BLANK || choice == acta_election::NULL;
                    let party_name =
                        |id: &str| e.parties.iter().find(|p| p.id == id).unwrap().name.clone();
                    let (candidate, party) = match contest.kind {
                        _ if blank_or_null => (String::new(), String::new()),
                        Kind::Plurality => {
                            let (k, card) = choice.split_once('/').unwrap();
                            let k = contest.candidates.iter().find(|x| x.id == k).unwrap();
                            (k.name.clone(), party_name(card))
                        }
                        Kind::PartyList => (String::new(), party_name(&choice)),
                        _ => (String::new(), String::new()),
                    };
                    expected.push(vec![
                        a.table.clone(),
                        c.contest.clone(),
                        choice.clone(),
                        candidate,
                        party,
                        n.to_string(),
                        a.registered.to_string(),
                        a.authenticated.to_string(),
                        a.ballots.to_string(),
                    ]);
                }
            }
        }
        assert_eq!(rows[1..], expected[..]);
        // Summed back, the votes are the actas'.
        let mut sums: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        for r in &rows[1..] {
            if r[2].starts_with('(') {
                continue;
            }
            *sums
                .entry((r[0].clone(), r[1].clone(), r[2].clone()))
                .or_default() += r[5].parse::<u64>().unwrap();
        }
        assert_eq!(sums, acta_figures(&actas));
    }
    // The awkward names are quoted, and only they.
    let text = table_csv(&awkward(), &voted().actas);
    assert!(text.contains("\"Frente \"\"Amplio\"\", Unido\r\nNacional\""));
    assert!(text.contains("\"María \"\"la, de\"\" O'Neil\""));
    assert!(text.contains(",Tab\there & <there>]]>,"));
    assert!(table_csv(&voted().g.election, &[]) == format!("{}\r\n", CSV_HEADER.join(",")));
}
