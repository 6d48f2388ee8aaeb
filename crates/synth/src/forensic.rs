//! Elections with known irregularities, for calibrating and testing the
//! forensic screens ([`acta_forensics`]): clean per-table results on our own
//! table sizes, then ballot stuffing (incremental and extreme, Klimek's
//! model, at chosen rates), turnout inflated to round targets at chosen
//! tables, closing-hour bursts, and stuffing through override codes. The
//! truth (which tables were touched, and how) comes back with the figures,
//! so a test can hold the screens to it.
//!
//! [`simulate`] gives the screens' input directly, fast enough for
//! thousands of national-size elections; [`signed`] turns a simulated
//! election into signed actas and hash-chained journals for a ceremony's
//! machines, for the end-to-end path through the log.

use acta_election::time;
use acta_forensics::{Day, Input, Table};
use acta_sheet::journal::{chain, Event, Line};
use acta_sheet::{Acta, Alarm, ContestCount};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};

use crate::Ceremony;

/// Share of a table's ballots cast in each hour of a twelve-hour day: a
/// morning rush, a slow afternoon.
pub const PROFILE: [f64; 12] = [
    0.06, 0.10, 0.11, 0.10, 0.09, 0.085, 0.085, 0.08, 0.08, 0.075, 0.07, 0.065,
];

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Seed.
    pub seed: u64,
    /// Registered voters per table (our own table sizes: take them from a
    /// package, or [`Scenario::sizes`]).
    pub registered: Vec<u32>,
    /// Choices in the contest (the first is the favourite).
    pub choices: usize,
    /// Share of tables stuffed incrementally (Klimek's `f_i`).
    pub incremental: f64,
    /// Size of incremental stuffing: `x = |N(0, θ)|` of the non-voters.
    pub theta: f64,
    /// Share of tables stuffed extremely (`f_e`): `x = 1 − |N(0, 0.075)|`.
    pub extreme: f64,
    /// Votes stolen with the stuffing: `round(x^α ·` the others' votes`)`;
    /// `None` steals none.
    pub alpha: Option<f64>,
    /// Share of stuffed ballots cast with an override code.
    pub stuffed_with_overrides: f64,
    /// Share of tables (among the unstuffed) whose turnout is raised to the
    /// next multiple of 5 % with ballots for the favourite.
    pub inflated: f64,
    /// Share of tables (among the unstuffed) with a closing-hour burst.
    pub bursts: f64,
    /// Ballots added in a burst, as a share of the table's registered.
    pub burst_size: f64,
    /// A clean election further from the screens' models: each region's
    /// own spread (0.035–0.065), a fifth of each region's tables a town
    /// cluster (turnout −6 points, the favourite −5), override rates that
    /// vary by table (gamma, mean 1 %, shape 2) and each table's own
    /// arrival profile (every hour's weight × 0.6–1.4).
    pub rough: bool,
}

impl Scenario {
    /// A clean election on `registered`.
    pub fn clean(seed: u64, registered: Vec<u32>) -> Scenario {
        Scenario {
            seed,
            registered,
            choices: 4,
            incremental: 0.0,
            theta: 0.1,
            extreme: 0.0,
            alpha: None,
            stuffed_with_overrides: 0.0,
            inflated: 0.0,
            bursts: 0.0,
            burst_size: 0.1,
            rough: false,
        }
    }

    /// The register sizes of a generated election of `tables` tables (the
    /// ones `acta demo` and the tests use).
    pub fn sizes(seed: u64, tables: usize) -> Vec<u32> {
        crate::generate::generate(&crate::generate::Options { seed, tables }).registered
    }
}

/// Which tables were touched.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    /// Stuffed incrementally: index and stuffed ballots.
    pub incremental: Vec<(usize, u32)>,
    /// Stuffed extremely.
    pub extreme: Vec<(usize, u32)>,
    /// Turnout inflated to a round target.
    pub inflated: Vec<usize>,
    /// Closing-hour burst.
    pub bursts: Vec<usize>,
}

