//! The dishonest authority against a real center (in process, on SQLite):
//! each database or signed-log lie changes what the center counts and
//! announces, a log the authority appended to still opens (a second center
//! re-hashes it and checks every checkpoint), and each lying proxy serves
//! its lie and forwards the rest.

use std::collections::BTreeMap;
use std::time::Duration;

use acta_center::{Center, Config};
use acta_sheet::{Acta, Announcement, EntryKind};
use acta_synth::dishonest::{self, Authority, Lie};
use acta_synth::simulate::TableDay;
use acta_synth::Ceremony;

const TABLES: usize = 24;

struct Run {
    _dir: tempfile::TempDir,
    db: String,
    g: Ceremony,
    center: Center,
    days: Vec<TableDay>,
    intercepted: BTreeMap<String, String>,
}

impl Run {
    fn authority(&self) -> Authority<'_> {
        Authority {
            db: self.db.clone(),
            ceremony: &self.g,
            intercepted: self.intercepted.clone(),
        }
    }

    fn acta(&self, table: &str) -> Acta {
        let i = self
            .g
            .election
            .tables
            .iter()
            .position(|t| t.id == table)
            .unwrap();
        let text = acta_note::Note::parse(self.days[i].acta.as_bytes())
            .unwrap()
            .text;
        Acta::parse(text).unwrap()
    }

    /// The center's per-table figures once the log has grown (they are
    /// computed once per log size): after an announcement.
    async fn announce(&self) -> (Announcement, BTreeMap<String, acta_api::TableResult>) {
        let (note, _) = self.center.announce().await.unwrap();
        let a = Announcement::open(note.as_bytes(), &self.g.election).unwrap();
        let t = self.center.table_results().await.unwrap();
        (a, t.iter().map(|r| (r.table.clone(), r.clone())).collect())
    }

    async fn log(&self) -> Vec<acta_api::LoggedEntry> {
        let size = self.center.size().await;
        let mut out = Vec::new();
        while (out.len() as u64) < size {
            let page = self.center.entries(out.len() as u64, size).await.unwrap();
            out.extend(page);
        }
        out
    }
}

fn config(g: &Ceremony, db: &str) -> Config {
    let mut c = Config::new(
        db,
        g.package.clone().into_bytes(),
        g.trust.clone(),
        g.center.clone(),
    );
    c.batch_interval = Duration::from_millis(5);
    c
}

/// An election of [`TABLES`] tables, every zero report and every acta but
/// the intercepted ones transmitted.
async fn election(lie: &Lie) -> Run {
    let g = acta_synth::ceremony::run(&acta_synth::generate::Options {
        seed: 11,
        tables: TABLES,
    });
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("center.db").display());
    let center = Center::open(config(&g, &db)).await.unwrap();
    let days: Vec<TableDay> = (0..TABLES).map(|i| g.day(i, 11)).collect();
    let cut = lie.intercepted(&g.election);
    let mut intercepted = BTreeMap::new();
    for (t, d) in g.election.tables.iter().zip(&days) {
        center
            .submit(d.zero.as_bytes(), EntryKind::Zero)
            .await
            .unwrap();
        if cut.contains(&t.id) {
            intercepted.insert(t.id.clone(), d.acta.clone());
        } else {
            center
                .submit(d.acta.as_bytes(), EntryKind::Acta)
                .await
                .unwrap();
        }
    }
    Run {
        _dir: dir,
        db,
        g,
        center,
        days,
        intercepted,
    }
}

