//! Checkpoints as specified by C2SP tlog-checkpoint
//! (https://c2sp.org/tlog-checkpoint): origin, decimal size, base64 root.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::{Error, Hash};

/// A log's commitment to its first `size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, e.g. `acta.example/log/2026-general`.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// RFC 9162 root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body to sign: three lines, no extensions.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a checkpoint body strictly. acta logs never write extension
    /// lines, so their presence is refused rather than silently ignored.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |line, what| Error::BadCheckpoint { line, what };
        let body = text
            .strip_suffix('\n')
            .ok_or(bad(1, "must end with a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(bad(
                lines.len() + 1,
                "missing line: need origin, size and root",
            ));
        }
        if lines.len() > 3 {
            return Err(bad(4, "extension lines are not used by acta logs"));
        }
        let origin = lines[0];
        if origin.is_empty() || origin.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(1, "origin must be non-empty with no spaces"));
        }
        let size = parse_decimal(lines[1]).ok_or(bad(
            2,
            "size must be a decimal number without leading zeros",
        ))?;
        let raw = B64
            .decode(lines[2])
            .map_err(|_| bad(3, "root is not canonical base64"))?;
        let root: Hash = raw
            .try_into()
            .map_err(|_| bad(3, "root must be 32 bytes"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }

    /// Verifies a signed checkpoint note with the log's key and parses it.
    pub fn open(note: &[u8], log_key: &acta_note::Verifier) -> Result<Self, Error> {
        let text = acta_note::open(note, log_key)?;
        Self::parse(text)
    }
}

/// A canonical unsigned decimal: digits only, no leading zeros, fits in u64.
pub fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}
