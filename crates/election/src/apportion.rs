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
