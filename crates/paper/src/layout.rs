//! A printout as a strip of items — text lines, rules, gaps, QR codes — laid
//! out once and drawn twice: dot by dot into a grey image that looks like a
//! thermal print (black on white, nothing in between), and into SVG.

use font8x8::legacy::BASIC_LEGACY;
use font8x8::{UnicodeFonts, LATIN_FONTS};
use image::{GrayImage, Luma};

use crate::{Error, Width};

/// Dots left blank at each side of a text line.
const MARGIN: u32 = 8;
/// Paper fed before the first item and after the last.
const FEED: u32 = 24;
/// Height of a rule, with the dashed line in its middle.
const RULE: u32 = 12;
/// Largest QR module, in dots (0.75 mm at 203 dpi).
const MAX_MODULE: u32 = 6;
/// Smallest QR module a thermal head prints readably, in dots.
const MIN_MODULE: u32 = 2;
/// Pixels per module in [`acta_sheet::qr::render`].
const RENDER_MODULE: u32 = 4;
/// Text scale of ordinary lines: 8×8 glyphs drawn 16×16 dots.
pub(crate) const NORMAL: u32 = 2;
/// Text scale of the security code.
pub(crate) const LARGE: u32 = 3;

const BLACK: Luma<u8> = Luma([0]);
const WHITE: Luma<u8> = Luma([255]);

enum Item {
    /// One line of text, already fitted to the paper; `x` in dots.
    Text {
        text: String,
        scale: u32,
        x: u32,
    },
    Rule,
    Gap(u32),
    /// A QR code with its quiet zone: `n`×`n` modules, `module` dots each.
    Qr {
        n: u32,
        dark: Vec<bool>,
        module: u32,
    },
}

impl Item {
    fn height(&self) -> u32 {
        match self {
            Item::Text { scale, .. } => 10 * scale,
            Item::Rule => RULE,
            Item::Gap(h) => *h,
            Item::Qr { n, module, .. } => n * module,
        }
    }
}

/// A printout being laid out.
pub(crate) struct Doc {
    dots: u32,
    mm: u32,
    items: Vec<Item>,
}

impl Doc {
    pub(crate) fn new(width: Width) -> Doc {
        Doc {
            dots: width.dots(),
            mm: width.mm(),
            items: Vec::new(),
        }
    }

    /// Characters that fit on one line at `scale`.
    pub(crate) fn cols(&self, scale: u32) -> usize {
        ((self.dots - 2 * MARGIN) / (8 * scale)) as usize
    }

    fn push_text(&mut self, text: String, scale: u32, x: u32) {
        let text = text.trim_end().to_string();
        self.items.push(Item::Text { text, scale, x });
    }

    /// Text at ordinary size from the left margin, wrapped; continuation
    /// lines keep the first line's indentation.
    pub(crate) fn line(&mut self, text: &str) {
        for l in wrap(text, self.cols(NORMAL)) {
            self.push_text(l, NORMAL, MARGIN);
        }
    }

    /// Text centered on the paper, wrapped.
    pub(crate) fn center(&mut self, text: &str, scale: u32) {
        let cols = self.cols(scale);
        for l in wrap(text, cols) {
            let used = l.chars().count() as u32 * 8 * scale;
            let x = MARGIN + (self.dots - 2 * MARGIN).saturating_sub(used) / 2;
            self.push_text(l, scale, x);
        }
    }

    /// A label on the left and its value flush right, on one line when both
    /// fit; otherwise the label (wrapped) and then the value on a line of
    /// its own, still flush right.
    pub(crate) fn pair(&mut self, label: &str, value: &str) {
        let cols = self.cols(NORMAL);
        let (ll, vl) = (label.chars().count(), value.chars().count());
        if ll + 1 + vl <= cols {
            self.push_text(
                format!("{label}{}{value}", " ".repeat(cols - ll - vl)),
                NORMAL,
                MARGIN,
            );
            return;
        }
        self.line(label);
        for l in wrap(value, cols) {
            let pad = cols.saturating_sub(l.chars().count());
            self.push_text(format!("{}{l}", " ".repeat(pad)), NORMAL, MARGIN);
        }
    }

    /// A dashed rule across the paper.
    pub(crate) fn rule(&mut self) {
        self.items.push(Item::Rule);
    }

    /// Blank paper, in dots.
    pub(crate) fn gap(&mut self, dots: u32) {
        self.items.push(Item::Gap(dots));
    }

