//! Election forensics (SYSTEM.md §12): statistical screens over the
//! published per-table results and the stations' journals that point at
//! tables to inspect. **A flag never proves fraud.** Each screen has a known
//! false-alarm rate on clean elections of our own table sizes (measured by
//! `acta bench forensics`, in the README); each flag says what it means and
//! what it does not.
//!
//! The screens (`../shared/research/audits-forensics.md` §5):
//! - [`fingerprint`]: the turnout × winner's-share 2-D histogram, and a
//!   fit of Klimek, Yegorov, Hanel & Thurner's model (PNAS 109(41), 2012)
//!   that estimates the share of tables with incremental and extreme
//!   ballot stuffing and ranks every table by how likely the fitted model
//!   makes it a stuffed one;
//! - [`digits`]: Mebane's last-digit and second-digit (2BL) tests and the
//!   share of counts ending in 0 or 5, each against a null simulated by
//!   redrawing every table's counts from its own size and shares, not
//!   against textbook constants (research note §5.5: on table-sized units
//!   2BL's mean is 4.105, not Benford's 4.187);
//! - [`peaks`]: integer-percentage peaks (Kobak, Shpilkin & Pshenichnikov,
//!   AOAS 10(1), 2016): excess tables whose turnout or winner's share is a
//!   whole percentage, against a binomial redraw of each table;
//! - [`day`]: closing-hour ballot bursts from the journals and override
//!   rates from the actas, each table against the election's own rate;
//! - impossible figures and held actas, listed.
//!
//! Pure: figures in, a [`Report`] out; [`chart`] draws it as SVG. Every
//! simulated null is seeded from [`Options::seed`], so anyone re-running a
//! screen on the same figures gets the same numbers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chart;
pub mod day;
pub mod digits;
pub mod fingerprint;
pub mod peaks;
mod stats;

use serde::{Deserialize, Serialize};

pub use day::Day;

/// Why the screens cannot run on what was given.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The contest asked for is not in the package.
    #[error("no contest {0:?} in the election package")]
    NoContest(String),
    /// The package has no contest at all.
    #[error("the election package has no contest to screen")]
    NoContests,
    /// A journal does not belong to the acta it was given with.
    #[error("journal of table {table}: {what}")]
    Journal {
        /// Table id.
        table: String,
        /// What does not match.
        what: String,
    },
    /// Too few replicates for a p-value to reach the false-alarm rate.
    #[error(
        "{0} replicates: a Monte Carlo p-value cannot reach 1 % with fewer than {MIN_REPLICATES}"
    )]
    Replicates(usize),
    /// Too few tables to screen anything.
    #[error("{0} tables with votes in the contest: too few to screen (at least {MIN_TABLES})")]
    TooFew(usize),
}

/// Fewest tables the screens run on.
pub const MIN_TABLES: usize = 20;
/// Fewest replicates of a simulated null: the smallest Monte Carlo p-value
/// is `1 / (1 + replicates)`, which must reach the 1 % false-alarm rate.
pub const MIN_REPLICATES: usize = 99;

/// One table's published figures, for the screened contest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Table id.
    pub id: String,
    /// Its region (the package's top-level area: a state), whose own
    /// turnout and winner's share the fingerprint's fair model starts from.
    pub region: String,
    /// Voters on the roll.
    pub registered: u32,
    /// Voters authenticated.
    pub authenticated: u32,
    /// Ballots cast.
    pub ballots: u32,
    /// Authentications with an override code.
    pub overrides: u32,
    /// Votes per choice of the screened contest, in [`Input::choices`]
    /// order; empty when the contest is not on this table's ballot.
    pub votes: Vec<u32>,
    /// Blank ballots in the contest.
    pub blank: u32,
    /// Null ballots in the contest.
    pub null: u32,
    /// What the table's journal says of its day, when it was published.
    pub day: Option<Day>,
}

impl Table {
    /// Valid votes in the screened contest (saturating: figures an
    /// authority wrote may be anything).
    pub fn valid(&self) -> u32 {
        self.votes.iter().fold(0u32, |a, &v| a.saturating_add(v))
    }

    /// Votes for the leader: the sum over its cards.
    pub fn votes_for(&self, cards: &[usize]) -> u32 {
        cards
            .iter()
            .filter_map(|&k| self.votes.get(k))
            .fold(0u32, |a, &v| a.saturating_add(v))
    }
}

