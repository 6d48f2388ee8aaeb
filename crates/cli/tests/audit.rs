//! `acta audit sample` through the binary prints the reference's lines.

use std::process::Command;

#[test]
fn the_sample_prints_the_reference_lines() {
    let dir = tempfile::tempdir().unwrap();
    let ids = dir.path().join("ids.txt");
    std::fs::write(&ids, "ab-1\nab-2\ncd-1\nef-3\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["audit", "sample", "--seed", "314159", "--ids"])
        .arg(&ids)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "0.317685817 cd-1 1\n0.832984519 ef-3 1\n0.9098039269 ab-1 1\n0.9231549043 ab-2 1\n"
    );
    // A list with an id twice is refused, saying which.
    std::fs::write(&ids, "ab-1\nab-1\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["audit", "sample", "--seed", "1", "--ids"])
        .arg(&ids)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"ab-1\" is listed twice"));
}

/// An election on a live center (SQLite, loopback HTTP), its actas logged;
/// the authority's audit desk is the `acta audit` binary on the same
/// database; the boxes hold each table's true ballot records.
struct Live {
    dir: tempfile::TempDir,
    g: acta_synth::ceremony::Ceremony,
    center: acta_center::Center,
    url: String,
    db: String,
}

async fn live(tables: usize, miscount: bool) -> Live {
    let dir = tempfile::tempdir().unwrap();
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options { seed: 12, tables });
    let p = dir.path();
    std::fs::write(p.join("package.note"), &g.package).unwrap();
    std::fs::write(p.join("trust.txt"), g.trust.to_text()).unwrap();
    std::fs::write(p.join("center.key"), g.center.to_private_key() + "\n").unwrap();
    std::fs::create_dir_all(p.join("boxes")).unwrap();
    let db = format!("sqlite://{}", p.join("center.db").display());
    let center = acta_center::Center::open(acta_center::Config::new(
        &db,
        g.package.clone().into_bytes(),
        g.trust.clone(),
        g.center.clone(),
    ))
    .await
    .unwrap();
    let mut actas = Vec::new();
    for i in 0..tables {
        let d = g.day(i, 3);
        std::fs::write(
            p.join("boxes")
                .join(format!("{}.records", g.election.tables[i].id)),
            d.records.concat(),
        )
        .unwrap();
        actas.push(d.acta);
    }
    if miscount {
        let altered = acta_synth::dishonest::miscount(&g, &mut actas).unwrap();
        assert!(!altered.is_empty());
    }
    for a in &actas {
        center
            .submit(a.as_bytes(), acta_sheet::EntryKind::Acta)
            .await
            .unwrap();
    }
    center.announce().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = acta_center::router(center.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Live {
        dir,
        g,
        center,
        url,
        db,
    }
}

impl Live {
    /// The first national plurality contest.
    fn national_plurality(&self) -> String {
        self.g
            .election
            .contests
            .iter()
            .find(|c| c.scope.is_empty() && c.kind == acta_election::Kind::Plurality)
            .unwrap()
            .id
            .clone()
    }

