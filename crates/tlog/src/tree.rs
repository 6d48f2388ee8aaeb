//! An append-only Merkle tree that keeps every complete subtree hash, so that
//! roots and proofs for any earlier size cost O(log n) hashes. The layout —
//! level k holds the hashes of aligned runs of 2^k leaves — is the one C2SP
//! tlog-tiles cuts into tiles.

use crate::{largest_power_of_two_below, node_hash, Error, Hash};

/// The log's tree of leaf hashes.
#[derive(Debug, Clone)]
pub struct Tree {
    /// `levels[k][i]` is the hash of leaves `i·2^k .. (i+1)·2^k`.
    levels: Vec<Vec<Hash>>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Tree {
            levels: vec![Vec::new()],
        }
    }

    /// Builds a tree from leaf hashes in log order.
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut t = Tree::new();
        for l in leaves {
            t.append(l);
        }
        t
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<&Hash> {
        self.levels[0].get(index as usize)
    }

    /// Appends a leaf hash and returns its index.
    pub fn append(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        self.levels[0].push(leaf);
        let mut k = 0;
        while self.levels[k].len().is_multiple_of(2) {
            let n = self.levels[k].len();
            let h = node_hash(&self.levels[k][n - 2], &self.levels[k][n - 1]);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[k + 1].push(h);
            k += 1;
        }
        index
    }

    /// MTH(D[lo:hi]) from stored complete subtrees.
    fn range_hash(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        if n.is_power_of_two() && lo.is_multiple_of(n) {
            let k = n.trailing_zeros() as usize;
            return self.levels[k][(lo >> k) as usize];
        }
        let k = largest_power_of_two_below(n);
        node_hash(&self.range_hash(lo, lo + k), &self.range_hash(lo + k, hi))
    }

    /// The root of the tree as it was at `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, Error> {
        if size > self.size() {
            return Err(Error::IndexOutOfRange {
                index: size,
                size: self.size(),
            });
        }
        Ok(if size == 0 {
            crate::empty_root()
        } else {
            self.range_hash(0, size)
        })
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.root_at(self.size()).expect("current size is in range")
    }

    /// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        if index >= size || size > self.size() {
            return Err(Error::IndexOutOfRange {
                index,
                size: size.min(self.size()),
            });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if n == 1 {
            return;
        }
        let k = largest_power_of_two_below(n);
        if m < k {
            self.path(m, lo, lo + k, out);
            out.push(self.range_hash(lo + k, hi));
        } else {
            self.path(m - k, lo + k, hi, out);
            out.push(self.range_hash(lo, lo + k));
        }
    }

    /// PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, Error> {
        if old > new {
            return Err(Error::Shrinks { old, new });
        }
        if new > self.size() {
            return Err(Error::IndexOutOfRange {
                index: new,
                size: self.size(),
            });
        }
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    fn subproof(&self, m: u64, lo: u64, hi: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if m == n {
            if !whole {
                out.push(self.range_hash(lo, hi));
            }
            return;
        }
        let k = largest_power_of_two_below(n);
        if m <= k {
            self.subproof(m, lo, lo + k, whole, out);
            out.push(self.range_hash(lo + k, hi));
        } else {
            self.subproof(m - k, lo + k, hi, false, out);
            out.push(self.range_hash(lo, lo + k));
        }
    }
}

impl Tree {
    /// The stored hashes of complete subtrees of height `k`, in order.
    pub(crate) fn level(&self, k: usize) -> &[Hash] {
        self.levels.get(k).map_or(&[], |l| l.as_slice())
    }
}

impl Tree {
    /// Forgets every leaf from `size` on, as if they had never been
    /// appended (used to undo a batch whose commit failed).
    pub fn truncate(&mut self, size: u64) {
        for (k, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> k) as usize);
        }
        while self.levels.len() > 1 && self.levels.last().is_some_and(|l| l.is_empty()) {
            self.levels.pop();
        }
    }
}

impl Tree {
    /// Inclusion proofs of many entries in the tree of `size`, sharing the
    /// work: the hashes of the right edge of the tree, which every proof
    /// needs, are computed once (how a batch's receipts are made).
    pub fn inclusion_proofs(&self, indices: &[u64], size: u64) -> Result<Vec<Vec<Hash>>, Error> {
        let mut memo = std::collections::HashMap::new();
        indices
            .iter()
            .map(|&index| {
                if index >= size || size > self.size() {
                    return Err(Error::IndexOutOfRange {
                        index,
                        size: size.min(self.size()),
                    });
                }
                let mut proof = Vec::new();
                let (mut m, mut lo, hi) = (index, 0u64, size);
                let mut path = Vec::new();
                // PATH(m, D[lo:hi]) iteratively, siblings collected top-down.
                let mut hi = hi;
                while hi - lo > 1 {
                    let k = largest_power_of_two_below(hi - lo);
                    if m < k {
                        path.push((lo + k, hi));
                        hi = lo + k;
                    } else {
                        path.push((lo, lo + k));
                        lo += k;
                        m -= k;
                    }
                }
                for (a, b) in path.into_iter().rev() {
                    proof.push(self.memo_hash(a, b, &mut memo));
                }
                Ok(proof)
            })
            .collect()
    }

    fn memo_hash(
        &self,
        lo: u64,
        hi: u64,
        memo: &mut std::collections::HashMap<(u64, u64), Hash>,
    ) -> Hash {
        let n = hi - lo;
        if n.is_power_of_two() && lo.is_multiple_of(n) {
            return self.range_hash(lo, hi);
        }
        if let Some(h) = memo.get(&(lo, hi)) {
            return *h;
        }
        let k = largest_power_of_two_below(n);
        let h = node_hash(
            &self.memo_hash(lo, lo + k, memo),
            &self.memo_hash(lo + k, hi, memo),
        );
        memo.insert((lo, hi), h);
        h
    }
}
