//! Witness cosignatures as specified by C2SP `tlog-cosignature`
//! (https://c2sp.org/tlog-cosignature), Ed25519 type `cosignature/v1`.
//!
//! A cosignature is a note signature line on a checkpoint:
//!
//! ```text
//! — <name> base64(key id ‖ timestamp ‖ Ed25519 signature)
//! ```
//!
//! - key id = SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4] (§"Format");
//! - timestamp = u64 big-endian POSIX seconds, at most 2^63 − 1;
//! - the signed message is `cosignature/v1\ntime <t>\n` followed by the whole
//!   checkpoint body (§"Ed25519 signed message").
//!
//! A witness uses the same Ed25519 seed file as any acta key
//! (`PRIVATE+KEY+…`); only the key id and the signed message differ, so a
//! cosignature can never be mistaken for the note signature of the same key.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{check_name, Error, Note, Signer, SIG_PREFIX};

/// The algorithm byte of Ed25519 cosignature keys (tlog-cosignature §"Format").
const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Key id of a cosigner: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4].
pub fn cosigner_key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_COSIGNATURE_V1]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The message an Ed25519 cosigner signs (tlog-cosignature §"Ed25519 signed message").
pub fn cosigned_message(checkpoint_body: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{checkpoint_body}")
}

/// A witness's private key.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cosigner({}+{:08x})", self.name, self.id)
    }
}

impl Cosigner {
    /// The cosigner with the same name and seed as a note signer.
    pub fn from_signer(signer: &Signer) -> Cosigner {
        let key = signer.key.clone();
        Cosigner {
            id: cosigner_key_id(&signer.name, key.verifying_key().as_bytes()),
            name: signer.name.clone(),
            key,
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The cosignature line (without newline) over a checkpoint body at `time`.
    pub fn cosign(&self, checkpoint_body: &str, time: u64) -> String {
        let time = time.min(i64::MAX as u64);
        let sig = self
            .key
            .sign(cosigned_message(checkpoint_body, time).as_bytes());
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&time.to_be_bytes());
        raw.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}", self.name, B64.encode(raw))
    }
}

/// A witness's public key: `name+hex(id)+base64(0x04 ‖ key)` (a vkey of type 0x04).
#[derive(Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignatureVerifier({self})")
    }
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

impl std::str::FromStr for CosignatureVerifier {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let (name, id, raw) = crate::split_key(s)?;
        if raw.len() != 33 || raw[0] != ALG_COSIGNATURE_V1 {
            return Err(Error::BadKey(
                "witness key is not a 32-byte Ed25519 cosignature/v1 key (type 0x04)",
            ));
        }
        let mut public = [0u8; 32];
        public.copy_from_slice(&raw[1..]);
        if cosigner_key_id(name, &public) != id {
            return Err(Error::BadKey("key id does not match the key"));
        }
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| Error::BadKey("not a valid Ed25519 point"))?;
        if key.is_weak() {
            return Err(Error::BadKey("weak Ed25519 key"));
        }
        Ok(CosignatureVerifier {
            name: name.to_string(),
            id,
            key,
        })
    }
}

impl CosignatureVerifier {
    /// Builds a verifier from a name and raw public key.
    pub fn from_public(name: &str, public: [u8; 32]) -> Result<Self, Error> {
        check_name(name)?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| Error::BadKey("not a valid Ed25519 point"))?;
        if key.is_weak() {
            return Err(Error::BadKey("weak Ed25519 key"));
        }
        Ok(CosignatureVerifier {
            name: name.to_string(),
            id: cosigner_key_id(name, &public),
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The timestamp of a valid cosignature by this key, if `sig` (the bytes
    /// after the key id) is one over `checkpoint_body`.
    pub fn verify(&self, checkpoint_body: &str, sig: &[u8]) -> Option<u64> {
        let (time, sig) = sig.split_first_chunk::<8>()?;
        let time = u64::from_be_bytes(*time);
        if time > i64::MAX as u64 {
            return None;
        }
        let sig = ed25519_dalek::Signature::from_slice(sig).ok()?;
        self.key
            .verify_strict(cosigned_message(checkpoint_body, time).as_bytes(), &sig)
            .ok()?;
        Some(time)
    }
}

/// Which of `witnesses` validly cosigned the note, with the time each
/// signed, each public key once. Lines by unknown keys are ignored; a line
/// by a known witness that does not verify fails the whole note, as for any
/// signed note.
pub fn cosigners<'w>(
    note: &Note<'_>,
    witnesses: &'w [CosignatureVerifier],
) -> Result<Vec<(&'w CosignatureVerifier, u64)>, Error> {
    let mut by: Vec<(&CosignatureVerifier, u64)> = Vec::new();
    for sig in &note.signatures {
        let Some(w) = witnesses
            .iter()
            .find(|w| w.name == sig.name && w.id == sig.key_id)
        else {
            continue;
        };
        let Some(time) = w.verify(note.text, &sig.bytes) else {
            return Err(Error::InvalidSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
            });
        };
        if !by.iter().any(|(v, _)| v.key == w.key) {
            by.push((w, time));
        }
    }
    Ok(by)
}
