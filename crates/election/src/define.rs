//! Building the package from what people wrote and what machines asked for.
//!
//! The authority writes an election *definition* by hand — a JSON file
//! (`election-definition/v1`, documented in `docs/election-definition.md`,
//! example in `examples/election-definition.json`): geography, parties,
//! contests, schedule, the software release, the center's key, and which
//! machine serves which table. Each table's roll comes as its own `roll/v1`
//! text, of which the package keeps the size and hash ([`crate::RollCommitment`]). Each machine sends a signed certificate request
//! ([`crate::CertRequest`]) for the key it made itself. [`define`] joins the
//! three into an [`Election`] and refuses, naming the culprit:
//!
//! - a request whose signature does not verify, or for another election or
//!   another software release;
//! - one public key in two requests, or two requests from one machine;
//! - a table whose machine sent no request, or a machine named by two tables;
//! - a roll that is missing, extra, or for another election or table.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::{Area, CertRequest, Contest, Election, Error, Party, RollCommitment, Table, FORMAT};

/// First field of every definition.
pub const DEFINITION_FORMAT: &str = "election-definition/v1";

/// One table of the definition: where it is and which machine serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDefinition {
    /// `SS.MMM.PP.CCCC.TT`.
    pub id: String,
    /// The machine id that will serve it; its key comes from its request.
    pub machine: String,
}

/// The human-written election definition. Field meanings are those of
/// [`Election`]; order does not matter here, [`define`] sorts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Always [`DEFINITION_FORMAT`].
    pub format: String,
    /// Election id.
    pub id: String,
    /// Human title.
    pub name: String,
    /// Scheduled opening, canonical UTC.
    pub opens: String,
    /// Scheduled closing, canonical UTC.
    pub closes: String,
    /// SHA-256 (hex) of the audited software release.
    pub software: String,
    /// Origin line of the center's log.
    pub log_origin: String,
    /// The center's verifier key (made by the center: `acta keygen`).
    pub center_key: String,
    /// Witnesses of the log.
    #[serde(default)]
    pub witnesses: Vec<crate::Witness>,
    /// Witness cosignatures a checkpoint needs to be public.
    #[serde(default)]
    pub witness_quorum: u32,
    /// Overrides per table above which the machine raises an alarm.
    pub override_alarm: u32,
    /// Parties.
    pub parties: Vec<Party>,
    /// Contests.
    pub contests: Vec<Contest>,
    /// Named areas.
    pub areas: Vec<Area>,
    /// Tables and their machines.
    pub tables: Vec<TableDefinition>,
}

impl Definition {
    /// Reads a definition file's text.
    pub fn parse(text: &str) -> Result<Definition, Error> {
        let d: Definition =
            serde_json::from_str(text).map_err(|e| Error::Define(format!("definition: {e}")))?;
        if d.format != DEFINITION_FORMAT {
            return Err(Error::Define(format!(
                "definition format is {:?}, expected {DEFINITION_FORMAT:?}",
                d.format
            )));
        }
        Ok(d)
    }

    /// Pretty JSON, for writing an example or a generated definition.
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("definition serializes") + "\n"
    }
}

/// Builds the package content from a definition, the machines' signed
/// certificate requests and the tables' rolls. The result still has to be
/// signed by the authority and countersigned by the auditors.
pub fn define(
    def: &Definition,
    requests: &[Vec<u8>],
    rolls: &[RollCommitment],
) -> Result<Election, Error> {
    let bad = |m: String| Err(Error::Define(m));
    // Requests: each proves possession of its key, for this election and release.
    let mut by_machine: BTreeMap<String, CertRequest> = BTreeMap::new();
    let mut by_key: HashMap<[u8; 32], String> = HashMap::new();
    for (i, signed) in requests.iter().enumerate() {
        let r = CertRequest::open(signed)
            .map_err(|e| Error::Define(format!("certificate request #{}: {e}", i + 1)))?;
        if r.election != def.id {
            return bad(format!(
                "certificate request of machine {} is for election {}, not {}",
                r.machine, r.election, def.id
            ));
        }
        if acta_note::canon::to_hex(&r.software) != def.software {
            return bad(format!(
                "machine {} runs software {}, not the audited release {}",
                r.machine,
                acta_note::canon::to_hex(&r.software),
                def.software
            ));
        }
        if let Some(other) = by_key.insert(r.key.public_key(), r.machine.clone()) {
            return bad(format!(
                "machine {} presents the same public key as machine {other}: a key is certified once",
                r.machine
            ));
        }
        if by_machine.contains_key(&r.machine) {
            return bad(format!(
                "machine {} sent two certificate requests with different keys",
                r.machine
            ));
        }
        by_machine.insert(r.machine.clone(), r);
    }
    let mut rolls_by_table: BTreeMap<&str, &RollCommitment> = BTreeMap::new();
    for r in rolls {
        if r.election != def.id {
            return bad(format!(
                "roll of table {} is for election {}",
                r.table, r.election
            ));
        }
        if rolls_by_table.insert(r.table.as_str(), r).is_some() {
            return bad(format!("two rolls for table {}", r.table));
        }
    }
    let mut tables = Vec::with_capacity(def.tables.len());
    let mut machines_used: HashMap<&str, &str> = HashMap::new();
    for t in &def.tables {
        if let Some(other) = machines_used.insert(t.machine.as_str(), t.id.as_str()) {
            return bad(format!(
                "machine {} is named for table {other} and table {}: a machine serves one table",
                t.machine, t.id
            ));
        }
        let Some(req) = by_machine.get(&t.machine) else {
            return bad(format!(
                "table {}: machine {} sent no certificate request",
                t.id, t.machine
            ));
        };
        let Some(roll) = rolls_by_table.remove(t.id.as_str()) else {
            return bad(format!("table {}: no roll", t.id));
        };
        tables.push(Table {
            id: t.id.clone(),
            registered: roll.registered,
            roll: roll.hash.clone(),
            machine: t.machine.clone(),
            key: req.key.to_string(),
            verifier: Default::default(),
        });
    }
    if let Some(extra) = rolls_by_table.keys().next() {
        return bad(format!(
            "roll for table {extra}, which is not in the definition"
        ));
    }
    if let Some(m) = by_machine
        .keys()
        .find(|m| !machines_used.contains_key(m.as_str()))
    {
        return bad(format!(
            "certificate request from machine {m}, which serves no table"
        ));
    }
    let mut contests = def.contests.clone();
    contests.sort_by(|a, b| a.id.cmp(&b.id));
    for c in &mut contests {
        c.lists.sort();
    }
    let mut areas = def.areas.clone();
    areas.sort_by(|a, b| a.code.cmp(&b.code));
    tables.sort_by(|a, b| a.id.cmp(&b.id));
    let election = Election {
        format: FORMAT.into(),
        id: def.id.clone(),
        name: def.name.clone(),
        opens: def.opens.clone(),
        closes: def.closes.clone(),
        software: def.software.clone(),
        log_origin: def.log_origin.clone(),
        center_key: def.center_key.clone(),
        witnesses: def.witnesses.clone(),
        witness_quorum: def.witness_quorum,
        override_alarm: def.override_alarm,
        parties: def.parties.clone(),
        contests,
        areas,
        tables,
        table_index: Default::default(),
    };
    election.validate()?;
    Ok(election)
}
