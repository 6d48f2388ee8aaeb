//! The manipulation matrix, end to end: `acta demo --tamper <lie>` runs a
//! whole election over real loopback HTTP, the synthetic dishonest
//! authority tells its lie the way a real one would (database edits, lies
//! signed with the center key, a lying proxy), and the observer must exit 1
//! naming the right kind, place and figures — and the evidence bundle it
//! wrote must give the same verdict offline. Then paper in hand: PNG
//! photos of printed actas and stations' receipts, checked against the log.

use std::path::{Path, PathBuf};
use std::process::Command;

use acta_observer::verify::{Finding, FindingKind, PaperStatus, Report};

/// Tables per demo: enough for several municipalities and for some actas
/// to carry alarms.
const TABLES: &str = "60";

struct Demo {
    _dir: tempfile::TempDir,
    out: PathBuf,
    report: Report,
    stdout: String,
}

fn acta(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(args)
        .output()
        .unwrap()
}

/// `acta evidence verify <out>/evidence --trust <out>/trust.txt --json`:
/// its exit code and report, with no network.
fn evidence_verify(out: &Path) -> (Option<i32>, Report) {
    let v = acta(&[
        "evidence",
        "verify",
        out.join("evidence").to_str().unwrap(),
        "--trust",
        out.join("trust.txt").to_str().unwrap(),
        "--json",
    ]);
    let report: Report = serde_json::from_slice(&v.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&v.stderr)));
    (v.status.code(), report)
}

