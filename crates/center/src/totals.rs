//! Totals and announcements from the counted actas' figures.

use std::collections::BTreeMap;

use acta_api::Totals;
use acta_election::{Election, BLANK, NULL};
use acta_sheet::{Announcement, Tally};
use acta_tlog::Checkpoint;

use crate::store::Counted;

/// Adds up the counted figures of an area at a log size.
pub(crate) fn totals(
    election: &Election,
    area: &str,
    size: u64,
    counted: &[Counted],
    held: u64,
) -> Totals {
    let mut by: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    let (mut registered, mut authenticated, mut ballots) = (0u64, 0u64, 0u64);
    for c in counted {
        registered += c.registered;
        authenticated += c.authenticated;
        ballots += c.ballots;
        for (contest, choices) in &c.votes {
            let t = by.entry(contest).or_default();
            for (choice, n) in choices {
                *t.entry(choice).or_default() += n;
            }
        }
    }
    let contests = by
        .into_iter()
        .map(|(contest, choices)| {
            let mut t = Tally {
                contest: contest.to_string(),
                ..Tally::default()
            };
            for (choice, n) in choices {
                match choice {
                    BLANK => t.blank = n,
                    NULL => t.null = n,
                    _ => t.votes.push((choice.to_string(), n)),
                }
            }
            if let Some(def) = election.contest(contest) {
                t.seats = acta_election::seats(def, &t.votes);
            }
            t
        })
        .collect();
    let in_area = tables_in(election, area);
    Totals {
        area: area.to_string(),
        size,
        tables_reported: counted.len() as u64,
        tables_total: in_area.len() as u64,
        held,
        registered,
        registered_total: in_area.iter().map(|t| u64::from(t.registered)).sum(),
        authenticated,
        ballots,
        contests,
    }
}

/// The package's tables in `area` (`""` for all): the package sorts
/// tables by id, so an area's tables are one contiguous run, found by
/// binary search (a scan per area would be quadratic in the country).
fn tables_in<'e>(election: &'e Election, area: &str) -> &'e [acta_election::Table] {
    let all = &election.tables[..];
    if area.is_empty() {
        return all;
    }
    let prefix = format!("{area}.");
    let from = all.partition_point(|t| t.id.as_str() < prefix.as_str());
    let to = from + all[from..].partition_point(|t| t.id.starts_with(&prefix));
    &all[from..to]
}

/// The announcement of `totals` at `checkpoint`: every contest of the
/// package with every choice, and the winners by the package's rules.
pub fn announcement(election: &Election, checkpoint: Checkpoint, totals: &Totals) -> Announcement {
    let contests = election
        .contests
        .iter()
        .map(|c| {
            let found = totals.contests.iter().find(|t| t.contest == c.id);
            let votes: Vec<(String, u64)> = c
                .choices()
                .into_iter()
                .map(|ch| {
                    let n = found
                        .and_then(|t| t.votes.iter().find(|(x, _)| *x == ch))
                        .map_or(0, |(_, n)| *n);
                    (ch, n)
                })
                .collect();
            Tally {
                contest: c.id.clone(),
                seats: acta_election::seats(c, &votes),
                votes,
                blank: found.map_or(0, |t| t.blank),
                null: found.map_or(0, |t| t.null),
            }
        })
        .collect();
    Announcement {
        election: election.id.clone(),
        checkpoint,
        tables_reported: totals.tables_reported,
        tables_total: totals.tables_total,
        held: totals.held,
        registered: totals.registered,
        authenticated: totals.authenticated,
        ballots: totals.ballots,
        contests,
    }
}