    /// `acta audit <cmd> --package … --trust … --key … --db … <args>`.
    fn audit(&self, cmd: &str, args: &[&str]) -> (bool, String, String) {
        let p = self.dir.path();
        let o = Command::new(env!("CARGO_BIN_EXE_acta"))
            .args(["audit", cmd, "--package"])
            .arg(p.join("package.note"))
            .arg("--trust")
            .arg(p.join("trust.txt"))
            .arg("--key")
            .arg(p.join("center.key"))
            .args(["--db", &self.db])
            .args(args)
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    /// Commits, seeds and runs rounds with hand counts from the boxes until
    /// the audit ends; returns the risk steps' output.
    fn run_to_end(&self, name: &str, contest: &str) -> Vec<String> {
        self.run_method(name, contest, "batch")
    }

    fn run_method(&self, name: &str, contest: &str, method: &str) -> Vec<String> {
        let (ok, out, err) = self.audit(
            "commit",
            &["--audit", name, "--contest", contest, "--method", method],
        );
        assert!(ok, "{out}{err}");
        assert!(out.starts_with("acta-audit/v1\n"), "{out}");
        // Each audit its own dice.
        let mission = format!(
            "MISSION={:010}",
            5_571_202_468u64 + name.bytes().map(u64::from).sum::<u64>()
        );
        let (ok, _, err) = self.audit(
            "seed",
            &[
                "--audit",
                name,
                "--contribution",
                "PARTY-A=8412990137",
                "--contribution",
                &mission,
            ],
        );
        assert!(ok, "{err}");
        let mut risks = Vec::new();
        for _ in 0..5 {
            let (ok, out, err) = self.audit("round", &["--audit", name]);
            assert!(ok, "{out}{err}");
            let tables: Vec<String> = out
                .lines()
                .skip_while(|l| {
                    !l.contains("tables to count by hand") && !l.contains("receipts to read")
                })
                .skip(1)
                .map(|l| l.trim().split(':').next().unwrap().to_string())
                .collect();
            for t in &tables {
                let records = self.dir.path().join("boxes").join(format!("{t}.records"));
                let (ok, out, err) = self.audit(
                    "record",
                    &[
                        "--audit",
                        name,
                        "--table",
                        t,
                        "--records",
                        records.to_str().unwrap(),
                    ],
                );
                assert!(ok, "{t}: {out}{err}");
            }
            let (ok, out, err) = self.audit("risk", &["--audit", name]);
            assert!(ok, "{out}{err}");
            let ended = !out.contains("escalate:");
            risks.push(out);
            if ended {
                return risks;
            }
        }
        panic!("the audit did not end in 5 rounds: {risks:?}");
    }

    async fn observe(&self) -> acta_observer::verify::Report {
        acta_observer::observe(
            &acta_observer::Source::Center(acta_api::Client::new(&self.url)),
            &acta_observer::Options::new(self.g.trust.clone()),
            &|_| {},
        )
        .await
        .unwrap()
    }
}

/// The whole audit through the binary against a live log: steps out of
/// turn are refused; a clean election is confirmed in one round; the
/// observer re-derives every step over HTTP and agrees; a step the
/// authority bends with its own key is named by the observer.
#[tokio::test(flavor = "multi_thread")]
async fn a_clean_election_is_confirmed_and_the_observer_agrees() {
    let l = live(30, false).await;
    let plurality = l.national_plurality();

    // No seed, no round, before a manifest is logged.
    let (ok, _, err) = l.audit(
        "seed",
        &[
            "--audit",
            "EARLY",
            "--contribution",
            "A=1234567890",
            "--contribution",
            "B=1234567890",
        ],
    );
    assert!(!ok && err.contains("no manifest"), "{err}");
    let (ok, _, err) = l.audit("commit", &["--audit", "EARLY", "--contest", &plurality]);
    assert!(ok, "{err}");
    let (ok, _, err) = l.audit("round", &["--audit", "EARLY"]);
    assert!(!ok && err.contains("needs its seed"), "{err}");
    // One party's dice are not a public seed.
    let (ok, _, err) = l.audit(
        "seed",
        &[
            "--audit",
            "EARLY",
            "--contribution",
            "A=123456789012345678901234",
        ],
    );
    assert!(!ok && err.contains("at least 2 parties"), "{err}");
    // A second manifest under the same name is refused by the center.
    let (ok, _, err) = l.audit("commit", &["--audit", "EARLY", "--contest", &plurality]);
    assert!(!ok && err.contains("already committed"), "{err}");

    let risks = l.run_to_end("POST-1", &plurality);
    assert_eq!(
        risks.len(),
        1,
        "clean counts confirm in the first round: {risks:?}"
    );
    assert!(
        risks[0].contains("outcome confirmed at risk limit 0.05"),
        "{}",
        risks[0]
    );
    let (ok, out, _) = l.audit("status", &["--audit", "POST-1"]);
    assert!(ok && out.contains("it ended, outcome confirmed"), "{out}");
    // The seed cannot be rolled again once the audit has it.
    let (ok, _, err) = l.audit(
        "seed",
        &[
            "--audit",
            "POST-1",
            "--contribution",
            "A=1234567890",
            "--contribution",
            "B=1234567890",
        ],
    );
    assert!(!ok && err.contains("already has its seed"), "{err}");

    // The same contest by ballot polling: receipts drawn uniformly from
    // every box, read from the boxes' records at the drawn positions.
    let risks = l.run_method("POLL-1", &plurality, "polling");
    assert!(
        risks
            .last()
            .unwrap()
            .contains("outcome confirmed at risk limit 0.05"),
        "{risks:?}"
    );

    let report = l.observe().await;
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    let poll = report.audits.iter().find(|a| a.audit == "POLL-1").unwrap();
    assert_eq!(poll.method, "polling");
    assert!(poll.receipts_read > 0);
    let post = report.audits.iter().find(|a| a.audit == "POST-1").unwrap();
    assert_eq!(post.status, "outcome confirmed at risk limit 0.05");
    assert!(post.tables_counted > 0 && post.tables_counted == post.tables_drawn);
    assert!(
        report.headline.contains("audit POST-1: outcome confirmed"),
        "{}",
        report.headline
    );

    // The authority, holding the center key, logs a round of tables it
    // picked itself for the EARLY audit once seeded.
    let (ok, _, err) = l.audit(
        "seed",
        &[
            "--audit",
            "EARLY",
            "--contribution",
            "A=99999999999",
            "--contribution",
            "B=88888888888",
        ],
    );
    assert!(ok, "{err}");
    // The same dice for another manifest: refused before anything is logged.
    let (ok, _, err) = l.audit("commit", &["--audit", "AGAIN", "--contest", &plurality]);
    assert!(ok, "{err}");
    let size = l.center.size().await;
    let (ok, _, err) = l.audit(
        "seed",
        &[
            "--audit",
            "AGAIN",
            "--contribution",
            "A=99999999999",
            "--contribution",
            "B=88888888888",
        ],
    );
    assert!(!ok && err.contains("already drew from this seed"), "{err}");
    assert_eq!(l.center.size().await, size);
    let early = report.audits.iter().find(|a| a.audit == "EARLY").unwrap();
    assert_eq!(early.status, "in progress: needs its seed");
    let logged = l
        .center
        .entries_with(acta_sheet::EntryKind::Audit, None)
        .await
        .unwrap();
    let commit = logged
        .iter()
        .map(|e| {
            acta_note::Note::parse(e.note.as_bytes())
                .unwrap()
                .text
                .to_string()
        })
        .find(|t| t.contains("audit EARLY\nstep commit"))
        .unwrap();
    let picked = acta_sheet::AuditNote {
        election: l.g.election.id.clone(),
        audit: "EARLY".into(),
        step: acta_sheet::AuditStep::Round {
            commitment: acta_sheet::body_hash(&commit),
            round: 1,
            draws: vec![(plurality.clone(), 1, 3)],
            tables: vec![l.g.election.tables[0].id.clone()],
        },
    }
    .sign(&l.g.center);
    l.center.append_audit(picked.as_bytes()).await.unwrap();
    let report = l.observe().await;
    let f = report
        .findings
        .iter()
        .find(|f| f.kind == acta_observer::verify::FindingKind::Audit)
        .unwrap_or_else(|| panic!("{:#?}", report.findings));
    assert_eq!(f.place, "audit EARLY");
    assert!(f.figure.starts_with("round step"), "{}", f.figure);
    assert!(
        f.machines
            .contains("not the one the seed and the manifest give"),
        "{}",
        f.machines
    );

    // A seed for a manifest that is not in the log never reaches it.
    let orphan = acta_sheet::AuditNote {
        election: l.g.election.id.clone(),
        audit: "GHOST".into(),
        step: acta_sheet::AuditStep::Seed {
            commitment: [9; 32],
            contributions: vec![
                ("A".into(), "1234567890".into()),
                ("B".into(), "1234567890".into()),
            ],
            seed: "12345678901234567890".into(),
        },
    }
    .sign(&l.g.center);
    let size = l.center.size().await;
    let e = l.center.append_audit(orphan.as_bytes()).await.unwrap_err();
    assert!(e.to_string().contains("commit first"), "{e}");
    assert_eq!(l.center.size().await, size);
}

/// Compromised machines sign actas that make the runner-up the winner
/// while the receipts stay true: every published figure adds up and the
/// observer finds nothing, but the audit of the receipts escalates to a
/// full hand count — and the observer re-derives that too.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_outcome_escalates_to_a_full_hand_count() {
    let l = live(30, true).await;
    let plurality = l
        .g
        .election
        .contests
        .iter()
        .find(|c| c.scope.is_empty() && c.kind == acta_election::Kind::Plurality && c.seats == 1)
        .unwrap()
        .id
        .clone();
    let risks = l.run_to_end("POST-1", &plurality);
    assert!(
        risks.last().unwrap().contains("FULL HAND COUNT REQUIRED"),
        "{risks:?}"
    );
    let report = l.observe().await;
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.audits[0].status, "full hand count required");
}

