//! Signed notes as specified by C2SP `signed-note` (https://c2sp.org/signed-note),
//! with Ed25519 keys.
//!
//! Every artifact acta publishes — actas, zero reports, machine certificates,
//! the election package, log checkpoints, cosignatures and announcements — is a
//! signed note. The rule everywhere is: sign bytes, store exactly those bytes,
//! verify what was received. Nothing here re-serializes a note to verify it.
//!
//! This crate does no I/O: it takes bytes and returns values.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod canon;
pub mod cosignature;

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The algorithm byte for Ed25519 keys (signed-note §"Signature types").
const ALG_ED25519: u8 = 0x01;
/// The separator before each signature line: an em dash and a space.
pub(crate) const SIG_PREFIX: &str = "\u{2014} ";
/// The spec asks verifiers to accept at least 16 signatures; Go's reference
/// accepts 100. More than that is treated as an attack on the verifier.
pub const MAX_SIGNATURES: usize = 100;

/// Why a note, key or signature was refused.
///
/// Every variant is fatal for the bytes at hand: nothing in acta stores or
/// counts a note that produced one of these.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes are not UTF-8; the offset is the first bad byte.
    #[error("note is not valid UTF-8 (first bad byte at offset {0})")]
    NotUtf8(usize),
    /// The text part contains a control character other than newline.
    #[error("note text line {line}: control character U+{code:04X} is not allowed")]
    ControlCharacter {
        /// 1-based line of the text.
        line: usize,
        /// The offending code point.
        code: u32,
    },
    /// There is no blank line separating text from signatures.
    #[error("note has no blank line separating the text from the signatures")]
    NoSignatureBlock,
    /// The text is empty or does not end in a newline.
    #[error("note text must be non-empty and end with a newline")]
    BadText,
    /// A signature line is malformed.
    #[error("signature line {line}: {what}")]
    BadSignatureLine {
        /// 1-based index among the signature lines.
        line: usize,
        /// What is wrong with it.
        what: &'static str,
    },
    /// The same key signed twice.
    #[error("signature line {line}: key {name}+{key_id:08x} signed more than once")]
    DuplicateSignature {
        /// 1-based index among the signature lines.
        line: usize,
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// More signatures than [`MAX_SIGNATURES`].
    #[error("note carries more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A known key's signature does not verify: the note was altered or forged.
    #[error("signature by {name}+{key_id:08x} does not verify: the note was altered or forged")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// Fewer known keys signed than the verifier set demands.
    #[error("note is signed by {got} of the required {need} known keys ({names})")]
    Quorum {
        /// Distinct known keys with a valid signature.
        got: usize,
        /// The quorum.
        need: usize,
        /// Who did sign, comma separated (may be empty).
        names: String,
    },
    /// A key name is empty, has whitespace or a `+`.
    #[error("key name {0:?} is invalid: it must be non-empty, with no spaces and no '+'")]
    BadKeyName(String),
    /// A verifier or signer key string is malformed.
    #[error("key string is malformed: {0}")]
    BadKey(&'static str),
    /// One public key appears twice among the keys of a quorum.
    #[error("key {0} repeats a public key already listed: a quorum counts distinct keys")]
    RepeatedKey(String),
    /// A quorum asks for no signatures, or more than there are keys.
    #[error("a quorum of {need} cannot be met by {keys} keys")]
    BadQuorum {
        /// The threshold asked for.
        need: usize,
        /// Keys listed.
        keys: usize,
    },
    /// A note that must carry exactly one signature carries another number.
    #[error("note must carry exactly one signature, by {expected}; it carries {found}")]
    NotSingleSigned {
        /// Whose signature it must carry.
        expected: String,
        /// How many signature lines it carries.
        found: usize,
    },
    /// The random number generator failed.
    #[error("operating system random number generator failed")]
    Random,
}

/// A name is valid if non-empty, without Unicode whitespace and without `+`
/// (signed-note §"Format").
pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.contains('+') || name.chars().any(|c| c.is_whitespace()) {
        return Err(Error::BadKeyName(name.to_string()));
    }
    Ok(())
}

/// Key id: the first four bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key),
/// read big-endian (signed-note §"Ed25519").
pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A named Ed25519 private key that signs notes.
#[derive(Clone)]
pub struct Signer {
    name: String,
    id: u32,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}+{:08x})", self.name, self.id)
    }
}

