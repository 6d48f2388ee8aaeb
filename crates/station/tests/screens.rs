//! A whole table day driven through the station's screens in a real
//! headless Chromium: open (the zero report prints), twenty voters — one not
//! on the roll and refused, one with a fingerprint that does not match and
//! an override code, one who tries to vote twice, one who changes their
//! mind on the review page, one who voids a contest, one who leaves every
//! contest blank — then close and print. The acta read back from its
//! printed image verifies and holds exactly the ballots confirmed on the
//! voter screen; its journal verifies against it. Screenshots of every
//! screen are kept in `target/screenshots/station-*.png` and checked for
//! what they must show.

use acta_browser::{get, near, screenshots, Browser};
use acta_election::{candidate_of, time};
use acta_sheet::{Acta, Alarm};
use acta_station::serve::{App, Clock, Config};
use acta_station::{Mark, Station};
use acta_synth::ceremony::run as generate;
use acta_synth::generate::Options;

/// Serves the station's two screens on loopback ports from a thread of
/// their own; returns the poll-worker and the voter screen's addresses.
fn serve(app: App) -> (String, String) {
    let bind = || {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        (l, addr)
    };
    let ((pw, addr), (vs, voter)) = (bind(), bind());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let pw = tokio::net::TcpListener::from_std(pw).unwrap();
            let vs = tokio::net::TcpListener::from_std(vs).unwrap();
            acta_station::serve::serve(app, pw, vs, std::future::pending()).await
        })
        .unwrap();
    });
    (addr, voter)
}

