//! Every alarm of SYSTEM.md §5, triggered through the served station the
//! way it happens at a table, and then seen in the three places it must be:
//! on the poll-worker screen, in the journal, and on the signed acta.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use acta_browser::{enc, get, post, post_from};
use acta_election::time;
use acta_sheet::{Acta, Alarm};
use acta_station::serve::{App, Clock, Config};
use acta_station::Station;
use acta_synth::ceremony::{run as generate, Ceremony};
use acta_synth::generate::Options;

struct Day {
    g: Ceremony,
    dir: tempfile::TempDir,
    clock: Arc<AtomicU64>,
    addr: String,
    voter: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    opens: u64,
    closes: u64,
}

/// Serves both screens from a thread of their own until the returned
/// sender is dropped or fires; returns the two addresses.
fn serve(app: App) -> (String, String, tokio::sync::oneshot::Sender<()>) {
    let bind = || {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        (l, addr)
    };
    let ((pw, addr), (vs, voter)) = (bind(), bind());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let pw = tokio::net::TcpListener::from_std(pw).unwrap();
                let vs = tokio::net::TcpListener::from_std(vs).unwrap();
                let shutdown = async move {
                    let _ = stopped.await;
                };
                acta_station::serve::serve(app, pw, vs, shutdown).await
            })
            .unwrap();
        let _ = done_tx.send(());
    });
    DONE.with(|d| *d.borrow_mut() = Some(done_rx));
    (addr, voter, stop)
}

thread_local! {
    /// Signals that the last served station has let go of its directory.
    static DONE: std::cell::RefCell<Option<std::sync::mpsc::Receiver<()>>> =
        const { std::cell::RefCell::new(None) };
}

