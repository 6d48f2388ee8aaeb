//! Election day at one table, simulated: who turns out, when they arrive, how
//! they vote, and the occasional fingerprint that does not match. Used by
//! `acta demo` and the end-to-end tests to drive a real [`Station`].

use acta_election::{time, Election, Kind, Roll};
use acta_note::Signer;
use acta_station::{Error, Mark, Station};

use crate::rng::SplitMix;

/// The outputs of one simulated table.
#[derive(Debug, Clone)]
pub struct TableDay {
    /// Signed zero report.
    pub zero: String,
    /// Signed acta.
    pub acta: String,
    /// Ballot records (the receipts in the box).
    pub records: Vec<String>,
    /// The journal.
    pub journal: Vec<String>,
}

/// Preference weights for a contest's choices, with a regional lean so that
/// results differ across states as they do in real elections.
fn weights(kind: Kind, n: usize, lean: f64, r: &mut SplitMix) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let base = match kind {
                Kind::Referendum => 1.0,
                _ => 1.0 / (1.0 + i as f64 * 0.35),
            };
            let tilt = if i % 2 == 0 { 1.0 + lean } else { 1.0 - lean };
            (base * tilt * (0.85 + 0.3 * r.unit())).max(0.01)
        })
        .collect()
}

fn pick(w: &[f64], r: &mut SplitMix) -> usize {
    let total: f64 = w.iter().sum();
    let mut x = r.unit() * total;
    for (i, v) in w.iter().enumerate() {
        if x < *v {
            return i;
        }
        x -= v;
    }
    w.len() - 1
}

/// Runs a full day at one table: open, every voter who turns out, close.
pub fn run_table(
    election: &Election,
    index: usize,
    roll: Roll,
    codes: &[String],
    key: Signer,
    seed: u64,
) -> Result<(Station, TableDay), Error> {
    let table = &election.tables[index];
    let station = Station::provision(election, &table.id, roll.clone(), key)?;
    run_on(election, index, roll, codes, station, seed, None)
}

/// A station that crashes once during the day and is restarted from its
/// directory: the power cut of a real election day.
#[derive(Debug, Clone)]
pub struct Crash {
    /// The station's directory ([`Station::create`]).
    pub dir: std::path::PathBuf,
    /// The voter (in order of arrival) whose authentication is the last
    /// thing done before the cut: the crash comes between a voter's
    /// authentication and their ballot.
    pub after_voter: usize,
}

/// The same day as [`run_table`] — the same voters, marks and times for a
/// seed — at a station kept on disk in `crash.dir`, which is cut off after
/// voter `crash.after_voter` is authenticated and loaded again from its
/// directory ([`Station::load`]). The voter whose ballot the cut prevented
/// is let through again if the reloaded station still holds them as
/// authenticated, and leaves without voting otherwise.
#[allow(clippy::too_many_arguments)] // run_table's seven, and the package, trust and crash a disk station needs
pub fn run_table_crashing(
    election: &Election,
    package: &[u8],
    trust: &str,
    index: usize,
    roll: Roll,
    codes: &[String],
    key: Signer,
    seed: u64,
    crash: &Crash,
) -> Result<(Station, TableDay), Error> {
    let table = &election.tables[index];
    let station = Station::create(&crash.dir, package, trust, &roll, &key, &table.id)?;
    run_on(election, index, roll, codes, station, seed, Some(crash))
}

fn run_on(
    election: &Election,
    index: usize,
    roll: Roll,
    codes: &[String],
    mut station: Station,
    seed: u64,
    crash: Option<&Crash>,
) -> Result<(Station, TableDay), Error> {
    let table = &election.tables[index];
    let mut r = SplitMix::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let opens = time::parse(&election.opens).expect("validated");
    let closes = time::parse(&election.closes).expect("validated");
    let zero = station.open(opens)?;
    // Turnout around 62 %, varying by table.
    let turnout = (0.62 + 0.08 * r.normal()).clamp(0.25, 0.95);
    let state: u64 = table.id[..2].parse().unwrap_or(0);
    let lean = ((state * 37) % 11) as f64 / 25.0 - 0.2;
    let ballot = station.ballot().to_vec();
    let prefs: Vec<(Vec<String>, Vec<f64>)> = ballot
        .iter()
        .map(|c| {
            let choices = c.choices();
            let w = weights(c.kind, choices.len(), lean, &mut r);
            (choices, w)
        })
        .collect();
    let voters: Vec<_> = roll
        .voters
        .iter()
        .filter(|_| r.unit() < turnout)
        .cloned()
        .collect();
    // Arrivals spread over the day; a voter waits while the previous one votes.
    let span = closes - opens - 600;
    let mut arrivals: Vec<u64> = voters.iter().map(|_| opens + 60 + r.below(span)).collect();
    arrivals.sort_unstable();
    let mut codes = codes.iter();
    let mut last_cast = opens;
    for (n, (v, arrival)) in voters.into_iter().zip(arrivals).enumerate() {
        let now = arrival.max(last_cast + 5);
        if now + 120 > closes {
            break;
        }
        // About 1 % of fingerprints fail to match and need a one-time code.
        let (template, code) = if r.unit() < 0.01 {
            match codes.next() {
                Some(c) => (r.bytes32(), Some(c.as_str())),
                None => continue,
            }
        } else {
            (v.template, None)
        };
        station.authenticate(now, &v.id, template, code)?;
        let mut cut = false;
        if let Some(c) = crash.filter(|c| c.after_voter == n) {
            // The power goes: nothing is stopped cleanly.
            drop(station);
            station = Station::load(&c.dir, now + 30)?;
            cut = !station.voter_waiting();
        }
        let marks: Vec<Mark> = ballot
            .iter()
            .zip(&prefs)
            .map(|(c, (choices, w))| {
                let x = r.unit();
                if x < 0.015 {
                    return Mark::Blank;
                }
                if x < 0.02 {
                    return Mark::Null;
                }
                let mut picked: Vec<String> = Vec::new();
                let want = 1 + r.below(c.max_marks() as u64) as usize;
                for _ in 0..want * 4 {
                    if picked.len() == want {
                        break;
                    }
                    let ch = &choices[pick(w, &mut r)];
                    let cand = ch.split('/').next().unwrap_or(ch);
                    if !picked.iter().any(|p| p.split('/').next() == Some(cand)) {
                        picked.push(ch.clone());
                    }
                }
                Mark::Choices(picked)
            })
            .collect();
        last_cast = now + BURST_GAP + r.below(40);
        if cut {
            continue;
        }
        station.cast(last_cast, &marks)?;
    }
    let acta = station.close(closes)?;
    let day = TableDay {
        zero,
        acta,
        records: station.records().to_vec(),
        journal: station.journal().to_vec(),
    };
    Ok((station, day))
}

/// The fastest a simulated voter goes from authentication to confirmed ballot.
const BURST_GAP: u64 = 20;
