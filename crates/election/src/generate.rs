//! Synthetic elections for demos, tests and benchmarks, from a seed and a
//! number of tables — from a handful up to national scale (30,000 tables and
//! about 21 million voters, the size of Venezuela's register).
//!
//! The shape follows Venezuela's: about 14 municipalities per state, 3 parishes
//! per municipality, 2 tables per voting center, a register of roughly 700
//! voters per table with a realistic spread. Everything, keys included, is
//! derived from the seed, so a generated election can be re-created exactly;
//! the keys of a real election come from `acta_note::Signer::generate`.

use acta_note::Signer;
use sha2::{Digest, Sha256};

use crate::rng::SplitMix;
use crate::roll::override_code_hash;
use crate::{
    Area, Candidate, Contest, Election, Kind, Method, Party, Roll, Table, Trust, Voter, FORMAT,
};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed: the same seed and size give the same election.
    pub seed: u64,
    /// Number of tables.
    pub tables: usize,
    /// Party auditors who countersign the package.
    pub auditors: usize,
    /// Signatures required among authority and auditors.
    pub quorum: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 2026,
            tables: 300,
            auditors: 3,
            quorum: 3,
        }
    }
}

/// A generated election with every key it needs.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The options used.
    pub options: Options,
    /// The election.
    pub election: Election,
    /// The signed package note.
    pub package: String,
    /// The trust file for verifiers.
    pub trust: Trust,
    /// The authority's key.
    pub authority: Signer,
    /// Auditors' keys.
    pub auditors: Vec<Signer>,
    /// The center's log and announcement key.
    pub center: Signer,
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

/// The key of the machine of table number `index` (package order).
pub fn machine_key(seed: u64, index: usize) -> Signer {
    let mut r = SplitMix::new(sub_seed(seed, "machine", index as u64));
    Signer::from_seed(&machine_id(index), r.bytes32()).expect("valid name")
}

fn machine_id(index: usize) -> String {
    format!("M{:06}", index + 1)
}

/// The roll of table number `index`, and the clear override codes issued to it.
pub fn roll(seed: u64, election: &Election, index: usize) -> (Roll, Vec<String>) {
    let t = &election.tables[index];
    let mut r = SplitMix::new(sub_seed(seed, "roll", index as u64));
    let voters = (0..t.registered as u64)
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
            election: election.id.clone(),
            table: t.id.clone(),
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

/// Generates an election.
pub fn generate(opts: &Options) -> Generated {
    assert!(opts.tables >= 1, "an election needs at least one table");
    let mut r = SplitMix::new(sub_seed(opts.seed, "shape", 0));
    let authority = Signer::from_seed(
        "authority",
        SplitMix::new(sub_seed(opts.seed, "authority", 0)).bytes32(),
    )
    .expect("name");
    let auditors: Vec<Signer> = (0..opts.auditors)
        .map(|i| {
            Signer::from_seed(
                &format!("auditor-{}", i + 1),
                SplitMix::new(sub_seed(opts.seed, "auditor", i as u64)).bytes32(),
            )
            .expect("name")
        })
        .collect();
    let center = Signer::from_seed(
        "center",
        SplitMix::new(sub_seed(opts.seed, "center", 0)).bytes32(),
    )
    .expect("name");

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
            tables.push(Table {
                id: format!("{cc}.{t:02}"),
                registered,
                roll: String::new(),
                machine: String::new(),
                key: String::new(),
            });
        }
        remaining -= here;
        k += 1;
    }
    areas.sort_by(|a, b| a.code.cmp(&b.code));
    tables.sort_by(|a, b| a.id.cmp(&b.id));
    for (i, t) in tables.iter_mut().enumerate() {
        t.machine = machine_id(i);
        t.key = machine_key(opts.seed, i).verifier().to_string();
    }

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
    let mut election = Election {
        format: FORMAT.into(),
        id: id.clone(),
        name: format!("Eleccion sintetica {} ({} mesas)", opts.seed, n),
        opens: "2026-12-06T10:00:00Z".into(),
        closes: "2026-12-06T22:00:00Z".into(),
        software: hex::encode(Sha256::digest(
            format!("acta-station {}", env!("CARGO_PKG_VERSION")).as_bytes(),
        )),
        log_origin: format!("acta.example/log/{}", id.to_ascii_lowercase()),
        center_key: center.verifier().to_string(),
        override_alarm: 8,
        parties,
        contests,
        areas,
        tables,
    };
    for i in 0..election.tables.len() {
        let hash = roll(opts.seed, &election, i).0.hash();
        election.tables[i].roll = hash;
    }
    debug_assert!(election.validate().is_ok());

    let mut package = acta_note::sign(&election.to_text(), &[&authority]).expect("valid text");
    for a in &auditors {
        package = acta_note::countersign(package.as_bytes(), a).expect("fresh key");
    }
    let mut verifiers = vec![authority.verifier()];
    verifiers.extend(auditors.iter().map(|a| a.verifier()));
    let trust = Trust {
        quorum: acta_note::Quorum {
            verifiers,
            need: opts.quorum.min(1 + opts.auditors).max(1),
        },
    };
    Generated {
        options: opts.clone(),
        election,
        package,
        trust,
        authority,
        auditors,
        center,
    }
}
