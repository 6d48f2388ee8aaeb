//! Known answers from the RFC 6962 / transparency-dev reference tree
//! (`transparency-dev/merkle` testonly: the eight CT leaves, their roots,
//! inclusion paths and consistency proofs), then exhaustive and property checks.

use acta_tlog::{leaf_hash, root_of, verify_consistency, verify_inclusion, Checkpoint, Hash, Tree};
use proptest::prelude::*;

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn reference_tree() -> Tree {
    Tree::from_leaves(LEAVES.iter().map(|l| leaf_hash(&hex::decode(l).unwrap())))
}

#[test]
fn reference_roots_for_every_size() {
    let tree = reference_tree();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(
            tree.root_at(size as u64).unwrap(),
            h(want),
            "root at size {size}"
        );
    }
}

#[test]
fn reference_inclusion_paths() {
    // (0-based index, size, path) — transparency-dev lists these 1-based.
    let cases: &[(u64, u64, &[&str])] = &[
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let tree = reference_tree();
    for (index, size, path) in cases {
        let want: Vec<Hash> = path.iter().map(|p| h(p)).collect();
        assert_eq!(
            tree.inclusion_proof(*index, *size).unwrap(),
            want,
            "path({index}, {size})"
        );
        let leaf = tree.leaf(*index).unwrap();
        verify_inclusion(*index, *size, leaf, &want, &h(ROOTS[*size as usize])).unwrap();
    }
}

#[test]
fn reference_consistency_proofs() {
    let cases: &[(u64, u64, &[&str])] = &[
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            2,
            8,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let tree = reference_tree();
    for (old, new, proof) in cases {
        let want: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(
            tree.consistency_proof(*old, *new).unwrap(),
            want,
            "proof({old}, {new})"
        );
        verify_consistency(
            *old,
            *new,
            &want,
            &h(ROOTS[*old as usize]),
            &h(ROOTS[*new as usize]),
        )
        .unwrap();
    }
}

#[test]
fn verifiers_reject_the_usual_bugs() {
    let tree = reference_tree();
    let root = tree.root();
    let leaf = *tree.leaf(5).unwrap();
    let proof = tree.inclusion_proof(5, 8).unwrap();
    assert!(
        verify_inclusion(8, 8, &leaf, &proof, &root).is_err(),
        "index == size"
    );
    assert!(
        verify_inclusion(4, 8, &leaf, &proof, &root).is_err(),
        "wrong index"
    );
    assert!(
        verify_inclusion(5, 8, &leaf, &proof[..2], &root).is_err(),
        "short proof"
    );
    let mut long = proof.clone();
    long.push(root);
    assert!(
        verify_inclusion(5, 8, &leaf, &long, &root).is_err(),
        "over-long proof"
    );
    let cp = tree.consistency_proof(6, 8).unwrap();
    let (r6, r8) = (tree.root_at(6).unwrap(), tree.root_at(8).unwrap());
    assert!(
        verify_consistency(6, 8, &[], &r6, &r8).is_err(),
        "empty proof"
    );
    assert!(
        verify_consistency(8, 6, &cp, &r8, &r6).is_err(),
        "shrinking"
    );
    assert!(
        verify_consistency(6, 8, &cp, &r8, &r8).is_err(),
        "wrong old root"
    );
    assert!(
        verify_consistency(8, 8, &[], &r8, &r6).is_err(),
        "same size, other root"
    );
    assert!(
        verify_consistency(0, 8, &cp, &r6, &r8).is_err(),
        "empty tree with a proof"
    );
}

/// Every (index, size) and every (old, new) up to 260 leaves, checked against
/// the tree hash computed straight from the RFC definition.
#[test]
fn every_proof_up_to_260_leaves_verifies_against_the_definition() {
    const N: u64 = 260;
    let leaves: Vec<Hash> = (0..N).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let tree = Tree::from_leaves(leaves.iter().copied());
    let roots: Vec<Hash> = (0..=N as usize).map(|n| root_of(&leaves[..n])).collect();
    for size in 0..=N {
        assert_eq!(
            tree.root_at(size).unwrap(),
            roots[size as usize],
            "root at {size}"
        );
        for index in 0..size {
            let p = tree.inclusion_proof(index, size).unwrap();
            verify_inclusion(
                index,
                size,
                &leaves[index as usize],
                &p,
                &roots[size as usize],
            )
            .unwrap_or_else(|e| panic!("inclusion({index}, {size}): {e}"));
        }
        for old in 0..=size {
            let p = tree.consistency_proof(old, size).unwrap();
            verify_consistency(old, size, &p, &roots[old as usize], &roots[size as usize])
                .unwrap_or_else(|e| panic!("consistency({old}, {size}): {e}"));
        }
    }
}

proptest! {
    #[test]
    fn a_flipped_bit_in_any_proof_hash_fails(size in 2u64..600, seed in any::<u64>(), bit in 0usize..256) {
        let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&(i ^ seed).to_be_bytes())).collect();
        let tree = Tree::from_leaves(leaves.iter().copied());
        let index = seed % size;
        let mut p = tree.inclusion_proof(index, size).unwrap();
        let j = (seed as usize / 7) % p.len();
        p[j][bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(index, size, &leaves[index as usize], &p, &tree.root()).is_err());
        let old = 1 + seed % (size - 1);
        let mut c = tree.consistency_proof(old, size).unwrap();
        let j = (seed as usize / 11) % c.len();
        c[j][bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(old, size, &c, &tree.root_at(old).unwrap(), &tree.root()).is_err());
    }

    #[test]
    fn checkpoint_text_round_trips(origin in "[a-z0-9./-]{1,40}", size in any::<u64>(), root in any::<[u8; 32]>()) {
        let cp = Checkpoint { origin, size, root };
        prop_assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
    }
}

#[test]
fn non_canonical_checkpoints_are_rejected() {
    let root = "bmV2ZXIgZ29ubmEgZ2l2ZSB5b3UgdXAgbmV2ZXIgZ28=";
    for (text, want) in [
        (format!("log\n012\n{root}\n"), "line 2"),
        (format!("log\n+12\n{root}\n"), "line 2"),
        (format!("log\n12\n{root}"), "newline"),
        (format!("log\n12\n{root}\next\n"), "line 4"),
        ("log\n12\nAAAA\n".to_string(), "32 bytes"),
        (format!("l og\n12\n{root}\n"), "line 1"),
        ("log\n12\n".to_string(), "missing"),
    ] {
        let err = Checkpoint::parse(&text).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
    }
}

proptest! {
    /// Batched proofs are exactly the one-at-a-time RFC 9162 proofs.
    #[test]
    fn batched_inclusion_proofs_equal_single_ones(size in 1u64..700, picks in prop::collection::vec(any::<u64>(), 1..20)) {
        let tree = Tree::from_leaves((0..size).map(|i| leaf_hash(&i.to_le_bytes())));
        let at = size.min(tree.size());
        let indices: Vec<u64> = picks.iter().map(|p| p % at).collect();
        let batch = tree.inclusion_proofs(&indices, at).unwrap();
        for (i, p) in indices.iter().zip(batch) {
            prop_assert_eq!(p, tree.inclusion_proof(*i, at).unwrap());
        }
    }
}
