//! QR codes for the printed acta. A signed acta that does not fit one code is
//! cut into numbered parts `i/n`; each part also carries a link — the hash of
//! the next part's content and link — so the parts form a hash chain.
//! Scanned in any order, they are sorted by number; a missing part is
//! detected by count, and a part from another acta breaks the chain.
//!
//! Part payload: `ACTA-QR/1 <i>/<n> <link>\n<chunk>` where `link` is 32 hex
//! digits (the first 16 bytes of L(i+1)), with L(n+1) = 16 zero bytes and
//! L(i) = SHA-256("i/n" ‖ 0x0A ‖ chunk(i) ‖ L(i+1))[..16].
//! Codes use error correction level M, in byte mode.

use image::{GrayImage, ImageFormat, Luma};
use qrcode::{EcLevel, QrCode};
use sha2::{Digest, Sha256};

use crate::Error;

const MAGIC: &str = "ACTA-QR/1";
/// Default chunk size: keeps each code at or below version 20 at level M,
/// which phone cameras read reliably from thermal paper.
pub const DEFAULT_CHUNK: usize = 600;

fn link(i: usize, n: usize, chunk: &[u8], next: &[u8; 16]) -> [u8; 16] {
    let d = Sha256::new()
        .chain_update(format!("{i}/{n}\n"))
        .chain_update(chunk)
        .chain_update(next)
        .finalize();
    d[..16].try_into().expect("16 bytes")
}

/// Cuts a signed acta into QR payloads of at most `chunk` content bytes each.
pub fn split(signed: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = signed.chunks(chunk.max(1)).collect();
    let n = chunks.len();
    let mut next = [0u8; 16];
    let mut parts = vec![Vec::new(); n];
    for i in (1..=n).rev() {
        let mut p = format!("{MAGIC} {i}/{n} {}\n", hex::encode(next)).into_bytes();
        p.extend_from_slice(chunks[i - 1]);
        next = link(i, n, chunks[i - 1], &next);
        parts[i - 1] = p;
    }
    parts
}

/// Reassembles payloads scanned in any order. Duplicate scans of the same
/// part are tolerated; missing, conflicting or foreign parts are refused.
pub fn join(payloads: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
    let bad = |m: String| Error::Qr(m);
    let mut parts: Vec<Option<(&[u8], [u8; 16])>> = Vec::new();
    let mut total = None;
    for p in payloads {
        let nl = p
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("payload has no header line".into()))?;
        let header = std::str::from_utf8(&p[..nl]).map_err(|_| bad("header is not text".into()))?;
        let mut h = header.split(' ');
        if h.next() != Some(MAGIC) {
            return Err(bad(format!("not an acta QR code (header '{header}')")));
        }
        let (i, n) = h
            .next()
            .and_then(|s| s.split_once('/'))
            .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .filter(|&(i, n)| i >= 1 && i <= n && n <= 64)
            .ok_or_else(|| bad(format!("bad part number in '{header}'")))?;
        let next: [u8; 16] = h
            .next()
            .filter(|s| s.len() == 32)
            .and_then(|s| hex::decode(s).ok())
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad(format!("bad link in '{header}'")))?;
        if h.next().is_some() {
            return Err(bad(format!("extra fields in '{header}'")));
        }
        match total {
            None => {
                total = Some(n);
                parts = vec![None; n];
            }
            Some(t) if t != n => {
                return Err(bad(format!(
                    "parts of different actas: one says {t} parts, another {n}"
                )))
            }
            _ => {}
        }
        let content = &p[nl + 1..];
        match parts[i - 1] {
            Some((c, l)) if c != content || l != next => {
                return Err(bad(format!("two different scans of part {i}/{n}")))
            }
            _ => parts[i - 1] = Some((content, next)),
        }
    }
    let n = total.ok_or_else(|| bad("no QR codes".into()))?;
    let missing: Vec<String> = (1..=n)
        .filter(|i| parts[i - 1].is_none())
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!("missing part(s) {}", missing.join(", "))));
    }
    let mut expect = [0u8; 16];
    for i in (1..=n).rev() {
        let (content, next) = parts[i - 1].expect("checked");
        if next != expect {
            return Err(bad(format!(
                "part {i}/{n} does not chain to part {}/{n}: parts from different actas",
                i + 1
            )));
        }
        expect = link(i, n, content, &next);
    }
    Ok(parts
        .iter()
        .flat_map(|p| p.expect("checked").0.iter().copied())
        .collect())
}

