//! The screens as pictures: SVG charts (the fingerprint heat map, the
//! turnout histogram, digit shares against their null bands, ballots per
//! hour with the flagged tables' days) and the HTML section that holds them
//! with the report. Each chart is a standalone `<svg>` element: inline in a
//! page, or written to a `.svg` file.

use maud::{html, Markup, PreEscaped};

use crate::day::Bursts;
use crate::digits::DigitTest;
use crate::fingerprint::{Fingerprint, CHART_BINS};
use crate::peaks::Peaks;
use crate::{Report, CAVEAT};

const INK: &str = "#1b1b1b";
const GRID: &str = "#d0d0d0";
/// Bars and cells.
pub const BLUE: [u8; 3] = [0x1f, 0x4e, 0x9a];
/// The null band and what is flagged.
pub const ORANGE: [u8; 3] = [0xe0, 0x7b, 0x00];

fn rgb(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// White to [`BLUE`] as `x` goes from 0 to 1.
fn shade(x: f64) -> String {
    let x = x.clamp(0.0, 1.0);
    let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * x).round() as u8;
    rgb([mix(BLUE[0]), mix(BLUE[1]), mix(BLUE[2])])
}

fn frame(w: f64, h: f64, title: &str, body: Markup) -> Markup {
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(w) height=(h)
            viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(title)
            font-family="sans-serif" font-size="11" {
            title { (title) }
            rect x="0" y="0" width=(w) height=(h) fill="white" {}
            text x=(w / 2.0) y="14" text-anchor="middle" font-size="12" font-weight="bold" fill=(INK) { (title) }
            (body)
        }
    }
}

/// Axes with percentage ticks for a plot area at (x0, y0) of w × h.
fn axes(
    x0: f64,
    y0: f64,
    w: f64,
    h: f64,
    x_label: &str,
    y_label: &str,
    y_ticks: &[(f64, String)],
) -> Markup {
    html! {
        @for k in 0..=4 {
            @let f = f64::from(k) / 4.0;
            line x1=(x0 + f * w) y1=(y0 + h) x2=(x0 + f * w) y2=(y0 + h + 4.0) stroke=(INK) {}
            text x=(x0 + f * w) y=(y0 + h + 15.0) text-anchor="middle" fill=(INK) { (k * 25) }
        }
        @for (f, label) in y_ticks {
            line x1=(x0 - 4.0) y1=(y0 + h - f * h) x2=(x0) y2=(y0 + h - f * h) stroke=(INK) {}
            text x=(x0 - 6.0) y=(y0 + h - f * h + 4.0) text-anchor="end" fill=(INK) { (label) }
        }
        rect x=(x0) y=(y0) width=(w) height=(h) fill="none" stroke=(INK) {}
        text x=(x0 + w / 2.0) y=(y0 + h + 30.0) text-anchor="middle" fill=(INK) { (x_label) }
        text x="12" y=(y0 + h / 2.0) text-anchor="middle" fill=(INK)
            transform=(format!("rotate(-90 12 {})", y0 + h / 2.0)) { (y_label) }
    }
}

/// Ticks at 0, ½ and 1 of an axis whose top is the share `top`.
fn share_ticks(top: f64) -> Vec<(f64, String)> {
    (0..=2)
        .map(|k| {
            let f = f64::from(k) / 2.0;
            (f, format!("{:.0} %", 100.0 * top * f))
        })
        .collect()
}

fn percent_ticks() -> Vec<(f64, String)> {
    (0..=4)
        .map(|k| (f64::from(k) / 4.0, (k * 25).to_string()))
        .collect()
}

/// The turnout × winner's-share fingerprint: tables per cell on a log
/// scale, the fitted fair cluster's centre marked.
pub fn fingerprint(f: &Fingerprint) -> Markup {
    let (x0, y0, side) = (50.0, 24.0, 300.0);
    let cell = side / CHART_BINS as f64;
    let top = f.heat.iter().copied().max().unwrap_or(0).max(1);
    let scale = |n: u32| (f64::from(n) + 1.0).ln() / (f64::from(top) + 1.0).ln();
    let b = f.fit.baseline;
    frame(
        380.0,
        370.0,
        "Fingerprint: tables by turnout and winner's share",
        html! {
            @for (k, &n) in f.heat.iter().enumerate() {
                @if n > 0 {
                    @let (row, col) = (k / CHART_BINS, k % CHART_BINS);
                    rect x=(x0 + col as f64 * cell) y=(y0 + side - (row + 1) as f64 * cell)
                        width=(cell) height=(cell) fill=(shade(0.15 + 0.85 * scale(n))) {}
                }
            }
            (axes(x0, y0, side, side, "turnout %", "winner's share %", &percent_ticks()))
            circle cx=(x0 + b.turnout * side) cy=(y0 + side - b.share * side) r="5"
                fill="none" stroke=(rgb(ORANGE)) stroke-width="2" {}
        },
    )
}