fn demo(lie: &str) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = acta(&[
        "demo",
        "--tables",
        TABLES,
        "--tamper",
        lie,
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(1),
        "--tamper {lie} must exit 1\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Report =
        serde_json::from_slice(&std::fs::read(out.join("observer-report.json")).unwrap()).unwrap();
    // The evidence bundle gives the same verdict with no network.
    let (code, offline) = evidence_verify(&out);
    assert_eq!(code, Some(1), "{}", offline.headline);
    assert_eq!(offline.findings, report.findings, "offline verdict differs");
    Demo {
        _dir: dir,
        out,
        report,
        stdout,
    }
}

/// A party witness's check, offline against the demo's evidence bundle:
/// `acta observe --bundle … --paper … --receipt …`.
fn paper_check(d: &Demo, paper: &[PathBuf], receipts: &[PathBuf]) -> (Option<i32>, Report) {
    let mut args: Vec<String> = ["observe", "--json", "--bundle"].map(String::from).to_vec();
    args.push(d.out.join("evidence").display().to_string());
    args.push("--trust".into());
    args.push(d.out.join("trust.txt").display().to_string());
    for p in paper {
        args.push("--paper".into());
        args.push(p.display().to_string());
    }
    for r in receipts {
        args.push("--receipt".into());
        args.push(r.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = acta(&args);
    let r = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code(), r)
}

fn of(r: &Report, kind: FindingKind) -> Vec<&Finding> {
    r.findings.iter().filter(|f| f.kind == kind).collect()
}

fn figures(f: &Finding) -> (i128, i128) {
    (f.center.parse().unwrap(), f.machines.parse().unwrap())
}

/// The signed actas the stations printed, by table.
fn acta_of(out: &Path, table: &str) -> acta_sheet::Acta {
    let note = std::fs::read_to_string(out.join(format!("actas/{table}.note"))).unwrap();
    acta_sheet::Acta::parse(acta_note::Note::parse(note.as_bytes()).unwrap().text).unwrap()
}

#[test]
fn inflate_turnout_headline_states_the_exact_difference() {
    let d = demo("inflate-turnout=1000000");
    assert!(
        d.stdout.contains(
            "the announcement counts 1,000,000 more voters than the 60 signed actas add up to"
        ),
        "{}",
        d.stdout
    );
    let ballots = of(&d.report, FindingKind::AnnouncementFigure)
        .into_iter()
        .find(|f| f.place == "country" && f.figure.starts_with("ballots"))
        .expect("announced ballots");
    let (c, m) = figures(ballots);
    assert_eq!(c - m, 1_000_000);
    assert_eq!(m as u64, d.report.sums.ballots);
}

#[test]
fn alter_votes_names_each_table_and_figure() {
    let d = demo("alter-votes");
    let tables: std::collections::BTreeSet<&str> = of(&d.report, FindingKind::TableFigure)
        .iter()
        .map(|f| f.place.as_str())
        .collect();
    assert_eq!(tables.len(), 3, "{:?}", d.report.findings);
    for f in of(&d.report, FindingKind::TableFigure) {
        let acta = acta_of(&d.out, &f.place);
        let (contest, choice) = f.figure.split_once(' ').unwrap();
        let signed = acta
            .contests
            .iter()
            .find(|c| c.contest == contest)
            .and_then(|c| c.votes.iter().find(|(ch, _)| ch == choice))
            .map(|(_, n)| *n as i128)
            .unwrap();
        assert_eq!(figures(f).1, signed, "the signed figure is the acta's");
        assert_ne!(figures(f).0, signed);
    }
    assert!(!of(&d.report, FindingKind::AnnouncementFigure).is_empty());
}

#[test]
fn drop_tables_lists_the_missing_tables_and_the_announced_count() {
    let d = demo("drop-tables=5");
    assert_eq!(d.report.unreported.len(), 5);
    let phantom: Vec<&str> = of(&d.report, FindingKind::PhantomTable)
        .iter()
        .map(|f| f.place.as_str())
        .collect();
    let missing: Vec<&str> = d
        .report
        .unreported
        .iter()
        .map(|u| u.table.as_str())
        .collect();
    assert_eq!(
        phantom, missing,
        "the announced tables with no acta are the unlogged ones"
    );
    let tables = of(&d.report, FindingKind::AnnouncementFigure)
        .into_iter()
        .find(|f| f.place == "country" && f.figure.starts_with("tables"))
        .unwrap();
    assert_eq!(figures(tables), (60, 55));
    assert!(
        d.report
            .headline
            .contains("5 tables are announced with no signed acta"),
        "{}",
        d.report.headline
    );
    for u in &d.report.unreported {
        assert!(
            d.stdout.contains(&u.table),
            "{} is listed for its witnesses",
            u.table
        );
    }
}

#[test]
fn phantom_table_is_named() {
    let d = demo("phantom-table");
    let p = of(&d.report, FindingKind::PhantomTable);
    assert_eq!(p.len(), 1);
    assert_eq!(d.report.unreported.len(), 1);
    assert_eq!(p[0].place, d.report.unreported[0].table);
}

#[test]
fn wrong_machine_entry_is_invalid_and_its_count_phantom() {
    let d = demo("wrong-machine");
    let bad = of(&d.report, FindingKind::InvalidLogEntry);
    assert_eq!(bad.len(), 1, "{:?}", d.report.findings);
    assert!(
        bad[0].machines.contains("signature") || bad[0].machines.contains("certified"),
        "{}",
        bad[0].machines
    );
    let p = of(&d.report, FindingKind::PhantomTable);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].place, bad[0].place);
}

#[test]
fn conflicting_acta_is_named() {
    let d = demo("conflicting-acta");
    let c = of(&d.report, FindingKind::ConflictingActas);
    assert_eq!(c.len(), 1);
    assert!(d
        .out
        .join(format!("actas/{}.second.note", c[0].place))
        .exists());
}

