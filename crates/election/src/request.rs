//! `acta-machine-request/v1`: the certificate request a polling-table machine
//! prints after it made its own key (SYSTEM.md §2).
//!
//! The machine generates its Ed25519 key from the operating system's
//! randomness; the private half never leaves it. What it hands the authority
//! is this text, signed by that very key (proof that whoever asks holds the
//! key):
//!
//! ```text
//! acta-machine-request/v1
//! election VE-2026-12-06
//! machine M000001
//! key M000001+1a2b3c4d+AX…
//! software 3f5e…(64 hex)
//! ```
//!
//! `key` is the machine's verifier key, named after the machine; `software`
//! is the SHA-256 of the release the machine runs. The authority collects
//! the requests and certifies each key for one table in the package
//! ([`crate::define`]); it never sees or makes a machine's private key.

use acta_note::{canon, Signer, Verifier};

use crate::Error;

/// First line of every request.
pub const REQUEST_FORMAT: &str = "acta-machine-request/v1";

/// What a machine asks the authority to certify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRequest {
    /// Election id.
    pub election: String,
    /// Machine id; the key is named after it.
    pub machine: String,
    /// The machine's public key.
    pub key: Verifier,
    /// SHA-256 of the software release the machine runs.
    pub software: [u8; 32],
}

impl CertRequest {
    /// The canonical text.
    pub fn to_text(&self) -> String {
        format!(
            "{REQUEST_FORMAT}\nelection {}\nmachine {}\nkey {}\nsoftware {}\n",
            self.election,
            self.machine,
            self.key,
            canon::to_hex(&self.software)
        )
    }

    /// Parses the canonical text; anything else is refused with its line.
    pub fn parse(text: &str) -> Result<CertRequest, Error> {
        let bad = |line: usize, what: &str| Error::Request {
            line,
            what: what.to_string(),
        };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad(0, "text must end with a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() != 5 {
            return Err(bad(
                lines.len().min(5) + 1,
                "a request has exactly 5 lines: format, election, machine, key, software",
            ));
        }
        if lines[0] != REQUEST_FORMAT {
            return Err(bad(1, "first line must be 'acta-machine-request/v1'"));
        }
        let field = |i: usize, key: &str| -> Result<&str, Error> {
            lines[i]
                .strip_prefix(key)
                .and_then(|r| r.strip_prefix(' '))
                .ok_or_else(|| bad(i + 1, &format!("expected '{key} <value>'")))
        };
        let election = field(1, "election")?;
        if !canon::is_id(election) {
            return Err(bad(2, "election id must be 1-32 of A-Z, 0-9, '-'"));
        }
        let machine = field(2, "machine")?;
        if !canon::is_id(machine) {
            return Err(bad(3, "machine id must be 1-32 of A-Z, 0-9, '-'"));
        }
        let key_text = field(3, "key")?;
        let key: Verifier = key_text
            .parse()
            .map_err(|e: acta_note::Error| bad(4, &e.to_string()))?;
        if key.name() != machine {
            return Err(bad(4, "the key must be named after the machine"));
        }
        if key.to_string() != key_text {
            return Err(bad(4, "key is not in canonical form"));
        }
        let software = canon::hex32(field(4, "software")?)
            .ok_or_else(|| bad(5, "software must be 64 lowercase hex digits"))?;
        let r = CertRequest {
            election: election.to_string(),
            machine: machine.to_string(),
            key,
            software,
        };
        debug_assert_eq!(r.to_text(), text);
        Ok(r)
    }

    /// Signs the request with the machine's own key.
    pub fn sign(&self, key: &Signer) -> String {
        acta_note::sign(&self.to_text(), &[key]).expect("request text is a valid note text")
    }

    /// Opens a signed request: canonical text, exactly one signature, by the
    /// key the request names (proof of possession).
    pub fn open(signed: &[u8]) -> Result<CertRequest, Error> {
        let sig = |e: acta_note::Error| Error::Request {
            line: 0,
            what: format!("signature: {e}"),
        };
        let note = acta_note::Note::parse(signed).map_err(sig)?;
        let r = CertRequest::parse(note.text)?;
        acta_note::open_single(signed, &r.key).map_err(sig)?;
        Ok(r)
    }
}
