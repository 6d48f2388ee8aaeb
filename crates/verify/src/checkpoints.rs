//! One log, one history: signed checkpoints held against each other.
//!
//! A checkpoint seen earlier (by this observer on a previous run, or by
//! another observer, or by a witness) must describe a prefix of the log
//! verified now: same root at its size (RFC 9162 §2.1.4: a consistent
//! log only appends). The observer holds every leaf, so it compares roots
//! directly rather than asking the center for a consistency proof. Two
//! validly signed checkpoints that fail this are the center's own proof
//! that it forked its log.

use acta_tlog::Checkpoint;

use crate::finding::{Finding, FindingKind};

/// Checks an earlier signed checkpoint `seen` (named `name`, e.g.
/// `state/checkpoint.note` or a peer's URL) against the log verified now,
/// of `size` entries, whose root at any size within it is `root_at`.
pub fn continuity(
    seen: &Checkpoint,
    name: &str,
    size: u64,
    root_at: &dyn Fn(u64) -> Option<[u8; 32]>,
) -> Option<Finding> {
    if seen.size > size {
        // Not provable from this view alone: the log shown now may lag.
        return None;
    }
    if root_at(seen.size) == Some(seen.root) {
        return None;
    }
    Some(Finding {
        kind: FindingKind::ForkedLog,
        place: "log".into(),
        figure: format!("root at size {}", seen.size),
        center: format!(
            "the log served now (size {size}) has another root at size {}",
            seen.size
        ),
        machines: format!("{name} signed by the center says {}", b64(&seen.root)),
        evidence: format!("{name} and checkpoint.note, both signed by the center key"),
    })
}

/// A checkpoint seen earlier that is larger than the log served now: the
/// center shows a shorter log than it once signed.
pub fn rollback(seen: &Checkpoint, name: &str, size: u64) -> Option<Finding> {
    (seen.size > size).then(|| Finding {
        kind: FindingKind::ForkedLog,
        place: "log".into(),
        figure: "log size".into(),
        center: format!("serves a log of {size} entries"),
        machines: format!("{name}, signed by the center, has {} entries", seen.size),
        evidence: format!("{name} and checkpoint.note, both signed by the center key"),
    })
}

fn b64(h: &[u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(h)
}