/// Renders one payload as a QR code image, 4 pixels per module with quiet
/// zone — only a code that this module's own reader reads back to exactly
/// the payload. The detector misreads a rare code (a few in a thousand
/// printouts, whatever the scale); such a payload is encoded at the next
/// larger version instead, which lays out and masks every module anew.
pub fn render(payload: &[u8]) -> Result<GrayImage, Error> {
    let code = QrCode::with_error_correction_level(payload, EcLevel::M)
        .map_err(|e| Error::Qr(format!("cannot encode: {e}")))?;
    let first = match code.version() {
        qrcode::Version::Normal(v) => v,
        qrcode::Version::Micro(_) => 1,
    };
    let draw = |code: &QrCode| {
        code.render::<Luma<u8>>()
            .module_dimensions(4, 4)
            .quiet_zone(true)
            .build()
    };
    let mut candidate = Some(code);
    for v in first..=40 {
        let code = match candidate.take() {
            Some(c) => c,
            None => match QrCode::with_version(payload, qrcode::Version::Normal(v), EcLevel::M) {
                Ok(c) => c,
                Err(_) => continue,
            },
        };
        let img = draw(&code);
        let (read, failed) = decode_all(img.clone());
        if failed.is_none() && read.len() == 1 && read[0] == payload {
            return Ok(img);
        }
    }
    Err(Error::Qr(format!(
        "no QR version of these {} bytes reads back",
        payload.len()
    )))
}

/// Lays several images side by side (wrapping after `per_row`) on white.
pub fn sheet(images: &[GrayImage], per_row: usize) -> GrayImage {
    let w = images.iter().map(|i| i.width()).max().unwrap_or(1);
    let h = images.iter().map(|i| i.height()).max().unwrap_or(1);
    let cols = per_row.clamp(1, images.len().max(1)) as u32;
    let rows = images.len().div_ceil(cols as usize).max(1) as u32;
    let mut out = GrayImage::from_pixel(w * cols, h * rows, Luma([255]));
    for (k, img) in images.iter().enumerate() {
        let (x0, y0) = ((k as u32 % cols) * w, (k as u32 / cols) * h);
        image::imageops::overlay(&mut out, img, x0 as i64, y0 as i64);
    }
    out
}

/// Encodes an image as PNG bytes.
pub fn png(img: &GrayImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .expect("PNG encoding to memory cannot fail");
    out.into_inner()
}