/// Reads a table's published journal: its text, or why it cannot be had
/// (not published, unreadable).
pub type ReadJournal<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// An authentic acta that is not counted, and why (the observer's words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// Table id.
    pub table: String,
    /// Why it is held.
    pub reasons: Vec<String>,
}

/// What the screens run over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The screened contest.
    pub contest: String,
    /// Its choices, in package order.
    pub choices: Vec<String>,
    /// Every counted table.
    pub tables: Vec<Table>,
    /// Held actas.
    pub held: Vec<Held>,
    /// Journals missing, unreadable or not matching their acta (when
    /// journals were given): table and why.
    pub bad_journals: Vec<(String, String)>,
}

impl Input {
    /// The screened contest of a package: `contest`, or else, among the
    /// contests on the most tables' ballots (the national ones), a
    /// single-winner plurality (the presidency) if there is one, the first
    /// id on a tie.
    pub fn contest(
        election: &acta_election::Election,
        contest: Option<&str>,
    ) -> Result<String, Error> {
        if let Some(c) = contest {
            return election
                .contest(c)
                .map(|c| c.id.clone())
                .ok_or_else(|| Error::NoContest(c.into()));
        }
        election
            .contests
            .iter()
            .map(|c| {
                let n = election
                    .tables
                    .iter()
                    .filter(|t| c.applies_to(&t.id))
                    .count();
                let presidency = c.kind == acta_election::Kind::Plurality && c.seats == 1;
                (n, presidency, std::cmp::Reverse(c.id.clone()))
            })
            .max()
            .map(|(_, _, id)| id.0)
            .ok_or(Error::NoContests)
    }

    /// The input from the counted actas of an election (opened against its
    /// package) and its held actas. `journals`, when the journals were
    /// published, gives per table id the journal's text or why it cannot
    /// be had (not published, unreadable); each is held against its acta
    /// ([`Day::from_journal`]), and one that is missing or does not match
    /// is reported under [`Screen::Journal`], not used.
    pub fn from_actas(
        election: &acta_election::Election,
        contest: Option<&str>,
        actas: &[acta_sheet::Acta],
        held: Vec<Held>,
        journals: Option<ReadJournal<'_>>,
    ) -> Result<Input, Error> {
        let contest = Input::contest(election, contest)?;
        let choices = election
            .contest(&contest)
            .map(|c| c.choices())
            .unwrap_or_default();
        let mut bad_journals = Vec::new();
        let tables = actas
            .iter()
            .map(|a| {
                let counts = a.contests.iter().find(|c| c.contest == contest);
                let votes = counts
                    .map(|c| {
                        choices
                            .iter()
                            .map(|ch| {
                                c.votes
                                    .iter()
                                    .find(|(k, _)| k == ch)
                                    .map(|(_, n)| *n)
                                    .unwrap_or(0)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let day = journals.and_then(|read| {
                    match read(&a.table)
                        .and_then(|text| Day::from_journal(&text, a).map_err(|e| e.to_string()))
                    {
                        Ok(d) => Some(d),
                        Err(e) => {
                            bad_journals.push((a.table.clone(), e));
                            None
                        }
                    }
                });
                Table {
                    id: a.table.clone(),
                    region: a.table.split('.').next().unwrap_or_default().to_string(),
                    registered: a.registered,
                    authenticated: a.authenticated,
                    ballots: a.ballots,
                    overrides: a.overrides,
                    votes,
                    blank: counts.map_or(0, |c| c.blank),
                    null: counts.map_or(0, |c| c.null),
                    day,
                }
            })
            .collect();
        Ok(Input {
            contest,
            choices,
            tables,
            held,
            bad_journals,
        })
    }

    /// The leader the screens follow: the candidate (a choice's code up to
    /// its `/`: a candidate runs on several parties' cards) with most votes
    /// over all tables, and the positions of its cards in
    /// [`Input::choices`]. For a referendum, the leading answer.
    pub fn leader(&self) -> (String, Vec<usize>) {
        let mut sums = std::collections::BTreeMap::<&str, u64>::new();
        for t in &self.tables {
            for (c, v) in self.choices.iter().zip(&t.votes) {
                *sums.entry(acta_election::candidate_of(c)).or_default() += u64::from(*v);
            }
        }
        let name = sums
            .iter()
            .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))
            .map(|(c, _)| c.to_string())
            .unwrap_or_default();
        let cards = self
            .choices
            .iter()
            .enumerate()
            .filter(|(_, c)| acta_election::candidate_of(c) == name)
            .map(|(k, _)| k)
            .collect();
        (name, cards)
    }
}

/// How hard the screens look, and with what seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Seed of every simulated null and of the fingerprint fit.
    pub seed: u64,
    /// Replicates of each simulated null (digits, peaks).
    pub replicates: usize,
    /// Election-wide false-alarm rate each screen is held to: a screen
    /// flags the election when its p-value is at most this; a per-table
    /// screen flags a table when its p-value is at most this divided by the
    /// number of tables (Bonferroni), so a clean election gets any flag
    /// from it with at most this probability.
    pub alpha: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: 2026,
            replicates: 400,
            alpha: 0.01,
        }
    }
}