impl Signer {
    /// A fresh key from the operating system's random number generator.
    pub fn generate(name: &str) -> Result<Self, Error> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|_| Error::Random)?;
        Self::from_seed(name, seed)
    }

    /// A key from a 32-byte Ed25519 seed. Used for reproducible test elections.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, Error> {
        check_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, key.verifying_key().as_bytes());
        Ok(Signer {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// Parses Go's `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>` form.
    pub fn from_private_key(s: &str) -> Result<Self, Error> {
        let rest = s
            .trim_end_matches('\n')
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(Error::BadKey("private key must start with PRIVATE+KEY+"))?;
        let (name, id, raw) = split_key(rest)?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(Error::BadKey("private key is not a 32-byte Ed25519 seed"));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&raw[1..]);
        let signer = Self::from_seed(name, seed)?;
        if signer.id != id {
            return Err(Error::BadKey("key id does not match the key"));
        }
        Ok(signer)
    }

    /// Go's private key string; keep it secret.
    pub fn to_private_key(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(raw)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, to hand to verifiers.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line this key makes over `text` (without the trailing newline).
    pub fn signature_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}", self.name, B64.encode(raw))
    }
}

pub(crate) fn split_key(s: &str) -> Result<(&str, u32, Vec<u8>), Error> {
    let mut parts = s.splitn(3, '+');
    let name = parts.next().unwrap_or_default();
    let id = parts.next().ok_or(Error::BadKey("missing key id"))?;
    let b64 = parts.next().ok_or(Error::BadKey("missing key material"))?;
    check_name(name)?;
    if id.len() != 8
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(Error::BadKey("key id must be 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| Error::BadKey("key id is not hex"))?;
    let raw = B64
        .decode(b64)
        .map_err(|_| Error::BadKey("key material is not canonical base64"))?;
    Ok((name, id, raw))
}

/// A named Ed25519 public key: `name+hex(id)+base64(0x01 ‖ key)` on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({self})")
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

impl std::str::FromStr for Verifier {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let (name, id, raw) = split_key(s)?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(Error::BadKey("verifier key is not a 32-byte Ed25519 key"));
        }
        let mut public = [0u8; 32];
        public.copy_from_slice(&raw[1..]);
        if key_id(name, &public) != id {
            return Err(Error::BadKey("key id does not match the key"));
        }
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| Error::BadKey("not a valid Ed25519 point"))?;
        if key.is_weak() {
            return Err(Error::BadKey("weak Ed25519 key"));
        }
        Ok(Verifier {
            name: name.to_string(),
            id,
            key,
        })
    }
}

impl Verifier {
    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }
    /// The raw public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
    /// Builds a verifier from a name and raw public key.
    pub fn from_public(name: &str, public: [u8; 32]) -> Result<Self, Error> {
        check_name(name)?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| Error::BadKey("not a valid Ed25519 point"))?;
        Ok(Verifier {
            name: name.to_string(),
            id: key_id(name, &public),
            key,
        })
    }
    fn verify(&self, text: &str, sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(text.as_bytes(), &sig).is_ok()
    }
}

/// One signature line of a note, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Key name.
    pub name: String,
    /// Key id (the first 4 bytes of the base64 blob).
    pub key_id: u32,
    /// The signature bytes after the key id.
    pub bytes: Vec<u8>,
}

/// Texts from this size on have their signatures checked on one thread
/// each (an election package of 30,000 tables is about 7 MB).
const PARALLEL_TEXT: usize = 1 << 20;

/// A note split into its text and signature lines, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note<'a> {
    /// The signed text, ending in a newline.
    pub text: &'a str,
    /// The signature lines in received order.
    pub signatures: Vec<Signature>,
}