impl Day {
    /// A station on disk, served with a clock set by hand, opened.
    fn open() -> Day {
        let g = generate(&Options {
            seed: 31,
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
        let closes = time::parse(&g.election.closes).unwrap();
        let clock = Arc::new(AtomicU64::new(opens + 60));
        let mut day = Day {
            g,
            dir,
            clock,
            addr: String::new(),
            voter: String::new(),
            stop: None,
            opens,
            closes,
        };
        day.start();
        assert_eq!(post(&day.addr, "/open", "").0, 303);
        day
    }

    /// Loads the directory into a new served station. The old one, if any,
    /// stops without the clean stop: to the directory, a process that died.
    fn start(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            DONE.with(|d| d.borrow_mut().take().unwrap().recv().unwrap());
        }
        let (addr, voter, stop) = serve(
            App::load(&Config {
                dir: self.dir.path().to_path_buf(),
                center: None,
                clock: Clock::Manual(self.clock.clone()),
            })
            .unwrap(),
        );
        self.addr = addr;
        self.voter = voter;
        self.stop = Some(stop);
    }

    fn at(&self, t: u64) {
        self.clock.store(t, Ordering::SeqCst);
    }

    fn authenticate(&self, voter: usize, template: [u8; 32], code: Option<&str>) -> String {
        let (roll, _) = self.g.roll(0);
        let form = format!(
            "voter={}&reading={}&code={}",
            enc(&roll.voters[voter].id),
            hex::encode(template),
            enc(code.unwrap_or(""))
        );
        assert_eq!(post(&self.addr, "/authenticate?lang=en", &form).0, 303);
        self.screen()
    }

    /// Authenticates voter `i` and casts an all-blank ballot.
    fn vote(&self, i: usize) {
        let (roll, _) = self.g.roll(0);
        self.authenticate(i, roll.voters[i].template, None);
        let (_, page) = get(&self.voter, "/vote");
        let page = String::from_utf8(page).unwrap();
        let at = page.find("name=\"token\" value=\"").unwrap() + 20;
        let token = &page[at..at + 32];
        let (status, body) = post(&self.voter, "/vote/confirm", &format!("token={token}"));
        assert_eq!(status, 200);
        assert!(body.contains("id=\"recorded\""));
    }

    fn screen(&self) -> String {
        String::from_utf8(get(&self.addr, "/?lang=en").1).unwrap()
    }

    /// The alarm is on the screen now; after closing, in the published
    /// journal and on the signed acta.
    fn seen_everywhere(&self, alarm: Alarm, times: u32) {
        let screen = self.screen();
        let shown = format!("{} ×{times}", alarm.name());
        assert!(screen.contains(&shown), "screen lacks {shown}: {screen}");
        self.at(self.closes);
        assert_eq!(post(&self.addr, "/close", "").0, 303);
        let journal = String::from_utf8(get(&self.addr, "/print/journal.log").1).unwrap();
        assert_eq!(
            journal.matches(&format!(" alarm {}", alarm.name())).count() as u32,
            times,
            "{journal}"
        );
        let note = get(&self.addr, "/print/acta.note").1;
        let acta = Acta::open(&note, &self.g.election).unwrap().acta;
        assert_eq!(acta.alarms[alarm.index()], times, "on the signed acta");
        acta_sheet::journal::verify(&journal, None, &acta).unwrap();
    }
}

#[test]
fn a_ballot_without_an_authenticated_voter() {
    let d = Day::open();
    let (status, body) = post(
        &d.voter,
        "/vote/confirm?lang=en",
        "token=&c%3APRES=C1%2FPDA",
    );
    assert_eq!(status, 409, "refused");
    assert!(body.contains("no authenticated voter"));
    d.seen_everywhere(Alarm::BallotsExceedAuthenticated, 1);
}

#[test]
fn overrides_above_the_threshold() {
    let d = Day::open();
    let (_, codes) = d.g.roll(0);
    let threshold = d.g.election.override_alarm as usize;
    for (i, code) in codes.iter().enumerate().take(threshold + 1) {
        d.at(d.opens + 600 * (i as u64 + 1));
        let screen = d.authenticate(i, [100 + i as u8; 32], Some(code));
        assert!(screen.contains("override code"), "{screen}");
        assert_eq!(post(&d.addr, "/leave", "").0, 303);
    }
    d.seen_everywhere(Alarm::Overrides, 1);
}

#[test]
fn a_vote_outside_the_schedule() {
    let d = Day::open();
    let (roll, _) = d.g.roll(0);
    d.at(d.closes + 60);
    let screen = d.authenticate(0, roll.voters[0].template, None);
    assert!(screen.contains("outside the schedule"), "{screen}");
    d.seen_everywhere(Alarm::OutsideSchedule, 1);
}

#[test]
fn closing_before_the_schedule() {
    let d = Day::open();
    d.at(d.opens + 3600);
    assert_eq!(post(&d.addr, "/close", "").0, 303);
    let note = get(&d.addr, "/print/acta.note").1;
    let acta = Acta::open(&note, &d.g.election).unwrap().acta;
    assert_eq!(acta.alarms[Alarm::OutsideSchedule.index()], 1);
    assert!(d.screen().contains("outside-schedule ×1"));
    let journal = String::from_utf8(get(&d.addr, "/print/journal.log").1).unwrap();
    assert!(journal.contains("alarm outside-schedule closed before the scheduled"));
}

#[test]
fn ballots_faster_than_a_person_votes() {
    let d = Day::open();
    d.at(d.opens + 600);
    d.vote(0);
    d.at(d.opens + 605);
    d.vote(1);
    d.seen_everywhere(Alarm::Burst, 1);
}

#[test]
fn a_restart_while_open() {
    let mut d = Day::open();
    d.at(d.opens + 600);
    d.vote(0);
    // The process dies (nothing stops it cleanly) and a new one starts.
    d.at(d.opens + 900);
    d.start();
    d.vote(1);
    d.seen_everywhere(Alarm::Restart, 1);
}

#[test]
fn the_clock_turned_back() {
    let d = Day::open();
    d.at(d.opens + 3600);
    d.vote(0);
    d.at(d.opens + 1800);
    d.vote(1);
    d.seen_everywhere(Alarm::ClockJump, 1);
}

#[test]
fn one_fingerprint_for_two_voters() {
    let d = Day::open();
    let (roll, codes) = d.g.roll(0);
    d.at(d.opens + 600);
    d.vote(0);
    d.at(d.opens + 1200);
    // Voter 1 presents voter 0's fingerprint: no match, refused; then a code.
    let screen = d.authenticate(1, roll.voters[0].template, None);
    assert!(screen.contains("biometric does not match"), "{screen}");
    d.authenticate(1, roll.voters[0].template, Some(&codes[0]));
    d.seen_everywhere(Alarm::RepeatedTemplate, 2);
}

#[test]
fn a_ballot_taken_out_of_the_machine() {
    let mut d = Day::open();
    d.at(d.opens + 600);
    d.vote(0);
    d.at(d.opens + 1200);
    d.vote(1);
    // Someone with the disk zeroes one ballot slot; then the machine restarts.
    let path = d.dir.path().join("ballots.slots");
    let mut b = std::fs::read(&path).unwrap();
    let size = b.len() / d.g.election.tables[0].registered as usize;
    let used = (0..b.len() / size)
        .find(|i| b[i * size..(i + 1) * size].iter().any(|&x| x != 0))
        .unwrap();
    b[used * size..(used + 1) * size].fill(0);
    std::fs::write(&path, &b).unwrap();
    d.at(d.opens + 1800);
    d.start();
    d.seen_everywhere(Alarm::StateMismatch, 1);
}

/// What the review found an insider could do through the screens, each
/// tried and refused.
#[test]
fn the_screens_refuse_the_insider() {
    let d = Day::open();
    let (roll, _) = d.g.roll(0);
    d.at(d.opens + 600);
    d.authenticate(0, roll.voters[0].template, None);
    // The poll-worker side has no route to the voter screen.
    assert_eq!(get(&d.addr, "/vote").0, 404);
    // The ballot goes to the first screen that asks, once.
    let first = String::from_utf8(get(&d.voter, "/vote").1).unwrap();
    assert!(first.contains("name=\"token\""));
    let second = String::from_utf8(get(&d.voter, "/vote").1).unwrap();
    assert!(!second.contains("name=\"token\""), "no second token");
    assert!(
        second.contains("already open on the voter screen") || second.contains("ya está abierta")
    );
    // A confirmation with a made-up token counts nothing and hands out nothing.
    let (_, body) = post(
        &d.voter,
        "/vote/confirm?lang=en",
        "token=00000000000000000000000000000000",
    );
    assert!(body.contains("no longer valid") && !body.contains("name=\"token\""));
    // A form posted from another site is refused before it reaches the station.
    let (status, _) = post_from(&d.addr, "/close", "", Some("http://evil.example"));
    assert_eq!(status, 403);
    assert!(d.screen().contains("Table open"));
    // An oversized form is refused.
    let big = format!("voter={}", "9".repeat(100_000));
    assert_eq!(post(&d.addr, "/authenticate", &big).0, 413);
    // A second station process on the same directory is refused.
    let e = App::load(&Config {
        dir: d.dir.path().to_path_buf(),
        center: None,
        clock: Clock::Manual(d.clock.clone()),
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("another process is running this station"), "{e}");
}