/// The screens, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Screen {
    /// Impossible figures on an acta.
    Impossible,
    /// An authentic acta the observer holds.
    Held,
    /// A journal that does not match its acta.
    Journal,
    /// The turnout × share fingerprint and its Klimek fit.
    Fingerprint,
    /// Integer-percentage peaks.
    IntegerPeaks,
    /// Last digits of the counts.
    LastDigit,
    /// Second digits (2BL).
    SecondDigit,
    /// Counts ending in 0 or 5.
    ZeroFive,
    /// Ballots in the closing hour.
    ClosingBurst,
    /// Override codes.
    Overrides,
}

impl Screen {
    /// Every screen, in report order: the three that list facts (held
    /// actas, journals), then the statistical ones.
    pub const ALL: [Screen; 10] = [
        Screen::Impossible,
        Screen::Held,
        Screen::Journal,
        Screen::Fingerprint,
        Screen::IntegerPeaks,
        Screen::LastDigit,
        Screen::SecondDigit,
        Screen::ZeroFive,
        Screen::ClosingBurst,
        Screen::Overrides,
    ];

    /// The screens that judge from statistics, each held to the
    /// false-alarm rate: [`Screen::ALL`] after its three lists of facts.
    pub const STATISTICAL: &'static [Screen] = Screen::ALL.split_at(3).1;

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Impossible => "Impossible figures",
            Screen::Held => "Held actas",
            Screen::Journal => "Journals missing or not matching their acta",
            Screen::Fingerprint => "Turnout × winner's share fingerprint (Klimek fit)",
            Screen::IntegerPeaks => "Integer-percentage peaks (Kobak)",
            Screen::LastDigit => "Last digits of the counts",
            Screen::SecondDigit => "Second digits of the counts (2BL)",
            Screen::ZeroFive => "Counts ending in 0 or 5",
            Screen::ClosingBurst => "Ballots in the closing hour (journals)",
            Screen::Overrides => "Override codes per table",
        }
    }

    /// What a flag from it means.
    pub fn means(self) -> &'static str {
        match self {
            Screen::Impossible => "an authentic acta states figures that cannot all be true (more authenticated than registered, ballots beyond authenticated without the alarm, votes that do not fit the ballots), so it is held, not counted: inspect the table's paper and journal",
            Screen::Held => "an authentic acta is not counted because it does not fit the package, its schedule or its own figures: the table's result is missing from the totals until it is resolved",
            Screen::Journal => "the journal published for the table is missing, unreadable, or not the one its signed acta closes (another chain head, other counts, lines out of order or after the close): the table's day cannot be read from it",
            Screen::Fingerprint => "more tables lie at the same time at high turnout and high winner's share than a single fair cluster explains; the fit gives the share of tables that incremental and extreme ballot stuffing would account for, and the ranking the tables that account for it",
            Screen::IntegerPeaks => "more tables than chance gives report a turnout or winner's share that is a whole percentage, the trace of figures written to a target",
            Screen::LastDigit => "the last digits of the counts are less even than counts drawn at random from the same tables are",
            Screen::SecondDigit => "the second digits of the counts depart from those of counts drawn at random from the same tables",
            Screen::ZeroFive => "more counts end in 0 or 5 than chance gives, the trace of rounded, written-in figures",
            Screen::ClosingBurst => "the table cast far more of its ballots in the closing hour than the election's tables do",
            Screen::Overrides => "the table authenticated far more voters with override codes (no fingerprint match) than the election's tables do",
        }
    }

    /// What a flag from it does not mean.
    pub fn does_not_mean(self) -> &'static str {
        match self {
            Screen::Impossible | Screen::Held | Screen::Journal => {
                "it does not say who erred, or that any vote was changed"
            }
            Screen::Fingerprint => "it does not prove stuffing: a town that votes heavily and for one side draws the same shape; and stuffing spread over a whole region is read as that region's own centre, so it hides here — the other screens and the audit still see it; inspect the ranked tables' paper",
            Screen::IntegerPeaks => "it does not say which of the tables at whole percentages were written to a target: most of them land there by chance",
            Screen::LastDigit | Screen::SecondDigit | Screen::ZeroFive => "digit tests give false verdicts on real elections (Mebane 2013, Rozenas 2017); they point at figures to inspect, never at fraud",
            Screen::ClosingBurst => "it does not prove stuffing: a late queue, a factory shift or a delayed opening fills a closing hour too",
            Screen::Overrides => "it does not prove impersonation: worn fingerprints and broken readers need override codes too",
        }
    }
}

