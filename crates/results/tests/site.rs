//! The site built from a log written here, entry by entry: a held acta and
//! a conflict are shown as such, the figures are the actas' sums, and the
//! site refuses to show bytes the checkpoint does not commit to.

use std::path::Path;

use acta_browser::get;
use acta_results::{router, Site, Snapshot};
use acta_sheet::Acta;
use acta_synth::ceremony::{run as generate, Ceremony};
use acta_synth::generate::Options;
use acta_tlog::{Checkpoint, Hash, Tile, Tree};
use acta_verify::Ledger;

/// Writes an observer state and a bundle for a log of `notes`.
fn write_log(g: &Ceremony, notes: &[String], state: &Path, bundle: &Path) {
    let e = &g.election;
    let bytes: Vec<&[u8]> = notes.iter().map(|n| n.as_bytes()).collect();
    let mut ledger = Ledger::new(e);
    for (n, o) in bytes.iter().zip(acta_verify::ledger::open_all(e, &bytes)) {
        ledger.apply(e, n, o, None);
    }
    let leaves: Vec<Hash> = bytes.iter().map(|b| acta_tlog::leaf_hash(b)).collect();
    let tree = Tree::from_leaves(leaves.clone());
    let cp = Checkpoint {
        origin: e.log_origin.clone(),
        size: leaves.len() as u64,
        root: tree.root(),
    };
    let note = acta_note::sign(&cp.to_text(), &[&g.center]).unwrap();
    std::fs::create_dir_all(state).unwrap();
    let saved = serde_json::json!({ "election": e.id, "checkpoint": note, "ledger": ledger });
    std::fs::write(
        state.join("state.json"),
        serde_json::to_vec(&saved).unwrap(),
    )
    .unwrap();
    std::fs::write(state.join("leaves.bin"), leaves.concat()).unwrap();
    std::fs::create_dir_all(bundle).unwrap();
    std::fs::write(bundle.join("package.note"), &g.package).unwrap();
    for tile in Tile::entry_bundles(cp.size) {
        let first = tile.index * 256;
        let chunk = &bytes[first as usize..(first + u64::from(tile.width)) as usize];
        let path = bundle.join("log").join(tile.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            path,
            acta_tlog::tile::write_bundle(chunk.iter().copied()).unwrap(),
        )
        .unwrap();
    }
}

fn serve(site: Site) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let l = tokio::net::TcpListener::from_std(l).unwrap();
                axum::serve(l, router(site)).await
            })
    });
    addr
}

fn page(addr: &str, path: &str) -> String {
    let (status, body) = get(addr, path);
    assert_eq!(status, 200, "{path}");
    String::from_utf8(body).unwrap()
}

