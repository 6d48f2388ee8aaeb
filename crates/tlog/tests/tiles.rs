//! C2SP tlog-tiles, tlog-proof and tlog-witness texts: the worked examples of
//! the specs as known answers, tiles checked against the RFC 9162 definition
//! computed independently of the tree code, and property tests.

use acta_note::cosignature::{cosigned_message, Cosigner};
use acta_note::Signer;
use acta_tlog::tile::{read_bundle, tree_from_tiles, write_bundle, TILE_WIDTH};
use acta_tlog::witness::AddCheckpoint;
use acta_tlog::{leaf_hash, root_of, Checkpoint, Error, Hash, Tile, TileLevel, TlogProof, Tree};
use proptest::prelude::*;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

/// tlog-tiles §"Merkle Tree": "index 1234067 will be encoded as x001/x234/067".
#[test]
fn spec_index_encoding() {
    let t = Tile {
        level: TileLevel::Hashes(0),
        index: 1_234_067,
        width: 256,
    };
    assert_eq!(t.path(), "tile/0/x001/x234/067");
    assert_eq!(Tile::parse_path("tile/0/x001/x234/067").unwrap(), t);
    let p = Tile {
        level: TileLevel::Entries,
        index: 7,
        width: 112,
    };
    assert_eq!(p.path(), "tile/entries/007.p/112");
    assert_eq!(Tile::parse_path(&p.path()).unwrap(), p);
}

/// tlog-tiles §"Partial Tiles": "a tree of size 70,000 will be represented
/// by 273 full level 0 tiles, one partial level 0 tile of width 112, one full
/// level 1 tile, one partial level 1 tile of width 17, and one partial level
/// 2 tile of width 1" and "a tree of size 256 will be represented by a full
/// level 0 tile and a partial level 1 tile of width 1".
#[test]
fn spec_partial_tile_examples() {
    let tiles = Tile::hash_tiles(70_000);
    let at = |l: u8| -> Vec<u16> {
        tiles
            .iter()
            .filter(|t| t.level == TileLevel::Hashes(l))
            .map(|t| t.width)
            .collect()
    };
    let l0 = at(0);
    assert_eq!(l0.len(), 274);
    assert_eq!(l0.iter().filter(|&&w| w == 256).count(), 273);
    assert_eq!(l0.last(), Some(&112));
    assert_eq!(at(1), vec![256, 17]);
    assert_eq!(at(2), vec![1]);
    assert_eq!(tiles.len(), 274 + 2 + 1);
    let small: Vec<String> = Tile::hash_tiles(256).iter().map(|t| t.path()).collect();
    assert_eq!(small, vec!["tile/0/000", "tile/1/000.p/1"]);
    assert!(Tile::hash_tiles(0).is_empty());
    assert!(Tile::entry_bundles(0).is_empty());
}

/// The n-th tile at level l holds MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l]),
/// computed here straight from the RFC definition (`root_of`), not the tree.
#[test]
fn tile_hashes_are_the_spec_definition() {
    let size = 256 * 256 + 3 * 256 + 5;
    let ls = leaves(size);
    let tree = Tree::from_leaves(ls.iter().copied());
    for tile in Tile::hash_tiles(size) {
        let TileLevel::Hashes(l) = tile.level else {
            unreachable!()
        };
        let span = 256u64.pow(l as u32);
        let bytes = tree.tile(&tile).expect("tree has every tile of its size");
        assert_eq!(bytes.len(), tile.width as usize * 32, "{}", tile.path());
        for i in [0, tile.width as u64 - 1] {
            let lo = ((tile.index * TILE_WIDTH + i) * span) as usize;
            let want = root_of(&ls[lo..lo + span as usize]);
            let at = i as usize * 32;
            assert_eq!(&bytes[at..at + 32], &want, "{} hash {i}", tile.path());
        }
    }
    // A tile the tree is too small to have.
    let beyond = Tile {
        level: TileLevel::Hashes(0),
        index: 300,
        width: 256,
    };
    assert_eq!(tree.tile(&beyond), None);
}