/// One table a screen points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// The screen.
    pub screen: Screen,
    /// The table.
    pub table: String,
    /// Its figures, in words.
    pub detail: String,
}

/// What one screen found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The screen.
    pub screen: Screen,
    /// Whether it flags the election.
    pub flagged: bool,
    /// Its statistic and p-value (or fit), in words.
    pub summary: String,
    /// Its p-value, where it has one.
    pub p_value: Option<f64>,
    /// Tables it ran over.
    pub tables: usize,
    /// Or why it did not run.
    pub skipped: Option<String>,
}

/// The screens' report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// One sentence, first: how many screens flag and how many tables they
    /// point at, and that a flag is not proof.
    pub headline: String,
    /// The screened contest.
    pub contest: String,
    /// Its leader (a candidate, over all its cards), whose share the
    /// screens follow.
    pub leader: String,
    /// Counted tables screened.
    pub tables: usize,
    /// Options used.
    pub options: Options,
    /// One per screen, in [`Screen::ALL`] order.
    pub findings: Vec<Finding>,
    /// The tables to inspect, most serious screen first.
    pub flags: Vec<Flag>,
    /// The fingerprint and its fit.
    pub fingerprint: Option<fingerprint::Fingerprint>,
    /// The digit tests.
    pub digits: Option<digits::Digits>,
    /// The integer-percentage peaks.
    pub peaks: Option<peaks::Peaks>,
    /// Closing-hour bursts, from the journals.
    pub bursts: Option<day::Bursts>,
    /// Override rates.
    pub overrides: Option<day::Overrides>,
}

/// The words every report carries.
pub const CAVEAT: &str = "A flag points to tables to inspect; it never proves fraud.";

