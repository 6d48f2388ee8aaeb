//! The table's day: ballots per hour and closing-hour bursts from the
//! stations' journals, and override rates from the actas.
//!
//! A journal ([`acta_sheet::journal`]) is read only after it is held
//! against its signed acta (its chain must close on the acta's journal
//! head, its counts must be the acta's), so a day drawn here is the day
//! the machine signed.
//!
//! Both screens are per table: the closing-hour burst takes the election's
//! share of ballots cast in the hour before closing; a table with `n`
//! ballots and `k` of them in its closing hour has p-value P(X ≥ k) for X
//! beta-binomial with mean share `n × share` and the spread the election's
//! own tables show (binomial when they vary no more than one binomial
//! allows; see `tails`). The override screen does the same with
//! authentications and override codes. The share is pooled over the tables
//! not flagged, found by iterating (pool, flag, pool the rest) until the
//! flagged set is stable: so a few stuffed tables do not raise the
//! reference they are held to, and a clean election's reference is its
//! pooled rate (a median of per-table rates would be biased low by the
//! discreteness of small counts, and raise false alarms). A table is flagged
//! when its p-value is at most `alpha / tables` (Bonferroni), so a clean
//! election flags any table with probability about `alpha`. Tables with
//! fewer than [`MIN_VOTERS`] (or more than [`MOST_VOTERS`]) are not read.
//! Real tables differ in more ways than one spread (a factory shift, a late
//! queue): the README's calibration says how often clean and rougher
//! synthetic elections flag, and the wording says what a flag is not.

use serde::{Deserialize, Serialize};

use crate::stats::{beta_binomial_upper, median, LnFactorial};
use crate::{p_words, Error, Finding, Options, Screen, Table};

/// Fewest ballots (or authentications) of a table a screen reads.
pub const MIN_VOTERS: u32 = 50;
/// Seconds in the closing hour.
const HOUR: u64 = 3_600;
/// Most hours a day is drawn over; later ballots fall in the last.
pub const MOST_HOURS: usize = 48;

/// What a table's journal says of its day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    /// Ballots cast in each hour since opening (hour 0 is the first).
    pub hourly: Vec<u32>,
    /// Ballots cast in the hour before the close line.
    pub closing_hour: u32,
    /// Ballots cast in all.
    pub ballots: u32,
}

impl Day {
    /// The day from ballot times, for a table open from `opened` to
    /// `closed` (seconds).
    pub fn from_times(opened: u64, closed: u64, times: impl IntoIterator<Item = u64>) -> Day {
        let hours = (closed.saturating_sub(opened).div_ceil(HOUR) as usize).clamp(1, MOST_HOURS);
        let mut d = Day {
            hourly: vec![0; hours],
            closing_hour: 0,
            ballots: 0,
        };
        for at in times {
            let h = ((at.saturating_sub(opened)) / HOUR) as usize;
            d.hourly[h.min(hours - 1)] += 1;
            d.closing_hour += u32::from(at + HOUR > closed);
            d.ballots += 1;
        }
        d
    }

    /// The day a published journal records, after holding it against the
    /// table's signed acta ([`acta_sheet::journal::verify`]) and reading it
    /// as one day: one open line first, one close line, nothing after the
    /// close but transmission lines, times that never go back, every line
    /// up to the close within the acta's opening and closing times, and the
    /// acta's ballots exactly. A journal that closes twice (a day, a close,
    /// more ballots, another close) is refused: the screen would otherwise
    /// read the first day while the acta counts the second.
    pub fn from_journal(text: &str, acta: &acta_sheet::Acta) -> Result<Day, Error> {
        use acta_sheet::journal::Event;
        let bad = |what: String| Error::Journal {
            table: acta.table.clone(),
            what,
        };
        acta_sheet::journal::verify(text, None, acta).map_err(|e| bad(e.to_string()))?;
        let (lines, _) = acta_sheet::journal::read(text).map_err(|e| bad(e.to_string()))?;
        if !matches!(lines.first().map(|l| &l.event), Some(Event::Open { .. })) {
            return Err(bad("the first line is not the open line".into()));
        }
        let mut closed = None;
        let mut last = 0;
        let mut ballots = Vec::new();
        for (k, l) in lines.iter().enumerate() {
            let n = k + 1;
            if l.at < last {
                return Err(bad(format!("line {n}: its time goes back")));
            }
            last = l.at;
            match (&l.event, closed) {
                (Event::Open { .. }, _) if k > 0 => {
                    return Err(bad(format!("line {n}: a second open line")))
                }
                (Event::Transmit(..), Some(_)) => {}
                (_, Some(_)) => {
                    return Err(bad(format!("line {n}: an event after the close line")))
                }
                (Event::Close(_), None) => closed = Some(l.at),
                (e, None) => {
                    if l.at < acta.opened || l.at > acta.closed {
                        return Err(bad(format!(
                            "line {n}: outside the acta's opening and closing times"
                        )));
                    }
                    if *e == Event::Ballot {
                        ballots.push(l.at);
                    }
                }
            }
        }
        let closed = closed.ok_or_else(|| bad("no close line".into()))?;
        let day = Day::from_times(acta.opened, closed, ballots);
        if day.ballots != acta.ballots {
            return Err(bad(format!(
                "{} ballot lines, {} ballots on the acta",
                day.ballots, acta.ballots
            )));
        }
        Ok(day)
    }
}