/// Compromised machines that sign wrong actas while printing true
/// receipts leave nothing for the observer to find — every figure the
/// center publishes is what the signed actas say — and that is exactly
/// what the audit is for: the demo's audit escalates to a full hand count,
/// and the observer (online and from the evidence bundle, offline)
/// re-derives that outcome from the log.
#[test]
fn miscount_is_consistent_in_the_log_and_caught_by_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = acta(&[
        "demo",
        "--tables",
        TABLES,
        "--tamper",
        "miscount",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("COMPROMISED MACHINES"), "{stderr}");
    assert!(stdout.contains("VERDICT: consistent"), "{stdout}");
    assert!(
        stdout.contains("a full hand count of the receipts is required"),
        "{stdout}"
    );
    let report: Report =
        serde_json::from_slice(&std::fs::read(out.join("observer-report.json")).unwrap()).unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.audits.len(), 1);
    assert_eq!(report.audits[0].status, "full hand count required");
    let (code, offline) = evidence_verify(&out);
    assert_eq!(
        code,
        Some(0),
        "offline, consistent too: {}",
        offline.headline
    );
    assert_eq!(offline.audits, report.audits, "offline, the same audit");
}

#[test]
fn swapped_package_is_refused_as_a_finding() {
    let d = demo("swap-package");
    let p = of(&d.report, FindingKind::Package);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].machines.contains("1 of the required 3"),
        "{}",
        p[0].machines
    );
}

#[test]
fn forked_log_is_caught_between_runs_and_between_observers() {
    let d = demo("fork-log");
    // The same observer, second run: the log it verified before is gone.
    assert!(
        !of(&d.report, FindingKind::ForkedLog).is_empty(),
        "{:?}",
        d.report.groups
    );
    // The witnesses never cosigned the fork.
    assert!(!of(&d.report, FindingKind::Cosignatures).is_empty());
    // A second observer, shown only the fork, given the first's checkpoint.
    let b: Report =
        serde_json::from_slice(&std::fs::read(d.out.join("observer-b-report.json")).unwrap())
            .unwrap();
    assert!(!of(&b, FindingKind::ForkedLog).is_empty(), "{:?}", b.groups);
    assert!(d.out.join("observer-state").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("refused-")));

    // The table whose acta was cut out holds a receipt: it proves the
    // center accepted the acta that its served log no longer holds.
    let cut = of(&d.report, FindingKind::PhantomTable)[0].place.clone();
    let (_, r) = paper_check(
        &d,
        &[d.out.join(format!("actas/{cut}.note"))],
        &[d.out.join(format!("receipts/{cut}.acta.tlog-proof"))],
    );
    let statuses: Vec<PaperStatus> = r.paper.iter().map(|p| p.status).collect();
    assert_eq!(
        statuses,
        vec![PaperStatus::Absent, PaperStatus::ReceiptNotHonored]
    );
    assert_eq!(of(&r, FindingKind::ReceiptNotHonored).len(), 1);
    assert_eq!(of(&r, FindingKind::AbsentFromLog)[0].place, cut);
}

#[test]
fn hidden_alarms_are_named_with_the_actas_counts() {
    let d = demo("hide-alarms");
    let h = of(&d.report, FindingKind::HiddenAlarms);
    assert!(!h.is_empty());
    for f in h {
        let acta = acta_of(&d.out, &f.place);
        let sum: u32 = acta.alarms.iter().sum();
        assert_eq!(figures(f), (0, sum as i128), "{}", f.place);
    }
}

#[test]
fn wrong_seats_in_a_signed_announcement() {
    let d = demo("wrong-seats");
    let s = of(&d.report, FindingKind::Seats);
    assert_eq!(s.len(), 1, "{:?}", d.report.findings);
    assert_eq!(s[0].place, "country");
    assert!(s[0].evidence.contains("announcement"), "{}", s[0].evidence);
    assert_ne!(s[0].center, s[0].machines);
}

#[test]
fn area_figure_on_the_results_pages() {
    let d = demo("area-figure");
    let a = of(&d.report, FindingKind::AreaFigure);
    assert!(!a.is_empty());
    assert!(a.iter().all(|f| f.place == a[0].place));
    assert_eq!(
        acta_election::Level::of(&a[0].place),
        Some(acta_election::Level::Municipality)
    );
    let ballots = a.iter().find(|f| f.figure.starts_with("ballots")).unwrap();
    let (c, m) = figures(ballots);
    assert_eq!(c - m, 50);
}