impl<'a> Note<'a> {
    /// Splits a note into text and signatures, rejecting anything malformed
    /// (signed-note §"Format"). Verifies nothing.
    pub fn parse(msg: &'a [u8]) -> Result<Self, Error> {
        let s = std::str::from_utf8(msg).map_err(|e| Error::NotUtf8(e.valid_up_to()))?;
        let split = s.rfind("\n\n").ok_or(Error::NoSignatureBlock)?;
        let text = &s[..split + 1];
        let sigs = &s[split + 2..];
        check_text(text)?;
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(Error::BadSignatureLine {
                line: 1,
                what: "signature block must end with a newline",
            });
        }
        let mut signatures = Vec::new();
        let mut seen = HashSet::new();
        for (i, line) in sigs[..sigs.len() - 1].split('\n').enumerate() {
            let line_no = i + 1;
            if signatures.len() >= MAX_SIGNATURES {
                return Err(Error::TooManySignatures);
            }
            let bad = |what| Error::BadSignatureLine {
                line: line_no,
                what,
            };
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or(bad("must start with an em dash and a space"))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(bad("must be '— <name> <base64>'"))?;
            check_name(name).map_err(|_| bad("key name is empty or has a space or '+'"))?;
            let raw = B64
                .decode(b64)
                .map_err(|_| bad("signature is not canonical base64"))?;
            if raw.len() < 5 {
                return Err(bad("signature is shorter than a key id and one byte"));
            }
            let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            if !seen.insert((name.to_string(), key_id)) {
                return Err(Error::DuplicateSignature {
                    line: line_no,
                    name: name.to_string(),
                    key_id,
                });
            }
            signatures.push(Signature {
                name: name.to_string(),
                key_id,
                bytes: raw[4..].to_vec(),
            });
        }
        Ok(Note { text, signatures })
    }

    /// Checks every signature by a key in `verifiers`; unknown keys are ignored
    /// (signed-note §"Verifying"). Returns the verifiers that signed, in note order.
    /// A known key with a bad signature is an error, never ignored.
    pub fn verified_by<'v>(&self, verifiers: &'v [Verifier]) -> Result<Vec<&'v Verifier>, Error> {
        let known: Vec<(&Signature, &'v Verifier)> = self
            .signatures
            .iter()
            .filter_map(|sig| {
                let v = verifiers
                    .iter()
                    .find(|v| v.name == sig.name && v.id == sig.key_id)?;
                Some((sig, v))
            })
            .collect();
        let valid = |(sig, v): &(&Signature, &Verifier)| v.verify(self.text, &sig.bytes);
        // Each signature hashes the whole text: a large note (an election
        // package) signed by several keys is checked on several threads.
        let ok: Vec<bool> = if known.len() > 1 && self.text.len() >= PARALLEL_TEXT {
            std::thread::scope(|s| {
                let handles: Vec<_> = known.iter().map(|k| s.spawn(move || valid(k))).collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or(false))
                    .collect()
            })
        } else {
            known.iter().map(valid).collect()
        };
        let mut by = Vec::new();
        for ((sig, v), ok) in known.into_iter().zip(ok) {
            if !ok {
                return Err(Error::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            by.push(v);
        }
        Ok(by)
    }

    /// What [`open_single`] checks, on a note already parsed: exactly one
    /// signature line, a valid one by `verifier`.
    pub fn check_single(&self, verifier: &Verifier) -> Result<(), Error> {
        if self.signatures.len() != 1 {
            return Err(Error::NotSingleSigned {
                expected: verifier.to_string(),
                found: self.signatures.len(),
            });
        }
        if self.verified_by(std::slice::from_ref(verifier))?.is_empty() {
            return Err(Error::Quorum {
                got: 0,
                need: 1,
                names: String::new(),
            });
        }
        Ok(())
    }
}

fn check_text(text: &str) -> Result<(), Error> {
    if text.len() < 2 || !text.ends_with('\n') {
        return Err(Error::BadText);
    }
    // Fast path: no byte that can start a control character (C0, DEL, or
    // the 0xC2 lead byte of the C1 range) other than newline.
    if !text
        .bytes()
        .any(|b| (b < 0x20 && b != b'\n') || b == 0x7f || b == 0xc2)
    {
        return Ok(());
    }
    for (i, line) in text.split('\n').enumerate() {
        if let Some(c) = line.chars().find(|c| c.is_control()) {
            return Err(Error::ControlCharacter {
                line: i + 1,
                code: c as u32,
            });
        }
    }
    Ok(())
}

/// Signs `text` with each signer, producing the complete note bytes.
pub fn sign(text: &str, signers: &[&Signer]) -> Result<String, Error> {
    check_text(text)?;
    let mut out = String::with_capacity(text.len() + 1 + signers.len() * 100);
    out.push_str(text);
    out.push('\n');
    for s in signers {
        out.push_str(&s.signature_line(text));
        out.push('\n');
    }
    Ok(out)
}