#[test]
fn a_client_rebuilds_and_checks_the_tree_from_tiles() {
    let size = 70_000;
    let tree = Tree::from_leaves(leaves(size));
    let tiles: Vec<(Tile, Vec<u8>)> = Tile::hash_tiles(size)
        .into_iter()
        .map(|t| (t, tree.tile(&t).unwrap()))
        .collect();
    let split = |tiles: &[(Tile, Vec<u8>)], zero: bool| -> Vec<(Tile, Vec<u8>)> {
        tiles
            .iter()
            .filter(|(t, _)| (t.level == TileLevel::Hashes(0)) == zero)
            .cloned()
            .collect()
    };
    let (l0, hi) = (split(&tiles, true), split(&tiles, false));
    let as_refs = |v: &[(Tile, Vec<u8>)]| -> Vec<(Tile, Vec<u8>)> { v.to_vec() };
    let rebuilt = tree_from_tiles(
        size,
        &tree.root(),
        as_refs(&l0).iter().map(|(t, b)| (*t, b.as_slice())),
        hi.iter().map(|(t, b)| (*t, b.as_slice())),
    )
    .unwrap();
    assert_eq!(rebuilt.root(), tree.root());

    // One flipped bit in a level-0 tile: the root no longer matches.
    let mut bad = l0.clone();
    bad[10].1[5] ^= 1;
    let err = tree_from_tiles(
        size,
        &tree.root(),
        bad.iter().map(|(t, b)| (*t, b.as_slice())),
        std::iter::empty(),
    )
    .unwrap_err();
    assert_eq!(err, Error::ProofMismatch("tiles to checkpoint root"));
    // One flipped bit in a higher tile.
    let mut bad_hi = hi.clone();
    bad_hi[0].1[0] ^= 1;
    assert!(tree_from_tiles(
        size,
        &tree.root(),
        l0.iter().map(|(t, b)| (*t, b.as_slice())),
        bad_hi.iter().map(|(t, b)| (*t, b.as_slice())),
    )
    .is_err());
    // A missing tile.
    assert!(tree_from_tiles(
        size,
        &tree.root(),
        l0[1..].iter().map(|(t, b)| (*t, b.as_slice())),
        std::iter::empty(),
    )
    .is_err());
}

#[test]
fn non_canonical_tile_paths_are_refused() {
    for p in [
        "tile/0/1",
        "tile/0/0001",
        "tile/0/x000/001",
        "tile/0/001/002",
        "tile/00/000",
        "tile/64/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
        "tile/entry/000",
        "tiles/0/000",
        "tile/0/x1/000",
        "tile/0/000/",
        "tile/0/",
        // Index 2^56 would start at entry 2^64: it wraps to tile 0.
        "tile/entries/x072/x057/x594/x037/x927/936",
        "tile/0/x018/x446/x744/x073/x709/x551/615",
    ] {
        assert!(Tile::parse_path(p).is_err(), "{p} was accepted");
    }
}

#[test]
fn bundles_are_exact() {
    let entries: Vec<&[u8]> = vec![b"", b"a", &[7u8; 300]];
    let b = write_bundle(entries.iter().copied()).unwrap();
    assert_eq!(&b[..5], &[0, 0, 0, 1, b'a']);
    assert_eq!(read_bundle(&b, 3).unwrap(), entries);
    assert!(read_bundle(&b, 2).is_err());
    assert!(read_bundle(&b[..b.len() - 1], 3).is_err());
    let mut extra = b.clone();
    extra.push(0);
    assert!(read_bundle(&extra, 3).is_err());
    let big = vec![0u8; 65_536];
    assert!(write_bundle([big.as_slice()]).is_err());
}

proptest! {
    #[test]
    fn tile_paths_round_trip(l in 0u8..64, index in 0..=acta_tlog::tile::MAX_INDEX, width in 1u16..=256, entries in any::<bool>()) {
        let t = Tile { level: if entries { TileLevel::Entries } else { TileLevel::Hashes(l) }, index, width };
        prop_assert_eq!(Tile::parse_path(&t.path()).unwrap(), t);
    }

    #[test]
    fn tile_path_parser_never_panics_and_is_canonical(p in "tile/[0-9a-z.x/]{0,30}") {
        if let Ok(t) = Tile::parse_path(&p) {
            prop_assert_eq!(t.path(), p);
        }
    }

    /// One edit to a valid path — a digit added, removed or changed, an `x`
    /// dropped, a zero prefixed — is either refused or another valid path
    /// that prints as itself: never a second spelling of a tile.
    #[test]
    fn mutated_tile_paths_are_refused_or_canonical(index in 0u64..10_000_000, width in 1u16..=256, at in any::<prop::sample::Index>(), edit in 0u8..4, ch in "[0-9x./]") {
        let p = Tile { level: TileLevel::Entries, index, width }.path();
        let mut b: Vec<char> = p.chars().collect();
        let i = at.index(b.len());
        let c = ch.chars().next().unwrap();
        match edit {
            0 => { b.insert(i, c); }
            1 => { b.remove(i); }
            2 => { b[i] = c; }
            _ => { b.insert(i, '0'); }
        }
        let m: String = b.into_iter().collect();
        if let Ok(t) = Tile::parse_path(&m) {
            prop_assert_eq!(t.path(), m);
        }
    }

    #[test]
    fn bundles_round_trip(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 1..40)) {
        let refs: Vec<&[u8]> = entries.iter().map(|e| e.as_slice()).collect();
        let b = write_bundle(refs.iter().copied()).unwrap();
        prop_assert_eq!(read_bundle(&b, refs.len() as u16).unwrap(), refs);
    }
}

