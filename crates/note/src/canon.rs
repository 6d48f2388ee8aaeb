//! The canonical atoms every acta text format is written with: decimals, hex
//! hashes and codes. One spelling per value, so a signed text can never carry
//! the same meaning in two byte strings. Every parser of a signed format in
//! acta (acta, zero report, announcement, checkpoint, trust file, certificate
//! request, package) reads its numbers, hashes and codes through these
//! functions and nowhere else.

/// A canonical unsigned decimal: ASCII digits only, no sign, no leading zeros
/// (except `0` itself), and it fits in a `u64`.
pub fn decimal(s: &str) -> Option<u64> {
    if s.is_empty()
        || s.len() > 20
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// [`decimal`] that must also fit in a `u32` (per-table counts).
pub fn decimal_u32(s: &str) -> Option<u32> {
    decimal(s).and_then(|n| u32::try_from(n).ok())
}

/// 64 lowercase hex digits: a SHA-256 hash or an Ed25519 key.
pub fn hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| match b {
            b'0'..=b'9' => b - b'0',
            _ => b - b'a' + 10,
        };
        out[i] = digit(pair[0]) << 4 | digit(pair[1]);
    }
    Some(out)
}

/// Lowercase hex of 32 bytes, the only spelling [`hex32`] accepts.
pub fn to_hex(bytes: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// An identifier: 1 to 32 of `A-Z`, `0-9`, `-` (election, party, contest,
/// candidate and machine ids).
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// A code on a tally line: 1 to 40 of `A-Z`, `0-9`, `.`, `/`, `-` (table ids
/// such as `01.001.01.0001.01`, choices such as `C1/PDA`, and every [`is_id`]).
pub fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"./-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_have_one_spelling() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1_000",
            "18446744073709551616",
            "١",
        ] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
        assert_eq!(decimal_u32("4294967296"), None);
    }

    #[test]
    fn hex_has_one_spelling() {
        let h = [0xabu8; 32];
        assert_eq!(hex32(&to_hex(&h)), Some(h));
        assert_eq!(hex32(&to_hex(&h).to_uppercase()), None);
        assert_eq!(hex32(&to_hex(&h)[1..]), None);
    }
}
