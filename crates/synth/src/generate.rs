//! Synthetic election *content* for demos, tests and benchmarks, from a seed
//! and a number of tables — from a handful up to national scale (30,000
//! tables and about 21 million voters, the size of Venezuela's register).
//!
//! The shape follows Venezuela's: about 14 municipalities per state, 3
//! parishes per municipality, 2 tables per voting center, a register of
//! roughly 700 voters per table with a realistic spread. The seed fixes the
//! geography, contests, rolls and override codes — never a key: keys are made
//! by their owners in the key ceremony ([`crate::ceremony`]) from the
//! operating system's randomness.

use acta_election::{
    override_code_hash, Area, Candidate, Contest, Definition, Kind, Method, Party, Roll,
    TableDefinition, Voter, DEFINITION_FORMAT,
};
use sha2::{Digest, Sha256};

use crate::rng::SplitMix;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed: the same seed and size give the same election content.
    pub seed: u64,
    /// Number of tables.
    pub tables: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 2026,
            tables: 300,
        }
    }
}

/// A generated election's content: the definition an authority would write,
/// and what is needed to make each table's roll.
#[derive(Debug, Clone)]
pub struct Content {
    /// The options used.
    pub options: Options,
    /// The definition; `center_key` and `software` are the ceremony's to fill.
    pub definition: Definition,
    /// Registered voters per table, in definition order.
    pub registered: Vec<u32>,
}

/// Override codes issued per table.
pub const OVERRIDE_CODES_PER_TABLE: usize = 10;

