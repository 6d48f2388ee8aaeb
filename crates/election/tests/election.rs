use acta_election::{apportion, time, Election, Error, Level, Method, Roll, Trust};
use acta_synth::ceremony::run as generate;
use acta_synth::generate::Options;
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
    let at = |level| {
        d.areas
            .iter()
            .filter(|a| Level::of(&a.code) == Some(level))
            .count()
    };
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

fn key(name: &str, seed: u8) -> acta_note::Signer {
    acta_note::Signer::from_seed(name, [seed; 32]).unwrap()
}

/// The trust file: its exact text, and one refusal per non-canonical or
/// dishonest variant — above all, one public key listed twice.
#[test]
fn trust_file_is_strict_and_counts_distinct_keys() {
    let (a, b) = (key("authority", 1), key("auditor-1", 2));
    let text = format!("quorum 2\nkey {}\nkey {}\n", a.verifier(), b.verifier());
    let t = Trust::parse(&text).unwrap();
    assert_eq!(t.to_text(), text);
    let same_key_other_name = key("auditor-2", 1).verifier();
    let variants = [
        (
            "same public key under two names",
            format!(
                "quorum 2\nkey {}\nkey {same_key_other_name}\n",
                a.verifier()
            ),
        ),
        (
            "same key twice",
            format!("quorum 1\nkey {}\nkey {}\n", a.verifier(), a.verifier()),
        ),
        ("leading zero", text.replacen("quorum 2", "quorum 02", 1)),
        ("plus sign", text.replacen("quorum 2", "quorum +2", 1)),
        ("quorum 0", text.replacen("quorum 2", "quorum 0", 1)),
        (
            "quorum above keys",
            text.replacen("quorum 2", "quorum 3", 1),
        ),
        ("blank line", text.replacen("\nkey", "\n\nkey", 1)),
        ("trailing space", text.replacen("quorum 2", "quorum 2 ", 1)),
        ("no final newline", text.trim_end().to_string()),
        ("unknown line", format!("{text}comment\n")),
    ];
    for (what, v) in variants {
        assert!(Trust::parse(&v).is_err(), "{what} accepted");
    }
    assert!(Trust::parse(&variants_err_text(&a, &same_key_other_name))
        .unwrap_err()
        .to_string()
        .contains("same public key"));
}

fn variants_err_text(a: &acta_note::Signer, other: &acta_note::Verifier) -> String {
    format!("quorum 1\nkey {}\nkey {other}\n", a.verifier())
}

/// A quorum is met by distinct keys only: one signer listed under two names
/// in a hand-built quorum still counts once.
#[test]
fn one_signer_under_two_names_counts_once() {
    let a = key("authority", 1);
    let alias = key("alias", 1);
    let note = acta_note::sign("package\n", &[&a, &alias]).unwrap();
    let q = acta_note::Quorum {
        verifiers: vec![a.verifier(), alias.verifier()],
        need: 2,
    };
    assert!(matches!(
        q.open(note.as_bytes()),
        Err(acta_note::Error::Quorum {
            got: 1,
            need: 2,
            ..
        })
    ));
    assert!(acta_note::Quorum::new(q.verifiers.clone(), 2).is_err());
}

/// The certificate request: its exact text, proof of possession, and the
/// refusals of every non-canonical variant.
#[test]
fn certificate_request_is_strict_and_self_signed() {
    use acta_election::CertRequest;
    let m = key("M000001", 9);
    let r = CertRequest {
        election: "VE-2026".into(),
        machine: "M000001".into(),
        key: m.verifier(),
        software: [0xab; 32],
    };
    let text = format!(
        "acta-machine-request/v1\nelection VE-2026\nmachine M000001\nkey {}\nsoftware {}\n",
        m.verifier(),
        "ab".repeat(32)
    );
    assert_eq!(r.to_text(), text);
    assert_eq!(CertRequest::parse(&text).unwrap(), r);
    assert_eq!(CertRequest::open(r.sign(&m).as_bytes()).unwrap(), r);
    // Signed by someone else than the key it names: refused.
    let thief = key("M000001", 8);
    assert!(CertRequest::open(acta_note::sign(&text, &[&thief]).unwrap().as_bytes()).is_err());
    // Two signatures: refused.
    let two = acta_note::countersign(r.sign(&m).as_bytes(), &key("x", 3)).unwrap();
    assert!(CertRequest::open(two.as_bytes()).is_err());
    let variants = [
        text.replacen("machine M000001", "machine M000002", 1),
        text.replacen("VE-2026", "ve-2026", 1),
        text.replacen(&"ab".repeat(32), &"AB".repeat(32), 1),
        text.replacen("\nsoftware", "\nsoftware ", 1),
        text.trim_end().to_string(),
        format!("{text}extra\n"),
        text.replacen("acta-machine-request/v1", "acta-machine-request/v2", 1),
    ];
    for v in variants {
        assert!(CertRequest::parse(&v).is_err(), "accepted:\n{v}");
    }
}