    /// A QR code of `payload` (level M, byte mode, with its quiet zone, as
    /// [`acta_sheet::qr::render`] makes it), centered, with the largest whole
    /// number of dots per module that fits the paper (at most
    /// [`MAX_MODULE`]), so that every module stays square and sharp.
    pub(crate) fn qr(&mut self, payload: &[u8]) -> Result<(), Error> {
        let img = acta_sheet::qr::render(payload)
            .map_err(|e| Error::Qr(format!("cannot encode {} bytes: {e}", payload.len())))?;
        let w = img.width();
        if w % RENDER_MODULE != 0 || img.height() != w {
            return Err(Error::Qr(format!(
                "unexpected code image {w}x{}",
                img.height()
            )));
        }
        let n = w / RENDER_MODULE;
        let module = (self.dots / n).min(MAX_MODULE);
        if module < MIN_MODULE {
            return Err(Error::Qr(format!(
                "a code of {n} modules does not fit {} mm paper at {MIN_MODULE} dots per module",
                self.mm
            )));
        }
        let dark = (0..n * n)
            .map(|k| {
                let (x, y) = (k % n, k / n);
                img.get_pixel(x * RENDER_MODULE + 1, y * RENDER_MODULE + 1)[0] < 128
            })
            .collect();
        self.items.push(Item::Qr { n, dark, module });
        Ok(())
    }

    fn height(&self) -> u32 {
        2 * FEED + self.items.iter().map(Item::height).sum::<u32>()
    }

    /// The printout as a PNG image, one pixel per printer dot.
    pub(crate) fn png(&self) -> Vec<u8> {
        let mut img = GrayImage::from_pixel(self.dots, self.height(), WHITE);
        let mut y = FEED;
        for item in &self.items {
            match item {
                Item::Text { text, scale, x } => {
                    for (i, c) in text.chars().enumerate() {
                        let x0 = x + i as u32 * 8 * scale;
                        for (r, row) in glyph(c).iter().enumerate() {
                            for b in 0..8u32 {
                                if row & (1 << b) != 0 {
                                    fill(
                                        &mut img,
                                        x0 + b * scale,
                                        y + scale + r as u32 * scale,
                                        *scale,
                                        *scale,
                                    );
                                }
                            }
                        }
                    }
                }
                Item::Rule => {
                    let mut x = MARGIN;
                    while x < self.dots - MARGIN {
                        fill(&mut img, x, y + RULE / 2 - 1, 6, 2);
                        x += 10;
                    }
                }
                Item::Gap(_) => {}
                Item::Qr { n, dark, module } => {
                    let x0 = (self.dots - n * module) / 2;
                    for (k, d) in dark.iter().enumerate() {
                        if *d {
                            let (mx, my) = (k as u32 % n, k as u32 / n);
                            fill(
                                &mut img,
                                x0 + mx * module,
                                y + my * module,
                                *module,
                                *module,
                            );
                        }
                    }
                }
            }
            y += item.height();
        }
        acta_sheet::qr::png(&img)
    }

    /// The printout as SVG: user units are printer dots, the physical width
    /// is the paper's; text in a monospace font stretched to the same cells
    /// as the image's glyphs; each QR code one `<path>` of module runs.
    pub(crate) fn svg(&self) -> String {
        use std::fmt::Write as _;
        let h = self.height();
        let mut s = String::with_capacity(16 * 1024);
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}mm\" height=\"{:.2}mm\" \
             viewBox=\"0 0 {} {h}\" shape-rendering=\"crispEdges\">\n\
             <rect width=\"{}\" height=\"{h}\" fill=\"#fff\"/>\n\
             <g font-family=\"monospace\" fill=\"#000\">\n",
            self.mm,
            f64::from(h) * f64::from(self.mm) / f64::from(self.dots),
            self.dots,
            self.dots,
        );
        let mut y = FEED;
        for item in &self.items {
            match item {
                Item::Text { text, scale, x } => {
                    // One element per run of words, placed on the same
                    // character cells as in the image, so that no renderer's
                    // handling of spaces can move a value.
                    for (col, run) in runs(text) {
                        let _ = writeln!(
                            s,
                            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" textLength=\"{}\" \
                             lengthAdjust=\"spacingAndGlyphs\">{}</text>",
                            x + col as u32 * 8 * scale,
                            y + 8 * scale,
                            10 * scale,
                            run.chars().count() as u32 * 8 * scale,
                            escape(&run)
                        );
                    }
                }
                Item::Gap(_) => {}
                Item::Rule => {
                    let _ = writeln!(
                        s,
                        "<line x1=\"{MARGIN}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\" \
                         stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
                        y + RULE / 2,
                        self.dots - MARGIN,
                        y + RULE / 2
                    );
                }
                Item::Qr { n, dark, module } => {
                    let x0 = (self.dots - n * module) / 2;
                    let mut d = String::new();
                    for my in 0..*n {
                        let mut mx = 0;
                        while mx < *n {
                            if dark[(my * n + mx) as usize] {
                                let start = mx;
                                while mx < *n && dark[(my * n + mx) as usize] {
                                    mx += 1;
                                }
                                let run = mx - start;
                                let _ = write!(d, "M{start} {my}h{run}v1h-{run}z");
                            } else {
                                mx += 1;
                            }
                        }
                    }
                    let _ = writeln!(
                        s,
                        "<path class=\"qr\" transform=\"translate({x0} {y}) scale({module})\" d=\"{d}\"/>"
                    );
                }
            }
            y += item.height();
        }
        s.push_str("</g>\n</svg>\n");
        s
    }
}

