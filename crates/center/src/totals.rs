//! Totals and announcements from the counted actas' figures.

use acta_api::Totals;
use acta_election::{Election, BLANK, NULL};
use acta_sheet::{Announcement, Tally};
use acta_tlog::Checkpoint;

use crate::store::{Counted, Layout};

/// Adds up the counted figures of an area at a log size.
pub(crate) fn totals(
    election: &Election,
    layout: &Layout,
    area: &str,
    size: u64,
    counted: &[Counted],
    held: u64,
) -> Totals {
    // Per contest of the layout, its slots' sums and whether any acta
    // named each slot (a slot no acta names is not published).
    let mut by: Vec<Option<(Vec<u64>, Vec<bool>)>> = vec![None; layout.contests.len()];
    let (mut registered, mut authenticated, mut ballots) = (0u64, 0u64, 0u64);
    for c in counted {
        registered += c.registered;
        authenticated += c.authenticated;
        ballots += c.ballots;
        for &(k, slot, n) in &c.votes {
            let (sums, named) = by[k as usize].get_or_insert_with(|| {
                let len = layout.slots[k as usize].len();
                (vec![0; len], vec![false; len])
            });
            sums[slot as usize] += n;
            named[slot as usize] = true;
        }
    }
    let contests = by
        .into_iter()
        .enumerate()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .map(|(k, (sums, named))| {
            let contest = &layout.contests[k];
            let mut t = Tally {
                contest: contest.clone(),
                ..Tally::default()
            };
            // Slots in name order, as the published figures list them.
            let mut order: Vec<usize> = (0..sums.len()).filter(|&i| named[i]).collect();
            order.sort_by(|&a, &b| layout.slots[k][a].cmp(&layout.slots[k][b]));
            for i in order {
                let n = sums[i];
                match layout.slots[k][i].as_str() {
                    BLANK => t.blank = n,
                    NULL => t.null = n,
                    choice => t.votes.push((choice.to_string(), n)),
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
