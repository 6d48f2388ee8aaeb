//! The line grammar shared by `acta/v1`, `zero/v1` and `acta-announcement/v1`: every line is a key
//! and space-separated values, with no leading, trailing or doubled spaces.

use crate::Error;

/// A cursor over the lines of a canonical text.
pub(crate) struct Lines<'a> {
    lines: Vec<&'a str>,
    pos: usize,
}

pub(crate) fn syntax(line: usize, what: impl Into<String>) -> Error {
    Error::Syntax {
        line,
        what: what.into(),
    }
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Result<Self, Error> {
        if let Some(lines) = canonical_lines(text) {
            return Ok(Lines { lines, pos: 0 });
        }
        // Something is wrong: find the first fault, in the order the rules
        // are stated (ASCII first, then each line in turn).
        if !text.is_ascii() {
            let line = text[..text.bytes().position(|b| !b.is_ascii()).unwrap_or(0)]
                .matches('\n')
                .count()
                + 1;
            return Err(syntax(line, "only ASCII is allowed"));
        }
        let body = text.strip_suffix('\n').ok_or_else(|| {
            syntax(
                text.matches('\n').count() + 1,
                "text must end with a newline",
            )
        })?;
        let lines: Vec<&str> = body.split('\n').collect();
        for (i, l) in lines.iter().enumerate() {
            if l.is_empty() {
                return Err(syntax(i + 1, "empty line"));
            }
            if l.starts_with(' ') || l.ends_with(' ') || l.contains("  ") {
                return Err(syntax(i + 1, "leading, trailing or doubled space"));
            }
            if l.bytes().any(|b| b.is_ascii_control()) {
                return Err(syntax(i + 1, "control character"));
            }
        }
        Ok(Lines { lines, pos: 0 })
    }

    /// 1-based number of the next line.
    pub(crate) fn line_no(&self) -> usize {
        self.pos + 1
    }

    /// The key of the next line, if any.
    pub(crate) fn peek_key(&self) -> Option<&'a str> {
        self.lines
            .get(self.pos)
            .map(|l| words(l).next().unwrap_or(""))
    }

    /// Consumes a line that must start with `key` and have exactly `N`
    /// values, without allocating (the hot path of every acta).
    pub(crate) fn take<const N: usize>(&mut self, key: &str) -> Result<[&'a str; N], Error> {
        let line = self.line_no();
        let l = self
            .lines
            .get(self.pos)
            .ok_or_else(|| syntax(line, format!("missing line '{key}'")))?;
        let mut parts = words(l);
        let k = parts.next().unwrap_or("");
        if k != key {
            return Err(syntax(line, format!("expected '{key}', found '{k}'")));
        }
        let mut out = [""; N];
        let mut found = 0;
        for p in parts {
            if let Some(slot) = out.get_mut(found) {
                *slot = p;
            }
            found += 1;
        }
        if found != N {
            return Err(syntax(
                line,
                format!("'{key}' takes {N} value(s), found {found}"),
            ));
        }
        self.pos += 1;
        Ok(out)
    }

    /// Consumes a line that must start with `key` and have `n` values.
    pub(crate) fn field(&mut self, key: &str, n: usize) -> Result<Vec<&'a str>, Error> {
        let line = self.line_no();
        let vals = self.field_any(key)?;
        if vals.len() != n {
            self.pos -= 1;
            return Err(syntax(
                line,
                format!("'{key}' takes {n} value(s), found {}", vals.len()),
            ));
        }
        Ok(vals)
    }

    /// Consumes a line that must start with `key`, whatever its values.
    pub(crate) fn field_any(&mut self, key: &str) -> Result<Vec<&'a str>, Error> {
        let line = self.line_no();
        let l = self
            .lines
            .get(self.pos)
            .ok_or_else(|| syntax(line, format!("missing line '{key}'")))?;
        let mut parts = l.split(' ');
        let k = parts.next().unwrap_or("");
        if k != key {
            return Err(syntax(line, format!("expected '{key}', found '{k}'")));
        }
        self.pos += 1;
        Ok(parts.collect())
    }

    /// Consumes a `key value` line.
    pub(crate) fn one(&mut self, key: &str) -> Result<&'a str, Error> {
        Ok(self.take::<1>(key)?[0])
    }

    /// Consumes a `key <count>` line.
    pub(crate) fn count(&mut self, key: &str) -> Result<u32, Error> {
        let line = self.line_no();
        let v = self.one(key)?;
        number(v).ok_or_else(|| {
            syntax(
                line,
                format!("'{key}' must be a number without sign or leading zeros, found '{v}'"),
            )
        })
    }

    /// Consumes a `key <count>` line whose count may exceed a `u32` (national totals).
    pub(crate) fn count64(&mut self, key: &str) -> Result<u64, Error> {
        let line = self.line_no();
        let v = self.one(key)?;
        number64(v).ok_or_else(|| {
            syntax(
                line,
                format!("'{key}' must be a number without sign or leading zeros, found '{v}'"),
            )
        })
    }

    /// Consumes a `key <time>` line.
    pub(crate) fn time(&mut self, key: &str) -> Result<u64, Error> {
        let line = self.line_no();
        let v = self.one(key)?;
        acta_election::time::parse(v).ok_or_else(|| {
            syntax(
                line,
                format!("'{key}' must be a UTC time like 2026-12-06T10:00:00Z, found '{v}'"),
            )
        })
    }

    /// Consumes a `key <64 lowercase hex>` line.
    pub(crate) fn hash(&mut self, key: &str) -> Result<[u8; 32], Error> {
        let line = self.line_no();
        let v = self.one(key)?;
        hash(v).ok_or_else(|| syntax(line, format!("'{key}' must be 64 lowercase hex digits")))
    }

    /// Consumes a `key <code>` line whose value is a code of `[A-Z0-9.-]`.
    pub(crate) fn code(&mut self, key: &str) -> Result<&'a str, Error> {
        let line = self.line_no();
        let v = self.one(key)?;
        if !is_code(v) {
            return Err(syntax(
                line,
                format!("'{key}' value '{v}' must use only A-Z, 0-9, '.', '-', '/'"),
            ));
        }
        Ok(v)
    }

    /// Fails unless every line was consumed.
    pub(crate) fn end(&self) -> Result<(), Error> {
        match self.lines.get(self.pos) {
            None => Ok(()),
            Some(l) => Err(syntax(
                self.line_no(),
                format!("unexpected line '{}'", l.split(' ').next().unwrap_or("")),
            )),
        }
    }
}