impl Truth {
    /// Every table touched by ballot stuffing.
    pub fn stuffed(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .incremental
            .iter()
            .chain(&self.extreme)
            .map(|x| x.0)
            .collect();
        v.sort_unstable();
        v
    }
}

fn bin(r: &mut ChaCha8Rng, n: u32, p: f64) -> u32 {
    let p = p.clamp(0.0, 1.0);
    if n == 0 || p == 0.0 {
        return 0;
    }
    Binomial::new(u64::from(n), p).map_or(0, |b| b.sample(r) as u32)
}

fn normal(r: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(r)
}

/// Splits `n` over `weights` (summing to 1) multinomially.
fn split(r: &mut ChaCha8Rng, n: u32, weights: &[f64]) -> Vec<u32> {
    let mut left = n;
    let mut mass = 1.0;
    let mut out = Vec::with_capacity(weights.len());
    for (k, w) in weights.iter().enumerate() {
        let x = if k + 1 == weights.len() {
            left
        } else {
            bin(r, left, w / mass)
        };
        mass -= w;
        left -= x;
        out.push(x);
    }
    out
}

/// One simulated table, before it becomes an input row.
struct Sim {
    region: usize,
    registered: u32,
    ballots: u32,
    overrides: u32,
    votes: Vec<u32>,
    blank: u32,
    null: u32,
    hourly: Vec<u32>,
}

/// Simulates the election: the screens' input (tables `T00001`, …, contest
/// `PRES`, choices `A`, `B`, …; every table with its journal's day) and the
/// truth.
pub fn simulate(s: &Scenario) -> (Input, Truth) {
    let (sims, truth) = run(s);
    let choices: Vec<String> = (0..s.choices)
        .map(|k| ((b'A' + k as u8) as char).to_string())
        .collect();
    let tables = sims
        .into_iter()
        .enumerate()
        .map(|(i, t)| Table {
            id: format!("T{:05}", i + 1),
            region: format!("R{:02}", t.region),
            registered: t.registered,
            authenticated: t.ballots,
            ballots: t.ballots,
            overrides: t.overrides,
            votes: t.votes,
            blank: t.blank,
            null: t.null,
            day: Some(Day {
                closing_hour: *t.hourly.last().expect("twelve hours"),
                ballots: t.ballots,
                hourly: t.hourly,
            }),
        })
        .collect();
    (
        Input {
            contest: "PRES".into(),
            choices,
            tables,
            held: Vec::new(),
            bad_journals: Vec::new(),
        },
        truth,
    )
}