fn sub_seed(seed: u64, what: &str, index: u64) -> u64 {
    let d = Sha256::new()
        .chain_update(seed.to_be_bytes())
        .chain_update(what.as_bytes())
        .chain_update(index.to_be_bytes())
        .finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The machine id of table number `index` (sorted table order).
pub fn machine_id(index: usize) -> String {
    format!("M{:06}", index + 1)
}

impl Content {
    /// The roll of table number `index` (sorted table order), and the clear
    /// override codes issued to it. Made on demand: a national election's
    /// rolls hold 21 million voters.
    pub fn roll(&self, index: usize) -> (Roll, Vec<String>) {
        roll(
            self.options.seed,
            &self.definition.id,
            &self.definition.tables[index].id,
            self.registered[index],
            index,
        )
    }
}

fn roll(
    seed: u64,
    election: &str,
    table: &str,
    registered: u32,
    index: usize,
) -> (Roll, Vec<String>) {
    let mut r = SplitMix::new(sub_seed(seed, "roll", index as u64));
    let voters = (0..registered as u64)
        .map(|i| {
            let id = format!("V{}", 10_000_000 + index as u64 * 1000 + i);
            Voter {
                id,
                template: r.bytes32(),
            }
        })
        .collect();
    let codes: Vec<String> = (0..OVERRIDE_CODES_PER_TABLE)
        .map(|_| format!("{:08}", r.below(100_000_000)))
        .collect();
    let mut hashes: Vec<[u8; 32]> = codes.iter().map(|c| override_code_hash(c)).collect();
    hashes.sort();
    hashes.dedup();
    (
        Roll {
            election: election.to_string(),
            table: table.to_string(),
            voters,
            override_codes: hashes,
        },
        codes,
    )
}

const PARTIES: [(&str, &str); 8] = [
    ("PDA", "Partido Democratico Andino"),
    ("UPL", "Union Patriotica Llanera"),
    ("MRC", "Movimiento Republicano del Caribe"),
    ("AVZ", "Accion Vecinal"),
    ("FPV", "Frente Popular Verde"),
    ("CNU", "Convergencia Nacional Unida"),
    ("PTR", "Partido del Trabajo y la Region"),
    ("IND", "Independientes por el Cambio"),
];

fn candidate(id: &str, name: String, cards: &[&str]) -> Candidate {
    Candidate {
        id: id.to_string(),
        name,
        cards: cards.iter().map(|s| s.to_string()).collect(),
    }
}

/// Generates an election's content.
pub fn generate(opts: &Options) -> Content {
    assert!(opts.tables >= 1, "an election needs at least one table");
    let mut r = SplitMix::new(sub_seed(opts.seed, "shape", 0));

    // Geography, scaled from Venezuela's proportions.
    let n = opts.tables;
    let states = (n / 60).clamp(1, 24);
    let munis_per_state = (n / (states * 20)).clamp(1, 14);
    let parishes_per_muni = (n / (states * munis_per_state * 4)).clamp(1, 3);
    let mut areas = Vec::new();
    let mut parishes = Vec::new();
    for s in 1..=states {
        let sc = format!("{s:02}");
        areas.push(Area {
            code: sc.clone(),
            name: format!("Estado {s}"),
        });
        for m in 1..=munis_per_state {
            let mc = format!("{sc}.{m:03}");
            areas.push(Area {
                code: mc.clone(),
                name: format!("Municipio {s}-{m}"),
            });
            for p in 1..=parishes_per_muni {
                let pc = format!("{mc}.{p:02}");
                areas.push(Area {
                    code: pc.clone(),
                    name: format!("Parroquia {s}-{m}-{p}"),
                });
                parishes.push((pc, 0usize));
            }
        }
    }
    let mut tables = Vec::with_capacity(n);
    let mut remaining = n;
    let mut k = 0usize;
    while remaining > 0 {
        // Centers hold 1 to 3 tables, 2 on average.
        let here = ((1 + r.below(3)) as usize).min(remaining);
        let np = parishes.len();
        let (pc, centers) = &mut parishes[k % np];
        *centers += 1;
        let cc = format!("{pc}.{:04}", *centers);
        areas.push(Area {
            code: cc.clone(),
            name: format!("Centro {cc}"),
        });
        for t in 1..=here {
            // Register sizes: mean about 700, sd about 180, bounded as a real table is.
            let registered = (700.0 + 180.0 * r.normal()).round().clamp(120.0, 990.0) as u32;
            tables.push((format!("{cc}.{t:02}"), registered));
        }
        remaining -= here;
        k += 1;
    }
    areas.sort_by(|a, b| a.code.cmp(&b.code));
    tables.sort();

    let parties: Vec<Party> = PARTIES
        .iter()
        .map(|(id, name)| Party {
            id: id.to_string(),
            name: name.to_string(),
        })
        .collect();
    let mut contests = vec![
        Contest {
            id: "PRES".into(),
            name: "Presidencia de la Republica".into(),
            scope: String::new(),
            kind: Kind::Plurality,
            seats: 1,
            method: None,
            candidates: vec![
                candidate("C1", "Ana Maria Rojas".into(), &["PDA", "AVZ", "FPV"]),
                candidate("C2", "Jose Luis Pereira".into(), &["UPL", "PTR"]),
                candidate("C3", "Carmen Elena Suarez".into(), &["MRC"]),
                candidate("C4", "Rafael Antonio Mejias".into(), &["IND"]),
            ],
            lists: vec![],
        },
        Contest {
            id: "AN".into(),
            name: "Asamblea Nacional (lista)".into(),
            scope: String::new(),
            kind: Kind::PartyList,
            seats: 15,
            method: Some(Method::DHondt),
            candidates: vec![],
            lists: PARTIES[..6].iter().map(|p| p.0.to_string()).collect(),
        },
        Contest {
            id: "REF".into(),
            name: "Consulta: enmienda constitucional".into(),
            scope: String::new(),
            kind: Kind::Referendum,
            seats: 0,
            method: None,
            candidates: vec![],
            lists: vec![],
        },
    ];
    for s in 1..=states {
        let sc = format!("{s:02}");
        contests.push(Contest {
            id: format!("GOB-{sc}"),
            name: format!("Gobernacion del Estado {s}"),
            scope: sc.clone(),
            kind: Kind::Plurality,
            seats: 1,
            method: None,
            candidates: vec![
                candidate("G1", format!("Candidata A del Estado {s}"), &["PDA", "FPV"]),
                candidate("G2", format!("Candidato B del Estado {s}"), &["UPL"]),
                candidate("G3", format!("Candidata C del Estado {s}"), &["MRC", "CNU"]),
            ],
            lists: vec![],
        });
        contests.push(Contest {
            id: format!("CLE-{sc}"),
            name: format!("Consejo Legislativo del Estado {s} (nominal, vote por 3)"),
            scope: sc,
            kind: Kind::Plurality,
            seats: 3,
            method: None,
            candidates: (1..=5)
                .map(|c| {
                    candidate(
                        &format!("L{c}"),
                        format!("Legislador {c} del Estado {s}"),
                        &[PARTIES[(c - 1) % 6].0],
                    )
                })
                .collect(),
            lists: vec![],
        });
        contests.push(Contest {
            id: format!("CLL-{s:02}"),
            name: format!("Consejo Legislativo del Estado {s} (lista)"),
            scope: format!("{s:02}"),
            kind: Kind::PartyList,
            seats: 7,
            method: Some(Method::SainteLague),
            candidates: vec![],
            lists: PARTIES[..5].iter().map(|p| p.0.to_string()).collect(),
        });
    }
    contests.sort_by(|a, b| a.id.cmp(&b.id));

    let id = format!("SYN-{}", opts.seed);
    let definition = Definition {
        format: DEFINITION_FORMAT.into(),
        id: id.clone(),
        name: format!("Eleccion sintetica {} ({} mesas)", opts.seed, n),
        opens: "2026-12-06T10:00:00Z".into(),
        closes: "2026-12-06T22:00:00Z".into(),
        software: String::new(),
        log_origin: format!("acta.example/log/{}", id.to_ascii_lowercase()),
        center_key: String::new(),
        witnesses: Vec::new(),
        witness_quorum: 0,
        override_alarm: 8,
        parties,
        contests,
        areas,
        tables: tables
            .iter()
            .enumerate()
            .map(|(i, (id, _))| TableDefinition {
                id: id.clone(),
                machine: machine_id(i),
            })
            .collect(),
    };
    Content {
        options: opts.clone(),
        definition,
        registered: tables.iter().map(|(_, r)| *r).collect(),
    }
}
