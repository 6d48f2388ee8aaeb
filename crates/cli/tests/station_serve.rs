//! `acta station serve` as a process: a scripted table votes through the
//! screens' HTTP forms while the process is killed with SIGKILL at random
//! instants. On every restart no confirmed ballot is lost, none is counted
//! twice, the restart alarm is journaled, and voting goes on; at the end the
//! signed acta holds exactly one ballot per voter, its journal verifies, and
//! each kill is one restart alarm on it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use acta_election::time;
use acta_sheet::{Acta, Alarm};
use acta_station::{Mark, Station};
use acta_synth::ceremony::{run as generate, Ceremony};
use acta_synth::generate::Options;

/// One HTTP/1.0 request over a fresh loopback connection; `None` when the
/// station is not there (killed) or the answer was cut.
fn http(addr: &str, method: &str, path: &str, form: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Starts `acta station serve`; returns the process and the addresses of
/// its poll-worker and voter screens.
fn spawn(dir: &std::path::Path, clock: u64) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["station", "serve", "--listen", "127.0.0.1:0"])
        .args(["--voter-listen", "127.0.0.1:0", "--speed", "100", "--dir"])
        .arg(dir)
        .arg("--clock")
        .arg(time::format(clock))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, voter) = addresses(&mut child);
    (child, addr, voter)
}

/// The two addresses `acta station serve` prints first.
fn addresses(child: &mut Child) -> (String, String) {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut read = || {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let addr = line.trim().trim_start_matches("http://").to_string();
        assert!(!addr.is_empty(), "the station printed its addresses");
        addr
    };
    let poll_worker = read();
    (poll_worker, read())
}

fn waiting(addr: &str) -> Option<bool> {
    let (_, body) = http(addr, "GET", "/status.json", "")?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    v["waiting"].as_bool()
}

fn token(page: &str) -> Option<String> {
    let at = page.find("name=\"token\" value=\"")? + "name=\"token\" value=\"".len();
    Some(page[at..at + 32].to_string())
}

struct Table {
    g: Ceremony,
    dir: tempfile::TempDir,
    child: Child,
    addr: String,
    voter: String,
    clock: u64,
    started: Instant,
    kills: u32,
}

impl Table {
    /// The machine time the next process starts at: after everything the
    /// killed one could have journaled (it runs 100× real time).
    fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.clock += (self.started.elapsed().as_secs() + 2) * 100;
        let (child, addr, voter) = spawn(self.dir.path(), self.clock);
        self.child = child;
        self.addr = addr;
        self.voter = voter;
        self.started = Instant::now();
    }

    /// Kills the process after a random delay, from another thread.
    fn kill_soon(&mut self, delay_ms: u64) -> std::thread::JoinHandle<()> {
        let pid = self.child.id();
        self.kills += 1;
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay_ms));
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        })
    }
}