/// Tables per turnout bin, whole percentages marked.
pub fn turnout_histogram(p: &Peaks) -> Markup {
    let (x0, y0, w, h) = (50.0, 24.0, 500.0, 180.0);
    let top = p
        .turnout_histogram
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let n = p.turnout_histogram.len().max(1) as f64;
    let bar = w / n;
    let ticks: Vec<(f64, String)> = (0..=2)
        .map(|k: u32| (f64::from(k) / 2.0, (top * k / 2).to_string()))
        .collect();
    frame(
        580.0,
        245.0,
        &format!("Turnout: tables per {} % bin", p.bin_width),
        html! {
            @for (k, &c) in p.turnout_histogram.iter().enumerate() {
                @if c > 0 {
                    @let hh = h * f64::from(c) / f64::from(top);
                    @let whole = ((k as f64 * p.bin_width) - (k as f64 * p.bin_width).round()).abs() < 1e-9;
                    rect x=(x0 + k as f64 * bar) y=(y0 + h - hh) width=(bar.max(1.0)) height=(hh)
                        fill=(if whole && p.bin_width < 1.0 { rgb(ORANGE) } else { rgb(BLUE) }) {}
                }
            }
            (axes(x0, y0, w, h, "turnout %", "tables", &ticks))
        },
    )
}

/// A digit distribution: the observed share of each digit as bars, the
/// null's 2.5–97.5 % band as a box behind each.
pub fn digits(t: &DigitTest, title: &str) -> Markup {
    let (x0, y0, w, h) = (50.0, 24.0, 300.0, 160.0);
    let top = t
        .observed
        .iter()
        .chain(&t.band_high)
        .copied()
        .fold(0.0f64, f64::max)
        .max(0.01)
        * 1.15;
    let y = |v: f64| y0 + h - h * v / top;
    let slot = w / 10.0;
    let ticks = share_ticks(top);
    frame(
        380.0,
        225.0,
        title,
        html! {
            @for d in 0..10 {
                @let x = x0 + d as f64 * slot;
                rect x=(x + slot * 0.1) y=(y(t.band_high[d])) width=(slot * 0.8)
                    height=((y(t.band_low[d]) - y(t.band_high[d])).max(1.0)) fill=(rgb(ORANGE)) fill-opacity="0.45" {}
                rect x=(x + slot * 0.3) y=(y(t.observed[d])) width=(slot * 0.4)
                    height=(y0 + h - y(t.observed[d])) fill=(rgb(BLUE)) {}
                text x=(x + slot / 2.0) y=(y0 + h + 15.0) text-anchor="middle" fill=(INK) { (d) }
            }
            rect x=(x0) y=(y0) width=(w) height=(h) fill="none" stroke=(INK) {}
            @for (f, label) in &ticks {
                text x=(x0 - 6.0) y=(y0 + h - f * h + 4.0) text-anchor="end" fill=(INK) { (label) }
            }
            text x=(x0 + w / 2.0) y=(y0 + h + 30.0) text-anchor="middle" fill=(INK) {
                "digit — bars: observed; boxes: 95 % of simulated counts"
            }
        },
    )
}

/// Ballots per hour over the tables read, and each flagged table's day (as
/// a share of its own ballots) over it.
pub fn hourly(b: &Bursts) -> Markup {
    let (x0, y0, w, h) = (50.0, 24.0, 480.0, 170.0);
    let total: u64 = b.hourly.iter().sum::<u64>().max(1);
    let shares: Vec<f64> = b.hourly.iter().map(|&n| n as f64 / total as f64).collect();
    let worst: Vec<Vec<f64>> = b
        .worst
        .iter()
        .map(|(_, hrs)| {
            let t: u32 = hrs.iter().sum::<u32>().max(1);
            hrs.iter().map(|&n| f64::from(n) / f64::from(t)).collect()
        })
        .collect();
    let top = shares
        .iter()
        .chain(worst.iter().flatten())
        .copied()
        .fold(0.0f64, f64::max)
        .max(0.01)
        * 1.1;
    let n = b.hourly.len().max(1) as f64;
    let slot = w / n;
    let ticks = share_ticks(top);
    frame(
        560.0,
        235.0,
        "Ballots per hour: all tables (bars), flagged tables (lines)",
        html! {
            @for (k, s) in shares.iter().enumerate() {
                @let hh = h * s / top;
                rect x=(x0 + k as f64 * slot + slot * 0.1) y=(y0 + h - hh) width=(slot * 0.8) height=(hh) fill=(rgb(BLUE)) {}
                text x=(x0 + (k as f64 + 0.5) * slot) y=(y0 + h + 15.0) text-anchor="middle" fill=(INK) { (k + 1) }
            }
            @for day in &worst {
                @let pts: Vec<String> = day.iter().enumerate()
                    .map(|(k, s)| format!("{:.1},{:.1}", x0 + (k as f64 + 0.5) * slot, y0 + h - h * s / top))
                    .collect();
                polyline points=(pts.join(" ")) fill="none" stroke=(rgb(ORANGE)) stroke-width="2.5" {}
            }
            rect x=(x0) y=(y0) width=(w) height=(h) fill="none" stroke=(INK) {}
            @for (f, label) in &ticks {
                line x1=(x0) y1=(y0 + h - f * h) x2=(x0 + w) y2=(y0 + h - f * h) stroke=(GRID) {}
                text x=(x0 - 6.0) y=(y0 + h - f * h + 4.0) text-anchor="end" fill=(INK) { (label) }
            }
            text x=(x0 + w / 2.0) y=(y0 + h + 30.0) text-anchor="middle" fill=(INK) { "hour of the day since opening" }
        },
    )
}