fn log_and_witnesses() -> (Signer, Vec<Cosigner>) {
    let log = Signer::from_seed("acta.example/log/test", [1; 32]).unwrap();
    let w = (0..3)
        .map(|i| {
            Cosigner::from_signer(
                &Signer::from_seed(&format!("witness-{i}.example"), [10 + i; 32]).unwrap(),
            )
        })
        .collect();
    (log, w)
}

fn cosigned_checkpoint(tree: &Tree, log: &Signer, ws: &[Cosigner]) -> String {
    let body = Checkpoint {
        origin: "acta.example/log/test".into(),
        size: tree.size(),
        root: tree.root(),
    }
    .to_text();
    let mut note = acta_note::sign(&body, &[log]).unwrap();
    for w in ws {
        note.push_str(&w.cosign(&body, 1_700_000_000));
        note.push('\n');
    }
    note
}

/// tlog-cosignature §"Ed25519 signed message", checked with the bare
/// Ed25519 primitive rather than the cosigner code: key id over 0x04, then
/// an 8-byte big-endian timestamp, then the signature over
/// `cosignature/v1\ntime <t>\n<body>`.
#[test]
fn cosignature_bytes_follow_the_spec() {
    use base64::Engine as _;
    use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
    use sha2::{Digest, Sha256};
    let signer = Signer::from_seed("witness.example/w1", [9; 32]).unwrap();
    let w = Cosigner::from_signer(&signer);
    let body =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let line = w.cosign(body, 1679315147);
    let b64 = line.strip_prefix("\u{2014} witness.example/w1 ").unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(raw.len(), 4 + 8 + 64);
    let public = signer.verifier().public_key();
    let mut h = Sha256::new();
    h.update(b"witness.example/w1\n\x04");
    h.update(public);
    assert_eq!(&raw[..4], &h.finalize()[..4]);
    assert_eq!(
        u64::from_be_bytes(raw[4..12].try_into().unwrap()),
        1679315147
    );
    let msg = "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_eq!(cosigned_message(body, 1679315147), msg);
    let sig = Signature::from_slice(&raw[12..]).unwrap();
    VerifyingKey::from_bytes(&public)
        .unwrap()
        .verify(msg.as_bytes(), &sig)
        .unwrap();
    // The vkey form carries type 0x04 and round-trips.
    let vkey = w.verifier().to_string();
    assert_eq!(
        vkey.parse::<acta_note::cosignature::CosignatureVerifier>()
            .unwrap(),
        w.verifier()
    );
    assert!(
        vkey.parse::<acta_note::Verifier>().is_err(),
        "a witness key is not a note key"
    );
}