#[test]
fn kill_9_at_random_points_loses_no_ballot_and_counts_none_twice() {
    let g = generate(&Options {
        seed: 17,
        tables: 2,
    });
    let (roll, _) = g.roll(0);
    let dir = tempfile::tempdir().unwrap();
    Station::create(
        dir.path(),
        g.package.as_bytes(),
        &g.trust.to_text(),
        &roll,
        &g.machines[0],
        &g.election.tables[0].id,
    )
    .unwrap()
    .stop()
    .unwrap();
    let opens = time::parse(&g.election.opens).unwrap();
    let (child, addr, voter) = spawn(dir.path(), opens + 60);
    let mut t = Table {
        g,
        dir,
        child,
        addr,
        voter,
        clock: opens + 60,
        started: Instant::now(),
        kills: 0,
    };
    let (status, _) = http(&t.addr, "POST", "/open", "").unwrap();
    assert_eq!(status, 303);

    // What each voter marks, and the record the station must hold for it.
    let reference = Station::provision(
        &t.g.election,
        &t.g.election.tables[0].id,
        roll.clone(),
        t.g.machines[0].clone(),
    )
    .unwrap();
    let voters = &roll.voters[..24];
    let marks_of = |i: usize| -> Vec<Mark> {
        reference
            .ballot()
            .iter()
            .map(|c| {
                let ch = c.choices();
                Mark::Choices(vec![ch[i % ch.len()].clone()])
            })
            .collect()
    };
    let form_of = |i: usize, tok: &str| -> String {
        let mut f = format!("token={tok}");
        for (c, m) in reference.ballot().iter().zip(marks_of(i)) {
            if let Mark::Choices(v) = m {
                f.push_str(&format!("&{}={}", enc(&format!("c:{}", c.id)), enc(&v[0])));
            }
        }
        f
    };

    // A pseudo-random schedule of kills (fixed seed: the run is repeatable).
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut confirmed = 0usize;
    for (i, v) in voters.iter().enumerate() {
        let killer = (next() % 3 == 0).then(|| {
            let delay = next() % 40;
            t.kill_soon(delay)
        });
        // Authenticate until the station says this voter is waiting.
        let mut tries = 0;
        loop {
            match waiting(&t.addr) {
                Some(true) => break,
                Some(false) => {
                    tries += 1;
                    assert!(tries < 10, "voter {} is never let through", v.id);
                    let form = format!("voter={}&reading={}", enc(&v.id), hex::encode(v.template));
                    let _ = http(&t.addr, "POST", "/authenticate", &form);
                }
                None => {
                    if let Some(k) = &killer {
                        while !k.is_finished() {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                    t.restart();
                }
            }
        }
        // Vote until the station no longer has a voter waiting.
        loop {
            let Some((_, page)) = http(&t.voter, "GET", "/vote", "") else {
                t.restart();
                continue;
            };
            let Some(tok) = token(&page) else {
                assert_eq!(waiting(&t.addr), Some(false));
                break; // the ballot was recorded before a restart
            };
            match http(&t.voter, "POST", "/vote/confirm", &form_of(i, &tok)) {
                Some((200, body)) if body.contains("id=\"recorded\"") => {
                    confirmed += 1;
                    break;
                }
                Some((s, body)) => panic!("confirm answered {s}: {body}"),
                None => match waiting(&t.addr) {
                    Some(false) => break, // recorded, the answer was cut
                    _ => t.restart(),
                },
            }
        }
        if let Some(k) = killer {
            k.join().unwrap();
            // The kill may have landed after the voter was done: restart now
            // if the process is gone.
            if waiting(&t.addr).is_none() {
                t.restart();
            }
        }
    }
    let (status, _) = http(&t.addr, "POST", "/close", "").unwrap();
    assert_eq!(status, 303);
    let (_, acta) = http(&t.addr, "GET", "/print/acta.note", "").unwrap();
    let (_, journal) = http(&t.addr, "GET", "/print/journal.log", "").unwrap();
    let _ = t.child.kill();
    let _ = t.child.wait();

    let acta = Acta::open(acta.as_bytes(), &t.g.election).unwrap().acta;
    assert_eq!(acta.ballots as usize, voters.len(), "one ballot per voter");
    assert_eq!(acta.authenticated as usize, voters.len());
    // The counts are exactly those of the voters' marks, each once.
    let mut expected = Station::provision(
        &t.g.election,
        &t.g.election.tables[0].id,
        roll.clone(),
        t.g.machines[0].clone(),
    )
    .unwrap();
    expected.open(opens).unwrap();
    for (i, v) in voters.iter().enumerate() {
        let at = opens + 60 * (i as u64 + 1);
        expected.authenticate(at, &v.id, v.template, None).unwrap();
        expected.cast(at + 30, &marks_of(i)).unwrap();
    }
    assert_eq!(
        acta.contests,
        expected.acta().contests,
        "nothing lost, nothing twice"
    );
    assert_eq!(acta.records, expected.records_root());
    let restarts = acta.alarms[Alarm::Restart.index()];
    assert!(t.kills >= 3, "the schedule kills the station several times");
    eprintln!(
        "{} kills, {confirmed} ballots confirmed on screen, {} voters",
        t.kills,
        voters.len()
    );
    assert_eq!(restarts, t.kills, "one restart alarm per kill");
    assert!(confirmed + restarts as usize >= voters.len());
    acta_sheet::journal::verify(&journal, None, &acta).unwrap();
    assert_eq!(
        journal.matches("alarm restart").count() as u32,
        restarts,
        "each restart is journaled"
    );
}

/// A TCP proxy in front of the center that misbehaves like a bad network:
/// of every four connections it drops one at once and holds one for a
/// second and a half before passing it on.
fn faulty_proxy(upstream: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for (n, down) in listener.incoming().enumerate() {
            let Ok(down) = down else { continue };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                match n % 4 {
                    0 => return drop(down),
                    1 => std::thread::sleep(Duration::from_millis(1500)),
                    _ => {}
                }
                let Ok(up) = TcpStream::connect(&upstream) else {
                    return;
                };
                let (mut d2, mut u2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
                let (mut d, mut u) = (down, up);
                let t = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut d2, &mut u2);
                    let _ = u2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut u, &mut d);
                let _ = d.shutdown(std::net::Shutdown::Both);
                let _ = t.join();
            });
        }
    });
    addr
}

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn center(dir: &std::path::Path, addr: &str) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["center", "serve", "--listen", addr, "--package"])
        .arg(dir.join("package.note"))
        .arg("--trust")
        .arg(dir.join("trust.txt"))
        .arg("--key")
        .arg(dir.join("center.key"))
        .arg("--db")
        .arg(format!("sqlite://{}", dir.join("center.db").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(addr, "GET", "/log/checkpoint", "").is_none_or(|(s, _)| s != 200) {
        assert!(Instant::now() < deadline, "the center never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn log_size(addr: &str) -> u64 {
    let (_, body) = http(addr, "GET", "/log/checkpoint", "").unwrap();
    body.lines().nth(1).unwrap().parse().unwrap()
}

fn wait_journal(dir: &std::path::Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let j = std::fs::read_to_string(dir.join("journal.log")).unwrap();
        if j.contains(what) {
            return j;
        }
        assert!(
            Instant::now() < deadline,
            "the journal never showed {what:?}:\n{j}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The outbox sends through dropped and delayed connections and a center
/// killed and restarted; the acta arrives exactly once, the receipt it
/// keeps verifies offline, and a witness relaying the printed acta later
/// changes nothing.
#[test]
fn the_acta_reaches_the_center_exactly_once_through_a_bad_night() {
    let g = generate(&Options {
        seed: 19,
        tables: 2,
    });
    let (roll, _) = g.roll(0);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(w.join("package.note"), &g.package).unwrap();
    std::fs::write(w.join("trust.txt"), g.trust.to_text()).unwrap();
    std::fs::write(w.join("center.key"), g.center.to_private_key()).unwrap();
    let center_addr = free_port();
    let mut c = center(w, &center_addr);
    let proxy = faulty_proxy(center_addr.clone());

    let dir = w.join("station");
    Station::create(
        &dir,
        g.package.as_bytes(),
        &g.trust.to_text(),
        &roll,
        &g.machines[0],
        &g.election.tables[0].id,
    )
    .unwrap()
    .stop()
    .unwrap();
    let opens = time::parse(&g.election.opens).unwrap();
    let mut station = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args([
            "station",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--speed",
            "100",
        ])
        .args(["--voter-listen", "127.0.0.1:0"])
        .arg("--dir")
        .arg(&dir)
        .arg("--clock")
        .arg(time::format(opens + 60))
        .arg("--center")
        .arg(format!("http://{proxy}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, voter) = addresses(&mut station);

    assert_eq!(http(&addr, "POST", "/open", "").unwrap().0, 303);
    wait_journal(&dir, "transmit zero logged");

    // The center goes down hard while the table votes and closes.
    c.kill().unwrap();
    c.wait().unwrap();
    for v in &roll.voters[..3] {
        let form = format!("voter={}&reading={}", enc(&v.id), hex::encode(v.template));
        assert_eq!(http(&addr, "POST", "/authenticate", &form).unwrap().0, 303);
        let (_, page) = http(&voter, "GET", "/vote", "").unwrap();
        let tok = token(&page).unwrap();
        let (s, _) = http(&voter, "POST", "/vote/confirm", &format!("token={tok}")).unwrap();
        assert_eq!(s, 200);
    }
    assert_eq!(http(&addr, "POST", "/close", "").unwrap().0, 303);
    wait_journal(&dir, "transmit acta failed");
    let (_, screen) = http(&addr, "GET", "/?lang=en", "").unwrap();
    assert!(
        screen.contains("Tally sheet (acta): failed"),
        "the poll worker sees it"
    );

    // Back up, on the same database: the outbox gets through.
    let mut c = center(w, &center_addr);
    let journal = wait_journal(&dir, "transmit acta logged");
    let _ = station.kill();
    let _ = station.wait();

    let acta = std::fs::read(dir.join("acta.note")).unwrap();
    let opened = Acta::open(&acta, &g.election).unwrap().acta;
    assert_eq!(
        log_size(&center_addr),
        2,
        "the zero report and the acta, once each"
    );
    let receipt = std::fs::read_to_string(dir.join("acta.tlog-proof")).unwrap();
    let key: acta_note::Verifier = g.election.center_key.parse().unwrap();
    acta_tlog::TlogProof::parse(&receipt)
        .unwrap()
        .verify(&acta, &key, &g.election.log_origin, &[], 0)
        .expect("the kept receipt proves the acta is in the log");
    assert!(journal.matches("transmit acta attempt").count() >= 2);
    acta_sheet::journal::verify(&journal, None, &opened).unwrap();

    // A witness relays the printed acta from its image: verified, submitted,
    // and the center already has it.
    let png = {
        let station = Station::inspect(&dir).unwrap();
        let a = station.signed_acta().unwrap();
        acta_paper::acta(a.as_bytes(), None, acta_paper::Width::Mm58)
            .unwrap()
            .png
    };
    std::fs::write(w.join("acta.png"), png).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["verify-acta", "--package"])
        .arg(w.join("package.note"))
        .arg("--trust")
        .arg(w.join("trust.txt"))
        .arg("--center")
        .arg(format!("http://{center_addr}"))
        .arg(w.join("acta.png"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("already had this acta, at log index 1"),
        "{out}"
    );
    assert_eq!(log_size(&center_addr), 2);
    // An observer holding the same printout finds it in the log, unaltered.
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["observe", "--center"])
        .arg(format!("http://{center_addr}"))
        .arg("--trust")
        .arg(w.join("trust.txt"))
        .arg("--paper")
        .arg(w.join("acta.png"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.contains("acta.png"))
        .unwrap_or_else(|| panic!("{out}{}", String::from_utf8_lossy(&o.stderr)));
    assert!(line.trim_start().starts_with("ok"), "{line}");
    assert!(line.contains(&g.election.tables[0].id), "{line}");
    let _ = c.kill();
    let _ = c.wait();

    // The published journal verifies against the acta and the zero report
    // through the binary; one line changed, and it does not.
    let verify_journal = |journal: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_acta"))
            .args(["station", "journal"])
            .arg(journal)
            .arg("--acta")
            .arg(dir.join("acta.note"))
            .arg("--zero")
            .arg(dir.join("zero.note"))
            .arg("--package")
            .arg(w.join("package.note"))
            .arg("--trust")
            .arg(w.join("trust.txt"))
            .output()
            .unwrap()
    };
    let o = verify_journal(&dir.join("journal.log"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("journal verified"));
    let edited = journal.replacen(" ballot\n", " left-without-voting\n", 1);
    std::fs::write(w.join("edited.log"), edited).unwrap();
    let o = verify_journal(&w.join("edited.log"));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("journal"));

    // The ballot records as NIST SP 1500-103 cast vote records.
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["station", "export-cvr", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cvr: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cvr["CVR"].as_array().unwrap().len(), 3);
    assert!(cvr["Notes"]
        .as_str()
        .unwrap()
        .contains(&hex::encode(opened.records)));
}
