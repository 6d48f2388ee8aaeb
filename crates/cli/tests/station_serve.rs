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

fn spawn(dir: &std::path::Path, clock: u64) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args([
            "station",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--speed",
            "100",
            "--dir",
        ])
        .arg(dir)
        .arg("--clock")
        .arg(time::format(clock))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().trim_start_matches("http://").to_string();
    assert!(!addr.is_empty(), "the station printed its address");
    (child, addr)
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
        let (child, addr) = spawn(self.dir.path(), self.clock);
        self.child = child;
        self.addr = addr;
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
    let (child, addr) = spawn(dir.path(), opens + 60);
    let mut t = Table {
        g,
        dir,
        child,
        addr,
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
            let Some((_, page)) = http(&t.addr, "GET", "/vote", "") else {
                t.restart();
                continue;
            };
            let Some(tok) = token(&page) else {
                assert_eq!(waiting(&t.addr), Some(false));
                break; // the ballot was recorded before a restart
            };
            match http(&t.addr, "POST", "/vote/confirm", &form_of(i, &tok)) {
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
