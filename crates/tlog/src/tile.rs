//! The log as static files, as specified by C2SP `tlog-tiles`
//! (https://c2sp.org/tlog-tiles).
//!
//! - `tile/<L>/<N>[.p/<W>]`: the *n*-th tile at level *l* holds the Merkle
//!   Tree Hashes MTH(D[(n·256 + i)·256^l : (n·256 + i + 1)·256^l]) for
//!   i = 0..W, concatenated (§"Merkle Tree"). Full tiles are 256 hashes.
//! - `tile/entries/<N>[.p/<W>]`: entry bundles, each entry a big-endian
//!   uint16 length and the entry bytes (§"Log entries").
//! - `<N>` is written in zero-padded 3-digit path elements, all but the last
//!   prefixed with `x`: 1234067 is `x001/x234/067`.
//! - A partial tile at level *l* of a tree of size *s* has
//!   ⌊s / 256^l⌋ mod 256 hashes; empty tiles do not exist
//!   (§"Partial Tiles").

use crate::{Error, Hash, Tree};

/// Hashes in a full tile (tile height 8).
pub const TILE_WIDTH: u64 = 256;
/// Bits of tree height a tile spans.
pub const TILE_HEIGHT: u32 = 8;
/// The largest tile index: tile `n` starts at `n · 256`, which must fit in u64.
pub const MAX_INDEX: u64 = u64::MAX / TILE_WIDTH - 1;
/// The largest entry an entry bundle can carry (uint16 length prefix).
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileLevel {
    /// Hashes at tile level `L` (0..=63); level 0 holds leaf hashes.
    Hashes(u8),
    /// Entry bundles: the entries behind the level-0 tile of the same index.
    Entries,
}

/// One static resource of the tiled log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Level.
    pub level: TileLevel,
    /// Index within the level.
    pub index: u64,
    /// Number of hashes or entries, 1..=256; 256 is a full tile.
    pub width: u16,
}

fn bad(what: &'static str) -> Error {
    Error::BadTile(what)
}