#[test]
fn held_and_conflicting_actas_are_shown_as_such_and_nothing_unproven_is_shown() {
    let g = generate(&Options {
        seed: 41,
        tables: 6,
    });
    let e = &g.election;
    let mut notes = Vec::new();
    let mut counted = Vec::new();
    for i in 0..6 {
        let day = g.day(i, 3);
        notes.push(day.zero.clone());
        let mut acta = Acta::open(day.acta.as_bytes(), e).unwrap().acta;
        if i == 2 {
            // A machine reporting more ballots than voters on its roll.
            acta.ballots = acta.registered + 50;
            notes.push(acta.sign(&g.machines[2]));
            continue;
        }
        notes.push(day.acta.clone());
        counted.push(acta.clone());
        if i == 4 {
            // The same machine signs a second, different acta.
            acta.authenticated += 1;
            notes.push(acta.sign(&g.machines[4]));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (state, bundle) = (dir.path().join("state"), dir.path().join("bundle"));
    write_log(&g, &notes, &state, &bundle);
    let snap = Snapshot::load(&state, &bundle, &g.trust).unwrap();
    let addr = serve(Site::new(snap));

    let national = page(&addr, "/?lang=en");
    assert!(
        national.contains("<strong>5 of 6</strong> tables reported"),
        "{national}"
    );
    assert!(national.contains("Held actas (authentic, not counted): 1"));
    assert!(national.contains("Conflicting actas: 1"));
    // The national figure of the referendum's YES is the sum of the counted actas.
    let yes: u32 = counted
        .iter()
        .filter_map(|a| a.contest("REF"))
        .map(|c| c.votes.iter().find(|v| v.0 == "YES").map_or(0, |v| v.1))
        .sum();
    assert!(
        national.contains(&format!(
            "<td class=\"n\">{}</td>",
            acta_verify::thousands(u64::from(yes))
        )),
        "YES {yes}"
    );

    // Open data at the same checkpoint: the counted actas, the held one out.
    let snap = Snapshot::load(&state, &bundle, &g.trust).unwrap();
    let root = hex::encode(snap.checkpoint.root);
    let json = page(&addr, "/export/err.json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["@type"], "ElectionResults.ElectionReport");
    assert!(json.contains(&root), "bound to the checkpoint");
    assert!(page(&addr, "/export/err.xml").starts_with("<?xml"));
    let csv = page(&addr, "/export/tables.csv");
    assert!(
        !csv.contains(&format!("{},", e.tables[2].id)),
        "the held acta is not in the figures"
    );
    for i in [0, 1, 3, 4, 5] {
        assert!(csv.contains(&format!("{},", e.tables[i].id)));
    }
    assert_eq!(get(&addr, "/export/other").0, 404);

    let held = page(&addr, &format!("/table/{}?lang=en", e.tables[2].id));
    assert!(
        held.contains("Held: not counted") && held.contains("impossible figures"),
        "{held}"
    );
    // As a citizen sees it, in a real browser.
    let mut b = acta_browser::Browser::launch();
    b.goto(&format!("http://{addr}/table/{}?lang=en", e.tables[2].id));
    assert!(b.text("#status").contains("Held: not counted"));
    let shot = b.screenshot(&acta_browser::screenshots(), "results-held");
    assert!(
        acta_browser::near(&shot, [0xff, 0xf3, 0xd6]) > 2000,
        "the amber hold box shows"
    );
    b.goto(&format!("http://{addr}/?lang=en"));
    assert!(b.text("#held").contains("impossible figures"));
    // Search by a voting center's name and by a table id.
    let center = e
        .areas
        .iter()
        .find(|a| acta_election::Level::of(&a.code) == Some(acta_election::Level::Center))
        .unwrap();
    let found = page(
        &addr,
        &format!("/search?q={}&lang=en", center.name.replace(' ', "+")),
    );
    assert!(found.contains(&format!("/area/{}", center.code)), "{found}");
    let found = page(&addr, &format!("/search?q={}", e.tables[3].id));
    assert!(found.contains(&format!("/table/{}", e.tables[3].id)));
    // The paper check by pasted text: the signed acta as printed, then one
    // figure changed; an empty form is just the form.
    let fine_note = &notes[1];
    let (_, ok) = acta_browser::post_multipart(&addr, "/check?lang=en", &[("text", fine_note)]);
    assert!(ok.contains("It is in the log, unaltered"), "{ok}");
    let altered = fine_note.replacen("\nballots ", "\nballots 1", 1);
    let (_, bad) = acta_browser::post_multipart(&addr, "/check?lang=en", &[("text", &altered)]);
    assert!(bad.contains("NOT authentic"), "{bad}");
    let (_, empty) = acta_browser::post_multipart(&addr, "/check?lang=en", &[("text", "")]);
    assert!(
        !empty.contains("id=\"verdict\""),
        "nothing sent, nothing judged"
    );
    let conflict = page(&addr, &format!("/table/{}?lang=en", e.tables[4].id));
    assert!(conflict.contains("id=\"conflict\""));
    let fine = page(&addr, &format!("/table/{}?lang=en", e.tables[0].id));
    assert!(fine.contains("Included in the log ✔"));
    assert_eq!(get(&addr, "/table/99.999").0, 404);
    assert_eq!(get(&addr, "/area/99").0, 404);

    // Someone edits the bundle's entry tile: the site shows no acta rather
    // than bytes the checkpoint does not commit to.
    let tile = bundle
        .join("log/tile/entries/000.p")
        .join(notes.len().to_string());
    let mut t = std::fs::read(&tile).unwrap();
    // Table 0's acta is the second entry (after its zero report).
    let acta_at = t.windows(7).position(|w| w == b"acta/v1").unwrap();
    let at = acta_at
        + t[acta_at..]
            .windows(9)
            .position(|w| w == b"\nballots ")
            .unwrap()
        + 9;
    t[at] = if t[at] == b'9' { b'8' } else { t[at] + 1 };
    std::fs::write(&tile, &t).unwrap();
    let snap = Snapshot::load(&state, &bundle, &g.trust).unwrap();
    let addr2 = serve(Site::new(snap));
    let first = page(&addr2, &format!("/table/{}?lang=en", e.tables[0].id));
    assert!(
        first.contains("does not match the checkpoint") && !first.contains("acta/v1"),
        "an altered entry is not shown, and not passed off as absent"
    );
    // No export that quietly leaves that table out while naming the checkpoint.
    let (status, body) = get(&addr2, "/export/err.json");
    assert_eq!(status, 500, "{}", String::from_utf8_lossy(&body));
    assert_eq!(get(&addr2, "/export/tables.csv").0, 500);

    // Leaves that do not make the checkpoint are refused.
    let mut leaves = std::fs::read(state.join("leaves.bin")).unwrap();
    leaves[0] ^= 1;
    std::fs::write(state.join("leaves.bin"), &leaves).unwrap();
    let e = Snapshot::load(&state, &bundle, &g.trust).err().unwrap();
    assert!(e.to_string().contains("do not make its checkpoint"), "{e}");
}

#[test]
fn the_site_never_steps_back_to_a_smaller_checkpoint() {
    let g = generate(&Options {
        seed: 43,
        tables: 3,
    });
    let dir = tempfile::tempdir().unwrap();
    let days: Vec<_> = (0..3).map(|i| g.day(i, 5)).collect();
    let small: Vec<String> = days.iter().take(2).map(|d| d.acta.clone()).collect();
    let big: Vec<String> = days.iter().map(|d| d.acta.clone()).collect();
    let (s1, b1) = (dir.path().join("s1"), dir.path().join("b1"));
    let (s2, b2) = (dir.path().join("s2"), dir.path().join("b2"));
    write_log(&g, &small, &s1, &b1);
    write_log(&g, &big, &s2, &b2);
    let site = Site::new(Snapshot::load(&s2, &b2, &g.trust).unwrap());
    assert!(!site.update(Snapshot::load(&s1, &b1, &g.trust).unwrap()));
    assert_eq!(site.snapshot().checkpoint.size, 3);
}

/// The same acta logged twice is a resend, not a conflict; seats and
/// winners are shown only on their contest's own page, and only called
/// final once every table of the scope reported.
#[test]
fn resends_are_not_conflicts_and_partial_results_only_lead() {
    let g = generate(&Options {
        seed: 47,
        tables: 4,
    });
    let e = &g.election;
    let mut notes = Vec::new();
    for i in 0..3 {
        let d = g.day(i, 9);
        notes.push(d.acta.clone());
        if i == 1 {
            notes.push(d.acta.clone());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (state, bundle) = (dir.path().join("state"), dir.path().join("bundle"));
    write_log(&g, &notes, &state, &bundle);
    let addr = serve(Site::new(
        Snapshot::load(&state, &bundle, &g.trust).unwrap(),
    ));
    let national = page(&addr, "/?lang=en");
    assert!(
        !national.contains("Conflicting actas"),
        "a resend is not a conflict"
    );
    assert!(!page(&addr, &format!("/table/{}?lang=en", e.tables[1].id)).contains("id=\"conflict\""));
    assert!(
        national.contains("Leading (partial count)"),
        "3 of 4 tables: leading, not winning"
    );
    assert!(!national.contains("class=\"winner\""));
    let state_code = e.areas_at(acta_election::Level::State)[0].code.clone();
    let state_page = page(&addr, &format!("/area/{state_code}?lang=en"));
    // Each national contest's section on the state page names no leader and
    // no winner; the state's own contests do (3 of its 4 tables reported).
    let section = |html: &str, name: &str| -> String {
        let at = html.find(&format!("<h2>{name}</h2>")).unwrap();
        let end = html[at..].find("</section>").unwrap();
        html[at..at + end].to_string()
    };
    let (mut own, mut national) = (0, 0);
    for c in &e.contests {
        if !state_page.contains(&format!("<h2>{}</h2>", c.name)) {
            continue;
        }
        if c.scope == state_code {
            own += 1;
        } else {
            national += 1;
        }
        let part = section(&state_page, &c.name);
        if c.scope == state_code && c.kind != acta_election::Kind::PartyList {
            assert!(part.contains("Leading (partial count)"), "{}", c.name);
        } else if c.scope != state_code {
            assert!(
                !part.contains("Leading") && !part.contains("Winner") && !part.contains("seats"),
                "{} is not decided on a state page",
                c.name
            );
        }
    }
    assert!(
        own > 0 && national > 0,
        "both kinds were on the page: {own} / {national}"
    );
}

/// A checkpoint the package's witnesses did not cosign is not shown, and a
/// larger checkpoint that forks the one shown does not replace it.
#[test]
fn uncosigned_and_forked_checkpoints_are_not_shown() {
    let w = acta_note::cosignature::Cosigner::from_signer(
        &acta_note::Signer::generate("witness.example").unwrap(),
    );
    let g = acta_synth::ceremony::run_with_witnesses(
        &Options {
            seed: 53,
            tables: 3,
        },
        vec![acta_election::Witness {
            key: w.verifier().to_string(),
            url: "http://witness.example".into(),
        }],
        1,
    );
    let days: Vec<_> = (0..3).map(|i| g.day(i, 5)).collect();
    let dir = tempfile::tempdir().unwrap();
    let (s1, b1) = (dir.path().join("s1"), dir.path().join("b1"));
    let notes: Vec<String> = days.iter().map(|d| d.acta.clone()).collect();
    write_log(&g, &notes, &s1, &b1);
    let e = Snapshot::load(&s1, &b1, &g.trust)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("0 of the 1 witness cosignatures"), "{e}");

    // Forks: without witnesses, a log of 2 entries, then a "larger" log
    // whose first two entries differ.
    let g = generate(&Options {
        seed: 59,
        tables: 3,
    });
    let days: Vec<_> = (0..3).map(|i| g.day(i, 5)).collect();
    let (s2, b2) = (dir.path().join("s2"), dir.path().join("b2"));
    let (s3, b3) = (dir.path().join("s3"), dir.path().join("b3"));
    write_log(&g, &[days[0].acta.clone(), days[1].acta.clone()], &s2, &b2);
    write_log(
        &g,
        &[
            days[1].acta.clone(),
            days[0].acta.clone(),
            days[2].acta.clone(),
        ],
        &s3,
        &b3,
    );
    let site = Site::new(Snapshot::load(&s2, &b2, &g.trust).unwrap());
    assert!(
        !site.update(Snapshot::load(&s3, &b3, &g.trust).unwrap()),
        "a fork is not shown"
    );
    assert_eq!(site.snapshot().checkpoint.size, 2);
}