#[test]
fn receipts_verify_offline_and_refuse_every_change() {
    let (log, ws) = log_and_witnesses();
    let entries: Vec<Vec<u8>> = (0..37u32)
        .map(|i| format!("entry {i}\n").into_bytes())
        .collect();
    let tree = Tree::from_leaves(entries.iter().map(|e| leaf_hash(e)));
    let checkpoint = cosigned_checkpoint(&tree, &log, &ws[..2]);
    let keys: Vec<_> = ws.iter().map(|w| w.verifier()).collect();
    let receipt = TlogProof {
        extra: None,
        index: 11,
        path: tree.inclusion_proof(11, tree.size()).unwrap(),
        checkpoint,
    };
    let text = receipt.to_text();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nindex 11\n"));
    let parsed = TlogProof::parse(&text).unwrap();
    assert_eq!(parsed, receipt);
    let proven = parsed
        .verify(
            &entries[11],
            &log.verifier(),
            "acta.example/log/test",
            &keys,
            2,
        )
        .unwrap();
    assert_eq!(proven.checkpoint.size, 37);
    assert_eq!(
        proven.witnesses,
        vec!["witness-0.example", "witness-1.example"]
    );
    // Another entry, another origin, too few cosignatures, a forged log key.
    assert!(parsed
        .verify(
            &entries[12],
            &log.verifier(),
            "acta.example/log/test",
            &keys,
            2
        )
        .is_err());
    assert!(matches!(
        parsed.verify(&entries[11], &log.verifier(), "other/log", &keys, 2),
        Err(Error::WrongOrigin { .. })
    ));
    assert_eq!(
        parsed.verify(
            &entries[11],
            &log.verifier(),
            "acta.example/log/test",
            &keys,
            3
        ),
        Err(Error::Cosignatures { got: 2, need: 3 })
    );
    let other = Signer::from_seed("acta.example/log/test", [2; 32]).unwrap();
    assert!(parsed
        .verify(
            &entries[11],
            &other.verifier(),
            "acta.example/log/test",
            &keys,
            0
        )
        .is_err());
    // Non-canonical spellings.
    for bad in [
        text.replacen("index 11", "index 011", 1),
        text.replacen("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
        text.replacen("index 11\n", "index 11\n\n", 1),
        text.replacen("=\n", "\n", 1),
    ] {
        assert!(TlogProof::parse(&bad).is_err(), "accepted:\n{bad}");
    }
    // With extra data.
    let with_extra = TlogProof {
        extra: Some(b"x".to_vec()),
        ..receipt
    };
    assert_eq!(TlogProof::parse(&with_extra.to_text()).unwrap(), with_extra);
}

#[test]
fn add_checkpoint_bodies_round_trip_and_are_strict() {
    let (log, _) = log_and_witnesses();
    let tree = Tree::from_leaves(leaves(20));
    let req = AddCheckpoint {
        old: 7,
        proof: tree.consistency_proof(7, 20).unwrap(),
        checkpoint: cosigned_checkpoint(&tree, &log, &[]),
    };
    assert_eq!(AddCheckpoint::parse(&req.to_text()).unwrap(), req);
    let t = req.to_text();
    assert!(AddCheckpoint::parse(&t.replacen("old 7", "old 07", 1)).is_err());
    assert!(AddCheckpoint::parse(&t.replacen("old 7", "size 7", 1)).is_err());
    assert!(AddCheckpoint::parse(&t.replacen("\n\n", "\n", 1)).is_err());
}

proptest! {
    #[test]
    fn proof_parser_never_panics(s in "c2sp.org/tlog-proof@v1\n(index [0-9]{1,3}\n)?([A-Za-z0-9+/=]{0,50}\n){0,3}\n.{0,40}") {
        if let Ok(p) = TlogProof::parse(&s) {
            prop_assert_eq!(p.to_text(), s);
        }
    }
}

#[test]
fn a_whole_log_is_verified_from_its_tiles_and_bundles() {
    let entries: Vec<Vec<u8>> = (0..700u32)
        .map(|i| format!("entry {i}\n").into_bytes())
        .collect();
    let tree = Tree::from_leaves(entries.iter().map(|e| leaf_hash(e)));
    let size = tree.size();
    let mut tiles: Vec<(Tile, Vec<u8>)> = Tile::hash_tiles(size)
        .into_iter()
        .map(|t| (t, tree.tile(&t).unwrap()))
        .collect();
    for t in Tile::entry_bundles(size) {
        let from = t.first() as usize;
        let b = write_bundle(
            entries[from..from + t.width as usize]
                .iter()
                .map(|e| e.as_slice()),
        )
        .unwrap();
        tiles.push((t, b));
    }
    let check = |tiles: &[(Tile, Vec<u8>)]| {
        acta_tlog::tile::verify_log(
            size,
            &tree.root(),
            tiles.iter().map(|(t, b)| (*t, b.as_slice())),
        )
        .map(|(_, e)| e.len())
    };
    assert_eq!(check(&tiles), Ok(700));
    // An entry changed in its bundle, with its length kept.
    let mut bad = tiles.clone();
    let last = bad.len() - 1;
    bad[last].1[5] ^= 1;
    assert_eq!(check(&bad), Err(Error::ProofMismatch("entry to its leaf")));
    // A bundle missing.
    assert!(check(&tiles[..last]).is_err());
}

proptest! {
    /// One edit to a valid receipt — a character added, removed or changed
    /// anywhere — is refused or parses to a receipt that prints as itself.
    #[test]
    fn mutated_receipts_are_refused_or_canonical(index in 0u64..37, at in any::<prop::sample::Index>(), edit in 0u8..3, ch in "[0-9A-Za-z+/= \n]") {
        let (log, ws) = log_and_witnesses();
        let entries: Vec<Vec<u8>> = (0..37u32).map(|i| format!("entry {i}\n").into_bytes()).collect();
        let tree = Tree::from_leaves(entries.iter().map(|e| leaf_hash(e)));
        let text = TlogProof {
            extra: None,
            index,
            path: tree.inclusion_proof(index, 37).unwrap(),
            checkpoint: cosigned_checkpoint(&tree, &log, &ws[..1]),
        }
        .to_text();
        let mut b: Vec<char> = text.chars().collect();
        let i = at.index(b.len());
        let c = ch.chars().next().unwrap();
        match edit {
            0 => b.insert(i, c),
            1 => { b.remove(i); }
            _ => b[i] = c,
        }
        let m: String = b.into_iter().collect();
        if let Ok(p) = TlogProof::parse(&m) {
            prop_assert_eq!(p.to_text(), m.clone());
            if m != text {
                let keys: Vec<_> = ws.iter().map(|w| w.verifier()).collect();
                prop_assert!(
                    p.verify(&entries[index as usize], &log.verifier(), "acta.example/log/test", &keys, 1).is_err(),
                    "an altered receipt still proves the entry:\n{}", m
                );
            }
        }
    }
}