/// The lines of a text that keeps every rule of [`Lines::new`] — ASCII,
/// ends with a newline, no empty line, no leading, trailing or doubled
/// space, no control character but the newline — found in one pass over
/// its bytes; `None` if a rule is broken (the slow path then says which).
fn canonical_lines(text: &str) -> Option<Vec<&str>> {
    let bytes = text.as_bytes();
    if bytes.last() != Some(&b'\n') {
        return None;
    }
    let mut lines = Vec::with_capacity(bytes.len() / 16);
    let mut start = 0;
    // The byte before the first is a line start.
    let mut prev = b'\n';
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' => {
                if prev == b'\n' || prev == b' ' {
                    return None;
                }
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b' ' if prev == b'\n' || prev == b' ' => return None,
            0..=0x1f | 0x7f..=0xff => return None,
            _ => {}
        }
        prev = b;
    }
    Some(lines)
}

/// The space-separated words of a line, as `str::split(' ')` gives them.
fn words(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| b == b' ') {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

pub(crate) use acta_note::canon::is_code;

/// A canonical decimal count (see [`acta_note::canon::decimal`]).
pub(crate) fn number(v: &str) -> Option<u32> {
    acta_note::canon::decimal_u32(v)
}

/// A canonical 64-bit decimal.
pub(crate) fn number64(v: &str) -> Option<u64> {
    acta_note::canon::decimal(v)
}

pub(crate) fn hash(v: &str) -> Option<[u8; 32]> {
    acta_note::canon::hex32(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rules of [`Lines::new`] as first written, line by line.
    fn by_the_rules(text: &str) -> Option<Vec<&str>> {
        let body = text.strip_suffix('\n')?;
        let lines: Vec<&str> = body.split('\n').collect();
        let ok = text.is_ascii()
            && lines.iter().all(|l| {
                !l.is_empty()
                    && !l.starts_with(' ')
                    && !l.ends_with(' ')
                    && !l.contains("  ")
                    && !l.bytes().any(|b| b.is_ascii_control())
            });
        ok.then_some(lines)
    }

    proptest! {
        /// The one-pass check accepts exactly what the rules accept, with
        /// the same lines, and `words` splits as `split(' ')` does.
        #[test]
        fn one_pass_is_the_rules(text in "[ab \n\t\u{7f}é]{0,24}") {
            prop_assert_eq!(canonical_lines(&text), by_the_rules(&text));
            for line in text.split('\n') {
                prop_assert_eq!(words(line).collect::<Vec<_>>(), line.split(' ').collect::<Vec<_>>());
            }
        }
    }
}
