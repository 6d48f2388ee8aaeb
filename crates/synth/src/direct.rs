//! Actas signed directly by the certified machine keys from simulated
//! counts, without voting through a station: inputs for benchmarks and
//! fault tests that need thousands of authentic actas fast. Anything that
//! claims to exercise the station must use [`crate::simulate`] instead.

use acta_election::time;
use acta_sheet::{Acta, ContestCount};

use crate::rng::SplitMix;
use crate::Ceremony;

/// A countable acta for table `index`, with figures drawn from `seed`,
/// signed by the table's machine key.
pub fn acta(g: &Ceremony, index: usize, seed: u64) -> String {
    let e = &g.election;
    let t = &e.tables[index];
    let mut r = SplitMix::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let authenticated = (t.registered as u64 * (50 + r.below(40)) / 100) as u32;
    let contests = e
        .ballot(&t.id)
        .iter()
        .map(|c| {
            let choices = c.choices();
            let blank = r.below(u64::from(authenticated / 50 + 1)) as u32;
            let null = r.below(u64::from(authenticated / 80 + 1)) as u32;
            let mut left = authenticated - blank - null;
            let mut votes: Vec<(String, u32)> = Vec::with_capacity(choices.len());
            for (k, ch) in choices.iter().enumerate() {
                let n = if k + 1 == choices.len() {
                    left
                } else {
                    r.below(u64::from(left) / 2 + 1) as u32
                };
                left -= n;
                votes.push((ch.clone(), n));
            }
            ContestCount {
                contest: c.id.clone(),
                votes,
                blank,
                null,
            }
        })
        .collect();
    let opened = time::parse(&e.opens).expect("validated package");
    let closed = time::parse(&e.closes).expect("validated package");
    Acta {
        election: e.id.clone(),
        table: t.id.clone(),
        machine: t.machine.clone(),
        opened,
        closed,
        registered: t.registered,
        authenticated,
        overrides: 0,
        ballots: authenticated,
        contests,
        records: r.bytes32(),
        journal: r.bytes32(),
        alarms: [0; 8],
    }
    .sign(&g.machines[index])
}

/// Every table's acta.
pub fn actas(g: &Ceremony, seed: u64) -> Vec<String> {
    use rayon::prelude::*;
    (0..g.election.tables.len())
        .into_par_iter()
        .map(|i| acta(g, i, seed))
        .collect()
}
