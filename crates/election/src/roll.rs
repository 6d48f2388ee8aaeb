//! A table's roll: who may vote there, with the hash of each voter's
//! biometric template, plus the hashes of the one-time override codes the
//! authority issued to that table. The package commits to each roll by hash, so
//! a station can load its roll from any medium and still trust it.

use sha2::{Digest, Sha256};

use crate::Error;

/// One registered voter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voter {
    /// National id, e.g. `V10234567`.
    pub id: String,
    /// SHA-256 of the enrolled biometric template.
    pub template: [u8; 32],
}

/// What the package keeps of a roll: its size and hash, for one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollCommitment {
    /// Election id.
    pub election: String,
    /// Table id.
    pub table: String,
    /// Voters on the roll.
    pub registered: u32,
    /// SHA-256 (hex) of the canonical roll text.
    pub hash: String,
}

/// The roll of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roll {
    /// Election id.
    pub election: String,
    /// Table id.
    pub table: String,
    /// Voters sorted by id.
    pub voters: Vec<Voter>,
    /// SHA-256 of each one-time override code, sorted.
    pub override_codes: Vec<[u8; 32]>,
}

/// SHA-256 of an override code as typed by the poll worker.
pub fn override_code_hash(code: &str) -> [u8; 32] {
    Sha256::digest(code.as_bytes()).into()
}

impl Roll {
    /// Canonical text: `roll/v1`, election, table, then `voter` and `override` lines.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "roll/v1\nelection {}\ntable {}\n",
            self.election, self.table
        );
        for v in &self.voters {
            s.push_str(&format!("voter {} {}\n", v.id, hex::encode(v.template)));
        }
        for c in &self.override_codes {
            s.push_str(&format!("override {}\n", hex::encode(c)));
        }
        s
    }

    /// SHA-256 (hex) of the canonical text: the commitment in the package.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.to_text().as_bytes()))
    }

    /// Parses a roll text strictly (sorted, no duplicates, canonical hex).
    pub fn parse(text: &str) -> Result<Roll, Error> {
        let bad = |line: usize, what: &str| Error::Roll {
            line,
            what: what.to_string(),
        };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad(0, "roll must end with a newline"))?;
        let mut lines = body.split('\n').enumerate().map(|(i, l)| (i + 1, l));
        let mut expect = |prefix: &str| -> Result<String, Error> {
            let (n, l) = lines.next().ok_or_else(|| bad(0, "roll is truncated"))?;
            l.strip_prefix(prefix)
                .map(str::to_string)
                .ok_or_else(|| bad(n, &format!("expected '{prefix}…'")))
        };
        if !expect("roll/v1")?.is_empty() {
            return Err(bad(1, "first line must be 'roll/v1'"));
        }
        let election = expect("election ")?;
        let table = expect("table ")?;
        let mut roll = Roll {
            election,
            table,
            voters: Vec::new(),
            override_codes: Vec::new(),
        };
        for (n, l) in lines {
            let hex32 = |s: &str| -> Result<[u8; 32], Error> {
                if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(bad(n, "hash must be 64 lowercase hex digits"));
                }
                let v = hex::decode(s).map_err(|_| bad(n, "hash is not hex"))?;
                Ok(v.try_into().expect("32 bytes"))
            };
            if let Some(rest) = l.strip_prefix("voter ") {
                if !roll.override_codes.is_empty() {
                    return Err(bad(n, "voter lines must come before override lines"));
                }
                let (id, t) = rest
                    .split_once(' ')
                    .ok_or_else(|| bad(n, "expected 'voter <id> <template hash>'"))?;
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(bad(n, "voter id must be alphanumeric"));
                }
                if roll.voters.last().is_some_and(|v| v.id.as_str() >= id) {
                    return Err(bad(n, "voters must be sorted by id without duplicates"));
                }
                roll.voters.push(Voter {
                    id: id.to_string(),
                    template: hex32(t)?,
                });
            } else if let Some(rest) = l.strip_prefix("override ") {
                let h = hex32(rest)?;
                if roll.override_codes.last().is_some_and(|c| *c >= h) {
                    return Err(bad(n, "override codes must be sorted without duplicates"));
                }
                roll.override_codes.push(h);
            } else {
                return Err(bad(n, "expected a 'voter' or 'override' line"));
            }
        }
        Ok(roll)
    }

    /// What the package records of this roll.
    pub fn commitment(&self) -> RollCommitment {
        RollCommitment {
            election: self.election.clone(),
            table: self.table.clone(),
            registered: self.voters.len() as u32,
            hash: self.hash(),
        }
    }

    /// The voter with this id.
    pub fn voter(&self, id: &str) -> Option<&Voter> {
        self.voters
            .binary_search_by(|v| v.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.voters[i])
    }
}
