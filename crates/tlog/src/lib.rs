//! The public log of acta: an RFC 9162 Merkle tree over the exact bytes of every
//! signed acta the center accepted, with signed C2SP checkpoints.
//!
//! The verifiers here are the product: an observer, a party witness or a court
//! re-runs them on what the center published. They follow RFC 9162 §2.1.3.2
//! (inclusion) and §2.1.4.2 (consistency) step by step, so that they can be
//! checked against the RFC text line by line.
//!
//! This crate does no I/O: it takes bytes and returns values.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod checkpoint;
pub mod proof;
pub mod tile;
mod tree;
pub mod witness;

pub use checkpoint::Checkpoint;
pub use proof::TlogProof;
pub use tile::{Tile, TileLevel};
pub use tree::Tree;

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf, an interior node or a root.
pub type Hash = [u8; 32];

/// Why a proof or checkpoint was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// Requested index.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// A consistency proof was asked between sizes that do not grow.
    #[error("cannot prove consistency from size {old} to the smaller size {new}")]
    Shrinks {
        /// Older size.
        old: u64,
        /// Newer size.
        new: u64,
    },
    /// The proof has the wrong number of hashes or does not reach the root.
    #[error("{0} proof does not verify")]
    ProofMismatch(&'static str),
    /// A checkpoint body is not canonical.
    #[error("checkpoint line {line}: {what}")]
    BadCheckpoint {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A tile path or tile bytes are not as tlog-tiles specifies.
    #[error("tile: {0}")]
    BadTile(&'static str),
    /// A tlog-proof or add-checkpoint text is malformed.
    #[error("proof text line {line}: {what}")]
    BadProof {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A checkpoint is for another log.
    #[error("checkpoint origin is {found:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin line found.
        found: String,
        /// The origin expected.
        expected: String,
    },
    /// Too few known witnesses cosigned a checkpoint.
    #[error("checkpoint is cosigned by {got} of the {need} witnesses required")]
    Cosignatures {
        /// Valid cosignatures by known witnesses.
        got: usize,
        /// Required.
        need: usize,
    },
    /// The checkpoint's signature is missing or wrong.
    #[error("checkpoint signature: {0}")]
    Note(#[from] acta_note::Error),
}

/// RFC 9162 §2.1.1: a leaf hash is SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 9162 §2.1.1: an interior node is SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The hash of the empty tree: SHA-256 of no bytes (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The Merkle tree hash of a list of leaf hashes, computed directly from the
/// RFC 9162 §2.1.1 definition. Used for small trees such as the ballot records
/// of one table.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves with `root`,
/// following RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(Error::ProofMismatch("inclusion"));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode == 0 && r == *root {
        Ok(())
    } else {
        Err(Error::ProofMismatch("inclusion"))
    }
}

/// Verifies that the tree of `new_size` with `new_root` extends the tree of
/// `old_size` with `old_root`, following RFC 9162 §2.1.4.2. The equal-size and
/// empty-old-tree cases, which the RFC leaves to the caller, are handled here:
/// equal sizes need an empty proof and equal roots; every tree extends the
/// empty tree, with an empty proof.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), Error> {
    if old_size > new_size {
        return Err(Error::Shrinks {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == new_size {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(Error::ProofMismatch("consistency"))
        };
    }
    if old_size == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(Error::ProofMismatch("consistency"))
        };
    }
    // Step 1: a non-trivial proof is never empty.
    if proof.is_empty() {
        return Err(Error::ProofMismatch("consistency"));
    }
    // Step 2: when the old size is a power of two, its root is a node of the
    // new tree and the proof omits it.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    // Steps 3–4.
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 5.
    let (mut fr, mut sr) = (path[0], path[0]);
    // Step 6.
    for c in &path[1..] {
        if snode == 0 {
            return Err(Error::ProofMismatch("consistency"));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 7.
    if fr == *old_root && sr == *new_root && snode == 0 {
        Ok(())
    } else {
        Err(Error::ProofMismatch("consistency"))
    }
}
