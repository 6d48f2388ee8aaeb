//! A published journal read for the forensic screens: whatever the bytes,
//! reading never panics, and a day is drawn only from a journal that
//! closes on its acta — then it holds exactly the acta's ballots. The acta
//! is made from the journal's own summary (its open time, its head and
//! counts at the close line), so the fuzzer reaches the day itself and not
//! only the chain check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok((_, s)) = acta_sheet::journal::read(text) else { return };
    let (Some((opened, _)), Some((closed, head)), Some(c)) = (s.opened, s.closed, s.at_close.as_deref()) else {
        return;
    };
    let acta = acta_sheet::Acta {
        election: "E".into(),
        table: "01.001.01.0001.01".into(),
        machine: "M000001".into(),
        opened,
        closed,
        registered: c.authenticated,
        authenticated: c.authenticated,
        overrides: c.overrides,
        ballots: c.ballots,
        contests: Vec::new(),
        records: [0; 32],
        journal: head,
        alarms: c.alarms,
    };
    if let Ok(day) = acta_forensics::Day::from_journal(text, &acta) {
        assert_eq!(day.ballots, acta.ballots);
        assert_eq!(day.hourly.iter().sum::<u32>(), day.ballots);
        assert!(day.closing_hour <= day.ballots);
    }
});