fn run(s: &Scenario) -> (Vec<Sim>, Truth) {
    let mut r = ChaCha8Rng::seed_from_u64(s.seed);
    // Regions (24, as Venezuela's states) shift turnout and the favourite's
    // share, as geography does.
    let regions: Vec<(f64, f64, f64)> = (0..24)
        .map(|_| {
            let spread = if s.rough {
                0.035 + 0.03 * r.random::<f64>()
            } else {
                0.05
            };
            (0.03 * normal(&mut r), 0.04 * normal(&mut r), spread)
        })
        .collect();
    let mut truth = Truth::default();
    let mut out = Vec::with_capacity(s.registered.len());
    for (i, &n) in s.registered.iter().enumerate() {
        let region = i * regions.len() / s.registered.len().max(1);
        let (mut rt, mut rv, spread) = regions[region];
        if s.rough && r.random::<f64>() < 0.2 {
            rt -= 0.06;
            rv -= 0.05;
        }
        let t = (0.62 + rt + spread * normal(&mut r)).clamp(0.05, 0.98);
        let v = (0.50 + rv + spread * normal(&mut r)).clamp(0.02, 0.98);
        let mut ballots = bin(&mut r, n, t);
        let blank = bin(&mut r, ballots, 0.015);
        let null = bin(&mut r, ballots - blank, 0.01);
        let valid = ballots - blank - null;
        // The favourite gets v; the rest split 1/2 : 1/3 : 1/4 …, jittered.
        let rest: Vec<f64> = (1..s.choices)
            .map(|k| (1.0 / (k as f64 + 1.0)) * (0.8 + 0.4 * r.random::<f64>()))
            .collect();
        let rest_sum: f64 = rest.iter().sum();
        let mut weights = vec![v];
        weights.extend(rest.iter().map(|w| (1.0 - v) * w / rest_sum));
        let mut votes = split(&mut r, valid, &weights);
        let override_rate = if s.rough {
            // Gamma(2, 0.005): the sum of two exponentials.
            let e = |r: &mut ChaCha8Rng| -(1.0 - r.random::<f64>()).ln();
            0.005 * (e(&mut r) + e(&mut r))
        } else {
            0.01
        };
        let mut overrides = bin(&mut r, ballots, override_rate);
        let profile: Vec<f64> = if s.rough {
            let w: Vec<f64> = PROFILE
                .iter()
                .map(|p| p * (0.6 + 0.8 * r.random::<f64>()))
                .collect();
            let t: f64 = w.iter().sum();
            w.iter().map(|x| x / t).collect()
        } else {
            PROFILE.to_vec()
        };
        let mut hourly = split(&mut r, ballots, &profile);

        let u: f64 = r.random();
        let z = normal(&mut r).abs();
        let x = if u < s.incremental {
            (s.theta * z).min(1.0)
        } else if u < s.incremental + s.extreme {
            (1.0 - 0.075 * z).max(0.0)
        } else {
            0.0
        };
        let stuffed = (x * f64::from(n - ballots)).floor() as u32;
        if x > 0.0 {
            if let Some(alpha) = s.alpha {
                let others: u32 = votes[1..].iter().sum();
                let stolen = (x.powf(alpha) * f64::from(others)).round() as u32;
                let taken = split(
                    &mut r,
                    stolen,
                    &votes[1..]
                        .iter()
                        .map(|&k| f64::from(k) / f64::from(others.max(1)))
                        .collect::<Vec<_>>(),
                );
                for (k, t) in taken.into_iter().enumerate() {
                    let t = t.min(votes[k + 1]);
                    votes[k + 1] -= t;
                    votes[0] += t;
                }
            }
            votes[0] += stuffed;
            ballots += stuffed;
            overrides += bin(&mut r, stuffed, s.stuffed_with_overrides);
            for (h, k) in hourly.iter_mut().zip(split(&mut r, stuffed, &PROFILE)) {
                *h += k;
            }
            if u < s.incremental {
                truth.incremental.push((i, stuffed));
            } else {
                truth.extreme.push((i, stuffed));
            }
        } else {
            let u2: f64 = r.random();
            let u3: f64 = r.random();
            if u2 < s.inflated {
                // Up to the next multiple of 5 % (at most 95 %).
                let target = ((f64::from(ballots) / f64::from(n)) * 20.0).floor() / 20.0 + 0.05;
                if target <= 0.95 {
                    let add = ((target * f64::from(n)).round() as u32).saturating_sub(ballots);
                    votes[0] += add;
                    ballots += add;
                    for (h, k) in hourly.iter_mut().zip(split(&mut r, add, &PROFILE)) {
                        *h += k;
                    }
                    truth.inflated.push(i);
                }
            } else if u3 < s.bursts {
                let add = ((s.burst_size * f64::from(n)).round() as u32).min(n - ballots);
                votes[0] += add;
                ballots += add;
                *hourly.last_mut().expect("twelve hours") += add;
                truth.bursts.push(i);
            }
        }
        out.push(Sim {
            region,
            registered: n,
            ballots,
            overrides: overrides.min(ballots),
            votes,
            blank,
            null,
            hourly,
        });
    }
    (out, truth)
}