proptest! {
    #[test]
    fn trust_round_trips(seeds in proptest::collection::btree_set(1u8..200, 1..6), need in 1usize..6) {
        let keys: Vec<_> = seeds.iter().map(|&s| key(&format!("k{s}"), s).verifier()).collect();
        let need = need.min(keys.len());
        let t = Trust { quorum: acta_note::Quorum::new(keys, need).unwrap() };
        let text = t.to_text();
        prop_assert_eq!(Trust::parse(&text).unwrap().to_text(), text);
    }

    #[test]
    fn request_parser_accepts_only_canonical(text in "[a-zA-Z0-9 /+=.\n-]{0,160}") {
        if let Ok(r) = acta_election::CertRequest::parse(&text) {
            prop_assert_eq!(r.to_text(), text);
        }
    }
}

/// The example definition in the repository is a valid definition.
#[test]
fn the_example_definition_parses() {
    let d = acta_election::Definition::parse(include_str!(
        "../../../examples/election-definition.json"
    ))
    .unwrap();
    assert_eq!(d.tables.len(), 3);
    assert!(d.center_key.parse::<acta_note::Verifier>().is_ok());
}

proptest! {
    /// `has_choices` says what comparing with `choices()` says, for the
    /// package's own list and for lists with a choice dropped, added,
    /// repeated, swapped or renamed.
    #[test]
    fn has_choices_is_equality_with_choices(contest in 0usize..16, edit in 0u8..6, at in 0usize..64) {
        static G: std::sync::OnceLock<acta_synth::Ceremony> = std::sync::OnceLock::new();
        let g = G.get_or_init(small);
        let c = &g.election.contests[contest % g.election.contests.len()];
        let mut ids = c.choices();
        let k = at % ids.len();
        match edit {
            0 => {}
            1 => { ids.remove(k); }
            2 => ids.push("ZZZ/ZZZ".into()),
            3 => { let d = ids[k].clone(); ids.insert(k, d); }
            4 => { let n = ids.len(); if n > 1 { ids.swap(k, (k + 1) % n); } }
            _ => ids[k].push('X'),
        }
        let expected = ids == c.choices();
        prop_assert_eq!(c.has_choices(ids.iter().map(String::as_str)), expected);
    }
}

proptest! {
    /// `Election::table` finds what a plain search of the tables finds, for
    /// the package's ids, ids one edit away from them (a digit, a dot, a
    /// length) and arbitrary text — and stays right after the public
    /// `tables` are changed under an index already built.
    #[test]
    fn table_lookup_is_a_search_of_the_tables(pick in 0usize..40, edit in 0u8..6, at in 0usize..17, junk in "[0-9.]{0,20}", drop in 0usize..40) {
        static G: std::sync::OnceLock<acta_synth::Ceremony> = std::sync::OnceLock::new();
        let g = G.get_or_init(small);
        let mut e = g.election.clone();
        let mut id = e.tables[pick % e.tables.len()].id.clone().into_bytes();
        let k = at % id.len();
        match edit {
            0 => {}
            1 => id[k] = if id[k] == b'9' { b'0' } else if id[k] == b'.' { b'5' } else { id[k] + 1 },
            2 => id[k] = b'.',
            3 => { id.remove(k); }
            4 => id.push(b'0'),
            _ => id = junk.clone().into_bytes(),
        }
        let id = String::from_utf8(id).unwrap();
        let plain = |e: &Election| e.tables.iter().find(|t| t.id == id).map(|t| t.id.clone());
        prop_assert_eq!(e.table(&id).map(|t| t.id.clone()), plain(&e));
        // The index is built now; change the tables under it.
        e.tables.remove(drop % e.tables.len());
        prop_assert_eq!(e.table(&id).map(|t| t.id.clone()), plain(&e));
    }
}
