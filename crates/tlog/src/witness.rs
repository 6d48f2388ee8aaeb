//! The request body of C2SP `tlog-witness` `add-checkpoint`
//! (https://c2sp.org/tlog-witness §"add-checkpoint"):
//!
//! ```text
//! old <decimal size of the witness's latest checkpoint>
//! <base64 hash>       (zero to 63 lines: consistency proof from old to new)
//!
//! <checkpoint note>
//! ```
//!
//! The answers a witness gives are fixed by the spec: 200 with cosignature
//! lines; 409 with `text/x.tlog.size` and its latest size when `old` is
//! not that size; 404 for an unknown origin; 403 for a missing or bad log
//! signature; 400 when `old` exceeds the new size; 422 when the proof fails.

use acta_note::canon;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::{Error, Hash};

/// Content type of a 409 answer's body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// An `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size the submitter believes the witness last cosigned.
    pub old: u64,
    /// Consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

fn bad(line: usize, what: &'static str) -> Error {
    Error::BadProof { line, what }
}

impl AddCheckpoint {
    /// The request body.
    pub fn to_text(&self) -> String {
        let mut s = format!("old {}\n", self.old);
        for h in &self.proof {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    /// Parses a request body strictly.
    pub fn parse(text: &str) -> Result<AddCheckpoint, Error> {
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or(bad(1, "no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(canon::decimal)
            .ok_or(bad(1, "first line must be 'old N', N decimal"))?;
        let mut proof = Vec::new();
        for (i, l) in lines.enumerate() {
            let raw = B64
                .decode(l)
                .map_err(|_| bad(i + 2, "proof hash is not canonical base64"))?;
            proof.push(
                raw.try_into()
                    .map_err(|_| bad(i + 2, "proof hash is not 32 bytes"))?,
            );
            if proof.len() > 63 {
                return Err(bad(i + 2, "more than 63 proof lines"));
            }
        }
        Ok(AddCheckpoint {
            old,
            proof,
            checkpoint: checkpoint.to_string(),
        })
    }
}