struct Served(std::process::Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `acta results serve` observing the live center every second, with the
/// extra arguments given (the desk's, or none for a mirror).
fn results_site(l: &Live, dir: &std::path::Path, extra: &[&str]) -> Served {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args([
            "results",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--every",
            "1",
            "--dir",
        ])
        .arg(dir)
        .arg("--trust")
        .arg(l.dir.path().join("trust.txt"))
        .args(["--center", &l.url])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Served(child, line.trim().to_string())
}

/// An audit board records a drawn table's hand count through the form of
/// the authority's own results site, in Chromium: a wrong token changes
/// nothing; the right one logs the count step, which the site then shows
/// beside the acta. A mirror has no form.
#[tokio::test(flavor = "multi_thread")]
async fn a_board_records_a_hand_count_through_the_authoritys_site() {
    let l = live(20, false).await;
    let plurality = l.national_plurality();
    let (ok, _, err) = l.audit("commit", &["--audit", "FORM-1", "--contest", &plurality]);
    assert!(ok, "{err}");
    let (ok, _, err) = l.audit(
        "seed",
        &[
            "--audit",
            "FORM-1",
            "--contribution",
            "A=31415926535",
            "--contribution",
            "B=27182818284",
        ],
    );
    assert!(ok, "{err}");
    let (ok, out, err) = l.audit("round", &["--audit", "FORM-1"]);
    assert!(ok, "{err}");
    let table = out
        .lines()
        .skip_while(|x| !x.contains("tables to count by hand"))
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    let token = l.dir.path().join("board.token");
    std::fs::write(&token, "board-secret-0123456789\n").unwrap();
    let site_dir = l.dir.path().join("site");
    let p = l.dir.path();
    let site = results_site(
        &l,
        &site_dir,
        &[
            "--desk-db",
            &l.db,
            "--desk-package",
            p.join("package.note").to_str().unwrap(),
            "--desk-key",
            p.join("center.key").to_str().unwrap(),
            "--desk-token-file",
            token.to_str().unwrap(),
        ],
    );
    let base = site.1.clone();
    let acta = {
        let e = l.center.table_entries(&table).await.unwrap();
        let note = e.iter().find(|e| e.kind == "acta").unwrap().note.clone();
        acta_sheet::Acta::parse(acta_note::Note::parse(note.as_bytes()).unwrap().text).unwrap()
    };
    // The figures a board finds in a clean box: the acta's.
    let mut fill = format!(
        "document.getElementById('receipts').value = '{}';",
        acta.ballots
    );
    for c in &acta.contests {
        for (k, n) in &c.votes {
            fill.push_str(&format!(
                "document.querySelector('input[name=\"v|{}|{k}\"]').value = '{n}';",
                c.contest
            ));
        }
        fill.push_str(&format!(
            "document.querySelector('input[name=\"b|{0}\"]').value = '{1}';document.querySelector('input[name=\"n|{0}\"]').value = '{2}';",
            c.contest, c.blank, c.null
        ));
    }
    let shots = acta_browser::screenshots();
    let mut b = acta_browser::Browser::launch();
    b.goto(&format!("{base}/audit?lang=en"));
    let link = b.eval(&format!(
        "Array.from(document.querySelectorAll('#awaiting a')).map(a => a.getAttribute('href')).find(h => h.includes('table={table}'))"
    ));
    let link = link
        .as_str()
        .unwrap_or_else(|| panic!("{}", b.text("main")))
        .to_string();
    b.goto(&format!("{base}{link}"));
    b.eval(&fill);
    b.eval("document.getElementById('token').value = 'not-the-token-at-all'");
    b.screenshot(&shots, "audit-01-hand-count-form");
    let size = l.center.size().await;
    b.submit("document.getElementById('record').click()");
    assert!(
        b.text("#error").contains("token is not right"),
        "{}",
        b.text("main")
    );
    assert_eq!(l.center.size().await, size, "a wrong token logs nothing");
    b.eval(&fill);
    b.eval("document.getElementById('token').value = 'board-secret-0123456789'");
    b.submit("document.getElementById('record').click()");
    assert!(
        b.text("#recorded")
            .contains("Count recorded in the public log"),
        "{}",
        b.text("main")
    );
    b.screenshot(&shots, "audit-02-hand-count-recorded");
    let (ok, out, _) = l.audit("status", &["--audit", "FORM-1"]);
    assert!(ok && out.contains("counted 1"), "{out}");
    drop(site);

    // A mirror of the same log: no form.
    let mirror = results_site(&l, &l.dir.path().join("mirror"), &[]);
    let (status, body) = acta_browser::get(
        mirror.1.trim_start_matches("http://"),
        &format!("/audit/record?audit=FORM-1&table={table}"),
    );
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
}

/// The authority audits a checkpoint older than its announcement (one acta
/// short of it): the observer disputes the manifest.
#[tokio::test(flavor = "multi_thread")]
async fn an_audit_of_a_checkpoint_older_than_the_announcement_is_disputed() {
    use acta_observer::verify::Ledger;
    let l = live(12, false).await;
    let e = &l.g.election;
    let entries = l.center.entries(0, 100_000).await.unwrap();
    let announced = entries
        .iter()
        .find(|x| x.kind == "announcement")
        .unwrap()
        .index;
    let mut ledger = Ledger::new(e);
    let mut tree = acta_tlog::Tree::new();
    for x in &entries {
        tree.append(acta_tlog::leaf_hash(x.note.as_bytes()));
        ledger.apply(
            e,
            x.note.as_bytes(),
            acta_sheet::Entry::open(x.note.as_bytes(), e),
            None,
        );
    }
    let older = announced - 1;
    let population = acta_observer::verify::audit::population(e, &ledger, older);
    let cp = acta_tlog::Checkpoint {
        origin: e.log_origin.clone(),
        size: older,
        root: tree.root_at(older).unwrap(),
    };
    let contest = e.contests[0].id.clone();
    let note = acta_audit::workflow::commit(
        e,
        &population,
        cp,
        "STALE",
        acta_sheet::audit::AuditMethod::Batch,
        50_000,
        3,
        &[contest],
    )
    .unwrap()
    .sign(&l.g.center);
    l.center.append_audit(note.as_bytes()).await.unwrap();
    let report = l.observe().await;
    let f = report
        .findings
        .iter()
        .find(|f| f.kind == acta_observer::verify::FindingKind::Audit)
        .unwrap_or_else(|| panic!("{:#?}", report.findings));
    assert!(
        f.machines.contains("older than the announcement"),
        "{}",
        f.machines
    );
}

/// Two seeds for one manifest sent at once (the authority's tool run twice,
/// or a retry racing the first try): the center checks them one after the
/// other, so exactly one is logged and the other is refused; nothing the
/// observers would have to dispute reaches the log.
#[tokio::test(flavor = "multi_thread")]
async fn two_seeds_sent_at_once_log_one() {
    let l = live(40, false).await;
    let plurality =
        l.g.election
            .contests
            .iter()
            .find(|c| c.scope.is_empty() && c.kind == acta_election::Kind::Plurality)
            .unwrap()
            .id
            .clone();
    let (ok, _, err) = l.audit("commit", &["--audit", "RACE", "--contest", &plurality]);
    assert!(ok, "{err}");
    let audit_entries = || async {
        l.center
            .entries_with(acta_sheet::EntryKind::Audit, None)
            .await
            .unwrap()
            .into_iter()
            .map(|e| {
                let n = acta_note::Note::parse(e.note.as_bytes()).unwrap();
                let a = acta_sheet::AuditNote::parse(n.text).unwrap();
                (a, acta_sheet::body_hash(n.text))
            })
            .collect::<Vec<_>>()
    };
    let commitment = audit_entries()
        .await
        .into_iter()
        .find(|(a, _)| a.audit == "RACE")
        .map(|(_, h)| h)
        .unwrap();
    let seed = |digits: &str| {
        acta_sheet::AuditNote {
            election: l.g.election.id.clone(),
            audit: "RACE".into(),
            step: acta_sheet::AuditStep::Seed {
                commitment,
                contributions: vec![
                    ("A".into(), digits[..12].to_string()),
                    ("B".into(), digits[12..].to_string()),
                ],
                seed: digits.to_string(),
            },
        }
        .sign(&l.g.center)
    };
    let (a, b) = (
        seed("111111111111222222222222"),
        seed("333333333333444444444444"),
    );
    let (ra, rb) = tokio::join!(
        l.center.append_audit(a.as_bytes()),
        l.center.append_audit(b.as_bytes())
    );
    assert_eq!(
        ra.is_ok() as u8 + rb.is_ok() as u8,
        1,
        "exactly one seed is logged: {:?} / {:?}",
        ra.as_ref().err(),
        rb.as_ref().err()
    );
    let refused = ra.err().or(rb.err()).unwrap().to_string();
    assert!(refused.contains("already has its seed"), "{refused}");
    let seeds = audit_entries()
        .await
        .into_iter()
        .filter(|(a, _)| a.audit == "RACE" && matches!(a.step, acta_sheet::AuditStep::Seed { .. }))
        .count();
    assert_eq!(seeds, 1, "one seed in the log");
}
