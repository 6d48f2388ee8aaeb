//! The forensic screens end to end: `acta demo --tamper stuff-ballots`
//! (one machine in ten casts ballots at closing for the voters who did not
//! come, journals them and signs the acta), then `acta forensics` over the
//! observer's mirror and the published journals — the stuffed tables and
//! only they are named — its charts drawn in a real headless Chromium and
//! read back as pixels, the results site's /forensics page, and a journal
//! altered after the fact refused as not matching its acta.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use acta_browser::{near, screenshots, Browser};
use serde_json::Value;

const TABLES: usize = 120;

fn acta(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(args)
        .output()
        .unwrap()
}

fn forensics(out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "forensics",
        "--json",
        "--replicates",
        "200",
        "--dir",
        out.to_str().unwrap(),
        "--trust",
    ];
    let trust = out.join("trust.txt");
    args.push(trust.to_str().unwrap());
    let journals = out.join("journals");
    args.extend(["--journals", journals.to_str().unwrap()]);
    args.extend(extra);
    let o = acta(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn flagged(r: &Value, screen: &str) -> Vec<String> {
    let mut v: Vec<String> = r["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["screen"] == screen)
        .map(|f| f["table"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn stuffed_tables_are_named_drawn_and_served() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("stuffed");
    let o = acta(&[
        "demo",
        "--tables",
        &TABLES.to_string(),
        "--tamper",
        "stuff-ballots",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The log is consistent — every acta is authentic and adds up — and the
    // demo's own screens point at the closing-hour bursts.
    assert!(stdout.contains("VERDICT: consistent"), "{stdout}");
    assert!(
        stdout.contains("forensic screens: ")
            && stdout.contains("FLAG  Ballots in the closing hour"),
        "{stdout}"
    );
    assert!(out.join("forensics.html").exists());
    let observer = std::fs::read_to_string(out.join("observer-report.html")).unwrap();
    assert!(
        observer.contains("<h2>Forensic screens</h2>") && observer.matches("<svg").count() == 5,
        "the observer's report ends with the screens and their charts"
    );

    // Which tables the compromised machines stuffed: every tenth, from the
    // fourth, in package order (the actas directory lists them in it).
    let mut ids: Vec<String> = std::fs::read_dir(out.join("actas"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".note").map(String::from)
        })
        .collect();
    ids.sort();
    assert_eq!(ids.len(), TABLES);
    let stuffed: Vec<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 == 3)
        .map(|(_, t)| t.clone())
        .collect();

    let svg = work.path().join("svg");
    let html = work.path().join("forensics.html");
    let r = forensics(
        &out,
        &[
            "--svg",
            svg.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert_eq!(r["contest"], "PRES");
    assert!(r["headline"]
        .as_str()
        .unwrap()
        .ends_with("A flag points to tables to inspect; it never proves fraud."));
    assert_eq!(
        flagged(&r, "closing-burst"),
        stuffed,
        "exactly the stuffed tables"
    );
    for screen in ["impossible", "held", "journal", "overrides"] {
        assert!(
            flagged(&r, screen).is_empty(),
            "{screen}: {:?}",
            flagged(&r, screen)
        );
    }
    // The fingerprint ranks the stuffed tables first.
    let top: Vec<String> = r["fingerprint"]["top"]
        .as_array()
        .unwrap()
        .iter()
        .take(stuffed.len())
        .map(|t| t["table"].as_str().unwrap().to_string())
        .collect();
    let first = top.iter().filter(|t| stuffed.contains(t)).count();
    assert!(
        first * 10 >= stuffed.len() * 9,
        "{first} of the first {} ranked are stuffed",
        stuffed.len()
    );

    // The charts, as files and drawn: the fingerprint has a cell under a
    // stuffed table and under the fair cluster; the digit charts their
    // null bands; the hourly chart the flagged tables' lines.
    let names: Vec<String> = std::fs::read_dir(&svg)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    for n in [
        "fingerprint.svg",
        "turnout.svg",
        "last-digit.svg",
        "second-digit.svg",
        "hourly.svg",
    ] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    let shots = screenshots();
    let mut b = Browser::launch();
    b.goto(&format!("file://{}", svg.join("fingerprint.svg").display()));
    let img = b.screenshot(&shots, "forensics-01-fingerprint");
    let white = |x: f64, y: f64| {
        let p = img.get_pixel(x.round() as u32, y.round() as u32).0;
        p.iter().all(|&c| c > 245)
    };
    let (x0, y0, side) = (50.0, 24.0, 300.0);
    let cell = side / 50.0;
    let at = |turnout: f64, share: f64| {
        (
            x0 + ((turnout * 50.0).floor().min(49.0) + 0.5) * cell,
            y0 + side - ((share * 50.0).floor().min(49.0) + 0.5) * cell,
        )
    };
    let lead = &r["fingerprint"]["top"][0];
    let (x, y) = at(
        lead["turnout"].as_f64().unwrap(),
        lead["share"].as_f64().unwrap(),
    );
    assert!(
        !white(x, y),
        "the top-ranked stuffed table's cell is drawn at ({x}, {y})"
    );
    let b0 = &r["fingerprint"]["fit"]["baseline"];
    let (x, y) = at(
        b0["turnout"].as_f64().unwrap(),
        b0["share"].as_f64().unwrap(),
    );
    assert!(
        (-6..=6).any(|d| !white(x + f64::from(d), y)),
        "the fair cluster is drawn around ({x}, {y})"
    );
    assert!(
        white(x0 + 3.0, y0 + 3.0),
        "nobody at 0 % turnout, 100 % share"
    );
    b.goto(&format!("file://{}", html.display()));
    let page = b.screenshot(&shots, "forensics-02-report");
    assert!(
        near(&page, acta_forensics::chart::BLUE) > 2_000,
        "bars and cells"
    );
    assert!(
        near(&page, acta_forensics::chart::ORANGE) > 300,
        "bands and flagged days"
    );
    assert_eq!(b.eval("document.querySelectorAll('svg').length"), 5);
    assert_eq!(
        b.eval("document.querySelectorAll('table.flags tbody tr').length"),
        stuffed.len()
    );

    // The results site serves the same screens, each flagged table linked.
    let mut child = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["results", "serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(&out)
        .arg("--trust")
        .arg(out.join("trust.txt"))
        .arg("--journals")
        .arg(out.join("journals"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let site = Served(child, line.trim().to_string());
    // The screens run off the request path: the first visit says they are
    // being computed; the page is there once they are.
    b.goto(&format!("{}/forensics?lang=en", site.1));
    for _ in 0..240 {
        if b.eval("!!document.querySelector('.headline')") == Value::Bool(true) {
            break;
        }
        assert_eq!(
            b.eval("!!document.getElementById('computing')"),
            Value::Bool(true)
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
        b.goto(&format!("{}/forensics?lang=en", site.1));
    }
    let shot = b.screenshot(&shots, "forensics-03-results-site");
    assert!(near(&shot, acta_forensics::chart::BLUE) > 2_000);
    assert!(
        b.text(".headline").contains("1 of 10 screens flag PRES"),
        "{}",
        b.text(".headline")
    );
    let href = b.eval("document.querySelector('table.flags a').getAttribute('href')");
    let href = href.as_str().unwrap().to_string();
    assert!(
        stuffed
            .iter()
            .any(|t| href == format!("/table/{t}?lang=en")),
        "{href}"
    );
    b.goto(&format!("{}{href}", site.1));
    assert!(b.text("#status").contains("Counted"));

    // A journal altered after the fact (one ballot line less) no longer
    // closes on its signed acta: it is named and not read.
    let victim = &stuffed[0];
    let path = out.join("journals").join(format!("{victim}.log"));
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.find(" ballot\n").unwrap();
    let start = text[..cut].rfind('\n').unwrap() + 1;
    let mut altered = text.clone();
    altered.replace_range(start..cut + " ballot\n".len(), "");
    std::fs::write(&path, altered).unwrap();
    let r = forensics(&out, &[]);
    assert_eq!(flagged(&r, "journal"), vec![victim.clone()]);
    assert!(!flagged(&r, "closing-burst").contains(victim));
}