#[test]
fn a_table_day_through_the_screens() {
    let g = generate(&Options {
        seed: 23,
        tables: 2,
    });
    let (roll, codes) = g.roll(0);
    let table = g.election.tables[0].id.clone();
    let dir = tempfile::tempdir().unwrap();
    Station::create(
        dir.path(),
        g.package.as_bytes(),
        &g.trust.to_text(),
        &roll,
        &g.machines[0],
        &table,
    )
    .unwrap()
    .stop()
    .unwrap();
    let opens = time::parse(&g.election.opens).unwrap();
    let app = App::load(&Config {
        dir: dir.path().to_path_buf(),
        center: None,
        clock: Clock::Simulated {
            start: opens + 60,
            speed: 100,
        },
    })
    .unwrap();
    let (addr, voter) = serve(app);
    let base = format!("http://{addr}");
    let vbase = format!("http://{voter}");
    let shots = screenshots();
    let mut b = Browser::launch();

    // The reference: the same voters and marks through the station code in
    // memory, to compare the acta with.
    let mut reference =
        Station::provision(&g.election, &table, roll.clone(), g.machines[0].clone()).unwrap();
    reference.open(opens).unwrap();
    let ballot = reference.ballot().to_vec();
    let marks_of = |k: usize| -> Vec<Mark> {
        ballot
            .iter()
            .map(|c| {
                let ch = c.choices();
                let first = ch[k % ch.len()].clone();
                if c.max_marks() > 1 {
                    let second = ch
                        .iter()
                        .cycle()
                        .skip(k % ch.len())
                        .find(|x| candidate_of(x) != candidate_of(&first))
                        .unwrap()
                        .clone();
                    Mark::Choices(vec![first, second])
                } else {
                    Mark::Choices(vec![first])
                }
            })
            .collect()
    };

    b.goto(&format!("{base}/?lang=en"));
    assert!(b.text("#phase").contains("Table ready to open"));
    let ready = b.screenshot(&shots, "station-01-ready");
    assert!(
        near(&ready, [0xff, 0xd2, 0x00]) > 500,
        "the yellow open button shows"
    );

    b.goto(&format!("{vbase}/vote?lang=en"));
    assert!(b.text("#wait").contains("wait for the poll worker"));
    b.screenshot(&shots, "station-02-voter-waits");

    b.goto(&format!("{base}/?lang=en"));
    b.submit("document.getElementById('open').click()");
    assert!(b.text("#flash").contains("Table open"));
    b.screenshot(&shots, "station-03-open");
    let (_, zero_png) = get(&addr, "/print/zero.png");
    let (_, zero_note) = get(&addr, "/print/zero.note");
    assert_eq!(
        acta_paper::read_png(&zero_png).unwrap(),
        zero_note,
        "the printed zero report decodes to the signed one"
    );

    let voters = &roll.voters[..19];
    let mut code_used = false;
    for (k, v) in voters.iter().enumerate() {
        b.goto(&format!("{base}/?lang=en"));
        let auth = |b: &mut Browser, id: &str, reading: &str, code: &str| {
            b.submit(&format!(
                "document.getElementById('voter').value={id:?};\
                 document.getElementById('reading').value={reading:?};\
                 document.getElementById('code').value={code:?};\
                 document.getElementById('authenticate').click()"
            ));
        };
        if k == 3 {
            // Not on this table's roll.
            let (other, _) = g.roll(1);
            auth(
                &mut b,
                &other.voters[0].id,
                &hex::encode(other.voters[0].template),
                "",
            );
            assert!(b.text("#flash").contains("not on this table's roll"));
            let refused = b.screenshot(&shots, "station-05-refused");
            assert!(near(&refused, [0x66, 0x00, 0x00]) > 500, "a red refusal");
        }
        if k == 10 {
            // The first voter tries again.
            auth(&mut b, &voters[0].id, &hex::encode(voters[0].template), "");
            assert!(b.text("#flash").contains("already been authenticated"));
            b.screenshot(&shots, "station-06-double-vote");
        }
        if k == 5 {
            // The fingerprint does not match: refused, then an override code.
            auth(&mut b, &v.id, &hex::encode([7u8; 32]), "");
            assert!(b.text("#flash").contains("biometric does not match"));
            auth(&mut b, &v.id, &hex::encode([7u8; 32]), &codes[0]);
            assert!(b.text("#flash").contains("override code"));
            b.screenshot(&shots, "station-07-override");
            reference
                .authenticate(
                    opens + 60 + k as u64 * 60,
                    &v.id,
                    [7u8; 32],
                    Some(&codes[0]),
                )
                .unwrap();
            code_used = true;
        } else {
            auth(&mut b, &v.id, &hex::encode(v.template), "");
            assert!(
                b.text("#flash").contains("Ballot unlocked"),
                "{}",
                b.text("#flash")
            );
            reference
                .authenticate(opens + 60 + k as u64 * 60, &v.id, v.template, None)
                .unwrap();
        }
        let unlocked = b.screenshot(&shots, "station-04-unlocked");
        assert!(near(&unlocked, [0x00, 0x66, 0x33]) > 500, "a green unlock");

        // The voter screen: a fresh ballot, nothing of anyone before.
        b.goto(&format!("{vbase}/vote?lang=en"));
        let checked = b.eval("document.querySelectorAll('input:checked').length");
        let radios = ballot.iter().filter(|c| c.max_marks() == 1).count();
        assert_eq!(checked, radios, "only the blank defaults are marked");
        let mut marks = marks_of(k);
        if k == 8 {
            marks[0] = Mark::Null;
        }
        if k == 9 {
            marks = ballot.iter().map(|_| Mark::Blank).collect();
        }
        let pick = |b: &mut Browser, marks: &[Mark]| {
            for (c, m) in ballot.iter().zip(marks) {
                match m {
                    Mark::Choices(v) => {
                        for code in v {
                            b.eval(&format!(
                                "document.querySelector('input[name=\"c:{}\"][value=\"{}\"]').click()",
                                c.id, code
                            ));
                        }
                    }
                    Mark::Null => {
                        b.eval(&format!(
                            "document.querySelector('input[name=\"null:{}\"]').click()",
                            c.id
                        ));
                    }
                    _ => {}
                }
            }
        };
        if k == 7 {
            // Marks one thing, reviews, changes their mind.
            pick(&mut b, &marks_of(k + 1));
            b.submit("document.getElementById('review').click()");
            b.submit("document.getElementById('change').click()");
            b.eval(
                "document.querySelectorAll('input[type=checkbox]:checked').forEach(x => x.click())",
            );
        }
        pick(&mut b, &marks);
        if k == 1 {
            b.screenshot(&shots, "station-08-ballot");
            let vote_for_n = ballot.iter().find(|c| c.max_marks() > 1);
            if let Some(c) = vote_for_n {
                let shown = b.eval(&format!(
                    "document.querySelector('fieldset[data-max=\"{}\"] .count').textContent",
                    c.max_marks()
                ));
                assert_eq!(shown, "2", "the vote-for-N counter counts the marks");
            }
        }
        b.submit("document.getElementById('review').click()");
        let summary = b.text("#summary");
        for c in &ballot {
            assert!(summary.contains(&c.name), "the review lists {}", c.name);
        }
        if k == 1 {
            b.screenshot(&shots, "station-09-review");
        }
        let token = b.eval("document.querySelector('input[name=token]').value");
        b.submit("document.getElementById('confirm').click()");
        assert!(b.text("#recorded").contains("Your vote is recorded"));
        if k == 2 {
            // The same confirmation sent again (a double click, the back
            // button): answered, and nothing is counted.
            let again = b.eval(&format!(
                "fetch('/vote/confirm?lang=en', {{method: 'POST', headers: {{'Content-Type': 'application/x-www-form-urlencoded'}}, body: 'token=' + {token}}}).then(r => r.text())"
            ));
            assert!(again.as_str().unwrap().contains("already recorded"));
        }
        if k == 1 {
            let receipt = b.screenshot(&shots, "station-10-receipt");
            assert!(
                near(&receipt, [0xff, 0xff, 0xff]) > 20_000,
                "the white receipt shows"
            );
        }
        reference.cast(opens + 90 + k as u64 * 60, &marks).unwrap();
    }
    assert!(code_used);

    // Spanish labels.
    b.goto(&format!("{base}/?lang=es"));
    assert!(b.text("#phase").contains("Mesa abierta"));
    b.screenshot(&shots, "station-11-es");

    // Close and print.
    b.eval("window.confirm = () => true");
    b.submit("document.getElementById('close').click()");
    assert!(b.text("#flash").contains("Mesa cerrada"));
    b.screenshot(&shots, "station-12-closed");
    let (_, acta_png) = get(&addr, "/print/acta.png");
    std::fs::write(shots.join("station-13-acta-printout.png"), &acta_png).unwrap();
    let (_, acta_note) = get(&addr, "/print/acta.note");
    let read = acta_paper::read_png(&acta_png).unwrap();
    assert_eq!(
        read, acta_note,
        "the printed acta decodes to the signed one"
    );
    let acta = Acta::open(&read, &g.election).unwrap().acta;
    let expected = reference.acta();
    assert_eq!(acta.ballots, 19);
    assert_eq!(acta.authenticated, 19);
    assert_eq!(acta.overrides, 1);
    assert_eq!(
        acta.contests, expected.contests,
        "the acta holds the ballots confirmed"
    );
    assert_eq!(acta.records, reference.records_root());
    for a in [
        Alarm::BallotsExceedAuthenticated,
        Alarm::Restart,
        Alarm::RepeatedTemplate,
        Alarm::StateMismatch,
    ] {
        assert_eq!(acta.alarms[a.index()], 0, "{}", a.name());
    }
    assert_eq!(
        acta.alarms[Alarm::OutsideSchedule.index()],
        1,
        "closed before the schedule"
    );

    let (_, journal) = get(&addr, "/print/journal.log");
    let zero = acta_sheet::ZeroReport::parse(
        acta_note::open(&zero_note, &g.election.tables[0].key.parse().unwrap()).unwrap(),
    )
    .unwrap();
    acta_sheet::journal::verify(&String::from_utf8(journal).unwrap(), Some(&zero), &acta).unwrap();
    let (status, cvr) = get(&addr, "/print/cvr.json");
    assert_eq!(status, 200);
    let cvr: serde_json::Value = serde_json::from_slice(&cvr).unwrap();
    assert_eq!(cvr["CVR"].as_array().unwrap().len(), 19);
}