/// The closing-hour screen's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bursts {
    /// Tables read.
    pub tables: usize,
    /// The reference share of ballots cast in the closing hour.
    pub rate: f64,
    /// How much more the tables vary than one binomial (at least 1).
    pub dispersion: f64,
    /// Ballots per hour over the tables read.
    pub hourly: Vec<u64>,
    /// Flagged tables, most extreme first: id and figures.
    pub flagged: Vec<(String, String)>,
    /// The hourly ballots of the (at most three) most extreme flagged
    /// tables, for the chart.
    pub worst: Vec<(String, Vec<u32>)>,
    /// Smallest p-value.
    pub least_p: f64,
    /// The election-wide false-alarm rate.
    pub alpha: f64,
}

impl Bursts {
    pub(crate) fn finding(&self) -> Finding {
        Finding {
            screen: Screen::ClosingBurst,
            flagged: !self.flagged.is_empty(),
            summary: format!(
                "{} of {} tables cast far more of their ballots in the closing hour than the reference {:.1} % (dispersion {:.2}; least p = {:.2e}, flagged at {:.1e})",
                self.flagged.len(),
                self.tables,
                100.0 * self.rate,
                self.dispersion,
                self.least_p,
                self.alpha / self.tables.max(1) as f64
            ),
            p_value: Some((self.least_p * self.tables as f64).min(1.0)),
            tables: self.tables,
            skipped: None,
        }
    }
}

/// The override screen's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    /// Tables read.
    pub tables: usize,
    /// The reference rate of override codes per authentication.
    pub rate: f64,
    /// How much more the tables vary than one binomial (at least 1).
    pub dispersion: f64,
    /// Flagged tables, most extreme first: id and figures.
    pub flagged: Vec<(String, String)>,
    /// Smallest p-value.
    pub least_p: f64,
    /// The election-wide false-alarm rate.
    pub alpha: f64,
}

impl Overrides {
    pub(crate) fn finding(&self) -> Finding {
        Finding {
            screen: Screen::Overrides,
            flagged: !self.flagged.is_empty(),
            summary: format!(
                "{} of {} tables used far more override codes than the reference {:.2} % of authentications (dispersion {:.2}; least p = {:.2e}, flagged at {:.1e}); {}",
                self.flagged.len(),
                self.tables,
                100.0 * self.rate,
                self.dispersion,
                self.least_p,
                self.alpha / self.tables.max(1) as f64,
                p_words((self.least_p * self.tables as f64).min(1.0), self.alpha)
            ),
            p_value: Some((self.least_p * self.tables as f64).min(1.0)),
            tables: self.tables,
            skipped: None,
        }
    }
}

/// Most voters of a table a binomial screen reads (a real table has a few
/// hundred; a package may say anything).
pub const MOST_VOTERS: u32 = 100_000;

/// What [`tails`] found: the reference rate, the dispersion, and each
/// table's upper tail, (index, k, n, p), most extreme first.
struct Tails {
    rate: f64,
    dispersion: f64,
    p: Vec<(usize, u32, u32, f64)>,
}