/// Paints a black rectangle, clipped to the image.
fn fill(img: &mut GrayImage, x: u32, y: u32, w: u32, h: u32) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, BLACK);
        }
    }
}

/// The 8×8 bitmap of a character (row by row, bit 0 leftmost): ASCII and
/// Latin-1 from font8x8, `?` for anything else.
fn glyph(c: char) -> [u8; 8] {
    if c.is_ascii() {
        return BASIC_LEGACY[c as usize];
    }
    LATIN_FONTS
        .get(c)
        .unwrap_or(BASIC_LEGACY[usize::from(b'?')])
}

/// The runs of a line separated by two spaces or more (or leading spaces),
/// each with the column it starts at.
fn runs(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !(chars[i] == ' ' && chars.get(i + 1).is_none_or(|c| *c == ' ')) {
            i += 1;
        }
        out.push((start, chars[start..i].iter().collect()));
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Greedy word wrap to `cols` characters. Breaks after a space, `-` or
/// `/` where it can, inside a word where it must; control characters are
/// dropped; continuation lines keep the text's leading indentation.
pub(crate) fn wrap(text: &str, cols: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    let indent = chars
        .iter()
        .take_while(|c| **c == ' ')
        .count()
        .min(cols / 2);
    let mut lines = Vec::new();
    let mut rest: &[char] = &chars;
    let mut first = true;
    loop {
        let lead = if first { 0 } else { indent };
        let room = cols - lead;
        if rest.len() <= room {
            lines.push(format!(
                "{}{}",
                " ".repeat(lead),
                rest.iter().collect::<String>()
            ));
            return lines;
        }
        // The last break opportunity within room (a space is dropped).
        let cut = (1..=room)
            .rev()
            .find(|&k| rest[k] == ' ' || matches!(rest[k - 1], '-' | '/'))
            .filter(|&k| rest[..k].iter().any(|c| *c != ' '))
            .unwrap_or(room);
        lines.push(format!(
            "{}{}",
            " ".repeat(lead),
            rest[..cut].iter().collect::<String>().trim_end()
        ));
        rest = &rest[cut..];
        while rest.first() == Some(&' ') {
            rest = &rest[1..];
        }
        first = false;
        if rest.is_empty() {
            return lines;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_fits_and_keeps_indentation() {
        assert_eq!(wrap("short", 10), vec!["short"]);
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(
            wrap("ballots-exceed-authenticated", 10),
            vec!["ballots-", "exceed-", "authentica", "ted"]
        );
        assert_eq!(
            wrap("  Ana Maria Rojas", 9),
            vec!["  Ana", "  Maria", "  Rojas"]
        );
        for l in wrap("a very long line with words of many sizes and lengths", 12) {
            assert!(l.chars().count() <= 12, "{l:?}");
        }
        assert_eq!(wrap("", 5), vec![""]);
    }

    #[test]
    fn runs_split_at_wide_gaps_only() {
        assert_eq!(
            super::runs("  Ana Maria  (PDA)   12 "),
            vec![
                (2, "Ana Maria".to_string()),
                (13, "(PDA)".into()),
                (21, "12".into())
            ]
        );
        assert!(super::runs("   ").is_empty());
    }
}
