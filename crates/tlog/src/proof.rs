//! Receipts: offline-verifiable proofs that an entry is in the log, as
//! specified by C2SP `tlog-proof` (https://c2sp.org/tlog-proof):
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <decimal>
//! <base64 hash>            (zero or more: the RFC 9162 inclusion proof)
//!
//! <checkpoint note, verbatim, with the log's signature and cosignatures>
//! ```
//!
//! A station keeps the receipt it got for its acta. With the election
//! package alone, anyone can later check that the center accepted exactly
//! those bytes at that index in a tree it signed (and witnesses cosigned).

use acta_note::cosignature::{cosigners, CosignatureVerifier};
use acta_note::{canon, Note, Verifier};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::{leaf_hash, verify_inclusion, Checkpoint, Error, Hash};

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed `tlog-proof`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data (acta writes none).
    pub extra: Option<Vec<u8>>,
    /// Zero-based index of the entry.
    pub index: u64,
    /// Inclusion proof, from the leaf's sibling up to the root's child.
    pub path: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

/// What a verified receipt proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// The checkpoint the entry is included in.
    pub checkpoint: Checkpoint,
    /// Names of the witnesses whose cosignatures verified.
    pub witnesses: Vec<String>,
}

fn bad(line: usize, what: &'static str) -> Error {
    Error::BadProof { line, what }
}

impl TlogProof {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.path {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    /// Parses a proof strictly: the header, an optional `extra`, `index`,
    /// canonical base64 hashes, a blank line, and a note.
    pub fn parse(text: &str) -> Result<TlogProof, Error> {
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or(bad(1, "no blank line before the checkpoint"))?;
        let mut lines = head.split('\n').enumerate().map(|(i, l)| (i + 1, l));
        match lines.next() {
            Some((_, HEADER)) => {}
            _ => return Err(bad(1, "first line must be c2sp.org/tlog-proof@v1")),
        }
        let (mut n, mut line) = lines.next().ok_or(bad(2, "missing index line"))?;
        let mut extra = None;
        if let Some(b) = line.strip_prefix("extra ") {
            extra = Some(
                B64.decode(b)
                    .map_err(|_| bad(n, "extra is not canonical base64"))?,
            );
            (n, line) = lines.next().ok_or(bad(n + 1, "missing index line"))?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(canon::decimal)
            .ok_or(bad(n, "must be 'index N', N decimal without leading zeros"))?;
        let mut path = Vec::new();
        for (n, l) in lines {
            let raw = B64
                .decode(l)
                .map_err(|_| bad(n, "proof hash is not canonical base64"))?;
            path.push(
                raw.try_into()
                    .map_err(|_| bad(n, "proof hash is not 32 bytes"))?,
            );
            if path.len() > 63 {
                return Err(bad(n, "more than 63 proof hashes"));
            }
        }
        Checkpoint::parse(Note::parse(checkpoint.as_bytes())?.text)?;
        let p = TlogProof {
            extra,
            index,
            path,
            checkpoint: checkpoint.to_string(),
        };
        if p.to_text() != text {
            return Err(bad(1, "not in canonical form"));
        }
        Ok(p)
    }

    /// tlog-proof §"Verifying": the checkpoint is the log's (origin and
    /// signature), at least `need` known witnesses cosigned it, and the
    /// inclusion proof binds `entry` to its root.
    pub fn verify(
        &self,
        entry: &[u8],
        log: &Verifier,
        origin: &str,
        witnesses: &[CosignatureVerifier],
        need: usize,
    ) -> Result<Proven, Error> {
        let checkpoint = Checkpoint::open(self.checkpoint.as_bytes(), log)?;
        if checkpoint.origin != origin {
            return Err(Error::WrongOrigin {
                found: checkpoint.origin,
                expected: origin.to_string(),
            });
        }
        let note = Note::parse(self.checkpoint.as_bytes())?;
        let by = cosigners(&note, witnesses)?;
        if by.len() < need {
            return Err(Error::Cosignatures {
                got: by.len(),
                need,
            });
        }
        verify_inclusion(
            self.index,
            checkpoint.size,
            &leaf_hash(entry),
            &self.path,
            &checkpoint.root,
        )?;
        Ok(Proven {
            checkpoint,
            witnesses: by.iter().map(|(w, _)| w.name().to_string()).collect(),
        })
    }
}