/// Runs every screen over `input`.
pub fn screen(input: &Input, opts: &Options) -> Result<Report, Error> {
    if opts.replicates < MIN_REPLICATES {
        return Err(Error::Replicates(opts.replicates));
    }
    let (leader_name, leader) = input.leader();
    let leader = leader.as_slice();
    let usable: Vec<&Table> = input
        .tables
        .iter()
        .filter(|t| t.valid() > 0 && t.registered > 0 && t.votes.len() == input.choices.len())
        .collect();
    if usable.len() < MIN_TABLES {
        return Err(Error::TooFew(usable.len()));
    }
    let mut flags = Vec::new();
    let mut findings = Vec::new();

    // Impossible figures and other reasons to hold an acta are the
    // observer's judgement (`Acta::holds`, with the alarms and the marks a
    // contest allows): the screens list what it held, split by reason.
    let impossible = |h: &Held| {
        h.reasons
            .iter()
            .any(|r| r.starts_with("impossible figures"))
    };
    for h in &input.held {
        flags.push(Flag {
            screen: if impossible(h) {
                Screen::Impossible
            } else {
                Screen::Held
            },
            table: h.table.clone(),
            detail: h.reasons.join("; "),
        });
    }
    let authentic = input.tables.len() + input.held.len();
    findings.push(listed(
        Screen::Impossible,
        input.held.iter().filter(|h| impossible(h)).count(),
        authentic,
        "authentic actas held for impossible figures",
    ));
    findings.push(listed(
        Screen::Held,
        input.held.iter().filter(|h| !impossible(h)).count(),
        authentic,
        "authentic actas held for another reason (package, schedule)",
    ));
    for (t, why) in &input.bad_journals {
        flags.push(Flag {
            screen: Screen::Journal,
            table: t.clone(),
            detail: why.clone(),
        });
    }
    findings.push(listed(
        Screen::Journal,
        input.bad_journals.len(),
        input.bad_journals.len() + input.tables.iter().filter(|t| t.day.is_some()).count(),
        "journals missing, unreadable or not matching their acta",
    ));

    let fp = fingerprint::screen(&usable, leader, opts);
    findings.push(fp.finding(usable.len()));
    for &(i, score) in fp.ranking.iter().take_while(|(_, s)| *s >= 0.5) {
        if !fp.fit.flagged {
            break;
        }
        let t = usable[i];
        flags.push(Flag {
            screen: Screen::Fingerprint,
            table: t.id.clone(),
            detail: format!(
                "turnout {:.1} %, winner's share {:.1} %: {}",
                100.0 * f64::from(t.ballots) / f64::from(t.registered),
                100.0 * f64::from(t.votes_for(leader)) / f64::from(t.valid()),
                if score >= 1.0 {
                    "beyond the reach of the fitted fair model, above and right of its region's centre".to_string()
                } else {
                    format!("the fitted model's stuffed share of its cell is {score:.2}")
                }
            ),
        });
    }

    // Whole percentages are hit by chance at about a tenth of the tables:
    // the screen names an excess, not tables (they are in `at_integer`).
    let pk = peaks::screen(&usable, leader, opts);
    findings.push(pk.finding());

    let dg = digits::screen(&usable, opts);
    findings.extend(dg.findings());

    let bursts = day::bursts(&usable, opts);
    match &bursts {
        Some(b) => {
            findings.push(b.finding());
            flags.extend(b.flagged.iter().map(|(id, what)| Flag {
                screen: Screen::ClosingBurst,
                table: id.clone(),
                detail: what.clone(),
            }));
        }
        None => findings.push(Finding {
            screen: Screen::ClosingBurst,
            flagged: false,
            summary: String::new(),
            p_value: None,
            tables: 0,
            skipped: Some(format!(
                "no journals given for {} or more tables",
                MIN_TABLES
            )),
        }),
    }
    let ov = day::overrides(&usable, opts);
    findings.push(ov.finding());
    flags.extend(ov.flagged.iter().map(|(id, what)| Flag {
        screen: Screen::Overrides,
        table: id.clone(),
        detail: what.clone(),
    }));

    let flagging = findings.iter().filter(|f| f.flagged).count();
    let mut to_inspect: Vec<&str> = flags.iter().map(|f| f.table.as_str()).collect();
    to_inspect.sort_unstable();
    to_inspect.dedup();
    let headline = if flagging == 0 {
        format!(
            "No screen flags the {} tables of {} at its false-alarm rate. {CAVEAT}",
            usable.len(),
            input.contest
        )
    } else {
        let names: Vec<&str> = findings
            .iter()
            .filter(|f| f.flagged)
            .map(|f| f.screen.title())
            .collect();
        format!(
            "{flagging} of {} screens flag {}: {}; {} tables to inspect. {CAVEAT}",
            findings.len(),
            input.contest,
            names.join(", "),
            to_inspect.len()
        )
    };
    Ok(Report {
        headline,
        contest: input.contest.clone(),
        leader: leader_name,
        tables: usable.len(),
        options: *opts,
        findings,
        flags,
        fingerprint: Some(fp),
        digits: Some(dg),
        peaks: Some(pk),
        bursts,
        overrides: Some(ov),
    })
}

fn listed(screen: Screen, n: usize, of: usize, what: &str) -> Finding {
    Finding {
        screen,
        flagged: n > 0,
        summary: format!("{n} of {of} {what}"),
        p_value: None,
        tables: of,
        skipped: None,
    }
}

/// A p-value in words, with the threshold it was held to.
pub(crate) fn p_words(p: f64, alpha: f64) -> String {
    if p <= alpha {
        format!("p = {p:.4} ≤ {alpha}: flagged")
    } else {
        format!("p = {p:.4} > {alpha}: not flagged")
    }
}