/// Every chart of a report, by file name (`fingerprint.svg`, …).
pub fn charts(r: &Report) -> Vec<(&'static str, Markup)> {
    let mut out = Vec::new();
    if let Some(f) = &r.fingerprint {
        out.push(("fingerprint.svg", fingerprint(f)));
    }
    if let Some(p) = &r.peaks {
        out.push(("turnout.svg", turnout_histogram(p)));
    }
    if let Some(d) = &r.digits {
        out.push((
            "last-digit.svg",
            digits(&d.last, "Last digits of the counts"),
        ));
        out.push((
            "second-digit.svg",
            digits(&d.second, "Second digits of the counts (2BL)"),
        ));
    }
    if let Some(b) = &r.bursts {
        out.push(("hourly.svg", hourly(b)));
    }
    out
}

/// Most flagged tables listed per screen in the HTML section (all are in
/// the JSON), so one screen's long list never hides another's.
const MOST_LISTED: usize = 50;

/// The report as an HTML section: headline, one row per screen with what a
/// flag means and does not, the charts, and the tables to inspect. `link`
/// makes a table id a link (the results site links to the table's page).
pub fn section(r: &Report, link: &dyn Fn(&str) -> Option<String>) -> Markup {
    html! {
        section.forensics {
            p.headline { strong { (r.headline) } }
            p { "Screened: contest " code { (r.contest) } ", " (r.tables) " counted tables; the winner followed is " code { (r.leader) } ". "
                "Each screen is held to a false-alarm rate of " (r.options.alpha * 100.0) " % per election, against a null simulated " (r.options.replicates) " times on this election's own table sizes (seed " (r.options.seed) ")." }
            table.screens {
                thead { tr { th { "Screen" } th { "Result" } th { "Flag?" } th { "A flag means" } th { "It does not mean" } } }
                tbody {
                    @for f in &r.findings {
                        tr class=(if f.flagged { "flagged" } else { "clear" }) {
                            td { (f.screen.title()) }
                            td { @if let Some(s) = &f.skipped { "not run: " (s) } @else { (f.summary) } }
                            td { @if f.flagged { "FLAG" } @else { "—" } }
                            td { (f.screen.means()) }
                            td { (f.screen.does_not_mean()) }
                        }
                    }
                }
            }
            div.charts {
                @for (_, svg) in charts(r) {
                    figure { (svg) }
                }
            }
            @if r.flags.is_empty() {
                p { "No table to inspect." }
            } @else {
                h3 { "Tables to inspect (" (r.flags.len()) ")" }
                table.flags {
                    thead { tr { th { "Table" } th { "Screen" } th { "Figures" } } }
                    tbody {
                        @for s in crate::Screen::ALL {
                            @for f in r.flags.iter().filter(|f| f.screen == s).take(MOST_LISTED) {
                                tr {
                                    td { @if let Some(href) = link(&f.table) { a href=(href) { code { (f.table) } } } @else { code { (f.table) } } }
                                    td { (f.screen.title()) }
                                    td { (f.detail) }
                                }
                            }
                        }
                    }
                }
                @for s in crate::Screen::ALL {
                    @let n = r.flags.iter().filter(|f| f.screen == s).count();
                    @if n > MOST_LISTED {
                        p { (s.title()) ": " (n - MOST_LISTED) " more tables, all in the JSON report." }
                    }
                }
            }
            p.caveat { (CAVEAT) " Every screen has false alarms on clean elections; the rates measured on ours are in the README." }
        }
    }
}

/// A standalone HTML page of the report.
pub fn page(r: &Report) -> String {
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Forensic screens: " (r.contest) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Forensic screens" }
                (section(r, &|_| None))
            }
        }
    }
    .into_string()
}

/// The section's style, for pages that embed it.
pub const STYLE: &str = "body{font-family:sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}\
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}\
tr.flagged td{background:#fff1e0}.headline{font-size:1.1rem}.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}.caveat{font-style:italic}";