/// Paper in hand, from PNG images: a printed acta in the log, one the
/// center never logged, and an altered photo; and a receipt that proves
/// the center accepted an acta.
#[test]
fn paper_in_hand_from_printed_actas() {
    let d = demo("drop-tables=2");
    let first = d.report.findings.len();
    assert!(first > 0);
    let dropped = &d.report.unreported[0].table;
    let pngs: Vec<PathBuf> = std::fs::read_dir(d.out.join("actas"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    let in_log = pngs
        .iter()
        .find(|p| {
            !d.report
                .unreported
                .iter()
                .any(|u| p.to_string_lossy().contains(&u.table))
        })
        .unwrap();
    let table = in_log.file_stem().unwrap().to_string_lossy().into_owned();
    // An altered paper: one figure changed, the machine's signature kept.
    let note = std::fs::read_to_string(d.out.join(format!("actas/{table}.note"))).unwrap();
    let ballots = acta_of(&d.out, &table).ballots;
    let altered = note.replacen(
        &format!("\nballots {ballots}\n"),
        &format!("\nballots {}\n", ballots + 100),
        1,
    );
    assert_ne!(altered, note);
    let altered_png = d.out.join("altered.png");
    std::fs::write(
        &altered_png,
        acta_sheet::qr::acta_png(altered.as_bytes()).unwrap(),
    )
    .unwrap();
    let (code, r) = paper_check(
        &d,
        &[
            in_log.clone(),
            d.out.join(format!("actas/{dropped}.png")),
            altered_png,
        ],
        &[d.out.join(format!("receipts/{table}.acta.tlog-proof"))],
    );
    assert_eq!(code, Some(1));
    let got: Vec<(PaperStatus, &str)> = r
        .paper
        .iter()
        .map(|p| (p.status, p.table.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (PaperStatus::InLog, table.as_str()),
            (PaperStatus::Absent, dropped.as_str()),
            (PaperStatus::NotAuthentic, ""),
            (PaperStatus::ReceiptHonored, table.as_str()),
        ]
    );
    let absent = of(&r, FindingKind::AbsentFromLog);
    assert_eq!(absent.len(), 1);
    assert_eq!(&absent[0].place, dropped);
}

/// The clean election: exit 0, its bundle verifies offline with exit 0, its
/// HTML report opens with the headline. Then the bundle is attacked: a
/// report edited to say "consistent" about a lie, or an entry of the log
/// altered, is refused.
#[test]
fn clean_bundle_verifies_and_an_edited_bundle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = acta(&["demo", "--tables", "30", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = out.join("evidence");
    let trust = out.join("trust.txt");
    let verify = |bundle: &Path, trust: &Path| {
        acta(&[
            "evidence",
            "verify",
            bundle.to_str().unwrap(),
            "--trust",
            trust.to_str().unwrap(),
        ])
    };
    let v = verify(&bundle, &trust);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let html = std::fs::read_to_string(out.join("observer-report.html")).unwrap();
    assert!(
        html.contains("Consistent") && html.contains("30 signed actas"),
        "{html}"
    );

    // A lie told about the bundle's own report is caught by re-verifying it.
    let lie = demo("inflate-turnout=10");
    let bundle = lie.out.join("evidence");
    // Under a trust file other than the election's (here: another demo's
    // keys), the bundle's own package is not accepted, whatever the
    // bundle's trust.txt says.
    let v = verify(&bundle, &trust);
    assert_eq!(
        v.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let trust = lie.out.join("trust.txt");
    let report = bundle.join("report.json");
    let mut r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    r["verdict"] = "consistent".into();
    r["findings"] = serde_json::json!([]);
    std::fs::write(&report, serde_json::to_vec(&r).unwrap()).unwrap();
    let v = verify(&bundle, &trust);
    assert_eq!(v.status.code(), Some(2), "an edited report is refused");
    assert!(String::from_utf8_lossy(&v.stderr).contains("DIFFERS"));

    // An entry bundle altered by one byte no longer matches the signed root.
    let tile = bundle.join("log/tile/entries/000.p");
    let tile = std::fs::read_dir(&tile)
        .map(|mut d| d.next().unwrap().unwrap().path())
        .unwrap_or_else(|_| bundle.join("log/tile/entries/000"));
    let mut bytes = std::fs::read(&tile).unwrap();
    let k = bytes.len() / 2;
    bytes[k] ^= 0x20;
    std::fs::write(&tile, bytes).unwrap();
    let v = verify(&bundle, &trust);
    assert_ne!(v.status.code(), Some(0));
    assert_ne!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
}

/// A center (or mirror) that stops publishing its per-table figures gets
/// no verdict of consistency: the observer says what it could not check
/// and exits 2.
#[test]
fn unpublished_figures_are_no_consistent_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = acta(&["demo", "--tables", "20", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = out.join("evidence");
    std::fs::remove_file(bundle.join("api/results/tables.json")).unwrap();
    let o = acta(&[
        "observe",
        "--json",
        "--bundle",
        bundle.to_str().unwrap(),
        "--trust",
        out.join("trust.txt").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let r: Report = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r.verdict, acta_observer::verify::Verdict::Incomplete);
    assert!(
        r.unchecked
            .iter()
            .any(|u| u.contains("/api/results/tables")),
        "{:?}",
        r.unchecked
    );
    assert!(
        r.headline
            .starts_with("no discrepancy in what could be checked"),
        "{}",
        r.headline
    );
}

/// A lying page edited into a clean bundle, as a center (or a proxy)
/// would serve it: figures dated beyond every checkpoint the center signed,
/// or a table listed twice (once honestly, once with invented figures
/// beyond the log), must not pass as consistent.
#[test]
fn figures_dated_beyond_the_log_and_repeated_tables_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = acta(&["demo", "--tables", "20", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = out.join("evidence");
    let observe = || {
        let o = acta(&[
            "observe",
            "--json",
            "--bundle",
            bundle.to_str().unwrap(),
            "--trust",
            out.join("trust.txt").to_str().unwrap(),
        ]);
        let r: Report = serde_json::from_slice(&o.stdout).unwrap();
        (o.status.code(), r)
    };
    assert_eq!(observe().0, Some(0), "the clean bundle first");

    // Every area's totals claimed at a size no checkpoint reaches.
    let areas = bundle.join("api/results/areas.json");
    let honest = std::fs::read(&areas).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&honest).unwrap();
    for t in v.as_array_mut().unwrap() {
        t["size"] = 1_000_000.into();
        t["ballots"] = (t["ballots"].as_u64().unwrap() + 500).into();
    }
    std::fs::write(&areas, serde_json::to_vec(&v).unwrap()).unwrap();
    let (code, r) = observe();
    assert_eq!(code, Some(1), "{}", r.headline);
    assert!(
        r.findings
            .iter()
            .any(|f| f.figure == "log size of the published results"),
        "{:?}",
        r.findings
    );
    std::fs::write(&areas, honest).unwrap();

    // One table listed twice: the second row with figures beyond the log.
    let tables = bundle.join("api/results/tables.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&tables).unwrap()).unwrap();
    let mut twin = v[0].clone();
    twin["index"] = 999_999.into();
    twin["ballots"] = (twin["ballots"].as_u64().unwrap() + 500).into();
    let first = twin["table"].as_str().unwrap().to_string();
    v.as_array_mut().unwrap().push(twin);
    std::fs::write(&tables, serde_json::to_vec(&v).unwrap()).unwrap();
    let (code, r) = observe();
    assert_eq!(code, Some(1), "{}", r.headline);
    assert!(
        r.findings
            .iter()
            .any(|f| f.place == first && f.center == "lists the table more than once"),
        "{:?}",
        r.findings
    );
}
