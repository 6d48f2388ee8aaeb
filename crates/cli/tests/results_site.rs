//! The results site over demo elections, in a real headless Chromium: the
//! national page down through every level to one table, its acta and
//! proof; a conflict shown as such; an announcement that does not match
//! the log shown as not matching; the paper check with a matching and an
//! altered image of a printed acta. Screenshots go to
//! `target/screenshots/results-*.png`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use acta_browser::{near, screenshots, Browser};

fn demo(out: &Path, extra: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["demo", "--tables", "24", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["results", "serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .arg("--trust")
        .arg(dir.join("trust.txt"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Served(child, line.trim().to_string())
}

#[test]
fn from_the_country_down_to_one_table_and_its_paper() {
    let work = tempfile::tempdir().unwrap();
    let shots = screenshots();
    let dir = work.path().join("conflict");
    demo(&dir, &["--tamper", "conflicting-acta"]);
    let site = serve(&dir);
    let base = &site.1;
    let mut b = Browser::launch();

    b.goto(&format!("{base}/?lang=en"));
    assert!(
        b.text("#reported").contains("24 of 24 tables reported"),
        "{}",
        b.text("#reported")
    );
    assert!(b.text("#conflicts").contains("Conflicting actas: 1"));
    let national = b.screenshot(&shots, "results-01-national");
    assert!(near(&national, [0x22, 0xaa, 0x66]) > 200, "the bars show");
    // Every table reported: the national contests (president, referendum)
    // have their winners on the national page; the state's on its page.
    let winners = b.eval("document.querySelectorAll('.winner').length");
    assert_eq!(winners, 2, "the president and the referendum");
    assert_eq!(b.eval("document.querySelectorAll('.leading').length"), 0);
    // Down each level by its first link until a table.
    let mut level = 2;
    loop {
        let next = b.eval("(document.querySelector('#below a') || {}).getAttribute ? document.querySelector('#below a').getAttribute('href') : ''");
        let href = next.as_str().unwrap().to_string();
        assert!(!href.is_empty(), "a link to the level below");
        b.goto(&format!("{base}{href}"));
        b.screenshot(&shots, &format!("results-{level:02}-level"));
        level += 1;
        if href.starts_with("/table/") {
            break;
        }
        assert!(level < 10, "the drill-down ends at a table");
    }
    assert!(
        b.text("#status").contains("Counted"),
        "{}",
        b.text("#status")
    );
    assert!(
        b.text("#proof").contains("Included in the log ✔"),
        "{}",
        b.text("#proof")
    );
    assert!(b.text("#acta-text").starts_with("acta/v1"));
    let loaded = b.eval("document.getElementById('printed').naturalWidth");
    assert_eq!(loaded, 576, "the printed acta image loads, 80 mm wide");
    b.screenshot(&shots, "results-08-table");

    // The conflicting table.
    b.goto(&format!("{base}/?lang=en"));
    let conflict = b.eval("document.querySelector('#conflicts a').getAttribute('href')");
    b.goto(&format!("{base}{}", conflict.as_str().unwrap()));
    assert!(b.text("#conflict").contains("Conflicting actas"));
    b.screenshot(&shots, "results-09-conflict");

    // The paper check: the printed acta of a table, then an altered one.
    let table = conflict
        .as_str()
        .unwrap()
        .trim_start_matches("/table/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, png) = acta_browser::get(
        base.trim_start_matches("http://"),
        &format!("/table/{table}/acta.png"),
    );
    let good = work.path().join("good.png");
    std::fs::write(&good, &png).unwrap();
    b.goto(&format!("{base}/check?lang=en"));
    b.upload("input[name=photo]", &good);
    b.submit("document.getElementById('verify').click()");
    assert!(
        b.text("#verdict").contains("in the log, unaltered"),
        "{}",
        b.text("#verdict")
    );
    b.screenshot(&shots, "results-10-paper-ok");
    // Altered: the acta text with one figure changed, printed as it would be.
    let (_, note) = acta_browser::get(
        base.trim_start_matches("http://"),
        &format!("/table/{table}/acta.note"),
    );
    let note = String::from_utf8(note).unwrap();
    let at = note.find("\nballots ").unwrap() + "\nballots ".len();
    let mut altered = note.clone().into_bytes();
    altered[at] = if altered[at] == b'9' {
        b'8'
    } else {
        altered[at] + 1
    };
    // Printed as a forger would print it (the layout parses, it does not
    // check signatures).
    let forged = acta_paper::acta(&altered, None, acta_paper::Width::Mm80).unwrap();
    let bad = work.path().join("altered.png");
    std::fs::write(&bad, forged.png).unwrap();
    b.goto(&format!("{base}/check?lang=en"));
    b.upload("input[name=photo]", &bad);
    b.submit("document.getElementById('verify').click()");
    assert!(
        b.text("#verdict").contains("NOT authentic"),
        "{}",
        b.text("#verdict")
    );
    b.screenshot(&shots, "results-11-paper-altered");

    // The demo's audit, re-derived by the site from the log: its status,
    // and a hand-counted table's receipts beside its acta. The table whose
    // machine signed two actas is audited as missing, against every winner:
    // in 24 tables that is more than the referendum's margin, so no sample
    // can confirm it.
    b.goto(&format!("{base}/audit?lang=en"));
    assert!(
        b.text(".audit-status").contains("full hand count required"),
        "{}",
        b.text("main")
    );
    b.screenshot(&shots, "results-12-audit");
    let counted =
        b.eval("document.querySelector('main p a[href^=\"/table/\"]').getAttribute('href')");
    b.goto(&format!("{base}{}", counted.as_str().unwrap()));
    assert!(
        b.text("#hand-count").contains("Hand count of the receipts"),
        "{}",
        b.text("main")
    );
    assert_eq!(
        b.eval("document.querySelectorAll('table.hand tr.bad').length"),
        0,
        "a clean box matches its acta"
    );
    b.screenshot(&shots, "results-13-hand-count");
    drop(site);

    // An announcement above the actas' sum.
    let dir = work.path().join("inflated");
    demo(&dir, &["--tamper", "inflate-turnout=1000"]);
    let site = serve(&dir);
    b.goto(&format!("{}/log?lang=en", site.1));
    let bad = b.eval("document.querySelectorAll('.announcement.bad').length");
    assert_eq!(bad, 1, "the lying announcement is marked");
    assert!(b.text(".announcement.bad").contains("does NOT match"));
    assert!(
        b.text("#cosigners").contains("party"),
        "{}",
        b.text("#cosigners")
    );
    b.screenshot(&shots, "results-12-announcement");
    // Spanish, on a phone: nothing wider than the screen.
    b.phone();
    b.goto(&format!("{}/?lang=es", site.1));
    assert!(b.text("#reported").contains("mesas escrutadas"));
    let wide = b.eval("document.documentElement.scrollWidth");
    assert!(
        wide.as_u64().unwrap() <= 390,
        "the page fits a phone: {wide}px"
    );
    b.screenshot(&shots, "results-13-phone");
}