/// Adds one more signature to an already signed note — how party auditors
/// countersign the election package and witnesses cosign — keeping every
/// existing byte as it was.
pub fn countersign(note: &[u8], signer: &Signer) -> Result<String, Error> {
    let parsed = Note::parse(note)?;
    if parsed
        .signatures
        .iter()
        .any(|s| s.name == signer.name && s.key_id == signer.id)
    {
        return Err(Error::DuplicateSignature {
            line: 0,
            name: signer.name.clone(),
            key_id: signer.id,
        });
    }
    let mut out = String::from_utf8(note.to_vec())
        .map_err(|e| Error::NotUtf8(e.utf8_error().valid_up_to()))?;
    out.push_str(&signer.signature_line(parsed.text));
    out.push('\n');
    Ok(out)
}

/// A set of trusted keys and how many of them must sign.
#[derive(Debug, Clone)]
pub struct Quorum {
    /// The trusted keys.
    pub verifiers: Vec<Verifier>,
    /// How many distinct trusted keys must have signed.
    pub need: usize,
}

impl Quorum {
    /// A single trusted key.
    pub fn one(v: Verifier) -> Self {
        Quorum {
            verifiers: vec![v],
            need: 1,
        }
    }

    /// A quorum over distinct public keys. The same key listed twice (under
    /// one name or two) would let one signer count as two, so it is refused.
    pub fn new(verifiers: Vec<Verifier>, need: usize) -> Result<Self, Error> {
        let mut keys = HashSet::new();
        for v in &verifiers {
            if !keys.insert(v.public_key()) {
                return Err(Error::RepeatedKey(v.name.clone()));
            }
        }
        if need == 0 || need > verifiers.len() {
            return Err(Error::BadQuorum {
                need,
                keys: verifiers.len(),
            });
        }
        Ok(Quorum { verifiers, need })
    }

    /// Who of the trusted keys signed `msg`, each public key once, in note
    /// order. A bad signature by a trusted key fails the note.
    pub fn signers<'v>(&'v self, msg: &[u8]) -> Result<Vec<&'v Verifier>, Error> {
        self.signers_of(&Note::parse(msg)?)
    }

    /// [`Quorum::signers`] of a note already parsed.
    fn signers_of<'v>(&'v self, note: &Note<'_>) -> Result<Vec<&'v Verifier>, Error> {
        let mut by = note.verified_by(&self.verifiers)?;
        let mut keys = HashSet::new();
        by.retain(|v| keys.insert(v.public_key()));
        Ok(by)
    }

    /// Verifies `msg` and returns its text if at least `need` distinct trusted
    /// public keys signed it. Any bad signature by a trusted key fails the
    /// note; a key that appears under two names counts once.
    pub fn open<'a>(&self, msg: &'a [u8]) -> Result<&'a str, Error> {
        let note = Note::parse(msg)?;
        self.check(&note)?;
        Ok(note.text)
    }

    /// [`Quorum::open`] of a note already parsed: at least `need` distinct
    /// trusted public keys signed it.
    pub fn check(&self, note: &Note<'_>) -> Result<(), Error> {
        let by = self.signers_of(note)?;
        if by.len() < self.need.max(1) {
            let names: Vec<_> = by.iter().map(|v| v.name.as_str()).collect();
            return Err(Error::Quorum {
                got: by.len(),
                need: self.need.max(1),
                names: names.join(", "),
            });
        }
        Ok(())
    }
}

/// Opens a note that must carry exactly one signature line, a valid one by
/// `verifier`, and nothing else. Artifacts with a single author (an acta, a
/// zero report, a certificate request) are opened this way, so that nobody
/// can append lines to published bytes and make a "different" note of them.
pub fn open_single<'a>(msg: &'a [u8], verifier: &Verifier) -> Result<&'a str, Error> {
    let note = Note::parse(msg)?;
    note.check_single(verifier)?;
    Ok(note.text)
}

/// Opens a note that must carry a valid signature by `verifier`.
pub fn open<'a>(msg: &'a [u8], verifier: &Verifier) -> Result<&'a str, Error> {
    Quorum {
        verifiers: vec![verifier.clone()],
        need: 1,
    }
    .open(msg)
}