/// Each table's upper tail at the reference rate. The rate is pooled over
/// the tables not flagged, iterated until that set is stable (if none is
/// left with a count above zero, the last rate found stands: then every
/// count is the flagged tables'). Tables differ more than one binomial
/// allows (queues, worn fingerprints): over the tables not flagged, the
/// dispersion `φ = median((k − n q)² / (n q (1 − q))) / 0.4549` (the
/// normal's median of a squared z; a median, so the stuffed tables a round
/// missed do not inflate it) gives the intra-class correlation
/// `ρ = (φ − 1) / (n̄ − 1)` (at least 0), and a
/// table's tail is the beta-binomial's with that `ρ` — so an election whose
/// tables all vary more is not flagged table by table for it. The first
/// round is binomial (`ρ = 0`), so the flagged tables never inflate `ρ`.
fn tails(cases: &[(usize, u32, u32)], cut: f64) -> Tails {
    let max = cases.iter().map(|c| c.2).max().unwrap_or(0);
    let f = LnFactorial::new(max);
    let mut flagged: Vec<bool> = vec![false; cases.len()];
    let mut found = Tails {
        rate: 0.0,
        dispersion: 1.0,
        p: Vec::new(),
    };
    let mut rho = 0.0;
    for round in 0..20 {
        let kept: Vec<&(usize, u32, u32)> = cases
            .iter()
            .zip(&flagged)
            .filter(|(_, f)| !**f)
            .map(|(c, _)| c)
            .collect();
        let (k, n) = kept.iter().fold((0u64, 0u64), |(k, n), c| {
            (k + u64::from(c.1), n + u64::from(c.2))
        });
        let rate = k as f64 / n.max(1) as f64;
        if rate <= 0.0 || rate >= 1.0 {
            break;
        }
        let mut dispersion = 1.0;
        if round > 0 && kept.len() > 2 {
            // The median of the squared standardised counts, over the
            // normal's 0.4549: robust to the stuffed tables the previous
            // round did not flag, where a mean of squares is not.
            let phi = median(
                &kept
                    .iter()
                    .map(|&&(_, k, n)| {
                        let n = f64::from(n);
                        (f64::from(k) - n * rate).powi(2) / (n * rate * (1.0 - rate))
                    })
                    .collect::<Vec<_>>(),
            ) / 0.4549;
            let mean_n = n as f64 / kept.len() as f64;
            dispersion = phi.max(1.0);
            rho = ((phi - 1.0) / (mean_n - 1.0).max(1.0)).clamp(0.0, 0.5);
        }
        let p: Vec<(usize, u32, u32, f64)> = cases
            .iter()
            .map(|&(i, k, n)| (i, k, n, beta_binomial_upper(&f, n, k, rate, rho)))
            .collect();
        let now: Vec<bool> = p.iter().map(|c| c.3 <= cut).collect();
        found = Tails {
            rate,
            dispersion,
            p,
        };
        if now == flagged && round > 0 {
            break;
        }
        flagged = now;
    }
    found
        .p
        .sort_by(|a, b| a.3.total_cmp(&b.3).then(a.0.cmp(&b.0)));
    found
}

/// Runs the closing-hour screen over the tables that have a day; `None`
/// when fewer than [`crate::MIN_TABLES`] do.
pub(crate) fn bursts(tables: &[&Table], opts: &Options) -> Option<Bursts> {
    let cases: Vec<(usize, u32, u32)> = tables
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let d = t.day.as_ref()?;
            (d.ballots >= MIN_VOTERS && d.ballots <= MOST_VOTERS).then_some((
                i,
                d.closing_hour.min(d.ballots),
                d.ballots,
            ))
        })
        .collect();
    if cases.len() < crate::MIN_TABLES {
        return None;
    }
    let cut = opts.alpha / cases.len() as f64;
    let Tails {
        rate,
        dispersion,
        p,
    } = tails(&cases, cut);
    let mut hourly: Vec<u64> = Vec::new();
    for &(i, _, _) in &cases {
        let d = tables[i].day.as_ref().expect("filtered");
        if hourly.len() < d.hourly.len() {
            hourly.resize(d.hourly.len(), 0);
        }
        for (h, n) in hourly.iter_mut().zip(&d.hourly) {
            *h += u64::from(*n);
        }
    }
    let hit: Vec<&(usize, u32, u32, f64)> = p.iter().take_while(|c| c.3 <= cut).collect();
    Some(Bursts {
        tables: cases.len(),
        rate,
        dispersion,
        hourly,
        flagged: hit
            .iter()
            .map(|&&(i, k, n, p)| {
                (
                    tables[i].id.clone(),
                    format!(
                        "{k} of {n} ballots ({:.1} %) in the closing hour, against {:.1} % (p = {p:.2e})",
                        100.0 * f64::from(k) / f64::from(n),
                        100.0 * rate
                    ),
                )
            })
            .collect(),
        worst: hit
            .iter()
            .take(3)
            .map(|&&(i, ..)| {
                (
                    tables[i].id.clone(),
                    tables[i].day.as_ref().expect("filtered").hourly.clone(),
                )
            })
            .collect(),
        least_p: p.first().map_or(1.0, |c| c.3),
        alpha: opts.alpha,
    })
}

/// Runs the override screen over every table.
pub(crate) fn overrides(tables: &[&Table], opts: &Options) -> Overrides {
    let cases: Vec<(usize, u32, u32)> = tables
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            t.authenticated >= MIN_VOTERS
                && t.authenticated <= MOST_VOTERS
                && t.overrides <= t.authenticated
        })
        .map(|(i, t)| (i, t.overrides, t.authenticated))
        .collect();
    let cut = opts.alpha / cases.len().max(1) as f64;
    let Tails {
        rate,
        dispersion,
        p,
    } = tails(&cases, cut);
    Overrides {
        tables: cases.len(),
        rate,
        dispersion,
        flagged: p
            .iter()
            .take_while(|c| c.3 <= cut)
            .map(|&(i, k, n, p)| {
                (
                    tables[i].id.clone(),
                    format!(
                        "{k} override codes for {n} voters ({:.1} %), against {:.2} % (p = {p:.2e})",
                        100.0 * f64::from(k) / f64::from(n),
                        100.0 * rate
                    ),
                )
            })
            .collect(),
        least_p: p.first().map_or(1.0, |c| c.3),
        alpha: opts.alpha,
    }
}
