//! Highest-averages seat apportionment for party-list contests.

use serde::{Deserialize, Serialize};

/// The divisor sequence used to share seats among lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Method {
    /// Divisors 1, 2, 3, … (favours larger lists).
    DHondt,
    /// Divisors 1, 3, 5, … (closer to proportional).
    SainteLague,
}

/// Seats per list, in the order of `votes`. Each seat goes to the list with
/// the highest quotient votes / divisor(seats won so far); a tie goes to the
/// list with more votes, then to the earlier list, so the result is
/// deterministic and anyone re-deriving it gets the same answer.
pub fn apportion(method: Method, votes: &[u64], seats: u32) -> Vec<u32> {
    let mut won = vec![0u32; votes.len()];
    if votes.iter().all(|&v| v == 0) {
        return won;
    }
    let divisor = |s: u32| -> u128 {
        match method {
            Method::DHondt => s as u128 + 1,
            Method::SainteLague => 2 * s as u128 + 1,
        }
    };
    for _ in 0..seats {
        let mut best = 0usize;
        for i in 1..votes.len() {
            // Compare votes[i]/d(i) with votes[best]/d(best) exactly, in integers.
            let lhs = votes[i] as u128 * divisor(won[best]);
            let rhs = votes[best] as u128 * divisor(won[i]);
            if lhs > rhs || (lhs == rhs && votes[i] > votes[best]) {
                best = i;
            }
        }
        won[best] += 1;
    }
    won
}

/// Who wins, from a contest's totals — the one rule the center, the observer
/// and the announcement all use. Party lists: seats per list by the contest's
/// method. Plurality: votes summed over each candidate's cards, the top
/// `seats` candidates win one seat each (a tie goes to the lower candidate
/// id, so everyone re-deriving it gets the same answer); a candidate with no
/// votes wins nothing. Referendums: the choice with more votes, none on a tie.
///
/// `votes` are `(choice code, votes)` pairs as counted on actas; the result
/// is sorted by code, as the announcement writes it.
pub fn seats(contest: &crate::Contest, votes: &[(String, u64)]) -> Vec<(String, u32)> {
    use std::collections::BTreeMap;
    match contest.kind {
        crate::Kind::PartyList => {
            let method = contest.method.unwrap_or(Method::DHondt);
            let won = apportion(
                method,
                &votes.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
                contest.seats,
            );
            votes
                .iter()
                .zip(won)
                .filter(|(_, s)| *s > 0)
                .map(|((c, _), s)| (c.clone(), s))
                .collect()
        }
        crate::Kind::Plurality => {
            let mut per: BTreeMap<&str, u64> = BTreeMap::new();
            for (c, n) in votes {
                *per.entry(crate::candidate_of(c)).or_default() += n;
            }
            let mut ranked: Vec<(&str, u64)> = per.into_iter().collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let mut won: Vec<(String, u32)> = ranked
                .iter()
                .take(contest.seats as usize)
                .filter(|(_, n)| *n > 0)
                .map(|(c, _)| (c.to_string(), 1))
                .collect();
            won.sort();
            won
        }
        crate::Kind::Referendum => {
            let get = |k: &str| votes.iter().find(|(c, _)| c == k).map_or(0, |(_, n)| *n);
            let (no, yes) = (get("NO"), get("YES"));
            match yes.cmp(&no) {
                std::cmp::Ordering::Greater => vec![("YES".into(), 1)],
                std::cmp::Ordering::Less => vec![("NO".into(), 1)],
                std::cmp::Ordering::Equal => vec![],
            }
        }
    }
}
