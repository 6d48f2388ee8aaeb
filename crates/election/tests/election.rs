use acta_synth::ceremony::run as generate;
use acta_synth::generate::Options;
use acta_election::{apportion, time, Election, Error, Level, Method, Roll, Trust};
use proptest::prelude::*;

fn small() -> acta_synth::Ceremony {
    generate(&Options {
        seed: 7,
        tables: 40,
    })
}

#[test]
fn generated_package_opens_under_its_trust_and_needs_the_quorum() {
    let g = small();
    let e = Election::open(g.package.as_bytes(), &g.trust).unwrap();
    assert_eq!(e, g.election);
    assert_eq!(e.tables.len(), 40);
    // Only the authority's signature: below a quorum of 3.
    let lone = acta_note::sign(&g.election.to_text(), &[&g.authority]).unwrap();
    assert!(matches!(
        Election::open(lone.as_bytes(), &g.trust),
        Err(Error::Signature(acta_note::Error::Quorum {
            got: 1,
            need: 3,
            ..
        }))
    ));
    // The trust file survives its text form.
    let t = Trust::parse(&g.trust.to_text()).unwrap();
    assert_eq!(t.to_text(), g.trust.to_text());
}

/// The seed fixes the election's content, never its keys: two ceremonies
/// over one seed give the same definition and rolls and different keys.
#[test]
fn same_seed_same_content_different_keys() {
    let (a, b) = (small(), small());
    assert_eq!(a.content.definition.tables, b.content.definition.tables);
    assert_eq!(a.content.definition.contests, b.content.definition.contests);
    assert_eq!(a.roll(3), b.roll(3));
    assert_ne!(a.election.tables[0].key, b.election.tables[0].key);
    assert_ne!(a.election.center_key, b.election.center_key);
    assert_ne!(a.authority.verifier(), b.authority.verifier());
}

#[test]
fn non_canonical_package_text_is_rejected() {
    let text = small().election.to_text();
    let spaced = text.replacen("{\"format\":", "{ \"format\":", 1);
    assert!(matches!(
        Election::parse(&spaced),
        Err(Error::NotCanonical(1))
    ));
    let reordered = text
        .replacen("\"format\":\"election/v1\",\"id\"", "\"id\"", 1)
        .replacen("\"name\"", "\"format\":\"election/v1\",\"name\"", 1);
    assert!(Election::parse(&reordered).is_err());
    let unknown = text.replacen("{\"format\"", "{\"extra\":1,\"format\"", 1);
    assert!(matches!(Election::parse(&unknown), Err(Error::Json(_))));
    assert!(Election::parse(text.trim_end()).is_err());
}

#[test]
fn rolls_match_their_commitment_and_parse_back() {
    let g = small();
    for i in [0, 17, 39] {
        let (r, codes) = g.roll(i);
        assert_eq!(r.hash(), g.election.tables[i].roll);
        assert_eq!(r.voters.len() as u32, g.election.tables[i].registered);
        assert_eq!(Roll::parse(&r.to_text()).unwrap(), r);
        assert_eq!(codes.len(), 10);
    }
    let (r, _) = g.roll(0);
    let text = r.to_text();
    let lines: Vec<&str> = text.lines().collect();
    let swapped = [&lines[..3], &[lines[4], lines[3]], &lines[5..]]
        .concat()
        .join("\n")
        + "\n";
    assert!(Roll::parse(&swapped)
        .unwrap_err()
        .to_string()
        .contains("line 5"));
}

#[test]
fn geography_levels_and_ballots() {
    let g = small();
    let t = &g.election.tables[0];
    assert_eq!(Level::of(&t.id), Some(Level::Table));
    assert_eq!(Level::ancestors(&t.id).len(), 4);
    let ballot: Vec<&str> = g
        .election
        .ballot(&t.id)
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    let state = &t.id[..2];
    assert!(ballot.contains(&"PRES") && ballot.contains(&format!("GOB-{state}").as_str()));
    assert!(g
        .election
        .contests
        .iter()
        .filter(|c| !c.scope.is_empty() && c.scope != state)
        .all(|c| !ballot.contains(&c.id.as_str())));
    assert_eq!(Level::of("01.02"), None);
    assert_eq!(Level::of("01.002"), Some(Level::Municipality));
}

#[test]
fn national_scale_has_venezuelan_proportions() {
    let c = acta_synth::generate::generate(&Options {
        seed: 1,
        tables: 30_000,
    });
    let d = &c.definition;
    let at = |level| d.areas.iter().filter(|a| Level::of(&a.code) == Some(level)).count();
    assert_eq!(at(Level::State), 24);
    assert_eq!(at(Level::Municipality), 336);
    let centers = at(Level::Center);
    assert!((12_000..20_000).contains(&centers), "{centers} centers");
    let voters: u64 = c.registered.iter().map(|&r| r as u64).sum();
    assert!(
        (19_000_000..23_000_000).contains(&voters),
        "{voters} voters"
    );
}

/// Wikipedia's worked examples of the D'Hondt and Sainte-Laguë methods:
/// 100,000 / 80,000 / 30,000 / 20,000 votes for 8 seats.
#[test]
fn apportionment_known_answers() {
    let votes = [100_000, 80_000, 30_000, 20_000];
    assert_eq!(apportion(Method::DHondt, &votes, 8), vec![4, 3, 1, 0]);
    assert_eq!(apportion(Method::SainteLague, &votes, 8), vec![3, 3, 1, 1]);
    assert_eq!(apportion(Method::DHondt, &[0, 0], 3), vec![0, 0]);
}

#[test]
fn times_have_one_spelling() {
    assert_eq!(time::parse("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(time::parse("2026-12-06T10:00:00Z"), Some(1_796_551_200));
    for bad in [
        "2026-02-30T10:00:00Z",
        "2026-12-06 10:00:00Z",
        "2026-12-06T10:00:00+00:00",
        "2026-12-06T24:00:00Z",
        "2026-12-6T10:00:00Z",
    ] {
        assert_eq!(time::parse(bad), None, "{bad}");
    }
}

proptest! {
    #[test]
    fn time_round_trips(t in 0u64..10_000_000_000) {
        prop_assert_eq!(time::parse(&time::format(t)), Some(t));
    }

    #[test]
    fn apportionment_hands_out_every_seat(votes in proptest::collection::vec(0u64..1_000_000, 1..10), seats in 0u32..50) {
        let won = apportion(Method::DHondt, &votes, seats);
        let total: u32 = won.iter().sum();
        prop_assert_eq!(total, if votes.iter().all(|&v| v == 0) { 0 } else { seats });
    }
}