/// A second center over the same database rebuilds the log and checks it
/// against every checkpoint: what the authority appended is a log the
/// center vouches for.
async fn reopens(r: &Run) -> Center {
    Center::open(config(&r.g, &r.db)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inflate_turnout_and_alter_votes() {
    let lie = Lie::InflateTurnout(1000);
    let r = election(&lie).await;
    dishonest::tell(&r.authority(), &lie).await.unwrap();
    let (a, tables) = r.announce().await;
    let signed: u64 = tables.keys().map(|t| u64::from(r.acta(t).ballots)).sum();
    assert_eq!(a.ballots, signed + 1000);

    let lie: Lie = "alter-votes".parse().unwrap();
    let r = election(&lie).await;
    dishonest::tell(&r.authority(), &lie).await.unwrap();
    let (_, tables) = r.announce().await;
    let mut altered = 0;
    for (t, row) in &tables {
        let acta = r.acta(t);
        let differs = acta.contests.iter().any(|c| {
            c.votes
                .iter()
                .any(|(ch, n)| row.votes[&c.contest][ch] != u64::from(*n))
        });
        let total =
            |f: &dyn Fn(&str) -> u64| acta.contests.iter().map(|c| f(&c.contest)).sum::<u64>();
        assert_eq!(
            total(&|c| row.votes[c].values().sum()),
            acta.contests
                .iter()
                .map(|c| c.votes.iter().map(|(_, n)| u64::from(*n)).sum::<u64>()
                    + u64::from(c.blank + c.null))
                .sum::<u64>(),
            "votes are moved, not added"
        );
        altered += usize::from(differs);
    }
    assert_eq!(altered, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_tables_and_phantom_table() {
    let lie = Lie::DropTables(3);
    let r = election(&lie).await;
    assert_eq!(r.intercepted.len(), 3);
    dishonest::tell(&r.authority(), &lie).await.unwrap();
    let (a, tables) = r.announce().await;
    assert_eq!(a.tables_reported, TABLES as u64);
    let logged = r.log().await.iter().filter(|e| e.kind == "acta").count();
    assert_eq!(logged, TABLES - 3);
    for t in r.intercepted.keys() {
        assert_eq!(
            tables[t].ballots,
            u64::from(r.acta(t).ballots),
            "the paper's figures"
        );
    }

    let lie = Lie::PhantomTable;
    let r = election(&lie).await;
    dishonest::tell(&r.authority(), &lie).await.unwrap();
    let (a, tables) = r.announce().await;
    assert_eq!(a.tables_reported, TABLES as u64);
    let last = r.g.election.tables.last().unwrap();
    let row = &tables[&last.id];
    assert_eq!(row.registered, u64::from(last.registered));
    assert!(row.ballots > 0 && row.ballots <= row.registered);
    for c in r.g.election.ballot(&last.id) {
        assert_eq!(
            row.votes[&c.id].values().sum::<u64>(),
            row.ballots,
            "{}",
            c.id
        );
    }
    assert!(!r
        .log()
        .await
        .iter()
        .any(|e| e.kind == "acta" && e.table == last.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_machine_and_wrong_seats_are_appended_to_a_log_the_center_vouches_for() {
    let lie = Lie::WrongMachine;
    let r = election(&lie).await;
    let before = r.center.size().await;
    dishonest::tell(&r.authority(), &lie).await.unwrap();
    let (_, tables) = r.announce().await;
    let log = r.log().await;
    let (table, _) = r.intercepted.iter().next().unwrap();
    let forged = log
        .iter()
        .find(|e| e.kind == "acta" && &e.table == table)
        .unwrap();
    assert_eq!(forged.index, before);
    assert_eq!(forged.status, acta_api::Status::Counted);
    assert!(
        Acta::open(forged.note.as_bytes(), &r.g.election).is_err(),
        "not its certified machine"
    );
    assert_eq!(tables[table].index, before);
    assert_eq!(tables[table].ballots, u64::from(r.acta(table).ballots) + 50);
    assert_eq!(reopens(&r).await.size().await, r.center.size().await);

    let lie = Lie::WrongSeats;
    let r = election(&lie).await;
    assert_eq!(
        dishonest::tell_after_announcement(&r.authority(), &Lie::HideAlarms)
            .await
            .unwrap(),
        None
    );
    assert!(
        dishonest::tell_after_announcement(&r.authority(), &lie)
            .await
            .is_err(),
        "no announcement yet"
    );
    let (genuine, _) = r.announce().await;
    let index = dishonest::tell_after_announcement(&r.authority(), &lie)
        .await
        .unwrap()
        .unwrap();
    let again = reopens(&r).await;
    assert_eq!(again.size().await, index + 1);
    let entry = again.entries(index, index + 1).await.unwrap().remove(0);
    assert_eq!(
        (entry.kind.as_str(), entry.status),
        ("announcement", acta_api::Status::Logged)
    );
    let second = Announcement::open(entry.note.as_bytes(), &r.g.election).unwrap();
    assert_eq!(second.checkpoint, genuine.checkpoint);
    let seats = |a: &Announcement| {
        a.contests
            .iter()
            .map(|c| c.seats.clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(seats(&second), seats(&genuine));
    // The running center takes the appended entry in when it next sequences.
    let (third, _) = r.center.announce().await.unwrap();
    assert_eq!(
        r.center.entries(index + 1, index + 2).await.unwrap()[0].note,
        third
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hide_alarms() {
    let lie = Lie::HideAlarms;
    // The last table's machine signs an impossible acta: the center holds it.
    let r = election(&Lie::PhantomTable).await;
    let (last, note) = r.intercepted.iter().next().unwrap();
    let mut impossible = r.acta(last);
    impossible.authenticated = impossible.registered + 1;
    let signed = impossible.sign(r.g.machines.last().unwrap());
    let s = r
        .center
        .submit(signed.as_bytes(), EntryKind::Acta)
        .await
        .unwrap();
    assert!(
        matches!(s.outcome, acta_api::Outcome::Held { .. }),
        "{:?}",
        s.outcome
    );
    assert_ne!(&signed, note);
    let held = r
        .log()
        .await
        .iter()
        .filter(|e| e.status == acta_api::Status::Held)
        .count();
    let alarmed = r
        .days
        .iter()
        .filter(|d| {
            let a = Acta::parse(acta_note::Note::parse(d.acta.as_bytes()).unwrap().text).unwrap();
            a.alarms.iter().any(|&n| n > 0)
        })
        .count();
    match dishonest::tell(&r.authority(), &lie).await {
        Ok(()) => {}
        Err(e) => panic!("{e}"),
    }
    let (a, tables) = r.announce().await;
    assert!(tables.values().all(|t| t.alarms == 0));
    assert_eq!(a.held, 0);
    assert_eq!(
        tables.len(),
        TABLES,
        "held actas counted ({held} were held)"
    );
    assert!(!r
        .log()
        .await
        .iter()
        .any(|e| e.status == acta_api::Status::Held));
    assert_eq!(tables[last].registered, u64::from(impossible.registered));
    eprintln!("{alarmed} actas with alarms, {held} held");
}

async fn serve(center: Center) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(acta_center::serve(
        listener,
        center,
        acta_center::Limits::default(),
    ));
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_proxies() {
    let r = election(&Lie::ForkLog).await;
    r.announce().await;
    let url = serve(r.center.clone()).await;
    let genuine = acta_api::Client::new(&url);
    let auth = r.authority();
    assert_eq!(
        dishonest::proxy(&url, &auth, &Lie::WrongSeats)
            .await
            .unwrap(),
        None
    );
    let key: acta_note::Verifier = r.g.election.center_key.parse().unwrap();

    // fork-log: a whole log, one counted acta short, under the center key.
    let p = dishonest::proxy(&url, &auth, &Lie::ForkLog)
        .await
        .unwrap()
        .unwrap();
    let fork = acta_api::Client::new(&p);
    let cp =
        acta_tlog::Checkpoint::open(fork.checkpoint().await.unwrap().as_bytes(), &key).unwrap();
    let real =
        acta_tlog::Checkpoint::open(genuine.checkpoint().await.unwrap().as_bytes(), &key).unwrap();
    assert_eq!(cp.size + 1, real.size);
    let mut tiles = Vec::new();
    for t in acta_tlog::Tile::hash_tiles(cp.size)
        .into_iter()
        .chain(acta_tlog::Tile::entry_bundles(cp.size))
    {
        tiles.push((t, fork.tile(&t).await.unwrap()));
    }
    let (_, entries) = acta_tlog::tile::verify_log(
        cp.size,
        &cp.root,
        tiles.iter().map(|(t, b)| (*t, b.as_slice())),
    )
    .unwrap();
    let statuses = fork.statuses(0, cp.size).await.unwrap();
    assert_eq!(statuses.len() as u64, cp.size);
    assert!(statuses
        .iter()
        .enumerate()
        .all(|(i, e)| e.index == i as u64 && e.note.is_empty()));
    let page = fork.entries(3, 5).await.unwrap();
    assert_eq!(page[0].note.as_bytes(), entries[3]);
    assert_eq!(
        fork.text(acta_api::ELECTION).await.unwrap(),
        r.g.package,
        "everything else is the center's"
    );

    // area-figure: one municipality, 50 more ballots, on both pages.
    let p = dishonest::proxy(&url, &auth, &Lie::AreaFigure)
        .await
        .unwrap()
        .unwrap();
    let liar = acta_api::Client::new(&p);
    let lied: Vec<acta_api::Totals> = liar.json(acta_api::RESULTS_AREAS).await.unwrap();
    let truth: Vec<acta_api::Totals> = genuine.json(acta_api::RESULTS_AREAS).await.unwrap();
    let changed: Vec<(&acta_api::Totals, &acta_api::Totals)> =
        lied.iter().zip(&truth).filter(|(l, t)| l != t).collect();
    assert_eq!(changed.len(), 1);
    let (l, t) = changed[0];
    assert_eq!(
        acta_election::Level::of(&l.area),
        Some(acta_election::Level::Municipality)
    );
    assert_eq!(l.ballots, t.ballots + 50);
    let one: acta_api::Totals = liar
        .json(&format!("/api/results/area/{}", l.area))
        .await
        .unwrap();
    assert_eq!(one.ballots, l.ballots);
    assert_eq!(
        liar.results().await.unwrap(),
        genuine.results().await.unwrap()
    );

    // swap-package: signed by the authority alone, refused by the trust file.
    let p = dishonest::proxy(&url, &auth, &Lie::SwapPackage)
        .await
        .unwrap()
        .unwrap();
    let package = acta_api::Client::new(&p)
        .text(acta_api::ELECTION)
        .await
        .unwrap();
    assert_ne!(package, r.g.package);
    assert!(acta_election::Election::open(package.as_bytes(), &r.g.trust).is_err());
    assert!(acta_election::Election::open(r.g.package.as_bytes(), &r.g.trust).is_ok());
}