/// The simulated election as a ceremony's machines would sign it: for each
/// table its signed acta and its journal (hash-chained, its head on the
/// acta). The screened contest is the package's national one (its first
/// choice is the favourite); every other contest on a table's ballot splits
/// the same ballots at random. `s.registered` is replaced by the package's
/// sizes. Every ballot is authenticated; the day runs over the package's
/// schedule in twelve equal parts.
pub fn signed(g: &Ceremony, s: &Scenario) -> (Vec<String>, Vec<String>, Truth) {
    let e = &g.election;
    let contest = Input::contest(e, None).expect("a generated package has contests");
    let national = e.contest(&contest).expect("exists");
    let mut s = s.clone();
    s.registered = e.tables.iter().map(|t| t.registered).collect();
    s.choices = national.choices().len();
    let (sims, truth) = run(&s);
    let opens = time::parse(&e.opens).expect("validated package");
    let closes = time::parse(&e.closes).expect("validated package");
    let mut r = ChaCha8Rng::seed_from_u64(s.seed ^ 0x5EED);
    let mut actas = Vec::with_capacity(sims.len());
    let mut journals = Vec::with_capacity(sims.len());
    for (i, (t, sim)) in e.tables.iter().zip(sims).enumerate() {
        let contests = e
            .ballot(&t.id)
            .iter()
            .map(|c| {
                let choices = c.choices();
                if c.id == contest {
                    return ContestCount {
                        contest: c.id.clone(),
                        votes: choices.into_iter().zip(sim.votes.iter().copied()).collect(),
                        blank: sim.blank,
                        null: sim.null,
                    };
                }
                let blank = bin(&mut r, sim.ballots, 0.02);
                let valid = sim.ballots - blank;
                let w = vec![1.0 / choices.len() as f64; choices.len()];
                ContestCount {
                    contest: c.id.clone(),
                    votes: choices.into_iter().zip(split(&mut r, valid, &w)).collect(),
                    blank,
                    null: 0,
                }
            })
            .collect();
        // The journal: open, each voter's authentication and ballot within
        // its hour, close.
        let span = (closes - opens) / 12;
        let mut lines = vec![Line {
            at: opens,
            event: Event::Open {
                table: t.id.clone(),
                machine: t.machine.clone(),
                registered: t.registered,
            },
        }];
        let mut overrides_left = sim.overrides;
        let mut overrides_used = 0;
        let mut left = sim.ballots;
        for (h, &k) in sim.hourly.iter().enumerate() {
            let start = opens + h as u64 * span;
            let mut times: Vec<u64> = (0..k)
                .map(|_| start + 1 + r.random_range(0..span - 2))
                .collect();
            times.sort_unstable();
            for at in times {
                let o = overrides_left > 0 && r.random_range(0..left) < overrides_left;
                overrides_left -= u32::from(o);
                left -= 1;
                // As the station does: one alarm per override above the
                // package's threshold, written before the authentication.
                if o {
                    overrides_used += 1;
                    if overrides_used > e.override_alarm {
                        lines.push(Line {
                            at,
                            event: Event::Alarm(
                                Alarm::Overrides,
                                format!(
                                    "{overrides_used} overrides, threshold {}",
                                    e.override_alarm
                                ),
                            ),
                        });
                    }
                }
                lines.push(Line {
                    at,
                    event: Event::Authenticated(o),
                });
                lines.push(Line {
                    at,
                    event: Event::Ballot,
                });
            }
        }
        lines.push(Line {
            at: closes,
            event: Event::Close(sim.ballots),
        });
        let text: Vec<String> = lines.iter().map(Line::to_text).collect();
        let head = text.iter().fold([0u8; 32], |h, l| chain(h, l));
        journals.push(text.join("\n") + "\n");
        let acta = Acta {
            election: e.id.clone(),
            table: t.id.clone(),
            machine: t.machine.clone(),
            opened: opens,
            closed: closes,
            registered: t.registered,
            authenticated: sim.ballots,
            overrides: sim.overrides,
            ballots: sim.ballots,
            contests,
            records: r.random(),
            journal: head,
            alarms: {
                let mut a = [0; 8];
                a[Alarm::Overrides.index()] = sim.overrides.saturating_sub(e.override_alarm);
                a
            },
        };
        actas.push(acta.sign(&g.machines[i]));
    }
    (actas, journals, truth)
}