impl Tile {
    /// The resource path under the log prefix, e.g. `tile/0/x001/234.p/7`.
    pub fn path(&self) -> String {
        let level = match self.level {
            TileLevel::Hashes(l) => l.to_string(),
            TileLevel::Entries => "entries".to_string(),
        };
        let mut p = format!("tile/{level}/{}", encode_index(self.index));
        if u64::from(self.width) < TILE_WIDTH {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    /// Parses a path written by [`Tile::path`]; every other spelling
    /// (leading zeros, missing `x`, width 0 or 256 as partial, …) is refused.
    pub fn parse_path(path: &str) -> Result<Tile, Error> {
        let rest = path
            .strip_prefix("tile/")
            .ok_or(bad("path must start with tile/"))?;
        let (level, rest) = rest
            .split_once('/')
            .ok_or(bad("path must be tile/<L>/<N>"))?;
        let level = if level == "entries" {
            TileLevel::Entries
        } else {
            let l = acta_note::canon::decimal(level)
                .filter(|&l| l <= 63)
                .ok_or(bad("level must be a decimal 0..63 without leading zeros"))?;
            TileLevel::Hashes(l as u8)
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((n, w)) => {
                let w = acta_note::canon::decimal(w)
                    .filter(|&w| (1..TILE_WIDTH).contains(&w))
                    .ok_or(bad("partial width must be a decimal 1..255"))?;
                (n, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let index = decode_index(index)?;
        if index > MAX_INDEX {
            return Err(bad("tile index is beyond any tree of 2^64 entries"));
        }
        Ok(Tile {
            level,
            index,
            width,
        })
    }

    /// Every hash tile (full and partial, all levels) of a tree of `size`.
    pub fn hash_tiles(size: u64) -> Vec<Tile> {
        let mut out = Vec::new();
        let mut n = size; // hashes at this tile level: ⌊size / 256^l⌋
        let mut level = 0u8;
        while n > 0 {
            out.extend(Self::row(TileLevel::Hashes(level), n));
            n /= TILE_WIDTH;
            level += 1;
        }
        out
    }

    /// Every entry bundle (full and partial) of a tree of `size`.
    pub fn entry_bundles(size: u64) -> Vec<Tile> {
        Self::row(TileLevel::Entries, size).collect()
    }

    /// The tiles of one level holding `n` hashes or entries.
    fn row(level: TileLevel, n: u64) -> impl Iterator<Item = Tile> {
        let full = n / TILE_WIDTH;
        let partial = (n % TILE_WIDTH) as u16;
        (0..full)
            .map(move |index| Tile {
                level,
                index,
                width: TILE_WIDTH as u16,
            })
            .chain((partial > 0).then_some(Tile {
                level,
                index: full,
                width: partial,
            }))
    }

    /// The first position, at this tile's own level, that the tile covers
    /// (saturating for indices [`Tile::parse_path`] would refuse).
    pub fn first(&self) -> u64 {
        self.index.saturating_mul(TILE_WIDTH)
    }
}

/// `<N>` as zero-padded 3-digit elements, all but the last prefixed `x`.
fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn decode_index(s: &str) -> Result<u64, Error> {
    let parts: Vec<&str> = s.split('/').collect();
    let mut n: u64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let digits = if last {
            *part
        } else {
            part.strip_prefix('x')
                .ok_or(bad("every index element but the last starts with x"))?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("index elements are exactly three digits"));
        }
        if i == 0 && !last && digits == "000" {
            return Err(bad("index has a leading x000 element"));
        }
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(digits.parse::<u64>().expect("three digits")))
            .ok_or(bad("index overflows"))?;
    }
    Ok(n)
}

impl Tree {
    /// The bytes of a hash tile of this tree: its hashes concatenated, or
    /// `None` if the tree is too small to have it.
    pub fn tile(&self, tile: &Tile) -> Option<Vec<u8>> {
        let TileLevel::Hashes(l) = tile.level else {
            return None;
        };
        let hashes = self.level(TILE_HEIGHT as usize * l as usize);
        let lo = usize::try_from(tile.first()).ok()?;
        let hi = lo.checked_add(tile.width as usize)?;
        let run = hashes.get(lo..hi)?;
        Some(run.iter().flat_map(|h| h.iter().copied()).collect())
    }
}

/// Splits tile bytes into hashes; the length must be exactly `width` hashes.
pub fn tile_hashes(tile: &Tile, bytes: &[u8]) -> Result<Vec<Hash>, Error> {
    if bytes.len() != tile.width as usize * 32 {
        return Err(bad("tile length is not its width times 32 bytes"));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32 bytes"))
        .collect())
}

/// Writes an entry bundle: each entry as a big-endian uint16 length and its bytes.
pub fn write_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| bad("entry is longer than 65535 bytes"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Reads an entry bundle of exactly `width` entries, with no trailing bytes.
pub fn read_bundle(bytes: &[u8], width: u16) -> Result<Vec<&[u8]>, Error> {
    let mut out = Vec::with_capacity(width as usize);
    let mut rest = bytes;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(bad("entry bundle ends inside a length prefix"))?;
        let len = u16::from_be_bytes(*len) as usize;
        if tail.len() < len {
            return Err(bad("entry bundle ends inside an entry"));
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    if out.len() != width as usize {
        return Err(bad("entry bundle does not hold its width in entries"));
    }
    Ok(out)
}

/// Rebuilds and checks a whole tree from its level-0 tiles, as any client
/// with no trust in the log does: the leaf hashes must come from the
/// level-0 tiles of a tree of `size`, every higher tile in `higher` must be
/// the hash of the full tiles below it, and the root must be `root`.
pub fn tree_from_tiles<'a>(
    size: u64,
    root: &Hash,
    level0: impl IntoIterator<Item = (Tile, &'a [u8])>,
    higher: impl IntoIterator<Item = (Tile, &'a [u8])>,
) -> Result<Tree, Error> {
    let mut tree = Tree::new();
    let want: Vec<Tile> = Tile::hash_tiles(size)
        .into_iter()
        .filter(|t| t.level == TileLevel::Hashes(0))
        .collect();
    let mut got: Vec<(Tile, &[u8])> = level0.into_iter().collect();
    got.sort_by_key(|(t, _)| *t);
    if got.iter().map(|(t, _)| *t).ne(want.iter().copied()) {
        return Err(bad(
            "the level-0 tiles are not those of the checkpoint's size",
        ));
    }
    for (t, bytes) in got {
        for h in tile_hashes(&t, bytes)? {
            tree.append(h);
        }
    }
    if tree.root() != *root {
        return Err(Error::ProofMismatch("tiles to checkpoint root"));
    }
    for (t, bytes) in higher {
        if tree.tile(&t).as_deref() != Some(bytes) {
            return Err(bad(
                "a higher-level tile does not hash from the tiles below",
            ));
        }
    }
    Ok(tree)
}

/// Checks a whole fetched log — every hash tile and entry bundle of a tree
/// of `size` — against a signed `root`, as any client with no trust in the
/// log does: the tree is rebuilt from the level-0 tiles, every higher tile
/// must hash from them, and every entry must hash to its leaf. Returns the
/// tree and the entries in order.
pub fn verify_log<'a>(
    size: u64,
    root: &Hash,
    tiles: impl IntoIterator<Item = (Tile, &'a [u8])>,
) -> Result<(Tree, Vec<&'a [u8]>), Error> {
    let (mut l0, mut hi, mut bundles) = (Vec::new(), Vec::new(), Vec::new());
    for (t, b) in tiles {
        match t.level {
            TileLevel::Hashes(0) => l0.push((t, b)),
            TileLevel::Hashes(_) => hi.push((t, b)),
            TileLevel::Entries => bundles.push((t, b)),
        }
    }
    let tree = tree_from_tiles(size, root, l0, hi)?;
    bundles.sort_by_key(|(t, _)| *t);
    if bundles
        .iter()
        .map(|(t, _)| *t)
        .ne(Tile::entry_bundles(size))
    {
        return Err(bad(
            "the entry bundles are not those of the checkpoint's size",
        ));
    }
    let mut entries = Vec::with_capacity(size as usize);
    for (t, b) in bundles {
        for e in read_bundle(b, t.width)? {
            if tree.leaf(entries.len() as u64) != Some(&crate::leaf_hash(e)) {
                return Err(Error::ProofMismatch("entry to its leaf"));
            }
            entries.push(e);
        }
    }
    Ok((tree, entries))
}