/// The signed acta as one PNG with all its QR parts.
pub fn acta_png(signed: &[u8]) -> Result<Vec<u8>, Error> {
    let imgs = split(signed, DEFAULT_CHUNK)
        .iter()
        .map(|p| render(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(png(&sheet(&imgs, 3)))
}

/// Finds and decodes every QR code in a PNG (or any format `image` reads):
/// [`locate`] on the decoded image, the payloads only.
pub fn decode_png(bytes: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let img = image::load_from_memory(bytes)
        .map_err(|e| Error::Qr(format!("unreadable image: {e}")))?
        .to_luma8();
    Ok(locate(&img)?.into_iter().map(|(p, _)| p).collect())
}

/// The largest image [`locate`] reads scaled up (a printout of 576 dots by
/// 4,000 is 20.7 million pixels at three times its size); a photo larger
/// than this is read at its own size only.
const MOST_SCALED_PIXELS: u64 = 24_000_000;

/// A code read from an image: its payload and its bounding box (x0, y0, x1,
/// y1) in the image's pixels.
pub type Located = (Vec<u8>, [u32; 4]);

/// Finds and decodes every QR code in an image, each payload once.
///
/// Two things make a sheet of codes harder than one code, and both are
/// handled here:
/// - A printout's modules can be as small as two dots, where the detector's
///   sampling of a large code sometimes lands on module edges. The image is
///   read again scaled up two and three times (every dot becoming a square
///   of pixels, which changes no module) until the readings, merged, hold
///   every part their `i/n` headers announce — one code of a printout may
///   need another scale than its neighbours.
/// - The detector groups finder patterns three by three, and a code's
///   patterns can be taken into a wrong group with a neighbour's (two codes
///   stacked on one printout), so that a code is never found while its
///   neighbour is in the picture. At each scale the codes read are painted
///   over in white and the image read again, until a reading finds no code.
///
/// Two different readings of one part are both returned, for [`join`] to
/// refuse. When no reading completes the set, what was read is returned:
/// the parts it lacks are then named as missing by [`join`], and nothing
/// unread is ever guessed.
pub fn locate(img: &GrayImage) -> Result<Vec<Located>, Error> {
    let mut merged: Vec<Located> = Vec::new();
    let mut first_error = None;
    for scale in [1u32, 2, 3] {
        // Scaling up a large photo costs more than it can help.
        let pixels = u64::from(img.width()) * u64::from(img.height()) * u64::from(scale * scale);
        if scale > 1 && pixels > MOST_SCALED_PIXELS {
            break;
        }
        let scaled = if scale == 1 {
            img.clone()
        } else {
            image::imageops::resize(
                img,
                img.width() * scale,
                img.height() * scale,
                image::imageops::FilterType::Nearest,
            )
        };
        let failed = read_erasing(scaled, scale, &mut merged);
        let payloads: Vec<&[u8]> = merged.iter().map(|(p, _)| p.as_slice()).collect();
        if failed.is_none() && complete(&payloads) {
            return Ok(merged);
        }
        if first_error.is_none() {
            first_error = failed;
        }
    }
    if merged.is_empty() {
        return Err(Error::Qr(match first_error {
            Some(e) => format!("a code could not be read: {e}"),
            None => "no QR code found in the image".into(),
        }));
    }
    Ok(merged)
}

/// Whether readings are a whole set: at least one code, and, when they are
/// acta parts, every number from 1 to the `n` their headers announce.
fn complete(payloads: &[&[u8]]) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    let mut total = None;
    for p in payloads {
        let header = p.split(|&b| b == b'\n').next().unwrap_or_default();
        let Some(part) = std::str::from_utf8(header)
            .ok()
            .and_then(|h| h.strip_prefix(MAGIC))
            .and_then(|h| h.split(' ').nth(1))
            .and_then(|s| s.split_once('/'))
            .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        else {
            // Not an acta part (a receipt's record): nothing to count.
            continue;
        };
        total = total.max(Some(part.1));
        seen.insert(part.0);
    }
    !payloads.is_empty() && total.is_none_or(|n| (1..=n).all(|i| seen.contains(&i)))
}

/// Every code the detector finds in an image: the payloads that decode,
/// and the first error of one that does not.
fn decode_all(img: GrayImage) -> (Vec<Vec<u8>>, Option<String>) {
    let (read, failed) = detect(img);
    (read.into_iter().map(|(p, _)| p).collect(), failed)
}

/// Each code the detector finds and decodes, with its bounding box, and the
/// first error of one that does not decode.
fn detect(img: GrayImage) -> (Vec<Located>, Option<String>) {
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let mut out = Vec::new();
    let mut failed = None;
    for grid in prepared.detect_grids() {
        let mut payload = Vec::new();
        match grid.decode_to(&mut payload) {
            Ok(_) => {
                let xs = grid.bounds.iter().map(|p| p.x.max(0) as u32);
                let ys = grid.bounds.iter().map(|p| p.y.max(0) as u32);
                let bbox = [
                    xs.clone().min().unwrap_or(0),
                    ys.clone().min().unwrap_or(0),
                    xs.max().unwrap_or(0),
                    ys.max().unwrap_or(0),
                ];
                out.push((payload, bbox));
            }
            Err(e) => {
                failed.get_or_insert(e.to_string());
            }
        }
    }
    (out, failed)
}

/// Reads the codes of an image scaled `scale` times into `merged` (each
/// payload once, its box scaled back), painting each code read over in
/// white and reading again until a round reads nothing (a code already
/// read at another scale is painted over too: what it hid is looked for)
/// or the set is complete. Returns the first error of a code found in the
/// last round that did not decode.
fn read_erasing(mut img: GrayImage, scale: u32, merged: &mut Vec<Located>) -> Option<String> {
    let mut failed = None;
    // Each round but the last paints at least one code over, and a sheet
    // holds at most 64.
    for _ in 0..=64 {
        let (read, f) = detect(img.clone());
        failed = f;
        if read.is_empty() {
            break;
        }
        for (payload, [x0, y0, x1, y1]) in read {
            if !merged.iter().any(|(p, _)| *p == payload) {
                merged.push((payload, [x0, y0, x1, y1].map(|v| v / scale)));
            }
            for y in y0..=y1.min(img.height().saturating_sub(1)) {
                for x in x0..=x1.min(img.width().saturating_sub(1)) {
                    img.put_pixel(x, y, Luma([255]));
                }
            }
        }
        let payloads: Vec<&[u8]> = merged.iter().map(|(p, _)| p.as_slice()).collect();
        if failed.is_none() && complete(&payloads) {
            break;
        }
    }
    failed
}

/// Reads a signed acta back from images of its parts, given in any order.
pub fn read_pngs(images: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
    let mut payloads = Vec::new();
    for img in images {
        payloads.extend(decode_png(img)?);
    }
    join(&payloads)
}
